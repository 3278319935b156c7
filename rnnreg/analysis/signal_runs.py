"""Chapter 03's recorded measurements: the ``signal.json`` and ``mask_noise.json`` that
``python -m rnnreg measure`` writes beside runs of the zoo (``ptb/zoo``, ``zoo-control``, ``zoo-tuned``),
as tables, and the chapter's two claims read off them as numbers and decisions. A run not yet
measured (or half-written) is absent: :func:`missing_schemes` lists it.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..model import SCHEMES
from ..runfolder import RunFolderError, read_json
from ..sweeps import SEEDS
from .runs import results_dir as _results_dir
from .zoo import CONTROL, TUNED, ZOO, recurrent_rate

__all__ = [
    "IGNORES_GAIN", "SEED", "SEEDS", "SHORTER", "WIPED", "SchemeClaims", "SignalRun", "claim_one", "claim_two",
    "claims_table", "context_table", "format_span", "gain_category", "load_mask_noise", "load_signal_runs",
    "load_signal_seeds", "mask_noise_table", "missing_schemes", "noise_finding", "runs_budget", "scheme_claims",
    "sources", "state_use", "state_use_findings", "swap_table", "verdict_table", "wipe_by_lag",
]  # fmt: skip

#: The seed chapter 03 reads first (every seed: the zoo's, ``rnnreg.sweeps.SEEDS``).
SEED = 1
#: Lags and contexts shown in the tables.
TABLE_LAGS = (1, 2, 5, 10, 20, 30)


@dataclass
class SignalRun:
    """One measured run: swap sensitivity (eval / with masks) and context ablation."""

    scheme: str
    path: Path
    epoch: int | None
    swap_eval: pd.DataFrame  # lag, relative_dh, kl
    swap_masks: pd.DataFrame  # lag, relative_dh, kl (training mode, shared masks)
    context: pd.DataFrame  # context, ppl
    provenance: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)


def _frame(d: dict | None, columns) -> pd.DataFrame:
    if not d:
        return pd.DataFrame(columns=list(columns))
    return pd.DataFrame({k: d[k] for k in columns if k in d})


def read_signal(path: str | os.PathLike) -> SignalRun:
    """Parse one run folder's ``signal.json`` (and its ``config.json`` when present)."""
    run = Path(path)
    data, config = read_json(run / "signal.json"), read_json(run / "config.json") or {}
    scheme = data.get("scheme") or config.get("scheme") or run.name.split("-seed")[0]
    return SignalRun(
        scheme=scheme,
        path=run,
        epoch=data.get("epoch"),
        swap_eval=_frame(data.get("swap_eval"), ("lag", "relative_dh", "kl")),
        swap_masks=_frame(data.get("swap_masks"), ("lag", "relative_dh", "kl")),
        context=_frame(data.get("context_ablation"), ("context", "ppl")),
        provenance=data.get("provenance", {}),
        config=config,
    )


def load_signal_runs(
    results_dir: str | os.PathLike | None = None, seed: int = SEED, zoos=(ZOO, CONTROL)
) -> dict[str, SignalRun]:
    """``{scheme: SignalRun}`` (``SCHEMES`` order) for every zoo run of ``seed`` with a readable
    ``signal.json``; ``zoos`` are searched in order, the first measured run of a scheme counts (the
    recorded zoo, then its retrains with checkpoints kept: the original seed-2 runs kept none)."""
    root = _results_dir(results_dir)
    out: dict[str, SignalRun] = {}
    for scheme in SCHEMES:
        for zoo in zoos:
            run = root / zoo / f"{scheme}-seed{seed}"
            if not (run / "signal.json").is_file():
                continue
            try:
                out[scheme] = read_signal(run)
                break
            except (RunFolderError, ValueError, KeyError, OSError):  # half-written or malformed: not recorded
                continue
    return out


def load_signal_seeds(
    results_dir: str | os.PathLike | None = None, seeds=SEEDS, zoos=(ZOO, CONTROL)
) -> dict[int, dict[str, SignalRun]]:
    """``{seed: {scheme: SignalRun}}`` for every seed in ``seeds`` with at least one measured run."""
    out = {}
    for seed in seeds:
        loaded = load_signal_runs(results_dir, seed, zoos)
        if loaded:
            out[seed] = loaded
    return out


