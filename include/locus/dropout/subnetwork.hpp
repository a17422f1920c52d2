#pragma once
// Dropout subnetworks and dropout stability (Shevchenko & Mondelli 2020; Kuditipudi et al. 2019).
//
//   locus::Mlp model({.widths = {10, 400, 1}, .activation = locus::Activation::tanh,
//                     .bias = {false, false}, .mean_field = true});
//   auto kept = locus::dropout::half_keep_set(400, locus::dropout::KeepRule::first_half);
//   Eigen::VectorXd theta_A = locus::dropout::dropout_parameters(model, theta, kept);
//   // f_{theta_A}(x) = (1/N) sum_{i in A} (N/M) a_i sigma(w_i . x): the M-neuron mean-field net
//   auto e = locus::dropout::dropout_error(objective, theta, {.kept = 200, .samples = 20});
//
// The subnetwork on a kept set A (|A| = M) of hidden layer K keeps the neurons of A, multiplies
// their outgoing weights by h_K / M and zeroes the outgoing weights of the others. It is stored in
// the parameter layout of the full network (the dropped neurons stay, silent), so that it can be
// evaluated by the same Objective and joined to the full network by a path. For a mean-field net
// (output scale 1/N) this is exactly the M-neuron mean-field net of the kept neurons. theta is
// eps_D-dropout stable on A when |L_N(theta) - L_M(theta_A)| <= eps_D; Shevchenko & Mondelli bound
// eps_D by C sqrt(log M / M) for SGD solutions in the mean-field regime.

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "locus/core/mlp.hpp"
#include "locus/core/objective.hpp"
#include "locus/core/options.hpp"
#include "locus/core/progress.hpp"
#include "locus/io/json.hpp"

namespace locus::dropout {

// How the kept half of a layer of even width N is chosen.
enum class KeepRule {
  first_half,   // A = {0, ..., N/2 - 1}
  second_half,  // A = {N/2, ..., N - 1}
  random,       // a seeded uniformly random half, sorted
};
std::string_view to_string(KeepRule r);  // "first-half", "second-half", "random"
// Inverse of to_string (also accepts '_' for '-'); std::invalid_argument listing the names.
KeepRule parse_keep_rule(std::string_view name);

// The kept half of [0, n) by `rule` (seed used by KeepRule::random only). Throws
// std::invalid_argument when n is odd or < 2 ("N = 5 is odd: a half split needs an even width").
std::vector<Index> half_keep_set(Index n, KeepRule rule, std::uint64_t seed = 0);
// A uniformly random m-subset of [0, n), sorted (seeded partial Fisher-Yates). O(n). Throws
// std::invalid_argument unless 1 <= m <= n.
std::vector<Index> random_keep_set(Index n, Index m, std::uint64_t seed);
// The complement of `kept` in [0, n), sorted. Throws as check_keep_set.
std::vector<Index> complement(Index n, const std::vector<Index>& kept);
// Throws std::invalid_argument naming the entry unless kept is non-empty, every entry is in
// [0, n) ("keep set entry 12 is out of range 0..9") and no entry repeats.
void check_keep_set(Index n, const std::vector<Index>& kept);

// theta_A: theta with the outgoing weights of the neurons of hidden layer `layer` (1..L; 0 means
// the last hidden layer L) multiplied by h_K / |A| for the kept neurons and set to 0 for the
// others; everything else unchanged. O(n). Throws std::invalid_argument for a bad layer, theta or
// keep set (check_keep_set).
Eigen::VectorXd dropout_parameters(const Mlp& model, const Eigen::VectorXd& theta,
                                   const std::vector<Index>& kept, int layer = 0);

// Dropout in several hidden layers at once (Kuditipudi et al. 2019, section 3): kept[K-1] is the
// keep set A_K of hidden layer K (one entry per hidden layer; an empty entry leaves layer K
// whole). Every layer K with a keep set keeps A_K, multiplies the outgoing weights of its neurons
// by h_K / |A_K| and zeroes the others' (dropout_parameters layer by layer: layer K's dropout
// touches only W_{K+1}, so the layers commute). For a mean-field net in the stored form of
// mean_field_sgd.hpp this is the mean-field net of widths |A_1|, ..., |A_L|. O(n). Throws
// std::invalid_argument when kept.size() != L or for a bad keep set or theta.
Eigen::VectorXd dropout_layers(const Mlp& model, const Eigen::VectorXd& theta,
                               const std::vector<std::vector<Index>>& kept);

// eps_D(theta; A) = |L_N(theta) - L_M(theta_A)| for the objective's loss. Cost: two losses.
double dropout_gap(const Objective& objective, const Eigen::VectorXd& theta,
                   const std::vector<Index>& kept, int layer = 0);

// Options of dropout_error.
struct DropoutErrorOptions {
  std::int64_t kept = 0;      // M, the neurons kept; 0 means h_K / 2
  std::int64_t samples = 20;  // random keep sets A averaged over
  std::uint64_t seed = 0;     // seeds the keep sets (sample s uses seed + s)
  std::int64_t layer = 0;     // hidden layer K (1..L); 0 = the last hidden layer
  // Drop in every hidden layer at once (dropout_layers): layer K keeps round(M h_K / h_L) >= 1
  // random neurons (M of h_L in the last); width and kept below then describe the last layer.
  bool every_layer = false;

  // Throws options::OptionError naming the field: kept < 0, samples < 1, layer < 0, layer != 0
  // with every_layer; io::MemoryLimitError ("DropoutErrorOptions.samples = ...") when the gaps of
  // `samples` keep sets would exceed the memory limit.
  void validate() const;
};
const options::Table<DropoutErrorOptions>& dropout_error_table();

// The dropout error of theta at one M, over random keep sets.
struct DropoutError {
  Index width = 0;                  // h_K
  Index kept = 0;                   // M
  double loss_full = NAN;           // L_N(theta)
  Eigen::VectorXd losses_kept;      // L_M(theta_A) for each sampled A
  Eigen::VectorXd gaps;             // |L_N(theta) - L_M(theta_A)| for each sampled A
  double gap_mean = NAN;            // their mean
  double gap_standard_error = NAN;  // sample standard deviation / sqrt(samples) (0 for 1 sample)
  double gap_max = NAN;
  double loss_kept_mean = NAN;  // mean of L_M(theta_A)
};
// Draws options.samples random keep sets of size M in hidden layer K and evaluates the gap on
// each. Cost: samples + 1 loss evaluations. Throws std::invalid_argument for invalid options,
// M > h_K, or a theta of the wrong length. progress gets "dropout draws" with the keep sets
// evaluated out of samples and the last L_M after each.
DropoutError dropout_error(const Objective& objective, const Eigen::VectorXd& theta,
                           const DropoutErrorOptions& options = {},
                           const ProgressCallback& progress = {});

// {"width", "kept", "loss_full", "gap_mean", "gap_standard_error", "gap_max", "loss_kept_mean",
//  "gaps": [...], "losses_kept": [...]}.
io::Json to_json(const DropoutError& e);
// "dropout error at M = 200 of N = 400: 1.2e-04 +- 1.1e-05 (20 keep sets, max 3.0e-04); L_N = ..."
std::string summary(const DropoutError& e);

}  // namespace locus::dropout
