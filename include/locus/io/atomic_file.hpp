#pragma once
// Whole-file reads and atomic writes: a file locus writes is either complete or absent.

#include <string>
#include <string_view>

namespace locus::io {

// Writes bytes to "<path>.tmp.<pid>.<n>" in the same directory, flushes, then renames it over path
// (rename is atomic on POSIX file systems). On any failure the temporary file is removed.
// Throws std::invalid_argument("cannot write '<path>': <reason>") when the directory is missing
// or not writable, std::runtime_error when writing fails part-way (disk full).
void write_file_atomic(const std::string& path, std::string_view bytes);

// Cheap early check that path can be created or replaced (directory exists and is writable, path
// is not a directory), so that a command fails before long work rather than after it.
// Throws std::invalid_argument naming the path and the reason.
void require_writable(const std::string& path);

// The whole file. Throws std::invalid_argument naming the path when it is missing or unreadable.
std::string read_file(const std::string& path);

// True when path ends with suffix (case-sensitive), e.g. has_suffix(p, ".npy").
bool has_suffix(std::string_view path, std::string_view suffix);

}  // namespace locus::io
