"""The contract of `locus basins`: --json is one object with the context block first, one record
per run (width, seed, end_state, loss, gradient_max_norm, hessian inertia) and a summary per
width; bad widths, layer or seeds exit 2 naming the flag; `locus basins descent` reaches zero
loss at width N without the loss increasing; under `mpirun -np 2` the result file equals the
serial run's apart from timings (run by ctest's basins_mpi when locus is built with MPI)."""

import json
import os
import subprocess

import pytest


def run(locus_bin, *args, launcher=()):
    p = subprocess.run([*launcher, locus_bin, *map(str, args)], capture_output=True, text=True,
                       timeout=300)
    return p.returncode, p.stdout, p.stderr


SMALL = ["--widths", "1,8", "--seeds", "2", "--adam-iterations", "300"]


def test_json_records_every_run_and_the_transition_table(locus_bin):
    code, out, err = run(locus_bin, "basins", *SMALL, "--json")
    assert code == 0, err
    j = json.loads(out)
    assert list(j)[0] == "context"
    assert j["context"]["options"]["basins"]["widths"] == "1,8"
    assert len(j["runs"]) == 4
    for r in j["runs"]:
        assert set(["width", "seed", "end_state", "loss", "gradient_max_norm"]) <= set(r)
        assert set(r["hessian"]) >= {"min_eigenvalue", "positive", "zero", "negative",
                                     "zero_tolerance"}
    assert [w["width"] for w in j["summary"]] == [1, 8]
    wide = j["summary"][1]
    # Width 8 = N: no strict minimum can be certified there.
    assert wide["strict_minimum"] == 0 and wide["runs"] == 2


@pytest.mark.parametrize("args, flag", [
    (["--widths", "8,2"], "--widths"),
    (["--widths", "0,2"], "--widths"),
    (["--arch", "1,3,1", "--layer", "2"], "--layer"),
    (["--seeds", "0"], "--seeds"),
])
def test_bad_input_exits_2_naming_the_flag(locus_bin, args, flag):
    code, out, err = run(locus_bin, "basins", *args)
    assert code == 2, (out, err)
    assert flag in err


def test_descent_at_width_n_reaches_zero_without_increase(locus_bin, tmp_path):
    code, out, err = run(locus_bin, "basins", "descent", "--arch", "1,8,1", "--activation", "tanh",
                         "--start-seed", "4", "--json", "--out", tmp_path)
    assert code == 0, err
    j = json.loads(out)
    assert j["status"] == "reached_zero"
    assert j["loss_end"] <= 1e-20
    assert j["max_relative_increase"] <= 1e-12
    assert len(j["vertices"]) == 4
    assert (tmp_path / "descent.json").exists() and (tmp_path / "descent_profile.csv").exists()


def test_descent_below_n_exits_1(locus_bin):
    code, out, err = run(locus_bin, "basins", "descent", "--arch", "1,3,1", "--activation", "tanh")
    assert code == 1
    assert "too_narrow" in out


def strip_timings(path):
    """The result file without what legitimately differs between two runs: wall-clock seconds,
    the time stamp, the thread count and the output directory."""
    j = json.loads(path.read_text())
    for key in ("utc_time", "threads"):
        j["context"].pop(key)
    j["context"]["options"].pop("out")
    j.pop("seconds")
    for r in j["runs"]:
        r.pop("seconds")
    return j


def test_mpi_two_ranks_write_the_serial_result(locus_bin, tmp_path):
    mpiexec = os.environ.get("LOCUS_MPIEXEC")
    if not mpiexec:
        pytest.skip("locus built without MPI (LOCUS_MPIEXEC unset)")
    serial, ranks = tmp_path / "serial", tmp_path / "mpi"
    serial.mkdir()
    ranks.mkdir()
    args = ["basins", "--widths", "1,2,8", "--seeds", "3", "--adam-iterations", "500"]
    code, _, err = run(locus_bin, *args, "--out", serial)
    assert code == 0, err
    launcher = [mpiexec, "--allow-run-as-root", "--oversubscribe", "-np", "2"]
    code, _, err = run(locus_bin, *args, "--out", ranks, launcher=launcher)
    assert code == 0, err
    a, b = strip_timings(serial / "basins.json"), strip_timings(ranks / "basins.json")
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
