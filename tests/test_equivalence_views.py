"""Chapter 04's views: theory table and panel, grid figures from a synthetic grid, the equivalence
reader, the inference view with and without ``inference.json``, and the answer text.

Plain pytest, no kernel: setting a control's ``.value`` fires its observer; we assert on the
panel's state, figure and PNG bytes.
"""
import json
import math

import numpy as np
import pandas as pd
import pytest

from rnnreg import analysis, views
from rnnreg.views.equivalence import EquivalencePanel, TheoryPanel, equivalence_figure


def synthetic_grid(alpha=1.0, drop=(), valid_boost=None):
    """A complete N × p grid (plus the ensemble seeds) where dropout acts exactly like a model of
    N(1−p)^alpha units: ppl = 3000·N_eff^−0.4 (train), valid = 1.3·train. ``drop``: cells left out.
    ``valid_boost``: {(N, p): factor} multiplying that cell's validation perplexity."""
    rows = []
    for n, p, s in analysis.equivalence.grid_cells():
        if (n, p) in drop:
            continue
        n_eff = n * (1 - p) ** alpha
        train = 3000 * n_eff ** -0.4
        valid = 1.3 * train * (valid_boost or {}).get((n, p), 1.0)
        rows.append(dict(hidden_size=n, dropout=p, seed=s, train_eval_ppl=train, train_dropout_ppl=train * 1.1,
                         valid_ppl=valid, best_valid_ppl=valid, gap=valid / train,
                         parameters=analysis.equivalence.lstm_lm_parameters(n), wall_s=1.0,
                         run=analysis.equivalence.cell_name(n, p, s)))
    return pd.DataFrame(rows)


def fake_inference():
    return {"split": "valid", "layout": "20 streams × 20 steps", "dropout_cell": "h0200-p50-seed1",
            "dropout_parameters": analysis.equivalence.lstm_lm_parameters(200), "weight_scaling_ppl": 150.0,
            "mc_dropout_ppl": [190.0, 170.0, 160.0, 155.0, 152.0], "mc_seed": 0,
            "ensemble_cells": [analysis.equivalence.cell_name(50, 0.0, s) for s in (1, 2, 3, 4, 5)],
            "ensemble_member_parameters": analysis.equivalence.lstm_lm_parameters(50),
            "ensemble_ppl": [200.0, 180.0, 172.0, 168.0, 165.0], "provenance": {"command": "test"}}


def texts(fig):
    out = " ".join(t.get_text() for t in fig.texts) + " " + " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    return out.replace("\n", " ")


# --------------------------------------------------------------------------------------------
# Theory
# --------------------------------------------------------------------------------------------
def test_theory_table_counts():
    t = views.equivalence.theory_table(200, 0.5)
    assert t.loc["units", "n_eq"] == pytest.approx(100)
    assert t.loc["pairs (seed's N·N)", "alpha"] == pytest.approx(1)
    assert (
        t.loc["test time (all units)", "alpha"] == 0
        and not math.copysign(1, t.loc["test time (all units)", "alpha"]) < 0
    )
    assert t.loc["units", "parameters"] == analysis.equivalence.lstm_lm_parameters(100)
    assert t.iloc[0]["parameters"] == analysis.equivalence.lstm_lm_parameters(200)
    assert t.iloc[0]["macs"] == analysis.equivalence.lstm_lm_macs(200)
    shown = views.equivalence.format_theory_table(t)
    assert shown.loc["pairs under zaremba", "N_eq"] == pytest.approx(173.2)


def test_paper_table_uses_the_presets():
    t = views.equivalence.paper_table()
    assert t.loc["large", "units"] == 525 and t.loc["medium", "paper valid"] == 86.2
    assert t.loc["small", "test time (all units)"] == 200


