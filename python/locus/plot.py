"""Figures for locus results (matplotlib, Agg backend). Each function reads a study's CSV table,
draws one figure, and saves it as PNG and SVG next to each other; it returns the PNG path."""

from __future__ import annotations

import csv
import math
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read_csv(path: str) -> list[dict[str, str]]:
    """Rows of a CSV file with a header line, as dicts of strings."""
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _float(s: str) -> float:
    try:
        return float(s)
    except (TypeError, ValueError):
        return math.nan


def _save(fig, out_stem: str) -> str:
    fig.tight_layout()
    for ext in ("png", "svg"):
        tmp = f"{out_stem}.tmp.{ext}"
        fig.savefig(tmp, dpi=110, format=ext)
        os.replace(tmp, f"{out_stem}.{ext}")  # atomic: a reader never sees half a figure
    plt.close(fig)
    return out_stem + ".png"


def hessian_spectrum(csv_path: str, out_stem: str, tolerance: float | None = None,
                     title: str = "Hessian spectrum at a minimum") -> str:
    """|eigenvalue| in increasing order on a log scale, zero and positive eigenvalues coloured
    apart, with the zero threshold and, where given, 2 sigma_k(J)^2 overlaid."""
    rows = read_csv(csv_path)
    lam = [_float(r["eigenvalue"]) for r in rows]
    kinds = [r.get("class", "") for r in rows]
    floor = 1e-300  # exact zeros cannot sit on a log axis
    order = sorted(range(len(lam)), key=lambda i: abs(lam[i]))
    fig, ax = plt.subplots(figsize=(7, 4))
    colours = {"zero": "tab:gray", "positive": "tab:blue", "negative": "tab:red"}
    for kind, colour in colours.items():
        idx = [k for k, i in enumerate(order) if kinds[i] == kind]
        if idx:
            ax.scatter(idx, [max(abs(lam[order[k]]), floor) for k in idx], s=6, c=colour,
                       label=f"{kind} ({len(idx)})")
    two_s2 = [_float(rows[i].get("two_sigma_squared", "")) for i in order]
    pts = [(k, v) for k, v in enumerate(two_s2) if v == v and v > 0]
    if pts:
        ax.scatter([k for k, _ in pts], [v for _, v in pts], s=14, facecolors="none",
                   edgecolors="tab:orange", label=r"$2\sigma_k(J)^2$")
    if tolerance:
        ax.axhline(tolerance, color="k", lw=0.8, ls="--", label=f"zero threshold {tolerance:.1e}")
    ax.set_yscale("log")
    ax.set_xlabel("eigenvalue index (sorted by |λ|)")
    ax.set_ylabel("|λ|")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left")
    return _save(fig, out_stem)


def dimension_scatter(csv_path: str, out_stem: str,
                      title: str = "Dimension of the manifold of minima") -> str:
    """Measured dim M (from rank J, and by projection sampling where present) against the
    predicted n - l*d, with the diagonal."""
    rows = read_csv(csv_path)
    pred = [_float(r["predicted_dimension"]) for r in rows]
    jac = [_float(r["dimension_jacobian"]) for r in rows]
    proj = [_float(r.get("dimension_projection", "")) for r in rows]
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.scatter(pred, jac, s=30, marker="o", facecolors="none", edgecolors="tab:blue",
               label="n − rank J")
    pp = [(a, b) for a, b in zip(pred, proj) if b == b]
    if pp:
        ax.scatter([a for a, _ in pp], [b for _, b in pp], s=18, marker="x", c="tab:red",
                   label="projection sampling")
    finite = [v for v in pred + jac if v == v]
    lo, hi = (min(finite), max(finite)) if finite else (0, 1)
    ax.plot([lo, hi], [lo, hi], "k--", lw=0.8, label="n − l·d")
    ax.set_xscale("symlog")
    ax.set_yscale("symlog")
    ax.set_xlabel("predicted dimension n − l·d")
    ax.set_ylabel("measured dimension")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return _save(fig, out_stem)


def walk_vs_line(csv_path: str, out_stem: str,
                 title: str = "Loss along the manifold walk and along a straight line") -> str:
    """Loss against distance travelled: along the walk on M (stays at round-off) and along a
    random straight line from the same point (grows)."""
    rows = read_csv(csv_path)
    s = [_float(r["arc_length"]) for r in rows]
    floor = 1e-33  # loss exactly 0 is drawn at the floor of the axis
    fig, ax = plt.subplots(figsize=(7, 4))
    for col, label, colour in (("loss_walk", "walk on M", "tab:blue"),
                               ("loss_line", "straight line", "tab:red")):
        if col in rows[0]:
            ax.plot(s, [max(_float(r[col]), floor) for r in rows], marker=".", ms=3,
                    color=colour, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("distance from the start (parameter space, Euclidean)")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return _save(fig, out_stem)


def lines(csv_path: str, out_stem: str, x: str, y: list[str], labels: list[str] | None = None,
          group: str | None = None, logx: bool = False, logy: bool = False,
          xlabel: str | None = None, ylabel: str = "", title: str = "",
          markers_only: bool = False, floor: float | None = None,
          hline: float | None = None, hline_label: str = "",
          select: dict[str, str] | None = None) -> str:
    """One series per column of `y` against column `x` (and per distinct value of `group`, when
    given), from the rows whose columns equal `select`'s values. Values at or below `floor` are
    drawn at it (exact zeros on a log axis); `hline` draws a reference level."""
    rows = [r for r in read_csv(csv_path)
            if all(r[k] == v for k, v in (select or {}).items())]
    groups = sorted({r[group] for r in rows}, key=_group_key) if group else [None]
    fig, ax = plt.subplots(figsize=(7, 4))
    style = dict(marker="o", ms=4, linestyle="none") if markers_only else dict(marker=".", ms=4)
    for g in groups:
        sub = [r for r in rows if g is None or r[group] == g]
        xs = [_float(r[x]) for r in sub]
        for k, col in enumerate(y):
            ys = [_float(r[col]) for r in sub]
            if floor is not None:
                ys = [max(v, floor) if not math.isnan(v) else v for v in ys]
            name = labels[k] if labels and k < len(labels) else col
            if g is not None:
                name = f"{name}, {group} = {g}" if len(y) > 1 else f"{group} = {g}"
            ax.plot(xs, ys, label=name, **style)
    if hline is not None:
        ax.axhline(hline, color="grey", linestyle="--", linewidth=1, label=hline_label or None)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel or x)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if len(groups) * len(y) > 1 or hline_label:
        ax.legend(fontsize=8)
    return _save(fig, out_stem)


