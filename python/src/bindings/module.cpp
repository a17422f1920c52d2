// locus._core: the compiled half of the Python package (see python/locus/__init__.py).
#include <pybind11/pybind11.h>

#include "bindings.hpp"

namespace locus::python {
void bind_io(py::module_& m);          // io.cpp
void bind_options(py::module_& m);     // options.cpp
void bind_paths(py::module_& m);       // paths.cpp
void bind_swap(py::module_& m);        // swap.cpp
void bind_transforms(py::module_& m);  // transforms.cpp
void bind_simsek(py::module_& m);      // simsek.cpp
void bind_basins(py::module_& m);      // basins.cpp
void bind_dropout(py::module_& m);     // dropout.cpp
}  // namespace locus::python

PYBIND11_MODULE(_core, m) {
  m.doc() = "locus: exact derivatives and certified geometry of MLP loss landscapes";
  locus::python::bind_core(m);
  locus::python::bind_io(m);
  locus::python::bind_solvers(m);
  locus::python::bind_analysis(m);
  locus::python::bind_constructions(m);
  locus::python::bind_symmetry(m);
  locus::python::bind_options(m);
  locus::python::bind_transforms(m);
  locus::python::bind_paths(m);
  locus::python::bind_swap(m);
  locus::python::bind_simsek(m);
  locus::python::bind_basins(m);
  locus::python::bind_dropout(m);
}
