#include "locus/symmetry/expansion.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>
#include <stdexcept>

#include "linalg/svd.hpp"
#include "locus/core/activation.hpp"
#include "locus/core/dataset.hpp"
#include "locus/core/objective.hpp"
#include "locus/core/random.hpp"
#include "locus/symmetry/counts.hpp"

namespace locus::symmetry {
namespace {

constexpr double k_eps = std::numeric_limits<double>::epsilon();

// Where the pieces of a [D, w, 1] net live in its flat parameter vector.
struct TwoLayerShape {
  Index d = 0, width = 0;
  bool hidden_bias = false, output_bias = false;
  Index n_in() const { return d + (hidden_bias ? 1 : 0); }
};

TwoLayerShape two_layer_shape(const Mlp& net, const char* what) {
  const auto& w = net.spec().widths;
  if (w.size() != 3 || w[2] != 1 || net.spec().mean_field)
    throw std::invalid_argument(std::string(what) +
                                " must be a two-layer net [D, r, 1] (one hidden layer, one output, "
                                "not mean-field), got " +
                                net.describe());
  return {w[0], w[1], net.has_bias(0), net.has_bias(1)};
}

// Index of entry c of neuron j's incoming vector (c < D: W1(j, c); c = D: b1_j).
Index incoming_index(const Mlp& net, Index j, Index c) {
  const LayerSlice& l = net.layer(0);
  return c < l.in ? l.weight_offset + j * l.in + c : l.bias_offset + j;
}
Index outgoing_index(const Mlp& net, Index j) { return net.layer(1).weight_offset + j; }

Eigen::VectorXd incoming(const Mlp& net, const Eigen::VectorXd& theta, Index j, Index n_in) {
  Eigen::VectorXd u(n_in);
  for (Index c = 0; c < n_in; ++c) u(c) = theta(incoming_index(net, j, c));
  return u;
}

// Helmert vector t (1 <= t < s) of a group of s coordinates: (1, ..., 1, -t, 0, ...)/sqrt(t(t+1))
// with t ones: orthonormal, orthogonal to (1, ..., 1).
double helmert(int t, int position) {
  const double norm = std::sqrt(static_cast<double>(t) * (t + 1));
  if (position < t) return 1.0 / norm;
  if (position == t) return -t / norm;
  return 0.0;
}

struct UnionFind {
  std::vector<int> parent;
  size_t sets;  // number of disjoint sets
  explicit UnionFind(size_t n) : parent(n), sets(n) { std::iota(parent.begin(), parent.end(), 0); }
  int find(int a) {
    while (parent[a] != a) a = parent[a] = parent[parent[a]];
    return a;
  }
  bool join(int a, int b) {
    a = find(a);
    b = find(b);
    if (a == b) return false;
    parent[std::max(a, b)] = std::min(a, b);
    --sets;
    return true;
  }
};

void label_components(UnionFind& uf, PieceComponents& c) {
  const size_t n = uf.parent.size();
  std::vector<int> id(n, -1);
  c.component.assign(n, -1);
  c.count = 0;
  for (size_t p = 0; p < n; ++p) {
    const int root = uf.find(static_cast<int>(p));
    if (id[root] < 0) id[root] = static_cast<int>(c.count++);
    c.component[p] = id[root];
  }
  c.computed = true;
}

void check_map(const ExpansionMap& map, int r, Index m) {
  if (static_cast<Index>(map.phi.size()) != m || static_cast<Index>(map.block.size()) != m)
    throw std::invalid_argument("map must label " + std::to_string(m) + " student neurons, got " +
                                std::to_string(map.phi.size()));
  std::vector<bool> covered(r, false);
  for (Index j = 0; j < m; ++j) {
    const int i = map.phi[j];
    if (i < -1 || i >= r || (i >= 0) != (map.block[j] < 0))
      throw std::invalid_argument("map label of student neuron " + std::to_string(j) +
                                  " is invalid (phi " + std::to_string(i) + ", block " +
                                  std::to_string(map.block[j]) + ")");
    if (i >= 0) covered[i] = true;
  }
  for (int i = 0; i < r; ++i)
    if (!covered[i])
      throw std::invalid_argument("map has no copy of teacher neuron " + std::to_string(i));
}

}  // namespace

std::string_view to_string(ZeroConvention c) {
  return c == ZeroConvention::single ? "single" : "groups";
}

ZeroConvention parse_zero_convention(std::string_view name) {
  if (name == "single") return ZeroConvention::single;
  if (name == "groups") return ZeroConvention::groups;
  throw std::invalid_argument("unknown zero convention '" + std::string(name) +
                              "' (valid: single, groups)");
}

int ExpansionMap::n_copies() const {
  return static_cast<int>(std::count_if(phi.begin(), phi.end(), [](int i) { return i >= 0; }));
}

int ExpansionMap::n_blocks() const {
  int n = 0;
  for (int b : block) n = std::max(n, b + 1);
  return n;
}

int piece_dimension(const ExpansionMap& map, int r, Index n_in) {
  // sum_i (copies_i - 1) + sum_B (n_in + |B| - 1) = (k - r) + (m - k) + n_blocks (n_in - 1).
  const int m = static_cast<int>(map.phi.size()), k = map.n_copies();
  return (k - r) + (m - k) + map.n_blocks() * static_cast<int>(n_in - 1);
}

std::vector<ExpansionMap> expansion_maps(int r, int m, ZeroConvention convention,
                                         std::int64_t max_count) {
  const ExpansionCounts counts = expansion_counts(r, m);  // checks r and m
  const std::string& count = convention == ZeroConvention::single ? counts.T : counts.T_groups;
  if (count.size() > 18 || std::stoll(count) > max_count)
    throw std::invalid_argument(
        std::string(convention == ZeroConvention::single ? "T" : "T_groups") + "(" +
        std::to_string(r) + ", " + std::to_string(m) + ") = " + count +
        " pieces exceeds max_pieces = " + std::to_string(max_count));
  std::vector<ExpansionMap> out;
  out.reserve(static_cast<size_t>(std::stoll(count)));
  ExpansionMap cur{std::vector<int>(m, -1), std::vector<int>(m, -1)};
  std::vector<int> copies(r, 0);
  int uncovered = r, blocks = 0;
  // Depth first over neurons j: zero-type labels (existing blocks with groups, then a new block),
  // then copies of teacher neurons 0..r-1; a label is tried only if the m - j - 1 neurons left
  // can still cover the teacher neurons without a copy.
  auto extend = [&](auto&& self, int j) -> void {
    if (j == m) {
      out.push_back(cur);
      return;
    }
    const int left = m - j - 1;
    if (uncovered <= left) {
      const int first = convention == ZeroConvention::groups ? 0 : blocks;
      for (int b = first; b <= blocks; ++b) {
        cur.phi[j] = -1;
        cur.block[j] = b;
        const bool fresh = b == blocks;
        if (fresh) ++blocks;
        self(self, j + 1);
        if (fresh) --blocks;
      }
    }
    for (int i = 0; i < r; ++i) {
      if (copies[i] > 0 ? uncovered > left : uncovered - 1 > left) continue;
      cur.phi[j] = i;
      cur.block[j] = -1;
      if (copies[i]++ == 0) --uncovered;
      self(self, j + 1);
      if (--copies[i] == 0) ++uncovered;
    }
  };
  extend(extend, 0);
  return out;
}

bool pieces_intersect(const ExpansionMap& a, const ExpansionMap& b) {
  if (a.phi.size() != b.phi.size() || a.block.size() != a.phi.size() ||
      b.block.size() != b.phi.size())
    throw std::invalid_argument("pieces_intersect: maps of different widths " +
                                std::to_string(a.phi.size()) + " and " +
                                std::to_string(b.phi.size()));
  int r = 0;
  for (size_t j = 0; j < a.phi.size(); ++j) r = std::max({r, a.phi[j] + 1, b.phi[j] + 1});
  // Part nodes: a's teacher parts 0..r-1, a's blocks, b's teacher parts, b's blocks; neuron j is
  // an edge between its part in a and its part in b.
  const int b_offset = r + a.n_blocks();
  UnionFind parts(static_cast<size_t>(b_offset + r + b.n_blocks()));
  for (size_t j = 0; j < a.phi.size(); ++j) {
    const int in_a = a.phi[j] >= 0 ? a.phi[j] : r + a.block[j];
    const int in_b = b_offset + (b.phi[j] >= 0 ? b.phi[j] : r + b.block[j]);
    parts.join(in_a, in_b);
  }
  // Each component carries one incoming vector: at most one teacher neuron per component, and
  // teacher neuron i's parts in a and in b in the same component (the sums balance).
  std::vector<int> teacher_of_root(parts.parent.size(), -1);
  for (int i = 0; i < r; ++i) {
    const int root = parts.find(i);
    if (root != parts.find(b_offset + i) || teacher_of_root[root] >= 0) return false;
    teacher_of_root[root] = i;
  }
  return true;
}

std::string irreducibility_problem(const Mlp& teacher, const Eigen::VectorXd& theta) {
  const TwoLayerShape t = two_layer_shape(teacher, "teacher");
  teacher.check_parameters(theta, "teacher parameters");
  const Index r = t.width, n_in = t.n_in();
  const Activation act = teacher.activation();
  if (act == Activation::identity && r >= 2)
    return "teacher with the identity activation and r = " + std::to_string(r) +
           " is reducible: a linear net of any width equals one neuron";
  std::vector<Eigen::VectorXd> u(r);
  Eigen::VectorXd a(r);
  for (Index i = 0; i < r; ++i) {
    u[i] = incoming(teacher, theta, i, n_in);
    a(i) = theta(outgoing_index(teacher, i));
  }
  const double a_max = a.cwiseAbs().maxCoeff();
  for (Index i = 0; i < r; ++i) {
    if (std::abs(a(i)) <= 16 * k_eps * a_max)
      return "teacher neuron " + std::to_string(i) +
             " has output weight 0 (a zero-type neuron): the teacher is reducible";
    if (u[i].cwiseAbs().maxCoeff() == 0.0)
      return "teacher neuron " + std::to_string(i) +
             " has a zero incoming vector (it computes the constant sigma(0)): the teacher is "
             "reducible";
  }
  const bool odd = act == Activation::tanh || act == Activation::erf ||
                   (act == Activation::sigmoid && t.output_bias);
  auto same = [](const Eigen::VectorXd& x, const Eigen::VectorXd& y) {
    const double scale = std::max(x.cwiseAbs().maxCoeff(), y.cwiseAbs().maxCoeff());
    return (x - y).cwiseAbs().maxCoeff() <= 16 * k_eps * scale;
  };
  for (Index i = 0; i < r; ++i)
    for (Index j = i + 1; j < r; ++j) {
      const std::string pair = "teacher neurons " + std::to_string(i) + " and " + std::to_string(j);
      if (same(u[i], u[j])) return pair + " have equal incoming vectors (duplicates)";
      if (odd && same(u[i], -u[j]))
        return pair + " have opposite incoming vectors and " + std::string(to_string(act)) +
               " is odd" + (act == Activation::sigmoid ? " up to the output bias" : "") +
               " (sigma(-z) = " + (act == Activation::sigmoid ? "1 - sigma(z)" : "-sigma(z)") + ")";
      if (act == Activation::relu && same(u[i].normalized(), u[j].normalized()))
        return pair +
               " have positively parallel incoming vectors and relu is positively "
               "homogeneous";
    }
  return {};
}

void require_irreducible(const Mlp& teacher, const Eigen::VectorXd& theta) {
  const std::string problem = irreducibility_problem(teacher, theta);
  if (!problem.empty()) throw std::invalid_argument(problem);
}

Mlp expansion_student(const Mlp& teacher, Index m) {
  two_layer_shape(teacher, "teacher");
  if (m < 1) throw std::invalid_argument("student width m must be >= 1, got " + std::to_string(m));
  MlpSpec spec = teacher.spec();
  spec.widths[1] = m;
  return Mlp(spec);
}

AffinePiece affine_piece(const Mlp& teacher, const Eigen::VectorXd& theta_teacher,
                         const ExpansionMap& map, std::uint64_t seed) {
  const TwoLayerShape t = two_layer_shape(teacher, "teacher");
  teacher.check_parameters(theta_teacher, "teacher parameters");
  const int r = static_cast<int>(t.width);
  const Index m = static_cast<Index>(map.phi.size()), n_in = t.n_in();
  check_map(map, r, m);
  const Mlp student = expansion_student(teacher, m);
  const Index n = student.n_params();

  // Groups of student neurons: teacher neuron i's copies (group i), then zero block b (group
  // r + b), each in increasing neuron order.
  const int n_blocks = map.n_blocks();
  std::vector<std::vector<Index>> groups(r + n_blocks);
  for (Index j = 0; j < m; ++j)
    groups[map.phi[j] >= 0 ? map.phi[j] : r + map.block[j]].push_back(j);

  double a_max = 0.0, u_max = 0.0;
  for (int i = 0; i < r; ++i) {
    a_max = std::max(a_max, std::abs(theta_teacher(outgoing_index(teacher, i))));
    u_max = std::max(u_max, incoming(teacher, theta_teacher, i, n_in).cwiseAbs().maxCoeff());
  }
  if (a_max == 0.0) a_max = 1.0;
  if (u_max == 0.0) u_max = 1.0;

  Rng rng(seed);
  AffinePiece piece;
  piece.theta = Eigen::VectorXd::Zero(n);
  piece.basis = Eigen::MatrixXd::Zero(n, piece_dimension(map, r, n_in));
  Index column = 0;
  if (t.output_bias)
    piece.theta(student.layer(1).bias_offset) = theta_teacher(teacher.layer(1).bias_offset);
  for (int g = 0; g < r + n_blocks; ++g) {
    const auto& members = groups[g];
    const int s = static_cast<int>(members.size());
    const bool copy = g < r;
    // Incoming vectors: the teacher's for copies, one shared random vector for a zero block.
    Eigen::VectorXd u(n_in);
    if (copy) {
      u = incoming(teacher, theta_teacher, g, n_in);
    } else {
      for (Index c = 0; c < n_in; ++c) u(c) = u_max * rng.normal();
    }
    // Outgoing weights: the mean a*_i / s (0 for a block) plus a random zero-sum combination of
    // the Helmert vectors, which are also the piece's directions in these coordinates.
    const double total = copy ? theta_teacher(outgoing_index(teacher, g)) : 0.0;
    const double scale = copy ? std::abs(total) : a_max;
    Eigen::VectorXd a = Eigen::VectorXd::Constant(s, total / s);
    for (int h = 1; h < s; ++h) {
      const double coefficient = scale * rng.normal();
      for (int p = 0; p < s; ++p) {
        a(p) += coefficient * helmert(h, p);
        piece.basis(outgoing_index(student, members[p]), column) = helmert(h, p);
      }
      ++column;
    }
    for (int p = 0; p < s; ++p) {
      piece.theta(outgoing_index(student, members[p])) = a(p);
      for (Index c = 0; c < n_in; ++c) piece.theta(incoming_index(student, members[p], c)) = u(c);
    }
    if (!copy) {
      for (Index c = 0; c < n_in; ++c) {
        for (int p = 0; p < s; ++p)
          piece.basis(incoming_index(student, members[p], c), column) = 1.0 / std::sqrt(s);
        ++column;
      }
    }
  }
  return piece;
}

AffineIntersection affine_intersection(const AffinePiece& a, const AffinePiece& b) {
  const Index n = a.theta.size();
  if (b.theta.size() != n || a.basis.rows() != n || b.basis.rows() != n)
    throw std::invalid_argument("affine_intersection: pieces of different parameter counts");
  AffineIntersection out;
  const double scale =
      std::max({a.theta.cwiseAbs().maxCoeff(), b.theta.cwiseAbs().maxCoeff(), 1.0});
  out.tolerance = 64.0 * static_cast<double>(n) * k_eps * scale;
  const Eigen::VectorXd delta = b.theta - a.theta;
  Eigen::VectorXd rest = delta;
  const Index d = a.basis.cols() + b.basis.cols();
  if (d > 0) {
    Eigen::MatrixXd span(n, d);
    span << a.basis, b.basis;
    const linalg::RankedSvd svd = linalg::ranked_svd(span, linalg::SvdVectors::thin);
    if (!svd.svd.converged)
      throw std::runtime_error("affine_intersection: LAPACK's SVD did not converge");
    const Eigen::MatrixXd q = svd.svd.u.leftCols(svd.decision.rank);
    rest -= q * (q.transpose() * delta);
  }
  out.residual = rest.norm();
  out.intersects = out.residual <= out.tolerance;
  return out;
}

namespace {

// Union-find over n pieces joining the pairs for which intersect(p, q) holds. A pair already in
// one set is not tested (it cannot change the sets), and nothing is tested once all are one set.
// With maps, the pairs whose labels differ at one neuron go first (where pieces meet: a copy
// turned zero-type), so that connected unions are found after few tests; the sets do not depend
// on the order.
template <class Intersect>
void join_intersecting(UnionFind& uf, const std::vector<ExpansionMap>& maps,
                       Intersect&& intersect) {
  const size_t n = uf.parent.size();
  auto test = [&](size_t p, size_t q) {
    if (uf.sets == 1 || uf.find(static_cast<int>(p)) == uf.find(static_cast<int>(q))) return;
    if (intersect(p, q)) uf.join(static_cast<int>(p), static_cast<int>(q));
  };
  auto one_apart = [&](size_t p, size_t q) {
    int differences = 0;
    for (size_t j = 0; j < maps[p].phi.size() && differences < 2; ++j)
      differences += maps[p].phi[j] != maps[q].phi[j] || maps[p].block[j] != maps[q].block[j];
    return differences == 1;
  };
  if (!maps.empty())
    for (size_t p = 0; p < n && uf.sets > 1; ++p)
      for (size_t q = 0; q < p; ++q)
        if (one_apart(p, q)) test(p, q);
  for (size_t p = 0; p < n && uf.sets > 1; ++p)
    for (size_t q = 0; q < p; ++q) test(p, q);
}

}  // namespace

PieceComponents components_by_rule(const std::vector<ExpansionMap>& maps) {
  PieceComponents c;
  UnionFind uf(maps.size());
  join_intersecting(uf, maps, [&](size_t p, size_t q) {
    ++c.pairs_tested;
    return pieces_intersect(maps[p], maps[q]);
  });
  label_components(uf, c);
  return c;
}

PieceComponents components_numerical(const std::vector<AffinePiece>& pieces,
                                     const std::vector<ExpansionMap>& maps) {
  if (!maps.empty() && maps.size() != pieces.size())
    throw std::invalid_argument("components_numerical: " + std::to_string(maps.size()) +
                                " maps for " + std::to_string(pieces.size()) + " pieces");
  PieceComponents c;
  UnionFind uf(pieces.size());
  join_intersecting(uf, maps, [&](size_t p, size_t q) {
    ++c.pairs_tested;
    const AffineIntersection x = affine_intersection(pieces[p], pieces[q]);
    if (x.intersects)
      c.residual_max_intersecting = std::max(c.residual_max_intersecting, x.residual);
    else
      c.residual_min_disjoint = std::min(c.residual_min_disjoint, x.residual);
    return x.intersects;
  });
  label_components(uf, c);
  return c;
}

void ExpansionOptions::validate() const {
  if (m != -1 && (m < 1 || m > k_max_width))
    throw std::invalid_argument("ExpansionOptions.m must be -1 (r + 1) or in [1, " +
                                std::to_string(k_max_width) + "], got " + std::to_string(m));
  if (max_component_pieces < 0)
    throw std::invalid_argument("ExpansionOptions.max_component_pieces must be >= 0, got " +
                                std::to_string(max_component_pieces));
  if (max_pieces < 1)
    throw std::invalid_argument("ExpansionOptions.max_pieces must be >= 1, got " +
                                std::to_string(max_pieces));
}

const options::Table<ExpansionOptions>& expansion_table() {
  using O = ExpansionOptions;
  static const auto t =
      options::Table<O>("ExpansionOptions")
          .add("m", "student width m >= r; -1: r + 1", &O::m)
          .add("zero_groups", "zero-type neurons may form zero groups (T_groups pieces)",
               &O::zero_groups)
          .add("max_pieces", "refuse to enumerate more pieces than this", &O::max_pieces)
          .add("components", "compute the connected components (rule and numerical)",
               &O::components)
          .add("max_component_pieces",
               "skip the components when there are more pieces (their cost is quadratic)",
               &O::max_component_pieces)
          .add("seed", "seeds the random point of each piece", &O::seed);
  return t;
}

std::string_view to_string(ExpansionStatus s) {
  switch (s) {
    case ExpansionStatus::ok:
      return "ok";
    case ExpansionStatus::loss_not_zero:
      return "loss_not_zero";
    case ExpansionStatus::components_disagree:
      return "components_disagree";
  }
  return "unknown";
}

ExpansionEnumeration enumerate_expansion(const Mlp& teacher, const Eigen::VectorXd& theta,
                                         const Eigen::MatrixXd& x, const ExpansionOptions& options,
                                         const ProgressCallback& progress) {
  options.validate();
  const TwoLayerShape t = two_layer_shape(teacher, "teacher");
  require_irreducible(teacher, theta);
  if (x.cols() != t.d || x.rows() < 1)
    throw std::invalid_argument("inputs x must be d x " + std::to_string(t.d) +
                                " with d >= 1, got " + std::to_string(x.rows()) + " x " +
                                std::to_string(x.cols()));
  ExpansionEnumeration e;
  e.r = static_cast<int>(t.width);
  e.m = static_cast<int>(options.m == -1 ? t.width + 1 : options.m);
  if (e.m < e.r)
    throw std::invalid_argument("m must be >= r = " + std::to_string(e.r) + ", got " +
                                std::to_string(e.m));
  e.n_in = t.n_in();
  e.convention = options.zero_groups ? ZeroConvention::groups : ZeroConvention::single;
  const ExpansionCounts counts = expansion_counts(e.r, e.m);
  e.count_exact = options.zero_groups ? counts.T_groups : counts.T;
  e.maps = expansion_maps(e.r, e.m, e.convention, options.max_pieces);
  e.n_pieces = static_cast<Index>(e.maps.size());

  const Mlp student = expansion_student(teacher, e.m);
  e.n_params = student.n_params();
  Dataset data{x, teacher.predict(theta, x), "teacher inputs"};
  const Objective objective(student, data);
  // Inputs with a trailing 1 for the bias, for the round-off bound.
  Eigen::MatrixXd x1(x.rows(), e.n_in);
  x1.leftCols(t.d) = x;
  if (t.hidden_bias) x1.col(t.d).setOnes();
  const double c = t.output_bias ? std::abs(theta(teacher.layer(1).bias_offset)) : 0.0;
  const double gamma = 4.0 * static_cast<double>(e.m + e.n_in + 2);

  const bool components = options.components && e.n_pieces <= options.max_component_pieces;
  std::vector<AffinePiece> pieces;
  if (components) pieces.reserve(e.maps.size());
  e.dimension_min = std::numeric_limits<int>::max();
  for (size_t p = 0; p < e.maps.size(); ++p) {
    const int dim = piece_dimension(e.maps[p], e.r, e.n_in);
    if (static_cast<Index>(e.dimension_histogram.size()) <= dim)
      e.dimension_histogram.resize(dim + 1, 0);
    ++e.dimension_histogram[dim];
    e.dimension_min = std::min(e.dimension_min, dim);
    e.dimension_max = std::max(e.dimension_max, dim);

    AffinePiece piece = affine_piece(teacher, theta, e.maps[p], options.seed + p);
    e.loss_max = std::max(e.loss_max, objective.loss(piece.theta));
    // S = max_i [sum_j |a_j| (|sigma(z_ij)| + |sigma'(z_ij)| sum_c |u_jc x~_ic|) + |c| + |y_i|].
    double s_max = 0.0;
    for (Index i = 0; i < x.rows(); ++i) {
      double s = c + std::abs(data.y(i, 0));
      for (Index j = 0; j < e.m; ++j) {
        double z = 0.0, z_abs = 0.0;
        for (Index k = 0; k < e.n_in; ++k) {
          const double term = piece.theta(incoming_index(student, j, k)) * x1(i, k);
          z += term;
          z_abs += std::abs(term);
        }
        const ActivationValues v = activation_values(teacher.activation(), z);
        s += std::abs(piece.theta(outgoing_index(student, j))) *
             (std::abs(v.value) + std::abs(v.first) * z_abs);
      }
      s_max = std::max(s_max, s);
    }
    const double bound = static_cast<double>(x.rows()) * std::pow(gamma * k_eps * s_max, 2);
    e.loss_tolerance = std::max(e.loss_tolerance, bound);
    if (components) pieces.push_back(std::move(piece));
    report_progress(progress, {.stage = "pieces", .done = (long long)p + 1, .total = e.n_pieces});
  }
  if (components) {
    report_progress(progress, {.stage = "connected components"});
    e.by_rule = components_by_rule(e.maps);
    e.numerical = components_numerical(pieces, e.maps);
  }

  std::ostringstream msg;
  if (e.loss_max > e.loss_tolerance) {
    e.status = ExpansionStatus::loss_not_zero;
    msg << "a piece's point has loss " << e.loss_max << " above the round-off bound "
        << e.loss_tolerance;
  } else if (e.by_rule.computed && e.numerical.computed &&
             e.by_rule.component != e.numerical.component) {  // labels are canonical
    e.status = ExpansionStatus::components_disagree;
    msg << "the combinatorial rule finds " << e.by_rule.count << " components, the numerical test "
        << e.numerical.count << (e.by_rule.count == e.numerical.count ? " (different ones)" : "");
  } else {
    msg << e.n_pieces << " pieces of dimension " << e.dimension_min << ".." << e.dimension_max
        << ", every point at zero loss (max " << e.loss_max << " <= " << e.loss_tolerance << ")";
    if (e.numerical.computed)
      msg << "; " << e.numerical.count << " connected component(s)";
    else if (options.components)
      msg << "; components skipped (" << e.n_pieces
          << " pieces > max_component_pieces = " << options.max_component_pieces << ")";
  }
  e.message = msg.str();
  return e;
}

io::Json to_json(const PieceComponents& c) {
  if (!c.computed) return nullptr;
  return {{"count", c.count},
          {"pairs_tested", c.pairs_tested},
          {"residual_max_intersecting", io::json_number(c.residual_max_intersecting)},
          {"residual_min_disjoint", io::json_number(c.residual_min_disjoint)}};
}

io::Json to_json(const ExpansionEnumeration& e) {
  io::Json histogram = io::Json::object();
  for (size_t d = 0; d < e.dimension_histogram.size(); ++d)
    if (e.dimension_histogram[d] > 0) histogram[std::to_string(d)] = e.dimension_histogram[d];
  return {{"status", std::string(to_string(e.status))},
          {"message", e.message},
          {"r", e.r},
          {"m", e.m},
          {"n_in", e.n_in},
          {"n_params", e.n_params},
          {"convention", std::string(to_string(e.convention))},
          {"count_exact", e.count_exact},
          {"n_pieces", e.n_pieces},
          {"dimension_histogram", histogram},
          {"dimension_min", e.dimension_min},
          {"dimension_max", e.dimension_max},
          {"loss_max", io::json_number(e.loss_max)},
          {"loss_tolerance", io::json_number(e.loss_tolerance)},
          {"components", {{"by_rule", to_json(e.by_rule)}, {"numerical", to_json(e.numerical)}}}};
}

std::string summary(const ExpansionEnumeration& e) {
  std::ostringstream s;
  s << "expansion of a width-" << e.r << " teacher into width " << e.m << " ("
    << to_string(e.convention) << " zero-type neurons): " << e.n_pieces << " pieces (exact count "
    << e.count_exact << ")\n";
  s << "dimension histogram:";
  for (size_t d = 0; d < e.dimension_histogram.size(); ++d)
    if (e.dimension_histogram[d] > 0) s << "  " << d << ": " << e.dimension_histogram[d];
  s << "\nloss at the pieces' points: max " << e.loss_max << " <= round-off bound "
    << e.loss_tolerance << "\n";
  if (e.by_rule.computed) s << "components by the combinatorial rule: " << e.by_rule.count << "\n";
  if (e.numerical.computed) {
    s << "components numerically: " << e.numerical.count << " (" << e.numerical.pairs_tested
      << " pairs tested; residual <= " << e.numerical.residual_max_intersecting
      << " when intersecting, ";
    if (std::isinf(e.numerical.residual_min_disjoint))
      s << "no disjoint pair tested)\n";
    else
      s << ">= " << e.numerical.residual_min_disjoint << " when disjoint)\n";
  }
  s << "status: " << to_string(e.status) << " (" << e.message << ")";
  return s.str();
}

}  // namespace locus::symmetry
