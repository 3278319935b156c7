"""Recorded runs under ``results/`` as pandas tables, and the published numbers they are compared with.

A recorded run is a folder ``results/<corpus>/<run-name>/`` written by ``rnnreg.train.train``:
``config.json``, ``log.jsonl`` (one JSON object per finished epoch) and, once the run is
complete, ``summary.json`` (final and test perplexity with provenance). A run that is still
training has a log but no summary; :class:`Run` reports it as in progress. A run whose checkpoint
was lost keeps its record in ``<run-name>/lost-attempt-<N>/`` (``python -m rnnreg mark-lost``) and
its restart is recorded in the folder itself; :attr:`Run.earlier_attempts` reads them.

The published perplexities live in :mod:`rnnreg.published`, the one place in the code that holds
them, each with its source; the tables here (:func:`reported_averaging`,
:func:`follow_ups_table`, :func:`reruns_table`) read them from there.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd
import torch

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
from ..runfolder import read_json
from ..train import PRESETS, Config, build_model, curve_findings, lost_attempts

#: Where recorded runs live: $RNNREG_RESULTS, else ``results/`` beside the package.
DEFAULT_RESULTS = Path(__file__).resolve().parents[2] / "results"


def format_names(names) -> str:
    """Scheme (or run) names as the chapters print them in prose: ``"`a`, `b`"``, or ``"none"``."""
    return ", ".join(f"`{n}`" for n in names) or "none"


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
    if path is not None:
        return Path(path)
    return Path(os.environ.get("RNNREG_RESULTS") or DEFAULT_RESULTS)


def train_command(preset: str, corpus: str = "ptb", device: str = "cuda") -> str:
    """The command that records the run :func:`table1` looks for."""
    return f"python -m rnnreg train --preset {preset} --device {device} --out results/{corpus}/{preset}"


def parameter_count(preset: str, vocab_size: int = 10_000) -> int:
    """Parameters of a preset's model, counted without allocating them."""
    with torch.device("meta"):
        return build_model(Config.preset(preset), vocab_size).num_parameters()


RECENT_EPOCHS = 3  #: a run in progress is timed by its last epochs: thread counts and machines change
LEVEL = 0.0005  #: a rise of validation perplexity after its best epoch that rounds to 0.0 %: no turn, level


def cost_estimate(preset: str, corpus: str = "ptb", reference: str | None = None,
                  results: str | os.PathLike | None = None, train_tokens: int = 929_589) -> dict:
    """Hours a full run of ``preset`` takes on the CPUs that recorded this project's runs, and hours left.

    Measured when ``results/<corpus>/<preset>`` has logged epochs: the median training speed of its
    epochs, or of its last :data:`RECENT_EPOCHS` while it is still training (a run resumed across
    sessions may have changed machine or thread count). Otherwise a reference run's median speed
    scaled by the parameter count: ``reference``, or by default the recorded preset nearest in size
    (the parameter count is a rough proxy for the cost per token: on this project's CPUs the small
    run scaled to the medium predicted half the medium run's measured speed, hence the nearest).

    Returns ``hours``, ``hours_left`` (the epochs not yet logged; 0 once complete), ``tokens_per_s``,
    ``basis`` (the run the speed comes from, and how) and ``reference`` (the preset of that run:
    ``preset`` itself when measured), or NaN hours with no run to scale from. Training only:
    validation and the test pass add a few percent.
    """
    epochs = PRESETS[preset]["epochs"]
    own = find_run(corpus, preset, results)
    done = 0
    if own is not None and len(own.log) and "tokens_per_s" in own.log:
        done = epochs if own.complete else own.epochs_done
        timed = own.log if own.complete else own.log.tail(RECENT_EPOCHS)
        tps = float(timed["tokens_per_s"].median())
        which = f"{len(timed)} logged epochs" if own.complete else f"last {len(timed)} epochs"
        basis, ref_preset = f"measured: median speed of {own.name}'s {which}", preset
    else:
        candidates = [reference] if reference else sorted(
            (p for p in PRESETS if p != preset),
            key=lambda p: abs(math.log(parameter_count(p) / parameter_count(preset))))
        ref_preset, ref = next(((p, r) for p, r in ((p, find_run(corpus, p, results)) for p in candidates)
                                if r is not None and len(r.log) and "tokens_per_s" in r.log), (None, None))
        if ref is None:
            return {"hours": math.nan, "hours_left": math.nan, "tokens_per_s": math.nan,
                    "basis": f"no recorded {reference or 'preset'} run to scale", "reference": None}
        tps = float(ref.log["tokens_per_s"].median()) * parameter_count(ref_preset) / parameter_count(preset)
        basis = f"estimated: {ref.name}'s median speed scaled by parameter count"
    epoch_h = train_tokens / tps / 3600
    return {"hours": epochs * epoch_h, "hours_left": max(epochs - done, 0) * epoch_h, "tokens_per_s": tps,
            "basis": basis, "reference": ref_preset}


