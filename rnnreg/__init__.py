"""rnnreg: a study book on Zaremba, Sutskever & Vinyals (2014), "Recurrent Neural Network Regularization".

Floors (each imports only those below it): ``data`` -> ``model`` -> ``train`` -> analysis
modules and the CLI -> ``plots``/``widgets`` -> the notebooks in ``book/``. The bottom floors
need only PyTorch and the standard library, so training runs on a bare GPU box.
"""
__version__ = "0.1.0"
