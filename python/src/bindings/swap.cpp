// Bindings of the swap paths (symmetry/swap_path.hpp) and their check on data
// (workflows/swap.hpp). The pure-Python face is python/locus/symmetry.py.
#include "locus/workflows/swap.hpp"

#include <pybind11/stl.h>

#include "bindings.hpp"
#include "options.hpp"

namespace locus::python {

namespace {

namespace ls = locus::symmetry;

// (i, j) for hidden layer 1, or (layer, i, j).
std::vector<ls::NeuronSwap> as_swaps(const py::object& swaps) {
  std::vector<ls::NeuronSwap> out;
  for (const py::handle& item : swaps) {
    const auto t = item.cast<std::vector<Index>>();
    if (t.size() == 2)
      out.push_back({1, t[0], t[1]});
    else if (t.size() == 3)
      out.push_back({static_cast<int>(t[0]), t[1], t[2]});
    else
      throw py::value_error("swaps: each swap is (i, j) or (layer, i, j), got " +
                            std::string(py::str(item)));
  }
  return out;
}

py::list segments_list(const std::vector<ls::SwapSegment>& segments) {
  py::list out;
  for (const ls::SwapSegment& s : segments) {
    py::dict d;
    d["kind"] = std::string(ls::to_string(s.kind));
    d["layer"] = s.layer;
    d["neuron"] = s.neuron;
    d["from"] = s.from;
    out.append(d);
  }
  return out;
}

}  // namespace

void bind_swap(py::module_& m) {
  m.def(
      "symmetry_swap_path",
      [](const Mlp& teacher, const py::object& params, const py::object& swaps) {
        const ls::SwapPath s = ls::swap_path(teacher, as_vector(params, "params"), as_swaps(swaps));
        py::dict d;
        d["model"] = s.model;
        d["vertices"] = s.vertices;
        d["segments"] = segments_list(s.segments);
        return d;
      },
      py::arg("teacher"), py::arg("params"), py::arg("swaps"),
      "The zero-loss swap path: {'model' (one extra neuron per hidden layer), 'vertices' (rows), "
      "'segments'}.");
  m.def(
      "symmetry_check_swap_path",
      [](const Mlp& teacher, const py::object& params, const py::object& swaps, const py::object& x,
         const py::object& y, int samples_per_segment, bool progress, const py::object& callback,
         const py::kwargs& kwargs) {
        const Eigen::VectorXd theta = as_vector(params, "params");
        paths::ProfileOptions o;
        apply_kwargs(paths::profile_table(), o, kwargs);
        validate_for_python(paths::profile_table(), [&] { o.validate(); });
        Dataset data;
        data.x = as_matrix(x, "x");
        if (data.x.cols() != teacher.input_dim())
          throw py::value_error("x has " + std::to_string(data.x.cols()) +
                                " columns; the teacher takes " +
                                std::to_string(teacher.input_dim()));
        data.y = y.is_none() ? teacher.predict(theta, data.x) : as_matrix(y, "y");
        data.validate();
        const ls::SwapPath s = ls::swap_path(teacher, theta, as_swaps(swaps));
        const Objective objective(s.model, data);
        PythonProgress reporter("symmetry.check_swap_path", progress, callback);
        const workflows::SwapPathCheck c = reporter.run([&](const ProgressCallback& cb) {
          return workflows::check_swap_path(objective, s, o, samples_per_segment, cb);
        });
        py::dict d = json_to_python(workflows::to_json(c));
        d["model"] = s.model;
        d["vertices"] = s.vertices;
        d["t"] = c.t;
        d["loss_path"] = c.loss_path;
        d["loss_line"] = c.loss_line;
        return d;
      },
      py::arg("teacher"), py::arg("params"), py::arg("swaps"), py::arg("x"),
      py::arg("y") = py::none(), py::arg("samples_per_segment") = 16, py::arg("progress") = false,
      py::arg("callback") = py::none(),
      "The swap path checked on data (y: the teacher's outputs when None): the loss maximum of "
      "every segment, the straight line's profile and barriers, and both sampled at t "
      "(progress=True: a line on sys.stderr; callback(event): a dict per segment and sample).");
}

}  // namespace locus::python
