r"""Chapter 03's science: how much of a signal survives repeated dropout, in theory, in simulation
and in trained LSTMs. Numbers and small tables only; the drawing is in ``rnnreg.views.signal``.

**Analytic.** Inverted dropout multiplies each unit by ``m = b / (1 - p)``, ``b ~ Bernoulli(1 - p)``,
so ``E[m] = 1`` and ``E[m^2] = 1 / (1 - p)``. Through ``n`` independent masks a unit keeps its
mean, while its second moment grows to ``(1 - p)^{-n}``:

    relative variance  Var[y] / E[y]^2 = (1 - p)^{-n} - 1,        SNR = 1 / ((1 - p)^{-n} - 1),

so the signal-to-noise ratio falls exponentially in ``n`` (for large ``n``, ``SNR ~ (1 - p)^n``),
and the fraction of units through which the signal passes untouched is ``(1 - p)^n``. How many
masks a signal meets on its way from the input at step ``t - k`` to the output at step ``t`` is
what the schemes differ in (:func:`distinct_masks`):

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

from ..model import SCHEMES, dropout_mask, lstm_step, recurrence_masks
from . import schemes

__all__ = [
    "DROPOUT_SCHEMES", "Estimate", "LSTMFindings", "MaskNoise", "analytic_curves", "analytic_table",
    "context_ablation", "distinct_masks", "linear_estimates", "linear_findings", "linear_table", "lstm_findings",
    "lstm_results", "lstm_table", "mask_noise", "recurrent_masks", "relative_variance", "simulate_linear",
    "simulate_lstm", "simulate_tanh", "snr", "swap_sensitivity", "unbiased_mean_sq_norm",
]  # fmt: skip

#: Schemes with dropout somewhere (``none`` has no masks at all: infinite SNR).
DROPOUT_SCHEMES = tuple(s for s in SCHEMES if s != "none")


def relative_variance(p: float, n_masks) -> torch.Tensor:
    """Var[y]/E[y]^2 of a unit after ``n_masks`` independent inverted-dropout masks of rate p."""
    n = torch.as_tensor(n_masks, dtype=torch.float64)
    return (1 - p) ** (-n) - 1


def snr(p: float, n_masks) -> torch.Tensor:
    """Signal-to-noise ratio E[y]^2/Var[y] (infinite without masks)."""
    return 1 / relative_variance(p, n_masks)


def distinct_masks(scheme: str, lag, num_layers: int = 2, path: str | None = None) -> torch.Tensor:
    """Independent masks a signal meets from the input at t-k to the softmax at t, per lag (a tensor
    shaped like ``lag``): the ``"distinct"`` count of :func:`rnnreg.analysis.schemes.masks_on_path`
    (a mask reused at every step counts once). ``path``: ``"h"``, ``"c"`` or None (whichever the
    scheme masks)."""
    lags = torch.as_tensor(lag, dtype=torch.float64)
    counts = [schemes.masks_on_path(scheme, num_layers, int(k), path)["distinct"] for k in lags.reshape(-1).tolist()]
    return torch.tensor(counts, dtype=torch.float64).reshape(lags.shape)


def recurrent_masks(scheme: str, lag, path: str = "h") -> torch.Tensor:
    """Independent masks on the recurrent ``path`` of one layer over ``lag`` steps."""
    return distinct_masks(scheme, lag, 1, path) - distinct_masks(scheme, 0, 1, path)


def analytic_curves(scheme: str, p: float, lags, num_layers: int = 2, path: str | None = None) -> dict:
    """For each lag: masks met, relative variance, SNR and the fraction of units left untouched."""
    lags = torch.as_tensor(lags, dtype=torch.float64)
    n = distinct_masks(scheme, lags, num_layers, path)
    return {
        "lag": lags,
        "masks": n,
        "relative_variance": relative_variance(p, n),
        "snr": snr(p, n),
        "untouched": (1 - p) ** n,
    }


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


def simulate_linear(
    scheme: str,
    p: float,
    max_lag: int,
    hidden: int = 64,
    samples: int = 4000,
    mixing: str = "orthogonal",
    seed: int = 0,
) -> Estimate:
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


def simulate_tanh(
    scheme: str,
    p: float,
    max_lag: int,
    hidden: int = 64,
    samples: int = 2000,
    gain: float = 1.0,
    eps: float = 1e-3,
    seed: int = 0,
) -> Estimate:
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


def simulate_lstm(
    scheme: str,
    p: float,
    max_lag: int,
    hidden: int = 32,
    samples: int = 1000,
    init_scale: float = 0.5,
    weights: tuple[torch.Tensor, torch.Tensor] | None = None,
    zoneout: tuple[float, float] = (0.05, 0.5),
    eps: float = 1e-3,
    seed: int = 0,
) -> dict:
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
            h, c = lstm_step(xp, h, c, torch.zeros_like(w_hh), None, mc, zh, zc)
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


# -- the same numbers as small tables and findings (pandas imported on use) ------------------------


def analytic_table(
    p: float = 0.5,
    lags=(0, 1, 5, 10, 20),
    num_layers: int = 2,
    schemes: tuple[str, ...] = DROPOUT_SCHEMES,
    quantity: str = "relative_variance",
    digits: int = 3,
):
    """Scheme x lag: masks on the path and ``quantity`` (3 significant digits) from ``analytic_curves``."""
    import pandas as pd

    rows = {}
    for s in schemes:
        c = analytic_curves(s, p, list(lags), num_layers)
        rows[s] = {f"k={k}": f"{int(n)} masks: {float(v):.{digits}g}" for k, n, v in zip(lags, c["masks"], c[quantity])}
    return pd.DataFrame.from_dict(rows, orient="index")


def linear_estimates(
    p: float = 0.5,
    max_lag: int = 8,
    *,
    schemes=("everywhere", "variational"),
    mixings=("orthogonal", "identity"),
    hidden: int = 32,
    samples: int = 4000,
    seed: int = 0,
) -> dict:
    """``{(scheme, mixing): simulate_linear(...)}``, to draw and to tabulate the same numbers."""
    return {(s, m): simulate_linear(s, p, max_lag, hidden, samples, m, seed) for s in schemes for m in mixings}


def linear_table(estimates: dict, p: float = 0.5, lags=(1, 2, 4, 8)):
    """Analytic recurrent-path value vs simulated mean ± 2 s.e., per (scheme, mixing), rounded."""
    import pandas as pd

    rows = {}
    for (s, m), est in estimates.items():
        a = relative_variance(p, recurrent_masks(s, list(lags)))
        rows[f"{s}, W {m}"] = {
            f"k={k}": f"{float(est.mean[k]):.3g} ± {2 * float(est.stderr[k]):.2g} (analytic {float(av):.3g})"
            for k, av in zip(lags, a)
            if k < len(est.mean)
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def linear_findings(estimates: dict, p: float = 0.5, lags=(1, 2, 4, 8)) -> dict:
    """The numbers chapter 03 reads off :func:`linear_table`, per ``(scheme, mixing)``: the
    simulated mean, two standard errors and the analytic recurrent-path value at each lag, and
    whether the analytic value lies within the two standard errors."""
    out = {}
    for (s, m), est in estimates.items():
        rows = {}
        for k in lags:
            if k >= len(est.mean):
                continue
            analytic = float(relative_variance(p, recurrent_masks(s, k)))
            mean, two_se = float(est.mean[k]), 2 * float(est.stderr[k])
            rows[k] = {"mean": mean, "two_se": two_se, "analytic": analytic, "agrees": abs(mean - analytic) <= two_se}
        out[(s, m)] = rows
    return out


def lstm_results(
    p: float = 0.5,
    max_lag: int = 20,
    *,
    schemes: tuple[str, ...] = DROPOUT_SCHEMES,
    hidden: int = 32,
    samples: int = 300,
    seed: int = 0,
) -> dict:
    """``{scheme: simulate_lstm(...)}``, to draw and to tabulate the same numbers."""
    return {s: simulate_lstm(s, p, max_lag, hidden, samples, seed=seed) for s in schemes}


def lstm_table(results: dict, lags=(1, 5, 10, 20)):
    """Relative variance of the h and c responses per scheme and lag (3 significant digits)."""
    import pandas as pd

    rows = {}
    for s, r in results.items():
        row = {}
        for path in ("h", "c"):
            for k in lags:
                if k < len(r[path].mean):
                    v = float(r[path].mean[k])
                    row[f"{path} k={k}"] = "0" if v < 1e-12 else f"{v:.3g}"
        rows[s] = row
    return pd.DataFrame.from_dict(rows, orient="index")


@dataclass
class LSTMFindings:
    """What :func:`lstm_table` shows, as numbers and decisions (chapter 03 words them).

    ``h``/``c``: relative variance of the response per scheme at ``lags``; ``growing``: the schemes
    whose h noise is larger at the last lag than at the first; ``not_growing``: the other schemes
    with recurrent noise; ``noise_free``: no noise on either path (``zaremba``); ``fastest_early``:
    the largest h noise at ``early``; ``slowest``: the smallest h noise at ``late``; ``formula``: the
    fresh-mask value on the recurrent path alone, ``(1-p)^(-k) - 1``, at each lag; ``response_norm``:
    mean ``||dh_k|| / ||dh_0||`` at ``norm_lag`` (how much of the perturbation is left at all).
    """

    p: float
    lags: tuple[int, ...]
    early: int
    late: int
    h: dict[str, dict[int, float]]
    c: dict[str, dict[int, float]]
    growing: list[str]
    not_growing: list[str]
    noise_free: list[str]
    fastest_early: str | None
    slowest: str | None
    formula: dict[int, float]
    norm_lag: int
    response_norm: dict[str, float]


def lstm_findings(
    results: dict, p: float, lags=(1, 5, 10, 20), early: int = 5, late: int = 10, norm_lag: int = 10
) -> LSTMFindings:
    """Read :func:`lstm_results` (``p``: the rate it was simulated at) into :class:`LSTMFindings`."""
    h = {s: {k: float(r["h"].mean[k]) for k in lags} for s, r in results.items()}
    c = {s: {k: float(r["c"].mean[k]) for k in lags} for s, r in results.items()}
    noise_free = [s for s in results if max(h[s].values()) < 1e-12 and max(c[s].values()) < 1e-12]
    noisy = [s for s in results if s not in noise_free]
    growing = [s for s in noisy if h[s][lags[-1]] > h[s][lags[0]]]
    fresh = recurrent_masks("everywhere", list(lags))
    return LSTMFindings(
        p=p,
        lags=tuple(lags),
        early=early,
        late=late,
        h=h,
        c=c,
        growing=growing,
        not_growing=[s for s in noisy if s not in growing],
        noise_free=noise_free,
        fastest_early=max(noisy, key=lambda s: float(results[s]["h"].mean[early]), default=None),
        slowest=min(noisy, key=lambda s: float(results[s]["h"].mean[late]), default=None),
        formula={k: float(v) for k, v in zip(lags, relative_variance(p, fresh))},
        norm_lag=norm_lag,
        response_norm={
            s: float(r["response_norm"][norm_lag]) for s, r in results.items() if len(r["response_norm"]) > norm_lag
        },
    )


# -- measured in trained models ------------------------------------------------------------------


def _forward_last(model, tokens: torch.Tensor, seed: int | None):
    """Top-layer h and log-probabilities at the last step; ``seed`` fixes the dropout masks."""
    if seed is not None:
        torch.manual_seed(seed)
    logits, state = model(tokens)
    return state[-1][0], torch.log_softmax(logits[-1].double(), -1)


@torch.no_grad()
def swap_sensitivity(
    model,
    ids: torch.Tensor,
    max_lag: int = 30,
    samples: int = 200,
    warmup: int = 20,
    masks: bool = False,
    seed: int = 0,
) -> dict:
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
    base = torch.stack([ids[s : s + length] for s in starts], 1)  # (length, samples)
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
def context_ablation(
    model, ids: torch.Tensor, contexts=(1, 2, 3, 5, 10, 20, 50), positions: int = 2000, seed: int = 0
) -> dict:
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
        inputs = torch.stack([ids[t - k + 1 : t + 1] for t in targets], 1)  # (k, positions)
        logits, _ = model(inputs)
        nll = torch.nn.functional.cross_entropy(logits[-1].double(), ids[targets + 1], reduction="mean")
        ppl.append(math.exp(nll.item()))
    model.train(was_training)
    return {"context": torch.tensor(contexts), "ppl": torch.tensor(ppl, dtype=torch.float64)}


# -- signal and mask noise in a trained model's Jacobian ------------------------------------------


def unbiased_mean_sq_norm(g: torch.Tensor) -> torch.Tensor:
    """Unbiased estimate of ``||E g||^2`` from ``M`` independent draws ``g`` (M, ..., D), per ``...``.

    ``||mean g||^2`` alone overestimates it by ``tr Cov(g) / M``; with ``mean ||g||^2`` as the
    estimate of ``||E g||^2 + tr Cov(g)``, ``(M ||mean g||^2 - mean ||g||^2) / (M - 1)`` is unbiased.
    """
    m = g.size(0)
    if m < 2:
        raise ValueError(f"need at least 2 draws to separate signal from noise, got {m}")
    return (m * g.mean(0).pow(2).sum(-1) - g.pow(2).sum(-1).mean(0)) / (m - 1)


def input_vjp(model, tokens: torch.Tensor, state, probes: torch.Tensor) -> torch.Tensor:
    """``u^T dh_T / dx_t`` for every step t of ``tokens`` (T, B): h_T the top layer's last hidden
    state, x_t the embedding of token t (before any dropout), u = ``probes`` (B, H). One forward
    pass in the model's current mode (training: one draw of its masks) and one backward; (T, B, H)."""
    captured = []

    def hook(module, inputs, output):
        output = output.detach().requires_grad_()
        captured.append(output)
        return output

    handle = model.embedding.register_forward_hook(hook)
    try:
        _, new_state = model(tokens, state)
    finally:
        handle.remove()
    objective = (new_state[-1][0] * probes).sum()
    (grad,) = torch.autograd.grad(objective, captured[0])
    return grad


