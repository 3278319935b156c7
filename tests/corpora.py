"""Tiny synthetic corpora for the tests (imported by conftest.py and by tests that need variants)."""

import random
from pathlib import Path


def write_tiny_corpus(
    folder: Path, seed: int = 0, lines: tuple[int, int, int] = (400, 60, 60), extra_train: str = ""
) -> Path:
    """A corpus with learnable structure: sentences from a small grammar over 30 words.

    Another ``seed`` gives the same words in another order (so other word ids);
    ``extra_train`` is appended to the training text.
    """
    rng = random.Random(seed)
    subjects, verbs, objects = (
        ["the cat", "a dog", "my aunt", "the bank"],
        ["sees", "buys", "likes", "sells"],
        ["N shares", "the fish", "a car", "<unk> stocks", "the market"],
    )
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in zip(("train", "valid", "test"), lines):
        text = "".join(f" {rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(objects)}\n" for _ in range(n))
        (folder / f"{split}.txt").write_text(text + (extra_train if split == "train" else ""))
    return folder
