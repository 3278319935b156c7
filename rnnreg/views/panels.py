"""The book's ipywidgets panels: a ``VBox`` whose controls redraw one figure (PNG in an ``Image``; a static
export keeps the last picture, and ``panel.figure`` the last figure)."""

from __future__ import annotations

import base64
import html
import time
from collections.abc import Sequence

import ipywidgets as W
import pandas as pd

from ..analysis.schemes import SCHEME_INFO
from ..config import PRESETS, Config, parameter_count
from ..data import Corpus
from ..live import QUICK, quick_config, run_label, train_side_by_side
from ..model import LSTMLM, SCHEMES, lstm_step, recurrence_masks
from ..published import MODEL_NAMES, reported
from ..train import curve_findings
from .diagrams import draw_information_path, draw_unrolled_lstm
from .plots import plot_comparison, plot_curves
from .style import to_png

#: Schemes with a recurrent rate of their own (``recurrent_dropout``), and the rates a sweep offers.
RECURRENT_SWEEP_SCHEMES = ("everywhere", "memory", "variational", "weight_drop")
RECURRENT_RATE_OPTIONS = (0.0, 0.1, 0.25, 0.5, 0.75)
MAX_SEED = 10_000
STYLE = {"description_width": "initial"}


def check_range(option: str, value, lo, hi=None) -> None:
    """Refuse a value outside ``[lo, hi]`` (a widget would clamp it without a word)."""
    if not lo <= value <= (value if hi is None else hi):
        allowed = f"at least {lo:,}" if hi is None else f"between {lo:,} and {hi:,}"
        raise ValueError(f"{option} must be {allowed}, got {value!r}")


def check_choice(option: str, value, choices: Sequence) -> None:
    if value not in choices:
        raise ValueError(f"{option} must be one of {', '.join(map(str, choices))}; got {value!r}")


def scheme_picker(value: str = "zaremba", schemes: Sequence[str] = SCHEMES) -> W.Dropdown:
    """A dropdown of dropout schemes (label: name and one-line description)."""
    check_choice("scheme", value, schemes)
    options = [(f"{s} — {SCHEME_INFO[s]['title']}", s) for s in schemes]
    return W.Dropdown(options=options, value=value, description="scheme", style=STYLE, layout={"width": "480px"})


def schemes_picker(value: Sequence[str] = ("none", "zaremba"), schemes: Sequence[str] = SCHEMES) -> W.SelectMultiple:
    """Several schemes at once (ctrl/shift-click)."""
    for v in value:
        check_choice("schemes", v, schemes)
    kw = dict(description="schemes", rows=min(len(schemes), 7), style=STYLE)
    return W.SelectMultiple(options=list(schemes), value=tuple(value), **kw)


def rate_slider(value: float = 0.5, description: str = "dropout", max: float = 0.9, option: str = "") -> W.FloatSlider:
    """A probability slider in [0, max]; ``value`` outside it is a ValueError naming ``option``."""
    check_range(option or description, value, 0.0, max)
    kw = dict(description=description, readout_format=".2f", continuous_update=False, style=STYLE)
    return W.FloatSlider(value=value, min=0.0, max=max, step=0.05, **kw)


def int_slider(value: int, lo: int, hi: int, step: int, description: str, option: str = "") -> W.IntSlider:
    """An integer slider in [lo, hi]; ``value`` outside it is a ValueError naming ``option``."""
    check_range(option or description, value, lo, hi)
    return W.IntSlider(value, lo, hi, step, description=description, continuous_update=False, style=STYLE)


def image_widget() -> W.Image:
    return W.Image(format="png", layout=W.Layout(max_width="100%", height="auto"))


class StaticFallback:
    """A still (PNG) beside the live view, which a static deck or page renders instead of dead controls."""

    _display_handle = None

    def static_bundle(self) -> dict[str, str]:
        image = getattr(self, "image", None)
        if isinstance(image, W.Image) and image.value:
            return {"image/png": base64.b64encode(image.value).decode("ascii")}
        return {}

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)  # the live widget view
        note = f"[{type(self).__name__}: a still of its last state; its controls work in JupyterLab with a kernel]"
        return None if bundle is None else {**bundle, **self.static_bundle(), "text/plain": note}

    def show(self) -> None:
        """Display with a handle, so that a run can replace the still (:meth:`TrainingPanel.run`)."""
        from IPython.display import display

        self._display_handle = display(self, display_id=True)


