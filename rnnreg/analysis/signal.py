r"""Chapter 03's science: how much of a signal survives repeated dropout, in theory (``n`` independent
inverted-dropout masks of rate p: relative variance ``(1 - p)^{-n} - 1``), in simulation (a linear RNN,
one LSTM layer) and in trained LSTMs (their Jacobian, their use of context)."""

from __future__ import annotations

import math
from collections import namedtuple

import torch

from ..model import SCHEMES, dropout_mask, lstm_step, recurrence_masks
from . import schemes

#: Schemes with dropout somewhere (``none`` has no masks at all: infinite SNR).
DROPOUT_SCHEMES = tuple(s for s in SCHEMES if s != "none")


def relative_variance(p: float, n_masks) -> torch.Tensor:
    """Var[y]/E[y]^2 of a unit after ``n_masks`` independent inverted-dropout masks of rate p."""
    return (1 - p) ** (-torch.as_tensor(n_masks, dtype=torch.float64)) - 1


def distinct_masks(scheme: str, lag, num_layers: int = 2, path: str | None = None) -> torch.Tensor:
    """Per lag (shaped like ``lag``): the independent masks from the input at t-k to the softmax at t,
    :func:`rnnreg.analysis.schemes.masks_on_path`'s ``"distinct"`` count."""
    lags = torch.as_tensor(lag, dtype=torch.float64)
    counts = [schemes.masks_on_path(scheme, num_layers, int(k), path)["distinct"] for k in lags.reshape(-1).tolist()]
    return torch.tensor(counts, dtype=torch.float64).reshape(lags.shape)


def recurrent_masks(scheme: str, lag, path: str = "h") -> torch.Tensor:
    """Independent masks on the recurrent ``path`` of one layer over ``lag`` steps."""
    return distinct_masks(scheme, lag, 1, path) - distinct_masks(scheme, 0, 1, path)


def analytic_curves(scheme: str, p: float, lags, num_layers: int = 2) -> dict:
    """Per lag: masks met, relative variance, SNR (its inverse) and the fraction of units untouched."""
    lags = torch.as_tensor(lags, dtype=torch.float64)
    n = distinct_masks(scheme, lags, num_layers)
    rv = relative_variance(p, n)
    return dict(lag=lags, masks=n, relative_variance=rv, snr=1 / rv, untouched=(1 - p) ** n)


#: A Monte-Carlo estimate per lag with its standard error.
Estimate = namedtuple("Estimate", "lag mean stderr")


def _ratio_estimate(deltas: torch.Tensor, groups: int = 20) -> Estimate:
    """Relative variance ``E||d - E d||^2 / ||E d||^2`` per lag of ``deltas`` (lags, samples, hidden),
    its standard error from ``groups`` batch means."""

    def estimate(d):
        mean = d.mean(1)
        return ((d - mean[:, None]) ** 2).sum(-1).mean(1) / (mean**2).sum(-1).clamp_min(1e-300)

    parts = torch.stack([estimate(chunk) for chunk in deltas.chunk(groups, dim=1)])
    lags = torch.arange(len(deltas), dtype=torch.float64)
    return Estimate(lags, estimate(deltas), parts.std(0) / math.sqrt(groups))


def simulate_linear(scheme, p, max_lag, hidden=64, samples=4000, mixing="orthogonal", seed=0) -> Estimate:
    """Relative variance of ``h_k`` in ``h_t = W D_t(h_{t-1})`` over mask draws, from a unit vector; ``W``
    random orthogonal (``mixing="orthogonal"``: units mix) or ``"identity"``. Fresh masks give
    ``(1 - p)^{-k} - 1`` either way (orthogonal W keeps the energy); a shared one ``p / (1 - p)`` only
    without mixing."""
    if mixing not in ("orthogonal", "identity"):
        raise ValueError(f"mixing must be 'orthogonal' or 'identity', got {mixing!r}")
    g = torch.Generator().manual_seed(seed)
    w = torch.eye(hidden, dtype=torch.float64)
    if mixing == "orthogonal":
        q, r = torch.linalg.qr(torch.randn(hidden, hidden, generator=g, dtype=torch.float64))
        w = q * torch.sign(torch.diagonal(r))
    h0 = torch.randn(hidden, generator=g, dtype=torch.float64)
    h = (h0 / h0.norm()).expand(samples, hidden).clone()
    draw = lambda: (torch.rand(samples, hidden, generator=g, dtype=torch.float64) >= p).double() / (1 - p)
    shared, states = draw(), [h]
    for _ in range(max_lag):
        if scheme == "everywhere":
            h = h * draw()
        elif scheme == "variational":
            h = h * shared
        h = h @ w.t()
        states.append(h)
    return _ratio_estimate(torch.stack(states))


