#include "locus/studies/li_ding_sun.hpp"

#include <cmath>

#include "locus/data/builtin.hpp"
#include "locus/io/format.hpp"
#include "locus/transforms/surgery.hpp"
#include "locus/workflows/basins.hpp"

namespace locus::studies {

namespace {

namespace lw = locus::workflows;
using options::OptionError;

constexpr const char* k_lds_owner = "LiDingSunStudyOptions";
constexpr const char* k_lds_title =
    "Li, Ding & Sun (2022): sub-optimal basins disappear at last-hidden width >= N";

// The sweep's options for one problem (the study's shared settings).
lw::BasinsOptions sweep_options(const LiDingSunStudyOptions& o, const std::string& arch,
                                const std::string& widths, std::int64_t seeds) {
  lw::BasinsOptions b;
  b.arch = arch;
  b.widths = widths;
  b.seeds = seeds;
  b.seed = o.seed;
  b.train.adam_iterations = o.adam_iterations;
  b.train.polish_iterations = o.polish_iterations;
  b.suboptimal_gap = o.suboptimal_gap;
  return b;
}

// One transition-table row per width and one runs row per run, tagged with the problem.
void tabulate(const std::string& problem, const lw::BasinsResult& r, Table& transition,
              Table& runs) {
  for (const lw::BasinsWidth& w : r.widths) {
    const double n = static_cast<double>(w.runs);
    transition.add_row({problem, w.width, r.n_points, w.runs, w.global_minimum / n,
                        w.strict_minimum / n, w.non_strict_minimum / n, w.saddle / n,
                        w.not_converged / n, w.undecided / n, w.suboptimal_strict, w.loss_min});
  }
  for (const lw::BasinRun& run : r.runs)
    runs.add_row({problem, run.width, static_cast<std::int64_t>(run.seed), run.end_state, run.loss,
                  run.gradient_max_norm, run.min_eigenvalue, run.zero, run.phi_rank,
                  run.flat_output_directions, std::string(run.suboptimal ? "yes" : "no")});
}

// No strict verdict at width >= N, and >= l (h - N) exact flat output directions above N.
struct WideCheck {
  Index runs = 0, strict = 0, flat_short = 0;
};
void check_wide(const lw::BasinsResult& r, WideCheck& c) {
  for (const lw::BasinRun& run : r.runs) {
    if (run.width < r.n_points) continue;
    ++c.runs;
    c.strict += run.end_state == "strict_minimum";
    c.flat_short += run.flat_output_directions < r.output_dim * (run.width - r.n_points);
  }
}

// The real problem: a seeded subset of a built-in dataset's standardized measurements, the last
// column regressed on the others. Class labels would let narrow tanh nets fit by saturating
// (weights growing without bound, no minimum attained); a continuous target keeps minima finite.
Dataset real_regression(const LiDingSunStudyOptions& o) {
  const Dataset d = load_builtin(o.real_dataset,
                                 {.standardize = true, .n_points = o.real_points, .seed = o.seed});
  const Index p = d.x.cols() - 1;
  return {d.x.leftCols(p), d.x.rightCols(1),
          d.name + ": feature " + std::to_string(p) + " regressed on features 0.." +
              std::to_string(p - 1)};
}

}  // namespace

void LiDingSunStudyOptions::validate() const {
  // The sweeps' own checks, reported under this struct's field names.
  auto sweep = [&](const std::string& widths_field, const std::string& seeds_field,
                   const std::string& widths, std::int64_t seeds) {
    try {
      sweep_options(*this, "1,1,1", widths, seeds).validate();
    } catch (const OptionError& e) {
      const std::string f = e.field() == "widths"  ? widths_field
                            : e.field() == "seeds" ? seeds_field
                                                   : e.field();
      throw OptionError(k_lds_owner, f, e.problem());
    }
  };
  sweep("scalar_widths", "scalar_seeds", scalar_widths, scalar_seeds);
  sweep("real_widths", "real_seeds", real_widths, real_seeds);
  if (real_points < 2)
    throw OptionError(k_lds_owner, "real_points",
                      "must be >= 2, got " + std::to_string(real_points));
  bool known = false;
  for (const std::string& n : builtin_dataset_names()) known = known || n == real_dataset;
  if (!known)
    throw OptionError(k_lds_owner, "real_dataset",
                      "unknown built-in dataset '" + real_dataset + "'");
}

const options::Table<LiDingSunStudyOptions>& li_ding_sun_study_options_table() {
  using O = LiDingSunStudyOptions;
  static const auto t =
      options::Table<O>(k_lds_owner)
          .add("seed", "first seed of every sweep", &O::seed)
          .add("scalar_widths", "widths of [1, h, 1] on the scalar problem (N = 8)",
               &O::scalar_widths)
          .add("scalar_seeds", "runs per width on the scalar problem", &O::scalar_seeds)
          .add("real_dataset", "built-in dataset (standardized, scalar label)", &O::real_dataset)
          .add("real_points", "N: the seeded subset of the real dataset", &O::real_points)
          .add("real_widths", "widths of [p, h, 1] on the real subset", &O::real_widths)
          .add("real_seeds", "runs per width on the real subset", &O::real_seeds)
          .add("adam_iterations", "Adam steps per run before the polish", &O::adam_iterations)
          .add("polish_iterations", "Newton polish iterations per run", &O::polish_iterations)
          .add("suboptimal_gap", "sub-optimal: L - L_best > this * max(1, L_best)",
               &O::suboptimal_gap);
  return t;
}

StudyResult run_li_ding_sun_study(const LiDingSunStudyOptions& opt) {
  opt.validate();
  StudyResult out;
  out.study = "li-ding-sun";
  out.title = k_lds_title;

  // 1. The two sweeps.
  const Dataset scalar = lw::scalar_data();
  const lw::BasinsResult rs =
      lw::run_basins(sweep_options(opt, "1,1,1", opt.scalar_widths, opt.scalar_seeds), scalar);
  const Dataset real = real_regression(opt);
  const std::string real_arch = std::to_string(real.x.cols()) + ",1,1";
  const lw::BasinsResult rr =
      lw::run_basins(sweep_options(opt, real_arch, opt.real_widths, opt.real_seeds), real);
  Table transition({"problem", "width", "n_points", "runs", "global_minimum", "strict_minimum",
                    "non_strict_minimum", "saddle", "not_converged", "undecided",
                    "suboptimal_strict", "loss_min"});
  Table runs({"problem", "width", "seed", "end_state", "loss", "gradient_max_norm",
              "min_eigenvalue", "hessian_zero", "phi_rank", "flat_output_directions",
              "suboptimal"});
  tabulate("scalar", rs, transition, runs);
  tabulate(opt.real_dataset, rr, transition, runs);

  // 2. Narrow widths: certified sub-optimal strict minima (the most clearly separated one is
  // kept for the descent, the split and the spectrum).
  const lw::BasinRun* narrow = nullptr;
  Index narrow_found = 0, narrow_runs = 0;
  for (const lw::BasinRun& run : rs.runs) {
    if (run.width >= rs.n_points) continue;
    ++narrow_runs;
    if (!run.suboptimal) continue;
    ++narrow_found;
    if (!narrow || run.min_eigenvalue > narrow->min_eigenvalue) narrow = &run;
  }
  const std::string s1 =
      "below width N strict local minima that are not global exist (Li-Ding-Sun's negative "
      "side): multistart finds and certifies one above the lowest loss of the same net";
  if (narrow_runs == 0)
    out.claims.push_back(skip("narrow_suboptimal_strict", s1, "no width < N in scalar_widths"));
  else
    out.claims.push_back(decide(
        "narrow_suboptimal_strict", s1, narrow != nullptr,
        {{"narrow_runs", narrow_runs},
         {"suboptimal_strict", narrow_found},
         {"loss", narrow ? io::json_number(narrow->loss) : io::Json(nullptr)},
         {"min_eigenvalue", narrow ? io::json_number(narrow->min_eigenvalue) : io::Json(nullptr)},
         {"gradient_max_norm",
          narrow ? io::json_number(narrow->gradient_max_norm) : io::Json(nullptr)}},
        narrow ? std::to_string(narrow_found) + " of " + std::to_string(narrow_runs) +
                     " narrow runs end at certified sub-optimal strict minima; one at width " +
                     std::to_string(narrow->width) + " has L = " + io::format_number(narrow->loss) +
                     " (gap " + io::format_number(narrow->suboptimal_gap) +
                     "), |g| = " + io::format_number(narrow->gradient_max_norm) +
                     ", lambda_min = " + io::format_number(narrow->min_eigenvalue) +
                     " > tau_H = " + io::format_number(narrow->zero_tolerance)
               : "none of " + std::to_string(narrow_runs) +
                     " narrow runs ended at a certified sub-optimal strict minimum"));

  // 3. Widths >= N: never a strict verdict.
  WideCheck wide;
  check_wide(rs, wide);
  check_wide(rr, wide);
  const std::string s2 =
      "at last-hidden width >= N there is no strict minimum (every strict minimum is global, and "
      "above N ker Phi gives exact flat output directions)";
  if (wide.runs == 0)
    out.claims.push_back(skip("no_strict_at_width_n", s2, "no width >= N in either sweep"));
  else
    out.claims.push_back(decide(
        "no_strict_at_width_n", s2, wide.strict == 0 && wide.flat_short == 0,
        {{"runs", wide.runs}, {"strict_minimum", wide.strict}, {"flat_short", wide.flat_short}},
        std::to_string(wide.strict) + " of " + std::to_string(wide.runs) +
            " runs at width >= N certified strict; " + std::to_string(wide.flat_short) +
            " runs above N with fewer than l (h - N) flat output directions"));

  // 4. The descent from the narrow minimum embedded at width N, and 5. its split.
  Table profile({"t", "loss"});
  Table spectrum({"eigenvalue", "class"});
  const std::string s3 =
      "at width >= N the loss descends to zero from any point: kernel move and redrawn "
      "zero-output neurons (loss constant), then the least-squares segment L(t) = (1 - t)^2 L(0)";
  const std::string s4 =
      "splitting a narrow strict minimum into a wider net gives a saddle (Fukumizu-Amari)";
  if (!narrow) {
    out.claims.push_back(skip("descent_to_zero", s3, "no narrow sub-optimal minimum to start"));
    out.claims.push_back(skip("split_saddle", s4, "no narrow strict minimum to split"));
  } else {
    const Mlp model({.widths = {1, narrow->width, 1}, .activation = Activation::tanh});
    const transforms::Surgery wide_net = transforms::grow(model, narrow->theta, {rs.n_points});
    const Objective objective(wide_net.model, scalar);
    const lw::Descent d = lw::descend(objective, wide_net.theta, {.seed = opt.seed});
    for (Index k = 0; k < d.profile.t.size(); ++k)
      profile.add_row({d.profile.t(k), d.profile.loss(k)});
    const bool ok = d.status == lw::DescentStatus::reached_zero && d.loss_end <= 1e-20 &&
                    d.max_relative_increase <= 1e-12;
    out.claims.push_back(
        decide("descent_to_zero", s3, ok,
               {{"status", std::string(lw::to_string(d.status))},
                {"width", d.width},
                {"rank_start", d.rank_start},
                {"rank_end", d.rank_end},
                {"loss_start", io::json_number(d.loss_start)},
                {"loss_end", io::json_number(d.loss_end)},
                {"max_relative_increase", io::json_number(d.max_relative_increase)},
                {"loss_tolerance", 1e-20},
                {"increase_tolerance", 1e-12}},
               "from L = " + io::format_number(d.loss_start) + " (rank Phi " +
                   std::to_string(d.rank_start) + ") to " + io::format_number(d.loss_end) +
                   " (rank Phi " + std::to_string(d.rank_end) + "); largest relative increase " +
                   io::format_number(d.max_relative_increase) + " <= 1e-12"));
    out.details["descent"] = lw::to_json(d);

    const Objective narrow_objective(model, scalar);
    lw::SplitSaddle best{model, narrow->theta, {}};
    for (double fraction : {0.5, 1.5}) {
      lw::SplitSaddle s = lw::split_to_saddle(narrow_objective, narrow->theta, 0, fraction);
      const bool saddle = s.analysis.classification == analysis::PointClass::saddle;
      if (saddle || best.analysis.n_params == 0) best = std::move(s);
      if (saddle) break;
    }
    const analysis::PointAnalysis& a = best.analysis;
    out.claims.push_back(
        decide("split_saddle", s4, a.classification == analysis::PointClass::saddle,
               {{"loss", io::json_number(a.loss)},
                {"gradient_max_norm", io::json_number(a.gradient_max_norm)},
                {"negative", a.hessian.counts.negative},
                {"zero", a.hessian.counts.zero},
                {"tolerance", io::json_number(a.hessian.counts.tolerance)}},
               "the split (width " + std::to_string(narrow->width + 1) + ") is " +
                   std::string(analysis::to_string(a.classification)) + " with " +
                   std::to_string(a.hessian.counts.negative) +
                   " negative eigenvalue(s), |g| = " + io::format_number(a.gradient_max_norm)));

    // The Hessian spectrum of the certified sub-optimal minimum itself.
    const analysis::PointAnalysis m = analysis::analyze_point(narrow_objective, narrow->theta);
    const double tau = m.hessian.counts.tolerance;
    for (Index i = 0; i < m.hessian.eigenvalues.size(); ++i) {
      const double l = m.hessian.eigenvalues(i);
      spectrum.add_row({l, std::abs(l) <= tau ? "zero" : (l > 0 ? "positive" : "negative")});
    }
    out.figures.push_back({"suboptimal_spectrum",
                           "hessian_spectrum",
                           "suboptimal_spectrum",
                           "Hessian spectrum of a certified sub-optimal strict minimum (scalar "
                           "problem, width " +
                               std::to_string(narrow->width) + "): every eigenvalue above tau_H",
                           {{"tolerance", tau}, {"title", "sub-optimal strict minimum"}},
                           {"narrow_suboptimal_strict"}});
  }

  out.details["scalar"] = lw::to_json(rs);
  out.details["real"] = lw::to_json(rr);
  for (const auto& [problem, n] :
       {std::pair{std::string("scalar"), rs.n_points}, std::pair{opt.real_dataset, rr.n_points}})
    out.figures.push_back(
        {"transition_" + problem,
         "stacked_fractions",
         "transition",
         "End states against width on " + problem + " (N = " + std::to_string(n) + ", dashed line)",
         {{"select", {{"problem", problem}}},
          {"n_line", n},
          {"title", problem + ": end states against width"}},
         {"narrow_suboptimal_strict", "no_strict_at_width_n"}});
  out.figures.push_back({"descent_profile",
                         "lines",
                         "descent_profile",
                         "Loss along the descent path at width N from the embedded narrow "
                         "minimum: constant, constant, then (1 - t)^2 L (exact zeros at 1e-33)",
                         {{"x", "t"},
                          {"y", {"loss"}},
                          {"logy", true},
                          {"floor", 1e-33},
                          {"ylabel", "loss"},
                          {"title", "descent to zero loss at width N"}},
                         {"descent_to_zero"}});
  out.tables.push_back({"transition", "Fractions of each end state per width", transition});
  out.tables.push_back({"runs", "Every run: end state, loss, inertia, rank Phi", runs});
  out.tables.push_back({"descent_profile", "Loss along the descent path", profile});
  out.tables.push_back(
      {"suboptimal_spectrum", "Hessian eigenvalues of the sub-optimal minimum", spectrum});
  out.summary = std::to_string(out.count(Verdict::holds)) + " of " +
                std::to_string(out.claims.size()) +
                " claims hold on a scalar-input problem (N = 8) and a " + opt.real_dataset +
                " subset (N = " + std::to_string(rr.n_points) + ").";
  return out;
}

Study li_ding_sun_study() {
  return make_study("li-ding-sun", k_lds_title, li_ding_sun_study_options_table(),
                    &run_li_ding_sun_study);
}

}  // namespace locus::studies
