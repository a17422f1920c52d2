// Time to loss thresholds for locus's solvers on the [10, 200, 1], d = 500 realizable
// teacher-student problem (acceptance 6 of the solver issue). Not a google/benchmark suite: each
// run is one optimisation, and the figure of merit is the wall time at which the loss first drops
// below 1e-8, 1e-14, 1e-20, 1e-26 and 1e-28 (read from the solver trace).
//
//   locus_solvers_time_to_loss --seed 0 --methods lm,newton,lbfgs,flow+lm --export out/seed0
//
// --export writes x.npy, y.npy and init.npy (the flat initial parameters in locus's layout, which
// is PyTorch's state-dict order) for bench/solvers/compare_torch_lbfgs.py. Prints one JSON object
// (context block first).

#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "locus/io/json.hpp"
#include "locus/io/npy.hpp"
#include "locus/solvers/solve.hpp"
#include "problems.hpp"

namespace {

namespace sv = locus::solvers;

const std::vector<double> k_thresholds = {1e-2, 1e-4, 1e-6, 1e-8, 1e-14, 1e-20, 1e-26, 1e-28};

// The process's minor page faults so far (getrusage): pages touched for the first time.
long minor_page_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

locus::io::Json run(const locus::testing::Problem& p, const std::string& spec, double max_seconds) {
  sv::TrainOptions o;
  const auto plus = spec.find('+');
  o.method = sv::parse_method(spec.substr(0, plus));
  if (plus != std::string::npos) o.polish = sv::parse_method(spec.substr(plus + 1));
  std::vector<sv::Method> stages = {o.method};
  if (o.polish) stages.push_back(*o.polish);
  for (sv::Method m : stages) {
    sv::set_option(o, m, "record_trace", true);
    sv::stop_criteria(o, m).max_seconds = max_seconds;
  }
  // L-BFGS at its defaults stops at |g| <= 1e-13 or at its round-off floor (line search fails).
  const locus::Objective objective(p.model, p.data);
  const long faults_before = minor_page_faults();
  const sv::SolveResult r = sv::solve(objective, p.x0, o);
  const long faults = minor_page_faults() - faults_before;
  locus::io::Json j;
  j["method"] = spec;
  j["status"] = std::string(sv::to_string(r.status));
  j["iterations"] = r.iterations;
  j["seconds"] = r.seconds;
  j["loss_final"] = r.loss_final;
  j["gradient_max_norm"] = r.gradient_max_norm;
  j["page_faults"] = faults;  // memory the solve touched for the first time, in pages
  locus::io::Json reached = locus::io::Json::object();
  for (double t : k_thresholds) {
    char key[16];
    std::snprintf(key, sizeof key, "%.0e", t);
    reached[key] = nullptr;
    for (const sv::IterationRecord& rec : r.trace)
      if (rec.loss < t) {
        reached[key] = rec.seconds;
        break;
      }
  }
  j["seconds_to_loss"] = reached;
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t seed = 0;
  std::string methods = "lm,newton,lbfgs,flow+lm", export_dir;
  double max_seconds = 300;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--seed")
      seed = std::stoull(v);
    else if (a == "--methods")
      methods = v;
    else if (a == "--export")
      export_dir = v;
    else if (a == "--max-seconds")
      max_seconds = std::stod(v);
    else if (a == "--threads")
      locus::set_num_threads(std::stoi(v));
    else {
      std::cerr << "unknown option " << a << "\n";
      return 2;
    }
  }
  // The acceptance problem of tests/solvers: a [10, 4, 1] softplus teacher (Glorot, seed
  // 2000 + s) on d = 500 Gaussian points (seed 1000 + s), a [10, 200, 1] softplus student from a
  // Glorot init with seed s.
  const locus::testing::Problem p = locus::testing::realizable_teacher_student(seed);
  if (!export_dir.empty()) {
    std::filesystem::create_directories(export_dir);
    locus::io::write_npy(export_dir + "/x.npy", p.data.x);
    locus::io::write_npy(export_dir + "/y.npy", p.data.y);
    locus::io::write_npy(export_dir + "/init.npy", p.x0);
  }
  locus::io::Json runs = locus::io::Json::array();
  std::stringstream list(methods);
  for (std::string spec; std::getline(list, spec, ',');) runs.push_back(run(p, spec, max_seconds));
  const locus::io::Json options = {
      {"problem", "[10,200,1] softplus student, [10,4,1] teacher, d=500"},
      {"seed", seed},
      {"methods", methods},
      {"max_seconds", max_seconds},
      {"threads", locus::num_threads()}};
  std::cout << locus::io::with_context(options, {{"runs", runs}}).dump(2) << "\n";
  return 0;
}
