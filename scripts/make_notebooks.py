"""Write book/00_guide.ipynb, 01_why_regularize.ipynb and 02_where_dropout_goes.ipynb (unexecuted).

The notebooks are the product; this script only wrote their first version, with slide metadata
on every cell. Edit the notebooks directly from now on, or edit here and regenerate:

    .venv/bin/python scripts/make_notebooks.py [00 01 02]
    .venv/bin/python scripts/make_notebooks.py --markdown-only [00 01 02]   # keep outputs
    nice -n 19 .venv/bin/jupyter nbconvert --to notebook --execute --inplace \\
        --ExecutePreprocessor.record_timing=False book/NN_x.ipynb

Cells starting with ``# NBVAL_CHECK_OUTPUT`` are compared by nbval (the book runs under
``--nbval-lax``); everything else must merely run without error.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat as nbf

BOOK = Path(__file__).resolve().parent.parent / "book"
CHECK = "# NBVAL_CHECK_OUTPUT\n"

SETUP = """\
%matplotlib inline
from IPython.display import Markdown
from rnnreg import plots, runs, schemes, widgets
from rnnreg.data import load_corpus

plots.use_book_style()"""


def md(text: str, slide: str = "-"):
    return nbf.v4.new_markdown_cell(text.strip("\n"), metadata={"slideshow": {"slide_type": slide}})


def code(src: str, slide: str = "-", checked: bool = False):
    src = src.strip("\n")
    return nbf.v4.new_code_cell((CHECK if checked else "") + src, metadata={"slideshow": {"slide_type": slide}})


def notebook(cells, title: str):
    nb = nbf.v4.new_notebook()
    nb.cells = cells
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "title": title,
        # jupyterlab-rise: live presenting with a kernel (same slide metadata as nbconvert's decks)
        "rise": {"theme": "white", "transition": "none", "scroll": True, "width": "1280", "height": "860",
                 "slideNumber": "c/t", "enable_chalkboard": False},
    }
    return nb


# =============================================================================================
# 00 — Guide
# =============================================================================================
def guide():
    return notebook([
        md("""
# 00 — Guide

**Question.** What did Zaremba, Sutskever & Vinyals (2014) find about regularizing recurrent
networks — and how can you check it here, by running the code, moving sliders and reading the
recorded runs?

*rnnreg: an interactive study book on “Recurrent Neural Network Regularization”
(arXiv:1409.2329).*
""", "slide"),
        code(SETUP, "skip"),
        md("""
## What the paper found

- **The idea.** Use dropout in a multi-layer LSTM only on the *non-recurrent* connections — from
  the word embedding into layer 1, from layer to layer, from the top layer into the softmax —
  and never on the recurrent ones, h(t−1) → h(t) and c(t−1) → c(t). A signal then meets L + 1
  dropout masks (L layers) no matter how many time steps it travels.
- **The evidence** (word-level Penn Treebank, test perplexity, paper Table 1): the
  non-regularized small LSTM (2×200) reaches 114.5; a medium regularized LSTM (2×650, dropout 0.5)
  82.7; a large one (2×1500, dropout 0.65) 78.4; the average of 38 large models 68.7.
- **Beyond language models** (paper, Tables 2–4): speech recognition frame accuracy on
  validation 68.9 → 70.5; machine translation BLEU 25.9 → 29.03; image captioning BLEU 23.5 → 24.3.
""", "slide"),
        md("""
## The paper's three models

Click through them: size, dropout, learning-rate schedule, and the perplexities published for
each (paper Table 1 and the TensorFlow tutorial `ptb_word_lm.py`, which re-implements the paper).
""", "slide"),
        code('widgets.PresetExplorer("medium")'),
        md("""
The same three side by side. The paper gives no parameter counts; the library computes them from
the architecture (10,000-word vocabulary, untied embedding and softmax, two bias vectors per gate).
""", "subslide"),
        code("widgets.presets_table()", checked=True),
        md("""
## The data

Mikolov's split of the Penn Treebank, the corpus of the paper: one sentence per line, a
10,000-word vocabulary, every line ending in `<eos>`. Sizes in tokens, as the library loads them:
""", "slide"),
        code("corpus = load_corpus()\ncorpus.sizes()", checked=True),
        md("""
## The seed's questions

The book grew out of a blog review, *“Ilya's 30 Papers to Carmack: RNN Regularization”*.
Three of its sentences, quoted:

> “This paper discovered that applying dropout everywhere except the hidden state dependency
> worked really well.”

