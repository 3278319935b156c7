"""Chapter 05's figures and panels, from :mod:`rnnreg.analysis.zoo`; each figure's note names its runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import ipywidgets as W
import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..analysis import zoo as analysis
from ..analysis.runs import follow_ups_table, reported_averaging
from ..model import SCHEMES
from ..sweeps import BUDGET, RECURRENT_SCHEMES, TUNED, ZOO, run_config
from .panels import STYLE, FigurePanel, image_widget, schemes_picker
from .style import (
    NEUTRAL,
    SCHEME_COLORS,
    SOURCE_COLORS,
    WIDE,
    add_note,
    color_for,
    empty_note,
    log_ticks,
    new_figure,
    suptitle,
)

HERE = SOURCE_COLORS["here"]
GREY = "#555555"
METRICS = {"valid_ppl": "valid perplexity", "train_ppl": "train perplexity (dropout on)", "gap": "valid − train"}
MARKER_KEY = [
    Line2D([], [], marker="o", color=GREY, linestyle="none", label="valid (last epoch)"),
    Line2D([], [], marker="s", color=GREY, markerfacecolor="white", linestyle="none", label="test (batch 1)"),
    Line2D([], [], marker="|", color=GREY, linestyle="none", markersize=10, label="one seed"),
]


def _budget() -> str:
    c = run_config("zaremba")
    return f"{c.num_layers}×{c.hidden_size}, first {c.max_train_tokens:,} training tokens, {c.epochs} epochs"


def _legend_outside(ax, handles=None, **kw) -> None:
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, **kw)


def _dumbbells(ax, zoo: Mapping, order: list[str]) -> None:
    """valid ● and test ■ per scheme (``order`` bottom to top), a tick per seed, the axis near the data."""
    table = analysis.scheme_table(zoo, digits=12)
    per_run = analysis.runs_table(zoo).query("state == 'complete'")
    for i, s in enumerate(order):
        color, (v, t) = color_for(s), table.loc[s, ["valid_ppl", "test_ppl"]]
        ax.plot([t, v], [i, i], color=color, linewidth=1.2, alpha=0.6)
        ax.plot(v, i, "o", color=color, markersize=10)
        ax.plot(t, i, "s", color=color, markersize=8, markerfacecolor="white", markeredgewidth=2)
        ax.annotate(f"{v:.1f}", (v, i), xytext=(8, 0), textcoords="offset points", va="center", fontsize=11)
        seeds = per_run[per_run["scheme"] == s]
        if len(seeds) > 1:
            for col, dy in (("valid_ppl", 0.22), ("test_ppl", -0.22)):
                ax.plot(seeds[col], [i + dy] * len(seeds), "|", color=color, markersize=10)
    values = table.loc[order, ["valid_ppl", "test_ppl"]].to_numpy(dtype=float)
    lo, hi = np.nanmin(values), np.nanmax(values)
    pad = max(hi - lo, 1.0) * 0.12
    ax.set_xlim(lo - pad, hi + 2.2 * pad)
    ax.set_yticks(np.arange(len(order)), order)
    for label, s in zip(ax.get_yticklabels(), order):
        label.set_color(color_for(s) if s != "none" else "#333333")
    ax.set_ylim(-0.6, len(order) - 0.4)
    ax.grid(axis="y", visible=False)


def plot_schemes(zoo: Mapping, *, title: str | None = None) -> Figure:
    """One row per scheme, best on top: perplexity (valid ●, test ■, a tick per seed) and the gap valid − train."""
    table = analysis.scheme_table(zoo, digits=12)
    fig, (ax1, ax2) = new_figure(WIDE, 1, 2, width_ratios=(1.7, 1), sharey=True)
    if table.empty:
        for ax in (ax1, ax2):
            empty_note(ax, "not yet recorded here")
        return fig
    order = table["valid_ppl"].sort_values(ascending=False).index.tolist()  # best at the top
    _dumbbells(ax1, zoo, order)
    ax1.set_xlabel("perplexity (lower is better)")
    ax1.legend(handles=MARKER_KEY, loc="lower left", bbox_to_anchor=(0.0, 1.02), ncol=3, frameon=False, fontsize=10)
    gap = table.loc[order, "gap"].to_numpy(dtype=float)
    ax2.barh(np.arange(len(order)), gap, color=[color_for(s) for s in order])
    for i, g in enumerate(gap):
        ax2.annotate(f"{g:.1f}", (g, i), xytext=(4, 0), textcoords="offset points", va="center", fontsize=11)
    ax2.set(xlim=(0, max(float(np.nanmax(gap)), 1.0) * 1.25), xlabel="valid − train perplexity")
    ax2.set_title("gap (train: dropout on)", loc="left", fontsize=14)
    ax2.grid(axis="y", visible=False)
    if title is None:
        found, title = analysis.findings(zoo) or {}, f"{order[-1]} ends lowest at this budget"
        if "none" in table.index and found.get("recurrent") and found["recurrent_behind"] == found["recurrent"]:
            title += "; every recurrent scheme ends behind no dropout"
    suptitle(fig, title)
    seeds = "–".join(map(str, sorted(set(table["seeds"]))))
    add_note(fig, f"Runs: results/{ZOO}/<scheme>-seed<k>, {seeds} seeds per scheme; {_budget()}, untuned.")
    return fig


def plot_tuning(runs: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Validation perplexity against the recurrent rate per recurrent scheme (mean, each seed a dot), zaremba's
    seed range a band. ``runs``: ``analysis.zoo.tuning_runs()``."""
    summary, found = analysis.tuning_summary(runs), analysis.tuning_findings(runs)
    fig, ax = new_figure((11.0, 5.0))
    done = runs[runs["complete"]]
    if found["zaremba"]:
        c = SCHEME_COLORS["zaremba"]
        ax.axhspan(*found["band"], color=c, alpha=0.15, linewidth=0)
        ax.axhline(found["zaremba"][0], color=c, linewidth=1.5, label="zaremba (its seeds: band)")
    for scheme in RECURRENT_SCHEMES:
        g = summary[(summary["scheme"] == scheme) & (summary["seeds"] > 0)].sort_values("rate")
        if len(g):
            d = done[done["scheme"] == scheme]
            ax.plot(g["rate"], g["valid_ppl"], "-o", color=color_for(scheme), markersize=7, label=scheme)
            ax.plot(d["rate"], d["valid_ppl"], ".", color=color_for(scheme), markersize=5, alpha=0.7)
    rates = analysis.TUNING["rates"]
    ax.set(xticks=rates, xlim=(min(rates) - 0.04, max(rates) + 0.04), xlabel="recurrent rate (zoneout: z_c)")
    ax.set_ylabel("valid perplexity (last epoch)")
    handles, _ = ax.get_legend_handles_labels()
    _legend_outside(ax, handles + [Line2D([], [], marker=".", color=GREY, linestyle="none", label="one seed")])
    if title is None:
        if found["ahead"]:
            title = f"Tuned, {', '.join(found['ahead'])} end below zaremba's seeds"
        elif found["within"]:
            title = f"At its best rate, {' and '.join(found['within'])} come level with zaremba; none beats it"
        else:
            title = "At every rate tried, each recurrent scheme ends behind zaremba"
    ax.set_title(title, loc="left")
    add_note(
        fig,
        f"Runs: results/{ZOO} (p = {BUDGET['recurrent_rate']:g}, untuned) and results/{TUNED}; {_budget()}; "
        f"p = {BUDGET['dropout']:g} on the non-recurrent connections.",
    )
    return fig


