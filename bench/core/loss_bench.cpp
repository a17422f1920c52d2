// Benchmarks of the loss and its exact derivatives (include/locus/core/objective.hpp): loss,
// gradient, Hessian-vector product (Objective::hvp and HessianOperator::apply), residual Jacobian,
// dense Hessian. Softplus hidden layers, squared loss with sum reduction, float64.
//
// Every benchmark takes Args({p, h, depth, l, d, nthreads}): the network [p, h x depth, l], d data
// points, and the number of OpenMP threads locus may use (locus::set_num_threads). Problems:
//   [10,64,1]        d = 256    small teacher-student net (n = 769)
//   [10,200,1]       d = 100    the width of the overparameterised studies (n = 2401)
//   [10,200,1]       d = 500
//   [784,512,512,10] d = 1024   an MNIST-sized net (n = 669706); no Jacobian and no dense Hessian
//                               here: J is 10240 x 669706 doubles (55 GB) and H is 669706^2 (3.6
//                               TB)
//
// Counters: n_params, omp_threads (what locus::num_threads() reports during the run), flop (GEMM
// FLOPs of one call, see gemm_flops below) and FLOP/s (flop per second of wall time).
// Wall time (UseRealTime) is what matters for multi-threaded code. Benchmarks assert nothing.
// Each benchmark makes one untimed call first: the first call at a new size allocates and first
// touches its per-thread workspace (the large net: tens of MB of page faults), and a large-net
// repetition of --benchmark_min_time=0.2 is only one or two calls, so without it a run in a
// fresh process (compare_torch.py runs each benchmark in one) would time that start-up.

#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <vector>

#include "locus/core/dataset.hpp"
#include "locus/core/mlp.hpp"
#include "locus/core/objective.hpp"
#include "locus/core/random.hpp"
#include "locus/data/synthetic.hpp"

namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;
using locus::Index;

// One benchmark problem: the model, its data, a parameter point and a direction for HVPs.
struct Problem {
  locus::Mlp model;
  locus::Dataset data;
  VectorXd theta;
  VectorXd v;
};

// Builds the problem of Args({p, h, depth, l, d, nthreads}) and sets the thread count.
// Inputs and targets are i.i.d. N(0, 1) (seeded); theta is Glorot (seed 1), v is N(0, 1) (seed 2).
Problem make_problem(const benchmark::State& state) {
  const Index p = state.range(0), h = state.range(1), depth = state.range(2), l = state.range(3),
              d = state.range(4);
  locus::set_num_threads(static_cast<int>(state.range(5)));
  std::vector<Index> widths{p};
  for (Index k = 0; k < depth; ++k) widths.push_back(h);
  widths.push_back(l);
  locus::Mlp model({.widths = widths, .activation = locus::Activation::softplus});
  locus::Dataset data = locus::gaussian_data(d, p, l, /*seed=*/3);
  VectorXd theta = model.init_parameters({.seed = 1});
  locus::Rng rng_v(/*seed=*/2);
  VectorXd v(model.n_params());
  for (Index i = 0; i < v.size(); ++i) v[i] = rng_v.normal();
  return {std::move(model), std::move(data), std::move(theta), std::move(v)};
}

