"""The README's results table says what the run files say (issue #11): every number is read back.

A row names its runs in the last column (`results/...`). For a complete run, the row's "here"
cell must hold its last-epoch valid and its test perplexity, rounded to one decimal; a run still
training must be called "in progress" with no numbers; a model never run must say "not run".
Paper numbers must equal ``rnnreg.published.REPORTED``. The prose about Table 1's runs in both
READMEs is typed by hand; :data:`QUOTES` reads each of its numbers back from the run files.
"""

import json
import re
from pathlib import Path

import pytest

from rnnreg import published
from rnnreg.analysis import runs

ROOT = Path(__file__).resolve().parent.parent
PAIR = re.compile(r"(\d+\.\d) / (\d+\.\d)")


def results_rows():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Results recorded here", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|") and not line.startswith("|---")]
    header, body = rows[0], rows[1:]
    assert [c.strip() for c in header.strip("|").split("|")][:4] == [
        "model (PTB)",
        "paper valid / test",
        "here valid / test",
        "run",
    ]
    return [[c.strip() for c in row.strip("|").split("|")] for row in body]


def test_the_table_has_a_row_for_each_model_of_table_1():
    names = [row[0] for row in results_rows()]
    for model in published.MODELS:
        assert any(n.startswith(model) for n in names), f"no README row for {model}"


@pytest.mark.parametrize("row", results_rows(), ids=lambda r: r[0][:40])
def test_each_row_agrees_with_its_files(row):
    model, paper, here, where = row[:4]
    named = [n for n in re.findall(r"`(results/[^`]+)`", where) if not n.endswith(".md")]
    first = model.split(",")[0].split(" ")[0]
    if first in published.MODELS and PAIR.search(paper) and "averaged" not in model:
        reported = published.reported(first, "paper")
        assert PAIR.search(paper).groups() == (f"{reported['valid']}", f"{reported['test']}")
    if not named:
        assert "not run" in here, f"{model}: no run named, so the row must say 'not run'"
        return
    pairs = PAIR.findall(here)
    for i, path in enumerate(named):
        p = ROOT / path
        assert p.exists(), f"{model}: {path} does not exist"
        if p.suffix == ".json":  # an averaging record: the last average is the row's test number
            record = json.loads(p.read_text())
            assert f"{record['average_ppl'][-1]:.1f}" in here
            continue
        run = runs.load_run(p)
        if not run.complete:
            assert "in progress" in here and not pairs, f"{model}: {path} is still training"
            continue
        want = (f"{run.final('valid_ppl'):.1f}", f"{run.summary['test_ppl']:.1f}")
        assert i < len(pairs) and pairs[i] == want, f"{model}: README says {pairs}, {path} says {want}"


