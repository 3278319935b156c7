"""Chapter 04's figures, tables, answer text and panels: is a big model with dropout a smaller model?

Every number comes from :mod:`rnnreg.analysis.equivalence` (theory candidates, parameter/MAC counts, the
grid loader, the equivalent-size interpolation, the α fit) or from the recorded
``results/ptb/grid/inference.json``; this module only lays them out. The grid is read as it is:
cells still training are listed as missing (figures draw what exists, hatched gaps for the rest),
and an absent ``inference.json`` is reported as "not yet recorded" with the command that writes it.

Views: :func:`theory_table` / :func:`plot_theory` (candidates at N, p), :func:`plot_heatmaps` and
:func:`plot_vs_size` (the grid), :func:`equivalence_frame` / :func:`plot_equivalent_size` (N_eq and
α), :func:`plot_inference` (weight scaling vs MC dropout vs an ensemble), :func:`answer` (the
chapter's closing text, built from the data).

Panels: candidate equivalent sizes, and reading N_eq off the grid. Both follow
``rnnreg.views.panels``' pattern: controls redraw one figure into an ``ipywidgets.Image`` (PNG); the
last figure is kept as ``panel.figure`` and the numbers behind it as ``panel.state()``. Every
control has a default, so a headless run shows the default state.

``TheoryPanel``       sliders N and p → the candidate N_eq as a table (with parameters and MACs)
                      and as bars / curves (:func:`plot_theory`)
``EquivalencePanel``  pick a dropout rate and a metric → the p = 0 curve, the chosen rate's
                      cells, and for each cell the undropped size with the same perplexity
"""
from __future__ import annotations

import html
import json
import math
import os
import textwrap
from pathlib import Path

import ipywidgets as W
import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..analysis.equivalence import (
    ENSEMBLE,
    GRID,
    alpha_of,
    base_curve,
    cell_name,
    equivalence_table,
    grid_cells,
    load_grid,
    lstm_lm_macs,
    lstm_lm_parameters,
    summarise_fit,
    theory_candidates,
)
from ..analysis.runs import results_dir as _results_dir
from .panels import STYLE, FigurePanel, image_widget, rate_slider
from .style import BOOK_RC, FIGSIZE, SCHEME_COLORS, WIDE, add_note, log_ticks, new_figure

#: The grid folder under the results directory, and the command that fills it / records inference.
GRID_PATH = "ptb/grid"
GRID_COMMAND = "python -m rnnreg grid --out results/ptb/grid"
INFERENCE_COMMAND = "python -m rnnreg grid --inference"
GRID_COLUMNS = ["hidden_size", "dropout", "seed", "train_eval_ppl", "train_dropout_ppl", "valid_ppl",
                "best_valid_ppl", "gap", "parameters", "wall_s", "run"]
#: One colour per dropout rate of the grid (p = 0 in the colour of ``none``), Okabe-Ito.
RATE_COLORS = {0.0: SCHEME_COLORS["none"], 0.2: "#E69F00", 0.35: "#009E73", 0.5: "#0072B2", 0.65: "#CC79A7"}
#: One colour per theory candidate (same keys as :func:`rnnreg.analysis.equivalence.theory_candidates`).
CANDIDATE_COLORS = {"units": "#D55E00", "pairs (seed's N·N)": "#D55E00", "pairs under zaremba": "#009E73",
                    "weights of the LM under zaremba": "#CC79A7", "test time (all units)": "#4d4d4d"}
FIT_COLOR = "#0072B2"
#: A cell whose training perplexity is this close to the unigram model's has learned no context.
PLATEAU = 0.03
METRICS = {"train_eval_ppl": "train perplexity (eval mode)", "valid_ppl": "valid perplexity",
           "gap": "gap valid / train (eval mode)", "train_dropout_ppl": "train perplexity (with dropout)"}
#: What a missing N_eq means, by where the dropout model's perplexity falls against the p = 0 curve.
STATUS = {"ok": "equivalent found", "worse": "worse than the smallest undropped model",
          "better": "better than every undropped model", "no base": "no p = 0 row yet"}


def rate_color(p: float, i: int = 0) -> str:
    return RATE_COLORS.get(round(float(p), 2), ("#56B4E9", "#E69F00", "#009E73")[i % 3])


def _empty(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=13, color="#666666",
            wrap=True)


def size_axis(ax, sizes) -> None:
    ax.set_xscale("log")
    ticks = sorted({int(s) for s in sizes})
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(t) for t in ticks])
    ax.xaxis.set_minor_locator(mpl.ticker.NullLocator())


# --------------------------------------------------------------------------------------------
# Theory
# --------------------------------------------------------------------------------------------
def theory_table(hidden_size: int = 200, dropout: float = 0.5, num_layers: int = 2,
                 vocab_size: int = 10_000) -> pd.DataFrame:
    """Candidate N_eq at (N, p) with the α it implies and the LM's parameters and MACs at that size.

    The first row is the dropout model itself (N units, all present at test time).
    """
    cands = theory_candidates(hidden_size, dropout, num_layers, vocab_size)
    rows = {f"the model: N = {hidden_size}, p = {dropout:g}": dict(
        n_eq=float(hidden_size), alpha=math.nan,
        parameters=lstm_lm_parameters(hidden_size, num_layers, vocab_size),
        macs=lstm_lm_macs(hidden_size, num_layers, vocab_size))}
    for name, n_eq in cands.items():
        rows[name] = dict(n_eq=n_eq, alpha=alpha_of(hidden_size, dropout, n_eq) + 0.0,  # no "-0.00"
                          parameters=lstm_lm_parameters(round(n_eq), num_layers, vocab_size),
                          macs=lstm_lm_macs(round(n_eq), num_layers, vocab_size))
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.index.name = "candidate"
    return df


