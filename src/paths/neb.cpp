// Nudged elastic band with a climbing image, L-BFGS or FIRE relaxation, AutoNEB-style insertion and
// the refinement of the band's top to a critical point (neb.hpp).

#include "locus/paths/neb.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "locus/io/format.hpp"
#include "locus/io/json_numbers.hpp"
#include "locus/io/memory.hpp"
#include "locus/solvers/critical_point.hpp"

namespace locus::paths {

using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

constexpr double eps = std::numeric_limits<double>::epsilon();
constexpr double inf = std::numeric_limits<double>::infinity();

// A function with only L and grad L, given Hessian-vector products by central differences of the
// gradient: H v ~ (g(x + h v) - g(x - h v)) / (2 h), h = cbrt(eps) max(1, |x|_inf) / |v|_2. The
// truncation error O(h^2 |g'''|) and the rounding O(eps |g| / h) balance at h ~ cbrt(eps): a
// relative error ~ eps^(2/3) ~ 4e-11.
struct FiniteDifferenceHessian {
  FunctionRef f;
  Index n_params() const { return f.n_params(); }
  double loss(const VectorXd& x) const { return f.loss(x); }
  LossGradient loss_gradient(const VectorXd& x) const { return f.loss_gradient(x); }
  VectorXd hvp(const VectorXd& x, const VectorXd& v) const {
    const double v_norm = v.norm();
    if (v_norm == 0.0) return VectorXd::Zero(x.size());
    const double h = std::cbrt(eps) * std::max(1.0, x.lpNorm<Eigen::Infinity>()) / v_norm;
    return (f.loss_gradient(x + h * v).gradient - f.loss_gradient(x - h * v).gradient) / (2 * h);
  }
};

// The improved tangent at interior vertex i (Henkelman & Jonsson 2000, eqs. 8-11).
VectorXd tangent(const MatrixXd& r, const VectorXd& v, Index i) {
  const VectorXd plus = (r.row(i + 1) - r.row(i)).transpose();
  const VectorXd minus = (r.row(i) - r.row(i - 1)).transpose();
  const double vp = v[i + 1], v0 = v[i], vm = v[i - 1];
  VectorXd tau;
  if (vp > v0 && v0 > vm) {
    tau = plus;
  } else if (vp < v0 && v0 < vm) {
    tau = minus;
  } else {
    // An extremum of L at i: mix both segments, the higher neighbour's side weighted by the
    // larger energy difference, so that tau turns smoothly between the monotone cases.
    const double d_max = std::max(std::abs(vp - v0), std::abs(vm - v0));
    const double d_min = std::min(std::abs(vp - v0), std::abs(vm - v0));
    tau = vp > vm ? VectorXd(plus * d_max + minus * d_min) : VectorXd(plus * d_min + minus * d_max);
  }
  // Equal energies (a flat band) make the mix vanish: fall back to the bisector.
  if (!(tau.norm() > 0.0)) tau = plus.normalized() + minus.normalized();
  const double norm = tau.norm();
  return norm > 0.0 ? VectorXd(tau / norm) : tau;
}

// The band: vertices R (rows, ends included), L and grad L at them (gradients of interior ones).
struct Band {
  MatrixXd r;
  VectorXd v;
  MatrixXd g;
};

// Evaluates L and grad L at the interior vertices; false when one is not finite.
bool evaluate(FunctionRef loss, Band& band) {
  const Index m = band.r.rows();
  band.g.setZero(m, band.r.cols());
  for (Index i = 1; i + 1 < m; ++i) {
    const LossGradient lg = loss.loss_gradient(band.r.row(i).transpose());
    if (!std::isfinite(lg.loss) || !lg.gradient.allFinite()) return false;
    band.v[i] = lg.loss;
    band.g.row(i) = lg.gradient.transpose();
  }
  return true;
}

// The interior vertex of largest L.
Index highest_image(const VectorXd& v) {
  Index c = 1;
  for (Index i = 2; i + 1 < v.size(); ++i)
    if (v[i] > v[c]) c = i;
  return c;
}

// NEB forces (neb.hpp); rows of the ends are 0. climbing < 0: no climbing image.
MatrixXd forces(const Band& band, double k, Index climbing) {
  const Index m = band.r.rows();
  MatrixXd f = MatrixXd::Zero(m, band.r.cols());
  for (Index i = 1; i + 1 < m; ++i) {
    const VectorXd tau = tangent(band.r, band.v, i);
    const VectorXd g = band.g.row(i).transpose();
    const double g_parallel = g.dot(tau);
    if (i == climbing) {
      f.row(i) = (-g + 2 * g_parallel * tau).transpose();
    } else {
      const double stretch =
          (band.r.row(i + 1) - band.r.row(i)).norm() - (band.r.row(i) - band.r.row(i - 1)).norm();
      f.row(i) = (-g + g_parallel * tau + k * stretch * tau).transpose();
    }
  }
  return f;
}

// FIRE (Bitzek et al. 2006) on all interior coordinates at once, unit masses.
struct Fire {
  static constexpr int n_min = 5;
  static constexpr double f_inc = 1.1, f_dec = 0.5, alpha_start = 0.1, f_alpha = 0.99;
  double dt0, dt, alpha = alpha_start;
  int positive_steps = 0;
  MatrixXd velocity;

