#pragma once
// Nudged elastic band (NEB) with a climbing image between two points of any differentiable
// function, and the refinement of the band's top to a critical point whose Hessian index is
// reported (1 for a transition state).
//
//   locus::Objective objective(model, data);
//   locus::paths::NebResult r = locus::paths::neb(objective, theta_a, theta_b, {.images = 9});
//   r.barriers.above_larger_end;     // the band's barrier (its top: the refined saddle's loss)
//   r.saddle.inertia->negative;      // the saddle's index, when n <= the inertia limit
//   r.path.control_points();         // rows: theta_a, the images, theta_b
//   std::cout << locus::paths::summary(r);
//
// The band R_0 = a, R_1 .. R_N (images), R_{N+1} = b, ends fixed. Image i feels
//   F_i = -grad L(R_i) + (grad L(R_i) . tau_i) tau_i               (true force, perpendicular)
//       + k (|R_{i+1} - R_i| - |R_i - R_{i-1}|) tau_i               (spring, parallel only)
// with tau_i the improved tangent of Henkelman & Jonsson (2000, J. Chem. Phys. 113, 9978): the
// segment towards the higher neighbour when L is monotone at i, else both segments weighted by
// the larger and the smaller energy difference (the larger weight on the higher neighbour's
// side), normalised. The climbing image (Henkelman, Uberuaga & Jonsson 2000, J. Chem. Phys. 113,
// 9901), the highest interior image, feels no spring and the inverted parallel force
//   F_c = -grad L(R_c) + 2 (grad L(R_c) . tau_c) tau_c,
// so that it climbs along the band to the saddle. The band moves by one of two optimizers:
//   fire   FIRE (Bitzek, Koskinen, Gahler, Moseler & Gumbsch 2006, PRL 97, 170201) with the
//          paper's parameters N_min = 5, f_inc = 1.1, f_dec = 0.5, alpha_start = 0.1,
//          f_alpha = 0.99, unit masses, dt_max = 10 dt_0. The default: first order, but it
//          never diverges (the velocity is dropped whenever F . v < 0).
//   lbfgs  global L-BFGS on the force (Sheppard, Terrell & Henkelman 2008, J. Chem. Phys. 128,
//          134106): all images as one vector, -F as the gradient, no line search (NEB forces
//          are not the gradient of one function), the step capped at max_step, the memory
//          dropped when the step turns against the force (d . F <= 0) or another image starts
//          climbing. On smooth low-dimensional functions it converges in 4-10x fewer iterations
//          than FIRE (the analytic tests); on the MLP losses measured so far (iris, widths 2-3,
//          two permuted copies of a minimum) the band diverged where FIRE did not, because the
//          curvature pairs of a non-conservative force in stiff valleys mislead it. Measured
//          numbers: studies/connectivity/README.md.
// The band has converged when
// max_i |F_i|_inf <= force_tolerance (climbing image included when it is on), never on a
// decrease of L.
//
// AutoNEB-style insertion (Kolsbjerg, Groves & Hammer 2016): after the band has converged, L is
// sampled inside every segment; where it peaks above both of the segment's images by more than
// insertion_tolerance times the band's energy range, the peak's point becomes a new image and
// the band is relaxed again (at most max_inserted images in all).
//
// Then the climbing image is refined to a critical point by solvers::solve_critical_point
// (Levenberg-Marquardt on grad L = 0, which converges to the nearby critical point whatever its
// index); its Hessian inertia is reported when n <= CriticalPointOptions::inertia_max_params
// (4000: a dense eigendecomposition). A function without second derivatives (a Python callable
// giving only L and grad L) gets Hessian-vector products by central differences of the gradient
// (h = cbrt(eps) max(1, |x|) / |v|, relative error ~ eps^(2/3)): the refinement then converges
// linearly rather than quadratically and the index counts eigenvalues of a Hessian known to
// ~1e-10 relative, but |grad L| is always exact.

#include <Eigen/Core>
#include <optional>
#include <string>
#include <string_view>

#include "locus/core/options.hpp"
#include "locus/core/problem.hpp"
#include "locus/io/json.hpp"
#include "locus/paths/path.hpp"
#include "locus/solvers/result.hpp"

