"""Every figure the chapters draw from recorded runs and scheme tables: learning curves, a
recorded run, chapter 01's story, the unrolled LSTM with each scheme's dropout sites, masks over
time, Table 1. The style and the toolkit (sizes, colours, :func:`show`, :func:`to_png`) live in
:mod:`rnnreg.views.style`.
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch, Rectangle

from ..analysis.schemes import (
    CONNECTION_LABELS,
    CONNECTIONS,
    MASK_KINDS,
    MASK_LABELS,
    PATH_OF,
    SCHEME_INFO,
    masks_on_path,
    sample_masks,
    sites,
)
from ..model import SCHEMES
from ..published import reported
from .style import (
    BOOK_RC,
    NEUTRAL,
    SCHEME_COLORS,
    SOURCE_COLORS,
    TALL,
    TRAIN_STYLE,
    VALID_STYLE,
    WIDE,
    color_for,
    log_ticks,
    new_figure,
)


def _records(log) -> list[dict]:
    if hasattr(log, "to_dict"):  # a DataFrame
        return log.to_dict("records")
    if hasattr(log, "log") and not isinstance(log, (list, tuple)):  # a Run or RunResult
        return _records(log.log)
    return list(log)


# --------------------------------------------------------------------------------------------
# Learning curves
# --------------------------------------------------------------------------------------------
def plot_curves(logs: Mapping[str, object], *, ax=None, title: str | None = None,
                steps: Mapping[str, Sequence[tuple[float, float]]] | None = None,
                references: Sequence[tuple[str, float]] = (), colors: Mapping[str, str] | None = None,
                logy: bool = True, show_train: bool = True, note: str | None = None,
                xmax: float | None = None) -> Figure:
    """Train (dashed) and validation (solid) perplexity per epoch for each labelled log.

    ``logs``: label -> per-epoch records (list of dicts, DataFrame, ``Run`` or ``RunResult``) with
    ``epoch``, ``train_ppl``, ``valid_ppl``. ``steps``: label -> (fractional epoch, running train
    ppl) points drawn as a thin line (the live view). ``references``: (label, value) horizontal
    dotted lines, e.g. the paper's numbers. ``note``: a line under the plot naming the runs shown.
    """
    if ax is None:
        fig, ax = new_figure()
    else:
        fig = ax.figure
    steps = steps or {}
    labels = list(dict.fromkeys([*logs, *steps]))
    ymin, ymax = math.inf, 0.0
    for i, label in enumerate(labels):
        color = (colors or {}).get(label) or color_for(label, i)
        recs = _records(logs.get(label, []))
        pts = steps.get(label, ())
        if pts:
            xs, ys = zip(*pts)
            ax.plot(xs, ys, color=color, linewidth=1.0, alpha=0.5, **TRAIN_STYLE)
            if len(recs) < 2:  # the live line is the curve: scale to it, past its first-steps spike
                settled = [y for x, y in pts if x >= 0.2 * xs[-1]] or list(ys)
                ymin, ymax = min(ymin, min(settled)), max(ymax, max(settled))
        if recs:
            ep = [r["epoch"] for r in recs]
            tr = [r["train_ppl"] for r in recs]
            va = [r["valid_ppl"] for r in recs]
            if show_train:
                ax.plot(ep, tr, color=color, marker="o", markersize=4, **TRAIN_STYLE)
            ax.plot(ep, va, color=color, marker="o", markersize=5, label=label, **VALID_STYLE)
            vals = (tr if show_train else []) + va
            ymin, ymax = min(ymin, *vals), max(ymax, *vals)
        elif pts:
            ax.plot([], [], color=color, label=label)
    for j, (label, value) in enumerate(references):
        ax.axhline(value, color="#333333", linestyle=":", linewidth=1.5)
        ax.annotate(label, (0.0, value), xycoords=("axes fraction", "data"), xytext=(4, 3),
                    textcoords="offset points", ha="left", va="bottom", fontsize=11, color="#333333")
        ymin, ymax = min(ymin, value), max(ymax, value)
    if logy and ymax > 0 and math.isfinite(ymin):
        ax.set_yscale("log")
        log_ticks(ax, ymin, ymax)
    ax.set_xlabel("epoch")
    ax.set_ylabel("perplexity")
    ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
    if xmax is not None:
        ax.set_xlim(0, xmax + 0.3)
    # one legend for the runs (colours) and one for the line styles
    handles, lbls = ax.get_legend_handles_labels()
    style = [mpl.lines.Line2D([], [], color="#555555", **TRAIN_STYLE),
             mpl.lines.Line2D([], [], color="#555555", **VALID_STYLE)]
    if show_train:
        handles, lbls = handles + style, lbls + ["train (dashed)", "valid (solid)"]
    if handles:
        # outside the axes, right of them: a legend inside covers the last epochs, where the curves part
        ax.legend(handles, lbls, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
                  ncol=1 if len(handles) < 9 else 2)
    if title:
        ax.set_title(title, loc="left")
    if note:
        fig.text(0.01, 0.0, note, fontsize=10, color="#555555", ha="left", va="bottom")
        fig.get_layout_engine().set(rect=(0, 0.05, 1, 0.95))
    return fig



def plot_final_bars(values: Mapping[str, float], *, ax=None, ylabel: str = "valid perplexity (last epoch)",
                    title: str | None = None, digits: int = 1) -> Figure:
    """One bar per label (coloured by scheme), the value written on it."""
    if ax is None:
        fig, ax = new_figure()
    else:
        fig = ax.figure
    labels = list(values)
    ys = [values[k] for k in labels]
    bars = ax.bar(range(len(labels)), ys, color=[color_for(k, i) for i, k in enumerate(labels)])
    for b, y in zip(bars, ys):
        ax.annotate(f"{y:.{digits}f}", (b.get_x() + b.get_width() / 2, y), xytext=(0, 3),
                    textcoords="offset points", ha="center", va="bottom", fontsize=12)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels([str(k).replace(" ", "\n") for k in labels])
    ax.set_ylabel(ylabel)
    ax.grid(axis="x", visible=False)
    if ys:
        ax.set_ylim(0, max(ys) * 1.15)
    if title:
        ax.set_title(title, loc="left")
    return fig


def plot_comparison(logs: Mapping[str, object], *, title: str | None = None, note: str | None = None,
                    steps: Mapping[str, Sequence[tuple[float, float]]] | None = None,
                    xmax: float | None = None) -> Figure:
    """Curves (left) and last-epoch validation perplexity per run (right): a quick scheme race."""
    fig, (ax1, ax2) = new_figure(WIDE, 1, 2, width_ratios=(1.6, 1))
    plot_curves(logs, ax=ax1, steps=steps, xmax=xmax)
    finals = {k: _records(v)[-1]["valid_ppl"] for k, v in logs.items() if len(_records(v))}
    plot_final_bars(finals, ax=ax2)
    if title:
        fig.suptitle(title, x=0.01, ha="left", fontsize=BOOK_RC["axes.titlesize"])
    if note:
        fig.text(0.01, 0.0, note, fontsize=10, color="#555555", ha="left", va="bottom")
        fig.get_layout_engine().set(rect=(0, 0.05, 1, 0.95))
    return fig


def plot_run(run, *, label: str | None = None, model: str | None = None, title: str | None = None) -> Figure:
    """A recorded run's curves, with the published numbers of ``model`` as dotted references.

    ``run``: an ``rnnreg.analysis.runs.Run``. ``model`` (default: the run's preset) picks the paper's
    valid perplexity and the TF tutorial's train perplexity from ``rnnreg.published.REPORTED``.
    The footnote names the run and the sources.
    """
    model = model or run.config.get("preset")
    refs = []
    try:
        paper, tf = reported(model, "paper"), reported(model, "tf")
        refs = [(f"paper valid {paper['valid']}", paper["valid"]), (f"TF tutorial train {tf['train']}", tf["train"])]
    except KeyError:
        pass
    label = label or f"{run.config.get('scheme')}, {run.config.get('num_layers')}×{run.config.get('hidden_size')}"
    note = f"Recorded run {run.describe()}." + (" References: paper Table 1; TF ptb_word_lm.py." if refs else "")
    return plot_curves({label: run.log}, references=refs, title=title or f"Recorded run {run.name}", note=note,
                       colors={label: color_for(run.config.get("scheme", ""))},
                       xmax=run.epochs_planned)


#: Colours of chapter 01's full-scale story (keyed by the run's name under results/<corpus>/).
STORY_COLORS = {"small": "#999999", "medium-nodrop": SCHEME_COLORS["none"], "medium": SCHEME_COLORS["zaremba"]}


def plot_story(story: Mapping[str, object], *, title: str | None = None) -> Figure:
    """Chapter 01's full-scale story: train (dashed) and valid (solid) perplexity of each recorded run.

    ``story``: :func:`rnnreg.analysis.runs.story_runs` (label -> ``Run``). The x axis spans the longest
    planned run, so a run still training shows how far it has come.
    """
    colors = {
        label: STORY_COLORS.get(run.path.name, color_for(label, i)) for i, (label, run) in enumerate(story.items())
    }
    xmax = max((run.epochs_planned or run.epochs_done for run in story.values()), default=None)
    fig, ax = new_figure(WIDE)
    plot_curves({label: run.log for label, run in story.items()}, ax=ax, colors=colors, xmax=xmax,
                title=title or "Full PTB: the same 2×650 LSTM with and without dropout, beside the small model")
    return fig


# --------------------------------------------------------------------------------------------
# The unrolled two-layer LSTM with each scheme's dropout sites
# --------------------------------------------------------------------------------------------
_BOX_W, _BOX_H, _DX, _DY = 1.5, 1.0, 3.4, 1.9


def _strip(ax, x, y, keep_row, color, cell=0.16, zoneout=False):
    """A row of squares, one per unit: filled = dropped (or, for zoneout, copied from t-1)."""
    n = len(keep_row)
    x0 = x - n * cell / 2
    ax.add_patch(Rectangle((x0 - 0.04, y - cell / 2 - 0.04), n * cell + 0.08, cell + 0.08,
                           facecolor="white", edgecolor=color, linewidth=1.2, zorder=5))
    for k, keep in enumerate(keep_row):
        face = "white" if keep else (color if not zoneout else "#bbbbbb")
        ax.add_patch(Rectangle((x0 + k * cell, y - cell / 2), cell, cell, facecolor=face,
                               edgecolor=color, linewidth=0.6, hatch=None if keep or not zoneout else "///",
                               zorder=6))


def _grid(ax, x, y, mask, color, cell=0.12):
    rows, cols = mask.shape
    x0, y0 = x - cols * cell / 2, y + rows * cell / 2
    ax.add_patch(Rectangle((x0 - 0.04, y0 - rows * cell - 0.04), cols * cell + 0.08, rows * cell + 0.08,
                           facecolor="white", edgecolor=color, linewidth=1.2, zorder=5))
    for r in range(rows):
        for c in range(cols):
            ax.add_patch(Rectangle((x0 + c * cell, y0 - (r + 1) * cell), cell, cell, zorder=6,
                                   facecolor="white" if mask[r, c] else color, edgecolor=color, linewidth=0.5))


def _arrow(ax, p, q, color, width, style="-|>", ls="-"):
    ax.add_patch(FancyArrowPatch(p, q, arrowstyle=style, mutation_scale=14, color=color,
                                 linewidth=width, linestyle=ls, shrinkA=0, shrinkB=0, zorder=3))


def draw_unrolled_lstm(scheme: str = "zaremba", *, steps: int = 3, units: int = 6, rate: float = 0.5,
                       seed: int = 0, ax=None, caption: bool = True) -> Figure:
    """The two-layer LSTM unrolled over ``steps`` time steps, with the scheme's dropout sites.

    Every connection the scheme perturbs is drawn in the scheme's colour and carries a strip
    of ``units`` squares: the mask the model draws there (via :func:`rnnreg.analysis.schemes.sample_masks`;
    filled = unit dropped). Fresh masks change from column to column; shared ones repeat.
    Recurrent arrows: c(t-1) -> c(t) on top, h(t-1) -> h(t) below, inside each layer.
    """
    placed = {s.connection: s for s in sites(scheme)}
    color = SCHEME_COLORS[scheme]
    masks = [sample_masks(scheme, steps=steps, units=units, rate=rate, seed=seed + layer)
             for layer in range(2)]
    if ax is None:
        fig, ax = new_figure(TALL)
    else:
        fig = ax.figure
    ax.set_axis_off()
    ax.set_aspect("equal")
    xs = [1.6 + t * _DX for t in range(steps)]
    rows = {"x": 0.0, 1: _DY, 2: 2 * _DY, "y": 3 * _DY}
    names = {0: "t−1", 1: "t", 2: "t+1"} if steps == 3 else {}

    def box(x, y, text, face):
        ax.add_patch(FancyBboxPatch((x - _BOX_W / 2, y - _BOX_H / 2), _BOX_W, _BOX_H,
                                    boxstyle="round,pad=0.02,rounding_size=0.12", facecolor=face,
                                    edgecolor="#333333", linewidth=1.3, zorder=4))
        ax.text(x, y, text, ha="center", va="center", fontsize=13, zorder=7)

    for t, x in enumerate(xs):
        tn = names.get(t, str(t))
        box(x, rows["x"], f"x({tn})", "#f2f2f2")
        box(x, rows[1], "LSTM 1", "#e8f0f8")
        box(x, rows[2], "LSTM 2", "#e8f0f8")
        box(x, rows["y"], "softmax", "#f2f2f2")
        # vertical (non-recurrent) connections
        for conn, y0, y1 in (("input", rows["x"], rows[1]), ("between", rows[1], rows[2]),
                             ("output", rows[2], rows["y"])):
            site = placed.get(conn)
            on = site is not None
            _arrow(ax, (x, y0 + _BOX_H / 2), (x, y1 - _BOX_H / 2), color if on else NEUTRAL, 2.6 if on else 1.4)
            if on:
                _strip(ax, x, (y0 + y1) / 2, masks[0][conn][t].tolist(), color)
    # recurrent connections, entering each column from the left (state of the previous step)
    for layer in (1, 2):
        y = rows[layer]
        m = masks[layer - 1]
        for t, x in enumerate(xs):
            x_from = x - _DX + _BOX_W / 2 if t else x - _DX / 2 - 0.3
            for conn, dy in (("c", 0.28), ("h", -0.28)):
                site = placed.get(conn)
                on = site is not None
                _arrow(ax, (x_from, y + dy), (x - _BOX_W / 2, y + dy), color if on else NEUTRAL,
                       2.6 if on else 1.4, ls="--" if on and site.mask == "zoneout" else "-")
                xm = (x_from + x - _BOX_W / 2) / 2
                if t == 0:
                    ax.text(x_from - 0.1, y + dy, conn, ha="right", va="center", fontsize=12, color="#555555")
                if on and conn in m:
                    _strip(ax, xm, y + dy + (0.22 if dy > 0 else -0.22), m[conn][t].tolist(), color,
                           zoneout=site.mask == "zoneout")
            if "w_hh" in placed and "w_hh" in m:
                xm = (x_from + x - _BOX_W / 2) / 2
                _grid(ax, xm, y - 0.75, m["w_hh"][:3].numpy(), color)
                _arrow(ax, (x_from, y - 0.28), (x - _BOX_W / 2, y - 0.28), color, 2.6)
        ax.annotate("", (xs[-1] + _BOX_W / 2 + 0.9, y), (xs[-1] + _BOX_W / 2, y),
                    arrowprops=dict(arrowstyle="-|>", color=NEUTRAL, linewidth=1.4))
    ax.set_xlim(xs[0] - _DX / 2 - 1.0, xs[-1] + _BOX_W / 2 + 1.1)
    ax.set_ylim(rows["x"] - 0.9, rows["y"] + 0.8)
    info = SCHEME_INFO[scheme]
    ax.set_title(f"{scheme} — {info['title']}", loc="left", color=color if scheme != "none" else "#333333")
    if caption:
        path = masks_on_path(scheme, 2, steps - 1)
        kinds = sorted({s.mask for s in placed.values()}, key=MASK_KINDS.index)
        how = "; ".join(MASK_LABELS[k] for k in kinds) if kinds else "no masks"
        text = (
            f"{info['source']}.  Masks: {how}.\n"
            f"A signal from x(t−1) carried to the softmax at t+1 (two steps along one layer) is "
            f"multiplied by {path['applications']} dropout masks ({path['distinct']} distinct).  "
            f"Squares: {units} units, filled = dropped"
            + (", hatched = copied from t−1" if scheme == "zoneout" else "")
            + "."
        )
        fig.text(0.01, 0.005, text, fontsize=11, color="#333333", ha="left", va="bottom", wrap=True)
        fig.get_layout_engine().set(rect=(0, 0.09, 1, 0.91))
    return fig


def draw_schemes(schemes: Sequence[str] = ("zaremba", "everywhere"), **kw) -> Figure:
    """Several unrolled diagrams side by side (small multiples), each titled with its mask count."""
    fig, axes = new_figure((7.0 * len(schemes), 6.2), 1, len(schemes))
    for ax, s in zip(np.atleast_1d(axes), schemes):
        draw_unrolled_lstm(s, ax=ax, caption=False, **kw)
        path = masks_on_path(s, 2, kw.get("steps", 3) - 1)
        ax.set_title(f"{s}: {path['applications']} masks on the path x(t−1) → … → y(t+1)", loc="left",
                     color=SCHEME_COLORS[s], fontsize=14)
    fig.text(0.01, 0.0, "Filled squares: dropped units of the mask drawn there by the model's own code "
             "(rnnreg.analysis.schemes.sample_masks). Top arrows in a layer: c(t−1) → c(t); lower: h(t−1) → h(t).",
             fontsize=11, color="#555555", ha="left", va="bottom")
    fig.get_layout_engine().set(rect=(0, 0.05, 1, 0.95))
    return fig


#: Marker shape per kind of mask (the same in every figure that marks sites).
MASK_MARKERS = {"fresh": "o", "shared": "s", "weights": "D", "zoneout": "^"}


def draw_lstm_cell(schemes: Sequence[str] = SCHEMES) -> Figure:
    """One LSTM layer at one time step, gate by gate, with a marker wherever a scheme puts a mask.

    The paper's equations (one layer l, inputs from below and from the previous step)::

        (i, f, g, o) = (σ, σ, tanh, σ)(W_ih D(h^{l-1}_t) + W_hh h^l_{t-1} + b)
        c^l_t = f ⊙ c^l_{t-1} + i ⊙ g,      h^l_t = o ⊙ tanh(c^l_t)

    ``D`` sits on the input from below (and, for the layer above / the softmax, on h^l_t going up):
    Zaremba's placement. Each other scheme adds a site on x, h(t−1), c(t−1), W_hh or the outputs
    (:data:`rnnreg.analysis.schemes.SCHEME_SITES`); colour = scheme, shape = kind of mask.
    """
    from matplotlib.lines import Line2D

    fig, ax = new_figure((12.0, 6.4))
    ax.set_axis_off()
    ax.set_aspect("equal")
    ink = "#333333"

    def box(x, y, w, h, text, face="#f2f2f2", size=13):
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.1",
                                    facecolor=face, edgecolor=ink, linewidth=1.2, zorder=4))
        ax.text(x, y, text, ha="center", va="center", fontsize=size, zorder=7)

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
    line((0.0, 1.2), (1.45, 1.2))            # h(t-1) -> W_hh
    line((2.55, 1.2), (4.25, 1.2))           # W_hh -> gates
    line((3.4, -1.6), (3.4, -0.4))           # x -> W_ih
    line((3.95, 0.0), (4.25, 0.7))           # W_ih -> gates
    node(6.6, 4.0, "⊙")                       # f ⊙ c(t-1)
    node(8.0, 4.0, "+")                       # + i ⊙ g
    node(8.0, 2.6, "⊙")                       # i ⊙ g
    box(9.4, 2.6, 0.9, 0.6, "tanh", size=11)
    node(9.4, 1.2, "⊙")                       # o ⊙ tanh(c)
    line((0.0, 4.0), (6.32, 4.0))            # c(t-1) -> f ⊙
    line((5.4, 2.0), (6.6, 3.72))            # f
    line((5.75, 1.6), (7.72, 2.6))           # i, g
    line((8.0, 2.88), (8.0, 3.72))           # i ⊙ g -> +
    line((6.88, 4.0), (7.72, 4.0))
    line((8.28, 4.0), (11.4, 4.0))           # c(t) ->
    line((9.4, 4.0), (9.4, 2.9))             # c(t) -> tanh
    line((9.4, 2.3), (9.4, 1.48))            # tanh -> ⊙
    line((5.75, 1.0), (9.12, 1.2))           # o
    line((9.68, 1.2), (11.4, 1.2))           # h(t) -> next step
    line((10.4, 1.2), (10.4, -1.2))          # h(t) -> up (drawn downwards-free: a branch to the layer above)
    ax.text(11.5, 4.0, "c(t)", ha="left", va="center", fontsize=13)
    ax.text(11.5, 1.2, "h(t)", ha="left", va="center", fontsize=13)
    ax.text(10.4, -1.35, "h(t) to the layer above\n/ the softmax", ha="center", va="top", fontsize=11)

    # where each connection's mask enters the picture: the first marker's place on its arrow and
    # the step to the next scheme's marker there
    spots = {"input": ((3.05, -1.0), (-0.34, 0.0)), "output": ((10.75, -0.5), (0.34, 0.0)),
             "h": ((0.45, 1.62), (0.34, 0.0)), "c": ((0.45, 4.42), (0.34, 0.0)),
             "w_hh": ((2.0, 1.85), (0.34, 0.0)), "zoneout h": ((10.9, 1.62), (0.34, 0.0)),
             "zoneout c": ((10.9, 4.42), (0.34, 0.0))}
    placed: dict[str, int] = {}
    for scheme in schemes:
        for site in sites(scheme):
            if site.connection == "between":
                continue  # the arrow from below seen by the layer above: the same picture as "input"
            key = f"zoneout {site.connection}" if site.mask == "zoneout" else site.connection
            (x0, y0), (sx, sy) = spots[key]
            k = placed.get(key, 0)
            placed[key] = k + 1
            ax.plot(x0 + k * sx, y0 + k * sy, MASK_MARKERS[site.mask], color=SCHEME_COLORS[scheme], markersize=11,
                    markeredgecolor="white", markeredgewidth=0.8, zorder=8)
    ax.set_xlim(-1.6, 12.6)
    ax.set_ylim(-2.6, 5.4)
    handles = [Line2D([], [], color=SCHEME_COLORS[s], marker="o", linestyle="", markersize=10, label=s)
               for s in schemes if s != "none"]
    handles += [Line2D([], [], color=ink, marker=MASK_MARKERS[k], linestyle="", markersize=9, markerfacecolor="white",
                       label=MASK_LABELS[k].split(" (")[0]) for k in MASK_KINDS]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=11)
    ax.set_title("Zaremba masks only what goes in from below and up; later schemes add h(t−1), c(t−1) or W_hh",
                 loc="left", fontsize=14)
    return fig


def information_route(scheme: str) -> str:
    """The recurrent route a signal is followed along in :func:`draw_information_path`: the cell for a
    scheme that zeroes the cell (``memory``), else ``W_hh h(t−1)``."""
    return "c" if any(s.connection == "c" and s.mask != "zoneout" for s in sites(scheme)) else "h"


def path_climbs(lag: int, num_layers: int = 2) -> list[int]:
    """When the Figure 3 path climbs: into layer 1 at time 0, one layer up after each equal share of
    the lag, into the softmax at ``lag`` (times counted 0..lag)."""
    return [round(lag * j / num_layers) for j in range(num_layers)] + [lag]


def path_mask_points(scheme: str, lag: int, num_layers: int = 2) -> list[tuple[float, int, str]]:
    """Where the signal of the paper's Figure 3 meets a mask: ``(time, layer, kind)`` per multiplication.

    The path climbs from x(t−lag) into layer 1, runs along layer 1 for the first half of the lag,
    climbs, runs along the top layer for the rest, and leaves through the softmax at t (time is
    counted 0..lag). Vertical hops meet the scheme's non-recurrent masks (L + 1 of them); each step
    along a layer meets the scheme's masks on the route it travels (:func:`information_route`).
    Counted the same way as :func:`rnnreg.analysis.schemes.masks_on_path`.
    """
    ss = sites(scheme)
    route = information_route(scheme)
    climbs = path_climbs(lag, num_layers)  # time of each vertical hop
    points: list[tuple[float, int, str]] = []
    vertical = {s.connection: s.mask for s in ss if not s.recurrent}
    for j, t in enumerate(climbs):  # hop j goes from row j to row j + 1 (0 = x, L + 1 = softmax)
        conn = "input" if j == 0 else ("output" if j == num_layers else "between")
        if conn in vertical:
            points.append((float(t), j, vertical[conn]))
    on_route = [s for s in ss if s.recurrent and s.mask != "zoneout" and PATH_OF[s.connection] == route]
    for layer in range(1, num_layers + 1):
        for t in range(climbs[layer - 1], climbs[layer]):
            for s in on_route:
                points.append((t + 0.5, layer, s.mask))
    return points


def draw_information_path(scheme: str = "zaremba", lag: int = 4, num_layers: int = 2) -> Figure:
    """The paper's Figure 3: a signal from x(t−lag) to the softmax at t, with every mask it meets."""
    if lag < 1:
        raise ValueError("lag must be >= 1")
    color = SCHEME_COLORS[scheme]
    fig, ax = new_figure((12.0, 5.4))
    ax.set_axis_off()
    dx, dy = 1.4, 1.25
    rows = num_layers + 2
    climbs = path_climbs(lag, num_layers)
    route = information_route(scheme)
    for t in range(lag + 1):
        for r in range(rows):
            label = "x" if r == 0 else ("softmax" if r == rows - 1 else f"L{r}")
            ax.add_patch(FancyBboxPatch((t * dx - 0.4, r * dy - 0.25), 0.8, 0.5,
                                        boxstyle="round,pad=0.02,rounding_size=0.08", facecolor="#f5f5f5",
                                        edgecolor="#999999", linewidth=0.9, zorder=5))
            ax.text(t * dx, r * dy, label, ha="center", va="center", fontsize=10, color="#555555", zorder=5)
            if 0 < r < rows - 1 and t < lag:
                _arrow(ax, (t * dx + 0.4, r * dy), ((t + 1) * dx - 0.4, r * dy), NEUTRAL, 1.0)
            if r < rows - 1:
                _arrow(ax, (t * dx, r * dy + 0.25), (t * dx, (r + 1) * dy - 0.25), NEUTRAL, 1.0)
        ax.text(t * dx, -0.55, f"t−{lag - t}" if t < lag else "t", ha="center", va="top", fontsize=11)
    # the path: up at each climb, along each layer between climbs
    xs, ys = [0.0], [0.0]
    for layer in range(1, num_layers + 1):
        xs += [climbs[layer - 1] * dx, climbs[layer] * dx]
        ys += [layer * dy, layer * dy]
    xs.append(lag * dx)
    ys.append((rows - 1) * dy)
    ax.plot(xs, ys, color="#222222", linewidth=3.2, zorder=4, solid_capstyle="round")
    points = path_mask_points(scheme, lag, num_layers)
    for t, r, kind in points:  # a vertical hop from row r (whole t) or a step along layer r (t + 0.5)
        x, y = t * dx, (r + 0.5) * dy if float(t).is_integer() else r * dy
        ax.plot(x, y, MASK_MARKERS[kind], color=color, markersize=13, markeredgecolor="white",
                markeredgewidth=1.0, zorder=7)
    n = masks_on_path(scheme, num_layers, lag, path=route)["applications"]
    assert n == len(points), "the drawing and masks_on_path disagree"
    ax.set_xlim(-1.0, lag * dx + 1.0)
    ax.set_ylim(-1.1, (rows - 1) * dy + 0.5)
    where = {"h": "along h", "c": "along the cell c"}[route]
    ax.set_title(f"{scheme}: a signal from x(t−{lag}) to the softmax at t meets {n} dropout mask"
                 f"{'s' if n != 1 else ''} ({where}; Zaremba: L + 1 = {num_layers + 1} at every lag)",
                 loc="left", fontsize=13, color=color if scheme != "none" else "#333333")
    return fig


# --------------------------------------------------------------------------------------------
# Masks over time
# --------------------------------------------------------------------------------------------
def plot_masks(masks: Mapping, *, scheme: str | None = None, connections: Sequence[str] | None = None,
               title: str | None = None) -> Figure:
    """Dropout masks as images: time steps across, units down; dark = dropped.

    ``masks``: one scheme's ``{connection: tensor}`` (from :func:`rnnreg.analysis.schemes.sample_masks`,
    pass ``scheme=``) or several schemes' ``{scheme: {connection: tensor}}``, one row each.
    ``connections``: the columns (default: every connection present). A scheme that leaves a
    connection alone shows "untouched" there. ``w_hh`` is shown as a matrix (the same at every step).
    """
    if masks and all(hasattr(v, "shape") for v in masks.values()):
        masks = {scheme or "masks": masks}
    if connections is None:
        present = {c for m in masks.values() for c in m}
        connections = [c for c in CONNECTIONS if c in present] or ["input"]
    nrow, ncol = len(masks), len(connections)
    fig, axes = new_figure((max(4.0 * ncol, 8.0), 2.3 * nrow + 1.0), nrow, ncol)
    axes = np.atleast_2d(np.asarray(axes).reshape(nrow, ncol))
    for i, (name, m) in enumerate(masks.items()):
        color = SCHEME_COLORS.get(name, SCHEME_COLORS.get(scheme or "", "#333333"))
        cmap = mpl.colors.ListedColormap([color, "#f4f4f4"])
        zoneout = name == "zoneout" or scheme == "zoneout"
        for j, conn in enumerate(connections):
            ax = axes[i, j]
            ax.grid(False)
            if conn not in m:
                ax.set_xticks([])
                ax.set_yticks([])
                for s in ax.spines.values():
                    s.set_visible(False)
                ax.text(0.5, 0.5, "untouched", ha="center", va="center", transform=ax.transAxes,
                        fontsize=13, color="#888888")
            else:
                img = np.asarray(m[conn], dtype=float)
                if conn == "w_hh":
                    n = img.shape[1]
                    ax.imshow(img[:n], cmap=cmap, vmin=0, vmax=1, aspect="auto", interpolation="nearest")
                    ax.set_xlabel("from unit (h at t−1)")
                    ax.set_ylabel("to gate unit")
                else:
                    ax.imshow(img.T, cmap=cmap, vmin=0, vmax=1, aspect="auto", interpolation="nearest")
                    ax.set_xlabel("time step")
                    if j == 0:
                        ax.set_ylabel("unit")
                kept = img.mean()
                word = "updated" if zoneout and conn in ("h", "c") else "kept"
                ax.set_title(f"{CONNECTION_LABELS[conn]}  ({word} {kept:.0%})", fontsize=12)
            if j == 0 and nrow > 1:
                ax.annotate(name, (-0.3, 0.5), xycoords="axes fraction", rotation=90, ha="center",
                            va="center", fontsize=14, color=color, fontweight="bold")
    if title:
        fig.suptitle(title, x=0.01, ha="left", fontsize=BOOK_RC["axes.titlesize"])
    fig.text(0.99, 0.0, "coloured = dropped (zoneout: kept from t−1), light = passed", fontsize=10,
             color="#555555", ha="right", va="bottom")
    fig.get_layout_engine().set(rect=(0, 0.04, 1, 0.96))
    return fig


# --------------------------------------------------------------------------------------------
# Table 1
# --------------------------------------------------------------------------------------------
def plot_table1(df, *, title: str = "Table 1, single models: word-level PTB perplexity") -> Figure:
    """Grouped bars per model size: the paper, the TF tutorial and this project (valid | test).

    ``df``: :func:`rnnreg.analysis.runs.table1`. Where this project has no number, there is no bar: the
    slot says "not run here" (or the run's progress) and the full run's estimated cost, so that
    nothing that is not data looks like data. The footnote names the recorded runs it shows.
    """
    fig, axes = new_figure(WIDE, 1, 2, sharey=True)
    sources = (("paper", "paper"), ("tf", "TF tutorial"), ("here", "this project"))
    models = list(df.index)
    width = 0.26
    complete = df["here_status"].str.startswith("complete").to_numpy()
    values = df[[f"{s}_{k}" for s, _ in sources for k in ("valid", "test")]].to_numpy(dtype=float, copy=True)
    values[~complete, 4:] = np.nan  # the "here" columns of runs still training set no scale
    top = np.nanmax(values)
    for ax, split in zip(axes, ("valid", "test")):
        ax.grid(axis="x", visible=False)
        for j, (src, label) in enumerate(sources):
            xs = np.arange(len(models)) + (j - 1) * width
            ys = df[f"{src}_{split}"].to_numpy(dtype=float)
            for x, y, status, cost in zip(xs, ys, df["here_status"], df.get("cost_h", [math.nan] * len(df))):
                final = src != "here" or status.startswith("complete")
                if np.isnan(y) or not final:  # no number yet, or one a run still training will change
                    gap = "not run here" if status == "not yet run here" else status.split(",")[0]
                    if not np.isnan(y):
                        gap += f" ({y:.1f} so far)"
                    if math.isfinite(cost):
                        gap += f"\n(full run ≈ {cost:.0f} h, 2 CPU cores)"
                    ax.text(x, 0.02 * top, gap, rotation=90, ha="center", va="bottom", fontsize=9,
                            color="#555555")
                else:
                    ax.bar(x, y, width, color=SOURCE_COLORS[src])
                    ax.text(x, y + top * 0.01, f"{y:.1f}", ha="center", va="bottom", fontsize=9.5, rotation=90)
        ax.set_xticks(np.arange(len(models)))
        ax.set_xticklabels(models)
        ax.set_title(f"{split} perplexity", fontsize=14)
        ax.set_ylim(0, top * 1.32)
    axes[0].set_ylabel("perplexity (lower is better)")
    handles = [Patch(facecolor=SOURCE_COLORS[src], label=label) for src, label in sources]
    axes[1].legend(handles=handles, loc="upper right", ncol=3, frameon=True, framealpha=0.9, edgecolor="white")
    fig.suptitle(title, x=0.01, ha="left", fontsize=BOOK_RC["axes.titlesize"])
    runs = [f"{r} ({st.split(',')[0].split(':')[0]})" for r, st in zip(df["here_run"], df["here_status"])
            if str(r).startswith("results/")]
    note = ("Sources: paper = Zaremba et al. (2014) Table 1; TF = tensorflow/models ptb_word_lm.py. "
            f"This project: {', '.join(runs) if runs else 'no recorded run yet'}.")
    fig.text(0.01, 0.0, note, fontsize=10, color="#555555", ha="left", va="bottom")
    fig.get_layout_engine().set(rect=(0, 0.05, 1, 0.95))
    return fig
