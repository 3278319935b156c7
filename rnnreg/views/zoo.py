"""Chapter 05's figures and panels: the scheme zoo at one budget, its tuned recurrent rates, the published
numbers, curves, averaging. Numbers come from :mod:`rnnreg.analysis.zoo`; each figure's note names the runs
or sources, and what is not recorded yet."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence

import ipywidgets as W
import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..analysis.runs import follow_ups_table, reported_averaging
from ..analysis.zoo import (
    AVERAGE_COMMAND,
    AVERAGING,
    BUDGET,
    METRICS,
    RECURRENT_SCHEMES,
    TUNED,
    TUNING,
    ZOO,
    ZOO_COMMAND,
    averaging_findings,
    curves,
    literature_table,
    missing,
    run_config,
    runs_table,
    scheme_table,
    tuning_findings,
    tuning_summary,
    zoo_parameters,
)
from ..model import SCHEMES
from .panels import STYLE, FigurePanel, StaticFallback, image_widget, scheme_picker, schemes_picker
from .plots import plot_curves
from .style import (
    NEUTRAL,
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

__all__ = [
    "HERE",
    "plot_schemes",
    "plot_tuning",
    "plot_literature",
    "plot_zoo_curves",
    "plot_averaging",
    "ZooCurves",
    "SchemeVsPapers",
]

HERE = SOURCE_COLORS["here"]


def budget_label() -> str:
    """The zoo's budget in a few words, read from ``analysis.zoo.BUDGET`` (for figure notes)."""
    c = run_config("zaremba")
    return (
        f"{c.num_layers}×{c.hidden_size}, first {c.max_train_tokens:,} training tokens, {c.epochs} epochs, "
        f"p = {BUDGET['dropout']:g}"
    )


