#include "locus/dropout/mean_field_sgd.hpp"

#include <chrono>
#include <cmath>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "locus/core/objective.hpp"
#include "locus/core/random.hpp"
#include "locus/io/format.hpp"
#include "locus/transforms/surgery.hpp"

namespace locus::dropout {

using Eigen::MatrixXd;
using Eigen::VectorXd;
using options::OptionError;

namespace {

void require_mean_field(const Mlp& model, std::string_view what) {
  if (model.n_layers() < 2 || !model.spec().mean_field)
    throw std::invalid_argument(std::string(what) + " must be a mean-field network " +
                                "(at least one hidden layer, mean_field = true), got " +
                                model.describe() +
                                (model.spec().mean_field ? "" : " without mean-field scaling"));
}

// The step per parameter divided by alpha (see the header): h_1 for layer 1, h_K / h_{K-1} for
// the weights and h_K for the biases of a middle layer K, h_L for the output layer.
VectorXd rate_per_parameter(const Mlp& model) {
  const auto& h = model.spec().widths;
  const int n = model.n_layers();
  VectorXd rate(model.n_params());
  for (int k = 0; k < n; ++k) {
    const LayerSlice& s = model.layer(k);
    const double top = double(h[size_t(std::min(k + 1, n - 1))]);  // h_K, or h_L for the output
    const double weight = (k == 0 || k == n - 1) ? top : top / double(h[size_t(k)]);
    rate.segment(s.weight_offset, s.in * s.out).setConstant(weight);
    if (s.bias_offset >= 0) rate.segment(s.bias_offset, s.out).setConstant(top);
  }
  return rate;
}

// The SGD loop on batches of a stream of datasets: next_chunk() returns the points of the next
// `chunk` steps (chunk * batch_size rows, in the order they are visited).
template <class NextChunk>
MeanFieldSgdResult run_sgd(const Mlp& student, VectorXd theta, const MeanFieldSgdOptions& o,
                           Index chunk, NextChunk next_chunk, const ProgressCallback& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  MeanFieldSgdResult r;
  const double b = double(o.batch_size);
  // alpha * N for two layers: each neuron's gradient is O(1/N) (the output scale), the step moves
  // it by O(alpha); the multilayer rates of the header otherwise.
  const VectorXd rate = (o.step * rate_per_parameter(student)) / b;  // (alpha N) / b as before
  const std::int64_t tenth = std::max<std::int64_t>(1, o.steps / 10);
  double first_sum = 0.0, last_sum = 0.0;
  std::vector<Index> terms(static_cast<size_t>(o.batch_size));
  while (r.steps < o.steps) {
    const Index n_steps = std::min<Index>(chunk, o.steps - r.steps);
    const Objective objective(student, std::make_shared<const Dataset>(next_chunk(n_steps)));
    for (Index s = 0; s < n_steps; ++s, ++r.steps) {
      std::iota(terms.begin(), terms.end(), s * Index(o.batch_size));
      const LossGradient lg = objective.loss_gradient_terms(theta, terms);
      const VectorXd next = theta - rate.cwiseProduct(lg.gradient);
      if (!std::isfinite(lg.loss) || !next.allFinite()) {
        r.status = SgdStatus::diverged;
        r.message = "the batch loss or the parameters became non-finite at step " +
                    std::to_string(r.steps) + " (step too large?)";
        r.theta = theta;
        r.samples = r.steps * o.batch_size;
        r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        return r;
      }
      theta = next;
      if (r.steps < tenth) first_sum += lg.loss / b;
      if (r.steps >= o.steps - tenth) last_sum += lg.loss / b;
      report_progress(progress,
                      {.stage = "SGD", .done = r.steps + 1, .total = o.steps, .loss = lg.loss / b});
    }
  }
  r.message = std::to_string(r.steps) + " steps of size " + io::format_number(o.step) + " * N";
  r.theta = std::move(theta);
  r.samples = r.steps * o.batch_size;
  r.batch_loss_first = first_sum / double(tenth);
  r.batch_loss_last = last_sum / double(tenth);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

constexpr Index k_chunk_steps = 256;  // steps whose fresh samples are drawn at once

}  // namespace

void MeanFieldSgdOptions::validate() const {
  constexpr const char* owner = "MeanFieldSgdOptions";
  if (!(std::isfinite(step) && step > 0))
    throw OptionError(owner, "step", "must be finite and > 0");
  if (steps < 1) throw OptionError(owner, "steps", "must be >= 1");
  if (batch_size < 1) throw OptionError(owner, "batch_size", "must be >= 1");
}

const options::Table<MeanFieldSgdOptions>& mean_field_sgd_table() {
  using O = MeanFieldSgdOptions;
  static const auto t =
      options::Table<O>("MeanFieldSgdOptions")
          .add("step", "alpha: the update is alpha * N times the batch gradient", &O::step)
          .add("steps", "SGD steps", &O::steps)
          .add("batch_size", "samples per step", &O::batch_size)
          .add("seed", "seeds the fresh samples or the epoch order", &O::seed);
  return t;
}

std::string_view to_string(SgdStatus s) {
  return s == SgdStatus::completed ? "completed" : "diverged";
}

VectorXd mean_field_init(const Mlp& model, std::uint64_t seed) {
  if (model.n_layers() < 2)
    throw std::invalid_argument("mean_field_init needs a hidden layer, got " + model.describe());
  VectorXd theta = VectorXd::Zero(model.n_params());
  Rng rng(seed);
  const double w_std = 1.0 / std::sqrt(double(model.input_dim()));
  if (model.n_layers() > 2) {  // layer by layer, each weight matrix row-major
    for (int k = 0; k < model.n_layers(); ++k) {
      const LayerSlice& s = model.layer(k);
      // w ~ N(0, I/p); middle layers N(0, 1) / h_{K-1} (O(1) in mean-field units); output N(0, 1)
      const double std = k == 0 ? w_std : k == model.n_layers() - 1 ? 1.0 : 1.0 / double(s.in);
      for (Index i = 0; i < s.in * s.out; ++i) theta(s.weight_offset + i) = std * rng.normal();
    }
    return theta;
  }
  // Neuron by neuron (incoming weights, then outgoing), so width N is a prefix of width N' > N.
  for (Index j = 0; j < model.spec().widths[1]; ++j) {
    const auto at = transforms::neuron_indices(model, {1, j});
    for (Index i : at.incoming) theta(i) = w_std * rng.normal();
    for (Index i : at.outgoing) theta(i) = rng.normal();
  }
  return theta;
}

MeanFieldSgdResult train_online(const Mlp& student, VectorXd theta0, const Mlp& teacher,
                                const VectorXd& teacher_theta, const MeanFieldSgdOptions& options,
                                const ProgressCallback& progress) {
  options.validate();
  require_mean_field(student, "the student");
  student.check_parameters(theta0, "params");
  teacher.check_parameters(teacher_theta, "teacher parameters");
  if (teacher.input_dim() != student.input_dim() || teacher.output_dim() != student.output_dim())
    throw std::invalid_argument("the teacher " + teacher.describe() + " and the student " +
                                student.describe() + " differ in input or output width");
  Rng rng(options.seed);
  const Index p = student.input_dim();
  auto next_chunk = [&](Index n_steps) {
    Dataset d;
    d.x.resize(n_steps * options.batch_size, p);
    for (Index i = 0; i < d.x.rows(); ++i)  // row by row: the stream does not depend on chunking
      for (Index k = 0; k < p; ++k) d.x(i, k) = rng.normal();
    d.y = teacher.predict(teacher_theta, d.x);
    return d;
  };
  return run_sgd(student, std::move(theta0), options, k_chunk_steps, next_chunk, progress);
}

MeanFieldSgdResult train_epochs(const Mlp& student, VectorXd theta0, const Dataset& data,
                                const MeanFieldSgdOptions& options,
                                const ProgressCallback& progress) {
  options.validate();
  require_mean_field(student, "the student");
  student.check_parameters(theta0, "params");
  data.validate();
  if (data.input_dim() != student.input_dim() || data.output_dim() != student.output_dim())
    throw std::invalid_argument("the data (" + std::to_string(data.input_dim()) + " inputs, " +
                                std::to_string(data.output_dim()) + " outputs) do not fit " +
                                student.describe());
  // The visiting order: one seeded permutation per epoch, concatenated.
  std::vector<Index> order;
  std::uint64_t epoch = 0;
  auto next_chunk = [&](Index n_steps) {
    const Index rows = n_steps * options.batch_size;
    while (Index(order.size()) < rows) {
      const std::vector<Index> p = Rng(options.seed + epoch++).permutation(data.size());
      order.insert(order.end(), p.begin(), p.end());
    }
    Dataset d;
    d.x.resize(rows, data.input_dim());
    d.y.resize(rows, data.output_dim());
    for (Index i = 0; i < rows; ++i) {
      d.x.row(i) = data.x.row(order[size_t(i)]);
      d.y.row(i) = data.y.row(order[size_t(i)]);
    }
    order.erase(order.begin(), order.begin() + rows);
    return d;
  };
  return run_sgd(student, std::move(theta0), options, k_chunk_steps, next_chunk, progress);
}

io::Json to_json(const MeanFieldSgdResult& r) {
  return {{"status", std::string(to_string(r.status))},
          {"message", r.message},
          {"steps", r.steps},
          {"samples", r.samples},
          {"batch_loss_first", io::json_number(r.batch_loss_first)},
          {"batch_loss_last", io::json_number(r.batch_loss_last)},
          {"seconds", r.seconds}};
}

std::string summary(const MeanFieldSgdResult& r) {
  using io::format_number;
  return "mean-field SGD: " + std::string(to_string(r.status)) + ": " + r.message + "\nsteps " +
         std::to_string(r.steps) + ", samples " + std::to_string(r.samples) +
         ", batch loss (mean squared error) " + format_number(r.batch_loss_first) +
         " over the first tenth, " + format_number(r.batch_loss_last) + " over the last\n";
}

}  // namespace locus::dropout
