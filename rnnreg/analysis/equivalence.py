r"""Is a large model with dropout equivalent to a smaller model without it? (Chapter 04.)

The seed's question: "Is there a model of size X that is equivalent to some larger model of size Y
with dropout Z? Naively, a vector of size N can have N·N dependencies. During dropout the
representational capacity is something less than N·N. Solve for the equivalence."

**Theory.** For one layer of N units at drop rate p, the candidate equivalent sizes are

==========================  ====================================  ===========================
candidate                   what survives a mask                  N_eq
==========================  ====================================  ===========================
units                       N(1−p) units                          N(1−p)            (α = 1)
pairs (the seed's N·N)      N²(1−p)² dependencies                 N(1−p)            (α = 1)
pairs under ``zaremba``     W_ih pairs N²(1−p), W_hh pairs N²     N·√(1 − p/2)
weights of the whole LM     every weight whose input unit         solve count(N_eq, 0)
under ``zaremba``           survives (embedding, W_ih, softmax)   = count(N, p)
test time                   every unit (weight scaling)           N                 (α = 0)
==========================  ====================================  ===========================

Every candidate can be written N_eq = N(1−p)^α, which is how the measured grid is summarised.

**Measured.** A grid of ``zaremba`` models over hidden size × dropout rate on a PTB slice
(:data:`GRID`). For each cell: the training perplexity *measured in evaluation mode* (the fit
the full network achieves, what "capacity" means here), the validation perplexity, and the gap.
:func:`equivalent_size` finds the undropped size with the same perplexity by interpolating the
p = 0 row in log-log space; :func:`fit_alpha` fits α with its standard error.
"""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data import Corpus, load_corpus
from ..runfolder import write_text
from ..train import Config, claim_run_dir, evaluate, load_run_model, release_run_dir, train

# --------------------------------------------------------------------------------------------
# Theory
# --------------------------------------------------------------------------------------------


def lstm_lm_parameters(hidden_size: int, num_layers: int = 2, vocab_size: int = 10_000, tied: bool = False) -> int:
    """Parameters of the LSTM LM: embedding V·N, per layer 4N(2N) weights + 2·4N biases, softmax V·N + V."""
    n, v = hidden_size, vocab_size
    lstm = num_layers * (8 * n * n + 8 * n)
    return (0 if tied else v * n) + lstm + v * n + v


def lstm_lm_macs(hidden_size: int, num_layers: int = 2, vocab_size: int = 10_000) -> int:
    """Multiply-accumulates per token of the forward pass (the embedding is a lookup)."""
    n = hidden_size
    return num_layers * 8 * n * n + vocab_size * n


def active_weights(hidden_size: int, dropout: float, num_layers: int = 2, vocab_size: int = 10_000) -> float:
    """Expected number of weights whose input unit survives ``zaremba``'s masks.

    Masked inputs: the embedding output (V·N), each layer's input (4N·N), the softmax input (V·N).
    Unmasked: the recurrent weights (4N·N per layer) and every bias.
    """
    n, v, keep = hidden_size, vocab_size, 1.0 - dropout
    masked = v * n + num_layers * 4 * n * n + v * n
    unmasked = num_layers * (4 * n * n + 8 * n) + v
    return keep * masked + unmasked


def _solve_size(count, target: float, hi: float) -> float:
    """The N in (0, hi] with count(N) = target (count increasing in N), by bisection."""
    lo = 0.0
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if count(mid) < target else (lo, mid)
    return (lo + hi) / 2


def theory_candidates(hidden_size: int, dropout: float, num_layers: int = 2, vocab_size: int = 10_000) -> dict:
    """Candidate equivalent sizes N_eq for a ``zaremba`` model of N units at rate p (see module doc)."""
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    n, p = float(hidden_size), dropout
    weights = _solve_size(lambda m: active_weights(m, 0.0, num_layers, vocab_size),
                          active_weights(n, p, num_layers, vocab_size), n)
    return {
        "units": n * (1 - p),
        "pairs (seed's N·N)": math.sqrt(n * n * (1 - p) ** 2),  # N_eq² = N²(1−p)²
        "pairs under zaremba": n * math.sqrt(1 - p / 2),
        "weights of the LM under zaremba": weights,
        "test time (all units)": n,
    }


