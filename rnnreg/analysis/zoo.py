"""Chapter 05's data: the scheme zoo at one common budget, training speed, and model averaging.

Nothing here trains or plots. It reads what was recorded under ``results/`` and lays it out as
pandas tables, and says in words what is missing:

- the scheme zoo ``results/ptb/zoo/<scheme>-seed<k>/`` (``scripts/run_zoo.sh``): one folder per
  scheme and seed, written by ``rnnreg.train.train`` (config, per-epoch log, summary);
- the training speed ``results/bench/cpu.json`` (``python -m rnnreg bench``);
- the averaging result ``results/ptb/averaging/small.json`` (``python -m rnnreg average``).

With one seed per scheme every table says "one seed" and gives no spread; with two or more it
gives the mean over the complete seeds and the spread (max − min). :func:`answer` turns the
tables into the chapter's closing paragraph, so the prose follows the data.
"""
from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import pandas as pd

from ..model import FUSED_SCHEMES, SCHEMES
from ..published import FOLLOW_UPS
from .runs import Run, follow_ups_table, load_run, load_runs, reported_averaging, results_dir

#: Where the zoo, the benchmark and the averaging result live under the results folder.
ZOO = "ptb/zoo"
BENCH = "bench/cpu.json"
AVERAGING = "ptb/averaging/small.json"
#: How the zoo and the averaging result are recorded (for "not yet recorded here" messages).
ZOO_COMMAND = "scripts/run_zoo.sh 2    # seed 2 of every scheme; scripts/run_zoo.sh 1 for seed 1"
AVERAGE_COMMAND = ("python -m rnnreg average results/ptb/small results/ptb/small-seed2 --split test "
                   "--out results/ptb/averaging/small.json")
#: The common budget, in words (``scripts/run_zoo.sh``).
BUDGET = ("2×200 LSTM, dropout 0.5 on every site of the scheme (none: 0; zoneout keeps h / c with "
          "0.05 / 0.5), the first 300,000 PTB training tokens, 6 epochs, learning rate 1 then halved "
          "each epoch from epoch 4; valid and test on the full splits")
#: Metrics the curves can show (log columns, plus the gap valid − train).
METRICS = {"valid_ppl": "valid perplexity", "train_ppl": "train perplexity (dropout on)",
           "gap": "valid − train perplexity", "both": "train (dashed) and valid (solid)"}

_SEED = re.compile(r"^(?P<scheme>.+)-seed(?P<seed>\d+)$")


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------
def load_zoo(results: str | os.PathLike | None = None, zoo: str = ZOO) -> dict[str, list[Run]]:
    """``{scheme: [Run, ...]}`` for every zoo folder with a ``config.json``, runs ordered by seed.

    Schemes are ordered as ``rnnreg.model.SCHEMES``; schemes with no folder are absent (see
    :func:`missing`). Runs still training are included (``Run.complete`` is False).
    """
    root = results_dir(results) / zoo
    found: dict[str, list[tuple[int, Run]]] = {}
    for cfg in sorted(root.glob("*-seed*/config.json")):
        m = _SEED.match(cfg.parent.name)
        if not m or m["scheme"] not in SCHEMES:
            continue
        try:
            run = load_run(cfg.parent, results)
        except (ValueError, OSError):  # half-written: treat as not recorded
            continue
        found.setdefault(m["scheme"], []).append((int(m["seed"]), run))
    return {s: [r for _, r in sorted(found[s], key=lambda t: t[0])] for s in SCHEMES if s in found}


def seed_of(run: Run) -> int:
    m = _SEED.match(Path(run.path).name)
    return int(m["seed"]) if m else int(run.config.get("seed", 0))


def missing(zoo: dict, schemes=SCHEMES) -> list[str]:
    """Schemes with no complete run."""
    return [s for s in schemes if not any(r.complete for r in zoo.get(s, []))]


def seeds(zoo: dict) -> dict[str, list[int]]:
    """Complete seeds per scheme."""
    return {s: [seed_of(r) for r in rs if r.complete] for s, rs in zoo.items()}


