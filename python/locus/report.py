"""The HTML report of locus studies.

    /usr/bin/python3 -m locus.report STUDY_DIR [STUDY_DIR ...] --out report

Each STUDY_DIR holds a study's `result.json` (first key `context`) and the CSV tables it names.
The report draws each figure the study lists (PNG and SVG, see locus.plot), renders each table,
and writes `OUT/index.html`: every claim with its statement, its verdict (holds, fails, or skipped
when its check did not run, each styled apart), the reason and the evidence (the numbers the
verdict was decided on). A figure whose table has no rows is named but not drawn. Files are written
to temporary names and renamed, so a reader never sees half a report.
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
       color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
.holds { color: #116611; font-weight: bold; } .fails { color: #aa1111; font-weight: bold; }
.skipped { color: #777777; font-style: italic; } .nofigure { color: #777777; }
.evidence { font-size: 0.8em; color: #555; font-family: monospace; }
table { border-collapse: collapse; font-size: 0.82em; margin: 0.6em 0 1.4em; }
td, th { border: 1px solid #ccc; padding: 2px 6px; text-align: right; }
th { background: #f3f3f3; } td:first-child, th:first-child { text-align: left; }
figure { margin: 1em 0 2em; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.9em; max-width: 800px; }
.context { font-size: 0.75em; color: #666; white-space: pre-wrap; }
"""


# Marks <body data-figures-loaded="true|false"> once every figure has loaded (or failed), so a
# headless browser's DOM dump tells whether the page shows all its figures.
LOADED_SCRIPT = """<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.every(function (i) { return i.complete && i.naturalWidth > 0; });
  document.body.setAttribute('data-figures-loaded', String(ok));
  document.body.setAttribute('data-figure-count', String(imgs.length));
});
</script>"""


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


def render_table(path: str, caption: str) -> str:
    rows = plot.read_csv(path)
    if not rows:
        return f"<p>{html.escape(caption)} (no rows)</p>"
    cols = list(rows[0].keys())
    out = [f"<table><caption>{html.escape(caption)}</caption><tr>"]
    out += [f"<th>{html.escape(c)}</th>" for c in cols]
    out.append("</tr>")
    for r in rows:
        out.append("<tr>")
        for c in cols:
            v = r[c]
            if c == "verdict":
                out.append(f"<td>{verdict(v)}</td>")
            else:
                out.append(f"<td>{html.escape(short(v))}</td>")
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)


def render_study(study_dir: str, out_dir: str) -> tuple[str, list[str]]:
    """HTML section of one study; figures are drawn into out_dir/<study>/."""
    with open(os.path.join(study_dir, "result.json")) as f:
        result = json.load(f)
    name = result.get("study", os.path.basename(study_dir.rstrip("/")))
    fig_dir = os.path.join(out_dir, name)
    os.makedirs(fig_dir, exist_ok=True)
    parts = [f"<h2>{html.escape(result.get('title', name))}</h2>"]
    if result.get("summary"):
        parts.append(f"<p>{html.escape(result['summary'])}</p>")
    verdicts = []
    parts.append("<h3>Claims</h3><ul>")
    for c in result.get("claims", []):
        verdicts.append(c["verdict"])
        parts.append(f"<li>{html.escape(c['statement'])} — {verdict(c['verdict'])}. "
                     f"{html.escape(c.get('reason', ''))}<br><span class=\"evidence\">"
                     f"{html.escape(evidence_text(c.get('evidence', {})))}</span></li>")
    parts.append("</ul>")
    for fig in result.get("figures", []):
        v = fig.get("verdict")
        tail = "" if v is None else " — " + verdict(v) + "."
        data = os.path.join(study_dir, fig["data"])
        if not plot.read_csv(data):  # e.g. the walk was not run: nothing to draw
            parts.append(f'<p class="nofigure">{html.escape(fig["caption"])}{tail} '
                         f'(no data in {html.escape(fig["data"])}: not drawn)</p>')
            continue
        draw = plot.FIGURES[fig["kind"]]
        stem = os.path.join(fig_dir, fig["id"])
        draw(data, stem, **fig.get("options", {}))
        rel = os.path.join(name, fig["id"])
        parts.append(f'<figure><img src="{rel}.png" alt="{html.escape(fig["id"])}">'
                     f'<figcaption>{html.escape(fig["caption"])}{tail} '
                     f'(<a href="{rel}.svg">SVG</a>)</figcaption></figure>')
    for tid, t in result.get("tables", {}).items():
        src = os.path.join(study_dir, t["file"])
        shutil.copyfile(src, os.path.join(fig_dir, t["file"]))
        parts.append(render_table(src, t.get("caption", tid)))
    ctx = json.dumps(result.get("context", {}), indent=1)
    parts.append(f'<details><summary>context</summary><div class="context">'
                 f'{html.escape(ctx)}</div></details>')
    return "".join(parts), verdicts


def write_report(study_dirs: list[str], out_dir: str) -> str:
    os.makedirs(out_dir, exist_ok=True)
    sections, verdicts = [], []
    for d in study_dirs:
        s, v = render_study(d, out_dir)
        sections.append(s)
        verdicts += v
    counts = ", ".join(f"{verdicts.count(v)} {v}" for v in VERDICTS)
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>locus report</title>"
            f"<style>{STYLE}</style>{LOADED_SCRIPT}</head><body><h1>locus — the papers' claims, checked</h1>"
            f"<p>{len(verdicts)} claims on this run: {counts}.</p>"
            + "".join(sections) + "</body></html>")
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
