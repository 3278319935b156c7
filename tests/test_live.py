"""The live demos' runs without a UI: quick configs, seed sweeps and what chapter 01 reads from them."""

import pytest

from rnnreg import live
from rnnreg.analysis import runs


def test_a_seed_sweep_trains_every_scheme_with_every_seed(tiny_corpus):
    sweep = live.seed_sweep(
        tiny_corpus,
        ("none", "zaremba"),
        (1, 2),
        hidden_size=8,
        train_tokens=600,
        valid_tokens=200,
        epochs=2,
        batch_size=4,
        steps=5,
    )
    assert [(r["seed"], r["label"]) for r in sweep["runs"]] == [
        (1, "none"),
        (1, "zaremba p=0.5"),
        (2, "none"),
        (2, "zaremba p=0.5"),
    ]
    assert all(len(r["valid"]) == len(r["train"]) == 2 for r in sweep["runs"])
    assert sweep["runs"][0]["valid"] != sweep["runs"][2]["valid"]  # seeds differ
    assert sweep["unigram_valid"] == tiny_corpus.head(train=600, valid=200).unigram_perplexity("valid")


def test_sweep_findings_measure_the_turn_up_and_the_gap():
    sweep = {
        "runs": [
            {"seed": 1, "label": "none", "valid": [10.0, 8.0, 12.0], "train": [9.0, 5.0, 3.0]},
            {"seed": 1, "label": "zaremba p=0.5", "valid": [11.0, 9.0, 9.0], "train": [9.0, 7.0, 6.0]},
            {"seed": 2, "label": "none", "valid": [10.0, 9.0, 9.0], "train": [9.0, 5.0, 3.0]},
            {"seed": 2, "label": "zaremba p=0.5", "valid": [11.0, 9.0, 4.5], "train": [9.0, 7.0, 6.0]},
        ],
        "seconds": {1: 50.0, 2: 61.5},
    }
    found = live.sweep_findings(sweep)
    assert found["rise_none"] == pytest.approx([0.5, 0.0])
    assert found["dropout_below_none"] == pytest.approx([0.25, 0.5])
    assert found["per_seed"][1]["none"]["best_epoch"] == 2
    assert found["order"] == {1: ["zaremba p=0.5", "none"], 2: ["zaremba p=0.5", "none"]}
    assert found["last_valid"]["none"] == [12.0, 9.0]
    assert found["turn_none"] == [2, 2]
    assert found["best"] == {1: "zaremba p=0.5", 2: "zaremba p=0.5"}
    assert found["span"] == {"none": (9.0, 12.0), "zaremba p=0.5": (4.5, 9.0)}
    assert found["seconds"] == (50.0, 61.5) and found["rate"] == {}  # the runs record no recurrent rate
    table = runs.sweep_table(sweep)
    assert table.loc[(2, "zaremba p=0.5"), "last valid"] == 4.5


def test_quick_config_holds_the_learning_rate_and_drops_only_with_a_scheme():
    c = live.quick_config("none", hidden_size=32, train_tokens=5000, epochs=3, dropout=0.5)
    assert c.dropout == 0.0 and c.lr_at(3) == 1.0 and c.max_train_tokens == 5000
    assert live.quick_config("zaremba", hidden_size=32, train_tokens=5000, epochs=3, dropout=0.3).dropout == 0.3


def test_curve_findings_find_the_best_epoch_and_the_rise():
    from rnnreg.train import curve_findings

    log = [
        {"epoch": 1, "valid_ppl": 10.0, "train_ppl": 9.0},
        {"epoch": 2, "valid_ppl": 8.0, "train_ppl": 6.0},
        {"epoch": 3, "valid_ppl": 8.0, "train_ppl": 4.0},
        {"epoch": 4, "valid_ppl": 10.0, "train_ppl": 3.0},
    ]
    found = curve_findings(log)
    assert (found["best_epoch"], found["best_valid"], found["epochs"]) == (2, 8.0, 4)  # the first of equal bests
    assert found["rise"] == pytest.approx(0.25) and found["train_falling"] is True
    still = curve_findings(log[:2])
    assert still["rise"] == 0 and still["train_falling"] is None
    with pytest.raises(ValueError, match="at least one"):
        curve_findings([])


def test_a_recurrent_rate_sweep_trains_one_scheme_at_each_rate(tiny_corpus):
    sweep = live.seed_sweep(
        tiny_corpus,
        ("everywhere",),
        (1,),
        recurrent_rates=(0.0, 0.5),
        hidden_size=8,
        train_tokens=600,
        valid_tokens=200,
        epochs=1,
        batch_size=4,
        steps=5,
        workers=1,
    )
    assert [(r["label"], r["recurrent_rate"]) for r in sweep["runs"]] == [
        ("everywhere p=0.5 r=0", 0.0),
        ("everywhere p=0.5 r=0.5", 0.5),
    ]
    assert sweep["runs"][0]["valid"] != sweep["runs"][1]["valid"] and sweep["seconds"][1] > 0
    assert live.sweep_findings(sweep)["rate"] == {"everywhere p=0.5 r=0": 0.0, "everywhere p=0.5 r=0.5": 0.5}
    with pytest.raises(ValueError, match="one scheme"):
        live.seed_sweep(tiny_corpus, ("everywhere", "memory"), (1,), recurrent_rates=(0.0,))


def test_every_demo_is_a_panel_the_chapters_can_build(tiny_corpus):
    from rnnreg.views import panels

    for name, demo in live.DEMOS.items():
        panel = panels.TrainingPanel(tiny_corpus, **demo, workers=1)
        assert len(panel.configs()) == len(demo.get("recurrent_rates") or demo["schemes"]), name
