#include "locus/dropout/dropout_path.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "locus/dropout/subnetwork.hpp"
#include "locus/io/format.hpp"
#include "locus/io/memory.hpp"
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

// Copies and writes of the weights of the neurons of hidden layer K.
struct Neurons {
  const Mlp& model;
  std::vector<transforms::NeuronIndices> at;
  std::vector<Index> output_bias;

  Neurons(const Mlp& m, int layer) : model(m) {
    for (Index j = 0; j < m.spec().widths[size_t(layer)]; ++j)
      at.push_back(transforms::neuron_indices(m, {layer, j}));
    const LayerSlice& out = m.layer(m.n_layers() - 1);
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

// The vertices of the 15-segment path of a net with two hidden layers (the header's table), with
// keep sets A1, A2 and their paired complements B1, B2; s_K = h_K / |A_K|.
struct ThreeLayerPath {
  std::vector<VectorXd> v;
  std::vector<SegmentKind> kinds;
};
ThreeLayerPath three_layer_vertices(const Mlp& model, const VectorXd& a, const VectorXd& b,
                                    const std::vector<Index>& a1, const std::vector<Index>& b1,
                                    const std::vector<Index>& a2, const std::vector<Index>& b2) {
  const Neurons l1(model, 1), l2(model, 2);
  const Index n1 = model.spec().widths[1], m1 = Index(a1.size()), m2 = Index(a2.size());
  const double s1 = double(n1) / double(m1), s2 = double(model.spec().widths[2]) / double(m2);
  const LayerSlice& middle = model.layer(1);
  // Row j of W_2 in x becomes row k of src dropped in layer 1 (its A1 entries times s1), placed
  // on the columns A1 (on_a) or on the paired columns B1, zero on the others; bias b_2[k].
  auto dropped_row = [&](VectorXd& x, Index j, const VectorXd& src, Index k, bool on_a) {
    const Index to = middle.weight_offset + j * n1, from = middle.weight_offset + k * n1;
    for (Index q = 0; q < m1; ++q) {
      x(to + (on_a ? a1 : b1)[q]) = s1 * src(from + a1[q]);
      x(to + (on_a ? b1 : a1)[q]) = 0.0;
    }
    if (middle.bias_offset >= 0) x(middle.bias_offset + j) = src(middle.bias_offset + k);
  };
  // The output columns: A2 gets s2 times src's A2 columns (to_a) or 0, B2 the other.
  auto outputs = [&](VectorXd& x, const VectorXd& src, bool to_a) {
    for (Index q = 0; q < m2; ++q) {
      l2.outgoing(x, a2[q], src, a2[q], to_a ? s2 : 0.0);
      l2.outgoing(x, b2[q], src, a2[q], to_a ? 0.0 : s2);
    }
  };
  ThreeLayerPath p{.v = {a}};
  auto push = [&](SegmentKind k, const VectorXd& next) {
    p.kinds.push_back(k);
    p.v.push_back(next);
  };
  using K = SegmentKind;
  VectorXd x = a;
  outputs(x, a, true);  // 1: theta -> theta^(2) (layer 2 dropped)
  push(K::output_weights, x);
  for (Index q = 0; q < m2; ++q) dropped_row(x, b2[q], a, a2[q], true);  // 2: rows B2
  push(K::silent_incoming, x);
  outputs(x, a, false);  // 3: -> theta^(1,2), carried by B2 reading A1
  push(K::output_weights, x);
  for (Index q = 0; q < m1; ++q) l1.incoming(x, b1[q], b, a1[q]);  // 4: W1_B1 <- W1'_A1
  push(K::silent_incoming, x);
  for (Index q = 0; q < m2; ++q) dropped_row(x, a2[q], b, a2[q], false);  // 5: rows A2 read B1
  push(K::silent_incoming, x);
  outputs(x, b, true);  // 6: -> theta'^(1,2), carried by A2 reading B1
  l2.bias_from(x, b);
  push(K::output_weights, x);
  for (Index q = 0; q < m1; ++q) l1.incoming(x, a1[q], b, a1[q]);  // 7: W1_A1 <- W1'_A1
  push(K::silent_incoming, x);
  for (Index q = 0; q < m2; ++q) dropped_row(x, a2[q], b, a2[q], true);  // 8: B1 -> A1 copies
  push(K::swap, x);
  for (Index q = 0; q < m1; ++q) l1.incoming(x, b1[q], b, b1[q]);  // 9: W1_B1 <- W1'_B1
  push(K::silent_incoming, x);
  for (Index q = 0; q < m2; ++q) dropped_row(x, b2[q], b, a2[q], true);  // 10: rows B2 = rows A2
  push(K::silent_incoming, x);
  outputs(x, b, false);  // 11: outputs A2 -> their copies B2
  push(K::swap, x);
  for (Index q = 0; q < m2; ++q) l2.incoming(x, a2[q], b, a2[q]);  // 12: rows A2 <- W2'_A2
  push(K::silent_incoming, x);
  outputs(x, b, true);  // 13: -> theta'^(2)
  push(K::output_weights, x);
  for (Index q = 0; q < m2; ++q) l2.incoming(x, b2[q], b, b2[q]);  // 14: rows B2 <- W2'_B2
  push(K::silent_incoming, x);
  push(K::output_weights, b);  // 15: -> theta'
  return p;
}

// The polyline through v, each segment checked, the excess against
// bound = max of the dropout gaps (gaps[0]: theta's, gaps[1]: theta_end's), both profiles.
DropoutPathResult evaluate_path(const Objective& objective, const std::vector<VectorXd>& v,
                                const std::vector<SegmentKind>& kinds,
                                const std::array<double, 2>& gaps,
                                const std::array<std::vector<Index>, 4>& keep,
                                const DropoutPathOptions& options,
                                const ProgressCallback& progress) {
  const VectorXd& a = v.front();
  const VectorXd& b = v.back();
  MatrixXd vertices(Index(v.size()), a.size());
  for (size_t i = 0; i < v.size(); ++i) vertices.row(Index(i)) = v[i].transpose();
  DropoutPathResult r{.path = paths::Path::polyline(std::move(vertices)),
                      .segments = kinds,
                      .kept = keep[0],
                      .paired = keep[1],
                      .kept_lower = keep[2],
                      .paired_lower = keep[3]};
  r.segments_hold = true;
  double tolerance = 0.0, loss_max = -std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < kinds.size(); ++i) {
    r.checks.push_back(check_segment(objective, v[i], v[i + 1], kinds[i], options.check_points));
    r.segments_hold = r.segments_hold && r.checks.back().holds;
    tolerance = std::max(tolerance, r.checks.back().tolerance);
    loss_max = std::max(loss_max, r.checks.back().loss_max);
    report_progress(
        progress,
        {.stage = "segment checks", .done = (long long)i + 1, .total = (long long)kinds.size()});
  }
  r.loss_start = objective.loss(a);
  r.loss_end = objective.loss(b);
  r.dropout_gap_start = gaps[0];
  r.dropout_gap_end = gaps[1];
  r.bound = std::max(r.dropout_gap_start, r.dropout_gap_end);
  const paths::ProfileOptions po{.points = int(options.profile_points)};
  r.profile = paths::loss_profile(objective, r.path, po, progress);
  r.line = paths::loss_profile(objective, paths::Path::line(a, b), po, progress);
  loss_max = std::max(loss_max, r.profile.loss_max);
  r.excess = loss_max - std::max(r.loss_start, r.loss_end);
  r.bound_holds = r.excess <= r.bound + tolerance;
  return r;
}

// Two hidden layers: the same keep rule in both (keep = random: seeds seed and seed + 1), the
// bound over dropping layers 2 and 1..2 of either end.
DropoutPathResult dropout_path_two_hidden(const Objective& objective, const VectorXd& theta,
                                          const VectorXd& theta_end,
                                          const DropoutPathOptions& options,
                                          const ProgressCallback& progress) {
  const Mlp& model = objective.model();
  if (options.five_segments)
    throw std::invalid_argument(
        "five_segments: the five-segment path needs one hidden layer, got " + model.describe());
  const auto a1 = parse_keep(options.keep, model.spec().widths[1], options.seed);
  const auto a2 = parse_keep(options.keep, model.spec().widths[2], options.seed + 1);
  const auto b1 = complement(model.spec().widths[1], a1);
  const auto b2 = complement(model.spec().widths[2], a2);
  const ThreeLayerPath p = three_layer_vertices(model, theta, theta_end, a1, b1, a2, b2);
  // eps_D of dropping layers i..L (Kuditipudi et al.): layer 2 alone, and layers 1 and 2.
  auto gap = [&](const VectorXd& t) {
    const double loss = objective.loss(t);
    return std::max(std::abs(objective.loss(dropout_layers(model, t, {{}, a2})) - loss),
                    std::abs(objective.loss(dropout_layers(model, t, {a1, a2})) - loss));
  };
  return evaluate_path(objective, p.v, p.kinds, {gap(theta), gap(theta_end)}, {a2, b2, a1, b1},
                       options, progress);
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
  // The profiles take an int grid size (paths::ProfileOptions::points): no silent narrowing.
  if (profile_points > std::numeric_limits<int>::max())
    throw OptionError(owner, "profile_points",
                      "must be <= " + std::to_string(std::numeric_limits<int>::max()) + ", got " +
                          std::to_string(profile_points));
  io::check_memory(8.0 * double(check_points),
                   std::string(owner) + ".check_points = " + std::to_string(check_points),
                   "a loss per point of a segment");
  io::check_memory(32.0 * double(profile_points),
                   std::string(owner) + ".profile_points = " + std::to_string(profile_points),
                   "the grid and the (t, loss) samples of a profile");
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
                               const VectorXd& theta_end, const DropoutPathOptions& options,
                               const ProgressCallback& progress) {
  options.validate();
  const Mlp& model = objective.model();
  if (model.n_layers() != 2 && model.n_layers() != 3)
    throw std::invalid_argument("the dropout path needs one or two hidden layers, got " +
                                model.describe());
  objective.check_parameters(theta, "params");
  objective.check_parameters(theta_end, "params-end");
  if (model.n_layers() == 3)
    return dropout_path_two_hidden(objective, theta, theta_end, options, progress);
  const Index n = model.spec().widths[1];
  const std::vector<Index> kept = parse_keep(options.keep, n, options.seed);
  const std::vector<Index> paired = complement(n, kept);
  const double s = double(n) / double(kept.size());
  const Neurons nr(model, 1);
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

  return evaluate_path(objective, v, kinds,
                       {{dropout_gap(objective, a, kept),
                         dropout_gap(objective, b, options.five_segments ? paired : kept)}},
                       {kept, paired, {}, {}}, options, progress);
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
          {"kept_lower", r.kept_lower},
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
