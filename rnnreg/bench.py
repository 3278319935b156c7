"""Training speed of every dropout scheme against a plain PyTorch reference, measured in one run.

The reference is the standard PyTorch word-language-model setup (pytorch/examples
``word_language_model``): ``nn.Embedding -> nn.LSTM(num_layers=2, dropout=p) -> nn.Linear``
with dropout on the embedding and the output, token-mean cross entropy, ``torch.optim.SGD``.
It is written here, inside the benchmark, so both sides run on the same machine and data.

A training step is forward, backward, gradient clipping and the update. Tokens/s counts the
tokens of the window (T x B). The matmul bound is ``6 x (LSTM + softmax parameters)`` FLOPs per
token (forward 2, backward 4) against the rate of a large fp32 matmul measured in the same run;
the embedding lookup costs no FLOPs and is left out.

Timing: this machine's speed drifts (shared cores); every contender of a shape is timed once
per round, rounds interleaved, and the medians over rounds are reported, with the range of the
per-round ratios to the reference.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path
from statistics import median

import torch
import torch.nn.functional as F
from torch import nn

from .model import FUSED_SCHEMES, LSTMLM, SCHEMES
from .runfolder import git_commit, machine_description, utc_now
from .train import WindowLoss, bf16_supported, sgd, train_step

VOCAB, BATCH = 10_000, 20
#: (hidden size, BPTT steps, dropout) of the paper's shapes; dropout is what the schemes use here.
SHAPES = {"small": (200, 20, 0.5), "medium": (650, 35, 0.5), "large": (1500, 35, 0.65)}


class ReferenceLM(nn.Module):
    """pytorch/examples' RNNModel (LSTM, untied), the yardstick."""

    def __init__(self, hidden: int, dropout: float):
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(VOCAB, hidden)
        self.rnn = nn.LSTM(hidden, hidden, 2, dropout=dropout)
        self.decoder = nn.Linear(hidden, VOCAB)

    def forward(self, x, hidden):
        out, hidden = self.rnn(self.drop(self.encoder(x)), hidden)
        return self.decoder(self.drop(out)), hidden


def matmul_gflops(dtype=torch.float32, n: int = 2048, seconds: float = 1.0) -> float:
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        count += 1
    return 2 * n**3 * count / (time.perf_counter() - start) / 1e9


def _time_steps(step, tokens_per_step: int, seconds: float) -> float:
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or count < 2:
        step()
        count += 1
    return tokens_per_step * count / (time.perf_counter() - start)


