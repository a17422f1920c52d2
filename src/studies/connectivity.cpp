#include "locus/studies/connectivity.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>

#include "locus/analysis/classify.hpp"
#include "locus/core/objective.hpp"
#include "locus/data/builtin.hpp"
#include "locus/data/source.hpp"
#include "locus/io/format.hpp"
#include "locus/paths/align.hpp"
#include "locus/paths/curve.hpp"
#include "locus/paths/neb.hpp"
#include "locus/solvers/solve.hpp"
#include "locus/transforms/surgery.hpp"
#include "locus/workflows/certify.hpp"

namespace locus::studies {

namespace {

using Eigen::VectorXd;
using io::format_number;
using options::OptionError;

constexpr const char* k_conn_owner = "ConnectivityStudyOptions";
constexpr const char* k_conn_title =
    "Mode connectivity: straight lines, alignment, Bezier curves and elastic bands between minima";
constexpr double kEps = std::numeric_limits<double>::epsilon();

// What the study measured at one width.
struct WidthRun {
  Index width = 0, n_params = 0;
  double loss_a = NAN, loss_b = NAN;
  paths::LossProfile line, aligned;
  paths::Alignment alignment;
  double alignment_function_error = NAN, alignment_function_bound = NAN;
  std::optional<paths::CurveFit> curve;  // optional: a CurveFit has no empty state
  double curve_check_error = NAN;        // |L(curve(t*)) - reported max|, recomputed
  std::optional<paths::NebResult> neb;
  // The four paths' losses at the same t (uniform in t; the band's polyline uniform per segment).
  Eigen::VectorXd t, loss_line, loss_aligned, loss_curve, loss_neb;
};

// A minimum from a seeded initialisation: Levenberg-Marquardt to the round-off floor.
VectorXd train(const Objective& obj, const Mlp& model, std::uint64_t seed) {
  solvers::TrainOptions o;
  o.method = solvers::Method::lm;
  return solvers::solve(obj, model.init_parameters({.seed = seed}), o).theta;
}

WidthRun run_width(const ConnectivityStudyOptions& opt, const Dataset& data, Index width) {
  const Mlp model({.widths = {data.x.cols(), width, data.y.cols()},
                   .activation = parse_activation(opt.activation)});
  const Objective obj(model, data);
  WidthRun w;
  w.width = width;
  w.n_params = model.n_params();
  const VectorXd a = train(obj, model, opt.seed), b = train(obj, model, opt.seed + 1);
  w.loss_a = obj.loss(a);
  w.loss_b = obj.loss(b);

  w.alignment = paths::weight_match(model, a, b, obj, {.seed = opt.seed});
  w.line = *w.alignment.line_before;
  w.aligned = *w.alignment.line_after;
  // The aligned B is B with its neurons permuted: the same outputs up to the order of the sums.
  const Eigen::MatrixXd f = model.predict(b, data.x);
  w.alignment_function_error = (model.predict(w.alignment.theta, data.x) - f).cwiseAbs().maxCoeff();
  w.alignment_function_bound = 64 * kEps * std::max(1.0, f.cwiseAbs().maxCoeff());

  w.curve = paths::fit_curve(obj, a, b);
  w.curve_check_error =
      std::abs(obj.loss(w.curve->curve.at(w.curve->profile.t_max)) - w.curve->profile.loss_max);
  paths::NebOptions no;
  no.images = static_cast<int>(opt.neb_images);
  no.max_iterations = static_cast<int>(opt.neb_iterations);
  w.neb = paths::neb(obj, a, b, no);

  const Index n = 101;
  w.t = VectorXd::LinSpaced(n, 0.0, 1.0);
  w.loss_line.resize(n);
  w.loss_aligned.resize(n);
  w.loss_curve.resize(n);
  w.loss_neb.resize(n);
  for (Index i = 0; i < n; ++i) {
    const double t = w.t(i);
    w.loss_line(i) = obj.loss((1 - t) * a + t * b);
    w.loss_aligned(i) = obj.loss((1 - t) * a + t * w.alignment.theta);
    w.loss_curve(i) = obj.loss(w.curve->curve.at(t));
    w.loss_neb(i) = obj.loss(w.neb->path.at(t));
  }
  return w;
}

// Acceptance 4 of issue 12: a band between two copies of a certified minimum on real inputs
// whose climbing image is refined to a saddle with its Hessian index.
struct SaddleRecord {
  Index width = 0, n_params = 0;
  double loss_a = NAN, loss_b = NAN;
  workflows::Certificate end;  // minimum A (the teacher), certified
  std::optional<paths::NebResult> neb;
  analysis::PointAnalysis saddle;  // analyze_point at the refined climbing image
  double scale = NAN;              // max(1, |L(saddle)|): the gradient test's scale
  double seconds = NAN;
};

// Minimum A: a teacher [p, saddle_width, 1] (normal initialisation, seed) that labels the real
// rows, so that A is a global minimum of zero loss, isolated up to the symmetries when the
// Jacobian has full column rank (d > n; certified). B: A with hidden neurons 0 and 1 swapped, the
// same function. The straight line between them leaves A's basin, so the band crosses a saddle.
// (Networks trained on the real targets were tried first: their narrow minima drift to large
// weights and the band does not settle; see studies/connectivity/README.md.)
SaddleRecord run_saddle(const ConnectivityStudyOptions& opt) {
  const auto start = std::chrono::steady_clock::now();
  const Dataset real =
      load_builtin(opt.dataset, {.standardize = true, .n_points = opt.points, .seed = opt.seed});
  const Mlp model({.widths = {real.x.cols(), Index(opt.saddle_width), 1},
                   .activation = parse_activation(opt.activation)});
  const VectorXd a = model.init_parameters({.scheme = InitScheme::normal, .seed = opt.seed});
  Dataset data;
  data.name = real.name + " inputs, teacher labels";
  data.x = real.x;
  data.y = model.predict(a, real.x);
  const Objective obj(model, data);
  SaddleRecord r;
  r.width = opt.saddle_width;
  r.n_params = model.n_params();
  r.end = workflows::certify(obj, a);
  std::vector<Index> swap(size_t(opt.saddle_width));
  for (Index i = 0; i < opt.saddle_width; ++i) swap[size_t(i)] = i;
  std::swap(swap[0], swap[1]);
  const VectorXd b = transforms::permute_neurons(model, a, 1, swap).theta;
  r.loss_a = obj.loss(a);
  r.loss_b = obj.loss(b);
  paths::NebOptions no;
  no.images = int(opt.saddle_images);
  no.max_iterations = int(opt.saddle_iterations);
  r.neb = paths::neb(obj, a, b, no);
  if (r.neb->saddle.refined) {
    r.saddle = analysis::analyze_point(obj, r.neb->saddle.theta);
    r.scale = std::max(1.0, std::abs(r.neb->saddle.loss));
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

// neb_saddle: the band's climbing image refines to a critical point with |grad L|_inf <=
// 1e-10 max(1, |L|), classified a saddle (index >= 1, from the dense spectrum with its
// tolerance and gap), and the band's barrier is measured to it (top = the saddle's loss).
Claim saddle_claim(const SaddleRecord& r, Table& table) {
  const char* id = "neb_saddle";
  const char* statement =
      "a nudged elastic band between two copies of a certified minimum on real inputs ends with "
      "a climbing image refined to |grad L|_inf <= 1e-10 max(1, |L|), a saddle whose Hessian "
      "index is reported, and the band's barrier top is the saddle's loss";
  const paths::NebResult& n = *r.neb;
  const paths::NebSaddle& s = n.saddle;
  const analysis::InertiaCount& c = r.saddle.hessian.counts;
  const double bound = 1e-10 * r.scale;
  const double top = n.barriers.above_larger_end + std::max(r.loss_a, r.loss_b);
  const analysis::PointClass end = r.end.analysis.classification;
  const bool end_minimum =
      r.end.status == workflows::CertifyStatus::certified &&
      (end == analysis::PointClass::global_minimum || end == analysis::PointClass::strict_minimum);
  // The index counts eigenvalues below -tolerance of the complete dense spectrum; the class may
  // still be undecided when the zero cluster's gap is small (reported beside it).
  const bool holds = end_minimum && s.converged() && s.gradient_max_norm <= bound && c.complete &&
                     r.saddle.index >= 1 && std::abs(top - s.loss) <= 4 * kEps * r.scale;
  table.add_row({r.width, r.n_params, r.loss_a, std::string(analysis::to_string(end)),
                 std::string(paths::to_string(n.status)), n.force_max_norm,
                 n.line_profile.barriers.above_larger_end, n.barriers.above_larger_end,
                 std::string(solvers::to_string(s.status)), s.loss, s.gradient_max_norm, bound,
                 std::string(analysis::to_string(r.saddle.classification)), r.saddle.index, c.zero,
                 c.tolerance, c.gap, r.seconds});
  io::Json evidence = {{"width", r.width},         {"minimum", workflows::to_json(r.end)},
                       {"neb", paths::to_json(n)}, {"saddle_analysis", analysis::to_json(r.saddle)},
                       {"gradient_bound", bound},  {"barrier_top", top},
                       {"seconds", r.seconds}};
  evidence["neb"].erase("profile");
  evidence["neb"].erase("line_profile");
  return decide(
      id, statement, holds, evidence,
      "|grad L|_inf = " + format_number(s.gradient_max_norm) + " (bound " + format_number(bound) +
          "), class " + std::string(analysis::to_string(r.saddle.classification)) + ", index " +
          std::to_string(r.saddle.index) + " (|lambda| <= " + format_number(c.tolerance) +
          " zero, gap " + format_number(c.gap) + "), saddle loss " + format_number(s.loss) +
          ", band barrier " + format_number(n.barriers.above_larger_end));
}

}  // namespace

void ConnectivityStudyOptions::validate() const {
  const auto names = builtin_dataset_names();
  if (std::find(names.begin(), names.end(), dataset) == names.end())
    throw OptionError(k_conn_owner, "dataset", "must be a built-in dataset, got '" + dataset + "'");
  if (points < 4 || points > 500) throw OptionError(k_conn_owner, "points", "must be in [4, 500]");
  try {
    const std::vector<Index> w = parse_width_list(widths, "widths");
    if (w.size() < 2 || !std::is_sorted(w.begin(), w.end()) || w.front() == w.back())
      throw OptionError(k_conn_owner, "widths",
                        "needs two or more increasing widths, got " + widths);
  } catch (const std::invalid_argument& e) {
    throw OptionError(k_conn_owner, "widths", e.what());
  }
  try {
    parse_activation(activation);
  } catch (const std::invalid_argument& e) {
    throw OptionError(k_conn_owner, "activation", e.what());
  }
  if (neb_images < 1) throw OptionError(k_conn_owner, "neb_images", "must be >= 1");
  if (neb_iterations < 1) throw OptionError(k_conn_owner, "neb_iterations", "must be >= 1");
  if (saddle_width < 2) throw OptionError(k_conn_owner, "saddle_width", "must be >= 2");
  if (saddle_images < 1) throw OptionError(k_conn_owner, "saddle_images", "must be >= 1");
  if (saddle_iterations < 1) throw OptionError(k_conn_owner, "saddle_iterations", "must be >= 1");
  if (!(curve_ratio > 0 && curve_ratio <= 1))
    throw OptionError(k_conn_owner, "curve_ratio", "must be in (0, 1]");
}

const options::Table<ConnectivityStudyOptions>& connectivity_study_options_table() {
  using O = ConnectivityStudyOptions;
  static const auto t =
      options::Table<O>(k_conn_owner)
          .add("seed", "minimum A from seed, B from seed + 1; the data subset", &O::seed)
          .add("dataset", "built-in dataset (standardised, one-hot labels)", &O::dataset)
          .add("points", "data points d", &O::points)
          .add("widths", "hidden widths, increasing (one hidden layer)", &O::widths)
          .add("activation", "hidden activation", &O::activation)
          .add("neb_images", "interior images of the elastic band", &O::neb_images)
          .add("neb_iterations", "band optimizer iterations at most", &O::neb_iterations)
          .add("curve_ratio", "curve_below_line: curve barrier <= this * line barrier",
               &O::curve_ratio)
          .add("saddle_width", "neb_saddle: hidden width of the teacher", &O::saddle_width)
          .add("saddle_images", "neb_saddle: interior images of the band", &O::saddle_images)
          .add("saddle_iterations", "neb_saddle: FIRE iterations at most", &O::saddle_iterations);
  return t;
}

StudyResult run_connectivity_study(const ConnectivityStudyOptions& opt,
                                   const ProgressCallback& progress) {
  StudyResult out;
  out.study = "connectivity";
  out.title = k_conn_title;
  const Dataset data =
      load_builtin(opt.dataset, {.standardize = true, .n_points = opt.points, .seed = opt.seed});
  std::vector<WidthRun> records;
  const std::vector<Index> widths = parse_width_list(opt.widths, "widths");
  for (const Index width : widths) {
    report_progress(progress,
                    {.stage = "two minima and their paths, width " + std::to_string(width),
                     .done = static_cast<long long>(records.size()),
                     .total = static_cast<long long>(widths.size())});
    records.push_back(run_width(opt, data, width));
  }

  Table barriers({"width", "n_params", "loss_a", "loss_b", "line", "aligned", "curve", "neb",
                  "neb_status", "neb_force", "saddle_gradient"});
  Table profiles({"width", "t", "line", "aligned", "curve", "neb"});
  Table saddle_table({"width", "n_params", "loss_minimum", "end_class", "neb_status", "neb_force",
                      "line_barrier", "band_barrier", "saddle_status", "saddle_loss",
                      "saddle_gradient", "gradient_bound", "saddle_class", "index", "zero",
                      "tolerance", "gap", "seconds"});
  bool aligned_ok = true, curve_ok = true, neb_ok = true;
  io::Json aligned_ev = io::Json::array(), curve_ev = io::Json::array(), neb_ev = io::Json::array();
  for (const WidthRun& w : records) {
    const paths::NebSaddle& s = w.neb->saddle;
    barriers.add_row({w.width, w.n_params, w.loss_a, w.loss_b, w.line.barriers.above_larger_end,
                      w.aligned.barriers.above_larger_end,
                      w.curve->profile.barriers.above_larger_end, w.neb->barriers.above_larger_end,
                      std::string(paths::to_string(w.neb->status)), w.neb->force_max_norm,
                      s.gradient_max_norm});
    aligned_ok = aligned_ok && w.alignment_function_error <= w.alignment_function_bound &&
                 w.alignment.objective_after >= w.alignment.objective_before;
    aligned_ev.push_back({{"width", w.width},
                          {"function_error", w.alignment_function_error},
                          {"bound", w.alignment_function_bound},
                          {"objective_before", w.alignment.objective_before},
                          {"objective_after", w.alignment.objective_after}});
    const double line_b = w.line.barriers.above_larger_end;
    const double curve_b = w.curve->profile.barriers.above_larger_end;
    const double check_bound = 1e-12 * std::max(1.0, w.curve->profile.loss_max);
    curve_ok =
        curve_ok && curve_b <= opt.curve_ratio * line_b && w.curve_check_error <= check_bound;
    curve_ev.push_back({{"width", w.width},
                        {"line_barrier", line_b},
                        {"curve_barrier", curve_b},
                        {"recomputed_max_error", w.curve_check_error},
                        {"bound", check_bound}});
    neb_ok = neb_ok && w.neb->barriers.above_larger_end <= line_b;
    neb_ev.push_back({{"width", w.width},
                      {"neb_barrier", w.neb->barriers.above_larger_end},
                      {"line_barrier", line_b},
                      {"status", std::string(paths::to_string(w.neb->status))},
                      {"force_max_norm", io::json_number(w.neb->force_max_norm)},
                      {"saddle", paths::to_json(*w.neb)["saddle"]}});
  }
  for (const WidthRun& w : records)
    for (Index i = 0; i < w.t.size(); ++i)
      profiles.add_row(
          {w.width, w.t(i), w.loss_line(i), w.loss_aligned(i), w.loss_curve(i), w.loss_neb(i)});

  out.claims.push_back(decide("alignment_exact",
                              "weight matching permutes neurons only: the aligned network computes "
                              "the same function, and the alignment objective does not decrease",
                              aligned_ok, {{"widths", aligned_ev}},
                              aligned_ok ? "outputs equal to 64 eps at every width"
                                         : "an aligned network's outputs differ"));
  out.claims.push_back(decide(
      "curve_below_line",
      "a fitted quadratic Bezier curve between two minima has a barrier far below the straight "
      "line's (Garipov et al. 2018), and its reported maximum is the loss at its location",
      curve_ok, {{"widths", curve_ev}},
      curve_ok ? "the curve's barrier is below " + format_number(opt.curve_ratio) +
                     " x the line's at every width"
               : "a curve's barrier is not below the bound, or its maximum does not recompute"));
  out.claims.push_back(decide(
      "neb_below_line", "the nudged elastic band's barrier is at most the straight line's", neb_ok,
      {{"widths", neb_ev}}, neb_ok ? "at every width" : "a band peaks above the straight line"));
  const double first = records.front().aligned.barriers.above_larger_end;
  const double last = records.back().aligned.barriers.above_larger_end;
  out.claims.push_back(
      decide("barrier_falls", "the straight-line barrier between aligned minima falls with width",
             last < first, {{"aligned_barrier_first", first}, {"aligned_barrier_last", last}},
             "aligned barrier " + format_number(first) + " at width " +
                 std::to_string(records.front().width) + ", " + format_number(last) + " at width " +
                 std::to_string(records.back().width)));
  out.claims.push_back(saddle_claim(run_saddle(opt), saddle_table));
  out.tables.push_back(
      {"barriers", "Barriers (above the larger end) per width and path", std::move(barriers)});
  out.tables.push_back({"saddle",
                        "The band between two copies of a certified minimum (hidden neurons 0 "
                        "and 1 swapped), its climbing image refined to a critical point",
                        std::move(saddle_table)});
  out.tables.push_back(
      {"profiles", "Loss along the four paths at the same t, per width", std::move(profiles)});
  for (const WidthRun& w : records)
    out.figures.push_back(
        {"profiles_" + std::to_string(w.width),
         "lines",
         "profiles",
         "Loss along the four paths between the same two minima, width " + std::to_string(w.width) +
             " (exact zeros drawn at 1e-33)",
         {{"x", "t"},
          {"y", {"line", "aligned", "curve", "neb"}},
          {"labels", {"straight line", "line after alignment", "Bezier curve", "elastic band"}},
          {"select", {{"width", std::to_string(w.width)}}},
          {"logy", true},
          {"floor", 1e-33},
          {"ylabel", "loss"}},
         {"curve_below_line", "neb_below_line"}});
  out.figures.push_back(
      {"barriers",
       "lines",
       "barriers",
       "Barrier above the larger end against the hidden width, per path",
       {{"x", "width"},
        {"y", {"line", "aligned", "curve", "neb"}},
        {"labels", {"straight line", "line after alignment", "Bezier curve", "elastic band"}},
        {"logy", true},
        {"floor", 1e-33},
        {"ylabel", "barrier"}},
       {"curve_below_line", "neb_below_line", "barrier_falls"}});
  out.summary = std::to_string(out.count(Verdict::holds)) + " of " +
                std::to_string(out.claims.size()) + " claims hold on " + opt.dataset + " (" +
                std::to_string(opt.points) + " points).";
  return out;
}

Study connectivity_study() {
  return make_study("connectivity", k_conn_title, connectivity_study_options_table(),
                    &run_connectivity_study);
}

}  // namespace locus::studies
