"""rnnreg.analysis.runs: loading recorded runs and building Table 1 side by side."""
import json
import math

import pytest

from rnnreg import published
from rnnreg.analysis import runs
from rnnreg.train import PRESETS, Config


def write_run(folder, preset="small", epochs_done=3, complete=False, **overrides):
    folder.mkdir(parents=True)
    config = Config.preset(preset, **overrides)
    (folder / "config.json").write_text(json.dumps(config.to_dict()))
    lines = [json.dumps({"epoch": e, "lr": 1.0, "train_ppl": 300.0 / e, "valid_ppl": 200.0 - e,
                         "tokens_per_s": 1000.0, "epoch_s": 9.0, "wall_s": 9.0 * e}) for e in range(1, epochs_done + 1)]
    (folder / "log.jsonl").write_text("".join(line + "\n" for line in lines))
    if complete:
        (folder / "summary.json").write_text(json.dumps({"valid_ppl": 200.0 - epochs_done, "test_ppl": 111.25}))
    return folder


def test_reported_numbers_are_the_papers():
    # Zaremba et al. (2014) Table 1 and the TF tutorial, as in the reference notes
    assert published.reported("small") == dict(source="paper", model="small", train=None, valid=120.7, test=114.5)
    assert (published.reported("medium")["valid"], published.reported("medium")["test"]) == (86.2, 82.7)
    assert (published.reported("large")["valid"], published.reported("large")["test"]) == (82.2, 78.4)
    assert published.reported("small", "tf")["train"] == 37.99
    assert (published.reported("large", "tf")["valid"], published.reported("large", "tf")["test"]) == (82.62, 78.29)
    assert {r["source"] for r in published.REPORTED} == set(published.SOURCES)
    with pytest.raises(KeyError):
        published.reported("huge")


def test_load_run_in_progress(tmp_path):
    write_run(tmp_path / "ptb" / "small", epochs_done=3)
    run = runs.load_run("ptb/small", results=tmp_path)
    assert run.name == "results/ptb/small"
    assert not run.complete and run.epochs_done == 3 and run.epochs_planned == 13
    assert run.status == "in progress: epoch 3 of 13"
    assert run.final("valid_ppl") == 197.0
    assert run.matches_preset()
    table = run.epochs_table()
    assert list(table.columns) == ["lr", "train_ppl", "valid_ppl"] and list(table.index) == [1, 2, 3]
    assert table.loc[3, "train_ppl"] == 100.0
    head = run.headline()
    assert head["best_epoch"] == 3 and head["test_ppl"] is None


def test_load_run_complete_and_empty(tmp_path):
    write_run(tmp_path / "ptb" / "a", epochs_done=13, complete=True)
    run = runs.load_run(tmp_path / "ptb" / "a", results=tmp_path)
    assert run.complete and (run.status, run.state) == ("complete, 13 epochs", "complete")
    assert run.headline()["test_ppl"] == round(111.25, 1)
    write_run(tmp_path / "ptb" / "b", epochs_done=0)
    empty = runs.load_run(tmp_path / "ptb" / "b", results=tmp_path)
    assert empty.epochs_done == 0 and math.isnan(empty.final("valid_ppl"))
    assert empty.status.startswith("started") and empty.state == "started"
    assert len(empty.epochs_table()) == 0


def test_load_run_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a recorded run"):
        runs.load_run(tmp_path / "nothing")


def test_load_runs_table(tmp_path):
    write_run(tmp_path / "ptb" / "small", epochs_done=13, complete=True)
    write_run(
        tmp_path / "ptb" / "quick", epochs_done=1, max_train_tokens=10_000, epochs=2, scheme="zaremba", dropout=0.5
    )
    df = runs.load_runs("ptb/*", results=tmp_path)
    assert list(df["run"]) == ["results/ptb/quick", "results/ptb/small"]
    assert df.set_index("run").loc["results/ptb/small", "test_ppl"] == 111.25
    assert math.isnan(df.set_index("run").loc["results/ptb/quick", "test_ppl"])
    assert list(df["state"]) == ["in progress", "complete"]
    assert runs.load_runs("nothing/*", results=tmp_path).empty