def reference_step(hidden: int, steps: int, dropout: float):
    """One training step of the reference (pytorch/examples' recipe), as a closure."""
    torch.manual_seed(0)
    model = ReferenceLM(hidden, dropout).train()
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    x, y = torch.randint(0, VOCAB, (steps, BATCH)), torch.randint(0, VOCAB, (steps, BATCH))
    state = [torch.zeros(2, BATCH, hidden), torch.zeros(2, BATCH, hidden)]

    def step():
        nonlocal state
        state = [s.detach() for s in state]
        logits, state = model(x, state)
        loss = F.cross_entropy(logits.view(-1, VOCAB), y.view(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        opt.step()

    return step


def scheme_step(scheme: str, hidden: int, steps: int, dropout: float, precision: str, compile: bool = False):
    """One training step of ``rnnreg`` (the paper's loss, clip, SGD) for a scheme, as a closure."""
    torch.manual_seed(0)
    model = LSTMLM(VOCAB, hidden, 2, scheme, dropout=0.0 if scheme == "none" else dropout).train()
    optimizer = sgd(model, 0.1)
    x, y = torch.randint(0, VOCAB, (steps, BATCH)), torch.randint(0, VOCAB, (steps, BATCH))
    state = model.init_state(BATCH)
    device = torch.device("cpu")
    loss_fn = WindowLoss(model, device, precision, compile)

    def step():
        nonlocal state
        _, state = train_step(model, optimizer, x, y, state, 5.0, device, precision, loss_fn)

    return step


def interleaved_rates(contenders: dict, tokens_per_step: int, seconds: float, rounds: int = 5) -> dict:
    """Tokens/s of each contender, measured in ``rounds`` interleaved slices of ``seconds / rounds``.

    A shared machine drifts in speed over minutes; timing every contender once per round and
    taking medians (of the rates, and of each round's ratio to the first contender, the
    reference) keeps that drift out of the ratios. Each contender is warmed up first (and
    compiled, where it compiles).
    """
    for step in contenders.values():
        for _ in range(3):
            step()
    rates = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, step in contenders.items():
            rates[name].append(_time_steps(step, tokens_per_step, seconds / rounds))
    ref, out = rates[next(iter(contenders))], {}
    for name, r in rates.items():
        ratios = [a / b for a, b in zip(r, ref)]
        out[name] = dict(
            tokens_per_s=median(r), ratio_to_reference=median(ratios), ratio_spread=[min(ratios), max(ratios)]
        )
    return out


def flops_per_token(hidden: int) -> int:
    model = LSTMLM(VOCAB, hidden, 2)
    return 6 * model.num_parameters(exclude_embedding=True)


def run_bench(
    shapes=("small", "medium"),
    schemes=SCHEMES,
    seconds=8.0,
    out=None,
    precisions=("fp32", "bf16"),
    compile=False,
    rounds=5,
    command="run_bench()",
) -> dict:
    """Measure every (scheme, precision[, compiled]) at each shape beside the reference; see the module doc.

    ``compile`` adds a torch.compile'd row for each fused scheme (``none``, ``zaremba``,
    ``weight_drop``). The custom-cell schemes get none: tracing their per-step Python loop takes
    long, and what compiling them would give is not measured here.
    """
    if not (isinstance(rounds, int) and rounds > 0):
        raise ValueError(f"--rounds must be a positive integer, got {rounds!r}")
    if not seconds > 0:
        raise ValueError(f"--seconds must be positive, got {seconds!r}")
    device = torch.device("cpu")
    if "bf16" in precisions and not bf16_supported(device):
        print("bf16 is not supported on this CPU: measuring fp32 only", file=sys.stderr)
        precisions = [p for p in precisions if p != "bf16"]
    fp32_rate = matmul_gflops(torch.float32)
    # Only where bf16 is measured: without bf16 in hardware this probe alone takes minutes.
    bf16_rate = matmul_gflops(torch.bfloat16) if "bf16" in precisions else None
    result = _record(command, device, fp32_rate, bf16_rate, seconds, rounds)
    print(
        f"{result['device']}; fp32 matmul {fp32_rate:.0f} GFLOP/s"
        + (f", bf16 {bf16_rate:.0f} GFLOP/s" if bf16_rate is not None else "")
    )
    header = (
        f"{'shape':7} {'scheme':12} {'precision':9} {'compiled':8} {'tokens/s':>9} {'x ref':>6} "
        f"{'(min-max)':>11} {'% fp32 bound':>12}"
    )
    print(header)
    print("-" * len(header))
    for shape in shapes:
        for row in _shape_rows(shape, schemes, precisions, compile, seconds, rounds, fp32_rate):
            result["rows"].append(row)
            _print_row(row)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(result, indent=2) + "\n")
        print(f"written to {out}")
    return result


def _record(command: str, device: torch.device, fp32_rate: float, bf16_rate, seconds: float, rounds: int) -> dict:
    """The measurement's record before its rows: provenance, the matmul rates, the timing method."""
    return {
        "command": command,
        "git_commit": git_commit(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "device": machine_description(device),
        "threads": torch.get_num_threads(),
        "matmul_gflops_fp32": fp32_rate,
        "matmul_gflops_bf16": bf16_rate,
        "seconds_per_measurement": seconds,
        "rounds": rounds,
        "method": "each contender timed once per round, rounds interleaved; medians over rounds",
        "date": utc_now(),
        "rows": [],
    }


def _shape_rows(shape: str, schemes, precisions, compile: bool, seconds: float, rounds: int, fp32_rate: float):
    """Every contender at one shape, timed together: one row each, the reference first."""
    hidden, steps, dropout = SHAPES[shape]
    bound = fp32_rate * 1e9 / flops_per_token(hidden)
    contenders = {("reference", "fp32", False): reference_step(hidden, steps, dropout)}
    for scheme in schemes:
        for precision in precisions:
            contenders[(scheme, precision, False)] = scheme_step(scheme, hidden, steps, dropout, precision)
            if compile and scheme in FUSED_SCHEMES:
                contenders[(scheme, precision, True)] = scheme_step(scheme, hidden, steps, dropout, precision, True)
    measured = interleaved_rates(contenders, steps * BATCH, seconds, rounds)
    fields = dict(shape=shape, hidden_size=hidden, steps=steps, dropout=dropout)
    rows = []
    for (scheme, precision, compiled), m in measured.items():
        row = dict(fields, scheme=scheme, precision=precision, compiled=compiled, **m)
        rows.append({**row, "fraction_of_fp32_bound": m["tokens_per_s"] / bound, "fp32_bound_tokens_per_s": bound})
    return rows


def _print_row(row: dict) -> None:
    lo, hi = row["ratio_spread"]
    print(
        f"{row['shape']:7} {row['scheme']:12} {row['precision']:9} {'yes' if row['compiled'] else 'no':8} "
        f"{row['tokens_per_s']:9.0f} {row['ratio_to_reference']:6.2f} {lo:5.2f}-{hi:<5.2f} "
        f"{100 * row['fraction_of_fp32_bound']:11.0f}%",
        flush=True,
    )
