#pragma once
// The problem interface: what locus's algorithms need from a function, stated as C++20 concepts,
// and FunctionRef, the non-owning type-erased view through which every solver takes one.
// Solvers accept any type that models DifferentiableFunction: an MLP loss (Objective), a test
// function (Rosenbrock), the energy of a nudged elastic band, a curve objective, a Python
// callable behind a binding.
//
//   struct Rosenbrock {                                   // f(x) = (1 - x0)^2 + 100 (x1 - x0^2)^2
//     Eigen::Index n_params() const { return 2; }
//     double loss(const Eigen::VectorXd& x) const;
//     locus::LossGradient loss_gradient(const Eigen::VectorXd& x) const;
//     Eigen::VectorXd hvp(const Eigen::VectorXd& x, const Eigen::VectorXd& v) const;
//   };
//   static_assert(locus::TwiceDifferentiableFunction<Rosenbrock>);
//   auto r = locus::solvers::solve_newton(Rosenbrock{}, Eigen::Vector2d(-1.2, 1.0));
//
// Every member is const: evaluating a function never changes it, so one instance may be shared
// by threads and by the stages of a pipeline. A model owns (or shares) its data; the algorithms
// never copy them.

#include <Eigen/Core>
#include <cmath>
#include <concepts>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace locus {

using Index = Eigen::Index;

// f(x) and grad f(x), computed together (one forward and one backward pass for an MLP loss).
struct LossGradient {
  double loss = NAN;
  Eigen::VectorXd gradient;
};

// f : R^n -> R, once differentiable: n_params() = n, loss(x) = f(x), loss_gradient(x) = (f, grad
// f).
template <class F>
concept DifferentiableFunction = requires(const F& f, const Eigen::VectorXd& x) {
  { f.n_params() } -> std::convertible_to<Eigen::Index>;
  { f.loss(x) } -> std::convertible_to<double>;
  { f.loss_gradient(x).loss } -> std::convertible_to<double>;
  { f.loss_gradient(x).gradient } -> std::convertible_to<Eigen::VectorXd>;
};

// Adds the exact Hessian-vector product hvp(x, v) = grad^2 f(x) v.
template <class F>
concept TwiceDifferentiableFunction = DifferentiableFunction<F> &&
    requires(const F& f, const Eigen::VectorXd& x) {
  { f.hvp(x, x) } -> std::convertible_to<Eigen::VectorXd>;
};

// f(x) = c sum_k r_k(x)^2 with residuals r : R^n -> R^m: adds n_residuals() = m, residuals(x) =
// r(x) and jacobian(x) = dr/dx (m x n). c = residual_scale() when the model has that member,
// else 1. grad f = 2c J^T r; 2c J^T J is the Gauss-Newton matrix.
template <class F>
concept LeastSquaresProblem = DifferentiableFunction<F> &&
    requires(const F& f, const Eigen::VectorXd& x) {
  { f.n_residuals() } -> std::convertible_to<Eigen::Index>;
  { f.residuals(x) } -> std::convertible_to<Eigen::VectorXd>;
  { f.jacobian(x) } -> std::convertible_to<Eigen::MatrixXd>;
};

// f(x) = sum_{i < N} f_i(x), a sum of N = n_terms() terms (the data points of a loss), with
// loss_gradient_terms(x, idx) = (sum_{i in idx} f_i(x), its gradient) for a list of term indices
// (repeats allowed). Mini-batch SGD needs it; the model evaluates the batch from its own data.
template <class F>
concept SumOfTerms = DifferentiableFunction<F> &&
    requires(const F& f, const Eigen::VectorXd& x, std::span<const Eigen::Index> idx) {
  { f.n_terms() } -> std::convertible_to<Eigen::Index>;
  { f.loss_gradient_terms(x, idx) } -> std::convertible_to<LossGradient>;
};

// A symmetric linear operator y = A v on R^n, matrix-free: Spectra's OpType (rows, cols,
// perform_op on raw arrays of length rows()). HessianOperator models it.
template <class Op>
concept SymmetricOperator = requires(const Op& op, const double* v, double* y) {
  requires std::same_as<typename Op::Scalar, double>;
  { op.rows() } -> std::convertible_to<Eigen::Index>;
  { op.cols() } -> std::convertible_to<Eigen::Index>;
  op.perform_op(v, y);
};

