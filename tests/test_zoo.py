"""Chapter 05: the scheme zoo, its budget and tuned recurrent rates, the published numbers beside it, model
averaging, and the views.

Every table is built from synthetic run folders written in ``tmp_path`` (the layout
``rnnreg.train.train`` writes), so the tests do not depend on what has been recorded so far. The
budget and the runs it names: tests/test_sweeps.py.
"""

import json
import math

import pytest

from rnnreg import analysis, published, views
from rnnreg.runfolder import recorded_threads
from rnnreg.views.zoo import ZooCurves


def write_zoo_run(
    root, scheme, seed, valid, test=None, train=None, epochs=6, complete=True, duplicate=False, rate=None
):
    """A zoo run folder: valid perplexity falls to ``valid`` at the last epoch. ``rate``: a tuned run
    (``ptb/zoo-tuned/<scheme>-r<NN>-seed<k>``) with that recurrent rate."""
    sub = "zoo" if rate is None else "zoo-tuned"
    name = f"{scheme}-seed{seed}" if rate is None else f"{scheme}-r{round(rate * 100):02d}-seed{seed}"
    folder = root / "ptb" / sub / name
    folder.mkdir(parents=True)
    config = {
        "preset": "small",
        "num_layers": 2,
        "hidden_size": 200,
        "scheme": scheme,
        "dropout": 0.0 if scheme == "none" else 0.5,
        "recurrent_dropout": None,
        "zoneout_c": 0.5,
        "epochs": 6,
        "max_train_tokens": 300000,
        "seed": seed,
    }
    if rate is not None:
        config["zoneout_c" if scheme == "zoneout" else "recurrent_dropout"] = rate
    (folder / "config.json").write_text(json.dumps(config))
    train = train if train is not None else valid - 10
    lines = []
    for e in range(1, epochs + 1):
        rec = {
            "epoch": e,
            "lr": 1.0 if e < 4 else 0.5 ** (e - 3),
            "train_ppl": train + 20 * (6 - e),
            "valid_ppl": valid + 10 * (6 - e),
            "tokens_per_s": 1000.0 + e,
            "epoch_s": 9.0,
            "wall_s": 9.0 * e,
        }
        lines.append(json.dumps(rec))
        if duplicate:  # a resumed run logs the epoch again (same numbers, other timing)
            lines.append(json.dumps({**rec, "tokens_per_s": 2000.0}))
    (folder / "log.jsonl").write_text("\n".join(lines) + "\n")
    if complete:
        summary = {
            "valid_ppl": valid,
            "test_ppl": test if test is not None else valid - 9,
            "train_ppl": train,
            "parameters": 4653200,
        }
        (folder / "summary.json").write_text(json.dumps(summary))
    return folder


BENCH = {
    "rows": [
        {
            "shape": "small",
            "scheme": "reference",
            "precision": "fp32",
            "tokens_per_s": 7000.0,
            "ratio_to_reference": 1.0,
        },
        {
            "shape": "small",
            "scheme": "zaremba",
            "precision": "fp32",
            "tokens_per_s": 7349.0,
            "ratio_to_reference": 1.0499,
        },
        {
            "shape": "small",
            "scheme": "zaremba",
            "precision": "bf16",
            "tokens_per_s": 9999.0,
            "ratio_to_reference": 1.43,
        },
        {
            "shape": "medium",
            "scheme": "zaremba",
            "precision": "fp32",
            "tokens_per_s": 1999.0,
            "ratio_to_reference": 1.0,
        },
    ]
}


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
# Published numbers (rnnreg.published, rnnreg.analysis.runs)
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
    # `variational` shares one mask on x and one on h(t-1) across the four gates: Gal's tied rows
    assert lit.loc["Variational LSTM, medium (tied)", ["valid", "test"]].tolist() == [81.8, 79.7]
    assert lit.loc["Variational LSTM, large (tied)", ["valid", "test"]].tolist() == [77.3, 75.0]
    assert lit.loc["Variational LSTM, large (tied), MC dropout", "test"] == 74.1
    assert lit.loc["Variational LSTM, large (untied), MC dropout", "test"] == 73.4
    tied = lit[lit.index.str.contains(r"\(tied\)")]
    untied = lit[lit.index.str.contains("untied")]
    assert set(tied["scheme"]) == {"variational"} and untied["scheme"].isna().all() and len(untied) == 3
    assert lit.loc["AWD-LSTM (3 layers, tied weights)", "test"] == 57.3
    assert math.isnan(lit.loc["Zoneout", "test"])  # unverified: not quoted
    assert all(r["source"] in published.FOLLOW_UP_SOURCES for r in published.FOLLOW_UPS)
    cap = published.CAPTIONING  # the paper's "dropout ~ an ensemble of ten" is about captioning
    assert (cap["single"], cap["dropout"], cap["ensemble"], cap["members"]) == (23.5, 24.3, 24.4, 10)
    with pytest.raises(KeyError):
        analysis.runs.reported_averaging("huge")


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------
def test_one_seed_tables(one_seed):
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
    shown = analysis.runs.pretty(table)
    assert shown.loc["zaremba", "valid spread"] == "one seed" and shown.loc["none", "tokens/s"] == "–"
    assert set(analysis.zoo.runs_table(zoo)["state"]) == {"complete"}


