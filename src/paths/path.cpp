// Paths in parameter space, loss profiles refined around their maximum, barriers (path.hpp).

#include "locus/paths/path.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "locus/io/format.hpp"
#include "locus/io/json_numbers.hpp"
#include "locus/io/memory.hpp"

namespace locus::paths {

using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

void require_finite(const MatrixXd& m, const char* what) {
  if (!m.allFinite()) throw std::invalid_argument(std::string(what) + " has non-finite entries");
}

void require_same_length(const VectorXd& a, const VectorXd& b, const char* what) {
  if (a.size() != b.size())
    throw std::invalid_argument(std::string(what) + " has length " + std::to_string(b.size()) +
                                ", the start has length " + std::to_string(a.size()));
}

MatrixXd stack(const VectorXd& a, const MatrixXd& middle, const VectorXd& b) {
  MatrixXd p(middle.rows() + 2, a.size());
  p.row(0) = a.transpose();
  p.middleRows(1, middle.rows()) = middle;
  p.row(p.rows() - 1) = b.transpose();
  return p;
}

}  // namespace

std::string_view to_string(PathKind k) {
  switch (k) {
    case PathKind::polyline:
      return "polyline";
    case PathKind::bezier:
      return "bezier";
    case PathKind::polychain:
      return "polychain";
  }
  return "unknown";
}

PathKind parse_path_kind(std::string_view name) {
  if (name == "polyline" || name == "line") return PathKind::polyline;
  if (name == "bezier") return PathKind::bezier;
  if (name == "polychain") return PathKind::polychain;
  throw std::invalid_argument("unknown path kind '" + std::string(name) +
                              "' (valid: line, polyline, bezier, polychain)");
}

Path::Path(PathKind kind, MatrixXd points) : kind_(kind), points_(std::move(points)) {
  if (points_.rows() < 2 || points_.cols() < 1)
    throw std::invalid_argument("a path needs at least 2 control points of length >= 1, got " +
                                std::to_string(points_.rows()) + " x " +
                                std::to_string(points_.cols()));
  require_finite(points_, "the path's control points");
}

Path Path::line(const VectorXd& a, const VectorXd& b) {
  require_same_length(a, b, "the end");
  return Path(PathKind::polyline, stack(a, MatrixXd(0, a.size()), b));
}

Path Path::polyline(MatrixXd vertices) { return Path(PathKind::polyline, std::move(vertices)); }

Path Path::bezier(const VectorXd& a, const VectorXd& bend, const VectorXd& b) {
  require_same_length(a, bend, "the bend");
  require_same_length(a, b, "the end");
  return Path(PathKind::bezier, stack(a, bend.transpose(), b));
}

Path Path::polychain(const VectorXd& a, const MatrixXd& bends, const VectorXd& b) {
  require_same_length(a, b, "the end");
  if (bends.rows() < 1 || bends.cols() != a.size())
    throw std::invalid_argument("the bends must be k >= 1 rows of length " +
                                std::to_string(a.size()) + ", got " + std::to_string(bends.rows()) +
                                " x " + std::to_string(bends.cols()));
  return Path(PathKind::polychain, stack(a, bends, b));
}

Path Path::with_control_points(MatrixXd points) const {
  if (points.rows() != points_.rows() || points.cols() != points_.cols())
    throw std::invalid_argument("new control points must be " + std::to_string(points_.rows()) +
                                " x " + std::to_string(points_.cols()) + ", got " +
                                std::to_string(points.rows()) + " x " +
                                std::to_string(points.cols()));
  return Path(kind_, std::move(points));
}

VectorXd Path::breakpoints() const {
  if (kind_ == PathKind::bezier) return VectorXd::LinSpaced(2, 0.0, 1.0);
  const Index m = points_.rows();
  VectorXd t(m);
  for (Index k = 0; k < m; ++k) t[k] = double(k) / double(m - 1);
  return t;
}

VectorXd Path::weights(double t) const {
  if (!(t >= 0.0 && t <= 1.0))
    throw std::invalid_argument("path parameter t must be in [0, 1], got " + io::format_number(t));
  const Index m = points_.rows();
  VectorXd w = VectorXd::Zero(m);
  if (kind_ == PathKind::bezier) {
    w << (1 - t) * (1 - t), 2 * t * (1 - t), t * t;
    return w;
  }
  // Segment k covers [k/(m-1), (k+1)/(m-1)]; t = 1 belongs to the last segment.
  const double u = t * double(m - 1);
  const Index k = std::min<Index>(static_cast<Index>(std::floor(u)), m - 2);
  const double s = u - double(k);
  w[k] = 1 - s;
  w[k + 1] = s;
  return w;
}

VectorXd Path::at(double t) const {
  const VectorXd w = weights(t);
  VectorXd x = VectorXd::Zero(points_.cols());
  for (Index j = 0; j < w.size(); ++j)
    if (w[j] != 0.0) x += w[j] * points_.row(j).transpose();
  return x;
}

double Path::control_polygon_length() const {
  double length = 0.0;
  for (Index j = 0; j + 1 < points_.rows(); ++j)
    length += (points_.row(j + 1) - points_.row(j)).norm();
  return length;
}

