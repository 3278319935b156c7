"""Chapter 04's figures and panels: is a big model with dropout a smaller model? Numbers come from
:mod:`rnnreg.analysis.equivalence`; what is not recorded says so. ``TheoryPanel``: N and p → the candidate
N_eq; ``EquivalencePanel``: a dropout rate and a metric → each cell's undropped equivalent."""

from __future__ import annotations

import html
import math

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
    candidate_ratio_curves,
    equivalence_display,
    equivalence_frame,
    format_theory_table,
    grid_status,
    inference_summary,
    load,
    main_grid,
    pivot,
    seed_noise,
    theory_candidates,
    theory_table,
)
from .panels import STYLE, FigurePanel, image_widget, rate_slider
from .style import BOOK_RC, FIGSIZE, SCHEME_COLORS, WIDE, add_note, empty_note, log_ticks, new_figure, suptitle

__all__ = [
    "NOTE_SIZE",
    "plot_theory",
    "plot_heatmaps",
    "plot_vs_size",
    "plot_equivalent_size",
    "plot_inference",
    "equivalence_figure",
    "TheoryPanel",
    "EquivalencePanel",
]

#: One colour per dropout rate of the grid (p = 0 in the colour of ``none``), Okabe-Ito.
RATE_COLORS = {0.0: SCHEME_COLORS["none"], 0.2: "#E69F00", 0.35: "#009E73", 0.5: "#0072B2", 0.65: "#CC79A7"}
#: One colour per theory candidate (same keys as :func:`rnnreg.analysis.equivalence.theory_candidates`).
CANDIDATE_COLORS = {
    "units": "#D55E00",
    "pairs (seed's N·N)": "#D55E00",
    "pairs under zaremba": "#009E73",
    "weights of the LM under zaremba": "#CC79A7",
    "test time (all units)": "#4d4d4d",
}
#: Short legend names of the candidates.
SHORT_NAMES = {
    "units": "units",
    "pairs (seed's N·N)": "seed's N·N pairs",
    "pairs under zaremba": "pairs, zaremba",
    "weights of the LM under zaremba": "LM weights, zaremba",
    "test time (all units)": "test time",
}
METRICS = {
    "train_eval_ppl": "train perplexity (eval mode)",
    "valid_ppl": "valid perplexity",
    "gap": "gap valid / train (eval mode)",
    "train_dropout_ppl": "train perplexity (with dropout)",
}
#: Font sizes (points) that stay legible projected: notes under a figure, labels inside it.
NOTE_SIZE = 12
LABEL_SIZE = 13


def rate_color(p: float, i: int = 0) -> str:
    return RATE_COLORS.get(round(float(p), 2), ("#56B4E9", "#E69F00", "#009E73")[i % 3])


def _grid_note(grid: pd.DataFrame) -> str:
    """Which recorded runs a figure shows, and under which budget (figure text)."""
    st, b = grid_status(grid), GRID["budget"]
    note = (
        f"results/{GRID_PATH}: {st.done} of {st.total} cells, seed {', '.join(map(str, GRID['seeds']))}; "
        f"first {b['max_train_tokens']:,} PTB training tokens, {b['epochs']} epochs."
    )
    return note + (f" {len(st.missing)} runs not yet recorded." if st.missing else "")


def size_axis(ax, sizes) -> None:
    ax.set_xscale("log")
    ticks = sorted({int(s) for s in sizes})
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(t) for t in ticks])
    ax.xaxis.set_minor_locator(mpl.ticker.NullLocator())


