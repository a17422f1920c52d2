"""The contract of `locus path profile`: exit 2 naming the input for mismatched ends, a missing
file or bad options; --json is one object with the context block first and the barrier in three
conventions; the straight line between a teacher and the same teacher with two hidden neurons
swapped has a positive barrier while both ends are at zero loss."""

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


def swap_hidden(widths, theta, i, j):
    """theta of an MLP [p, h, l] with hidden neurons i and j swapped (W1 rows, b1, W2 columns)."""
    p, h, l = widths
    w1 = theta[:h * p].reshape(h, p).copy()
    b1 = theta[h * p:h * p + h].copy()
    w2 = theta[h * p + h:h * p + h + l * h].reshape(l, h).copy()
    b2 = theta[h * p + h + l * h:].copy()
    for a in (w1, b1):
        a[[i, j]] = a[[j, i]]
    w2[:, [i, j]] = w2[:, [j, i]]
    return np.concatenate([w1.ravel(), b1, w2.ravel(), b2])


@pytest.fixture()
def teacher_pair(tmp_path):
    """A teacher [3, 4, 1], its labels on 40 Gaussian points, and the permuted teacher."""
    widths = [3, 4, 1]
    m = locus.Mlp(widths)
    theta = m.init_parameters(scheme="normal", seed=5)
    x = np.random.default_rng(6).standard_normal((40, 3))
    y = m.predict(theta, x)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "a.npy", theta)
    np.save(tmp_path / "b.npy", swap_hidden(widths, theta, 0, 2))
    locus.save_model(str(tmp_path / "a.safetensors"), m, theta)
    return tmp_path


def test_permuted_teacher_barrier_json(locus_bin, teacher_pair):
    d = teacher_pair
    rc, out, err = run(locus_bin, "path", "profile", "--arch", "3,4,1", "--params", d / "a.npy",
                       "--params-end", d / "b.npy", "--x", d / "x.npy", "--y", d / "y.npy", "--json",
                       "--points", "17", "--out", d / "profile.csv")
    assert rc == 0, err
    j = json.loads(out)
    assert list(j)[0] == "context"
    assert j["context"]["options"]["profile"]["points"] == 17
    assert j["status"] == "converged" and j["path"] == "polyline"
    assert j["loss_start"] < 1e-25 and j["loss_end"] < 1e-25
    b = j["barriers"]
    assert set(b) == {"above_larger_end", "above_interpolation", "above_mean"}
    assert b["above_larger_end"] > 1e-3 * float(np.sum(np.load(d / "y.npy") ** 2))
    assert 0 < j["t_max"] < 1 and j["t_bracket"] <= 1e-6
    assert len(j["t"]) == len(j["loss"]) == j["evaluations"] >= 17
    # The CSV holds the same samples; the maximum agrees with an independent evaluation.
    csv = np.loadtxt(d / "profile.csv", delimiter=",", skiprows=1)
    assert csv.shape == (j["evaluations"], 2)
    m = locus.Mlp([3, 4, 1])
    a, bb = np.load(d / "a.npy"), np.load(d / "b.npy")
    x, y = np.load(d / "x.npy"), np.load(d / "y.npy")
    t = j["t_max"]
    assert locus.loss(m, (1 - t) * a + t * bb, x, y) == pytest.approx(j["loss_max"], rel=1e-12)
    # Text output and the same run from a safetensors start.
    # --to is --params-end's alias.
    rc, out, err = run(locus_bin, "path", "line", "--params", d / "a.safetensors", "--to",
                       d / "b.npy", "--x", d / "x.npy", "--y", d / "y.npy")
    assert rc == 0, err
    assert "above the larger end" in out and "converged" in out