def plot_literature(zoo: Mapping | None = None, *, title: str | None = None) -> Figure:
    """Left: the follow-up papers' test perplexity coloured by their scheme (grey: none of this book's). Right:
    this project's zoo on its own axis."""
    lit = follow_ups_table().query("test.notna()").reset_index(drop=True)
    fig, (ax1, ax2) = new_figure(WIDE, 1, 2, width_ratios=(1.4, 1))
    y = np.arange(len(lit))[::-1]
    colors = [SCHEME_COLORS.get(s, NEUTRAL) if isinstance(s, str) else NEUTRAL for s in lit["scheme"]]
    for yi, test, color in zip(y, lit["test"], colors):
        ax1.plot(test, yi, "s", color=color, markersize=9, markerfacecolor="white", markeredgewidth=2)
        ax1.annotate(f"{test:.1f}", (test, yi), xytext=(8, 0), textcoords="offset points", va="center", fontsize=10)
    ax1.set_yticks(y, lit["method"], fontsize=10)
    for label, color in zip(ax1.get_yticklabels(), colors):
        label.set_color(GREY if color == NEUTRAL else color)
    lo, hi = lit["test"].min(), lit["test"].max()
    ax1.set(xlim=(lo - 0.08 * (hi - lo), hi + 0.22 * (hi - lo)), ylim=(-0.6, len(lit) - 0.4), xlabel="test perplexity")
    ax1.grid(axis="y", visible=False)
    params = lit["params"].dropna()
    ax1.set_title(f"published (full PTB, {params.min():.0f}–{params.max():.0f}M parameters)", loc="left", fontsize=13)
    table, found = analysis.scheme_table(zoo or {}, digits=12), analysis.findings(zoo or {}) or {}
    if table.empty:
        empty_note(ax2, "not yet recorded here")
    else:
        _dumbbells(ax2, zoo, table["valid_ppl"].sort_values(ascending=False).index.tolist())
        ax2.set_xlabel("perplexity")
        _legend_outside(ax2, MARKER_KEY, fontsize=10)
    c = run_config("zaremba")
    ax2.set_title(f"here ({c.num_layers}×{c.hidden_size}, untuned)", loc="left", fontsize=13)
    if title is None and "published_order_here" in found:
        verb = {True: "beats", False: "trails"}
        title = f"variational {verb[found['published_order']]} zaremba in the papers; "
        title += f"here, untuned and small, it {verb[found['published_order_here']]} it"
    suptitle(fig, title or "Published numbers and this project's zoo: compare orders, not levels")
    add_note(fig, f"Sources: rnnreg.published.FOLLOW_UPS (verified numbers only). Here: results/{ZOO}.")
    return fig