def test_table1_side_by_side(tmp_path):
    write_run(tmp_path / "ptb" / "small", epochs_done=13, complete=True)
    df = runs.table1(results=tmp_path)
    assert list(df.index) == ["small", "medium", "large"]
    assert df.loc["small", "paper_test"] == 114.5 and df.loc["large", "tf_valid"] == 82.62
    assert df.loc["small", "tf_train"] == 37.99
    assert df.loc["small", "here_valid"] == 187.0 and df.loc["small", "here_test"] == round(111.25, 1)
    assert (df.loc["small", "here_run"], df.loc["small", "here_status"]) == ("results/ptb/small", "complete, 13 epochs")
    for model in ("medium", "large"):
        assert math.isnan(df.loc[model, "here_test"])
        assert (df.loc[model, "here_status"], df.loc[model, "here_state"]) == ("not yet run here", "not run")
        assert df.loc[model, "command"] == (
            f"python -m rnnreg train --preset {model} --device cuda --out results/ptb/{model}")
    shown = runs.pretty(df)
    assert shown.loc["medium", "here test"] == "–" and shown.loc["small", "paper test"] == 114.5
    assert "command" not in shown and "command" in runs.pretty(df, commands=True)
    assert df.loc["small", "here_state"] == "complete" and "here_state" not in shown


def test_table1_flags_a_run_that_is_not_the_papers_config(tmp_path):
    write_run(tmp_path / "ptb" / "small", epochs_done=2, max_train_tokens=10_000)
    df = runs.table1(results=tmp_path)
    assert df.loc["small", "here_status"] == "in progress: epoch 2 of 13, config differs from the paper's"
    assert df.loc["small", "here_state"] == "in progress"
    assert math.isnan(df.loc["small", "here_test"])


def test_table1_names_the_command_a_run_in_progress_trains_with(tmp_path):
    folder = write_run(tmp_path / "ptb" / "medium", preset="medium", epochs_done=2)
    sessions = [{"epochs": [1, 1], "provenance": "not recorded"},
                {"epochs": [2, 2], "command": "python -m rnnreg train --preset medium --out /runs/medium"}]
    (folder / "progress.json").write_text(json.dumps({"epochs_done": 2, "sessions": sessions}))
    df = runs.table1(results=tmp_path)
    assert df.loc["medium", "command"] == "python -m rnnreg train --preset medium --out /runs/medium"
    (folder / "progress.json").write_text(json.dumps({"epochs_done": 2, "sessions": sessions[:1]}))
    assert runs.table1(results=tmp_path).loc["medium", "command"] == runs.train_command("medium")  # none recorded


def test_the_whole_table1_in_the_papers_order_with_the_rows_recorded_here(tmp_path):
    write_run(tmp_path / "ptb" / "small", epochs_done=13, complete=True)
    write_run(tmp_path / "ptb" / "medium", preset="medium", epochs_done=2)  # still training: no row yet
    averaged = {"small": {"split": "test", "average_ppl": [115.2, 95.6], "members": [{}, {}]}}
    full = runs.paper_table1(runs.table1(results=tmp_path), averaged)
    sections = list(dict.fromkeys(full.index.get_level_values("section")))
    assert sections == list(published.TABLE1_SECTIONS.values())
    assert len(full) == len(published.TABLE1_OTHERS) + len(published.MODELS) + len(published.REPORTED_AVERAGING)
    single = full.loc[published.TABLE1_SECTIONS["single"]]
    assert list(single.index[:2]) == ["Pascanu et al. (2013)", "Cheng et al."]  # others first, as in the paper
    assert single.loc["Pascanu et al. (2013)", "paper_test"] == 107.5 and math.isnan(single.iloc[0]["paper_valid"])
    small = single.loc[published.MODEL_NAMES["small"]]
    assert (small["paper_valid"], small["paper_test"], small["here_valid"], small["here_test"]) == (
        120.7, 114.5, 187.0, 111.2)
    assert math.isnan(single.loc[published.MODEL_NAMES["medium"], "here_valid"])
    averages = full.loc[published.TABLE1_SECTIONS["averaging"]]
    two = averages.loc["2 non-regularized LSTMs"]
    assert (two["here_test"], two["paper_test"]) == (95.6, 96.1)
    assert math.isnan(averages.loc["5 non-regularized LSTMs", "here_test"])  # two members recorded, not five
    assert averages.loc["38 large regularized LSTMs", "paper_test"] == 68.7
    dynamic = full.loc[published.TABLE1_SECTIONS["dynamic"]]
    assert dynamic.loc["Mikolov & Zweig (2012)", "paper_test"] == 72.9
    assert runs.paper_table1(runs.table1(results=tmp_path))["here_test"].notna().sum() == 1  # no averages given