@pytest.mark.parametrize("case, extra, named", [
    ("missing end file", ["--params-end", "none.npy"], "none.npy"),
    ("end of another length", ["--params-end", "short.npy"], "--params-end"),
    ("end of another architecture", ["--params-end", "wide.safetensors"], "--params-end"),
    ("identical ends", ["--params-end", "a.npy"], "--params-end"),
    ("bad option", ["--params-end", "b.npy", "--points", "1"], "--points"),
    ("bezier without bends", ["--params-end", "b.npy", "--kind", "bezier"], "--bends"),
    ("unknown kind", ["--params-end", "b.npy", "--kind", "spline", "--bends", "a.npy"], "--kind"),
])
def test_bad_input_exits_2(locus_bin, teacher_pair, case, extra, named):
    d = teacher_pair
    np.save(d / "short.npy", np.zeros(5))
    wide = locus.Mlp([3, 5, 1])
    locus.save_model(str(d / "wide.safetensors"), wide, wide.init_parameters(seed=1))
    before = set(os.listdir(d))
    rc, _, err = run(locus_bin, "path", "profile", "--arch", "3,4,1", "--params", "a.npy",
                     "--x", "x.npy", "--y", "y.npy", "--out", "p.csv", *extra, cwd=d)
    assert rc == 2, (case, err)
    assert named in err, (case, err)
    assert set(os.listdir(d)) == before  # no output file left behind


def test_bezier_through_bend(locus_bin, teacher_pair):
    """A Bezier curve with its bend at the midpoint of the ends is the straight line
    (1-t)^2 a + 2t(1-t)(a+b)/2 + t^2 b = (1-t) a + t b: the same maximum."""
    d = teacher_pair
    a, b = np.load(d / "a.npy"), np.load(d / "b.npy")
    np.save(d / "bend.npy", (a + b) / 2)
    common = ["--arch", "3,4,1", "--params", d / "a.npy", "--params-end", d / "b.npy", "--x",
              d / "x.npy", "--y", d / "y.npy", "--json"]
    rc, out, err = run(locus_bin, "path", "profile", *common, "--kind", "bezier", "--bends",
                       d / "bend.npy")
    assert rc == 0, err
    curve = json.loads(out)
    rc, out, err = run(locus_bin, "path", "profile", *common)
    line = json.loads(out)
    assert curve["path"] == "bezier"
    # Same curve, other parameterisation: the maxima agree to loss_tolerance (relative 1e-10).
    assert curve["loss_max"] == pytest.approx(line["loss_max"], rel=1e-9)


def test_fit_bezier_far_below_line(locus_bin, teacher_pair):
    """`path fit`: the fitted Bezier curve's maximum is far below the straight line's, and the
    reported maximum is reproduced by evaluating the saved control points independently."""
    d = teacher_pair
    rc, out, err = run(locus_bin, "path", "fit", "--arch", "3,4,1", "--params", d / "a.npy",
                       "--params-end", d / "b.npy", "--x", d / "x.npy", "--y", d / "y.npy", "--json",
                       "--save-control", d / "c.npy", "--out", d / "curve.csv")
    assert rc == 0, err
    j = json.loads(out)
    assert list(j)[0] == "context" and j["context"]["options"]["fit"]["kind"] == "bezier"
    assert j["status"].startswith("converged") and j["profile"]["status"] == "converged"
    line, curve = j["line_profile"]["barriers"], j["profile"]["barriers"]
    assert curve["above_larger_end"] < 1e-2 * line["above_larger_end"]
    c = np.load(d / "c.npy")
    assert c.shape == (3, 21)
    np.testing.assert_array_equal(c[0], np.load(d / "a.npy"))
    np.testing.assert_array_equal(c[2], np.load(d / "b.npy"))
    t = j["profile"]["t_max"]
    theta = (1 - t) ** 2 * c[0] + 2 * t * (1 - t) * c[1] + t ** 2 * c[2]
    m = locus.Mlp([3, 4, 1])
    x, y = np.load(d / "x.npy"), np.load(d / "y.npy")
    assert locus.loss(m, theta, x, y) == pytest.approx(j["profile"]["loss_max"], rel=1e-12)
    assert np.loadtxt(d / "curve.csv", delimiter=",", skiprows=1).shape[0] == len(
        j["profile"]["t"])
    rc, _, err = run(locus_bin, "path", "fit", "--arch", "3,4,1", "--params", d / "a.npy",
                     "--params-end", d / "a.npy", "--x", d / "x.npy", "--y", d / "y.npy")
    assert rc == 2 and "--params-end" in err
    rc, _, err = run(locus_bin, "path", "fit", "--arch", "3,4,1", "--params", d / "a.npy",
                     "--params-end", d / "b.npy", "--x", d / "x.npy", "--y", d / "y.npy", "--kind",
                     "bezier", "--bends", "2")
    assert rc == 2 and "--bends" in err


