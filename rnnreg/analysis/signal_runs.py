"""Chapter 03's recorded measurements: the ``signal.json`` and ``mask_noise.json`` that
``python -m rnnreg measure`` writes beside runs of the zoo, as tables, and the chapter's two claims
read off them as numbers and decisions. A run not measured (or half-written) is absent."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..model import SCHEMES
from ..runfolder import RunFolderError, read_json
from .runs import results_dir as _results_dir
from .zoo import CONTROL, FULL_SCALE, FULL_SCALE_CONTROL, TUNED, ZOO, recurrent_rate, seed_of

#: The seed chapter 03 reads first (every seed: ``rnnreg.sweeps.SEEDS``).
SEED = 1
#: The schemes whose claims chapter 03 judges, ``zaremba`` (no recurrent mask) the control.
CLAIM_SCHEMES = ("zaremba", "everywhere", "memory", "variational", "weight_drop", "zoneout")
UNREADABLE = (RunFolderError, ValueError, OSError)  # a half-written file: not recorded
#: The paper's scale, for ``zoos=``: zaremba's medium seeds, the undropped medium (a retrain of
#: ``ptb/medium-nodrop``, which kept no checkpoint to measure), the 2×650 schemes.
FULL_SCALE_RUNS = (*FULL_SCALE_CONTROL, "ptb/medium-nodrop-retrain", FULL_SCALE)

# The thresholds. All but INFLATED were fixed before the data they judge; INFLATED after a first look.
#: Claim (1): the signal fraction at the far lags under this share of its lag-1 value is wiped out.
WIPED = 0.1
#: The far lags claim (1) is read at (first, last): a window, so that no single lag decides.
FAR = (25, 30)
#: Masked over eval-mode Jacobian power more than this many times its lag-1 value: a few mask draws
#: dominate the estimate, and its standard error cannot be trusted.
INFLATED = 3.0
#: Claim (2): a perplexity gain from tokens ``short``..``long`` back at most this: the state is ignored.
IGNORES_GAIN = 0.005
#: Lag-``far`` over lag-``near`` swap sensitivity under this share of ``zaremba``'s: a shorter memory.
SHORTER = 0.25


@dataclass
class SignalRun:
    """One measured run: swap sensitivity (eval / training masks on) and context ablation."""

    scheme: str
    path: Path
    swap_eval: pd.DataFrame  # lag, relative_dh
    swap_masks: pd.DataFrame
    context: pd.DataFrame  # context, ppl
    config: dict = field(default_factory=dict)


def run_folders(results_dir, folders) -> list[Path]:
    """Each of ``folders`` (under ``results/``) that is a run, else the runs inside it, in name order."""
    out = []
    for folder in (_results_dir(results_dir) / f for f in folders):
        out += [folder] if (folder / "config.json").is_file() else sorted(p for p in folder.glob("*") if p.is_dir())
    return out


def load_signal_seeds(results_dir=None, zoos=(ZOO, CONTROL)) -> dict[int, dict[str, SignalRun]]:
    """``{seed: {scheme: SignalRun}}`` (seeds in order, schemes in ``SCHEMES`` order) for every run with a readable
    ``signal.json`` in ``zoos`` (folders of runs, or runs); per scheme and seed the first of ``zoos`` counts (the
    zoo, then its retrains)."""
    found: dict[int, dict[str, SignalRun]] = {}
    for run in run_folders(results_dir, zoos):
        try:
            data, config = read_json(run / "signal.json"), read_json(run / "config.json") or {}
        except UNREADABLE:
            continue
        if data is None:
            continue
        scheme = config.get("scheme") or data.get("scheme")
        swaps = (pd.DataFrame(data.get(k) or {}, columns=["lag", "relative_dh"]) for k in ("swap_eval", "swap_masks"))
        context = pd.DataFrame(data.get("context_ablation") or {}, columns=["context", "ppl"])
        measured = SignalRun(scheme, run, *swaps, context, config)
        found.setdefault(seed_of(measured), {}).setdefault(scheme, measured)
    return {seed: {s: found[seed][s] for s in SCHEMES if s in found[seed]} for seed in sorted(found)}


def runs_budget(loaded: dict) -> dict:
    """Model shape and training budget from a dropout run's ``config.json`` (None where not recorded),
    the zoo folder, the runs and the schemes ``missing``."""
    c = next((r.config for s, r in loaded.items() if s != "none"), {})
    fields = ("num_layers", "hidden_size", "dropout", "recurrent_dropout", "max_train_tokens", "epochs", "seed")
    missing = [s for s in SCHEMES if s not in loaded]
    return {k: c.get(k) for k in fields} | dict(zoo=ZOO, runs=list(loaded), missing=missing)


def swap_table(loaded: dict, mode: str = "eval", lags=(1, 2, 5, 10, 20, 30)):
    """Scheme × lag table of h's relative change, evaluation mode or ``"masks"``, 2 s.f."""
    rows = {}
    for s, r in loaded.items():
        df = getattr(r, f"swap_{mode}")
        if not df.empty:
            d = df.set_index("lag")["relative_dh"]
            rows[s] = {f"k={k}": float(f"{d[k]:.2g}") if k in d.index else None for k in lags}
    return pd.DataFrame.from_dict(rows, orient="index")


