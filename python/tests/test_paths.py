"""Bindings of locus.paths: paths evaluate as their closed forms, profiles come back as numpy
arrays with the three barriers, options are keywords, bad input raises ValueError naming it."""

import numpy as np
import pytest

import locus
import locus.paths as lp


def test_path_evaluation():
    a, b, c = np.array([0.0, 1.0]), np.array([2.0, -1.0]), np.array([1.0, 3.0])
    curve = lp.bezier(a, b, c)
    assert curve.kind == "bezier" and curve.dimension == 2
    for t in (0.0, 0.3, 1.0):
        expected = (1 - t) ** 2 * a + 2 * t * (1 - t) * b + t ** 2 * c
        np.testing.assert_allclose(curve(t), expected, rtol=0, atol=1e-15)
    chain = lp.polychain(a, b, c)  # one bend as a 1-D array
    assert chain.kind == "polychain" and chain.control_points.shape == (3, 2)
    np.testing.assert_array_equal(chain.breakpoints, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(chain(0.5), b)
    assert lp.polyline(np.stack([a, b, c])).kind == "polyline"
    np.testing.assert_allclose(lp.line(a, c).weights(0.25), [0.75, 0.25])


def test_profile_of_callable_and_barriers():
    # f(x) = (x^2 - 1)^2 along x = -1 + 2.2 t: maximum 1 at t* = 1/2.2.
    p = lp.profile_path(lp.line([-1.0], [1.2]), lambda th: (th[0] ** 2 - 1.0) ** 2,
                        t_tolerance=1e-8)
    assert p.converged and p.status == "converged"
    assert abs(p.t_max - 1 / 2.2) <= 1e-8
    assert isinstance(p.t, np.ndarray) and p.t.dtype == np.float64 and p.t.shape == p.loss.shape
    assert set(p.barriers) == {"above_larger_end", "above_interpolation", "above_mean"}
    assert p.to_json()["status"] == "converged" and "barrier" in repr(p)
    assert lp.barriers(1.0, 3.0, 0.25, 5.0) == {"above_larger_end": 2.0,
                                                  "above_interpolation": 3.5, "above_mean": 3.0}
    assert lp.options()["points"] == 33


def test_profile_of_permuted_teacher():
    m = locus.Mlp([3, 4, 1])
    theta = m.init_parameters(scheme="normal", seed=5)
    x = np.random.default_rng(6).standard_normal((40, 3))
    y = m.predict(theta, x)
    # Swap hidden neurons 0 and 2: rows of W1 (4 x 3) and b1, entries of W2 (1 x 4).
    perm = theta.copy()
    w1, b1, w2 = perm[:12].reshape(4, 3), perm[12:16], perm[16:20]
    w1[[0, 2]] = w1[[2, 0]]
    b1[[0, 2]] = b1[[2, 0]]
    w2[[0, 2]] = w2[[2, 0]]
    p = lp.profile(m, theta, perm, x, y, points=17)
    assert p.converged and p.loss_start < 1e-25 and p.loss_end < 1e-25
    assert p.barriers["above_larger_end"] > 1e-3 * float(np.sum(y ** 2))
    assert locus.loss(m, p.t_max * perm + (1 - p.t_max) * theta, x, y) == pytest.approx(
        p.loss_max, rel=1e-12)


def test_bad_input_raises_value_error():
    with pytest.raises(ValueError, match="end"):
        lp.line([0.0, 1.0], [0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="bend"):
        lp.bezier([0.0], [np.nan], [1.0])
    with pytest.raises(ValueError, match="points="):
        lp.profile_path(lp.line([0.0], [1.0]), lambda th: 0.0, points=1)
    with pytest.raises(ValueError, match="bogus"):
        lp.profile_path(lp.line([0.0], [1.0]), lambda th: 0.0, bogus=3)
    with pytest.raises(ValueError, match="real number"):
        lp.profile_path(lp.line([0.0], [1.0]), lambda th: "high")
    with pytest.raises(ValueError, match="t"):
        lp.line([0.0], [1.0])(1.5)
    m = locus.Mlp([3, 4, 1])
    with pytest.raises(ValueError):
        lp.profile(m, np.zeros(21), np.ones(20), np.zeros((5, 3)), np.zeros(5))
    # NaN from a callable is a numerical outcome, reported in the status.
    p = lp.profile_path(lp.line([0.0], [1.0]), lambda th: float("nan"))
    assert p.status == "non_finite" and not p.converged


def test_fit_curve():
    m = locus.Mlp([2, 4, 1])
    theta = m.init_parameters(scheme="normal", seed=5)
    x = np.random.default_rng(6).standard_normal((8, 2))
    y = m.predict(theta, x)
    perm = theta.copy()
    w1, b1, w2 = perm[:8].reshape(4, 2), perm[8:12], perm[12:16]
    w1[[0, 2]] = w1[[2, 0]]
    b1[[0, 2]] = b1[[2, 0]]
    w2[[0, 2]] = w2[[2, 0]]
    fit = lp.fit_curve(m, theta, perm, x, y, kind="polychain", bends=1)
    assert fit.converged, fit.message
    assert fit.curve.kind == "polychain" and fit.curve.control_points.shape == (3, 17)
    assert fit.profile.barriers["above_larger_end"] < 1e-2 * fit.line_profile.barriers[
        "above_larger_end"]
    assert len(fit.loss_max_history) == fit.rounds
    assert fit.to_json()["kind"] == "polychain" and "curve fit" in repr(fit)
    assert lp.fit_options()["quadrature_nodes"] == 16
    with pytest.raises(ValueError, match="bends="):
        lp.fit_curve(m, theta, perm, x, y, bends=2)
    with pytest.raises(ValueError, match="equal"):
        lp.fit_curve(m, theta, theta, x, y)
    with pytest.raises(ValueError, match="kind="):
        lp.fit_curve(m, theta, perm, x, y, kind="spline")


def cosine_grid(x):
    """sum_i cos(2 pi x_i) and its gradient: minima -2 at half-integers, saddles 0 between."""
    return float(np.sum(np.cos(2 * np.pi * x))), -2 * np.pi * np.sin(2 * np.pi * x)


def test_neb_of_callable_barrier_two():
    # Issue 12, acceptance 1: the barrier 2 to 1e-6 and the saddle (0, 1/2) to 1e-4, through
    # the callable interface (the numerics are tested in C++: tests/paths/neb_test.cpp).
    r = lp.neb(cosine_grid, [-0.5, 0.5], [0.5, 0.5], images=6, climbing=True)
    assert isinstance(r, lp.NebResult) and r.converged and r.status == "converged"
    assert abs(r.barrier["above_larger_end"] - 2.0) <= 1e-6
    assert r.saddle.converged and r.saddle.index == 1
    np.testing.assert_allclose(r.saddle.params, [0.0, 0.5], atol=1e-4)
    assert r.vertices.shape == (8, 2) and r.values.shape == (8,)
    assert r.vertices.dtype == np.float64
    assert r.to_json()["saddle"]["index"] == 1 and "saddle index: 1" in repr(r)
    assert lp.neb_options()["images"] == 9


@pytest.mark.parametrize("fun, start, end, kwargs, named", [
    (cosine_grid, [0.5, 0.5], [0.5, 0.5], {}, "equal"),
    (cosine_grid, [-0.5, 0.5], [0.5, 0.5, 0.5], {}, "end"),
    (cosine_grid, [-0.5, 0.5], [0.5, 0.5], {"images": 0}, "images"),
    (cosine_grid, [-0.5, 0.5], [0.5, 0.5], {"no_such_option": 1}, "no_such_option"),
    (lambda x: (float("nan"), x), [-0.5, 0.5], [0.5, 0.5], {}, "non-finite"),
    (lambda x: (1.0, np.zeros(3)), [-0.5, 0.5], [0.5, 0.5], {}, "gradient"),
    (lambda x: 1.0, [-0.5, 0.5], [0.5, 0.5], {}, "(value, gradient)"),
])
def test_neb_bad_input_raises_value_error(fun, start, end, kwargs, named):
    with pytest.raises(ValueError, match=named.replace("(", r"\(").replace(")", r"\)")):
        lp.neb(fun, np.array(start), np.array(end), **kwargs)


def test_align_planted_permutation():
    import locus.transforms as lt
    m = locus.Mlp([3, 6, 5, 2], activation="tanh")
    a = m.init_parameters(scheme="normal", seed=4)
    b = lt.permute_neurons(m, a, 1, [5, 4, 3, 2, 1, 0]).params
    b = lt.permute_neurons(m, b, 2, [1, 2, 3, 4, 0]).params
    x = np.random.default_rng(0).standard_normal((20, 3))
    y = m.predict(a, x)
    al = lp.align(m, a, b, x, y, restarts=2, seed=3)
    assert isinstance(al, lp.Alignment) and al.converged
    np.testing.assert_array_equal(al.params, a)
    assert al.permutations == [[5, 4, 3, 2, 1, 0], [4, 0, 1, 2, 3]]
    assert al.distance_after == 0.0 < al.distance_before
    assert al.line_before.barriers["above_larger_end"] > 0 and al.line_after is None
    assert lp.align(m, a, b).line_before is None
    assert lp.solve_assignment(np.array([[0.0, 1.0], [1.0, 0.0]])) == [1, 0]
    with pytest.raises(ValueError, match="restarts"):
        lp.align(m, a, b, restarts=0)
    with pytest.raises(ValueError, match="params_b"):
        lp.align(m, a, b[:-1])
    with pytest.raises(ValueError, match="x and y"):
        lp.align(m, a, b, x)


def test_neb_of_model_releases_results_as_arrays():
    m = locus.Mlp([2, 3, 1], activation="tanh")
    a = m.init_parameters(scheme="normal", seed=2)
    b = a.copy()  # hidden neurons 0 and 1 swapped: W1 rows, b1 entries, W2 columns
    b[[0, 1, 2, 3]] = a[[2, 3, 0, 1]]
    b[[6, 7]] = a[[7, 6]]
    b[[9, 10]] = a[[10, 9]]
    x = np.random.default_rng(4).standard_normal((40, 2))
    y = m.predict(a, x)
    assert locus.loss(m, b, x, y) < 1e-25
    r = lp.neb(m, a, b, x, y, images=5, max_iterations=2000)
    assert r.status in ("converged", "max_iterations")
    assert r.vertices.shape == (7, 13) and r.saddle.params.shape == (13,)
    assert r.saddle.converged and r.saddle.index >= 1
    assert r.barrier["above_larger_end"] <= r.line_profile.barriers["above_larger_end"]
    with pytest.raises(ValueError, match="x and y"):
        lp.neb(m, a, b, x)


def test_slices_and_profile_slice():
    # Bindings only (the numerics are in tests/paths/slices_test.cpp): numpy results, keywords
    # from the tables, the plane through two points, ValueError naming the keyword.
    # Two local minima of nonzero loss (LM from seeds 1 and 2; see tests/cli/test_path_slice.py).
    m = locus.Mlp([3, 3, 1], activation="tanh")
    x = locus.gaussian_data(25, 3, 1, 2).x
    y = m.predict(m.init_parameters(scheme="normal", seed=1), x)
    a = locus.train(m, x, y, method="lm", seed=1).params
    b = locus.train(m, x, y, method="lm", seed=2).params
    s = lp.slice(m, a, x, y, dims=2, points=5, radius=0.5, seed=1)
    assert isinstance(s, lp.LossSlice) and s.loss.shape == (5, 5) and s.loss.dtype == np.float64
    assert s.loss[2, 2] == locus.loss(m, a, x, y) and s.d2.shape == (m.n_params,)
    s1 = lp.slice(m, a, x, y, params_end=b, points=5, radius=0.5)
    np.testing.assert_array_equal(s1.alpha, [-0.5, 0.0, 0.5, 1.0, 1.5])
    np.testing.assert_array_equal(s1.d1, b - a)
    assert s1.beta.size == 0 and s1.to_json()["dims"] == 1 and "slice: 1-D" in repr(s1)
    p = lp.profile_slice(m, a, x, y, params_end=b, points=5, radius=0.5, solver="lbfgs")
    assert isinstance(p, lp.ProfileSlice) and p.converged, p.message
    np.testing.assert_array_equal(p.t, s1.alpha)
    np.testing.assert_array_equal(p.slice, s1.loss[:, 0])
    assert np.all(p.profile <= p.slice * (1 + 1e-15)) and p.profile[1] == p.slice[1]
    assert lp.slice_options()["points"] == 41 and lp.profile_slice_options()["solver"] == "lm"
    with pytest.raises(ValueError, match="radius"):
        lp.slice(m, a, x, y, radius=-1)
    with pytest.raises(ValueError, match="dims"):
        lp.profile_slice(m, a, x, y, dims=2)
    with pytest.raises(ValueError, match="solver"):
        lp.profile_slice(m, a, x, y, solver="newton")
    with pytest.raises(ValueError, match="params_end"):
        lp.slice(m, a, x, y, params_end=b[:-1])


def test_dropout_path_is_reexported_from_paths():
    import locus.dropout

    assert locus.paths.dropout_path is locus.dropout.dropout_path
