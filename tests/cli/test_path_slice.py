"""The contract of `locus path slice` and of the issue's spellings on the other path verbs:
`align --reference B --save OUT` (align --params to B), `line --save-vertices`, `neb --optimizer`.
Exit 2 naming the flag for bad input; --json is one object with the context block first; the CSV
and the JSON hold the same numbers as an independent evaluation."""

import json
import os
import subprocess

import numpy as np
import pytest

import locus


def run(locus_bin, *args, cwd=None):
    p = subprocess.run([locus_bin, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                       timeout=120)
    return p.returncode, p.stdout, p.stderr


@pytest.fixture()
def trained(tmp_path):
    """Two minima of nonzero loss of a [3, 3, 1] tanh net (LM from seeds 1 and 2) on 25 Gaussian
    points labelled by another [3, 3, 1] net: local minima, isolated up to symmetries."""
    m = locus.Mlp([3, 3, 1], activation="tanh")
    x = locus.gaussian_data(25, 3, 1, 2).x
    y = m.predict(m.init_parameters(scheme="normal", seed=1), x)
    a = locus.train(m, x, y, method="lm", seed=1)
    b = locus.train(m, x, y, method="lm", seed=2)
    assert a.converged() and b.converged()
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "a.npy", a.params)
    np.save(tmp_path / "b.npy", b.params)
    return tmp_path


ARCH = ["--arch", "3,3,1", "--activation", "tanh"]


def data(d):
    return ["--x", d / "x.npy", "--y", d / "y.npy"]


def test_slice_1d_profile_json_and_csv(locus_bin, trained):
    d = trained
    rc, out, err = run(locus_bin, "path", "slice", *ARCH, "--params", d / "a.npy", *data(d),
                       "--points", "9", "--radius", "0.5", "--seed", "7", "--profile", "--json",
                       "--out", d / "s.csv")
    assert rc == 0, err
    j = json.loads(out)
    assert list(j)[0] == "context"
    assert j["context"]["options"]["slice"] == {"dims": 1, "radius": 0.5, "points": 9, "seed": 7}
    assert j["dims"] == 1 and len(j["alpha"]) == 9 and j["alpha"][4] == 0.0
    p = j["profile_slice"]
    assert p["converged"], p["message"]
    loss = [row[0] for row in j["loss"]]
    assert all(q <= s * (1 + 1e-15) for q, s in zip(p["profile"], loss))
    assert p["profile"][4] == loss[4]  # at the minimum itself
    m = locus.Mlp([3, 3, 1], activation="tanh")
    x, y, a = np.load(d / "x.npy"), np.load(d / "y.npy"), np.load(d / "a.npy")
    assert loss[4] == pytest.approx(locus.loss(m, a, x, y), rel=1e-14)
    csv = np.loadtxt(d / "s.csv", delimiter=",", skiprows=1)
    assert csv.shape == (9, 4)
    np.testing.assert_allclose(csv[:, 1], loss, rtol=1e-15)
    np.testing.assert_allclose(csv[:, 2], p["profile"], rtol=1e-15)
    # Seeded: the same run gives the same slice; text output names it.
    rc, out, err = run(locus_bin, "path", "slice", *ARCH, "--params", d / "a.npy", *data(d),
                       "--points", "9", "--radius", "0.5", "--seed", "7")
    assert rc == 0, err
    assert "slice: 1-D, 9 points per axis" in out


def test_slice_plane_through_two_minima(locus_bin, trained):
    d = trained
    rc, out, err = run(locus_bin, "path", "slice", *ARCH, "--params", d / "a.npy",
                       "--params-end", d / "b.npy", *data(d), "--dims", "2", "--points", "5",
                       "--radius", "0.5", "--json", "--out", d / "plane.csv")
    assert rc == 0, err
    j = json.loads(out)
    assert j["dims"] == 2 and j["directions"] == "params_end and random"
    # alpha = -0.5, 0, 0.5, 1, 1.5 along B - A; beta symmetric around 0.
    assert j["alpha"] == [-0.5, 0.0, 0.5, 1.0, 1.5] and j["beta"][2] == 0.0
    m = locus.Mlp([3, 3, 1], activation="tanh")
    x, y = np.load(d / "x.npy"), np.load(d / "y.npy")
    a, b = np.load(d / "a.npy"), np.load(d / "b.npy")
    assert j["loss"][1][2] == pytest.approx(locus.loss(m, a, x, y), rel=1e-14)
    assert j["loss"][3][2] == pytest.approx(locus.loss(m, b, x, y), rel=1e-10)
    csv = np.loadtxt(d / "plane.csv", delimiter=",", skiprows=1)
    assert csv.shape == (25, 3)
    assert csv[1 * 5 + 2, 2] == pytest.approx(j["loss"][1][2], rel=1e-15)


