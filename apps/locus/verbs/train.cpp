// locus train: drive a network to a minimum (or, with --method critical, to the nearest critical
// point) and save it; every result says how far it got and why it stopped.

#include <cmath>
#include <cstdio>
#include <iostream>
#include <variant>

#include "cli/common.hpp"
#include "cli/progress.hpp"
#include "cli/table_options.hpp"
#include "locus/io/atomic_file.hpp"
#include "locus/io/csv.hpp"
#include "locus/io/model_file.hpp"
#include "locus/solvers/solve.hpp"

namespace locus::cli::train_verb {
namespace {

namespace sv = locus::solvers;

// The verb's own options (the method's come from the solvers' tables via --opt).
struct TrainInterface {
  std::string method = std::string(sv::to_string(sv::TrainOptions{}.method));
  std::string polish;  // empty: none
  std::string init;    // file
  std::string init_scheme = std::string(to_string(InitOptions{}.scheme));
  std::uint64_t seed = InitOptions{}.seed;
  std::string save, trace, trajectory;
};

std::string method_names() {
  std::string methods;
  for (auto m : sv::all_methods())
    methods += (methods.empty() ? "" : "|") + std::string(sv::to_string(m));
  return methods;
}

const options::Table<TrainInterface>& interface_table() {
  using O = TrainInterface;
  static const auto t =
      options::Table<O>("train")
          .add("method", method_names(), &O::method)
          .add("polish",
               "second stage from the first's end point: lm|newton|lbfgs|critical (the flow -> "
               "polish pipeline)",
               &O::polish)
          .add("init",
               "initial parameters (safetensors or flat .npy); default: --init-scheme, "
               "--seed",
               &O::init)
          .add("init_scheme", "without --init: glorot|he|normal", &O::init_scheme)
          .add("seed", "seed of the initial parameters", &O::seed)
          .add("save", "write the final parameters (.safetensors or .npy, by extension); required",
               &O::save)
          .add("trace", "write the per-iteration trace (CSV)", &O::trace)
          .add("trajectory",
               "flow: write the trajectory (CSV: time, loss, gradient_max_norm, theta_i) at "
               "log-spaced times; set their density with --opt trajectory_points_per_decade=K "
               "(default 10 with this flag)",
               &O::trajectory);
  return t;
}

struct TrainCommand {
  ModelOptions model;
  DataOptions data;
  LossOptions loss;
  OutputOptions out;
  TrainInterface ui;
  TableFlags flags;
  bool list_options = false;
  std::vector<std::string> opts, polish_opts;
  std::optional<double> gradient_tolerance, loss_tolerance, max_seconds;
  std::optional<int> max_iterations;
};

void apply_opts(sv::TrainOptions& o, sv::Method m, const std::vector<std::string>& opts,
                const std::string& flag) {
  for (const auto& kv : opts) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos)
      throw std::invalid_argument(flag + " '" + kv + "': expected name=value");
    with_option(flag, [&] { sv::set_option_text(o, m, kv.substr(0, eq), kv.substr(eq + 1)); });
  }
}

// "lm 1e-13, newton 1e-13, ..." : a stop field's default for every method, read from the tables.
std::string defaults_by_method(const std::string& field) {
  std::string text;
  const sv::TrainOptions defaults;
  for (sv::Method m : sv::all_methods())
    for (const auto& f : sv::option_fields(defaults, m))
      if (f.name == field)
        text += (text.empty() ? "" : ", ") + std::string(sv::to_string(m)) + " " +
                sv::to_string(f.value);
  return text;
}

// time, loss, gradient_max_norm, theta_0 ... theta_{n-1}: one row per trajectory point.
void write_trajectory_csv(const std::string& path, const sv::SolveResult& r) {
  const Eigen::Index n = r.theta.size();
  std::vector<std::string> header = {"time", "loss", "gradient_max_norm"};
  for (Eigen::Index i = 0; i < n; ++i) header.push_back("theta_" + std::to_string(i));
  Eigen::MatrixXd rows(static_cast<Eigen::Index>(r.trajectory.size()), n + 3);
  for (size_t k = 0; k < r.trajectory.size(); ++k) {
    const auto& p = r.trajectory[k];
    const auto row = static_cast<Eigen::Index>(k);
    rows(row, 0) = p.time;
    rows(row, 1) = p.loss;
    rows(row, 2) = p.gradient_max_norm;
    rows.row(row).tail(n) = p.theta.transpose();
  }
  io::write_csv(path, header, rows);
}