def plot_zoo_curves(zoo: Mapping, schemes: Sequence[str] = ("zaremba", "variational"), metric="valid_ppl") -> Figure:
    """Per-epoch ``metric`` (a key of :data:`METRICS`), one line per scheme (mean over its seeds)."""
    fig, ax = new_figure()
    data, last = analysis.curves(zoo, schemes), {}
    for s in schemes:
        seeds = [df.set_index("epoch")[metric] for label, df in data.items() if label.split()[0] == s]
        if seeds:
            mean = pd.concat(seeds, axis=1).mean(axis=1)
            ax.plot(mean.index, mean, "-o", color=color_for(s), markersize=4, label=f"{s} ({len(seeds)} seeds)")
            last[s] = mean.iloc[-1]
    if metric == "gap":
        ax.axhline(0, color="#333333", linewidth=1)
    ax.set(xlabel="epoch", ylabel=METRICS[metric], xlim=(0.7, BUDGET["epochs"] + 0.3))
    ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
    if last:
        _legend_outside(ax)
        low = metric == "valid_ppl"
        s = (min if low else max)(last, key=last.get)
        ax.set_title(f"{'Lowest' if low else 'Highest'} at the last epoch: {s} ({last[s]:.1f})", loc="left")
    else:
        empty_note(ax, "no scheme chosen" if not schemes else "not yet recorded here")
    absent = [s for s in schemes if s not in zoo]
    add_note(
        fig,
        f"Runs: results/{ZOO}/<scheme>-seed<k>. Train: the running average over each epoch, dropout on (none: off)."
        + (f" Not yet recorded here: {', '.join(absent)}." if absent else ""),
    )
    return fig


