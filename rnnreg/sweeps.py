"""Sweeps: the runs the chapters train, and how they are sent out.

A sweep is a list of :class:`Run`, each a run folder and the ``python -m rnnreg train`` arguments
that fill it. :func:`launch` sends every run not yet finished as one job through submitit
(``pip install submitit``): ``local`` runs the jobs on this machine, ``slurm`` submits them to a
cluster as one job array. A job runs the command a user would type, so launching a sweep again
skips its finished runs (``summary.json`` there) and resumes the others from their checkpoints.

- chapter 04's grid (:data:`GRID`): :func:`grid_runs`; once trained, a cell also records its
  training perplexity in evaluation mode (:func:`record_train_eval`);
- chapter 05's zoo (:data:`BUDGETS`): :func:`zoo_runs`. One zoo run is ``(scheme, seed, rate,
  budget)``, ``rate`` its recurrent rate (None or the budget's ``recurrent_rate``: untuned); its
  Config, name, folder (under ``root`` when given) and command: :func:`run_config`, :func:`run_name`,
  :func:`run_folder`, :func:`run_command`.
"""

from __future__ import annotations

import json
import math
import os
import shlex
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .config import Config
from .data import load_corpus
from .live import cores
from .model import SCHEMES, check_rate
from .runfolder import load_run_model, read_json, recorded_corpus_folder, write_json
from .train import evaluate, num_threads


# --- A run, and the job that trains it ---------------------------------------------------------
@dataclass(frozen=True)
class Run:
    folder: str
    argv: tuple[str, ...]  #: the ``python -m rnnreg train`` arguments, ``--out <folder>`` among them
    train_eval: bool = False  #: a grid cell: add the eval-mode training perplexity once trained

    @property
    def command(self) -> str:
        return "python -m rnnreg train " + shlex.join(self.argv)

    def finished(self) -> bool:
        summary = read_json(Path(self.folder) / "summary.json")
        return summary is not None and (not self.train_eval or "train_eval_ppl" in summary)


def train_argv(preset: str, overrides: dict, folder: str) -> list[str]:
    """``--preset <preset>``, one option per override (in their order), ``--quiet --out <folder>``."""
    argv = ["--preset", preset]
    for name, value in overrides.items():
        argv += [f"--{name.replace('_', '-')}", f"{value:g}" if isinstance(value, float) else str(value)]
    return argv + ["--quiet", "--out", folder]


class Job:
    """One job, on whatever machine runs it: ``python -m rnnreg train <argv>`` on ``threads`` threads
    (in this process; it resumes from the folder's checkpoint) unless the run is trained, then what
    the sweep adds. When SLURM stops a job (time limit, preemption) submitit calls :meth:`checkpoint`
    and requeues the job as it was: it resumes from the checkpoint the run saved last."""

    def __init__(self, run: Run, threads: int = 1):
        self.run, self.threads = run, threads

    def __call__(self) -> str:
        from .__main__ import main

        with num_threads(self.threads):
            if read_json(Path(self.run.folder) / "summary.json") is None:
                rc = main(["train", *self.run.argv])
                if rc:
                    raise RuntimeError(f"{self.run.command} exited with status {rc}")
            if self.run.train_eval and not self.run.finished():
                record_train_eval(self.run.folder, unknown="unk" if "--unk" in self.run.argv else "error")
        return self.run.folder

    def checkpoint(self):
        import submitit

        return submitit.helpers.DelayedSubmission(self)


# --- Sending runs out: submitit, on this machine or to SLURM -----------------------------------
#: A job's time limit when none is asked for: a day on SLURM, none to speak of here.
DEFAULT_MINUTES = {"local": 365 * 24 * 60, "slurm": 24 * 60}
LOGS = "runs/submitit"  # submitit's folder for the jobs' output


def executor_parameters(launcher="local", partition=None, minutes=None, cpus=1, name="rnnreg") -> dict:
    """What submitit's ``executor.update_parameters`` receives (``slurm_*``: SLURM's only)."""
    if launcher not in DEFAULT_MINUTES:
        raise ValueError(f"--launcher must be one of {', '.join(DEFAULT_MINUTES)}, got {launcher!r}")
    if not (isinstance(cpus, int) and cpus >= 1):
        raise ValueError(f"--cpus must be a whole number >= 1, got {cpus!r}")
    if minutes is not None and not (isinstance(minutes, int) and minutes >= 1):
        raise ValueError(f"--time must be whole minutes >= 1, got {minutes!r}")
    params = dict(name=name, timeout_min=minutes or DEFAULT_MINUTES[launcher], cpus_per_task=cpus)
    return {**params, "slurm_partition": partition} if launcher == "slurm" and partition else params


