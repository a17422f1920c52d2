"""The main job end to end: `locus reproduce` writes report/index.html, headless Chromium renders
it with every figure loaded, every table row states holds / does not hold; study results are
reproducible (same seed -> same JSON apart from the time stamp)."""

import csv
import json
import os
import re
import shutil
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def report(locus_bin, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    p = subprocess.run([locus_bin, "reproduce", "--out", str(out)], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    return out


def test_report_renders_with_every_figure(report, tmp_path):
    index = report / "index.html"
    assert index.is_file()
    html = index.read_text()
    n_figures = html.count("<figure>")
    assert n_figures >= 3
    browser = chromium()
    if browser is None:
        pytest.fail("chromium is not installed (scripts/setup.sh installs it)")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000"]
    shot = tmp_path / "report.png"
    subprocess.run([browser, *flags, f"--screenshot={shot}", "--window-size=1200,3000",
                    index.as_uri()], capture_output=True, timeout=120)
    assert shot.is_file() and shot.stat().st_size > 10000  # a real rendering, not a blank page
    dom = subprocess.run([browser, *flags, "--dump-dom", index.as_uri()], capture_output=True,
                         text=True, timeout=120).stdout
    assert 'data-figures-loaded="true"' in dom, dom[:2000]
    assert f'data-figure-count="{n_figures}"' in dom


def test_every_claim_and_row_has_a_verdict(report):
    result = json.loads((report / "data" / "cooper" / "result.json").read_text())
    assert list(result)[0] == "context"
    assert all(isinstance(c["holds"], bool) and c["evidence"] for c in result["claims"])
    with open(report / "data" / "cooper" / "runs.csv") as f:
        rows = list(csv.DictReader(f))
    assert rows and all(r["verdict"] in ("holds", "does not hold") for r in rows)
    assert all(r["rank_J"] and r["max_abs_residual"] for r in rows)
    html = (report / "index.html").read_text()
    assert len(re.findall(r'class="(holds|fails)"', html)) >= len(rows) + len(result["claims"])


def test_same_seed_same_json(locus_bin, tmp_path):
    opts = {"study": "cooper", "seed": 3,
            "runs": [{"p": 2, "h": 8, "d": 6}, {"p": 2, "h": 10, "d": 6, "activation": "softplus",
                                                 "method": "lm"}],
            "walk_run": 1, "walk_steps": 10, "walk_min_length": 0.0}
    (tmp_path / "s.json").write_text(json.dumps(opts))
    docs = []
    for k in range(2):
        out = tmp_path / f"run{k}"
        p = subprocess.run([locus_bin, "study", "run", str(tmp_path / "s.json"), "--out", str(out)],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stdout + p.stderr
        doc = json.loads((out / "result.json").read_text())
        doc["context"].pop("utc_time")
        docs.append(doc)
        assert (out / "runs.csv").read_text() == (tmp_path / "run0" / "runs.csv").read_text()
    assert docs[0] == docs[1]
    assert docs[0]["context"]["options"]["seed"] == 3


def test_bad_study_file(locus_bin, tmp_path):
    (tmp_path / "bad.json").write_text('{"study": "cooper", "nonsense": 1}')
    p = subprocess.run([locus_bin, "study", "run", str(tmp_path / "bad.json"), "--out",
                        str(tmp_path / "o")], capture_output=True, text=True)
    assert p.returncode == 2 and "nonsense" in p.stderr
    (tmp_path / "trunc.json").write_text('{"study": "coo')
    p = subprocess.run([locus_bin, "study", "run", str(tmp_path / "trunc.json"), "--out",
                        str(tmp_path / "o")], capture_output=True, text=True)
    assert p.returncode == 2 and "trunc.json" in p.stderr