def missing_schemes(loaded: dict, schemes=SCHEMES) -> list[str]:
    """The schemes with no measurement in ``loaded``."""
    return [s for s in schemes if s not in loaded]


def sources(by_seed: dict[int, dict[str, SignalRun]]) -> dict[int, dict[str, list[str]]]:
    """Where each seed's measurements come from: ``{seed: {"ptb/zoo": [schemes], ...}}``."""
    out: dict[int, dict[str, list[str]]] = {}
    for seed, loaded in by_seed.items():
        for scheme, run in loaded.items():
            zoo = f"{run.path.parent.parent.name}/{run.path.parent.name}"
            out.setdefault(seed, {}).setdefault(zoo, []).append(scheme)
    return out


def runs_budget(loaded: dict, schemes=SCHEMES) -> dict:
    """The model shape and training budget of a dropout run's ``config.json`` in ``loaded`` (None where
    not recorded), the zoo folder, the runs and the schemes not yet recorded."""
    first = next((r for s, r in loaded.items() if s != "none"), next(iter(loaded.values()), None))
    c = first.config if first is not None else {}
    fields = ("num_layers", "hidden_size", "dropout", "recurrent_dropout", "max_train_tokens", "epochs", "seed")
    out = {k: c.get(k) for k in fields}
    out.update(zoo=ZOO, runs=list(loaded), missing=missing_schemes(loaded, schemes))
    return out


def swap_table(
    loaded: dict, key: str = "relative_dh", mode: str = "eval", lags=TABLE_LAGS, digits: int = 4
) -> pd.DataFrame:
    """Scheme × lag table of ``key`` (``relative_dh`` or ``kl``) from ``swap_eval``/``swap_masks``."""
    rows = {}
    for s, r in loaded.items():
        df = r.swap_eval if mode == "eval" else r.swap_masks
        if df.empty or key not in df:
            continue
        series = df.set_index("lag")[key]
        rows[s] = {f"k={k}": round(float(series[k]), digits) if k in series.index else None for k in lags}
    return pd.DataFrame.from_dict(rows, orient="index")


def context_table(loaded: dict, digits: int = 1) -> pd.DataFrame:
    """Scheme × context length table of perplexity (model reads only the last k tokens)."""
    rows = {
        s: {f"k={int(c)}": round(float(p), digits) for c, p in zip(r.context["context"], r.context["ppl"])}
        for s, r in loaded.items()
        if not r.context.empty
    }
    return pd.DataFrame.from_dict(rows, orient="index")


def verdict_table(loaded: dict, near: int = 1, far: int = 10, short: int = 5, long: int = 50) -> pd.DataFrame:
    """The two halves of the claim in numbers, per measured scheme.

    ``dh far/near (eval)``: how much of the lag-``near`` effect of a swapped token on h survives at
    lag ``far`` (trained model, no masks); ``(masks)`` the same with training masks on.
    ``ppl k=short / k=long``: perplexity gain from seeing ``long`` instead of ``short`` tokens
    (1.0 = the model ignores everything beyond ``short`` tokens).
    """
    rows = {}
    for s, r in loaded.items():
        row = {}
        for mode, df in (("eval", r.swap_eval), ("masks", r.swap_masks)):
            if not df.empty:
                d = df.set_index("lag")["relative_dh"]
                if near in d.index and far in d.index and d[near] > 0:
                    row[f"dh k={far}/k={near} ({mode})"] = round(float(d[far] / d[near]), 3)
        if not r.context.empty:
            c = r.context.set_index("context")["ppl"]
            if short in c.index and long in c.index:
                row[f"ppl k={short}"] = round(float(c[short]), 1)
                row[f"ppl k={long}"] = round(float(c[long]), 1)
                row[f"ppl k={short} / k={long}"] = round(float(c[short] / c[long]), 3)
        rows[s] = row
    return pd.DataFrame.from_dict(rows, orient="index")


# -- claim (2), "the model learns to ignore its hidden state", as numbers and decisions ----------

#: Below this perplexity gain from tokens ``short``..``long`` back a model behaves as if it ignored
#: its state beyond ``short`` tokens.
IGNORES_GAIN = 0.005


