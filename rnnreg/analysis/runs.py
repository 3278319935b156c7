"""Recorded runs under ``results/`` as pandas tables, beside the published numbers (:mod:`rnnreg.published`).

A run folder ``results/<corpus>/<name>/`` holds ``config.json``, ``log.jsonl`` (one line per epoch)
and, once complete, ``summary.json``; a run still training has a log but no summary.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field
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

__all__ = [
    "Run", "STORY", "cost_estimate", "find_run", "follow_ups_table", "load_run", "load_runs", "load_sweep",
    "overfitting", "paper_table1", "pretty", "reported_averaging", "reruns_table", "results_dir", "story_findings",
    "story_runs", "sweep_table", "table1", "train_command",
]  # fmt: skip


def reported_averaging(model: str = "small") -> pd.DataFrame:
    """The paper's averaging rows for one model size, with the single model (members = 1) first."""
    single = reported(model, "paper")
    rows = [dict(source="paper", model=model, members=1, valid=single["valid"], test=single["test"])]
    rows += [dict(r) for r in REPORTED_AVERAGING if r["model"] == model]
    if len(rows) == 1:
        raise KeyError(f"no averaging rows for model {model!r}")
    return pd.DataFrame(rows)


def follow_ups_table() -> pd.DataFrame:
    """:data:`FOLLOW_UPS` as a DataFrame with the source spelled out (missing numbers NaN)."""
    df = pd.DataFrame(FOLLOW_UPS)
    df["source"] = df["source"].map(FOLLOW_UP_SOURCES)
    return df.astype({"valid": float, "test": float, "params": float})


def results_dir(path: str | os.PathLike | None = None) -> Path:
    """Where recorded runs live: ``path``, else $RNNREG_RESULTS, else ``results/`` beside the package."""
    if path is not None:
        return Path(path)
    return Path(os.environ.get("RNNREG_RESULTS") or Path(__file__).resolve().parents[2] / "results")


def train_command(preset: str, corpus: str = "ptb", device: str = "cuda") -> str:
    """The command that records the run :func:`table1` looks for."""
    return f"python -m rnnreg train --preset {preset} --device {device} --out results/{corpus}/{preset}"


def _parameters(preset: str) -> int:
    return parameter_count(Config.from_preset(preset), 10_000)


RECENT_EPOCHS = 3  #: a run in progress is timed by its last epochs: thread counts and machines change


def cost_estimate(
    preset: str,
    corpus: str = "ptb",
    reference: str | None = None,
    results: str | os.PathLike | None = None,
    train_tokens: int = 929_589,
) -> dict:
    """Hours a full run of ``preset`` takes on the CPUs that recorded this project's runs, and hours left.

    Measured: the median training speed of ``results/<corpus>/<preset>``'s epochs (of its last
    :data:`RECENT_EPOCHS` while it trains). Otherwise a reference run's median speed scaled by the
    parameter count: ``reference``, or the recorded preset nearest in size (the count is a rough
    proxy: the small run scaled to the medium predicted half the medium's measured speed).
    Keys: hours, hours_left, tokens_per_s, measured, run, epochs_timed, reference (NaN / None with
    no run to scale from). Training only: validation and the test pass add a few percent.
    """
    epochs = PRESETS[preset]["epochs"]
    own = find_run(corpus, preset, results)
    done = 0
    if own is not None and len(own.log) and "tokens_per_s" in own.log:
        done = epochs if own.complete else own.epochs_done
        timed = own.log if own.complete else own.log.tail(RECENT_EPOCHS)
        tps = float(timed["tokens_per_s"].median())
        source, ref_preset = own, preset
    else:
        candidates = (
            [reference]
            if reference
            else sorted(
                (p for p in PRESETS if p != preset), key=lambda p: abs(math.log(_parameters(p) / _parameters(preset)))
            )
        )
        ref_preset, ref = next(
            (
                (p, r)
                for p, r in ((p, find_run(corpus, p, results)) for p in candidates)
                if r is not None and len(r.log) and "tokens_per_s" in r.log
            ),
            (None, None),
        )
        if ref is None:
            return {
                "hours": math.nan,
                "hours_left": math.nan,
                "tokens_per_s": math.nan,
                "measured": False,
                "run": None,
                "epochs_timed": 0,
                "reference": None,
            }
        tps = float(ref.log["tokens_per_s"].median()) * _parameters(ref_preset) / _parameters(preset)
        source, timed = ref, ref.log
    epoch_h = train_tokens / tps / 3600
    return {
        "hours": epochs * epoch_h,
        "hours_left": max(epochs - done, 0) * epoch_h,
        "tokens_per_s": tps,
        "measured": ref_preset == preset,
        "run": source.name,
        "epochs_timed": len(timed),
        "reference": ref_preset,
    }


