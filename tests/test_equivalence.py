"""Chapter 04's library: parameter counts, candidate equivalences, the interpolation, the alpha fit (the grid's
runs: tests/test_sweeps.py)."""

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from rnnreg.analysis import equivalence
from rnnreg.analysis.averaging import averaged_perplexity, mc_dropout_log_probs, running_averages, target_log_probs
from rnnreg.config import Config, parameter_count
from rnnreg.model import LSTMLM
from rnnreg.train import evaluate


@pytest.mark.parametrize(
    "hidden_size,num_layers,tied", [(10, 1, False), (37, 2, False), (200, 2, False), (50, 3, True)]
)
def test_parameter_count_formula_matches_the_model(hidden_size, num_layers, tied):
    model = LSTMLM(1000, hidden_size, num_layers, tie_weights=tied)
    config = Config(hidden_size=hidden_size, num_layers=num_layers, tie_weights=tied)
    assert parameter_count(config, 1000) == model.num_parameters()


def lm_parameters(hidden_size):
    """The parameters of chapter 04's LM: 2 layers, 10k vocabulary, untied."""
    return parameter_count(Config(hidden_size=hidden_size), 10_000)


def test_paper_parameter_counts():
    # paper.md: small 4.65M, medium 19.78M, large 66.03M (10k vocab, untied, two biases per gate)
    assert [round(lm_parameters(n) / 1e4) for n in (200, 650, 1500)] == [465, 1978, 6603]


def test_active_weights_without_dropout_are_all_parameters():
    for n in (10, 200):
        assert equivalence.active_weights(n, 0.0) == lm_parameters(n)
    assert equivalence.active_weights(200, 0.5) < equivalence.active_weights(200, 0.2) < lm_parameters(200)


def test_theory_candidates():
    c = equivalence.theory_candidates(400, 0.5)
    assert c["units"] == pytest.approx(200)
    assert c["pairs (seed's N·N)"] == pytest.approx(200)
    assert c["pairs under zaremba"] == pytest.approx(400 * math.sqrt(0.75))
    assert c["test time (all units)"] == 400
    # the whole-LM weight count keeps more than the units (the recurrent weights are never masked)
    assert 200 < c["weights of the LM under zaremba"] < 400
    assert equivalence.active_weights(c["weights of the LM under zaremba"], 0.0) == pytest.approx(
        equivalence.active_weights(400, 0.5)
    )
    assert all(v == pytest.approx(64) for v in equivalence.theory_candidates(64, 0.0).values())
    with pytest.raises(ValueError):
        equivalence.theory_candidates(100, 1.0)


def test_alpha_of_inverts_the_power_law():
    assert equivalence.alpha_of(400, 0.5, 400 * 0.5**0.7) == pytest.approx(0.7)
    assert math.isnan(equivalence.alpha_of(400, 0.0, 300))
    assert math.isnan(equivalence.alpha_of(400, 0.5, math.nan))


def test_equivalent_size_recovers_a_known_size():
    sizes = np.array([10, 25, 50, 100, 200, 400])
    ppl = 3000 * sizes**-0.4  # a smooth power law: exact under log-log interpolation
    assert equivalence.equivalent_size(sizes, ppl, 3000 * 123**-0.4) == pytest.approx(123)
    assert equivalence.equivalent_size(sizes, ppl, ppl[2]) == pytest.approx(50)
    assert math.isnan(equivalence.equivalent_size(sizes, ppl, ppl[-1] * 0.9))  # better than the biggest model
    assert math.isnan(equivalence.equivalent_size(sizes, ppl, ppl[0] * 1.1))  # worse than the smallest


def test_equivalent_size_uses_the_underfitting_branch_of_a_u_shaped_curve():
    sizes = np.array([10, 50, 100, 400])
    valid = np.array([400.0, 250.0, 200.0, 300.0])  # the biggest undropped model overfits
    n = equivalence.equivalent_size(sizes, valid, 300.0)
    assert 10 < n < 50  # the small-model side, not the overfitted 400
    assert math.isnan(equivalence.equivalent_size(sizes, valid, 180.0))  # better than every undropped model


