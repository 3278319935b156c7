"""rnnreg.analysis.runs: loading recorded runs and building Table 1 side by side."""

import json
import math

import pytest

from rnnreg import published
from rnnreg.analysis import runs
from rnnreg.config import PRESETS, Config, parameter_count


def params(preset):
    return parameter_count(Config.from_preset(preset), 10_000)


def write_run(folder, preset="small", epochs_done=3, complete=False, **overrides):
    folder.mkdir(parents=True)
    config = Config.from_preset(preset, **overrides)
    (folder / "config.json").write_text(json.dumps(config.to_dict()))
    lines = [
        json.dumps(
            {
                "epoch": e,
                "lr": 1.0,
                "train_ppl": 300.0 / e,
                "valid_ppl": 200.0 - e,
                "tokens_per_s": 1000.0,
                "epoch_s": 9.0,
                "wall_s": 9.0 * e,
            }
        )
        for e in range(1, epochs_done + 1)
    ]
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
    table = run.epochs_table()
    assert list(table.columns) == ["lr", "train_ppl", "valid_ppl"] and list(table.index) == [1, 2, 3]
    assert table.loc[3, "train_ppl"] == 100.0


def test_load_run_complete_and_empty(tmp_path):
    write_run(tmp_path / "ptb" / "a", epochs_done=13, complete=True)
    run = runs.load_run(tmp_path / "ptb" / "a", results=tmp_path)
    assert run.complete and (run.status, run.state) == ("complete, 13 epochs", "complete")
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
            f"python -m rnnreg train --preset {model} --device cuda --out results/ptb/{model}"
        )
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
    command = "python -m rnnreg train --preset medium --out /runs/medium"
    (folder / "progress.json").write_text(json.dumps({"epochs_done": 2, "command": command}))
    df = runs.table1(results=tmp_path)
    assert df.loc["medium", "command"] == command
    (folder / "progress.json").write_text(json.dumps({"epochs_done": 2}))
    assert runs.table1(results=tmp_path).loc["medium", "command"] == (  # none recorded
        "python -m rnnreg train --preset medium --device cuda --out results/ptb/medium"
    )


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
        120.7,
        114.5,
        187.0,
        111.2,
    )
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
        ("tensorflow/models PR #2276", (86.97, 86.97), (83.47, 83.47)),
    ]
    folder = write_run(tmp_path / "ptb" / "medium", preset="medium", epochs_done=2)  # valid 198.0 so far
    table = runs.reruns_table(runs.table1(results=tmp_path), results=tmp_path)
    assert list(table.index[:3]) == [
        "paper (Table 1)",
        "TF tutorial (its docstring)",
        "tensorflow/models #1057 (10 runs)",
    ]
    assert (table.loc["tensorflow/models #1057 (10 runs)", "valid"], table.iloc[-1]["valid"]) == ("87.3–87.9", "198.0")
    assert (table.iloc[-1]["test"], table.iloc[-1]["notes"]) == ("–", "in progress: epoch 2 of 39")
    (folder / "summary.json").write_text(json.dumps({"test_ppl": 83.5}))
    assert runs.reruns_table(runs.table1(results=tmp_path), results=tmp_path).iloc[-1]["test"] == "83.5"
    (folder / "summary.json").write_text(json.dumps({"test_ppl": 82.419, "wall_s": 15000.0}))
    table = runs.table1(results=tmp_path)
    assert table.loc["medium", "here_test"] == 82.4 and table.loc["medium", "here_status"] == "complete, 2 epochs"
    assert runs.reruns_table(runs.table1(results=tmp_path), results=tmp_path).loc[
        "tensorflow/models #2505", "test"
    ].tolist() == ["84.0", "85.7"]  # as published: 84.0, not 84
    large = runs.reruns_table(runs.table1(results=tmp_path), "large", tmp_path)
    assert (large.iloc[-1]["test"], large.iloc[-1]["notes"]) == ("–", "not run here")
    # a second seed still training leaves the row alone; complete, the row is the seeds' range
    second = write_run(tmp_path / "ptb" / "medium-seed2", preset="medium", epochs_done=2, seed=2)
    assert runs.reruns_table(runs.table1(results=tmp_path), results=tmp_path).iloc[-1]["test"] == "82.4"
    (second / "summary.json").write_text(json.dumps({"test_ppl": 83.06}))
    write_run(tmp_path / "ptb" / "medium-nodrop", preset="medium", epochs_done=2, complete=True)  # not a seed
    assert [r.name for r in runs.seed_runs("medium", results=tmp_path)] == [
        "results/ptb/medium",
        "results/ptb/medium-seed2",
    ]
    row = runs.reruns_table(runs.table1(results=tmp_path), results=tmp_path).loc["this project"]
    assert row.tolist() == ["198.0", "82.4–83.1", "2 seeds, complete"]


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
    medium = runs.cost_estimate("medium", reference="small", results=tmp_path)
    assert medium["tokens_per_s"] == pytest.approx(tps * params("small") / params("medium"))
    assert medium["hours"] == pytest.approx(39 * 929_589 / medium["tokens_per_s"] / 3600)
    assert runs.cost_estimate("small", results=tmp_path)["measured"] and not medium["measured"]
    assert runs.cost_estimate("small", results=tmp_path)["hours_left"] == 0  # complete
    assert medium["hours_left"] == medium["hours"]  # not started
    # once a medium run is recorded, the large is scaled from it by default
    write_run(tmp_path / "ptb" / "medium", preset="medium", epochs_done=3, complete=True)
    medium_tps = float(runs.load_run("ptb/medium", results=tmp_path).log["tokens_per_s"].median())
    large = runs.cost_estimate("large", results=tmp_path)
    assert (large["run"], large["reference"], large["measured"]) == ("results/ptb/medium", "medium", False)
    assert large["tokens_per_s"] == pytest.approx(medium_tps * params("medium") / params("large"))
    assert runs.cost_estimate("large", reference="small", results=tmp_path)["tokens_per_s"] == pytest.approx(
        tps * params("small") / params("large")
    )


