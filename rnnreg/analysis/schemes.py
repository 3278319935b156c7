r"""Where each dropout scheme puts its masks, as data: sites, mask kinds, and the masks themselves.

A two-layer LSTM LM unrolled over time has six connections a scheme can perturb (:data:`CONNECTION_LABELS`:
``input``, ``between``, ``output`` non-recurrent; ``h``, ``c``, ``w_hh`` recurrent) and four ways of drawing a
mask (:data:`MASK_LABELS`): ``fresh`` every step (Zaremba et al. 2014), ``shared`` per sequence (Gal &
Ghahramani 2016), ``weights`` on W_hh per forward pass (Merity et al. 2017), ``zoneout``: keep the previous
value (Krueger et al. 2016). :func:`sample_masks` draws them with the model's own methods: what training uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import torch

from ..config import Config
from ..model import LSTMLM, SCHEMES

CONNECTIONS = ("input", "between", "output", "h", "c", "w_hh")
#: The route through an LSTM layer each recurrent connection sits on: W_hh h_{t-1} or the cell.
PATH_OF = {"h": "h", "w_hh": "h", "c": "c"}
MASK_KINDS = ("fresh", "shared", "weights", "zoneout")

CONNECTION_LABELS = {
    "input": "x(t) → layer 1",
    "between": "layer 1 → layer 2",
    "output": "layer 2 → softmax",
    "h": "h(t−1) → h(t)",
    "c": "c(t−1) → c(t)",
    "w_hh": "W_hh (recurrent weights)",
}
MASK_LABELS = {
    "fresh": "fresh mask every step",
    "shared": "one mask per sequence",
    "weights": "one mask on W_hh per batch",
    "zoneout": "keep previous value (zoneout)",
}


class Site(NamedTuple):
    """One perturbed connection: where (``connection``), how (``mask``), at which rate (a Config field)."""

    connection: str
    mask: str
    rate: str

    @property
    def recurrent(self) -> bool:
        return self.connection in PATH_OF


def _nonrecurrent(mask: str) -> tuple[Site, ...]:
    return tuple(Site(c, mask, "dropout") for c in ("input", "between", "output"))


#: Every scheme of ``rnnreg.model`` and the sites it perturbs (mirrors the model's docstring).
SCHEME_SITES: dict[str, tuple[Site, ...]] = {
    "none": (),
    "zaremba": _nonrecurrent("fresh"),
    "everywhere": _nonrecurrent("fresh") + (Site("h", "fresh", "recurrent_dropout"),),
    "memory": _nonrecurrent("fresh") + (Site("c", "fresh", "recurrent_dropout"),),
    "variational": _nonrecurrent("shared") + (Site("h", "shared", "recurrent_dropout"),),
    "weight_drop": _nonrecurrent("fresh") + (Site("w_hh", "weights", "recurrent_dropout"),),
    "zoneout": _nonrecurrent("fresh") + (Site("h", "zoneout", "zoneout_h"), Site("c", "zoneout", "zoneout_c")),
}

#: Who proposed (or, for ``everywhere``, argued against) each scheme; one line each.
SCHEME_INFO: dict[str, dict[str, str]] = {
    "none": dict(title="no dropout", source="the paper's small baseline (Zaremba et al. 2014, Table 1)"),
    "zaremba": dict(
        title="Zaremba: non-recurrent only",
        source="Zaremba, Sutskever & Vinyals (2014); Gal & Ghahramani (2016) call it “naive dropout”",
    ),
    "everywhere": dict(
        title="everywhere: also h(t−1), fresh per step", source="the placement Zaremba et al. (2014) argue against"
    ),
    "memory": dict(
        title="memory: also c(t−1), fresh per step", source="the memory loss described by Semeniuta et al. (2016)"
    ),
    "variational": dict(title="variational: one mask per sequence, h(t−1) too", source="Gal & Ghahramani (2016)"),
    "weight_drop": dict(title="weight drop: DropConnect on W_hh", source="Merity et al. (2017), AWD-LSTM"),
    "zoneout": dict(title="zoneout: units keep their old value", source="Krueger et al. (2016)"),
}

assert set(SCHEME_SITES) == set(SCHEMES) == set(SCHEME_INFO), "schemes.py is out of step with model.SCHEMES"
assert all(s.connection in CONNECTIONS and s.mask in MASK_KINDS for ss in SCHEME_SITES.values() for s in ss)


def sites(scheme: str) -> tuple[Site, ...]:
    if scheme not in SCHEME_SITES:
        raise ValueError(f"unknown scheme {scheme!r}; choose one of {', '.join(SCHEMES)}")
    return SCHEME_SITES[scheme]


def sites_table(schemes=SCHEMES):
    """Scheme × connection: the mask kind there, or '' (untouched)."""
    import pandas as pd

    kinds = {scheme: {s.connection: s.mask for s in sites(scheme)} for scheme in schemes}
    rows = {scheme: {CONNECTION_LABELS[c]: kinds[scheme].get(c, "") for c in CONNECTIONS} for scheme in schemes}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("scheme")


def masks_on_path(scheme: str, num_layers: int = 2, steps: int = 5, path: str | None = None) -> dict[str, int]:
    """Dropout masks met by a signal entering at x_t, carried ``steps`` steps along one layer's recurrence and
    leaving through the softmax: ``applications`` (multiplications by a 0/1 mask) and ``distinct`` (a shared
    or weight mask met at every step counts once). ``path`` ``"h"`` (through W_hh h_{t-1}) or ``"c"`` (the
    cell) counts only that route's masks, ``None`` every recurrent site; zoneout copies, so it adds 0."""
    if steps < 0 or num_layers < 1 or path not in (None, "h", "c"):
        raise ValueError(f"need steps >= 0, num_layers >= 1, path h, c or None; got {steps}, {num_layers}, {path!r}")
    ss = sites(scheme)
    nonrec = [s for s in ss if not s.recurrent]
    # input, then num_layers - 1 'between' hops, then output: L + 1 non-recurrent masks
    vertical = sum(1 if s.connection != "between" else num_layers - 1 for s in nonrec)
    rec = [s for s in ss if s.recurrent and s.mask != "zoneout" and path in (None, PATH_OF[s.connection])]
    applications = vertical + steps * len(rec)
    distinct = vertical + sum(steps if s.mask == "fresh" else min(steps, 1) for s in rec)
    return {"applications": applications, "distinct": distinct}


