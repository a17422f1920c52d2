"""The CLI's contract (data and eval verbs): exit 0 on success, 2 on bad input with a message
naming the input and the problem, 1 on other failures; --json prints exactly one JSON object
whose first key is "context"; no output file is left behind by a failed command."""

import json
import math
import os
import re
import shutil
import subprocess

import numpy as np
import pytest

import locus


def run(locus_bin, *args, cwd=None):
    p = subprocess.run([locus_bin, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                       timeout=120)
    return p.returncode, p.stdout, p.stderr


def leftovers(directory, before):
    """Files that appeared in directory (temporary files of atomic writes included)."""
    return sorted(set(os.listdir(directory)) - set(before))


def test_version_and_help(locus_bin):
    rc, out, _ = run(locus_bin, "--version")
    assert rc == 0 and out.startswith("locus " + locus.__version__ + " (")
    assert locus.git_commit in out
    rc, out, _ = run(locus_bin, "--help")
    assert rc == 0 and "data" in out and "eval" in out
    rc, out, _ = run(locus_bin, "eval", "--help")
    assert rc == 0 and "--check-derivatives" in out and "Richardson" in out and "--init" in out
    rc, _, err = run(locus_bin)
    assert rc == 2 and "subcommand" in err
    rc, _, err = run(locus_bin, "eval", "--arch", "4,3", "--dataset", "iris", "--bogus")
    assert rc == 2 and err.startswith("locus: error: ") and "--bogus" in err


def test_eval_json_matches_python(locus_bin, tmp_path):
    rc, out, err = run(locus_bin, "eval", "--arch", "4,6,3", "--dataset", "iris", "--json",
                       "--init", "he", "--seed", "5", "--threads", "1")
    assert rc == 0, err
    j = json.loads(out)  # the whole of stdout is one JSON object
    assert list(j)[0] == "context" and j["context"]["options"]["init"]["scheme"] == "he"
    m = locus.Mlp([4, 6, 3])
    theta = m.init_parameters(scheme="he", seed=5)
    x, y = locus.load_dataset("iris")
    assert j["n_params"] == m.n_params and j["n_points"] == 150
    g = locus.gradient(m, theta, x, y)
    # Same library, same arithmetic: the CLI and the bindings agree bit for bit.
    assert j["loss"] == locus.loss(m, theta, x, y)
    assert j["gradient_max_norm"] == abs(g).max()
    # Parameters from a file, with the architecture read from it.
    locus.save_model(str(tmp_path / "m.safetensors"), m, theta)
    rc, out, err = run(locus_bin, "eval", "--params", tmp_path / "m.safetensors", "--dataset",
                       "iris", "--json")
    assert rc == 0, err
    assert json.loads(out)["loss"] == j["loss"]


def test_check_derivatives(locus_bin):
    rc, out, err = run(locus_bin, "eval", "--arch", "64,8,10", "--dataset", "digits",
                       "--n-points", "50", "--check-derivatives", "--json")
    assert rc == 0, err
    report = json.loads(out)["derivative_check"]
    checks = {c["name"]: c for c in report["comparisons"]}
    assert report["passed"] and set(checks) == {"gradient", "hessian_vector_product", "jacobian",
                                                "hvp_vs_dense_hessian", "gradient_vs_jacobian"}
    assert all(c["passed"] and 0 <= c["max_error"] <= c["tolerance"] for c in checks.values())
    rc, out, err = run(locus_bin, "eval", "--arch", "10,5,1", "--dataset", "teacher",
                       "--teacher-arch", "10,3,1", "--n-points", "40", "--check-derivatives",
                       "--activation", "tanh")
    assert rc == 0, err
    assert out.count("holds") == 5 and "tolerance" in out
    rc, out, err = run(locus_bin, "eval", "--arch", "10,5,1", "--dataset", "teacher",
                       "--teacher-arch", "10,3,1", "--teacher-init", "uniform")
    assert rc == 2 and "--teacher-init" in err


def test_data_describe_and_convert_round_trip(locus_bin, tmp_path):
    rc, out, err = run(locus_bin, "data", "describe", "--dataset", "iris")
    assert rc == 0, err
    assert "d = 150" in out and "0: 50 1: 50 2: 50" in out and "inputs distinct: no" in out
    rc, out, err = run(locus_bin, "data", "describe", "--dataset", "gaussian", "--n-points", "9",
                       "--input-dim", "3", "--json")
    assert rc == 0, err
    j = json.loads(out)
    assert list(j)[0] == "context" and j["n_points"] == 9 and len(j["features"]) == 3
    assert j["distinct_inputs"] and "label_counts" not in j
    for ext in ("npy", "csv"):
        ox, oy = tmp_path / f"x.{ext}", tmp_path / f"y.{ext}"
        rc, _, err = run(locus_bin, "data", "convert", "--dataset", "wine", "--standardize",
                         "--out-x", ox, "--out-y", oy)
        assert rc == 0, err
        d = locus.load_dataset("wine", standardize=True)
        back = locus.load_xy(str(ox), str(oy))  # what --x/--y read, exactly
        np.testing.assert_array_equal(back.x, d.x)
        np.testing.assert_array_equal(back.y, d.y)
    # A dataset given by files describes the same way.
    rc, out, err = run(locus_bin, "data", "describe", "--x", tmp_path / "x.csv", "--y",
                       tmp_path / "y.csv", "--json")
    assert rc == 0, err
    assert json.loads(out)["label_counts"] == {"0": 59, "1": 71, "2": 48}


@pytest.fixture
def files(tmp_path):
    x = np.random.default_rng(0).normal(size=(5, 3))
    locus.write_npy(str(tmp_path / "x.npy"), x)
    locus.write_npy(str(tmp_path / "y.npy"), np.ones((5, 1)))
    m = locus.Mlp([3, 4, 1])
    locus.save_model(str(tmp_path / "m.safetensors"), m, m.init_parameters(seed=1))
    for name, value in (("xnan", np.nan), ("xinf", np.inf)):
        bad = x.copy()
        bad[2, 1] = value
        locus.write_npy(str(tmp_path / f"{name}.npy"), bad)
    ynan = np.ones((5, 1))
    ynan[3, 0] = np.nan
    locus.write_npy(str(tmp_path / "ynan.npy"), ynan)
    locus.write_npy(str(tmp_path / "y4.npy"), np.ones((4, 1)))
    locus.write_npy(str(tmp_path / "short.npy"), np.zeros(3))
    m5 = locus.Mlp([3, 5, 1])
    locus.save_model(str(tmp_path / "m5.safetensors"), m5, m5.init_parameters(seed=1))
    raw = (tmp_path / "x.npy").read_bytes()
    (tmp_path / "trunc.npy").write_bytes(raw[:-7])
    (tmp_path / "badhdr.npy").write_bytes(raw[:8] + b"\xff\xff" + raw[10:])
    (tmp_path / "notnpy.npy").write_bytes(b"hello world, not an array")
    st = (tmp_path / "m.safetensors").read_bytes()
    (tmp_path / "trunc.safetensors").write_bytes(st[:-9])
    (tmp_path / "hdr.safetensors").write_bytes(b"\xff" * 8 + st[8:])
    (tmp_path / "json.safetensors").write_bytes(st[:8] + b"{" * 8 + st[16:])
    (tmp_path / "bad.csv").write_text("1,2,3\n4,five,6\n")
    return tmp_path


# (case, arguments of `eval` (after --arch 3,4,1 unless they give one), words the message must contain). File names are
# relative to the fixture's directory; the message must name the input (file or option).
BAD_INPUT = [
    ("mismatched rows", ["--x", "x.npy", "--y", "y4.npy"], ["y4.npy", "rows"]),
    ("nan in x", ["--x", "xnan.npy", "--y", "y.npy"], ["xnan.npy", "non-finite", "nan"]),
    ("inf in x", ["--x", "xinf.npy", "--y", "y.npy"], ["xinf.npy", "non-finite", "inf"]),
    ("nan in y", ["--x", "x.npy", "--y", "ynan.npy"], ["ynan.npy", "non-finite"]),
    ("input width", ["--x", "x.npy", "--y", "y.npy", "--arch", "4,4,1"], ["dimension", "4"]),
    ("unknown activation", ["--x", "x.npy", "--y", "y.npy", "--activation", "swish"],
     ["--activation", "swish"]),
    ("unknown loss", ["--x", "x.npy", "--y", "y.npy", "--loss", "hinge"], ["--loss", "hinge"]),
    ("unknown dataset", ["--dataset", "mnist"], ["--dataset", "mnist"]),
    ("bad arch", ["--dataset", "iris", "--arch", "4,x,3"], ["--arch", "'x'"]),
    ("param length", ["--x", "x.npy", "--y", "y.npy", "--params", "short.npy"],
     ["short.npy", "length 3", "21 parameters"]),
    ("param architecture", ["--x", "x.npy", "--y", "y.npy", "--params", "m5.safetensors"],
     ["m5.safetensors", "[3,5,1]"]),
    ("truncated npy", ["--x", "trunc.npy", "--y", "y.npy"], ["trunc.npy", "truncated"]),
    ("corrupt npy header", ["--x", "badhdr.npy", "--y", "y.npy"], ["badhdr.npy"]),
    ("not an npy", ["--x", "notnpy.npy", "--y", "y.npy"], ["notnpy.npy"]),
    ("bad csv cell", ["--x", "bad.csv", "--y", "y.npy"], ["bad.csv", "five"]),
    ("truncated safetensors", ["--x", "x.npy", "--y", "y.npy", "--params", "trunc.safetensors"],
     ["trunc.safetensors"]),
    ("corrupt safetensors length",
     ["--x", "x.npy", "--y", "y.npy", "--params", "hdr.safetensors"], ["hdr.safetensors"]),
    ("corrupt safetensors json",
     ["--x", "x.npy", "--y", "y.npy", "--params", "json.safetensors"], ["json.safetensors"]),
    ("missing data file", ["--x", "nothere.npy", "--y", "y.npy"], ["nothere.npy", "no such file"]),
    ("missing params file", ["--x", "x.npy", "--y", "y.npy", "--params", "none.safetensors"],
     ["none.safetensors", "no such file"]),
    ("x without y", ["--x", "x.npy"], ["--x", "--y"]),
    ("gaussian without n", ["--dataset", "gaussian"], ["--n-points"]),
]


@pytest.mark.parametrize("case,args,words", BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_input_exits_2(locus_bin, files, case, args, words):
    before = os.listdir(files)
    arch = [] if "--arch" in args else ["--arch", "3,4,1"]
    rc, out, err = run(locus_bin, "eval", *arch, *args, "--json", cwd=files)
    assert rc == 2, (out, err)
    assert out == ""  # no partial JSON
    assert err.startswith("locus: error: ") and err.count("\n") == 1, err
    for w in words:
        assert w in err, (w, err)
    assert leftovers(files, before) == []


@pytest.mark.parametrize("out_x,out_y,words", [
    ("nodir/x.npy", "y_out.npy", ["nodir/x.npy", "does not exist"]),
    ("x_out.npy", "nodir/y.npy", ["nodir/y.npy", "does not exist"]),
    (".", "y_out.npy", ["--out-x", "'.'"]),
    ("x_out.txt", "y_out.npy", ["--out-x", "x_out.txt", ".npy or .csv"]),
    ("same.npy", "same.npy", ["same.npy", "same file"]),
])
def test_unwritable_output_exits_2_before_work(locus_bin, files, out_x, out_y, words):
    before = os.listdir(files)
    rc, _, err = run(locus_bin, "data", "convert", "--dataset", "digits", "--out-x", out_x,
                     "--out-y", out_y, cwd=files)
    assert rc == 2, err
    for w in words:
        assert w in err, (w, err)
    assert leftovers(files, before) == []


def test_bad_data_leaves_no_output(locus_bin, files):
    before = os.listdir(files)
    rc, _, err = run(locus_bin, "data", "convert", "--x", "xnan.npy", "--y", "y.npy",
                     "--out-x", "ox.npy", "--out-y", "oy.npy", cwd=files)
    assert rc == 2 and "xnan.npy" in err
    assert leftovers(files, before) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only directories")
def test_read_only_directory(locus_bin, files):
    ro = files / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        rc, _, err = run(locus_bin, "data", "convert", "--dataset", "iris", "--out-x",
                         ro / "x.npy", "--out-y", ro / "y.npy")
        assert rc == 2 and "not writable" in err
        assert os.listdir(ro) == []
    finally:
        ro.chmod(0o700)


# ---- one options table per verb: flags, --json context and Python keywords -------------------

def long_flags(locus_bin, *verb):
    """The long options listed by `locus VERB --help`, as snake_case names."""
    rc, out, err = run(locus_bin, *verb, "--help")
    assert rc == 0, err
    return {f.replace("-", "_") for f in re.findall(r"^\s+(?:-\w, )?--([a-z][a-z0-9-]*)", out, re.M)}


def keys(j):
    """Every key of a JSON document, at any depth."""
    if isinstance(j, dict):
        return set(j) | set().union(*(keys(v) for v in j.values()))
    if isinstance(j, list):
        return set().union(*(keys(v) for v in j)) if j else set()
    return set()


def as_json_value(v):
    """A Python option value as the JSON context writes it (io::json_number's rule)."""
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


# Flags that are actions, not options; and flags whose values the context holds resolved
# under other keys (train's --opt name=value sets method_options[name]).
ACTIONS = {"help", "list_options"}
RESOLVED_ELSEWHERE = {"opt", "polish_opt"}


@pytest.fixture(scope="module")
def zero_loss_point(locus_bin, tmp_path_factory):
    """A Cooper network that fits 8 iris points exactly: a point of the manifold of minima."""
    d = tmp_path_factory.mktemp("verbs")
    rc, out, err = run(locus_bin, "construct", "cooper", "--dataset", "iris", "--n-points", "8",
                       "--save", d / "m.safetensors", "--json")
    assert rc == 0, err
    return d, json.loads(out)


def verb_runs(locus_bin, d):
    data = ["--dataset", "iris", "--n-points", "8"]
    model = ["--params", d / "m.safetensors"]
    return {
        "analyze": ["analyze", *model, *data, "--json"],
        "walk": ["walk", *model, *data, "--steps", "2", "--json"],
        "train": ["train", *model, *data, "--method", "lm", "--opt", "max_iterations=7", "--save",
                  d / "t.safetensors", "--json"],
        "study": ["study", "run", "--study", "cooper", "--out", d / "study", "--seed", "3",
                  "--set", "runs=p=2,h=8,d=6", "--set", "walk_run=0", "--set", "walk_steps=5", "--set", "walk_min_length=0",
                  "--strict", "--threads", "1", "--json"],
    }


def test_analyze_reports_the_lanczos_work(locus_bin, zero_loss_point):
    """Lanczos and SLQ report the Hessian-vector products they used (and Lanczos its restarts
    and largest residual) in the text report and in the JSON, the same numbers."""
    d, _ = zero_loss_point
    base = ["analyze", "--params", d / "m.safetensors", "--dataset", "iris", "--n-points", "8"]
    rc, out, err = run(locus_bin, *base, "--spectrum", "lanczos", "--k", "3")
    assert rc == 0, err
    line = re.search(r"Lanczos +: (\d+) Hessian-vector products, (\d+) restarts", out)
    assert line, out
    rc, out, err = run(locus_bin, *base, "--spectrum", "lanczos", "--k", "3", "--json")
    assert rc == 0, err
    h = json.loads(out)["hessian"]
    assert (h["applications"], h["restarts"]) == (int(line[1]), int(line[2]))
    assert h["applications"] >= 6 and h["converged"]
    rc, out, err = run(locus_bin, *base, "--spectrum", "slq", "--json")
    assert rc == 0, err
    h = json.loads(out)["hessian"]
    assert h["applications"] == 16 * min(60, len(h["slq_nodes"][0])) and "restarts" not in h


def test_every_accepted_option_is_in_the_json_context(locus_bin, zero_loss_point):
    d, construct = zero_loss_point
    contexts = {"construct": construct["context"]["options"]}
    for verb, args in verb_runs(locus_bin, d).items():
        rc, out, err = run(locus_bin, *args)
        assert rc == 0, (verb, err)
        j = json.loads(out)
        assert list(j)[0] == "context"
        assert verb in ("analyze", "study") or j["status"]  # they report classifications/claims
        contexts[verb] = j["context"]["options"]
    subcommand = {"construct": ["cooper"], "study": ["run"]}
    for verb, context in contexts.items():
        flags = long_flags(locus_bin, verb, *subcommand.get(verb, []))
        missing = flags - ACTIONS - RESOLVED_ELSEWHERE - keys(context)
        assert not missing, (verb, missing)
    # train: --opt values appear resolved among the method's options, as do the defaults.
    assert contexts["train"]["method_options"]["max_iterations"] == 7
    assert {"threads", "trace", "save"} <= keys(contexts["train"])
    assert {"lanczos_end", "lanczos_tolerance"} <= set(contexts["analyze"]["analyze"])
    # study: the study's own options resolved (--seed among them), the interface's beside them.
    assert contexts["study"]["seed"] == 3 and contexts["study"]["walk_steps"] == 5
    assert contexts["study"]["interface"]["strict"] is True
    assert contexts["study"]["interface"]["out"] == str(d / "study")


def test_python_keywords_and_defaults_come_from_the_same_tables(locus_bin, zero_loss_point):
    d, construct = zero_loss_point
    contexts = {}
    for verb, args in verb_runs(locus_bin, d).items():
        rc, out, err = run(locus_bin, *args)
        assert rc == 0, (verb, err)
        contexts[verb] = json.loads(out)["context"]["options"]
    given = {"walk": {"steps"}, "train": {"max_iterations"}}
    pairs = [("analyze", contexts["analyze"]["analyze"], locus.options_table("analyze")),
             ("walk", contexts["walk"]["walk"], locus.options_table("walk")),
             ("cooper", construct["context"]["options"]["cooper"], locus.options_table("cooper")),
             ("train", contexts["train"]["method_options"], locus.options_table("lm"))]
    for name, cli, py in pairs:
        assert list(py) == list(cli), name  # the same rows, in the same order
        for k, v in py.items():
            if k not in given.get(name, set()):
                assert as_json_value(v) == cli[k], (name, k, v, cli[k])
    # Python accepts every row by keyword; passing the defaults changes nothing.
    x, y = locus.load_dataset("iris", n_points=8)
    c = locus.construct_cooper(x, y, **locus.options_table("cooper"))
    assert c.to_json()["status"] == construct["status"]
    np.testing.assert_array_equal(c.params, locus.construct_cooper(x, y).params)
    a = locus.analyze(c.model, c.params, x, y, **locus.options_table("analyze"))
    assert a["classification"] == locus.analyze(c.model, c.params, x, y)["classification"]
    w = locus.walk(c.model, c.params, x, y, **{**locus.options_table("walk"), "steps": 2})
    assert w.to_json()["status"] == "completed" and len(w.to_json()["steps"]) == 3


def test_validation_messages_name_the_flag_or_keyword(locus_bin, zero_loss_point):
    d, _ = zero_loss_point
    runs = verb_runs(locus_bin, d)
    for verb, extra, word in (("analyze", ["--k", "0"], "--k"),
                              ("analyze", ["--spectrum", "qr"], "--spectrum"),
                              ("walk", ["--step-size", "-1"], "--step-size"),
                              ("walk", ["--steps", "many"], "--steps"),
                              ("train", ["--opt", "learning_rate=x"], "--opt")):
        rc, out, err = run(locus_bin, *runs[verb], *extra)
        assert rc == 2 and word in err and out == "", (verb, extra, err)
    rc, _, err = run(locus_bin, "construct", "cooper", "--dataset", "iris", "--n-points", "8",
                     "--save", d / "c.safetensors", "--kink-fraction", "2")
    assert rc == 2 and "--kink-fraction" in err, err
    x, y = locus.load_dataset("iris", n_points=8)
    c = locus.construct_cooper(x, y)
    with pytest.raises(ValueError, match=r"^k\b"):
        locus.analyze(c.model, c.params, x, y, k=0)
    with pytest.raises(ValueError, match=r"^step_size= "):
        locus.walk(c.model, c.params, x, y, step_size=-1.0)
    with pytest.raises(ValueError, match=r"^kink_fraction= "):
        locus.construct_cooper(x, y, kink_fraction=2.0)
    with pytest.raises(ValueError, match="bogus"):
        locus.walk(c.model, c.params, x, y, bogus=1)


def test_list_options_prints_the_table_without_required_inputs(locus_bin):
    for verb in (["analyze"], ["walk"], ["construct", "cooper"]):
        rc, out, err = run(locus_bin, *verb, "--list-options", "--seed", "3")
        assert rc == 0, (verb, err)
        assert re.search(r"^  --seed\s+3\s", out, re.M), out
