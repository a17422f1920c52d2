"""Bindings of locus.transforms: results, numbering, errors. Numerics are tested in C++
(tests/transforms, tests/workflows/split_test.cpp); here the Python results are compared with the
network function through Mlp.predict and with the documented layout."""

import numpy as np
import pytest

import locus
import locus.transforms as lt

EPS = np.finfo(float).eps


def deep_net(activation="tanh", bias=None, seed=1):
    model = locus.Mlp([3, 5, 4, 2], activation=activation, bias=bias)
    return model, model.init_parameters(scheme="normal", seed=seed, std=0.7)


def inputs(d=20, seed=0):
    return np.random.default_rng(seed).normal(size=(d, 3))


def assert_same_function(m1, p1, m2, p2):
    x = inputs()
    f1, f2 = m1.predict(p1, x), m2.predict(p2, x)
    # Function-preserving up to the rounding of rescaled sums: a few eps times the outputs' and
    # the weights' sizes (the C++ tests derive the bound layer by layer).
    scale = 1.0 + np.abs(f1).max() + np.abs(p1).max() ** 3
    assert np.abs(f1 - f2).max() <= 1e3 * EPS * scale


@pytest.mark.parametrize("activation", ["tanh", "softplus", "relu", "g"])
@pytest.mark.parametrize("bias", [None, [False, False, False], [True, False, True]])
def test_split_preserves_function_and_merge_inverts_it(activation, bias):
    model, params = deep_net(activation, bias)
    s = lt.split_neuron(model, params, layer=2, neuron=1, fractions=[0.5, 0.5])
    wide, p2 = s  # unpacks as (model, params)
    assert wide.widths == [3, 5, 5, 2] and wide.bias == model.bias
    assert isinstance(p2, np.ndarray) and p2.dtype == np.float64 and p2.size == wide.n_params
    assert_same_function(model, params, wide, p2)
    # The copy (appended, neuron 4) shares the incoming weights; outgoing halves.
    a, b = lt.neuron_weights(wide, p2, 2, 1), lt.neuron_weights(wide, p2, 2, 4)
    np.testing.assert_array_equal(a["incoming"], b["incoming"])
    np.testing.assert_array_equal(a["outgoing"], b["outgoing"])
    back, p3 = lt.merge_neurons(wide, p2, layer=2, keep=1, other=4)
    assert back.widths == model.widths
    np.testing.assert_array_equal(p3, params)  # 1/2 + 1/2: bit for bit


def test_neuron_indices_follow_the_layout():
    model = locus.Mlp([3, 5, 4, 2], bias=[True, False, True])
    ix = lt.neuron_indices(model, 1, 2)
    np.testing.assert_array_equal(ix["incoming"], [6, 7, 8])
    assert ix["bias"] == 17
    np.testing.assert_array_equal(ix["outgoing"], [22, 27, 32, 37])
    assert lt.neuron_indices(model, 2, 0)["bias"] is None
    params = np.arange(model.n_params, dtype=float)
    w = lt.neuron_weights(model, params, 1, 2)
    np.testing.assert_array_equal(w["incoming"], params[ix["incoming"]])
    np.testing.assert_array_equal(w["outgoing"], params[ix["outgoing"]])
    # The same rows through the core binding's layer slices.
    layer0 = model.layer(0)
    np.testing.assert_array_equal(w["incoming"], params[layer0["weight"]].reshape(5, 3)[2])


def test_permute_grow_shrink_and_zero_neurons():
    model, params = deep_net("sigmoid")
    perm = [3, 0, 4, 1, 2]
    pm, pp = lt.permute_neurons(model, params, 1, perm)
    assert_same_function(model, params, pm, pp)
    inv = lt.inverse_permutation(perm)
    np.testing.assert_array_equal(inv, np.argsort(perm))
    np.testing.assert_array_equal(lt.permute_neurons(pm, pp, 1, inv).params, params)

    g = lt.grow(model, params, [7, 6])
    assert g.model.widths == [3, 7, 6, 2]
    assert_same_function(model, params, g.model, g.params)
    sh = lt.shrink(g.model, g.params)
    assert sh.model.widths == model.widths and sh.merged == [1, 1] and sh.removed == [1, 1]
    np.testing.assert_array_equal(sh.params, params)

    z = lt.add_zero_neuron(model, params, 1, incoming=[1.0, -2.0, 0.5], bias=0.3)
    assert z.model.widths == [3, 6, 4, 2]
    assert_same_function(model, params, z.model, z.params)
    np.testing.assert_array_equal(lt.remove_neuron(z.model, z.params, 1, 5).params, params)
    grp = lt.add_zero_group(model, params, 2, outgoing=[[1.0, -1.0], [0.5, -0.5]])
    assert grp.model.widths == [3, 5, 6, 2]
    assert_same_function(model, params, grp.model, grp.params)


