// Progress of long calls for Python (bindings.hpp's PythonProgress).
#include <stdexcept>

#include "bindings.hpp"

namespace locus::python {

PythonProgress::PythonProgress(const std::string& command, bool progress,
                               const py::object& callback)
    : callback_(callback) {
  if (!callback_.is_none() && !PyCallable_Check(callback_.ptr()))
    throw std::invalid_argument("callback must be callable (it gets one dict per event)");
  if (progress) reporter_ = py::module_::import("locus._progress").attr("StderrProgress")(command);
}

PythonProgress::~PythonProgress() {
  if (!reporter_) return;
  try {
    reporter_.attr("close")();
  } catch (const py::error_already_set&) {  // a closed stderr: nothing left to clear
  }
}

bool PythonProgress::deliver(const ProgressEvent& e) {
  py::gil_scoped_acquire gil;
  if (error_) return false;
  try {
    py::dict d;
    d["stage"] = e.stage;
    d["done"] = e.done;
    d["total"] = e.total;
    d["loss"] = e.loss;
    d["gradient_max_norm"] = e.gradient_max_norm;
    if (reporter_) reporter_(d);
    if (!callback_.is_none() && callback_(d).is(py::bool_(false))) return false;
    return true;
  } catch (py::error_already_set& err) {
    error_ = std::move(err);
    return false;
  }
}

ProgressCallback PythonProgress::callback() {
  if (!reporter_ && callback_.is_none()) return {};
  return [this](const ProgressEvent& e) { deliver(e); };
}

solvers::IterationCallback PythonProgress::solver(const std::string& stage,
                                                  long long max_iterations) {
  if (!reporter_ && callback_.is_none()) return {};
  return [this, stage, max_iterations](const solvers::IterationRecord& r) {
    return deliver({.stage = stage,
                    .done = r.iteration,
                    .total = max_iterations,
                    .loss = r.loss,
                    .gradient_max_norm = r.gradient_max_norm});
  };
}

void PythonProgress::rethrow() {
  if (!error_) return;
  py::error_already_set e = std::move(*error_);
  error_.reset();
  throw e;
}

}  // namespace locus::python