@pytest.fixture()
def tanh_pair(tmp_path):
    """A teacher [2, 3, 1] tanh labelling 40 Gaussian points (d > n = 13: isolated minima up to
    symmetry) and the teacher with hidden neurons 0 and 1 swapped."""
    widths = [2, 3, 1]
    m = locus.Mlp(widths, activation="tanh")
    theta = m.init_parameters(scheme="normal", seed=2)
    x = np.random.default_rng(4).standard_normal((40, 2))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", m.predict(theta, x))
    np.save(tmp_path / "a.npy", theta)
    np.save(tmp_path / "b.npy", swap_hidden(widths, theta, 0, 1))
    return tmp_path


def test_neb_json_saddle_and_vertices(locus_bin, tanh_pair):
    """`path neb`: --json reports the band, the barriers (top = the refined saddle's loss) and the
    saddle's index; the saved vertices run from --params to --to and the reported values are the
    loss at them."""
    d = tanh_pair
    rc, out, err = run(locus_bin, "path", "neb", "--arch", "2,3,1", "--activation", "tanh",
                       "--params", d / "a.npy", "--params-end", d / "b.npy", "--x", d / "x.npy", "--y",
                       d / "y.npy", "--json", "--images", "7", "--max-iterations", "3000",
                       "--save-vertices", d / "v.npy", "--save-saddle", d / "s.npy")
    assert rc == 0, err
    j = json.loads(out)
    assert list(j)[0] == "context"
    assert j["context"]["options"]["neb"]["images"] == 7
    assert j["status"] in ("converged", "max_iterations")
    s = j["saddle"]
    assert s["refined"] and s["status"] == "converged_gradient"
    assert s["gradient_max_norm"] <= 1e-12 and s["index"] >= 1
    assert j["barriers"]["above_larger_end"] <= j["line_profile"]["barriers"]["above_larger_end"]
    v = np.load(d / "v.npy")
    assert v.shape == (j["images"] + 2, 13)
    np.testing.assert_array_equal(v[0], np.load(d / "a.npy"))
    np.testing.assert_array_equal(v[-1], np.load(d / "b.npy"))
    m = locus.Mlp([2, 3, 1], activation="tanh")
    x, y = np.load(d / "x.npy"), np.load(d / "y.npy")
    i = j["climbing_image"]
    assert locus.loss(m, v[i], x, y) == pytest.approx(j["values"][i], rel=1e-12)
    saddle = np.load(d / "s.npy")
    assert locus.loss(m, saddle, x, y) == pytest.approx(s["loss"], rel=1e-12)
    # The barrier's top is the saddle's loss (both ends are at rounding level).
    assert j["barriers"]["above_larger_end"] == pytest.approx(s["loss"], rel=1e-9, abs=1e-20)


@pytest.mark.parametrize("case, extra, named", [
    ("end of another length", ["--params-end", "short.npy"], "--params-end"),
    ("identical ends", ["--params-end", "a.npy"], "--params-end"),
    ("no images", ["--params-end", "b.npy", "--images", "0"], "--images"),
    ("bad spring", ["--params-end", "b.npy", "--spring-constant", "-1"], "--spring-constant"),
])
def test_neb_bad_input_exits_2(locus_bin, tanh_pair, case, extra, named):
    d = tanh_pair
    np.save(d / "short.npy", np.zeros(5))
    before = set(os.listdir(d))
    rc, _, err = run(locus_bin, "path", "neb", "--arch", "2,3,1", "--activation", "tanh",
                     "--params", "a.npy", "--x", "x.npy", "--y", "y.npy", "--save-vertices",
                     "v.npy", *extra, cwd=d)
    assert rc == 2, (case, err)
    assert named in err, (case, err)
    assert set(os.listdir(d)) == before


