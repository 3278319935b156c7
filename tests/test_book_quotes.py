"""Every result of a completed run that a chapter types in its prose is read back from ``results/``.

The chapters write their sentences in markdown; a number there that comes from a recorded run is
typed by hand. Each row of :data:`QUOTES` is one typed phrase: the chapter, the phrase with its
numbers as format fields (the format spec is the rounding), and the values that fill them, read
from the run files (and ``rnnreg.published`` for the paper's numbers beside them). A rerun that
moves a number, or an edit that mistypes one, fails here. Decisions the prose states (which
scheme, which claim holds) are checked the same way, as the names or words they fill in.
"""

from functools import cache
from pathlib import Path

import pytest

from rnnreg import live, published, sweeps
from rnnreg.analysis import equivalence, runs, schemes, signal_runs, zoo
from rnnreg.config import Config
from rnnreg.model import FUSED_SCHEMES, SCHEMES

BOOK = Path(__file__).resolve().parent.parent / "book"


@cache
def run(name: str):
    return runs.load_run(f"ptb/{name}")


@cache
def fit(name: str) -> dict:
    return runs.overfitting(run(name))


@cache
def claims():
    return signal_runs.scheme_claims(signal_runs.load_signal_seeds(), signal_runs.load_mask_noise())


@cache
def full_claims():
    """Chapter 03's claims on the 2×650 models, and how many of those models are measured."""
    full = signal_runs.load_signal_seeds(zoos=signal_runs.FULL_SCALE_RUNS)
    noise = signal_runs.load_mask_noise(zoos=signal_runs.FULL_SCALE_RUNS)
    return signal_runs.scheme_claims(full, noise), sum(len(by_scheme) for by_scheme in full.values())


@cache
def signal03() -> dict:
    """Chapter 03's measured runs of seed 1, by scheme."""
    return signal_runs.load_signal_seeds()[signal_runs.SEED]


def memory03(key: str) -> list:
    """``key`` of each measured `memory` run's claim-(1) finding, in rate order."""
    return [n[key] for n in claims()["memory"].noise]


def improving03() -> bool:
    """Every dropout run chapter 03 measures has its validation perplexity still falling at the last epoch."""
    import json

    folders = {r.path for by in signal_runs.load_signal_seeds().values() for s, r in by.items() if s != "none"}
    folders |= {runs.results_dir() / "ptb" / n["zoo"] / n["folder"] for c in claims().values() for n in c.noise}
    for folder in folders:
        log = [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines() if line.strip()]
        valid = [r["valid_ppl"] for r in log if "valid_ppl" in r]
        if not valid[-1] < valid[-2]:
            return False
    return bool(folders)


def falls(scheme: str) -> tuple[int, int]:
    """In how many of a scheme's measured runs the signal fraction falls clearly with the lag, of how many."""
    noise = claims()[scheme].noise
    return sum(n["falls"] for n in noise), len(noise)


@cache
def grid():
    return equivalence.load()


@cache
def noise(metric: str):
    return equivalence.seed_noise(grid(), metric)


@cache
def fit04(metric: str):
    return equivalence.alpha_fit(grid(), metric, noise(metric))


def alpha():
    return fit04("train_eval_ppl").by_rate


def listed(rates) -> str:
    return ", ".join(f"{p:g}" for p in rates)


def valid04(status: str):
    table = fit04("valid_ppl").table
    return table[table.status == status]


def gains04():
    gains = equivalence.last_epoch_gains(grid(), noise("valid_ppl"))
    return gains[gains.dropout > 0], gains[gains.dropout == 0]


def worse04():
    table = fit04("train_eval_ppl").table
    worse = table[table.status == "worse"]
    return worse, equivalence.plateau_cells(worse, equivalence.slice_unigram())


WORDS04 = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 10: "ten"}  # counts chapter 04 spells


@cache
def tuned():
    return zoo.tuning_findings(zoo.tuning_runs())


@cache
def zoo_found() -> dict:
    return zoo.findings(zoo.load_zoo())


def names(schemes, last: str = ", ") -> str:
    """Scheme names as the chapters type them: "`a`, `b` and `c`" (``last=" and "``) or "`a`, `b`, `c`"."""
    quoted = [f"`{s}`" for s in schemes]
    return last.join([", ".join(quoted[:-1]), quoted[-1]]) if len(quoted) > 1 else "".join(quoted)


@cache
def sweep(name: str) -> dict:
    return live.sweep_findings(runs.load_sweep(f"live/{name}.json"))


def sweep01() -> dict:
    return sweep("01_defaults")


def medium_reruns(split: str) -> tuple:
    """The span of others' reruns of the medium recipe (:data:`rnnreg.published.RERUNS`)."""
    reruns = [x for x in published.RERUNS if x["model"] == "medium"]
    return min(x[split][0] for x in reruns), max(x[split][1] for x in reruns)


def medium_seeds():
    """This project's medium row in chapter 02's reruns table: the range over its complete seeds."""
    return runs.reruns_table(runs.table1(), "medium").loc["this project"]


def table1_line(model: str) -> tuple:
    return (
        paper(model, "valid"),
        paper(model, "test"),
        run(model).epochs_done,
        run(model).final("valid_ppl"),
        run(model).summary["test_ppl"],
    )


@cache
def averaged() -> dict:
    return zoo.averaging_findings(zoo.load_averaging())


def two_small_paper() -> tuple:
    """Table 1's two averaged non-regularized models, valid and test."""
    (row,) = [r for r in published.REPORTED_AVERAGING if r["model"] == "small" and r["members"] == 2]
    return row["valid"], row["test"]


def paper(model: str, split: str):
    return published.reported(model, "paper")[split]


def stall(name: str):
    """The first epoch whose validation perplexity is within 1 % of the run's best."""
    log = run(name).log
    return log[log.valid_ppl <= 1.01 * fit(name)["best_valid"]].iloc[0]


def only(mapping: dict):
    """The one (key, value) of a mapping: the prose names a single scheme."""
    (item,) = mapping.items()
    return item


