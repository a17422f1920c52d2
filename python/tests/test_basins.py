"""locus.basins: the sweep certifies sub-optimal strict minima at width 1 of the scalar problem
and none at width N; the descent at width N ends at zero loss without increasing; results do not
depend on run_threads; bad keywords raise ValueError naming them."""

import numpy as np
import pytest

import locus


@pytest.fixture(scope="module")
def sweep():
    return locus.basins.run_basins(widths="1,8", seeds=10, adam_iterations=1500)


def test_sweep_finds_suboptimal_minima_narrow_and_none_at_n(sweep):
    narrow, wide = sweep.widths
    assert narrow["width"] == 1 and narrow["suboptimal_strict"] >= 1
    assert wide["width"] == 8 and wide["strict_minimum"] == 0
    for run in sweep.runs:
        if run.suboptimal:
            h = run.hessian
            assert run.end_state == "strict_minimum"
            assert h["negative"] == 0 and h["zero"] == 0
            assert h["min_eigenvalue"] > h["zero_tolerance"]
    doc = sweep.to_json()
    assert list(doc)[0] == "context" and len(doc["runs"]) == 20


def test_descent_reaches_zero_without_increase():
    model = locus.Mlp([1, 8, 1], activation="tanh")
    d = locus.basins.descend(model, model.init_parameters(scheme="normal", seed=2))
    assert d.status == "reached_zero"
    assert d.loss_end <= 1e-20
    assert d.max_relative_increase <= 1e-12
    assert d.vertices.shape == (4, model.n_params)
    # The profile never rises by more than round-off relative to its start.
    assert np.all(np.diff(d.profile_loss) <= 1e-12 * d.loss_start)


def test_threads_do_not_change_runs():
    a = locus.basins.run_basins(widths="1,8", seeds=2, adam_iterations=200)
    b = locus.basins.run_basins(widths="1,8", seeds=2, adam_iterations=200, run_threads=2)
    for ra, rb in zip(a.runs, b.runs):
        assert ra.end_state == rb.end_state and ra.loss == rb.loss
        assert np.array_equal(ra.params, rb.params)


def test_user_data_and_bad_keywords():
    x = np.linspace(-1, 1, 5)[:, None]
    r = locus.basins.run_basins(x, np.sin(3 * x), widths="5", seeds=1, adam_iterations=200)
    assert r.n_points == 5
    with pytest.raises(ValueError, match="widths"):
        locus.basins.run_basins(widths="3,1")
    with pytest.raises(ValueError, match="seeds"):
        locus.basins.run_basins(seeds=0)
    with pytest.raises(ValueError, match="layer"):
        locus.basins.run_basins(arch="1,2,1", layer=3)