def _legend_outside(ax, handles=None, labels=None, **kw) -> None:
    """The axes' legend to the right of the plot, where it covers no point."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, **kw)


def _seed_points(ax, per_run: pd.DataFrame, scheme: str, y: float, color: str) -> None:
    """Each seed's valid (upper tick) and test (lower tick) perplexity beside a scheme's mean."""
    seeds = per_run[per_run["scheme"] == scheme]
    if len(seeds) > 1:
        ax.plot(seeds["valid_ppl"], [y + 0.22] * len(seeds), "|", color=color, markersize=10)
        ax.plot(seeds["test_ppl"], [y - 0.22] * len(seeds), "|", color=color, markersize=10)


def _dumbbells(ax, table: pd.DataFrame, per_run: pd.DataFrame, order: list[str], labels: bool = True) -> None:
    """valid ● and test ■ per scheme (one row each, ``order`` bottom to top), seed ticks, axis near the data."""
    for i, s in enumerate(order):
        color = color_for(s)
        v, t = table.loc[s, "valid_ppl"], table.loc[s, "test_ppl"]
        ax.plot([t, v], [i, i], color=color, linewidth=1.2, alpha=0.6)
        ax.plot(v, i, "o", color=color, markersize=10)
        ax.plot(t, i, "s", color=color, markersize=8, markerfacecolor="white", markeredgewidth=2)
        if labels:
            ax.annotate(f"{v:.1f}", (v, i), xytext=(8, 0), textcoords="offset points", va="center", fontsize=11)
        _seed_points(ax, per_run, s, i, color)
    lo = float(np.nanmin(table.loc[order, ["valid_ppl", "test_ppl"]].to_numpy()))
    hi = float(np.nanmax(table.loc[order, ["valid_ppl", "test_ppl"]].to_numpy()))
    pad = max(hi - lo, 1.0) * 0.12
    ax.set_xlim(lo - pad, hi + 2.2 * pad)
    ax.set_yticks(np.arange(len(order)))
    ax.set_yticklabels(order)
    for lbl, s in zip(ax.get_yticklabels(), order):
        lbl.set_color(color_for(s) if s != "none" else "#333333")
    ax.set_ylim(-0.6, len(order) - 0.4)
    ax.grid(axis="y", visible=False)


MARKER_KEY = [
    Line2D([], [], marker="o", color="#555555", linestyle="none", label="valid (last epoch)"),
    Line2D([], [], marker="s", color="#555555", markerfacecolor="white", linestyle="none", label="test (batch 1)"),
    Line2D([], [], marker="|", color="#555555", linestyle="none", markersize=10, label="one seed"),
]


def _complete_runs(zoo: Mapping) -> pd.DataFrame:
    per_run = runs_table(zoo, digits=12)
    return per_run[per_run["state"] == "complete"]


# --------------------------------------------------------------------------------------------
# All schemes at one budget
# --------------------------------------------------------------------------------------------
def plot_schemes(zoo: Mapping, bench: dict | None = None, *, title: str | None = None) -> Figure:
    """One row per scheme, best on top: perplexity (valid ●, test ■, a tick per seed), the gap valid −
    train (train with dropout on), and training speed from the benchmark."""
    table = scheme_table(zoo, bench, digits=12)
    per_run = _complete_runs(zoo)
    fig, (ax1, ax2, ax3) = new_figure((13.0, 5.0), 1, 3, width_ratios=(1.7, 1, 1), sharey=True)
    if table.empty:
        for ax in (ax1, ax2, ax3):
            empty_note(ax, "not yet recorded here")
        add_note(fig, f"No complete zoo run under results/{ZOO}. Record them with: {ZOO_COMMAND}")
        return fig
    order = table["valid_ppl"].sort_values(ascending=False).index.tolist()  # best at the top
    y = np.arange(len(order))
    colors = [color_for(s) for s in order]
    _dumbbells(ax1, table, per_run, order)
    ax1.set_xlabel("perplexity (lower is better)")
    ax1.set_title("valid ● and test ■", loc="left", fontsize=14)
    ax1.legend(
        handles=MARKER_KEY,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.06),
        ncol=3,
        frameon=False,
        fontsize=10,
        handletextpad=0.2,
        columnspacing=0.8,
    )
    gap = table.loc[order, "gap"].to_numpy(dtype=float)
    ax2.barh(y, gap, color=colors)
    for i, g in enumerate(gap):
        ax2.annotate(f"{g:.1f}", (g, i), xytext=(4, 0), textcoords="offset points", va="center", fontsize=11)
    ax2.set_xlim(0, max(float(np.nanmax(gap)), 1.0) * 1.25)
    ax2.set_xlabel("valid − train perplexity")
    ax2.set_title("gap (train: dropout on)", loc="left", fontsize=14)
    ax2.grid(axis="y", visible=False)
    if "tokens/s" in table:
        speed = table.loc[order, "tokens/s"].to_numpy(dtype=float)
        ax3.barh(y, speed, color=colors)
        for i, (v, r) in enumerate(zip(speed, table.loc[order, "× reference"])):
            if not math.isnan(v):
                ax3.annotate(f"{r:.2f}×", (v, i), xytext=(4, 0), textcoords="offset points", va="center", fontsize=11)
        ax3.set_xlim(0, float(np.nanmax(speed)) * 1.3)
        ax3.set_xlabel("training tokens/s (CPU)")
        ax3.set_title("speed (× PyTorch reference)", loc="left", fontsize=14)
    else:
        empty_note(ax3, "no benchmark\n(results/bench/cpu.json)")
    ax3.grid(axis="y", visible=False)
    if title is None:
        win = order[-1]
        rec = [s for s in RECURRENT_SCHEMES if s in table.index]
        title = f"{win} ends lowest at this budget"
        if (
            "none" in table.index
            and rec
            and all(table.loc[s, "valid_ppl"] > table.loc["none", "valid_ppl"] for s in rec)
        ):
            title += "; every recurrent scheme ends behind no dropout"
    suptitle(fig, title)
    n = sorted(set(table["seeds"]))
    seeds_txt = "one seed per scheme (no spread)" if n == [1] else f"{'–'.join(map(str, n))} seeds per scheme"
    gone = missing(zoo)
    add_note(
        fig,
        f"Runs: results/{ZOO}/<scheme>-seed<k>, {seeds_txt}; {budget_label()} untuned. "
        "Speed: results/bench/cpu.json (small shape, fp32)."
        + (f" Not yet recorded here: {', '.join(gone)}." if gone else ""),
    )
    return fig


# --------------------------------------------------------------------------------------------
# Tuned recurrent rates
# --------------------------------------------------------------------------------------------
def plot_tuning(runs: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Validation perplexity against the recurrent rate, one line per recurrent scheme (mean over its
    complete seeds, each seed a small dot), with zaremba's seed range as a band: can any rate bring a
    recurrent scheme down to zaremba? ``runs``: ``analysis.zoo.tuning_runs()``."""
    summary = tuning_summary(runs)
    found = tuning_findings(runs)
    fig, ax = new_figure((11.0, 5.0))
    done = runs[runs["complete"]]
    if found["zaremba"]:
        mean, lo, hi = found["zaremba"]
        ax.axhspan(lo, hi, color=SCHEME_COLORS["zaremba"], alpha=0.15, linewidth=0)
        ax.axhspan(*found["noise_range"], color=SCHEME_COLORS["zaremba"], alpha=0.06, linewidth=0)  # the verdicts
        ax.axhline(mean, color=SCHEME_COLORS["zaremba"], linewidth=1.5, label="zaremba (no recurrent site)")
    for scheme in RECURRENT_SCHEMES:
        g = summary[(summary["scheme"] == scheme) & (summary["seeds"] > 0)].sort_values("rate")
        if g.empty:
            continue
        color = color_for(scheme)
        ax.plot(g["rate"], g["valid_ppl"], "-o", color=color, markersize=7, label=scheme)
        d = done[done["scheme"] == scheme]
        ax.plot(d["rate"], d["valid_ppl"], ".", color=color, markersize=5, alpha=0.7)
    ax.set_xticks(TUNING["rates"])
    ax.set_xlim(min(TUNING["rates"]) - 0.04, max(TUNING["rates"]) + 0.04)
    ax.set_xlabel("recurrent rate (zoneout: z_c)")
    ax.set_ylabel("valid perplexity (last epoch)")
    handles, labels = ax.get_legend_handles_labels()
    handles.append(Line2D([], [], marker=".", color="#555555", linestyle="none", label="one seed"))
    _legend_outside(ax, handles, labels + ["one seed"])
    if title is None:
        n_done, n_planned = len(found["done"]), found["planned"]
        if found["ahead"]:
            title = f"Tuned, {', '.join(found['ahead'])} end below zaremba, beyond seed noise"
        elif found["within"]:
            title = f"Tuned, {', '.join(found['within'])} reach zaremba within seed noise"
        elif found["settled"]:
            title = "At every rate tried, each recurrent scheme ends behind zaremba"
        else:
            title = f"No recurrent scheme reaches zaremba so far ({n_done} of {n_planned} tuning runs recorded)"
    ax.set_title(title, loc="left")
    pending = [name.rsplit("/", 1)[-1] for name, _ in found["running"]] + [
        f.rsplit("/", 1)[-1] for f in found["not_started"]
    ]
    add_note(
        fig,
        f"Runs: results/{ZOO} (p = {BUDGET['recurrent_rate']:g}, untuned) and results/{TUNED}; "
        f"{budget_label()} on the non-recurrent connections. Bands: zaremba's seeds (min–max), and that "
        f"range ± {found['margin']:.1f}, the widest seed range recorded here (the verdicts' range)."
        + (f" Not yet complete: {', '.join(pending)}." if pending else ""),
    )
    return fig


