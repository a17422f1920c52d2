"""bench/compare_torch.py's core probe, read off a stand-in benchmark binary: what it parses, when it
calls the cores even, and when it says they moved. (The benchmarks themselves run outside the test
suite: bench/README.md.)"""

import importlib.util
import json
import os
import pathlib
import stat

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compare():
    spec = importlib.util.spec_from_file_location("compare_torch",
                                                  ROOT / "bench" / "compare_torch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def benchmark_json(real_time, unit="us", error=None):
    entry = {"name": "BM_X/real_time", "real_time": real_time, "time_unit": unit}
    if error:
        entry.update(error_occurred=True, error_message=error)
    return json.dumps({"context": {}, "benchmarks": [entry]})


def test_single_real_time_converts_units_and_rejects_what_is_not_one_result(compare):
    assert compare.single_real_time(benchmark_json(61.5, "us")) == pytest.approx(61.5e-6)
    assert compare.single_real_time(benchmark_json(127.0, "ns")) == pytest.approx(127e-9)
    assert compare.single_real_time(benchmark_json(2.0, "ms")) == pytest.approx(2e-3)
    # A benchmark that stopped with an error (the round trip on one CPU), no benchmark, no JSON.
    assert compare.single_real_time(benchmark_json(1.0, error="needs two CPUs")) is None
    assert compare.single_real_time(json.dumps({"benchmarks": []})) is None
    assert compare.single_real_time("Segmentation fault") is None
    assert compare.single_real_time("") is None
    assert compare.single_real_time(json.dumps([1, 2])) is None


def probe(alone, together, trip=None):
    return {"alone_us": alone, "together_us": together, "cpus": list(range(len(alone))),
            "slowdown": max(together) / min(alone), "spread": max(alone) / min(alone),
            "round_trip_ns": trip}


def test_even_uses_the_one_threshold_for_slowdown_and_spread(compare):
    limit = compare.UNEVEN_CORES
    assert compare.even(probe([60.0, 60.0], [60.0, 60.0 * limit]))
    assert not compare.even(probe([60.0, 60.0], [60.0, 60.0 * limit * 1.01]))  # contended
    assert not compare.even(probe([60.0, 60.0 * limit * 1.01], [61.0, 61.0]))  # one vCPU slow
    assert not compare.even(None)


def test_round_trip_change_and_speed_drift_need_both_probes(compare):
    near, far = probe([60.0, 61.0], [61.0, 61.0], 120.0), probe([63.0, 63.0], [63.0, 64.0], 560.0)
    assert compare.round_trip_change({"before": near, "after": far}) == pytest.approx(560 / 120)
    assert compare.round_trip_change({"before": far, "after": near}) == pytest.approx(560 / 120)
    assert compare.round_trip_change({"before": near}) is None
    assert compare.round_trip_change({"before": near, "after": probe([60.0], [60.0])}) is None
    before, after, ratio = compare.speed_drift({"before": near, "after": far})
    assert (before, after) == (60.0, 63.0) and ratio == pytest.approx(1.05)
    assert compare.speed_drift({"after": far}) is None
    # Near and far placements differ by 3-5x: over the "(cores moved)" threshold; noise is not.
    assert 560 / 120 > compare.MOVED_CORES > 1.3


def fake_benchmark(tmp_path, probe_us, trip_ns):
    """An executable that answers the probe's two benchmark filters as locus_bench would, with the
    given times (trip_ns None: the round trip stops with an error, as on one CPU)."""
    trip = (benchmark_json(trip_ns, "ns") if trip_ns is not None else
            benchmark_json(0.0, "ns", error="needs two CPUs"))
    script = tmp_path / "locus_bench"
    script.write_text("#!/bin/sh\n"
                      "case \"$1\" in\n"
                      f"  *CacheLineRoundTrip*) echo '{trip}' ;;\n"
                      f"  *Hvp*) echo '{benchmark_json(probe_us)}' ;;\n"
                      "  *) exit 1 ;;\n"
                      "esac\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def test_core_probe_reads_every_cpu_and_the_round_trip(compare, tmp_path):
    binary = fake_benchmark(tmp_path, 59.5, 480.0)
    found = compare.core_probe(binary, rounds=2)
    cpus = sorted(os.sched_getaffinity(0))
    assert found["cpus"] == cpus
    assert found["alone_us"] == pytest.approx([59.5] * len(cpus))
    assert found["together_us"] == pytest.approx([59.5] * len(cpus))
    assert found["slowdown"] == pytest.approx(1.0) and found["spread"] == pytest.approx(1.0)
    assert found["round_trip_ns"] == pytest.approx(480.0)
    assert compare.even(found)
    # Even at once: the wait returns the first probe without sleeping.
    assert compare.wait_for_even_cores(binary, 30)["round_trip_ns"] == pytest.approx(480.0)


def test_core_probe_without_round_trip_or_binary(compare, tmp_path):
    assert compare.core_probe(fake_benchmark(tmp_path, 60.0, None))["round_trip_ns"] is None
    assert compare.core_probe(str(tmp_path / "missing")) is None
    failing = tmp_path / "failing"
    failing.write_text("#!/bin/sh\nexit 3\n")
    failing.chmod(0o755)
    assert compare.core_probe(str(failing)) is None
    assert compare.round_trip_ns(str(failing)) is None


def test_negative_wait_is_refused(compare, monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["compare_torch.py", "--wait-for-even-cores", "-5"])
    with pytest.raises(SystemExit) as stop:
        compare.main()
    assert stop.value.code == 2
    assert "--wait-for-even-cores: -5 seconds is negative" in capsys.readouterr().err


# Baselines need a machine whose name is a file name (no default that a run elsewhere would
# overwrite).
@pytest.mark.parametrize("argv, message", [
    (["--rounds", "0"], "--rounds: 0 rounds; at least 1"),
    (["--networks", "10,64,2"], "--networks: unknown network '[10,64,2]'"),
    (["--save-baselines"], "--save-baselines: name the machine with --machine NAME"),
    (["--save-baselines", "--machine", "../cpp-2core"], "--machine: '../cpp-2core' is not a file"),
])
def test_impossible_options_are_refused(compare, monkeypatch, capsys, argv, message):
    monkeypatch.setattr("sys.argv", ["compare_torch.py"] + argv)
    with pytest.raises(SystemExit) as stop:
        compare.main()
    assert stop.value.code == 2
    assert message in capsys.readouterr().err


def test_rounds_combine_into_medians_per_side_and_per_row(compare):
    def locus(seconds):
        return {"seconds": seconds, "foreign_cores": 0.01, "name": "BM_Loss_Hvp/x"}

    def torch(seconds, method):
        return {"median_seconds": seconds, "method": method, "foreign_cores": 0.02}

    key, other = ("hvp", "[10,64,1]", 256, 2), ("loss", "[10,64,1]", 256, 2)
    rounds = [({key: locus(30e-6), other: locus(10e-6)}, {key: torch(600e-6, "a")}),
              ({key: locus(20e-6)}, {key: torch(500e-6, "b"), other: torch(90e-6, "c")}),
              ({key: locus(25e-6)}, {key: torch(700e-6, "c")})]
    locus_rows, torch_rows, figures = compare.combine_rounds(rounds)
    # Each side the median of its rounds, its other fields from the round at that median.
    assert locus_rows[key]["seconds"] == 25e-6
    assert torch_rows[key]["median_seconds"] == 600e-6 and torch_rows[key]["method"] == "a"
    # A row some rounds did not time: the median of the rounds that did.
    assert locus_rows[other]["seconds"] == 10e-6 and torch_rows[other]["median_seconds"] == 90e-6
    assert figures[key] == [(30e-6, 600e-6), (20e-6, 500e-6), (25e-6, 700e-6)]
    assert figures[other] == [(10e-6, None), (None, 90e-6), (None, None)]
    # One round passes through unchanged, with no per-round figures.
    single = compare.combine_rounds(rounds[:1])
    assert single == (rounds[0][0], rounds[0][1], {})


def test_write_json_replaces_the_file_whole(compare, tmp_path):
    path = tmp_path / "m-torch.json"
    path.write_text('{"old": true}\n')
    compare.write_json(str(path), {"rows": [1, 2]})
    assert json.loads(path.read_text()) == {"rows": [1, 2]}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m-torch.json"]


def test_fma_peak_is_read_per_thread_count_and_absent_without_it(compare):
    def entry(name, real_time, flop):
        return {"run_name": name, "real_time": real_time, "time_unit": "us", "flop": flop}

    peak = "BM_FmaPeak/nthreads:{}/real_time"
    runs = {"benchmarks": [
        # Repetitions without aggregates: the rate at each thread count's median time.
        entry(peak.format(1), 500.0, 25e6), entry(peak.format(1), 400.0, 25e6),
        entry(peak.format(1), 250.0, 25e6),
        entry(peak.format(2), 500.0, 50e6),
        entry("BM_Dgemm_OpenBlas/m:1024/k:784/n:512/nthreads:2/real_time", 9000.0, 822e6)]}
    assert compare.fma_peaks(runs) == {1: pytest.approx(62.5), 2: pytest.approx(100.0)}
    # The dgemm rows do not read as a peak, nor the peak as a dgemm row.
    assert [r["name"] for r in compare.dgemm_results(runs)] == ["BM_Dgemm_OpenBlas"]
    assert compare.fma_peaks({"benchmarks": runs["benchmarks"][-1:]}) == {}


def test_dgemm_binary_defaults_to_the_locus_binarys_build(compare):
    # The x86-64-v3 build's locus rows against its own (AVX2) peak, not the native build's.
    assert compare.default_dgemm_bench("build-bench-avx2/bench/locus_bench") == \
        os.path.join("build-bench-avx2/bench", "locus_dgemm_bench")
    assert compare.default_dgemm_bench("locus_bench") == "locus_dgemm_bench"


def test_peak_bound_is_the_rows_flops_at_the_peak(compare):
    # 3.29 GFLOP against a 104 GFLOP/s peak: at least 31.6 ms, so
    # PyTorch's 49.1 ms allows at most 1.55x.
    row = {"gemm_flops": 3.29e9, "locus_seconds": 38.9e-3, "torch_seconds": 49.1e-3}
    floor, most = compare.peak_bound(row, 104.0)
    assert floor == pytest.approx(3.29 / 104.0)
    assert most == pytest.approx(49.1e-3 / (3.29 / 104.0))
    assert compare.peak_bound(dict(row, torch_seconds=None), 104.0)[1] is None


def test_missing_dgemm_binary_is_refused_before_anything_runs(compare, monkeypatch, capsys,
                                                               tmp_path):
    # Only locus_bench in its folder: the default dgemm binary beside it is missing.
    monkeypatch.setattr("sys.argv", ["compare_torch.py", "--locus-bench",
                                     str(tmp_path / "locus_bench")])
    with pytest.raises(SystemExit) as stop:
        compare.main()
    assert stop.value.code == 2
    assert f"--dgemm-bench: '{tmp_path / 'locus_dgemm_bench'}' not found" in capsys.readouterr().err