def alpha_of(hidden_size: float, dropout: float, equivalent: float) -> float:
    """α with N_eq = N(1−p)^α (NaN for p = 0 or a missing N_eq)."""
    if dropout <= 0 or not (equivalent and equivalent > 0 and math.isfinite(equivalent)):
        return math.nan
    return math.log(equivalent / hidden_size) / math.log(1 - dropout)


# --------------------------------------------------------------------------------------------
# The grid
# --------------------------------------------------------------------------------------------

#: The measured grid (one source of truth): the paper's small recipe (2 layers, 20 steps, init 0.1,
#: clip 5, lr 1 halved each epoch from epoch 4) with ``zaremba`` dropout, on the first 100,000
#: PTB training tokens for 6 epochs; validation on the full valid split. Sizes stop at the paper's
#: small model (200): a 2 x 400 row would cost as much again as the whole grid on 2 CPU cores;
#: they start at 5 so that most dropout cells have an undropped model at least as bad as they are.
GRID = dict(
    sizes=(5, 10, 25, 50, 100, 200),
    rates=(0.0, 0.2, 0.35, 0.5, 0.65),
    seeds=(1,),
    budget=dict(max_train_tokens=100_000, epochs=6, decay_after=2),
)
#: Extra undropped seeds of one size, for the ensemble in the inference comparison: five 2 x 50
#: models hold 5.25M parameters, about the 4.65M of one 2 x 200 model.
ENSEMBLE = dict(hidden_size=50, seeds=(1, 2, 3, 4, 5))
#: The dropout model the inference comparison studies (N, p).
INFERENCE_CELL = (200, 0.5)


def slice_unigram(corpus: Corpus | None = None) -> float:
    """Training perplexity of the unigram model of the grid's training slice (word frequencies only):
    the plateau a language model sits on before it learns anything about context."""
    corpus = corpus if corpus is not None else load_corpus()
    return corpus.head(train=GRID["budget"]["max_train_tokens"]).unigram_perplexity("train")


def grid_config(hidden_size: int, dropout: float, seed: int = 1, **budget) -> Config:
    """The Config of one grid cell."""
    budget = {**GRID["budget"], **budget}
    scheme = "zaremba" if dropout > 0 else "none"
    return Config.preset("small", scheme=scheme, dropout=dropout, hidden_size=hidden_size, seed=seed, **budget)


def cell_name(hidden_size: int, dropout: float, seed: int = 1) -> str:
    return f"h{hidden_size:04d}-p{round(dropout * 100):02d}-seed{seed}"


def grid_cells(sizes=None, rates=None, seeds=None, ensemble: bool = True) -> list[tuple[int, float, int]]:
    """(N, p, seed) of every cell, cheapest first, ensemble seeds included."""
    sizes, rates, seeds = sizes or GRID["sizes"], rates or GRID["rates"], seeds or GRID["seeds"]
    cells = {(n, p, s) for n in sizes for p in rates for s in seeds}
    if ensemble:
        cells |= {(ENSEMBLE["hidden_size"], 0.0, s) for s in ENSEMBLE["seeds"]}
    return sorted(cells, key=lambda c: (c[0], c[2], c[1]))


def run_cell(root: str | os.PathLike, hidden_size: int, dropout: float, seed: int, corpus: Corpus,
             command: str | None = None, progress: bool = False, **budget) -> dict:
    """Train one cell (resuming from its checkpoint) and add its eval-mode training perplexity.

    Writes ``<root>/<cell_name>/`` like any run, with ``train_eval_ppl`` added to ``summary.json``.
    """
    config = grid_config(hidden_size, dropout, seed, **budget)
    run_dir = Path(root) / cell_name(hidden_size, dropout, seed)
    summary_path = run_dir / "summary.json"
    if summary_path.exists():
        summary = json.loads(summary_path.read_text())
        if "train_eval_ppl" in summary:
            return summary
    result = train(config, corpus, run_dir, progress=progress, command=command, test=False)
    start = time.perf_counter()
    train_ids = corpus.train[: config.max_train_tokens]
    summary = dict(result.summary)
    summary["train_eval_ppl"] = evaluate(result.model, train_ids, config.batch_size, config.steps)
    summary["train_eval_note"] = "training slice, evaluation mode (dropout off), same layout as validation"
    summary["wall_s"] += time.perf_counter() - start
    write_text(summary_path, json.dumps(summary, indent=2) + "\n")
    return summary


