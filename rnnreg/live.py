"""The live demos' quick runs, without a user interface: their defaults, configs and seed sweeps.

The chapters' training panels (``rnnreg.views.panels.TrainingPanel``) train what :func:`quick_config`
builds; :func:`seed_sweep` trains the same configurations over several seeds, so a chapter can
say whether its live demo's point holds beyond the one seed it shows (``python -m rnnreg live``
records one under ``results/live/``). Imports torch and the core only: it runs without Jupyter.

A demo's runs are independent, so :func:`train_side_by_side` trains them in parallel processes,
one per core, each on one thread: on a reader's two cores the two runs of chapter 01 take the time
of one. Each process seeds itself exactly as :func:`rnnreg.train.train` does one after the other,
so the numbers are the ones a sequential run gives (one thread: no reduction order to change).
"""

from __future__ import annotations

import io
import multiprocessing
import os
import queue
import statistics
import time
from collections.abc import Callable, Mapping, Sequence

import torch

from .config import Config, build_model
from .data import Corpus
from .train import RunResult, curve_findings, num_threads, sgd, train, train_step

#: Defaults of the quick live runs: a PTB slice, the small model's shape at 150 units, lr held at 1
#: (no decay within a few epochs). Chosen so that chapter 01's two runs, side by side on two cores,
#: take about a minute and the undropped one turns up in every seed tried (2 × 200 on 20,000
#: tokens shows it as well at twice the cost; 2 × 100 or 2 × 128 on 10-12,000 tokens, not clearly).
#: Chapter 01's panel uses them as they are; results/live/01_defaults.json records them over three seeds.
QUICK = dict(
    hidden_size=150, train_tokens=15_000, valid_tokens=5_000, epochs=8, batch_size=10, steps=20, dropout=0.5, seed=1
)

#: The chapters' live demos by name: what their panel trains (keyword arguments of
#: ``TrainingPanel`` and of :func:`seed_sweep`, over :data:`QUICK`). ``python -m rnnreg live --demo
#: NAME`` records one over seeds as ``results/live/NAME.json``.
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
    return Config.from_preset(
        "small",
        scheme=scheme,
        dropout=0.0 if scheme == "none" else dropout,
        hidden_size=hidden_size,
        max_train_tokens=train_tokens,
        epochs=epochs,
        batch_size=batch_size,
        steps=steps,
        seed=seed,
        decay_after=epochs,
        device="cpu",
        **overrides,
    )


def run_label(scheme: str, dropout: float, recurrent: float | None = None) -> str:
    """``none``, ``zaremba p=0.5``, or with a recurrent rate of its own ``everywhere p=0.5 r=0.25``."""
    if scheme == "none":
        return scheme
    return f"{scheme} p={dropout:g}" + ("" if recurrent is None else f" r={recurrent:g}")


_WINDOW_SECONDS: dict[tuple, float] = {}


def window_seconds(config: Config, vocab_size: int, repeats: int = 5) -> float:
    """Seconds one truncated-BPTT update of ``config``'s model takes here (one thread, the median of
    ``repeats`` after a warm-up, on random tokens: the cost does not depend on the words; on a
    shared machine the fastest update underestimates an epoch by a third). Cached per shape, so
    moving a slider stays quick."""
    key = (config.scheme, config.hidden_size, config.num_layers, config.batch_size, config.steps, vocab_size)
    if key not in _WINDOW_SECONDS:
        with num_threads(1):
            torch.manual_seed(0)
            model = build_model(config, vocab_size)
            model.train()
            optimizer = sgd(model, config.lr)
            x = torch.randint(vocab_size, (config.steps, config.batch_size))  # time first, as the model reads
            state = model.init_state(config.batch_size)
            times = []
            for _ in range(repeats + 1):  # the first update warms caches up and is not counted
                start = time.perf_counter()
                _, state = train_step(model, optimizer, x, x, state, config.clip, torch.device("cpu"))
                times.append(time.perf_counter() - start)
        _WINDOW_SECONDS[key] = statistics.median(times[1:])
    return _WINDOW_SECONDS[key]


def cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS says, else the CPU count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def worker_count(runs: int, workers: int | None = None) -> int:
    """How many processes train ``runs`` runs side by side: ``workers`` (default one per core), at
    least one and at most one per run."""
    return max(1, min(workers or cores(), runs))


