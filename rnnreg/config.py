"""Every knob of a run: :class:`Config`, the paper's three :data:`PRESETS`, the learning-rate schedule,
and :data:`BOUNDS`, the one table of what every numeric option (of Config and of the commands) may be.

Learning rate: ``lr`` for the first epochs, then divided by ``lr_decay`` every epoch. Where the
decay starts is ambiguous by one epoch:

* ``decay_start="code"`` (default): the authors' Lua code, which produced Table 1, divides at
  the end of each epoch ``e > decay_after``; the first decayed epoch is ``decay_after + 2``
  (small preset: epochs 1-5 at lr 1, epoch 6 at 0.5);
* ``decay_start="text"``: the paper's text and TensorFlow's tutorial; the first decayed epoch
  is ``decay_after + 1``.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass

from .model import LSTMLM, SCHEMES

DECAY_STARTS = ("code", "text")
PRECISIONS = ("fp32", "bf16")
MAX_SEED = 2**64 - 1  # torch.manual_seed takes an unsigned 64-bit integer
BYTES_PER_PARAMETER = 16  # weights and gradients in fp32, plus room for the forward's copies: a rough bound

#: The paper's three configurations (section 4.1; the authors' main.lua). One source of truth.
_PRESET_FIELDS = "num_layers hidden_size steps init_scale scheme dropout lr lr_decay decay_after epochs clip"
PRESETS: dict[str, dict] = {
    name: dict(zip(_PRESET_FIELDS.split(), values, strict=True))
    for name, *values in (
        ("small", 2, 200, 20, 0.1, "none", 0.0, 1.0, 2.0, 4, 13, 5.0),
        ("medium", 2, 650, 35, 0.05, "zaremba", 0.5, 1.0, 1.2, 6, 39, 5.0),
        ("large", 2, 1500, 35, 0.04, "zaremba", 0.65, 1.0, 1.15, 14, 55, 10.0),
    )
}

#: Fields that may differ between a checkpoint and the run resuming it (``lr_at`` ignores ``epochs``).
RESUMABLE_DIFFERENCES = ("device", "compile", "epochs")


_RULES = (  # (names, integer?, test of a finite value, what it says otherwise)
    ("num_layers hidden_size steps batch_size epochs", True, lambda v: v > 0, "must be a positive integer"),
    ("max_train_tokens samples positions rounds cpus time", True, lambda v: v > 0, "must be a positive integer"),
    ("lr init_scale clip seconds", False, lambda v: v > 0, "must be positive and finite"),
    ("dropout recurrent_dropout zoneout_h zoneout_c", False, lambda v: 0 <= v < 1, "must be a probability in [0, 1)"),
    ("lr_decay", False, lambda v: v >= 1, "is a divisor and must be a finite number >= 1"),
    ("decay_after max_lag warmup", True, lambda v: v >= 0, "must be a non-negative integer"),
    ("windows draws", True, lambda v: v >= 2, "must be an integer >= 2"),
    ("seed", True, lambda v: 0 <= v <= MAX_SEED, "must be an integer from 0 to 2**64 - 1"),
)
#: Every numeric option, of Config and of the commands (measure, bench, average, the sweeps' launcher):
#: its name -> (integer?, test of a finite value, what it says otherwise).
BOUNDS = {name: rule for names, *rule in _RULES for name in names.split()}


def check_option(name: str, value, label: str | None = None):
    """``value`` if it is what :data:`BOUNDS` allows for ``name``; else a ValueError naming ``label`` (or ``name``)."""
    integer, test, says = BOUNDS[name]
    number = isinstance(value, int) or (not integer and isinstance(value, float) and math.isfinite(value))
    if isinstance(value, bool) or not (number and test(value)):
        raise ValueError(f"{label or name} {says}, got {value!r}")
    return value


#: The fields that name one of a few choices.
CHOICES = {"preset": PRESETS, "scheme": SCHEMES, "decay_start": DECAY_STARTS, "precision": PRECISIONS}


@dataclass
class Config:
    """Every knob of a run. Build one from a preset: ``Config.from_preset("medium", epochs=2)``."""

    preset: str = "small"
    num_layers: int = 2
    hidden_size: int = 200
    steps: int = 20
    batch_size: int = 20
    init_scale: float = 0.1
    scheme: str = "none"
    dropout: float = 0.0
    recurrent_dropout: float | None = None  # None: as dropout
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
    compile: bool = False  # torch.compile the training step's forward and loss

    @classmethod
    def from_preset(cls, name: str, **overrides) -> Config:
        if unknown := set(overrides) - {f.name for f in dataclasses.fields(cls)}:
            raise ValueError(f"unknown config field(s): {', '.join(sorted(unknown))}")
        return cls(**{**PRESETS.get(name, {}), "preset": name, **overrides}).validate()

    @classmethod
    def from_dict(cls, d: dict) -> Config:
        return cls(**d).validate()

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def lr_at(self, epoch: int) -> float:
        """Learning rate of epoch ``epoch`` (1-based)."""
        first_decayed = self.decay_after + (2 if self.decay_start == "code" else 1)
        return self.lr / self.lr_decay ** max(0, epoch - first_decayed + 1)

    def validate(self, vocab_size: int = 0) -> Config:
        """Check every field (and, with ``vocab_size``, the parameters' memory); one ValueError naming it."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in BOUNDS and not (value is None and f.default is None):
                check_option(f.name, value)
        need = self.batch_size * (self.steps + 1)
        if self.max_train_tokens is not None and self.max_train_tokens < need:
            streams = f"{self.batch_size} streams of {self.steps} steps (at least {need})"
            raise ValueError(f"max_train_tokens={self.max_train_tokens!r} is too small for {streams}")
        for name, choices in CHOICES.items():
            if getattr(self, name) not in choices:
                raise ValueError(f"unknown {name} {getattr(self, name)!r}; choose one of {', '.join(choices)}")
        for name in ("tie_weights", "compile"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false, got {getattr(self, name)!r}")
        if not isinstance(self.device, str):
            raise ValueError(f"device must be a name such as 'auto', 'cpu' or 'cuda', got {self.device!r}")
        if self.scheme == "none" and (self.dropout > 0 or self.recurrent_dropout):
            raise ValueError("scheme 'none' takes no dropout; choose a scheme such as 'zaremba' to use dropout")
        need, have = parameter_count(self, vocab_size) * BYTES_PER_PARAMETER, physical_memory()
        if have and need > have:
            raise ValueError(
                f"num_layers={self.num_layers} x hidden_size={self.hidden_size} needs about "
                f"{need / 2**30:.3g} GiB for its parameters; this machine has {have / 2**30:.3g} GiB"
            )
        return self


def parameter_count(config: Config, vocab_size: int = 0) -> int:
    """The model's parameters, roughly: the LSTM layers' weights and biases, embedding and softmax."""
    h = config.hidden_size
    return config.num_layers * (8 * h * h + 8 * h) + vocab_size * h * (1 if config.tie_weights else 2) + vocab_size


def physical_memory() -> int | None:
    """Bytes of memory of this machine; None where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def build_model(config: Config, vocab_size: int) -> LSTMLM:
    """The model ``config`` describes, for a vocabulary of ``vocab_size`` words (initialized from torch's RNG)."""
    c = config
    return LSTMLM(
        vocab_size, c.hidden_size, c.num_layers, c.scheme, c.dropout, c.recurrent_dropout,
        c.zoneout_h, c.zoneout_c, c.init_scale, c.tie_weights,
    )  # fmt: skip
