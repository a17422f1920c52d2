#include "locus/constructions/cooper.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>

#include "locus/core/objective.hpp"
#include "locus/core/random.hpp"
#include "locus/io/format.hpp"
#include "locus/io/json_numbers.hpp"

namespace locus::constructions {

using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

constexpr double k_eps = std::numeric_limits<double>::epsilon();
// Two sorted values count as distinct in float64 when their gap exceeds 1024 ulps of the
// largest magnitude involved: the pre-activations z_i - b_j are then known to ~1e-3 of the
// smallest gap, so A keeps its triangular sign pattern and a positive diagonal.
constexpr double k_distinct_ulps = 1024.0;

// Smallest gap between consecutive values of v taken in the given order (+inf for one value).
double min_gap_in_order(const VectorXd& v, const std::vector<Index>& order) {
  double gap = std::numeric_limits<double>::infinity();
  for (size_t k = 1; k < order.size(); ++k) gap = std::min(gap, v(order[k]) - v(order[k - 1]));
  return gap;
}

std::vector<Index> sorted_order(const VectorXd& v) {
  std::vector<Index> order(static_cast<size_t>(v.size()));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](Index a, Index b) { return v(a) < v(b); });
  return order;
}

// Lemma 3.3's biases for sorted chain values z_(0) < ... < z_(d-1): b_j = z_(j-1) + theta
// (z_(j) - z_(j-1)) (theta = 1/2: Cooper's midpoints), and b_0 from Cooper's extra point
// z_(-1) = z_(0) - first_gap.
VectorXd lemma_biases(const VectorXd& z_sorted, double first_gap, double theta) {
  const Index d = z_sorted.size();
  VectorXd b(d);
  b(0) = z_sorted(0) - (1 - theta) * first_gap;
  for (Index j = 1; j < d; ++j) b(j) = z_sorted(j - 1) + theta * (z_sorted(j) - z_sorted(j - 1));
  return b;
}

struct Direction {
  VectorXd a;               // unit vector
  double gap_min = 0.0;     // smallest gap of the sorted projections
  double gap_relative = 0;  // gap_min / spread
  bool distinct = false;
  int trials_used = 0;
};

// Draws options.direction_trials seeded unit directions and keeps the one whose sorted
// projections have the largest smallest-gap relative to their spread.
Direction choose_direction(const MatrixXd& x, const CooperOptions& options) {
  const Index d = x.rows(), p = x.cols();
  const double x_scale = x.rowwise().norm().maxCoeff();
  const double threshold = k_distinct_ulps * k_eps * std::max(x_scale, 1e-300);
  Rng rng(options.seed);
  Direction best;
  for (int t = 0; t < options.direction_trials; ++t) {
    VectorXd a(p);
    for (Index k = 0; k < p; ++k) a(k) = rng.normal();
    a /= a.norm();
    const VectorXd s = x * a;
    const std::vector<Index> order = sorted_order(s);
    const double gap = min_gap_in_order(s, order);
    const double spread = s(order.back()) - s(order.front());
    const double relative = d < 2 ? 1.0 : gap / spread;
    const bool distinct = d < 2 || gap > threshold;
    if (t == 0 || (distinct && (!best.distinct || relative > best.gap_relative))) {
      best.a = a;
      best.gap_min = gap;
      best.gap_relative = relative;
      best.distinct = distinct;
    }
    best.trials_used = t + 1;
    if (p == 1) break;  // the only directions are +-1: every trial gives the same gaps
  }
  return best;
}

MatrixXd sorted_rows(const MatrixXd& m, const std::vector<Index>& order) {
  MatrixXd out(m.rows(), m.cols());
  for (size_t i = 0; i < order.size(); ++i) out.row(static_cast<Index>(i)) = m.row(order[i]);
  return out;
}

double max_abs(const MatrixXd& m) { return m.size() == 0 ? 0.0 : m.cwiseAbs().maxCoeff(); }

// One column-major 1-norm: max_j sum_i |m_ij|.
double norm1(const MatrixXd& m) { return m.cwiseAbs().colwise().sum().maxCoeff(); }

}  // namespace

