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


# Figure kinds a study's result.json may name, and the function drawing each.
FIGURES = {
    "hessian_spectrum": hessian_spectrum,
    "dimension_scatter": dimension_scatter,
    "walk_vs_line": walk_vs_line,
}