QUOTES = [
    # 00: the map
    (
        "00_guide.md",
        "| Penn Treebank test perplexity, small LSTM without dropout | {} | | medium LSTM, dropout {:g} | {} | "
        "| large LSTM, dropout {:g} | {} | | image captioning BLEU: one model, with dropout, {} averaged without | "
        "{}, {}, {} |",
        lambda: (
            paper("small", "test"),
            Config.from_preset("medium").dropout,
            paper("medium", "test"),
            Config.from_preset("large").dropout,
            paper("large", "test"),
            *(published.CAPTIONING[k] for k in ("members", "single", "dropout", "ensemble")),
        ),
    ),
    (
        "00_guide.md",
        "reproduces Table 1 (test {:.1f}, paper {}). The 2×650 model {} is at its best at valid {:.1f}, then "
        "overfits; with dropout 0.5 its best valid is {:.1f} and its test {:.1f} (paper {})",
        lambda: (
            run("small").summary["test_ppl"],
            paper("small", "test"),
            "without dropout" if runs.story_findings()["nodrop_overfits"] else "?",
            fit("medium-nodrop")["best_valid"],
            fit("medium")["best_valid"] if runs.story_findings()["dropout_below"] else "?",
            run("medium").summary["test_ppl"],
            paper("medium", "test"),
        ),
    ),
    (
        "00_guide.md",
        "Over {} steps a signal meets {} masks under Zaremba's placement, {} with fresh masks on h, {} with "
        "fresh masks on c",
        lambda: (20, *(schemes.masks_on_path(s, 2, 20)["applications"] for s in ("zaremba", "everywhere", "memory"))),
    ),
    (
        "00_guide.md",
        "holds for {} of the {} schemes measured; masks on c shorten the memory (`{}`)",
        lambda: (
            "none" if not signal_runs.claim_two(claims())["holds"] else "?",
            "six" if len(signal_runs.claim_one(claims())["measured"]) == 6 else "?",
            *signal_runs.claim_two(claims())["shorter_memory"],
        ),
    ),
    (
        "00_guide.md",
        "On validation text dropout at N = {} beats every undropped size",
        lambda: (only(dict.fromkeys(valid04("better").hidden_size))[0],),
    ),
    (
        "00_guide.md",
        "α from {:.2f} (p = {:g}) to {:.2f} (p = {:g}) on training perplexity",
        lambda: (alpha().alpha.iloc[0], alpha().index[0], alpha().alpha.iloc[-1], alpha().index[-1]),
    ),
    (
        "00_guide.md",
        "{} recurrent scheme beat `zaremba` at any rate tried ({}); the best recurrent rate was the smallest "
        "tried for {} of {} schemes, where {} come within seed noise of it",
        lambda: (
            "No" if not tuned()["ahead"] else "?",
            listed(sorted(set().union(*tuned()["best"].rates_done))),
            sum(tuned()["best"].best_rate == min(set().union(*tuned()["best"].rates_done))),
            len(tuned()["best"]),
            " and ".join(f"`{s}`" for s in tuned()["within"]),
        ),
    ),
    # 01: the recorded small run
    (
        "01_why_regularize.md",
        "Validation perplexity falls with train perplexity only until epoch {:.0f} ({:.1f}), then stays within "
        "1 % of that (best {:.1f}, epoch {}) while train perplexity keeps falling from {:.1f} to {:.1f}.",
        lambda: (
            stall("small").epoch,
            stall("small").valid_ppl,
            fit("small")["best_valid"],
            fit("small")["best_epoch"],
            stall("small").train_ppl,
            fit("small")["last_train"],
        ),
    ),
    (
        "01_why_regularize.md",
        "| this run, `results/ptb/small` | {:.1f} | {:.1f} | | the paper (Table 1) | {} | {} | "
        "| the TF tutorial | {} | {} |",
        lambda: (
            fit("small")["best_valid"],
            run("small").summary["test_ppl"],
            paper("small", "valid"),
            paper("small", "test"),
            published.reported("small", "tf")["valid"],
            published.reported("small", "tf")["test"],
        ),
    ),
    # 01: the full-scale story, each run's fit
    (
        "01_why_regularize.md",
        "| small 2×200, no dropout, `results/ptb/small` | {} | {:.1f} ({}) | {:.1f}, {} | {:.1f} | {:.1f} |",
        lambda: (
            fit("small")["epochs"],
            fit("small")["best_valid"],
            fit("small")["best_epoch"],
            fit("small")["last_valid"],
            "still falling" if fit("small")["rise"] == 0 else "?",
            fit("small")["last_train"],
            run("small").summary["test_ppl"],
        ),
    ),
    (
        "01_why_regularize.md",
        "| medium 2×650, no dropout, `results/ptb/medium-nodrop` | {} | {:.1f} ({}) | {:.1f}, up {:.1f} % | {:.1f} "
        "| {:.1f} (last epoch) |",
        lambda: (
            fit("medium-nodrop")["epochs"],
            fit("medium-nodrop")["best_valid"],
            fit("medium-nodrop")["best_epoch"],
            fit("medium-nodrop")["last_valid"],
            100 * fit("medium-nodrop")["rise"],
            fit("medium-nodrop")["last_train"],
            run("medium-nodrop").summary["test_ppl"],
        ),
    ),
    (
        "01_why_regularize.md",
        "| medium 2×650, dropout 0.5, `results/ptb/medium` | {} | {:.2f} ({}) | {:.1f}, {} | {:.1f} | {:.1f} |",
        lambda: (
            fit("medium")["epochs"],
            fit("medium")["best_valid"],
            fit("medium")["best_epoch"],
            fit("medium")["last_valid"],
            "level" if 0 < fit("medium")["rise"] < 0.0005 else "?",  # a rise that rounds to 0.0 %
            fit("medium")["last_train"],
            run("medium").summary["test_ppl"],
        ),
    ),
    # 01: the live sweep over three seeds
    (
        "01_why_regularize.md",
        "In all {} seeds the undropped model's validation perplexity ends {:.0f} % to {:.0f} % "
        "above its best epoch, and dropout 0.5 ends {:.0f} % to {:.0f} % below the undropped model.",
        lambda: (
            "three" if len(sweep01()["rise_none"]) == 3 else "?",
            100 * min(sweep01()["rise_none"]),
            100 * max(sweep01()["rise_none"]),
            100 * min(sweep01()["dropout_below_none"]),
            100 * max(sweep01()["dropout_below_none"]),
        ),
    ),
    ("01_why_regularize.md", "Each seed's two runs took {:.0f}–{:.0f} s side by side", lambda: sweep01()["seconds"]),
    # 01: the answer
    (
        "01_why_regularize.md",
        "| small 2×200 (Table 1) | all of PTB, {} epochs, one seed | best valid {:.1f} at epoch {}, test {:.1f}",
        lambda: (
            fit("small")["epochs"],
            fit("small")["best_valid"],
            fit("small")["best_epoch"],
            run("small").summary["test_ppl"],
        ),
    ),
    (
        "01_why_regularize.md",
        "| medium 2×650 | all of PTB, one seed | best valid {:.1f} at epoch {}, last {:.1f}: {} | best valid "
        "{:.1f} at epoch {}, test {:.1f}; the paper reports {} / {} |",
        lambda: (
            fit("medium-nodrop")["best_valid"],
            fit("medium-nodrop")["best_epoch"],
            fit("medium-nodrop")["last_valid"],
            "it overfits" if runs.story_findings()["nodrop_overfits"] else "?",
            fit("medium")["best_valid"] if runs.story_findings()["dropout_below"] else "?",
            fit("medium")["best_epoch"],
            run("medium").summary["test_ppl"],
            paper("medium", "valid"),
            paper("medium", "test"),
        ),
    ),
    (
        "01_why_regularize.md",
        "| 2×{} on a {:,}-token slice, live | {} epochs, seeds 1, 2, 3 | turns up after epoch {}–{}, ends "
        "{:.0f} %–{:.0f} % above its best | ends below it in {} of {} seeds |",
        lambda: (
            live.QUICK["hidden_size"],
            live.QUICK["train_tokens"],
            live.QUICK["epochs"],
            min(sweep01()["turn_none"]),
            max(sweep01()["turn_none"]),
            100 * min(sweep01()["rise_none"]),
            100 * max(sweep01()["rise_none"]),
            sum(b > 0 for b in sweep01()["dropout_below_none"]),
            len(sweep01()["dropout_below_none"]),
        ),
    ),
    # 02: the recorded sweep of the recurrent rate, the reruns, the answer
    (
        "02_where_dropout_goes.md",
        "| recurrent rate | {} | |---|---|---|---| | last-epoch valid, {} seeds | {} | "
        "| the best rate for seeds | {} |",
        lambda: (
            lambda f: (
                " | ".join(f"r = {r:g}" for r in f["rate"].values()),
                "three" if len(f["best"]) == 3 else "?",
                " | ".join(f"{lo:.0f}–{hi:.0f}" for lo, hi in (f["span"][k] for k in f["rate"])),
                " | ".join(", ".join(str(n) for n, b in f["best"].items() if b == k) or "—" for k in f["rate"]),
            )
        )(sweep("02_rates")),
    ),
    (
        "02_where_dropout_goes.md",
        "The reruns span test {:g}–{:g}; the paper's {} is {} that range, and so are this project's {} "
        "complete seeds, valid {}, test {}.",
        lambda: (
            *medium_reruns("test"),
            paper("medium", "test"),
            "below" if paper("medium", "test") < medium_reruns("test")[0] else "?",
            "two" if len(runs.seed_runs("medium")) == 2 else "?",
            medium_seeds()["valid"],
            medium_seeds()["test"]
            if max(r.test_ppl for r in runs.seed_runs("medium")) < medium_reruns("test")[0]
            else "?",
        ),
    ),
    (
        "02_where_dropout_goes.md",
        "| Masks on a {}-step path | `zaremba` {} (L + 1, at any distance), `everywhere` {}, `variational` {} "
        "multiplications by only {} distinct masks |",
        lambda: (lambda z, e, v: (20, z["applications"], e["applications"], v["applications"], v["distinct"]))(
            *(schemes.masks_on_path(s, num_layers=2, steps=20) for s in ("zaremba", "everywhere", "variational"))
        ),
    ),
    (
        "02_where_dropout_goes.md",
        "| 2×{}, a PTB slice, {} epochs, three seeds |",
        lambda: (live.DEMOS["02_rates"]["hidden_size"], live.DEMOS["02_rates"]["epochs"]),
    ),
    (
        "02_where_dropout_goes.md",
        "| Table 1, small (paper {} / {}) | valid {:.1f} / test {:.1f} | `results/ptb/small`, {} epochs, one seed |",
        lambda: (lambda t: (*t[:2], *t[3:], t[2]))(table1_line("small")),
    ),
    (
        "02_where_dropout_goes.md",
        "| Table 1, medium (paper {} / {}) | valid {} / test {} | `results/ptb/medium` and `medium-seed2`, {} epochs, "
        "two seeds; a third is training |",
        lambda: (
            (
                paper("medium", "valid"),
                paper("medium", "test"),
                *medium_seeds()[["valid", "test"]],
                run("medium").epochs_done if medium_seeds()["notes"] == "2 seeds, complete" else "?",
            )
            if not run("medium-seed3").complete
            else "?"
        ),
    ),
    (
        "02_where_dropout_goes.md",
        "| Table 1, large (paper {} / {}) | not run here (a full run ≈ {:.0f} h on two CPU cores)",
        lambda: (paper("large", "valid"), paper("large", "test"), runs.cost_estimate("large")["hours"]),
    ),
    # 03: the budget, the figures' titles, the verdict, the summary
    (
        "03_signal_decay.md",
        "at one small budget: a {}×{} LSTM, the first {:,} PTB training tokens, {} epochs, non-recurrent "
        "dropout {:g}, validation perplexity {} at the last epoch",
        lambda: (
            *(signal_runs.runs_budget(signal03())[k] for k in ("num_layers", "hidden_size")),
            *(signal_runs.runs_budget(signal03())[k] for k in ("max_train_tokens", "epochs")),
            signal_runs.runs_budget(signal03())["dropout"],
            "still falling" if improving03() else "?",
        ),
    ),
    (
        "03_signal_decay.md",
        "At one budget ({}×{}, {:,} tokens, {} epochs, {}):",
        lambda: (
            *(signal_runs.runs_budget(signal03())[k] for k in ("num_layers", "hidden_size")),
            *(signal_runs.runs_budget(signal03())[k] for k in ("max_train_tokens", "epochs")),
            "still improving" if improving03() else "?",
        ),
    ),
    (
        "03_signal_decay.md",
        "each scheme's zoo run, seeds {} and {}. - **Mask noise** (the wipe-out): the tuned zoo's runs at "
        "recurrent rates {:g} and {:g}, and retrains of the untuned zoo at {:g}",
        lambda: (
            *signal_runs.claim_two(claims())["seeds"],
            *sorted({n["rate"] for c in claims().values() for n in c.noise if n["zoo"] == "zoo-tuned"}),
            *sorted({n["rate"] for c in claims().values() for n in c.noise if n["zoo"] == "zoo-control" and n["rate"]}),
        ),
    ),
    (
        "03_signal_decay.md",
        "Masks on c: the signal fraction falls with k in {} of {} runs of memory, in no run of the others",
        lambda: (*falls("memory"), *([] if not any(falls(s)[0] for s in claims() if s != "memory") else ["?"])),
    ),
    (
        "03_signal_decay.md",
        "fades with the lag; {} forgets fastest",
        lambda: (min((c.far_over_near[0], s) for s, c in claims().items() if c.seeds and c.seeds[0] == 1)[1],),
    ),
    (
        "03_signal_decay.md",
        "More context lowers every model's perplexity: all {} use their state",
        lambda: (
            len(signal03())
            if all(signal_runs.state_use(r)["context_gain"] > signal_runs.IGNORES_GAIN for r in signal03().values())
            else "?",
        ),
    ),
    (
        "03_signal_decay.md",
        "the signal fraction falls steadily with the lag only under masks on $c$ (`memory`), to about a tenth "
        "of its lag-1 value by lags {}–{} at rates {:g} and {:g} (medians over those lags {:.2f} and {:.2f}), to "
        "about half at {:g}. Whether it crosses a tenth is **open**: one run per rate, rate tied to seed, the "
        "fall {} monotone in the rate, and there the masked Jacobian power reaches {:.0f}–{:.0f} times its "
        "lag-1 ratio to the eval-mode power",
        lambda: (
            (
                *signal_runs.FAR,
                *signal_runs.claim_one(claims())["open_at"]["memory"],
                *memory03("ratio")[2:],
                *({memory03("rate")[0]} if all(0.4 < r < 0.6 for r in memory03("ratio")[:2]) else {"?"}),
                "not" if memory03("ratio")[2] < memory03("ratio")[3] else "?",
                min(memory03("inflation")[2:]),
                max(memory03("inflation")[2:]),
            )
            if memory03("rate")[2:] == signal_runs.claim_one(claims())["open_at"]["memory"]
            and memory03("wipe")[2:] == ["open", "open"]
            and list(signal_runs.claim_one(claims())["open_at"]) == ["memory"]
            and not signal_runs.claim_one(claims())["holds_at"]
            else ("?",)
        ),
    ),
    (
        "03_signal_decay.md",
        "only masks on the cell make the signal fade with the lag; whether it is wiped out is open. {} model "
        "ignores its state",
        lambda: (
            "No"
            if not signal_runs.claim_two(claims())["holds"]
            and [s for s, (n, _) in signal_runs.claim_one(claims())["falls_in"].items() if n] == ["memory"]
            and not signal_runs.claim_one(claims())["holds"]
            else "?",
        ),
    ),
    # 05: the zoo, the tuning's verdict, averaging, the answer
    (
        "05_schemes_after_zaremba.md",
        "**Reading.** `{}` leads and `{}` comes next; {} {} schemes that drop on the recurrent path end "
        "behind both, with a higher training perplexity than `zaremba`'s: they learn {}. `none` fits its "
        "training text far better yet ends only {:.1f} points behind `zaremba`",
        lambda: (
            zoo_found()["winner"],
            zoo_found()["second"],
            "all" if zoo_found()["recurrent_behind"] == zoo_found()["recurrent"] else "?",
            len(zoo_found()["recurrent"]),
            "more slowly"
            if all(zoo_found()["train"][s] > zoo_found()["train"]["zaremba"] for s in zoo_found()["recurrent"])
            else "?",
            zoo_found()["valid"]["none"] - zoo_found()["valid"]["zaremba"],
        ),
    ),
    (
        "05_schemes_after_zaremba.md",
        "| model | the paper's small shape: {} layers × {} units, {} steps | | training text | the first {:,} PTB "
        "training tokens, {} epochs | | tokens seen | {:.1f} million (the paper's medium model: {:.0f} million) | | "
        "learning rate | {:g} for epochs 1–{}, then ÷{:g} each epoch | | non-recurrent dropout | p = {:g} (none: 0) | "
        "| recurrent site | p = {:g} (zoneout: keeps h with {:g}, c with {:g}) |",
        lambda: (
            lambda c, b, train: (
                c.num_layers,
                c.hidden_size,
                c.steps,
                c.max_train_tokens,
                c.epochs,
                c.max_train_tokens * c.epochs / 1e6,
                train * sweeps.run_config("zaremba", budget="medium").epochs / 1e6,
                c.lr,
                next(e for e in range(1, c.epochs + 1) if c.lr_at(e) < c.lr) - 1,
                c.lr_decay,
                b["dropout"],
                b["recurrent_rate"],
                b["zoneout_h"],
                b["recurrent_rate"],
            )
        )(sweeps.run_config("zaremba"), sweeps.BUDGET, run("zoo/zaremba-seed1").summary["corpus_sizes"]["train"]),
    ),
    (
        "03_signal_decay.md",
        "**Where it stands.** {} 2×650 model is measured, `zaremba`'s medium seed {}, the control. It leans on "
        "its state {} than the 2×200 models do: tokens 6 to 50 back lower its perplexity by {:.1f} % ({:.1f}–{:.1f} % "
        "at the small budget), and a token 30 back moves its $h$ {:.3f} as much as a token one back "
        "({:.3f}–{:.3f}). Both claims are about the recurrent schemes, which are still training",
        lambda: (
            lambda big, small, n: (
                "One" if n == 1 else "?",
                *big.seeds,
                "more"
                if min(big.context_gain) > max(small.context_gain) and min(big.far_over_near) > max(small.far_over_near)
                else "?",
                100 * big.context_gain[0],
                *(100 * g for g in sorted(small.context_gain)),
                big.far_over_near[0],
                *sorted(small.far_over_near),
            )
        )(full_claims()[0]["zaremba"], claims()["zaremba"], full_claims()[1]),
    ),
    (
        "05_schemes_after_zaremba.md",
        "**Where it stands.** {} 2×650 scheme run has ended, and `zaremba`'s medium seed 3 is {}",
        lambda: (
            "No"
            if not any(r.complete for k, r in zoo.load_full_scale().items() if not k.startswith("zaremba"))
            else "?",
            "still training" if run("medium-seed2").complete and not run("medium-seed3").complete else "?",
        ),
    ),
    (
        "05_schemes_after_zaremba.md",
        "The rule uses only the untuned zoo: `zaremba`'s {} seeds end at {:.1f} and {:.1f}",
        lambda: ("two" if seeds05("zaremba") == 2 else "?", *tuned()["band"]),
    ),
    (
        "05_schemes_after_zaremba.md",
        "**Verdict at this budget** ({}×{}, first {}k training tokens, {} epochs, models {}): {} recurrent "
        "scheme beats `zaremba` at any rate tried. The best recurrent rate is the smallest tried, {:g}, for {} "
        "of {} schemes (`{}`: {:g}): tuning moves them toward {} recurrent dropout. At its best rate, {} are "
        "level with `zaremba`; {} stay behind, {} borderline",
        lambda: (
            *budget05(),
            "still improving" if {"zaremba", *zoo_found()["recurrent"]} <= set(zoo_found()["improving"]) else "?",
            "no" if not tuned()["beaten_at"] and not tuned()["ahead"] else "?",
            min(zoo.TUNING["rates"]),
            len(tuned()["smallest_best"]),
            len(tuned()["best"]),
            *[(s, r) for s, r in tuned()["best"].best_rate.items() if s not in tuned()["smallest_best"]][0],
            "less" if (tuned()["best"].best_rate < zoo.BUDGET["recurrent_rate"]).all() else "?",
            names(tuned()["within"], " and "),
            names(tuned()["behind"], " and "),
            "none" if not tuned()["borderline"] else "?",
        ),
    ),
    (
        "05_schemes_after_zaremba.md",
        "Averaging {} non-regularized small models lowers {} perplexity by {:.1f} % here and by {:.1f} % in the paper",
        lambda: (
            "two" if averaged()["members"] == 2 else "?",
            averaged()["split"],
            100 * averaged()["two"][2],
            100 * averaged()["paper_two"][2],
        ),
    ),
    (
        "05_schemes_after_zaremba.md",
        "ten averaged non-regularized small models (test {}) {} one regularized medium model (test {})",
        lambda: (lambda ten, medium: (ten, "beat" if ten < medium else "?", medium))(
            runs.reported_averaging("small").set_index("members").loc[10, "test"], paper("medium", "test")
        ),
    ),
    (
        "05_schemes_after_zaremba.md",
        "**Untuned** ({}×{}, first {}k training tokens, {} epochs, recurrent rate {:g}): `{}` has the lowest "
        "validation perplexity; `{}` is {:.1f} behind (their seed ranges {}: suggestive, not a test), the last, "
        "`{}`, {:.1f}. The test split gives {}. Every scheme but `{}` is still improving at the last epoch",
        lambda: (
            *budget05(),
            zoo.BUDGET["recurrent_rate"],
            zoo_found()["winner"],
            zoo_found()["second"],
            zoo_found()["valid"][zoo_found()["second"]] - zoo_found()["valid"][zoo_found()["winner"]],
            "do not overlap" if zoo_found()["separated"] else "overlap",
            zoo_found()["last"],
            zoo_found()["valid"][zoo_found()["last"]] - zoo_found()["valid"][zoo_found()["winner"]],
            "the same order" if zoo_found()["test_same_order"] else "?",
            "none" if set(zoo_found()["order"]) - set(zoo_found()["improving"]) == {"none"} else "?",
        ),
    ),
    (
        "05_schemes_after_zaremba.md",
        "**Tuned:** {} recurrent scheme beats `zaremba` at any rate tried, and for {} of the {} the smallest "
        "rate tried is best: the evidence points toward less recurrent dropout, not toward a better place for "
        "it. {} come level with `zaremba`; {} stay behind",
        lambda: (
            "no" if not tuned()["beaten_at"] and not tuned()["ahead"] else "?",
            WORDS[len(tuned()["smallest_best"])],
            WORDS[len(tuned()["best"])],
            names(tuned()["within"], " and "),
            names(tuned()["behind"], " and "),
        ),
    ),
    (
        "05_schemes_after_zaremba.md",
        "Gal & Ghahramani's tied variational LSTM {} Zaremba's at both sizes they report; here `variational` "
        "{} `zaremba`, untuned and tuned",
        lambda: (
            "beats" if zoo_found()["published_order"] else "?",
            "trails"
            if not zoo_found()["published_order_here"] and tuned()["best"].loc["variational", "verdict"] == "behind"
            else "?",
        ),
    ),
    (
        "05_schemes_after_zaremba.md",
        "{} run on the fused `nn.LSTM` kernel; {} touch the recurrence at every step and need the custom "
        "per-step cell of `rnnreg/model.py`, which is {}",
        lambda: (
            lambda fused, custom, speed: (
                names(fused, " and "),
                names(custom, " and "),
                "slower" if speed.loc[custom, "tokens/s"].max() < speed.loc[fused, "tokens/s"].min() else "?",
            )
        )(
            [s for s in SCHEMES if s in FUSED_SCHEMES],
            [s for s in SCHEMES if s not in FUSED_SCHEMES],
            zoo.speed_table(zoo.load_bench()),
        ),
    ),
    # 04: the grid, the rules, the verdicts, the answer
    (
        "04_dropout_vs_smaller_model.md",
        "Each cell is a {}-layer LSTM with `zaremba` dropout, trained by the paper's small recipe on a "
        "slice of PTB: {} sizes N from {} to {} units, {} rates p from {:g} to {:g}, **one seed per "
        "cell**, the first {:,} training tokens, {} epochs",
        lambda: (
            equivalence.grid_config(200, 0.5).num_layers,
            WORDS04[len(equivalence.GRID["sizes"])],
            min(equivalence.GRID["sizes"]),
            max(equivalence.GRID["sizes"]),
            WORDS04[len(equivalence.GRID["rates"])],
            min(equivalence.GRID["rates"]),
            max(equivalence.GRID["rates"]),
            equivalence.GRID["budget"]["max_train_tokens"],
            equivalence.GRID["budget"]["epochs"],
        ),
    ),
    (
        "04_dropout_vs_smaller_model.md",
        "Only {} cell, the undropped N = {}, has several seeds ({}): their spread of log perplexity, sd, "
        "on {} degrees of freedom, is every cell's seed noise",
        lambda: (
            WORDS04[len(noise("train_eval_ppl").cells)],
            equivalence.ENSEMBLE["hidden_size"] if noise("train_eval_ppl").cells == ("h0050-p00",) else "?",
            WORDS04[noise("train_eval_ppl").runs],
            WORDS04[noise("train_eval_ppl").dof],
        ),
    ),
    (
        "04_dropout_vs_smaller_model.md",
        "on the fit's residual degrees of freedom: t from {:.1f} ({} cells) to {:.1f} ({} cells), not the normal 2",
        lambda: (
            lambda rs: (
                equivalence.t95(max(r.dof.max() for r in rs)),
                WORDS04[max(r.n.max() for r in rs)],
                equivalence.t95(min(r.dof.min() for r in rs)),
                WORDS04[min(r.n.min() for r in rs)],
            )
        )([fit04("train_eval_ppl").by_rate, fit04("valid_ppl").by_rate]),
    ),
    (
        "04_dropout_vs_smaller_model.md",
        "*on the unigram plateau* within {:.0f} % of the slice's unigram perplexity",
        lambda: (100 * equivalence.PLATEAU,),
    ),
    (
        "04_dropout_vs_smaller_model.md",
        "**Verdict** (sizes up to 2×{}, the first {:,} training tokens, {} epochs, one seed per cell, "
        "{} of {} dropout cells still improving). The point estimates of α {} with p, from {:.2f} at "
        "p = {:g} to {:.2f} at p = {:g}: no single α fits every rate. The unit count ($\\alpha = 1$, "
        "also the seed's N·N pairs) lies inside the 95 % interval at {} and outside it at p = {}: "
        "there dropout models fit *worse* than the units their masks leave, and {} count predicts "
        "$\\alpha > 1$",
        lambda: (
            max(equivalence.GRID["sizes"]),
            equivalence.GRID["budget"]["max_train_tokens"],
            equivalence.GRID["budget"]["epochs"],
            gains04()[0].improving.sum(),
            len(gains04()[0]),
            "grow" if alpha().alpha.is_monotonic_increasing else "?",
            alpha().alpha.iloc[0],
            alpha().index[0],
            alpha().alpha.iloc[-1],
            alpha().index[-1],
            "the two lower rates" if fit04("train_eval_ppl").consistent() == list(alpha().index[:2]) else "?",
            listed(fit04("train_eval_ppl").ruled_out()),
            "no"
            if max(
                max(a)
                for n in equivalence.GRID["sizes"]
                for a in equivalence.candidate_alpha_curves(n, alpha().index).values()
            )
            <= 1 + 1e-9
            else "?",
        ),
    ),
    (
        "04_dropout_vs_smaller_model.md",
        "those worse than the smallest undropped model {} sit on the unigram plateau",
        lambda: ("all" if 0 < len(worse04()[0]) == len(worse04()[1]) else "?",),
    ),
    (
        "04_dropout_vs_smaller_model.md",
        "The best undropped model is {}, N = {}. {} dropout models of that size (p = {}) beat every "
        "undropped size by more than the seed noise: **no smaller undropped model is equivalent to "
        "them**. Only {} the dropout cells have a validation equivalent",
        lambda: (
            lambda base, better, table: (
                "the largest" if base.idxmin() == base.index.max() else "?",
                base.idxmin() if set(better.hidden_size) == {base.idxmin()} else "?",
                WORDS04[len(better)].capitalize(),
                listed(better.dropout),
                "about half" if 0.4 <= (table.status == "ok").mean() <= 0.6 else "?",
            )
        )(
            equivalence.base_curve(equivalence.main_grid(grid()), "valid_ppl"),
            valid04("better").sort_values("dropout"),
            fit04("valid_ppl").table,
        ),
    ),
    (
        "04_dropout_vs_smaller_model.md",
        "The seed's caveat, measured on the dropout model N = {}, p = {:g}: **weight scaling** (all "
        "units, no masks: the standard prediction), **MC dropout** (the probabilities of S passes with "
        "training masks on, averaged over the “smaller models” the masks sample) and an **ensemble** of "
        "{} undropped N = {} models, {} as many parameters in all",
        lambda: (
            lambda s: (
                *equivalence.INFERENCE_CELL,
                WORDS04[s["members"]],
                equivalence.ENSEMBLE["hidden_size"],
                "about" if 0.8 < s["members"] * s["member_parameters"] / s["dropout_parameters"] < 1.25 else "?",
            )
        )(equivalence.inference_summary(equivalence.load_inference())),
    ),
    (
        "04_dropout_vs_smaller_model.md",
        "**On validation text, dropout at N = {} beats every undropped size.** No smaller model is "
        "equivalent to those {} models",
        lambda: (only(dict.fromkeys(valid04("better").hidden_size))[0], WORDS04[len(valid04("better"))]),
    ),
    (
        "04_dropout_vs_smaller_model.md",
        "The unit count $N_{{eq}} = N(1-p)$ stands at p ≤ {:g} and fails at p ≥ {:g}",
        lambda: (
            lambda fit: (
                max(fit.consistent()) if max(fit.consistent()) < min(fit.ruled_out()) else "?",
                min(fit.ruled_out()),
            )
        )(fit04("train_eval_ppl")),
    ),
    (
        "04_dropout_vs_smaller_model.md",
        "**At inference** weight scaling {} both explicit averages over smaller models: MC dropout and "
        "an ensemble of about the same size. On PTB the paper's {} averaged small models beat its "
        "medium dropout model; “dropout ≈ an ensemble of {}” is its image-captioning result",
        lambda: (
            lambda s, avg: (
                "beats" if s["weight_scaling"] < min(s["mc"], s["ensemble"]) else "?",
                WORDS04[avg[avg.test < published.reported("medium")["test"]].members.iloc[0]],
                WORDS04[published.CAPTIONING["members"]],
            )
        )(equivalence.inference_summary(equivalence.load_inference()), runs.reported_averaging("small")),
    ),
    # 06: the scorecard
    (
        "06_scorecard.md",
        "| {} / {} | {} / {} ({} seeds); without dropout: best {:.1f} valid, then overfits | **holds** (all of "
        "PTB, {} epochs) |",
        lambda: (
            paper("medium", "valid"),
            paper("medium", "test"),
            medium_seeds()["valid"],
            medium_seeds()["test"],
            len(runs.seed_runs("medium")),
            fit("medium-nodrop")["best_valid"],
            run("medium").epochs_done,
        ),
    ),
    (
        "06_scorecard.md",
        "| {} / {} | {:.1f} / {:.1f} | **holds** (all of PTB, {} epochs) |",
        lambda: (
            paper("small", "valid"),
            paper("small", "test"),
            run("small").final("valid_ppl"),
            run("small").summary["test_ppl"],
            run("small").epochs_done,
        ),
    ),
    (
        "06_scorecard.md",
        "| {} / {} | test {:.1f} | **holds** (two seeds) |",
        lambda: (*two_small_paper(), averaged()["two"][1] if averaged()["members"] == 2 else "?"),
    ),
]