def test_fit_alpha_exact_and_noisy():
    rng = np.random.default_rng(0)
    sizes = np.repeat([50, 100, 200, 400], 4).astype(float)
    rates = np.tile([0.2, 0.35, 0.5, 0.65], 4)
    exact = sizes * (1 - rates) ** 0.7
    fit = equivalence.fit_alpha(sizes, rates, exact)
    assert fit["alpha"] == pytest.approx(0.7) and fit["se"] == pytest.approx(0, abs=1e-9) and fit["n"] == 16
    noisy = exact * np.exp(rng.normal(0, 0.05, exact.shape))
    fit = equivalence.fit_alpha(sizes, rates, noisy)
    assert abs(fit["alpha"] - 0.7) < 3 * fit["se"] and 0 < fit["se"] < 0.2
    with_missing = equivalence.fit_alpha(np.r_[sizes, 400], np.r_[rates, 0.5], np.r_[exact, np.nan])
    assert with_missing["n"] == 16


def test_equivalence_table_on_a_synthetic_grid_with_known_alpha():
    alpha, rows = 0.6, []
    for n in equivalence.GRID["sizes"]:
        for p in equivalence.GRID["rates"]:
            n_eff = n * (1 - p) ** alpha
            rows.append(dict(hidden_size=n, dropout=p, seed=1, train_eval_ppl=2000 * n_eff**-0.5))
    table = equivalence.equivalence_table(pd.DataFrame(rows))
    inside = table.dropna(subset=["n_eq"])
    assert len(inside) > 10  # the cells whose equivalent falls below the smallest size drop out
    assert np.allclose(inside.alpha, alpha)
    assert equivalence.fit_alpha(table.hidden_size, table.dropout, table.n_eq)["alpha"] == pytest.approx(alpha)


# -- averaging ---------------------------------------------------------------------------


def _models(vocab, n=2):
    out = []
    for seed in range(n):
        torch.manual_seed(seed)
        out.append(LSTMLM(vocab, 16, 2, "zaremba", 0.5).eval())
    return out


def test_target_log_probs_match_evaluate(tiny_corpus):
    model = _models(len(tiny_corpus.vocab), 1)[0]
    lp = target_log_probs(model, tiny_corpus.valid, 5, 7)
    assert averaged_perplexity(lp) == pytest.approx(evaluate(model, tiny_corpus.valid, 5, 7), rel=1e-6)
    assert not model.training


def test_probability_average_beats_the_geometric_mean_of_members(tiny_corpus):
    lps = [target_log_probs(m, tiny_corpus.valid, 5, 7) for m in _models(len(tiny_corpus.vocab), 3)]
    single = [averaged_perplexity(lp) for lp in lps]
    assert averaged_perplexity([lps[0], lps[0]]) == pytest.approx(single[0])
    curve = running_averages(lps)
    assert curve[0] == pytest.approx(single[0])
    assert curve[-1] <= math.exp(np.mean(np.log(single)))  # Jensen: log of a mean >= mean of logs


def test_mc_dropout_samples_are_seeded_and_differ(tiny_corpus):
    model = _models(len(tiny_corpus.vocab), 1)[0]
    a = mc_dropout_log_probs(model, tiny_corpus.valid, 5, 7, samples=2, seed=3)
    b = mc_dropout_log_probs(model, tiny_corpus.valid, 5, 7, samples=1, seed=3)
    assert torch.equal(a[0], b[0]) and not torch.equal(a[0], a[1])
    assert not model.training
    with pytest.raises(ValueError):
        mc_dropout_log_probs(model, tiny_corpus.valid, 5, 7, samples=0)


