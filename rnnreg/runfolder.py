"""The run folder: who may write it, how its files are written and read, what a checkpoint holds.

A run folder holds ``config.json``, ``log.jsonl`` (one line per epoch), ``checkpoint.pt`` (after
every epoch; not for git) and, once the run is complete, ``summary.json`` with its provenance
(:func:`provenance`). This module is the only owner of those files; :mod:`rnnreg.train`
decides what goes into them.

* **One writer.** :func:`claim_run_dir` takes an OS lock (``fcntl.flock``, non-blocking) on
  ``<run>/.lock`` for as long as the process trains there. The OS drops the lock when the process
  dies, however it dies, so there is no stale claim to detect and two runners can never both take
  a folder. The lock file is removed on release.
* **Atomic files.** :func:`write_text`, :func:`write_json` and :func:`save_checkpoint` write a
  temporary file of their own (``tempfile.mkstemp``) in the same folder, ``fsync`` it and rename
  it over the target: a reader sees the old file or the new one, never half of one, two writers
  never share a temporary file, and a failure (a full disk, Ctrl-C) removes it.
* **Safe reading.** :func:`load_checkpoint` reads with ``weights_only=True`` (a checkpoint cannot
  run code) and turns a truncated, empty, foreign or bare-state-dict file into one sentence;
  :func:`read_json` and :func:`read_log` name the file they cannot parse.
* **Corpus fingerprint.** :func:`corpus_fingerprint` identifies the corpus a run was trained on
  (its vocabulary, each split's tokens and, for a corpus folder, each file's SHA-256), so that a
  checkpoint is never resumed or evaluated on other word ids.
"""

from __future__ import annotations

import array
import contextlib
import errno
import functools
import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from .config import RESUMABLE_DIFFERENCES, Config, build_model
from .data import SPLITS, Corpus, sha256, split_files

__all__ = [
    "RunFolderError",
    "RunFolderBusyError",
    "CheckpointError",
    "CheckpointMismatchError",
    "CorpusMismatchError",
    "Interrupted",
    "CHECKPOINT",
    "claim_run_dir",
    "release_run_dir",
    "run_dir_holder",
    "write_text",
    "write_json",
    "read_json",
    "read_log",
    "log_text",
    "save_checkpoint",
    "load_checkpoint",
    "check_resume_corpus",
    "check_run_folder",
    "load_run_model",
    "record",
    "git_commit",
    "machine_description",
    "utc_now",
    "provenance",
    "recorded_threads",
    "corpus_files",
    "corpus_fingerprint",
    "check_corpus",
    "recorded_corpus",
    "recorded_corpus_folder",
]

LOCK_NAME = ".lock"
CHECKPOINT = "checkpoint.pt"
CHECKPOINT_KEYS = ("config", "epoch", "model")
RECORD_FILES = ("config.json", "log.jsonl", "summary.json")


class RunFolderError(RuntimeError):
    """A run folder cannot be used as asked. The message says why and what to do."""


class RunFolderBusyError(RunFolderError):
    """Another live process is training into the same run folder."""


class CheckpointError(RunFolderError):
    """A run folder or its checkpoint is missing, unreadable, or not an rnnreg checkpoint."""


class CheckpointMismatchError(ValueError):
    """A checkpoint was made for another configuration."""


class CorpusMismatchError(RunFolderError):
    """A run is being resumed or evaluated on a corpus other than the one it was trained on."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) during training; the message says what was saved and how to resume."""


_HELD: dict[str, tuple[int, int]] = {}  # resolved run folder -> (pid, fd of its locked .lock)


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
    """Take ``run_dir`` for this process (see the module docstring). True: claimed now (give it back
    with :func:`release_run_dir`); None: this process already holds it; False: another live process does."""
    run_dir = Path(run_dir)
    key = str(run_dir.resolve())
    if key in _HELD:
        pid, fd = _HELD[key]
        if pid == os.getpid():
            return None
        del _HELD[key]  # inherited through fork: the parent's lock, not ours
        with contextlib.suppress(OSError):
            os.close(fd)
    if run_dir.exists() and not run_dir.is_dir():
        raise RunFolderError(f"{run_dir} is a file, not a run folder; choose another --out")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunFolderError(f"cannot create the run folder {run_dir}: {exc.strerror or exc}") from None
    lock = run_dir / LOCK_NAME
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            why = (
                "it is a folder; remove it (rnnreg makes this file itself)"
                if lock.is_dir()
                else f"{exc.strerror or exc}{' (a link to nowhere; remove it)' if lock.is_symlink() else ''}"
            )
            raise RunFolderError(f"cannot open the run folder's lock file {lock}: {why}") from None
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
            with contextlib.suppress(OSError):
                os.close(fd)
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
    key = str(Path(run_dir).resolve())
    held = _HELD.pop(key, None)
    if held is None or held[0] != os.getpid():
        return
    with contextlib.suppress(OSError):  # unlinked while still locked: see claim_run_dir
        (Path(run_dir) / LOCK_NAME).unlink(missing_ok=True)
    try:
        _unlock(held[1])
    except OSError as exc:
        print(f"rnnreg: warning: could not release the lock of {run_dir}: {exc}", file=sys.stderr)


