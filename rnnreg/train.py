r"""The paper's training recipe: presets, the loop, evaluation, checkpoints and run folders.

Loss scale (the paper's code, and TensorFlow's tutorial): for a window of T steps and a batch
of B streams the loss is the per-step negative log-likelihood averaged over the batch and
**summed over the steps**,

    loss = (1/B) * sum_{t=1..T} sum_{b=1..B} -log p(w_{t+1,b} | w_{<=t,b}),

the gradient of that loss is clipped to norm ``clip``, and plain SGD takes a step of size
``lr``. (A token-mean loss, PyTorch's default, makes every gradient T times smaller: lr 1 and
clip 5 would have to become lr T and clip 5/T.)

Perplexity is ``exp(total NLL / number of predicted tokens)``.

Learning rate: ``lr`` for the first epochs, then divided by ``lr_decay`` every epoch. Where
the decay starts is ambiguous by one epoch:

* ``decay_start="code"`` (default): the authors' Lua code, which produced Table 1, divides at
  the end of each epoch ``e > decay_after``; the first decayed epoch is ``decay_after + 2``
  (small preset: epochs 1-5 at lr 1, epoch 6 at 0.5);
* ``decay_start="text"``: the paper's text and TensorFlow's tutorial; the first decayed epoch
  is ``decay_after + 1``.

A run folder holds ``config.json``, ``log.jsonl`` (one line per epoch), ``checkpoint.pt``
(after every epoch; not for git) and, when the run is complete, ``summary.json`` with the
provenance: command, git commit, torch version, device, wall time.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import torch
import torch.nn.functional as F

from .data import Corpus, batchify, load_corpus, num_windows, windows
from .model import SCHEMES, LSTMLM, check_rate

DECAY_STARTS = ("code", "text")
PRECISIONS = ("fp32", "bf16")


@dataclass
class Config:
    """Every knob of a run. Build one from a preset: ``Config.preset("medium", epochs=2)``."""

    preset: str = "small"
    num_layers: int = 2
    hidden_size: int = 200
    steps: int = 20
    batch_size: int = 20
    init_scale: float = 0.1
    scheme: str = "none"
    dropout: float = 0.0
    recurrent_dropout: float | None = None
    zoneout_h: float = 0.05
    zoneout_c: float = 0.5
    tie_weights: bool = False
    lr: float = 1.0
    lr_decay: float = 2.0
    decay_after: int = 4
    decay_start: str = "code"
    epochs: int = 13
    clip: float = 5.0
    max_train_tokens: int | None = None
    seed: int = 1
    device: str = "auto"
    precision: str = "fp32"
    compile: bool = False  # torch.compile the training step's forward and loss (falls back to eager)

    @classmethod
    def preset(cls, name: str, **overrides) -> "Config":
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
        unknown = set(overrides) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown config field(s): {', '.join(sorted(unknown))}")
        return cls(**{**PRESETS[name], "preset": name, **overrides}).validate()

    def validate(self) -> "Config":
        for name in ("num_layers", "hidden_size", "steps", "batch_size", "epochs"):
            value = getattr(self, name)
            if not (isinstance(value, int) and value > 0):
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.scheme not in SCHEMES:
            raise ValueError(f"unknown scheme {self.scheme!r}; choose one of {', '.join(SCHEMES)}")
        check_rate("dropout", self.dropout)
        if self.recurrent_dropout is not None:
            check_rate("recurrent_dropout", self.recurrent_dropout)
        check_rate("zoneout_h", self.zoneout_h)
        check_rate("zoneout_c", self.zoneout_c)
        if self.scheme == "none" and (self.dropout > 0 or self.recurrent_dropout):
            raise ValueError("scheme 'none' takes no dropout; choose a scheme such as 'zaremba' to use dropout")
        for name in ("lr", "init_scale", "clip"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        if not self.lr_decay >= 1:
            raise ValueError(f"lr_decay is a divisor and must be >= 1, got {self.lr_decay!r}")
        if not (isinstance(self.decay_after, int) and self.decay_after >= 0):
            raise ValueError(f"decay_after must be a non-negative integer, got {self.decay_after!r}")
        if self.decay_start not in DECAY_STARTS:
            raise ValueError(f"decay_start must be one of {DECAY_STARTS}, got {self.decay_start!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.max_train_tokens is not None and self.max_train_tokens < self.batch_size * (self.steps + 1):
            raise ValueError(f"max_train_tokens={self.max_train_tokens} is too small for "
                             f"{self.batch_size} streams of {self.steps} steps")
        return self

    def lr_at(self, epoch: int) -> float:
        """Learning rate of epoch ``epoch`` (1-based)."""
        first_decayed = self.decay_after + (2 if self.decay_start == "code" else 1)
        return self.lr / self.lr_decay ** max(0, epoch - first_decayed + 1)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Config":
        return cls(**d).validate()


#: The paper's three configurations (section 4.1; the authors' main.lua). One source of truth.
PRESETS: dict[str, dict] = {
    "small": dict(num_layers=2, hidden_size=200, steps=20, init_scale=0.1, scheme="none", dropout=0.0,
                  lr=1.0, lr_decay=2.0, decay_after=4, epochs=13, clip=5.0),
    "medium": dict(num_layers=2, hidden_size=650, steps=35, init_scale=0.05, scheme="zaremba", dropout=0.5,
                   lr=1.0, lr_decay=1.2, decay_after=6, epochs=39, clip=5.0),
    "large": dict(num_layers=2, hidden_size=1500, steps=35, init_scale=0.04, scheme="zaremba", dropout=0.65,
                  lr=1.0, lr_decay=1.15, decay_after=14, epochs=55, clip=10.0),
}
#: Fields that may differ between a checkpoint and the run resuming it.
RESUMABLE_DIFFERENCES = ("device", "compile")


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


class CheckpointMismatchError(ValueError):
    """A checkpoint was made for another configuration."""


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def bf16_supported(device: torch.device) -> bool:
    """bf16 autocast is fast on CUDA with bf16 and on CPUs with AVX512-BF16 or AMX."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def autocast(device: torch.device, precision: str):
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


