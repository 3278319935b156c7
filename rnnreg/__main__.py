"""Command line: ``python -m rnnreg train | evaluate | measure | grid | average | bench``.

Examples::

    python -m rnnreg train --preset small --out results/ptb/small            # Table 1, small
    python -m rnnreg train --preset small --epochs 1 --max-train-tokens 300000 --out runs/quick
    python -m rnnreg train --preset medium --device cuda --out results/ptb/medium
    python -m rnnreg evaluate results/ptb/small
    python -m rnnreg grid --out results/ptb/grid                              # chapter 04
    python -m rnnreg average results/ptb/small results/ptb/small-seed2 --out results/ptb/averaging/small.json
    python -m rnnreg bench --out results/bench/cpu.json

An interrupted ``train`` resumes from the run folder's last checkpoint when run again with
the same options.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys
from pathlib import Path

from .data import DataError, load_corpus
from .model import SCHEMES
from .train import (DECAY_STARTS, PRECISIONS, PRESETS, CheckpointMismatchError, Config, NonFiniteLossError,
                    RunFolderBusyError, evaluate, load_run_model, resolve_device)


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
    p.add_argument("--decay-start", choices=DECAY_STARTS,
                   help="'code' (authors' Lua, default) or 'text' (paper text / TensorFlow: one epoch earlier)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--clip", type=float, help="gradient-norm clip at the paper's loss scale")
    p.add_argument("--max-train-tokens", type=int, help="train on the first N tokens only (quick runs)")
    p.add_argument("--tie-weights", action="store_true", default=None)
    p.add_argument("--seed", type=int)
    p.add_argument("--device", help="auto (default), cpu, cuda, cuda:1 ...")
    p.add_argument("--precision", choices=PRECISIONS, help="fp32 (default) or bf16 autocast")
    p.add_argument("--compile", action="store_true", default=None,
                   help="torch.compile the training step (slow first step; falls back to eager)")


def config_from_args(args: argparse.Namespace) -> Config:
    fields = {f.name for f in dataclasses.fields(Config)} - {"preset"}
    overrides = {k: v for k, v in vars(args).items() if k in fields and v is not None}
    return Config.preset(args.preset, **overrides)


def cmd_train(args: argparse.Namespace) -> int:
    from .train import train

    config = config_from_args(args)
    out = args.out or f"runs/{config.preset}-{config.scheme}-seed{config.seed}"
    corpus = load_corpus(args.data)
    result = train(config, corpus, out, progress=not args.quiet, command=args.command_line,
                   callbacks=[_print_epoch])
    print(json.dumps({k: result.summary[k] for k in ("valid_ppl", "test_ppl", "wall_s")}, indent=2))
    print(f"run folder: {out}")
    return 0


def _print_epoch(event: dict) -> None:
    if event["event"] == "epoch":
        print(f"epoch {event['epoch']:3d}  lr {event['lr']:.4g}  train {event['train_ppl']:8.2f}  "
              f"valid {event['valid_ppl']:8.2f}  {event['tokens_per_s']:7.0f} tok/s  {event['epoch_s']:6.0f} s",
              flush=True)


def cmd_evaluate(args: argparse.Namespace) -> int:
    corpus = load_corpus(args.data)
    model, config, epoch = load_run_model(Path(args.run), len(corpus.vocab))
    device = resolve_device(args.device or config.device)
    model.to(device)
    result = {"epoch": epoch,
              "valid_ppl": round(evaluate(model, corpus.valid, config.batch_size, config.steps, device), 3),
              "test_ppl": round(evaluate(model, corpus.test, 1, config.steps, device), 3)}
    print(json.dumps(result, indent=2))
    return 0


def cmd_measure(args: argparse.Namespace) -> int:
    """Chapter 03's measurements of trained models, written beside each run as signal.json."""
    import time

    from .signal import context_ablation, swap_sensitivity

    corpus = load_corpus(args.data)
    for run in map(Path, args.runs):
        start = time.perf_counter()
        model, config, epoch = load_run_model(run, len(corpus.vocab))
        result = {"run": str(run), "scheme": config.scheme, "epoch": epoch, "split": "valid"}
        for masks in (False, True):
            r = swap_sensitivity(model, corpus.valid, args.max_lag, args.samples, masks=masks, seed=args.seed)
            result["swap_masks" if masks else "swap_eval"] = {k: v.tolist() for k, v in r.items()}
        r = context_ablation(model, corpus.valid, positions=args.positions, seed=args.seed)
        result["context_ablation"] = {k: v.tolist() for k, v in r.items()}
        result["provenance"] = _provenance(args, start)
        (run / "signal.json").write_text(json.dumps(result, indent=1) + "\n")
        print(f"{run}: written signal.json ({result['provenance']['wall_s']:.0f} s)", flush=True)
    return 0


