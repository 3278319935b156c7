"""Chapter 04's figures and panels, from :mod:`rnnreg.analysis.equivalence`. ``TheoryPanel``: N and p → the
candidate N_eq; ``EquivalencePanel``: a dropout rate and a metric → each cell's undropped equivalent."""

from __future__ import annotations

import ipywidgets as W
import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..analysis.equivalence import (
    GRID,
    GRID_COMMAND,
    GRID_PATH,
    INFERENCE_COMMAND,
    AlphaFit,
    base_curve,
    candidate_alpha_curves,
    equivalence_table,
    inference_summary,
    main_grid,
    missing_cells,
    pivot,
    seed_noise,
    theory_candidates,
    theory_table,
)
from .panels import STYLE, FigurePanel, image_widget, int_slider, rate_slider
from .style import BOOK_RC, FIGSIZE, SCHEME_COLORS, WIDE, add_note, empty_note, log_ticks, new_figure, suptitle

#: One colour per dropout rate of the grid (p = 0 in the colour of ``none``), Okabe-Ito.
RATE_COLORS = {0.0: SCHEME_COLORS["none"], 0.2: "#E69F00", 0.35: "#009E73", 0.5: "#0072B2", 0.65: "#CC79A7"}
#: Colour and legend name of each theory candidate (keys of ``theory_candidates``).
CANDIDATES = {
    "units": ("#D55E00", "units"), "pairs (seed's N·N)": ("#D55E00", "seed's N·N pairs"),
    "pairs under zaremba": ("#009E73", "pairs, zaremba"),
    "weights of the LM under zaremba": ("#CC79A7", "LM weights, zaremba"),
    "test time (all units)": ("#4d4d4d", "test time"),
}  # fmt: skip
METRICS = {
    "train_eval_ppl": "train perplexity (eval mode)", "valid_ppl": "valid perplexity", "gap": "gap valid / train",
}  # fmt: skip
#: How the figures and the reader's table name a cell's status (``equivalence_table``).
STATUS = {
    "ok": "", "worse": "worse than the smallest p = 0", "better": "better than all p = 0",
    "near smallest": "≈ smallest p = 0 (seed noise)", "near best": "≈ best p = 0 (seed noise)",
    "no base": "no p = 0 row",
}  # fmt: skip
NOTE_SIZE, LABEL_SIZE = 12, 13  # points: notes under a figure, labels inside it (legible projected)


def _rate_color(p: float) -> str:
    return RATE_COLORS.get(round(float(p), 2), "#56B4E9")


def _grid_note(grid: pd.DataFrame) -> str:
    b, missing = GRID["budget"], missing_cells(grid, ensemble=False)
    note = f"results/{GRID_PATH}: one seed per cell, first {b['max_train_tokens']:,} PTB training tokens, "
    return note + f"{b['epochs']} epochs." + (f" {len(missing)} cells not yet recorded." if missing else "")


def _size_axis(ax) -> None:
    ax.set_xscale("log")
    ax.set_xticks(GRID["sizes"], [str(n) for n in GRID["sizes"]])
    ax.xaxis.set_minor_locator(mpl.ticker.NullLocator())


