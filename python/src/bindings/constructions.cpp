// Bindings of the constructions layer: Cooper's memorizing networks and the manifold of minima
// (walk, projection, dimension by projection sampling, loss along a line).
#include <cmath>
#include <limits>
#include <stdexcept>

#include "bindings.hpp"
#include "locus/constructions/cooper.hpp"
#include "locus/core/objective.hpp"
#include "locus/manifold/walk.hpp"
#include "options.hpp"

namespace locus::python {

namespace {

namespace lc = locus::constructions;
namespace lm = locus::manifold;

Objective squared_objective(const Mlp& model, const py::object& x, const py::object& y) {
  return Objective(model, as_dataset(x, y));
}

py::dict rank_dict(const lm::ResidualJacobianRank& r) { return json_to_python(lm::to_json(r)); }

// The per-step records of a walk as columns: {"arc_length": array, ...}.
py::dict walk_trace(const lm::WalkResult& w) {
  const Index k = static_cast<Index>(w.steps.size());
  Eigen::VectorXd arc(k), dist(k), loss(k), h(k), sigma(k), tol(k);
  Eigen::VectorXi step(k), its(k), rejected(k), turns(k), rank(k);
  for (Index i = 0; i < k; ++i) {
    const lm::WalkStep& s = w.steps[static_cast<size_t>(i)];
    step(i) = s.step;
    arc(i) = s.arc_length;
    dist(i) = s.distance_from_start;
    loss(i) = s.loss;
    h(i) = s.step_size;
    its(i) = s.corrector_iterations;
    rejected(i) = s.rejected_attempts;
    turns(i) = s.turns;
    rank(i) = static_cast<int>(s.rank_jacobian);
    sigma(i) = s.sigma_min_kept;
    tol(i) = s.rank_tolerance;
  }
  py::dict d;
  d["step"] = step;
  d["arc_length"] = arc;
  d["distance_from_start"] = dist;
  d["loss"] = loss;
  d["step_size"] = h;
  d["corrector_iterations"] = its;
  d["rejected_attempts"] = rejected;
  d["turns"] = turns;
  d["rank_jacobian"] = rank;
  d["sigma_min_kept"] = sigma;
  d["rank_tolerance"] = tol;
  return d;
}

}  // namespace

void bind_constructions(py::module_& m) {
  py::class_<lc::CooperConstruction>(m, "CooperConstruction",
                                     "Cooper's memorizing network: spec, parameters and the "
                                     "numbers that certify the fit.")
      .def_property_readonly(
          "status",
          [](const lc::CooperConstruction& c) { return std::string(lc::to_string(c.status)); })
      .def_readonly("message", &lc::CooperConstruction::message)
      .def_property_readonly("ok", &lc::CooperConstruction::ok)
      .def_property_readonly("model", [](const lc::CooperConstruction& c) { return Mlp(c.spec); })
      .def_property_readonly("widths",
                             [](const lc::CooperConstruction& c) { return c.spec.widths; })
      .def_property_readonly(
          "activation",
          [](const lc::CooperConstruction& c) { return std::string(to_string(c.spec.activation)); })
      .def_readonly("params", &lc::CooperConstruction::theta)
      .def_readonly("n_params", &lc::CooperConstruction::n_params)
      .def_readonly("max_abs_residual", &lc::CooperConstruction::max_abs_residual)
      .def_readonly("max_abs_target", &lc::CooperConstruction::max_abs_target)
      .def_readonly("loss", &lc::CooperConstruction::loss)
      .def_readonly("cond_A", &lc::CooperConstruction::cond_A)
      .def_readonly("rank_A", &lc::CooperConstruction::rank_A)
      .def_readonly("direction", &lc::CooperConstruction::direction)
      .def_readonly("order", &lc::CooperConstruction::order)
      .def_readonly("projection_gap_min", &lc::CooperConstruction::projection_gap_min)
      .def_readonly("projection_gap_relative", &lc::CooperConstruction::projection_gap_relative)
      .def_readonly("chain_gap_min", &lc::CooperConstruction::chain_gap_min)
      .def_readonly("chain_weight", &lc::CooperConstruction::chain_weight)
      .def_readonly("residual_bound", &lc::CooperConstruction::residual_bound)
      .def(
          "to_json", [](const lc::CooperConstruction& c) { return json_to_python(lc::to_json(c)); },
          "The library's JSON document of the construction (the CLI's --json body) as a dict.")
      .def("__repr__", [](const lc::CooperConstruction& c) { return lc::summary(c); });

  m.def(
      "construct_cooper",
      [](const py::object& x, const py::object& y, std::optional<std::vector<Index>> hidden_widths,
         const py::kwargs& kwargs) {
        const Dataset data = as_dataset(x, y);
        lc::CooperOptions o;
        apply_kwargs(lc::cooper_table(), o, kwargs);
        if (hidden_widths) o.hidden_widths = *hidden_widths;
        validate_for_python(lc::cooper_table(), [&] { o.validate(); });
        py::gil_scoped_release release;
        return lc::construct_cooper(data, o);
      },
      py::arg("x"), py::arg("y"), py::arg("hidden_widths") = py::none(),
      "Cooper's memorizing network for (x, y) (Lemma 3.3; Cor 3.4 for depth >= 2, variant "
      "'working' or 'literal'). Keyword options are those of `locus construct cooper` "
      "(options_table('cooper'): activation, depth, width (None: d), variant, seed, min_gap, "
      "kink_fraction, ...); hidden_widths=[h_1, ..., h_T] overrides depth and width. Duplicate "
      "rows of x raise ValueError naming them.");

  py::class_<lm::WalkResult>(m, "WalkResult", "A predictor-corrector walk along M = L^-1(0).")
      .def_property_readonly(
          "status", [](const lm::WalkResult& w) { return std::string(lm::to_string(w.status)); })
      .def_readonly("message", &lm::WalkResult::message)
      .def_readonly("arc_length", &lm::WalkResult::arc_length)
      .def_readonly("loss_max", &lm::WalkResult::loss_max)
      .def_readonly("rank_min", &lm::WalkResult::rank_min)
      .def_readonly("rank_max", &lm::WalkResult::rank_max)
      .def_readonly("turns", &lm::WalkResult::turns)
      .def_readonly("params_final", &lm::WalkResult::theta_final)
      .def_readonly("path", &lm::WalkResult::path)
      .def_property_readonly("trace", &walk_trace,
                             "per accepted point: step, arc_length, distance_from_start, loss, "
                             "step_size, corrector_iterations, rejected_attempts, turns, "
                             "rank_jacobian, sigma_min_kept, rank_tolerance (numpy arrays)")
      .def(
          "to_json", [](const lm::WalkResult& w) { return json_to_python(lm::to_json(w)); },
          "The library's JSON document of the walk (the CLI's --json body) as a dict.")
      .def("__repr__", [](const lm::WalkResult& w) { return lm::summary(w); });

  m.def(
      "walk",
      [](const Mlp& model, const py::object& params, const py::object& x, const py::object& y,
         bool progress, const py::object& callback, const py::kwargs& kwargs) {
        const Objective obj = squared_objective(model, x, y);
        const Eigen::VectorXd theta = as_vector(params, "params");
        lm::WalkOptions o;
        apply_kwargs(lm::walk_table(), o, kwargs);
        validate_for_python(lm::walk_table(), [&] { o.validate(); });
        PythonProgress reporter("walk", progress, callback);
        lm::WalkResult w;
        {
          py::gil_scoped_release release;
          w = lm::walk_manifold(obj, theta, o, reporter.callback());
        }
        reporter.rethrow();
        return w;
      },
      py::arg("model"), py::arg("params"), py::arg("x"), py::arg("y"), py::arg("progress") = false,
      py::arg("callback") = py::none(),
      "Walk along the manifold of global minima from a zero-loss point (predictor in ker J, "
      "Gauss-Newton corrector -J^+ r, step control). Keyword options are those of `locus walk` "
      "(options_table('walk'): steps, step_size, max_step_size, min_step_size, max_turns, "
      "max_length, seed, loss_tolerance, loss_acceptable, max_corrector_iterations, "
      "record_path). progress=True writes a progress line to sys.stderr; callback(event) gets a "
      "dict {stage, done, total, loss, ...} per accepted step.");

  m.def(
      "loss_along_line",
      [](const Mlp& model, const py::object& params, const py::object& x, const py::object& y,
         const py::object& direction, const py::kwargs& kwargs) {
        const Objective obj = squared_objective(model, x, y);
        const Eigen::VectorXd theta = as_vector(params, "params");
        const Eigen::VectorXd u = as_vector(direction, "direction");
        lm::LineLossOptions o;
        apply_kwargs(lm::line_loss_table(), o, kwargs);
        lm::LineLoss line;
        {
          py::gil_scoped_release release;
          line = lm::loss_along_line(obj, theta, u, o);
        }
        py::dict d;
        d["t"] = line.t;
        d["loss"] = line.loss;
        return d;
      },
      py::arg("model"), py::arg("params"), py::arg("x"), py::arg("y"), py::arg("direction"),
      "The loss along params + t u/|u|, t in [0, length]: {'t': ..., 'loss': ...}. Keyword "
      "options (options_table('line')): length, n_points.");

  m.def("random_unit_direction", &lm::random_unit_direction, py::arg("n"), py::arg("seed"),
        "A seeded uniformly random unit vector in R^n.");
  m.def(
      "random_tangent_direction",
      [](const Mlp& model, const py::object& params, const py::object& x, const py::object& y,
         std::uint64_t seed) {
        const Objective obj = squared_objective(model, x, y);
        const Eigen::VectorXd theta = as_vector(params, "params");
        py::gil_scoped_release release;
        return lm::random_tangent_direction(obj, theta, seed);
      },
      py::arg("model"), py::arg("params"), py::arg("x"), py::arg("y"), py::arg("seed"),
      "A seeded random unit vector in ker J(params) (zero when the kernel is trivial).");

  m.def(
      "residual_jacobian_rank",
      [](const Mlp& model, const py::object& params, const py::object& x, const py::object& y) {
        const Objective obj = squared_objective(model, x, y);
        const Eigen::VectorXd theta = as_vector(params, "params");
        lm::ResidualJacobianRank r;
        {
          py::gil_scoped_release release;
          r = lm::residual_jacobian_rank(obj, theta);
        }
        return rank_dict(r);
      },
      py::arg("model"), py::arg("params"), py::arg("x"), py::arg("y"),
      "Numerical rank of J with tolerance max(l d, n) eps sigma_max.");

  m.def(
      "project_to_manifold",
      [](const Mlp& model, const py::object& params, const py::object& x, const py::object& y,
         const py::kwargs& kwargs) {
        const Objective obj = squared_objective(model, x, y);
        const Eigen::VectorXd theta = as_vector(params, "params");
        lm::ManifoldProjectionOptions o;
        apply_kwargs(lm::projection_table(), o, kwargs);
        lm::ManifoldProjection p;
        {
          py::gil_scoped_release release;
          p = lm::project_to_manifold(obj, theta, o);
        }
        py::dict d = json_to_python(lm::to_json(p));
        d["params"] = p.theta;
        return d;
      },
      py::arg("model"), py::arg("params"), py::arg("x"), py::arg("y"),
      "Gauss-Newton projection onto M (minimum-norm steps -J^+ r). Keyword options "
      "(options_table('projection')): loss_tolerance, max_iterations.");

  py::class_<lm::DimensionEstimate>(m, "DimensionEstimate",
                                    "dim M by projection sampling, beside n - rank J.")
      .def_readonly("dimension", &lm::DimensionEstimate::dimension)
      .def_readonly("dimension_at_largest_gap", &lm::DimensionEstimate::dimension_at_largest_gap)
      .def_readonly("dimension_from_jacobian", &lm::DimensionEstimate::dimension_from_jacobian)
      .def_readonly("threshold", &lm::DimensionEstimate::threshold)
      .def_readonly("gap_ratio", &lm::DimensionEstimate::gap_ratio)
      .def_readonly("singular_values", &lm::DimensionEstimate::singular_values)
      .def_readonly("n_samples", &lm::DimensionEstimate::n_samples)
      .def_readonly("n_projected", &lm::DimensionEstimate::n_projected)
      .def_readonly("loss_max_projected", &lm::DimensionEstimate::loss_max_projected)
      .def_property_readonly("jacobian",
                             [](const lm::DimensionEstimate& e) { return rank_dict(e.jacobian); })
      .def_property_readonly("agrees", &lm::DimensionEstimate::agrees)
      .def(
          "to_json", [](const lm::DimensionEstimate& e) { return json_to_python(lm::to_json(e)); },
          "The library's JSON document of the estimate (the CLI's --json 'dimension') as a dict.")
      .def("__repr__", [](const lm::DimensionEstimate& e) { return lm::summary(e); });

  m.def(
      "manifold_dimension_by_projection",
      [](const Mlp& model, const py::object& params, const py::object& x, const py::object& y,
         bool progress, const py::object& callback, const py::kwargs& kwargs) {
        const Objective obj = squared_objective(model, x, y);
        const Eigen::VectorXd theta = as_vector(params, "params");
        lm::DimensionOptions o;
        apply_kwargs(lm::dimension_table(), o, kwargs);
        validate_for_python(lm::dimension_table(), [&] { o.validate(); });
        PythonProgress reporter("manifold_dimension_by_projection", progress, callback);
        return reporter.run([&](const ProgressCallback& cb) {
          return lm::manifold_dimension_by_projection(obj, theta, o, cb);
        });
      },
      py::arg("model"), py::arg("params"), py::arg("x"), py::arg("y"), py::arg("progress") = false,
      py::arg("callback") = py::none(),
      "Project K random points params + delta (|delta| = radius) onto M and count the "
      "singular values of the displacements above sigma_1 sqrt(radius). Keyword options "
      "(options_table('dimension')): n_samples (None: 2n), radius, seed, loss_acceptable. "
      "progress=True writes a progress line to sys.stderr; callback(event) gets a dict "
      "{stage, done, total, ...} per projected sample.");
}

}  // namespace locus::python
