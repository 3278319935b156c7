"""Fixtures: a tiny synthetic corpus for most tests, the real PTB where a test needs it."""

import os
from pathlib import Path

import pytest
import torch

try:  # figures are drawn off screen in every test (once, here, before any test imports pyplot)
    import matplotlib

    matplotlib.use("Agg")
except ImportError:  # the core's tests run without the book's extras
    pass

from corpora import write_tiny_corpus

from rnnreg.data import load_corpus

# Tiny models gain nothing from threads, and two busy threads fight any other job on 2 cores.
torch.set_num_threads(1)


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
