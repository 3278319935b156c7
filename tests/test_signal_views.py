"""Chapter 03's views: the signal panel, the figures, and the loader of recorded signal.json files.

Plain pytest, no kernel (reference notebooks.md §2): setting a control's ``.value`` fires its
observer; we assert on the panel's state, figure and PNG bytes.
"""

import json
import math

import pytest

from rnnreg import analysis, views
from rnnreg.views.signal import SignalPanel


def fake_signal(run_dir, scheme, decay=0.5, max_lag=5):
    run_dir.mkdir(parents=True)
    lags = list(range(max_lag + 1))
    swap = {"lag": lags, "relative_dh": [decay**k for k in lags], "kl": [0.1 * decay**k for k in lags]}
    data = {
        "run": str(run_dir),
        "scheme": scheme,
        "epoch": 6,
        "split": "valid",
        "swap_eval": swap,
        "swap_masks": {k: [v * 2 for v in vs] if k != "lag" else vs for k, vs in swap.items()},
        "context_ablation": {
            "context": [1, 2, 3, 5, 10, 20, 50],
            "ppl": [600.0, 400.0, 300.0, 250.0, 220.0, 210.0, 205.0],
        },
        "provenance": {"command": "python -m rnnreg measure", "wall_s": 1.0},
    }
    (run_dir / "signal.json").write_text(json.dumps(data))
    (run_dir / "config.json").write_text(
        json.dumps(
            {
                "scheme": scheme,
                "num_layers": 2,
                "hidden_size": 200,
                "dropout": 0.5,
                "max_train_tokens": 300000,
                "epochs": 6,
                "seed": 1,
            }
        )
    )


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
    loaded = analysis.signal_runs.load_signal_seeds(results)[1]
    assert list(loaded) == ["zaremba", "everywhere"]
    run = loaded["everywhere"]
    assert list(run.swap_eval.columns) == ["lag", "relative_dh"]
    assert run.swap_masks["relative_dh"].iloc[1] == pytest.approx(0.6)
    assert run.context["ppl"].iloc[-1] == 205.0
    budget = analysis.signal_runs.runs_budget(loaded)
    assert budget["missing"] == ["none", "memory", "variational", "weight_drop", "zoneout"]
    assert (budget["num_layers"], budget["hidden_size"], budget["max_train_tokens"]) == (2, 200, 300000)
    assert budget["runs"] == ["zaremba", "everywhere"] and budget["missing"][:2] == ["none", "memory"]
    table = analysis.signal_runs.swap_table(loaded, lags=(1, 2, 5))
    assert table.loc["everywhere", "k=2"] == pytest.approx(0.09)
    assert analysis.signal_runs.context_table(loaded).loc["zaremba", "k=50"] == 205.0
    assert analysis.signal_runs.swap_table(loaded, mode="masks", lags=(1,)).loc["everywhere", "k=1"] == 0.6


def test_loader_handles_missing_results(tmp_path):
    assert analysis.signal_runs.load_signal_seeds(tmp_path / "nowhere") == {}
    loaded = {}
    assert analysis.signal_runs.swap_table(loaded).empty and analysis.signal_runs.context_table(loaded).empty
    budget = analysis.signal_runs.runs_budget(loaded)
    assert budget["runs"] == [] and budget["hidden_size"] is None and len(budget["missing"]) == 7
    for fig in (views.signal.plot_swap(loaded), views.signal.plot_context(loaded)):  # draw, saying what is missing
        assert any("not yet recorded" in t.get_text() for ax in fig.axes for t in ax.texts)


def test_measured_figures_name_their_runs(results):
    loaded = analysis.signal_runs.load_signal_seeds(results)[1]
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
    fig = views.signal.plot_simulated_linear(analysis.signal.linear_estimates(0.5, 4, samples=200), 0.5, samples=200)
    assert len(fig.axes) == 2
    lstm = {s: analysis.signal.simulate_lstm(s, 0.5, 4, samples=40) for s in ("zaremba", "everywhere")}
    fig = views.signal.plot_lstm_paths(lstm, 0.5, samples=40)
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
    panel.scheme.value = "zaremba"  # no recurrent mask: simulated curves say so instead of failing
    assert panel.state()["masks"] == 4


