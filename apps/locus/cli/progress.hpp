#pragma once
// The CLI's progress line: what is running, k of n where known, loss and |g| for solvers, and
// the elapsed time, on stderr. On a terminal one line is rewritten in place (\r) at most ten
// times a second and refreshed every second; otherwise a plain line is written every
// --progress-interval seconds (5 by default), so that a log shows a long run is alive. Silent
// with --quiet. Standard output (results, JSON) is never touched.
//
//   Progress progress("analyze");
//   an::analyze_point(obj, theta, options, progress.callback());
//   progress.finish();  // (also done by the destructor) clears the line

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "locus/core/progress.hpp"
#include "locus/solvers/result.hpp"

namespace locus::cli {

class Progress {
 public:
  // `command` prefixes every line ("locus train: ..."). Reads --quiet and --progress-interval
  // (common.hpp's global_options()) and whether stderr is a terminal.
  explicit Progress(std::string command);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // The current state; shown when a line is due.
  void update(const ProgressEvent& event);
  // A callback for the library (it calls update).
  ProgressCallback callback();
  // A solver's callback: "<stage> it k/max_iterations  loss ..  |g| .."; never stops the solver.
  solvers::IterationCallback solver(std::string stage, long long max_iterations);
  // Writes `line` as a line of its own (clearing the progress line first on a terminal); nothing
  // with --quiet.
  void print_line(const std::string& line);
  // Stops the refresh thread and clears the line; later updates are ignored.
  void finish();

 private:
  std::string line_locked() const;
  void draw_locked();
  void refresh_loop();

  std::string command_;
  bool enabled_ = false, terminal_ = false, finished_ = false, drawn_ = false;
  double interval_seconds_ = 5.0;
  std::chrono::steady_clock::time_point start_, last_draw_;
  ProgressEvent state_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::thread refresher_;
};

}  // namespace locus::cli
