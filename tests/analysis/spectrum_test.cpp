#include "locus/analysis/spectrum.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "locus/data/builtin.hpp"
#include "locus/data/synthetic.hpp"
#include "operators.hpp"
#include "testing/dense_references.hpp"
#include "testing/tolerances.hpp"

namespace locus::analysis {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;
using testing::k_eps;

// Lanczos extreme eigenvalues against the dense spectrum at n ~ 2e3, judged by the residual
// |H v - lambda v| <= 1e-9 |H| and by the dense eigenvalues.
TEST(Spectrum, HessianLanczosMatchesDense) {
  const Mlp model({.widths = {10, 180, 1}, .activation = Activation::softplus});
  const Dataset data = gaussian_data(100, 10, 1, 4);
  const VectorXd theta = model.init_parameters({.seed = 5});
  const Objective obj(model, data);
  ASSERT_EQ(obj.n_params(), 2161);
  const Spectrum dense = hessian_spectrum(obj, theta, {.method = SpectrumMethod::dense});
  ASSERT_TRUE(dense.converged) << dense.note;
  const Spectrum lz =
      hessian_spectrum(obj, theta, {.method = SpectrumMethod::lanczos, .k = 6, .seed = 1});
  ASSERT_TRUE(lz.converged) << lz.note;
  const double norm = dense.matrix_norm;
  ASSERT_EQ(lz.eigenvalues.size(), 12);
  for (Index i = 0; i < 6; ++i) {
    EXPECT_NEAR(lz.eigenvalues[i], dense.eigenvalues[i], 1e-9 * norm) << i;
    EXPECT_NEAR(lz.eigenvalues[11 - i], dense.eigenvalues[dense.eigenvalues.size() - 1 - i],
                1e-9 * norm)
        << i;
  }
  EXPECT_LE(lz.residuals.maxCoeff(), 1e-9 * norm);
  // The residuals come from the Lanczos relation, not from extra products: check them against
  // the dense spectrum. A symmetric matrix has an eigenvalue within |H x - theta x| of every
  // Ritz value theta (|x| = 1), so each Lanczos eigenvalue lies within its residual (plus the
  // dense solver's round-off, ~ n eps |H|, and the relation's own, ~ eps |H| sqrt(ncv)) of a
  // dense one.
  const double round_off = 10.0 * double(obj.n_params()) * k_eps * norm;
  for (Index i = 0; i < lz.eigenvalues.size(); ++i) {
    const double gap = (dense.eigenvalues.array() - lz.eigenvalues[i]).abs().minCoeff();
    EXPECT_LE(gap, lz.residuals[i] + round_off) << i;
  }
  // One end alone gives the same eigenvalues as that end of the two-ended run.
  const Spectrum top = hessian_spectrum(
      obj, theta,
      {.method = SpectrumMethod::lanczos, .k = 6, .lanczos_end = LanczosEnd::largest, .seed = 1});
  ASSERT_EQ(top.eigenvalues.size(), 6);
  for (Index i = 0; i < 6; ++i)
    EXPECT_NEAR(top.eigenvalues[i], lz.eigenvalues[6 + i], 1e-9 * norm) << i;
}

// SLQ weights sum to 1 per probe, and its moments match tr(H) and tr(H^2) of the dense Hessian
// within 3 standard errors (plus the quadrature's own error, tiny for 40 steps).
TEST(Spectrum, HessianSlqDensityAndMoments) {
  const Mlp model({.widths = {4, 20, 1}, .activation = Activation::tanh});
  const Dataset data = gaussian_data(30, 4, 1, 6);
  const VectorXd theta = model.init_parameters({.scheme = InitScheme::normal, .seed = 2});
  const Objective obj(model, data);
  const Spectrum s = hessian_spectrum(
      obj, theta, {.method = SpectrumMethod::slq, .slq_probes = 30, .slq_steps = 40, .seed = 9});
  for (Index p = 0; p < s.slq_weights.rows(); ++p)
    EXPECT_NEAR(s.slq_weights.row(p).sum(), 1.0, 1e-12);
  const MatrixXd h = obj.hessian(theta);
  const double tr = h.trace(), tr2 = (h * h).trace();
  EXPECT_NEAR(s.trace_estimate, tr, 3 * s.trace_error + 1e-9 * std::abs(tr));
  EXPECT_NEAR(s.trace_sq_estimate, tr2, 3 * s.trace_sq_error + 1e-9 * tr2);
  // The broadened density integrates to 1 on a grid covering the spectrum.
  // Gaussians of width w, grid from 10 w below the smallest node to 10 w above the largest, 40
  // grid points per w: the Riemann sum of a Gaussian is then exact to far below 1e-6.
  const double w = (s.slq_nodes.maxCoeff() - s.slq_nodes.minCoeff()) / 400;
  const double lo = s.slq_nodes.minCoeff() - 10 * w, hi = s.slq_nodes.maxCoeff() + 10 * w;
  const Index points = Index((hi - lo) / (w / 40)) + 1;
  const VectorXd grid = VectorXd::LinSpaced(points, lo, hi);
  const VectorXd rho = slq_density(s, grid, w);
  EXPECT_NEAR(rho.sum() * (hi - lo) / double(points - 1), 1.0, 1e-6);
}

TEST(Spectrum, RefusesHugeDenseSpectraAndBadOptions) {
  const Mlp model({.widths = {10, 50, 1}});
  const Objective obj(model, gaussian_data(20, 10, 1, 1));
  const VectorXd theta = model.init_parameters();
  EXPECT_THROW(hessian_spectrum(obj, theta, {.max_dense_bytes = 1e3}), std::invalid_argument);
  EXPECT_THROW(hessian_spectrum(obj, theta, {.k = 0}), std::invalid_argument);
  EXPECT_THROW(hessian_spectrum(obj, VectorXd::Zero(3)), std::invalid_argument);
  const testing::TridiagonalOperator a{.n = 50, .a = 2.0, .b = -1.0};
  EXPECT_THROW(operator_spectrum(a, {.max_dense_bytes = 1e3}), std::invalid_argument);
  EXPECT_THROW(parse_spectrum_method("qr"), std::invalid_argument);
  EXPECT_EQ(parse_lanczos_end("smallest"), LanczosEnd::smallest);
}

// Every spectral method on operators that are not Hessians (size 10 and 100), with known
// spectra. Tolerances: a backward-stable symmetric eigensolver returns eigenvalues within
// ~ n eps |A|_2 of the exact ones (the constant in front is modest; 10 covers dsyevd and Eigen
// on every SIMD path). A converged Lanczos pair has residual <= lanczos_tolerance * |lambda|
// (the stopping test) plus the round-off of the products, ~ n eps |A|; for a symmetric matrix the
// eigenvalue error is bounded by the residual (Bauer-Fike / Weyl).
class OperatorSpectrum : public ::testing::TestWithParam<Index> {};

template <class Op>
void check_operator(const Op& op, const VectorXd& reference, const char* name) {
  const Index n = op.rows();
  const double norm = reference.cwiseAbs().maxCoeff();
  const double round_off = 10.0 * double(n) * k_eps * norm;
  SCOPED_TRACE(std::string(name) + ", n = " + std::to_string(n));

  // Dense: every eigenvalue, through n applications of the operator.
  const Spectrum dense = operator_spectrum(op, {.method = SpectrumMethod::dense});
  ASSERT_TRUE(dense.converged) << dense.note;
  ASSERT_EQ(dense.eigenvalues.size(), n);
  EXPECT_LE((dense.eigenvalues - reference).cwiseAbs().maxCoeff(), round_off);
  EXPECT_TRUE(dense.counts.complete);
  // No eigenvalue of these operators is within round-off of 0: the inertia is the sign count.
  EXPECT_EQ(dense.counts.negative, (reference.array() < 0).count());
  EXPECT_EQ(dense.counts.positive, (reference.array() > 0).count());
  EXPECT_EQ(dense.counts.zero, 0);

  // Lanczos: k extreme eigenvalues at both ends, each with its residual.
  const SpectrumOptions lo{.method = SpectrumMethod::lanczos, .k = 3, .seed = 4};
  const Spectrum lz = operator_spectrum(op, lo);
  ASSERT_TRUE(lz.converged) << lz.note;
  ASSERT_EQ(lz.eigenvalues.size(), 6);
  const double lanczos_bound = lo.lanczos_tolerance * norm + round_off;
  EXPECT_LE(lz.residuals.maxCoeff(), lanczos_bound);
  for (Index i = 0; i < 3; ++i) {
    EXPECT_NEAR(lz.eigenvalues[i], reference[i], lanczos_bound) << i;
    EXPECT_NEAR(lz.eigenvalues[5 - i], reference[n - 1 - i], lanczos_bound) << i;
  }
  // The smallest computed eigenvalue certifies the negative count only when it is >= -tau.
  EXPECT_FALSE(lz.counts.complete);

  // SLQ: per-probe Gauss weights sum to 1; Ritz values lie in [lambda_min, lambda_max]
  // (Cauchy interlacing, up to round-off); the moments match tr(A) and tr(A^2) within 3
  // standard errors plus round-off.
  const Spectrum slq = operator_spectrum(
      op, {.method = SpectrumMethod::slq, .slq_probes = 40, .slq_steps = 30, .seed = 2});
  for (Index p = 0; p < slq.slq_weights.rows(); ++p)
    EXPECT_NEAR(slq.slq_weights.row(p).sum(), 1.0, 100 * k_eps * double(n));
  EXPECT_GE(slq.eigenvalues[0], reference[0] - round_off);
  EXPECT_LE(slq.eigenvalues[1], reference[n - 1] + round_off);
  const double tr = reference.sum(), tr2 = reference.squaredNorm();
  EXPECT_NEAR(slq.trace_estimate, tr, 3 * slq.trace_error + double(n) * round_off);
  EXPECT_NEAR(slq.trace_sq_estimate, tr2, 3 * slq.trace_sq_error + double(n) * round_off * norm);
}

TEST_P(OperatorSpectrum, TridiagonalMatchesClosedForm) {
  const testing::TridiagonalOperator a{.n = GetParam(), .a = 0.5, .b = -1.0};  // indefinite
  check_operator(a, a.exact_eigenvalues(), "tridiag(-1, 0.5, -1)");
}

TEST_P(OperatorSpectrum, DiagonalPlusLowRankMatchesDenseSolver) {
  const testing::DiagonalPlusLowRank a(GetParam(), 7);
  // Reference from Eigen's own solver: independent of LAPACK.
  const VectorXd reference = testing::symmetric_eigenvalues(a.dense());
  check_operator(a, reference, "diag + U U^T");
}

INSTANTIATE_TEST_SUITE_P(Sizes, OperatorSpectrum, ::testing::Values(Index(10), Index(100)));

// The progress callback sees every operator application, numbered 1, 2, ... out of probes * steps
// (SLQ), and the Lanczos count equals the applications counted by the operator itself; the dense
// build reports once per block of 64 columns (n = 60: one event, 60 of 60); reporting does not
// change the eigenvalues.
TEST(Spectrum, ProgressCountsOperatorApplications) {
  struct Counting {
    using Scalar = double;
    testing::TridiagonalOperator a;
    mutable long long applied = 0;
    Index rows() const { return a.rows(); }
    Index cols() const { return a.cols(); }
    void perform_op(const double* v, double* y) const {
      ++applied;
      a.perform_op(v, y);
    }
  };
  const Index n = 60;
  for (SpectrumMethod m : {SpectrumMethod::dense, SpectrumMethod::lanczos, SpectrumMethod::slq}) {
    const SpectrumOptions o{.method = m, .k = 4, .slq_probes = 3, .slq_steps = 10};
    Counting op{{.n = n, .a = 0.5, .b = -1.0}};
    std::vector<ProgressEvent> events;
    const Spectrum with =
        operator_spectrum(op, o, [&](const ProgressEvent& e) { events.push_back(e); });
    const Spectrum without = operator_spectrum(op.a, o);
    EXPECT_EQ(with.eigenvalues, without.eigenvalues) << to_string(m);
    if (m == SpectrumMethod::dense) {
      ASSERT_EQ(events.size(), 1u);
      EXPECT_EQ(op.applied, n);
      EXPECT_EQ(events[0].done, n);
      EXPECT_EQ(events[0].total, n);
      continue;
    }
    ASSERT_EQ(static_cast<long long>(events.size()), op.applied) << to_string(m);
    EXPECT_EQ(with.applications, op.applied) << to_string(m);
    EXPECT_EQ(to_json(with)["applications"], op.applied) << to_string(m);
    for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].done, (long long)(i + 1));
    const long long total = m == SpectrumMethod::slq ? 30 : 0;
    EXPECT_EQ(events.back().total, total) << to_string(m);
    if (total > 0) {
      EXPECT_EQ(events.back().done, total) << to_string(m);
    }
  }
}

