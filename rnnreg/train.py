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
(after every epoch; not for git), ``checkpoint-mid-epoch.pt`` (during an epoch, every few minutes:
a run whose machine goes away mid-epoch resumes from there, bit for bit; deleted at the epoch's
end) and, when the run is complete, ``summary.json`` with the
provenance: command, git commit, torch version, device, wall time. Checkpoint and summary record
the corpus (:func:`rnnreg.runfolder.corpus_fingerprint`): a run is never resumed or evaluated on
other word ids. The same command resumes from the checkpoint; only ``--epochs`` may change (end
the run sooner or train it on; the summary's ``epochs_planned`` records each count), and a run
resumed across days or machines lists every training process in ``sessions`` (its epochs, commit,
machine and thread count). How the folder
is claimed and its files written: :mod:`rnnreg.runfolder`.

Guards (each ends in one sentence, never a traceback or a silent wrong number): every split is
checked against the batch and window sizes before the model is built (:func:`check_split_sizes`);
a loss that is not finite, or far above a uniform guess's ``log V`` (:data:`DIVERGENCE_FACTOR`),
stops the run as :class:`NonFiniteLossError` / :class:`DivergedError`, keeping the last good
checkpoint; Ctrl-C says which epoch the checkpoint holds (:class:`~rnnreg.runfolder.Interrupted`),
and so does ``kill`` of a ``train`` command running in the background.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import torch
import torch.nn.functional as F

from . import runfolder
from .data import Corpus, DataError, batchify, load_corpus, num_windows, windows
from .model import LSTMLM, SCHEMES, check_rate

# The run-folder format lives in runfolder; these names stay importable from here.
from .runfolder import (  # noqa: F401
    MID_EPOCH,
    CheckpointError,
    CorpusMismatchError,
    Interrupted,
    RunFolderBusyError,
    RunFolderError,
    check_corpus,
    claim_run_dir,
    corpus_files,
    corpus_fingerprint,
    git_commit,
    machine_description,
    provenance,
    read_json,
    release_run_dir,
    run_dir_holder,
    utc_now,
    write_json,
    write_text,
)

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
    def preset(cls, name: str, **overrides) -> "Config":  # noqa: F811 (the field holds the name; this builds one)
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
# ``epochs`` may change on resume too (end a run sooner, or train it on): ``lr_at`` does not depend on
# the epoch count, so the epochs already trained are those of a run planned with the new count. The
# summary records every count the run was planned with (``epochs_planned``).


#: A running loss per token above ``DIVERGENCE_FACTOR * log V`` (a uniform guess scores log V;
#: here perplexity V**3, 1e12 on PTB) is divergence, not training: the run stops.
DIVERGENCE_FACTOR = 3.0


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


class DivergedError(NonFiniteLossError):
    """The loss stayed finite but grew far beyond a uniform guess's; the last good checkpoint is kept."""


class CheckpointMismatchError(ValueError):
    """A checkpoint was made for another configuration."""


class DeviceError(ValueError):
    """The device asked for does not exist or is not usable here."""


def resolve_device(name: str) -> torch.device:
    """``auto`` (CUDA if there is one, else CPU), or the device named, checked to exist here."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError, ValueError):
        raise DeviceError(f"unknown device {name!r}; use auto, cpu, cuda, cuda:1, mps ...") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            why = (f"this PyTorch ({torch.__version__}) is built without CUDA" if torch.version.cuda is None
                   else "no CUDA GPU is visible to this process")
            raise DeviceError(f"device {name!r} is not available: {why}; use --device cpu (or auto)")
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise DeviceError(f"device {name!r} does not exist: {count} CUDA GPU(s) visible (cuda:0"
                              f"{f' to cuda:{count - 1}' if count > 1 else ''})")
    elif device.type == "mps":
        if not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
            raise DeviceError(f"device {name!r} is not available here (no Apple GPU); use --device cpu (or auto)")
    elif device.type != "cpu":
        try:
            torch.empty(1, device=device)
        except Exception as exc:  # noqa: BLE001 - any failure means the device is unusable
            raise DeviceError(f"device {name!r} is not usable here ({type(exc).__name__}); "
                              "use --device cpu (or auto)") from None
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
    """exp(mean negative log-likelihood per predicted token); ``inf`` where that overflows."""
    if tokens <= 0:
        raise ValueError(f"perplexity needs at least one predicted token, got {tokens}")
    return _exp(nll_sum / tokens)


def curve_findings(log: Sequence[dict]) -> dict:
    """Where a run's validation perplexity bottomed out, from its per-epoch log (rows with
    ``epoch``, ``valid_ppl`` and ``train_ppl``, as :func:`train` writes them).

    ``best_epoch``/``best_valid``: the lowest validation perplexity (the first such epoch);
    ``rise``: last valid over best valid, minus 1 (0 when the last epoch is the best);
    ``train_falling``: train perplexity fell after the best epoch (None when the best is the last).
    The one definition of "the curve turned up" that chapters, panels and sweeps share.
    """
    if not log:
        raise ValueError("curve_findings needs at least one logged epoch")
    best = min(range(len(log)), key=lambda i: float(log[i]["valid_ppl"]))
    last = log[-1]
    return {"epochs": int(last["epoch"]), "best_epoch": int(log[best]["epoch"]),
            "best_valid": float(log[best]["valid_ppl"]), "last_valid": float(last["valid_ppl"]),
            "last_train": float(last["train_ppl"]),
            "rise": float(last["valid_ppl"]) / float(log[best]["valid_ppl"]) - 1,
            "train_falling": float(last["train_ppl"]) < float(log[best]["train_ppl"]) if best < len(log) - 1 else None}


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def divergence_limit(vocab_size: int) -> float:
    """The largest mean loss per token a run may have before it counts as diverged."""
    return DIVERGENCE_FACTOR * math.log(max(vocab_size, 10))


def _split_file(corpus: Corpus, split: str) -> str:
    files = corpus_files(corpus)
    return str(files[split]) if files else f"{corpus.source or 'a corpus'}, in memory"


def require_tokens(corpus: Corpus, split: str, batch_size: int, purpose: str) -> None:
    """Evaluating ``split`` in ``batch_size`` streams needs two tokens a stream (one prediction)."""
    have, need = len(getattr(corpus, split)), 2 * batch_size
    if have < need:
        raise DataError(f"the {split} split ({_split_file(corpus, split)}) has {have} tokens; {purpose} "
                        f"in {batch_size} stream{'s' if batch_size > 1 else ''} needs at least {need} "
                        "(two a stream)")


def check_split_sizes(corpus: Corpus, config: Config, test: bool = True) -> None:
    """Every split against the batch and window sizes, before anything is built or trained."""
    have = len(corpus.train)
    used = have if config.max_train_tokens is None else min(have, config.max_train_tokens)
    need = config.batch_size * (config.steps + 1)
    if used < need:
        raise DataError(f"the train split ({_split_file(corpus, 'train')}) has {have} tokens"
                        f"{f' ({used} used: max_train_tokens)' if used < have else ''}; one training window of "
                        f"{config.steps} steps in {config.batch_size} streams needs at least {need} "
                        f"(batch_size x (steps + 1))")
    require_tokens(corpus, "valid", config.batch_size, "validation after every epoch")
    if test:
        require_tokens(corpus, "test", 1, "the test evaluation (the paper's protocol)")


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


def save_checkpoint(path: Path, config: Config, model: LSTMLM, epoch: int, log: list[dict], wall_s: float,
                    corpus: dict | None = None, epochs_planned: list[int] | None = None,
                    sessions: list[dict] | None = None, mid_epoch: dict | None = None) -> None:
    """Model, RNG states, log, the corpus fingerprint and the training sessions after ``epoch``, atomically.

    ``mid_epoch``: for :data:`MID_EPOCH`, where in epoch ``epoch + 1`` the model is (its step, the
    carried hidden state, the running loss sum and token count, the seconds trained so far).
    """
    payload = {
        "config": config.to_dict(), "epoch": epoch, "model": model.state_dict(), "log": log, "wall_s": wall_s,
        "epochs_planned": epochs_planned or [config.epochs], "sessions": sessions or [],
        "rng_cpu": torch.get_rng_state(),
        "rng_cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }
    if corpus is not None:
        payload["corpus"] = corpus
    if mid_epoch is not None:
        payload["mid_epoch"] = mid_epoch
    runfolder.save_checkpoint(path, payload)  # a crash mid-write leaves the previous checkpoint intact


def load_checkpoint(path: Path, config: Config | None = None) -> dict:
    """Load a checkpoint safely (``weights_only``); refuse one made for another configuration."""
    ckpt = runfolder.load_checkpoint(path)
    if config is not None:
        mine, theirs = config.to_dict(), ckpt["config"]
        diffs = [f"{k}: checkpoint has {theirs.get(k)!r}, this run has {mine[k]!r}"
                 for k in mine if k not in RESUMABLE_DIFFERENCES + ("epochs",) and theirs.get(k) != mine[k]]
        if config.epochs < ckpt["epoch"]:
            diffs.append(f"epochs: the checkpoint holds epoch {ckpt['epoch']}, this run ends after {config.epochs}")
        if diffs:
            raise CheckpointMismatchError(
                f"{path} was made for another configuration ({'; '.join(diffs)}). "
                f"Resume with the same options, or train into another run folder.")
    return ckpt


def _config_of(ckpt: dict, path: Path) -> Config:
    try:
        return Config.from_dict(ckpt["config"])
    except TypeError as exc:
        raise CheckpointError(f"{path} has a config this rnnreg does not know ({exc}); "
                              "it was written by another version or program") from None


def _warn_if_config_edited(run: Path, ckpt_config: dict) -> None:
    """``config.json`` is a record of the run; the checkpoint's own config is what the model is."""
    path = run / "config.json"
    try:
        on_disk = json.loads(path.read_text())
    except FileNotFoundError:
        return
    except (OSError, ValueError):
        print(f"rnnreg: warning: {path} is unreadable; the checkpoint's configuration is used", file=sys.stderr)
        return
    if not isinstance(on_disk, dict):
        on_disk = {}
    diffs = [f"{k}: config.json {on_disk.get(k)!r}, checkpoint {ckpt_config.get(k)!r}"
             for k in sorted(set(on_disk) | set(ckpt_config))
             if k not in RESUMABLE_DIFFERENCES and on_disk.get(k) != ckpt_config.get(k)]
    if diffs:
        print(f"rnnreg: warning: {path} differs from the checkpoint ({'; '.join(diffs)}); the checkpoint's "
              "configuration is used (config.json is a record of the run, not an input)", file=sys.stderr)