def load_sweep(path: str | os.PathLike, results: str | os.PathLike | None = None) -> dict:
    """A recorded seed sweep of a live demo (``python -m rnnreg live``), e.g. ``live/01_defaults.json``."""
    p = Path(path)
    p = p if p.is_absolute() or p.exists() else results_dir(results) / p
    record = read_json(p)
    if record is None:
        raise FileNotFoundError(f"no recorded sweep at {p}; record it with: python -m rnnreg live --out {p}")
    return record


def sweep_table(sweep: dict, digits: int = 1) -> pd.DataFrame:
    """One row per (seed, run): best valid and its epoch, last valid and last train, rounded
    (:func:`rnnreg.live.sweep_findings` as a table)."""
    rows = [{"seed": seed, "run": label, "best valid": round(f["best_valid"], digits), "best epoch": f["best_epoch"],
             "last valid": round(f["last_valid"], digits), "last train": round(f["last_train"], digits)}
            for seed, runs in sweep_findings(sweep)["per_seed"].items() for label, f in runs.items()]
    return pd.DataFrame(rows).set_index(["seed", "run"])


#: Chapter 01's full-scale story, in its order: run name under results/<corpus>/ -> what it is.
STORY = {
    "small": "small 2×200, no dropout",
    "medium-nodrop": "medium 2×650, no dropout",
    "medium": "medium 2×650, dropout 0.5",
}


def story_runs(corpus: str = "ptb", results: str | os.PathLike | None = None) -> dict[str, "Run"]:
    """The recorded runs of :data:`STORY` with at least one logged epoch, labelled with what they are
    and their status; a run restarted after a lost checkpoint comes after its lost attempts
    (:attr:`Run.earlier_attempts`), each labelled as such."""
    out = {}
    for name, what in STORY.items():
        run = find_run(corpus, name, results)
        if run is None:
            continue
        for i, lost in enumerate(run.earlier_attempts, 1):  # first: in time, and drawn under the restart
            if len(lost.log):
                out[f"{what}, lost attempt {i} ({lost.name}, {lost.epochs_done} epochs recorded)"] = lost
        if len(run.log):
            out[f"{what} ({run.name}, {run.status})"] = run
    return out


def overfitting(run: "Run") -> dict:
    """How a run's validation perplexity behaves: :func:`rnnreg.train.curve_findings` of its log
    (best epoch, how far valid rose after it, whether train kept falling)."""
    return curve_findings(run.log.to_dict("records"))


