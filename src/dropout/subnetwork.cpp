#include "locus/dropout/subnetwork.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <stdexcept>

#include "locus/core/random.hpp"
#include "locus/io/format.hpp"
#include "locus/io/json_numbers.hpp"
#include "locus/io/memory.hpp"
#include "locus/transforms/surgery.hpp"

namespace locus::dropout {

using Eigen::VectorXd;
using options::OptionError;

std::string_view to_string(KeepRule r) {
  switch (r) {
    case KeepRule::first_half:
      return "first-half";
    case KeepRule::second_half:
      return "second-half";
    case KeepRule::random:
      return "random";
  }
  return "?";
}

KeepRule parse_keep_rule(std::string_view name) {
  std::string s(name);
  std::replace(s.begin(), s.end(), '_', '-');
  for (KeepRule r : {KeepRule::first_half, KeepRule::second_half, KeepRule::random})
    if (s == to_string(r)) return r;
  throw std::invalid_argument("unknown keep rule '" + std::string(name) +
                              "' (first-half, second-half, random)");
}

std::vector<Index> half_keep_set(Index n, KeepRule rule, std::uint64_t seed) {
  if (n < 2 || n % 2 != 0)
    throw std::invalid_argument("N = " + std::to_string(n) +
                                " is odd: a half split needs an even width");
  std::vector<Index> kept(static_cast<size_t>(n / 2));
  switch (rule) {
    case KeepRule::first_half:
      std::iota(kept.begin(), kept.end(), Index(0));
      return kept;
    case KeepRule::second_half:
      std::iota(kept.begin(), kept.end(), n / 2);
      return kept;
    case KeepRule::random:
      break;
  }
  return random_keep_set(n, n / 2, seed);
}

std::vector<Index> random_keep_set(Index n, Index m, std::uint64_t seed) {
  if (m < 1 || m > n)
    throw std::invalid_argument("keep set size M = " + std::to_string(m) + " is not in 1.." +
                                std::to_string(n));
  // The first m entries of a partial Fisher-Yates: a uniform m-subset, the same on every platform.
  std::vector<Index> p = Rng(seed).partial_permutation(n, m);
  std::sort(p.begin(), p.end());
  return p;
}

void check_keep_set(Index n, const std::vector<Index>& kept) {
  if (kept.empty()) throw std::invalid_argument("keep set is empty");
  std::vector<bool> seen(static_cast<size_t>(n), false);
  for (Index k : kept) {
    if (k < 0 || k >= n)
      throw std::invalid_argument("keep set entry " + std::to_string(k) + " is out of range 0.." +
                                  std::to_string(n - 1));
    if (seen[size_t(k)])
      throw std::invalid_argument("keep set entry " + std::to_string(k) + " repeats");
    seen[size_t(k)] = true;
  }
}

std::vector<Index> complement(Index n, const std::vector<Index>& kept) {
  check_keep_set(n, kept);
  std::vector<bool> in(static_cast<size_t>(n), false);
  for (Index k : kept) in[size_t(k)] = true;
  std::vector<Index> rest;
  for (Index i = 0; i < n; ++i)
    if (!in[size_t(i)]) rest.push_back(i);
  return rest;
}

VectorXd dropout_parameters(const Mlp& model, const VectorXd& theta, const std::vector<Index>& kept,
                            int layer) {
  model.check_parameters(theta);
  const int hidden = model.n_layers() - 1;
  if (layer == 0) layer = hidden;
  transforms::check_hidden_layer(model, layer);
  const Index h = model.spec().widths[size_t(layer)];
  check_keep_set(h, kept);
  std::vector<bool> in(static_cast<size_t>(h), false);
  for (Index k : kept) in[size_t(k)] = true;
  const double scale = double(h) / double(kept.size());
  VectorXd out = theta;
  for (Index j = 0; j < h; ++j)
    for (Index i : transforms::neuron_indices(model, {layer, j}).outgoing)
      out(i) = in[size_t(j)] ? scale * theta(i) : 0.0;
  return out;
}

VectorXd dropout_layers(const Mlp& model, const VectorXd& theta,
                        const std::vector<std::vector<Index>>& kept) {
  model.check_parameters(theta);
  const int hidden = model.n_layers() - 1;
  if (int(kept.size()) != hidden)
    throw std::invalid_argument("one keep set per hidden layer: got " +
                                std::to_string(kept.size()) + " for " + std::to_string(hidden) +
                                " hidden layers of " + model.describe());
  VectorXd out = theta;  // layer K's dropout touches only W_{K+1}'s columns: the order is free
  for (int k = 1; k <= hidden; ++k)
    if (!kept[size_t(k - 1)].empty()) out = dropout_parameters(model, out, kept[size_t(k - 1)], k);
  return out;
}

double dropout_gap(const Objective& objective, const VectorXd& theta,
                   const std::vector<Index>& kept, int layer) {
  return std::abs(objective.loss(theta) -
                  objective.loss(dropout_parameters(objective.model(), theta, kept, layer)));
}

void DropoutErrorOptions::validate() const {
  constexpr const char* owner = "DropoutErrorOptions";
  if (kept < 0) throw OptionError(owner, "kept", "must be >= 0 (0: half the width)");
  if (samples < 1) throw OptionError(owner, "samples", "must be >= 1");
  // dropout_error keeps a gap and a loss per keep set.
  io::check_memory(16.0 * double(samples),
                   std::string(owner) + ".samples = " + std::to_string(samples),
                   "a gap and a loss per keep set");
  if (layer < 0) throw OptionError(owner, "layer", "must be >= 0 (0: the last hidden layer)");
  if (every_layer && layer != 0)
    throw OptionError(owner, "layer", "must be 0 with every_layer (every hidden layer drops)");
}

const options::Table<DropoutErrorOptions>& dropout_error_table() {
  using O = DropoutErrorOptions;
  static const auto t =
      options::Table<O>("DropoutErrorOptions")
          .add("kept", "neurons kept M (0: half the width)", &O::kept)
          .add("samples", "random keep sets averaged over", &O::samples)
          .add("seed", "seeds the keep sets", &O::seed)
          .add("layer", "hidden layer (1..L; 0: the last)", &O::layer)
          .add("every_layer", "drop in every hidden layer K, keeping M h_K / h_L (rounded)",
               &O::every_layer);
  return t;
}

DropoutError dropout_error(const Objective& objective, const VectorXd& theta,
                           const DropoutErrorOptions& options, const ProgressCallback& progress) {
  options.validate();
  const Mlp& model = objective.model();
  objective.check_parameters(theta, "params");
  const int layer = options.layer == 0 ? model.n_layers() - 1 : int(options.layer);
  transforms::check_hidden_layer(model, layer);
  DropoutError e;
  e.width = model.spec().widths[size_t(layer)];
  e.kept = options.kept == 0 ? e.width / 2 : Index(options.kept);
  if (e.kept < 1 || e.kept > e.width)
    throw std::invalid_argument("kept = " + std::to_string(e.kept) + " is not in 1.." +
                                std::to_string(e.width));
  e.loss_full = objective.loss(theta);
  e.gaps.resize(options.samples);
  e.losses_kept.resize(options.samples);
  // every_layer: layer K keeps round(M h_K / h_L) >= 1 neurons, drawn from seed + s + K * 2^32.
  std::vector<Index> kept_k(size_t(model.n_layers() - 1), e.kept);
  if (options.every_layer)
    for (int k = 1; k < model.n_layers(); ++k)
      kept_k[size_t(k - 1)] = std::max<Index>(
          1, std::llround(double(e.kept) * double(model.spec().widths[size_t(k)]) / e.width));
  for (Index s = 0; s < options.samples; ++s) {
    const std::uint64_t seed = options.seed + std::uint64_t(s);
    VectorXd theta_kept;
    if (options.every_layer) {
      std::vector<std::vector<Index>> sets;
      for (int k = 1; k < model.n_layers(); ++k)
        sets.push_back(random_keep_set(model.spec().widths[size_t(k)], kept_k[size_t(k - 1)],
                                       seed + (std::uint64_t(k - 1) << 32)));
      theta_kept = dropout_layers(model, theta, sets);
    } else {
      theta_kept = dropout_parameters(model, theta, random_keep_set(e.width, e.kept, seed), layer);
    }
    const double loss = objective.loss(theta_kept);
    e.losses_kept(s) = loss;
    e.gaps(s) = std::abs(loss - e.loss_full);
    report_progress(
        progress,
        {.stage = "dropout draws", .done = s + 1, .total = options.samples, .loss = loss});
  }
  const double n = double(options.samples);
  e.gap_mean = e.gaps.mean();
  e.loss_kept_mean = e.losses_kept.mean();
  e.gap_max = e.gaps.maxCoeff();
  e.gap_standard_error =
      n > 1 ? std::sqrt((e.gaps.array() - e.gap_mean).square().sum() / (n - 1) / n) : 0.0;
  return e;
}

io::Json to_json(const DropoutError& e) {
  return {{"width", e.width},
          {"kept", e.kept},
          {"loss_full", io::json_number(e.loss_full)},
          {"gap_mean", io::json_number(e.gap_mean)},
          {"gap_standard_error", io::json_number(e.gap_standard_error)},
          {"gap_max", io::json_number(e.gap_max)},
          {"loss_kept_mean", io::json_number(e.loss_kept_mean)},
          {"gaps", io::json_numbers(e.gaps)},
          {"losses_kept", io::json_numbers(e.losses_kept)}};
}

std::string summary(const DropoutError& e) {
  using io::format_number;
  return "dropout error at M = " + std::to_string(e.kept) + " of N = " + std::to_string(e.width) +
         ": " + format_number(e.gap_mean) + " +- " + format_number(e.gap_standard_error) + " (" +
         std::to_string(e.gaps.size()) + " keep sets, max " + format_number(e.gap_max) +
         ")\nL_N = " + format_number(e.loss_full) +
         ", mean L_M over the keep sets = " + format_number(e.loss_kept_mean) + "\n";
}

}  // namespace locus::dropout