def format_theory_table(df: pd.DataFrame) -> pd.DataFrame:
    """:func:`theory_table` rounded for display: N_eq to 0.1, α to 0.01, counts in millions / thousands."""
    return pd.DataFrame({
        "N_eq": df["n_eq"].round(1),
        "α": df["alpha"].round(2),
        "parameters (M)": (df["parameters"] / 1e6).round(3),
        "MACs/token (k)": (df["macs"] / 1e3).round(1),
    }, index=df.index)


def paper_table() -> pd.DataFrame:
    """The paper's three models (``rnnreg.train.PRESETS``) with their Table 1 valid perplexity
    (``rnnreg.published.REPORTED``) and each candidate N_eq, rounded to whole units."""
    from ..published import MODELS, reported
    from ..train import PRESETS

    rows = {}
    for model in MODELS:
        n, p = PRESETS[model]["hidden_size"], PRESETS[model]["dropout"]
        row = {"N": n, "p": p, "paper valid": reported(model, "paper")["valid"]}
        row.update({k: round(v) for k, v in theory_candidates(n, p).items()})
        rows[model] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def candidate_ratio_curves(hidden_size: int, rates, num_layers: int = 2, vocab_size: int = 10_000) -> dict:
    """{candidate: [N_eq/N at each rate]} (the curves of :func:`plot_theory`)."""
    out: dict[str, list[float]] = {}
    for p in rates:
        for name, v in theory_candidates(hidden_size, float(p), num_layers, vocab_size).items():
            out.setdefault(name, []).append(v / hidden_size)
    return out


def plot_theory(hidden_size: int = 200, dropout: float = 0.5, *, fixed_layout: bool = False,
                title: str | None = None) -> Figure:
    """Left: each candidate's N_eq at (N, p) as a bar. Right: N_eq/N against p for every candidate,
    the current p marked. ``fixed_layout``: fixed margins (fast redraws in the panel)."""
    with mpl.rc_context(BOOK_RC):
        fig = Figure(figsize=WIDE, layout=None if fixed_layout else "constrained")
        ax1, ax2 = fig.subplots(1, 2, width_ratios=(1.1, 1))
    if fixed_layout:
        fig.subplots_adjust(left=0.25, right=0.98, bottom=0.2, top=0.9, wspace=0.3)
    cands = theory_candidates(hidden_size, dropout)
    names = list(cands)
    ys = np.arange(len(names))[::-1]
    colors = [CANDIDATE_COLORS[n] for n in names]
    ax1.barh(ys, [cands[n] for n in names], color=colors, height=0.6)
    for y, n in zip(ys, names):
        ax1.annotate(f"{cands[n]:.1f}", (cands[n], y), xytext=(4, 0), textcoords="offset points",
                     va="center", fontsize=12)
    ax1.set_yticks(ys)
    ax1.set_yticklabels([n.replace(" under ", "\nunder ").replace(" (all", "\n(all") for n in names], fontsize=11)
    ax1.axvline(hidden_size, color="#333333", linestyle=":", linewidth=1.4)
    ax1.set_xlim(0, hidden_size * 1.25)
    ax1.set_xlabel("equivalent undropped size N_eq (units per layer)")
    ax1.grid(axis="y", visible=False)
    ax1.set_title(f"Candidates at N = {hidden_size}, p = {dropout:.2f}", loc="left")
    rates = np.linspace(0, 0.8, 33)
    curves = candidate_ratio_curves(hidden_size, rates)
    styles = {"pairs (seed's N·N)": dict(linestyle=(0, (1, 2)), linewidth=3.2)}
    for name, ratio in curves.items():
        ax2.plot(rates, ratio, color=CANDIDATE_COLORS[name], label=name, **styles.get(name, {}))
        ax2.plot([dropout], [cands[name] / hidden_size], marker="o", color=CANDIDATE_COLORS[name], markersize=6)
    ax2.axvline(dropout, color="#333333", linestyle=":", linewidth=1.4)
    ax2.set_xlabel("dropout rate p")
    ax2.set_ylabel("N_eq / N")
    ax2.set_ylim(0, 1.05)
    ax2.set_title("All rates (α = 1: units; α = 0: test time)", loc="left", fontsize=13)
    ax2.legend(loc="lower left", frameon=False, fontsize=10)
    if title:
        fig.suptitle(title, x=0.01, ha="left", fontsize=BOOK_RC["axes.titlesize"])
    note = ("rnnreg.analysis.equivalence.theory_candidates (2 layers, 10k vocabulary); the seed's N·N pairs coincide "
            "with the units (dotted on top). No data, no training.")
    if fixed_layout:
        fig.text(0.01, 0.01, note, fontsize=10, color="#555555", ha="left", va="bottom")
    else:
        add_note(fig, note)
    return fig


