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

Speed: ``none`` and ``zaremba`` leave the recurrence intact, so they run on the fused
``nn.LSTM`` kernel; so does ``weight_drop``, whose recurrence is a plain LSTM with a
DropConnect'ed ``W_hh`` (gradients flow back through the mask). The other schemes run on
:class:`LSTMRecurrence`, which computes the input projection for all time steps in one matmul,
loops over time without building an autograd graph (oneDNN with a packed ``W_hh`` for the
per-step matmul where that is faster), and has a hand-written backward whose ``W_hh`` gradient
is one matmul after the loop. Both paths hold the same parameters (one single-layer
``nn.LSTM`` per layer) and give the same numbers for ``none``.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

SCHEMES = ("none", "zaremba", "everywhere", "memory", "variational", "weight_drop", "zoneout")
FUSED_SCHEMES = ("none", "zaremba", "weight_drop")  # the recurrence itself is a plain LSTM

State = list[tuple[torch.Tensor, torch.Tensor]]  # (h, c) per layer, each (B, H)


def check_rate(name: str, p: float) -> float:
    if not (isinstance(p, (int, float)) and 0.0 <= p < 1.0):
        raise ValueError(f"{name} must be a probability in [0, 1), got {p!r}")
    return float(p)


def dropout_mask(shape, p: float, like: torch.Tensor) -> torch.Tensor:
    """Inverted-dropout mask: 0 with probability p, else 1/(1-p).

    Uniform draws compared with p, in place: the same Bernoulli(1 - p) masks as ``bernoulli_``
    and ``F.dropout``, about 4x faster on CPU (where mask drawing was ~5 % of a training step).
    """
    return torch.rand(shape, dtype=like.dtype, device=like.device).ge_(p).mul_(1 / (1 - p))


def keep_mask(like: torch.Tensor, z: float) -> torch.Tensor:
    """Zoneout's keep-draws: 1 with probability z (keep the previous value), else 0."""
    return torch.rand_like(like).lt_(z)


@dataclass
class StepMasks:
    """Per-step multiplicative masks of the recurrence, each (T, B, H) or None (identity).

    ``h``/``c``: dropout masks on h_{t-1}/c_{t-1}; ``zh``/``zc``: zoneout keep-probabilities
    or Bernoulli draws (1 = keep the previous value).
    """

    h: torch.Tensor | None = None
    c: torch.Tensor | None = None
    zh: torch.Tensor | None = None
    zc: torch.Tensor | None = None

    def at(self, t: int):
        return tuple(None if m is None else m[t] for m in (self.h, self.c, self.zh, self.zc))


def recurrence_masks(scheme: str, like: torch.Tensor, p: float, zoneout_h: float = 0.05, zoneout_c: float = 0.5,
                     training: bool = True) -> StepMasks:
    """The per-step masks a scheme puts on one layer's recurrence; ``like`` is (T, B, H).

    ``everywhere``: fresh dropout masks on h_{t-1}; ``memory``: fresh masks on c_{t-1};
    ``variational``: one mask on h_{t-1} for all T steps; ``zoneout``: Bernoulli keep-draws
    (their expectation in evaluation). Identity (no masks) otherwise and in evaluation mode.
    """
    shape = like.shape
    if scheme == "zoneout":
        if training:
            return StepMasks(zh=keep_mask(like, zoneout_h), zc=keep_mask(like, zoneout_c))
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
    """One LSTM step given the precomputed input projection ``xp_t = W_ih x_t + b``.

    Returns ``(h_t, c_t, saved)``; ``saved`` holds what the hand-written backward needs.
    """
    hm = h if mh is None else h * mh
    cm = c if mc is None else c * mc
    gates = torch.addmm(xp_t, hm, w_hh.t())
    i, f, g, o = gates.chunk(4, 1)
    i, f, o, g = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o), torch.tanh(g)
    c_new = f * cm + i * g
    tc = torch.tanh(c_new)
    h_new = o * tc
    c_out = c_new if zc is None else torch.lerp(c_new, c, zc)  # zc*c + (1-zc)*c_new
    h_out = h_new if zh is None else torch.lerp(h_new, h, zh)
    return h_out, c_out, (hm, cm, torch.cat((i, f, g, o), 1), tc)


