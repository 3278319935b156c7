"""The run-folder format: who may write a folder, how files are written, what a checkpoint holds.

A run folder holds ``config.json``, ``log.jsonl`` (one line per epoch), ``checkpoint.pt`` (after
every epoch) and, once the run is complete, ``summary.json``. This module owns how they are
written and read; :mod:`rnnreg.train` decides what goes into them.

* **One writer.** :func:`claim_run_dir` takes an OS lock (``fcntl.flock``, non-blocking) on
  ``<run>/.lock`` for as long as the process trains there. The OS drops the lock when the process
  dies, however it dies, so there is no stale claim to detect and two runners can never both take
  a folder. The lock file is removed on release.
* **Atomic files.** :func:`write_text`, :func:`write_json` and :func:`save_checkpoint` write a
  temporary file in the same folder, ``fsync`` it and rename it over the target: a reader sees the
  old file or the new one, never half of one, and a failure (a full disk, Ctrl-C) removes the
  temporary file instead of leaving it to hold the space.
* **Safe loading.** :func:`load_checkpoint` reads with ``weights_only=True`` (a checkpoint cannot
  run code) and turns a truncated, empty, foreign or bare-state-dict file into one sentence.
* **Provenance.** :func:`provenance` is what every result records about how it was made.
* **Corpus fingerprint.** :func:`corpus_fingerprint` identifies the corpus a run was trained on
  (its vocabulary, each split's tokens and, for a corpus folder, each file's SHA-256), so that a
  checkpoint is never resumed or evaluated on other word ids.

Only torch and the standard library (plus :mod:`rnnreg.data`) are imported here.
"""
from __future__ import annotations

import array
import errno
import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import torch

from .data import SPLITS, Corpus, sha256, split_files

LOCK_NAME = ".lock"
#: Saved during an epoch, beside ``checkpoint.pt`` (which only ever holds whole epochs, the model
#: that ``evaluate`` and ``measure`` read): the model part-way through the next epoch, with what
#: the training loop needs to go on bit for bit (:func:`rnnreg.train.save_checkpoint`'s ``mid_epoch``).
MID_EPOCH = "checkpoint-mid-epoch.pt"
CHECKPOINT_KEYS = ("config", "epoch", "model")


class RunFolderError(RuntimeError):
    """A run folder cannot be used as asked. The message says why and what to do."""


class RunFolderBusyError(RunFolderError):
    """Another live process is training into the same run folder."""


class CheckpointError(RunFolderError):
    """A run folder or its checkpoint is missing, unreadable, or not an rnnreg checkpoint."""


class CorpusMismatchError(RunFolderError):
    """A run is being resumed or evaluated on a corpus other than the one it was trained on."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) during training; the message says what was saved and how to resume."""


# --------------------------------------------------------------------------------------------
# Claiming a run folder
# --------------------------------------------------------------------------------------------

_HELD: dict[str, tuple[int, int]] = {}  # resolved run folder -> (pid, fd of its locked .lock)


def _key(run_dir: Path) -> str:
    return str(Path(run_dir).resolve())


def _make_dir(run_dir: Path) -> None:
    if run_dir.exists() and not run_dir.is_dir():
        raise RunFolderError(f"{run_dir} is a file, not a run folder; choose another --out")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunFolderError(f"cannot create the run folder {run_dir}: {exc.strerror or exc}") from None


def _lock(fd: int) -> bool:
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise


def _unlock(fd: int) -> None:
    os.close(fd)  # closing the only descriptor drops the flock


def claim_run_dir(run_dir: str | os.PathLike) -> bool | None:
    """Take ``run_dir`` for this process: an exclusive, non-blocking ``flock`` on ``<run_dir>/.lock``.

    True: claimed now (give it back with :func:`release_run_dir`); None: this process already
    holds it; False: another live process does. The lock lives as long as this process holds the
    file open, so a crashed runner's folder is free again at once, and of several processes that
    try at the same moment exactly one gets it.
    """
    run_dir = Path(run_dir)
    key = _key(run_dir)
    if key in _HELD:
        pid, fd = _HELD[key]
        if pid == os.getpid():
            return None
        del _HELD[key]  # inherited through fork: the parent's lock, not ours
        try:
            os.close(fd)
        except OSError:
            pass
    _make_dir(run_dir)
    lock = run_dir / LOCK_NAME
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise RunFolderError(f"cannot write in the run folder {run_dir}: {exc.strerror or exc}") from None
        try:
            if not _lock(fd):
                os.close(fd)
                return False
            try:
                same = os.fstat(fd).st_ino == os.stat(lock).st_ino
            except FileNotFoundError:
                same = False
            if not same:  # the holder released (and removed) the file between our open and our lock
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except BaseException:
            try:
                os.close(fd)
            except OSError:
                pass
            raise
        _HELD[key] = (os.getpid(), fd)
        return True


