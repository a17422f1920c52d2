#pragma once
// Curves of low loss between two points (Garipov, Izmailov, Podoprikhin, Vetrov & Wilson 2018,
// "Loss surfaces, mode connectivity, and fast ensembling of DNNs"): the bend(s) of a quadratic
// Bezier curve or a polychain between fixed ends theta_a, theta_b are chosen to minimize the loss
// integrated along the curve,
//   J(bends) = int_0^1 L(gamma(t)) dt ~ sum_q W_q L(gamma(t_q)),
// with deterministic Gauss-Legendre quadrature in t (per segment for a polychain, whose gamma
// has kinks at the segment boundaries). gamma(t) = sum_j w_j(t) P_j is affine in the bends
// (path.hpp), so the exact gradient is
//   dJ / d bend_j = sum_q W_q w_j(t_q) grad L(gamma(t_q)).
// Garipov et al. sample t uniformly and train with SGD for a fixed number of epochs; here J is
// minimized with locus's L-BFGS in rounds, and the fit stops when the curve's maximum (the
// adaptive loss profile of path.hpp) stops changing.
//
//   locus::Objective objective(model, data);
//   locus::paths::CurveFit fit = locus::paths::fit_curve(objective, theta_a, theta_b);
//   fit.profile.barriers.above_larger_end;       // the curve's barrier
//   fit.line_profile.barriers.above_larger_end;  // the straight line's, for comparison
//   fit.curve.control_points();                  // rows: theta_a, bend, theta_b

#include <Eigen/Core>
#include <string>
#include <string_view>
#include <vector>

#include "locus/core/options.hpp"
#include "locus/core/problem.hpp"
#include "locus/io/json.hpp"
#include "locus/paths/path.hpp"

namespace locus::paths {

// Gauss-Legendre quadrature on [0, 1]: int_0^1 p(t) dt = sum_i w_i p(t_i) exactly for
// polynomials of degree <= 2n - 1. Nodes increasing; weights positive, summing to 1. The nodes
// are the roots of the Legendre polynomial P_n, found by Newton's method from Tricomi's
// approximation cos(pi (i + 3/4) / (n + 1/2)), accurate to a few ulps. Cost O(n^2). Throws
// std::invalid_argument unless n >= 1.
struct Quadrature {
  Eigen::VectorXd nodes, weights;
};
Quadrature gauss_legendre(int n);

// The integrated loss J over the bends of a curve with fixed ends: a DifferentiableFunction of
// the bend coordinates z = (bend_1, ..., bend_k) stacked (k n entries), which locus's solvers
// minimize through FunctionRef. The loss it references must outlive it.
class CurveObjective {
 public:
  // `kind` bezier (k = 1) or polychain (k = bends >= 1); `nodes` Gauss-Legendre nodes per
  // segment (k + 1 segments for a polychain). Throws std::invalid_argument for a start or end
  // whose length differs from loss.n_params(), kind polyline, bends < 1 (or != 1 for a Bezier
  // curve), or nodes < 1.
  CurveObjective(FunctionRef loss, Eigen::VectorXd start, Eigen::VectorXd end, PathKind kind,
                 int bends, int nodes);
  Index n_params() const { return bends_ * start_.size(); }  // k n
  // J(z). Cost: (quadrature points) evaluations of L.
  double loss(const Eigen::VectorXd& z) const;
  // J(z) and its exact gradient. Cost: (quadrature points) evaluations of L and grad L.
  LossGradient loss_gradient(const Eigen::VectorXd& z) const;
  // The curve with bends z (k x n rows from the stacked z). Throws for a wrong-length z.
  Path curve(const Eigen::VectorXd& z) const;
  // z of the bends on the straight line at t = j / (k + 1), j = 1..k (for a Bezier curve the
  // midpoint, with which the curve is the straight line): Garipov et al.'s initialisation.
  Eigen::VectorXd straight_bends() const;
  // The quadrature points t_q in [0, 1] and weights W_q (summing to 1).
  const Quadrature& quadrature() const { return quadrature_; }