def test_reruns_by_others_sit_beside_this_projects_row(tmp_path):
    # The reference notes' reruns: tensorflow/models #1057 (10 runs), PR #2276 and #2505 (two results).
    medium = [x for x in published.RERUNS if x["model"] == "medium"]
    assert [(x["source"], x["valid"], x["test"]) for x in medium[:2]] == [
        ("tensorflow/models #1057", (87.3, 87.9), (83.55, 83.96)),
        ("tensorflow/models PR #2276", (86.97, 86.97), (83.47, 83.47))]
    folder = write_run(tmp_path / "ptb" / "medium", preset="medium", epochs_done=2)  # valid 198.0 so far
    table = runs.reruns_table(runs.table1(results=tmp_path))
    assert list(table.index[:3]) == ["paper (Table 1)", "TF tutorial (its docstring)",
                                     "tensorflow/models #1057 (10 runs)"]
    assert (table.loc["tensorflow/models #1057 (10 runs)", "valid"], table.iloc[-1]["valid"]) == ("87.3–87.9", "198.0")
    assert (table.iloc[-1]["test"], table.iloc[-1]["notes"]) == ("–", "in progress: epoch 2 of 39")
    said = runs.reruns_said(runs.table1(results=tmp_path))
    assert said == ("Others' reruns of the medium recipe (4 results in 3 threads) span valid 86.97–89.7 and test "
                    "83.47–85.7; the paper's test 82.7 is below that range. This project's run (in progress: epoch 2 "
                    "of 39): valid 198.0 so far, where the reruns ended at 86.97–89.7; no test number until it is "
                    "complete.")
    (folder / "summary.json").write_text(json.dumps({"test_ppl": 83.5}))
    done = runs.reruns_said(runs.table1(results=tmp_path))
    assert done.endswith("This project's run: valid 198.0 (above the reruns' range), test 83.5 (inside the reruns' "
                         "range; +1.0% against the paper's).")
    assert runs.reruns_table(runs.table1(results=tmp_path)).iloc[-1]["test"] == "83.5"
    (folder / "summary.json").write_text(json.dumps({"test_ppl": 82.419, "wall_s": 15000.0}))
    table = runs.table1(results=tmp_path)  # the gap from the unrounded test: -0.34 %, not 82.4's -0.36 %
    assert runs.reruns_said(table).endswith("test 82.4 (below the reruns' range; -0.3% against the paper's).")
    assert runs.table1_commands(table).splitlines()[2] == (
        f"medium (complete, 2 epochs; took 4.2 h here; ≈ {table.loc['medium', 'cost_h']:g} h on 2 quiet CPU cores "
        "at its median speed):")
    assert runs.reruns_table(runs.table1(results=tmp_path)).loc["tensorflow/models #2505", "test"].tolist() == [
        "84.0", "85.7"]  # as published: 84.0, not 84
    assert runs.reruns_said(runs.table1(results=tmp_path), "large").endswith("This project has no run of it yet.")


def test_results_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNREG_RESULTS", str(tmp_path))
    assert runs.results_dir() == tmp_path
    assert runs.find_run("ptb", "small") is None


def test_presets_and_reported_cover_the_same_models():
    assert set(published.MODELS) == set(PRESETS) == {r["model"] for r in published.REPORTED}


