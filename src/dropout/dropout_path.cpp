#include "locus/dropout/dropout_path.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

#include "locus/dropout/subnetwork.hpp"
#include "locus/io/format.hpp"
#include "locus/transforms/surgery.hpp"

namespace locus::dropout {

using Eigen::MatrixXd;
using Eigen::VectorXd;
using options::OptionError;

namespace {

// "first-half" | "second-half" | "random" | "0,2,4".
std::vector<Index> parse_keep(const std::string& keep, Index n, std::uint64_t seed) {
  if (!keep.empty() && !std::isdigit(static_cast<unsigned char>(keep[0])) && keep[0] != '-')
    return half_keep_set(n, parse_keep_rule(keep), seed);
  if (n % 2 != 0)
    throw std::invalid_argument("N = " + std::to_string(n) +
                                " is odd: a half split needs an even width");
  std::vector<Index> kept;
  const char* p = keep.data();
  const char* end = p + keep.size();
  while (p < end) {
    Index v = 0;
    const auto [next, ec] = std::from_chars(p, end, v);
    if (ec != std::errc() || (next != end && *next != ','))
      throw std::invalid_argument("keep set '" + keep + "' is not a rule name or a comma list");
    kept.push_back(v);
    p = next + (next != end ? 1 : 0);
  }
  check_keep_set(n, kept);
  if (Index(kept.size()) != n / 2)
    throw std::invalid_argument("keep set has " + std::to_string(kept.size()) +
                                " entries; the path keeps half of N = " + std::to_string(n));
  return kept;
}

// Copies and writes of one hidden neuron's weights in a two-layer network.
struct Neurons {
  const Mlp& model;
  std::vector<transforms::NeuronIndices> at;
  std::vector<Index> output_bias;

