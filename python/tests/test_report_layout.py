"""The report's page structure (locus.report): a summary table of every claim at the top that
matches the studies' result.json, long tables collapsed with their CSV linked, wide tables
scrolling inside their box, a sentence under every figure, and no horizontal overflow of the
page in headless Chromium at 1280 px and 800 px (with screenshots of both)."""

import csv
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from locus import report

SMALL_RUNS = "p=2,h=8,d=6; p=2,h=10,d=6,activation=softplus,method=lm"


def synthetic_study(d):
    """A study folder with every verdict, a long (60 rows) and wide (30 columns) table."""
    d.mkdir()
    cols = [f"column_with_a_long_name_{j}" for j in range(30)]
    with open(d / "wide.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for i in range(60):
            w.writerow([f"{(i + 1) * (j + 1) * 1.2345678901234:.17g}" for j in range(30)])
    claims = [
        {"id": "first", "statement": "A claim that holds.", "verdict": "holds",
         "evidence": {"error": 1.5e-15, "bound": 1e-12, "name": "x"},
         "reason": "error 1.5e-15 <= bound 1e-12"},
        {"id": "second", "statement": "A claim that fails.", "verdict": "fails",
         "evidence": {"barrier": 0.25}, "reason": "barrier 0.25 > 0"},
        {"id": "third", "statement": "A claim not checked.", "verdict": "skipped",
         "evidence": {}, "reason": "nothing to check"},
    ]
    result = {"context": {"options": {"study": "synthetic"}}, "study": "synthetic",
              "title": "A synthetic study", "summary": "", "claims": claims, "figures": [],
              "tables": {"wide": {"file": "wide.csv", "caption": "A long and wide table",
                                  "columns": cols}}}
    (d / "result.json").write_text(json.dumps(result))
    return d


@pytest.fixture(scope="module")
def page(locus_bin, tmp_path_factory):
    root = tmp_path_factory.mktemp("layout")
    cooper = root / "cooper"
    p = subprocess.run([locus_bin, "study", "run", "--study", "cooper", "--out", str(cooper),
                        "--set", "runs=" + SMALL_RUNS, "--set", "walk_run=1", "--set",
                        "walk_steps=10", "--quiet"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    dirs = [str(cooper), str(synthetic_study(root / "synthetic"))]
    path = report.write_report(dirs, str(root / "report"))
    return root, dirs, path, open(path).read()


class Summary(HTMLParser):
    """Rows of <table class="summary">, ids of every element, and <figure> captions."""

    def __init__(self):
        super().__init__()
        self.rows, self.ids, self.captions = [], set(), []
        self._in_summary = self._in_caption = False
        self._row, self._cell = None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "table" and "summary" in (a.get("class") or ""):
            self._in_summary = True
        elif self._in_summary and tag == "tr":
            self._row = []
        elif self._in_summary and tag == "td":
            self._cell = {"text": "", "href": None}
        elif self._in_summary and tag == "a" and self._cell is not None:
            self._cell["href"] = a.get("href")
        elif tag == "figcaption":
            self._in_caption = True
            self.captions.append("")

    def handle_endtag(self, tag):
        if tag == "table" and self._in_summary:
            self._in_summary = False
        elif self._in_summary and tag == "td":
            self._row.append(self._cell)
            self._cell = None
        elif self._in_summary and tag == "tr" and self._row:
            self.rows.append(self._row)
        elif tag == "figcaption":
            self._in_caption = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data
        if self._in_caption:
            self.captions[-1] += data


def test_summary_table_matches_every_result_json(page):
    _, dirs, _, html = page
    parsed = Summary()
    parsed.feed(html)
    want = []
    for d in dirs:
        result = json.load(open(os.path.join(d, "result.json")))
        want += [(result["study"], c["id"], c["verdict"]) for c in result["claims"]]
    got = [(r[0]["text"], r[1]["text"], r[2]["text"]) for r in parsed.rows]
    assert got == want and len(want) >= 5
    # Each row links to its claim's section, which exists; and shows the numbers behind it.
    for r in parsed.rows:
        assert r[1]["href"].lstrip("#") in parsed.ids
    second = next(r for r in parsed.rows if r[1]["text"] == "second")
    assert second[3]["text"] == "barrier 0.25 > 0"  # the claim's reason, with its numbers
    for r in parsed.rows:
        assert re.search(r"\d", r[3]["text"]) or r[2]["text"] == "skipped", r
    # The summary comes before the first study's section.
    assert html.index('class="summary"') < html.index("<section")


def test_long_tables_collapse_and_link_their_csv(page):
    root, _, path, html = page
    out = os.path.dirname(path)
    m = re.search(r'<details class="table"><summary>A long and wide table — 60 rows, 30 columns'
                  r'[^<]*\(<a href="([^"]+)">CSV</a>\)</summary><div class="table-wrap">', html)
    assert m, html[:3000]
    assert os.path.isfile(os.path.join(out, m.group(1)))
    # Short tables are shown, each with its CSV linked; every table sits in a scrolling box.
    assert html.count("<table") == html.count('<div class="table-wrap"><table')
    for href in re.findall(r'<a href="([^"]+\.csv)">CSV</a>', html):
        assert os.path.isfile(os.path.join(out, href)), href


def test_every_figure_has_its_sentence(page):
    _, _, _, html = page
    parsed = Summary()
    parsed.feed(html)
    assert parsed.captions and html.count("<figure>") == len(parsed.captions)
    for c in parsed.captions:
        assert re.search(r"[A-Za-z]{3,}.*\.", c), c


@pytest.mark.parametrize("width", [1280, 800])
def test_no_horizontal_overflow_in_chromium(page, width, headless_chromium, tmp_path):
    _, _, path, _ = page
    uri = "file://" + os.path.abspath(path)
    profile = tmp_path / "profile"
    flags = ["--hide-scrollbars", f"--window-size={width},2000"]
    shot = tmp_path / f"report-{width}.png"
    headless_chromium(profile, *flags, f"--screenshot={shot}", uri)
    assert shot.is_file() and shot.stat().st_size > 10000
    keep = os.environ.get("LOCUS_SCREENSHOTS")  # a folder to keep the screenshots in
    if keep:
        os.makedirs(keep, exist_ok=True)
        shutil.copyfile(shot, os.path.join(keep, shot.name))
    dom = headless_chromium(profile, *flags, "--dump-dom", uri, text=True).stdout
    assert f'data-window-width="{width}"' in dom, dom[:2000]
    assert 'data-page-overflow="0"' in dom, re.findall(r"data-page-overflow=\"-?\d+\"", dom)
    assert 'data-figures-loaded="true"' in dom