def lstm_recurrence_autograd(xp, w_hh, h0, c0, masks: StepMasks):
    """Reference recurrence through autograd; returns every step's h and c, each (T, B, H)."""
    hs, cs = [], []
    h, c = h0, c0
    for t in range(xp.size(0)):
        h, c, _ = lstm_step(xp[t], h, c, w_hh, *masks.at(t))
        hs.append(h)
        cs.append(c)
    return torch.stack(hs), torch.stack(cs)


_ONEDNN_OK: bool | None = None  # checked on first use


def _onednn_packing_works() -> bool:
    """Whether this build packs a weight for oneDNN's matmul and multiplies with it correctly."""
    global _ONEDNN_OK
    if _ONEDNN_OK is None:
        try:
            w, a, b = torch.randn(8, 4), torch.randn(3, 4), torch.randn(3, 8)
            packed = torch.ops.mkldnn._reorder_linear_weight(w, 3)
            out = torch.ops.mkldnn._linear_pointwise.binary(a, b, packed, None, "add")
            plain = torch.ops.mkldnn._linear_pointwise(a, packed, None, "none", [], "")  # the overload backward uses
            _ONEDNN_OK = (bool(torch.backends.mkldnn.is_available())
                          and torch.allclose(out, torch.addmm(b, a, w.t()), atol=1e-5)
                          and torch.allclose(plain, a @ w.t(), atol=1e-5))
        except Exception:  # no oneDNN in this build, or the private op changed: plain addmm
            _ONEDNN_OK = False
    return _ONEDNN_OK


class RecurrentMatmul:
    """``add + a @ weight.T`` for one weight reused at every step of a recurrence.

    At batch 20 the per-step product is a skinny matmul; on CPU, oneDNN with the weight packed
    once per sequence runs it about 1.8x faster than ``addmm`` at H = 650. Packing costs about
    as much as the speed-up saves at H = 200, so small weights (under ``PACK_MIN_WEIGHT``
    elements) keep ``addmm``, as do other devices and dtypes and builds without oneDNN.
    """

    PACK_MIN_WEIGHT = 4 * 400 * 400

    def __init__(self, weight: torch.Tensor, batch_size: int):
        self.weight = weight
        use_onednn = (weight.device.type == "cpu" and weight.dtype == torch.float32
                      and weight.numel() >= self.PACK_MIN_WEIGHT and _onednn_packing_works())
        self.packed = torch.ops.mkldnn._reorder_linear_weight(weight.contiguous(), batch_size) if use_onednn else None

    def __call__(self, a: torch.Tensor, add: torch.Tensor | None = None) -> torch.Tensor:
        if self.packed is None:
            return a @ self.weight.t() if add is None else torch.addmm(add, a, self.weight.t())
        a = a.contiguous()
        if add is None:
            return torch.ops.mkldnn._linear_pointwise(a, self.packed, None, "none", [], "")
        return torch.ops.mkldnn._linear_pointwise.binary(a, add.contiguous(), self.packed, None, "add")