def test_state_use_is_numbers(results):
    loaded = analysis.signal_runs.load_signal_seeds(results)[1]
    ev = analysis.signal_runs.state_use(loaded["everywhere"], short=5, long=50, near=1, far=5)
    assert ev["context_gain"] == pytest.approx(1 - 205 / 250)
    assert ev["far_over_near"] == pytest.approx(0.3**4)
    uses = [analysis.signal_runs.state_use(r) for r in loaded.values()]
    assert all(u["context_gain"] > analysis.signal_runs.IGNORES_GAIN for u in uses)  # every model uses its state
    run = loaded["everywhere"]
    empty = analysis.signal_runs.SignalRun("x", results, *(run.swap_eval.iloc[:0] for _ in range(3)))
    assert analysis.signal_runs.state_use(empty) == {"context_gain": None, "far_over_near": None}


def test_lstm_table_reads_the_simulation_it_is_given():
    results = {s: analysis.signal.simulate_lstm(s, 0.5, 20, 8, 20, seed=0) for s in analysis.signal.DROPOUT_SCHEMES}
    table = analysis.signal.lstm_table(results)
    assert table.loc["zaremba", "h k=20"] == "0" and table.loc["zaremba", "c k=5"] == "0"
    assert table.loc["everywhere", "h k=10"] == f"{float(results['everywhere']['h'].mean[10]):.3g}"
    assert all(0 < float(r["response_norm"][10]) < 1 for r in results.values())


def test_linear_table_checks_the_formula():
    est = analysis.signal.linear_estimates(0.5, max_lag=4, samples=2000, hidden=16, seed=0)
    lin = analysis.signal.linear_table(est, 0.5, lags=(1, 2, 4))
    assert lin.loc[("everywhere", "orthogonal", 4), "analytic"] == pytest.approx(15)
    assert lin.loc[("variational", "identity", 4), "analytic"] == pytest.approx(1)
    assert lin.loc[("variational", "identity", 4), "agrees"]
    assert not lin.loc[("variational", "orthogonal", 4), "agrees"]  # a shared mask compounds once units mix
    assert lin.loc[("everywhere", "orthogonal", 4), "mean"] == pytest.approx(
        float(est["everywhere", "orthogonal"].mean[4])
    )


