"""Write book/04_dropout_vs_smaller_model.ipynb (unexecuted), with the same cell helpers and
metadata as chapters 00-02 (``scripts/make_notebooks.py``). Then execute it in place:

    .venv/bin/python scripts/make_notebook_04.py
    nice -n 10 .venv/bin/jupyter nbconvert --to notebook --execute --inplace \\
        --ExecutePreprocessor.record_timing=False book/04_dropout_vs_smaller_model.ipynb

While the grid (``results/ptb/grid``) is still training, only cells whose output cannot change are
checked by nbval; see ``CHECK_WHEN_COMPLETE`` for the cells to check once it is complete
(``--final`` marks them).
"""
from __future__ import annotations

import sys
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_notebooks import code, md, notebook, write_chapter  # noqa: E402

NAME = "04_dropout_vs_smaller_model.ipynb"
#: Cells (by their first code line) that print numbers read off the grid / inference.json: check
#: them with nbval once the grid and inference.json are complete (``--final``).
CHECK_WHEN_COMPLETE = ("print(PE.status_text(grid, markdown=False))", 'PE.grid_table(grid, "valid_ppl")',
                       'PE.grid_table(grid, "train_eval_ppl")', "train_eq = ", "valid_eq = ",
                       "PE.inference_table(inference)", "Markdown(PE.answer(")

SETUP = """\
%matplotlib inline
import pandas as pd
from IPython.display import Markdown
from rnnreg import equivalence, plots, plots_equivalence as PE, widgets_equivalence as WE

plots.use_book_style()
pd.set_option("display.width", 200)
pd.set_option("display.max_columns", 20)"""