def plot_theory(hidden_size: int = 200, dropout: float = 0.5) -> Figure:
    """Left: each candidate's N_eq at (N, p). Right: N_eq/N against p. Fixed margins: fast redraws."""
    with mpl.rc_context(BOOK_RC):
        fig = Figure(figsize=WIDE)
        ax1, ax2 = fig.subplots(1, 2, width_ratios=(1.2, 1))
        fig.subplots_adjust(left=0.15, right=0.77, bottom=0.2, top=0.84, wspace=0.3)
    cands = theory_candidates(hidden_size, dropout)
    ys = np.arange(len(cands))[::-1]
    ax1.barh(ys, list(cands.values()), color=[CANDIDATES[n][0] for n in cands], height=0.6)
    for y, v in zip(ys, cands.values()):  # inside the bar's end when it is long enough
        side = dict(xytext=(-5, 0), ha="right", color="white") if v > 0.3 * hidden_size else dict(xytext=(4, 0))
        ax1.annotate(f"{v:.1f}", (v, y), textcoords="offset points", va="center", fontsize=LABEL_SIZE, **side)
    ax1.set_yticks(ys, [n.replace(" under ", "\nunder ").replace(" (all", "\n(all") for n in cands], fontsize=12)
    ax1.axvline(hidden_size, color="#333333", linestyle=":", linewidth=1.4)
    ax1.set(xlim=(0, hidden_size * 1.3), xlabel="equivalent undropped size N_eq")
    ax1.grid(axis="y", visible=False)
    ax1.set_title(f"Candidates at N = {hidden_size}, p = {dropout:.2f}", loc="left", fontsize=14)
    rates = np.linspace(0, 0.8, 33)
    curves = [theory_candidates(hidden_size, p) for p in rates]
    for name, (color, label) in CANDIDATES.items():
        dotted = dict(linestyle=(0, (1, 2)), linewidth=3.2) if name == "pairs (seed's N·N)" else {}
        ax2.plot(rates, [c[name] / hidden_size for c in curves], color=color, label=label, **dotted)
        ax2.plot([dropout], [cands[name] / hidden_size], marker="o", color=color, markersize=6)
    ax2.axvline(dropout, color="#333333", linestyle=":", linewidth=1.4)
    ax2.set(xlabel="dropout rate p", ylabel="N_eq / N", ylim=(0, 1.05))
    ax2.set_title("N_eq / N at every rate", loc="left", fontsize=14)
    ax2.legend(loc="upper left", bbox_to_anchor=(1.02, 1), frameon=False, fontsize=12)
    lo = min(cands.values())
    suptitle(fig, f"The counts disagree: N_eq from {lo:.0f} to {hidden_size} units at p = {dropout:.2f}")
    add_note(fig, "2 layers, 10k vocabulary; the seed's N·N pairs coincide with the units (dotted on top).", NOTE_SIZE)
    return fig


def plot_heatmaps(grid: pd.DataFrame, metrics=("train_eval_ppl", "valid_ppl", "gap"), *, title=None) -> Figure:
    """One heat map per metric over N × p, each cell's value written in it ("—": not recorded)."""
    fig, axes = new_figure((4.6 * len(metrics), 5.0), 1, len(metrics))
    for ax, metric in zip(np.atleast_1d(axes), metrics):
        table = pivot(grid, metric)
        t, finite = table.to_numpy(), table.to_numpy()[np.isfinite(table.to_numpy())]
        lo, hi = (finite.min(), finite.max()) if finite.size else (1.0, 2.0)
        norm = mpl.colors.Normalize(lo, max(hi, lo + 1e-3)) if metric == "gap" else mpl.colors.LogNorm(lo, hi * 1.001)
        ax.imshow(np.ma.masked_invalid(t), cmap="viridis_r", norm=norm, aspect="auto", origin="lower")
        for (i, j), v in np.ndenumerate(t):
            text = "—" if not np.isfinite(v) else f"{v:.2f}" if metric == "gap" else f"{v:.0f}"
            dark = np.isfinite(v) and norm(v) > 0.55
            ax.text(j, i, text, ha="center", va="center", fontsize=12, color="white" if dark else "black")
        ax.set_xticks(range(t.shape[1]), [str(n) for n in table.columns])
        ax.set_yticks(range(t.shape[0]), [f"{p:g}" for p in table.index])
        ax.set(xlabel="hidden size N", ylabel="dropout rate p" if ax is np.atleast_1d(axes)[0] else "")
        ax.set_title(METRICS[metric], fontsize=14)
        ax.grid(False)
        ax.spines[:].set_visible(False)
    suptitle(fig, title or "The grid: dropout rate p × hidden size N")
    add_note(fig, _grid_note(grid) + " Darker = higher.", NOTE_SIZE)
    return fig


