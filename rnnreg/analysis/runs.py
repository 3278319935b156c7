"""Recorded runs under ``results/`` as pandas tables, beside the published numbers (:mod:`rnnreg.published`).
A run folder ``results/<corpus>/<name>/`` holds ``config.json``, ``log.jsonl`` (one line per epoch) and,
once complete, ``summary.json``."""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..config import PRESETS, Config, parameter_count
from ..live import sweep_findings
from ..published import (
    FOLLOW_UP_SOURCES,
    FOLLOW_UPS,
    MODEL_NAMES,
    MODELS,
    REPORTED_AVERAGING,
    RERUNS,
    TABLE1_OTHERS,
    TABLE1_SECTIONS,
    reported,
)
from ..runfolder import RunFolderError, read_json, read_log
from ..train import curve_findings


def reported_averaging(model: str = "small") -> pd.DataFrame:
    """The paper's averaging rows for one model size, the single model (members = 1) first."""
    single = reported(model, "paper")
    rows = [dict(source="paper", model=model, members=1, valid=single["valid"], test=single["test"])]
    rows += [dict(r) for r in REPORTED_AVERAGING if r["model"] == model]
    if len(rows) == 1:
        raise KeyError(f"no averaging rows for model {model!r}")
    return pd.DataFrame(rows)


def follow_ups_table() -> pd.DataFrame:
    """:data:`FOLLOW_UPS` with the source spelled out (missing numbers NaN)."""
    df = pd.DataFrame(FOLLOW_UPS)
    df["source"] = df["source"].map(FOLLOW_UP_SOURCES)
    return df.astype({"valid": float, "test": float, "params": float})


def results_dir(path: str | os.PathLike | None = None) -> Path:
    """``path``, else $RNNREG_RESULTS, else ``results/`` beside the package."""
    if path is not None:
        return Path(path)
    return Path(os.environ.get("RNNREG_RESULTS") or Path(__file__).resolve().parents[2] / "results")


def cost_estimate(
    preset: str, corpus: str = "ptb", reference: str = "medium", results: str | os.PathLike | None = None
) -> dict:
    """Hours a full run of ``preset`` takes on the CPUs that recorded this project's runs, and hours left:
    the median speed of its own run's epochs (the last three while it trains: thread counts change), else
    ``reference``'s scaled by parameter count, a rough proxy; NaN with neither. Also: tokens_per_s,
    measured, run, epochs_timed, reference."""
    timed = lambda r: r is not None and len(r.log) > 0 and "tokens_per_s" in r.log  # noqa: E731
    params = lambda p: parameter_count(Config.from_preset(p), 10_000)  # noqa: E731
    own = find_run(corpus, preset, results)
    source, run = (preset, own) if timed(own) else (reference, find_run(corpus, reference, results))
    if not timed(run):
        nan = dict.fromkeys(("hours", "hours_left", "tokens_per_s"), math.nan)
        return nan | dict(measured=False, run=None, epochs_timed=0, reference=None)
    log, epochs = run.log if run.complete else run.log.tail(3), PRESETS[preset]["epochs"]
    done = (epochs if run.complete else run.epochs_done) if source == preset else 0
    tps = float(log["tokens_per_s"].median()) * params(source) / params(preset)
    epoch_h = 929_589 / tps / 3600  # an epoch of PTB's training text
    hours = dict(hours=epochs * epoch_h, hours_left=max(epochs - done, 0) * epoch_h, tokens_per_s=tps)
    return hours | dict(measured=source == preset, run=run.name, epochs_timed=len(log), reference=source)


def load_sweep(path: str | os.PathLike, results: str | os.PathLike | None = None) -> dict:
    """A recorded seed sweep of a live demo (``python -m rnnreg live``), e.g. ``live/01_defaults.json``."""
    p = Path(path) if Path(path).is_absolute() or Path(path).exists() else results_dir(results) / path
    if (record := read_json(p)) is None:
        raise FileNotFoundError(f"no recorded sweep at {p}; record it with: python -m rnnreg live --out {p}")
    return record


def sweep_table(sweep: dict, digits: int = 1) -> pd.DataFrame:
    """:func:`rnnreg.live.sweep_findings` as a table, one row per (seed, run), rounded."""
    keys = ("best_valid", "best_epoch", "last_valid", "last_train")
    rows = [
        {"seed": seed, "run": label, **{k.replace("_", " "): round(f[k], digits) for k in keys}}
        for seed, runs in sweep_findings(sweep)["per_seed"].items()
        for label, f in runs.items()
    ]
    return pd.DataFrame(rows).set_index(["seed", "run"])


