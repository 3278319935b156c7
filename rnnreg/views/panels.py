"""The book's ipywidgets panels. Each is an ``ipywidgets.VBox`` that renders its default state when
displayed; a control's callback calls one library function and one figure, shown as PNG in an ``Image``
(so a static export keeps the last picture); the last figure is kept as ``panel.figure``.
"""

from __future__ import annotations

import base64
import html
import inspect
import time
from collections.abc import Iterable, Sequence

import ipywidgets as W
import pandas as pd

from ..analysis.schemes import CONNECTION_LABELS, SCHEME_INFO, sites
from ..config import PRESETS, Config, parameter_count
from ..data import Corpus
from ..live import QUICK, estimate_seconds, quick_config, run_label, train_side_by_side, worker_count
from ..model import LSTMLM, SCHEMES, lstm_step, recurrence_masks
from ..published import MODEL_NAMES, reported
from ..train import curve_findings
from .diagrams import draw_information_path, draw_unrolled_lstm
from .plots import plot_comparison, plot_curves
from .style import to_png

__all__ = [
    "STYLE",
    "StaticFallback",
    "FigurePanel",
    "scheme_picker",
    "schemes_picker",
    "rate_slider",
    "int_slider",
    "image_widget",
    "SchemeDiagram",
    "InformationPath",
    "CodeViewer",
    "presets_table",
    "TrainingPanel",
]

#: Schemes with a recurrent rate of their own (``recurrent_dropout``), and the rates a sweep offers.
RECURRENT_SWEEP_SCHEMES = ("everywhere", "memory", "variational", "weight_drop")
RECURRENT_RATE_OPTIONS = (0.0, 0.1, 0.25, 0.5, 0.75)
SCHEME_OPTIONS = [(f"{s} — {SCHEME_INFO[s]['title']}", s) for s in SCHEMES]
PLOTS = ("curves", "comparison")
MAX_SEED = 10_000  # the seed boxes' range
STYLE = {"description_width": "initial"}


def check_range(option: str, value, lo, hi=None) -> None:
    """Refuse a value outside ``[lo, hi]`` (a widget would clamp it without a word)."""
    if not lo <= value <= (value if hi is None else hi):
        allowed = f"at least {lo:,}" if hi is None else f"between {lo:,} and {hi:,}"
        raise ValueError(f"{option} must be {allowed}, got {value!r}")


def check_choice(option: str, value, choices: Sequence) -> None:
    if value not in choices:
        raise ValueError(f"{option} must be one of {', '.join(map(str, choices))}; got {value!r}")


# --------------------------------------------------------------------------------------------
# Controls
# --------------------------------------------------------------------------------------------
def scheme_picker(value: str = "zaremba", schemes: Sequence[str] = SCHEMES, description: str = "scheme") -> W.Dropdown:
    """A dropdown of dropout schemes (label: name and one-line description)."""
    check_choice(description, value, schemes)
    options = [o for o in SCHEME_OPTIONS if o[1] in schemes]
    return W.Dropdown(
        options=options, value=value, description=description, style=STYLE, layout=W.Layout(width="480px")
    )


def schemes_picker(
    value: Sequence[str] = ("none", "zaremba"), schemes: Sequence[str] = SCHEMES, description: str = "schemes"
) -> W.SelectMultiple:
    """Several schemes at once (ctrl/shift-click)."""
    for v in value:
        check_choice(description, v, schemes)
    return W.SelectMultiple(
        options=list(schemes), value=tuple(value), description=description, rows=min(len(schemes), 7), style=STYLE
    )


def rate_slider(
    value: float = 0.5, description: str = "dropout", max: float = 0.9, step: float = 0.05, option: str = ""
) -> W.FloatSlider:
    """A probability slider in [0, max]; ``value`` outside it is a ValueError naming ``option``."""
    check_range(option or description, value, 0.0, max)
    return W.FloatSlider(
        value=value,
        min=0.0,
        max=max,
        step=step,
        description=description,
        readout_format=".2f",
        continuous_update=False,
        style=STYLE,
    )


