"""Command line: ``python -m rnnreg train | evaluate | record | measure | grid | zoo | average | live | bench``.

Examples::

    python -m rnnreg train --preset small --out results/ptb/small            # Table 1, small
    python -m rnnreg train --preset medium --device cuda --out results/ptb/medium
    python -m rnnreg evaluate results/ptb/small
    python -m rnnreg record runs/ptb/medium --to results/ptb/medium          # a long run's progress, for git
    python -m rnnreg grid                                                     # chapter 04's grid
    python -m rnnreg zoo --schemes variational --recurrent-dropout 0.1 0.25   # chapter 05's zoo
    python -m rnnreg average results/ptb/small results/ptb/small-seed2 --out results/ptb/averaging/small.json
    python -m rnnreg live --seeds 1 2 3 --out results/live/01_defaults.json   # chapter 01's demo, 3 seeds
    python -m rnnreg bench --out results/bench/cpu.json

``train`` run again with the same options resumes from the run folder's checkpoint. ``evaluate``,
``measure`` and ``average`` read the corpus a run was trained on unless ``--data`` says otherwise.
Errors are one line ``error: ...`` on stderr, exit status 2 (130 for Ctrl-C).
"""

from __future__ import annotations

import argparse
import dataclasses
import errno
import json
import shlex
import signal
import sys
import threading
import time
from pathlib import Path

try:  # Ctrl-C while torch loads (a second or two): one line and exit 130, not the import machinery's traceback
    from . import runfolder
    from .config import BOUNDS, CHOICES, PRECISIONS, Config, check_option
    from .data import Corpus, DataError, load_corpus, sha256, split_files
    from .live import DEMOS
    from .model import SCHEMES
    from .runfolder import CheckpointMismatchError, RunFolderError, check_run_folder, load_run_model, write_json
    from .train import NonFiniteLossError, evaluate, require_tokens, resolve_device
except KeyboardInterrupt:
    if __name__ != "__main__":
        raise
    print("interrupted", file=sys.stderr)
    sys.exit(130)

#: The errors a command reports as one line (exit 2) instead of a traceback (ImportError: submitit missing).
USER_ERRORS = (DataError, ValueError, CheckpointMismatchError, NonFiniteLossError, RunFolderError, ImportError)


def _number(name: str):
    """An argparse ``type``: a number :data:`rnnreg.config.BOUNDS` allows for ``name``, refused as the
    command line is read (argparse names the option, exit 2)."""

    def parse(text: str):
        try:
            return check_option(name, int(text) if BOUNDS[name][0] else float(text))
        except ValueError as exc:  # out of bounds, or not a number at all
            number = "an integer" if BOUNDS[name][0] else "a number"
            raise argparse.ArgumentTypeError(str(exc) if name in str(exc) else f"{text!r} is not {number}") from None

    return parse


def _print(*args, **kwargs) -> None:
    print(*args, file=sys.stderr, **kwargs)


def load_corpus_from_args(args: argparse.Namespace, folder: str | None = None, unk: bool = False) -> Corpus:
    """The corpus ``--data`` (or ``folder``) names, with ``--offline`` and ``--unk``; its notes on stderr."""
    unknown = "unk" if args.unk or unk else "error"
    corpus = load_corpus(folder if folder is not None else args.data, False if args.offline else None, unknown)
    for note in corpus.notes:
        _print(f"rnnreg: note: {note}")
    return corpus


def corpus_for_runs(args: argparse.Namespace, runs) -> Corpus:
    """``--data``, else the corpus folder the runs recorded (named; refused if their own corpus moved), else
    the usual lookup. Split files identical to those a run trained on are read with ``--unk`` if it was."""
    for run in runs:  # a wrong run folder is said before any corpus is loaded (or downloaded)
        check_run_folder(Path(run))
    run, recorded = next(((r, c) for r in runs if (c := runfolder.recorded_corpus(r))), (None, {}))
    folder = args.data
    if folder is None and recorded.get("folder"):
        if split_files(Path(recorded["folder"])):
            folder = recorded["folder"]
            _print(f"rnnreg: corpus {folder} (the one {run} was trained on)")
        elif not (recorded.get("files") or {}).get("train", "ptb.").startswith("ptb."):  # its own corpus, moved
            raise DataError(f"{run} was trained on {recorded['folder']}, which no longer holds a corpus; pass --data")
    files = split_files(Path(folder)) if folder is not None else None
    same_files = bool(files) and recorded.get("file_sha256") == {s: sha256(f) for s, f in files.items()}
    return load_corpus_from_args(args, folder, unk=same_files)


