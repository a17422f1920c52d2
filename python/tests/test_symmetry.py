"""locus.symmetry bindings: exact counts as Python ints, maps and pieces as NumPy arrays,
enumeration results, ValueError for bad input. The numerics are tested in C++
(tests/symmetry)."""

import itertools
import math

import numpy as np
import pytest

import locus
import locus.symmetry as sym


def teacher(r=3, activation="sigmoid"):
    """Simsek et al.'s teacher vectors (first r), output weights 1, no biases."""
    w = np.array([[0.6, 0.5], [-0.5, 0.5], [-0.2, -0.6], [0.1, -0.6]])[:r]
    model = locus.Mlp([2, r, 1], activation=activation, bias=[False, False])
    return model, np.concatenate([w.ravel(), np.ones(r)])


def stirling2(n, k):
    total = sum((-1) ** j * math.comb(k, j) * (k - j) ** n for j in range(k + 1))
    return total // math.factorial(k)


def test_counts_are_exact_ints():
    c = sym.count(3, 200)
    assert isinstance(c["T"], int) and c["T"] == math.factorial(3) * stirling2(201, 4)
    assert c["G"] == math.factorial(3) * stirling2(200, 3)
    assert c["T_groups"] == math.factorial(3) * sum(math.comb(j, 3) * stirling2(200, j)
                                                    for j in range(3, 201))
    assert abs(c["log10_T"] - math.log10(c["T"])) < 1e-12 * c["log10_T"]
    d = sym.deep_count([2, 3], [3, 5])
    assert d["T"] == d["layers"][0]["T"] * d["layers"][1]["T"] and d["extra_neurons_min"] == 1
    ratio = sym.log10_saddle_minimum_ratio(4, 4)
    assert abs(10 ** ratio - 1.5) < 1e-12  # G(3, 4) / T(4, 4) = 36 / 24


@pytest.mark.parametrize("r,m,needle", [(5, 3, "r must be <= m"), (0, 3, "r must be"),
                                        (2, 201, "m must be"), (10**6, 10**6, "r must be")])
def test_counts_refuse_bad_sizes(r, m, needle):
    with pytest.raises(ValueError, match=needle):
        sym.count(r, m)


def test_maps_match_brute_force():
    # All maps [4] -> {-1, 0, 1} covering both teacher neurons.
    brute = [phi for phi in itertools.product([-1, 0, 1], repeat=4) if {0, 1} <= set(phi)]
    maps = sym.maps(2, 4)
    assert sorted(tuple(phi) for phi, _ in maps) == sorted(brute)
    assert len(sym.maps(2, 4, zero_groups=True)) == sym.count(2, 4)["T_groups"]
    with pytest.raises(ValueError, match="max_pieces"):
        sym.maps(4, 6, max_pieces=10)


def test_piece_point_has_zero_loss_and_orthonormal_basis():
    model, params = teacher(2)
    x = np.random.default_rng(0).normal(size=(20, 2))
    y = model.predict(params, x)
    phi = [0, -1, 1, 0]
    p = sym.piece(model, params, phi, seed=3)
    assert p["dimension"] == sym.piece_dimension(phi, 2, 2) == (3 - 2) + 1 * 2
    b = p["basis"]
    assert b.shape == (len(p["params"]), p["dimension"])
    assert np.abs(b.T @ b - np.eye(b.shape[1])).max() < 1e-14  # Helmert/coordinate vectors
    student = locus.Mlp([2, 4, 1], activation="sigmoid", bias=[False, False])
    # Each residual is a difference of sums of ~ 4 terms of size <= |a_j| ~ 3: round-off
    # ~ 1e-15, so the loss over 20 points is ~ 1e-29.
    for point in (p["params"], p["params"] + b @ np.ones(b.shape[1])):
        assert locus.loss(student, point, x, y) < 1e-26