def int_slider(value: int, lo: int, hi: int, step: int, description: str, option: str = "") -> W.IntSlider:
    """An integer slider in [lo, hi]; ``value`` outside it is a ValueError naming ``option``."""
    check_range(option or description, value, lo, hi)
    return W.IntSlider(
        value=value, min=lo, max=hi, step=step, description=description, continuous_update=False, style=STYLE
    )


def image_widget() -> W.Image:
    return W.Image(format="png", layout=W.Layout(max_width="100%", height="auto"))


def _descendants(widget) -> Iterable:
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _descendants(child)


class StaticFallback:
    """A still of the panel beside its live view, for places without a kernel: a static deck or page
    renders the PNG (or HTML) and a one-line note instead of controls that look live but are not
    (``scripts/nbconvert_templates``). :meth:`show` keeps a handle so a training run can refresh the still."""

    _display_handle = None

    def static_note(self) -> str:
        return (
            f"[{type(self).__name__}: a still of its last state; its controls work in JupyterLab with a running kernel]"
        )

    def static_bundle(self) -> dict[str, str]:
        image = getattr(self, "image", None)
        if isinstance(image, W.Image) and image.value:
            return {"image/png": base64.b64encode(image.value).decode("ascii")}
        shown = [w.value for w in _descendants(self) if isinstance(w, W.HTML) and w.value]
        return {"text/html": "\n".join(shown)} if shown else {}

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)  # the live widget view
        if bundle is None:
            return None
        return {**bundle, **self.static_bundle(), "text/plain": self.static_note()}

    def show(self) -> None:
        """Display the panel with a handle, so that :meth:`refresh_still` can replace its still later."""
        from IPython.display import display

        self._display_handle = display(self, display_id=True)

    def refresh_still(self) -> None:
        if self._display_handle is not None:
            self._display_handle.update(self)


class FigurePanel(StaticFallback, W.VBox):
    """A panel whose controls redraw one figure into an Image widget."""

    figure = None

    def _observe(self, *controls) -> None:
        for c in controls:
            c.observe(lambda change: self.update(), names="value")

    def _set_figure(self, fig) -> None:
        self.figure = fig
        self.image.value = to_png(fig)


# --------------------------------------------------------------------------------------------
# Chapter 02: where dropout goes
# --------------------------------------------------------------------------------------------
class SchemeDiagram(FigurePanel):
    """Scheme dropdown -> the unrolled two-layer LSTM with that scheme's dropout sites and masks."""

    def __init__(self, scheme: str = "zaremba", seed: int = 0):
        self.scheme = scheme_picker(scheme)
        self.seed = seed
        self.image = image_widget()
        super().__init__([self.scheme, self.image])
        self._observe(self.scheme)
        self.update()

    def update(self) -> None:
        self._set_figure(draw_unrolled_lstm(self.scheme.value, seed=self.seed))


class InformationPath(FigurePanel):
    """The paper's Figure 3 with a lag slider: the masks a signal meets from x(t − lag) to the softmax at t."""

    def __init__(self, scheme: str = "zaremba", lag: int = 4):
        self.scheme = scheme_picker(scheme)
        self.lag = int_slider(lag, 1, 8, 1, "lag (steps)", option="lag")
        self.image = image_widget()
        super().__init__([W.HBox([self.scheme, self.lag]), self.image])
        self._observe(self.scheme, self.lag)
        self.update()

    def update(self) -> None:
        self._set_figure(draw_information_path(self.scheme.value, self.lag.value))


#: Which library code implements each scheme (what CodeViewer shows).
SCHEME_CODE = {
    "none": (LSTMLM.forward,),
    "zaremba": (LSTMLM.drop_nonrecurrent, LSTMLM.forward),
    "everywhere": (recurrence_masks, lstm_step),
    "memory": (recurrence_masks, lstm_step),
    "variational": (LSTMLM.drop_nonrecurrent, recurrence_masks),
    "weight_drop": (LSTMLM.recurrent_weight,),
    "zoneout": (recurrence_masks, lstm_step),
}


