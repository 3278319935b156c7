"""Chapter 05: the scheme zoo, the published numbers beside it, model averaging, and the views.

Every table is built from synthetic run folders written in ``tmp_path`` (the layout
``rnnreg.train.train`` writes), so the tests do not depend on what has been recorded so far.
"""
import json
import math

import pytest

from rnnreg import analysis, published, views
from rnnreg.views.zoo import SchemeVsPapers, ZooCurves


def write_zoo_run(root, scheme, seed, valid, test=None, train=None, epochs=6, complete=True, duplicate=False):
    """A zoo run folder: valid perplexity falls to ``valid`` at the last epoch."""
    folder = root / "ptb" / "zoo" / f"{scheme}-seed{seed}"
    folder.mkdir(parents=True)
    config = {"preset": "small", "num_layers": 2, "hidden_size": 200, "scheme": scheme,
              "dropout": 0.0 if scheme == "none" else 0.5, "epochs": 6, "max_train_tokens": 300000, "seed": seed}
    (folder / "config.json").write_text(json.dumps(config))
    train = train if train is not None else valid - 10
    lines = []
    for e in range(1, epochs + 1):
        rec = {"epoch": e, "lr": 1.0 if e < 4 else 0.5 ** (e - 3), "train_ppl": train + 20 * (6 - e),
               "valid_ppl": valid + 10 * (6 - e), "tokens_per_s": 1000.0 + e, "epoch_s": 9.0, "wall_s": 9.0 * e}
        lines.append(json.dumps(rec))
        if duplicate:  # a resumed run logs the epoch again (same numbers, other timing)
            lines.append(json.dumps({**rec, "tokens_per_s": 2000.0}))
    (folder / "log.jsonl").write_text("\n".join(lines) + "\n")
    if complete:
        summary = {"valid_ppl": valid, "test_ppl": test if test is not None else valid - 9,
                   "train_ppl": train, "parameters": 4653200}
        (folder / "summary.json").write_text(json.dumps(summary))
    return folder


BENCH = {"rows": [
    {"shape": "small", "scheme": "reference", "precision": "fp32", "tokens_per_s": 7000.0, "ratio_to_reference": 1.0},
    {"shape": "small", "scheme": "zaremba", "precision": "fp32", "tokens_per_s": 7349.0, "ratio_to_reference": 1.0499},
    {"shape": "small", "scheme": "zaremba", "precision": "bf16", "tokens_per_s": 9999.0, "ratio_to_reference": 1.43},
    {"shape": "medium", "scheme": "zaremba", "precision": "fp32", "tokens_per_s": 1999.0, "ratio_to_reference": 1.0},
]}


@pytest.fixture
def one_seed(tmp_path):
    write_zoo_run(tmp_path, "none", 1, 195.0, train=75.0, duplicate=True)
    write_zoo_run(tmp_path, "zaremba", 1, 190.0)
    write_zoo_run(tmp_path, "everywhere", 1, 196.0)
    write_zoo_run(tmp_path, "variational", 1, 201.0)
    return tmp_path


@pytest.fixture
def two_seeds(one_seed):
    write_zoo_run(one_seed, "zaremba", 2, 194.0, test=183.0)
    write_zoo_run(one_seed, "none", 2, 197.0, train=76.0)
    write_zoo_run(one_seed, "everywhere", 2, 198.0)
    write_zoo_run(one_seed, "variational", 2, 203.0)
    return one_seed


