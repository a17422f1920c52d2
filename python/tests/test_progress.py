"""progress= and callback= on the long calls of locus.paths, locus.dropout, the projection
estimate of a manifold's dimension and the symmetry checks: the callback gets one dict per unit
of work (NEB iteration with the highest image's loss and the max force, profile point, slice
point, SGD step, dropout draw, projected sample), progress=True writes ``locus <call>: ...``
lines on stderr, and neither changes the result."""

import numpy as np
import pytest

import locus
import locus.dropout as ld
import locus.paths as lp


def swapped_teacher():
    """A teacher [2, 3, 1], its labels on 40 points and the teacher with hidden neurons 0 and 1
    swapped (a second zero-loss point of the same function)."""
    m = locus.Mlp([2, 3, 1], activation="tanh")
    a = m.init_parameters(scheme="normal", seed=2)
    b = a.copy()  # W1 rows, b1 entries, W2 columns of neurons 0 and 1 exchanged
    b[[0, 1, 2, 3]] = a[[2, 3, 0, 1]]
    b[[6, 7]] = a[[7, 6]]
    b[[9, 10]] = a[[10, 9]]
    x = np.random.default_rng(4).standard_normal((40, 2))
    return m, a, b, x, m.predict(a, x)


def stages(events):
    return {e["stage"] for e in events}


def test_neb_reports_iterations_with_the_max_force():
    m, a, b, x, y = swapped_teacher()
    events = []
    r = lp.neb(m, a, b, x, y, images=5, max_iterations=300, callback=events.append)
    neb = [e for e in events if e["stage"] == "neb"]
    # One event per force evaluation: iterations 0, 1, ..., r.iterations out of max_iterations,
    # the last one's force the result's.
    assert [e["done"] for e in neb] == list(range(r.iterations + 1))
    assert all(e["total"] == 300 for e in neb)
    assert neb[-1]["gradient_max_norm"] == r.force_max_norm
    assert {"profile grid"} <= stages(events)
    quiet = lp.neb(m, a, b, x, y, images=5, max_iterations=300)
    np.testing.assert_array_equal(quiet.vertices, r.vertices)
    # The callable interface (the GIL held throughout) reports the same way.
    seen = []
    lp.neb(lambda z: (float(z @ z), 2 * z), np.array([-1.0, 0.5]), np.array([1.0, 0.5]),
           images=4, callback=seen.append)
    assert seen and seen[0]["stage"] == "neb"


def test_profile_fit_slice_and_align_report():
    m, a, b, x, y = swapped_teacher()
    events = []
    p = lp.profile(m, a, b, x, y, points=17, callback=events.append)
    grid = [e for e in events if e["stage"] == "profile grid"]
    assert [e["done"] for e in grid] == list(range(1, 18)) and grid[0]["total"] == 17
    refine = [e for e in events if e["stage"] == "profile refinement"]
    assert len(grid) + len(refine) == p.evaluations
    assert max(e["loss"] for e in refine) == p.loss_max

    events = []
    fit = lp.fit_curve(m, a, b, x, y, max_rounds=2, iterations_per_round=20,
                       callback=events.append)
    curve = [e for e in events if e["stage"] == "curve fit"]
    assert curve and curve[-1]["total"] == 40 and curve[-1]["done"] <= fit.iterations
    assert all(np.isfinite(e["loss"]) for e in curve)

    events = []
    lp.slice(m, a, x, y, dims=2, points=5, callback=events.append)
    assert [e["done"] for e in events] == [5, 10, 15, 20, 25] and events[-1]["total"] == 25
    events = []
    ps = lp.profile_slice(m, a, x, y, points=5, callback=events.append)
    solved = [e for e in events if e["stage"] == "profile slice"]
    assert [e["done"] for e in solved] == [1, 2, 3, 4, 5]
    assert sorted(e["loss"] for e in solved) == sorted(ps.profile)

    events = []
    al = lp.align(m, a, b, x, y, callback=events.append)
    # One hidden layer: one run (the assignment is exact), then the two lines' profiles.
    assert (events[0]["stage"], events[0]["done"], events[0]["total"]) == ("weight matching", 1, 1)
    assert al.converged and "profile grid" in stages(events)


