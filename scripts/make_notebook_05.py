"""Write book/05_schemes_after_zaremba.ipynb (unexecuted), with the same cell helpers and metadata
as chapters 00-02 (``scripts/make_notebooks.py``). Then execute it in place:

    .venv/bin/python scripts/make_notebook_05.py
    nice -n 10 .venv/bin/jupyter nbconvert --to notebook --execute --inplace \\
        --ExecutePreprocessor.record_timing=False book/05_schemes_after_zaremba.ipynb

Cells whose output changes when more runs land (seed 2 of the zoo, ``results/ptb/averaging/small.json``,
chapter 04's grid) are not checked by nbval; ``CHECK_WHEN_COMPLETE`` lists them by their first code
line, and ``--final`` marks them once those runs are recorded.
"""
from __future__ import annotations

import sys
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_notebooks import code, md, notebook, write_chapter  # noqa: E402

NAME = "05_schemes_after_zaremba.ipynb"
#: Cells (by their first code line) that print numbers of runs still to come: check them with nbval
#: once seed 2 of the zoo and the averaging result are recorded (``--final``).
CHECK_WHEN_COMPLETE = ("zoo = Z.load_zoo()", "Z.pretty(Z.scheme_table(zoo, bench))", "Z.literature_table(zoo)",
                       "avg = Z.load_averaging()", "runs.pretty(Z.averaging_table(avg))", "Markdown(Z.answer(")

SETUP = """\
%matplotlib inline
import pandas as pd
from IPython.display import Markdown
from rnnreg import plots, plots_zoo as PZ, runs, widgets_zoo as WZ, zoo as Z

plots.use_book_style()
pd.set_option("display.width", 200)
pd.set_option("display.max_columns", 20)
pd.set_option("display.max_colwidth", None)"""