> “If you apply dropout between timesteps on an RNN, you are effectively repeatedly applying
> noise to the same signal.”

> “Is there a model of size X that is equivalent to some larger model of size Y with dropout Z?”

The book turns them into questions that data can answer.
""", "slide"),
        md("""
| chapter | question | from the seed |
|---|---|---|
| 01 Why regularize | Does an LSTM language model without dropout overfit, and does Zaremba's dropout stop it? | “we actually want to make our model worse on the training set” |
| 02 Where dropout goes | Which connections does each scheme touch, with which masks? Table 1 side by side | “everywhere except the hidden state dependency” |
| 03 Signal decay | How fast does a signal fade under recurrent dropout? | “repeatedly applying noise to the same signal” |
| 04 A smaller model? | Does dropout act like a smaller model? | “model of size X … equivalent … size Y with dropout Z?” |
| 05 After Zaremba | Variational dropout, weight drop, zoneout …; the medium and large runs | — |
""", "subslide"),
        md("""
## How to use this book

- **Interactive.** `make lab` opens the book in JupyterLab. Every control has a default, so *Run
  All* shows a sensible state; then move a slider and press **Train**. Live demos are seeded
  quick runs on a slice of PTB that finish in under a minute on two CPU cores: illustrations,
  not the paper's numbers.
- **Recorded runs.** Full-scale numbers come from runs recorded with
  `python -m rnnreg train … --out results/ptb/<name>`; every figure names the run it shows.
  Medium and large need a GPU and are marked “not yet run here” until someone records them.
- **Regression-tested.** `make test` runs every notebook top to bottom under nbval. Cells that
  start with `# NBVAL_CHECK_OUTPUT` (parameter counts, dataset sizes, seeded quick-run
  perplexities, Table 1) must reproduce their committed output exactly.
- **Presented.** `make slides` writes reveal.js decks and static HTML pages to `build/` that open
  without a network. To present live, with a kernel and working widgets, use jupyterlab-rise
  in JupyterLab (“Render as slides”, Alt+R).
""", "slide"),
        md("""
## A 60-minute reading-group plan

| minutes | show | move | ask |
|---|---|---|---|
| 0–5 | 00: *What the paper found* | the model picker: small → medium → large | What changes from small to large besides size? |
| 5–20 | 01: the recorded small run, then the live panel | **Train** with the defaults; then *training slice* 10k → 20k tokens, Train again | Why does valid perplexity turn up while train keeps falling? What does more data do to the gap? |
| 20–30 | 02: the unrolled diagram, the masks | scheme dropdown: zaremba → everywhere → variational; the mask explorer's rate | How many masks does a signal meet over 20 steps? Fresh or shared: what is the difference for memory? |
| 30–40 | 02: the scheme race and Table 1 | the race's scheme list | How close is the recorded small run to the paper and to the TF tutorial? What differs between the three? |
| 40–50 | 03 and 04 | their first figure | Does noise between time steps wipe out the signal? Is dropout a smaller model? |
| 50–60 | 05, then the discussion questions | — | Which later scheme would you try first on a new task, and why? |
""", "slide"),
        md("""
## Answer

The paper's finding, in its own numbers (Table 1): with dropout on the non-recurrent
connections only, bigger LSTMs stop overfitting, and the single-model test perplexity on PTB
goes from 114.5 (small, no dropout) to 82.7 (medium) and 78.4 (large). What this project has
recorded so far (no timings; `status` says whether a run is complete):
""", "slide"),
        code('runs.load_runs("ptb/*")[["run", "status", "train_ppl", "valid_ppl", "test_ppl"]].round(1)'),
        md("""
## Summary

- Zaremba et al. regularize LSTMs with dropout on non-recurrent connections only; a signal meets
  L + 1 masks whatever the distance it travels.
- The book checks this on PTB at two scales: live quick runs (seconds, a slice of the data)
  and recorded full runs (`results/`), each figure naming its run.
- Every chapter opens with a question, closes with the answer its data gave, and is tested
  under nbval and presentable offline.
""", "slide"),
        md("""
## Exercises

1. Count the parameters of the medium model by hand — embedding, two LSTM layers with two bias
   vectors per gate, softmax — and compare with the table above.
2. Run `make test`, then change the `seed` in one `# NBVAL_CHECK_OUTPUT` cell of chapter 01 and
   read how nbval reports the difference.
