"""The progress line of long commands (apps/locus/cli/progress.hpp): on a terminal (a
pseudo-terminal here) every long verb rewrites one line in place on stderr; with --quiet nothing
is written to stderr; when stderr is not a terminal a plain line appears every
--progress-interval seconds; standard output (the JSON) is the same with and without progress."""

import json
import os
import pty
import re
import select
import subprocess
import threading
import time

import pytest

# The commands here run long on purpose (a progress line needs time to draw): 40000 gradient
# steps, dense analyses. Sanitized (LOCUS_SANITIZED, scripts/sanitize.sh) they take over ten
# minutes together, so they are the native build's tests only.
pytestmark = pytest.mark.skipif(bool(os.environ.get("LOCUS_SANITIZED")),
                                reason="long-running by design; run by the native build")

# Runs shorter than the progress interval print nothing: the tests use a short interval (on a
# terminal the line is also refreshed every min(1 s, interval)), so that every command below,
# each taking well over 0.05 s, shows its line.
FAST = ["--progress-interval", "0.02"]


def run_on_terminal(argv, timeout=120):
    """(exit code, stdout, what the pseudo-terminal on stderr received)."""
    master, slave = pty.openpty()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    # stdout is drained beside the terminal: a JSON larger than the pipe's buffer would
    # otherwise block the command while this reads the terminal.
    stdout = []
    reader = threading.Thread(target=lambda: stdout.append(p.stdout.read()))
    reader.start()
    received = b""
    while True:
        ready, _, _ = select.select([master], [], [], timeout)
        if not ready:
            p.kill()
            raise AssertionError("no output and no exit within the timeout")
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the child closed the terminal (EIO on Linux)
            break
        if not chunk:
            break
        received += chunk
    reader.join(timeout)
    out = stdout[0]
    p.wait(timeout)
    os.close(master)
    return p.returncode, out.decode(), received.decode(errors="replace")