def _provenance(args: argparse.Namespace, start: float) -> dict:
    return {**runfolder.provenance(args.command_line, "cpu"), "wall_s": time.perf_counter() - start}


def _write_json(path, result: dict) -> None:
    write_json(path, result, indent=1)
    print(f"written {path} ({result['provenance']['wall_s']:.0f} s)", flush=True)


def cmd_train(args: argparse.Namespace) -> int:
    """train a model (resumes from the run folder's checkpoint)"""
    from .analysis.schemes import unused_option_warnings
    from .train import train

    fields = {f.name for f in dataclasses.fields(Config)} - {"preset"}
    overrides = {k: v for k, v in vars(args).items() if k in fields and v is not None}
    config = Config.from_preset(args.preset, **overrides)
    for warning in unused_option_warnings(config, overrides):
        _print(f"rnnreg: warning: {warning}")
    out = args.out or f"runs/{config.preset}-{config.scheme}-seed{config.seed}"
    corpus = load_corpus_from_args(args)
    result = train(config, corpus, out, progress=not args.quiet, command=args.command_line, callbacks=[_print_epoch])
    print(json.dumps({k: result.summary[k] for k in ("valid_ppl", "test_ppl", "wall_s")}, indent=2))
    print(f"run folder: {out}")
    return 0


def _print_epoch(e: dict) -> None:
    if e["event"] == "epoch":
        print("epoch {epoch:3d}  lr {lr:.4g}  train {train_ppl:8.2f}  valid {valid_ppl:8.2f}  ".format(**e), end="")
        print(f"{e['tokens_per_s']:7.0f} tok/s  {e['epoch_s']:6.0f} s", flush=True)


def cmd_evaluate(args: argparse.Namespace) -> int:
    """valid and test perplexity of a run folder's checkpoint"""
    corpus = corpus_for_runs(args, [args.run])
    model, config, epoch = load_run_model(Path(args.run), corpus=corpus)
    require_tokens(corpus, "valid", config.batch_size, "evaluating the valid split")
    require_tokens(corpus, "test", 1, "evaluating the test split")
    try:
        device = resolve_device(args.device or config.device)
    except ValueError as exc:
        if args.device:
            raise
        _print(f"rnnreg: {exc}; the run trained on {config.device!r}, evaluating on 'auto'")
        device = resolve_device("auto")
    model.to(device)
    valid = evaluate(model, corpus.valid, config.batch_size, config.steps, device)
    test = evaluate(model, corpus.test, 1, config.steps, device)
    print(json.dumps({"epoch": epoch, "valid_ppl": round(valid, 3), "test_ppl": round(test, 3)}, indent=2))
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    """copy a run folder's record (or progress.json while it trains) into results/, without its checkpoint"""
    for path in runfolder.record(args.run, args.to):
        print(path)
    return 0


SWAP_WARMUP, LONGEST_CONTEXT = 20, 50  # swap_sensitivity's stretches, context_ablation's longest context


def _require_measure_tokens(args: argparse.Namespace, corpus: Corpus) -> None:
    needs = [(2, "measuring")]
    if "signal" in args.what:
        needs += [
            (SWAP_WARMUP + args.max_lag + 2, f"--max-lag {args.max_lag} (stretches of {SWAP_WARMUP} + max-lag + 1)"),
            (LONGEST_CONTEXT + 2, f"the context ablation (contexts up to {LONGEST_CONTEXT} tokens)"),
        ]
    if "mask-noise" in args.what:
        needs.append((args.warmup + args.max_lag + 1, f"--warmup {args.warmup} with --max-lag {args.max_lag}"))
    need, why = max(needs)
    require_tokens(corpus, "valid", 1, why, steps=need - 1)


