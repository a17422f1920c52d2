#include "locus/workflows/sard.hpp"

#include <stdexcept>
#include <string>

#include "locus/core/random.hpp"
#include "locus/solvers/levenberg_marquardt.hpp"

namespace locus::workflows {

void SardOptions::validate() const {
  auto bad = [](const char* f, double v) {
    throw std::invalid_argument(std::string("SardOptions.") + f + " = " + std::to_string(v) +
                                " is invalid");
  };
  if (!(epsilon > 0)) bad("epsilon", epsilon);
  if (!(start_radius >= 0)) bad("start_radius", start_radius);
  if (!(loss_tolerance >= 0)) bad("loss_tolerance", loss_tolerance);
}

SardCheck sard_check(const Objective& objective, const Eigen::VectorXd& theta,
                     const SardOptions& options) {
  options.validate();
  SardCheck s;
  s.epsilon = options.epsilon;
  s.n_residuals = objective.n_residuals();
  s.rank_before = analysis::analyze_jacobian(objective, theta).rank;
  // Labels first, then the start: the draw order fixes the outcome for a seed.
  Rng rng(options.seed);
  Dataset perturbed = objective.data();
  for (Index i = 0; i < perturbed.y.size(); ++i)
    perturbed.y.data()[i] += rng.uniform(-options.epsilon, options.epsilon);
  const Objective moved(objective.model(), perturbed, objective.loss_spec());
  Eigen::VectorXd start = theta;
  for (Index i = 0; i < start.size(); ++i)
    start[i] += rng.uniform(-options.start_radius, options.start_radius);
  const auto r = solvers::solve_levenberg_marquardt(
      moved, start,
      {.stop = {.gradient_tolerance = 0.0, .loss_tolerance = options.loss_tolerance}});
  s.theta_after = r.theta;
  s.loss_after = r.loss_final;
  s.jacobian_after = analysis::analyze_jacobian(moved, r.theta);
  s.rank_after = s.jacobian_after.rank;
  return s;
}

}  // namespace locus::workflows
