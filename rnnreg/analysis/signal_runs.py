"""Chapter 03's recorded measurements: the ``signal.json`` files that ``python -m rnnreg measure``
writes beside each run of the scheme zoo (``results/ptb/zoo/<scheme>-seed<seed>/``).

Nothing here computes: it reads what was measured and lays it out as pandas DataFrames. A run
that has not been measured yet is simply absent; :func:`missing_schemes` lists it, so every view
can say "not yet recorded here" instead of failing.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..model import SCHEMES
from .runs import results_dir as _results_dir

#: Where the zoo lives under the results folder, and the seed chapter 03 reads.
ZOO = "ptb/zoo"
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

    def describe(self) -> str:
        c = self.config
        shape = f"{c.get('num_layers', '?')}×{c.get('hidden_size', '?')}" if c else "?"
        return f"{self.path.name} ({shape}, epoch {self.epoch})"


def _frame(d: dict | None, columns) -> pd.DataFrame:
    if not d:
        return pd.DataFrame(columns=list(columns))
    return pd.DataFrame({k: d[k] for k in columns if k in d})


def read_signal(path: str | os.PathLike) -> SignalRun:
    """Parse one run folder's ``signal.json`` (and its ``config.json`` when present)."""
    run = Path(path)
    data = json.loads((run / "signal.json").read_text())
    config = {}
    if (run / "config.json").exists():
        config = json.loads((run / "config.json").read_text())
    scheme = data.get("scheme") or config.get("scheme") or run.name.split("-seed")[0]
    return SignalRun(
        scheme=scheme, path=run, epoch=data.get("epoch"),
        swap_eval=_frame(data.get("swap_eval"), ("lag", "relative_dh", "kl")),
        swap_masks=_frame(data.get("swap_masks"), ("lag", "relative_dh", "kl")),
        context=_frame(data.get("context_ablation"), ("context", "ppl")),
        provenance=data.get("provenance", {}), config=config)


def load_signal_runs(results_dir: str | os.PathLike | None = None, seed: int = SEED,
                     zoo: str = ZOO) -> dict[str, SignalRun]:
    """``{scheme: SignalRun}`` for every zoo run of ``seed`` that has a readable ``signal.json``.

    ``results_dir`` defaults to ``rnnreg.analysis.runs.results_dir()`` ($RNNREG_RESULTS or results/).
    Missing folders, unmeasured runs and unreadable files are skipped (see :func:`missing_schemes`).
    Ordered as ``rnnreg.model.SCHEMES``.
    """
    root = _results_dir(results_dir) / zoo
    out: dict[str, SignalRun] = {}
    for scheme in SCHEMES:
        run = root / f"{scheme}-seed{seed}"
        if not (run / "signal.json").is_file():
            continue
        try:
            out[scheme] = read_signal(run)
        except (ValueError, KeyError, OSError):  # half-written or malformed: treat as not recorded
            continue
    return out


def missing_schemes(loaded: dict, schemes=SCHEMES) -> list[str]:
    """The schemes with no measurement in ``loaded``."""
    return [s for s in schemes if s not in loaded]


def runs_note(loaded: dict, schemes=SCHEMES) -> str:
    """One line for a figure: which recorded runs it shows, and which are not yet recorded."""
    missing = missing_schemes(loaded, schemes)
    if loaded:
        # describe the budget by a dropout run (the `none` run has dropout 0 by definition)
        first = next((r for s, r in loaded.items() if s != "none"), next(iter(loaded.values())))
        c = first.config
        budget = (f"{c.get('num_layers', 2)}×{c.get('hidden_size', 200)}, dropout {c.get('dropout', 0.5)} "
                  f"(none: 0), "
                  f"first {c.get('max_train_tokens', 300000):,} PTB train tokens, {c.get('epochs', 6)} epochs, "
                  f"seed {c.get('seed', SEED)}") if c else "zoo budget"
        note = f"Recorded runs: results/{ZOO}/<scheme>-seed{SEED} ({budget}); measured on the validation text."
    else:
        note = "No recorded measurements yet."
    if missing:
        note += " Not yet recorded here: " + ", ".join(missing) + "."
    return note


