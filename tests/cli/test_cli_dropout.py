"""The CLI contract of `locus dropout train|evaluate` and `locus path dropout`: exit 0 on
success, 2 on bad input naming it (ends of different widths, an odd width for a half split, a
keep set out of range), --json is one object with the context block first, the path's vertices
are .npy rows in the parameter layout with the two ends as first and last rows."""

import json
import os
import subprocess

import numpy as np
import pytest


def run(locus_bin, *args, cwd=None):
    p = subprocess.run([locus_bin, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                       timeout=120)
    return p.returncode, p.stdout, p.stderr


TEACHER = ["--dataset", "teacher", "--teacher-arch", "3,2,1", "--teacher-activation", "tanh",
           "--n-points", "200", "--data-seed", "4"]


def model_flags(width, mean_field=True):
    flags = ["--arch", f"3,{width},1", "--activation", "tanh"]
    return flags + (["--mean-field"] if mean_field else [])


def test_train_evaluate_and_path(locus_bin, tmp_path):
    for seed in (1, 2):
        rc, out, err = run(locus_bin, "dropout", "train", *model_flags(16), *TEACHER,
                           "--steps", "300", "--seed", seed, "--init-seed", seed,
                           "--save", tmp_path / f"n{seed}.safetensors", "--json")
        assert rc == 0, err
        doc = json.loads(out)
        assert next(iter(doc)) == "context" and doc["status"] == "completed"
        assert doc["online"] and doc["samples"] == 300 * 8
        assert doc["context"]["options"]["sgd"]["steps"] == 300
    rc, out, err = run(locus_bin, "dropout", "evaluate", "--params", tmp_path / "n1.safetensors",
                       *TEACHER, "--kept", 4, "--samples", 5, "--json")
    assert rc == 0, err
    doc = json.loads(out)
    assert next(iter(doc)) == "context" and doc["kept"] == 4 and len(doc["gaps"]) == 5
    v = tmp_path / "v.npy"
    rc, out, err = run(locus_bin, "path", "dropout", "--params", tmp_path / "n1.safetensors",
                       "--params-end", tmp_path / "n2.safetensors", *TEACHER,
                       "--save-vertices", v, "--json")
    assert rc == 0, err
    doc = json.loads(out)
    assert next(iter(doc)) == "context"
    assert [s["kind"] for s in doc["segments"]] == [
        "output_weights", "silent_incoming", "output_weights", "silent_incoming", "swap",
        "silent_incoming", "output_weights"]
    assert doc["segments_hold"] and doc["bound_holds"] and doc["kept"] == list(range(8))
    vertices = np.load(v)
    assert vertices.shape == (8, doc["n_params"])
    rc, text, _ = run(locus_bin, "path", "dropout", "--params", tmp_path / "n1.safetensors",
                      "--params-end", tmp_path / "n2.safetensors", *TEACHER)
    assert rc == 0 and "excess over the larger end" in text and "straight line" in text


def test_any_two_layer_network_and_five_segments(locus_bin, tmp_path):
    """Flat .npy ends of a network without mean-field scaling (with biases)."""
    rng = np.random.default_rng(0)
    n = 4 * 3 + 4 + 1 * 4 + 1
    a, b = rng.normal(size=n), rng.normal(size=n)
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "b.npy", b)
    v = tmp_path / "v.npy"
    rc, out, err = run(locus_bin, "path", "dropout", *model_flags(4, mean_field=False),
                       "--params", tmp_path / "a.npy", "--params-end", tmp_path / "b.npy",
                       *TEACHER, "--keep", "random", "--seed", 3, "--five-segments",
                       "--save-vertices", v, "--json")
    assert rc == 0, err
    doc = json.loads(out)
    assert len(doc["segments"]) == 5 and doc["segments_hold"]
    vertices = np.load(v)
    np.testing.assert_array_equal(vertices[0], a)
    np.testing.assert_array_equal(vertices[-1], b)


