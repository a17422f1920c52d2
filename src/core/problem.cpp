#include "locus/core/problem.hpp"

#include <limits>
#include <stdexcept>
#include <string>

#include "finite.hpp"

namespace locus {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

VectorXd HessianAt::apply(const VectorXd& v) const {
  if (v.size() != rows())
    throw std::invalid_argument("HessianAt: vector has length " + std::to_string(v.size()) +
                                ", expected " + std::to_string(rows()));
  VectorXd y(rows());
  perform_op(v.data(), y.data());
  return y;
}

void FunctionRef::check_parameters(const VectorXd& x, std::string_view what) const {
  if (vt_->check_parameters) return vt_->check_parameters(f_, x, what);
  if (x.size() != n_params())
    throw std::invalid_argument(std::string(what) + " has length " + std::to_string(x.size()) +
                                " but the function has " + std::to_string(n_params()) +
                                " parameters");
  if (const Index i = detail::first_non_finite(x.data(), x.size()); i >= 0)
    throw std::invalid_argument(std::string(what) + " has a non-finite entry at index " +
                                std::to_string(i));
}

void FunctionRef::require_second_derivatives(std::string_view method) const {
  if (!has_second_derivatives())
    throw std::invalid_argument(std::string(method) +
                                " needs second derivatives: the function has neither hvp(x, v) "
                                "nor hessian(x)");
}

void FunctionRef::require_residuals(std::string_view method) const {
  if (!vt_->residuals)
    throw std::invalid_argument(std::string(method) +
                                " needs residuals(x) and jacobian(x) (a LeastSquaresProblem): the "
                                "function has no residuals member");
  if (!has_residuals())
    throw std::invalid_argument(std::string(method) +
                                " needs residuals: the function's has_residuals() is false (an MLP "
                                "loss has residuals only with the squared loss)");
}

void FunctionRef::require_terms(std::string_view method) const {
  if (!has_terms())
    throw std::invalid_argument(std::string(method) +
                                " needs a sum of terms: the function has no n_terms() and "
                                "loss_gradient_terms(x, terms) members (SumOfTerms)");
}

VectorXd FunctionRef::hvp(const VectorXd& x, const VectorXd& v) const {
  require_second_derivatives("hvp");
  if (vt_->hvp) return vt_->hvp(f_, x, v);
  if (v.size() != n_params())
    throw std::invalid_argument("the vector v of the Hessian-vector product has length " +
                                std::to_string(v.size()) + ", expected " +
                                std::to_string(n_params()));
  return vt_->hessian(f_, x) * v;
}

HessianAt FunctionRef::hessian_at(const VectorXd& x) const {
  require_second_derivatives("hessian_at");
  if (vt_->hessian_operator) return vt_->hessian_operator(f_, x);
  HessianAt h;
  LossGradient lg = loss_gradient(x);
  h.loss_ = lg.loss;
  h.gradient_ = std::move(lg.gradient);
  if (vt_->hvp) {
    // The point and the view: each product is one call of the model's hvp.
    struct State {
      FunctionRef f;
      VectorXd x;
    };
    h.state_ = std::make_shared<const State>(State{*this, x});
    h.apply_ = [](const void* s, const double* v, double* y) {
      const auto& st = *static_cast<const State*>(s);
      const Index n = st.x.size();
      Eigen::Map<VectorXd>(y, n) = st.f.vt_->hvp(st.f.f_, st.x, Eigen::Map<const VectorXd>(v, n));
    };
  } else {
    // Only a dense Hessian: form it once, then each product is a matrix-vector product.
    h.state_ = std::make_shared<const MatrixXd>(vt_->hessian(f_, x));
    h.apply_ = [](const void* s, const double* v, double* y) {
      const auto& m = *static_cast<const MatrixXd*>(s);
      Eigen::Map<VectorXd>(y, m.rows()).noalias() = m * Eigen::Map<const VectorXd>(v, m.cols());
    };
  }
  return h;
}

MatrixXd FunctionRef::hessian(const VectorXd& x) const {
  require_second_derivatives("hessian");
  if (vt_->hessian) return vt_->hessian(f_, x);
  const HessianAt op = hessian_at(x);
  const Index n = n_params();
  MatrixXd h(n, n);
  VectorXd e = VectorXd::Zero(n);
  for (Index j = 0; j < n; ++j) {
    e[j] = 1.0;
    op.perform_op(e.data(), h.col(j).data());
    e[j] = 0.0;
  }
  // The exact Hessian is symmetric; HVP columns agree with rows to round-off only.
  MatrixXd sym = 0.5 * (h + h.transpose());
  return sym;
}

Index FunctionRef::n_residuals() const {
  require_residuals("n_residuals");
  return vt_->n_residuals(f_);
}
VectorXd FunctionRef::residuals(const VectorXd& x) const {
  require_residuals("residuals");
  return vt_->residuals(f_, x);
}
MatrixXd FunctionRef::jacobian(const VectorXd& x) const {
  MatrixXd j;
  jacobian(x, j);
  return j;
}
void FunctionRef::jacobian(const VectorXd& x, MatrixXd& j) const {
  require_residuals("jacobian");
  vt_->jacobian(f_, x, j);
}

MatrixXd FunctionRef::residual_gram(const VectorXd& x) const {
  MatrixXd g;
  residual_gram(x, g);
  return g;
}
void FunctionRef::residual_gram(const VectorXd& x, MatrixXd& g) const {
  require_residuals("residual_gram");
  if (vt_->residual_gram) {
    vt_->residual_gram(f_, x, g);
    return;
  }
  const MatrixXd j = jacobian(x);
  g.setZero(j.rows(), j.rows());
  g.selfadjointView<Eigen::Lower>().rankUpdate(j);
  g.triangularView<Eigen::StrictlyUpper>() = g.transpose();
}
VectorXd FunctionRef::jacobian_product(const VectorXd& x, const VectorXd& v) const {
  require_residuals("jacobian_product");
  if (vt_->jacobian_product) return vt_->jacobian_product(f_, x, v);
  const MatrixXd j = jacobian(x);
  if (v.size() != j.cols())
    throw std::invalid_argument("jacobian_product: v has length " + std::to_string(v.size()) +
                                ", expected " + std::to_string(j.cols()));
  return j * v;
}
VectorXd FunctionRef::jacobian_transpose_product(const VectorXd& x, const VectorXd& u) const {
  require_residuals("jacobian_transpose_product");
  if (vt_->jacobian_transpose_product) return vt_->jacobian_transpose_product(f_, x, u);
  const MatrixXd j = jacobian(x);
  if (u.size() != j.rows())
    throw std::invalid_argument("jacobian_transpose_product: u has length " +
                                std::to_string(u.size()) + ", expected " +
                                std::to_string(j.rows()));
  return j.transpose() * u;
}
double FunctionRef::residual_rounding_level(const VectorXd& r) const {
  if (vt_->residual_rounding_level) return vt_->residual_rounding_level(f_, r);
  constexpr double ulps = 4.0 * std::numeric_limits<double>::epsilon();
  return 2.0 * ulps * r.squaredNorm();
}

Index FunctionRef::n_terms() const {
  require_terms("n_terms");
  return vt_->n_terms(f_);
}
LossGradient FunctionRef::loss_gradient_terms(const VectorXd& x,
                                              std::span<const Index> terms) const {
  require_terms("loss_gradient_terms");
  return vt_->loss_gradient_terms(f_, x, terms);
}

}  // namespace locus
