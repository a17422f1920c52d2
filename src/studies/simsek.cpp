#include "locus/studies/simsek.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <sstream>

#include "locus/data/source.hpp"
#include "locus/data/synthetic.hpp"
#include "locus/io/format.hpp"
#include "locus/symmetry/categorize.hpp"
#include "locus/symmetry/counts.hpp"
#include "locus/symmetry/expansion.hpp"
#include "locus/symmetry/swap_path.hpp"
#include "locus/workflows/split.hpp"
#include "locus/workflows/students.hpp"
#include "locus/workflows/swap.hpp"

namespace locus::studies {

namespace {

using Eigen::VectorXd;
using options::OptionError;

constexpr const char* k_simsek_owner = "SimsekStudyOptions";
constexpr const char* k_simsek_title =
    "Simsek et al. (2021): symmetry-induced minima, saddles and zero-loss paths";

std::vector<double> parse_numbers(const std::string& field, const std::string& text) {
  std::vector<double> out;
  std::stringstream items(text);
  for (std::string item; std::getline(items, item, ',');)
    out.push_back(options::parse_double(k_simsek_owner, field, item));
  if (out.empty()) throw OptionError(k_simsek_owner, field, "needs a comma-separated list");
  return out;
}

// ---- counts, checked by brute force ----------------------------------------------------------

// Bell numbers B_0..B_n by the recurrence B_{n+1} = sum_k C(n, k) B_k (independent of the
// library's GMP code; exact in 64 bits for n <= 20).
std::vector<std::int64_t> bell_numbers(int n) {
  std::vector<std::int64_t> b(n + 1, 0);
  b[0] = 1;
  for (int k = 0; k < n; ++k) {
    std::int64_t c = 1;  // C(k, j)
    for (int j = 0; j <= k; ++j) {
      b[k + 1] += c * b[j];
      c = c * (k - j) / (j + 1);
    }
  }
  return b;
}

struct BruteCounts {
  std::int64_t T = 0, T_groups = 0, G = 0;
};
// Every map [m] -> {0..r}: those covering 1..r are T's pieces; each also carries B(#zeros) zero
// partitions (T_groups); the maps into {1..r} that are onto are G's. O((r+1)^m m).
BruteCounts brute_counts(int r, int m) {
  const std::vector<std::int64_t> bell = bell_numbers(m);
  BruteCounts c;
  std::vector<int> phi(m, 0);
  for (;;) {
    std::vector<bool> hit(r + 1, false);
    int zeros = 0;
    for (int v : phi) {
      hit[v] = true;
      zeros += v == 0;
    }
    bool onto = true;
    for (int i = 1; i <= r; ++i) onto = onto && hit[i];
    if (onto) {
      ++c.T;
      c.T_groups += bell[zeros];
      if (zeros == 0) ++c.G;
    }
    int k = 0;
    while (k < m && phi[k] == r) phi[k++] = 0;
    if (k == m) break;
    ++phi[k];
  }
  return c;
}

// ---- the paper's teacher ----------------------------------------------------------------------

struct Teacher {
  Mlp model;
  VectorXd theta;
  Dataset grid;  // the 41 x 41 grid, y = teacher(x)
};
Teacher paper_teacher() {
  TeacherStudent t = simsek_teacher(Activation::sigmoid);
  return {t.teacher, t.teacher_parameters, t.data};
}

}  // namespace

void SimsekStudyOptions::validate() const {
  if (count_m_max < 4 || count_m_max > symmetry::k_max_width)
    throw OptionError(k_simsek_owner, "count_m_max",
                      "must be in [4, " + std::to_string(symmetry::k_max_width) + "]");
  if (brute_r_max < 1 || brute_r_max > 5)
    throw OptionError(k_simsek_owner, "brute_r_max", "must be in [1, 5]");
  if (brute_m_max < brute_r_max || brute_m_max > 9)
    throw OptionError(k_simsek_owner, "brute_m_max", "must be in [brute_r_max, 9]");
  if (pieces_extra_max < 1 || pieces_extra_max > 2)
    throw OptionError(k_simsek_owner, "pieces_extra_max",
                      "must be 1 or 2 (m = 4 .. 6: 3360 pieces)");
  const std::vector<double> s = parse_numbers("swap", swap);
  if (s.size() != 2 || s[0] == s[1] || s[0] < 0 || s[1] < 0 || s[0] > 3 || s[1] > 3 ||
      s[0] != std::floor(s[0]) || s[1] != std::floor(s[1]))
    throw OptionError(k_simsek_owner, "swap",
                      "must be two different neurons i,j in 0..3, got " + swap);
  const std::vector<Index> arch = parse_widths(deep_arch, "deep_arch");
  if (arch.size() < 4 || arch.back() != 1)
    throw OptionError(k_simsek_owner, "deep_arch",
                      "needs >= 2 hidden layers and one output, got " + deep_arch);
  for (std::size_t k = 1; k + 1 < arch.size(); ++k)
    if (arch[k] < 2) throw OptionError(k_simsek_owner, "deep_arch", "hidden widths must be >= 2");
  const std::vector<double> f = parse_numbers("split_fractions", split_fractions);
  if (f.size() < 2) throw OptionError(k_simsek_owner, "split_fractions", "needs >= 2 fractions");
  workflows::parse_widths(students_widths);
  if (students_seeds < 1) throw OptionError(k_simsek_owner, "students_seeds", "must be >= 1");
  if (students_grid_stride < 1 || students_grid_stride > 10)
    throw OptionError(k_simsek_owner, "students_grid_stride", "must be in [1, 10]");
  if (students_adam_iterations < 0)
    throw OptionError(k_simsek_owner, "students_adam_iterations", "must be >= 0");
  if (students_polish_iterations < 1)
    throw OptionError(k_simsek_owner, "students_polish_iterations", "must be >= 1");
}

const options::Table<SimsekStudyOptions>& simsek_study_options_table() {
  using O = SimsekStudyOptions;
  static const auto t =
      options::Table<O>(k_simsek_owner)
          .add("seed", "seeds the pieces' points, the deep teacher and the students", &O::seed)
          .add("count_m_max", "counts and ratio for m = r .. this", &O::count_m_max)
          .add("brute_r_max", "counts checked by brute force for r up to this", &O::brute_r_max)
          .add("brute_m_max", "... and m up to this", &O::brute_m_max)
          .add("pieces_extra_max", "pieces and components for m = r .. r + this",
               &O::pieces_extra_max)
          .add("swap", "teacher neurons i,j the swap path exchanges", &O::swap)
          .add("deep_arch", "the deep swap path's teacher widths (tanh, biases)", &O::deep_arch)
          .add("split_fractions", "fractions splitting the narrow strict minimum",
               &O::split_fractions)
          .add("students_widths", "student widths m", &O::students_widths)
          .add("students_seeds", "runs per width", &O::students_seeds)
          .add("students_grid_stride", "every k-th grid line (1: all 41 x 41 points)",
               &O::students_grid_stride)
          .add("students_adam_iterations", "Adam steps before the polish",
               &O::students_adam_iterations)
          .add("students_polish_iterations", "the polish's iterations at most",
               &O::students_polish_iterations);
  return t;
}

StudyResult run_simsek_study(const SimsekStudyOptions& opt, const ProgressCallback& progress) {
  StudyResult out;
  out.study = "simsek";
  out.title = k_simsek_title;
  const Teacher t = paper_teacher();
  const int r = 4;

  report_progress(progress, {.stage = "counts against brute force", .done = 0, .total = 5});
  // 1. Counts against brute force, and the counts/ratio against m.
  {
    io::Json checked = io::Json::array();
    bool all_equal = true;
    for (int rr = 1; rr <= opt.brute_r_max; ++rr)
      for (int m = rr; m <= opt.brute_m_max; ++m) {
        const BruteCounts b = brute_counts(rr, m);
        const symmetry::ExpansionCounts c = symmetry::expansion_counts(rr, m);
        const bool eq = std::to_string(b.T) == c.T && std::to_string(b.T_groups) == c.T_groups &&
                        std::to_string(b.G) == c.G;
        all_equal = all_equal && eq;
        if (!eq) checked.push_back({{"r", rr}, {"m", m}, {"T", c.T}, {"T_brute", b.T}});
      }
    const int cases = [&] {
      int n = 0;
      for (int rr = 1; rr <= opt.brute_r_max; ++rr) n += int(opt.brute_m_max) - rr + 1;
      return n;
    }();
    out.claims.push_back(decide(
        "counts",
        "T(r, m) = r! S(m+1, r+1), T_groups(r, m) and G(r, m) = r! S(m, r) count the maps "
        "phi enumerated one by one",
        all_equal, {{"cases", cases}, {"mismatches", checked}},
        all_equal ? "all " + std::to_string(cases) +
                        " (r, m) with r <= " + std::to_string(opt.brute_r_max) + ", m <= " +
                        std::to_string(opt.brute_m_max) + " agree with brute-force enumeration"
                  : std::to_string(checked.size()) + " (r, m) disagree"));

    Table counts({"m", "log10_T", "log10_T_groups", "log10_G"});
    Table ratio({"h", "log10_G_over_T"});
    bool above_small = false, below_large = false;
    for (int m = r; m <= opt.count_m_max; ++m) {
      const symmetry::ExpansionCounts c = symmetry::expansion_counts(r, m);
      counts.add_row({m, c.log10_T, c.log10_T_groups, c.log10_G});
      const double q = symmetry::log10_saddle_minimum_ratio(r, m);
      ratio.add_row({m - r, q});
      if (m - r <= 1 && q > 0) above_small = true;
      if (m == opt.count_m_max && q < 0) below_large = true;
    }
    const double q0 = symmetry::log10_saddle_minimum_ratio(r, r);
    const double q_end = symmetry::log10_saddle_minimum_ratio(r, int(opt.count_m_max));
    out.claims.push_back(decide(
        "saddles_vs_minima",
        "saddle subspaces G(r-1, m) outnumber minimum subspaces T(r, m) for small h = m - r, and "
        "the reverse for h >> r",
        above_small && below_large,
        {{"log10_ratio_h0", q0}, {"log10_ratio_hmax", q_end}, {"h_max", opt.count_m_max - r}},
        "log10 G(3, m)/T(4, m) = " + io::format_number(q0) + " at h = 0 and " +
            io::format_number(q_end) + " at h = " + std::to_string(opt.count_m_max - r)));
    out.tables.push_back(
        {"counts", "log10 of the exact counts for the teacher width r = 4", std::move(counts)});
    out.tables.push_back(
        {"ratio", "log10 G(r-1, m) / T(r, m) against h = m - r, r = 4", std::move(ratio)});
    out.figures.push_back({"counts",
                           "lines",
                           "counts",
                           "Pieces of the expansion manifold T, with zero groups T_groups, and "
                           "split saddle subspaces G, against the student width m (r = 4)",
                           {{"x", "m"},
                            {"y", {"log10_T", "log10_T_groups", "log10_G"}},
                            {"labels", {"T(4, m)", "T_groups(4, m)", "G(4, m)"}},
                            {"ylabel", "log10 count"}},
                           {"counts"}});
    out.figures.push_back({"ratio",
                           "lines",
                           "ratio",
                           "Saddles against minima: log10 G(r-1, m) / T(r, m) against h",
                           {{"x", "h"},
                            {"y", {"log10_G_over_T"}},
                            {"ylabel", "log10 G(3, m) / T(4, m)"},
                            {"hline", 0.0},
                            {"hline_label", "equal numbers"}},
                           {"saddles_vs_minima"}});
  }

  report_progress(
      progress,
      {.stage = "pieces and components of the expansion manifold", .done = 1, .total = 5});
  // 2. Pieces and components on the paper's teacher and grid.
  {
    Table pieces({"m", "pieces", "dimension_min", "dimension_max", "loss_max", "loss_tolerance",
                  "components_rule", "components_numerical"});
    bool zero = true, comps = true;
    io::Json evidence = io::Json::array();
    for (int m = r; m <= r + opt.pieces_extra_max; ++m) {
      symmetry::ExpansionOptions eo;
      eo.m = m;
      eo.seed = opt.seed;
      const symmetry::ExpansionEnumeration e =
          symmetry::enumerate_expansion(t.model, t.theta, t.grid.x, eo);
      const Index expected = m == r ? 24 : 1;  // r! = 24 components at m = r, else one
      const bool ok_c = e.by_rule.computed && e.numerical.computed && e.by_rule.count == expected &&
                        e.numerical.count == expected;
      zero = zero && e.loss_max <= e.loss_tolerance;
      comps = comps && ok_c;
      pieces.add_row({m, e.n_pieces, e.dimension_min, e.dimension_max, e.loss_max, e.loss_tolerance,
                      e.by_rule.count, e.numerical.count});
      evidence.push_back({{"m", m},
                          {"pieces", e.n_pieces},
                          {"loss_max", e.loss_max},
                          {"loss_tolerance", e.loss_tolerance},
                          {"components_rule", e.by_rule.count},
                          {"components_numerical", e.numerical.count}});
    }
    out.claims.push_back(decide("pieces_zero_loss",
                                "every point of every affine piece Gamma(phi) has zero loss", zero,
                                {{"widths", evidence}},
                                zero ? "a seeded point of each piece has loss within its "
                                       "round-off bound on the 41 x 41 grid"
                                     : "a piece's point has loss above its round-off bound"));
    out.claims.push_back(decide(
        "components",
        "the union of the T(r, m) pieces has r! components at m = r and is connected for "
        "m >= r + 1",
        comps, {{"widths", evidence}},
        comps
            ? "24 components at m = 4, one at m = 5.." + std::to_string(r + opt.pieces_extra_max) +
                  ", by the combinatorial rule and by affine least squares alike"
            : "a component count differs from r! / 1 or the two methods disagree"));
    out.tables.push_back({"pieces", "The pieces of the expansion manifold of the paper's teacher",
                          std::move(pieces)});
  }

  report_progress(progress, {.stage = "swap paths", .done = 2, .total = 5});
  // 3. Swap paths: the paper's teacher on the grid, and a deep teacher.
  {
    const std::vector<double> s = parse_numbers("swap", opt.swap);
    const symmetry::SwapPath path =
        symmetry::swap_path(t.model, t.theta, {{1, Index(s[0]), Index(s[1])}});
    const workflows::SwapPathCheck c =
        workflows::check_swap_path(Objective(path.model, t.grid), path, {}, 24);
    const double barrier = c.line.barriers.above_larger_end;
    const bool ok = c.path_loss_max <= 1e-20 && barrier >= 1e-3;
    out.claims.push_back(decide(
        "swap_path",
        "one extra neuron connects the permuted minima: a piecewise-linear path swaps two teacher "
        "neurons at zero loss, while the straight line between them has a barrier",
        ok, workflows::to_json(c),
        "loss <= " + io::format_number(c.path_loss_max) +
            " along the 7 segments (bound 1e-20); the straight "
            "line peaks " +
            io::format_number(barrier) + " above its ends"));
    Table profile({"t", "loss_path", "loss_line"});
    for (Index i = 0; i < c.t.size(); ++i)
      profile.add_row({c.t(i), c.loss_path(i), c.loss_line(i)});
    out.tables.push_back({"swap_profile",
                          "Loss along the swap path and along the straight line (same t)",
                          std::move(profile)});
    out.figures.push_back({"swap_profile",
                           "lines",
                           "swap_profile",
                           "Swapping teacher neurons " + opt.swap +
                               ": loss along the 7-segment path through one extra neuron "
                               "(exact zeros drawn at 1e-33) and along the straight line",
                           {{"x", "t"},
                            {"y", {"loss_path", "loss_line"}},
                            {"labels", {"swap path", "straight line"}},
                            {"logy", true},
                            {"floor", 1e-33},
                            {"ylabel", "loss"}},
                           {"swap_path"}});

    const std::vector<Index> arch = parse_widths(opt.deep_arch, "deep_arch");
    const Mlp deep({.widths = arch, .activation = Activation::tanh});
    const VectorXd theta = deep.init_parameters({.scheme = InitScheme::normal, .seed = opt.seed});
    Dataset data = gaussian_data(60, arch.front(), 1, opt.seed);
    data.y = deep.predict(theta, data.x);
    std::vector<symmetry::NeuronSwap> swaps;
    for (int k = 1; k + 1 < static_cast<int>(arch.size()); ++k) swaps.push_back({k, 0, 1});
    const symmetry::SwapPath dp = symmetry::swap_path(deep, theta, swaps);
    const workflows::SwapPathCheck dc = workflows::check_swap_path(Objective(dp.model, data), dp);
    const bool dok = dc.path_loss_max <= 1e-20 && dc.line.barriers.above_larger_end >= 1e-3;
    out.claims.push_back(decide(
        "deep_swap_path",
        "in a deep net one extra neuron per layer connects the permuted minima at zero loss", dok,
        workflows::to_json(dc),
        "teacher " + deep.describe() + ", neurons 0 and 1 swapped in each hidden layer: loss <= " +
            io::format_number(dc.path_loss_max) + " along " + std::to_string(dc.segments.size()) +
            " segments; the straight line peaks " +
            io::format_number(dc.line.barriers.above_larger_end) + " above its ends"));
  }

  report_progress(progress, {.stage = "split saddles", .done = 3, .total = 5});
  // 4. Split critical points: a width-1 student of a width-3 tanh teacher (the paper's first
  // three directions, doubled) at a strict minimum, split into width 2.
  {
    const Mlp teacher3(
        {.widths = {2, 3, 1}, .activation = Activation::tanh, .bias = {false, false}});
    VectorXd t3(9);
    t3 << 1.2, 1.0, -1.0, 1.0, -0.4, -1.2, 1, 1, 1;
    Dataset data = gaussian_data(40, 2, 1, 1);
    data.y = teacher3.predict(t3, data.x);
    const Mlp narrow({.widths = {2, 1, 1}, .activation = Activation::tanh, .bias = {false, false}});
    const Objective obj(narrow, data);
    solvers::TrainOptions o;
    o.method = solvers::Method::lm;
    o.polish = solvers::Method::critical;
    const solvers::SolveResult min =
        solvers::solve(obj, narrow.init_parameters({.scheme = InitScheme::normal, .seed = 0}), o);
    const std::vector<double> f = parse_numbers("split_fractions", opt.split_fractions);
    const workflows::SplitCheck c = workflows::split_critical_point(obj, min.theta, {1, 0}, f);
    const io::Json evidence = workflows::to_json(c);
    out.claims.push_back(decide(
        "split_critical",
        "splitting a neuron of a critical point gives a critical point with the same loss and at "
        "least m - r zero Hessian eigenvalues",
        c.critical() && c.zero_after >= c.zero_expected, evidence,
        "|grad L|_inf = " + io::format_number(c.gradient_max_norm_after) + " <= " +
            io::format_number(c.gradient_tolerance) + ", loss " + io::format_number(c.loss_before) +
            " -> " + io::format_number(c.loss_after) + ", " + std::to_string(c.zero_after) +
            " zero eigenvalues (>= " + std::to_string(c.zero_expected) + ")"));
    out.claims.push_back(decide(
        "split_saddle",
        "a strict minimum of the narrow network becomes a saddle of the wider one when split",
        c.critical() && c.index_before == 0 && c.zero_before == 0 && c.index_after > 0, evidence,
        "index " + std::to_string(c.index_before) + " -> " + std::to_string(c.index_after) +
            " with fractions " + opt.split_fractions));
    out.claims.push_back(
        decide("zero_type_breaks",
               "adding a zero-type neuron instead of splitting breaks criticality (dL/da_j != 0)",
               c.zero_neuron_outgoing_gradient_max_norm > c.gradient_tolerance, evidence,
               "|dL/da| = " + io::format_number(c.zero_neuron_outgoing_gradient_max_norm) +
                   " against the tolerance " + io::format_number(c.gradient_tolerance)));
    Table spectrum({"eigenvalue", "class"});
    const double tau = c.spectrum_after.counts.tolerance;
    for (Index i = 0; i < c.spectrum_after.eigenvalues.size(); ++i) {
      const double l = c.spectrum_after.eigenvalues(i);
      spectrum.add_row({l, std::abs(l) <= tau ? "zero" : (l > 0 ? "positive" : "negative")});
    }
    out.tables.push_back(
        {"split_spectrum", "Hessian eigenvalues at the split saddle", std::move(spectrum)});
    out.figures.push_back({"split_spectrum",
                           "hessian_spectrum",
                           "split_spectrum",
                           "Hessian spectrum at the split of a strict minimum: a zero eigenvalue "
                           "along the split and negative ones (a saddle)",
                           {{"tolerance", tau}, {"title", "Hessian spectrum at a split saddle"}},
                           {"split_critical", "split_saddle"}});
  }

  report_progress(progress, {.stage = "students of growing width", .done = 4, .total = 5});
  // 5. Students of growing width.
  {
    workflows::StudentsOptions so;
    so.widths = opt.students_widths;
    so.seeds = opt.students_seeds;
    so.seed = opt.seed;
    so.grid_stride = opt.students_grid_stride;
    so.train.adam_iterations = opt.students_adam_iterations;
    so.train.polish_iterations = opt.students_polish_iterations;
    const workflows::StudentsResult res =
        workflows::run_students(so, [&](const workflows::StudentRun&, Index done, Index total) {
          report_progress(progress, {.stage = "students of growing width (runs)",
                                     .done = static_cast<long long>(done),
                                     .total = static_cast<long long>(total)});
        });
    Table runs({"width", "seed", "loss_adam", "loss_final", "gradient_max_norm", "end_state",
                "index", "zero_loss", "on_expansion_manifold", "piece"});
    Table vectors({"panel", "kind", "w1", "w2"});
    for (Index i = 0; i < t.model.spec().widths[1]; ++i)
      for (const Index width : workflows::parse_widths(opt.students_widths))
        vectors.add_row(
            {"width " + std::to_string(width), "teacher", t.theta(2 * i), t.theta(2 * i + 1)});
    int on = 0, zero = 0;
    for (const workflows::StudentRun& run : res.runs) {
      const bool on_m = run.categorization && run.categorization->on_expansion_manifold;
      on += on_m;
      zero += run.zero_loss;
      runs.add_row({run.width, static_cast<std::int64_t>(run.seed), run.loss_adam, run.loss_final,
                    run.gradient_max_norm, run.end_state, run.index,
                    std::string(run.zero_loss ? "yes" : "no"), std::string(on_m ? "yes" : "no"),
                    run.categorization ? run.categorization->piece : std::string()});
    }
    // The incoming vectors of each width's lowest-loss student, sorted into kinds.
    for (const workflows::WidthSummary& w : res.widths) {
      const workflows::StudentRun* best = nullptr;
      for (const auto& run : res.runs)
        if (run.width == w.width && (!best || run.loss_final < best->loss_final)) best = &run;
      if (!best) continue;
      const Mlp student(
          {.widths = {2, w.width, 1}, .activation = Activation::sigmoid, .bias = {false, false}});
      const symmetry::Categorization c =
          symmetry::categorize(t.model, t.theta, student, best->theta);
      for (Index j = 0; j < w.width; ++j)
        vectors.add_row({"width " + std::to_string(w.width),
                         std::string(symmetry::to_string(c.kinds[static_cast<size_t>(j)])),
                         best->theta(2 * j), best->theta(2 * j + 1)});
    }
    out.claims.push_back(
        zero == 0 ? skip("students_on_manifold",
                         "students trained to zero loss lie on a piece of the expansion manifold",
                         "no student reached zero loss (<= 1e-20)")
                  : decide("students_on_manifold",
                           "students trained to zero loss lie on a piece of the expansion manifold",
                           on == zero, {{"zero_loss", zero}, {"on_expansion_manifold", on}},
                           std::to_string(on) + " of " + std::to_string(zero) +
                               " zero-loss students are copies, zero-type neurons and zero "
                               "groups of the teacher's"));
    // Median final loss per width.
    std::vector<std::pair<Index, double>> medians;
    for (const workflows::WidthSummary& w : res.widths) {
      std::vector<double> l;
      for (const auto& run : res.runs)
        if (run.width == w.width) l.push_back(run.loss_final);
      std::sort(l.begin(), l.end());
      medians.push_back({w.width, l[l.size() / 2]});
    }
    std::sort(medians.begin(), medians.end());
    io::Json med = io::Json::object();
    for (const auto& [w, l] : medians) med[std::to_string(w)] = l;
    if (medians.size() < 2 || medians.front().first > r)
      out.claims.push_back(skip("wider_fits_better",
                                "wider students end at lower loss (median over seeds)",
                                "needs a width <= 4 and a wider one in students_widths"));
    else
      out.claims.push_back(
          decide("wider_fits_better", "wider students end at lower loss (median over seeds)",
                 medians.back().second < medians.front().second, {{"median_loss", med}},
                 "median final loss " + io::format_number(medians.front().second) + " at width " +
                     std::to_string(medians.front().first) + ", " +
                     io::format_number(medians.back().second) + " at width " +
                     std::to_string(medians.back().first)));
    int narrow_missed = 0, narrow_certified = 0;
    for (const auto& run : res.runs)
      if (run.width <= r && !run.zero_loss) {
        ++narrow_missed;
        narrow_certified += run.status == workflows::CertifyStatus::certified;
      }
    out.claims.push_back(
        narrow_missed == 0
            ? skip("narrow_certified",
                   "narrow students that miss zero loss end at certified non-global critical "
                   "points",
                   "every narrow student reached zero loss")
            : decide("narrow_certified",
                     "narrow students that miss zero loss end at certified non-global critical "
                     "points (strict minima or saddles, with index and gradient)",
                     narrow_certified > 0,
                     {{"missed", narrow_missed}, {"certified", narrow_certified}},
                     std::to_string(narrow_certified) + " of " + std::to_string(narrow_missed) +
                         " narrow students that missed zero loss are certified critical points "
                         "(the others did not converge in the polish's budget)"));
    out.details["students"] = workflows::to_json(res);
    out.tables.push_back(
        {"students", "Students of each width: end state per seed", std::move(runs)});
    out.tables.push_back({"student_vectors",
                          "Incoming vectors of each width's lowest-loss student and the teacher's",
                          std::move(vectors)});
    out.figures.push_back({"students_loss",
                           "lines",
                           "students",
                           "Loss at convergence per seed and width (exact zeros at 1e-33)",
                           {{"x", "seed"},
                            {"y", {"loss_final"}},
                            {"group", "width"},
                            {"logy", true},
                            {"floor", 1e-33},
                            {"markers_only", true},
                            {"ylabel", "final loss"}},
                           {"wider_fits_better", "narrow_certified"}});
    out.figures.push_back({"student_vectors",
                           "plane_vectors",
                           "student_vectors",
                           "Incoming vectors of the lowest-loss student per width (points, "
                           "coloured by kind) and the teacher's (arrows)",
                           {{"title", "student neurons against the teacher's"}},
                           {"students_on_manifold"}});
  }

  const int holds = out.count(Verdict::holds);
  out.summary = std::to_string(holds) + " of " + std::to_string(out.claims.size()) +
                " claims hold on the paper's teacher (4 sigmoid neurons, 41 x 41 grid).";
  return out;
}

Study simsek_study() {
  return make_study("simsek", k_simsek_title, simsek_study_options_table(), &run_simsek_study);
}

}  // namespace locus::studies