def _atomic(path: Path, write) -> None:
    """``write(fh)`` into a temporary file of its own beside ``path``, fsync, rename over ``path``."""
    path = Path(path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        os.close(fd)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would make records private to their writer
        with open(tmp, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(exc, OSError) and exc.errno is not None:  # name the file meant, not its temporary
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    data = text.encode("utf-8")
    _atomic(Path(path), lambda fh: fh.write(data))


def write_json(path: str | os.PathLike, obj, indent: int | None = 2) -> None:
    """Write ``obj`` as JSON (and a final newline) to ``path`` atomically."""
    write_text(path, json.dumps(obj, indent=indent) + "\n")


def read_json(path: str | os.PathLike, kind: type | None = dict):
    """A record's JSON, or None where the file is not there; not JSON, or not a ``kind`` (None: anything),
    is a :class:`RunFolderError` naming it."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        value = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise RunFolderError(f"{path} is not valid JSON ({exc}); restore it, or delete it") from None
    if kind is not None and not isinstance(value, kind):
        raise RunFolderError(
            f"{path} holds a JSON {type(value).__name__}, not a {kind.__name__}; restore it, or delete it"
        )
    return value


def read_log(path: str | os.PathLike) -> list[dict]:
    """The epochs of a ``log.jsonl`` ([] where there is none); a bad line is a :class:`RunFolderError` naming it."""
    path = Path(path)
    if not path.is_file():
        return []
    log = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not (isinstance(record, dict) and {"epoch", "valid_ppl", "train_ppl"} <= set(record)):
            raise RunFolderError(f"{path}, line {number}, is not an epoch's record; restore the file, or delete it")
        log.append(record)
    return log


def log_text(log: list[dict]) -> str:
    """``log.jsonl``'s text: one JSON line per epoch."""
    return "".join(json.dumps(r) + "\n" for r in log)


def save_checkpoint(
    path: str | os.PathLike,
    config: Config,
    model: torch.nn.Module,
    epoch: int,
    log: list[dict],
    wall_s: float,
    corpus: dict | None = None,
    provenance: dict | None = None,
) -> None:
    """Model, RNG states, log, corpus fingerprint and provenance after ``epoch``, atomically
    (a crash mid-write leaves the previous checkpoint intact)."""
    payload = {
        "config": config.to_dict(),
        "epoch": epoch,
        "model": model.state_dict(),
        "log": log,
        "wall_s": wall_s,
        "rng_cpu": torch.get_rng_state(),
        "rng_cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "corpus": corpus,
        "provenance": provenance,
    }

    def write(fh):
        try:
            torch.save(payload, fh)
        except RuntimeError as exc:  # torch's zip writer masks a failed write (disk full, Ctrl-C) with its own
            if isinstance(exc.__context__, (OSError, KeyboardInterrupt)):
                raise exc.__context__ from None
            raise

    _atomic(Path(path), write)


def _read_checkpoint(path: Path) -> dict:
    """``torch.load`` with ``weights_only``; whatever goes wrong is one :class:`CheckpointError`."""
    if not path.exists():
        raise CheckpointError(f"{path} does not exist")
    if path.is_dir():
        raise CheckpointError(f"{path} is a folder, not a checkpoint file")
    if path.stat().st_size == 0:
        raise CheckpointError(
            f"{path} is empty (written by a process that died mid-write?); delete it to start the run over"
        )
    why = "it is truncated or not a PyTorch file"  # torch reports a cut zip archive as EINVAL, among others
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EIO):
            raise  # the file cannot be read at all: main() names it with the reason
    except Exception as exc:  # noqa: BLE001 - torch raises many kinds; none of their texts is for the user
        if "weights only" in str(exc).lower():
            why = (
                "it holds objects other than tensors and plain data, so it is not an rnnreg checkpoint "
                "(rnnreg loads checkpoints as data only and never runs code from one)"
            )
    raise CheckpointError(
        f"{path} cannot be loaded: {why}. Delete it to start the run over, or point at the right run folder"
    )


def load_checkpoint(path: str | os.PathLike, config: Config | None = None) -> dict:
    """Read an rnnreg checkpoint safely; with ``config``, refuse one made for another configuration."""
    path = Path(path)
    ckpt = _read_checkpoint(path)
    if not isinstance(ckpt, dict):
        raise CheckpointError(f"{path} holds a {type(ckpt).__name__}, not an rnnreg checkpoint")
    missing = [k for k in CHECKPOINT_KEYS if k not in ckpt]
    if missing:
        if ckpt and all(isinstance(v, torch.Tensor) for v in ckpt.values()):
            raise CheckpointError(
                f"{path} holds bare model weights (a state dict), not an rnnreg checkpoint "
                "with its config, epoch and log; it cannot be evaluated or resumed here"
            )
        raise CheckpointError(f"{path} is not an rnnreg checkpoint: it lacks {', '.join(missing)}")
    if not isinstance(ckpt["config"], dict) or not isinstance(ckpt["model"], dict):
        raise CheckpointError(f"{path} is not an rnnreg checkpoint: its config or model is malformed")
    if config is not None:
        mine, theirs = config.to_dict(), ckpt["config"]
        diffs = [
            f"{k}: checkpoint has {theirs.get(k)!r}, this run has {mine[k]!r}"
            for k in mine
            if k not in RESUMABLE_DIFFERENCES and theirs.get(k) != mine[k]
        ]
        if config.epochs < ckpt["epoch"]:
            diffs.append(f"epochs: the checkpoint holds epoch {ckpt['epoch']}, this run ends after {config.epochs}")
        if diffs:
            raise CheckpointMismatchError(
                f"{path} was made for another configuration ({'; '.join(diffs)}). "
                "Resume with the same options, or train into another run folder."
            )
        for key in ("rng_cpu", "log", "wall_s"):
            if key not in ckpt:
                raise CheckpointError(f"{path} cannot be resumed: it lacks {key} (written by another program?)")
        _warn_if_threads_differ(ckpt, path, config)
    return ckpt


def _warn_if_threads_differ(ckpt: dict, path: Path, config: Config) -> None:
    """On CPU the thread count moves a run's last bits: a resume with another count is not bit-identical
    to a run that was never stopped."""
    then = recorded_threads(ckpt.get("provenance") or (ckpt.get("sessions") or [{}])[-1] or {})
    now = torch.get_num_threads()
    on_cpu = config.device == "cpu" or (config.device == "auto" and not torch.cuda.is_available())
    if on_cpu and then and then != now and ckpt["epoch"] < config.epochs:  # epochs still to train
        print(
            f"rnnreg: warning: {path} was trained with {then} CPU threads, this process has {now}: the run goes "
            f"on, but its last digits will differ from an unstopped run's (OMP_NUM_THREADS={then} keeps them)",
            file=sys.stderr,
        )


def _checkpoint_vocab_size(ckpt: dict, path: Path) -> int:
    bias = ckpt["model"].get("decoder.bias")
    if not isinstance(bias, torch.Tensor):
        raise CheckpointError(f"{path} is not an rnnreg checkpoint: its model has no decoder.bias")
    return bias.numel()


def check_resume_corpus(ckpt: dict, path: Path, corpus: Corpus) -> None:
    """Refuse to resume a checkpoint on another corpus; adopt an older one that records none."""
    recorded, current = ckpt.get("corpus"), corpus_fingerprint(corpus)
    differ = check_corpus(recorded, current, str(path))
    if differ:
        raise CorpusMismatchError(
            f"{path} was trained on {recorded.get('folder') or 'an in-memory corpus'}, whose "
            f"{', '.join(differ)} split{'s' if len(differ) > 1 else ''} differ from those of "
            f"{current.get('folder') or corpus.source or 'the corpus given'}: resuming would mix two corpora. "
            "Pass --data with the run's own corpus, or train into another run folder"
        )
    n = _checkpoint_vocab_size(ckpt, path)
    if n != len(corpus.vocab):
        raise CorpusMismatchError(
            f"{path} has a vocabulary of {n} words, the corpus {corpus.source or 'given'} has "
            f"{len(corpus.vocab)}: it was trained on another corpus. Pass --data with the run's own corpus, "
            "or train into another run folder"
        )
    if recorded is None:
        print(
            f"rnnreg: {path} records no corpus fingerprint (an older rnnreg wrote it); its vocabulary size "
            f"matches {corpus.source or 'the corpus given'}, whose fingerprint is recorded from now on",
            file=sys.stderr,
        )


def _warn_if_config_edited(run: Path, ckpt_config: dict) -> None:
    """``config.json`` is a record of the run; the checkpoint's own config is what the model is."""
    path = run / "config.json"
    try:
        on_disk = read_json(path) or {}
    except (OSError, RunFolderError):
        print(f"rnnreg: warning: {path} is unreadable; the checkpoint's configuration is used", file=sys.stderr)
        return
    if not on_disk:
        return
    diffs = [
        f"{k}: config.json {on_disk.get(k)!r}, checkpoint {ckpt_config.get(k)!r}"
        for k in sorted(set(on_disk) | set(ckpt_config))
        if k not in RESUMABLE_DIFFERENCES and on_disk.get(k) != ckpt_config.get(k)
    ]
    if diffs:
        print(
            f"rnnreg: warning: {path} differs from the checkpoint ({'; '.join(diffs)}); the checkpoint's "
            "configuration is used (config.json is a record of the run, not an input)",
            file=sys.stderr,
        )


def check_run_folder(run: Path) -> Path:
    """``run``'s checkpoint path; a missing folder, a file or a folder without one is a :class:`CheckpointError`."""
    if not run.exists():
        raise CheckpointError(f"the run folder {run} does not exist")
    if not run.is_dir():
        raise CheckpointError(f"{run} is a file, not a run folder")
    path = run / CHECKPOINT
    if not path.exists():
        raise CheckpointError(f"{run} has no checkpoint.pt: it is not a run folder, or its first epoch never finished")
    return path


def load_run_model(run: str | os.PathLike, vocab_size: int | None = None, corpus: Corpus | None = None):
    """The model of a run folder's checkpoint (evaluation mode), its Config and its epoch. ``corpus`` is
    checked against the run's fingerprint (another vocabulary refused, other valid/test tokens noted)."""
    run = Path(run)
    path = check_run_folder(run)
    ckpt = load_checkpoint(path)
    try:
        config = Config.from_dict(ckpt["config"])
    except (TypeError, ValueError) as exc:
        raise CheckpointError(
            f"{path} has a config this rnnreg does not accept ({exc}); it was written by another version or program"
        ) from None
    _warn_if_config_edited(run, ckpt["config"])
    if corpus is not None:
        current = corpus_fingerprint(corpus)
        differ = check_corpus(ckpt.get("corpus"), current, str(run), splits=("valid", "test"))
        if differ:
            print(
                f"rnnreg: note: the {' and '.join(differ)} split{'s' if len(differ) > 1 else ''} of "
                f"{current.get('folder') or corpus.source or 'this corpus'} differ from those {run} was trained "
                "with (same vocabulary)",
                file=sys.stderr,
            )
        vocab_size = vocab_size or len(corpus.vocab)
    n = _checkpoint_vocab_size(ckpt, path)
    if vocab_size is not None and vocab_size != n:
        raise CorpusMismatchError(
            f"{run}'s model has a vocabulary of {n} words, the corpus given has {vocab_size}: "
            "it was trained on another corpus. Pass --data with the run's own corpus"
        )
    model = build_model(config, n)
    try:
        model.load_state_dict(ckpt["model"])
    except RuntimeError:
        raise CheckpointError(
            f"{path}: its weights do not fit the model its own config describes "
            "(written by another version or program?)"
        ) from None
    return model.eval(), config, ckpt["epoch"]


def record(run: str | os.PathLike, dest: str | os.PathLike) -> list[Path]:
    """Copy a run folder's record (never its checkpoint) into ``dest``; returns the files written. A run
    still training gives config and log plus ``progress.json`` (epochs done, wall time, provenance)."""
    run, dest = Path(run), Path(dest)
    if dest.resolve() == run.resolve():
        raise RunFolderError(f"{dest} is the run folder itself; record it into another folder (results/...)")
    summary = read_json(run / "summary.json")
    if summary is not None:
        dest.mkdir(parents=True, exist_ok=True)
        written = [dest / name for name in RECORD_FILES if (run / name).exists()]
        for path in written:
            write_text(path, (run / path.name).read_text())
        (dest / "progress.json").unlink(missing_ok=True)
        return written
    if not (run / CHECKPOINT).exists():
        raise CheckpointError(f"{run} has neither summary.json nor checkpoint.pt: no epoch of a run finished there")
    if (dest / "summary.json").exists():
        raise RunFolderError(f"{dest / 'summary.json'} records a complete run; record this one into another folder")
    ckpt = load_checkpoint(run / CHECKPOINT)
    # A checkpoint written before provenance was kept names its processes in "sessions": the last one.
    prov = ckpt.get("provenance") or (ckpt.get("sessions") or [{}])[-1]
    dest.mkdir(parents=True, exist_ok=True)
    write_json(dest / "config.json", ckpt["config"])
    write_text(dest / "log.jsonl", log_text(ckpt["log"]))
    write_json(
        dest / "progress.json",
        {
            "epochs_done": ckpt["epoch"],
            "epochs_planned": ckpt["config"]["epochs"],
            "wall_s": ckpt["wall_s"],
            **{k: prov[k] for k in PROVENANCE_KEYS if k in prov},
            "recorded": utc_now(),
            "from": str(run),
        },
    )
    return [dest / "config.json", dest / "log.jsonl", dest / "progress.json"]


PROVENANCE_KEYS = ("command", "git_commit", "torch", "python", "device", "threads", "finished")


@functools.cache
def git_commit() -> str:
    """The commit of the code this process runs, read once, on the first call (a long process, e.g.
    a grid runner, keeps running that code while the tree moves on); ``-dirty`` with local edits."""
    root = Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


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


def provenance(command: str | None = None, device: torch.device | str = "cpu") -> dict:
    """How a result was made: command, git commit, torch, python, device, CPU threads (on CPU: they
    move the last bits of a run), finished time (UTC)."""
    device = torch.device(device)
    return {
        "command": command or " ".join([Path(sys.executable).name, *sys.argv]),
        "git_commit": git_commit(),
        "torch": str(torch.__version__),
        "python": platform.python_version(),
        "device": machine_description(device),
        **({"threads": torch.get_num_threads()} if device.type == "cpu" else {}),
        "finished": utc_now(),
    }


def recorded_threads(record: dict) -> int | None:
    """The CPU thread count a record names: its ``threads`` field, or, in records written before
    that field existed, the "N threads" of its ``device`` string (None when it names neither)."""
    if record.get("threads") is not None:
        return int(record["threads"])
    found = re.search(r"(\d+) threads?", record.get("device") or "")
    return int(found[1]) if found else None


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
        "vocab_size": len(corpus.vocab),
        "vocab_sha256": vocab_sha256(corpus.vocab.words),
        "tokens": {s: len(getattr(corpus, s)) for s in SPLITS},
        "token_sha256": {s: _ids_sha256(getattr(corpus, s)) for s in SPLITS},
    }