@dataclass
class MaskNoise:
    """Per lag k: how much of ``J_k = dh_t / dx_(t-k)`` survives averaging over the masks.

    ``signal``: ``||E_mask J_k||_F^2``, ``total``: ``E_mask ||J_k||_F^2`` (both averaged over the
    positions), ``fraction = signal / total`` (1: no mask noise, 0: all noise) with its standard
    error over positions; ``eval_total``: ``||J_k||_F^2`` of the model in evaluation mode.
    """

    lag: torch.Tensor
    signal: torch.Tensor
    total: torch.Tensor
    fraction: torch.Tensor
    stderr: torch.Tensor
    eval_total: torch.Tensor

    def as_dict(self) -> dict:
        return {k: getattr(self, k).tolist() for k in ("lag", "fraction", "stderr", "signal", "total", "eval_total")}


def ratio_of_means(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``sum a / sum b`` over the last dimension and its delta-method standard error."""
    n = a.size(-1)
    r = a.mean(-1) / b.mean(-1)
    resid = a - r[..., None] * b
    return r, resid.std(-1) / (math.sqrt(n) * b.mean(-1))


def mask_noise(
    model,
    ids: torch.Tensor,
    max_lag: int = 30,
    positions: int = 64,
    draws: int = 16,
    warmup: int = 35,
    training: bool = True,
    seed: int = 0,
) -> MaskNoise:
    """Signal vs mask noise in ``dh_t / dx_(t-k)`` for k = 0..``max_lag`` (``training``: masks on).

    ``positions`` random windows of ``ids``; each starts from the model's state after reading the
    ``warmup`` tokens before it in evaluation mode (the state a window meets in training, without
    that reading's own masks), then reads ``max_lag + 1`` tokens with its training masks. For each
    window a random Rademacher probe ``u`` (``E u u^T = I``) turns the Jacobian into one
    vector-Jacobian product per forward pass: ``E_u ||u^T J||^2 = ||J||_F^2`` and, as u is shared
    by a window's ``draws`` mask draws, ``E_u ||u^T E_mask J||^2 = ||E_mask J||_F^2``, estimated
    without bias by :func:`unbiased_mean_sq_norm`. Each draw is a separate forward pass with the
    windows as its batch, so every scheme's masks are drawn as in training (``weight_drop``'s
    DropConnect mask is one per pass, shared by the batch). Seeded: the windows, the probes and
    the masks; the caller's random state is left as it was.
    """
    if draws < 2:
        raise ValueError(f"draws must be at least 2, got {draws}")
    length = warmup + max_lag + 1
    if len(ids) < length:
        raise ValueError(f"need at least {length} tokens (warmup {warmup} + max_lag {max_lag} + 1), got {len(ids)}")
    was_training = model.training
    device = next(model.parameters()).device
    g = torch.Generator().manual_seed(seed)
    starts = torch.randint(0, len(ids) - length + 1, (positions,), generator=g)
    tokens = torch.stack([ids[s : s + length] for s in starts], 1).to(device)  # (length, positions)
    probes = (torch.randint(0, 2, (positions, model.hidden_size), generator=g) * 2 - 1).float().to(device)
    try:
        model.eval()
        state = None
        if warmup:
            with torch.no_grad():
                _, state = model(tokens[:warmup])
        window = tokens[warmup:]
        eval_grad = input_vjp(model, window, state, probes).double().flip(0)  # lag order: k = 0 first
        model.train(training)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            grads = torch.stack([input_vjp(model, window, state, probes) for _ in range(draws)]).double().flip(1)
    finally:
        model.train(was_training)
    signal = unbiased_mean_sq_norm(grads)  # (lags, positions)
    total = grads.pow(2).sum(-1).mean(0)
    fraction, stderr = ratio_of_means(signal, total)
    return MaskNoise(
        torch.arange(max_lag + 1), signal.mean(-1), total.mean(-1), fraction, stderr, eval_grad.pow(2).sum(-1).mean(-1)
    )
