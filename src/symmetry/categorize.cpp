#include "locus/symmetry/categorize.hpp"

#include <Eigen/LU>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "locus/io/format.hpp"

namespace locus::symmetry {

namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

std::string widths_text(const Mlp& model) { return model.describe(); }

// The c of sigma(-z) = c - sigma(z), for the activations that have one: 0 for the odd ones
// (tanh, erf, identity), 1 for the sigmoid; NaN for the others (softplus, g, gelu, relu, smoolu:
// their reflections differ by a non-constant term).
double reflection_constant(Activation a) {
  if (a == Activation::tanh || a == Activation::erf || a == Activation::identity) return 0.0;
  if (a == Activation::sigmoid) return 1.0;
  return NAN;
}

// A two-layer net with one output, as rows v_j = (w_j, b_j) and effective outgoing weights
// s a_j (s the output scale), plus the effective output bias.
struct TwoLayer {
  MatrixXd incoming;  // m x D'
  VectorXd outgoing;  // m
  double output_bias = 0.0;
};

void require_two_layer(const Mlp& model, const char* what) {
  if (model.n_layers() != 2 || model.output_dim() != 1)
    throw std::invalid_argument(std::string(what) + " " + widths_text(model) +
                                " is not a two-layer network [D, width, 1] with one output");
}

TwoLayer two_layer(const Mlp& model, const VectorXd& theta) {
  TwoLayer t;
  const auto w = model.weight(theta, 0);
  const Index h = w.rows();
  t.incoming.resize(h, w.cols() + (model.has_bias(0) ? 1 : 0));
  t.incoming.leftCols(w.cols()) = w;
  if (model.has_bias(0)) t.incoming.col(w.cols()) = model.bias(theta, 0);
  const double s = model.output_scale();
  t.outgoing = s * model.weight(theta, 1).row(0).transpose();
  if (model.has_bias(1)) t.output_bias = s * model.bias(theta, 1)(0);
  return t;
}

// The sign s in {+1, -1} minimising |u - s v|_inf (only +1 unless signs are allowed) and that
// distance.
std::pair<int, double> match(const VectorXd& u, const VectorXd& v, bool signs) {
  const double plus = (u - v).cwiseAbs().maxCoeff();
  if (!signs) return {1, plus};
  const double minus = (u + v).cwiseAbs().maxCoeff();
  return minus < plus ? std::pair{-1, minus} : std::pair{1, plus};
}

std::string list(const std::vector<Index>& v) {
  std::string s;
  for (Index j : v) s += (s.empty() ? "" : ",") + std::to_string(j);
  return "{" + s + "}";
}

}  // namespace

void CategorizeOptions::validate() const {
  auto check = [](const char* field, double v) {
    if (!(v >= 0) || !(v < 1))
      throw options::OptionError("CategorizeOptions", field,
                                 "must be in [0, 1), got " + io::format_number(v));
  };
  check("weight_tolerance_relative", weight_tolerance_relative);
  check("output_tolerance_relative", output_tolerance_relative);
}

const options::Table<CategorizeOptions>& categorize_table() {
  using O = CategorizeOptions;
  static const auto t =
      options::Table<O>("CategorizeOptions")
          .add("weight_tolerance_relative", "incoming vectors match within this * max_i |v*_i|_inf",
               &O::weight_tolerance_relative)
          .add("output_tolerance_relative",
               "outgoing weights are zero (sums equal) within this * max_i |a*_i|",
               &O::output_tolerance_relative)
          .add("sign_symmetry",
               "tanh, erf, identity, sigmoid: match v_j = -v*_i as a copy with sign -1",
               &O::sign_symmetry);
  return t;
}

std::string_view to_string(NeuronKind k) {
  switch (k) {
    case NeuronKind::copy:
      return "copy";
    case NeuronKind::zero_type:
      return "zero_type";
    case NeuronKind::zero_group:
      return "zero_group";
    case NeuronKind::unexplained:
      return "unexplained";
  }
  return "?";
}

