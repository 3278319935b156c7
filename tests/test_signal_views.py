"""Chapter 03's views: the signal panel, the figures, and the loader of recorded signal.json files.

Plain pytest, no kernel (reference notebooks.md §2): setting a control's ``.value`` fires its
observer; we assert on the panel's state, figure and PNG bytes.
"""
import json

import pytest

from rnnreg import analysis, views
from rnnreg.views.signal import SignalPanel


def fake_signal(run_dir, scheme, decay=0.5, max_lag=5):
    run_dir.mkdir(parents=True)
    lags = list(range(max_lag + 1))
    swap = {"lag": lags, "relative_dh": [decay**k for k in lags], "kl": [0.1 * decay**k for k in lags]}
    data = {"run": str(run_dir), "scheme": scheme, "epoch": 6, "split": "valid", "swap_eval": swap,
            "swap_masks": {k: [v * 2 for v in vs] if k != "lag" else vs for k, vs in swap.items()},
            "context_ablation": {"context": [1, 2, 3, 5, 10, 20, 50],
                                 "ppl": [600.0, 400.0, 300.0, 250.0, 220.0, 210.0, 205.0]},
            "provenance": {"command": "python -m rnnreg measure", "wall_s": 1.0}}
    (run_dir / "signal.json").write_text(json.dumps(data))
    (run_dir / "config.json").write_text(json.dumps({"scheme": scheme, "num_layers": 2, "hidden_size": 200,
                                                     "dropout": 0.5, "max_train_tokens": 300000, "epochs": 6,
                                                     "seed": 1}))


@pytest.fixture
def results(tmp_path):
    zoo = tmp_path / "ptb" / "zoo"
    fake_signal(zoo / "zaremba-seed1", "zaremba", 0.8)
    fake_signal(zoo / "everywhere-seed1", "everywhere", 0.3)
    (zoo / "memory-seed1").mkdir()  # trained but not measured
    (zoo / "zoneout-seed1").mkdir()
    (zoo / "zoneout-seed1" / "signal.json").write_text("{half written")  # unreadable: not recorded
    return tmp_path


def test_loader_reads_fake_runs_and_lists_missing(results):
    loaded = analysis.signal_runs.load_signal_runs(results)
    assert list(loaded) == ["zaremba", "everywhere"]
    run = loaded["everywhere"]
    assert list(run.swap_eval.columns) == ["lag", "relative_dh", "kl"]
    assert run.swap_masks["relative_dh"].iloc[1] == pytest.approx(0.6)
    assert run.context["ppl"].iloc[-1] == 205.0
    assert analysis.signal_runs.missing_schemes(loaded) == ["none", "memory", "variational", "weight_drop", "zoneout"]
    note = analysis.signal_runs.runs_note(loaded)
    assert "2×200" in note and "Not yet recorded here: none, memory" in note
    table = analysis.signal_runs.swap_table(loaded, lags=(1, 2, 5))
    assert table.loc["everywhere", "k=2"] == pytest.approx(0.09)
    assert analysis.signal_runs.context_table(loaded).loc["zaremba", "k=50"] == 205.0
    verdict = analysis.signal_runs.verdict_table(loaded, near=1, far=5)
    assert verdict.loc["everywhere", "dh k=5/k=1 (eval)"] == pytest.approx(0.3**4, abs=1e-3)
    assert verdict.loc["zaremba", "ppl k=5 / k=50"] == pytest.approx(250 / 205, abs=1e-3)


def test_loader_handles_missing_results(tmp_path):
    loaded = analysis.signal_runs.load_signal_runs(tmp_path / "nowhere")
    assert loaded == {}
    assert analysis.signal_runs.swap_table(loaded).empty and analysis.signal_runs.context_table(loaded).empty
    assert analysis.signal_runs.verdict_table(loaded).empty
    assert "No recorded measurements yet" in analysis.signal_runs.runs_note(loaded)
    for fig in (views.signal.plot_swap(loaded), views.signal.plot_context(loaded)):  # draw, saying what is missing
        assert any("not yet recorded" in t.get_text() for ax in fig.axes for t in ax.texts)