def context_table(loaded: dict) -> pd.DataFrame:
    """Scheme × context length: perplexity when the model reads only the last k tokens."""
    rows = {s: {f"k={int(c)}": round(float(p), 1) for c, p in r.context.values} for s, r in loaded.items()}
    return pd.DataFrame.from_dict({s: v for s, v in rows.items() if v}, orient="index")


def state_use(run: SignalRun, short: int = 5, long: int = 50, near: int = 1, far: int = 10) -> dict:
    """Claim (2) in one model (None where not measured): ``context_gain``, ``1 - ppl(long) / ppl(short)``,
    and ``far_over_near``, h's swap sensitivity (evaluation mode) at lag ``far`` over lag ``near``."""
    c = run.context.set_index("context")["ppl"] if not run.context.empty else {}
    d = run.swap_eval.set_index("lag")["relative_dh"] if not run.swap_eval.empty else {}
    return {
        "context_gain": float(1 - c[long] / c[short]) if short in c and long in c else None,
        "far_over_near": float(d[far] / d[near]) if near in d and far in d and d[near] > 0 else None,
    }


def load_mask_noise(results_dir=None, zoos=(ZOO, CONTROL, TUNED)) -> list[dict]:
    """Every readable ``mask_noise.json`` of ``zoos`` (folders of runs, or runs) with its ``folder``, ``zoo`` and
    ``recurrent_rate`` (0 for ``zaremba``), ordered by scheme, recurrent rate and seed."""
    out = []
    for run in run_folders(results_dir, zoos):
        try:
            data = read_json(run / "mask_noise.json")
        except UNREADABLE:
            continue
        if data is not None:
            out.append(data | dict(recurrent_rate=recurrent_rate(data, no_site=0.0), folder=run.name,
                                   zoo=run.parent.name))  # fmt: skip
    order = {s: i for i, s in enumerate(SCHEMES)}
    return sorted(out, key=lambda r: (order.get(r.get("scheme"), len(order)), r["recurrent_rate"], r.get("seed") or 0))


def noise_finding(record: dict, near: int = 1, far=FAR) -> dict:
    """Claim (1) in one mask-noise measurement, lag ``near`` against the window ``far`` (first, last; an
    int: one lag). Per far lag the ratio ``fraction[k] / fraction[near]`` and its delta-method s.e.:
    ``ratio`` their median, ``ratio_range``, ``ratio_stderr`` the largest s.e.; ``inflation``: the largest
    masked/eval-mode Jacobian power in the window over its value at ``near``; ``falls``: below the near
    fraction by two s.e. of each at every far lag; ``wipe``: ``"kept"`` (every ratio above :data:`WIPED`
    by two s.e.), ``"wiped"`` (every one below it by two s.e., inflation at most :data:`INFLATED`) or ``"open"``."""
    lags = list(record["lag"])
    first, last = (far, far) if isinstance(far, int) else far
    window = [lags.index(k) for k in lags if first <= k <= min(last, lags[-1])] or [len(lags) - 1]
    f, se, i = record["fraction"], record["stderr"], lags.index(near)
    a, sa = f[i], se[i]
    ratios = [f[j] / a for j in window]
    errors = [((se[j] / a) ** 2 + (f[j] * sa / a**2) ** 2) ** 0.5 for j in window]
    power = [t / e for t, e in zip(record["total"], record["eval_total"])]
    inflation = max(power[j] for j in window) / power[i]
    if all(r - 2 * e > WIPED for r, e in zip(ratios, errors)):
        wipe = "kept"
    elif all(r + 2 * e < WIPED for r, e in zip(ratios, errors)) and inflation <= INFLATED:
        wipe = "wiped"
    else:
        wipe = "open"
    return {k: record.get(k) for k in ("scheme", "seed", "zoo", "folder")} | dict(
        rate=record.get("recurrent_rate"), near=near, far=(lags[window[0]], lags[window[-1]]), fraction_near=a,
        ratio=statistics.median(ratios), ratio_range=(min(ratios), max(ratios)), ratio_stderr=max(errors),
        power_near=power[i], inflation=inflation, wipe=wipe,
        falls=all(f[j] + 2 * se[j] < a - 2 * sa for j in window),
    )  # fmt: skip


