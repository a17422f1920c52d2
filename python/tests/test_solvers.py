"""Bindings of the solvers (their numerics are tested in C++)."""

import threading
import time

import numpy as np
import pytest

import locus


def _teacher_data(n_points=30, seed=1):
    teacher = locus.Mlp([3, 2, 1], activation="tanh")
    t = locus.teacher_student(teacher, n_points=n_points, seed=seed)
    return t["x"], t["y"]


def test_train_reaches_zero_loss_and_returns_numpy():
    x, y = _teacher_data(8)
    student = locus.Mlp([3, 10, 1], activation="tanh")
    r = locus.train(student, x, y, method="lm", seed=2)
    assert r.converged(), repr(r)
    assert r.loss_final <= 1e-24
    assert isinstance(r.params, np.ndarray) and r.params.dtype == np.float64
    assert r.params.shape == (student.n_params,)
    np.testing.assert_allclose(locus.loss(student, r.params, x, y), r.loss_final, atol=1e-24)
    assert "|g|" in repr(r) and r.status in repr(r)
    assert r.counts["jacobian"] > 0 and r.stop["gradient_tolerance"] > 0


def test_solver_options_round_trip_into_train():
    defaults = locus.solver_options("lm")
    assert defaults["max_iterations"] > 0 and isinstance(defaults["record_trace"], bool)
    x, y = _teacher_data()
    m = locus.Mlp([3, 6, 1], activation="tanh")
    # Every default can be passed back unchanged.
    r = locus.train(m, x, y, method="lm", **defaults)
    assert r.stop["gradient_tolerance"] == defaults["gradient_tolerance"]
    flow = locus.solver_options("flow")
    assert flow["linear_solver"] == "automatic"
    assert set(locus.solver_options("newton")) >= {"model", "gradient_tolerance"}


def test_trace_and_trajectory_are_numpy_columns():
    x, y = _teacher_data()
    m = locus.Mlp([3, 6, 1], activation="tanh")
    r = locus.train(m, x, y, method="gd", max_iterations=3, record_trace=True)
    assert r.status == "max_iterations" and len(r.trace["loss"]) == 4
    assert isinstance(r.trace["gradient_max_norm"], np.ndarray)
    f = locus.train(m, x, y, method="flow", polish="lm", t_final=10.0, gradient_tolerance=0.0,
                    trajectory_points_per_decade=2, polish_options={"max_iterations": 50})
    assert [s["method"] for s in f.stages] == ["flow", "lm"]
    traj = f.trajectory
    assert traj["params"].shape == (len(traj["time"]), m.n_params)
    assert traj["time"][0] == 0.0 and np.all(np.diff(traj["time"]) > 0)


def test_critical_mode_reports_inertia():
    x, y = _teacher_data()
    m = locus.Mlp([3, 2, 1], activation="tanh")
    r = locus.train(m, x, y, method="critical", max_iterations=50)
    assert set(r.inertia) >= {"negative", "zero", "positive", "tolerance"}
    assert r.inertia["negative"] + r.inertia["zero"] + r.inertia["positive"] == m.n_params


def test_errors_become_value_errors():
    x, y = _teacher_data()
    m = locus.Mlp([3, 4, 1])
    with pytest.raises(ValueError, match="nonsense"):
        locus.train(m, x, y, method="lm", nonsense=1)
    with pytest.raises(ValueError, match="newtonian"):
        locus.train(m, x, y, method="newtonian")
    with pytest.raises(ValueError, match="learning_rate"):
        locus.train(m, x, y, method="gd", learning_rate=-1.0)
    with pytest.raises(ValueError, match="max_iterations"):
        locus.train(m, x, y, method="lm", max_iterations="many")
    with pytest.raises(ValueError):
        locus.train(m, x, y, method="lm", init=np.zeros(3))
    with pytest.raises(ValueError, match="polish"):
        locus.train(m, x, y, method="flow", polish="sgd")
    with pytest.raises(ValueError, match="squared"):
        locus.train(m, x, np.abs(y), method="lm", loss="cross_entropy")