  explicit Fire(double time_step) : dt0(time_step), dt(time_step) {}
  void reset(Index rows, Index cols) {
    velocity.setZero(rows, cols);
    dt = dt0;
    alpha = alpha_start;
    positive_steps = 0;
  }
  // The displacement for forces f, its Euclidean norm capped at max_step.
  MatrixXd step(const MatrixXd& f, double max_step) {
    const double power = (f.array() * velocity.array()).sum();
    if (power > 0.0) {
      const double f_norm = f.norm();
      if (f_norm > 0.0) velocity = (1 - alpha) * velocity + alpha * velocity.norm() / f_norm * f;
      if (++positive_steps > n_min) {
        dt = std::min(dt * f_inc, 10 * dt0);
        alpha *= f_alpha;
      }
    } else {
      velocity.setZero();
      dt *= f_dec;
      alpha = alpha_start;
      positive_steps = 0;
    }
    velocity += dt * f;
    MatrixXd dr = dt * velocity;
    const double norm = dr.norm();
    if (norm > max_step) dr *= max_step / norm;
    return dr;
  }
};

// Global L-BFGS on the NEB force (Sheppard, Terrell & Henkelman 2008, J. Chem. Phys. 128,
// 134106): all interior images form one vector x, -F plays the gradient, and the two-loop
// recursion gives the step d = H F from the last `memory` pairs s = dx, y = F_old - F_new (pairs
// with s . y <= 0 are skipped). There is no line search (the NEB force is not the gradient of
// one function): the step is capped at max_step, and when d . F <= 0 (the model points uphill
// against the force, as happens when the tangents turn) the memory is dropped and the step
// falls back to h0 F, h0 the initial inverse curvature.
struct BandLbfgs {
  int memory;
  double h0;
  std::vector<MatrixXd> s, y;  // oldest first
  std::vector<double> rho;
  MatrixXd last_f, last_dr;