# ---------------------------------------------------------------------------------------------
# Published numbers (rnnreg.analysis.runs)
# ---------------------------------------------------------------------------------------------
def test_papers_averaging_rows_and_follow_ups():
    small = analysis.runs.reported_averaging("small").set_index("members")
    assert small.loc[1, "valid"] == 120.7 and small.loc[1, "test"] == 114.5  # the single model, from REPORTED
    assert (small.loc[2, "valid"], small.loc[2, "test"]) == (100.4, 96.1)
    assert (small.loc[5, "valid"], small.loc[5, "test"]) == (87.9, 84.1)
    assert (small.loc[10, "valid"], small.loc[10, "test"]) == (83.5, 80.0)
    medium = analysis.runs.reported_averaging("medium").set_index("members")
    assert medium.loc[10, "test"] == 72.0
    assert analysis.runs.reported_averaging("large").set_index("members").loc[38, "test"] == 68.7
    lit = analysis.runs.follow_ups_table().set_index("method")
    assert lit.loc["Variational LSTM, medium (untied)", "test"] == 79.7
    assert lit.loc["Variational LSTM, large (untied)", "test"] == 75.2
    assert lit.loc["Variational LSTM, large (untied), MC dropout", "test"] == 73.4
    assert lit.loc["AWD-LSTM (3 layers, tied weights)", "test"] == 57.3
    assert "tied weights" in lit.loc["AWD-LSTM (3 layers, tied weights)", "differs"]
    assert math.isnan(lit.loc["Zoneout", "test"])  # unverified: not quoted
    assert all(r["source"] in published.FOLLOW_UP_SOURCES for r in published.FOLLOW_UPS)
    # the existing entries keep their meaning (chapter 02 reads them)
    assert set(analysis.runs.reported_table()["source"]) == set(published.SOURCES)
    with pytest.raises(KeyError):
        analysis.runs.reported_averaging("huge")


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------
def test_one_seed_tables_say_so(one_seed):
    zoo = analysis.zoo.load_zoo(one_seed)
    assert list(zoo) == ["none", "zaremba", "everywhere", "variational"]  # SCHEMES order
    assert len(zoo["none"][0].log) == 6  # the duplicated epochs of a resumed run count once
    table = analysis.zoo.scheme_table(zoo, BENCH)
    assert table.loc["zaremba", "valid_ppl"] == 190.0 and table.loc["zaremba", "test_ppl"] == 181.0
    assert table.loc["none", "gap"] == 120.0  # valid - train at the last epoch
    assert table["seeds"].tolist() == [1, 1, 1, 1]
    assert table["valid_spread"].isna().all()
    assert table.loc["zaremba", "tokens/s"] == 7300 and table.loc["zaremba", "× reference"] == 1.05
    assert math.isnan(table.loc["none", "tokens/s"])  # not benchmarked in the fake bench
    shown = analysis.zoo.pretty(table)
    assert shown.loc["zaremba", "valid spread"] == "one seed" and shown.loc["none", "tokens/s"] == "–"
    assert analysis.zoo.missing(zoo) == ["memory", "weight_drop", "zoneout"]
    text = analysis.zoo.status_text(zoo)
    assert text.startswith("One seed per scheme") and "Not yet recorded here: memory, weight_drop, zoneout" in text


def test_two_seeds_give_mean_and_spread(two_seeds):
    write_zoo_run(two_seeds, "weight_drop", 1, 199.0, complete=False, epochs=2)  # still training
    zoo = analysis.zoo.load_zoo(two_seeds)
    table = analysis.zoo.scheme_table(zoo)
    assert table.loc["zaremba", "seeds"] == 2
    assert table.loc["zaremba", "valid_ppl"] == 192.0 and table.loc["zaremba", "valid_spread"] == 4.0
    assert table.loc["zaremba", "test_ppl"] == 182.0 and table.loc["zaremba", "test_spread"] == 2.0
    assert "weight_drop" not in table.index  # no complete run: no numbers
    per_run = analysis.zoo.runs_table(zoo)
    assert per_run.set_index(["scheme", "seed"]).loc[("weight_drop", 1), "status"] == "in progress: epoch 2 of 6"
    text = analysis.zoo.status_text(zoo)
    assert "Seeds per scheme: none 2, zaremba 2" in text
    assert "Still training" in text and "weight_drop-seed1" in text


def test_empty_results(tmp_path):
    zoo = analysis.zoo.load_zoo(tmp_path / "nowhere")
    assert zoo == {} and analysis.zoo.scheme_table(zoo).empty
    assert "No zoo run recorded here yet" in analysis.zoo.status_text(zoo)
    assert "Not yet recorded here" in analysis.zoo.answer(zoo)
    assert analysis.zoo.load_bench(tmp_path) is None and analysis.zoo.speed_table(None).empty
    fig = views.zoo.plot_schemes(zoo)
    assert any("not yet recorded" in t.get_text() for ax in fig.axes for t in ax.texts)