class FigurePanel(StaticFallback, W.VBox):
    """A panel whose controls redraw one figure into an Image widget."""

    figure = None

    def _observe(self, *controls) -> None:
        for c in controls:
            c.observe(lambda change: self.update(), names="value")

    def _set_figure(self, fig) -> None:
        self.figure = fig
        self.image.value = to_png(fig)


class SchemeDiagram(FigurePanel):
    """Scheme dropdown -> the unrolled two-layer LSTM with that scheme's dropout sites and masks."""

    def __init__(self, scheme: str = "zaremba", seed: int = 0):
        self.scheme, self.seed, self.image = scheme_picker(scheme), seed, image_widget()
        super().__init__([self.scheme, self.image])
        self._observe(self.scheme)
        self.update()

    def update(self) -> None:
        self._set_figure(draw_unrolled_lstm(self.scheme.value, seed=self.seed))


class InformationPath(FigurePanel):
    """The paper's Figure 3 with a lag slider: the masks a signal meets from x(t − lag) to the softmax at t."""

    def __init__(self, scheme: str = "zaremba", lag: int = 4):
        self.scheme, self.lag = scheme_picker(scheme), int_slider(lag, 1, 8, 1, "lag (steps)", option="lag")
        self.image = image_widget()
        super().__init__([W.HBox([self.scheme, self.lag]), self.image])
        self._observe(self.scheme, self.lag)
        self.update()

    def update(self) -> None:
        self._set_figure(draw_information_path(self.scheme.value, self.lag.value))


#: Which library code implements each scheme (chapter 02 prints it with ``inspect.getsource``).
SCHEME_CODE = {
    "none": (LSTMLM.forward,),
    "zaremba": (LSTMLM.drop_nonrecurrent, LSTMLM.forward),
    "everywhere": (recurrence_masks, lstm_step),
    "memory": (recurrence_masks, lstm_step),
    "variational": (LSTMLM.drop_nonrecurrent, recurrence_masks),
    "weight_drop": (LSTMLM.recurrent_weight,),
    "zoneout": (recurrence_masks, lstm_step),
}


def presets_table() -> pd.DataFrame:
    """Each preset's hyperparameters, parameter count and published perplexities, one column each; the
    learning-rate schedule as the preset runs it."""
    rows = {}
    for name, p in PRESETS.items():
        paper, tf, decay = reported(name, "paper"), reported(name, "tf"), f"÷{p['lr_decay']:g} per epoch"
        config = Config.from_preset(name)
        first_decayed = next(e for e in range(1, config.epochs + 1) if config.lr_at(e) < config.lr)
        rows[name] = {
            "model": MODEL_NAMES[name],
            "layers × units": f"{p['num_layers']} × {p['hidden_size']}",
            "parameters (M)": round(parameter_count(config, 10_000) / 1e6, 2),
            "unroll steps": p["steps"],
            "init ±": p["init_scale"],
            "dropout": p["dropout"],
            "epochs": p["epochs"],
            "lr schedule": f"1, then {decay} from epoch {first_decayed} (the authors' code)",
            "grad clip": p["clip"],
            "paper valid / test": f"{paper['valid']} / {paper['test']}",
            "TF tutorial valid / test": f"{tf['valid']} / {tf['test']}",
        }
    return pd.DataFrame(rows)


