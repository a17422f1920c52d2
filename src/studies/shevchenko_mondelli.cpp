#include "locus/studies/shevchenko_mondelli.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

#include "locus/core/objective.hpp"
#include "locus/data/builtin.hpp"
#include "locus/data/source.hpp"
#include "locus/data/synthetic.hpp"
#include "locus/dropout/dropout_path.hpp"
#include "locus/dropout/mean_field_sgd.hpp"
#include "locus/dropout/subnetwork.hpp"
#include "locus/io/format.hpp"

namespace locus::studies {

namespace {

using Eigen::VectorXd;
using io::format_number;
using options::OptionError;

constexpr const char* k_sm_owner = "ShevchenkoMondelliStudyOptions";
constexpr const char* k_sm_title =
    "Shevchenko & Mondelli: dropout stability and low-loss paths between mean-field SGD solutions";
constexpr const char* k_teacher = "teacher";

// Mean and standard error of a sample (0 for one value).
struct Mean {
  double mean = NAN, se = NAN;
};
Mean mean_of(const std::vector<double>& v) {
  const double n = double(v.size());
  double m = 0.0, s = 0.0;
  for (double x : v) m += x / n;
  for (double x : v) s += (x - m) * (x - m);
  return {m, v.size() > 1 ? std::sqrt(s / (n - 1) / n) : 0.0};
}

// Where the networks come from: fresh teacher samples, or epochs over a dataset's training part.
struct Setting {
  std::string name;
  Index input_dim = 0, output_dim = 0;
  std::shared_ptr<const Dataset> train, test;  // train: null for the teacher (online samples)
  Mlp teacher{MlpSpec{.widths = {1, 1}}};
  VectorXd teacher_theta;
  std::int64_t steps = 0;
};

// What one width measured in one setting.
struct WidthRecord {
  Index width = 0;
  std::vector<Index> kept;                        // M = N/8, N/4, N/2
  std::vector<std::vector<double>> gaps;          // per M: the gaps of every network and keep set
  std::vector<dropout::DropoutPathResult> paths;  // one per seed
  // Teacher only, at the initialisation (i.i.d. neurons), fixed M: the gaps and L_M(theta_A).
  std::vector<double> init_gaps, init_losses;
};

Mlp student(const Setting& s, Index width) {
  return Mlp({.widths = {s.input_dim, width, s.output_dim},
              .activation = Activation::tanh,
              .bias = {false, false},
              .mean_field = true});
}

VectorXd train(const ShevchenkoMondelliStudyOptions& o, const Setting& s, const Mlp& model,
               std::uint64_t seed) {
  const dropout::MeanFieldSgdOptions so{
      .step = o.step, .steps = s.steps, .batch_size = o.batch_size, .seed = seed};
  const VectorXd theta0 = dropout::mean_field_init(model, seed);
  return s.train ? dropout::train_epochs(model, theta0, *s.train, so).theta
                 : dropout::train_online(model, theta0, s.teacher, s.teacher_theta, so).theta;
}

WidthRecord run_width(const ShevchenkoMondelliStudyOptions& o, const Setting& s, Index width) {
  const Mlp model = student(s, width);
  const Objective test(model, s.test, {.reduction = Reduction::mean});
  WidthRecord w;
  w.width = width;
  w.kept = {width / 8, width / 4, width / 2};
  w.gaps.resize(w.kept.size());
  for (std::int64_t k = 0; k < o.seeds; ++k) {
    const std::uint64_t seed = o.seed + 1000 * std::uint64_t(k);
    const VectorXd a = train(o, s, model, seed), b = train(o, s, model, seed + 1);
    for (size_t m = 0; m < w.kept.size(); ++m)
      for (const VectorXd* theta : {&a, &b}) {
        const auto e = dropout::dropout_error(
            test, *theta, {.kept = w.kept[m], .samples = o.keep_samples, .seed = seed + 7});
        w.gaps[m].insert(w.gaps[m].end(), e.gaps.begin(), e.gaps.end());
      }
    w.paths.push_back(dropout::dropout_path(test, a, b, {.profile_points = 33}));
    if (!s.train) {  // independent neurons: the initialisation itself
      const auto e = dropout::dropout_error(
          test, dropout::mean_field_init(model, seed),
          {.kept = o.fixed_kept, .samples = o.keep_samples, .seed = seed + 11});
      w.init_gaps.insert(w.init_gaps.end(), e.gaps.begin(), e.gaps.end());
      w.init_losses.insert(w.init_losses.end(), e.losses_kept.begin(), e.losses_kept.end());
    }
  }
  return w;
}

Setting teacher_setting(const ShevchenkoMondelliStudyOptions& o) {
  Setting s;
  s.name = k_teacher;
  s.input_dim = o.input_dim;
  s.output_dim = 1;
  // Teacher y = sum_j a_j tanh(w_j . x), k neurons, w_j ~ N(0, I/p), a_j ~ N(0, 1).
  s.teacher = Mlp({.widths = {o.input_dim, o.teacher_width, 1},
                   .activation = Activation::tanh,
                   .bias = {false, false}});
  s.teacher_theta = dropout::mean_field_init(s.teacher, o.seed + 500);
  Dataset test = gaussian_data(o.test_points, o.input_dim, 1, o.seed + 501);
  test.y = s.teacher.predict(s.teacher_theta, test.x);
  test.name = "held-out teacher samples";
  s.test = std::make_shared<const Dataset>(std::move(test));
  s.steps = o.steps;
  return s;
}

Setting dataset_setting(const ShevchenkoMondelliStudyOptions& o) {
  const Dataset all = load_builtin(o.dataset, {.standardize = true});
  const std::vector<Index> train_rows =
      dropout::random_keep_set(all.size(), 2 * all.size() / 3, o.seed);
  const std::vector<Index> test_rows = dropout::complement(all.size(), train_rows);
  auto rows = [&](const std::vector<Index>& r, const std::string& name) {
    Dataset d;
    d.x = all.x(r, Eigen::all);
    d.y = all.y(r, Eigen::all);
    d.name = o.dataset + " " + name;
    return std::make_shared<const Dataset>(std::move(d));
  };
  Setting s;
  s.name = o.dataset;
  s.input_dim = all.input_dim();
  s.output_dim = all.output_dim();
  s.train = rows(train_rows, "training part");
  s.test = rows(test_rows, "held-out part");
  s.steps = o.dataset_steps;
  return s;
}

// Mean of a path quantity over the seeds of one width.
template <class F>
Mean path_mean(const WidthRecord& w, F f) {
  std::vector<double> v;
  for (const auto& p : w.paths) v.push_back(f(p));
  return mean_of(v);
}

double excess(const dropout::DropoutPathResult& p) { return std::max(p.excess, 0.0); }
double line_barrier(const dropout::DropoutPathResult& p) {
  return p.line.barriers.above_larger_end;
}

}  // namespace

void ShevchenkoMondelliStudyOptions::validate() const {
  if (input_dim < 1) throw OptionError(k_sm_owner, "input_dim", "must be >= 1");
  if (teacher_width < 1) throw OptionError(k_sm_owner, "teacher_width", "must be >= 1");
  std::vector<Index> w;
  try {
    w = parse_width_list(widths, "widths");
  } catch (const std::invalid_argument& e) {
    throw OptionError(k_sm_owner, "widths", e.what());
  }
  if (w.size() < 2 || !std::is_sorted(w.begin(), w.end()) || w.front() == w.back())
    throw OptionError(k_sm_owner, "widths", "needs two or more increasing widths, got " + widths);
  for (Index n : w)
    if (n % 2 != 0 || n < 16)
      throw OptionError(
          k_sm_owner, "widths",
          "each width must be even and >= 16 (M = N/8, N/4, N/2, rounded down), got " +
              std::to_string(n));
  if (seeds < 1) throw OptionError(k_sm_owner, "seeds", "must be >= 1");
  if (steps < 1) throw OptionError(k_sm_owner, "steps", "must be >= 1");
  if (!(std::isfinite(step) && step > 0)) throw OptionError(k_sm_owner, "step", "must be > 0");
  if (batch_size < 1) throw OptionError(k_sm_owner, "batch_size", "must be >= 1");
  if (test_points < 10) throw OptionError(k_sm_owner, "test_points", "must be >= 10");
  if (keep_samples < 2) throw OptionError(k_sm_owner, "keep_samples", "must be >= 2");
  if (fixed_kept < 1 || fixed_kept > w.front())
    throw OptionError(k_sm_owner, "fixed_kept", "must be in 1..the first width");
  if (!dataset.empty()) {
    const auto names = builtin_dataset_names();
    if (std::find(names.begin(), names.end(), dataset) == names.end())
      throw OptionError(k_sm_owner, "dataset",
                        "must be a built-in dataset or empty, got " + dataset);
  }
  if (dataset_steps < 1) throw OptionError(k_sm_owner, "dataset_steps", "must be >= 1");
  if (!(decay_exponent >= 0)) throw OptionError(k_sm_owner, "decay_exponent", "must be >= 0");
}

const options::Table<ShevchenkoMondelliStudyOptions>& shevchenko_mondelli_study_options_table() {
  using O = ShevchenkoMondelliStudyOptions;
  static const auto t =
      options::Table<O>(k_sm_owner)
          .add("seed", "seeds teacher, initialisations, samples and keep sets", &O::seed)
          .add("input_dim", "input dimension p", &O::input_dim)
          .add("teacher_width", "hidden neurons of the teacher", &O::teacher_width)
          .add("widths", "student widths N, even, >= 16, increasing", &O::widths)
          .add("seeds", "seeds per width (two networks each)", &O::seeds)
          .add("steps", "one-pass SGD steps per network", &O::steps)
          .add("step", "alpha: the update is alpha * N times the gradient", &O::step)
          .add("batch_size", "fresh samples per step", &O::batch_size)
          .add("test_points", "held-out points", &O::test_points)
          .add("keep_samples", "random keep sets per network and M", &O::keep_samples)
          .add("fixed_kept", "M of the independent-neurons check", &O::fixed_kept)
          .add("dataset", "built-in classification dataset (empty: skip)", &O::dataset)
          .add("dataset_steps", "SGD steps on the dataset", &O::dataset_steps)
          .add("decay_exponent", "dropout error and excess fall like N^-this at least",
               &O::decay_exponent);
  return t;
}

StudyResult run_shevchenko_mondelli_study(const ShevchenkoMondelliStudyOptions& opt) {
  StudyResult out;
  out.study = "shevchenko-mondelli";
  out.title = k_sm_title;
  const std::vector<Index> widths = parse_width_list(opt.widths, "widths");
  std::vector<Setting> settings{teacher_setting(opt)};
  if (!opt.dataset.empty()) settings.push_back(dataset_setting(opt));

  Table errors(
      {"dataset", "width", "kept", "fraction", "gap_mean", "gap_standard_error", "reference"});
  Table paths_table({"dataset", "width", "seed", "loss_start", "loss_end", "bound", "excess",
                     "line_barrier", "segments_hold", "bound_holds"});
  Table means({"dataset", "width", "gap_half", "gap_half_se", "excess", "excess_se", "bound",
               "line_barrier", "line_barrier_se"});
  Table independent({"width", "kept", "gap_mean", "gap_standard_error", "loss_kept_mean",
                     "loss_kept_standard_error"});
  Table profiles({"dataset", "width", "t", "dropout_path", "line"});

  bool typed_ok = true;
  double worst_deviation_ratio = 0.0, worst_excess_over_bound = -INFINITY;
  io::Json decay_ev = io::Json::object(), excess_ev = io::Json::object(),
           line_ev = io::Json::object();
  bool decay_ok = true, excess_ok = true, line_ok = true, independent_ok = true;
  io::Json independent_ev = io::Json::array();
  for (const Setting& s : settings) {
    std::vector<WidthRecord> records;
    for (Index n : widths) records.push_back(run_width(opt, s, n));
    // The reference sqrt(log M / M), scaled to the first width's error at M = N/2.
    const Mean first_half = mean_of(records.front().gaps.back());
    const double m0 = double(records.front().kept.back());
    const double c = first_half.mean / std::sqrt(std::log(m0) / m0);
    for (const WidthRecord& w : records) {
      for (size_t m = 0; m < w.kept.size(); ++m) {
        const Mean g = mean_of(w.gaps[m]);
        const double mk = double(w.kept[m]);
        errors.add_row({s.name, w.width, w.kept[m], mk / double(w.width), g.mean, g.se,
                        c * std::sqrt(std::log(mk) / mk)});
      }
      for (size_t k = 0; k < w.paths.size(); ++k) {
        const auto& p = w.paths[k];
        paths_table.add_row({s.name, w.width, Index(k), p.loss_start, p.loss_end, p.bound, p.excess,
                             line_barrier(p), p.segments_hold ? "yes" : "no",
                             p.bound_holds ? "yes" : "no"});
        typed_ok = typed_ok && p.segments_hold && p.bound_holds;
        for (const auto& ch : p.checks)
          worst_deviation_ratio = std::max(worst_deviation_ratio, ch.deviation / ch.tolerance);
        worst_excess_over_bound = std::max(worst_excess_over_bound, p.excess - p.bound);
      }
      const Mean half = mean_of(w.gaps.back());
      const Mean ex = path_mean(w, excess), lb = path_mean(w, line_barrier);
      means.add_row({s.name, w.width, half.mean, half.se, ex.mean, ex.se,
                     path_mean(w, [](const auto& p) { return p.bound; }).mean, lb.mean, lb.se});
      if (!w.init_gaps.empty()) {
        const Mean g = mean_of(w.init_gaps), l = mean_of(w.init_losses);
        independent.add_row({w.width, opt.fixed_kept, g.mean, g.se, l.mean, l.se});
      }
    }
    // Profiles of both paths at the last width, first seed, on a uniform grid in t.
    const auto& last = records.back().paths.front();
    const Objective test(student(s, records.back().width), s.test, {.reduction = Reduction::mean});
    for (int i = 0; i <= 140; ++i) {
      const double t = i / 140.0;
      profiles.add_row({s.name, records.back().width, t, test.loss(last.path.at(t)),
                        test.loss((1 - t) * last.path.start() + t * last.path.end())});
    }
    if (s.name != k_teacher) continue;
    // Claims 2 and 3 on the teacher setting.
    const double ratio_n = double(widths.front()) / double(widths.back());
    const double required = std::pow(ratio_n, opt.decay_exponent);
    const Mean g_first = mean_of(records.front().gaps.back());
    const Mean g_last = mean_of(records.back().gaps.back());
    decay_ok = g_last.mean <= required * g_first.mean;
    decay_ev = {{"gap_first", g_first.mean},
                {"gap_first_se", g_first.se},
                {"gap_last", g_last.mean},
                {"gap_last_se", g_last.se},
                {"decrease_factor", g_first.mean / g_last.mean},
                {"required_factor", 1 / required}};
    const Mean e_first = path_mean(records.front(), excess);
    const Mean e_last = path_mean(records.back(), excess);
    excess_ok = e_last.mean <= required * e_first.mean;
    excess_ev = {{"excess_first", e_first.mean},
                 {"excess_last", e_last.mean},
                 {"decrease_factor", e_first.mean / e_last.mean},
                 {"required_factor", 1 / required}};
    const Mean l_first = path_mean(records.front(), line_barrier);
    const Mean l_last = path_mean(records.back(), line_barrier);
    line_ok = l_last.mean >= 0.5 * l_first.mean && l_last.mean >= 10 * e_last.mean;
    line_ev = {{"line_barrier_first", l_first.mean},
               {"line_barrier_last", l_last.mean},
               {"excess_last", e_last.mean}};
    // E L_M(theta_A) = L_inf + V/M for i.i.d. neurons, whatever N: the mean kept loss at each
    // width must agree with the first width's within 3 combined standard errors.
    const Mean i_first = mean_of(records.front().init_losses);
    for (const WidthRecord& w : records) {
      const Mean l = mean_of(w.init_losses), g = mean_of(w.init_gaps);
      const double allowed = 3 * std::hypot(i_first.se, l.se);
      independent_ok = independent_ok && std::abs(l.mean - i_first.mean) <= allowed;
      independent_ev.push_back({{"width", w.width},
                                {"loss_kept_mean", l.mean},
                                {"loss_kept_se", l.se},
                                {"difference_allowed", allowed},
                                {"gap_mean", g.mean}});
    }
  }
  const std::string first = std::to_string(widths.front()), last = std::to_string(widths.back());
  out.claims.push_back(decide(
      "segments_typed",
      "along the 7-segment path, re-evaluated: output-weight segments never exceed their ends, "
      "silent-neuron segments are flat (1e-12 relative), and the path's excess over the larger end "
      "is at most max(eps_D(theta; A), eps_D(theta'; A)) (Kuditipudi et al. 2019, Shevchenko & "
      "Mondelli 2020 Thm 3)",
      typed_ok,
      {{"worst_deviation_over_tolerance", worst_deviation_ratio},
       {"worst_excess_minus_bound", worst_excess_over_bound}},
      typed_ok ? "every segment of every path (all widths, seeds and settings) holds; the largest "
                 "deviation is " +
                     format_number(worst_deviation_ratio) + " of its tolerance"
               : "a segment check or the bound fails"));
  out.claims.push_back(
      decide("dropout_error_vanishes",
             "the dropout error of mean-field SGD solutions at M = N/2 vanishes as N grows (bound "
             "~ sqrt(log M / M))",
             decay_ok, decay_ev,
             "mean error " + format_number(decay_ev.value("gap_first", NAN)) + " at N = " + first +
                 ", " + format_number(decay_ev.value("gap_last", NAN)) + " at N = " + last +
                 ": a factor " + format_number(decay_ev.value("decrease_factor", NAN)) +
                 " (required " + format_number(decay_ev.value("required_factor", NAN)) + ")"));
  out.claims.push_back(decide(
      "path_excess_vanishes",
      "the excess loss along the dropout path between two SGD solutions vanishes as N grows",
      excess_ok, excess_ev,
      "mean excess " + format_number(excess_ev.value("excess_first", NAN)) + " at N = " + first +
          ", " + format_number(excess_ev.value("excess_last", NAN)) + " at N = " + last));
  out.claims.push_back(decide(
      "line_barrier_persists",
      "the straight line between the same two solutions keeps a barrier that does not vanish",
      line_ok, line_ev,
      "line barrier " + format_number(line_ev.value("line_barrier_first", NAN)) +
          " at N = " + first + ", " + format_number(line_ev.value("line_barrier_last", NAN)) +
          " at N = " + last + " (path excess there " +
          format_number(line_ev.value("excess_last", NAN)) + ")"));
  out.claims.push_back(decide(
      "independent_neurons",
      "for independently drawn neurons, a kept subnetwork of fixed size M has the same expected "
      "loss whatever N is (E L_M = L_inf + V/M), so the dropout error at fixed M does not grow "
      "with N beyond V/M",
      independent_ok, {{"kept", opt.fixed_kept}, {"widths", independent_ev}},
      independent_ok ? "the mean kept loss is within 3 standard errors of the first width's at "
                       "every width"
                     : "the mean kept loss moves by more than 3 standard errors"));

  out.tables.push_back({"dropout_error",
                        "Dropout error |L_N - L_M| on held-out data, mean over networks and keep "
                        "sets, with the sqrt(log M / M) reference scaled to the first width",
                        std::move(errors)});
  out.tables.push_back({"paths", "The dropout path and the straight line, per width and seed",
                        std::move(paths_table)});
  out.tables.push_back({"means", "Means over seeds per width", std::move(means)});
  out.tables.push_back({"independent",
                        "Kept loss and dropout error at fixed M for i.i.d. neurons (the "
                        "initialisation)",
                        std::move(independent)});
  out.tables.push_back(
      {"profiles", "Loss along both paths at the last width (first seed)", std::move(profiles)});
  for (const Setting& s : settings) {
    const std::string where = s.name == k_teacher ? "Gaussian teacher" : s.name;
    out.figures.push_back(
        {"dropout_error_vs_n_" + s.name,
         "lines",
         "dropout_error",
         "Dropout error at M = N/2 against N (" + where + "), with the sqrt(log M / M) reference",
         {{"x", "width"},
          {"y", {"gap_mean", "reference"}},
          {"labels", {"dropout error", "c sqrt(log M / M)"}},
          {"select", {{"dataset", s.name}, {"fraction", "0.5"}}},
          {"logx", true},
          {"logy", true},
          {"ylabel", "|L_N - L_M|"}},
         {"dropout_error_vanishes"}});
    out.figures.push_back({"dropout_error_vs_m_" + s.name,
                           "lines",
                           "dropout_error",
                           "Dropout error against the number kept M, per width (" + where + ")",
                           {{"x", "kept"},
                            {"y", {"gap_mean"}},
                            {"group", "width"},
                            {"select", {{"dataset", s.name}}},
                            {"logx", true},
                            {"logy", true},
                            {"ylabel", "|L_N - L_M|"}},
                           {"dropout_error_vanishes"}});
    out.figures.push_back({"path_vs_line_" + s.name,
                           "lines",
                           "means",
                           "Path excess, its bound max(eps_D) and the straight line's barrier "
                           "against N (" +
                               where + "; exact zeros drawn at 1e-12)",
                           {{"x", "width"},
                            {"y", {"excess", "bound", "line_barrier"}},
                            {"labels", {"dropout path excess", "bound", "straight line barrier"}},
                            {"select", {{"dataset", s.name}}},
                            {"logx", true},
                            {"logy", true},
                            {"floor", 1e-12},
                            {"ylabel", "loss above the larger end"}},
                           {"path_excess_vanishes", "line_barrier_persists"}});
    out.figures.push_back(
        {"profiles_" + s.name,
         "lines",
         "profiles",
         "Held-out loss along the dropout path and the straight line (" + where + ", last width)",
         {{"x", "t"},
          {"y", {"dropout_path", "line"}},
          {"labels", {"dropout path (7 segments)", "straight line"}},
          {"select", {{"dataset", s.name}}},
          {"ylabel", "held-out loss"}},
         {"segments_typed"}});
  }
  out.figures.push_back(
      {"independent",
       "lines",
       "independent",
       "Loss of kept subnetworks of fixed size M, and their dropout error, for i.i.d. neurons "
       "(the initialisation) against N",
       {{"x", "width"},
        {"y", {"loss_kept_mean", "gap_mean"}},
        {"labels", {"mean L_M(theta_A)", "mean |L_N - L_M|"}},
        {"logx", true},
        {"ylabel", "held-out loss"}},
       {"independent_neurons"}});
  out.summary = std::to_string(out.count(Verdict::holds)) + " of " +
                std::to_string(out.claims.size()) + " claims hold; widths " + opt.widths + ", " +
                std::to_string(opt.seeds) + " seeds.";
  return out;
}

Study shevchenko_mondelli_study() {
  return make_study("shevchenko-mondelli", k_sm_title, shevchenko_mondelli_study_options_table(),
                    &run_shevchenko_mondelli_study);
}

}  // namespace locus::studies