def test_equivalence_table_says_why_an_equivalent_is_missing():
    grid = pd.DataFrame(
        [
            dict(hidden_size=10, dropout=0.0, seed=1, valid_ppl=400.0),
            dict(hidden_size=50, dropout=0.0, seed=1, valid_ppl=250.0),
            dict(hidden_size=100, dropout=0.0, seed=1, valid_ppl=200.0),
            dict(hidden_size=200, dropout=0.0, seed=1, valid_ppl=260.0),  # overfits: off the decreasing branch
            dict(hidden_size=200, dropout=0.5, seed=1, valid_ppl=180.0),  # better than every undropped model
            dict(hidden_size=10, dropout=0.5, seed=1, valid_ppl=500.0),  # worse than the smallest
            dict(hidden_size=100, dropout=0.5, seed=1, valid_ppl=250.0),  # = the undropped 50
        ]
    )
    t = equivalence.equivalence_table(grid, "valid_ppl").set_index("hidden_size")
    assert t.loc[200, "status"] == "better" and t.loc[10, "status"] == "worse"
    assert t.loc[100, "status"] == "ok" and t.loc[100, "n_eq"] == pytest.approx(50)
    assert t.loc[100, "alpha"] == pytest.approx(1.0)
    assert (equivalence.equivalence_table(grid[grid.dropout > 0], "valid_ppl").status == "no base").all()


# -- the recorded grid as tables, seed noise, α per rate --------------------------------------

#: Log-perplexity offsets of the ensemble seeds 1..5 in :func:`synthetic_grid` (seed 1 at 0): their
#: standard deviation is the grid's seed noise.
SEED_OFFSETS = (0.0, -0.02, -0.01, 0.01, 0.02)


def synthetic_grid(alpha=1.0, drop=(), valid_boost=None, offsets=SEED_OFFSETS, last_gain=0.02):
    """A complete N × p grid (plus the ensemble seeds) where dropout acts exactly like a model of
    N(1−p)^alpha units: ppl = 3000·N_eff^−0.4 (train), valid = 1.3·train. ``alpha`` may be a function
    of p. ``drop``: cells left out. ``valid_boost``: {(N, p): factor} on that cell's validation
    perplexity. ``offsets``: log offsets of the ensemble seeds. ``last_gain``: {(N, p): gain} or one value."""
    rows = []
    for n, p, s in equivalence.grid_cells():
        if (n, p) in drop:
            continue
        a = alpha(p) if callable(alpha) else alpha
        shift = math.exp(offsets[s - 1]) if (n, p) == (equivalence.ENSEMBLE["hidden_size"], 0.0) else 1.0
        train = 3000 * (n * (1 - p) ** a) ** -0.4 * shift
        valid = 1.3 * train * (valid_boost or {}).get((n, p), 1.0)
        gain = last_gain.get((n, p), 0.02) if isinstance(last_gain, dict) else last_gain
        rows.append(
            dict(
                hidden_size=n,
                dropout=p,
                seed=s,
                train_eval_ppl=train,
                train_dropout_ppl=train * 1.1,
                valid_ppl=valid,
                best_valid_ppl=valid,
                gap=valid / train,
                last_valid_gain=gain,
                parameters=lm_parameters(n),
                wall_s=1.0,
                run=equivalence.cell_name(n, p, s),
            )
        )
    return pd.DataFrame(rows)


def test_theory_table_counts():
    t = equivalence.theory_table(200, 0.5)
    assert t.loc["units", "N_eq"] == pytest.approx(100)
    assert t.loc["pairs (seed's N·N)", "α"] == pytest.approx(1)
    test_time = t.loc["test time (all units)", "α"]
    assert test_time == 0 and not math.copysign(1, test_time) < 0  # no "-0.00" on screen
    assert t.loc["units", "parameters (M)"] == round(lm_parameters(100) / 1e6, 3)
    assert t.iloc[0]["parameters (M)"] == round(lm_parameters(200) / 1e6, 3)
    assert t.loc["pairs under zaremba", "N_eq"] == pytest.approx(173.2)


def test_candidate_alpha_curves():
    rates = [0.2, 0.5, 0.65]
    c = equivalence.candidate_alpha_curves(200, rates)
    assert c["units"] == pytest.approx([1, 1, 1]) and c["test time (all units)"] == [0, 0, 0]
    assert c["pairs under zaremba"] == pytest.approx([math.log(math.sqrt(1 - p / 2)) / math.log(1 - p) for p in rates])
    assert all(0 < a < 1 for a in c["weights of the LM under zaremba"])


