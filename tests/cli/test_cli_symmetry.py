"""The contract of `locus symmetry` (count, enumerate): exit 0 on success, 2 on bad input with
a message naming the flag or the teacher's neurons; --json prints one object, "context" first,
with exact counts as decimal strings."""

import itertools
import json
import os
import subprocess

import numpy as np
import pytest

import locus


def run(locus_bin, *args):
    p = subprocess.run([locus_bin, *map(str, args)], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def brute_force_t(r, m):
    """Maps [m] -> {0..r} covering 1..r, enumerated."""
    return sum(1 for phi in itertools.product(range(r + 1), repeat=m)
               if set(range(1, r + 1)) <= set(phi))


def save_teacher(path, r=3, duplicate=False):
    w = np.array([[0.6, 0.5], [-0.5, 0.5], [-0.2, -0.6], [0.1, -0.6]])[:r].copy()
    if duplicate:
        w[2] = w[0]
    model = locus.Mlp([2, r, 1], activation="sigmoid", bias=[False, False])
    locus.save_model(str(path), model, np.concatenate([w.ravel(), np.ones(r)]))
    return path


def test_count_json_equals_brute_force(locus_bin):
    rc, out, err = run(locus_bin, "symmetry", "count", "--r", 2, "--m", 5, "--json")
    assert rc == 0, err
    j = json.loads(out)
    assert list(j)[0] == "context" and j["context"]["options"]["count"] == {"r": "2", "m": "5"}
    assert j["T"] == str(brute_force_t(2, 5))  # exact integers are decimal strings
    assert isinstance(j["T_groups"], str) and isinstance(j["G"], str)
    assert j["G"] == str(2 ** 5 - 2)  # surjections [5] -> [2]
    rc, out, _ = run(locus_bin, "symmetry", "count", "--r", 4, "--m", 200, "--json")
    assert rc == 0 and int(json.loads(out)["T"]) == locus.symmetry.count(4, 200)["T"]
    rc, out, _ = run(locus_bin, "symmetry", "count", "--r", 4, "--m", 6)
    assert rc == 0 and "3360" in out


def test_count_deep_product(locus_bin):
    rc, out, err = run(locus_bin, "symmetry", "count", "--r", "2,3", "--m", "3,5", "--json")
    assert rc == 0, err
    j = json.loads(out)
    assert int(j["T"]) == int(j["layers"][0]["T"]) * int(j["layers"][1]["T"])


@pytest.mark.parametrize("args,needle", [
    (["--r", 5, "--m", 3], "--r must be <= m"),
    (["--r", 0, "--m", 3], "--r must be"),
    (["--r", 3, "--m", 1000], "--m must be"),
    (["--r", 10**12, "--m", 10**12], "--r must be"),
    (["--r", 2, "--m", "many"], "--m must be an integer"),
    (["--m", 4], "--r is required"),
])
def test_count_bad_input_exits_2(locus_bin, args, needle):
    rc, _, err = run(locus_bin, "symmetry", "count", *args)
    assert rc == 2 and needle in err, err


def test_enumerate_json(locus_bin, tmp_path):
    teacher = save_teacher(tmp_path / "t.safetensors")
    rc, out, err = run(locus_bin, "symmetry", "enumerate", "--params", teacher, "--m", 4,
                       "--json")
    assert rc == 0, err
    j = json.loads(out)
    assert list(j)[0] == "context" and j["context"]["options"]["expansion"]["m"] == 4
    assert j["status"] == "ok" and j["n_pieces"] == brute_force_t(3, 4) == int(j["count_exact"])
    assert sum(j["dimension_histogram"].values()) == j["n_pieces"]
    assert j["components"]["by_rule"]["count"] == j["components"]["numerical"]["count"] == 1
    rc, out, err = run(locus_bin, "symmetry", "enumerate", "--params", teacher, "--m", 3,
                       "--json")
    assert rc == 0, err
    assert json.loads(out)["components"]["numerical"]["count"] == 6  # r! at m = r
    rc, out, _ = run(locus_bin, "symmetry", "enumerate", "--params", teacher)
    assert rc == 0 and "dimension histogram" in out


def test_enumerate_bad_input_exits_2(locus_bin, tmp_path):
    bad = save_teacher(tmp_path / "dup.safetensors", duplicate=True)
    rc, _, err = run(locus_bin, "symmetry", "enumerate", "--params", bad, "--m", 4)
    assert rc == 2 and "--params" in err and "teacher neurons 0 and 2" in err, err
    good = save_teacher(tmp_path / "t.safetensors")
    rc, _, err = run(locus_bin, "symmetry", "enumerate", "--params", good, "--m", 2)
    assert rc == 2 and "--m must be >= r" in err, err
    rc, _, err = run(locus_bin, "symmetry", "enumerate", "--params", good, "--m", 9,
                     "--max-pieces", 100)
    assert rc == 2 and "--max-pieces" in err, err
    rc, _, err = run(locus_bin, "symmetry")
    assert rc == 2 and "subcommand" in err


# ---- split and swap-path -----------------------------------------------------------------------

TEACHER = ["--arch", "2,4,1", "--activation", "sigmoid", "--bias", "none"]


def test_split_saves_a_wider_network_with_the_same_function(locus_bin, tmp_path):
    t = save_teacher(tmp_path / "t.safetensors", r=4)
    out = tmp_path / "s.safetensors"
    rc, _, err = run(locus_bin, "symmetry", "split", "--params", t, "--layer", 1, "--neuron", 2,
                     "--fractions", "0.25,0.75", "--save", out)
    assert rc == 0, err
    model, params = locus.load_model(str(t))
    wide, wide_params = locus.load_model(str(out))
    assert wide.widths == [2, 5, 1]
    x = np.random.default_rng(0).normal(size=(10, 2))
    np.testing.assert_allclose(wide.predict(wide_params, x), model.predict(params, x),
                               rtol=0, atol=64 * np.finfo(float).eps)


def test_split_of_a_global_minimum_checked_on_data(locus_bin, tmp_path):
    t = save_teacher(tmp_path / "t.safetensors", r=4)
    rc, out, err = run(locus_bin, "symmetry", "split", "--params", t, "--layer", 1, "--neuron", 0,
                       "--fractions", "0.5,0.5", "--dataset", "grid", "--json")
    assert rc == 0, err
    j = json.loads(out)
    assert list(j)[0] == "context" and j["check"]["status"] == "critical"
    assert j["widths_after"] == [2, 5, 1] and j["check"]["after"]["zero"] >= 1


def test_swap_path_changes_no_output_when_the_second_fails(locus_bin, tmp_path):
    # --save-vertices and --out are replaced together: a 250-character --out passes the early
    # writability check but its temporary (name + ".tmp.<pid>.<n>.csv") exceeds NAME_MAX (255),
    # so writing it fails after the vertices were staged; the vertices file stays as it was.
    t = save_teacher(tmp_path / "t.safetensors", r=4)
    v = tmp_path / "v.npy"
    v.write_bytes(b"old vertices")
    before = set(os.listdir(tmp_path))
    rc, out, err = run(locus_bin, "symmetry", "swap-path", "--params", t, "--dataset", "grid",
                       "--swap", "0,2", "--save-vertices", v, "--out",
                       tmp_path / ("p" * 246 + ".csv"))
    assert rc in (1, 2), (rc, out, err)
    assert "p" * 246 in err
    assert v.read_bytes() == b"old vertices"
    assert set(os.listdir(tmp_path)) == before


def test_swap_path_json_and_vertices(locus_bin, tmp_path):
    t = save_teacher(tmp_path / "t.safetensors", r=4)
    v, csv = tmp_path / "v.npy", tmp_path / "p.csv"
    rc, out, err = run(locus_bin, "symmetry", "swap-path", "--params", t, "--dataset", "grid",
                       "--swap", "0,2", "--save-vertices", v, "--out", csv, "--json")
    assert rc == 0, err
    j = json.loads(out)
    assert list(j)[0] == "context" and j["context"]["options"]["swap"]["swap"] == ["0,2"]
    assert j["path_loss_max"] <= 1e-20 and j["line"]["barriers"]["above_larger_end"] > 1e-3
    vertices = np.load(v)
    assert vertices.shape == (8, 15) and j["n_vertices"] == 8
    # Last row: the teacher with neurons 0 and 2 exchanged in place, the extra neuron zero.
    _, params = locus.load_model(str(t))
    w = params[:8].reshape(4, 2)[[2, 1, 0, 3]]
    a = params[8:][[2, 1, 0, 3]]
    np.testing.assert_array_equal(vertices[-1], np.concatenate([w.ravel(), [0, 0], a, [0]]))
    assert csv.read_text().startswith("t,loss_path,loss_line\n")


@pytest.mark.parametrize("args,words", [
    (["split", "--layer", 2, "--neuron", 0, "--fractions", "0.5,0.5"], ["layer 2"]),
    (["split", "--layer", 1, "--neuron", 7, "--fractions", "0.5,0.5"], ["neuron 7"]),
    (["split", "--layer", 1, "--neuron", 0, "--fractions", "0.5,0.4"], ["sum", "not 1"]),
    (["split", "--layer", 1, "--neuron", 0, "--fractions", "a,b"], ["--fractions"]),
    (["swap-path", "--swap", "0,0"], ["must differ"]),
    (["swap-path", "--swap", "0,9"], ["neuron 9"]),
    (["swap-path", "--swap", "0-1"], ["--swap"]),
    (["swap-path"], ["--swap"]),
])
def test_split_and_swap_bad_input_exit_2(locus_bin, tmp_path, args, words):
    t = save_teacher(tmp_path / "t.safetensors", r=4)
    out = tmp_path / "never.safetensors"
    extra = ["--save", out] if args[0] == "split" else []
    rc, _, err = run(locus_bin, "symmetry", args[0], "--params", t, *args[1:], *extra)
    assert rc == 2, err
    assert all(w in err for w in words), err
    assert not out.exists()  # nothing written by a failed command


def test_categorize_a_split_student(locus_bin, tmp_path):
    t = save_teacher(tmp_path / "t.safetensors", r=4)
    model, params = locus.load_model(str(t))
    wide, p = locus.transforms.split_neuron(model, params, layer=1, neuron=1,
                                            fractions=[0.4, 0.6])
    wide, p = locus.transforms.add_zero_neuron(wide, p, 1)
    s = tmp_path / "s.safetensors"
    locus.save_model(str(s), wide, p)
    rc, out, err = run(locus_bin, "symmetry", "categorize", "--teacher", t, "--params", s, "--json")
    assert rc == 0, err
    j = json.loads(out)
    assert list(j)[0] == "context" and j["on_expansion_manifold"] is True
    assert j["phi"] == [0, 1, 2, 3, 1, -1]  # the copy of neuron 1 is appended, then the zero one
    rc, _, err = run(locus_bin, "symmetry", "categorize", "--teacher", s, "--params", t)
    assert rc == 2 and "--teacher" in err  # the "teacher" [2,6,1] has duplicate neurons