# The exercises' solutions (chapters 01-05): each number a solution quotes, read back.


def after_stall(name: str):
    """The log from the first epoch within 1 % of the best (:func:`stall`) to the end."""
    log = run(name).log
    return log[log.epoch >= stall(name).epoch]


def halving_from(name: str):
    """The first epoch whose learning rate is below the first epoch's."""
    log = run(name).log
    return log[log.lr < log.lr.iloc[0]].iloc[0]


def grid_cell(n: int, p: float):
    g = grid()
    return g[(g.hidden_size == n) & (g.dropout == p) & (g.seed == 1)].iloc[0]


def masks02():
    from rnnreg.analysis import schemes

    h = schemes.sample_masks("everywhere", steps=20, units=16, rate=0.65, seed=0)["h"]
    return h.mean().item(), h.numel(), int(h.prod(0).sum()), h.size(1)


def speed02(scheme: str) -> float:
    return zoo.speed_table(zoo.load_bench()).loc[scheme, "× reference"]


def bisect(f, target: float, lo: float, hi: float) -> float:
    """The x in [lo, hi] with f(x) = target, f increasing."""
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if f(mid) < target else (lo, mid)
    return hi


def swap03(scheme: str):
    """Seed 1's swap sensitivity (evaluation mode) per lag, over its lag-1 value."""
    swap = signal03()[scheme].swap_eval.set_index("lag").relative_dh
    return swap.loc[1:] / swap.loc[1]


