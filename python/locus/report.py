"""The HTML report of locus studies.

    /usr/bin/python3 -m locus.report STUDY_DIR [STUDY_DIR ...] --out report

Each STUDY_DIR holds a study's `result.json` (first key `context`) and the CSV tables it names.
The report draws each figure the study lists (PNG and SVG, see locus.plot), renders each table,
and writes `OUT/index.html`: first a summary table of every claim of every study (verdict, the
numbers behind it, a link to it), then per study every claim with its statement, its verdict
(holds, fails, or skipped when its check did not run, each styled apart), the reason and the
evidence (the numbers the verdict was decided on), its figures with their sentences and its
tables (wide ones scroll inside their box, long ones are collapsed; each links its full CSV).
The page has no horizontal scrolling from 800 px of width up. A figure whose table has no rows
is named but not drawn. Files are written to temporary names and renamed, so a reader never sees
half a report.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import shutil
import sys

from . import plot

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.4; overflow-wrap: anywhere; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
.holds { color: #116611; font-weight: bold; } .fails { color: #aa1111; font-weight: bold; }
.skipped { color: #777777; font-style: italic; } .nofigure { color: #777777; }
.evidence { font-size: 0.8em; color: #555; font-family: monospace; }
.table-wrap { max-width: 100%; overflow-x: auto; margin: 0.6em 0 1.4em; }
table { border-collapse: collapse; font-size: 0.82em; }
td, th { border: 1px solid #ccc; padding: 2px 6px; text-align: right; overflow-wrap: normal; }
th { background: #f3f3f3; } td:first-child, th:first-child { text-align: left; }
caption { text-align: left; font-weight: bold; padding: 0.2em 0; }
table.summary td, table.summary th { text-align: left; vertical-align: top; }
table.summary td.number { overflow-wrap: anywhere; }
details.table > summary { cursor: pointer; margin: 0.6em 0; }
figure { margin: 1em 0 2em; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.9em; max-width: 800px; }
.context { font-size: 0.75em; color: #666; white-space: pre-wrap; }
"""


# Marks <body data-figures-loaded="true|false"> once every figure has loaded (or failed), so a
# headless browser's DOM dump tells whether the page shows all its figures, and
# data-page-overflow with the page's scrollWidth - clientWidth in pixels (0: no horizontal
# scrolling at this window width).
LOADED_SCRIPT = """<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.every(function (i) { return i.complete && i.naturalWidth > 0; });
  var root = document.documentElement;
  document.body.setAttribute('data-figures-loaded', String(ok));
  document.body.setAttribute('data-figure-count', String(imgs.length));
  document.body.setAttribute('data-page-overflow', String(root.scrollWidth - root.clientWidth));
  document.body.setAttribute('data-window-width', String(window.innerWidth));
});
</script>"""

# Tables with more rows than this are collapsed (<details>); the full CSV is linked either way.
LONG_TABLE_ROWS = 20


VERDICTS = ("holds", "fails", "skipped")


def verdict(v: str) -> str:
    """A verdict ("holds", "fails" or "skipped") as a styled span."""
    if v not in VERDICTS:
        raise ValueError(f"unknown verdict {v!r} (holds, fails, skipped)")
    return f'<span class="{v}">{v}</span>'


def evidence_text(evidence) -> str:
    """The evidence object as `key = value` pairs (floats to 4 significant digits)."""
    if not isinstance(evidence, dict):
        return str(evidence)
    def fmt(v):
        return f"{v:.4g}" if isinstance(v, float) else str(v)
    return ", ".join(f"{k} = {fmt(v)}" for k, v in evidence.items())


def short(cell: str) -> str:
    """Floats to 4 significant digits for the page (the CSV keeps full precision)."""
    if "." not in cell and "e" not in cell:
        return cell
    try:
        return f"{float(cell):.4g}"
    except ValueError:
        return cell


def anchor(*parts: str) -> str:
    """An HTML id from names: letters, digits, '-' and '_' kept, the rest '-'."""
    return "-".join("".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in p) for p in parts)