def test_enumerate_components_and_json():
    model, params = teacher(3)
    x = np.random.default_rng(1).normal(size=(16, 2))
    e = sym.enumerate_pieces(model, params, x, m=4, seed=2)
    assert e.ok and e.n_pieces == e.count_exact == sym.count(3, 4)["T"]
    assert sum(e.dimension_histogram) == e.n_pieces
    assert len(e.maps) == e.n_pieces
    assert e.components_by_rule == e.components_numerical
    j = e.to_json()
    assert j["components"]["by_rule"]["count"] == 1 and j["components"]["numerical"]["count"] == 1
    assert sym.components(model, params, x, m=3) == {"by_rule": 6, "numerical": 6}
    g = sym.enumerate_pieces(model, params, x, m=5, zero_groups=True, components=False)
    assert g.n_pieces == sym.count(3, 5)["T_groups"] and g.components_numerical is None
    # A zero group {1, 2} meets the piece with neurons 1, 2 single zero-type (a_1 = a_2 = 0).
    assert sym.pieces_intersect([0, -1, -1], [0, -1, -1], [-1, 0, 0], [-1, 0, 1])
    assert "pieces" in repr(e)


def test_intersection_rule_and_numerics():
    model, params = teacher(2)
    # [0, 1, -1] and [0, 1, 1] share copies of both teacher neurons: they meet (a_2 = 0).
    # [0, 1, -1] and [0, -1, 1] copy teacher neuron 1 on different neurons: disjoint.
    for a, b, meet in [([0, 1, -1], [0, 1, 1], True), ([0, 1, -1], [0, -1, 1], False),
                       ([0, 1, -1], [1, 0, -1], False)]:
        assert sym.pieces_intersect(a, b) == meet
        pa, pb = sym.piece(model, params, a, seed=1), sym.piece(model, params, b, seed=2)
        x = sym.affine_intersection(pa["params"], pa["basis"], pb["params"], pb["basis"])
        assert x["intersects"] == meet, x


def test_reducible_teacher_raises_value_error():
    model, params = teacher(3)
    assert sym.irreducibility_problem(model, params) == ""
    sym.check_irreducible(model, params)
    params[4:6] = params[0:2]  # neuron 2 duplicates neuron 0
    with pytest.raises(ValueError, match="teacher neurons 0 and 2"):
        sym.check_irreducible(model, params)
    with pytest.raises(ValueError, match="teacher neurons 0 and 2"):
        sym.enumerate_pieces(model, params, np.zeros((4, 2)), m=4)
    model, params = teacher(3)
    with pytest.raises(ValueError, match="m"):
        sym.enumerate_pieces(model, params, np.zeros((4, 2)), m=2)
    with pytest.raises(ValueError, match="bogus"):
        sym.enumerate_pieces(model, params, np.zeros((4, 2)), bogus=1)


# ---- swap paths --------------------------------------------------------------------------------

def test_swap_path_vertices_exchange_the_neurons_and_keep_the_function():
    model, params = teacher(4)
    s = sym.swap_path(model, params, [(0, 2)])
    assert s["vertices"].shape == (8, s["model"].n_params) and s["model"].n_params == 15
    assert [g["kind"] for g in s["segments"]][:2] == ["move_incoming", "transfer_outgoing"]
    # The last row is the teacher with neurons 0 and 2 exchanged, the extra neuron zero.
    swapped, p = locus.transforms.permute_neurons(model, params, 1, [2, 1, 0, 3])
    grown, q = locus.transforms.grow(swapped, p, [5])
    np.testing.assert_array_equal(s["vertices"][-1], q)
    x = np.random.default_rng(0).normal(size=(20, 2))
    f = model.predict(params, x)
    for a, b in zip(s["vertices"][:-1], s["vertices"][1:]):
        mid = 0.5 * (a + b)  # a transfer rounds two products: a few eps |f|
        assert np.abs(s["model"].predict(mid, x) - f).max() <= 64 * np.finfo(float).eps


def test_check_swap_path_zero_loss_against_a_barrier():
    model, params = teacher(4)
    x = np.random.default_rng(1).normal(size=(50, 2)) * 3
    c = sym.check_swap_path(model, params, [(1, 3)], x)
    assert c["path_loss_max"] <= 1e-20 and c["loss_path"].max() <= 1e-20
    assert c["line"]["barriers"]["above_larger_end"] > 1e-3
    assert len(c["segments"]) == 7 and c["t"].shape == c["loss_line"].shape


@pytest.mark.parametrize("swaps", [[(0, 0)], [(0, 4)], [(2, 0, 1)], [(1, 2, 3, 4)], []])
def test_bad_swaps_raise_value_error(swaps):
    model, params = teacher(4)
    with pytest.raises(ValueError):
        sym.swap_path(model, params, swaps)
