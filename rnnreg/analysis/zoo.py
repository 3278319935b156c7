"""Chapter 05's data, read from ``results/`` as tables and findings (numbers and decisions):

- the scheme zoo ``ptb/zoo/<scheme>-seed<k>/``: every scheme at the untuned rate (:mod:`rnnreg.sweeps`);
- the tuning ``ptb/zoo-tuned/<scheme>-r<NN>-seed<k>/``: the recurrent rate NN/100;
- the training speed ``bench/cpu.json`` and the averaging ``ptb/averaging/small.json``.

Over two or more complete seeds a table gives the mean and the spread (max − min).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from ..model import FUSED_SCHEMES, SCHEMES
from ..published import FOLLOW_UPS, MODELS
from ..runfolder import RunFolderError, read_json, recorded_threads
from ..sweeps import BUDGET, RECURRENT_SCHEMES, SEEDS, TUNED, ZOO, rate_option, run_config, run_folder, zoo_command
from .runs import Run, follow_ups_table, load_run, load_runs, reported_averaging, results_dir

__all__ = [
    "AVERAGE_COMMAND", "AVERAGING", "BENCH", "BUDGET", "CONTROL", "METRICS", "RECURRENT_SCHEMES", "TUNED",
    "TUNING", "ZOO", "ZOO_COMMAND", "averaging_findings", "averaging_table", "best_epoch", "curves", "findings",
    "literature_table", "load_averaging", "load_averagings", "load_bench", "load_zoo", "missing", "noise_range",
    "ranking", "recurrent_rate", "retrain_cause", "retrain_table", "run_config", "runs_table", "scheme_table",
    "seed_reference", "seeds", "separated", "speed_findings", "speed_table", "status", "tuning_findings",
    "tuning_runs", "tuning_summary", "tuning_table", "zoo_command", "zoo_parameters",
]  # fmt: skip

#: Retrains of untuned zoo runs that keep their checkpoint, so mask noise can be measured on them
#: (a retrain ends near, not bit-identical to, the recorded run: :func:`retrain_cause`).
CONTROL = "ptb/zoo-control"
#: Epoch 1 of the zoo's ``zaremba-seed2`` command rerun at the zoo's commit and a later one.
RETRAIN_CHECK = "ptb/retrain-check"
BENCH = "bench/cpu.json"
#: ``python -m rnnreg average ... --out results/ptb/averaging/<model>.json``: the file names the model size.
AVERAGING_OF = "ptb/averaging/{model}.json"
AVERAGING = AVERAGING_OF.format(model="small")

#: The tuning of the recurrent rate at the zoo's budget (non-recurrent rate fixed): every rate with
#: ``seeds``, then the best rate on validation with ``best_seeds``.
TUNING = dict(rates=(0.1, 0.25, BUDGET["recurrent_rate"]), seeds=(1,), best_seeds=(1, 2))
#: How the zoo and the averaging result are recorded.
ZOO_COMMAND = "python -m rnnreg zoo --seeds " + " ".join(map(str, SEEDS))
AVERAGE_COMMAND = (
    "python -m rnnreg average results/ptb/small results/ptb/small-seed2 --split test "
    "--out results/ptb/averaging/small.json"
)
#: Metrics the curves can show (log columns, plus the gap valid − train).
METRICS = {
    "valid_ppl": "valid perplexity",
    "train_ppl": "train perplexity (dropout on)",
    "gap": "valid − train perplexity",
    "both": "train (dashed) and valid (solid)",
}

_SEED = re.compile(r"^(?P<scheme>.+)-seed(?P<seed>\d+)$")
_TUNED = re.compile(r"^(?P<scheme>.+)-r(?P<pct>\d+)-seed(?P<seed>\d+)$")


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------
def _recorded(results, folder: str, pattern: re.Pattern):
    """(name match, Run) of every run under ``folder`` named by ``pattern`` after a scheme of ``SCHEMES``."""
    for cfg in sorted((results_dir(results) / folder).glob("*/config.json")):
        m = pattern.match(cfg.parent.name)
        if not m or m["scheme"] not in SCHEMES:
            continue
        try:
            run = load_run(cfg.parent, results)
        except (ValueError, OSError):  # half-written: treat as not recorded
            continue
        yield m, run


def load_zoo(results: str | os.PathLike | None = None, zoo: str = ZOO) -> dict[str, list[Run]]:
    """``{scheme: [Run, ...]}`` for every zoo folder with a ``config.json`` (in ``SCHEMES`` order, runs
    by seed, runs still training included)."""
    found: dict[str, list[tuple[int, Run]]] = {}
    for m, run in _recorded(results, zoo, _SEED):
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


def status(zoo: dict) -> dict:
    """Which zoo runs are recorded: ``seeds`` (complete seeds per scheme), ``pending`` (run name and
    status of every run still training), ``missing`` (schemes without a complete run)."""
    return {
        "seeds": seeds(zoo),
        "pending": [(r.name, r.status) for rs in zoo.values() for r in rs if not r.complete],
        "missing": missing(zoo),
    }


def retrain_table(results: str | os.PathLike | None = None, digits: int = 2) -> pd.DataFrame:
    """The zoo's runs beside their retrains in ``CONTROL`` (same command, checkpoint kept): last-epoch
    validation perplexity of each and the difference, one row per complete pair."""
    recorded, retrained = load_zoo(results), load_zoo(results, CONTROL)
    rows = []
    for scheme, reruns in retrained.items():
        for rerun in (r for r in reruns if r.complete):
            match = [r for r in recorded.get(scheme, []) if r.complete and seed_of(r) == seed_of(rerun)]
            if match:
                a, b = match[0].final("valid_ppl"), rerun.final("valid_ppl")
                rows.append(
                    {
                        "scheme": scheme,
                        "seed": seed_of(rerun),
                        "recorded valid": round(a, digits),
                        "retrain valid": round(b, digits),
                        "difference": round(b - a, digits),
                    }
                )
    return pd.DataFrame(rows, columns=["scheme", "seed", "recorded valid", "retrain valid", "difference"])


def retrain_cause(results: str | os.PathLike | None = None, scheme: str = "zaremba", seed: int = 2) -> dict | None:
    """Why a retrain differs from the recorded run, from epoch 1 of each (None until
    :data:`RETRAIN_CHECK` is recorded). ``checks``, ``retrain``, ``recorded``: epoch 1 of each rerun,
    of the :data:`CONTROL` retrain and of the zoo run (commit, device, torch, threads, corpus sizes,
    train and valid perplexity); ``same_code``: every rerun gives one epoch 1 bit for bit whatever
    its commit; ``same_setup``: reruns and recorded run name one torch, thread count and corpus;
    ``retrain_matches`` / ``recorded_matches``: the reruns' epoch 1 equals that run's, bit for bit."""
    root = results_dir(results)
    checks = [load_run(c.parent, results) for c in sorted((root / RETRAIN_CHECK).glob("*/config.json"))]
    pair = [next((r for r in load_zoo(results, z).get(scheme, []) if seed_of(r) == seed), None) for z in (CONTROL, ZOO)]
    if not checks or None in pair:
        return None

    def first(run: Run) -> dict:
        row = run.log.iloc[0]
        prov = run.summary or {}
        return {
            "run": run.name,
            "commit": (prov.get("git_commit") or "")[:7],
            "device": prov.get("device"),
            "torch": prov.get("torch"),
            "corpus": prov.get("corpus_sizes"),
            "threads": recorded_threads(prov),
            "train_ppl": float(row["train_ppl"]),
            "valid_ppl": float(row["valid_ppl"]),
        }

    found = [first(r) for r in checks]
    retrain, recorded = (first(r) for r in pair)
    key = [(f["train_ppl"], f["valid_ppl"]) for f in found]
    return {
        "checks": found,
        "retrain": retrain,
        "recorded": recorded,
        "same_code": len(set(key)) == 1,
        "same_setup": len({(f["torch"], f["threads"], str(f["corpus"])) for f in [*found, recorded]}) == 1,
        "retrain_matches": all(k == (retrain["train_ppl"], retrain["valid_ppl"]) for k in key),
        "recorded_matches": all(k == (recorded["train_ppl"], recorded["valid_ppl"]) for k in key),
    }


def load_bench(results: str | os.PathLike | None = None, path: str = BENCH) -> dict | None:
    """``results/bench/cpu.json`` or None when it is missing or half-written."""
    try:
        return read_json(results_dir(results) / path)
    except RunFolderError:
        return None


def _speed_rows(bench: dict | None, shape: str, precision: str) -> dict[str, dict]:
    """The benchmark's eager rows (every scheme on the same footing) by scheme."""
    return {
        r["scheme"]: r
        for r in (bench or {}).get("rows", [])
        if r.get("shape") == shape
        and r.get("precision") == precision
        and r.get("scheme") in SCHEMES
        and not r.get("compiled", False)
    }


