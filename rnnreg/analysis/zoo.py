"""Chapter 05's data from ``results/``: the scheme zoo ``ptb/zoo/<scheme>-seed<k>/`` (untuned rate), its tuning
``ptb/zoo-tuned/<scheme>-r<NN>-seed<k>/`` (recurrent rate NN/100), ``bench/cpu.json`` and the averaging
``ptb/averaging/<model>.json``. Over several seeds a table gives the mean and the spread (max − min)."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from ..model import SCHEMES
from ..published import FOLLOW_UPS, MODELS
from ..runfolder import RunFolderError, read_json
from ..sweeps import BUDGET, RECURRENT_SCHEMES, TUNED, ZOO, rate_option
from .runs import Run, follow_ups_table, load_run, reported_averaging, results_dir

#: Retrains of untuned zoo runs that keep their checkpoints (chapter 03 measures mask noise on them).
CONTROL = "ptb/zoo-control"
BENCH = "bench/cpu.json"
#: The tuning: every rate with ``seeds``, then each scheme's best rate (chosen on ``seeds``) with ``best_seeds``.
TUNING = dict(rates=(0.1, 0.25, BUDGET["recurrent_rate"]), seeds=(1,), best_seeds=(1, 2))

_SEED = re.compile(r"^(?P<scheme>.+)-seed(?P<seed>\d+)$")
_TUNED = re.compile(r"^(?P<scheme>.+)-r(?P<pct>\d+)-seed(?P<seed>\d+)$")


def _recorded(results, folder: str, pattern: re.Pattern):
    """(name match, Run) of every readable run under ``folder`` named by ``pattern`` after a scheme."""
    for cfg in sorted((results_dir(results) / folder).glob("*/config.json")):
        m = pattern.match(cfg.parent.name)
        if not m or m["scheme"] not in SCHEMES:
            continue
        try:
            run = load_run(cfg.parent, results)
        except (ValueError, OSError):  # half-written: not recorded
            continue
        yield m, run


def load_zoo(results: str | os.PathLike | None = None, zoo: str = ZOO) -> dict[str, list[Run]]:
    """``{scheme: [Run, ...]}`` (``SCHEMES`` order, runs by seed, runs still training included)."""
    found: dict[str, list[tuple[int, Run]]] = {}
    for m, run in _recorded(results, zoo, _SEED):
        found.setdefault(m["scheme"], []).append((int(m["seed"]), run))
    return {s: [r for _, r in sorted(found[s], key=lambda t: t[0])] for s in SCHEMES if s in found}


def seed_of(run) -> int:
    """The seed a run (anything with ``path`` and ``config``) is named after (``...-seed<k>``), else its config's."""
    m = _SEED.match(Path(run.path).name)
    return int(m["seed"]) if m else int(run.config.get("seed", 0))


def retrain_table(results: str | os.PathLike | None = None, digits: int = 2) -> pd.DataFrame:
    """The zoo's runs beside their :data:`CONTROL` retrains (same command): last-epoch validation
    perplexity of each and the difference, one row per complete pair."""
    recorded, retrained = load_zoo(results), load_zoo(results, CONTROL)
    rows = []
    for scheme, reruns in retrained.items():
        for rerun in (r for r in reruns if r.complete):
            match = [r for r in recorded.get(scheme, []) if r.complete and seed_of(r) == seed_of(rerun)]
            if match:
                a, b = match[0].final("valid_ppl"), rerun.final("valid_ppl")
                row = {"scheme": scheme, "seed": seed_of(rerun), "recorded valid": round(a, digits)}
                rows.append(row | {"retrain valid": round(b, digits), "difference": round(b - a, digits)})
    return pd.DataFrame(rows, columns=["scheme", "seed", "recorded valid", "retrain valid", "difference"])


def load_bench(results: str | os.PathLike | None = None) -> dict | None:
    """``results/bench/cpu.json``, or None when it is missing or half-written."""
    try:
        return read_json(results_dir(results) / BENCH)
    except RunFolderError:
        return None


