"""Every number quoted from the literature, with its source: the one place in the code that holds them.
Each table is a tuple of dicts, one row a line; :mod:`rnnreg.analysis.runs` builds tables from them."""

from __future__ import annotations


def _table(columns: str, *rows: tuple) -> tuple[dict, ...]:
    """Rows as dicts keyed by ``columns`` (space-separated)."""
    return tuple(dict(zip(columns.split(), row, strict=True)) for row in rows)


def _value(cell: str):
    """A cell of :func:`_text_table`: ``-`` is None, a number an int or float, else text."""
    try:
        return None if cell == "-" else int(cell) if cell.isdigit() else float(cell)
    except ValueError:
        return cell


def _text_table(columns: str, *rows: str) -> tuple[dict, ...]:
    """Rows as text, cells separated by `` | ``."""
    return _table(columns, *(tuple(_value(cell.strip()) for cell in row.split(" | ")) for row in rows))


#: Sources of the published numbers below (cite these, not this file).
SOURCES = {
    "paper": "Zaremba, Sutskever & Vinyals (2014), arXiv:1409.2329, Table 1",
    "tf": "TensorFlow tutorial tensorflow/models tutorials/rnn/ptb/ptb_word_lm.py (results in its docstring)",
}

#: Word-level PTB perplexity of Table 1's three single models; ``train`` only from the TF tutorial.
REPORTED = _table(
    "source model train valid test",
    ("paper", "small", None, 120.7, 114.5),  # non-regularized LSTM
    ("paper", "medium", None, 86.2, 82.7),  # medium regularized LSTM
    ("paper", "large", None, 82.2, 78.4),  # large regularized LSTM
    ("tf", "small", 37.99, 121.39, 115.91),
    ("tf", "medium", 48.45, 86.16, 82.07),  # lr_decay 0.8, paper 1/1.2
    ("tf", "large", 37.87, 82.62, 78.29),
)
#: The paper's names for the three models (Table 1).
MODEL_NAMES = dict(
    small="non-regularized LSTM (2×200)",
    medium="medium regularized LSTM (2×650)",
    large="large regularized LSTM (2×1500)",
)
MODELS = ("small", "medium", "large")

#: Table 1's model-averaging rows: the probabilities of ``members`` models of one size averaged.
REPORTED_AVERAGING = _table(
    "source model members valid test",
    ("paper", "small", 2, 100.4, 96.1),
    ("paper", "small", 5, 87.9, 84.1),
    ("paper", "small", 10, 83.5, 80.0),
    ("paper", "medium", 2, 80.6, 77.0),
    ("paper", "medium", 5, 76.7, 73.3),
    ("paper", "medium", 10, 75.2, 72.0),
    ("paper", "large", 2, 76.9, 73.6),
    ("paper", "large", 10, 72.8, 69.5),
    ("paper", "large", 38, 71.9, 68.7),
)

#: The rest of Table 1: other authors' models (test perplexity only), by section (:data:`TABLE1_SECTIONS`).
TABLE1_OTHERS = _table(
    "section method test",
    ("single", "Pascanu et al. (2013)", 107.5),
    ("single", "Cheng et al.", 100.0),
    ("averaging", "Mikolov (2012)", 83.5),
    ("averaging", "Cheng et al.", 80.6),
    ("dynamic", "Mikolov & Zweig (2012)", 72.9),
)
#: Table 1's three sections, in its order (headings shortened to fit a slide).
TABLE1_SECTIONS = {"single": "single model", "averaging": "averaging", "dynamic": "+ dynamic RNNs, n-grams"}

#: Others' reruns of the recipe with the TF tutorial, from its issue threads (the reference notes): perplexity
#: as (low, high) over ``runs`` runs (None: not said), and what differs from the paper's recipe.
_TF = "tensorflow/models "
RERUNS = _table(
    "model source runs valid test differs",
    ("small", _TF + "PR #2276", None, (120.70, 120.70), (115.52, 115.52), "TF tutorial, BLOCK cell, Titan X"),
    ("medium", _TF + "#1057", 10, (87.3, 87.9), (83.55, 83.96), "TF 1.0 tutorial, lr ÷1.25 per epoch (paper ÷1.2)"),
    ("medium", _TF + "PR #2276", None, (86.97, 86.97), (83.47, 83.47), "TF tutorial, BLOCK cell, Titan X"),
    ("medium", _TF + "#2505", None, (87.6, 87.6), (84.0, 84.0), "TF tutorial before its rnn_mode refactor"),
    ("medium", _TF + "#2505", None, (89.7, 89.7), (85.7, 85.7), "after the refactor: basic cell, one GPU"),
    ("large", _TF + "PR #2276", None, (82.75, 82.75), (78.49, 78.49), "TF tutorial, BLOCK cell, Titan X"),
)

