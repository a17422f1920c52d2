#include "blas_threads.hpp"

#include <mutex>

// OpenBLAS's thread controls. Weak: they resolve to null when the LAPACK/BLAS the process loaded
// is not OpenBLAS (reference LAPACK, BLIS), and every use checks for that.
extern "C" {
__attribute__((weak)) void openblas_set_num_threads(int);
__attribute__((weak)) int openblas_get_num_threads(void);
}

namespace locus::detail {

namespace {

std::mutex scope_mutex;
int open_scopes = 0;    // guarded by scope_mutex
int saved_threads = 0;  // OpenBLAS's count before the outermost scope (0: left alone)

}  // namespace

int blas_threads() { return openblas_get_num_threads ? openblas_get_num_threads() : 0; }

SerialBlas::SerialBlas() {
  const std::lock_guard lock(scope_mutex);
  if (open_scopes++ > 0 || !openblas_set_num_threads || !openblas_get_num_threads) return;
  saved_threads = openblas_get_num_threads();
  if (saved_threads != 1) openblas_set_num_threads(1);
}

SerialBlas::~SerialBlas() {
  const std::lock_guard lock(scope_mutex);
  if (--open_scopes > 0 || saved_threads <= 1) return;
  openblas_set_num_threads(saved_threads);
  saved_threads = 0;
}

}  // namespace locus::detail