def simulate_lstm(scheme, p, max_lag, hidden=32, samples=1000, init_scale=0.5, eps=1e-3, seed=0) -> dict:
    """Follow a perturbation of the input at step 0 through one random LSTM layer (weights
    U(-init_scale, init_scale)) with a scheme's masks (zoneout keeps h/c with 0.05/0.5). Returns the
    relative variance of the response of ``h`` and of ``c`` per lag (Estimates) and ``response_norm``,
    ``E||dh_k|| / E||dh_0||`` (how much of the input still moves the state)."""
    g = torch.Generator().manual_seed(seed)
    w_ih, w_hh = ((torch.rand(4 * hidden, hidden, generator=g, dtype=torch.float64) * 2 - 1) * init_scale for _ in "ih")
    torch.manual_seed(seed)  # the masks are drawn from the global generator, as in training
    x = torch.randn(max_lag + 1, hidden, generator=g, dtype=torch.float64)
    v = torch.randn(hidden, generator=g, dtype=torch.float64)
    masks = recurrence_masks(scheme, torch.zeros(max_lag + 1, samples, hidden, dtype=torch.float64), p, 0.05, 0.5)
    shape = (samples, *w_hh.shape)  # weight_drop (DropConnect): one W_hh mask per sample (per sequence)
    w_rec = w_hh * dropout_mask(shape, p, w_hh) if scheme == "weight_drop" else w_hh.expand(shape)
    runs = []
    for shift in (0.0, eps):
        h = c = torch.zeros(samples, hidden, dtype=torch.float64)
        states = []
        for t in range(max_lag + 1):
            xp = ((x[t] + (shift * v if t == 0 else 0)) @ w_ih.t()).expand(samples, -1)
            mh, mc, zh, zc = masks.at(t) if t > 0 else (None,) * 4  # the perturbation enters at t = 0
            hm = h if mh is None else h * mh
            # Per-sample recurrent weights: fold W_hh h into the input projection, then a plain step.
            xp = xp + torch.bmm(w_rec, hm.unsqueeze(-1)).squeeze(-1)
            h, c = lstm_step(xp, h, c, torch.zeros_like(w_hh), None, mc, zh, zc)
            states.append(torch.stack((h, c)))
        runs.append(torch.stack(states))  # (lags, h/c, samples, hidden)
    dh, dc = ((runs[1] - runs[0]) / eps).unbind(1)
    response_norm = dh.norm(dim=-1).mean(1) / dh[0].norm(dim=-1).mean()
    lag = torch.arange(max_lag + 1, dtype=torch.float64)
    return dict(lag=lag, response_norm=response_norm, h=_ratio_estimate(dh), c=_ratio_estimate(dc))


# -- the same numbers as small tables (pandas imported on use: the CLI loads this module) ------------
def linear_estimates(p=0.5, max_lag=8, *, schemes=("everywhere", "variational"), mixings=("orthogonal", "identity"),
                     hidden=32, samples=4000, seed=0) -> dict:  # fmt: skip
    """``{(scheme, mixing): simulate_linear(...)}``, to draw and to tabulate the same numbers."""
    return {(s, m): simulate_linear(s, p, max_lag, hidden, samples, m, seed) for s in schemes for m in mixings}


