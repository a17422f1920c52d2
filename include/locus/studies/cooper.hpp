#pragma once
// The Cooper study (PAPERS.md §1; studies/cooper/README.md): zero-loss points of
// overparameterized MLPs, reached by Cooper's constructions and by training, certified. Claims:
//   construction          Lemma 3.3 / Cor 3.4 (working form) fit d points: max|r| <= rtol max|y|
//   training              Levenberg-Marquardt from a random init reaches zero loss
//   regular_value         rank J = l d at every zero-loss point (Thm 2.1, Thm 4.1)
//   hessian               inertia (l d, n - l d, 0), lambda_k = 2 sigma_k(J)^2 (Prop 2.3)
//   projection_dimension  projection sampling measures dim M = n - rank J
//   walk                  a walk on M keeps the loss at round-off; a straight line does not
//   degenerate            y = 0, theta = 0 has rank J < l d; Sard's perturbation restores it
//   cor34                 Cor 3.4 as printed fails for d >= 2; its working form fits
//
//   locus::studies::CooperStudyOptions o;
//   o.runs = "p=2,h=8,d=6; p=2,h=10,d=6,activation=softplus,method=lm";
//   o.walk.run = 1;
//   const locus::studies::StudyResult r = locus::studies::run_cooper_study(o);
//   // r.count(Verdict::fails) == 0; r.tables: runs, spectrum, dimensions, walk

#include <cstdint>
#include <string>
#include <vector>

#include "locus/core/options.hpp"
#include "locus/core/progress.hpp"
#include "locus/studies/study.hpp"

namespace locus::studies {

// One zero-loss point of the grid (an entry of CooperStudyOptions::runs).
struct CooperRun {
  std::string data = "random";  // "random" (Gaussian inputs and labels) or a built-in dataset
  std::int64_t p = 0;           // input dimension (random data; built-in data set it)
  std::int64_t h = 0;           // hidden width, every hidden layer
  std::int64_t d = 0;           // number of data points
  std::int64_t l = 1;           // output dimension (built-in data: set from the dataset)
  int depth = 1;                // number of hidden layers
  std::string activation = "smoolu";
  std::string method = "construction";  // "construction" (Cooper's network) or "lm" (trained)
  std::int64_t seed = -1;               // -1: the study's seed + the run's index
  std::string text;                     // the entry as written in `runs` (for messages)
};

// Parses the `runs` text: runs separated by ';', each a comma-separated list of key=value with
// the keys of CooperRun ("p=2,h=8,d=6; data=iris,h=30,d=30,l=3,method=lm"). Throws
// options::OptionError("CooperStudyOptions", "runs", ...) naming the bad entry.
std::vector<CooperRun> parse_cooper_runs(const std::string& text);

// Options of the Cooper study. The default grid takes about 10 s of CPU time; a grid of two
// small runs (as in the example above) well under a second.
struct CooperStudyOptions {
  std::uint64_t seed = 1;  // run k uses seed + k (data, construction, init, projections)
  // The grid (parse_cooper_runs): constructions of every depth and output width, ReLU, the four
  // built-in datasets, and three training runs.
  std::string runs =
      "p=1,h=12,d=12; p=2,h=16,d=10; p=8,h=24,d=24; p=64,h=30,d=30; p=3,h=12,d=12,l=3; "
      "p=4,h=16,d=14,depth=2; p=3,h=12,d=10,depth=3,l=2; p=5,h=20,d=20,activation=relu; "
      "data=iris,h=30,d=30,l=3; data=wine,h=30,d=30; data=breast_cancer,h=30,d=30; "
      "data=digits,h=20,d=20; p=3,h=20,d=15,activation=softplus,method=lm; "
      "p=5,h=16,d=12,l=2,activation=tanh,method=lm; "
      "data=iris,h=24,d=20,l=3,activation=softplus,method=lm";
  // Projection sampling (K = 2n Gauss-Newton projections, O(n^4)) runs for n up to this.
  std::int64_t projection_max_params = 400;
  double projection_radius = 1e-4;  // distance of the sampled points from the minimum
  // Dense Hessians (O(n^3)) for n up to this; above it Lanczos, whose counts are not certified.
  std::int64_t hessian_max_params = 2500;
  double train_loss_tolerance = 1e-28;  // LM stops here; a trained run holds at 100x this
  // Construction residual bound relative to max |y| (issue 6, acceptance 1).
  double residual_tolerance_relative = 1e-9;
  // Positive eigenvalues against 2 sigma_k(J)^2: runs above this relative difference are counted
  // in the evidence (the verdict uses the round-off bound tau_H).
  double eigen_rtol = 1e-8;
  // A predictor-corrector walk along M from one run's minimum, against a straight line.
  struct Walk {
    int run = 12;  // index into runs of the starting minimum; -1: no walk (claim skipped)
    int steps = 60;
    double min_length = 1.0;  // arc length the walk must reach
    double loss_max = 1e-20;  // loss bound along the walk
  } walk;
  // The degenerate zero-loss point y = 0, theta = 0 and its Sard perturbation.
  struct Degenerate {
    std::string arch = "3,6,1";  // the network's widths
    std::string activation = "tanh";
    int points = 5;              // d (labels y = 0)
    double sard_epsilon = 1e-3;  // bound of the label perturbation
  } degenerate;
  // Cor 3.4 as printed against its working form, on d Gaussian points with p = 3.
  struct Cor34 {
    int depth = 3;
    int points = 10;  // d
  } cor34;

  // Throws options::OptionError naming the field: runs unparsable or empty, walk_run out of
  // range, non-positive sizes or tolerances, an unknown activation.
  void validate() const;
};

// The field table. JSON keys and --set names are the field names; nested fields are flattened
// (walk.run is "walk_run", degenerate.sard_epsilon is "sard_epsilon", cor34.depth "cor34_depth").
const options::Table<CooperStudyOptions>& cooper_study_options_table();

// Runs the study. Cost: dominated by the dense Hessians and projection samplings of the grid.
// Throws options::OptionError for invalid options, std::invalid_argument for a run whose data
// cannot be made (unknown dataset, d larger than the dataset).
// `progress` gets the study's steps (which one, k of n) as each starts.
StudyResult run_cooper_study(const CooperStudyOptions& options,
                             const ProgressCallback& progress = {});

}  // namespace locus::studies
