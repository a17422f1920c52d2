#pragma once
// Sort the neurons of a two-layer student into the building blocks of Simsek et al. (2021)'s
// expansion manifold of a teacher (PAPERS.md §4): copies of teacher neurons (incoming vector equal
// to the teacher's, outgoing weights summing to the teacher's), zero-type neurons (outgoing weight
// 0, incoming free), zero groups (neurons sharing an incoming vector that is not the teacher's,
// outgoing weights summing to 0), or unexplained. From the copies follows the map
// phi: [m] -> {-1, 0, ..., r-1} in the numbering of symmetry/expansion.hpp (neurons from 0:
// phi(j) = i >= 0: a copy of teacher neuron i; -1: not a copy -- zero-type, zero-group member or
// unexplained, as `kinds` says) and the affine piece it names,
//   Gamma(phi) = {phi(j) = i >= 0 => v_j = v*_i, sum_{phi(j)=i} a_j = a*_i; phi(j) = -1 => a_j =
//   0}, dim Gamma(phi) = (k - r) + (m - k) D',   k = #{j : phi(j) >= 0},
// with D' = the incoming dimension (D, or D + 1 with a hidden bias: v_j = (w_j, b_j)). With zero
// groups the point lies on a zero-group piece instead (each group: one shared free v and
// outgoing weights on the hyperplane sum = 0), of dimension
//   (k - r) + z D' + sum_groups (D' + g - 1)   (z single zero-type neurons, g the group sizes).
//
//   const auto t = locus::simsek_teacher();                     // [2,4,1] sigmoid, no biases
//   auto s = locus::transforms::split_neuron(t.teacher, t.teacher_parameters, {1, 0}, {0.3, 0.7});
//   auto c = locus::symmetry::categorize(t.teacher, t.teacher_parameters, s.model, s.theta);
//   // c.on_expansion_manifold, c.phi == {0, 1, 2, 3, 0}, c.piece_dimension == 1
//
// Sign symmetries. Where sigma(-z) = c - sigma(z) -- odd activations (tanh, erf, identity) with
// c = 0, and the sigmoid with c = 1 -- a neuron (v, a) computes a c - a sigma(-v . x): with
// sign_symmetry on, a neuron with v_j = -v*_i is a copy with sign -1 (it contributes -a_j to
// teacher neuron i's sum and c a_j to the constant term, which must cancel against the other
// flipped neurons or the output bias), and zero groups may hold v and -v. Trained sigmoid
// students do land there (two flipped copies whose constants cancel, on Simsek's grid); their g
// has no such symmetry. Other activations (g, softplus, gelu, relu, smoolu) match with sign +1
// only. With flips the piece is the image of a Gamma(phi) under the reflections; its dimension
// counts the constant's constraint.
//
// Tolerances. Incoming vectors match when |v_j - s v*_i|_inf <= weight_tolerance =
// weight_tolerance_relative * max_i |v*_i|_inf; outgoing weights count as zero (and sums as equal)
// within output_tolerance = output_tolerance_relative * max_i |a*_i| (effective weights: times the
// output scale of a mean-field net).
//
// Why these defaults. The two defaults differ because the zero-loss set is flat to
// different orders in the two kinds of directions. Moving outgoing weights off the piece (a
// zero-type a_j, or a copy sum) changes f to first order, so a student at loss L is off by about
// sqrt(L) / sigma_min (sigma_min the smallest nonzero singular value of the residual Jacobian):
// 1e-10 / sigma_min at L = 1e-20, and output_tolerance_relative = 1e-6 leaves room for
// sigma_min >= 1e-4. Separating the incoming vectors of two copies by delta (at a fixed weighted
// mean) changes f only to second order, a_1 a_2 / (a_1 + a_2) delta^2 sigma'', so L ~ delta^4 and
// copies of a student at loss L can be apart by about L^(1/4): 1e-5 at L = 1e-20, and measured
// 3e-7 at L = 4e-27 on Simsek's grid. weight_tolerance_relative = 1e-4 covers that, while distinct
// teacher vectors (and untrained neurons) differ by O(0.1). The teacher must be irreducible at
// these tolerances.

#include <Eigen/Core>
#include <string>
#include <string_view>
#include <vector>

#include "locus/core/mlp.hpp"
#include "locus/core/options.hpp"
#include "locus/io/json.hpp"