def lm_weights04(n: float) -> float:
    return equivalence.theory_candidates(n, 0.5)["weights of the LM under zaremba"] / n


HALFWAY04 = (0.5 + (1 - 0.5 / 2) ** 0.5) / 2  # between the units (0.5 N) and zaremba's pairs (√0.75 N)


@cache
def doubled04():
    import dataclasses

    n = noise("train_eval_ppl")
    return equivalence.alpha_fit(grid(), "train_eval_ppl", dataclasses.replace(n, sd=2 * n.sd))


def train05(scheme: str):
    """Training perplexity per epoch, averaged over the scheme's seeds."""
    import pandas as pd

    frames = [d.set_index("epoch").train_ppl for k, d in zoo.curves(zoo.load_zoo(), (scheme,)).items()]
    return pd.concat(frames, axis=1).mean(axis=1)


def range05(scheme: str):
    valid = [r.final("valid_ppl") for r in zoo.load_zoo()[scheme] if r.complete]
    return min(valid), max(valid)


def seeds05(scheme: str) -> int:
    return sum(r.complete for r in zoo.load_zoo()[scheme])


def budget05() -> tuple:
    """The zoo's budget as chapter 05 types it: layers, units, thousands of training tokens, epochs."""
    c = sweeps.run_config("zaremba")
    return c.num_layers, c.hidden_size, c.max_train_tokens // 1000, c.epochs


