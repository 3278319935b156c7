"""Figures from runs and scheme tables: learning curves, a recorded run, chapter 01's story, masks over
time, Table 1."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..analysis.schemes import CONNECTION_LABELS, CONNECTIONS
from ..published import reported
from .style import (
    OTHER_COLORS,
    SCHEME_COLORS,
    SOURCE_COLORS,
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

__all__ = ["plot_curves", "plot_comparison", "plot_run", "plot_story", "plot_masks", "plot_table1"]


def _records(log) -> list[dict]:
    if hasattr(log, "to_dict"):  # a DataFrame
        return log.to_dict("records")
    if hasattr(log, "log") and not isinstance(log, (list, tuple)):  # a Run or RunResult
        return _records(log.log)
    return list(log)


# --------------------------------------------------------------------------------------------
# Learning curves
# --------------------------------------------------------------------------------------------
def _draw_run(ax, label: str, color: str, recs: list, pts, show_train: bool) -> list[float]:
    """One run's curves: the live running-train line (``pts``) and its per-epoch train and valid
    perplexity (``recs``). Returns the values the y axis must span."""
    span = []
    if pts:
        xs, ys = zip(*pts)
        ax.plot(xs, ys, color=color, linewidth=1.0, alpha=0.5, **TRAIN_STYLE)
        if len(recs) < 2:  # the live line is the curve: scale to it, past its first-steps spike
            span += [y for x, y in pts if x >= 0.2 * xs[-1]] or list(ys)
    if recs:
        ep = [r["epoch"] for r in recs]
        tr = [r["train_ppl"] for r in recs]
        va = [r["valid_ppl"] for r in recs]
        if show_train:
            ax.plot(ep, tr, color=color, marker="o", markersize=4, **TRAIN_STYLE)
        ax.plot(ep, va, color=color, marker="o", markersize=5, label=label, **VALID_STYLE)
        span += (tr if show_train else []) + va
    elif pts:
        ax.plot([], [], color=color, label=label)
    return span


def plot_curves(
    logs: Mapping[str, object],
    *,
    ax=None,
    title: str | None = None,
    steps: Mapping[str, Sequence[tuple[float, float]]] | None = None,
    references: Sequence[tuple[str, float]] = (),
    colors: Mapping[str, str] | None = None,
    logy: bool = True,
    show_train: bool = True,
    note: str | None = None,
    xmax: float | None = None,
    legend: str = "right",
) -> Figure:
    """Train (dashed) and validation (solid) perplexity per epoch, one colour per labelled log.

    ``logs``: label -> records (list of dicts, DataFrame, ``Run`` or ``RunResult``); ``steps``: label ->
    (fractional epoch, running train ppl), the live line; ``references``: (label, value) dotted lines;
    ``legend``: ``"right"`` of the axes or ``"below"`` them."""
    if ax is None:
        fig, ax = new_figure()
    else:
        fig = ax.figure
    steps = steps or {}
    labels = list(dict.fromkeys([*logs, *steps]))
    drawn = [
        v
        for i, label in enumerate(labels)
        for v in _draw_run(
            ax,
            label,
            (colors or {}).get(label) or color_for(label, i),
            _records(logs.get(label, [])),
            steps.get(label, ()),
            show_train,
        )
    ]
    ymin, ymax = min(drawn, default=math.inf), max(drawn, default=0.0)
    for label, value in references:
        ax.axhline(value, color="#333333", linestyle=":", linewidth=1.5)
        ax.annotate(
            label,
            (0.0, value),
            xycoords=("axes fraction", "data"),
            xytext=(4, 3),
            textcoords="offset points",
            ha="left",
            va="bottom",
            fontsize=11,
            color="#333333",
        )
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
    style = [
        mpl.lines.Line2D([], [], color="#555555", **TRAIN_STYLE),
        mpl.lines.Line2D([], [], color="#555555", **VALID_STYLE),
    ]
    style_labels = ["train (dashed)", "valid (solid)"] if show_train else []
    if handles and legend == "below":
        # long run labels, one per line under the axes; the two line styles in the axes' top right,
        # which falling perplexity curves leave empty
        if style_labels:
            ax.add_artist(ax.legend(style, style_labels, loc="upper right", frameon=False))
        ax.legend(handles, lbls, loc="upper left", bbox_to_anchor=(0.0, -0.16), frameon=False, ncol=1)
    elif handles:
        # outside the axes: a legend inside covers the last epochs, where the curves part
        handles, lbls = handles + style[: len(style_labels)], lbls + style_labels
        ax.legend(
            handles,
            lbls,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            frameon=False,
            ncol=1 if len(handles) < 9 else 2,
        )
    if title:
        ax.set_title(title, loc="left")
    add_note(fig, note)
    return fig


def plot_comparison(
    logs: Mapping[str, object],
    *,
    title: str | None = None,
    note: str | None = None,
    steps: Mapping[str, Sequence[tuple[float, float]]] | None = None,
    xmax: float | None = None,
) -> Figure:
    """Curves (left) and last-epoch validation perplexity per run (right), on an axis around the data."""
    fig, (ax1, ax2) = new_figure(WIDE, 1, 2, width_ratios=(1.6, 1))
    labels = list(dict.fromkeys([*logs, *(steps or {})]))
    colors = {k: color_for(k, i) for i, k in enumerate(labels)}
    if len(set(colors.values())) < len(colors):  # runs of one scheme: one colour each
        colors = {k: OTHER_COLORS[i % len(OTHER_COLORS)] for i, k in enumerate(labels)}
    plot_curves(logs, ax=ax1, steps=steps, xmax=xmax, colors=colors)
    finals = {k: _records(v)[-1]["valid_ppl"] for k, v in logs.items() if len(_records(v))}
    # the words every label shares name the axis; the ticks keep what differs (r=0, r=0.25, ...)
    words = [k.split() for k in finals]
    shared = [w for w in words[0] if all(w in ws for ws in words)] if len(words) > 1 else []
    ticks = [" ".join(w for w in ws if w not in shared) or k for ws, k in zip(words, finals)]
    ys = list(finals.values())
    for i, (k, y) in enumerate(finals.items()):
        ax2.plot(i, y, "o", markersize=11, color=colors[k])
        ax2.annotate(f"{y:.1f}", (i, y), xytext=(12, 0), textcoords="offset points", va="center", fontsize=12)
    ax2.set_xticks(range(len(ticks)), [t.replace(" ", "\n") for t in ticks])
    ax2.set_xlim(-0.5, len(ticks) - 0.2)
    ax2.set_xlabel(" ".join(shared))
    ax2.set_ylabel("valid perplexity (last epoch)")
    ax2.grid(axis="x", visible=False)
    if ys:
        pad = max(0.15 * (max(ys) - min(ys)), 0.01 * max(ys))
        ax2.set_ylim(min(ys) - pad, max(ys) + pad)
    if title:
        suptitle(fig, title)
    add_note(fig, note)
    return fig


def plot_run(run, *, label: str | None = None, model: str | None = None, title: str | None = None) -> Figure:
    """A recorded ``Run``'s curves, with the paper's valid and the TF tutorial's train perplexity of
    ``model`` (default: the run's preset) as dotted references."""
    model = model or run.config.get("preset")
    refs = []
    try:
        paper, tf = reported(model, "paper"), reported(model, "tf")
        refs = [(f"paper valid {paper['valid']}", paper["valid"]), (f"TF tutorial train {tf['train']}", tf["train"])]
    except KeyError:
        pass
    label = label or f"{run.config.get('scheme')}, {run.config.get('num_layers')}×{run.config.get('hidden_size')}"
    note = f"Recorded run {run.describe()}." + (" References: paper Table 1; TF ptb_word_lm.py." if refs else "")
    return plot_curves(
        {label: run.log},
        references=refs,
        title=title or f"Recorded run {run.name}",
        note=note,
        colors={label: color_for(run.config.get("scheme", ""))},
        xmax=run.epochs_planned,
    )


#: Colours of chapter 01's full-scale story (keyed by the run's name under results/<corpus>/).
STORY_COLORS = {"small": "#999999", "medium-nodrop": SCHEME_COLORS["none"], "medium": SCHEME_COLORS["zaremba"]}


def plot_story(story: Mapping[str, object], *, title: str | None = None) -> Figure:
    """Chapter 01's story (:func:`rnnreg.analysis.runs.story_runs`): each recorded run's curves, the x
    axis spanning the longest planned run."""
    colors = {
        label: STORY_COLORS.get(run.path.name, color_for(label, i)) for i, (label, run) in enumerate(story.items())
    }
    xmax = max((run.epochs_planned or run.epochs_done for run in story.values()), default=None)
    fig, ax = new_figure(WIDE)
    plot_curves(
        {label: run.log for label, run in story.items()},
        ax=ax,
        colors=colors,
        xmax=xmax,
        legend="below",
        title=title or "Full PTB: the same 2×650 LSTM with and without dropout, beside the small model",
    )
    return fig


# --------------------------------------------------------------------------------------------
# Masks over time
# --------------------------------------------------------------------------------------------
def plot_masks(masks: Mapping, *, connections: Sequence[str] | None = None, title: str | None = None) -> Figure:
    """Dropout masks as images, one row per scheme: time steps across, units down, coloured = dropped.

    ``masks``: ``{scheme: {connection: tensor}}`` from :func:`rnnreg.analysis.schemes.sample_masks`.
    ``connections``: the columns (default: every one present); ``w_hh`` is drawn as a matrix.
    """
    if connections is None:
        present = {c for m in masks.values() for c in m}
        connections = [c for c in CONNECTIONS if c in present] or ["input"]
    nrow, ncol = len(masks), len(connections)
    fig, axes = new_figure((max(4.0 * ncol, 8.0), 2.3 * nrow + 1.0), nrow, ncol)
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
                ax.imshow(img[: img.shape[1]] if matrix else img.T, cmap=cmap, vmin=0, vmax=1, aspect="auto")
                ax.set_xlabel("from unit (h at t−1)" if matrix else "time step")
                if matrix or j == 0:
                    ax.set_ylabel("to gate unit" if matrix else "unit")
                word = "updated" if name == "zoneout" and conn in ("h", "c") else "kept"
                ax.set_title(f"{CONNECTION_LABELS[conn]}  ({word} {img.mean():.0%})", fontsize=12)
            if j == 0 and nrow > 1:
                ax.annotate(
                    name,
                    (-0.3, 0.5),
                    xycoords="axes fraction",
                    rotation=90,
                    ha="center",
                    va="center",
                    color=color,
                    fontweight="bold",
                )
    if title:
        suptitle(fig, title)
    add_note(fig, "coloured = dropped (zoneout: kept from t−1), light = passed")
    return fig


# --------------------------------------------------------------------------------------------
# Table 1
# --------------------------------------------------------------------------------------------
def plot_table1(df, *, title: str = "Table 1, single models: word-level PTB perplexity") -> Figure:
    """Table 1 as grouped bars per model size: paper, TF tutorial, this project (valid | test). Where
    this project has no final number, the slot says so and what a full run costs: no bar that is not data."""
    fig, axes = new_figure(WIDE, 1, 2, sharey=True)
    sources = (("paper", "paper"), ("tf", "TF tutorial"), ("here", "this project"))
    models = list(df.index)
    width = 0.26
    complete = (df["here_state"] == "complete").to_numpy()
    values = df[[f"{s}_{k}" for s, _ in sources for k in ("valid", "test")]].to_numpy(dtype=float, copy=True)
    values[~complete, 4:] = np.nan  # the "here" columns of runs still training set no scale
    top = np.nanmax(values)
    for ax, split in zip(axes, ("valid", "test")):
        ax.grid(axis="x", visible=False)
        for j, (src, _) in enumerate(sources):
            xs = np.arange(len(models)) + (j - 1) * width
            ys = df[f"{src}_{split}"].to_numpy(dtype=float)
            costs = (df.get(c, [math.nan] * len(df)) for c in ("cost_h", "left_h"))
            for x, y, status, state, cost, left in zip(xs, ys, df["here_status"], df["here_state"], *costs):
                final = src != "here" or state == "complete"
                if np.isnan(y) or not final:  # no number yet, or one a run still training will change
                    gap = "not run here" if state == "not run" else status.split(",")[0]
                    if not np.isnan(y):
                        gap += f" ({y:.1f} so far)"
                    if state == "in progress" and math.isfinite(left):
                        gap += f"\n(≈ {left:g} h left, 2 CPU cores)"
                    elif math.isfinite(cost):
                        gap += f"\n(full run ≈ {cost:.0f} h, 2 CPU cores)"
                    ax.text(x, 0.02 * top, gap, rotation=90, ha="center", va="bottom", fontsize=9, color="#555555")
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
    suptitle(fig, title)
    runs = [f"{r} ({state})" for r, state in zip(df["here_run"], df["here_state"]) if state != "not run"]
    note = (
        "Sources: paper = Zaremba et al. (2014) Table 1; TF = tensorflow/models ptb_word_lm.py. "
        f"This project: {', '.join(runs) if runs else 'no recorded run yet'}."
    )
    add_note(fig, note)
    return fig
