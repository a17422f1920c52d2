// Data are shared, not copied: by Objective copies, HessianOperator, Newton-CG steps and SGD
// batches. Measured with an allocation hook: this test binary routes malloc and free through
// counters (Eigen allocates with malloc, operator new calls malloc), so every live block is seen.
// Transient GEMM packing buffers (a packed chunk of at most 256 points) are part of every
// product and are not copies of the data; they are bounded by running on one thread.

#include <gtest/gtest.h>
#include <malloc.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <numeric>
#include <string>
#include <vector>

#include "locus/data/builtin.hpp"
#include "locus/data/synthetic.hpp"
#include "locus/solvers/first_order.hpp"
#include "locus/solvers/levenberg_marquardt.hpp"
#include "locus/solvers/newton.hpp"
#include "locus/solvers/solve.hpp"
#include "problems.hpp"

extern "C" void* __libc_malloc(std::size_t size);
extern "C" void __libc_free(void* p);

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocated{0};  // bytes malloc'ed while counting
std::atomic<long> g_live{0};       // bytes malloc'ed minus bytes freed while counting
std::atomic<long> g_peak{0};       // max of g_live
}  // namespace

// Replace glibc's malloc and free for this binary (calloc and realloc stay glibc's; all share
// one allocator). Sizes are malloc_usable_size, the same on allocation and release.
extern "C" void* malloc(std::size_t size) {
  void* p = __libc_malloc(size);
  if (p && g_counting.load(std::memory_order_relaxed)) {
    const long n = static_cast<long>(malloc_usable_size(p));
    g_allocated += n;
    const long live = g_live += n;
    long peak = g_peak.load();
    while (live > peak && !g_peak.compare_exchange_weak(peak, live)) {
    }
  }
  return p;
}
extern "C" void free(void* p) {
  if (p && g_counting.load(std::memory_order_relaxed))
    g_live -= static_cast<long>(malloc_usable_size(p));
  __libc_free(p);
}