def speed_table(bench: dict | None, shape: str = "small", precision: str = "fp32") -> pd.DataFrame:
    """Training tokens/s per scheme at one shape and precision (rounded to 100) and × the reference."""
    rows = {
        s: {"tokens/s": int(round(r["tokens_per_s"], -2)), "× reference": round(r["ratio_to_reference"], 2)}
        for s, r in _speed_rows(bench, shape, precision).items()
    }
    return pd.DataFrame.from_dict(rows, orient="index", columns=["tokens/s", "× reference"])


def speed_findings(bench: dict | None, shape: str = "small", precision: str = "fp32") -> dict | None:
    """What the benchmark says about a custom per-step cell (None without a benchmark): ``fused`` /
    ``custom`` schemes, and (lowest, highest) speed ratio of the custom ones to the reference and to
    ``zaremba`` (NaN without that row)."""
    rows = _speed_rows(bench, shape, precision)
    if not rows:
        return None
    fused = [s for s in FUSED_SCHEMES if s in rows]
    custom = [s for s in SCHEMES if s not in FUSED_SCHEMES and s in rows]
    ref = [rows[s]["ratio_to_reference"] for s in custom]
    zar = [rows[s]["tokens_per_s"] / rows["zaremba"]["tokens_per_s"] for s in custom] if "zaremba" in rows else []
    span = lambda v: (min(v), max(v)) if v else (math.nan, math.nan)  # noqa: E731
    return {
        "shape": shape,
        "precision": precision,
        "fused": fused,
        "custom": custom,
        "custom_vs_reference": span(ref),
        "custom_vs_zaremba": span(zar),
    }


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------
def runs_table(zoo: dict, digits: int = 1) -> pd.DataFrame:
    """One row per recorded run: status, state, last-epoch train (dropout on) / valid, best valid, test, gap."""
    rows = []
    for scheme, rs in zoo.items():
        for r in rs:
            s = r.summary or {}
            train, valid = r.final("train_ppl"), r.final("valid_ppl")
            rows.append(
                {
                    "scheme": scheme,
                    "seed": seed_of(r),
                    "status": r.status,
                    "state": r.state,
                    "train_ppl": round(train, digits),
                    "valid_ppl": round(valid, digits),
                    "best_valid_ppl": round(float(r.log["valid_ppl"].min()), digits) if len(r.log) else math.nan,
                    "test_ppl": round(s["test_ppl"], digits) if s.get("test_ppl") is not None else math.nan,
                    "gap": round(valid - train, digits),
                }
            )
    cols = ["scheme", "seed", "status", "state", "train_ppl", "valid_ppl", "best_valid_ppl", "test_ppl", "gap"]
    return pd.DataFrame(rows, columns=cols)


