// Weight matching (align.hpp): the linear assignment solver and coordinate descent over the
// hidden layers.

#include "locus/paths/align.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>

#include "locus/core/random.hpp"
#include "locus/io/format.hpp"
#include "locus/transforms/surgery.hpp"

namespace locus::paths {

using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

// C_ij = <A's neuron i, B's neuron j> over incoming weights, bias and outgoing weights of hidden
// layer `layer` (the flat indices of both are the same: one architecture).
MatrixXd score_matrix(const Mlp& model, const VectorXd& a, const VectorXd& b, int layer) {
  const Index h = model.spec().widths[size_t(layer)];
  std::vector<transforms::NeuronIndices> at(static_cast<size_t>(h));
  for (Index j = 0; j < h; ++j) at[size_t(j)] = transforms::neuron_indices(model, {layer, j});
  MatrixXd c(h, h);
  for (Index i = 0; i < h; ++i) {
    const transforms::NeuronIndices& ni = at[size_t(i)];
    for (Index j = 0; j < h; ++j) {
      const transforms::NeuronIndices& nj = at[size_t(j)];
      double s = 0.0;
      for (size_t e = 0; e < ni.incoming.size(); ++e) s += a[ni.incoming[e]] * b[nj.incoming[e]];
      if (ni.bias >= 0) s += a[ni.bias] * b[nj.bias];
      for (size_t e = 0; e < ni.outgoing.size(); ++e) s += a[ni.outgoing[e]] * b[nj.outgoing[e]];
      c(i, j) = s;
    }
  }
  return c;
}

struct Run {
  VectorXd theta;
  std::vector<std::vector<Index>> permutations;
  int sweeps = 0;
  bool converged = false;
};

// Coordinate descent from theta_b permuted by `start` (one permutation per hidden layer).
Run coordinate_descent(const Mlp& model, const VectorXd& a, const VectorXd& b,
                       std::vector<std::vector<Index>> start, int max_sweeps, Rng& rng) {
  const int hidden = model.n_layers() - 1;
  Run run{b, std::move(start)};
  for (int k = 1; k <= hidden; ++k)
    run.theta =
        transforms::permute_neurons(model, run.theta, k, run.permutations[size_t(k - 1)]).theta;
  // A change must raise J by more than its rounding: J is a sum of n products, each rounded to
  // eps of its size, so |J| is known to about n eps sum |a_i b_i| <= n eps |a| |b|. Without this
  // guard two assignments equal up to rounding could alternate forever.
  const double j_rounding =
      double(a.size()) * std::numeric_limits<double>::epsilon() * a.norm() * b.norm();
  while (run.sweeps < max_sweeps) {
    ++run.sweeps;
    bool changed = false;
    for (Index layer0 : rng.permutation(hidden)) {
      const int layer = int(layer0) + 1;
      const MatrixXd c = score_matrix(model, a, run.theta, layer);
      const std::vector<Index> sigma = solve_assignment(c);
      double gain = 0.0;
      for (Index i = 0; i < c.rows(); ++i) gain += c(i, sigma[size_t(i)]) - c(i, i);
      if (!(gain > j_rounding)) continue;
      run.theta = transforms::permute_neurons(model, run.theta, layer, sigma).theta;
      // Compose: the aligned neuron i is the current neuron sigma[i], which is B's neuron
      // permutation[sigma[i]].
      std::vector<Index>& p = run.permutations[size_t(layer - 1)];
      std::vector<Index> composed(p.size());
      for (size_t i = 0; i < p.size(); ++i) composed[i] = p[size_t(sigma[i])];
      p = std::move(composed);
      changed = true;
    }
    if (!changed) {
      run.converged = true;
      break;
    }
  }
  return run;
}

}  // namespace

