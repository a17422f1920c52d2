"""Bindings of the constructions layer: types, defaults, errors, GIL. Numerics are tested in C++."""

import threading
import time

import numpy as np
import pytest

import locus


def random_data(d=8, p=3, l=1, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(d, p)), rng.normal(size=(d, l))


def test_construct_cooper_returns_numpy_params_that_fit():
    x, y = random_data(d=10, p=3, l=2)
    c = locus.construct_cooper(x, y)
    assert c.ok and c.status == "ok"
    assert isinstance(c.params, np.ndarray) and c.params.dtype == np.float64
    assert c.widths == [3, 10, 2] and c.activation == "smoolu"
    assert c.n_params == c.model.n_params == c.params.size
    # The fit through the core binding's forward pass.
    err = np.abs(c.model.predict(c.params, x) - y).max()
    assert err <= 1e-9 * np.abs(y).max()
    assert c.max_abs_residual <= 1e-9 * np.abs(y).max()
    assert c.rank_A == 10 and np.isfinite(c.cond_A)
    assert sorted(c.order) == list(range(10))
    assert repr(c).startswith("cooper: ok: ")  # the library summary
    assert c.to_json()["status"] == "ok" and c.to_json()["rank_A"] == 10


def test_construct_cooper_options_round_trip():
    x, y = random_data(d=6, p=2)
    c = locus.construct_cooper(x, y, width=9, depth=3, activation="relu", seed=4)
    assert c.widths == [2, 9, 9, 9, 1] and c.activation == "relu"
    lit = locus.construct_cooper(x, y, depth=2, variant="literal")
    assert not lit.ok and lit.status == "residual_too_large" and lit.rank_A == 1
    assert lit.cond_A == np.inf
    hw = locus.construct_cooper(x, y, hidden_widths=[1, 6])
    assert hw.widths == [2, 1, 6, 1]
    # Same seed, same network.
    np.testing.assert_array_equal(c.params,
                                  locus.construct_cooper(x, y, width=9, depth=3,
                                                         activation="relu", seed=4).params)


def test_construct_cooper_errors_are_value_errors():
    x, y = random_data(d=6, p=2)
    x[4] = x[1]
    with pytest.raises(ValueError, match="rows 1 and 4"):
        locus.construct_cooper(x, y)
    x, y = random_data(d=6, p=2)
    with pytest.raises(ValueError, match="softplus"):
        locus.construct_cooper(x, y, activation="softplus")
    with pytest.raises(ValueError, match="width"):
        locus.construct_cooper(x, y, width=3)
    with pytest.raises(ValueError, match="variant"):
        locus.construct_cooper(x, y, variant="printed")


def test_walk_line_and_dimension():
    x, y = random_data(d=6, p=2, seed=1)
    c = locus.construct_cooper(x, y)
    w = locus.walk(c.model, c.params, x, y, steps=20, seed=2, record_path=True)
    assert w.status == "completed", w.message
    assert w.arc_length >= 1.0 and w.loss_max <= 1e-20
    assert w.rank_min == w.rank_max == 6
    t = w.trace
    assert set(t) >= {"arc_length", "loss", "rank_jacobian", "corrector_iterations"}
    assert t["loss"].shape == (21,) and t["rank_jacobian"].dtype.kind == "i"
    assert w.path.shape == (c.n_params, 21)
    np.testing.assert_array_equal(w.path[:, -1], w.params_final)
    # One progress event per accepted step, with its loss; the walk itself is unchanged.
    events = []
    w2 = locus.walk(c.model, c.params, x, y, steps=20, seed=2, callback=events.append)
    assert [e["done"] for e in events] == list(range(21)) and events[-1]["total"] == 20
    np.testing.assert_array_equal([e["loss"] for e in events], t["loss"])
    np.testing.assert_array_equal(w2.params_final, w.params_final)

    u = locus.random_unit_direction(c.n_params, 3)
    assert u.shape == (c.n_params,) and abs(np.linalg.norm(u) - 1) < 1e-12
    line = locus.loss_along_line(c.model, c.params, x, y, u, length=w.arc_length, n_points=11)
    assert line["t"].shape == (11,) and line["loss"][-1] > 1e10 * w.loss_max

    e = locus.manifold_dimension_by_projection(c.model, c.params, x, y, seed=1)
    assert e.agrees and e.dimension == c.n_params - 6
    assert e.n_samples == 2 * c.n_params
    assert e.jacobian["rank"] == 6
    assert e.singular_values.ndim == 1

    tangent = locus.random_tangent_direction(c.model, c.params, x, y, 5)
    J = locus.jacobian(c.model, c.params, x, y)
    assert np.abs(J @ tangent).max() <= 1e-12 * np.abs(J).max() * c.n_params
    r = locus.residual_jacobian_rank(c.model, c.params, x, y)
    assert r["rank"] == 6 and r["cols"] == c.n_params

    p = locus.project_to_manifold(c.model, c.params + 1e-3 * u, x, y)
    assert p["status"] in ("converged", "stalled") and p["loss_final"] <= 1e-24


