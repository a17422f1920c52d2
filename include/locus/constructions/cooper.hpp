#pragma once
// Cooper's memorizing networks: explicit parameters that fit d distinct points exactly
// (Cooper, "The loss landscape of overparameterized neural networks", Lemma 3.3 and Cor 3.4,
// with the corrections listed in PAPERS.md §1).
//
//   namespace lc = locus::constructions;
//   locus::Dataset data = ...;                                // distinct rows x_i
//   lc::CooperConstruction c = lc::construct_cooper(data, {.depth = 2});  // smooLU by default
//   if (!c.ok()) throw std::runtime_error(c.message);
//   locus::Mlp model(c.spec);
//   locus::Objective obj(model, data);
//   double L = obj.loss(c.theta);                             // ~1e-27: f(x_i) = y_i
//
// One hidden layer (Lemma 3.3): f(x) = sum_j m_j sigma(a.x - b_j). A direction a with distinct
// projections a.x_i is drawn (seeded; the best of several tries), the points are sorted by
// projection, a is rescaled so that the smallest projected gap equals min_gap (correction 3),
// b_j lies between consecutive projections (Cooper: the midpoint; by default a quarter of the way
// from a.x_{j-1}, see kink_fraction), and A_ij = sigma(a.x_i - b_j) is lower triangular with
// A_ii = sigma((1 - kink_fraction) gap) > 0, so M = A^{-1} Y
// (forward substitution; one column per output, sharing the hidden layer: correction 4).
// In locus's layer form sigma(W x + b): hidden row j has W_j = a and bias -b_j, the output
// layer has weights M^T and bias 0; hidden units j >= d have all parameters 0.
//
// Deep (Cor 3.4, working form): hidden layer 1 carries v_i = sigma(a.x_i - s_min + offset) in its
// first unit; each further chain layer passes unit 1 on with weight 1 and bias offset - min_i v_i,
// so every pre-activation lies in [offset, offset + spread] where smooLU is nearly linear
// (smoolu'(10) = 0.995) and the values stay positive and distinct; the last hidden layer is the
// Lemma-3.3 layer applied to z_i = c v_i (c > 0 rescales the smallest gap of z to min_gap).
// The literal Cor 3.4 as printed (unit-1-only chain layers with weight 1 and bias 0, and a last
// hidden layer whose weight matrix is 1 in the top-left entry only) is available as
// CooperVariant::literal so that its failure for d >= 2 can be shown: only one unit of the last
// hidden layer receives signal, so A has rank 1 and the output weights are a least-squares fit.

#include <Eigen/Core>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "locus/core/activation.hpp"
#include "locus/core/dataset.hpp"
#include "locus/core/mlp.hpp"
#include "locus/core/options.hpp"
#include "locus/io/json.hpp"

namespace locus::constructions {

enum class CooperVariant {
  working,  // Cor 3.4 in its working form (the default; identical to Lemma 3.3 for depth 1)
  literal,  // Cor 3.4 exactly as printed: fails for d >= 2 and depth >= 2 (see above)
};
std::string_view to_string(CooperVariant v);
// Parses "working" / "literal"; throws std::invalid_argument listing both otherwise.
CooperVariant parse_cooper_variant(std::string_view name);

struct CooperOptions {
  // A strictly increasing rectified activation (Cooper Def 3.1 with correction 2): relu or smoolu.
  Activation activation = Activation::smoolu;
  // Number of hidden layers T >= 1 (ignored when hidden_widths is given).
  int depth = 1;
  // Width of every hidden layer (ignored when hidden_widths is given); unset: d, the data size.
  std::optional<Index> width{};
  // Explicit hidden widths [h_1, ..., h_T]; the last must be >= d. Empty: depth x width.
  std::vector<Index> hidden_widths{};
  CooperVariant variant = CooperVariant::working;
  // Seeds the random directions a (the same seed gives the same network on every machine).
  std::uint64_t seed = 0;
  // Random directions tried; the one with the largest (smallest gap / spread) of the projections
  // is kept, which keeps cond(A) and the round-off of the forward pass small.
  int direction_trials = 16;
  // Smallest gap between consecutive sorted projections after rescaling (correction 3).
  double min_gap = 2.0;
  // Where unit j's kink sits between consecutive sorted values: b_j = z_(j-1) + kink_fraction *
  // (z_(j) - z_(j-1)), and b_1 = z_(1) - (1 - kink_fraction) min_gap. Cooper uses midpoints (0.5).
  // For equally spaced z, A is Toeplitz with symbol C(x) = sum_k sigma((k + 1 - kink_fraction) g)
  // x^k; with relu its zero is at x = -(1 - kink_fraction) / kink_fraction: on the unit circle
  // for midpoints (A^{-1} does not decay), inside it for smooLU (A^{-1} grows geometrically:
  // cond(A) ~ 1e17 and residual ~ 1e-3 at d = 200), outside for kink_fraction < 0.5
  // (A^{-1} decays like 3^-k for 0.25: cond(A) ~ 1e7, residual ~ 1e-12 at d = 200).
  // The diagonal is A_jj = sigma((1 - kink_fraction) gap_j) >= smoolu(1.5) = 0.77 by default.
  double kink_fraction = 0.25;
  // Deep networks: every chain pre-activation lies in [chain_offset, chain_offset + spread].
  // smoolu'(t) = e^{-1/t}(1 + 1/t) -> 1: at t = 10 a gap shrinks by at most 0.5% per layer.
  double chain_offset = 10.0;
  // Iterative refinement of the output weights: M -= A^{-1} R with R the residuals of the real
  // forward pass: removes the difference between A and the hidden values the network computes
  // (its GEMMs and vectorised activations round differently), down to the output layer's own
  // rounding eps * sum_j |m_j sigma(z_ij)|.
  int refinement_steps = 2;
  // Status ok requires max_ij |f(x_i)_j - y_ij| <= residual_tolerance * max_ij |y_ij|
  // (issue 6, acceptance 1).
  double residual_tolerance = 1e-9;

