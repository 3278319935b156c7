"""rnnreg.views.panels: every panel renders its default state, and moving a control changes what it shows.

Plain pytest, no kernel (see reference notebooks.md §2): setting ``.value`` fires the observers,
``Button.click()`` fires ``on_click``; we assert on the panel's figure, image bytes and results.
"""

import dataclasses
import random

import pytest
import torch

from rnnreg import live
from rnnreg.data import Corpus
from rnnreg.model import SCHEMES
from rnnreg.views import panels


@pytest.fixture(scope="module")
def tiny_corpus():
    rng = random.Random(0)
    words = [f"w{i}" for i in range(40)]
    text = lambda n: "\n".join(" ".join(rng.choice(words) for _ in range(8)) for _ in range(n))  # noqa: E731
    return Corpus.from_texts(text(200), text(30), text(30), source="tiny")


def title_of(fig):
    return " ".join(
        [fig.axes[0].get_title("left"), fig.axes[0].get_title(), fig._suptitle.get_text() if fig._suptitle else ""]
    )


def test_controls_have_defaults():
    assert panels.scheme_picker().value == "zaremba"
    assert [v for _, v in panels.scheme_picker().options] == list(SCHEMES)
    assert panels.schemes_picker().value == ("none", "zaremba")
    s = panels.rate_slider()
    assert s.value == 0.5 and s.max == 0.9 and not s.continuous_update


def test_scheme_diagram_follows_the_dropdown():
    panel = panels.SchemeDiagram()
    first_png, first_fig = panel.image.value, panel.figure
    assert first_png and "zaremba" in title_of(first_fig)
    panel.scheme.value = "everywhere"
    assert panel.figure is not first_fig and "everywhere" in title_of(panel.figure)
    assert panel.image.value != first_png


def test_information_path_follows_lag_and_scheme():
    panel = panels.InformationPath("zaremba", lag=2)
    first = panel.image.value
    assert "meets 3 dropout masks" in panel.figure.axes[0].get_title("left")
    panel.lag.value = 6
    assert panel.image.value != first and "x(t−6)" in panel.figure.axes[0].get_title("left")
    panel.scheme.value = "everywhere"
    assert "meets 9 dropout masks" in panel.figure.axes[0].get_title("left")  # L + 1 + one per step


def test_the_masks_of_chapter_02_come_from_the_model():
    from rnnreg.analysis.schemes import sample_masks

    assert set(sample_masks("zaremba", steps=10, units=8)) == {"input", "between", "output"}
    masks = sample_masks("variational", steps=10, units=8)
    assert set(masks) == {"input", "between", "output", "h"}
    assert (masks["h"] == masks["h"][:1]).all()  # one mask per sequence
    assert float(sample_masks("zaremba", steps=10, units=8, rate=0.85)["input"].mean()) < 0.4
    assert sample_masks("zaremba", rate=0.0) == {}  # rate 0: the model draws no masks at all
    assert sample_masks("none") == {}


def test_the_code_chapter_02_prints_implements_each_scheme():
    import inspect

    source = lambda scheme: "".join(inspect.getsource(f) for f in panels.SCHEME_CODE[scheme])  # noqa: E731
    assert set(panels.SCHEME_CODE) == set(SCHEMES)
    assert "drop_nonrecurrent" in source("zaremba")
    assert "recurrent_weight" in source("weight_drop") and "DropConnect" in source("weight_drop")


def test_presets_table():
    table = panels.presets_table()
    assert table.loc["paper valid / test", "large"] == "82.2 / 78.4"
    assert list(table.columns) == ["small", "medium", "large"]
    assert table.loc["parameters (M)"].tolist() == [4.65, 19.78, 66.03]