Categorization categorize(const Mlp& teacher, const VectorXd& teacher_theta, const Mlp& student,
                          const VectorXd& theta, const CategorizeOptions& options) {
  options.validate();
  require_two_layer(teacher, "the teacher");
  teacher.check_parameters(teacher_theta, "teacher parameters");
  const MlpSpec& ts = teacher.spec();
  const MlpSpec& ss = student.spec();
  const bool same_arch =
      student.n_layers() == 2 && student.output_dim() == 1 &&
      student.input_dim() == teacher.input_dim() && ss.activation == ts.activation &&
      student.has_bias(0) == teacher.has_bias(0) && student.has_bias(1) == teacher.has_bias(1) &&
      ss.mean_field == ts.mean_field;
  if (!same_arch)
    throw std::invalid_argument(
        "the student " + widths_text(student) + " is not of the teacher's architecture [" +
        std::to_string(teacher.input_dim()) + ", m, 1] (teacher " + widths_text(teacher) +
        "): same input dimension, activation, bias flags and scaling needed");
  student.check_parameters(theta, "student parameters");

  const TwoLayer t = two_layer(teacher, teacher_theta);
  const TwoLayer s = two_layer(student, theta);
  Categorization c;
  c.r = t.incoming.rows();
  c.m = s.incoming.rows();
  c.incoming_dim = t.incoming.cols();
  const double v_scale = t.incoming.cwiseAbs().maxCoeff();
  const double a_scale = t.outgoing.cwiseAbs().maxCoeff();
  c.weight_tolerance = options.weight_tolerance_relative * (v_scale > 0 ? v_scale : 1.0);
  c.output_tolerance = options.output_tolerance_relative * (a_scale > 0 ? a_scale : 1.0);
  const double reflection = reflection_constant(ts.activation);
  c.sign_symmetry = options.sign_symmetry && !std::isnan(reflection);

  // Irreducibility of the teacher at these tolerances: every match below is then unique (two
  // teacher vectors are more than 2 weight_tolerance apart, so no student vector is within
  // weight_tolerance of both).
  for (Index i = 0; i < c.r; ++i) {
    if (std::abs(t.outgoing(i)) <= c.output_tolerance)
      throw std::invalid_argument("the teacher is not irreducible: neuron " + std::to_string(i) +
                                  " has outgoing weight " + io::format_number(t.outgoing(i)) +
                                  " (|a*| <= " + io::format_number(c.output_tolerance) + ")");
    if (c.sign_symmetry && reflection == 0.0 &&
        t.incoming.row(i).cwiseAbs().maxCoeff() <= c.weight_tolerance)
      throw std::invalid_argument("the teacher is not irreducible: neuron " + std::to_string(i) +
                                  " has a zero incoming vector (sigma odd: a zero neuron)");
    for (Index k = 0; k < i; ++k) {
      const auto [sign, dist] =
          match(t.incoming.row(i).transpose(), t.incoming.row(k).transpose(), c.sign_symmetry);
      if (dist <= 2 * c.weight_tolerance)
        throw std::invalid_argument("the teacher is not irreducible: neurons " + std::to_string(k) +
                                    " and " + std::to_string(i) + " have " +
                                    (sign < 0 ? "opposite" : "equal") + " incoming vectors (|v_i " +
                                    (sign < 0 ? "+" : "-") +
                                    " v_k|_inf = " + io::format_number(dist) + " <= 2 * " +
                                    io::format_number(c.weight_tolerance) + ")");
    }
  }

  c.kinds.assign(c.m, NeuronKind::unexplained);
  c.phi.assign(c.m, -1);
  c.signs.assign(c.m, 1);
  c.teacher.resize(c.r);
  for (Index i = 0; i < c.r; ++i) c.teacher[i].output_target = t.outgoing(i);

  // Copies: the nearest teacher vector, if within weight_tolerance.
  for (Index j = 0; j < c.m; ++j) {
    for (Index i = 0; i < c.r; ++i) {
      const auto [sign, dist] =
          match(s.incoming.row(j).transpose(), t.incoming.row(i).transpose(), c.sign_symmetry);
      if (dist > c.weight_tolerance) continue;
      TeacherCopies& tc = c.teacher[i];
      tc.copies.push_back(j);
      tc.signs.push_back(sign);
      tc.output_sum += sign * s.outgoing(j);
      tc.incoming_deviation = std::max(tc.incoming_deviation, dist);
      c.kinds[j] = NeuronKind::copy;
      c.phi[j] = static_cast<int>(i);
      c.signs[j] = sign;
      ++c.k;
      break;
    }
  }
  for (Index i = 0; i < c.r; ++i) {
    TeacherCopies& tc = c.teacher[i];
    tc.output_error = std::abs(tc.output_sum - tc.output_target);
    if (tc.copies.empty()) c.uncovered.push_back(i);
  }
  // Zero-type: not a copy, outgoing weight ~0.
  for (Index j = 0; j < c.m; ++j)
    if (c.kinds[j] == NeuronKind::unexplained && std::abs(s.outgoing(j)) <= c.output_tolerance) {
      c.kinds[j] = NeuronKind::zero_type;
      c.zero_type.push_back(j);
      c.zero_type_output_max = std::max(c.zero_type_output_max, std::abs(s.outgoing(j)));
    }
  // Zero groups: the remaining neurons gathered around the first of each cluster (a neuron
  // joins when its v is within weight_tolerance of that first v); clusters of >= 2 whose signed
  // outgoing sum is ~0.
  std::vector<bool> taken(c.m, false);
  for (Index j = 0; j < c.m; ++j) {
    if (c.kinds[j] != NeuronKind::unexplained || taken[j]) continue;
    ZeroGroup g;
    g.incoming = s.incoming.row(j).transpose();
    g.neurons.push_back(j);
    g.signs.push_back(1);
    g.output_sum = s.outgoing(j);
    for (Index q = j + 1; q < c.m; ++q) {
      if (c.kinds[q] != NeuronKind::unexplained || taken[q]) continue;
      const auto [sign, dist] = match(s.incoming.row(q).transpose(), g.incoming, c.sign_symmetry);
      if (dist > c.weight_tolerance) continue;
      g.neurons.push_back(q);
      g.signs.push_back(sign);
      g.output_sum += sign * s.outgoing(q);
      g.incoming_spread = std::max(g.incoming_spread, dist);
    }
    for (Index n : g.neurons) taken[n] = true;
    if (g.neurons.size() < 2 || std::abs(g.output_sum) > c.output_tolerance) continue;
    for (std::size_t q = 0; q < g.neurons.size(); ++q) {
      const Index n = g.neurons[q];
      c.kinds[n] = NeuronKind::zero_group;
      c.signs[n] = g.signs[q];
    }
    c.zero_groups.push_back(std::move(g));
  }
  for (Index j = 0; j < c.m; ++j)
    if (c.kinds[j] == NeuronKind::unexplained) c.unexplained.push_back(j);
  // The constant left over by reflected neurons: a_j sigma(-v x) = c a_j - a_j sigma(v x).
  double flipped_sum = 0.0;
  for (Index j = 0; j < c.m; ++j)
    if (c.signs[j] < 0) {
      flipped_sum += s.outgoing(j);
      ++c.flipped;
    }
  const bool output_bias = student.has_bias(1);
  c.constant_error =
      std::abs((c.flipped ? reflection * flipped_sum : 0.0) + s.output_bias - t.output_bias);

  // The piece phi names (when phi is onto {0..r-1} and every neuron is explained): the outgoing
  // weights a (m of them) and the free incoming vectors of zero-type neurons and zero groups vary,
  // subject to linear constraints on a -- one sum per teacher neuron and per zero group, a_j = 0
  // per zero-type neuron, and (reflections with c != 0, no output bias to absorb it) the constant
  // sum_{flipped} c a_j = 0 -- so dim = m + (z + q) D' - rank(constraints). Without reflections
  // the rows have disjoint supports and this is (k - r) + z D' + sum_groups (D' + g - 1).
  if (c.unexplained.empty() && c.uncovered.empty()) {
    const Index z = static_cast<Index>(c.zero_type.size());
    const Index q = static_cast<Index>(c.zero_groups.size());
    const bool constant_row = c.flipped > 0 && reflection != 0.0 && !output_bias;
    MatrixXd rows = MatrixXd::Zero(c.r + z + q + (constant_row ? 1 : 0), c.m);
    for (Index i = 0; i < c.r; ++i)
      for (std::size_t n = 0; n < c.teacher[i].copies.size(); ++n)
        rows(i, c.teacher[i].copies[n]) = c.teacher[i].signs[n];
    for (Index n = 0; n < z; ++n) rows(c.r + n, c.zero_type[n]) = 1.0;
    for (Index g = 0; g < q; ++g)
      for (std::size_t n = 0; n < c.zero_groups[g].neurons.size(); ++n)
        rows(c.r + z + g, c.zero_groups[g].neurons[n]) = c.zero_groups[g].signs[n];
    if (constant_row)
      for (Index j = 0; j < c.m; ++j)
        if (c.signs[j] < 0) rows(rows.rows() - 1, j) = reflection;
    // Entries 0, +-1 and c = 1: the LU's rank is exact at these sizes.
    c.piece_dimension = c.m + (z + q) * c.incoming_dim - Eigen::FullPivLU<MatrixXd>(rows).rank();
    c.piece = std::string(q == 0 ? "Gamma(phi)" : "zero-group piece") +
              (c.flipped ? " with sign flips" : "");
  }

  // The verdict: the first failing condition, else the piece.
  double worst_sum = 0.0;
  Index worst_i = 0;
  for (Index i = 0; i < c.r; ++i)
    if (c.teacher[i].output_error > worst_sum) worst_sum = c.teacher[i].output_error, worst_i = i;
  if (!c.unexplained.empty()) {
    c.message = "unexplained neurons " + list(c.unexplained) +
                ": neither copies of a teacher neuron (|v - v*|_inf > " +
                io::format_number(c.weight_tolerance) + "), nor zero-type (|a| > " +
                io::format_number(c.output_tolerance) + "), nor in a zero group";
  } else if (!c.uncovered.empty()) {
    c.message = "teacher neurons " + list(c.uncovered) + " have no copy: phi is not onto {0.." +
                std::to_string(c.r - 1) + "}";
  } else if (worst_sum > c.output_tolerance) {
    c.message = "the copies of teacher neuron " + std::to_string(worst_i) +
                " have outgoing weights summing to " +
                io::format_number(c.teacher[worst_i].output_sum) +
                ", not a* = " + io::format_number(c.teacher[worst_i].output_target) + " (error " +
                io::format_number(worst_sum) + " > " + io::format_number(c.output_tolerance) + ")";
  } else if (c.constant_error > c.output_tolerance) {
    c.message = "the constant term (output bias and c sum a_j over the " +
                std::to_string(c.flipped) +
                " sign-flipped neurons) differs from the teacher's by " +
                io::format_number(c.constant_error) + " > " + io::format_number(c.output_tolerance);
  } else {
    c.on_expansion_manifold = true;
    c.message = "on the expansion manifold: " + c.piece + " with k = " + std::to_string(c.k) +
                " copies, " + std::to_string(c.zero_type.size()) + " zero-type neurons and " +
                std::to_string(c.zero_groups.size()) + " zero groups, dimension " +
                std::to_string(c.piece_dimension) + " (max copy-sum error " +
                io::format_number(worst_sum) + " <= " + io::format_number(c.output_tolerance) + ")";
  }
  return c;
}