  BandLbfgs(int memory, double initial_inverse_curvature)
      : memory(memory), h0(initial_inverse_curvature) {}
  void reset() {
    s.clear();
    y.clear();
    rho.clear();
    last_f.resize(0, 0);
  }
  MatrixXd step(const MatrixXd& f, double max_step) {
    if (last_f.size() == f.size()) {
      MatrixXd yk = last_f - f;
      const double sy = (last_dr.array() * yk.array()).sum();
      if (sy > 0.0) {
        if (int(s.size()) == memory) {
          s.erase(s.begin());
          y.erase(y.begin());
          rho.erase(rho.begin());
        }
        s.push_back(last_dr);
        y.push_back(std::move(yk));
        rho.push_back(1.0 / sy);
      }
    }
    // Two-loop recursion (Nocedal & Wright 2006, Alg. 7.4) on q = F = -gradient.
    MatrixXd q = f;
    const Index k = Index(s.size());
    std::vector<double> a(size_t(k), 0.0);
    for (Index i = k - 1; i >= 0; --i) {
      a[size_t(i)] = rho[size_t(i)] * (s[size_t(i)].array() * q.array()).sum();
      q -= a[size_t(i)] * y[size_t(i)];
    }
    const double gamma = k > 0 ? 1.0 / (rho.back() * y.back().squaredNorm()) : h0;
    MatrixXd d = gamma * q;
    for (Index i = 0; i < k; ++i) {
      const double b = rho[size_t(i)] * (y[size_t(i)].array() * d.array()).sum();
      d += (a[size_t(i)] - b) * s[size_t(i)];
    }
    if (!((d.array() * f.array()).sum() > 0.0)) {
      reset();
      d = h0 * f;
    }
    const double norm = d.norm();
    if (norm > max_step) d *= max_step / norm;
    last_f = f;
    last_dr = d;
    return d;
  }
};

// The band optimizer chosen by NebOptions::optimizer.
struct BandOptimizer {
  NebOptimizer kind;
  Fire fire;
  BandLbfgs lbfgs;
  BandOptimizer(const NebOptions& o)
      : kind(o.optimizer), fire(o.time_step), lbfgs(o.memory, o.time_step) {}
  // Forgets the history (after the climbing image switches on or images are inserted: the force
  // changes discontinuously, or the dimension changes).
  void reset(Index rows, Index cols) {
    fire.reset(rows, cols);
    lbfgs.reset();
  }
  MatrixXd step(const MatrixXd& f, double max_step) {
    return kind == NebOptimizer::fire ? fire.step(f, max_step) : lbfgs.step(f, max_step);
  }
};

double max_row_inf_norm(const MatrixXd& f) { return f.rows() == 0 ? 0.0 : f.cwiseAbs().maxCoeff(); }

// AutoNEB insertion: L at s = 1/4, 1/2, 3/4 of each segment; the peak's point becomes an image
// where it exceeds both ends of the segment by more than threshold. Returns the points inserted.
int insert_images(FunctionRef loss, Band& band, double threshold, int budget) {
  std::vector<VectorXd> rows;
  std::vector<double> values;
  int inserted = 0;
  const Index m = band.r.rows();
  for (Index j = 0; j < m; ++j) {
    rows.push_back(band.r.row(j).transpose());
    values.push_back(band.v[j]);
    if (j + 1 == m || inserted >= budget) continue;
    double peak = -inf;
    VectorXd at;
    for (double s : {0.25, 0.5, 0.75}) {
      const VectorXd x = ((1 - s) * band.r.row(j) + s * band.r.row(j + 1)).transpose();
      const double l = loss.loss(x);
      if (l > peak) {
        peak = l;
        at = x;
      }
    }
    if (std::isfinite(peak) && peak - std::max(band.v[j], band.v[j + 1]) > threshold) {
      rows.push_back(at);
      values.push_back(peak);
      ++inserted;
    }
  }
  if (inserted > 0) {
    band.r.resize(Index(rows.size()), band.r.cols());
    band.v.resize(Index(rows.size()));
    for (size_t i = 0; i < rows.size(); ++i) {
      band.r.row(Index(i)) = rows[i].transpose();
      band.v[Index(i)] = values[i];
    }
  }
  return inserted;
}

NebSaddle refine(FunctionRef loss, const VectorXd& image, double gradient_tolerance) {
  solvers::CriticalPointOptions options;
  options.stop.gradient_tolerance = gradient_tolerance;
  const FiniteDifferenceHessian fd{loss};
  const solvers::SolveResult r =
      loss.has_second_derivatives()
          ? solvers::solve_critical_point(loss, image, options)
          : solvers::solve_critical_point(FunctionRef(fd), image, options);
  return NebSaddle{.refined = true,
                   .status = r.status,
                   .message = r.message,
                   .theta = r.theta,
                   .loss = r.loss_final,
                   .gradient_max_norm = r.gradient_max_norm,
                   .iterations = r.iterations,
                   .distance_from_image = (r.theta - image).norm(),
                   .inertia = r.inertia};
}

}  // namespace