def test_quick_config():
    c = live.quick_config("none", hidden_size=32, train_tokens=5000, epochs=3, dropout=0.5)
    assert c.dropout == 0.0 and c.scheme == "none" and c.decay_after == 3 and c.lr_at(3) == 1.0
    c = live.quick_config("zaremba", hidden_size=32, train_tokens=5000, epochs=3, dropout=0.3)
    assert c.dropout == 0.3 and c.max_train_tokens == 5000 and c.steps == 20


def make_panel(corpus, **kw):
    kw = dict(hidden_size=16, train_tokens=1000, valid_tokens=200, epochs=2, batch_size=4, steps=10, workers=1) | kw
    return panels.TrainingPanel(corpus, **kw)


@pytest.mark.parametrize(
    "option,value,allowed",
    [
        ("hidden_size", 5000, "between 16 and 400"),
        ("epochs", 0, "between 1 and 20"),
        ("steps", 1000, "between 5 and 50"),
        ("seed", -7, "between 0 and 10,000"),
        ("dropout", 0.95, "between 0.0 and 0.9"),
        ("valid_tokens", -5, "at least 8"),
        ("train_tokens", 10, "at least 1,000"),
        ("batch_size", 0, "at least 1"),
    ],
)
def test_training_panel_refuses_values_out_of_range_naming_the_option(tiny_corpus, option, value, allowed):
    with pytest.raises(ValueError, match=rf"^{option} must be {allowed}, got {value}$"):
        make_panel(tiny_corpus, **{option: value})


def test_other_panels_refuse_values_their_controls_would_clamp():
    with pytest.raises(ValueError, match="^lag must be between 1 and 8"):
        panels.InformationPath(lag=0)


def test_unknown_choices_are_refused_listing_the_valid_ones(tiny_corpus):
    with pytest.raises(ValueError, match="^scheme must be one of none, zaremba, .*; got 'bogus'"):
        panels.SchemeDiagram("bogus")
    with pytest.raises(ValueError, match="^plot must be one of curves, comparison; got 'bars'"):
        make_panel(tiny_corpus, plot="bars")
    with pytest.raises(ValueError, match="^schemes must be one of none, zaremba, .*; got 'bogus'"):
        make_panel(tiny_corpus, schemes=("none", "bogus"))


def test_slices_beyond_a_split_are_the_whole_split_and_the_note_says_so(tiny_corpus):
    n_train, n_valid = len(tiny_corpus.train), len(tiny_corpus.valid)
    panel = make_panel(tiny_corpus, train_tokens=10**9, valid_tokens=10**6)
    assert panel.train_tokens.value == n_train and panel.train_tokens.max == n_train and panel.valid_tokens == n_valid
    assert all(c.max_train_tokens == n_train for c in panel.configs().values())
    assert panel.data_note().startswith(f"live: first {n_train:,} tiny train tokens, first {n_valid:,} valid tokens;")
    panel.train_tokens.value = 10**9  # the slider cannot go past the split either
    assert panel.train_tokens.value == n_train


def test_checks_are_false_before_a_run(tiny_corpus):
    panel = make_panel(tiny_corpus)
    assert panel.checks() and not any(panel.checks().values())


def test_training_panel_click_trains_and_draws(tiny_corpus):
    panel = make_panel(tiny_corpus)
    empty = panel.image.value
    assert panel.table().empty and empty
    panel.button.click()
    assert list(panel.results) == ["none", "zaremba p=0.5"]
    assert panel.image.value != empty
    table = panel.table()
    assert list(table.index) == ["none", "zaremba p=0.5"] and (table["epochs"] == 2).all()
    assert len(panel.epoch_logs["none"]) == 2
    assert "done" in panel.status.value and not panel.button.disabled


def test_training_panel_controls_change_the_runs(tiny_corpus):
    panel = make_panel(tiny_corpus)
    panel.run()
    first = panel.table()
    panel.hidden.value = 24
    panel.dropout.value = 0.2
    panel.epochs.value = 1
    panel.run()
    second = panel.table()
    assert list(second.index) == ["none", "zaremba p=0.2"]
    assert (second["hidden"] == 24).all() and (second["epochs"] == 1).all()
    assert panel.results["zaremba p=0.2"].config.dropout == 0.2
    assert not first.equals(second)


