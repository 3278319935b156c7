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

**Uncertainty.** The grid is single-seed except a few cells (:data:`ENSEMBLE`). :func:`seed_noise`
measures the seed-to-seed spread of log perplexity there; :func:`alpha_fit` fits α per dropout rate
and propagates that noise to every N_eq and α by redrawing the grid's perplexities (a parametric
bootstrap); :func:`equivalence_table` calls a cell "better than every undropped model" only when it
is so by more than that noise; :func:`last_epoch_gains` says which cells were still improving.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import PRESETS, Config, parameter_count
from ..data import Corpus, load_corpus
from ..runfolder import RunFolderError, load_run_model, read_json, read_log
from ..sweeps import ENSEMBLE, GRID, cell_name, grid_cells, grid_config
from .runs import results_dir

__all__ = [
    "ENSEMBLE", "GRID", "GRID_COLUMNS", "GRID_COMMAND", "GRID_PATH", "INFERENCE_CELL", "INFERENCE_COMMAND",
    "PLATEAU", "STATUS", "AlphaFit", "SeedNoise", "active_weights", "alpha_display", "alpha_fit", "alpha_of",
    "base_curve", "candidate_alpha_curves", "candidate_ratio_curves", "cell_name", "dropout_effect",
    "equivalence_display", "equivalence_frame", "equivalence_table", "equivalent_size", "fit_alpha", "fit_summary",
    "format_theory_table", "grid_cells", "grid_config", "grid_status", "grid_table", "inference_comparison",
    "inference_summary", "inference_table", "last_epoch_gains", "last_gain", "load", "load_grid", "load_inference",
    "lstm_lm_macs", "lstm_lm_parameters", "main_grid", "missing_cells", "paper_table", "pivot", "plateau_cells",
    "seed_noise", "slice_unigram", "theory_candidates", "theory_table",
]  # fmt: skip

# --------------------------------------------------------------------------------------------
# Theory
# --------------------------------------------------------------------------------------------


def lstm_lm_parameters(hidden_size: int, num_layers: int = 2, vocab_size: int = 10_000, tied: bool = False) -> int:
    """Parameters of the LSTM LM: embedding V·N, per layer 4N(2N) weights + 2·4N biases, softmax V·N + V."""
    return parameter_count(Config(hidden_size=hidden_size, num_layers=num_layers, tie_weights=tied), vocab_size)


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
    weights = _solve_size(
        lambda m: active_weights(m, 0.0, num_layers, vocab_size), active_weights(n, p, num_layers, vocab_size), n
    )
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


def theory_table(
    hidden_size: int = 200, dropout: float = 0.5, num_layers: int = 2, vocab_size: int = 10_000
) -> pd.DataFrame:
    """Candidate N_eq at (N, p) with the α it implies and the LM's parameters and MACs at that size.

    The first row is the dropout model itself (N units, all present at test time).
    """
    cands = theory_candidates(hidden_size, dropout, num_layers, vocab_size)
    rows = {
        f"the model: N = {hidden_size}, p = {dropout:g}": dict(
            n_eq=float(hidden_size),
            alpha=math.nan,
            parameters=lstm_lm_parameters(hidden_size, num_layers, vocab_size),
            macs=lstm_lm_macs(hidden_size, num_layers, vocab_size),
        )
    }
    for name, n_eq in cands.items():
        rows[name] = dict(
            n_eq=n_eq,
            alpha=alpha_of(hidden_size, dropout, n_eq) + 0.0,  # no "-0.00"
            parameters=lstm_lm_parameters(round(n_eq), num_layers, vocab_size),
            macs=lstm_lm_macs(round(n_eq), num_layers, vocab_size),
        )
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.index.name = "candidate"
    return df