def launch(
    runs, launcher="local", logs=LOGS, partition=None, minutes=None, cpus=1, dry_run=False, name="rnnreg", log=print
) -> tuple[list[Run], list[Run]]:
    """Send each run not yet finished as one job; ``(submitted, failed)``.

    ``local``: at most one job per ``cpus`` cores at a time, each training on ``cpus`` threads; waits
    for every job (Ctrl-C cancels them) and returns the runs that failed. ``slurm``: one job array
    (one job for a single run), ``cpus`` CPUs and ``minutes`` per job on ``partition``; returns at
    once, nothing failed yet. ``logs``: submitit's folder (the jobs' output; on SLURM it must be on a
    file system the nodes share). ``dry_run``: say the executor's parameters and each job's command.
    """
    params = executor_parameters(launcher, partition, minutes, cpus, name)
    todo = []
    for run in runs:
        if run.finished():
            log(f"{run.folder}: complete, skipped")
        else:
            todo.append(run)
    if dry_run:
        if launcher == "slurm":
            log(f"slurm: {json.dumps(params)}")
        for run in todo:
            log(run.command)
        return todo, []
    if not todo:
        return [], []
    try:
        import submitit
    except ImportError:
        raise ImportError("sweeps are sent out through submitit: pip install submitit") from None
    executor = submitit.AutoExecutor(folder=Path(logs) / "%j", cluster=launcher)
    executor.update_parameters(**params)
    if launcher == "slurm":
        with executor.batch():
            jobs = [executor.submit(Job(run, cpus)) for run in todo]
        for run, job in zip(todo, jobs):
            log(f"{run.folder}: submitted, job {job.job_id}")
        return todo, []
    return todo, _run_here(executor, todo, cpus, log)