def story_findings(corpus: str = "ptb", results: str | os.PathLike | None = None) -> dict:
    """Chapter 01's full-scale answer in numbers and decisions, from the runs of :data:`STORY`.

    Per run name: None when nothing is recorded, else its folder, status, test perplexity (None
    until complete) and :func:`overfitting`. ``nodrop_overfits``: the undropped 2×650 model's
    validation perplexity turned up after its best epoch while its train perplexity kept falling
    (False: not in the epochs logged so far; None: not recorded). ``dropout_below``: the dropout
    model's best validation perplexity is below the undropped one's (None unless both are recorded).
    ``corpus``: the corpus they were looked up on. ``earlier``: per run name, its lost attempts
    (run, epochs, best valid and its epoch), which answer for nothing but say how far they got.
    """
    out: dict = {"corpus": corpus, "earlier": {}}
    for name in STORY:
        run = find_run(corpus, name, results)
        out["earlier"][name] = [] if run is None else [
            {"run": lost.name, **overfitting(lost)} for lost in run.earlier_attempts if len(lost.log)]
        if run is None or not len(run.log):
            out[name] = None
            continue
        out[name] = {"run": run.name, "status": run.status, "complete": run.complete,
                     "test": run.summary["test_ppl"] if run.summary else None, **overfitting(run)}
    nodrop, drop = out.get("medium-nodrop"), out.get("medium")
    out["nodrop_overfits"] = None if nodrop is None else bool(nodrop["rise"] > 0 and nodrop["train_falling"])
    out["dropout_below"] = None if nodrop is None or drop is None else bool(drop["best_valid"] < nodrop["best_valid"])
    return out


def story_said(found: dict, name: str) -> str:
    """One run of :func:`story_findings` in words: "`results/ptb/small` (complete, 13 epochs): best
    valid 119.4 at epoch 10, last 120.1, test 115.2" (no test until the run is complete), then how
    far each lost attempt of it got."""
    f = found[name]
    if f is None:
        said = f"`results/{found['corpus']}/{name}`: not recorded yet"
    else:
        test = f", test {f['test']:.1f}" if f["test"] is not None else ""
        said = (f"`{f['run']}` ({f['status']}): best valid {f['best_valid']:.1f} at epoch {f['best_epoch']}, "
                f"last {f['last_valid']:.1f}{test}")
    for i, lost in enumerate(found.get("earlier", {}).get(name, []), 1):
        said += (f"; its lost attempt {i} (`{lost['run']}`, checkpoint gone) had reached best valid "
                 f"{lost['best_valid']:.1f} at epoch {lost['best_epoch']} of {lost['epochs']} recorded")
    return said


def story_verdict(found: dict) -> str:
    """Chapter 01's full-scale verdict from :func:`story_findings`: does the undropped 2×650 model
    overfit, and is the dropout model's best validation perplexity below its best?"""
    nodrop, drop = found["medium-nodrop"], found["medium"]
    if found["nodrop_overfits"] is None:
        verdict = "The full-scale comparison waits for its first recorded epochs."
    elif found["nodrop_overfits"]:
        verdict = (f"Without dropout the 2×650 model overfits at full scale: its validation perplexity turned up "
                   f"after epoch {nodrop['best_epoch']} while its train perplexity kept falling.")
    else:
        verdict = (f"Without dropout the 2×650 model's validation perplexity has not turned up in the "
                   f"{nodrop['epochs']} epochs recorded so far.")
    if found["dropout_below"] is not None:
        below = "below" if found["dropout_below"] else ("not below" if drop["complete"] else "not yet below")
        verdict += (f" With dropout its best validation perplexity{'' if drop['complete'] else ' so far'} is "
                    f"{drop['best_valid']:.1f}, {below} the undropped model's best ({nodrop['best_valid']:.1f}).")
        lost = found.get("earlier", {}).get("medium", [])
        if lost and not drop["complete"]:  # how far the lost attempts got, against the same best
            best = min(lost, key=lambda x: x["best_valid"])
            which = ("Its lost attempt had" if len(lost) == 1 else
                     f"The best of its {len(lost)} lost attempts (`{best['run']}`) had")
            verdict += (f" {which} reached {best['best_valid']:.1f} by epoch {best['best_epoch']} "
                        f"({'below' if best['best_valid'] < nodrop['best_valid'] else 'not below'} it) before "
                        f"{'its checkpoint was' if len(lost) == 1 else 'the checkpoints were'} gone.")
    return verdict


