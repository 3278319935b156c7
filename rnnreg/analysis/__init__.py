"""Numbers and tables: what the chapters compute from the model, the recorded runs and the
published numbers (pandas allowed; no matplotlib, no ipywidgets). Imports the core only.

``runs``         recorded runs under results/ as tables, beside the published numbers; Table 1
``schemes``      where each scheme puts its masks, as data; masks met on a path
``signal``       chapter 03: signal decay, analytic / simulated / measured in trained models
``signal_runs``  chapter 03's recorded measurements (signal.json, mask_noise.json) as tables and per-scheme claims
``equivalence``  chapter 04: candidate equivalent sizes, the size x dropout grid, the alpha fit
``zoo``          chapter 05: the scheme zoo's runs as tables, beside the published follow-ups
``averaging``    model averaging (Table 1's ensembles) and MC dropout

``from rnnreg import analysis`` then ``analysis.zoo.load_zoo()``: each submodule is imported on
first use, so the command line's ``average`` or ``measure`` does not pull in pandas.
"""

from .. import lazy_submodules

__all__ = ["averaging", "equivalence", "runs", "schemes", "signal", "signal_runs", "zoo"]
__getattr__, __dir__ = lazy_submodules(__name__, __all__)