def _run_here(executor, runs: list[Run], cpus: int, log) -> list[Run]:
    """Run the jobs on this machine, one per ``cpus`` cores at a time; the runs that failed."""
    queue, running, failed = list(runs), [], []
    try:
        while queue or running:
            for run, job in [(r, j) for r, j in running if j.done()]:
                running.remove((run, job))
                if job.exception() is None:
                    log(f"{run.folder}: done")
                else:
                    failed.append(run)
                    log(f"{run.folder}: failed, see {job.paths.stderr}")
            while queue and len(running) < max(1, cores() // cpus):
                run = queue.pop(0)
                job = executor.submit(Job(run, cpus))
                running.append((run, job))
                log(f"{run.folder}: training, job {job.job_id} (output: {job.paths.stdout})")
            if running:
                time.sleep(0.5)
    except KeyboardInterrupt:
        for _, job in running:
            job.cancel()
        raise
    return failed


# --- Chapter 04: the grid ----------------------------------------------------------------------
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


def grid_overrides(hidden_size: int, dropout: float, seed: int = 1) -> dict:
    """The ``small`` preset's overrides of one grid cell, in the order its ``train`` command gives them."""
    scheme = "zaremba" if dropout > 0 else "none"
    return dict(scheme=scheme, dropout=float(dropout), hidden_size=hidden_size, seed=seed, **GRID["budget"])


def grid_config(hidden_size: int, dropout: float, seed: int = 1) -> Config:
    return Config.from_preset("small", **grid_overrides(hidden_size, dropout, seed))


def cell_name(hidden_size: int, dropout: float, seed: int = 1) -> str:
    return f"h{hidden_size:04d}-p{round(dropout * 100):02d}-seed{seed}"


def grid_cells(sizes=None, rates=None, seeds=None, ensemble: bool = True) -> list[tuple[int, float, int]]:
    """(N, p, seed) of every cell, cheapest first, ensemble seeds included."""
    sizes, rates, seeds = sizes or GRID["sizes"], rates or GRID["rates"], seeds or GRID["seeds"]
    for p in rates:
        check_rate("--rates", p)
    cells = {(n, p, s) for n in sizes for p in rates for s in seeds}
    if ensemble:
        cells |= {(ENSEMBLE["hidden_size"], 0.0, s) for s in ENSEMBLE["seeds"]}
    return sorted(cells, key=lambda c: (c[0], c[2], c[1]))


def grid_runs(root: str, cells=None, data: Sequence[str] = ()) -> list[Run]:
    """One run per cell (default: every cell of :func:`grid_cells`) in ``root/<cell_name>``; ``data``:
    the corpus options each ``train`` command ends with."""
    runs = []
    for n, p, s in grid_cells() if cells is None else cells:
        grid_config(n, p, s)  # a wrong size or seed is said here, before any job starts
        folder = f"{str(root).rstrip('/')}/{cell_name(n, p, s)}"
        runs.append(Run(folder, (*train_argv("small", grid_overrides(n, p, s), folder), *data), train_eval=True))
    return runs


def record_train_eval(folder: str | os.PathLike, unknown: str = "error") -> dict:
    """Add a trained cell's training perplexity in evaluation mode (the fit the whole network reaches,
    dropout off) to its summary.json: its checkpoint on the training slice it saw, laid out as
    validation. The summary, as written."""
    start, folder = time.perf_counter(), Path(folder)
    summary = read_json(folder / "summary.json")
    corpus = load_corpus(recorded_corpus_folder(folder), download=False, unknown=unknown)
    model, config, _ = load_run_model(folder, corpus=corpus)
    train_ids = corpus.train[: config.max_train_tokens]
    summary["train_eval_ppl"] = evaluate(model, train_ids, config.batch_size, config.steps)
    summary["train_eval_note"] = "training slice, evaluation mode (dropout off), same layout as validation"
    summary["wall_s"] += time.perf_counter() - start
    write_json(folder / "summary.json", summary)
    return summary


# --- Chapter 05: the scheme zoo ----------------------------------------------------------------
#: Where the untuned zoo and its tuning live under the results folder.
ZOO = "ptb/zoo"
TUNED = "ptb/zoo-tuned"

#: The zoo's budgets, the one place that names them. Every zoo run is ``Config.from_preset(preset)``
#: with these overrides: ``dropout`` on the non-recurrent connections (scheme ``none``: 0);
#: ``recurrent_rate``, the untuned rate on the recurrent site (``recurrent_dropout`` of
#: everywhere / memory / variational / weight_drop, left unset so that it equals ``dropout``;
#: ``zoneout_c`` of zoneout); ``zoneout_h`` (zoneout keeps h with 0.05, never tuned); and, where
#: given, the first ``max_train_tokens`` training tokens, ``epochs`` epochs, learning-rate decay
#: after ``decay_after``. ``small`` is chapter 05's zoo; ``medium`` the paper's medium recipe
#: (2 x 650, all of PTB, 39 epochs; its runs live in ``results/ptb/zoo-medium``).
_RATES = dict(dropout=0.5, recurrent_rate=0.5, zoneout_h=0.05)
BUDGETS = {
    "small": dict(preset="small", **_RATES, max_train_tokens=300_000, epochs=6, decay_after=2),
    "medium": dict(preset="medium", **_RATES),
}
BUDGET = BUDGETS["small"]
#: Seeds of the untuned zoo.
SEEDS = (1, 2)
#: What ``zoo --budget medium`` trains unless told otherwise: the schemes with a recurrent dropout
#: rate, at the rate the small zoo's tuning chose (issue #29's 2 x 650 runs).
MEDIUM = dict(schemes=("variational", "everywhere", "weight_drop", "memory"), rates=(0.1,), seeds=(1,))
#: The Config field that holds each scheme's recurrent rate (the sites: ``analysis.schemes.SCHEME_SITES``).
#: Zoneout's c rate is tuned; its h rate stays at the budget's ``zoneout_h``.
RATE_OPTION = {
    **dict.fromkeys(("everywhere", "memory", "variational", "weight_drop"), "recurrent_dropout"),
    "zoneout": "zoneout_c",
}
RECURRENT_SCHEMES = tuple(s for s in SCHEMES if s in RATE_OPTION)


def rate_option(scheme: str) -> str | None:
    """The Config field that holds a scheme's recurrent rate (None: the scheme has no recurrent site)."""
    return RATE_OPTION.get(scheme)


def tuned_rate(scheme: str, rate: float | None, budget: str = "small") -> float | None:
    """``rate`` if it differs from the untuned one for a scheme with a recurrent site, else None (untuned)."""
    if rate is None or rate_option(scheme) is None or math.isclose(rate, BUDGETS[budget]["recurrent_rate"]):
        return None
    return float(rate)


def run_overrides(scheme: str, seed=1, rate=None, budget="small") -> dict:
    """The Config overrides of one zoo run, in the order its ``train`` command gives them: each one
    the budget sets that the preset's Config does not already hold."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; choose one of {', '.join(SCHEMES)}")
    b, base = BUDGETS[budget], Config.from_preset(BUDGETS[budget]["preset"])
    out: dict = {"scheme": scheme, "dropout": 0.0 if scheme == "none" else b["dropout"]}
    option, rate = rate_option(scheme), tuned_rate(scheme, rate, budget)
    if option == "zoneout_c" and rate is None:  # recurrent_dropout unset means "as dropout"; zoneout_c has no such
        rate = b["recurrent_rate"]
    if option and rate is not None and rate != getattr(base, option):
        out[option] = rate
    if scheme == "zoneout" and b["zoneout_h"] != base.zoneout_h:
        out["zoneout_h"] = b["zoneout_h"]
    return {**out, **{k: b[k] for k in ("max_train_tokens", "epochs", "decay_after") if k in b}, "seed": seed}


def run_config(scheme: str, seed=1, rate=None, budget="small") -> Config:
    """The Config of one zoo run (see :data:`BUDGETS`)."""
    return Config.from_preset(BUDGETS[budget]["preset"], **run_overrides(scheme, seed, rate, budget))


def run_name(scheme: str, seed=1, rate=None, budget="small") -> str:
    """``<scheme>-seed<k>`` (untuned) or ``<scheme>-r<NN>-seed<k>`` (recurrent rate NN/100)."""
    rate = tuned_rate(scheme, rate, budget)
    return f"{scheme}-seed{seed}" if rate is None else f"{scheme}-r{round(rate * 100):02d}-seed{seed}"


def run_folder(scheme: str, seed=1, rate=None, root=None, budget="small") -> str:
    """``results/`` + :data:`ZOO` (untuned), :data:`TUNED`, or for the medium budget ``ptb/zoo-medium``."""
    if root is None:
        tuned = tuned_rate(scheme, rate, budget) is not None
        root = "results/" + ("ptb/zoo-medium" if budget == "medium" else TUNED if tuned else ZOO)
    return f"{root.rstrip('/')}/{run_name(scheme, seed, rate, budget)}"


def run_argv(scheme: str, seed=1, rate=None, root=None, budget="small") -> list[str]:
    """The ``python -m rnnreg train`` arguments of one zoo run (what its summary.json records)."""
    overrides, folder = run_overrides(scheme, seed, rate, budget), run_folder(scheme, seed, rate, root, budget)
    return train_argv(BUDGETS[budget]["preset"], overrides, folder)


def run_command(scheme: str, seed=1, rate=None, root=None, extra: Sequence[str] = (), budget="small") -> str:
    """The ``python -m rnnreg train`` command line of one zoo run, ``extra`` arguments appended."""
    return "python -m rnnreg train " + shlex.join([*run_argv(scheme, seed, rate, root, budget), *extra])


def plan(schemes=SCHEMES, seeds=SEEDS, rates=None, budget="small") -> list[tuple[str, int, float | None]]:
    """``(scheme, seed, rate)`` of every run asked for, without repeats; ``rate`` None = untuned.
    A rate asked for a scheme without a recurrent site (``none``, ``zaremba``) gives its untuned run."""
    for rate in rates or ():
        check_rate("--recurrent-dropout", rate)
    runs = [(s, seed, tuned_rate(s, r, budget)) for seed in seeds for s in schemes for r in rates or [None]]
    return list(dict.fromkeys(runs))


def zoo_runs(schemes=SCHEMES, seeds=SEEDS, rates=None, root=None, budget="small", data=()) -> list[Run]:
    """The runs of :func:`plan` at ``budget``; ``data``: the corpus options each ``train`` command ends with."""
    runs = plan(schemes, seeds, rates, budget)
    for s, seed, r in runs:
        run_config(s, seed, r, budget)  # a wrong seed is said here, before any job starts
    return [
        Run(run_folder(s, seed, r, root, budget), (*run_argv(s, seed, r, root, budget), *data)) for s, seed, r in runs
    ]


def zoo_command(schemes=None, seeds=SEEDS, rates=None) -> str:
    """The ``python -m rnnreg zoo`` command that records these runs (skipping finished ones)."""
    parts = ["python -m rnnreg zoo"]
    if schemes is not None:
        parts.append("--schemes " + " ".join(schemes))
    if rates:
        parts.append("--recurrent-dropout " + " ".join(f"{r:g}" for r in rates))
    return " ".join([*parts, "--seeds " + " ".join(map(str, seeds))])
