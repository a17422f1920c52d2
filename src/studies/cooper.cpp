// The Cooper study (PAPERS.md §1): zero-loss points of overparameterized MLPs, reached by
// Cooper's constructions and by training, certified: rank J = l d (0 is a regular value), the
// manifold of minima has dimension n - l d (from rank J and by projection sampling), the Hessian
// has l d positive and n - l d zero eigenvalues with the positive ones equal to 2 sigma_k(J)^2,
// a walk along M keeps the loss at round-off while a straight line does not, a degenerate point
// and its Sard fix, and Cor 3.4 as printed against its working form.
//
// Structure: the computations (grid, walk, degenerate point, Cor 3.4) fill evidence records;
// each claim is a small function of its records that decides holds / fails, or skipped when
// there was nothing to check.

#include "locus/studies/cooper.hpp"

#include <Eigen/SVD>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <limits>
#include <optional>
#include <stdexcept>
#include <utility>

#include "locus/analysis/geometry.hpp"
#include "locus/constructions/cooper.hpp"
#include "locus/core/objective.hpp"
#include "locus/data/builtin.hpp"
#include "locus/data/synthetic.hpp"
#include "locus/io/format.hpp"
#include "locus/io/memory.hpp"
#include "locus/manifold/walk.hpp"
#include "locus/solvers/levenberg_marquardt.hpp"
#include "locus/workflows/sard.hpp"

namespace locus::studies {

namespace {

using io::Json;
namespace lc = locus::constructions;
namespace lm = locus::manifold;
using options::OptionError;

constexpr const char* k_cooper_owner = "CooperStudyOptions";
constexpr const char* k_cooper_title =
    "Cooper (2018): the global minima of an overparameterized MLP form an (n - l d)-dimensional "
    "manifold";

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\n") - b + 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == sep) {
      parts.push_back(trim(s.substr(start, i - start)));
      start = i + 1;
    }
  return parts;
}

std::vector<Index> parse_arch(const std::string& text) {
  std::vector<Index> widths;
  for (const std::string& w : split(text, ','))
    widths.push_back(options::parse_integer(k_cooper_owner, "degenerate_arch", w));
  if (widths.size() < 2 || *std::min_element(widths.begin(), widths.end()) < 1)
    throw OptionError(k_cooper_owner, "degenerate_arch",
                      "needs >= 2 positive widths (e.g. 3,6,1), got '" + text + "'");
  return widths;
}

Activation activation_option(const std::string& field, const std::string& name) {
  try {
    return parse_activation(name);
  } catch (const std::invalid_argument& e) {
    throw OptionError(k_cooper_owner, field, e.what());
  }
}