#: Chapter 01's full-scale story, in its order: run name under results/<corpus>/ -> what it is.
STORY = {
    "small": "small 2×200, no dropout", "medium-nodrop": "medium 2×650, no dropout",
    "medium": "medium 2×650, dropout 0.5",
}  # fmt: skip


def story_runs(corpus: str = "ptb", results: str | os.PathLike | None = None) -> dict[str, Run]:
    """The runs of :data:`STORY` with a logged epoch, labelled with what they are and their status."""
    found = ((k, find_run(corpus, k, results)) for k in STORY)
    return {f"{STORY[k]} ({r.name}, {r.status})": r for k, r in found if r is not None and len(r.log)}


def overfitting(run: Run) -> dict:
    """:func:`rnnreg.train.curve_findings` of the run's log (best epoch, rise after it, train falling)."""
    return curve_findings(run.log.to_dict("records"))


def story_findings(corpus: str = "ptb", results: str | os.PathLike | None = None) -> dict:
    """Chapter 01's full-scale answer, None while a run it needs has no epoch. ``nodrop_overfits``: the
    undropped 2×650 model's valid rose after its best epoch while train kept falling; ``dropout_below``:
    the dropout model's best valid is below it."""
    fit = {run.path.name: overfitting(run) for run in story_runs(corpus, results).values()}
    nodrop, drop = fit.get("medium-nodrop"), fit.get("medium")
    return dict(
        nodrop_overfits=None if nodrop is None else bool(nodrop["rise"] > 0 and nodrop["train_falling"]),
        dropout_below=None if nodrop is None or drop is None else bool(drop["best_valid"] < nodrop["best_valid"]),
    )


@dataclass
class Run:
    """One recorded run folder: config, per-epoch log, and its summary (complete) or ``progress.json``."""

    path: Path
    config: dict
    log: pd.DataFrame
    summary: dict | None = None
    name: str = ""
    progress: dict | None = None

    @property
    def complete(self) -> bool:
        return self.summary is not None

    @property
    def test_ppl(self) -> float:  # NaN until complete
        return math.nan if (test := (self.summary or {}).get("test_ppl")) is None else test

    @property
    def epochs_done(self) -> int:
        return len(self.log)

    @property
    def epochs_planned(self) -> int | None:
        return self.config.get("epochs")

    @property
    def state(self) -> str:
        return "complete" if self.complete else "in progress" if self.epochs_done else "started"

    @property
    def status(self) -> str:
        if self.complete:
            return f"complete, {self.epochs_done} epochs"
        if not self.epochs_done:
            return "started, no epoch yet"
        return f"in progress: epoch {self.epochs_done} of {self.epochs_planned}"

    def final(self, key: str) -> float:
        """The last epoch's ``key`` (e.g. ``valid_ppl``), NaN without epochs."""
        return float(self.log[key].iloc[-1]) if len(self.log) else math.nan

    def epochs_table(self, digits: int = 1) -> pd.DataFrame:
        """Per-epoch learning rate and perplexities, rounded (no timings: they differ run to run)."""
        cols = ["epoch", "lr", "train_ppl", "valid_ppl"]
        out = self.log[cols].copy() if len(self.log) else pd.DataFrame(columns=cols)
        out[cols[2:]] = out[cols[2:]].astype(float).round(digits)
        out["lr"] = out["lr"].astype(float).round(4)
        return out.astype({"epoch": int}).set_index("epoch")


def load_run(path: str | os.PathLike, results: str | os.PathLike | None = None) -> Run:
    """A run folder (relative ``path``: under the results directory first), named as the book cites it."""
    p, base = Path(path), results_dir(results)
    if not p.is_absolute() and not p.exists() and (base / p).exists():
        p = base / p
    if (config := read_json(p / "config.json")) is None:
        raise FileNotFoundError(
            f"{p} is not a recorded run (no config.json); record one: python -m rnnreg train --out {p}"
        )
    records = read_log(p / "log.jsonl")  # a bad line: a RunFolderError naming the file and line
    log = pd.DataFrame(records, columns=None if records else ["epoch", "lr", "train_ppl", "valid_ppl"])
    if len(log) and "epoch" in log:  # one row per epoch, should two writers ever have logged one twice
        log = log.drop_duplicates("epoch", keep="last").sort_values("epoch").reset_index(drop=True)
    try:
        name = "results/" + p.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        name = p.as_posix()
    summary = read_json(p / "summary.json")
    progress = None if summary else read_json(p / "progress.json")
    return Run(path=p, config=config, log=log, summary=summary, name=name, progress=progress)


