#include "locus/workflows/swap.hpp"

#include <cstdio>
#include <stdexcept>

#include "locus/io/memory.hpp"

namespace locus::workflows {

SwapPathCheck check_swap_path(const Objective& objective, const symmetry::SwapPath& path,
                              const paths::ProfileOptions& options, int samples_per_segment,
                              const ProgressCallback& progress) {
  const Eigen::MatrixXd& v = path.vertices;
  if (objective.n_params() != v.cols())
    throw std::invalid_argument(
        "check_swap_path: the objective has " + std::to_string(objective.n_params()) +
        " parameters but the path's vertices have " + std::to_string(v.cols()));
  if (samples_per_segment < 1)
    throw std::invalid_argument("check_swap_path: samples_per_segment must be >= 1");
  options.validate();
  // t, the loss along the path and along the line at every sample.
  io::check_memory(24.0 * double(v.rows() - 1) * double(samples_per_segment),
                   "samples_per_segment = " + std::to_string(samples_per_segment) + " (x " +
                       std::to_string(v.rows() - 1) + " segments)",
                   "t, loss_path and loss_line per sample");
  const auto loss = [&](const Eigen::VectorXd& theta) { return objective.loss(theta); };
  SwapPathCheck c;
  c.path_loss_max = -1.0;
  for (Index k = 0; k + 1 < v.rows(); ++k) {
    const paths::LossProfile p = paths::loss_profile(
        loss, paths::Path::line(v.row(k).transpose(), v.row(k + 1).transpose()), options);
    c.segments.push_back({path.segments[static_cast<size_t>(k)], p.loss_max, p.t_max});
    c.path_loss_max = std::max(c.path_loss_max, p.loss_max);
    report_progress(progress, {.stage = "swap segments", .done = k + 1, .total = v.rows() - 1});
  }
  const Eigen::VectorXd start = v.row(0).transpose(), end = v.row(v.rows() - 1).transpose();
  c.loss_start = objective.loss(start);
  c.loss_end = objective.loss(end);
  c.line = paths::loss_profile(loss, paths::Path::line(start, end), options);

  const paths::Path polyline = paths::Path::polyline(v);
  const Index n = (v.rows() - 1) * samples_per_segment + 1;
  c.t = Eigen::VectorXd::LinSpaced(n, 0.0, 1.0);
  c.loss_path.resize(n);
  c.loss_line.resize(n);
  for (Index i = 0; i < n; ++i) {
    c.loss_path(i) = objective.loss(polyline.at(c.t(i)));
    c.loss_line(i) = objective.loss((1.0 - c.t(i)) * start + c.t(i) * end);
    report_progress(progress, {.stage = "samples", .done = i + 1, .total = n});
  }
  return c;
}

io::Json to_json(const SwapPathCheck& c) {
  io::Json segments = io::Json::array();
  for (const SwapSegmentCheck& s : c.segments)
    segments.push_back({{"kind", std::string(symmetry::to_string(s.segment.kind))},
                        {"layer", s.segment.layer},
                        {"neuron", s.segment.neuron},
                        {"from", s.segment.from},
                        {"loss_max", io::json_number(s.loss_max)},
                        {"t_max", io::json_number(s.t_max)}});
  io::Json line = paths::to_json(c.line);
  line.erase("t");
  line.erase("loss");
  return {{"loss_start", io::json_number(c.loss_start)},
          {"loss_end", io::json_number(c.loss_end)},
          {"path_loss_max", io::json_number(c.path_loss_max)},
          {"segments", segments},
          {"line", line}};
}

std::string summary(const SwapPathCheck& c) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "swap path: %zu segments, loss at most %.3e (ends %.3e, %.3e)\n"
                "straight line: max %.3e at t = %.4f, barrier above the larger end %.3e\n",
                c.segments.size(), c.path_loss_max, c.loss_start, c.loss_end, c.line.loss_max,
                c.line.t_max, c.line.barriers.above_larger_end);
  return buf;
}

}  // namespace locus::workflows
