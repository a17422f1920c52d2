// The walk's options table and the manifold results as JSON and text (walk.hpp, last section).

#include <cstdio>
#include <vector>

#include "locus/io/json_numbers.hpp"
#include "locus/manifold/walk.hpp"

namespace locus::manifold {

namespace {

std::string format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

}  // namespace

const options::Table<WalkOptions>& walk_table() {
  using O = WalkOptions;
  static const auto t =
      options::Table<O>("WalkOptions")
          .add("steps", "accepted predictor-corrector steps", &O::steps)
          .add("step_size", "initial predictor step (parameter space)", &O::step_size)
          .add("max_step_size", "largest predictor step (>= step_size)", &O::max_step_size)
          .add("min_step_size", "below this a direction is abandoned (a turn)", &O::min_step_size)
          .add("max_turns", "new random tangent directions allowed per walk", &O::max_turns)
          .add("max_length", "stop at this arc length; inf = no limit", &O::max_length)
          .add("seed", "seed of the initial tangent direction", &O::seed)
          .add("loss_tolerance", "the corrector aims for L <= this", &O::loss_tolerance)
          .add("loss_acceptable", "largest loss of an accepted point on M", &O::loss_acceptable)
          .add("max_corrector_iterations", "Gauss-Newton corrector iterations per step",
               &O::max_corrector_iterations)
          .add("record_path", "keep every accepted point (WalkResult::path)", &O::record_path);
  return t;
}

const options::Table<ManifoldProjectionOptions>& projection_table() {
  using O = ManifoldProjectionOptions;
  static const auto t =
      options::Table<O>("ManifoldProjectionOptions")
          .add("loss_tolerance", "stop when L = |H|^2 <= this", &O::loss_tolerance)
          .add("max_iterations", "Newton steps at most", &O::max_iterations);
  return t;
}

const options::Table<LineLossOptions>& line_loss_table() {
  using O = LineLossOptions;
  static const auto t = options::Table<O>("LineLossOptions")
                            .add("length", "the line's length (parameter space)", &O::length)
                            .add("n_points", "evaluation points, ends included", &O::n_points);
  return t;
}

const options::Table<DimensionOptions>& dimension_table() {
  using O = DimensionOptions;
  static const auto t =
      options::Table<O>("DimensionOptions")
          .add("n_samples", "perturbed samples K; none: 2n", &O::n_samples)
          .add("radius", "|delta_k| of each perturbation", &O::radius)
          .add("seed", "seed of the perturbations", &O::seed)
          .add("loss_acceptable", "samples projected above this loss are left out",
               &O::loss_acceptable);
  return t;
}

io::Json to_json(const ResidualJacobianRank& r) {
  return {{"rank", r.rank},
          {"rows", r.rows},
          {"cols", r.cols},
          {"tolerance", io::json_number(r.tolerance)},
          {"sigma_max", io::json_number(r.sigma_max)},
          {"sigma_min_kept", io::json_number(r.sigma_min_kept)},
          {"sigma_first_dropped", io::json_number(r.sigma_first_dropped)}};
}

io::Json to_json(const ManifoldProjection& p) {
  return {{"status", std::string(to_string(p.status))},
          {"message", p.message},
          {"loss_initial", io::json_number(p.loss_initial)},
          {"loss_final", io::json_number(p.loss_final)},
          {"iterations", p.iterations}};
}

io::Json to_json(const WalkResult& w) {
  io::Json steps = io::Json::array();
  for (const WalkStep& s : w.steps)
    steps.push_back({{"step", s.step},
                     {"arc_length", io::json_number(s.arc_length)},
                     {"distance_from_start", io::json_number(s.distance_from_start)},
                     {"loss", io::json_number(s.loss)},
                     {"step_size", io::json_number(s.step_size)},
                     {"corrector_iterations", s.corrector_iterations},
                     {"rejected_attempts", s.rejected_attempts},
                     {"turns", s.turns},
                     {"rank_jacobian", s.rank_jacobian},
                     {"sigma_min_kept", io::json_number(s.sigma_min_kept)},
                     {"rank_tolerance", io::json_number(s.rank_tolerance)}});
  return {{"status", std::string(to_string(w.status))},
          {"message", w.message},
          {"arc_length", io::json_number(w.arc_length)},
          {"loss_max", io::json_number(w.loss_max)},
          {"rank_jacobian_min", w.rank_min},
          {"rank_jacobian_max", w.rank_max},
          {"turns", w.turns},
          {"steps", steps}};
}

std::string summary(const WalkResult& w) {
  std::string s = "walk: " + std::string(to_string(w.status)) + ": " + w.message + "\n";
  s += "  accepted points = " + std::to_string(w.steps.size()) + "\n";
  s += "  arc length      = " + format("%.6g", w.arc_length) + "\n";
  s += "  max loss on M   = " + format("%.3e", w.loss_max) + "\n";
  s += "  rank J          = " + std::to_string(w.rank_min) + " .. " + std::to_string(w.rank_max) +
       "\n";
  s += "  turns           = " + std::to_string(w.turns);
  return s;
}

io::Json to_json(const LineLoss& line) {
  return {{"t", io::json_numbers(line.t)}, {"loss", io::json_numbers(line.loss)}};
}

io::Json to_json(const DimensionEstimate& e) {
  return {{"by_projection", e.dimension},
          {"at_largest_gap", e.dimension_at_largest_gap},
          {"from_jacobian", e.dimension_from_jacobian},
          {"rank_jacobian", e.jacobian.rank},
          {"rank_tolerance", io::json_number(e.jacobian.tolerance)},
          {"threshold", io::json_number(e.threshold)},
          {"gap_ratio", io::json_number(e.gap_ratio)},
          {"n_samples", e.n_samples},
          {"n_projected", e.n_projected},
          {"loss_max_projected", io::json_number(e.loss_max_projected)},
          {"agrees", e.agrees()}};
}

std::string summary(const DimensionEstimate& e) {
  return "dim M by projection sampling = " + std::to_string(e.dimension) +
         " (n - rank J = " + std::to_string(e.dimension_from_jacobian) + ", gap " +
         format("%.3g", e.gap_ratio) + "): " + (e.agrees() ? "agrees" : "disagrees");
}

}  // namespace locus::manifold