def _provenance(args: argparse.Namespace, start: float) -> dict:
    import time

    import torch

    from .train import git_commit, machine_description

    return {"command": args.command_line, "git_commit": git_commit(), "torch": torch.__version__,
            "device": machine_description(torch.device("cpu")), "wall_s": time.perf_counter() - start,
            "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def _write_json(path: str, result: dict) -> None:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    tmp.replace(out)
    print(f"written {out}")


def cmd_grid(args: argparse.Namespace) -> int:
    """Chapter 04's grid (hidden size x dropout), one resumable run per cell; then the inference comparison."""
    import time

    from .equivalence import grid_cells, inference_comparison, run_grid

    corpus = load_corpus(args.data)
    if args.inference:
        start = time.perf_counter()
        result = inference_comparison(args.out, corpus, samples=args.samples)
        result["provenance"] = _provenance(args, start)
        _write_json(str(Path(args.out) / "inference.json"), result)
        return 0
    cells = grid_cells(args.sizes, args.rates, args.seeds, ensemble=not args.no_ensemble)
    run_grid(args.out, cells, corpus, command=args.command_line, log=lambda line: print(line, flush=True))
    return 0


def cmd_average(args: argparse.Namespace) -> int:
    """Probability averaging of several runs (Table 1's model averaging), on valid or test."""
    import time

    from .averaging import averaged_perplexity, running_averages, target_log_probs

    start = time.perf_counter()
    corpus = load_corpus(args.data)
    ids = getattr(corpus, args.split)
    members, log_probs = [], []
    for run in args.runs:
        model, config, epoch = load_run_model(Path(run), len(corpus.vocab))
        batch = args.batch_size or (1 if args.split == "test" else config.batch_size)
        log_probs.append(target_log_probs(model, ids, batch, config.steps))
        members.append({"run": run, "epoch": epoch, "seed": config.seed, "scheme": config.scheme,
                        "dropout": config.dropout, "precision": config.precision,
                        "ppl": averaged_perplexity(log_probs[-1])})
        print(f"{run}: {members[-1]['ppl']:.2f}", flush=True)
    result = {"split": args.split, "batch_size": batch, "steps": config.steps, "members": members,
              "average_ppl": running_averages(log_probs),
              "note": "average_ppl[k-1] averages the probabilities of the first k members"}
    result["provenance"] = _provenance(args, start)
    print("averaged:", " ".join(f"{v:.2f}" for v in result["average_ppl"]))
    if args.out:
        _write_json(args.out, result)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import run_bench

    run_bench(shapes=args.shapes, schemes=args.schemes, seconds=args.seconds, out=args.out,
              precisions=args.precisions, compile=args.compile, rounds=args.rounds, command=args.command_line)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnreg", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train a model (resumes from the run folder's checkpoint)")
    _add_config_options(p)
    p.add_argument("--out", help="run folder (default runs/<preset>-<scheme>-seed<seed>)")
    p.add_argument("--data", help="corpus folder (default: $RNNREG_DATA, then the user cache)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="valid and test perplexity of a run folder's checkpoint")
    p.add_argument("run", help="run folder")
    p.add_argument("--data")
    p.add_argument("--device")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("measure", help="chapter 03: lag sensitivity and context ablation of trained runs")
    p.add_argument("runs", nargs="+", help="run folders with a checkpoint")
    p.add_argument("--data")
    p.add_argument("--max-lag", type=int, default=30)
    p.add_argument("--samples", type=int, default=200)
    p.add_argument("--positions", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_measure)

    p = sub.add_parser("grid", help="chapter 04: hidden size x dropout grid (resumable; start one runner per free core), or --inference")
    p.add_argument("--out", default="results/ptb/grid", help="grid folder (one run folder per cell)")
    p.add_argument("--sizes", nargs="+", type=int)
    p.add_argument("--rates", nargs="+", type=float)
    p.add_argument("--seeds", nargs="+", type=int)
    p.add_argument("--no-ensemble", action="store_true", help="skip the extra seeds used by the ensemble")
    p.add_argument("--inference", action="store_true",
                   help="instead of training: weight scaling vs MC dropout vs ensemble -> inference.json")
    p.add_argument("--samples", type=int, default=10, help="MC-dropout passes for --inference")
    p.add_argument("--data")
    p.set_defaults(func=cmd_grid)

    p = sub.add_parser("average", help="perplexity of the probability average of several runs")
    p.add_argument("runs", nargs="+", help="run folders with a checkpoint")
    p.add_argument("--split", choices=["valid", "test"], default="test")
    p.add_argument("--batch-size", type=int, help="default: 1 on test (the paper's protocol), else the run's")
    p.add_argument("--out", help="write the result as JSON here")
    p.add_argument("--data")
    p.set_defaults(func=cmd_average)

    p = sub.add_parser("bench", help="training tokens/s of every scheme against a plain PyTorch reference")
    p.add_argument("--shapes", nargs="+", default=["small", "medium"], choices=["small", "medium", "large"])
    p.add_argument("--schemes", nargs="+", default=list(SCHEMES), choices=SCHEMES)
    p.add_argument("--precisions", nargs="+", default=["fp32", "bf16"], choices=PRECISIONS)
    p.add_argument("--seconds", type=float, default=8.0, help="timing budget per measurement (split over rounds)")
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds; medians over them are reported")
    p.add_argument("--compile", action="store_true", help="add torch.compile'd rows for the fused schemes")
    p.add_argument("--out", help="write the results as JSON here")
    p.set_defaults(func=cmd_bench)

    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    args.command_line = "python -m rnnreg " + shlex.join(argv)
    try:
        return args.func(args)
    except (DataError, ValueError, CheckpointMismatchError, NonFiniteLossError, RunFolderBusyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
