#include "locus/symmetry/swap_path.hpp"

#include <stdexcept>
#include <string>

#include "locus/transforms/surgery.hpp"

namespace locus::symmetry {

using Eigen::VectorXd;

std::string_view to_string(SwapSegmentKind k) {
  return k == SwapSegmentKind::move_incoming ? "move_incoming" : "transfer_outgoing";
}

namespace {

// The flat indices of a neuron's incoming weights (+ bias) and of its outgoing weights.
struct Slots {
  std::vector<Index> in, out;
};
Slots slots(const Mlp& model, int layer, Index neuron) {
  const transforms::NeuronIndices n = transforms::neuron_indices(model, {layer, neuron});
  Slots s{n.incoming, n.outgoing};
  if (n.bias >= 0) s.in.push_back(n.bias);
  return s;
}

// Builds the vertices one segment at a time: each step copies the last vertex and edits it.
struct Builder {
  std::vector<VectorXd> vertices;
  std::vector<SwapSegment> segments;
  VectorXd& next(SwapSegment s) {
    segments.push_back(s);
    vertices.push_back(vertices.back());
    return vertices.back();
  }
};

void set(VectorXd& theta, const std::vector<Index>& at, const VectorXd& values) {
  for (size_t k = 0; k < at.size(); ++k) theta(at[k]) = values(static_cast<Index>(k));
}
VectorXd get(const VectorXd& theta, const std::vector<Index>& at) {
  VectorXd v(static_cast<Index>(at.size()));
  for (size_t k = 0; k < at.size(); ++k) v(static_cast<Index>(k)) = theta(at[k]);
  return v;
}

}  // namespace

SwapPath swap_path(const Mlp& teacher, const VectorXd& theta,
                   const std::vector<NeuronSwap>& swaps) {
  teacher.check_parameters(theta, "theta");
  if (swaps.empty()) throw std::invalid_argument("swap_path: no swaps given");
  const int hidden = teacher.n_layers() - 1;
  for (const NeuronSwap& s : swaps) {
    transforms::check_neuron(teacher, {s.layer, s.i});
    transforms::check_neuron(teacher, {s.layer, s.j});
    if (s.i == s.j)
      throw std::invalid_argument("swap " + std::to_string(s.i) + "," + std::to_string(s.j) +
                                  " of layer " + std::to_string(s.layer) +
                                  ": the two neurons must differ");
  }
  std::vector<Index> widths;
  for (int k = 1; k <= hidden; ++k) widths.push_back(teacher.spec().widths[k] + 1);
  transforms::Surgery grown = transforms::grow(teacher, theta, widths);

  Builder b{{grown.theta}, {}};
  using K = SwapSegmentKind;
  for (const NeuronSwap& s : swaps) {
    const Index e = widths[static_cast<size_t>(s.layer - 1)] - 1;
    const Slots si = slots(grown.model, s.layer, s.i), sj = slots(grown.model, s.layer, s.j),
                se = slots(grown.model, s.layer, e);
    const VectorXd start = b.vertices.back();
    const VectorXd ui = get(start, si.in), uj = get(start, sj.in), ue = get(start, se.in);
    const VectorXd ai = get(start, si.out), aj = get(start, sj.out);
    const VectorXd zero_out = VectorXd::Zero(static_cast<Index>(si.out.size()));
    set(b.next({K::move_incoming, s.layer, e}), se.in, ui);  // 1
    {
      VectorXd& v = b.next({K::transfer_outgoing, s.layer, e, s.i});  // 2
      set(v, se.out, ai);
      set(v, si.out, zero_out);
    }
    set(b.next({K::move_incoming, s.layer, s.i}), si.in, uj);  // 3
    {
      VectorXd& v = b.next({K::transfer_outgoing, s.layer, s.i, s.j});  // 4
      set(v, si.out, aj);
      set(v, sj.out, zero_out);
    }
    set(b.next({K::move_incoming, s.layer, s.j}), sj.in, ui);  // 5
    {
      VectorXd& v = b.next({K::transfer_outgoing, s.layer, s.j, e});  // 6
      set(v, sj.out, ai);
      set(v, se.out, zero_out);
    }
    set(b.next({K::move_incoming, s.layer, e}), se.in, ue);  // 7
  }
  SwapPath out{grown.model,
               Eigen::MatrixXd(static_cast<Index>(b.vertices.size()), grown.theta.size()),
               std::move(b.segments)};
  for (size_t k = 0; k < b.vertices.size(); ++k)
    out.vertices.row(static_cast<Index>(k)) = b.vertices[k].transpose();
  return out;
}

}  // namespace locus::symmetry
