"""Chapter 03's interactive panel: how fast does dropout's noise grow with the lag?

``SignalPanel`` follows ``rnnreg.widgets``' pattern: controls redraw one figure into an
``ipywidgets.Image`` (PNG), the last figure is kept as ``panel.figure``. Left: the analytic curves
(all schemes, the chosen one thick, its value at lag k written on it). Right: the chosen scheme's
recurrent path simulated — a linear RNN with the chosen mixing matrix (dots, ±2 s.e.) next to the
analytic recurrent-path curve (dashed), and one LSTM layer's h response (squares). Simulations use
small sample counts and are cached, so a slider move costs one redraw (well under 0.3 s).
"""
from __future__ import annotations

from functools import lru_cache

import ipywidgets as W
import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure

from . import signal as S
from .model import SCHEMES
from .plots import BOOK_RC, WIDE, color_for
from .plots_signal import DROPOUT_SCHEMES, band, draw_limit, plot_analytic, to_numpy
from .train import num_threads
from .widgets import STYLE, FigurePanel, image_widget, int_slider, rate_slider, scheme_picker

MAX_LAG = 20
SIM_HIDDEN, SIM_SAMPLES, LSTM_SAMPLES = 32, 400, 120


@lru_cache(maxsize=512)
def linear_estimate(scheme: str, p: float, mixing: str, max_lag: int = MAX_LAG, seed: int = 0):
    """``simulate_linear`` at the panel's small sample count, cached by its arguments."""
    with num_threads(1):
        return S.simulate_linear(scheme, p, max_lag, SIM_HIDDEN, SIM_SAMPLES, mixing, seed)


@lru_cache(maxsize=512)
def lstm_estimate(scheme: str, p: float, max_lag: int = MAX_LAG, seed: int = 0):
    """``simulate_lstm`` at the panel's small sample count, cached by its arguments."""
    with num_threads(1):
        return S.simulate_lstm(scheme, p, max_lag, SIM_HIDDEN, LSTM_SAMPLES, seed=seed)


def signal_figure(scheme: str, p: float, lag: int, num_layers: int, mixing: str, quantity: str = "relative_variance"):
    """The panel's figure (also usable without widgets)."""
    with mpl.rc_context(BOOK_RC):  # fixed margins: constrained layout would double the redraw time
        fig = Figure(figsize=WIDE)
        ax1, ax2 = fig.subplots(1, 2)
        fig.subplots_adjust(left=0.07, right=0.99, bottom=0.2, top=0.91, wspace=0.22)
    plot_analytic(p, MAX_LAG, num_layers, schemes=DROPOUT_SCHEMES, quantity=quantity, highlight=scheme,
                  mark_lag=lag, ax=ax1, title=f"Analytic, whole path ({num_layers} layers)", note=None)
    ax1.legend(loc="upper left", frameon=False, fontsize=9)
    ax1.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
    ax2.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
    color = color_for(scheme)
    lags = np.arange(1, MAX_LAG + 1)
    analytic = to_numpy(S.relative_variance(p, S.recurrent_masks(scheme, lags)))
    if np.any(analytic > 0):
        ax2.plot(lags, analytic, color=color, linestyle="--", linewidth=1.8, label="analytic (recurrent path)")
    lin = linear_estimate(scheme, round(p, 4), mixing)
    if np.any(to_numpy(lin.mean)[1:] > 1e-12):
        band(ax2, lin, color, f"linear RNN, W {mixing}")
    else:
        ax2.plot([], [], color=color, marker="o", linestyle="none", label=f"linear RNN: no recurrent mask for {scheme}")
    lstm = lstm_estimate(scheme, round(p, 4))
    if np.any(to_numpy(lstm["h"].mean)[1:] > 1e-12):
        band(ax2, lstm["h"], "#333333", "LSTM layer, h response", marker="s")
    else:
        ax2.plot([], [], color="#333333", marker="s", linestyle="none", label="LSTM layer: no recurrent noise")
    if ax2.has_data():
        ax2.set_yscale("log")
        draw_limit(ax2, SIM_SAMPLES)
    ax2.axvline(lag, color="#333333", linestyle=":", linewidth=1.4)
    ax2.set_xlabel("lag k")
    ax2.set_ylabel("relative variance")
    ax2.set_title(f"{scheme}: recurrent path simulated", loc="left")
    ax2.legend(loc="upper left", frameon=False, fontsize=9)
    fig.text(
        0.01,
        0.01,
        f"p = {p:.2f}. Simulations: rnnreg.signal.simulate_linear ({SIM_HIDDEN} units, {SIM_SAMPLES} draws) "
        f"and simulate_lstm ({LSTM_SAMPLES} draws), seed 0, cached; bands ±2 s.e.",
        fontsize=10,
        color="#555555",
        ha="left",
        va="bottom",
    )
    for ax in (ax1, ax2):  # minor ticks of the log axes were ~half the redraw time; decades suffice here
        ax.yaxis.set_minor_locator(mpl.ticker.NullLocator())
    return fig


class SignalPanel(FigurePanel):
    """Sliders p, lag k, number of layers; scheme picker; mixing matrix of the simulated RNN."""

    def __init__(self, scheme: str = "everywhere", p: float = 0.5, lag: int = 5, num_layers: int = 2,
                 mixing: str = "orthogonal", quantity: str = "relative_variance"):
        self.scheme = scheme_picker(scheme, schemes=[s for s in SCHEMES if s != "none"])
        self.rate = rate_slider(p, "dropout rate p", max=0.8)
        self.lag = int_slider(lag, 1, MAX_LAG, 1, "lag k")
        self.layers = int_slider(num_layers, 1, 4, 1, "layers L")
        self.mixing = W.ToggleButtons(options=["orthogonal", "identity"], value=mixing, description="W",
                                      style=STYLE)
        self.quantity = W.ToggleButtons(options=[("relative variance", "relative_variance"), ("SNR", "snr")],
                                        value=quantity, description="show", style=STYLE)
        self.readout = W.HTML()
        self.image = image_widget()
        super().__init__([self.scheme, W.HBox([self.rate, self.lag, self.layers]),
                          W.HBox([self.mixing, self.quantity]), self.readout, self.image])
        self._observe(self.scheme, self.rate, self.lag, self.layers, self.mixing, self.quantity)
        self.update()

    def state(self) -> dict:
        """The analytic numbers at the current settings (what the readout line says)."""
        s, p, k, L = self.scheme.value, self.rate.value, self.lag.value, self.layers.value
        c = S.analytic_curves(s, p, [k], L)
        return {"scheme": s, "p": p, "lag": k, "layers": L, "masks": int(c["masks"][0]),
                "relative_variance": float(c["relative_variance"][0]), "snr": float(c["snr"][0]),
                "untouched": float(c["untouched"][0])}

    def update(self) -> None:
        st = self.state()
        self.readout.value = (f"<b>{st['scheme']}</b>, p = {st['p']:.2f}, k = {st['lag']}, L = {st['layers']}: "
                              f"{st['masks']} masks → relative variance {st['relative_variance']:.3g}, "
                              f"SNR {st['snr']:.3g}, units untouched {st['untouched']:.2%}")
        self._set_figure(signal_figure(st["scheme"], st["p"], st["lag"], st["layers"], self.mixing.value,
                                       self.quantity.value))
