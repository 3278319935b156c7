"""Command line: ``python -m rnnreg train | evaluate | record | measure | grid | zoo | average | live | bench``.

Examples::

    python -m rnnreg train --preset small --out results/ptb/small            # Table 1, small
    python -m rnnreg train --preset small --epochs 1 --max-train-tokens 300000 --out runs/quick
    python -m rnnreg train --preset medium --device cuda --out results/ptb/medium
    python -m rnnreg evaluate results/ptb/small
    python -m rnnreg record /work/runs/ptb/medium --to results/ptb/medium    # a long run's progress, for git
    python -m rnnreg grid --out results/ptb/grid                              # chapter 04
    python -m rnnreg zoo --seeds 1 2                                          # chapter 05's scheme zoo
    python -m rnnreg zoo --schemes variational --recurrent-dropout 0.1 0.25   # its tuned recurrent rates
    python -m rnnreg average results/ptb/small results/ptb/small-seed2 --out results/ptb/averaging/small.json
    python -m rnnreg live --seeds 1 2 3 --out results/live/01_defaults.json   # chapter 01's demo, 3 seeds
    python -m rnnreg bench --out results/bench/cpu.json

An interrupted ``train`` resumes from the run folder's last checkpoint when run again with
the same options. ``evaluate``, ``measure`` and ``average`` use the corpus a run was trained on
(recorded in the run folder, read with ``--unk`` if the run was) unless ``--data`` says otherwise,
name it when it has moved, and refuse a corpus with another vocabulary. Numeric options are checked
as the command line is read. Errors end in one line ``error: ...`` on stderr and exit status 2
(130 for Ctrl-C).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import errno
import json
import math
import shlex
import signal
import sys
import threading
import warnings
from pathlib import Path

try:  # Ctrl-C while torch loads (a second or two): one line and exit 130, not the import machinery's traceback
    from .config import DECAY_STARTS, MAX_SEED, PRECISIONS, PRESETS, Config
    from .data import Corpus, DataError, load_corpus, sha256, split_files
    from .live import DEMOS
    from .model import SCHEMES
    from .runfolder import (
        CheckpointMismatchError,
        RunFolderError,
        check_run_folder,
        corpus_files,
        load_run_model,
        record,
        recorded_corpus,
        write_json,
    )
    from .train import NonFiniteLossError, evaluate, require_tokens, resolve_device
except KeyboardInterrupt:
    if __name__ != "__main__":
        raise
    print("interrupted", file=sys.stderr)
    sys.exit(130)

#: The errors a command reports as one line (exit 2) instead of a traceback.
USER_ERRORS = (DataError, ValueError, CheckpointMismatchError, NonFiniteLossError, RunFolderError)


def number(low: float, high: float = math.inf, integer: bool = True):
    """An argparse ``type``: a finite number (an integer if ``integer``) from ``low`` to ``high``, refused
    as the command line is read, before any corpus or model loads (argparse names the option, exit 2)."""

    def parse(text: str):
        try:
            value = int(text) if integer else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if integer else 'a number'}") from None
        if not (math.isfinite(value) and low <= value <= high):
            bound = f"from {low} to {high}" if high < math.inf else f"at least {low}"
            raise argparse.ArgumentTypeError(
                f"must be {'an integer' if integer else 'a finite number'} {bound}, got {text}"
            )
        return value

    return parse


def _add_config_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", choices=list(PRESETS), default="small", help="the paper's configuration to start from")
    p.add_argument("--scheme", choices=SCHEMES, help="where dropout goes")
    p.add_argument("--dropout", type=float, help="rate on non-recurrent connections")
    p.add_argument("--recurrent-dropout", type=float, help="rate on h, c or W_hh (default: --dropout)")
    p.add_argument("--zoneout-h", type=float)
    p.add_argument("--zoneout-c", type=float)
    p.add_argument("--hidden-size", type=int)
    p.add_argument("--num-layers", type=int)
    p.add_argument("--steps", type=int, help="truncated-BPTT window length")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--init-scale", type=float)
    p.add_argument("--lr", type=float)
    p.add_argument("--lr-decay", type=float, help="divisor applied each epoch once decay starts")
    p.add_argument("--decay-after", type=int, help="the paper's max_epoch")
    p.add_argument(
        "--decay-start",
        choices=DECAY_STARTS,
        help="'code' (authors' Lua, default) or 'text' (paper text / TensorFlow: one epoch earlier)",
    )
    p.add_argument("--epochs", type=int)
    p.add_argument("--clip", type=float, help="gradient-norm clip at the paper's loss scale")
    p.add_argument("--max-train-tokens", type=int, help="train on the first N tokens only (quick runs)")
    p.add_argument("--tie-weights", action="store_true", default=None)
    p.add_argument("--seed", type=int)
    p.add_argument("--device", help="auto (default), cpu, cuda, cuda:1 ...")
    p.add_argument("--precision", choices=PRECISIONS, help="fp32 (default) or bf16 autocast")
    p.add_argument(
        "--compile",
        action="store_true",
        default=None,
        help="torch.compile the training step's forward and loss (tens of seconds to compile)",
    )


def _add_data_options(p: argparse.ArgumentParser, default: str = "$RNNREG_DATA, then the user cache") -> None:
    p.add_argument("--data", help=f"corpus folder (default: {default})")
    p.add_argument("--offline", action="store_true", help="never download the corpus (same as RNNREG_OFFLINE=1)")
    p.add_argument(
        "--unk", action="store_true", help="map valid/test words that are not in train to <unk> (default: refuse them)"
    )


def load_corpus_from_args(args: argparse.Namespace, folder: str | None = None, unk: bool = False) -> Corpus:
    """The corpus ``--data`` (or ``folder``) names, with ``--offline`` and ``--unk`` (or ``unk``); its notes
    on stderr, each once (the library also warns of some)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        corpus = load_corpus(
            folder if folder is not None else args.data,
            download=False if args.offline else None,
            unknown="unk" if args.unk or unk else "error",
        )
    notes = corpus.notes + [str(w.message) for w in caught if str(w.message) not in corpus.notes]
    for note in notes:
        print(f"rnnreg: note: {note}", file=sys.stderr)
    return corpus


