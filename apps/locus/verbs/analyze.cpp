// locus analyze: certified local geometry at a point: rank J with its tolerance and gap, n - rank J
// (the local dimension of the fibre of the residual map; at zero loss the dimension of the manifold
// of global minima), the Hessian's inertia and the point's classification.

#include <cmath>
#include <cstdio>
#include <iostream>

#include "cli/common.hpp"
#include "cli/progress.hpp"
#include "cli/table_options.hpp"
#include "locus/analysis/geometry.hpp"
#include "locus/analysis/options.hpp"
#include "locus/io/format.hpp"

namespace locus::cli::analyze_verb {
namespace {

namespace an = locus::analysis;

struct AnalyzeCommand {
  ModelOptions model;
  DataOptions data;
  LossOptions loss;
  OutputOptions out;
  an::AnalyzeOptions options;  // every flag below --loss comes from analysis::analyze_table()
  TableFlags flags;
};

void setup_analyze(CLI::App* app) {
  auto cmd = std::make_shared<AnalyzeCommand>();
  add_model_options(app, cmd->model, true);
  add_data_options(app, cmd->data);
  add_loss_options(app, cmd->loss);
  add_output_options(app, cmd->out);
  cmd->flags.add(app, an::analyze_table(), cmd->options);
  add_list_options_flag(app, cmd->flags);
  app->callback([cmd] {
    apply_output_options(cmd->out);
    cmd->flags.apply();
    const an::AnalyzeOptions& o = cmd->options;
    validate_for_cli(an::analyze_table(), [&] { o.validate(); });
    const LoadedModel m = load_model(cmd->model);
    const Dataset data = load_data(cmd->data, m.model.spec());
    const Objective obj(m.model, data, to_loss_spec(cmd->loss));
    Progress progress("analyze");
    if (o.spectrum.method == an::SpectrumMethod::dense && obj.n_params() > 3000)
      progress.print_line(
          "locus analyze: dense Hessian of n = " + std::to_string(obj.n_params()) +
          " needs about " +
          io::format_number(24.0 * double(obj.n_params()) * double(obj.n_params()) / (1 << 30)) +
          " GiB");
    const an::PointAnalysis a = an::analyze_point(obj, *m.theta, o, progress.callback());
    progress.finish();
    if (cmd->out.json) {
      print_json({{"model", to_json(cmd->model)},
                  {"data", to_json(cmd->data)},
                  {"loss", to_json(cmd->loss)},
                  {"output", to_json(cmd->out)},
                  {"analyze", an::analyze_table().to_json(o)}},
                 an::to_json(a));
      return;
    }
    std::printf("%s on %s: n = %ld parameters, l d = %ld residuals\n", m.model.describe().c_str(),
                data.name.c_str(), long(a.n_params), long(a.n_residuals));
    std::printf("loss                = %.3e%s\n", a.loss, a.at_zero_loss ? "  (zero loss)" : "");
    std::printf("|grad L|_inf        = %.3e  (critical if <= %.1e)\n", a.gradient_max_norm,
                o.gradient_tolerance);
    if (a.jacobian.computed) {
      std::printf(
          "rank J              = %ld of %ld  (sigma > %.2e; gap sigma_r/sigma_r+1 = %.2e)\n",
          long(a.jacobian.rank), long(a.n_residuals), a.jacobian.tolerance, a.jacobian.gap);
      if (a.manifold_dimension >= 0)
        std::printf(
            "manifold dimension  = %ld  (n - rank J at zero loss: dim of the manifold of "
            "global minima here)\n",
            long(a.manifold_dimension));
      else
        std::printf(
            "fibre dimension     = %ld  (n - rank J: local dimension of the fibre of the "
            "residual map through this point; not a manifold of minima, the loss is not "
            "zero)\n",
            long(a.fibre_dimension));
    } else
      std::printf("rank J              : not computed (%s)\n", a.jacobian.skipped_reason.c_str());
    const auto& c = a.hessian.counts;
    const std::string label = "Hessian (" + std::string(an::to_string(o.spectrum.method)) + ")";
    std::printf(
        "%-20s: %ld positive, %ld zero, %ld negative%s  (|lambda| <= %.2e counts as zero; gap "
        "%.2e)\n",
        label.c_str(), long(c.positive), long(c.zero), long(c.negative),
        c.complete ? "" : " among those computed", c.tolerance, c.gap);
    if (a.hessian.eigenvalues.size())
      std::printf("eigenvalues         : min %.6e, max %.6e\n", a.hessian.eigenvalues.minCoeff(),
                  a.hessian.eigenvalues.maxCoeff());
    if (o.spectrum.method == an::SpectrumMethod::lanczos)
      std::printf(
          "Lanczos             : %lld Hessian-vector products, %d restarts, max residual "
          "|H v - lambda v| %.2e%s\n",
          a.hessian.applications, a.hessian.restarts,
          a.hessian.residuals.size() ? a.hessian.residuals.maxCoeff() : 0.0,
          a.hessian.converged ? "" : " (NOT converged)");
    if (o.spectrum.method == an::SpectrumMethod::slq)
      std::printf("SLQ                 : %lld Hessian-vector products\n", a.hessian.applications);
    if (!std::isnan(a.eigen_vs_gauss_newton_rtol))
      std::printf("lambda vs 2 sigma^2 : max relative difference %.2e\n",
                  a.eigen_vs_gauss_newton_rtol);
    std::printf("classification      = %s (%s)\n",
                std::string(an::to_string(a.classification)).c_str(), a.reason.c_str());
  });
}

const bool registered = register_command(
    {"analyze",
     "Certified local geometry: rank J, fibre / manifold dimension, Hessian inertia, class",
     setup_analyze});

}  // namespace
}  // namespace locus::cli::analyze_verb
