"""The run folder: ``config.json``, ``log.jsonl`` (one line per epoch), ``checkpoint.pt`` (after every
epoch; not for git) and, once complete, ``summary.json`` with its :func:`provenance`. This module is the
only owner of those files; :mod:`rnnreg.train` decides what goes into them.

* **One writer:** an OS lock (``flock``) on ``<run>/.lock``, dropped by the OS however the process dies.
* **Atomic files:** written to a temporary file of their own beside the target, ``fsync``'d, renamed over it.
* **Safe reading:** checkpoints load with ``weights_only=True`` (they cannot run code); the one reader
  of the JSON records (:func:`read_json`, :func:`read_log`) names the file it cannot parse.
* **Corpus fingerprint:** the vocabulary, each split's tokens and each file's SHA-256, so that a
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

LOCK = ".lock"
CHECKPOINT = "checkpoint.pt"
PROVENANCE_KEYS = ("command", "git_commit", "torch", "python", "device", "threads", "finished")


class RunFolderError(RuntimeError):
    """A run folder, its checkpoint or its records cannot be used as asked; the message says why."""


class RunFolderBusyError(RunFolderError):
    """Another live process is training into the same run folder."""


class CheckpointMismatchError(ValueError):
    """A checkpoint was made for another configuration."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) during training; the message says what was saved and how to resume."""


def _warn(message: str) -> None:
    print(f"rnnreg: {message}", file=sys.stderr)


# --- One writer --------------------------------------------------------------------------------------------
_HELD: dict[str, tuple[int, int]] = {}  # resolved run folder -> (pid, fd of its locked .lock)


def _unlock(fd: int) -> None:
    os.close(fd)  # closing the only descriptor drops the flock