def test_walk_errors_are_value_errors():
    x, y = random_data(d=6, p=2, seed=1)
    c = locus.construct_cooper(x, y)
    with pytest.raises(ValueError, match="step_size"):
        locus.walk(c.model, c.params, x, y, step_size=0.0)
    with pytest.raises(ValueError):
        locus.walk(c.model, c.params[:-1], x, y)
    with pytest.raises(ValueError, match="direction"):
        locus.loss_along_line(c.model, c.params, x, y, np.zeros(c.n_params))


def test_construct_releases_the_gil():
    x, y = random_data(d=400, p=2, seed=3)
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    th = threading.Thread(target=ticker)
    th.start()
    try:
        start = time.perf_counter()
        for _ in range(3):
            locus.construct_cooper(x, y, depth=4)
        elapsed = time.perf_counter() - start
    finally:
        stop.set()
        th.join()
    # With the GIL held the ticker could not run during the calls.
    during = [t for t in ticks if start <= t <= start + elapsed]
    assert elapsed < 0.01 or len(during) >= 2


def run(locus_bin, *args):
    import subprocess
    p = subprocess.run([locus_bin, *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def test_cli_construct_and_walk(locus_bin, tmp_path):
    import json
    x, y = random_data(d=8, p=3, l=2, seed=5)
    locus.write_npy(str(tmp_path / "x.npy"), x)
    locus.write_npy(str(tmp_path / "y.npy"), y)
    model = str(tmp_path / "cooper.safetensors")
    rc, out, err = run(locus_bin, "construct", "cooper", "--x", str(tmp_path / "x.npy"), "--y",
                       str(tmp_path / "y.npy"), "--depth", "2", "--save", model, "--json")
    assert rc == 0, err
    j = json.loads(out)
    assert list(j)[0] == "context" and j["status"] == "ok"
    assert j["architecture"]["widths"] == [3, 8, 8, 2] and j["architecture"]["activation"] == "smoolu"
    assert j["n_params"] == 3 * 8 + 8 + 8 * 8 + 8 + 8 * 2 + 2
    assert j["max_abs_residual"] <= 1e-9 * np.abs(y).max() and j["cond_A"] >= 1

    csv = tmp_path / "walk.csv"
    rc, out, err = run(locus_bin, "walk", "--params", model, "--x", str(tmp_path / "x.npy"),
                       "--y", str(tmp_path / "y.npy"), "--steps", "15", "--seed", "1",
                       "--dimension", "--out", str(csv), "--json")
    assert rc == 0, err
    w = json.loads(out)
    assert w["status"] == "completed" and w["loss_max"] <= 1e-20
    assert w["rank_jacobian_min"] == 16 and w["dimension"]["agrees"]
    assert w["line"]["loss"][-1] > w["loss_max"]
    assert csv.read_text().splitlines()[0].startswith("step,arc_length,")


def test_cli_construct_names_duplicate_rows(locus_bin, tmp_path):
    x, y = random_data(d=6, p=2)
    x[5] = x[2]
    locus.write_npy(str(tmp_path / "x.npy"), x)
    locus.write_npy(str(tmp_path / "y.npy"), y)
    out = tmp_path / "m.npy"
    rc, _, err = run(locus_bin, "construct", "cooper", "--x", str(tmp_path / "x.npy"), "--y",
                     str(tmp_path / "y.npy"), "--save", str(out))
    assert rc == 2 and "rows 2 and 5" in err
    assert not out.exists()
    rc, _, err = run(locus_bin, "construct", "cooper", "--dataset", "iris", "--save", str(out))
    assert rc == 2 and "rows 101 and 142" in err


def test_cli_literal_variant_fails_with_exit_1(locus_bin, tmp_path):
    out = tmp_path / "lit.npy"
    rc, _, err = run(locus_bin, "construct", "cooper", "--dataset", "wine", "--n-points", "12",
                     "--depth", "3", "--variant", "literal", "--save", str(out))
    assert rc == 1 and "residual_too_large" in err
    assert not out.exists()  # a failed command writes nothing (issue 16); --json reports it
