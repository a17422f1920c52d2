// locus walk: a predictor-corrector walk along the manifold of global minima M = L^{-1}(0) from
// a zero-loss point, with the loss along a random straight line of the same length for
// comparison, and (--dimension) dim M by projection sampling against n - rank J.

#include "locus/manifold/walk.hpp"

#include <cmath>
#include <iostream>
#include <memory>
#include <stdexcept>

#include "cli/common.hpp"
#include "cli/progress.hpp"
#include "cli/table_options.hpp"
#include "locus/io/atomic_file.hpp"
#include "locus/io/csv.hpp"
#include "locus/io/memory.hpp"

namespace locus::cli::walk_verb {
namespace {

namespace lm = locus::manifold;

// The interface-only options of the verb (the walk's own come from walk_table()).
struct WalkInterface {
  int line_points = lm::LineLossOptions{}.n_points;
  bool dimension = false;
  std::string out;  // CSV path
};

const options::Table<WalkInterface>& interface_table() {
  static const auto t =
      options::Table<WalkInterface>("walk")
          .add("line_points", "points on the comparison line (seeded direction: seed + 1)",
               &WalkInterface::line_points)
          .add("dimension",
               "also estimate dim M by projection sampling and compare with n - rank J",
               &WalkInterface::dimension)
          .add("out", "CSV file with one row per accepted step", &WalkInterface::out);
  return t;
}

struct WalkCommand {
  ModelOptions model;
  DataOptions data;
  OutputOptions out;
  lm::WalkOptions options;
  WalkInterface interface;
  TableFlags flags;
};

void run(const WalkCommand& cmd) {
  apply_output_options(cmd.out);
  const lm::WalkOptions& options = cmd.options;
  const WalkInterface& ui = cmd.interface;
  validate_for_cli(lm::walk_table(), [&] { options.validate(); });
  if (ui.line_points < 2)
    throw std::invalid_argument("--line-points must be >= 2, got " +
                                std::to_string(ui.line_points));
  io::check_memory(16.0 * double(ui.line_points), "--line-points " + std::to_string(ui.line_points),
                   "t and the loss, 2 doubles per point");
  if (!ui.out.empty()) io::require_writable(ui.out);
  LoadedModel m = load_model(cmd.model);
  if (!m.theta) throw std::invalid_argument("--params: the walk needs a start point");
  const Dataset data = load_data(cmd.data, m.model.spec());
  const Objective obj(m.model, data);
  const Eigen::VectorXd& theta0 = *m.theta;

  Progress progress("walk");
  const lm::WalkResult w = lm::walk_manifold(obj, theta0, options, progress.callback());

  // The comparison line: a seeded random direction (seed + 1), the walk's arc length.
  const double length = w.arc_length > 0 ? w.arc_length : options.step_size;
  const lm::LineLoss line =
      lm::loss_along_line(obj, theta0, lm::random_unit_direction(obj.n_params(), options.seed + 1),
                          {.length = length, .n_points = ui.line_points});

  std::optional<lm::DimensionEstimate> dim;
  if (ui.dimension)
    dim = lm::manifold_dimension_by_projection(obj, theta0, {.seed = options.seed},
                                               progress.callback());
  progress.finish();

  // The table is written only for a completed walk: a failed command leaves --out as it was.
  if (!ui.out.empty() && w.status == lm::WalkStatus::completed) {
    Eigen::MatrixXd rows(static_cast<Index>(w.steps.size()), 11);
    for (size_t k = 0; k < w.steps.size(); ++k) {
      const lm::WalkStep& s = w.steps[k];
      rows.row(static_cast<Index>(k)) << s.step, s.arc_length, s.distance_from_start, s.loss,
          s.step_size, s.corrector_iterations, s.rejected_attempts, s.turns,
          static_cast<double>(s.rank_jacobian), s.sigma_min_kept, s.rank_tolerance;
    }
    io::write_csv(
        ui.out,
        {"step", "arc_length", "distance_from_start", "loss", "step_size", "corrector_iterations",
         "rejected_attempts", "turns", "rank_jacobian", "sigma_min_kept", "rank_tolerance"},
        rows);
  }

  if (cmd.out.json) {
    io::Json body = {{"model", m.model.describe()},
                     {"n_params", obj.n_params()},
                     {"n_residuals", obj.n_residuals()}};
    body.update(lm::to_json(w));
    body["line"] = lm::to_json(line);
    body["line"]["direction_seed"] = options.seed + 1;
    if (dim) body["dimension"] = lm::to_json(*dim);
    io::Json resolved = {{"model", to_json(cmd.model)},
                         {"data", to_json(cmd.data)},
                         {"output", to_json(cmd.out)},
                         {"walk", lm::walk_table().to_json(options)},
                         {"interface", interface_table().to_json(ui)}};
    print_json(resolved, body);
  } else {
    std::cout << lm::summary(w) << "\n"
              << "random straight line of the same length: loss at the end "
              << line.loss(line.loss.size() - 1) << "\n";
    if (dim) std::cout << lm::summary(*dim) << "\n";
  }
  if (w.status != lm::WalkStatus::completed)
    throw std::runtime_error("walk " + w.message + (ui.out.empty() ? "" : "; --out not written"));
}

void setup_walk(CLI::App* app) {
  auto cmd = std::make_shared<WalkCommand>();
  add_model_options(app, cmd->model, true);
  add_data_options(app, cmd->data);
  add_output_options(app, cmd->out);
  cmd->flags.add(app, lm::walk_table(), cmd->options);
  cmd->flags.add(app, interface_table(), cmd->interface);
  add_list_options_flag(app, cmd->flags);
  app->callback([cmd] {
    cmd->flags.apply();
    run(*cmd);
  });
}

const bool registered = register_command(
    {"walk", "Walk along the manifold of global minima from a zero-loss point", setup_walk});

}  // namespace
}  // namespace locus::cli::walk_verb