def plot_vs_size(grid: pd.DataFrame, metric: str = "valid_ppl", *, title: str | None = None) -> Figure:
    """``metric`` against N, one line per p (log-log); cells better than every undropped model ringed."""
    fig, ax = new_figure()
    g = main_grid(grid)
    if g.empty:
        empty_note(ax, f"Grid not yet recorded here: run `{GRID_COMMAND}`.")
    else:
        for p, part in g.groupby("dropout"):
            part = part.sort_values("hidden_size")
            ax.plot(part.hidden_size, part[metric], "o-", color=_rate_color(p), markersize=5, label=f"p = {p:g}")
        base = base_curve(g, metric)
        best = f"best undropped (N = {base.idxmin()}): {base.min():.1f}"
        ax.axhline(base.min(), color=RATE_COLORS[0.0], linestyle=":", linewidth=1.5, label=best)
        table = equivalence_table(grid, metric, noise=seed_noise(grid, metric))
        better = table[table.status == "better"]
        ring = dict(ms=14, mfc="none", mew=1.5, color="#222222", label="better than every undropped size")
        ax.plot(better.hidden_size, better[metric], "o", **ring)
        _size_axis(ax)
        ax.set_yscale("log")
        log_ticks(ax, g[metric].min(), 1.5 * base.min())
        ax.set_ylim(0.95 * g[metric].min(), 1.5 * base.min())  # zoomed on the best models: the small ones leave the top
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=12)
    ax.set(xlabel="hidden size N (log scale)", ylabel=METRICS[metric])
    ax.set_title(title or f"{METRICS[metric].capitalize()} against size, one line per dropout rate", loc="left")
    add_note(fig, _grid_note(grid) + " Axis cut at 1.5 × the best undropped model.", NOTE_SIZE)
    return fig


def plot_alpha(fit: AlphaFit, *, title: str | None = None) -> Figure:
    """α per dropout rate with its 95 % Student-t interval, beside the counts' α(p) (at the grid's largest N)."""
    fig, ax = new_figure((10.0, 5.0))
    r = fit.by_rate[fit.by_rate.n > 0]
    if r.empty:
        empty_note(ax, "Grid not yet recorded here.")
    else:
        ps, n = np.linspace(0.05, 0.75, 40), max(GRID["sizes"])
        curves = candidate_alpha_curves(n, ps)
        for name in ("units", "pairs under zaremba", "weights of the LM under zaremba", "test time (all units)"):
            label = {"units": "α = 1: units, seed's N·N pairs"}.get(name, CANDIDATES[name][1])
            ax.plot(ps, curves[name], color=CANDIDATES[name][0], linewidth=1.5, label=label)
        for p, row in r.iterrows():
            c, err = _rate_color(p), [[row.alpha - row.low], [row.high - row.alpha]]
            ax.errorbar([p], [row.alpha], yerr=np.nan_to_num(err), fmt="none", ecolor=c, elinewidth=2.5, capsize=6)
            label = f"p = {p:g}: α = {row.alpha:.2f} ({row.low:.2f} to {row.high:.2f})"
            ax.plot([p], [row.alpha], "o", color=c, ms=10, mec="white", label=label)
        finite = np.isfinite(r.low)
        ax.set_ylim(min(-0.1, r.low[finite].min() - 0.1), max(1.3, r.high[finite].max() + 0.1))
        ax.set_xlim(0, 0.8)
        ax.set_xticks(list(r.index))
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=12)
        note = f"Bars: 95 % Student-t intervals ({r.n.min()}-{r.n.max()} cells per rate), seed noise (sd of log "
        note += f"perplexity {fit.noise.sd:.3f}, {fit.noise.dof} degrees of freedom) and scatter over sizes."
        add_note(fig, note, NOTE_SIZE)
    ax.set(xlabel="dropout rate p", ylabel="α in N_eq = N(1−p)^α")
    suptitle(fig, title or f"α per dropout rate from {METRICS[fit.metric]}, beside the counts")
    return fig


def plot_inference(inference: dict | None, *, title: str | None = None) -> Figure:
    """Perplexity against forward passes averaged (MC dropout samples, ensemble members); weight scaling a line."""
    fig, ax = new_figure()
    s = inference_summary(inference)
    if not s:
        empty_note(ax, f"inference.json not yet recorded here.\nRun `{INFERENCE_COMMAND}` once the grid is complete.")
    else:
        mc, ens, ws, c = inference["mc_dropout_ppl"], inference["ensemble_ppl"], s["weight_scaling"], RATE_COLORS[0.5]
        dp, ep = s["dropout_parameters"] / 1e6, s["member_parameters"] / 1e6
        label = f"weight scaling (1 pass, {dp:.2f}M params): {ws:.1f}"
        ax.axhline(ws, color=c, linestyle=":", linewidth=2, label=label)
        ax.plot(range(1, len(mc) + 1), mc, "o-", color=c, label=f"MC dropout, S samples: {mc[-1]:.1f} at S = {len(mc)}")
        label = f"ensemble of K undropped ({ep:.2f}M each): {ens[-1]:.1f} at K = {len(ens)}"
        ax.plot(range(1, len(ens) + 1), ens, "s-", color=SCHEME_COLORS["none"], label=label)
        ax.set_yscale("log")
        log_ticks(ax, min(ws, *mc, *ens), max(ws, *mc, *ens))
        ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
        ax.legend(loc="upper right", frameon=False, fontsize=12)
    ax.set(xlabel="forward passes averaged (S samples / K members)", ylabel="perplexity")
    ax.set_title(title or "At inference: weight scaling, MC dropout, or an ensemble of small models", loc="left")
    add_note(fig, f"results/{GRID_PATH}/inference.json: dropout model {s['cell']}." if s else None, NOTE_SIZE)
    return fig


