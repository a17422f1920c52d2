#include "locus/analysis/geometry.hpp"

#include <Eigen/Eigenvalues>
#include <Eigen/QR>
#include <Eigen/SVD>
#include <Spectra/SymEigsSolver.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "locus/core/random.hpp"
#include "locus/solvers/levenberg_marquardt.hpp"

namespace locus::analysis {

using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {
constexpr double k_eps = std::numeric_limits<double>::epsilon();
constexpr double k_inf = std::numeric_limits<double>::infinity();

VectorXd rademacher(Index n, Rng& rng) {
  VectorXd v(n);
  for (Index i = 0; i < n; ++i) v[i] = rng.uniform() < 0.5 ? -1.0 : 1.0;
  return v;
}
}  // namespace

// ---- Jacobian ---------------------------------------------------------------------------------

JacobianAnalysis analyze_jacobian(const Objective& objective, const VectorXd& theta,
                                  const JacobianOptions& options) {
  objective.require_squared("the Jacobian analysis");
  objective.model().check_parameters(theta);
  JacobianAnalysis a;
  a.rows = objective.n_residuals();
  a.cols = objective.n_params();
  const double bytes = 8.0 * double(a.rows) * double(a.cols);
  if (bytes > options.max_bytes) {
    a.skipped_reason = "J would need " + std::to_string(bytes / (1 << 30)) +
                       " GiB (l d n 8 bytes), above the limit of " +
                       std::to_string(options.max_bytes / (1 << 30)) + " GiB";
    return a;
  }
  const MatrixXd j = objective.jacobian(theta);
  Eigen::BDCSVD<MatrixXd> svd(j, options.bases ? Eigen::ComputeFullV : 0);
  a.singular_values = svd.singularValues();
  a.computed = true;
  a.sigma_max = a.singular_values.size() ? a.singular_values[0] : 0.0;
  a.tolerance = options.tolerance_factor * double(std::max(a.rows, a.cols)) * k_eps * a.sigma_max;
  for (Index k = 0; k < a.singular_values.size(); ++k)
    if (a.singular_values[k] > a.tolerance) a.rank = k + 1;
  if (a.rank == 0) a.gap = 0.0;
  else if (a.rank == a.singular_values.size()) a.gap = k_inf;
  else a.gap = a.singular_values[a.rank - 1] / std::max(a.singular_values[a.rank], 1e-300);
  a.local_dimension = a.cols - a.rank;
  a.full_row_rank = a.rank == a.rows;
  if (options.bases) {
    const MatrixXd& v = svd.matrixV();
    a.normal_basis = v.leftCols(a.rank);
    a.tangent_basis = v.rightCols(a.cols - a.rank);
  }
  return a;
}

SardCheck sard_check(const Objective& objective, const VectorXd& theta, const SardOptions& options) {
  if (!(options.epsilon > 0)) throw std::invalid_argument("SardOptions.epsilon must be > 0");
  SardCheck s;
  s.epsilon = options.epsilon;
  s.n_residuals = objective.n_residuals();
  s.rank_before = analyze_jacobian(objective, theta).rank;
  Rng rng(options.seed);
  Dataset perturbed = objective.data();
  for (Index i = 0; i < perturbed.y.size(); ++i)
    perturbed.y.data()[i] += rng.uniform(-options.epsilon, options.epsilon);
  const Objective moved(objective.model(), perturbed, objective.loss_spec());
  VectorXd start = theta;
  for (Index i = 0; i < start.size(); ++i)
    start[i] += rng.uniform(-options.start_radius, options.start_radius);
  const auto r = solvers::solve_levenberg_marquardt(
      moved, start, {.stop = {.gradient_tolerance = 0.0, .loss_tolerance = options.loss_tolerance}});
  s.theta_after = r.x;
  s.loss_after = r.loss_final;
  s.jacobian_after = analyze_jacobian(moved, r.x);
  s.rank_after = s.jacobian_after.rank;
  return s;
}

// ---- Spectra ----------------------------------------------------------------------------------

std::string_view to_string(SpectrumMethod m) {
  switch (m) {
    case SpectrumMethod::dense: return "dense";
    case SpectrumMethod::lanczos: return "lanczos";
    case SpectrumMethod::slq: return "slq";
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
    case LanczosEnd::both: return "both";
    case LanczosEnd::largest: return "largest";
    case LanczosEnd::smallest: return "smallest";
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
  auto bad = [](const char* f, double v) {
    throw std::invalid_argument(std::string("SpectrumOptions.") + f + " = " + std::to_string(v) +
                                " is invalid");
  };
  if (!(zero_tolerance_factor > 0)) bad("zero_tolerance_factor", zero_tolerance_factor);
  if (!(max_dense_bytes > 0)) bad("max_dense_bytes", max_dense_bytes);
  if (k < 1) bad("k", k);
  if (!(lanczos_tolerance > 0)) bad("lanczos_tolerance", lanczos_tolerance);
  if (lanczos_max_restarts < 1) bad("lanczos_max_restarts", lanczos_max_restarts);
  if (slq_probes < 2) bad("slq_probes", slq_probes);
  if (slq_steps < 2) bad("slq_steps", slq_steps);
}

InertiaCount count_inertia(const VectorXd& lambda, Index n, double factor) {
  InertiaCount c;
  const double norm = lambda.size() ? lambda.cwiseAbs().maxCoeff() : 0.0;
  c.tolerance = factor * double(n) * k_eps * norm;
  double max_zero = 0.0, min_nonzero = k_inf;
  for (Index i = 0; i < lambda.size(); ++i) {
    const double a = std::abs(lambda[i]);
    if (a <= c.tolerance) {
      ++c.zero;
      max_zero = std::max(max_zero, a);
    } else {
      min_nonzero = std::min(min_nonzero, a);
      (lambda[i] > 0 ? c.positive : c.negative) += 1;
    }
  }
  if (c.zero == 0) c.gap = k_inf;
  else if (min_nonzero == k_inf) c.gap = 0.0;
  else c.gap = min_nonzero / std::max(max_zero, 1e-300);
  c.complete = lambda.size() == n;
  return c;
}

namespace {

Spectrum dense_spectrum(const Objective& obj, const VectorXd& theta, const SpectrumOptions& o) {
  Spectrum s;
  const double n = double(obj.n_params());
  // The Hessian, the eigensolver's copy and its workspace.
  s.memory_bytes = 3.0 * 8.0 * n * n;
  if (s.memory_bytes > o.max_dense_bytes)
    throw std::invalid_argument(
        "the dense Hessian of n = " + std::to_string(obj.n_params()) + " parameters needs about " +
        std::to_string(s.memory_bytes / (1 << 30)) + " GiB, above the limit of " +
        std::to_string(o.max_dense_bytes / (1 << 30)) +
        " GiB: use the lanczos or slq spectrum, or raise the limit (--max-dense-memory)");
  const Eigen::SelfAdjointEigenSolver<MatrixXd> es(obj.hessian(theta), Eigen::EigenvaluesOnly);
  if (es.info() != Eigen::Success) {
    s.converged = false;
    s.note = "the dense eigensolver did not converge";
  }
  s.eigenvalues = es.eigenvalues();
  return s;
}

Spectrum lanczos_spectrum(const Objective& obj, const VectorXd& theta, const SpectrumOptions& o) {
  Spectrum s;
  HessianOperator hop(obj, theta);  // a Spectra OpType: rows, cols, perform_op
  const Index n = obj.n_params();
  const Index k = std::min<Index>(o.k, n - 1);
  // Spectra's rule of thumb: ncv >= 2 nev, at most n.
  const Index ncv = std::min<Index>(n, std::max<Index>(2 * k + 1, 20));
  Rng rng(o.seed);
  VectorXd start(n);
  for (Index i = 0; i < n; ++i) start[i] = rng.normal();
  std::vector<double> values;
  std::vector<VectorXd> vectors;
  auto run = [&](Spectra::SortRule rule) {
    Spectra::SymEigsSolver<HessianOperator> eigs(hop, k, ncv);
    eigs.init(start.data());
    eigs.compute(rule, o.lanczos_max_restarts, o.lanczos_tolerance);
    if (eigs.info() != Spectra::CompInfo::Successful) {
      s.converged = false;
      s.note += std::string(s.note.empty() ? "" : "; ") + "Lanczos did not converge for the " +
                (rule == Spectra::SortRule::LargestAlge ? "largest" : "smallest") + " eigenvalues";
    }
    const VectorXd ev = eigs.eigenvalues();
    const MatrixXd V = eigs.eigenvectors();
    for (Index i = 0; i < ev.size(); ++i) {
      values.push_back(ev[i]);
      vectors.push_back(V.col(i));
    }
  };
  if (o.lanczos_end != LanczosEnd::smallest) run(Spectra::SortRule::LargestAlge);
  if (o.lanczos_end != LanczosEnd::largest) run(Spectra::SortRule::SmallestAlge);
  // Sort ascending and drop duplicates (the two ends overlap when 2k >= n).
  std::vector<Index> order(values.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = Index(i);
  std::sort(order.begin(), order.end(), [&](Index a, Index b) { return values[a] < values[b]; });
  std::vector<double> ev;
  std::vector<double> res;
  for (Index i : order) {
    const VectorXd& v = vectors[i];
    bool dup = false;
    for (size_t j = 0; j < ev.size(); ++j) dup = dup || std::abs(ev[j] - values[i]) <= 0;
    if (dup) continue;
    ev.push_back(values[i]);
    res.push_back((hop.apply(v) - values[i] * v).norm());
  }
  s.eigenvalues = Eigen::Map<VectorXd>(ev.data(), Index(ev.size()));
  s.residuals = Eigen::Map<VectorXd>(res.data(), Index(res.size()));
  return s;
}

// Lanczos with full reorthogonalisation from a unit start vector: m steps give the tridiagonal
// T whose eigenpairs are the Gauss quadrature nodes and weights (first eigenvector components
// squared) of the spectral measure of H seen from the start vector.
void lanczos_quadrature(const HessianOperator& h, VectorXd v, int m, VectorXd& nodes,
                        VectorXd& weights) {
  const Index n = h.rows();
  m = int(std::min<Index>(m, n));
  MatrixXd Q(n, m);
  VectorXd alpha(m), beta(m);
  v.normalize();
  int steps = m;
  for (int j = 0; j < m; ++j) {
    Q.col(j) = v;
    VectorXd w = h.apply(v);
    alpha[j] = v.dot(w);
    // Two passes of classical Gram-Schmidt against every previous vector.
    for (int pass = 0; pass < 2; ++pass) w -= Q.leftCols(j + 1) * (Q.leftCols(j + 1).transpose() * w);
    beta[j] = w.norm();
    if (j + 1 < m) {
      if (beta[j] <= 1e-14 * std::abs(alpha[j]) + 1e-300) {  // invariant subspace found
        steps = j + 1;
        break;
      }
      v = w / beta[j];
    }
  }
  MatrixXd t = MatrixXd::Zero(steps, steps);
  for (int j = 0; j < steps; ++j) {
    t(j, j) = alpha[j];
    if (j + 1 < steps) t(j, j + 1) = t(j + 1, j) = beta[j];
  }
  const Eigen::SelfAdjointEigenSolver<MatrixXd> es(t);
  nodes = es.eigenvalues();
  weights = es.eigenvectors().row(0).transpose().array().square();
}

Spectrum slq_spectrum(const Objective& obj, const VectorXd& theta, const SpectrumOptions& o) {
  Spectrum s;
  const HessianOperator hop(obj, theta);
  const Index n = obj.n_params();
  const int m = int(std::min<Index>(o.slq_steps, n));
  s.slq_nodes = MatrixXd::Zero(o.slq_probes, m);
  s.slq_weights = MatrixXd::Zero(o.slq_probes, m);
  Rng rng(o.seed);
  VectorXd m1(o.slq_probes), m2(o.slq_probes);
  for (int p = 0; p < o.slq_probes; ++p) {
    VectorXd nodes, weights;
    lanczos_quadrature(hop, rademacher(n, rng), m, nodes, weights);
    s.slq_nodes.row(p).head(nodes.size()) = nodes;
    s.slq_weights.row(p).head(weights.size()) = weights;
    // Rademacher probes have |v|^2 = n: v^T f(H) v = n sum_j w_j f(theta_j).
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

}  // namespace

Spectrum hessian_spectrum(const Objective& objective, const VectorXd& theta,
                          const SpectrumOptions& options) {
  options.validate();
  objective.model().check_parameters(theta);
  Spectrum s;
  switch (options.method) {
    case SpectrumMethod::dense: s = dense_spectrum(objective, theta, options); break;
    case SpectrumMethod::lanczos: s = lanczos_spectrum(objective, theta, options); break;
    case SpectrumMethod::slq: s = slq_spectrum(objective, theta, options); break;
  }
  s.method = options.method;
  s.matrix_norm = s.eigenvalues.size() ? s.eigenvalues.cwiseAbs().maxCoeff() : 0.0;
  s.counts = count_inertia(s.eigenvalues, objective.n_params(), options.zero_tolerance_factor);
  if (options.method == SpectrumMethod::slq) s.counts.complete = false;
  return s;
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

TraceEstimate hutchinson_trace(const Objective& objective, const VectorXd& theta, int probes,
                               std::uint64_t seed) {
  if (probes < 2) throw std::invalid_argument("hutchinson_trace: probes must be >= 2");
  const HessianOperator h(objective, theta);
  Rng rng(seed);
  VectorXd q(probes);
  for (int p = 0; p < probes; ++p) {
    const VectorXd v = rademacher(objective.n_params(), rng);
    q[p] = v.dot(h.apply(v));
  }
  const double mean = q.mean();
  return {mean, std::sqrt((q.array() - mean).square().sum() / (probes - 1) / probes), probes};
}

TraceEstimate hutchpp_trace(const Objective& objective, const VectorXd& theta, int matvecs,
                            std::uint64_t seed) {
  if (matvecs < 6) throw std::invalid_argument("hutchpp_trace: matvecs must be >= 6");
  const HessianOperator h(objective, theta);
  const Index n = objective.n_params();
  const int k = std::min<int>(matvecs / 3, int(n));
  Rng rng(seed);
  MatrixXd s(n, k), g(n, k);
  for (int j = 0; j < k; ++j) s.col(j) = rademacher(n, rng);
  for (int j = 0; j < k; ++j) g.col(j) = rademacher(n, rng);
  MatrixXd hs(n, k);
  for (int j = 0; j < k; ++j) hs.col(j) = h.apply(s.col(j));
  const Eigen::HouseholderQR<MatrixXd> qr(hs);
  const MatrixXd q = qr.householderQ() * MatrixXd::Identity(n, k);
  double exact = 0.0;
  for (int j = 0; j < k; ++j) exact += q.col(j).dot(h.apply(q.col(j)));
  // Hutchinson on the complement: g' = (I - Q Q^T) g.
  const MatrixXd gp = g - q * (q.transpose() * g);
  VectorXd t(k);
  for (int j = 0; j < k; ++j) t[j] = gp.col(j).dot(h.apply(gp.col(j)));
  const double mean = t.mean();
  const double err = k > 1 ? std::sqrt((t.array() - mean).square().sum() / (k - 1) / k) : NAN;
  return {exact + mean, err, 3 * k};
}

VectorXd gauss_newton_spectrum(const Objective& objective, const VectorXd& theta) {
  const JacobianAnalysis j = analyze_jacobian(objective, theta);
  if (!j.computed) throw std::invalid_argument("gauss_newton_spectrum: " + j.skipped_reason);
  VectorXd ev = VectorXd::Zero(objective.n_params());
  const Index r = j.singular_values.size();
  ev.tail(r) = (2.0 * objective.scale()) * j.singular_values.reverse().array().square();
  return ev;
}

// ---- Classification ---------------------------------------------------------------------------

std::string_view to_string(PointClass c) {
  switch (c) {
    case PointClass::global_minimum: return "global_minimum";
    case PointClass::strict_minimum: return "strict_minimum";
    case PointClass::non_strict_minimum: return "non_strict_minimum";
    case PointClass::saddle: return "saddle";
    case PointClass::not_critical: return "not_critical";
    case PointClass::undecided: return "undecided";
  }
  return "unknown";
}

void AnalyzeOptions::validate() const {
  spectrum.validate();
  if (!(gradient_tolerance >= 0)) throw std::invalid_argument("AnalyzeOptions.gradient_tolerance must be >= 0");
  if (!(loss_tolerance >= 0)) throw std::invalid_argument("AnalyzeOptions.loss_tolerance must be >= 0");
  if (!(min_gap >= 1)) throw std::invalid_argument("AnalyzeOptions.min_gap must be >= 1");
}

PointAnalysis analyze_point(const Objective& objective, const VectorXd& theta,
                            const AnalyzeOptions& options) {
  options.validate();
  PointAnalysis a;
  const auto lg = objective.loss_gradient(theta);
  a.loss = lg.loss;
  a.gradient_max_norm = lg.gradient.cwiseAbs().maxCoeff();
  a.n_params = objective.n_params();
  a.n_residuals = objective.n_residuals();
  a.at_zero_loss = a.loss <= options.loss_tolerance;
  if (objective.loss_spec().kind == LossKind::squared) {
    a.jacobian = analyze_jacobian(objective, theta, options.jacobian);
    if (a.jacobian.computed) a.manifold_dimension = a.jacobian.local_dimension;
  } else {
    a.jacobian.skipped_reason = "cross-entropy has no residual map";
  }
  a.hessian = hessian_spectrum(objective, theta, options.spectrum);
  const InertiaCount& c = a.hessian.counts;
  a.index = c.negative;
  if (a.at_zero_loss && a.jacobian.computed && a.hessian.method == SpectrumMethod::dense) {
    // Pair the top eigenvalues with 2c sigma_k^2 (at zero loss H = 2c J^T J exactly).
    const Index m = std::min<Index>(a.jacobian.rank, a.hessian.eigenvalues.size());
    double worst = 0.0, worst_abs = 0.0;
    for (Index k = 0; k < m; ++k) {
      const double lam = a.hessian.eigenvalues[a.hessian.eigenvalues.size() - 1 - k];
      const double gn = 2.0 * objective.scale() * std::pow(a.jacobian.singular_values[k], 2);
      worst = std::max(worst, std::abs(lam - gn) / std::abs(lam));
      worst_abs = std::max(worst_abs, std::abs(lam - gn));
    }
    a.eigen_vs_gauss_newton_rtol = worst;
    a.eigen_vs_gauss_newton_abs = worst_abs;
  }
  // Decide the class; the reason names the test that fired with its numbers.
  char buf[256];
  const bool smooth = is_smooth(objective.model().activation());
  const bool critical = a.gradient_max_norm <= options.gradient_tolerance;
  const bool clear = c.zero == 0 || c.gap >= options.min_gap;
  const bool negatives_known =
      c.complete || (a.hessian.method == SpectrumMethod::lanczos && options.spectrum.lanczos_end != LanczosEnd::largest);
  if (!critical) {
    a.classification = PointClass::not_critical;
    std::snprintf(buf, sizeof buf, "|grad L|_inf = %.3g > %.3g (gradient_tolerance)",
                  a.gradient_max_norm, options.gradient_tolerance);
  } else if (!smooth) {
    a.classification = PointClass::undecided;
    std::snprintf(buf, sizeof buf, "the activation is not C^2: the Hessian misses its kink terms");
  } else if (!negatives_known || !clear || a.hessian.method == SpectrumMethod::slq) {
    a.classification = PointClass::undecided;
    std::snprintf(buf, sizeof buf,
                  "spectrum incomplete or zero threshold ambiguous (gap %.3g < %.3g)", c.gap,
                  options.min_gap);
  } else if (c.negative > 0) {
    a.classification = PointClass::saddle;
    std::snprintf(buf, sizeof buf, "%ld eigenvalues < -%.3g (tau_H), gap %.3g", long(c.negative),
                  c.tolerance, c.gap);
  } else if (a.at_zero_loss) {
    a.classification = PointClass::global_minimum;
    std::snprintf(buf, sizeof buf, "loss %.3g <= %.3g and no eigenvalue < -%.3g", a.loss,
                  options.loss_tolerance, c.tolerance);
  } else if (c.zero == 0 && c.complete) {
    a.classification = PointClass::strict_minimum;
    std::snprintf(buf, sizeof buf, "every eigenvalue > %.3g (tau_H); smallest %.3g", c.tolerance,
                  a.hessian.eigenvalues.minCoeff());
  } else if (c.complete) {
    a.classification = PointClass::non_strict_minimum;
    std::snprintf(buf, sizeof buf, "no eigenvalue < -%.3g, %ld zero eigenvalues (gap %.3g)",
                  c.tolerance, long(c.zero), c.gap);
  } else {
    a.classification = PointClass::undecided;
    std::snprintf(buf, sizeof buf, "no negative eigenvalue among those computed; the middle of "
                                   "the spectrum is unknown");
  }
  a.reason = buf;
  return a;
}

io::Json to_json(const PointAnalysis& a) {
  auto num = [](double v) -> io::Json {
    if (std::isnan(v)) return nullptr;
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    return v;
  };
  io::Json j;
  j["loss"] = a.loss;
  j["gradient_max_norm"] = a.gradient_max_norm;
  j["n_params"] = a.n_params;
  j["n_residuals"] = a.n_residuals;
  j["at_zero_loss"] = a.at_zero_loss;
  io::Json jac;
  jac["computed"] = a.jacobian.computed;
  if (a.jacobian.computed) {
    jac["rank"] = a.jacobian.rank;
    jac["tolerance"] = a.jacobian.tolerance;
    jac["gap"] = num(a.jacobian.gap);
    jac["sigma_max"] = a.jacobian.sigma_max;
    jac["sigma_min"] = a.jacobian.singular_values.size() ? a.jacobian.singular_values.minCoeff() : 0.0;
    jac["full_row_rank"] = a.jacobian.full_row_rank;
  } else {
    jac["rank"] = nullptr;
    jac["tolerance"] = nullptr;
    jac["gap"] = nullptr;
    jac["skipped_reason"] = a.jacobian.skipped_reason;
  }
  j["jacobian"] = jac;
  j["manifold_dimension"] = a.manifold_dimension >= 0 ? io::Json(a.manifold_dimension) : io::Json(nullptr);
  io::Json h;
  h["method"] = std::string(to_string(a.hessian.method));
  h["positive"] = a.hessian.counts.positive;
  h["zero"] = a.hessian.counts.zero;
  h["negative"] = a.hessian.counts.negative;
  h["tolerance"] = a.hessian.counts.tolerance;
  h["gap"] = num(a.hessian.counts.gap);
  h["complete"] = a.hessian.counts.complete;
  h["converged"] = a.hessian.converged;
  h["norm"] = a.hessian.matrix_norm;
  if (a.hessian.method == SpectrumMethod::dense) h["memory_bytes"] = a.hessian.memory_bytes;
  if (a.hessian.eigenvalues.size())
    h["eigenvalue_min"] = a.hessian.eigenvalues.minCoeff(),
    h["eigenvalue_max"] = a.hessian.eigenvalues.maxCoeff();
  h["eigenvalues"] = std::vector<double>(a.hessian.eigenvalues.data(),
                                         a.hessian.eigenvalues.data() + a.hessian.eigenvalues.size());
  if (a.hessian.residuals.size())
    h["residuals"] = std::vector<double>(a.hessian.residuals.data(),
                                         a.hessian.residuals.data() + a.hessian.residuals.size());
  if (a.hessian.method == SpectrumMethod::slq) {
    h["trace_estimate"] = a.hessian.trace_estimate;
    h["trace_error"] = a.hessian.trace_error;
    h["trace_sq_estimate"] = a.hessian.trace_sq_estimate;
    h["trace_sq_error"] = a.hessian.trace_sq_error;
  }
  if (!a.hessian.note.empty()) h["note"] = a.hessian.note;
  j["hessian"] = h;
  j["eigen_vs_gauss_newton_rtol"] = num(a.eigen_vs_gauss_newton_rtol);
  j["eigen_vs_gauss_newton_abs"] = num(a.eigen_vs_gauss_newton_abs);
  j["classification"] = std::string(to_string(a.classification));
  j["index"] = a.index;
  j["reason"] = a.reason;
  return j;
}

// ---- Slices -----------------------------------------------------------------------------------

VectorXd filter_normalized_direction(const Mlp& model, const VectorXd& theta, std::uint64_t seed) {
  model.check_parameters(theta);
  Rng rng(seed);
  VectorXd d = VectorXd::Zero(model.n_params());
  for (int k = 0; k < model.n_layers(); ++k) {
    const LayerSlice& s = model.layer(k);
    for (Index o = 0; o < s.out; ++o) {
      auto row = d.segment(s.weight_offset + o * s.in, s.in);
      for (Index i = 0; i < s.in; ++i) row[i] = rng.normal();
      const double target = theta.segment(s.weight_offset + o * s.in, s.in).norm();
      const double norm = row.norm();
      row *= norm > 0 ? target / norm : 0.0;
    }
  }
  return d;
}

LossSlice loss_slice_1d(const Objective& objective, const VectorXd& theta, const SliceOptions& o) {
  if (o.points < 2 || !(o.radius > 0)) throw std::invalid_argument("SliceOptions: points >= 2 and radius > 0");
  const VectorXd d = filter_normalized_direction(objective.model(), theta, o.seed);
  LossSlice s;
  s.alpha = VectorXd::LinSpaced(o.points, -o.radius, o.radius);
  s.loss.resize(o.points, 1);
  for (int i = 0; i < o.points; ++i) s.loss(i, 0) = objective.loss(theta + s.alpha[i] * d);
  return s;
}

LossSlice loss_slice_2d(const Objective& objective, const VectorXd& theta, const SliceOptions& o) {
  if (o.points < 2 || !(o.radius > 0)) throw std::invalid_argument("SliceOptions: points >= 2 and radius > 0");
  const VectorXd d1 = filter_normalized_direction(objective.model(), theta, o.seed);
  const VectorXd d2 = filter_normalized_direction(objective.model(), theta, o.seed + 1);
  LossSlice s;
  s.alpha = VectorXd::LinSpaced(o.points, -o.radius, o.radius);
  s.beta = s.alpha;
  s.loss.resize(o.points, o.points);
  for (int i = 0; i < o.points; ++i)
    for (int j = 0; j < o.points; ++j)
      s.loss(i, j) = objective.loss(theta + s.alpha[i] * d1 + s.beta[j] * d2);
  return s;
}

}  // namespace locus::analysis
