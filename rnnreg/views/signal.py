"""Chapter 03's figures and panel: how much signal survives repeated dropout. Numbers come from
:mod:`rnnreg.analysis.signal` (analytic, simulated) and :mod:`rnnreg.analysis.signal_runs` (recorded);
each figure's note names its source."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from functools import lru_cache

import ipywidgets as W
import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure

from ..analysis.signal import (
    DROPOUT_SCHEMES,
    analytic_curves,
    lstm_results,
    recurrent_masks,
    relative_variance,
    simulate_linear,
    simulate_lstm,
)
from ..analysis.signal_runs import missing_schemes, runs_budget
from ..model import SCHEMES
from ..train import num_threads
from .panels import STYLE, FigurePanel, image_widget, int_slider, rate_slider, scheme_picker
from .style import BOOK_RC, WIDE, add_note, color_for, empty_note, log_ticks, new_figure, suptitle

__all__ = [
    "to_numpy",
    "band",
    "plot_analytic",
    "plot_simulated_linear",
    "plot_lstm_paths",
    "plot_swap",
    "plot_context",
    "plot_mask_noise",
    "signal_figure",
    "SignalPanel",
]

QUANTITIES = {
    "relative_variance": "relative variance Var/E²",
    "snr": "signal-to-noise ratio E²/Var",
    "untouched": "fraction of units untouched",
}
SHORT = {"relative_variance": "rel. variance", "snr": "SNR", "untouched": "untouched"}


def runs_label(loaded: dict) -> str:
    """The note line under a measured figure: which recorded runs it draws, which are missing."""
    b = runs_budget(loaded)
    if loaded:
        shape = f"{b['num_layers']}×{b['hidden_size']}, dropout {b['dropout']} (none: 0)"
        tokens = f", first {b['max_train_tokens']:,} PTB train tokens" if b["max_train_tokens"] else ""
        note = (
            f"Recorded runs: results/{b['zoo']}/<scheme>-seed{b['seed']} ({shape}{tokens}, {b['epochs']} epochs, "
            f"seed {b['seed']}); measured on the validation text."
        )
    else:
        note = "No recorded measurements yet."
    if b["missing"]:
        note += " Not yet recorded here: " + ", ".join(b["missing"]) + "."
    return note


def to_numpy(x) -> np.ndarray:
    return np.asarray(x.tolist() if hasattr(x, "tolist") else x, dtype=float)


# --------------------------------------------------------------------------------------------
# Analytic
# --------------------------------------------------------------------------------------------
def plot_analytic(
    p: float = 0.5,
    max_lag: int = 30,
    num_layers: int = 2,
    *,
    schemes: Sequence[str] = DROPOUT_SCHEMES,
    quantity: str = "relative_variance",
    path: str | None = None,
    highlight: str | None = None,
    mark_lag: int | None = None,
    ax=None,
    title: str | None = None,
    note: str | None = "auto",
) -> Figure:
    """``quantity`` of a signal from input t−k to output t against the lag k, per scheme (log y), from
    :func:`rnnreg.analysis.signal.analytic_curves`; schemes with one curve share a legend entry. ``highlight``:
    one scheme thick; ``mark_lag``: its value at that lag written on it."""
    if ax is None:
        fig, ax = new_figure()
    else:
        fig = ax.figure
    lags = list(range(max_lag + 1))
    curves = {s: analytic_curves(s, p, lags, num_layers, path) for s in schemes}
    groups: dict[tuple, list[str]] = {}
    for s, c in curves.items():
        groups.setdefault(tuple(np.round(to_numpy(c[quantity]), 9)), []).append(s)
    for i, (_, members) in enumerate(groups.items()):
        lead = highlight if highlight in members else members[0]
        faint = highlight is not None and highlight not in members
        ax.plot(
            lags,
            to_numpy(curves[lead][quantity]),
            color=color_for(lead, i),
            alpha=0.35 if faint else 1.0,
            linewidth=1.5 if faint else 2.6,
            label=" = ".join(members),
            zorder=1 if faint else 3,
        )
    ax.set_yscale("log")
    ax.set_xlabel("lag k (steps between input and output)")
    ax.set_ylabel(QUANTITIES[quantity])
    if mark_lag is not None:
        s = highlight or schemes[0]
        v = float(curves[s][quantity][mark_lag])
        n = int(curves[s]["masks"][mark_lag])
        ax.axvline(mark_lag, color="#333333", linestyle=":", linewidth=1.4)
        # keep the label inside the axes: beside the point towards the middle, below it when the
        # point sits in the upper part of the (log) axis, so it never climbs into the title
        right_half = mark_lag > max_lag / 2
        lo, hi = ax.get_ylim()
        upper = np.log(v / lo) / np.log(hi / lo) > 0.55 if v > 0 and hi > lo > 0 else False
        ax.annotate(
            f"{s}, k={mark_lag}: {n} masks\n{SHORT[quantity]} {v:.3g}",
            (mark_lag, v),
            xytext=(-8 if right_half else 6, -10 if upper else 6),
            textcoords="offset points",
            fontsize=12,
            color="#222222",
            ha="right" if right_half else "left",
            va="top" if upper else "bottom",
            annotation_clip=True,
        )
    # the curves rise to the upper right (relative variance) or fall to the lower right (SNR,
    # untouched): the opposite corner on the left is free for the legend
    ax.legend(loc="upper left" if quantity == "relative_variance" else "lower left", frameon=False, fontsize=11)
    if title is None:
        title = f"Only fresh recurrent masks make the noise grow with the lag (p = {p:g}, {num_layers} layers)"
    ax.set_title(title, loc="left")
    if note == "auto":
        where = f"the {path} path" if path else "the path each scheme masks (h or c)"
        note = f"(1−p)^(−n) − 1 for n masks on {where} (rnnreg.analysis.signal.analytic_curves); no data, no training."
    if note and ax is fig.axes[0] and len(fig.axes) == 1:
        add_note(fig, note)
    return fig


# --------------------------------------------------------------------------------------------
# Analytic vs simulated
# --------------------------------------------------------------------------------------------
def draw_limit(ax, samples: int) -> None:
    """Where a Monte-Carlo estimate from N draws stops being trustworthy: at a relative variance of
    about N, a handful of rare draws carries most of the variance and N draws undersample them."""
    ax.axhline(samples, color="#888888", linestyle=":", linewidth=1.2)
    ax.annotate(
        f"≈ limit of {samples} draws",
        (1.0, samples),
        xycoords=("axes fraction", "data"),
        xytext=(-4, -12),
        textcoords="offset points",
        fontsize=10,
        color="#666666",
        ha="right",
    )


def band(ax, est, color, label, marker="o"):
    lag, mean, err = to_numpy(est.lag)[1:], to_numpy(est.mean)[1:], to_numpy(est.stderr)[1:]
    ax.fill_between(lag, np.maximum(mean - 2 * err, 1e-6), mean + 2 * err, color=color, alpha=0.2, linewidth=0)
    ax.plot(lag, mean, color=color, marker=marker, markersize=4, linewidth=1.2, label=label)


def plot_simulated_linear(
    p: float = 0.5,
    max_lag: int = 10,
    *,
    schemes: Sequence[str] = ("everywhere", "variational"),
    mixings: Sequence[str] = ("orthogonal", "identity"),
    hidden: int = 32,
    samples: int = 1000,
    seed: int = 0,
    estimates: dict | None = None,
    title: str | None = None,
) -> Figure:
    """The recurrent path alone, one panel per mixing matrix W: analytic (1−p)^(−r)−1 (dashed) vs
    ``simulate_linear`` (±2 s.e. bands). ``estimates``: precomputed ``{(scheme, mixing): Estimate}``."""
    fig, axes = new_figure(WIDE, 1, len(mixings), sharey=True)
    axes = np.atleast_1d(axes)
    lags = list(range(1, max_lag + 1))
    for ax, mixing in zip(axes, mixings):
        for i, s in enumerate(schemes):
            color = color_for(s, i)
            analytic = relative_variance(p, recurrent_masks(s, lags))
            ax.plot(lags, to_numpy(analytic), color=color, linestyle="--", linewidth=1.8, label=f"{s}: analytic")
            est = (estimates or {}).get((s, mixing)) or simulate_linear(s, p, max_lag, hidden, samples, mixing, seed)
            band(ax, est, color, f"{s}: simulated ±2 s.e.")
        ax.set_yscale("log")
        draw_limit(ax, samples)
        ax.set_title(f"W {mixing}" + (" (units mix)" if mixing == "orthogonal" else " (no mixing)"), loc="left")
        ax.set_xlabel("lag k")
    axes[0].set_ylabel("relative variance of h_k")
    axes[0].legend(loc="upper left", frameon=False, fontsize=10)
    suptitle(fig, title or f"Recurrent path h_t = W·D_t(h_(t−1)), p = {p:g}: analytic vs simulated")
    add_note(
        fig,
        f"rnnreg.analysis.signal.simulate_linear: {hidden} units, {samples} mask draws per lag, seed {seed}; "
        "analytic counts masks on the recurrent path only (fresh: k, shared: 1).",
    )
    return fig


def plot_lstm_paths(
    p: float = 0.5,
    max_lag: int = 20,
    *,
    schemes: Sequence[str] = DROPOUT_SCHEMES,
    hidden: int = 32,
    samples: int = 300,
    seed: int = 0,
    results: dict | None = None,
    title: str | None = None,
) -> Figure:
    """One LSTM layer (``simulate_lstm``): relative variance of the response of h (left) and of the
    cell c (right) to a perturbed input at step 0, per scheme, vs lag. ``results``: precomputed
    ``{scheme: simulate_lstm(...)}``."""
    fig, axes = new_figure(WIDE, 1, 2, sharey=True)
    results = results or lstm_results(p, max_lag, schemes=schemes, hidden=hidden, samples=samples, seed=seed)
    for ax, path in zip(axes, ("h", "c")):
        for i, s in enumerate(schemes):
            est = results[s][path]
            mean = to_numpy(est.mean)[1:]
            if np.all(mean <= 1e-12):  # no noise at all: a flat line at the bottom, named in the legend
                ax.plot([], [], color=color_for(s, i), label=f"{s}: 0 (no recurrent noise)")
                continue
            band(ax, est, color_for(s, i), s)
        ax.set_yscale("log")
        draw_limit(ax, samples)
        ax.set_xlabel("lag k")
        ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
        ax.set_title(f"{path} path: response of {path}_k", loc="left")
    axes[0].set_ylabel("relative variance")
    axes[0].legend(loc="upper left", frameon=False, fontsize=10)
    suptitle(fig, title or f"One LSTM layer, p = {p:g}: noise on the h path and on the cell path")
    add_note(
        fig,
        f"rnnreg.analysis.signal.simulate_lstm: {hidden} units, weights U(−0.5, 0.5), {samples} mask draws, "
        f"seed {seed}; zoneout keeps h/c with 0.05/0.5. Bands ±2 s.e.",
    )
    return fig


# --------------------------------------------------------------------------------------------
# Measured in trained models
# --------------------------------------------------------------------------------------------
def _empty(ax, loaded):
    empty_note(ax, "not yet recorded here:\n" + textwrap.fill(", ".join(missing_schemes(loaded)), width=36))


def plot_swap(loaded: dict, key: str = "relative_dh", *, title: str | None = None) -> Figure:
    """Measured: change at step t when the token at t−k is swapped, per scheme; left in evaluation
    mode (what the trained model does), right with its training masks on (what training sees)."""
    fig, axes = new_figure(WIDE, 1, 2, sharey=True)
    ylabel = {"relative_dh": "relative change of top-layer h", "kl": "KL(next-word dist.)"}[key]
    for ax, (mode, attr) in zip(axes, (("evaluation (no masks)", "swap_eval"), ("training masks on", "swap_masks"))):
        drawn = False
        for i, (s, r) in enumerate(loaded.items()):
            df = getattr(r, attr)
            df = df[df["lag"] >= 1] if not df.empty else df
            if df.empty:
                continue
            ax.plot(df["lag"], df[key], color=color_for(s, i), marker="o", markersize=3, label=s)
            drawn = True
        if drawn:
            ax.set_yscale("log")
        else:
            _empty(ax, loaded)
        ax.set_title(mode, loc="left")
        ax.set_xlabel("lag k of the swapped token")
    axes[0].set_ylabel(ylabel)
    if any(ax.get_legend_handles_labels()[0] for ax in axes):  # below the curves, which start high on the left
        axes[0].legend(loc="lower left", frameon=False, fontsize=10, ncol=2)
    suptitle(fig, title or "Measured: how much a token k steps back still moves the model")
    add_note(fig, runs_label(loaded))
    return fig


def plot_context(loaded: dict, *, title: str | None = None) -> Figure:
    """Measured: validation perplexity when the model reads only the last k tokens (zero state before)."""
    fig, ax = new_figure()
    drawn = False
    for i, (s, r) in enumerate(loaded.items()):
        if r.context.empty:
            continue
        ax.plot(r.context["context"], r.context["ppl"], color=color_for(s, i), marker="o", markersize=5, label=s)
        drawn = True
    if drawn:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ticks = sorted({int(c) for r in loaded.values() for c in r.context.get("context", [])})
        ax.set_xticks(ticks)
        ax.set_xticklabels([str(t) for t in ticks])
        ax.xaxis.set_minor_locator(mpl.ticker.NullLocator())
        ppl = [float(v) for r in loaded.values() for v in r.context.get("ppl", [])]
        log_ticks(ax, min(ppl), max(ppl))
        ax.legend(loc="upper right", frameon=False, fontsize=11)
    else:
        _empty(ax, loaded)
    ax.set_xlabel("context: tokens the model reads before predicting")
    ax.set_ylabel("perplexity")
    ax.set_title(title or "Measured: perplexity vs context length (flat = context ignored)", loc="left")
    add_note(fig, runs_label(loaded))
    return fig


RATE_STYLES = ("-", "--", ":", "-.")


def plot_mask_noise(records: list[dict], *, title: str | None = None, note: str | None = None) -> Figure:
    """Trained models, training masks on: the signal fraction of ∂h_t/∂x_(t−k) per lag (1: no mask
    noise), one line per ``mask_noise.json`` record (colour: scheme, style: recurrent rate), ±2 s.e. bands."""
    fig, ax = new_figure()
    rates = sorted({r.get("recurrent_rate") for r in records})
    for i, r in enumerate(records):
        lag, f, se = (np.asarray(r[k], dtype=float) for k in ("lag", "fraction", "stderr"))
        color = color_for(r["scheme"], i)
        style = RATE_STYLES[rates.index(r.get("recurrent_rate")) % len(RATE_STYLES)]
        ax.fill_between(lag, f - 2 * se, f + 2 * se, color=color, alpha=0.15, linewidth=0)
        ax.plot(
            lag,
            f,
            color=color,
            linestyle=style,
            linewidth=2,
            label=f"{r['scheme']}, recurrent rate {r.get('recurrent_rate'):g}",
        )
    if records:
        ax.set_ylim(0, 1.05)
        ax.legend(loc="upper right", frameon=False, fontsize=10, ncol=2)
        ax.set_xlabel("lag k (steps between the input x(t−k) and h(t))")
        ax.set_ylabel("signal fraction of ∂h(t)/∂x(t−k)")
    else:
        empty_note(ax, "not yet recorded here: no mask_noise.json\n(python -m rnnreg measure RUN --what mask-noise)")
    ax.set_title(title or "Trained models, training masks on: how much of ∂h(t)/∂x(t−k) is signal", loc="left")
    add_note(
        fig,
        note
        or "rnnreg.analysis.signal.mask_noise: ||E_mask J||² / E_mask ||J||², random probes, "
        "independent mask draws per window; bands ±2 s.e. over windows.",
    )
    return fig


# --------------------------------------------------------------------------------------------
# Panels
# --------------------------------------------------------------------------------------------
MAX_LAG = 20
SIM_HIDDEN, SIM_SAMPLES, LSTM_SAMPLES = 32, 400, 120


@lru_cache(maxsize=512)
def linear_estimate(scheme: str, p: float, mixing: str, max_lag: int = MAX_LAG, seed: int = 0):
    """``simulate_linear`` at the panel's small sample count, cached by its arguments."""
    with num_threads(1):
        return simulate_linear(scheme, p, max_lag, SIM_HIDDEN, SIM_SAMPLES, mixing, seed)


