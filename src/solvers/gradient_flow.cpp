#include "locus/solvers/gradient_flow.hpp"

#include <cvode/cvode.h>
#include <nvector/nvector_serial.h>
#include <sundials/sundials_context.h>
#include <sunlinsol/sunlinsol_dense.h>
#include <sunlinsol/sunlinsol_spgmr.h>
#include <sunmatrix/sunmatrix_dense.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <vector>

#include "core/parallel.hpp"
#include "dense.hpp"
#include "monitor.hpp"

namespace locus::solvers {

using detail::format_number;
using detail::max_norm;
using Eigen::MatrixXd;
using Eigen::VectorXd;

std::string_view to_string(FlowLinearSolver s) {
  switch (s) {
    case FlowLinearSolver::automatic:
      return "automatic";
    case FlowLinearSolver::dense:
      return "dense";
    case FlowLinearSolver::iterative:
      return "iterative";
  }
  return "unknown";
}

FlowLinearSolver parse_flow_linear_solver(std::string_view name) {
  for (FlowLinearSolver s :
       {FlowLinearSolver::automatic, FlowLinearSolver::dense, FlowLinearSolver::iterative})
    if (to_string(s) == name) return s;
  throw std::invalid_argument("unknown flow linear solver '" + std::string(name) +
                              "' (valid: automatic, dense, iterative)");
}

void GradientFlowOptions::validate() const {
  stop.validate("GradientFlowOptions.stop");
  auto bad = [](const char* field, double v, const char* need) {
    throw std::invalid_argument(std::string("GradientFlowOptions.") + field + " must be " + need +
                                ", got " + format_number(v));
  };
  if (!(t_final > 0)) bad("t_final", t_final, "> 0 (inf = no limit)");
  if (!(relative_tolerance > 0) || !std::isfinite(relative_tolerance))
    bad("relative_tolerance", relative_tolerance, "finite and > 0");
  if (!(absolute_tolerance > 0) || !std::isfinite(absolute_tolerance))
    bad("absolute_tolerance", absolute_tolerance, "finite and > 0");
  if (dense_max_params < 0) bad("dense_max_params", double(dense_max_params), ">= 0");
  if (krylov_dimension < 1) bad("krylov_dimension", krylov_dimension, ">= 1");
  if (trajectory_points_per_decade < 0)
    bad("trajectory_points_per_decade", trajectory_points_per_decade, ">= 0");
  if (!(trajectory_t_first > 0) || !std::isfinite(trajectory_t_first))
    bad("trajectory_t_first", trajectory_t_first, "finite and > 0");
}

namespace {

// Everything CVODE's callbacks need, passed as user_data.
struct FlowData {
  const FunctionRef* objective = nullptr;
  EvaluationCounts* counts = nullptr;
  Eigen::Index n = 0;
  bool squared = false;
  std::string error;  // first message from CVODE's error handler or from a callback
  // Iterative solver: the HVP operator at the state of the current Newton iteration, and the one
  // built by the last right-hand-side evaluation (CVODE asks for the Jacobian data at the state
  // where it just evaluated theta', so the forward pass is reused).
  std::unique_ptr<HessianAt> hvp, last_rhs;
  VectorXd last_rhs_state;
  bool iterative = false;
  // Gauss-Newton preconditioner: J at the last preconditioner update, its Gram matrix and the
  // Cholesky factor for the current gamma.
  MatrixXd jac, gram, factor;
  bool wide = false;
};

Eigen::Map<VectorXd> view(N_Vector v) {
  return {N_VGetArrayPointer(v), static_cast<Eigen::Index>(N_VGetLength(v))};
}

// theta' = -grad L(theta). A non-finite gradient is a recoverable error: CVODE retries with a
// smaller step.
int rhs(realtype /*t*/, N_Vector y, N_Vector ydot, void* user) {
  auto* d = static_cast<FlowData*>(user);
  try {
    const VectorXd theta = view(y);
    ++d->counts->gradient;
    if (d->iterative) {
      d->last_rhs = std::make_unique<HessianAt>(d->objective->hessian_at(theta));
      d->last_rhs_state = theta;
      const VectorXd& g = d->last_rhs->gradient();
      if (!g.allFinite()) return 1;
      view(ydot) = -g;
      return 0;
    }
    VectorXd g = d->objective->loss_gradient(theta).gradient;
    if (!g.allFinite()) return 1;
    view(ydot) = -g;
    return 0;
  } catch (const std::exception& e) {
    if (d->error.empty()) d->error = e.what();
    return -1;
  }
}

// Dense Jacobian of the right-hand side: -H.
int dense_jacobian(realtype /*t*/, N_Vector y, N_Vector /*fy*/, SUNMatrix jac, void* user, N_Vector,
                   N_Vector, N_Vector) {
  auto* d = static_cast<FlowData*>(user);
  try {
    const VectorXd theta = view(y);
    const MatrixXd h = d->objective->hessian(theta);
    ++d->counts->hessian;
    d->counts->hessian_vector += d->n;
    if (!h.allFinite()) return 1;
    Eigen::Map<MatrixXd>(SUNDenseMatrix_Data(jac), d->n, d->n) = -h;
    return 0;
  } catch (const std::exception& e) {
    if (d->error.empty()) d->error = e.what();
    return -1;
  }
}

// Caches the forward pass at y for the Jacobian-vector products of this Newton iteration.
int jtimes_setup(realtype /*t*/, N_Vector y, N_Vector /*fy*/, void* user) {
  auto* d = static_cast<FlowData*>(user);
  try {
    if (d->last_rhs && d->last_rhs_state == view(y))
      d->hvp = std::move(d->last_rhs);
    else
      d->hvp = std::make_unique<HessianAt>(d->objective->hessian_at(VectorXd(view(y))));
    return 0;
  } catch (const std::exception& e) {
    if (d->error.empty()) d->error = e.what();
    return -1;
  }
}

int jtimes(N_Vector v, N_Vector jv, realtype /*t*/, N_Vector /*y*/, N_Vector /*fy*/, void* user,
           N_Vector /*tmp*/) {
  auto* d = static_cast<FlowData*>(user);
  d->hvp->perform_op(N_VGetArrayPointer(v), N_VGetArrayPointer(jv));
  ++d->counts->hessian_vector;
  view(jv) *= -1.0;
  return view(jv).allFinite() ? 0 : 1;
}

// Gauss-Newton preconditioner P = I + gamma 2c J^T J ~ I - gamma (-H). J is recomputed only when
// CVODE says the Jacobian data are stale (jok false); a new gamma costs one Cholesky.
int precondition_setup(realtype /*t*/, N_Vector y, N_Vector /*fy*/, booleantype jok,
                       booleantype* jcur, realtype gamma, void* user) {
  auto* d = static_cast<FlowData*>(user);
  try {
    if (!jok || d->jac.size() == 0) {
      d->jac = d->objective->jacobian(VectorXd(view(y)));
      ++d->counts->jacobian;
      if (!d->jac.allFinite()) return 1;
      d->wide = d->jac.rows() < d->jac.cols();
      detail::gram_matrix(*d->objective, VectorXd(view(y)), d->jac, d->wide, d->gram);
      *jcur = SUNTRUE;
    } else {
      *jcur = SUNFALSE;
    }
    const double s = 2.0 * d->objective->residual_scale() * gamma;
    d->factor = d->gram;
    if (d->wide) {
      // Woodbury: (I + s J^T J)^{-1} = I - J^T (I/s + J J^T)^{-1} J.
      d->factor.diagonal().array() += 1.0 / s;
    } else {
      d->factor *= s;
      d->factor.diagonal().array() += 1.0;
    }
    ++d->counts->factorizations;
    return detail::cholesky_in_place(d->factor) ? 0 : 1;
  } catch (const std::exception& e) {
    if (d->error.empty()) d->error = e.what();
    return -1;
  }
}

int precondition_solve(realtype /*t*/, N_Vector /*y*/, N_Vector /*fy*/, N_Vector r, N_Vector z,
                       realtype /*gamma*/, realtype /*delta*/, int /*lr*/, void* user) {
  auto* d = static_cast<FlowData*>(user);
  const auto rv = view(r);
  auto zv = view(z);
  if (d->wide) {
    // The two products with J dominate GMRES's cost: split over fixed column blocks on the
    // OpenMP threads (partial products summed in block order, so results do not depend on the
    // thread count). They stay in double: for large gamma, z = r - J^T w cancels strongly.
    const Eigen::Index n = d->jac.cols(), m = d->jac.rows();
    constexpr int k_blocks = 8;
    const Eigen::Index width = (n + k_blocks - 1) / k_blocks;
    std::vector<VectorXd> parts(k_blocks, VectorXd::Zero(m));
    // Threads only pay off for large J (a parallel region costs microseconds, far more when the
    // machine is oversubscribed).
    const bool parallel = m * n >= 250000;
    locus::detail::parallel_for(k_blocks, parallel, [&](Eigen::Index b) {
      const Eigen::Index c0 = std::min(n, b * width), cols = std::min(n, c0 + width) - c0;
      if (cols > 0) parts[b].noalias() = d->jac.middleCols(c0, cols) * rv.segment(c0, cols);
    });
    VectorXd jr = parts[0];
    for (int b = 1; b < k_blocks; ++b) jr += parts[b];
    const VectorXd w = detail::cholesky_solve(d->factor, jr);
    locus::detail::parallel_for(k_blocks, parallel, [&](Eigen::Index b) {
      const Eigen::Index c0 = std::min(n, b * width), cols = std::min(n, c0 + width) - c0;
      if (cols > 0)
        zv.segment(c0, cols) = rv.segment(c0, cols) - d->jac.middleCols(c0, cols).transpose() * w;
    });
  } else {
    zv = detail::cholesky_solve(d->factor, rv);
  }
  return 0;
}

void error_handler(int code, const char* module, const char* function, char* msg, void* user) {
  auto* d = static_cast<FlowData*>(user);
  // Warnings (code > 0, e.g. "t + h = t") are dropped; the first error message is kept.
  if (code < 0 && d->error.empty()) d->error = std::string(module) + "::" + function + ": " + msg;
}

// RAII owners of the SUNDIALS objects.
struct Sundials {
  SUNContext ctx = nullptr;
  N_Vector y = nullptr, ytmp = nullptr;
  SUNMatrix matrix = nullptr;
  SUNLinearSolver solver = nullptr;
  void* cvode = nullptr;
  ~Sundials() {
    if (cvode) CVodeFree(&cvode);
    if (solver) SUNLinSolFree(solver);
    if (matrix) SUNMatDestroy(matrix);
    if (y) N_VDestroy(y);
    if (ytmp) N_VDestroy(ytmp);
    if (ctx) SUNContext_Free(&ctx);
  }
};

}  // namespace

SolveResult solve_gradient_flow(FunctionRef objective, VectorXd x,
                                const GradientFlowOptions& options,
                                const IterationCallback& callback) {
  options.validate();
  objective.require_second_derivatives("gradient flow (CVODE's Newton iterations use -H)");
  objective.check_parameters(x, "theta0");
  detail::Monitor mon("flow", options.stop, options.record_trace, callback);
  EvaluationCounts& counts = mon.counts();
  const Eigen::Index n = x.size();

  LossGradient lg = mon.start(objective, x);
  SolveResult& res = mon.result();
  const bool want_trajectory = options.trajectory_points_per_decade > 0;
  if (want_trajectory) res.trajectory.push_back({0.0, lg.loss, max_norm(lg.gradient), x});
  if (mon.stopped()) return mon.finish();

  FlowData data;
  data.objective = &objective;
  data.counts = &counts;
  data.n = n;
  data.squared = objective.has_residuals();
  // automatic: the Gauss-Newton-preconditioned GMRES whenever the loss has residuals (measured
  // 9x faster than the dense Jacobian already at n = 281), else dense up to dense_max_params.
  const bool dense = options.linear_solver == FlowLinearSolver::dense ||
                     (options.linear_solver == FlowLinearSolver::automatic && !data.squared &&
                      n <= options.dense_max_params);
  data.iterative = !dense;

  Sundials s;
  auto fail_setup = [&](const char* what) {
    mon.stop_with(Status::integration_failed, std::string("CVODE setup failed in ") + what +
                                                  (data.error.empty() ? "" : ": " + data.error));
    return mon.finish();
  };
  if (SUNContext_Create(nullptr, &s.ctx) != 0) return fail_setup("SUNContext_Create");
  s.y = N_VNew_Serial(static_cast<sunindextype>(n), s.ctx);
  s.ytmp = N_VNew_Serial(static_cast<sunindextype>(n), s.ctx);
  if (!s.y || !s.ytmp) return fail_setup("N_VNew_Serial");
  view(s.y) = x;
  s.cvode = CVodeCreate(CV_BDF, s.ctx);
  if (!s.cvode) return fail_setup("CVodeCreate");
  CVodeSetErrHandlerFn(s.cvode, error_handler, &data);
  if (CVodeInit(s.cvode, rhs, 0.0, s.y) != CV_SUCCESS) return fail_setup("CVodeInit");
  CVodeSetUserData(s.cvode, &data);
  CVodeSStolerances(s.cvode, options.relative_tolerance, options.absolute_tolerance);
  if (std::isfinite(options.t_final)) CVodeSetStopTime(s.cvode, options.t_final);
  if (dense) {
    s.matrix = SUNDenseMatrix(static_cast<sunindextype>(n), static_cast<sunindextype>(n), s.ctx);
    s.solver = SUNLinSol_Dense(s.y, s.matrix, s.ctx);
    if (!s.matrix || !s.solver) return fail_setup("SUNLinSol_Dense");
    if (CVodeSetLinearSolver(s.cvode, s.solver, s.matrix) != CVLS_SUCCESS)
      return fail_setup("CVodeSetLinearSolver");
    CVodeSetJacFn(s.cvode, dense_jacobian);
  } else {
    s.solver = SUNLinSol_SPGMR(s.y, data.squared ? SUN_PREC_LEFT : SUN_PREC_NONE,
                               options.krylov_dimension, s.ctx);
    if (!s.solver) return fail_setup("SUNLinSol_SPGMR");
    if (CVodeSetLinearSolver(s.cvode, s.solver, nullptr) != CVLS_SUCCESS)
      return fail_setup("CVodeSetLinearSolver");
    CVodeSetJacTimes(s.cvode, jtimes_setup, jtimes);
    if (data.squared) CVodeSetPreconditioner(s.cvode, precondition_setup, precondition_solve);
  }

  // Next log-spaced output time.
  int next_output = 0;
  auto output_time = [&](int k) {
    return options.trajectory_t_first *
           std::pow(10.0, static_cast<double>(k) / options.trajectory_points_per_decade);
  };
  // In CV_ONE_STEP mode tout only sets the direction and the scale of the first step (CVODE
  // bounds h_0 by |tout - t_0| / 10): an infinite t_final must not become a huge tout.
  const double t_request = std::min(options.t_final, 1.0);
  double t = 0.0;
  for (int step = 1;; ++step) {
    const double t_previous = t;
    const int flag = CVode(s.cvode, t_request, s.y, &t, CV_ONE_STEP);
    if (flag < 0) {
      mon.stop_with(Status::integration_failed, "CVODE failed at t = " + format_number(t) + " (" +
                                                    CVodeGetReturnFlagName(flag) + ")" +
                                                    (data.error.empty() ? "" : ": " + data.error));
      break;
    }
    // Trajectory points passed by this step, interpolated by CVODE's dense output.
    if (want_trajectory) {
      for (double tk = output_time(next_output); tk <= t; tk = output_time(++next_output)) {
        if (tk <= t_previous) continue;
        if (CVodeGetDky(s.cvode, tk, 0, s.ytmp) != CV_SUCCESS) break;
        const VectorXd xk = view(s.ytmp);
        const LossGradient p = objective.loss_gradient(xk);
        ++counts.gradient;
        res.trajectory.push_back({tk, p.loss, max_norm(p.gradient), xk});
      }
    }
    const double moved = (view(s.y) - x).norm();
    x = view(s.y);
    lg = objective.loss_gradient(x);
    ++counts.gradient;
    IterationRecord rec;
    realtype h = 0.0;
    CVodeGetLastStep(s.cvode, &h);
    rec.step_size = h;
    rec.flow_time = t;
    rec.step_norm = moved;
    if (mon.after_iteration(step, x, lg.loss, max_norm(lg.gradient), rec)) break;
    if (flag == CV_TSTOP_RETURN || t >= options.t_final) {
      mon.stop_with(Status::final_time, "reached t_final = " + format_number(options.t_final) +
                                            " (loss = " + format_number(lg.loss) + ", |g|∞ = " +
                                            format_number(max_norm(lg.gradient)) + ")");
      break;
    }
  }
  if (want_trajectory && (res.trajectory.empty() || res.trajectory.back().time < t))
    res.trajectory.push_back({t, res.loss_final, res.gradient_max_norm, res.theta});
  return mon.finish();
}

}  // namespace locus::solvers