def load_sweep(path: str | os.PathLike, results: str | os.PathLike | None = None) -> dict:
    """A recorded seed sweep of a live demo (``python -m rnnreg live``), e.g. ``live/01_defaults.json``."""
    p = Path(path)
    p = p if p.is_absolute() or p.exists() else results_dir(results) / p
    record = read_json(p)
    if record is None:
        raise FileNotFoundError(f"no recorded sweep at {p}; record it with: python -m rnnreg live --out {p}")
    return record


def sweep_table(sweep: dict, digits: int = 1) -> pd.DataFrame:
    """:func:`rnnreg.live.sweep_findings` as a table, one row per (seed, run), rounded."""
    rows = [
        {
            "seed": seed,
            "run": label,
            "best valid": round(f["best_valid"], digits),
            "best epoch": f["best_epoch"],
            "last valid": round(f["last_valid"], digits),
            "last train": round(f["last_train"], digits),
        }
        for seed, runs in sweep_findings(sweep)["per_seed"].items()
        for label, f in runs.items()
    ]
    return pd.DataFrame(rows).set_index(["seed", "run"])


#: Chapter 01's full-scale story, in its order: run name under results/<corpus>/ -> what it is.
STORY = {
    "small": "small 2×200, no dropout",
    "medium-nodrop": "medium 2×650, no dropout",
    "medium": "medium 2×650, dropout 0.5",
}


def story_runs(corpus: str = "ptb", results: str | os.PathLike | None = None) -> dict[str, Run]:
    """The recorded runs of :data:`STORY` with a logged epoch, labelled with what they are and their status."""
    out = {}
    for name, what in STORY.items():
        run = find_run(corpus, name, results)
        if run is not None and len(run.log):
            out[f"{what} ({run.name}, {run.status})"] = run
    return out


def overfitting(run: Run) -> dict:
    """:func:`rnnreg.train.curve_findings` of the run's log (best epoch, rise after it, train falling)."""
    return curve_findings(run.log.to_dict("records"))


def story_findings(corpus: str = "ptb", results: str | os.PathLike | None = None) -> dict:
    """Chapter 01's full-scale answer from the runs of :data:`STORY`.

    Per run name: None when not recorded, else run, status, complete, test and :func:`overfitting`.
    ``nodrop_overfits``: the undropped 2×650 model's valid rose after its best epoch while train kept
    falling; ``dropout_below``: the dropout model's best valid is below the undropped one's (None
    unless recorded).
    """
    out: dict = {"corpus": corpus}
    for name in STORY:
        run = find_run(corpus, name, results)
        if run is None or not len(run.log):
            out[name] = None
            continue
        out[name] = {
            "run": run.name,
            "status": run.status,
            "complete": run.complete,
            "test": run.summary["test_ppl"] if run.summary else None,
            **overfitting(run),
        }
    nodrop, drop = out.get("medium-nodrop"), out.get("medium")
    out["nodrop_overfits"] = None if nodrop is None else bool(nodrop["rise"] > 0 and nodrop["train_falling"])
    out["dropout_below"] = None if nodrop is None or drop is None else bool(drop["best_valid"] < nodrop["best_valid"])
    return out


