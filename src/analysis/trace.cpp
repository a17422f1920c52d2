#include "locus/analysis/trace.hpp"

#include <Eigen/QR>
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "linalg/random.hpp"

namespace locus::analysis {

using Eigen::MatrixXd;
using Eigen::VectorXd;

TraceEstimate hutchinson_trace(const SymmetricOperatorRef& op, int probes, std::uint64_t seed) {
  if (probes < 2) throw std::invalid_argument("hutchinson_trace: probes must be >= 2");
  Rng rng(seed);
  VectorXd q(probes);
  for (int p = 0; p < probes; ++p) {
    const VectorXd v = linalg::rademacher_vector(op.rows(), rng);
    q[p] = v.dot(op.apply(v));
  }
  const double mean = q.mean();
  return {mean, std::sqrt((q.array() - mean).square().sum() / (probes - 1) / probes), probes};
}

TraceEstimate hutchpp_trace(const SymmetricOperatorRef& op, int matvecs, std::uint64_t seed) {
  if (matvecs < 6) throw std::invalid_argument("hutchpp_trace: matvecs must be >= 6");
  const Index n = op.rows();
  const int k = std::min<int>(matvecs / 3, int(n));
  Rng rng(seed);
  MatrixXd s(n, k), g(n, k);
  for (int j = 0; j < k; ++j) s.col(j) = linalg::rademacher_vector(n, rng);
  for (int j = 0; j < k; ++j) g.col(j) = linalg::rademacher_vector(n, rng);
  MatrixXd as(n, k);
  for (int j = 0; j < k; ++j) as.col(j) = op.apply(s.col(j));
  // Q: an orthonormal basis of range(A S), which captures the top of A's spectrum.
  const Eigen::HouseholderQR<MatrixXd> qr(as);
  const MatrixXd q = qr.householderQ() * MatrixXd::Identity(n, k);
  double exact = 0.0;
  for (int j = 0; j < k; ++j) exact += q.col(j).dot(op.apply(q.col(j)));
  // Hutchinson on the complement: g' = (I - Q Q^T) g.
  const MatrixXd gp = g - q * (q.transpose() * g);
  VectorXd t(k);
  for (int j = 0; j < k; ++j) t[j] = gp.col(j).dot(op.apply(gp.col(j)));
  const double mean = t.mean();
  const double err = k > 1 ? std::sqrt((t.array() - mean).square().sum() / (k - 1) / k) : NAN;
  return {exact + mean, err, 3 * k};
}

TraceEstimate hutchinson_trace(const Objective& objective, const VectorXd& theta, int probes,
                               std::uint64_t seed) {
  if (probes < 2) throw std::invalid_argument("hutchinson_trace: probes must be >= 2");
  objective.model().check_parameters(theta);
  const HessianOperator h(objective, theta);
  return hutchinson_trace(h, probes, seed);
}

TraceEstimate hutchpp_trace(const Objective& objective, const VectorXd& theta, int matvecs,
                            std::uint64_t seed) {
  if (matvecs < 6) throw std::invalid_argument("hutchpp_trace: matvecs must be >= 6");
  objective.model().check_parameters(theta);
  const HessianOperator h(objective, theta);
  return hutchpp_trace(h, matvecs, seed);
}

}  // namespace locus::analysis
