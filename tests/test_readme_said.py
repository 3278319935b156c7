"""rnnreg.analysis.readme: the README's marked passages about the medium run, from its files.

Three states of one run folder (training after a lost attempt, complete within the 1.5 % target,
complete above it), each read through the same function the README test and the script use.
"""
import json

import pytest
from test_runs import write_run

from rnnreg.analysis import readme


@pytest.fixture
def results(tmp_path):
    """results/ptb with a complete small run, the overfitting undropped 2×650 run, and the medium run
    training (5 epochs, valid 199 ... 195) after a lost attempt (3 epochs, valid 199 ... 197)."""
    ptb = tmp_path / "ptb"
    small = write_run(ptb / "small", epochs_done=13, complete=True)
    (small / "summary.json").write_text(json.dumps({"valid_ppl": 187.0, "test_ppl": 115.2}))
    write_run(ptb / "medium-nodrop", preset="medium", epochs_done=3, complete=True, scheme="none", dropout=0.0)
    medium = write_run(ptb / "medium", preset="medium", epochs_done=5)
    (medium / "progress.json").write_text(json.dumps({"from": "/runs/medium", "sessions": [{"epochs": [1, 5]}]}))
    lost = write_run(medium / "lost-attempt-1", preset="medium", epochs_done=3)
    (lost / "progress.json").write_text(json.dumps({"epochs_done": 3, "lost": {"reason": "machine gone"}}))
    return tmp_path


def complete(results, test, valid=86.0, last_valids=None):
    medium = results / "ptb" / "medium"
    log = [json.loads(line) for line in (medium / "log.jsonl").read_text().splitlines()]
    for record, v in zip(log, last_valids or [100.0, 95.0, 90.0, 88.0, valid]):
        record["valid_ppl"] = v
    (medium / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in log))
    (medium / "summary.json").write_text(json.dumps({"valid_ppl": valid, "test_ppl": test, "wall_s": 7200.0,
                                                     "sessions": [{"epochs": [1, 2], "device": "CPU A, 2 threads"},
                                                                  {"epochs": [3, 5], "device": "CPU A, 2 threads"}]}))


def test_a_run_in_training_is_quoted_by_its_progress_and_its_lost_attempt(results):
    said = readme.medium_said(results=results)
    assert said["medium-here"] == "in progress"
    # 34 epochs left at the logged 1000 tokens/s: 929,589 tokens an epoch -> 8.8 h
    assert said["medium-intro"] == (
        "Reproduced so far: the small model (test 115.2 against the paper's 114.5) and its two-model average; "
        "the regularized medium run is training again (5 of 39 epochs on CPU, valid 195.0; its first attempt "
        "reached valid 197.0 by epoch 3 before the machine that held its checkpoint went away; about 9 h more "
        "on two CPU cores, or one call of a lent GPU)")
    assert said["medium-where"].startswith("`results/ptb/medium` (attempt 2: the log so far, 5 of 39 epochs")
    assert said["medium-where"].endswith("its log is kept in `results/ptb/medium/lost-attempt-1`")
    assert said["medium-paragraph"].startswith(
        "**Reproduced so far: the small, non-regularized row only** (test 0.6 % above the paper's)")
    assert "It needs about 9 h more" in said["medium-paragraph"]
    assert "`/runs/medium`" in said["medium-record"]
    assert readme.table1_said(results=results)["not-reproduced"].endswith(
        " and the medium row until its run completes.")


def test_a_complete_run_within_the_target_is_quoted_by_its_numbers(results):
    complete(results, test=83.5)  # +1.0 % against 82.7
    said = readme.medium_said(results=results)
    assert said["medium-here"] == "**86.0 / 83.5**"
    assert said["medium-intro"] == (
        "Reproduced: the small model (test 115.2 against the paper's 114.5) and its two-model average, and "
        "the regularized medium model (valid 86.0 / test 83.5 against the paper's 86.2 / 82.7, +1.0 % in test: "
        "within the project's 1.5 % target)")
    assert said["medium-paragraph"].endswith(  # how far the lost attempt got: below the table, not in the intro
        "never spliced into the restart's); its first attempt reached valid 197.0 by epoch 3.")
    assert said["medium-paragraph"].startswith(
        "**Reproduced: the small, non-regularized row** (test 0.6 % above the paper's) and its two-model average, "
        "**and the regularized medium row**: valid 86.0, test 83.5, +1.0 % against the paper's 82.7, within the "
        "project's 1.5 % target (test ≤ 83.94).")
    assert "As measured" not in said["medium-paragraph"]
    assert "dropout takes it to test 83.5" in said["medium-paragraph"]  # from the undropped run's test 111.2
    assert said["medium-where"].startswith("`results/ptb/medium` (attempt 2: 5 epochs across 2 training sessions "
                                           "(CPU A, 2 threads), 2.0 h of training")
    assert "**Complete, attempt 2**" in said["medium-record"] and "test 83.5" in said["medium-record"]
    assert "medium row" not in readme.table1_said(results=results)["not-reproduced"]
    assert "of 39 epochs" not in " ".join(said.values())
    summary = json.loads((results / "ptb" / "medium" / "summary.json").read_text())
    summary["sessions"] = summary["sessions"][:1]  # one session: no plural
    (results / "ptb" / "medium" / "summary.json").write_text(json.dumps(summary))
    where = readme.medium_said(results=results)["medium-where"]
    assert "5 epochs across 1 training session (CPU A, 2 threads)" in where