std::string_view to_string(CooperVariant v) {
  return v == CooperVariant::working ? "working" : "literal";
}

CooperVariant parse_cooper_variant(std::string_view name) {
  if (name == "working") return CooperVariant::working;
  if (name == "literal") return CooperVariant::literal;
  throw std::invalid_argument("unknown Cooper variant '" + std::string(name) +
                              "' (valid: working, literal)");
}

std::string_view to_string(ConstructionStatus s) {
  switch (s) {
    case ConstructionStatus::ok:
      return "ok";
    case ConstructionStatus::projections_not_distinct:
      return "projections_not_distinct";
    case ConstructionStatus::chain_not_distinct:
      return "chain_not_distinct";
    case ConstructionStatus::residual_too_large:
      return "residual_too_large";
  }
  return "unknown";
}

void CooperOptions::validate() const {
  if (!is_rectified(activation))
    throw std::invalid_argument("CooperOptions.activation = " + std::string(to_string(activation)) +
                                " is not a strictly increasing rectified activation (Cooper's "
                                "construction needs sigma = 0 on x <= 0 and increasing on x > 0: "
                                "relu or smoolu)");
  if (hidden_widths.empty() && depth < 1)
    throw std::invalid_argument("CooperOptions.depth must be >= 1, got " + std::to_string(depth));
  if (width && *width < 1)
    throw std::invalid_argument("CooperOptions.width must be >= 1, got " + std::to_string(*width));
  for (size_t k = 0; k < hidden_widths.size(); ++k)
    if (hidden_widths[k] < 1)
      throw std::invalid_argument("CooperOptions.hidden_widths[" + std::to_string(k) +
                                  "] = " + std::to_string(hidden_widths[k]) + " must be >= 1");
  if (direction_trials < 1)
    throw std::invalid_argument("CooperOptions.direction_trials must be >= 1, got " +
                                std::to_string(direction_trials));
  if (!(min_gap > 0) || !std::isfinite(min_gap))
    throw std::invalid_argument("CooperOptions.min_gap must be finite and > 0, got " +
                                io::format_number(min_gap));
  if (!(chain_offset > 0) || !std::isfinite(chain_offset))
    throw std::invalid_argument("CooperOptions.chain_offset must be finite and > 0, got " +
                                io::format_number(chain_offset));
  if (refinement_steps < 0)
    throw std::invalid_argument("CooperOptions.refinement_steps must be >= 0, got " +
                                std::to_string(refinement_steps));
  if (!(kink_fraction > 0 && kink_fraction < 1))
    throw std::invalid_argument("CooperOptions.kink_fraction must lie in (0, 1), got " +
                                io::format_number(kink_fraction));
  if (!(residual_tolerance >= 0))
    throw std::invalid_argument("CooperOptions.residual_tolerance must be >= 0, got " +
                                io::format_number(residual_tolerance));
}

