#include "locus/io/atomic_file.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "locus/io/memory.hpp"

namespace locus::io {

namespace fs = std::filesystem;

namespace {
std::string parent_of(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}
}  // namespace

bool has_suffix(std::string_view path, std::string_view suffix) {
  return path.size() >= suffix.size() && path.substr(path.size() - suffix.size()) == suffix;
}

void require_writable(const std::string& path) {
  if (path.empty()) throw std::invalid_argument("cannot write '': empty output path");
  std::error_code ec;
  if (fs::is_directory(path, ec))
    throw std::invalid_argument("cannot write '" + path + "': it is a directory");
  const std::string dir = parent_of(path);
  if (!fs::is_directory(dir, ec))
    throw std::invalid_argument("cannot write '" + path + "': directory '" + dir +
                                "' does not exist");
  if (access(dir.c_str(), W_OK) != 0)
    throw std::invalid_argument("cannot write '" + path + "': directory '" + dir +
                                "' is not writable (" + std::strerror(errno) + ")");
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
  require_writable(path);
  // pid plus a per-process counter: two threads writing the same path never share a temporary.
  static std::atomic<unsigned long> counter{0};
  const std::string tmp =
      path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(counter++);
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw std::invalid_argument("cannot write '" + path + "': " + std::strerror(errno));
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size() &&
                  std::fflush(f) == 0 && fsync(fileno(f)) == 0;
  const int err = errno;
  if (std::fclose(f) != 0 || !ok) {
    std::remove(tmp.c_str());
    throw std::runtime_error("writing '" + path + "' failed: " + std::strerror(err));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot rename onto '" + path + "': " + std::strerror(e));
  }
}

std::string read_file(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw std::invalid_argument("'" + path + "': no such file");
  if (fs::is_directory(path, ec))
    throw std::invalid_argument("'" + path + "': is a directory, expected a file");
  const auto size = fs::file_size(path, ec);
  if (!ec) check_memory(double(size), "reading '" + path + "'", "the whole file in memory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument("'" + path + "': cannot be read");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace locus::io
