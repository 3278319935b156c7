"""Chapter 04's interactive panels: candidate equivalent sizes, and reading N_eq off the grid.

Both follow ``rnnreg.widgets``' pattern: controls redraw one figure into an ``ipywidgets.Image``
(PNG); the last figure is kept as ``panel.figure`` and the numbers behind it as ``panel.state()``.
Every control has a default, so a headless run shows the default state.

``TheoryPanel``       sliders N and p → the candidate N_eq as a table (with parameters and MACs)
                      and as bars / curves (:func:`rnnreg.plots_equivalence.plot_theory`)
``EquivalencePanel``  pick a dropout rate and a metric → the p = 0 curve, the chosen rate's
                      cells, and for each cell the undropped size with the same perplexity
"""
from __future__ import annotations

import html
import textwrap

import ipywidgets as W
import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from . import equivalence as eq
from . import plots_equivalence as PE
from .plots import BOOK_RC, FIGSIZE, log_ticks
from .widgets import STYLE, FigurePanel, image_widget, rate_slider


def _html_table(df: pd.DataFrame) -> str:
    """A small HTML table (rounded values, NaN as blank) for a readout."""
    head = "".join(f"<th style='padding:2px 10px;text-align:right'>{html.escape(str(c))}</th>" for c in df.columns)
    rows = []
    for idx, r in df.iterrows():
        cells = "".join(
            f"<td style='padding:2px 10px;text-align:right'>{'' if pd.isna(v) else html.escape(str(v))}</td>" for v in r
        )
        rows.append(f"<tr><td style='padding:2px 10px'>{html.escape(str(idx))}</td>{cells}</tr>")
    return (f"<table style='font-size:14px;border-collapse:collapse'><tr><th></th>{head}</tr>"
            + "".join(rows) + "</table>")


class TheoryPanel(FigurePanel):
    """Sliders N (units per layer) and p → every candidate N_eq, its α, parameters and MACs."""

    def __init__(self, hidden_size: int = 200, dropout: float = 0.5):
        self.size = W.IntSlider(value=hidden_size, min=10, max=1500, step=10, description="hidden size N",
                                continuous_update=False, style=STYLE)
        self.rate = rate_slider(dropout, "dropout rate p", max=0.8)
        self.readout = W.HTML()
        self.image = image_widget()
        super().__init__([W.HBox([self.size, self.rate]), self.readout, self.image])
        self._observe(self.size, self.rate)
        self.update()

    def table(self) -> pd.DataFrame:
        return PE.theory_table(self.size.value, round(self.rate.value, 4))

    def state(self) -> dict:
        """{candidate: N_eq} at the current settings, plus N and p."""
        n, p = self.size.value, round(self.rate.value, 4)
        return {"N": n, "p": p, **eq.theory_candidates(n, p)}

    def update(self) -> None:
        n, p = self.size.value, round(self.rate.value, 4)
        self.readout.value = _html_table(PE.format_theory_table(self.table()))
        self._set_figure(PE.plot_theory(n, p, fixed_layout=True))


