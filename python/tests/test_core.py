"""Bindings of the core and the file formats: types, round trips, errors, the GIL, and a few
values against independent NumPy references (the numerics themselves are tested in C++)."""

import gc
import threading
import time

import numpy as np
import pytest

import locus


def small_problem(seed=0, d=6, activation="tanh"):
    rng = np.random.default_rng(seed)
    model = locus.Mlp([3, 5, 2], activation=activation)
    theta = model.init_parameters(scheme="normal", seed=seed)
    return model, theta, rng.normal(size=(d, 3)), rng.normal(size=(d, 2))


def numpy_forward(model, theta, x):
    """The MLP's forward pass written from the documented layout (W row-major, then b)."""
    act = {"tanh": np.tanh, "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
           "softplus": lambda z: np.logaddexp(0, z)}[model.activation]
    a = x
    for k in range(model.n_layers):
        s = model.layer(k)
        z = a @ theta[s["weight"]].reshape(s["out"], s["in"]).T
        if s["bias"] is not None:
            z = z + theta[s["bias"]]
        a = z if k == model.n_layers - 1 else act(z)
    return a * model.output_scale


def test_mlp_layout_and_types():
    m = locus.Mlp([3, 5, 2], activation="tanh", bias=[True, False])
    assert m.n_params == 3 * 5 + 5 + 5 * 2
    assert m.layer(1)["bias"] is None and m.layer(1)["bias_offset"] == -1
    assert m.layer(1)["weight"] == slice(20, 30, 1)
    assert m.activation == "tanh" and m.widths == [3, 5, 2] and m.bias == [True, False]
    theta = m.init_parameters(seed=3)
    assert isinstance(theta, np.ndarray) and theta.dtype == np.float64
    np.testing.assert_array_equal(theta, m.init_parameters(seed=3))
    assert not np.array_equal(theta, m.init_parameters(seed=4))
    assert "Mlp([3,5,2] tanh" in repr(m)
    # He init of a layer without bias: the biases of layer 0 are zero, the weights are not.
    h = m.init_parameters(scheme="he", seed=1)
    assert np.all(h[m.layer(0)["bias"]] == 0) and np.all(h[m.layer(0)["weight"]] != 0)
    with pytest.raises(ValueError, match="layer 2"):
        m.layer(2)


@pytest.mark.parametrize("activation,bias,mean_field", [
    ("tanh", None, False), ("sigmoid", [False, True], False), ("softplus", None, True)])
def test_predict_matches_numpy_forward_pass(activation, bias, mean_field):
    m = locus.Mlp([3, 4, 2], activation=activation, bias=bias, mean_field=mean_field)
    theta = m.init_parameters(scheme="normal", seed=2)
    x = np.random.default_rng(1).normal(size=(7, 3))
    # Same arithmetic in another order: agreement to a few ulps of the O(1) outputs.
    np.testing.assert_allclose(m.predict(theta, x), numpy_forward(m, theta, x), rtol=0,
                               atol=1e-13)


