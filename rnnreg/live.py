"""The live demos' quick runs without a user interface: defaults, configs, side-by-side training, seed
sweeps (``python -m rnnreg live`` records one under ``results/live/``)."""

from __future__ import annotations

import io
import multiprocessing
import os
import queue
import time
from collections.abc import Callable, Mapping, Sequence

import torch

from .config import Config, build_model
from .data import Corpus
from .train import RunResult, curve_findings, num_threads, train

#: Defaults of the quick live runs: a PTB slice, 2 × 150, lr held at 1. Chapter 01's two runs take about
#: a minute on two cores and the undropped one turns up in every seed tried (2 × 128 on 10,000 tokens: not clearly).
QUICK = dict(
    hidden_size=150, train_tokens=15_000, valid_tokens=5_000, epochs=8, batch_size=10, steps=20, dropout=0.5, seed=1
)

#: The chapters' live demos: keyword arguments of ``TrainingPanel`` and :func:`seed_sweep` over :data:`QUICK`.
DEMOS = {
    # chapter 01: the same model with and without dropout
    "01_defaults": dict(schemes=("none", "zaremba")),
    # chapter 02: one scheme, the non-recurrent rate fixed, only the rate on h(t-1) differs
    "02_rates": dict(
        schemes=("everywhere",), recurrent_rates=(0.0, 0.25, 0.5), hidden_size=128, train_tokens=10_000, epochs=6
    ),
}


def quick_config(
    scheme: str,
    *,
    hidden_size: int,
    train_tokens: int,
    epochs: int,
    dropout: float,
    batch_size: int = 10,
    steps: int = 20,
    seed: int = 1,
    **overrides,
) -> Config:
    """The small preset scaled down for a live demo (lr 1 throughout: ``decay_after=epochs``)."""
    shape = dict(hidden_size=hidden_size, max_train_tokens=train_tokens, batch_size=batch_size, steps=steps)
    run = dict(scheme=scheme, dropout=0.0 if scheme == "none" else dropout, epochs=epochs, decay_after=epochs)
    return Config.from_preset("small", **run, **shape, seed=seed, device="cpu", **overrides)


def run_label(scheme: str, dropout: float, recurrent: float | None = None) -> str:
    """``none``, ``zaremba p=0.5``, or with a recurrent rate of its own ``everywhere p=0.5 r=0.25``."""
    if scheme == "none":
        return scheme
    return f"{scheme} p={dropout:g}" + ("" if recurrent is None else f" r={recurrent:g}")


def cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS says, else the CPU count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def worker_count(runs: int, workers: int | None = None) -> int:
    """Processes for ``runs`` runs side by side: ``workers`` (default one per core), one to one per run."""
    return max(1, min(workers or cores(), runs))


def _train_quick(config: Config, data: Corpus, log_every: int, callbacks=()) -> RunResult:
    with num_threads(1):
        return train(config, data, progress=False, log_every=log_every, test=False, callbacks=callbacks)


def _train_worker(label: str, config: Config, data: Corpus, log_every: int, events) -> None:
    """One run in a child process: its events, then its log and weights (or its error), go to ``events``."""
    try:
        result = _train_quick(config, data, log_every, [lambda ev: events.put((label, ev))])
        weights = io.BytesIO()
        torch.save(result.model.state_dict(), weights)
        events.put((label, {"event": "done", "log": result.log, "weights": weights.getvalue()}))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
        events.put((label, {"event": "error", "error": f"{type(exc).__name__}: {exc}"}))


def train_side_by_side(
    configs: Mapping[str, Config],
    data: Corpus,
    *,
    workers: int | None = None,
    log_every: int = 10,
    on_event: Callable[[str, dict], None] | None = None,
    poll_s: float = 0.2,
) -> dict[str, RunResult]:
    """Train quick runs in parallel processes, one thread each, seeded as one after the other would be;
    ``{label: RunResult}`` in the order of ``configs``. ``on_event(label, event)`` receives
    :func:`rnnreg.train.train`'s events. A failing run raises a ``RuntimeError`` naming it."""
    labels = list(configs)
    workers = worker_count(len(labels), workers)
    if workers == 1:
        forward = lambda label: [] if on_event is None else [lambda ev: on_event(label, ev)]
        return {label: _train_quick(configs[label], data, log_every, forward(label)) for label in labels}
    ctx = multiprocessing.get_context()
    events = ctx.Queue()
    pending, running, out = list(labels), {}, {}
    try:
        while pending or running:
            while pending and len(running) < workers:
                label = pending.pop(0)
                args = (label, configs[label], data, log_every, events)
                proc = ctx.Process(target=_train_worker, args=args, daemon=True)
                proc.start()
                running[label] = proc
            try:
                label, ev = events.get(timeout=poll_s)
            except queue.Empty:
                dead = [k for k, proc in running.items() if not proc.is_alive()]
                if dead and events.empty():
                    raise RuntimeError(
                        f"the live run {dead[0]!r} stopped without a result (exit code {running[dead[0]].exitcode})"
                    ) from None
                continue
            if ev["event"] == "done":
                model = build_model(configs[label], len(data.vocab))
                model.load_state_dict(torch.load(io.BytesIO(ev["weights"]), weights_only=True))
                out[label] = RunResult(configs[label], ev["log"], model)
                running.pop(label).join()
            elif ev["event"] == "error":
                raise RuntimeError(f"the live run {label!r} failed: {ev['error']}")
            elif on_event is not None:
                on_event(label, ev)
    finally:
        for proc in running.values():
            proc.terminate()
            proc.join()
        events.close()
    return {label: out[label] for label in labels}


