#pragma once
// The Li, Ding & Sun study (PAPERS.md §2; studies/li-ding-sun/README.md): sub-optimal basins
// disappear once the last hidden layer is as wide as the data set. Claims:
//   narrow_suboptimal_strict  at a width < N multistart finds and certifies a strict minimum
//                             above the lowest loss of the same net (scalar-input problem)
//   no_strict_at_width_n      at widths >= N no run is certified a strict minimum (both
//                             problems); above N every run has l (h - rank Phi) >= h - N exact
//                             flat output directions
//   descent_to_zero           a narrow sub-optimal minimum embedded at width N (zero-output
//                             neurons) descends to loss <= 1e-20 and the loss never increases
//   split_saddle              splitting a narrow strict minimum into a wider net gives a saddle
//
//   locus::studies::LiDingSunStudyOptions o;
//   o.real_seeds = 2;
//   const locus::studies::StudyResult r = locus::studies::run_li_ding_sun_study(o);

#include <cstdint>
#include <string>

#include "locus/core/options.hpp"
#include "locus/studies/study.hpp"

namespace locus::studies {

// Options of the study. The defaults take about 20 s on one core (the sweeps dominate).
struct LiDingSunStudyOptions {
  std::uint64_t seed = 0;                   // first seed of every sweep
  std::string scalar_widths = "1,2,8,10";   // the scalar problem (N = 8): widths of [1, h, 1]
  std::int64_t scalar_seeds = 10;           // runs per width
  std::string real_dataset = "iris";        // a built-in dataset, standardized, scalar label
  std::int64_t real_points = 12;            // N: its data_seed-seeded subset
  std::string real_widths = "1,2,3,12,14";  // widths of [p, h, 1]
  std::int64_t real_seeds = 6;
  std::int64_t adam_iterations = 2000;  // per run, before the Newton polish
  std::int64_t polish_iterations = 200;
  double suboptimal_gap = 1e-8;  // sub-optimal: L - L_best > this * max(1, L_best)
  // Throws options::OptionError naming the field.
  void validate() const;
};
const options::Table<LiDingSunStudyOptions>& li_ding_sun_study_options_table();

StudyResult run_li_ding_sun_study(const LiDingSunStudyOptions& options);
Study li_ding_sun_study();

}  // namespace locus::studies