def _describe(fp: dict) -> str:
    return fp.get("folder") or "an in-memory corpus"


def check_corpus(recorded: dict | None, current: dict, what: str, splits=SPLITS) -> list[str]:
    """The names of ``splits`` whose tokens differ from those a run recorded (none when it recorded no
    fingerprint); another vocabulary is a :class:`CorpusMismatchError` (word ids would mean other words)."""
    if not recorded:
        return []
    if recorded.get("vocab_sha256") not in (None, current["vocab_sha256"]):
        same = ", the same size" if recorded.get("vocab_size") == current["vocab_size"] else ""
        raise CorpusMismatchError(
            f"{what} was trained on {_describe(recorded)} (vocabulary of {recorded.get('vocab_size')} words), "
            f"but the corpus given is {_describe(current)} with another vocabulary ({current['vocab_size']} "
            f"words{same}); its word ids would mean other words. Pass --data with the run's own corpus"
        )
    theirs = recorded.get("token_sha256") or {}
    return [s for s in splits if s in theirs and theirs[s] != current["token_sha256"][s]]


def recorded_corpus(run_dir: str | os.PathLike) -> dict | None:
    """The corpus a run recorded: the fingerprint of ``summary.json``, else of its checkpoint; for a
    summary written before fingerprints, ``{"folder": its corpus}``; None when it records none."""
    run_dir = Path(run_dir)
    try:
        summary = read_json(run_dir / "summary.json") or {}
    except (OSError, RunFolderError):
        summary = {}
    if isinstance(summary.get("corpus_fingerprint"), dict):
        return summary["corpus_fingerprint"]
    try:
        ckpt = torch.load(run_dir / CHECKPOINT, map_location="cpu", weights_only=True, mmap=True)
        if isinstance(ckpt.get("corpus"), dict):
            return ckpt["corpus"]
    except Exception:  # noqa: BLE001 - unreadable: load_checkpoint says why, later
        pass
    return {"folder": summary["corpus"]} if isinstance(summary.get("corpus"), str) and summary["corpus"] else None


def recorded_corpus_folder(run_dir: str | os.PathLike) -> Path | None:
    """The corpus folder a run recorded (:func:`recorded_corpus`), if it still holds a corpus."""
    folder = (recorded_corpus(run_dir) or {}).get("folder")
    return Path(folder) if isinstance(folder, str) and folder and split_files(Path(folder)) else None
