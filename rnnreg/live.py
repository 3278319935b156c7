"""The live demos' quick runs, without a user interface: their defaults, configs and seed sweeps.

The chapters' training panels (``rnnreg.views.panels.TrainingPanel``) train what :func:`quick_config`
builds; :func:`seed_sweep` trains the same configurations over several seeds, so a chapter can
say whether its live demo's point holds beyond the one seed it shows (``python -m rnnreg live``
records one under ``results/live/``). Imports torch and the core only: it runs without Jupyter.
"""
from __future__ import annotations

import time
from typing import Sequence

import torch

from .data import Corpus
from .train import Config, build_model, num_threads, sgd, train, train_step

#: Defaults of the quick live runs: a PTB slice, the small model, lr held at 1 (no decay within a
#: few epochs). Chapter 01's panel uses them as they are; results/live/01_defaults.json records
#: them over three seeds.
QUICK = dict(hidden_size=200, train_tokens=20_000, valid_tokens=5_000, epochs=8, batch_size=10, steps=20,
             dropout=0.5, seed=1)


def quick_config(scheme: str, *, hidden_size: int, train_tokens: int, epochs: int, dropout: float,
                 batch_size: int = 10, steps: int = 20, seed: int = 1, **overrides) -> Config:
    """The small preset scaled down for a live demo (lr 1 throughout: ``decay_after=epochs``)."""
    return Config.preset("small", scheme=scheme, dropout=0.0 if scheme == "none" else dropout,
                         hidden_size=hidden_size, max_train_tokens=train_tokens, epochs=epochs,
                         batch_size=batch_size, steps=steps, seed=seed, decay_after=epochs,
                         device="cpu", **overrides)


def run_label(scheme: str, dropout: float, recurrent: float | None = None) -> str:
    """``none``, ``zaremba p=0.5``, or with a recurrent rate of its own ``everywhere p=0.5 r=0.25``."""
    if scheme == "none":
        return scheme
    return f"{scheme} p={dropout:g}" + ("" if recurrent is None else f" r={recurrent:g}")


_WINDOW_SECONDS: dict[tuple, float] = {}


def window_seconds(config: Config, vocab_size: int, repeats: int = 3) -> float:
    """Seconds one truncated-BPTT update of ``config``'s model takes here (one thread, fastest of
    ``repeats`` after a warm-up; random tokens). Cached per shape, so moving a slider stays quick."""
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
        _WINDOW_SECONDS[key] = min(times[1:])
    return _WINDOW_SECONDS[key]


def estimate_seconds(configs: Sequence[Config], vocab_size: int, valid_tokens: int) -> float:
    """How long training ``configs`` one after the other will take here, before pressing Train.

    :func:`window_seconds` scaled by the number of windows each run sees, plus one validation pass
    per epoch at a third of an update's cost per window. A guide to the order of magnitude (the
    machine's load changes it), not a promise.
    """
    total = 0.0
    for config in configs:
        windows = (config.max_train_tokens or 0) // (config.batch_size * config.steps)
        valid_windows = valid_tokens // (config.batch_size * config.steps)
        total += config.epochs * (windows + valid_windows / 3) * window_seconds(config, vocab_size)
    return total


def seed_sweep(corpus: Corpus, schemes: Sequence[str] = ("none", "zaremba"), seeds: Sequence[int] = (1, 2, 3),
               **settings) -> dict:
    """Train each scheme with each seed on the slice a panel with ``settings`` would use.

    ``settings`` override :data:`QUICK` (except ``seed``). Returns ``{"settings", "unigram_valid",
    "runs": [{"seed", "scheme", "label", "valid", "train"} ...]}`` with per-epoch perplexities.
    """
    s = {**QUICK, **settings}
    data = corpus.head(valid=s["valid_tokens"])
    unigram = corpus.head(train=s["train_tokens"], valid=s["valid_tokens"]).unigram_perplexity("valid")
    runs = []
    for seed in seeds:
        for scheme in schemes:
            config = quick_config(scheme, hidden_size=s["hidden_size"], train_tokens=s["train_tokens"],
                                  epochs=s["epochs"], dropout=s["dropout"], batch_size=s["batch_size"],
                                  steps=s["steps"], seed=seed)
            with num_threads(1):  # as the panels train (rnnreg.views.panels.TrainingPanel)
                result = train(config, data, progress=False, test=False)
            runs.append({"seed": seed, "scheme": scheme, "label": run_label(scheme, s["dropout"]),
                         "valid": [e["valid_ppl"] for e in result.log], "train": [e["train_ppl"] for e in result.log]})
    return {"settings": {k: v for k, v in s.items() if k != "seed"}, "schemes": list(schemes), "seeds": list(seeds),
            "unigram_valid": unigram, "runs": runs}


def sweep_findings(sweep: dict) -> dict:
    """Per seed: each label's best epoch, last and best valid; and the spread over seeds.

    Returns ``{"per_seed": {seed: {label: {...}}}, "rise_none": [..], "dropout_below_none": [..]}``
    where ``rise_none`` is the undropped run's last valid over its best, minus 1, and
    ``dropout_below_none`` is 1 - (dropout run's last valid / undropped run's last valid), one
    entry per seed (empty lists when the sweep lacks ``none`` or a dropout run).
    """
    per_seed: dict = {}
    for r in sweep["runs"]:
        best = min(range(len(r["valid"])), key=r["valid"].__getitem__)
        per_seed.setdefault(r["seed"], {})[r["label"]] = {
            "best_epoch": best + 1, "best_valid": r["valid"][best], "last_valid": r["valid"][-1],
            "last_train": r["train"][-1]}
    rise, below = [], []
    for runs in per_seed.values():
        if "none" in runs:
            rise.append(runs["none"]["last_valid"] / runs["none"]["best_valid"] - 1)
            others = [v for k, v in runs.items() if k != "none"]
            below += [1 - o["last_valid"] / runs["none"]["last_valid"] for o in others[:1]]
    return {"per_seed": per_seed, "rise_none": rise, "dropout_below_none": below}