def test_theory_panel_redraws_on_every_control():
    panel = TheoryPanel()
    png = bytes(panel.image.value)
    assert png.startswith(b"\x89PNG") and "173.2" in panel.readout.value
    panel.size.value = 400
    assert panel.state()["units"] == pytest.approx(200)
    png2 = bytes(panel.image.value)
    assert png2 != png and "346.4" in panel.readout.value
    panel.rate.value = 0.2
    assert panel.state()["pairs under zaremba"] == pytest.approx(400 * math.sqrt(0.9))
    assert bytes(panel.image.value) != png2
    panel.rate.value = 0.0
    assert all(panel.state()[k] == pytest.approx(400) for k in analysis.equivalence.theory_candidates(400, 0.0))


# --------------------------------------------------------------------------------------------
# The grid
# --------------------------------------------------------------------------------------------
def test_missing_cells_and_notes():
    grid = synthetic_grid(drop={(200, 0.5), (200, 0.65)})
    assert views.equivalence.missing_cells(grid) == ["h0200-p50-seed1", "h0200-p65-seed1"]
    note = views.equivalence.grid_note(grid)
    total = len(analysis.equivalence.GRID["sizes"]) * len(analysis.equivalence.GRID["rates"])
    assert f"{total - 2} of {total} cells" in note and "N=200: p 0.5, 0.65 (seed 1)" in note
    status = views.equivalence.status_text(grid)
    assert f"{total - 2} of {total}" in status and "provisional" in status and "ensemble members: 5 of 5" in status
    full = synthetic_grid()
    assert views.equivalence.missing_cells(full) == []
    assert "complete" in views.equivalence.status_text(full, markdown=False)
    assert "**" not in views.equivalence.status_text(full, markdown=False)
    no_ensemble = full[full.seed == 1]
    assert "ensemble members: 1 of 5" in views.equivalence.status_text(no_ensemble)
    assert "N=50: p 0 (seeds 2, 3, 4, 5)" in views.equivalence.status_text(no_ensemble)


def test_pivot_and_heatmaps_from_a_synthetic_grid():
    grid = synthetic_grid(drop={(200, 0.65)})
    t = views.equivalence.grid_table(grid, "valid_ppl")
    assert list(t.columns) == [f"N={n}" for n in analysis.equivalence.GRID["sizes"]]
    assert len(t) == len(analysis.equivalence.GRID["rates"])
    assert math.isnan(t.loc["p=0.65", "N=200"]) and t.loc["p=0", "N=10"] == pytest.approx(
        1.3 * 3000 * 10**-0.4, abs=0.05
    )
    fig = views.equivalence.plot_heatmaps(grid)
    assert len(fig.axes) == 3
    cell_texts = [t.get_text() for t in fig.axes[0].texts]
    assert cell_texts.count("—") == 1 and f"{3000 * 10 ** -0.4:.0f}" in cell_texts
    assert "N=200: p 0.65" in texts(fig)
    fig = views.equivalence.plot_vs_size(grid)
    assert len(fig.axes[0].get_lines()) == 2 * 5
    extra = pd.concat([grid, grid[grid.hidden_size == 200].assign(hidden_size=400, run="h0400")])
    assert list(views.equivalence.pivot(extra, "valid_ppl").columns)[-1] == 400  # a column trained beyond GRID is shown


def test_empty_grid_is_reported_not_failed(tmp_path):
    grid = views.equivalence.load(tmp_path)  # no grid folder at all
    assert grid.empty and list(grid.columns) == views.equivalence.GRID_COLUMNS
    assert len(views.equivalence.missing_cells(grid)) == len(analysis.equivalence.grid_cells())
    assert views.equivalence.grid_table(grid, "valid_ppl").isna().all().all()
    assert "not yet recorded" in texts(views.equivalence.plot_vs_size(grid)).lower()
    assert "not yet recorded" in texts(views.equivalence.plot_equivalent_size(grid)).lower()
    views.equivalence.plot_heatmaps(grid)  # draws hatched cells only
    assert "not enough recorded cells" in views.equivalence.answer(grid)
    assert views.equivalence.equivalence_frame(grid).empty
    panel = EquivalencePanel(grid)
    assert "No recorded cell" in panel.readout.value