// "1 run", "3 runs".
std::string plural(std::size_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

std::string arch_string(const MlpSpec& s) {
  std::string a = "[";
  for (Index w : s.widths) {
    if (a.size() > 1) a += ',';
    a += std::to_string(w);
  }
  return a + "]";
}

// Data of a run: Gaussian inputs and labels, or a seeded subset of a built-in dataset
// (standardised features; l = 1: the class label as a number, else one-hot).
Dataset make_data(CooperRun& r) {
  if (r.data == "random") return gaussian_data(r.d, r.p, r.l, r.seed);
  Dataset data = load_builtin(
      r.data,
      {.standardize = true, .one_hot = r.l > 1, .n_points = r.d, .seed = std::uint64_t(r.seed)});
  r.p = data.input_dim();
  r.l = data.output_dim();
  return data;
}

// Runs f, a step of run k whose memory depends on the run's keys `keys`; a size it refuses
// (io::MemoryLimitError) is reported under "runs" with the entry's index and text and, of those
// keys, the one with the largest value: "runs" entry 0 'p=2,h=8,d=1000000000' (d = 1000000000):
// gaussian data of ... needs about 22.4 GiB ....
template <class F>
auto sized_in_run(std::size_t k, const CooperRun& r, std::initializer_list<const char*> keys, F&& f)
    -> decltype(f()) {
  try {
    return f();
  } catch (const io::MemoryLimitError& e) {
    const char* key = *keys.begin();
    std::int64_t largest = -1;
    for (const char* name : keys) {
      const std::string n = name;
      const std::int64_t v = n == "d"   ? r.d
                             : n == "p" ? r.p
                             : n == "h" ? r.h
                             : n == "l" ? r.l
                                        : r.depth;
      if (v > largest) key = name, largest = v;
    }
    throw OptionError(k_cooper_owner, "runs",
                      "entry " + std::to_string(k) + " '" + r.text + "' (" + key + " = " +
                          std::to_string(largest) + "): " + e.what());
  }
}

struct Point {
  Mlp model;
  Eigen::VectorXd theta;
  std::string how;
};

Point zero_loss_point(const CooperRun& r, const Dataset& data, double train_loss_tolerance) {
  const std::uint64_t seed = r.seed;
  if (r.method == "construction") {
    const lc::CooperConstruction c =
        lc::construct_cooper(data, {.activation = parse_activation(r.activation),
                                    .depth = r.depth,
                                    .width = r.h,
                                    .seed = seed});
    return {Mlp(c.spec), c.theta, c.message};
  }
  std::vector<Index> widths = {r.p};
  for (int t = 0; t < r.depth; ++t) widths.push_back(r.h);
  widths.push_back(r.l);
  Mlp model({.widths = widths, .activation = parse_activation(r.activation)});
  const Objective obj(model, data);
  const auto res =
      solvers::solve_levenberg_marquardt(obj, model.init_parameters({.seed = seed}),
                                         {.stop = {.gradient_tolerance = 0.0,
                                                   .loss_tolerance = train_loss_tolerance,
                                                   .max_iterations = 500}});
  return {std::move(model), res.theta, res.message};
}

// ---- Evidence records --------------------------------------------------------------------------

// One certified zero-loss point of the grid.
struct RunRecord {
  bool construction = true;  // else trained (lm)
  Index n = 0, ld = 0;
  double loss = NAN, max_abs_residual = NAN, max_abs_target = NAN;
  bool residual_ok = false;  // construction: max|r| <= rtol max|y|; lm: loss <= 100 tol
  Index rank = 0;
  bool rank_ok = false;                 // rank J = l d
  std::optional<Index> projection_dim;  // when n <= projection_max_params
  bool projection_ok = true;
  bool hessian_checked = false;  // complete dense spectrum (n <= hessian_max_params)
  bool counts_ok = true;
  double eigen_abs = NAN, eigen_rtol = NAN, hessian_tolerance = NAN;
};

struct WalkRecord {
  Index run = 0;
  lm::WalkResult walk;
  lm::LineLoss line;  // the straight line of the walk's length, same number of points
  double line_loss_max() const { return line.loss.maxCoeff(); }
};

struct Cor34Record {
  Index d = 0;
  int depth = 0;
  double max_abs_target = NAN;
  lc::CooperConstruction literal, working;
};

// ---- Claims ------------------------------------------------------------------------------------

Claim construction_claim(const std::vector<RunRecord>& runs, double rtol) {
  const char* statement =
      "Cooper's construction (Lemma 3.3, Cor 3.4 working form, multi-output) "
      "fits d distinct points exactly with width h >= d";
  int count = 0, failed = 0;
  double worst = 0;  // max over runs of max|r| / max|y|
  for (const RunRecord& r : runs) {
    if (!r.construction) continue;
    ++count;
    failed += !r.residual_ok;
    worst = std::max(worst, r.max_abs_residual / r.max_abs_target);
  }
  if (count == 0) return skip("construction", statement, "No construction runs in the grid.");
  return decide(
      "construction", statement, failed == 0,
      {{"runs", count},
       {"runs_failed", failed},
       {"max_residual_over_max_target", io::json_number(worst)},
       {"tolerance_relative", rtol}},
      plural(count, "construction") + "; worst max|r| / max|y| = " + io::format_number(worst) +
          (failed ? " > " : " <= ") + io::format_number(rtol) + " (runs table: max_abs_residual).");
}

Claim training_claim(const std::vector<RunRecord>& runs, double train_loss_tolerance) {
  const char* statement =
      "Training from a random init (Levenberg-Marquardt) reaches zero loss "
      "on overparameterized nets";
  int count = 0, failed = 0;
  double worst = 0;
  for (const RunRecord& r : runs) {
    if (r.construction) continue;
    ++count;
    failed += !r.residual_ok;
    worst = std::max(worst, r.loss);
  }
  if (count == 0) return skip("training", statement, "No training (method=lm) runs in the grid.");
  const double bound = train_loss_tolerance * 1e2;
  return decide("training", statement, failed == 0,
                {{"runs", count},
                 {"runs_failed", failed},
                 {"loss_max", io::json_number(worst)},
                 {"loss_bound", bound}},
                plural(count, "run") + "; largest final loss " + io::format_number(worst) +
                    (failed ? " > " : " <= ") + io::format_number(bound) + " (runs table: loss).");
}

Claim regular_value_claim(const std::vector<RunRecord>& runs) {
  const char* statement =
      "At every zero-loss point rank J = l d: 0 is a regular value and "
      "dim M = n - l d (Thm 2.1, Thm 4.1)";
  int failed = 0;
  for (const RunRecord& r : runs) failed += !r.rank_ok;
  // validate() requires a non-empty grid, so this check always runs.
  return decide(
      "regular_value", statement, failed == 0, {{"runs", runs.size()}, {"runs_failed", failed}},
      "rank J = l d in " + std::to_string(runs.size() - failed) + " of " +
          std::to_string(runs.size()) + " runs (runs table: rank_J, rank_tolerance, rank_gap).");
}

Claim hessian_claim(const std::vector<RunRecord>& runs, double eigen_rtol,
                    std::int64_t hessian_max_params) {
  const char* statement =
      "The Hessian at a minimum has l d positive, n - l d zero, no negative "
      "eigenvalues, the positive ones equal to 2 sigma_k(J)^2 (Prop 2.3)";
  int count = 0, failed = 0, rtol_above = 0;
  double worst_abs_over_tol = 0;  // max |lambda_k - 2 sigma_k^2| / tau_H
  for (const RunRecord& r : runs) {
    if (!r.hessian_checked) continue;
    ++count;
    failed += !r.counts_ok;
    rtol_above += r.eigen_rtol > eigen_rtol;
    worst_abs_over_tol = std::max(worst_abs_over_tol, r.eigen_abs / r.hessian_tolerance);
  }
  if (count == 0)
    return skip("hessian", statement,
                "No run with n <= hessian_max_params = " + std::to_string(hessian_max_params) +
                    " (Prop 2.3 is checked on dense spectra).");
  // lambda_k = 2 sigma_k^2 up to round-off: Weyl bounds the difference by n eps |H|, which
  // tau_H (10 n eps |H|) covers; the relative difference is reported beside it.
  return decide("hessian", statement, failed == 0,
                {{"runs", count},
                 {"runs_failed", failed},
                 {"max_eigen_abs_over_tolerance", io::json_number(worst_abs_over_tol)},
                 {"eigen_rtol", eigen_rtol},
                 {"runs_rtol_above", rtol_above}},
                std::to_string(count) + (count == 1 ? " dense spectrum, " : " dense spectra, ") +
                    std::to_string(count - failed) +
                    " with the predicted inertia; max |lambda_k - 2 sigma_k^2| / tau_H = " +
                    io::format_number(worst_abs_over_tol) +
                    " (tau_H = 10 n eps |H|); relative difference above " +
                    io::format_number(eigen_rtol) + " in " + std::to_string(rtol_above) +
                    " (tiny eigenvalues of ill-conditioned J).");
}

Claim projection_claim(const std::vector<RunRecord>& runs, std::int64_t projection_max_params) {
  const char* statement =
      "Projecting random nearby points onto M gives the same dimension as "
      "n - rank J";
  int count = 0, failed = 0;
  for (const RunRecord& r : runs) {
    if (!r.projection_dim) continue;
    ++count;
    failed += !r.projection_ok;
  }
  if (count == 0)
    return skip(
        "projection_dimension", statement,
        "No run with n <= projection_max_params = " + std::to_string(projection_max_params) + ".");
  return decide(
      "projection_dimension", statement, failed == 0,
      {{"runs", count}, {"runs_failed", failed}, {"projection_max_params", projection_max_params}},
      std::to_string(count - failed) + " of " + plural(count, "run") + " with n <= " +
          std::to_string(projection_max_params) + " agree (runs table: dimension_projection).");
}

Claim walk_claim(const std::optional<WalkRecord>& w, const CooperStudyOptions::Walk& o) {
  const char* statement =
      "A walk along M keeps the loss at round-off over a path of length >= 1, "
      "while a straight line of the same length leaves M";
  if (!w) return skip("walk", statement, "No walk (walk_run = -1).");
  const double loss_max = w->walk.loss_max;
  const bool long_enough = w->walk.arc_length >= o.min_length;
  const bool on_m = loss_max <= o.loss_max;
  const bool line_leaves = w->line_loss_max() > 1e3 * loss_max;
  std::string why = "arc length " + io::format_number(w->walk.arc_length) +
                    (long_enough ? " >= " : " < ") + io::format_number(o.min_length) +
                    ", max loss on M " + io::format_number(loss_max) + (on_m ? " <= " : " > ") +
                    io::format_number(o.loss_max) + ", max loss on the line " +
                    io::format_number(w->line_loss_max()) + (line_leaves ? " > " : " <= ") +
                    "1e3 x max loss on M.";
  return decide("walk", statement, long_enough && on_m && line_leaves,
                {{"run", w->run},
                 {"arc_length", io::json_number(w->walk.arc_length)},
                 {"min_length", o.min_length},
                 {"loss_max", io::json_number(loss_max)},
                 {"loss_bound", o.loss_max},
                 {"line_loss_max", io::json_number(w->line_loss_max())}},
                why);
}

Claim degenerate_claim(const workflows::SardCheck& s) {
  const char* statement =
      "y = 0, theta = 0 is a degenerate zero-loss point (rank J < l d); "
      "perturbing the labels (Sard) restores full rank";
  const double loss_bound = 1e-20;  // the new zero-loss point (LM stops at 1e-26)
  return decide("degenerate", statement, s.restored() && s.loss_after <= loss_bound,
                {{"rank_before", s.rank_before},
                 {"rank_after", s.rank_after},
                 {"l_times_d", s.n_residuals},
                 {"loss_after", io::json_number(s.loss_after)},
                 {"loss_bound", loss_bound},
                 {"epsilon", s.epsilon}},
                "rank " + std::to_string(s.rank_before) + " -> " + std::to_string(s.rank_after) +
                    " of " + std::to_string(s.n_residuals) + ", loss after " +
                    io::format_number(s.loss_after) + ".");
}

Claim cor34_claim(const Cor34Record& c, double rtol) {
  const char* statement =
      "Cor 3.4 as printed fails for d >= 2 (one node carries the signal) "
      "while its working form fits exactly";
  const double bound = rtol * c.max_abs_target;
  const bool literal_fails = c.literal.max_abs_residual > bound;
  const bool working_fits = c.working.max_abs_residual <= bound;
  return decide("cor34", statement, literal_fails && working_fits,
                {{"literal_max_abs_residual", io::json_number(c.literal.max_abs_residual)},
                 {"working_max_abs_residual", io::json_number(c.working.max_abs_residual)},
                 {"bound", bound}},
                "max |residual| literal " + io::format_number(c.literal.max_abs_residual) +
                    (literal_fails ? " > " : " <= ") + io::format_number(bound) + ", working " +
                    io::format_number(c.working.max_abs_residual) +
                    (working_fits ? " <= " : " > ") + io::format_number(bound) + " (rtol max|y|).");
}

}  // namespace