def story_gist(found: dict) -> str:
    """:func:`story_verdict` in one clause, for the guide's chapter list: "at 2×650 without dropout
    validation perplexity turns up while train keeps falling; with dropout below its best so far
    (in progress: epoch 9 of 39)", or once complete "...; with dropout 0.5 its best validation
    perplexity is 86.4, below the undropped model's 122.9, and its test 82.4 (paper 82.7)"."""
    nodrop = {True: "turns up while train keeps falling", False: "has not turned up yet (run in progress)",
              None: "is not recorded yet"}[found["nodrop_overfits"]]
    gist = f"at 2×650 without dropout validation perplexity {nodrop}"
    below, drop = found["dropout_below"], found["medium"]
    if below is None:
        return gist
    if drop["complete"]:
        paper, undropped = reported("medium", "paper")["test"], found["medium-nodrop"]["best_valid"]
        return gist + (f"; with dropout 0.5 its best validation perplexity is {drop['best_valid']:.1f}, "
                       f"{'below' if below else 'above'} the undropped model's {undropped:.1f}, "
                       f"and its test {drop['test']:.1f} (paper {paper})")
    where = "below its best so far" if below else "not below its best yet"
    return gist + f"; with dropout {where} ({drop['status']})"


def story_fit_lines(story: dict[str, "Run"]) -> str:
    """Each run of :func:`story_runs` (label: run) as a Markdown bullet: its last validation
    perplexity, and whether it is still falling or how far it rose from its best epoch."""
    lines = []
    for label, run in story.items():
        f = overfitting(run)
        if f["rise"] == 0:
            shape = "still falling at its last epoch"
        elif f["rise"] < LEVEL:
            shape = f"level with its best (epoch {f['best_epoch']}, {f['best_valid']:.2f})"
        else:
            shape = f"up {f['rise']:.1%} from its best (epoch {f['best_epoch']}, {f['best_valid']:.1f})"
        lines.append(f"- **{label}**: valid {f['last_valid']:.1f} after {f['epochs']} epochs, {shape}; "
                     f"train {f['last_train']:.1f}.")
    return "\n".join(lines)


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
    def sessions(self) -> list[dict]:
        """Each training process's record (epochs, command, commit, machine), from the summary or progress."""
        return (self.summary or self.progress or {}).get("sessions", [])

    @property
    def command(self) -> str | None:
        """The command that trained it: the summary's, or while it trains, its latest recorded session's."""
        if self.summary:
            return self.summary.get("command")
        return next((s["command"] for s in reversed(self.sessions) if "command" in s), None)

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
    def lost(self) -> dict | None:
        """Why this attempt cannot go on (its checkpoint is gone), as ``mark-lost`` recorded it; else None."""
        return (self.progress or {}).get("lost")

    @cached_property
    def earlier_attempts(self) -> list["Run"]:
        """The lost attempts before this run, kept in its folder (``lost-attempt-<N>``), oldest first
        (read once per loaded run: :attr:`status` and the story ask for them often)."""
        attempts = [load_run(folder) for folder in lost_attempts(self.path)]
        for attempt in attempts:  # named as the book cites its folder: inside this run's
            attempt.name = f"{self.name}/{attempt.path.name}"
        return attempts

    @property
    def state(self) -> str:
        """Where the run stands, one word for code to test: "complete", "in progress", "started" or "lost"."""
        if self.complete:
            return "complete"
        if self.lost:
            return "lost"
        return "in progress" if self.epochs_done else "started"

    @property
    def status(self) -> str:
        """:attr:`state` in words for a reader, with the epochs done (and the attempt, after a restart)."""
        attempt = f", attempt {len(self.earlier_attempts) + 1}" if self.earlier_attempts else ""
        if self.complete:
            return f"complete, {self.epochs_done} epochs{attempt}"
        if self.lost:
            return f"lost after epoch {self.epochs_done} of {self.epochs_planned}: its checkpoint is gone"
        if self.epochs_done == 0:
            return f"started, no epoch finished yet{attempt}"
        return f"in progress: epoch {self.epochs_done} of {self.epochs_planned}{attempt}"

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
            "run": self.name, "status": self.status, "epochs": self.epochs_done,
            "train_ppl": round(self.final("train_ppl"), digits), "valid_ppl": round(self.final("valid_ppl"), digits),
            "best_valid_ppl": round(float(self.log["valid_ppl"].iloc[best]), digits),
            "best_epoch": int(self.log["epoch"].iloc[best]),
            "test_ppl": round(test, digits) if test is not None else None,
            "valid/train": round(self.final("valid_ppl") / self.final("train_ppl"), 2),
        }

    def describe(self) -> str:
        """One line naming the run for figure notes: ``results/ptb/small (complete, 13 epochs)``."""
        return f"{self.name} ({self.status})"


