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

namespace {
// "<path>.tmp.<pid>.<n><suffix>": pid plus a per-process counter, so that two threads writing the
// same path never share a temporary.
std::string temporary_for(const std::string& path, const std::string& suffix = "") {
  static std::atomic<unsigned long> counter{0};
  return path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(counter++) + suffix;
}
}  // namespace

StagedFiles::~StagedFiles() {
  for (const auto& [tmp, path] : staged_) std::remove(tmp.c_str());
}

void StagedFiles::write(const std::string& path,
                        const std::function<void(const std::string&)>& writer) {
  if (path.empty()) return;
  require_writable(path);
  const std::string tmp = temporary_for(path, fs::path(path).extension().string());
  staged_.emplace_back(tmp, path);
  // The user named path, not the temporary: messages say path.
  auto named = [&](const std::exception& e) {
    std::string m = e.what();
    for (size_t p = m.find(tmp); p != std::string::npos; p = m.find(tmp, p + path.size()))
      m.replace(p, tmp.size(), path);
    return m;
  };
  try {
    writer(tmp);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(named(e));
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(named(e));
  }
}

void StagedFiles::commit() {
  while (!staged_.empty()) {
    const auto& [tmp, path] = staged_.front();
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
      throw std::runtime_error("cannot rename onto '" + path + "': " + std::strerror(errno));
    staged_.erase(staged_.begin());
  }
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
  require_writable(path);
  const std::string tmp = temporary_for(path);
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