# --------------------------------------------------------------------------------------------
# The published numbers beside this project's
# --------------------------------------------------------------------------------------------
def plot_literature(zoo: Mapping | None = None, *, title: str | None = None) -> Figure:
    """Left: the follow-up papers' test perplexity (``rnnreg.published.FOLLOW_UPS``) as dots coloured by the
    scheme they correspond to (grey: no scheme of this book). Right: this project's zoo, valid ● and test ■
    with each seed as a tick, on its own axis near the data — a different budget: compare orders, not levels."""
    lit = follow_ups_table()
    lit = lit[lit["test"].notna()].reset_index(drop=True)
    fig, (ax1, ax2) = new_figure(WIDE, 1, 2, width_ratios=(1.4, 1))
    y = np.arange(len(lit))[::-1]
    ax1.grid(axis="y", visible=False)
    for yi, (_, r) in zip(y, lit.iterrows()):
        color = SCHEME_COLORS.get(r["scheme"], NEUTRAL) if isinstance(r["scheme"], str) else NEUTRAL
        ax1.plot(r["test"], yi, "s", color=color, markersize=9, markerfacecolor="white", markeredgewidth=2)
        ax1.annotate(
            f"{r['test']:.1f}", (r["test"], yi), xytext=(8, 0), textcoords="offset points", va="center", fontsize=10
        )
    ax1.set_yticks(y)
    ax1.set_yticklabels(lit["method"], fontsize=10)
    for lbl, s in zip(ax1.get_yticklabels(), lit["scheme"]):
        lbl.set_color(SCHEME_COLORS.get(s, "#555555") if isinstance(s, str) else "#555555")
    lo, hi = float(lit["test"].min()), float(lit["test"].max())
    ax1.set_xlim(lo - 0.08 * (hi - lo), hi + 0.22 * (hi - lo))
    ax1.set_ylim(-0.6, len(lit) - 0.4)
    ax1.set_xlabel("test perplexity")
    params = lit["params"].dropna()
    ax1.set_title(f"published (full PTB, {params.min():.0f}–{params.max():.0f}M parameters)", loc="left", fontsize=13)
    table = scheme_table(zoo or {}, digits=12)
    if table.empty:
        empty_note(ax2, "not yet recorded here")
    else:
        order = table["valid_ppl"].sort_values(ascending=False).index.tolist()
        _dumbbells(ax2, table, _complete_runs(zoo), order)
        ax2.set_xlabel("perplexity")
        ax2.legend(handles=MARKER_KEY, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=10)
    size = zoo_parameters(zoo or {})
    c = run_config("zaremba")
    ax2.set_title(
        f"here ({c.num_layers}×{c.hidden_size}" + (f", {size:.1f}M" if size else "") + ", untuned)",
        loc="left",
        fontsize=13,
    )
    if title is None:
        title = "Published numbers and this project's zoo: compare orders, not levels"
        pub = {
            s: lit[(lit["scheme"] == s) & ~lit["method"].str.contains("MC")].set_index("params")["test"]
            for s in ("zaremba", "variational")
        }
        common = sorted(set(pub["zaremba"].index) & set(pub["variational"].index))
        if common and {"zaremba", "variational"} <= set(table.index):
            published_ahead = all(pub["variational"][p] < pub["zaremba"][p] for p in common)
            here_ahead = bool(table.loc["variational", "valid_ppl"] < table.loc["zaremba", "valid_ppl"])
            title = (
                f"variational {'beats' if published_ahead else 'trails'} zaremba in the papers; "
                f"here, untuned and small, it {'beats' if here_ahead else 'trails'} it"
            )
    suptitle(fig, title)
    add_note(
        fig,
        "Sources: Zaremba et al. 2014; Gal & Ghahramani 2016; Merity et al. 2017; Melis et al. 2017 "
        f"(rnnreg.published.FOLLOW_UPS; methods without a verified number left out). Here: results/{ZOO}.",
    )
    return fig