def run_dir_holder(run_dir: str | os.PathLike) -> str:
    """Who holds ``run_dir``, for messages: ``"pid 123"``, or ``"another process"``."""
    run_dir = Path(run_dir)
    try:
        pid = int((run_dir / LOCK_NAME).read_text().strip() or 0) or None
    except (OSError, ValueError):
        pid = None
    return f"another process (pid {pid})" if pid else "another process"


def release_run_dir(run_dir: str | os.PathLike) -> None:
    """Give ``run_dir`` back. Never raises: a failure here must not hide the error that ended the run."""
    key = _key(Path(run_dir))
    held = _HELD.pop(key, None)
    if held is None or held[0] != os.getpid():
        return
    try:
        (Path(run_dir) / LOCK_NAME).unlink(missing_ok=True)  # while still locked: see claim_run_dir
    except OSError:
        pass
    try:
        _unlock(held[1])
    except OSError as exc:
        print(f"rnnreg: warning: could not release the lock of {run_dir}: {exc}", file=sys.stderr)


# --------------------------------------------------------------------------------------------
# Atomic writers
# --------------------------------------------------------------------------------------------

def _atomic(path: Path, write) -> None:
    """``write(fh)`` into a temporary file beside ``path``, fsync, rename over ``path``.

    On any failure (disk full, read-only, Ctrl-C) the temporary file is removed.
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        if isinstance(exc, OSError) and exc.errno is not None:  # name the file meant, not its temporary
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    data = text.encode("utf-8")
    _atomic(Path(path), lambda fh: fh.write(data))


def read_json(path: str | os.PathLike):
    """A record's JSON (config, progress, summary), or None where the file is not there."""
    path = Path(path)
    return json.loads(path.read_text()) if path.is_file() else None


def write_json(path: str | os.PathLike, obj, indent: int | None = 2) -> None:
    """Write ``obj`` as JSON (and a final newline) to ``path`` atomically."""
    write_text(path, json.dumps(obj, indent=indent) + "\n")




def save_checkpoint(path: str | os.PathLike, payload: dict) -> None:
    """``torch.save`` ``payload`` atomically: a crash mid-write leaves the previous checkpoint intact."""
    def write(fh):
        try:
            torch.save(payload, fh)
        except RuntimeError as exc:  # torch's zip writer masks a failed write (disk full) with its own error
            if isinstance(exc.__context__, OSError):
                raise exc.__context__ from None
            raise

    _atomic(Path(path), write)


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Read an rnnreg checkpoint with ``weights_only=True``; any unreadable file is one :class:`CheckpointError`."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path} does not exist")
    if path.is_dir():
        raise CheckpointError(f"{path} is a folder, not a checkpoint file")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path} is empty (written by a process that died mid-write?); "
                              "delete it to start the run over")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EIO):
            raise  # the file cannot be read at all: main() names it with the reason
        why = "it is truncated or not a PyTorch file"  # torch reports a cut zip archive as EINVAL
        raise CheckpointError(f"{path} cannot be loaded: {why}. Delete it to start the run over, "
                              "or point at the right run folder") from None
    except Exception as exc:  # noqa: BLE001 - torch raises many kinds; none of their texts is for the user
        if "weights only" in str(exc).lower():
            why = ("it holds objects other than tensors and plain data, so it is not an rnnreg checkpoint "
                   "(rnnreg loads checkpoints as data only and never runs code from one)")
        else:
            why = "it is truncated or not a PyTorch file"
        raise CheckpointError(f"{path} cannot be loaded: {why}. Delete it to start the run over, "
                              "or point at the right run folder") from None
    if not isinstance(ckpt, dict):
        raise CheckpointError(f"{path} holds a {type(ckpt).__name__}, not an rnnreg checkpoint")
    missing = [k for k in CHECKPOINT_KEYS if k not in ckpt]
    if missing:
        if ckpt and all(isinstance(v, torch.Tensor) for v in ckpt.values()):
            raise CheckpointError(f"{path} holds bare model weights (a state dict), not an rnnreg checkpoint "
                                  "with its config, epoch and log; it cannot be evaluated or resumed here")
        raise CheckpointError(f"{path} is not an rnnreg checkpoint: it lacks {', '.join(missing)}")
    if not isinstance(ckpt["config"], dict) or not isinstance(ckpt["model"], dict):
        raise CheckpointError(f"{path} is not an rnnreg checkpoint: its config or model is malformed")
    return ckpt


# --------------------------------------------------------------------------------------------
# Provenance
# --------------------------------------------------------------------------------------------

def git_commit(at_import: bool = True) -> str:
    """The commit of the code this process runs: the checkout as it was when ``rnnreg`` was
    imported (a long process, e.g. a grid runner, keeps running that code while the tree moves on);
    ``at_import=False`` asks git now."""
    if at_import and _COMMIT_AT_IMPORT is not None:
        return _COMMIT_AT_IMPORT
    root = Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


_COMMIT_AT_IMPORT: str | None = None
_COMMIT_AT_IMPORT = git_commit(at_import=False)


def machine_description(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda})"
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    # The vector instructions PyTorch dispatches to (AVX2, AVX512, ...): two CPUs of one model name
    # can differ there, and so do the last bits of a training run.
    return f"{cpu}, {torch.get_num_threads()} threads, {torch.backends.cpu.get_cpu_capability()}"