  explicit Neurons(const Mlp& m) : model(m) {
    for (Index j = 0; j < m.spec().widths[1]; ++j)
      at.push_back(transforms::neuron_indices(m, {1, j}));
    const LayerSlice& out = m.layer(1);
    for (Index i = 0; i < out.out && out.bias_offset >= 0; ++i)
      output_bias.push_back(out.bias_offset + i);
  }
  // Neuron j of v takes the incoming weights and bias of neuron k of src.
  void incoming(VectorXd& v, Index j, const VectorXd& src, Index k) const {
    const auto& to = at[size_t(j)];
    const auto& from = at[size_t(k)];
    for (size_t i = 0; i < to.incoming.size(); ++i) v(to.incoming[i]) = src(from.incoming[i]);
    if (to.bias >= 0) v(to.bias) = src(from.bias);
  }
  // Neuron j of v takes factor times the outgoing weights of neuron k of src.
  void outgoing(VectorXd& v, Index j, const VectorXd& src, Index k, double factor) const {
    const auto& to = at[size_t(j)];
    const auto& from = at[size_t(k)];
    for (size_t i = 0; i < to.outgoing.size(); ++i)
      v(to.outgoing[i]) = factor * src(from.outgoing[i]);
  }
  void bias_from(VectorXd& v, const VectorXd& src) const {
    for (Index i : output_bias) v(i) = src(i);
  }
};

SegmentCheck check_segment(const Objective& objective, const VectorXd& a, const VectorXd& b,
                           SegmentKind kind, Index points) {
  SegmentCheck c;
  c.kind = kind;
  VectorXd loss(points);
  for (Index i = 0; i < points; ++i) {
    const double t = double(i) / double(points - 1);
    loss(i) = objective.loss((1 - t) * a + t * b);
  }
  c.loss_start = loss(0);
  c.loss_end = loss(points - 1);
  c.loss_max = loss.maxCoeff();
  c.loss_min = loss.minCoeff();
  c.deviation = kind == SegmentKind::output_weights
                    ? c.loss_max - std::max(c.loss_start, c.loss_end)
                    : (loss.array() - c.loss_start).abs().maxCoeff();
  // 1e-12 relative (the acceptance level), plus the loss's own rounding level at the ends (its
  // residuals carry a few ulps of |f| + |y| each): below that, loss differences are noise.
  double rounding = 0.0;
  if (objective.has_residuals())
    rounding = std::max(objective.residual_rounding_level(objective.residuals(a)),
                        objective.residual_rounding_level(objective.residuals(b)));
  c.tolerance = 1e-12 * std::max(std::abs(c.loss_start), std::abs(c.loss_end)) + rounding;
  c.holds = c.deviation <= c.tolerance;
  return c;
}

}  // namespace

std::string_view to_string(SegmentKind k) {
  switch (k) {
    case SegmentKind::output_weights:
      return "output_weights";
    case SegmentKind::silent_incoming:
      return "silent_incoming";
    case SegmentKind::swap:
      return "swap";
  }
  return "?";
}

void DropoutPathOptions::validate() const {
  constexpr const char* owner = "DropoutPathOptions";
  if (keep.empty()) throw OptionError(owner, "keep", "must be a rule name or a comma list");
  if (check_points < 3) throw OptionError(owner, "check_points", "must be >= 3");
  if (profile_points < 2) throw OptionError(owner, "profile_points", "must be >= 2");
}

const options::Table<DropoutPathOptions>& dropout_path_table() {
  using O = DropoutPathOptions;
  static const auto t =
      options::Table<O>("DropoutPathOptions")
          .add("keep", "kept half: first-half, second-half, random, or a comma list", &O::keep)
          .add("seed", "seeds keep = random", &O::seed)
          .add("five_segments", "five segments (the end stable on the complement)",
               &O::five_segments)
          .add("check_points", "loss evaluations per segment for its check", &O::check_points)
          .add("profile_points", "grid points of the loss profiles", &O::profile_points);
  return t;
}

DropoutPathResult dropout_path(const Objective& objective, const VectorXd& theta,
                               const VectorXd& theta_end, const DropoutPathOptions& options) {
  options.validate();
  const Mlp& model = objective.model();
  if (model.n_layers() != 2)
    throw std::invalid_argument("the dropout path needs one hidden layer, got " + model.describe());
  objective.check_parameters(theta, "params");
  objective.check_parameters(theta_end, "params-end");
  const Index n = model.spec().widths[1];
  const std::vector<Index> kept = parse_keep(options.keep, n, options.seed);
  const std::vector<Index> paired = complement(n, kept);
  const double s = double(n) / double(kept.size());
  const Neurons nr(model);
  const VectorXd& a = theta;
  const VectorXd& b = theta_end;
  const Index m = Index(kept.size());

  std::vector<VectorXd> v{a};
  std::vector<SegmentKind> kinds;
  auto push = [&](SegmentKind k, VectorXd next) {
    kinds.push_back(k);
    v.push_back(std::move(next));
  };
  using K = SegmentKind;
  VectorXd x = a;  // 1: (a, W) -> (s a_A, 0_B; W)
  for (Index k = 0; k < m; ++k) {
    nr.outgoing(x, kept[k], a, kept[k], s);
    nr.outgoing(x, paired[k], a, paired[k], 0.0);
  }
  push(K::output_weights, x);
  if (!options.five_segments) {
    for (Index k = 0; k < m; ++k) nr.incoming(x, paired[k], b, kept[k]);  // 2: W_B <- W'_A
    push(K::silent_incoming, x);
    for (Index k = 0; k < m; ++k) {  // 3: outputs (s a_A, 0) -> (0, s a'_A)
      nr.outgoing(x, kept[k], b, kept[k], 0.0);
      nr.outgoing(x, paired[k], b, kept[k], s);
    }
    nr.bias_from(x, b);
    push(K::output_weights, x);
    for (Index k = 0; k < m; ++k) nr.incoming(x, kept[k], b, kept[k]);  // 4: W_A <- W'_A
    push(K::silent_incoming, x);
    for (Index k = 0; k < m; ++k) {  // 5: outputs (0, s a'_A) -> (s a'_A, 0), W_A = W_B
      nr.outgoing(x, kept[k], b, kept[k], s);
      nr.outgoing(x, paired[k], b, kept[k], 0.0);
    }
    push(K::swap, x);
    for (Index k = 0; k < m; ++k) nr.incoming(x, paired[k], b, paired[k]);  // 6: W_B <- W'_B
    push(K::silent_incoming, x);
  } else {
    for (Index k = 0; k < m; ++k) nr.incoming(x, paired[k], b, paired[k]);  // W_B <- W'_B
    push(K::silent_incoming, x);
    for (Index k = 0; k < m; ++k) {  // outputs (s a_A, 0) -> (0, s a'_B)
      nr.outgoing(x, kept[k], b, kept[k], 0.0);
      nr.outgoing(x, paired[k], b, paired[k], s);
    }
    nr.bias_from(x, b);
    push(K::output_weights, x);
    for (Index k = 0; k < m; ++k) nr.incoming(x, kept[k], b, kept[k]);  // W_A <- W'_A
    push(K::silent_incoming, x);
  }
  push(K::output_weights, b);  // last: -> (a', W')

  MatrixXd vertices(Index(v.size()), model.n_params());
  for (size_t i = 0; i < v.size(); ++i) vertices.row(Index(i)) = v[i].transpose();
  DropoutPathResult r{.path = paths::Path::polyline(std::move(vertices)),
                      .segments = kinds,
                      .kept = kept,
                      .paired = paired};
  r.segments_hold = true;
  double tolerance = 0.0, loss_max = -std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < kinds.size(); ++i) {
    r.checks.push_back(check_segment(objective, v[i], v[i + 1], kinds[i], options.check_points));
    r.segments_hold = r.segments_hold && r.checks.back().holds;
    tolerance = std::max(tolerance, r.checks.back().tolerance);
    loss_max = std::max(loss_max, r.checks.back().loss_max);
  }
  r.loss_start = objective.loss(a);
  r.loss_end = objective.loss(b);
  r.dropout_gap_start = dropout_gap(objective, a, kept);
  r.dropout_gap_end = dropout_gap(objective, b, options.five_segments ? paired : kept);
  r.bound = std::max(r.dropout_gap_start, r.dropout_gap_end);
  const paths::ProfileOptions po{.points = int(options.profile_points)};
  r.profile = paths::loss_profile(objective, r.path, po);
  r.line = paths::loss_profile(objective, paths::Path::line(a, b), po);
  loss_max = std::max(loss_max, r.profile.loss_max);
  r.excess = loss_max - std::max(r.loss_start, r.loss_end);
  r.bound_holds = r.excess <= r.bound + tolerance;
  return r;
}