@lru_cache(maxsize=512)
def lstm_estimate(scheme: str, p: float, max_lag: int = MAX_LAG, seed: int = 0):
    """``simulate_lstm`` at the panel's small sample count, cached by its arguments."""
    with num_threads(1):
        return simulate_lstm(scheme, p, max_lag, SIM_HIDDEN, LSTM_SAMPLES, seed=seed)


def signal_figure(scheme: str, p: float, lag: int, num_layers: int, mixing: str, quantity: str = "relative_variance"):
    """The panel's figure (also usable without widgets)."""
    with mpl.rc_context(BOOK_RC):  # fixed margins: constrained layout would double the redraw time
        fig = Figure(figsize=WIDE)
        ax1, ax2 = fig.subplots(1, 2)
        fig.subplots_adjust(left=0.07, right=0.99, bottom=0.2, top=0.91, wspace=0.22)
    plot_analytic(
        p,
        MAX_LAG,
        num_layers,
        schemes=DROPOUT_SCHEMES,
        quantity=quantity,
        highlight=scheme,
        mark_lag=lag,
        ax=ax1,
        title=f"Analytic ({num_layers} layers): fresh recurrent masks compound",
        note=None,
    )
    ax1.legend(loc="upper left" if quantity == "relative_variance" else "lower left", frameon=False, fontsize=9)
    ax1.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
    ax2.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
    color = color_for(scheme)
    lags = np.arange(1, MAX_LAG + 1)
    analytic = to_numpy(relative_variance(p, recurrent_masks(scheme, lags)))
    if np.any(analytic > 0):
        ax2.plot(lags, analytic, color=color, linestyle="--", linewidth=1.8, label="analytic (recurrent path)")
    lin = linear_estimate(scheme, round(p, 4), mixing)
    lstm = lstm_estimate(scheme, round(p, 4))
    noisy_lin, noisy_lstm = (bool(np.any(to_numpy(e.mean)[1:] > 1e-12)) for e in (lin, lstm["h"]))
    if noisy_lin:
        band(ax2, lin, color, f"linear RNN, W {mixing}")
    if noisy_lstm:
        band(ax2, lstm["h"], "#333333", "LSTM layer, h response", marker="s")
    if np.any(analytic > 0) or noisy_lin or noisy_lstm:
        ax2.set_yscale("log")
        draw_limit(ax2, SIM_SAMPLES)
        ax2.axvline(lag, color="#333333", linestyle=":", linewidth=1.4)
        ax2.set_xlabel("lag k")
        ax2.set_ylabel("relative variance")
        ax2.set_title(f"{scheme}: recurrent-path noise vs k", loc="left")
        ax2.legend(loc="upper left", frameon=False, fontsize=9)
    else:  # nothing to draw: say so instead of an empty axis with a meaningless range
        ax2.set_title(f"{scheme}: no mask on the recurrent path", loc="left")
        empty_note(ax2, "the linear RNN and the LSTM layer\nadd no noise at any lag", 12)
    add_note(
        fig,
        f"p = {p:.2f}. Simulations: rnnreg.analysis.signal.simulate_linear ({SIM_HIDDEN} units, {SIM_SAMPLES} draws) "
        f"and simulate_lstm ({LSTM_SAMPLES} draws), seed 0, cached; bands ±2 s.e.",
    )
    for ax in (ax1, ax2):  # minor ticks of the log axes were ~half the redraw time; decades suffice here
        ax.yaxis.set_minor_locator(mpl.ticker.NullLocator())
    return fig


