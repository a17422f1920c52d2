// Bindings of the solvers: locus.train and the solver result.
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "locus/solvers/solve.hpp"

namespace locus::python {

namespace sv = locus::solvers;

void bind_solvers(py::module_& m) {
  py::class_<sv::SolveResult>(m, "SolveResult", "A solver's end state, with the reason it stopped")
      .def_property_readonly("status", [](const sv::SolveResult& r) { return std::string(sv::to_string(r.status)); })
      .def_readonly("message", &sv::SolveResult::message)
      .def_readonly("method", &sv::SolveResult::method)
      .def_readonly("params", &sv::SolveResult::x)
      .def_readonly("loss_initial", &sv::SolveResult::loss_initial)
      .def_readonly("loss_final", &sv::SolveResult::loss_final)
      .def_readonly("gradient_max_norm", &sv::SolveResult::gradient_max_norm)
      .def_readonly("iterations", &sv::SolveResult::iterations)
      .def_readonly("seconds", &sv::SolveResult::seconds)
      .def("converged", &sv::SolveResult::converged)
      .def_property_readonly("inertia", [](const sv::SolveResult& r) -> py::object {
        if (!r.inertia) return py::none();
        py::dict d;
        d["negative"] = r.inertia->negative;
        d["zero"] = r.inertia->zero;
        d["positive"] = r.inertia->positive;
        d["tolerance"] = r.inertia->tolerance;
        return d;
      })
      .def_property_readonly("trace", [](const sv::SolveResult& r) {
        const sv::TraceTable t = sv::trace_table(r.trace);
        py::dict d;
        for (size_t j = 0; j < t.columns.size(); ++j) d[t.columns[j].c_str()] = Eigen::VectorXd(t.values.col(j));
        return d;
      })
      .def("__repr__", [](const sv::SolveResult& r) { return sv::summary(r); });

  m.def("train",
        [](const Mlp& model, const py::object& x, const py::object& y, const std::string& method,
           const py::object& init, std::uint64_t seed, std::optional<std::string> polish,
           const std::string& loss, const py::kwargs& options) {
          const Dataset data = as_dataset(x, y);
          sv::TrainOptions o;
          o.method = sv::parse_method(method);
          if (polish) o.polish = sv::parse_method(*polish);
          for (auto item : options) {
            const std::string name = py::str(item.first);
            const py::handle v = item.second;
            sv::OptionValue value;
            if (py::isinstance<py::bool_>(v)) value = v.cast<bool>();
            else if (py::isinstance<py::int_>(v)) value = v.cast<std::int64_t>();
            else if (py::isinstance<py::float_>(v)) value = v.cast<double>();
            else if (py::isinstance<py::str>(v)) value = v.cast<std::string>();
            else throw std::invalid_argument("option '" + name + "' must be a bool, int, float or str");
            sv::set_option(o, o.method, name, value);
          }
          o.validate();
          const Objective obj(model, data, {.kind = parse_loss_kind(loss)});
          const Eigen::VectorXd x0 = init.is_none() ? model.init_parameters({.seed = seed})
                                                    : as_vector(init, "init");
          py::gil_scoped_release release;
          return sv::solve(obj, x0, o);
        },
        py::arg("model"), py::arg("x"), py::arg("y"),
        py::arg("method") = std::string(sv::to_string(sv::TrainOptions{}.method)),
        py::arg("init") = py::none(), py::arg("seed") = InitOptions{}.seed,
        py::arg("polish") = py::none(), py::arg("loss") = "squared",
        "Train from init (or a seeded Glorot init) with gd|sgd|adam|lbfgs|lm|newton|critical|flow; "
        "keyword arguments set the method's options by name (gradient_tolerance=1e-14, ...). "
        "Returns a SolveResult (numpy params; repr = summary).");
}

}  // namespace locus::python