def cmd_measure(args: argparse.Namespace) -> int:
    """chapter 03: lag sensitivity, context ablation, mask noise of trained runs (beside each run)"""
    from .analysis.signal import context_ablation, mask_noise, swap_sensitivity
    from .analysis.zoo import recurrent_rate

    corpus = corpus_for_runs(args, args.runs)
    _require_measure_tokens(args, corpus)
    for run in map(Path, args.runs):
        model, config, epoch = load_run_model(run, corpus=corpus)
        result = {"run": str(run), "scheme": config.scheme, "epoch": epoch, "split": "valid"}
        start = time.perf_counter()
        if "signal" in args.what:
            signal_ = dict(result)
            for masks in (False, True):
                r = swap_sensitivity(model, corpus.valid, args.max_lag, args.samples, SWAP_WARMUP, masks, args.seed)
                signal_["swap_masks" if masks else "swap_eval"] = {k: v.tolist() for k, v in r.items()}
            r = context_ablation(model, corpus.valid, positions=args.positions, seed=args.seed)
            signal_["context_ablation"] = {k: v.tolist() for k, v in r.items()}
            _write_json(run / "signal.json", {**signal_, "provenance": _provenance(args, start)})
            start = time.perf_counter()
        if "mask-noise" in args.what:
            r = mask_noise(model, corpus.valid, args.max_lag, args.windows, args.draws, args.warmup, seed=args.seed)
            rates = {k: getattr(model, k) for k in ("dropout", "recurrent_dropout", "zoneout_h", "zoneout_c")}
            options = {k: getattr(args, k) for k in ("windows", "draws", "warmup")}
            result |= dict(mode="training", **rates, recurrent_rate=recurrent_rate(config.to_dict(), no_site=0.0))
            result |= dict(seed=config.seed, **options, probe="rademacher", measure_seed=args.seed, **r.as_dict())
            result["start_state"] = "evaluation-mode state after reading the warmup tokens before each window"
            _write_json(run / "mask_noise.json", {**result, "provenance": _provenance(args, start)})
    return 0


def _data_argv(args: argparse.Namespace) -> list[str]:
    return ([] if args.data is None else ["--data", args.data]) + ["--offline"] * args.offline + ["--unk"] * args.unk


def _launch(args: argparse.Namespace, runs, name: str) -> int:
    """Send the runs not yet complete out as one job each (:func:`rnnreg.sweeps.launch`)."""
    from .sweeps import executor_parameters, launch

    executor_parameters(args.launcher, args.partition, args.time, args.cpus)  # wrong options: said first
    if not args.dry_run and not all(run.finished() for run in runs):
        load_corpus_from_args(args)  # found (or downloaded) once, here, before any job starts
    options = dict(dry_run=args.dry_run, name=name, log=lambda line: print(line, flush=True))
    _, failed = launch(runs, args.launcher, args.logs, args.partition, args.time, args.cpus, **options)
    if failed:
        raise RunFolderError(f"{len(failed)} of the runs failed ({', '.join(run.folder for run in failed)}); see above")
    return 0


def cmd_grid(args: argparse.Namespace) -> int:
    """chapter 04: hidden size x dropout grid, one train job per cell; or --inference"""
    from .sweeps import grid_cells, grid_runs

    if args.inference:
        from .analysis.equivalence import inference_comparison

        start = time.perf_counter()
        result = inference_comparison(args.out, load_corpus_from_args(args), samples=args.samples)
        _write_json(Path(args.out) / "inference.json", {**result, "provenance": _provenance(args, start)})
        return 0
    cells = grid_cells(args.sizes, args.rates, args.seeds, ensemble=not args.no_ensemble)
    return _launch(args, grid_runs(args.out, cells, _data_argv(args)), "rnnreg-grid")


