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
__version__ = "0.1.0"