  // Throws std::invalid_argument naming the offending field and its value.
  void validate() const;
};

enum class ConstructionStatus {
  ok,                        // constructed; residual within tolerance
  projections_not_distinct,  // no tried direction separated the a.x_i above round-off
  chain_not_distinct,        // the chain values z_i entering the last hidden layer collapsed
  residual_too_large,        // built, but max |residual| > residual_tolerance * max |y| (literal)
};
std::string_view to_string(ConstructionStatus s);

struct CooperConstruction {
  ConstructionStatus status = ConstructionStatus::ok;
  std::string message;    // one sentence: what was built, or which check failed with its numbers
  MlpSpec spec;           // [p, h_1, ..., h_T, l], activation, biases on every layer
  Eigen::VectorXd theta;  // in Mlp's flat layout (W row-major, then b, layer by layer)
  Index n_params = 0;     // h_1 (p + 1) + sum_{t>=2} h_t (h_{t-1} + 1) + l (h_T + 1)
  // max_ij |f(x_i)_j - y_ij| through the network's own forward pass (Objective::residuals).
  double max_abs_residual = 0.0;
  double max_abs_target = 0.0;  // max_ij |y_ij|
  double residual_bound = 0.0;  // residual_tolerance * max_abs_target: status ok needs <= this
  double loss = 0.0;            // sum of squared residuals
  // cond_1(A) = |A|_1 |A^{-1}|_1 of the d x d matrix A_ij = sigma(z_i - b_j) (exact triangular
  // inverse); +inf when A is singular (literal variant).
  double cond_A = 0.0;
  Index rank_A = 0;  // numerical rank of A (d for the working variant)
  // Projections onto the rescaled direction a (sorted order of the points = order below).
  Eigen::VectorXd direction;             // a (length p), rescaled
  std::vector<Index> order;              // data indices sorted by a.x_i (increasing)
  double projection_gap_min = 0.0;       // smallest gap of the sorted a.x_i after rescaling
  double projection_gap_relative = 0.0;  // smallest gap / (max - min), scale free
  // Deep: smallest gap of the z_i = c v_i entering the last hidden layer (= projection gap for
  // depth 1), and the last-layer weight c.
  double chain_gap_min = 0.0;
  double chain_weight = 1.0;
  int direction_trials_used = 0;

  bool ok() const { return status == ConstructionStatus::ok; }
};

// Builds Cooper's memorizing network for data (squared loss, every layer with a bias, output
// bias 0). Cost: O(trials d p + d log d) for the direction, O(d^2 l) for the forward
// substitution, O(d^3 / 3) for cond(A), and (1 + refinement_steps) forward passes.
// Throws std::invalid_argument on invalid options, invalid data, duplicate inputs (naming the
// two equal rows), a non-rectified activation (naming it), or a last hidden width < d.
// Numerical failures (projections or chain values not distinct in float64, residual above
// tolerance) are reported in status and message; theta is still filled in (all zero when
// no direction separated the points).
CooperConstruction construct_cooper(const Dataset& data, const CooperOptions& options = {});

// The field table of CooperOptions (rows named as the members; hidden_widths, a list, is not a
// row: the CLI builds depth x width networks, Python passes hidden_widths= separately): `locus
// construct cooper`'s flags, Python's construct_cooper keywords and the "cooper" block of the JSON
// context. width is optional: "none" (CLI), None (Python), null (JSON) mean d.
const options::Table<CooperOptions>& cooper_table();

// {"status", "message", "architecture": {"widths", "activation", "bias"}, "n_params",
//  "max_abs_residual", "max_abs_target", "residual_tolerance" (the absolute bound), "loss",
//  "cond_A", "rank_A", "projection_gap_min", "projection_gap_relative", "chain_gap_min",
//  "chain_weight", "direction_trials_used", "direction", "order"}; inf as io::json_number.
io::Json to_json(const CooperConstruction& c);
// "cooper: ok: <message>", then the residual beside its bound, cond(A), rank A and the gap.
std::string summary(const CooperConstruction& c);

}  // namespace locus::constructions
