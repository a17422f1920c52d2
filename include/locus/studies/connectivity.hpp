#pragma once
// The connectivity study (mode connectivity; Garipov et al. 2018, Draxler et al. 2018, Ainsworth
// et al. 2023): two minima of the same architecture trained from different seeds on a built-in
// real dataset, joined by the straight line, the straight line after weight-matching alignment, a
// fitted quadratic Bezier curve and a nudged elastic band (its climbing image refined to a
// critical point), at two or more hidden widths. Claims:
//   alignment_exact       the aligned network computes the same function as the original
//   curve_below_line      a fitted Bezier curve's barrier is far below the straight line's, and
//                         its reported maximum matches an independent evaluation of the curve
//   neb_below_line        the band's barrier is at most the straight line's
//                         (on these overparameterized nets the minima are joined at near-zero
//                         loss: there is no saddle for the climbing image, and the band's state
//                         is reported in the barriers table, not claimed)
//   barrier_falls         the straight line's barrier after alignment falls with width
//   neb_saddle            (acceptance 4 of issue 12) between two copies of a certified minimum
//                         on the same real inputs (a teacher labels them; hidden neurons 0 and 1
//                         swapped), the band's climbing image refines to
//                         |grad L|_inf <= 1e-10 max(1, |L|), a saddle with its Hessian index
//                         (dense spectrum, tolerance and gap), and the band's barrier top is
//                         the saddle's loss
//
//   locus::studies::ConnectivityStudyOptions o;
//   o.widths = "16,64";
//   const locus::studies::StudyResult r = locus::studies::run_connectivity_study(o);

#include <cstdint>
#include <string>

#include "locus/core/options.hpp"
#include "locus/core/progress.hpp"
#include "locus/studies/study.hpp"

namespace locus::studies {

// Options of the connectivity study. The defaults (iris, 30 points, widths 16 and 64) take a few
// seconds on 2 cores.
struct ConnectivityStudyOptions {
  std::uint64_t seed = 1;        // minimum A from seed, B from seed + 1; the data subset
  std::string dataset = "iris";  // a built-in dataset (standardised, one-hot labels)
  std::int64_t points = 30;      // data points d
  std::string widths = "16,64";  // hidden widths, one hidden layer each
  std::string activation = "tanh";
  std::int64_t neb_images = 9;
  std::int64_t neb_iterations = 5000;  // band optimizer iterations at most
  double curve_ratio = 0.1;            // curve_below_line: curve barrier <= this * line barrier
  // neb_saddle: a teacher [p, saddle_width, 1] (normal initialisation, seed) labels the same
  // real rows; a band of saddle_images images (at most saddle_iterations FIRE iterations) joins
  // it to its copy with hidden neurons 0 and 1 swapped.
  std::int64_t saddle_width = 3;
  std::int64_t saddle_images = 9;
  std::int64_t saddle_iterations = 3000;

  // Throws options::OptionError naming the field.
  void validate() const;
};
const options::Table<ConnectivityStudyOptions>& connectivity_study_options_table();

// `progress` gets the study's steps (which one, k of n) as each starts.
StudyResult run_connectivity_study(const ConnectivityStudyOptions& options,
                                   const ProgressCallback& progress = {});
Study connectivity_study();

}  // namespace locus::studies