@dataclass
class Run:
    """One recorded run folder: its config, per-epoch log, and its summary (when complete) or the
    ``progress.json`` that ``python -m rnnreg record`` writes while it trains."""

    path: Path
    config: dict
    log: pd.DataFrame
    summary: dict | None = None
    name: str = field(default="")
    progress: dict | None = None

    @property
    def command(self) -> str | None:
        """The command that trained it, from its summary (or its progress while it trains)."""
        return (self.summary or self.progress or {}).get("command")

    @property
    def complete(self) -> bool:
        return self.summary is not None

    @property
    def epochs_done(self) -> int:
        return len(self.log)

    @property
    def epochs_planned(self) -> int | None:
        return self.config.get("epochs")

    @property
    def state(self) -> str:
        """Where the run stands, one word for code to test: "complete", "in progress" or "started"."""
        if self.complete:
            return "complete"
        return "in progress" if self.epochs_done else "started"

    @property
    def status(self) -> str:
        """:attr:`state` with the epochs done, for a table: "in progress: epoch 5 of 39"."""
        if self.complete:
            return f"complete, {self.epochs_done} epochs"
        if self.epochs_done == 0:
            return "started, no epoch yet"
        return f"in progress: epoch {self.epochs_done} of {self.epochs_planned}"

    def matches_preset(self) -> bool:
        """Does the config equal its preset (the paper's configuration) on the full corpus?"""
        preset = PRESETS.get(self.config.get("preset"))
        if preset is None or self.config.get("max_train_tokens") is not None:
            return False
        return all(self.config.get(k) == v for k, v in preset.items())

    def final(self, key: str) -> float:
        """The last epoch's ``key`` (e.g. ``valid_ppl``), NaN without epochs."""
        return float(self.log[key].iloc[-1]) if len(self.log) else math.nan

    def epochs_table(self, digits: int = 1) -> pd.DataFrame:
        """Per-epoch learning rate and perplexities, rounded (no timings: they differ run to run)."""
        cols = ["epoch", "lr", "train_ppl", "valid_ppl"]
        out = self.log[cols].copy() if len(self.log) else pd.DataFrame(columns=cols)
        out[["train_ppl", "valid_ppl"]] = out[["train_ppl", "valid_ppl"]].astype(float).round(digits)
        out["lr"] = out["lr"].astype(float).round(4)
        return out.astype({"epoch": int}).set_index("epoch")

    def headline(self, digits: int = 1) -> dict:
        """The numbers a chapter quotes: last-epoch train/valid, best valid and its epoch, test."""
        if not len(self.log):
            return {"run": self.name, "status": self.status}
        best = int(self.log["valid_ppl"].idxmin())
        test = (self.summary or {}).get("test_ppl")
        return {
            "run": self.name,
            "status": self.status,
            "epochs": self.epochs_done,
            "train_ppl": round(self.final("train_ppl"), digits),
            "valid_ppl": round(self.final("valid_ppl"), digits),
            "best_valid_ppl": round(float(self.log["valid_ppl"].iloc[best]), digits),
            "best_epoch": int(self.log["epoch"].iloc[best]),
            "test_ppl": round(test, digits) if test is not None else None,
            "valid/train": round(self.final("valid_ppl") / self.final("train_ppl"), 2),
        }

    def describe(self) -> str:
        """``results/ptb/small (complete, 13 epochs)``, for figure notes."""
        return f"{self.name} ({self.status})"