WORDS = {4: "four", 5: "five"}


def chosen05() -> dict:
    """Test perplexity at each scheme's chosen rate (zaremba: nothing to tune), best first; valid likewise."""
    best, summary = tuned()["best"], zoo.tuning_summary(zoo.tuning_runs())
    zar = summary[summary.scheme == "zaremba"].iloc[0]
    test = {"zaremba": zar.test_ppl, **best.test_ppl.to_dict()}
    valid = {"zaremba": zar.valid_ppl, **best.valid_ppl.to_dict()}
    return {
        "test": dict(sorted(test.items(), key=lambda kv: kv[1])),
        "valid": dict(sorted(valid.items(), key=lambda kv: kv[1])),
    }


def valid05(scheme: str, seed: int):
    (r,) = [r for r in zoo.load_zoo()[scheme] if zoo.seed_of(r) == seed]
    return r.log.valid_ppl


def follow_up(method: str) -> dict:
    (row,) = [r for r in published.FOLLOW_UPS if r["method"] == method]
    return row


AWD = ("Zaremba large regularized LSTM (2×1500)", "AWD-LSTM (3 layers, tied weights)",
       "AWD-LSTM without weight drop (ablation)")  # fmt: skip

QUOTES += [
    ("01_why_regularize.md", "about twice the default's {:.0f}–{:.0f} s per seed", lambda: sweep01()["seconds"]),
    (
        "01_why_regularize.md",
        "Look for `none`'s best epoch moving past the default's {}–{}",
        lambda: (min(sweep01()["turn_none"]), max(sweep01()["turn_none"])),
    ),
    (
        "01_why_regularize.md",
        "the lowest validation perplexity is at epoch {}, the last one; from epoch {:.0f} on it stays {}, "
        "rising to {:.1f} at epoch {:.0f} and falling back. The learning rate halves every epoch from epoch {:.0f} on",
        lambda: (
            fit("small")["best_epoch"] if fit("small")["best_epoch"] == fit("small")["epochs"] else "?",
            stall("small").epoch,
            "within 1 %" if after_stall("small").valid_ppl.max() <= 1.01 * fit("small")["best_valid"] else "?",
            after_stall("small").valid_ppl.max(),
            after_stall("small").set_index("epoch").valid_ppl.idxmax(),
            halving_from("small").epoch,
        ),
    ),
    (
        "01_why_regularize.md",
        "at N = {}, p = {:g}, {:.1f} with dropout on, {:.1f} off",
        lambda: (200, 0.5, grid_cell(200, 0.5).train_dropout_ppl, grid_cell(200, 0.5).train_eval_ppl),
    ),
    (
        "02_where_dropout_goes.md",
        "(this draw keeps ${:.2f}$ of its ${}$ entries), all twenty in a row with probability "
        "$0.35^{{20}} \\approx {} \\times 10^{{{}}}$ (${} \\times 10^{{{}}}$ with the input, between-layer and "
        "output masks too): ${}$ of the ${}$ units survive all twenty",
        lambda: (*masks02()[:2], *f"{0.35**20:.1e}".split("e"), *f"{0.35**23:.1e}".split("e"), *masks02()[2:]),
    ),
    (
        "02_where_dropout_goes.md",
        "`everywhere` {:.2f}×, `memory` {:.2f}×, `weight_drop` {:.2f}× the reference's speed",
        lambda: (speed02("everywhere"), speed02("memory"), speed02("weight_drop")),
    ),
    (
        "03_signal_decay.md",
        "*Solution 4.* {} does within the lags measured",
        lambda: ("Neither" if min(swap03("everywhere").min(), swap03("zaremba").min()) >= 0.01 else "?",),
    ),
    (
        "04_dropout_vs_smaller_model.md",
        "Halfway between the units and `zaremba`'s pairs is N_eq = {:.3f} N. The LM-weights candidate "
        "reaches it at N ≈ {:.0f} (bisection on N with `theory_candidates`); on the panel's slider, at N = {}.",
        lambda: (
            HALFWAY04,
            bisect(lm_weights04, HALFWAY04, 10, 1500),
            810 if lm_weights04(800) < HALFWAY04 <= lm_weights04(810) else "?",
        ),
    ),
    (
        "04_dropout_vs_smaller_model.md",
        "only p = {} stays ruled out; the interval at p = {} now holds $\\alpha = 1$. Every interval rests "
        "on one cell's noise estimate: only the {} verdict survives getting it wrong by a factor of two",
        lambda: (
            listed(doubled04().ruled_out()),
            listed(sorted(set(fit04("train_eval_ppl").ruled_out()) - set(doubled04().ruled_out()))),
            "highest rate's" if doubled04().ruled_out() == [max(equivalence.GRID["rates"])] else "?",
        ),
    ),
    (
        "04_dropout_vs_smaller_model.md",
        "A larger noise there would weaken the {} cells “better than every undropped model”, all of that size",
        lambda: (WORDS04[len(valid04("better"))] if set(valid04("better").hidden_size) == {200} else "?",),
    ),
    (
        "04_dropout_vs_smaller_model.md",
        "It falls but {} above weight scaling at every recorded count, and the last pass gained {}",
        lambda: (lambda mc, ws: ("stays" if min(mc) > ws else "?", "under one point" if mc[-2] - mc[-1] < 1 else "?"))(
            equivalence.load_inference()["mc_dropout_ppl"], equivalence.load_inference()["weight_scaling_ppl"]
        ),
    ),
    (
        "05_schemes_after_zaremba.md",
        "the ratio of `variational`'s running training perplexity to `zaremba`'s {} from {:.2f} at the first "
        "epoch to {:.2f} at the last. It does not shrink",
        lambda: (lambda ratio: ("grows" if ratio.is_monotonic_increasing else "?", ratio.iloc[0], ratio.iloc[-1]))(
            train05("variational") / train05("zaremba")
        ),
    ),
    (
        "05_schemes_after_zaremba.md",
        "the answer's verdict (`zaremba` vs `none`) flips only if a new seed lands more than {:.1f} outside its "
        'scheme\'s range, and `analysis.zoo.separated(zoo, "zaremba", "everywhere")` only if one lands more '
        "than {:.1f} outside",
        lambda: (
            range05("none")[0] - range05("zaremba")[1] if zoo_found()["separated"] else "?",
            range05("everywhere")[0] - range05("zaremba")[1]
            if zoo.separated(zoo.load_zoo(), "zaremba", "everywhere")
            else "?",
        ),
    ),
    (
        "05_schemes_after_zaremba.md",
        "By test the order is {}. On validation `{}` edges `{}`, by less than {:g}; on test `{}` leads. The "
        "others keep their order; the swap at the top sits well inside `zaremba`'s seed range",
        lambda: (
            lambda t, v: (
                names(list(t)),
                *list(v)[:2],
                0.1 if list(v.values())[1] - list(v.values())[0] < 0.1 else "?",
                list(t)[0]
                if list(t)[2:] == list(v)[2:]
                and set(list(t)[:2]) == set(list(v)[:2])
                and all(tuned()["band"][0] <= v[s] <= tuned()["band"][1] for s in list(v)[:2])
                else "?",
            )
        )(chosen05()["test"], chosen05()["valid"]),
    ),
    (
        "05_schemes_after_zaremba.md",
        "`{}`, likewise `zaremba`. Recorded at {} epochs, `none`'s first seed turns up after epoch {}, its "
        "second {}, and `zaremba` {} in both seeds",
        lambda: (
            run("zoo/none-seed1")
            .summary["command"]
            .replace(" --quiet", "")
            .replace("--epochs 6", "--epochs 12")
            .replace("results/ptb/zoo/", "runs/zoo-12/"),
            zoo_found()["last_epoch"],
            zoo_found()["none_best_epoch"] if valid05("none", 1).idxmin() < len(valid05("none", 1)) - 1 else "?",
            "not yet" if valid05("none", 2).idxmin() == len(valid05("none", 2)) - 1 else "?",
            "still falls" if all(valid05("zaremba", k).is_monotonic_decreasing for k in (1, 2)) else "?",
        ),
    ),
    (
        "05_schemes_after_zaremba.md",
        "Of AWD-LSTM's {:.1f}-point test gain over Zaremba's large model, its ablation without weight drop gives "
        "back {:.1f} ({:.0f} %)",
        lambda: (
            lambda z, a, b: (
                z["test"] - a["test"],
                b["test"] - a["test"],
                100 * (b["test"] - a["test"]) / (z["test"] - a["test"]),
            )
        )(*map(follow_up, AWD)),
    ),
]


