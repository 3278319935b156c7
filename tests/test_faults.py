"""Faults of the run side (issue #12 §2): each ends in one sentence, never a traceback, a hang or a wrong number.

Rerun a row by hand with a tiny corpus folder T (train.txt, valid.txt, test.txt), another one O
(same vocabulary size, other words or order), and S="--quiet --hidden-size 8 --steps 5 --batch-size 4".
"was:" is what the code before this change did.

 # | fault tried                       | command                                  | what it gets now
---+-----------------------------------+------------------------------------------+----------------------------------------
 1 | evaluate on another corpus with   | rnnreg evaluate R --data O               | exit 2 "R was trained on T (...) but
   | the same vocabulary size          |                                          | the corpus given is O with another
   |                                   |                                          | vocabulary ..." (was: garbage, exit 0)
 1 | resume with another --data        | rnnreg train S --data O --out R          | exit 2, same sentence; same words but
   |                                   |                                          | other train text: "... splits differ
   |                                   |                                          | ... would mix two corpora"
 1 | evaluate/average/measure with no  | RNNREG_DATA=O rnnreg evaluate R          | the corpus R recorded (named on
   | --data                            |                                          | stderr); gone: usual lookup, checked
 1 | checkpoint of an older rnnreg,    | rnnreg train ... resuming it             | one stderr line "records no corpus
   | no fingerprint                    |                                          | fingerprint"; recorded from then on;
   |                                   |                                          | bit-identical to an uninterrupted run
 2 | empty / short valid or test split | rnnreg train S --data T --out R          | exit 2 before a model or run folder:
   |                                   |                                          | "the valid split (T/valid.txt) has 0
   |                                   |                                          | tokens; ... needs at least 8" (was:
   |                                   |                                          | after an epoch / after training)
 2 | train split shorter than a window | train(config, corpus)                    | DataError naming file, size, need
   |                                   |                                          | (was: ZeroDivisionError)
 3 | huge finite loss                  | rnnreg train S --lr 1e6                  | exit 2 "loss became 3e+06 per token
   |                                   |                                          | ... diverged" (was: OverflowError)
 3 | valid perplexity 1.4e16           | rnnreg train S --clip inf (simulated)    | DivergedError, last good checkpoint
   |                                   |                                          | kept (was: written as a result)
 3 | perplexity of a huge NLL          | perplexity(1e6, 1)                       | inf (was: OverflowError)
 5 | --device cuda without CUDA; "gpu" | rnnreg train S --device cuda             | exit 2 "device 'cuda' is not
   |                                   |                                          | available: ..." (was: AssertionError)
 5 | run trained on a GPU, evaluated   | rnnreg evaluate R                        | a note, evaluated on 'auto'
   | where there is none               |                                          |
 5 | --out naming a file               | rnnreg train S --out FILE                | exit 2 "FILE is a file, not a run
   |                                   |                                          | folder" (was: FileExistsError)
 5 | disk full writing a checkpoint    | (simulated ENOSPC in the writer)         | exit 2 "R/checkpoint.pt: No space
   |                                   |                                          | left ... run the same command again";
   |                                   |                                          | no .tmp left; epoch 1 intact (was:
   |                                   |                                          | RuntimeError from torch, .pt.tmp left)
 5 | read-only run folder              | (simulated EROFS)                        | exit 2 "R/config.json: Read-only file
   |                                   |                                          | system (write somewhere else ...)"
 5 | truncated / empty / text /        | rnnreg evaluate R                        | exit 2, one sentence each, never the
   | foreign / bare state-dict ckpt    |                                          | "weights_only=False" hint
 5 | missing run folder                | rnnreg evaluate /no/such/run             | exit 2 "the run folder ... does not
   |                                   |                                          | exist" (was: FileNotFoundError)
 5 | SIGINT during training            | Ctrl-C in rnnreg train                   | exit 130 "interrupted: ... R/checkpoint
   |                                   |                                          | .pt holds epoch 1. Run the same
   |                                   |                                          | command again to resume from epoch 2"
 5 | releasing the claim fails         | (simulated failing unlock)               | the real error, plus a warning line
 6 | processes claim one folder at     | 4 processes x 20 rounds, barrier-started | exactly one winner each round (was:
   | once, stale claim present         |                                          | 190 of 300 trials with two)
 6 | a live writer holds the folder    | rnnreg train S --out R                   | RunFolderBusyError "another process
   |                                   |                                          | (pid N) is training into R"
 6 | the writer crashed                | rnnreg train S --out R                   | trains: the OS dropped the lock
 8 | scheme at rate 0; unused          | --scheme zaremba --dropout 0;            | one stderr warning line each
   | --recurrent-dropout / --zoneout-h | --scheme zaremba --recurrent-dropout 0.3 |
 8 | edited config.json                | edit R/config.json; rnnreg evaluate R    | a warning naming the field; "the
   |                                   |                                          | checkpoint's configuration is used"
 8 | abbreviated flag                  | rnnreg train --hidden 16                 | argparse error, exit 2 (was: taken)
 8 | crash between checkpoint and log  | (simulated failure saving epoch 2)       | log.jsonl never names an epoch its
   |                                   |                                          | checkpoint lacks
"""
from __future__ import annotations