def _overrides(args: argparse.Namespace) -> dict:
    fields = {f.name for f in dataclasses.fields(Config)} - {"preset"}
    return {k: v for k, v in vars(args).items() if k in fields and v is not None}


def cmd_train(args: argparse.Namespace) -> int:
    from .analysis.schemes import unused_option_warnings
    from .train import train

    config = Config.from_preset(args.preset, **_overrides(args))
    for warning in unused_option_warnings(config, _overrides(args)):
        print(f"rnnreg: warning: {warning}", file=sys.stderr)
    out = args.out or f"runs/{config.preset}-{config.scheme}-seed{config.seed}"
    corpus = load_corpus_from_args(args)
    result = train(config, corpus, out, progress=not args.quiet, command=args.command_line, callbacks=[_print_epoch])
    print(json.dumps({k: result.summary[k] for k in ("valid_ppl", "test_ppl", "wall_s")}, indent=2))
    print(f"run folder: {out}")
    return 0


@contextlib.contextmanager
def _stop_like_ctrl_c():
    """``kill`` (SIGTERM) and ``kill -INT`` stop a command as Ctrl-C does: a training run says which
    epoch its checkpoint holds, exit 130. A command started in the background (``nohup ... &``)
    inherits an ignored SIGINT, and SIGTERM would otherwise end it without a word."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    before = signal.signal(signal.SIGINT, signal.default_int_handler), signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before[0])
        signal.signal(signal.SIGTERM, before[1])


def _print_epoch(event: dict) -> None:
    if event["event"] == "epoch":
        print(
            f"epoch {event['epoch']:3d}  lr {event['lr']:.4g}  train {event['train_ppl']:8.2f}  "
            f"valid {event['valid_ppl']:8.2f}  {event['tokens_per_s']:7.0f} tok/s  {event['epoch_s']:6.0f} s",
            flush=True,
        )


def corpus_for_runs(args: argparse.Namespace, runs) -> Corpus:
    """``--data`` if given, else the corpus folder the runs recorded; PTB (or an older run that recorded
    none) by the usual lookup (RNNREG_DATA, then the user cache). Split files identical to those a run
    trained on are read with ``--unk``: the same ids whether or not it was trained with it. The runs'
    fingerprints are checked later (:func:`rnnreg.runfolder.load_run_model`)."""
    for run in runs:  # a wrong run folder is said before any corpus is loaded (or downloaded)
        check_run_folder(Path(run))
    run, recorded = next(((r, c) for r in runs if (c := recorded_corpus(r))), (None, {}))
    folder = args.data
    if folder is None and recorded.get("folder"):
        if split_files(Path(recorded["folder"])):
            folder = recorded["folder"]
            print(f"rnnreg: corpus {folder} (the one {run} was trained on)", file=sys.stderr)
        elif not (recorded.get("files") or {}).get("train", "ptb.").startswith("ptb."):  # its own corpus, moved
            raise DataError(
                f"{run} was trained on {recorded['folder']}, which no longer holds a corpus; "
                "pass --data with that corpus"
            )
    files = split_files(Path(folder)) if folder is not None else None
    same_files = bool(files) and recorded.get("file_sha256") == {s: sha256(f) for s, f in files.items()}
    return load_corpus_from_args(args, folder, unk=same_files)


def cmd_evaluate(args: argparse.Namespace) -> int:
    corpus = corpus_for_runs(args, [args.run])
    model, config, epoch = load_run_model(Path(args.run), corpus=corpus)
    require_tokens(corpus, "valid", config.batch_size, "evaluating the valid split")
    require_tokens(corpus, "test", 1, "evaluating the test split")
    try:
        device = resolve_device(args.device or config.device)
    except ValueError as exc:
        if args.device:
            raise
        print(f"rnnreg: {exc}; the run trained on {config.device!r}, evaluating on 'auto'", file=sys.stderr)
        device = resolve_device("auto")
    model.to(device)
    result = {
        "epoch": epoch,
        "valid_ppl": round(evaluate(model, corpus.valid, config.batch_size, config.steps, device), 3),
        "test_ppl": round(evaluate(model, corpus.test, 1, config.steps, device), 3),
    }
    print(json.dumps(result, indent=2))
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    for path in record(args.run, args.to):
        print(path)
    return 0


SWAP_WARMUP, LONGEST_CONTEXT = 20, 50  # swap_sensitivity's stretches, context_ablation's longest context


def _require_measure_tokens(args: argparse.Namespace, corpus: Corpus) -> None:
    needs = [(0, "")]
    if "signal" in args.what:
        needs += [
            (
                SWAP_WARMUP + args.max_lag + 2,
                f"--max-lag {args.max_lag} (stretches of {SWAP_WARMUP} + max-lag + 1 tokens)",
            ),
            (LONGEST_CONTEXT + 2, f"the context ablation (contexts up to {LONGEST_CONTEXT} tokens)"),
        ]
    if "mask-noise" in args.what:
        needs.append((args.warmup + args.max_lag + 1, f"--warmup {args.warmup} with --max-lag {args.max_lag}"))
    need, why = max(needs)
    if len(corpus.valid) < need:
        file = (corpus_files(corpus) or {}).get("valid", corpus.source)
        raise DataError(f"the valid split ({file}) has {len(corpus.valid)} tokens; {why} needs at least {need}")


def cmd_measure(args: argparse.Namespace) -> int:
    """Chapter 03's measurements of trained models, written beside each run: signal.json (swap
    sensitivity and context ablation) and/or mask_noise.json (signal vs mask noise in dh/dx)."""
    import time

    from .analysis.signal import context_ablation, mask_noise, swap_sensitivity
    from .analysis.zoo import recurrent_rate

    corpus = corpus_for_runs(args, args.runs)
    _require_measure_tokens(args, corpus)
    for run in map(Path, args.runs):
        model, config, epoch = load_run_model(run, corpus=corpus)
        about = {"run": str(run), "scheme": config.scheme, "epoch": epoch, "split": "valid"}
        if "signal" in args.what:
            start = time.perf_counter()
            result = dict(about)
            for masks in (False, True):
                r = swap_sensitivity(
                    model, corpus.valid, args.max_lag, args.samples, SWAP_WARMUP, masks=masks, seed=args.seed
                )
                result["swap_masks" if masks else "swap_eval"] = {k: v.tolist() for k, v in r.items()}
            r = context_ablation(model, corpus.valid, positions=args.positions, seed=args.seed)
            result["context_ablation"] = {k: v.tolist() for k, v in r.items()}
            result["provenance"] = _provenance(args, start)
            write_json(run / "signal.json", result, indent=1)
            print(f"{run}: written signal.json ({result['provenance']['wall_s']:.0f} s)", flush=True)
        if "mask-noise" in args.what:
            start = time.perf_counter()
            r = mask_noise(model, corpus.valid, args.max_lag, args.windows, args.draws, args.warmup, seed=args.seed)
            result = {
                **about,
                "mode": "training",
                "dropout": model.dropout,
                "recurrent_rate": recurrent_rate(config.to_dict(), no_site=0.0),
                **{k: getattr(model, k) for k in ("recurrent_dropout", "zoneout_h", "zoneout_c")},
                "seed": config.seed,
                **{k: getattr(args, k) for k in ("windows", "draws", "warmup")},
                "probe": "rademacher",
                "start_state": "evaluation-mode state after reading the warmup tokens before each window",
                "measure_seed": args.seed,
                **r.as_dict(),
                "provenance": _provenance(args, start),
            }
            write_json(run / "mask_noise.json", result, indent=1)
            print(f"{run}: written mask_noise.json ({result['provenance']['wall_s']:.0f} s)", flush=True)
    return 0


def _provenance(args: argparse.Namespace, start: float) -> dict:
    import time

    from .runfolder import provenance

    return {**provenance(args.command_line, "cpu"), "wall_s": time.perf_counter() - start}


def _write_json(path: str, result: dict) -> None:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json(out, result, indent=1)
    print(f"written {out}")


def _add_launcher_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--launcher",
        choices=["local", "slurm"],
        default="local",
        help="submitit's executor: local (this machine, one job per --cpus cores at a time) or slurm",
    )
    p.add_argument("--partition", help="SLURM partition")
    p.add_argument(
        "--time", type=number(1), metavar="MINUTES", help="time limit of each job (default: a day on SLURM; none here)"
    )
    p.add_argument("--cpus", type=number(1), default=1, help="CPUs of each job, its training threads (default: 1)")
    p.add_argument(
        "--logs",
        default="runs/submitit",
        help="submitit's folder for the jobs' output (on SLURM: one the nodes share; default %(default)s)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print the train command of each run not yet complete (and SLURM's parameters); run nothing",
    )
    _add_data_options(p)


def _data_argv(args: argparse.Namespace) -> list[str]:
    return ([] if args.data is None else ["--data", args.data]) + ["--offline"] * args.offline + ["--unk"] * args.unk


def _launch(args: argparse.Namespace, runs, name: str) -> int:
    """Send the runs not yet complete out as one job each (:func:`rnnreg.sweeps.launch`)."""
    from .sweeps import executor_parameters, launch

    executor_parameters(args.launcher, args.partition, args.time, args.cpus)  # wrong options: said first
    if not args.dry_run and not all(run.finished() for run in runs):
        load_corpus_from_args(args)  # found (or downloaded) once, here, before any job starts
    try:
        _, failed = launch(
            runs,
            args.launcher,
            args.logs,
            args.partition,
            args.time,
            args.cpus,
            dry_run=args.dry_run,
            name=name,
            log=lambda line: print(line, flush=True),
        )
    except ImportError as exc:  # submitit is not installed
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if failed:
        print(
            f"error: {len(failed)} of the runs failed ({', '.join(run.folder for run in failed)}); their output "
            "is named above",
            file=sys.stderr,
        )
        return 2
    return 0


def cmd_grid(args: argparse.Namespace) -> int:
    """Chapter 04's grid (hidden size x dropout), one ``train`` job per cell (:mod:`rnnreg.sweeps`); or,
    with ``--inference``, the inference comparison on the trained grid."""
    import time

    from .sweeps import grid_cells, grid_runs

    if args.inference:
        from .analysis.equivalence import inference_comparison

        corpus = load_corpus_from_args(args)
        start = time.perf_counter()
        result = inference_comparison(args.out, corpus, samples=args.samples)
        result["provenance"] = _provenance(args, start)
        _write_json(str(Path(args.out) / "inference.json"), result)
        return 0
    cells = grid_cells(args.sizes, args.rates, args.seeds, ensemble=not args.no_ensemble)
    return _launch(args, grid_runs(args.out, cells, _data_argv(args)), "rnnreg-grid")


def cmd_zoo(args: argparse.Namespace) -> int:
    """Chapter 05's scheme zoo at one budget (``rnnreg.sweeps.BUDGETS``), one ``train`` job per run (so
    its summary records that command): finished runs skipped, started ones resumed from their checkpoint."""
    from .sweeps import MEDIUM, zoo_runs

    medium = args.budget == "medium"
    schemes = args.schemes or (MEDIUM["schemes"] if medium else SCHEMES)
    rates = args.recurrent_dropout or (MEDIUM["rates"] if medium else None)
    seeds = args.seeds or (MEDIUM["seeds"] if medium else (1,))
    runs = zoo_runs(schemes, seeds, rates, args.out, args.budget, _data_argv(args))
    return _launch(args, runs, f"rnnreg-zoo-{args.budget}")


def distinct_members(runs) -> None:
    """Refuse a missing run folder, or a member given twice: the same folder (another spelling too) or a
    copy of its checkpoint."""
    checkpoints, seen = [check_run_folder(Path(run)) for run in runs], {}
    for run, checkpoint in zip(runs, checkpoints):
        for key, how in (
            (Path(run).resolve(), "the same run folder"),
            (sha256(checkpoint), "the same checkpoint (a copy?)"),
        ):
            if key in seen:
                raise ValueError(f"{seen[key]} and {run} are {how}: give each member of the average once")
            seen[key] = run


def cmd_average(args: argparse.Namespace) -> int:
    """Probability averaging of several runs (Table 1's model averaging), on valid or test. Every member
    reads the tokens in one layout (batch size and window), so that the probabilities averaged are of the
    same tokens: ``--batch-size`` (default 1 on test, the paper's protocol, else the first member's) and
    the first member's steps."""
    import time

    from .analysis.averaging import averaged_perplexity, running_averages, target_log_probs

    start = time.perf_counter()
    distinct_members(args.runs)
    corpus = corpus_for_runs(args, args.runs)
    ids = getattr(corpus, args.split)
    members, log_probs, layout = [], [], {}
    for run in args.runs:
        model, config, epoch = load_run_model(Path(run), corpus=corpus)
        if not layout:
            layout = {
                "batch_size": args.batch_size or (1 if args.split == "test" else config.batch_size),
                "steps": config.steps,
            }
            require_tokens(corpus, args.split, layout["batch_size"], f"averaging on the {args.split} split")
        log_probs.append(target_log_probs(model, ids, layout["batch_size"], layout["steps"]))
        about = {k: getattr(config, k) for k in ("seed", "scheme", "dropout", "precision")}
        members.append({"run": run, "epoch": epoch, **about, "ppl": averaged_perplexity(log_probs[-1])})
        print(f"{run}: {members[-1]['ppl']:.2f}", flush=True)
    result = {
        "split": args.split,
        **layout,
        "members": members,
        "average_ppl": running_averages(log_probs),
        "note": "average_ppl[k-1] averages the probabilities of the first k members; every member "
        "evaluated with batch_size and steps",
    }
    result["provenance"] = _provenance(args, start)
    print("averaged:", " ".join(f"{v:.2f}" for v in result["average_ppl"]))
    if args.out:
        _write_json(args.out, result)
    return 0


def cmd_live(args: argparse.Namespace) -> int:
    """A live demo's settings over several seeds: does the point it shows hold beyond one seed?"""
    import time

    from .live import seed_sweep

    start = time.perf_counter()
    corpus = load_corpus_from_args(args)
    sweep = seed_sweep(corpus, seeds=args.seeds, **DEMOS[args.demo])
    sweep["demo"] = args.demo
    for run in sweep["runs"]:
        print(f"seed {run['seed']} {run['label']}: valid " + " ".join(f"{v:.1f}" for v in run["valid"]), flush=True)
    print(
        f"wall seconds per seed ({sweep['workers']} runs at a time): "
        + ", ".join(f"seed {k}: {v:.0f}" for k, v in sweep["seconds"].items())
    )
    sweep["provenance"] = _provenance(args, start)
    _write_json(args.out, sweep)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import run_bench

    options = ("shapes", "schemes", "seconds", "out", "precisions", "compile", "rounds")
    run_bench(**{k: getattr(args, k) for k in options}, command=args.command_line)
    return 0


def _command(sub, name: str, func, help: str) -> argparse.ArgumentParser:
    p = sub.add_parser(name, allow_abbrev=False, help=help)
    p.set_defaults(func=func)
    return p


def _add_train(sub) -> None:
    p = _command(sub, "train", cmd_train, "train a model (resumes from the run folder's checkpoint)")
    _add_config_options(p)
    p.add_argument("--out", help="run folder (default runs/<preset>-<scheme>-seed<seed>)")
    _add_data_options(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_evaluate_record(sub) -> None:
    p = _command(sub, "evaluate", cmd_evaluate, "valid and test perplexity of a run folder's checkpoint")
    p.add_argument("run", help="run folder")
    _add_data_options(p, "the corpus the run was trained on")
    p.add_argument("--device")
    p = _command(
        sub,
        "record",
        cmd_record,
        "copy a run folder's config, log and summary (or progress.json while it trains) into "
        "results/, without the checkpoint",
    )
    p.add_argument("run", help="run folder")
    p.add_argument("--to", required=True, help="folder to record it in, e.g. results/ptb/medium")


def _add_measure(sub) -> None:
    p = _command(
        sub, "measure", cmd_measure, "chapter 03: lag sensitivity, context ablation and mask noise of trained runs"
    )
    p.add_argument("runs", nargs="+", help="run folders with a checkpoint")
    _add_data_options(p, "the corpus the runs were trained on")
    p.add_argument(
        "--what",
        nargs="+",
        choices=["signal", "mask-noise"],
        default=["signal"],
        help="signal: signal.json (swap sensitivity, context ablation; the default); "
        "mask-noise: mask_noise.json (signal vs mask noise in dh_t/dx_(t-k), training mode)",
    )
    p.add_argument("--max-lag", type=number(0), default=30, help="largest lag k measured")
    p.add_argument("--samples", type=number(1), default=200, help="swapped stretches per lag (signal)")
    p.add_argument("--positions", type=number(1), default=2000, help="targets of the context ablation (signal)")
    p.add_argument(
        "--windows",
        type=number(2),
        default=128,
        help="windows, each with its own probe (mask-noise; two or more for a standard error)",
    )
    p.add_argument("--draws", type=number(2), default=16, help="mask draws per window (mask-noise)")
    p.add_argument(
        "--warmup", type=number(0), default=35, help="tokens read in evaluation mode before a window (mask-noise)"
    )
    p.add_argument("--seed", type=number(0, MAX_SEED), default=0)


def _add_grid_zoo(sub) -> None:
    p = _command(
        sub,
        "grid",
        cmd_grid,
        "chapter 04: hidden size x dropout grid, one train job per cell (local or SLURM); or --inference",
    )
    p.add_argument("--out", default="results/ptb/grid", help="grid folder (one run folder per cell)")
    p.add_argument("--sizes", nargs="+", type=int)
    p.add_argument("--rates", nargs="+", type=float)
    p.add_argument("--seeds", nargs="+", type=int)
    p.add_argument("--no-ensemble", action="store_true", help="skip the extra seeds used by the ensemble")
    p.add_argument(
        "--inference",
        action="store_true",
        help="instead of training: weight scaling vs MC dropout vs ensemble -> inference.json",
    )
    p.add_argument("--samples", type=number(1), default=10, help="MC-dropout passes for --inference")
    _add_launcher_options(p)
    p = _command(sub, "zoo", cmd_zoo, "chapter 05: every scheme at one budget, one train job per run (local or SLURM)")
    p.add_argument(
        "--budget",
        choices=["small", "medium"],
        default="small",
        help="small: chapter 05's zoo; medium: the paper's 2 x 650 recipe on all of PTB, by default "
        "for variational, everywhere, weight_drop and memory at recurrent rate 0.1 "
        "(results/ptb/zoo-medium)",
    )
    p.add_argument("--schemes", nargs="+", choices=SCHEMES, help="default: every scheme (small), see --budget")
    p.add_argument("--seeds", nargs="+", type=int, help="default: 1")
    p.add_argument(
        "--recurrent-dropout",
        nargs="+",
        type=float,
        metavar="R",
        help="recurrent rates to train (zoneout: its c rate); default: the untuned budget",
    )
    p.add_argument(
        "--out",
        help="folder of the runs (default: results/ptb/zoo untuned, results/ptb/zoo-tuned "
        "tuned, results/ptb/zoo-medium at the medium budget)",
    )
    _add_launcher_options(p)


def _add_average_live(sub) -> None:
    p = _command(sub, "average", cmd_average, "perplexity of the probability average of several runs")
    p.add_argument("runs", nargs="+", help="run folders with a checkpoint")
    p.add_argument("--split", choices=["valid", "test"], default="test")
    p.add_argument(
        "--batch-size",
        type=number(1),
        help="one for every member: default 1 on test (the paper's protocol), else the first run's",
    )
    p.add_argument("--out", help="write the result as JSON here")
    _add_data_options(p, "the corpus the runs were trained on")
    p = _command(sub, "live", cmd_live, "a chapter's live demo (its default settings) over several seeds, as JSON")
    p.add_argument(
        "--demo",
        default="01_defaults",
        choices=sorted(DEMOS),
        help="which demo (rnnreg.live.DEMOS; default: chapter 01's)",
    )
    p.add_argument("--seeds", nargs="+", type=number(0, MAX_SEED), default=[1, 2, 3])
    p.add_argument("--out", required=True, help="write the sweep as JSON here (e.g. results/live/01_defaults.json)")
    _add_data_options(p)


def _add_bench(sub) -> None:
    p = _command(sub, "bench", cmd_bench, "training tokens/s of every scheme against a plain PyTorch reference")
    p.add_argument("--shapes", nargs="+", default=["small", "medium"], choices=["small", "medium", "large"])
    p.add_argument("--schemes", nargs="+", default=list(SCHEMES), choices=SCHEMES)
    p.add_argument("--precisions", nargs="+", default=["fp32", "bf16"], choices=PRECISIONS)
    p.add_argument(
        "--seconds",
        type=number(0.001, integer=False),
        default=8.0,
        help="timing budget per measurement (split over rounds)",
    )
    p.add_argument("--rounds", type=number(1), default=5, help="interleaved rounds; medians over them are reported")
    p.add_argument("--compile", action="store_true", help="add torch.compile'd rows for the fused schemes")
    p.add_argument("--out", help="write the results as JSON here")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rnnreg",
        description=__doc__,
        allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_add_train, _add_evaluate_record, _add_measure, _add_grid_zoo, _add_average_live, _add_bench):
        add(sub)
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    args.command_line = "python -m rnnreg " + shlex.join(argv)
    try:
        with _stop_like_ctrl_c():
            return args.func(args)
    except KeyboardInterrupt as exc:  # train's Interrupted says which epoch is saved and how to resume
        print(f"interrupted: {exc}" if str(exc) else "interrupted", file=sys.stderr)
        return 130
    except USER_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # disk full, read-only, permissions: the file and the reason, no traceback
        print(f"error: {_os_error(exc, args)}", file=sys.stderr)
        return 2


def _os_error(exc: OSError, args: argparse.Namespace) -> str:
    what = exc.strerror or str(exc) or type(exc).__name__
    if exc.errno == errno.ENOSPC:
        what += " (free some space, then run the same command again: training resumes from its checkpoint)"
    elif exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        option = "--out" if "out" in vars(args) else "--to" if "to" in vars(args) else None
        what += (
            f" (write somewhere else, e.g. another {option})"
            if option
            # measure writes beside the run
            else " (make the run folder writable, or copy it somewhere writable and measure the copy)"
        )
    return f"{exc.filename}: {what}" if exc.filename else what


if __name__ == "__main__":
    sys.exit(main())
