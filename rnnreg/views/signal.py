"""Chapter 03's figures and panel: how much signal survives repeated dropout. Numbers come from
:mod:`rnnreg.analysis.signal` (analytic, simulated) and :mod:`rnnreg.analysis.signal_runs` (recorded)."""

from __future__ import annotations

from functools import lru_cache

import ipywidgets as W
import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure

from ..analysis import signal as sig
from ..analysis.signal_runs import WIPED, runs_budget
from ..train import num_threads
from .panels import STYLE, FigurePanel, image_widget, int_slider, rate_slider, scheme_picker
from .style import BOOK_RC, NEUTRAL, WIDE, add_note, color_for, empty_note, log_ticks, new_figure, suptitle

RATE_STYLES = ("-", "--", ":", "-.")  # plot_mask_noise: one per recurrent rate


def runs_label(loaded: dict) -> str:
    """The note under a measured figure: which recorded runs it draws, which are missing."""
    b = runs_budget(loaded)
    note = "No recorded measurements yet." if not loaded else (
        f"Recorded runs: results/{b['zoo']}/<scheme>-seed{b['seed']} ({b['num_layers']}×{b['hidden_size']}, dropout "
        f"{b['dropout']} (none: 0), {b['max_train_tokens']:,} train tokens, {b['epochs']} epochs); validation text."
    )  # fmt: skip
    return note + (" Not yet recorded here: " + ", ".join(b["missing"]) + "." if b["missing"] else "")


def plot_analytic(p=0.5, max_lag=30, num_layers=2, *, highlight=None, mark_lag=None, ax=None, title=None) -> Figure:
    """The relative variance from input t−k to output t against the lag k, per scheme (log y); schemes with
    the same curve share a legend entry. ``highlight``: one scheme thick; ``mark_lag``: its value written there."""
    fig, ax = new_figure() if ax is None else (ax.figure, ax)
    lags = list(range(max_lag + 1))
    curves = {s: sig.analytic_curves(s, p, lags, num_layers) for s in sig.DROPOUT_SCHEMES}
    groups: dict[tuple, list[str]] = {}
    for s, c in curves.items():
        groups.setdefault(tuple(np.round(np.asarray(c["relative_variance"]), 9)), []).append(s)
    for i, (curve, members) in enumerate(groups.items()):
        lead = highlight if highlight in members else members[0]
        faint = highlight is not None and highlight not in members
        ax.plot(lags, curve, color=color_for(lead, i), alpha=0.35 if faint else 1.0,
                linewidth=1.5 if faint else 2.6, label=" = ".join(members), zorder=1 if faint else 3)  # fmt: skip
    ax.set_yscale("log")
    ax.set_xlabel("lag k (steps between input and output)")
    ax.set_ylabel("relative variance Var/E²")
    if mark_lag is not None:
        s = highlight or sig.DROPOUT_SCHEMES[0]
        v, n = float(curves[s]["relative_variance"][mark_lag]), int(curves[s]["masks"][mark_lag])
        ax.axvline(mark_lag, color="#333333", linestyle=":", linewidth=1.4)
        # beside the point towards the middle, below it in the upper part of the axis: never in the title
        right = mark_lag > max_lag / 2
        lo, hi = ax.get_ylim()
        upper = v > 0 and hi > lo > 0 and np.log(v / lo) / np.log(hi / lo) > 0.55
        ax.annotate(f"{s}, k={mark_lag}: {n} masks\nrel. variance {v:.3g}", (mark_lag, v),
                    xytext=(-8 if right else 6, -10 if upper else 6), textcoords="offset points", fontsize=12,
                    ha="right" if right else "left", va="top" if upper else "bottom", annotation_clip=True)  # fmt: skip
    ax.legend(loc="upper left", frameon=False, fontsize=11)
    ax.set_title(title or f"Only fresh recurrent masks make the noise grow with the lag (p = {p:g})", loc="left")
    if len(fig.axes) == 1:  # alone, not a panel's left half
        add_note(fig, f"(1−p)^(−n) − 1 for n masks on the path each scheme masks, {num_layers} layers; no data.")
    return fig


def draw_limit(ax, samples: int) -> None:
    """At a relative variance of about N, a few rare draws carry most of it and N draws undersample them."""
    ax.axhline(samples, color="#888888", linestyle=":", linewidth=1.2)
    ax.annotate(f"≈ limit of {samples} draws", (1.0, samples), xycoords=("axes fraction", "data"), xytext=(-4, -12),
                textcoords="offset points", fontsize=10, color="#666666", ha="right")  # fmt: skip