def _checkpoint_vocab_size(ckpt: dict, path: Path) -> int:
    bias = ckpt["model"].get("decoder.bias")
    if not isinstance(bias, torch.Tensor):
        raise CheckpointError(f"{path} is not an rnnreg checkpoint: its model has no decoder.bias")
    return bias.numel()


def load_run_model(run: str | os.PathLike, vocab_size: int | None = None, corpus: Corpus | None = None):
    """The model of a run folder's checkpoint (evaluation mode), its Config and its epoch.

    ``corpus``: the corpus it will be evaluated on, checked against the fingerprint the run
    recorded (another vocabulary is refused; other valid/test tokens are noted on stderr).
    """
    run = Path(run)
    if not run.exists():
        raise CheckpointError(f"the run folder {run} does not exist")
    if not run.is_dir():
        raise CheckpointError(f"{run} is a file, not a run folder")
    path = run / "checkpoint.pt"
    if not path.exists():
        raise CheckpointError(f"{run} has no checkpoint.pt: it is not a run folder, or its first epoch never finished")
    ckpt = load_checkpoint(path)
    config = _config_of(ckpt, path)
    _warn_if_config_edited(run, ckpt["config"])
    if corpus is not None:
        current = corpus_fingerprint(corpus)
        differ = check_corpus(ckpt.get("corpus"), current, str(run), splits=("valid", "test"))
        if differ:
            print(f"rnnreg: note: the {' and '.join(differ)} split{'s' if len(differ) > 1 else ''} of "
                  f"{current.get('folder') or corpus.source or 'this corpus'} differ from those {run} was trained "
                  "with (same vocabulary)", file=sys.stderr)
        vocab_size = vocab_size or len(corpus.vocab)
    n = _checkpoint_vocab_size(ckpt, path)
    if vocab_size is not None and vocab_size != n:
        raise CorpusMismatchError(f"{run}'s model has a vocabulary of {n} words, the corpus given has {vocab_size}: "
                                  "it was trained on another corpus. Pass --data with the run's own corpus")
    model = build_model(config, n)
    try:
        model.load_state_dict(ckpt["model"])
    except RuntimeError:
        raise CheckpointError(f"{path}: its weights do not fit the model its own config describes "
                              "(written by another version or program?)") from None
    return model.eval(), config, ckpt["epoch"]


