// locus train: drive a network to a minimum (or, with --method critical, to the nearest critical
// point) and save it; every result says how far it got and why it stopped.

#include <cmath>
#include <cstdio>
#include <iostream>
#include <variant>

#include "cli/common.hpp"
#include "locus/io/atomic_file.hpp"
#include "locus/io/csv.hpp"
#include "locus/io/model_file.hpp"
#include "locus/solvers/solve.hpp"

namespace locus::cli {
namespace {

namespace sv = locus::solvers;

struct TrainCommand {
  ModelOptions model;
  DataOptions data;
  LossOptions loss;
  OutputOptions out;
  std::string method = std::string(sv::to_string(sv::TrainOptions{}.method));
  std::string polish;
  std::string init_file;
  std::string init_scheme = std::string(to_string(InitOptions{}.scheme));
  std::uint64_t seed = InitOptions{}.seed;
  std::string save, trace, trajectory;
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
    sv::set_option_text(o, m, kv.substr(0, eq), kv.substr(eq + 1));
  }
}

io::Json options_json(const sv::TrainOptions& o, sv::Method m) {
  io::Json j;
  for (const auto& f : sv::option_fields(o, m)) {
    if (const bool* b = std::get_if<bool>(&f.value))
      j[f.name] = *b;
    else if (const std::int64_t* i = std::get_if<std::int64_t>(&f.value))
      j[f.name] = *i;
    else if (const double* d = std::get_if<double>(&f.value); d && std::isfinite(*d))
      j[f.name] = *d;
    else
      j[f.name] = sv::to_string(f.value);  // enumerators, and inf (which JSON cannot hold)
  }
  return j;
}

// "lm 1e-13, newton 1e-13, ..." : a stop field's default for every method, read from the structs.
std::string defaults_by_method(const std::string& field) {
  std::string text;
  const sv::TrainOptions defaults;
  for (sv::Method m : sv::all_methods())
    for (const auto& f : sv::option_fields(defaults, m))
      if (f.name == field) {
        std::string v = sv::to_string(f.value);
        if (const double* d = std::get_if<double>(&f.value)) {
          char buf[32];
          std::snprintf(buf, sizeof buf, "%g", *d);
          v = buf;
        }
        text += (text.empty() ? "" : ", ") + std::string(sv::to_string(m)) + " " + v;
      }
  return text;
}

// time, loss, gradient_max_norm, theta_0 ... theta_{n-1}: one row per trajectory point.
void write_trajectory_csv(const std::string& path, const sv::SolveResult& r) {
  const Eigen::Index n = r.x.size();
  std::vector<std::string> header = {"time", "loss", "gradient_max_norm"};
  for (Eigen::Index i = 0; i < n; ++i) header.push_back("theta_" + std::to_string(i));
  Eigen::MatrixXd rows(static_cast<Eigen::Index>(r.trajectory.size()), n + 3);
  for (size_t k = 0; k < r.trajectory.size(); ++k) {
    const auto& p = r.trajectory[k];
    const auto row = static_cast<Eigen::Index>(k);
    rows(row, 0) = p.time;
    rows(row, 1) = p.loss;
    rows(row, 2) = p.gradient_max_norm;
    rows.row(row).tail(n) = p.x.transpose();
  }
  io::write_csv(path, header, rows);
}

void setup_train(CLI::App* app) {
  auto cmd = std::make_shared<TrainCommand>();
  add_model_options(app, cmd->model, false);
  add_data_options(app, cmd->data);
  add_loss_options(app, cmd->loss);
  add_output_options(app, cmd->out);
  std::string methods;
  for (auto m : sv::all_methods())
    methods += (methods.empty() ? "" : "|") + std::string(sv::to_string(m));
  app->add_option("--method", cmd->method, methods)->capture_default_str();
  app->add_option("--polish", cmd->polish,
                  "second stage from the first's end point: lm|newton|lbfgs|critical (the "
                  "flow -> polish pipeline)");
  app->add_option("--init", cmd->init_file,
                  "initial parameters (safetensors or flat .npy); default: --init-scheme, --seed");
  app->add_option("--init-scheme", cmd->init_scheme, "without --init: glorot|he|normal")
      ->capture_default_str();
  app->add_option("--seed", cmd->seed, "seed of the initial parameters")->capture_default_str();
  app->add_option("--save", cmd->save,
                  "write the final parameters (.safetensors or .npy, by extension); required");
  app->add_option("--trace", cmd->trace, "write the per-iteration trace (CSV)");
  app->add_option("--trajectory", cmd->trajectory,
                  "flow: write the trajectory (CSV: time, loss, gradient_max_norm, theta_i) at "
                  "log-spaced times; set their density with --opt trajectory_points_per_decade=K "
                  "(default 10 with this flag)");
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
    sv::TrainOptions o;
    o.method = with_option("--method", [&] { return sv::parse_method(cmd->method); });
    if (!cmd->polish.empty())
      o.polish = with_option("--polish", [&] { return sv::parse_method(cmd->polish); });
    std::vector<sv::Method> stages = {o.method};
    if (o.polish) stages.push_back(*o.polish);
    for (sv::Method m : stages) {
      sv::StopCriteria& stop = sv::stop_criteria(o, m);
      if (cmd->gradient_tolerance) stop.gradient_tolerance = *cmd->gradient_tolerance;
      if (cmd->loss_tolerance) stop.loss_tolerance = *cmd->loss_tolerance;
      if (cmd->max_iterations) stop.max_iterations = *cmd->max_iterations;
      if (cmd->max_seconds) stop.max_seconds = *cmd->max_seconds;
    }
    if (!cmd->trajectory.empty()) {
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
    if (cmd->save.empty()) throw std::invalid_argument("--save FILE is required");
    if (!cmd->trace.empty()) {
      io::require_writable(cmd->trace);
      for (sv::Method m : stages) sv::set_option(o, m, "record_trace", true);
    }
    if (!cmd->trajectory.empty()) io::require_writable(cmd->trajectory);
    o.validate();
    io::require_writable(cmd->save);
    LoadedModel m = load_model(cmd->model);
    const Dataset data = load_data(cmd->data, m.model.spec());
    const Objective obj(m.model, data, to_loss_spec(cmd->loss));
    Eigen::VectorXd x0;
    if (!cmd->init_file.empty()) {
      x0 = locus::load_model(cmd->init_file, {.spec = m.model.spec()}).parameters;
    } else if (m.parameters) {
      x0 = *m.parameters;
    } else {
      x0 = m.model.init_parameters(
          {.scheme = parse_init_scheme(cmd->init_scheme), .seed = cmd->seed});
    }
    const bool progress = stderr_is_terminal() && !cmd->out.json;
    const sv::SolveResult r = sv::solve(obj, x0, o, [&](const sv::IterationRecord& rec) {
      if (progress && rec.iteration % 10 == 0)
        std::fprintf(stderr, "\r%s it %d  loss %.3e  |g| %.3e  %.1fs   ", cmd->method.c_str(),
                     rec.iteration, rec.loss, rec.gradient_max_norm, rec.seconds);
      return true;
    });
    if (progress) std::fprintf(stderr, "\n");
    save_model(cmd->save, m.model, r.x);
    if (!cmd->trace.empty()) sv::write_trace_csv(cmd->trace, r);
    if (!cmd->trajectory.empty()) write_trajectory_csv(cmd->trajectory, r);
    if (cmd->out.json) {
      io::Json body;
      body["method"] = r.method;
      body["status"] = std::string(sv::to_string(r.status));
      body["converged"] = r.converged();
      body["message"] = r.message;
      body["loss_initial"] = r.loss_initial;
      body["loss_final"] = r.loss_final;
      body["gradient_max_norm"] = r.gradient_max_norm;
      body["iterations"] = r.iterations;
      body["seconds"] = r.seconds;
      body["n_params"] = obj.n_params();
      body["counts"] = {{"loss", r.counts.loss},
                        {"gradient", r.counts.gradient},
                        {"jacobian", r.counts.jacobian},
                        {"hessian", r.counts.hessian},
                        {"hessian_vector", r.counts.hessian_vector},
                        {"factorizations", r.counts.factorizations}};
      body["saved"] = cmd->save;
      if (!cmd->trace.empty()) body["trace"] = cmd->trace;
      if (!cmd->trajectory.empty()) {
        body["trajectory"] = cmd->trajectory;
        body["trajectory_points"] = r.trajectory.size();
      }
      if (r.inertia)
        body["inertia"] = {{"negative", r.inertia->negative},
                           {"zero", r.inertia->zero},
                           {"positive", r.inertia->positive},
                           {"tolerance", r.inertia->tolerance},
                           {"eigenvalue_min", r.inertia->eigenvalue_min},
                           {"eigenvalue_max", r.inertia->eigenvalue_max}};
      io::Json stages = io::Json::array();
      for (const auto& s : r.stages)
        stages.push_back({{"method", s.method},
                          {"status", std::string(sv::to_string(s.status))},
                          {"iterations", s.iterations},
                          {"seconds", s.seconds},
                          {"loss_final", s.loss_final},
                          {"gradient_max_norm", s.gradient_max_norm}});
      body["stages"] = stages;
      io::Json resolved = {{"model", to_json(cmd->model)},
                           {"data", to_json(cmd->data)},
                           {"loss", to_json(cmd->loss)},
                           {"method", cmd->method},
                           {"polish", cmd->polish},
                           {"init", cmd->init_file},
                           {"init_scheme", cmd->init_scheme},
                           {"seed", cmd->seed},
                           {"method_options", options_json(o, o.method)}};
      if (o.polish) resolved["polish_options"] = options_json(o, *o.polish);
      print_json(resolved, body);
    } else {
      std::cout << sv::summary(r) << "\nsaved " << cmd->save << "\n";
    }
  });
}

const bool registered = register_command(
    {"train", "Train to a minimum or critical point, to machine precision, and save", setup_train});

}  // namespace
}  // namespace locus::cli
