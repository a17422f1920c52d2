"""Bindings of the solvers (their numerics are tested in C++)."""

import numpy as np
import pytest

import locus


def test_train_reaches_zero_loss_and_returns_numpy():
    teacher = locus.Mlp([3, 2, 1], activation="tanh")
    t = locus.teacher_student(teacher, n_points=8, seed=1)
    student = locus.Mlp([3, 10, 1], activation="tanh")
    r = locus.train(student, t["x"], t["y"], method="lm", seed=2)
    assert r.converged(), repr(r)
    assert r.loss_final <= 1e-24
    assert isinstance(r.params, np.ndarray) and r.params.shape == (student.n_params,)
    np.testing.assert_allclose(locus.loss(student, r.params, t["x"], t["y"]), r.loss_final,
                               atol=1e-24)
    assert "|g|" in repr(r)


def test_train_options_by_name_and_errors():
    x = np.random.default_rng(0).normal(size=(6, 2))
    y = np.ones((6, 1))
    m = locus.Mlp([2, 4, 1])
    r = locus.train(m, x, y, method="gd", max_iterations=3, record_trace=True)
    assert r.status == "max_iterations" and len(r.trace["loss"]) >= 3
    with pytest.raises(ValueError, match="nonsense"):
        locus.train(m, x, y, method="lm", nonsense=1)
    with pytest.raises(ValueError):
        locus.train(m, x, y, method="newtonian")