def test_two_seeds_give_mean_and_spread(two_seeds):
    write_zoo_run(two_seeds, "weight_drop", 1, 199.0, complete=False, epochs=2)  # still training
    zoo = analysis.zoo.load_zoo(two_seeds)
    table = analysis.zoo.scheme_table(zoo)
    assert table.loc["zaremba", "seeds"] == 2
    assert table.loc["zaremba", "valid_ppl"] == 192.0 and table.loc["zaremba", "valid_spread"] == 4.0
    assert table.loc["zaremba", "test_ppl"] == 182.0 and table.loc["zaremba", "test_spread"] == 2.0
    assert "weight_drop" not in table.index  # no complete run: no numbers
    per_run = analysis.zoo.runs_table(zoo).set_index(["scheme", "seed"])
    assert per_run.loc[("weight_drop", 1), "status"] == "in progress: epoch 2 of 6"
    assert per_run.loc[("weight_drop", 1), "state"] == "in progress"
    assert per_run.loc[("zaremba", 2), "state"] == "complete"


def test_empty_results(tmp_path):
    zoo = analysis.zoo.load_zoo(tmp_path / "nowhere")
    assert zoo == {} and analysis.zoo.scheme_table(zoo).empty
    assert analysis.zoo.findings(zoo) is None
    assert analysis.zoo.load_bench(tmp_path) is None and analysis.zoo.speed_table(None).empty
    fig = views.zoo.plot_schemes(zoo)
    assert any("not yet recorded" in t.get_text() for ax in fig.axes for t in ax.texts)


def test_literature_table_puts_here_beside_published(one_seed):
    lit = analysis.zoo.literature_table(analysis.zoo.load_zoo(one_seed)).set_index("method")
    row = lit.loc["Variational LSTM, large (tied)"]
    assert row["test"] == 75.0 and row["here valid"] == 201.0 and row["scheme"] == "variational"
    assert lit.loc["Variational LSTM, large (untied)", "here valid"] == "–"  # untied: not this book's scheme
    assert lit.loc["AWD-LSTM (3 layers, tied weights)", "here test"] == "–"  # weight_drop not recorded
    assert lit.loc["Zoneout", "test"] == "–"


# ---------------------------------------------------------------------------------------------
# The answer: numbers and decisions
# ---------------------------------------------------------------------------------------------
def test_findings_with_one_seed(one_seed):
    f = analysis.zoo.findings(analysis.zoo.load_zoo(one_seed))
    assert f["order"] == ["zaremba", "none", "everywhere", "variational"]
    assert (f["winner"], f["second"], f["last"]) == ("zaremba", "none", "variational")
    assert f["valid"]["none"] - f["valid"]["zaremba"] == 5.0
    assert f["test_same_order"]
    assert f["separated"] is None  # one seed: the seeds cannot separate anything
    assert f["recurrent"] == ["everywhere", "variational"] and f["recurrent_behind"] == ["everywhere", "variational"]
    assert f["improving"] == ["zaremba", "everywhere", "variational"]  # valid falls to the last epoch
    assert (f["none_best_epoch"], f["last_epoch"]) == (6, 6)
    assert f["published_order_here"] is False  # variational behind zaremba here, ahead in the papers
    assert f["published_order"] is True


def test_findings_with_seeds_separated_or_not(two_seeds):
    f = analysis.zoo.findings(analysis.zoo.load_zoo(two_seeds))
    assert f["separated"] is True  # zaremba 190/194, none 195/197: the ranges do not overlap
    write_zoo_run(two_seeds, "memory", 1, 191.0)  # a scheme with one seed only
    f = analysis.zoo.findings(analysis.zoo.load_zoo(two_seeds))
    assert f["winner"] == "memory" and f["separated"] is None