@dataclass
class RunResult:
    config: Config
    log: list[dict]
    model: LSTMLM
    summary: dict = field(default_factory=dict)


def train(config: Config, corpus: Corpus | None = None, run_dir: str | os.PathLike | None = None,
          callbacks: Iterable[Callable[[dict], None]] = (), progress: bool = True, log_every: int = 100,
          command: str | None = None, test: bool = True, save_every_s: float | None = 300.0) -> RunResult:
    """Train (or resume) a model with the paper's recipe.

    ``run_dir``: where config, log, checkpoint and summary go; a checkpoint there is resumed
    (and must match ``config`` and the corpus). ``None`` keeps everything in memory (notebook demos).
    ``callbacks`` receive event dicts: ``{"event": "step", ...}`` every ``log_every`` steps,
    ``{"event": "epoch", ...}`` with the epoch's log record, ``{"event": "end", ...}`` with the summary.
    ``save_every_s``: during an epoch, save :data:`MID_EPOCH` at the first ``log_every`` step (where
    the loss is checked) after this many seconds; None: checkpoints at epoch ends only.
    """
    config.validate()
    device = resolve_device(config.device)
    precision = config.precision
    if precision == "bf16" and not bf16_supported(device):
        print(f"rnnreg: bf16 is not supported on {device}; training in fp32", file=sys.stderr)
        precision = "fp32"
    corpus = corpus if corpus is not None else load_corpus()
    check_split_sizes(corpus, config, test)
    run_path = Path(run_dir) if run_dir is not None else None
    claimed = None
    if run_path is not None:
        claimed = claim_run_dir(run_path)
        if claimed is False:
            raise RunFolderBusyError(
                f"{run_dir_holder(run_path)} is training into {run_path}; "
                "wait for it, or train into another run folder")
    try:
        return _train(config, corpus, run_path, list(callbacks), progress, log_every, command, test, device,
                      precision, save_every_s)
    finally:
        if claimed:
            release_run_dir(run_path)  # never raises, so it cannot hide the error that ended the run