def source_html(objects: Iterable) -> str:
    """Syntax-highlighted source of functions/methods as inline-styled HTML."""
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer

        fmt = HtmlFormatter(noclasses=True, style="default", nowrap=False)
        render = lambda src: highlight(src, PythonLexer(), fmt)  # noqa: E731
    except ImportError:  # pragma: no cover - pygments ships with Jupyter
        render = lambda src: f"<pre>{html.escape(src)}</pre>"  # noqa: E731
    parts = []
    for obj in objects:
        src = inspect.getsource(obj)
        parts.append(
            f"<p><code>{html.escape(obj.__module__)}.{html.escape(obj.__qualname__)}</code></p>"
            + render(inspect.cleandoc("\n" + src) if src.startswith(" ") else src)
        )
    return "\n".join(parts)


class CodeViewer(StaticFallback, W.VBox):
    """Scheme dropdown -> the library source that implements it (read from the module itself)."""

    def __init__(self, scheme: str = "zaremba"):
        self.scheme = scheme_picker(scheme)
        self.code = W.HTML(layout=W.Layout(max_height="560px", overflow="auto"))
        super().__init__([self.scheme, self.code])
        self.scheme.observe(lambda change: self.update(), names="value")
        self.update()

    def update(self) -> None:
        s = self.scheme.value
        site_text = ", ".join(f"{CONNECTION_LABELS[x.connection]} ({x.mask})" for x in sites(s)) or "none"
        self.code.value = (
            f"<p><b>{html.escape(s)}</b>: {html.escape(SCHEME_INFO[s]['source'])}. "
            f"Sites: {html.escape(site_text)}.</p>" + source_html(SCHEME_CODE[s])
        )


# --------------------------------------------------------------------------------------------
# Chapter 00: the paper's configurations
# --------------------------------------------------------------------------------------------
def preset_row(name: str) -> dict:
    """The preset's hyperparameters, its parameter count and the published perplexities."""
    p = PRESETS[name]
    params = parameter_count(Config.from_preset(name), 10_000)
    paper, tf = reported(name, "paper"), reported(name, "tf")
    return {
        "model": MODEL_NAMES[name],
        "layers × units": f"{p['num_layers']} × {p['hidden_size']}",
        "parameters (M)": round(params / 1e6, 2),
        "unroll steps": p["steps"],
        "init ±": p["init_scale"],
        "dropout": p["dropout"],
        "epochs": p["epochs"],
        "lr schedule": f"1, then ÷{p['lr_decay']:g} per epoch from epoch {first_decayed(name)} (the authors' code)",
        "grad clip": p["clip"],
        "paper valid / test": f"{paper['valid']} / {paper['test']}",
        "TF tutorial valid / test": f"{tf['valid']} / {tf['test']}",
    }


def first_decayed(name: str) -> int:
    """The first epoch a preset trains at a decayed learning rate, by the schedule it runs."""
    config = Config.from_preset(name)
    return next(e for e in range(1, config.epochs + 1) if config.lr_at(e) < config.lr)


def presets_table() -> pd.DataFrame:
    """:func:`preset_row` for small, medium and large, one column each."""
    return pd.DataFrame({name: preset_row(name) for name in PRESETS})


