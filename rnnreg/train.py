r"""The paper's training recipe: the loss, the loop, evaluation.

Loss (the paper's code, and TensorFlow's tutorial): for a window of T steps and B streams, the
per-step negative log-likelihood averaged over the batch and **summed over the steps**,

    loss = (1/B) * sum_{t=1..T} sum_{b=1..B} -log p(w_{t+1,b} | w_{<=t,b}),

its gradient clipped to norm ``clip``, then plain SGD at ``lr`` (:meth:`rnnreg.config.Config.lr_at`).
(A token-mean loss, PyTorch's default, makes every gradient T times smaller: lr 1 and clip 5 would
have to become lr T and clip 5/T.) Perplexity is ``exp(total NLL / number of predicted tokens)``.

With a run folder (:mod:`rnnreg.runfolder`) each epoch ends in ``checkpoint.pt`` and a line of ``log.jsonl``;
the same command resumes, bit for bit, on the same corpus only. Options and splits are checked before the
folder is claimed; a loss not finite, or above :data:`DIVERGENCE_FACTOR` ``* log V``, stops the run.
"""

from __future__ import annotations

import contextlib
import functools
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from . import runfolder
from .config import Config, build_model
from .data import Corpus, DataError, batchify, load_corpus, num_windows, windows
from .model import LSTMLM

#: A running loss per token above ``DIVERGENCE_FACTOR * log V`` (a uniform guess scores log V;
#: here perplexity V**3, 1e12 on PTB) is divergence, not training: the run stops.
DIVERGENCE_FACTOR = 3.0


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


class DivergedError(NonFiniteLossError):
    """The loss stayed finite but grew far beyond a uniform guess's; the last good checkpoint is kept."""


def resolve_device(name: str) -> torch.device:
    """``auto`` (CUDA if there is one, else CPU), or the device named, checked to exist here (ValueError)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(f"unknown device {name!r}; use auto, cpu, cuda, cuda:1, mps ...") from None
    try:  # a tensor there and back: no CUDA, no such GPU, mps missing, meta (it holds no data) all fail here
        torch.empty(1, device=device).cpu()
    except Exception as exc:  # noqa: BLE001 - any failure means the device is unusable
        why = str(exc).strip().split("\n")[0].split(". ")[0] or type(exc).__name__  # its first sentence
        raise ValueError(f"device {name!r} is not available here ({why}); use --device cpu (or auto)") from None
    return device


def bf16_supported(device: torch.device) -> bool:
    """bf16 autocast is fast on CUDA with bf16 and on CPUs with AVX512-BF16 or AMX."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


@contextlib.contextmanager
def num_threads(n: int = 1):
    """Run the enclosed torch work on ``n`` intra-op threads (the live demos use one: a parallel reduction
    sums in another order, and a few epochs grow last-bit differences to ~0.5 % in perplexity)."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def perplexity(nll_sum: float, tokens: int) -> float:
    """exp(mean negative log-likelihood per predicted token); ``inf`` where that overflows."""
    if tokens <= 0:
        raise ValueError(f"perplexity needs at least one predicted token, got {tokens}")
    try:
        return math.exp(nll_sum / tokens)
    except OverflowError:
        return math.inf


def curve_findings(log: Sequence[dict]) -> dict:
    """Where a run's validation perplexity bottomed out (the one definition chapters, panels and sweeps
    share): the first lowest valid perplexity; ``rise``: last valid over best, minus 1; ``train_falling``:
    train perplexity fell after the best epoch (None when the best is the last)."""
    if not log:
        raise ValueError("curve_findings needs at least one logged epoch")
    valid, train_ppl = [float(r["valid_ppl"]) for r in log], [float(r["train_ppl"]) for r in log]
    best = valid.index(min(valid))
    found = {"epochs": int(log[-1]["epoch"]), "best_epoch": int(log[best]["epoch"]), "best_valid": valid[best]}
    found |= {"last_valid": valid[-1], "last_train": train_ppl[-1], "rise": valid[-1] / valid[best] - 1}
    return found | {"train_falling": train_ppl[-1] < train_ppl[best] if best < len(log) - 1 else None}


def require_tokens(corpus: Corpus, split: str, batch_size: int, purpose: str, steps: int = 1, limit=None) -> None:
    """``purpose`` on ``split`` in ``batch_size`` streams needs ``steps + 1`` tokens a stream (of its
    first ``limit``): a DataError naming the split's file otherwise."""
    have = len(getattr(corpus, split))
    used, need = have if limit is None else min(have, limit), batch_size * (steps + 1)
    if used < need:
        files = runfolder.corpus_files(corpus)
        where = files[split] if files else f"{corpus.source or 'a corpus'}, in memory"
        cut = f" ({used} used: max_train_tokens)" if used < have else ""
        raise DataError(
            f"the {split} split ({where}) has {have} tokens{cut}; {purpose} in {batch_size} "
            f"stream{'s' if batch_size > 1 else ''} needs at least {need}"
        )