3. Run `make slides`, switch off the network, and open `build/slides/00_guide.slides.html`.

## Discussion questions

- The paper's small model has no dropout at all. Is a comparison of small (no dropout) and
  medium (dropout) a test of dropout, of size, or of both?
- The seed says “we actually want to make our model worse on the training set”. Is that what
  dropout does? What should be measured to tell?
""", "subslide"),
    ], "00 — Guide")


# =============================================================================================
# 01 — Why regularize
# =============================================================================================
def why_regularize():
    return notebook([
        md("""
# 01 — Why regularize? Overfitting in an LSTM language model

**Question.** Trained without dropout, does an LSTM language model overfit Penn Treebank —
training perplexity falling on while validation perplexity stalls and turns up — and does
Zaremba's dropout keep the two together?
""", "slide"),
        code(SETUP, "skip"),
        md("""
## Perplexity, and what overfitting looks like

- **Perplexity** = exp(mean negative log-likelihood per word): a model spreading its bets evenly
  over PTB's 10,000 words scores 10,000; lower is better.
- **Train perplexity** is measured while training: a running average over the epoch, with
  dropout *on*. **Validation perplexity** is measured after each epoch, dropout *off*, on text
  the model never trained on.
- **Overfitting**: the two part ways. Train keeps falling, valid stops improving or rises.
""", "slide"),
        md("""
## The recorded run: the paper's small model on all of PTB

Table 1's non-regularized LSTM: 2 layers × 200 units, no dropout, 13 epochs, lr 1, halved every
epoch after epoch 4 (paper §4.1; the authors' code starts halving one epoch later, and so does
this run). Recorded with `python -m rnnreg train --preset small --out results/ptb/small`.
The dotted lines are the paper's validation perplexity and the TF tutorial's final train perplexity.
""", "slide"),
        code("""
small = runs.load_run("ptb/small")
plots.show(plots.plot_run(small, label="small 2×200, no dropout"))
"""),
        md("Epoch by epoch (rounded):", "subslide"),
        code("small.epochs_table()", checked=True),
        code("small.headline()", "fragment", checked=True),
        md("""