# --------------------------------------------------------------------------------------------
# Curves over epochs
# --------------------------------------------------------------------------------------------
def _curves_title(data: Mapping[str, pd.DataFrame], metric: str) -> str:
    """What the chosen curves show at their last epoch (each scheme's mean over its seeds), in a few words."""
    last = pd.DataFrame([df.iloc[-1] for df in data.values()], index=[k.split()[0] for k in data])
    last = last.groupby(level=0, sort=False).mean()
    if metric == "gap":
        s = last["gap"].idxmax()
        return f"Largest gap valid − train at the last epoch: {s} ({last.loc[s, 'gap']:.1f})"
    if metric == "train_ppl":
        s = last["train_ppl"].idxmax()
        return f"Highest training perplexity (dropout on) at the last epoch: {s} ({last.loc[s, 'train_ppl']:.1f})"
    s = last["valid_ppl"].idxmin()
    return f"Lowest valid perplexity at the last epoch: {s} ({last.loc[s, 'valid_ppl']:.1f})"


def plot_zoo_curves(
    zoo: Mapping,
    schemes: Sequence[str] = ("zaremba", "variational"),
    metric: str = "both",
    *,
    ax=None,
    title: str | None = None,
) -> Figure:
    """Per-epoch curves of the chosen schemes (every recorded seed) for one metric of ``zoo.METRICS``."""
    data = curves(zoo, schemes, metric)
    note = (
        f"Runs: results/{ZOO}/<scheme>-seed<k>. Train perplexity: the running average over each epoch, "
        "measured with dropout on (none: off)."
    )
    absent = [s for s in schemes if s not in zoo]
    if absent:
        note += " Not yet recorded here: " + ", ".join(absent) + "."
    heading = title or (_curves_title(data, metric) if data else f"{METRICS[metric]} per epoch")
    if metric in ("both", "valid_ppl"):
        fig = plot_curves(
            {k: v for k, v in data.items()},
            ax=ax,
            show_train=metric == "both",
            title=heading,
            note=note,
            xmax=BUDGET["epochs"],
        )
        legend = fig.axes[0].get_legend()
        if legend is not None:
            _legend_outside(
                fig.axes[0],
                legend.legend_handles,
                [t.get_text() for t in legend.get_texts()],
                ncol=1 if len(data) < 9 else 2,
            )
        if not data:
            empty_note(fig.axes[0], "no scheme chosen" if not schemes else "not yet recorded here")
        return fig
    if ax is None:
        fig, ax = new_figure()
    else:
        fig = ax.figure
    col = metric
    lo, hi = math.inf, 0.0
    for label, df in data.items():
        style = TRAIN_STYLE if metric == "train_ppl" else VALID_STYLE
        ax.plot(df["epoch"], df[col], color=color_for(label), marker="o", markersize=4, label=label, **style)
        lo, hi = min(lo, df[col].min()), max(hi, df[col].max())
    if metric == "train_ppl" and data:
        ax.set_yscale("log")
        log_ticks(ax, lo, hi)
    if metric == "gap":
        ax.axhline(0, color="#333333", linewidth=1)
    ax.set_xlabel("epoch")
    ax.set_ylabel(METRICS[metric])
    ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
    ax.set_xlim(0.7, BUDGET["epochs"] + 0.3)
    if data:
        _legend_outside(ax, ncol=1 if len(data) < 9 else 2)
    else:
        empty_note(ax, "no scheme chosen" if not schemes else "not yet recorded here")
    ax.set_title(heading, loc="left")
    add_note(fig, note)
    return fig


