// Levenberg-Marquardt's damping over seeds and problem shapes: the evidence behind the defaults of
// LevenbergMarquardtOptions. For each problem and seed it runs solve() with method lm (options
// given as --set name=value, as `locus train --lm-...` would) and records the iterations and
// seconds until the loss first drops below 1e-20, and how the run ended.
//
//   locus_solvers_lm_damping --problems wide,tall,cooper --seeds 10 --set initial_damping=1e-6
//
// --trace 1 prints every iteration to stderr (iteration, loss, |g|∞, damping, step norm).
//
// Problems (tests/solvers/problems.cpp; softplus unless named, squared loss with sum reduction,
// Glorot inits):
//   wide    [10, 200, 1] student of a [10, 4, 1] teacher, d = 500: m = 500 < n = 2401
//           (bench/solvers/time_to_loss.cpp, acceptance 4 of the performance issue)
//   tall    [3, 3, 1] student of a [3, 2, 1] teacher, d = 150: m = 150 > n = 16
//           (tests/solvers LevenbergMarquardt.TallJacobianUsesNormalEquations at seed 1); the
//           extra neuron makes the zero set singular (J^T J rank-deficient on it) and most seeds
//           crawl or stop at non-global points, whatever the damping
//   tall_exact  [5, 3, 1] student of a [5, 3, 1] teacher, d = 200: m = 200 > n = 22, a regular
//           (isolated up to symmetry) zero
//   cooper  [5, 40, 1] smoolu on d = 40 random Gaussian labels: m = 40 < n = 281 (Cooper 2021)
//   cooper200  [10, 200, 1] smoolu on d = 200 random labels: m = 200 < n = 2401
// Prints one JSON object (context block first): every run, then per problem the median and worst
// iterations to 1e-20 and the number of runs that reached it.

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "locus/io/json.hpp"
#include "locus/solvers/solve.hpp"
#include "problems.hpp"

namespace {

namespace sv = locus::solvers;
using locus::Activation;

constexpr double k_target = 1e-20;

locus::testing::Problem make(const std::string& name, std::uint64_t s) {
  namespace t = locus::testing;
  if (name == "wide") return t::realizable_teacher_student(s, 500, 10, 4, 200);
  if (name == "tall") return t::realizable_teacher_student(s, 150, 3, 2, 3);
  if (name == "tall_exact") return t::realizable_teacher_student(s, 200, 5, 3, 3);
  if (name == "cooper") return t::cooper(s, 40, 5, 40, Activation::smoolu);
  if (name == "cooper200") return t::cooper(s, 200, 10, 200, Activation::smoolu);
  throw std::invalid_argument("unknown problem '" + name +
                              "' (wide, tall, tall_exact, cooper, cooper200)");
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::size_t a = 0;
  for (std::size_t b; (b = text.find(sep, a)) != std::string::npos; a = b + 1)
    out.push_back(text.substr(a, b - a));
  out.push_back(text.substr(a));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string problems = "wide,tall,cooper";
  int seeds = 10;
  std::vector<std::string> sets;
  bool trace = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--problems")
      problems = v;
    else if (a == "--seeds")
      seeds = std::stoi(v);
    else if (a == "--set")
      sets.push_back(v);
    else if (a == "--trace")
      trace = v == "1";
    else if (a == "--threads")
      locus::set_num_threads(std::stoi(v));
    else {
      std::cerr << "unknown option " << a << "\n";
      return 2;
    }
  }
  sv::TrainOptions o;
  o.method = sv::Method::lm;
  sv::set_option(o, o.method, "record_trace", true);
  for (const std::string& s : sets) {
    const auto eq = s.find('=');
    sv::set_option_text(o, o.method, s.substr(0, eq), s.substr(eq + 1));
  }
  locus::io::Json runs = locus::io::Json::array(), summary = locus::io::Json::object();
  for (const std::string& name : split(problems, ',')) {
    std::vector<int> iterations;
    for (int s = 0; s < seeds; ++s) {
      const locus::testing::Problem p = make(name, static_cast<std::uint64_t>(s));
      const locus::Objective objective(p.model, p.data);
      const sv::SolveResult r = sv::solve(objective, p.x0, o);
      locus::io::Json reached = nullptr, seconds = nullptr;
      if (trace)  // iteration, loss, |g|inf, damping lambda, |step| (0: rejected)
        for (const sv::IterationRecord& rec : r.trace)
          std::cerr << rec.iteration << " " << rec.loss << " " << rec.gradient_max_norm << " "
                    << rec.damping << " " << rec.step_norm << "\n";
      for (const sv::IterationRecord& rec : r.trace)
        if (rec.loss < k_target) {
          reached = rec.iteration;
          seconds = rec.seconds;
          iterations.push_back(rec.iteration);
          break;
        }
      runs.push_back({{"problem", name},
                      {"seed", s},
                      {"status", std::string(sv::to_string(r.status))},
                      {"iterations", r.iterations},
                      {"iterations_to_target", reached},
                      {"seconds_to_target", seconds},
                      {"seconds", r.seconds},
                      {"loss_final", r.loss_final},
                      {"gradient_max_norm", r.gradient_max_norm}});
      std::cerr << name << " seed " << s << ": " << sv::to_string(r.status) << ", " << r.iterations
                << " iterations, to 1e-20: " << reached.dump() << " (" << seconds.dump()
                << " s), loss " << r.loss_final << ", |g| " << r.gradient_max_norm << "\n";
    }
    std::sort(iterations.begin(), iterations.end());
    const std::size_t k = iterations.size();
    summary[name] = {
        {"reached", k},
        {"runs", seeds},
        {"median_iterations", k ? 0.5 * (iterations[(k - 1) / 2] + iterations[k / 2]) : 0.0},
        {"worst_iterations", k ? iterations.back() : 0}};
  }
  const locus::io::Json options = {
      {"problems", problems}, {"seeds", seeds}, {"set", sets}, {"threads", locus::num_threads()}};
  std::cout << locus::io::with_context(options, {{"summary", summary}, {"runs", runs}}).dump(2)
            << "\n";
  return 0;
}