def format_theory_table(df: pd.DataFrame) -> pd.DataFrame:
    """:func:`theory_table` rounded for display: N_eq to 0.1, α to 0.01, counts in millions / thousands."""
    return pd.DataFrame(
        {
            "N_eq": df["n_eq"].round(1),
            "α": df["alpha"].round(2),
            "parameters (M)": (df["parameters"] / 1e6).round(3),
            "MACs/token (k)": (df["macs"] / 1e3).round(1),
        },
        index=df.index,
    )


def paper_table() -> pd.DataFrame:
    """The paper's three models (``rnnreg.train.PRESETS``) with their Table 1 valid perplexity
    (``rnnreg.published.REPORTED``) and each candidate N_eq, rounded to whole units."""
    from ..published import MODELS, reported

    rows = {}
    for model in MODELS:
        n, p = PRESETS[model]["hidden_size"], PRESETS[model]["dropout"]
        row = {"N": n, "p": p, "paper valid": reported(model, "paper")["valid"]}
        row.update({k: round(v) for k, v in theory_candidates(n, p).items()})
        rows[model] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def candidate_ratio_curves(hidden_size: int, rates, num_layers: int = 2, vocab_size: int = 10_000) -> dict:
    """{candidate: [N_eq/N at each rate]}."""
    out: dict[str, list[float]] = {}
    for p in rates:
        for name, v in theory_candidates(hidden_size, float(p), num_layers, vocab_size).items():
            out.setdefault(name, []).append(v / hidden_size)
    return out


def candidate_alpha_curves(hidden_size: int, rates, num_layers: int = 2, vocab_size: int = 10_000) -> dict:
    """{candidate: [α at each rate]} (rates > 0; the test-time candidate is α = 0 everywhere)."""
    return {
        name: [alpha_of(1.0, float(p), r) + 0.0 for p, r in zip(rates, ratios)]
        for name, ratios in candidate_ratio_curves(hidden_size, rates, num_layers, vocab_size).items()
    }


# --------------------------------------------------------------------------------------------
# The grid
# --------------------------------------------------------------------------------------------

# The grid itself (GRID, ENSEMBLE, the cells and their names) is rnnreg.sweeps'; ``python -m rnnreg grid``
# trains it.

#: The dropout model the inference comparison studies (N, p).
INFERENCE_CELL = (200, 0.5)


def slice_unigram(corpus: Corpus | None = None) -> float:
    """Training perplexity of the unigram model of the grid's training slice (word frequencies only):
    the plateau a language model sits on before it learns anything about context."""
    corpus = corpus if corpus is not None else load_corpus()
    return corpus.head(train=GRID["budget"]["max_train_tokens"]).unigram_perplexity("train")


def last_gain(log: list[dict], key: str = "valid_ppl") -> float:
    """How much the last epoch lowered ``key``: log(value at the epoch before / value at the last);
    NaN with fewer than two epochs."""
    if len(log) < 2:
        return math.nan
    return math.log(log[-2][key] / log[-1][key])


