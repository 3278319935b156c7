"""rnnreg.views.plots: one style, every book figure builds, and the drawings show the right dropout sites."""

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch
from test_runs import write_run

from rnnreg.analysis import runs, schemes
from rnnreg.model import SCHEMES
from rnnreg.views import diagrams, plots, style

LOG = [{"epoch": e, "train_ppl": 300 / e, "valid_ppl": 200 - e} for e in (1, 2, 3)]


def texts(fig):
    out = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        out += [t.get_text() for t in ax.texts] + [ax.get_title(), ax.get_title("left")]
    return " | ".join(out)


def coloured_arrows(fig, color):
    want = mcolors.to_rgba(color)
    return sum(
        1
        for ax in fig.axes
        for p in ax.patches
        if isinstance(p, FancyArrowPatch) and mcolors.to_rgba(p.get_edgecolor()) == want
    )


def test_style_is_legible_and_complete():
    assert set(style.SCHEME_COLORS) == set(SCHEMES)
    assert len(set(style.SCHEME_COLORS.values())) == len(SCHEMES)
    assert style.BOOK_RC["font.size"] >= 14 and style.BOOK_RC["figure.figsize"][0] >= 10
    assert style.color_for("zaremba p=0.5") == style.SCHEME_COLORS["zaremba"]
    assert style.color_for("something else", 1) == style.OTHER_COLORS[1]


def test_no_pyplot_figures_are_left_behind():
    plt.close("all")
    plots.plot_curves({"none": LOG})
    diagrams.draw_unrolled_lstm("zaremba")
    assert plt.get_fignums() == []


def test_plot_curves():
    fig = plots.plot_curves(
        {"none": LOG, "zaremba p=0.5": LOG}, references=[("paper valid 120.7", 120.7)], title="t", note="recorded run x"
    )
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    # 2 runs x (train, valid) + 1 reference
    assert len([line for line in ax.get_lines() if len(line.get_xdata())]) == 5
    assert "recorded run x" in texts(fig) and "paper valid 120.7" in texts(fig)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == ["none", "zaremba p=0.5"] and "train (dashed)" in labels


def test_plot_curves_empty_and_live():
    fig = plots.plot_curves({})
    assert len(fig.axes) == 1
    fig = plots.plot_curves({"zaremba": []})  # a live run before its first epoch is named in the legend
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()][0] == "zaremba"


def test_plot_comparison_and_bars():
    fig = plots.plot_comparison({"none": LOG, "everywhere p=0.5": LOG}, title="race", note="n")
    assert len(fig.axes) == 2
    dots = [line.get_ydata()[0] for line in fig.axes[1].get_lines()]
    assert dots == [197, 197]


def test_a_rate_sweep_gets_a_colour_a_short_label_and_an_axis_around_the_data_per_run():
    logs = {
        f"everywhere p=0.5 r={r}": [{"epoch": 1, "train_ppl": 900.0, "valid_ppl": v}]
        for r, v in ((0, 862.0), (0.25, 870.0), (0.5, 881.0))
    }
    fig = plots.plot_comparison(logs)
    dots = fig.axes[1].get_lines()
    assert len({line.get_color() for line in dots}) == 3
    assert [t.get_text() for t in fig.axes[1].get_xticklabels()] == ["r=0", "r=0.25", "r=0.5"]
    assert fig.axes[1].get_xlabel() == "everywhere p=0.5"
    low, high = fig.axes[1].get_ylim()
    assert 800 < low < 862 and 881 < high < 950


@pytest.mark.parametrize("scheme", SCHEMES)
def test_draw_unrolled_lstm_marks_each_site(scheme):
    steps = 3
    fig = diagrams.draw_unrolled_lstm(scheme)
    color = style.SCHEME_COLORS[scheme]
    sites = schemes.sites(scheme)
    vertical = sum(1 for s in sites if not s.recurrent) * steps  # input, between, output per step
    horizontal = sum(1 for s in sites if s.recurrent) * steps * 2  # per step, in both layers
    if scheme == "none":
        assert coloured_arrows(fig, color) == 0
    else:
        assert coloured_arrows(fig, color) == vertical + horizontal
    assert scheme in texts(fig)
    masks = schemes.masks_on_path(scheme, 2, steps - 1)
    assert f"multiplied by {masks['applications']} dropout masks" in texts(fig)


