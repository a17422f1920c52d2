// locus basins: Li, Ding & Sun's narrow-to-wide transition -- seeds x widths of one hidden layer
// trained and certified (workflows/basins.hpp), the transition table per width. Under
// `mpirun -np K` the runs are spread over the ranks (cli/ranks.hpp) and rank 0 writes the same
// result as a serial run.
// locus basins descent: the constructive descent path to zero loss at last-hidden width >= N,
// with its loss profile.

#include "locus/workflows/basins.hpp"

#include <cstdio>
#include <iostream>
#include <memory>

#include "cli/common.hpp"
#include "cli/progress.hpp"
#include "cli/ranks.hpp"
#include "cli/table_options.hpp"
#include "locus/io/atomic_file.hpp"
#include "locus/io/csv.hpp"

namespace locus::cli::basins_verb {
namespace {

namespace lw = locus::workflows;

struct BasinsCommand {
  DataOptions data;
  OutputOptions out;
  lw::BasinsOptions options;
  TableFlags flags;
  std::string out_dir;  // --out DIR: DIR/basins.json
};

// The data: the data flags, or the hand-made scalar data (lw::scalar_data) when no --dataset
// and no --x is given, or with --dataset scalar.
Dataset basins_data(const DataOptions& o, const MlpSpec& spec) {
  if ((o.dataset.empty() && o.x.empty()) || o.dataset == "scalar") return lw::scalar_data();
  return load_data(o, spec);
}

io::Json resolved(const BasinsCommand& cmd) {
  io::Json data = to_json(cmd.data);
  if ((cmd.data.dataset.empty() && cmd.data.x.empty())) data["dataset"] = "scalar";
  return {{"basins", lw::basins_table().to_json(cmd.options)},
          {"data", data},
          {"output", to_json(cmd.out)},
          {"out", cmd.out_dir}};
}

void run_basins(const BasinsCommand& cmd) {
  apply_output_options(cmd.out);
  validate_for_cli(lw::basins_table(), [&] { cmd.options.validate(); });
  const std::vector<MlpSpec> specs = lw::basins_specs(cmd.options);
  const Dataset data = basins_data(cmd.data, specs.front());
  data.validate();
  const Ranks ranks;
  single_threaded_blas();
  if (ranks.root() && !cmd.out_dir.empty()) io::require_writable(cmd.out_dir + "/basins.json");

  lw::BasinsResult result;
  if (ranks.size() == 1) {
    Progress progress("basins");
    result = lw::run_basins(cmd.options, data, [&](const lw::BasinRun& run, Index done, Index n) {
      progress.update({.stage = "runs (width " + std::to_string(run.width) + " seed " +
                                std::to_string(run.seed) + ": " + run.end_state + ")",
                       .done = done,
                       .total = n});
    });
    progress.finish();
  } else {
    // Each rank runs its share serially; the runs travel to rank 0 as JSON, which round-trips
    // every double exactly (basin_run_from_json).
    const std::vector<std::string> texts = ranks.gather(
        lw::basins_run_count(cmd.options),
        [&](Index i) { return lw::to_json(lw::basin_run(cmd.options, data, i)).dump(); });
    if (!ranks.root()) return;
    std::vector<lw::BasinRun> runs;
    for (const std::string& t : texts) runs.push_back(lw::basin_run_from_json(io::Json::parse(t)));
    result = lw::assemble_basins(cmd.options, data, std::move(runs));
  }
  const io::Json body = lw::to_json(result);
  if (!cmd.out_dir.empty())
    io::write_json(cmd.out_dir + "/basins.json", io::with_context(resolved(cmd), body));
  if (cmd.out.json)
    print_json(resolved(cmd), body);
  else
    std::cout << lw::summary(result);
}

struct DescentCommand {
  ModelOptions model;
  DataOptions data;
  OutputOptions out;
  lw::DescentOptions options;
  std::uint64_t start_seed = 0;  // start point without --params: N(0, 2^2) parameters
  std::string out_dir;           // --out DIR: DIR/descent.json and DIR/descent_profile.csv
};

void run_descent(const DescentCommand& cmd) {
  apply_output_options(cmd.out);
  with_option("--tries / --profile-points", [&] { cmd.options.validate(); });
  if (!cmd.out_dir.empty()) io::require_writable(cmd.out_dir + "/descent.json");
  LoadedModel m = load_model(cmd.model);
  const Eigen::VectorXd theta =
      m.theta ? *m.theta
              : m.model.init_parameters(
                    {.scheme = InitScheme::normal, .seed = cmd.start_seed, .std = 2.0});
  const Dataset data = basins_data(cmd.data, m.model.spec());
  const Objective objective(m.model, data);
  const lw::Descent d = lw::descend(objective, theta, cmd.options);
  io::Json resolved = {{"model", to_json(cmd.model)},
                       {"data", to_json(cmd.data)},
                       {"output", to_json(cmd.out)},
                       {"seed", cmd.options.seed},
                       {"tries", cmd.options.tries},
                       {"profile_points", cmd.options.profile_points},
                       {"loss_tolerance", cmd.options.loss_tolerance},
                       {"start_seed", cmd.start_seed},
                       {"out", cmd.out_dir}};
  io::Json body = {{"model", m.model.describe()}, {"data", data.name}};
  body.update(lw::to_json(d));
  if (!cmd.out_dir.empty()) {
    // Both files are replaced together or not at all.
    io::StagedFiles files;
    files.write(cmd.out_dir + "/descent.json", [&](const std::string& tmp) {
      io::write_json(tmp, io::with_context(resolved, body));
    });
    Eigen::MatrixXd rows(d.profile.t.size(), 2);
    rows << d.profile.t, d.profile.loss;
    files.write(cmd.out_dir + "/descent_profile.csv", [&](const std::string& tmp) {
      io::write_csv(tmp, {"t", "loss"}, rows);
    });
    files.commit();
  }
  if (cmd.out.json)
    print_json(resolved, body);
  else
    std::cout << lw::summary(d);
  if (d.status != lw::DescentStatus::reached_zero) throw std::runtime_error("descent " + d.message);
}

void setup_basins(CLI::App* app) {
  auto cmd = std::make_shared<BasinsCommand>();
  cmd->flags.add(app, lw::basins_table(), cmd->options);
  add_data_options(app, cmd->data);
  add_output_options(app, cmd->out);
  app->add_option("--out", cmd->out_dir, "directory for basins.json (written by rank 0)");
  add_list_options_flag(app, cmd->flags);

  CLI::App* descent = app->add_subcommand(
      "descent",
      "the descent path to zero loss at last-hidden width >= N: output weights moved inside ker "
      "Phi, zero-output neurons redrawn until rank Phi = N, then the least-squares segment");
  auto dc = std::make_shared<DescentCommand>();
  add_model_options(descent, dc->model, false);
  add_data_options(descent, dc->data);
  add_output_options(descent, dc->out);
  descent->add_option("--seed", dc->options.seed, "seed of the redrawn incoming weights");
  descent->add_option("--tries", dc->options.tries, "draws; the best-conditioned Phi is kept");
  descent->add_option("--profile-points", dc->options.profile_points, "loss profile grid");
  descent->add_option("--loss-tolerance", dc->options.loss_tolerance,
                      "reached_zero: final loss <= this");
  descent->add_option("--start-seed", dc->start_seed,
                      "start point without --params: N(0, 4) parameters from this seed");
  descent->add_option("--out", dc->out_dir, "directory for descent.json and descent_profile.csv");
  descent->callback([dc] { run_descent(*dc); });

  app->callback([cmd, app] {
    if (app->got_subcommand("descent")) return;
    cmd->flags.apply();
    run_basins(*cmd);
  });
}

const bool registered = register_command(
    {"basins",
     "Li-Ding-Sun: seeds x widths sweeps with certified end states, the transition table, and "
     "(basins descent) the wide-network descent path; spreads runs over MPI ranks under mpirun",
     setup_basins});

}  // namespace
}  // namespace locus::cli::basins_verb