# --------------------------------------------------------------------------------------------
# The live training view
# --------------------------------------------------------------------------------------------
class TrainingPanel(StaticFallback, W.VBox):
    """Train button, status line and live learning curve for seeded quick runs on a corpus slice.

    A click (or ``run()``) trains every selected scheme side by side, same seed and data; the curve redraws
    as events arrive. A value outside its control's range is a ``ValueError`` naming the option; slices
    beyond a split mean the whole split."""

    def __init__(
        self,
        corpus: Corpus,
        *,
        schemes: Sequence[str] = ("none", "zaremba"),
        choose_schemes: bool = False,
        hidden_size: int = QUICK["hidden_size"],
        train_tokens: int = QUICK["train_tokens"],
        valid_tokens: int = QUICK["valid_tokens"],
        epochs: int = QUICK["epochs"],
        dropout: float = QUICK["dropout"],
        batch_size: int = QUICK["batch_size"],
        steps: int = QUICK["steps"],
        seed: int = QUICK["seed"],
        plot: str = "curves",
        recurrent_rates: Sequence[float] | None = None,
        workers: int | None = None,
        log_every: int = 10,
        redraw_every_s: float = 2.0,
        title: str | None = None,
    ):
        check_choice("plot", plot, PLOTS)
        for scheme in schemes:
            check_choice("schemes", scheme, SCHEMES)
        check_range("batch_size", batch_size, 1)
        check_range("valid_tokens", valid_tokens, 2 * batch_size)  # validation: two tokens a stream
        check_range("train_tokens", train_tokens, 1_000)
        check_range("seed", seed, 0, MAX_SEED)
        self.corpus = corpus
        # beyond a split means the whole split: the slider and the figure's note say how many tokens that is
        self.valid_tokens, self.batch_size = min(valid_tokens, len(corpus.valid)), batch_size
        train_tokens = min(train_tokens, len(corpus.train))
        self.plot_kind, self.workers, self.log_every, self.redraw_every_s = plot, workers, log_every, redraw_every_s
        self.title = title
        self.schemes = schemes_picker(schemes) if choose_schemes else None
        self.fixed_schemes = tuple(schemes)
        # A sweep of the recurrent rate: one scheme, the non-recurrent rate fixed, one run per
        # recurrent rate, so recurrent noise is the only thing that differs between the curves.
        self.recurrent = None
        if recurrent_rates is not None:
            if len(schemes) != 1 or schemes[0] not in RECURRENT_SWEEP_SCHEMES:
                raise ValueError(f"a recurrent-rate sweep takes one of {RECURRENT_SWEEP_SCHEMES}, got {tuple(schemes)}")
            self.schemes = scheme_picker(schemes[0], RECURRENT_SWEEP_SCHEMES)
            options = sorted(set(RECURRENT_RATE_OPTIONS) | set(recurrent_rates))
            self.recurrent = W.SelectMultiple(
                options=options,
                value=tuple(recurrent_rates),
                rows=len(options),
                description="recurrent rates",
                style=STYLE,
            )
        self.seed_box = W.BoundedIntText(
            value=seed, min=0, max=MAX_SEED, description="seed", style=STYLE, layout=W.Layout(width="160px")
        )
        self.estimate = W.HTML()
        self.hidden = int_slider(hidden_size, 16, 400, 8, "hidden size", option="hidden_size")
        self.dropout = rate_slider(dropout, "dropout rate", option="dropout")
        max_tokens = max(min(len(corpus.train), 200_000), train_tokens)
        self.train_tokens = int_slider(
            train_tokens, min(1_000, train_tokens), max_tokens, 1_000, "training slice (tokens)", option="train_tokens"
        )
        self.epochs = int_slider(epochs, 1, 20, 1, "epochs")
        self.steps = int_slider(steps, 5, 50, 5, "sequence length (BPTT)", option="steps")
        self.button = W.Button(description="Train", button_style="primary")  # no icon: font-awesome is not vendored
        self.status = W.HTML()
        self.status.add_class("rnnreg-status")  # for the browser check: the status line, not the estimate
        self.image = image_widget()
        self.figure = None
        self.results: dict[str, object] = {}
        self.step_points: dict[str, list[tuple[float, float]]] = {}
        self.epoch_logs: dict[str, list[dict]] = {}
        self._last_draw, self._draw_cost = 0.0, 0.0
        left = [self.hidden, self.dropout, self.train_tokens]
        right = [self.epochs, self.steps, self.seed_box]
        choices = [c for c in (self.schemes, self.recurrent) if c is not None]
        rows = [W.HBox([W.VBox(left), W.VBox(right)] + choices), W.HBox([self.button, self.estimate])]
        super().__init__(rows + [self.status, self.image])
        self.button.on_click(lambda b: self.run())
        for control in [self.hidden, self.dropout, self.train_tokens, self.epochs, self.steps, self.seed_box] + choices:
            control.observe(self._on_settings_changed, names="value")
        self._show_estimate()
        self._redraw(force=True)

    @property
    def seed(self) -> int:
        return self.seed_box.value

    def estimate_seconds(self, configs: Sequence[Config] | None = None) -> float:
        """What pressing Train with the current settings (or ``configs``) will take on this machine
        (measured, see :func:`rnnreg.live.estimate_seconds`)."""
        configs = list(self.configs().values()) if configs is None else list(configs)
        return estimate_seconds(configs, len(self.corpus.vocab), self.valid_tokens, self.workers)

    def _show_estimate(self) -> None:
        configs = list(self.configs().values())
        if not configs:
            self.estimate.value = "pick at least one run"
            return
        seconds = self.estimate_seconds(configs)
        when = f"about {seconds:.0f} s" if seconds < 120 else f"about {seconds / 60:.0f} min"
        n, side = len(configs), worker_count(len(configs), self.workers)
        how = f"{side} at a time, one core each" if side > 1 else "one after the other, one core"
        self.estimate.value = f"&nbsp;{n} run{'s' if n != 1 else ''}: {when} on this machine ({how}; measured now)"

    def _on_settings_changed(self, change) -> None:
        self._show_estimate()
        if self.results and not self.button.disabled:  # the figure still shows the last run
            shown = ", ".join(html.escape(k) for k in self.results)
            self.status.value = (
                f"settings changed — press <b>Train</b> to run them; the curves still show the last run ({shown})"
            )

    # -- what a click does --------------------------------------------------------------
    def selected_schemes(self) -> tuple[str, ...]:
        if self.schemes is None:
            return self.fixed_schemes
        return (self.schemes.value,) if self.recurrent is not None else tuple(self.schemes.value)

    def configs(self) -> dict[str, Config]:
        """The configs the next run will train, by label."""
        p = self.dropout.value
        if self.recurrent is not None:  # one scheme, one run per recurrent rate
            runs = [(self.schemes.value, r) for r in self.recurrent.value]
        else:
            runs = [(s, None) for s in self.selected_schemes()]
        settings = dict(
            hidden_size=self.hidden.value,
            train_tokens=self.train_tokens.value,
            epochs=self.epochs.value,
            dropout=p,
            batch_size=self.batch_size,
            steps=self.steps.value,
            seed=self.seed,
        )
        out = {}
        for s, r in runs:
            recurrent = {} if r is None else {"recurrent_dropout": r}
            out[run_label(s, p, r)] = quick_config(s, **settings, **recurrent)
        return out

    def data_note(self) -> str:
        """What the figure says it trained on (the constructor caps both slices at their split's size)."""
        return (
            f"live: first {self.train_tokens.value:,} {self.corpus.name} train tokens, "
            f"first {self.valid_tokens:,} valid tokens; 2 layers × {self.hidden.value}, batch {self.batch_size}, "
            f"BPTT {self.steps.value}, lr 1, seed {self.seed}"
        )

    def run(self) -> dict:
        """Train every selected scheme with the current settings; returns ``{label: RunResult}``.

        The runs train side by side, one process per core (:func:`rnnreg.live.train_side_by_side`):
        the same numbers as one after the other, in the time of the slowest on two cores."""
        configs = self.configs()
        self.results, self.step_points, self.epoch_logs = {}, {}, {}
        self._where = {label: "waiting" for label in configs}
        for label in configs:
            self.step_points[label], self.epoch_logs[label] = [], []
        self.button.disabled = True
        data = self.corpus.head(valid=self.valid_tokens)
        self._show_where()
        try:
            self.results = train_side_by_side(
                configs, data, workers=self.workers, log_every=self.log_every, on_event=self._on_event
            )
            done = "; ".join(f"{html.escape(k)}: valid {r.log[-1]['valid_ppl']:.1f}" for k, r in self.results.items())
            self.status.value = f"done — last epoch: {done}"
        finally:
            self.button.disabled = False
            self._redraw(force=True)
            self.refresh_still()
        return self.results

    def _show_where(self) -> None:
        self.status.value = "training: " + " · ".join(f"{html.escape(k)} {v}" for k, v in self._where.items())

    def _on_event(self, label: str, ev: dict) -> None:
        if ev["event"] == "step":
            x = ev["epoch"] - 1 + ev["step"] / ev["steps_per_epoch"]
            self.step_points[label].append((x, ev["train_ppl"]))
            self._where[label] = f"epoch {ev['epoch']}/{self.epochs.value} ({ev['step'] / ev['steps_per_epoch']:.0%})"
            self._show_where()
            self._redraw()
        elif ev["event"] == "epoch":
            self.epoch_logs[label].append({k: ev[k] for k in ("epoch", "train_ppl", "valid_ppl")})
            self._where[label] = (
                f"epoch {ev['epoch']}/{self.epochs.value} done, "
                f"train {ev['train_ppl']:.1f}, valid {ev['valid_ppl']:.1f}"
            )
            self._show_where()
            self._redraw(force=True)

    def _redraw(self, force: bool = False) -> None:
        now = time.monotonic()
        # live redraws cost ~0.2 s each: at most every redraw_every_s, and at most ~20% of the time
        if not force and now - self._last_draw < max(self.redraw_every_s, 4 * self._draw_cost):
            return
        title = self.title or "train (dashed) and valid (solid) perplexity"
        if self.plot_kind == "comparison" and any(self.epoch_logs.values()):
            fig = plot_comparison(
                self.epoch_logs, steps=self.step_points, title=title, note=self.data_note(), xmax=self.epochs.value
            )
        else:
            fig = plot_curves(
                self.epoch_logs, steps=self.step_points, title=title, note=self.data_note(), xmax=self.epochs.value
            )
        self.figure = fig
        self.image.value = to_png(fig)
        self._last_draw = time.monotonic()
        self._draw_cost = self._last_draw - now

    # -- results --------------------------------------------------------------------------
    def findings(self) -> dict[str, dict]:
        """Per run label: :func:`rnnreg.train.curve_findings` of its log (best and last valid, rise, ...)."""
        return {label: curve_findings(r.log) for label, r in self.results.items()}

    def table(self, digits: int = 1) -> pd.DataFrame:
        """Last epoch of each run (and the best valid epoch), rounded; empty before a run."""
        rows = []
        for label, f in self.findings().items():
            config = self.results[label].config
            rows.append(
                {
                    "run": label,
                    "hidden": config.hidden_size,
                    "train tokens": config.max_train_tokens,
                    "epochs": f["epochs"],
                    "train ppl": round(f["last_train"], digits),
                    "valid ppl": round(f["last_valid"], digits),
                    "best valid ppl": round(f["best_valid"], digits),
                    "best epoch": f["best_epoch"],
                    "valid/train": round(f["last_valid"] / f["last_train"], 2),
                }
            )
        return pd.DataFrame(rows).set_index("run") if rows else pd.DataFrame()

    def slice_unigram(self) -> float:
        """Validation perplexity of the unigram model of the training slice (the bar to clear)."""
        return self.corpus.head(train=self.train_tokens.value, valid=self.valid_tokens).unigram_perplexity("valid")

    def checks(self) -> dict[str, bool]:
        """What holds for any healthy run on any machine (the chapters' nbval-checked cell); all False before a run."""
        runs, unigram = self.findings(), self.slice_unigram()
        return {
            "every run finished its epochs": bool(runs)
            and all(f["epochs"] == self.epochs.value for f in runs.values()),
            "every run's best epoch beats the slice's unigram model": bool(runs)
            and all(f["best_valid"] < unigram for f in runs.values()),
        }

    def logs(self) -> dict[str, list[dict]]:
        return {k: r.log for k, r in self.results.items()}
