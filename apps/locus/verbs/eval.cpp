// locus eval: the loss and gradient of a network on a dataset, and (--check-derivatives) a report
// of how the exact derivatives agree with finite differences and with each other
// (locus::analysis::check_derivatives).

#include <cstdio>
#include <optional>
#include <stdexcept>

#include "cli/common.hpp"
#include "cli/progress.hpp"
#include "locus/analysis/derivative_check.hpp"

namespace locus::cli::eval_verb {
namespace {

struct EvalCommand {
  ModelOptions model;
  DataOptions data;
  LossOptions loss;
  OutputOptions out;
  std::string init = std::string(to_string(InitOptions{}.scheme));
  std::uint64_t seed = InitOptions{}.seed;
  bool check = false;
  Index fd_coordinates = analysis::DerivativeCheckOptions{}.coordinates;
  int fd_directions = analysis::DerivativeCheckOptions{}.directions;
};

constexpr const char* kCheckHelp =
    "Check the exact derivatives and print each largest error beside its tolerance (exit 1 if "
    "one fails). eps = 2^-52. (1) gradient vs central differences D(h) = (L(t+h e_i) - "
    "L(t-h e_i))/2h on --fd-coordinates seeded coordinates, h = eps^(1/3) max(1,|t_i|), which "
    "balances truncation (h^2 L'''/6) against rounding (eps |L| / h): tolerance = 10 (max_i "
    "|D(2h) - D(h)| (Richardson: D(2h) - D(h) = 3x the h^2 term of D(h), plus rounding noise) + "
    "eps^(2/3) |L| (rounding floor)) + 1e3 eps |g|_inf (rounding of the exact gradient). "
    "(2) H v vs central differences of the gradient along --fd-directions random unit v, "
    "tolerance built the same way from the gradients. (3) squared loss: the Jacobian's columns "
    "vs central differences of the residuals on the same coordinates, built the same way. "
    "(4) H v vs the dense Hessian times v (n <= 5000): the same function summed in another "
    "order, tolerance = 10 eps sqrt(n + d) max_i (|H| |v|)_i (random-walk rounding of sums of n "
    "and of d terms, 10x margin). (5) squared loss: grad L vs 2c J^T r, tolerance = "
    "10 eps sqrt(l d) max_i (2c |J|^T |r|)_i (the same bound on the sum's absolute terms). relu "
    "is not differentiable at 0: differences that straddle a kink show up as a large "
    "tolerance, not as a failure.";

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
        m.theta
            ? *m.theta
            : m.model.init_parameters(
                  {.scheme = with_option("--init", [&] { return parse_init_scheme(cmd->init); }),
                   .seed = cmd->seed});
    const std::string source = m.theta
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
    std::optional<analysis::DerivativeCheckResult> check;
    if (cmd->check) {
      Progress progress("eval");
      check = analysis::check_derivatives(obj, theta,
                                          {.coordinates = cmd->fd_coordinates,
                                           .directions = cmd->fd_directions,
                                           .seed = cmd->seed + 1},
                                          progress.callback());
      progress.finish();
      body["derivative_check"] = analysis::to_json(*check);
    }
    if (cmd->out.json) {
      io::Json options = {{"model", to_json(cmd->model)},
                          {"data", to_json(cmd->data)},
                          {"loss", to_json(cmd->loss)}};
      if (!m.theta) options["init"] = {{"scheme", cmd->init}, {"seed", cmd->seed}};
      if (cmd->check)
        options["check"] = {{"fd_coordinates", cmd->fd_coordinates},
                            {"fd_directions", cmd->fd_directions},
                            {"seed", cmd->seed + 1},
                            {"safety_factor", analysis::DerivativeCheckOptions{}.safety_factor}};
      print_json(options, body);
    } else {
      std::printf("model       %s, n = %ld parameters (%s)\n", m.model.describe().c_str(),
                  long(obj.n_params()), source.c_str());
      std::printf("data        %s, d = %ld points\n", data.name.c_str(), long(data.size()));
      std::printf("loss        %.17g (%s, %s)\n", lg.loss, cmd->loss.loss.c_str(),
                  cmd->loss.reduction.c_str());
      std::printf("|grad|_inf  %.6e\n|grad|_2    %.6e\n", lg.gradient.cwiseAbs().maxCoeff(),
                  lg.gradient.norm());
      if (check) std::printf("%s", analysis::summary(*check).c_str());
    }
    if (check && !check->passed)
      throw std::runtime_error("derivative check failed: " + check->message);
  });
}

const bool registered = register_command(
    {"eval", "Loss and gradient of a network on data; --check-derivatives verifies them",
     setup_eval});

}  // namespace
}  // namespace locus::cli::eval_verb
