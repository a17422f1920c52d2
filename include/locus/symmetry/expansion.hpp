#pragma once
// The expansion manifold of a two-layer teacher (Simsek et al., PAPERS.md §4): the affine pieces
// Gamma(phi) of zero-loss parameters of a wider student, their dimensions, a point and an
// orthonormal basis of each, and the connected components of their union, decided both by a
// combinatorial rule and numerically.
//
//   namespace ls = locus::symmetry;
//   locus::Mlp teacher({.widths = {2, 3, 1}, .activation = locus::Activation::sigmoid,
//                       .bias = {false, false}});
//   Eigen::VectorXd theta = ...;                     // irreducible (require_irreducible)
//   Eigen::MatrixXd x = ...;                         // d x 2 inputs; targets = teacher(x)
//   ls::ExpansionEnumeration e = ls::enumerate_expansion(teacher, theta, x, {.m = 4});
//   e.n_pieces;                 // T(3, 4) = 3! S(5, 4) = 60
//   e.dimension_histogram;      // [dimension] -> number of pieces
//   e.by_rule.count, e.numerical.count;   // 1 and 1: connected for m >= r + 1
//
// Teacher f(x) = sum_{i<r} a*_i sigma(u*_i . x~) + c with incoming vectors u*_i = (w*_i, b*_i)
// (b*_i present when the hidden layer has a bias; x~ = (x, 1) then) and output bias c (when the
// output layer has one). Student of width m, same activation and bias flags, neurons
// j = 0..m-1. A map assigns each student neuron a label: a teacher neuron i in 0..r-1 (a copy:
// u_j = u*_i), or a zero-type label. Zero-type neurons form blocks: in the paper's convention
// (ZeroConvention::single) every zero-type neuron is its own block (a_j = 0, u_j free); with
// zero groups (ZeroConvention::groups) a block of size s >= 2 is a zero group (its neurons share
// one free incoming vector, their outgoing weights sum to 0). Every teacher neuron needs at least
// one copy. The piece of a map is the affine set
//   Gamma = { u_j = u*_i and sum_{j -> i} a_j = a*_i for each teacher neuron i;
//             u_j = u_B for j in block B, sum_{j in B} a_j = 0; output bias = c },
// on which the student computes the teacher's function exactly (zero loss). With n_in = D (+1
// with hidden biases) entries per incoming vector:
//   dim Gamma = sum_i (#copies of i - 1) + sum_B (n_in + |B| - 1)
//             = (k - r) + (m - k) n_in   for single zero-type neurons (k = number of copies).
// Neurons are numbered from 0 everywhere (teacher and student), as in the rest of locus.

#include <Eigen/Core>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "locus/core/mlp.hpp"
#include "locus/core/options.hpp"
#include "locus/core/progress.hpp"
#include "locus/io/json.hpp"