def window_nll(model: LSTMLM, x, y, state, device, precision):
    """Summed NLL of a window (the paper's loss times B) and the new state."""
    with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
        logits, state = model(x, state)
    nll = F.cross_entropy(logits.float().view(-1, logits.size(-1)), y.reshape(-1), reduction="sum")
    return nll, state


class WindowLoss:
    """``(x, y, state) -> (summed NLL, new state)`` of one model, through ``torch.compile`` when asked
    (``Config.compile``: it fuses the softmax layer's pointwise work, at tens of seconds on first use)."""

    def __init__(self, model: LSTMLM, device: torch.device, precision: str = "fp32", compile: bool = False):
        self.compiled = compile
        eager = functools.partial(window_nll, model, device=device, precision=precision)
        self.fn = torch.compile(eager, dynamic=False) if compile else eager

    def __call__(self, x, y, state):
        return self.fn(x, y, state)


def sgd(model: LSTMLM, lr: float) -> torch.optim.SGD:
    """The paper's optimizer: plain SGD, p <- p - lr * grad (no momentum, no weight decay)."""
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.0, weight_decay=0.0)


def train_step(model: LSTMLM, optimizer, x, y, state, clip: float, device, precision="fp32", loss_fn=None):
    """One truncated-BPTT update (forward, the paper's loss, backward, clip, :func:`sgd` step):
    (summed NLL, state). ``loss_fn``: a :class:`WindowLoss` of ``model`` (e.g. compiled) to use."""
    state = model.detach_state(state)
    nll, state = (loss_fn or WindowLoss(model, device, precision))(x, y, state)
    loss = nll / x.size(1)  # summed over the steps, averaged over the batch
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    return nll.detach(), state


@torch.no_grad()
def evaluate(model: LSTMLM, ids: torch.Tensor, batch_size: int, steps: int, device="cpu", precision="fp32") -> float:
    """Perplexity of ``ids`` in evaluation mode (dropout off), state carried across windows.
    ``batch_size=1`` is the paper's test protocol (one sequential stream)."""
    device = torch.device(device)
    was_training = model.training
    model.eval()
    streams = batchify(ids, batch_size).to(device)
    state = model.init_state(batch_size)
    total, count = torch.zeros((), dtype=torch.float64, device=device), 0
    for x, y in windows(streams, steps, drop_last=False):
        nll, state = window_nll(model, x, y, state, device, precision)
        total += nll.double()
        count += y.numel()
    model.train(was_training)
    return perplexity(total.item(), count)


@dataclass
class RunResult:
    config: Config
    log: list[dict]
    model: LSTMLM
    summary: dict = field(default_factory=dict)


def train(
    config: Config, corpus=None, run_dir=None, callbacks=(), progress=True, log_every=100, command=None, test=True
) -> RunResult:
    """Train (or resume) a model with the paper's recipe on ``corpus`` (default: :func:`load_corpus`).

    ``run_dir``: where config, log, checkpoint and summary go; a checkpoint there is resumed (None: in
    memory). ``callbacks`` receive ``{"event": "step" | "epoch" | "end", ...}`` dicts (every ``log_every``
    steps, the epoch's log record, the summary). ``test``: evaluate the test split at the end (batch 1).
    """
    config.validate()
    device = resolve_device(config.device)
    precision = config.precision
    if precision == "bf16" and not bf16_supported(device):
        print(f"rnnreg: bf16 is not supported on {device}; training in fp32", file=sys.stderr)
        precision = "fp32"
    corpus = corpus if corpus is not None else load_corpus()
    config.validate(len(corpus.vocab))  # the parameters' memory, now that the vocabulary is known
    window = f"one training window of {config.steps} steps"
    require_tokens(corpus, "train", config.batch_size, window, config.steps, config.max_train_tokens)
    require_tokens(corpus, "valid", config.batch_size, "validation after every epoch")
    if test:
        require_tokens(corpus, "test", 1, "the test evaluation (the paper's protocol)")
    run = Path(run_dir) if run_dir is not None else None
    claimed = runfolder.claim_run_dir(run) if run is not None else None
    if claimed is False:
        raise runfolder.RunFolderBusyError(
            f"{runfolder.run_dir_holder(run)} is training into {run}; wait for it, or train into another run folder"
        )
    try:
        loop = _Loop(config, corpus, run, device, precision, list(callbacks), progress, log_every, command, test)
        return loop.run()
    finally:
        if claimed:
            runfolder.release_run_dir(run)  # never raises, so it cannot hide the error that ended the run