def load_grid(root: str | os.PathLike) -> pd.DataFrame:
    """One row per finished cell: N, p, seed, train perplexity (eval mode and with dropout), valid, gap,
    and ``last_valid_gain`` (:func:`last_gain` of the validation perplexity in its log)."""
    rows = []
    for path in sorted(Path(root).glob("h*-p*-seed*")):
        config, s = read_json(path / "config.json"), read_json(path / "summary.json")
        if not config or not s or "train_eval_ppl" not in s:
            continue
        rows.append(
            dict(
                hidden_size=config["hidden_size"],
                dropout=config["dropout"],
                seed=config["seed"],
                train_eval_ppl=s["train_eval_ppl"],
                train_dropout_ppl=s["train_ppl"],
                valid_ppl=s["valid_ppl"],
                best_valid_ppl=s["best_valid_ppl"],
                gap=s["valid_ppl"] / s["train_eval_ppl"],
                last_valid_gain=last_gain(read_log(path / "log.jsonl")),
                parameters=s["parameters"],
                wall_s=s["wall_s"],
                run=path.name,
            )
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# The recorded grid: what is there, as tables
# --------------------------------------------------------------------------------------------

#: The grid folder under the results directory, and the commands that fill it / record inference.
GRID_PATH = "ptb/grid"
GRID_COMMAND = "python -m rnnreg grid --out results/ptb/grid"
INFERENCE_COMMAND = "python -m rnnreg grid --inference"
GRID_COLUMNS = [
    "hidden_size", "dropout", "seed", "train_eval_ppl", "train_dropout_ppl", "valid_ppl", "best_valid_ppl", "gap",
    "last_valid_gain", "parameters", "wall_s", "run",
]  # fmt: skip
#: A cell whose training perplexity is this close (relative) to the unigram model's has learned no context.
PLATEAU = 0.03
#: How far outside the undropped row a cell must lie, in standard deviations of the difference of
#: two single-seed perplexities, before it counts as worse / better than every undropped model.
NOISE_K = 2.0
#: What a cell's ``status`` means (:func:`equivalence_table`): where its perplexity falls against the p = 0 row.
STATUS = {
    "ok": "equivalent found",
    "worse": "worse than the smallest undropped model",
    "better": "better than every undropped model",
    "near smallest": "within seed noise of the smallest undropped model",
    "near best": "within seed noise of the best undropped model",
    "no base": "no p = 0 row yet",
}


def load(results: str | os.PathLike | None = None) -> pd.DataFrame:
    """The finished cells of the recorded grid (:func:`load_grid`); an empty frame with the same
    columns when the folder does not exist or holds no finished cell."""
    root = results_dir(results) / GRID_PATH
    grid = load_grid(root) if root.is_dir() else pd.DataFrame()
    if grid.empty:
        return pd.DataFrame(columns=GRID_COLUMNS).astype({"hidden_size": int, "dropout": float, "seed": int})
    return grid


def main_grid(grid: pd.DataFrame) -> pd.DataFrame:
    """The cells of the N × p grid proper (seeds of :data:`GRID`), without the extra ensemble seeds."""
    return grid[grid.seed.isin(GRID["seeds"])] if not grid.empty else grid


def missing_cells(grid: pd.DataFrame, ensemble: bool = True) -> list[str]:
    """Cell names of :data:`GRID` (and the ensemble seeds) not yet finished."""
    done = set(grid["run"]) if not grid.empty else set()
    return [cell_name(n, p, s) for n, p, s in grid_cells(ensemble=ensemble) if cell_name(n, p, s) not in done]


@dataclass(frozen=True)
class GridStatus:
    """How complete the recorded grid is."""

    done: int  #: cells of the N × p grid recorded
    total: int  #: cells of the N × p grid
    ensemble_done: int  #: ensemble members recorded
    ensemble_total: int
    missing: tuple[str, ...]  #: cell names not yet recorded (grid and ensemble)

    @property
    def complete(self) -> bool:
        return not self.missing


def grid_status(grid: pd.DataFrame) -> GridStatus:
    main = missing_cells(grid, ensemble=False)
    done = set(grid["run"]) if not grid.empty else set()
    members = [cell_name(ENSEMBLE["hidden_size"], 0.0, s) for s in ENSEMBLE["seeds"]]
    total = len(GRID["sizes"]) * len(GRID["rates"]) * len(GRID["seeds"])
    return GridStatus(
        done=total - len(main),
        total=total,
        ensemble_done=sum(m in done for m in members),
        ensemble_total=len(members),
        missing=tuple(dict.fromkeys(main + [m for m in members if m not in done])),
    )


def pivot(grid: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Rate × size table of ``metric`` over the grid's full axes (NaN where a cell is missing)."""
    g = main_grid(grid)
    table = (
        g.pivot_table(index="dropout", columns="hidden_size", values=metric, aggfunc="mean")
        if not g.empty
        else pd.DataFrame()
    )
    rates = sorted({*GRID["rates"], *table.index})  # GRID's axes, plus any extra row trained
    sizes = sorted({*GRID["sizes"], *table.columns})
    return table.reindex(index=rates, columns=sizes).astype(float)


def grid_table(grid: pd.DataFrame, metric: str = "valid_ppl", digits: int = 1) -> pd.DataFrame:
    """:func:`pivot` rounded, with readable labels (rows p, columns N)."""
    t = pivot(grid, metric).round(digits)
    t.index = [f"p={p:g}" for p in t.index]
    t.columns = [f"N={n}" for n in t.columns]
    return t


def dropout_effect(grid: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Each dropout cell's ``metric`` relative to the undropped model of its size (ratio > 1: dropout
    made it higher), as a rate × size table."""
    t = pivot(grid, metric)
    return t.loc[[p for p in t.index if p > 0]] / t.loc[0.0] if 0.0 in t.index else t.iloc[0:0]


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


def equivalence_table(
    grid, metric: str = "train_eval_ppl", branch: str = "decreasing", noise_sd: float | None = None, k: float = NOISE_K
):
    """The grid's dropout cells with N_eq (the undropped size of equal ``metric``, on the
    seed-averaged p = 0 curve), α, and why an N_eq is missing:

    ``status`` is ``"ok"``; ``"worse"`` (worse than the smallest undropped model: N_eq lies below
    it, ``bound`` = that size); ``"better"`` (better than every undropped model of the branch:
    no smaller model matches it, ``bound`` = the best undropped size); ``"no base"`` (no p = 0 row).
    ``margin``: how far outside the p = 0 row the cell lies, in log perplexity.

    With ``noise_sd`` (the seed-to-seed standard deviation of log ``metric``, :func:`seed_noise`), a
    cell outside the row by no more than ``k`` standard deviations of the difference of two
    single-seed values (k·sd·√2) is ``"near best"`` / ``"near smallest"`` instead: within seed noise
    of the row's end, so not counted as better / worse than every undropped model.
    """
    base = base_curve(grid, metric)
    if branch == "decreasing" and len(base):
        base = base.loc[: base.idxmin()]
    out = grid[grid.dropout > 0].copy()
    out["n_eq"] = [equivalent_size(base.index, base.values, v, branch) if len(base) else math.nan for v in out[metric]]
    out["alpha"] = [alpha_of(n, p, e) for n, p, e in zip(out.hidden_size, out.dropout, out.n_eq)]
    tol = k * noise_sd * math.sqrt(2) if noise_sd is not None and math.isfinite(noise_sd) else 0.0
    status, bound, margin = [], [], []
    for v, n_eq in zip(out[metric], out.n_eq):
        if base.empty:
            status.append("no base"), bound.append(math.nan), margin.append(math.nan)
        elif math.isfinite(n_eq):
            status.append("ok"), bound.append(math.nan), margin.append(math.nan)
        elif v > base.iloc[0]:
            m = math.log(v / base.iloc[0])
            status.append("worse" if m > tol else "near smallest"), bound.append(float(base.index[0]))
            margin.append(m)
        else:
            m = math.log(base.min() / v)
            status.append("better" if m > tol else "near best"), bound.append(float(base.idxmin()))
            margin.append(m)
    out["status"], out["bound"], out["margin"] = status, bound, margin
    return out


def equivalence_frame(
    grid: pd.DataFrame, metric: str = "train_eval_ppl", branch: str = "decreasing", noise_sd: float | None = None
) -> pd.DataFrame:
    """:func:`equivalence_table` over the N × p grid proper (seed 1; ``status`` and ``bound`` say
    why an N_eq is missing, see :data:`STATUS`); an empty frame before any cell is recorded."""
    g = main_grid(grid)
    if g.empty:
        return pd.DataFrame(columns=[*GRID_COLUMNS, "n_eq", "alpha", "status", "bound", "margin"])
    return equivalence_table(g, metric, branch, noise_sd)


def fit_summary(table: pd.DataFrame) -> dict:
    """The pooled α ± se over the cells with an equivalent, plus the number of cells of each status."""
    fit = fit_alpha(table.hidden_size, table.dropout, table.n_eq) if len(table) else fit_alpha([], [], [])
    counts = table["status"].value_counts().to_dict() if len(table) else {}
    return {**fit, **{k: int(counts.get(k, 0)) for k in STATUS}}


def equivalence_display(table: pd.DataFrame, metric: str = "train_eval_ppl") -> pd.DataFrame:
    """The per-cell table, rounded, indexed by cell: perplexity, N(1−p), N_eq (with its seed-noise
    range when the table has one, :func:`alpha_fit`), α, status."""
    cols = ["ppl", "N(1−p)", "N_eq", "α", "status"]
    if table.empty:
        return pd.DataFrame(columns=cols)
    t = table.sort_values(["hidden_size", "dropout"])
    out = {
        "ppl": t[metric].round(1).to_numpy(),
        "N(1−p)": (t.hidden_size * (1 - t.dropout)).round(1).to_numpy(),
        "N_eq": t.n_eq.round(1).to_numpy(),
    }
    if "n_eq_low" in t:
        out["N_eq 95 % (seed noise)"] = [
            f"{lo:.3g}–{hi:.3g}" if np.isfinite(lo) and np.isfinite(hi) else ""
            for lo, hi in zip(t.n_eq_low, t.n_eq_high)
        ]
    out["α"] = t.alpha.round(2).to_numpy()
    out["status"] = [STATUS[s] if s != "ok" else "" for s in t.status]
    return pd.DataFrame(out, index=[f"N={n}, p={p:g}" for n, p in zip(t.hidden_size, t.dropout)])


# --------------------------------------------------------------------------------------------
# Seed noise, α per dropout rate, and how far training had got
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeedNoise:
    """The seed-to-seed spread of one metric, from the cells recorded with several seeds."""

    metric: str
    sd: float  #: standard deviation of log ``metric`` between seeds (pooled over cells); NaN without one
    dof: int  #: degrees of freedom behind it: Σ (seeds − 1) over the cells
    cells: tuple[str, ...]  #: the cells (``h0050-p00``) with several seeds
    runs: int  #: runs behind it

    @property
    def relative(self) -> float:
        """The standard deviation as a relative change of perplexity (e^sd − 1)."""
        return math.expm1(self.sd)


def seed_noise(grid: pd.DataFrame, metric: str = "train_eval_ppl") -> SeedNoise:
    """Pooled within-cell standard deviation of log ``metric`` over every (N, p) recorded with two or
    more seeds (the :data:`ENSEMBLE` seeds, and any other seeds trained into the grid folder)."""
    ss, dof, cells, runs = 0.0, 0, [], 0
    if not grid.empty:
        for (n, p), part in grid.groupby(["hidden_size", "dropout"]):
            if len(part) < 2:
                continue
            y = np.log(part[metric].to_numpy(dtype=float))
            ss += float(((y - y.mean()) ** 2).sum())
            dof += len(y) - 1
            cells.append(f"h{int(n):04d}-p{round(p * 100):02d}")
            runs += len(y)
    return SeedNoise(metric, math.sqrt(ss / dof) if dof else math.nan, dof, tuple(cells), runs)


def fit_weight(dropout) -> np.ndarray:
    """The weight a cell at rate p carries in the α fit through the origin: log(1−p)²."""
    return np.log(1 - np.asarray(dropout, dtype=float)) ** 2


@dataclass(frozen=True)
class AlphaFit:
    """α fitted per dropout rate and pooled, with the seed noise propagated (:func:`alpha_fit`)."""

    metric: str
    noise: SeedNoise
    table: pd.DataFrame  #: :func:`equivalence_frame` plus n_eq_low / n_eq_high: central 95 % over the draws
    by_rate: pd.DataFrame  #: one row per rate p, see :func:`alpha_fit`
    pooled: dict  #: alpha, se_fit, se_seed, se, n, and the cells of each status
    draws: int
    k: float

    def ruled_out(self, alpha: float = 1.0, se: str = "se") -> list[float]:
        """The rates at which ``alpha`` lies more than k standard errors (column ``se``: ``"se"``,
        ``"se_fit"`` or ``"se_seed"``) from the fitted α."""
        r = self.by_rate
        return [float(p) for p in r.index[(r.alpha - alpha).abs() > self.k * r[se]]]

    def consistent(self, alpha: float = 1.0, se: str = "se") -> list[float]:
        """The rates with a fitted α at which ``alpha`` is within k standard errors."""
        r = self.by_rate.dropna(subset=[se])
        return [float(p) for p in r.index[(r.alpha - alpha).abs() <= self.k * r[se]]]


def _noise_draws(grid: pd.DataFrame, metric: str, sd: float, draws: int, seed: int, branch: str):
    """Redraw every cell's log ``metric`` with N(0, sd²) noise; per draw, each cell's N_eq and each
    rate's α (and the pooled α)."""
    base = base_curve(grid, metric)
    cells = grid[grid.dropout > 0]
    sizes, rates, values = (cells[c].to_numpy(dtype=float) for c in ("hidden_size", "dropout", metric))
    rate_list = sorted(set(rates))
    rng = np.random.default_rng(seed)
    n_eq = np.full((draws, len(cells)), np.nan)
    alpha = np.full((draws, len(rate_list) + 1), np.nan)
    for d in range(draws):
        b = base.to_numpy() * np.exp(sd * rng.standard_normal(len(base)))
        v = values * np.exp(sd * rng.standard_normal(len(values)))
        n_eq[d] = [equivalent_size(base.index, b, x, branch) for x in v]
        for j, p in enumerate(rate_list):
            at = rates == p
            alpha[d, j] = fit_alpha(sizes[at], rates[at], n_eq[d, at])["alpha"]
        alpha[d, -1] = fit_alpha(sizes, rates, n_eq[d])["alpha"]
    return n_eq, pd.DataFrame(alpha, columns=[*rate_list, "pooled"])


def _std(x) -> float:
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    return float(x.std(ddof=1)) if len(x) > 1 else math.nan


def alpha_fit(
    grid: pd.DataFrame,
    metric: str = "train_eval_ppl",
    noise: SeedNoise | None = None,
    draws: int = 1000,
    seed: int = 0,
    branch: str = "decreasing",
    k: float = NOISE_K,
) -> AlphaFit:
    """α per dropout rate (and pooled) with two standard errors and their sum:

    - ``se_fit``: from the scatter of the rate's cells about their line (cells of different N);
    - ``se_seed``: the seed noise (:func:`seed_noise`, ``noise``) propagated by a parametric
      bootstrap: ``draws`` times, every cell's perplexity (the undropped row included) is redrawn
      with its log shifted by N(0, sd²), N_eq and α recomputed; the standard deviation of α over the
      draws. The undropped row's noise is shared by every cell of a rate, which the scatter cannot see;
    - ``se``: √(se_fit² + se_seed²) (the cells' own noise is in both terms: a wide-side estimate);
      ``se_fit`` alone where there is no noise estimate.

    ``by_rate`` columns: ``cells`` (dropout cells at p), ``n`` (cells with an equivalent), ``alpha``,
    ``se_fit``, ``se_seed``, ``se``, ``units_out`` (α = 1 more than k·se away), ``weight`` (a cell's
    weight in the pooled fit, relative to a cell at the lowest rate) and ``share`` (the rate's share
    of the pooled fit's total weight). Cells whose equivalent the noise moves out of the row in a
    draw leave that draw's fit.
    """
    noise = noise if noise is not None else seed_noise(grid, metric)
    g = main_grid(grid)
    table = equivalence_frame(grid, metric, branch, noise.sd)
    pooled = {**fit_summary(table), "se_seed": math.nan}
    pooled["se_fit"] = pooled.pop("se")
    by_rate = pd.DataFrame(columns=["cells", "n", "alpha", "se_fit", "se_seed", "se", "units_out", "weight", "share"])
    if not table.empty:
        table["n_eq_low"], table["n_eq_high"] = math.nan, math.nan
        sampled = math.isfinite(noise.sd) and draws > 1 and not g[g.dropout == 0].empty
        if sampled:
            n_eq, alphas = _noise_draws(g, metric, noise.sd, draws, seed, branch)
            with np.errstate(all="ignore"):
                for j, idx in enumerate(table.index):
                    col = n_eq[:, j][np.isfinite(n_eq[:, j])]
                    if len(col) and table.at[idx, "status"] == "ok":
                        table.at[idx, "n_eq_low"], table.at[idx, "n_eq_high"] = np.percentile(col, [2.5, 97.5])
            pooled["se_seed"] = _std(alphas["pooled"])
        ok = table[table.status == "ok"]
        total_weight = float(fit_weight(ok.dropout).sum())
        lowest = min(table.dropout)
        rows = {}
        for p, part in table.groupby("dropout"):
            f = fit_alpha(part.hidden_size, part.dropout, part.n_eq)
            se_seed = _std(alphas[p]) if sampled else math.nan
            rows[float(p)] = dict(
                cells=len(part),
                n=f["n"],
                alpha=f["alpha"],
                se_fit=f["se"],
                se_seed=se_seed,
                weight=float(fit_weight(p) / fit_weight(lowest)),
                share=float(fit_weight(p) * f["n"] / total_weight) if total_weight else math.nan,
            )
        by_rate = pd.DataFrame.from_dict(rows, orient="index")
        by_rate.index.name = "dropout"
        by_rate["se"] = np.where(
            np.isfinite(by_rate.se_seed), np.hypot(by_rate.se_fit, by_rate.se_seed), by_rate.se_fit
        )
        by_rate["units_out"] = (by_rate.alpha - 1).abs() > k * by_rate.se
        by_rate = by_rate[["cells", "n", "alpha", "se_fit", "se_seed", "se", "units_out", "weight", "share"]]
    pooled["se"] = (
        math.hypot(pooled["se_fit"], pooled["se_seed"]) if math.isfinite(pooled["se_seed"]) else pooled["se_fit"]
    )
    return AlphaFit(metric, noise, table, by_rate, pooled, draws, k)


def alpha_display(fit: AlphaFit, digits: int = 2) -> pd.DataFrame:
    """:attr:`AlphaFit.by_rate` rounded, with readable column names."""
    r = fit.by_rate
    return pd.DataFrame(
        {
            "cells with N_eq": [f"{n} of {c}" for n, c in zip(r.n, r.cells)],
            "α": r.alpha.round(digits).to_numpy(),
            "s.e. (sizes)": r.se_fit.round(digits).to_numpy(),
            "s.e. (seeds)": r.se_seed.round(digits).to_numpy(),
            "s.e.": r.se.round(digits).to_numpy(),
            f"α = 1 within {fit.k:g} s.e.": ~r.units_out.to_numpy(dtype=bool),
            "weight per cell (pooled fit)": r.weight.round(1).to_numpy(),
        },
        index=[f"p={p:g}" for p in r.index],
    )


def last_epoch_gains(grid: pd.DataFrame, noise: SeedNoise | None = None) -> pd.DataFrame:
    """The N × p grid's cells with ``last_valid_gain`` (how much the last epoch lowered validation
    perplexity, in log) and ``improving``: that gain exceeds the seed-to-seed standard deviation of
    log validation perplexity (``noise``, by default :func:`seed_noise` of ``valid_ppl``)."""
    noise = noise if noise is not None else seed_noise(grid, "valid_ppl")
    g = main_grid(grid)
    cols = ["hidden_size", "dropout", "last_valid_gain"]
    if g.empty or "last_valid_gain" not in g:
        return pd.DataFrame(columns=[*cols, "improving"])
    out = g[cols].sort_values(["dropout", "hidden_size"]).reset_index(drop=True)
    out["improving"] = out.last_valid_gain > noise.sd
    return out


def plateau_cells(
    table: pd.DataFrame, unigram: float, metric: str = "train_eval_ppl", tol: float = PLATEAU
) -> pd.DataFrame:
    """The cells of ``table`` whose ``metric`` is within ``tol`` (relative) of the unigram model's
    (:func:`slice_unigram`): they learned word frequencies and nothing more."""
    if table.empty:
        return table
    return table[(table[metric] / unigram - 1).abs() < tol]


# --------------------------------------------------------------------------------------------
# Inference: weight scaling, MC dropout, an ensemble of small models
# --------------------------------------------------------------------------------------------


def inference_comparison(
    root: str | os.PathLike,
    corpus: Corpus,
    samples: int = 10,
    split: str = "valid",
    cell: tuple[int, float] = INFERENCE_CELL,
    seed: int = 0,
) -> dict:
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
        "split": split,
        "layout": f"{config.batch_size} streams × {config.steps} steps (the validation layout)",
        "dropout_cell": cell_name(*cell, 1),
        "dropout_parameters": model.num_parameters(),
        "weight_scaling_ppl": weight_scaling,
        "mc_dropout_ppl": mc,
        "mc_seed": seed,
        "ensemble_cells": [cell_name(ENSEMBLE["hidden_size"], 0.0, s) for s in ENSEMBLE["seeds"]],
        "ensemble_member_parameters": m.num_parameters(),
        "ensemble_ppl": ensemble,
    }


