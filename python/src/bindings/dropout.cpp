// Bindings of the dropout module (locus/dropout/): mean-field SGD, dropout subnetworks and their
// error, and the dropout path. The pure-Python face is python/locus/dropout.py.
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "locus/dropout/dropout_path.hpp"
#include "locus/dropout/mean_field_sgd.hpp"
#include "locus/dropout/subnetwork.hpp"
#include "options.hpp"

namespace locus::python {

namespace {

namespace ld = locus::dropout;

LossSpec loss_spec(const std::string& loss, const std::string& reduction) {
  return {.kind = parse_loss_kind(loss), .reduction = parse_reduction(reduction)};
}

ld::MeanFieldSgdOptions sgd_options(const py::kwargs& kwargs) {
  ld::MeanFieldSgdOptions o;
  apply_kwargs(ld::mean_field_sgd_table(), o, kwargs);
  validate_for_python(ld::mean_field_sgd_table(), [&] { o.validate(); });
  return o;
}

py::dict sgd_result(const ld::MeanFieldSgdResult& r) {
  py::dict d = json_to_python(ld::to_json(r));
  d["params"] = r.theta;
  return d;
}

}  // namespace

void bind_dropout(py::module_& root) {
  py::module_ m = root.def_submodule("_dropout", "locus.dropout's compiled half");
  const auto loss_default = std::string(to_string(LossSpec{}.kind));
  const auto reduction_default = std::string(to_string(LossSpec{}.reduction));

  m.def("mean_field_init", &ld::mean_field_init, py::arg("model"), py::arg("seed"),
        "i.i.d. neurons: incoming N(0, I/p), output N(0, 1), biases 0; deeper nets: middle "
        "layers N(0, 1) / h_{K-1} (the mean-field weights stored divided by the width below).");
  m.def(
      "train_online",
      [](const Mlp& model, const py::object& params, const Mlp& teacher,
         const py::object& teacher_params, bool progress, const py::object& callback,
         const py::kwargs& kwargs) {
        const auto o = sgd_options(kwargs);
        Eigen::VectorXd theta = as_vector(params, "params");
        const Eigen::VectorXd t = as_vector(teacher_params, "teacher_params");
        PythonProgress reporter("dropout.train_online", progress, callback);
        return sgd_result(reporter.run([&](const ProgressCallback& cb) {
          return ld::train_online(model, std::move(theta), teacher, t, o, cb);
        }));
      },
      py::arg("model"), py::arg("params"), py::arg("teacher"), py::arg("teacher_params"),
      py::arg("progress") = false, py::arg("callback") = py::none(),
      "One-pass SGD with step alpha * N on fresh samples x ~ N(0, I) labelled by the teacher "
      "(progress=True: a line on sys.stderr; callback(event): a dict per step).");
  m.def(
      "train_epochs",
      [](const Mlp& model, const py::object& params, const py::object& x, const py::object& y,
         bool progress, const py::object& callback, const py::kwargs& kwargs) {
        const auto o = sgd_options(kwargs);
        Eigen::VectorXd theta = as_vector(params, "params");
        const Dataset data = as_dataset(x, y);
        PythonProgress reporter("dropout.train_epochs", progress, callback);
        return sgd_result(reporter.run([&](const ProgressCallback& cb) {
          return ld::train_epochs(model, std::move(theta), data, o, cb);
        }));
      },
      py::arg("model"), py::arg("params"), py::arg("x"), py::arg("y"), py::arg("progress") = false,
      py::arg("callback") = py::none(),
      "Mean-field SGD (step alpha * N) by epochs over (x, y) in seeded random order "
      "(progress / callback as train_online).");
  m.def("sgd_defaults", [] { return table_values(ld::mean_field_sgd_table(), {}); });

  m.def(
      "half_keep_set",
      [](Index n, const std::string& rule, std::uint64_t seed) {
        return ld::half_keep_set(n, ld::parse_keep_rule(rule), seed);
      },
      py::arg("n"), py::arg("rule") = "first-half", py::arg("seed") = 0);
  m.def("random_keep_set", &ld::random_keep_set, py::arg("n"), py::arg("m"), py::arg("seed"));
  m.def(
      "dropout_parameters",
      [](const Mlp& model, const py::object& params, const std::vector<Index>& kept, int layer) {
        return ld::dropout_parameters(model, as_vector(params, "params"), kept, layer);
      },
      py::arg("model"), py::arg("params"), py::arg("kept"), py::arg("layer") = 0);
  m.def(
      "dropout_layers",
      [](const Mlp& model, const py::object& params, const std::vector<std::vector<Index>>& kept) {
        return ld::dropout_layers(model, as_vector(params, "params"), kept);
      },
      py::arg("model"), py::arg("params"), py::arg("kept"),
      "Dropout in every hidden layer K with a non-empty kept[K-1] (outgoing weights times "
      "h_K / |A_K|, the others 0).");
  m.def(
      "dropout_error",
      [](const Mlp& model, const py::object& params, const py::object& x, const py::object& y,
         const std::string& loss, const std::string& reduction, bool progress,
         const py::object& callback, const py::kwargs& kwargs) {
        ld::DropoutErrorOptions o;
        apply_kwargs(ld::dropout_error_table(), o, kwargs);
        validate_for_python(ld::dropout_error_table(), [&] { o.validate(); });
        const Eigen::VectorXd theta = as_vector(params, "params");
        const Objective objective(model, as_dataset(x, y), loss_spec(loss, reduction));
        PythonProgress reporter("dropout.dropout_error", progress, callback);
        const ld::DropoutError e = reporter.run(
            [&](const ProgressCallback& cb) { return ld::dropout_error(objective, theta, o, cb); });
        py::dict d = json_to_python(ld::to_json(e));
        d["gaps"] = e.gaps;
        d["losses_kept"] = e.losses_kept;
        return d;
      },
      py::arg("model"), py::arg("params"), py::arg("x"), py::arg("y"),
      py::arg("loss") = loss_default, py::arg("reduction") = reduction_default,
      py::arg("progress") = false, py::arg("callback") = py::none());
  m.def("dropout_error_defaults", [] { return table_values(ld::dropout_error_table(), {}); });
  m.def(
      "dropout_path",
      [](const Mlp& model, const py::object& params_a, const py::object& params_b,
         const py::object& x, const py::object& y, const std::string& loss,
         const std::string& reduction, bool progress, const py::object& callback,
         const py::kwargs& kwargs) {
        ld::DropoutPathOptions o;
        apply_kwargs(ld::dropout_path_table(), o, kwargs);
        validate_for_python(ld::dropout_path_table(), [&] { o.validate(); });
        const Eigen::VectorXd a = as_vector(params_a, "params_a");
        const Eigen::VectorXd b = as_vector(params_b, "params_b");
        const Objective objective(model, as_dataset(x, y), loss_spec(loss, reduction));
        PythonProgress reporter("dropout.dropout_path", progress, callback);
        const ld::DropoutPathResult r = reporter.run(
            [&](const ProgressCallback& cb) { return ld::dropout_path(objective, a, b, o, cb); });
        py::dict d = json_to_python(ld::to_json(r));
        d["path"] = r.path;
        d["vertices"] = r.path.control_points();
        d["profile"] = r.profile;
        d["line"] = r.line;
        d["paired"] = r.paired;
        d["paired_lower"] = r.paired_lower;
        return d;
      },
      py::arg("model"), py::arg("params_a"), py::arg("params_b"), py::arg("x"), py::arg("y"),
      py::arg("loss") = loss_default, py::arg("reduction") = reduction_default,
      py::arg("progress") = false, py::arg("callback") = py::none());
  m.def("path_defaults", [] { return table_values(ld::dropout_path_table(), {}); });
}

}  // namespace locus::python