namespace locus::symmetry {

enum class ZeroConvention {
  single,  // every zero-type neuron alone (the paper's T(r, m) pieces)
  groups,  // zero-type neurons arranged into any set partition (T_groups(r, m) pieces)
};
std::string_view to_string(ZeroConvention c);
// Parses "single" / "groups"; throws std::invalid_argument listing both otherwise.
ZeroConvention parse_zero_convention(std::string_view name);

// One piece's labels: for student neuron j, phi[j] = i in 0..r-1 (a copy of teacher neuron i) or
// -1 (zero-type); block[j] = the zero block of a zero-type neuron (0, 1, ... in order of first
// appearance), -1 for a copy.
struct ExpansionMap {
  std::vector<int> phi;
  std::vector<int> block;
  int n_copies() const;  // k = #{j : phi[j] >= 0}
  int n_blocks() const;  // number of zero blocks
};

// dim Gamma of the map (formula above) for incoming vectors of n_in entries. O(m).
int piece_dimension(const ExpansionMap& map, int r, Index n_in);

// Every map of a teacher of width r in a student of width m, in lexicographic order of (phi,
// block) with zero-type before copies; T(r, m) of them (T_groups(r, m) with groups). Generated
// depth first with pruning (a prefix is extended only if the remaining neurons can still cover
// the uncovered teacher neurons), so the cost is O(count * m). Throws std::invalid_argument for
// sizes outside 1 <= r <= m <= k_max_width or when the count exceeds max_count (naming both).
std::vector<ExpansionMap> expansion_maps(int r, int m, ZeroConvention convention,
                                         std::int64_t max_count);

// Whether Gamma(a) and Gamma(b) intersect, by the combinatorial rule (the teacher irreducible:
// distinct incoming vectors, nonzero output weights). Parts of a map: the copies of each
// teacher neuron, and each zero block; every part shares one incoming vector and has a fixed sum
// of outgoing weights (a*_i, or 0 for a block). Form the bipartite graph whose nodes are the
// parts of a and of b, with one edge per student neuron j (its part in a to its part in b). A
// connected component shares one incoming vector (u_j belongs to both ends), and its outgoing
// weights can be chosen freely edge by edge, so the sums are solvable iff they balance in each
// component. Hence they intersect iff, for every teacher neuron i,
//   (1) its parts in a and in b lie in one component (else a*_i = 0 would be needed), and
//   (2) that component holds no other teacher neuron (distinct u*_i cannot be one vector).
// For single zero-type neurons this reads: no neuron copies two different teacher neurons, and
// every teacher neuron has a common copy (a neuron that is a copy in one map and zero-type in
// the other has a_j = 0 on the intersection). Consequences: at m = r the pieces are the r!
// permutations, pairwise disjoint (r! components); for m >= r + 1 every permutation links to a
// piece with one zero-type neuron, and the swap of two teacher neurons goes through the extra
// neuron, so the union is connected. Throws std::invalid_argument for maps of different widths.
// Cost O(m) (union-find over the <= 2m parts).
bool pieces_intersect(const ExpansionMap& a, const ExpansionMap& b);

// Throws std::invalid_argument unless teacher is a two-layer net [D, r, 1] (one hidden layer, one
// output, not mean-field) and theta is irreducible, naming the neurons:
//   - an output weight a*_i = 0 (a zero-type neuron) or a zero incoming vector u*_i (a constant
//     neuron sigma(0));
//   - two equal incoming vectors (duplicates);
//   - u*_i = -u*_j for odd activations (tanh, erf: sigma(-z) = -sigma(z)) and, when the output
//     layer has a bias, for sigmoid (sigma(-z) = 1 - sigma(z)); relu, softplus, gelu, smoolu and
//     g are neither odd nor even, and no activation of locus is even;
//   - u*_j = c u*_i with c > 0 for relu (positively homogeneous: a relu(c z) = (a c) relu(z));
//   - r >= 2 with the identity (a linear net of any width equals one neuron).
// "Equal" means equal to round-off: |u - v|_inf <= 16 eps max(|u|_inf, |v|_inf) (|a| <= 16 eps
// max_i |a*_i| for a zero output weight). Cost O(r^2 n_in).
void require_irreducible(const Mlp& teacher, const Eigen::VectorXd& theta);
// The same check, returning the message (empty when irreducible) instead of throwing; a teacher
// that is not [D, r, 1] or a theta of the wrong length still throws.
std::string irreducibility_problem(const Mlp& teacher, const Eigen::VectorXd& theta);

// The student [D, m, 1] of the teacher: same activation and bias flags. Throws
// std::invalid_argument for m < 1 or a teacher that is not [D, r, 1].
Mlp expansion_student(const Mlp& teacher, Index m);

// An affine piece in the student's parameter space (Mlp layout of width m): theta + span(basis).
struct AffinePiece {
  Eigen::VectorXd theta;  // a point of the piece
  Eigen::MatrixXd basis;  // n x dim, orthonormal columns spanning its directions
};
// The piece Gamma(map) of the teacher (theta_teacher) with a seeded random point: copies of
// teacher neuron i get a*_i / s plus a random zero-sum perturbation (scale |a*_i|), zero blocks a
// random shared incoming vector (N(0, 1) entries times max|u*|) and random zero-sum outgoing
// weights (scale max|a*|; 0 for a single neuron). Basis: Helmert vectors (1,..,1,-t,0..)/sqrt(t
// (t+1)) on the outgoing weights of each group of copies and of each zero block, and for each
// zero block and incoming coordinate the vector 1/sqrt|B| on that coordinate of every neuron in
// the block: orthonormal by construction (disjoint supports, Helmert). Cost O(n dim). Throws
// std::invalid_argument for a map of the wrong width or label range, or a teacher that is not
// [D, r, 1].
AffinePiece affine_piece(const Mlp& teacher, const Eigen::VectorXd& theta_teacher,
                         const ExpansionMap& map, std::uint64_t seed);

// Whether two affine pieces p1 + B1 u, p2 + B2 v intersect: iff p2 - p1 lies in span[B1 B2].
// The SVD of [B1 B2] (locus's rank rule, tau = max(n, d1 + d2) eps sigma_max) gives an
// orthonormal basis Q of the span; residual = |(I - Q Q^T)(p2 - p1)|_2, and they intersect iff
// residual <= tolerance = 64 n eps max(|p1|_inf, |p2|_inf, 1) (the round-off of p2 - p1 and of
// the projection, a few eps per entry summed over n entries; pieces of an irreducible teacher
// that do not meet are apart by the teacher's separations, many orders above). Cost
// O(n (d1 + d2)^2).
struct AffineIntersection {
  bool intersects = false;
  double residual = 0.0;
  double tolerance = 0.0;
};
AffineIntersection affine_intersection(const AffinePiece& a, const AffinePiece& b);

// Connected components of a union of pieces (union-find over intersecting pairs).
struct PieceComponents {
  bool computed = false;
  Index count = 0;
  std::vector<int> component;  // per piece, components numbered 0.. in order of first piece
  std::int64_t pairs_tested = 0;
  // Numerical test only: the largest residual of a pair judged intersecting and the smallest of
  // a pair judged disjoint (inf when none): their ratio is the margin of the decisions.
  double residual_max_intersecting = 0.0;
  double residual_min_disjoint = std::numeric_limits<double>::infinity();
};
// By pieces_intersect (either convention). Union-find over the pairs: a pair already joined is
// not tested (it cannot change the components), nothing is tested once all are joined, and the
// pairs whose labels differ at one neuron (where pieces meet: a copy turned zero-type) go first.
// Cost O(P m) for P tested pairs plus O(n^2 m) label comparisons for n maps; P <= n^2 / 2 (all
// pairs when the union is disconnected, r!^2 / 2 at m = r), and about n when it is connected.
PieceComponents components_by_rule(const std::vector<ExpansionMap>& maps);
// The same union-find with affine_intersection deciding each pair (the maps, when given, only
// order the tests; every decision is numerical). Cost O(P n d^2) for P tested pairs (an SVD of
// n x d, d = d1 + d2 <= 2 dim, each): measured 5519 of the 5.6e6 pairs at T(4, 6) = 3360, D = 2,
// about 0.1 s. Throws std::invalid_argument when maps is neither empty nor one per piece.
PieceComponents components_numerical(const std::vector<AffinePiece>& pieces,
                                     const std::vector<ExpansionMap>& maps = {});

struct ExpansionOptions {
  // Student width m >= r; -1: r + 1 (the smallest width whose union of pieces is connected).
  Index m = -1;
  // Zero-type neurons may form zero groups (T_groups pieces) instead of staying single (T).
  bool zero_groups = false;
  // Refuse to enumerate more pieces than this (the count is known exactly beforehand).
  std::int64_t max_pieces = 100000;
  // Compute the connected components (by the combinatorial rule and numerically).
  bool components = true;
  // ... only up to this many pieces: both methods cost up to n^2 / 2 pair tests (an SVD each for
  // the numerical one) when the union is disconnected (m = r: r! pieces, all apart).
  std::int64_t max_component_pieces = 5000;
  // Seeds the random point of each piece (piece p uses seed + p).
  std::uint64_t seed = 0;

