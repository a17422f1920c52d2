// The field tables of the solvers' options structs and the by-name API on top of them. Defaults
// are not repeated here: every value is read from the structs.

#include <stdexcept>

#include "locus/solvers/solve.hpp"

namespace locus::solvers {

namespace {

// The stop criteria of any options struct O with a `stop` member, as the first rows.
template <class O>
options::Table<O> with_stop(std::string owner) {
  options::Table<O> t(owner);
  t.reported_as(owner + ".stop")
      .add("gradient_tolerance", "stop when max_i |g_i| <= this",
           [](O& o) -> double& { return o.stop.gradient_tolerance; })
      .add("loss_tolerance", "stop when L <= this",
           [](O& o) -> double& { return o.stop.loss_tolerance; })
      .add("max_iterations", "iteration cap (flow: integrator steps; sgd: epochs)",
           [](O& o) -> int& { return o.stop.max_iterations; })
      .add("max_seconds", "wall-clock cap; inf = no limit",
           [](O& o) -> double& { return o.stop.max_seconds; });
  return t;
}

// Calls f(table, struct) for method m's table and options struct inside o.
template <class TrainOpts, class F>
decltype(auto) visit(TrainOpts& o, Method m, F&& f) {
  switch (m) {
    case Method::gd:
      return f(gradient_descent_table(), o.gd);
    case Method::sgd:
      return f(sgd_table(), o.sgd);
    case Method::adam:
      return f(adam_table(), o.adam);
    case Method::lbfgs:
      return f(lbfgs_table(), o.lbfgs);
    case Method::lm:
      break;
    case Method::newton:
      return f(newton_table(), o.newton);
    case Method::critical:
      return f(critical_point_table(), o.critical);
    case Method::flow:
      return f(gradient_flow_table(), o.flow);
  }
  return f(levenberg_marquardt_table(), o.lm);
}

}  // namespace

const options::Table<GradientDescentOptions>& gradient_descent_table() {
  using O = GradientDescentOptions;
  static const auto t = with_stop<O>("GradientDescentOptions")
                            .add("learning_rate", "step length eta", &O::learning_rate)
                            .add("momentum", "heavy-ball coefficient in [0, 1)", &O::momentum)
                            .add("record_trace", "keep one record per iteration", &O::record_trace);
  return t;
}

const options::Table<SgdOptions>& sgd_table() {
  using O = SgdOptions;
  static const auto t =
      with_stop<O>("SgdOptions")
          .add("learning_rate", "step length on the batch gradient", &O::learning_rate)
          .add("momentum", "heavy-ball coefficient in [0, 1)", &O::momentum)
          .add("batch_size", "points per batch", &O::batch_size)
          .add("seed", "seeds the shuffling", &O::seed)
          .add("record_trace", "keep one record per epoch", &O::record_trace);
  return t;
}

const options::Table<AdamOptions>& adam_table() {
  using O = AdamOptions;
  static const auto t = with_stop<O>("AdamOptions")
                            .add("learning_rate", "alpha", &O::learning_rate)
                            .add("beta1", "first-moment decay", &O::beta1)
                            .add("beta2", "second-moment decay", &O::beta2)
                            .add("epsilon", "added to sqrt(v_hat)", &O::epsilon)
                            .add("record_trace", "keep one record per iteration", &O::record_trace);
  return t;
}

const options::Table<LbfgsOptions>& lbfgs_table() {
  using O = LbfgsOptions;
  static const auto t =
      with_stop<O>("LbfgsOptions")
          .add("history", "(s, y) pairs kept", &O::history)
          .add("wolfe_c1", "sufficient-decrease constant", &O::wolfe_c1)
          .add("wolfe_c2", "strong-Wolfe curvature constant", &O::wolfe_c2)
          .add("max_line_search_evaluations", "loss-and-gradient evaluations per line search",
               &O::max_line_search_evaluations)
          .add("record_trace", "keep one record per iteration", &O::record_trace);
  return t;
}

const options::Table<LevenbergMarquardtOptions>& levenberg_marquardt_table() {
  using O = LevenbergMarquardtOptions;
  static const auto t =
      with_stop<O>("LevenbergMarquardtOptions")
          .add("initial_damping", "tau when m < n: lambda_0 = tau * max diag(J J^T)",
               &O::initial_damping)
          .add("initial_damping_tall", "tau when m >= n: lambda_0 = tau * max diag(J^T J)",
               &O::initial_damping_tall)
          .add("min_damping_factor", "lower bound on mu", &O::min_damping_factor)
          .add("max_damping_factor", "upper bound on mu", &O::max_damping_factor)
          .add("acceptance_ratio", "accept a step when rho > this", &O::acceptance_ratio)
          .add("geodesic_acceleration",
               "when m < n, add the second-order correction a/2 to each step",
               &O::geodesic_acceleration)
          .add("record_trace", "keep one record per iteration", &O::record_trace);
  return t;
}

const options::Table<NewtonOptions>& newton_table() {
  using O = NewtonOptions;
  static const auto t =
      with_stop<O>("NewtonOptions")
          .add("dense_max_params", "dense Hessian up to this many parameters, Steihaug-CG above",
               &O::dense_max_params)
          .add_enum("model", "exact or hybrid (Gauss-Newton after fast steps)", &O::model,
                    &to_string, &parse_newton_model,
                    std::vector<NewtonModel>{NewtonModel::exact, NewtonModel::hybrid})
          .add("hybrid_decrease", "relative decrease that keeps the Gauss-Newton model",
               &O::hybrid_decrease)
          .add("initial_damping", "tau: lambda_0 = tau * max |B_ii|", &O::initial_damping)
          .add("min_damping_factor", "lower bound on mu", &O::min_damping_factor)
          .add("max_damping_factor", "upper bound on mu", &O::max_damping_factor)
          .add("acceptance_ratio", "accept a step when rho > this", &O::acceptance_ratio)
          .add("max_cg_iterations", "Steihaug-CG iterations per step", &O::max_cg_iterations)
          .add("record_trace", "keep one record per iteration", &O::record_trace);
  return t;
}

const options::Table<CriticalPointOptions>& critical_point_table() {
  using O = CriticalPointOptions;
  static const auto t =
      with_stop<O>("CriticalPointOptions")
          .add("dense_max_params", "dense eigendecomposition up to this many parameters, CG above",
               &O::dense_max_params)
          .add("initial_damping", "nu_0 = initial_damping * max lambda_i^2", &O::initial_damping)
          .add("min_damping_factor", "lower bound on mu", &O::min_damping_factor)
          .add("max_damping_factor", "upper bound on mu", &O::max_damping_factor)
          .add("acceptance_ratio", "accept a step when rho > this", &O::acceptance_ratio)
          .add("max_cg_iterations", "CG iterations per step", &O::max_cg_iterations)
          .add("inertia_tolerance_factor",
               "|lambda| <= this * n * eps * max |lambda| counts as zero",
               &O::inertia_tolerance_factor)
          .add("inertia_max_params", "report the inertia up to this many parameters",
               &O::inertia_max_params)
          .add("record_trace", "keep one record per iteration", &O::record_trace);
  return t;
}

const options::Table<GradientFlowOptions>& gradient_flow_table() {
  using O = GradientFlowOptions;
  static const auto t =
      with_stop<O>("GradientFlowOptions")
          .add("t_final", "integrate up to this time; inf = no limit", &O::t_final)
          .add("relative_tolerance", "CVODE rtol", &O::relative_tolerance)
          .add("absolute_tolerance", "CVODE atol", &O::absolute_tolerance)
          .add_enum(
              "linear_solver", "automatic, dense or iterative", &O::linear_solver, &to_string,
              &parse_flow_linear_solver,
              std::vector<FlowLinearSolver>{FlowLinearSolver::automatic, FlowLinearSolver::dense,
                                            FlowLinearSolver::iterative})
          .add("dense_max_params", "automatic: dense up to this many parameters",
               &O::dense_max_params)
          .add("krylov_dimension", "GMRES subspace dimension", &O::krylov_dimension)
          .add("trajectory_points_per_decade", "log-spaced output times per decade; 0 = none",
               &O::trajectory_points_per_decade)
          .add("trajectory_t_first", "first output time", &O::trajectory_t_first)
          .add("record_trace", "keep one record per integrator step", &O::record_trace);
  return t;
}

std::vector<OptionField> option_fields(const TrainOptions& options, Method m) {
  return visit(options, m, [](const auto& table, const auto& o) {
    std::vector<OptionField> out;
    for (const auto& f : table.fields()) out.push_back({f.name, f.get(o), f.help});
    return out;
  });
}

void set_option(TrainOptions& options, Method m, std::string_view name, const OptionValue& value) {
  visit(options, m, [&](const auto& table, auto& o) { table.set(o, name, value); });
}

void set_option_text(TrainOptions& options, Method m, std::string_view name,
                     std::string_view text) {
  visit(options, m, [&](const auto& table, auto& o) { table.set_text(o, name, text); });
}

std::string to_string(const OptionValue& v) { return options::to_string(v); }

io::Json options_to_json(const TrainOptions& options, Method m) {
  return visit(options, m, [](const auto& table, const auto& o) { return table.to_json(o); });
}

std::string rephrase(const std::exception& e, Method m, options::Interface interface) {
  const TrainOptions defaults;
  return visit(defaults, m,
               [&](const auto& table, const auto&) { return table.rephrase(e, interface); });
}

}  // namespace locus::solvers