def test_missing_cells():
    grid = synthetic_grid(drop={(200, 0.5), (200, 0.65)})
    assert equivalence.missing_cells(grid) == ["h0200-p50-seed1", "h0200-p65-seed1"]
    assert equivalence.missing_cells(synthetic_grid()) == []
    seed1 = synthetic_grid()
    seed1 = seed1[seed1.seed == 1]
    assert equivalence.missing_cells(seed1, ensemble=False) == []
    assert equivalence.missing_cells(seed1) == [equivalence.cell_name(50, 0.0, s) for s in (2, 3, 4, 5)]


def test_empty_or_missing_grid_folder(tmp_path):
    grid = equivalence.load(tmp_path)
    assert grid.empty and list(grid.columns) == equivalence.GRID_COLUMNS
    assert len(equivalence.missing_cells(grid)) == len(equivalence.grid_cells())
    assert equivalence.pivot(grid, "valid_ppl").isna().all().all()
    assert equivalence.equivalence_table(grid).empty
    fit = equivalence.alpha_fit(grid)
    assert fit.by_rate.empty and fit.table.empty and math.isnan(fit.noise.sd)
    assert equivalence.last_epoch_gains(grid).empty
    assert equivalence.load_inference(tmp_path) is None


def test_load_reads_recorded_cells_and_their_last_gain(tmp_path):
    root = tmp_path / "ptb" / "grid"
    epochs = ((1, 500.0), (2, 450.0))
    for n, p, log in ((10, 0.0, epochs), (10, 0.5, epochs), (25, 0.5, epochs[:1])):  # one epoch: no last gain
        d = root / equivalence.cell_name(n, p)
        d.mkdir(parents=True)
        (d / "config.json").write_text(json.dumps({"hidden_size": n, "dropout": p, "seed": 1}))
        (d / "summary.json").write_text(
            json.dumps(
                {
                    "train_ppl": 300.0,
                    "valid_ppl": 400.0,
                    "best_valid_ppl": 390.0,
                    "parameters": 1,
                    "wall_s": 1.0,
                    "train_eval_ppl": 250.0,
                }
            )
        )
        (d / "log.jsonl").write_text(
            "\n".join(json.dumps({"epoch": e, "train_ppl": v, "valid_ppl": v}) for e, v in log) + "\n"
        )
    (root / equivalence.cell_name(25, 0.0)).mkdir()  # claimed, nothing written yet
    grid = equivalence.load(tmp_path)
    assert list(grid.run) == ["h0010-p00-seed1", "h0010-p50-seed1", "h0025-p50-seed1"]
    assert grid.last_valid_gain.to_numpy()[:2] == pytest.approx([math.log(500 / 450)] * 2)
    assert math.isnan(grid.last_valid_gain.iloc[2])
    assert "h0025-p00-seed1" in equivalence.missing_cells(grid)


def test_pivot_and_dropout_effect():
    grid = synthetic_grid(drop={(200, 0.65)})
    t = equivalence.pivot(grid, "valid_ppl")
    assert list(t.columns) == list(equivalence.GRID["sizes"])
    assert math.isnan(t.loc[0.65, 200])
    assert t.loc[0.0, 10] == pytest.approx(1.3 * 3000 * 10**-0.4, abs=0.05)
    effect = equivalence.dropout_effect(grid, "train_eval_ppl")
    assert list(effect.index) == [p for p in equivalence.GRID["rates"] if p > 0]
    assert effect.loc[0.5, 100] == pytest.approx(0.5**-0.4)  # α = 1: half the units
    extra = pd.concat([grid, grid[grid.hidden_size == 200].assign(hidden_size=400, run="h0400")])
    assert list(equivalence.pivot(extra, "valid_ppl").columns)[-1] == 400  # a column beyond GRID is kept


