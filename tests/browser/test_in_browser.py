"""The book in a real browser, on demand: ``make browser-check`` (needs Debian's chromium and the
``browser`` extra; minutes of CPU). Skipped unless RNNREG_BROWSER=1, so ``make test`` stays headless.

- every panel of every chapter responds when its controls move in JupyterLab (check_widgets.py);
- every slide of every deck fits 1280x720 and shows stills, not dead controls (check_decks.py).
"""

import os
import shutil
from pathlib import Path

import check_decks
import check_widgets
import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(
    os.environ.get("RNNREG_BROWSER") != "1" or shutil.which("chromium") is None,
    reason="browser checks run on demand: RNNREG_BROWSER=1 and chromium (make browser-check)",
)


def test_every_slide_fits_1280x720_and_shows_stills():
    out = os.environ.get("RNNREG_BROWSER_OUT", str(REPO / "build" / "browser"))
    assert check_decks.main(["--out", f"{out}/decks.json", "--shots", f"{out}/decks"]) == 0


def test_every_panel_responds_in_jupyterlab():
    out = os.environ.get("RNNREG_BROWSER_OUT", str(REPO / "build" / "browser"))
    assert check_widgets.main(["--out", f"{out}/widgets"]) == 0