def state_use(run: SignalRun, short: int = 5, long: int = 50, near: int = 1, far: int = 10) -> dict:
    """How much one measured model uses its state, as numbers (``None`` where not measured).

    ``ppl_first``/``ppl_last``: perplexity reading the fewest/most tokens (``context_first``/
    ``context_last`` of them); ``context_drop``: ``1 - ppl_last / ppl_first``; ``context_gain``:
    ``1 - ppl(long) / ppl(short)``, what tokens ``short+1..long`` back are worth; ``far_over_near``:
    swap sensitivity of h at lag ``far`` over lag ``near`` (evaluation mode).
    """
    out = dict(scheme=run.scheme, short=short, long=long, near=near, far=far)
    keys = ("ppl_first", "ppl_last", "context_first", "context_last", "context_drop", "context_gain", "far_over_near")
    out |= dict.fromkeys(keys)
    if not run.context.empty:
        c = run.context.set_index("context")["ppl"]
        lo, hi = int(c.index.min()), int(c.index.max())
        out.update(
            context_first=lo,
            context_last=hi,
            ppl_first=float(c[lo]),
            ppl_last=float(c[hi]),
            context_drop=float(1 - c[hi] / c[lo]),
        )
        if short in c.index and long in c.index:
            out["context_gain"] = float(1 - c[long] / c[short])
    if not run.swap_eval.empty:
        d = run.swap_eval.set_index("lag")["relative_dh"]
        if near in d.index and far in d.index and d[near] > 0:
            out["far_over_near"] = float(d[far] / d[near])
    return out


def gain_category(gain: float, reference: float) -> str:
    """How a scheme's context gain compares with the reference scheme's: ``"ignores"`` (at most
    :data:`IGNORES_GAIN`), ``"less_than_half"``, ``"somewhat_less"`` (under 0.8 of it) or ``"as_much"``."""
    if gain <= IGNORES_GAIN:
        return "ignores"
    if gain < 0.5 * reference:
        return "less_than_half"
    if gain < 0.8 * reference:
        return "somewhat_less"
    return "as_much"


def state_use_findings(
    loaded: dict, short: int = 5, long: int = 50, near: int = 1, far: int = 10, reference: str = "zaremba"
) -> dict[str, dict]:
    """:func:`state_use` for every measured scheme, with ``category`` (:func:`gain_category`
    against ``reference``'s gain; ``None`` when either gain is missing) and ``still_falls`` (its
    perplexity with the most context is under 0.9 of that with the least)."""
    out = {s: state_use(r, short, long, near, far) for s, r in loaded.items()}
    ref = out.get(reference, {}).get("context_gain")
    for f in out.values():
        gain = f["context_gain"]
        f["category"] = None if gain is None or ref is None else gain_category(gain, ref)
        f["still_falls"] = None if f["ppl_first"] is None else f["ppl_last"] < 0.9 * f["ppl_first"]
    return out


# -- claim (1), "noise on the recurrent path wipes out the signal", in trained models -------------

#: The file ``measure --what mask-noise`` writes in a run folder.
MASK_NOISE = "mask_noise.json"
#: The schemes whose two claims chapter 03 judges, ``zaremba`` (no recurrent mask) the control.
CLAIM_SCHEMES = ("zaremba", "everywhere", "memory", "variational", "weight_drop", "zoneout")
#: A signal fraction at the far lag under this share of the near lag's: the noise wiped the signal out.
WIPED = 0.1
#: Lag-``far`` over lag-``near`` swap sensitivity under this share of the reference's: a shorter memory.
SHORTER = 0.25


def read_mask_noise(path: str | os.PathLike) -> dict:
    """One run folder's ``mask_noise.json``, with ``folder`` (its name), ``zoo`` (its parent's name)
    and ``recurrent_rate`` (:func:`rnnreg.analysis.zoo.recurrent_rate` of its config fields, 0 for
    ``zaremba``: files written before it recorded the model's ``recurrent_dropout`` there)."""
    run = Path(path)
    data = read_json(run / MASK_NOISE)
    rate = recurrent_rate(data, no_site=0.0)  # no recurrent site (zaremba): no recurrent noise
    return {**data, "recurrent_rate": rate, "folder": run.name, "zoo": run.parent.name}