def load_run(path: str | os.PathLike, results: str | os.PathLike | None = None) -> Run:
    """Load a run folder. A relative ``path`` is looked up under the results directory first.

    ``Run.name`` is the path as the book cites it, e.g. ``results/ptb/small``.
    """
    p = Path(path)
    base = results_dir(results)
    if not p.is_absolute() and not p.exists() and (base / p).exists():
        p = base / p
    config = read_json(p / "config.json")
    if config is None:
        raise FileNotFoundError(f"{p} is not a recorded run (no config.json); "
                                f"record one with: python -m rnnreg train --out {p}")
    log_path = p / "log.jsonl"
    records = []
    if log_path.is_file():
        for line in log_path.read_text().splitlines():
            if line.strip():
                records.append(json.loads(line))
    log = pd.DataFrame(records, columns=None if records else
                       ["epoch", "lr", "train_ppl", "valid_ppl", "tokens_per_s", "epoch_s", "wall_s"])
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
    """Every run folder matching ``pattern`` under the results directory, one row each.

    Columns: run, preset, scheme, dropout, hidden_size, epochs (done/planned), status (words),
    state (:attr:`Run.state`), train_ppl, valid_ppl (last epoch), best_valid_ppl, test_ppl (NaN until complete).
    """
    rows = []
    for cfg in sorted(results_dir(results).glob(f"{pattern}/config.json")):
        run = load_run(cfg.parent, results)
        s = run.summary or {}
        rows.append({
            "run": run.name, "preset": run.config.get("preset"), "scheme": run.config.get("scheme"),
            "dropout": run.config.get("dropout"), "hidden_size": run.config.get("hidden_size"),
            "epochs": f"{run.epochs_done}/{run.epochs_planned}", "status": run.status, "state": run.state,
            "train_ppl": run.final("train_ppl"), "valid_ppl": run.final("valid_ppl"),
            "best_valid_ppl": float(run.log["valid_ppl"].min()) if len(run.log) else math.nan,
            "test_ppl": s.get("test_ppl", math.nan) if s.get("test_ppl") is not None else math.nan,
        })
    columns = ["run", "preset", "scheme", "dropout", "hidden_size", "epochs", "status", "state",
               "train_ppl", "valid_ppl", "best_valid_ppl", "test_ppl"]
    return pd.DataFrame(rows, columns=columns)