// ---- Options -----------------------------------------------------------------------------------

std::vector<CooperRun> parse_cooper_runs(const std::string& text) {
  std::vector<CooperRun> runs;
  for (const std::string& entry : split(text, ';')) {
    if (entry.empty()) continue;  // a trailing ';'
    CooperRun r;
    r.text = entry;
    auto bad = [&](const std::string& problem) {
      return OptionError(k_cooper_owner, "runs", "entry '" + entry + "': " + problem);
    };
    for (const std::string& item : split(entry, ',')) {
      const auto eq = item.find('=');
      if (eq == std::string::npos) throw bad("'" + item + "' is not key=value");
      const std::string key = trim(item.substr(0, eq)), value = trim(item.substr(eq + 1));
      auto integer = [&] {
        try {
          return options::parse_integer(k_cooper_owner, "runs", value);
        } catch (const OptionError& e) {
          throw bad(key + " " + e.problem());
        }
      };
      if (key == "data")
        r.data = value;
      else if (key == "p")
        r.p = integer();
      else if (key == "h")
        r.h = integer();
      else if (key == "d")
        r.d = integer();
      else if (key == "l")
        r.l = integer();
      else if (key == "depth") {
        const std::int64_t depth = integer();
        if (!std::in_range<int>(depth))
          throw bad("depth " + std::to_string(depth) + " is too large");
        r.depth = static_cast<int>(depth);
      } else if (key == "seed")
        r.seed = integer();
      else if (key == "activation")
        r.activation = value;
      else if (key == "method")
        r.method = value;
      else
        throw bad("unknown key '" + key + "' (data, p, h, d, l, depth, activation, method, seed)");
    }
    if (r.h < 1 || r.d < 1 || r.l < 1 || r.depth < 1) throw bad("h, d, l and depth must be >= 1");
    if (r.data == "random" && r.p < 1) throw bad("random data needs p >= 1");
    if (r.method != "construction" && r.method != "lm")
      throw bad("method must be construction or lm, got '" + r.method + "'");
    if (r.seed < -1) throw bad("seed must be >= 0");
    try {
      parse_activation(r.activation);
    } catch (const std::invalid_argument& e) {
      throw bad(e.what());
    }
    runs.push_back(r);
  }
  if (runs.empty()) throw OptionError(k_cooper_owner, "runs", "needs at least one run");
  return runs;
}

