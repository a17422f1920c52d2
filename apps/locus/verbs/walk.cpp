// locus walk: a predictor-corrector walk along the manifold of global minima M = L^{-1}(0) from
// a zero-loss point, with the loss along a random straight line of the same length for
// comparison, and (--dimension) dim M by projection sampling against n - rank J.

#include <cmath>
#include <iostream>
#include <memory>
#include <stdexcept>

#include "cli/common.hpp"
#include "locus/manifold/walk.hpp"
#include "locus/io/atomic_file.hpp"
#include "locus/io/csv.hpp"

namespace locus::cli {
namespace {

namespace lc = locus::constructions;

struct WalkCommand {
  ModelOptions model;
  DataOptions data;
  OutputOptions out;
  int steps = lc::WalkOptions{}.steps;
  double step_size = lc::WalkOptions{}.step_size;
  double max_step_size = lc::WalkOptions{}.max_step_size;
  double max_length = lc::WalkOptions{}.max_length;
  std::uint64_t seed = lc::WalkOptions{}.seed;
  double loss_acceptable = lc::WalkOptions{}.loss_acceptable;
  int line_points = lc::LineLossOptions{}.n_points;
  bool dimension = false;
  std::string csv;
};

io::Json number(double v) { return std::isfinite(v) ? io::Json(v) : io::Json(nullptr); }

void run(const WalkCommand& cmd) {
  apply_output_options(cmd.out);
  if (!cmd.csv.empty()) io::require_writable(cmd.csv);
  LoadedModel m = load_model(cmd.model);
  if (!m.parameters) throw std::invalid_argument("--params: the walk needs a start point");
  const Dataset data = load_data(cmd.data, m.model.spec());
  const Objective obj(m.model, data);
  const Eigen::VectorXd& theta0 = *m.parameters;

  lc::WalkOptions options;
  options.steps = cmd.steps;
  options.step_size = cmd.step_size;
  options.max_step_size = std::max(cmd.max_step_size, cmd.step_size);
  options.max_length = cmd.max_length;
  options.seed = cmd.seed;
  options.loss_acceptable = cmd.loss_acceptable;
  const lc::WalkResult w = lc::walk_manifold(obj, theta0, options);

  // The comparison line: a seeded random direction (seed + 1), the walk's arc length.
  lc::LineLoss line;
  const double length = w.arc_length > 0 ? w.arc_length : options.step_size;
  line = lc::loss_along_line(obj, theta0, lc::random_unit_direction(obj.n_params(), cmd.seed + 1),
                             {.length = length, .n_points = cmd.line_points});

  std::optional<lc::DimensionEstimate> dim;
  if (cmd.dimension) dim = lc::manifold_dimension_by_projection(obj, theta0, {.seed = cmd.seed});

  if (!cmd.csv.empty()) {
    Eigen::MatrixXd rows(static_cast<Index>(w.steps.size()), 11);
    for (size_t k = 0; k < w.steps.size(); ++k) {
      const lc::WalkStep& s = w.steps[k];
      rows.row(static_cast<Index>(k)) << s.step, s.arc_length, s.distance_from_start, s.loss,
          s.step_size, s.corrector_iterations, s.rejected_attempts, s.turns,
          static_cast<double>(s.rank_jacobian), s.sigma_min_kept, s.rank_tolerance;
    }
    io::write_csv(
        cmd.csv,
        {"step", "arc_length", "distance_from_start", "loss", "step_size", "corrector_iterations",
         "rejected_attempts", "turns", "rank_jacobian", "sigma_min_kept", "rank_tolerance"},
        rows);
  }

  if (cmd.out.json) {
    io::Json steps = io::Json::array();
    for (const lc::WalkStep& s : w.steps)
      steps.push_back({{"step", s.step},
                       {"arc_length", s.arc_length},
                       {"distance_from_start", s.distance_from_start},
                       {"loss", s.loss},
                       {"step_size", s.step_size},
                       {"corrector_iterations", s.corrector_iterations},
                       {"rejected_attempts", s.rejected_attempts},
                       {"turns", s.turns},
                       {"rank_jacobian", s.rank_jacobian},
                       {"sigma_min_kept", s.sigma_min_kept},
                       {"rank_tolerance", s.rank_tolerance}});
    io::Json body;
    body["model"] = m.model.describe();
    body["n_params"] = obj.n_params();
    body["n_residuals"] = obj.n_residuals();
    body["status"] = std::string(lc::to_string(w.status));
    body["message"] = w.message;
    body["arc_length"] = w.arc_length;
    body["loss_max"] = w.loss_max;
    body["rank_jacobian_min"] = w.rank_min;
    body["rank_jacobian_max"] = w.rank_max;
    body["turns"] = w.turns;
    body["steps"] = steps;
    body["line"] = {
        {"direction_seed", cmd.seed + 1},
        {"t", std::vector<double>(line.t.data(), line.t.data() + line.t.size())},
        {"loss", std::vector<double>(line.loss.data(), line.loss.data() + line.loss.size())}};
    if (dim) {
      body["dimension"] = {{"by_projection", dim->dimension},
                           {"at_largest_gap", dim->dimension_at_largest_gap},
                           {"from_jacobian", dim->dimension_from_jacobian},
                           {"rank_jacobian", dim->jacobian.rank},
                           {"rank_tolerance", dim->jacobian.tolerance},
                           {"threshold", dim->threshold},
                           {"gap_ratio", number(dim->gap_ratio)},
                           {"n_samples", dim->n_samples},
                           {"n_projected", dim->n_projected},
                           {"agrees", dim->agrees()}};
    }
    io::Json resolved = {{"model", to_json(cmd.model)},
                         {"data", to_json(cmd.data)},
                         {"steps", cmd.steps},
                         {"step_size", cmd.step_size},
                         {"max_step_size", options.max_step_size},
                         {"max_length", number(cmd.max_length)},
                         {"seed", cmd.seed},
                         {"loss_tolerance", options.loss_tolerance},
                         {"loss_acceptable", cmd.loss_acceptable},
                         {"line_points", cmd.line_points},
                         {"dimension", cmd.dimension},
                         {"csv", cmd.csv}};
    print_json(resolved, body);
  } else {
    std::cout << "walk: " << lc::to_string(w.status) << ": " << w.message << "\n"
              << "random straight line of the same length: loss at the end "
              << line.loss(line.loss.size() - 1) << "\n";
    if (dim)
      std::cout << "dim M by projection sampling: " << dim->dimension
                << " (n - rank J = " << dim->dimension_from_jacobian << ", gap " << dim->gap_ratio
                << ")\n";
  }
  if (w.status != lc::WalkStatus::completed) throw std::runtime_error("walk " + w.message);
}

void setup_walk(CLI::App* app) {
  auto cmd = std::make_shared<WalkCommand>();
  add_model_options(app, cmd->model, true);
  add_data_options(app, cmd->data);
  add_output_options(app, cmd->out);
  app->add_option("--steps", cmd->steps, "accepted predictor-corrector steps")
      ->capture_default_str();
  app->add_option("--step-size", cmd->step_size, "initial predictor step (parameter space)")
      ->capture_default_str();
  app->add_option("--max-step-size", cmd->max_step_size, "largest predictor step")
      ->capture_default_str();
  app->add_option("--max-length", cmd->max_length, "stop at this arc length")
      ->capture_default_str();
  app->add_option("--seed", cmd->seed,
                  "seed of the initial tangent direction (the comparison line uses seed + 1)")
      ->capture_default_str();
  app->add_option("--loss-acceptable", cmd->loss_acceptable,
                  "largest loss of an accepted point on M")
      ->capture_default_str();
  app->add_option("--line-points", cmd->line_points, "points on the comparison line")
      ->capture_default_str();
  app->add_flag("--dimension", cmd->dimension,
                "also estimate dim M by projection sampling and compare with n - rank J");
  app->add_option("--out", cmd->csv, "CSV file with one row per accepted step");
  app->callback([cmd] { run(*cmd); });
}

const bool registered = register_command(
    {"walk", "Walk along the manifold of global minima from a zero-loss point", setup_walk});

}  // namespace
}  // namespace locus::cli