import builtins
import errno
import io
import json
import math
import multiprocessing as mp
import os
import signal
from pathlib import Path

import pytest
import torch
from corpora import write_tiny_corpus

from rnnreg import runfolder
from rnnreg import train as train_mod
from rnnreg.__main__ import main
from rnnreg.analysis.averaging import averaged_perplexity
from rnnreg.data import DataError, load_corpus
from rnnreg.runfolder import RunFolderBusyError, claim_run_dir, release_run_dir
from rnnreg.train import Config, DivergedError, NonFiniteLossError, build_model, load_checkpoint, perplexity, train

SMALL = ["--quiet", "--hidden-size", "8", "--steps", "5", "--batch-size", "4"]


def make_corpus(folder: Path, seed: int = 0, lines=(300, 40, 40), extra_train: str = "") -> Path:
    """A tiny grammar corpus; another seed gives the same words in another order (other ids)."""
    return write_tiny_corpus(folder, seed, lines, extra_train)


def tiny_config(**kw) -> Config:
    base = dict(hidden_size=8, steps=5, batch_size=4, epochs=2, scheme="zaremba", dropout=0.2, seed=3,
                decay_after=1)
    return Config.preset("small", **{**base, **kw})


def train_cli(data: Path, out: Path, *extra: str) -> int:
    return main(["train", "--data", str(data), "--out", str(out), *SMALL, *extra])


def no_traceback(err: str) -> None:
    assert "Traceback" not in err and "weights_only=False" not in err


@pytest.fixture
def corpus_a(tmp_path):
    return make_corpus(tmp_path / "a", seed=0)


@pytest.fixture
def run_a(corpus_a, tmp_path, capsys):
    """A finished one-epoch run on corpus A."""
    run = tmp_path / "run"
    assert train_cli(corpus_a, run, "--epochs", "1") == 0
    capsys.readouterr()
    return run


# ------------------------------------------------------------------------------------------------
# 1. The corpus a run was trained on
# ------------------------------------------------------------------------------------------------

def test_evaluate_on_another_corpus_with_the_same_vocabulary_size_is_refused(run_a, corpus_a, tmp_path, capsys):
    other = make_corpus(tmp_path / "b", seed=5)
    assert len(load_corpus(other).vocab) == len(load_corpus(corpus_a).vocab)
    assert main(["evaluate", str(run_a), "--data", str(other)]) == 2
    err = capsys.readouterr().err
    assert "another vocabulary" in err and str(corpus_a) in err and "--data" in err
    no_traceback(err)