def equivalence_figure(grid: pd.DataFrame, dropout: float, metric: str = "train_eval_ppl") -> Figure:
    """The p = 0 curve (grey), the cells at ``dropout`` (coloured), and an arrow from each cell to the
    undropped size with the same perplexity (its N_eq), labelled; cells with no equivalent say why."""
    with mpl.rc_context(BOOK_RC):  # fixed margins: fast redraws
        fig = Figure(figsize=FIGSIZE)
        ax = fig.subplots()
        fig.subplots_adjust(left=0.09, right=0.98, bottom=0.2, top=0.9)
    g = PE.main_grid(grid)
    base = eq.base_curve(g, metric) if not g.empty else pd.Series(dtype=float)
    table = PE.equivalence_frame(grid, metric)
    cells = table[np.isclose(table.dropout.astype(float), dropout)] if len(table) else table
    color = PE.rate_color(dropout)
    if base.empty and cells.empty:
        ax.text(0.5, 0.5, f"Grid not yet recorded here: run `{PE.GRID_COMMAND}`.", transform=ax.transAxes,
                ha="center", va="center", fontsize=13, color="#666666")
    else:
        vals = list(base.values) + list(cells[metric])
        if len(base):
            ax.plot(base.index, base.values, "o-", color=PE.RATE_COLORS[0.0], label="p = 0 (undropped)")
        ax.plot(cells.hidden_size, cells[metric], "o-", color=color, markersize=7, label=f"p = {dropout:g}")
        for n, v, n_eq, st in zip(cells.hidden_size, cells[metric], cells.n_eq, cells.status):
            if st == "ok":
                ax.annotate("", (n_eq, v), (n, v), arrowprops=dict(arrowstyle="-|>", color=color, linewidth=1.4))
                ax.plot([n_eq], [v], "x", color="#333333", markersize=8)
                ax.annotate(f"N_eq ≈ {n_eq:.0f}", (n_eq, v), xytext=(-6, 6), textcoords="offset points",
                            ha="right", fontsize=11, color="#222222")
            else:
                ax.annotate({"worse": f"N_eq < {min(eq.GRID['sizes'])}", "better": "none: better than all p = 0",
                             "no base": "no p = 0 row"}[st], (n, v), xytext=(6, -14), textcoords="offset points",
                            fontsize=10, color="#555555")
        PE.size_axis(ax, eq.GRID["sizes"])
        ax.set_xlim(min(eq.GRID["sizes"]) * 0.8, max(eq.GRID["sizes"]) * 1.25)
        ax.set_yscale("log")
        log_ticks(ax, min(vals), max(vals))
        ax.legend(loc="upper right", frameon=False, fontsize=11)
    ax.set_xlabel("hidden size N (log scale)")
    ax.set_ylabel(PE.METRICS[metric])
    ax.set_title(f"Reading off N_eq: p = {dropout:g} against the undropped row", loc="left")
    missing = PE.missing_cells(grid, ensemble=False)
    note = (f"{len(PE.main_grid(grid))} of {len(eq.GRID['sizes']) * len(eq.GRID['rates'])} cells recorded under "
            f"results/{PE.GRID_PATH}" + (f"; not yet: {PE.compact_cells(missing)}" if missing else "") + ".")
    fig.text(0.01, 0.01, textwrap.shorten(note, 260, placeholder=" …"), fontsize=10, color="#555555",
             ha="left", va="bottom", wrap=True)
    return fig


class EquivalencePanel(FigurePanel):
    """Dropout-rate buttons and a metric toggle over a loaded grid (:func:`rnnreg.plots_equivalence.load`)."""

    def __init__(self, grid: pd.DataFrame | None = None, dropout: float = 0.5, metric: str = "train_eval_ppl"):
        self.grid = PE.load() if grid is None else grid
        rates = [p for p in eq.GRID["rates"] if p > 0]
        self.rate = W.ToggleButtons(options=[(f"{p:g}", p) for p in rates], value=dropout, description="p",
                                    style=STYLE)
        self.metric = W.ToggleButtons(options=[("train (eval mode)", "train_eval_ppl"), ("valid", "valid_ppl")],
                                      value=metric, description="perplexity", style=STYLE)
        self.readout = W.HTML()
        self.image = image_widget()
        super().__init__([self.rate, self.metric, self.readout, self.image])
        self._observe(self.rate, self.metric)
        self.update()

    def state(self) -> pd.DataFrame:
        """The chosen rate's cells: perplexity, N(1−p), N_eq, α, status (what the readout shows)."""
        table = PE.equivalence_frame(self.grid, self.metric.value)
        if len(table):
            table = table[np.isclose(table.dropout.astype(float), self.rate.value)]
        return PE.equivalence_display(table, self.metric.value)

    def update(self) -> None:
        st = self.state()
        self.readout.value = (_html_table(st) if len(st) else
                              f"<i>No recorded cell at p = {self.rate.value:g} yet.</i>")
        self._set_figure(equivalence_figure(self.grid, self.rate.value, self.metric.value))

