"""What a reader and a presenter meet, counted: slides, numbers in prose, paragraph length, bookkeeping.

- A deck is at most 16 slides (``slide`` + ``subslide`` cells; details are ``skip`` cells or collapsed),
  the book at most 80; the browser check (``make browser-check``) measures how they fit 1280x720.
- Numbers in prose (markdown cells and computed markdown; tables, math, code and links excluded) are
  at most 40 % of the count in the book reviewed on 2026-12-06 (commit 15a84bd): 1,043 by this
  counter, so at most 417, split per chapter below.
- No paragraph or list item of the prose runs over 100 words.
- The reader's text names no project bookkeeping: attempts, sessions, commits, machines, local paths,
  test mechanics (they live in ``results/README.md`` and git history).
"""

import json
import re
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parent.parent / "book"
CHAPTERS = sorted(BOOK.glob("[0-9][0-9]_*.ipynb"))
MAX_SLIDES, MAX_SLIDES_PER_DECK = 80, 16
REVIEWED_COUNT = 1043  # numbers in prose at 15a84bd, by prose_numbers() below
NUMBER_BUDGET = {"00": 50, "01": 65, "02": 65, "03": 85, "04": 65, "05": 60, "06": 25}
MAX_WORDS = 100
NUMBER = re.compile(r"(?<![\w.])[-−+]?\d[\d,]*(?:\.\d+)?%?(?!\w)")
BOOKKEEPING = re.compile(
    r"lost attempt|attempt \d|session record|git commit|\bcommit [0-9a-f]{7}|/work/|/home/|nbval|"
    r"NBVAL|restarted|\bAVX|\bEPYC|checkpoint-mid",
    re.IGNORECASE,
)


def cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def text(value):
    return value if isinstance(value, str) else "".join(value)


def prose(path) -> str:
    """The chapter's prose: markdown cells and computed markdown, without code, math, tables, tags, links."""
    blocks = []
    for cell in cells(path):
        if cell["cell_type"] == "markdown":
            blocks.append(text(cell["source"]))
        for output in cell.get("outputs", []):
            if "text/markdown" in output.get("data", {}):
                blocks.append(text(output["data"]["text/markdown"]))
    return "\n\n".join(strip(block) for block in blocks)


def strip(block: str) -> str:
    for pattern in (r"```.*?```", r"\$\$.*?\$\$", r"\$[^$\n]+\$", r"`[^`\n]+`", r"<[^>]+>"):
        block = re.sub(pattern, " ", block, flags=re.S)
    block = re.sub(r"\]\([^)]*\)", "]", block)
    return "\n".join(line for line in block.splitlines() if not line.lstrip().startswith("|"))


def prose_numbers(path) -> int:
    return len(NUMBER.findall(prose(path)))


def units(body: str) -> list[str]:
    """Paragraphs and list items (a list item is read as its own paragraph); headings left out."""
    pieces = re.split(r"\n\s*\n|\n(?=\s*(?:[-*+]|\d+\.)\s)", body)
    return [p for p in pieces if p.strip() and not p.lstrip().startswith("#")]


def slides(path) -> int:
    kinds = [c.get("metadata", {}).get("slideshow", {}).get("slide_type") for c in cells(path)]
    return sum(kind in ("slide", "subslide") for kind in kinds)


def test_the_counter_reads_numbers_not_words():
    assert NUMBER.findall("valid 86.4 / test 82.4, 2×650 units, 1,500 words, 0.5%, h_t and 3rd") == [
        "86.4",
        "82.4",
        "2",
        "650",
        "1,500",
        "0.5%",
    ]
    assert sum(NUMBER_BUDGET.values()) <= 0.4 * REVIEWED_COUNT


def test_the_book_fits_its_slide_budget():
    counts = {p.name: slides(p) for p in CHAPTERS}
    assert sum(counts.values()) <= MAX_SLIDES, counts
    assert max(counts.values()) <= MAX_SLIDES_PER_DECK, counts


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_numbers_in_prose_within_budget(path):
    assert prose_numbers(path) <= NUMBER_BUDGET[path.name[:2]]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_no_paragraph_over_100_words(path):
    long = [p[:60] for p in units(prose(path)) if len(p.split()) > MAX_WORDS]
    assert not long


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_no_bookkeeping_in_the_readers_text(path):
    found = {m.group(0) for m in BOOKKEEPING.finditer(prose(path))}
    assert not found


def test_recorded_browser_check_is_current_and_fits():
    """results/browser/decks.json (``make browser-check``) measured these decks: same slide counts, all fit."""
    record = json.loads((BOOK.parent / "results" / "browser" / "decks.json").read_text(encoding="utf-8"))
    measured = {d["deck"].replace(".slides.html", ".ipynb"): d["slides"] for d in record["decks"]}
    assert measured == {p.name: slides(p) for p in CHAPTERS}
    assert record["total"]["slides"] <= MAX_SLIDES
    assert record["total"]["overflowing"] == 0
    assert record["total"]["smallest_figure_scale"] >= 0.9
