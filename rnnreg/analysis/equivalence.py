r"""Chapter 04: is a large model with dropout equivalent to a smaller model without it?

Theory: each count of what a ``zaremba`` mask leaves of N units at rate p is N_eq = N(1−p)^α
(:func:`theory_candidates`). Measured: on the N × p grid (:data:`GRID`), N_eq is the undropped size with the
same perplexity (:func:`equivalent_size`) and α is fitted per rate (:func:`alpha_fit`), the seed noise of
:data:`ENSEMBLE`'s cell (:func:`seed_noise`) propagated by a parametric bootstrap, with 95 % Student-t
intervals (:func:`t95`: a rate has only 3-5 cells with an equivalent).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import Config, parameter_count
from ..data import Corpus, load_corpus
from ..runfolder import load_run_model, read_json, read_log
from ..sweeps import ENSEMBLE, GRID, cell_name, grid_cells, grid_config  # noqa: F401 (chapter 04 reads them here)
from .runs import results_dir

GRID_PATH = "ptb/grid"  # under the results directory
GRID_COMMAND = "python -m rnnreg grid --out results/ptb/grid"
INFERENCE_COMMAND = "python -m rnnreg grid --inference"
INFERENCE_CELL = (200, 0.5)  # the dropout model (N, p) the inference comparison studies
GRID_COLUMNS = [
    "hidden_size", "dropout", "seed", "train_eval_ppl", "train_dropout_ppl", "valid_ppl", "best_valid_ppl", "gap",
    "last_valid_gain", "parameters", "wall_s", "run",
]  # fmt: skip
#: A cell whose training perplexity is this close (relative) to the unigram model's has learned no context.
PLATEAU = 0.03
#: Two-sided 95 % quantiles of Student's t by degrees of freedom 0-10 (scipy is not a dependency).
T95 = (math.inf, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228)


def t95(dof: int) -> float:
    """The t quantile of a 95 % interval on ``dof`` degrees of freedom (beyond 10: the value at 10, wide side)."""
    return T95[min(max(int(dof), 0), 10)]


# --- Theory (2 layers, a vocabulary of V = 10,000 words) ----------------------------------------
def active_weights(hidden_size: float, dropout: float) -> float:
    """Expected weights whose input unit survives ``zaremba``'s masks: the embedding output (V·N), each layer's
    input (4N·N) and the softmax input (V·N) are masked; the recurrent weights and the biases are not."""
    n, v = hidden_size, 10_000
    return (1 - dropout) * (2 * v * n + 2 * 4 * n * n) + 2 * (4 * n * n + 8 * n) + v


def theory_candidates(hidden_size: int, dropout: float) -> dict:
    """{candidate: N_eq} for a ``zaremba`` model of N units at rate p."""
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    n, p = float(hidden_size), dropout
    target, lo, hi = active_weights(n, p), 0.0, n
    for _ in range(100):  # bisection: active_weights(N_eq, 0) = active_weights(N, p)
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if active_weights(mid, 0.0) < target else (lo, mid)
    return {
        "units": n * (1 - p),
        "pairs (seed's N·N)": math.sqrt(n * n * (1 - p) ** 2),  # N_eq² = N²(1−p)²
        "pairs under zaremba": n * math.sqrt(1 - p / 2),
        "weights of the LM under zaremba": (lo + hi) / 2,
        "test time (all units)": n,
    }


def alpha_of(hidden_size: float, dropout: float, equivalent: float) -> float:
    """α with N_eq = N(1−p)^α (NaN for p = 0 or a missing N_eq); never -0.0."""
    if dropout <= 0 or not (equivalent and equivalent > 0 and math.isfinite(equivalent)):
        return math.nan
    return math.log(equivalent / hidden_size) / math.log(1 - dropout) + 0.0


def theory_table(hidden_size: int = 200, dropout: float = 0.5) -> pd.DataFrame:
    """Each candidate's N_eq at (N, p), its α, and the parameters of an LM that size (first row: the model)."""
    cands = theory_candidates(hidden_size, dropout)
    sizes = [hidden_size, *map(round, cands.values())]
    return pd.DataFrame(
        {
            "N_eq": [round(v, 1) for v in (hidden_size, *cands.values())],
            "α": [math.nan, *(round(alpha_of(hidden_size, dropout, v), 2) for v in cands.values())],
            "parameters (M)": [round(parameter_count(Config(hidden_size=n), 10_000) / 1e6, 3) for n in sizes],
        },
        index=pd.Index([f"the model: N = {hidden_size}, p = {dropout:g}", *cands], name="candidate"),
    )


