"""The book's one plot style, and the toolkit every figure is built with.

Figures are built with ``matplotlib.figure.Figure`` directly, not through ``pyplot``: nothing
is registered globally, nothing is shown twice by the inline backend, and a figure is shown
exactly when a cell calls :func:`show` (or returns it). Sizes and fonts are chosen to stay
legible in a reveal.js deck on a projector (10 x 4.5 inches at 100 dpi, 14 pt text).

Colours: one per dropout scheme (:data:`SCHEME_COLORS`, Okabe-Ito, colour-blind safe) and one
per source of numbers (:data:`SOURCE_COLORS`). Train perplexity is dashed, validation solid,
everywhere in the book.
"""

from __future__ import annotations

import io
import math
import textwrap

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure

from ..model import SCHEMES

#: rcParams of the book (applied to every figure built here; :func:`use_book_style` sets them globally).
BOOK_RC = {
    "figure.figsize": (10.0, 4.5),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.facecolor": "white",
    "font.size": 14,
    "axes.titlesize": 15,
    "axes.labelsize": 14,
    "legend.fontsize": 12,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "lines.linewidth": 2.2,
    "svg.hashsalt": "rnnreg",  # deterministic SVG ids, should anyone switch to SVG
}
FIGSIZE = BOOK_RC["figure.figsize"]
WIDE = (12.0, 4.5)
TALL = (10.0, 6.0)

SCHEME_COLORS = {
    "none": "#4d4d4d",
    "zaremba": "#0072B2",
    "everywhere": "#D55E00",
    "memory": "#CC79A7",
    "variational": "#009E73",
    "weight_drop": "#E69F00",
    "zoneout": "#56B4E9",
}
SOURCE_COLORS = {"paper": "#333333", "tf": "#999999", "here": "#0072B2"}
OTHER_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#4d4d4d")
NEUTRAL = "#b0b0b0"
TRAIN_STYLE = dict(linestyle="--")
VALID_STYLE = dict(linestyle="-")

assert set(SCHEME_COLORS) == set(SCHEMES)


def use_book_style() -> None:
    """Set the book's rcParams globally and PNG output for the inline backend (not SVG)."""
    mpl.rcParams.update(BOOK_RC)
    try:
        from IPython import get_ipython

        if get_ipython() is not None:
            from matplotlib_inline.backend_inline import set_matplotlib_formats

            set_matplotlib_formats("png")
    except ImportError:  # plain Python: nothing to configure
        pass


def new_figure(figsize=None, nrows: int = 1, ncols: int = 1, **kw) -> tuple[Figure, np.ndarray | object]:
    """A Figure in the book style with a grid of axes (like ``plt.subplots``, but no pyplot)."""
    with mpl.rc_context(BOOK_RC):
        fig = Figure(figsize=figsize or FIGSIZE, layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=True, **kw)
    return fig, axes


def show(fig: Figure) -> None:
    """Display a figure in Jupyter (PNG); a no-op elsewhere. Returns None, so a cell shows it once."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return
    if get_ipython() is not None:
        display(fig)


def to_png(fig: Figure) -> bytes:
    """The figure as PNG bytes (for an ``ipywidgets.Image``)."""
    buf = io.BytesIO()
    with mpl.rc_context(BOOK_RC):
        fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def add_note(fig: Figure, text: str | None) -> None:
    """A grey note line (wrapped) under the plot: what the figure shows, from where."""
    if text:
        text = textwrap.fill(text, width=int(fig.get_figwidth() * 13))
        lines = text.count("\n") + 1
        fig.text(0.01, 0.0, text, fontsize=10, color="#555555", ha="left", va="bottom")
        bottom = 0.015 + 0.045 * lines
        fig.get_layout_engine().set(rect=(0, bottom, 1, 1 - bottom))


def color_for(label: str, i: int = 0) -> str:
    """Scheme colour when the label is (or starts with) a scheme name, else the i-th book colour."""
    key = str(label).split()[0].split(",")[0]
    return SCHEME_COLORS.get(key, OTHER_COLORS[i % len(OTHER_COLORS)])


def log_ticks(ax, lo: float, hi: float) -> None:
    """Readable perplexity ticks on a log axis (no 10^x labels)."""
    candidates = [20, 30, 40, 50, 60, 80, 100, 120, 150, 200, 300, 400, 600, 800, 1000, 1500, 2000, 3000, 5000, 10000]
    ticks = [t for t in candidates if lo * 0.85 <= t <= hi * 1.15]
    if len(ticks) > 8:
        ticks = ticks[:: math.ceil(len(ticks) / 8)]
    if ticks:
        ax.set_yticks(ticks)
        ax.set_yticklabels([str(t) for t in ticks])
        ax.yaxis.set_minor_locator(mpl.ticker.NullLocator())
    ax.set_ylim(lo * 0.85, hi * 1.15)