def test_a_run_in_progress_is_timed_by_its_last_epochs(tmp_path):
    run = write_run(tmp_path / "ptb" / "medium", preset="medium", epochs_done=5)
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    for record, tps in zip(log, [250.0, 300.0, 450.0, 700.0, 900.0]):  # one thread, then two
        record["tokens_per_s"] = tps
    (run / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in log))
    cost = runs.cost_estimate("medium", results=tmp_path)
    assert cost["tokens_per_s"] == 700.0 and (cost["run"], cost["epochs_timed"]) == ("results/ptb/medium", 3)
    assert cost["hours_left"] == pytest.approx(34 * 929_589 / 700.0 / 3600)
    table = runs.table1(results=tmp_path)
    assert table.loc["medium", "left_h"] == round(cost["hours_left"], 1)
    medium = table.loc["medium"]
    assert (medium.here_run, medium.here_status, medium.left_h, medium.here_valid) == (
        "results/ptb/medium",
        "in progress: epoch 5 of 39",
        12.5,
        195.0,
    )
    assert medium.command == "python -m rnnreg train --preset medium --device cuda --out results/ptb/medium"
    assert medium.cost_h > medium.left_h
    assert table.loc["large", "here_state"] == "not run" and table.loc["large", "cost_h"] > 0


def test_story_runs_label_each_recorded_run_with_its_status(tmp_path):
    write_run(tmp_path / "ptb" / "small", epochs_done=13, complete=True)
    write_run(tmp_path / "ptb" / "medium", epochs_done=2)
    write_run(tmp_path / "ptb" / "medium-nodrop", epochs_done=0)  # started, nothing to draw yet
    story = runs.story_runs(results=tmp_path)
    assert list(story) == [
        "small 2×200, no dropout (results/ptb/small, complete, 13 epochs)",
        "medium 2×650, dropout 0.5 (results/ptb/medium, in progress: epoch 2 of 13)",
    ]


def test_chapter01_story_findings_follow_the_recorded_runs(tmp_path):
    write_run(tmp_path / "ptb" / "small", epochs_done=13, complete=True)
    found = runs.story_findings(results=tmp_path)
    assert found["nodrop_overfits"] is None and found["dropout_below"] is None  # nothing to compare yet
    nodrop = write_run(tmp_path / "ptb" / "medium-nodrop", preset="medium", epochs_done=4, scheme="none", dropout=0.0)
    lines = [
        {"epoch": e, "lr": 1.0, "train_ppl": t, "valid_ppl": v, "tokens_per_s": 1.0, "epoch_s": 1.0, "wall_s": float(e)}
        for e, t, v in [(1, 300.0, 200.0), (2, 120.0, 150.0), (3, 90.0, 160.0), (4, 60.0, 180.0)]
    ]
    (nodrop / "log.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    write_run(tmp_path / "ptb" / "medium", preset="medium", epochs_done=3)  # valid 199, 198, 197: still falling
    found = runs.story_findings(results=tmp_path)
    assert found["nodrop_overfits"] is True and found["dropout_below"] is False  # medium: best valid 197 > 150
    assert runs.story_findings("wikitext", results=tmp_path)["nodrop_overfits"] is None  # runs of its own corpus
    # Complete and below.
    (tmp_path / "ptb" / "medium" / "summary.json").write_text(json.dumps({"test_ppl": 82.0}))
    (tmp_path / "ptb" / "medium" / "log.jsonl").write_text(json.dumps({**lines[0], "valid_ppl": 86.0}) + "\n")
    assert runs.story_findings(results=tmp_path)["dropout_below"] is True
    level = [(1, 90.0), (2, 86.3857), (3, 86.3907)]  # a last epoch 0.006 % above the best: a rise that rounds to 0.0 %
    (tmp_path / "ptb" / "medium" / "log.jsonl").write_text(
        "".join(json.dumps({**lines[0], "epoch": e, "valid_ppl": v}) + "\n" for e, v in level)
    )
    flat = runs.overfitting(
        runs.story_runs(results=tmp_path)["medium 2×650, dropout 0.5 (results/ptb/medium, complete, 3 epochs)"]
    )
    assert flat["best_epoch"] == 2 and 0 < flat["rise"] < 0.0005
    assert runs.story_findings(results=tmp_path / "none")["nodrop_overfits"] is None