class num_threads:
    """Context manager: run the enclosed torch work on ``n`` intra-op threads.

    The book's live demos use one: their printed numbers then do not depend on the reader's core
    count (a parallel reduction sums in another order, and a few epochs of SGD grow last-bit
    differences to ~0.5 % in perplexity), and tiny models gain nothing from more threads.
    """

    def __init__(self, n: int = 1):
        self.n = n

    def __enter__(self):
        self.before = torch.get_num_threads()
        torch.set_num_threads(self.n)
        return self

    def __exit__(self, *exc):
        torch.set_num_threads(self.before)


def perplexity(nll_sum: float, tokens: int) -> float:
    """exp(mean negative log-likelihood per predicted token)."""
    return math.exp(nll_sum / tokens)


def window_nll(model: LSTMLM, x, y, state, device, precision):
    """Summed NLL of a window (the paper's loss times B) and the new state."""
    with autocast(device, precision):
        logits, state = model(x, state)
    nll = F.cross_entropy(logits.float().view(-1, logits.size(-1)), y.reshape(-1), reduction="sum")
    return nll, state


_COMPILE_WORKS: dict[str, bool] = {}


def compile_works(device: torch.device) -> bool:
    """Whether torch.compile can build a forward and a backward kernel on ``device`` (checked once).

    Catches the usual failure (no C++ compiler / Triton) before training starts: the backward
    graph is compiled at the first ``backward()``, outside :class:`WindowLoss`'s own fallback.
    """
    key = device.type
    if key not in _COMPILE_WORKS:
        try:
            a = torch.randn(8, device=device, requires_grad=True)
            torch.compile(lambda v: (v.sin() * v).sum(), dynamic=False)(a).backward()
            _COMPILE_WORKS[key] = a.grad is not None and bool(torch.isfinite(a.grad).all())
        except Exception as err:
            _say_compile_failed(err)
            _COMPILE_WORKS[key] = False
    return _COMPILE_WORKS[key]


def _say_compile_failed(err: Exception) -> None:
    print(f"rnnreg: torch.compile is unavailable here ({type(err).__name__}: {str(err)[:200]}); training eagerly",
          file=sys.stderr)