std::vector<Index> solve_assignment(const MatrixXd& score) {
  const Index n = score.rows();
  if (n == 0 || score.cols() != n)
    throw std::invalid_argument("solve_assignment: the score must be square and non-empty, got " +
                                std::to_string(score.rows()) + " x " +
                                std::to_string(score.cols()));
  if (!score.allFinite())
    throw std::invalid_argument("solve_assignment: the score has non-finite entries");
  // Minimize cost = -score. Rows are added one at a time; each addition finds a shortest
  // augmenting path in the reduced costs cost(i, j) - u_i - v_j >= 0 (Dijkstra over columns,
  // O(n^2)) and updates the potentials so that the reduced costs stay >= 0 and vanish on the
  // matching: complementary slackness certifies optimality. 1-based, column 0 a sentinel.
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> u(size_t(n + 1), 0.0), v(size_t(n + 1), 0.0);
  std::vector<Index> match(size_t(n + 1), 0), way(size_t(n + 1), 0);  // match[col] = row
  for (Index i = 1; i <= n; ++i) {
    match[0] = i;
    Index j0 = 0;
    std::vector<double> min_reduced(size_t(n + 1), inf);
    std::vector<char> used(size_t(n + 1), 0);
    do {
      used[size_t(j0)] = 1;
      const Index i0 = match[size_t(j0)];
      double delta = inf;
      Index j1 = 0;
      for (Index j = 1; j <= n; ++j) {
        if (used[size_t(j)]) continue;
        const double reduced = -score(i0 - 1, j - 1) - u[size_t(i0)] - v[size_t(j)];
        if (reduced < min_reduced[size_t(j)]) {
          min_reduced[size_t(j)] = reduced;
          way[size_t(j)] = j0;
        }
        if (min_reduced[size_t(j)] < delta) {
          delta = min_reduced[size_t(j)];
          j1 = j;
        }
      }
      for (Index j = 0; j <= n; ++j) {
        if (used[size_t(j)]) {
          u[size_t(match[size_t(j)])] += delta;
          v[size_t(j)] -= delta;
        } else {
          min_reduced[size_t(j)] -= delta;
        }
      }
      j0 = j1;
    } while (match[size_t(j0)] != 0);
    do {  // augment along the path back to the sentinel
      const Index j1 = way[size_t(j0)];
      match[size_t(j0)] = match[size_t(j1)];
      j0 = j1;
    } while (j0 != 0);
  }
  std::vector<Index> sigma(static_cast<size_t>(n));
  for (Index j = 1; j <= n; ++j) sigma[size_t(match[size_t(j)] - 1)] = j - 1;
  return sigma;
}

void AlignOptions::validate() const {
  if (restarts < 1)
    throw std::invalid_argument("AlignOptions.restarts must be >= 1, got " +
                                std::to_string(restarts));
  if (max_sweeps < 1)
    throw std::invalid_argument("AlignOptions.max_sweeps must be >= 1, got " +
                                std::to_string(max_sweeps));
  profile.validate();
}

const options::Table<AlignOptions>& align_table() {
  using O = AlignOptions;
  static const auto t = add_profile_rows(
      options::Table<O>("AlignOptions")
          .add("restarts", "coordinate-descent runs (the first from B as given)", &O::restarts)
          .add("seed", "seeds the layer orders and the restarts' permutations", &O::seed)
          .add("max_sweeps", "sweeps over the hidden layers per run", &O::max_sweeps));
  return t;
}

