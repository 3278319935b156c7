"""Record the medium run's progress and bring the README's sentences about it up to date.

    python scripts/medium_progress.py [/work/runs/ptb/medium]

1. ``python -m rnnreg record RUN --to results/ptb/medium`` (config, log, progress.json; no checkpoint);
2. the README's progress numbers, read from that record: "N of 39 epochs", "on CPU, valid X;"
   and "about H h more on two CPU cores" (``tests/test_results_readme.py`` checks the same ones).

Chapters 00-03 quote the run too: re-execute them afterwards (``make notebooks NB="..."``). Once the
run is complete these sentences give way to its numbers, written by hand and read back by the test.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rnnreg.analysis import runs  # noqa: E402
from rnnreg.train import record_run  # noqa: E402


def main(run: str = "/work/runs/ptb/medium") -> None:
    dest = ROOT / "results" / "ptb" / "medium"
    for path in record_run(run, dest):
        print("recorded", path.relative_to(ROOT))
    medium = runs.load_run(dest)
    if medium.complete:
        print("the run is complete: write its numbers into the README by hand (the test says where)")
        return
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    valid = f"{medium.final('valid_ppl'):.1f}" if medium.epochs_done else "–"
    left = runs.cost_estimate("medium", results=ROOT / "results")["hours_left"]
    text = re.sub(r"\d+ of (\d+)(\s+)epochs", rf"{medium.epochs_done} of \1\2epochs", text)
    text = re.sub(r"(epochs\s+on CPU, valid )(\d+\.\d|–);", rf"\g<1>{valid};", text)
    text = re.sub(r"about \d+ h more on two(\s+)CPU cores", rf"about {left:.0f} h more on two\1CPU cores", text)
    readme.write_text(text, encoding="utf-8")
    print(f"README: {medium.epochs_done} of {medium.epochs_planned} epochs, valid {valid}, about {left:.0f} h more")


if __name__ == "__main__":
    main(*sys.argv[1:])