def load_mask_noise(results_dir: str | os.PathLike | None = None, zoos=(ZOO, CONTROL, TUNED)) -> list[dict]:
    """Every readable ``mask_noise.json`` in the run folders of ``zoos``, ordered by scheme (as
    ``rnnreg.model.SCHEMES``), recurrent rate and seed. Half-written files are skipped."""
    root = _results_dir(results_dir)
    out = []
    for zoo in zoos:
        folder = root / zoo
        for run in sorted(folder.glob(f"*/{MASK_NOISE}")) if folder.is_dir() else ():
            try:
                out.append(read_mask_noise(run.parent))
            except (RunFolderError, ValueError, OSError):
                continue
    order = {s: i for i, s in enumerate(SCHEMES)}
    return sorted(
        out, key=lambda r: (order.get(r.get("scheme"), len(order)), r.get("recurrent_rate") or 0, r.get("seed") or 0)
    )


def noise_finding(record: dict, near: int = 1, far: int = 30) -> dict:
    """One mask-noise measurement read at two lags: the signal fraction of ``dh_t/dx_(t-k)`` at
    ``near`` and ``far`` with standard errors, their ratio with its standard error (delta method),
    ``falls`` (the far fraction is below the near one by more than two standard errors of each)
    and ``wipe``: ``"wiped"`` when the ratio is under :data:`WIPED` by more than two standard
    errors, ``"kept"`` when it is above by more than two, ``"threshold"`` in between (the
    estimate cannot tell)."""
    lags = list(record["lag"])
    far = min(far, lags[-1])
    f, se = record["fraction"], record["stderr"]
    a, b = f[lags.index(near)], f[lags.index(far)]
    sa, sb = se[lags.index(near)], se[lags.index(far)]
    ratio = b / a if a > 0 else None
    ratio_se = math.hypot(sb / a, b * sa / a**2) if a > 0 else None
    wipe = (
        "kept"
        if ratio is None or ratio - 2 * ratio_se > WIPED
        else "wiped"
        if ratio + 2 * ratio_se < WIPED
        else "threshold"
    )
    return {
        "scheme": record.get("scheme"),
        "rate": record.get("recurrent_rate"),
        "seed": record.get("seed"),
        "zoo": record.get("zoo"),
        "folder": record.get("folder"),
        "epoch": record.get("epoch"),
        "near": near,
        "far": far,
        "fraction_near": a,
        "fraction_far": b,
        "stderr_near": sa,
        "stderr_far": sb,
        "ratio": ratio,
        "ratio_stderr": ratio_se,
        "falls": b + 2 * sb < a - 2 * sa,
        "wipe": wipe,
    }


@dataclass
class SchemeClaims:
    """Chapter 03's two claims for one scheme, as numbers per recorded seed and decisions.

    Claim (2), from ``signal.json`` per seed: ``far_over_near`` (swap sensitivity of h at lag
    ``far`` over lag ``near``, evaluation mode), ``vs_reference`` (that over the
    ``reference`` scheme's in the same seed), ``context_gain`` (``1 - ppl(long)/ppl(short)``);
    ``ignores_state``: the gain is at most :data:`IGNORES_GAIN` in every recorded seed (the claim
    holds); ``shorter_memory``: ``vs_reference`` under :data:`SHORTER` in every recorded seed.
    Claim (1), from ``mask_noise.json``: ``noise`` (one :func:`noise_finding` per measured run);
    ``wiped``: true when every measured run has its signal wiped out, ``falls`` when the signal
    fraction falls with the lag in every one. ``None``: not recorded.
    """

    scheme: str
    near: int = 1
    far: int = 30
    short: int = 5
    long: int = 50
    seeds: list[int] = field(default_factory=list)
    far_over_near: list[float] = field(default_factory=list)
    vs_reference: list[float | None] = field(default_factory=list)
    context_gain: list[float | None] = field(default_factory=list)
    ignores_state: bool | None = None
    shorter_memory: bool | None = None
    noise: list[dict] = field(default_factory=list)
    wiped: bool | None = None
    falls: bool | None = None
    reference: str = "zaremba"

    @property
    def wiped_at(self) -> list[float]:
        """The recurrent rates at which a measured run has its signal wiped out (claim (1) holds there)."""
        return sorted({n["rate"] for n in self.noise if n["wipe"] == "wiped"})

    @property
    def kept_at(self) -> list[float]:
        """The recurrent rates at which a measured run keeps its signal (clearly not wiped out)."""
        return sorted({n["rate"] for n in self.noise if n["wipe"] == "kept"})

    @property
    def threshold_at(self) -> list[float]:
        """The recurrent rates at which a run sits at the wipe-out threshold (within two standard errors)."""
        return sorted({n["rate"] for n in self.noise if n["wipe"] == "threshold"})

    @staticmethod
    def spread(values) -> tuple[float, float] | None:
        """(min, max) of the recorded values, ``None`` when there are none."""
        vals = [v for v in values if v is not None]
        return (min(vals), max(vals)) if vals else None


