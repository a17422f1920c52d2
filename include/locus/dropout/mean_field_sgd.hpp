#pragma once
// One-pass SGD in the mean-field regime (Mei, Montanari & Nguyen 2018; Shevchenko & Mondelli
// 2020): the two-layer net y_N(x) = (1/N) sum_i a_i sigma(w_i . x) (+ biases when the spec has
// them; MlpSpec::mean_field = true), trained on the squared error with steps
//
//   theta <- theta - alpha * N * grad_theta (1/b) sum_{batch} |y_N(x_j) - y_j|^2,
//
// the mean-field step-size scaling: each neuron's gradient is O(1/N), so alpha * N times it moves
// every neuron by O(alpha), and the empirical distribution of the neurons follows the N-independent
// mean-field PDE.
//
// Deeper nets (two or more hidden layers, e.g. [p, N1, N2, 1]) follow the multilayer mean-field
// scaling of Nguyen & Pham 2020 ("A rigorous framework for the mean field limit of multilayer
// neural networks", which Shevchenko & Mondelli cite for their multilayer nets):
//   y(x) = (1/N2) sum_j a_j sigma(h_j(x)),  h_j(x) = (1/N1) sum_i U_ji sigma(w_i . x) + c_j,
// with every mean-field weight (w, U, a) O(1). The Mlp stores the middle layer as W_2 = U / N1
// (its forward pass has no 1/N1), so dropout's rescaling of outgoing weights by N1/M1 keeps its
// meaning. Mean-field SGD moves w_i by alpha N1 grad_w, U_ji by alpha N1 N2 grad_U, c_j and a_j
// by alpha N2 grad (each mean-field weight by O(alpha)); in the stored parameters the step is
//   layer 1 (w, b_1):  alpha * N1 * grad     middle weights W_K:  alpha * (N_K / N_{K-1}) * grad
//   middle biases b_K: alpha * N_K * grad    output layer (a, b): alpha * N_L * grad
// (for one hidden layer every step is alpha * N, as above). Two data sources: fresh samples
// x ~ N(0, I_p) labelled by a teacher network
// (each sample used once), or epochs over a dataset (a seeded permutation per epoch).
//
//   locus::Mlp student({.widths = {10, 400, 1}, .activation = locus::Activation::tanh,
//                       .bias = {false, false}, .mean_field = true});
//   Eigen::VectorXd theta0 = locus::dropout::mean_field_init(student, 1);
//   auto r = locus::dropout::train_online(student, theta0, teacher, teacher_theta,
//                                         {.step = 0.5, .steps = 4000, .seed = 1});
//
// Divergence ends with Status non_finite-like status `diverged` and theta at the last finite
// iterate; it never throws.

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <string_view>

#include "locus/core/dataset.hpp"
#include "locus/core/mlp.hpp"
#include "locus/core/options.hpp"
#include "locus/core/progress.hpp"
#include "locus/io/json.hpp"

namespace locus::dropout {

struct MeanFieldSgdOptions {
  double step = 0.5;            // alpha; the update is alpha * N times the batch gradient (above)
  std::int64_t steps = 4000;    // SGD steps (online: steps * batch_size fresh samples)
  std::int64_t batch_size = 8;  // samples per step (the gradient is of their mean squared error)
  std::uint64_t seed = 0;       // seeds the fresh samples or the epoch permutations

  // Throws options::OptionError naming the field: step not finite and > 0, steps < 1,
  // batch_size < 1.
  void validate() const;
};
const options::Table<MeanFieldSgdOptions>& mean_field_sgd_table();

enum class SgdStatus {
  completed,  // every step was taken
  diverged,   // the loss or the parameters became NaN/inf; theta is the last finite iterate
};
std::string_view to_string(SgdStatus s);

struct MeanFieldSgdResult {
  SgdStatus status = SgdStatus::completed;
  std::string message;
  Eigen::VectorXd theta;
  std::int64_t steps = 0;    // steps taken
  std::int64_t samples = 0;  // samples seen (with repeats over epochs)
  // Mean squared error of the batches averaged over the first and the last tenth of the steps
  // (a running training loss; the held-out loss is the caller's to measure).
  double batch_loss_first = NAN, batch_loss_last = NAN;
  double seconds = 0.0;
};

// Mean-field initialisation with independent, identically distributed neurons: incoming weights
// w_i ~ N(0, I_p / p), hidden biases 0, output weights a_i ~ N(0, 1), output bias 0 (neuron by
// neuron, so the first N neurons are the same for every width). Deeper nets: w ~ N(0, I_p / p),
// middle weights U ~ N(0, 1) stored as W_K = U / h_{K-1}, output weights ~ N(0, 1), biases 0,
// drawn layer by layer (no prefix property). Throws std::invalid_argument for a model without a
// hidden layer.
Eigen::VectorXd mean_field_init(const Mlp& model, std::uint64_t seed);

// Fresh samples each step: x ~ N(0, I_p), y = teacher(x). Cost per step: a forward and a
// backward pass over batch_size points (O(batch_size * n)). Throws std::invalid_argument when
// the student is not a mean-field net, the teacher's input or output width differs, or
// theta0 / teacher_theta have the wrong length; for invalid options. progress gets "SGD" with
// the steps done out of steps and the batch's mean squared error after each step.
MeanFieldSgdResult train_online(const Mlp& student, Eigen::VectorXd theta0, const Mlp& teacher,
                                const Eigen::VectorXd& teacher_theta,
                                const MeanFieldSgdOptions& options = {},
                                const ProgressCallback& progress = {});
// Epochs over `data` in seeded random order (the epoch's permutation from seed + epoch), batches
// of batch_size consecutive points of it. Throws as train_online (and for data whose widths do
// not match the student). progress as train_online.
MeanFieldSgdResult train_epochs(const Mlp& student, Eigen::VectorXd theta0, const Dataset& data,
                                const MeanFieldSgdOptions& options = {},
                                const ProgressCallback& progress = {});

// {"status", "message", "steps", "samples", "batch_loss_first", "batch_loss_last", "seconds"}
// (theta is not included).
io::Json to_json(const MeanFieldSgdResult& r);
// "mean-field SGD: completed: <message>", then steps, samples and the batch losses.
std::string summary(const MeanFieldSgdResult& r);

}  // namespace locus::dropout