# --------------------------------------------------------------------------------------------
# Theory
# --------------------------------------------------------------------------------------------
def plot_theory(
    hidden_size: int = 200, dropout: float = 0.5, *, fixed_layout: bool = False, title: str | None = None
) -> Figure:
    """Left: each candidate's N_eq at (N, p) as a bar. Right: N_eq/N against p for every candidate,
    the current p marked. ``fixed_layout``: fixed margins (fast redraws in the panel)."""
    with mpl.rc_context(BOOK_RC):
        fig = Figure(figsize=WIDE, layout=None if fixed_layout else "constrained")
        ax1, ax2 = fig.subplots(1, 2, width_ratios=(1.2, 1))
    if fixed_layout:
        fig.subplots_adjust(left=0.15, right=0.77, bottom=0.2, top=0.84, wspace=0.3)
    cands = theory_candidates(hidden_size, dropout)
    names = list(cands)
    ys = np.arange(len(names))[::-1]
    colors = [CANDIDATE_COLORS[n] for n in names]
    ax1.barh(ys, [cands[n] for n in names], color=colors, height=0.6)
    for y, n in zip(ys, names):  # inside the bar's end when it is long enough: clear of the dotted N line
        inside = cands[n] > 0.3 * hidden_size
        ax1.annotate(
            f"{cands[n]:.1f}",
            (cands[n], y),
            xytext=(-5 if inside else 4, 0),
            textcoords="offset points",
            va="center",
            ha="right" if inside else "left",
            fontsize=LABEL_SIZE,
            color="white" if inside else "black",
        )
    ax1.set_yticks(ys)
    ax1.set_yticklabels([n.replace(" under ", "\nunder ").replace(" (all", "\n(all") for n in names], fontsize=12)
    ax1.axvline(hidden_size, color="#333333", linestyle=":", linewidth=1.4)
    ax1.set_xlim(0, hidden_size * 1.3)
    ax1.set_xlabel("equivalent undropped size N_eq")
    ax1.grid(axis="y", visible=False)
    ax1.set_title(f"Candidates at N = {hidden_size}, p = {dropout:.2f}", loc="left", fontsize=14)
    rates = np.linspace(0, 0.8, 33)
    curves = candidate_ratio_curves(hidden_size, rates)
    styles = {"pairs (seed's N·N)": dict(linestyle=(0, (1, 2)), linewidth=3.2)}
    for name, ratio in curves.items():
        ax2.plot(rates, ratio, color=CANDIDATE_COLORS[name], label=SHORT_NAMES[name], **styles.get(name, {}))
        ax2.plot([dropout], [cands[name] / hidden_size], marker="o", color=CANDIDATE_COLORS[name], markersize=6)
    ax2.axvline(dropout, color="#333333", linestyle=":", linewidth=1.4)
    ax2.set_xlabel("dropout rate p")
    ax2.set_ylabel("N_eq / N")
    ax2.set_ylim(0, 1.05)
    ax2.set_title("N_eq / N at every rate", loc="left", fontsize=14)
    ax2.legend(loc="upper left", bbox_to_anchor=(1.02, 1), frameon=False, fontsize=12)  # clear of every curve
    lo = min(cands.values())
    suptitle(fig, title or f"The counts disagree: N_eq from {lo:.0f} to {hidden_size} units at p = {dropout:.2f}")
    note = "2 layers, 10k vocabulary; the seed's N·N pairs coincide with the units (dotted on top). No training."
    add_note(fig, note, NOTE_SIZE)
    return fig


# --------------------------------------------------------------------------------------------
# The grid
# --------------------------------------------------------------------------------------------
def plot_heatmaps(
    grid: pd.DataFrame, metrics=("train_eval_ppl", "valid_ppl", "gap"), *, title: str | None = None
) -> Figure:
    """One heat map per metric over N × p, the value written in each cell; missing cells hatched."""
    fig, axes = new_figure((4.6 * len(metrics), 5.0), 1, len(metrics))
    axes = np.atleast_1d(axes)
    for ax, metric in zip(axes, metrics):
        table = pivot(grid, metric)
        sizes, rates, t = list(table.columns), list(table.index), table.to_numpy()
        ax.grid(False)
        finite = t[np.isfinite(t)]
        cmap = mpl.colormaps["viridis_r"]
        if finite.size:
            lo, hi = float(finite.min()), float(finite.max())
            norm = (
                mpl.colors.LogNorm(lo, max(hi, lo * 1.001))
                if metric != "gap"
                else mpl.colors.Normalize(lo, max(hi, lo + 1e-3))
            )
            ax.imshow(np.ma.masked_invalid(t), cmap=cmap, norm=norm, aspect="auto", origin="lower")
        for i in range(len(rates)):
            for j in range(len(sizes)):
                v = t[i, j]
                if np.isfinite(v):
                    shade = norm(v)
                    ax.text(
                        j,
                        i,
                        f"{v:.2f}" if metric == "gap" else f"{v:.0f}",
                        ha="center",
                        va="center",
                        fontsize=12,
                        color="white" if shade > 0.55 else "black",
                    )
                else:
                    ax.add_patch(
                        mpl.patches.Rectangle(
                            (j - 0.5, i - 0.5), 1, 1, facecolor="white", edgecolor="#bbbbbb", hatch="//", linewidth=0
                        )
                    )
                    ax.text(j, i, "—", ha="center", va="center", fontsize=12, color="#888888")
        ax.set_xlim(-0.5, len(sizes) - 0.5)
        ax.set_ylim(-0.5, len(rates) - 0.5)
        ax.set_xticks(range(len(sizes)))
        ax.set_xticklabels([str(n) for n in sizes])
        ax.set_yticks(range(len(rates)))
        ax.set_yticklabels([f"{p:g}" for p in rates])
        ax.set_xlabel("hidden size N")
        ax.set_title(METRICS[metric], fontsize=14)
        for spine in ax.spines.values():
            spine.set_visible(False)
    axes[0].set_ylabel("dropout rate p")
    suptitle(fig, title or "The grid: dropout rate p × hidden size N")
    add_note(fig, _grid_note(grid) + " Darker = higher; hatched = not yet recorded.", NOTE_SIZE)
    return fig