def test_align_undoes_planted_permutation(locus_bin, tmp_path):
    """`path align`: B = A with its hidden neurons permuted in both layers of [3, 6, 5, 2]; the
    aligned B saved by --save is A exactly, and with data the aligned line has no barrier."""
    import locus.transforms as lt
    m = locus.Mlp([3, 6, 5, 2], activation="tanh")
    a = m.init_parameters(scheme="normal", seed=3)
    b = lt.permute_neurons(m, a, 1, [2, 0, 5, 1, 4, 3]).params
    b = lt.permute_neurons(m, b, 2, [4, 3, 0, 2, 1]).params
    x = np.random.default_rng(1).standard_normal((30, 3))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", m.predict(a, x))
    locus.save_model(str(tmp_path / "a.safetensors"), m, a)
    locus.save_model(str(tmp_path / "b.safetensors"), m, b)
    rc, out, err = run(locus_bin, "path", "align", "--params", tmp_path / "a.safetensors",
                       "--params-end", tmp_path / "b.safetensors", "--save", tmp_path / "al.npy",
                       "--x", tmp_path / "x.npy", "--y", tmp_path / "y.npy", "--json")
    assert rc == 0, err
    j = json.loads(out)
    assert list(j)[0] == "context" and j["context"]["options"]["align"]["restarts"] >= 1
    assert j["converged"] and j["distance_after"] == 0.0 and j["distance_before"] > 0
    np.testing.assert_array_equal(np.load(tmp_path / "al.npy"), a)
    assert j["permutations"] == [[1, 3, 0, 5, 4, 2], [2, 4, 3, 1, 0]]
    assert j["line_before"]["barriers"]["above_larger_end"] > 0 and "line_after" not in j
    # Without data: the permutations only; text output.
    rc, out, err = run(locus_bin, "path", "align", "--params", tmp_path / "a.safetensors",
                       "--params-end", tmp_path / "b.safetensors")
    assert rc == 0, err
    assert "alignment: converged" in out
    wide = locus.Mlp([3, 6, 6, 2], activation="tanh")
    locus.save_model(str(tmp_path / "w.safetensors"), wide, wide.init_parameters(seed=1))
    rc, _, err = run(locus_bin, "path", "align", "--params", tmp_path / "a.safetensors",
                     "--params-end", tmp_path / "w.safetensors")
    assert rc == 2 and "--params-end" in err
    rc, _, err = run(locus_bin, "path", "align", "--params", tmp_path / "a.safetensors",
                     "--params-end", tmp_path / "b.safetensors", "--restarts", "0")
    assert rc == 2 and "--restarts" in err


def test_unconverged_profile_exits_1_and_leaves_outputs(locus_bin, teacher_pair):
    """A profile whose maximum is not located (one refinement allowed for a 1e-15 bracket) prints
    its result and exits 1 without touching the existing --out and --save-vertices files."""
    d = teacher_pair
    (d / "old.csv").write_text("keep me\n")
    (d / "old.npy").write_bytes(b"keep me too")
    rc, out, err = run(locus_bin, "path", "profile", "--arch", "3,4,1", "--params", d / "a.npy",
                       "--params-end", d / "b.npy", "--x", d / "x.npy", "--y", d / "y.npy",
                       "--max-refinements", "1", "--t-tolerance", "1e-15", "--out",
                       d / "old.csv", "--save-vertices", d / "old.npy")
    assert rc == 1, (out, err)
    assert "not written" in err
    assert (d / "old.csv").read_text() == "keep me\n"
    assert (d / "old.npy").read_bytes() == b"keep me too"