void CooperStudyOptions::validate() const {
  const std::size_t n_runs = parse_cooper_runs(runs).size();
  auto positive = [](const char* field, double v) {
    if (!(v > 0))
      throw OptionError(k_cooper_owner, field, "must be > 0, got " + io::format_number(v));
  };
  if (projection_max_params < 0)
    throw OptionError(k_cooper_owner, "projection_max_params", "must be >= 0");
  if (hessian_max_params < 0)
    throw OptionError(k_cooper_owner, "hessian_max_params", "must be >= 0");
  positive("projection_radius", projection_radius);
  positive("train_loss_tolerance", train_loss_tolerance);
  positive("residual_tolerance_relative", residual_tolerance_relative);
  positive("eigen_rtol", eigen_rtol);
  if (walk.run < -1 || walk.run >= static_cast<int>(n_runs))
    throw OptionError(k_cooper_owner, "walk_run",
                      "must be -1 (no walk) or an index into runs (0.." +
                          std::to_string(n_runs - 1) + "), got " + std::to_string(walk.run));
  if (walk.steps < 1) throw OptionError(k_cooper_owner, "walk_steps", "must be >= 1");
  if (!(walk.min_length >= 0)) throw OptionError(k_cooper_owner, "walk_min_length", "must be >= 0");
  positive("walk_loss_max", walk.loss_max);
  parse_arch(degenerate.arch);
  activation_option("degenerate_activation", degenerate.activation);
  if (degenerate.points < 1) throw OptionError(k_cooper_owner, "degenerate_points", "must be >= 1");
  positive("sard_epsilon", degenerate.sard_epsilon);
  if (cor34.depth < 1) throw OptionError(k_cooper_owner, "cor34_depth", "must be >= 1");
  if (cor34.points < 1) throw OptionError(k_cooper_owner, "cor34_points", "must be >= 1");
}