def status_text(zoo: dict) -> str:
    """Which runs the chapter reads, which are incomplete and which are missing (one paragraph)."""
    if not zoo:
        return f"No zoo run recorded here yet (results/{ZOO}). Record them with: {ZOO_COMMAND}"
    done = seeds(zoo)
    counts = sorted({len(v) for v in done.values() if v})
    if counts == [1]:
        lead = "One seed per scheme"
    elif counts:
        lead = "Seeds per scheme: " + ", ".join(f"{s} {len(v)}" for s, v in done.items() if v)
    else:
        lead = "No complete run yet"
    parts = [f"{lead}; recorded runs results/{ZOO}/<scheme>-seed<k>."]
    pending = [f"{r.name} ({r.status})" for rs in zoo.values() for r in rs if not r.complete]
    if pending:
        parts.append("Still training (not in the tables' numbers): " + "; ".join(pending) + ".")
    gone = missing(zoo)
    if gone:
        parts.append("Not yet recorded here: " + ", ".join(gone) + ".")
    return " ".join(parts)


def load_bench(results: str | os.PathLike | None = None, path: str = BENCH) -> dict | None:
    """``results/bench/cpu.json`` or None when it is missing or unreadable."""
    p = results_dir(results) / path
    try:
        return json.loads(p.read_text())
    except (OSError, ValueError):
        return None


def _speed_rows(bench: dict | None, shape: str, precision: str) -> dict[str, dict]:
    """The benchmark's eager rows (every scheme on the same footing) by scheme."""
    return {r["scheme"]: r for r in (bench or {}).get("rows", [])
            if r.get("shape") == shape and r.get("precision") == precision and r.get("scheme") in SCHEMES
            and not r.get("compiled", False)}


def speed_table(bench: dict | None, shape: str = "small", precision: str = "fp32") -> pd.DataFrame:
    """Training tokens/s per scheme at one shape and precision (rounded to 100) and × the reference."""
    rows = {s: {"tokens/s": int(round(r["tokens_per_s"], -2)), "× reference": round(r["ratio_to_reference"], 2)}
            for s, r in _speed_rows(bench, shape, precision).items()}
    return pd.DataFrame.from_dict(rows, orient="index", columns=["tokens/s", "× reference"])


def speed_text(bench: dict | None, shape: str = "small", precision: str = "fp32") -> str:
    """What the benchmark says about the cost of a custom per-step cell, in a sentence or two."""
    rows = _speed_rows(bench, shape, precision)
    if not rows:
        return "No benchmark is recorded (`python -m rnnreg bench --out results/bench/cpu.json`)."
    fused = [s for s in FUSED_SCHEMES if s in rows]
    custom = [s for s in SCHEMES if s not in FUSED_SCHEMES and s in rows]

    def span(percents) -> str:  # e.g. "4–15 % slower", "2 % faster", "between 3 % slower and 5 % faster"
        lo, hi = round(min(percents)), round(max(percents))
        if lo < 0 < hi:
            return f"between {-lo} % slower and {hi} % faster"
        a, b = sorted((abs(lo), abs(hi)))
        return (f"{a}–{b} % " if a != b else f"{a} % ") + ("slower" if hi <= 0 else "faster")

    text = (f"{', '.join(f'`{s}`' for s in fused)} run on the fused `nn.LSTM` kernel"
            + (" (`weight_drop` with its DropConnect'ed W_hh)" if "weight_drop" in fused else ""))
    if custom:
        text += (f"; {', '.join(f'`{s}`' for s in custom)} touch the recurrence at every step and need a custom "
                 f"per-step cell (`rnnreg/model.py`): "
                 f"{span([100 * (rows[s]['ratio_to_reference'] - 1) for s in custom])} than the reference here "
                 f"({shape} shape, {precision})")
        if "zaremba" in rows:
            base = rows["zaremba"]["tokens_per_s"]
            text += f", {span([100 * (rows[s]['tokens_per_s'] / base - 1) for s in custom])} than `zaremba`"
    return text + "."


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------
def runs_table(zoo: dict, digits: int = 1) -> pd.DataFrame:
    """One row per recorded run: last-epoch train (dropout on) / valid, best valid, test, gap."""
    rows = []
    for scheme, rs in zoo.items():
        for r in rs:
            s = r.summary or {}
            train, valid = r.final("train_ppl"), r.final("valid_ppl")
            rows.append({"scheme": scheme, "seed": seed_of(r), "status": r.status,
                         "train_ppl": round(train, digits), "valid_ppl": round(valid, digits),
                         "best_valid_ppl": round(float(r.log["valid_ppl"].min()), digits) if len(r.log) else math.nan,
                         "test_ppl": round(s["test_ppl"], digits) if s.get("test_ppl") is not None else math.nan,
                         "gap": round(valid - train, digits)})
    cols = ["scheme", "seed", "status", "train_ppl", "valid_ppl", "best_valid_ppl", "test_ppl", "gap"]
    return pd.DataFrame(rows, columns=cols)


