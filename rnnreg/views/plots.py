"""Figures from runs: learning curves, recorded runs, masks over time."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure

from ..analysis.schemes import CONNECTION_LABELS, CONNECTIONS
from ..published import reported
from .style import (
    OTHER_COLORS,
    SCHEME_COLORS,
    TRAIN_STYLE,
    VALID_STYLE,
    WIDE,
    add_note,
    color_for,
    empty_note,
    log_ticks,
    new_figure,
    suptitle,
)


def _records(log) -> list[dict]:
    """Per-epoch records of a list of dicts or a DataFrame (a ``Run``'s log)."""
    return log.to_dict("records") if hasattr(log, "to_dict") else list(log)


def plot_curves(
    logs: Mapping[str, object],
    *,
    ax=None,
    title: str | None = None,
    references: Sequence[tuple[str, float]] = (),
    colors: Mapping[str, str] | None = None,
    note: str | None = None,
    xmax: float | None = None,
    legend: str = "right",
) -> Figure:
    """Train (dashed) and validation (solid) perplexity per epoch, one colour per labelled log (a log without
    epochs yet: in the legend). ``references``: (label, value) dotted lines; ``legend``: ``"right"`` of the
    axes or ``"below"`` them (long labels)."""
    fig, ax = new_figure() if ax is None else (ax.figure, ax)
    drawn = []
    for i, (label, log) in enumerate(logs.items()):
        color = (colors or {}).get(label) or color_for(label, i)
        ep, tr, va = ([r[k] for r in _records(log)] for k in ("epoch", "train_ppl", "valid_ppl"))
        ax.plot(ep, tr, color=color, marker="o", markersize=4, **TRAIN_STYLE)
        ax.plot(ep, va, color=color, marker="o", markersize=5, label=label, **VALID_STYLE)
        drawn += tr + va
    ymin, ymax = min(drawn, default=math.inf), max(drawn, default=0.0)
    for label, value in references:
        ax.axhline(value, color="#333333", linestyle=":", linewidth=1.5)
        at = dict(xycoords=("axes fraction", "data"), xytext=(4, 3), textcoords="offset points", va="bottom")
        ax.annotate(label, (0.0, value), **at, fontsize=11, color="#333333")
        ymin, ymax = min(ymin, value), max(ymax, value)
    if ymax > 0 and math.isfinite(ymin):
        ax.set_yscale("log")
        log_ticks(ax, ymin, ymax)
    ax.set(xlabel="epoch", ylabel="perplexity")
    ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
    if xmax is not None:
        ax.set_xlim(0, xmax + 0.3)
    handles, labels = ax.get_legend_handles_labels()
    style = [mpl.lines.Line2D([], [], color="#555555", **s) for s in (TRAIN_STYLE, VALID_STYLE)]
    style_labels = ["train (dashed)", "valid (solid)"]
    if handles and legend == "below":  # the line styles in the top right, which falling curves leave empty
        ax.add_artist(ax.legend(style, style_labels, loc="upper right", frameon=False))
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(0.0, -0.16), frameon=False)
    elif handles:  # outside the axes: inside, a legend covers the last epochs, where the curves part
        handles, labels = handles + style, labels + style_labels
        ncol = 1 + (len(handles) >= 9)
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, ncol=ncol)
    if title:
        ax.set_title(title, loc="left")
    add_note(fig, note)
    return fig


def plot_comparison(
    logs: Mapping[str, object], *, title: str | None = None, note: str | None = None, xmax: float | None = None
) -> Figure:
    """Curves (left) and last-epoch validation perplexity per run (right), on an axis around the data."""
    fig, (ax1, ax2) = new_figure(WIDE, 1, 2, width_ratios=(1.6, 1))
    labels = list(logs)
    colors = {k: color_for(k, i) for i, k in enumerate(labels)}
    if len(set(colors.values())) < len(colors):  # runs of one scheme: one colour each
        colors = {k: OTHER_COLORS[i % len(OTHER_COLORS)] for i, k in enumerate(labels)}
    plot_curves(logs, ax=ax1, xmax=xmax, colors=colors)
    finals = {k: _records(v)[-1]["valid_ppl"] for k, v in logs.items() if len(_records(v))}
    # the words every label shares name the axis; the ticks keep what differs (r=0, r=0.25, ...)
    words = [k.split() for k in finals]
    shared = [w for w in words[0] if all(w in ws for ws in words)] if len(words) > 1 else []
    ticks = [" ".join(w for w in ws if w not in shared) or k for ws, k in zip(words, finals)]
    for i, (k, y) in enumerate(finals.items()):
        ax2.plot(i, y, "o", markersize=11, color=colors[k])
        ax2.annotate(f"{y:.1f}", (i, y), xytext=(12, 0), textcoords="offset points", va="center", fontsize=12)
    ax2.set_xticks(range(len(ticks)), [t.replace(" ", "\n") for t in ticks])
    ax2.set(xlim=(-0.5, len(ticks) - 0.2), xlabel=" ".join(shared), ylabel="valid perplexity (last epoch)")
    ax2.grid(axis="x", visible=False)
    if ys := list(finals.values()):
        pad = max(0.15 * (max(ys) - min(ys)), 0.01 * max(ys))
        ax2.set_ylim(min(ys) - pad, max(ys) + pad)
    if title:
        suptitle(fig, title)
    add_note(fig, note)
    return fig