def test_derivatives_against_numpy_references():
    model, theta, x, y = small_problem()
    n = model.n_params
    L = locus.loss(model, theta, x, y)
    g = locus.gradient(model, theta, x, y)
    J = locus.jacobian(model, theta, x, y)
    r = locus.residuals(model, theta, x, y)
    H = locus.hessian(model, theta, x, y)
    assert J.shape == (12, n) and H.shape == (n, n) and r.shape == (12,)
    np.testing.assert_allclose(r, (numpy_forward(model, theta, x) - y).ravel(), atol=1e-13)
    np.testing.assert_allclose(L, np.sum(r**2), rtol=1e-14)
    np.testing.assert_allclose(locus.loss(model, theta, x, y, reduction="mean"), L / 6, rtol=1e-14)
    # Central differences of the NumPy forward pass on every coordinate, h = eps^(1/3):
    # truncation h^2 |L'''| / 6 + rounding eps |L| / h, both ~ 1e-10 here; 1e-7 leaves room.
    h = np.finfo(float).eps ** (1 / 3)
    ref_loss = lambda t: np.sum((numpy_forward(model, t, x) - y) ** 2)  # noqa: E731
    E = np.eye(n) * h
    fd = np.array([(ref_loss(theta + e) - ref_loss(theta - e)) / (2 * h) for e in E])
    np.testing.assert_allclose(g, fd, rtol=0, atol=1e-7 * max(1, abs(g).max()))
    # The Hessian against central differences of the exact gradient, and symmetric.
    fdh = np.array([(locus.gradient(model, theta + e, x, y) - locus.gradient(model, theta - e, x, y))
                    / (2 * h) for e in E])
    np.testing.assert_allclose(H, fdh, rtol=0, atol=1e-6 * max(1, abs(H).max()))
    np.testing.assert_array_equal(H, H.T)
    # grad = 2 J^T r, H v = H @ v, Gauss-Newton = 2 J^T J: the same quantities summed differently.
    v = np.linspace(-1, 1, n)
    np.testing.assert_allclose(2 * J.T @ r, g, rtol=0, atol=1e-12 * max(1, abs(g).max()))
    np.testing.assert_allclose(locus.hvp(model, theta, x, y, v), H @ v, rtol=0, atol=1e-11)
    np.testing.assert_allclose(locus.gauss_newton(model, theta, x, y), 2 * J.T @ J, atol=1e-12)


def test_cross_entropy_against_numpy():
    model, theta, x, _ = small_problem()
    labels = np.array([0, 1, 1, 0, 1, 0])
    y = np.eye(2)[labels]
    z = numpy_forward(model, theta, x)
    ref = -np.sum(z[np.arange(6), labels] - np.log(np.exp(z).sum(axis=1)))
    np.testing.assert_allclose(locus.loss(model, theta, x, y, loss="cross_entropy"), ref,
                               rtol=1e-13)


def test_array_types_are_converted():
    model, theta, x, y = small_problem()
    L = locus.loss(model, theta, x, y)
    # Fortran order, non-contiguous views and lists give the same value bit for bit.
    assert locus.loss(model, theta, np.asfortranarray(x), y) == L
    big = np.zeros((6, 6))
    big[:, ::2] = x
    assert locus.loss(model, theta, big[:, ::2], y) == L
    assert locus.loss(model, list(theta), x.tolist(), y.tolist()) == L
    # float32 and integer arrays are converted to float64.
    x32 = x.astype(np.float32)
    assert locus.loss(model, theta, x32, y) == locus.loss(model, theta, x32.astype(np.float64), y)
    xi = np.arange(18).reshape(6, 3) % 4
    assert locus.loss(model, theta, xi, y) == locus.loss(model, theta, xi.astype(float), y)
    # A 1-D y is one output column.
    m1 = locus.Mlp([3, 2, 1])
    t1 = m1.init_parameters(seed=0)
    assert locus.loss(m1, t1, x, y[:, 0]) == locus.loss(m1, t1, x, y[:, :1])
    out = locus.gradient(model, theta, x, y)
    assert out.dtype == np.float64 and out.shape == (model.n_params,)