def band(ax, est, color, label, marker="o"):
    lag, mean, err = np.asarray(est.lag)[1:], np.asarray(est.mean)[1:], np.asarray(est.stderr)[1:]
    ax.fill_between(lag, np.maximum(mean - 2 * err, 1e-6), mean + 2 * err, color=color, alpha=0.2, linewidth=0)
    ax.plot(lag, mean, color=color, marker=marker, markersize=4, linewidth=1.2, label=label)


def _log_panels(fig, axes, samples: int, ylabel: str, title: str, note: str) -> Figure:
    for ax in axes:
        ax.set_yscale("log")
        draw_limit(ax, samples)
        ax.set_xlabel("lag k")
        ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
    axes[0].set_ylabel(ylabel)
    axes[0].legend(loc="upper left", frameon=False, fontsize=10)
    suptitle(fig, title)
    add_note(fig, note)
    return fig


def plot_simulated_linear(estimates: dict, p=0.5, *, hidden=32, samples=4000, seed=0, title=None) -> Figure:
    """The recurrent path alone, a panel per mixing matrix W: analytic (1−p)^(−r)−1 (dashed) vs the
    ``estimates`` of ``linear_estimates`` (±2 s.e.), made with ``hidden``, ``samples``, ``seed``."""
    schemes, mixings = (list(dict.fromkeys(key[j] for key in estimates)) for j in (0, 1))
    fig, axes = new_figure(WIDE, 1, len(mixings), sharey=True)
    for ax, mixing in zip(axes, mixings):
        for i, s in enumerate(schemes):
            lags = np.asarray(estimates[s, mixing].lag)[1:]
            analytic = np.asarray(sig.relative_variance(p, sig.recurrent_masks(s, lags)))
            ax.plot(lags, analytic, color=color_for(s, i), linestyle="--", linewidth=1.8, label=f"{s}: analytic")
            band(ax, estimates[s, mixing], color_for(s, i), f"{s}: simulated ±2 s.e.")
        ax.set_title(f"W {mixing}" + (" (units mix)" if mixing == "orthogonal" else " (no mixing)"), loc="left")
    title = title or f"Recurrent path h_t = W·D_t(h_(t−1)), p = {p:g}: analytic vs simulated"
    note = f"simulate_linear: {hidden} units, {samples} mask draws per lag, seed {seed}; analytic counts the "
    return _log_panels(fig, axes, samples, "relative variance of h_k", title, note + "recurrent masks (fresh: k).")


def plot_lstm_paths(results: dict, p=0.5, *, hidden=32, samples=300, seed=0, title=None) -> Figure:
    """One random LSTM layer, ``results`` ``{scheme: simulate_lstm(...)}`` made with ``hidden``, ``samples``,
    ``seed``: relative variance of the h (left) and c (right) responses to a perturbed input at step 0, vs lag."""
    fig, axes = new_figure(WIDE, 1, 2, sharey=True)
    for ax, path in zip(axes, ("h", "c")):
        for i, (s, r) in enumerate(results.items()):
            if np.all(np.asarray(r[path].mean)[1:] <= 1e-12):  # no noise: named in the legend only
                ax.plot([], [], color=color_for(s, i), label=f"{s}: 0 (no recurrent noise)")
            else:
                band(ax, r[path], color_for(s, i), s)
        ax.set_title(f"{path} path: response of {path}_k", loc="left")
    title = title or f"One LSTM layer, p = {p:g}: noise on the h path and on the cell path"
    note = f"simulate_lstm: {hidden} units, weights U(−0.5, 0.5), {samples} mask draws, seed {seed}; zoneout "
    return _log_panels(fig, axes, samples, "relative variance", title, note + "keeps h/c with 0.05/0.5. Bands ±2 s.e.")


def plot_swap(loaded: dict, *, title: str | None = None) -> Figure:
    """Change at step t when the token at t−k is swapped, per scheme: evaluation mode (left), training
    masks on (right)."""
    fig, axes = new_figure(WIDE, 1, 2, sharey=True)
    for ax, (mode, attr) in zip(axes, (("evaluation (no masks)", "swap_eval"), ("training masks on", "swap_masks"))):
        for i, (s, r) in enumerate(loaded.items()):
            df = getattr(r, attr)
            if not df.empty:
                df = df[df["lag"] >= 1]
                ax.plot(df["lag"], df["relative_dh"], color=color_for(s, i), marker="o", markersize=3, label=s)
        if ax.has_data():
            ax.set_yscale("log")
        else:
            empty_note(ax, "not yet recorded here:\n" + ", ".join(runs_budget(loaded)["missing"]))
        ax.set_title(mode, loc="left")
        ax.set_xlabel("lag k of the swapped token")
    axes[0].set_ylabel("relative change of top-layer h")
    if axes[0].has_data():  # below the curves, which start high on the left
        axes[0].legend(loc="lower left", frameon=False, fontsize=10, ncol=2)
    suptitle(fig, title or "Measured: how much a token k steps back still moves the model")
    add_note(fig, runs_label(loaded))
    return fig