  // Throws std::invalid_argument naming the field (ExpansionOptions.<field>).
  void validate() const;
};
// Field table: the CLI's --m, --zero-groups, --max-pieces, --components,
// --max-component-pieces, --seed; Python's keywords of the same names.
const options::Table<ExpansionOptions>& expansion_table();

enum class ExpansionStatus {
  ok,                   // every piece's point has loss within round-off; components agree
  loss_not_zero,        // some piece's point has loss above the round-off bound (a bug or a
                        // teacher/data mismatch): see loss_max and loss_tolerance
  components_disagree,  // the combinatorial rule and the numerical test found different
                        // components
};
std::string_view to_string(ExpansionStatus s);

struct ExpansionEnumeration {
  ExpansionStatus status = ExpansionStatus::ok;
  std::string message;  // one sentence: what was found, or which check failed with its numbers
  int r = 0, m = 0;
  Index n_in = 0;      // entries of an incoming vector (D, +1 with hidden biases)
  Index n_params = 0;  // of the student
  ZeroConvention convention = ZeroConvention::single;
  std::string count_exact;                        // T(r, m) or T_groups(r, m), exact decimal
  Index n_pieces = 0;                             // pieces enumerated (equals count_exact)
  std::vector<std::int64_t> dimension_histogram;  // [dim] -> number of pieces, dim = 0..max
  int dimension_min = 0, dimension_max = 0;
  // Loss L = sum_i (f(x_i) - y_i)^2 at each piece's point, y = teacher(x): the largest, and the
  // round-off bound it is checked against, max over pieces of
  //   d (gamma eps S)^2, gamma = 4 (m + n_in + 2),
  //   S = max_i [sum_j |a_j| (|sigma(z_ij)| + |sigma'(z_ij)| sum_c |u_jc x~_ic|) + |c| + |y_i|]
  // (the sums' and the inner products' rounding, propagated through sigma).
  double loss_max = 0.0;
  double loss_tolerance = 0.0;
  PieceComponents by_rule;  // computed when options.components (as numerical)
  // computed when options.components and n_pieces <= options.max_component_pieces
  PieceComponents numerical;
  std::vector<ExpansionMap> maps;  // the pieces' labels, in expansion_maps order

