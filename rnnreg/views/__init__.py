"""Figures (matplotlib) and panels (ipywidgets): what the chapters show. Imports the core and
:mod:`rnnreg.analysis`; nothing in the library imports these.

``style``        the book's plot style and toolkit: sizes, colours, show, to_png, notes, log ticks
``plots``        learning curves, recorded runs, chapter 01's story, the unrolled LSTM, masks, Table 1
``panels``       the shared panel pattern (FigurePanel, pickers, sliders) and chapters 00-02's panels
``signal``       chapter 03's figures and its panel
``equivalence``  chapter 04's figures, tables, answer text and panels
``zoo``          chapter 05's figures and panels

``from rnnreg import views`` then ``views.panels.TrainingPanel(...)``: each submodule is
imported on first use.
"""
import importlib

__all__ = ["equivalence", "panels", "plots", "signal", "style", "zoo"]


def __getattr__(name: str):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *__all__])
