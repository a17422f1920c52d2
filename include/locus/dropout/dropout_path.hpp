#pragma once
// The low-loss path between two dropout-stable networks (Kuditipudi et al. 2019; Shevchenko &
// Mondelli 2020, PAPERS.md section 3): a polyline in parameter space whose segments are of three
// types, each with a property that holds for any loss that is convex in the network's output
// (the squared loss here):
//   output_weights   only the output layer (W_{L+1}, b_{L+1}) moves: the output is affine in t, so
//                    t -> L is convex and never exceeds the larger of its two ends;
//   silent_incoming  only incoming weights and biases of neurons whose outgoing weights are 0
//                    move: the function, hence the loss, is constant (bit for bit);
//   swap             outgoing weight moves between two groups of neurons with identical incoming
//                    weights: sum (1-t) a h + t a h = a h, constant up to round-off.
// For one hidden layer of even width N, a kept half A and B = the rest (paired in order: A[k] with
// B[k]), theta = (a, W), theta' = (a', W') and s = N / M = 2 (the seven segments):
//   1 (a, W) -> (s a_A, 0_B; W)                           output_weights
//   2 W_B <- W'_A                                          silent_incoming
//   3 output (s a_A, 0_B) -> (0_A, s a'_A)                 output_weights
//   4 W_A <- W'_A                                          silent_incoming
//   5 output (0_A, s a'_A) -> (s a'_A, 0_B)                swap
//   6 W_B <- W'_B                                          silent_incoming
//   7 -> (a', W')                                          output_weights
// Its loss stays below max(L(theta), L(theta'), L(theta_A), L(theta'_A)), so its excess over the
// larger end is at most max(eps_D(theta; A), eps_D(theta'; A)). When theta' is dropout stable on
// the complement B, five segments do (1, then W_B <- W'_B, output (s a_A, 0) -> (0, s a'_B),
// W_A <- W'_A, -> theta') with the bound max(eps_D(theta; A), eps_D(theta'; B)).
//
//   locus::Objective test(model, held_out);
//   auto r = locus::dropout::dropout_path(test, theta, theta_prime, {.keep = "first-half"});
// Two hidden layers (widths N1, N2 even; Kuditipudi et al.'s multilayer path; A_K kept in layer K,
// B_K the rest paired in order, s_K = 2; theta^(2) drops layer 2, theta^(1,2) both layers; the
// middle layer's row j is "dropped" when its A1 entries are times s1 and its B1 entries 0):
//   1 W3 -> (s2 W3_A2, 0_B2): theta -> theta^(2)                            output_weights
//   2 rows B2 of W2 <- rows A2 dropped (on columns A1), b2_B2 <- b2_A2         silent_incoming
//   3 W3 -> (0_A2, s2 W3_A2 on B2): -> theta^(1,2)                             output_weights
//   4 W1_B1 <- W1'_A1                                                          silent_incoming
//   5 rows A2 <- rows A2 of W2' dropped, placed on columns B1                   silent_incoming
//   6 W3 -> (s2 W3'_A2, 0_B2), b3 -> b3': -> theta'^(1,2) on (B1, A2)          output_weights
//   7 W1_A1 <- W1'_A1 (now A1 and B1 are copies)                                silent_incoming
//   8 rows A2 move their weights from columns B1 to A1                         swap
//   9 W1_B1 <- W1'_B1                                                          silent_incoming
//  10 rows B2 <- rows A2 (on columns A1)                                       silent_incoming
//  11 W3: A2's columns -> their copies B2                                      swap
//  12 rows A2 <- rows A2 of W2'                                                silent_incoming
//  13 W3 -> (s2 W3'_A2, 0_B2): -> theta'^(2)                                   output_weights
//  14 rows B2 <- rows B2 of W2'                                                silent_incoming
//  15 -> theta'                                                                output_weights
// 7 segments for one hidden layer, 15 for two (Kuditipudi et al.: linear in depth). The loss stays
// below the largest of L at theta, theta^(2), theta^(1,2) and their primed versions (the ends of
// the output segments), so the excess is at most the bound below.
//
//   r.path.control_points();   // 8 vertices (16 for two hidden layers), row 0 = theta
//   r.excess <= r.bound;       // up to round-off (r.bound_holds)

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "locus/core/objective.hpp"
#include "locus/core/options.hpp"
#include "locus/io/json.hpp"
#include "locus/paths/path.hpp"

