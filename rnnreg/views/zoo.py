"""Chapter 05's figures and panels: the scheme zoo at one budget, the published numbers, curves, averaging.

Every function takes what ``rnnreg.analysis.zoo`` loaded and returns a ``matplotlib.figure.Figure`` in the
book's style (``rnnreg.views.plots``: one colour per scheme, train dashed, valid solid), with a footnote
naming the recorded runs or sources it shows — and saying so when something is not recorded yet.

The panels, in the pattern of ``rnnreg.views.panels``: each is an
``ipywidgets.VBox`` whose controls call one ``rnnreg.analysis.zoo`` function and one figure of this
module; the last figure is kept as ``panel.figure`` and shown as PNG in an ``Image`` widget.

``ZooCurves``        pick schemes and a metric: per-epoch curves of the recorded zoo runs
``SchemeVsPapers``   pick a scheme: its result here beside what the follow-up papers report for it
"""
from __future__ import annotations

import html
import math
from typing import Mapping, Sequence

import ipywidgets as W
import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..analysis.runs import follow_ups_table, reported_averaging
from ..analysis.zoo import (
    AVERAGE_COMMAND,
    AVERAGING,
    METRICS,
    ZOO,
    ZOO_COMMAND,
    curves,
    literature_table,
    missing,
    runs_table,
    scheme_table,
    zoo_parameters,
)
from ..model import SCHEMES
from .panels import STYLE, FigurePanel, image_widget, scheme_picker, schemes_picker
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
    log_ticks,
    new_figure,
)

HERE = SOURCE_COLORS["here"]

def _missing_text(ax, text: str = "not yet recorded here") -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=13, color="#777777")


# --------------------------------------------------------------------------------------------
# All schemes at one budget
# --------------------------------------------------------------------------------------------
def plot_schemes(zoo: Mapping, bench: dict | None = None, *, title: str | None = None) -> Figure:
    """Three panels, one row per scheme (best validation perplexity on top):

    perplexity (valid ●, test ■; each seed a small dot when there are several), the gap valid −
    train (train measured with dropout on), and training speed from the benchmark (tokens/s).
    """
    table = scheme_table(zoo, bench, digits=12)
    per_run = runs_table(zoo, digits=12)
    per_run = per_run[per_run["status"].str.startswith("complete")]
    fig, (ax1, ax2, ax3) = new_figure((13.0, 5.0), 1, 3, width_ratios=(1.7, 1, 1), sharey=True)
    if table.empty:
        for ax in (ax1, ax2, ax3):
            _missing_text(ax)
        add_note(fig, f"No complete zoo run under results/{ZOO}. Record them with: {ZOO_COMMAND}")
        return fig
    order = table["valid_ppl"].sort_values(ascending=False).index.tolist()  # best at the top
    y = np.arange(len(order))
    colors = [color_for(s) for s in order]
    for ax in (ax1, ax2, ax3):
        ax.grid(axis="y", visible=False)
    for i, s in enumerate(order):
        ax1.plot([table.loc[s, "test_ppl"], table.loc[s, "valid_ppl"]], [i, i], color=colors[i], linewidth=1.2,
                 alpha=0.6)
        ax1.plot(table.loc[s, "valid_ppl"], i, "o", color=colors[i], markersize=10)
        ax1.plot(table.loc[s, "test_ppl"], i, "s", color=colors[i], markersize=8, markerfacecolor="white",
                 markeredgewidth=2)
        ax1.annotate(f"{table.loc[s, 'valid_ppl']:.1f}", (table.loc[s, "valid_ppl"], i), xytext=(8, 0),
                     textcoords="offset points", va="center", fontsize=11)
        seeds = per_run[per_run["scheme"] == s]
        if len(seeds) > 1:
            ax1.plot(seeds["valid_ppl"], [i + 0.22] * len(seeds), "|", color=colors[i], markersize=10)
            ax1.plot(seeds["test_ppl"], [i - 0.22] * len(seeds), "|", color=colors[i], markersize=10)
    lo = float(np.nanmin(table[["valid_ppl", "test_ppl"]].to_numpy()))
    hi = float(np.nanmax(table[["valid_ppl", "test_ppl"]].to_numpy()))
    pad = max(hi - lo, 1.0) * 0.12
    ax1.set_xlim(lo - pad, hi + 2.2 * pad)
    ax1.set_yticks(y)
    ax1.set_yticklabels(order)
    for lbl, s in zip(ax1.get_yticklabels(), order):
        lbl.set_color(color_for(s) if s != "none" else "#333333")
    ax1.set_xlabel("perplexity (lower is better)")
    ax1.set_title("valid ● and test ■", loc="left", fontsize=14)
    ax1.legend(handles=[Line2D([], [], marker="o", color="#555555", linestyle="none", label="valid (last epoch)"),
                        Line2D([], [], marker="s", color="#555555", markerfacecolor="white", linestyle="none",
                               label="test (batch 1)")], loc="upper right", frameon=False, fontsize=10)
    gap = table.loc[order, "gap"].to_numpy(dtype=float)
    ax2.barh(y, gap, color=colors)
    for i, g in enumerate(gap):
        ax2.annotate(f"{g:.1f}", (g, i), xytext=(4, 0), textcoords="offset points", va="center", fontsize=11)
    ax2.set_xlim(0, max(float(np.nanmax(gap)), 1.0) * 1.25)
    ax2.set_xlabel("valid − train perplexity")
    ax2.set_title("gap (train: dropout on)", loc="left", fontsize=14)
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
        _missing_text(ax3, "no benchmark\n(results/bench/cpu.json)")
    fig.suptitle(title or "The scheme zoo at one budget", x=0.01, ha="left", fontsize=15)
    n = sorted(set(table["seeds"]))
    seeds_txt = "one seed per scheme (no spread)" if n == [1] else "ticks: individual seeds"
    add_note(fig, f"Runs: results/{ZOO}/<scheme>-seed<k>, {seeds_txt}; 2×200, 300,000 training tokens, 6 epochs, "
               "p = 0.5 untuned. Speed: results/bench/cpu.json (2 CPU cores, small shape, fp32)."
          + (f" Not yet recorded here: {', '.join(missing(zoo))}." if missing(zoo) else ""))
    return fig


