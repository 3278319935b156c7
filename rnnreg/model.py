r"""The LSTM language model of Zaremba et al. (2014) and every dropout placement the book compares.

Architecture (the paper's, untied by default)::

    x_t = E[w_t]                                   embedding, size H
    h^0_t = D(x_t)
    h^l_t, c^l_t = LSTM_l(D(h^{l-1}_t), h^l_{t-1}, c^l_{t-1})      l = 1..L
    p(w_{t+1} | w_{<=t}) = softmax(W_out D(h^L_t) + b_out)

One LSTM step (PyTorch's gate order i, f, g, o; two bias vectors as in Torch and ``nn.LSTM``)::

    [i, f, g, o] = [sigma, sigma, tanh, sigma](W_ih x + b_ih + W_hh h_{t-1} + b_hh)
    c_t = f * c_{t-1} + i * g
    h_t = o * tanh(c_t)

``D`` is inverted dropout: ``D(v) = v * m / (1 - p)`` with ``m ~ Bernoulli(1 - p)`` per unit,
so ``E[D(v)] = v`` and evaluation mode is the identity. Where ``D`` is applied, and with which
masks, is the ``scheme``:

``none``
    No dropout anywhere.
``zaremba`` (the paper)
    ``D`` on the non-recurrent connections only: embedding -> layer 1, layer l -> l+1, top
    layer -> softmax; a fresh mask every time step. The recurrences ``h_{t-1} -> h_t`` and
    ``c_{t-1} -> c_t`` are never touched, so a signal meets L+1 masks however far it travels.
``everywhere``
    ``zaremba`` plus a fresh per-step mask on the recurrent input:
    ``gates = W_ih x + W_hh D_t(h_{t-1}) + b``. Dropout on every connection, including those
    between time steps: what the paper argues against. (Gal & Ghahramani 2016 use the name
    "naive dropout" for Zaremba's own scheme, not for this one; the book avoids that name.)
``memory``
    ``zaremba`` plus a fresh per-step mask on the cell: ``c_t = f * D_t(c_{t-1}) + i * g``, the
    memory loss Semeniuta et al. (2016) describe.
``variational`` (Gal & Ghahramani 2016)
    One mask per sequence (forward pass), reused at every step, on the inputs, between
    layers, on the outputs and on ``h_{t-1}``: ``gates = W_ih D(x) + W_hh D(h_{t-1}) + b``.
``weight_drop`` (Merity et al. 2017)
    ``zaremba`` plus DropConnect on the hidden-to-hidden weights, one mask per forward pass:
    ``gates = W_ih x + (W_hh * M / (1 - p)) h_{t-1} + b``.
``zoneout`` (Krueger et al. 2016)
    ``zaremba`` dropout (rate ``dropout``, 0 for pure zoneout) plus stochastic identity: each
    unit keeps its previous value with probability ``z`` (``zoneout_c``, ``zoneout_h``)::

        c~ = f * c_{t-1} + i * g,      h~ = o * tanh(c~)
        c_t = d^c * c_{t-1} + (1 - d^c) * c~,   h_t = d^h * h_{t-1} + (1 - d^h) * h~

    with ``d ~ Bernoulli(z)`` in training and ``d = z`` (the expectation) in evaluation.

``dropout`` is the rate on non-recurrent connections; ``recurrent_dropout`` (default: the
same) is the rate on h, c or W_hh for ``everywhere``, ``memory``, ``variational`` and
``weight_drop``.

Speed: ``FUSED_SCHEMES`` (no mask on h or c) run on ``nn.LSTM``'s fused kernel (``weight_drop``
hands it the DropConnect'ed ``W_hh``); the schemes that mask h or c go a step at a time, through
:class:`rnnreg.fast_lstm.LSTMRecurrence` and its hand-written backward; ``return_states=True``
runs :func:`lstm_step`, the readable step, through autograd. All three hold the same parameters
(a single-layer ``nn.LSTM`` per layer), and ``tests/test_model.py`` holds them equal.

Adding a scheme (``tests/test_model.py::test_every_scheme_is_registered`` names what is missing):
1. its name in ``SCHEMES`` (and ``FUSED_SCHEMES`` if no mask touches h or c), its equations above;
2. its masks: ``LSTMLM.drop_nonrecurrent``, ``recurrence_masks`` (on h or c; a new kind of mask
   also goes into ``StepMasks``, ``lstm_step`` and ``fast_lstm.py``), ``LSTMLM.recurrent_weight``;
3. ``rnnreg/analysis/schemes.py``: ``SCHEME_SITES`` (where, how, which rate), ``SCHEME_INFO``;
4. ``rnnreg/views/style.py``: ``SCHEME_COLORS``; ``rnnreg/views/panels.py``: ``SCHEME_CODE``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .fast_lstm import LSTMRecurrence

__all__ = [
    "SCHEMES",
    "FUSED_SCHEMES",
    "State",
    "LSTMLM",
    "StepMasks",
    "check_rate",
    "dropout_mask",
    "recurrence_masks",
    "lstm_step",
    "lstm_recurrence_autograd",
]

SCHEMES = ("none", "zaremba", "everywhere", "memory", "variational", "weight_drop", "zoneout")
FUSED_SCHEMES = ("none", "zaremba", "weight_drop")  # the recurrence itself is a plain LSTM

State = list[tuple[torch.Tensor, torch.Tensor]]  # (h, c) per layer, each (B, H)


def check_rate(name: str, p: float) -> float:
    if not (isinstance(p, (int, float)) and 0.0 <= p < 1.0):
        raise ValueError(f"{name} must be a probability in [0, 1), got {p!r}")
    return float(p)


def dropout_mask(shape, p: float, like: torch.Tensor) -> torch.Tensor:
    """Inverted-dropout mask: 0 with probability p, else 1/(1-p). Uniform draws compared with p:
    the same Bernoulli(1 - p) masks as ``F.dropout``, about 4x faster on CPU."""
    return torch.rand(shape, dtype=like.dtype, device=like.device).ge_(p).mul_(1 / (1 - p))


@dataclass
class StepMasks:
    """Per-step masks of one layer's recurrence, each (T, B, H) or None: ``h``/``c`` dropout on
    h_{t-1}/c_{t-1}; ``zh``/``zc`` zoneout keep-draws or, in evaluation, keep-probabilities."""

    h: torch.Tensor | None = None
    c: torch.Tensor | None = None
    zh: torch.Tensor | None = None
    zc: torch.Tensor | None = None

    def at(self, t: int):
        return tuple(None if m is None else m[t] for m in (self.h, self.c, self.zh, self.zc))


def recurrence_masks(
    scheme: str, like: torch.Tensor, p: float, zoneout_h: float = 0.05, zoneout_c: float = 0.5, training: bool = True
) -> StepMasks:
    """The per-step masks a scheme puts on one layer's recurrence; ``like`` is (T, B, H).
    Zoneout's keep-draws are 1 with probability z (keep the previous value); in evaluation, z."""
    shape = like.shape
    if scheme == "zoneout":
        if training:
            return StepMasks(zh=torch.rand_like(like).lt_(zoneout_h), zc=torch.rand_like(like).lt_(zoneout_c))
        return StepMasks(zh=like.new_full(shape, zoneout_h), zc=like.new_full(shape, zoneout_c))
    if not training or p == 0:
        return StepMasks()
    if scheme == "everywhere":
        return StepMasks(h=dropout_mask(shape, p, like))
    if scheme == "memory":
        return StepMasks(c=dropout_mask(shape, p, like))
    if scheme == "variational":
        return StepMasks(h=dropout_mask((1, *shape[1:]), p, like).expand(shape))
    return StepMasks()


