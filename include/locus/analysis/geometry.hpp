#pragma once
// Local geometry at a point theta, certified: the residual Jacobian's rank (with the tolerance
// that decided it and the singular-value gap behind it), the dimension of the zero set, Hessian
// spectra (dense, Lanczos, stochastic Lanczos quadrature), trace estimates, the inertia with its
// zero threshold and gap, and the classification of the point.
//
//   locus::Objective obj(model, data);
//   auto a = locus::analysis::analyze_point(obj, theta, {.spectrum = {.method = SpectrumMethod::dense}});
//   // a.jacobian.rank == l*d, a.manifold_dimension == n - l*d, a.hessian.counts.zero == n - l*d,
//   // a.classification == PointClass::global_minimum at an interpolating point (Cooper Prop 2.3)
//   std::cout << locus::analysis::to_json(a).dump(2);
//
// Tolerances. Rank J counts sigma_k > tau_J = factor * max(l d, n) * eps * sigma_max (factor 1 is
// the LAPACK/NumPy matrix_rank convention: the round-off of an SVD is ~ eps sigma_max per entry
// summed over max(l d, n)). Eigenvalues |lambda| <= tau_H = factor * n * eps * max|lambda| count
// as zero (the backward error of a symmetric eigensolver is ~ n eps |H|; the dense Hessian's own
// entries carry round-off of the same order). The gap behind a count is min{|lambda| > tau} /
// max{|lambda| <= tau}: a count is only a claim when the gap is large (>> 1).

#include <Eigen/Core>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "locus/io/json.hpp"
#include "locus/core/objective.hpp"

