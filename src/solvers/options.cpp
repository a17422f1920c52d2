// The field table behind option_fields / set_option: one row per tunable field of each method's
// options. Defaults are not repeated here; values are read from the structs.

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <stdexcept>

#include "locus/solvers/solve.hpp"
#include "monitor.hpp"

namespace locus::solvers {

namespace {

struct Accessor {
  std::string name, help;
  std::function<OptionValue(const TrainOptions&)> get;
  std::function<void(TrainOptions&, const OptionValue&)> set;
  std::function<void(TrainOptions&, std::string_view)> set_text;
};

[[noreturn]] void wrong_type(std::string_view field, const char* need) {
  throw std::invalid_argument("option '" + std::string(field) + "' needs " + need);
}

double as_double(std::string_view field, const OptionValue& v) {
  if (const double* d = std::get_if<double>(&v)) return *d;
  if (const std::int64_t* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  wrong_type(field, "a number");
}

std::int64_t as_integer(std::string_view field, const OptionValue& v) {
  if (const std::int64_t* i = std::get_if<std::int64_t>(&v)) return *i;
  if (const double* d = std::get_if<double>(&v))
    if (std::isfinite(*d) && std::floor(*d) == *d && std::abs(*d) < 9.2e18)
      return static_cast<std::int64_t>(*d);
  wrong_type(field, "an integer");
}

bool as_bool(std::string_view field, const OptionValue& v) {
  if (const bool* b = std::get_if<bool>(&v)) return *b;
  wrong_type(field, "true or false");
}

double parse_double(std::string_view field, std::string_view text) {
  const std::string s(text);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);  // accepts inf, nan, 1e-8
  if (s.empty() || end != s.c_str() + s.size())
    throw std::invalid_argument("option '" + std::string(field) + "': cannot parse '" + s +
                                "' as a number");
  return v;
}

std::int64_t parse_integer(std::string_view field, std::string_view text) {
  const double v = parse_double(field, text);
  return as_integer(field, OptionValue(v));
}

bool parse_bool(std::string_view field, std::string_view text) {
  if (text == "true" || text == "1" || text == "yes") return true;
  if (text == "false" || text == "0" || text == "no") return false;
  throw std::invalid_argument("option '" + std::string(field) + "': cannot parse '" +
                              std::string(text) + "' as true or false");
}

// One accessor per field type; ref returns the field inside a TrainOptions.
template <class T>
Accessor make(const char* name, const char* help, std::function<T&(TrainOptions&)> ref) {
  Accessor a;
  a.name = name;
  a.help = help;
  auto get_ref = [ref](const TrainOptions& o) -> const T& {
    return ref(const_cast<TrainOptions&>(o));
  };
  std::string field = name;
  if constexpr (std::is_same_v<T, double>) {
    a.get = [get_ref](const TrainOptions& o) { return OptionValue(get_ref(o)); };
    a.set = [ref, field](TrainOptions& o, const OptionValue& v) { ref(o) = as_double(field, v); };
    a.set_text = [ref, field](TrainOptions& o, std::string_view t) {
      ref(o) = parse_double(field, t);
    };
  } else if constexpr (std::is_same_v<T, bool>) {
    a.get = [get_ref](const TrainOptions& o) { return OptionValue(get_ref(o)); };
    a.set = [ref, field](TrainOptions& o, const OptionValue& v) { ref(o) = as_bool(field, v); };
    a.set_text = [ref, field](TrainOptions& o, std::string_view t) {
      ref(o) = parse_bool(field, t);
    };
  } else if constexpr (std::is_integral_v<T>) {
    a.get = [get_ref](const TrainOptions& o) {
      return OptionValue(static_cast<std::int64_t>(get_ref(o)));
    };
    a.set = [ref, field](TrainOptions& o, const OptionValue& v) {
      ref(o) = static_cast<T>(as_integer(field, v));
    };
    a.set_text = [ref, field](TrainOptions& o, std::string_view t) {
      ref(o) = static_cast<T>(parse_integer(field, t));
    };
  } else if constexpr (std::is_same_v<T, NewtonModel>) {
    a.get = [get_ref](const TrainOptions& o) {
      return OptionValue(std::string(to_string(get_ref(o))));
    };
    a.set = [ref, field](TrainOptions& o, const OptionValue& v) {
      const std::string* s = std::get_if<std::string>(&v);
      if (!s) wrong_type(field, "a model name (exact, hybrid)");
      ref(o) = parse_newton_model(*s);
    };
    a.set_text = [ref](TrainOptions& o, std::string_view t) { ref(o) = parse_newton_model(t); };
  } else if constexpr (std::is_same_v<T, FlowLinearSolver>) {
    a.get = [get_ref](const TrainOptions& o) {
      return OptionValue(std::string(to_string(get_ref(o))));
    };
    a.set = [ref, field](TrainOptions& o, const OptionValue& v) {
      const std::string* s = std::get_if<std::string>(&v);
      if (!s) wrong_type(field, "a solver name (automatic, dense, iterative)");
      ref(o) = parse_flow_linear_solver(*s);
    };
    a.set_text = [ref](TrainOptions& o, std::string_view t) {
      ref(o) = parse_flow_linear_solver(t);
    };
  }
  return a;
}

#define LOCUS_FIELD(TYPE, PATH, NAME, HELP) \
  make<TYPE>(NAME, HELP, [](TrainOptions& o) -> TYPE& { return o.PATH; })

// Stop criteria, then method-specific fields, then record_trace.
#define LOCUS_STOP_FIELDS(M)                                                               \
  LOCUS_FIELD(double, M.stop.gradient_tolerance, "gradient_tolerance",                     \
              "stop when max_i |g_i| <= this"),                                            \
      LOCUS_FIELD(double, M.stop.loss_tolerance, "loss_tolerance", "stop when L <= this"), \
      LOCUS_FIELD(int, M.stop.max_iterations, "max_iterations",                            \
                  "iteration cap (flow: integrator steps; sgd: epochs)"),                  \
      LOCUS_FIELD(double, M.stop.max_seconds, "max_seconds", "wall-clock cap; inf = no limit")

const std::vector<Accessor>& table(Method m) {
  static const std::vector<Accessor> gd = {
      LOCUS_STOP_FIELDS(gd),
      LOCUS_FIELD(double, gd.learning_rate, "learning_rate", "step length eta"),
      LOCUS_FIELD(double, gd.momentum, "momentum", "heavy-ball coefficient in [0, 1)"),
      LOCUS_FIELD(bool, gd.record_trace, "record_trace", "keep one record per iteration"),
  };
  static const std::vector<Accessor> sgd = {
      LOCUS_STOP_FIELDS(sgd),
      LOCUS_FIELD(double, sgd.learning_rate, "learning_rate", "step length on the batch gradient"),
      LOCUS_FIELD(double, sgd.momentum, "momentum", "heavy-ball coefficient in [0, 1)"),
      LOCUS_FIELD(int, sgd.batch_size, "batch_size", "points per batch"),
      LOCUS_FIELD(std::uint64_t, sgd.seed, "seed", "seeds the shuffling"),
      LOCUS_FIELD(bool, sgd.record_trace, "record_trace", "keep one record per epoch"),
  };
  static const std::vector<Accessor> adam = {
      LOCUS_STOP_FIELDS(adam),
      LOCUS_FIELD(double, adam.learning_rate, "learning_rate", "alpha"),
      LOCUS_FIELD(double, adam.beta1, "beta1", "first-moment decay"),
      LOCUS_FIELD(double, adam.beta2, "beta2", "second-moment decay"),
      LOCUS_FIELD(double, adam.epsilon, "epsilon", "added to sqrt(v_hat)"),
      LOCUS_FIELD(bool, adam.record_trace, "record_trace", "keep one record per iteration"),
  };
  static const std::vector<Accessor> lbfgs = {
      LOCUS_STOP_FIELDS(lbfgs),
      LOCUS_FIELD(int, lbfgs.history, "history", "(s, y) pairs kept"),
      LOCUS_FIELD(double, lbfgs.wolfe_c1, "wolfe_c1", "sufficient-decrease constant"),
      LOCUS_FIELD(double, lbfgs.wolfe_c2, "wolfe_c2", "strong-Wolfe curvature constant"),
      LOCUS_FIELD(int, lbfgs.max_line_search_evaluations, "max_line_search_evaluations",
                  "loss-and-gradient evaluations per line search"),
      LOCUS_FIELD(bool, lbfgs.record_trace, "record_trace", "keep one record per iteration"),
  };
  static const std::vector<Accessor> lm = {
      LOCUS_STOP_FIELDS(lm),
      LOCUS_FIELD(double, lm.initial_damping, "initial_damping",
                  "tau: lambda_0 = tau * max diag(J J^T)"),
      LOCUS_FIELD(double, lm.min_damping_factor, "min_damping_factor", "lower bound on mu"),
      LOCUS_FIELD(double, lm.max_damping_factor, "max_damping_factor", "upper bound on mu"),
      LOCUS_FIELD(double, lm.acceptance_ratio, "acceptance_ratio", "accept a step when rho > this"),
      LOCUS_FIELD(bool, lm.record_trace, "record_trace", "keep one record per iteration"),
  };
  static const std::vector<Accessor> newton = {
      LOCUS_STOP_FIELDS(newton),
      LOCUS_FIELD(Index, newton.dense_max_params, "dense_max_params",
                  "dense Hessian up to this many parameters, Steihaug-CG above"),
      LOCUS_FIELD(NewtonModel, newton.model, "model",
                  "exact or hybrid (Gauss-Newton after fast steps)"),
      LOCUS_FIELD(double, newton.hybrid_decrease, "hybrid_decrease",
                  "relative decrease that keeps the Gauss-Newton model"),
      LOCUS_FIELD(double, newton.initial_damping, "initial_damping",
                  "tau: lambda_0 = tau * max |B_ii|"),
      LOCUS_FIELD(double, newton.min_damping_factor, "min_damping_factor", "lower bound on mu"),
      LOCUS_FIELD(double, newton.max_damping_factor, "max_damping_factor", "upper bound on mu"),
      LOCUS_FIELD(double, newton.acceptance_ratio, "acceptance_ratio",
                  "accept a step when rho > this"),
      LOCUS_FIELD(int, newton.max_cg_iterations, "max_cg_iterations",
                  "Steihaug-CG iterations per step"),
      LOCUS_FIELD(bool, newton.record_trace, "record_trace", "keep one record per iteration"),
  };
  static const std::vector<Accessor> critical = {
      LOCUS_STOP_FIELDS(critical),
      LOCUS_FIELD(Index, critical.dense_max_params, "dense_max_params",
                  "dense eigendecomposition up to this many parameters, CG above"),
      LOCUS_FIELD(double, critical.initial_damping, "initial_damping",
                  "nu_0 = initial_damping * max lambda_i^2"),
      LOCUS_FIELD(double, critical.min_damping_factor, "min_damping_factor", "lower bound on mu"),
      LOCUS_FIELD(double, critical.max_damping_factor, "max_damping_factor", "upper bound on mu"),
      LOCUS_FIELD(double, critical.acceptance_ratio, "acceptance_ratio",
                  "accept a step when rho > this"),
      LOCUS_FIELD(int, critical.max_cg_iterations, "max_cg_iterations", "CG iterations per step"),
      LOCUS_FIELD(double, critical.inertia_tolerance, "inertia_tolerance",
                  "|lambda| <= this * max |lambda| counts as zero"),
      LOCUS_FIELD(Index, critical.inertia_max_params, "inertia_max_params",
                  "report the inertia up to this many parameters"),
      LOCUS_FIELD(bool, critical.record_trace, "record_trace", "keep one record per iteration"),
  };
  static const std::vector<Accessor> flow = {
      LOCUS_STOP_FIELDS(flow),
      LOCUS_FIELD(double, flow.t_final, "t_final", "integrate up to this time; inf = no limit"),
      LOCUS_FIELD(double, flow.relative_tolerance, "relative_tolerance", "CVODE rtol"),
      LOCUS_FIELD(double, flow.absolute_tolerance, "absolute_tolerance", "CVODE atol"),
      LOCUS_FIELD(FlowLinearSolver, flow.linear_solver, "linear_solver",
                  "automatic, dense or iterative"),
      LOCUS_FIELD(Index, flow.dense_max_params, "dense_max_params",
                  "automatic: dense up to this many parameters"),
      LOCUS_FIELD(int, flow.krylov_dimension, "krylov_dimension", "GMRES subspace dimension"),
      LOCUS_FIELD(int, flow.trajectory_points_per_decade, "trajectory_points_per_decade",
                  "log-spaced output times per decade; 0 = none"),
      LOCUS_FIELD(double, flow.trajectory_t_first, "trajectory_t_first", "first output time"),
      LOCUS_FIELD(bool, flow.record_trace, "record_trace", "keep one record per integrator step"),
  };
  switch (m) {
    case Method::gd:
      return gd;
    case Method::sgd:
      return sgd;
    case Method::adam:
      return adam;
    case Method::lbfgs:
      return lbfgs;
    case Method::lm:
      return lm;
    case Method::newton:
      return newton;
    case Method::critical:
      return critical;
    case Method::flow:
      return flow;
  }
  return lm;
}

const Accessor& find(Method m, std::string_view name) {
  const auto& t = table(m);
  for (const Accessor& a : t)
    if (a.name == name) return a;
  std::string valid;
  for (const Accessor& a : t) valid += (valid.empty() ? "" : ", ") + a.name;
  throw std::invalid_argument("method " + std::string(to_string(m)) + " has no option '" +
                              std::string(name) + "' (valid: " + valid + ")");
}

}  // namespace

std::vector<OptionField> option_fields(const TrainOptions& options, Method m) {
  std::vector<OptionField> out;
  for (const Accessor& a : table(m)) out.push_back({a.name, a.get(options), a.help});
  return out;
}

void set_option(TrainOptions& options, Method m, std::string_view name, const OptionValue& value) {
  const Accessor& a = find(m, name);
  try {
    a.set(options, value);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string(to_string(m)) + ": " + e.what());
  }
}

void set_option_text(TrainOptions& options, Method m, std::string_view name,
                     std::string_view text) {
  const Accessor& a = find(m, name);
  try {
    a.set_text(options, text);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string(to_string(m)) + ": " + e.what());
  }
}

std::string to_string(const OptionValue& v) {
  if (const bool* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  if (const std::int64_t* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (const double* d = std::get_if<double>(&v)) {
    // The shortest form that reads back as the same double ("1e-13", not "1e-13" + noise).
    char buf[32];
    for (int digits = 1; digits <= 17; ++digits) {
      std::snprintf(buf, sizeof buf, "%.*g", digits, *d);
      if (std::strtod(buf, nullptr) == *d || std::isnan(*d)) break;
    }
    return buf;
  }
  return std::get<std::string>(v);
}

}  // namespace locus::solvers