def test_findings_when_ranges_overlap(tmp_path):
    write_zoo_run(tmp_path, "zaremba", 1, 190.0)
    write_zoo_run(tmp_path, "zaremba", 2, 196.0)
    write_zoo_run(tmp_path, "variational", 1, 189.0)
    write_zoo_run(tmp_path, "variational", 2, 195.0)
    f = analysis.zoo.findings(analysis.zoo.load_zoo(tmp_path))
    assert f["winner"] == "variational" and f["valid"]["variational"] == 192.0
    assert f["separated"] is False and f["published_order_here"] is True


# ---------------------------------------------------------------------------------------------
# Tuned recurrent rates
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def tuning(two_seeds):
    write_zoo_run(two_seeds, "variational", 1, 199.0, rate=0.1)
    write_zoo_run(two_seeds, "variational", 1, 200.0, rate=0.25)
    write_zoo_run(two_seeds, "everywhere", 1, 191.0, rate=0.1)  # inside zaremba's 190-194
    write_zoo_run(two_seeds, "zoneout", 1, 250.0, rate=0.1, complete=False, epochs=3)  # still training
    return two_seeds


def test_tuning_runs_merge_the_untuned_zoo(tuning):
    runs = analysis.zoo.tuning_runs(tuning)
    rows = runs.set_index(["scheme", "seed"])
    assert math.isnan(rows.loc[("zaremba", 1), "rate"])  # no recurrent site
    var = runs[runs["scheme"] == "variational"]
    assert var["rate"].tolist() == [0.1, 0.25, 0.5, 0.5] and var["complete"].all()
    zone = runs[runs["scheme"] == "zoneout"].iloc[0]
    assert zone["rate"] == 0.1 and not zone["complete"] and zone["status"] == "in progress: epoch 3 of 6"
    summary = analysis.zoo.tuning_summary(runs)
    cell = summary[(summary["scheme"] == "variational") & (summary["rate"] == 0.5)].iloc[0]
    assert (cell["seeds"], cell["valid_ppl"], cell["valid_min"], cell["valid_max"]) == (2, 202.0, 201.0, 203.0)
    table = analysis.zoo.tuning_table(summary)
    assert table.loc["variational"].tolist() == ["199.0 (1)", "200.0 (1)", "202.0 (2)"]
    assert table.loc["zoneout"].tolist() == ["running", "–", "–"]
    assert table.loc["memory"].tolist() == ["–", "–", "–"]
    assert table.iloc[0].tolist() == ["192.0 (2)"] * 3  # zaremba, the reference row


def test_best_rates_and_what_remains_of_the_ranking(tuning):
    found = analysis.zoo.tuning_findings(analysis.zoo.tuning_runs(tuning))
    best = found["best"]
    assert best.loc["variational", "best_rate"] == 0.1 and best.loc["variational", "valid_ppl"] == 199.0
    assert best.loc["variational", "sweep_complete"] and best.loc["variational", "verdict"] == "behind"
    assert best.loc["everywhere", "verdict"] == "within" and not best.loc["everywhere", "sweep_complete"]
    # the band is zaremba's own seeds (190-194): 199 lies 5.0 above it, beyond zaremba's 4-point spread; 191 inside
    assert best.loc["variational", "gap"] == 5.0 and best.loc["everywhere", "gap"] == 0.0
    assert (best.loc["variational", "valid_min"], best.loc["variational", "seeds"]) == (199.0, 1)
    assert list(best.loc["variational", "rates_done"]) == [0.1, 0.25, 0.5]
    assert best.loc["memory", "seeds"] == 0  # no tuned run
    assert best.loc["memory", "verdict"] == "no run" and best.loc["zoneout", "verdict"] == "no run"
    assert found["zaremba"] == (192.0, 190.0, 194.0) and found["band"] == (190.0, 194.0)
    assert (found["ahead"], found["within"], found["behind"]) == ([], ["everywhere"], ["variational"])
    assert found["borderline"] == [] and found["beaten_at"] == [] and not found["settled"]
    assert found["smallest_best"] == ["everywhere", "variational"]  # both best at 0.1, the smallest rate tried
    # the plan: 3 rates x 5 schemes with seed 1, and seeds 1-2 at variational's best rate (its sweep is complete)
    assert found["planned"] == 16
    assert "results/ptb/zoo-tuned/variational-r10-seed1" in found["done"] and len(found["done"]) == 5
    assert "results/ptb/zoo-tuned/variational-r10-seed2" not in found["done"]