def test_seed_noise_pools_every_cell_with_several_seeds():
    grid = synthetic_grid()
    noise = equivalence.seed_noise(grid, "train_eval_ppl")
    assert noise.sd == pytest.approx(np.std(SEED_OFFSETS, ddof=1))
    assert (noise.dof, noise.cells, noise.runs) == (4, ("h0050-p00",), 5)
    extra = grid[(grid.hidden_size == 200) & (grid.dropout == 0.5)]
    two = pd.concat(
        [
            extra.assign(valid_ppl=extra.valid_ppl * math.exp(0.03), seed=2),
            grid.assign(
                valid_ppl=np.where(
                    (grid.hidden_size == 200) & (grid.dropout == 0.5), grid.valid_ppl * math.exp(-0.03), grid.valid_ppl
                )
            ),
        ]
    )
    pooled = equivalence.seed_noise(two, "valid_ppl")
    ss = np.sum(np.square(np.array(SEED_OFFSETS) - np.mean(SEED_OFFSETS))) + 2 * 0.03**2
    assert pooled.sd == pytest.approx(math.sqrt(ss / 5)) and pooled.dof == 5 and len(pooled.cells) == 2
    assert math.isnan(equivalence.seed_noise(grid[grid.seed == 1]).sd)


def test_alpha_fit_per_rate_recovers_an_alpha_that_rises_with_p():
    grid = synthetic_grid(alpha=lambda p: 1 + p, offsets=(0,) * 5)  # no seed noise
    fit = equivalence.alpha_fit(grid, draws=20)
    r = fit.by_rate
    assert list(r.index) == [p for p in equivalence.GRID["rates"] if p > 0]
    assert r.alpha.to_numpy() == pytest.approx([1 + p for p in r.index])
    assert r.se_fit.to_numpy() == pytest.approx(0, abs=1e-9) and r.se_seed.to_numpy() == pytest.approx(0)
    assert fit.ruled_out() == [0.2, 0.35, 0.5, 0.65] and fit.consistent(1.5) == [0.5]
    shown = equivalence.alpha_display(fit)
    assert shown.loc["p=0.5", "α"] == 1.5 and shown.loc["p=0.5", "95 % interval"] == "1.50 to 1.50"


def test_alpha_fit_propagates_seed_noise():
    grid = synthetic_grid(alpha=1.0)
    fit = equivalence.alpha_fit(grid, draws=300)
    r = fit.by_rate
    assert r.alpha.to_numpy() == pytest.approx(1.0) and (r.se_seed > 0).all()
    # the same noise moves α more where log(1 − p) is small
    assert list(r.se_seed) == sorted(r.se_seed, reverse=True)
    assert r.se.to_numpy() == pytest.approx(np.hypot(r.se_fit, r.se_seed))
    assert fit.consistent() == list(r.index) and fit.ruled_out() == []
    # 95 % Student-t intervals on the fit's residual degrees of freedom, capped by the noise estimate's (4)
    assert list(r.dof) == [min(n - 1, fit.noise.dof) for n in r.n] and fit.noise.dof == 4
    assert r.high.to_numpy() == pytest.approx(r.alpha + r.dof.map(equivalence.t95) * r.se)
    assert r.low.to_numpy() == pytest.approx(r.alpha - r.dof.map(equivalence.t95) * r.se)
    assert equivalence.alpha_fit(grid, draws=300).by_rate.equals(r)  # seeded: the same draws every time
    no_noise = equivalence.alpha_fit(grid[grid.seed == 1], draws=300)
    assert no_noise.by_rate.se_seed.isna().all() and no_noise.by_rate.se.equals(no_noise.by_rate.se_fit)


def test_decisions_follow_the_standard_errors():
    by_rate = pd.DataFrame(
        dict(alpha=[1.1, 1.4], se_fit=[0.03, 0.05], se_seed=[0.2, 0.05], se=[0.21, 0.07], dof=[4, 3]), index=[0.2, 0.65]
    )
    noise = equivalence.SeedNoise(0.01, 4, ("h0050-p00",), 5)
    fit = equivalence.AlphaFit("valid_ppl", noise, pd.DataFrame(), by_rate)
    assert fit.ruled_out() == [0.65] and fit.consistent() == [0.2]
    assert fit.ruled_out(se="se_fit") == [0.2, 0.65]  # the scatter alone would rule out both
    # Student's t, not the normal's 2: 0.3 from α on 3 degrees of freedom with s.e. 0.1 is inside (t = 3.18)
    assert equivalence.t95(3) == 3.182 and equivalence.t95(50) == equivalence.t95(10) and equivalence.t95(0) == math.inf
    near = equivalence.AlphaFit("valid_ppl", noise, pd.DataFrame(), by_rate.assign(alpha=1.3, se=0.1, dof=3))
    assert near.ruled_out() == [] and near.consistent() == [0.2, 0.65]