def speed_table(bench: dict | None, shape: str = "small", precision: str = "fp32") -> pd.DataFrame:
    """Training tokens/s per scheme (eager, rounded to 100) and × the plain PyTorch reference."""
    rows = {
        r["scheme"]: {"tokens/s": int(round(r["tokens_per_s"], -2)), "× reference": round(r["ratio_to_reference"], 2)}
        for r in (bench or {}).get("rows", [])
        if (r.get("shape"), r.get("precision"), r.get("compiled", False)) == (shape, precision, False)
        and r.get("scheme") in SCHEMES
    }
    return pd.DataFrame.from_dict(rows, orient="index", columns=["tokens/s", "× reference"])


def runs_table(zoo: dict) -> pd.DataFrame:
    """One row per recorded run: status, state, last-epoch train (dropout on) / valid, test, gap."""
    rows = []
    for scheme, rs in zoo.items():
        for r in rs:
            train, valid = r.final("train_ppl"), r.final("valid_ppl")
            row = dict(scheme=scheme, seed=seed_of(r), status=r.status, state=r.state, train_ppl=train)
            rows.append(row | dict(valid_ppl=valid, test_ppl=r.test_ppl, gap=valid - train))
    cols = ["scheme", "seed", "status", "state", "train_ppl", "valid_ppl", "test_ppl", "gap"]
    return pd.DataFrame(rows, columns=cols)


def scheme_table(zoo: dict, bench: dict | None = None, digits: int = 1) -> pd.DataFrame:
    """One row per scheme with a complete run: means over its complete seeds (last epoch; test: batch 1;
    train: *with dropout on*), ``*_spread`` (max − min, NaN with one seed), gap (valid − train) and the
    speed from ``bench`` (not the zoo's logs, whose timings shared the machine)."""
    done = runs_table(zoo).query("state == 'complete'")
    spread = lambda v: v.max() - v.min() if len(v) > 1 else math.nan  # noqa: E731
    out = done.groupby("scheme", sort=False).agg(
        seeds=("seed", "size"),
        valid_ppl=("valid_ppl", "mean"),
        valid_spread=("valid_ppl", spread),
        test_ppl=("test_ppl", "mean"),
        test_spread=("test_ppl", spread),
        train_ppl=("train_ppl", "mean"),
        gap=("gap", "mean"),
    )
    out = out.reindex([s for s in SCHEMES if s in out.index]).round(digits)
    out = out.join(speed_table(bench)) if bench else out
    return out.rename_axis("scheme")


def literature_table(zoo: dict | None = None, digits: int = 1) -> pd.DataFrame:
    """The follow-up papers' PTB numbers beside this project's untuned zoo result of the same scheme."""
    lit, here = follow_ups_table(), scheme_table(zoo or {}, digits=digits)
    for split in ("valid", "test"):
        lit[f"here {split}"] = [here[f"{split}_ppl"].get(s, math.nan) if s else math.nan for s in lit["scheme"]]
    lit["scheme"] = lit["scheme"].fillna("–")
    cols = ["method", "scheme", "params", "valid", "test", "here valid", "here test", "differs", "source"]
    out = lit[cols].rename(columns={"params": "params (M)"})
    return out.astype(object).where(out.notna(), "–")


def curves(zoo: dict, schemes=SCHEMES) -> dict[str, pd.DataFrame]:
    """``{"<scheme> seed<k>": per-epoch frame}`` (epoch, lr, train_ppl, valid_ppl, gap) of every run with an epoch."""
    cols, gap = ["epoch", "lr", "train_ppl", "valid_ppl"], lambda df: df["valid_ppl"] - df["train_ppl"]
    return {f"{s} seed{seed_of(r)}": r.log[cols].assign(gap=gap) for s in schemes for r in zoo.get(s, []) if len(r.log)}


