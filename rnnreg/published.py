"""Every number quoted from the literature, with its source: the one place in the code that holds them.

:data:`REPORTED`: Table 1's single models (Zaremba, Sutskever & Vinyals 2014) and the TensorFlow
tutorial's reproduction; :data:`REPORTED_AVERAGING`: Table 1's model-averaging rows;
:data:`TABLE1_OTHERS`: its rows for other authors' models; :data:`RERUNS`: others' reruns of its recipe;
:data:`FOLLOW_UPS`: the follow-up papers behind the book's schemes. Plain Python (no pandas): the
tables built from them live in :mod:`rnnreg.analysis.runs`.
"""
from __future__ import annotations

#: Sources of the published numbers below (cite these, not this file).
SOURCES = {
    "paper": "Zaremba, Sutskever & Vinyals (2014), arXiv:1409.2329, Table 1",
    "tf": "TensorFlow tutorial tensorflow/models tutorials/rnn/ptb/ptb_word_lm.py (results in its docstring)",
}
SOURCE_LABELS = {"paper": "paper", "tf": "TF tutorial", "here": "this project"}

#: Word-level PTB perplexity of the paper's three single models, as published.
#: ``train`` is only reported by the TensorFlow tutorial. (Table 1's other rows: :data:`REPORTED_AVERAGING`
#: and :data:`TABLE1_OTHERS`.)
REPORTED: tuple[dict, ...] = (
    dict(source="paper", model="small", train=None, valid=120.7, test=114.5),   # non-regularized LSTM
    dict(source="paper", model="medium", train=None, valid=86.2, test=82.7),    # medium regularized LSTM
    dict(source="paper", model="large", train=None, valid=82.2, test=78.4),     # large regularized LSTM
    dict(source="tf", model="small", train=37.99, valid=121.39, test=115.91),
    dict(source="tf", model="medium", train=48.45, valid=86.16, test=82.07),    # lr_decay 0.8, paper 1/1.2
    dict(source="tf", model="large", train=37.87, valid=82.62, test=78.29),
)
#: The paper's names for the three models (Table 1).
MODEL_NAMES = {
    "small": "non-regularized LSTM (2×200)",
    "medium": "medium regularized LSTM (2×650)",
    "large": "large regularized LSTM (2×1500)",
}
MODELS = ("small", "medium", "large")

#: Table 1's model-averaging rows (Zaremba et al. 2014): the probabilities of ``members``
#: independently trained models of one size averaged. ``small`` = "non-regularized LSTMs";
#: ``medium`` / ``large`` = "regularized LSTMs". (Mikolov's and Cheng et al.'s rows: :data:`TABLE1_OTHERS`.)
REPORTED_AVERAGING: tuple[dict, ...] = (
    dict(source="paper", model="small", members=2, valid=100.4, test=96.1),
    dict(source="paper", model="small", members=5, valid=87.9, test=84.1),
    dict(source="paper", model="small", members=10, valid=83.5, test=80.0),
    dict(source="paper", model="medium", members=2, valid=80.6, test=77.0),
    dict(source="paper", model="medium", members=5, valid=76.7, test=73.3),
    dict(source="paper", model="medium", members=10, valid=75.2, test=72.0),
    dict(source="paper", model="large", members=2, valid=76.9, test=73.6),
    dict(source="paper", model="large", members=10, valid=72.8, test=69.5),
    dict(source="paper", model="large", members=38, valid=71.9, test=68.7),
)