CooperConstruction construct_cooper(const Dataset& data, const CooperOptions& options) {
  options.validate();
  data.validate();
  data.require_distinct_inputs();
  const Index d = data.size(), p = data.input_dim(), l = data.output_dim();
  const Activation act = options.activation;
  auto sigma = [act](double t) { return activate(act, t); };

  // Architecture [p, h_1, ..., h_T, l].
  std::vector<Index> hidden = options.hidden_widths;
  if (hidden.empty()) hidden.assign(static_cast<size_t>(options.depth), options.width.value_or(d));
  const int T = static_cast<int>(hidden.size());
  if (hidden.back() < d)
    throw std::invalid_argument(
        "Cooper's construction needs the last hidden layer at least as "
        "wide as the data: width " +
        std::to_string(hidden.back()) + " < d = " + std::to_string(d) + " points");
  CooperConstruction r;
  r.spec.widths.push_back(p);
  r.spec.widths.insert(r.spec.widths.end(), hidden.begin(), hidden.end());
  r.spec.widths.push_back(l);
  r.spec.activation = act;
  const Mlp model(r.spec);
  r.n_params = model.n_params();
  r.theta = VectorXd::Zero(r.n_params);
  r.max_abs_target = max_abs(data.y);
  r.residual_bound = options.residual_tolerance * r.max_abs_target;
  const bool literal = options.variant == CooperVariant::literal && T >= 2;

  // 1. The direction a: distinct projections, then rescaled so the smallest gap is min_gap.
  const Direction dir = choose_direction(data.x, options);
  r.direction_trials_used = dir.trials_used;
  r.projection_gap_relative = dir.gap_relative;
  if (!dir.distinct) {
    r.status = ConstructionStatus::projections_not_distinct;
    r.message = "no direction out of " + std::to_string(dir.trials_used) +
                " separated the projections a.x_i above round-off (best smallest gap " +
                io::format_number(dir.gap_min) + ", " + io::format_number(dir.gap_relative) +
                " of the spread)";
    r.max_abs_residual = std::numeric_limits<double>::infinity();
    r.loss = std::numeric_limits<double>::infinity();
    return r;
  }
  const double g = options.min_gap;
  const double scale = d < 2 ? 1.0 : g / dir.gap_min;
  r.direction = scale * dir.a;
  const VectorXd s = data.x * r.direction;  // the projections a.x_i the network sees
  r.order = sorted_order(s);
  r.projection_gap_min =
      d < 2 ? std::numeric_limits<double>::infinity() : min_gap_in_order(s, r.order);
  const double s_min = s(r.order.front());

  auto weight = [&](int k, Index row, Index col) -> double& {
    const LayerSlice& ls = model.layer(k);
    return r.theta(ls.weight_offset + row * ls.in + col);
  };
  auto bias = [&](int k, Index row) -> double& {
    return r.theta(model.layer(k).bias_offset + row);
  };

  // 2. Hidden layers. z holds the values entering the last hidden layer's Lemma-3.3 units
  //    (the projections themselves for depth 1; unit 1 of hidden layer T - 1 otherwise).
  VectorXd z = s;
  if (T >= 2) {
    for (Index k = 0; k < p; ++k) weight(0, 0, k) = r.direction(k);
    // Working: pre-activations start at chain_offset (smooLU's near-linear range). Literal:
    // "b_1 so that a.x_i - b_1 > 0", here half the smallest gap above the smallest projection.
    const double lift = literal ? 0.5 * g : options.chain_offset;
    bias(0, 0) = lift - s_min;
    VectorXd v(d);
    for (Index i = 0; i < d; ++i) v(i) = sigma(s(i) + bias(0, 0));
    for (int k = 1; k + 1 < T; ++k) {  // chain layers pass unit 1 on with weight 1
      weight(k, 0, 0) = 1.0;
      bias(k, 0) = literal ? 0.0 : options.chain_offset - v.minCoeff();
      for (Index i = 0; i < d; ++i) v(i) = sigma(v(i) + bias(k, 0));
    }
    z = v;
  }
  // The chain is strictly increasing in exact arithmetic, so the order of the z_i is that of the
  // projections; in float64 their gaps must stay above round-off.
  const double v_gap = min_gap_in_order(z, r.order);
  const double v_scale = z.cwiseAbs().maxCoeff();
  if (T >= 2 && d >= 2 && !(v_gap > k_distinct_ulps * k_eps * v_scale)) {
    r.status = ConstructionStatus::chain_not_distinct;
    r.message = "the chain values entering hidden layer " + std::to_string(T) +
                " are not distinct in float64 (smallest gap " + io::format_number(v_gap) +
                " at magnitude " + io::format_number(v_scale) +
                "); use a larger chain_offset or fewer layers";
    if (!literal) {
      r.max_abs_residual = std::numeric_limits<double>::infinity();
      r.loss = std::numeric_limits<double>::infinity();
      return r;
    }
  }
  // Working: c rescales the smallest gap of the chain values to min_gap (c = 1 for depth 1, where
  // a is already rescaled). Literal: weight 1, as printed.
  const double c = (T == 1 || literal || d < 2) ? 1.0 : g / v_gap;
  r.chain_weight = c;
  z *= c;
  r.chain_gap_min = d < 2 ? std::numeric_limits<double>::infinity() : min_gap_in_order(z, r.order);
  VectorXd z_sorted(d);
  for (Index i = 0; i < d; ++i) z_sorted(i) = z(r.order[static_cast<size_t>(i)]);
  const VectorXd b = lemma_biases(z_sorted, g, options.kink_fraction);

  // 3. The last hidden layer (weight layer T - 1) and A_ij = sigma(pre-activation of unit j at
  //    the i-th point in sorted order).
  const int last = T - 1;
  MatrixXd A = MatrixXd::Zero(d, d);
  for (Index j = 0; j < d; ++j) {
    bias(last, j) = -b(j);
    if (T == 1) {
      for (Index k = 0; k < p; ++k) weight(last, j, k) = r.direction(k);
    } else if (!literal) {
      weight(last, j, 0) = c;
    } else if (j == 0) {
      weight(last, 0, 0) = 1.0;  // as printed: only the top-left entry of M_T is 1
    }
    const bool receives = T == 1 || !literal || j == 0;
    for (Index i = 0; i < d; ++i) A(i, j) = sigma((receives ? z_sorted(i) : 0.0) - b(j));
  }

  // 4. Output weights M (d x l): forward substitution for the working form (A lower triangular,
  //    positive diagonal); a minimum-norm least-squares fit for the literal form (A singular).
  const MatrixXd Y = sorted_rows(data.y, r.order);
  Eigen::CompleteOrthogonalDecomposition<MatrixXd> cod;
  auto solve = [&](const MatrixXd& rhs) -> MatrixXd {
    if (literal) return cod.solve(rhs);
    return A.triangularView<Eigen::Lower>().solve(rhs);
  };
  if (literal) {
    cod.compute(A);
    r.rank_A = cod.rank();
  } else {
    r.rank_A = d;  // lower triangular, diagonal sigma((1 - kink_fraction) gap_j) > 0
  }
  MatrixXd M = solve(Y);
  const int out = T;
  auto write_output = [&](const MatrixXd& m) {
    for (Index j = 0; j < d; ++j)
      for (Index o = 0; o < l; ++o) weight(out, o, j) = m(j, o);
    for (Index o = 0; o < l; ++o) bias(out, o) = 0.0;
  };
  write_output(M);

  // 5. Residuals through the real forward pass, and iterative refinement with them.
  const Objective objective(model, data);
  auto sorted_residuals = [&](const VectorXd& theta) {
    const VectorXd res = objective.residuals(theta);
    MatrixXd R(d, l);
    for (Index i = 0; i < d; ++i)
      for (Index o = 0; o < l; ++o) R(i, o) = res(r.order[static_cast<size_t>(i)] * l + o);
    return R;
  };
  MatrixXd R = sorted_residuals(r.theta);
  double best = max_abs(R);
  VectorXd best_theta = r.theta;
  for (int step = 0; step < options.refinement_steps && best > 0; ++step) {
    M -= solve(R);
    write_output(M);
    R = sorted_residuals(r.theta);
    const double now = max_abs(R);
    if (!(now < best)) break;  // round-off floor reached
    best = now;
    best_theta = r.theta;
  }
  r.theta = best_theta;
  R = sorted_residuals(r.theta);
  r.max_abs_residual = max_abs(R);
  r.loss = R.squaredNorm();

  // 6. cond_1(A) from the exact inverse (triangular: d^3 / 3 flops).
  if (r.rank_A < d) {
    r.cond_A = std::numeric_limits<double>::infinity();
  } else {
    const MatrixXd inv =
        literal ? MatrixXd(A.inverse())
                : MatrixXd(A.triangularView<Eigen::Lower>().solve(MatrixXd::Identity(d, d)));
    r.cond_A = norm1(A) * norm1(inv);
  }

  // 7. Verdict.
  const double allowed = r.residual_bound;
  const std::string what = std::string(literal  ? "literal Cor 3.4"
                                       : T >= 2 ? "Cor 3.4"
                                                : "Lemma 3.3") +
                           " network " + model.describe() + " (" + std::to_string(r.n_params) +
                           " parameters) on " + std::to_string(d) + " points";
  if (r.status == ConstructionStatus::ok && !(r.max_abs_residual <= allowed)) {
    r.status = ConstructionStatus::residual_too_large;
    r.message = what + ": max |residual| = " + io::format_number(r.max_abs_residual) + " > " +
                io::format_number(options.residual_tolerance) +
                " * max|y| = " + io::format_number(allowed) +
                " (rank A = " + std::to_string(r.rank_A) + " of " + std::to_string(d) + ")";
  } else if (r.status == ConstructionStatus::ok) {
    r.message = what + ": max |residual| = " + io::format_number(r.max_abs_residual) +
                " <= " + io::format_number(allowed) + ", cond(A) = " + io::format_number(r.cond_A);
  }
  return r;
}

