// locus analyze: certified local geometry at a point: rank J with its tolerance and gap, the
// dimension of the manifold of minima, the Hessian's inertia and the point's classification.

#include <cmath>
#include <cstdio>
#include <iostream>

#include "cli/common.hpp"
#include "cli/table_options.hpp"
#include "locus/analysis/geometry.hpp"
#include "locus/analysis/options.hpp"

namespace locus::cli {
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
    if (o.spectrum.method == an::SpectrumMethod::dense && stderr_is_terminal() &&
        obj.n_params() > 3000)
      std::cerr << "locus analyze: dense Hessian of n = " << obj.n_params() << " needs about "
                << 24.0 * double(obj.n_params()) * double(obj.n_params()) / (1 << 30) << " GiB\n";
    const an::PointAnalysis a = an::analyze_point(obj, *m.theta, o);
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
    if (a.jacobian.computed)
      std::printf(
          "rank J              = %ld of %ld  (sigma > %.2e; gap sigma_r/sigma_r+1 = %.2e)\n"
          "manifold dimension  = %ld  (n - rank J)\n",
          long(a.jacobian.rank), long(a.n_residuals), a.jacobian.tolerance, a.jacobian.gap,
          long(a.manifold_dimension));
    else
      std::printf("rank J              : not computed (%s)\n", a.jacobian.skipped_reason.c_str());
    const auto& c = a.hessian.counts;
    std::printf(
        "Hessian (%s)       : %ld positive, %ld zero, %ld negative%s  (|lambda| <= %.2e "
        "counts as zero; gap %.2e)\n",
        std::string(an::to_string(o.spectrum.method)).c_str(), long(c.positive), long(c.zero),
        long(c.negative), c.complete ? "" : " among those computed", c.tolerance, c.gap);
    if (a.hessian.eigenvalues.size())
      std::printf("eigenvalues         : min %.6e, max %.6e\n", a.hessian.eigenvalues.minCoeff(),
                  a.hessian.eigenvalues.maxCoeff());
    if (!std::isnan(a.eigen_vs_gauss_newton_rtol))
      std::printf("lambda vs 2 sigma^2 : max relative difference %.2e\n",
                  a.eigen_vs_gauss_newton_rtol);
    std::printf("classification      = %s (%s)\n",
                std::string(an::to_string(a.classification)).c_str(), a.reason.c_str());
  });
}

const bool registered = register_command(
    {"analyze", "Certified local geometry: rank J, manifold dimension, Hessian inertia, class",
     setup_analyze});

}  // namespace
}  // namespace locus::cli