namespace locus::solvers {
namespace {

struct Counts {
  long allocated = 0;  // total bytes requested
  long retained = 0;   // bytes still allocated at the end (blocks made and not freed)
  long peak = 0;       // largest number of bytes held at once above the start
};

// Runs body on one thread with the counters on.
template <class Body>
Counts count_allocations(Body&& body) {
  const int threads = num_threads();
  set_num_threads(1);
  g_allocated = 0;
  g_live = 0;
  g_peak = 0;
  g_counting = true;
  body();
  g_counting = false;
  set_num_threads(threads);
  return {g_allocated.load(), g_live.load(), g_peak.load()};
}

// Many inputs, a narrow network: the data (d x (p + 1) doubles, 12.9 MB) dwarf what a solver
// keeps per point (O(widths): ~11 doubles cached by a Hessian operator) or per parameter
// (n = 405), so a copy of the data (>= 1x its size) stands out against everything else, measured
// at <= 1/4 of it; the bound is 1/2. Transient GEMM packing is bounded by the chunk: 256 points of
// a full evaluation (heap, <= 0.4 MB), or a 32-point batch, 32 x 200 doubles = 51 KB, which
// Eigen keeps on the stack (below its 128 KB limit) on any CPU.
struct WideInputs {
  Mlp model{MlpSpec{{200, 2, 1}, Activation::softplus, {}, false}};
  Dataset data = gaussian_data(/*d=*/8000, /*p=*/200, /*l=*/1, /*seed=*/3);
  Eigen::VectorXd theta = model.init_parameters(InitOptions{InitScheme::glorot, 1, 1.0});
  long data_bytes = static_cast<long>(data.x.size() + data.y.size()) * long(sizeof(double));
};

TEST(DataSharing, ObjectiveCopiesAndHessianOperatorsReferenceOneDataset) {
  const WideInputs w;
  const Objective objective(w.model, w.data);
  const Objective copy = objective;
  EXPECT_EQ(&copy.data(), &objective.data());
  const long owners = objective.shared_data().use_count();
  std::unique_ptr<HessianOperator> op;
  const Counts c =
      count_allocations([&] { op = std::make_unique<HessianOperator>(objective, w.theta); });
  EXPECT_EQ(objective.shared_data().use_count(), owners + 1);
  // What the operator keeps is its cached pass, ~11 doubles per point (0.7 MB), not the inputs.
  RecordProperty("retained_bytes", std::to_string(c.retained));
  EXPECT_LT(c.retained, w.data_bytes / 2) << "data: " << w.data_bytes << " bytes";
}

// Two Newton-CG iterations (each: a cached Hessian operator at the trial point, CG on HVPs)
// never hold more than a fraction of one copy of the data.
TEST(DataSharing, NewtonStepsDoNotCopyTheData) {
  const WideInputs w;
  const Objective objective(w.model, w.data);
  NewtonOptions newton;
  newton.dense_max_params = 0;  // matrix-free: the dense path forms n x n matrices
  newton.stop.max_iterations = 2;
  const Counts c = count_allocations([&] { solve_newton(objective, w.theta, newton); });
  RecordProperty("peak_bytes", std::to_string(c.peak));
  EXPECT_LT(c.peak, w.data_bytes / 2) << "data: " << w.data_bytes << " bytes";
}

// Mini-batches are evaluated by indexing the data (the batch's rows are gathered into a reused
// per-thread buffer): the 250 batches of an epoch together allocate less than half the data
// (measured 1/4: per batch two gradient vectors and the layers' O(32 x widths) buffers), where a
// sub-dataset per batch would allocate all of it, twice; and an SGD epoch never holds more than a
// fraction of it.
TEST(DataSharing, SgdBatchesDoNotCopyTheData) {
  const WideInputs w;
  const Objective objective(w.model, w.data);
  std::vector<Index> order(static_cast<size_t>(w.data.size()));
  std::iota(order.begin(), order.end(), Index{0});
  std::reverse(order.begin(), order.end());
  auto epoch = [&] {
    for (size_t start = 0; start < order.size(); start += 32)
      objective.loss_gradient_terms(
          w.theta,
          std::span<const Index>(order).subspan(start, std::min<size_t>(32, order.size() - start)));
  };
  epoch();  // warm-up: per-thread buffers take their sizes
  const Counts batches = count_allocations(epoch);
  RecordProperty("batch_bytes", std::to_string(batches.allocated));
  EXPECT_LT(batches.allocated, w.data_bytes / 2) << "data: " << w.data_bytes << " bytes";

  SgdOptions sgd;
  sgd.stop.max_iterations = 1;
  sgd.batch_size = 32;
  const Counts c = count_allocations([&] { solve_sgd(objective, w.theta, sgd); });
  RecordProperty("sgd_peak_bytes", std::to_string(c.peak));
  EXPECT_LT(c.peak, w.data_bytes / 2) << "data: " << w.data_bytes << " bytes";
}

// A least-squares problem that forwards to an Objective with the counters paused: what
// count_allocations then sees is the solver's own memory, not the evaluations it asks for.
struct Uncounted {
  const Objective& f;
  template <class Eval>
  auto paused(Eval&& eval) const {
    const bool on = g_counting.exchange(false);
    auto value = eval();
    g_counting = on;
    return value;
  }
  Index n_params() const { return f.n_params(); }
  Index n_residuals() const { return f.n_residuals(); }
  double loss(const Eigen::VectorXd& x) const {
    return paused([&] { return f.loss(x); });
  }
  LossGradient loss_gradient(const Eigen::VectorXd& x) const {
    return paused([&] { return f.loss_gradient(x); });
  }
  Eigen::VectorXd residuals(const Eigen::VectorXd& x) const {
    return paused([&] { return f.residuals(x); });
  }
  Eigen::MatrixXd jacobian(const Eigen::VectorXd& x) const {
    return paused([&] { return f.jacobian(x); });
  }
};

// Levenberg-Marquardt keeps its Gram matrix, its Cholesky factor and its step vectors across
// iterations: once the first iteration has sized them, iterations 4 to 10 allocate nothing of
// their own (the old loop allocated J J^T, its factor and four vectors every iteration), on a wide
// (Cooper: m = 40 < n = 281, residual-space system) and a tall (m = 150 > n = 16, normal
// equations) problem. The sizes keep Eigen's GEMM packing for J J^T (k x depth blocks, here
// 40 x 281 doubles = 90 KB) on the stack, below Eigen's 128 KB limit; at larger sizes that
// transient buffer, freed inside the product, is the only allocation of an iteration. The
// callback reads the byte counter after each iteration into a fixed array.
TEST(SolverMemory, LevenbergMarquardtIterationsAllocateNothing) {
  for (const bool wide : {true, false}) {
    const testing::Problem p = wide ? testing::cooper(0, 40, 5, 40, Activation::smoolu)
                                    : testing::realizable_teacher_student(1, 150, 3, 2, 3);
    const Objective objective = p.objective();
    const Uncounted uncounted{objective};
    LevenbergMarquardtOptions o;
    o.stop.max_iterations = 10;
    o.stop.gradient_tolerance = 0.0;  // run all ten iterations
    o.stop.loss_tolerance = 0.0;
    std::array<long, 11> allocated{};
    const IterationCallback record = [&](const IterationRecord& rec) {
      allocated[static_cast<size_t>(rec.iteration)] = g_allocated.load();
      return true;
    };
    SolveResult r;
    count_allocations([&] { r = solve_levenberg_marquardt(uncounted, p.x0, o, record); });
    ASSERT_EQ(r.iterations, 10) << summary(r);
    EXPECT_EQ(allocated[10], allocated[3])
        << (wide ? "wide" : "tall") << ": after iteration 3: " << allocated[3] << " bytes";
  }
}

}  // namespace
}  // namespace locus::solvers
