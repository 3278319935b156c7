"""rnnreg: a study book on Zaremba, Sutskever & Vinyals (2014), "Recurrent Neural Network Regularization".

Floors (each imports only those below it; ``tests/test_floors.py`` checks it):

- the core, flat in ``rnnreg/``: ``data``, ``model``, ``train``, ``runfolder``, ``live``, ``bench``,
  ``published`` (every number quoted from the literature) and the CLI ``__main__``. PyTorch and
  the standard library only, so training runs on a bare GPU box; the CLI imports
  :mod:`rnnreg.analysis` modules lazily, inside the commands that need them;
- :mod:`rnnreg.analysis`: numbers and tables (pandas allowed), built on the core;
- :mod:`rnnreg.views`: figures (matplotlib) and panels (ipywidgets), built on both;
- the chapters in ``book/``.
"""

import importlib

__version__ = "0.1.0"


def lazy_submodules(package: str, names: list[str]):
    """``(__getattr__, __dir__)`` for a subpackage whose submodules ``names`` load on first use.

    ``from rnnreg import analysis`` then ``analysis.zoo`` imports ``rnnreg.analysis.zoo`` only
    then, so the command line's ``average`` or ``measure`` does not pull in pandas or matplotlib.
    """

    def __getattr__(name: str):
        if name in names:
            return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted([*vars(importlib.import_module(package)), *names])

    return __getattr__, __dir__
