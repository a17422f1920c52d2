// locus eval: the loss and gradient of a network on a dataset, and (--check-derivatives) a report
// of how the exact derivatives agree with finite differences and with each other.

#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>

#include "common.hpp"
#include "locus/random.hpp"

namespace locus::cli {
namespace {

struct EvalCommand {
  ModelOptions model;
  DataOptions data;
  LossOptions loss;
  OutputOptions out;
  std::string init = std::string(to_string(InitOptions{}.scheme));
  std::uint64_t seed = InitOptions{}.seed;
  bool check = false;
  int fd_coordinates = 50;
  int fd_directions = 3;
};

// One line of the derivative report: the largest error found and the tolerance it must meet.
struct Check {
  std::string name, reference;
  double error = 0.0, tolerance = 0.0;
  bool holds() const { return error <= tolerance; }
};

std::vector<Check> check_derivatives(const Objective& obj, const Eigen::VectorXd& theta,
                                     const EvalCommand& cmd) {
  std::vector<Check> checks;
  const Index n = obj.n_params();
  const auto lg = obj.loss_gradient(theta);
  const double g_scale = std::max(1.0, lg.gradient.cwiseAbs().maxCoeff());
  const double eps = std::numeric_limits<double>::epsilon();
  Rng rng(cmd.seed + 1);
  // Gradient vs central differences on a seeded subset of coordinates. h = cbrt(eps) max(1,|t|)
  // gives truncation + rounding error ~ eps^(2/3) (|L'''| + |L|) ~ 4e-11 (|L'''| + |L|); the
  // tolerance allows 1e4 of that relative to the gradient scale.
  {
    const double tol = 1e4 * std::cbrt(eps) * std::cbrt(eps) * std::max(1.0, std::abs(lg.loss)) /
                       g_scale;
    double err = 0;
    Eigen::VectorXd t = theta;
    for (int s = 0; s < std::min<Index>(cmd.fd_coordinates, n); ++s) {
      const Index i = static_cast<Index>(rng.below(static_cast<std::uint64_t>(n)));
      const double h = std::cbrt(eps) * std::max(1.0, std::abs(theta[i]));
      t[i] = theta[i] + h;
      const double fp = obj.loss(t);
      t[i] = theta[i] - h;
      const double fm = obj.loss(t);
      t[i] = theta[i];
      err = std::max(err, std::abs((fp - fm) / (2 * h) - lg.gradient[i]) / g_scale);
    }
    checks.push_back({"gradient", "central differences of L (" +
                                      std::to_string(std::min<Index>(cmd.fd_coordinates, n)) +
                                      " coordinates)",
                      err, std::max(tol, 1e-6)});
  }
  // H v vs central differences of the gradient along random unit directions.
  const HessianOperator op(obj, theta);
  {
    double err = 0, scale = 1.0;
    for (int s = 0; s < cmd.fd_directions; ++s) {
      Eigen::VectorXd v(n);
      for (Index i = 0; i < n; ++i) v[i] = rng.normal();
      v.normalize();
      const double h = std::cbrt(eps) * std::max(1.0, theta.norm() / std::sqrt(double(n)));
      const Eigen::VectorXd fd = (obj.gradient(theta + h * v) - obj.gradient(theta - h * v)) / (2 * h);
      const Eigen::VectorXd hv = op.apply(v);
      scale = std::max(scale, hv.cwiseAbs().maxCoeff());
      err = std::max(err, (fd - hv).cwiseAbs().maxCoeff());
    }
    checks.push_back({"hessian_vector_product", "central differences of the gradient (" +
                                                    std::to_string(cmd.fd_directions) +
                                                    " random directions)",
                      err / scale, 1e-6});
  }
  // H v vs the dense Hessian times v (same arithmetic, different summation order: round-off).
  if (n <= 3000) {
    const Eigen::MatrixXd h = obj.hessian(theta);
    Eigen::VectorXd v(n);
    for (Index i = 0; i < n; ++i) v[i] = rng.normal();
    const Eigen::VectorXd a = op.apply(v), b = h * v;
    const double scale = std::max(1.0, b.cwiseAbs().maxCoeff());
    checks.push_back({"hvp_vs_dense_hessian", "dense Hessian times v",
                      (a - b).cwiseAbs().maxCoeff() / scale, 1e3 * eps * std::sqrt(double(n))});
  }
  // grad L = 2c J^T r (squared loss).
  if (obj.loss_spec().kind == LossKind::squared &&
      double(obj.n_residuals()) * double(n) * 8 < 2e9) {
    const Eigen::VectorXd g2 = 2.0 * obj.scale() * obj.jacobian(theta).transpose() * obj.residuals(theta);
    checks.push_back({"gradient_vs_jacobian", "2c J^T r",
                      (g2 - lg.gradient).cwiseAbs().maxCoeff() / g_scale,
                      1e3 * eps * std::sqrt(double(obj.n_residuals()))});
  }
  return checks;
}

void setup_eval(CLI::App* app) {
  auto cmd = std::make_shared<EvalCommand>();
  add_model_options(app, cmd->model, false);
  add_data_options(app, cmd->data);
  add_loss_options(app, cmd->loss);
  add_output_options(app, cmd->out);
  app->add_option("--init", cmd->init,
                  "without --params: initial parameters glorot|he|normal, seeded by --seed")
      ->capture_default_str();
  app->add_option("--seed", cmd->seed, "seed of the initial parameters and of the checks")
      ->capture_default_str();
  app->add_flag("--check-derivatives", cmd->check,
                "report gradient and Hessian-vector products against central finite differences "
                "(h = cbrt(eps) max(1,|t|), error ~ eps^(2/3)), H v against the dense Hessian and "
                "grad L against 2 J^T r (round-off); each error beside its tolerance");
  app->add_option("--fd-coordinates", cmd->fd_coordinates, "gradient coordinates checked")
      ->capture_default_str();
  app->callback([cmd] {
    apply_output_options(cmd->out);
    LoadedModel m = load_model(cmd->model);
    const Dataset data = load_data(cmd->data, m.model.spec());
    const Objective obj(m.model, data, to_loss_spec(cmd->loss));
    const Eigen::VectorXd theta =
        m.parameters ? *m.parameters
                     : m.model.init_parameters({.scheme = parse_init_scheme(cmd->init), .seed = cmd->seed});
    const auto lg = obj.loss_gradient(theta);
    io::Json body;
    body["model"] = m.model.describe();
    body["n_params"] = obj.n_params();
    body["n_points"] = data.size();
    body["loss"] = lg.loss;
    body["gradient_max_norm"] = lg.gradient.cwiseAbs().maxCoeff();
    body["gradient_norm"] = lg.gradient.norm();
    std::vector<Check> checks;
    if (cmd->check) {
      checks = check_derivatives(obj, theta, *cmd);
      io::Json jc = io::Json::array();
      for (const auto& c : checks)
        jc.push_back({{"name", c.name}, {"reference", c.reference}, {"max_error", c.error},
                      {"tolerance", c.tolerance}, {"holds", c.holds()}});
      body["derivative_checks"] = jc;
    }
    if (cmd->out.json) {
      print_json({{"model", to_json(cmd->model)}, {"data", to_json(cmd->data)},
                  {"loss", to_json(cmd->loss)}, {"init", cmd->init}, {"seed", cmd->seed}},
                 body);
    } else {
      std::printf("%s on %s (d = %ld, n = %ld)\n", m.model.describe().c_str(), data.name.c_str(),
                  long(data.size()), long(obj.n_params()));
      std::printf("loss              = %.6e\n|g|_inf           = %.6e\n|g|_2             = %.6e\n",
                  lg.loss, body["gradient_max_norm"].get<double>(), lg.gradient.norm());
      for (const auto& c : checks)
        std::printf("%-22s max error %.2e %s %.1e  (vs %s)\n", c.name.c_str(), c.error,
                    c.holds() ? "<=" : ">", c.tolerance, c.reference.c_str());
    }
    for (const auto& c : checks)
      if (!c.holds()) throw std::runtime_error("derivative check '" + c.name + "' failed");
  });
}

const bool registered = register_command(
    {"eval", "Loss and gradient of a network on data; --check-derivatives verifies them",
     setup_eval});

}  // namespace
}  // namespace locus::cli