// H = grad^2 f(x) at a fixed x as a SymmetricOperator, with f(x) and grad f(x) from the same
// evaluation: what Newton-CG, the critical-point solver and the gradient flow apply many times at
// one point. Made by FunctionRef::hessian_at; copies share the state (cheap).
class HessianAt {
 public:
  using Scalar = double;
  Eigen::Index rows() const { return gradient_.size(); }
  Eigen::Index cols() const { return rows(); }
  // y = H v, v and y of length rows(). Cost: one HVP of the model (MLP: ~2 gradients).
  void perform_op(const double* v, double* y) const { apply_(state_.get(), v, y); }
  // H v; throws std::invalid_argument when v has the wrong length.
  Eigen::VectorXd apply(const Eigen::VectorXd& v) const;
  double loss() const { return loss_; }                          // f(x)
  const Eigen::VectorXd& gradient() const { return gradient_; }  // grad f(x)

 private:
  friend class FunctionRef;
  std::shared_ptr<const void> state_;
  void (*apply_)(const void* state, const double* v, double* y) = nullptr;
  double loss_ = NAN;
  Eigen::VectorXd gradient_;
};

// A non-owning view of any DifferentiableFunction, implicitly constructible from one: solvers take
// `FunctionRef f` and are compiled once. The referenced function must outlive the view (a
// temporary passed straight to a solver call is fine; storing a view of a temporary dangles).
//
// Capabilities are detected from the model's members at construction:
//   hvp(x, v)                 second derivatives (TwiceDifferentiableFunction)
//   hessian(x)                dense Hessian; without it, assembled from n HVPs
//   hessian_operator(x)       a cached H at x with loss(), gradient() (MLP: HessianOperator)
//   residuals, jacobian       LeastSquaresProblem; has_residuals() (runtime, optional) may say no,
//                             residual_scale() (optional) gives c, residual_rounding_level(r)
//                             (optional) the rounding level of |r|^2, residual_gram(x)
//                             (optional) J J^T formed without J, jacobian_product(x, v) and
//                             jacobian_transpose_product(x, u) (optional, together) J v, J^T u
//   n_terms, loss_gradient_terms   SumOfTerms
//   check_parameters(x, what) (optional) the model's own check of a parameter vector
// A method that needs a missing capability throws std::invalid_argument naming the method and
// the missing member (require_*).
class FunctionRef {
 public:
  template <DifferentiableFunction F>
  requires(!std::same_as<std::remove_cvref_t<F>, FunctionRef>) FunctionRef(const F& f)
      : f_(&f), vt_(vtable_for<F>()) {}  // NOLINT: implicit by design

  Eigen::Index n_params() const { return vt_->n_params(f_); }
  double loss(const Eigen::VectorXd& x) const { return vt_->loss(f_, x); }
  LossGradient loss_gradient(const Eigen::VectorXd& x) const { return vt_->loss_gradient(f_, x); }

  // Throws std::invalid_argument naming `what` unless x has length n_params() and finite entries
  // (the model's check_parameters when it has one).
  void check_parameters(const Eigen::VectorXd& x, std::string_view what) const;

  // ---- second derivatives: exact HVP, dense Hessian, or both
  bool has_second_derivatives() const { return vt_->hvp || vt_->hessian; }
  // grad^2 f(x) v: the model's hvp, or hessian(x) v (O(n^2) after the Hessian) without one.
  Eigen::VectorXd hvp(const Eigen::VectorXd& x, const Eigen::VectorXd& v) const;
  // The dense n x n Hessian: the model's hessian(x), or n HVPs at a cached point, symmetrised
  // (H + H^T)/2. Cost: n HVPs and 8 n^2 bytes.
  Eigen::MatrixXd hessian(const Eigen::VectorXd& x) const;
  // H, f and grad f at x: the model's hessian_operator(x), else loss_gradient(x) plus hvp(x, .).
  HessianAt hessian_at(const Eigen::VectorXd& x) const;