def linear_table(estimates: dict, p: float = 0.5, lags=(1, 2, 4, 8)):
    """Per (scheme, W, lag): the simulated ``mean`` and ``two_se``, the ``analytic`` recurrent-path value,
    and whether it ``agrees`` (lies within the two standard errors)."""
    import pandas as pd

    rows = {}
    for (s, m), est in estimates.items():
        for k in (k for k in lags if k < len(est.mean)):
            analytic = float(relative_variance(p, recurrent_masks(s, k)))
            mean, two_se = float(est.mean[k]), 2 * float(est.stderr[k])
            rows[s, m, k] = dict(mean=mean, two_se=two_se, analytic=analytic, agrees=abs(mean - analytic) <= two_se)
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis(["scheme", "W", "lag"])


def lstm_table(results: dict, lags=(1, 5, 10, 20)):
    """Relative variance of the h and c responses per scheme and lag (3 significant digits), from
    ``{scheme: simulate_lstm(...)}``."""
    import pandas as pd

    cell = lambda v: "0" if v < 1e-12 else f"{v:.3g}"
    rows = {s: {f"{q} k={k}": cell(float(r[q].mean[k])) for q in "hc" for k in lags} for s, r in results.items()}
    return pd.DataFrame.from_dict(rows, orient="index")


# -- measured in trained models ------------------------------------------------------------------
@torch.no_grad()
def swap_sensitivity(model, ids, max_lag=30, samples=200, warmup=20, masks=False, seed=0) -> dict:
    """How much the token at ``t - k`` still moves the state and the prediction at ``t``: in ``samples``
    random stretches of ``ids`` (``warmup`` tokens, then ``max_lag + 1``) the token at ``t - k`` is
    replaced by a random one; returns the relative change of the top layer's ``h`` and the KL divergence
    of the next-word distributions per lag. ``masks``: training mode, both runs sharing their masks."""
    was_training = model.training
    model.train(masks)
    g = torch.Generator().manual_seed(seed)
    length = warmup + max_lag + 1
    starts = torch.randint(0, len(ids) - length, (samples,), generator=g)
    base = torch.stack([ids[s : s + length] for s in starts], 1)  # (length, samples)

    def last(tokens):  # top-layer h and log-probabilities at the last step, the same masks every call
        torch.manual_seed(seed)
        logits, state = model(tokens)
        return state[-1][0], torch.log_softmax(logits[-1].double(), -1)

    h0, logp0 = last(base)
    dh, kl = [], []
    for k in range(max_lag + 1):
        swapped = base.clone()
        swapped[length - 1 - k] = torch.randint(0, model.vocab_size, (samples,), generator=g)
        h, logp = last(swapped)
        dh.append(((h - h0).norm(dim=-1) / h0.norm(dim=-1).clamp_min(1e-12)).mean())
        kl.append((logp0.exp() * (logp0 - logp)).sum(-1).mean())
    model.train(was_training)
    return {"lag": torch.arange(max_lag + 1), "relative_dh": torch.stack(dh).double(), "kl": torch.stack(kl)}


@torch.no_grad()
def context_ablation(model, ids, contexts=(1, 2, 3, 5, 10, 20, 50), positions=2000, seed=0) -> dict:
    """Perplexity of ``positions`` random targets of ``ids`` when the model reads only the ``k`` tokens
    before each (zero state before them), per ``k`` in ``contexts``: flat beyond small k = state ignored."""
    was_training = model.training
    model.eval()
    g = torch.Generator().manual_seed(seed)
    targets = torch.randint(max(contexts), len(ids) - 1, (positions,), generator=g)
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
    """``||E g||^2`` from ``M`` independent draws ``g`` (M, ..., D) without bias:
    ``(M ||mean g||^2 - mean ||g||^2) / (M - 1)`` (``||mean g||^2`` alone is high by ``tr Cov(g) / M``)."""
    m = g.size(0)
    if m < 2:
        raise ValueError(f"need at least 2 draws to separate signal from noise, got {m}")
    return (m * g.mean(0).pow(2).sum(-1) - g.pow(2).sum(-1).mean(0)) / (m - 1)


