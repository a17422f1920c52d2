"""Bindings of the core: types, round trips, errors. The numerics are tested in C++."""

import threading
import time

import numpy as np
import pytest

import locus


def small_problem(seed=0, d=6):
    rng = np.random.default_rng(seed)
    model = locus.Mlp([3, 5, 2], activation="tanh")
    theta = model.init_parameters(scheme="normal", seed=seed)
    return model, theta, rng.normal(size=(d, 3)), rng.normal(size=(d, 2))


def test_mlp_layout_and_types():
    m = locus.Mlp([3, 5, 2], activation="tanh", bias=[True, False])
    assert m.n_params == 3 * 5 + 5 + 5 * 2
    assert m.layer(1)["bias_offset"] == -1
    assert m.activation == "tanh" and m.widths == [3, 5, 2]
    theta = m.init_parameters(seed=3)
    assert isinstance(theta, np.ndarray) and theta.dtype == np.float64
    np.testing.assert_array_equal(theta, m.init_parameters(seed=3))
    assert "Mlp([3,5,2] tanh" in repr(m)


def test_derivatives_are_numpy_and_consistent():
    model, theta, x, y = small_problem()
    L = locus.loss(model, theta, x, y)
    g = locus.gradient(model, theta, x, y)
    J = locus.jacobian(model, theta, x, y)
    r = locus.residuals(model, theta, x, y)
    H = locus.hessian(model, theta, x, y)
    v = np.linspace(-1, 1, model.n_params)
    assert J.shape == (12, model.n_params) and H.shape == (model.n_params,) * 2
    np.testing.assert_allclose(L, np.sum(r**2), rtol=1e-14)
    np.testing.assert_allclose(2 * J.T @ r, g, atol=1e-12 * max(1, abs(g).max()))
    np.testing.assert_allclose(locus.hvp(model, theta, x, y, v), H @ v, atol=1e-11)
    # One central difference through the Python API agrees with the gradient (h ~ eps^(1/3)).
    h = 6e-6
    e = np.zeros(model.n_params)
    e[4] = h
    fd = (locus.loss(model, theta + e, x, y) - locus.loss(model, theta - e, x, y)) / (2 * h)
    assert abs(fd - g[4]) < 1e-7 * max(1, abs(g).max())
    # float32 and int inputs are converted, Fortran order accepted.
    np.testing.assert_allclose(locus.loss(model, theta, np.asfortranarray(x), y), L)
    assert np.isfinite(locus.loss(model, theta, x.astype(np.float32), y))


def test_errors_are_value_errors():
    model, theta, x, y = small_problem()
    with pytest.raises(ValueError, match="length"):
        locus.loss(model, theta[:-1], x, y)
    with pytest.raises(ValueError, match="rows"):
        locus.loss(model, theta, x, y[:-1])
    bad = x.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        locus.gradient(model, theta, bad, y)
    with pytest.raises(ValueError, match="unknown activation"):
        locus.Mlp([2, 2, 1], activation="swish")
    with pytest.raises(ValueError, match="dimension"):
        locus.loss(model, theta, x[:, :2], y)
    with pytest.raises(ValueError):
        locus.load_dataset("mnist")


def test_files_round_trip(tmp_path):
    model, theta, x, y = small_problem()
    p = str(tmp_path / "m.safetensors")
    locus.save_model(p, model, theta)
    m2, t2 = locus.load_model(p)
    np.testing.assert_array_equal(t2, theta)
    assert m2.widths == model.widths and m2.activation == "tanh"
    locus.write_npy(str(tmp_path / "x.npy"), x)
    np.testing.assert_array_equal(locus.read_npy(str(tmp_path / "x.npy")), x)
    with pytest.raises(ValueError, match="no such file"):
        locus.load_model(str(tmp_path / "missing.safetensors"))
    (tmp_path / "bad.safetensors").write_bytes(b"\x05")
    with pytest.raises(ValueError, match="bad.safetensors"):
        locus.load_model(str(tmp_path / "bad.safetensors"))


def test_datasets():
    d = locus.load_dataset("iris", n_points=20, seed=1, standardize=True)
    assert d["x"].shape == (20, 4) and d["y"].shape == (20, 3)
    t = locus.teacher_student(locus.Mlp([2, 3, 1]), n_points=7, seed=2)
    assert t["x"].shape == (7, 2)


def test_gil_is_released_during_long_calls():
    # A pure-Python counter thread keeps running while hessian() computes in C++.
    model = locus.Mlp([10, 60, 1], activation="softplus")
    theta = model.init_parameters(seed=1)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(400, 10)), rng.normal(size=(400, 1))
    ticks = []
    stop = threading.Event()

    def count():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.001)

    t = threading.Thread(target=count)
    t.start()
    start = len(ticks)
    t0 = time.time()
    locus.hessian(model, theta, x, y)
    elapsed = time.time() - t0
    during = len(ticks) - start
    stop.set()
    t.join()
    # With the GIL held the counter could not advance at all during the call.
    assert elapsed < 0.02 or during > 0
