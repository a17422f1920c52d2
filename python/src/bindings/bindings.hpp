#pragma once
// One bind_* function per part of the library, each in its own file.
#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "locus/core/dataset.hpp"
#include "locus/core/mlp.hpp"

namespace locus::python {

namespace py = pybind11;

void bind_core(py::module_& m);
void bind_solvers(py::module_& m);
void bind_analysis(py::module_& m);
void bind_constructions(py::module_& m);
void bind_symmetry(py::module_& m);

// A float64 matrix from any numeric array (1-D becomes a column); names the argument in the
// ValueError for other shapes, non-numeric arrays and NaN/inf.
Eigen::MatrixXd as_matrix(const py::object& a, const char* name);
// A float64 vector from any 1-D numeric array.
Eigen::VectorXd as_vector(const py::object& a, const char* name);
// A Dataset from x (d x p) and y (d x l, or a length-d vector), validated.
Dataset as_dataset(const py::object& x, const py::object& y);

}  // namespace locus::python