def test_plot_masks_one_and_many():
    m = schemes.sample_masks("everywhere", steps=10, units=8)
    fig = plots.plot_masks({"everywhere": m})
    assert len(fig.axes) == len(m)
    many = {s: schemes.sample_masks(s, steps=10, units=8) for s in ("zaremba", "variational")}
    fig = plots.plot_masks(many, connections=["input", "h"], title="fresh vs shared")
    assert len(fig.axes) == 4
    assert "untouched" in texts(fig)  # zaremba leaves h(t-1) alone
    img = fig.axes[2].images[0].get_array()  # variational, input: (units, steps), constant along time
    assert (img == img[:, :1]).all()
    fig = plots.plot_masks({"weight_drop": schemes.sample_masks("weight_drop", steps=5, units=4)})
    assert "W_hh" in texts(fig)


def test_plot_runs_names_each_run_and_the_references(tmp_path):
    write_run(tmp_path / "ptb" / "small", epochs_done=3)
    fig = plots.plot_runs({"small": runs.load_run("ptb/small", results=tmp_path)}, references=True)
    t = texts(fig)
    assert "results/ptb/small (in progress: epoch 3 of 13)" in t
    assert "paper valid 120.7" in t and "TF tutorial train 37.99" in t


def test_plot_runs_keeps_the_axes_wide_and_spans_the_planned_run(tmp_path):
    write_run(tmp_path / "ptb" / "small", epochs_done=13, complete=True)
    write_run(tmp_path / "ptb" / "medium", preset="medium", epochs_done=2)
    fig = plots.plot_runs(runs.story_runs(results=tmp_path))
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("results/ptb/medium, in progress: epoch 2 of 39" in label for label in labels)
    assert ax.get_xlim()[1] >= 39  # the medium run's planned epochs: how far it has come
    # Long run labels go under the axes, not beside them: the curves keep the figure's width.
    fig.draw_without_rendering()  # runs the constrained layout
    legend, axes = ax.get_legend().get_window_extent(), ax.get_window_extent()
    assert legend.y1 <= axes.y0 and axes.width > 0.8 * fig.bbox.width


def test_png_is_deterministic():
    a = style.to_png(diagrams.draw_unrolled_lstm("variational", seed=3))
    b = style.to_png(diagrams.draw_unrolled_lstm("variational", seed=3))
    assert a[:8] == b"\x89PNG\r\n\x1a\n" and a == b


def markers(fig, color=None):
    """(marker, colour) of every single-point marker line the figure plots."""
    want = None if color is None else mcolors.to_rgba(color)
    return [
        (ln.get_marker(), mcolors.to_rgba(ln.get_color()))
        for ax in fig.axes
        for ln in ax.get_lines()
        if len(ln.get_xdata()) == 1 and (want is None or mcolors.to_rgba(ln.get_color()) == want)
    ]


def test_lstm_cell_marks_every_site_of_every_scheme_with_its_kind():
    fig = diagrams.draw_lstm_cell()
    for scheme in SCHEMES:
        drawn = sorted(m for m, _ in markers(fig, style.SCHEME_COLORS[scheme]))
        # "between" is the arrow from below seen by the next layer: drawn once, as "input"
        want = sorted(diagrams.MASK_MARKERS[s.mask] for s in schemes.sites(scheme) if s.connection != "between")
        assert drawn == want, scheme


@pytest.mark.parametrize("lag", [1, 2, 5, 8])
@pytest.mark.parametrize("scheme", SCHEMES)
def test_information_path_meets_as_many_masks_as_counted(scheme, lag):
    fig = diagrams.draw_information_path(scheme, lag)
    route = diagrams.information_path(scheme, lag)["route"]
    expected = schemes.masks_on_path(scheme, 2, lag, path=route)["applications"]
    assert len(markers(fig, style.SCHEME_COLORS[scheme])) == expected
    assert f"meets {expected} dropout mask" in texts(fig)


def test_information_path_is_the_papers_figure_3():
    # Zaremba: L + 1 = 3 masks whatever the lag; a fresh mask on h(t-1) adds one per step
    assert {len(diagrams.information_path("zaremba", lag)["masks"]) for lag in range(1, 9)} == {3}
    assert [len(diagrams.information_path("everywhere", lag)["masks"]) for lag in (1, 4, 8)] == [4, 7, 11]
    assert (
        diagrams.information_path("memory", 1)["route"] == "c"
        and diagrams.information_path("zoneout", 1)["route"] == "h"
    )
    with pytest.raises(ValueError):
        diagrams.draw_information_path("zaremba", 0)
