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

from rnnreg import live, published
from rnnreg.analysis import equivalence, runs, signal_runs, zoo

BOOK = Path(__file__).resolve().parent.parent / "book"


@cache
def run(name: str):
    return runs.load_run(f"ptb/{name}")


@cache
def fit(name: str) -> dict:
    return runs.overfitting(run(name))


@cache
def claims():
    return signal_runs.scheme_claims(
        signal_runs.load_signal_seeds(), signal_runs.load_mask_noise(), near=1, far=30, noise_near=1, noise_far=30
    )


@cache
def by_lag():
    """Claim (1) read at k = 10, 20, 30 for each run: [(run, [state at each lag])] of those whose state moves."""
    table = signal_runs.wipe_by_lag(signal_runs.load_mask_noise())
    moved = table[~table["same verdict"]]
    return table, [
        (name, [cell.split()[0] for cell in row[["k=10", "k=20", "k=30"]]]) for name, row in moved.iterrows()
    ]


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


def named(table) -> str:
    """Grid cells as chapter 04 types them: "N = 200, p = 0.2; N = 200, p = 0.35"."""
    return "; ".join(f"N = {n}, p = {p:g}" for n, p in zip(table.hidden_size, table.dropout))


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


@cache
def tuned():
    return zoo.tuning_findings(zoo.tuning_runs())


@cache
def zoo_found() -> dict:
    return zoo.findings(zoo.load_zoo(), zoo.seed_reference())


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