// GEMM FLOPs of one call, from the architecture (a GEMM (r x a)(a x b) costs 2 r a b FLOPs).
// With weight layers k = 0..K-1 of P_k = in_k * out_k weights, one forward pass costs
// F = 2 d sum_k P_k, of which F_0 = 2 d P_0 is the first layer (its input x needs no derivative):
//   loss                    F            z_k = a_k W_k^T
//   loss_gradient           3F - F_0     + dW_k = dz_k^T a_k (all k), da_k = dz_k W_k (k > 0)
//   HessianOperator::apply  6F - 4F_0    R-forward  a_k V_k^T (all k), R{a_k} W_k^T (k > 0):
//                                          2F - F_0;
//                                        R-backward a_k^T R{dz_k} (all k); R{a_k}^T dz_k,
//                                          R{dz_k} W_k, dz_k V_k (k > 0): 4F - 3F_0
//   Objective::hvp          8F - 5F_0    the forward pass, the backward pass without dW_k (2F -
//   F_0),
//                                        then apply
//   dense Hessian           (3F - F_0) + n (6F - 4F_0)   one cached pass + n applies (depth >= 2)
//                           l d n^2                      B^T B, lower half (at most one hidden
//                                                        layer: src/core/dense_hessian.cpp)
// Elementwise work (activations and their derivatives, Hadamard products, bias sums) is O(d times
// the sum of widths) and not counted, so FLOP/s is the GEMM throughput achieved.
enum class Work { loss, gradient, hvp, hvp_cached, hessian };
double gemm_flops(const locus::Mlp& model, Index d, Work work) {
  double f = 0.0;
  for (int k = 0; k < model.n_layers(); ++k)
    f += 2.0 * static_cast<double>(d) * static_cast<double>(model.layer(k).in * model.layer(k).out);
  const double f0 =
      2.0 * static_cast<double>(d) * static_cast<double>(model.layer(0).in * model.layer(0).out);
  switch (work) {
    case Work::loss:
      return f;
    case Work::gradient:
      return 3 * f - f0;
    case Work::hvp:
      return 8 * f - 5 * f0;
    case Work::hvp_cached:
      return 6 * f - 4 * f0;
    case Work::hessian:
      // At most one hidden layer: the GEMM assembly's B^T B (B = J, l d x n), lower half.
      if (model.n_layers() <= 2)
        return static_cast<double>(d * model.output_dim()) *
               static_cast<double>(model.n_params() * model.n_params());
      return 3 * f - f0 + static_cast<double>(model.n_params()) * (6 * f - 4 * f0);
  }
  return 0.0;
}

void set_counters(benchmark::State& state, const Problem& pb, double flop) {
  state.counters["n_params"] = static_cast<double>(pb.model.n_params());
  state.counters["omp_threads"] = locus::num_threads();
  if (flop > 0) {
    state.counters["flop"] = flop;
    state.counters["FLOP/s"] =
        benchmark::Counter(flop, benchmark::Counter::kIsIterationInvariantRate);
  }
}

void BM_Loss_Value(benchmark::State& state) {
  const Problem pb = make_problem(state);
  const locus::Objective obj(pb.model, pb.data);
  benchmark::DoNotOptimize(obj.loss(pb.theta));  // warm-up (see the top of this file)
  for (auto _ : state) benchmark::DoNotOptimize(obj.loss(pb.theta));
  set_counters(state, pb, gemm_flops(pb.model, pb.data.size(), Work::loss));
}

void BM_Loss_Gradient(benchmark::State& state) {
  const Problem pb = make_problem(state);
  const locus::Objective obj(pb.model, pb.data);
  benchmark::DoNotOptimize(obj.loss_gradient(pb.theta));  // warm-up
  for (auto _ : state) benchmark::DoNotOptimize(obj.loss_gradient(pb.theta));
  set_counters(state, pb, gemm_flops(pb.model, pb.data.size(), Work::gradient));
}

// H v from scratch: forward and backward pass, then the R-passes.
void BM_Loss_Hvp(benchmark::State& state) {
  const Problem pb = make_problem(state);
  const locus::Objective obj(pb.model, pb.data);
  benchmark::DoNotOptimize(obj.hvp(pb.theta, pb.v));  // warm-up
  for (auto _ : state) benchmark::DoNotOptimize(obj.hvp(pb.theta, pb.v));
  set_counters(state, pb, gemm_flops(pb.model, pb.data.size(), Work::hvp));
}

// H v right after a gradient at the same point (a Newton or trust-region step's pattern); only
// the HVP is timed. The Objective kept the gradient's passes, so this is the R-passes' work (the
// FLOPs of BM_Loss_HessianOperatorApply).
void BM_Loss_HvpAfterGradient(benchmark::State& state) {
  const Problem pb = make_problem(state);
  const locus::Objective obj(pb.model, pb.data);
  benchmark::DoNotOptimize(obj.loss_gradient(pb.theta));  // warm-up
  benchmark::DoNotOptimize(obj.hvp(pb.theta, pb.v));
  for (auto _ : state) {
    state.PauseTiming();
    benchmark::DoNotOptimize(obj.loss_gradient(pb.theta));
    state.ResumeTiming();
    benchmark::DoNotOptimize(obj.hvp(pb.theta, pb.v));
  }
  set_counters(state, pb, gemm_flops(pb.model, pb.data.size(), Work::hvp_cached));
}