def test_errors_are_value_errors_naming_the_input():
    model, params = deep_net()
    with pytest.raises(ValueError, match="hidden layers of .* are 1..2"):
        lt.split_neuron(model, params, 0, 0, [0.5, 0.5])
    with pytest.raises(ValueError, match="neuron 9 is out of range"):
        lt.split_neuron(model, params, 1, 9, [0.5, 0.5])
    with pytest.raises(ValueError, match="sum to"):
        lt.split_neuron(model, params, 1, 0, [0.5, 0.6])
    with pytest.raises(ValueError, match="params"):
        lt.split_neuron(model, params[:-1], 1, 0, [0.5, 0.5])
    with pytest.raises(ValueError, match="not a permutation"):
        lt.permute_neurons(model, params, 1, [0, 0, 1, 2, 3])
    with pytest.raises(ValueError, match="outgoing weights are not 0"):
        lt.remove_neuron(model, params, 1, 0)
    with pytest.raises(ValueError, match="only exact duplicates"):
        lt.merge_neurons(model, params, 1, 0, 1)
    with pytest.raises(ValueError, match="seed"):
        lt.split_critical_point(model, params, inputs(), np.zeros((20, 2)), 1, 0, [0.5, 0.5],
                                seed="x")
    with pytest.raises(ValueError, match="gradient_tolerance_relative"):
        lt.split_critical_point(model, params, inputs(), np.zeros((20, 2)), 1, 0, [0.5, 0.5],
                                gradient_tolerance_relative=-1.0)


def test_split_critical_point_matches_the_cpp_check():
    # The C++ test's problem: a width-1 tanh student of a width-3 teacher, at a strict minimum.
    teacher = locus.Mlp([2, 3, 1], activation="tanh", bias=[False, False])
    tp = np.array([1.2, 1.0, -1.0, 1.0, -0.4, -1.2, 1.0, 1.0, 1.0])
    x = np.random.default_rng(3).normal(size=(40, 2))
    y = teacher.predict(tp, x)
    narrow = locus.Mlp([2, 1, 1], activation="tanh", bias=[False, False])
    run = locus.train(narrow, x, y, method="lm", polish="critical",
                      init=narrow.init_parameters(scheme="normal", seed=0))
    s = lt.split_critical_point(narrow, run.params, x, y, layer=1, neuron=0,
                                fractions=[1.5, -0.5])
    assert s.status == "critical" and s.critical
    assert s.widths_after == [2, 2, 1] and s.params_after.size == 6
    assert s.gradient_max_norm_after <= s.gradient_tolerance
    assert s.zero_after >= s.zero_expected == 1
    assert s.eigenvalues_after.shape == (6,)
    lam = s.eigenvalues_after
    assert s.zero_after == np.sum(np.abs(lam) <= s.zero_tolerance_after)
    assert s.index_after == np.sum(lam < -s.zero_tolerance_after) and s.gap_after > 1.0
    assert abs(s.loss_after - s.loss_before) <= 1e-12 * max(1.0, s.loss_before)
    # The split point is the transform's own result.
    _, p2 = lt.split_neuron(narrow, run.params, 1, 0, [1.5, -0.5])
    np.testing.assert_array_equal(s.params_after, p2)
    # The loss there through the core binding agrees with the check.
    wide = locus.Mlp([2, 2, 1], activation="tanh", bias=[False, False])
    assert locus.loss(wide, p2, x, y) == pytest.approx(s.loss_after, rel=1e-14)
    j = s.to_json()
    assert j["status"] == "critical" and j["after"]["index"] == s.index_after
    assert s.zero_neuron_outgoing_gradient_max_norm > 1e6 * s.gradient_tolerance
    assert repr(s).startswith("critical: ")
