// Bindings of Li, Ding & Sun's sweeps (workflows/basins.hpp) in the private submodule
// locus._core._basins; python/locus/basins.py re-exports them as locus.basins.
#include "locus/workflows/basins.hpp"

#include "bindings.hpp"
#include "options.hpp"

namespace locus::python {

namespace {

namespace lw = locus::workflows;

// The data of a call: x and y, or the hand-made scalar data when both are None.
Dataset data_of(const py::object& x, const py::object& y) {
  if (x.is_none() && y.is_none()) return lw::scalar_data();
  if (x.is_none() || y.is_none()) throw std::invalid_argument("x and y: give both or neither");
  return as_dataset(x, y);
}

}  // namespace

void bind_basins(py::module_& root) {
  py::module_ m = root.def_submodule(
      "_basins", "Li, Ding & Sun's width sweeps (run_basins, descend); use locus.basins.");

  py::class_<lw::BasinRun>(m, "BasinRun", "One run of a sweep: its certified end state.")
      .def_readonly("width", &lw::BasinRun::width)
      .def_readonly("seed", &lw::BasinRun::seed)
      .def_readonly("end_state", &lw::BasinRun::end_state)
      .def_readonly("message", &lw::BasinRun::message)
      .def_readonly("loss", &lw::BasinRun::loss)
      .def_readonly("gradient_max_norm", &lw::BasinRun::gradient_max_norm)
      .def_property_readonly(
          "hessian",
          [](const lw::BasinRun& r) { return json_to_python(lw::to_json(r)["hessian"]); },
          "{'min_eigenvalue', 'positive', 'zero', 'negative', 'zero_tolerance', 'gap'}")
      .def_readonly("phi_rank", &lw::BasinRun::phi_rank)
      .def_readonly("flat_output_directions", &lw::BasinRun::flat_output_directions)
      .def_readonly("loss_constant_along_zero_directions",
                    &lw::BasinRun::loss_constant_along_zero_directions)
      .def_readonly("suboptimal", &lw::BasinRun::suboptimal)
      .def_readonly("suboptimal_gap", &lw::BasinRun::suboptimal_gap)
      .def_readonly("seconds", &lw::BasinRun::seconds)
      .def_readonly("params", &lw::BasinRun::theta);

  py::class_<lw::BasinsResult>(m, "BasinsResult",
                               "A sweep: every run and the transition table per width.")
      .def_readonly("runs", &lw::BasinsResult::runs)
      .def_readonly("n_points", &lw::BasinsResult::n_points)
      .def_readonly("loss_best", &lw::BasinsResult::loss_best)
      .def_readonly("seconds", &lw::BasinsResult::seconds)
      .def_property_readonly(
          "widths",
          [](const lw::BasinsResult& r) { return json_to_python(lw::to_json(r)["summary"]); },
          "per width: {'width', 'runs', 'global_minimum', 'strict_minimum', "
          "'non_strict_minimum', 'saddle', 'not_converged', 'undecided', 'suboptimal_strict', "
          "'suboptimal_gap_min', 'loss_min'}")
      .def_property_readonly(
          "options",
          [](const lw::BasinsResult& r) { return table_values(lw::basins_table(), r.options); })
      .def(
          "to_json",
          [](const lw::BasinsResult& r) {
            return json_to_python(
                io::with_context(lw::basins_table().to_json(r.options), lw::to_json(r)));
          },
          "The JSON document of `locus basins --json` (context block first) as a dict.")
      .def("__repr__", [](const lw::BasinsResult& r) { return lw::summary(r); });

  py::class_<lw::Descent>(m, "Descent", "The descent path to zero loss at width >= N.")
      .def_property_readonly("status",
                             [](const lw::Descent& d) { return std::string(to_string(d.status)); })
      .def_readonly("message", &lw::Descent::message)
      .def_readonly("n_points", &lw::Descent::n_points)
      .def_readonly("width", &lw::Descent::width)
      .def_readonly("rank_start", &lw::Descent::rank_start)
      .def_readonly("rank_end", &lw::Descent::rank_end)
      .def_readonly("neurons_moved", &lw::Descent::neurons_moved)
      .def_readonly("loss_start", &lw::Descent::loss_start)
      .def_readonly("loss_end", &lw::Descent::loss_end)
      .def_readonly("max_relative_increase", &lw::Descent::max_relative_increase)
      .def_property_readonly(
          "vertices",
          [](const lw::Descent& d) -> py::object {
            if (!d.path) return py::none();
            return py::cast(Eigen::MatrixXd(d.path->control_points()));
          },
          "rows theta, theta_1, theta_2, theta_3 (None when too narrow)")
      .def_property_readonly("t", [](const lw::Descent& d) { return d.profile.t; })
      .def_property_readonly("profile_loss", [](const lw::Descent& d) { return d.profile.loss; })
      .def("to_json", [](const lw::Descent& d) { return json_to_python(lw::to_json(d)); })
      .def("__repr__", [](const lw::Descent& d) { return lw::summary(d); });

  m.def(
      "run_basins",
      [](const py::object& x, const py::object& y, const py::object& progress,
         const py::kwargs& kwargs) {
        lw::BasinsOptions o;
        apply_kwargs(lw::basins_table(), o, kwargs);
        validate_for_python(lw::basins_table(), [&] { o.validate(); });
        const Dataset data = data_of(x, y);
        lw::BasinsProgress hook;
        if (!progress.is_none())
          hook = [&progress](const lw::BasinRun& run, Index done, Index total) {
            py::gil_scoped_acquire acquire;
            progress(py::cast(run), done, total);
          };
        py::gil_scoped_release release;
        return lw::run_basins(o, data, hook);
      },
      py::arg("x") = py::none(), py::arg("y") = py::none(), py::arg("progress") = py::none(),
      "Seeds x widths of one hidden layer on (x, y) (default: the hand-made scalar data), each "
      "run trained and certified; progress(run, done, total) after each run. Keywords: those of "
      "basins_options() (arch, widths, layer, seeds, seed, init, init_std, activation, "
      "adam_iterations, adam_learning_rate, polish, polish_iterations, loss_tolerance, "
      "gradient_tolerance, min_gap, suboptimal_gap, run_threads).");
  m.def(
      "basins_options", [] { return table_values(lw::basins_table(), lw::BasinsOptions{}); },
      "The sweep's keywords with their defaults.");
  m.def("scalar_data", &lw::scalar_data,
        "The hand-made scalar-input data: 8 points, y = tanh(x + 2) - tanh(1.5 (x - 2)).");
  m.def(
      "descend",
      [](const Mlp& model, const py::object& params, const py::object& x, const py::object& y,
         std::uint64_t seed, std::int64_t tries, int profile_points, double loss_tolerance) {
        Eigen::VectorXd theta = as_vector(params, "params");
        model.check_parameters(theta, "params");
        const Objective objective(model, data_of(x, y));
        return lw::descend(objective, theta,
                           {.seed = seed,
                            .tries = tries,
                            .profile_points = profile_points,
                            .loss_tolerance = loss_tolerance});
      },
      py::arg("model"), py::arg("params"), py::arg("x") = py::none(), py::arg("y") = py::none(),
      py::arg("seed") = lw::DescentOptions{}.seed, py::arg("tries") = lw::DescentOptions{}.tries,
      py::arg("profile_points") = lw::DescentOptions{}.profile_points,
      py::arg("loss_tolerance") = lw::DescentOptions{}.loss_tolerance,
      "The descent path from params to zero loss at last-hidden width >= N (status "
      "'too_narrow' below N), with its loss profile.");
}

}  // namespace locus::python