class LSTMRecurrence(torch.autograd.Function):
    """The recurrence of one LSTM layer with a hand-written backward.

    The forward loop computes what :func:`lstm_step` computes (a test holds them equal) with as
    few kernels per step as possible: one matmul, one sigmoid over all four gates (tanh then
    overwrites g), and results written in place into the (T, B, .) buffers.

    Backward through time, per step (``a`` = pre-activation gates)::

        dh~ = dh_t (1 - d^h);        dc~ = dc_t (1 - d^c) + dh~ o (1 - tanh^2 c~)
        da_o = dh~ tanh(c~) o (1-o);  da_i = dc~ g i (1-i);  da_f = dc~ c'_{t-1} f (1-f);  da_g = dc~ i (1-g^2)
        dh_{t-1} = (da W_hh) * m^h_t + dh_t d^h;      dc_{t-1} = dc~ f * m^c_t + dc_t d^c

    The factors that multiply ``dc~`` and ``dh~`` do not depend on the incoming gradient, so they
    are computed for all T steps at once before the loop, which is left with a handful of
    kernels per step. After the loop ``dW_hh = sum_t da_t^T (m^h_t * h_{t-1})`` is a single
    matmul over all T*B rows, instead of T small ones accumulated by autograd.
    """

    @staticmethod
    def forward(ctx, xp, w_hh, h0, c0, mh, mc, zh, zc):
        steps, (batch, hidden) = xp.size(0), h0.shape
        gates_of = RecurrentMatmul(w_hh, batch)  # gates_of(h, xp_t) = xp_t + h W_hh^T
        acts = torch.empty_like(xp)  # sigma(i), sigma(f), tanh(g), sigma(o) of every step
        hs, cs, tcs = (xp.new_empty(steps, batch, hidden) for _ in range(3))
        g_slice = slice(2 * hidden, 3 * hidden)
        h, c = h0, c0
        for t in range(steps):
            gates = gates_of(h if mh is None else h * mh[t], xp[t])
            a = acts[t]
            torch.sigmoid(gates, out=a)
            torch.tanh(gates[:, g_slice], out=a[:, g_slice])
            i, f, g, o = a.chunk(4, 1)
            f_c = f * (c if mc is None else c * mc[t])
            if zc is None:
                c_new = torch.addcmul(f_c, i, g, out=cs[t])
            else:  # zoneout: c_t = d^c c_{t-1} + (1 - d^c) c~
                c_new = torch.addcmul(f_c, i, g)
                torch.lerp(c_new, c, zc[t], out=cs[t])
            tc = torch.tanh(c_new, out=tcs[t])
            if zh is None:
                torch.mul(o, tc, out=hs[t])
            else:
                torch.lerp(o * tc, h, zh[t], out=hs[t])
            h, c = hs[t], cs[t]
        ctx.save_for_backward(w_hh, h0, c0, hs, cs, acts, tcs, mh, mc, zh, zc)
        return hs, h.clone(), c.clone()

    @staticmethod
    def backward(ctx, d_hs, d_h, d_c):
        w_hh, h0, c0, hs, cs, acts, tcs, mh, mc, zh, zc = ctx.saved_tensors
        steps, batch, hidden = hs.shape
        # What each step saw, and the gradient-independent factors, for all T steps at once.
        h_in = torch.cat((h0[None], hs[:-1]))
        c_in = torch.cat((c0[None], cs[:-1]))
        h_in = h_in if mh is None else h_in * mh
        c_in = c_in if mc is None else c_in * mc
        i, f, g, o = acts.chunk(4, 2)
        factors = torch.cat((g * i * (1 - i), c_in * f * (1 - f), i * (1 - g * g), tcs * o * (1 - o)), 2)
        factors = factors.view(steps, batch, 4, hidden)
        d_tanh_c = o * (1 - tcs * tcs)
        f_back = f if mc is None else f * mc
        zh_off = None if zh is None else 1 - zh  # zoneout: the share of each unit that updates
        zc_off = None if zc is None else 1 - zc
        back_of = RecurrentMatmul(w_hh.t(), batch)  # back_of(da) = da W_hh

        d_gates = torch.empty_like(acts)
        d_gates4 = d_gates.view(steps, batch, 4, hidden)
        dh, dc = d_h + d_hs[-1], d_c
        for t in reversed(range(steps)):
            dh_new = dh if zh is None else dh * zh_off[t]
            dc_new = dc if zc is None else dc * zc_off[t]
            dc_new = torch.addcmul(dc_new, dh_new, d_tanh_c[t])
            torch.mul(factors[t, :, :3], dc_new[:, None], out=d_gates4[t, :, :3])  # da_i, da_f, da_g
            torch.mul(factors[t, :, 3], dh_new, out=d_gates4[t, :, 3])  # da_o
            dh_prev = back_of(d_gates[t])
            if mh is not None:
                dh_prev = dh_prev * mh[t]
            if zh is not None:
                dh_prev = torch.addcmul(dh_prev, dh, zh[t])
            dc_prev = dc_new * f_back[t]
            if zc is not None:
                dc_prev = torch.addcmul(dc_prev, dc, zc[t])
            if t > 0:
                dh_prev = dh_prev + d_hs[t - 1]
            dh, dc = dh_prev, dc_prev
        d_w = (h_in.reshape(-1, hidden).t() @ d_gates.view(-1, 4 * hidden)).t()  # this order: ~20% faster on CPU
        return d_gates, d_w, dh, dc, None, None, None, None