def test_overfitting_finds_the_best_epoch_and_the_rise(tmp_path):
    write_run(tmp_path / "ptb" / "x", epochs_done=4)
    run = runs.load_run("ptb/x", results=tmp_path)
    run.log["valid_ppl"] = [200.0, 150.0, 160.0, 180.0]
    run.log["train_ppl"] = [180.0, 120.0, 100.0, 90.0]
    found = runs.overfitting(run)
    assert (found["best_epoch"], found["best_valid"], found["last_valid"]) == (2, 150.0, 180.0)
    assert found["rise"] == pytest.approx(0.2) and found["train_falling"] is True


def test_cost_is_measured_from_a_run_or_scaled_by_parameters(tmp_path):
    assert math.isnan(runs.cost_estimate("medium", results=tmp_path)["hours"])  # no run to scale from
    write_run(tmp_path / "ptb" / "small", epochs_done=2, complete=True)
    small = runs.load_run("ptb/small", results=tmp_path)
    tps = float(small.log["tokens_per_s"].median())
    medium = runs.cost_estimate("medium", results=tmp_path)
    assert medium["tokens_per_s"] == pytest.approx(tps * runs.parameter_count("small") / runs.parameter_count("medium"))
    assert medium["hours"] == pytest.approx(39 * 929_589 / medium["tokens_per_s"] / 3600)
    assert runs.cost_estimate("small", results=tmp_path)["basis"].startswith("measured")
    assert runs.cost_estimate("small", results=tmp_path)["hours_left"] == 0  # complete
    assert medium["hours_left"] == medium["hours"]  # not started
    # once a medium run is recorded, the large is scaled from it, the preset nearest in size
    write_run(tmp_path / "ptb" / "medium", preset="medium", epochs_done=3, complete=True)
    medium_tps = float(runs.load_run("ptb/medium", results=tmp_path).log["tokens_per_s"].median())
    large = runs.cost_estimate("large", results=tmp_path)
    assert large["basis"] == "estimated: results/ptb/medium's median speed scaled by parameter count"
    assert large["tokens_per_s"] == pytest.approx(
        medium_tps * runs.parameter_count("medium") / runs.parameter_count("large"))
    assert runs.cost_estimate("large", reference="small", results=tmp_path)["tokens_per_s"] == pytest.approx(
        tps * runs.parameter_count("small") / runs.parameter_count("large"))


def test_a_run_in_progress_is_timed_by_its_last_epochs(tmp_path):
    run = write_run(tmp_path / "ptb" / "medium", preset="medium", epochs_done=5)
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    for record, tps in zip(log, [250.0, 300.0, 450.0, 700.0, 900.0]):  # one thread, then two
        record["tokens_per_s"] = tps
    (run / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in log))
    cost = runs.cost_estimate("medium", results=tmp_path)
    assert cost["tokens_per_s"] == 700.0 and cost["basis"].endswith("medium's last 3 epochs")
    assert cost["hours_left"] == pytest.approx(34 * 929_589 / 700.0 / 3600)
    table = runs.table1(results=tmp_path)
    assert table.loc["medium", "left_h"] == round(cost["hours_left"], 1)
    said = runs.table1_here(table, "medium")
    assert said == "`results/ptb/medium` (in progress: epoch 5 of 39, ≈ 12.5 h left on two CPU cores): valid 195.0"
    assert runs.table1_here(table, "large").startswith("not run here (a full run ≈ ")
    commands = runs.table1_commands(table).splitlines()
    assert commands[2] == f"medium (in progress: epoch 5 of 39; ≈ 12.5 h left of a full run's ≈ " \
        f"{table.loc['medium', 'cost_h']:g} h on 2 CPU cores):"
    assert commands[3] == "    " + runs.train_command("medium") and commands[4].startswith("large (not yet run here; a")


def test_story_runs_label_each_recorded_run_with_its_status(tmp_path):
    write_run(tmp_path / "ptb" / "small", epochs_done=13, complete=True)
    write_run(tmp_path / "ptb" / "medium", epochs_done=2)
    write_run(tmp_path / "ptb" / "medium-nodrop", epochs_done=0)  # started, nothing to draw yet
    story = runs.story_runs(results=tmp_path)
    assert list(story) == ["small 2×200, no dropout (results/ptb/small, complete, 13 epochs)",
                           "medium 2×650, dropout 0.5 (results/ptb/medium, in progress: epoch 2 of 13)"]


