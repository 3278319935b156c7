r"""Averaging predictions: model ensembles (Table 1's averaged rows) and MC dropout.

Table 1 averages the *probabilities* of :math:`K` models: :math:`\bar p(w_t) = \frac{1}{K} \sum_k
p_k(w_t \mid w_{<t})`, :math:`\mathrm{ppl} = \exp(-\frac{1}{N} \sum_t \log \bar p(w_t))`. Only the next word's
probability enters, so each member gives one number per token (:func:`target_log_probs`; members read the
tokens in one order: same ``batch_size`` and ``steps``). MC dropout (Gal & Ghahramani 2016) averages one
dropout model run :math:`S` times with its training masks on.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..data import batchify, windows
from ..model import LSTMLM


@torch.no_grad()
def target_log_probs(
    model: LSTMLM,
    ids: torch.Tensor,
    batch_size: int,
    steps: int,
    *,
    masks: bool = False,
    seed: int | None = None,
    device="cpu",
) -> torch.Tensor:
    """log p(next word) for every predicted token, state carried across windows (float64, flat).
    ``masks=True``: dropout masks on, drawn from ``seed`` (one MC sample); else weight scaling."""
    device = torch.device(device)
    was_training = model.training
    model.train(masks)
    if seed is not None:
        torch.manual_seed(seed)
    streams = batchify(ids, batch_size).to(device)
    state = model.init_state(batch_size)
    out = []
    for x, y in windows(streams, steps, drop_last=False):
        logits, state = model(x, state)
        logp = F.log_softmax(logits.float(), dim=-1).gather(-1, y.unsqueeze(-1)).squeeze(-1)
        out.append(logp.double().reshape(-1).cpu())
    model.train(was_training)
    return torch.cat(out)


def averaged_perplexity(log_probs: list[torch.Tensor] | torch.Tensor) -> float:
    """Perplexity of the probability average of several members' :func:`target_log_probs`."""
    if not isinstance(log_probs, torch.Tensor):
        counts = sorted({len(lp) for lp in log_probs})
        if len(counts) > 1:  # members laid out differently (batch_size, steps): not the same tokens
            raise ValueError(
                f"the members predict {' and '.join(map(str, counts))} tokens: evaluate every member "
                "with one batch_size and steps"
            )
        log_probs = torch.stack(list(log_probs))
    stacked = log_probs if log_probs.dim() == 2 else log_probs[None]
    mean_logp = torch.logsumexp(stacked, dim=0) - math.log(stacked.size(0))
    try:
        return math.exp(-mean_logp.mean().item())
    except OverflowError:  # a diverged member: an infinite perplexity, not a traceback
        return math.inf


def running_averages(log_probs: list[torch.Tensor]) -> list[float]:
    """Perplexity of the average of the first 1, 2, ..., K members."""
    return [averaged_perplexity(log_probs[:k]) for k in range(1, len(log_probs) + 1)]


def mc_dropout_log_probs(
    model: LSTMLM, ids: torch.Tensor, batch_size: int, steps: int, samples: int, seed: int = 0, device="cpu"
) -> list[torch.Tensor]:
    """``samples`` stochastic passes (masks on), each seeded ``seed + s``; average with :func:`running_averages`."""
    if samples < 1:
        raise ValueError(f"samples must be at least 1, got {samples!r}")
    sample = lambda s: target_log_probs(model, ids, batch_size, steps, masks=True, seed=seed + s, device=device)  # noqa: E731
    return [sample(s) for s in range(samples)]
