"""The book's diagrams: the unrolled LSTM with each scheme's dropout sites, the LSTM cell with a marker per
scheme, and the paper's Figure 3. Counts come from :mod:`rnnreg.analysis.schemes`."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

from ..analysis.schemes import MASK_KINDS, MASK_LABELS, PATH_OF, SCHEME_INFO, masks_on_path, sample_masks, sites
from ..model import SCHEMES
from .style import NEUTRAL, SCHEME_COLORS, TALL, add_note, new_figure

_BOX_W, _BOX_H, _DX, _DY = 1.5, 1.0, 3.4, 1.9


def _cells(ax, x, y, mask, color, cell=0.16, zoneout=False):
    """One square per unit of ``mask``, centred on (x, y): filled = dropped (zoneout: hatched = copied)."""
    mask = np.atleast_2d(np.asarray(mask))
    rows, cols = mask.shape
    x0, y0 = x - cols * cell / 2, y + rows * cell / 2
    frame = (x0 - 0.04, y0 - rows * cell - 0.04), cols * cell + 0.08, rows * cell + 0.08
    ax.add_patch(Rectangle(*frame, facecolor="white", edgecolor=color, linewidth=1.2, zorder=5))
    for (r, c), keep in np.ndenumerate(mask):
        face = "white" if keep else ("#bbbbbb" if zoneout else color)
        hatch = "///" if zoneout and not keep else None
        corner = (x0 + c * cell, y0 - (r + 1) * cell)
        ax.add_patch(Rectangle(corner, cell, cell, facecolor=face, edgecolor=color, lw=0.6, hatch=hatch, zorder=6))


def _box(ax, x, y, w, h, text, face, size=13, edge="#333333", lw=1.3, zorder=4, color=None):
    """A rounded box centred on (x, y) with its label."""
    style = f"round,pad=0.02,rounding_size={min(w, h) / 6:.3f}"
    look = dict(boxstyle=style, facecolor=face, edgecolor=edge, linewidth=lw, zorder=zorder)
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, **look))
    ax.text(x, y, text, ha="center", va="center", fontsize=size, color=color, zorder=max(zorder, 7))


def _arrow(ax, p, q, color, width, style="-|>", ls="-"):
    look = dict(arrowstyle=style, mutation_scale=14, color=color, linewidth=width, linestyle=ls, zorder=3)
    ax.add_patch(FancyArrowPatch(p, q, shrinkA=0, shrinkB=0, **look))


def draw_unrolled_lstm(scheme: str = "zaremba", *, seed: int = 0) -> Figure:
    """The two-layer LSTM unrolled over three steps: each connection the scheme perturbs in its colour, with
    the mask the model draws there at rate 0.5 (filled = dropped; fresh masks change column to column)."""
    placed, color, steps, units = {s.connection: s for s in sites(scheme)}, SCHEME_COLORS[scheme], 3, 6
    masks = [sample_masks(scheme, steps=steps, units=units, seed=seed + layer) for layer in range(2)]
    fig, ax = new_figure(TALL)
    ax.set_axis_off()
    ax.set_aspect("equal")
    xs = [1.6 + t * _DX for t in range(steps)]
    rows = {"x": 0.0, 1: _DY, 2: 2 * _DY, "y": 3 * _DY}
    verticals = [(c, rows[a], rows[b]) for c, a, b in (("input", "x", 1), ("between", 1, 2), ("output", 2, "y"))]
    for t, x in enumerate(xs):
        for row, text, face in (("x", f"x({('t−1', 't', 't+1')[t]})", "#f2f2f2"), (1, "LSTM 1", "#e8f0f8"),
                                (2, "LSTM 2", "#e8f0f8"), ("y", "softmax", "#f2f2f2")):  # fmt: skip
            _box(ax, x, rows[row], _BOX_W, _BOX_H, text, face)
        for conn, y0, y1 in verticals:  # vertical (non-recurrent) connections
            on = conn in placed
            _arrow(ax, (x, y0 + _BOX_H / 2), (x, y1 - _BOX_H / 2), color if on else NEUTRAL, 2.6 if on else 1.4)
            if on:
                _cells(ax, x, (y0 + y1) / 2, masks[0][conn][t].tolist(), color)
    # recurrent connections, entering each column from the left (state of the previous step)
    for layer in (1, 2):
        y, m = rows[layer], masks[layer - 1]
        for t, x in enumerate(xs):
            x_from = x - _DX + _BOX_W / 2 if t else x - _DX / 2 - 0.3
            for conn, dy in (("c", 0.28), ("h", -0.28)):
                site = placed.get(conn)
                on, zoneout = site is not None, site is not None and site.mask == "zoneout"
                look = (color, 2.6) if on else (NEUTRAL, 1.4)
                _arrow(ax, (x_from, y + dy), (x - _BOX_W / 2, y + dy), *look, ls="--" if zoneout else "-")
                xm = (x_from + x - _BOX_W / 2) / 2
                if t == 0:
                    ax.text(x_from - 0.1, y + dy, conn, ha="right", va="center", fontsize=12, color="#555555")
                if on and conn in m:
                    y_strip = y + dy + (0.22 if dy > 0 else -0.22)
                    _cells(ax, xm, y_strip, m[conn][t].tolist(), color, zoneout=zoneout)
            if "w_hh" in placed and "w_hh" in m:  # xm: the middle of this step's recurrent arrow
                _cells(ax, xm, y - 0.75, m["w_hh"][:3].numpy(), color, cell=0.12)
                _arrow(ax, (x_from, y - 0.28), (x - _BOX_W / 2, y - 0.28), color, 2.6)
        _arrow(ax, (xs[-1] + _BOX_W / 2, y), (xs[-1] + _BOX_W / 2 + 0.9, y), NEUTRAL, 1.4)
    ax.set_xlim(xs[0] - _DX / 2 - 1.0, xs[-1] + _BOX_W / 2 + 1.1)
    ax.set_ylim(rows["x"] - 0.9, rows["y"] + 0.8)
    info = SCHEME_INFO[scheme]
    ax.set_title(f"{scheme} — {info['title']}", loc="left", color=color if scheme != "none" else "#333333")
    path = masks_on_path(scheme, 2, steps - 1)
    kinds = sorted({s.mask for s in placed.values()}, key=MASK_KINDS.index)
    how = "; ".join(MASK_LABELS[k] for k in kinds) if kinds else "no masks"
    hatched = ", hatched = copied from t−1" if scheme == "zoneout" else ""
    text = (
        f"{info['source']}.  Masks: {how}.\nA signal from x(t−1) carried to the softmax at t+1 (two steps along "
        f"one layer) is multiplied by {path['applications']} dropout masks ({path['distinct']} distinct).  "
        f"Squares: {units} units, filled = dropped{hatched}."
    )
    add_note(fig, text, 11)
    return fig


#: Marker shape per kind of mask (the same in every figure that marks sites).
MASK_MARKERS = {"fresh": "o", "shared": "s", "weights": "D", "zoneout": "^"}


def draw_lstm_cell(schemes: Sequence[str] = SCHEMES) -> Figure:
    """One LSTM layer at one step, gate by gate, with a marker (colour: scheme, shape: kind of mask)
    wherever a scheme puts a mask (:data:`rnnreg.analysis.schemes.SCHEME_SITES`)."""
    from matplotlib.lines import Line2D

    fig, ax = new_figure((12.0, 5.0))
    ax.set_axis_off()
    ax.set_aspect("equal")
    ink = "#333333"

    def box(x, y, w, h, text, face="#f2f2f2", size=13):
        _box(ax, x, y, w, h, text, face, size, lw=1.2)

    def node(x, y, text):
        ax.add_patch(mpl.patches.Circle((x, y), 0.28, facecolor="white", edgecolor=ink, linewidth=1.2, zorder=4))
        ax.text(x, y, text, ha="center", va="center", fontsize=14, zorder=7)

    def line(p, q, arrow=True):
        _arrow(ax, p, q, ink, 1.4, style="-|>" if arrow else "-")

    # inputs: c(t-1) top left, h(t-1) middle left, x from below
    ax.text(-0.2, 4.0, "c(t−1)", ha="right", va="center", fontsize=13)
    ax.text(-0.2, 1.2, "h(t−1)", ha="right", va="center", fontsize=13)
    ax.text(3.4, -1.75, "$x_t = h^{l-1}_t$\n(embedding or layer below)", ha="center", va="top", fontsize=11)
    box(2.0, 1.2, 1.1, 0.8, "W_hh", "#e8f0f8")
    box(3.4, 0.0, 1.1, 0.8, "W_ih", "#e8f0f8")
    box(5.0, 1.2, 1.5, 1.6, "σ  σ\ntanh  σ", "#e8f0f8", size=12)
    ax.text(5.0, 2.2, "i  f  g  o", ha="center", va="bottom", fontsize=12, color="#555555")
    line((0.0, 1.2), (1.45, 1.2))  # h(t-1) -> W_hh
    line((2.55, 1.2), (4.25, 1.2))  # W_hh -> gates
    line((3.4, -1.6), (3.4, -0.4))  # x -> W_ih
    line((3.95, 0.0), (4.25, 0.7))  # W_ih -> gates
    node(6.6, 4.0, "⊙")  # f ⊙ c(t-1)
    node(8.0, 4.0, "+")  # + i ⊙ g
    node(8.0, 2.6, "⊙")  # i ⊙ g
    box(9.4, 2.6, 0.9, 0.6, "tanh", size=11)
    node(9.4, 1.2, "⊙")  # o ⊙ tanh(c)
    line((0.0, 4.0), (6.32, 4.0))  # c(t-1) -> f ⊙
    line((5.4, 2.0), (6.6, 3.72))  # f
    line((5.75, 1.6), (7.72, 2.6))  # i, g
    line((8.0, 2.88), (8.0, 3.72))  # i ⊙ g -> +
    line((6.88, 4.0), (7.72, 4.0))
    line((8.28, 4.0), (11.4, 4.0))  # c(t) ->
    line((9.4, 4.0), (9.4, 2.9))  # c(t) -> tanh
    line((9.4, 2.3), (9.4, 1.48))  # tanh -> ⊙
    line((5.75, 1.0), (9.12, 1.2))  # o
    line((9.68, 1.2), (11.4, 1.2))  # h(t) -> next step
    line((10.4, 1.2), (10.4, -1.2))  # h(t) -> up (drawn downwards-free: a branch to the layer above)
    ax.text(11.5, 4.0, "c(t)", ha="left", va="center", fontsize=13)
    ax.text(11.5, 1.2, "h(t)", ha="left", va="center", fontsize=13)
    ax.text(10.4, -1.35, "h(t) to the layer above\n/ the softmax", ha="center", va="top", fontsize=11)

    # where each connection's mask enters: the first marker's place on its arrow, the step to the next one
    spots = {"input": ((3.05, -1.0), -0.34), "output": ((10.75, -0.5), 0.34), "h": ((0.45, 1.62), 0.34),
             "c": ((0.45, 4.42), 0.34), "w_hh": ((2.0, 1.85), 0.34), "zoneout h": ((10.9, 1.62), 0.34),
             "zoneout c": ((10.9, 4.42), 0.34)}  # fmt: skip
    placed: dict[str, int] = {}
    for scheme in schemes:
        for site in sites(scheme):
            if site.connection == "between":
                continue  # the arrow from below seen by the layer above: the same picture as "input"
            key = f"zoneout {site.connection}" if site.mask == "zoneout" else site.connection
            (x0, y0), dx = spots[key]
            k = placed[key] = placed.get(key, -1) + 1
            look = dict(markersize=11, markeredgecolor="white", markeredgewidth=0.8, zorder=8)
            ax.plot(x0 + k * dx, y0, MASK_MARKERS[site.mask], color=SCHEME_COLORS[scheme], **look)
    ax.set_xlim(-1.6, 12.6)
    ax.set_ylim(-2.6, 5.4)
    handles = [
        Line2D([], [], color=SCHEME_COLORS[s], marker="o", ls="", ms=10, label=s) for s in schemes if s != "none"
    ]
    handles += [
        Line2D([], [], color=ink, marker=MASK_MARKERS[k], ls="", ms=9, mfc="white", label=MASK_LABELS[k].split(" (")[0])
        for k in MASK_KINDS
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=11)
    title = "Zaremba masks only what goes in from below and up; later schemes add h(t−1), c(t−1) or W_hh"
    ax.set_title(title, loc="left", fontsize=14)
    return fig


def information_path(scheme: str, lag: int, num_layers: int = 2) -> dict:
    """The paper's Figure 3 path from x(t − lag) to the softmax at t: ``route`` (``c`` for a scheme that zeroes
    the cell, else ``h``), ``climbs`` (the times 0..lag it goes one layer up: after each equal share of the lag)
    and ``masks``, ``(time, layer, kind)`` per multiplication by a mask, as
    :func:`rnnreg.analysis.schemes.masks_on_path` counts them."""
    ss = sites(scheme)
    route = "c" if any(s.connection == "c" and s.mask != "zoneout" for s in ss) else "h"
    climbs = [round(lag * j / num_layers) for j in range(num_layers)] + [lag]
    masks: list[tuple[float, int, str]] = []
    vertical = {s.connection: s.mask for s in ss if not s.recurrent}
    for j, t in enumerate(climbs):  # hop j goes from row j to row j + 1 (0 = x, L + 1 = softmax)
        conn = "input" if j == 0 else ("output" if j == num_layers else "between")
        if conn in vertical:
            masks.append((float(t), j, vertical[conn]))
    on_route = [s for s in ss if s.recurrent and s.mask != "zoneout" and PATH_OF[s.connection] == route]
    for layer in range(1, num_layers + 1):
        for t in range(climbs[layer - 1], climbs[layer]):
            masks += [(t + 0.5, layer, s.mask) for s in on_route]
    return dict(route=route, climbs=climbs, masks=masks)


def draw_information_path(scheme: str = "zaremba", lag: int = 4, num_layers: int = 2) -> Figure:
    """The paper's Figure 3: a signal from x(t−lag) to the softmax at t, with every mask it meets."""
    if lag < 1:
        raise ValueError("lag must be >= 1")
    color = SCHEME_COLORS[scheme]
    fig, ax = new_figure((12.0, 5.0))
    ax.set_axis_off()
    dx, dy, rows = 1.4, 1.25, num_layers + 2
    path = information_path(scheme, lag, num_layers)
    climbs, route = path["climbs"], path["route"]
    for t in range(lag + 1):
        for r in range(rows):
            label = "x" if r == 0 else ("softmax" if r == rows - 1 else f"L{r}")
            _box(ax, t * dx, r * dy, 0.8, 0.5, label, "#f5f5f5", 10, "#999999", 0.9, 5, "#555555")
            if 0 < r < rows - 1 and t < lag:
                _arrow(ax, (t * dx + 0.4, r * dy), ((t + 1) * dx - 0.4, r * dy), NEUTRAL, 1.0)
            if r < rows - 1:
                _arrow(ax, (t * dx, r * dy + 0.25), (t * dx, (r + 1) * dy - 0.25), NEUTRAL, 1.0)
        ax.text(t * dx, -0.55, f"t−{lag - t}" if t < lag else "t", ha="center", va="top", fontsize=11)
    # the path: up at each climb, along each layer between climbs
    xs = [0.0] + [c * dx for layer in range(1, num_layers + 1) for c in climbs[layer - 1 : layer + 1]] + [lag * dx]
    ys = [0.0] + [layer * dy for layer in range(1, num_layers + 1) for _ in range(2)] + [(rows - 1) * dy]
    ax.plot(xs, ys, color="#222222", linewidth=3.2, zorder=4, solid_capstyle="round")
    for t, r, kind in path["masks"]:  # a vertical hop from row r (whole t) or a step along layer r (t + 0.5)
        x, y = t * dx, (r + 0.5) * dy if float(t).is_integer() else r * dy
        ax.plot(x, y, MASK_MARKERS[kind], color=color, ms=13, markeredgecolor="white", markeredgewidth=1.0, zorder=7)
    # the title counts with the analysis floor; the tests hold the markers equal to it
    n = masks_on_path(scheme, num_layers, lag, path=route)["applications"]
    ax.set_xlim(-1.0, lag * dx + 1.0)
    ax.set_ylim(-1.1, (rows - 1) * dy + 0.5)
    where = {"h": "along h", "c": "along the cell c"}[route]
    title = (
        f"{scheme}: a signal from x(t−{lag}) to the softmax at t meets {n} dropout mask{'s' if n != 1 else ''} "
        f"({where}; Zaremba: L + 1 = {num_layers + 1} at every lag)"
    )
    ax.set_title(title, loc="left", fontsize=13, color=color if scheme != "none" else "#333333")
    return fig