def test_literature_table_puts_here_beside_published(one_seed):
    lit = analysis.zoo.literature_table(analysis.zoo.load_zoo(one_seed)).set_index("method")
    row = lit.loc["Variational LSTM, large (untied)"]
    assert row["test"] == 75.2 and row["here valid"] == 201.0 and row["scheme"] == "variational"
    assert lit.loc["AWD-LSTM (3 layers, tied weights)", "here test"] == "–"  # weight_drop not recorded
    assert lit.loc["Zoneout", "test"] == "–"


def test_seed_reference(tmp_path):
    assert analysis.zoo.seed_reference("ptb/zoo/zaremba-seed*", tmp_path) is None
    write_zoo_run(tmp_path, "zaremba", 1, 190.0)
    write_zoo_run(tmp_path, "zaremba", 2, 194.0)
    ref = analysis.zoo.seed_reference("ptb/zoo/zaremba-seed*", tmp_path)
    assert ref["runs"] == 2 and ref["spread"] == 4.0 and ref["relative"] == pytest.approx(4 / 190, abs=1e-4)


# ---------------------------------------------------------------------------------------------
# The answer
# ---------------------------------------------------------------------------------------------
def test_answer_one_seed_is_honest(one_seed):
    text = analysis.zoo.answer(analysis.zoo.load_zoo(one_seed),
                               reference={"runs": 4, "pattern": "results/x", "spread": 4.5, "relative": 0.013})
    assert "`zaremba`, validation perplexity 190.0" in text
    assert "runner-up `none` is 5.0 points behind" in text
    assert "One seed per scheme" in text and "not established" in text and "4.5 validation points" in text
    assert "`zaremba` is ahead of `variational` by 11.0" in text and "**not** reproduced" in text


def test_answer_with_seeds_separated_or_not(two_seeds):
    zoo = analysis.zoo.load_zoo(two_seeds)
    text = analysis.zoo.answer(zoo)
    # zaremba 190/194 and none 195/197: ranges do not overlap
    assert "2 or more seeds per scheme" in text and "do not overlap" in text
    assert "One seed" not in text
    write_zoo_run(two_seeds, "memory", 1, 191.0)  # a scheme with one seed only
    text = analysis.zoo.answer(analysis.zoo.load_zoo(two_seeds))
    assert "One seed only for `memory`" in text


def test_answer_when_ranges_overlap(tmp_path):
    write_zoo_run(tmp_path, "zaremba", 1, 190.0)
    write_zoo_run(tmp_path, "zaremba", 2, 196.0)
    write_zoo_run(tmp_path, "variational", 1, 189.0)
    write_zoo_run(tmp_path, "variational", 2, 195.0)
    text = analysis.zoo.answer(analysis.zoo.load_zoo(tmp_path))
    assert "`variational`, validation perplexity 192.0" in text
    assert "**not separated**" in text and "agrees with the published one" in text


# ---------------------------------------------------------------------------------------------
# Model averaging
# ---------------------------------------------------------------------------------------------
def write_averaging(root, average=(115.0, 104.0), split="test"):
    path = root / "ptb" / "averaging" / "small.json"
    path.parent.mkdir(parents=True)
    members = [{"run": f"results/ptb/small{'-seed2' if i else ''}", "epoch": 13, "seed": i + 1, "scheme": "none",
                "dropout": 0.0, "precision": "fp32", "ppl": p} for i, p in enumerate((115.0, 116.0))]
    path.write_text(json.dumps({"split": split, "batch_size": 1, "steps": 20, "members": members,
                                "average_ppl": list(average), "provenance": {"command": "python -m rnnreg average"}}))
    return path


def test_averaging_not_yet_recorded(tmp_path):
    assert analysis.zoo.load_averaging(tmp_path) is None
    table = analysis.zoo.averaging_table(None)
    assert list(table.columns) == ["paper valid", "paper test"] and list(table.index) == [1, 2, 5, 10]
    text = analysis.zoo.averaging_text(None)
    assert "Not yet recorded here" in text and analysis.zoo.AVERAGE_COMMAND in text and "2 averaged 96.1" in text
    fig = views.zoo.plot_averaging(None)
    assert any("not yet recorded" in t.get_text() for t in fig.axes[0].texts)
    assert analysis.zoo.averaging_members(None).empty