def _spread(values: pd.Series) -> float:
    return float(values.max() - values.min()) if len(values) > 1 else math.nan


def scheme_table(zoo: dict, bench: dict | None = None, digits: int = 1) -> pd.DataFrame:
    """One row per scheme over its complete seeds, in ``SCHEMES`` order.

    ``valid_ppl`` / ``test_ppl``: mean over seeds (last epoch; test: batch 1, the paper's protocol);
    ``*_spread``: max − min over seeds (NaN with one seed); ``train_ppl``: last epoch's running
    training perplexity, *measured with dropout on* (none: off); ``gap``: valid − train;
    ``tokens/s``, ``× reference``: from ``bench`` (the benchmark, not the zoo's own logs, whose
    timings shared the machine with other jobs). Schemes with no complete run are left out.
    """
    table = runs_table(zoo, digits=12)
    table = table[table["status"].str.startswith("complete")]
    rows = {}
    for scheme, g in table.groupby("scheme", sort=False):
        rows[scheme] = {
            "seeds": len(g),
            "valid_ppl": g["valid_ppl"].mean(), "valid_spread": _spread(g["valid_ppl"]),
            "test_ppl": g["test_ppl"].mean(), "test_spread": _spread(g["test_ppl"]),
            "train_ppl": g["train_ppl"].mean(), "gap": g["gap"].mean(),
        }
    cols = ["seeds", "valid_ppl", "valid_spread", "test_ppl", "test_spread", "train_ppl", "gap"]
    out = pd.DataFrame.from_dict(rows, orient="index", columns=cols)
    out = out.reindex([s for s in SCHEMES if s in out.index])
    num = [c for c in cols if c != "seeds"]
    out[num] = out[num].astype(float).round(digits)
    out["seeds"] = out["seeds"].astype(int)
    speed = speed_table(bench)
    if not speed.empty:
        out = out.join(speed)
    out.index.name = "scheme"
    return out


LABELS = {"seeds": "seeds", "valid_ppl": "valid", "valid_spread": "valid spread", "test_ppl": "test",
          "test_spread": "test spread", "train_ppl": "train (dropout on)", "gap": "valid − train"}


def pretty(df: pd.DataFrame) -> pd.DataFrame:
    """For display: spreads of one-seed rows as "one seed", other missing numbers as a dash."""
    out = df.astype(object)
    for col in ("valid_spread", "test_spread"):
        if col in out:
            one = df["seeds"] == 1 if "seeds" in df else pd.Series(False, index=df.index)
            out[col] = [("one seed" if o else "–") if pd.isna(v) else v for v, o in zip(df[col], one)]
    out = out.where(df.notna() | out.isin(["one seed"]), "–")
    return out.rename(columns=LABELS)


def literature_table(zoo: dict | None = None, digits: int = 1) -> pd.DataFrame:
    """The follow-up papers' PTB numbers (``rnnreg.published.FOLLOW_UPS``) with this project's zoo
    result of the same scheme beside them (``here valid`` / ``here test``; a 2×200 model on a
    third of the training text for 6 epochs — not comparable in level, only in order)."""
    lit = follow_ups_table()
    here = scheme_table(zoo or {}, digits=digits)
    lit["here valid"] = [here["valid_ppl"].get(s, math.nan) if s else math.nan for s in lit["scheme"]]
    lit["here test"] = [here["test_ppl"].get(s, math.nan) if s else math.nan for s in lit["scheme"]]
    lit["scheme"] = lit["scheme"].fillna("–")
    cols = ["method", "scheme", "params", "valid", "test", "here valid", "here test", "differs", "source"]
    out = lit[cols].rename(columns={"params": "params (M)"})
    return out.astype(object).where(out.notna(), "–")