def find_run(corpus: str, name: str, results: str | os.PathLike | None = None) -> Run | None:
    """The run ``results/<corpus>/<name>``, or None if it was never recorded here."""
    p = results_dir(results) / corpus / name
    return load_run(p, results) if (p / "config.json").is_file() else None


def load_runs(pattern: str = "*/*", results: str | os.PathLike | None = None) -> pd.DataFrame:
    """Every run folder matching ``pattern`` under the results directory, one row each (train/valid:
    last epoch; test NaN until complete). A corrupt record is skipped with a warning."""
    rows = []
    for cfg in sorted(results_dir(results).glob(f"{pattern}/config.json")):
        try:
            run = load_run(cfg.parent, results)
        except RunFolderError as exc:  # one corrupt record must not break every table built from results/
            warnings.warn(f"skipped {cfg.parent}: {exc}", stacklevel=2)
            continue
        rows.append(
            dict(run=run.name, **{k: run.config.get(k) for k in ("preset", "scheme", "dropout", "hidden_size")})
            | dict(epochs=f"{run.epochs_done}/{run.epochs_planned}", status=run.status, state=run.state)
            | dict(train_ppl=run.final("train_ppl"), valid_ppl=run.final("valid_ppl"), test_ppl=run.test_ppl)
        )
    columns = "run preset scheme dropout hidden_size epochs status state train_ppl valid_ppl test_ppl"
    return pd.DataFrame(rows, columns=columns.split())


def table1(corpus: str = "ptb", results: str | os.PathLike | None = None, digits: int = 1) -> pd.DataFrame:
    """Table 1 side by side: the paper's, the TensorFlow tutorial's and this project's perplexities, one row
    per model. ``here_*``: the run ``results/<corpus>/<model>`` (train, valid: last epoch; test: batch 1),
    NaN without one; ``command`` records (or recorded) it. Hidden by :func:`pretty`: ``here_state``, ``cost_h``."""
    rows = []
    for model in MODELS:
        paper, tf = reported(model, "paper"), reported(model, "tf")
        run = find_run(corpus, model, results)
        here = dict(train=math.nan, valid=math.nan, test=math.nan)
        command = f"python -m rnnreg train --preset {model} --device cuda --out results/{corpus}/{model}"
        name, status, state = "–", "not yet run here", "not run"
        if run is not None:
            name, status, state = run.name, run.status, run.state
            command = (run.summary or run.progress or {}).get("command") or command
            recipe = PRESETS[model] | {"max_train_tokens": None}  # the paper's, on the full corpus
            if any(run.config.get(k) != v for k, v in recipe.items()):
                status += ", config differs from the paper's"
            here = dict(train=run.final("train_ppl"), valid=run.final("valid_ppl"), test=run.test_ppl)
        cost = cost_estimate(model, corpus, results=results)
        rows.append(
            dict(model=model, name=MODEL_NAMES[model], paper_valid=paper["valid"], paper_test=paper["test"])
            | {f"tf_{k}": tf[k] for k in here}
            | {f"here_{k}": round(v, digits) for k, v in here.items()}
            | dict(here_run=name, here_status=status, here_state=state, command=command)
            | dict(cost_h=round(cost["hours"], 1), left_h=round(cost["hours_left"], 1))
        )
    return pd.DataFrame(rows).set_index("model")


LABELS = dict(
    name="model (paper's name)", paper_valid="paper valid", paper_test="paper test", tf_train="TF train",
    tf_valid="TF valid", tf_test="TF test", here_train="here train", here_valid="here valid", here_test="here test",
    here_run="recorded run", here_status="status", cost_h="full run (h, 2 CPU cores)", left_h="left (h, 2 CPU cores)",
    valid_ppl="valid", valid_spread="valid spread", test_ppl="test", test_spread="test spread",
    train_ppl="train (dropout on)", gap="valid − train", best_valid="best valid", published_test="published test",
)  # fmt: skip