def scheme_claims(
    by_seed: dict[int, dict[str, SignalRun]],
    noise: list[dict] = (),
    schemes=CLAIM_SCHEMES,
    reference: str = "zaremba",
    near: int = 1,
    far: int = 30,
    short: int = 5,
    long: int = 50,
    noise_near: int = 1,
    noise_far: int = 30,
) -> dict[str, SchemeClaims]:
    """Both claims for every scheme in ``schemes``: ``by_seed`` from :func:`load_signal_seeds`,
    ``noise`` from :func:`load_mask_noise`. A scheme with nothing recorded keeps ``None`` decisions."""
    out = {s: SchemeClaims(s, near, far, short, long, reference=reference) for s in schemes}
    for seed, loaded in sorted(by_seed.items()):
        uses = {s: state_use(r, short, long, near, far) for s, r in loaded.items()}
        ref = uses.get(reference, {}).get("far_over_near")
        for s, u in uses.items():
            if s not in out or u["far_over_near"] is None:
                continue
            c = out[s]
            c.seeds.append(seed)
            c.far_over_near.append(u["far_over_near"])
            c.vs_reference.append(u["far_over_near"] / ref if ref else None)
            c.context_gain.append(u["context_gain"])
    for c in out.values():
        if c.seeds:
            gains = [g for g in c.context_gain if g is not None]
            c.ignores_state = bool(gains) and all(g <= IGNORES_GAIN for g in gains)
            ratios = [v for v in c.vs_reference if v is not None]
            c.shorter_memory = all(v < SHORTER for v in ratios) if ratios else None
    for record in noise:
        if record.get("scheme") in out:
            out[record["scheme"]].noise.append(noise_finding(record, noise_near, noise_far))
    for c in out.values():
        if c.noise:
            c.wiped = all(n["wipe"] == "wiped" for n in c.noise)
            c.falls = all(n["falls"] for n in c.noise)
    return out


def format_span(values, spec: str, missing: str = "not yet recorded") -> str:
    """``"lo–hi"`` of the recorded values in format ``spec``, one number when they agree at the
    digits shown, ``missing`` when none is recorded."""
    s = SchemeClaims.spread(values)
    return missing if s is None else "–".join(dict.fromkeys(format(v, spec) for v in s))


def claim_one(claims: dict[str, SchemeClaims]) -> dict:
    """Claim (1) over the schemes: ``holds`` (wiped out in every measured run), ``holds_at``
    ({scheme: rates} where it holds at some measured rates and not at others), ``threshold_at``
    ({scheme: rates} at the threshold), ``measured`` (schemes with a measurement), ``unmeasured``
    (schemes without one)."""
    return {
        "holds": [s for s, c in claims.items() if c.wiped],
        "holds_at": {s: c.wiped_at for s, c in claims.items() if c.noise and not c.wiped and c.wiped_at},
        "threshold_at": {s: c.threshold_at for s, c in claims.items() if c.threshold_at},
        "measured": [s for s, c in claims.items() if c.noise],
        "unmeasured": [s for s, c in claims.items() if not c.noise],
    }


def claim_two(claims: dict[str, SchemeClaims]) -> dict:
    """Claim (2) over the schemes: ``holds`` (the model ignores its state in every recorded seed),
    ``shorter_memory`` (h forgets faster than the reference's in every recorded seed),
    ``neither`` (recorded, and neither of the two), ``seeds`` (every seed recorded for some scheme)."""
    return {
        "holds": [s for s, c in claims.items() if c.ignores_state],
        "shorter_memory": [s for s, c in claims.items() if c.shorter_memory],
        "neither": [s for s, c in claims.items() if c.seeds and not c.ignores_state and not c.shorter_memory],
        "seeds": sorted({seed for c in claims.values() for seed in c.seeds}),
    }