# --------------------------------------------------------------------------------------------
# Model averaging
# --------------------------------------------------------------------------------------------
def _value_labels(ax, xs, ys, color: str, offset: tuple[float, float]) -> None:
    """Each point's value written ``offset`` points away from it (the signs pick the side)."""
    side = {1: ("left", "bottom"), -1: ("right", "top"), 0: ("center", "center")}
    ha, va = side[int(np.sign(offset[0]))][0], side[int(np.sign(offset[1]))][1]
    for x, y in zip(xs, ys):
        ax.annotate(
            f"{y:.1f}", (x, y), xytext=offset, textcoords="offset points", fontsize=10, color=color, ha=ha, va=va
        )


def plot_averaging(avg: dict | None, model: str = "small", *, title: str | None = None) -> Figure:
    """Perplexity against the number of models averaged: the paper's Table 1 rows (valid, test)
    and this project's (on its recorded split) — or a note that it is not yet recorded here."""
    paper = reported_averaging(model)
    fig, ax = new_figure()
    # value labels clear of markers and lines: the paper's valid above right, its test below, ours to the left
    for split, style, marker, offset in (("valid", VALID_STYLE, "o", (12, 8)), ("test", TRAIN_STYLE, "s", (0, -12))):
        ax.plot(paper["members"], paper[split], color="#333333", marker=marker, label=f"paper, {split}", **style)
        _value_labels(ax, paper["members"], paper[split], "#333333", offset)
    found = averaging_findings(avg, model)
    if found:
        ks = np.arange(1, len(found["averages"]) + 1)
        split = found["split"]
        style = VALID_STYLE if split == "valid" else TRAIN_STYLE
        ax.plot(ks, found["averages"], color=HERE, marker="D", markersize=8, label=f"here, {split}", **style)
        _value_labels(ax, ks, found["averages"], HERE, (-16, 0))
        members = ", ".join(str(m.get("run")) for m in avg["members"])
        note = f"Here: results/{AVERAGING} ({split}, members {members}). Paper: Table 1, model averaging."
        if title is None and found["two"] and found["paper_two"]:
            title = (
                f"Averaging two models: {found['two'][2]:.0%} lower here, "
                f"{found['paper_two'][2]:.0%} in the paper ({split})"
            )
    else:
        ax.text(
            0.97,
            0.9,
            "this project: not yet recorded here",
            transform=ax.transAxes,
            ha="right",
            fontsize=12,
            color=HERE,
        )
        note = f"Paper: Table 1, model averaging. Here: not yet recorded — {AVERAGE_COMMAND}"
    ax.set_xscale("log")
    ax.set_xticks(sorted(set(paper["members"]) | ({*range(1, len(avg["average_ppl"]) + 1)} if found else set())))
    ax.get_xaxis().set_major_formatter(mpl.ticker.ScalarFormatter())
    ax.xaxis.set_minor_locator(mpl.ticker.NullLocator())
    ax.set_xlim(0.75, float(paper["members"].max()) * 1.35)
    ax.margins(y=0.15)
    ax.set_xlabel("models averaged (probabilities)")
    ax.set_ylabel("perplexity")
    _legend_outside(ax)
    ax.set_title(title or f"Averaging non-regularized {model} LSTMs", loc="left")
    add_note(fig, note)
    return fig