def utc_now() -> str:
    """The current time, UTC, as every rnnreg record writes it (``2026-12-02T04:30:20Z``)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def provenance(command: str | None = None, device: torch.device | str = "cpu", commit: str | None = None) -> dict:
    """How a result was made: command, git commit, torch, python, device, CPU threads (on CPU: they
    move the last bits of a run), finished time (UTC)."""
    device = torch.device(device)
    return {"command": command or " ".join([Path(sys.executable).name, *sys.argv]),
            "git_commit": commit or git_commit(), "torch": str(torch.__version__), "python": platform.python_version(),
            "device": machine_description(device),
            **({"threads": torch.get_num_threads()} if device.type == "cpu" else {}),
            "finished": utc_now()}


def recorded_threads(record: dict) -> int | None:
    """The CPU thread count a record names: its ``threads`` field, or, in records written before
    that field existed, the "N threads" of its ``device`` string (None when it names neither)."""
    if record.get("threads") is not None:
        return int(record["threads"])
    found = re.search(r"(\d+) threads?", record.get("device") or "")
    return int(found[1]) if found else None


# --------------------------------------------------------------------------------------------
# Corpus fingerprint
# --------------------------------------------------------------------------------------------

def corpus_files(corpus: Corpus) -> dict[str, Path] | None:
    """The split files a corpus was read from, when its ``source`` is a corpus folder."""
    if not corpus.source:
        return None
    folder = Path(corpus.source)
    try:
        return split_files(folder) if folder.is_dir() else None
    except OSError:
        return None


def _ids_sha256(ids: torch.Tensor) -> str:
    values = array.array("q", ids.to(torch.int64).tolist())
    if sys.byteorder == "big":
        values.byteswap()
    return hashlib.sha256(values.tobytes()).hexdigest()


def vocab_sha256(words) -> str:
    return hashlib.sha256("\n".join(words).encode("utf-8")).hexdigest()


def corpus_fingerprint(corpus: Corpus) -> dict:
    """What identifies ``corpus``: its vocabulary (size, SHA-256 of the words in id order), each
    split's token count and SHA-256 of its ids and, for a corpus folder, the folder and each file's SHA-256."""
    files = corpus_files(corpus)
    return {
        "folder": str(Path(corpus.source).resolve()) if files else None,
        "files": {s: files[s].name for s in SPLITS} if files else None,
        "file_sha256": {s: sha256(files[s]) for s in SPLITS} if files else None,
        "vocab_size": len(corpus.vocab), "vocab_sha256": vocab_sha256(corpus.vocab.words),
        "tokens": {s: len(getattr(corpus, s)) for s in SPLITS},
        "token_sha256": {s: _ids_sha256(getattr(corpus, s)) for s in SPLITS},
    }


def _describe(fp: dict) -> str:
    return fp.get("folder") or "an in-memory corpus"


def check_corpus(recorded: dict | None, current: dict, what: str, splits=SPLITS) -> list[str]:
    """Compare the fingerprint a run recorded with the corpus at hand.

    Raises :class:`CorpusMismatchError` when the vocabularies differ (word ids would mean other
    words). Returns the names of ``splits`` whose tokens differ (the caller decides whether that
    is an error); nothing to compare when ``recorded`` is None (an older run).
    """
    if not recorded:
        return []
    if recorded.get("vocab_sha256") not in (None, current["vocab_sha256"]):
        same = ", the same size" if recorded.get("vocab_size") == current["vocab_size"] else ""
        raise CorpusMismatchError(
            f"{what} was trained on {_describe(recorded)} (vocabulary of {recorded.get('vocab_size')} words), "
            f"but the corpus given is {_describe(current)} with another vocabulary ({current['vocab_size']} "
            f"words{same}); its word ids would mean other words. Pass --data with the run's own corpus")
    theirs = recorded.get("token_sha256") or {}
    return [s for s in splits if s in theirs and theirs[s] != current["token_sha256"][s]]


def recorded_corpus_folder(run_dir: str | os.PathLike) -> Path | None:
    """The corpus folder a run recorded (``summary.json``, else its checkpoint), if it still holds a corpus."""
    run_dir = Path(run_dir)
    candidates = []
    try:
        summary = json.loads((run_dir / "summary.json").read_text())
        candidates += [(summary.get("corpus_fingerprint") or {}).get("folder"), summary.get("corpus")]
    except (OSError, ValueError, AttributeError):
        pass
    if not any(candidates):
        for name in ("checkpoint.pt", MID_EPOCH):  # the second: a first epoch never finished
            try:
                ckpt = torch.load(run_dir / name, map_location="cpu", weights_only=True, mmap=True)
                candidates.append((ckpt.get("corpus") or {}).get("folder"))
            except Exception:  # noqa: BLE001 - unreadable: load_checkpoint says why, later
                pass
    for folder in candidates:
        if isinstance(folder, str) and folder and Path(folder).is_dir() and split_files(Path(folder)):
            return Path(folder)
    return None