void NebOptions::validate() const {
  auto fail = [](const std::string& field, const std::string& why) {
    throw std::invalid_argument("NebOptions." + field + " " + why);
  };
  auto positive = [&](const char* field, double v) {
    if (!(v > 0 && std::isfinite(v)))
      fail(field, "must be finite and > 0, got " + io::format_number(v));
  };
  if (images < 1) fail("images", "must be >= 1, got " + std::to_string(images));
  positive("spring_constant", spring_constant);
  if (climb_after < 0) fail("climb_after", "must be >= 0, got " + std::to_string(climb_after));
  if (!(climb_force_tolerance >= 0))
    fail("climb_force_tolerance", "must be >= 0, got " + io::format_number(climb_force_tolerance));
  positive("force_tolerance", force_tolerance);
  if (memory < 1) fail("memory", "must be >= 1, got " + std::to_string(memory));
  if (max_iterations < 1)
    fail("max_iterations", "must be >= 1, got " + std::to_string(max_iterations));
  positive("time_step", time_step);
  positive("max_step", max_step);
  if (!(insertion_tolerance >= 0))
    fail("insertion_tolerance", "must be >= 0, got " + io::format_number(insertion_tolerance));
  if (max_inserted < 0) fail("max_inserted", "must be >= 0, got " + std::to_string(max_inserted));
  if (!(saddle_gradient_tolerance >= 0))
    fail("saddle_gradient_tolerance",
         "must be >= 0, got " + io::format_number(saddle_gradient_tolerance));
  profile.validate();
}

const options::Table<NebOptions>& neb_table() {
  using O = NebOptions;
  static const auto t = add_profile_rows(
      options::Table<O>("NebOptions")
          .add("images", "interior images of the initial band", &O::images)
          .add("spring_constant", "spring constant k (force per unit distance)",
               &O::spring_constant)
          .add("climbing", "turn the highest image into a climbing image", &O::climbing)
          .add("climb_after", "switch the climbing image on after this many iterations",
               &O::climb_after)
          .add("climb_force_tolerance", "... or once max |F|_inf <= this",
               &O::climb_force_tolerance)
          .add("force_tolerance", "converged when max over images |F|_inf <= this",
               &O::force_tolerance)
          .add_enum("optimizer", "the band's optimizer", &O::optimizer, &to_string,
                    &parse_neb_optimizer, {NebOptimizer::fire, NebOptimizer::lbfgs})
          .add("memory", "L-BFGS: (s, y) pairs kept", &O::memory)
          .add("max_iterations", "optimizer iterations allowed", &O::max_iterations)
          .add("time_step",
               "FIRE's first time step (dt_max = 10 times it); L-BFGS's first step h0 F",
               &O::time_step)
          .add("max_step", "largest step of the band per iteration, fraction of |b - a|",
               &O::max_step)
          .add("insertion_tolerance",
               "insert an image where a segment peaks this much (relative) above its ends",
               &O::insertion_tolerance)
          .add("max_inserted", "images inserted at most", &O::max_inserted)
          .add("refine_saddle", "refine the climbing image to a critical point", &O::refine_saddle)
          .add("saddle_gradient_tolerance", "the refinement's |grad L|_inf tolerance",
               &O::saddle_gradient_tolerance));
  return t;
}

std::string_view to_string(NebOptimizer o) { return o == NebOptimizer::fire ? "fire" : "lbfgs"; }

NebOptimizer parse_neb_optimizer(std::string_view name) {
  if (name == "fire") return NebOptimizer::fire;
  if (name == "lbfgs") return NebOptimizer::lbfgs;
  throw std::invalid_argument("unknown NEB optimizer '" + std::string(name) +
                              "' (valid: fire, lbfgs)");
}

std::string_view to_string(NebStatus s) {
  switch (s) {
    case NebStatus::converged:
      return "converged";
    case NebStatus::max_iterations:
      return "max_iterations";
    case NebStatus::non_finite:
      return "non_finite";
  }
  return "unknown";
}