def test_a_complete_run_above_the_target_says_so_and_reads_its_log(results):
    complete(results, test=85.0, valid=88.5, last_valids=[100.0, 90.0, 88.0, 88.2, 88.5])  # +2.8 %
    said = readme.medium_said(results=results)
    assert "average; run but not reproduced: the regularized medium model" in said["medium-intro"]
    assert "+2.8 % in test: outside the project's 1.5 % target" in said["medium-intro"]
    assert ("average. **The regularized medium row is run but not reproduced**: valid 88.5, test 85.0, +2.8 % "
            "against the paper's 82.7, outside the project's 1.5 % target (test ≤ 83.94). As measured"
            in said["medium-paragraph"])
    assert "the lost attempt's log (chapter 02) and others' reruns (below) show" in said["medium-paragraph"]
    assert ("As measured, not retuned: its validation perplexity was lowest at epoch 3 (88.0) and 88.5 at the last"
            in said["medium-paragraph"])
    complete(results, test=85.0, valid=87.0, last_valids=[100.0, 95.0, 90.0, 88.0, 87.0])
    assert "still falling at its last epoch (87.0)" in readme.medium_said(results=results)["medium-paragraph"]


def test_a_third_attempt_names_both_lost_attempts(results):
    medium = results / "ptb" / "medium"
    second = write_run(medium / "lost-attempt-2", preset="medium", epochs_done=4)
    (second / "progress.json").write_text(json.dumps({"epochs_done": 4, "lost": {"reason": "machine gone"}}))
    said = readme.medium_said(results=results)
    assert ("its first attempt reached valid 197.0 by epoch 3 and its second attempt reached valid 196.0 by epoch 4 "
            "before the machines that held their checkpoints went away" in said["medium-intro"])
    assert said["medium-where"].startswith("`results/ptb/medium` (attempt 3: ")
    assert said["medium-where"].endswith("attempts 1-2 lost their checkpoints with their machines, their logs are "
                                         "kept in `results/ptb/medium/lost-attempt-1` and "
                                         "`results/ptb/medium/lost-attempt-2`")
    assert "the checkpoints of its first two attempts lived outside git" in said["medium-paragraph"]
    assert "**In progress, attempt 3**" in said["medium-record"]
    assert said["medium-lost"] == (
        "**Attempt 1** (`lost-attempt-1/`: config, log of epochs 1-3, `progress.json` with `lost`): machine gone. "
        "**Attempt 2** (`lost-attempt-2/`: config, log of epochs 1-4, `progress.json` with `lost`): machine gone.")
    complete(results, test=85.0, valid=88.5, last_valids=[100.0, 90.0, 88.0, 88.2, 88.5])
    said = readme.medium_said(results=results)
    assert said["medium-paragraph"].endswith("its first attempt reached valid 197.0 by epoch 3 and its second "
                                             "attempt reached valid 196.0 by epoch 4.")
    assert "the lost attempts' logs (chapter 02)" in said["medium-paragraph"]
    assert "The medium run is the third attempt: the checkpoints of its first two" in said["medium-paragraph"]


def test_the_time_left_is_said_in_minutes_under_an_hour():
    assert [readme._time_left(h) for h in (8.8, 1.0, 0.55, 0.01)] == ["9 h", "1 h", "35 min", "5 min"]


def test_fill_rewrites_only_marked_passages_and_refuses_unknown_markers():
    text = "a <!-- said:x -->old 1<!-- /said --> b <!-- said:y -->old\n2<!-- /said --> c"
    assert readme.marked(text) == {"x": "old 1", "y": "old\n2"}
    assert readme.fill(text, {"x": "new", "y": "", "z": "unused"}) == (
        "a <!-- said:x -->new<!-- /said --> b <!-- said:y --><!-- /said --> c")
    with pytest.raises(KeyError, match="'y'"):
        readme.fill(text, {"x": "new"})


def test_the_undropped_model_is_said_to_overfit_only_when_its_log_turns_up(results):
    assert "without dropout" not in readme.medium_said(results=results)["medium-intro"]  # valid 199, 198, 197
    nodrop = results / "ptb" / "medium-nodrop" / "log.jsonl"
    log = [json.loads(line) for line in nodrop.read_text().splitlines()]
    log[-1]["valid_ppl"] = 205.0  # turns up after epoch 2
    nodrop.write_text("".join(json.dumps(r) + "\n" for r in log))
    assert ("its two-model average, and the 2 × 650 model without dropout overfitting at full scale; the regularized"
            in readme.medium_said(results=results)["medium-intro"])
    complete(results, test=83.5)
    assert readme.medium_said(results=results)["medium-intro"].endswith(
        "; the same 2 × 650 model without dropout overfits at full scale")


def test_the_large_row_is_not_run_with_its_cost_from_the_nearest_run_until_recorded(results):
    """No large run: its cell says "not run here" with the hours estimated from the medium run (the
    recorded preset nearest in size); a complete large run is quoted by its numbers instead."""
    said = readme.table1_said(results=results)
    hours = readme.cost_estimate("large", results=results)["hours"]  # medium's 1000 tokens/s, scaled
    assert said["large-here"] == (f"not run here (estimated from the medium run: about {hours:.0f} h of 2 quiet "
                                  "CPU cores; needs a GPU)")
    assert said["not-reproduced"].startswith(
        f"**Not reproduced here**: the large model (2 × 1500, dropout 0.65, 55 epochs; about {hours:.0f} h of 2 CPU "
        "cores by the medium run's median speed scaled by parameter count)")
    write_run(results / "ptb" / "large", preset="large", epochs_done=2, complete=True)
    complete(results, test=83.5)
    said = readme.table1_said(results=results)
    assert said["large-here"] == "**198.0 / 111.2**"  # write_run's last valid and test
    assert said["not-reproduced"] == "Every Table 1 row has a complete run here."