const options::Table<CooperOptions>& cooper_table() {
  using O = CooperOptions;
  static const auto t =
      options::Table<O>("CooperOptions")
          .add_enum("activation", "rectified activation", &O::activation,
                    static_cast<std::string_view (*)(Activation)>(&locus::to_string),
                    &parse_activation,
                    std::vector<Activation>{Activation::smoolu, Activation::relu})
          .add("depth", "number of hidden layers T", &O::depth)
          .add("width", "width h of every hidden layer (>= d); none: d", &O::width)
          .add_enum("variant",
                    "working: Cor 3.4 in its working form; literal: as printed (fails for d >= 2)",
                    &O::variant, &to_string, &parse_cooper_variant,
                    std::vector<CooperVariant>{CooperVariant::working, CooperVariant::literal})
          .add("seed", "seed of the projection direction a", &O::seed)
          .add("direction_trials", "random directions tried (the best is kept)",
               &O::direction_trials)
          .add("min_gap", "smallest projected gap after rescaling", &O::min_gap)
          .add("kink_fraction", "kink position inside each gap (0.5: Cooper's midpoints)",
               &O::kink_fraction)
          .add("chain_offset", "deep: chain pre-activations lie in [offset, offset + spread]",
               &O::chain_offset)
          .add("refinement_steps", "iterative refinement steps of the output weights",
               &O::refinement_steps)
          .add("residual_tolerance", "ok requires max |residual| <= this * max |y|",
               &O::residual_tolerance);
  return t;
}