@pytest.mark.parametrize("case, needle", [
    ("widths", "--params-end"),
    ("odd", "odd"),
    ("range", "out of range"),
    ("size", "half"),
])
def test_bad_input_exits_2_naming_it(locus_bin, tmp_path, case, needle):
    rng = np.random.default_rng(1)
    width = 5 if case == "odd" else 4
    size = lambda h: 3 * h + h + h + 1
    np.save(tmp_path / "a.npy", rng.normal(size=size(width)))
    np.save(tmp_path / "b.npy", rng.normal(size=size(6 if case == "widths" else width)))
    keep = {"range": "0,9", "size": "0"}.get(case, "first-half")
    v = tmp_path / "v.npy"
    rc, _, err = run(locus_bin, "path", "dropout", *model_flags(width, mean_field=False),
                     "--params", tmp_path / "a.npy", "--params-end", tmp_path / "b.npy",
                     *TEACHER, "--keep", keep, "--save-vertices", v)
    assert rc == 2 and needle in err, err
    assert not os.path.exists(v)


def test_train_needs_a_mean_field_network(locus_bin, tmp_path):
    rc, _, err = run(locus_bin, "dropout", "train", *model_flags(8, mean_field=False), *TEACHER,
                     "--save", tmp_path / "n.npy")
    assert rc == 2 and "--mean-field" in err
    rc, _, err = run(locus_bin, "dropout", "train", *model_flags(8), *TEACHER, "--step", "-1",
                     "--save", tmp_path / "n.npy")
    assert rc == 2 and "--step" in err
    assert not os.path.exists(tmp_path / "n.npy")


def test_three_layers_train_evaluate_and_path(locus_bin, tmp_path):
    """Two hidden layers: training, dropout in every layer, the 15-segment path; three hidden
    layers are refused (exit 2) by the path."""
    arch = ["--arch", "3,8,6,1", "--activation", "tanh", "--mean-field"]
    for seed in (1, 2):
        rc, out, err = run(locus_bin, "dropout", "train", *arch, *TEACHER, "--steps", "200",
                           "--seed", seed, "--init-seed", seed,
                           "--save", tmp_path / f"d{seed}.safetensors", "--json")
        assert rc == 0, err
        doc = json.loads(out)
        assert doc["status"] == "completed" and doc["loss_final"] < doc["loss_initial"]
    rc, out, err = run(locus_bin, "dropout", "evaluate", "--params", tmp_path / "d1.safetensors",
                       *TEACHER, "--kept", 3, "--every-layer", "--samples", 4, "--json")
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["width"] == 6 and doc["kept"] == 3 and len(doc["gaps"]) == 4
    v = tmp_path / "v.npy"
    rc, out, err = run(locus_bin, "path", "dropout", "--params", tmp_path / "d1.safetensors",
                       "--params-end", tmp_path / "d2.safetensors", *TEACHER,
                       "--keep", "random", "--save-vertices", v, "--json")
    assert rc == 0, err
    doc = json.loads(out)
    assert len(doc["segments"]) == 15 and doc["segments_hold"] and doc["bound_holds"]
    assert len(doc["kept"]) == 3 and len(doc["kept_lower"]) == 4
    assert np.load(v).shape == (16, doc["n_params"])
    rc, _, err = run(locus_bin, "path", "dropout", "--params", tmp_path / "d1.safetensors",
                     "--params-end", tmp_path / "d2.safetensors", *TEACHER,
                     "--five-segments")
    assert rc == 2 and "five" in err
    deep = ["--arch", "3,4,4,4,1", "--activation", "tanh", "--mean-field"]
    for seed in (1, 2):
        rc, _, err = run(locus_bin, "dropout", "train", *deep, *TEACHER, "--steps", "5",
                         "--init-seed", seed, "--save", tmp_path / f"e{seed}.npy")
        assert rc == 0, err
    rc, _, err = run(locus_bin, "path", "dropout", "--params", tmp_path / "e1.npy",
                     *deep, "--params-end", tmp_path / "e2.npy", *TEACHER)
    assert rc == 2 and "hidden layers" in err
