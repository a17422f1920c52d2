"""Bindings of locus.dropout: results are dicts of numbers and float64 arrays, options are
keywords checked by the library's tables, bad input raises ValueError naming it. The numerics
are tested in C++ (tests/dropout/)."""

import numpy as np
import pytest

import locus
import locus.dropout as ld


def net(width=8, mean_field=True):
    return locus.Mlp([3, width, 1], activation="tanh", bias=[False, False],
                     mean_field=mean_field)


def data(seed=0, d=40):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(d, 3)), rng.normal(size=(d, 1))


def test_train_online_and_epochs():
    model = net(16)
    teacher = locus.Mlp([3, 2, 1], activation="tanh", bias=[False, False])
    t = ld.mean_field_init(teacher, 5)
    r = ld.train_online(model, ld.mean_field_init(model, 1), teacher, t, steps=50, seed=2)
    assert r["status"] == "completed" and r["samples"] == 50 * ld.sgd_defaults()["batch_size"]
    assert r["params"].dtype == np.float64 and r["params"].shape == (model.n_params,)
    x, y = data()
    e = ld.train_epochs(model, ld.mean_field_init(model, 1), x, y, steps=20, batch_size=4)
    assert e["status"] == "completed" and e["samples"] == 80
    with pytest.raises(ValueError, match="step"):
        ld.train_epochs(model, e["params"], x, y, step=-1.0)
    with pytest.raises(ValueError, match="mean-field"):
        ld.train_epochs(net(16, mean_field=False), e["params"], x, y)


def test_dropout_parameters_and_error():
    model = net(8)
    theta = ld.mean_field_init(model, 3)
    kept = ld.half_keep_set(8, "second-half")
    assert kept == [4, 5, 6, 7]
    sub = ld.dropout_parameters(model, theta, kept)
    out = np.arange(3 * 8, 4 * 8)  # the output weights a follow W_1 (no biases)
    np.testing.assert_array_equal(sub[out[:4]], 0.0)
    np.testing.assert_array_equal(sub[out[4:]], 2 * theta[out[4:]])
    x, y = data()
    e = ld.dropout_error(model, theta, x, y, kept=2, samples=4, seed=1)
    assert e["kept"] == 2 and e["gaps"].shape == (4,) and e["gap_mean"] >= 0
    with pytest.raises(ValueError, match="kept"):
        ld.dropout_error(model, theta, x, y, kept=9)
    with pytest.raises(ValueError, match="odd"):
        ld.half_keep_set(7)


def test_dropout_path():
    model = net(6)
    a, b = ld.mean_field_init(model, 1), ld.mean_field_init(model, 2)
    x, y = data(1)
    p = ld.dropout_path(model, a, b, x, y, keep="random", seed=4, check_points=9)
    assert p["vertices"].shape == (8, model.n_params)
    np.testing.assert_array_equal(p["vertices"][0], a)
    np.testing.assert_array_equal(p["vertices"][-1], b)
    assert p["segments_hold"] and p["bound_holds"] and len(p["segments"]) == 7
    assert isinstance(p["path"], locus.paths.Path)
    assert p["line"].barriers["above_larger_end"] >= 0
    with pytest.raises(ValueError, match="out of range"):
        ld.dropout_path(model, a, b, x, y, keep="0,1,7")
    with pytest.raises(ValueError, match="params_b|params-end"):
        ld.dropout_path(model, a, b[:-1], x, y)
    with pytest.raises(ValueError, match="odd"):
        m5 = net(5)
        ld.dropout_path(m5, ld.mean_field_init(m5, 1), ld.mean_field_init(m5, 2), x, y)
    with pytest.raises(ValueError, match="bogus"):
        ld.dropout_path(model, a, b, x, y, bogus=1)


def test_three_layers():
    model = locus.Mlp([3, 6, 4, 1], activation="tanh", mean_field=True)
    x, y = data(3)
    a = ld.train_epochs(model, ld.mean_field_init(model, 1), x, y, steps=30, batch_size=4)
    b = ld.train_epochs(model, ld.mean_field_init(model, 2), x, y, steps=30, batch_size=4)
    assert a["status"] == "completed"
    sub = ld.dropout_layers(model, a["params"], [[0, 1, 2], []])
    assert np.array_equal(sub, ld.dropout_parameters(model, a["params"], [0, 1, 2], layer=1))
    with pytest.raises(ValueError, match="one keep set per hidden layer"):
        ld.dropout_layers(model, a["params"], [[0, 1]])
    e = ld.dropout_error(model, a["params"], x, y, kept=2, samples=3, every_layer=True)
    assert e["width"] == 4 and len(e["gaps"]) == 3
    p = ld.dropout_path(model, a["params"], b["params"], x, y, keep="random", seed=1)
    assert len(p["segments"]) == 15 and p["segments_hold"] and p["bound_holds"]
    assert p["vertices"].shape == (16, model.n_params)
    assert len(p["kept_lower"]) == 3 and len(p["paired_lower"]) == 3
    with pytest.raises(ValueError, match="five"):
        ld.dropout_path(model, a["params"], b["params"], x, y, five_segments=True)