def lstm_step(xp_t, h, c, w_hh, mh=None, mc=None, zh=None, zc=None):
    """One LSTM step given the input projection ``xp_t = W_ih x_t + b``; returns ``(h_t, c_t)``.
    Masks as in :class:`StepMasks` (None leaves that connection alone)."""
    hm = h if mh is None else h * mh
    cm = c if mc is None else c * mc
    gates = torch.addmm(xp_t, hm, w_hh.t())
    i, f, g, o = gates.chunk(4, 1)
    i, f, o, g = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o), torch.tanh(g)
    c_new = f * cm + i * g
    h_new = o * torch.tanh(c_new)
    c_out = c_new if zc is None else torch.lerp(c_new, c, zc)  # zc*c + (1-zc)*c_new
    h_out = h_new if zh is None else torch.lerp(h_new, h, zh)
    return h_out, c_out


def lstm_recurrence_autograd(xp, w_hh, h0, c0, masks: StepMasks):
    """:func:`lstm_step` over all T steps, through autograd; every step's h and c, each (T, B, H)."""
    hs, cs = [], []
    h, c = h0, c0
    for t in range(xp.size(0)):
        h, c = lstm_step(xp[t], h, c, w_hh, *masks.at(t))
        hs.append(h)
        cs.append(c)
    return torch.stack(hs), torch.stack(cs)


