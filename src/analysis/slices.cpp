#include "locus/analysis/slices.hpp"

#include <stdexcept>

#include "linalg/random.hpp"

namespace locus::analysis {

using Eigen::VectorXd;

VectorXd filter_normalized_direction(const Mlp& model, const VectorXd& theta, std::uint64_t seed) {
  model.check_parameters(theta);
  Rng rng(seed);
  VectorXd d = VectorXd::Zero(model.n_params());
  for (int k = 0; k < model.n_layers(); ++k) {
    const LayerSlice& s = model.layer(k);
    for (Index o = 0; o < s.out; ++o) {
      auto row = d.segment(s.weight_offset + o * s.in, s.in);
      row = linalg::gaussian_vector(s.in, rng);
      const double target = theta.segment(s.weight_offset + o * s.in, s.in).norm();
      const double norm = row.norm();
      row *= norm > 0 ? target / norm : 0.0;
    }
  }
  return d;
}

LossSlice loss_slice_1d(const Objective& objective, const VectorXd& theta, const SliceOptions& o) {
  if (o.points < 2 || !(o.radius > 0))
    throw std::invalid_argument("SliceOptions: points >= 2 and radius > 0");
  const VectorXd d = filter_normalized_direction(objective.model(), theta, o.seed);
  LossSlice s;
  s.alpha = VectorXd::LinSpaced(o.points, -o.radius, o.radius);
  s.loss.resize(o.points, 1);
  for (int i = 0; i < o.points; ++i) s.loss(i, 0) = objective.loss(theta + s.alpha[i] * d);
  return s;
}

LossSlice loss_slice_2d(const Objective& objective, const VectorXd& theta, const SliceOptions& o) {
  if (o.points < 2 || !(o.radius > 0))
    throw std::invalid_argument("SliceOptions: points >= 2 and radius > 0");
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
