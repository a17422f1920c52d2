// locus dropout train: a mean-field network (one or more hidden layers) trained by one-pass SGD
// with the mean-field steps (alpha * N for one hidden layer) on fresh samples of a teacher
// (--dataset teacher) or by epochs over any other dataset.
// locus dropout evaluate: its dropout error |L_N - L_M| over random keep sets of size M.
// locus path dropout: the 7-segment (or 5-segment; 15 segments for two hidden layers) path between
// two networks of one architecture, its segments checked, its excess against max(eps_D), the
// straight line beside it (registered here as a subcommand of `locus path`; locus::dropout).

#include <cstdio>
#include <iostream>
#include <memory>
#include <stdexcept>

#include "cli/common.hpp"
#include "cli/progress.hpp"
#include "cli/table_options.hpp"
#include "locus/dropout/dropout_path.hpp"
#include "locus/dropout/mean_field_sgd.hpp"
#include "locus/dropout/subnetwork.hpp"
#include "locus/io/atomic_file.hpp"
#include "locus/io/model_file.hpp"
#include "locus/io/npy.hpp"

namespace locus::cli::dropout_verb {
namespace {

namespace ld = locus::dropout;

struct TrainCommand {
  ModelOptions model;
  DataOptions data;
  OutputOptions out;
  ld::MeanFieldSgdOptions options;
  std::uint64_t init_seed = 0;
  std::string save;
  TableFlags flags;
};

void run_train(const TrainCommand& cmd) {
  apply_output_options(cmd.out);
  validate_for_cli(ld::mean_field_sgd_table(), [&] { cmd.options.validate(); });
  if (cmd.save.empty())
    throw std::invalid_argument("--save FILE (.safetensors or .npy) is required");
  io::require_writable(cmd.save);
  const LoadedModel m = load_model(cmd.model);
  const Mlp& model = m.model;
  if (!model.spec().mean_field)
    throw std::invalid_argument("--arch: dropout train needs --mean-field, got " +
                                model.describe());
  const Eigen::VectorXd theta0 = m.theta ? *m.theta : ld::mean_field_init(model, cmd.init_seed);
  // The held-out set: the data the flags describe (for a teacher: its own seeded sample).
  const Dataset data = load_data(cmd.data, model.spec());
  ld::MeanFieldSgdResult r;
  Progress progress("dropout train");
  if (cmd.data.dataset == "teacher") {
    MlpSpec t{.widths = parse_widths(cmd.data.teacher_arch, "--teacher-arch")};
    t.activation = cmd.data.teacher_activation.empty()
                       ? model.activation()
                       : with_option("--teacher-activation",
                                     [&] { return parse_activation(cmd.data.teacher_activation); });
    const Mlp teacher(t);
    const Eigen::VectorXd teacher_theta = teacher.init_parameters(
        {.scheme = parse_init_scheme(cmd.data.teacher_init), .seed = cmd.data.teacher_seed});
    r = ld::train_online(model, theta0, teacher, teacher_theta, cmd.options, progress.callback());
  } else {
    r = ld::train_epochs(model, theta0, data, cmd.options, progress.callback());
  }
  progress.finish();
  const Objective objective(model, data, {.reduction = Reduction::mean});
  const double loss_initial = objective.loss(theta0), loss_final = objective.loss(r.theta);
  // A diverged run is reported, not saved: an existing --save file stays as it was.
  const bool completed = r.status == ld::SgdStatus::completed;
  if (completed) save_model(cmd.save, model, r.theta);
  if (cmd.out.json) {
    io::Json body = {{"model", model.describe()},
                     {"n_params", model.n_params()},
                     {"data", data.name},
                     {"online", cmd.data.dataset == "teacher"},
                     {"loss_initial", io::json_number(loss_initial)},
                     {"loss_final", io::json_number(loss_final)},
                     {"save", cmd.save}};
    body.update(ld::to_json(r));
    print_json({{"model", to_json(cmd.model)},
                {"data", to_json(cmd.data)},
                {"output", to_json(cmd.out)},
                {"sgd", ld::mean_field_sgd_table().to_json(cmd.options)},
                {"init_seed", cmd.init_seed},
                {"save", cmd.save}},
               body);
  } else {
    std::printf("model       %s, n = %ld parameters\n", model.describe().c_str(),
                long(model.n_params()));
    std::cout << ld::summary(r);
    std::printf("held-out    %s: mean squared error %.6g -> %.6g\nsaved       %s\n",
                data.name.c_str(), loss_initial, loss_final, cmd.save.c_str());
  }
  if (!completed) throw std::runtime_error("training " + r.message + " (--save not written)");
}

void setup_train(CLI::App* app) {
  auto* sub =
      app->add_subcommand("train",
                          "Mean-field one-pass SGD (step alpha * N; multilayer mean-field steps "
                          "for deeper nets): fresh teacher samples with --dataset teacher, "
                          "else epochs over the data; saves the network");
  auto cmd = std::make_shared<TrainCommand>();
  add_model_options(sub, cmd->model, false);
  add_data_options(sub, cmd->data);
  add_output_options(sub, cmd->out);
  sub->add_option("--init-seed", cmd->init_seed,
                  "seeds the mean-field initialisation (i.i.d. neurons) when --params is not given")
      ->capture_default_str();
  sub->add_option("--save", cmd->save, "the trained network (.safetensors or .npy)");
  cmd->flags.add(sub, ld::mean_field_sgd_table(), cmd->options);
  add_list_options_flag(sub, cmd->flags);
  sub->callback([cmd] {
    cmd->flags.apply();
    run_train(*cmd);
  });
}

struct EvaluateCommand {
  ModelOptions model;
  DataOptions data;
  LossOptions loss;
  OutputOptions out;
  ld::DropoutErrorOptions options;
  TableFlags flags;
};

void run_evaluate(const EvaluateCommand& cmd) {
  apply_output_options(cmd.out);
  validate_for_cli(ld::dropout_error_table(), [&] { cmd.options.validate(); });
  const LoadedModel m = load_model(cmd.model);
  if (!m.theta) throw std::invalid_argument("--params: the network to evaluate is required");
  const Dataset data = load_data(cmd.data, m.model.spec());
  const Objective objective(m.model, data, to_loss_spec(cmd.loss));
  Progress progress("dropout evaluate");
  const ld::DropoutError e = with_option("--kept", [&] {
    return ld::dropout_error(objective, *m.theta, cmd.options, progress.callback());
  });
  progress.finish();
  if (cmd.out.json) {
    io::Json body = {{"model", m.model.describe()}, {"data", data.name}};
    body.update(ld::to_json(e));
    print_json({{"model", to_json(cmd.model)},
                {"data", to_json(cmd.data)},
                {"loss", to_json(cmd.loss)},
                {"output", to_json(cmd.out)},
                {"dropout", ld::dropout_error_table().to_json(cmd.options)}},
               body);
  } else {
    std::printf("model       %s\ndata        %s, d = %ld points\n", m.model.describe().c_str(),
                data.name.c_str(), long(data.size()));
    std::cout << ld::summary(e);
  }
}

void setup_evaluate(CLI::App* app) {
  auto* sub = app->add_subcommand(
      "evaluate", "The dropout error |L_N - L_M| of --params over random keep sets of size --kept");
  auto cmd = std::make_shared<EvaluateCommand>();
  add_model_options(sub, cmd->model, true);
  add_data_options(sub, cmd->data);
  add_loss_options(sub, cmd->loss);
  add_output_options(sub, cmd->out);
  cmd->flags.add(sub, ld::dropout_error_table(), cmd->options);
  add_list_options_flag(sub, cmd->flags);
  sub->callback([cmd] {
    cmd->flags.apply();
    run_evaluate(*cmd);
  });
}

struct PathCommand {
  ModelOptions model;
  DataOptions data;
  LossOptions loss;
  OutputOptions out;
  ld::DropoutPathOptions options;
  std::string end, save_vertices;
  TableFlags flags;
};

void run_path(const PathCommand& cmd) {
  apply_output_options(cmd.out);
  validate_for_cli(ld::dropout_path_table(), [&] { cmd.options.validate(); });
  if (!cmd.save_vertices.empty()) io::require_writable(cmd.save_vertices);
  const Ends ends = load_ends(cmd.model, cmd.end, "--params-end");
  const Mlp& model = ends.model;
  if (model.n_layers() != 2 && model.n_layers() != 3)
    throw std::invalid_argument("--params: the dropout path needs one or two hidden layers, got " +
                                model.describe());
  const Dataset data = load_data(cmd.data, model.spec());
  const Objective objective(model, data, to_loss_spec(cmd.loss));
  Progress progress("path dropout");
  const ld::DropoutPathResult r = with_option("--keep", [&] {
    return ld::dropout_path(objective, ends.start, ends.end, cmd.options, progress.callback());
  });
  progress.finish();
  if (!cmd.save_vertices.empty()) io::write_npy(cmd.save_vertices, r.path.control_points());
  if (cmd.out.json) {
    io::Json body = {{"model", model.describe()},
                     {"n_params", model.n_params()},
                     {"data", data.name},
                     {"n_points", data.size()},
                     {"save_vertices", cmd.save_vertices}};
    body.update(ld::to_json(r));
    print_json({{"model", to_json(cmd.model)},
                {"params_end", cmd.end},
                {"data", to_json(cmd.data)},
                {"loss", to_json(cmd.loss)},
                {"output", to_json(cmd.out)},
                {"path", ld::dropout_path_table().to_json(cmd.options)},
                {"save_vertices", cmd.save_vertices}},
               body);
  } else {
    std::printf("model       %s, n = %ld parameters\ndata        %s, d = %ld points\n",
                model.describe().c_str(), long(model.n_params()), data.name.c_str(),
                long(data.size()));
    std::cout << ld::summary(r);
  }
  if (!r.segments_hold || !r.bound_holds)
    throw std::runtime_error("dropout path: a segment check or the bound failed (see above)");
}

void setup_path_dropout(CLI::App* path) {
  auto* sub = path->add_subcommand(
      "dropout",
      "The 7-segment path (Kuditipudi et al.; Shevchenko & Mondelli) from --params to "
      "--params-end through dropout subnetworks on a kept half, its segments checked, its excess "
      "against max(eps_D), the straight line's barrier beside it");
  auto cmd = std::make_shared<PathCommand>();
  add_model_options(sub, cmd->model, true);
  sub->add_option("--params-end,--to", cmd->end,
                  "the end point: a file like --params, of the same architecture")
      ->required();
  add_data_options(sub, cmd->data);
  add_loss_options(sub, cmd->loss);
  add_output_options(sub, cmd->out);
  sub->add_option("--save-vertices", cmd->save_vertices,
                  ".npy with the path's vertices as rows (first --params, last --params-end)");
  cmd->flags.add(sub, ld::dropout_path_table(), cmd->options);
  add_list_options_flag(sub, cmd->flags);
  sub->callback([cmd] {
    cmd->flags.apply();
    run_path(*cmd);
  });
}

void setup_dropout(CLI::App* app) {
  app->require_subcommand(1);
  setup_train(app);
  setup_evaluate(app);
}

// `locus path dropout`: added under the `path` verb (verbs/path.cpp) once every verb is set up.
const bool registered = register_command(
    {"dropout", "Mean-field SGD and dropout stability (Shevchenko & Mondelli)", setup_dropout,
     [](CLI::App* root) { setup_path_dropout(root->get_subcommand("path")); }});

}  // namespace
}  // namespace locus::cli::dropout_verb