class LSTMLM(nn.Module):
    """Embedding -> L LSTM layers -> linear softmax, with dropout placed by ``scheme``.

    ``forward(tokens (T, B), state) -> (logits (T, B, V), new_state)``; ``return_states=True`` adds
    every step's ``h`` and ``c``, each ``(L, T, B, H)``, through autograd (differentiable)."""

    def __init__(
        self,
        vocab_size: int,
        hidden_size: int = 200,
        num_layers: int = 2,
        scheme: str = "zaremba",
        dropout: float = 0.0,
        recurrent_dropout: float | None = None,
        zoneout_h: float = 0.05,
        zoneout_c: float = 0.5,
        init_scale: float = 0.1,
        tie_weights: bool = False,
    ):
        super().__init__()
        for name, value in (("vocab_size", vocab_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
            if not (isinstance(value, int) and value > 0):
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if scheme not in SCHEMES:
            raise ValueError(f"unknown scheme {scheme!r}; choose one of {', '.join(SCHEMES)}")
        if not init_scale > 0:
            raise ValueError(f"init_scale must be positive, got {init_scale!r}")
        self.scheme = scheme
        self.dropout = 0.0 if scheme == "none" else check_rate("dropout", dropout)
        self.recurrent_dropout = check_rate(
            "recurrent_dropout", self.dropout if recurrent_dropout is None else recurrent_dropout
        )
        self.zoneout_h = check_rate("zoneout_h", zoneout_h)
        self.zoneout_c = check_rate("zoneout_c", zoneout_c)
        self.hidden_size, self.num_layers, self.vocab_size = hidden_size, num_layers, vocab_size

        self.embedding = nn.Embedding(vocab_size, hidden_size)
        self.layers = nn.ModuleList(nn.LSTM(hidden_size, hidden_size) for _ in range(num_layers))
        self.decoder = nn.Linear(hidden_size, vocab_size)
        if tie_weights:
            self.decoder.weight = self.embedding.weight
        for p in self.parameters():  # the paper: every parameter ~ U(-init, init)
            nn.init.uniform_(p, -init_scale, init_scale)

    def init_state(self, batch_size: int) -> State:
        w = self.decoder.weight
        return [
            (w.new_zeros(batch_size, self.hidden_size), w.new_zeros(batch_size, self.hidden_size))
            for _ in range(self.num_layers)
        ]

    @staticmethod
    def detach_state(state: State) -> State:
        return [(h.detach(), c.detach()) for h, c in state]

    def drop_nonrecurrent(self, x: torch.Tensor) -> torch.Tensor:
        """Non-recurrent dropout: fresh mask per element (so per step), or one per sequence."""
        if not self.training or self.dropout == 0:
            return x
        shape = (1, *x.shape[1:]) if self.scheme == "variational" else x.shape
        return x * dropout_mask(shape, self.dropout, x)

    def step_masks(self, like: torch.Tensor) -> StepMasks:
        """Masks on h_{t-1} / c_{t-1} / zoneout for one layer; ``like`` is (T, B, H)."""
        return recurrence_masks(
            self.scheme, like, self.recurrent_dropout, self.zoneout_h, self.zoneout_c, self.training
        )

    def recurrent_weight(self, layer: nn.LSTM) -> torch.Tensor:
        w = layer.weight_hh_l0
        if self.scheme == "weight_drop" and self.training and self.recurrent_dropout > 0:
            w = w * dropout_mask(w.shape, self.recurrent_dropout, w)  # DropConnect, once per forward
        return w

    def recurrence(self, layer: nn.LSTM, x, h0, c0, readable: bool = False):
        """One layer over all T steps: ``(hs, cs, h_T, c_T)``; ``cs`` (every step's c) only if ``readable``."""
        masks = self.step_masks(x)  # masks first, then W_hh's: the order random numbers are drawn in
        w_hh = self.recurrent_weight(layer)
        if self.scheme in FUSED_SCHEMES and not readable:
            hs, (h, c) = torch.func.functional_call(layer, {"weight_hh_l0": w_hh}, (x, (h0[None], c0[None])))
            return hs, None, h[0], c[0]
        xp = F.linear(x, layer.weight_ih_l0, layer.bias_ih_l0 + layer.bias_hh_l0)
        if readable:
            hs, cs = lstm_recurrence_autograd(xp, w_hh, h0, c0, masks)
            return hs, cs, hs[-1], cs[-1]
        hs, h, c = LSTMRecurrence.apply(xp, w_hh, h0, c0, masks.h, masks.c, masks.zh, masks.zc)
        return hs, None, h, c

    def forward(self, tokens: torch.Tensor, state: State | None = None, return_states: bool = False):
        if state is None:
            state = self.init_state(tokens.size(1))
        x = self.drop_nonrecurrent(self.embedding(tokens))
        new_state, hs_all, cs_all = [], [], []
        for layer, (h0, c0) in zip(self.layers, state):
            # The LSTM layers stay in fp32 under bf16 autocast (errors would compound over time);
            # autocast speeds up the softmax layer, the bulk of the FLOPs at the paper's sizes.
            with torch.autocast(device_type=x.device.type, enabled=False):
                hs, cs, h, c = self.recurrence(layer, x.float(), h0, c0, readable=return_states)
            new_state.append((h, c))
            hs_all.append(hs)
            cs_all.append(cs)
            x = self.drop_nonrecurrent(hs)
        logits = self.decoder(x)
        if return_states:
            return logits, new_state, {"h": torch.stack(hs_all), "c": torch.stack(cs_all)}
        return logits, new_state

    def num_parameters(self, exclude_embedding: bool = False) -> int:
        """Distinct parameters; ``exclude_embedding`` leaves out an untied input embedding."""
        params = {id(p): p for p in self.parameters()}
        if exclude_embedding and self.decoder.weight is not self.embedding.weight:
            del params[id(self.embedding.weight)]
        return sum(p.numel() for p in params.values())