# --- Model averaging ---------------------------------------------------------------------------
def load_averaging(results: str | os.PathLike | None = None, model: str = "small") -> dict | None:
    """What ``python -m rnnreg average ... --out results/ptb/averaging/<model>.json`` wrote, or None."""
    try:
        data = read_json(results_dir(results) / f"ptb/averaging/{model}.json")
    except RunFolderError:
        return None
    return data if data and data.get("members") and data.get("average_ppl") else None


def load_averagings(results: str | os.PathLike | None = None) -> dict[str, dict]:
    """Every recorded model averaging, keyed by model size."""
    return {m: avg for m in MODELS if (avg := load_averaging(results, m))}


def averaging_table(avg: dict | None, model: str = "small", digits: int = 1) -> pd.DataFrame:
    """Perplexity of the average of k models, indexed by k: the paper's rows (valid, test) and this
    project's (on the split it was recorded on). Missing entries NaN."""
    out = reported_averaging(model).set_index("members")[["valid", "test"]].add_prefix("paper ")
    if avg:
        here = pd.Series(avg["average_ppl"], index=range(1, len(avg["average_ppl"]) + 1), dtype=float)
        out = out.join(here.rename(f"here {avg.get('split', 'test')}"), how="outer")
    return out.round(digits).rename_axis("models averaged")


def averaging_findings(avg: dict | None, model: str = "small") -> dict | None:
    """The averaging in numbers (None while not recorded); ``two`` / ``paper_two``: (one model, two averaged,
    relative drop) here and in Table 1."""
    if not avg:
        return None
    split = avg.get("split", "test")
    ks, paper = [float(v) for v in avg["average_ppl"]], reported_averaging(model).set_index("members")
    drop = lambda a, b: (a, b, (a - b) / a)  # noqa: E731
    return {
        "split": split,
        "members": len(avg["members"]),
        "averages": ks,
        "two": drop(ks[0], ks[1]) if len(ks) >= 2 else None,
        "paper_two": drop(float(paper.loc[1, split]), float(paper.loc[2, split])) if 2 in paper.index else None,
    }


# --- The untuned zoo's answer -------------------------------------------------------------------
def separated(zoo: dict, a: str, b: str) -> bool | None:
    """Do the validation ranges (over complete seeds) of schemes a and b not overlap? None under two seeds each."""
    va, vb = ([r.final("valid_ppl") for r in zoo.get(s, []) if r.complete] for s in (a, b))
    if min(len(va), len(vb)) < 2:
        return None
    return bool(max(va) < min(vb) or max(vb) < min(va))


def _best_epoch(zoo: dict, scheme: str) -> tuple[int, int]:
    """(epoch of the lowest valid perplexity, last epoch) of the scheme's first complete run."""
    log = next(r for r in zoo[scheme] if r.complete).log
    return int(log["epoch"].iloc[int(log["valid_ppl"].values.argmin())]), int(log["epoch"].iloc[-1])


def findings(zoo: dict) -> dict | None:
    """The untuned zoo's answer (None under two complete schemes): ``order`` (by mean valid), ``improving`` (best
    epoch is the last), ``recurrent_behind`` (behind zaremba and none), ``published_order`` (variational ahead
    of zaremba at every size both papers report) and ``published_order_here``."""
    table = scheme_table(zoo, digits=12)
    if len(table) < 2:
        return None
    v, t = table["valid_ppl"], table["test_ppl"]
    order = v.sort_values().index.tolist()
    rec = [s for s in RECURRENT_SCHEMES if s in table.index]
    pub = {
        s: {r["params"]: r["test"] for r in FOLLOW_UPS if r["scheme"] == s and r["test"] and "MC" not in r["method"]}
        for s in ("zaremba", "variational")
    }
    out = {
        "order": order,
        "winner": order[0],
        "second": order[1],
        "last": order[-1],
        "valid": v.to_dict(),
        "test": t.to_dict(),
        "train": table["train_ppl"].to_dict(),
        "spread": table["valid_spread"].to_dict(),
        "test_same_order": t.sort_values().index.tolist() == order,
        "improving": [s for s in order if s != "none" and len(set(_best_epoch(zoo, s))) == 1],
        "separated": separated(zoo, order[0], order[1]),
        "recurrent": rec,
        "recurrent_behind": [s for s in rec if all(v[s] > v[o] for o in ("zaremba", "none") if o in v)],
        "published_order": all(
            pub["variational"][p] < pub["zaremba"][p] for p in pub["zaremba"].keys() & pub["variational"].keys()
        ),
    }
    if "none" in table.index:
        out["none_best_epoch"], out["last_epoch"] = _best_epoch(zoo, "none")
    if {"zaremba", "variational"} <= set(table.index):
        out["published_order_here"] = bool(v["variational"] < v["zaremba"])
    return out