def plot_context(loaded: dict, *, title: str | None = None) -> Figure:
    """Validation perplexity when the model reads only the last k tokens (zero state before)."""
    fig, ax = new_figure()
    for i, (s, r) in enumerate(loaded.items()):
        if not r.context.empty:
            ax.plot(r.context["context"], r.context["ppl"], color=color_for(s, i), marker="o", markersize=5, label=s)
    if ax.has_data():
        ax.set(xscale="log", yscale="log")
        ticks = sorted({int(c) for r in loaded.values() for c in r.context["context"]})
        ax.set_xticks(ticks, map(str, ticks), minor=False)
        ax.xaxis.set_minor_locator(mpl.ticker.NullLocator())
        ppl = [v for r in loaded.values() for v in r.context["ppl"]]
        log_ticks(ax, min(ppl), max(ppl))
        ax.legend(loc="upper right", frameon=False, fontsize=11)
    else:
        empty_note(ax, "not yet recorded here:\n" + ", ".join(runs_budget(loaded)["missing"]))
    ax.set_xlabel("context: tokens the model reads before predicting")
    ax.set_ylabel("perplexity")
    ax.set_title(title or "Measured: perplexity vs context length (flat = context ignored)", loc="left")
    add_note(fig, runs_label(loaded))
    return fig


def plot_mask_noise(records: list[dict], *, highlight=None, near: int = 1, title=None) -> Figure:
    """Trained models, training masks on, per lag k: the signal fraction of ∂h_t/∂x_(t−k) over its lag-``near``
    value (left; the dotted line: :data:`WIPED`) and the masked over the eval-mode Jacobian power (right).
    One line per record (colour: scheme, style: recurrent rate); schemes not in ``highlight`` (default: all)
    are thin grey lines without a legend entry."""
    fig, axes = new_figure(WIDE, 1, 2)
    rates = sorted({r["recurrent_rate"] for r in records})
    for i, r in enumerate(records):
        lag, f = np.asarray(r["lag"]), np.asarray(r["fraction"], dtype=float)
        label = f"{r['scheme']}, rate {r['recurrent_rate']:g}" + (f", seed {r['seed']}" if "seed" in r else "")
        style = dict(color=color_for(r["scheme"], i), linestyle=RATE_STYLES[rates.index(r["recurrent_rate"]) % 4],
                     linewidth=2, label=label) if highlight is None or r["scheme"] in highlight else \
            dict(color=NEUTRAL, linewidth=0.8, alpha=0.6, label="_other", zorder=1)  # fmt: skip
        axes[0].plot(lag, f / f[list(lag).index(near)], **style)
        axes[1].plot(lag, np.asarray(r["total"]) / np.asarray(r["eval_total"]), **style)
    if records:
        axes[0].axhline(WIPED, color="#333333", linestyle=":", linewidth=1.2, label="_threshold")
        axes[0].annotate(f"{WIPED:g} of lag {near}", (0, WIPED), xytext=(2, 3), textcoords="offset points", fontsize=10)
        axes[0].set(ylim=(0, None), xlabel="lag k", ylabel=f"signal fraction at k / at k = {near}")
        top = 10 * max(float(np.nanmax(ln.get_ydata())) for ln in axes[1].get_lines())  # a decade for the legend
        axes[1].set(yscale="log", ylim=(None, top), xlabel="lag k", ylabel="power, masked / eval mode")
        axes[1].legend(loc="upper left", frameon=False, fontsize=9, ncol=2)
    else:
        empty_note(axes[0], "not yet recorded here: no mask_noise.json\n(python -m rnnreg measure --what mask-noise)")
        axes[1].set_axis_off()
    suptitle(fig, title or "Trained models, training masks on: how much of ∂h(t)/∂x(t−k) is signal")
    add_note(fig, "mask_noise: ||E_mask J||² / E_mask ||J||² (sums over windows), random probes, "
                  "independent mask draws per window.")  # fmt: skip
    return fig


# -- the panel ----------------------------------------------------------------------------------
MAX_LAG = 20
SIM_HIDDEN, SIM_SAMPLES, LSTM_SAMPLES = 32, 400, 120


@lru_cache(maxsize=512)
def simulated(scheme: str, p: float, mixing: str) -> tuple:
    """The panel's linear RNN and LSTM-layer (h) estimates at its small sample counts, cached."""
    with num_threads(1):
        lstm = sig.simulate_lstm(scheme, p, MAX_LAG, SIM_HIDDEN, LSTM_SAMPLES, seed=0)["h"]
        return sig.simulate_linear(scheme, p, MAX_LAG, SIM_HIDDEN, SIM_SAMPLES, mixing, 0), lstm


