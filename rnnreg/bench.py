"""Training speed of every dropout scheme against a plain PyTorch reference, measured in one run.

The reference is pytorch/examples' ``word_language_model`` (``nn.Embedding -> nn.LSTM(num_layers=2,
dropout=p) -> nn.Linear``, token-mean cross entropy, ``torch.optim.SGD``), written here so that both
sides run on the same machine and data. A step is forward, backward, clipping and the update; tokens/s
counts the window's T x B tokens. The matmul bound is ``6 x (LSTM + softmax parameters)`` FLOPs per token
(forward 2, backward 4) against a large fp32 matmul's rate measured in the same run. This machine's speed
drifts (shared cores): every contender of a shape is timed once per round, rounds interleaved, and the
medians over rounds are reported, with the range of the per-round ratios to the reference.
"""

from __future__ import annotations

import sys
import time
from statistics import median

import torch
import torch.nn.functional as F
from torch import nn

from .config import PRECISIONS, check_option
from .model import LSTMLM, SCHEMES
from .runfolder import provenance, write_json
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


def reference_step(hidden: int, steps: int, dropout: float):
    """One training step of the reference (pytorch/examples' recipe), as a closure."""
    torch.manual_seed(0)
    model = ReferenceLM(hidden, dropout).train()
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    x, y = torch.randint(0, VOCAB, (steps, BATCH)), torch.randint(0, VOCAB, (steps, BATCH))
    state = [torch.zeros(2, BATCH, hidden), torch.zeros(2, BATCH, hidden)]

    def step():
        nonlocal state
        logits, state = model(x, [s.detach() for s in state])
        loss = F.cross_entropy(logits.view(-1, VOCAB), y.view(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        opt.step()

    return step


def scheme_step(scheme: str, hidden: int, steps: int, dropout: float, precision: str):
    """One training step of ``rnnreg`` (the paper's loss, clip, SGD) for a scheme, as a closure."""
    torch.manual_seed(0)
    model = LSTMLM(VOCAB, hidden, 2, scheme, dropout=0.0 if scheme == "none" else dropout).train()
    optimizer, device = sgd(model, 0.1), torch.device("cpu")
    x, y = torch.randint(0, VOCAB, (steps, BATCH)), torch.randint(0, VOCAB, (steps, BATCH))
    state, loss_fn = model.init_state(BATCH), WindowLoss(model, device, precision)

    def step():
        nonlocal state
        _, state = train_step(model, optimizer, x, y, state, 5.0, device, precision, loss_fn)

    return step


def interleaved_rates(contenders: dict, tokens_per_step: int, seconds: float, rounds: int = 5) -> dict:
    """Tokens/s of each contender (warmed up first), timed in ``rounds`` interleaved slices of ``seconds /
    rounds``: medians of the rates and of each round's ratio to the first contender, the reference."""
    for step in contenders.values():
        for _ in range(3):
            step()
    rates = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, step in contenders.items():
            count, start = 0, time.perf_counter()
            while time.perf_counter() - start < seconds / rounds or count < 2:
                step()
                count += 1
            rates[name].append(tokens_per_step * count / (time.perf_counter() - start))
    ratios = {name: [a / b for a, b in zip(r, rates[next(iter(contenders))])] for name, r in rates.items()}
    return {
        name: dict(tokens_per_s=median(rates[name]), ratio_to_reference=median(q), ratio_spread=[min(q), max(q)])
        for name, q in ratios.items()
    }


def run_bench(
    shapes=("small", "medium"), schemes=SCHEMES, seconds=8.0, out=None, precisions=PRECISIONS, rounds=5, command=""
) -> dict:
    """Measure every (scheme, precision) at each shape beside the reference."""
    check_option("rounds", rounds, "--rounds")
    check_option("seconds", seconds, "--seconds")
    device = torch.device("cpu")
    if "bf16" in precisions and not bf16_supported(device):
        print("bf16 is not supported on this CPU: measuring fp32 only", file=sys.stderr)
        precisions = [p for p in precisions if p != "bf16"]
    fp32_rate = matmul_gflops(torch.float32)
    # Only where bf16 is measured: without bf16 in hardware this probe alone takes minutes.
    bf16_rate = matmul_gflops(torch.bfloat16) if "bf16" in precisions else None
    result = {**provenance(command, device), "matmul_gflops_fp32": fp32_rate, "matmul_gflops_bf16": bf16_rate}
    result |= {"seconds_per_measurement": seconds, "rounds": rounds, "rows": []}
    result["method"] = "each contender timed once per round, rounds interleaved; medians over rounds"
    print(f"{result['device']}; fp32 matmul {fp32_rate:.0f} GFLOP/s" + (f", bf16 {bf16_rate:.0f}" if bf16_rate else ""))
    header = "shape   scheme       precision  tokens/s  x ref   (min-max) % fp32 bound"
    print(header + "\n" + "-" * len(header))
    for shape in shapes:
        hidden, steps, dropout = SHAPES[shape]
        bound = fp32_rate * 1e9 / (6 * LSTMLM(VOCAB, hidden, 2).num_parameters(exclude_embedding=True))
        contenders = {("reference", "fp32"): reference_step(hidden, steps, dropout)}
        contenders |= {(s, p): scheme_step(s, hidden, steps, dropout, p) for s in schemes for p in precisions}
        for (scheme, precision), m in interleaved_rates(contenders, steps * BATCH, seconds, rounds).items():
            row = dict(shape=shape, hidden_size=hidden, steps=steps, dropout=dropout, scheme=scheme)
            row |= dict(precision=precision, **m, fraction_of_fp32_bound=m["tokens_per_s"] / bound)
            result["rows"].append(row | {"fp32_bound_tokens_per_s": bound})
            lo, hi = m["ratio_spread"]
            print(
                f"{shape:7} {scheme:12} {precision:9} {m['tokens_per_s']:9.0f} {m['ratio_to_reference']:6.2f} "
                f"{lo:5.2f}-{hi:<5.2f} {100 * row['fraction_of_fp32_bound']:11.0f}%",
                flush=True,
            )
    if out:
        write_json(out, result)
        print(f"written to {out}")
    return result
