"""Chapter 04's library: parameter counts, candidate equivalences, the interpolation, the alpha fit, the grid runner."""
import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from rnnreg.analysis import equivalence
from rnnreg.analysis.averaging import averaged_perplexity, mc_dropout_log_probs, running_averages, target_log_probs
from rnnreg.model import LSTMLM
from rnnreg.train import evaluate


@pytest.mark.parametrize(
    "hidden_size,num_layers,tied", [(10, 1, False), (37, 2, False), (200, 2, False), (50, 3, True)]
)
def test_parameter_count_formula_matches_the_model(hidden_size, num_layers, tied):
    model = LSTMLM(1000, hidden_size, num_layers, tie_weights=tied)
    assert equivalence.lstm_lm_parameters(hidden_size, num_layers, 1000, tied) == model.num_parameters()


def test_paper_parameter_counts():
    # paper.md: small 4.65M, medium 19.78M, large 66.03M (10k vocab, untied, two biases per gate)
    assert [round(equivalence.lstm_lm_parameters(n) / 1e4) for n in (200, 650, 1500)] == [465, 1978, 6603]


def test_active_weights_without_dropout_are_all_parameters():
    for n in (10, 200):
        assert equivalence.active_weights(n, 0.0) == equivalence.lstm_lm_parameters(n)
    assert (equivalence.active_weights(200, 0.5) < equivalence.active_weights(200, 0.2)
            < equivalence.lstm_lm_parameters(200))


def test_theory_candidates():
    c = equivalence.theory_candidates(400, 0.5)
    assert c["units"] == pytest.approx(200)
    assert c["pairs (seed's N·N)"] == pytest.approx(200)
    assert c["pairs under zaremba"] == pytest.approx(400 * math.sqrt(0.75))
    assert c["test time (all units)"] == 400
    # the whole-LM weight count keeps more than the units (the recurrent weights are never masked)
    assert 200 < c["weights of the LM under zaremba"] < 400
    assert (equivalence.active_weights(c["weights of the LM under zaremba"], 0.0)
            == pytest.approx(equivalence.active_weights(400, 0.5)))
    assert all(v == pytest.approx(64) for v in equivalence.theory_candidates(64, 0.0).values())
    with pytest.raises(ValueError):
        equivalence.theory_candidates(100, 1.0)


def test_alpha_of_inverts_the_power_law():
    assert equivalence.alpha_of(400, 0.5, 400 * 0.5 ** 0.7) == pytest.approx(0.7)
    assert math.isnan(equivalence.alpha_of(400, 0.0, 300))
    assert math.isnan(equivalence.alpha_of(400, 0.5, math.nan))


def test_equivalent_size_recovers_a_known_size():
    sizes = np.array([10, 25, 50, 100, 200, 400])
    ppl = 3000 * sizes ** -0.4  # a smooth power law: exact under log-log interpolation
    assert equivalence.equivalent_size(sizes, ppl, 3000 * 123 ** -0.4) == pytest.approx(123)
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
            rows.append(dict(hidden_size=n, dropout=p, seed=1, train_eval_ppl=2000 * n_eff ** -0.5))
    table = equivalence.equivalence_table(pd.DataFrame(rows))
    inside = table.dropna(subset=["n_eq"])
    assert len(inside) > 10  # the cells whose equivalent falls below the smallest size drop out
    assert np.allclose(inside.alpha, alpha)
    assert equivalence.summarise_fit(table)["alpha"] == pytest.approx(alpha)


def test_grid_cells_and_config():
    cells = equivalence.grid_cells()
    assert (
        len(cells) == len(set(cells))
        == len(equivalence.GRID["sizes"]) * len(equivalence.GRID["rates"]) + len(equivalence.ENSEMBLE["seeds"]) - 1
    )
    assert cells[0][0] == min(equivalence.GRID["sizes"]) and cells[-1][0] == max(equivalence.GRID["sizes"])
    c = equivalence.grid_config(400, 0.5)
    assert (c.scheme, c.dropout, c.hidden_size, c.max_train_tokens) == ("zaremba", 0.5, 400, 100_000)
    assert equivalence.grid_config(50, 0.0).scheme == "none"
    assert equivalence.cell_name(50, 0.35, 2) == "h0050-p35-seed2"