def cmd_zoo(args: argparse.Namespace) -> int:
    """chapter 05: every scheme at one budget, one train job per run (finished runs skipped)"""
    from .sweeps import MEDIUM, zoo_runs

    default = MEDIUM if args.budget == "medium" else dict(schemes=SCHEMES, rates=None, seeds=(1,))
    rates, seeds = args.recurrent_dropout or default["rates"], args.seeds or default["seeds"]
    runs = zoo_runs(args.schemes or default["schemes"], seeds, rates, args.out, args.budget, _data_argv(args))
    return _launch(args, runs, f"rnnreg-zoo-{args.budget}")


def cmd_average(args: argparse.Namespace) -> int:
    """perplexity of the probability average of several runs (Table 1)

    Every member is evaluated in one layout: ``--batch-size`` (default 1 on test, the paper's protocol,
    else the first member's) and the first member's steps."""
    from .analysis.averaging import averaged_perplexity, running_averages, target_log_probs

    start, seen = time.perf_counter(), {}
    for run in args.runs:  # each member once: not the same folder (another spelling too), nor a copy
        for key, how in ((Path(run).resolve(), "the same run folder"), (sha256(check_run_folder(Path(run))), "copies")):
            if key in seen:
                raise ValueError(f"{seen[key]} and {run} are {how}: give each member of the average once")
            seen[key] = run
    corpus = corpus_for_runs(args, args.runs)
    members, log_probs, layout = [], [], {}
    for run in args.runs:
        model, config, epoch = load_run_model(Path(run), corpus=corpus)
        if not layout:
            layout = {"batch_size": args.batch_size or (1 if args.split == "test" else config.batch_size)}
            layout["steps"] = config.steps
            require_tokens(corpus, args.split, layout["batch_size"], f"averaging on the {args.split} split")
        log_probs.append(target_log_probs(model, getattr(corpus, args.split), layout["batch_size"], layout["steps"]))
        about = {k: getattr(config, k) for k in ("seed", "scheme", "dropout", "precision")}
        members.append({"run": run, "epoch": epoch, **about, "ppl": averaged_perplexity(log_probs[-1])})
        print(f"{run}: {members[-1]['ppl']:.2f}", flush=True)
    result = {"split": args.split, **layout, "members": members, "average_ppl": running_averages(log_probs)}
    result["note"] = "average_ppl[k-1] averages the first k members, each evaluated with batch_size and steps"
    print("averaged:", " ".join(f"{v:.2f}" for v in result["average_ppl"]))
    if args.out:
        _write_json(args.out, {**result, "provenance": _provenance(args, start)})
    return 0


def cmd_live(args: argparse.Namespace) -> int:
    """a chapter's live demo (its default settings) over several seeds, as JSON"""
    from .live import seed_sweep

    start = time.perf_counter()
    sweep = seed_sweep(load_corpus_from_args(args), seeds=args.seeds, **DEMOS[args.demo])
    sweep["demo"] = args.demo
    for run in sweep["runs"]:
        print(f"seed {run['seed']} {run['label']}: valid " + " ".join(f"{v:.1f}" for v in run["valid"]), flush=True)
    seconds = ", ".join(f"seed {k}: {v:.0f}" for k, v in sweep["seconds"].items())
    print(f"wall seconds per seed ({sweep['workers']} runs at a time): {seconds}")
    _write_json(args.out, {**sweep, "provenance": _provenance(args, start)})
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """training tokens/s of every scheme against a plain PyTorch reference"""
    from .bench import run_bench

    options = ("shapes", "schemes", "seconds", "out", "precisions", "rounds")
    run_bench(**{k: getattr(args, k) for k in options}, command=args.command_line)
    return 0


# --- The options -----------------------------------------------------------------------------------------
def _num(name: str, default=None, help=None, **kw) -> dict:
    return dict(type=_number(name), default=default, help=help, **kw)


