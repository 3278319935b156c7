"""Test perplexity of the fp32 and the bf16 small runs, each evaluated in fp32 and in bf16 (batch 1):
separates what bf16 does to inference from what it does to training. Writes
results/ptb/small-bf16/cross_precision.json."""
import json
import time

import torch

from rnnreg.data import load_corpus
from rnnreg.train import evaluate, git_commit, load_run_model, machine_description

torch.set_num_threads(1)
c = load_corpus()  # RNNREG_DATA, then the user cache
out = {}
for run in ("results/ptb/small", "results/ptb/small-bf16"):
    model, config, epoch = load_run_model(run, len(c.vocab))
    for prec in ("fp32", "bf16"):
        t = time.time()
        out[f"{run} evaluated in {prec}"] = evaluate(model, c.test, 1, config.steps, "cpu", prec)
        print(run, prec, out[f"{run} evaluated in {prec}"], time.time() - t, flush=True)
out["provenance"] = {
    "command": "python scripts/cross_precision.py (test split, batch 1, steps 20)",
    "git_commit": git_commit(),
    "torch": torch.__version__,
    "device": machine_description(torch.device("cpu")),
}
json.dump(out, open("results/ptb/small-bf16/cross_precision.json", "w"), indent=1)