// H v with the forward/backward pass cached (what Lanczos and Newton-CG pay per product).
void BM_Loss_HessianOperatorApply(benchmark::State& state) {
  const Problem pb = make_problem(state);
  const locus::Objective obj(pb.model, pb.data);
  const locus::HessianOperator op(obj, pb.theta);
  benchmark::DoNotOptimize(op.apply(pb.v));  // warm-up
  for (auto _ : state) benchmark::DoNotOptimize(op.apply(pb.v));
  set_counters(state, pb, gemm_flops(pb.model, pb.data.size(), Work::hvp_cached));
}

// The (l d) x n residual Jacobian; memory-bound (writes l d n doubles), so no FLOP counter.
void BM_Loss_Jacobian(benchmark::State& state) {
  const Problem pb = make_problem(state);
  const locus::Objective obj(pb.model, pb.data);
  for (auto _ : state) benchmark::DoNotOptimize(obj.jacobian(pb.theta));
  set_counters(state, pb, 0.0);
  state.counters["bytes"] = 8.0 * static_cast<double>(obj.n_residuals() * obj.n_params());
}

void BM_Loss_Hessian(benchmark::State& state) {
  const Problem pb = make_problem(state);
  const locus::Objective obj(pb.model, pb.data);
  for (auto _ : state) benchmark::DoNotOptimize(obj.hessian(pb.theta));
  set_counters(state, pb, gemm_flops(pb.model, pb.data.size(), Work::hessian));
}

// {p, h, depth, l, d}
const std::vector<std::vector<int64_t>> k_small_problems = {
    {10, 64, 1, 1, 256}, {10, 200, 1, 1, 100}, {10, 200, 1, 1, 500}};
const std::vector<int64_t> k_large_problem = {784, 512, 2, 10, 1024};
// Two threads (the machine's cores) first, then one.
const std::vector<int64_t> k_thread_counts = {2, 1};

// Registers `bm` on the small problems and, when `large`, on the large one, for each thread count.
void add_problems(benchmark::internal::Benchmark* bm, bool large) {
  bm->ArgNames({"p", "h", "depth", "l", "d", "nthreads"})
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
  std::vector<std::vector<int64_t>> problems = k_small_problems;
  if (large) problems.push_back(k_large_problem);
  for (const auto& problem : problems)
    for (int64_t threads : k_thread_counts) {
      std::vector<int64_t> args = problem;
      args.push_back(threads);
      bm->Args(args);
    }
}

void small_and_large(benchmark::internal::Benchmark* b) { add_problems(b, true); }
void small_only(benchmark::internal::Benchmark* b) { add_problems(b, false); }
void small_only_ms(benchmark::internal::Benchmark* b) {
  add_problems(b, false);
  b->Unit(benchmark::kMillisecond);
}

BENCHMARK(BM_Loss_Value)->Apply(small_and_large);
BENCHMARK(BM_Loss_Gradient)->Apply(small_and_large);
BENCHMARK(BM_Loss_Hvp)->Apply(small_and_large);
BENCHMARK(BM_Loss_HvpAfterGradient)->Apply(small_and_large);
BENCHMARK(BM_Loss_HessianOperatorApply)->Apply(small_and_large);
BENCHMARK(BM_Loss_Jacobian)->Apply(small_only);
BENCHMARK(BM_Loss_Hessian)->Apply(small_only_ms);

// MLPGradientFlow's benchmark conditions: the dense Hessian of [2,h,1] softplus (n = 4h + 1 =
// 41..401) on N = 10^2..10^4 points, one thread.
void mlpgradientflow_sizes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"p", "h", "depth", "l", "d", "nthreads"})
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
  for (int64_t h : {10, 25, 50, 100})
    for (int64_t d : {100, 1000, 10000}) b->Args({2, h, 1, 1, d, 1});
}
BENCHMARK(BM_Loss_Hessian)->Name("BM_Loss_HessianMlpGradientFlow")->Apply(mlpgradientflow_sizes);

}  // namespace
