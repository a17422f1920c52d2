#include "locus/io/json.hpp"

#include <omp.h>
#include <unistd.h>

#include <Eigen/Core>
#include <chrono>
#include <cmath>
#include <ctime>
#include <limits>
#include <stdexcept>

#include "json_depth.hpp"
#include "locus/io/atomic_file.hpp"

namespace locus::io {

const char* version() { return LOCUS_VERSION; }

Json context_block(const Json& resolved_options) {
  char host[256] = "unknown";
  gethostname(host, sizeof host - 1);
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char when[32];
  std::tm utc{};
  gmtime_r(&now, &utc);  // thread-safe, unlike std::gmtime
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &utc);
  Json c;
  c["version"] = LOCUS_VERSION;
  c["git_commit"] = git_commit();
  c["git_dirty"] = git_dirty();
  c["compiler"] = LOCUS_COMPILER;
  c["build_type"] = LOCUS_BUILD_TYPE;
  c["eigen_version"] = std::to_string(EIGEN_WORLD_VERSION) + "." +
                       std::to_string(EIGEN_MAJOR_VERSION) + "." +
                       std::to_string(EIGEN_MINOR_VERSION);
  c["threads"] = omp_get_max_threads();
  c["host"] = host;
  c["utc_time"] = when;
  c["options"] = resolved_options;
  return c;
}

Json with_context(const Json& resolved_options, const Json& body) {
  Json j;
  j["context"] = context_block(resolved_options);
  for (auto it = body.begin(); it != body.end(); ++it) j[it.key()] = it.value();
  return j;
}

Json json_number(double v) {
  if (std::isfinite(v)) return v;
  if (std::isnan(v)) return "nan";
  return v > 0 ? "inf" : "-inf";
}

double number_from_json(const Json& j) {
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) {
    const std::string s = j.get<std::string>();
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
    if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
  }
  throw std::invalid_argument("expected a number (or \"inf\", \"-inf\", \"nan\"), got " + j.dump());
}

void write_json(const std::string& path, const Json& j) {
  // Invalid UTF-8 in a string (a user-supplied name) is replaced rather than failing the write.
  write_file_atomic(path, j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n");
}

Json read_json(const std::string& path) {
  const std::string text = read_file(path);
  try {
    return parse_bounded_json<Json>(text);
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument("'" + path + "': malformed JSON: " + e.what());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("'" + path + "': malformed JSON: " + e.what());
  }
}

}  // namespace locus::io