Barriers barriers(double loss_start, double loss_end, double t_max, double loss_max) {
  return {.above_larger_end = loss_max - std::max(loss_start, loss_end),
          .above_interpolation = loss_max - ((1 - t_max) * loss_start + t_max * loss_end),
          .above_mean = loss_max - 0.5 * (loss_start + loss_end)};
}

void ProfileOptions::validate() const {
  auto fail = [](const std::string& field, const std::string& why) {
    throw std::invalid_argument("ProfileOptions." + field + " " + why);
  };
  if (points < 2) fail("points", "must be >= 2, got " + std::to_string(points));
  if (!(t_tolerance > 0) || !std::isfinite(t_tolerance))
    fail("t_tolerance", "must be finite and > 0, got " + io::format_number(t_tolerance));
  if (!(loss_tolerance > 0) || !std::isfinite(loss_tolerance))
    fail("loss_tolerance", "must be finite and > 0, got " + io::format_number(loss_tolerance));
  if (max_refinements < 0)
    fail("max_refinements", "must be >= 0, got " + std::to_string(max_refinements));
}

const options::Table<ProfileOptions>& profile_table() {
  using O = ProfileOptions;
  static const auto t =
      options::Table<O>("ProfileOptions")
          .add("points", "equally spaced grid points on [0, 1], ends included", &O::points)
          .add("t_tolerance", "refine until the bracket around t* is this narrow", &O::t_tolerance)
          .add("loss_tolerance",
               "... and the peak is within this * max(1, |L_max|) of the best value",
               &O::loss_tolerance)
          .add("max_refinements", "loss evaluations allowed after the grid", &O::max_refinements);
  return t;
}

std::string_view to_string(ProfileStatus s) {
  switch (s) {
    case ProfileStatus::converged:
      return "converged";
    case ProfileStatus::max_at_end:
      return "max_at_end";
    case ProfileStatus::max_refinements:
      return "max_refinements";
    case ProfileStatus::non_finite:
      return "non_finite";
  }
  return "unknown";
}

LossProfile loss_profile(FunctionRef loss, const Path& path, const ProfileOptions& options,
                         const ProgressCallback& progress) {
  if (loss.n_params() != path.dimension())
    throw std::invalid_argument("the path lies in R^" + std::to_string(path.dimension()) +
                                " but the loss takes " + std::to_string(loss.n_params()) +
                                " parameters");
  return loss_profile([&](const VectorXd& x) { return loss.loss(x); }, path, options, progress);
}