def test_chapter01_story_in_words_follows_the_recorded_runs(tmp_path):
    write_run(tmp_path / "ptb" / "small", epochs_done=13, complete=True)
    assert runs.story_verdict(runs.story_findings(results=tmp_path)) == (
        "The full-scale comparison waits for its first recorded epochs.")
    other = runs.story_findings("wikitext", results=tmp_path)  # a missing run is named on its own corpus
    assert runs.story_said(other, "medium") == "`results/wikitext/medium`: not recorded yet"
    nodrop = write_run(tmp_path / "ptb" / "medium-nodrop", preset="medium", epochs_done=4, scheme="none", dropout=0.0)
    lines = [{"epoch": e, "lr": 1.0, "train_ppl": t, "valid_ppl": v, "tokens_per_s": 1.0, "epoch_s": 1.0,
              "wall_s": float(e)} for e, t, v in [(1, 300.0, 200.0), (2, 120.0, 150.0), (3, 90.0, 160.0),
                                                   (4, 60.0, 180.0)]]
    (nodrop / "log.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    write_run(tmp_path / "ptb" / "medium", preset="medium", epochs_done=3)  # valid 199, 198, 197: still falling
    found = runs.story_findings(results=tmp_path)
    assert found["nodrop_overfits"] is True and found["dropout_below"] is False
    assert runs.story_gist(found) == ("at 2×650 without dropout validation perplexity turns up while train keeps "
                                      "falling; with dropout not below its best yet (in progress: epoch 3 of 39)")
    assert runs.story_said(found, "small") == (
        "`results/ptb/small` (complete, 13 epochs): best valid 187.0 at epoch 13, last 187.0, test 111.2")
    assert runs.story_said(found, "medium") == (
        "`results/ptb/medium` (in progress: epoch 3 of 39): best valid 197.0 at epoch 3, last 197.0")
    assert runs.story_verdict(found) == (
        "Without dropout the 2×650 model overfits at full scale: its validation perplexity turned up after "
        "epoch 2 while its train perplexity kept falling. With dropout its best validation perplexity so far is "
        "197.0, not yet below the undropped model's best (150.0).")
    fits = runs.story_fit_lines(runs.story_runs(results=tmp_path)).splitlines()
    assert len(fits) == 3 and fits[1].endswith("valid 180.0 after 4 epochs, up 20.0% from its best (epoch 2, 150.0); "
                                               "train 60.0.")
    assert fits[2].endswith("valid 197.0 after 3 epochs, still falling at its last epoch; train 100.0.")
    # Complete and below: no "so far", no "yet".
    (tmp_path / "ptb" / "medium" / "summary.json").write_text(json.dumps({"test_ppl": 82.0}))
    (tmp_path / "ptb" / "medium" / "log.jsonl").write_text(json.dumps({**lines[0], "valid_ppl": 86.0}) + "\n")
    done = runs.story_findings(results=tmp_path)
    level = [(1, 90.0), (2, 86.3857), (3, 86.3907)]  # a last epoch 0.006 % above the best
    (tmp_path / "ptb" / "medium" / "log.jsonl").write_text("".join(
        json.dumps({**lines[0], "epoch": e, "valid_ppl": v}) + "\n" for e, v in level))
    assert runs.story_fit_lines(runs.story_runs(results=tmp_path)).splitlines()[2].endswith(
        "valid 86.4 after 3 epochs, level with its best (epoch 2, 86.39); train 300.0.")
    assert runs.story_verdict(done).endswith(
        "With dropout its best validation perplexity is 86.0, below the undropped model's best (150.0).")
    assert runs.story_said(done, "medium").endswith("last 86.0, test 82.0")
    assert runs.story_gist(done).endswith("; with dropout 0.5 its best validation perplexity is 86.0, below the "
                                          "undropped model's 150.0, and its test 82.0 (paper 82.7)")
    assert runs.story_gist(runs.story_findings(results=tmp_path / "none")) == (
        "at 2×650 without dropout validation perplexity is not recorded yet")


def test_a_restarted_run_shows_its_lost_attempt_beside_it_never_spliced(tmp_path):
    """Chapter 01 after the medium run lost its checkpoint: the restart answers for itself; the lost
    attempt is drawn, named and quoted as such (its own log), not joined to the restart's."""
    from rnnreg.views import plots

    write_run(tmp_path / "ptb" / "medium-nodrop", preset="medium", epochs_done=3, complete=True,
              scheme="none", dropout=0.0)  # valid 199, 198, 197
    medium = write_run(tmp_path / "ptb" / "medium", preset="medium", epochs_done=1)  # valid 199
    lost = write_run(medium / "lost-attempt-1", preset="medium", epochs_done=5)  # valid 199 ... 195
    (lost / "progress.json").write_text(json.dumps({"epochs_done": 5, "lost": {"reason": "machine gone"}}))
    run = runs.load_run("ptb/medium", results=tmp_path)
    assert [r.path for r in run.earlier_attempts] == [lost] and run.state == "in progress"
    assert run.earlier_attempts[0].name == "results/ptb/medium/lost-attempt-1"
    story = runs.story_runs(results=tmp_path)
    assert list(story)[-2:] == [
        "medium 2×650, dropout 0.5, lost attempt 1 (results/ptb/medium/lost-attempt-1, 5 epochs recorded)",
        "medium 2×650, dropout 0.5 (results/ptb/medium, in progress: epoch 1 of 39, attempt 2)"]
    assert story[list(story)[-2]].epochs_done == 5 and story[list(story)[-1]].epochs_done == 1
    found = runs.story_findings(results=tmp_path)
    assert found["medium"]["epochs"] == 1 and found["earlier"]["medium"][0]["best_valid"] == 195.0
    assert runs.story_said(found, "medium") == (
        "`results/ptb/medium` (in progress: epoch 1 of 39, attempt 2): best valid 199.0 at epoch 1, last 199.0; "
        "its lost attempt 1 (`results/ptb/medium/lost-attempt-1`, checkpoint gone) had reached best valid 195.0 "
        "at epoch 5 of 5 recorded")
    assert runs.story_verdict(found).endswith(
        "With dropout its best validation perplexity so far is 199.0, not yet below the undropped model's best "
        "(197.0). Its lost attempt had reached 195.0 by epoch 5 (below it) before its checkpoint was gone.")
    lines = plots.plot_story(story).axes[0].get_lines()
    attempt, restart = (next(ln for ln in lines if ln.get_label() == label) for label in list(story)[-2:])
    assert restart.get_color() == plots.STORY_COLORS["medium"] and attempt.get_color() != restart.get_color()
    assert list(attempt.get_xdata()) == [1, 2, 3, 4, 5] and list(restart.get_xdata()) == [1]
    second = write_run(medium / "lost-attempt-2", preset="medium", epochs_done=2)  # valid 199, 198
    (second / "progress.json").write_text(json.dumps({"epochs_done": 2, "lost": {"reason": "machine gone"}}))
    found = runs.story_findings(results=tmp_path)
    assert "lost attempt 2 (results/ptb/medium/lost-attempt-2, 2 epochs recorded)" in list(
        runs.story_runs(results=tmp_path))[-2]
    assert runs.story_verdict(found).endswith(
        "The best of its 2 lost attempts (`results/ptb/medium/lost-attempt-1`) had reached 195.0 by epoch 5 "
        "(below it) before the checkpoints were gone.")


def test_two_attempts_of_one_run_are_compared_epoch_by_epoch(tmp_path):
    """The restart repeats the lost attempt's recipe and seed on another machine: how far apart the
    two land, over the epochs both logged, and what differed (from their session records)."""
    medium = write_run(tmp_path / "ptb" / "medium", preset="medium", epochs_done=3)  # valid 199, 198, 197
    assert runs.attempts_compared(runs.load_run(medium)).empty
    assert runs.attempts_said(runs.load_run(medium)) == f"`{runs.load_run(medium).name}` has no earlier attempt."
    lost = write_run(medium / "lost-attempt-1", preset="medium", epochs_done=5)
    log = [json.loads(line) for line in (lost / "log.jsonl").read_text().splitlines()]
    for record, valid in zip(log, [200.0, 196.0, 197.0, 190.0, 185.0]):
        record["valid_ppl"] = valid
    (lost / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in log))
    (lost / "progress.json").write_text(json.dumps({"epochs_done": 5, "lost": {"reason": "gone"}, "sessions": [
        {"epochs": [1, 2], "provenance": "not recorded"}, {"epochs": [3, 5], "device": "CPU A, 2 threads"}]}))
    (medium / "progress.json").write_text(json.dumps({"epochs_done": 3, "sessions": [
        {"epochs": [1, 3], "device": "CPU B, 2 threads"}]}))
    run = runs.load_run(medium)
    table = runs.attempts_compared(run)
    assert list(table.index) == [1, 2, 3]  # the epochs both logged, no more
    assert list(table["attempt 1 valid"]) == [200.0, 196.0, 197.0] and list(table["attempt 2 valid"]) == [
        199.0, 198.0, 197.0]
    assert list(table["attempt 2 vs 1 (%)"]) == [-0.5, 1.02, 0.0]
    assert runs.attempts_said(run) == (
        "Attempt 2 repeats attempt 1's recipe, seed and corpus; over the 3 epochs attempt 2 and attempt 1 both "
        "logged, its validation perplexity lies -0.50% to +1.02% from attempt 1's (furthest at epoch 2: 198.0 "
        "against 196.0, +1.02%). "
        "What differed: the machines and thread counts (attempt 1: CPU A, 2 threads (epochs 1–2 not recorded); "
        "attempt 2: CPU B, 2 threads) and the code commits (each session's, in `progress.json` or `summary.json`).")