def _spread(values: pd.Series) -> float:
    return float(values.max() - values.min()) if len(values) > 1 else math.nan


def scheme_table(zoo: dict, bench: dict | None = None, digits: int = 1) -> pd.DataFrame:
    """One row per scheme with a complete run: means over its complete seeds (last epoch; test: batch 1;
    train: *with dropout on*), ``*_spread`` (max − min, NaN with one seed), gap (valid − train) and
    the speed from ``bench`` (not the zoo's logs, whose timings shared the machine)."""
    table = runs_table(zoo, digits=12)
    table = table[table["state"] == "complete"]
    rows = {}
    for scheme, g in table.groupby("scheme", sort=False):
        rows[scheme] = {
            "seeds": len(g),
            "valid_ppl": g["valid_ppl"].mean(),
            "valid_spread": _spread(g["valid_ppl"]),
            "test_ppl": g["test_ppl"].mean(),
            "test_spread": _spread(g["test_ppl"]),
            "train_ppl": g["train_ppl"].mean(),
            "gap": g["gap"].mean(),
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


def literature_table(zoo: dict | None = None, digits: int = 1) -> pd.DataFrame:
    """The follow-up papers' PTB numbers beside this project's untuned zoo result of the same scheme
    (far smaller and shorter runs: comparable in order, not level)."""
    lit = follow_ups_table()
    here = scheme_table(zoo or {}, digits=digits)
    lit["here valid"] = [here["valid_ppl"].get(s, math.nan) if s else math.nan for s in lit["scheme"]]
    lit["here test"] = [here["test_ppl"].get(s, math.nan) if s else math.nan for s in lit["scheme"]]
    lit["scheme"] = lit["scheme"].fillna("–")
    cols = ["method", "scheme", "params", "valid", "test", "here valid", "here test", "differs", "source"]
    out = lit[cols].rename(columns={"params": "params (M)"})
    return out.astype(object).where(out.notna(), "–")


def seed_reference(pattern: str = "ptb/grid/h0050-p00-seed*", results: str | os.PathLike | None = None) -> dict | None:
    """Seed-to-seed spread of validation perplexity over the complete runs matching ``pattern``
    (chapter 04's 2×50 seeds), or None with fewer than two."""
    df = load_runs(pattern, results)
    done = df[df["state"] == "complete"]
    if len(done) < 2:
        return None
    lo, hi = float(done["valid_ppl"].min()), float(done["valid_ppl"].max())
    return {
        "pattern": f"results/{pattern}",
        "runs": len(done),
        "valid_min": round(lo, 1),
        "valid_max": round(hi, 1),
        "spread": round(hi - lo, 1),
        "relative": round((hi - lo) / lo, 4),
    }


# --------------------------------------------------------------------------------------------
# Curves
# --------------------------------------------------------------------------------------------
def curves(zoo: dict, schemes=SCHEMES, metric: str = "valid_ppl") -> dict[str, pd.DataFrame]:
    """``{"<scheme> seed<k>": per-epoch frame}`` (epoch, lr, train_ppl, valid_ppl, gap) of every run with
    an epoch; ``metric`` is only checked here (the figure picks the columns)."""
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
    """The JSON ``python -m rnnreg average`` wrote, or None while it is missing or half-written."""
    try:
        data = read_json(results_dir(results) / path)
    except RunFolderError:
        return None
    return data if data and data.get("members") and data.get("average_ppl") else None


def load_averagings(results: str | os.PathLike | None = None) -> dict[str, dict]:
    """Every recorded model averaging (:data:`AVERAGING_OF`), keyed by model size."""
    found = {model: load_averaging(results, AVERAGING_OF.format(model=model)) for model in MODELS}
    return {model: avg for model, avg in found.items() if avg}


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


def averaging_findings(avg: dict | None, model: str = "small") -> dict | None:
    """The averaging experiment in numbers (None while it is not recorded): ``singles`` (each member),
    ``averages`` (of the first k members), ``gain`` = best single − average of all, ``relative``;
    ``two`` / ``paper_two``: (one model, two averaged, relative drop) here and in Table 1."""
    if not avg:
        return None
    split = avg.get("split", "test")
    ks = [float(v) for v in avg["average_ppl"]]
    singles = [float(m["ppl"]) for m in avg["members"]]
    best = min(singles)
    paper = reported_averaging(model).set_index("members")
    out = {
        "split": split,
        "batch_size": avg.get("batch_size"),
        "members": len(singles),
        "singles": singles,
        "averages": ks,
        "best_single": best,
        "gain": best - ks[-1],
        "relative": (best - ks[-1]) / best,
        "two": None,
        "paper_two": None,
    }
    if len(ks) >= 2:
        out["two"] = (ks[0], ks[1], (ks[0] - ks[1]) / ks[0])
    if 2 in paper.index and split in ("valid", "test"):
        p1, p2 = float(paper.loc[1, split]), float(paper.loc[2, split])
        out["paper_two"] = (p1, p2, (p1 - p2) / p1)
    return out


# --------------------------------------------------------------------------------------------
# The chapter's answer (untuned zoo)
# --------------------------------------------------------------------------------------------
def ranking(zoo: dict, key: str = "valid_ppl") -> pd.Series:
    """Mean ``key`` per scheme over complete seeds, best (lowest) first."""
    return scheme_table(zoo, digits=12)[key].dropna().sort_values()


def _valid_range(zoo: dict, scheme: str) -> tuple[float, float] | None:
    table = runs_table(zoo, digits=12)
    vals = table.loc[(table["scheme"] == scheme) & (table["state"] == "complete"), "valid_ppl"]
    return (float(vals.min()), float(vals.max())) if len(vals) else None


def separated(zoo: dict, a: str, b: str) -> bool | None:
    """Do the validation ranges (min..max over complete seeds) of schemes a and b not overlap?
    None when either has fewer than two complete seeds."""
    if min(len(seeds(zoo).get(s, [])) for s in (a, b)) < 2:
        return None
    (a_lo, a_hi), (b_lo, b_hi) = _valid_range(zoo, a), _valid_range(zoo, b)
    return bool(a_hi < b_lo or b_hi < a_lo)


def best_epoch(zoo: dict, scheme: str) -> tuple[int, int]:
    """(epoch of the lowest valid perplexity, last epoch) of the scheme's first complete run."""
    run = next(r for r in zoo[scheme] if r.complete)
    return int(run.log["epoch"].iloc[int(run.log["valid_ppl"].values.argmin())]), int(run.log["epoch"].iloc[-1])


def zoo_parameters(zoo: dict) -> float | None:
    """Parameters of the zoo's model, in millions (from a summary), or None."""
    for rs in zoo.values():
        for r in rs:
            if r.summary and r.summary.get("parameters"):
                return r.summary["parameters"] / 1e6
    return None


def published_tests(scheme: str) -> dict[float, float]:
    """``{params (M): test}`` of the single models the follow-up papers report for a scheme
    (MC-dropout rows left out)."""
    return {
        float(r["params"]): float(r["test"])
        for r in FOLLOW_UPS
        if r["scheme"] == scheme and r["test"] is not None and "MC dropout" not in r["method"]
    }


def findings(zoo: dict, reference: dict | None = None) -> dict | None:
    """The untuned zoo's answer (None with fewer than two complete schemes): ``order`` (by mean valid,
    best first), per-scheme means, ``improving`` (best epoch is the last), ``separated`` (first and
    second's seed ranges do not overlap), ``recurrent_behind`` (behind both zaremba and none),
    ``published_order_here`` (variational ahead of zaremba, as published), ``size_ratio``
    (published parameter counts over the zoo's), and the rest as named."""
    table = scheme_table(zoo, digits=12)
    if len(table) < 2:
        return None
    order = table["valid_ppl"].sort_values().index.tolist()
    done = seeds(zoo)
    v, t = table["valid_ppl"], table["test_ppl"]
    out = {
        "order": order,
        "winner": order[0],
        "second": order[1],
        "last": order[-1],
        "valid": v.to_dict(),
        "test": t.to_dict(),
        "train": table["train_ppl"].to_dict(),
        "test_order": t.dropna().sort_values().index.tolist(),
        "improving": [s for s in order if s != "none" and best_epoch(zoo, s)[0] == best_epoch(zoo, s)[1]],
        "min_seeds": min(len(x) for x in done.values() if x),
        "single_seed": [s for s in order if len(done.get(s, [])) < 2],
        "separated": separated(zoo, order[0], order[1]),
        "spread": table["valid_spread"].to_dict(),
        "reference": reference,
        "published": {s: published_tests(s) for s in ("zaremba", "variational", "weight_drop")},
    }
    out["test_same_order"] = out["test_order"] == order
    rec = [s for s in RECURRENT_SCHEMES if s in table.index]
    out["recurrent"] = rec
    out["recurrent_behind"] = [s for s in rec if all(v[s] > v[o] for o in ("zaremba", "none") if o in v)]
    if "none" in table.index:
        out["none_best_epoch"], out["last_epoch"] = best_epoch(zoo, "none")
    if {"zaremba", "variational"} <= set(table.index):
        out["published_order_here"] = bool(v["variational"] < v["zaremba"])
    params = zoo_parameters(zoo)
    sizes = [r["params"] for r in FOLLOW_UPS if r["params"]]
    out["size_ratio"] = (min(sizes) / params, max(sizes) / params) if params else None
    return out


# --------------------------------------------------------------------------------------------
# Tuned recurrent rates
# --------------------------------------------------------------------------------------------
def recurrent_rate(config: Mapping, scheme: str | None = None, no_site: float = math.nan) -> float:
    """The rate on a run's recurrent site from its config (:func:`rate_option`; unset ``recurrent_dropout``
    means ``dropout``), ``no_site`` for a scheme without one (``none``, ``zaremba``)."""
    option = rate_option(scheme or config["scheme"])
    if option is None:
        return no_site
    value = config.get(option)
    return float(config.get("dropout", BUDGET["dropout"]) if value is None else value)


def tuning_runs(results: str | os.PathLike | None = None) -> pd.DataFrame:
    """Every run of the tuning, one row per folder: the untuned zoo (rate NaN without a recurrent site)
    and ``results/ptb/zoo-tuned``; valid_ppl of the last epoch, test_ppl NaN until complete."""
    rows = []
    for folder, pattern in ((ZOO, _SEED), (TUNED, _TUNED)):
        for m, run in _recorded(results, folder, pattern):
            s = run.summary or {}
            rows.append(
                {
                    "scheme": m["scheme"],
                    "rate": recurrent_rate(run.config, m["scheme"]),
                    "seed": int(m["seed"]),
                    "run": run.name,
                    "status": run.status,
                    "complete": run.complete,
                    "valid_ppl": run.final("valid_ppl"),
                    "test_ppl": float(s["test_ppl"]) if s.get("test_ppl") is not None else math.nan,
                }
            )
    cols = ["scheme", "rate", "seed", "run", "status", "complete", "valid_ppl", "test_ppl"]
    df = pd.DataFrame(rows, columns=cols)
    df["scheme"] = pd.Categorical(df["scheme"], categories=SCHEMES, ordered=True)
    return df.sort_values(["scheme", "rate", "seed"]).reset_index(drop=True).astype({"scheme": str})


def tuning_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (scheme, rate) over complete seeds: mean / min / max valid, mean test, ``sweep_ppl`` (the
    sweep's seeds, ``TUNING["seeds"]``, the only ones the best rate is chosen on), ``running``."""
    rows = []
    for (scheme, rate), g in runs.groupby(["scheme", "rate"], sort=False, dropna=False):
        done = g[g["complete"]]
        sweep = done[done["seed"].isin(TUNING["seeds"])]
        valid = done["valid_ppl"]  # empty: NaN statistics
        row = dict(scheme=scheme, rate=rate, seeds=len(done), valid_ppl=valid.mean(), valid_min=valid.min())
        row |= dict(valid_max=valid.max(), test_ppl=done["test_ppl"].mean(), sweep_ppl=sweep["valid_ppl"].mean())
        rows.append(row | {"running": int((~g["complete"]).sum())})
    cols = ["scheme", "rate", "seeds", "valid_ppl", "valid_min", "valid_max", "test_ppl", "sweep_ppl", "running"]
    return pd.DataFrame(rows, columns=cols)


def tuning_table(summary: pd.DataFrame, rates=TUNING["rates"], digits: int = 1) -> pd.DataFrame:
    """Scheme × recurrent rate for display: ``"201.4 (2)"`` (mean valid, seeds), ``"running"`` or ``"–"``;
    ``zaremba`` (nothing to tune) first, the same under every rate."""
    zar = summary[summary["scheme"] == "zaremba"]
    out = {}
    for scheme in ("zaremba",) + RECURRENT_SCHEMES:
        row = {}
        for rate in rates:
            cell = (
                zar
                if scheme == "zaremba"
                else summary[(summary["scheme"] == scheme) & summary["rate"].sub(rate).abs().lt(1e-9)]
            )
            if len(cell) and cell["seeds"].iloc[0]:
                row[f"p = {rate:g}"] = f"{cell['valid_ppl'].iloc[0]:.{digits}f} ({int(cell['seeds'].iloc[0])})"
            elif len(cell) and cell["running"].iloc[0]:
                row[f"p = {rate:g}"] = "running"
            else:
                row[f"p = {rate:g}"] = "–"
        out["zaremba (no recurrent site)" if scheme == "zaremba" else scheme] = row
    df = pd.DataFrame.from_dict(out, orient="index")
    df.index.name = "scheme (valid ppl, seeds)"
    return df


def seed_margin(summary: pd.DataFrame) -> float:
    """The widest validation range over the seeds of any (scheme, rate): the seed noise at this budget."""
    multi = summary[summary["seeds"] >= 2]
    return float((multi["valid_max"] - multi["valid_min"]).max()) if len(multi) else 0.0


def noise_range(summary: pd.DataFrame) -> tuple[float, float]:
    """zaremba's validation seed range widened on both sides by :func:`seed_margin`: a tuned
    scheme inside it is within seed noise of zaremba (NaN, NaN without a zaremba run)."""
    zar = summary[summary["scheme"] == "zaremba"]
    if not len(zar):
        return math.nan, math.nan
    margin = seed_margin(summary)
    return float(zar["valid_min"].iloc[0]) - margin, float(zar["valid_max"].iloc[0]) + margin


def best_rates(summary: pd.DataFrame, rates=TUNING["rates"]) -> pd.DataFrame:
    """Per recurrent scheme, the best recurrent rate on validation among the rates recorded so far.

    The rate is chosen on the sweep's seeds only (``TUNING["seeds"]``); further seeds measure it and
    never move the choice (a two-seed mean against one lucky seed could chase it from rate to rate).
    ``verdict`` against :func:`noise_range` (zaremba's seed range widened by :func:`seed_margin`: two
    seeds understate the noise): ``ahead`` (below), ``within``, ``behind``; ``untuned only``, ``no run``.
    ``beyond_noise``: how far the best lies outside that range (0 inside).
    """
    zar = summary[summary["scheme"] == "zaremba"]
    z_mean = float(zar["valid_ppl"].iloc[0]) if len(zar) else math.nan
    z_lo, z_hi = noise_range(summary)
    rows = {}
    for scheme in RECURRENT_SCHEMES:
        g = summary[(summary["scheme"] == scheme) & (summary["seeds"] > 0)]
        done = sorted(float(r) for r in g["rate"])
        nan = math.nan
        row = dict(rates_done=done, sweep_complete=all(any(math.isclose(r, d) for d in done) for r in rates))
        row |= dict(best_rate=nan, valid_ppl=nan, test_ppl=nan, seeds=0, sweep_ppl=nan, untuned_ppl=nan)
        row |= dict(vs_zaremba=nan, beyond_noise=nan, verdict="no run")
        untuned = g[g["rate"].sub(BUDGET["recurrent_rate"]).abs().lt(1e-9)]
        if len(untuned):
            row["untuned_ppl"] = float(untuned["valid_ppl"].iloc[0])
        swept = g[g["sweep_ppl"].notna()]
        if len(swept):
            best = swept.loc[swept["sweep_ppl"].idxmin()]
            row.update(
                best_rate=float(best["rate"]),
                valid_ppl=float(best["valid_ppl"]),
                test_ppl=float(best["test_ppl"]),
                seeds=int(best["seeds"]),
                sweep_ppl=float(best["sweep_ppl"]),
                vs_zaremba=float(best["valid_ppl"]) - z_mean,
                beyond_noise=max(z_lo - float(best["valid_ppl"]), float(best["valid_ppl"]) - z_hi, 0.0),
            )
            if len(done) == 1 and math.isclose(done[0], BUDGET["recurrent_rate"]):
                row["verdict"] = "untuned only"
            elif best["valid_ppl"] < z_lo:
                row["verdict"] = "ahead"
            elif best["valid_ppl"] > z_hi:
                row["verdict"] = "behind"
            else:
                row["verdict"] = "within"
        rows[scheme] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "scheme"
    return out


def tuning_plan(summary: pd.DataFrame, best: pd.DataFrame | None = None) -> list[tuple[str, int, float]]:
    """``(scheme, seed, rate)`` of the runs the tuning needs (:data:`TUNING`): every rate with
    ``seeds``, and the best rate with ``best_seeds`` once a scheme's sweep is complete."""
    best = best_rates(summary) if best is None else best
    runs = [(s, seed, r) for seed in TUNING["seeds"] for s in RECURRENT_SCHEMES for r in TUNING["rates"]]
    for s in RECURRENT_SCHEMES:
        if best.loc[s, "sweep_complete"]:
            runs += [(s, seed, float(best.loc[s, "best_rate"])) for seed in TUNING["best_seeds"]]
    return list(dict.fromkeys(runs))


def tuning_findings(runs: pd.DataFrame) -> dict:
    """What the tuning shows so far about "zaremba beats every recurrent scheme".

    ``zaremba``: (mean, lowest, highest) valid; ``ahead`` / ``within`` / ``behind`` / ``untested``:
    recurrent schemes by verdict (:func:`best_rates`); ``holds_so_far``: none is ahead or within;
    ``settled``: every sweep and best rate's seeds complete; ``done`` / ``running`` / ``not_started``:
    the runs of :func:`tuning_plan`; ``commands``: the ``python -m rnnreg zoo`` commands that record
    what is missing; ``after_sweep``: schemes whose extra seeds wait for their sweep.
    """
    summary = tuning_summary(runs)
    best = best_rates(summary)
    zar = summary[summary["scheme"] == "zaremba"]
    zaremba = (
        (float(zar["valid_ppl"].iloc[0]), float(zar["valid_min"].iloc[0]), float(zar["valid_max"].iloc[0]))
        if len(zar) and zar["seeds"].iloc[0]
        else None
    )
    planned = tuning_plan(summary, best)
    state = {(r.scheme, int(r.seed), round(float(r.rate), 6)): r for r in runs.itertuples() if not math.isnan(r.rate)}
    done, running, not_started, pending = [], [], [], {}
    for scheme, seed, rate in planned:
        run = state.get((scheme, seed, round(rate, 6)))
        if run is not None and run.complete:
            done.append(run.run)
            continue
        if run is not None:
            running.append((run.run, run.status))
        else:
            not_started.append(run_folder(scheme, seed, rate))
        pending.setdefault((seed, scheme), []).append(rate)
    groups: dict = {}  # one command per seed and set of pending rates: it records nothing outside the plan
    for (seed, scheme), rates in pending.items():
        groups.setdefault((seed, tuple(sorted(rates))), []).append(scheme)
    commands = [zoo_command(schemes, (seed,), rates) for (seed, rates), schemes in groups.items()]
    by = {v: [s for s in best.index if best.loc[s, "verdict"] == v] for v in ("ahead", "within", "behind")}
    untested = [s for s in best.index if best.loc[s, "verdict"] in ("untuned only", "no run")]
    return {
        "zaremba": zaremba,
        "margin": seed_margin(summary),
        "noise_range": noise_range(summary),
        "best": best,
        **by,
        "untested": untested,
        "holds_so_far": not by["ahead"] and not by["within"],
        "settled": bool(best["sweep_complete"].all()) and not pending,
        "done": done,
        "planned": len(planned),
        "running": running,
        "not_started": not_started,
        "commands": commands,
        "after_sweep": [s for s in RECURRENT_SCHEMES if not best.loc[s, "sweep_complete"]],
    }