def results_readme_rows():
    text = (ROOT / "results" / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(ptb/[^`]+?)/` \|(.*)$", text, flags=re.M)
    return [(folder, rest) for folder, rest in rows if (ROOT / "results" / folder / "summary.json").exists()]


@pytest.mark.parametrize("folder,row", results_readme_rows(), ids=[f for f, _ in results_readme_rows()])
def test_results_readme_quotes_each_complete_runs_test_perplexity(folder, row):
    """``results/README.md``: a row's first "test N" is its run's test perplexity, at the digits quoted."""
    summary = json.loads((ROOT / "results" / folder / "summary.json").read_text())
    quoted = re.search(r"\btest (\d+\.(\d+))", row)
    if quoted is None:
        return
    assert quoted[1] == f"{summary['test_ppl']:.{len(quoted[2])}f}", f"results/README.md: {folder}"


TARGET = 0.015  #: issue #11: a reproduction's test perplexity lands within 1.5 % of the paper's


def run(name):
    return runs.load_run(ROOT / "results" / "ptb" / name)


def gap(name):
    """How far a run's test perplexity lies from the paper's, as a fraction."""
    return run(name).summary["test_ppl"] / published.reported(name, "paper")["test"] - 1


#: Each number typed in the READMEs' prose about Table 1's runs: (file, the phrase with its numbers as
#: format fields, the values read back from results/ and rnnreg.published).
QUOTES = [
    (
        "README.md",
        "The small model ends at test {:.1f} against the paper's {}, and the regularized medium model "
        "at valid {:.1f} / test {:.1f} against the paper's {} / {}",
        lambda: (
            run("small").summary["test_ppl"],
            published.reported("small", "paper")["test"],
            run("medium").final("valid_ppl"),
            run("medium").summary["test_ppl"],
            published.reported("medium", "paper")["valid"],
            published.reported("medium", "paper")["test"],
        ),
    ),
    (
        "README.md",
        "(a second seed: {:.1f} / {:.1f}; a third is training)",
        lambda: (
            (run("medium-seed2").final("valid_ppl"), run("medium-seed2").summary["test_ppl"])
            if not run("medium-seed3").complete
            else "?"
        ),
    ),
    (
        "README.md",
        "Without dropout the same 2 × 650 model is at its best at valid {:.1f} after a few epochs",
        lambda: (runs.overfitting(run("medium-nodrop"))["best_valid"],),
    ),
    (
        "README.md",
        "| best valid {:.1f} (epoch {}); last epoch {:.1f} / {:.1f} | `results/ptb/medium-nodrop`: it overfits after "
        "its best epoch. Compare that best, {:.1f}, with the dropout model's best valid {:.1f};",
        lambda: (
            runs.overfitting(run("medium-nodrop"))["best_valid"],
            runs.overfitting(run("medium-nodrop"))["best_epoch"],
            run("medium-nodrop").final("valid_ppl"),
            run("medium-nodrop").summary["test_ppl"],
            runs.overfitting(run("medium-nodrop"))["best_valid"],
            runs.overfitting(run("medium"))["best_valid"],
        ),
    ),
    (
        "README.md",
        "`results/ptb/medium` ({} epochs, {:.1f} h on 2 CPU cores)",
        lambda: (run("medium").epochs_done, run("medium").summary["wall_s"] / 3600),
    ),
    (
        "README.md",
        "not run yet (about {:.0f} h on 2 CPU cores at the {} run's speed, minutes on a GPU)",
        lambda: (runs.cost_estimate("large")["hours"], runs.cost_estimate("large")["reference"]),
    ),
    (
        "results/README.md",
        "full PTB: valid {:.1f}, test {:.1f} after {:.1f} h of training on 2 CPU cores",
        lambda: (
            run("medium").final("valid_ppl"),
            run("medium").summary["test_ppl"],
            run("medium").summary["wall_s"] / 3600,
        ),
    ),
    (
        "results/README.md",
        "55 epochs), about {:.0f} h on 2 CPU cores at the {} run's median speed scaled by parameter count",
        lambda: (runs.cost_estimate("large")["hours"], runs.cost_estimate("large")["reference"]),
    ),
]


@pytest.mark.parametrize("path,phrase,values", QUOTES, ids=[f"{p}:{q[:30]}" for p, q, _ in QUOTES])
def test_each_typed_number_about_table_1s_runs_is_read_back(path, phrase, values):
    text = " ".join((ROOT / path).read_text(encoding="utf-8").split())
    said = phrase.format(*values()).replace("%", " %")  # the READMEs write "0.3 %"
    assert said in text, f"{path} should say: {said}"


def test_the_typed_decisions_hold():
    """What the READMEs decide from those numbers: the medium run lands within the target, below the
    paper, and the undropped 2 x 650 model overfits (validation turns up while train keeps falling)."""
    assert -TARGET < gap("medium") < 0 and 0 < gap("small") < TARGET
    nodrop = runs.overfitting(run("medium-nodrop"))
    assert nodrop["rise"] > 0 and nodrop["train_falling"]
    assert runs.find_run("ptb", "large") is None and run("medium").complete


def test_the_retrain_check_row_quotes_its_files():
    row = next(
        line
        for line in (ROOT / "results" / "README.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("| `ptb/retrain-check/`")
    )
    ptb = ROOT / "results" / "ptb"
    first = lambda folder: json.loads((folder / "log.jsonl").read_text().splitlines()[0])  # noqa: E731
    key = lambda epoch: (epoch["train_ppl"], epoch["valid_ppl"])  # noqa: E731
    checks = sorted((ptb / "retrain-check").glob("at-*"))
    retrain, recorded = first(ptb / "zoo-control" / "zaremba-seed2"), first(ptb / "zoo" / "zaremba-seed2")
    # every commit's rerun alike and equal to the retrain; the recorded run's epoch 1 apart
    assert len(checks) == 2 and {key(first(c)) for c in checks} == {key(retrain)} != {key(recorded)}
    assert "train {:.3f} / valid {:.3f}".format(*key(retrain)) in row
    assert "{:.3f} / {:.3f}".format(*key(recorded)) in row
    assert all(f"`{c.name}/`" in row for c in checks)


def test_the_readme_quotes_the_reruns_range_from_the_published_reruns():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    medium = [x for x in published.RERUNS if x["model"] == "medium"]
    low, high = min(x["test"][0] for x in medium), max(x["test"][1] for x in medium)
    assert f"medium recipe with TensorFlow's tutorial ended at test {low:g}–{high:g}" in " ".join(text.split())
    paper = published.reported("medium")["test"]
    assert f"the paper's {paper:g} is below all of them" in " ".join(text.split()) and paper < low