@dataclass
class SchemeClaims:
    """Both claims for one scheme. Claim (2), per seed (:func:`state_use`, lag ``far``): ``far_over_near``,
    ``vs_reference`` (over ``zaremba``'s), ``context_gain``; ``ignores_state`` (gain at most
    :data:`IGNORES_GAIN`) and ``shorter_memory`` (``vs_reference`` under :data:`SHORTER`), in every seed.
    Claim (1): ``noise``, one :func:`noise_finding` per run; ``wiped`` in every run. None: not recorded."""

    scheme: str
    far: int = 30
    seeds: list[int] = field(default_factory=list)
    far_over_near: list[float] = field(default_factory=list)
    vs_reference: list[float | None] = field(default_factory=list)
    context_gain: list[float | None] = field(default_factory=list)
    ignores_state: bool | None = None
    shorter_memory: bool | None = None
    noise: list[dict] = field(default_factory=list)
    wiped: bool | None = None

    def rates(self, wipe: str) -> list[float]:
        """The recurrent rates at which a measured run's ``wipe`` is this (wiped, kept, open)."""
        return sorted({n["rate"] for n in self.noise if n["wipe"] == wipe})


def scheme_claims(by_seed: dict, noise=(), far=30, noise_far=FAR) -> dict:
    """Both claims per scheme: ``by_seed`` from :func:`load_signal_seeds`, ``noise`` from :func:`load_mask_noise`.
    A scheme's swap sensitivity is set against ``zaremba``'s of the same seed, else the median over its seeds."""
    out = {s: SchemeClaims(s, far=far) for s in CLAIM_SCHEMES}
    uses_by_seed = {seed: {s: state_use(r, far=far) for s, r in loaded.items()} for seed, loaded in by_seed.items()}
    refs = {seed: u["zaremba"]["far_over_near"] for seed, u in uses_by_seed.items() if "zaremba" in u}
    known = [v for v in refs.values() if v is not None]
    for seed, uses in sorted(uses_by_seed.items()):
        # zaremba's same seed where measured, else the median of its seeds (runs at 2×650 differ in seed)
        ref = refs.get(seed) or (statistics.median(known) if known else None)
        for s, u in uses.items():
            if s in out and u["far_over_near"] is not None:
                c = out[s]
                c.seeds.append(seed)
                c.far_over_near.append(u["far_over_near"])
                c.vs_reference.append(u["far_over_near"] / ref if ref else None)
                c.context_gain.append(u["context_gain"])
    for record in noise:
        if record.get("scheme") in out:
            out[record["scheme"]].noise.append(noise_finding(record, far=noise_far))
    for c in out.values():
        if c.seeds:
            gains = [g for g in c.context_gain if g is not None]
            c.ignores_state = bool(gains) and all(g <= IGNORES_GAIN for g in gains)
            ratios = [v for v in c.vs_reference if v is not None]
            c.shorter_memory = all(v < SHORTER for v in ratios) if ratios else None
        c.wiped = all(n["wipe"] == "wiped" for n in c.noise) if c.noise else None
    return out


