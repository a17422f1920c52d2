// Train a wide student on data labelled by a narrow teacher to zero loss with
// Levenberg-Marquardt, then look at the Hessian there.
//
// With d data points and one output, the zero-loss set of a student with n > d parameters is
// (at a regular point) a manifold of dimension n - rank J = n - d, and at a zero-loss point the
// Hessian is the Gauss-Newton matrix 2 J^T J: its zero eigenvalues are exactly the directions
// along that manifold. The program checks that the count of zero eigenvalues equals n - rank J
// and exits 1 otherwise.
//
//   build/examples/example_teacher_student_zero_loss

#include <cstdio>

#include "locus/analysis/geometry.hpp"
#include "locus/core/objective.hpp"
#include "locus/data/synthetic.hpp"
#include "locus/solvers/solve.hpp"

int main() {
  // Teacher [4, 2, 1] with softplus (smooth, so the Hessian exists everywhere); 20 points
  // x ~ N(0, I_4) and y = teacher(x).
  const locus::TeacherStudent problem = locus::teacher_student(
      {.teacher = {.widths = {4, 2, 1}, .activation = locus::Activation::softplus},
       .n_points = 20,
       .seed = 1});
  // Student [4, 6, 1]: n = 4*6 + 6 + 6 + 1 = 37 parameters for d = 20 equations.
  const locus::Mlp student({.widths = {4, 6, 1}, .activation = locus::Activation::softplus});
  const locus::Objective loss(student, problem.data);

  // Levenberg-Marquardt (the default method) converges quadratically on zero-residual problems.
  const locus::solvers::SolveResult fit =
      locus::solvers::solve(loss, student.init_parameters({.seed = 7}));
  std::printf("%s\n", locus::solvers::summary(fit).c_str());
  if (fit.loss_final > 1e-20) {  // interpolation to round-off: the loss is ~1e-28 or below
    std::printf("did not reach zero loss\n");
    return 1;
  }

  // Jacobian rank (with the tolerance and gap that decided it) and the dense Hessian spectrum.
  const auto jac = locus::analysis::analyze_jacobian(loss, fit.theta);
  const auto spectrum = locus::analysis::hessian_spectrum(loss, fit.theta);
  const locus::Index n = student.n_params();
  std::printf("n = %ld parameters, d = %ld points\n", long(n), long(problem.data.size()));
  std::printf("rank J = %ld (tolerance %.2e, gap %.2e): the zero set has dimension %ld here\n",
              long(jac.rank), jac.tolerance, jac.gap, long(n - jac.rank));
  std::printf(
      "Hessian: %ld positive, %ld zero, %ld negative eigenvalues (|lambda| <= %.2e "
      "counts as zero, gap %.2e)\n",
      long(spectrum.counts.positive), long(spectrum.counts.zero), long(spectrum.counts.negative),
      spectrum.counts.tolerance, spectrum.counts.gap);
  const bool agrees = spectrum.counts.zero == n - jac.rank && spectrum.counts.negative == 0;
  std::printf("zero eigenvalues %s n - rank J\n", agrees ? "==" : "!=");
  return agrees ? 0 : 1;
}