def load_inference(results: str | os.PathLike | None = None) -> dict | None:
    """``inference.json`` of the recorded grid, or None when it is not recorded (or unreadable)."""
    try:
        return read_json(results_dir(results) / GRID_PATH / "inference.json")
    except RunFolderError:
        return None


def inference_summary(inference: dict | None) -> dict | None:
    """The recorded comparison's end points: ``weight_scaling``, ``mc`` (MC dropout at ``samples``
    passes), ``ensemble`` (``members`` undropped models averaged), ``single`` (one member alone),
    parameters of the dropout model and of one member; None when nothing is recorded."""
    if not inference:
        return None
    mc, ens = inference["mc_dropout_ppl"], inference["ensemble_ppl"]
    return dict(
        cell=inference["dropout_cell"],
        weight_scaling=inference["weight_scaling_ppl"],
        mc=mc[-1],
        samples=len(mc),
        ensemble=ens[-1],
        members=len(ens),
        single=ens[0],
        dropout_parameters=inference["dropout_parameters"],
        member_parameters=inference["ensemble_member_parameters"],
    )


def inference_table(inference: dict | None, digits: int = 1) -> pd.DataFrame:
    """Perplexity of each prediction rule at its last sample count, with parameters held
    (one row saying what to run when nothing is recorded)."""
    s = inference_summary(inference)
    if not s:
        return pd.DataFrame(
            {"perplexity": ["—"], "forward passes": ["—"], "parameters (M)": ["—"]},
            index=[f"not yet recorded ({INFERENCE_COMMAND})"],
        )
    dp, ep = s["dropout_parameters"], s["member_parameters"]
    rows = {
        f"weight scaling ({s['cell']})": (s["weight_scaling"], 1, dp),
        f"MC dropout, S = {s['samples']}": (s["mc"], s["samples"], dp),
        f"ensemble of {s['members']} undropped": (s["ensemble"], s["members"], ep * s["members"]),
        "one ensemble member": (s["single"], 1, ep),
    }
    return pd.DataFrame(
        {
            "perplexity": [round(v[0], digits) for v in rows.values()],
            "forward passes": [v[1] for v in rows.values()],
            "parameters (M)": [round(v[2] / 1e6, 2) for v in rows.values()],
        },
        index=list(rows),
    )