def _html_table(df: pd.DataFrame) -> str:
    return f"<div style='font-size:18px'>{df.to_html(na_rep='', border=0)}</div>"


class TheoryPanel(FigurePanel):
    """Sliders N (units per layer) and p → every candidate N_eq, its α and the parameters of an LM that size."""

    def __init__(self, hidden_size: int = 200, dropout: float = 0.5):
        self.size = int_slider(hidden_size, 10, 1500, 10, "hidden size N")
        self.rate = rate_slider(dropout, "dropout rate p", max=0.8)
        self.readout, self.image = W.HTML(), image_widget()
        super().__init__([W.HBox([self.size, self.rate]), self.readout, self.image])
        self._observe(self.size, self.rate)
        self.update()

    def state(self) -> dict:
        n, p = self.size.value, round(self.rate.value, 4)
        return {"N": n, "p": p, **theory_candidates(n, p)}

    def update(self) -> None:
        n, p = self.size.value, round(self.rate.value, 4)
        self.readout.value = _html_table(theory_table(n, p))
        self._set_figure(plot_theory(n, p))


#: Where a label may go around its point (offset in points), in order of preference: a point on the falling
#: p = 0 curve has free space below-left of it; other labels try above first.
_OK_SPOTS = ((-5, -5), (5, -5), (-5, 5), (5, 5))
_OTHER_SPOTS = ((0, 9), (0, -9), (8, 8), (-8, 8), (8, -8), (-8, -8))


def _place(ax, renderer, text: str, xy, spots, obstacles: list, **kw) -> None:
    """Annotate ``xy`` at the first spot whose box stays inside the axes, clear of every curve and of every
    label placed before (``obstacles``, extended)."""
    box = ax.get_window_extent(renderer)
    curves = [ln.get_transform().transform_path(ln.get_path()) for ln in ax.get_lines() if len(ln.get_xdata()) > 1]
    label = None
    for dx, dy in spots:
        if label is not None:
            label.remove()
        ha, va = "center" if dx == 0 else "left" if dx > 0 else "right", "bottom" if dy > 0 else "top"
        label = ax.annotate(text, xy, xytext=(dx, dy), textcoords="offset points", ha=ha, va=va, **kw)
        ext = label.get_window_extent(renderer)
        inside = box.x0 <= ext.x0 and ext.x1 <= box.x1 and box.y0 <= ext.y0 and ext.y1 <= box.y1
        clear = not any(c.intersects_bbox(ext, filled=False) for c in curves) and not any(map(ext.overlaps, obstacles))
        if inside and clear:
            break
    obstacles.append(label.get_window_extent(renderer))


