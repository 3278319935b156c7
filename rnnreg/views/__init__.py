"""Figures (matplotlib) and panels (ipywidgets): what the chapters show. Imports the core and
:mod:`rnnreg.analysis`; nothing in the library imports these.

``style``        the book's plot style and toolkit: sizes, colours, show, to_png, notes, log ticks
``plots``        learning curves, recorded runs, chapter 01's story, masks over time
``diagrams``     the unrolled LSTM with each scheme's sites, the LSTM cell, the paper's Figure 3 path
``panels``       the shared panel pattern (FigurePanel, pickers, sliders) and chapters 01-02's panels
``signal``       chapter 03's figures and its panel
``equivalence``  chapter 04's figures and panels
``zoo``          chapter 05's figures and panels

``from rnnreg import views`` then ``views.panels.TrainingPanel(...)``: each submodule is
imported on first use.
"""

from .. import lazy_submodules

__all__ = ["diagrams", "equivalence", "panels", "plots", "signal", "style", "zoo"]
__getattr__, __dir__ = lazy_submodules(__name__, __all__)