def candidate_alpha_curves(hidden_size: int, rates) -> dict:
    """{candidate: [α at each rate > 0]} (the test-time candidate is α = 0 everywhere)."""
    at = {float(p): theory_candidates(hidden_size, float(p)) for p in rates}
    return {name: [alpha_of(hidden_size, p, c[name]) for p, c in at.items()] for name in theory_candidates(1, 0.0)}


# --- The recorded grid --------------------------------------------------------------------------
def slice_unigram(corpus: Corpus | None = None) -> float:
    """Training perplexity of the unigram model of the grid's slice: the plateau before a model learns context."""
    corpus = corpus if corpus is not None else load_corpus()
    return corpus.head(train=GRID["budget"]["max_train_tokens"]).unigram_perplexity("train")


def load_grid(root: str | os.PathLike) -> pd.DataFrame:
    """One row per finished cell under ``root`` (:data:`GRID_COLUMNS`); ``last_valid_gain``: log(valid
    perplexity at the epoch before the last / at the last), NaN with fewer than two epochs."""
    rows = []
    for path in sorted(Path(root).glob("h*-p*-seed*")):
        config, s = read_json(path / "config.json"), read_json(path / "summary.json")
        if not config or not s or "train_eval_ppl" not in s:
            continue
        keep = ("train_eval_ppl", "valid_ppl", "best_valid_ppl", "parameters", "wall_s")
        row = {k: config[k] for k in ("hidden_size", "dropout", "seed")} | {k: s[k] for k in keep}
        row |= dict(train_dropout_ppl=s["train_ppl"], gap=s["valid_ppl"] / s["train_eval_ppl"], run=path.name)
        log = [e["valid_ppl"] for e in read_log(path / "log.jsonl")]
        rows.append(row | {"last_valid_gain": math.log(log[-2] / log[-1]) if len(log) >= 2 else math.nan})
    return pd.DataFrame(rows, columns=GRID_COLUMNS).astype({"hidden_size": int, "dropout": float, "seed": int})


def load(results: str | os.PathLike | None = None) -> pd.DataFrame:
    """The recorded grid (:func:`load_grid` of ``results/ptb/grid``); empty when there is none."""
    return load_grid(results_dir(results) / GRID_PATH)


def main_grid(grid: pd.DataFrame) -> pd.DataFrame:
    """The N × p grid proper (:data:`GRID`'s seeds), without the extra ensemble seeds."""
    return grid[grid.seed.isin(GRID["seeds"])]


def missing_cells(grid: pd.DataFrame, ensemble: bool = True) -> list[str]:
    """Names of the cells of :data:`GRID` (and of the ensemble) not yet recorded."""
    done = set(grid["run"])
    return [cell_name(*c) for c in grid_cells(ensemble=ensemble) if cell_name(*c) not in done]


