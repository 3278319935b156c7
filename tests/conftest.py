"""Fixtures: a tiny synthetic corpus for most tests, the real PTB where a test needs it."""
import os
import random
from pathlib import Path

import pytest
import torch

try:  # figures are drawn off screen in every test (once, here, before any test imports pyplot)
    import matplotlib

    matplotlib.use("Agg")
except ImportError:  # the core's tests run without the book's extras
    pass

from rnnreg.data import load_corpus

# Tiny models gain nothing from threads, and two busy threads fight any other job on 2 cores.
torch.set_num_threads(1)


def write_tiny_corpus(folder: Path, seed: int = 0, lines: tuple[int, int, int] = (400, 60, 60)) -> Path:
    """A corpus with learnable structure: sentences from a small grammar over 30 words."""
    rng = random.Random(seed)
    subjects, verbs, objects = ["the cat", "a dog", "my aunt", "the bank"], ["sees", "buys", "likes", "sells"], \
        ["N shares", "the fish", "a car", "<unk> stocks", "the market"]
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in zip(("train", "valid", "test"), lines):
        text = "".join(f" {rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(objects)}\n" for _ in range(n))
        (folder / f"{split}.txt").write_text(text)
    return folder


@pytest.fixture
def tiny_dir(tmp_path):
    return write_tiny_corpus(tmp_path / "tiny")


@pytest.fixture
def tiny_corpus(tiny_dir):
    return load_corpus(tiny_dir)


@pytest.fixture(scope="session")
def ptb_corpus():
    """The real PTB from RNNREG_DATA: skipped on a reader's machine without it, an error in CI."""
    folder = os.environ.get("RNNREG_DATA")
    if not folder or not Path(folder, "ptb.train.txt").is_file():
        if os.environ.get("CI"):
            pytest.fail(f"CI needs the Penn Treebank: RNNREG_DATA={folder!r} has no ptb.train.txt")
        pytest.skip("set RNNREG_DATA to a folder with the PTB files to run this test")
    return load_corpus(folder)