def swap_table(loaded: dict, key: str = "relative_dh", mode: str = "eval", lags=TABLE_LAGS,
               digits: int = 4) -> pd.DataFrame:
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
    rows = {s: {f"k={int(c)}": round(float(p), digits) for c, p in zip(r.context["context"], r.context["ppl"])}
            for s, r in loaded.items() if not r.context.empty}
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


def _gain(run: SignalRun, short: int, long: int) -> float | None:
    c = run.context.set_index("context")["ppl"] if not run.context.empty else None
    if c is None or short not in c.index or long not in c.index:
        return None
    return float(1 - c[long] / c[short])


def verdict(loaded: dict, short: int = 5, long: int = 50, near: int = 1, far: int = 10) -> str:
    """The second half of the seed's claim ("the model learns to ignore the hidden state"), read
    off the measurements, as Markdown. Says what is missing instead of guessing."""
    lines = []
    if not loaded:
        return ("**Not yet recorded here.** No zoo run has a `signal.json` yet, so the measured half of the "
                "claim cannot be judged in this copy of the book. Run `python -m rnnreg measure "
                "results/ptb/zoo/<scheme>-seed1` and re-execute the notebook.")
    for s, r in loaded.items():
        if r.context.empty:
            continue
        c = r.context.set_index("context")["ppl"]
        lo, hi = int(c.index.min()), int(c.index.max())
        part = (f"- **{s}**: perplexity {c[lo]:.0f} reading {lo} token{'s' if lo > 1 else ''}, "
                f"{c[hi]:.0f} reading {hi} ({1 - c[hi] / c[lo]:.0%} lower)")
        g = _gain(r, short, long)
        if g is not None:
            part += f"; from {short} to {long} tokens {g:.1%} lower"
        d = r.swap_eval.set_index("lag")["relative_dh"] if not r.swap_eval.empty else None
        if d is not None and near in d.index and far in d.index and d[near] > 0:
            steps = f"{near} step{'s' if near > 1 else ''}"
            part += f"; a token {far} steps back moves h {d[far] / d[near]:.1%} as much as a token {steps} back"
        lines.append(part + ".")
    out = "\n".join(lines)
    ev, za = loaded.get("everywhere"), loaded.get("zaremba")
    if ev is None or za is None:
        missing = [x for x in ("everywhere", "zaremba") if x not in loaded]
        return out + ("\n\n**Not yet recorded here:** " + ", ".join(missing)
                      + " — the comparison that decides the claim needs both.")
    ge, gz = _gain(ev, short, long), _gain(za, short, long)
    if ge is None or gz is None:
        return out
    ce = ev.context.set_index("context")["ppl"]
    uses_state = ce[ce.index.max()] < 0.9 * ce[ce.index.min()]
    if ge <= 0.005:
        judged = (f"`everywhere` gains nothing from context beyond {short} tokens ({ge:.1%}): in this run it "
                  f"**does** behave as if it ignored its longer-range hidden state")
    elif ge < 0.5 * gz:
        judged = (f"`everywhere` gains {ge:.1%} from tokens {short}–{long} back, less than half of `zaremba`'s "
                  f"{gz:.1%}: it uses **less** long-range context — partial support for the claim, but it does not "
                  f"ignore its state")
    elif ge < 0.8 * gz:
        judged = (f"`everywhere` gains {ge:.1%} from tokens {short}–{long} back against `zaremba`'s {gz:.1%}: "
                  f"somewhat less long-range use, far from ignoring the hidden state")
    else:
        judged = (f"`everywhere` gains {ge:.1%} from tokens {short}–{long} back, `zaremba` {gz:.1%}: no sign that "
                  f"recurrent dropout made the model ignore its hidden state")
    if uses_state:
        judged += (
            f" (its perplexity still falls from {ce[ce.index.min()]:.0f} to {ce[ce.index.max()]:.0f} with more context)"
        )
    return out + "\n\n**Verdict on “learns to ignore the hidden state”:** " + judged + "."