def _check_resume_corpus(ckpt: dict, fingerprint: dict, ckpt_path: Path, corpus: Corpus) -> None:
    """Refuse to resume on another corpus; adopt an older checkpoint that records none."""
    recorded = ckpt.get("corpus")
    differ = check_corpus(recorded, fingerprint, str(ckpt_path))
    if differ:
        raise CorpusMismatchError(
            f"{ckpt_path} was trained on {recorded.get('folder') or 'an in-memory corpus'}, whose "
            f"{', '.join(differ)} split{'s' if len(differ) > 1 else ''} differ from those of "
            f"{fingerprint.get('folder') or corpus.source or 'the corpus given'}: resuming would mix two corpora. "
            "Pass --data with the run's own corpus, or train into another run folder")
    n = _checkpoint_vocab_size(ckpt, ckpt_path)
    if n != len(corpus.vocab):
        raise CorpusMismatchError(
            f"{ckpt_path} has a vocabulary of {n} words, the corpus {corpus.source or 'given'} has "
            f"{len(corpus.vocab)}: it was trained on another corpus. Pass --data with the run's own corpus, "
            "or train into another run folder")
    if recorded is None:
        print(f"rnnreg: {ckpt_path} records no corpus fingerprint (an older rnnreg wrote it); its vocabulary size "
              f"matches {corpus.source or 'the corpus given'}, whose fingerprint is recorded from now on",
              file=sys.stderr)


def _stopped(value: float, where: str, epoch: int, lr: float, limit: float, vocab_size: int,
             run_path: Path | None, saved_epoch: int) -> NonFiniteLossError:
    """The error that ends a diverged run: NaN/inf, or finite but beyond ``limit``."""
    kept = (f"The last good checkpoint ({run_path / 'checkpoint.pt'}, epoch {saved_epoch}) is kept. "
            if run_path is not None and saved_epoch >= 1 else "")
    if math.isfinite(value):
        return DivergedError(
            f"loss became {value:.4g} per token in epoch {epoch} ({where}, lr {lr}): the training diverged "
            f"(a uniform guess scores {math.log(vocab_size):.3g}; the limit is {limit:.3g}). " + kept
            + "Try a smaller lr, a tighter clip or a smaller init_scale.")
    return NonFiniteLossError(f"loss became {value} in epoch {epoch} ({where}, lr {lr}). " + kept
                              + "Try a smaller lr, a tighter clip or a smaller init_scale.")


def _epochs_planned(ckpt: dict, config: Config, summary_path: Path) -> list[int]:
    """The epoch counts this run was planned with, the current one last; say so when it changes.

    Training a finished run on moves its summary aside (``summary-epoch<N>.json``): it describes the
    model of epoch N, not the one this run will end with.
    """
    planned = list(ckpt.get("epochs_planned") or [ckpt["config"]["epochs"]])
    if config.epochs > ckpt["epoch"] and summary_path.exists():
        summary_path.replace(summary_path.with_name(f"summary-epoch{ckpt['epoch']}.json"))
    if config.epochs == planned[-1]:
        return planned
    print(f"rnnreg: the checkpoint's run was planned for {planned[-1]} epochs; this run ends after "
          f"{config.epochs} (epochs 1-{ckpt['epoch']} are those of a {config.epochs}-epoch run: the learning "
          "rate does not depend on the epoch count)", file=sys.stderr)
    return planned + [config.epochs]


UNRECORDED_SESSIONS = "not recorded: an rnnreg that kept no session records wrote the checkpoint"


def _sessions(ckpt: dict) -> list[dict]:
    """The processes that trained a checkpoint's epochs, each with its epochs and provenance.

    A long run is resumed across days and machines: the summary's top-level provenance names the
    process that finished it, and this list names every one that trained (epochs, commit, machine).
    """
    if "sessions" in ckpt:
        return [dict(s, epochs=list(s["epochs"])) for s in ckpt["sessions"]]
    return [{"epochs": [1, ckpt["epoch"]], "provenance": UNRECORDED_SESSIONS}] if ckpt["epoch"] >= 1 else []


