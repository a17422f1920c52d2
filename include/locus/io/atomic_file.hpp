#pragma once
// Whole-file reads and atomic writes: a file locus writes is either complete or absent.

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace locus::io {

// Writes bytes to "<path>.tmp.<pid>.<n>" in the same directory, flushes, then renames it over path
// (rename is atomic on POSIX file systems). On any failure the temporary file is removed.
// Throws std::invalid_argument("cannot write '<path>': <reason>") when the directory is missing
// or not writable, std::runtime_error when writing fails part-way (disk full).
void write_file_atomic(const std::string& path, std::string_view bytes);

// Several output files replaced together: a command that writes more than one file (data convert's
// --out-x and --out-y) changes none of them unless every one was written.
//
//   io::StagedFiles files;
//   files.write(out_x, [&](const std::string& tmp) { io::write_npy(tmp, x); });
//   files.write(out_y, [&](const std::string& tmp) { io::write_npy(tmp, y); });  // may throw:
//   files.commit();                       // out_x unchanged then; else both renamed into place
//
// write(path, writer) does nothing for an empty path (an output the user did not ask for).
// Otherwise it checks path is writable (require_writable), then calls writer with a
// temporary path in the same directory, "<path>.tmp.<pid>.<n><extension of path>" (writers that
// choose the format by suffix choose the same one); an exception from writer is rethrown with the
// same type and the temporary's name replaced by path in its message. The destructor removes every
// temporary not committed. commit() renames in write order; each rename is atomic and cannot fail
// once the temporaries exist in the same writable directory, short of the directory being
// removed meanwhile (then it throws std::runtime_error naming the path). Cost: one rename per file.
class StagedFiles {
 public:
  StagedFiles() = default;
  StagedFiles(const StagedFiles&) = delete;
  StagedFiles& operator=(const StagedFiles&) = delete;
  ~StagedFiles();
  void write(const std::string& path, const std::function<void(const std::string&)>& writer);
  void commit();

 private:
  std::vector<std::pair<std::string, std::string>> staged_;  // (temporary, path)
};

// Cheap early check that path can be created or replaced (directory exists and is writable, path
// is not a directory), so that a command fails before long work rather than after it.
// Throws std::invalid_argument naming the path and the reason.
void require_writable(const std::string& path);

// The whole file. Throws std::invalid_argument naming the path when it is missing or unreadable.
std::string read_file(const std::string& path);

// True when path ends with suffix (case-sensitive), e.g. has_suffix(p, ".npy").
bool has_suffix(std::string_view path, std::string_view suffix);

}  // namespace locus::io
