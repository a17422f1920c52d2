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
import time

import pytest

# Runs shorter than the progress interval print nothing: the tests use a short interval (on a
# terminal the line is also refreshed every min(1 s, interval)), so that every command below,
# each taking well over 0.05 s, shows its line.
FAST = ["--progress-interval", "0.02"]


def run_on_terminal(argv, timeout=120):
    """(exit code, stdout, what the pseudo-terminal on stderr received)."""
    master, slave = pty.openpty()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
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
    out = p.stdout.read()
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
                  "--method", "gd", "--opt", "max_iterations=4000", "--save",
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
    assert re.search(r"locus train: gd it \d+/4000  loss \d\.\d{3}e[+-]\d+  \|g\| \d", tty), tty


def test_plain_lines_when_not_a_terminal(locus_bin, point):
    argv = commands(locus_bin, point)["train"]
    p = subprocess.run(argv[:1] + ["--progress-interval", "0.05"] + argv[1:],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    lines = [l for l in p.stderr.splitlines() if l.startswith("locus train: gd it ")]
    assert lines, p.stderr  # the run takes several intervals
    assert "\r" not in p.stderr and "\x1b" not in p.stderr
    json.loads(p.stdout)
    # With the default interval (5 s) a run shorter than that leaves a log without lines.
    start = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True)
    assert p.returncode == 0
    if time.monotonic() - start < 4.5:
        assert p.stderr == "", p.stderr
