"""The CLI's contract: exit 0 on success, 2 on bad input with a message naming the input and
the problem, no output file left behind on failure."""

import json
import subprocess

import numpy as np
import pytest

import locus


def run(locus_bin, *args):
    p = subprocess.run([locus_bin, *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def test_version_help_and_json(locus_bin):
    rc, out, _ = run(locus_bin, "--version")
    assert rc == 0 and out.startswith("locus ")
    rc, out, err = run(locus_bin, "eval", "--arch", "4,6,3", "--dataset", "iris", "--json")
    assert rc == 0, err
    j = json.loads(out)
    assert list(j)[0] == "context" and j["n_params"] == 4 * 6 + 6 + 6 * 3 + 3
    rc, out, err = run(locus_bin, "eval", "--arch", "64,8,10", "--dataset", "digits",
                       "--n-points", "50", "--check-derivatives", "--json")
    assert rc == 0, err
    assert all(c["holds"] for c in json.loads(out)["derivative_checks"])


@pytest.fixture
def files(tmp_path):
    x = np.random.default_rng(0).normal(size=(5, 3))
    y = np.ones((5, 1))
    locus.write_npy(str(tmp_path / "x.npy"), x)
    locus.write_npy(str(tmp_path / "y.npy"), y)
    m = locus.Mlp([3, 4, 1])
    locus.save_model(str(tmp_path / "m.safetensors"), m, m.init_parameters(seed=1))
    xn = x.copy()
    xn[2, 1] = np.nan
    locus.write_npy(str(tmp_path / "xnan.npy"), xn)
    locus.write_npy(str(tmp_path / "y4.npy"), np.ones((4, 1)))
    locus.write_npy(str(tmp_path / "short.npy"), np.zeros(3))
    raw = (tmp_path / "x.npy").read_bytes()
    (tmp_path / "trunc.npy").write_bytes(raw[:-7])
    (tmp_path / "badhdr.npy").write_bytes(raw[:8] + b"\xff\xff" + raw[10:])
    st = (tmp_path / "m.safetensors").read_bytes()
    (tmp_path / "trunc.safetensors").write_bytes(st[:-9])
    (tmp_path / "hdr.safetensors").write_bytes(b"\xff" * 8 + st[8:])
    return tmp_path


@pytest.mark.parametrize("case,args,needle", [
    ("shapes", ["--x", "x.npy", "--y", "y4.npy"], "rows"),
    ("nan", ["--x", "xnan.npy", "--y", "y.npy"], "non-finite"),
    ("activation", ["--x", "x.npy", "--y", "y.npy", "--activation", "swish"], "unknown activation"),
    ("param length", ["--x", "x.npy", "--y", "y.npy", "--params", "short.npy"], "length"),
    ("truncated npy", ["--x", "trunc.npy", "--y", "y.npy"], "truncated"),
    ("corrupt npy header", ["--x", "badhdr.npy", "--y", "y.npy"], "badhdr.npy"),
    ("truncated safetensors", ["--x", "x.npy", "--y", "y.npy", "--params", "trunc.safetensors"],
     "trunc.safetensors"),
    ("corrupt safetensors header", ["--x", "x.npy", "--y", "y.npy", "--params", "hdr.safetensors"],
     "hdr.safetensors"),
    ("missing file", ["--x", "nothere.npy", "--y", "y.npy"], "no such file"),
])
def test_bad_input_exits_2(locus_bin, files, case, args, needle):
    rc, out, err = run(locus_bin, "eval", "--arch", "3,4,1", *[
        str(files / a) if a.endswith((".npy", ".safetensors")) else a for a in args])
    assert rc == 2, (case, out, err)
    assert needle in err, (case, err)


def test_unwritable_output_leaves_nothing(locus_bin, files):
    rc, _, err = run(locus_bin, "data", "convert", "--dataset", "iris",
                     "--out-x", str(files / "nodir" / "x.npy"), "--out-y", str(files / "y_out.npy"))
    assert rc == 2 and "does not exist" in err
    assert not (files / "y_out.npy").exists()
    rc, _, err = run(locus_bin, "data", "convert", "--dataset", "iris",
                     "--out-x", str(files / "ix.npy"), "--out-y", str(files / "iy.csv"))
    assert rc == 0, err
    assert locus.read_npy(str(files / "ix.npy")).shape == (150, 4)
    assert not [p for p in files.iterdir() if ".tmp." in p.name]