def test_a_tuned_scheme_ahead_of_zaremba_breaks_the_ranking(tuning):
    write_zoo_run(tuning, "variational", 2, 185.0, rate=0.1)  # seed 2 at the best rate: mean 192 -> still inside
    found = analysis.zoo.tuning_findings(analysis.zoo.tuning_runs(tuning))
    assert found["best"].loc["variational", "seeds"] == 2 and found["best"].loc["variational", "valid_ppl"] == 192.0
    write_zoo_run(tuning, "memory", 1, 170.0, rate=0.25)  # below zaremba's lowest seed by more than its spread
    found = analysis.zoo.tuning_findings(analysis.zoo.tuning_runs(tuning))
    assert "memory" in found["ahead"] and found["beaten_at"] == [("memory", 0.25)]
    fig = views.zoo.plot_tuning(analysis.zoo.tuning_runs(tuning))
    assert "memory" in fig.axes[0].get_title(loc="left") and "below" in fig.axes[0].get_title(loc="left")


def test_the_best_rate_is_chosen_on_the_sweep_seed_and_later_seeds_do_not_move_it(tuning):
    write_zoo_run(tuning, "variational", 2, 205.0, rate=0.1)  # seed 2 at the chosen rate: mean 202 > 200 at 0.25
    found = analysis.zoo.tuning_findings(analysis.zoo.tuning_runs(tuning))
    var = found["best"].loc["variational"]
    assert (var["best_rate"], var["sweep_ppl"], var["valid_ppl"], var["seeds"]) == (0.1, 199.0, 202.0, 2)
    assert found["planned"] == 16 and found["settled"] is False  # no seed 2 at 0.25 joins the plan
    assert sum("variational" in run for run in found["done"]) == 4  # variational's part of the plan is done


def test_no_tuned_run_yet_leaves_the_ranking_open(two_seeds):
    found = analysis.zoo.tuning_findings(analysis.zoo.tuning_runs(two_seeds))
    assert not found["settled"] and not found["best"]["sweep_complete"].any()
    assert found["planned"] == 15 and len(found["done"]) == 2  # the untuned seed-1 runs of everywhere, variational
    assert found["smallest_best"] == [] and found["best"].loc["variational", "best_rate"] == 0.5


# ---------------------------------------------------------------------------------------------
# Model averaging and speed
# ---------------------------------------------------------------------------------------------
def write_averaging(root, average=(115.0, 104.0), split="test"):
    path = root / "ptb" / "averaging" / "small.json"
    path.parent.mkdir(parents=True)
    members = [
        {
            "run": f"results/ptb/small{'-seed2' if i else ''}",
            "epoch": 13,
            "seed": i + 1,
            "scheme": "none",
            "dropout": 0.0,
            "precision": "fp32",
            "ppl": p,
        }
        for i, p in enumerate((115.0, 116.0))
    ]
    path.write_text(
        json.dumps(
            {
                "split": split,
                "batch_size": 1,
                "steps": 20,
                "members": members,
                "average_ppl": list(average),
                "provenance": {"command": "python -m rnnreg average"},
            }
        )
    )
    return path


def test_averaging_not_yet_recorded(tmp_path):
    assert analysis.zoo.load_averaging(tmp_path) is None and analysis.zoo.load_averagings(tmp_path) == {}
    table = analysis.zoo.averaging_table(None)
    assert list(table.columns) == ["paper valid", "paper test"] and list(table.index) == [1, 2, 5, 10]
    assert analysis.zoo.averaging_findings(None) is None
    fig = views.zoo.plot_averaging(None)
    assert any("not yet recorded" in t.get_text() for t in fig.axes[0].texts)


def test_averaging_recorded(tmp_path):
    write_averaging(tmp_path)
    avg = analysis.zoo.load_averaging(tmp_path)
    assert analysis.zoo.load_averagings(tmp_path) == {"small": avg}  # the file's name gives the model size
    table = analysis.zoo.averaging_table(avg)
    assert table.loc[2, "here test"] == 104.0 and table.loc[2, "paper test"] == 96.1
    assert math.isnan(table.loc[5, "here test"])
    a = analysis.zoo.averaging_findings(avg)
    assert a["members"] == 2 and a["averages"] == [115.0, 104.0]
    assert a["two"] == pytest.approx((115.0, 104.0, 11 / 115))
    assert a["paper_two"] == pytest.approx((114.5, 96.1, 18.4 / 114.5))
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
def legend_is_outside(fig) -> bool:
    views.style.to_png(fig)  # lay the figure out
    ax = fig.axes[0]
    legend = ax.get_legend()
    return legend.get_window_extent().x0 >= ax.get_window_extent().x1