namespace locus::paths {

// The band's optimizer (see the header comment).
enum class NebOptimizer { fire, lbfgs };
std::string_view to_string(NebOptimizer o);
// Inverse of to_string; throws std::invalid_argument listing the names.
NebOptimizer parse_neb_optimizer(std::string_view name);

// Options of neb.
struct NebOptions {
  int images = 9;  // interior images N >= 1 of the initial band (equally spaced on the line)
  // Spring constant k (force per unit distance): only the images' spacing depends on it.
  double spring_constant = 1.0;
  bool climbing = true;  // turn the highest image into a climbing image
  // The climbing image switches on after climb_after iterations or once max |F|_inf <=
  // climb_force_tolerance, whichever comes first.
  int climb_after = 200;
  double climb_force_tolerance = 1e-2;
  // Converged when max over images of |F_i|_inf <= force_tolerance (absolute, units of grad L).
  double force_tolerance = 1e-8;
  NebOptimizer optimizer = NebOptimizer::fire;
  int memory = 20;             // L-BFGS: (s, y) pairs kept
  int max_iterations = 20000;  // optimizer iterations, over all insertion rounds
  // FIRE's first time step dt_0 (dt_max = 10 dt_0); L-BFGS's initial inverse curvature h0 (its
  // first step, and every step after a reset, is h0 F). Then the largest Euclidean step of the
  // whole band per iteration, as a fraction of |b - a|.
  double time_step = 0.05;
  double max_step = 0.05;
  // AutoNEB insertion: a segment whose sampled loss peaks above both its images by more than
  // insertion_tolerance * (max_i L(R_i) - min_i L(R_i)) gets an image there; at most
  // max_inserted images in all (0: no insertion).
  double insertion_tolerance = 1e-3;
  int max_inserted = 8;
  bool refine_saddle = true;  // refine the climbing image with solve_critical_point
  // The refinement's stop test |grad L|_inf <= saddle_gradient_tolerance (absolute).
  double saddle_gradient_tolerance = 1e-12;
  ProfileOptions profile;  // the loss profile of the final band (a polyline)

  // Throws std::invalid_argument naming the field ("NebOptions.images must be >= 1, got 0").
  void validate() const;
};
// The field table of NebOptions (the profile's rows keep their names: points, t_tolerance,
// loss_tolerance, max_refinements): `locus path neb`'s flags, Python's keywords, the context.
const options::Table<NebOptions>& neb_table();

enum class NebStatus {
  converged,       // max |F|_inf <= force_tolerance (with the climbing image when requested)
  max_iterations,  // max_iterations optimizer iterations without convergence
  non_finite,      // L or grad L became NaN/inf at an image (the band is the last finite one)
};
std::string_view to_string(NebStatus s);

// The climbing image refined to a critical point.
struct NebSaddle {
  bool refined = false;  // false: refine_saddle off, or no climbing image
  solvers::Status status = solvers::Status::not_run;
  std::string message;
  Eigen::VectorXd theta;  // the critical point (the climbing image when not refined)
  double loss = NAN;
  double gradient_max_norm = NAN;  // |grad L(theta)|_inf
  int iterations = 0;
  // |theta - climbing image|_2: a large value says the solver went to another critical point.
  double distance_from_image = NAN;
  // The Hessian's inertia at theta (negative = the index) when n <= the inertia limit; the
  // tolerance that decided the zero eigenvalues is inside.
  std::optional<solvers::HessianInertia> inertia;
  bool converged() const { return status == solvers::Status::converged_gradient; }
};

struct NebResult {
  NebStatus status = NebStatus::non_finite;
  std::string message;       // one sentence naming the test that ended the relaxation
  Path path;                 // the polyline a -> images -> b
  Eigen::VectorXd values;    // L at each vertex of path, ends included
  LossProfile profile;       // L along path (adaptive, see ProfileOptions)
  LossProfile line_profile;  // L along the straight line a -> b, same options
  // The band's barriers: the three conventions of path.hpp with L_max the refined saddle's loss
  // (at the climbing image's t) when the refinement converged to a critical point of index >= 1
  // (or of unknown index, above the inertia limit), else the profile's maximum.
  Barriers barriers;
  NebOptimizer optimizer = NebOptimizer::fire;  // the optimizer that moved the band
  int iterations = 0;                           // its iterations in all
  double force_max_norm = NAN;                  // max_i |F_i|_inf at the end
  int climbing_image = -1;                      // vertex index of the climbing image (-1: none)
  int images_inserted = 0;                      // by AutoNEB insertion
  NebSaddle saddle;
  bool converged() const { return status == NebStatus::converged; }
};

// Relaxes a nudged elastic band from start to end (see the header comment), then refines its
// top. Cost: per iteration one loss_gradient per image (and O(memory n) for L-BFGS); per insertion
// check 3 losses per segment; the profile's evaluations; the refinement's (dense: one Hessian, n
// HVPs, and one O(n^3) eigendecomposition per step). Throws std::invalid_argument on invalid
// options, ends of a length other than loss.n_params() or with non-finite entries, or equal ends;
// io::MemoryLimitError ("NebOptions.images = ...") when the band would exceed the memory limit.
// progress gets "neb" with the iterations out of max_iterations, the highest image's loss and the
// max force (as gradient_max_norm) after each iteration, then the profiles' events and a
// "saddle refinement" stage.
NebResult neb(FunctionRef loss, const Eigen::VectorXd& start, const Eigen::VectorXd& end,
              const NebOptions& options = {}, const ProgressCallback& progress = {});

// {"status", "message", "optimizer", "iterations", "force_max_norm", "images", "images_inserted",
//  "climbing_image", "values": [...], "barriers": {...}, "saddle": {"refined", "status",
//  "message", "loss", "gradient_max_norm", "iterations", "distance_from_image", "index",
//  "inertia": {...}}, "profile": {...}, "line_profile": {...}}.
io::Json to_json(const NebResult& r);
// "neb: converged: <message>", the force, the barriers beside the straight line's, the saddle.
std::string summary(const NebResult& r);

}  // namespace locus::paths