@dataclass
class _Loop:
    """The body of :func:`train`, once the run folder (None: in memory) is this process's."""

    config: Config
    corpus: Corpus
    folder: Path | None
    device: torch.device
    precision: str
    callbacks: list
    progress: bool
    log_every: int
    command: str | None
    test: bool
    saved: int = 0  # the epoch checkpoint.pt holds

    def emit(self, event: dict) -> None:
        for callback in self.callbacks:
            callback(event)

    def run(self) -> RunResult:
        config, folder = self.config, self.folder
        runfolder.git_commit()  # read once, now: the provenance names the code this process loaded
        self.fingerprint = runfolder.corpus_fingerprint(self.corpus)
        ckpt = self.resume_point() if folder is not None else None
        torch.manual_seed(config.seed)
        model = self.model = build_model(config, len(self.corpus.vocab)).to(self.device)
        log, wall_before = [], 0.0
        if ckpt is not None:
            model.load_state_dict(ckpt["model"])
            if ckpt["epoch"] >= config.epochs and (folder / "summary.json").exists():  # already complete
                return RunResult(config, ckpt["log"], model, runfolder.read_json(folder / "summary.json"))
            log, wall_before = self.restore(ckpt)
        if folder is not None:
            runfolder.write_json(folder / "config.json", config.to_dict())
            runfolder.write_text(folder / "log.jsonl", runfolder.log_text(log))
            self.saved = len(log)
        train_ids = self.corpus.train[: config.max_train_tokens]  # [:None]: all of it
        streams = batchify(train_ids, config.batch_size).to(self.device)
        optimizer, loss_fn = sgd(model, config.lr), WindowLoss(model, self.device, self.precision, config.compile)
        where, began, summary = f"in epoch {len(log) + 1} of {config.epochs}", time.perf_counter(), {}
        try:
            for epoch in range(len(log) + 1, config.epochs + 1):
                where = f"in epoch {epoch} of {config.epochs}"
                record = self.epoch(epoch, optimizer, loss_fn, streams)
                record["wall_s"] = wall_before + time.perf_counter() - began
                log.append(record)
                if folder is not None:  # checkpoint first: a log line never names an epoch without its checkpoint
                    provenance = runfolder.provenance(self.command, self.device)
                    path = folder / runfolder.CHECKPOINT
                    runfolder.save_checkpoint(
                        path, config, model, epoch, log, record["wall_s"], self.fingerprint, provenance
                    )
                    self.saved = epoch
                    runfolder.write_text(folder / "log.jsonl", runfolder.log_text(log))
                self.emit({"event": "epoch", **record})
            where = "after the last epoch, in the test evaluation"
            if log:
                summary = {**self.summary(log), "wall_s": wall_before + time.perf_counter() - began}
                if folder is not None:
                    runfolder.write_json(folder / "summary.json", summary)
                self.emit({"event": "end", **summary})
        except runfolder.Interrupted:
            raise
        except KeyboardInterrupt:
            raise self.interrupted(where) from None
        return RunResult(config, log, model, summary)

    def resume_point(self) -> dict | None:
        """The folder's checkpoint, checked against the config and corpus; None for a new run. A folder
        that records a run (a summary, or a log with epochs) but has no checkpoint is refused: starting
        over there would mix two runs' records."""
        path = self.folder / runfolder.CHECKPOINT
        if path.exists():
            ckpt = runfolder.load_checkpoint(path, self.config)
            runfolder.check_corpus(ckpt, path, self.corpus, resume=True)
            return ckpt
        paths = (self.folder / "summary.json", self.folder / "log.jsonl")
        records = [p.name for p in paths if p.is_file() and p.stat().st_size > 0]
        if records:
            raise runfolder.RunFolderError(
                f"{self.folder} has {' and '.join(records)} but no {runfolder.CHECKPOINT}: it records a run that "
                "cannot go on; train into another run folder, or delete those files to start over there"
            )
        return None

    def restore(self, ckpt: dict) -> tuple[list[dict], float]:
        """Go on from a checkpoint: its RNG states, its log and wall time. A summary of an earlier end of
        the run (trained on now) moves aside: it describes the model of that epoch."""
        summary_path = self.folder / "summary.json"
        if summary_path.exists():
            summary_path.replace(self.folder / f"summary-epoch{ckpt['epoch']}.json")
        torch.set_rng_state(ckpt["rng_cpu"])
        if self.device.type == "cuda" and ckpt.get("rng_cuda"):
            torch.cuda.set_rng_state_all(ckpt["rng_cuda"])
        return list(ckpt["log"]), ckpt["wall_s"]

    def epoch(self, epoch: int, optimizer, loss_fn: WindowLoss, streams: torch.Tensor) -> dict:
        """Train one epoch from a zero state (as the paper's code), then validate: the epoch's log record."""
        config, model, device = self.config, self.model, self.device
        lr = config.lr_at(epoch)
        for group in optimizer.param_groups:
            group["lr"] = lr
        model.train()
        state = model.init_state(config.batch_size)
        total, count = torch.zeros((), dtype=torch.float64, device=device), 0
        steps_per_epoch, t0 = num_windows(streams, config.steps), time.perf_counter()
        # mininterval 1 s: in a notebook each redraw is a kernel message, and thousands overflow the client's queue
        desc, quiet = f"epoch {epoch}/{config.epochs}", not self.progress
        with tqdm(total=steps_per_epoch, desc=desc, leave=False, mininterval=1.0, disable=quiet) as bar:
            for step, (x, y) in enumerate(windows(streams, config.steps), 1):
                nll, state = train_step(model, optimizer, x, y, state, config.clip, device, self.precision, loss_fn)
                total += nll.double()
                count += y.numel()
                if step % self.log_every == 0 or step == steps_per_epoch:
                    nll_sum = total.item()  # one host sync per log_every steps
                    self.check_loss(nll_sum / count, f"step {step}", epoch)
                    ppl = perplexity(nll_sum, count)
                    bar.set_postfix(ppl=f"{ppl:.1f}")
                    self.emit(
                        dict(event="step", epoch=epoch, step=step, steps_per_epoch=steps_per_epoch, train_ppl=ppl)
                    )
                bar.update(1)
        train_s = time.perf_counter() - t0
        valid_ppl = evaluate(model, self.corpus.valid, config.batch_size, config.steps, device, self.precision)
        self.check_loss(math.log(valid_ppl) if valid_ppl > 0 else math.nan, "on the valid split", epoch)
        record = dict(epoch=epoch, lr=lr, train_ppl=perplexity(total.item(), count), valid_ppl=valid_ppl)
        return record | dict(tokens_per_s=count / train_s, epoch_s=time.perf_counter() - t0)

    def summary(self, log: list[dict]) -> dict:
        """A complete run's record: its numbers, the test perplexity (the paper's protocol), its provenance."""
        config, corpus, device = self.config, self.corpus, self.device
        test_ppl = evaluate(self.model, corpus.test, 1, config.steps, device, self.precision) if self.test else None
        summary = {k: log[-1][k] for k in ("train_ppl", "valid_ppl")}
        summary |= {"best_valid_ppl": min(r["valid_ppl"] for r in log), "epochs": len(log), "test_ppl": test_ppl}
        summary["test_protocol"] = "batch 1, one sequential stream (the paper's code)"
        summary |= dict(decay_start=config.decay_start, precision=self.precision, compiled=config.compile)
        summary |= {"parameters": self.model.num_parameters(), **runfolder.provenance(self.command, device)}
        return summary | dict(corpus=corpus.source, corpus_sizes=corpus.sizes(), corpus_fingerprint=self.fingerprint)

    def check_loss(self, value: float, where: str, epoch: int) -> None:
        """Stop a diverged run: a loss per token that is NaN, inf, or beyond ``DIVERGENCE_FACTOR * log V``."""
        vocab_size, lr = len(self.corpus.vocab), self.config.lr_at(epoch)
        limit = DIVERGENCE_FACTOR * math.log(max(vocab_size, 10))
        if value <= limit:
            return
        advice = "Try a smaller lr, a tighter clip or a smaller init_scale."
        if self.saved >= 1:  # only a run folder holds one
            path = self.folder / runfolder.CHECKPOINT
            advice = f"The last good checkpoint ({path}, epoch {self.saved}) is kept. {advice}"
        if math.isfinite(value):
            raise DivergedError(
                f"loss became {value:.4g} per token in epoch {epoch} ({where}, lr {lr}): the training diverged "
                f"(a uniform guess scores {math.log(vocab_size):.3g}; the limit is {limit:.3g}). {advice}"
            )
        raise NonFiniteLossError(f"loss became {value} in epoch {epoch} ({where}, lr {lr}). {advice}")

    def interrupted(self, where: str) -> runfolder.Interrupted:
        folder, saved, said = self.folder, self.saved, f"training interrupted {where}"
        if folder is None:
            return runfolder.Interrupted(f"{said}; nothing was saved (no run folder)")
        if saved < 1:
            return runfolder.Interrupted(f"{said}, before the first checkpoint; the same command starts {folder} over")
        then = f"resume from epoch {saved + 1}" if saved < self.config.epochs else "finish the run (test and summary)"
        path = folder / runfolder.CHECKPOINT
        return runfolder.Interrupted(f"{said}; {path} holds epoch {saved}. Run the same command again to {then}")