def run_grid(root: str | os.PathLike, cells=None, corpus: Corpus | None = None, command: str | None = None,
             log=print) -> None:
    """Train every cell not yet done. Several runners may share one grid folder: each claims a cell
    before training it, so start one per free core, at any time; an interrupted cell resumes."""
    corpus = corpus if corpus is not None else load_corpus()
    cells = grid_cells() if cells is None else cells
    for hidden_size, dropout, seed in cells:
        run_dir = Path(root) / cell_name(hidden_size, dropout, seed)
        claimed = claim_run_dir(run_dir)
        if claimed is False:
            continue  # another runner is training this cell
        try:
            t0 = time.perf_counter()
            s = run_cell(root, hidden_size, dropout, seed, corpus, command=command)
        finally:
            if claimed:
                release_run_dir(run_dir)
        log(f"{run_dir.name}: train(eval) {s['train_eval_ppl']:.1f}  valid {s['valid_ppl']:.1f}  "
            f"({time.perf_counter() - t0:.0f} s)")


@dataclass
class GridCell:
    hidden_size: int
    dropout: float
    seed: int
    summary: dict | None
    log: list[dict]


def read_cell(path: Path) -> GridCell:
    config = json.loads((path / "config.json").read_text())
    summary = json.loads((path / "summary.json").read_text()) if (path / "summary.json").exists() else None
    log_path = path / "log.jsonl"
    log = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()] if log_path.exists() else []
    return GridCell(config["hidden_size"], config["dropout"], config["seed"], summary, log)


def load_grid(root: str | os.PathLike):
    """One row per finished cell: N, p, seed, train perplexity (eval mode and with dropout), valid, gap."""
    import pandas as pd

    rows = []
    for path in sorted(Path(root).glob("h*-p*-seed*")):
        if not (path / "config.json").exists():
            continue
        cell = read_cell(path)
        s = cell.summary
        if not s or "train_eval_ppl" not in s:
            continue
        rows.append(dict(hidden_size=cell.hidden_size, dropout=cell.dropout, seed=cell.seed,
                         train_eval_ppl=s["train_eval_ppl"], train_dropout_ppl=s["train_ppl"],
                         valid_ppl=s["valid_ppl"], best_valid_ppl=s["best_valid_ppl"],
                         gap=s["valid_ppl"] / s["train_eval_ppl"], parameters=s["parameters"], wall_s=s["wall_s"],
                         run=path.name))
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# Equivalent size and the alpha fit
# --------------------------------------------------------------------------------------------


def equivalent_size(sizes, ppls, target: float, branch: str = "decreasing") -> float:
    """The undropped size whose perplexity equals ``target``, interpolated in log N / log ppl.

    ``sizes``/``ppls``: the p = 0 curve. ``branch="decreasing"`` uses the part of the curve up to its
    minimum (where a bigger model is better: all of it for training perplexity, the
    under-fitting side for validation). Returns NaN when ``target`` is outside that range: no
    undropped model of the measured sizes reaches it (better than the best, or worse than the smallest).
    """
    order = np.argsort(sizes)
    n = np.log(np.asarray(sizes, dtype=float)[order])
    y = np.log(np.asarray(ppls, dtype=float)[order])
    if branch == "decreasing":
        stop = int(np.argmin(y)) + 1
        n, y = n[:stop], y[:stop]
    elif branch != "all":
        raise ValueError(f"branch must be 'decreasing' or 'all', got {branch!r}")
    t = math.log(target)
    for k in range(len(y) - 1):
        lo, hi = sorted((y[k], y[k + 1]))
        if lo <= t <= hi and y[k] != y[k + 1]:
            frac = (t - y[k]) / (y[k + 1] - y[k])
            return float(math.exp(n[k] + frac * (n[k + 1] - n[k])))
    if len(y) == 1 and math.isclose(t, y[0]):
        return float(math.exp(n[0]))
    return math.nan