def equivalence_figure(grid: pd.DataFrame, dropout: float, metric: str = "train_eval_ppl") -> Figure:
    """The p = 0 curve, the cells at ``dropout``, an arrow from each to its N_eq (cells without one say why)."""
    with mpl.rc_context(BOOK_RC):  # fixed margins: fast redraws
        fig = Figure(figsize=FIGSIZE)
        ax = fig.subplots()
        fig.subplots_adjust(left=0.09, right=0.98, bottom=0.2, top=0.9)
    base = base_curve(main_grid(grid), metric)
    table = equivalence_table(grid, metric, noise=seed_noise(grid, metric))
    cells, color = table[np.isclose(table.dropout.astype(float), dropout)], _rate_color(dropout)
    title = f"Reading off N_eq: p = {dropout:g} against the undropped row"
    if base.empty and cells.empty:
        empty_note(ax, f"Grid not yet recorded here: run `{GRID_COMMAND}`.")
    else:
        vals = [*base.values, *cells[metric]]
        ax.plot(base.index, base.values, "o-", color=RATE_COLORS[0.0], label="p = 0 (undropped)")
        ax.plot(cells.hidden_size, cells[metric], "o-", color=color, markersize=7, label=f"p = {dropout:g}")
        _size_axis(ax)
        ax.set_xlim(min(GRID["sizes"]) * 0.7, max(GRID["sizes"]) * 1.3)
        ax.set_yscale("log")
        log_ticks(ax, min(vals), max(vals))
        ax.set_ylim(min(vals) * 0.72, max(vals) * 1.4)  # room for labels above the top / below the lowest points
        ax.legend(loc="upper right", frameon=False, fontsize=12)
        renderer = FigureCanvasAgg(fig).get_renderer()
        placed = [ax.get_legend().get_window_extent(renderer)]
        ok = cells[cells.status == "ok"]
        for n, v, n_eq in zip(ok.hidden_size, ok[metric], ok.n_eq):  # arrows first: labels keep clear of them
            ax.annotate("", (n_eq, v), (n, v), arrowprops=dict(arrowstyle="-|>", color=color, linewidth=1.4))
            ax.plot([n_eq], [v], "x", color="#333333", markersize=8)
        for n, v, n_eq, st in zip(cells.hidden_size, cells[metric], cells.n_eq, cells.status):
            if st == "ok":
                _place(ax, renderer, f"N_eq ≈ {n_eq:.0f}", (n_eq, v), _OK_SPOTS, placed, fontsize=LABEL_SIZE)
            else:
                text = f"N_eq < {min(GRID['sizes'])}" if st == "worse" else STATUS[st].replace(" (seed noise)", "")
                _place(ax, renderer, text, (n, v), _OTHER_SPOTS, placed, fontsize=LABEL_SIZE - 1, color="#555555")
        if len(ok):
            lo, hi = (ok.n_eq / ok.hidden_size).agg(["min", "max"])
            title = f"At p = {dropout:g} each dropout model matches an undropped one {lo:.0%}–{hi:.0%} its size"
    ax.set(xlabel="hidden size N (log scale)", ylabel=METRICS[metric])
    ax.set_title(title, loc="left")
    add_note(fig, _grid_note(grid), NOTE_SIZE)
    return fig


class EquivalencePanel(FigurePanel):
    """Dropout-rate buttons and a metric toggle over a grid (:func:`rnnreg.analysis.equivalence.load`)."""

    def __init__(self, grid: pd.DataFrame, dropout: float = 0.5, metric: str = "train_eval_ppl"):
        self.grid = grid
        rates = [(f"{p:g}", p) for p in GRID["rates"] if p > 0]
        self.rate = W.ToggleButtons(options=rates, value=dropout, description="p", style=STYLE)
        metrics = [("train (eval mode)", "train_eval_ppl"), ("valid", "valid_ppl")]
        self.metric = W.ToggleButtons(options=metrics, value=metric, description="perplexity", style=STYLE)
        self.readout, self.image = W.HTML(), image_widget()
        super().__init__([self.rate, self.metric, self.readout, self.image])
        self._observe(self.rate, self.metric)
        self.update()

    def state(self) -> pd.DataFrame:
        """The chosen rate's cells as the readout shows them."""
        metric = self.metric.value
        t = equivalence_table(self.grid, metric, noise=seed_noise(self.grid, metric))
        t = t[np.isclose(t.dropout.astype(float), self.rate.value)].sort_values("hidden_size")
        out = t.assign(units=t.hidden_size * (1 - t.dropout))[[metric, "units", "n_eq", "alpha"]].astype(float)
        out = out.round({metric: 1, "units": 1, "n_eq": 1, "alpha": 2}).set_axis(["ppl", "N(1−p)", "N_eq", "α"], axis=1)
        out["status"] = [STATUS[s] for s in t.status]
        return out.set_axis([f"N={n}, p={p:g}" for n, p in zip(t.hidden_size, t.dropout)])

    def update(self) -> None:
        st = self.state()
        self.readout.value = _html_table(st) if len(st) else f"<i>No recorded cell at p = {self.rate.value:g} yet.</i>"
        self._set_figure(equivalence_figure(self.grid, self.rate.value, self.metric.value))