def test_dropout_calls_report_steps_and_draws(capsys):
    teacher = locus.Mlp([3, 2, 1], activation="tanh")
    t = teacher.init_parameters(scheme="normal", seed=1)
    student = locus.Mlp([3, 8, 1], activation="tanh", mean_field=True)
    p0 = ld.mean_field_init(student, 3)
    events = []
    r = ld.train_online(student, p0, teacher, t, steps=50, callback=events.append)
    assert [e["done"] for e in events] == list(range(1, 51)) and events[0]["total"] == 50
    assert all(e["stage"] == "SGD" and np.isfinite(e["loss"]) for e in events)
    again = ld.train_online(student, p0, teacher, t, steps=50)
    np.testing.assert_array_equal(again["params"], r["params"])
    x = np.random.default_rng(0).standard_normal((30, 3))
    y = teacher.predict(t, x)
    events = []
    e = ld.dropout_error(student, r["params"], x, y, samples=6, callback=events.append)
    assert [ev["done"] for ev in events] == list(range(1, 7))
    np.testing.assert_array_equal([ev["loss"] for ev in events], e["losses_kept"])
    ld.dropout_error(student, r["params"], x, y, samples=6, progress=True)
    assert "locus dropout.dropout_error: dropout draws" in capsys.readouterr().err


def test_manifold_dimension_by_projection_reports_samples(capsys):
    x = np.random.default_rng(1).standard_normal((6, 2))
    y = np.random.default_rng(2).standard_normal((6, 1))
    c = locus.construct_cooper(x, y)
    events = []
    e = locus.manifold_dimension_by_projection(c.model, c.params, x, y, seed=1,
                                               callback=events.append)
    samples = [ev for ev in events if ev["stage"] == "projection samples"]
    assert samples and samples[-1]["total"] == e.n_samples
    assert [ev["done"] for ev in samples] == sorted(ev["done"] for ev in samples)
    quiet = locus.manifold_dimension_by_projection(c.model, c.params, x, y, seed=1)
    assert quiet.dimension == e.dimension
    np.testing.assert_array_equal(quiet.singular_values, e.singular_values)
    locus.manifold_dimension_by_projection(c.model, c.params, x, y, seed=1, progress=True)
    assert "locus manifold_dimension_by_projection: projection samples" in capsys.readouterr().err


def test_a_raising_callback_reaches_the_caller():
    m, a, b, x, y = swapped_teacher()

    def boom(event):
        raise KeyError("from the callback")

    with pytest.raises(KeyError, match="from the callback"):
        lp.profile(m, a, b, x, y, callback=boom)
    with pytest.raises(ValueError, match="callable"):
        lp.neb(m, a, b, x, y, callback=3)


def test_dense_hessian_reports_its_columns_and_keeps_its_bits():
    x = np.random.default_rng(0).standard_normal((30, 4))
    y = np.sin(x[:, :1])
    # One hidden layer, n = 4*70 + 70 + 70 + 1 = 421: assembled by GEMMs in blocks of 256 columns.
    # Two hidden layers, n = 4*20 + 20 + 20*15 + 15 + 15 + 1 = 431: HVP columns in blocks of 64.
    for widths, done, stage in (([4, 70, 1], [256, 421], "dense Hessian (GEMM)"),
                                ([4, 20, 15, 1], [64, 128, 192, 256, 320, 384, 431],
                                 "dense Hessian (HVP columns)")):
        m = locus.Mlp(widths, activation="tanh")
        p = m.init_parameters(seed=1)
        events = []
        h = locus.hessian(m, p, x, y, callback=events.append)
        assert [e["done"] for e in events] == done
        assert all(e["total"] == m.n_params and e["stage"] == stage for e in events)
        # The same assembly either way: bitwise the matrix built without a listener.
        assert np.array_equal(h, locus.hessian(m, p, x, y))
