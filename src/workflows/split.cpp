#include "locus/workflows/split.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "locus/core/random.hpp"
#include "locus/io/format.hpp"

namespace locus::workflows {

namespace {

using Eigen::VectorXd;

io::Json inertia_json(const analysis::Spectrum& s) {
  io::Json j;
  j["index"] = s.counts.negative;
  j["zero"] = s.counts.zero;
  j["positive"] = s.counts.positive;
  j["tolerance"] = s.counts.tolerance;
  j["gap"] = io::json_number(s.counts.gap);
  j["converged"] = s.converged;
  j["eigenvalues"] =
      std::vector<double>(s.eigenvalues.data(), s.eigenvalues.data() + s.eigenvalues.size());
  return j;
}

std::string inertia_text(const analysis::Spectrum& s) {
  return "index " + std::to_string(s.counts.negative) + ", " + std::to_string(s.counts.zero) +
         " zero (tau_H = " + io::format_number(s.counts.tolerance) + ", gap " +
         io::format_number(s.counts.gap) + "), " + std::to_string(s.counts.positive) + " positive";
}

}  // namespace

void SplitOptions::validate() const {
  if (!(gradient_tolerance_relative >= 0) || !std::isfinite(gradient_tolerance_relative))
    throw options::OptionError(
        "SplitOptions", "gradient_tolerance_relative",
        "must be finite and >= 0, got " + std::to_string(gradient_tolerance_relative));
  if (!(zero_tolerance_factor > 0) || !std::isfinite(zero_tolerance_factor))
    throw options::OptionError(
        "SplitOptions", "zero_tolerance_factor",
        "must be finite and > 0, got " + std::to_string(zero_tolerance_factor));
  if (!(max_dense_bytes > 0))
    throw options::OptionError("SplitOptions", "max_dense_bytes",
                               "must be > 0, got " + std::to_string(max_dense_bytes));
}

const options::Table<SplitOptions>& split_table() {
  using O = SplitOptions;
  static const auto t =
      options::Table<O>("SplitOptions")
          .add("gradient_tolerance_relative",
               "critical: |grad L|_inf <= this * max(1, 2c sum_i |y_i|_1)",
               &O::gradient_tolerance_relative)
          .add("zero_tolerance_factor", "|lambda| <= factor * n * eps * max|lambda| counts as zero",
               &O::zero_tolerance_factor)
          .add("max_dense_bytes", "dense spectrum: refuse when 24 n^2 bytes exceed this",
               &O::max_dense_bytes)
          .add("seed", "seeds the incoming weights of the contrasting zero-type neuron", &O::seed);
  return t;
}

std::string_view to_string(SplitStatus s) {
  switch (s) {
    case SplitStatus::critical:
      return "critical";
    case SplitStatus::not_critical:
      return "not_critical";
    case SplitStatus::spectrum_failed:
      return "spectrum_failed";
  }
  return "?";
}

SplitCheck split_critical_point(const Objective& objective, const VectorXd& theta,
                                const transforms::NeuronRef& at,
                                const std::vector<double>& fractions, const SplitOptions& options,
                                const ProgressCallback& progress) {
  options.validate();
  const Mlp& model = objective.model();
  objective.check_parameters(theta, "parameters");
  const transforms::Surgery split = transforms::split_neuron(model, theta, at, fractions);
  const Objective after(split.model, objective.shared_data(), objective.loss_spec());
  const analysis::SpectrumOptions spectrum{.method = analysis::SpectrumMethod::dense,
                                           .zero_tolerance_factor = options.zero_tolerance_factor,
                                           .max_dense_bytes = options.max_dense_bytes};

  SplitCheck s;
  s.widths_before = model.spec().widths;
  s.widths_after = split.model.spec().widths;
  s.split = at;
  s.fractions = fractions;
  s.theta_after = split.theta;
  s.gradient_scale = std::max(1.0, 2.0 * objective.scale() * objective.data().y.cwiseAbs().sum());
  s.gradient_tolerance = options.gradient_tolerance_relative * s.gradient_scale;
  const auto before_lg = objective.loss_gradient(theta);
  const auto after_lg = after.loss_gradient(split.theta);
  s.loss_before = before_lg.loss;
  s.loss_after = after_lg.loss;
  s.gradient_max_norm_before = before_lg.gradient.cwiseAbs().maxCoeff();
  s.gradient_max_norm_after = after_lg.gradient.cwiseAbs().maxCoeff();
  s.spectrum_before = analysis::hessian_spectrum(objective, theta, spectrum, progress);
  s.spectrum_after = analysis::hessian_spectrum(after, split.theta, spectrum, progress);
  s.index_before = s.spectrum_before.counts.negative;
  s.index_after = s.spectrum_after.counts.negative;
  s.zero_before = s.spectrum_before.counts.zero;
  s.zero_after = s.spectrum_after.counts.zero;
  s.zero_expected = static_cast<Index>(fractions.size()) - 1;

  // The contrast: a zero-type neuron whose incoming weights are of the layer's size but not a
  // copy of an existing neuron (a copy would have dL/da = dL/da_j = 0 at a critical point).
  const auto w_in = model.weight(theta, at.layer - 1);
  const double rms = std::sqrt(w_in.squaredNorm() / static_cast<double>(w_in.size()));
  const double sd = rms > 0 ? rms : 1.0;
  Rng rng(options.seed);
  s.zero_neuron_incoming.resize(w_in.cols());
  for (Index c = 0; c < w_in.cols(); ++c) s.zero_neuron_incoming[c] = sd * rng.normal();
  if (model.has_bias(at.layer - 1)) s.zero_neuron_bias = sd * rng.normal();
  const transforms::Surgery zero = transforms::add_zero_neuron(
      model, theta, at.layer, {.incoming = s.zero_neuron_incoming, .bias = s.zero_neuron_bias});
  const Objective widened(zero.model, objective.shared_data(), objective.loss_spec());
  const VectorXd g_zero = widened.gradient(zero.theta);
  s.zero_neuron_gradient_max_norm = g_zero.cwiseAbs().maxCoeff();
  const transforms::NeuronIndices added =
      transforms::neuron_indices(zero.model, {at.layer, zero.model.layer(at.layer - 1).out - 1});
  s.zero_neuron_outgoing_gradient_max_norm = g_zero(added.outgoing).cwiseAbs().maxCoeff();

  const std::string test = "|g|_inf = " + io::format_number(s.gradient_max_norm_after) +
                           (s.gradient_max_norm_after <= s.gradient_tolerance ? " <= " : " > ") +
                           io::format_number(s.gradient_tolerance) +
                           " (before: " + io::format_number(s.gradient_max_norm_before) + ")";
  if (!s.spectrum_before.converged || !s.spectrum_after.converged) {
    s.status = SplitStatus::spectrum_failed;
    s.message =
        "the dense eigensolver failed: " + s.spectrum_before.note + " " + s.spectrum_after.note;
  } else if (s.gradient_max_norm_after > s.gradient_tolerance) {
    s.status = SplitStatus::not_critical;
    s.message = "the split point is not critical: " + test;
  } else {
    s.status = SplitStatus::critical;
    s.message = "the split point is critical: " + test + "; index " +
                std::to_string(s.index_before) + " -> " + std::to_string(s.index_after) + ", " +
                std::to_string(s.zero_after) + " zero eigenvalues (at least " +
                std::to_string(s.zero_before + s.zero_expected) + " expected)";
  }
  return s;
}

io::Json to_json(const SplitCheck& s) {
  io::Json j;
  j["status"] = std::string(to_string(s.status));
  j["message"] = s.message;
  j["widths_before"] = s.widths_before;
  j["widths_after"] = s.widths_after;
  j["layer"] = s.split.layer;
  j["neuron"] = s.split.neuron;
  j["fractions"] = s.fractions;
  j["gradient_scale"] = s.gradient_scale;
  j["gradient_tolerance"] = s.gradient_tolerance;
  j["loss_before"] = s.loss_before;
  j["loss_after"] = s.loss_after;
  j["gradient_max_norm_before"] = s.gradient_max_norm_before;
  j["gradient_max_norm_after"] = s.gradient_max_norm_after;
  j["before"] = inertia_json(s.spectrum_before);
  j["after"] = inertia_json(s.spectrum_after);
  j["zero_expected"] = s.zero_expected;
  j["zero_neuron"] = {{"gradient_max_norm", s.zero_neuron_gradient_max_norm},
                      {"outgoing_gradient_max_norm", s.zero_neuron_outgoing_gradient_max_norm}};
  return j;
}

std::string summary(const SplitCheck& s) {
  std::string w_before, w_after;
  for (Index w : s.widths_before) w_before += (w_before.empty() ? "" : ",") + std::to_string(w);
  for (Index w : s.widths_after) w_after += (w_after.empty() ? "" : ",") + std::to_string(w);
  return std::string(to_string(s.status)) + ": " + s.message + "\nsplit neuron " +
         std::to_string(s.split.neuron) + " of hidden layer " + std::to_string(s.split.layer) +
         ": [" + w_before + "] -> [" + w_after + "]\nloss " + io::format_number(s.loss_before) +
         " -> " + io::format_number(s.loss_after) + "\nbefore: " + inertia_text(s.spectrum_before) +
         "\nafter:  " + inertia_text(s.spectrum_after) + "\nzero-type neuron instead: |dL/da| = " +
         io::format_number(s.zero_neuron_outgoing_gradient_max_norm) +
         ", |g|_inf = " + io::format_number(s.zero_neuron_gradient_max_norm) + "\n";
}

}  // namespace locus::workflows
