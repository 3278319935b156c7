"""Chapter 00's reading-group plans fit their time, slot by slot, timed from the slides they name.

Each plan is a markdown table in chapter 00 (minutes | chapter | slides | move | ask); the
two-session plan is one table per session. A slot names its slides by heading, ``; ``-separated,
and its moves as **control** names. Its time is read from the executed notebooks in book/:

- a slide is a cell of slide_type "slide" or "subslide" with the "-" and "fragment" cells after it
  ("skip" and "notes" cells are not shown); a subslide without a heading of its own continues the
  slide before it, so a name covers everything the presenter shows under it;
- its words: its markdown cells and the text/markdown outputs of its code cells; its figures: its
  image/png outputs; its controls: the described widgets of its panels (widget-view outputs).
"""

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parent.parent / "book"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

WORDS_PER_MINUTE = 130  # speaking pace: the presenter reads or paraphrases every word shown
MINUTES_PER_FIGURE = 1  # a figure's axes, legend and point need saying before anyone can read it
MINUTES_PER_MOVE = 1  # a move: change the control, wait for the redraw, say what changed
MIN_DISCUSSION = 8  # the discussion is the point of a reading group: at least this long
SESSION = 60
TABLE1 = ("02", "Table 1 side by side")
COLUMNS = ["minutes", "chapter", "slides", "move", "ask"]


@dataclass
class Slide:
    words: int = 0
    figures: int = 0
    controls: set[str] = field(default_factory=set)
    markdown: list[str] = field(default_factory=list)

    def minutes(self) -> float:
        return self.words / WORDS_PER_MINUTE + self.figures * MINUTES_PER_FIGURE


def text(value) -> str:
    return value if isinstance(value, str) else "".join(value)


def heading(markdown: str) -> str | None:
    found = re.search(r"^#+\s+(.+?)\s*$", markdown, re.MULTILINE)
    return found.group(1) if found else None


def controls(model_id: str, state: dict) -> set[str]:
    """The descriptions of the widgets inside a panel: the names a presenter moves."""
    model = state.get(model_id, {}).get("state", {})
    names = {model["description"]} if model.get("description") else set()
    for child in model.get("children", []):
        names |= controls(child.removeprefix("IPY_MODEL_"), state)
    return names


@cache
def slides(chapter: str) -> dict[str, Slide]:
    """A chapter's slides by heading, read from its executed notebook."""
    (path,) = BOOK.glob(f"{chapter}_*.ipynb")
    notebook = json.loads(path.read_text(encoding="utf-8"))
    state = notebook["metadata"].get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    found, slide = {}, None
    for cell in notebook["cells"]:
        kind = cell["metadata"].get("slideshow", {}).get("slide_type")
        if kind not in ("slide", "subslide", "-", "fragment") or (slide is None and kind in ("-", "fragment")):
            continue
        shown = [text(cell["source"])] if cell["cell_type"] == "markdown" else []
        outputs = cell.get("outputs", [])
        shown += [text(out["data"]["text/markdown"]) for out in outputs if "text/markdown" in out.get("data", {})]
        named = next((h for h in map(heading, shown) if h), None)
        if kind == "slide" or (kind == "subslide" and named):
            slide = found.setdefault(named, Slide())
        slide.markdown += shown
        slide.words += sum(len(s.split()) for s in shown)
        slide.figures += sum("image/png" in out.get("data", {}) for out in outputs)
        for out in outputs:
            if WIDGET_VIEW in out.get("data", {}):
                slide.controls |= controls(out["data"][WIDGET_VIEW]["model_id"], state)
    return found


@dataclass
class Slot:
    start: int
    end: int
    chapter: str
    slides: list[str]
    moves: list[str]
    ask: str

    def minutes(self) -> float:
        shown = sum(slides(self.chapter)[name].minutes() for name in self.slides)
        return shown + len(self.moves) * MINUTES_PER_MOVE


def cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


def parse_slot(row: str) -> Slot:
    minutes, chapter, named, move, ask = cells(row)
    start, end = map(int, minutes.split("–"))
    names = [] if named == "—" else [n.strip().strip("*") for n in named.split("; ")]
    return Slot(start, end, chapter, names, re.findall(r"\*\*(.+?)\*\*", move), ask)


