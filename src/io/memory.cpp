#include "locus/io/memory.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <stdexcept>

#include "locus/io/format.hpp"

namespace locus::io {

namespace {
constexpr double k_gib = 1024.0 * 1024.0 * 1024.0;
// 0 = not set yet: the default is computed on first use.
std::atomic<double> g_limit{0.0};
}  // namespace

double default_max_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  const double physical = pages > 0 && page > 0 ? double(pages) * double(page) : 0.0;
  const double fallback = 16.0 * k_gib;
  return physical > 0 ? std::min(fallback, 0.75 * physical) : fallback;
}

double max_memory_bytes() {
  const double limit = g_limit.load();
  if (limit > 0) return limit;
  static const double default_limit = default_max_memory_bytes();
  return default_limit;
}

void set_max_memory_bytes(double bytes) {
  if (!std::isfinite(bytes) || !(bytes > 0))
    throw std::invalid_argument("the memory limit must be finite and > 0 bytes, got " +
                                format_number(bytes));
  g_limit.store(bytes);
}

void advise_huge_pages(void* data, std::size_t bytes) {
#if defined(MADV_HUGEPAGE)
  constexpr std::uintptr_t huge = std::uintptr_t{2} << 20;
  const auto begin = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t first = (begin + huge - 1) & ~(huge - 1);
  const std::uintptr_t last = (begin + bytes) & ~(huge - 1);
  if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
#else
  (void)data;
  (void)bytes;
#endif
}

std::string format_gib(double bytes) { return format_number(bytes / k_gib) + " GiB"; }

void check_memory(double bytes, std::string_view what, std::string_view formula) {
  const double limit = max_memory_bytes();
  if (std::isfinite(bytes) && bytes <= limit) return;
  throw MemoryLimitError(std::string(what) + " needs about " + format_gib(bytes) +
                         (formula.empty() ? "" : " (" + std::string(formula) + ")") +
                         ", above the memory limit of " + format_gib(limit) +
                         " (raise it with --max-memory, Python locus.set_max_memory)");
}

}  // namespace locus::io
