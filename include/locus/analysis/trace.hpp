#pragma once
// Matrix-free trace estimates tr(A) of a symmetric operator from seeded Rademacher probes:
// Hutchinson (mean of v^T A v) and Hutch++ (Meyer, Musco, Musco & Woodruff 2021: the exact trace
// on a sketched range plus Hutchinson on the rest, error O(1/m) instead of O(1/sqrt m)).
//
//   auto t = locus::analysis::hutchinson_trace(obj, theta, /*probes=*/64, /*seed=*/1);
//   // t.value +- t.standard_error estimates tr(H(theta))
//   auto u = locus::analysis::hutchpp_trace(my_operator, /*matvecs=*/90, /*seed=*/1);

#include <Eigen/Core>
#include <cmath>
#include <cstdint>

#include "locus/analysis/spectrum.hpp"
#include "locus/core/objective.hpp"

namespace locus::analysis {

struct TraceEstimate {
  double value = NAN, standard_error = NAN;  // estimate and the sample standard error
  int matvecs = 0;                           // operator applications used
};

// Hutchinson: mean over p probes of v^T A v (E[v v^T] = I), standard error from the sample
// variance. Cost p applications of A. Throws std::invalid_argument when probes < 2.
TraceEstimate hutchinson_trace(const SymmetricOperatorRef& op, int probes, std::uint64_t seed);
// Hutch++ with matvecs ~ 3k: k applications sketch the range (A S, QR -> Q), k give tr(Q^T A Q)
// exactly, k run Hutchinson on (I - Q Q^T) G. The standard error is that of the Hutchinson part
// (NaN when k = 1). Throws std::invalid_argument when matvecs < 6.
TraceEstimate hutchpp_trace(const SymmetricOperatorRef& op, int matvecs, std::uint64_t seed);

// The same for the loss Hessian at theta (through a HessianOperator). Also throws
// std::invalid_argument for a wrong-length theta.
TraceEstimate hutchinson_trace(const Objective& objective, const Eigen::VectorXd& theta, int probes,
                               std::uint64_t seed);
TraceEstimate hutchpp_trace(const Objective& objective, const Eigen::VectorXd& theta, int matvecs,
                            std::uint64_t seed);

}  // namespace locus::analysis
