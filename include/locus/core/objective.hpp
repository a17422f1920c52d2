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
//
// A full-data loss_gradient(theta) also keeps its forward and backward pass (when that state,
// about 5 d (sum of widths) doubles, fits in k_pass_cache_bytes): an hvp at the same theta, bit
// for bit, then runs only the R-passes, as PyTorch's retained graph does, and jacobian_product
// and jacobian_transpose_product skip their forward pass; all return the same bits as without
// the cache. Each copy of an Objective keeps its own; a call that finds it in use by another
// thread computes as if there were none.

#include <Eigen/Core>
#include <memory>
#include <mutex>
#include <span>
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

class HessianOperator;

class Objective {
 public:
  // Validates data, checks that its dimensions match the model's input and output widths.
  // The model is copied; the data are copied once into shared, read-only storage, which copies of
  // this Objective and every HessianOperator made from it reference (never copy again).
  // Throws std::invalid_argument naming the mismatch.
  Objective(const Mlp& model, const Dataset& data, LossSpec loss = {});
  // As above, sharing data without copying them (null data: std::invalid_argument).
  Objective(const Mlp& model, std::shared_ptr<const Dataset> data, LossSpec loss = {});
  ~Objective();
  Objective(const Objective&);
  Objective& operator=(const Objective&) = delete;

  const Mlp& model() const { return model_; }
  const Dataset& data() const { return *data_; }
  // The shared data (use_count() tells how many objectives and operators reference them).
  const std::shared_ptr<const Dataset>& shared_data() const { return data_; }
  const LossSpec& loss_spec() const { return loss_; }
  Index n_params() const { return model_.n_params(); }
  // Throws std::invalid_argument naming `what` unless theta has n_params() finite entries.
  void check_parameters(const Eigen::VectorXd& theta, std::string_view what) const {
    model_.check_parameters(theta, what);
  }
  // Number of residuals l*d (squared loss).
  Index n_residuals() const { return data_->size() * model_.output_dim(); }
  // Whether residuals() and jacobian() exist: the squared loss only (LeastSquaresProblem at run
  // time; FunctionRef reads it).
  bool has_residuals() const { return loss_.kind == LossKind::squared; }
  // The constant c (1 or 1/d); also c in L = c |r|^2 for the squared loss.
  double scale() const;
  double residual_scale() const { return scale(); }
  // The rounding level of |r|^2 at residuals r (length l*d, as residuals() returns): each r_i
  // carries an error of a few ulps of |f_i| + |y_i| (measured 1.7 ulps rms on a [10,200,1]
  // softplus network), so |r|^2 is uncertain by about sum_i 2 |r_i| 4 eps (|f_i| + |y_i|), with
  // f_i = r_i + y_i. Below it, differences of the loss are rounding noise. Cost O(l*d).
  double residual_rounding_level(const Eigen::VectorXd& r) const;

  // Cost: one forward pass (one GEMM per layer).
  double loss(const Eigen::VectorXd& theta) const;
  // L and grad L. Cost: a forward and a backward pass (3 GEMMs per layer).
  using LossGradient = locus::LossGradient;
  LossGradient loss_gradient(const Eigen::VectorXd& theta) const;
  Eigen::VectorXd gradient(const Eigen::VectorXd& theta) const;

  // The loss as a sum of d terms, one per data point: L = sum_i L_i with L_i = c |f_i - y_i|^2
  // (or c times point i's cross-entropy). n_terms() = d.
  Index n_terms() const { return data_->size(); }
  // (sum_{i in terms} L_i, its gradient) for a list of point indices (repeats allowed): a
  // mini-batch evaluated by indexing the shared data, no copy of the dataset (batch-sized
  // buffers only). Cost: forward + backward pass over |terms| points. Throws
  // std::invalid_argument for an empty list or an index outside [0, d).
  LossGradient loss_gradient_terms(const Eigen::VectorXd& theta,
                                   std::span<const Index> terms) const;

