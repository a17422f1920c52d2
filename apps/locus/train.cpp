// locus train: drive a network to a minimum (or, with --method critical, to the nearest critical
// point) and save it; every result says how far it got and why it stopped.

#include <cstdio>
#include <iostream>

#include "common.hpp"
#include "locus/io/atomic_file.hpp"
#include "locus/model_file.hpp"
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
  std::string save, trace;
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
  for (const auto& f : sv::option_fields(o, m)) j[f.name] = sv::to_string(f.value);
  return j;
}

void setup_train(CLI::App* app) {
  auto cmd = std::make_shared<TrainCommand>();
  add_model_options(app, cmd->model, false);
  add_data_options(app, cmd->data);
  add_loss_options(app, cmd->loss);
  add_output_options(app, cmd->out);
  std::string methods;
  for (auto m : sv::all_methods()) methods += (methods.empty() ? "" : "|") + std::string(sv::to_string(m));
  app->add_option("--method", cmd->method, methods)->capture_default_str();
  app->add_option("--polish", cmd->polish, "second stage from the first's end point: lm|newton|lbfgs|critical");
  app->add_option("--init", cmd->init_file, "initial parameters (safetensors or flat .npy)");
  app->add_option("--init-scheme", cmd->init_scheme, "without --init: glorot|he|normal")
      ->capture_default_str();
  app->add_option("--seed", cmd->seed, "seed of the initial parameters")->capture_default_str();
  app->add_option("--save", cmd->save, "write the final parameters (.safetensors or .npy)")->required();
  app->add_option("--trace", cmd->trace, "write the per-iteration trace (CSV)");
  app->add_option("--opt", cmd->opts,
                  "set an option of the method by name, e.g. --opt max_iterations=200 "
                  "(locus train --method M --list-options prints them)");
  app->add_option("--polish-opt", cmd->polish_opts, "set an option of the polish stage");
  app->add_option("--gradient-tolerance", cmd->gradient_tolerance, "stop when |grad L|_inf <= this");
  app->add_option("--loss-tolerance", cmd->loss_tolerance, "stop when L <= this");
  app->add_option("--max-iterations", cmd->max_iterations, "iteration cap");
  app->add_option("--max-seconds", cmd->max_seconds, "wall-clock cap");
  app->callback([cmd] {
    apply_output_options(cmd->out);
    sv::TrainOptions o;
    o.method = sv::parse_method(cmd->method);
    if (!cmd->polish.empty()) o.polish = sv::parse_method(cmd->polish);
    sv::StopCriteria& stop = sv::stop_criteria(o, o.method);
    if (cmd->gradient_tolerance) stop.gradient_tolerance = *cmd->gradient_tolerance;
    if (cmd->loss_tolerance) stop.loss_tolerance = *cmd->loss_tolerance;
    if (cmd->max_iterations) stop.max_iterations = *cmd->max_iterations;
    if (cmd->max_seconds) stop.max_seconds = *cmd->max_seconds;
    apply_opts(o, o.method, cmd->opts, "--opt");
    if (o.polish) apply_opts(o, *o.polish, cmd->polish_opts, "--polish-opt");
    if (!cmd->trace.empty()) {
      io::require_writable(cmd->trace);
      sv::set_option(o, o.method, "record_trace", true);
      if (o.polish) sv::set_option(o, *o.polish, "record_trace", true);
    }
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
      x0 = m.model.init_parameters({.scheme = parse_init_scheme(cmd->init_scheme), .seed = cmd->seed});
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
      body["saved"] = cmd->save;
      if (r.inertia)
        body["inertia"] = {{"negative", r.inertia->negative}, {"zero", r.inertia->zero},
                           {"positive", r.inertia->positive}, {"tolerance", r.inertia->tolerance}};
      io::Json stages = io::Json::array();
      for (const auto& s : r.stages)
        stages.push_back({{"method", s.method}, {"status", std::string(sv::to_string(s.status))},
                          {"iterations", s.iterations}, {"seconds", s.seconds},
                          {"loss_final", s.loss_final}, {"gradient_max_norm", s.gradient_max_norm}});
      body["stages"] = stages;
      io::Json resolved = {{"model", to_json(cmd->model)}, {"data", to_json(cmd->data)},
                           {"loss", to_json(cmd->loss)}, {"method", cmd->method},
                           {"polish", cmd->polish}, {"init", cmd->init_file},
                           {"init_scheme", cmd->init_scheme}, {"seed", cmd->seed},
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