# --- Tuned recurrent rates ----------------------------------------------------------------------
def band_verdict(values, band: tuple[float, float]) -> tuple[float, str]:
    """How a scheme's seed range lies against ``band``, zaremba's seed range: the gap (+ above, − below, 0 if
    they overlap) and ``within`` (overlap), ``borderline`` (apart by at most the band's width), ``behind`` or
    ``ahead``."""
    (lo, hi), vmin, vmax = band, float(min(values)), float(max(values))
    gap = vmin - hi if vmin > hi else min(vmax - lo, 0.0)
    return gap, "within" if gap == 0 else "borderline" if abs(gap) <= hi - lo else "behind" if gap > 0 else "ahead"


def recurrent_rate(config: Mapping, scheme: str | None = None, no_site: float = math.nan) -> float:
    """The rate on a run's recurrent site (unset ``recurrent_dropout``: ``dropout``); ``no_site`` without one."""
    option = rate_option(scheme or config["scheme"])
    if option is None:
        return no_site
    value = config.get(option)
    return float(config.get("dropout", BUDGET["dropout"]) if value is None else value)


def tuning_runs(results: str | os.PathLike | None = None) -> pd.DataFrame:
    """Every run of the tuning (the untuned zoo and ``results/ptb/zoo-tuned``), one row per folder."""
    rows = []
    for folder, pattern in ((ZOO, _SEED), (TUNED, _TUNED)):
        for m, run in _recorded(results, folder, pattern):
            row = dict(scheme=m["scheme"], rate=recurrent_rate(run.config, m["scheme"]), seed=int(m["seed"]))
            row |= dict(run=run.name, status=run.status, complete=run.complete, valid_ppl=run.final("valid_ppl"))
            rows.append(row | {"test_ppl": float(run.test_ppl)})
    df = pd.DataFrame(rows, columns=["scheme", "rate", "seed", "run", "status", "complete", "valid_ppl", "test_ppl"])
    df["scheme"] = pd.Categorical(df["scheme"], categories=SCHEMES, ordered=True)
    return df.sort_values(["scheme", "rate", "seed"]).reset_index(drop=True).astype({"scheme": str})


