// locus eval: the loss and gradient of a network on a dataset, and (--check-derivatives) a report
// of how the exact derivatives agree with finite differences and with each other.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <set>

#include "cli/common.hpp"
#include "locus/core/random.hpp"

namespace locus::cli {
namespace {

// The dense Hessian (n HVPs, 8 n^2 bytes) is formed for the check only up to this many
// parameters; the residual Jacobian (8 l d n bytes) only up to this many bytes.
constexpr Index kMaxDenseHessian = 5000;
constexpr double kMaxJacobianBytes = 2e9;

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

constexpr const char* kCheckHelp =
    "Check the exact derivatives and print each largest error beside its tolerance (exit 1 if "
    "one fails). eps = 2^-52. (1) gradient vs central differences D(h) = (L(t+h e_i) - "
    "L(t-h e_i))/2h on --fd-coordinates seeded coordinates, h = eps^(1/3) max(1,|t_i|), which "
    "balances truncation (h^2 L'''/6) against rounding (eps |L| / h): tolerance = 10 max_i "
    "|D(2h) - D(h)| (Richardson: D(2h) - D(h) = 3x the h^2 term of D(h), plus rounding noise) + "
    "10 eps^(2/3) |L| (rounding floor) + 1e3 eps |g|_inf (rounding of the exact gradient). "
    "(2) H v vs central differences of the gradient along --fd-directions random unit v, "
    "tolerance built the same way from the gradients. (3) H v vs the dense Hessian times v "
    "(n <= 5000): the same function summed in another order, tolerance = 10 eps sqrt(n + d) "
    "max_i (|H| |v|)_i (random-walk rounding of sums of n and of d terms, 10x margin). "
    "(4) squared loss: grad L vs 2c J^T r, tolerance = 10 eps sqrt(l d) max_i (2c |J|^T |r|)_i "
    "(the same bound on the sum's absolute terms). relu is not differentiable at 0: differences "
    "that straddle a kink show up as a large tolerance, not as a failure.";

// One line of the derivative report: the largest error found and the tolerance it must meet.
struct Check {
  std::string name, reference;
  double error = 0.0, tolerance = 0.0;
  bool holds() const { return error <= tolerance; }
};

// k distinct coordinates of [0, n), seeded (Floyd's sampling), in increasing order.
std::vector<Index> sample_coordinates(Index n, Index k, Rng& rng) {
  std::set<Index> chosen;
  if (k >= n) {
    for (Index i = 0; i < n; ++i) chosen.insert(i);
  } else {
    for (Index j = n - k; j < n; ++j) {
      const Index t = static_cast<Index>(rng.below(static_cast<std::uint64_t>(j + 1)));
      if (!chosen.insert(t).second) chosen.insert(j);
    }
  }
  return {chosen.begin(), chosen.end()};
}

Eigen::VectorXd random_unit(Index n, Rng& rng) {
  Eigen::VectorXd v(n);
  for (Index i = 0; i < n; ++i) v[i] = rng.normal();
  return v.normalized();
}

Check check_gradient(const Objective& obj, const Eigen::VectorXd& theta,
                     const Objective::LossGradient& lg, Index n_coordinates, Rng& rng) {
  const double eps = std::numeric_limits<double>::epsilon();
  const std::vector<Index> coords = sample_coordinates(obj.n_params(), n_coordinates, rng);
  double err = 0, richardson = 0;
  Eigen::VectorXd t = theta;
  auto central = [&](Index i, double h) {
    t[i] = theta[i] + h;
    const double fp = obj.loss(t);
    t[i] = theta[i] - h;
    const double fm = obj.loss(t);
    t[i] = theta[i];
    return (fp - fm) / (2 * h);
  };
  for (Index i : coords) {
    const double h = std::cbrt(eps) * std::max(1.0, std::abs(theta[i]));
    const double d1 = central(i, h), d2 = central(i, 2 * h);
    err = std::max(err, std::abs(d1 - lg.gradient[i]));
    richardson = std::max(richardson, std::abs(d2 - d1));
  }
  const double tol = 10 * richardson + 10 * std::pow(eps, 2.0 / 3) * std::abs(lg.loss) +
                     1e3 * eps * lg.gradient.cwiseAbs().maxCoeff();
  return {"gradient",
          "central differences of L on " + std::to_string(coords.size()) + " coordinates", err,
          tol};
}

Check check_hvp_fd(const Objective& obj, const HessianOperator& op, const Eigen::VectorXd& theta,
                   int n_directions, Rng& rng) {
  const double eps = std::numeric_limits<double>::epsilon();
  const Index n = obj.n_params();
  const double h = std::cbrt(eps) * std::max(1.0, theta.cwiseAbs().maxCoeff());
  double err = 0, richardson = 0, g_scale = 0, hv_scale = 0;
  for (int s = 0; s < n_directions; ++s) {
    const Eigen::VectorXd v = random_unit(n, rng);
    const auto gp = obj.loss_gradient(theta + h * v), gm = obj.loss_gradient(theta - h * v);
    const Eigen::VectorXd d1 = (gp.gradient - gm.gradient) / (2 * h);
    const Eigen::VectorXd d2 =
        (obj.gradient(theta + 2 * h * v) - obj.gradient(theta - 2 * h * v)) / (4 * h);
    const Eigen::VectorXd hv = op.apply(v);
    err = std::max(err, (d1 - hv).cwiseAbs().maxCoeff());
    richardson = std::max(richardson, (d2 - d1).cwiseAbs().maxCoeff());
    g_scale =
        std::max({g_scale, gp.gradient.cwiseAbs().maxCoeff(), gm.gradient.cwiseAbs().maxCoeff()});
    hv_scale = std::max(hv_scale, hv.cwiseAbs().maxCoeff());
  }
  const double tol = 10 * richardson + 10 * std::pow(eps, 2.0 / 3) * g_scale + 1e3 * eps * hv_scale;
  return {"hessian_vector_product",
          "central differences of the gradient along " + std::to_string(n_directions) +
              " random directions",
          err, tol};
}

std::vector<Check> check_derivatives(const Objective& obj, const Eigen::VectorXd& theta,
                                     const Objective::LossGradient& lg, const EvalCommand& cmd) {
  const double eps = std::numeric_limits<double>::epsilon();
  const Index n = obj.n_params(), d = obj.data().size();
  Rng rng(cmd.seed + 1);
  std::vector<Check> checks;
  checks.push_back(check_gradient(obj, theta, lg, cmd.fd_coordinates, rng));
  const HessianOperator op(obj, theta);
  if (cmd.fd_directions > 0) checks.push_back(check_hvp_fd(obj, op, theta, cmd.fd_directions, rng));
  if (n <= kMaxDenseHessian) {
    const Eigen::MatrixXd h = obj.hessian(theta);
    const Eigen::VectorXd v = random_unit(n, rng);
    const Eigen::VectorXd a = op.apply(v), b = h * v;
    const double terms = (h.cwiseAbs() * v.cwiseAbs()).maxCoeff();
    checks.push_back({"hvp_vs_dense_hessian", "dense Hessian times a random unit v",
                      (a - b).cwiseAbs().maxCoeff(), 10 * eps * std::sqrt(double(n + d)) * terms});
  }
  if (obj.loss_spec().kind == LossKind::squared &&
      double(obj.n_residuals()) * double(n) * 8 <= kMaxJacobianBytes) {
    const Eigen::MatrixXd j = obj.jacobian(theta);
    const Eigen::VectorXd r = obj.residuals(theta);
    const double c2 = 2.0 * obj.scale();
    const Eigen::VectorXd g = c2 * (j.transpose() * r);
    const double terms = c2 * (j.cwiseAbs().transpose() * r.cwiseAbs()).maxCoeff();
    checks.push_back({"gradient_vs_jacobian", "2c J^T r", (g - lg.gradient).cwiseAbs().maxCoeff(),
                      10 * eps * std::sqrt(double(obj.n_residuals())) * terms});
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
                  "without --params, the parameters are drawn by this scheme: glorot (W ~ U(-a,a), "
                  "a = sqrt(6/(in+out)), b = 0), he (W ~ N(0, 2/in), b = 0) or normal (all "
                  "N(0,1)), seeded by --seed")
      ->capture_default_str();
  app->add_option("--seed", cmd->seed,
                  "seed of the --init parameters; the checks' coordinates and directions use "
                  "seed + 1")
      ->capture_default_str();
  app->add_flag("--check-derivatives", cmd->check, kCheckHelp);
  app->add_option("--fd-coordinates", cmd->fd_coordinates,
                  "--check-derivatives: gradient coordinates checked")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app->add_option("--fd-directions", cmd->fd_directions,
                  "--check-derivatives: random directions for the H v difference check")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app->callback([cmd] {
    apply_output_options(cmd->out);
    LoadedModel m = load_model(cmd->model);
    const Dataset data = load_data(cmd->data, m.model.spec());
    const Objective obj(m.model, data, to_loss_spec(cmd->loss));
    const Eigen::VectorXd theta =
        m.parameters
            ? *m.parameters
            : m.model.init_parameters(
                  {.scheme = with_option("--init", [&] { return parse_init_scheme(cmd->init); }),
                   .seed = cmd->seed});
    const std::string source = m.parameters
                                   ? cmd->model.params
                                   : "--init " + cmd->init + " --seed " + std::to_string(cmd->seed);
    const auto lg = obj.loss_gradient(theta);
    io::Json body;
    body["model"] = m.model.describe();
    body["parameters"] = source;
    body["data"] = data.name;
    body["n_points"] = data.size();
    body["n_params"] = obj.n_params();
    body["loss"] = lg.loss;
    body["gradient_max_norm"] = lg.gradient.cwiseAbs().maxCoeff();
    body["gradient_norm"] = lg.gradient.norm();
    std::vector<Check> checks;
    if (cmd->check) {
      checks = check_derivatives(obj, theta, lg, *cmd);
      io::Json jc = io::Json::array();
      for (const auto& c : checks)
        jc.push_back({{"name", c.name},
                      {"reference", c.reference},
                      {"max_error", c.error},
                      {"tolerance", c.tolerance},
                      {"holds", c.holds()}});
      body["derivative_checks"] = jc;
    }
    if (cmd->out.json) {
      io::Json options = {{"model", to_json(cmd->model)},
                          {"data", to_json(cmd->data)},
                          {"loss", to_json(cmd->loss)}};
      if (!m.parameters) options["init"] = {{"scheme", cmd->init}, {"seed", cmd->seed}};
      if (cmd->check)
        options["check"] = {{"fd_coordinates", cmd->fd_coordinates},
                            {"fd_directions", cmd->fd_directions},
                            {"seed", cmd->seed + 1}};
      print_json(options, body);
    } else {
      std::printf("model       %s, n = %ld parameters (%s)\n", m.model.describe().c_str(),
                  long(obj.n_params()), source.c_str());
      std::printf("data        %s, d = %ld points\n", data.name.c_str(), long(data.size()));
      std::printf("loss        %.17g (%s, %s)\n", lg.loss, cmd->loss.loss.c_str(),
                  cmd->loss.reduction.c_str());
      std::printf("|grad|_inf  %.6e\n|grad|_2    %.6e\n", lg.gradient.cwiseAbs().maxCoeff(),
                  lg.gradient.norm());
      for (const auto& c : checks)
        std::printf("%-23s max error %.3e %s tolerance %.3e  (%s: %s)\n", c.name.c_str(), c.error,
                    c.holds() ? "<=" : "> ", c.tolerance, c.holds() ? "holds" : "FAILS",
                    c.reference.c_str());
    }
    for (const auto& c : checks)
      if (!c.holds())
        throw std::runtime_error("derivative check '" + c.name + "' failed: max error " +
                                 std::to_string(c.error) + " > tolerance " +
                                 std::to_string(c.tolerance));
  });
}

const bool registered = register_command(
    {"eval", "Loss and gradient of a network on data; --check-derivatives verifies them",
     setup_eval});

}  // namespace
}  // namespace locus::cli
