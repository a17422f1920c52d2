"""Bindings of Simsek et al.'s experiments (locus._symmetry_experiments, re-exported by
locus.symmetry): categorize and run_students. Numerics are tested in C++ (tests/symmetry,
tests/workflows/students_test.cpp); here: results, numpy arrays, keywords and ValueError."""

import threading

import numpy as np
import pytest

import locus
import locus.transforms as lt
from locus import _symmetry_experiments as se

# Simsek et al.'s teacher: [2, 4, 1] sigmoid without biases.
TEACHER = locus.Mlp([2, 4, 1], activation="sigmoid", bias=[False, False])
TEACHER_PARAMS = np.array([0.6, 0.5, -0.5, 0.5, -0.2, -0.6, 0.1, -0.6, 1, 1, 1, 1], float)


def test_categorize_recovers_a_split_and_a_zero_type_neuron():
    wide, params = lt.split_neuron(TEACHER, TEACHER_PARAMS, layer=1, neuron=1,
                                   fractions=[0.25, 0.75])
    wide, params = lt.add_zero_neuron(wide, params, layer=1, incoming=np.array([0.3, -0.9]))
    c = se.categorize(TEACHER, TEACHER_PARAMS, wide, params)
    assert c.on_expansion_manifold, c.message
    assert c.phi == [0, 1, 2, 3, 1, -1]
    assert c.kinds == ["copy"] * 5 + ["zero_type"]
    assert c.zero_type == [5] and c.unexplained == [] and c.piece == "Gamma(phi)"
    assert c.piece_dimension == (5 - 4) + (6 - 5) * 2  # (k - r) + (m - k) D
    assert c.teacher[1]["copies"] == [1, 4]
    j = c.to_json()
    assert j["piece_dimension"] == c.piece_dimension and j["phi"] == c.phi
    assert "expansion manifold" in repr(c)


def test_categorize_random_student_and_options():
    student = locus.Mlp([2, 5, 1], activation="sigmoid", bias=[False, False])
    c = se.categorize(TEACHER, TEACHER_PARAMS, student, student.init_parameters(seed=3),
                      weight_tolerance_relative=1e-3)
    assert not c.on_expansion_manifold and c.unexplained == [0, 1, 2, 3, 4]
    assert c.piece == "none" and c.piece_dimension == -1
    assert np.isclose(c.weight_tolerance, 1e-3 * 0.6)
    defaults = se.categorize_options()
    assert defaults["weight_tolerance_relative"] == 1e-4 and defaults["sign_symmetry"] is True


def test_categorize_bad_input_raises_value_error_naming_it():
    other = locus.Mlp([2, 5, 5, 1], activation="sigmoid")
    with pytest.raises(ValueError, match="architecture"):
        se.categorize(TEACHER, TEACHER_PARAMS, other, other.init_parameters(seed=1))
    with pytest.raises(ValueError, match="params"):
        se.categorize(TEACHER, TEACHER_PARAMS, TEACHER, np.zeros(3))
    duplicate = TEACHER_PARAMS.copy()
    duplicate[6:8] = duplicate[2:4]
    with pytest.raises(ValueError, match="irreducible"):
        se.categorize(TEACHER, duplicate, TEACHER, TEACHER_PARAMS)
    with pytest.raises(ValueError, match="output_tolerance_relative="):
        se.categorize(TEACHER, TEACHER_PARAMS, TEACHER, TEACHER_PARAMS,
                      output_tolerance_relative=-1.0)
    with pytest.raises(ValueError, match="bogus"):
        se.categorize(TEACHER, TEACHER_PARAMS, TEACHER, TEACHER_PARAMS, bogus=1)


def test_run_students_reduced_with_progress():
    seen = []
    r = se.run_students(progress=lambda run, done, total: seen.append((run.width, done, total)),
                        widths="4,5", seeds=2, grid_stride=4)
    assert seen == [(4, 1, 4), (4, 2, 4), (5, 3, 4), (5, 4, 4)]
    assert r.n_points == 11 * 11 and len(r.runs) == 4
    assert [w["width"] for w in r.widths] == [4, 5]
    assert sum(w["runs"] for w in r.widths) == 4
    for run in r.runs:
        assert isinstance(run.params, np.ndarray) and run.params.dtype == np.float64
        assert run.params.size == 3 * run.width
        assert run.end_state in ("global_minimum", "strict_minimum", "non_strict_minimum",
                                 "saddle", "not_converged", "undecided")
        assert (run.categorization is not None) == run.zero_loss
        if run.zero_loss:
            assert run.loss_final <= r.options["loss_tolerance"]
    j = r.to_json()
    assert list(j)[0] == "context" and j["context"]["options"]["widths"] == "4,5"
    assert len(j["runs"]) == 4
    assert "width 4" in repr(r)
    assert se.students_options()["widths"] == "4,5,45"


def test_run_students_bad_options_raise_value_error():
    with pytest.raises(ValueError, match="widths="):
        se.run_students(widths="4,x")
    with pytest.raises(ValueError, match="polish="):
        se.run_students(polish="adam")
    with pytest.raises(ValueError, match="seeds="):
        se.run_students(seeds=0)


def test_run_students_releases_the_gil():
    # Another Python thread makes progress while run_students computes.
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(1)
            stop.wait(0.001)

    t = threading.Thread(target=tick)
    t.start()
    try:
        se.run_students(widths="5", seeds=2, grid_stride=2)
    finally:
        stop.set()
        t.join()
    assert len(ticks) > 5