def plot_full_scale(runs: Mapping, *, title: str | None = None) -> Figure:
    """Validation perplexity per epoch of the 2×650 runs (``analysis.zoo.load_full_scale()``); the published 2×650
    valid perplexities of the same placements at the right."""
    paper = {r["scheme"]: r["valid"] for r in analysis.FOLLOW_UPS if r["params"] == 20 and r["scheme"] and r["valid"]}
    fig, ax = new_figure(WIDE)
    seen: dict[str, int] = {}
    for label, run in runs.items():
        scheme = run.config["scheme"]
        seen[scheme] = seen.get(scheme, 0) + 1  # a scheme's later seeds: lighter
        ax.plot(run.log["epoch"], run.log["valid_ppl"], "-o", markersize=3, color=color_for(scheme), label=label,
                alpha=1.0 if seen[scheme] == 1 else 0.5)  # fmt: skip
    last = max(run.epochs_planned or 0 for run in runs.values())
    for (scheme, valid), name in zip(paper.items(), ("Zaremba et al.", "Gal & Ghahramani")):
        ax.plot(last + 1.5, valid, "<", color=color_for(scheme), markersize=9)
        ax.annotate(f"{name} {valid}", (last + 2, valid), va="center", fontsize=10, annotation_clip=False)
    ax.set_yscale("log")
    log_ticks(ax, 75, 250)
    ax.set(ylim=(75, 250), xlim=(0, last + 2), xlabel="epoch", ylabel="valid perplexity")
    _legend_outside(ax)
    ax.set_title(title or "2×650, all of PTB, the medium recipe", loc="left")
    add_note(fig, "Recorded: " + "; ".join(f"{run.name} ({run.status})" for run in runs.values()) + ".")
    return fig


def plot_averaging(avg: dict | None, model: str = "small", *, title: str | None = None) -> Figure:
    """Perplexity against the number of models averaged: the paper's Table 1 rows and this project's."""
    paper, found = reported_averaging(model), analysis.averaging_findings(avg, model)
    fig, ax = new_figure()
    line, grey = {"valid": "-", "test": "--"}, "#333333"
    # value labels clear of markers and lines: the paper's valid above, its test below, ours to the left
    for split, marker, dy, va in (("valid", "o", 8, "bottom"), ("test", "s", -10, "top")):
        style = dict(color=grey, marker=marker, linestyle=line[split])
        ax.plot(paper["members"], paper[split], label=f"paper, {split}", **style)
        for x, y in zip(paper["members"], paper[split]):
            where = dict(xytext=(0, dy), textcoords="offset points", ha="center", va=va)
            ax.annotate(f"{y:.1f}", (x, y), fontsize=10, color=grey, **where)
    note = "Paper: Table 1, model averaging."
    if found:
        ks, split = np.arange(1, len(found["averages"]) + 1), found["split"]
        ax.plot(ks, found["averages"], color=HERE, marker="D", ms=8, linestyle=line[split], label=f"here, {split}")
        for x, y in zip(ks, found["averages"]):
            label = dict(xytext=(-12, 0), textcoords="offset points", ha="right", va="center")
            ax.annotate(f"{y:.1f}", (x, y), fontsize=10, color=HERE, **label)
        note += f" Here: results/ptb/averaging/{model}.json ({split}; {', '.join(m['run'] for m in avg['members'])})."
        if title is None and found["two"] and found["paper_two"]:
            here, there = found["two"][2], found["paper_two"][2]
            title = f"Averaging two models: {here:.0%} lower here, {there:.0%} in the paper ({split})"
    else:
        ax.text(0.97, 0.9, "this project: not yet recorded here", transform=ax.transAxes, ha="right", color=HERE)
    ax.set_xscale("log")
    ax.set_xticks(paper["members"], [str(k) for k in paper["members"]])
    ax.xaxis.set_minor_locator(mpl.ticker.NullLocator())
    ax.set_xlim(0.6, float(paper["members"].max()) * 1.5)
    ax.margins(y=0.15)
    ax.set(xlabel="models averaged (probabilities)", ylabel="perplexity")
    _legend_outside(ax)
    ax.set_title(title or f"Averaging non-regularized {model} LSTMs", loc="left")
    add_note(fig, note)
    return fig


class ZooCurves(FigurePanel):
    """Schemes (ctrl/shift-click) and a metric -> :func:`plot_zoo_curves`."""

    def __init__(self, zoo: dict, schemes=("none", "zaremba", "variational"), metric: str = "valid_ppl"):
        self.zoo = zoo
        self.schemes = schemes_picker(schemes, schemes=SCHEMES)
        options = [(label.split(" (")[0].replace(" perplexity", ""), key) for key, label in METRICS.items()]
        self.metric = W.ToggleButtons(options=options, value=metric, description="show", style=STYLE)
        self.image = image_widget()
        super().__init__([W.HBox([self.schemes, self.metric]), self.image])
        self._observe(self.schemes, self.metric)
        self.update()

    def update(self) -> None:
        self._set_figure(plot_zoo_curves(self.zoo, tuple(self.schemes.value), self.metric.value))