def plot_vs_size(grid: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Train (eval mode, dashed) and valid (solid) perplexity against N, one line per p (log-log)."""
    fig, ax = new_figure()
    g = main_grid(grid)
    if g.empty:
        empty_note(ax, f"Grid not yet recorded here: run `{GRID_COMMAND}`.")
    else:
        vals = []
        for i, (p, part) in enumerate(g.groupby("dropout")):
            part = part.groupby("hidden_size")[["train_eval_ppl", "valid_ppl"]].mean()
            c = rate_color(p, i)
            ax.plot(part.index, part.train_eval_ppl, color=c, marker="o", markersize=4, linestyle="--")
            ax.plot(part.index, part.valid_ppl, color=c, marker="o", markersize=5, label=f"p = {p:g}")
            vals += list(part.train_eval_ppl) + list(part.valid_ppl)
        size_axis(ax, sorted({*GRID["sizes"], *g.hidden_size}))
        ax.set_yscale("log")
        log_ticks(ax, min(vals), max(vals))
        handles, labels = ax.get_legend_handles_labels()
        handles += [
            mpl.lines.Line2D([], [], color="#555555", linestyle="--"),
            mpl.lines.Line2D([], [], color="#555555", linestyle="-"),
        ]
        labels += ["train, eval mode (dashed)", "valid (solid)"]
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=12)
    ax.set_xlabel("hidden size N (units per layer, log scale)")
    ax.set_ylabel("perplexity")
    ax.set_title(title or "Perplexity against size, one line per dropout rate", loc="left")
    add_note(fig, _grid_note(grid), NOTE_SIZE)
    return fig


# --------------------------------------------------------------------------------------------
# Equivalent size and α
# --------------------------------------------------------------------------------------------
def plot_equivalent_size(fit: AlphaFit, *, title: str | None = None) -> Figure:
    """Left: measured N_eq against N(1−p) (log-log; α = 1 is the diagonal), with the seed-noise range
    of each N_eq; cells with no equivalent drawn as open markers at the bound they pass. Right: α per
    dropout rate with ± k standard errors, beside the theory candidates (no pooled α: one α does not fit every rate)."""
    table, by_rate = fit.table, fit.by_rate
    fig, (ax1, ax2) = new_figure((13.0, 5.2), 1, 2, width_ratios=(1, 1.15))
    sizes = GRID["sizes"]
    if table.empty:
        for ax in (ax1, ax2):
            empty_note(ax, "Grid not yet recorded here.")
    else:
        lo, hi = min(sizes) * (1 - max(GRID["rates"])) * 0.8, max(sizes) * 1.3
        ax1.plot([lo, hi], [lo, hi], color=CANDIDATE_COLORS["units"], linewidth=1.5, label="α = 1: units")
        for i, (p, part) in enumerate(table.groupby("dropout")):
            c = rate_color(p, i)
            x = part.hidden_size * (1 - p)
            ok = part.status == "ok"
            if "n_eq_low" in part:
                err = np.array([part.n_eq[ok] - part.n_eq_low[ok], part.n_eq_high[ok] - part.n_eq[ok]])
                ax1.errorbar(
                    x[ok],
                    part.n_eq[ok],
                    yerr=np.clip(np.nan_to_num(err), 0, None),
                    fmt="none",
                    ecolor=c,
                    elinewidth=1.5,
                )
            ax1.plot(x[ok], part.n_eq[ok], "o", color=c, markersize=8)
            for marker, st in (("v", "worse"), ("^", "better"), ("D", "near smallest"), ("D", "near best")):
                sel = part.status == st
                if sel.any():
                    ax1.plot(
                        x[sel],
                        part.bound[sel],
                        marker,
                        color=c,
                        markersize=8,
                        markerfacecolor="white",
                        markeredgewidth=2,
                    )
        present = set(table.status)
        for marker, sts, label in (
            ("v", {"worse"}, f"worse than N = {min(sizes)}"),
            ("^", {"better"}, "better than all p = 0"),
            ("D", {"near smallest", "near best"}, "≈ an end of p = 0"),
        ):
            if present & sts:
                ax1.plot([], [], marker, color="#555555", markerfacecolor="white", label=label)
        ax1.set_xscale("log")
        ax1.set_yscale("log")
        ax1.set_xlim(lo, hi)
        ax1.set_ylim(lo * 0.4, hi)
        ticks = [t for t in sizes if lo <= t <= hi]
        for axis in (ax1.xaxis, ax1.yaxis):
            axis.set_major_locator(mpl.ticker.FixedLocator(ticks))
            axis.set_major_formatter(mpl.ticker.FixedFormatter([str(t) for t in ticks]))
            axis.set_minor_locator(mpl.ticker.NullLocator())
        ax1.legend(loc="lower right", frameon=False, fontsize=12)
        # right: α per rate and the candidates as α(p)
        ps = np.linspace(0.05, 0.75, 40)
        curves = candidate_alpha_curves(max(sizes), ps)
        labels = {
            "units": "α = 1: units, seed's N·N pairs",
            "weights of the LM under zaremba": f"weights of the LM (N = {max(sizes)})",
            "pairs under zaremba": "pairs under zaremba",
            "test time (all units)": "α = 0: test time",
        }
        for name, label in labels.items():
            ax2.plot(
                ps,
                curves[name],
                color=CANDIDATE_COLORS[name],
                linewidth=1.5,
                label=label,
                linestyle="--" if name == "weights of the LM under zaremba" else "-",
            )
        has = by_rate[by_rate.n > 0]
        for i, (p, r) in enumerate(has.iterrows()):
            c = rate_color(p, i)
            if np.isfinite(r.se):
                ax2.errorbar([p], [r.alpha], yerr=[fit.k * r.se], fmt="none", ecolor=c, elinewidth=2.5, capsize=6)
            band = f" ± {fit.k * r.se:.2f}" if np.isfinite(r.se) else ""
            ax2.plot(
                [p],
                [r.alpha],
                "o",
                color=c,
                markersize=10,
                markeredgecolor="white",
                label=f"p = {p:g}: α = {r.alpha:.2f}{band}",
            )
        top = float((has.alpha + fit.k * has.se.fillna(0)).max()) if len(has) else 1.0
        bottom = float((has.alpha - fit.k * has.se.fillna(0)).min()) if len(has) else 0.0
        ax2.set_ylim(min(-0.1, bottom - 0.1), max(1.3, top + 0.1))
        ax2.set_xlim(0, 0.8)
        ax2.set_xticks(list(by_rate.index))
        for tick, p in zip(ax2.get_xticklabels(), by_rate.index):
            tick.set_color(rate_color(p))
        ax2.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=12)
    ax1.set_xlabel("N(1−p): units left by a mask")
    ax1.set_ylabel("N_eq (measured)")
    ax1.set_title("N_eq per cell (colour: p, as on the right)", loc="left", fontsize=14)
    ax2.set_xlabel("dropout rate p")
    ax2.set_ylabel("α in N_eq = N(1−p)^α")
    ax2.set_title(f"α per dropout rate (± {fit.k:g} s.e.), beside the counts", loc="left", fontsize=14)
    suptitle(fig, title or f"Equivalent size from {METRICS[fit.metric]}")
    sd = fit.noise.sd
    add_note(
        fig,
        f"Left bars: central 95 % of N_eq over {fit.draws} redraws of every perplexity with the seed noise "
        f"(sd of log perplexity {sd:.3f}). Right bars: ± {fit.k:g} s.e., seed noise and scatter over sizes."
        if math.isfinite(sd)
        else "N_eq: the undropped size with the same perplexity (log-log interpolation); "
        "no seed-noise estimate recorded.",
        NOTE_SIZE,
    )
    return fig


# --------------------------------------------------------------------------------------------
# Inference: weight scaling vs MC dropout vs an ensemble
# --------------------------------------------------------------------------------------------
def plot_inference(inference: dict | None, *, title: str | None = None) -> Figure:
    """Perplexity against the number of forward passes averaged: MC dropout samples of the dropout
    model, members of the undropped ensemble; weight scaling as a horizontal line."""
    fig, ax = new_figure()
    s = inference_summary(inference)
    if not s:
        empty_note(ax, f"inference.json not yet recorded here.\nRun `{INFERENCE_COMMAND}` once the grid is complete.")
        note = f"Not yet recorded: results/{GRID_PATH}/inference.json."
    else:
        mc, ens = inference["mc_dropout_ppl"], inference["ensemble_ppl"]
        ws, dp, ep = s["weight_scaling"], s["dropout_parameters"], s["member_parameters"]
        c = RATE_COLORS[0.5]
        ax.axhline(
            ws, color=c, linestyle=":", linewidth=2, label=f"weight scaling (1 pass, {dp / 1e6:.2f}M params): {ws:.1f}"
        )
        ax.plot(range(1, len(mc) + 1), mc, "o-", color=c, label=f"MC dropout, S samples: {mc[-1]:.1f} at S = {len(mc)}")
        ax.plot(
            range(1, len(ens) + 1),
            ens,
            "s-",
            color=SCHEME_COLORS["none"],
            label=f"ensemble of K undropped ({ep / 1e6:.2f}M each): {ens[-1]:.1f} at K = {len(ens)}",
        )
        vals = [ws, *mc, *ens]
        ax.set_yscale("log")
        log_ticks(ax, min(vals), max(vals))
        ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
        ax.legend(loc="upper right", frameon=False, fontsize=12)
        note = (
            f"results/{GRID_PATH}/inference.json ({inference.get('split', 'valid')} split): dropout model "
            f"{s['cell']}; ensemble {inference['ensemble_cells'][0]} … {inference['ensemble_cells'][-1]}."
        )
    ax.set_xlabel("forward passes averaged (S samples / K members)")
    ax.set_ylabel("perplexity")
    ax.set_title(title or "At inference: weight scaling, MC dropout, or an ensemble of small models", loc="left")
    add_note(fig, note, NOTE_SIZE)
    return fig


# --------------------------------------------------------------------------------------------
# Panels
# --------------------------------------------------------------------------------------------
def _html_table(df: pd.DataFrame) -> str:
    """A small HTML table (rounded values, NaN as blank) for a readout, in a projectable size."""
    head = "".join(f"<th style='padding:2px 10px;text-align:right'>{html.escape(str(c))}</th>" for c in df.columns)
    rows = []
    for idx, r in df.iterrows():
        cells = "".join(
            f"<td style='padding:2px 10px;text-align:right'>{'' if pd.isna(v) else html.escape(str(v))}</td>" for v in r
        )
        rows.append(f"<tr><td style='padding:2px 10px'>{html.escape(str(idx))}</td>{cells}</tr>")
    return (
        f"<table style='font-size:18px;border-collapse:collapse'><tr><th></th>{head}</tr>" + "".join(rows) + "</table>"
    )


class TheoryPanel(FigurePanel):
    """Sliders N (units per layer) and p → every candidate N_eq, its α, parameters and MACs."""

    def __init__(self, hidden_size: int = 200, dropout: float = 0.5):
        self.size = W.IntSlider(
            value=hidden_size,
            min=10,
            max=1500,
            step=10,
            description="hidden size N",
            continuous_update=False,
            style=STYLE,
        )
        self.rate = rate_slider(dropout, "dropout rate p", max=0.8)
        self.readout = W.HTML()
        self.image = image_widget()
        super().__init__([W.HBox([self.size, self.rate]), self.readout, self.image])
        self._observe(self.size, self.rate)
        self.update()

    def table(self) -> pd.DataFrame:
        return theory_table(self.size.value, round(self.rate.value, 4))

    def state(self) -> dict:
        """{candidate: N_eq} at the current settings, plus N and p."""
        n, p = self.size.value, round(self.rate.value, 4)
        return {"N": n, "p": p, **theory_candidates(n, p)}

    def update(self) -> None:
        n, p = self.size.value, round(self.rate.value, 4)
        self.readout.value = _html_table(format_theory_table(self.table()))
        self._set_figure(plot_theory(n, p, fixed_layout=True))


#: Where a label may go around its point (offset in points, alignment), in order of preference.
#: A point on the falling p = 0 curve has free space below-left of it; other labels try above first.
_OK_SPOTS = ((-5, -5, "right", "top"), (5, -5, "left", "top"), (-5, 5, "right", "bottom"), (5, 5, "left", "bottom"))
_OTHER_SPOTS = (
    (0, 9, "center", "bottom"),
    (0, -9, "center", "top"),
    (8, 8, "left", "bottom"),
    (-8, 8, "right", "bottom"),
    (8, -8, "left", "top"),
    (-8, -8, "right", "top"),
)


def _place(ax, renderer, text: str, xy, spots, obstacles: list, **kw):
    """Annotate ``xy`` with ``text`` at the first spot whose box stays inside the axes and clear of
    every curve of the axes and every label placed before (``obstacles``, extended)."""
    box = ax.get_window_extent(renderer)
    curves = [ln.get_transform().transform_path(ln.get_path()) for ln in ax.get_lines() if len(ln.get_xdata()) > 1]
    label = None
    for dx, dy, ha, va in spots:
        if label is not None:
            label.remove()
        label = ax.annotate(text, xy, xytext=(dx, dy), textcoords="offset points", ha=ha, va=va, **kw)
        ext = label.get_window_extent(renderer)
        inside = box.x0 <= ext.x0 and ext.x1 <= box.x1 and box.y0 <= ext.y0 and ext.y1 <= box.y1
        if (
            inside
            and not any(c.intersects_bbox(ext, filled=False) for c in curves)
            and not any(ext.overlaps(o) for o in obstacles)
        ):
            break
    obstacles.append(label.get_window_extent(renderer))
    return label


def _label_cells(ax, cells, metric: str, color: str) -> None:
    """Arrows from each dropout cell to its N_eq on the p = 0 curve, and a label for every cell,
    placed clear of the curves and inside the axes (:func:`_place`)."""
    renderer = FigureCanvasAgg(ax.figure).get_renderer()
    placed: list = [ax.get_legend().get_window_extent(renderer)] if ax.get_legend() else []
    for n, v, n_eq, st in zip(cells.hidden_size, cells[metric], cells.n_eq, cells.status):
        if st == "ok":
            ax.annotate("", (n_eq, v), (n, v), arrowprops=dict(arrowstyle="-|>", color=color, linewidth=1.4))
            ax.plot([n_eq], [v], "x", color="#333333", markersize=8)
    for n, v, n_eq, st in zip(cells.hidden_size, cells[metric], cells.n_eq, cells.status):
        if st == "ok":
            _place(
                ax, renderer, f"N_eq ≈ {n_eq:.0f}", (n_eq, v), _OK_SPOTS, placed, fontsize=LABEL_SIZE, color="#222222"
            )
        else:
            text = {
                "worse": f"N_eq < {min(GRID['sizes'])}",
                "better": "better than all p = 0",
                "near smallest": "≈ smallest p = 0",
                "near best": "≈ best p = 0",
                "no base": "no p = 0 row",
            }[st]
            _place(ax, renderer, text, (n, v), _OTHER_SPOTS, placed, fontsize=LABEL_SIZE - 1, color="#555555")


def equivalence_figure(grid: pd.DataFrame, dropout: float, metric: str = "train_eval_ppl") -> Figure:
    """The p = 0 curve (grey), the cells at ``dropout`` (coloured), and an arrow from each cell to the
    undropped size with the same perplexity (its N_eq), labelled; cells with no equivalent say why.
    The title gives the range of N_eq / N at this rate."""
    with mpl.rc_context(BOOK_RC):  # fixed margins: fast redraws
        fig = Figure(figsize=FIGSIZE)
        ax = fig.subplots()
        fig.subplots_adjust(left=0.09, right=0.98, bottom=0.2, top=0.9)
    g = main_grid(grid)
    base = base_curve(g, metric) if not g.empty else pd.Series(dtype=float)
    table = equivalence_frame(grid, metric, noise_sd=seed_noise(grid, metric).sd) if not g.empty else g
    cells = table[np.isclose(table.dropout.astype(float), dropout)] if len(table) else table
    color = rate_color(dropout)
    title = f"Reading off N_eq: p = {dropout:g} against the undropped row"
    if base.empty and cells.empty:
        empty_note(ax, f"Grid not yet recorded here: run `{GRID_COMMAND}`.")
    else:
        vals = list(base.values) + list(cells[metric])
        if len(base):
            ax.plot(base.index, base.values, "o-", color=RATE_COLORS[0.0], label="p = 0 (undropped)")
        ax.plot(cells.hidden_size, cells[metric], "o-", color=color, markersize=7, label=f"p = {dropout:g}")
        size_axis(ax, GRID["sizes"])
        ax.set_xlim(min(GRID["sizes"]) * 0.7, max(GRID["sizes"]) * 1.3)
        ax.set_yscale("log")
        log_ticks(ax, min(vals), max(vals))
        ax.set_ylim(min(vals) * 0.72, max(vals) * 1.4)  # room for labels above the top / below the lowest points
        ax.legend(loc="upper right", frameon=False, fontsize=12)
        _label_cells(ax, cells, metric, color)
        ok = cells[cells.status == "ok"]
        if len(ok):
            ratio = ok.n_eq / ok.hidden_size
            title = (
                f"At p = {dropout:g} each dropout model matches an undropped one "
                f"{ratio.min():.0%}–{ratio.max():.0%} its size"
            )
    ax.set_xlabel("hidden size N (log scale)")
    ax.set_ylabel(METRICS[metric])
    ax.set_title(title, loc="left")
    add_note(fig, _grid_note(grid), NOTE_SIZE)
    return fig


class EquivalencePanel(FigurePanel):
    """Dropout-rate buttons and a metric toggle over a loaded grid (:func:`rnnreg.analysis.equivalence.load`)."""

    def __init__(self, grid: pd.DataFrame | None = None, dropout: float = 0.5, metric: str = "train_eval_ppl"):
        self.grid = load() if grid is None else grid
        rates = [p for p in GRID["rates"] if p > 0]
        self.rate = W.ToggleButtons(options=[(f"{p:g}", p) for p in rates], value=dropout, description="p", style=STYLE)
        self.metric = W.ToggleButtons(
            options=[("train (eval mode)", "train_eval_ppl"), ("valid", "valid_ppl")],
            value=metric,
            description="perplexity",
            style=STYLE,
        )
        self.readout = W.HTML()
        self.image = image_widget()
        super().__init__([self.rate, self.metric, self.readout, self.image])
        self._observe(self.rate, self.metric)
        self.update()

    def state(self) -> pd.DataFrame:
        """The chosen rate's cells: perplexity, N(1−p), N_eq, α, status (what the readout shows)."""
        metric = self.metric.value
        table = equivalence_frame(self.grid, metric, noise_sd=seed_noise(self.grid, metric).sd)
        if len(table):
            table = table[np.isclose(table.dropout.astype(float), self.rate.value)]
        return equivalence_display(table, metric)

    def update(self) -> None:
        st = self.state()
        self.readout.value = _html_table(st) if len(st) else f"<i>No recorded cell at p = {self.rate.value:g} yet.</i>"
        self._set_figure(equivalence_figure(self.grid, self.rate.value, self.metric.value))