def claim_run_dir(run_dir: str | os.PathLike) -> bool | None:
    """Take ``run_dir`` for this process. True: claimed now (give it back with :func:`release_run_dir`);
    None: this process already holds it; False: another live process does."""
    import fcntl

    run_dir = Path(run_dir)
    key = str(run_dir.resolve())
    if key in _HELD:
        if _HELD[key][0] == os.getpid():
            return None
        with contextlib.suppress(OSError):  # inherited through fork: the parent's lock, not ours
            os.close(_HELD.pop(key)[1])
    if run_dir.exists() and not run_dir.is_dir():
        raise RunFolderError(f"{run_dir} is a file, not a run folder; choose another --out")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunFolderError(f"cannot create the run folder {run_dir}: {exc.strerror or exc}") from None
    lock = run_dir / LOCK
    while True:  # again when the holder released (and removed) the file between our open and our lock
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            why = "it is a folder; remove it (rnnreg makes this file itself)" if lock.is_dir() else exc.strerror
            raise RunFolderError(f"cannot open the run folder's lock file {lock}: {why}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # another live process holds it
            os.close(fd)
            return False
        with contextlib.suppress(FileNotFoundError):
            if os.fstat(fd).st_ino == os.stat(lock).st_ino:
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
                _HELD[key] = os.getpid(), fd
                return True
        os.close(fd)


def run_dir_holder(run_dir: str | os.PathLike) -> str:
    """Who holds ``run_dir``, for messages: ``"another process (pid 123)"``, or ``"another process"``."""
    try:
        pid = int((Path(run_dir) / LOCK).read_text().strip() or 0)
    except (OSError, ValueError):
        pid = 0
    return f"another process (pid {pid})" if pid else "another process"


def release_run_dir(run_dir: str | os.PathLike) -> None:
    """Give ``run_dir`` back. Never raises: a failure here must not hide the error that ended the run."""
    held = _HELD.pop(str(Path(run_dir).resolve()), None)
    if held is None or held[0] != os.getpid():
        return
    with contextlib.suppress(OSError):  # unlinked while still locked: see claim_run_dir
        (Path(run_dir) / LOCK).unlink(missing_ok=True)
    try:
        _unlock(held[1])
    except OSError as exc:
        _warn(f"warning: could not release the lock of {run_dir}: {exc}")


# --- Atomic files, and the one reader of records -------------------------------------------------------------
def _atomic(path: Path, write) -> None:
    """``write(fh)`` into a temporary file of its own beside ``path`` (its folder made), fsync, rename over ``path``."""
    path, tmp = Path(path), None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
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
    data = text.encode("utf-8")
    _atomic(Path(path), lambda fh: fh.write(data))


def write_json(path: str | os.PathLike, obj, indent: int | None = 2) -> None:
    write_text(path, json.dumps(obj, indent=indent) + "\n")


def read_json(path: str | os.PathLike, kind: type | None = dict):
    """A record's JSON, or None where there is no such file; not JSON, or not a ``kind`` (None: anything),
    is a :class:`RunFolderError` naming the file."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        value = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise RunFolderError(f"{path} is not valid JSON ({exc}); restore it, or delete it") from None
    if kind is not None and not isinstance(value, kind):
        raise RunFolderError(f"{path} holds a JSON {type(value).__name__}, not a {kind.__name__}; restore or delete it")
    return value


def read_log(path: str | os.PathLike) -> list[dict]:
    """The epochs of a ``log.jsonl`` ([] where there is none); a bad line is a :class:`RunFolderError` naming it."""
    path, log = Path(path), []
    for number, line in enumerate(path.read_text().splitlines() if path.is_file() else [], 1):
        try:
            log += [json.loads(line)] if line.strip() else []
        except ValueError:
            log.append(None)
        if log and not (isinstance(log[-1], dict) and {"epoch", "valid_ppl", "train_ppl"} <= set(log[-1])):
            raise RunFolderError(f"{path}, line {number}, is not an epoch's record; restore or delete the file")
    return log


def log_text(log: list[dict]) -> str:
    return "".join(json.dumps(r) + "\n" for r in log)


# --- Checkpoints --------------------------------------------------------------------------------------------
def save_checkpoint(path, config: Config, model, epoch: int, log, wall_s: float, corpus=None, provenance=None) -> None:
    """Model, RNG states, log, corpus fingerprint and provenance after ``epoch``, atomically."""
    payload = dict(config=config.to_dict(), epoch=epoch, model=model.state_dict(), log=log, wall_s=wall_s)
    payload["rng_cpu"] = torch.get_rng_state()
    payload["rng_cuda"] = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []
    payload |= dict(corpus=corpus, provenance=provenance)

    def write(fh):
        try:
            torch.save(payload, fh)
        except RuntimeError as exc:  # torch's zip writer masks a failed write (disk full, Ctrl-C) with its own
            if isinstance(exc.__context__, (OSError, KeyboardInterrupt)):
                raise exc.__context__ from None
            raise

    _atomic(Path(path), write)


def _read_checkpoint(path: Path) -> dict:
    """``torch.load`` with ``weights_only``; whatever goes wrong is one :class:`RunFolderError`."""
    if not path.is_file():
        raise RunFolderError(f"{path} {'is a folder, not a checkpoint file' if path.is_dir() else 'does not exist'}")
    if path.stat().st_size == 0:
        raise RunFolderError(f"{path} is empty (its writer died mid-write?); delete it to start the run over")
    why = "it is truncated or not a PyTorch file"  # torch reports a cut zip archive as EINVAL, among others
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EIO):
            raise  # the file cannot be read at all: main() names it with the reason
    except Exception as exc:  # noqa: BLE001 - torch raises many kinds; none of their texts is for the user
        if "weights only" in str(exc).lower():
            why = "it holds objects other than tensors and plain data, so it is not an rnnreg checkpoint"
    else:
        missing = [k for k in ("config", "epoch", "model") if k not in ckpt] if isinstance(ckpt, dict) else ["all"]
        if not missing and isinstance(ckpt["config"], dict) and isinstance(ckpt["model"], dict):
            return ckpt
        if isinstance(ckpt, dict) and ckpt and all(isinstance(v, torch.Tensor) for v in ckpt.values()):
            why = "it holds bare model weights (a state dict), not an rnnreg checkpoint with its config and log"
        else:
            why = f"it is not an rnnreg checkpoint: it lacks {', '.join(missing) or 'a well-formed config or model'}"
    raise RunFolderError(f"{path} cannot be loaded: {why}. Delete it to start the run over, or name another run")


def load_checkpoint(path: str | os.PathLike, config: Config | None = None) -> dict:
    """Read an rnnreg checkpoint safely; with ``config``, refuse one made for another configuration."""
    path = Path(path)
    ckpt = _read_checkpoint(path)
    if config is None:
        return ckpt
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
    if missing := [key for key in ("rng_cpu", "log", "wall_s") if key not in ckpt]:
        raise RunFolderError(f"{path} cannot be resumed: it lacks {', '.join(missing)} (written by another program?)")
    # On CPU the thread count moves a run's last bits: a resume with another count is not bit-identical.
    then, now = recorded_threads(ckpt.get("provenance") or {}), torch.get_num_threads()
    on_cpu = config.device == "cpu" or (config.device == "auto" and not torch.cuda.is_available())
    if on_cpu and then and then != now and ckpt["epoch"] < config.epochs:
        _warn(
            f"warning: {path} was trained with {then} CPU threads, this process has {now}: the run goes on, but "
            f"its last digits will differ from an unstopped run's (OMP_NUM_THREADS={then} keeps them)"
        )
    return ckpt


def _vocab_size(ckpt: dict, path: Path, expected: int | None = None) -> int:
    """The checkpoint's vocabulary size; another than ``expected`` is another corpus."""
    bias = ckpt["model"].get("decoder.bias")
    if not isinstance(bias, torch.Tensor):
        raise RunFolderError(f"{path} is not an rnnreg checkpoint: its model has no decoder.bias")
    if expected not in (None, n := bias.numel()):
        raise RunFolderError(f"{path} has a vocabulary of {n} words, the corpus given {expected}: pass --data")
    return bias.numel()


def check_corpus(ckpt: dict, path: Path, corpus: Corpus, resume: bool = False) -> int:
    """The checkpoint's vocabulary size, checked against ``corpus``: another vocabulary is refused (word ids
    would mean other words); resuming, other tokens in any split too (evaluating, other valid/test tokens are
    noted). A checkpoint without a fingerprint (an older rnnreg) is checked by its vocabulary size."""
    recorded, current = ckpt.get("corpus") or {}, corpus_fingerprint(corpus)
    n, trained_on, given = _vocab_size(ckpt, path), recorded.get("folder"), current["folder"] or corpus.source
    if recorded.get("vocab_sha256", current["vocab_sha256"]) != current["vocab_sha256"] or n != len(corpus.vocab):
        raise RunFolderError(
            f"{path} was trained on {trained_on or 'another corpus'} (vocabulary of {n} words), but the corpus "
            f"given is {given or 'in memory'} with another vocabulary ({len(corpus.vocab)} words): its word ids "
            "would mean other words. Pass --data with the run's own corpus"
        )
    theirs = recorded.get("token_sha256") or {}
    differ = [s for s in SPLITS[0 if resume else 1 :] if s in theirs and theirs[s] != current["token_sha256"][s]]
    splits = f"{' and '.join(differ)} split{'s' * (len(differ) > 1)}"
    if differ and resume:
        raise RunFolderError(
            f"{path} was trained on {trained_on}, whose {splits} differ from those of {given}: resuming would mix "
            "two corpora. Pass --data with the run's own corpus, or train into another run folder"
        )
    if differ:
        _warn(f"note: the {splits} of {given} differ from those {path} was trained with (same vocabulary)")
    if resume and not recorded:
        _warn(f"{path} records no corpus fingerprint (an older rnnreg wrote it); its vocabulary size matches")
    return n


def check_run_folder(run: Path) -> Path:
    """``run``'s checkpoint path; a missing folder, a file or a folder without one is a :class:`RunFolderError`."""
    if not run.is_dir():
        raise RunFolderError(
            f"{run} is a file, not a run folder" if run.exists() else f"the run folder {run} does not exist"
        )
    if not (run / CHECKPOINT).exists():
        raise RunFolderError(f"{run} has no checkpoint.pt: it is not a run folder, or its first epoch never finished")
    return run / CHECKPOINT


def load_run_model(run: str | os.PathLike, vocab_size: int | None = None, corpus: Corpus | None = None):
    """The model of a run folder's checkpoint (evaluation mode), its Config and its epoch; ``corpus``: see
    :func:`check_corpus`."""
    run = Path(run)
    path = check_run_folder(run)
    ckpt = load_checkpoint(path)
    try:
        config = Config.from_dict(ckpt["config"])
    except (TypeError, ValueError) as exc:
        raise RunFolderError(f"{path} has a config this rnnreg does not accept ({exc})") from None
    try:  # config.json is a record of the run; the checkpoint's own config is what the model is
        on_disk = read_json(run / "config.json") or {}
    except RunFolderError as exc:
        on_disk = _warn(f"warning: {exc}; the checkpoint's configuration is used") or {}
    theirs = ckpt["config"]
    diffs = [
        f"{k}: config.json {on_disk.get(k)!r}, checkpoint {theirs.get(k)!r}"
        for k in sorted(set(on_disk) | set(theirs))
        if on_disk and k not in RESUMABLE_DIFFERENCES and on_disk.get(k) != theirs.get(k)
    ]
    if diffs:
        _warn(
            f"warning: {run}: config.json differs from the checkpoint ({'; '.join(diffs)}); "
            "the checkpoint's configuration is used"
        )
    n = _vocab_size(ckpt, path, vocab_size) if corpus is None else check_corpus(ckpt, path, corpus)
    model = build_model(config, n)
    try:
        model.load_state_dict(ckpt["model"])
    except RuntimeError:
        raise RunFolderError(f"{path}: its weights do not fit the model its own config describes") from None
    return model.eval(), config, ckpt["epoch"]


#: What ``record`` copies of a complete run: its record and chapter 03's measurements.
RECORD = ("config.json", "log.jsonl", "summary.json", "signal.json", "mask_noise.json")


def record(run: str | os.PathLike, dest: str | os.PathLike) -> list[Path]:
    """Copy a run folder's record (never its checkpoint) into ``dest``; the files written: config, log,
    summary and the measurements ``python -m rnnreg measure`` wrote beside it. A run still training gives
    config and log plus ``progress.json`` (epochs done, wall time, provenance)."""
    run, dest = Path(run), Path(dest)
    if dest.resolve() == run.resolve():
        raise RunFolderError(f"{dest} is the run folder itself; record it into another folder (results/...)")
    if read_json(run / "summary.json") is not None:
        written = [dest / name for name in RECORD if (run / name).exists()]
        for path in written:
            write_text(path, (run / path.name).read_text())
        (dest / "progress.json").unlink(missing_ok=True)
        return written
    if not (run / CHECKPOINT).exists():
        raise RunFolderError(f"{run} has neither summary.json nor checkpoint.pt: no epoch of a run finished there")
    if (dest / "summary.json").exists():
        raise RunFolderError(f"{dest / 'summary.json'} records a complete run; record this one into another folder")
    ckpt = load_checkpoint(run / CHECKPOINT)
    write_json(dest / "config.json", ckpt["config"])
    write_text(dest / "log.jsonl", log_text(ckpt["log"]))
    done = {"epochs_done": ckpt["epoch"], "epochs_planned": ckpt["config"]["epochs"], "wall_s": ckpt["wall_s"]}
    prov = {k: v for k, v in (ckpt.get("provenance") or {}).items() if k in PROVENANCE_KEYS}
    write_json(dest / "progress.json", {**done, **prov, "recorded": utc_now(), "from": str(run)})
    return [dest / "config.json", dest / "log.jsonl", dest / "progress.json"]


# --- Provenance ---------------------------------------------------------------------------------------------
@functools.cache
def git_commit() -> str:
    """The commit of the code this process runs, read once (a long run keeps running that code while the
    tree moves on); ``-dirty`` with local edits."""
    root = Path(__file__).resolve().parent.parent
    try:
        git = functools.partial(subprocess.run, cwd=root, capture_output=True, text=True)
        sha = git(["git", "rev-parse", "HEAD"], check=True).stdout.strip()
        dirty = git(["git", "status", "--porcelain", "--untracked-files=no"]).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine_description(device: torch.device) -> str:
    """The GPU, or the CPU, its threads and the vector instructions PyTorch uses (they move a run's last bits)."""
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda})"
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        names = [line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")]
        cpu = names[0].split(":", 1)[1].strip() if names else cpu
    return f"{cpu}, {torch.get_num_threads()} threads, {torch.backends.cpu.get_cpu_capability()}"


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def provenance(command: str | None = None, device: torch.device | str = "cpu") -> dict:
    """How a result was made: command, git commit, torch, python, device, CPU threads, finished time (UTC)."""
    device = torch.device(device)
    record = {"command": command or " ".join([Path(sys.executable).name, *sys.argv]), "git_commit": git_commit()}
    record |= dict(torch=str(torch.__version__), python=platform.python_version(), device=machine_description(device))
    return record | ({"threads": torch.get_num_threads()} if device.type == "cpu" else {}) | {"finished": utc_now()}


def recorded_threads(record: dict) -> int | None:
    """The CPU threads a record names: ``threads``, else (older records) the "N threads" of ``device``."""
    if record.get("threads") is not None:
        return int(record["threads"])
    found = re.search(r"(\d+) threads?", record.get("device") or "")
    return int(found[1]) if found else None


# --- The corpus a run was trained on -----------------------------------------------------------------------
def corpus_files(corpus: Corpus) -> dict[str, Path] | None:
    """The split files a corpus was read from, when its ``source`` is a corpus folder."""
    folder = Path(corpus.source) if corpus.source else None
    with contextlib.suppress(OSError):
        return split_files(folder) if folder and folder.is_dir() else None
    return None


def _ids_sha256(ids: torch.Tensor) -> str:
    values = array.array("q", ids.to(torch.int64).tolist())
    if sys.byteorder == "big":
        values.byteswap()
    return hashlib.sha256(values.tobytes()).hexdigest()


def corpus_fingerprint(corpus: Corpus) -> dict:
    """What identifies ``corpus``: its vocabulary, each split's token count and ids (SHA-256) and, for a corpus
    folder, the folder and each file's SHA-256."""
    files = corpus_files(corpus)
    return {
        "folder": str(Path(corpus.source).resolve()) if files else None,
        "files": {s: files[s].name for s in SPLITS} if files else None,
        "file_sha256": {s: sha256(files[s]) for s in SPLITS} if files else None,
        "vocab_size": len(corpus.vocab),
        "vocab_sha256": hashlib.sha256("\n".join(corpus.vocab.words).encode("utf-8")).hexdigest(),
        "tokens": {s: len(getattr(corpus, s)) for s in SPLITS},
        "token_sha256": {s: _ids_sha256(getattr(corpus, s)) for s in SPLITS},
    }


def recorded_corpus(run_dir: str | os.PathLike) -> dict | None:
    """The corpus fingerprint a run recorded (in ``summary.json``, else in its checkpoint), or None."""
    run_dir = Path(run_dir)
    summary, checkpoint = run_dir / "summary.json", run_dir / CHECKPOINT
    for read in (lambda: read_json(summary)["corpus_fingerprint"], lambda: _read_checkpoint(checkpoint)["corpus"]):
        with contextlib.suppress(RunFolderError, OSError, TypeError, KeyError):  # unreadable: said when loading
            if isinstance(found := read(), dict):
                return found
    return None