def tables(markdown: str) -> list[list[Slot]]:
    found = []
    for block in re.findall(r"(?:^\|.*\|[ \t]*\n?)+", markdown, re.MULTILINE):
        header, _, *rows = block.strip().splitlines()
        assert cells(header) == COLUMNS, f"00_guide: a plan's columns are {COLUMNS}, not {cells(header)}"
        found.append([parse_slot(row) for row in rows])
    return found


def plan(name: str) -> list[list[Slot]]:
    """The sessions of the plan under chapter 00's heading ``name`` (a presenter's page, not a slide): one
    table each."""
    (path,) = BOOK.glob("00_*.ipynb")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    markdown = "\n\n".join(text(c["source"]) for c in cells if c["cell_type"] == "markdown")
    section = re.search(rf"^#+ {re.escape(name)}[ \t]*$(.*?)(?=^#+ |\Z)", markdown, re.MULTILINE | re.DOTALL)
    sessions = tables(section.group(1)) if section else []
    assert sessions, f"00_guide: no plan table under '{name}'"
    return sessions


PLANS = {"60 minutes": ("A 60-minute reading-group plan", 1), "2×60": ("Two sessions of 60 minutes", 2)}
SESSIONS = [(plan_id, i) for plan_id, (_, count) in PLANS.items() for i in range(count)]


def session(plan_id: str, i: int) -> list[Slot]:
    name, count = PLANS[plan_id]
    sessions = plan(name)
    assert len(sessions) == count, f"00_guide: '{name}' has {len(sessions)} session tables, not {count}"
    return sessions[i]


def slot_ids(params):
    return [f"{plan_id} session {i + 1}" for plan_id, i in params]


@pytest.mark.parametrize(("plan_id", "i"), SESSIONS, ids=slot_ids(SESSIONS))
def test_slots_add_up_to_the_session(plan_id, i):
    slots = session(plan_id, i)
    bounds = [(s.start, s.end) for s in slots]
    assert slots[0].start == 0 and slots[-1].end == SESSION, f"{plan_id}: slots span {bounds}"
    assert all(a.end == b.start for a, b in zip(slots, slots[1:])), f"{plan_id}: gaps or overlaps in {bounds}"


@pytest.mark.parametrize(("plan_id", "i"), SESSIONS, ids=slot_ids(SESSIONS))
def test_every_named_slide_and_move_exists(plan_id, i):
    for slot in session(plan_id, i):
        if not slot.slides:
            continue
        have = slides(slot.chapter)
        missing = [name for name in slot.slides if name not in have]
        assert not missing, f"{plan_id} {slot.start}–{slot.end}: chapter {slot.chapter} has no slide {missing}"
        panels = set().union(*(have[name].controls for name in slot.slides))
        unknown = [move for move in slot.moves if move not in panels]
        assert not unknown, f"{plan_id} {slot.start}–{slot.end}: no control {unknown} on its slides ({panels})"


@pytest.mark.parametrize(("plan_id", "i"), SESSIONS, ids=slot_ids(SESSIONS))
def test_every_slot_fits(plan_id, i):
    for slot in session(plan_id, i):
        assert slot.ask, f"{plan_id} {slot.start}–{slot.end}: every slot asks the group something"
        took = slot.minutes()
        assert took <= slot.end - slot.start, (
            f"{plan_id} {slot.start}–{slot.end} (chapter {slot.chapter}): its slides take {took:.1f} min"
        )


@pytest.mark.parametrize(("plan_id", "i"), SESSIONS, ids=slot_ids(SESSIONS))
def test_discussion_is_left_time(plan_id, i):
    talk = [s for s in session(plan_id, i) if not s.slides]
    assert sum(s.end - s.start for s in talk) >= MIN_DISCUSSION, f"{plan_id}: under {MIN_DISCUSSION} min of discussion"
    assert all("?" in s.ask and not s.moves for s in talk), f"{plan_id}: a discussion slot names its questions"


@pytest.mark.parametrize("plan_id", PLANS)
def test_the_plan_shows_table1(plan_id):
    chapter, name = TABLE1
    shown = [s for sessions in plan(PLANS[plan_id][0]) for s in sessions if s.chapter == chapter and name in s.slides]
    assert shown, f"{plan_id}: no slot shows chapter {chapter}'s '{name}'"
