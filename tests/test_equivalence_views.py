"""Chapter 04's views: the theory panel, the grid figures from a synthetic grid, the equivalence
reader, the α figure, the inference view with and without ``inference.json``; and that the
figures are legible (text sizes) and their labels stay inside the axes, clear of the curves.

Plain pytest, no kernel: setting a control's ``.value`` fires its observer; we assert on the
panel's state, figure and PNG bytes.
"""

import json
import math
import re

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from test_equivalence import lm_parameters, synthetic_grid

from rnnreg import analysis, views
from rnnreg.views.equivalence import NOTE_SIZE, EquivalencePanel, TheoryPanel, equivalence_figure

E = analysis.equivalence


def fake_inference():
    return {
        "split": "valid",
        "layout": "20 streams × 20 steps",
        "dropout_cell": "h0200-p50-seed1",
        "dropout_parameters": lm_parameters(200),
        "weight_scaling_ppl": 150.0,
        "mc_dropout_ppl": [190.0, 170.0, 160.0, 155.0, 152.0],
        "mc_seed": 0,
        "ensemble_cells": [E.cell_name(50, 0.0, s) for s in (1, 2, 3, 4, 5)],
        "ensemble_member_parameters": lm_parameters(50),
        "ensemble_ppl": [200.0, 180.0, 172.0, 168.0, 165.0],
        "provenance": {"command": "test"},
    }


def all_texts(fig):
    """Every text artist of the figure: figure texts, titles, axes texts, legend texts."""
    out = list(fig.texts)  # (the suptitle is one of them)
    for ax in fig.axes:
        out += (
            list(ax.texts)
            + [ax.title]
            + [c for c in ax.get_children() if type(c).__name__ == "Text" and c is not ax.title]
        )
        if ax.get_legend():
            out += list(ax.get_legend().get_texts())
    return [t for t in out if t.get_text()]


def words(fig):
    return " ".join(t.get_text() for t in all_texts(fig)).replace("\n", " ")


def smallest_text(fig):
    return min(t.get_fontsize() for t in all_texts(fig))


# --------------------------------------------------------------------------------------------
# Theory
# --------------------------------------------------------------------------------------------
def test_theory_panel_redraws_on_every_control():
    panel = TheoryPanel()
    png = bytes(panel.image.value)
    assert png.startswith(b"\x89PNG") and "173.2" in panel.readout.value
    assert int(re.search(r"font-size:(\d+)px", panel.readout.value).group(1)) >= 16  # readable projected
    panel.size.value = 400
    assert panel.state()["units"] == pytest.approx(200)
    png2 = bytes(panel.image.value)
    assert png2 != png and "346.4" in panel.readout.value
    panel.rate.value = 0.2
    assert panel.state()["pairs under zaremba"] == pytest.approx(400 * math.sqrt(0.9))
    assert bytes(panel.image.value) != png2
    panel.rate.value = 0.0
    assert all(panel.state()[k] == pytest.approx(400) for k in E.theory_candidates(400, 0.0))
    assert smallest_text(panel.figure) >= NOTE_SIZE


# --------------------------------------------------------------------------------------------
# The grid
# --------------------------------------------------------------------------------------------
def test_heatmaps_and_size_curves_from_a_synthetic_grid():
    grid = synthetic_grid(drop={(200, 0.65)})
    fig = views.equivalence.plot_heatmaps(grid, title="a claim")
    assert len(fig.axes) == 3 and fig.get_suptitle() == "a claim"
    cell_texts = [t.get_text() for t in fig.axes[0].texts]
    assert cell_texts.count("—") == 1 and f"{3000 * 10**-0.4:.0f}" in cell_texts
    assert smallest_text(fig) >= NOTE_SIZE
    fig = views.equivalence.plot_vs_size(grid, title="another claim")
    rates = [ln.get_label() for ln in fig.axes[0].get_lines() if ln.get_label().startswith("p = ")]
    assert rates == [f"p = {p:g}" for p in E.GRID["rates"]] and fig.axes[0].get_title(loc="left") == "another claim"
    assert smallest_text(fig) >= NOTE_SIZE


