#pragma once
// Split critical points (Simsek et al. 2021, Fukumizu & Amari 2000): splitting a neuron of a
// critical point of a width-r network into k copies whose outgoing weights are fractions f_c
// (sum 1) of the original gives a critical point of the width-m network (m = r + k - 1) with the
// same loss, on an (m - r)-dimensional affine family of critical points (the fractions move, the
// incoming weights stay), so the Hessian there has at least m - r zero eigenvalues; its index can
// grow (a strict minimum of the narrow net can become a saddle). Adding a zero-type neuron instead
// (outgoing weights 0, incoming w free) generally breaks criticality:
// dL/da = 2c sum_i r_i sigma(w . h_i + b) != 0.
//
//   locus::Objective narrow(model, data);                 // theta: a critical point, |g| ~ 1e-13
//   auto s = locus::workflows::split_critical_point(narrow, theta, {.layer = 1, .neuron = 0},
//                                                   {0.5, 0.5});
//   // s.critical, s.loss_after == s.loss_before (round-off), s.zero_after >= s.zero_expected,
//   // s.index_before -> s.index_after; s.zero_neuron_outgoing_gradient_max_norm >> 0
//   std::cout << locus::workflows::summary(s);

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "locus/analysis/spectrum.hpp"
#include "locus/core/objective.hpp"
#include "locus/core/options.hpp"
#include "locus/io/json.hpp"
#include "locus/transforms/surgery.hpp"

namespace locus::workflows {

struct SplitOptions {
  // Critical: |grad L|_inf <= gradient_tolerance_relative * gradient_scale (see SplitCheck).
  double gradient_tolerance_relative = 1e-10;
  // Dense Hessian spectra before and after: |lambda| <= factor * n * eps * max|lambda| is zero.
  double zero_tolerance_factor = 10.0;
  // Refuse (std::invalid_argument) a dense Hessian whose 3 * 8 n^2 bytes exceed this.
  double max_dense_bytes = 4.0 * (1ull << 30);
  // Seeds the incoming weights of the contrasting zero-type neuron: N(0, s^2) entries (and bias,
  // when the layer has one), s = the rms of the layer's incoming weights (1 if they are all 0).
  std::uint64_t seed = 0;
  // Throws options::OptionError naming the field.
  void validate() const;
};
// Its field table (core/options.hpp): CLI flags, Python keywords, the JSON context.
const options::Table<SplitOptions>& split_table();

enum class SplitStatus {
  critical,         // the split point passes the gradient test
  not_critical,     // it fails it (the input was not critical enough: see gradient_before)
  spectrum_failed,  // a dense eigensolver did not converge (the counts are not claims)
};
std::string_view to_string(SplitStatus s);

struct SplitCheck {
  SplitStatus status = SplitStatus::not_critical;
  std::string message;  // one sentence: the gradient test and the inertia change
  std::vector<Index> widths_before, widths_after;
  transforms::NeuronRef split;  // the neuron that was split
  std::vector<double> fractions;
  Eigen::VectorXd theta_after;  // the split point (in the layout of widths_after)
  // The size of the data term, max(1, 2c sum_i |y_i|_1): at weights of order 1 each gradient
  // entry is a sum of d residual-times-activation terms of at most this size, so round-off in
  // the gradient is a small multiple of eps times it.
  double gradient_scale = 1.0;
  double gradient_tolerance = 0.0;  // gradient_tolerance_relative * gradient_scale
  double loss_before = 0.0, loss_after = 0.0;
  double gradient_max_norm_before = 0.0, gradient_max_norm_after = 0.0;
  // Dense Hessian spectra (ascending eigenvalues, inertia with tau_H and its gap).
  analysis::Spectrum spectrum_before, spectrum_after;
  Index index_before = 0, index_after = 0;  // negative eigenvalues (< -tau_H)
  Index zero_before = 0, zero_after = 0;    // zero eigenvalues (|lambda| <= tau_H)
  // m - r = k - 1: the dimension of the affine family of split critical points through the
  // split point; zero_after >= zero_expected is the claim (with counts.gap behind it).
  Index zero_expected = 0;
  // The contrast: the width-r point with a zero-type neuron appended to the same layer instead.
  Eigen::VectorXd zero_neuron_incoming;                 // its seeded incoming weights
  double zero_neuron_bias = 0.0;                        // and bias (0 without a bias)
  double zero_neuron_gradient_max_norm = 0.0;           // |grad L|_inf there
  double zero_neuron_outgoing_gradient_max_norm = 0.0;  // max_i |dL/da_i| over its outgoing a

  bool critical() const { return status == SplitStatus::critical; }
};

// Splits neuron `at` of the critical point theta of objective's network with `fractions`
// (transforms::split_neuron), then evaluates loss, gradient and the dense Hessian spectrum before
// and after, and the gradient after appending a seeded zero-type neuron to the same layer instead.
// Cost: two dense Hessians (n and n + (k-1)(h_{K-1} + 1 + h_{K+1}) parameters) and their
// eigendecompositions, O(n^3). Outcomes are in status and message; throws std::invalid_argument
// for invalid options, a bad split (see split_neuron), a wrong-length theta or a refused dense
// size. progress gets the two spectra's events (analysis::hessian_spectrum).
SplitCheck split_critical_point(const Objective& objective, const Eigen::VectorXd& theta,
                                const transforms::NeuronRef& at,
                                const std::vector<double>& fractions,
                                const SplitOptions& options = {},
                                const ProgressCallback& progress = {});

// {"status", "message", "widths_before", "widths_after", "layer", "neuron", "fractions",
//  "gradient_scale", "gradient_tolerance", "loss_before", "loss_after", "gradient_max_norm_before",
//  "gradient_max_norm_after", "before"/"after": {"index", "zero", "positive", "tolerance", "gap",
//  "eigenvalues"}, "zero_expected", "zero_neuron": {"gradient_max_norm",
//  "outgoing_gradient_max_norm"}}.
io::Json to_json(const SplitCheck& s);
// A few lines: the status, the loss and |g| before and after against the tolerance, the inertia
// before and after, and the zero-type contrast.
std::string summary(const SplitCheck& s);

}  // namespace locus::workflows
