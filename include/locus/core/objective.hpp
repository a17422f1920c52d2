#pragma once
// The loss of an MLP on a dataset and its exact derivatives.
//
//   locus::Objective obj(model, data);                 // L = sum_i |f_theta(x_i) - y_i|^2
//   double L = obj.loss(theta);
//   Eigen::VectorXd g = obj.gradient(theta);           // exact, one forward + one backward pass
//   Eigen::VectorXd hv = obj.hvp(theta, v);            // exact H v (Pearlmutter R-operator)
//   Eigen::MatrixXd J = obj.jacobian(theta);           // (l*d) x n residual Jacobian
//
// Everything is float64. Work is split over fixed chunks of data points (their size depends on d
// only) that OpenMP threads process in any order; the per-chunk partial results are then summed
// in chunk order, so every result is bitwise identical for any number of threads. Each thread
// keeps its chunk's activations and back-propagated errors (O(chunk * sum of widths) doubles) from
// call to call, so repeated evaluations make no layer-sized allocations.

#include <Eigen/Core>
#include <memory>
#include <string_view>

#include "locus/core/dataset.hpp"
#include "locus/core/mlp.hpp"
#include "locus/core/problem.hpp"

namespace locus {

enum class LossKind {
  squared,        // L = c * sum_i |f_i|^2 with residuals f_i = f_theta(x_i) - y_i
  cross_entropy,  // L = -c * sum_i sum_j y_ij log softmax(f_theta(x_i))_j   (y rows one-hot)
};
enum class Reduction {
  sum,   // c = 1 (the papers' convention)
  mean,  // c = 1/d
};
std::string_view to_string(LossKind k);
LossKind parse_loss_kind(std::string_view name);
std::string_view to_string(Reduction r);
Reduction parse_reduction(std::string_view name);

struct LossSpec {
  LossKind kind = LossKind::squared;
  Reduction reduction = Reduction::sum;
};

// Sets / reads the number of OpenMP threads locus uses (n >= 1). Results do not depend on it.
void set_num_threads(int n);
int num_threads();

class Objective {
 public:
  // Validates data, checks that its dimensions match the model's input and output widths, and
  // keeps references to neither: model and data are copied (data are read-only afterwards).
  // Throws std::invalid_argument naming the mismatch.
  Objective(const Mlp& model, const Dataset& data, LossSpec loss = {});
  ~Objective();
  Objective(const Objective&);
  Objective& operator=(const Objective&) = delete;

  const Mlp& model() const { return model_; }
  const Dataset& data() const { return data_; }
  const LossSpec& loss_spec() const { return loss_; }
  Index n_params() const { return model_.n_params(); }
  // Number of residuals l*d (squared loss).
  Index n_residuals() const { return data_.size() * model_.output_dim(); }
  // The constant c (1 or 1/d).
  double scale() const;

  // Cost: one forward pass (one GEMM per layer).
  double loss(const Eigen::VectorXd& theta) const;
  // L and grad L. Cost: a forward and a backward pass (3 GEMMs per layer).
  using LossGradient = locus::LossGradient;
  LossGradient loss_gradient(const Eigen::VectorXd& theta) const;
  Eigen::VectorXd gradient(const Eigen::VectorXd& theta) const;

  // Residual vector r (length l*d), r[i*l + j] = f_theta(x_i)_j - y_ij. Squared loss only.
  Eigen::VectorXd residuals(const Eigen::VectorXd& theta) const;
  // J = dr/dtheta, (l*d) x n, rows ordered as residuals(). grad L = 2c J^T r. Cost O(l*d*n).
  Eigen::MatrixXd jacobian(const Eigen::VectorXd& theta) const;

  // H v with H = grad^2 L(theta), exact (forward-over-reverse, Pearlmutter 1994).
  // Cost: about 3x a gradient. For many products at one theta, HessianOperator caches the
  // forward pass.
  Eigen::VectorXd hvp(const Eigen::VectorXd& theta, const Eigen::VectorXd& v) const;
  // The dense n x n Hessian, column by column from exact HVPs (columns in parallel), then
  // symmetrised (H + H^T)/2 (the two triangles agree to round-off). Cost: n HVPs, 8 n^2 bytes.
  Eigen::MatrixXd hessian(const Eigen::VectorXd& theta) const;
  // Gauss-Newton matrix 2c J^T J (squared loss): equals the Hessian at a zero-loss point.
  Eigen::MatrixXd gauss_newton(const Eigen::VectorXd& theta) const;

  // Throws std::invalid_argument unless the loss is the squared loss (for residual methods).
  void require_squared(std::string_view what) const;

 private:
  friend class HessianOperator;
  Mlp model_;
  Dataset data_;
  LossSpec loss_;
};

// y = H(theta) v for a fixed theta, matrix-free, with the forward pass cached at construction.
// Satisfies Spectra's OpType (rows, cols, perform_op). Memory: O(d * sum of widths).
class HessianOperator {
 public:
  using Scalar = double;
  HessianOperator(const Objective& objective, const Eigen::VectorXd& theta);
  ~HessianOperator();
  HessianOperator(HessianOperator&&) noexcept;
  Index rows() const { return n_; }
  Index cols() const { return n_; }
  // y = H v; v and y of length rows(). Cost: about 2x a gradient (forward pass reused).
  void perform_op(const double* v, double* y) const;
  Eigen::VectorXd apply(const Eigen::VectorXd& v) const;
  double loss() const;                       // L(theta), from the cached pass
  const Eigen::VectorXd& gradient() const;   // grad L(theta), from the cached pass

 private:
  struct State;
  std::unique_ptr<State> state_;
  Index n_ = 0;
};

// The MLP loss is the reference model of every concept of problem.hpp.
static_assert(TwiceDifferentiableFunction<Objective>);
static_assert(LeastSquaresProblem<Objective>);
static_assert(SymmetricOperator<HessianOperator>);

}  // namespace locus