#: The rest of Table 1: other authors' models, as the paper lists them (test perplexity only), with
#: the section of the table each sits in (:data:`TABLE1_SECTIONS`).
TABLE1_OTHERS: tuple[dict, ...] = (
    dict(section="single", method="Pascanu et al. (2013)", test=107.5),
    dict(section="single", method="Cheng et al.", test=100.0),
    dict(section="averaging", method="Mikolov (2012)", test=83.5),
    dict(section="averaging", method="Cheng et al.", test=80.6),
    dict(section="dynamic", method="Mikolov & Zweig (2012)", test=72.9),
)
#: Table 1's three sections, in its order. The paper's headings: "A single model", "Model averaging",
#: "Model averaging with dynamic RNNs and n-gram models" (shortened here to fit a slide).
TABLE1_SECTIONS = {"single": "single model", "averaging": "averaging",
                   "dynamic": "+ dynamic RNNs, n-grams"}

#: Others' reruns of the paper's recipe with the TensorFlow tutorial, as reported in its public issue
#: threads (the reference notes, "What reproducers struggle with"): perplexity as (low, high) over
#: ``runs`` runs (None: the thread does not say how many), and what differs from the paper's recipe.
#: The tutorial's own numbers are :data:`REPORTED`'s ``tf`` rows.
RERUNS: tuple[dict, ...] = (
    dict(model="small", source="tensorflow/models PR #2276", runs=None, valid=(120.70, 120.70),
         test=(115.52, 115.52), differs="TF tutorial, BLOCK cell, Titan X"),
    dict(model="medium", source="tensorflow/models #1057", runs=10, valid=(87.3, 87.9), test=(83.55, 83.96),
         differs="TF 1.0 tutorial, lr ÷1.25 per epoch (paper ÷1.2)"),
    dict(model="medium", source="tensorflow/models PR #2276", runs=None, valid=(86.97, 86.97),
         test=(83.47, 83.47), differs="TF tutorial, BLOCK cell, Titan X"),
    dict(model="medium", source="tensorflow/models #2505", runs=None, valid=(87.6, 87.6), test=(84.0, 84.0),
         differs="TF tutorial before its rnn_mode refactor"),
    dict(model="medium", source="tensorflow/models #2505", runs=None, valid=(89.7, 89.7), test=(85.7, 85.7),
         differs="after the refactor: basic cell, one GPU"),
    dict(model="large", source="tensorflow/models PR #2276", runs=None, valid=(82.75, 82.75),
         test=(78.49, 78.49), differs="TF tutorial, BLOCK cell, Titan X"),
)

#: The paper's image-captioning experiment (Table 4, MSCOCO, a one-layer LSTM on frozen CNN features):
#: BLEU of one model without dropout, one with dropout, and the average of ``members`` models without
#: dropout. The paper's "dropout ≈ an ensemble of ten" is this result, not a PTB one. (Its captioning
#: perplexities could not be verified and are not quoted.)
CAPTIONING = dict(source="paper", metric="BLEU", single=23.5, dropout=24.3, ensemble=24.4, members=10)

#: Sources of the follow-up papers' numbers in :data:`FOLLOW_UPS` (separate from :data:`SOURCES`,
#: which names the sources of :data:`REPORTED`).
FOLLOW_UP_SOURCES = {
    "paper": SOURCES["paper"],
    "gal2016": "Gal & Ghahramani (2016), arXiv:1512.05287, Table 1",
    "merity2017": "Merity, Keskar & Socher (2017), arXiv:1708.02182, Tables 1 and 4",
    "melis2017": "Melis, Dyer & Blunsom (2017), arXiv:1707.05589, Table 1",
    "semeniuta2016": "Semeniuta, Severyn & Barth (2016), arXiv:1603.05118",
    "krueger2016": "Krueger et al. (2016), arXiv:1606.01305",
}

