"""Every committed notebook in book/ is a clean, in-order, presentable run.

- named ``NN_name.ipynb`` and opening with its question;
- every code cell executed, in order, from a fresh kernel (execution counts 1, 2, 3, ...);
- no error outputs, no per-cell timing metadata (``metadata.execution``), no SVG outputs;
- every cell carries slide metadata (``metadata.slideshow.slide_type``) for nbconvert/RISE;
- at least one cell checked by nbval (tag ``nbval-check-output``), and no nbval comment a reader sees;
- every widget it displays has its state saved, so the static HTML export can render it;
- the built decks and pages (if ``build/`` exists) load nothing from a CDN.
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))
SLIDE_TYPES = {"slide", "subslide", "fragment", "skip", "notes", "-"}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
CDN = re.compile(r"unpkg\.com|cdnjs|cdn\.jsdelivr|jsdelivr\.net|googleapis")


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def source(cell):
    s = cell.get("source", "")
    return s if isinstance(s, str) else "".join(s)


def ids(paths):
    return [p.name for p in paths]


def test_there_is_a_book():
    assert NOTEBOOKS, "no notebooks in book/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_name_and_opening_question(path):
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name), f"{path.name}: name it NN_topic.ipynb"
    first = load(path)["cells"][0]
    assert first["cell_type"] == "markdown" and source(first).startswith("# "), "open with a title cell"
    assert "Question" in source(first), "the first cell states the chapter's question"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_executed_in_order_without_errors(path):
    cells = [c for c in load(path)["cells"] if c["cell_type"] == "code"]
    counts = [c.get("execution_count") for c in cells]
    assert None not in counts, f"{path.name}: cells {[i for i, n in enumerate(counts) if n is None]} never ran"
    assert counts == list(range(1, len(cells) + 1)), (
        f"{path.name}: execution counts {counts} — rerun the notebook top to bottom in a fresh kernel"
    )
    for i, cell in enumerate(cells):
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"{path.name} code cell {i}: {out.get('ename')}: {out.get('evalue')}"
            data = out.get("data", {})
            assert "image/svg+xml" not in data, f"{path.name} code cell {i}: SVG output (changes every run)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_no_timing_metadata(path):
    for i, cell in enumerate(load(path)["cells"]):
        assert "execution" not in cell.get("metadata", {}), (
            f"{path.name} cell {i}: timing metadata; execute with --ExecutePreprocessor.record_timing=False"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_slide_metadata_on_every_cell(path):
    for i, cell in enumerate(load(path)["cells"]):
        kind = cell.get("metadata", {}).get("slideshow", {}).get("slide_type")
        assert kind in SLIDE_TYPES, f"{path.name} cell {i}: slide_type {kind!r}"
    first = load(path)["cells"][0]
    assert first["metadata"]["slideshow"]["slide_type"] == "slide"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_some_outputs_are_checked(path):
    code = [c for c in load(path)["cells"] if c["cell_type"] == "code"]
    checked = [c for c in code if "nbval-check-output" in c["metadata"].get("tags", [])]
    assert checked, f"{path.name}: tag the cells that print key numbers nbval-check-output"
    assert not [c for c in code if "NBVAL_" in source(c)], f"{path.name}: nbval markers are cell tags, not comments"
    for c in checked:
        assert c.get("outputs"), f"{path.name}: a checked cell has no committed output to compare"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_widget_state_is_saved(path):
    nb = load(path)
    views = {
        out["data"][WIDGET_VIEW]["model_id"]
        for c in nb["cells"]
        if c["cell_type"] == "code"
        for out in c.get("outputs", [])
        if WIDGET_VIEW in out.get("data", {})
    }
    if not views:
        return
    state = nb["metadata"].get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    missing = views - set(state)
    # tqdm bars closed at the end of an epoch are gone from the state by design; the panels must be there
    displayed = [v for v in views if v in state]
    assert displayed, f"{path.name}: widgets shown but no widget state saved (execute with nbconvert/nbclient)"
    assert len(missing) < len(views), f"{path.name}: widget state missing for {sorted(missing)}"


BUILT = sorted((ROOT / "build" / "slides").glob("*.html")) + sorted((ROOT / "build" / "html").glob("*.html"))


@pytest.mark.skipif(not BUILT, reason="decks not built (make slides)")
@pytest.mark.parametrize("path", BUILT, ids=ids(BUILT))
def test_built_pages_are_offline(path):
    hits = sorted(set(CDN.findall(path.read_text(encoding="utf-8", errors="replace"))))
    assert not hits, f"{path}: still loads from {hits}"
