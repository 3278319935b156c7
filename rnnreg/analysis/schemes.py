r"""Where each dropout scheme puts its masks, as data: sites, mask kinds, and the masks themselves.

A two-layer LSTM language model unrolled over time has six kinds of connection a scheme can
perturb (the drawing in ``rnnreg.views.diagrams.draw_unrolled_lstm`` uses the same names)::

    input     x_t (embedding)  -> layer 1           non-recurrent
    between   layer 1 h_t      -> layer 2           non-recurrent
    output    layer 2 h_t      -> softmax           non-recurrent
    h         h_{t-1}          -> gates at t        recurrent
    c         c_{t-1}          -> c_t               recurrent (the memory cell)
    w_hh      the recurrent weight matrix W_hh      recurrent (DropConnect)

and four ways of drawing a mask:

    fresh     a new Bernoulli mask at every time step (Zaremba et al. 2014)
    shared    one mask per sequence, reused at every step (Gal & Ghahramani 2016)
    weights   one mask on the matrix W_hh per forward pass (Merity et al. 2017)
    zoneout   per step, per unit: keep the previous value instead of updating (Krueger et al. 2016)

:data:`SCHEME_SITES` is the table the book draws and prints; :func:`sample_masks` draws the
masks through the model's own methods, so a picture of a mask is a picture of what training uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import torch

from ..config import Config
from ..model import LSTMLM, SCHEMES

__all__ = [
    "CONNECTIONS", "CONNECTION_LABELS", "MASK_KINDS", "MASK_LABELS", "PATH_OF", "SCHEME_INFO", "SCHEME_SITES",
    "Site", "masks_on_path", "path_table", "sample_masks", "sites", "sites_table", "unused_option_warnings",
]  # fmt: skip

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


@dataclass(frozen=True)
class Site:
    """One perturbed connection: where (``connection``), how (``mask``), at which rate (a Config field)."""

    connection: str
    mask: str
    rate: str

    def __post_init__(self):
        if self.connection not in CONNECTIONS or self.mask not in MASK_KINDS:
            raise ValueError(f"bad site {self}")

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


def sites(scheme: str) -> tuple[Site, ...]:
    if scheme not in SCHEME_SITES:
        raise ValueError(f"unknown scheme {scheme!r}; choose one of {', '.join(SCHEMES)}")
    return SCHEME_SITES[scheme]


def sites_table(schemes=SCHEMES):
    """Scheme × connection: the mask kind there, or '' (untouched). Pandas imported on demand."""
    import pandas as pd

    rows = {}
    for scheme in schemes:
        by_conn = {s.connection: s.mask for s in sites(scheme)}
        rows[scheme] = {CONNECTION_LABELS[c]: by_conn.get(c, "") for c in CONNECTIONS}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("scheme")


def masks_on_path(scheme: str, num_layers: int = 2, steps: int = 5, path: str | None = None) -> dict[str, int]:
    """Multiplicative dropout masks met by a signal that enters at x_t, is carried ``steps`` time
    steps along one layer's recurrence, and leaves through the softmax at t + ``steps``.

    ``applications``: how many times it is multiplied by a 0/1 mask; ``distinct``: how many
    different masks those are (a shared or weight mask met at every step counts once).
    ``path``: ``"h"`` (through ``W_hh h_{t-1}``) or ``"c"`` (along the cell) counts only the masks
    on that route; ``None`` counts every recurrent site. Zoneout zeroes nothing on the recurrent
    path (it copies), so its recurrent sites add 0. The one place the book counts masks.
    """
    if steps < 0 or num_layers < 1:
        raise ValueError("steps must be >= 0 and num_layers >= 1")
    if path not in (None, "h", "c"):
        raise ValueError(f"path must be 'h', 'c' or None, got {path!r}")
    ss = sites(scheme)
    nonrec = [s for s in ss if not s.recurrent]
    # input, then num_layers - 1 'between' hops, then output: L + 1 non-recurrent masks
    vertical = sum(1 if s.connection != "between" else num_layers - 1 for s in nonrec)
    rec = [s for s in ss if s.recurrent and s.mask != "zoneout" and path in (None, PATH_OF[s.connection])]
    applications = vertical + steps * len(rec)
    distinct = vertical + sum(steps if s.mask == "fresh" else min(steps, 1) for s in rec)
    return {"applications": applications, "distinct": distinct}


def path_table(distances=(1, 5, 20), num_layers: int = 2, schemes=SCHEMES):
    """:func:`masks_on_path` for several distances: "applications (distinct)" per scheme (pandas on demand)."""
    import pandas as pd

    rows = {}
    for s in schemes:
        cells = {}
        for k in distances:
            m = masks_on_path(s, num_layers, k)
            cells[f"{k} step{'s' if k != 1 else ''}"] = f"{m['applications']} ({m['distinct']})"
        rows[s] = cells
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("scheme")


def sample_masks(
    scheme: str,
    steps: int = 20,
    units: int = 16,
    rate: float = 0.5,
    seed: int = 0,
    zoneout_h: float = 0.05,
    zoneout_c: float = 0.5,
) -> dict[str, torch.Tensor]:
    """The masks one training forward pass of layer 1 would use, drawn by the model's own methods.

    Returns a dict ``connection -> tensor``: for ``input``, ``between``, ``output``, ``h`` and
    ``c`` a ``(steps, units)`` 0/1 tensor (1 = the unit passes; for zoneout 1 = the unit is
    *updated*, 0 = it keeps its previous value); for ``w_hh`` the ``(4 * units, units)`` 0/1
    mask on the recurrent weights. Connections the scheme leaves alone are absent. The global
    random state is left untouched; the same ``seed`` gives the same masks.
    """
    like = torch.ones(steps, 1, units)
    out: dict[str, torch.Tensor] = {}
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        torch.manual_seed(seed)
        model = LSTMLM(
            vocab_size=2,
            hidden_size=units,
            num_layers=2,
            scheme=scheme,
            dropout=rate,
            recurrent_dropout=rate,
            zoneout_h=zoneout_h,
            zoneout_c=zoneout_c,
        ).train()
        if model.dropout > 0:
            # forward() calls _drop on the embedding, after each layer (between, then output)
            for name in ("input", "between", "output"):
                out[name] = (model.drop_nonrecurrent(like)[:, 0] != 0).float()
        masks = model.step_masks(like)
        if masks.h is not None:
            out["h"] = (masks.h[:, 0] != 0).float()
        if masks.c is not None:
            out["c"] = (masks.c[:, 0] != 0).float()
        if masks.zh is not None:  # zoneout: 1 in the model = keep the old value
            out["h"] = 1.0 - masks.zh[:, 0]
        if masks.zc is not None:
            out["c"] = 1.0 - masks.zc[:, 0]
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
    value = {
        "dropout": config.dropout,
        "zoneout_h": config.zoneout_h,
        "zoneout_c": config.zoneout_c,
        "recurrent_dropout": config.dropout if config.recurrent_dropout is None else config.recurrent_dropout,
    }
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