@pytest.mark.parametrize("case, extra, named", [
    ("two dims with a profile", ["--dims", "2", "--profile"], "--profile"),
    ("three dims", ["--dims", "3"], "--dims"),
    ("one point", ["--points", "1"], "--points"),
    ("zero radius", ["--radius", "0"], "--radius"),
    ("unknown solver", ["--profile", "--solver", "newton"], "--solver"),
    ("identical ends", ["--params-end", "a.npy"], "--params-end"),
    ("end of another length", ["--params-end", "short.npy"], "--params-end"),
])
def test_slice_bad_input_exits_2(locus_bin, trained, case, extra, named):
    d = trained
    np.save(d / "short.npy", np.zeros(5))
    before = set(os.listdir(d))
    rc, _, err = run(locus_bin, "path", "slice", *ARCH, "--params", "a.npy", "--x", "x.npy",
                     "--y", "y.npy", "--out", "s.csv", *extra, cwd=d)
    assert rc == 2, (case, err)
    assert named in err, (case, err)
    assert set(os.listdir(d)) == before


def test_align_reference_and_line_vertices(locus_bin, tmp_path):
    """`align --params A --reference B --save OUT` permutes A to match B: with A = B permuted the
    saved network is B exactly; `line --save-vertices` writes the two ends."""
    import locus.transforms as lt
    m = locus.Mlp([3, 5, 2], activation="tanh")
    b = m.init_parameters(scheme="normal", seed=3)
    a = lt.permute_neurons(m, b, 1, [3, 0, 4, 1, 2]).params
    locus.save_model(str(tmp_path / "a.safetensors"), m, a)
    locus.save_model(str(tmp_path / "b.safetensors"), m, b)
    rc, out, err = run(locus_bin, "path", "align", "--params", tmp_path / "a.safetensors",
                       "--reference", tmp_path / "b.safetensors", "--save", tmp_path / "al.npy",
                       "--json")
    assert rc == 0, err
    j = json.loads(out)
    assert j["aligned"] == "params" and j["distance_after"] == 0.0
    np.testing.assert_array_equal(np.load(tmp_path / "al.npy"), b)
    rc, _, err = run(locus_bin, "path", "align", "--params", tmp_path / "a.safetensors")
    assert rc == 2 and "--reference" in err
    rc, _, err = run(locus_bin, "path", "align", "--params", tmp_path / "a.safetensors",
                     "--reference", tmp_path / "b.safetensors", "--params-end",
                     tmp_path / "b.safetensors")
    assert rc == 2 and "--reference" in err

    x = np.random.default_rng(1).standard_normal((10, 3))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", m.predict(b, x))
    rc, out, err = run(locus_bin, "path", "line", "--params", tmp_path / "a.safetensors",
                       "--params-end", tmp_path / "b.safetensors", "--x", tmp_path / "x.npy",
                       "--y", tmp_path / "y.npy", "--save-vertices", tmp_path / "v.npy")
    assert rc == 0, err
    v = np.load(tmp_path / "v.npy")
    np.testing.assert_array_equal(v, np.stack([a, b]))


def test_neb_optimizer_option(locus_bin, trained):
    """`neb --optimizer fire|lbfgs` is in the context; an unknown name exits 2 naming it."""
    d = trained
    common = [*ARCH, "--params", d / "a.npy", "--params-end", d / "b.npy", *data(d),
              "--images", "5", "--max-iterations", "300", "--json"]
    rc, out, err = run(locus_bin, "path", "neb", *common, "--optimizer", "fire")
    assert rc == 0, err
    j = json.loads(out)
    assert j["context"]["options"]["neb"]["optimizer"] == "fire" and j["optimizer"] == "fire"
    rc, _, err = run(locus_bin, "path", "neb", *common, "--optimizer", "bfgs")
    assert rc == 2 and "--optimizer" in err