def test_errors_are_value_errors():
    model, theta, x, y = small_problem()
    with pytest.raises(ValueError, match="length"):
        locus.loss(model, theta[:-1], x, y)
    with pytest.raises(ValueError, match="rows"):
        locus.loss(model, theta, x, y[:-1])
    for bad_value in (np.nan, np.inf):
        bad = x.copy()
        bad[1, 2] = bad_value
        with pytest.raises(ValueError, match="non-finite"):
            locus.gradient(model, theta, bad, y)
    bad_theta = theta.copy()
    bad_theta[3] = np.nan
    with pytest.raises(ValueError, match="params"):
        locus.loss(model, bad_theta, x, y)
    with pytest.raises(ValueError, match="unknown activation"):
        locus.Mlp([2, 2, 1], activation="swish")
    with pytest.raises(ValueError):
        locus.Mlp([2])
    with pytest.raises(ValueError, match="bias"):
        locus.Mlp([2, 3, 1], bias=[True])
    with pytest.raises(ValueError, match="dimension|columns|width"):
        locus.loss(model, theta, x[:, :2], y)
    with pytest.raises(ValueError, match="v has length"):
        locus.hvp(model, theta, x, y, np.ones(3))
    with pytest.raises(ValueError, match="1-D or 2-D"):
        locus.loss(model, theta, x[None], y)
    with pytest.raises(ValueError, match="params must be a 1-D"):
        locus.loss(model, theta[None, :], x, y)
    with pytest.raises(ValueError, match="real numeric"):
        locus.loss(model, theta, x.astype(complex), y)
    with pytest.raises(ValueError, match="real numeric"):
        locus.loss(model, theta, np.array([["a"] * 3] * 6), y)
    with pytest.raises(ValueError, match="loss"):
        locus.loss(model, theta, x, y, loss="hinge")
    with pytest.raises(ValueError, match="reduction|mean"):
        locus.loss(model, theta, x, y, reduction="max")
    with pytest.raises(ValueError, match="mnist"):
        locus.load_dataset("mnist")
    with pytest.raises(ValueError, match="threads"):
        locus.set_num_threads(0)


def test_datasets():
    d = locus.load_dataset("iris", n_points=20, seed=1, standardize=True)
    assert isinstance(d, locus.Dataset) and d.name == "iris"
    assert d.x.shape == (20, 4) and d.y.shape == (20, 3) and d.n_points == 20
    x, y = d
    assert x is not None and np.array_equal(x, d["x"]) and np.array_equal(y, d.y)
    np.testing.assert_allclose(x.mean(axis=0), 0, atol=1e-12)  # standardised
    assert not d.x.flags.writeable
    with pytest.raises(ValueError):
        d.x[0, 0] = 1.0
    assert d.distinct_inputs()
    assert sorted(locus.builtin_datasets()) == ["breast_cancer", "digits", "iris", "wine"]
    s = locus.load_dataset("wine", one_hot=False)
    assert s.y.shape == (178, 1) and set(np.unique(s.y)) == {0.0, 1.0, 2.0}
    # Arrays keep the parent alive after it goes out of scope.
    x_only = locus.load_dataset("digits").x
    assert x_only.shape == (1797, 64) and x_only.max() == 16
    own = locus.Dataset([[0, 1], [0, 1]], [1, 2], name="mine")
    assert not own.distinct_inputs() and own.y.shape == (2, 1) and "mine" in repr(own)
    with pytest.raises(ValueError, match="non-finite"):
        locus.Dataset([[np.nan]], [1.0])
    g = locus.gaussian_data(5, 3, 2, seed=4)
    assert g.x.shape == (5, 3) and g.y.shape == (5, 2)
    np.testing.assert_array_equal(g.x, locus.gaussian_data(5, 3, 2, seed=4).x)
    # Teacher-student: y is the teacher's prediction on x.
    t = locus.teacher_student(locus.Mlp([2, 3, 1]), n_points=7, seed=2, teacher_seed=5)
    assert t["x"].shape == (7, 2) and t.teacher.widths == [2, 3, 1]
    np.testing.assert_array_equal(t.teacher.predict(t.teacher_params, t.data.x), t.data.y)
    # The teacher's parameters follow teacher_init (default glorot, the library's InitOptions).
    for scheme in ("glorot", "normal"):
        ts = locus.teacher_student(locus.Mlp([2, 3, 1]), n_points=7, seed=2, teacher_seed=5,
                                   teacher_init=scheme)
        np.testing.assert_array_equal(
            ts.teacher_params, locus.Mlp([2, 3, 1]).init_parameters(scheme=scheme, seed=5))
    np.testing.assert_array_equal(t.teacher_params, locus.Mlp([2, 3, 1]).init_parameters(seed=5))
    with pytest.raises(ValueError, match="init"):
        locus.teacher_student(locus.Mlp([2, 3, 1]), teacher_init="uniform")
    st = locus.simsek_teacher()
    assert st.data.x.shape == (41 * 41, 2) and st.teacher.widths == [2, 4, 1]
    # The data are the teacher's outputs: residuals are round-off of O(1) values (a few ulps),
    # so L <= d (8 eps)^2.
    eps = np.finfo(float).eps
    assert locus.loss(st.teacher, st.teacher_params, *st.data) <= 1681 * (8 * eps) ** 2