io::Json to_json(const Categorization& c) {
  io::Json j;
  j["on_expansion_manifold"] = c.on_expansion_manifold;
  j["message"] = c.message;
  j["r"] = c.r;
  j["m"] = c.m;
  j["incoming_dim"] = c.incoming_dim;
  j["weight_tolerance"] = c.weight_tolerance;
  j["output_tolerance"] = c.output_tolerance;
  j["sign_symmetry"] = c.sign_symmetry;
  j["phi"] = c.phi;
  io::Json kinds = io::Json::array();
  for (NeuronKind k : c.kinds) kinds.push_back(std::string(to_string(k)));
  j["kinds"] = kinds;
  j["signs"] = c.signs;
  io::Json teacher = io::Json::array();
  for (std::size_t i = 0; i < c.teacher.size(); ++i) {
    const TeacherCopies& t = c.teacher[i];
    teacher.push_back({{"neuron", i},
                       {"copies", t.copies},
                       {"signs", t.signs},
                       {"output_sum", t.output_sum},
                       {"output_target", t.output_target},
                       {"output_error", t.output_error},
                       {"incoming_deviation", t.incoming_deviation}});
  }
  j["teacher"] = teacher;
  j["zero_type"] = c.zero_type;
  j["zero_type_output_max"] = c.zero_type_output_max;
  io::Json groups = io::Json::array();
  for (const ZeroGroup& g : c.zero_groups)
    groups.push_back({{"neurons", g.neurons},
                      {"signs", g.signs},
                      {"incoming", std::vector<double>(g.incoming.data(),
                                                       g.incoming.data() + g.incoming.size())},
                      {"output_sum", g.output_sum},
                      {"incoming_spread", g.incoming_spread}});
  j["zero_groups"] = groups;
  j["unexplained"] = c.unexplained;
  j["uncovered"] = c.uncovered;
  j["flipped"] = c.flipped;
  j["constant_error"] = c.constant_error;
  j["k"] = c.k;
  j["piece"] = c.piece;
  j["piece_dimension"] = c.piece_dimension;
  return j;
}