def test_load_reads_recorded_cells(tmp_path):
    root = tmp_path / "ptb" / "grid"
    for n, p in ((10, 0.0), (10, 0.5)):
        d = root / analysis.equivalence.cell_name(n, p)
        d.mkdir(parents=True)
        (d / "config.json").write_text(json.dumps({"hidden_size": n, "dropout": p, "seed": 1}))
        (d / "summary.json").write_text(json.dumps({"train_ppl": 300.0, "valid_ppl": 400.0, "best_valid_ppl": 390.0,
                                                    "parameters": 1, "wall_s": 1.0, "train_eval_ppl": 250.0}))
    (root / analysis.equivalence.cell_name(25, 0.0)).mkdir()  # claimed, nothing written yet
    grid = views.equivalence.load(tmp_path)
    assert sorted(grid.run) == ["h0010-p00-seed1", "h0010-p50-seed1"]
    assert "h0025-p00-seed1" in views.equivalence.missing_cells(grid)


# --------------------------------------------------------------------------------------------
# Equivalent size
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("alpha", [1.0, 0.5])
def test_equivalence_recovers_the_synthetic_alpha(alpha):
    grid = synthetic_grid(alpha=alpha)
    table = views.equivalence.equivalence_frame(grid, "train_eval_ppl")
    f = views.equivalence.fit_summary(table)
    assert f["alpha"] == pytest.approx(alpha, abs=1e-6) and f["n"] > 0
    sizes, rates = analysis.equivalence.GRID["sizes"], analysis.equivalence.GRID["rates"]
    assert f["n"] + f["worse"] + f["better"] == len(sizes) * (len(rates) - 1)
    ok = table[table.status == "ok"]
    assert np.allclose(ok.n_eq, ok.hidden_size * (1 - ok.dropout) ** alpha)
    # the cells whose N(1−p)^α is below the smallest size have no equivalent, and say so
    smallest = min(analysis.equivalence.GRID["sizes"])
    below = table[table.hidden_size * (1 - table.dropout) ** alpha < smallest - 1e-9]
    assert set(below.status) == {"worse"} and (below.bound == smallest).all()
    assert f"alpha = {alpha:.2f} ± 0.00" in views.equivalence.fit_text(table)
    alphas = views.equivalence.candidate_alphas(table)
    assert alphas["units"] == pytest.approx(1) and alphas["test time (all units)"] == 0


def test_better_than_every_undropped_model_is_shown():
    grid = synthetic_grid(valid_boost={(200, 0.5): 0.5})
    table = views.equivalence.equivalence_frame(grid, "valid_ppl")
    cell = table[(table.hidden_size == 200) & (table.dropout == 0.5)].iloc[0]
    assert cell.status == "better" and math.isnan(cell.n_eq)
    shown = views.equivalence.equivalence_display(table, "valid_ppl")
    assert shown.loc["N=200, p=0.5", "status"] == views.equivalence.STATUS["better"]
    text = views.equivalence.answer(grid)
    assert "N=200, p=0.5" in text and "generalise better than **every** undropped model" in text
    fig = views.equivalence.plot_equivalent_size(grid, "valid_ppl")
    ups = [ln for ln in fig.axes[0].get_lines() if ln.get_marker() == "^" and len(ln.get_xdata())]
    assert len(ups) == 1 and ups[0].get_ydata()[0] == 200


def test_equivalence_panel_moves_with_its_controls():
    grid = synthetic_grid(alpha=0.7)
    panel = EquivalencePanel(grid)
    assert list(panel.state().index) == [f"N={n}, p=0.5" for n in analysis.equivalence.GRID["sizes"]]
    png = bytes(panel.image.value)
    panel.rate.value = 0.2
    assert list(panel.state().index)[0] == f"N={min(analysis.equivalence.GRID['sizes'])}, p=0.2"
    assert panel.state().loc["N=200, p=0.2", "N_eq"] == pytest.approx(200 * 0.8**0.7, abs=0.05)
    png2 = bytes(panel.image.value)
    assert png2 != png
    panel.metric.value = "valid_ppl"
    assert bytes(panel.image.value) != png2 and "valid" in panel.figure.axes[0].get_ylabel()
    arrows = [t for t in panel.figure.axes[0].texts if t.get_text().startswith("N_eq ≈")]
    # every size whose N(1−p)^0.7 stays inside the grid gets an arrow; N=5 at p=0.2 (4.3) falls below
    sizes = analysis.equivalence.GRID["sizes"]
    inside = [n for n in sizes if n * 0.8 ** 0.7 >= min(sizes)]
    assert len(arrows) == len(inside) < len(sizes)
    fig = equivalence_figure(grid.iloc[0:0], 0.5)
    assert "not yet recorded" in texts(fig)


