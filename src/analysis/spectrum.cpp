#include "locus/analysis/spectrum.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "core/dense_hessian.hpp"
#include "core/parallel.hpp"
#include "linalg/eigen.hpp"
#include "linalg/lanczos.hpp"
#include "linalg/random.hpp"
#include "locus/core/options.hpp"
#include "locus/io/memory.hpp"

namespace locus::analysis {

using Eigen::MatrixXd;
using Eigen::VectorXd;

VectorXd SymmetricOperatorRef::apply(const VectorXd& v) const {
  VectorXd y(n_);
  perform_op(v.data(), y.data());
  return y;
}

std::string_view to_string(SpectrumMethod m) {
  switch (m) {
    case SpectrumMethod::dense:
      return "dense";
    case SpectrumMethod::lanczos:
      return "lanczos";
    case SpectrumMethod::slq:
      return "slq";
  }
  return "unknown";
}

SpectrumMethod parse_spectrum_method(std::string_view name) {
  for (auto m : {SpectrumMethod::dense, SpectrumMethod::lanczos, SpectrumMethod::slq})
    if (to_string(m) == name) return m;
  throw std::invalid_argument("unknown spectrum method '" + std::string(name) +
                              "' (valid: dense, lanczos, slq)");
}

std::string_view to_string(LanczosEnd e) {
  switch (e) {
    case LanczosEnd::both:
      return "both";
    case LanczosEnd::largest:
      return "largest";
    case LanczosEnd::smallest:
      return "smallest";
  }
  return "unknown";
}

LanczosEnd parse_lanczos_end(std::string_view name) {
  for (auto e : {LanczosEnd::both, LanczosEnd::largest, LanczosEnd::smallest})
    if (name == to_string(e)) return e;
  throw std::invalid_argument("unknown Lanczos end '" + std::string(name) +
                              "' (valid: both, largest, smallest)");
}

void SpectrumOptions::validate() const {
  // "SpectrumOptions.k must be >= 1, got 0": the interfaces rename the field (--k, k=).
  auto bad = [](const char* f, const char* need, double v) {
    throw std::invalid_argument(std::string("SpectrumOptions.") + f + " must be " + need +
                                ", got " + options::to_string(options::Value(v)));
  };
  if (!(zero_tolerance_factor > 0)) bad("zero_tolerance_factor", "> 0", zero_tolerance_factor);
  if (!(max_dense_bytes > 0)) bad("max_dense_bytes", "> 0", max_dense_bytes);
  if (k < 1) bad("k", ">= 1", k);
  if (!(lanczos_tolerance > 0)) bad("lanczos_tolerance", "> 0", lanczos_tolerance);
  if (lanczos_max_restarts < 1) bad("lanczos_max_restarts", ">= 1", lanczos_max_restarts);
  if (slq_probes < 2) bad("slq_probes", ">= 2", slq_probes);
  if (slq_steps < 2) bad("slq_steps", ">= 2", slq_steps);
}

namespace {

// The matrix, LAPACK's copy of it and its workspace: announced before anything is allocated.
double dense_bytes(Index n, const SpectrumOptions& o) {
  const double bytes = 3.0 * 8.0 * double(n) * double(n);
  if (bytes > o.max_dense_bytes)
    throw std::invalid_argument(
        "the dense spectrum of n = " + std::to_string(n) + " needs about " +
        std::to_string(bytes / (1 << 30)) + " GiB, above the limit of " +
        std::to_string(o.max_dense_bytes / (1 << 30)) +
        " GiB: use the lanczos or slq spectrum, or raise max_dense_bytes (CLI: --max-dense-bytes)");
  return bytes;
}

// The n x n matrix [op e_1, ..., op e_n], symmetrised (A + A^T)/2 (an operator symmetric in
// exact arithmetic may not be so in floating point; dsyevd would read only one triangle), built
// in blocks of 64 columns with `stage` k/n reported after each block from the calling thread.
// parallel: the columns of a block in parallel (op must allow concurrent perform_op, as
// HessianOperator does); each column is the same with or without. Cost: n applications.
MatrixXd dense_columns(const SymmetricOperatorRef& op, bool parallel, const std::string& stage,
                       const ProgressCallback& progress) {
  const Index n = op.rows(), block = 64;
  MatrixXd a(n, n);
  for (Index j0 = 0; j0 < n; j0 += block) {
    const Index j1 = std::min(n, j0 + block);
    detail::parallel_for(j1 - j0, parallel, [&](Index i) {
      VectorXd e = VectorXd::Zero(n);
      e[j0 + i] = 1.0;
      op.perform_op(e.data(), a.col(j0 + i).data());
    });
    report_progress(progress, {.stage = stage, .done = j1, .total = n});
  }
  return 0.5 * (a + a.transpose());
}

Spectrum dense_from_matrix(MatrixXd a, double memory_bytes) {
  Spectrum s;
  s.memory_bytes = memory_bytes;
  const linalg::SymmetricEigen es = linalg::symmetric_eigen(std::move(a), false);
  if (!es.converged) {
    s.converged = false;
    s.note = "the dense eigensolver failed (non-finite entries or no convergence)";
  }
  s.eigenvalues = es.values;
  return s;
}

// op as the function linalg's Lanczos takes (op must outlive it).
linalg::SymmetricMap as_map(const SymmetricOperatorRef& op) {
  return [op](const double* v, double* y) { op.perform_op(v, y); };
}

// The k extreme eigenvalues by thick-restart Lanczos (linalg/lanczos.hpp), each with the residual
// |f| |e_m^T y| from the Lanczos relation A V = V T + f e_m^T: for the Ritz vector x = V y
// (|y| = 1) of T y = theta y, A x - theta x = f (e_m^T y). It needs no operator application (an
// explicit |A x - theta x| costs one per eigenpair, a quarter of a top-10 run on a large net); the
// relation holds to rounding, so the estimate and the explicit residual differ by about
// eps |A| sqrt(ncv).
Spectrum lanczos_spectrum(const SymmetricOperatorRef& op, const SpectrumOptions& o) {
  Spectrum s;
  const Index n = op.rows();
  const Index k = std::min<Index>(o.k, n - 1);
  Rng rng(o.seed);
  const VectorXd start = linalg::gaussian_vector(n, rng);
  std::vector<double> values, residuals;
  const linalg::SymmetricMap apply = as_map(op);
  // The wanted eigenvalues from one Krylov space of ncv = max(2 nev + 1, 20) vectors (ARPACK's
  // rule of thumb, at most n).
  auto run = [&](linalg::LanczosWanted wanted, const char* which) {
    const linalg::LanczosResult r = linalg::lanczos_extreme(apply, n, start,
                                                            {.k = k,
                                                             .wanted = wanted,
                                                             .tolerance = o.lanczos_tolerance,
                                                             .max_restarts = o.lanczos_max_restarts,
                                                             .seed = o.seed + 1});
    if (!r.converged) {
      s.converged = false;
      s.note += std::string(s.note.empty() ? "" : "; ") + "Lanczos did not converge for the " +
                which + " eigenvalues";
    }
    s.applications += r.applications;
    s.restarts += r.restarts;
    for (Index i = 0; i < r.values.size(); ++i) {
      values.push_back(r.values[i]);
      residuals.push_back(r.residuals[i]);
    }
  };
  if (o.lanczos_end == LanczosEnd::both && 2 * k <= n - 1) {
    // Both ends from one Krylov space: about half the applications of one run per end (the
    // space that resolves the top also carries the bottom).
    run(linalg::LanczosWanted::both_ends, "extreme (both ends)");
  } else {
    if (o.lanczos_end != LanczosEnd::smallest) run(linalg::LanczosWanted::largest, "largest");
    if (o.lanczos_end != LanczosEnd::largest) run(linalg::LanczosWanted::smallest, "smallest");
  }
  // Sort ascending and drop exact duplicates (two separate ends overlap when 2k >= n).
  std::vector<Index> order(values.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = Index(i);
  std::sort(order.begin(), order.end(), [&](Index a, Index b) { return values[a] < values[b]; });
  std::vector<double> ev, res;
  for (Index i : order) {
    if (!ev.empty() && ev.back() == values[i]) continue;
    ev.push_back(values[i]);
    res.push_back(residuals[i]);
  }
  s.eigenvalues = Eigen::Map<VectorXd>(ev.data(), Index(ev.size()));
  s.residuals = Eigen::Map<VectorXd>(res.data(), Index(res.size()));
  return s;
}

// The Gauss quadrature of the spectral measure of A seen from v: m Lanczos steps with full
// reorthogonalisation (linalg::lanczos_tridiagonal) give T, whose eigenvalues are the nodes and
// whose eigenvectors' first components squared are the weights.
void lanczos_quadrature(const SymmetricOperatorRef& op, const VectorXd& v, int m,
                        std::uint64_t seed, VectorXd& nodes, VectorXd& weights) {
  const Index n = op.rows();
  const linalg::SymmetricEigen es = linalg::small_symmetric_eigen(
      linalg::lanczos_tridiagonal(as_map(op), n, v, std::min<Index>(m, n), seed));
  nodes = es.values;
  weights = es.vectors.row(0).transpose().array().square();
}

Spectrum slq_spectrum(const SymmetricOperatorRef& op, const SpectrumOptions& o) {
  Spectrum s;
  const Index n = op.rows();
  const int m = int(std::min<Index>(o.slq_steps, n));
  s.slq_nodes = MatrixXd::Zero(o.slq_probes, m);
  s.slq_weights = MatrixXd::Zero(o.slq_probes, m);
  s.applications = (long long)o.slq_probes * m;
  Rng rng(o.seed);
  VectorXd m1(o.slq_probes), m2(o.slq_probes);
  for (int p = 0; p < o.slq_probes; ++p) {
    VectorXd nodes, weights;
    lanczos_quadrature(op, linalg::rademacher_vector(n, rng), m, o.seed + 1 + std::uint64_t(p),
                       nodes, weights);
    s.slq_nodes.row(p).head(nodes.size()) = nodes;
    s.slq_weights.row(p).head(weights.size()) = weights;
    // Rademacher probes have |v|^2 = n: v^T f(A) v = n sum_j w_j f(theta_j).
    m1[p] = double(n) * weights.dot(nodes);
    m2[p] = double(n) * weights.dot(nodes.cwiseProduct(nodes));
  }
  auto mean_err = [&](const VectorXd& x, double& mean, double& err) {
    mean = x.mean();
    err = std::sqrt((x.array() - mean).square().sum() / double(x.size() - 1) / double(x.size()));
  };
  mean_err(m1, s.trace_estimate, s.trace_error);
  mean_err(m2, s.trace_sq_estimate, s.trace_sq_error);
  // Ritz values: the extreme nodes converge first; report the union of extremes per probe.
  s.eigenvalues = VectorXd(2);
  s.eigenvalues << s.slq_nodes.col(0).minCoeff(), s.slq_nodes.rowwise().maxCoeff().maxCoeff();
  s.note = "slq: eigenvalues holds the extreme Ritz values; counts are not certified";
  return s;
}

// op with one progress event per application: `stage`, applications so far out of `total`.
// (The dense build reports per block of columns instead: dense_columns.)
struct ReportingOperator {
  using Scalar = double;
  SymmetricOperatorRef op;
  const ProgressCallback& progress;
  std::string stage;
  long long total = 0;
  mutable long long applied = 0;
  Index rows() const { return op.rows(); }
  Index cols() const { return op.rows(); }
  void perform_op(const double* v, double* y) const {
    op.perform_op(v, y);
    report_progress(progress, {.stage = stage, .done = ++applied, .total = total});
  }
};

// Method-independent fields: the norm found and the inertia of what was computed.
Spectrum finish(Spectrum s, Index n, const SpectrumOptions& o) {
  s.method = o.method;
  s.matrix_norm = s.eigenvalues.size() ? s.eigenvalues.cwiseAbs().maxCoeff() : 0.0;
  s.counts = count_inertia(s.eigenvalues, n, o.zero_tolerance_factor);
  if (o.method == SpectrumMethod::slq) s.counts.complete = false;
  return s;
}

}  // namespace

Spectrum operator_spectrum(const SymmetricOperatorRef& op_in, const SpectrumOptions& options,
                           const ProgressCallback& progress) {
  options.validate();
  const Index n = op_in.rows();
  if (n < 1) throw std::invalid_argument("operator_spectrum: the operator has size 0");
  const long long slq_total = (long long)options.slq_probes * std::min<Index>(options.slq_steps, n);
  const ReportingOperator reporting{.op = op_in,
                                    .progress = progress,
                                    .stage = options.method == SpectrumMethod::lanczos
                                                 ? "Lanczos (operator applications)"
                                                 : "SLQ (operator applications)",
                                    .total = options.method == SpectrumMethod::slq ? slq_total : 0};
  const SymmetricOperatorRef op =
      progress ? SymmetricOperatorRef(reporting) : SymmetricOperatorRef(op_in);
  Spectrum s;
  switch (options.method) {
    case SpectrumMethod::dense: {
      const double bytes = dense_bytes(n, options);
      s = dense_from_matrix(dense_columns(op_in, false, "operator columns", progress), bytes);
      break;
    }
    case SpectrumMethod::lanczos:
      s = lanczos_spectrum(op, options);
      break;
    case SpectrumMethod::slq:
      s = slq_spectrum(op, options);
      break;
  }
  return finish(std::move(s), n, options);
}

MatrixXd dense_hessian(const Objective& objective, const VectorXd& theta,
                       const ProgressCallback& progress) {
  if (!progress) return objective.hessian(theta);
  objective.model().check_parameters(theta);
  // The same assembly as Objective::hessian, with an event per block of 256 columns of B^T B.
  if (detail::gemm_hessian_applies(objective))
    return detail::assemble_hessian(objective, theta, progress, "dense Hessian (GEMM)");
  const Index n = objective.n_params();
  io::check_memory(3.0 * 8.0 * double(n) * double(n),
                   "the dense Hessian of " + std::to_string(n) + " parameters", "3 n^2 doubles");
  return dense_columns(HessianOperator(objective, theta), true, "dense Hessian (HVP columns)",
                       progress);
}

Spectrum hessian_spectrum(const Objective& objective, const VectorXd& theta,
                          const SpectrumOptions& options, const ProgressCallback& progress) {
  options.validate();
  objective.model().check_parameters(theta);
  const Index n = objective.n_params();
  if (options.method == SpectrumMethod::dense) {
    const double bytes = dense_bytes(n, options);
    MatrixXd h = dense_hessian(objective, theta, progress);
    report_progress(progress, {.stage = "eigensolve (dsyevd), n = " + std::to_string(n)});
    return finish(dense_from_matrix(std::move(h), bytes), n, options);
  }
  const HessianOperator hop(objective, theta);
  return operator_spectrum(hop, options, progress);
}

VectorXd slq_density(const Spectrum& s, const VectorXd& grid, double width) {
  VectorXd rho = VectorXd::Zero(grid.size());
  if (s.slq_nodes.size() == 0) return rho;
  const double c = 1.0 / (std::sqrt(2.0 * M_PI) * width * double(s.slq_nodes.rows()));
  for (Index p = 0; p < s.slq_nodes.rows(); ++p)
    for (Index j = 0; j < s.slq_nodes.cols(); ++j) {
      const double w = s.slq_weights(p, j);
      if (w == 0) continue;
      rho.array() += c * w * (-0.5 * ((grid.array() - s.slq_nodes(p, j)) / width).square()).exp();
    }
  return rho;
}

io::Json to_json(const Spectrum& s) {
  const auto num = io::json_number;
  const auto list = [](const Eigen::VectorXd& v) {
    return std::vector<double>(v.data(), v.data() + v.size());
  };
  io::Json h;
  h["method"] = std::string(to_string(s.method));
  h["positive"] = s.counts.positive;
  h["zero"] = s.counts.zero;
  h["negative"] = s.counts.negative;
  h["tolerance"] = num(s.counts.tolerance);
  h["gap"] = num(s.counts.gap);
  h["complete"] = s.counts.complete;
  h["converged"] = s.converged;
  h["norm"] = num(s.matrix_norm);
  if (s.method == SpectrumMethod::dense) h["memory_bytes"] = s.memory_bytes;
  if (s.method != SpectrumMethod::dense) h["applications"] = s.applications;
  if (s.method == SpectrumMethod::lanczos) h["restarts"] = s.restarts;
  if (s.eigenvalues.size()) {
    h["eigenvalue_min"] = s.eigenvalues.minCoeff();
    h["eigenvalue_max"] = s.eigenvalues.maxCoeff();
  }
  h["eigenvalues"] = list(s.eigenvalues);
  if (s.residuals.size()) h["residuals"] = list(s.residuals);
  if (s.method == SpectrumMethod::slq) {
    h["trace_estimate"] = num(s.trace_estimate);
    h["trace_error"] = num(s.trace_error);
    h["trace_sq_estimate"] = num(s.trace_sq_estimate);
    h["trace_sq_error"] = num(s.trace_sq_error);
    io::Json nodes = io::Json::array(), weights = io::Json::array();
    for (Eigen::Index p = 0; p < s.slq_nodes.rows(); ++p) {
      nodes.push_back(list(s.slq_nodes.row(p).transpose()));
      weights.push_back(list(s.slq_weights.row(p).transpose()));
    }
    h["slq_nodes"] = nodes;
    h["slq_weights"] = weights;
  }
  if (!s.note.empty()) h["note"] = s.note;
  return h;
}

}  // namespace locus::analysis