const options::Table<CooperStudyOptions>& cooper_study_options_table() {
  using O = CooperStudyOptions;
  static const auto t =
      options::Table<O>(k_cooper_owner)
          .add("seed", "run k uses seed + k", &O::seed)
          .add("runs",
               "the grid: ';'-separated runs of key=value (data, p, h, d, l, depth, "
               "activation, method, seed)",
               &O::runs)
          .add("projection_max_params", "projection sampling for n up to this",
               &O::projection_max_params)
          .add("projection_radius", "distance of the projected points", &O::projection_radius)
          .add("hessian_max_params", "dense Hessian for n up to this", &O::hessian_max_params)
          .add("train_loss_tolerance", "LM stops at this loss", &O::train_loss_tolerance)
          .add("residual_tolerance_relative", "construction bound max|r| <= this * max|y|",
               &O::residual_tolerance_relative)
          .add("eigen_rtol", "relative lambda_k vs 2 sigma_k^2 difference counted in the evidence",
               &O::eigen_rtol)
          .add("walk_run", "run index of the walk's start; -1: no walk",
               [](O& o) -> int& { return o.walk.run; })
          .add("walk_steps", "steps of the walk", [](O& o) -> int& { return o.walk.steps; })
          .add("walk_min_length", "arc length the walk must reach",
               [](O& o) -> double& { return o.walk.min_length; })
          .add("walk_loss_max", "loss bound along the walk",
               [](O& o) -> double& { return o.walk.loss_max; })
          .add("degenerate_arch", "widths of the degenerate point's network",
               [](O& o) -> std::string& { return o.degenerate.arch; })
          .add("degenerate_activation", "activation of the degenerate point's network",
               [](O& o) -> std::string& { return o.degenerate.activation; })
          .add("degenerate_points", "d of the degenerate point",
               [](O& o) -> int& { return o.degenerate.points; })
          .add("sard_epsilon", "bound of the Sard label perturbation",
               [](O& o) -> double& { return o.degenerate.sard_epsilon; })
          .add("cor34_depth", "depth of the Cor 3.4 comparison",
               [](O& o) -> int& { return o.cor34.depth; })
          .add("cor34_points", "d of the Cor 3.4 comparison",
               [](O& o) -> int& { return o.cor34.points; });
  return t;
}