def solutions00() -> tuple:
    """Chapter 00's solutions: the presets' parameter counts, alpha at p = 0.65, masks on a 3-layer path."""
    from rnnreg.analysis import schemes
    from rnnreg.config import Config, parameter_count

    small, medium = (parameter_count(Config.from_preset(p), 10_000) for p in ("small", "medium"))
    alpha65 = alpha().alpha.loc[0.65]
    masks = [schemes.masks_on_path(s, num_layers=3, steps=20)["applications"] for s in ("zaremba", "everywhere")]
    (ten,) = [r["test"] for r in published.REPORTED_AVERAGING if r["model"] == "small" and r["members"] == 10]
    return small, medium, alpha65, 1500 * 0.35**alpha65, masks, ten


QUOTES += [
    ("00_guide.md", "= {},$$ the table's count", lambda: (f"{solutions00()[1]:,}".replace(",", "{,}"),)),
    (
        "00_guide.md",
        "At $p = 0.65$ the training fit gives $\\alpha = {:.2f}$, so "
        "$N_{{eq}} = 1500 \\cdot 0.35^{{{:.2f}}} \\approx {:.0f}$",
        lambda: (solutions00()[2], solutions00()[2], solutions00()[3]),
    ),
    (
        "00_guide.md",
        "Under `zaremba` ${} = L + 1$ masks, whatever the number of steps; under `everywhere` ${} = 4 + 20$",
        lambda: tuple(solutions00()[4]),
    ),
    (
        "00_guide.md",
        "Ten averaged small models: test {}, against {} for one medium model, so the ensemble is better; it "
        "also has ${:.1f}$ times the parameters ($10 \\cdot {} = {}$ against ${}$).",
        lambda: (
            solutions00()[5],
            paper("medium", "test"),
            10 * solutions00()[0] / solutions00()[1],
            *(f"{n:,}".replace(",", "{,}") for n in (solutions00()[0], 10 * solutions00()[0], solutions00()[1])),
        ),
    ),
]


