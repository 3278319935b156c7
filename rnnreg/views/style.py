"""The book's plot style: ``matplotlib.figure.Figure`` (no pyplot: nothing registered globally, nothing shown
twice) sized for a projected deck; one colour per scheme (Okabe-Ito); train dashed, validation solid."""

from __future__ import annotations

import io
import math
import textwrap

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure

from ..model import SCHEMES

#: rcParams of every figure built here (:func:`use_book_style` sets them globally). 80 dpi: a figure is at most
#: 5 in (400 px) high, the deck's cap, so a slide shows it at its own size.
BOOK_RC = {
    **{"figure.figsize": (10.0, 4.5), "figure.dpi": 80, "savefig.dpi": 80, "figure.facecolor": "white"},
    **{"font.size": 14, "axes.titlesize": 15, "axes.labelsize": 14, "legend.fontsize": 12},
    **{"xtick.labelsize": 12, "ytick.labelsize": 12, "axes.spines.top": False, "axes.spines.right": False},
    **{"axes.grid": True, "grid.alpha": 0.3, "lines.linewidth": 2.2, "svg.hashsalt": "rnnreg"},
}
FIGSIZE = BOOK_RC["figure.figsize"]
WIDE = (12.0, 4.5)
TALL = (10.0, 5.0)

SCHEME_COLORS = dict(
    none="#4d4d4d", zaremba="#0072B2", everywhere="#D55E00", memory="#CC79A7", variational="#009E73",
    weight_drop="#E69F00", zoneout="#56B4E9",
)  # fmt: skip
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
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # plain Python: nothing to configure
        return
    if get_ipython() is not None:
        set_matplotlib_formats("png")


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


def add_note(fig: Figure, text: str | None, fontsize: float = 10) -> None:
    """A grey note (wrapped) under the plot: what the figure shows, from where."""
    if text:
        text = textwrap.fill(text, width=int(fig.get_figwidth() * 130 / fontsize))
        fig.text(0.01, 0.0, text, fontsize=fontsize, color="#555555", ha="left", va="bottom")
        bottom = 0.015 + (text.count("\n") + 1) * fontsize * 1.45 / 72 / fig.get_figheight()
        if fig.get_layout_engine() is not None:
            fig.get_layout_engine().set(rect=(0, bottom, 1, 1 - bottom))


def empty_note(ax, text: str, fontsize: float = 13) -> None:
    """An axes with nothing to draw says why, in grey, in its middle, without axis lines or ticks."""
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=fontsize, color="#666666")


def suptitle(fig: Figure, title: str) -> None:
    """A figure title, left-aligned like the axes titles."""
    fig.suptitle(title, x=0.01, ha="left", fontsize=BOOK_RC["axes.titlesize"])


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