def signal_figure(scheme: str, p: float, lag: int, num_layers: int, mixing: str):
    """The panel's figure: the analytic curves (left), the scheme's recurrent path simulated (right)."""
    with mpl.rc_context(BOOK_RC):  # fixed margins: constrained layout would double the redraw time
        fig = Figure(figsize=WIDE)
        ax1, ax2 = fig.subplots(1, 2)
        fig.subplots_adjust(left=0.07, right=0.99, bottom=0.2, top=0.91, wspace=0.22)
    title = f"Analytic ({num_layers} layers): fresh masks compound"
    plot_analytic(p, MAX_LAG, num_layers, highlight=scheme, mark_lag=lag, ax=ax1, title=title)
    ax1.legend(loc="upper left", frameon=False, fontsize=9)
    color, lags = color_for(scheme), np.arange(1, MAX_LAG + 1)
    analytic = np.asarray(sig.relative_variance(p, sig.recurrent_masks(scheme, lags)))
    lin, lstm = simulated(scheme, round(p, 4), mixing)
    if np.any(analytic > 0):
        ax2.plot(lags, analytic, color=color, linestyle="--", linewidth=1.8, label="analytic (recurrent path)")
    for est, c, label, marker in ((lin, color, f"linear RNN, W {mixing}", "o"), (lstm, "#333", "LSTM layer, h", "s")):
        if np.any(np.asarray(est.mean)[1:] > 1e-12):
            band(ax2, est, c, label, marker)
    if ax2.has_data():
        ax2.set_yscale("log")
        draw_limit(ax2, SIM_SAMPLES)
        ax2.axvline(lag, color="#333333", linestyle=":", linewidth=1.4)
        ax2.set(xlabel="lag k", ylabel="relative variance")
        ax2.set_title(f"{scheme}: recurrent-path noise", loc="left")
        ax2.legend(loc="upper left", frameon=False, fontsize=9)
    else:  # nothing to draw: say so instead of an empty axis with a meaningless range
        ax2.set_title(f"{scheme}: no mask on the recurrent path", loc="left")
        empty_note(ax2, "the linear RNN and the LSTM layer\nadd no noise at any lag", 12)
    add_note(fig, f"p = {p:.2f}. simulate_linear ({SIM_HIDDEN} units, {SIM_SAMPLES} draws), simulate_lstm "
                  f"({LSTM_SAMPLES} draws), seed 0; bands ±2 s.e.")  # fmt: skip
    for ax in (ax1, ax2):  # integer lags; no minor log ticks (half the redraw time)
        ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
        ax.yaxis.set_minor_locator(mpl.ticker.NullLocator())
    return fig


class SignalPanel(FigurePanel):
    """Sliders p, lag k, number of layers; scheme picker; mixing matrix of the simulated RNN."""

    def __init__(self, scheme="everywhere", p=0.5, lag=5, num_layers=2, mixing="orthogonal"):
        self.scheme = scheme_picker(scheme, schemes=list(sig.DROPOUT_SCHEMES))
        self.rate = rate_slider(p, "dropout rate p", max=0.8)
        self.lag = int_slider(lag, 1, MAX_LAG, 1, "lag k")
        self.layers = int_slider(num_layers, 1, 4, 1, "layers L")
        self.mixing = W.ToggleButtons(options=["orthogonal", "identity"], value=mixing, description="W", style=STYLE)
        self.readout, self.image = W.HTML(), image_widget()
        sliders = W.HBox([self.rate, self.lag, self.layers])
        super().__init__([self.scheme, sliders, self.mixing, self.readout, self.image])
        self._observe(self.scheme, self.rate, self.lag, self.layers, self.mixing)
        self.update()

    def state(self) -> dict:
        """The analytic numbers at the current settings (what the readout line says)."""
        s, p, k, L = self.scheme.value, self.rate.value, self.lag.value, self.layers.value
        c = sig.analytic_curves(s, p, [k], L)
        numbers = {q: float(c[q][0]) for q in ("relative_variance", "snr", "untouched")}
        return dict(scheme=s, p=p, lag=k, layers=L, masks=int(c["masks"][0]), **numbers)

    def update(self) -> None:
        st = self.state()
        self.readout.value = (
            f"<b>{st['scheme']}</b>, p = {st['p']:.2f}, k = {st['lag']}, L = {st['layers']}: {st['masks']} masks → "
            f"relative variance {st['relative_variance']:.3g}, SNR {st['snr']:.3g}, "
            f"units untouched {st['untouched']:.2%}"
        )
        self._set_figure(signal_figure(st["scheme"], st["p"], st["lag"], st["layers"], self.mixing.value))