def test_views_keep_their_owner_alive():
    # Arrays and sub-objects handed out by Dataset / TeacherStudent stay valid after the owner
    # is gone (pybind11 keep-alive), through every access path.
    t = locus.teacher_student(locus.Mlp([3, 2, 1]), n_points=8, seed=1)
    expected = np.array(t.data.y)
    views = [t["x"], t["y"], t.data.x, t["data"]["y"], t.teacher_params, *t.data]
    del t
    gc.collect()
    np.testing.assert_array_equal(views[1], expected)
    np.testing.assert_array_equal(views[3], expected)
    assert views[0].shape == (8, 3) and views[4].shape == (11,)
    with pytest.raises(KeyError):
        locus.simsek_teacher()["z"]


def test_threads_do_not_change_results():
    model, theta, x, y = small_problem(d=300)
    before = locus.num_threads()
    try:
        locus.set_num_threads(1)
        h1 = locus.hessian(model, theta, x, y)
        locus.set_num_threads(2)
        h2 = locus.hessian(model, theta, x, y)
    finally:
        locus.set_num_threads(before)
    np.testing.assert_array_equal(h1, h2)


def test_files_round_trip(tmp_path):
    model, theta, x, y = small_problem()
    p = str(tmp_path / "m.safetensors")
    locus.save_model(p, model, theta)
    m2, t2 = locus.load_model(p)
    np.testing.assert_array_equal(t2, theta)
    assert m2.widths == model.widths and m2.activation == "tanh"
    # f32 storage rounds each parameter to float32.
    locus.save_model(str(tmp_path / "m32.safetensors"), model, theta, dtype="f32")
    _, t32 = locus.load_model(str(tmp_path / "m32.safetensors"))
    np.testing.assert_array_equal(t32, theta.astype(np.float32).astype(np.float64))
    # A flat .npy needs the widths.
    locus.save_model(str(tmp_path / "m.npy"), model, theta)
    m3, t3 = locus.load_model(str(tmp_path / "m.npy"), widths=[3, 5, 2], activation="tanh")
    np.testing.assert_array_equal(t3, theta)
    with pytest.raises(ValueError, match="m.npy"):
        locus.load_model(str(tmp_path / "m.npy"), widths=[3, 4, 2], activation="tanh")
    # Tensors and metadata, in order.
    tensors, meta = locus.read_safetensors(p)
    assert list(tensors) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    np.testing.assert_array_equal(tensors["0.weight"].ravel(), theta[:15])
    assert meta["activation"] == "tanh"
    q = str(tmp_path / "t.safetensors")
    locus.write_safetensors(q, {"a": np.arange(6).reshape(2, 3), "b": [1.5]}, {"k": "v"})
    t_back, m_back = locus.read_safetensors(q)
    assert t_back["a"].shape == (2, 3) and t_back["b"].tolist() == [1.5] and m_back == {"k": "v"}
    # npy: 1-D and 2-D, any input order, back as float64 in the same shape.
    locus.write_npy(str(tmp_path / "x.npy"), np.asfortranarray(x))
    np.testing.assert_array_equal(locus.read_npy(str(tmp_path / "x.npy")), x)
    locus.write_npy(str(tmp_path / "v.npy"), np.arange(4, dtype=np.int32))
    assert locus.read_npy(str(tmp_path / "v.npy")).tolist() == [0, 1, 2, 3]
    np.save(tmp_path / "np32.npy", x.astype(np.float32))  # written by NumPy itself
    np.testing.assert_array_equal(locus.read_npy(str(tmp_path / "np32.npy")),
                                  x.astype(np.float32))
    # CSV.
    locus.write_csv(str(tmp_path / "x.csv"), x, ["a", "b", "c"])
    np.testing.assert_array_equal(locus.read_csv(str(tmp_path / "x.csv"), skip_rows=1), x)
    # Failures name the file; nothing is left half-written.
    with pytest.raises(ValueError, match="no such file"):
        locus.load_model(str(tmp_path / "missing.safetensors"))
    (tmp_path / "bad.safetensors").write_bytes(b"\x05")
    with pytest.raises(ValueError, match="bad.safetensors"):
        locus.load_model(str(tmp_path / "bad.safetensors"))
    raw = (tmp_path / "x.npy").read_bytes()
    (tmp_path / "trunc.npy").write_bytes(raw[:-5])
    with pytest.raises(ValueError, match="trunc.npy"):
        locus.read_npy(str(tmp_path / "trunc.npy"))
    with pytest.raises(ValueError, match="nodir"):
        locus.write_npy(str(tmp_path / "nodir" / "x.npy"), x)
    with pytest.raises(ValueError, match="3-D"):
        locus.write_npy(str(tmp_path / "t.npy"), np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="dtype"):
        locus.save_model(str(tmp_path / "m16.safetensors"), model, theta, dtype="f16")
    assert not [f for f in tmp_path.iterdir() if ".tmp." in f.name or f.name == "t.npy"]