def estimate_seconds(
    configs: Sequence[Config], vocab_size: int, valid_tokens: int, workers: int | None = None
) -> float:
    """How long training ``configs`` will take here, before pressing Train (the order of magnitude).

    Each run: :func:`window_seconds` times its windows, plus a validation pass per epoch at a third of
    an update per window; each run goes to the least loaded of ``workers`` processes (as
    :func:`train_side_by_side`), and the busiest one's total is the estimate.
    """
    loads = [0.0] * worker_count(len(configs), workers)
    for config in configs:
        windows = (config.max_train_tokens or 0) // (config.batch_size * config.steps)
        valid_windows = valid_tokens // (config.batch_size * config.steps)
        seconds = config.epochs * (windows + valid_windows / 3) * window_seconds(config, vocab_size)
        loads[loads.index(min(loads))] += seconds
    return max(loads)


def _train_quick(config: Config, data: Corpus, log_every: int, callbacks=()) -> RunResult:
    """One live run as every demo trains it: one thread, no progress bar, no test pass."""
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
    """Train quick runs in parallel processes, one thread each; returns ``{label: RunResult}`` in
    the order of ``configs`` (the trained model included; no test pass).

    ``workers``: processes at once (default one per core, at most one per run); with 1 the runs
    train here, one after the other. ``on_event(label, event)`` receives the events of
    :func:`rnnreg.train.train` in this process as they arrive, so a panel can draw while its runs
    train. A run that fails raises a ``RuntimeError`` naming it (the others are stopped).
    """
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
    """Train each scheme (or, with ``recurrent_rates``, the one scheme at each recurrent rate) with
    each seed on the slice a panel with ``settings`` (over :data:`QUICK`, except ``seed``) would use.

    One seed's runs train side by side (:func:`train_side_by_side`), as a panel trains them, and
    ``seconds`` records how long that took. Returns ``{"settings", "unigram_valid", "seconds": {seed: s},
    "workers", "runs": [{"seed", "scheme", "recurrent_rate", "label", "valid", "train"} ...]}`` with
    per-epoch perplexities.
    """
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
        runs += [
            {
                "seed": seed,
                "scheme": scheme,
                "recurrent_rate": rate,
                "label": label,
                "valid": [e["valid_ppl"] for e in r.log],
                "train": [e["train_ppl"] for e in r.log],
            }
            for (label, r), (scheme, rate) in zip(results.items(), plan)
        ]
    return {
        "settings": {k: v for k, v in s.items() if k != "seed"},
        "schemes": list(schemes),
        "seeds": list(seeds),
        "recurrent_rates": None if recurrent_rates is None else list(recurrent_rates),
        "unigram_valid": unigram,
        "workers": workers,
        "seconds": seconds,
        "runs": runs,
    }


def sweep_findings(sweep: dict) -> dict:
    """Per seed: each label's :func:`rnnreg.train.curve_findings`; and what holds over seeds.

    Returns ``{"per_seed": {seed: {label: {...}}}, "order": {seed: [labels, best last valid
    first]}, "best": {seed: label}, "last_valid": {label: [per seed]}, "span": {label: (min, max)
    over seeds}, "rate": {label: recurrent rate}, "seconds": (min, max) per seed, "rise_none": [..],
    "turn_none": [..], "dropout_below_none": [..]}`` where ``rise_none`` is the undropped run's last
    valid over its best, minus 1, ``turn_none`` its best epoch (after which it turns up), and
    ``dropout_below_none`` is 1 - (dropout run's last valid / undropped run's last valid), one
    entry per seed (empty lists when the sweep lacks ``none`` or a dropout run).
    """
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
    return {
        "per_seed": per_seed,
        "order": order,
        "best": {seed: labels[0] for seed, labels in order.items()},
        "last_valid": last_valid,
        "span": {k: (min(v), max(v)) for k, v in last_valid.items()},
        "rate": {r["label"]: r["recurrent_rate"] for r in sweep["runs"] if "recurrent_rate" in r},
        "seconds": (min(seconds), max(seconds)) if seconds else None,
        "rise_none": rise,
        "turn_none": turn,
        "dropout_below_none": below,
    }
