"""Simsek et al.'s symmetry-induced structure of two-layer networks (locus.symmetry).

A teacher ``[D, r, 1]`` (an ``Mlp`` with one hidden layer of width r) expands into a student of
width m >= r along the affine pieces Gamma(phi) of zero loss: each student neuron j is a copy of
teacher neuron ``phi[j]`` (0-based) or zero-type (``phi[j] = -1``; outgoing weight 0, incoming
vector free); with ``zero_groups=True`` zero-type neurons may also form zero groups (shared
incoming vector, outgoing weights summing to 0), numbered by ``block[j]``.

    import locus.symmetry as sym
    sym.count(4, 45)["T"]                  # exact Python int: 4! S(46, 5)
    e = sym.enumerate_pieces(teacher, params, x, m=5)
    e.n_pieces, e.dimension_histogram, e.to_json()["components"]

Counts are exact Python ints. Caller mistakes (r > m, sizes beyond 200, a reducible teacher,
arrays of the wrong shape) raise ValueError naming the input. The library's C++ header
``include/locus/symmetry/expansion.hpp`` documents every formula.
"""

from . import _core
from ._symmetry_experiments import (  # noqa: F401
    Categorization, StudentRun, StudentsResult, categorize, categorize_options, run_students,
    students_options)

__all__ = [
    "count", "deep_count", "log10_saddle_minimum_ratio", "maps", "piece_dimension", "piece",
    "pieces_intersect", "affine_intersection", "enumerate_pieces", "components",
    "check_irreducible", "irreducibility_problem", "ExpansionEnumeration", "swap_path",
    "check_swap_path", "categorize", "run_students", "categorize_options", "students_options",
    "Categorization", "StudentRun", "StudentsResult",
]

ExpansionEnumeration = _core.ExpansionEnumeration


def count(r, m):
    """{'T', 'T_groups', 'G'} as exact ints (and their log10) for a width-r teacher in width m:
    T = r! S(m+1, r+1), T_groups = r! sum_j C(j, r) S(m, j), G = r! S(m, r)."""
    return _core.symmetry_counts(r, m)


def deep_count(teacher_widths, student_widths):
    """Per-hidden-layer counts and their products (one map per layer: the product rule)."""
    return _core.symmetry_deep_counts(list(teacher_widths), list(student_widths))


def log10_saddle_minimum_ratio(r, m):
    """log10(G(r-1, m) / T(r, m)): saddle subspaces against minimum subspaces."""
    return _core.symmetry_log10_saddle_minimum_ratio(r, m)


def maps(r, m, zero_groups=False, max_pieces=None):
    """Every map as a (phi, block) pair of lists, T(r, m) of them (T_groups with zero groups)."""
    if max_pieces is None:
        return _core.symmetry_maps(r, m, zero_groups)
    return _core.symmetry_maps(r, m, zero_groups, max_pieces)


def piece_dimension(phi, r, n_in, block=None):
    """dim Gamma(phi) = (k - r) + (m - k) n_in for single zero-type neurons (n_in = D, +1 with
    hidden biases); with zero groups each block B adds n_in + |B| - 1."""
    return _core.symmetry_piece_dimension(list(phi), block, r, n_in)


def piece(teacher, params, phi, block=None, seed=0):
    """{'params': a seeded point of Gamma(phi) in the student's layout (width len(phi)),
    'basis': n x dim orthonormal directions, 'dimension'}."""
    return _core.symmetry_piece(teacher, params, list(phi), block, seed)


def pieces_intersect(phi_a, phi_b, block_a=None, block_b=None):
    """The combinatorial rule: in the graph of parts (copies of a teacher neuron, zero blocks) of
    both maps joined by the student neurons, each teacher neuron's two parts share a component
    that holds no other teacher neuron. Blocks None: single zero-type neurons."""
    return _core.symmetry_pieces_intersect(list(phi_a), list(phi_b), block_a, block_b)


def affine_intersection(p1, b1, p2, b2):
    """{'intersects', 'residual', 'tolerance'} for p1 + span(b1) and p2 + span(b2)."""
    return _core.symmetry_affine_intersection(p1, b1, p2, b2)


def enumerate_pieces(teacher, params, x, **options):
    """The pieces of the teacher's expansion (keywords: m, zero_groups, max_pieces, components,
    seed), their dimension histogram, zero loss on inputs x, and the connected components."""
    return _core.symmetry_enumerate(teacher, params, x, **options)


def components(teacher, params, x, m=-1, zero_groups=False, **options):
    """{'by_rule': count or None, 'numerical': count} for the union of the pieces in width m."""
    e = enumerate_pieces(teacher, params, x, m=m, zero_groups=zero_groups, components=True,
                         **options)
    c = e.to_json()["components"]
    return {
        "by_rule": None if c["by_rule"] is None else c["by_rule"]["count"],
        "numerical": c["numerical"]["count"],
    }


def irreducibility_problem(teacher, params):
    """'' when the teacher is irreducible, else the reason naming the neurons."""
    return _core.symmetry_irreducibility_problem(teacher, params)


def check_irreducible(teacher, params):
    """Raises ValueError naming the neurons unless the teacher [D, r, 1] is irreducible."""
    problem = irreducibility_problem(teacher, params)
    if problem:
        raise ValueError(problem)


def swap_path(teacher, params, swaps):
    """The zero-loss path exchanging neurons through one extra neuron per hidden layer.

    ``swaps``: a list of ``(i, j)`` (hidden layer 1) or ``(layer, i, j)`` pairs, applied in
    order. Returns ``{'model', 'vertices', 'segments'}``: the student (the teacher with one extra,
    last, zero-type neuron per hidden layer), the polyline's vertices as rows (7 segments per
    swap; the first row is the teacher with the extra neurons, the last the teacher with the
    neurons exchanged in place) and each segment's kind (``move_incoming`` of a neuron whose
    outgoing weights are 0, or ``transfer_outgoing`` between neurons with equal incoming
    weights): along every segment the network function is unchanged."""
    return _core.symmetry_swap_path(teacher, params, swaps)


def check_swap_path(teacher, params, swaps, x, y=None, samples_per_segment=16, **profile):
    """The swap path on data (``y`` = the teacher's outputs when None): every segment's loss
    maximum, the straight line between the same ends with its barriers, and both profiles
    sampled at ``t`` (``loss_path``, ``loss_line``). Keywords: locus.paths' profile options."""
    return _core.symmetry_check_swap_path(teacher, params, swaps, x, y, samples_per_segment,
                                          **profile)
