#pragma once
// The inertia (positive, zero, negative counts) of a symmetric matrix from its eigenvalues,
// with the threshold that decided it and the gap behind it.
//
// Zero rule (the one rule of locus): |lambda| <= tau_H = factor * n * eps * max|lambda| counts as
// zero (the backward error of a symmetric eigensolver is ~ n eps |H|; a dense Hessian's own
// entries carry round-off of the same order). The gap min{|lambda| > tau} / max{|lambda| <= tau}
// says whether a count is a claim (gap >> 1) or an artefact of the threshold.

#include <Eigen/Core>

#include "locus/core/objective.hpp"

namespace locus::analysis {

// Inertia of the computed eigenvalues with the threshold that decided it.
struct InertiaCount {
  Index positive = 0, zero = 0, negative = 0;
  double tolerance = 0.0;  // tau_H
  // min{|lambda| > tau} / max{|lambda| <= tau}; inf when no eigenvalue is zero, 0 when none
  // is non-zero.
  double gap = 0.0;
  // True when the counts cover the whole spectrum (dense). Lanczos counts only the computed
  // eigenvalues; the negative count is still certified 0 when the smallest one is >= -tau.
  bool complete = false;
};
// Counts eigenvalues with tau = factor * n * eps * max|lambda| (n = matrix size; complete when
// eigenvalues.size() == n). O(size); never throws.
InertiaCount count_inertia(const Eigen::VectorXd& eigenvalues, Index n, double factor);

}  // namespace locus::analysis
