"""Sweeps: the runs the chapters train (chapter 04's grid, chapter 05's zoo), and how they are sent out.

A sweep is a list of :class:`Run`, each a run folder and the ``python -m rnnreg train`` arguments that
fill it. :func:`launch` sends every run not yet finished as one job through submitit (``pip install
submitit``): ``local`` on this machine, ``slurm`` as one job array on a cluster. A job runs the command a
user would type, so launching a sweep again skips its finished runs and resumes the others.
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

from .config import Config, check_option
from .data import load_corpus
from .live import cores
from .model import SCHEMES
from .runfolder import load_run_model, read_json, recorded_corpus, write_json
from .train import evaluate, num_threads


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
    """One job: ``python -m rnnreg train <argv>`` on ``threads`` threads, then what the sweep adds. Stopped by
    SLURM (time limit, preemption), submitit calls :meth:`checkpoint` and requeues it (it resumes)."""

    def __init__(self, run: Run, threads: int = 1):
        self.run, self.threads = run, threads

    def __call__(self) -> str:
        from .__main__ import main

        with num_threads(self.threads):
            if read_json(Path(self.run.folder) / "summary.json") is None and (rc := main(["train", *self.run.argv])):
                raise RuntimeError(f"{self.run.command} exited with status {rc}")
            if self.run.train_eval and not self.run.finished():
                record_train_eval(self.run.folder, unknown="unk" if "--unk" in self.run.argv else "error")
        return self.run.folder

    def checkpoint(self):
        import submitit

        return submitit.helpers.DelayedSubmission(self)


DEFAULT_MINUTES = {"local": 365 * 24 * 60, "slurm": 24 * 60}  # a job's time limit: a day on SLURM, none here
LOGS = "runs/submitit"  # submitit's folder for the jobs' output


def executor_parameters(launcher="local", partition=None, minutes=None, cpus=1, name="rnnreg") -> dict:
    """What submitit's ``executor.update_parameters`` receives (``slurm_*``: SLURM's only)."""
    if launcher not in DEFAULT_MINUTES:
        raise ValueError(f"--launcher must be one of {', '.join(DEFAULT_MINUTES)}, got {launcher!r}")
    check_option("cpus", cpus, "--cpus")
    if minutes is not None:
        check_option("time", minutes, "--time")
    params = dict(name=name, timeout_min=minutes or DEFAULT_MINUTES[launcher], cpus_per_task=cpus)
    return {**params, "slurm_partition": partition} if launcher == "slurm" and partition else params


def launch(
    runs, launcher="local", logs=LOGS, partition=None, minutes=None, cpus=1, dry_run=False, name="rnnreg", log=print
) -> tuple[list[Run], list[Run]]:
    """Send each unfinished run as one job with ``cpus`` threads; ``(submitted, failed)``. ``local``: one job
    per ``cpus`` cores at a time, waiting for all; ``slurm``: one job array. ``dry_run``: say each command."""
    params = executor_parameters(launcher, partition, minutes, cpus, name)
    todo = [run for run in runs if not run.finished()]
    for run in [r for r in runs if r not in todo]:
        log(f"{run.folder}: complete, skipped")
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
#: The measured grid: the small recipe with ``zaremba`` dropout on the first 100,000 PTB training tokens for
#: 6 epochs. Sizes stop at the paper's small model (a 2 x 400 row would cost as much again as the whole grid
#: on 2 cores); they start at 5 so that most dropout cells have an undropped model at least as bad as they are.
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
    """The ``small`` preset's overrides of one grid cell, in its ``train`` command's order."""
    scheme = "zaremba" if dropout > 0 else "none"
    return dict(scheme=scheme, dropout=float(dropout), hidden_size=hidden_size, seed=seed, **GRID["budget"])


def grid_config(hidden_size: int, dropout: float, seed: int = 1) -> Config:
    return Config.from_preset("small", **grid_overrides(hidden_size, dropout, seed))


def cell_name(hidden_size: int, dropout: float, seed: int = 1) -> str:
    return f"h{hidden_size:04d}-p{round(dropout * 100):02d}-seed{seed}"


def grid_cells(sizes=None, rates=None, seeds=None, ensemble: bool = True) -> list[tuple[int, float, int]]:
    """(N, p, seed) of every cell, cheapest first, ensemble seeds included."""
    sizes, rates, seeds = sizes or GRID["sizes"], rates or GRID["rates"], seeds or GRID["seeds"]
    cells = {(n, p, s) for n in sizes for p in rates for s in seeds}
    if ensemble:
        cells |= {(ENSEMBLE["hidden_size"], 0.0, s) for s in ENSEMBLE["seeds"]}
    return sorted(cells, key=lambda c: (c[0], c[2], c[1]))


def grid_runs(root: str, cells=None, data: Sequence[str] = ()) -> list[Run]:
    """One run per cell (default: :func:`grid_cells`) in ``root/<cell_name>``; ``data``: corpus options."""
    runs = []
    for n, p, s in grid_cells() if cells is None else cells:
        grid_config(n, p, s)  # a wrong size or seed is said here, before any job starts
        folder = f"{str(root).rstrip('/')}/{cell_name(n, p, s)}"
        runs.append(Run(folder, (*train_argv("small", grid_overrides(n, p, s), folder), *data), train_eval=True))
    return runs


def record_train_eval(folder: str | os.PathLike, unknown: str = "error") -> dict:
    """Add a trained cell's training perplexity in evaluation mode (the fit the network reaches, dropout
    off: the training slice it saw, laid out as validation) to its summary.json; the summary."""
    start, folder = time.perf_counter(), Path(folder)
    summary = read_json(folder / "summary.json")
    corpus = load_corpus(recorded_corpus(folder)["folder"], download=False, unknown=unknown)
    model, config, _ = load_run_model(folder, corpus=corpus)
    train_ids = corpus.train[: config.max_train_tokens]
    summary["train_eval_ppl"] = evaluate(model, train_ids, config.batch_size, config.steps)
    summary["train_eval_note"] = "training slice, evaluation mode (dropout off), same layout as validation"
    summary["wall_s"] += time.perf_counter() - start
    write_json(folder / "summary.json", summary)
    return summary


# --- Chapter 05: the scheme zoo ----------------------------------------------------------------
ZOO, TUNED = "ptb/zoo", "ptb/zoo-tuned"  # the untuned zoo and its tuning, under results/

#: The zoo's budgets: a preset with ``dropout`` on the non-recurrent connections (scheme ``none``: 0),
#: ``recurrent_rate`` the untuned rate on the recurrent site (``recurrent_dropout`` unset, so as ``dropout``;
#: zoneout's ``zoneout_c``), ``zoneout_h`` (never tuned) and, where given, ``max_train_tokens``, ``epochs``,
#: ``decay_after``. ``small``: chapter 05's zoo; ``medium``: the paper's medium recipe (``results/ptb/zoo-medium``).
_RATES = dict(dropout=0.5, recurrent_rate=0.5, zoneout_h=0.05)
BUDGETS = {
    "small": dict(preset="small", **_RATES, max_train_tokens=300_000, epochs=6, decay_after=2),
    "medium": dict(preset="medium", **_RATES),
}
BUDGET = BUDGETS["small"]
SEEDS = (1, 2)  # of the untuned zoo
#: ``zoo --budget medium``'s default: the schemes with a recurrent dropout rate, at the small zoo's tuned rate.
MEDIUM = dict(schemes=("variational", "everywhere", "weight_drop", "memory"), rates=(0.1,), seeds=(1,))
#: The Config field that holds each scheme's recurrent rate (zoneout's h rate is never tuned).
RATE_OPTION = dict.fromkeys(("everywhere", "memory", "variational", "weight_drop"), "recurrent_dropout")
RATE_OPTION["zoneout"] = "zoneout_c"
RECURRENT_SCHEMES = tuple(s for s in SCHEMES if s in RATE_OPTION)


def rate_option(scheme: str) -> str | None:
    return RATE_OPTION.get(scheme)  # None: the scheme has no recurrent site


def tuned_rate(scheme: str, rate: float | None, budget: str = "small") -> float | None:
    """``rate`` if it differs from the untuned one for a scheme with a recurrent site, else None (untuned)."""
    untuned = rate is None or rate_option(scheme) is None or math.isclose(rate, BUDGETS[budget]["recurrent_rate"])
    return None if untuned else float(rate)


def run_overrides(scheme: str, seed=1, rate=None, budget="small") -> dict:
    """The Config overrides of one zoo run (those the preset does not hold), in its command's order."""
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


