#pragma once
// The Shevchenko & Mondelli study (2020, "Landscape connectivity and dropout stability of SGD
// solutions for over-parameterized neural networks"; PAPERS.md section 3): two-layer mean-field
// networks y_N(x) = (1/N) sum_i a_i tanh(w_i . x) trained by one-pass SGD (step alpha * N) on
// fresh Gaussian samples of a teacher, all losses mean squared errors, at widths N from 100 up,
// several seeds, two networks per seed. Measured on a held-out set: the dropout error |L_N(theta) -
// L_M(theta_A)| against N and M = N/8, N/4, N/2 (random keep sets), the 7-segment path between the
// two networks of a seed with its typed segments re-evaluated, its excess against max(eps_D), and
// the straight line's barrier. The same on a built-in classification dataset (one-hot targets,
// squared loss, epochs). Claims:
//   segments_typed          every segment of every path is of its type (output-weight segments
//                           never above their ends, silent ones flat, to 1e-12 relative) and
//                           the path's excess is <= max(eps_D(theta; A), eps_D(theta'; A))
//   dropout_error_vanishes  the mean dropout error at M = N/2 falls at least like
//                           (N_first / N)^decay_exponent from the first width to the last
//   path_excess_vanishes    the mean path excess falls likewise
//   line_barrier_persists   the straight line's barrier at the last width is at least half the
//                           first width's, and 10 times the path's excess there
//   independent_neurons     for i.i.d. neurons (the initialisation), the mean loss of a kept
//                           subnetwork of fixed size M does not depend on N (3 standard errors)
//
//   locus::studies::ShevchenkoMondelliStudyOptions o;
//   o.widths = "100,200,400,800,1600,3200,6400";   // the full sizes
//   const locus::studies::StudyResult r = locus::studies::run_shevchenko_mondelli_study(o);

#include <cstdint>
#include <string>

#include "locus/core/options.hpp"
#include "locus/studies/study.hpp"

namespace locus::studies {

// Options of the Shevchenko-Mondelli study. The defaults take about a minute on one core; the
// full sizes are widths = 100,...,6400.
struct ShevchenkoMondelliStudyOptions {
  std::uint64_t seed = 1;          // seeds the teacher, the initialisations, samples, keep sets
  std::int64_t input_dim = 8;      // p
  std::int64_t teacher_width = 4;  // hidden neurons of the teacher [p, k, 1] tanh
  std::string widths = "100,200,400,800";  // student widths N (even, >= 16, increasing)
  std::int64_t seeds = 5;                  // seeds per width; two networks per seed
  std::int64_t steps = 4000;               // one-pass SGD steps per network
  double step = 0.5;                       // alpha (the update is alpha * N times the gradient)
  std::int64_t batch_size = 8;             // fresh samples per step
  std::int64_t test_points = 1000;         // held-out points on which every loss is measured
  std::int64_t keep_samples = 10;          // random keep sets per network and M
  std::int64_t fixed_kept = 50;       // M of the independent-neurons check (<= the first width)
  std::string dataset = "wine";       // built-in classification dataset ("" to skip it)
  std::int64_t dataset_steps = 4000;  // SGD steps on the dataset (epochs over 2/3 of it)
  double decay_exponent = 0.5;        // dropout error and excess fall like N^-this at least

  // Throws options::OptionError naming the field.
  void validate() const;
};
const options::Table<ShevchenkoMondelliStudyOptions>& shevchenko_mondelli_study_options_table();

StudyResult run_shevchenko_mondelli_study(const ShevchenkoMondelliStudyOptions& options);
Study shevchenko_mondelli_study();

}  // namespace locus::studies