def test_measured_figures_name_their_runs(results):
    loaded = analysis.signal_runs.load_signal_runs(results)
    fig = views.signal.plot_swap(loaded)
    assert [ln.get_label() for ln in fig.axes[0].get_lines()] == ["zaremba", "everywhere"]
    assert any("Not yet recorded here" in t.get_text().replace("\n", " ") for t in fig.texts)
    fig = views.signal.plot_context(loaded)
    assert len(fig.axes[0].get_lines()) == 2


def test_analytic_and_simulated_figures():
    fig = views.signal.plot_analytic(0.5, 10, 2)
    labels = [ln.get_label() for ln in fig.axes[0].get_lines()]
    # memory masks the cell path at every step: it counts like everywhere, not like zaremba
    assert {"zaremba = zoneout", "everywhere = memory", "variational = weight_drop"} <= set(labels)
    fig = views.signal.plot_simulated_linear(0.5, 4, samples=200)
    assert len(fig.axes) == 2
    fig = views.signal.plot_lstm_paths(0.5, 4, schemes=("zaremba", "everywhere"), samples=40)
    assert "zaremba: 0 (no recurrent noise)" in [ln.get_label() for ln in fig.axes[0].get_lines()]


def test_signal_panel_redraws_on_every_control():
    panel = SignalPanel()
    assert panel.state()["masks"] == 2 + 1 + 5  # L + 1 fixed, k = 5 fresh recurrent masks
    png, fig = bytes(panel.image.value), panel.figure
    assert png.startswith(b"\x89PNG")
    panel.lag.value = 10
    assert panel.state()["masks"] == 13 and panel.figure is not fig and bytes(panel.image.value) != png
    assert "13 masks" in panel.readout.value
    panel.scheme.value = "variational"
    assert panel.state()["masks"] == 4
    panel.layers.value = 3
    assert panel.state()["masks"] == 5
    before = bytes(panel.image.value)
    panel.mixing.value = "identity"
    assert bytes(panel.image.value) != before
    panel.rate.value = 0.3
    assert panel.state()["relative_variance"] == pytest.approx(0.7**-5 - 1)
    panel.quantity.value = "snr"
    assert "SNR" in panel.figure.axes[0].get_ylabel() or "signal-to-noise" in panel.figure.axes[0].get_ylabel()
    panel.scheme.value = "zaremba"  # no recurrent mask: simulated curves say so instead of failing
    assert panel.state()["masks"] == 4


def test_verdict_reads_the_measurements(results, tmp_path):
    loaded = analysis.signal_runs.load_signal_runs(results)
    text = analysis.signal_runs.verdict(loaded)
    assert "**everywhere**: perplexity 600 reading 1 token, 205 reading 50" in text
    assert "Verdict on" in text  # both everywhere and zaremba measured (identical fake curves)
    assert "no sign that recurrent dropout made the model ignore its hidden state" in text
    assert "Not yet recorded here" in analysis.signal_runs.verdict({})
    only = {"everywhere": loaded["everywhere"]}
    assert "Not yet recorded here:** zaremba" in analysis.signal_runs.verdict(only)


def test_lstm_reading_quotes_the_simulation_it_is_given():
    results = views.signal.lstm_results(0.5, max_lag=20, samples=20, hidden=8, seed=0)
    text = views.signal.lstm_reading(results)
    table = views.signal.lstm_table(results)
    early = max((s for s in results if s != "zaremba"), key=lambda s: float(results[s]["h"].mean[5]))
    assert f"`{early}` grows fastest early" in text
    early_h = [float(results[early]["h"].mean[k]) for k in (1, 5, 10, 20)]
    assert " → ".join(f"{v:.2g}" if v < 10 else f"{v:.0f}" for v in early_h) in text
    assert table.loc["zaremba", "h k=20"] == "0" and "`zaremba` adds none" in text
