// locus analyze: certified local geometry at a point: rank J with its tolerance and gap, the
// dimension of the manifold of minima, the Hessian's inertia and the point's classification.

#include <cmath>
#include <cstdio>
#include <iostream>

#include "cli/common.hpp"
#include "locus/analysis/geometry.hpp"

namespace locus::cli {
namespace {

namespace an = locus::analysis;

struct AnalyzeCommand {
  ModelOptions model;
  DataOptions data;
  LossOptions loss;
  OutputOptions out;
  std::string spectrum = std::string(an::to_string(an::SpectrumOptions{}.method));
  int k = an::SpectrumOptions{}.k;
  std::string lanczos_end = std::string(an::to_string(an::SpectrumOptions{}.lanczos_end));
  double lanczos_tolerance = an::SpectrumOptions{}.lanczos_tolerance;
  double max_dense_gib = an::SpectrumOptions{}.max_dense_bytes / double(1ull << 30);
  std::uint64_t seed = an::SpectrumOptions{}.seed;
  double gradient_tolerance = an::AnalyzeOptions{}.gradient_tolerance;
  double loss_tolerance = an::AnalyzeOptions{}.loss_tolerance;
};

void setup_analyze(CLI::App* app) {
  auto cmd = std::make_shared<AnalyzeCommand>();
  add_model_options(app, cmd->model, true);
  add_data_options(app, cmd->data);
  add_loss_options(app, cmd->loss);
  add_output_options(app, cmd->out);
  app->add_option("--spectrum", cmd->spectrum,
                  "dense (every eigenvalue) | lanczos (k at each end, matrix-free) | slq (density)")
      ->capture_default_str();
  app->add_option("--k", cmd->k, "Lanczos: eigenvalues per end")->capture_default_str();
  app->add_option("--lanczos-end", cmd->lanczos_end,
                  "Lanczos: both | largest | smallest (the inertia needs the smallest end)")
      ->capture_default_str();
  app->add_option("--lanczos-tolerance", cmd->lanczos_tolerance,
                  "Lanczos: relative tolerance on each Ritz value")
      ->capture_default_str();
  app->add_option("--max-dense-memory", cmd->max_dense_gib,
                  "GiB a dense Hessian (and a dense J) may use before locus refuses")
      ->capture_default_str();
  app->add_option("--seed", cmd->seed, "seed of the Lanczos start / SLQ probes")->capture_default_str();
  app->add_option("--gradient-tolerance", cmd->gradient_tolerance,
                  "critical point: |grad L|_inf <= this")->capture_default_str();
  app->add_option("--loss-tolerance", cmd->loss_tolerance, "zero loss: L <= this")
      ->capture_default_str();
  app->callback([cmd] {
    apply_output_options(cmd->out);
    const LoadedModel m = load_model(cmd->model);
    const Dataset data = load_data(cmd->data, m.model.spec());
    const Objective obj(m.model, data, to_loss_spec(cmd->loss));
    an::AnalyzeOptions o;
    o.spectrum.method = an::parse_spectrum_method(cmd->spectrum);
    o.spectrum.k = cmd->k;
    o.spectrum.lanczos_end = with_option("--lanczos-end",
                                         [&] { return an::parse_lanczos_end(cmd->lanczos_end); });
    if (!(cmd->lanczos_tolerance > 0) || !std::isfinite(cmd->lanczos_tolerance))
      throw std::invalid_argument("--lanczos-tolerance must be finite and > 0, got " +
                                  std::to_string(cmd->lanczos_tolerance));
    o.spectrum.lanczos_tolerance = cmd->lanczos_tolerance;
    o.spectrum.seed = cmd->seed;
    o.spectrum.max_dense_bytes = cmd->max_dense_gib * double(1ull << 30);
    o.jacobian.max_bytes = o.spectrum.max_dense_bytes;
    o.gradient_tolerance = cmd->gradient_tolerance;
    o.loss_tolerance = cmd->loss_tolerance;
    if (o.spectrum.method == an::SpectrumMethod::dense && stderr_is_terminal() && obj.n_params() > 3000)
      std::cerr << "locus analyze: dense Hessian of n = " << obj.n_params() << " needs about "
                << 24.0 * double(obj.n_params()) * double(obj.n_params()) / (1 << 30) << " GiB\n";
    const an::PointAnalysis a = an::analyze_point(obj, *m.parameters, o);
    if (cmd->out.json) {
      print_json({{"model", to_json(cmd->model)}, {"data", to_json(cmd->data)},
                  {"loss", to_json(cmd->loss)}, {"spectrum", cmd->spectrum}, {"k", cmd->k},
                  {"seed", cmd->seed}, {"max_dense_memory_gib", cmd->max_dense_gib},
                  {"gradient_tolerance", cmd->gradient_tolerance},
                  {"loss_tolerance", cmd->loss_tolerance}},
                 an::to_json(a));
      return;
    }
    std::printf("%s on %s: n = %ld parameters, l d = %ld residuals\n", m.model.describe().c_str(),
                data.name.c_str(), long(a.n_params), long(a.n_residuals));
    std::printf("loss                = %.3e%s\n", a.loss, a.at_zero_loss ? "  (zero loss)" : "");
    std::printf("|grad L|_inf        = %.3e  (critical if <= %.1e)\n", a.gradient_max_norm,
                o.gradient_tolerance);
    if (a.jacobian.computed)
      std::printf("rank J              = %ld of %ld  (sigma > %.2e; gap sigma_r/sigma_r+1 = %.2e)\n"
                  "manifold dimension  = %ld  (n - rank J)\n",
                  long(a.jacobian.rank), long(a.n_residuals), a.jacobian.tolerance, a.jacobian.gap,
                  long(a.manifold_dimension));
    else
      std::printf("rank J              : not computed (%s)\n", a.jacobian.skipped_reason.c_str());
    const auto& c = a.hessian.counts;
    std::printf("Hessian (%s)       : %ld positive, %ld zero, %ld negative%s  (|lambda| <= %.2e "
                "counts as zero; gap %.2e)\n",
                cmd->spectrum.c_str(), long(c.positive), long(c.zero), long(c.negative),
                c.complete ? "" : " among those computed", c.tolerance, c.gap);
    if (a.hessian.eigenvalues.size())
      std::printf("eigenvalues         : min %.6e, max %.6e\n", a.hessian.eigenvalues.minCoeff(),
                  a.hessian.eigenvalues.maxCoeff());
    if (!std::isnan(a.eigen_vs_gauss_newton_rtol))
      std::printf("lambda vs 2 sigma^2 : max relative difference %.2e\n", a.eigen_vs_gauss_newton_rtol);
    std::printf("classification      = %s (%s)\n", std::string(an::to_string(a.classification)).c_str(),
                a.reason.c_str());
  });
}

const bool registered = register_command(
    {"analyze", "Certified local geometry: rank J, manifold dimension, Hessian inertia, class",
     setup_analyze});

}  // namespace
}  // namespace locus::cli
