#pragma once
// Progress of long computations, reported through a callback. The library never prints: the CLI
// (apps/locus/cli/progress.hpp) turns events into one line on stderr, Python into a line on
// sys.stderr (progress=True) or calls of a notebook's function (callback=).
//
//   locus::analysis::analyze_point(obj, theta, {}, [](const locus::ProgressEvent& e) {
//     std::fprintf(stderr, "%s %lld/%lld\n", e.stage.c_str(), e.done, e.total);
//   });
//
// Events are cheap to make; a callback is called from the calling thread, at most once per unit
// of work (a solver iteration, a Lanczos operator application, a walk step, a study's step) and
// must not throw. Solvers report through their IterationCallback (solvers/result.hpp) instead.

#include <cmath>
#include <functional>
#include <string>

namespace locus {

struct ProgressEvent {
  std::string stage;    // what is running: "dense Hessian", "Lanczos", "walk", a claim's id
  long long done = 0;   // items finished within the stage
  long long total = 0;  // items in the stage; 0 when not known in advance
  double loss = NAN;    // the current loss, where the stage has one (solvers, walks)
  double gradient_max_norm = NAN;  // the current max_i |g_i|, where the stage has one
};

// Receives each event; an empty std::function means no reporting.
using ProgressCallback = std::function<void(const ProgressEvent&)>;

// Calls callback(event) when callback is set (the one place that tests for it).
inline void report_progress(const ProgressCallback& callback, const ProgressEvent& event) {
  if (callback) callback(event);
}

}  // namespace locus
