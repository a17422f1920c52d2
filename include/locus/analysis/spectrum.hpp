#pragma once
// Spectra of symmetric operators: every eigenvalue (dense, LAPACK), k extreme eigenvalues
// (matrix-free thick-restart Lanczos) and the spectral density (stochastic Lanczos quadrature),
// with the inertia of what was computed. The Hessian of a loss is the main client
// (hessian_spectrum), but any type modelling locus::SymmetricOperator (core/problem.hpp) works
// (operator_spectrum).
//
//   locus::Objective obj(model, data);
//   auto s = locus::analysis::hessian_spectrum(obj, theta, {.method = SpectrumMethod::lanczos});
//   // s.eigenvalues ascending, s.residuals |H v - lambda v|, s.counts the inertia found
//   MyOperator a;                                      // rows, cols, perform_op, Scalar = double
//   auto t = locus::analysis::operator_spectrum(a, {.method = SpectrumMethod::dense});

#include <Eigen/Core>
#include <concepts>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "locus/analysis/inertia.hpp"
#include "locus/core/objective.hpp"
#include "locus/core/problem.hpp"
#include "locus/core/progress.hpp"
#include "locus/io/json.hpp"

namespace locus::analysis {

// A non-owning, type-erased view of any SymmetricOperator y = A v on R^n (itself a Spectra
// OpType). It stores a pointer to the operator: the operator must outlive the view. Copying
// the view is cheap; applying it costs one call of the operator's perform_op.
class SymmetricOperatorRef {
 public:
  using Scalar = double;
  template <class Op>
  requires(!std::same_as<Op, SymmetricOperatorRef>) &&
      SymmetricOperator<Op> SymmetricOperatorRef(
          const Op& op)  // NOLINT: implicit, so any operator can be passed
      : op_(&op),
  n_(Index(op.rows())), apply_([](const void* o, const double* v, double* y) {
    static_cast<const Op*>(o)->perform_op(v, y);
  }) {}
  Index rows() const { return n_; }
  Index cols() const { return n_; }
  // y = A v, v and y of length rows().
  void perform_op(const double* v, double* y) const { apply_(op_, v, y); }
  Eigen::VectorXd apply(const Eigen::VectorXd& v) const;