def test_panel_without_recurrent_noise_hides_its_right_axis_and_keeps_the_label_out_of_the_title():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    panel = SignalPanel(scheme="zaremba", lag=6)
    fig = panel.figure
    left, right = fig.axes
    assert not right.axison or right.get_xlim() == (1, 20)  # no empty axis with an arbitrary range
    assert any("no noise" in t.get_text() for t in right.texts)
    FigureCanvasAgg(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    label = next(t for t in left.texts if "masks" in t.get_text())
    box, title, axes = label.get_window_extent(renderer), left.title.get_window_extent(renderer), left.bbox
    assert box.y1 <= axes.y1 and box.y0 >= axes.y0 and not box.overlaps(title)
    panel.scheme.value = "everywhere"  # noisy again: the right axis carries curves
    right = panel.figure.axes[1]
    assert right.axison and right.has_data() and right.get_yscale() == "log"


def test_mask_noise_figure_draws_each_record_or_says_none_is_recorded():
    records = [
        {
            "scheme": "variational",
            "recurrent_rate": 0.1,
            "lag": [0, 1, 2],
            "fraction": [0.4, 0.3, 0.3],
            "stderr": [0.01, 0.01, 0.02],
            "total": [1.0, 1.0, 1.0],
            "eval_total": [1.0, 1.0, 1.0],
        },
        {
            "scheme": "memory",
            "recurrent_rate": 0.25,
            "lag": [0, 1, 2],
            "fraction": [0.4, 0.2, 0.05],
            "stderr": [0.01, 0.01, 0.02],
            "total": [3.0, 3.0, 30.0],
            "eval_total": [1.0, 1.0, 1.0],
        },
    ]
    fig = views.signal.plot_mask_noise(records)
    lines = [ln for ln in fig.axes[0].get_lines() if not ln.get_label().startswith("_")]
    assert [ln.get_label() for ln in lines] == ["variational, rate 0.1", "memory, rate 0.25"]
    assert [ln.get_linestyle() for ln in lines] == ["-", "--"]
    assert list(lines[1].get_ydata()) == pytest.approx([2.0, 1.0, 0.25])  # over the lag-1 fraction
    assert list(fig.axes[1].get_lines()[1].get_ydata()) == pytest.approx([3.0, 3.0, 30.0])  # masked / eval power
    fig = views.signal.plot_mask_noise(records, highlight=("memory",))
    lines = [ln for ln in fig.axes[0].get_lines() if not ln.get_label().startswith("_")]
    assert [ln.get_label() for ln in lines] == ["memory, rate 0.25"]  # the others grey, unlabelled
    assert [ln.get_label() for ln in fig.axes[1].get_lines()] == ["_other", "memory, rate 0.25"]
    empty = views.signal.plot_mask_noise([])
    assert not empty.axes[0].axison and "not yet recorded" in empty.axes[0].texts[0].get_text()


POWER = {"total": [2.0] * 6, "eval_total": [1.0] * 6}  # masked over eval-mode power flat in the lag


def test_claims_per_scheme_and_seed(results, tmp_path):
    zoo = results / "ptb" / "zoo"
    fake_signal(zoo / "zaremba-seed2", "zaremba", 0.8)
    fake_signal(zoo / "everywhere-seed2", "everywhere", 0.7)
    control = results / "ptb" / "zoo-control"
    fake_signal(control / "everywhere-seed2", "everywhere", 0.1)  # the recorded zoo's measurement wins
    fake_signal(control / "memory-seed2", "memory", 0.6)  # the retrain stands in where the zoo has none
    by_seed = analysis.signal_runs.load_signal_seeds(results)
    assert sorted(by_seed) == [1, 2] and list(by_seed[2]) == ["zaremba", "everywhere", "memory"]
    assert by_seed[2]["everywhere"].path.parent.name == "zoo" and by_seed[2]["memory"].path.parent.name == "zoo-control"
    assert list(analysis.signal_runs.load_signal_seeds(results, zoos=("ptb/zoo",))[2]) == ["zaremba", "everywhere"]
    del by_seed[2]["memory"]
    tuned = results / "ptb" / "zoo-tuned" / "everywhere-r25-seed1"
    tuned.mkdir(parents=True)
    (tuned / "mask_noise.json").write_text(
        json.dumps(
            {
                "scheme": "everywhere",
                "recurrent_dropout": 0.25,
                "seed": 1,
                "lag": [0, 1, 2, 3, 4, 5],
                "fraction": [0.5, 0.4, 0.2, 0.1, 0.05, 0.02],
                "stderr": [0.005] * 6,
                **POWER,
            }
        )
    )
    zoneout = results / "ptb" / "zoo-tuned" / "zoneout-r10-seed1"
    zoneout.mkdir()
    (zoneout / "mask_noise.json").write_text(
        json.dumps(
            {
                "scheme": "zoneout",
                "recurrent_dropout": 0.5,
                "zoneout_c": 0.1,
                "seed": 1,
                "lag": [0, 1, 2, 3, 4, 5],
                "fraction": [0.5, 0.4, 0.4, 0.4, 0.4, 0.4],
                "stderr": [0.01] * 6,
                **POWER,
            }
        )
    )
    noise = analysis.signal_runs.load_mask_noise(results)
    assert [r["folder"] for r in noise] == ["everywhere-r25-seed1", "zoneout-r10-seed1"]
    assert noise[0]["zoo"] == "zoo-tuned" and [r["recurrent_rate"] for r in noise] == [0.25, 0.1]  # zoneout: c's
    claims = analysis.signal_runs.scheme_claims(by_seed, noise, far=5, noise_far=5)
    ev = claims["everywhere"]
    assert ev.seeds == [1, 2]
    assert ev.far_over_near == pytest.approx([0.3**4, 0.7**4])
    assert ev.vs_reference == pytest.approx([0.3**4 / 0.8**4, 0.7**4 / 0.8**4])
    assert ev.shorter_memory is False  # seed 2 does not forget faster than zaremba
    assert ev.ignores_state is False and ev.context_gain == pytest.approx([1 - 205 / 250] * 2)
    assert ev.noise[0]["falls"] and ev.wiped  # 0.4 -> 0.02: under a tenth of the near lag's fraction, beyond 2 s.e.
    assert ev.noise[0]["ratio"] == pytest.approx(0.05)
    assert ev.noise[0]["ratio_stderr"] == pytest.approx(math.hypot(0.005 / 0.4, 0.02 * 0.005 / 0.4**2))
    assert claims["memory"].seeds == [] and claims["memory"].ignores_state is None and claims["memory"].wiped is None
    assert not claims["zoneout"].noise[0]["falls"] and claims["zoneout"].wiped is False
    table = analysis.signal_runs.claims_table(claims)
    assert "memory" not in table.index  # nothing measured: no row
    assert table.loc["zoneout", "seeds"] == "none" and table.loc["zoneout", "ignores state"] == "not recorded"
    assert table.loc["everywhere", "seeds"] == "1, 2"
    # Seeds that agree at the digits shown give one number, not "6.2%–6.2%".
    agree = analysis.signal_runs.SchemeClaims(
        "x", seeds=[1, 2], context_gain=[0.0621, 0.0624], far_over_near=[0.021, 0.027]
    )
    row = analysis.signal_runs.claims_table({"x": agree}).loc["x"]
    assert row["ppl gain k=5→50"] == "6.2%" and row["h k=30/k=1"] == "0.021–0.027"
    assert analysis.signal_runs.claim_one(claims) == {
        "holds": ["everywhere"],
        "holds_at": {},
        "open_at": {},
        "falls_in": {"everywhere": (1, 1), "zoneout": (0, 1)},
        "measured": ["everywhere", "zoneout"],
    }
    assert analysis.signal_runs.claim_two(claims) == {"holds": [], "shorter_memory": [], "seeds": [1, 2]}
    forgets = analysis.signal_runs.SchemeClaims("y", seeds=[1], shorter_memory=True, ignores_state=False)
    ignores = analysis.signal_runs.SchemeClaims("z", seeds=[1, 3], shorter_memory=False, ignores_state=True)
    assert analysis.signal_runs.claim_two({"y": forgets, "z": ignores}) == {
        "holds": ["z"],
        "shorter_memory": ["y"],
        "seeds": [1, 3],
    }
    # Wiped out at one rate, kept at another: the claim holds at that rate only.
    kept = results / "ptb" / "zoo-tuned" / "everywhere-r10-seed1"
    kept.mkdir()
    (kept / "mask_noise.json").write_text(
        json.dumps(
            {
                "scheme": "everywhere",
                "recurrent_dropout": 0.1,
                "seed": 1,
                "lag": [0, 1, 2, 3, 4, 5],
                "fraction": [0.5, 0.4, 0.35, 0.3, 0.3, 0.3],
                "stderr": [0.01] * 6,
                **POWER,
            }
        )
    )
    both = analysis.signal_runs.scheme_claims(
        by_seed, analysis.signal_runs.load_mask_noise(results), far=5, noise_far=5
    )
    ev = both["everywhere"]
    assert ev.wiped is False and (ev.rates("wiped"), ev.rates("kept")) == ([0.25], [0.1])
    assert analysis.signal_runs.claim_one(both)["holds_at"] == {"everywhere": [0.25]}
    assert analysis.signal_runs.claim_one(both)["holds"] == [] and analysis.signal_runs.claim_one(claims)["holds"] == [
        "everywhere"
    ]
    assert analysis.signal_runs.claim_one({}) == {
        "holds": [],
        "holds_at": {},
        "open_at": {},
        "falls_in": {},
        "measured": [],
    }
    # Near the threshold: a ratio of 0.12 whose 2 s.e. reach below 0.1 decides nothing.
    border = results / "ptb" / "zoo-control" / "everywhere-seed2"  # its signal.json is there already
    (border / "mask_noise.json").write_text(
        json.dumps(
            {
                "scheme": "everywhere",
                "recurrent_dropout": None,
                "dropout": 0.5,
                "seed": 2,
                "lag": [0, 1, 2, 3, 4, 5],
                "fraction": [0.5, 0.4, 0.3, 0.2, 0.1, 0.048],
                "stderr": [0.01] * 6,
                **POWER,
            }
        )
    )
    three = analysis.signal_runs.scheme_claims(
        by_seed, analysis.signal_runs.load_mask_noise(results), far=5, noise_far=5
    )
    ev = three["everywhere"]
    assert [(n["rate"], n["wipe"]) for n in ev.noise] == [(0.1, "kept"), (0.25, "wiped"), (0.5, "open")]
    assert (ev.rates("wiped"), ev.rates("kept"), ev.rates("open")) == ([0.25], [0.1], [0.5])
    assert analysis.signal_runs.claim_one(three)["holds_at"] == {"everywhere": [0.25]}
    assert analysis.signal_runs.claim_one(three)["open_at"] == {"everywhere": [0.5]}
    table = analysis.signal_runs.claims_table(three)
    assert table.loc["everywhere", "wiped out"] == "wiped at 0.25; open at 0.5"
    assert table.loc["everywhere", "rate: fraction far/near"] == "0.1: 0.75, 0.25: 0.05, 0.5: 0.12"
    assert table.loc["everywhere", "falls"] == "3 of 3"
    assert analysis.signal_runs.claims_table(both).loc["everywhere", "wiped out"] == "wiped at 0.25"
    # Where the signal fraction falls clearly with the lag: every run of everywhere (0.4 -> 0.3 at s.e. 0.01
    # already), no run of zoneout.
    assert [n["falls"] for n in three["everywhere"].noise] == [True] * 3
    assert [n["falls"] for n in both["everywhere"].noise] == [True] * 2
    assert three["zoneout"].noise and not any(n["falls"] for n in three["zoneout"].noise)
    # The numbers behind claim (1)'s verdict: the signal fraction at the near lag and the far over the near, per run.
    assert [
        (n["rate"], n["seed"], round(n["fraction_near"], 2), round(n["ratio"], 2)) for n in three["everywhere"].noise
    ] == [(0.1, 1, 0.4, 0.75), (0.25, 1, 0.4, 0.05), (0.5, 2, 0.4, 0.12)]
    assert claims["zoneout"].wiped is False and claims["memory"].noise == []
    # The numbers behind claim (2)'s verdict: the gain from 5 to 50 tokens, h's sensitivity against zaremba's
    # (0.02-0.59 = (0.3/0.8)^4 and (0.7/0.8)^4, the two seeds), and the decisions.
    ev = claims["everywhere"]
    assert ev.context_gain == pytest.approx([0.18, 0.18]) and ev.seeds == [1, 2]
    assert (min(ev.vs_reference), max(ev.vs_reference)) == pytest.approx(((0.3 / 0.8) ** 4, (0.7 / 0.8) ** 4))
    assert (ev.ignores_state, ev.shorter_memory) == (False, False)
    assert (forgets.shorter_memory, ignores.ignores_state) == (True, True) and claims["memory"].seeds == []


def test_mask_noise_reads_the_control_and_each_schemes_recurrent_rate(results):
    def record(zoo, folder, **config):
        run = results / "ptb" / zoo / folder
        run.mkdir(parents=True, exist_ok=True)
        (run / "mask_noise.json").write_text(
            json.dumps(
                {
                    "seed": 1,
                    "lag": [0, 1],
                    "fraction": [0.3, 0.3],
                    "stderr": [0.01] * 2,
                    "total": [2.0] * 2,
                    "eval_total": [1.0] * 2,
                    **config,
                }
            )
        )

    # measure writes the model's effective recurrent_rate (zaremba: its dropout); the analysis reads the site's
    record("zoo-control", "zaremba-seed2", scheme="zaremba", dropout=0.5, recurrent_dropout=None, recurrent_rate=0.5)
    record("zoo-tuned", "memory-r10-seed1", scheme="memory", dropout=0.5, recurrent_dropout=0.1)
    record("zoo", "everywhere-seed1", scheme="everywhere", dropout=0.5, recurrent_dropout=None)
    noise = analysis.signal_runs.load_mask_noise(results)
    rates = {f"{r['zoo']}/{r['folder']}": r["recurrent_rate"] for r in noise}
    # zaremba has no recurrent mask (0); an unset recurrent rate is the non-recurrent one
    assert rates == {"zoo-control/zaremba-seed2": 0.0, "zoo-tuned/memory-r10-seed1": 0.1, "zoo/everywhere-seed1": 0.5}
    table = analysis.signal_runs.mask_noise_table(noise)
    assert "zaremba, rate 0, seed 1" in table.index
    assert views.signal.plot_mask_noise(noise).axes[0].get_lines()[0].get_label() == "zaremba, rate 0, seed 1"


def test_claim_one_is_read_over_a_window_of_far_lags_and_distrusts_inflated_power():
    sr = analysis.signal_runs
    steady = {
        "scheme": "zaremba",
        "recurrent_rate": 0.0,
        "seed": 2,
        "lag": [0, 1, 2, 3],
        "fraction": [0.5, 0.4, 0.4, 0.4],
        "stderr": [0.01] * 4,
        "total": [1.0] * 4,
        "eval_total": [1.0] * 4,
    }
    # Kept at k = 2 (0.3 / 0.4), wiped at k = 3 (0.012 / 0.4 = 0.03 ± 0.025: under a tenth by two s.e.).
    late = {**steady, "scheme": "memory", "recurrent_rate": 0.25, "fraction": [0.5, 0.4, 0.3, 0.012]}
    assert sr.noise_finding(steady, far=(2, 3))["wipe"] == "kept"
    assert sr.noise_finding(late, far=3)["wipe"] == "wiped" and sr.noise_finding(late, far=2)["wipe"] == "kept"
    window = sr.noise_finding(late, far=(2, 3))  # one lag of the window wiped, one kept: no verdict
    assert window["wipe"] == "open" and window["ratio"] == pytest.approx((0.75 + 0.03) / 2)
    assert window["ratio_range"] == pytest.approx((0.03, 0.75)) and window["far"] == (2, 3)
    assert window["falls"] and not sr.noise_finding(steady, far=(2, 3))["falls"]
    # Under a tenth by two s.e., but the masked power at k = 3 is 10x eval mode against 2x at k = 1: open.
    inflated = {**late, "total": [2.0, 2.0, 2.0, 10.0], "eval_total": [1.0, 1.0, 1.0, 1.0]}
    found = sr.noise_finding(inflated, far=3)
    assert found["inflation"] == pytest.approx(5.0) and sr.INFLATED < 5.0 and found["wipe"] == "open"
    calm = {**inflated, "total": [2.0, 2.0, 2.0, 4.0]}
    assert sr.noise_finding(calm, far=3)["wipe"] == "wiped"
    table = sr.mask_noise_table([steady, inflated], far=(2, 3))
    assert list(table.index) == ["zaremba, rate 0, seed 2", "memory, rate 0.25, seed 2"]
    assert table.loc["memory, rate 0.25, seed 2", "k=2–3: median"] == 0.39
    assert table.loc["memory, rate 0.25, seed 2", "k=2–3: range"] == "0.03–0.75"
    assert table.loc["memory, rate 0.25, seed 2", "power masked/eval k=1"] == 2.0
    assert table.loc["memory, rate 0.25, seed 2", "inflation"] == 5.0
    assert table["wipe"].tolist() == ["kept", "open"]
    assert sr.mask_noise_table([]).empty
    # per lag: the recorded columns only (no median in older files), the power ratio computed
    lags = sr.by_lag(inflated, lags=[1, 3])
    assert list(lags.columns) == ["fraction", "power masked/eval"] and lags["power masked/eval"].tolist() == [2.0, 10.0]
    robust = sr.by_lag({**inflated, "median": [0.5, 0.3, 0.2, 0.01], "low": [0.1] * 4, "high": [0.9] * 4})
    assert list(robust.columns[:4]) == ["fraction", "median", "low", "high"] and robust.loc[3, "median"] == 0.01


def test_at_the_papers_scale_each_scheme_is_set_against_zaremba_of_another_seed(tmp_path):
    fake_signal(tmp_path / "ptb" / "medium-seed2", "zaremba", 0.8)
    fake_signal(tmp_path / "ptb" / "medium-seed3", "zaremba", 0.9)
    fake_signal(tmp_path / "ptb" / "zoo-medium" / "variational-r10-seed1", "variational", 0.4)
    (tmp_path / "ptb" / "zoo-medium" / "memory-r10-seed1").mkdir()  # training: nothing measured
    by_seed = analysis.signal_runs.load_signal_seeds(tmp_path, zoos=analysis.signal_runs.FULL_SCALE_RUNS)
    assert {seed: list(runs) for seed, runs in by_seed.items()} == {1: ["variational"], 2: ["zaremba"], 3: ["zaremba"]}
    claims = analysis.signal_runs.scheme_claims(by_seed, far=5)
    # no zaremba of seed 1: the median of zaremba's seeds 2 and 3 is the reference
    reference = (0.8**4 + 0.9**4) / 2  # h at lag 5 over lag 1
    variational = claims["variational"]
    assert variational.seeds == [1] and variational.vs_reference == [pytest.approx(0.4**4 / reference)]
    assert variational.shorter_memory and claims["zaremba"].vs_reference == [1.0, 1.0]
    assert list(analysis.signal_runs.claims_table(claims).index) == ["zaremba", "variational"]  # the measured ones