io::Json to_json(const CooperConstruction& c) {
  io::Json order = io::Json::array();
  for (Index i : c.order) order.push_back(i);
  return {{"status", std::string(to_string(c.status))},
          {"message", c.message},
          {"architecture",
           {{"widths", c.spec.widths},
            {"activation", std::string(to_string(c.spec.activation))},
            {"bias", "all"}}},
          {"n_params", c.n_params},
          {"max_abs_residual", io::json_number(c.max_abs_residual)},
          {"max_abs_target", io::json_number(c.max_abs_target)},
          {"residual_tolerance", io::json_number(c.residual_bound)},
          {"loss", io::json_number(c.loss)},
          {"cond_A", io::json_number(c.cond_A)},
          {"rank_A", c.rank_A},
          {"projection_gap_min", io::json_number(c.projection_gap_min)},
          {"projection_gap_relative", io::json_number(c.projection_gap_relative)},
          {"chain_gap_min", io::json_number(c.chain_gap_min)},
          {"chain_weight", io::json_number(c.chain_weight)},
          {"direction_trials_used", c.direction_trials_used},
          {"direction", io::json_numbers(c.direction)},
          {"order", order}};
}

std::string summary(const CooperConstruction& c) {
  return "cooper: " + std::string(to_string(c.status)) + ": " + c.message + "\n" +
         "  max |residual| = " + io::format_number(c.max_abs_residual) + " (bound " +
         io::format_number(c.residual_bound) + ")\n" +
         "  cond(A)        = " + io::format_number(c.cond_A) +
         ", rank A = " + std::to_string(c.rank_A) + "\n" +
         "  smallest gap   = " + io::format_number(c.projection_gap_min) + " (relative " +
         io::format_number(c.projection_gap_relative) + ")";
}

}  // namespace locus::constructions