class SignalPanel(FigurePanel):
    """Sliders p, lag k, number of layers; scheme picker; mixing matrix of the simulated RNN."""

    def __init__(
        self,
        scheme: str = "everywhere",
        p: float = 0.5,
        lag: int = 5,
        num_layers: int = 2,
        mixing: str = "orthogonal",
        quantity: str = "relative_variance",
    ):
        self.scheme = scheme_picker(scheme, schemes=[s for s in SCHEMES if s != "none"])
        self.rate = rate_slider(p, "dropout rate p", max=0.8)
        self.lag = int_slider(lag, 1, MAX_LAG, 1, "lag k")
        self.layers = int_slider(num_layers, 1, 4, 1, "layers L")
        self.mixing = W.ToggleButtons(options=["orthogonal", "identity"], value=mixing, description="W", style=STYLE)
        self.quantity = W.ToggleButtons(
            options=[("relative variance", "relative_variance"), ("SNR", "snr")],
            value=quantity,
            description="show",
            style=STYLE,
        )
        self.readout = W.HTML()
        self.image = image_widget()
        super().__init__(
            [
                self.scheme,
                W.HBox([self.rate, self.lag, self.layers]),
                W.HBox([self.mixing, self.quantity]),
                self.readout,
                self.image,
            ]
        )
        self._observe(self.scheme, self.rate, self.lag, self.layers, self.mixing, self.quantity)
        self.update()

    def state(self) -> dict:
        """The analytic numbers at the current settings (what the readout line says)."""
        s, p, k, L = self.scheme.value, self.rate.value, self.lag.value, self.layers.value
        c = analytic_curves(s, p, [k], L)
        return {
            "scheme": s,
            "p": p,
            "lag": k,
            "layers": L,
            "masks": int(c["masks"][0]),
            "relative_variance": float(c["relative_variance"][0]),
            "snr": float(c["snr"][0]),
            "untouched": float(c["untouched"][0]),
        }

    def update(self) -> None:
        st = self.state()
        self.readout.value = (
            f"<b>{st['scheme']}</b>, p = {st['p']:.2f}, k = {st['lag']}, L = {st['layers']}: "
            f"{st['masks']} masks → relative variance {st['relative_variance']:.3g}, "
            f"SNR {st['snr']:.3g}, units untouched {st['untouched']:.2%}"
        )
        self._set_figure(
            signal_figure(st["scheme"], st["p"], st["lag"], st["layers"], self.mixing.value, self.quantity.value)
        )