# --------------------------------------------------------------------------------------------
# The grid
# --------------------------------------------------------------------------------------------
def grid_dir(results_dir: str | os.PathLike | None = None) -> Path:
    return _results_dir(results_dir) / GRID_PATH


def load(results_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """The finished cells of the grid (:func:`rnnreg.analysis.equivalence.load_grid`); an empty frame with
    the same columns when the folder does not exist or holds no finished cell."""
    root = grid_dir(results_dir)
    grid = load_grid(root) if root.is_dir() else pd.DataFrame()
    if grid.empty:
        return pd.DataFrame(columns=GRID_COLUMNS).astype({"hidden_size": int, "dropout": float, "seed": int})
    return grid


def main_grid(grid: pd.DataFrame) -> pd.DataFrame:
    """The cells of the N × p grid proper (seeds of :data:`GRID`), without the extra ensemble seeds."""
    return grid[grid.seed.isin(GRID["seeds"])] if not grid.empty else grid


def missing_cells(grid: pd.DataFrame, ensemble: bool = True) -> list[str]:
    """Cell names of :data:`rnnreg.analysis.equivalence.GRID` (and the ensemble seeds) not yet finished."""
    done = set(grid["run"]) if not grid.empty else set()
    return [cell_name(n, p, s) for n, p, s in grid_cells(ensemble=ensemble)
            if cell_name(n, p, s) not in done]


def budget_text() -> str:
    b = GRID["budget"]
    return (f"2 layers, zaremba dropout, first {b['max_train_tokens']:,} PTB training tokens, {b['epochs']} epochs, "
            f"seed {', '.join(map(str, GRID['seeds']))}")


def grid_note(grid: pd.DataFrame) -> str:
    """Which recorded runs a figure shows, under which budget, and which cells are still missing."""
    main = missing_cells(grid, ensemble=False)
    total = len(GRID["sizes"]) * len(GRID["rates"]) * len(GRID["seeds"])
    done = total - len(main)
    note = f"Recorded runs: results/{GRID_PATH}/h<N>-p<rate>-seed1, {done} of {total} cells ({budget_text()})."
    if main:
        note += " Not yet recorded: " + compact_cells(main) + "."
    return note


def compact_cells(names) -> str:
    """Cell names grouped by size and seed: ``N=50: p 0.2, 0.35 (seed 1); N=100: all rates (seed 1)``."""
    groups: dict[tuple[int, int], list[float]] = {}
    for name in names:
        n, p, s = name.split("-")
        groups.setdefault((int(n[1:]), int(s[4:])), []).append(int(p[1:]) / 100)
    merged: dict[tuple[int, tuple], list[int]] = {}
    for (n, s), rates in groups.items():
        merged.setdefault((n, tuple(rates)), []).append(s)
    parts = []
    for (n, rates), seeds in merged.items():
        which = "all rates" if len(rates) == len(GRID["rates"]) else "p " + ", ".join(f"{r:g}" for r in rates)
        parts.append(f"N={n}: {which} (seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))})")
    return "; ".join(parts)


def status_text(grid: pd.DataFrame, markdown: bool = True) -> str:
    """One paragraph (Markdown, or plain text): how complete the grid and the ensemble are."""
    main = missing_cells(grid, ensemble=False)
    done = set(grid["run"]) if not grid.empty else set()
    members = [cell_name(ENSEMBLE["hidden_size"], 0.0, s) for s in ENSEMBLE["seeds"]]
    ens = [c for c in members if c not in done]
    total = len(GRID["sizes"]) * len(GRID["rates"]) * len(GRID["seeds"])
    text = f"**Grid: {total - len(main)} of {total} cells recorded**"
    text += f", ensemble members: {len(members) - len(ens)} of {len(members)}."
    if main or ens:
        text += (" Still training (numbers below are provisional): "
                 + compact_cells(list(dict.fromkeys(main + ens)))
                 + f". Fill in with `{GRID_COMMAND}` and re-execute the notebook.")
    else:
        text += " The grid is complete."
    return text if markdown else text.replace("**", "").replace("`", "")


def pivot(grid: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Rate × size table of ``metric`` over the grid's full axes (NaN where a cell is missing)."""
    g = main_grid(grid)
    table = (g.pivot_table(index="dropout", columns="hidden_size", values=metric, aggfunc="mean")
             if not g.empty else pd.DataFrame())
    rates = sorted({*GRID["rates"], *table.index})  # GRID's axes, plus any extra row trained
    sizes = sorted({*GRID["sizes"], *table.columns})
    return table.reindex(index=rates, columns=sizes).astype(float)


def grid_table(grid: pd.DataFrame, metric: str = "valid_ppl", digits: int = 1) -> pd.DataFrame:
    """:func:`pivot` rounded, with readable labels (rows p, columns N)."""
    t = pivot(grid, metric).round(digits)
    t.index = [f"p={p:g}" for p in t.index]
    t.columns = [f"N={n}" for n in t.columns]
    return t


def plot_heatmaps(grid: pd.DataFrame, metrics=("train_eval_ppl", "valid_ppl", "gap"), *,
                  title: str | None = "The grid: dropout rate p × hidden size N") -> Figure:
    """One heat map per metric over N × p, the value written in each cell; missing cells hatched."""
    fig, axes = new_figure((4.6 * len(metrics), 4.9), 1, len(metrics))
    axes = np.atleast_1d(axes)
    for ax, metric in zip(axes, metrics):
        table = pivot(grid, metric)
        sizes, rates, t = list(table.columns), list(table.index), table.to_numpy()
        ax.grid(False)
        finite = t[np.isfinite(t)]
        cmap = mpl.colormaps["viridis_r"]
        if finite.size:
            lo, hi = float(finite.min()), float(finite.max())
            norm = (mpl.colors.LogNorm(lo, max(hi, lo * 1.001)) if metric != "gap"
                    else mpl.colors.Normalize(lo, max(hi, lo + 1e-3)))
            ax.imshow(np.ma.masked_invalid(t), cmap=cmap, norm=norm, aspect="auto", origin="lower")
        for i, p in enumerate(rates):
            for j, n in enumerate(sizes):
                v = t[i, j]
                if np.isfinite(v):
                    shade = norm(v)
                    ax.text(j, i, f"{v:.2f}" if metric == "gap" else f"{v:.0f}", ha="center", va="center",
                            fontsize=11, color="white" if shade > 0.55 else "black")
                else:
                    ax.add_patch(mpl.patches.Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor="white",
                                                       edgecolor="#bbbbbb", hatch="//", linewidth=0))
                    ax.text(j, i, "—", ha="center", va="center", fontsize=11, color="#888888")
        ax.set_xlim(-0.5, len(sizes) - 0.5)
        ax.set_ylim(-0.5, len(rates) - 0.5)
        ax.set_xticks(range(len(sizes)))
        ax.set_xticklabels([str(n) for n in sizes])
        ax.set_yticks(range(len(rates)))
        ax.set_yticklabels([f"{p:g}" for p in rates])
        ax.set_xlabel("hidden size N")
        ax.set_title(METRICS[metric], fontsize=13)
        for s in ax.spines.values():
            s.set_visible(False)
    axes[0].set_ylabel("dropout rate p")
    if title:
        fig.suptitle(title, x=0.01, ha="left", fontsize=BOOK_RC["axes.titlesize"])
    add_note(fig, grid_note(grid) + " Darker = higher; hatched = not yet recorded.")
    return fig


def plot_vs_size(grid: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Train (eval mode, dashed) and valid (solid) perplexity against N, one line per p (log-log)."""
    fig, ax = new_figure()
    g = main_grid(grid)
    if g.empty:
        _empty(ax, f"Grid not yet recorded here: run `{GRID_COMMAND}`.")
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
        handles += [mpl.lines.Line2D([], [], color="#555555", linestyle="--"),
                    mpl.lines.Line2D([], [], color="#555555", linestyle="-")]
        labels += ["train, eval mode (dashed)", "valid (solid)"]
        ax.legend(handles, labels, loc="upper right", frameon=False, fontsize=11, ncol=2)
    ax.set_xlabel("hidden size N (units per layer, log scale)")
    ax.set_ylabel("perplexity")
    ax.set_title(title or "Perplexity against size, one line per dropout rate", loc="left")
    add_note(fig, grid_note(grid))
    return fig


# --------------------------------------------------------------------------------------------
# Equivalent size and α
# --------------------------------------------------------------------------------------------
def equivalence_frame(grid: pd.DataFrame, metric: str = "train_eval_ppl", branch: str = "decreasing") -> pd.DataFrame:
    """:func:`rnnreg.analysis.equivalence.equivalence_table` over the N × p grid (``status`` and ``bound`` say
    why an N_eq is missing, see :data:`STATUS`)."""
    g = main_grid(grid)
    if g.empty:
        return pd.DataFrame(columns=[*GRID_COLUMNS, "n_eq", "alpha", "status", "bound"])
    return equivalence_table(g, metric, branch)


def fit_summary(table: pd.DataFrame) -> dict:
    """α ± se over the cells with an equivalent, plus counts by status."""
    fit = summarise_fit(table) if len(table) else {"alpha": math.nan, "se": math.nan, "n": 0}
    counts = table["status"].value_counts().to_dict() if len(table) else {}
    return {**fit, **{k: int(counts.get(k, 0)) for k in STATUS}}


def fit_text(table: pd.DataFrame, metric: str = "train_eval_ppl") -> str:
    """α ± se rounded to 0.01, and what happened to the other cells (for printing)."""
    f = fit_summary(table)
    if f["n"] == 0:
        head = f"{METRICS[metric]}: no cell has an equivalent yet"
    elif f["n"] == 1:
        head = f"{METRICS[metric]}: alpha = {f['alpha']:.2f} from 1 cell (no standard error)"
    else:
        head = f"{METRICS[metric]}: alpha = {f['alpha']:.2f} ± {f['se']:.2f} (s.e., {f['n']} cells)"
    rest = [f"{f[k]} {STATUS[k]}" for k in ("worse", "better", "no base") if f[k]]
    return head + ("; " + ", ".join(rest) if rest else "")


def equivalence_display(table: pd.DataFrame, metric: str = "train_eval_ppl") -> pd.DataFrame:
    """The per-cell table, rounded, indexed by cell: perplexity, N(1−p), N_eq, α, status."""
    if table.empty:
        return pd.DataFrame(columns=["ppl", "N(1−p)", "N_eq", "α", "status"])
    t = table.sort_values(["hidden_size", "dropout"])
    return pd.DataFrame({
        "ppl": t[metric].round(1).to_numpy(),
        "N(1−p)": (t.hidden_size * (1 - t.dropout)).round(1).to_numpy(),
        "N_eq": t.n_eq.round(1).to_numpy(),
        "α": t.alpha.round(2).to_numpy(),
        "status": [STATUS[s] if s != "ok" else "" for s in t.status],
    }, index=[f"N={n}, p={p:g}" for n, p in zip(t.hidden_size, t.dropout)])


def candidate_alphas(table: pd.DataFrame) -> dict:
    """The α each theory candidate implies, averaged over the cells with an equivalent."""
    ok = table[table.status == "ok"] if len(table) else table
    out = {}
    for n, p in zip(ok.hidden_size, ok.dropout):
        for name, v in theory_candidates(int(n), float(p)).items():
            out.setdefault(name, []).append(alpha_of(n, p, v) if name != "test time (all units)" else 0.0)
    return {k: float(np.mean(v)) for k, v in out.items()}


def plot_equivalent_size(grid: pd.DataFrame, metric: str = "train_eval_ppl", *, branch: str = "decreasing",
                         title: str | None = None) -> Figure:
    """Left: measured N_eq against N(1−p) (log-log; α = 1 is the diagonal); cells with no
    equivalent drawn as triangles at the bound they pass. Right: N_eq/N against 1−p with the theory
    candidates and the fitted (1−p)^α ± 2 s.e."""
    table = equivalence_frame(grid, metric, branch)
    fig, (ax1, ax2) = new_figure(WIDE, 1, 2)
    sizes = GRID["sizes"]
    if table.empty:
        for ax in (ax1, ax2):
            _empty(ax, "Grid not yet recorded here.")
    else:
        lo, hi = min(sizes) * (1 - max(GRID["rates"])) * 0.8, max(sizes) * 1.3
        ax1.plot([lo, hi], [lo, hi], color=CANDIDATE_COLORS["units"], linewidth=1.5,
                 label="α = 1: units = seed's N·N pairs")
        for i, (p, part) in enumerate(table.groupby("dropout")):
            c = rate_color(p, i)
            x = part.hidden_size * (1 - p)
            ok = part.status == "ok"
            ax1.plot(x[ok], part.n_eq[ok], "o", color=c, markersize=8, label=f"p = {p:g}")
            for marker, st in (("v", "worse"), ("^", "better")):
                sel = part.status == st
                if sel.any():
                    ax1.plot(x[sel], part.bound[sel], marker, color=c, markersize=9, markerfacecolor="white",
                             markeredgewidth=2)
            ratio = part.n_eq / part.hidden_size
            ax2.plot((1 - part.dropout)[ok], ratio[ok], "o", color=c, markersize=8)
        ax1.plot(
            [], [], "v", color="#555555", markerfacecolor="white", label="no equivalent: worse than N=%d" % min(sizes)
        )
        ax1.plot([], [], "^", color="#555555", markerfacecolor="white", label="no equivalent: better than all p = 0")
        ax1.set_xscale("log")
        ax1.set_yscale("log")
        ax1.set_xlim(lo, hi)
        ax1.set_ylim(lo, hi)
        ticks = [t for t in (5, 10, 25, 50, 100, 200) if lo <= t <= hi]
        for axis in (ax1.xaxis, ax1.yaxis):
            axis.set_major_locator(mpl.ticker.FixedLocator(ticks))
            axis.set_major_formatter(mpl.ticker.FixedFormatter([str(t) for t in ticks]))
            axis.set_minor_locator(mpl.ticker.NullLocator())
        ax1.legend(loc="upper left", frameon=False, fontsize=9.5)
        # right: the candidates as curves of the keep probability
        keep = np.linspace(0.3, 1.0, 50)
        rates = 1 - keep
        n_ref = max(sizes)
        curves = candidate_ratio_curves(n_ref, rates)
        labels = {"units": "α = 1: units, seed's N·N pairs", "pairs under zaremba": "pairs under zaremba",
                  "weights of the LM under zaremba": f"weights of the LM (N = {n_ref})",
                  "test time (all units)": "α = 0: test time"}
        for name, label in labels.items():
            ax2.plot(keep, curves[name], color=CANDIDATE_COLORS[name], linewidth=1.5, label=label,
                     linestyle="-" if name != "weights of the LM under zaremba" else "--")
        f = fit_summary(table)
        if f["n"]:
            a, se = f["alpha"], f["se"] if np.isfinite(f["se"]) else 0.0
            ax2.plot(keep, keep**a, color=FIT_COLOR, linewidth=2.6, label=f"fit: α = {a:.2f} ± {se:.2f}")
            ax2.fill_between(keep, keep ** (a + 2 * se), keep ** max(a - 2 * se, -5), color=FIT_COLOR,
                             alpha=0.15, linewidth=0)
        ax2.set_xlim(0.3, 1.02)
        ratios = (table.n_eq / table.hidden_size)[table.status == "ok"]
        ax2.set_ylim(0, max(1.3, float(ratios.max()) * 1.1 if len(ratios) else 0))
        ax2.legend(loc="lower right", frameon=False, fontsize=9.5)
    ax1.set_xlabel("N(1−p): units left by a mask")
    ax1.set_ylabel("N_eq (measured)")
    ax1.set_title(f"N_eq from {METRICS[metric]}", loc="left", fontsize=13)
    ax2.set_xlabel("keep probability 1−p")
    ax2.set_ylabel("N_eq / N")
    ax2.set_title("Against the theory candidates", loc="left", fontsize=13)
    if title:
        fig.suptitle(title, x=0.01, ha="left", fontsize=BOOK_RC["axes.titlesize"])
    add_note(fig, "N_eq: the undropped size with the same perplexity, interpolated on the p = 0 row in log-log "
               "(rnnreg.analysis.equivalence.equivalent_size). " + grid_note(grid))
    return fig


# --------------------------------------------------------------------------------------------
# Inference: weight scaling vs MC dropout vs an ensemble
# --------------------------------------------------------------------------------------------
def load_inference(results_dir: str | os.PathLike | None = None) -> dict | None:
    """``inference.json`` of the grid, or None when it is not recorded (or unreadable)."""
    path = grid_dir(results_dir) / "inference.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def inference_table(inference: dict | None, digits: int = 1) -> pd.DataFrame:
    """Perplexity of each prediction rule at its last sample count, with parameters held."""
    if not inference:
        return pd.DataFrame({"perplexity": ["—"], "forward passes": ["—"], "parameters (M)": ["—"]},
                            index=[f"not yet recorded ({INFERENCE_COMMAND})"])
    mc, ens = inference["mc_dropout_ppl"], inference["ensemble_ppl"]
    dp, ep = inference["dropout_parameters"], inference["ensemble_member_parameters"]
    rows = {
        f"weight scaling ({inference['dropout_cell']})": (inference["weight_scaling_ppl"], 1, dp),
        f"MC dropout, S = {len(mc)}": (mc[-1], len(mc), dp),
        f"ensemble of {len(ens)} undropped": (ens[-1], len(ens), ep * len(ens)),
        "one ensemble member": (ens[0], 1, ep),
    }
    return pd.DataFrame({"perplexity": [round(v[0], digits) for v in rows.values()],
                         "forward passes": [v[1] for v in rows.values()],
                         "parameters (M)": [round(v[2] / 1e6, 2) for v in rows.values()]}, index=list(rows))


def plot_inference(inference: dict | None, *, title: str | None = None) -> Figure:
    """Perplexity against the number of forward passes averaged: MC dropout samples of the dropout
    model, members of the undropped ensemble; weight scaling as a horizontal line."""
    fig, ax = new_figure()
    if not inference:
        _empty(ax, f"inference.json not yet recorded here.\nRun `{INFERENCE_COMMAND}` once the grid is complete.")
        ax.set_xticks([])
        ax.set_yticks([])
        note = "Not yet recorded: results/ptb/grid/inference.json."
    else:
        mc, ens = inference["mc_dropout_ppl"], inference["ensemble_ppl"]
        ws = inference["weight_scaling_ppl"]
        dp, ep = inference["dropout_parameters"], inference["ensemble_member_parameters"]
        c = RATE_COLORS[0.5]
        ax.axhline(ws, color=c, linestyle=":", linewidth=2,
                   label=f"weight scaling (1 pass, {dp / 1e6:.2f}M params): {ws:.1f}")
        ax.plot(range(1, len(mc) + 1), mc, "o-", color=c, label=f"MC dropout, S samples: {mc[-1]:.1f} at S = {len(mc)}")
        ax.plot(range(1, len(ens) + 1), ens, "s-", color=SCHEME_COLORS["none"],
                label=f"ensemble of K undropped ({ep / 1e6:.2f}M each): {ens[-1]:.1f} at K = {len(ens)}")
        vals = [ws, *mc, *ens]
        ax.set_yscale("log")
        log_ticks(ax, min(vals), max(vals))
        ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
        ax.legend(loc="upper right", frameon=False, fontsize=11)
        note = (f"Recorded: results/{GRID_PATH}/inference.json ({inference.get('split', 'valid')} split). Dropout "
                f"model {inference['dropout_cell']}; ensemble {', '.join(inference['ensemble_cells'])}.")
    ax.set_xlabel("forward passes averaged (S samples / K members)")
    ax.set_ylabel("perplexity")
    ax.set_title(title or "At inference: weight scaling, MC dropout, or an ensemble of small models?", loc="left")
    add_note(fig, note)
    return fig


# --------------------------------------------------------------------------------------------
# The answer, from the data
# --------------------------------------------------------------------------------------------
def _nearest_candidate(f: dict, alphas: dict) -> tuple[str, float, bool]:
    names = {"units": "units = the seed's N·N pairs", "pairs under zaremba": "pairs under zaremba",
             "weights of the LM under zaremba": "weights of the LM under zaremba",
             "test time (all units)": "test time, all units"}
    best = min(names, key=lambda k: abs(alphas[k] - f["alpha"]))
    # within two standard errors, or within the printed rounding (0.005) when the s.e. is ~0
    within = bool(np.isfinite(f["se"]) and abs(alphas[best] - f["alpha"]) <= max(2 * f["se"], 0.005))
    return names[best], alphas[best], within


def answer(grid: pd.DataFrame, inference: dict | None = None, unigram_train: float | None = None) -> str:
    """The chapter's answer as Markdown, every number read off the grid and ``inference.json``.
    Says "provisional" while cells are missing and "not yet recorded" for what is absent.
    ``unigram_train`` (:func:`rnnreg.analysis.equivalence.slice_unigram`) lets it say which cells never left
    the unigram plateau."""
    main_missing = missing_cells(grid, ensemble=False)
    parts = [status_text(grid)]
    train = equivalence_frame(grid, "train_eval_ppl")
    if train.empty or fit_summary(train)["n"] == 0:
        parts.append("**Fit (training perplexity, eval mode):** not enough recorded cells yet to find any "
                     "equivalent size.")
    else:
        f = fit_summary(train)
        alphas = candidate_alphas(train)
        name, a_c, within = _nearest_candidate(f, alphas)
        se = f"± {f['se']:.2f}" if np.isfinite(f["se"]) else "(one cell, no s.e.)"
        text = (f"**Fit (training perplexity, eval mode):** over the {f['n']} cells with an equivalent, "
                f"N_eq ≈ N(1−p)^α with **α = {f['alpha']:.2f} {se}**. At p = 0.5 that is "
                f"N_eq ≈ {0.5 ** f['alpha']:.2f}·N. The nearest candidate is {name} (α ≈ {a_c:.2f} on the "
                f"same cells), {'within' if within else 'outside'} two standard errors.")
        if f["worse"]:
            text += (f" {f['worse']} dropout cell{'s' if f['worse'] > 1 else ''} fit the training text worse than "
                     f"the smallest undropped model (N = {min(GRID['sizes'])}), so N_eq lies below the grid there.")
            worse = train[train.status == "worse"]
            if unigram_train is not None:
                stuck = worse[(worse.train_eval_ppl / unigram_train - 1).abs() < PLATEAU]
                if len(stuck):
                    text += (f" {len(stuck)} of them sit on the unigram plateau (training perplexity within "
                             f"{PLATEAU:.0%} of the slice's unigram model, {unigram_train:.1f}): they learned word "
                             f"frequencies and nothing more in 6 epochs, an optimisation failure at this budget "
                             f"rather than a measured capacity.")
        if f["better"]:
            text += f" {f['better']} fit it better than every undropped model."
        parts.append(text)
    valid = equivalence_frame(grid, "valid_ppl")
    if not valid.empty and len(base_curve(main_grid(grid), "valid_ppl")):
        base = base_curve(main_grid(grid), "valid_ppl")
        best_n, best_v = int(base.idxmin()), float(base.min())
        dropped = main_grid(grid)[main_grid(grid).dropout > 0]
        row = dropped.loc[dropped.valid_ppl.idxmin()]
        f = fit_summary(valid)
        text = (f"**Generalisation (validation perplexity):** the best undropped model is N = {best_n} "
                f"({best_v:.1f}); the best dropout model is N = {int(row.hidden_size)}, p = {row.dropout:g} "
                f"({row.valid_ppl:.1f}). ")
        if f["better"]:
            cells = valid[valid.status == "better"].sort_values(["hidden_size", "dropout"])
            text += (f"{f['better']} dropout cell{'s' if f['better'] > 1 else ''} "
                     f"({', '.join(f'N={n}, p={p:g}' for n, p in zip(cells.hidden_size, cells.dropout))}) "
                     f"generalise better than **every** undropped model measured: no smaller model is equivalent "
                     f"to them — dropout there is not a smaller network.")
        else:
            text += "No dropout cell beats every undropped model on validation text" + (
                " (yet)." if main_missing else ".")
        if f["n"] >= 1:
            text += (f" Where an equivalent exists, α = {f['alpha']:.2f}"
                     + (f" ± {f['se']:.2f}" if np.isfinite(f["se"]) else "") + f" ({f['n']} cells).")
        parts.append(text)
    if not inference:
        parts.append(f"**Inference:** not yet recorded (`{INFERENCE_COMMAND}` writes "
                     f"`results/{GRID_PATH}/inference.json`).")
    else:
        mc, ens, ws = inference["mc_dropout_ppl"], inference["ensemble_ppl"], inference["weight_scaling_ppl"]
        ep, dp = inference["ensemble_member_parameters"], inference["dropout_parameters"]
        better = "better than" if ens[-1] < ws else "worse than"
        parts.append(f"**Inference:** the dropout model {inference['dropout_cell']} with all units present (weight "
                     f"scaling) scores {ws:.1f}; averaging {len(mc)} MC-dropout passes gives {mc[-1]:.1f} "
                     f"({'better' if mc[-1] < ws else 'worse'}). {len(ens)} undropped models of "
                     f"{ep / 1e6:.2f}M parameters each ({len(ens) * ep / 1e6:.2f}M in all, against "
                     f"{dp / 1e6:.2f}M) average to {ens[-1]:.1f}, {better} weight scaling; one of them alone "
                     f"scores {ens[0]:.1f}.")
    if main_missing:
        parts.append("*Provisional: re-execute the notebook when the grid is complete.*")
    return "\n\n".join(parts)


# --------------------------------------------------------------------------------------------
# Panels
# --------------------------------------------------------------------------------------------
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
        return theory_table(self.size.value, round(self.rate.value, 4))

    def state(self) -> dict:
        """{candidate: N_eq} at the current settings, plus N and p."""
        n, p = self.size.value, round(self.rate.value, 4)
        return {"N": n, "p": p, **theory_candidates(n, p)}

    def update(self) -> None:
        n, p = self.size.value, round(self.rate.value, 4)
        self.readout.value = _html_table(format_theory_table(self.table()))
        self._set_figure(plot_theory(n, p, fixed_layout=True))


def equivalence_figure(grid: pd.DataFrame, dropout: float, metric: str = "train_eval_ppl") -> Figure:
    """The p = 0 curve (grey), the cells at ``dropout`` (coloured), and an arrow from each cell to the
    undropped size with the same perplexity (its N_eq), labelled; cells with no equivalent say why."""
    with mpl.rc_context(BOOK_RC):  # fixed margins: fast redraws
        fig = Figure(figsize=FIGSIZE)
        ax = fig.subplots()
        fig.subplots_adjust(left=0.09, right=0.98, bottom=0.2, top=0.9)
    g = main_grid(grid)
    base = base_curve(g, metric) if not g.empty else pd.Series(dtype=float)
    table = equivalence_frame(grid, metric)
    cells = table[np.isclose(table.dropout.astype(float), dropout)] if len(table) else table
    color = rate_color(dropout)
    if base.empty and cells.empty:
        ax.text(0.5, 0.5, f"Grid not yet recorded here: run `{GRID_COMMAND}`.", transform=ax.transAxes,
                ha="center", va="center", fontsize=13, color="#666666")
    else:
        vals = list(base.values) + list(cells[metric])
        if len(base):
            ax.plot(base.index, base.values, "o-", color=RATE_COLORS[0.0], label="p = 0 (undropped)")
        ax.plot(cells.hidden_size, cells[metric], "o-", color=color, markersize=7, label=f"p = {dropout:g}")
        for n, v, n_eq, st in zip(cells.hidden_size, cells[metric], cells.n_eq, cells.status):
            if st == "ok":
                ax.annotate("", (n_eq, v), (n, v), arrowprops=dict(arrowstyle="-|>", color=color, linewidth=1.4))
                ax.plot([n_eq], [v], "x", color="#333333", markersize=8)
                ax.annotate(f"N_eq ≈ {n_eq:.0f}", (n_eq, v), xytext=(-6, 6), textcoords="offset points",
                            ha="right", fontsize=11, color="#222222")
            else:
                ax.annotate({"worse": f"N_eq < {min(GRID['sizes'])}", "better": "none: better than all p = 0",
                             "no base": "no p = 0 row"}[st], (n, v), xytext=(6, -14), textcoords="offset points",
                            fontsize=10, color="#555555")
        size_axis(ax, GRID["sizes"])
        ax.set_xlim(min(GRID["sizes"]) * 0.8, max(GRID["sizes"]) * 1.25)
        ax.set_yscale("log")
        log_ticks(ax, min(vals), max(vals))
        ax.legend(loc="upper right", frameon=False, fontsize=11)
    ax.set_xlabel("hidden size N (log scale)")
    ax.set_ylabel(METRICS[metric])
    ax.set_title(f"Reading off N_eq: p = {dropout:g} against the undropped row", loc="left")
    missing = missing_cells(grid, ensemble=False)
    note = (f"{len(main_grid(grid))} of {len(GRID['sizes']) * len(GRID['rates'])} cells recorded under "
            f"results/{GRID_PATH}" + (f"; not yet: {compact_cells(missing)}" if missing else "") + ".")
    fig.text(0.01, 0.01, textwrap.shorten(note, 260, placeholder=" …"), fontsize=10, color="#555555",
             ha="left", va="bottom", wrap=True)
    return fig


class EquivalencePanel(FigurePanel):
    """Dropout-rate buttons and a metric toggle over a loaded grid (:func:`rnnreg.views.equivalence.load`)."""

    def __init__(self, grid: pd.DataFrame | None = None, dropout: float = 0.5, metric: str = "train_eval_ppl"):
        self.grid = load() if grid is None else grid
        rates = [p for p in GRID["rates"] if p > 0]
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
        table = equivalence_frame(self.grid, self.metric.value)
        if len(table):
            table = table[np.isclose(table.dropout.astype(float), self.rate.value)]
        return equivalence_display(table, self.metric.value)

    def update(self) -> None:
        st = self.state()
        self.readout.value = (_html_table(st) if len(st) else
                              f"<i>No recorded cell at p = {self.rate.value:g} yet.</i>")
        self._set_figure(equivalence_figure(self.grid, self.rate.value, self.metric.value))