def _run(scheme: str, seed=1, rate=None, root=None, budget="small", data: Sequence[str] = ()) -> Run:
    """One zoo run: its folder and ``python -m rnnreg train`` arguments (what its summary.json records)."""
    folder = run_folder(scheme, seed, rate, root, budget)
    return Run(
        folder, (*train_argv(BUDGETS[budget]["preset"], run_overrides(scheme, seed, rate, budget), folder), *data)
    )


def run_command(scheme: str, seed=1, rate=None, root=None, extra: Sequence[str] = (), budget="small") -> str:
    return _run(scheme, seed, rate, root, budget, extra).command


def plan(schemes=SCHEMES, seeds=SEEDS, rates=None, budget="small") -> list[tuple[str, int, float | None]]:
    """``(scheme, seed, rate)`` of every run asked for, without repeats; ``rate`` None = untuned (also the
    rate asked for a scheme without a recurrent site)."""
    runs = [(s, seed, tuned_rate(s, r, budget)) for seed in seeds for s in schemes for r in rates or [None]]
    return list(dict.fromkeys(runs))


def zoo_runs(schemes=SCHEMES, seeds=SEEDS, rates=None, root=None, budget="small", data=()) -> list[Run]:
    """The runs of :func:`plan` at ``budget``; ``data``: the corpus options each ``train`` command ends with."""
    runs = plan(schemes, seeds, rates, budget)
    for s, seed, r in runs:
        run_config(s, seed, r, budget)  # a wrong seed is said here, before any job starts
    return [_run(s, seed, r, root, budget, data) for s, seed, r in runs]


def zoo_command(schemes=None, seeds=SEEDS, rates=None) -> str:
    """The ``python -m rnnreg zoo`` command that records these runs (skipping finished ones)."""
    parts = ["python -m rnnreg zoo"]
    if schemes is not None:
        parts.append("--schemes " + " ".join(schemes))
    if rates:
        parts.append("--recurrent-dropout " + " ".join(f"{r:g}" for r in rates))
    return " ".join([*parts, "--seeds " + " ".join(map(str, seeds))])