class WindowLoss:
    """``(x, y, state) -> (summed NLL, new state)`` of one model, through ``torch.compile`` if asked.

    Compilation fuses the softmax layer's pointwise work (the bf16 -> fp32 cast, log-softmax and
    NLL and their backward): within noise in fp32, a few percent in bf16 (``zaremba`` at the small
    shape: 1.34x -> 1.40x the reference; ``rnnreg bench --compile``). It costs tens of seconds on
    first use, so it is opt-in. Where it
    is unavailable (no C++ compiler, an unsupported op) the first call says so once and the
    loss runs eagerly; ``compiled`` tells which happened.
    """

    def __init__(self, model: LSTMLM, device: torch.device, precision: str = "fp32", compile: bool = False):
        self.model, self.device, self.precision = model, device, precision
        use = compile and compile_works(device)
        self._compiled_fn = torch.compile(self._eager, dynamic=False) if use else None

    @property
    def compiled(self) -> bool:
        return self._compiled_fn is not None

    def _eager(self, x, y, state):
        return window_nll(self.model, x, y, state, self.device, self.precision)

    def __call__(self, x, y, state):
        if self._compiled_fn is not None:
            try:
                return self._compiled_fn(x, y, state)
            except Exception as err:  # compilation failed: nothing was updated yet, run eagerly from now on
                _say_compile_failed(err)
                self._compiled_fn = None
        return self._eager(x, y, state)


@torch.no_grad()
def evaluate(model: LSTMLM, ids: torch.Tensor, batch_size: int, steps: int,
             device: torch.device | str = "cpu", precision: str = "fp32") -> float:
    """Perplexity of ``ids`` in evaluation mode (dropout off), state carried across windows.

    ``batch_size=1`` is the paper's test protocol (one sequential stream).
    """
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


def build_model(config: Config, vocab_size: int) -> LSTMLM:
    return LSTMLM(vocab_size, config.hidden_size, config.num_layers, config.scheme, config.dropout,
                  config.recurrent_dropout, config.zoneout_h, config.zoneout_c, config.init_scale,
                  config.tie_weights)


def git_commit(at_import: bool = True) -> str:
    """The commit of the code this process runs: the checkout as it was when ``rnnreg.train`` was
    imported (a long process, e.g. a grid runner, keeps running that code while the tree moves on);
    ``at_import=False`` asks git now."""
    if at_import and _COMMIT_AT_IMPORT is not None:
        return _COMMIT_AT_IMPORT
    root = Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


_COMMIT_AT_IMPORT: str | None = None
_COMMIT_AT_IMPORT = git_commit(at_import=False)