def seed_reference(pattern: str = "ptb/grid/h0050-p00-seed*", results: str | os.PathLike | None = None) -> dict | None:
    """Seed-to-seed spread of one configuration recorded with several seeds (chapter 04's grid
    has four seeds of a 2×50 model): ``{"runs", "valid_min", "valid_max", "spread", "relative"}``,
    or None with fewer than two complete runs."""
    df = load_runs(pattern, results)
    done = df[df["status"].str.startswith("complete")]
    if len(done) < 2:
        return None
    lo, hi = float(done["valid_ppl"].min()), float(done["valid_ppl"].max())
    return {"pattern": f"results/{pattern}", "runs": len(done), "valid_min": round(lo, 1),
            "valid_max": round(hi, 1), "spread": round(hi - lo, 1), "relative": round((hi - lo) / lo, 4)}


# --------------------------------------------------------------------------------------------
# Curves
# --------------------------------------------------------------------------------------------
def curves(zoo: dict, schemes=SCHEMES, metric: str = "valid_ppl") -> dict[str, pd.DataFrame]:
    """``{"<scheme> seed<k>": per-epoch frame}`` with columns epoch, train_ppl, valid_ppl, gap, lr.

    ``metric`` only checks the name here (the figure picks the columns); every run with at least
    one epoch is included, complete or not.
    """
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")
    out = {}
    for s in schemes:
        for r in zoo.get(s, []):
            if not len(r.log):
                continue
            df = r.log[["epoch", "lr", "train_ppl", "valid_ppl"]].copy()
            df["gap"] = df["valid_ppl"] - df["train_ppl"]
            out[f"{s} seed{seed_of(r)}"] = df
    return out


# --------------------------------------------------------------------------------------------
# Model averaging
# --------------------------------------------------------------------------------------------
def load_averaging(results: str | os.PathLike | None = None, path: str = AVERAGING) -> dict | None:
    """The JSON ``python -m rnnreg average`` wrote, or None while it is missing or unreadable."""
    p = results_dir(results) / path
    try:
        data = json.loads(p.read_text())
    except (OSError, ValueError):
        return None
    if not data.get("members") or not data.get("average_ppl"):
        return None
    return data


def averaging_members(avg: dict | None, digits: int = 1) -> pd.DataFrame:
    """The averaged runs, one row each (run, seed, scheme, its own perplexity)."""
    cols = ["run", "seed", "scheme", "dropout", "ppl"]
    if not avg:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame(avg["members"])
    df = df.reindex(columns=cols)
    df["ppl"] = df["ppl"].astype(float).round(digits)
    return df


def averaging_table(avg: dict | None, model: str = "small", digits: int = 1) -> pd.DataFrame:
    """Perplexity of the average of k models: the paper's rows (valid, test) and this project's
    (on the split it was recorded on), indexed by k. Missing entries NaN."""
    paper = reported_averaging(model).set_index("members")[["valid", "test"]]
    paper.columns = ["paper valid", "paper test"]
    out = paper
    if avg:
        here = pd.Series(avg["average_ppl"], index=range(1, len(avg["average_ppl"]) + 1), dtype=float)
        out = paper.join(here.rename(f"here {avg.get('split', 'test')}").to_frame(), how="outer")
    out.index.name = "models averaged"
    return out.round(digits)


def averaging_text(avg: dict | None, model: str = "small") -> str:
    """What the averaging experiment shows here, as Markdown (or how to record it)."""
    paper = reported_averaging(model).set_index("members")
    lead = (f"The paper (Table 1, test): one {model} model {paper.loc[1, 'test']}, "
            + ", ".join(f"{k} averaged {paper.loc[k, 'test']}" for k in paper.index if k > 1) + ".")
    if not avg:
        return (lead + "\n\n**Not yet recorded here.** It needs two or more complete runs of the small preset "
                f"with different seeds; then:\n\n`{AVERAGE_COMMAND}`")
    split = avg.get("split", "test")
    ks = avg["average_ppl"]
    singles = [m["ppl"] for m in avg["members"]]
    best = min(singles)
    text = (f"Here ({split} split, {len(singles)} members, "
            f"{'batch 1' if avg.get('batch_size') == 1 else 'batch ' + str(avg.get('batch_size'))}): "
            f"single models {', '.join(f'{p:.1f}' for p in singles)}; averaging all {len(ks)} gives "
            f"{ks[-1]:.1f}, {best - ks[-1]:.1f} below the best single model "
            f"({(best - ks[-1]) / best:.1%}).")
    if len(ks) >= 2 and 2 in paper.index and split in ("valid", "test"):
        p1, p2 = paper.loc[1, split], paper.loc[2, split]
        text += (f" Two models: {ks[0]:.1f} → {ks[1]:.1f} ({(ks[0] - ks[1]) / ks[0]:.1%} lower); the paper's "
                 f"{p1} → {p2} ({(p1 - p2) / p1:.1%} lower).")
    return lead + "\n\n" + text