def seed_sweep(
    corpus: Corpus,
    schemes: Sequence[str] = ("none", "zaremba"),
    seeds: Sequence[int] = (1, 2, 3),
    recurrent_rates: Sequence[float] | None = None,
    workers: int | None = None,
    **settings,
) -> dict:
    """Each scheme (or the one scheme at each of ``recurrent_rates``) with each seed, as a panel with
    ``settings`` (over :data:`QUICK`) trains them; ``seconds`` per seed, per run its per-epoch ``valid``
    and ``train`` perplexities."""
    s = {**QUICK, **settings}
    data = corpus.head(valid=s["valid_tokens"])
    unigram = corpus.head(train=s["train_tokens"], valid=s["valid_tokens"]).unigram_perplexity("valid")
    if recurrent_rates is not None and len(schemes) != 1:
        raise ValueError(f"a recurrent-rate sweep takes one scheme, got {tuple(schemes)}")
    plan = [(schemes[0], r) for r in recurrent_rates] if recurrent_rates is not None else [(k, None) for k in schemes]
    shape = {k: s[k] for k in ("hidden_size", "train_tokens", "epochs", "dropout", "batch_size", "steps")}
    runs, seconds = [], {}
    workers = worker_count(len(plan), workers)
    for seed in seeds:
        configs = {
            run_label(scheme, s["dropout"], rate): quick_config(
                scheme, **shape, seed=seed, **({} if rate is None else {"recurrent_dropout": rate})
            )
            for scheme, rate in plan
        }
        start = time.perf_counter()
        results = train_side_by_side(configs, data, workers=workers)
        seconds[seed] = time.perf_counter() - start
        for (label, r), (scheme, rate) in zip(results.items(), plan):
            curves = {k: [e[f"{k}_ppl"] for e in r.log] for k in ("valid", "train")}
            runs.append(dict(seed=seed, scheme=scheme, recurrent_rate=rate, label=label, **curves))
    rates = None if recurrent_rates is None else list(recurrent_rates)
    settings = {k: v for k, v in s.items() if k != "seed"}
    return dict(settings=settings, schemes=list(schemes), seeds=list(seeds), recurrent_rates=rates) | dict(
        unigram_valid=unigram, workers=workers, seconds=seconds, runs=runs
    )


def sweep_findings(sweep: dict) -> dict:
    """``per_seed``: each label's :func:`rnnreg.train.curve_findings`; over seeds: ``order`` (best last valid
    first), ``best``, ``last_valid``, ``span``, ``rate``, ``seconds`` (min, max); per seed with ``none``:
    ``rise_none``, ``turn_none`` (its best epoch), ``dropout_below_none`` (1 − dropout's last valid / none's)."""
    per_seed: dict = {}
    for r in sweep["runs"]:
        log = [{"epoch": i + 1, "valid_ppl": v, "train_ppl": t} for i, (v, t) in enumerate(zip(r["valid"], r["train"]))]
        per_seed.setdefault(r["seed"], {})[r["label"]] = curve_findings(log)
    rise, turn, below, last_valid = [], [], [], {}
    for runs in per_seed.values():
        for label, f in runs.items():
            last_valid.setdefault(label, []).append(f["last_valid"])
        if "none" in runs:
            rise.append(runs["none"]["rise"])
            turn.append(runs["none"]["best_epoch"])
            others = [v for k, v in runs.items() if k != "none"]
            below += [1 - o["last_valid"] / runs["none"]["last_valid"] for o in others[:1]]
    order = {seed: sorted(runs, key=lambda k: runs[k]["last_valid"]) for seed, runs in per_seed.items()}
    seconds = list(sweep.get("seconds", {}).values())
    best = {seed: labels[0] for seed, labels in order.items()}
    rate = {r["label"]: r["recurrent_rate"] for r in sweep["runs"] if "recurrent_rate" in r}
    return dict(per_seed=per_seed, order=order, best=best, last_valid=last_valid, rate=rate) | dict(
        span={k: (min(v), max(v)) for k, v in last_valid.items()},
        seconds=(min(seconds), max(seconds)) if seconds else None,
        rise_none=rise,
        turn_none=turn,
        dropout_below_none=below,
    )
