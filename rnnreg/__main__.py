"""Command line: ``python -m rnnreg train | evaluate | bench``.

Examples::

    python -m rnnreg train --preset small --out results/ptb/small            # Table 1, small
    python -m rnnreg train --preset small --epochs 1 --max-train-tokens 100000 --out runs/quick
    python -m rnnreg train --preset medium --device cuda --out results/ptb/medium
    python -m rnnreg evaluate results/ptb/small
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
                    build_model, evaluate, load_checkpoint, resolve_device)


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


def load_run_model(run: Path, vocab_size: int | None = None):
    """The model of a run folder's checkpoint and its Config."""
    ckpt = load_checkpoint(run / "checkpoint.pt")
    config = Config.from_dict(ckpt["config"])
    model = build_model(config, vocab_size or ckpt["model"]["decoder.bias"].numel())
    model.load_state_dict(ckpt["model"])
    return model, config, ckpt["epoch"]


def cmd_measure(args: argparse.Namespace) -> int:
    """Chapter 03's measurements of trained models, written beside each run as signal.json."""
    import time

    import torch

    from .signal import context_ablation, swap_sensitivity
    from .train import git_commit, machine_description

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
        result["provenance"] = {"command": args.command_line, "git_commit": git_commit(), "torch": torch.__version__,
                                "device": machine_description(torch.device("cpu")),
                                "wall_s": time.perf_counter() - start}
        (run / "signal.json").write_text(json.dumps(result, indent=1) + "\n")
        print(f"{run}: written signal.json ({result['provenance']['wall_s']:.0f} s)", flush=True)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import run_bench

    run_bench(shapes=args.shapes, schemes=args.schemes, seconds=args.seconds, out=args.out,
              precisions=args.precisions, command=args.command_line)
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

    p = sub.add_parser("bench", help="training tokens/s of every scheme against a plain PyTorch reference")
    p.add_argument("--shapes", nargs="+", default=["small", "medium"], choices=["small", "medium", "large"])
    p.add_argument("--schemes", nargs="+", default=list(SCHEMES), choices=SCHEMES)
    p.add_argument("--precisions", nargs="+", default=["fp32", "bf16"], choices=PRECISIONS)
    p.add_argument("--seconds", type=float, default=8.0, help="timing budget per measurement")
    p.add_argument("--out", help="write the results as JSON here")
    p.set_defaults(func=cmd_bench)

    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    args.command_line = "python -m rnnreg " + shlex.join(argv)
    try:
        return args.func(args)
    except (DataError, ValueError, CheckpointMismatchError, NonFiniteLossError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