  // Residual vector r (length l*d), r[i*l + j] = f_theta(x_i)_j - y_ij. Squared loss only.
  Eigen::VectorXd residuals(const Eigen::VectorXd& theta) const;
  // J = dr/dtheta, (l*d) x n, rows ordered as residuals(). grad L = 2c J^T r. Cost O(l*d*n).
  Eigen::MatrixXd jacobian(const Eigen::VectorXd& theta) const;
  // The same into jac, which is resized only when its shape differs: a solver that forms J at
  // every step reuses one matrix (a fresh l d n block faults in every page again).
  void jacobian(const Eigen::VectorXd& theta, Eigen::MatrixXd& jac) const;
  // J J^T ((l*d) x (l*d), symmetric): the empirical neural tangent kernel on the data, and the
  // matrix of Levenberg-Marquardt's step when l*d < n. Formed layer by layer without J, as sums
  // of Hadamard products of per-layer Grams (src/core/dense_hessian.hpp): (l d)^2/2 sum_k (out_k +
  // in_k + 1) multiply-adds instead of (l d)^2 n/2, equal to J J^T up to rounding. Squared loss.
  Eigen::MatrixXd residual_gram(const Eigen::VectorXd& theta) const;
  // The same into g, which is resized only when its shape differs: a solver that forms J J^T at
  // every step reuses one matrix (a fresh (l d)^2 block faults in every page again).
  void residual_gram(const Eigen::VectorXd& theta, Eigen::MatrixXd& g) const;
  // J v (length l*d, ordered as residuals()) by one forward and one R-forward pass, and J^T u
  // (length n) by one forward and one backward pass, without forming J: O(d n) each. Squared
  // loss; std::invalid_argument for a vector of the wrong length.
  Eigen::VectorXd jacobian_product(const Eigen::VectorXd& theta, const Eigen::VectorXd& v) const;
  Eigen::VectorXd jacobian_transpose_product(const Eigen::VectorXd& theta,
                                             const Eigen::VectorXd& u) const;

  // H v with H = grad^2 L(theta), exact (forward-over-reverse, Pearlmutter 1994).
  // Cost: about 3x a gradient; about 2x right after loss_gradient at the same theta (see the top
  // of this file). For many products at one theta, HessianOperator caches the forward pass.
  Eigen::VectorXd hvp(const Eigen::VectorXd& theta, const Eigen::VectorXd& v) const;
  // Dense n x n Hessian, symmetric. <= 1 hidden layer: B^T B + block-sparse curvature by GEMMs,
  // l d n^2/2 multiply-adds (src/core/dense_hessian.hpp); deeper: n HVP columns. 8 n^2 bytes.
  Eigen::MatrixXd hessian(const Eigen::VectorXd& theta) const;
  // The Hessian at theta as a matrix-free operator with the forward pass cached (for many
  // products at one point); shares this objective's data. Cost: one loss-and-gradient.
  HessianOperator hessian_operator(const Eigen::VectorXd& theta) const;
  // Gauss-Newton matrix 2c J^T J (squared loss): equals the Hessian at a zero-loss point.
  // Cost: the Jacobian, then l d n^2 / 2 multiply-adds in fixed tiles over the threads (bitwise
  // identical for any thread count); memory 8 (n^2 + 2 l d n) bytes, checked
  // (io::MemoryLimitError).
  Eigen::MatrixXd gauss_newton(const Eigen::VectorXd& theta) const;

  // Throws std::invalid_argument unless the loss is the squared loss (for residual methods).
  void require_squared(std::string_view what) const;

  // The largest forward/backward state a loss_gradient keeps for a following hvp (bytes).
  static constexpr double k_pass_cache_bytes = 256.0 * (1 << 20);

 private:
  friend class HessianOperator;
  struct PassCache;
  // The cache when it holds the passes at theta bit for bit, with lock holding its mutex; else
  // null (lock released).
  const PassCache* cached_at(const Eigen::VectorXd& theta,
                             std::unique_lock<std::mutex>& lock) const;
  LossGradient loss_gradient_chunks(const Eigen::VectorXd& theta, const Index* rows,
                                    Index count) const;
  Mlp model_;
  std::shared_ptr<const Dataset> data_;
  LossSpec loss_;
  std::shared_ptr<PassCache> cache_;  // null when the state would exceed k_pass_cache_bytes
};

// y = H(theta) v for a fixed theta, matrix-free, with the forward pass cached at construction.
// Satisfies Spectra's OpType (rows, cols, perform_op). Memory: O(d * sum of widths) for the
// cached pass; the data are shared with the Objective (not copied).
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
  double loss() const;                      // L(theta), from the cached pass
  const Eigen::VectorXd& gradient() const;  // grad L(theta), from the cached pass

 private:
  struct State;
  std::unique_ptr<State> state_;
  Index n_ = 0;
};

// The MLP loss is the reference model of every concept of problem.hpp.
static_assert(TwiceDifferentiableFunction<Objective>);
static_assert(LeastSquaresProblem<Objective>);
static_assert(SumOfTerms<Objective>);
static_assert(SymmetricOperator<HessianOperator>);

}  // namespace locus