RECORD_FILES = ("config.json", "log.jsonl", "summary.json")
#: A recorded run whose checkpoint is gone moves into ``<record>/lost-attempt-<N>`` (:func:`mark_lost`).
LOST_ATTEMPT = "lost-attempt-"


def lost_attempts(dest: str | os.PathLike) -> list[Path]:
    """The records of earlier attempts kept in a results folder, oldest first."""
    folders = Path(dest).glob(LOST_ATTEMPT + "*")
    return sorted((f for f in folders if f.name[len(LOST_ATTEMPT):].isdigit()),
                  key=lambda f: int(f.name[len(LOST_ATTEMPT):]))


def _attempts_note(dest: Path) -> list[dict]:
    """What a restarted run's progress and summary say about the attempts before it."""
    notes = []
    for folder in lost_attempts(dest):
        progress = json.loads((folder / "progress.json").read_text())
        notes.append({"record": folder.name, "epochs_recorded": progress["epochs_done"],
                      "lost": progress["lost"]["reason"]})
    return notes


def _check_same_run(dest: Path, epoch: int, sessions: list[dict]) -> None:
    """Refuse to record over another run's record (or an older state of this one): a results folder
    holds one run, from its first epoch, never two spliced or one swapped for another."""
    recorded = read_json(dest / "summary.json") or read_json(dest / "progress.json")
    if recorded is None:
        return
    started = {s.get("started") for s in sessions}
    other = [s for s in recorded.get("sessions", []) if s.get("started") and s["started"] not in started]
    done = recorded.get("epochs_done", recorded.get("epochs", 0))
    if other or done > epoch:
        why = (f"its session of {other[0]['started']} did not train this checkpoint" if other
               else f"it records {done} epochs, the checkpoint only {epoch}")
        raise RunFolderError(
            f"{dest} records another run ({why}). If that run's checkpoint is lost, keep its record with "
            f"`python -m rnnreg mark-lost {dest} --reason '...'` and record the new run again; "
            "otherwise record into another folder")


def record_run(run: str | os.PathLike, dest: str | os.PathLike) -> list[Path]:
    """Copy a run folder's record (never its checkpoint) into ``dest``, e.g. ``results/ptb/medium``.

    A finished run gives config, log and summary. A run still training gives config and log plus
    ``progress.json`` read from its checkpoint, so a log committed mid-run still says what made it:
    epochs done of those planned, wall time, and every training session's command, commit and
    machine (:func:`_sessions`). Returns the files written; a stale ``progress.json`` is removed once
    the summary exists. ``dest`` holds one run: recording another one over it is refused
    (:func:`_check_same_run`); earlier attempts kept by :func:`mark_lost` are named in the progress
    and the summary (``earlier_attempts``).
    """
    run, dest = Path(run), Path(dest)
    if dest.resolve() == run.resolve():
        raise RunFolderError(f"{dest} is the run folder itself; record it into another folder (results/...)")
    ckpt_path, summary_path = run / "checkpoint.pt", run / "summary.json"
    if not summary_path.exists() and not ckpt_path.exists():
        raise CheckpointError(f"{run} has neither summary.json nor checkpoint.pt: no epoch of a run finished there")
    attempts = _attempts_note(dest)
    progress = dest / "progress.json"
    if summary_path.exists():
        summary = json.loads(summary_path.read_text())
        _check_same_run(dest, summary["epochs"], summary.get("sessions", []))
        dest.mkdir(parents=True, exist_ok=True)
        written = [dest / name for name in RECORD_FILES if (run / name).exists()]
        for path in written:
            write_text(path, (run / path.name).read_text())
        if attempts:
            write_json(dest / "summary.json", {**summary, "earlier_attempts": attempts})
        progress.unlink(missing_ok=True)
        return written
    # Still training: the checkpoint is the record (the log file is written just after it).
    ckpt = load_checkpoint(ckpt_path)
    _check_same_run(dest, ckpt["epoch"], _sessions(ckpt))
    dest.mkdir(parents=True, exist_ok=True)
    write_json(dest / "config.json", ckpt["config"])
    write_text(dest / "log.jsonl", "".join(json.dumps(r) + "\n" for r in ckpt["log"]))
    write_json(progress, {
        "status": "in progress: no summary until the last epoch and the test evaluation",
        "epochs_done": ckpt["epoch"], "epochs_planned": ckpt["config"]["epochs"],
        "wall_s": ckpt["wall_s"], "sessions": _sessions(ckpt),
        "recorded": utc_now(), "from": str(run), **({"earlier_attempts": attempts} if attempts else {}),
    })
    return [dest / "config.json", dest / "log.jsonl", progress]


