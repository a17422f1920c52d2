#pragma once
// The zero-loss swap path of Simsek et al. checked on data: the loss along every segment of
// symmetry::swap_path's polyline beside the loss along the straight line between the same two
// permuted minima.
//
//   auto s = locus::symmetry::swap_path(teacher, theta, {{.layer = 1, .i = 0, .j = 1}});
//   locus::Objective loss(s.model, data);            // y = the teacher's outputs
//   auto c = locus::workflows::check_swap_path(loss, s);
//   // c.path_loss_max <= 1e-20 while c.line.barriers.above_larger_end is clearly > 0

#include <Eigen/Core>
#include <string>
#include <vector>

#include "locus/core/objective.hpp"
#include "locus/io/json.hpp"
#include "locus/paths/path.hpp"
#include "locus/symmetry/swap_path.hpp"

namespace locus::workflows {

struct SwapSegmentCheck {
  symmetry::SwapSegment segment;
  double loss_max = 0.0;  // the largest loss found on the segment (grid plus refinement)
  double t_max = 0.0;     // where, as a fraction of the segment
};

struct SwapPathCheck {
  std::vector<SwapSegmentCheck> segments;
  double loss_start = NAN, loss_end = NAN;  // at the two permuted minima
  double path_loss_max = NAN;               // max over the segments
  paths::LossProfile line;                  // the straight line start -> end, refined at its max
  // The polyline and the line sampled at the same t (uniform per segment of the polyline):
  Eigen::VectorXd t, loss_path, loss_line;
};

// Profiles every segment of `path` (a polyline with one Path::line per segment, options as
// given) and the straight line between its ends; samples both at `samples_per_segment` points per
// segment for a figure. Cost: (7 s) (options.points + refinements) + the line's profile + 2 x the
// samples loss evaluations. Throws std::invalid_argument when the objective's n_params differs
// from the path's, or on invalid options; io::MemoryLimitError when the samples would exceed the
// memory limit. progress gets "swap segments" k/segments after each segment's profile, then
// "samples" k/samples after each pair of sampled losses.
SwapPathCheck check_swap_path(const Objective& objective, const symmetry::SwapPath& path,
                              const paths::ProfileOptions& options = {},
                              int samples_per_segment = 16, const ProgressCallback& progress = {});

// {"loss_start", "loss_end", "path_loss_max", "segments": [{"kind", "layer", "neuron", "from",
//  "loss_max", "t_max"}], "line": paths::to_json(line) without its samples}.
io::Json to_json(const SwapPathCheck& c);
// Two lines: the path's maximum over its segments and the straight line's barrier.
std::string summary(const SwapPathCheck& c);

}  // namespace locus::workflows