def paper_table1(table1: pd.DataFrame, averaged: dict[str, dict | None] | None = None, digits: int = 1) -> pd.DataFrame:
    """The paper's whole Table 1 in its order, with this project's numbers beside the rows it recorded:
    complete single models from :func:`table1`, averages from ``averaged`` ({model size: the JSON
    ``python -m rnnreg average`` writes}). Missing numbers NaN."""
    rows = [dict(section=o["section"], model=o["method"], paper_test=o["test"]) for o in TABLE1_OTHERS]
    for _, r in table1.loc[list(MODELS)].iterrows():  # a run still training has no number here yet
        done = r.here_state == "complete"
        here = dict(here_valid=r.here_valid, here_test=r.here_test) if done else {}
        rows.append(dict(section="single", model=r["name"], paper_valid=r.paper_valid, paper_test=r.paper_test, **here))
    for a in REPORTED_AVERAGING:
        avg, k = (averaged or {}).get(a["model"]), a["members"]
        plural = MODEL_NAMES[a["model"]].split(" (")[0] + "s"  # Table 1's "2 medium regularized LSTMs"
        row = dict(section="averaging", model=f"{k} {plural}", paper_valid=a["valid"], paper_test=a["test"])
        if avg and len(avg["average_ppl"]) >= k and avg.get("split") in ("valid", "test"):
            row[f"here_{avg['split']}"] = round(float(avg["average_ppl"][k - 1]), digits)
        rows.append(row)
    df = pd.DataFrame(rows, columns=["section", "model", "paper_valid", "paper_test", "here_valid", "here_test"])
    order = {name: i for i, name in enumerate(TABLE1_SECTIONS)}
    df = df.sort_values("section", key=lambda s: s.map(order), kind="stable")
    df["section"] = df["section"].map(TABLE1_SECTIONS)
    return df.set_index(["section", "model"]).astype(float)


def seed_runs(model: str, corpus: str = "ptb", results: str | os.PathLike | None = None) -> list[Run]:
    """The complete runs of a preset: ``results/<corpus>/<model>`` and its other seeds, ``<model>-seed<k>``."""
    base = results_dir(results) / corpus
    folders = [base / model, *sorted(base.glob(f"{model}-seed*"))]
    return [r for f in folders if (f / "config.json").is_file() and (r := load_run(f, results)).complete]


def reruns_table(table1: pd.DataFrame, model: str = "medium", results: str | os.PathLike | None = None) -> pd.DataFrame:
    """One row of :func:`table1` beside the paper, the TF tutorial and others' reruns (:data:`RERUNS`),
    perplexities as text (a range over several runs); ``notes``: what differs, or this run's status. With
    two or more complete seeds (:func:`seed_runs`) this project's row is their range."""
    r, tf = table1.loc[model], reported(model, "tf")
    ppl = lambda v: f"{v:g}" if "." in f"{v:g}" else f"{v:.1f}"  # as published, at least one decimal: 84.0
    span = lambda lo, hi: ppl(lo) if lo == hi else f"{ppl(lo)}–{ppl(hi)}"  # noqa: E731
    rows = [("paper (Table 1)", ppl(r.paper_valid), ppl(r.paper_test), "–")]
    rows += [("TF tutorial (its docstring)", ppl(tf["valid"]), ppl(tf["test"]), "its own numbers")]
    for x in (x for x in RERUNS if x["model"] == model):
        who = x["source"] + (f" ({x['runs']} runs)" if x["runs"] else "")
        rows.append((who, span(*x["valid"]), span(*x["test"]), x["differs"]))
    valid = "–" if math.isnan(r.here_valid) else ppl(r.here_valid)
    test = ppl(r.here_test) if r.here_state == "complete" else "–"
    notes = r.here_status if r.here_state != "not run" else "not run here"
    if len(seeds := seed_runs(model, results=results)) > 1:
        v, t = ([round(x, 1) for x in xs] for xs in zip(*((s.final("valid_ppl"), s.test_ppl) for s in seeds)))
        valid, test, notes = span(min(v), max(v)), span(min(t), max(t)), f"{len(seeds)} seeds, complete"
    rows.append(("this project", valid, test, notes))
    return pd.DataFrame(rows, columns=["who", "valid", "test", "notes"]).set_index("who")


def pretty(df: pd.DataFrame, missing: str = "–", commands: bool = False) -> pd.DataFrame:
    """For display: missing numbers as a dash (a one-seed row's spread as "one seed"), column names in
    words, the command column only on request."""
    hidden = ["here_state"] + ([] if commands else ["command", "cost_h"])
    out = df.drop(columns=hidden, errors="ignore").astype(object)
    for col in [c for c in ("valid_spread", "test_spread") if c in df and "seeds" in df]:
        out[col] = [("one seed" if n == 1 else missing) if pd.isna(v) else v for v, n in zip(df[col], df["seeds"])]
    return out.where(out.notna(), missing).rename(columns=LABELS)