_FLAG = dict(action="store_true")
#: Help of train's options; the others are Config's fields under their own names.
_TRAIN_HELP = {
    "preset": "the paper's configuration to start from",
    "dropout": "rate on non-recurrent connections",
    "recurrent_dropout": "rate on h, c or W_hh (default: --dropout)",
    "steps": "truncated-BPTT window length",
    "lr_decay": "divisor applied each epoch once decay starts",
    "decay_after": "the paper's max_epoch",
    "decay_start": "code (the authors' Lua, default) or text (the paper's text: one epoch earlier)",
    "clip": "gradient-norm clip at the paper's loss scale",
    "max_train_tokens": "train on the first N tokens only (quick runs)",
    "device": "auto (default), cpu, cuda, cuda:1 ...",
    "compile": "torch.compile the training step's forward and loss (tens of seconds to compile)",
}
_CONFIG = [
    (
        "--" + f.name.replace("_", "-"),
        dict(help=_TRAIN_HELP.get(f.name), default="small" if f.name == "preset" else None)
        | ({"choices": list(CHOICES[f.name])} if f.name in CHOICES else {})
        | ({"action": "store_true"} if f.type == "bool" else {})
        | ({"type": int if BOUNDS[f.name][0] else float} if f.name in BOUNDS else {}),
    )
    for f in dataclasses.fields(Config)
]


def _data(default: str = "$RNNREG_DATA, then the user cache") -> list:
    return [
        ("--data", dict(help=f"corpus folder (default: {default})")),
        ("--offline", dict(_FLAG, help="never download the corpus (same as RNNREG_OFFLINE=1)")),
        ("--unk", dict(_FLAG, help="map valid/test words not in train to <unk> (default: refuse them)")),
    ]


_RUNS = ("runs", dict(nargs="+", help="run folders with a checkpoint"))
_TRAINED_ON = "the corpus the runs were trained on"
_LAUNCHER = [
    ("--launcher", dict(choices=["local", "slurm"], default="local", help="this machine, or SLURM (submitit)")),
    ("--partition", dict(help="SLURM partition")),
    ("--time", _num("time", metavar="MINUTES", help="time limit of each job (default: a day on SLURM)")),
    ("--cpus", _num("cpus", 1, "CPUs of each job, its training threads")),
    ("--logs", dict(default="runs/submitit", help="submitit's folder for the jobs' output (on SLURM: shared)")),
    ("--dry-run", dict(_FLAG, help="print the train command of each run not yet complete; run nothing")),
    *_data(),
]
#: Every command (``cmd_<name>``, its help the docstring's first line) and its options: (flag, add_argument's keywords).
COMMANDS = {
    cmd_train: [
        *_CONFIG,
        ("--out", dict(help="run folder (default runs/<preset>-<scheme>-seed<seed>)")),
        *_data(),
        ("--quiet", dict(_FLAG, help="no progress bar")),
    ],
    cmd_evaluate: [
        ("run", dict(help="run folder")),
        *_data("the corpus the run was trained on"),
        ("--device", dict(help="default: the run's")),
    ],
    cmd_record: [
        ("run", dict(help="run folder")),
        ("--to", dict(required=True, help="folder to record it in, e.g. results/ptb/medium")),
    ],
    cmd_measure: [
        _RUNS,
        *_data(_TRAINED_ON),
        ("--what", dict(nargs="+", choices=["signal", "mask-noise"], default=["signal"], help="what to measure")),
        ("--max-lag", _num("max_lag", 30, "largest lag k measured")),
        ("--samples", _num("samples", 200, "swapped stretches per lag (signal)")),
        ("--positions", _num("positions", 2000, "targets of the context ablation (signal)")),
        ("--windows", _num("windows", 128, "windows, each with its own probe (mask-noise)")),
        ("--draws", _num("draws", 16, "mask draws per window (mask-noise)")),
        ("--warmup", _num("warmup", 35, "tokens read in evaluation mode before a window (mask-noise)")),
        ("--seed", _num("seed", 0)),
    ],
    cmd_grid: [
        ("--out", dict(default="results/ptb/grid", help="grid folder (one run folder per cell)")),
        ("--sizes", _num("hidden_size", nargs="+", help="hidden sizes (default: sweeps.GRID's)")),
        ("--rates", _num("dropout", nargs="+", help="dropout rates (default: sweeps.GRID's)")),
        ("--seeds", _num("seed", nargs="+", help="default: 1")),
        ("--no-ensemble", dict(_FLAG, help="skip the extra seeds used by the ensemble")),
        ("--inference", dict(_FLAG, help="weight scaling vs MC dropout vs ensemble -> inference.json")),
        ("--samples", _num("samples", 10, "MC-dropout passes for --inference")),
        *_LAUNCHER,
    ],
    cmd_zoo: [
        ("--budget", dict(choices=["small", "medium"], default="small", help="medium: 2 x 650 on all of PTB")),
        ("--schemes", dict(nargs="+", choices=SCHEMES, metavar="SCHEME", help="default: all (small budget)")),
        ("--seeds", _num("seed", nargs="+", help="default: 1")),
        ("--recurrent-dropout", _num("recurrent_dropout", nargs="+", metavar="R", help="zoneout: its c rate")),
        ("--out", dict(help="folder of the runs (default: results/ptb/zoo, zoo-tuned or zoo-medium)")),
        *_LAUNCHER,
    ],
    cmd_average: [
        _RUNS,
        ("--split", dict(choices=["valid", "test"], default="test")),
        ("--batch-size", _num("batch_size", help="default 1 on test (the paper's), else the first run's")),
        ("--out", dict(help="write the result as JSON here")),
        *_data(_TRAINED_ON),
    ],
    cmd_live: [
        ("--demo", dict(default="01_defaults", choices=sorted(DEMOS))),
        ("--seeds", _num("seed", [1, 2, 3], nargs="+", help="default: 1 2 3")),
        ("--out", dict(required=True, help="e.g. results/live/01_defaults.json")),
        *_data(),
    ],
    cmd_bench: [
        ("--shapes", dict(nargs="+", default=["small", "medium"], choices=["small", "medium", "large"])),
        ("--schemes", dict(nargs="+", default=list(SCHEMES), choices=SCHEMES, metavar="SCHEME", help="default: all")),
        ("--precisions", dict(nargs="+", default=list(PRECISIONS), choices=PRECISIONS)),
        ("--seconds", _num("seconds", 8.0, "timing budget per measurement (split over rounds)")),
        ("--rounds", _num("rounds", 5, "interleaved rounds; medians over them are reported")),
        ("--out", dict(help="write the results as JSON here")),
    ],
}