def table1(corpus: str = "ptb", results: str | os.PathLike | None = None, digits: int = 1) -> pd.DataFrame:
    """Table 1 side by side: the paper's, the TensorFlow tutorial's and this project's perplexities.

    One row per model (small, medium, large). This project's numbers come from the recorded run
    ``results/<corpus>/<model>`` (train and valid: last epoch; test: the paper's batch-1 protocol),
    rounded to ``digits``. ``here_run`` names that run; ``here_status`` says "not yet run here"
    when there is none (numbers NaN), ``here_state`` is :attr:`Run.state` or "not run" (for code to
    test; :func:`pretty` leaves it out), and ``command`` is the command that records it (for a
    recorded run, the command that trains or trained it: :attr:`Run.command`). For code, left out
    by :func:`pretty`: ``here_gap`` (test against the paper's, unrounded), ``wall_h`` (a complete
    run's measured wall time) and ``cost_h`` (a full run's hours by :func:`cost_estimate`; ``left_h``,
    shown, the hours still to train).
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
            if run.summary:
                if run.summary.get("test_ppl") is not None:
                    here["test"] = run.summary["test_ppl"]
            command = run.command or command
        cost = cost_estimate(model, corpus, results=results)
        rows.append({
            "model": model, "name": MODEL_NAMES[model],
            "paper_valid": paper["valid"], "paper_test": paper["test"],
            "tf_train": tf["train"], "tf_valid": tf["valid"], "tf_test": tf["test"],
            **{f"here_{k}": round(v, digits) for k, v in here.items()},
            "here_gap": here["test"] / paper["test"] - 1,  # unrounded, for the percentage said
            "wall_h": round(run.summary.get("wall_s", math.nan) / 3600, 1) if run and run.summary else math.nan,
            "here_run": name, "here_status": status, "here_state": state, "command": command,
            "cost_h": round(cost["hours"], 1), "left_h": round(cost["hours_left"], 1),
        })
    return pd.DataFrame(rows).set_index("model")


TABLE1_LABELS = {"name": "model (paper's name)", "paper_valid": "paper valid", "paper_test": "paper test",
                 "tf_train": "TF train", "tf_valid": "TF valid", "tf_test": "TF test", "here_train": "here train",
                 "here_valid": "here valid", "here_test": "here test", "here_run": "recorded run",
                 "here_status": "status", "command": "command",
                 "cost_h": "full run (h, 2 CPU cores)", "left_h": "left (h, 2 CPU cores)"}


def paper_table1(table1: pd.DataFrame, averaged: dict[str, dict | None] | None = None, digits: int = 1) -> pd.DataFrame:
    """The paper's whole Table 1 in its order (sections; other authors' rows first in each), with
    this project's numbers beside the rows it recorded: the single models from :func:`table1`
    (``results/ptb/<model>``, once complete), the averages from ``averaged`` ({model size: the JSON ``python -m
    rnnreg average`` writes}, on the split it names). Missing numbers NaN."""
    rows = [dict(section=o["section"], model=o["method"], paper_test=o["test"]) for o in TABLE1_OTHERS]
    for _, r in table1.loc[list(MODELS)].iterrows():  # a run still training has no row here yet
        done = r.here_state == "complete"
        rows.append(dict(section="single", model=r["name"], paper_valid=r.paper_valid, paper_test=r.paper_test,
                         here_valid=r.here_valid if done else math.nan, here_test=r.here_test if done else math.nan))
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


def table1_here(table1: pd.DataFrame, model: str) -> str:
    """What this project has for one row of :func:`table1`, in words: the run, its status and numbers,
    the hours left while it trains, or that it is not run (with the cost of a full run)."""
    r = table1.loc[model]
    if r.here_state == "not run":
        return f"not run here (a full run ≈ {r.cost_h:.0f} h on two CPU cores)"
    numbers = f"valid {r.here_valid:.1f}" + (f" / test {r.here_test:.1f}" if r.here_test == r.here_test else "")
    left = f", ≈ {r.left_h:g} h left on two CPU cores" if r.here_state == "in progress" else ""
    return f"`{r.here_run}` ({r.here_status}{left}): {numbers}"


def table1_commands(table1: pd.DataFrame) -> str:
    """Each row of :func:`table1` with its status, what it costs on two CPU cores (the hours left
    while it trains) and its command, two lines per model."""
    lines = []
    for model, r in table1.iterrows():
        cost = f"a full run ≈ {r.cost_h:g} h on 2 CPU cores"
        if r.here_state == "complete" and not math.isnan(r.wall_h):  # the measured wall time beside the estimate
            cost = f"took {r.wall_h:g} h here; ≈ {r.cost_h:g} h on 2 quiet CPU cores at its median speed"
        if r.here_state == "in progress":
            cost = f"≈ {r.left_h:g} h left of a full run's ≈ {r.cost_h:g} h on 2 CPU cores"
        lines.append(f"{model} ({r.here_status}; {cost}):\n    {r.command}")
    return "\n".join(lines)


def _ppl(value: float) -> str:
    """A perplexity as published: its own decimals, at least one (84.0, not 84)."""
    return f"{value:g}" if "." in f"{value:g}" else f"{value:.1f}"


def _span(low: float, high: float) -> str:
    return _ppl(low) if low == high else f"{_ppl(low)}–{_ppl(high)}"


def reruns_table(table1: pd.DataFrame, model: str = "medium") -> pd.DataFrame:
    """One row of :func:`table1` beside others' reruns of the same recipe (:data:`RERUNS`): the paper,
    the TF tutorial's own numbers, each rerun, and this project's run (valid of its last epoch; test
    once complete). Perplexities as text, a range where a thread reports several runs; ``notes``: what
    differs from the paper's recipe, or this project's run status."""
    r = table1.loc[model]
    tf = reported(model, "tf")
    rows = [dict(who="paper (Table 1)", valid=_ppl(r.paper_valid), test=_ppl(r.paper_test), notes="–"),
            dict(who="TF tutorial (its docstring)", valid=_ppl(tf["valid"]), test=_ppl(tf["test"]),
                 notes="the tutorial's own numbers")]
    for x in RERUNS:
        if x["model"] == model:
            runs = f" ({x['runs']} runs)" if x["runs"] else ""
            rows.append(dict(who=x["source"] + runs, valid=_span(*x["valid"]), test=_span(*x["test"]),
                             notes=x["differs"]))
    done = r.here_state == "complete"
    rows.append(dict(who="this project", valid="–" if math.isnan(r.here_valid) else _ppl(r.here_valid),
                     test=_ppl(r.here_test) if done else "–",
                     notes=r.here_status if r.here_state != "not run" else "not run here"))
    return pd.DataFrame(rows).set_index("who")


def _where(value: float, low: float, high: float) -> str:
    return "below" if value < low else "above" if value > high else "inside"


def reruns_said(table1: pd.DataFrame, model: str = "medium") -> str:
    """:func:`reruns_table` in one sentence: the span of others' reruns, where the paper's test
    number lies against it, and where this project's run lies (its valid while it trains)."""
    r = table1.loc[model]
    reruns = [x for x in RERUNS if x["model"] == model]
    if not reruns:
        return f"No rerun of the {model} recipe by others is recorded in the reference notes."
    valid = (min(x["valid"][0] for x in reruns), max(x["valid"][1] for x in reruns))
    test = (min(x["test"][0] for x in reruns), max(x["test"][1] for x in reruns))
    threads = len({x["source"] for x in reruns})
    if len(reruns) == 1:
        said = f"One rerun of the {model} recipe by others ({reruns[0]['source']}) reports valid {_span(*valid)} and "
    else:
        said = (f"Others' reruns of the {model} recipe ({len(reruns)} results in {threads} threads) span "
                f"valid {_span(*valid)} and ")
    that, theirs = ("that range", "the reruns' range") if len(reruns) > 1 else ("that number", "the rerun's")
    said += f"test {_span(*test)}; the paper's test {_ppl(r.paper_test)} is {_where(r.paper_test, *test)} {that}."
    if r.here_state == "complete":
        gap = r.here_gap
        said += (f" This project's run: valid {_ppl(r.here_valid)} ({_where(r.here_valid, *valid)} {theirs}), "
                 f"test {_ppl(r.here_test)} ({_where(r.here_test, *test)} {theirs}; {gap:+.1%} against the paper's).")
    elif r.here_state == "in progress":
        said += (f" This project's run ({r.here_status}): valid {_ppl(r.here_valid)} so far, where the "
                 f"{'reruns' if len(reruns) > 1 else 'rerun'} ended at {_span(*valid)}; no test number until it "
                 "is complete.")
    else:
        said += " This project has no run of it yet."
    return said