  bool ok() const { return status == ExpansionStatus::ok; }
};

// Enumerates the pieces of an irreducible teacher [D, r, 1] in a student of width m (options.m),
// their dimensions and histogram, a point of each with its loss on inputs x (d x D; targets are
// the teacher's outputs), and the connected components of their union. Cost: O(T (m + n d m))
// for the pieces and their losses, plus the components (see components_by_rule and
// components_numerical). Throws std::invalid_argument for invalid options, a reducible teacher
// (require_irreducible), x of the wrong width, or more pieces than options.max_pieces. progress
// gets "pieces" k/n_pieces after each piece, then a "connected components" stage line.
ExpansionEnumeration enumerate_expansion(const Mlp& teacher, const Eigen::VectorXd& theta,
                                         const Eigen::MatrixXd& x,
                                         const ExpansionOptions& options = {},
                                         const ProgressCallback& progress = {});

// {"status", "message", "r", "m", "n_in", "n_params", "convention", "count_exact", "n_pieces",
//  "dimension_histogram": {"<dim>": count, ...}, "dimension_min", "dimension_max", "loss_max",
//  "loss_tolerance", "components": {"by_rule": {...} or null, "numerical": {...} or null}}.
// Per-piece maps are not included (they are many); Python exposes them.
io::Json to_json(const ExpansionEnumeration& e);
io::Json to_json(const PieceComponents& c);
std::string summary(const ExpansionEnumeration& e);

}  // namespace locus::symmetry