io::Json to_json(const DropoutPathResult& r) {
  using io::json_number;
  io::Json segments = io::Json::array();
  for (const SegmentCheck& c : r.checks)
    segments.push_back({{"kind", std::string(to_string(c.kind))},
                        {"loss_start", json_number(c.loss_start)},
                        {"loss_end", json_number(c.loss_end)},
                        {"loss_max", json_number(c.loss_max)},
                        {"deviation", json_number(c.deviation)},
                        {"tolerance", json_number(c.tolerance)},
                        {"holds", c.holds}});
  return {{"segments", segments},
          {"segments_hold", r.segments_hold},
          {"kept", r.kept},
          {"loss_start", json_number(r.loss_start)},
          {"loss_end", json_number(r.loss_end)},
          {"dropout_gap_start", json_number(r.dropout_gap_start)},
          {"dropout_gap_end", json_number(r.dropout_gap_end)},
          {"bound", json_number(r.bound)},
          {"excess", json_number(r.excess)},
          {"bound_holds", r.bound_holds},
          {"line_barrier", json_number(r.line.barriers.above_larger_end)},
          {"profile", paths::to_json(r.profile)},
          {"line", paths::to_json(r.line)}};
}

std::string summary(const DropoutPathResult& r) {
  using io::format_number;
  std::string s = "dropout path: " + std::to_string(r.checks.size()) + " segments, kept " +
                  std::to_string(r.kept.size()) + " of " +
                  std::to_string(r.kept.size() + r.paired.size()) + " neurons\n";
  for (size_t i = 0; i < r.checks.size(); ++i) {
    const SegmentCheck& c = r.checks[i];
    s += "  " + std::to_string(i + 1) + " " + std::string(to_string(c.kind)) + ": L " +
         format_number(c.loss_start) + " -> " + format_number(c.loss_end) + ", max " +
         format_number(c.loss_max) + ", deviation " + format_number(c.deviation) +
         " <= " + format_number(c.tolerance) + (c.holds ? " holds" : " FAILS") + "\n";
  }
  s += "excess over the larger end " + format_number(r.excess) + (r.bound_holds ? " <= " : " > ") +
       "bound max(eps_D) = " + format_number(r.bound) + " (eps_D " +
       format_number(r.dropout_gap_start) + ", " + format_number(r.dropout_gap_end) + ")\n";
  s += "straight line: barrier " + format_number(r.line.barriers.above_larger_end) + "\n";
  return s;
}

}  // namespace locus::dropout