def attempts_compared(run: "Run", digits: int = 1) -> pd.DataFrame:
    """Validation perplexity by epoch of each attempt of ``run`` (its lost attempts, then itself) and
    how far each later attempt lies from the first (``attempt k vs 1 (%)``), over the epochs the first
    and at least one later attempt logged (an attempt that had not got there shows NaN). Empty without
    an earlier attempt."""
    attempts = [*run.earlier_attempts, run]
    if len(attempts) < 2:
        return pd.DataFrame()
    epochs = min(attempts[0].epochs_done, max(a.epochs_done for a in attempts[1:]))
    index = pd.RangeIndex(1, epochs + 1, name="epoch")
    table = pd.DataFrame({f"attempt {i} valid": pd.Series(a.log["valid_ppl"].to_numpy()[:epochs], dtype=float)
                          .reindex(range(epochs)).to_numpy() for i, a in enumerate(attempts, 1)}, index=index)
    first = table["attempt 1 valid"]
    for i in range(2, len(attempts) + 1):
        table[f"attempt {i} vs 1 (%)"] = (100 * (table[f"attempt {i} valid"] / first - 1)).round(2)
    return table.round({f"attempt {i} valid": digits for i in range(1, len(attempts) + 1)})


def machines_said(run: "Run") -> str:
    """The machines a run's recorded sessions trained on, in words (unrecorded sessions named as such)."""
    sessions = run.sessions
    devices = list(dict.fromkeys(s["device"] for s in sessions if "device" in s))
    unrecorded = [s["epochs"] for s in sessions if "device" not in s]
    said = "; ".join(devices) or "machines not recorded"
    if unrecorded and devices:
        said += "".join(f" (epochs {a}–{b} not recorded)" for a, b in unrecorded)
    return said