def pivot(grid: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Rate × size table of ``metric`` over the grid's axes and any extra row or column (NaN: missing)."""
    table = main_grid(grid).pivot_table(index="dropout", columns="hidden_size", values=metric, aggfunc="mean")
    rates, sizes = sorted({*GRID["rates"], *table.index}), sorted({*GRID["sizes"], *table.columns})
    return table.reindex(index=rates, columns=sizes).astype(float)


def dropout_effect(grid: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Each dropout cell's ``metric`` over the undropped model of its size (> 1: dropout raised it)."""
    t = pivot(grid, metric)
    return t.loc[t.index > 0] / t.loc[0.0]


# --- Equivalent size, seed noise, α -------------------------------------------------------------
def equivalent_size(sizes, ppls, target: float) -> float:
    """The undropped size whose perplexity equals ``target``, interpolated in log N / log ppl along the
    p = 0 curve (``sizes``, ``ppls``) up to its minimum (the under-fitting side). NaN when no measured size
    reaches ``target``."""
    order = np.argsort(sizes)
    n, y = np.log(np.asarray(sizes, dtype=float)[order]), np.log(np.asarray(ppls, dtype=float)[order])
    n, y, t = n[: np.argmin(y) + 1], y[: np.argmin(y) + 1], math.log(target)
    for k in range(len(y) - 1):
        if min(y[k], y[k + 1]) <= t <= max(y[k], y[k + 1]) and y[k] != y[k + 1]:
            return float(math.exp(n[k] + (t - y[k]) / (y[k + 1] - y[k]) * (n[k + 1] - n[k])))
    return float(math.exp(n[0])) if len(y) == 1 and math.isclose(t, y[0]) else math.nan


def fit_alpha(sizes, rates, equivalents) -> dict:
    """Least squares of log(N_eq/N) = α·log(1−p), a line through the origin: alpha, se, and n (the cells
    used: p > 0 with an equivalent)."""
    sizes, rates, eq = (np.asarray(a, dtype=float) for a in (sizes, rates, equivalents))
    keep = (rates > 0) & np.isfinite(eq) & (eq > 0)
    x, y = np.log(1 - rates[keep]), np.log(eq[keep] / sizes[keep])
    if len(x) == 0:
        return {"alpha": math.nan, "se": math.nan, "n": 0}
    alpha = float((x @ y) / (x @ x))
    resid = y - alpha * x
    se = math.sqrt((resid @ resid) / (len(x) - 1) / (x @ x)) if len(x) > 1 else math.nan
    return {"alpha": alpha, "se": se, "n": int(len(x))}


def base_curve(grid: pd.DataFrame, metric: str) -> pd.Series:
    """The undropped (p = 0) row: ``metric`` per hidden size, averaged over seeds."""
    return grid[grid.dropout == 0].groupby("hidden_size")[metric].mean().sort_index()


@dataclass(frozen=True)
class SeedNoise:
    """The seed-to-seed spread of one metric, from the cells recorded with several seeds."""

    sd: float  #: standard deviation of log perplexity between seeds, pooled over cells; NaN without one
    dof: int  #: its degrees of freedom: Σ (seeds − 1) over the cells
    cells: tuple[str, ...]  #: the cells (``h0050-p00``) with several seeds
    runs: int


def seed_noise(grid: pd.DataFrame, metric: str = "train_eval_ppl") -> SeedNoise:
    """Pooled within-cell standard deviation of log ``metric`` over every (N, p) with two or more seeds."""
    ss, dof, cells, runs = 0.0, 0, [], 0
    for (n, p), part in grid.groupby(["hidden_size", "dropout"]):
        if len(part) > 1:
            y = np.log(part[metric].to_numpy(dtype=float))
            ss, dof, runs = ss + float(((y - y.mean()) ** 2).sum()), dof + len(y) - 1, runs + len(y)
            cells.append(cell_name(int(n), p).rpartition("-")[0])
    return SeedNoise(math.sqrt(ss / dof) if dof else math.nan, dof, tuple(cells), runs)


def equivalence_table(
    grid: pd.DataFrame, metric: str = "train_eval_ppl", noise: SeedNoise | None = None
) -> pd.DataFrame:
    """The grid's dropout cells with ``n_eq``, ``alpha`` and ``status``: ``"ok"``, ``"worse"`` than the smallest
    undropped model or ``"better"`` than every one, ``"near smallest"`` / ``"near best"`` when by no more than
    t·sd·√2 in log perplexity (the 95 % range of the difference of two one-seed values, ``noise``), ``"no base"``."""
    g = main_grid(grid)
    if g.empty:
        return pd.DataFrame(columns=[*GRID_COLUMNS, "n_eq", "alpha", "status"])
    base, out = base_curve(g, metric), g[g.dropout > 0].copy()
    out["n_eq"] = [equivalent_size(base.index, base.values, v) if len(base) else math.nan for v in out[metric]]
    out["alpha"] = [alpha_of(n, p, e) for n, p, e in zip(out.hidden_size, out.dropout, out.n_eq)]
    tol = t95(noise.dof) * noise.sd * math.sqrt(2) if noise is not None and math.isfinite(noise.sd) else 0.0
    status = []
    for v, n_eq in zip(out[metric], out.n_eq):
        if base.empty or math.isfinite(n_eq):
            status.append("no base" if base.empty else "ok")
        elif v > base.iloc[0]:
            status.append("worse" if math.log(v / base.iloc[0]) > tol else "near smallest")
        else:
            status.append("better" if math.log(base.min() / v) > tol else "near best")
    return out.assign(status=status)


@dataclass(frozen=True)
class AlphaFit:
    """α fitted per dropout rate with the seed noise propagated (:func:`alpha_fit`)."""

    metric: str
    noise: SeedNoise
    table: pd.DataFrame  #: :func:`equivalence_table`
    by_rate: pd.DataFrame  #: per rate: cells, n, alpha, se_fit, se_seed, se, dof, low, high (95 % interval)

    def ruled_out(self, alpha: float = 1.0, se: str = "se") -> list[float]:
        """The rates whose 95 % t interval (built on column ``se``) excludes ``alpha``."""
        r = self.by_rate
        return [float(p) for p in r.index[(r.alpha - alpha).abs() > r.dof.map(t95) * r[se]]]

    def consistent(self, alpha: float = 1.0, se: str = "se") -> list[float]:
        """The rates with a fitted α whose 95 % t interval holds ``alpha``."""
        return [p for p in self.by_rate.dropna(subset=[se]).index if p not in self.ruled_out(alpha, se)]


def _alpha_draws(grid: pd.DataFrame, metric: str, sd: float, draws: int, seed: int) -> dict:
    """{rate: its α in each of ``draws`` redraws of every cell's log ``metric`` with N(0, sd²) noise}."""
    base, cells = base_curve(grid, metric), grid[grid.dropout > 0]
    sizes, rates, values = (cells[c].to_numpy(dtype=float) for c in ("hidden_size", "dropout", metric))
    rng = np.random.default_rng(seed)
    alpha = {p: np.full(draws, np.nan) for p in sorted(set(rates))}
    for d in range(draws):
        b = base.to_numpy() * np.exp(sd * rng.standard_normal(len(base)))
        v = values * np.exp(sd * rng.standard_normal(len(values)))
        n_eq = np.array([equivalent_size(base.index, b, x) for x in v])
        for p in alpha:
            alpha[p][d] = fit_alpha(sizes[rates == p], rates[rates == p], n_eq[rates == p])["alpha"]
    return alpha


def alpha_fit(
    grid: pd.DataFrame, metric: str = "train_eval_ppl", noise: SeedNoise | None = None, draws: int = 1000, seed: int = 0
) -> AlphaFit:
    """α per dropout rate: ``se_fit``, the scatter of the rate's cells about their line; ``se_seed``, the spread
    of α over ``draws`` parametric-bootstrap redraws of every cell (undropped row included, whose noise every
    cell shares) with the seed noise ``noise``; ``se`` = √(se_fit² + se_seed²) (the cells' own noise counted
    twice: wide side); ``dof`` = n − 1, capped by the noise's; ``low``, ``high`` = α ∓ t95(dof)·se."""
    noise = noise if noise is not None else seed_noise(grid, metric)
    table = equivalence_table(grid, metric, noise)
    cols = ["cells", "n", "alpha", "se_fit", "se_seed", "se", "dof", "low", "high"]
    if table.empty:
        return AlphaFit(metric, noise, table, pd.DataFrame(columns=cols))
    g = main_grid(grid)
    sampled = math.isfinite(noise.sd) and draws > 1 and (g.dropout == 0).any()
    alphas = _alpha_draws(g, metric, noise.sd, draws, seed) if sampled else {}
    rows = {}
    for p, part in table.groupby("dropout"):
        f = fit_alpha(part.hidden_size, part.dropout, part.n_eq)
        a = alphas[p][np.isfinite(alphas[p])] if sampled else []
        se_seed = float(a.std(ddof=1)) if len(a) > 1 else math.nan
        dof = min(f["n"] - 1, noise.dof) if sampled else f["n"] - 1
        rows[float(p)] = dict(cells=len(part), n=f["n"], alpha=f["alpha"], se_fit=f["se"], se_seed=se_seed, dof=dof)
    r = pd.DataFrame.from_dict(rows, orient="index").rename_axis("dropout")
    r["se"] = np.where(np.isfinite(r.se_seed), np.hypot(r.se_fit, r.se_seed), r.se_fit)
    half = r.dof.map(t95) * r.se
    r["low"], r["high"] = r.alpha - half, r.alpha + half
    return AlphaFit(metric, noise, table, r[cols])


def alpha_display(fit: AlphaFit) -> pd.DataFrame:
    """:attr:`AlphaFit.by_rate` rounded, with readable column names."""
    r = fit.by_rate
    out = r[["alpha", "se_fit", "se_seed", "se"]].astype(float).round(2)
    out.columns = ["α", "s.e. (sizes)", "s.e. (seeds)", "s.e."]
    out.insert(0, "cells with N_eq", [f"{n} of {c}" for n, c in zip(r.n, r.cells)])
    out["t (dof)"] = [f"{t95(d):.2f} ({d})" for d in r.dof]
    out["95 % interval"] = [f"{lo:.2f} to {hi:.2f}" for lo, hi in zip(r.low, r.high)]
    return out.set_axis([f"p={p:g}" for p in r.index])


def last_epoch_gains(grid: pd.DataFrame, noise: SeedNoise | None = None) -> pd.DataFrame:
    """The grid's cells with ``last_valid_gain`` and ``improving``: that gain exceeds ``noise``'s sd (by default
    :func:`seed_noise` of ``valid_ppl``)."""
    noise = noise if noise is not None else seed_noise(grid, "valid_ppl")
    out = main_grid(grid)[["hidden_size", "dropout", "last_valid_gain"]].sort_values(["dropout", "hidden_size"])
    return out.reset_index(drop=True).assign(improving=lambda t: t.last_valid_gain > noise.sd)


def plateau_cells(table: pd.DataFrame, unigram: float, metric: str = "train_eval_ppl", tol: float = PLATEAU):
    """The cells whose ``metric`` is within ``tol`` (relative) of the unigram model's (:func:`slice_unigram`)."""
    return table[(table[metric] / unigram - 1).abs() < tol]


# --- Inference: weight scaling, MC dropout, an ensemble of small models --------------------------
def inference_comparison(
    root: str | os.PathLike, corpus: Corpus, samples: int = 10, split: str = "valid", seed: int = 0
) -> dict:
    """Perplexity of the dropout cell :data:`INFERENCE_CELL` with weight scaling and with MC dropout
    (1..``samples`` passes), beside an ensemble of the undropped :data:`ENSEMBLE` models (1..K members)."""
    from .averaging import mc_dropout_log_probs, running_averages, target_log_probs

    root, ids = Path(root), getattr(corpus, split)
    model, config, _ = load_run_model(root / cell_name(*INFERENCE_CELL), len(corpus.vocab))
    args = (ids, config.batch_size, config.steps)
    members = [cell_name(ENSEMBLE["hidden_size"], 0.0, s) for s in ENSEMBLE["seeds"]]
    log_probs = []
    for name in members:
        member, _, _ = load_run_model(root / name, len(corpus.vocab))
        log_probs.append(target_log_probs(member, *args))
    return {
        "split": split,
        "layout": f"{config.batch_size} streams × {config.steps} steps",
        "dropout_cell": cell_name(*INFERENCE_CELL),
        "dropout_parameters": model.num_parameters(),
        "weight_scaling_ppl": running_averages([target_log_probs(model, *args)])[0],
        "mc_dropout_ppl": running_averages(mc_dropout_log_probs(model, *args, samples=samples, seed=seed)),
        "mc_seed": seed,
        "ensemble_cells": members,
        "ensemble_member_parameters": member.num_parameters(),
        "ensemble_ppl": running_averages(log_probs),
    }


def load_inference(results: str | os.PathLike | None = None) -> dict | None:
    """``inference.json`` of the recorded grid, or None when it is not recorded."""
    return read_json(results_dir(results) / GRID_PATH / "inference.json")


def inference_summary(inference: dict | None) -> dict | None:
    """The comparison's end points and parameters; None when nothing is recorded."""
    if not inference:
        return None
    mc, ens, i = inference["mc_dropout_ppl"], inference["ensemble_ppl"], inference
    out = dict(cell=i["dropout_cell"], weight_scaling=i["weight_scaling_ppl"], mc=mc[-1], samples=len(mc))
    out |= dict(ensemble=ens[-1], members=len(ens), single=ens[0], dropout_parameters=i["dropout_parameters"])
    return out | {"member_parameters": i["ensemble_member_parameters"]}