def test_scheme_figure_marks_seeds_and_states_its_claim(two_seeds):
    zoo = analysis.zoo.load_zoo(two_seeds)
    fig = views.zoo.plot_schemes(zoo)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["variational", "everywhere", "none", "zaremba"]
    ticks = [ln for ln in ax.get_lines() if ln.get_marker() == "|"]
    assert len(ticks) == 8  # valid and test of every scheme with two seeds
    assert fig._suptitle.get_text().startswith("zaremba ends lowest")
    assert "every recurrent scheme ends behind no dropout" in fig._suptitle.get_text()


def test_literature_figure_puts_here_on_an_axis_near_the_data(two_seeds):
    fig = views.zoo.plot_literature(analysis.zoo.load_zoo(two_seeds))
    published_ax, here = fig.axes
    assert here.get_xlim()[0] > 150  # the seeds' 190-203 spread is visible, not squashed by a bar from 0
    assert len([ln for ln in here.get_lines() if ln.get_marker() == "|"]) == 8
    assert published_ax.get_xlim()[0] > 40
    assert "trails" in fig._suptitle.get_text()  # variational behind zaremba here, ahead in the papers


def test_curves_panel_control_changes_figure(two_seeds):
    panel = ZooCurves(analysis.zoo.load_zoo(two_seeds), schemes=("zaremba",))
    first = panel.figure
    assert [ln.get_label() for ln in first.axes[0].get_lines()] == ["zaremba (2 seeds)"]  # one line per scheme
    assert first.axes[0].get_lines()[0].get_ydata()[-1] == pytest.approx(192.0)  # the mean of 190 and 194
    panel.schemes.value = ("none", "zaremba", "memory")
    assert panel.figure is not first
    assert [ln.get_label() for ln in panel.figure.axes[0].get_lines()] == ["none (2 seeds)", "zaremba (2 seeds)"]
    assert any("Not yet recorded here: memory" in " ".join(t.get_text().split()) for t in panel.figure.texts)
    assert "zaremba (192.0)" in panel.figure.axes[0].get_title(loc="left")  # the lowest valid at the last epoch
    assert legend_is_outside(panel.figure)
    panel.metric.value = "gap"
    ax = panel.figure.axes[0]
    assert ax.get_ylabel() == "valid − train"
    assert ax.get_lines()[0].get_ydata()[-1] == pytest.approx(120.5)  # none: (195 - 75 + 197 - 76) / 2
    assert "none (120.5)" in ax.get_title(loc="left") and legend_is_outside(panel.figure)
    png = panel.image.value
    panel.metric.value = "train_ppl"
    assert panel.image.value != png


def test_a_tuned_run_within_seed_noise_of_zaremba_is_not_counted_behind(two_seeds):
    # zaremba 190 / 194: its own seeds span 4 points, the band a tuned scheme is judged by
    write_zoo_run(two_seeds, "weight_drop", 1, 193.0, rate=0.1)  # inside zaremba's seeds
    write_zoo_run(two_seeds, "everywhere", 1, 195.5, rate=0.1)  # above zaremba's highest seed, by less than 4
    write_zoo_run(two_seeds, "variational", 1, 198.5, rate=0.1)  # above it by more
    best = analysis.zoo.tuning_findings(analysis.zoo.tuning_runs(two_seeds))["best"]
    assert best.loc["weight_drop", "verdict"] == "within"
    assert best.loc["everywhere", "verdict"] == "borderline" and best.loc["everywhere", "gap"] == 1.5
    assert best.loc["variational", "verdict"] == "behind"


def test_band_verdict_is_the_tuning_rule():
    band = (82.0, 83.0)  # width 1
    assert analysis.zoo.band_verdict([82.5], band) == (0.0, "within")
    assert analysis.zoo.band_verdict([83.5, 84.5], band) == (0.5, "borderline")
    assert analysis.zoo.band_verdict([85.0], band) == (2.0, "behind")
    assert analysis.zoo.band_verdict([79.0], band) == (-3.0, "ahead")