def _repeats(attempts: list["Run"]) -> dict[int, tuple[int, int]]:
    """Attempt number -> (the earlier attempt it repeats to the last digit, epochs both logged): train
    and validation perplexities equal over every epoch the two share (the first such earlier one)."""
    out = {}
    columns = ["train_ppl", "valid_ppl"]
    for i, later in enumerate(attempts[1:], 2):
        for j, earlier in enumerate(attempts[:i - 1], 1):
            shared = min(earlier.epochs_done, later.epochs_done)
            if shared and later.log[columns].iloc[:shared].equals(earlier.log[columns].iloc[:shared]):
                out[i] = (j, shared)
                break
    return out


def attempts_said(run: "Run") -> str:
    """:func:`attempts_compared` in words: for each later attempt, over the epochs it and the first
    both logged, how far its validation perplexity lies from the first's, and what differed; an
    attempt that repeats another to the last digit is said so instead of twice."""
    table = attempts_compared(run)
    if table.empty:
        return f"`{run.name}` has no earlier attempt."
    attempts = [*run.earlier_attempts, run]
    repeats = _repeats(attempts)
    later = "Attempt 2 repeats" if len(attempts) == 2 else f"Attempts 2-{len(attempts)} repeat"
    parts = []
    for i in range(2, len(attempts) + 1):
        gap = table[f"attempt {i} vs 1 (%)"].dropna()
        if gap.empty:
            parts.append(f"attempt {i} has logged no epoch yet")
            continue
        if i in repeats and repeats[i][0] > 1:  # said below, once
            continue
        worst = int(gap.abs().idxmax())
        epochs = f"{len(gap)} epoch{'s' if len(gap) > 1 else ''}"
        parts.append(f"over the {epochs} attempt {i} and attempt 1 both logged, its validation perplexity "
                     f"lies {gap.min():+.2f}% to {gap.max():+.2f}% from attempt 1's (furthest at epoch {worst}: "
                     f"{table.loc[worst, f'attempt {i} valid']:.1f} against {table.loc[worst, 'attempt 1 valid']:.1f}, "
                     f"{gap.loc[worst]:+.2f}%)")
    machines = "; ".join(f"attempt {i}: {machines_said(a)}" for i, a in enumerate(attempts, 1))
    said = (f"{later} attempt 1's recipe, seed and corpus; " + "; ".join(parts) + ". What differed: the machines "
            f"and thread counts ({machines}) and the code commits (each session's, in `progress.json` or "
            "`summary.json`).")
    for i, (j, shared) in repeats.items():
        said += (f" Attempt {i} repeats attempt {j}'s train and validation perplexities to the last digit "
                 f"over the {shared} epoch{'s' if shared > 1 else ''} both logged.")
    return said


def pretty(df: pd.DataFrame, missing: str = "–", commands: bool = False) -> pd.DataFrame:
    """For display: missing numbers as a dash, column names in words, the command column only on request."""
    # here_status says the state in words; the gap and wall time are for the sentences
    hidden = ["here_state", "here_gap", "wall_h"] + ([] if commands else ["command", "cost_h"])
    out = df.drop(columns=hidden, errors="ignore")
    out = out.astype(object).where(out.notna(), missing)
    return out.rename(columns=TABLE1_LABELS)