# --- Running a command -----------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser("python -m rnnreg", description=__doc__, allow_abbrev=False, formatter_class=raw)
    sub = parser.add_subparsers(dest="command", required=True)
    for func, options in COMMANDS.items():
        help = func.__doc__.splitlines()[0]
        p = sub.add_parser(func.__name__.removeprefix("cmd_"), allow_abbrev=False, help=help, description=help)
        p.set_defaults(func=func)
        for flag, kwargs in options:
            p.add_argument(flag, **kwargs)
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    args.command_line = "python -m rnnreg " + shlex.join(argv)
    # kill (SIGTERM) and kill -INT stop a command as Ctrl-C does, also one started in the background (nohup
    # ... &: SIGINT ignored). Only the main thread may set handlers.
    stops = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: _interrupt}
    main_thread = threading.current_thread() is threading.main_thread()
    before = {s: signal.signal(s, handler) for s, handler in stops.items() if main_thread}
    try:
        return args.func(args)
    except KeyboardInterrupt as exc:  # train's Interrupted says which epoch is saved and how to resume
        _print(f"interrupted: {exc}" if str(exc) else "interrupted")
        return 130
    except (*USER_ERRORS, OSError) as exc:  # OSError: disk full, read-only, permissions: the file and the reason
        _print(f"error: {_os_error(exc, args) if isinstance(exc, OSError) else exc}")
        return 2
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _os_error(exc: OSError, args: argparse.Namespace) -> str:
    what = exc.strerror or str(exc) or type(exc).__name__
    if exc.errno == errno.ENOSPC:
        what += " (free some space, then run the same command again: training resumes from its checkpoint)"
    elif exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        option = "--out" if "out" in vars(args) else "--to" if "to" in vars(args) else None
        # measure writes beside the run: it has no --out
        what += f" (write somewhere else, e.g. another {option})" if option else " (make the run folder writable)"
    return f"{exc.filename}: {what}" if exc.filename else what


if __name__ == "__main__":
    sys.exit(main())
