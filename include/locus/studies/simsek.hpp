#pragma once
// The Simsek study (PAPERS.md §4; studies/simsek/README.md): the symmetry-induced structure of
// overparameterized two-layer networks, computed on their teacher. Claims:
//   counts                T(r, m), T_groups(r, m) equal the number of maps enumerated one by one
//   pieces_zero_loss      a point of every piece Gamma(phi) has zero loss (m = r .. r + 2)
//   components            the union of the pieces has r! components at m = r, 1 at m >= r + 1
//   saddles_vs_minima     G(r-1, m) > T(r, m) for small h = m - r, < for large h
//   swap_path             a 7-segment path through one extra neuron swaps two teacher neurons at
//                         zero loss; the straight line between the two minima has a barrier
//   deep_swap_path        the same in a deep net with one extra neuron per layer
//   split_critical        a split critical point stays critical with >= m - r zero eigenvalues
//   split_saddle          a strict minimum of the narrow net becomes a saddle when split
//   zero_type_breaks      adding a zero-type neuron instead breaks criticality
//   students_on_manifold  trained students at zero loss lie on a piece of the expansion manifold
//   wider_fits_better     wider students end at lower loss (median over seeds)
//   narrow_certified      narrow students that miss zero loss end at certified critical points
//
//   locus::studies::SimsekStudyOptions o;
//   o.students_widths = "4,5";
//   const locus::studies::StudyResult r = locus::studies::run_simsek_study(o);

#include <cstdint>
#include <string>

#include "locus/core/options.hpp"
#include "locus/core/progress.hpp"
#include "locus/studies/study.hpp"

namespace locus::studies {

// Options of the Simsek study. The defaults take about a minute on 2 cores (the students'
// training dominates); the paper's 50 seeds per width are students_seeds = 50.
struct SimsekStudyOptions {
  std::uint64_t seed = 1;
  std::int64_t count_m_max = 60;  // counts and the saddle/minimum ratio for m = r .. this
  std::int64_t brute_r_max = 3;   // counts checked against enumerated maps for r, m up to these
  std::int64_t brute_m_max = 7;
  std::int64_t pieces_extra_max = 2;         // pieces and components for m = r .. r + this
  std::string swap = "0,2";                  // the teacher neurons the swap path exchanges
  std::string deep_arch = "2,3,3,1";         // the deep swap path's teacher (tanh, biases, seeded)
  std::string split_fractions = "1.5,-0.5";  // the split of the narrow strict minimum
  std::string students_widths = "4,5,45";
  std::int64_t students_seeds = 8;
  std::int64_t students_grid_stride = 2;  // 21 x 21 of the 41 x 41 grid
  std::int64_t students_adam_iterations = 3000;
  std::int64_t students_polish_iterations = 300;

  // Throws options::OptionError naming the field.
  void validate() const;
};
const options::Table<SimsekStudyOptions>& simsek_study_options_table();

// `progress` gets the study's steps (which one, k of n) as each starts.
StudyResult run_simsek_study(const SimsekStudyOptions& options,
                             const ProgressCallback& progress = {});
Study simsek_study();

}  // namespace locus::studies