 private:
  FunctionRef loss_;
  Eigen::VectorXd start_, end_;
  PathKind kind_;
  int bends_;
  Quadrature quadrature_;
};

// Options of fit_curve.
struct CurveFitOptions {
  PathKind kind = PathKind::bezier;  // bezier or polychain
  int bends = 1;                     // polychain: number of bends (a Bezier curve has one)
  // Gauss-Legendre nodes per segment: exact for L(gamma(t)) polynomial of degree < 2 nodes.
  int quadrature_nodes = 16;
  // L-BFGS iterations between two checks of the curve's maximum.
  int iterations_per_round = 50;
  int max_rounds = 40;
  // Stop when the curve's maximum changes by <= max_tolerance * max(|L_max|, |L_max of the
  // straight line|) between two rounds (relative to the problem's scale: where a path of zero
  // barrier exists the curve's maximum tends to 0 and would never converge relatively to
  // itself), or when L-BFGS reaches |grad J|_inf <= gradient_tolerance.
  double max_tolerance = 1e-6;
  double gradient_tolerance = 1e-12;
  // The adaptive profile that measures the curve's maximum (and the straight line's).
  ProfileOptions profile{.points = 129};
  // Throws std::invalid_argument naming the field (kind polyline, bends < 1 or != 1 for a
  // Bezier curve, quadrature_nodes < 1, iterations_per_round < 1, max_rounds < 1, tolerances not
  // > 0, an invalid profile).
  void validate() const;
};
// The field table of CurveFitOptions (the profile's rows keep their names: points, t_tolerance,
// loss_tolerance, max_refinements): `locus path fit`'s flags and Python's keywords.
const options::Table<CurveFitOptions>& curve_fit_table();

enum class CurveFitStatus {
  converged_maximum,   // the curve's maximum changed by <= max_tolerance over a round
  converged_gradient,  // L-BFGS reached gradient_tolerance on J
  stalled,             // L-BFGS could not decrease J any more (line search failed at round-off)
  max_rounds,          // max_rounds rounds without convergence
  non_finite,          // J, its gradient or the profile became NaN/inf
};
std::string_view to_string(CurveFitStatus s);

struct CurveFit {
  CurveFitStatus status = CurveFitStatus::max_rounds;
  std::string message;
  Path curve;                // the fitted curve (control points: start, bends, end)
  LossProfile profile;       // its loss profile: the maximum and the three barriers
  LossProfile line_profile;  // the straight line's, with the same options
  double integrated_loss_initial = NAN, integrated_loss_final = NAN;  // J
  double gradient_max_norm = NAN;                                     // |grad J|_inf at the end
  int rounds = 0, iterations = 0;        // rounds of L-BFGS, iterations over all rounds
  std::vector<double> loss_max_history;  // the curve's maximum after each round
  bool converged() const {
    return status == CurveFitStatus::converged_maximum ||
           status == CurveFitStatus::converged_gradient;
  }
};

// Fits the bends of a curve from start to end (initialised on the straight line, see
// CurveObjective::straight_bends) by minimizing J with L-BFGS in rounds of
// iterations_per_round iterations; after each round the curve's maximum is located with
// loss_profile and the fit stops once it changes by <= max_tolerance (see CurveFitOptions; or on
// J's gradient, a stalled line search, or max_rounds). Cost per L-BFGS iteration: about one
// evaluation of J, i.e. (bends + 1 for a polychain, else 1) * quadrature_nodes gradients of L;
// per round one profile. Throws std::invalid_argument on invalid options, ends of the wrong
// length or ends that are equal; io::MemoryLimitError ("CurveFitOptions.bends = ...") when the
// bends and quadrature nodes would exceed the memory limit (io/memory.hpp). progress gets "curve
// fit" with the L-BFGS iterations so far out of max_rounds * iterations_per_round, J and
// max |grad J| after each iteration.
CurveFit fit_curve(FunctionRef loss, const Eigen::VectorXd& start, const Eigen::VectorXd& end,
                   const CurveFitOptions& options = {}, const ProgressCallback& progress = {});

// {"status", "message", "kind", "rounds", "iterations", "integrated_loss_initial",
//  "integrated_loss_final", "gradient_max_norm", "loss_max_history": [...],
//  "profile": to_json(profile), "line_profile": to_json(line_profile)}.
io::Json to_json(const CurveFit& f);
// "curve fit: converged_maximum: <message>", then J, and the curve's and the line's barriers.
std::string summary(const CurveFit& f);

}  // namespace locus::paths