def fit_alpha(sizes, rates, equivalents) -> dict:
    """Least-squares fit of log(N_eq/N) = α·log(1−p) (a line through the origin) with its standard error.

    Cells with p = 0 or no equivalent (NaN) are left out; ``n`` says how many were used.
    """
    sizes, rates, eq = (np.asarray(a, dtype=float) for a in (sizes, rates, equivalents))
    keep = (rates > 0) & np.isfinite(eq) & (eq > 0)
    x, y = np.log(1 - rates[keep]), np.log(eq[keep] / sizes[keep])
    if len(x) == 0:
        return {"alpha": math.nan, "se": math.nan, "n": 0}
    alpha = float((x @ y) / (x @ x))
    if len(x) < 2:
        return {"alpha": alpha, "se": math.nan, "n": 1}
    resid = y - alpha * x
    se = float(math.sqrt((resid @ resid) / (len(x) - 1) / (x @ x)))
    return {"alpha": alpha, "se": se, "n": int(len(x))}


def base_curve(grid, metric: str):
    """The undropped (p = 0) row of the grid: ``metric`` per hidden size, averaged over seeds."""
    return grid[grid.dropout == 0].groupby("hidden_size")[metric].mean().sort_index()


def equivalence_table(grid, metric: str = "train_eval_ppl", branch: str = "decreasing"):
    """The grid's dropout cells with N_eq (the undropped size of equal ``metric``, on the
    seed-averaged p = 0 curve), α, and why an N_eq is missing:

    ``status`` is ``"ok"``; ``"worse"`` (worse than the smallest undropped model: N_eq lies below
    it, ``bound`` = that size); ``"better"`` (better than every undropped model of the branch:
    no smaller model matches it, ``bound`` = the best undropped size); ``"no base"`` (no p = 0 row).
    """
    base = base_curve(grid, metric)
    if branch == "decreasing" and len(base):
        base = base.loc[: base.idxmin()]
    out = grid[grid.dropout > 0].copy()
    out["n_eq"] = [equivalent_size(base.index, base.values, v, branch) if len(base) else math.nan
                   for v in out[metric]]
    out["alpha"] = [alpha_of(n, p, e) for n, p, e in zip(out.hidden_size, out.dropout, out.n_eq)]
    status, bound = [], []
    for v, n_eq in zip(out[metric], out.n_eq):
        if base.empty:
            status.append("no base"), bound.append(math.nan)
        elif math.isfinite(n_eq):
            status.append("ok"), bound.append(math.nan)
        elif v > base.iloc[0]:
            status.append("worse"), bound.append(float(base.index[0]))
        else:
            status.append("better"), bound.append(float(base.idxmin()))
    out["status"], out["bound"] = status, bound
    return out


def summarise_fit(table) -> dict:
    """α fitted over every cell of an :func:`equivalence_table` that has an equivalent."""
    return fit_alpha(table.hidden_size, table.dropout, table.n_eq)


# --------------------------------------------------------------------------------------------
# Inference: weight scaling, MC dropout, an ensemble of small models
# --------------------------------------------------------------------------------------------


def inference_comparison(root: str | os.PathLike, corpus: Corpus, samples: int = 10, split: str = "valid",
                         cell: tuple[int, float] = INFERENCE_CELL, seed: int = 0) -> dict:
    """Perplexity of the dropout cell ``cell`` with weight scaling and with MC dropout (1..``samples``
    passes), beside an ensemble of the undropped :data:`ENSEMBLE` models (1..K members)."""
    from .averaging import mc_dropout_log_probs, running_averages, target_log_probs

    ids = getattr(corpus, split)
    root = Path(root)
    model, config, _ = load_run_model(root / cell_name(*cell, 1), len(corpus.vocab))
    args = (ids, config.batch_size, config.steps)
    weight_scaling = running_averages([target_log_probs(model, *args)])[0]
    mc = running_averages(mc_dropout_log_probs(model, *args, samples=samples, seed=seed))
    members = []
    for s in ENSEMBLE["seeds"]:
        m, _, _ = load_run_model(root / cell_name(ENSEMBLE["hidden_size"], 0.0, s), len(corpus.vocab))
        members.append(target_log_probs(m, *args))
    ensemble = running_averages(members)
    return {
        "split": split, "layout": f"{config.batch_size} streams × {config.steps} steps (the validation layout)",
        "dropout_cell": cell_name(*cell, 1), "dropout_parameters": model.num_parameters(),
        "weight_scaling_ppl": weight_scaling, "mc_dropout_ppl": mc, "mc_seed": seed,
        "ensemble_cells": [cell_name(ENSEMBLE["hidden_size"], 0.0, s) for s in ENSEMBLE["seeds"]],
        "ensemble_member_parameters": m.num_parameters(), "ensemble_ppl": ensemble,
    }

