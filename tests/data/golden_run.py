"""Train the golden run: ``python tests/data/golden_run.py OUT [--epoch1-copy PATH]``.

The bit-identical-log test (tests/test_train.py) runs this in a subprocess under the portable
environment (one thread, capped instruction sets) and compares its log with golden_log.jsonl,
which today's code wrote the same way (``--epoch1-copy`` kept golden_epoch1.pt).
"""

import argparse
import json
import shutil
from pathlib import Path

from rnnreg.config import Config
from rnnreg.data import load_corpus
from rnnreg.train import train

HERE = Path(__file__).resolve().parent
CONFIG = dict(
    preset="small",
    num_layers=2,
    hidden_size=16,
    steps=10,
    batch_size=8,
    init_scale=0.1,
    scheme="zaremba",
    dropout=0.3,
    lr=1.0,
    lr_decay=2.0,
    decay_after=1,
    epochs=3,
    clip=5.0,
    seed=7,
    device="cpu",
)

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--epoch1-copy")
    args = parser.parse_args()

    def keep_epoch1(event):
        if args.epoch1_copy and event["event"] == "epoch" and event["epoch"] == 1:
            shutil.copyfile(Path(args.out) / "checkpoint.pt", args.epoch1_copy)

    result = train(
        Config(**CONFIG), load_corpus(HERE / "tiny_corpus"), args.out, callbacks=[keep_epoch1], progress=False
    )
    print(json.dumps({"test_ppl": result.summary["test_ppl"]}))