def test_run_cell_records_eval_mode_train_perplexity_and_resumes(tmp_path, tiny_corpus):
    budget = dict(max_train_tokens=1000, epochs=1)
    s = equivalence.run_cell(tmp_path, 16, 0.5, 1, tiny_corpus, command="test", **budget)
    run = tmp_path / "h0016-p50-seed1"
    assert json.loads((run / "summary.json").read_text())["train_eval_ppl"] == s["train_eval_ppl"]
    model = LSTMLM(len(tiny_corpus.vocab), 16, 2, "zaremba", 0.5)
    model.load_state_dict(torch.load(run / "checkpoint.pt", weights_only=True)["model"])
    assert s["train_eval_ppl"] == pytest.approx(evaluate(model, tiny_corpus.train[:1000], 20, 20))
    before = (run / "summary.json").stat().st_mtime_ns
    assert equivalence.run_cell(tmp_path, 16, 0.5, 1, tiny_corpus, **budget) == s  # done: nothing retrained
    assert (run / "summary.json").stat().st_mtime_ns == before
    equivalence.run_cell(tmp_path, 16, 0.0, 1, tiny_corpus, **budget)
    (tmp_path / "h0032-p00-seed1").mkdir()  # an unfinished cell is left out
    grid = equivalence.load_grid(tmp_path)
    assert sorted(grid.dropout) == [0.0, 0.5] and (grid.gap > 0).all()


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


def test_runners_share_a_grid_through_claims(tmp_path, tiny_corpus, monkeypatch):
    import os

    monkeypatch.setattr(equivalence, "GRID", {**equivalence.GRID, "budget": dict(max_train_tokens=1000, epochs=1)})
    taken = tmp_path / "h0016-p00-seed1"
    taken.mkdir()
    (taken / ".claim").write_text(str(os.getppid()))  # a live process holds this cell
    stale = tmp_path / "h0016-p50-seed1"
    stale.mkdir()
    (stale / ".claim").write_text("999999999")  # its runner is gone
    equivalence.run_grid(tmp_path, [(16, 0.0, 1), (16, 0.5, 1)], tiny_corpus, log=lambda line: None)
    assert not (taken / "summary.json").exists() and (taken / ".claim").exists()
    assert (stale / "summary.json").exists() and not (stale / ".claim").exists()


def test_equivalence_table_says_why_an_equivalent_is_missing():
    grid = pd.DataFrame([
        dict(hidden_size=10, dropout=0.0, seed=1, valid_ppl=400.0),
        dict(hidden_size=50, dropout=0.0, seed=1, valid_ppl=250.0),
        dict(hidden_size=100, dropout=0.0, seed=1, valid_ppl=200.0),
        dict(hidden_size=200, dropout=0.0, seed=1, valid_ppl=260.0),  # overfits: off the decreasing branch
        dict(hidden_size=200, dropout=0.5, seed=1, valid_ppl=180.0),  # better than every undropped model
        dict(hidden_size=10, dropout=0.5, seed=1, valid_ppl=500.0),  # worse than the smallest
        dict(hidden_size=100, dropout=0.5, seed=1, valid_ppl=250.0),  # = the undropped 50
    ])
    t = equivalence.equivalence_table(grid, "valid_ppl").set_index("hidden_size")
    assert t.loc[200, "status"] == "better" and t.loc[200, "bound"] == 100
    assert t.loc[10, "status"] == "worse" and t.loc[10, "bound"] == 10
    assert t.loc[100, "status"] == "ok" and t.loc[100, "n_eq"] == pytest.approx(50)
    assert t.loc[100, "alpha"] == pytest.approx(1.0)
    assert (equivalence.equivalence_table(grid[grid.dropout > 0], "valid_ppl").status == "no base").all()