namespace locus::analysis {

// ---- Jacobian ---------------------------------------------------------------------------------

struct JacobianOptions {
  // tau_J = tolerance_factor * max(l d, n) * eps * sigma_max (1: the LAPACK/NumPy convention).
  double tolerance_factor = 1.0;
  // Also return orthonormal tangent (ker J, n x (n - r)) and normal (n x r) bases.
  bool bases = false;
  // J is not formed when l*d*n*8 bytes exceed this (huge nets): the result says so.
  double max_bytes = 4.0 * (1ull << 30);
};

struct JacobianAnalysis {
  bool computed = false;
  std::string skipped_reason;  // why J was not formed (memory), when !computed
  Index rows = 0, cols = 0;    // l d, n
  Index rank = 0;
  double tolerance = 0.0;      // tau_J
  double sigma_max = 0.0;
  // sigma_rank / sigma_{rank+1}: inf when rank = min(rows, cols) (nothing dropped), 0 if rank 0.
  double gap = 0.0;
  Eigen::VectorXd singular_values;  // all min(l d, n), descending
  Index local_dimension = 0;        // n - rank: dim of the zero set at a regular zero-loss point
  bool full_row_rank = false;       // rank == l d: 0 is a regular value of the residual map here
  Eigen::MatrixXd tangent_basis, normal_basis;  // when options.bases
};
// One SVD of J (Eigen BDCSVD; full V only with bases). Cost O(l d n min(l d, n)), memory
// 8 l d n bytes. Throws std::invalid_argument for a non-squared loss or a wrong-length theta.
JacobianAnalysis analyze_jacobian(const Objective& objective, const Eigen::VectorXd& theta,
                                  const JacobianOptions& options = {});

// Sard's theorem made concrete (Cooper Thm 2.1): for almost every label perturbation r the level
// set H^{-1}(r) is regular. At a degenerate zero-loss point (rank J < l d) the labels are moved to
// y + r (|r_i| <= epsilon, seeded), a zero-loss point of the new problem is found from a nearby
// start (theta + delta, |delta_i| <= start_radius, Levenberg-Marquardt), and rank J is measured
// there.
struct SardOptions {
  double epsilon = 1e-3;       // |r|_inf bound of the label perturbation
  double start_radius = 0.1;   // |delta|_inf of the start perturbation (leaves degenerate sets)
  std::uint64_t seed = 0;
  double loss_tolerance = 1e-26;  // the new zero-loss point must reach this
};
struct SardCheck {
  Index rank_before = 0, rank_after = 0, n_residuals = 0;
  double loss_after = NAN;
  double epsilon = 0.0;
  JacobianAnalysis jacobian_after;
  Eigen::VectorXd theta_after;
  bool restored() const { return rank_before < n_residuals && rank_after == n_residuals; }
};
SardCheck sard_check(const Objective& objective, const Eigen::VectorXd& theta,
                     const SardOptions& options = {});

// ---- Hessian spectra --------------------------------------------------------------------------

enum class SpectrumMethod {
  dense,    // every eigenvalue: dense exact Hessian + LAPACK-style symmetric eigensolver
  lanczos,  // k extreme eigenvalues, matrix-free (Spectra on exact HVPs)
  slq,      // spectral density by stochastic Lanczos quadrature (Ubaru, Chen & Saad 2017)
};
std::string_view to_string(SpectrumMethod m);
SpectrumMethod parse_spectrum_method(std::string_view name);

enum class LanczosEnd {
  both,      // the k largest and the k smallest (most negative) eigenvalues
  largest,   // the k largest (algebraic)
  smallest,  // the k smallest (algebraic)
};
std::string_view to_string(LanczosEnd e);
// "both" | "largest" | "smallest"; std::invalid_argument (listing the valid names) otherwise.
LanczosEnd parse_lanczos_end(std::string_view name);

struct SpectrumOptions {
  SpectrumMethod method = SpectrumMethod::dense;
  // tau_H = zero_tolerance_factor * n * eps * max|lambda|.
  double zero_tolerance_factor = 10.0;
  // Dense: refuse (std::invalid_argument naming the size) when 3 * 8 n^2 bytes exceed this.
  double max_dense_bytes = 4.0 * (1ull << 30);
  int k = 20;                          // Lanczos: eigenvalues per end
  LanczosEnd lanczos_end = LanczosEnd::both;
  double lanczos_tolerance = 1e-12;    // Spectra's relative Ritz-value tolerance
  int lanczos_max_restarts = 1000;
  int slq_probes = 16;                 // Rademacher probe vectors
  int slq_steps = 60;                  // Lanczos steps per probe (full reorthogonalisation)
  std::uint64_t seed = 0;              // probe and start vectors
  void validate() const;               // throws std::invalid_argument naming the field
};

// Inertia of the computed eigenvalues with the threshold that decided it.
struct InertiaCount {
  Index positive = 0, zero = 0, negative = 0;
  double tolerance = 0.0;  // tau_H
  // min{|lambda| > tau} / max{|lambda| <= tau}; inf when no eigenvalue is zero, 0 when none
  // is non-zero.
  double gap = 0.0;
  // True when the counts cover the whole spectrum (dense). Lanczos counts only the computed
  // eigenvalues; the negative count is still certified 0 when the smallest one is >= -tau.
  bool complete = false;
};
// Counts eigenvalues with tau = factor * n * eps * max|lambda| (n = matrix size).
InertiaCount count_inertia(const Eigen::VectorXd& eigenvalues, Index n, double factor);

struct Spectrum {
  SpectrumMethod method = SpectrumMethod::dense;
  Eigen::VectorXd eigenvalues;  // ascending (dense: all; lanczos: the computed ones)
  Eigen::VectorXd residuals;    // lanczos: |H v - lambda v| per eigenpair
  double matrix_norm = 0.0;     // max |lambda| found (dense: |H|_2)
  double memory_bytes = 0.0;    // dense: estimate announced before allocation
  InertiaCount counts;
  bool converged = true;        // lanczos: Spectra reported success
  std::string note;
  // slq: per probe Gauss nodes and weights (probes x steps), and the moment estimates.
  Eigen::MatrixXd slq_nodes, slq_weights;
  double trace_estimate = NAN, trace_error = NAN;              // tr(H) and its standard error
  double trace_sq_estimate = NAN, trace_sq_error = NAN;        // tr(H^2)
};
// Dense: cost n HVPs + O(n^3); Lanczos: O(k) to O(10 k) HVPs per restart; SLQ: probes * steps
// HVPs. Throws std::invalid_argument on bad options, a refused dense size, or a wrong theta.
Spectrum hessian_spectrum(const Objective& objective, const Eigen::VectorXd& theta,
                          const SpectrumOptions& options = {});

// Gaussian-broadened SLQ density on a grid: rho(t) = mean_probes sum_j w_j N(t; node_j, width^2).
Eigen::VectorXd slq_density(const Spectrum& s, const Eigen::VectorXd& grid, double width);

// Trace estimates from HVPs with seeded Rademacher probes: Hutchinson (mean of v^T H v) and
// Hutch++ (Meyer et al. 2021: exact trace on a sketched range, Hutchinson on the rest).
struct TraceEstimate {
  double value = NAN, standard_error = NAN;
  int matvecs = 0;
};
TraceEstimate hutchinson_trace(const Objective& objective, const Eigen::VectorXd& theta,
                               int probes, std::uint64_t seed);
TraceEstimate hutchpp_trace(const Objective& objective, const Eigen::VectorXd& theta, int matvecs,
                            std::uint64_t seed);

// Eigenvalues of the Gauss-Newton matrix 2c J^T J, ascending, from the singular values of J
// (n - min(l d, n) exact zeros are included).
Eigen::VectorXd gauss_newton_spectrum(const Objective& objective, const Eigen::VectorXd& theta);

// ---- Classification ---------------------------------------------------------------------------

enum class PointClass {
  global_minimum,      // loss <= loss_tolerance (zero loss: a global minimum), Hessian PSD
  strict_minimum,      // critical, Hessian PD with margin (every eigenvalue > tau_H)
  non_strict_minimum,  // critical, Hessian PSD with a zero eigenspace (tau_H) and no negative
  saddle,              // critical, index = number of eigenvalues < -tau_H
  not_critical,        // |grad L|_inf > gradient_tolerance
  undecided,           // spectrum incomplete, gap too small, or the activation is not C^2
};
std::string_view to_string(PointClass c);

struct AnalyzeOptions {
  SpectrumOptions spectrum;
  JacobianOptions jacobian;
  // Critical point: |grad L|_inf <= gradient_tolerance (the solvers reach ~1e-13).
  double gradient_tolerance = 1e-8;
  // Zero loss (a global minimum of the squared loss): L <= loss_tolerance.
  double loss_tolerance = 1e-20;
  // A count decides the class only when its gap is at least this.
  double min_gap = 100.0;
  void validate() const;
};

struct PointAnalysis {
  double loss = NAN;
  double gradient_max_norm = NAN;
  Index n_params = 0, n_residuals = 0;
  bool at_zero_loss = false;
  JacobianAnalysis jacobian;     // skipped (computed = false) for cross-entropy or huge nets
  Index manifold_dimension = -1; // n - rank J when J was analysed
  Spectrum hessian;
  // At zero loss: max_k |lambda_(k) - 2c sigma_k(J)^2| / lambda_(k) over the top min(l d, n)
  // eigenvalues (dense spectrum only); NaN otherwise.
  double eigen_vs_gauss_newton_rtol = NAN;
  // The same as max_k |lambda_(k) - 2c sigma_k(J)^2| (absolute). Weyl's inequality bounds it by
  // |H - 2c J^T J| + round-off ~ n eps |H|: compare with hessian.counts.tolerance, which is a
  // meaningful test even where the smallest positive eigenvalue is tiny and rtol is large.
  double eigen_vs_gauss_newton_abs = NAN;
  PointClass classification = PointClass::undecided;
  Index index = 0;               // negative eigenvalues found (saddle index)
  std::string reason;            // one sentence: which test decided the class
};
PointAnalysis analyze_point(const Objective& objective, const Eigen::VectorXd& theta,
                            const AnalyzeOptions& options = {});

// {"loss", "gradient_max_norm", "n_params", "n_residuals", "at_zero_loss",
//  "jacobian": {"computed", "rank", "tolerance", "gap", "sigma_max", "full_row_rank", ...},
//  "manifold_dimension", "hessian": {"method", "positive", "zero", "negative", "tolerance", "gap",
//  "complete", "eigenvalues", ...}, "eigen_vs_gauss_newton_rtol", "classification", "index",
//  "reason"}.
io::Json to_json(const PointAnalysis& a);

// ---- Loss slices ------------------------------------------------------------------------------

// Filter-normalised random directions (Li et al. 2018): each row of each weight matrix of a
// Gaussian direction is rescaled to the norm of the same row of theta; bias entries are zeroed
// (as in Li et al.). The loss on alpha in [-radius, radius] (1D) or the square (2D).
struct SliceOptions {
  double radius = 1.0;
  int points = 41;  // per axis
  std::uint64_t seed = 0;
};
struct LossSlice {
  Eigen::VectorXd alpha, beta;  // beta empty for 1D
  Eigen::MatrixXd loss;         // points x 1 (1D) or points x points (2D), loss(i, j) at (a_i, b_j)
};
Eigen::VectorXd filter_normalized_direction(const Mlp& model, const Eigen::VectorXd& theta,
                                            std::uint64_t seed);
LossSlice loss_slice_1d(const Objective& objective, const Eigen::VectorXd& theta,
                        const SliceOptions& options = {});
LossSlice loss_slice_2d(const Objective& objective, const Eigen::VectorXd& theta,
                        const SliceOptions& options = {});

}  // namespace locus::analysis