**What the recorded run shows.** Train perplexity falls from 280.4 (epoch 1) to 39.3 (epoch 13).
Validation perplexity falls with it only until epoch 7 (120.1), then stalls — 121.0 at epoch 9,
119.9 at the end — while train perplexity keeps falling: at the end the two are a factor 3.05
apart. The halving learning rate (0.5 at epoch 6, 0.004 at epoch 13) freezes the model before
validation perplexity can climb far. Test perplexity (one sequential pass, the paper's protocol):
115.2. For comparison: the paper reports 120.7 / 114.5 (valid / test, Table 1), the TF tutorial
37.99 / 121.39 / 115.91 (train / valid / test).
""", "subslide"),
        md("""
## Live: the same story in under a minute

Two models with identical settings — one without dropout, one with Zaremba's dropout at the
rate of the slider — trained on the first 10,000 tokens of PTB's training text, 8 epochs,
validated on the first 5,000 validation tokens. Seeded: the same settings give the same curves.
Move a slider, press **Train**; the curve updates while training runs.
""", "slide"),
        code("""
corpus = load_corpus()
panel = widgets.TrainingPanel(corpus, schemes=("none", "zaremba"), title="Live: no dropout vs Zaremba dropout")
display(panel)
_ = panel.run()
"""),
        md("The last epoch of each run (and its best validation epoch), rounded:", "subslide"),
        code("panel.table()", checked=True),
        code("Markdown(panel.summary())", checked=True),
        md("""
**What the live runs show** (seed 1, defaults; the sentences above are computed from the runs'
logs). Without dropout, validation perplexity turns up before the end while train perplexity
keeps falling; with Zaremba's dropout (p = 0.5) it is still falling. The numbers are high because
10,000 tokens are 1 % of PTB's training text (many validation words never occur in it); the
*shape* is the point. Train perplexity with dropout is measured with dropout on, so the
valid/train ratios of the two rows are not like for like.
""", "-"),
        md("""
## Try

- **Training slice** 10k → 20k tokens (about twice as long): does the gap between the curves of `none` shrink?
- **Hidden size** 200 → 48: does the small model without dropout still overfit?
- **Dropout rate** 0.5 → 0.2 and → 0.8: where is the best validation perplexity?
""", "subslide"),
        md("""
## Answer

**Yes — without dropout the model overfits, at both scales we ran.**

- Full PTB, recorded run `results/ptb/small` (the paper's small model, no dropout, seed 1):
  train perplexity falls to 39.3 while validation perplexity stalls at about 120 from epoch 7
  (119.9 at the end; test 115.2, paper 114.5). The learning-rate decay stops training before
  validation perplexity rises far.
- A 10,000-token slice, live (seed 1, the runs above): without dropout validation perplexity
  turns up before the last epoch; with Zaremba's dropout at 0.5 it keeps falling.

What this chapter does not show: that dropout lets *bigger* models win at full scale — that is
the medium and large rows of Table 1 (chapter 02).
""", "slide"),
        md("""
## Summary

- Perplexity = exp(mean NLL per word); overfitting shows as train and valid perplexity parting ways.
- Recorded, full PTB: the paper's small model without dropout ends far below its validation
  perplexity on the training text.
- Live, on a slice: without dropout validation perplexity turns up after a few epochs; with
  Zaremba's dropout the two curves stay closer together.
""", "slide"),
        md("""
## Exercises

1. Press **Train** with the training slice at 20,000 tokens. Report the best validation epoch of
   each run and the valid/train ratio at the end.
2. In the recorded run, which epoch has the lowest validation perplexity? What does the learning
   rate do in the epochs after it (`small.epochs_table()`)?
3. Train perplexity with dropout is measured with dropout *on*. Sketch how you would measure
   the dropout model's perplexity on its training text with dropout *off*
   (hint: `rnnreg.train.evaluate(panel.results[...].model, corpus.train[:10_000], 10, 20)`).

## Discussion questions

- Is a rising validation curve the only sign of overfitting? What about a widening gap with
  both curves still falling?
- The paper's small model has no dropout and is stopped at 13 epochs with a decaying learning
  rate. Is the learning-rate schedule itself a regularizer?
""", "subslide"),
    ], "01 — Why regularize")


# =============================================================================================
# 02 — Where dropout goes
# =============================================================================================
def where_dropout_goes():
    return notebook([
        md("""
# 02 — Where dropout goes

**Question.** Which connections of the unrolled two-layer LSTM does Zaremba's dropout touch —
and which do the other schemes touch, with what kind of mask? How do the paper's Table 1 numbers
compare with the TensorFlow tutorial's and with this project's recorded runs?
""", "slide"),
        code(SETUP, "skip"),
        md("""
## Names first

- `zaremba` — the paper: dropout on the non-recurrent connections only (embedding → layer 1,
  layer 1 → layer 2, layer 2 → softmax), a fresh mask at every time step.
- `everywhere` — also a fresh per-step mask on h(t−1), the recurrent input: the placement the
  paper argues against.
- `memory`, `variational`, `weight_drop`, `zoneout` — later schemes, met again in chapter 05.

**A name clash.** Gal & Ghahramani (2016, Figure 1) call *Zaremba's own scheme* “naive
dropout” (fresh masks every step, non-recurrent connections only) and contrast it with their
“variational” dropout. The name is easily read as “dropout applied naively everywhere”, so this
book does not use it: the scheme that drops h(t−1) with a fresh mask every step is `everywhere`.
""", "slide"),
        md("""
## The unrolled LSTM, scheme by scheme

Pick a scheme. Coloured arrows carry dropout; each strip of squares is the mask the model's own
code draws there for six units (filled = dropped). Inside a layer the upper arrow is
c(t−1) → c(t), the lower one h(t−1) → h(t).
""", "slide"),
        code('widgets.SchemeDiagram("zaremba")'),
        md("""
## The contrast the paper draws

Zaremba's masks sit on the vertical arrows only; `everywhere` adds one on every horizontal
h-arrow, so a signal carried along the recurrence meets a new mask at each step.
""", "slide"),
        code('plots.show(plots.draw_schemes(("zaremba", "everywhere")))'),
        md("## Every scheme's sites in one table", "subslide"),
        code("schemes.sites_table()", checked=True),
        md("""
## How many masks does a signal meet?

A signal enters at x(t), travels *k* steps along one layer's recurrence, and leaves through the
softmax. Entries: multiplications by a dropout mask (distinct masks in brackets; a shared or
weight mask met at every step counts once). Zaremba's count stays at L + 1 = 3.
""", "slide"),
        code("schemes.path_table(distances=(1, 5, 20))", checked=True),
        md("""
## The masks over time

One forward pass of layer 1, drawn by `LSTMLM._drop`, `LSTMLM._recurrence_masks` and
`LSTMLM._recurrent_weight` themselves: time steps across, units down, dark = dropped.
""", "slide"),
        code('widgets.MaskExplorer("zaremba")'),
        md("""
## Fresh vs shared

Zaremba and `everywhere` draw a new mask at every step; `variational` draws one per sequence and
cuts the same units at every step.
""", "slide"),
        code("""
masks = {s: schemes.sample_masks(s, steps=20, units=16, seed=0) for s in ("zaremba", "everywhere", "variational")}
plots.show(plots.plot_masks(masks, connections=("input", "h"), title="Layer-1 masks of one forward pass (seed 0)"))
"""),
        md(r"""
## The equations

$D_t$: inverted dropout with a fresh mask at step $t$; $D$: one mask for the whole sequence;
$x_t$: the layer's input (the embedding or the layer below). From `rnnreg/model.py`:

| scheme | equation |
|:--|:--|
| `zaremba` | $$h^l_t, c^l_t = \mathrm{LSTM}\big(D_t(h^{l-1}_t),\, h^l_{t-1},\, c^l_{t-1}\big),\quad p(w_{t+1}) = \mathrm{softmax}\big(W D_t(h^L_t)\big)$$ |
| `everywhere` | $$\text{gates} = W_{ih} D_t(x_t) + W_{hh} D_t(h_{t-1}) + b$$ |
| `memory` | $$c_t = f \odot D_t(c_{t-1}) + i \odot g$$ |
| `variational` | $$\text{gates} = W_{ih} D(x_t) + W_{hh} D(h_{t-1}) + b$$ |
| `weight_drop` | $$\text{gates} = W_{ih} D_t(x_t) + (W_{hh} \odot M)\, h_{t-1} + b,\quad M \text{ once per batch}$$ |
| `zoneout` | $$c_t = d^c \odot c_{t-1} + (1-d^c) \odot \tilde c_t,\ \text{likewise } h_t,\quad d \sim \mathrm{Bernoulli}(z)$$ |
""", "slide"),
        md("The code that implements each (read from the library, so it is always the code that runs):", "subslide"),
        code('widgets.CodeViewer("zaremba")'),
        md("""
## A quick live race

Three placements — Zaremba's, `everywhere`, `variational` — with identical settings and seed on
the PTB slice of chapter 01 (first 10,000 training tokens, first 5,000 validation tokens), a
2×128 model for 6 epochs to stay within a minute. Pick schemes (ctrl/shift-click; `none`,
`memory`, `weight_drop` and `zoneout` are there too), set the rate, press **Train**.
""", "slide"),
        code("""
corpus = load_corpus()
race = widgets.TrainingPanel(corpus, schemes=("zaremba", "everywhere", "variational"), choose_schemes=True,
                             hidden_size=128, epochs=6, plot="comparison", title="Live: three placements on a PTB slice")
display(race)
_ = race.run()
"""),
        code("race.table()", "subslide", checked=True),
        code("Markdown(race.summary())", checked=True),
        md("""
**What the race shows** (seed 1, defaults; computed above): after 6 epochs the three placements
end within a few percent of each other, all still improving. On 1 % of PTB, for six short
epochs, a 2×128 model barely uses long-range context, so masking the recurrence costs little:
this budget cannot test the paper's argument. The recorded runs of chapter 05 train the schemes
far longer.
""", "-"),
        md("""
## Table 1 side by side

Single models, word-level PTB perplexity: the paper (Table 1), the TensorFlow tutorial
(`ptb_word_lm.py`, same recipe) and the runs recorded in this project (`results/ptb/<model>`;
valid = last epoch, test = one sequential pass, batch 1, as the paper's code).
""", "slide"),
        code("table1 = runs.table1()\nruns.pretty(table1)", checked=True),
        code("plots.show(plots.plot_table1(table1))", "subslide"),
        md("""
**What differs between the columns.** The TF tutorial's medium config divides the learning rate
by 1.25 per epoch, the paper's by 1.2; TF uses one bias vector per gate, the paper's Torch code
two; this project follows the authors' code (two biases, decay starting one epoch after the
paper text's). Medium and large need a GPU: `python -m rnnreg train --preset medium --device cuda
--out results/ptb/medium` (and `large`) records them, and this table picks them up.
""", "subslide"),
        md("""
## Answer

- **Where Zaremba's dropout goes:** on the three non-recurrent connections of the two-layer LSTM —
  embedding → layer 1, layer 1 → layer 2, layer 2 → softmax — with a fresh mask every step. The
  recurrent connections h(t−1) → h(t) and c(t−1) → c(t) are never masked, so a signal meets 3
  masks whatever the distance it travels; under `everywhere` it meets 23 over 20 steps, under
  `variational` 23 multiplications by only 4 distinct masks (tables above, from the model's own code).
- **Quick scale** (live race, seed 1): the placements end within a few percent of each other
  (the race's summary above) — too small a budget to separate them.
- **Table 1** (recorded run `results/ptb/small`, CPU, seed 1): valid 119.9 / test 115.2 for the
  non-regularized small model, against 120.7 / 114.5 in the paper and 121.39 / 115.91 in the TF
  tutorial — within about one perplexity point of both. The medium and large rows, where the
  paper's dropout does its work, are not yet run here.
""", "slide"),
        md("""
## Summary

- Zaremba's dropout touches the three non-recurrent connections of a 2-layer LSTM, with a fresh
  mask every step; the recurrence is never masked, so a signal meets L + 1 = 3 masks at any distance.
- `everywhere` adds a fresh mask on h(t−1) at every step: k steps, k more masks.
- `variational` masks h(t−1) too, but with one mask per sequence: the same units every step.
- Gal & Ghahramani's “naive dropout” *is* Zaremba's scheme; this book's name for dropping
  h(t−1) fresh every step is `everywhere`.
""", "slide"),
        md("""
## Exercises

1. In the mask explorer, set the rate to 0.65 (the large model's). What fraction of a 20-step
   `everywhere` path survives all masks, on average, for one unit? (Compare 0.35^k.)
2. Run the race with `memory` and `zoneout` added. Which scheme is slowest per epoch, and why
   (hint: `rnnreg/model.py`, “Speed”)?
3. Read `LSTMLM._drop`: why does `variational` draw a mask of shape `(1, B, H)`?

## Discussion questions

- The paper's argument is about where dropout goes, not how masks are drawn. Is the race
  above a fair test of that argument at this scale?
- PR #2276 of tensorflow/models reports that a cuDNN LSTM with the same hyperparameters
  overfits badly, because its dropout placement differs. What else would you check before
  blaming the placement?
""", "subslide"),
    ], "02 — Where dropout goes")


NOTEBOOKS = {"00": ("00_guide.ipynb", guide), "01": ("01_why_regularize.ipynb", why_regularize),
             "02": ("02_where_dropout_goes.ipynb", where_dropout_goes)}


def write_chapter(name: str, nb) -> None:
    """Validate and write one generated chapter into book/, saying how many cells nbval checks."""
    nbf.validate(nb)
    BOOK.mkdir(exist_ok=True)
    nbf.write(nb, BOOK / name)
    checked = sum(c.cell_type == "code" and c.source.startswith(CHECK) for c in nb.cells)
    print(f"wrote book/{name} ({len(nb.cells)} cells, {checked} checked by nbval)")


def sync_markdown(path: Path, fresh) -> bool:
    """Copy markdown cells and slide metadata from ``fresh`` into the executed notebook at ``path``,
    keeping its outputs, when the code cells are unchanged; False (nothing written) otherwise."""
    old = nbf.read(path, as_version=4)
    if len(old.cells) != len(fresh.cells):
        return False
    for a, b in zip(old.cells, fresh.cells):
        if a.cell_type != b.cell_type or (a.cell_type == "code" and a.source != b.source):
            return False
    for a, b in zip(old.cells, fresh.cells):
        a.metadata["slideshow"] = b.metadata["slideshow"]
        if a.cell_type == "markdown":
            a.source = b.source
    old.metadata.update({k: v for k, v in fresh.metadata.items() if k != "widgets"})
    nbf.write(old, path)
    return True


def main(argv):
    markdown_only = "--markdown-only" in argv
    which = [a for a in argv if not a.startswith("--")]
    BOOK.mkdir(exist_ok=True)
    for key in which or NOTEBOOKS:
        name, build = NOTEBOOKS[key]
        nb = build()
        nbf.validate(nb)
        if markdown_only:
            ok = sync_markdown(BOOK / name, nb)
            print(f"book/{name}: " + ("markdown updated, outputs kept" if ok else "code changed: regenerate and execute"))
            continue
        nbf.write(nb, BOOK / name)
        print(f"wrote book/{name} ({len(nb.cells)} cells)")


if __name__ == "__main__":
    main(sys.argv[1:])
