"""Simsek et al.'s experiments, re-exported by locus.symmetry.

categorize(teacher, teacher_params, model, params, **options) sorts the neurons of a two-layer
student [D, m, 1] into copies of the teacher's neurons, zero-type neurons and zero groups, and
says which piece Gamma(phi) of the expansion manifold it lies on (with its dimension).
run_students(progress=None, **options) trains students of growing width on the 41 x 41 grid
(Adam, then a second-order polish), certifies each end state and categorizes the zero-loss ones.
Bad input raises ValueError naming it.

    import locus
    from locus._symmetry_experiments import categorize, run_students
    r = run_students(widths="4,5", seeds=3, grid_stride=2)
    r.widths[1]["fraction_zero_loss"], r.runs[3].categorization.phi
"""

from ._core import _symmetry_experiments as _s

Categorization = _s.Categorization
StudentRun = _s.StudentRun
StudentsResult = _s.StudentsResult
categorize = _s.categorize
categorize_options = _s.categorize_options
run_students = _s.run_students
students_options = _s.students_options

__all__ = [
    "Categorization", "StudentRun", "StudentsResult", "categorize", "categorize_options",
    "run_students", "students_options",
]
