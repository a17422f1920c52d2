// Bindings of the solvers: locus.train, locus.solver_options and the SolveResult class.
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "locus/solvers/solve.hpp"
#include "options.hpp"

namespace locus::python {

namespace sv = locus::solvers;

namespace {

void apply(sv::TrainOptions& o, sv::Method m, const py::dict& options) {
  for (auto item : options) {
    const std::string name = py::str(item.first);
    try {
      sv::set_option(o, m, name, option_value(name, item.second));
    } catch (const std::invalid_argument& e) {
      throw py::value_error(sv::rephrase(e, m, locus::options::Interface::python));
    }
  }
}

}  // namespace

void bind_solvers(py::module_& m) {
  py::class_<sv::SolveResult>(m, "SolveResult",
                              "A solver's end state: status (why it stopped), message, params, "
                              "loss and |g|inf reached, counts, trace and (flow) trajectory. "
                              "repr() is the summary, each value beside its tolerance.")
      .def_property_readonly(
          "status", [](const sv::SolveResult& r) { return std::string(sv::to_string(r.status)); })
      .def_readonly("message", &sv::SolveResult::message)
      .def_readonly("method", &sv::SolveResult::method)
      .def_readonly("params", &sv::SolveResult::theta, "final parameters (numpy float64)")
      .def_readonly("loss_initial", &sv::SolveResult::loss_initial)
      .def_readonly("loss_final", &sv::SolveResult::loss_final)
      .def_readonly("gradient_max_norm", &sv::SolveResult::gradient_max_norm)
      .def_readonly("iterations", &sv::SolveResult::iterations)
      .def_readonly("seconds", &sv::SolveResult::seconds)
      .def("converged", &sv::SolveResult::converged,
           "True for converged_gradient and converged_loss")
      .def_property_readonly(
          "counts", [](const sv::SolveResult& r) { return json_to_python(sv::to_json(r.counts)); })
      .def_property_readonly(
          "stop", [](const sv::SolveResult& r) { return json_to_python(sv::to_json(r.stop)); })
      .def_property_readonly("inertia",
                             [](const sv::SolveResult& r) -> py::object {
                               if (!r.inertia) return py::none();
                               return json_to_python(sv::to_json(*r.inertia));
                             })
      .def_property_readonly(
          "trace",
          [](const sv::SolveResult& r) {
            const sv::TraceTable t = sv::trace_table(r.trace);
            py::dict d;
            for (size_t j = 0; j < t.columns.size(); ++j)
              d[t.columns[j].c_str()] = Eigen::VectorXd(t.values.col(static_cast<Eigen::Index>(j)));
            return d;
          },
          "columns (numpy arrays) of the per-iteration records; empty unless record_trace=True")
      .def_property_readonly(
          "trajectory",
          [](const sv::SolveResult& r) {
            const auto k = static_cast<Eigen::Index>(r.trajectory.size());
            Eigen::VectorXd t(k), loss(k), g(k);
            Eigen::MatrixXd x(k, r.theta.size());
            for (Eigen::Index i = 0; i < k; ++i) {
              const auto& p = r.trajectory[static_cast<size_t>(i)];
              t[i] = p.time;
              loss[i] = p.loss;
              g[i] = p.gradient_max_norm;
              x.row(i) = p.theta.transpose();
            }
            py::dict d;
            d["time"] = t;
            d["loss"] = loss;
            d["gradient_max_norm"] = g;
            d["params"] = x;
            return d;
          },
          "flow: {'time', 'loss', 'gradient_max_norm', 'params' (k x n)} at the output times")
      .def_property_readonly(
          "stages",
          [](const sv::SolveResult& r) { return json_to_python(sv::to_json(r)["stages"]); })
      .def(
          "to_json", [](const sv::SolveResult& r) { return json_to_python(sv::to_json(r)); },
          "The library's JSON document of the result (the CLI's --json body) as a dict.")
      .def("__repr__", [](const sv::SolveResult& r) { return sv::summary(r); });

  m.def(
      "solver_options",
      [](const std::string& method) {
        const sv::Method mm = sv::parse_method(method);
        py::dict d;
        for (const auto& f : sv::option_fields(sv::TrainOptions{}, mm))
          d[f.name.c_str()] = to_python(f.value);  // the table's defaults
        return d;
      },
      py::arg("method"),
      "The options of a method (gd|sgd|adam|lbfgs|lm|newton|critical|flow) with their defaults, "
      "as accepted by train(**options).");

  m.def(
      "train",
      [](const Mlp& model, const py::object& x, const py::object& y, const std::string& method,
         const py::object& init, std::uint64_t seed, std::optional<std::string> polish,
         const std::string& loss, const std::string& reduction, const py::dict& polish_options,
         bool progress, const py::object& callback, const py::kwargs& options) {
        const Dataset data = as_dataset(x, y);
        sv::TrainOptions o;
        o.method = sv::parse_method(method);
        if (polish) o.polish = sv::parse_method(*polish);
        apply(o, o.method, options);
        if (o.polish)
          apply(o, *o.polish, polish_options);
        else if (!polish_options.empty())
          throw std::invalid_argument("polish_options given without polish");
        try {
          o.validate();
        } catch (const std::invalid_argument& e) {
          std::string message = sv::rephrase(e, o.method, locus::options::Interface::python);
          if (o.polish && message == e.what())
            message = sv::rephrase(e, *o.polish, locus::options::Interface::python);
          throw py::value_error(message);
        }
        const Objective obj(
            model, data, {.kind = parse_loss_kind(loss), .reduction = parse_reduction(reduction)});
        const Eigen::VectorXd x0 =
            init.is_none() ? model.init_parameters({.seed = seed}) : as_vector(init, "init");
        long long max_iterations = sv::stop_criteria(o, o.method).max_iterations;
        std::string stage(sv::to_string(o.method));
        if (o.polish) {
          max_iterations += sv::stop_criteria(o, *o.polish).max_iterations;
          stage += "+" + std::string(sv::to_string(*o.polish));
        }
        PythonProgress reporter("train", progress, callback);
        sv::SolveResult r;
        {
          py::gil_scoped_release release;
          r = sv::solve(obj, x0, o, reporter.solver(stage + " it", max_iterations));
        }
        reporter.rethrow();
        return r;
      },
      py::arg("model"), py::arg("x"), py::arg("y"),
      py::arg("method") = std::string(sv::to_string(sv::TrainOptions{}.method)),
      py::arg("init") = py::none(), py::arg("seed") = InitOptions{}.seed,
      py::arg("polish") = py::none(), py::arg("loss") = std::string(to_string(LossSpec{}.kind)),
      py::arg("reduction") = std::string(to_string(LossSpec{}.reduction)),
      py::arg("polish_options") = py::dict(), py::arg("progress") = false,
      py::arg("callback") = py::none(),
      "Train model on (x, y) from init (default: a Glorot init seeded by seed) with method "
      "gd|sgd|adam|lbfgs|lm|newton|critical|flow, optionally followed by polish "
      "(lm|newton|lbfgs|critical). Keyword arguments set the method's options by name "
      "(solver_options(method) lists them), polish_options those of the polish. progress=True "
      "writes a progress line to sys.stderr; callback(event) gets a dict {stage, done, total, "
      "loss, gradient_max_norm} per iteration and stops the solver by returning False. Releases "
      "the GIL. Returns a SolveResult; ValueError for unknown names, bad values or shapes.");
}

}  // namespace locus::python