// ---- The study ---------------------------------------------------------------------------------

StudyResult run_cooper_study(const CooperStudyOptions& opt, const ProgressCallback& progress) {
  opt.validate();
  const std::uint64_t seed = opt.seed;
  const double rtol = opt.residual_tolerance_relative;
  std::vector<CooperRun> grid = parse_cooper_runs(opt.runs);

  Table runs({"run",
              "data",
              "method",
              "activation",
              "architecture",
              "n_params",
              "l_times_d",
              "loss",
              "max_abs_residual",
              "max_abs_target",
              "rank_J",
              "rank_tolerance",
              "rank_gap",
              "dimension_jacobian",
              "predicted_dimension",
              "dimension_projection",
              "projection_gap",
              "hessian_positive",
              "hessian_zero",
              "hessian_negative",
              "hessian_tolerance",
              "hessian_gap",
              "eigen_vs_2sigma2_abs",
              "eigen_vs_2sigma2_rtol",
              "verdict"});
  Table spectrum({"index", "eigenvalue", "two_sigma_squared", "class"});
  std::vector<RunRecord> records;
  std::optional<WalkRecord> walk_record;
  Json spectrum_run = nullptr;
  double spectrum_tol = 0;
  for (std::size_t k = 0; k < grid.size(); ++k) {
    report_progress(progress, {.stage = "runs (train, certify, analyze)",
                               .done = static_cast<long long>(k),
                               .total = static_cast<long long>(grid.size())});
    CooperRun& r = grid[k];
    if (r.seed < 0) r.seed = static_cast<std::int64_t>(seed + k);
    const Dataset data = sized_in_run(k, r, {"d", "p", "l"}, [&] { return make_data(r); });
    const Point pt = sized_in_run(k, r, {"h", "d", "p", "l", "depth"}, [&] {
      return zero_loss_point(r, data, opt.train_loss_tolerance);
    });
    const Objective obj =
        sized_in_run(k, r, {"h", "d", "depth"}, [&] { return Objective(pt.model, data); });
    analysis::AnalyzeOptions certify;
    if (obj.n_params() > opt.hessian_max_params)
      certify.spectrum.method = analysis::SpectrumMethod::lanczos;
    const analysis::PointAnalysis c = analysis::analyze_point(obj, pt.theta, certify);
    RunRecord rec;
    rec.construction = r.method == "construction";
    rec.n = obj.n_params();
    rec.ld = obj.n_residuals();
    rec.loss = c.loss;
    rec.max_abs_residual = obj.residuals(pt.theta).cwiseAbs().maxCoeff();
    rec.max_abs_target = data.y.cwiseAbs().maxCoeff();
    rec.residual_ok = rec.construction ? rec.max_abs_residual <= rtol * rec.max_abs_target
                                       : c.loss <= opt.train_loss_tolerance * 1e2;
    rec.rank = c.jacobian.rank;
    rec.rank_ok = c.jacobian.rank == rec.ld;
    std::optional<double> proj_gap;
    if (rec.n <= opt.projection_max_params) {
      const lm::DimensionEstimate e = lm::manifold_dimension_by_projection(
          obj, pt.theta, {.radius = opt.projection_radius, .seed = seed + k});
      rec.projection_dim = e.dimension;
      proj_gap = e.gap_ratio;
      rec.projection_ok = e.agrees();
    }
    std::optional<Index> pos, zero, neg;
    std::optional<double> htol, hgap;
    if (c.hessian.counts.complete) {
      const analysis::InertiaCount& h = c.hessian.counts;
      pos = h.positive, zero = h.zero, neg = h.negative, htol = h.tolerance, hgap = h.gap;
      // Prop 2.3 is checked on dense spectra (analyze_point pairs lambda_k with 2 sigma_k^2
      // there only); a Lanczos spectrum that happens to be complete leaves the claim unchecked.
      rec.hessian_checked = c.hessian.method == analysis::SpectrumMethod::dense;
      rec.eigen_abs = c.eigen_vs_gauss_newton_abs;
      rec.eigen_rtol = c.eigen_vs_gauss_newton_rtol;
      rec.hessian_tolerance = h.tolerance;
      if (rec.hessian_checked)
        rec.counts_ok = h.positive == rec.ld && h.zero == rec.n - rec.ld && h.negative == 0 &&
                        c.eigen_vs_gauss_newton_abs <= h.tolerance;
      if (spectrum_run.is_null() && r.method == "lm") {
        spectrum_run = {{"run", k}, {"architecture", arch_string(pt.model.spec())}, {"d", r.d}};
        spectrum_tol = h.tolerance;
        const Eigen::VectorXd& ev = c.hessian.eigenvalues;
        for (Index i = 0; i < ev.size(); ++i) {
          const double lam = ev[i];
          const char* cls =
              lam > h.tolerance ? "positive" : (lam < -h.tolerance ? "negative" : "zero");
          // The top l d eigenvalues pair with 2 sigma_k(J)^2 in decreasing order.
          const Index from_top = ev.size() - 1 - i;
          const Cell two_s2 = from_top < rec.ld && from_top < c.jacobian.singular_values.size()
                                  ? Cell(2.0 * std::pow(c.jacobian.singular_values[from_top], 2))
                                  : Cell();
          spectrum.add_row({i, lam, two_s2, cls});
        }
      }
    }
    const bool ok = rec.residual_ok && rec.rank_ok && rec.counts_ok && rec.projection_ok;
    const Cell eabs = pos ? Cell(rec.eigen_abs) : Cell();
    const Cell erel = pos ? Cell(rec.eigen_rtol) : Cell();
    runs.add_row({k,
                  r.data,
                  r.method,
                  r.activation,
                  arch_string(pt.model.spec()),
                  rec.n,
                  rec.ld,
                  c.loss,
                  rec.max_abs_residual,
                  rec.max_abs_target,
                  c.jacobian.rank,
                  c.jacobian.tolerance,
                  c.jacobian.gap,
                  rec.n - c.jacobian.rank,
                  rec.n - rec.ld,
                  rec.projection_dim,
                  proj_gap,
                  pos,
                  zero,
                  neg,
                  htol,
                  hgap,
                  eabs,
                  erel,
                  ok ? "holds" : "fails"});
    records.push_back(rec);

    // The manifold walk from this run's zero-loss point, and a random straight line.
    if (static_cast<int>(k) == opt.walk.run) {
      WalkRecord w;
      w.run = static_cast<Index>(k);
      w.walk = lm::walk_manifold(obj, pt.theta, {.steps = opt.walk.steps, .seed = seed});
      const Eigen::VectorXd u = lm::random_unit_direction(obj.n_params(), seed + 99);
      w.line = lm::loss_along_line(
          obj, pt.theta, u,
          {.length = w.walk.arc_length, .n_points = static_cast<int>(w.walk.steps.size())});
      walk_record = std::move(w);
    }
  }
  Table walk({"arc_length", "loss_walk", "loss_line", "rank_J"});
  Json walk_json = nullptr;
  if (walk_record) {
    const WalkRecord& w = *walk_record;
    for (std::size_t i = 0; i < w.walk.steps.size(); ++i)
      walk.add_row({w.walk.steps[i].arc_length, w.walk.steps[i].loss,
                    w.line.loss[static_cast<Index>(i)], w.walk.steps[i].rank_jacobian});
    walk_json = {{"run", w.run},
                 {"status", std::string(lm::to_string(w.walk.status))},
                 {"arc_length", w.walk.arc_length},
                 {"loss_max", w.walk.loss_max},
                 {"rank_min", w.walk.rank_min},
                 {"rank_max", w.walk.rank_max},
                 {"line_loss_max", io::json_number(w.line_loss_max())}};
  }

  // A degenerate zero-loss point: y = 0 and theta = 0 (L = 0, rank J < l d), and the Sard fix.
  const std::vector<Index> widths = parse_arch(opt.degenerate.arch);
  const Mlp degenerate_model(
      {.widths = widths, .activation = parse_activation(opt.degenerate.activation)});
  Dataset degenerate_data =
      gaussian_data(opt.degenerate.points, widths.front(), widths.back(), seed);
  degenerate_data.y.setZero();
  const workflows::SardCheck sard =
      workflows::sard_check(Objective(degenerate_model, degenerate_data),
                            Eigen::VectorXd::Zero(degenerate_model.n_params()),
                            {.epsilon = opt.degenerate.sard_epsilon, .seed = seed});

  // Cor 3.4 as printed against its working form, same data and depth.
  Cor34Record cor34;
  cor34.d = opt.cor34.points;
  cor34.depth = opt.cor34.depth;
  {
    const Dataset data = gaussian_data(cor34.d, 3, 1, seed + 7);
    cor34.max_abs_target = data.y.cwiseAbs().maxCoeff();
    cor34.literal = lc::construct_cooper(
        data, {.depth = cor34.depth, .variant = lc::CooperVariant::literal, .seed = seed});
    cor34.working = lc::construct_cooper(
        data, {.depth = cor34.depth, .variant = lc::CooperVariant::working, .seed = seed});
  }

  StudyResult out;
  out.study = "cooper";
  out.title = k_cooper_title;
  out.summary =
      "Zero-loss points are reached by Cooper's constructions and by training, then certified: "
      "the rank of the residual Jacobian J with its tolerance and gap, the dimension of M two "
      "ways, the Hessian's inertia with its zero threshold and spectral gap.";
  out.claims = {construction_claim(records, rtol),
                training_claim(records, opt.train_loss_tolerance),
                regular_value_claim(records),
                hessian_claim(records, opt.eigen_rtol, opt.hessian_max_params),
                projection_claim(records, opt.projection_max_params),
                walk_claim(walk_record, opt.walk),
                degenerate_claim(sard),
                cor34_claim(cor34, rtol)};

  Table dims({"run", "predicted_dimension", "dimension_jacobian", "dimension_projection"});
  for (std::size_t i = 0; i < runs.n_rows(); ++i)
    dims.add_row({runs.at(i, "run"), runs.at(i, "predicted_dimension"),
                  runs.at(i, "dimension_jacobian"), runs.at(i, "dimension_projection")});
  out.tables = {{"runs", "Every run of the grid, certified", std::move(runs)},
                {"spectrum", "Hessian spectrum at the first trained minimum", std::move(spectrum)},
                {"dimensions", "dim M three ways", std::move(dims)},
                {"walk", "Loss along the walk on M and along a straight line", std::move(walk)}};
  const std::string spectrum_arch =
      spectrum_run.is_null() ? "none" : spectrum_run["architecture"].get<std::string>();
  out.figures = {
      {"spectrum",
       "hessian_spectrum",
       "spectrum",
       "Hessian spectrum at a trained minimum (" + spectrum_arch +
           "): n - l d eigenvalues below the zero threshold, l d positive ones on "
           "2 sigma_k(J)^2 — Prop 2.3",
       {{"tolerance", spectrum_tol}},
       {"hessian"}},
      {"dimensions",
       "dimension_scatter",
       "dimensions",
       "Measured dimension of M (n - rank J, and projection sampling) against n - l d over the "
       "grid — Thm 2.1",
       Json::object(),
       {"regular_value", "projection_dimension"}},
      {"walk",
       "walk_vs_line",
       "walk",
       "Loss along a walk on M and along a random straight line of the same length",
       Json::object(),
       {"walk"}},
  };
  out.details = {
      {"walk", walk_json},
      {"degenerate",
       {{"architecture", arch_string(degenerate_model.spec())},
        {"l_times_d", sard.n_residuals},
        {"rank_before", sard.rank_before},
        {"rank_after", sard.rank_after},
        {"loss_after", io::json_number(sard.loss_after)},
        {"epsilon", sard.epsilon}}},
      {"cor34",
       {{"d", cor34.d},
        {"depth", cor34.depth},
        {"literal_max_abs_residual", io::json_number(cor34.literal.max_abs_residual)},
        {"literal_rank_A", cor34.literal.rank_A},
        {"working_max_abs_residual", io::json_number(cor34.working.max_abs_residual)},
        {"working_rank_A", cor34.working.rank_A},
        {"working_cond_A", io::json_number(cor34.working.cond_A)},
        {"max_abs_target", cor34.max_abs_target}}},
      {"spectrum_run", spectrum_run},
  };
  return out;
}

Study cooper_study() {
  return make_study("cooper", k_cooper_title, cooper_study_options_table(), &run_cooper_study);
}

}  // namespace locus::studies
