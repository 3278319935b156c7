"""Faults of the run side (issues #12 §2 and #33): each ends in one sentence, never a traceback, a hang or a wrong
number.

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
   | --data                            |                                          | stderr); moved: see row 10
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
 3 | valid perplexity 1.4e16           | rnnreg train S --clip 1e9 (simulated)    | DivergedError, last good checkpoint
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
 9 | summary.json or a log, but no     | rm R/checkpoint.pt; rnnreg train S       | exit 2 "R has summary.json and
   | checkpoint                        | --out R (any options)                    | log.jsonl but no checkpoint.pt ..."
   |                                   |                                          | (was: a new run over the record)
 9 | non-finite or huge options        | rnnreg train S --lr-decay inf; the same  | exit 2 naming the option, before the
   |                                   | with --init-scale inf, --hidden-size     | run folder exists (was: lr 0,
   |                                   | 100000000, --num-layers 100000000,       | tracebacks, a hang, an empty run
   |                                   | --seed 18446744073709551616              | folder)
 9 | two writers of one file at once   | (a write nested in another's)            | each its own temporary file (was:
   |                                   |                                          | one shared .tmp: OSError, torn files)
 9 | Ctrl-C during a checkpoint write  | (simulated inside torch.save)            | exit 130 "interrupted: ... holds
   |                                   |                                          | epoch 1" (was: torch traceback, 1)
 9 | corrupt summary.json or log.jsonl | printf '{"x": 8' > R/summary.json;       | exit 2 naming the file (was: a JSON
   |                                   | rnnreg train S --out R; rnnreg record R  | error naming none, or a traceback)
10 | average of members trained with   | rnnreg average R4 R3 --split valid       | every member in one layout, recorded:
   | other batch sizes (4 and 3)       |                                          | the first's batch and steps, or
   |                                   |                                          | --batch-size (was: probabilities of
   |                                   |                                          | other tokens averaged, or traceback)
10 | average of a run with itself      | rnnreg average R R; R R/../R; R COPY     | exit 2 naming both (was: a 2-model
   |                                   |                                          | average of one model)
10 | average --batch-size 0; measure   | rnnreg measure R --max-lag -1 (--samples | exit 2 naming the option, before
   | --max-lag -1 and five more; bench | 0, --positions -3, --windows 0, --draws  | anything loads (was: the default
   | --rounds 0                        | 1, --warmup -100)                        | batch size; six tracebacks)
10 | measure --max-lag beyond the      | rnnreg measure R --max-lag 100000        | exit 2 naming the valid split and the
   | valid split                       |                                          | option, before any model loads
10 | measure into a read-only run      | (simulated EROFS)                        | exit 2 naming signal.json, no advice
   | folder                            |                                          | of an --out measure lacks
10 | the run's own corpus moved        | mv T T2; rnnreg evaluate R (average,     | exit 2 "R was trained on T, which no
   |                                   | measure)                                 | longer holds a corpus; pass --data"
   |                                   |                                          | (was: the PTB lookup, a download);
   |                                   |                                          | a PTB-named corpus: the usual lookup
10 | run trained with --unk            | rnnreg evaluate R (no --unk)             | its recorded split files are read
   |                                   |                                          | with --unk again (was: refused)
10 | .lock is a folder                 | mkdir R/.lock; rnnreg train S --out R    | exit 2 naming R/.lock (was: "Is a
   |                                   |                                          | directory", no file named)
10 | ptb.* and plain names in one      | rnnreg train S --data MIXED              | exit 2, one line naming both sets'
   | folder                            |                                          | files (was: a warning, then a note)
10 | resume with another thread count  | OMP_NUM_THREADS=2 rnnreg train S --out R | a warning naming both counts (was:
   |                                   |                                          | none; last digits differ)
10 | one corrupt run folder in         | printf '{"epoch": 2' >> R/log.jsonl;     | that folder skipped with a warning
   | results/                          | analysis.runs.load_runs(results=...)     | naming it and the line; load_run(R)
   |                                   |                                          | a RunFolderError naming the file
   |                                   |                                          | (was: JSONDecodeError, every table)
10 | Ctrl-C while torch imports        | python -m rnnreg ..., Ctrl-C at once     | exit 130 "interrupted" (was: a
   |                                   | (simulated in the import of torch)       | 12-44 line traceback)
10 | bench --precisions fp32 on a CPU  | rnnreg bench --precisions fp32           | no bf16 probe runs (was: a 116 s bf16
   | without bf16                      |                                          | probe that looked hung); test_bench.py
10 | bench --rounds 0 / --seconds 0    | rnnreg bench --rounds 0                  | exit 2 naming the option, before any
   |                                   |                                          | timing (was: "no median for empty
   |                                   |                                          | data"); test_bench.py
10 | --device meta                     | rnnreg train S --device meta --out R     | exit 2 "device 'meta' holds no data"
   |                                   |                                          | before a run folder (was: traceback)
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
from rnnreg.config import Config, build_model
from rnnreg.data import DataError, load_corpus
from rnnreg.runfolder import RunFolderBusyError, RunFolderError, claim_run_dir, load_checkpoint, release_run_dir
from rnnreg.train import DivergedError, NonFiniteLossError, perplexity, train

SMALL = ["--quiet", "--hidden-size", "8", "--steps", "5", "--batch-size", "4"]


def make_corpus(folder: Path, seed: int = 0, lines=(300, 40, 40), extra_train: str = "") -> Path:
    """A tiny grammar corpus; another seed gives the same words in another order (other ids)."""
    return write_tiny_corpus(folder, seed, lines, extra_train)


def tiny_config(**kw) -> Config:
    base = dict(hidden_size=8, steps=5, batch_size=4, epochs=2, scheme="zaremba", dropout=0.2, seed=3, decay_after=1)
    return Config.from_preset("small", **{**base, **kw})


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
        train(
            Config.from_preset("small", hidden_size=8, steps=5, batch_size=4, epochs=2),
            load_corpus(corpus_a),
            run,
            progress=False,
            callbacks=[_stop_after_epoch_1],
        )
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
    assert json.loads(out)["test_ppl"] == pytest.approx(
        json.loads((run_a / "summary.json").read_text())["test_ppl"], abs=1e-3
    )
    assert str(corpus_a.resolve()) in err
    # The recorded folder is gone: refused, naming it (never evaluated on RNNREG_DATA's other corpus).
    corpus_a.rename(tmp_path / "moved")
    assert main(["evaluate", str(run_a)]) == 2
    err = capsys.readouterr().err
    assert str(corpus_a.resolve()) in err and "--data" in err and str(other) not in err


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


@pytest.mark.parametrize(
    "split,text,needed",
    [("valid", "", "needs at least 8"), ("valid", " the cat\n", "needs at least 8"), ("test", "", "needs at least 2")],
)
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


def test_an_absurd_valid_perplexity_is_divergence_and_keeps_the_last_good_checkpoint(corpus_a, tmp_path, monkeypatch):
    original, calls = train_mod.evaluate, {"n": 0}

    def exploding(model, ids, *a, **k):
        calls["n"] += 1
        return 1.4e16 if calls["n"] == 2 else original(model, ids, *a, **k)  # epoch 2's validation

    monkeypatch.setattr(train_mod, "evaluate", exploding)
    run = tmp_path / "run"
    with pytest.raises(DivergedError, match=r"epoch 2 \(on the valid split.*last good checkpoint.*epoch 1"):
        train(tiny_config(clip=1e9), load_corpus(corpus_a), run, progress=False)
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
    assert train_cli(corpus_a, tmp_path / "run", "--device", "meta") == 2  # was: a traceback at the first step
    err = capsys.readouterr().err
    assert "device 'meta'" in err and "Traceback" not in err and not (tmp_path / "run").exists()


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
        if Path(path).name.startswith("checkpoint.pt.") and str(path).endswith(".tmp"):
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


@pytest.mark.parametrize(
    "kind,message",
    [
        ("truncated", "truncated or not a PyTorch file"),
        ("empty", "is empty"),
        ("text", "truncated or not a PyTorch file"),
        ("foreign", "not an rnnreg checkpoint"),
        ("state_dict", "bare model weights"),
        ("other_dict", "lacks config, epoch, model"),
    ],
)
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


@pytest.mark.parametrize(
    "args,warning",
    [
        (["--scheme", "zaremba", "--dropout", "0"], "scheme 'zaremba' at rate 0 drops nothing"),
        (["--scheme", "variational", "--dropout", "0"], "scheme 'variational' at rate 0 drops nothing"),
        (
            ["--scheme", "zaremba", "--dropout", "0.2", "--recurrent-dropout", "0.3"],
            "--recurrent-dropout 0.3 is unused",
        ),
        (["--scheme", "everywhere", "--dropout", "0.2", "--zoneout-h", "0.1"], "--zoneout-h is unused"),
    ],
)
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


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--hidden", "16"],
        ["evaluate", "run", "--dat", "x"],
        ["average", "run", "--spl", "valid"],
        ["bench", "--shape", "small"],
    ],
)
def test_abbreviated_flags_are_refused(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2 and "unrecognized arguments" in capsys.readouterr().err


def test_a_crash_while_checkpointing_leaves_no_log_line_for_that_epoch(corpus_a, tmp_path, monkeypatch):
    original = runfolder.save_checkpoint

    def crash_in_epoch_2(path, config, model, epoch, *a, **k):
        if epoch == 2:
            raise OSError(errno.EIO, "I/O error", str(path))
        return original(path, config, model, epoch, *a, **k)

    monkeypatch.setattr(runfolder, "save_checkpoint", crash_in_epoch_2)
    run = tmp_path / "run"
    with pytest.raises(OSError):
        train(tiny_config(), load_corpus(corpus_a), run, progress=False)
    assert [json.loads(l)["epoch"] for l in (run / "log.jsonl").read_text().splitlines()] == [1]
    assert load_checkpoint(run / "checkpoint.pt")["epoch"] == 1


# ------------------------------------------------------------------------------------------------
# 9. Issue #33: records without a checkpoint, option bounds, writers, corrupt records
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("keep", [("summary.json", "log.jsonl"), ("log.jsonl",)])
def test_a_record_without_its_checkpoint_is_not_trained_over(run_a, corpus_a, capsys, keep):
    (run_a / "checkpoint.pt").unlink()  # e.g. deleted to free disk
    for name in {"summary.json", "log.jsonl"} - set(keep):
        (run_a / name).unlink()
    before = {name: (run_a / name).read_text() for name in keep}
    assert train_cli(corpus_a, run_a, "--epochs", "2", "--hidden-size", "16") == 2
    err = capsys.readouterr().err
    assert all(name in err for name in keep) and "no checkpoint.pt" in err and str(run_a) in err
    assert {name: (run_a / name).read_text() for name in keep} == before  # the record is untouched
    with pytest.raises(RunFolderError, match="no checkpoint.pt"):
        train(tiny_config(epochs=1), load_corpus(corpus_a), run_a, progress=False)


def test_an_empty_log_without_a_checkpoint_starts_over(corpus_a, tmp_path):
    """Stopped before the first checkpoint: config.json and an empty log.jsonl, no epoch to lose."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "log.jsonl").write_text("")
    (run / "config.json").write_text("{}")
    assert train_cli(corpus_a, run, "--epochs", "1") == 0


