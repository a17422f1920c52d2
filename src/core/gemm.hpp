#pragma once
// The matrix product behind every layer of a forward, backward and R-pass (private to locus).
//
//   c = op(a) op(b)       or, with accumulate,   c += op(a) op(b),
//
// op(x) = x or x^T, c m x n with m = rows of op(a), n = columns of op(b), k = the inner dimension;
// all column-major, any outer strides. Single-threaded on purpose: a chunk's product runs on the
// thread that owns the chunk, and the order of the sums depends on (m, n, k, op) alone, so results
// are the same bits for any number of threads.
//
// On a CPU with AVX-512 (a build with -march=native there) this is locus's own kernel: op(a) packed
// in panels of 24 rows x 256 depths (L2), op(b) read in place 8 columns at a time (its panel,
// 256 x 8, stays in L1), and a 24 x 8 block of c held in 24 of the 32 vector registers (24
// multiply-adds per 3 loads and 8 broadcasts). The kernel alone ran at 215-230 GFLOP/s on 2 Zen 5
// cores where Eigen's 24 x 4 kernel ran at 165 (256 x 512 x 512); not packing op(b), which for a
// layer is the weight matrix that every chunk would pack again, then took the large network's HVP
// from 51 to 38 ms, 95% of OpenBLAS's dgemm rate (see bench/README.md). With AVX2 (16 registers
// of 4 doubles) the same kernel with 12 x 4 blocks of c takes the products up to 64 deep (a small
// net's layers and chunk sums, where Eigen's per-call packing and clearing of c cost more than
// the product: a [10,64,1] HVP 83 -> 72 us on one core), BLAS's dgemm on the calling thread the
// deeper ones (OpenBLAS: the large net's HVP on two threads 1.07x faster than with Eigen's
// product, which itself beat this kernel there); without AVX2, dgemm every product deeper than
// 64 (OpenBLAS chooses the CPU's kernels at run time). a^T b with at most 16 rows of c (8 with
// AVX-512: a layer's weight product X^T dZ when the layer has few inputs) goes to a dot-product
// kernel instead, which reads both operands in place and pads nothing: c(i, j) = a[:, i] . b[:, j],
// 3 or 4 columns of c by up to one vector's width of rows at a time (the panel kernel pads 10 rows
// to 12, 2 rows to 4). Elsewhere, and for products with fewer rows or columns than one block (a
// GEMV in disguise), it is Eigen's product. dgemm runs inside a detail::SerialBlas scope (OpenBLAS
// held to one thread, blas_threads.hpp), so that every product's bits stay those of one thread.
//
// Cost: 2 m n k flops; packing copies op(a) once (m k doubles), and op(b)'s last panel when n is
// not a multiple of 8. Packing buffers are per thread, 210 KB, allocated once.
// Failure modes: none; shapes must agree (asserted in debug builds only: callers own the shapes).

#include <Eigen/Core>

namespace locus::detail {

enum class Op { none, transpose };

// With `bias` (n values), bias[j] is added to column j of the result as the last operation:
// c = op(a) op(b) + 1 bias^T (or (c + op(a) op(b)) + 1 bias^T), the same bits as adding it in a
// pass of its own afterwards, one pass over c fewer (a layer's forward z = act W^T + b).
void gemm(const Eigen::Ref<const Eigen::MatrixXd>& a, Op op_a,
          const Eigen::Ref<const Eigen::MatrixXd>& b, Op op_b, Eigen::Ref<Eigen::MatrixXd> c,
          bool accumulate, const double* bias = nullptr);

}  // namespace locus::detail