# --------------------------------------------------------------------------------------------
# The chapter's answer
# --------------------------------------------------------------------------------------------
def ranking(zoo: dict, key: str = "valid_ppl") -> pd.Series:
    """Mean ``key`` per scheme over complete seeds, best (lowest) first."""
    return scheme_table(zoo, digits=12)[key].dropna().sort_values()


def _separated(zoo: dict, a: str, b: str) -> bool | None:
    """Do the validation ranges (min..max over complete seeds) of schemes a and b not overlap?
    None when either has fewer than two complete seeds."""
    table = runs_table(zoo, digits=12)
    table = table[table["status"].str.startswith("complete")]
    ranges = {}
    for s in (a, b):
        vals = table.loc[table["scheme"] == s, "valid_ppl"]
        if len(vals) < 2:
            return None
        ranges[s] = (vals.min(), vals.max())
    return bool(ranges[a][1] < ranges[b][0] or ranges[b][1] < ranges[a][0])


def _best_epoch(zoo: dict, scheme: str) -> tuple[int, int]:
    """(epoch of the lowest valid perplexity, last epoch) of the scheme's first complete run."""
    run = next(r for r in zoo[scheme] if r.complete)
    return int(run.log["epoch"].iloc[int(run.log["valid_ppl"].values.argmin())]), int(run.log["epoch"].iloc[-1])


def zoo_parameters(zoo: dict) -> float | None:
    for rs in zoo.values():
        for r in rs:
            if r.summary and r.summary.get("parameters"):
                return r.summary["parameters"] / 1e6
    return None


