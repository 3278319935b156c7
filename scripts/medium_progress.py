"""Record the medium run's progress and bring the README's sentences about it up to date.

    python scripts/medium_progress.py [/work/runs/ptb/medium]

1. ``python -m rnnreg record RUN --to results/ptb/medium`` (config, log, progress.json while it
   trains, summary.json once complete; no checkpoint);
2. every passage marked ``<!-- said:... -->`` in ``README.md`` and ``results/README.md``, rewritten
   from the records by :func:`rnnreg.analysis.readme.table1_said` (the medium run in progress:
   epochs, latest valid, hours left; complete: valid / test against the paper's and the 1.5 %
   target; the large row: its numbers, or "not run" with its estimated cost).
   ``tests/test_results_readme.py`` checks that the files say exactly that.

Chapters 00-03 quote the run too: ``make medium-progress`` runs this script, then re-executes them.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rnnreg.analysis import readme, runs  # noqa: E402
from rnnreg.train import record_run  # noqa: E402

TEXTS = [ROOT / "README.md", ROOT / "results" / "README.md"]


def main(run: str = "/work/runs/ptb/medium") -> None:
    dest = ROOT / "results" / "ptb" / "medium"
    for path in record_run(run, dest):
        print("recorded", path.relative_to(ROOT))
    said = readme.table1_said(results=ROOT / "results")
    for path in TEXTS:
        path.write_text(readme.fill(path.read_text(encoding="utf-8"), said), encoding="utf-8")
        print("rewrote", ", ".join(readme.marked(path.read_text(encoding="utf-8"))), "in", path.relative_to(ROOT))
    print(runs.load_run(dest).status, "|", said["medium-here"])


if __name__ == "__main__":
    main(*sys.argv[1:])
