"""Chapter 05's interactive panels, in the pattern of ``rnnreg.widgets``: each is an
``ipywidgets.VBox`` whose controls call one ``rnnreg.zoo`` function and one ``rnnreg.plots_zoo``
figure; the last figure is kept as ``panel.figure`` and shown as PNG in an ``Image`` widget.

``ZooCurves``        pick schemes and a metric: per-epoch curves of the recorded zoo runs
``SchemeVsPapers``   pick a scheme: its result here beside what the follow-up papers report for it
"""
from __future__ import annotations

import html
import math

import ipywidgets as W

from . import zoo as Z
from .model import SCHEMES
from .plots_zoo import plot_zoo_curves
from .widgets import STYLE, FigurePanel, image_widget, scheme_picker, schemes_picker

METRIC_OPTIONS = [(label, key) for key, label in
                  (("both", "train & valid"), ("valid_ppl", "valid"), ("train_ppl", "train"), ("gap", "valid − train"))]


class ZooCurves(FigurePanel):
    """Schemes (ctrl/shift-click) and a metric -> per-epoch curves of every recorded seed, and a
    line of last-epoch numbers for the chosen runs."""

    def __init__(self, zoo: dict, schemes=("none", "zaremba", "variational"), metric: str = "both"):
        self.zoo = zoo
        self.schemes = schemes_picker(schemes, schemes=SCHEMES)
        self.metric = W.ToggleButtons(options=METRIC_OPTIONS, value=metric, description="show", style=STYLE)
        self.readout = W.HTML()
        self.image = image_widget()
        super().__init__([W.HBox([self.schemes, self.metric]), self.readout, self.image])
        self._observe(self.schemes, self.metric)
        self.update()

    def chosen(self) -> tuple[str, ...]:
        return tuple(self.schemes.value)

    def readout_text(self) -> str:
        """Last-epoch valid / train (dropout on) of each chosen run, or what is missing."""
        parts = []
        for label, df in Z.curves(self.zoo, self.chosen(), self.metric.value).items():
            last = df.iloc[-1]
            parts.append(f"<b>{html.escape(label)}</b>: valid {last['valid_ppl']:.1f}, train {last['train_ppl']:.1f} "
                         f"(epoch {int(last['epoch'])})")
        absent = [s for s in self.chosen() if s not in self.zoo]
        if absent:
            parts.append("not yet recorded here: " + ", ".join(absent))
        return " · ".join(parts) if parts else "Choose one or more schemes."

    def update(self) -> None:
        self.readout.value = self.readout_text()
        self._set_figure(plot_zoo_curves(self.zoo, self.chosen(), self.metric.value))


class SchemeVsPapers(W.VBox):
    """Scheme dropdown -> the published PTB numbers for that placement (``runs.FOLLOW_UPS``) with
    what differs, and this project's zoo result for it, as an HTML table."""

    def __init__(self, zoo: dict, scheme: str = "variational"):
        self.zoo = zoo
        self.scheme = scheme_picker(scheme, schemes=[s for s in SCHEMES if s != "none"])
        self.out = W.HTML()
        super().__init__([self.scheme, self.out])
        self.scheme.observe(lambda change: self.update(), names="value")
        self.update()

    def rows(self):
        """Rows for the scheme, and rows whose note names it (e.g. the method `memory` is the opposite of)."""
        lit = Z.literature_table(self.zoo)
        s = self.scheme.value
        return lit[(lit["scheme"] == s) | lit["differs"].str.contains(f"`{s}`", regex=False)]

    def update(self) -> None:
        s = self.scheme.value
        table = Z.scheme_table(self.zoo)
        if s in table.index:
            r = table.loc[s]
            spread = ("one seed" if r["seeds"] == 1 else f"spread {r['valid_spread']:.1f} over {r['seeds']} seeds")
            here = (
                f"Here: valid {r['valid_ppl']:.1f}, test {r['test_ppl']:.1f} ({spread}; 2×200, 300k tokens, 6 epochs)."
            )
        else:
            here = "Here: not yet recorded."
        rows = self.rows()
        if rows.empty:
            body = "<p>No follow-up paper in the reference notes reports a PTB number for this placement.</p>"
        else:
            cells = "".join(
                f"<tr><td>{html.escape(str(x['method']))}</td><td>{_num(x['valid'])}</td><td>{_num(x['test'])}</td>"
                f"<td>{_num(x['params (M)'], 0)}</td><td>{html.escape(str(x['differs']))}</td>"
                f"<td>{html.escape(str(x['source']))}</td></tr>" for _, x in rows.iterrows())
            body = ("<table><tr><th>published</th><th>valid</th><th>test</th><th>params (M)</th><th>what differs</th>"
                    f"<th>source</th></tr>{cells}</table>")
        self.out.value = f"<p><b>{html.escape(s)}</b>. {html.escape(here)}</p>{body}"


def _num(x, digits: int = 1) -> str:
    return "–" if not isinstance(x, (int, float)) or math.isnan(x) else f"{x:.{digits}f}"