def test_resuming_on_another_corpus_is_refused(corpus_a, tmp_path, capsys):
    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):  # the CLI's config, stopped after epoch 1 of 2
        train(Config.preset("small", hidden_size=8, steps=5, batch_size=4, epochs=2), load_corpus(corpus_a), run,
              progress=False, callbacks=[_stop_after_epoch_1])
    other = make_corpus(tmp_path / "b", seed=5)
    assert train_cli(other, run, "--epochs", "2") == 2
    assert "another vocabulary" in capsys.readouterr().err
    # The same words, other training text: the vocabulary matches, the train split does not.
    longer = make_corpus(tmp_path / "c", seed=0, extra_train=" the cat sees the fish\n")
    assert train_cli(longer, run, "--epochs", "2") == 2
    err = capsys.readouterr().err
    assert "train split differ" in err and "mix two corpora" in err
    assert load_checkpoint(run / "checkpoint.pt")["epoch"] == 1


def test_checkpoint_and_summary_record_the_corpus(run_a, corpus_a):
    ckpt = load_checkpoint(run_a / "checkpoint.pt")
    summary = json.loads((run_a / "summary.json").read_text())
    for fp in (ckpt["corpus"], summary["corpus_fingerprint"]):
        assert fp["folder"] == str(corpus_a.resolve())
        assert fp["file_sha256"]["valid"] == runfolder.sha256(corpus_a / "valid.txt")
        assert fp["vocab_size"] == len(load_corpus(corpus_a).vocab) and len(fp["vocab_sha256"]) == 64