def test_empty_grid_is_reported_not_failed(tmp_path):
    grid = E.load(tmp_path)
    assert "not yet recorded" in words(views.equivalence.plot_vs_size(grid)).lower()
    assert "not yet recorded" in words(views.equivalence.plot_alpha(E.alpha_fit(grid))).lower()
    views.equivalence.plot_heatmaps(grid)  # draws hatched cells only
    panel = EquivalencePanel(grid)
    assert "No recorded cell" in panel.readout.value
    assert "not yet recorded" in words(equivalence_figure(grid, 0.5))


# --------------------------------------------------------------------------------------------
# Equivalent size
# --------------------------------------------------------------------------------------------
def test_alpha_figure_shows_each_rate_with_its_interval():
    grid = synthetic_grid(alpha=lambda p: 1 + p, valid_boost={(200, 0.5): 0.5})
    fit = E.alpha_fit(grid, draws=50)
    fig = views.equivalence.plot_alpha(fit, title="α rises with p")
    (ax,) = fig.axes
    points = [ln for ln in ax.get_lines() if ln.get_marker() == "o" and len(ln.get_xdata())]
    assert [ln.get_xdata()[0] for ln in points] == list(fit.by_rate.index)
    assert [ln.get_ydata()[0] for ln in points] == pytest.approx(list(fit.by_rate.alpha))
    assert len(ax.collections) == len(fit.by_rate)  # one error bar per rate
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    r = fit.by_rate.loc[0.5]
    assert f"p = 0.5: α = {r.alpha:.2f} ({r.low:.2f} to {r.high:.2f})" in legend  # the table's 95 % interval
    assert not any("pooled" in t for t in legend)  # one α does not fit all, and none is quoted
    assert fig.get_suptitle() == "α rises with p" and smallest_text(fig) >= NOTE_SIZE
    rings = [
        ln
        for ln in views.equivalence.plot_vs_size(grid, "valid_ppl").axes[0].get_lines()
        if ln.get_label() == "better than every undropped size"
    ]
    assert list(rings[0].get_xdata()) == [200]  # the one cell better than every undropped model, ringed


def test_equivalence_panel_moves_with_its_controls():
    grid = synthetic_grid(alpha=0.7)
    panel = EquivalencePanel(grid)
    assert list(panel.state().index) == [f"N={n}, p=0.5" for n in E.GRID["sizes"]]
    png = bytes(panel.image.value)
    panel.rate.value = 0.2
    assert panel.state().loc["N=200, p=0.2", "N_eq"] == pytest.approx(200 * 0.8**0.7, abs=0.05)
    png2 = bytes(panel.image.value)
    assert png2 != png
    panel.metric.value = "valid_ppl"
    assert bytes(panel.image.value) != png2 and "valid" in panel.figure.axes[0].get_ylabel()
    arrows = [t for t in panel.figure.axes[0].texts if t.get_text().startswith("N_eq ≈")]
    # every size whose N(1−p)^0.7 stays inside the grid gets an arrow; N=5 at p=0.2 (4.3) falls below
    sizes = E.GRID["sizes"]
    inside = [n for n in sizes if n * 0.8**0.7 >= min(sizes)]
    assert len(arrows) == len(inside) < len(sizes)
    # the title states the range of N_eq / N at this rate
    lo, hi = min(0.8**0.7 for _ in inside), max(0.8**0.7 for _ in inside)
    assert f"{lo:.0%}–{hi:.0%}" in panel.figure.axes[0].get_title(loc="left")