# --------------------------------------------------------------------------------------------
# The published numbers beside this project's
# --------------------------------------------------------------------------------------------
def plot_literature(zoo: Mapping | None = None, *, title: str | None = None) -> Figure:
    """Left: the follow-up papers' test perplexity (``rnnreg.published.FOLLOW_UPS``), coloured by the scheme
    they correspond to; methods without a verified number are listed as such. Right: this
    project's zoo (test) on its own axis — a different budget, so compare orders, not levels."""
    lit = follow_ups_table()
    fig, (ax1, ax2) = new_figure(WIDE, 1, 2, width_ratios=(1.5, 1))
    y = np.arange(len(lit))[::-1]
    for ax in (ax1, ax2):
        ax.grid(axis="y", visible=False)
    top = float(np.nanmax(lit["test"]))
    for yi, (_, r) in zip(y, lit.iterrows()):
        color = SCHEME_COLORS.get(r["scheme"], NEUTRAL) if isinstance(r["scheme"], str) else NEUTRAL
        if math.isnan(r["test"]):
            ax1.text(top * 0.02, yi, "no verified PTB number", va="center", fontsize=10, color="#777777")
        else:
            ax1.barh(yi, r["test"], color=color)
            ax1.annotate(f"{r['test']:.1f}", (r["test"], yi), xytext=(4, 0), textcoords="offset points",
                         va="center", fontsize=10)
    ax1.set_yticks(y)
    ax1.set_yticklabels(lit["method"], fontsize=10)
    ax1.set_xlim(0, top * 1.5)
    ax1.set_ylim(-0.6, len(lit) - 0.4)
    ax1.set_xlabel("test perplexity")
    shown = [s for s in dict.fromkeys(lit.loc[lit["test"].notna(), "scheme"]) if isinstance(s, str)]
    ax1.legend(handles=[Patch(color=SCHEME_COLORS[s], label=s) for s in shown] + [Patch(color=NEUTRAL, label="other")],
               loc="lower right", frameon=True, framealpha=0.9, edgecolor="white", fontsize=10)
    params = lit["params"].dropna()
    ax1.set_title(f"published (full PTB, {params.min():.0f}–{params.max():.0f}M parameters)", loc="left", fontsize=13)
    table = scheme_table(zoo or {}, digits=12)
    if table.empty:
        _missing_text(ax2)
    else:
        order = table["test_ppl"].sort_values(ascending=False).index.tolist()
        vals = table.loc[order, "test_ppl"].to_numpy(dtype=float)
        ax2.barh(np.arange(len(order)), vals, color=[color_for(s) for s in order])
        for i, v in enumerate(vals):
            ax2.annotate(f"{v:.1f}", (v, i), xytext=(4, 0), textcoords="offset points", va="center", fontsize=10)
        ax2.set_yticks(np.arange(len(order)))
        ax2.set_yticklabels(order, fontsize=11)
        ax2.set_xlim(0, float(np.nanmax(vals)) * 1.18)
    ax2.set_xlabel("test perplexity")
    size = zoo_parameters(zoo or {})
    ax2.set_title("here (2×200" + (f", {size:.1f}M" if size else "") + ", 300k tokens)", loc="left", fontsize=13)
    fig.suptitle(title or "Published numbers and this project's zoo: orders comparable, levels not",
                 x=0.01, ha="left", fontsize=15)
    add_note(fig, "Sources: Zaremba et al. 2014; Gal & Ghahramani 2016; Merity et al. 2017; Melis et al. 2017 "
               "(rnnreg.published.FOLLOW_UPS). Grey: no single scheme of this book. Here: results/ptb/zoo.")
    return fig


