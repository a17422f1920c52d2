#pragma once
// Simsek et al. (2021)'s students-of-growing-width experiment (PAPERS.md §4): on the 41 x 41 grid
// over [-5, 5]^2 with their teacher [2, 4, 1] (no biases; incoming (0.6, 0.5), (-0.5, 0.5),
// (-0.2, -0.6), (0.1, -0.6); output weights 1; sigmoid or their g), students [2, m, 1] of each
// width m are trained from seeded initialisations with Adam, then polished by a second-order
// solver and certified (workflows/certify.hpp: global minimum, strict or non-strict minimum,
// saddle with its index, not converged, undecided). Each zero-loss student's neurons are sorted
// into copies of teacher neurons, zero-type neurons and zero groups (symmetry/categorize.hpp),
// naming the piece Gamma(phi) of the expansion manifold it lies on. The paper's finding: narrow
// students (m = r = 4) often stall at non-global critical points, slightly wider ones (m = 5)
// reach zero loss more often, very wide ones (m = 45) almost always.
//
//   locus::workflows::StudentsOptions o;
//   o.widths = "4,5";
//   o.seeds = 3;
//   auto r = locus::workflows::run_students(o, [](const auto& run, Index done, Index total) {
//     std::fprintf(stderr, "%ld/%ld\n", long(done), long(total));
//   });
//   // r.widths[1].fraction_zero_loss, r.runs[k].end_state, r.runs[k].categorization->phi
//   std::cout << locus::workflows::summary(r);
//
// Cost per run: adam_iterations loss-and-gradient evaluations (O(d m) each, d = 1681 grid points),
// the polish (Levenberg-Marquardt: one d x m Jacobian and its factorisation per iteration), and
// the certificate's SVD of J and dense Hessian spectrum (O(d m^2 + m^3)). Measured on one core:
// the default experiment (widths 4, 5, 45, four seeds each) takes about 25 s, width 45
// dominating (3-12 s per run); widths 4 and 5 take 0.3-1 s per run. The paper's 50 seeds per
// width are `seeds = 50`.
//
// What to expect (defaults, sigmoid): widths 4 and 5 end in certified states -- zero loss on a
// piece Gamma(phi) (with sign flips, for the sigmoid's sigma(-z) = 1 - sigma(z)), strict non-global
// minima at loss ~1e-3, or not converged after the polish's budget. Width-45 students get to loss
// ~1e-12 in 300 Levenberg-Marquardt iterations and ~1e-16 in 3000 but not to 1e-20: near a wide
// zero-loss point clusters of many near-copies make the loss flat to high order (two copies apart
// by delta change f by O(delta^2)), and second-order polishes converge sublinearly there. They
// are reported not converged, with their loss and gradient; raise polish_iterations to go further.

#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "locus/analysis/classify.hpp"
#include "locus/core/activation.hpp"
#include "locus/core/options.hpp"
#include "locus/io/json.hpp"
#include "locus/solvers/solve.hpp"
#include "locus/symmetry/categorize.hpp"
#include "locus/workflows/certify.hpp"

namespace locus::workflows {

struct StudentsOptions {
  // Student widths m, comma-separated (each >= 1; m < 4 cannot reach zero loss).
  std::string widths = "4,5,45";
  std::int64_t seeds = 4;  // runs per width, with seeds seed, seed + 1, ...
  std::uint64_t seed = 0;  // first seed (the Glorot initialisation of the student)
  // The teacher's and students' activation: sigmoid (their experiments) or g.
  Activation activation = Activation::sigmoid;
  // Every grid_stride-th grid line per axis (1: all 41 x 41 points; 2: 21 x 21; 4: 11 x 11).
  std::int64_t grid_stride = 1;
  // Adam, the polish and the certificate (rows adam_iterations, adam_learning_rate, polish,
  // polish_iterations, loss_tolerance, gradient_tolerance; min_gap keeps its default and has no
  // row). Here Adam takes 3000 steps and the polish at most 300 iterations.
  TrainCertifyOptions train{.adam_iterations = 3000, .polish_iterations = 300};
  // Tolerances of the categorization of zero-loss students.
  symmetry::CategorizeOptions categorize;
  // Throws options::OptionError naming the field.
  void validate() const;
};
// Its field table (core/options.hpp); the categorization's rows are weight_tolerance_relative,
// output_tolerance_relative and sign_symmetry.
const options::Table<StudentsOptions>& students_table();
// The widths of "4,5,45"; throws options::OptionError(owner, "widths", ...) naming the bad entry
// (empty, not an integer, < 1 or > 10000).
std::vector<Index> parse_widths(const std::string& text,
                                const std::string& owner = "StudentsOptions");

// One trained student.
struct StudentRun {
  Index width = 0;
  std::uint64_t seed = 0;
  double loss_adam = NAN;          // loss after Adam
  double loss_final = NAN;         // after the polish (the certified point)
  double gradient_max_norm = NAN;  // |grad L|_inf there
  int iterations_adam = 0, iterations_polish = 0;
  double seconds = 0.0;  // the whole run: Adam, polish, certificate, categorization
  CertifyStatus status = CertifyStatus::undecided;
  analysis::PointClass end_class = analysis::PointClass::undecided;
  // "global_minimum", "strict_minimum", "non_strict_minimum", "saddle", "not_converged" (the
  // polished point fails the gradient test) or "undecided".
  std::string end_state;
  Index index = 0;      // negative Hessian eigenvalues (saddles)
  std::string message;  // the certificate's message
  bool zero_loss = false;
  std::optional<symmetry::Categorization> categorization;  // zero-loss students only
  Eigen::VectorXd theta;  // the polished parameters ([2, m, 1], no biases)
};

// Per width: how the runs ended.
struct WidthSummary {
  Index width = 0;
  Index runs = 0;
  Index zero_loss = 0;
  double fraction_zero_loss = 0.0;
  Index on_expansion_manifold = 0;  // zero-loss students categorized onto a piece
  Index global_minimum = 0, strict_minimum = 0, non_strict_minimum = 0, saddle = 0,
        not_converged = 0, undecided = 0;
};

struct StudentsResult {
  StudentsOptions options;
  Index n_points = 0;             // grid points used
  Eigen::VectorXd teacher_theta;  // Simsek's teacher, [2, 4, 1] without biases
  std::vector<StudentRun> runs;   // width-major, then seed
  std::vector<WidthSummary> widths;
  double seconds = 0.0;
};

// Called after each run with the run, the number done and the total (from the calling thread).
using StudentsProgress = std::function<void(const StudentRun& run, Index done, Index total)>;

// Runs the experiment. Expected outcomes (stalls, saddles, undecided spectra) are data in the
// runs; throws std::invalid_argument (options::OptionError) for invalid options only.
StudentsResult run_students(const StudentsOptions& options = {},
                            const StudentsProgress& progress = {});

// {"n_points", "teacher_params", "widths": [{"width", "runs", "zero_loss", "fraction_zero_loss",
//  "on_expansion_manifold", "global_minimum", ..., "undecided"}], "runs": [{"width", "seed",
//  "loss_adam", "loss_final", "gradient_max_norm", "iterations_adam", "iterations_polish",
//  "seconds", "status", "end_state", "index", "message", "zero_loss", "categorization"
//  (symmetry::to_json, or null), "params"}], "seconds"}. The options go to the context block
// (students_table().to_json(options)).
io::Json to_json(const StudentsResult& r);
// One line per width (zero-loss fraction, counts per end state) and one per run.
std::string summary(const StudentsResult& r);

}  // namespace locus::workflows
