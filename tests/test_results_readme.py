"""The README's results table says what the run files say (issue #11): every number is read back.

A row names its runs in the last column (`results/...`). For a complete run, the row's "here"
cell must hold its last-epoch valid and its test perplexity, rounded to one decimal; a run still
training must be called "in progress" with no numbers; a model never run must say "not run".
Paper numbers must equal ``rnnreg.published.REPORTED``.
"""
import json
import re
from pathlib import Path

import pytest

from rnnreg import published
from rnnreg.analysis import readme, runs

ROOT = Path(__file__).resolve().parent.parent
PAIR = re.compile(r"(\d+\.\d) / (\d+\.\d)")


def results_rows():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Results recorded here", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|") and not line.startswith("|---")]
    header, body = rows[0], rows[1:]
    assert [c.strip() for c in header.strip("|").split("|")][:4] == ["model (PTB)", "paper valid / test",
                                                                    "here valid / test", "run"]
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
        if run.lost:  # a lost attempt, named beside its restart: it answers for no number of the row
            continue
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


def test_the_marked_passages_say_what_the_medium_run_files_say():
    """Every ``<!-- said:... -->`` passage of the two READMEs (the medium run's, the large row's) is what
    :func:`rnnreg.analysis.readme.table1_said` says from the run files (in progress: epochs, latest
    valid, hours left; complete: valid / test), and every passage it writes has a place."""
    said = readme.table1_said()
    placed = {}
    for path in (ROOT / "README.md", ROOT / "results" / "README.md"):
        found = readme.marked(path.read_text(encoding="utf-8"))
        assert found == {name: said[name] for name in found}, f"{path.name}: run scripts/medium_progress.py"
        placed.update(found)
    assert set(placed) == set(said)
    medium = runs.load_run(ROOT / "results" / "ptb" / "medium")
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    if medium.complete:  # no progress sentence outlives the run, marked or not
        row = next(r for r in results_rows() if r[0].startswith("medium, dropout"))
        assert "of 39 epochs" not in text and "in progress" not in row[2]
    else:
        assert (ROOT / "results" / "ptb" / "medium" / "progress.json").exists()


def test_the_retrain_check_row_quotes_its_files():
    from rnnreg.analysis import zoo

    row = next(line for line in (ROOT / "results" / "README.md").read_text(encoding="utf-8").splitlines()
               if line.startswith("| `ptb/retrain-check/`"))
    cause = zoo.retrain_cause()
    assert cause["same_code"] and cause["retrain_matches"] and not cause["recorded_matches"]
    check, recorded = cause["checks"][0], cause["recorded"]
    assert f"train {check['train_ppl']:.3f} / valid {check['valid_ppl']:.3f}" in row
    assert f"{recorded['train_ppl']:.3f} / {recorded['valid_ppl']:.3f}" in row
    assert all(f"`at-{c['commit']}/`" in row for c in cause["checks"])


def test_the_readme_quotes_the_memory_schemes_signal_fractions_from_its_measurements():
    """The README's claim (1) sentence: ratios of the signal fraction at lag 30 (and 10, 20) to lag 1."""
    from rnnreg.analysis import signal_runs

    text = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    memory = {}
    for record in signal_runs.load_mask_noise():
        if record["scheme"] == "memory":
            memory.setdefault(record["recurrent_rate"], []).append(
                {k: signal_runs.noise_finding(record, 1, k)["ratio"] for k in (10, 20, 30)})
    low = sorted(f"{r[30]:.2f}" for r in memory[0.1])
    assert f"by lag 30 to {low[0]}–{low[-1]} of its lag-1 value at rate 0.1" in text
    (quarter,), (half,) = memory[0.25], memory[0.5]
    assert f"to {quarter[30]:.2f} at rate 0.25 and {half[30]:.2f} at rate 0.5" in text
    assert f"keeps {quarter[10]:.2f} and {quarter[20]:.2f} of it" in text


def test_the_readme_quotes_the_reruns_range_from_the_published_reruns():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    medium = [x for x in published.RERUNS if x["model"] == "medium"]
    low, high = min(x["test"][0] for x in medium), max(x["test"][1] for x in medium)
    assert f"medium recipe with TensorFlow's tutorial ended at test {low:g}–{high:g}" in " ".join(text.split())
    paper = published.reported("medium")["test"]
    assert f"the paper's {paper:g} is below all of them" in " ".join(text.split()) and paper < low