def load_run(path: str | os.PathLike, results: str | os.PathLike | None = None) -> Run:
    """Load a run folder (a relative ``path``: under the results directory first); ``Run.name`` is the
    path as the book cites it, e.g. ``results/ptb/small``."""
    p = Path(path)
    base = results_dir(results)
    if not p.is_absolute() and not p.exists() and (base / p).exists():
        p = base / p
    config = read_json(p / "config.json")
    if config is None:
        raise FileNotFoundError(
            f"{p} is not a recorded run (no config.json); record one with: python -m rnnreg train --out {p}"
        )
    records = read_log(p / "log.jsonl")  # a bad line: a RunFolderError naming the file and line
    log = pd.DataFrame(
        records,
        columns=None if records else ["epoch", "lr", "train_ppl", "valid_ppl", "tokens_per_s", "epoch_s", "wall_s"],
    )
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
        s = run.summary or {}
        rows.append(
            {
                "run": run.name,
                "preset": run.config.get("preset"),
                "scheme": run.config.get("scheme"),
                "dropout": run.config.get("dropout"),
                "hidden_size": run.config.get("hidden_size"),
                "epochs": f"{run.epochs_done}/{run.epochs_planned}",
                "status": run.status,
                "state": run.state,
                "train_ppl": run.final("train_ppl"),
                "valid_ppl": run.final("valid_ppl"),
                "best_valid_ppl": float(run.log["valid_ppl"].min()) if len(run.log) else math.nan,
                "test_ppl": s.get("test_ppl", math.nan) if s.get("test_ppl") is not None else math.nan,
            }
        )
    columns = "run preset scheme dropout hidden_size epochs status state train_ppl valid_ppl best_valid_ppl test_ppl"
    return pd.DataFrame(rows, columns=columns.split())


def table1(corpus: str = "ptb", results: str | os.PathLike | None = None, digits: int = 1) -> pd.DataFrame:
    """Table 1 side by side: the paper's, the TensorFlow tutorial's and this project's perplexities.

    One row per model. ``here_*``: the run ``results/<corpus>/<model>`` (train, valid: last epoch;
    test: batch 1), NaN and "not yet run here" without one; ``command`` records (or recorded) it.
    For code, hidden by :func:`pretty`: ``here_state`` (:attr:`Run.state` or "not run"), ``here_gap``
    (test / paper's − 1), ``wall_h`` and ``cost_h`` (:func:`cost_estimate`; ``left_h`` is shown).
    """
    rows = []
    for model in MODELS:
        paper, tf = reported(model, "paper"), reported(model, "tf")
        run = find_run(corpus, model, results)
        here = dict(train=math.nan, valid=math.nan, test=math.nan)
        command = train_command(model, corpus)
        if run is None:
            name, status, state = "–", "not yet run here", "not run"
        else:
            name, status, state = run.name, run.status, run.state
            if not run.matches_preset():
                status += ", config differs from the paper's"
            if len(run.log):
                here["train"], here["valid"] = run.final("train_ppl"), run.final("valid_ppl")
            if run.summary and run.summary.get("test_ppl") is not None:
                here["test"] = run.summary["test_ppl"]
            command = run.command or command
        cost = cost_estimate(model, corpus, results=results)
        rows.append(
            {
                "model": model,
                "name": MODEL_NAMES[model],
                "paper_valid": paper["valid"],
                "paper_test": paper["test"],
                "tf_train": tf["train"],
                "tf_valid": tf["valid"],
                "tf_test": tf["test"],
                **{f"here_{k}": round(v, digits) for k, v in here.items()},
                "here_gap": here["test"] / paper["test"] - 1,  # unrounded, for the percentage said
                "wall_h": round(run.summary.get("wall_s", math.nan) / 3600, 1) if run and run.summary else math.nan,
                "here_run": name,
                "here_status": status,
                "here_state": state,
                "command": command,
                "cost_h": round(cost["hours"], 1),
                "left_h": round(cost["hours_left"], 1),
            }
        )
    return pd.DataFrame(rows).set_index("model")


