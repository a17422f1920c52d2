#pragma once
// Memory estimated before it is taken. Every request whose size comes from the user (widths,
// numbers of points, grid sizes) estimates the bytes it will allocate and calls check_memory
// first, so that an absurd size is refused with a message instead of ending in std::bad_alloc.
//
//   locus::io::check_memory(8.0 * double(n), "the parameter vector of [3,1000000000,1]");
//
// The limit is process-wide, like the thread count: the CLI's --max-memory and Python's
// locus.set_max_memory set it. Estimates are in double, so that no product overflows.

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace locus::io {

// The limit's default: 16 GiB, or 3/4 of the physical memory when that is smaller (sysconf).
// Cost: one system call.
double default_max_memory_bytes();
// The current limit in bytes (default_max_memory_bytes() until set).
double max_memory_bytes();
// Sets the limit. Throws std::invalid_argument unless bytes is finite and > 0.
void set_max_memory_bytes(double bytes);

// The error of check_memory: a std::invalid_argument (CLI exit 2, Python ValueError) whose type
// tells a caller that a size was refused, so that it can name the input the size came from (a
// study names its `runs` entry).
class MemoryLimitError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Throws MemoryLimitError "<what> needs about X GiB (<formula>), above the memory limit of
// Y GiB (raise it with --max-memory, Python locus.set_max_memory)" when bytes exceeds the limit
// or is not finite. `what` names the input the size came from. Cost: O(1).
void check_memory(double bytes, std::string_view what, std::string_view formula = {});

// Asks the kernel to back [data, data + bytes) with 2 MiB pages (madvise MADV_HUGEPAGE on the
// whole 2 MiB pages inside it): call it on a large buffer before its first write. A fresh buffer
// then costs one page fault per 2 MiB instead of one per 4 KiB on first touch, and fewer TLB
// misses when streamed; where faults are dear (virtual machines) a dense Hessian of n = 2401
// built 3.5x faster with it. Linux only (elsewhere, or where the kernel refuses, a no-op: the
// memory stays usable on 4 KiB pages). Cost: one system call, none below 2 MiB.
void advise_huge_pages(void* data, std::size_t bytes);

// "37.3 GiB": bytes in GiB with three significant digits (io::format_number).
std::string format_gib(double bytes);

}  // namespace locus::io