def test_train_releases_the_gil():
    # A Python thread keeps counting while train runs in another thread: with the GIL held by
    # train, the counter could not advance until train returned.
    x, y = _teacher_data(200)
    m = locus.Mlp([3, 40, 1], activation="tanh")
    result = {}

    def run():
        result["r"] = locus.train(m, x, y, method="gd", max_iterations=3000, learning_rate=1e-4)

    counter = 0
    worker = threading.Thread(target=run)
    worker.start()
    while worker.is_alive():
        counter += 1
        time.sleep(0.001)
    worker.join()
    assert result["r"].iterations == 3000
    assert counter > 5


def _locus_bin():
    import os
    path = os.environ.get("LOCUS_BIN")
    if not path or not os.path.exists(path):
        pytest.skip("LOCUS_BIN not set")
    return path


def test_cli_train_saves_and_reports_json(tmp_path):
    import json
    import subprocess
    exe = _locus_bin()
    save, trace = tmp_path / "m.npy", tmp_path / "trace.csv"
    out = subprocess.run([exe, "train", "--arch", "3,8,1", "--dataset", "teacher",
                          "--teacher-arch", "3,2,1", "--n-points", "30", "--method", "flow",
                          "--polish", "lm", "--save", str(save), "--trace", str(trace),
                          "--max-iterations", "3000", "--json"],
                         check=True, capture_output=True, text=True).stdout
    j = json.loads(out)
    assert list(j)[0] == "context"
    assert j["method"] == "flow+lm" and j["converged"] and j["loss_final"] < 1e-20
    assert [s["method"] for s in j["stages"]] == ["flow", "lm"]
    assert j["context"]["options"]["method_options"]["max_iterations"] == 3000
    assert np.load(save).shape == (3 * 8 + 8 + 8 + 1,)
    assert trace.read_text().startswith("iteration,seconds,loss,gradient_max_norm")


def test_cli_train_lists_options_and_rejects_bad_ones(tmp_path):
    import subprocess
    exe = _locus_bin()
    listing = subprocess.run([exe, "train", "--method", "newton", "--list-options"],
                             check=True, capture_output=True, text=True).stdout
    assert "hybrid_decrease" in listing and "1e-13" in listing
    bad = subprocess.run([exe, "train", "--arch", "3,8,1", "--dataset", "teacher",
                          "--teacher-arch", "3,2,1", "--save", str(tmp_path / "m.npy"),
                          "--opt", "warp=9"], capture_output=True, text=True)
    assert bad.returncode == 2 and "warp" in bad.stderr


def test_train_callback_progress_and_stop(capsys):
    x, y = _teacher_data(8)
    student = locus.Mlp([3, 10, 1], activation="tanh")
    events = []
    r = locus.train(student, x, y, method="lm", seed=2, callback=events.append)
    assert [e["done"] for e in events] == list(range(len(events)))  # iteration 0, 1, 2, ...
    assert all(e["stage"] == "lm it" and e["total"] == r.stop["max_iterations"] for e in events)
    assert events[-1]["loss"] == r.loss_final  # the last event is the final iterate
    same = locus.train(student, x, y, method="lm", seed=2)
    np.testing.assert_array_equal(same.params, r.params)  # observing does not change the result
    # Returning False stops the solver.
    stopped = locus.train(student, x, y, method="lm", seed=2,
                          callback=lambda e: e["done"] < 2)
    assert stopped.status == "stopped_by_callback" and stopped.iterations == 2
    # A callback's exception reaches the caller.
    def boom(e):
        raise KeyError("from the callback")
    with pytest.raises(KeyError, match="from the callback"):
        locus.train(student, x, y, method="lm", seed=2, callback=boom)
    locus.train(student, x, y, method="gd", seed=2, max_iterations=50, progress=True)
    assert "locus train: gd it 0/50  loss " in capsys.readouterr().err