class MaskNoise(namedtuple("MaskNoise", "lag signal total fraction stderr eval_total median low high")):
    """Per lag k, means over windows: ``signal`` ``||E_mask J_k||_F^2``, ``total`` ``E_mask ||J_k||_F^2``,
    ``eval_total`` ``||J_k||_F^2`` in evaluation mode; the rest from :func:`window_statistics`."""

    def as_dict(self) -> dict:
        return {k: v.tolist() for k, v in self._asdict().items()}


def window_statistics(signal: torch.Tensor, total: torch.Tensor, resamples: int = 1000, seed: int = 0) -> dict:
    """From per-window ``signal`` and ``total`` (lags, windows): the ratio of sums ``fraction`` (1: no mask
    noise, 0: all noise; not itself unbiased) and its delta-method ``stderr``; the ``median`` of the
    windows' own fractions (robust to a few windows whose rare mask draws dominate); ``low``, ``high``:
    the 2.5 / 97.5 percentiles of ``fraction`` over ``resamples`` bootstrap draws of the windows."""
    n = signal.size(-1)
    fraction = signal.mean(-1) / total.mean(-1)
    resid = signal - fraction[:, None] * total
    pick = torch.randint(0, n, (resamples, n), generator=torch.Generator().manual_seed(seed))
    boot = signal[:, pick].sum(-1) / total[:, pick].sum(-1)  # (lags, resamples)
    low, high = torch.quantile(boot, torch.tensor([0.025, 0.975], dtype=boot.dtype), dim=-1)
    stderr = resid.std(-1) / (math.sqrt(n) * total.mean(-1))
    return dict(fraction=fraction, stderr=stderr, median=(signal / total).median(-1).values, low=low, high=high)


def mask_noise(model, ids, max_lag=30, positions=64, draws=16, warmup=35, training=True, seed=0) -> MaskNoise:
    """Signal vs mask noise in ``J_k = dh_t / dx_(t-k)`` (h: the top layer, x: the embedding before dropout),
    k = 0..``max_lag``, in ``positions`` random windows of ``ids``, each from the evaluation-mode state after
    the ``warmup`` tokens before it. A Rademacher probe ``u`` per window (``E u u^T = I``) gives
    ``E_u ||u^T J||^2 = ||J||_F^2`` from one backward pass; shared by ``draws`` mask draws (one forward pass
    each) it gives ``||E_mask J||_F^2`` without bias. Seeded; the caller's random state is left alone."""
    length = warmup + max_lag + 1
    if len(ids) < length:
        raise ValueError(f"need at least {length} tokens (warmup {warmup} + max_lag {max_lag} + 1), got {len(ids)}")
    was_training = model.training
    device = next(model.parameters()).device
    g = torch.Generator().manual_seed(seed)
    starts = torch.randint(0, len(ids) - length + 1, (positions,), generator=g)
    tokens = torch.stack([ids[s : s + length] for s in starts], 1).to(device)  # (length, positions)
    probes = (torch.randint(0, 2, (positions, model.hidden_size), generator=g) * 2 - 1).float().to(device)

    def vjp():  # u^T dh_T / dx_t for every step t of the window, k = 0 first
        x = model.embedding(tokens[warmup:]).detach().requires_grad_()  # the leaf we differentiate by
        handle = model.embedding.register_forward_hook(lambda *_: x)
        try:
            _, new_state = model(tokens[warmup:], state)
        finally:
            handle.remove()
        return torch.autograd.grad((new_state[-1][0] * probes).sum(), x)[0].double().flip(0)

    try:
        model.eval()
        state = None
        if warmup:
            with torch.no_grad():
                _, state = model(tokens[:warmup])
        eval_power = vjp().pow(2).sum(-1).mean(-1).cpu()
        model.train(training)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            grads = torch.stack([vjp() for _ in range(draws)])  # (draws, lags, positions, hidden)
    finally:
        model.train(was_training)
    signal, total = unbiased_mean_sq_norm(grads).cpu(), grads.pow(2).sum(-1).mean(0).cpu()  # (lags, positions)
    stats = window_statistics(signal, total, seed=seed)
    return MaskNoise(torch.arange(max_lag + 1), signal.mean(-1), total.mean(-1), eval_total=eval_power, **stats)
