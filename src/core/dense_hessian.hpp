#pragma once
// The dense Hessian and the residual Jacobian of an MLP loss assembled with GEMMs (private to
// locus; Objective::hessian, Objective::jacobian and analysis::dense_hessian call it).
//
// For a loss L = sum_i l_i(out_i) of the network outputs out_i = f_theta(x_i) (length l),
//   H = sum_i J_i^T Lambda_i J_i  +  sum_i sum_j G_ij grad^2 out_ij,
// J_i = d out_i / d theta (l x n), Lambda_i = d^2 l_i / d out_i^2, G = dL/d out. The first term
// (Gauss-Newton) is B^T B with B = Lambda^(1/2) J, l d x n: squared loss Lambda_i = 2c I; cross-
// entropy Lambda_i = c m_i (diag p_i - p_i p_i^T) = R_i^T R_i with R_i = sqrt(c m_i) (diag
// sqrt(p_i)
// - sqrt(p_i) p_i^T) (softmax rows sum to 1). One GEMM over all points, in fixed tiles of H.
// The second term is the output's curvature weighted by G; for one hidden layer (a = sigma(z),
// z = W_0 x~ + ..., x~ = [x, 1] with the bias) it is block sparse:
//   d^2 L / dW_0[o,q] dW_0[o,q'] += sum_i sigma''(z_io) ga_io x~_iq x~_iq'   (ga = dL/da)
//   d^2 L / dW_0[o,q] dW_1[j,o]  += sum_i dz_1(i,j) sigma'(z_io) x~_iq        (dz_1 = s G)
// and zero for a linear model. Deeper networks are left to HVP columns.

#include <Eigen/Core>

#include "locus/core/objective.hpp"
#include "locus/core/progress.hpp"

namespace locus::detail {

// Whether assemble_hessian applies: at most one hidden layer, at most 16 outputs (B^T B costs
// l d n^2 / 2 multiply-adds against ~8 d n^2 for n HVP columns) and B (8 l d n bytes) within
// 1 GiB. Cost O(1).
bool gemm_hessian_applies(const Objective& objective);

// The exact dense Hessian at theta (n x n, symmetric bitwise: the lower triangle is computed and
// mirrored), when gemm_hessian_applies. Bitwise identical for any number of threads: every tile
// of H is one single-threaded GEMM of fixed shape. `progress` gets `stage` k of n after each block
// of 64 columns (from the calling thread). Cost: l d n^2 / 2 multiply-adds for B^T B plus
// O(d h p^2 + l d n) for B and the second-order blocks; memory 8 (n^2 + l d n) bytes, checked by
// io::check_memory (io::MemoryLimitError). theta must already be checked.
Eigen::MatrixXd assemble_hessian(const Objective& objective, const Eigen::VectorXd& theta,
                                 const ProgressCallback& progress, const std::string& stage);

// The lower triangle of scale B^T B (B: m x n) into h (n x n, resized; the strict upper triangle
// is left unset), in fixed tiles of 256 x 256 columns, each one single-threaded GEMM (a rank
// update on the diagonal) spread over OpenMP's threads: bitwise identical for any thread count.
// `progress` gets `stage` with the columns done after each block of 256 (from the calling
// thread). Cost: about m (n^2 + 256 n) / 2 multiply-adds (the tiles on and below the diagonal,
// half of each diagonal one); no memory beyond h and Eigen's packing buffers.
void gram_lower(const Eigen::Ref<const Eigen::MatrixXd>& b, double scale, Eigen::MatrixXd& h,
                const ProgressCallback& progress = {}, const std::string& stage = {});

// The residual Jacobian dr/dtheta ((l d) x n, rows r[i*l + j]) for the squared loss, any depth:
// one backward pass per output on all points, then column (W_k[o,q]) = dz_k(:,o) .* act_k(:,q).
// Columns are filled in parallel (disjoint memory), so the result does not depend on the thread
// count. Cost O(l d n); theta must already be checked. jac is resized only when its shape
// differs (every entry is written).
void assemble_jacobian(const Objective& objective, const Eigen::VectorXd& theta,
                       Eigen::MatrixXd& jac);

// The residual Gram matrix J J^T ((l d) x (l d), symmetric bitwise) without forming J. Layer k's
// weight W_k[o,q] enters row (i,j) of J as dz_k^j(i,o) a~_k(i,q), with a~_k = [act_k, 1] (the 1
// for the bias), so
//   (J J^T)_{(i,j),(i',j')} = sum_k (D_k D_k^T)_{(i,j),(i',j')} (A~_k A~_k^T)_{i,i'},
// D_k = dz_k^j(i,:) stacked in rows i*l + j: the empirical neural tangent kernel as a sum of
// Hadamard products of two small Grams per layer. Cost: l backward passes, then (l d)^2/2 times
// sum_k (out_k + in_k + 1) multiply-adds, against (l d)^2 n / 2 for J J^T ([10,200,1]: 413
// against 2401), in fixed tiles of 256 rows, one single-threaded GEMM each: bitwise identical for
// any thread count. Memory 8 ((l d)^2 + l d sum_k out_k) bytes, checked by io::check_memory.
// The result goes into g, resized (and advised onto huge pages) only when its shape differs.
// theta must already be checked.
void assemble_residual_gram(const Objective& objective, const Eigen::VectorXd& theta,
                            Eigen::MatrixXd& g);

}  // namespace locus::detail