def plot_runs(runs: Mapping[str, object], *, title: str | None = None, references: bool = False) -> Figure:
    """Recorded runs' curves by label (e.g. :func:`rnnreg.analysis.runs.story_runs`), the x axis spanning the
    longest planned run. ``references``: the first run's preset's paper valid and TF train perplexity, dotted."""
    first, refs = next(iter(runs.values())), []
    if references:
        paper, tf = (reported(first.config.get("preset"), source) for source in ("paper", "tf"))
        refs = [(f"paper valid {paper['valid']}", paper["valid"]), (f"TF tutorial train {tf['train']}", tf["train"])]
    story = {"small": "#999999", "medium-nodrop": SCHEME_COLORS["none"], "medium": SCHEME_COLORS["zaremba"]}
    colors = {k: story.get(run.path.name, color_for(k, i)) for i, (k, run) in enumerate(runs.items())}
    xmax = max(run.epochs_planned or run.epochs_done for run in runs.values())
    note = "Recorded: " + "; ".join(f"{run.name} ({run.status})" for run in runs.values()) + "."
    note += " References: paper Table 1; TF ptb_word_lm.py." if refs else ""
    fig, ax = new_figure(WIDE)
    logs = {k: run.log for k, run in runs.items()}
    plot_curves(logs, ax=ax, references=refs, colors=colors, xmax=xmax, legend="below", title=title, note=note)
    return fig


def plot_masks(masks: Mapping, *, connections: Sequence[str] | None = None, title: str | None = None) -> Figure:
    """Dropout masks (``{scheme: {connection: tensor}}``, :func:`rnnreg.analysis.schemes.sample_masks`), one
    row per scheme, one column per connection: time steps across, units down, coloured = dropped."""
    if connections is None:
        connections = [c for c in CONNECTIONS if any(c in m for m in masks.values())] or ["input"]
    nrow, ncol = len(masks), len(connections)
    fig, axes = new_figure((max(5.0 * ncol, 8.0), min(1.35 * nrow + 0.8, 5.0)), nrow, ncol)  # fits a slide
    axes = np.asarray(axes).reshape(nrow, ncol)
    for i, (name, m) in enumerate(masks.items()):
        color = SCHEME_COLORS.get(name, "#333333")
        cmap = mpl.colors.ListedColormap([color, "#f4f4f4"])
        for j, conn in enumerate(connections):
            ax = axes[i, j]
            ax.grid(False)
            if conn not in m:
                empty_note(ax, "untouched")
            else:
                img = np.asarray(m[conn], dtype=float)
                matrix = conn == "w_hh"  # the same at every step
                ax.imshow(
                    img[: img.shape[1]] if matrix else img.T, cmap=cmap, vmin=0, vmax=1, aspect="auto",
                    interpolation="nearest",  # a unit is kept or dropped: no blur between them
                )  # fmt: skip
                ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
                ax.set_xlabel("from unit (h at t−1)" if matrix else "time step")
                if matrix or j == 0:
                    ax.set_ylabel("to gate unit" if matrix else "unit")
                word = "updated" if name == "zoneout" and conn in ("h", "c") else "kept"
                ax.set_title(f"{CONNECTION_LABELS[conn]}  ({word} {img.mean():.0%})", fontsize=12)
            if j == 0 and nrow > 1:
                at = dict(xycoords="axes fraction", rotation=90, ha="center", va="center", fontweight="bold")
                ax.annotate(name, (-0.3, 0.5), **at, color=color)
    if title:
        suptitle(fig, title)
    add_note(fig, "coloured = dropped (zoneout: kept from t−1), light = passed")
    return fig