def mark_lost(dest: str | os.PathLike, reason: str) -> Path:
    """Keep the record of a run whose checkpoint is gone for good, and free ``dest`` for its restart.

    A run trained across sessions keeps its checkpoint outside git; when the machine that held it
    is not handed back, the run cannot go on. Its record (config, the log so far, progress.json)
    moves into ``dest/lost-attempt-<N>``, whose ``progress.json`` says it was lost and why
    (``lost``). The restarted run is recorded into ``dest`` from its own first epoch (logs of two
    runs are never spliced), and its progress and summary list the attempts before it.
    """
    dest = Path(dest)
    if (dest / "summary.json").exists():
        raise RunFolderError(f"{dest} records a complete run: it needs no checkpoint to go on")
    progress = read_json(dest / "progress.json")
    if progress is None or not (dest / "log.jsonl").exists():
        raise RunFolderError(f"{dest} records no run in progress (no progress.json and log.jsonl): nothing to lose")
    if not reason.strip():
        raise RunFolderError("say why the run is lost (--reason): the record keeps it")
    target = dest / f"{LOST_ATTEMPT}{len(lost_attempts(dest)) + 1}"
    target.mkdir()
    for name in ("config.json", "log.jsonl"):
        os.replace(dest / name, target / name)
    progress.pop("earlier_attempts", None)  # stays with the folder's own record (dest/progress.json)
    write_json(target / "progress.json", {
        **progress, "status": f"lost after epoch {progress['epochs_done']} was recorded: {reason.strip()}",
        "lost": {"reason": reason.strip(), "marked": utc_now()}})
    (dest / "progress.json").unlink()
    return target


def _load_mid_epoch(path: Path, config: Config, epochs_done: int, fingerprint: dict, corpus: Corpus) -> dict | None:
    """The mid-epoch save to resume from: one made after ``epochs_done`` whole epochs, else None.
    A stale one (its epoch's checkpoint was written, the process stopped before deleting it) is
    removed; an unreadable one is named and passed over (the epoch starts again)."""
    if not path.exists():
        return None
    try:
        mid = load_checkpoint(path, config)
    except CheckpointError as exc:
        print(f"rnnreg: warning: {exc}; epoch {epochs_done + 1} starts from its beginning", file=sys.stderr)
        return None
    if mid.get("epoch") != epochs_done or "mid_epoch" not in mid:
        path.unlink(missing_ok=True)
        return None
    _check_resume_corpus(mid, fingerprint, path, corpus)
    return mid


def _interrupted(where: str, run_path: Path | None, saved_epoch: int, epochs: int,
                 mid_step: int | None = None) -> Interrupted:
    if run_path is None:
        return Interrupted(f"training interrupted {where}; nothing was saved (no run folder)")
    ckpt = run_path / "checkpoint.pt"
    if mid_step is not None:
        held = f"{ckpt} holds epoch {saved_epoch}, " if saved_epoch >= 1 else ""
        return Interrupted(f"training interrupted {where}; {held}{run_path / MID_EPOCH} holds epoch "
                           f"{saved_epoch + 1} up to step {mid_step}. Run the same command again to resume "
                           f"from step {mid_step + 1}")
    if saved_epoch < 1:
        return Interrupted(f"training interrupted {where}, before the first checkpoint; "
                           f"running the same command starts the run in {run_path} over")
    then = f"resume from epoch {saved_epoch + 1}" if saved_epoch < epochs else "finish the run (test and summary)"
    return Interrupted(f"training interrupted {where}; {ckpt} holds epoch {saved_epoch}. "
                       f"Run the same command again to {then}")