NebResult neb(FunctionRef loss, const VectorXd& start, const VectorXd& end,
              const NebOptions& options, const ProgressCallback& progress) {
  options.validate();
  loss.check_parameters(start, "the band's start");
  loss.check_parameters(end, "the band's end");
  if (start == end) throw std::invalid_argument("the band's start and end are equal");
  const Index n = start.size();
  const Index m0 = options.images + 2;
  // The band, its forces and the optimizer's state (FIRE velocities, or L-BFGS's `memory`
  // pairs), for the images at most (insertion adds max_inserted).
  const double images = double(m0) + double(options.max_inserted);
  io::check_memory(8.0 * images * double(n) * (6.0 + 2.0 * double(options.memory)),
                   "NebOptions.images = " + std::to_string(options.images) + " (a band of " +
                       io::format_number(images) + " images of " + std::to_string(n) +
                       " parameters)",
                   "8 bytes x images x n x (6 + 2 memory)");

  Band band{MatrixXd(m0, n), VectorXd(m0), MatrixXd()};
  for (Index i = 0; i < m0; ++i) {
    const double t = double(i) / double(m0 - 1);
    band.r.row(i) = ((1 - t) * start + t * end).transpose();
  }
  band.v[0] = loss.loss(start);
  band.v[m0 - 1] = loss.loss(end);
  if (!std::isfinite(band.v[0]) || !std::isfinite(band.v[m0 - 1]))
    throw std::invalid_argument("the loss at the band's " +
                                std::string(std::isfinite(band.v[0]) ? "end" : "start") +
                                " is not finite");

  const double max_step = options.max_step * (end - start).norm();
  BandOptimizer optimizer(options);
  optimizer.reset(m0, n);
  NebStatus status = NebStatus::max_iterations;
  std::string message;
  int iterations = 0, inserted = 0;
  bool climbing = false;
  Index climber = -1;
  double force = inf;
  MatrixXd last_finite = band.r;
  while (true) {
    bool converged = false;
    // Each pass evaluates the band first, so that on exit the values and the force belong to
    // the band returned.
    while (true) {
      if (!evaluate(loss, band)) {
        status = NebStatus::non_finite;
        message = "L or grad L is not finite at an image after " + std::to_string(iterations) +
                  " iterations; the band is the last finite one";
        band.r = last_finite;
        evaluate(loss, band);  // finite: it was evaluated before
        break;
      }
      last_finite = band.r;
      if (options.climbing && !climbing &&
          (iterations >= options.climb_after || force <= options.climb_force_tolerance)) {
        climbing = true;
        optimizer.reset(band.r.rows(), n);  // the climbing image's force changes discontinuously
      }
      const Index previous_climber = climber;
      climber = climbing ? highest_image(band.v) : -1;
      const MatrixXd f = forces(band, options.spring_constant, climber);
      // Another image climbing changes the force discontinuously: L-BFGS's pairs no longer hold.
      if (climber != previous_climber) optimizer.lbfgs.reset();
      force = max_row_inf_norm(f);
      report_progress(progress, {.stage = "neb",
                                 .done = iterations,
                                 .total = options.max_iterations,
                                 .loss = band.v.maxCoeff(),
                                 .gradient_max_norm = force});
      if (force <= options.force_tolerance && (climbing || !options.climbing)) {
        converged = true;
        break;
      }
      if (iterations >= options.max_iterations) break;
      band.r += optimizer.step(f, max_step);
      ++iterations;
    }
    if (!converged) break;
    status = NebStatus::converged;
    message = "max |F|_inf = " + io::format_number(force) +
              " <= " + io::format_number(options.force_tolerance) + " after " +
              std::to_string(iterations) + " iterations" + (climbing ? " (climbing image on)" : "");
    if (inserted >= options.max_inserted) break;
    const double range = band.v.maxCoeff() - band.v.minCoeff();
    const int added = insert_images(loss, band, options.insertion_tolerance * range,
                                    options.max_inserted - inserted);
    if (added == 0) break;
    inserted += added;
    status = NebStatus::max_iterations;
    optimizer.reset(band.r.rows(), n);
    force = inf;
  }
  if (status == NebStatus::max_iterations)
    message = "max_iterations = " + std::to_string(options.max_iterations) +
              " reached with max |F|_inf = " + io::format_number(force) + " > " +
              io::format_number(options.force_tolerance);

  const Index m = band.r.rows();
  if (climber < 0 && options.climbing && m > 2) climber = highest_image(band.v);
  NebResult result{.status = status,
                   .message = std::move(message),
                   .path = Path::polyline(band.r),
                   .values = band.v,
                   .optimizer = options.optimizer,
                   .iterations = iterations,
                   .force_max_norm = force,
                   .climbing_image = int(climber),
                   .images_inserted = inserted};
  result.profile = loss_profile(loss, result.path, options.profile, progress);
  result.line_profile = loss_profile(loss, Path::line(start, end), options.profile, progress);
  result.barriers = result.profile.barriers;
  if (options.refine_saddle && climber > 0) {
    report_progress(progress, {.stage = "saddle refinement"});
    result.saddle =
        refine(loss, band.r.row(climber).transpose(), options.saddle_gradient_tolerance);
    // The saddle's loss is the band's top when the refinement found a critical point that is
    // not a minimum (index >= 1, or unknown above the inertia limit).
    if (result.saddle.converged() &&
        (!result.saddle.inertia || result.saddle.inertia->negative >= 1))
      result.barriers =
          barriers(band.v[0], band.v[m - 1], double(climber) / double(m - 1), result.saddle.loss);
  } else if (climber > 0) {
    const LossGradient lg = loss.loss_gradient(band.r.row(climber).transpose());
    result.saddle.theta = band.r.row(climber).transpose();
    result.saddle.loss = lg.loss;
    result.saddle.gradient_max_norm = lg.gradient.lpNorm<Eigen::Infinity>();
    result.saddle.distance_from_image = 0.0;
  }
  return result;
}