def path_table(distances=(1, 5, 20), num_layers: int = 2, schemes=SCHEMES):
    """:func:`masks_on_path` for several distances: "applications (distinct)" per scheme."""
    import pandas as pd

    cell = lambda s, k: "{applications} ({distinct})".format(**masks_on_path(s, num_layers, k))  # noqa: E731
    rows = {s: {f"{k} step{'s' * (k != 1)}": cell(s, k) for k in distances} for s in schemes}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("scheme")


def sample_masks(scheme: str, steps=20, units=16, rate=0.5, seed=0, zoneout_h=0.05, zoneout_c=0.5) -> dict:
    """``{connection: 0/1 tensor}`` of one training forward pass of layer 1, drawn by the model's own methods:
    ``(steps, units)`` (1 = the unit passes; zoneout: 1 = updated), ``w_hh`` ``(4 * units, units)``. Untouched
    connections are absent; the global random state is left alone."""
    like = torch.ones(steps, 1, units)
    out: dict[str, torch.Tensor] = {}
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        torch.manual_seed(seed)
        rates = dict(dropout=rate, recurrent_dropout=rate, zoneout_h=zoneout_h, zoneout_c=zoneout_c)
        model = LSTMLM(vocab_size=2, hidden_size=units, num_layers=2, scheme=scheme, **rates).train()
        if model.dropout > 0:
            # forward() calls _drop on the embedding, after each layer (between, then output)
            for name in ("input", "between", "output"):
                out[name] = (model.drop_nonrecurrent(like)[:, 0] != 0).float()
        masks = model.step_masks(like)
        for name, drop, zone in (("h", masks.h, masks.zh), ("c", masks.c, masks.zc)):
            if drop is not None:
                out[name] = (drop[:, 0] != 0).float()
            if zone is not None:  # zoneout: 1 in the model = keep the old value
                out[name] = 1.0 - zone[:, 0]
        layer = model.layers[0]
        layer.weight_hh_l0.fill_(1.0)
        w = model.recurrent_weight(layer)
        if w is not layer.weight_hh_l0:
            out["w_hh"] = (w != 0).float()
    return out


def unused_option_warnings(config: Config, given: Iterable[str] = ()) -> list[str]:
    """Options that change nothing in this run (``given``: the Config fields set explicitly)."""
    rates = {site.rate for site in sites(config.scheme)}
    recurrent = [name for name, where in SCHEME_SITES.items() if any(s.rate == "recurrent_dropout" for s in where)]
    value = {r: getattr(config, r) for r in ("dropout", "zoneout_h", "zoneout_c")}
    value["recurrent_dropout"] = config.dropout if config.recurrent_dropout is None else config.recurrent_dropout
    out = []
    if rates and all(value[r] == 0 for r in rates):
        out.append(f"scheme {config.scheme!r} at rate 0 drops nothing: this run trains the model of scheme 'none'")
    if config.recurrent_dropout is not None and "recurrent_dropout" not in rates:
        out.append(
            f"--recurrent-dropout {config.recurrent_dropout:g} is unused: scheme {config.scheme!r} "
            f"has no recurrent dropout ({', '.join(recurrent)} have)"
        )
    for name in ("zoneout_h", "zoneout_c"):
        if name in set(given) and name not in rates:
            out.append(f"--{name.replace('_', '-')} is unused: only scheme 'zoneout' zones out")
    return out