@cache
def speed() -> dict:
    return zoo.speed_findings(zoo.load_bench())


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
        "reproduces Table 1 (test {:.1f}, paper {})",
        lambda: (run("small").summary["test_ppl"], paper("small", "test")),
    ),
    (
        "00_guide.md",
        "{} validation perplexity turns up while train keeps falling; with dropout 0.5 its best validation "
        "perplexity is {:.1f}, {} the undropped model's {:.1f}, and its test {:.1f} (paper {})",
        lambda: (
            "without dropout" if runs.story_findings()["nodrop_overfits"] else "?",
            fit("medium")["best_valid"],
            "below" if runs.story_findings()["dropout_below"] else "above",
            fit("medium-nodrop")["best_valid"],
            run("medium").summary["test_ppl"],
            paper("medium", "test"),
        ),
    ),
    (
        "00_guide.md",
        "holds for {} of the {} schemes measured; masks on c shorten the memory (`{}`); “noise wipes out "
        "the signal” holds for `{}` at recurrent rate {:g} only, and is at the threshold (within two "
        "standard errors) at {:g}",
        lambda: (
            "none" if not signal_runs.claim_two(claims())["holds"] else "?",
            "six" if len(signal_runs.claim_one(claims())["measured"]) == 6 else "?",
            *signal_runs.claim_two(claims())["shorter_memory"],
            only(signal_runs.claim_one(claims())["holds_at"])[0],
            *only(signal_runs.claim_one(claims())["holds_at"])[1],
            *only(signal_runs.claim_one(claims())["threshold_at"])[1],
        ),
    ),
    (
        "00_guide.md",
        "α from {:.2f} (p = {:g}) to {:.2f} (p = {:g}) on training perplexity",
        lambda: (alpha().alpha.iloc[0], alpha().index[0], alpha().alpha.iloc[-1], alpha().index[-1]),
    ),
    (
        "00_guide.md",
        "at one untuned budget `{}` leads and every recurrent scheme trails it; with its recurrent rate "
        "tuned, {} reach `zaremba` within seed noise (all {} tuning runs recorded)",
        lambda: (
            zoo.findings(zoo.load_zoo())["winner"],
            " and ".join(f"`{s}`" for s in tuned()["within"]),
            len(tuned()["done"]) if tuned()["settled"] and len(tuned()["done"]) == tuned()["planned"] else "?",
        ),
    ),
    # 01: the recorded small run
    (
        "01_why_regularize.md",
        "Train perplexity falls from {:.1f} (epoch 1) to {:.1f} (epoch {}). Validation "
        "perplexity falls with it only until epoch {:.0f} ({:.1f}), then stays within 1 % of that "
        "(best {:.1f}, epoch {}) while train perplexity keeps falling from {:.1f} to {:.1f}: at "
        "the end the two are a factor {:.2f} apart. The halving learning rate ({:.3f} at the "
        "last epoch)",
        lambda: (
            run("small").log.train_ppl.iloc[0],
            fit("small")["last_train"],
            fit("small")["epochs"],
            stall("small").epoch,
            stall("small").valid_ppl,
            fit("small")["best_valid"],
            fit("small")["best_epoch"],
            stall("small").train_ppl,
            fit("small")["last_train"],
            fit("small")["last_valid"] / fit("small")["last_train"],
            run("small").log.lr.iloc[-1],
        ),
    ),
    (
        "01_why_regularize.md",
        "the paper's protocol): {:.1f}; the paper reports {} / {} (valid / test, Table 1), the TF tutorial {} / {}",
        lambda: (
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
        "(`results/ptb/small`, {} epochs): valid {:.1f} at the last epoch, {}; train {:.1f}",
        lambda: (
            fit("small")["epochs"],
            fit("small")["last_valid"],
            "still falling" if fit("small")["rise"] == 0 else "?",
            fit("small")["last_train"],
        ),
    ),
    (
        "01_why_regularize.md",
        "(`results/ptb/medium-nodrop`, {} epochs): valid {:.1f} at the last epoch, up {:.1f} % "
        "from its best (epoch {}, {:.1f}); train {:.1f}",
        lambda: (
            fit("medium-nodrop")["epochs"],
            fit("medium-nodrop")["last_valid"],
            100 * fit("medium-nodrop")["rise"],
            fit("medium-nodrop")["best_epoch"],
            fit("medium-nodrop")["best_valid"],
            fit("medium-nodrop")["last_train"],
        ),
    ),
    (
        "01_why_regularize.md",
        "(`results/ptb/medium`, {} epochs): valid {:.1f} at the last epoch, {} with its best "
        "(epoch {}, {:.2f}); train {:.1f}",
        lambda: (
            fit("medium")["epochs"],
            fit("medium")["last_valid"],
            "level" if 0 < fit("medium")["rise"] < 0.0005 else "?",  # a rise that rounds to 0.0 %
            fit("medium")["best_epoch"],
            fit("medium")["best_valid"],
            fit("medium")["last_train"],
        ),
    ),
    # 01: the live sweep over three seeds
    (
        "01_why_regularize.md",
        "In all {} seeds the undropped model's validation perplexity ends {:.0f} % to {:.0f} % "
        "above its best epoch, and dropout 0.5 ends {:.0f} % to {:.0f} % below the undropped "
        "model. Each seed's two runs took {:.0f}–{:.0f} s",
        lambda: (
            len(sweep01()["rise_none"]),
            100 * min(sweep01()["rise_none"]),
            100 * max(sweep01()["rise_none"]),
            100 * min(sweep01()["dropout_below_none"]),
            100 * max(sweep01()["dropout_below_none"]),
            *sweep01()["seconds"],
        ),
    ),
    # 01: the answer
    (
        "01_why_regularize.md",
        "without dropout** — best valid {:.1f} at epoch {}, test {:.1f}",
        lambda: (fit("small")["best_valid"], fit("small")["best_epoch"], run("small").summary["test_ppl"]),
    ),
    (
        "01_why_regularize.md",
        "2×650 without dropout** — best valid {:.1f} at epoch {}, last {:.1f}, test {:.1f}",
        lambda: (
            fit("medium-nodrop")["best_valid"],
            fit("medium-nodrop")["best_epoch"],
            fit("medium-nodrop")["last_valid"],
            run("medium-nodrop").summary["test_ppl"],
        ),
    ),
    (
        "01_why_regularize.md",
        "(the paper's medium model) — best valid {:.1f} at epoch {}, last {:.1f}, test {:.1f}; "
        "the paper reports {} / {}",
        lambda: (
            fit("medium")["best_valid"],
            fit("medium")["best_epoch"],
            fit("medium")["last_valid"],
            run("medium").summary["test_ppl"],
            paper("medium", "valid"),
            paper("medium", "test"),
        ),
    ),
    (
        "01_why_regularize.md",
        "(recorded over seeds 1, 2, 3): without dropout validation perplexity turns up after "
        "epoch {}–{} and ends {:.0f} %–{:.0f} % above its best; dropout ends below it in {} of {} "
        "seeds",
        lambda: (
            min(sweep01()["turn_none"]),
            max(sweep01()["turn_none"]),
            100 * min(sweep01()["rise_none"]),
            100 * max(sweep01()["rise_none"]),
            sum(b > 0 for b in sweep01()["dropout_below_none"]),
            len(sweep01()["dropout_below_none"]),
        ),
    ),
    (
        "01_why_regularize.md",
        "{} the 2×650 model overfits at full scale: its validation perplexity turned up after "
        "epoch {} while its train perplexity kept falling. With dropout its best validation "
        "perplexity is {:.1f}, {} the undropped model's best ({:.1f})",
        lambda: (
            "Without dropout" if runs.story_findings()["nodrop_overfits"] else "?",
            fit("medium-nodrop")["best_epoch"],
            fit("medium")["best_valid"],
            "below" if runs.story_findings()["dropout_below"] else "not below",
            fit("medium-nodrop")["best_valid"],
        ),
    ),
    # 02: the recorded sweep of the recurrent rate, the reruns, the answer
    (
        "02_where_dropout_goes.md",
        "Best last-epoch validation perplexity per seed: {}. Over the seeds each rate ends "
        "in: {}. Each seed's {} runs took {:.0f}–{:.0f} s ({} at a time, one core each)",
        lambda: (
            ", ".join(f"seed {k}: r = {sweep('02_rates')['rate'][b]:g}" for k, b in sweep("02_rates")["best"].items()),
            "; ".join(
                f"r = {sweep('02_rates')['rate'][k]:g} {lo:.0f}–{hi:.0f}"
                for k, (lo, hi) in sweep("02_rates")["span"].items()
            ),
            len(sweep("02_rates")["rate"]),
            *sweep("02_rates")["seconds"],
            runs.load_sweep("live/02_rates.json")["workers"],
        ),
    ),
    (
        "02_where_dropout_goes.md",
        "Others' reruns of the medium recipe ({} results in {} threads) span valid {:g}–{:g} "
        "and test {:g}–{:g}; the paper's test {} is {} that range. This project's run lands "
        "{} it too: valid {:.1f}, test {:.1f} ({:.1f} % below the paper's)",
        lambda: (
            sum(x["model"] == "medium" for x in published.RERUNS),
            len({x["source"] for x in published.RERUNS if x["model"] == "medium"}),
            *medium_reruns("valid"),
            *medium_reruns("test"),
            paper("medium", "test"),
            "below" if paper("medium", "test") < medium_reruns("test")[0] else "?",
            "below"
            if run("medium").final("valid_ppl") < medium_reruns("valid")[0]
            and run("medium").summary["test_ppl"] < medium_reruns("test")[0]
            else "?",
            run("medium").final("valid_ppl"),
            run("medium").summary["test_ppl"],
            -100 * (run("medium").summary["test_ppl"] / paper("medium", "test") - 1),
        ),
    ),
    (
        "02_where_dropout_goes.md",
        "**Table 1, small** (paper {} / {}): `results/ptb/small`, {} epochs: valid {:.1f} / test {:.1f}",
        lambda: table1_line("small"),
    ),
    (
        "02_where_dropout_goes.md",
        "**Table 1, medium** (paper {} / {}): `results/ptb/medium`, {} epochs: valid {:.1f} / test {:.1f}",
        lambda: table1_line("medium"),
    ),
    (
        "02_where_dropout_goes.md",
        "**Table 1, large** (paper {} / {}): not run here (a full run ≈ {:.0f} h on two CPU cores)",
        lambda: (paper("large", "valid"), paper("large", "test"), runs.cost_estimate("large")["hours"]),
    ),
    # 03: the retrain check, the figures' titles, the verdict, the summary
    (
        "03_signal_decay.md",
        "gives train {:.3f}, valid {:.3f} both times, and so does the retrain's epoch 1; the "
        "recorded run's epoch 1 is train {:.3f}, valid {:.3f}. The code's changes left epoch 1 {}",
        lambda: (
            zoo.retrain_cause()["checks"][0]["train_ppl"],
            zoo.retrain_cause()["checks"][0]["valid_ppl"],
            zoo.retrain_cause()["recorded"]["train_ppl"],
            zoo.retrain_cause()["recorded"]["valid_ppl"],
            "the same"
            if all(zoo.retrain_cause()[k] for k in ("same_code", "same_setup", "retrain_matches"))
            and not zoo.retrain_cause()["recorded_matches"]
            else "?",
        ),
    ),
    (
        "03_signal_decay.md",
        "the signal fraction falls with k in {} of {} runs of memory, none of the others",
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
            (len(signal_runs.state_use_findings(signal_runs.load_signal_seeds()[1], short=5, long=50)),)
            if not any(
                u["category"] == "ignores"
                for u in signal_runs.state_use_findings(signal_runs.load_signal_seeds()[1], short=5, long=50).values()
            )
            else ("?",)
        ),
    ),
    (
        "03_signal_decay.md",
        "Read at $k$ = 10, 20 and 30, {} of {} runs keep one verdict; it moves with the lag for {}",
        lambda: (
            int(by_lag()[0]["same verdict"].sum()),
            len(by_lag()[0]),
            " and ".join(
                f"`{name.split(', ')[0]}` at {name.split(', ', 1)[1]} ({', '.join(states)})"
                for name, states in by_lag()[1]
            ),
        ),
    ),
    (
        "03_signal_decay.md",
        "holds for `{}` at recurrent rate {:g} only (at the threshold, within two standard errors, "
        "at {:g}); the signal fraction falls clearly with the lag in {} of {} runs of `memory` and "
        "in no run of the other {} schemes",
        lambda: (
            *only(signal_runs.claim_one(claims())["holds_at"])[:1],
            *only(signal_runs.claim_one(claims())["holds_at"])[1],
            *only(signal_runs.claim_one(claims())["threshold_at"])[1],
            *falls("memory"),
            "five" if sum(not falls(s)[0] for s in claims()) == 5 else "?",
        ),
    ),
    (
        "03_signal_decay.md",
        "“the model ignores its state”: holds for {} of the six; a shorter memory for `{}`; neither for {} (seeds {})",
        lambda: (
            "none" if not signal_runs.claim_two(claims())["holds"] else "?",
            *signal_runs.claim_two(claims())["shorter_memory"],
            ", ".join(f"`{s}`" for s in signal_runs.claim_two(claims())["neither"]),
            ", ".join(map(str, signal_runs.claim_two(claims())["seeds"])),
        ),
    ),
    # 05: the tuning's verdict, the answer, the speed
    (
        "05_schemes_after_zaremba.md",
        "“`zaremba` beats every recurrent scheme” **{}**: tuned, {} reach it within seed "
        "noise; {} stay behind it, beyond seed noise. All {} planned runs are recorded",
        lambda: (
            "does not hold as stated" if tuned()["within"] or tuned()["ahead"] else "?",
            names(tuned()["within"], " and "),
            names(tuned()["behind"], " and "),
            tuned()["planned"] if len(tuned()["done"]) == tuned()["planned"] and not tuned()["ahead"] else "?",
        ),
    ),
    (
        "05_schemes_after_zaremba.md",
        "**At the untuned budget** `{}` has the lowest validation perplexity, {:.1f} (test "
        "{:.1f}); `{}` is {:.1f} behind, the last, `{}`, {:.1f}. The test split gives {}",
        lambda: (
            zoo_found()["winner"],
            zoo_found()["valid"][zoo_found()["winner"]],
            zoo_found()["test"][zoo_found()["winner"]],
            zoo_found()["second"],
            zoo_found()["valid"][zoo_found()["second"]] - zoo_found()["valid"][zoo_found()["winner"]],
            zoo_found()["last"],
            zoo_found()["valid"][zoo_found()["last"]] - zoo_found()["valid"][zoo_found()["winner"]],
            "the same order" if zoo_found()["test_same_order"] else "?",
        ),
    ),
    (
        "05_schemes_after_zaremba.md",
        "**Seeds:** {} or more per scheme, validation spreads up to {:.1f}; the seed "
        "ranges of `{}` and `{}` {} (suggestive, not a test). For scale, {} seeds of "
        "chapter 04's 2×50 model end {:.1f} points ({:.1f} %) apart",
        lambda: (
            zoo_found()["min_seeds"],
            max(zoo_found()["spread"].values()),
            zoo_found()["winner"],
            zoo_found()["second"],
            "do not overlap" if zoo_found()["separated"] else "overlap",
            zoo_found()["reference"]["runs"],
            zoo_found()["reference"]["spread"],
            100 * zoo_found()["reference"]["relative"],
        ),
    ),
    (
        "05_schemes_after_zaremba.md",
        "**Still improving at the last epoch:** {}: the order measures how fast each "
        "placement learns as much as how well it regularizes. `none` peaked at epoch {} "
        "of {}",
        lambda: (names(zoo_found()["improving"]), zoo_found()["none_best_epoch"], zoo_found()["last_epoch"]),
    ),
    (
        "05_schemes_after_zaremba.md",
        "here, untuned, `variational` is {:.1f} points {} `zaremba`; tuned (recurrent p = {:g}, {} seeds), {:.1f} {}",
        lambda: (
            abs(zoo_found()["valid"]["variational"] - zoo_found()["valid"]["zaremba"]),
            "ahead of" if zoo_found()["published_order_here"] else "behind",
            tuned()["best"].loc["variational", "best_rate"],
            tuned()["best"].loc["variational", "seeds"],
            abs(tuned()["best"].loc["variational", "vs_zaremba"]),
            "ahead" if tuned()["best"].loc["variational", "vs_zaremba"] < 0 else "behind",
        ),
    ),
    (
        "05_schemes_after_zaremba.md",
        "{} run on the fused `nn.LSTM` kernel; {} touch the recurrence at every step and "
        "need the custom per-step cell of `rnnreg/model.py`: {:.2f}–{:.2f}× the "
        "reference's speed here, {:.2f}–{:.2f}× `zaremba`'s",
        lambda: (
            names(speed()["fused"], " and "),
            names(speed()["custom"], " and "),
            *speed()["custom_vs_reference"],
            *speed()["custom_vs_zaremba"],
        ),
    ),
    (
        "05_schemes_after_zaremba.md",
        "**Reading.** `{}` leads and `{}` comes next; {} {} schemes that drop on the "
        "recurrent path end behind both. Their training perplexity is {:.1f}–{:.1f}, "
        "`zaremba`'s {:.1f}: they learn {}. `none` fits its training text far better "
        "(train {:.1f}) yet ends only {:.1f} points behind `zaremba`",
        lambda: (
            zoo_found()["winner"],
            zoo_found()["second"],
            "all" if len(zoo_found()["recurrent_behind"]) == len(zoo_found()["recurrent"]) else "?",
            len(zoo_found()["recurrent"]),
            min(zoo_found()["train"][s] for s in zoo_found()["recurrent"]),
            max(zoo_found()["train"][s] for s in zoo_found()["recurrent"]),
            zoo_found()["train"]["zaremba"],
            "more slowly"
            if all(zoo_found()["train"][s] > zoo_found()["train"]["zaremba"] for s in zoo_found()["recurrent"])
            else "?",
            zoo_found()["train"]["none"],
            zoo_found()["valid"]["none"] - zoo_found()["valid"]["zaremba"],
        ),
    ),
    (
        "05_schemes_after_zaremba.md",
        "Each scheme's seeds end within {:.1f} points of each other",
        lambda: (max(zoo_found()["spread"].values()),),
    ),
    (
        "05_schemes_after_zaremba.md",
        "Here ({} split, batch {}): single models {}; averaging {} gives {:.1f}, {:.1f} "
        "below the best single model ({:.1f} %). In the paper: one model {}, two averaged "
        "{} ({:.1f} % lower)",
        lambda: (
            averaged()["split"],
            averaged()["batch_size"],
            ", ".join(f"{p:.1f}" for p in averaged()["singles"]),
            "both" if averaged()["members"] == 2 else "?",
            averaged()["averages"][-1],
            averaged()["gain"],
            100 * averaged()["relative"],
            *averaged()["paper_two"][:2],
            100 * averaged()["paper_two"][2],
        ),
    ),
    # 04: the seed noise, the α fits, the answer
    (
        "04_dropout_vs_smaller_model.md",
        "except {}: {} runs with different seeds. Between them, log perplexity varies "
        "with a standard deviation of {:.3f} for training perplexity (±{:.1f} %) and "
        "{:.3f} for validation (±{:.1f} %), an estimate on {} degrees of freedom",
        lambda: (
            ", ".join(noise("train_eval_ppl").cells),
            noise("train_eval_ppl").runs,
            noise("train_eval_ppl").sd,
            100 * noise("train_eval_ppl").relative,
            noise("valid_ppl").sd,
            100 * noise("valid_ppl").relative,
            noise("train_eval_ppl").dof,
        ),
    ),
    (
        "04_dropout_vs_smaller_model.md",
        "The pooled fit (α = {:.2f} ± {:.2f} over {} cells) is a line through the "
        "origin in log(1−p), so it weighs a cell by log(1−p)²: a cell at p = {:g} "
        "counts {:.0f} times one at p = {:g}, and the cells at p = {:g} carry {:.0f} % "
        "of the fit. The pooled α is the high rates' α. With the scatter over sizes "
        "alone, α = 1 (the unit count) lies outside two standard errors at p = {}; with "
        "the seed noise added, only at p = {}",
        lambda: (
            fit04("train_eval_ppl").pooled["alpha"],
            fit04("train_eval_ppl").pooled["se"],
            fit04("train_eval_ppl").pooled["n"],
            alpha().index[-1],
            alpha().weight.iloc[-1],
            alpha().index[0],
            alpha().index[-1],
            100 * alpha().share.iloc[-1],
            listed(fit04("train_eval_ppl").ruled_out(se="se_fit")),
            listed(fit04("train_eval_ppl").ruled_out()),
        ),
    ),
    (
        "04_dropout_vs_smaller_model.md",
        "On validation text only {} of {} dropout cells have an undropped equivalent: "
        "{} are worse than the smallest undropped model ({} more within seed noise of "
        "it) and {} better than the best one by more than the seed noise ({}). Not "
        "counted as better: {}, within noise of the best. With standard errors up to "
        "{:.2f} and {}–{} cells per rate",
        lambda: (
            fit04("valid_ppl").pooled["n"],
            len(fit04("valid_ppl").table),
            fit04("valid_ppl").pooled["worse"],
            fit04("valid_ppl").pooled["near smallest"],
            fit04("valid_ppl").pooled["better"],
            named(valid04("better")),
            named(valid04("near best")),
            fit04("valid_ppl").by_rate.se.max(),
            fit04("valid_ppl").by_rate.n.min(),
            fit04("valid_ppl").by_rate.n.max(),
        ),
    ),
    (
        "04_dropout_vs_smaller_model.md",
        "**What was measured.** {} of {} cells with **one seed each**; only {} has {} "
        "seeds, so every number here carries a seed noise of about ±{:.1f} % (training) "
        "and ±{:.1f} % (validation perplexity), estimated from that one cell. After {} "
        "epochs, {} of {} dropout cells (and {} of {} undropped ones) were **still "
        "improving**",
        lambda: (
            equivalence.grid_status(grid()).done,
            equivalence.grid_status(grid()).total,
            ", ".join(noise("train_eval_ppl").cells),
            noise("train_eval_ppl").runs,
            100 * noise("train_eval_ppl").relative,
            100 * noise("valid_ppl").relative,
            equivalence.grid_config(200, 0.5).epochs,
            gains04()[0].improving.sum(),
            len(gains04()[0]),
            gains04()[1].improving.sum(),
            len(gains04()[1]),
        ),
    ),
    (
        "04_dropout_vs_smaller_model.md",
        "but with one α per rate: {}. The unit count (α = 1, also the seed's N·N pairs) "
        "is ruled out at two standard errors only at p = {}; no count gives more than "
        "α = {:.2f} on this grid",
        lambda: (
            ", ".join(f"{a:.2f} ± {e:.2f} at p = {p:g}" for p, a, e in zip(alpha().index, alpha().alpha, alpha().se)),
            listed(fit04("train_eval_ppl").ruled_out()),
            max(
                max(a)
                for n in equivalence.GRID["sizes"]
                for a in equivalence.candidate_alpha_curves(n, alpha().index).values()
            ),
        ),
    ),
    (
        "04_dropout_vs_smaller_model.md",
        "Of the {} cells worse than the smallest undropped model, {} sit on the unigram "
        "plateau (within {:.0f} % of the slice's unigram perplexity, {:.1f})",
        lambda: (len(worse04()[0]), len(worse04()[1]), 100 * equivalence.PLATEAU, equivalence.slice_unigram()),
    ),
    (
        "04_dropout_vs_smaller_model.md",
        "The best undropped model is N = {} ({:.1f}), the best dropout model N = {}, "
        "p = {:g} ({:.1f}). {} dropout cells ({}) generalise better than every "
        "undropped model by more than the seed noise",
        lambda: (
            *(lambda b: (b.idxmin(), b.min()))(equivalence.base_curve(equivalence.main_grid(grid()), "valid_ppl")),
            *(lambda t: (t.hidden_size, t.dropout, t.valid_ppl))(
                fit04("valid_ppl").table.loc[fit04("valid_ppl").table.valid_ppl.idxmin()]
            ),
            len(valid04("better")),
            named(valid04("better")),
        ),
    ),
    (
        "04_dropout_vs_smaller_model.md",
        "(Not counted: {}, within noise of the best.) No validation α is quoted: only "
        "{} of {} cells have an equivalent",
        lambda: (named(valid04("near best")), fit04("valid_ppl").pooled["n"], len(fit04("valid_ppl").table)),
    ),
    (
        "04_dropout_vs_smaller_model.md",
        "**Inference.** With all units present (weight scaling) the dropout model {} "
        "scores {:.1f}; averaging {} MC-dropout passes gives {:.1f}; {} undropped "
        "models of {:.2f}M parameters ({:.2f}M in all, against {:.2f}M) average to "
        "{:.1f}, one alone {:.1f}",
        lambda: (
            lambda s: (
                s["cell"],
                s["weight_scaling"],
                s["samples"],
                s["mc"],
                s["members"],
                s["member_parameters"] / 1e6,
                s["members"] * s["member_parameters"] / 1e6,
                s["dropout_parameters"] / 1e6,
                s["ensemble"],
                s["single"],
            )
        )(equivalence.inference_summary(equivalence.load_inference())),
    ),
    # 06: the scorecard
    (
        "06_scorecard.md",
        "| {} / {} valid / test | {:.1f} / {:.1f} (one seed); the same model without dropout is best at "
        "{:.1f} valid, then overfits |",
        lambda: (
            paper("medium", "valid"),
            paper("medium", "test"),
            run("medium").final("valid_ppl"),
            run("medium").summary["test_ppl"],
            fit("medium-nodrop")["best_valid"],
        ),
    ),
    (
        "06_scorecard.md",
        "| {} / {} | {:.1f} / {:.1f} | **holds** |",
        lambda: (
            paper("small", "valid"),
            paper("small", "test"),
            run("small").final("valid_ppl"),
            run("small").summary["test_ppl"],
        ),
    ),
    ("06_scorecard.md", "| {} / {} | test {:.1f} | **holds** |", lambda: (*two_small_paper(), averaged()["two"][1])),
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