#: The paper's image captioning (Table 4, MSCOCO): BLEU of one model without dropout, one with, and the
#: average of ``members`` without. Its "dropout ≈ an ensemble of ten" is this result, not a PTB one.
CAPTIONING = dict(source="paper", metric="BLEU", single=23.5, dropout=24.3, ensemble=24.4, members=10)

#: Sources of the follow-up papers' numbers in :data:`FOLLOW_UPS`.
FOLLOW_UP_SOURCES = {
    "paper": SOURCES["paper"],
    "gal2016": "Gal & Ghahramani (2016), arXiv:1512.05287, Table 1",
    "merity2017": "Merity, Keskar & Socher (2017), arXiv:1708.02182, Tables 1 and 4",
    "melis2017": "Melis, Dyer & Blunsom (2017), arXiv:1707.05589, Table 1",
    "semeniuta2016": "Semeniuta, Severyn & Barth (2016), arXiv:1603.05118",
    "krueger2016": "Krueger et al. (2016), arXiv:1606.01305",
}

#: Word-level PTB perplexity reported by the papers behind the book's schemes. ``scheme``: the project's
#: scheme that places dropout like the method (None: none). ``params``: millions. ``differs``: what differs
#: from the zoo's runs besides the budget. ``-``: not verified, not quoted. Gal & Ghahramani's "tied" LSTM
#: shares one mask on x and one on h(t−1) by all gates (the book's `variational`); "untied" has one per gate.
FOLLOW_UPS = _text_table(
    "source scheme method valid test params differs",  # a row: a string, continued on the next lines till its comma
    "paper | zaremba | Zaremba medium regularized LSTM (2×650) | 86.2 | 82.7 | 20 | "
    "the paper's own recipe: dropout 0.5, 39 epochs, full PTB",
    "paper | zaremba | Zaremba large regularized LSTM (2×1500) | 82.2 | 78.4 | 66 | dropout 0.65, 55 epochs, full PTB",
    "gal2016 | variational | Variational LSTM, medium (tied) | 81.8 | 79.7 | 20 | one mask per sequence on inputs, "
    "h(t−1) and outputs, shared by the four gates, plus embedding (word) dropout and a small weight decay; "
    "test ±0.1 as reported",
    "gal2016 | - | Variational LSTM, medium (untied) | 81.9 | 79.7 | 20 | "
    "as the tied model, but a separate mask per gate (`variational` here is the tied form)",
    "gal2016 | variational | Variational LSTM, large (tied) | 77.3 | 75.0 | 66 | "
    "dropout 0.3 on x, h and 0.5 on i, o; weight decay 1e-7; test ±0.1 as reported",
    "gal2016 | - | Variational LSTM, large (untied) | 77.9 | 75.2 | 66 | "
    "as the tied large model, but a separate mask per gate (`variational` here is tied); test ±0.2 as reported",
    "gal2016 | variational | Variational LSTM, large (tied), MC dropout | - | 74.1 | 66 | "
    "prediction averages 1000 passes with dropout masks on",
    "gal2016 | - | Variational LSTM, large (untied), MC dropout | - | 73.4 | 66 | "
    "untied (not `variational` here), prediction averages 1000 passes with masks on",
    "merity2017 | weight_drop | AWD-LSTM (3 layers, tied weights) | 60.0 | 57.3 | 24 | DropConnect 0.5 on W_hh "
    "plus locked dropout, embedding dropout, tied weights, 3 layers 400/1150/400, NT-ASGD, AR/TAR, variable BPTT, "
    "weight decay, finetuning",
    "merity2017 | - | AWD-LSTM without weight drop (ablation) | 71.1 | 68.9 | 24 | "
    "as above with DropConnect on W_hh removed: what weight drop adds in that recipe",
    "melis2017 | variational | Melis et al. tuned LSTM, 4 layers | 60.9 | 58.3 | 24 | "
    "large black-box hyperparameter search; variational dropout, shared embeddings, skip connections",
    "semeniuta2016 | - | Recurrent dropout without memory loss | - | - | - | drops only the cell update g(t), never "
    "c(t−1): the opposite of `memory` here (which drops c(t−1), the memory loss they warn of); PTB numbers "
    "not verified, not quoted",
    "krueger2016 | zoneout | Zoneout | - | - | - | best z_c = 0.5, z_h = 0.05 (the values the zoo uses); "
    "word-level PTB numbers not verified, not quoted",
)


def reported(model: str, source: str = "paper") -> dict:
    """The published numbers of one model from one source (``paper`` or ``tf``)."""
    for row in REPORTED:
        if row["model"] == model and row["source"] == source:
            return dict(row)
    raise KeyError(f"no reported numbers for model {model!r} from {source!r}")
