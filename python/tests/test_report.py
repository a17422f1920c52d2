"""The main job end to end: `locus reproduce` (run from another working directory, finding its
options and the Python package at run time) writes report/index.html, headless Chromium renders
it with every figure loaded, every claim and table row carries a verdict (holds / fails /
skipped); study results are reproducible (same seed -> same JSON apart from the time stamp);
`--strict` exits 1 exactly when a claim fails."""

import csv
import json
import os
import re
import shutil
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


SMALL_RUNS = "p=2,h=8,d=6; p=2,h=10,d=6,activation=softplus,method=lm"


def run_study(locus_bin, out, *args):
    return subprocess.run([locus_bin, "study", "run", "--study", "cooper", "--out", str(out),
                           "--set", "runs=" + SMALL_RUNS, "--set", "walk_run=1",
                           "--set", "walk_steps=10", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def report(locus_bin, tmp_path_factory):
    if os.environ.get("LOCUS_SANITIZED"):
        # Every study at its default size takes over 10 minutes under ASan + UBSan; the sanitized
        # stage runs each study's reduced C++ test instead, and the native stage runs this.
        pytest.skip("the full `locus reproduce` is the native build's test (sanitized build)")
    cwd = tmp_path_factory.mktemp("elsewhere")  # not the source tree: nothing found from the cwd
    p = subprocess.run([os.path.abspath(locus_bin), "reproduce", "--out", "report", "--strict"],
                       capture_output=True, text=True, cwd=cwd)
    assert p.returncode == 0, p.stdout + p.stderr
    # One progress line per study on stderr (a plain line: stderr is a pipe here).
    assert re.search(r"locus reproduce: \[1/\d+\] cooper: \d+ holds, 0 fails", p.stderr), p.stderr
    assert "\r" not in p.stderr
    assert re.search(r"^holds +cooper/construction: ", p.stdout, re.M), p.stdout
    return cwd / "report"


def test_report_renders_with_every_figure(report, headless_chromium, tmp_path):
    index = report / "index.html"
    assert index.is_file()
    html = index.read_text()
    n_figures = html.count("<figure>")
    assert n_figures >= 3
    profile = tmp_path / "profile"
    shot = tmp_path / "report.png"
    headless_chromium(profile, f"--screenshot={shot}", "--window-size=1200,3000", index.as_uri())
    assert shot.is_file() and shot.stat().st_size > 10000  # a real rendering, not a blank page
    dom = headless_chromium(profile, "--dump-dom", index.as_uri(), text=True).stdout
    assert 'data-figures-loaded="true"' in dom, dom[:2000]
    assert f'data-figure-count="{n_figures}"' in dom


def test_every_claim_and_row_has_a_verdict(report):
    result = json.loads((report / "data" / "cooper" / "result.json").read_text())
    assert list(result)[0] == "context"
    claims = result["claims"]
    assert claims and all(c["verdict"] == "holds" and c["reason"] and c["evidence"]
                          for c in claims)
    with open(report / "data" / "cooper" / "runs.csv") as f:
        rows = list(csv.DictReader(f))
    assert rows and all(r["verdict"] == "holds" for r in rows)
    assert all(r["rank_J"] and r["max_abs_residual"] for r in rows)
    html = (report / "index.html").read_text()
    assert len(re.findall(r'class="(holds|fails|skipped)"', html)) >= len(rows) + len(claims)
    # The headline counts every study's claims.
    total = sum(len(json.loads(f.read_text())["claims"])
                for f in (report / "data").glob("*/result.json"))
    assert total > len(claims)  # the other studies are in the report too
    assert f"{total} claims on this run: {total} holds, 0 fails, 0 skipped" in html


def test_simsek_study_in_the_report(report):
    result = json.loads((report / "data" / "simsek" / "result.json").read_text())
    assert [c["verdict"] for c in result["claims"]] == ["holds"] * len(result["claims"])
    html = (report / "index.html").read_text()
    for figure in ("counts", "swap_profile", "split_spectrum", "students_loss", "student_vectors"):
        assert (report / "simsek" / f"{figure}.png").is_file(), figure


def test_report_styles_each_verdict(tmp_path):
    from locus import report as rep

    assert {rep.verdict(v) for v in rep.VERDICTS} == {
        '<span class="holds">holds</span>', '<span class="fails">fails</span>',
        '<span class="skipped">skipped</span>'}
    assert all(f".{v} " in rep.STYLE for v in rep.VERDICTS)
    with pytest.raises(ValueError):
        rep.verdict("does not hold")


def test_same_seed_same_json(locus_bin, tmp_path):
    opts = {"study": "cooper", "seed": 3, "runs": SMALL_RUNS, "walk_run": 1, "walk_steps": 10,
            "walk_min_length": 0.0}
    (tmp_path / "s.json").write_text(json.dumps(opts))
    docs = []
    for k in range(2):
        out = tmp_path / f"run{k}"
        p = subprocess.run([locus_bin, "study", "run", str(tmp_path / "s.json"), "--out", str(out)],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stdout + p.stderr
        doc = json.loads((out / "result.json").read_text())
        doc["context"].pop("utc_time")
        assert doc["context"]["options"]["interface"].pop("out") == str(out)  # differs by design
        docs.append(doc)
        assert (out / "runs.csv").read_text() == (tmp_path / "run0" / "runs.csv").read_text()
    assert docs[0] == docs[1]
    options = docs[0]["context"]["options"]
    assert options["seed"] == 3 and options["runs"] == SMALL_RUNS
    assert options["walk_steps"] == 10 and options["walk_run"] == 1
    assert options["hessian_max_params"] == 2500  # defaults resolved into the context


def test_strict_exits_1_when_a_claim_fails(locus_bin, tmp_path):
    p = run_study(locus_bin, tmp_path / "ok", "--strict")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "8 holds, 0 fails, 0 skipped" in p.stdout
    # No walk of 10 steps reaches length 1e6: the walk claim fails, is reported, --strict exits 1.
    p = run_study(locus_bin, tmp_path / "fail", "--set", "walk_min_length=1e6", "--strict")
    assert p.returncode == 1, p.stdout + p.stderr
    assert re.search(r"^fails +cooper/walk: ", p.stdout, re.M), p.stdout
    assert "7 holds, 1 fails, 0 skipped" in p.stdout and "--strict" in p.stderr
    doc = json.loads((tmp_path / "fail" / "result.json").read_text())
    assert [c["id"] for c in doc["claims"] if c["verdict"] == "fails"] == ["walk"]
    assert [f["id"] for f in doc["figures"] if f["verdict"] == "fails"] == ["walk"]
    p = run_study(locus_bin, tmp_path / "lax", "--set", "walk_min_length=1e6")
    assert p.returncode == 0, p.stdout + p.stderr
    # A check that does not run is skipped, reported, and not a failure under --strict.
    p = run_study(locus_bin, tmp_path / "skip", "--set", "walk_run=-1", "--strict")
    assert p.returncode == 0, p.stdout + p.stderr
    assert re.search(r"^skipped +cooper/walk: ", p.stdout, re.M), p.stdout


def test_reproduce_strict_reads_options_from_studies_dir(locus_bin, tmp_path):
    """--studies DIR supplies <study>/study.json; a failing claim still gets its report, then
    --strict exits 1."""
    opts = {"study": "cooper", "runs": SMALL_RUNS, "walk_run": 1, "walk_steps": 10,
            "walk_min_length": 1e6}
    (tmp_path / "st" / "cooper").mkdir(parents=True)
    (tmp_path / "st" / "cooper" / "study.json").write_text(json.dumps(opts))
    p = subprocess.run([locus_bin, "reproduce", "--studies", str(tmp_path / "st"), "--out",
                        str(tmp_path / "r"), "--only", "cooper", "--strict"], capture_output=True,
                       text=True)
    assert p.returncode == 1, p.stdout + p.stderr
    assert re.search(r"^fails +cooper/walk: ", p.stdout, re.M), p.stdout
    assert str(tmp_path / "st" / "cooper" / "study.json") in p.stderr
    html = (tmp_path / "r" / "index.html").read_text()
    assert "7 holds, 1 fails, 0 skipped" in html and '<span class="fails">fails</span>' in html


def test_reproduce_without_the_build_tree(locus_bin, tmp_path):
    """A copy of the binary far from the build tree has no python/ next to it: with an
    interpreter that cannot import locus it stops before running anything, naming what it
    looked for."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LOCUS_PYTHON")}
    if subprocess.run(["/usr/bin/python3", "-c", "import locus"], env=env,
                      capture_output=True).returncode == 0:
        pytest.skip("locus is installed for /usr/bin/python3")
    exe = tmp_path / "bin" / "locus"
    exe.parent.mkdir()
    shutil.copy(locus_bin, exe)
    p = subprocess.run([str(exe), "reproduce", "--out", str(tmp_path / "r")], env=env,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2, p.stdout + p.stderr
    assert "cannot find the locus Python package" in p.stderr
    assert str(tmp_path / "bin" / "python") in p.stderr and "--python" in p.stderr
    assert not (tmp_path / "r").exists()


def test_bad_study_file(locus_bin, tmp_path):
    (tmp_path / "bad.json").write_text('{"study": "cooper", "nonsense": 1}')
    p = subprocess.run([locus_bin, "study", "run", str(tmp_path / "bad.json"), "--out",
                        str(tmp_path / "o")], capture_output=True, text=True)
    assert p.returncode == 2 and '"nonsense" is not an option' in p.stderr, p.stderr
    p = run_study(locus_bin, tmp_path / "o", "--set", "walk_run=99")
    assert p.returncode == 2 and '"walk_run" must be -1' in p.stderr, p.stderr
    p = run_study(locus_bin, tmp_path / "o", "--set", "runs=p=2,h=8")
    assert p.returncode == 2 and '"runs" entry' in p.stderr, p.stderr
    (tmp_path / "trunc.json").write_text('{"study": "coo')
    p = subprocess.run([locus_bin, "study", "run", str(tmp_path / "trunc.json"), "--out",
                        str(tmp_path / "o")], capture_output=True, text=True)
    assert p.returncode == 2 and "trunc.json" in p.stderr


def test_summary_table_lists_every_claim_of_every_study(report):
    """The table at the top of the page: one row per claim of every study, in order, with the
    verdict of its result.json and a link to the claim's section."""
    html = (report / "index.html").read_text()
    summary = html[html.index('<table class="summary"'):]
    summary = summary[:summary.index("</table>")]
    rows = re.findall(r'<tr><td><a href="#study-([^"]+)">[^<]*</a></td><td><a href="#([^"]+)">'
                      r'([^<]*)</a></td><td><span class="(holds|fails|skipped)">', summary)
    want = []
    for d in sorted((report / "data").iterdir()):
        result = json.loads((d / "result.json").read_text())
        want += [(result["study"], c["id"], c["verdict"]) for c in result["claims"]]
    assert sorted((r[0], r[2], r[3]) for r in rows) == sorted(want) and want
    for _, target, _, _ in rows:
        assert f'id="{target}"' in html