def chapter(final: bool = False):
    def data(src: str, slide: str = "-"):
        """A cell showing numbers of runs still to come: checked only once they are recorded (``final``)."""
        return code(src, slide, checked=final)

    return notebook([
        md("""
# 05 — Dropout schemes after Zaremba

**Question.** Which placement of dropout wins when every scheme gets the same model and the same
training budget — and does the winner agree with what the follow-up papers report?

After 2014, dropout moved onto the recurrent path in several ways: one mask per sequence on
h(t−1) (Gal & Ghahramani 2016), DropConnect on the recurrent weights (Merity et al. 2017), units
that keep their old value instead of being zeroed (zoneout, Krueger et al. 2016). The papers
report their numbers at their own, much larger budgets. Here all seven schemes of chapter 02 are
trained under identical conditions, with two seeds each, and the published numbers are set beside
them with what differs. At the end: the paper's Table 1, as far as it is reproduced here, and its model averaging.
""", "slide"),
        code(SETUP, "skip"),
        md("""
## The zoo: one budget for every scheme

`scripts/run_zoo.sh` trains one model per scheme, recorded under `results/ptb/zoo/<scheme>-seed<k>/`
(config, per-epoch log, summary with provenance):

- the paper's small shape: 2 layers × 200 units, 20 unrolled steps, init ±0.1, gradient clip 5;
- dropout **p = 0.5** on every site the scheme has (`none`: 0; `zoneout` keeps h / c with
  probability 0.05 / 0.5) — **not tuned per scheme**. The plan was to tune p lightly per scheme
  on the validation split; that was not done, so each scheme runs at a rate that may not suit it;
- the **first 300,000 PTB training tokens** (a third of the corpus), **6 epochs**, learning rate 1
  for three epochs, then halved each epoch;
- validation and test perplexity on the **full** splits; test with batch 1, one sequential pass
  (the paper's protocol).

This is a small budget: about 1.8 million training tokens seen, against roughly 36 million for the
paper's medium model (39 epochs of 929k tokens).
""", "slide"),
        data("""
zoo = Z.load_zoo()
bench = Z.load_bench()
print(Z.status_text(zoo))"""),
        md("""
## All schemes, one table

Per scheme (mean over complete seeds; *spread* = max − min over seeds, or “one seed”):
validation perplexity of the last epoch, test perplexity, training perplexity of the last epoch,
the gap valid − train, and the training speed from the benchmark.

**Read the train column with care.** It is the running average of the training loss over the
epoch, *with dropout on* (for `none`, off). A dropout model's training perplexity is therefore that
of a noisy, thinned network — not the fit of the network used at test time — and the gap
valid − train is small partly for that reason.
""", "slide"),
        data("Z.pretty(Z.scheme_table(zoo, bench))"),
        code("plots.show(PZ.plot_schemes(zoo, bench))", "subslide"),
        md("""
**Reading.** The answer at the end of the chapter reads the numbers off; in words: `zaremba`
leads and `none` comes next; every scheme that drops on the recurrent path (`everywhere`, `memory`,
`variational`, `weight_drop`, `zoneout`) ends behind both, and these are also the schemes with the
highest training perplexity: they learn more slowly. `none` fits its training text far better than
any dropout model, yet ends only a few points behind `zaremba`: on this budget over-fitting has only
begun. Each scheme's two seeds end within two points of each other (the *spread* columns), closer
than most gaps between schemes.
""", "fragment"),
        md("""
### Speed

Training tokens per second at the small shape on this machine's 2 CPU cores, from the benchmark
(`results/bench/cpu.json`, `python -m rnnreg bench`), against a plain PyTorch reference
(`nn.LSTM`, as in pytorch/examples). The zoo's own logs also record tokens/s, but those runs
shared the machine with other jobs, so their timings are not comparable across schemes.
""", "subslide"),
        code("Z.speed_table(bench)", checked=True),
        code("Markdown(Z.speed_text(bench))", checked=True),
        md("""
At equal wall-clock time rather than equal epochs, that cost would widen the gaps above a little.
""", "fragment"),
        md("""
## Curves over epochs

Pick schemes (ctrl/shift-click) and what to show: train (dashed) and valid (solid), either alone,
or the gap valid − train. Every recorded seed is drawn; the line above the figure gives each
chosen run's last epoch.
""", "slide"),
        code("""
curves = WZ.ZooCurves(zoo, schemes=("none", "zaremba", "everywhere", "variational"), metric="both")
display(curves)"""),
        md("""
### Try

- **valid − train** with `none` and `zaremba`: `none`'s gap opens from epoch 3 on; the dropout
  models' gap stays negative for about three epochs: the training average covers the whole epoch,
  while the model improves during it (validation is measured at the end), and with dropout on.
- **valid** with all seven: which curves are still falling at epoch 6? A model still improving
  when training stops is ranked by how fast it learns, not by where it would end.
- **train** with `zaremba`, `everywhere`, `variational`: from epoch 2 on, the schemes with noise on
  the recurrent path have the higher training perplexity.
""", "fragment"),
        md("""
## What the papers report

The follow-up papers' word-level PTB numbers (single models unless noted), with what differs from
the zoo beyond the budget. Every number is from the paper named in the last column, as checked in
the book's reference notes; where those notes could not verify a number (zoneout; Semeniuta et
al.'s recurrent dropout), none is quoted.
""", "slide"),
        code("""
runs.pretty(runs.follow_ups_table())""", checked=True),
        md("""
**What differs, in short.** The published models have 20–66 M parameters (the zoo's: 4.7 M), train
for tens of epochs on all of PTB, and choose their rates per model and site (Gal & Ghahramani's
large model: 0.3 on x and h, 0.5 on i and o, in their notation; Zaremba's large: 0.65). AWD-LSTM changes much more than the
dropout placement — tied weights, three layers, a different optimizer, activation regularization —
so its 57.3 is not a weight-drop result alone; its own ablation without weight drop gives 68.9.
Note the `memory` scheme here drops c(t−1), the “memory loss” Semeniuta et al. warn against; their
proposal drops only the cell update.
""", "fragment"),
        code("plots.show(PZ.plot_literature(zoo))", "subslide"),
        md("The same, one scheme at a time, with this project's result for it:", "subslide"),
        code("""
papers = WZ.SchemeVsPapers(zoo, scheme="variational")
display(papers)"""),
        md("Published numbers with this project's zoo result of the same scheme beside them (levels not "
           "comparable; the order is):", "fragment"),
        data("Z.literature_table(zoo)"),
        md("""
## Table 1, as far as it is reproduced here

Chapter 02's comparison of single models: the paper, the TensorFlow tutorial, and the runs
recorded here (`results/ptb/<model>`).
""", "slide"),
        code("""
table1 = runs.table1()
runs.pretty(table1)""", checked=True),
        code("plots.show(plots.plot_table1(table1))", "subslide"),
        md("""
The small, non-regularized model is reproduced. The **medium and large regularized models — the
rows where the paper's dropout does its work — have not been run here**: no GPU was available to
this project, and its two CPU cores went to the zoo and chapter 04's grid. At the benchmark's
2,000 tokens/s the medium model's 39 epochs are 5–6 hours of training on two free cores; the large
model (2×1500, 55 epochs) would take more than a day. A reader with a GPU records them with the
commands below; `runs.table1()` and the figure above pick
them up when the notebook is run again.
""", "fragment"),
        code("""
for model in ("medium", "large"):
    print(runs.train_command(model))""", checked=True),
        md("""
## Model averaging

Table 1 also averages the *probabilities* of several independently trained models. For the
non-regularized small model the paper reports:
""", "slide"),
        code('runs.reported_averaging("small")', checked=True),
        md("""
Ten averaged non-regularized models (test 80.0) come close to one medium regularized model
(82.7) — the paper's way of saying that one regularized model buys about what an ensemble of ten
unregularized ones buys. Here the experiment averages the recorded small runs
(`results/ptb/small`, `results/ptb/small-seed2`, …) with `python -m rnnreg average`:
""", "fragment"),
        data("""
avg = Z.load_averaging()
Markdown(Z.averaging_text(avg))"""),
        data("runs.pretty(Z.averaging_table(avg))", "subslide"),
        code("plots.show(PZ.plot_averaging(avg))"),
        md("""
## Answer

Read off the recorded zoo by `zoo.answer` (the numbers below are the data's, not the author's).
For scale it uses the seed-to-seed spread of one configuration that has been recorded with several
seeds (chapter 04's 2×50 model without dropout).
""", "slide"),
        data("Markdown(Z.answer(zoo, Z.seed_reference()))"),
        md("""
## Summary

- At one common small budget (2×200, 300k tokens, 6 epochs, p = 0.5 untuned) Zaremba's placement —
  dropout on the non-recurrent connections only — has the lowest validation and test perplexity of
  the seven schemes in both seeds, and every scheme that drops on the recurrent path ends behind it
  and behind no dropout at all.
- Two seeds per scheme land within two points of each other, so the margins of four points and more
  hold across the seeds recorded; two seeds are suggestive, not a test (chapter 04's 2×50 model
  spread over 2 % across five seeds).
- The published order (variational ahead of Zaremba; AWD-LSTM far ahead) is not reproduced here,
  and this budget cannot test it: the dropout models are still improving at the last epoch, the
  published models are 4–14× larger and trained for far longer, and their rates were chosen per site.
- Table 1: the small model is reproduced (chapter 02); medium, large and the ensembles need a GPU
  or more seeds and are not yet recorded here.
""", "slide"),
        md("""
## Exercises

1. In the curves panel, compare `variational` with `zaremba` on **train**. By how much is the
   running training perplexity higher at each epoch? Does the ratio shrink over the six epochs?
2. Run a third seed of two neighbouring schemes — `SCHEMES="zaremba everywhere" scripts/run_zoo.sh 3`
   (about 25 minutes on 2 cores) — and re-execute the notebook. Does the answer's verdict on
   separating them change?
3. Tune p lightly for one recurrent scheme: train `variational` with `--dropout 0.3` at the zoo's
   budget (the command in `results/ptb/zoo/variational-seed1/summary.json`, with a new `--out`).
   Does it overtake `zaremba`? Choose on validation, then report test once.
4. Train `none` and `zaremba` for 12 epochs instead of 6 (`--epochs 12`). Where does `none`'s
   validation perplexity turn upward, and does `zaremba`'s lead grow?
5. From `runs.FOLLOW_UPS`: how much of AWD-LSTM's gain over Zaremba's large model does its own
   ablation attribute to weight drop?

## Discussion questions

- A ranking at a budget where the models are still improving mixes speed of learning with final
  quality. Which one does a practitioner with a fixed compute budget care about?
- Gal & Ghahramani's variational dropout beats Zaremba's placement at 20M and 66M parameters. What
  would you need to see here before concluding that it loses at 4.7M?
- AWD-LSTM changed the placement *and* a dozen other things at once. How would you design the
  experiment that isolates the placement?
- The paper equates one regularized model with an ensemble of ten unregularized ones. Is that a
  statement about dropout as an implicit ensemble, or only about perplexity per test-time FLOP?
""", "subslide"),
    ], "05 — Dropout schemes after Zaremba")


def main(argv):
    write_chapter(NAME, chapter(final="--final" in argv))


if __name__ == "__main__":
    main(sys.argv[1:])