def test_full_scale_verdicts_wait_for_every_control_seed(tmp_path):
    def medium(name, scheme, seed, test, rate=None, complete=True):
        folder = write_zoo_run(tmp_path, scheme, seed, test + 4, test=test, complete=complete, rate=rate)
        (tmp_path / "ptb" / name).parent.mkdir(parents=True, exist_ok=True)
        folder.rename(tmp_path / "ptb" / name)

    medium("medium", "zaremba", 1, 82.0)
    medium("zoo-medium/variational-r10-seed1", "variational", 1, 79.0, rate=0.1)
    medium("zoo-medium/memory-r10-seed1", "memory", 1, 84.0, rate=0.1, complete=False)
    runs = analysis.zoo.load_full_scale(tmp_path)
    assert list(runs) == ["zaremba seed1", "memory seed1", "variational seed1"]
    found = analysis.zoo.full_scale_findings(runs)
    assert found["band"] is None and set(found["verdict"].values()) == {"training"} and not found["complete"]

    medium("medium-seed2", "zaremba", 2, 83.0)
    assert analysis.zoo.full_scale_findings(analysis.zoo.load_full_scale(tmp_path))["band"] is None  # seed 3 to go
    medium("medium-seed3", "zaremba", 3, 82.5)
    runs = analysis.zoo.load_full_scale(tmp_path)
    found = analysis.zoo.full_scale_findings(runs)
    assert found["band"] == (82.0, 83.0) and found["complete"] == ["variational"]
    assert found["verdict"] == {"memory": "training", "variational": "ahead"}  # 3 below a band 1 wide
    table = analysis.zoo.full_scale_table(runs)
    assert table.loc["variational seed1", ["rate", "test_ppl", "published_test"]].tolist() == [0.1, 79.0, 79.7]
    assert table.loc["zaremba seed2", "published_test"] == 82.7 and math.isnan(table.loc["memory seed1", "test_ppl"])
    assert table.loc["memory seed1", "epochs"] == "6/6" and table.loc["memory seed1", "verdict"] == "training"

    fig = views.zoo.plot_full_scale(runs)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(runs)
    assert {t.get_text() for t in ax.texts} == {"Zaremba et al. 86.2", "Gal & Ghahramani 81.8"}


def test_the_recurrent_rate_names_the_rate_on_each_schemes_recurrent_site():
    def rate(scheme, dropout, recurrent_dropout, zoneout_c):
        config = {"scheme": scheme, "dropout": dropout, "recurrent_dropout": recurrent_dropout, "zoneout_c": zoneout_c}
        return analysis.zoo.recurrent_rate(config, no_site=0.0)

    assert rate("zaremba", 0.5, None, 0.5) == 0.0  # no recurrent mask at all
    assert rate("none", 0.0, None, 0.5) == 0.0
    assert rate("everywhere", 0.5, None, 0.5) == 0.5  # unset: the non-recurrent rate
    assert rate("memory", 0.5, 0.1, 0.5) == 0.1
    assert rate("zoneout", 0.5, 0.5, 0.1) == 0.1  # the cell's zoneout rate
    assert math.isnan(analysis.zoo.recurrent_rate({"scheme": "zaremba", "dropout": 0.5}))  # the tuning's default


def test_retrains_sit_beside_the_recorded_runs(two_seeds, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("retrains")
    control = two_seeds / "ptb" / "zoo-control"
    control.mkdir()
    write_zoo_run(elsewhere, "everywhere", 2, 199.5).rename(control / "everywhere-seed2")
    write_zoo_run(elsewhere, "memory", 2, 200.0).rename(control / "memory-seed2")  # no recorded memory run
    write_zoo_run(elsewhere, "zaremba", 2, 193.0, complete=False).rename(control / "zaremba-seed2")  # training
    table = analysis.zoo.retrain_table(two_seeds)
    assert table.to_dict("records") == [
        {"scheme": "everywhere", "seed": 2, "recorded valid": 198.0, "retrain valid": 199.5, "difference": 1.5}
    ]


def test_a_record_names_its_threads_in_a_field_or_in_older_records_its_device_string():
    assert recorded_threads({"threads": 2, "device": "AMD EPYC"}) == 2
    assert recorded_threads({"device": "AMD EPYC, 1 threads, AVX2"}) == 1  # written before the field existed
    assert recorded_threads({"device": "NVIDIA H200 (CUDA 12.8)"}) is None