def hessian_while_counting(model, theta, x, y):
    """Runs hessian() in a worker thread while this thread keeps executing Python; returns the
    call's duration and the longest pause this thread saw."""
    done = {}

    def work():
        t0 = time.perf_counter()
        locus.hessian(model, theta, x, y)
        done["seconds"] = time.perf_counter() - t0

    worker = threading.Thread(target=work)
    worker.start()
    last, max_gap = time.perf_counter(), 0.0
    while worker.is_alive():
        now = time.perf_counter()
        max_gap, last = max(max_gap, now - last), now
    worker.join()
    return done["seconds"], max_gap


def test_gil_is_released_during_long_calls():
    # If hessian() held the GIL, this thread would stall for the whole call; released, it only
    # waits for the interpreter's switch interval (5 ms) now and then.
    model = locus.Mlp([10, 40, 1], activation="softplus")
    theta = model.init_parameters(seed=1)
    rng = np.random.default_rng(0)
    before = locus.num_threads()
    locus.set_num_threads(1)  # leave a core to this thread
    try:
        # Until the call is long enough that the scheduler's noise on a busy machine (tens of
        # ms without the CPU) is small against it: a held GIL stalls the thread for ~all of it.
        for d in (2000, 8000, 32000, 128000):
            x, y = rng.normal(size=(d, 10)), rng.normal(size=(d, 1))
            seconds, max_gap = hessian_while_counting(model, theta, x, y)
            if seconds > 0.4:
                break
    finally:
        locus.set_num_threads(before)
    assert seconds > 0.4
    assert max_gap < seconds / 2, (max_gap, seconds)