def render_table(path: str, caption: str, href: str | None = None) -> str:
    """A CSV table in a box that scrolls sideways when wide, collapsed when longer than
    LONG_TABLE_ROWS rows; `href` links the full CSV."""
    rows = plot.read_csv(path)
    link = f' (<a href="{html.escape(href)}">CSV</a>)' if href else ""
    if not rows:
        return f"<p>{html.escape(caption)} (no rows){link}</p>"
    cols = list(rows[0].keys())
    out = ['<div class="table-wrap"><table>']
    if len(rows) <= LONG_TABLE_ROWS:
        out.append(f"<caption>{html.escape(caption)}{link}</caption>")
    out.append("<tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in cols) + "</tr>")
    for r in rows:
        out.append("<tr>")
        for c in cols:
            v = r[c]
            if c == "verdict":
                out.append(f"<td>{verdict(v)}</td>")
            else:
                out.append(f"<td>{html.escape(short(v))}</td>")
        out.append("</tr>")
    out.append("</table></div>")
    table = "".join(out)
    if len(rows) <= LONG_TABLE_ROWS:
        return table
    return (f'<details class="table"><summary>{html.escape(caption)} — {len(rows)} rows, '
            f'{len(cols)} columns (click to show){link}</summary>{table}</details>')


def claim_number(claim: dict) -> str:
    """The numbers a verdict was decided on, in words: the claim's reason (one sentence with the
    numbers and the bound they were compared with), else its evidence."""
    return html.escape(claim.get("reason") or evidence_text(claim.get("evidence", {})))


def summary_table(results: list[dict]) -> str:
    """Every claim of every study: study, claim, verdict, the number behind it, a link to it."""
    out = ['<div class="table-wrap"><table class="summary" id="summary"><caption>Every claim, '
           "its verdict and the number behind it</caption><tr><th>study</th><th>claim</th>"
           "<th>verdict</th><th>why (the numbers compared)</th></tr>"]
    for result in results:
        name = result["study"]
        for c in result.get("claims", []):
            out.append(f'<tr><td><a href="#{anchor("study", name)}">{html.escape(name)}</a></td>'
                       f'<td><a href="#{anchor("claim", name, c["id"])}">'
                       f'{html.escape(c["id"])}</a></td><td>{verdict(c["verdict"])}</td>'
                       f'<td class="number">{claim_number(c)}</td></tr>')
    out.append("</table></div>")
    return "".join(out)


def read_result(study_dir: str) -> dict:
    """A study's result.json, with "study" defaulting to the folder's name."""
    with open(os.path.join(study_dir, "result.json")) as f:
        result = json.load(f)
    result.setdefault("study", os.path.basename(study_dir.rstrip("/")))
    return result


def render_study(study_dir: str, out_dir: str, result: dict | None = None) -> tuple[str, list[str]]:
    """HTML section of one study; figures are drawn into out_dir/<study>/."""
    if result is None:
        result = read_result(study_dir)
    name = result["study"]
    fig_dir = os.path.join(out_dir, name)
    os.makedirs(fig_dir, exist_ok=True)
    parts = [f'<section id="{anchor("study", name)}"><h2>{html.escape(result.get("title", name))}'
             "</h2>"]
    if result.get("summary"):
        parts.append(f"<p>{html.escape(result['summary'])}</p>")
    verdicts = []
    parts.append("<h3>Claims</h3><ul>")
    for c in result.get("claims", []):
        verdicts.append(c["verdict"])
        parts.append(f'<li id="{anchor("claim", name, c["id"])}">'
                     f"{html.escape(c['statement'])} — {verdict(c['verdict'])}. "
                     f"{html.escape(c.get('reason', ''))}<br><span class=\"evidence\">"
                     f"{html.escape(evidence_text(c.get('evidence', {})))}</span></li>")
    parts.append("</ul>")
    for fig in result.get("figures", []):
        v = fig.get("verdict")
        tail = "" if v is None else " — " + verdict(v) + "."
        # Every figure says what it shows: its caption, else the table it draws.
        caption = fig.get("caption") or f"{fig['kind']} of {fig['data']}."
        data = os.path.join(study_dir, fig["data"])
        if not plot.read_csv(data):  # e.g. the walk was not run: nothing to draw
            parts.append(f'<p class="nofigure">{html.escape(caption)}{tail} '
                         f'(no data in {html.escape(fig["data"])}: not drawn)</p>')
            continue
        draw = plot.FIGURES[fig["kind"]]
        stem = os.path.join(fig_dir, fig["id"])
        draw(data, stem, **fig.get("options", {}))
        rel = os.path.join(name, fig["id"])
        parts.append(f'<figure><img src="{rel}.png" alt="{html.escape(fig["id"])}">'
                     f'<figcaption>{html.escape(caption)}{tail} '
                     f'(<a href="{rel}.svg">SVG</a>)</figcaption></figure>')
    for tid, t in result.get("tables", {}).items():
        src = os.path.join(study_dir, t["file"])
        shutil.copyfile(src, os.path.join(fig_dir, t["file"]))
        parts.append(render_table(src, t.get("caption", tid), os.path.join(name, t["file"])))
    ctx = json.dumps(result.get("context", {}), indent=1)
    parts.append(f'<details><summary>context</summary><div class="context">'
                 f'{html.escape(ctx)}</div></details></section>')
    return "".join(parts), verdicts


def write_report(study_dirs: list[str], out_dir: str) -> str:
    """Writes out_dir/index.html: the summary table of every claim, then one section per study."""
    os.makedirs(out_dir, exist_ok=True)
    results = [read_result(d) for d in study_dirs]
    sections, verdicts = [], []
    for d, r in zip(study_dirs, results):
        s, v = render_study(d, out_dir, r)
        sections.append(s)
        verdicts += v
    counts = ", ".join(f"{verdicts.count(v)} {v}" for v in VERDICTS)
    page = ("<!DOCTYPE html><html><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>locus report</title><style>{STYLE}</style>{LOADED_SCRIPT}</head><body>"
            "<h1>locus — the papers' claims, checked</h1>"
            f"<p>{len(verdicts)} claims on this run: {counts}.</p>"
            + summary_table(results) + "".join(sections) + "</body></html>")
    path = os.path.join(out_dir, "index.html")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(page)
    os.replace(tmp, path)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="locus.report", description=__doc__.split("\n")[0])
    ap.add_argument("study_dirs", nargs="+", help="folders holding a study's result.json")
    ap.add_argument("--out", default="report", help="output folder (default: report)")
    args = ap.parse_args(argv)
    for d in args.study_dirs:
        if not os.path.isfile(os.path.join(d, "result.json")):
            print(f"locus.report: {d}: no result.json", file=sys.stderr)
            return 2
    print(write_report(args.study_dirs, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