def test_a_third_attempt_is_compared_with_the_first_as_far_as_it_got(tmp_path):
    """Each restart is set against attempt 1 over the epochs both logged; one that has not reached
    an epoch yet shows NaN there, not a number."""
    medium = write_run(tmp_path / "ptb" / "medium", preset="medium", epochs_done=1)  # valid 199
    for k, epochs in [(1, 5), (2, 4)]:
        lost = write_run(medium / f"lost-attempt-{k}", preset="medium", epochs_done=epochs)  # valid 199, 198, ...
        (lost / "progress.json").write_text(json.dumps({"epochs_done": epochs, "lost": {"reason": "gone"}}))
    run = runs.load_run(medium)
    table = runs.attempts_compared(run)
    assert list(table.index) == [1, 2, 3, 4]  # attempt 1's epochs that a later attempt also logged
    assert list(table["attempt 2 vs 1 (%)"]) == [0.0] * 4
    assert table["attempt 3 valid"].iloc[0] == 199.0 and table["attempt 3 valid"].iloc[1:].isna().all()
    said = runs.attempts_said(run)
    assert said.startswith("Attempts 2-3 repeat attempt 1's recipe, seed and corpus; over the 4 epochs attempt 2 "
                           "and attempt 1 both logged")
    assert "; over the 1 epoch attempt 3 and attempt 1 both logged" in said
    # the logs above are written alike: attempt 3's epoch 1 is attempt 1's and attempt 2's to the last digit
    assert said.endswith(" Attempt 2 repeats attempt 1's train and validation perplexities to the last digit over "
                         "the 4 epochs both logged. Attempt 3 repeats attempt 1's train and validation perplexities "
                         "to the last digit over the 1 epoch both logged.")
    # attempt 1 made different: attempt 3 repeats attempt 2 only, said once, not as a second gap to attempt 1
    first = medium / "lost-attempt-1" / "log.jsonl"
    log = [json.loads(line) for line in first.read_text().splitlines()]
    log[0]["valid_ppl"] = 200.0
    first.write_text("".join(json.dumps(r) + "\n" for r in log))
    said = runs.attempts_said(runs.load_run(medium))
    assert "attempt 3 and attempt 1 both logged" not in said and "attempt 2 and attempt 1 both logged" in said
    assert said.endswith(" Attempt 3 repeats attempt 2's train and validation perplexities to the last digit over "
                         "the 1 epoch both logged.")