def test_objective_holds_its_data_and_matches_the_functions():
    """locus.Objective converts x and y once; each method is the module function's value, bit for
    bit (the same C++ code on the same data), and the HessianOperator's H v is hvp's."""
    model, theta, x, y = small_problem(activation="softplus")
    obj = locus.Objective(model, x, y)
    assert obj.n_params == model.n_params and obj.n_points == 6
    assert obj.loss_kind == "squared" and obj.reduction == "sum"
    v = np.linspace(-1, 1, model.n_params)
    assert obj.loss(theta) == locus.loss(model, theta, x, y)
    np.testing.assert_array_equal(obj.gradient(theta), locus.gradient(model, theta, x, y))
    L, g = obj.loss_gradient(theta)
    assert L == obj.loss(theta)
    np.testing.assert_array_equal(g, obj.gradient(theta))
    np.testing.assert_array_equal(obj.residuals(theta), locus.residuals(model, theta, x, y))
    np.testing.assert_array_equal(obj.jacobian(theta), locus.jacobian(model, theta, x, y))
    np.testing.assert_array_equal(obj.hessian(theta), locus.hessian(model, theta, x, y))
    np.testing.assert_array_equal(obj.gauss_newton(theta), locus.gauss_newton(model, theta, x, y))
    # J J^T, J v and J^T u without J: the explicit Jacobian's products to round-off. Each entry
    # is a sum of at most n products in another order, so the two differ by at most
    # 2 n eps |a| |b| (Cauchy-Schwarz) for the rows a, b of the product; 4 n eps leaves a margin.
    J = obj.jacobian(theta)
    u = np.linspace(-1, 1, J.shape[0])
    eps, n = np.finfo(float).eps, model.n_params
    row = np.linalg.norm(J, axis=1).max()
    np.testing.assert_allclose(obj.residual_gram(theta), J @ J.T, rtol=0, atol=4 * n * eps * row**2)
    np.testing.assert_allclose(obj.jacobian_product(theta, v), J @ v, rtol=0,
                               atol=4 * n * eps * row * np.linalg.norm(v))
    np.testing.assert_allclose(obj.jacobian_transpose_product(theta, u), J.T @ u, rtol=0,
                               atol=4 * J.shape[0] * eps * np.linalg.norm(J, axis=0).max()
                               * np.linalg.norm(u))
    hv = obj.hvp(theta, v)
    np.testing.assert_array_equal(hv, locus.hvp(model, theta, x, y, v))
    op = obj.hessian_operator(theta)
    assert op.shape == (model.n_params, model.n_params) and op.n_params == model.n_params
    assert op.loss == L
    np.testing.assert_array_equal(op.gradient, g)
    np.testing.assert_array_equal(op.apply(v), hv)  # same passes, same chunk order
    np.testing.assert_array_equal(op @ v, hv)
    # The data were copied in: changing the caller's arrays changes nothing.
    x[:] = 0.0
    assert obj.loss(theta) == L
    # Mean reduction and cross-entropy pass through.
    labels = np.eye(2)[[0, 1, 1, 0, 1, 0]]
    ce = locus.Objective(model, x + 1.0, labels, loss="cross_entropy", reduction="mean")
    assert ce.loss(theta) == locus.loss(model, theta, x + 1.0, labels, "cross_entropy", "mean")


def test_objective_rejects_bad_input():
    model, theta, x, y = small_problem()
    obj = locus.Objective(model, x, y)
    with pytest.raises(ValueError, match="params"):
        obj.loss(theta[:-1])
    with pytest.raises(ValueError, match="params"):
        obj.gradient(np.full_like(theta, np.nan))
    with pytest.raises(ValueError, match="v of the Hessian-vector product has length 3"):
        obj.hvp(theta, np.ones(3))
    with pytest.raises(ValueError, match="v of J v has length 3"):
        obj.jacobian_product(theta, np.ones(3))
    with pytest.raises(ValueError, match=r"u of J\^T u has length 3"):
        obj.jacobian_transpose_product(theta, np.ones(3))
    with pytest.raises(ValueError, match="v has length"):
        obj.hessian_operator(theta).apply(np.ones(3))
    with pytest.raises(ValueError, match="dimension|columns|width"):
        locus.Objective(model, x[:, :2], y)
    with pytest.raises(ValueError, match="non-finite|NaN|nan"):
        locus.Objective(model, np.where(x > 0, np.nan, x), y)
    with pytest.raises(ValueError, match="unknown loss"):
        locus.Objective(model, x, y, loss="hinge")
    with pytest.raises(ValueError, match="squared"):
        locus.Objective(model, x, np.abs(y), loss="cross_entropy").residuals(theta)