# --------------------------------------------------------------------------------------------
# Panels
# --------------------------------------------------------------------------------------------
METRIC_OPTIONS = [
    (label, key)
    for key, label in (
        ("both", "train & valid"),
        ("valid_ppl", "valid"),
        ("train_ppl", "train"),
        ("gap", "valid − train"),
    )
]


class ZooCurves(FigurePanel):
    """Schemes (ctrl/shift-click) and a metric -> per-epoch curves of every recorded seed, and a
    line of last-epoch numbers for the chosen runs."""

    def __init__(self, zoo: dict, schemes=("none", "zaremba", "variational"), metric: str = "both"):
        self.zoo = zoo
        self.schemes = schemes_picker(schemes, schemes=SCHEMES)
        self.metric = W.ToggleButtons(options=METRIC_OPTIONS, value=metric, description="show", style=STYLE)
        self.readout = W.HTML()
        self.image = image_widget()
        super().__init__([W.HBox([self.schemes, self.metric]), self.readout, self.image])
        self._observe(self.schemes, self.metric)
        self.update()

    def chosen(self) -> tuple[str, ...]:
        return tuple(self.schemes.value)

    def readout_text(self) -> str:
        """Last-epoch valid / train (dropout on) of each chosen run, or what is missing."""
        parts = []
        for label, df in curves(self.zoo, self.chosen(), self.metric.value).items():
            last = df.iloc[-1]
            parts.append(
                f"<b>{html.escape(label)}</b>: valid {last['valid_ppl']:.1f}, train {last['train_ppl']:.1f} "
                f"(epoch {int(last['epoch'])})"
            )
        absent = [s for s in self.chosen() if s not in self.zoo]
        if absent:
            parts.append("not yet recorded here: " + ", ".join(absent))
        return " · ".join(parts) if parts else "Choose one or more schemes."

    def update(self) -> None:
        self.readout.value = self.readout_text()
        self._set_figure(plot_zoo_curves(self.zoo, self.chosen(), self.metric.value))


class SchemeVsPapers(StaticFallback, W.VBox):
    """Scheme dropdown -> the published PTB numbers for that placement (``rnnreg.published.FOLLOW_UPS``) with
    what differs, and this project's zoo result for it, as an HTML table."""

    def __init__(self, zoo: dict, scheme: str = "variational"):
        self.zoo = zoo
        self.scheme = scheme_picker(scheme, schemes=[s for s in SCHEMES if s != "none"])
        self.out = W.HTML()
        super().__init__([self.scheme, self.out])
        self.scheme.observe(lambda change: self.update(), names="value")
        self.update()

    def rows(self):
        """Rows for the scheme, and rows whose note names it (e.g. the method `memory` is the opposite of)."""
        lit = literature_table(self.zoo)
        s = self.scheme.value
        return lit[(lit["scheme"] == s) | lit["differs"].str.contains(f"`{s}`", regex=False)]

    def update(self) -> None:
        s = self.scheme.value
        table = scheme_table(self.zoo)
        if s in table.index:
            r = table.loc[s]
            n = int(r["seeds"])
            spread = "one seed" if n == 1 else f"spread {r['valid_spread']:.1f} over {n} seeds"
            here = f"Here: valid {r['valid_ppl']:.1f}, test {r['test_ppl']:.1f} ({spread}; {budget_label()} untuned)."
        else:
            here = "Here: not yet recorded."
        rows = self.rows()
        if rows.empty:
            body = "<p>No follow-up paper in the reference notes reports a PTB number for this placement.</p>"
        else:
            cells = "".join(
                f"<tr><td>{html.escape(str(x['method']))}</td><td>{_num(x['valid'])}</td><td>{_num(x['test'])}</td>"
                f"<td>{_num(x['params (M)'], 0)}</td><td>{html.escape(str(x['differs']))}</td>"
                f"<td>{html.escape(str(x['source']))}</td></tr>"
                for _, x in rows.iterrows()
            )
            body = (
                "<table><tr><th>published</th><th>valid</th><th>test</th><th>params (M)</th><th>what differs</th>"
                f"<th>source</th></tr>{cells}</table>"
            )
        self.out.value = f"<p><b>{html.escape(s)}</b>. {html.escape(here)}</p>{body}"


def _num(x, digits: int = 1) -> str:
    return "–" if not isinstance(x, (int, float)) or math.isnan(x) else f"{x:.{digits}f}"