io::Json to_json(const NebResult& r) {
  const NebSaddle& s = r.saddle;
  io::Json saddle = {{"refined", s.refined},
                     {"status", std::string(solvers::to_string(s.status))},
                     {"message", s.message},
                     {"loss", io::json_number(s.loss)},
                     {"gradient_max_norm", io::json_number(s.gradient_max_norm)},
                     {"iterations", s.iterations},
                     {"distance_from_image", io::json_number(s.distance_from_image)},
                     {"index", s.inertia ? io::Json(s.inertia->negative) : io::Json(nullptr)},
                     {"inertia", s.inertia ? solvers::to_json(*s.inertia) : io::Json(nullptr)}};
  return {{"status", std::string(to_string(r.status))},
          {"message", r.message},
          {"optimizer", std::string(to_string(r.optimizer))},
          {"iterations", r.iterations},
          {"force_max_norm", io::json_number(r.force_max_norm)},
          {"images", r.values.size() - 2},
          {"images_inserted", r.images_inserted},
          {"climbing_image", r.climbing_image},
          {"values", io::json_numbers(r.values)},
          {"barriers", to_json(r.barriers)},
          {"saddle", saddle},
          {"profile", to_json(r.profile)},
          {"line_profile", to_json(r.line_profile)}};
}

std::string summary(const NebResult& r) {
  const NebSaddle& s = r.saddle;
  std::string index = "not computed (n above the inertia limit)";
  if (s.inertia)
    index = std::to_string(s.inertia->negative) + " (negative / zero / positive eigenvalues " +
            std::to_string(s.inertia->negative) + " / " + std::to_string(s.inertia->zero) + " / " +
            std::to_string(s.inertia->positive) +
            ", |lambda| <= " + io::format_number(s.inertia->tolerance) + " counted zero)";
  char buf[1024];
  std::snprintf(buf, sizeof buf,
                "neb: %s: %s\n"
                "  %ld images (%d inserted), %d %s iterations, max |F|_inf = %.2e\n"
                "  barrier above the larger end: band %.6g, straight line %.6g\n"
                "  barrier above the interpolation %.6g, above the mean %.6g\n",
                std::string(to_string(r.status)).c_str(), r.message.c_str(),
                long(r.values.size() - 2), r.images_inserted, r.iterations,
                std::string(to_string(r.optimizer)).c_str(), r.force_max_norm,
                r.barriers.above_larger_end, r.line_profile.barriers.above_larger_end,
                r.barriers.above_interpolation, r.barriers.above_mean);
  std::string out = buf;
  if (s.refined) {
    std::snprintf(buf, sizeof buf,
                  "  saddle: %s: L = %.10g, |grad L|_inf = %.2e, %d iterations, %.3g from the "
                  "climbing image\n  saddle index: %s\n",
                  std::string(solvers::to_string(s.status)).c_str(), s.loss, s.gradient_max_norm,
                  s.iterations, s.distance_from_image, index.c_str());
    out += buf;
  }
  return out;
}

}  // namespace locus::paths