def test_averaging_recorded(tmp_path):
    write_averaging(tmp_path)
    avg = analysis.zoo.load_averaging(tmp_path)
    table = analysis.zoo.averaging_table(avg)
    assert table.loc[2, "here test"] == 104.0 and table.loc[2, "paper test"] == 96.1
    assert math.isnan(table.loc[5, "here test"])
    text = analysis.zoo.averaging_text(avg)
    assert "Not yet recorded" not in text
    assert "averaging all 2 gives 104.0, 11.0 below the best single model" in text
    assert "115.0 → 104.0 (9.6% lower)" in text and "114.5 → 96.1 (16.1% lower)" in text
    assert analysis.zoo.averaging_members(avg)["seed"].tolist() == [1, 2]
    fig = views.zoo.plot_averaging(avg)
    assert [ln.get_label() for ln in fig.axes[0].get_lines()] == ["paper, valid", "paper, test", "here, test"]


def test_averaging_half_written_is_not_recorded(tmp_path):
    path = write_averaging(tmp_path)
    path.write_text("{half")
    assert analysis.zoo.load_averaging(tmp_path) is None
    path.write_text(json.dumps({"members": [], "average_ppl": []}))
    assert analysis.zoo.load_averaging(tmp_path) is None


# ---------------------------------------------------------------------------------------------
# Figures and panels
# ---------------------------------------------------------------------------------------------
def test_scheme_figure_marks_seeds(two_seeds):
    zoo = analysis.zoo.load_zoo(two_seeds)
    fig = views.zoo.plot_schemes(zoo, BENCH)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["variational", "everywhere", "none", "zaremba"]
    ticks = [ln for ln in ax.get_lines() if ln.get_marker() == "|"]
    assert len(ticks) == 8  # valid and test of every scheme with two seeds


def test_curves_panel_control_changes_figure(one_seed):
    panel = ZooCurves(analysis.zoo.load_zoo(one_seed), schemes=("zaremba",), metric="both")
    first = panel.figure
    labels = [ln.get_label() for ln in first.axes[0].get_lines() if not ln.get_label().startswith("_")]
    assert labels == ["zaremba seed1"]
    panel.schemes.value = ("none", "zaremba", "memory")
    assert panel.figure is not first
    labels = [ln.get_label() for ln in panel.figure.axes[0].get_lines() if not ln.get_label().startswith("_")]
    assert labels == ["none seed1", "zaremba seed1"]
    assert "not yet recorded here: memory" in panel.readout.value
    assert "valid 195.0, train 75.0" in panel.readout.value
    panel.metric.value = "gap"
    ax = panel.figure.axes[0]
    assert ax.get_ylabel() == "valid − train perplexity"
    assert ax.get_lines()[0].get_ydata()[-1] == pytest.approx(120.0)  # none: 195 - 75
    png = panel.image.value
    panel.metric.value = "train_ppl"
    assert panel.image.value != png


def test_scheme_vs_papers_panel(one_seed):
    panel = SchemeVsPapers(analysis.zoo.load_zoo(one_seed), scheme="variational")
    assert "75.2" in panel.out.value and "valid 201.0" in panel.out.value and "one seed" in panel.out.value
    panel.scheme.value = "weight_drop"
    assert "57.3" in panel.out.value and "not yet recorded" in panel.out.value
    panel.scheme.value = "memory"
    assert "Recurrent dropout without memory loss" in panel.out.value


def test_speed_text_is_read_off_the_benchmark():
    def bench(ratios):
        rows = [{"shape": "small", "precision": "fp32", "scheme": "reference", "tokens_per_s": 1000.0,
                 "ratio_to_reference": 1.0}]
        rows += [{"shape": "small", "precision": "fp32", "scheme": s, "tokens_per_s": 1000.0 * r,
                  "ratio_to_reference": r} for s, r in ratios.items()]
        return {"rows": rows}

    text = analysis.zoo.speed_text(bench({"zaremba": 1.0, "everywhere": 0.85, "memory": 0.96}))
    assert "4–15 % slower than the reference" in text and "4–15 % slower than `zaremba`" in text
    text = analysis.zoo.speed_text(bench({"zaremba": 1.0, "everywhere": 1.05, "zoneout": 0.97}))
    assert "between 3 % slower and 5 % faster than the reference" in text
    assert "2 % faster" in analysis.zoo.speed_text(bench({"zaremba": 1.0, "variational": 1.02}))
    assert "No benchmark is recorded" in analysis.zoo.speed_text(None)