def test_a_cell_within_seed_noise_of_the_row_end_is_not_counted_outside_it():
    grid = synthetic_grid(valid_boost={(200, 0.2): 0.5, (200, 0.35): 0.5, (100, 0.2): 0.5})
    best = grid[(grid.dropout == 0) & (grid.seed == 1)].valid_ppl.min()
    sd = 0.01
    close, far = best * math.exp(-sd), best * math.exp(-5 * sd)  # inside / outside t95(4)·sd·√2 = 3.9·sd
    worse = grid[(grid.dropout == 0) & (grid.hidden_size == 5)].valid_ppl.iloc[0] * math.exp(sd)
    for (n, p), v in {(200, 0.2): close, (200, 0.35): far, (5, 0.2): worse}.items():
        grid.loc[(grid.hidden_size == n) & (grid.dropout == p), "valid_ppl"] = v
    plain = equivalence.equivalence_table(grid, "valid_ppl").set_index(["hidden_size", "dropout"])
    assert plain.loc[(200, 0.2), "status"] == "better" and plain.loc[(5, 0.2), "status"] == "worse"
    noise = equivalence.SeedNoise(sd, 4, ("h0050-p00",), 5)
    t = equivalence.equivalence_table(grid, "valid_ppl", noise=noise).set_index(["hidden_size", "dropout"])
    assert t.loc[(200, 0.2), "status"] == "near best" and t.loc[(200, 0.35), "status"] == "better"
    assert t.loc[(5, 0.2), "status"] == "near smallest"
    counts = t.status.value_counts()
    assert counts["near best"] == 1 and counts["near smallest"] == 1
    # on 2 degrees of freedom the same sd gives a wider band (t = 4.30): 5·sd is within it
    wide = equivalence.equivalence_table(grid, "valid_ppl", noise=dataclasses.replace(noise, dof=2))
    assert wide.set_index(["hidden_size", "dropout"]).loc[(200, 0.35), "status"] == "near best"


def test_last_epoch_gains_against_the_seed_noise():
    sd = np.std(SEED_OFFSETS, ddof=1)
    grid = synthetic_grid(last_gain={(200, 0.5): 0.05, (100, 0.5): sd / 2})
    g = equivalence.last_epoch_gains(grid)
    assert len(g) == len(equivalence.GRID["sizes"]) * len(equivalence.GRID["rates"])
    at = g.set_index(["hidden_size", "dropout"]).improving
    assert at[(200, 0.5)] and not at[(100, 0.5)] and at[(5, 0.0)]  # 0.02 > sd
    louder = equivalence.last_epoch_gains(grid, equivalence.SeedNoise(0.03, 4, (), 5))
    assert louder.improving.sum() == 1  # only the 0.05 gain beats a noise of 0.03


def test_plateau_cells():
    table = pd.DataFrame(dict(train_eval_ppl=[700.0, 650.0, 300.0]))
    assert list(equivalence.plateau_cells(table, 690.0).train_eval_ppl) == [700.0]
    assert equivalence.plateau_cells(table, 660.0, tol=0.1).train_eval_ppl.tolist() == [700.0, 650.0]


def test_inference_summary():
    inf = {
        "split": "valid",
        "dropout_cell": "h0200-p50-seed1",
        "dropout_parameters": 4_653_200,
        "weight_scaling_ppl": 150.0,
        "mc_dropout_ppl": [190.0, 170.0, 152.0],
        "ensemble_cells": ["a", "b"],
        "ensemble_member_parameters": 1_000_000,
        "ensemble_ppl": [200.0, 165.0],
    }
    s = equivalence.inference_summary(inf)
    assert (s["weight_scaling"], s["mc"], s["samples"], s["ensemble"], s["members"], s["single"]) == (
        150.0,
        152.0,
        3,
        165.0,
        2,
        200.0,
    )
    assert (s["dropout_parameters"], s["member_parameters"]) == (4_653_200, 1_000_000)
    assert equivalence.inference_summary(None) is None