Alignment weight_match(const Mlp& model, const VectorXd& theta_a, const VectorXd& theta_b,
                       const AlignOptions& options, const ProgressCallback& progress) {
  options.validate();
  model.check_parameters(theta_a, "theta_a");
  model.check_parameters(theta_b, "theta_b");
  const int hidden = model.n_layers() - 1;
  Rng rng(options.seed);
  std::optional<Run> best;
  int best_restart = 0;
  const int runs = hidden <= 1 ? 1 : options.restarts;
  for (int r = 0; r < runs; ++r) {
    std::vector<std::vector<Index>> start;
    for (int k = 1; k <= hidden; ++k) {
      const Index h = model.spec().widths[size_t(k)];
      std::vector<Index> identity(static_cast<size_t>(h));
      std::iota(identity.begin(), identity.end(), Index(0));
      start.push_back(r == 0 ? identity : rng.permutation(h));
    }
    Run run =
        coordinate_descent(model, theta_a, theta_b, std::move(start), options.max_sweeps, rng);
    if (!best || theta_a.dot(run.theta) > theta_a.dot(best->theta)) {
      best = std::move(run);
      best_restart = r;
    }
    // (One hidden layer: one assignment is the exact optimum, restarts cannot improve it.)
    report_progress(progress, {.stage = "weight matching", .done = r + 1, .total = runs});
  }
  Alignment al;
  al.converged = best->converged;
  al.permutations = std::move(best->permutations);
  al.theta = std::move(best->theta);
  al.objective_before = theta_a.dot(theta_b);
  al.objective_after = theta_a.dot(al.theta);
  al.distance_before = (theta_a - theta_b).norm();
  al.distance_after = (theta_a - al.theta).norm();
  al.sweeps = best->sweeps;
  al.best_restart = best_restart;
  al.message = al.converged ? "a sweep over the " + std::to_string(hidden) +
                                  " hidden layer(s) changed no permutation (sweep " +
                                  std::to_string(al.sweeps) + ")"
                            : "max_sweeps = " + std::to_string(options.max_sweeps) +
                                  " reached with permutations still changing";
  return al;
}

Alignment weight_match(const Mlp& model, const VectorXd& theta_a, const VectorXd& theta_b,
                       FunctionRef loss, const AlignOptions& options,
                       const ProgressCallback& progress) {
  if (loss.n_params() != model.n_params())
    throw std::invalid_argument("the loss has " + std::to_string(loss.n_params()) +
                                " parameters, the model " + std::to_string(model.n_params()));
  if (theta_a == theta_b)
    throw std::invalid_argument("theta_a and theta_b are equal: no line to profile");
  Alignment al = weight_match(model, theta_a, theta_b, options, progress);
  al.line_before = loss_profile(loss, Path::line(theta_a, theta_b), options.profile, progress);
  // A and the aligned B may coincide (B was a permutation of A): the line is then one point,
  // whose profile is the constant L(A).
  if (theta_a != al.theta)
    al.line_after = loss_profile(loss, Path::line(theta_a, al.theta), options.profile, progress);
  return al;
}

io::Json to_json(const Alignment& a) {
  io::Json perms = io::Json::array();
  for (const auto& p : a.permutations) perms.push_back(p);
  io::Json j = {{"converged", a.converged},
                {"message", a.message},
                {"permutations", perms},
                {"objective_before", io::json_number(a.objective_before)},
                {"objective_after", io::json_number(a.objective_after)},
                {"distance_before", io::json_number(a.distance_before)},
                {"distance_after", io::json_number(a.distance_after)},
                {"sweeps", a.sweeps},
                {"best_restart", a.best_restart}};
  if (a.line_before) j["line_before"] = to_json(*a.line_before);
  if (a.line_after) j["line_after"] = to_json(*a.line_after);
  return j;
}

std::string summary(const Alignment& a) {
  std::string out = std::string("alignment: ") + (a.converged ? "converged" : "not converged") +
                    ": " + a.message + "\n";
  out += "  |theta_A - theta_B|_2: " + io::format_number(a.distance_before, 6) + " -> " +
         io::format_number(a.distance_after, 6) + " aligned\n";
  out += "  J = theta_A . theta_B: " + io::format_number(a.objective_before, 6) + " -> " +
         io::format_number(a.objective_after, 6) + "\n";
  for (size_t k = 0; k < a.permutations.size(); ++k) {
    out += "  layer " + std::to_string(k + 1) + ":";
    for (Index i : a.permutations[k]) out += " " + std::to_string(i);
    out += "\n";
  }
  if (a.line_before)
    out += "  straight-line barrier above the larger end: " +
           io::format_number(a.line_before->barriers.above_larger_end, 6) + " -> " +
           (a.line_after ? io::format_number(a.line_after->barriers.above_larger_end, 6)
                         : std::string("0 (the aligned B equals A)")) +
           " aligned\n";
  return out;
}

}  // namespace locus::paths