def test_moving_a_control_after_a_run_says_the_figure_shows_the_last_run(tiny_corpus):
    panel = make_panel(tiny_corpus, epochs=1)
    panel.hidden.value = 24  # before any run: nothing to warn about
    assert "settings changed" not in panel.status.value
    panel.run()
    assert "done" in panel.status.value
    panel.dropout.value = 0.3
    assert "settings changed" in panel.status.value and "zaremba p=0.5" in panel.status.value
    panel.run()
    assert "done" in panel.status.value and "zaremba p=0.3" in panel.status.value


def test_training_panel_is_deterministic(tiny_corpus):
    a = make_panel(tiny_corpus)
    a.run()
    b = make_panel(tiny_corpus)
    b.run()
    assert a.table().equals(b.table())


def test_training_panel_scheme_choice(tiny_corpus):
    panel = make_panel(tiny_corpus, schemes=("everywhere",), recurrent_rates=(0.0,), plot="comparison", epochs=1)
    panel.schemes.value = "variational"
    panel.run()
    assert list(panel.results) == ["variational p=0.5 r=0"]
    assert len(panel.figure.axes) == 2  # curves + bars


def test_training_panel_table_is_its_findings_rounded(tiny_corpus):
    panel = make_panel(tiny_corpus)
    assert panel.table().empty and panel.findings() == {}
    panel.run()
    table, found = panel.table(), panel.findings()
    assert list(table.index) == list(found)
    for label, f in found.items():
        assert table.loc[label, "valid ppl"] == round(f["last_valid"], 1)
        assert table.loc[label, "best epoch"] == f["best_epoch"]
    checks = panel.checks()
    unigram = tiny_corpus.head(train=panel.train_tokens.value, valid=panel.valid_tokens).unigram_perplexity("valid")
    assert checks["every run finished its epochs"]
    # random words: no model can beat the unigram model here, and the check must say so
    assert checks["every run's best epoch beats the slice's unigram model"] == all(
        f["best_valid"] < unigram for f in found.values()
    )


def test_recurrent_rate_sweep_varies_only_the_recurrent_rate(tiny_corpus):
    panel = make_panel(tiny_corpus, schemes=("everywhere",), recurrent_rates=(0.0, 0.5), epochs=1)
    configs = panel.configs()
    assert list(configs) == ["everywhere p=0.5 r=0", "everywhere p=0.5 r=0.5"]
    a, b = configs.values()
    assert (a.recurrent_dropout, b.recurrent_dropout) == (0.0, 0.5)
    assert {k: v for k, v in vars(a).items() if k != "recurrent_dropout"} == {
        k: v for k, v in vars(b).items() if k != "recurrent_dropout"
    }
    panel.schemes.value = "variational"
    panel.recurrent.value = (0.25,)
    assert list(panel.configs()) == ["variational p=0.5 r=0.25"]
    with pytest.raises(ValueError):
        make_panel(tiny_corpus, schemes=("zaremba",), recurrent_rates=(0.0,))


def test_a_recurrent_rate_of_zero_is_zarembas_placement(tiny_corpus):
    sweep = make_panel(tiny_corpus, schemes=("everywhere",), recurrent_rates=(0.0,), epochs=1)
    plain = make_panel(tiny_corpus, schemes=("zaremba",), epochs=1)
    [(_, r0)] = sweep.run().items()
    [(_, z)] = plain.run().items()
    assert r0.log[-1]["valid_ppl"] == pytest.approx(z.log[-1]["valid_ppl"], rel=1e-4)