def _train(config: Config, corpus: Corpus, run_path: Path | None, callbacks: list, progress: bool,
           log_every: int, command: str | None, test: bool, device: torch.device, precision: str,
           save_every_s: float | None = None) -> RunResult:
    """The body of :func:`train`, once the run folder is this process's."""

    def emit(event: dict) -> None:
        for cb in callbacks:
            cb(event)

    commit = git_commit()  # the code this process loaded, not whatever is checked out later
    started = utc_now()

    def this_process() -> dict:  # a session record: the summary's provenance fields, started for finished
        prov = provenance(command, device, commit)
        del prov["finished"]
        return {**prov, "started": started}

    fingerprint = corpus_fingerprint(corpus)
    ckpt = mid = None
    if run_path is not None:
        ckpt_path = run_path / "checkpoint.pt"
        if ckpt_path.exists():
            ckpt = load_checkpoint(ckpt_path, config)
            _check_resume_corpus(ckpt, fingerprint, ckpt_path, corpus)
        if ckpt is None or ckpt["epoch"] < config.epochs:
            mid = _load_mid_epoch(run_path / MID_EPOCH, config, ckpt["epoch"] if ckpt else 0, fingerprint, corpus)
            ckpt = mid or ckpt  # the same record as the epoch's checkpoint, the model further on
    torch.manual_seed(config.seed)
    model = build_model(config, len(corpus.vocab)).to(device)
    log: list[dict] = []
    start_epoch, wall_before = 1, 0.0
    epochs_planned = [config.epochs]
    sessions: list[dict] = []
    this_session: dict | None = None  # joins `sessions` when this process finishes its first epoch
    if run_path is not None:
        if ckpt is not None:
            model.load_state_dict(ckpt["model"])
            sessions = _sessions(ckpt)
            summary_path = run_path / "summary.json"
            epochs_planned = _epochs_planned(ckpt, config, summary_path)
            if ckpt["epoch"] >= config.epochs and summary_path.exists():  # already complete
                summary = json.loads(summary_path.read_text())
                return RunResult(config, ckpt["log"], model, summary)
            torch.set_rng_state(ckpt["rng_cpu"])
            if device.type == "cuda" and ckpt["rng_cuda"]:
                torch.cuda.set_rng_state_all(ckpt["rng_cuda"])
            log, start_epoch, wall_before = ckpt["log"], ckpt["epoch"] + 1, ckpt["wall_s"]
        write_json(run_path / "config.json", config.to_dict())
        write_text(run_path / "log.jsonl", "".join(json.dumps(r) + "\n" for r in log))

    train_ids = corpus.train if config.max_train_tokens is None else corpus.train[: config.max_train_tokens]
    streams = batchify(train_ids, config.batch_size).to(device)
    steps_per_epoch = num_windows(streams, config.steps)
    optimizer = sgd(model, config.lr)
    loss_fn = WindowLoss(model, device, precision, config.compile)
    vocab_size = len(corpus.vocab)
    limit = divergence_limit(vocab_size)
    saved_epoch = start_epoch - 1 if run_path is not None else 0
    mid_step = mid["mid_epoch"]["step"] if mid else None  # the step the mid-epoch save holds, if any
    where = f"in epoch {start_epoch} of {config.epochs}"
    session_start = last_save = time.perf_counter()

    try:
        for epoch in range(start_epoch, config.epochs + 1):
            where = f"in epoch {epoch} of {config.epochs}"
            lr = config.lr_at(epoch)
            set_lr(optimizer, lr)
            model.train()
            state = model.init_state(config.batch_size)  # zero state at each epoch start, as the paper's code
            total = torch.zeros((), dtype=torch.float64, device=device)
            count, skip, trained_before = 0, 0, 0.0
            if mid and epoch == start_epoch:  # go on where the mid-epoch save stopped
                part = mid["mid_epoch"]
                state = [(h.to(device), c.to(device)) for h, c in part["state"]]
                total += part["total"].to(device)
                count, skip, trained_before = part["count"], part["step"], part["train_s"]
            t0 = time.perf_counter() - trained_before
            bar = _progress(steps_per_epoch, f"epoch {epoch}/{config.epochs}", progress)
            bar.update(skip)
            try:
                for step, (x, y) in enumerate(windows(streams, config.steps), 1):
                    if step <= skip:
                        continue
                    nll, state = train_step(model, optimizer, x, y, state, config.clip, device, precision, loss_fn)
                    total += nll.double()
                    count += y.numel()
                    if step % log_every == 0 or step == steps_per_epoch:
                        running = total.item() / count  # one host sync per log_every steps
                        if not running <= limit:  # NaN, inf, or finite but diverged
                            raise _stopped(running, f"step {step}", epoch, lr, limit, vocab_size, run_path,
                                           saved_epoch)
                        if (run_path is not None and save_every_s is not None and step < steps_per_epoch
                                and time.perf_counter() - last_save >= save_every_s):
                            part = {"step": step, "state": [(h.detach().cpu(), c.detach().cpu()) for h, c in state],
                                    "total": total.detach().cpu(), "count": count,
                                    "train_s": time.perf_counter() - t0, "trained_by": this_process()}
                            save_checkpoint(run_path / MID_EPOCH, config, model, epoch - 1, log,
                                            wall_before + time.perf_counter() - session_start, fingerprint,
                                            epochs_planned, sessions, mid_epoch=part)
                            mid_step, last_save = step, time.perf_counter()
                        bar.set_postfix(ppl=f"{_exp(running):.1f}")
                        emit({"event": "step", "epoch": epoch, "step": step, "steps_per_epoch": steps_per_epoch,
                              "train_ppl": _exp(running)})
                    bar.update(1)
            finally:
                bar.close()  # also when the run stops (divergence, Ctrl-C)
            train_s = time.perf_counter() - t0
            valid_ppl = evaluate(model, corpus.valid, config.batch_size, config.steps, device, precision)
            valid_nll = math.log(valid_ppl) if valid_ppl > 0 else math.nan
            if not valid_nll <= limit:
                raise _stopped(valid_nll, "on the valid split", epoch, lr, limit, vocab_size, run_path, saved_epoch)
            record = {"epoch": epoch, "lr": lr, "train_ppl": perplexity(total.item(), count), "valid_ppl": valid_ppl,
                      "tokens_per_s": count / train_s, "epoch_s": time.perf_counter() - t0,
                      "wall_s": wall_before + time.perf_counter() - session_start}
            log.append(record)
            if this_session is None:
                this_session = {"epochs": [epoch, epoch], **this_process()}
                if mid and epoch == start_epoch:  # an earlier process trained the first steps of this epoch
                    this_session["began_mid_epoch"] = {"at_step": mid["mid_epoch"]["step"] + 1,
                                                       "earlier_steps_by": mid["mid_epoch"]["trained_by"]}
                sessions.append(this_session)
            this_session["epochs"][1] = epoch
            if run_path is not None:  # checkpoint first: a log line never names an epoch without its checkpoint
                save_checkpoint(run_path / "checkpoint.pt", config, model, epoch, log, record["wall_s"], fingerprint,
                                epochs_planned, sessions)
                saved_epoch, mid_step = epoch, None
                write_text(run_path / "log.jsonl", "".join(json.dumps(r) + "\n" for r in log))
                (run_path / MID_EPOCH).unlink(missing_ok=True)  # the whole epoch is saved now
            emit({"event": "epoch", **record})

        where = "after the last epoch, in the test evaluation"
        summary = {}
        if log:
            test_ppl = evaluate(model, corpus.test, 1, config.steps, device, precision) if test else None
            prov = provenance(command, device, commit)
            summary = {
                "train_ppl": log[-1]["train_ppl"], "valid_ppl": log[-1]["valid_ppl"],
                "best_valid_ppl": min(r["valid_ppl"] for r in log), "epochs": len(log),
                "test_ppl": test_ppl,
                "test_protocol": "batch 1, one sequential stream (the paper's code)",
                "decay_start": config.decay_start, "precision": precision, "compiled": loss_fn.compiled,
                "parameters": model.num_parameters(),
                "wall_s": wall_before + time.perf_counter() - session_start,
                "command": prov["command"], "git_commit": commit,
                **{k: prov[k] for k in ("torch", "python", "device", "threads") if k in prov},
                "corpus": corpus.source, "corpus_sizes": corpus.sizes(),
                "corpus_fingerprint": fingerprint, "finished": prov["finished"], "sessions": sessions,
            }
            if len(epochs_planned) > 1:
                summary["epochs_planned"] = epochs_planned
                if run_path is not None and start_epoch > config.epochs:  # no epoch saved the new plan
                    save_checkpoint(run_path / "checkpoint.pt", config, model, log[-1]["epoch"], log,
                                    summary["wall_s"], fingerprint, epochs_planned, sessions)
            if run_path is not None:
                write_json(run_path / "summary.json", summary)
            emit({"event": "end", **summary})
    except Interrupted:
        raise
    except KeyboardInterrupt:
        raise _interrupted(where, run_path, saved_epoch, config.epochs, mid_step) from None
    return RunResult(config, log, model, summary)