def analytic03(p: float) -> float:
    """`everywhere`'s relative variance at k = 20 over `zaremba`'s at k = 0 (two layers)."""
    from rnnreg.analysis import signal

    rv = lambda s, k: float(signal.analytic_curves(s, p, [k])["relative_variance"][0])  # noqa: E731
    return rv("everywhere", 20) / rv("zaremba", 0)


def bisect(f, target: float, lo: float, hi: float) -> float:
    """The x in [lo, hi] with f(x) = target, f increasing."""
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if f(mid) < target else (lo, mid)
    return hi


@cache
def linear03(hidden: int) -> float:
    """The shared mask's relative variance at k = 8 with an orthogonal W (chapter 03's simulation)."""
    from rnnreg.analysis import signal

    est = signal.linear_estimates(0.5, 8, schemes=("variational",), mixings=("orthogonal",), hidden=hidden)
    return float(est[("variational", "orthogonal")].mean[8])


@cache
def lstm03(init_scale: float) -> list[float]:
    from rnnreg.analysis import signal

    h = signal.simulate_lstm("everywhere", 0.5, 20, samples=300, init_scale=init_scale, seed=0)["h"]
    return [float(h.mean[k]) for k in (1, 5, 10, 20)]


def swap03(scheme: str):
    """Seed 1's swap sensitivity (evaluation mode) per lag, over its lag-1 value."""
    swap = signal_runs.load_signal_runs()[scheme].swap_eval.set_index("lag").relative_dh
    return swap.loc[1:] / swap.loc[1]