def claim_one(claims: dict[str, SchemeClaims]) -> dict:
    """Claim (1) over the schemes: ``holds`` (wiped out in every run), ``holds_at`` and ``open_at``
    ({scheme: rates} where some run is wiped out / open), ``falls_in`` ({scheme: (runs where the fraction
    falls, runs)}), ``measured``."""
    return {
        "holds": [s for s, c in claims.items() if c.wiped],
        "holds_at": {s: c.rates("wiped") for s, c in claims.items() if c.noise and not c.wiped and c.rates("wiped")},
        "open_at": {s: c.rates("open") for s, c in claims.items() if c.rates("open")},
        "falls_in": {s: (sum(n["falls"] for n in c.noise), len(c.noise)) for s, c in claims.items() if c.noise},
        "measured": [s for s, c in claims.items() if c.noise],
    }


def claim_two(claims: dict[str, SchemeClaims]) -> dict:
    """Claim (2) over the schemes: ``holds`` (the state ignored in every seed), ``shorter_memory``, ``seeds``."""
    return {
        "holds": [s for s, c in claims.items() if c.ignores_state],
        "shorter_memory": [s for s, c in claims.items() if c.shorter_memory],
        "seeds": sorted({seed for c in claims.values() for seed in c.seeds}),
    }


def claims_table(claims: dict[str, SchemeClaims]) -> pd.DataFrame:
    """One row per scheme measured: the numbers behind both claims (ranges over seeds, one number where they agree
    at the digits shown) and the decisions."""

    def span(values, spec):
        vals = [v for v in values if v is not None]
        return "–".join(dict.fromkeys(format(v, spec) for v in (min(vals), max(vals)))) if vals else "not recorded"

    rows, none = {}, "not recorded"
    for s, c in claims.items():
        rows[s] = {
            "seeds": ", ".join(map(str, c.seeds)) or "none",
            f"h k={c.far}/k=1": span(c.far_over_near, ".2g"),
            "vs zaremba": span(c.vs_reference, ".2g"),
            "ppl gain k=5→50": span(c.context_gain, ".1%"),
            "ignores state": none if c.ignores_state is None else c.ignores_state,
            "shorter memory": none if c.shorter_memory is None else c.shorter_memory,
            "rate: fraction far/near": ", ".join(f"{n['rate']:g}: {n['ratio']:.2f}" for n in c.noise) or none,
            "falls": f"{sum(n['falls'] for n in c.noise)} of {len(c.noise)}" if c.noise else none,
            "wiped out": "; ".join(f"{w} at {', '.join(f'{r:g}' for r in c.rates(w))}" for w in ("wiped", "open")
                                   if c.rates(w)) or (none if not c.noise else "no"),
        }  # fmt: skip
    return pd.DataFrame.from_dict(rows, orient="index").loc[[s for s, c in claims.items() if c.seeds or c.noise]]


def mask_noise_table(records: list[dict], near: int = 1, far=FAR) -> pd.DataFrame:
    """One row per run: the signal fraction at ``near``, its ratio to it over the window ``far`` (median,
    range), the masked/eval-mode power at ``near``, its inflation, the decisions."""
    rows = {}
    for r in records:
        n = noise_finding(r, near, far)
        window = f"k={n['far'][0]}–{n['far'][1]}"
        rows[f"{r['scheme']}, rate {r['recurrent_rate']:g}, seed {r.get('seed')}"] = {
            f"k={near}": round(n["fraction_near"], 2),
            f"{window}: median": round(n["ratio"], 2),
            f"{window}: range": "–".join(f"{v:.2f}" for v in n["ratio_range"]),
            f"power masked/eval k={near}": round(n["power_near"], 1),
            "inflation": round(n["inflation"], 1),
            "falls": n["falls"],
            "wipe": n["wipe"],
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def by_lag(record: dict, lags=None) -> pd.DataFrame:
    """A mask-noise measurement (``MaskNoise.as_dict()`` or a ``mask_noise.json``) per lag: the ratio of sums,
    the windows' median and bootstrap interval where recorded, and the masked/eval-mode Jacobian power."""
    cols = [c for c in ("fraction", "median", "low", "high") if record.get(c)]
    out = pd.DataFrame({c: record[c] for c in cols}, index=pd.Index(record["lag"], name="lag"))
    out["power masked/eval"] = [t / e for t, e in zip(record["total"], record["eval_total"])]
    return out if lags is None else out.loc[list(lags)]