 private:
  const void* op_;
  Index n_;
  void (*apply_)(const void*, const double*, double*);
};

enum class SpectrumMethod {
  dense,    // every eigenvalue: dense matrix + LAPACK symmetric eigensolver (dsyevd)
  lanczos,  // k extreme eigenvalues, matrix-free (thick-restart Lanczos, Wu & Simon 2000)
  slq,      // spectral density by stochastic Lanczos quadrature (Ubaru, Chen & Saad 2017)
};
std::string_view to_string(SpectrumMethod m);
// "dense" | "lanczos" | "slq"; std::invalid_argument (listing the valid names) otherwise.
SpectrumMethod parse_spectrum_method(std::string_view name);

enum class LanczosEnd {
  both,      // the k largest and the k smallest (most negative), from one Krylov space (2k < n)
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
  int k = 20;  // Lanczos: eigenvalues per end
  LanczosEnd lanczos_end = LanczosEnd::both;
  // A Ritz pair (theta, V y) is converged when |f| |e_m^T y| <= tolerance |theta|, or at the
  // rounding level 10 sqrt(ncv) eps |A| (eigenvalues at 0).
  double lanczos_tolerance = 1e-12;
  int lanczos_max_restarts = 1000;
  int slq_probes = 16;     // Rademacher probe vectors
  int slq_steps = 60;      // Lanczos steps per probe (full reorthogonalisation)
  std::uint64_t seed = 0;  // probe and start vectors
  void validate() const;   // throws std::invalid_argument naming the field
};

struct Spectrum {
  SpectrumMethod method = SpectrumMethod::dense;
  Eigen::VectorXd eigenvalues;  // ascending (dense: all; lanczos: the computed ones)
  // lanczos: |A v - lambda v| per eigenpair, from the Lanczos relation A V = V T + f e_m^T as
  // |f| |e_m^T y| (no extra operator application; equal to the explicit residual up to rounding,
  // about eps |A| sqrt(ncv))
  Eigen::VectorXd residuals;
  double matrix_norm = 0.0;   // max |lambda| found (dense: |A|_2)
  double memory_bytes = 0.0;  // dense: estimate announced before allocation
  InertiaCount counts;
  bool converged = true;       // dense: LAPACK succeeded; lanczos: every wanted pair converged
  long long applications = 0;  // lanczos, slq: operator applications (Hessian-vector products)
  int restarts = 0;            // lanczos: restarts of the Krylov space
  std::string note;
  // slq: per probe Gauss nodes and weights (probes x steps), and the moment estimates.
  Eigen::MatrixXd slq_nodes, slq_weights;
  double trace_estimate = NAN, trace_error = NAN;        // tr(A) and its standard error
  double trace_sq_estimate = NAN, trace_sq_error = NAN;  // tr(A^2)
};

// The spectrum of any symmetric operator of size n. Dense: n applications to the unit vectors
// assemble A (symmetrised, (A + A^T)/2), then dsyevd, O(n^3); Lanczos: O(k) to O(10 k)
// applications per restart, eigenvalues with |A v - lambda v| ~ lanczos_tolerance |lambda|;
// SLQ: probes * steps applications plus O(probes * steps^2 n) reorthogonalisation. Expected
// numerical failures (eigensolver or Lanczos not converging) set converged = false and note.
// Throws std::invalid_argument on bad options or a refused dense size (3 * 8 n^2 bytes above
// max_dense_bytes). `progress` gets "operator columns" k of n per block of 64 columns (dense),
// or one event per operator application ("Lanczos" applications so far, "SLQ" k of
// probes * steps).
Spectrum operator_spectrum(const SymmetricOperatorRef& op, const SpectrumOptions& options = {},
                           const ProgressCallback& progress = {});

// {"method", "positive", "zero", "negative", "tolerance", "gap", "complete", "converged", "norm",
//  "eigenvalue_min", "eigenvalue_max", "eigenvalues" (ascending), "residuals" (Lanczos),
//  "applications" (Lanczos, SLQ), "restarts" (Lanczos), "memory_bytes" (dense),
//  "trace_estimate", "trace_error", "trace_sq_estimate", "trace_sq_error", "slq_nodes",
//  "slq_weights" (SLQ), "note" (when set)}; numbers by io::json_number's rule.
io::Json to_json(const Spectrum& s);

// The dense Hessian H = d^2 L / d theta^2 at theta (n x n, 8 n^2 bytes), Objective::hessian's
// matrix bit for bit, with progress. Networks with at most one hidden layer (and <= 16 outputs):
// assembled by GEMMs, H = B^T B + block-sparse curvature (core/dense_hessian.hpp), "dense Hessian
// (GEMM)" k of n reported after each block of 256 columns; cost l d n^2 / 2 multiply-adds, memory
// 8 (n^2 + l d n) bytes. Deeper networks: column j = H e_j by one exact HVP, symmetrised
// (H + H^T)/2, built in blocks of 64 columns (in parallel within a block) with "dense Hessian (HVP
// columns)" k of n after each block; cost n HVPs (about 3n gradients). Throws
// std::invalid_argument on a wrong-length theta; io::MemoryLimitError when the memory exceeds the
// limit (io/memory.hpp).
Eigen::MatrixXd dense_hessian(const Objective& objective, const Eigen::VectorXd& theta,
                              const ProgressCallback& progress = {});

// The Hessian spectrum of a loss at theta. Dense uses the exact dense Hessian (cheaper than n
// HVPs), Lanczos and SLQ the matrix-free HessianOperator; costs as operator_spectrum. Throws
// std::invalid_argument on bad options, a refused dense size, or a wrong-length theta. `progress`
// gets dense_hessian's events and an "eigensolve" stage line (no count: one LAPACK call) when
// dense, else operator_spectrum's events.
Spectrum hessian_spectrum(const Objective& objective, const Eigen::VectorXd& theta,
                          const SpectrumOptions& options = {},
                          const ProgressCallback& progress = {});

// Gaussian-broadened SLQ density on a grid: rho(t) = mean_probes sum_j w_j N(t; node_j, width^2).
// All zeros when s holds no SLQ nodes. O(grid * probes * steps).
Eigen::VectorXd slq_density(const Spectrum& s, const Eigen::VectorXd& grid, double width);

}  // namespace locus::analysis