std::string summary(const Categorization& c) {
  std::string phi;
  for (int p : c.phi) phi += (phi.empty() ? "" : ",") + std::to_string(p);
  std::string out = std::string(c.on_expansion_manifold ? "on" : "off") +
                    " the expansion manifold: " + c.message + "\nphi = (" + phi +
                    ")  (teacher neurons 1.." + std::to_string(c.r) +
                    ", 0 zero-type or zero group, -1 unexplained)\n";
  for (std::size_t i = 0; i < c.teacher.size(); ++i) {
    const TeacherCopies& t = c.teacher[i];
    out += "teacher " + std::to_string(i) + ": copies " + list(t.copies) +
           ", sum a = " + io::format_number(t.output_sum) +
           " vs a* = " + io::format_number(t.output_target) + " (error " +
           io::format_number(t.output_error) +
           ", |v - v*| <= " + io::format_number(t.incoming_deviation) + ")\n";
  }
  out += "zero-type " + list(c.zero_type) + " (max |a| " +
         io::format_number(c.zero_type_output_max) + ")\n";
  for (const ZeroGroup& g : c.zero_groups)
    out += "zero group " + list(g.neurons) + ": sum a = " + io::format_number(g.output_sum) + "\n";
  if (!c.unexplained.empty()) out += "unexplained " + list(c.unexplained) + "\n";
  return out;
}

}  // namespace locus::symmetry