  // ---- least squares: f = c |r|^2
  bool has_residuals() const {
    return vt_->residuals && (!vt_->has_residuals || vt_->has_residuals(f_));
  }
  Eigen::Index n_residuals() const;
  Eigen::VectorXd residuals(const Eigen::VectorXd& x) const;
  Eigen::MatrixXd jacobian(const Eigen::VectorXd& x) const;
  // The same into j (the model's jacobian(x, j) when it has one, which then reuses j's memory).
  void jacobian(const Eigen::VectorXd& x, Eigen::MatrixXd& j) const;
  // J J^T (m x m): the model's residual_gram(x) when it has one (an MLP loss forms it layer by
  // layer, far cheaper than J J^T when n is large), else from jacobian(x) (m^2 n / 2
  // multiply-adds).
  bool has_residual_gram() const { return vt_->residual_gram != nullptr; }
  Eigen::MatrixXd residual_gram(const Eigen::VectorXd& x) const;
  // The same into g (resized only when its shape differs; the model's residual_gram(x, g) when it
  // has one, which then reuses g's memory).
  void residual_gram(const Eigen::VectorXd& x, Eigen::MatrixXd& g) const;
  // J v and J^T u: the model's own products when it has them (an MLP loss: one forward and one
  // R-forward or backward pass, O(d n)), else through jacobian(x).
  bool has_jacobian_products() const { return vt_->jacobian_product != nullptr; }
  Eigen::VectorXd jacobian_product(const Eigen::VectorXd& x, const Eigen::VectorXd& v) const;
  Eigen::VectorXd jacobian_transpose_product(const Eigen::VectorXd& x,
                                             const Eigen::VectorXd& u) const;
  // c in f = c |r|^2 (1 unless the model says otherwise).
  double residual_scale() const { return vt_->residual_scale ? vt_->residual_scale(f_) : 1.0; }
  // The rounding level of |r|^2 at residuals r: below it, changes of |r|^2 are noise. The
  // model's own estimate when it has one (MLP: each r_i carries a few ulps of |f_i| + |y_i|),
  // else from the residuals alone, taking |r_i| as the size of each residual's terms:
  // sum_i 2 |r_i| 4 eps |r_i|.
  double residual_rounding_level(const Eigen::VectorXd& r) const;

  // ---- sums of terms
  bool has_terms() const { return vt_->n_terms != nullptr; }
  Eigen::Index n_terms() const;
  LossGradient loss_gradient_terms(const Eigen::VectorXd& x,
                                   std::span<const Eigen::Index> terms) const;

  // Throw std::invalid_argument "<method> needs <members> ..." when the capability is missing.
  void require_second_derivatives(std::string_view method) const;
  void require_residuals(std::string_view method) const;
  void require_terms(std::string_view method) const;

 private:
  using VectorXd = Eigen::VectorXd;
  using MatrixXd = Eigen::MatrixXd;
  // One table of function pointers per model type; null entries are missing capabilities.
  struct VTable {
    Eigen::Index (*n_params)(const void*);
    double (*loss)(const void*, const VectorXd&);
    LossGradient (*loss_gradient)(const void*, const VectorXd&);
    void (*check_parameters)(const void*, const VectorXd&, std::string_view);
    VectorXd (*hvp)(const void*, const VectorXd&, const VectorXd&);
    MatrixXd (*hessian)(const void*, const VectorXd&);
    HessianAt (*hessian_operator)(const void*, const VectorXd&);
    bool (*has_residuals)(const void*);
    Eigen::Index (*n_residuals)(const void*);
    VectorXd (*residuals)(const void*, const VectorXd&);
    void (*jacobian)(const void*, const VectorXd&, MatrixXd&);
    void (*residual_gram)(const void*, const VectorXd&, MatrixXd&);
    VectorXd (*jacobian_product)(const void*, const VectorXd&, const VectorXd&);
    VectorXd (*jacobian_transpose_product)(const void*, const VectorXd&, const VectorXd&);
    double (*residual_scale)(const void*);
    double (*residual_rounding_level)(const void*, const VectorXd&);
    Eigen::Index (*n_terms)(const void*);
    LossGradient (*loss_gradient_terms)(const void*, const VectorXd&,
                                        std::span<const Eigen::Index>);
  };

  // Wraps a model's cached Hessian operator (anything with perform_op, loss() and gradient()).
  template <class Op>
  static HessianAt wrap_operator(Op op) {
    HessianAt h;
    h.loss_ = op.loss();
    h.gradient_ = op.gradient();
    h.state_ = std::make_shared<const Op>(std::move(op));
    h.apply_ = [](const void* s, const double* v, double* y) {
      static_cast<const Op*>(s)->perform_op(v, y);
    };
    return h;
  }