class TrainingPanel(StaticFallback, W.VBox):
    """Train button, status line and live learning curve for seeded quick runs on a corpus slice.

    A click (or ``run()``) trains every scheme side by side, same seed and data. With
    ``recurrent_rates``: one scheme, one run per recurrent rate. ``settings``: :data:`rnnreg.live.QUICK`'s;
    one out of its control's range is a ``ValueError`` naming it; a slice beyond a split is the whole split."""

    def __init__(
        self,
        corpus: Corpus,
        *,
        schemes: Sequence[str] = ("none", "zaremba"),
        plot: str = "curves",
        recurrent_rates: Sequence[float] | None = None,
        workers: int | None = None,
        title: str | None = None,
        **settings,
    ):
        if unknown := set(settings) - set(QUICK):
            raise TypeError(f"TrainingPanel() got unexpected settings {sorted(unknown)}; known: {', '.join(QUICK)}")
        hidden_size, train_tokens, valid_tokens, epochs, batch_size, steps, dropout, seed = map(
            {**QUICK, **settings}.get, QUICK
        )
        check_choice("plot", plot, ("curves", "comparison"))
        for scheme in schemes:
            check_choice("schemes", scheme, SCHEMES)
        check_range("batch_size", batch_size, 1)
        check_range("valid_tokens", valid_tokens, 2 * batch_size)  # validation: two tokens a stream
        check_range("train_tokens", train_tokens, 1_000)
        check_range("seed", seed, 0, MAX_SEED)
        self.corpus, self.valid_tokens, self.batch_size = corpus, min(valid_tokens, len(corpus.valid)), batch_size
        train_tokens = min(train_tokens, len(corpus.train))
        self.plot_kind, self.workers = plot, workers
        self.title, self.fixed_schemes, self.schemes, self.recurrent = title, tuple(schemes), None, None
        if recurrent_rates is not None:
            if len(schemes) != 1 or schemes[0] not in RECURRENT_SWEEP_SCHEMES:
                raise ValueError(f"a recurrent-rate sweep takes one of {RECURRENT_SWEEP_SCHEMES}, got {tuple(schemes)}")
            self.schemes = scheme_picker(schemes[0], RECURRENT_SWEEP_SCHEMES)
            options = sorted(set(RECURRENT_RATE_OPTIONS) | set(recurrent_rates))
            kw = dict(rows=len(options), description="recurrent rates", style=STYLE)
            self.recurrent = W.SelectMultiple(options=options, value=tuple(recurrent_rates), **kw)
        self.seed_box = W.BoundedIntText(value=seed, min=0, max=MAX_SEED, description="seed", style=STYLE)
        self.seed_box.layout.width = "160px"
        self.status, self.image = W.HTML(), image_widget()
        self.status.add_class("rnnreg-status")  # for the browser check
        self.hidden = int_slider(hidden_size, 16, 400, 8, "hidden size", option="hidden_size")
        self.dropout = rate_slider(dropout, "dropout rate", option="dropout")
        max_tokens = max(min(len(corpus.train), 200_000), train_tokens)
        self.train_tokens = int_slider(
            train_tokens, min(1_000, train_tokens), max_tokens, 1_000, "training slice (tokens)", option="train_tokens"
        )
        self.epochs = int_slider(epochs, 1, 20, 1, "epochs")
        self.steps = int_slider(steps, 5, 50, 5, "sequence length (BPTT)", option="steps")
        self.button = W.Button(description="Train", button_style="primary")  # no icon: font-awesome is not vendored
        self.figure, self.results, self.epoch_logs = None, {}, {}
        choices = [c for c in (self.schemes, self.recurrent) if c is not None]
        controls = [self.hidden, self.dropout, self.train_tokens, self.epochs, self.steps, self.seed_box]
        settings = W.HBox([W.VBox(controls[:3]), W.VBox(controls[3:])] + choices)
        super().__init__([settings, self.button, self.status, self.image])
        self.button.on_click(lambda b: self.run())
        for control in controls + choices:
            control.observe(self._on_settings_changed, names="value")
        self._redraw()

    @property
    def seed(self) -> int:
        return self.seed_box.value

    def _on_settings_changed(self, change) -> None:
        if self.results and not self.button.disabled:  # the figure still shows the last run
            shown = ", ".join(html.escape(k) for k in self.results)
            self.status.value = (
                f"settings changed — press <b>Train</b> to run them; the curves show the last run ({shown})"
            )

    def configs(self) -> dict[str, Config]:
        """The configs the next run will train, by label."""
        p = self.dropout.value
        if self.recurrent is not None:  # one scheme, one run per recurrent rate
            plan = [(self.schemes.value, r) for r in self.recurrent.value]
        else:
            plan = [(s, None) for s in self.fixed_schemes]
        shape = dict(hidden_size=self.hidden.value, train_tokens=self.train_tokens.value, steps=self.steps.value)
        settings = dict(epochs=self.epochs.value, dropout=p, batch_size=self.batch_size, seed=self.seed, **shape)
        rate = lambda r: {} if r is None else {"recurrent_dropout": r}  # noqa: E731
        return {run_label(s, p, r): quick_config(s, **settings, **rate(r)) for s, r in plan}

    def data_note(self) -> str:
        """What the figure says it trained on."""
        return (
            f"live: first {self.train_tokens.value:,} {self.corpus.name} train tokens, "
            f"first {self.valid_tokens:,} valid tokens; 2 layers × {self.hidden.value}, batch {self.batch_size}, "
            f"BPTT {self.steps.value}, lr 1, seed {self.seed}"
        )

    def run(self) -> dict:
        """Train every run side by side (:func:`rnnreg.live.train_side_by_side`): ``{label: RunResult}``."""
        configs = self.configs()
        self.results, self._where, self._start = {}, {label: "waiting" for label in configs}, time.monotonic()
        self.epoch_logs = {k: [] for k in configs}
        self.button.disabled = True
        self._show_where()
        try:
            data = self.corpus.head(valid=self.valid_tokens)
            self.results = train_side_by_side(configs, data, workers=self.workers, on_event=self._on_event)
            done = "; ".join(f"{html.escape(k)}: valid {r.log[-1]['valid_ppl']:.1f}" for k, r in self.results.items())
            self.status.value = f"done in {time.monotonic() - self._start:.0f} s — last epoch: {done}"
        finally:
            self.button.disabled = False
            self._redraw()
            if self._display_handle is not None:
                self._display_handle.update(self)
        return self.results

    def _show_where(self) -> None:
        """Where each run is, and the time left as the epochs done so far measure it."""
        done = sum(map(len, self.epoch_logs.values())) / (len(self._where) * self.epochs.value)
        left = f" — about {(time.monotonic() - self._start) * (1 / done - 1):.0f} s left" if 0 < done < 1 else ""
        self.status.value = "training: " + " · ".join(f"{html.escape(k)} {v}" for k, v in self._where.items()) + left

    def _on_event(self, label: str, ev: dict) -> None:
        if ev["event"] not in ("step", "epoch"):
            return
        done = f"epoch {ev['epoch']}/{self.epochs.value}"
        if ev["event"] == "step":
            self._where[label] = f"{done} ({ev['step'] / ev['steps_per_epoch']:.0%})"
        else:
            self.epoch_logs[label].append({k: ev[k] for k in ("epoch", "train_ppl", "valid_ppl")})
            self._where[label] = f"{done} done, train {ev['train_ppl']:.1f}, valid {ev['valid_ppl']:.1f}"
            self._redraw()  # the curves grow an epoch at a time; the status line follows every step
        self._show_where()

    def _redraw(self) -> None:
        plot = plot_comparison if self.plot_kind == "comparison" and any(self.epoch_logs.values()) else plot_curves
        title = self.title or "train (dashed) and valid (solid) perplexity"
        self.figure = plot(self.epoch_logs, title=title, note=self.data_note(), xmax=self.epochs.value)
        self.image.value = to_png(self.figure)

    def findings(self) -> dict[str, dict]:
        """Per run label: :func:`rnnreg.train.curve_findings` of its log."""
        return {label: curve_findings(r.log) for label, r in self.results.items()}

    def table(self, digits: int = 1) -> pd.DataFrame:
        """Last epoch of each run (and the best valid epoch), rounded; empty before a run."""
        rows = []
        for label, f in self.findings().items():
            c = self.results[label].config
            rows.append(
                {"run": label, "hidden": c.hidden_size, "train tokens": c.max_train_tokens, "epochs": f["epochs"]}
                | {"train ppl": round(f["last_train"], digits), "valid ppl": round(f["last_valid"], digits)}
                | {"best valid ppl": round(f["best_valid"], digits), "best epoch": f["best_epoch"]}
                | {"valid/train": round(f["last_valid"] / f["last_train"], 2)}
            )
        return pd.DataFrame(rows).set_index("run") if rows else pd.DataFrame()

    def checks(self) -> dict[str, bool]:
        """What holds for any healthy run on any machine; all False before a run. The bar to clear: the
        validation perplexity of the training slice's unigram model."""
        runs = self.findings()
        unigram = self.corpus.head(train=self.train_tokens.value, valid=self.valid_tokens).unigram_perplexity("valid")
        return {
            "every run finished its epochs": bool(runs)
            and all(f["epochs"] == self.epochs.value for f in runs.values()),
            "every run's best epoch beats the slice's unigram model": bool(runs)
            and all(f["best_valid"] < unigram for f in runs.values()),
        }