@pytest.fixture(scope="module")
def point(locus_bin, tmp_path_factory):
    """A zero-loss Cooper network on 8 iris points (for walk) and a wider one (for analyze)."""
    d = tmp_path_factory.mktemp("progress")
    p = subprocess.run([locus_bin, "construct", "cooper", "--dataset", "iris", "--n-points", "8",
                        "--save", d / "m.safetensors"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    # A 4-100-3 network (803 parameters) on all of iris, for a dense analysis that takes a while.
    p = subprocess.run([locus_bin, "train", "--arch", "4,100,3", "--dataset", "iris", "--method",
                        "gd", "--opt", "max_iterations=1", "--save", d / "big.safetensors"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return d


def commands(locus_bin, d):
    data = ["--dataset", "iris", "--n-points", "8"]
    model = ["--params", str(d / "m.safetensors")]
    return {
        "train": [locus_bin, "train", "--arch", "4,30,3", "--dataset", "iris", "--n-points", "60",
                  "--method", "gd", "--opt", "max_iterations=40000", "--save",
                  str(d / "t.safetensors"), "--json"],
        "analyze": [locus_bin, "analyze", "--params", str(d / "big.safetensors"), "--dataset",
                    "iris", "--json"],
        "walk": [locus_bin, "walk", *model, *data, "--steps", "20", "--dimension", "--json"],
        # A run long enough (~0.7 s) for the terminal line, drawn at most every 0.1 s, to appear.
        "study cooper": [locus_bin, "study", "run", "--study", "cooper", "--out", str(d / "s"),
                         "--set", "runs=p=4,h=40,d=30", "--set", "walk_run=0", "--threads", "1",
                         "--json"],
    }


@pytest.mark.parametrize("verb", ["train", "analyze", "walk", "study cooper"])
def test_progress_on_a_terminal_and_quiet(locus_bin, point, verb):
    argv = commands(locus_bin, point)[verb]
    rc, out, tty = run_on_terminal(argv[:1] + FAST + argv[1:])
    assert rc == 0, tty
    # The line is rewritten in place: carriage return, erase line, "locus <verb>: ...  <t> s".
    assert re.search(r"\r\x1b\[Klocus " + verb + r":.* \d+\.\d s", tty), repr(tty[:500])
    json.loads(out)  # stdout is one JSON object, untouched by the progress line
    rc, quiet_out, quiet_tty = run_on_terminal(argv[:1] + FAST + ["--quiet"] + argv[1:])
    assert rc == 0 and quiet_tty == "", repr(quiet_tty[:500])
    # --quiet also works after the verb's own options.
    rc, _, after = run_on_terminal(argv + ["--quiet"] + FAST)
    assert rc == 0 and after == "", repr(after[:500])
    # The same result with and without progress (apart from times and the time stamp).
    a, b = json.loads(out), json.loads(quiet_out)
    for key in ("status", "loss_final", "classification", "claims", "arc_length"):
        assert a.get(key) == b.get(key)


def test_train_progress_shows_iterations_loss_and_gradient(locus_bin, point):
    rc, _, tty = run_on_terminal(commands(locus_bin, point)["train"][:1] + FAST +
                                 commands(locus_bin, point)["train"][1:])
    assert rc == 0
    assert re.search(r"locus train: gd it \d+/40000  loss \d\.\d{3}e[+-]\d+  \|g\| \d", tty), tty


def test_plain_lines_when_not_a_terminal(locus_bin, point):
    argv = commands(locus_bin, point)["train"]
    p = subprocess.run(argv[:1] + ["--progress-interval", "0.05"] + argv[1:],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    lines = [l for l in p.stderr.splitlines() if l.startswith("locus train: gd it ")]
    assert lines, p.stderr  # 40000 GD iterations take 0.3-0.7 s: several 0.05 s intervals
    assert "\r" not in p.stderr and "\x1b" not in p.stderr
    json.loads(p.stdout)
    # With the default interval (5 s) a run shorter than that leaves a log without lines.
    start = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True)
    assert p.returncode == 0
    if time.monotonic() - start < 4.5:
        assert p.stderr == "", p.stderr


# ---- path, dropout, symmetry and eval verbs -----------------------------------------------------
# Each command below runs for a few tenths of a second in its stage, so that its line, drawn
# every 0.02 s, shows the stage; `stages` are the stage names any of which may be on screen.

@pytest.fixture(scope="module")
def ends(locus_bin, tmp_path_factory):
    """Two networks [4, 64, 3] (random, seeds 1 and 2) for the path verbs, two mean-field
    networks [3, 16, 1] trained on a teacher for the dropout verbs, a teacher [2, 4, 1] for the
    symmetry verbs."""
    import numpy as np

    import locus
    d = tmp_path_factory.mktemp("progress_ends")
    m = locus.Mlp([4, 64, 3], activation="tanh")
    for seed in (1, 2):
        locus.save_model(str(d / f"p{seed}.safetensors"), m,
                         m.init_parameters(scheme="normal", seed=seed))
    for seed in (1, 2):
        p = subprocess.run([locus_bin, "dropout", "train", *MEAN_FIELD, *TEACHER, "--steps", "300",
                            "--seed", str(seed), "--init-seed", str(seed), "--save",
                            d / f"n{seed}.safetensors", "--quiet"], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
    t = locus.Mlp([2, 4, 1], activation="sigmoid", bias=[False, False])
    w = np.array([[0.6, 0.5], [-0.5, 0.5], [-0.2, -0.6], [0.1, -0.6]])
    theta = np.concatenate([w.ravel(), np.ones(4)])
    locus.save_model(str(d / "t.safetensors"), t, theta)
    x = np.random.default_rng(0).standard_normal((30, 2))
    np.save(d / "x.npy", x)
    np.save(d / "y.npy", t.predict(theta, x))
    # 10^5 points for the split, whose two dense spectra must last a few 0.02 s draw periods.
    x = np.random.default_rng(0).standard_normal((100000, 2))
    np.save(d / "x_split.npy", x)
    np.save(d / "y_split.npy", t.predict(theta, x))
    return d


MEAN_FIELD = ["--arch", "3,16,1", "--activation", "tanh", "--mean-field"]
TEACHER = ["--dataset", "teacher", "--teacher-arch", "3,2,1", "--teacher-activation", "tanh",
           "--n-points", "200", "--data-seed", "4"]


def verb_commands(locus_bin, d):
    ab = ["--params", str(d / "p1.safetensors"), "--params-end", str(d / "p2.safetensors"),
          "--dataset", "iris"]
    mf = ["--params", str(d / "n1.safetensors")]
    teacher = ["--params", str(d / "t.safetensors")]
    return {  # verb: (argv, stages that may be drawn)
        "path profile": (["path", "profile", *ab, "--points", "20000"], ["profile grid"]),
        # Each run must outlast a few of FAST's 0.02 s draw periods: with faster derivatives,
        # 2 rounds of 50 fit iterations, 200 NEB iterations and 20000 SGD steps sometimes ended
        # before their stage was drawn.
        "path fit": (["path", "fit", *ab, "--max-rounds", "2", "--iterations-per-round", "500"],
                     ["curve fit"]),
        "path neb": (["path", "neb", *ab, "--images", "5", "--max-iterations", "2000",
                      "--refine-saddle=false"], ["neb", "profile grid"]),
        "path align": (["path", "align", *ab, "--points", "10000"],
                       ["weight matching", "profile grid"]),
        "path slice": (["path", "slice", *ab[:2], "--dataset", "iris", "--points", "25",
                        "--profile", "--solver", "lbfgs", "--max-iterations", "300"], ["slice", "profile slice"]),
        "path dropout": (["path", "dropout", *mf, "--params-end", str(d / "n2.safetensors"),
                          *TEACHER, "--check-points", "4000"],
                         ["segment checks", "profile grid"]),
        "dropout train": (["dropout", "train", *MEAN_FIELD, *TEACHER, "--steps", "100000",
                           "--save", str(d / "trained.safetensors")], ["SGD"]),
        "dropout evaluate": (["dropout", "evaluate", *mf, *TEACHER, "--samples", "20000"],
                             ["dropout draws"]),
        "symmetry split": (["symmetry", "split", *teacher, "--layer", "1", "--neuron", "0",
                            "--fractions", "0.5,0.5", "--x", str(d / "x_split.npy"), "--y",
                            str(d / "y_split.npy")], ["dense Hessian", "eigensolve"]),
        "symmetry swap-path": (["symmetry", "swap-path", *teacher, "--swap", "0,1",
                                "--samples", "20000"], ["swap segments", "samples"]),
        "symmetry enumerate": (["symmetry", "enumerate", *teacher, "--m", "6"],
                               ["pieces", "connected components"]),
        "eval": (["eval", "--params", str(d / "p1.safetensors"), "--dataset", "iris",
                  "--check-derivatives", "--fd-coordinates", "259"],
                 ["finite differences", "dense Hessian", "2c J^T r"]),
    }


@pytest.mark.parametrize("verb", ["path profile", "path fit", "path neb", "path align",
                                  "path slice", "path dropout", "dropout train",
                                  "dropout evaluate", "symmetry split", "symmetry swap-path",
                                  "symmetry enumerate", "eval"])
def test_verb_progress_quiet_and_json(locus_bin, ends, verb):
    argv, stages = verb_commands(locus_bin, ends)[verb]
    rc, out, tty = run_on_terminal([locus_bin, *FAST, *argv, "--json"])
    assert rc in (0, 1), tty  # 1: a result that fails its own check still prints its JSON
    # The line, rewritten in place, names one of the verb's stages.
    pattern = r"\r\x1b\[Klocus " + verb + ": (" + "|".join(map(re.escape, stages)) + r")"
    assert re.search(pattern, tty), repr(tty[-800:])
    rc_quiet, quiet_out, quiet_tty = run_on_terminal([locus_bin, *argv, "--json", "--quiet"])
    assert rc_quiet == rc
    # Silent with --quiet (a failed check's one error line aside).
    assert "\x1b" not in quiet_tty and "locus " + verb + ":" not in quiet_tty, repr(quiet_tty)
    if rc == 0:
        assert quiet_tty == ""
    # The JSON is the same with and without progress, but for the context (time stamp) and the
    # wall-clock times.
    assert without_times(json.loads(out)) == without_times(json.loads(quiet_out))


def without_times(doc):
    """doc without its context block and without any "seconds" entry, at any depth."""
    if isinstance(doc, dict):
        return {k: without_times(v) for k, v in doc.items()
                if k != "context" and "seconds" not in k}
    if isinstance(doc, list):
        return [without_times(v) for v in doc]
    return doc
