"""Each chapter has one edited source, ``book/NN_topic.md`` (MyST, paired by jupytext), and its
executed twin ``book/NN_topic.ipynb`` (for nbval, the decks and the widget state).

The pair must hold the same cells: same kinds, same sources, same slide metadata. After editing
the ``.md``, ``make notebooks NB=book/NN_topic.md`` syncs and re-executes the ``.ipynb``.
"""

import json
from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext")

BOOK = Path(__file__).resolve().parent.parent / "book"
SOURCES = sorted(BOOK.glob("[0-9][0-9]_*.md"))
NOTEBOOKS = sorted(BOOK.glob("[0-9][0-9]_*.ipynb"))


def cells(nb):
    out = []
    for c in nb["cells"]:
        src = c["source"] if isinstance(c["source"], str) else "".join(c["source"])
        out.append((c["cell_type"], src.strip(), c.get("metadata", {}).get("slideshow")))
    return out


def test_every_notebook_has_one_text_source_and_no_generator_remains():
    assert [p.stem for p in SOURCES] == [p.stem for p in NOTEBOOKS]
    scripts = BOOK.parent / "scripts"
    assert not list(scripts.glob("make_notebook*.py")), "chapters are edited as book/*.md, not generated"


@pytest.mark.parametrize("source", SOURCES, ids=[p.name for p in SOURCES])
def test_text_source_and_executed_notebook_agree(source):
    text = jupytext.read(source)
    executed = json.loads(source.with_suffix(".ipynb").read_text(encoding="utf-8"))
    want, have = cells(text), cells(executed)
    for i, (a, b) in enumerate(zip(want, have)):
        assert a == b, (
            f"{source.name} cell {i} differs from {source.with_suffix('.ipynb').name}: "
            f"run `make notebooks NB={source.relative_to(BOOK.parent)}`"
        )
    assert len(want) == len(have), f"{source.name}: {len(want)} cells, its notebook {len(have)}"
    assert executed["metadata"].get("rise") == text["metadata"].get("rise")