def test_answer_numbers_come_from_the_grid():
    a = views.equivalence.answer(synthetic_grid(alpha=1.0), fake_inference())
    assert "α = 1.00 ± 0.00" in a and "units = the seed's N·N pairs" in a and "within two standard errors" in a
    assert "Provisional" not in a and "The grid is complete" in a
    b = views.equivalence.answer(synthetic_grid(alpha=0.0), None)
    assert "α = 0.00" in b and "test time, all units" in b and "not yet recorded" in b
    c = views.equivalence.answer(synthetic_grid(alpha=1.0, drop={(100, 0.0)}))
    total = len(analysis.equivalence.GRID["sizes"]) * len(analysis.equivalence.GRID["rates"])
    assert "Provisional" in c and f"{total - 1} of {total}" in c


# --------------------------------------------------------------------------------------------
# Inference
# --------------------------------------------------------------------------------------------
def test_inference_view_with_and_without_the_file(tmp_path):
    assert views.equivalence.load_inference(tmp_path) is None
    fig = views.equivalence.plot_inference(None)
    assert "not yet recorded" in texts(fig) and views.equivalence.INFERENCE_COMMAND in texts(fig)
    assert "not yet recorded" in views.equivalence.inference_table(None).index[0]
    (tmp_path / "ptb" / "grid").mkdir(parents=True)
    (tmp_path / "ptb" / "grid" / "inference.json").write_text(json.dumps(fake_inference()))
    inf = views.equivalence.load_inference(tmp_path)
    fig = views.equivalence.plot_inference(inf)
    lines = fig.axes[0].get_lines()
    assert [len(ln.get_xdata()) for ln in lines][1:] == [5, 5]
    assert list(lines[1].get_ydata()) == inf["mc_dropout_ppl"]
    t = views.equivalence.inference_table(inf)
    assert t.loc["MC dropout, S = 5", "perplexity"] == 152.0
    members = 5 * analysis.equivalence.lstm_lm_parameters(50)
    assert t.loc["ensemble of 5 undropped", "parameters (M)"] == round(members / 1e6, 2)
    text = views.equivalence.answer(synthetic_grid(), inf)
    assert "150.0" in text and "152.0" in text and "165.0" in text and "worse than weight scaling" in text
    (tmp_path / "ptb" / "grid" / "inference.json").write_text("{half")
    assert views.equivalence.load_inference(tmp_path) is None


def test_answer_names_cells_stuck_on_the_unigram_plateau():
    grid = synthetic_grid(alpha=1.0)
    least = min(analysis.equivalence.GRID["sizes"])
    smallest = grid[(grid.dropout == 0) & (grid.hidden_size == least)].train_eval_ppl.iloc[0]
    stuck = (grid.hidden_size == least) & (grid.dropout == 0.65)
    grid.loc[stuck, "train_eval_ppl"] = smallest * 1.5  # worse than every undropped model
    a = views.equivalence.answer(grid, fake_inference(), unigram_train=smallest * 1.5 * 1.01)
    assert "sit on the unigram plateau" in a and f"{smallest * 1.5 * 1.01:.1f}" in a
    assert "unigram plateau" not in views.equivalence.answer(grid, fake_inference())  # no unigram given: no claim
    assert "unigram plateau" not in views.equivalence.answer(grid, fake_inference(), unigram_train=smallest * 3)