def label_defects(fig):
    """Labels of the reader's figure that leave the axes or cross a curve (in display pixels)."""
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    box = ax.get_window_extent(renderer)
    curves = [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 1]
    out = []
    for t in ax.texts:
        if not t.get_text():
            continue
        ext = t.get_window_extent(renderer)
        if ext.x0 < box.x0 or ext.x1 > box.x1 or ext.y0 < box.y0 or ext.y1 > box.y1:
            out.append(("outside", t.get_text()))
        for ln in curves:
            path = ln.get_transform().transform_path(ln.get_path())
            if path.intersects_bbox(ext, filled=False):
                out.append(("crosses", t.get_text(), ln.get_label()))
        if ax.get_legend() and ext.overlaps(ax.get_legend().get_window_extent(renderer)):
            out.append(("under the legend", t.get_text()))
    return out


@pytest.mark.parametrize("metric", ["train_eval_ppl", "valid_ppl"])
@pytest.mark.parametrize("dropout", [0.2, 0.35, 0.5, 0.65])
def test_reader_labels_stay_inside_and_off_the_curves(metric, dropout):
    grid = synthetic_grid(alpha=1.3, valid_boost={(200, 0.2): 0.8, (200, 0.35): 0.8, (200, 0.5): 0.8, (200, 0.65): 0.8})
    fig = equivalence_figure(grid, dropout, metric)
    assert any(t.get_text().startswith("N_eq ≈") for t in fig.axes[0].texts)
    assert label_defects(fig) == []


def test_reader_labels_on_the_recorded_grid():
    grid = E.load()
    if grid.empty:
        pytest.skip("no recorded grid here")
    for metric in ("train_eval_ppl", "valid_ppl"):
        for p in (0.2, 0.35, 0.5, 0.65):
            assert label_defects(equivalence_figure(grid, p, metric)) == [], (metric, p)


# --------------------------------------------------------------------------------------------
# Inference
# --------------------------------------------------------------------------------------------
def test_inference_view_with_and_without_the_file(tmp_path):
    fig = views.equivalence.plot_inference(None)
    assert "not yet recorded" in words(fig) and E.INFERENCE_COMMAND in words(fig)
    (tmp_path / "ptb" / "grid").mkdir(parents=True)
    (tmp_path / "ptb" / "grid" / "inference.json").write_text(json.dumps(fake_inference()))
    inf = E.load_inference(tmp_path)
    fig = views.equivalence.plot_inference(inf, title="weight scaling wins")
    lines = fig.axes[0].get_lines()
    assert [len(ln.get_xdata()) for ln in lines][1:] == [5, 5]
    assert list(lines[1].get_ydata()) == inf["mc_dropout_ppl"]
    assert fig.axes[0].get_title(loc="left") == "weight scaling wins" and smallest_text(fig) >= NOTE_SIZE
    assert np.isclose(lines[0].get_ydata()[0], 150.0)


def outside_figure(fig):
    """Texts (titles, labels, legends, notes) that reach past the figure's edge, in display pixels."""
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    box = fig.bbox
    out = [
        t.get_text()
        for t in all_texts(fig)
        if (e := t.get_window_extent(renderer)).x0 < box.x0 - 1
        or e.x1 > box.x1 + 1
        or e.y0 < box.y0 - 1
        or e.y1 > box.y1 + 1
    ]
    for ax in fig.axes:
        if ax.get_legend():
            e = ax.get_legend().get_window_extent(renderer)
            if e.x1 > box.x1 + 1 or e.x0 < box.x0 - 1:
                out.append("legend")
    return out


def test_every_figure_fits_its_canvas():
    grid = synthetic_grid(alpha=1.3, valid_boost={(200, 0.5): 0.8})
    figs = [
        views.equivalence.plot_theory(),
        views.equivalence.plot_theory(1500, 0.8),
        views.equivalence.plot_heatmaps(grid),
        views.equivalence.plot_vs_size(grid),
        views.equivalence.plot_alpha(E.alpha_fit(grid, "valid_ppl", draws=20)),
        views.equivalence.plot_inference(fake_inference()),
    ]
    for fig in figs:
        assert outside_figure(fig) == [], fig.axes[0].get_title(loc="left")