LABELS = {  # column names in words, for pretty
    "name": "model (paper's name)",
    "paper_valid": "paper valid",
    "paper_test": "paper test",
    "tf_train": "TF train",
    "tf_valid": "TF valid",
    "tf_test": "TF test",
    "here_train": "here train",
    "here_valid": "here valid",
    "here_test": "here test",
    "here_run": "recorded run",
    "here_status": "status",
    "command": "command",
    "cost_h": "full run (h, 2 CPU cores)",
    "left_h": "left (h, 2 CPU cores)",
    "seeds": "seeds",
    "valid_ppl": "valid",
    "valid_spread": "valid spread",
    "test_ppl": "test",
    "test_spread": "test spread",
    "train_ppl": "train (dropout on)",
    "gap": "valid − train",
}


def paper_table1(table1: pd.DataFrame, averaged: dict[str, dict | None] | None = None, digits: int = 1) -> pd.DataFrame:
    """The paper's whole Table 1 in its order, with this project's numbers beside the rows it recorded:
    complete single models from :func:`table1`, averages from ``averaged`` ({model size: the JSON
    ``python -m rnnreg average`` writes}, on its split). Missing numbers NaN."""
    rows = [dict(section=o["section"], model=o["method"], paper_test=o["test"]) for o in TABLE1_OTHERS]
    for _, r in table1.loc[list(MODELS)].iterrows():  # a run still training has no row here yet
        done = r.here_state == "complete"
        rows.append(
            dict(
                section="single",
                model=r["name"],
                paper_valid=r.paper_valid,
                paper_test=r.paper_test,
                here_valid=r.here_valid if done else math.nan,
                here_test=r.here_test if done else math.nan,
            )
        )
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


def _ppl(value: float) -> str:
    """A perplexity as published: its own decimals, at least one (84.0, not 84)."""
    return f"{value:g}" if "." in f"{value:g}" else f"{value:.1f}"


def _span(low: float, high: float) -> str:
    return _ppl(low) if low == high else f"{_ppl(low)}–{_ppl(high)}"


def reruns_table(table1: pd.DataFrame, model: str = "medium") -> pd.DataFrame:
    """One row of :func:`table1` beside the paper, the TF tutorial and others' reruns (:data:`RERUNS`),
    perplexities as text (a range over several runs); ``notes``: what differs, or this run's status."""
    r = table1.loc[model]
    tf = reported(model, "tf")
    rows = [
        dict(who="paper (Table 1)", valid=_ppl(r.paper_valid), test=_ppl(r.paper_test), notes="–"),
        dict(
            who="TF tutorial (its docstring)",
            valid=_ppl(tf["valid"]),
            test=_ppl(tf["test"]),
            notes="the tutorial's own numbers",
        ),
    ]
    for x in RERUNS:
        if x["model"] == model:
            runs = f" ({x['runs']} runs)" if x["runs"] else ""
            rows.append(
                dict(who=x["source"] + runs, valid=_span(*x["valid"]), test=_span(*x["test"]), notes=x["differs"])
            )
    done = r.here_state == "complete"
    rows.append(
        dict(
            who="this project",
            valid="–" if math.isnan(r.here_valid) else _ppl(r.here_valid),
            test=_ppl(r.here_test) if done else "–",
            notes=r.here_status if r.here_state != "not run" else "not run here",
        )
    )
    return pd.DataFrame(rows).set_index("who")


def pretty(df: pd.DataFrame, missing: str = "–", commands: bool = False) -> pd.DataFrame:
    """For display: missing numbers as a dash (a one-seed row's spread as "one seed"), column names in
    words, the command column only on request."""
    # here_status says the state in words; the gap and wall time are for code
    hidden = ["here_state", "here_gap", "wall_h"] + ([] if commands else ["command", "cost_h"])
    out = df.drop(columns=hidden, errors="ignore").astype(object)
    for col in ("valid_spread", "test_spread") if "seeds" in df else ():
        if col in df:
            out[col] = [("one seed" if n == 1 else missing) if pd.isna(v) else v for v, n in zip(df[col], df["seeds"])]
    return out.where(out.notna(), missing).rename(columns=LABELS)
