#!/usr/bin/env python
"""Measure every slide of the book's decks in headless Chromium at a projector's size.

The decks (``make slides``: ``build/slides/NN_*.slides.html``, reveal.js, 1280×720 slides) are
opened from disk in a 1280×720 window. For every slide (each leaf ``<section>``, in order) the
script shows it, measures how tall its content is against the slide's height, finds images
shown smaller than a readable size and widget outputs that are not stills, and takes a
screenshot (``build/browser/decks/NN_name/slide-KK.png``, git-ignored). A slide overflows when
its content is taller than the slide (what a projector would cut).

Writes a JSON record with provenance (``--out``, default ``build/browser/decks.json``; the book's
recorded check is ``results/browser/decks.json``) and exits 1 if any slide overflows or shows a
live widget.

    make slides && python tests/browser/check_decks.py --out results/browser/decks.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

#: What reveal.js is told (scripts/build_slides.sh) and the window the decks are checked in.
WIDTH, HEIGHT = 1280, 720
#: Content may reach this far past the slide's height before it counts as overflow (rounding, margins).
TOLERANCE_PX = 4
#: A figure is shown at no less than this share of its own width (its PNG's pixels), or it is too small to read.
MIN_FIGURE_SCALE = 0.9

SLIDES = """
() => Reveal.getSlides().map((s, i) => { const idx = Reveal.getIndices(s); return {index: i, h: idx.h, v: idx.v}; })
"""

# Show slide i, let MathJax typeset it (the deck rerenders the math of a slide when it is shown),
# then measure it.
SHOW = """
(i) => new Promise(done => {
  const s = Reveal.getSlides()[i];
  const idx = Reveal.getIndices(s);
  Reveal.slide(idx.h, idx.v, 0);
  const settle = () => setTimeout(() => done(true), 150);
  // the deck queues its rerender on 'slidechanged', after this call returns: queue behind it
  setTimeout(() => (window.MathJax && MathJax.Hub) ? MathJax.Hub.Queue(settle) : settle(), 400);
})
"""

MEASURE = """
(i) => {
  const s = Reveal.getSlides()[i];
  const imgs = Array.from(s.querySelectorAll('img')).map(im => ({
    w: im.getBoundingClientRect().width, h: im.getBoundingClientRect().height, natural_w: im.naturalWidth}));
  return {
    title: (s.querySelector('h1, h2, h3') || {}).innerText || '',
    content_px: s.scrollHeight,
    images: imgs,
    math: s.querySelectorAll('.MathJax_SVG, .MathJax_CHTML, .MathJax').length,
    live_widgets: s.querySelectorAll(
      '.jupyter-widgets script[type="application/vnd.jupyter.widget-view+json"]').length,
    stills: s.querySelectorAll('.rnnreg-still').length,
  };
}
"""


def git_commit() -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except OSError:
        return "unknown"


def check_deck(page, deck: Path, shots: Path) -> dict:
    page.goto(deck.resolve().as_uri())
    # nbconvert's deck loads reveal.js as a require.js module: fetch the same module object
    page.wait_for_function("() => window.require !== undefined", timeout=60_000)
    page.evaluate(
        "() => new Promise(done => require(['../vendor/reveal.js/dist/reveal.js'], "
        "R => { window.Reveal = R; done(true); }))"
    )
    page.wait_for_function("() => Reveal.isReady()", timeout=60_000)
    # MathJax typesets after Reveal is ready: wait for its queue to drain before measuring
    page.evaluate(
        "() => new Promise(done => (window.MathJax && MathJax.Hub) ? MathJax.Hub.Queue(() => done(true)) : done(false))"
    )
    page.wait_for_timeout(200)
    height = page.evaluate("() => Reveal.getConfig().height")
    width = page.evaluate("() => Reveal.getConfig().width")
    shots.mkdir(parents=True, exist_ok=True)
    slides = page.evaluate(SLIDES)
    for s in slides:
        page.evaluate(SHOW, s["index"])
        s.update(page.evaluate(MEASURE, s["index"]))
        page.screenshot(path=str(shots / f"slide-{s['index']:02d}.png"))
        s["overflow_px"] = max(0, s["content_px"] - height)
        s["overflows"] = s["overflow_px"] > TOLERANCE_PX
        scales = [im["w"] / im["natural_w"] for im in s["images"] if im["natural_w"]]
        s["figure_scale"] = round(min(scales), 3) if scales else None
    shown = [s["figure_scale"] for s in slides if s["figure_scale"] is not None]
    return {
        "deck": deck.name,
        "slides": len(slides),
        "config": {"width": width, "height": height},
        "overflowing": [s["index"] for s in slides if s["overflows"]],
        "smallest_figure_scale": min(shown, default=None),
        "live_widgets": sum(s["live_widgets"] for s in slides),
        "stills": sum(s["stills"] for s in slides),
        "per_slide": slides,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("decks", nargs="*", help="decks to check (default: build/slides/*.slides.html)")
    ap.add_argument("--out", default=str(REPO / "build" / "browser" / "decks.json"))
    ap.add_argument("--shots", default=str(REPO / "build" / "browser" / "decks"))
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    decks = [Path(d) for d in args.decks] or sorted((REPO / "build" / "slides").glob("*.slides.html"))
    if not decks:
        print("check_decks: no decks; run `make slides` first", file=sys.stderr)
        return 2
    started = dt.datetime.now(dt.timezone.utc)
    chromium = subprocess.run([args.chromium, "--version"], capture_output=True, text=True).stdout.strip()
    results = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=args.chromium,
            headless=True,
            args=[
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
        for deck in decks:
            r = check_deck(page, deck, Path(args.shots) / deck.name.replace(".slides.html", ""))
            results.append(r)
            print(
                f"{deck.name}: {r['slides']} slides, {len(r['overflowing'])} overflow "
                f"{r['overflowing'] or ''}, {r['stills']} stills, {r['live_widgets']} live widgets"
            )
        browser.close()
    record = {
        "command": "python "
        + " ".join(
            [
                str(Path(sys.argv[0]).resolve().relative_to(REPO))
                if Path(sys.argv[0]).exists()
                else "tests/browser/check_decks.py",
                *(argv if argv is not None else sys.argv[1:]),
            ]
        ),
        "git_commit": git_commit(),
        "chromium": chromium,
        "window": {"width": WIDTH, "height": HEIGHT},
        "tolerance_px": TOLERANCE_PX,
        "started": started.isoformat(timespec="seconds"),
        "wall_s": round((dt.datetime.now(dt.timezone.utc) - started).total_seconds(), 1),
        "decks": results,
        "total": {
            "slides": sum(r["slides"] for r in results),
            "overflowing": sum(len(r["overflowing"]) for r in results),
            "live_widgets": sum(r["live_widgets"] for r in results),
            "smallest_figure_scale": min(
                (r["smallest_figure_scale"] for r in results if r["smallest_figure_scale"] is not None), default=None
            ),
        },
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(
        f"check_decks: {record['total']['slides']} slides, {record['total']['overflowing']} overflowing, "
        f"{record['total']['live_widgets']} live widgets, smallest figure at "
        f"{record['total']['smallest_figure_scale']} of its size -> {out}"
    )
    total = record["total"]
    small = total["smallest_figure_scale"] is not None and total["smallest_figure_scale"] < MIN_FIGURE_SCALE
    return 1 if total["overflowing"] or total["live_widgets"] or small or total["slides"] > 80 else 0


if __name__ == "__main__":
    sys.exit(main())
