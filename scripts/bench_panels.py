"""Latency of the book's interactive panels: seconds from a control's new value to the panel's new
picture, in-process (no browser, no kernel round trip). Chapter 03 asks for <= 0.3 s a move.

    python scripts/bench_panels.py [--out results/bench/panels.json]

Each control is moved through a fixed sequence of values; the first visit of a value may run a
(cached) simulation, later visits only redraw. Reports every timing, the median and the maximum.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch


def moves():
    """(panel name, control attribute, values) for every panel measured."""
    return [
        ("SignalPanel", "lag", [6, 7, 8, 9, 10, 11]),
        ("SignalPanel", "layers", [3, 1, 2]),
        ("SignalPanel", "rate", [0.55, 0.6, 0.45, 0.55, 0.6, 0.5]),
        ("SignalPanel", "scheme", ["zaremba", "variational", "weight_drop", "everywhere", "zaremba"]),
        ("SignalPanel", "mixing", ["identity", "orthogonal"]),
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", help="write the timings as JSON here")
    args = parser.parse_args(argv)

    from rnnreg import views
    from rnnreg.runfolder import git_commit, machine_description

    panel = views.signal.SignalPanel(scheme="everywhere", p=0.5, lag=5, num_layers=2)
    timings: dict[str, list[float]] = {}
    for name, attr, values in moves():
        control = getattr(panel, attr)
        for value in values:
            start = time.perf_counter()
            control.value = value
            timings.setdefault(f"{name}.{attr}", []).append(round(time.perf_counter() - start, 4))
    flat = [t for ts in timings.values() for t in ts]
    result = {
        "timings_s": timings,
        "median_s": statistics.median(flat),
        "max_s": max(flat),
        "moves": len(flat),
        "target_s": 0.3,
        "within_target": sum(t <= 0.3 for t in flat),
        "provenance": {
            "command": "python scripts/bench_panels.py" + (f" --out {args.out}" if args.out else ""),
            "git_commit": git_commit(),
            "torch": torch.__version__,
            "device": machine_description(torch.device("cpu")),
        },
    }
    for key, ts in timings.items():
        print(f"{key:28s} " + " ".join(f"{t:.2f}" for t in ts))
    print(
        f"median {result['median_s']:.3f} s, max {result['max_s']:.3f} s; "
        f"{result['within_target']} of {len(flat)} moves within 0.3 s"
    )
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(result, fh, indent=1)
            fh.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
