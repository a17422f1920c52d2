#pragma once
// One bind_* function per part of the library, each in its own file.
#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>

#include "locus/core/dataset.hpp"
#include "locus/core/mlp.hpp"
#include "locus/core/progress.hpp"
#include "locus/solvers/result.hpp"

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

// Progress of a long call for Python: progress=True writes a line to sys.stderr (through
// locus._progress.StderrProgress), callback=f calls f(event) with event a dict {"stage", "done",
// "total", "loss", "gradient_max_norm"} (a notebook's function; for solvers, returning False
// stops the solver). Events are delivered with the GIL held, from the calling thread; an
// exception raised by f stops the reporting and is re-raised by rethrow() after the call.
class PythonProgress {
 public:
  PythonProgress(const std::string& command, bool progress, const py::object& callback);
  ~PythonProgress();
  // Empty when neither progress nor callback was asked for.
  ProgressCallback callback();
  // A solver's callback: stage, iteration of max_iterations, loss, |g|.
  solvers::IterationCallback solver(const std::string& stage, long long max_iterations);
  // Re-raises the callback's exception, if any (call with the GIL held, after the work).
  void rethrow();
  // work(callback()) with the GIL released, then rethrow(); returns what work returns. (A call
  // into Python callables, which needs the GIL, calls work(callback()) and rethrow() itself.)
  template <class Work>
  auto run(Work&& work) {
    std::optional<decltype(work(ProgressCallback{}))> result;
    {
      py::gil_scoped_release release;
      result.emplace(work(callback()));
    }
    rethrow();
    return std::move(*result);
  }

 private:
  bool deliver(const ProgressEvent& e);  // false: stop (callback returned False or raised)
  py::object reporter_, callback_;
  std::optional<py::error_already_set> error_;
};

}  // namespace locus::python