namespace locus::dropout {

enum class SegmentKind { output_weights, silent_incoming, swap };
std::string_view to_string(SegmentKind k);  // "output_weights", "silent_incoming", "swap"

struct DropoutPathOptions {
  // "first-half", "second-half", "random" (a seeded random half), or the kept neurons as a comma
  // list ("0,2,4,6"), as many as the width's half.
  std::string keep = "first-half";
  std::uint64_t seed = 0;  // seeds keep = random
  // Five segments (theta' must then be stable on the complement) instead of seven.
  bool five_segments = false;
  // Loss evaluations per segment, ends included, for the independent check of its type.
  std::int64_t check_points = 17;
  // Grid points of the loss profiles (the path's and the straight line's), ends included.
  std::int64_t profile_points = 129;

  // Throws options::OptionError naming the field: check_points < 3, profile_points < 2 or
  // beyond an int; io::MemoryLimitError ("DropoutPathOptions.check_points = ...") when the losses
  // of a segment check or a profile would exceed the memory limit.
  void validate() const;
};
const options::Table<DropoutPathOptions>& dropout_path_table();

// One segment re-evaluated: losses at check_points equally spaced t, ends included.
struct SegmentCheck {
  SegmentKind kind = SegmentKind::output_weights;
  double loss_start = NAN, loss_end = NAN, loss_max = NAN, loss_min = NAN;
  // output_weights: loss_max - max(ends); silent_incoming and swap: max |L(t) - L(0)|.
  double deviation = NAN;
  double tolerance = NAN;  // 1e-12 * max(ends) + the loss's rounding level at the ends
  bool holds = false;      // deviation <= tolerance
};

struct DropoutPathResult {
  paths::Path path;                   // polyline, vertices = rows of path.control_points()
  std::vector<SegmentKind> segments;  // one per segment
  std::vector<Index> kept, paired;    // A and the neurons of B paired with it (in order), of the
                                      // last hidden layer
  std::vector<Index> kept_lower, paired_lower;  // two hidden layers: A1, B1 (else empty)
  std::vector<SegmentCheck> checks;             // one per segment
  bool segments_hold = false;                   // every check holds
  double loss_start = NAN, loss_end = NAN;
  // eps_D(theta; A) and eps_D(theta'; A) (theta'; B for the five-segment path); bound = the max.
  // Two hidden layers: eps_D(theta) = max over i = 1, 2 of |L(theta) - L(theta dropped in layers
  // i..2)| (Kuditipudi et al.'s dropout stability of a deep net), likewise for theta'.
  double dropout_gap_start = NAN, dropout_gap_end = NAN, bound = NAN;
  // Largest loss found along the path (checks and profile) minus max(loss_start, loss_end).
  double excess = NAN;
  bool bound_holds = false;    // excess <= bound + the largest check tolerance
  paths::LossProfile profile;  // the loss along the path (paths::loss_profile)
  paths::LossProfile line;     // along the straight line from theta to theta'
};

// Builds the path between theta and theta_end (the same network `objective.model()`: one or two
// hidden layers of even widths, with or without biases or mean-field scaling), checks every
// segment's type by re-evaluating the loss along it, and profiles it and the straight line.
// Cost: about 7 (15) * check_points + 2 * (profile_points + refinements) loss evaluations. Throws
// std::invalid_argument for a model with no or more than two hidden layers, five_segments with
// two hidden layers, an odd width, a bad keep
// set ("keep set entry 12 is out of range 0..9"), a keep set of another size than N/2, theta
// vectors of the wrong length (named "params" and "params-end"), or invalid options. progress
// gets "segment checks" k/segments after each segment, then the two profiles' events.
DropoutPathResult dropout_path(const Objective& objective, const Eigen::VectorXd& theta,
                               const Eigen::VectorXd& theta_end,
                               const DropoutPathOptions& options = {},
                               const ProgressCallback& progress = {});

// {"segments": [{"kind", "loss_start", "loss_end", "loss_max", "deviation", "tolerance",
//  "holds"}], "segments_hold", "kept", "kept_lower", "loss_start", "loss_end",
//  "dropout_gap_start", "dropout_gap_end", "bound", "excess", "bound_holds", "profile": {...},
//  "line": {...}}.
io::Json to_json(const DropoutPathResult& r);
// The segments with their types and checks, the excess against the bound, the line's barrier.
std::string summary(const DropoutPathResult& r);

}  // namespace locus::dropout
