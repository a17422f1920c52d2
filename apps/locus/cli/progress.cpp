#include "cli/progress.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "cli/common.hpp"
#include "locus/io/format.hpp"

namespace locus::cli {

namespace {
using Clock = std::chrono::steady_clock;
double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}
}  // namespace

Progress::Progress(std::string command)
    : command_(std::move(command)), start_(Clock::now()), last_draw_(start_) {
  enabled_ = !global_options().quiet;
  terminal_ = stderr_is_terminal();
  interval_seconds_ = global_options().progress_interval;
  if (enabled_) refresher_ = std::thread([this] { refresh_loop(); });
}

Progress::~Progress() { finish(); }

void Progress::update(const ProgressEvent& event) {
  if (!enabled_) return;
  std::lock_guard lock(mutex_);
  if (finished_) return;
  state_ = event;
  // Between refreshes a terminal follows the work at up to 10 lines a second.
  if (terminal_ && seconds_between(last_draw_, Clock::now()) >= 0.1) draw_locked();
}

ProgressCallback Progress::callback() {
  return [this](const ProgressEvent& e) { update(e); };
}

solvers::IterationCallback Progress::solver(std::string stage, long long max_iterations) {
  return [this, stage = std::move(stage), max_iterations](const solvers::IterationRecord& r) {
    update({.stage = stage,
            .done = r.iteration,
            .total = max_iterations,
            .loss = r.loss,
            .gradient_max_norm = r.gradient_max_norm});
    return true;
  };
}

void Progress::print_line(const std::string& line) {
  if (!enabled_) return;
  std::lock_guard lock(mutex_);
  std::fprintf(stderr, "%s%s\n", terminal_ && drawn_ ? "\r\033[K" : "", line.c_str());
  std::fflush(stderr);
  drawn_ = false;
}

void Progress::finish() {
  {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    finished_ = true;
    if (enabled_ && terminal_ && drawn_) std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }
  wake_.notify_all();
  if (refresher_.joinable()) refresher_.join();
}

std::string Progress::line_locked() const {
  std::string line = "locus " + command_ + ":";
  if (!state_.stage.empty()) line += " " + state_.stage;
  if (state_.total > 0)
    line += " " + std::to_string(state_.done) + "/" + std::to_string(state_.total);
  else if (state_.done > 0)
    line += " " + std::to_string(state_.done);
  char buf[96];
  if (!std::isnan(state_.loss)) {
    std::snprintf(buf, sizeof buf, "  loss %.3e", state_.loss);
    line += buf;
  }
  if (!std::isnan(state_.gradient_max_norm)) {
    std::snprintf(buf, sizeof buf, "  |g| %.2e", state_.gradient_max_norm);
    line += buf;
  }
  std::snprintf(buf, sizeof buf, "  %.1f s", seconds_between(start_, Clock::now()));
  return line + buf;
}

void Progress::draw_locked() {
  const std::string line = line_locked();
  if (terminal_)
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
  else
    std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
  drawn_ = true;
  last_draw_ = Clock::now();
}

// A terminal's line is refreshed every second (the elapsed time moves even when the work gives
// no events); a log gets a line every interval_seconds_.
void Progress::refresh_loop() {
  std::unique_lock lock(mutex_);
  const double period = terminal_ ? std::min(1.0, interval_seconds_) : interval_seconds_;
  while (!finished_) {
    wake_.wait_for(lock, std::chrono::duration<double>(period), [this] { return finished_; });
    if (!finished_) draw_locked();
  }
}

}  // namespace locus::cli
