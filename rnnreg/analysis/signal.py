r"""Chapter 03's science: how much of a signal survives repeated dropout, in theory, in simulation
and in trained LSTMs. Numbers only; the drawing is in ``rnnreg.views.plots``.

**Analytic.** Inverted dropout multiplies each unit by ``m = b / (1 - p)``, ``b ~ Bernoulli(1 - p)``,
so ``E[m] = 1`` and ``E[m^2] = 1 / (1 - p)``. Through ``n`` independent masks a unit keeps its
mean, while its second moment grows to ``(1 - p)^{-n}``:

    relative variance  Var[y] / E[y]^2 = (1 - p)^{-n} - 1,        SNR = 1 / ((1 - p)^{-n} - 1),

so the signal-to-noise ratio falls exponentially in ``n`` (for large ``n``, ``SNR ~ (1 - p)^n``),
and the fraction of units through which the signal passes untouched is ``(1 - p)^n``. How many
masks a signal meets on its way from the input at step ``t - k`` to the output at step ``t`` is
what the schemes differ in (``masks_on_path``):

* ``zaremba``: ``L + 1`` (input, between layers, output), whatever the lag ``k``;
* ``everywhere``: ``L + 1 + k``, one fresh mask on ``h`` per step travelled (in an LSTM only on
  the ``h`` path: the cell path ``c`` carries the signal past them, see chapter 03);
* ``memory``: ``L + 1 + k`` on the cell path (the ``h`` path is free instead);
* ``variational``/``weight_drop``: one mask per sequence, so the recurrent path adds one mask
  whatever ``k``: applying the same mask again removes nothing new (``m^k`` is 0 or a constant,
  and its relative variance is that of one mask), the loss is a fixed subset of units;
* ``zoneout``: no zeroing on the recurrent path (a stochastic identity): ``L + 1``.

**Simulated.** ``simulate_linear`` runs the recurrence ``h_t = W D_t(h_{t-1})`` with an orthogonal
``W``: orthogonality keeps ``||E h_t|| = ||h_0||`` and each fresh mask multiplies the expected
energy by ``1/(1 - p)``, so the estimate must match the analytic curve exactly in expectation.
``simulate_tanh`` and ``simulate_lstm`` follow a perturbation of the input at step 0 through a
tanh RNN and through the library's own LSTM step (``rnnreg.model.lstm_step``) with every scheme's
masks, where no closed form exists.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..model import dropout_mask, lstm_step, recurrence_masks
from . import schemes


def relative_variance(p: float, n_masks) -> torch.Tensor:
    """Var[y]/E[y]^2 of a unit after ``n_masks`` independent inverted-dropout masks of rate p."""
    n = torch.as_tensor(n_masks, dtype=torch.float64)
    return (1 - p) ** (-n) - 1


def snr(p: float, n_masks) -> torch.Tensor:
    """Signal-to-noise ratio E[y]^2/Var[y] (infinite without masks)."""
    return 1 / relative_variance(p, n_masks)


def masks_on_path(scheme: str, lag, num_layers: int = 2, path: str | None = None) -> torch.Tensor:
    """Independent masks a signal meets from the input at t-k to the softmax at t, per lag: L+1
    non-recurrent ones (none for ``none``) plus those on the recurrent ``path`` (``"h"`` through
    ``W_hh h_{t-1}``, ``"c"`` along the cell, ``None``: whichever the scheme masks, as chapter 02
    counts). Counted from each scheme's sites by
    :func:`rnnreg.analysis.schemes.masks_on_path` (distinct masks: a mask reused at every step counts once)."""
    lags = torch.as_tensor(lag, dtype=torch.float64)
    counts = [schemes.masks_on_path(scheme, num_layers, int(k), path)["distinct"] for k in lags.reshape(-1).tolist()]
    return torch.tensor(counts, dtype=torch.float64).reshape(lags.shape)


def recurrent_masks(scheme: str, lag, path: str = "h") -> torch.Tensor:
    """Independent masks on the recurrent ``path`` of one layer over ``lag`` steps."""
    return masks_on_path(scheme, lag, 1, path) - masks_on_path(scheme, 0, 1, path)


def analytic_curves(scheme: str, p: float, lags, num_layers: int = 2, path: str | None = None) -> dict:
    """For each lag: masks met, relative variance, SNR and the fraction of units left untouched."""
    lags = torch.as_tensor(lags, dtype=torch.float64)
    n = masks_on_path(scheme, lags, num_layers, path)
    return {"lag": lags, "masks": n, "relative_variance": relative_variance(p, n), "snr": snr(p, n),
            "untouched": (1 - p) ** n}


@dataclass
class Estimate:
    """Monte-Carlo estimate per lag with its standard error."""

    lag: torch.Tensor
    mean: torch.Tensor
    stderr: torch.Tensor

    def within(self, reference: torch.Tensor, sigmas: float = 3.0) -> torch.Tensor:
        return (self.mean - reference).abs() <= sigmas * self.stderr + 1e-12


def random_orthogonal(n: int, generator: torch.Generator) -> torch.Tensor:
    q, r = torch.linalg.qr(torch.randn(n, n, generator=generator, dtype=torch.float64))
    return q * torch.sign(torch.diagonal(r))


def _recurrent_mask(scheme: str, p: float, shape, generator, shared: torch.Tensor | None):
    if scheme == "everywhere":
        return (torch.rand(shape, generator=generator, dtype=torch.float64) >= p).double() / (1 - p)
    if scheme == "variational":
        return shared
    return None


def simulate_linear(scheme: str, p: float, max_lag: int, hidden: int = 64, samples: int = 4000,
                    mixing: str = "orthogonal", seed: int = 0) -> Estimate:
    """Relative variance of ``h_k`` in ``h_t = W D_t(h_{t-1})`` over mask draws.

    ``W`` is a random orthogonal matrix (``mixing="orthogonal"``: every unit feeds every unit) or
    the identity (``"identity"``: each unit feeds only itself). The estimate is
    ``E||h_k - E h_k||^2 / ||E h_k||^2`` over mask draws. The analytic value for ``everywhere`` is
    ``(1 - p)^{-k} - 1`` either way (orthogonal W keeps energy, each fresh mask multiplies it by
    ``1/(1 - p)``); for ``variational`` it is one mask's ``p / (1 - p)`` only without mixing: a
    shared mask re-applied after W has mixed the units keeps removing signal.
    """
    if mixing not in ("orthogonal", "identity"):
        raise ValueError(f"mixing must be 'orthogonal' or 'identity', got {mixing!r}")
    g = torch.Generator().manual_seed(seed)
    w = random_orthogonal(hidden, g) if mixing == "orthogonal" else torch.eye(hidden, dtype=torch.float64)
    h0 = torch.randn(hidden, generator=g, dtype=torch.float64)
    h0 = h0 / h0.norm()
    h = h0.expand(samples, hidden).clone()
    shared = (torch.rand(samples, hidden, generator=g, dtype=torch.float64) >= p).double() / (1 - p)
    states = [h]
    for _ in range(max_lag):
        mask = _recurrent_mask(scheme, p, (samples, hidden), g, shared)
        h = (h if mask is None else h * mask) @ w.t()
        states.append(h)
    mean, err = _ratio_estimate(torch.stack(states))
    return Estimate(torch.arange(max_lag + 1, dtype=torch.float64), mean, err)


def _ratio_estimate(deltas: torch.Tensor, groups: int = 20) -> tuple[torch.Tensor, torch.Tensor]:
    """Relative variance ``E||d - E d||^2 / ||E d||^2`` per lag, error from ``groups`` batch means.

    ``deltas`` is (lags, samples, hidden).
    """
    def estimate(d):
        mean = d.mean(1)
        return ((d - mean[:, None]) ** 2).sum(-1).mean(1) / (mean**2).sum(-1).clamp_min(1e-300)

    full = estimate(deltas)
    parts = torch.stack([estimate(chunk) for chunk in deltas.chunk(groups, dim=1)])
    return full, parts.std(0) / math.sqrt(groups)


def simulate_tanh(scheme: str, p: float, max_lag: int, hidden: int = 64, samples: int = 2000, gain: float = 1.0,
                  eps: float = 1e-3, seed: int = 0) -> Estimate:
    """A tanh RNN ``h_t = tanh(W D_t(h_{t-1}) + x_t)``: follow a perturbation of ``x_0`` to lag k.

    Returns the relative variance of the response ``(h_k(x_0 + eps v) - h_k(x_0)) / eps`` over mask
    draws (the same masks for both runs), the quantity the analytic curve describes.
    """
    g = torch.Generator().manual_seed(seed)
    w = gain * random_orthogonal(hidden, g)
    x0 = torch.randn(hidden, generator=g, dtype=torch.float64)
    v = torch.randn(hidden, generator=g, dtype=torch.float64)
    xs = 0.5 * torch.randn(max_lag + 1, hidden, generator=g, dtype=torch.float64)
    shared = (torch.rand(samples, hidden, generator=g, dtype=torch.float64) >= p).double() / (1 - p)
    a = torch.tanh(x0).expand(samples, hidden).clone()
    b = torch.tanh(x0 + eps * v).expand(samples, hidden).clone()
    deltas = [(b - a) / eps]
    for t in range(1, max_lag + 1):
        mask = _recurrent_mask(scheme, p, (samples, hidden), g, shared)
        if mask is not None:
            a, b = a * mask, b * mask
        a, b = torch.tanh(a @ w.t() + xs[t]), torch.tanh(b @ w.t() + xs[t])
        deltas.append((b - a) / eps)
    mean, err = _ratio_estimate(torch.stack(deltas))
    return Estimate(torch.arange(max_lag + 1, dtype=torch.float64), mean, err)


def simulate_lstm(scheme: str, p: float, max_lag: int, hidden: int = 32, samples: int = 1000,
                  init_scale: float = 0.5, weights: tuple[torch.Tensor, torch.Tensor] | None = None,
                  zoneout: tuple[float, float] = (0.05, 0.5), eps: float = 1e-3, seed: int = 0) -> dict:
    """Follow a perturbation of the input at step 0 through one LSTM layer with a scheme's masks.

    ``weights``: ``(W_ih (4H, H), W_hh (4H, H))`` of a trained layer, else U(-init_scale, init_scale).
    Returns relative variance of the response of ``h`` and of ``c`` per lag (Estimates) and the
    mean response norm ``E||dh_k||`` (how much of the input still moves the state).
    """
    g = torch.Generator().manual_seed(seed)
    if weights is None:
        w_ih = (torch.rand(4 * hidden, hidden, generator=g, dtype=torch.float64) * 2 - 1) * init_scale
        w_hh = (torch.rand(4 * hidden, hidden, generator=g, dtype=torch.float64) * 2 - 1) * init_scale
    else:
        w_ih, w_hh = (w.detach().double() for w in weights)
        hidden = w_hh.size(1)
    torch.manual_seed(seed)  # the masks are drawn from the global generator, as in training
    x = torch.randn(max_lag + 1, hidden, generator=g, dtype=torch.float64)
    v = torch.randn(hidden, generator=g, dtype=torch.float64)
    like = torch.zeros(max_lag + 1, samples, hidden, dtype=torch.float64)
    masks = recurrence_masks(scheme, like, p, *zoneout)
    if scheme == "weight_drop":  # DropConnect: one W_hh mask per sample (per sequence)
        w_rec = w_hh * dropout_mask((samples, *w_hh.shape), p, w_hh)
    else:
        w_rec = w_hh.expand(samples, *w_hh.shape)
    states = []
    for shift in (0.0, eps):
        h = c = torch.zeros(samples, hidden, dtype=torch.float64)
        hs, cs = [], []
        for t in range(max_lag + 1):
            xp = ((x[t] + (shift * v if t == 0 else 0)) @ w_ih.t()).expand(samples, -1)
            mh, mc, zh, zc = masks.at(t) if t > 0 else (None,) * 4  # the perturbation enters at t = 0
            hm = h if mh is None else h * mh
            # Per-sample recurrent weights: fold W_hh h into the input projection, then a plain step.
            xp = xp + torch.bmm(w_rec, hm.unsqueeze(-1)).squeeze(-1)
            h, c, _ = lstm_step(xp, h, c, torch.zeros_like(w_hh), None, mc, zh, zc)
            hs.append(h)
            cs.append(c)
        states.append((torch.stack(hs), torch.stack(cs)))
    dh = (states[1][0] - states[0][0]) / eps
    dc = (states[1][1] - states[0][1]) / eps
    lags = torch.arange(max_lag + 1, dtype=torch.float64)
    out = {"lag": lags, "response_norm": dh.norm(dim=-1).mean(1) / dh[0].norm(dim=-1).mean()}
    for name, d in (("h", dh), ("c", dc)):
        mean, err = _ratio_estimate(d)
        out[name] = Estimate(lags, mean, err)
    return out


# -- measured in trained models ------------------------------------------------------------------

def _forward_last(model, tokens: torch.Tensor, seed: int | None):
    """Top-layer h and log-probabilities at the last step; ``seed`` fixes the dropout masks."""
    if seed is not None:
        torch.manual_seed(seed)
    logits, state = model(tokens)
    return state[-1][0], torch.log_softmax(logits[-1].double(), -1)


@torch.no_grad()
def swap_sensitivity(model, ids: torch.Tensor, max_lag: int = 30, samples: int = 200, warmup: int = 20,
                     masks: bool = False, seed: int = 0) -> dict:
    """How much the token at ``t - k`` still moves the state and the prediction at ``t``.

    For ``samples`` random stretches of ``ids`` (``warmup`` tokens, then ``max_lag + 1``), the token
    at ``t - k`` is replaced by a random one and the change at ``t`` is measured: the relative change
    of the top layer's ``h`` and the KL divergence between the next-word distributions. With
    ``masks=True`` the model runs in training mode and both runs share the same dropout masks
    (what training sees); else in evaluation mode (what the trained model does).
    """
    was_training = model.training
    model.train(masks)
    g = torch.Generator().manual_seed(seed)
    length = warmup + max_lag + 1
    starts = torch.randint(0, len(ids) - length, (samples,), generator=g)
    base = torch.stack([ids[s: s + length] for s in starts], 1)  # (length, samples)
    h0, logp0 = _forward_last(model, base, seed)
    dh, kl = [], []
    for k in range(max_lag + 1):
        swapped = base.clone()
        pos = length - 1 - k
        swapped[pos] = torch.randint(0, model.vocab_size, (samples,), generator=g)
        h, logp = _forward_last(model, swapped, seed)
        dh.append(((h - h0).norm(dim=-1) / h0.norm(dim=-1).clamp_min(1e-12)).mean())
        kl.append((logp0.exp() * (logp0 - logp)).sum(-1).mean())
    model.train(was_training)
    return {"lag": torch.arange(max_lag + 1), "relative_dh": torch.stack(dh).double(), "kl": torch.stack(kl)}


@torch.no_grad()
def context_ablation(model, ids: torch.Tensor, contexts=(1, 2, 3, 5, 10, 20, 50), positions: int = 2000,
                     seed: int = 0) -> dict:
    """Perplexity when the model sees only the last ``k`` tokens (zero state before them).

    Targets are ``positions`` random tokens of ``ids``; for each context length ``k`` the model
    reads ``ids[t-k+1 .. t]`` from a zero state and predicts ``ids[t+1]``. If a model has learned to
    ignore its hidden state, its curve is flat beyond small k.
    """
    was_training = model.training
    model.eval()
    g = torch.Generator().manual_seed(seed)
    longest = max(contexts)
    targets = torch.randint(longest, len(ids) - 1, (positions,), generator=g)
    ppl = []
    for k in contexts:
        inputs = torch.stack([ids[t - k + 1: t + 1] for t in targets], 1)  # (k, positions)
        logits, _ = model(inputs)
        nll = torch.nn.functional.cross_entropy(logits[-1].double(), ids[targets + 1], reduction="mean")
        ppl.append(math.exp(nll.item()))
    model.train(was_training)
    return {"context": torch.tensor(contexts), "ppl": torch.tensor(ppl, dtype=torch.float64)}