#: Word-level PTB perplexity (single models unless said) reported by the papers behind the book's
#: schemes. ``scheme``: the project's scheme that places dropout like the method (None: no single
#: one). ``params``: millions. ``differs``: what differs from the scheme zoo's runs besides the budget
#: (the zoo's is ``rnnreg.analysis.zoo.BUDGET``; these train for tens of epochs on all of PTB).
#: None = no number quoted: the reference notes could not verify it from the paper.
FOLLOW_UPS: tuple[dict, ...] = (
    dict(source="paper", scheme="zaremba", method="Zaremba medium regularized LSTM (2×650)", valid=86.2, test=82.7,
         params=20, differs="the paper's own recipe: dropout 0.5, 39 epochs, full PTB"),
    dict(source="paper", scheme="zaremba", method="Zaremba large regularized LSTM (2×1500)", valid=82.2, test=78.4,
         params=66, differs="dropout 0.65, 55 epochs, full PTB"),
    # Gal & Ghahramani's "tied" LSTM computes the four gates from one matrix, so one mask on x and one on
    # h(t−1) serve all gates: the book's `variational`. "Untied" draws a separate mask per gate.
    dict(source="gal2016", scheme="variational", method="Variational LSTM, medium (tied)", valid=81.8, test=79.7,
         params=20, differs="one mask per sequence on inputs, h(t−1) and outputs, shared by the four gates, plus "
                            "embedding (word) dropout and a small weight decay; test ±0.1 as reported"),
    dict(source="gal2016", scheme=None, method="Variational LSTM, medium (untied)", valid=81.9, test=79.7,
         params=20, differs="as the tied model, but a separate mask per gate (`variational` here is the tied form)"),
    dict(source="gal2016", scheme="variational", method="Variational LSTM, large (tied)", valid=77.3, test=75.0,
         params=66, differs="dropout 0.3 on x, h and 0.5 on i, o; weight decay 1e-7; test ±0.1 as reported"),
    dict(source="gal2016", scheme=None, method="Variational LSTM, large (untied)", valid=77.9, test=75.2,
         params=66, differs="as the tied large model, but a separate mask per gate (`variational` here is "
                            "tied); test ±0.2 as reported"),
    dict(source="gal2016", scheme="variational", method="Variational LSTM, large (tied), MC dropout",
         valid=None, test=74.1, params=66, differs="prediction averages 1000 passes with dropout masks on"),
    dict(source="gal2016", scheme=None, method="Variational LSTM, large (untied), MC dropout",
         valid=None, test=73.4, params=66,
         differs="untied (not `variational` here), prediction averages 1000 passes with masks on"),
    dict(source="merity2017", scheme="weight_drop", method="AWD-LSTM (3 layers, tied weights)", valid=60.0, test=57.3,
         params=24, differs="DropConnect 0.5 on W_hh plus locked dropout, embedding dropout, tied weights, "
                            "3 layers 400/1150/400, NT-ASGD, AR/TAR, variable BPTT, weight decay, finetuning"),
    dict(source="merity2017", scheme=None, method="AWD-LSTM without weight drop (ablation)", valid=71.1, test=68.9,
         params=24, differs="as above with DropConnect on W_hh removed: what weight drop adds in that recipe"),
    dict(source="melis2017", scheme="variational", method="Melis et al. tuned LSTM, 4 layers", valid=60.9, test=58.3,
         params=24, differs="large black-box hyperparameter search; variational dropout, shared embeddings, "
                            "skip connections"),
    dict(source="semeniuta2016", scheme=None, method="Recurrent dropout without memory loss", valid=None,
         test=None, params=None, differs="drops only the cell update g(t), never c(t−1): the opposite of `memory` "
                                         "here (which drops c(t−1), the memory loss they warn of); PTB numbers "
                                         "not verified, not quoted"),
    dict(source="krueger2016", scheme="zoneout", method="Zoneout", valid=None, test=None, params=None,
         differs="best z_c = 0.5, z_h = 0.05 (the values the zoo uses); word-level PTB numbers not "
                "verified, not quoted"),
)


def reported(model: str, source: str = "paper") -> dict:
    """The published numbers of one model from one source (``paper`` or ``tf``)."""
    for row in REPORTED:
        if row["model"] == model and row["source"] == source:
            return dict(row)
    raise KeyError(f"no reported numbers for model {model!r} from {source!r}")