  template <class F>
  static const F& as(const void* p) {
    return *static_cast<const F*>(p);
  }
  template <class F>
  static constexpr VTable make_vtable() {
    VTable t{};
    t.n_params = [](const void* p) { return Eigen::Index(as<F>(p).n_params()); };
    t.loss = [](const void* p, const VectorXd& x) { return double(as<F>(p).loss(x)); };
    t.loss_gradient = [](const void* p, const VectorXd& x) {
      auto lg = as<F>(p).loss_gradient(x);
      return LossGradient{lg.loss, std::move(lg.gradient)};
    };
    if constexpr (requires(const F& f, const VectorXd& x) { f.check_parameters(x, "x"); })
      t.check_parameters = [](const void* p, const VectorXd& x, std::string_view what) {
        as<F>(p).check_parameters(x, what);
      };
    if constexpr (TwiceDifferentiableFunction<F>)
      t.hvp = [](const void* p, const VectorXd& x, const VectorXd& v) {
        return VectorXd(as<F>(p).hvp(x, v));
      };
    if constexpr (requires(const F& f, const VectorXd& x) {
                    { f.hessian(x) } -> std::convertible_to<MatrixXd>;
                  })
      t.hessian = [](const void* p, const VectorXd& x) { return MatrixXd(as<F>(p).hessian(x)); };
    if constexpr (requires(const F& f, const VectorXd& x) {
                    requires SymmetricOperator<decltype(f.hessian_operator(x))>;
                    { f.hessian_operator(x).loss() } -> std::convertible_to<double>;
                    { f.hessian_operator(x).gradient() } -> std::convertible_to<VectorXd>;
                  })
      t.hessian_operator = [](const void* p, const VectorXd& x) {
        return wrap_operator(as<F>(p).hessian_operator(x));
      };
    if constexpr (LeastSquaresProblem<F>) {
      t.n_residuals = [](const void* p) { return Eigen::Index(as<F>(p).n_residuals()); };
      t.residuals = [](const void* p, const VectorXd& x) {
        return VectorXd(as<F>(p).residuals(x));
      };
      if constexpr (requires(const F& f, const VectorXd& x, MatrixXd& j) { f.jacobian(x, j); })
        t.jacobian = [](const void* p, const VectorXd& x, MatrixXd& j) { as<F>(p).jacobian(x, j); };
      else
        t.jacobian = [](const void* p, const VectorXd& x, MatrixXd& j) {
          j = as<F>(p).jacobian(x);
        };
      if constexpr (requires(const F& f, const VectorXd& x, MatrixXd& g) { f.residual_gram(x, g); })
        t.residual_gram = [](const void* p, const VectorXd& x, MatrixXd& g) {
          as<F>(p).residual_gram(x, g);
        };
      else if constexpr (requires(const F& f, const VectorXd& x) {
                           { f.residual_gram(x) } -> std::convertible_to<MatrixXd>;
                         })
        t.residual_gram = [](const void* p, const VectorXd& x, MatrixXd& g) {
          g = as<F>(p).residual_gram(x);
        };
      if constexpr (requires(const F& f, const VectorXd& x) {
                      { f.jacobian_product(x, x) } -> std::convertible_to<VectorXd>;
                      { f.jacobian_transpose_product(x, x) } -> std::convertible_to<VectorXd>;
                    }) {
        t.jacobian_product = [](const void* p, const VectorXd& x, const VectorXd& v) {
          return VectorXd(as<F>(p).jacobian_product(x, v));
        };
        t.jacobian_transpose_product = [](const void* p, const VectorXd& x, const VectorXd& u) {
          return VectorXd(as<F>(p).jacobian_transpose_product(x, u));
        };
      }
      if constexpr (requires(const F& f) {
                      { f.has_residuals() } -> std::convertible_to<bool>;
                    })
        t.has_residuals = [](const void* p) { return bool(as<F>(p).has_residuals()); };
      if constexpr (requires(const F& f) {
                      { f.residual_scale() } -> std::convertible_to<double>;
                    })
        t.residual_scale = [](const void* p) { return double(as<F>(p).residual_scale()); };
      if constexpr (requires(const F& f, const VectorXd& r) {
                      { f.residual_rounding_level(r) } -> std::convertible_to<double>;
                    })
        t.residual_rounding_level = [](const void* p, const VectorXd& r) {
          return double(as<F>(p).residual_rounding_level(r));
        };
    }
    if constexpr (SumOfTerms<F>) {
      t.n_terms = [](const void* p) { return Eigen::Index(as<F>(p).n_terms()); };
      t.loss_gradient_terms = [](const void* p, const VectorXd& x,
                                 std::span<const Eigen::Index> idx) {
        return LossGradient(as<F>(p).loss_gradient_terms(x, idx));
      };
    }
    return t;
  }
  template <class F>
  static const VTable* vtable_for() {
    static constexpr VTable table = make_vtable<F>();
    return &table;
  }

  const void* f_;
  const VTable* vt_;
};

}  // namespace locus