# --------------------------------------------------------------------------------------------
# Curves over epochs
# --------------------------------------------------------------------------------------------
def plot_zoo_curves(zoo: Mapping, schemes: Sequence[str] = ("zaremba", "variational"), metric: str = "both",
                    *, ax=None, title: str | None = None) -> Figure:
    """Per-epoch curves of the chosen schemes (every recorded seed) for one metric of ``zoo.METRICS``."""
    data = curves(zoo, schemes, metric)
    note = (f"Runs: results/{ZOO}/<scheme>-seed<k>. Train perplexity: the running average over each epoch, "
            "measured with dropout on (none: off).")
    absent = [s for s in schemes if s not in zoo]
    if absent:
        note += " Not yet recorded here: " + ", ".join(absent) + "."
    heading = title or f"{METRICS[metric]} per epoch"
    if metric in ("both", "valid_ppl"):
        fig = plot_curves({k: v for k, v in data.items()}, ax=ax, show_train=metric == "both", title=heading,
                          note=note, xmax=6)
        if not data:
            _missing_text(fig.axes[0], "no scheme chosen" if not schemes else "not yet recorded here")
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
    ax.set_xlim(0.7, 6.3)
    if data:
        ax.legend(loc="best", frameon=False, ncol=1 if len(data) < 6 else 2)
    else:
        _missing_text(ax, "no scheme chosen" if not schemes else "not yet recorded here")
    ax.set_title(heading, loc="left")
    add_note(fig, note)
    return fig