def sgd(model: LSTMLM, lr: float) -> torch.optim.SGD:
    """The paper's optimizer: plain SGD, p <- p - lr * grad (no momentum, no weight decay)."""
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.0, weight_decay=0.0)


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def train_step(model: LSTMLM, optimizer: torch.optim.Optimizer, x, y, state, clip: float,
               device: torch.device, precision: str = "fp32", loss_fn: WindowLoss | None = None):
    """One truncated-BPTT update: forward, the paper's loss, backward, clip, SGD. Returns (summed NLL, state).

    ``optimizer``: :func:`sgd` of ``model`` at the epoch's learning rate. ``loss_fn`` (a
    :class:`WindowLoss` of ``model``) replaces the eager forward, e.g. a compiled one.
    """
    state = model.detach_state(state)
    if loss_fn is None:
        nll, state = window_nll(model, x, y, state, device, precision)
    else:
        nll, state = loss_fn(x, y, state)
    loss = nll / x.size(1)  # summed over the steps, averaged over the batch
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    return nll.detach(), state


def _progress(total: int, desc: str, enabled: bool):
    if enabled:
        from tqdm.auto import tqdm  # a widget in Jupyter, text in a terminal

        # mininterval 1 s: in a notebook the bar is a widget and each redraw a kernel message; a cell
        # that sends thousands overflows the client's queue (nbval then never sees the cell end)
        return tqdm(total=total, desc=desc, leave=False, mininterval=1.0)
    return _NoBar()


class _NoBar:
    def update(self, n: int = 1) -> None: ...
    def set_postfix(self, **kw) -> None: ...
    def close(self) -> None: ...
