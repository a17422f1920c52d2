#pragma once
// Shared by the libFuzzer targets: the contract every reader must keep on arbitrary bytes is to
// return a result or throw std::invalid_argument (a caller's bad input); anything else (another
// exception, a crash, a leak, a sanitizer report, a hang) is a finding.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "locus/io/memory.hpp"

namespace locus::fuzz {

// Runs f(); std::invalid_argument is the expected way to refuse input, every other exception
// aborts so that libFuzzer records the input. A 256 MiB memory limit keeps every accepted size
// far below libFuzzer's -rss_limit_mb (2 GiB).
template <class F>
int run(F&& f) {
  static const bool limited = (io::set_max_memory_bytes(256.0 * (1 << 20)), true);
  (void)limited;
  try {
    f();
  } catch (const std::invalid_argument&) {
  }
  return 0;
}

inline std::string_view bytes(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace locus::fuzz