def machine_description(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda})"
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {torch.get_num_threads()} threads"


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def save_checkpoint(path: Path, config: Config, model: LSTMLM, epoch: int, log: list[dict], wall_s: float) -> None:
    payload = {
        "config": config.to_dict(), "epoch": epoch, "model": model.state_dict(), "log": log, "wall_s": wall_s,
        "rng_cpu": torch.get_rng_state(),
        "rng_cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }
    tmp = path.with_suffix(".pt.tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)  # a crash mid-write leaves the previous checkpoint intact


def load_checkpoint(path: Path, config: Config | None = None) -> dict:
    """Load a checkpoint safely (``weights_only``); refuse one made for another configuration."""
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    if config is not None:
        mine, theirs = config.to_dict(), ckpt["config"]
        diffs = [f"{k}: checkpoint has {theirs.get(k)!r}, this run has {mine[k]!r}"
                 for k in mine if k not in RESUMABLE_DIFFERENCES and theirs.get(k) != mine[k]]
        if diffs:
            raise CheckpointMismatchError(
                f"{path} was made for another configuration ({'; '.join(diffs)}). "
                f"Resume with the same options, or train into another run folder.")
    return ckpt


def load_run_model(run: str | os.PathLike, vocab_size: int | None = None):
    """The model of a run folder's checkpoint (evaluation mode), its Config and its epoch."""
    ckpt = load_checkpoint(Path(run) / "checkpoint.pt")
    config = Config.from_dict(ckpt["config"])
    model = build_model(config, vocab_size or ckpt["model"]["decoder.bias"].numel())
    model.load_state_dict(ckpt["model"])
    return model.eval(), config, ckpt["epoch"]


class RunFolderBusyError(RuntimeError):
    """Another live process is training into the same run folder."""


def claim_run_dir(run_dir: Path) -> bool | None:
    """Mark ``run_dir`` as being trained by this process (a ``.claim`` file holding the pid).

    True: claimed now (release it with :func:`release_run_dir`); None: this process already holds
    it; False: another live process does. A claim whose process is gone is stale and taken over.
    Two processes writing one folder would interleave their logs and checkpoints.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    claim = run_dir / ".claim"
    for _ in range(2):
        try:
            fd = os.open(claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                pid = int(claim.read_text() or 0)
                if pid == os.getpid():
                    return None
                os.kill(pid, 0)  # raises if that process is gone
                return False
            except (ValueError, ProcessLookupError, FileNotFoundError):
                claim.unlink(missing_ok=True)  # stale: its process died; take over (the run resumes)
                continue
            except PermissionError:
                return False
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        return True
    return False


def release_run_dir(run_dir: Path) -> None:
    (run_dir / ".claim").unlink(missing_ok=True)


@dataclass
class RunResult:
    config: Config
    log: list[dict]
    model: LSTMLM
    summary: dict = field(default_factory=dict)


def train(config: Config, corpus: Corpus | None = None, run_dir: str | os.PathLike | None = None,
          callbacks: Iterable[Callable[[dict], None]] = (), progress: bool = True, log_every: int = 100,
          command: str | None = None, test: bool = True) -> RunResult:
    """Train (or resume) a model with the paper's recipe.

    ``run_dir``: where config, log, checkpoint and summary go; a checkpoint there is resumed
    (and must match ``config``). ``None`` keeps everything in memory (notebook demos).
    ``callbacks`` receive event dicts: ``{"event": "step", ...}`` every ``log_every`` steps,
    ``{"event": "epoch", ...}`` with the epoch's log record, ``{"event": "end", ...}`` with the summary.
    """
    config.validate()
    device = resolve_device(config.device)
    precision = config.precision
    if precision == "bf16" and not bf16_supported(device):
        print(f"rnnreg: bf16 is not supported on {device}; training in fp32", file=sys.stderr)
        precision = "fp32"
    corpus = corpus if corpus is not None else load_corpus()
    run_path = Path(run_dir) if run_dir is not None else None
    claimed = None
    if run_path is not None:
        claimed = claim_run_dir(run_path)
        if claimed is False:
            raise RunFolderBusyError(
                f"another process (pid {(run_path / '.claim').read_text().strip()}) is training into {run_path}; "
                "wait for it, or train into another run folder")
    try:
        return _train(config, corpus, run_path, list(callbacks), progress, log_every, command, test, device,
                      precision)
    finally:
        if claimed:
            release_run_dir(run_path)


def _train(config: Config, corpus: Corpus, run_path: Path | None, callbacks: list, progress: bool,
           log_every: int, command: str | None, test: bool, device: torch.device, precision: str) -> RunResult:
    """The body of :func:`train`, once the run folder is this process's."""

    def emit(event: dict) -> None:
        for cb in callbacks:
            cb(event)

    commit = git_commit()  # the code this process loaded, not whatever is checked out later
    torch.manual_seed(config.seed)
    model = build_model(config, len(corpus.vocab)).to(device)
    log: list[dict] = []
    start_epoch, wall_before = 1, 0.0
    if run_path is not None:
        run_path.mkdir(parents=True, exist_ok=True)
        ckpt_path = run_path / "checkpoint.pt"
        if ckpt_path.exists():
            ckpt = load_checkpoint(ckpt_path, config)
            model.load_state_dict(ckpt["model"])
            if ckpt["epoch"] >= config.epochs and (run_path / "summary.json").exists():  # already complete
                summary = json.loads((run_path / "summary.json").read_text())
                return RunResult(config, ckpt["log"], model, summary)
            torch.set_rng_state(ckpt["rng_cpu"])
            if device.type == "cuda" and ckpt["rng_cuda"]:
                torch.cuda.set_rng_state_all(ckpt["rng_cuda"])
            log, start_epoch, wall_before = ckpt["log"], ckpt["epoch"] + 1, ckpt["wall_s"]
        _atomic_write_text(run_path / "config.json", json.dumps(config.to_dict(), indent=2) + "\n")
        _atomic_write_text(run_path / "log.jsonl", "".join(json.dumps(r) + "\n" for r in log))

    train_ids = corpus.train if config.max_train_tokens is None else corpus.train[: config.max_train_tokens]
    streams = batchify(train_ids, config.batch_size).to(device)
    steps_per_epoch = num_windows(streams, config.steps)
    params = [p for p in model.parameters()]
    loss_fn = WindowLoss(model, device, precision, config.compile)
    session_start = time.perf_counter()

    for epoch in range(start_epoch, config.epochs + 1):
        lr = config.lr_at(epoch)
        model.train()
        state = model.init_state(config.batch_size)  # zero state at each epoch start, as the paper's code
        total = torch.zeros((), dtype=torch.float64, device=device)
        count, since_check = 0, 0
        t0 = time.perf_counter()
        bar = _progress(steps_per_epoch, f"epoch {epoch}/{config.epochs}", progress)
        for step, (x, y) in enumerate(windows(streams, config.steps), 1):
            nll, state = train_step(model, params, x, y, state, lr, config.clip, device, precision, loss_fn)
            total += nll.double()
            count += y.numel()
            if step % log_every == 0 or step == steps_per_epoch:
                running = total.item() / count  # one host sync per log_every steps
                if not math.isfinite(running):
                    bar.close()
                    raise NonFiniteLossError(
                        f"loss became {running} in epoch {epoch} (step {step}, lr {lr}). "
                        + (f"The last good checkpoint ({run_path / 'checkpoint.pt'}, epoch {epoch - 1}) is kept. "
                           if run_path is not None and epoch > 1 else "")
                        + "Try a smaller lr, a tighter clip or a smaller init_scale.")
                bar.set_postfix(ppl=f"{math.exp(running):.1f}")
                emit({"event": "step", "epoch": epoch, "step": step, "steps_per_epoch": steps_per_epoch,
                      "train_ppl": math.exp(running)})
            bar.update(1)
        bar.close()
        train_s = time.perf_counter() - t0
        valid_ppl = evaluate(model, corpus.valid, config.batch_size, config.steps, device, precision)
        record = {"epoch": epoch, "lr": lr, "train_ppl": perplexity(total.item(), count), "valid_ppl": valid_ppl,
                  "tokens_per_s": count / train_s, "epoch_s": time.perf_counter() - t0,
                  "wall_s": wall_before + time.perf_counter() - session_start}
        log.append(record)
        if run_path is not None:
            with open(run_path / "log.jsonl", "a") as fh:
                fh.write(json.dumps(record) + "\n")
            save_checkpoint(run_path / "checkpoint.pt", config, model, epoch, log, record["wall_s"])
        emit({"event": "epoch", **record})

    summary = {}
    if log:
        summary = {
            "train_ppl": log[-1]["train_ppl"], "valid_ppl": log[-1]["valid_ppl"],
            "best_valid_ppl": min(r["valid_ppl"] for r in log), "epochs": len(log),
            "test_ppl": evaluate(model, corpus.test, 1, config.steps, device, precision) if test else None,
            "test_protocol": "batch 1, one sequential stream (the paper's code)",
            "decay_start": config.decay_start, "precision": precision, "compiled": loss_fn.compiled,
            "parameters": model.num_parameters(),
            "wall_s": wall_before + time.perf_counter() - session_start,
            "command": command or " ".join([Path(sys.executable).name, *sys.argv]),
            "git_commit": commit, "torch": torch.__version__, "python": platform.python_version(),
            "device": machine_description(device), "corpus": corpus.source, "corpus_sizes": corpus.sizes(),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        if run_path is not None:
            _atomic_write_text(run_path / "summary.json", json.dumps(summary, indent=2) + "\n")
        emit({"event": "end", **summary})
    return RunResult(config, log, model, summary)


def train_step(model: LSTMLM, params: list[torch.Tensor], x, y, state, lr: float, clip: float,
               device: torch.device, precision: str = "fp32", loss_fn: WindowLoss | None = None):
    """One truncated-BPTT update: forward, the paper's loss, backward, clip, SGD. Returns (summed NLL, state).

    ``loss_fn`` (a :class:`WindowLoss` of ``model``) replaces the eager forward, e.g. a compiled one.
    """
    state = model.detach_state(state)
    if loss_fn is None:
        nll, state = window_nll(model, x, y, state, device, precision)
    else:
        nll, state = loss_fn(x, y, state)
    loss = nll / x.size(1)  # summed over the steps, averaged over the batch
    for p in params:
        p.grad = None
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, clip)
    sgd_step(params, lr)
    return nll.detach(), state


@torch.no_grad()
def sgd_step(params: list[torch.Tensor], lr: float) -> None:
    """Plain SGD, p <- p - lr * grad (no momentum, no weight decay), as the paper."""
    grads = [p.grad for p in params if p.grad is not None]
    torch._foreach_add_([p for p in params if p.grad is not None], grads, alpha=-lr)


def _progress(total: int, desc: str, enabled: bool):
    if enabled:
        from tqdm.auto import tqdm  # a widget in Jupyter, text in a terminal

        return tqdm(total=total, desc=desc, leave=False)
    return _NoBar()


class _NoBar:
    def update(self, n: int = 1) -> None: ...
    def set_postfix(self, **kw) -> None: ...
    def close(self) -> None: ...