def test_the_status_says_the_time_left_once_an_epoch_is_measured_and_follows_the_settings(tiny_corpus):
    panel = make_panel(tiny_corpus, workers=1)
    seen = []
    panel.status.observe(lambda change: seen.append(change["new"]), names="value")
    panel.run()
    before_first_epoch = [v for v in seen if "epoch 1/2 done" not in v and "epoch 2/2" not in v]
    assert not any("s left" in v for v in before_first_epoch)  # nothing measured yet: no guess
    assert any("s left" in v for v in seen) and "s left" not in panel.status.value  # measured, then done
    panel.seed_box.value = 7
    assert all(c.seed == 7 for c in panel.configs().values())


def test_findings_are_what_the_chapter_checks(tiny_corpus, monkeypatch):
    logs = {"none": [10.0, 8.0, 9.5], "zaremba p=0.5": [11.0, 9.0, 8.5]}

    def fake_train(config, *a, **k):
        from rnnreg.train import RunResult

        valid = logs["none" if config.scheme == "none" else "zaremba p=0.5"]
        return RunResult(
            config, [{"epoch": i + 1, "train_ppl": 5.0 - i, "valid_ppl": v} for i, v in enumerate(valid)], model=None
        )

    monkeypatch.setattr(live, "train", fake_train)
    panel = make_panel(tiny_corpus, schemes=("none", "zaremba"))
    panel.run()
    found = panel.findings()
    assert found["none"] == {
        "epochs": 3,
        "last_valid": 9.5,
        "best_valid": 8.0,
        "best_epoch": 2,
        "last_train": 3.0,
        "rise": pytest.approx(0.1875),
        "train_falling": True,
    }
    assert found["zaremba p=0.5"]["best_epoch"] == 3


def test_live_training_runs_on_one_thread_and_restores_the_setting(tiny_corpus, monkeypatch):
    import torch

    seen = []
    monkeypatch.setattr(live, "train", lambda *a, **k: seen.append(torch.get_num_threads()) or _fake_result(a[0]))
    torch.set_num_threads(2)
    try:
        make_panel(tiny_corpus, schemes=("none",)).run()
        assert seen == [1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(1)


def test_side_by_side_runs_give_the_numbers_of_one_after_the_other(tiny_corpus):
    # two processes, one thread each, seeded as train() seeds itself: the same logs and weights
    sequential = make_panel(tiny_corpus, workers=1)
    sequential.run()
    parallel = make_panel(tiny_corpus, workers=2)
    parallel.run()
    assert list(parallel.results) == list(sequential.results) == ["none", "zaremba p=0.5"]
    for label, r in sequential.results.items():
        numbers = lambda log: [{k: e[k] for k in ("epoch", "lr", "train_ppl", "valid_ppl")} for e in log]  # noqa: E731
        assert numbers(parallel.results[label].log) == numbers(r.log)  # timings differ, perplexities do not
        a, b = r.model.state_dict(), parallel.results[label].model.state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a)
    assert parallel.epoch_logs == sequential.epoch_logs and len(parallel.epoch_logs["none"]) == 2  # events forwarded
    assert "done" in parallel.status.value


def test_a_failing_side_by_side_run_is_reported_by_name(tiny_corpus):
    good = live.quick_config("none", hidden_size=8, train_tokens=400, epochs=1, dropout=0.5, batch_size=4, steps=5)
    bad = dataclasses.replace(good, lr=-1.0)  # refused by Config.validate() inside the worker
    with pytest.raises(RuntimeError, match="'bad' failed"):
        live.train_side_by_side({"good": good, "bad": bad}, tiny_corpus, workers=2)


def _fake_result(config):
    from rnnreg.train import RunResult

    return RunResult(config, [{"epoch": 1, "train_ppl": 10.0, "valid_ppl": 12.0}], model=None)


def test_the_preset_table_states_the_schedule_the_presets_run():
    # the authors' code: small halves from epoch 6 (results/ptb/small logs lr 0.5 there), medium from 8, large from 16
    schedule = panels.presets_table().loc["lr schedule"]
    assert [schedule[n].split("from epoch ")[1].split()[0] for n in ("small", "medium", "large")] == ["6", "8", "16"]