def tuning_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (scheme, rate) over complete seeds: mean / min / max valid, mean test, ``sweep_ppl`` (mean over
    ``TUNING["seeds"]``, the only ones the best rate is chosen on), ``running``."""
    rows = []
    for (scheme, rate), g in runs.groupby(["scheme", "rate"], sort=False, dropna=False):
        done = g[g["complete"]]
        valid, sweep = done["valid_ppl"], done[done["seed"].isin(TUNING["seeds"])]["valid_ppl"]
        row = dict(scheme=scheme, rate=rate, seeds=len(done), valid_ppl=valid.mean(), valid_min=valid.min())
        row |= dict(valid_max=valid.max(), test_ppl=done["test_ppl"].mean(), sweep_ppl=sweep.mean())
        rows.append(row | {"running": int((~g["complete"]).sum())})
    cols = ["scheme", "rate", "seeds", "valid_ppl", "valid_min", "valid_max", "test_ppl", "sweep_ppl", "running"]
    return pd.DataFrame(rows, columns=cols)


def tuning_table(summary: pd.DataFrame, rates=TUNING["rates"], digits: int = 1) -> pd.DataFrame:
    """Scheme × recurrent rate: ``"201.4 (2)"`` (mean valid, seeds), ``"running"`` or ``"–"``; zaremba first."""
    out = {}
    for scheme in ("zaremba", *RECURRENT_SCHEMES):
        row = {}
        for rate in rates:
            hit = summary["scheme"] == scheme
            cell = summary[hit if scheme == "zaremba" else hit & summary["rate"].sub(rate).abs().lt(1e-9)]
            seeds, running = (int(cell[c].iloc[0]) if len(cell) else 0 for c in ("seeds", "running"))
            text = f"{cell['valid_ppl'].iloc[0]:.{digits}f} ({seeds})" if seeds else "running" if running else "–"
            row[f"p = {rate:g}"] = text
        out["zaremba (no recurrent site)" if scheme == "zaremba" else scheme] = row
    return pd.DataFrame.from_dict(out, orient="index").rename_axis("scheme (valid ppl, seeds)")


def tuning_findings(runs: pd.DataFrame) -> dict:
    """The tuning against ``zaremba`` by a rule fixed on the untuned zoo: ``band``, zaremba's seed range, is the
    seed noise. ``best`` per recurrent scheme: the rate lowest on the sweep's seeds (later seeds never move
    it); ``gap``: how far its seed range lies above (+) or below (−) the band, 0 if they overlap; ``verdict``:
    ``within`` (overlap), ``borderline`` (apart by at most the band's width), ``behind`` / ``ahead``, ``no run``.
    ``beaten_at``: (scheme, rate) whose seeds all end below the band; ``planned`` / ``done`` / ``settled``:
    the runs :data:`TUNING` asks for, those complete, and whether all are."""
    summary = tuning_summary(runs)
    summary = summary[summary["seeds"] > 0]
    zar = summary[summary["scheme"] == "zaremba"]
    zaremba = tuple(float(zar[c].iloc[0]) for c in ("valid_ppl", "valid_min", "valid_max")) if len(zar) else None
    _, lo, hi = zaremba or (math.nan,) * 3
    planned = {(s, seed, r) for s in RECURRENT_SCHEMES for seed in TUNING["seeds"] for r in TUNING["rates"]}
    rows = {}
    for scheme in RECURRENT_SCHEMES:
        g = summary[summary["scheme"] == scheme]
        done = sorted(float(r) for r in g["rate"])
        row = dict(rates_done=done, sweep_complete=all(any(math.isclose(r, d) for d in done) for r in TUNING["rates"]))
        row |= dict.fromkeys(("best_rate", "valid_ppl", "valid_min", "valid_max", "test_ppl", "sweep_ppl"), math.nan)
        row |= dict(seeds=0, gap=math.nan, verdict="no run")
        swept = g[g["sweep_ppl"].notna()]
        if len(swept):
            best = swept.loc[swept["sweep_ppl"].idxmin()]
            row |= {k: float(best[k]) for k in ("valid_ppl", "valid_min", "valid_max", "test_ppl", "sweep_ppl")}
            row |= dict(best_rate=float(best["rate"]), seeds=int(best["seeds"]))
            gap, verdict = band_verdict((best["valid_min"], best["valid_max"]), (lo, hi))
            row |= dict(gap=gap, verdict=verdict)
            if row["sweep_complete"]:
                planned |= {(scheme, seed, row["best_rate"]) for seed in TUNING["best_seeds"]}
        rows[scheme] = row
    best = pd.DataFrame.from_dict(rows, orient="index").rename_axis("scheme")
    complete = runs[runs["complete"] & runs["rate"].notna()]
    names = {(r.scheme, int(r.seed), round(float(r.rate), 6)): r.run for r in complete.itertuples()}
    keys = sorted({(s, seed, round(r, 6)) for s, seed, r in planned})
    done = [names[k] for k in keys if k in names]
    by = {v: best.index[best["verdict"] == v].tolist() for v in ("ahead", "within", "borderline", "behind")}
    below = summary[summary["scheme"].isin(RECURRENT_SCHEMES) & (summary["valid_max"] < lo)]
    return {
        "zaremba": zaremba,
        "band": (lo, hi),
        "best": best,
        **by,
        "beaten_at": list(zip(below["scheme"], below["rate"].astype(float))),
        "smallest_best": [s for s in best.index if best.loc[s, "best_rate"] == min(TUNING["rates"])],
        "planned": len(keys),
        "done": done,
        "settled": len(done) == len(keys) and bool(best["sweep_complete"].all()),
    }


# --- The paper's scale -------------------------------------------------------------------------
#: The recurrent schemes at 2×650 (``zoo --budget medium``: the medium recipe, one seed each) and
#: zaremba's medium runs, their control.
FULL_SCALE, FULL_SCALE_CONTROL = "ptb/zoo-medium", ("ptb/medium", "ptb/medium-seed2", "ptb/medium-seed3")


def load_full_scale(results: str | os.PathLike | None = None) -> dict[str, Run]:
    """``{"<scheme> seed<k>": Run}``: zaremba's medium seeds, then every 2×650 scheme run (training ones too)."""
    out = {}
    for name in FULL_SCALE_CONTROL:
        if (results_dir(results) / name / "config.json").exists():
            run = load_run(name, results)
            out[f"zaremba seed{run.config['seed']}"] = run
    for m, run in _recorded(results, FULL_SCALE, _TUNED):
        out[f"{m['scheme']} seed{m['seed']}"] = run
    return out


def full_scale_table(runs: Mapping[str, Run], digits: int = 1) -> pd.DataFrame:
    """One row per 2×650 run: recurrent rate, epochs done, best valid, test (NaN while training), the published
    2×650 test perplexity of its placement (Zaremba's paper, Gal & Ghahramani's tied LSTM) and the verdict of
    :func:`full_scale_findings`."""
    paper = {r["scheme"]: r["test"] for r in FOLLOW_UPS if r["params"] == 20 and r["scheme"] and r["test"]}
    verdicts = full_scale_findings(runs)["verdict"]
    rows = {}
    for label, run in runs.items():
        scheme = run.config["scheme"]
        row = dict(rate=recurrent_rate(run.config, scheme), epochs=f"{run.epochs_done}/{run.epochs_planned}")
        row |= dict(best_valid=run.log["valid_ppl"].min() if len(run.log) else math.nan, test_ppl=run.test_ppl)
        rows[label] = row | dict(published_test=paper.get(scheme, math.nan), verdict=verdicts.get(scheme, "–"))
    return pd.DataFrame.from_dict(rows, orient="index").round(digits).rename_axis("run (2×650)")


def full_scale_findings(runs: Mapping[str, Run]) -> dict:
    """The schemes at 2×650 against zaremba, by the tuning's rule on test perplexity, fixed before any run ended:
    ``band``, the test range of zaremba's medium seeds (None until every one of :data:`FULL_SCALE_CONTROL`
    ends); per scheme ``verdict`` (see :func:`band_verdict`; ``training`` until its run ends) and ``gap``;
    ``complete``, the schemes judged."""
    zar = [r.test_ppl for label, r in runs.items() if label.startswith("zaremba ") and r.complete]
    band = (min(zar), max(zar)) if len(zar) == len(FULL_SCALE_CONTROL) else None
    verdict, gap = {}, {}
    for run in runs.values():
        scheme = run.config["scheme"]
        if scheme != "zaremba":
            judged = run.complete and band is not None
            gap[scheme], verdict[scheme] = band_verdict([run.test_ppl], band) if judged else (math.nan, "training")
    return dict(band=band, verdict=verdict, gap=gap, complete=[s for s, v in verdict.items() if v != "training"])