def chapter(final: bool = False):
    def data(src: str, slide: str = "-"):
        """A cell showing grid numbers: checked only once the grid is complete (``final``)."""
        return code(src, slide, checked=final)

    def metric_cells(name: str, metric: str) -> list:
        """The figure, the fit (checked once the grid is complete) and the table of one metric."""
        return [code(f'plots.show(PE.plot_equivalent_size(grid, "{metric}"))'),
                data(f"""
{name} = PE.equivalence_frame(grid, "{metric}")
print(PE.fit_text({name}, "{metric}"))""", "subslide"),
                code(f'PE.equivalence_display({name}, "{metric}")')]

    return notebook([
        md("""
# 04 — Dropout vs a smaller model: is there an equivalence?

**Question.** Is an LSTM of N units trained with dropout rate p *equivalent* to a smaller LSTM of
N_eq units trained without dropout — and if so, what is N_eq?

The blog review that seeded this book ends on exactly this question:

> “Is there a model of size X that is equivalent to some larger model of size Y with dropout Z?
> Naively, a vector of size N can have N * N dependencies. During dropout, the representational
> capacity is something less than N * N. Solve for the equivalence.”

and adds the catch: “during inference you have all neurons present.” We first count (theory),
then measure (a grid of trained models), then look at inference.
""", "slide"),
        code(SETUP, "skip"),
        md("""
## Theory: five ways to count what a mask leaves

For one layer of N units at drop rate p, write every candidate as $N_{eq} = N(1-p)^{\\alpha}$:

| candidate | what survives a mask | $N_{eq}$ | α |
|---|---|---|---|
| units | $N(1-p)$ units | $N(1-p)$ | 1 |
| pairs (the seed's $N\\cdot N$) | $N^2(1-p)^2$ unit pairs | $N(1-p)$ | 1 |
| pairs under `zaremba` | $W_{ih}$: $N^2(1-p)$, $W_{hh}$: all $N^2$ | $N\\sqrt{1-p/2}$ | ≈ 0.2 |
| weights of the LM under `zaremba` | weights whose input unit survives (embedding, $W_{ih}$, softmax) | solve count($N_{eq}$, 0) = count(N, p) | 1 → 0.4 as N grows |
| test time | every unit (weight scaling) | $N$ | 0 |

- **Units and the seed's pairs agree.** A pair survives only when both of its units do, so
  $N_{eq}^2 = N^2(1-p)^2$: counting dependencies gives the same $N(1-p)$ as counting units.
- **Under `zaremba` the recurrent weights are never masked** (Chapter 02): only the input of each
  layer and of the softmax is dropped. Of the $2N^2$ pairs of a layer, $N^2(1-p) + N^2$ survive.
- Counting *weights* of the whole language model brings in the embedding and softmax
  ($2 \\cdot 10{,}000 \\cdot N$), which are masked, and the biases, which are not.
- **At test time** nothing is dropped: the model *is* N units wide.
""", "slide"),
        md("Move N and p: the table gives each candidate with the parameters and multiply-accumulates "
           "per token of an LSTM LM that size (2 layers, 10k vocabulary).", "subslide"),
        code("""
theory = WE.TheoryPanel(hidden_size=200, dropout=0.5)
display(theory)"""),
        md("""
### Try

- p → 0.8 at N = 200: “pairs under `zaremba`” stays above $N\\sqrt{0.6} \\approx 0.77N$.
- N 10 → 1500 at p = 0.5: the LM's weight count moves from the units line toward the
  `zaremba` pairs line as the recurrent weights ($8N^2$) outgrow the embedding and softmax ($2VN$).
""", "fragment"),
        md("The same counts at the paper's three models (Table 1 validation perplexity beside them):",
           "subslide"),
        code("PE.paper_table()", checked=True),
        md("""
**Reading.** The counts disagree by up to a factor of 2.9 (the large model: 525 units by the
unit count, 1500 at test time). The paper trained no undropped model of 325–1500 units to compare
with; its only undropped model, the small 2×200, already fits its training text far better than
validation text (TensorFlow tutorial run of the same recipe: train 38.0, valid 121.4). Counting
proposes candidates; the grid measures.
""", "fragment"),
        md("""
## The grid: hidden size × dropout rate

Each cell is one recorded run under `results/ptb/grid/h<N>-p<rate>-seed1/` (config, per-epoch log,
summary with provenance): 2 layers of N ∈ {5, 10, 25, 50, 100, 200} units, `zaremba` dropout
p ∈ {0, 0.2, 0.35, 0.5, 0.65}, the paper's small recipe (20 steps, init 0.1, clip 5, learning rate 1
halved each epoch from epoch 4), trained on **the first 100,000 PTB training tokens for 6 epochs**,
seed 1 (`rnnreg.equivalence.GRID`). For each cell:

- **train perplexity in evaluation mode** — the training slice read with all units present: how
  well the *full* network fits what it was trained on (our working meaning of “capacity”);
- **valid perplexity** on the full validation split, and the **gap** valid / train.
""", "slide"),
        data("""
grid = PE.load()
print(PE.status_text(grid, markdown=False))"""),
        code("plots.show(PE.plot_heatmaps(grid))", "subslide"),
        md("""
Read a **column** (fixed N, p rising): how much training fit does dropout cost at that size?
Read the **gap**: does dropout shrink it, and does it buy a lower validation perplexity? The same
numbers against size:
""", "fragment"),
        code("plots.show(PE.plot_vs_size(grid))", "subslide"),
        md("Validation perplexity (rows p, columns N; blank = not yet recorded):", "subslide"),
        data('PE.grid_table(grid, "valid_ppl")'),
        md("…and training perplexity in evaluation mode:", "fragment"),
        data('PE.grid_table(grid, "train_eval_ppl")'),
        md("""
## Equivalent size, measured

For a dropout cell with perplexity $y$, $N_{eq}$ is the undropped size with the same perplexity,
interpolated along the p = 0 row in log N / log perplexity (`equivalence.equivalent_size`). Then
$\\alpha = \\log(N_{eq}/N) / \\log(1-p)$, fitted over all cells as a line through the origin
(`equivalence.fit_alpha`, with its standard error). A cell has **no** equivalent when its
perplexity lies outside the p = 0 row: worse than the smallest undropped model (N_eq below the
grid), or better than every one of them.
""", "slide"),
        md("Pick a rate and a metric: each arrow runs from a dropout cell to the undropped size that "
           "matches it.", "subslide"),
        code("""
reader = WE.EquivalencePanel(grid, dropout=0.5, metric="train_eval_ppl")
display(reader)"""),
        md("### Fit: training perplexity (eval mode)", "subslide"),
        *metric_cells("train_eq", "train_eval_ppl"),
        md("""
**How to read α.** α = 1: the dropout model fits like the units a mask leaves (the seed's count);
α = 0: like its full size; α > 1: worse than either count. Two cautions. Cells *below* the grid
(a dropout model worse than the smallest undropped one) drop out of the fit, and they are the
cells that lose most, so the fitted α understates the loss there. And 6 epochs on 100,000 tokens
measure capacity and speed of learning together: a noisy model also learns more slowly.
""", "fragment"),
        md("### Generalisation: validation perplexity", "subslide"),
        *metric_cells("valid_eq", "valid_ppl"),
        md("""
On validation text the p = 0 row is used only up to its best size (beyond it, bigger undropped
models over-fit). A cell “better than every undropped model” has **no** smaller equivalent at
all: that is the finding the seed's framing cannot express — dropout then does something no
undropped model of any measured size does.
""", "fragment"),
        md("""
## At inference all units are present

The seed's caveat, measured on the grid's 2×200, p = 0.5 model (`equivalence.INFERENCE_CELL`):

- **weight scaling** — the standard prediction: all units, no masks (inverted dropout already
  scaled the training activations);
- **MC dropout** — average the *probabilities* of S passes with training masks on
  (`averaging.mc_dropout_log_probs`), i.e. average over the “smaller models” the masks sample;
- **an ensemble** of 5 undropped 2×50 models (`equivalence.ENSEMBLE`, seeds 1–5): 5 × 1.05M =
  5.25M parameters, about the 4.65M of one 2×200 model — smaller models, averaged explicitly.
""", "slide"),
        code("""
inference = PE.load_inference()
plots.show(PE.plot_inference(inference))""", "subslide"),
        data("PE.inference_table(inference)"),
        md("""
For scale, the paper's own comparison (Table 1, validation / test): one medium regularized LSTM
86.2 / 82.7, ten non-regularized (small) LSTMs averaged 83.5 / 80.0 — one dropout model is about
as good as an ensemble of ten undropped ones.
""", "fragment"),
        md("""
## Answer

Read off the recorded grid and `inference.json` by `plots_equivalence.answer` (the numbers below
are the data's, not the author's):
""", "slide"),
        data("Markdown(PE.answer(grid, inference, unigram_train=equivalence.slice_unigram()))"),
        md("""
## Summary

- Counting gives one family, $N_{eq} = N(1-p)^{\\alpha}$: units and the seed's $N\\cdot N$ pairs
  both give α = 1; under `zaremba`, where recurrent weights are never masked, pairs give
  $N\\sqrt{1-p/2}$ (α ≈ 0.2) and the LM's weights α between 1 (small N) and 0.4 (N = 1500); at
  test time α = 0.
- The grid turns the question into a measurement: for each dropout cell, the undropped size with
  the same perplexity. Training fit (eval mode) and generalisation (validation) give different
  answers, and the answer above says how different in this copy of the data.
- Where a dropout model generalises better than every undropped model, no smaller model is
  equivalent: dropout is then not “a smaller network”, whatever it costs in fit.
- At inference the full network is used; MC dropout and an ensemble of small models are two
  explicit ways of averaging over smaller models.
""", "slide"),
        md("""
## Exercises

1. In the theory panel, find the N at which the “weights of the LM” candidate is halfway between
   the units line and the `zaremba` pairs line at p = 0.5. Check it with
   `equivalence.active_weights`.
2. Fit α separately for each rate: `PE.equivalence_frame(grid).groupby("dropout")` and
   `equivalence.fit_alpha` per group. Is α constant in p, as $N(1-p)^{\\alpha}$ assumes?
3. Repeat the validation fit with `branch="all"` (`equivalence.equivalence_table`). Which cells
   change, and why is that reading ambiguous?
4. Add a column: `python -m rnnreg grid --sizes 400` trains 2×400 cells at every rate (about as
   much CPU time again as the whole grid; one runner per free core). Which
   “worse than the smallest” / “better than all” cells get an equivalent?
5. With `inference.json`: how many MC samples does it take to beat weight scaling, if any?

## Discussion questions

- Is training perplexity in evaluation mode a fair definition of “representational capacity”?
  What else could “equivalent” mean (same function? same validation loss? same parameters)?
- The seed counts $N\\cdot N$ dependencies. Under `zaremba`'s placement most of them (the recurrent
  ones) are never masked. Does the measured α side with the unit count or the pair count — and what
  would it mean if it sided with neither?
- A dropout model that generalises better than every undropped model is “equivalent” to none of
  them. Is dropout then better described as an implicit ensemble (the paper's Table 1 comparison)
  than as a smaller model?
- The grid uses 100,000 tokens and 6 epochs. Which conclusions would you expect to survive the
  paper's full training, and which might flip?
""", "subslide"),
    ], "04 — Dropout vs a smaller model")


def main(argv):
    write_chapter(NAME, chapter(final="--final" in argv))


if __name__ == "__main__":
    main(sys.argv[1:])