LossProfile loss_profile(const std::function<double(const VectorXd&)>& loss, const Path& path,
                         const ProfileOptions& options, const ProgressCallback& progress) {
  options.validate();
  // The grid and the samples (t, L), points + max_refinements of them, and the path's breakpoints.
  io::check_memory(32.0 * (double(options.points) + double(options.max_refinements)),
                   "ProfileOptions.points = " + std::to_string(options.points),
                   "the grid and the (t, loss) samples");
  LossProfile p;
  std::vector<std::pair<double, double>> samples;  // (t, L), in evaluation order
  auto eval = [&](double t) {
    const double v = loss(path.at(t));
    samples.emplace_back(t, v);
    return v;
  };

  // The grid: equally spaced points and the breakpoints, sorted, duplicates (to rounding of
  // k/(m-1) against i/(points-1)) merged.
  std::vector<double> grid;
  for (int i = 0; i < options.points; ++i) grid.push_back(double(i) / double(options.points - 1));
  const VectorXd br = path.breakpoints();
  grid.insert(grid.end(), br.data(), br.data() + br.size());
  std::sort(grid.begin(), grid.end());
  grid.erase(std::unique(grid.begin(), grid.end(),
                         [](double a, double b) { return std::abs(a - b) <= 1e-14; }),
             grid.end());
  std::vector<double> values;
  for (double t : grid) {
    values.push_back(eval(t));
    report_progress(progress, {.stage = "profile grid",
                               .done = (long long)values.size(),
                               .total = (long long)grid.size()});
  }
  const size_t last = grid.size() - 1;
  p.loss_start = values.front();
  p.loss_end = values.back();

  const bool all_finite =
      std::all_of(values.begin(), values.end(), [](double v) { return std::isfinite(v); });
  size_t k = 0;
  for (size_t i = 1; all_finite && i <= last; ++i)
    if (values[i] > values[k]) k = i;
  double a = 0, b = grid[k], c = 0, fa = 0, fb = values[k], fc = 0;
  if (!all_finite) {
    p.status = ProfileStatus::non_finite;
    p.message = "the loss is not finite on the grid";
  } else if (k == 0 || k == last) {
    p.status = ProfileStatus::max_at_end;
    p.message = std::string("the largest grid value is at t = ") + (k == 0 ? "0" : "1");
    p.t_bracket = 0.0;
    p.loss_max_uncertainty = 0.0;
  } else {
    // Golden-section search for a maximum in the bracket a < b < c with L(b) >= L(a), L(c)
    // (Kiefer 1953; Numerical Recipes §10.2 for the minimum). Each step puts the new point in
    // the larger half at the golden fraction and keeps a bracket: linear convergence with
    // ratio 0.618, about 25 evaluations from a grid spacing of 1/32 to 1e-6.
    a = grid[k - 1], c = grid[k + 1], fa = values[k - 1], fc = values[k + 1];
    constexpr double golden = 0.3819660112501051;  // (3 - sqrt 5) / 2
    int refinements = 0;
    while (true) {
      // The parabola through (a, fa), (b, fb), (c, fc) is p(x) = fb + s (x - b) + q (x - b)^2
      // with q <= 0 (a bracket); its peak exceeds fb by -s^2 / 4q: the second-order estimate
      // of how much higher the maximum is than the best value found.
      const double dab = (fb - fa) / (b - a), dbc = (fc - fb) / (c - b);
      const double q = (dbc - dab) / (c - a);
      const double s = dab + q * (b - a);
      p.loss_max_uncertainty = q < 0 ? -s * s / (4 * q) : 0.0;
      p.t_bracket = c - a;
      const double loss_allowed = options.loss_tolerance * std::max(1.0, std::abs(fb));
      if (p.t_bracket <= options.t_tolerance && p.loss_max_uncertainty <= loss_allowed) {
        p.status = ProfileStatus::converged;
        p.message = "t* bracketed to " + io::format_number(p.t_bracket) +
                    " <= " + io::format_number(options.t_tolerance) + " and the peak within " +
                    io::format_number(p.loss_max_uncertainty) +
                    " <= " + io::format_number(loss_allowed) + " of L_max after " +
                    std::to_string(refinements) + " refinements";
        break;
      }
      if (refinements >= options.max_refinements) {
        p.status = ProfileStatus::max_refinements;
        p.message = "max_refinements = " + std::to_string(options.max_refinements) +
                    " reached with t* bracketed to " + io::format_number(p.t_bracket) +
                    " and the peak within " + io::format_number(p.loss_max_uncertainty);
        break;
      }
      const bool right = c - b > b - a;
      const double x = right ? b + golden * (c - b) : b - golden * (b - a);
      const double fx = eval(x);
      ++refinements;
      report_progress(progress, {.stage = "profile refinement",
                                 .done = refinements,
                                 .total = options.max_refinements,
                                 .loss = std::max(fb, fx)});
      if (!std::isfinite(fx)) {
        p.status = ProfileStatus::non_finite;
        p.message = "the loss is not finite at t = " + io::format_number(x);
        break;
      }
      if (fx > fb) {  // x is the new centre; b becomes the end on its side
        if (right)
          a = b, fa = fb;
        else
          c = b, fc = fb;
        b = x, fb = fx;
      } else if (right) {
        c = x, fc = fx;
      } else {
        a = x, fa = fx;
      }
    }
  }

  std::sort(samples.begin(), samples.end());
  p.t.resize(Index(samples.size()));
  p.loss.resize(Index(samples.size()));
  for (size_t i = 0; i < samples.size(); ++i) {
    p.t[Index(i)] = samples[i].first;
    p.loss[Index(i)] = samples[i].second;
  }
  p.evaluations = int(samples.size());
  if (p.status != ProfileStatus::non_finite) {
    p.t_max = b;
    p.loss_max = fb;
    p.barriers = barriers(p.loss_start, p.loss_end, p.t_max, p.loss_max);
  }
  return p;
}

io::Json to_json(const Barriers& b) {
  return {{"above_larger_end", io::json_number(b.above_larger_end)},
          {"above_interpolation", io::json_number(b.above_interpolation)},
          {"above_mean", io::json_number(b.above_mean)}};
}

io::Json to_json(const LossProfile& p) {
  return {{"status", std::string(to_string(p.status))},
          {"message", p.message},
          {"t_max", io::json_number(p.t_max)},
          {"loss_max", io::json_number(p.loss_max)},
          {"loss_max_uncertainty", io::json_number(p.loss_max_uncertainty)},
          {"t_bracket", io::json_number(p.t_bracket)},
          {"loss_start", io::json_number(p.loss_start)},
          {"loss_end", io::json_number(p.loss_end)},
          {"barriers", to_json(p.barriers)},
          {"evaluations", p.evaluations},
          {"t", io::json_numbers(p.t)},
          {"loss", io::json_numbers(p.loss)}};
}

std::string summary(const LossProfile& p) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "profile: %s: %s\n"
                "  t* = %.9f (bracket %.2e), L_max = %.12g (+ <= %.2e)\n"
                "  L(0) = %.12g, L(1) = %.12g, %d evaluations\n"
                "  barrier above the larger end            %.12g\n"
                "  barrier above the interpolation at t*   %.12g\n"
                "  barrier above the mean of the ends      %.12g\n",
                std::string(to_string(p.status)).c_str(), p.message.c_str(), p.t_max, p.t_bracket,
                p.loss_max, p.loss_max_uncertainty, p.loss_start, p.loss_end, p.evaluations,
                p.barriers.above_larger_end, p.barriers.above_interpolation, p.barriers.above_mean);
  return buf;
}

}  // namespace locus::paths