@pytest.mark.parametrize(
    "args,option",
    [
        (["--lr-decay", "inf", "--decay-after", "0"], "lr_decay"),
        (["--init-scale", "inf"], "init_scale"),
        (["--lr", "nan"], "lr"),
        (["--clip", "inf"], "clip"),
        (["--hidden-size", "100000000"], "hidden_size=100000000"),
        (["--num-layers", "100000000"], "num_layers=100000000"),
        (["--seed", str(2**64)], "seed"),
    ],
)
def test_non_finite_or_huge_options_are_refused_before_the_run_folder(corpus_a, tmp_path, capsys, args, option):
    run = tmp_path / "run"
    assert train_cli(corpus_a, run, "--epochs", "3", *args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and option in err and len(err.strip().splitlines()) == 1
    no_traceback(err)
    assert not run.exists()


def test_the_memory_estimate_uses_the_corpus_vocabulary(corpus_a, tmp_path, monkeypatch):
    import rnnreg.config as config_mod

    small = tiny_config(epochs=1)  # a few thousand parameters
    corpus = load_corpus(corpus_a)
    need = config_mod.parameter_count(small, len(corpus.vocab)) * config_mod.BYTES_PER_PARAMETER
    monkeypatch.setattr(config_mod, "physical_memory", lambda: need - 1)
    with pytest.raises(ValueError, match="needs about"):
        train(small, corpus, tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


def test_two_writers_of_one_file_never_share_a_temporary_file(tmp_path):
    target = tmp_path / "record.json"

    def outer(fh):
        fh.write(b"outer")
        runfolder.write_text(target, "inner")  # another writer of the same file, mid-write
        fh.write(b"!")

    runfolder._atomic(target, outer)
    assert target.read_text() == "outer!" and sorted(p.name for p in tmp_path.iterdir()) == ["record.json"]


def test_ctrl_c_during_a_checkpoint_write_says_interrupted(corpus_a, tmp_path, monkeypatch, capsys):
    real_save, saves = torch.save, {"n": 0}

    def ctrl_c_in_the_zip_writer(obj, fh, *a, **k):
        saves["n"] += 1
        if saves["n"] == 2:  # epoch 2's checkpoint: torch masks the KeyboardInterrupt with its own error
            try:
                raise KeyboardInterrupt
            except KeyboardInterrupt:
                raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 4416 vs 4310")  # noqa: B904 - as torch does
        return real_save(obj, fh, *a, **k)

    monkeypatch.setattr(runfolder.torch, "save", ctrl_c_in_the_zip_writer)
    run = tmp_path / "run"
    assert train_cli(corpus_a, run, "--epochs", "3") == 130
    err = capsys.readouterr().err
    assert err.startswith("interrupted: ") and f"{run / 'checkpoint.pt'} holds epoch 1" in err
    no_traceback(err)
    monkeypatch.undo()
    assert load_checkpoint(run / "checkpoint.pt")["epoch"] == 1 and not list(run.glob("*.tmp"))


@pytest.mark.parametrize("text", ['{"train_ppl": 87', "[]"])
def test_a_corrupt_summary_is_named(run_a, corpus_a, tmp_path, capsys, text):
    (run_a / "summary.json").write_text(text)
    assert train_cli(corpus_a, run_a, "--epochs", "1") == 2  # complete: train reads its summary
    assert f"error: {run_a / 'summary.json'}" in capsys.readouterr().err
    assert main(["record", str(run_a), "--to", str(tmp_path / "results")]) == 2
    err = capsys.readouterr().err
    assert str(run_a / "summary.json") in err
    no_traceback(err)


@pytest.mark.parametrize(
    "text,line",
    [('{"epoch": 1, "lr": 1.0, "train_ppl": 9.0, "valid_ppl": 9.5}\n{"epoch": 2', 2), ('{"epoch": 1}\n', 1)],
)
def test_a_corrupt_log_is_named_with_its_line(tmp_path, text, line):
    (tmp_path / "log.jsonl").write_text(text)
    with pytest.raises(RunFolderError, match=rf"log.jsonl, line {line}, is not an epoch's record"):
        runfolder.read_log(tmp_path / "log.jsonl")


# ------------------------------------------------------------------------------------------------
# 10. Issue #33: the command line (average, measure, moved corpora, --unk, locks, threads, Ctrl-C)
# ------------------------------------------------------------------------------------------------


def _option_refused(argv, option, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and f"argument {option}" in err
    no_traceback(err)


def test_average_evaluates_every_member_in_one_layout(corpus_a, tmp_path, capsys):
    from rnnreg.analysis.averaging import target_log_probs

    runs = [tmp_path / "b4", tmp_path / "b3"]
    assert train_cli(corpus_a, runs[0], "--epochs", "1") == 0
    assert train_cli(corpus_a, runs[1], "--epochs", "1", "--batch-size", "3", "--seed", "2") == 0
    corpus = load_corpus(corpus_a)
    models = [runfolder.load_run_model(r, corpus=corpus)[0] for r in runs]
    for batch, order, extra in ((4, runs, ()), (3, runs[::-1], ()), (2, runs, ("--batch-size", "2"))):
        out = tmp_path / f"avg{batch}.json"
        assert main(["average", *map(str, order), "--split", "valid", "--out", str(out), *extra]) == 0
        result = json.loads(out.read_text())
        aligned = [target_log_probs(m, corpus.valid, batch, 5) for m in models]  # the same tokens, in one order
        assert (result["batch_size"], result["steps"]) == (batch, 5)
        assert result["average_ppl"][-1] == pytest.approx(averaged_perplexity(aligned), rel=1e-9)
    with pytest.raises(ValueError, match="one batch_size and steps"):  # the library refuses misaligned members
        averaged_perplexity(
            [target_log_probs(models[0], corpus.valid, 4, 5), target_log_probs(models[1], corpus.valid, 3, 5)]
        )
    _option_refused(["average", str(runs[0]), "--batch-size", "0"], "--batch-size", capsys)


@pytest.mark.parametrize("spelling", ["same", "other", "copy"])
def test_average_refuses_a_member_given_twice(run_a, tmp_path, capsys, spelling):
    import shutil

    twin = {"same": run_a, "other": run_a.parent / "." / run_a.name, "copy": tmp_path / "copy"}[spelling]
    if spelling == "copy":
        shutil.copytree(run_a, twin)
    assert main(["average", str(run_a), str(twin), "--split", "valid"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(run_a) in err and str(twin) in err and "once" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "args,option",
    [
        (["--max-lag", "-1"], "--max-lag"),
        (["--samples", "0"], "--samples"),
        (["--positions", "-3"], "--positions"),
        (["--what", "mask-noise", "--windows", "0"], "--windows"),
        (["--what", "mask-noise", "--draws", "1"], "--draws"),
        (["--what", "mask-noise", "--warmup", "-100"], "--warmup"),
        (["--seed", "-1"], "--seed"),
    ],
)
def test_measure_options_are_checked_before_anything_loads(tmp_path, capsys, args, option):
    _option_refused(["measure", str(tmp_path / "no-run-needed"), *args], option, capsys)


def test_bench_options_are_checked(capsys):
    _option_refused(["bench", "--rounds", "0"], "--rounds", capsys)
    _option_refused(["bench", "--seconds", "nan"], "--seconds", capsys)


@pytest.mark.parametrize(
    "args,option",
    [
        (["--max-lag", "100000"], "--max-lag 100000"),
        (["--what", "mask-noise", "--warmup", "100000"], "--warmup 100000"),
    ],
)
def test_measure_beyond_the_valid_split_is_refused_before_the_model_loads(
    run_a, corpus_a, monkeypatch, capsys, args, option
):
    from rnnreg import __main__ as cli

    monkeypatch.setattr(cli, "load_run_model", lambda *a, **k: pytest.fail("a model was loaded"))
    assert main(["measure", str(run_a), "--data", str(corpus_a), *args]) == 2
    err = capsys.readouterr().err
    assert str(corpus_a / "valid.txt") in err and option in err
    no_traceback(err)


def test_measure_into_a_read_only_run_folder_gives_advice_it_can_take(run_a, corpus_a, monkeypatch, capsys):
    def read_only(path, mode="r", *a, **k):
        if "w" in mode:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return builtins.open(path, mode, *a, **k)

    monkeypatch.setattr(runfolder, "open", read_only, raising=False)
    assert (
        main(["measure", str(run_a), "--data", str(corpus_a), "--max-lag", "2", "--samples", "4", "--positions", "10"])
        == 2
    )
    err = capsys.readouterr().err
    assert f"{run_a / 'signal.json'}: Read-only file system" in err and "--out" not in err


@pytest.mark.parametrize("command", [["evaluate"], ["average", "--split", "valid"], ["measure", "--max-lag", "2"]])
def test_a_moved_corpus_is_named_not_replaced_by_ptb(run_a, corpus_a, tmp_path, monkeypatch, capsys, command):
    monkeypatch.delenv("RNNREG_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no PTB in the user cache either
    corpus_a.rename(tmp_path / "moved")
    assert main([command[0], str(run_a), "--offline", *command[1:]]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(run_a) in err and str(corpus_a.resolve()) in err and "--data" in err
    assert "ptb" not in err.lower()
    assert main([command[0], str(run_a), "--data", str(tmp_path / "moved"), *command[1:]]) == 0


def test_a_moved_ptb_is_found_by_the_usual_lookup(run_a, corpus_a, tmp_path, monkeypatch, capsys):
    summary = json.loads((run_a / "summary.json").read_text())
    summary["corpus_fingerprint"]["files"] = {s: f"ptb.{s}.txt" for s in ("train", "valid", "test")}
    (run_a / "summary.json").write_text(json.dumps(summary))  # as a run on PTB records it
    corpus_a.rename(tmp_path / "ptb-elsewhere")
    monkeypatch.setenv("RNNREG_DATA", str(tmp_path / "ptb-elsewhere"))
    assert main(["evaluate", str(run_a)]) == 0
    assert json.loads(capsys.readouterr().out)["test_ppl"] == pytest.approx(summary["test_ppl"], abs=1e-3)


def test_a_run_trained_with_unk_is_evaluated_with_it(corpus_a, tmp_path, capsys):
    with open(corpus_a / "valid.txt", "a") as fh:
        fh.write(" the zebra sees the fish\n")  # a word train lacks
    run = tmp_path / "run"
    assert train_cli(corpus_a, run, "--epochs", "1") == 2  # refused without --unk
    assert train_cli(corpus_a, run, "--epochs", "1", "--unk") == 0
    capsys.readouterr()
    valid_ppl = json.loads((run / "summary.json").read_text())["valid_ppl"]
    for data in ([], ["--data", str(corpus_a)]):
        assert main(["evaluate", str(run), *data]) == 0
        assert json.loads(capsys.readouterr().out)["valid_ppl"] == pytest.approx(valid_ppl, abs=1e-3)
    (corpus_a / "test.txt").write_text(" the zebra buys a car\n")  # other files: --unk is not assumed
    assert main(["evaluate", str(run)]) == 2
    assert "--unk" in capsys.readouterr().err


def test_a_lock_that_is_a_folder_is_named(corpus_a, tmp_path, capsys):
    run = tmp_path / "run"
    (run / ".lock").mkdir(parents=True)
    assert train_cli(corpus_a, run, "--epochs", "1") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(run / ".lock") in err and "folder" in err
    assert len(err.strip().splitlines()) == 1


def test_mixed_names_are_one_error_naming_the_files(corpus_a, tmp_path, capsys):
    (corpus_a / "ptb.valid.txt").write_text((corpus_a / "valid.txt").read_text())  # an incomplete PTB set
    assert train_cli(corpus_a, tmp_path / "run", "--epochs", "1") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert "ptb.valid.txt" in err and "train.txt" in err and not (tmp_path / "run").exists()


def test_resuming_with_another_thread_count_warns_naming_both(corpus_a, tmp_path, capsys):
    run = tmp_path / "run"
    corpus = load_corpus(corpus_a)
    with train_mod.num_threads(1), pytest.raises(KeyboardInterrupt):
        train(tiny_config(device="cpu"), corpus, run, progress=False, callbacks=[_stop_after_epoch_1])
    capsys.readouterr()
    with train_mod.num_threads(2):
        train(tiny_config(device="cpu"), corpus, run, progress=False)
    warning = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(warning) == 1 and "1 CPU threads" in warning[0] and "has 2" in warning[0]


def test_ctrl_c_while_torch_imports_is_one_line(tmp_path):
    import subprocess
    import sys

    script = (
        "import builtins, runpy, sys\n"
        "real = builtins.__import__\n"
        "def ctrl_c_in_torch(name, *a, **k):\n"
        "    if name == 'torch':\n"
        "        raise KeyboardInterrupt\n"
        "    return real(name, *a, **k)\n"
        "builtins.__import__ = ctrl_c_in_torch\n"
        "sys.argv = ['rnnreg', '--help']\n"
        "runpy.run_module('rnnreg', run_name='__main__', alter_sys=True)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 130 and done.stderr.strip() == "interrupted"


@pytest.mark.parametrize(
    "name,text",
    [("log.jsonl", '{"epoch": 1, "lr": 1.0, "train_ppl": 9.0, "valid_ppl": 9.5}\n{"epoch": 2'), ("summary.json", "[]")],
)
def test_one_corrupt_run_folder_does_not_break_the_tables(tmp_path, name, text):
    from rnnreg.analysis import runs

    for run in ("good", "bad"):
        folder = tmp_path / "ptb" / run
        folder.mkdir(parents=True)
        (folder / "config.json").write_text(json.dumps(tiny_config().to_dict()))
        (folder / "log.jsonl").write_text(json.dumps({"epoch": 1, "lr": 1.0, "train_ppl": 9.0, "valid_ppl": 9.5}))
    (tmp_path / "ptb" / "bad" / name).write_text(text)
    with pytest.raises(RunFolderError, match=str(tmp_path / "ptb" / "bad" / name)):
        runs.load_run(tmp_path / "ptb" / "bad")
    with pytest.warns(UserWarning, match=f"skipped {tmp_path / 'ptb' / 'bad'}"):
        table = runs.load_runs(results=tmp_path)
    assert list(table.run) == ["results/ptb/good"] and table.valid_ppl.tolist() == [9.5]