// The dense Hessian built with a listener (blocks of 64 HVP columns, an event after each) is
// bitwise the objective's own (every column is the same HVP, summed in the same order), so the
// spectrum is identical; the events count the columns 64, 128, ..., n out of n, then the
// eigensolve stage without a count.
TEST(Spectrum, DenseHessianProgressCountsColumnsAndChangesNothing) {
  const Mlp model({.widths = {3, 12, 10, 2}, .activation = Activation::tanh});  // n = 200
  const Objective obj(model, gaussian_data(15, 3, 2, 7));
  const VectorXd theta = model.init_parameters({.seed = 3});
  const Index n = obj.n_params();
  std::vector<ProgressEvent> events;
  const Spectrum with =
      hessian_spectrum(obj, theta, {}, [&](const ProgressEvent& e) { events.push_back(e); });
  const Spectrum without = hessian_spectrum(obj, theta, {});
  EXPECT_EQ(with.eigenvalues, without.eigenvalues);
  ASSERT_EQ(events.size(), size_t((n + 63) / 64 + 1));
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    EXPECT_EQ(events[i].done, std::min<long long>(64 * (long long)(i + 1), n));
    EXPECT_EQ(events[i].total, n);
  }
  EXPECT_EQ(events.back().total, 0);
  EXPECT_NE(events.back().stage.find("eigensolve"), std::string::npos);
}

}  // namespace
}  // namespace locus::analysis