def _wipe_states(c: SchemeClaims, wiped: str, threshold: str, kept: str | None = None) -> list[str]:
    """The rates of each wipe-out state of ``c``, each worded by its template ("... {rates} ...");
    ``kept`` None leaves the kept rates out."""
    states = ((wiped, c.wiped_at), (threshold, c.threshold_at), (kept, c.kept_at))
    return [t.format(rates=", ".join(f"{r:g}" for r in rs)) for t, rs in states if t is not None and rs]


def _wiped_cell(c: SchemeClaims) -> str | bool:
    if c.wiped is None:
        return "not yet recorded"
    if c.wiped or not (c.wiped_at or c.threshold_at):
        return c.wiped
    return "; ".join(_wipe_states(c, "at rate {rates}", "threshold at {rates}"))


def claims_table(claims: dict[str, SchemeClaims], digits: int = 2) -> pd.DataFrame:
    """One row per scheme: the numbers behind both claims (ranges over seeds), and the decisions."""
    rows = {}
    for s, c in claims.items():
        noise = (
            "; ".join(
                f"rate {n['rate']:g} (seed {n['seed']}): {n['fraction_near']:.{digits}f} → "
                f"{n['fraction_far']:.{digits}f}"
                for n in c.noise
            )
            or "not yet recorded"
        )
        rows[s] = {
            "seeds": ", ".join(map(str, c.seeds)) or "none",
            f"h k={c.far}/k={c.near}": format_span(c.far_over_near, f".{digits}g"),
            f"vs {c.reference}": format_span(c.vs_reference, f".{digits}g"),
            f"ppl gain k={c.short}→{c.long}": format_span(c.context_gain, ".1%"),
            "ignores state": "not yet recorded" if c.ignores_state is None else c.ignores_state,
            "shorter memory": "not yet recorded" if c.shorter_memory is None else c.shorter_memory,
            "signal fraction near → far": noise,
            "signal wiped": _wiped_cell(c),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def mask_noise_table(records: list[dict], lags=(0, 1, 5, 10, 20, 30), digits: int = 2) -> pd.DataFrame:
    """One row per recorded ``mask_noise.json`` (``<zoo>/<folder>``): the signal fraction at ``lags``."""
    rows = {}
    for r in records:
        f = dict(zip(r["lag"], r["fraction"]))
        rows[f"{r['zoo']}/{r['folder']}"] = {
            "scheme": r.get("scheme"),
            "recurrent rate": r.get("recurrent_rate"),
            **{f"k={k}": round(float(f[k]), digits) for k in lags if k in f},
        }
    return pd.DataFrame.from_dict(rows, orient="index")


#: The far lags at which chapter 03 rereads claim (1): is its verdict an artefact of reading at k = 30?
READ_LAGS = (10, 20, 30)


def _by_lag(records: list[dict], lags, near: int) -> list[tuple[dict, list[dict]]]:
    """Each record with its :func:`noise_finding` at every lag of ``lags``."""
    return [(r, [noise_finding(r, near, k) for k in lags]) for r in records]


def wipe_by_lag(records: list[dict], lags=READ_LAGS, near: int = 1, digits: int = 2) -> pd.DataFrame:
    """Claim (1)'s verdict for each recorded run read at each far lag in ``lags`` (against lag ``near``):
    one row per run (``scheme, rate r, seed s``), a column per lag with the wipe state and the
    ratio ± its standard error, and ``same verdict`` (True when every lag gives the same state)."""
    rows = {
        f"{r.get('scheme')}, rate {r.get('recurrent_rate'):g}, seed {r.get('seed')}": {
            **{f"k={n['far']}": f"{n['wipe']} {n['ratio']:.{digits}f} ± {n['ratio_stderr']:.{digits}f}" for n in found},
            "same verdict": len({n["wipe"] for n in found}) == 1,
        }
        for r, found in _by_lag(records, lags, near)
    }
    return pd.DataFrame.from_dict(rows, orient="index")