class LSTMLM(nn.Module):
    """Embedding -> L LSTM layers -> linear softmax, with dropout placed by ``scheme``.

    ``forward(tokens (T, B), state) -> (logits (T, B, V), new_state)``; with
    ``return_states=True`` also a dict of every step's ``h`` and ``c``, each
    ``(L, T, B, H)``, computed through autograd so analysis code can differentiate them.
    """

    def __init__(self, vocab_size: int, hidden_size: int = 200, num_layers: int = 2,
                 scheme: str = "zaremba", dropout: float = 0.0, recurrent_dropout: float | None = None,
                 zoneout_h: float = 0.05, zoneout_c: float = 0.5, init_scale: float = 0.1,
                 tie_weights: bool = False):
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
            "recurrent_dropout", self.dropout if recurrent_dropout is None else recurrent_dropout)
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

    # -- state ---------------------------------------------------------------
    def init_state(self, batch_size: int) -> State:
        w = self.decoder.weight
        return [(w.new_zeros(batch_size, self.hidden_size), w.new_zeros(batch_size, self.hidden_size))
                for _ in range(self.num_layers)]

    @staticmethod
    def detach_state(state: State) -> State:
        return [(h.detach(), c.detach()) for h, c in state]

    # -- dropout -------------------------------------------------------------
    def drop_nonrecurrent(self, x: torch.Tensor) -> torch.Tensor:
        """Non-recurrent dropout: fresh mask per element (so per step), or one per sequence."""
        if not self.training or self.dropout == 0:
            return x
        shape = (1, *x.shape[1:]) if self.scheme == "variational" else x.shape
        return x * dropout_mask(shape, self.dropout, x)

    def step_masks(self, like: torch.Tensor) -> StepMasks:
        """Masks on h_{t-1} / c_{t-1} / zoneout for one layer; ``like`` is (T, B, H)."""
        return recurrence_masks(self.scheme, like, self.recurrent_dropout, self.zoneout_h, self.zoneout_c,
                                self.training)

    def recurrent_weight(self, layer: nn.LSTM) -> torch.Tensor:
        w = layer.weight_hh_l0
        if self.scheme == "weight_drop" and self.training and self.recurrent_dropout > 0:
            w = w * dropout_mask(w.shape, self.recurrent_dropout, w)  # DropConnect, once per forward
        return w

    # -- forward -------------------------------------------------------------
    def forward(self, tokens: torch.Tensor, state: State | None = None, return_states: bool = False):
        if state is None:
            state = self.init_state(tokens.size(1))
        x = self.drop_nonrecurrent(self.embedding(tokens))
        fused = self.scheme in FUSED_SCHEMES and not return_states
        new_state, h_all, c_all = [], [], []
        for layer, (h0, c0) in zip(self.layers, state):
            # The LSTM layers stay in fp32 under bf16 autocast (errors would compound over time);
            # autocast speeds up the softmax layer, the bulk of the FLOPs at the paper's sizes.
            with torch.autocast(device_type=x.device.type, enabled=False):
                x = x.float()
                if fused:  # nn.LSTM's fused kernel, with W_hh as the scheme has it
                    w_hh = self.recurrent_weight(layer)
                    if w_hh is layer.weight_hh_l0:
                        x, (h, c) = layer(x, (h0[None], c0[None]))
                    else:  # weight_drop: the same module call with its DropConnect'ed W_hh swapped in
                        x, (h, c) = torch.func.functional_call(layer, {"weight_hh_l0": w_hh}, (x, (h0[None], c0[None])))
                    h, c = h[0], c[0]
                else:
                    xp = F.linear(x, layer.weight_ih_l0, layer.bias_ih_l0 + layer.bias_hh_l0)
                    masks = self.step_masks(x)
                    w_hh = self.recurrent_weight(layer)
                    if return_states:
                        hs, cs = lstm_recurrence_autograd(xp, w_hh, h0, c0, masks)
                        h_all.append(hs)
                        c_all.append(cs)
                        x, h, c = hs, hs[-1], cs[-1]
                    else:
                        x, h, c = LSTMRecurrence.apply(xp, w_hh, h0, c0, masks.h, masks.c, masks.zh, masks.zc)
            new_state.append((h, c))
            x = self.drop_nonrecurrent(x)
        logits = self.decoder(x)
        if return_states:
            return logits, new_state, {"h": torch.stack(h_all), "c": torch.stack(c_all)}
        return logits, new_state

    # -- bookkeeping ---------------------------------------------------------
    def num_parameters(self, exclude_embedding: bool = False) -> int:
        """Distinct parameters; ``exclude_embedding`` leaves out an untied input embedding."""
        params = {id(p): p for p in self.parameters()}
        if exclude_embedding and self.decoder.weight is not self.embedding.weight:
            del params[id(self.embedding.weight)]
        return sum(p.numel() for p in params.values())