# --------------------------------------------------------------------------------------------
# Model averaging
# --------------------------------------------------------------------------------------------
def plot_averaging(avg: dict | None, model: str = "small", *, title: str | None = None) -> Figure:
    """Perplexity against the number of models averaged: the paper's Table 1 rows (valid, test)
    and this project's (on its recorded split) — or a note that it is not yet recorded here."""
    paper = reported_averaging(model)
    fig, ax = new_figure()
    for split, style, marker in (("valid", VALID_STYLE, "o"), ("test", TRAIN_STYLE, "s")):
        ax.plot(paper["members"], paper[split], color="#333333", marker=marker, label=f"paper, {split}", **style)
        for k, v in zip(paper["members"], paper[split]):
            ax.annotate(f"{v:.1f}", (k, v), xytext=(6, 2), textcoords="offset points", fontsize=10, color="#333333")
    if avg:
        ks = np.arange(1, len(avg["average_ppl"]) + 1)
        split = avg.get("split", "test")
        ax.plot(ks, avg["average_ppl"], color=HERE, marker="D",
                markersize=8, label=f"here, {split}", **(VALID_STYLE if split == "valid" else TRAIN_STYLE))
        for k, v in zip(ks, avg["average_ppl"]):
            ax.annotate(f"{v:.1f}", (k, v), xytext=(-8, 6), textcoords="offset points", fontsize=10, color=HERE,
                        ha="right")
        members = ", ".join(str(m.get("run")) for m in avg["members"])
        note = f"Here: results/{AVERAGING} ({split}, members {members}). Paper: Table 1, model averaging."
    else:
        ax.text(0.97, 0.9, "this project: not yet recorded here", transform=ax.transAxes, ha="right",
                fontsize=12, color=HERE)
        note = f"Paper: Table 1, model averaging. Here: not yet recorded — {AVERAGE_COMMAND}"
    ax.set_xscale("log")
    ax.set_xticks(sorted(set(paper["members"]) | ({*range(1, len(avg["average_ppl"]) + 1)} if avg else set())))
    ax.get_xaxis().set_major_formatter(mpl.ticker.ScalarFormatter())
    ax.xaxis.set_minor_locator(mpl.ticker.NullLocator())
    ax.set_xlabel("models averaged (probabilities)")
    ax.set_ylabel("perplexity")
    ax.legend(loc="lower left", frameon=False)
    ax.set_title(title or f"Averaging non-regularized {model} LSTMs", loc="left")
    add_note(fig, note)
    return fig


# --------------------------------------------------------------------------------------------
# Panels
# --------------------------------------------------------------------------------------------
METRIC_OPTIONS = [(label, key) for key, label in
                  (("both", "train & valid"), ("valid_ppl", "valid"), ("train_ppl", "train"), ("gap", "valid − train"))]


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
            parts.append(f"<b>{html.escape(label)}</b>: valid {last['valid_ppl']:.1f}, train {last['train_ppl']:.1f} "
                         f"(epoch {int(last['epoch'])})")
        absent = [s for s in self.chosen() if s not in self.zoo]
        if absent:
            parts.append("not yet recorded here: " + ", ".join(absent))
        return " · ".join(parts) if parts else "Choose one or more schemes."

    def update(self) -> None:
        self.readout.value = self.readout_text()
        self._set_figure(plot_zoo_curves(self.zoo, self.chosen(), self.metric.value))


class SchemeVsPapers(W.VBox):
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
            spread = ("one seed" if r["seeds"] == 1 else f"spread {r['valid_spread']:.1f} over {r['seeds']} seeds")
            here = (
                f"Here: valid {r['valid_ppl']:.1f}, test {r['test_ppl']:.1f} ({spread}; 2×200, 300k tokens, 6 epochs)."
            )
        else:
            here = "Here: not yet recorded."
        rows = self.rows()
        if rows.empty:
            body = "<p>No follow-up paper in the reference notes reports a PTB number for this placement.</p>"
        else:
            cells = "".join(
                f"<tr><td>{html.escape(str(x['method']))}</td><td>{_num(x['valid'])}</td><td>{_num(x['test'])}</td>"
                f"<td>{_num(x['params (M)'], 0)}</td><td>{html.escape(str(x['differs']))}</td>"
                f"<td>{html.escape(str(x['source']))}</td></tr>" for _, x in rows.iterrows())
            body = ("<table><tr><th>published</th><th>valid</th><th>test</th><th>params (M)</th><th>what differs</th>"
                    f"<th>source</th></tr>{cells}</table>")
        self.out.value = f"<p><b>{html.escape(s)}</b>. {html.escape(here)}</p>{body}"


def _num(x, digits: int = 1) -> str:
    return "–" if not isinstance(x, (int, float)) or math.isnan(x) else f"{x:.{digits}f}"
