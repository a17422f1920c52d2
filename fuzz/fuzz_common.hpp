#pragma once
// Shared by the libFuzzer targets: the contract every reader must keep on arbitrary bytes is to
// return a result or throw std::invalid_argument (a caller's bad input); anything else (another
// exception, a crash, a leak, a sanitizer report, a hang) is a finding.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
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

// Writes the input to this process's scratch file <stem>-<pid><suffix> and returns its path, for
// readers that take a path (as the CLI and Python call them). The file is in /dev/shm (memory)
// when it exists: a file on disk per execution holds a target to a few hundred executions a second.
// It is removed when the process exits normally (the end of a run); after a finding it stays.
inline std::string scratch_file(const std::string& stem, const std::string& suffix,
                                const std::uint8_t* data, std::size_t size) {
  static const std::string dir = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
  const std::string path = dir + "/" + stem + "-" + std::to_string(getpid()) + suffix;
  struct RemoveAtExit {
    std::string path;
    ~RemoveAtExit() { std::remove(path.c_str()); }
  };
  static const RemoveAtExit remove_at_exit{path};
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

inline std::string_view bytes(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace locus::fuzz