@pytest.mark.parametrize("chapter,phrase,values", QUOTES, ids=[f"{c[:2]}:{p[:40]}" for c, p, _ in QUOTES])
def test_each_typed_result_is_read_back_from_its_run(chapter, phrase, values):
    text = " ".join((BOOK / chapter).read_text(encoding="utf-8").split())
    said = phrase.format(*values())
    assert said in text, f"book/{chapter} should say: {said}"


@pytest.mark.parametrize("scheme", ["zaremba", "everywhere", "memory", "variational", "weight_drop", "zoneout"])
def test_chapter_03s_verdict_per_scheme_is_read_back(scheme):
    """Chapter 03's list: each scheme's verdict on both claims, in words."""
    c = claims()[scheme]
    n = sum(f["falls"] for f in c.noise)
    one = f"falls in {n} of {len(c.noise)} runs" if n else "does not fall"
    for state, words in (("wiped", "wiped out"), ("open", "the wipe-out open")):
        if c.rates(state):
            one += f"; {words} at rates {', '.join(f'{r:g}' for r in c.rates(state))}"
    two = (
        "a shorter memory, the state still used"
        if c.shorter_memory
        else "the state ignored"
        if c.ignores_state
        else "the state used"
    )
    line = f"{one}; {two}."
    text = " ".join((BOOK / "03_signal_decay.md").read_text(encoding="utf-8").split())
    assert f"**`{scheme}`**" in text and line in text.split(f"**`{scheme}`**", 1)[1].split(" - ")[0], line