void setup_train(CLI::App* app) {
  auto cmd = std::make_shared<TrainCommand>();
  add_model_options(app, cmd->model, false);
  add_data_options(app, cmd->data);
  add_loss_options(app, cmd->loss);
  add_output_options(app, cmd->out);
  cmd->flags.add(app, interface_table(), cmd->ui);
  app->add_option("--opt", cmd->opts,
                  "set an option of the method by name, e.g. --opt max_iterations=200 "
                  "(--list-options prints them with their defaults)");
  app->add_option("--polish-opt", cmd->polish_opts, "set an option of the polish stage");
  app->add_flag("--list-options", cmd->list_options,
                "print the options of --method (and --polish) with their values, then exit");
  // The stopping flags override both stages; their defaults depend on the method.
  app->add_option(
      "--gradient-tolerance", cmd->gradient_tolerance,
      "stop when max_i |g_i| <= this (default: " + defaults_by_method("gradient_tolerance") + ")");
  app->add_option("--loss-tolerance", cmd->loss_tolerance,
                  "stop when L <= this (default: " + defaults_by_method("loss_tolerance") + ")");
  app->add_option("--max-iterations", cmd->max_iterations,
                  "iteration cap; flow: integrator steps, sgd: epochs (default: " +
                      defaults_by_method("max_iterations") + ")");
  app->add_option("--max-seconds", cmd->max_seconds, "wall-clock cap per stage (default: inf)");
  app->callback([cmd] {
    apply_output_options(cmd->out);
    cmd->flags.apply();
    const TrainInterface& ui = cmd->ui;
    sv::TrainOptions o;
    o.method = with_option("--method", [&] { return sv::parse_method(ui.method); });
    if (!ui.polish.empty())
      o.polish = with_option("--polish", [&] { return sv::parse_method(ui.polish); });
    std::vector<sv::Method> stages = {o.method};
    if (o.polish) stages.push_back(*o.polish);
    for (sv::Method m : stages) {
      sv::StopCriteria& stop = sv::stop_criteria(o, m);
      if (cmd->gradient_tolerance) stop.gradient_tolerance = *cmd->gradient_tolerance;
      if (cmd->loss_tolerance) stop.loss_tolerance = *cmd->loss_tolerance;
      if (cmd->max_iterations) stop.max_iterations = *cmd->max_iterations;
      if (cmd->max_seconds) stop.max_seconds = *cmd->max_seconds;
    }
    if (!ui.trajectory.empty()) {
      if (o.method != sv::Method::flow)
        throw std::invalid_argument("--trajectory needs --method flow");
      o.flow.trajectory_points_per_decade = 10;
    }
    apply_opts(o, o.method, cmd->opts, "--opt");
    if (o.polish) apply_opts(o, *o.polish, cmd->polish_opts, "--polish-opt");
    if (cmd->list_options) {
      for (sv::Method m : stages) {
        std::printf("%s options:\n", std::string(sv::to_string(m)).c_str());
        for (const auto& f : sv::option_fields(o, m))
          std::printf("  %-30s %-12s %s\n", f.name.c_str(), sv::to_string(f.value).c_str(),
                      f.help.c_str());
      }
      return;
    }
    if (ui.save.empty()) throw std::invalid_argument("--save FILE is required");
    if (!ui.trace.empty()) {
      io::require_writable(ui.trace);
      for (sv::Method m : stages) sv::set_option(o, m, "record_trace", true);
    }
    if (!ui.trajectory.empty()) io::require_writable(ui.trajectory);
    try {
      o.validate();
    } catch (const std::invalid_argument& e) {
      // Spelled as typed: "--opt learning_rate= must be > 0, got -1".
      std::string message = sv::rephrase(e, o.method, options::Interface::python);
      if (o.polish && message == e.what())
        message = sv::rephrase(e, *o.polish, options::Interface::python);
      throw std::invalid_argument(message == e.what() ? message : "--opt " + message);
    }
    io::require_writable(ui.save);
    LoadedModel m = load_model(cmd->model);
    const Dataset data = load_data(cmd->data, m.model.spec());
    const Objective obj(m.model, data, to_loss_spec(cmd->loss));
    Eigen::VectorXd x0;
    if (!ui.init.empty()) {
      // The architecture, activation included, is --arch/--params's: --init gives only theta.
      x0 = with_option("--init", [&] {
        return locus::load_model(ui.init,
                                 {.spec = m.model.spec(), .activation = m.model.activation()})
            .theta;
      });
    } else if (m.theta) {
      x0 = *m.theta;
    } else {
      x0 = m.model.init_parameters(
          {.scheme =
               with_option("--init-scheme", [&] { return parse_init_scheme(ui.init_scheme); }),
           .seed = ui.seed});
    }
    long long max_iterations = 0;  // the iteration numbers of a polish continue the first's
    for (sv::Method m : stages) max_iterations += sv::stop_criteria(o, m).max_iterations;
    Progress progress("train");
    std::string stage = std::string(sv::to_string(o.method));
    if (o.polish) stage += "+" + std::string(sv::to_string(*o.polish));
    const sv::SolveResult r = sv::solve(obj, x0, o, progress.solver(stage + " it", max_iterations));
    progress.finish();
    // --save, --trace and --trajectory are replaced together or not at all.
    io::StagedFiles files;
    files.write(ui.save, [&](const std::string& tmp) { save_model(tmp, m.model, r.theta); });
    if (!ui.trace.empty())
      files.write(ui.trace, [&](const std::string& tmp) { sv::write_trace_csv(tmp, r); });
    if (!ui.trajectory.empty())
      files.write(ui.trajectory, [&](const std::string& tmp) { write_trajectory_csv(tmp, r); });
    files.commit();
    if (cmd->out.json) {
      io::Json body = sv::to_json(r);
      body["n_params"] = obj.n_params();
      body["saved"] = ui.save;
      if (!ui.trace.empty()) body["trace"] = ui.trace;
      if (!ui.trajectory.empty()) body["trajectory"] = ui.trajectory;
      io::Json resolved = {{"model", to_json(cmd->model)},
                           {"data", to_json(cmd->data)},
                           {"loss", to_json(cmd->loss)},
                           {"output", to_json(cmd->out)},
                           {"train", interface_table().to_json(ui)},
                           {"method_options", sv::options_to_json(o, o.method)}};
      if (o.polish) resolved["polish_options"] = sv::options_to_json(o, *o.polish);
      print_json(resolved, body);
    } else {
      std::cout << sv::summary(r) << "\nsaved " << ui.save << "\n";
    }
  });
}

const bool registered = register_command(
    {"train", "Train to a minimum or critical point, to machine precision, and save", setup_train});

}  // namespace
}  // namespace locus::cli::train_verb