def _group_key(v: str):
    f = _float(v)
    return (0, f, "") if not math.isnan(f) else (1, 0.0, v)


def plane_vectors(csv_path: str, out_stem: str, title: str = "") -> str:
    """Incoming vectors in the plane, one panel per value of column `panel`: rows of kind
    `teacher` as arrows from the origin, the others as points coloured by kind (columns panel,
    kind, w1, w2)."""
    rows = read_csv(csv_path)
    panels = list(dict.fromkeys(r["panel"] for r in rows))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.2), squeeze=False)
    colours = {"copy": "tab:blue", "zero_type": "tab:grey", "zero_group": "tab:orange",
               "unexplained": "tab:red"}
    for ax, panel in zip(axes[0], panels):
        sub = [r for r in rows if r["panel"] == panel]
        lim = max([abs(_float(r[c])) for r in sub for c in ("w1", "w2")] + [1.0]) * 1.15
        for r in sub:
            if r["kind"] == "teacher":
                ax.annotate("", xy=(_float(r["w1"]), _float(r["w2"])), xytext=(0, 0),
                            arrowprops=dict(arrowstyle="->", color="black", lw=1.5))
        for kind, colour in colours.items():
            pts = [r for r in sub if r["kind"] == kind]
            if pts:
                ax.plot([_float(r["w1"]) for r in pts], [_float(r["w2"]) for r in pts], "o",
                        ms=4, color=colour, label=f"{kind} ({len(pts)})")
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        ax.axhline(0, color="lightgrey", lw=0.5)
        ax.axvline(0, color="lightgrey", lw=0.5)
        ax.set_title(panel)
        ax.legend(fontsize=7, loc="lower right")
    fig.suptitle(title)
    return _save(fig, out_stem)


def stacked_fractions(csv_path: str, out_stem: str, select: dict[str, str] | None = None,
                      n_line: float | None = None, title: str = "") -> str:
    """Stacked bars of the end-state fractions (columns global_minimum, strict_minimum,
    non_strict_minimum, saddle, not_converged, undecided) per width, one bar per row whose
    columns equal `select`'s values; a dashed line where the width reaches `n_line` (N). The
    sub-optimal strict minima (column suboptimal_strict) are written above their bars."""
    rows = [r for r in read_csv(csv_path)
            if all(r[k] == v for k, v in (select or {}).items())]
    states = [("global_minimum", "tab:green"), ("strict_minimum", "tab:red"),
              ("non_strict_minimum", "tab:orange"), ("saddle", "tab:purple"),
              ("not_converged", "tab:grey"), ("undecided", "lightgrey")]
    fig, ax = plt.subplots(figsize=(7, 4))
    xs = list(range(len(rows)))
    bottom = [0.0] * len(rows)
    for state, colour in states:
        ys = [_float(r[state]) for r in rows]
        ax.bar(xs, ys, bottom=bottom, color=colour, label=state.replace("_", " "), width=0.7)
        bottom = [b + y for b, y in zip(bottom, ys)]
    for x, r in zip(xs, rows):
        if r.get("suboptimal_strict", "0") not in ("", "0"):
            ax.annotate(f"{r['suboptimal_strict']} sub-optimal", (x, 1.02), ha="center",
                        fontsize=7)
    if n_line is not None:
        below = [x for x, r in zip(xs, rows) if _float(r["width"]) < n_line]
        ax.axvline((max(below) + 0.5) if below else -0.5, color="black", linestyle="--",
                   linewidth=1, label=f"N = {n_line:g}")
    ax.set_xticks(xs, [r["width"] for r in rows])
    ax.set_xlabel("width of the last hidden layer")
    ax.set_ylabel("fraction of runs")
    ax.set_ylim(0, 1.12)
    ax.set_title(title)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _save(fig, out_stem)


# Figure kinds a study's result.json may name, and the function drawing each.
FIGURES = {
    "hessian_spectrum": hessian_spectrum,
    "dimension_scatter": dimension_scatter,
    "walk_vs_line": walk_vs_line,
    "lines": lines,
    "plane_vectors": plane_vectors,
    "stacked_fractions": stacked_fractions,
}