def answer(zoo: dict, reference: dict | None = None) -> str:
    """The chapter's answer, computed from the recorded zoo, as Markdown.

    Which placement has the lowest validation perplexity at this budget (validation decides; test
    is reported beside it), by how much over the runner-up and over no dropout, whether the seeds
    can separate them, and how the order compares with the follow-up papers'. ``reference``: a
    seed spread of another configuration (:func:`seed_reference`) to size one-seed differences.
    """
    table = scheme_table(zoo, digits=12)
    if len(table) < 2:
        return (f"**Not yet recorded here.** The answer needs complete zoo runs of at least two schemes "
                f"(results/{ZOO}); record them with `{ZOO_COMMAND}`.")
    order = table["valid_ppl"].sort_values()
    win, second, last = order.index[0], order.index[1], order.index[-1]
    v, t = table["valid_ppl"], table["test_ppl"]
    lines = [f"- **Winner at this budget** (2×200, 300,000 training tokens, 6 epochs, p = 0.5 on every site, "
             f"not tuned per scheme): `{win}`, validation perplexity {v[win]:.1f} (test {t[win]:.1f}). The "
             f"runner-up `{second}` is {v[second] - v[win]:.1f} points behind ({(v[second] - v[win]) / v[win]:.1%}), "
             f"the last, `{last}`, {v[last] - v[win]:.1f} ({(v[last] - v[win]) / v[win]:.1%}). Order by "
             "validation: " + " < ".join(f"`{s}` {order[s]:.1f}" for s in order.index) + "."]
    test_order = t.dropna().sort_values().index.tolist()
    if test_order == order.index.tolist():
        lines.append("- The test split gives the same order.")
    else:
        lines.append("- The test split orders them differently: "
                     + " < ".join(f"`{s}` {t[s]:.1f}" for s in test_order) + ".")
    falling = [s for s in order.index if s != "none" and _best_epoch(zoo, s)[0] == _best_epoch(zoo, s)[1]]
    if "none" in table.index and win != "none":
        best, final = _best_epoch(zoo, "none")
        stopped = (f"its validation perplexity stopped falling at epoch {best} of {final}" if best < final
                   else "its validation perplexity was still falling at the last epoch")
        lines.append(f"- **No dropout** (`none`) is {v['none'] - v[win]:+.1f} points from the winner. It fits its "
                     f"training text far better (train {table.loc['none', 'train_ppl']:.1f}; `{win}` "
                     f"{table.loc[win, 'train_ppl']:.1f}, measured with dropout on) and {stopped}: over-fitting "
                     f"has begun, but at this budget it has not yet cost much.")
    elif win == "none":
        lines.append("- **No dropout wins**: at this budget every dropout placement costs more in fit than it "
                     "saves in over-fitting.")
    if falling:
        lines.append(f"- Still improving at the last epoch: {', '.join(f'`{s}`' for s in falling)} — the "
                     f"dropout models are under-trained at this budget, so the order measures how fast each "
                     f"placement learns as much as how well it regularizes.")
    done = seeds(zoo)
    single = [s for s in order.index if len(done.get(s, [])) < 2]
    if single:
        who = ("One seed per scheme" if len(single) == len(order)
               else "One seed only for " + ", ".join(f"`{s}`" for s in single))
        scale = ""
        if reference:
            scale = (f" For scale: {reference['runs']} seeds of one configuration in {reference['pattern']} "
                     f"(chapter 04's grid) end {reference['spread']:.1f} validation points apart "
                     f"({reference['relative']:.1%}).")
        lines.append(f"- **{who}:** a difference of a few perplexity points between two schemes is **not "
                     f"established** — it could be seed noise.{scale} Here first and second differ by "
                     f"{v[second] - v[win]:.1f} ({(v[second] - v[win]) / v[win]:.1%}); only the wider gaps, up to "
                     f"{v[last] - v[win]:.1f} between first and last, are likely to survive more seeds, "
                     f"and then only at this budget.")
    else:
        sep = _separated(zoo, win, second)
        n = min(len(v_) for v_ in done.values() if v_)
        spreads = ", ".join(f"`{s}` {table.loc[s, 'valid_spread']:.1f}" for s in order.index)
        if sep:
            lines.append(f"- **{n} or more seeds per scheme** (validation spread, max − min: {spreads}): the seed "
                         f"ranges of `{win}` and `{second}` do not overlap. With so few seeds that is suggestive, "
                         f"not a test.")
        else:
            lines.append(f"- **{n} or more seeds per scheme** (validation spread, max − min: {spreads}): the seed "
                         f"ranges of `{win}` and `{second}` overlap, so these two are **not separated** at this "
                         f"budget.")
    lit = []
    if {"zaremba", "variational"} <= set(table.index):
        rel = "ahead of" if v["zaremba"] < v["variational"] else "behind"
        lit.append(f"Gal & Ghahramani put variational dropout ahead of Zaremba's at the paper's sizes (test: "
                   f"medium 79.7 vs 82.7, large 75.2 vs 78.4); here `zaremba` is {rel} `variational` by "
                   f"{abs(v['variational'] - v['zaremba']):.1f} points")
    if {"zaremba", "weight_drop"} <= set(table.index):
        rel = "ahead of" if v["zaremba"] < v["weight_drop"] else "behind"
        lit.append(f"AWD-LSTM reaches 57.3 with weight drop among many other changes (68.9 without it); here "
                   f"`zaremba` is {rel} `weight_drop` by {abs(v['weight_drop'] - v['zaremba']):.1f}")
    if lit:
        agree = v.get("variational", math.inf) < v.get("zaremba", -math.inf)
        params = zoo_parameters(zoo)
        sizes = [r["params"] for r in FOLLOW_UPS if r["params"]]
        bigger = f"have {min(sizes) / params:.0f}–{max(sizes) / params:.0f}× the parameters, " if params else ""
        lines.append("- **Against the literature:** " + "; ".join(lit) + ". "
                     + ("The order agrees with the published one." if agree else
                        "The published order is **not** reproduced here. That is no evidence against it: "
                        f"the published models {bigger}train for tens of epochs on all 929k training "
                        "tokens (the paper: 39 and 55) and choose their rates per model and site. A plausible "
                        "reading, not tested here: extra noise on the recurrent path slows learning, and six "
                        "short epochs show that cost before the over-fitting it prevents has set in."))
    return "\n".join(lines)