namespace locus::symmetry {

struct CategorizeOptions {
  // Incoming vectors match within this * max_i |v*_i|_inf (infinity norm).
  double weight_tolerance_relative = 1e-4;
  // Outgoing weights are zero, and sums equal, within this * max_i |a*_i|.
  double output_tolerance_relative = 1e-6;
  // tanh, erf, identity, sigmoid: match v_j = -v*_i as a copy with sign -1 (see above).
  bool sign_symmetry = true;
  // Throws options::OptionError naming the field: a tolerance negative, not finite or >= 1.
  void validate() const;
};
// Its field table (core/options.hpp): CLI flags, Python keywords, the JSON context.
const options::Table<CategorizeOptions>& categorize_table();

// What a student neuron is.
enum class NeuronKind {
  copy,         // v_j = s v*_i for a teacher neuron i (phi(j) = i)
  zero_type,    // not a copy, |a_j| <= output_tolerance (phi(j) = -1)
  zero_group,   // shares its v with other non-copies, their s a sum to ~0 (phi(j) = -1)
  unexplained,  // none of the above (phi(j) = -1)
};
std::string_view to_string(NeuronKind k);

// One teacher neuron and its copies in the student.
struct TeacherCopies {
  std::vector<Index> copies;        // student neurons j with v_j = s_j v*_i
  std::vector<int> signs;           // s_j (+1, or -1 for odd activations)
  double output_sum = 0.0;          // sum_j s_j a_j (effective outgoing weights)
  double output_target = 0.0;       // a*_i
  double output_error = 0.0;        // |output_sum - output_target|
  double incoming_deviation = 0.0;  // max_j |v_j - s_j v*_i|_inf (0 without copies)
};

// A zero group: >= 2 non-copy neurons sharing an incoming vector, outgoing weights summing to ~0.
struct ZeroGroup {
  std::vector<Index> neurons;
  std::vector<int> signs;        // relative to the first neuron's v
  Eigen::VectorXd incoming;      // the first neuron's v (the shared vector)
  double output_sum = 0.0;       // sum_j s_j a_j
  double incoming_spread = 0.0;  // max_j |v_j - s_j v|_inf
};

struct Categorization {
  bool on_expansion_manifold = false;  // every condition below holds within the tolerances
  std::string message;                 // one sentence: the piece, or the first failed condition
  Index r = 0, m = 0;                  // teacher and student widths
  Index incoming_dim = 0;              // D' = D (+1 with a hidden bias)
  double weight_tolerance = 0.0;       // weight_tolerance_relative * max |v*|_inf
  double output_tolerance = 0.0;       // output_tolerance_relative * max |a*|
  bool sign_symmetry = false;          // signs -1 were allowed (the activation and the option)
  std::vector<NeuronKind> kinds;       // per student neuron
  std::vector<int> phi;                // per student neuron: 0..r-1 copy of that neuron, else -1
  std::vector<int> signs;              // per student neuron: the sign of its match (+1 default)
  std::vector<TeacherCopies> teacher;  // per teacher neuron i (0-based, as phi)
  std::vector<Index> zero_type;
  double zero_type_output_max = 0.0;  // max |a_j| over zero-type neurons
  std::vector<ZeroGroup> zero_groups;
  std::vector<Index> unexplained;
  std::vector<Index> uncovered;  // teacher neurons without a copy (phi not onto)
  Index flipped = 0;             // neurons matched with sign -1
  // |c sum_{s_j = -1} a_j + b_student - b_teacher| (effective; biases 0 when absent): the constant
  // term of f_student - f_teacher once the copies' sums match (c: see sign symmetries above).
  double constant_error = 0.0;
  Index k = 0;  // number of copies, #{j : phi(j) >= 0}
  // "Gamma(phi)" (no zero groups), "zero-group piece" (with zero groups), either followed by
  // " with sign flips" when some neuron matched with sign -1, or "none" (unexplained neurons or an
  // uncovered teacher neuron: phi names no piece).
  std::string piece = "none";
  Index piece_dimension = -1;  // see the header comment; -1 when piece == "none"
};

// Categorizes the student [D, m, 1] (student, theta) against the teacher [D, r, 1]
// (teacher, teacher_theta). Cost O(m r D' + m^2 D'). Throws std::invalid_argument for: a teacher
// or student that is not a two-layer net with one output, a student of another architecture
// than [D, m, 1] with the teacher's activation, bias flags and scaling, wrong-length or
// non-finite parameters, invalid options, or a teacher that is not irreducible at the tolerances
// (two incoming vectors within 2 weight_tolerance, also up to sign where signs are matched; an
// |a*_i| <= output_tolerance; a zero incoming vector for odd activations), naming the neurons.
Categorization categorize(const Mlp& teacher, const Eigen::VectorXd& teacher_theta,
                          const Mlp& student, const Eigen::VectorXd& theta,
                          const CategorizeOptions& options = {});

// {"on_expansion_manifold", "message", "r", "m", "incoming_dim", "weight_tolerance",
//  "output_tolerance", "sign_symmetry", "phi", "kinds", "signs", "teacher": [{"neuron", "copies",
//  "signs", "output_sum", "output_target", "output_error", "incoming_deviation"}], "zero_type",
//  "zero_type_output_max", "zero_groups": [{"neurons", "signs", "incoming", "output_sum",
//  "incoming_spread"}], "unexplained", "uncovered", "flipped", "constant_error", "k", "piece",
//  "piece_dimension"}.
io::Json to_json(const Categorization& c);
// A few lines: the verdict, phi, the copies per teacher neuron with their sum errors, the
// zero-type neurons, the zero groups and the unexplained neurons.
std::string summary(const Categorization& c);

}  // namespace locus::symmetry