def test_evaluate_without_data_uses_the_corpus_the_run_recorded(run_a, corpus_a, tmp_path, monkeypatch, capsys):
    other = make_corpus(tmp_path / "b", seed=5)
    monkeypatch.setenv("RNNREG_DATA", str(other))  # the usual lookup would find another corpus
    assert main(["evaluate", str(run_a)]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["test_ppl"] == pytest.approx(json.loads((run_a / "summary.json").read_text())["test_ppl"],
                                                        abs=1e-3)
    assert str(corpus_a.resolve()) in err
    # The recorded folder is gone: the usual lookup, still checked against the fingerprint.
    corpus_a.rename(tmp_path / "moved")
    assert main(["evaluate", str(run_a)]) == 2
    assert "another vocabulary" in capsys.readouterr().err


def test_average_and_measure_default_to_the_recorded_corpus(run_a, corpus_a, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RNNREG_DATA", str(make_corpus(tmp_path / "b", seed=5)))
    out = tmp_path / "avg.json"
    assert main(["average", str(run_a), "--split", "valid", "--out", str(out)]) == 0
    valid_ppl = json.loads((run_a / "summary.json").read_text())["valid_ppl"]
    assert json.loads(out.read_text())["average_ppl"] == [pytest.approx(valid_ppl, rel=1e-4)]
    assert str(corpus_a.resolve()) in capsys.readouterr().err
    assert main(["measure", str(run_a), "--max-lag", "2", "--samples", "4", "--positions", "10"]) == 0
    assert str(corpus_a.resolve()) in capsys.readouterr().err and (run_a / "signal.json").exists()


def test_an_older_checkpoint_without_fingerprint_resumes_bit_for_bit_and_records_it(corpus_a, tmp_path, capsys):
    corpus = load_corpus(corpus_a)
    full = train(tiny_config(), corpus, tmp_path / "full", progress=False)
    run = tmp_path / "old"
    with pytest.raises(KeyboardInterrupt):
        train(tiny_config(), corpus, run, progress=False, callbacks=[_stop_after_epoch_1])
    ckpt = torch.load(run / "checkpoint.pt", weights_only=True)
    del ckpt["corpus"]  # as written by the rnnreg before fingerprints
    torch.save(ckpt, run / "checkpoint.pt")
    capsys.readouterr()
    resumed = train(tiny_config(), corpus, run, progress=False)
    err = capsys.readouterr().err
    assert "records no corpus fingerprint" in err and len(err.strip().splitlines()) == 1
    assert [r["valid_ppl"] for r in resumed.log] == [r["valid_ppl"] for r in full.log]
    assert resumed.summary["test_ppl"] == full.summary["test_ppl"]
    assert load_checkpoint(run / "checkpoint.pt")["corpus"] == full.summary["corpus_fingerprint"]


def _stop_after_epoch_1(event):
    if event["event"] == "epoch" and event["epoch"] == 1:
        raise KeyboardInterrupt


# ------------------------------------------------------------------------------------------------
# 2. Split sizes, before anything is built
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("split,text,needed", [
    ("valid", "", "needs at least 8"),
    ("valid", " the cat\n", "needs at least 8"),
    ("test", "", "needs at least 2"),
])
def test_too_short_valid_or_test_split_fails_before_training(corpus_a, tmp_path, capsys, split, text, needed):
    (corpus_a / f"{split}.txt").write_text(text)
    run = tmp_path / "run"
    assert train_cli(corpus_a, run, "--epochs", "1") == 2
    err = capsys.readouterr().err
    tokens = len(text.split()) + text.count("\n")  # words and one <eos> a line
    assert f"the {split} split ({corpus_a / f'{split}.txt'}) has {tokens} tokens" in err
    assert needed in err
    assert not run.exists()  # refused before the run folder, the model or an epoch


def test_train_split_shorter_than_one_window_is_a_clear_error(corpus_a):
    (corpus_a / "train.txt").write_text(" the cat sees the fish\n" * 3)  # 18 tokens < 4 x (5 + 1)
    (corpus_a / "valid.txt").write_text(" the cat sees the fish\n" * 3)
    (corpus_a / "test.txt").write_text(" the cat\n")
    with pytest.raises(DataError, match=r"the train split \(.*train.txt\) has 18 tokens; .* needs at least 24"):
        train(tiny_config(), load_corpus(corpus_a), progress=False)


# ------------------------------------------------------------------------------------------------
# 3. Divergence
# ------------------------------------------------------------------------------------------------

def test_perplexity_of_a_huge_loss_is_inf_not_an_overflow():
    assert perplexity(1e6, 1) == math.inf
    assert averaged_perplexity(torch.full((3,), -1e6, dtype=torch.float64)) == math.inf


def test_a_huge_finite_loss_is_divergence(corpus_a, tmp_path, capsys):
    assert train_cli(corpus_a, tmp_path / "run", "--epochs", "1", "--lr", "1e6") == 2
    err = capsys.readouterr().err
    assert "diverged" in err and "smaller lr" in err
    no_traceback(err)


def test_an_absurd_valid_perplexity_is_divergence_and_keeps_the_last_good_checkpoint(corpus_a, tmp_path,
                                                                                      monkeypatch):
    original, calls = train_mod.evaluate, {"n": 0}

    def exploding(model, ids, *a, **k):
        calls["n"] += 1
        return 1.4e16 if calls["n"] == 2 else original(model, ids, *a, **k)  # epoch 2's validation

    monkeypatch.setattr(train_mod, "evaluate", exploding)
    run = tmp_path / "run"
    with pytest.raises(DivergedError, match=r"epoch 2 \(on the valid split.*last good checkpoint.*epoch 1"):
        train(tiny_config(clip=math.inf), load_corpus(corpus_a), run, progress=False)
    assert load_checkpoint(run / "checkpoint.pt")["epoch"] == 1 and not (run / "summary.json").exists()
    assert [json.loads(l)["epoch"] for l in (run / "log.jsonl").read_text().splitlines()] == [1]
    assert issubclass(DivergedError, NonFiniteLossError)


# ------------------------------------------------------------------------------------------------
# 5. Sentences, not tracebacks
# ------------------------------------------------------------------------------------------------

def test_an_unavailable_device_is_one_sentence(corpus_a, tmp_path, capsys):
    missing = "cuda" if not torch.cuda.is_available() else f"cuda:{torch.cuda.device_count()}"
    assert train_cli(corpus_a, tmp_path / "run", "--device", missing) == 2
    err = capsys.readouterr().err
    assert f"device {missing!r}" in err and ("not available" in err or "does not exist" in err)
    assert train_cli(corpus_a, tmp_path / "run", "--device", "gpu") == 2
    assert "unknown device 'gpu'" in capsys.readouterr().err


def test_evaluate_a_run_trained_on_a_device_missing_here(run_a, corpus_a, capsys):
    missing = "cuda" if not torch.cuda.is_available() else f"cuda:{torch.cuda.device_count()}"
    ckpt = torch.load(run_a / "checkpoint.pt", weights_only=True)
    ckpt["config"]["device"] = missing  # trained on a GPU box, evaluated on a laptop
    torch.save(ckpt, run_a / "checkpoint.pt")
    assert main(["evaluate", str(run_a), "--data", str(corpus_a)]) == 0
    assert "evaluating on 'auto'" in capsys.readouterr().err
    assert main(["evaluate", str(run_a), "--data", str(corpus_a), "--device", missing]) == 2
    err = capsys.readouterr().err
    assert f"device {missing!r}" in err
    no_traceback(err)


def test_out_naming_a_file_is_one_sentence(corpus_a, tmp_path, capsys):
    (tmp_path / "file").write_text("not a folder")
    assert train_cli(corpus_a, tmp_path / "file") == 2
    err = capsys.readouterr().err
    assert "is a file, not a run folder" in err
    no_traceback(err)


class _FullDisk(io.FileIO):
    def write(self, data):
        if self.tell() > 64:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return super().write(data[:64])


def test_a_full_disk_is_one_sentence_and_leaves_no_tmp(corpus_a, tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    saves = {"n": 0}

    def open_(path, mode="r", *a, **k):
        if str(path).endswith("checkpoint.pt.tmp"):
            saves["n"] += 1
            if saves["n"] == 2:  # the disk fills up while epoch 2's checkpoint is written
                return _FullDisk(path, "wb")
        return builtins.open(path, mode, *a, **k)

    monkeypatch.setattr(runfolder, "open", open_, raising=False)
    assert train_cli(corpus_a, run, "--epochs", "2") == 2
    err = capsys.readouterr().err
    assert f"{run / 'checkpoint.pt'}: No space left on device" in err and "same command" in err
    no_traceback(err)
    assert not list(run.glob("*.tmp"))
    assert load_checkpoint(run / "checkpoint.pt")["epoch"] == 1
    assert [json.loads(l)["epoch"] for l in (run / "log.jsonl").read_text().splitlines()] == [1]
    monkeypatch.undo()
    assert train_cli(corpus_a, run, "--epochs", "2") == 0  # space freed: the same command resumes


def test_a_read_only_folder_is_one_sentence(corpus_a, tmp_path, monkeypatch, capsys):
    def read_only(path, mode="r", *a, **k):
        if "w" in mode:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return builtins.open(path, mode, *a, **k)

    monkeypatch.setattr(runfolder, "open", read_only, raising=False)
    assert train_cli(corpus_a, tmp_path / "run") == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'run' / 'config.json'}: Read-only file system" in err
    no_traceback(err)


@pytest.mark.parametrize("kind,message", [
    ("truncated", "truncated or not a PyTorch file"),
    ("empty", "is empty"),
    ("text", "truncated or not a PyTorch file"),
    ("foreign", "not an rnnreg checkpoint"),
    ("state_dict", "bare model weights"),
    ("other_dict", "lacks config, epoch, model"),
])
def test_unreadable_checkpoints_are_one_sentence(run_a, corpus_a, capsys, kind, message):
    ckpt_path = run_a / "checkpoint.pt"
    good = ckpt_path.read_bytes()
    if kind == "truncated":
        ckpt_path.write_bytes(good[: len(good) // 2])
    elif kind == "empty":
        ckpt_path.write_bytes(b"")
    elif kind == "text":
        ckpt_path.write_text("hello")
    elif kind == "foreign":
        torch.save({"config": {}, "epoch": 1, "model": {}, "extra": io.StringIO("code")}, ckpt_path)
    elif kind == "state_dict":
        torch.save(build_model(tiny_config(), 20).state_dict(), ckpt_path)
    else:
        torch.save({"weights": [1, 2]}, ckpt_path)
    assert main(["evaluate", str(run_a), "--data", str(corpus_a)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith("error: ") and len(err.strip().splitlines()) == 1
    no_traceback(err)


def test_a_missing_run_folder_is_one_sentence(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["average", str(tmp_path / "empty")]) == 2
    assert "has no checkpoint.pt" in capsys.readouterr().err


def test_sigint_says_which_epoch_is_saved_and_how_to_resume(corpus_a, tmp_path, monkeypatch, capsys):
    from rnnreg import __main__ as cli

    printed = cli._print_epoch

    def ctrl_c_after_epoch_1(event):
        printed(event)
        if event["event"] == "epoch" and event["epoch"] == 1:
            signal.raise_signal(signal.SIGINT)  # as a user's Ctrl-C (Python's default handler)

    monkeypatch.setattr(cli, "_print_epoch", ctrl_c_after_epoch_1)
    run = tmp_path / "run"
    assert train_cli(corpus_a, run, "--epochs", "3") == 130
    err = capsys.readouterr().err
    assert f"{run / 'checkpoint.pt'} holds epoch 1. Run the same command again to resume from epoch 2" in err
    no_traceback(err)
    monkeypatch.undo()
    assert train_cli(corpus_a, run, "--epochs", "3") == 0
    assert [json.loads(l)["epoch"] for l in (run / "log.jsonl").read_text().splitlines()] == [1, 2, 3]


def test_an_error_releasing_the_claim_does_not_hide_the_real_error(corpus_a, tmp_path, monkeypatch, capsys):
    def broken_unlock(fd):
        os.close(fd)
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(runfolder, "_unlock", broken_unlock)
    with pytest.raises(DivergedError):
        train(tiny_config(lr=1e6), load_corpus(corpus_a), tmp_path / "run", progress=False, log_every=5)
    assert "could not release the lock" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------
# 6. One writer per run folder, by an OS lock
# ------------------------------------------------------------------------------------------------

def _ctx():
    return mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")


def _claim_rounds(folders, barrier, results):
    for i, folder in enumerate(folders):
        barrier.wait(timeout=60)
        got = claim_run_dir(folder)
        results.put((i, got))
        barrier.wait(timeout=60)  # every process has tried before the winner lets go
        if got:
            release_run_dir(folder)


def test_concurrent_claims_of_a_stale_folder_have_exactly_one_winner(tmp_path):
    processes, rounds = 4, 20
    folders = []
    for i in range(rounds):
        folder = tmp_path / f"run{i}"
        folder.mkdir()
        (folder / ".lock").write_text("999999998")  # a crashed runner's lock file
        folders.append(folder)
    ctx = _ctx()
    barrier, results = ctx.Barrier(processes), ctx.Queue()
    workers = [ctx.Process(target=_claim_rounds, args=(folders, barrier, results)) for _ in range(processes)]
    for w in workers:
        w.start()
    got = [results.get(timeout=60) for _ in range(processes * rounds)]
    for w in workers:
        w.join(timeout=60)
        assert w.exitcode == 0
    winners = [sum(1 for i, r in got if i == k and r is True) for k in range(rounds)]
    assert winners == [1] * rounds


def _hold(folder, held, done, crash):
    assert claim_run_dir(folder) is True
    held.set()
    done.wait(timeout=60)
    if crash:
        os._exit(1)  # no release: the OS drops the lock
    release_run_dir(folder)


@pytest.mark.parametrize("crash", [False, True])
def test_a_live_writer_is_refused_and_a_dead_one_is_not(corpus_a, tmp_path, crash):
    run = tmp_path / "run"
    ctx = _ctx()
    held, done = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold, args=(run, held, done, crash))
    holder.start()
    try:
        assert held.wait(timeout=60)
        with pytest.raises(RunFolderBusyError, match=rf"another process \(pid {holder.pid}\) is training into"):
            train(tiny_config(epochs=1), load_corpus(corpus_a), run, progress=False)
        assert not (run / "log.jsonl").exists()  # nothing written over the other writer's files
    finally:
        done.set()
        holder.join(timeout=60)
    assert holder.exitcode == (1 if crash else 0)
    train(tiny_config(epochs=1), load_corpus(corpus_a), run, progress=False)
    assert (run / "summary.json").exists() and not (run / ".lock").exists()


def test_claims_within_one_process_nest(tmp_path):
    run = tmp_path / "run"
    assert claim_run_dir(run) is True and claim_run_dir(run) is None  # e.g. the grid runner, then train()
    release_run_dir(run)
    assert not (run / ".lock").exists() and claim_run_dir(run) is True
    release_run_dir(run)


# ------------------------------------------------------------------------------------------------
# 8. Smaller things
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args,warning", [
    (["--scheme", "zaremba", "--dropout", "0"], "scheme 'zaremba' at rate 0 drops nothing"),
    (["--scheme", "variational", "--dropout", "0"], "scheme 'variational' at rate 0 drops nothing"),
    (["--scheme", "zaremba", "--dropout", "0.2", "--recurrent-dropout", "0.3"], "--recurrent-dropout 0.3 is unused"),
    (["--scheme", "everywhere", "--dropout", "0.2", "--zoneout-h", "0.1"], "--zoneout-h is unused"),
])
def test_options_that_change_nothing_warn_once(corpus_a, tmp_path, capsys, args, warning):
    assert train_cli(corpus_a, tmp_path / "run", "--epochs", "1", *args) == 0
    err = [l for l in capsys.readouterr().err.splitlines() if "warning" in l]
    assert len(err) == 1 and warning in err[0]


def test_no_warning_for_a_plain_run(corpus_a, tmp_path, capsys):
    assert train_cli(corpus_a, tmp_path / "run", "--epochs", "1", "--scheme", "zoneout", "--dropout", "0") == 0
    assert "warning" not in capsys.readouterr().err


def test_an_edited_config_json_is_named_and_the_checkpoint_wins(run_a, corpus_a, capsys):
    config = json.loads((run_a / "config.json").read_text())
    config["hidden_size"] = 99
    (run_a / "config.json").write_text(json.dumps(config))
    assert main(["evaluate", str(run_a), "--data", str(corpus_a)]) == 0
    err = capsys.readouterr().err
    assert "config.json differs from the checkpoint (hidden_size: config.json 99, checkpoint 8)" in err
    assert "the checkpoint's configuration is used" in err


@pytest.mark.parametrize("argv", [
    ["train", "--hidden", "16"],
    ["evaluate", "run", "--dat", "x"],
    ["average", "run", "--spl", "valid"],
    ["bench", "--shape", "small"],
])
def test_abbreviated_flags_are_refused(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2 and "unrecognized arguments" in capsys.readouterr().err


def test_a_crash_while_checkpointing_leaves_no_log_line_for_that_epoch(corpus_a, tmp_path, monkeypatch):
    original = train_mod.save_checkpoint

    def crash_in_epoch_2(path, config, model, epoch, *a, **k):
        if epoch == 2:
            raise OSError(errno.EIO, "I/O error", str(path))
        return original(path, config, model, epoch, *a, **k)

    monkeypatch.setattr(train_mod, "save_checkpoint", crash_in_epoch_2)
    run = tmp_path / "run"
    with pytest.raises(OSError):
        train(tiny_config(), load_corpus(corpus_a), run, progress=False)
    assert [json.loads(l)["epoch"] for l in (run / "log.jsonl").read_text().splitlines()] == [1]
    assert load_checkpoint(run / "checkpoint.pt")["epoch"] == 1