def lm_weights04(n: float) -> float:
    return equivalence.theory_candidates(n, 0.5)["weights of the LM under zaremba"] / n


HALFWAY04 = (0.5 + (1 - 0.5 / 2) ** 0.5) / 2  # between the units (0.5 N) and zaremba's pairs (√0.75 N)


@cache
def doubled04():
    import dataclasses

    n = noise("train_eval_ppl")
    return equivalence.alpha_fit(grid(), "train_eval_ppl", dataclasses.replace(n, sd=2 * n.sd))


def branches04() -> bool:
    """Does ``branch="all"`` change any cell of the validation fit?"""
    cols = ["n_eq", "status"]
    a, b = (equivalence.equivalence_frame(grid(), "valid_ppl", branch=k)[cols] for k in ("decreasing", "all"))
    return not a.fillna(-1).equals(b.fillna(-1))


def train05(scheme: str):
    """Training perplexity per epoch, averaged over the scheme's seeds."""
    import pandas as pd

    frames = [d.set_index("epoch").train_ppl for k, d in zoo.curves(zoo.load_zoo(), (scheme,)).items()]
    return pd.concat(frames, axis=1).mean(axis=1)


def range05(scheme: str):
    valid = [r.final("valid_ppl") for r in zoo.load_zoo()[scheme] if r.complete]
    return min(valid), max(valid)


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
        "the lowest validation perplexity is at epoch {} ({:.1f}), the last one; from epoch {:.0f} "
        "({:.1f}) on it stays {}, rising to {:.1f} at epoch {:.0f} and falling back. The learning rate "
        "halves every epoch from epoch {:.0f} ({:g}) to {:.3f} at epoch {}",
        lambda: (
            fit("small")["best_epoch"] if fit("small")["best_epoch"] == fit("small")["epochs"] else "?",
            fit("small")["best_valid"],
            stall("small").epoch,
            stall("small").valid_ppl,
            "within 1 %" if after_stall("small").valid_ppl.max() <= 1.01 * fit("small")["best_valid"] else "?",
            after_stall("small").valid_ppl.max(),
            after_stall("small").set_index("epoch").valid_ppl.idxmax(),
            halving_from("small").epoch,
            halving_from("small").lr,
            run("small").log.lr.iloc[-1],
            fit("small")["epochs"],
        ),
    ),
    (
        "01_why_regularize.md",
        "at N = {}, p = {:g}, {:.1f} with dropout on, {:.1f} off",
        lambda: (200, 0.5, grid_cell(200, 0.5).train_dropout_ppl, grid_cell(200, 0.5).train_eval_ppl),
    ),
    (
        "02_where_dropout_goes.md",
        "(this draw keeps {:.2f} of its {} entries), all 20 in a row with probability 0.35^20 ≈ {:.1e} "
        "({:.1e} with the input, between-layer and output masks too): {} of the {} units survive all 20",
        lambda: (*masks02()[:2], 0.35**20, 0.35**23, *masks02()[2:]),
    ),
    (
        "02_where_dropout_goes.md",
        "`everywhere` {:.2f}×, `memory` {:.2f}×, `weight_drop` {:.2f}× the reference's speed",
        lambda: (speed02("everywhere"), speed02("memory"), speed02("weight_drop")),
    ),
    (
        "03_signal_decay.md",
        "by bisection: p ≈ {:.3f} (as p → 0 the ratio tends to 23/3 ≈ {:.1f}, below 10). On the panel's "
        "slider, in steps of 0.05, the smallest is p = 0.05, where the ratio is already {:.1f}",
        lambda: (
            bisect(analytic03, 10, 1e-6, 0.05) if analytic03(0.05) > 10 else "?",
            analytic03(1e-9),
            analytic03(0.05),
        ),
    ),
    (
        "03_signal_decay.md",
        "gives {:.1f} at width 4, {:.0f} at 32 (the chapter's) and {:.0f} at 256, against {:.0f} for fresh masks",
        lambda: (linear03(4), linear03(32), linear03(256), 2**8 - 1),
    ),
    (
        "03_signal_decay.md",
        "the relative variance of h at k = 1, 5, 10, 20 is {} against {}: it grows far more slowly",
        lambda: (", ".join(f"{v:.2g}" for v in lstm03(0.1)), ", ".join(f"{v:.2g}" for v in lstm03(0.5))),
    ),
    (
        "03_signal_decay.md",
        "{} does within the {} lags measured. Seed 1's `swap_eval` (the table above, or `swap_table(signal, "
        'mode="eval", lags=range(1, 31))`): at k = 30 `everywhere`\'s relative change of h is {:.1f} % of its '
        "k = 1 value, `zaremba`'s {:.1f} %",
        lambda: (
            "Neither" if min(swap03("everywhere").min(), swap03("zaremba").min()) >= 0.01 else "?",
            swap03("everywhere").index.max(),
            100 * swap03("everywhere").loc[30],
            100 * swap03("zaremba").loc[30],
        ),
    ),
    (
        "04_dropout_vs_smaller_model.md",
        "halfway between the units (0.5 N) and `zaremba`'s pairs ({:.3f} N) is N_eq = {:.3f} N. The "
        "LM-weights ratio reaches it at N ≈ {:.0f} (bisection on N); on the panel's slider (steps of 10) "
        "at N = {}: {:.1f} against a halfway point of {:.1f}",
        lambda: (
            (1 - 0.5 / 2) ** 0.5,
            HALFWAY04,
            bisect(lm_weights04, HALFWAY04, 10, 1500),
            810 if lm_weights04(800) < HALFWAY04 <= lm_weights04(810) else "?",
            810 * lm_weights04(810),
            810 * HALFWAY04,
        ),
    ),
    (
        "04_dropout_vs_smaller_model.md",
        "still p = {}, as with the measured noise. The standard errors grow (p = 0.5: {:.2f} → {:.2f}; "
        "p = 0.65: {:.2f} → {:.2f}), but α sits {:.2f} and {:.2f} above 1 there; at p = 0.2 the error "
        "reaches {:.2f}. With one seed per cell every error bar rests on one cell's noise estimate ({} "
        "degrees of freedom)",
        lambda: (
            listed(doubled04().ruled_out()) if doubled04().ruled_out() == fit04("train_eval_ppl").ruled_out() else "?",
            alpha().se[0.5],
            doubled04().by_rate.se[0.5],
            alpha().se[0.65],
            doubled04().by_rate.se[0.65],
            alpha().alpha[0.5] - 1,
            alpha().alpha[0.65] - 1,
            doubled04().by_rate.se[0.2],
            noise("train_eval_ppl").dof,
        ),
    ),
    (
        "04_dropout_vs_smaller_model.md",
        'against the default: {}. `"all"` differs from `"decreasing"` only past the undropped curve\'s '
        "minimum, and that minimum is its largest size, N = {} ({:.1f}). Ambiguous: N = {} ({:.1f}) is "
        "only {:.1f} % worse, less than the seed noise (±{:.1f} %)",
        lambda: (
            "no cell changes" if not branches04() else "?",
            *(
                lambda b: (
                    b.idxmin() if b.idxmin() == b.index[-1] else "?",
                    b.min(),
                    b.index[-2],
                    b.iloc[-2],
                    100 * (b.iloc[-2] / b.min() - 1),
                )
            )(equivalence.base_curve(equivalence.main_grid(grid()), "valid_ppl")),
            100 * noise("valid_ppl").relative,
        ),
    ),
    (
        "04_dropout_vs_smaller_model.md",
        "only {} has several seeds ({}), with a standard deviation of log perplexity of {:.3f} (training) "
        "and {:.3f} (validation). A larger noise at N = 200 would weaken the {} cells “better than every "
        "undropped model”, all at N = {}",
        lambda: (
            ", ".join(noise("train_eval_ppl").cells),
            noise("train_eval_ppl").runs,
            noise("train_eval_ppl").sd,
            noise("valid_ppl").sd,
            len(valid04("better")),
            only(dict.fromkeys(valid04("better").hidden_size))[0],
        ),
    ),
    (
        "04_dropout_vs_smaller_model.md",
        "holds S = 1 … {} passes: {:.1f} at S = 1, falling to {:.1f} at S = {}, still above weight "
        "scaling's {:.1f}. None of the {} recorded sample counts beats it, and the tenth pass gained "
        "only {:.1f}",
        lambda: (
            lambda mc, ws: (
                len(mc),
                mc[0],
                mc[-1],
                len(mc),
                ws if min(mc) > ws else "?",
                len(mc) if len(mc) == 10 else "?",
                mc[-2] - mc[-1],
            )
        )(equivalence.load_inference()["mc_dropout_ppl"], equivalence.load_inference()["weight_scaling_ppl"]),
    ),
    (
        "05_schemes_after_zaremba.md",
        "`variational`'s running training perplexity is {:.1f} higher at epoch 1 and {:.1f} at epoch {}; "
        "the ratio runs {}. It does not shrink, it {}",
        lambda: (
            lambda v, z: (
                v.iloc[0] - z.iloc[0],
                v.iloc[-1] - z.iloc[-1],
                v.index[-1],
                ", ".join(f"{r:.2f}" for r in v / z),
                "grows" if (v / z).is_monotonic_increasing else "?",
            )
        )(train05("variational"), train05("zaremba")),
    ),
    (
        "05_schemes_after_zaremba.md",
        "`zaremba` {:.1f}–{:.1f}, `none` {:.1f}–{:.1f}, `everywhere` {:.1f}–{:.1f}, so both the answer's "
        'verdict (`zaremba` vs `none`) and `zoo.separated(zoo, "zaremba", "everywhere")` say {}. Ranges '
        "are min–max, so a third seed can only widen them: a verdict flips only if a new seed lands more "
        "than {:.1f} (vs `none`) or {:.1f} (vs `everywhere`)",
        lambda: (
            *range05("zaremba"),
            *range05("none"),
            *range05("everywhere"),
            "separated" if zoo_found()["separated"] and zoo.separated(zoo.load_zoo(), "zaremba", "everywhere") else "?",
            range05("none")[0] - range05("zaremba")[1],
            range05("everywhere")[0] - range05("zaremba")[1],
        ),
    ),
    (
        "05_schemes_after_zaremba.md",
        "By test: {}. On validation `{}` ({:.1f}) edges `{}` ({:.1f}); on test `{}` leads. The others keep "
        "their order; the swap at the top is well inside the seed noise (± {:.1f})",
        lambda: (
            lambda t, v: (
                ", ".join(f"`{s}` {p:.1f}" for s, p in t.items()),
                *[x for s in list(v)[:2] for x in (s, v[s])],
                list(t)[0] if list(t)[2:] == list(v)[2:] and set(list(t)[:2]) == set(list(v)[:2]) else "?",
                tuned()["margin"],
            )
        )(chosen05()["test"], chosen05()["valid"]),
    ),
    (
        "05_schemes_after_zaremba.md",
        "`{}`, likewise `zaremba`. Recorded at {} epochs: `none`'s seed 1 turns up after epoch {} ({:.1f} → "
        "{:.1f}), seed 2 {}; `zaremba` still falls in both seeds, {:.1f} ahead",
        lambda: (
            run("zoo/none-seed1")
            .summary["command"]
            .replace(" --quiet", "")
            .replace("--epochs 6", "--epochs 12")
            .replace("results/ptb/zoo/", "runs/zoo-12/"),
            zoo_found()["last_epoch"],
            zoo_found()["none_best_epoch"],
            valid05("none", 1).min(),
            valid05("none", 1).iloc[-1],
            "not yet" if valid05("none", 2).idxmin() == len(valid05("none", 2)) - 1 else "?",
            zoo_found()["valid"]["none"] - zoo_found()["valid"]["zaremba"]
            if all(valid05("zaremba", k).is_monotonic_decreasing for k in (1, 2))
            else "?",
        ),
    ),
    (
        "05_schemes_after_zaremba.md",
        "Zaremba's large model tests at {}, AWD-LSTM at {}: a gain of {:.1f}. Its ablation without weight "
        "drop tests at {}, so removing weight drop costs {:.1f} of it ({:.0f} %; on validation {:.1f} of "
        "{:.1f}, {:.0f} %)",
        lambda: (
            lambda z, a, b: (
                z["test"],
                a["test"],
                z["test"] - a["test"],
                b["test"],
                b["test"] - a["test"],
                100 * (b["test"] - a["test"]) / (z["test"] - a["test"]),
                b["valid"] - a["valid"],
                z["valid"] - a["valid"],
                100 * (b["valid"] - a["valid"]) / (z["valid"] - a["valid"]),
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
    ("00_guide.md", "In all {:,}, the table's count", lambda: (solutions00()[1],)),
    (
        "00_guide.md",
        "At p = 0.65 the training fit gives α = {:.2f}, so $N_{{eq}} = 1500 \\cdot 0.35^{{{:.2f}}} \\approx {:.0f}$",
        lambda: (solutions00()[2], solutions00()[2], solutions00()[3]),
    ),
    (
        "00_guide.md",
        "Under `zaremba` {} masks (L + 1, whatever the number of steps); under `everywhere` {}:",
        lambda: tuple(solutions00()[4]),
    ),
    (
        "00_guide.md",
        "Ten averaged small models: test {}, against {} for one medium model, so the ensemble is better; it "
        "also has {:.1f} times the parameters (10 × {:,} = {:,} against {:,}).",
        lambda: (
            solutions00()[5],
            paper("medium", "test"),
            10 * solutions00()[0] / solutions00()[1],
            solutions00()[0],
            10 * solutions00()[0],
            solutions00()[1],
        ),
    ),
]


@pytest.mark.parametrize("chapter,phrase,values", QUOTES, ids=[f"{c[:2]}:{p[:40]}" for c, p, _ in QUOTES])
def test_each_typed_result_is_read_back_from_its_run(chapter, phrase, values):
    text = " ".join((BOOK / chapter).read_text(encoding="utf-8").split())
    said = phrase.format(*values())
    assert said in text, f"book/{chapter} should say: {said}"


def span(values, spec: str) -> str:
    """A range over seeds as the chapter types it: one number when the seeds agree at the digits shown."""
    low, high = signal_runs.SchemeClaims.spread(values)
    return "–".join(dict.fromkeys(format(v, spec) for v in (low, high)))


@pytest.mark.parametrize("scheme", ["zaremba", "everywhere", "memory", "variational", "weight_drop", "zoneout"])
def test_chapter_03s_verdict_per_scheme_is_read_back(scheme):
    """Chapter 03's list: each scheme's verdict on both claims, and the numbers behind them."""
    c = claims()[scheme]
    rates = lambda xs: ", ".join(f"{x:g}" for x in xs)  # noqa: E731
    if c.wiped:
        one = "**holds**"
    elif c.wiped_at:
        one = (
            f"**holds at recurrent rate {rates(c.wiped_at)}**, at the threshold at {rates(c.threshold_at)}, "
            f"not at {rates(c.kept_at)}"
        )
    else:
        one = "does not hold"
    runs_ = "; ".join(
        f"rate {n['rate']:g}, seed {n['seed']}: {n['fraction_near']:.2f} → {n['fraction_far']:.2f}" for n in c.noise
    )
    two = (
        "*a shorter memory*, the state still used"
        if c.shorter_memory
        else ("**holds**" if c.ignores_state else "does not hold")
    )
    gain = span(c.context_gain, ".1%").replace("%", " %")
    pull = "" if scheme == c.reference else f"; {span(c.vs_reference, '.2g')}× as much as in `zaremba`"
    line = f"(1) {one} ({runs_}); (2) {two} ({gain} lower{pull})."
    text = " ".join((BOOK / "03_signal_decay.md").read_text(encoding="utf-8").split())
    assert f"**`{scheme}`**" in text and line in text.split(f"**`{scheme}`**", 1)[1].split("\n- ")[0], line


@pytest.mark.parametrize("scheme", ["zaremba", "everywhere", "memory", "variational", "weight_drop", "zoneout"])
def test_chapter_05s_best_rate_per_scheme_is_read_back(scheme):
    """Chapter 05's list: each recurrent scheme at its best tuned rate against zaremba's noise range."""
    found = tuned()
    if scheme == "zaremba":
        (mean, low, high), (lo, hi) = found["zaremba"], found["noise_range"]
        line = (
            f"`zaremba` (nothing to tune): {mean:.1f}, seeds {low:.1f}–{high:.1f}; with the seed noise "
            f"(± {found['margin']:.1f}) {lo:.1f}–{hi:.1f}"
        )
    else:
        r = found["best"].loc[scheme]
        verdict = {
            "within": "within seed noise of `zaremba`",
            "behind": f"behind `zaremba` beyond seed noise, by {r.beyond_noise:.1f}",
            "ahead": f"ahead of `zaremba` beyond seed noise, by {r.beyond_noise:.1f}",
        }[r.verdict]
        line = (
            f"`{scheme}`: p = {r.best_rate:g}, {r.valid_ppl:.1f} ({r.seeds} seeds; untuned {r.untuned_ppl:.1f}; "
            f"rates recorded: {', '.join(f'{x:g}' for x in r.rates_done)}) — {verdict}"
        )
    text = " ".join((BOOK / "05_schemes_after_zaremba.md").read_text(encoding="utf-8").split())
    assert f"- {line}" in text, line
