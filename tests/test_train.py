import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from rnnreg import runfolder
from rnnreg import train as train_mod
from rnnreg.config import PRESETS, Config, build_model
from rnnreg.runfolder import CheckpointMismatchError, load_checkpoint
from rnnreg.train import NonFiniteLossError, evaluate, perplexity, train

DATA = Path(__file__).parent / "data"
#: One thread and the instruction sets every x86 CPU has: the golden run's digits hold on any of them.
PORTABLE = dict(
    OMP_NUM_THREADS="1", ATEN_CPU_CAPABILITY="default", MKL_ENABLE_INSTRUCTIONS="SSE4_2", ONEDNN_MAX_CPU_ISA="SSE41"
)


def tiny_config(**kw):
    base = dict(
        hidden_size=12,
        steps=5,
        batch_size=4,
        epochs=3,
        scheme="everywhere",
        dropout=0.3,
        seed=3,
        decay_after=1,
        lr_decay=2.0,
    )
    return Config.from_preset("small", **{**base, **kw})


@pytest.mark.parametrize(
    "preset,code,text",
    [
        (
            "small",
            [1, 1, 1, 1, 1, 0.5, 0.25, 0.125, 0.0625, 1 / 32, 1 / 64, 1 / 128, 1 / 256],
            [1, 1, 1, 1, 0.5, 0.25, 0.125, 0.0625, 1 / 32, 1 / 64, 1 / 128, 1 / 256, 1 / 512],
        )
    ],
)
def test_small_lr_schedule_epoch_by_epoch(preset, code, text):
    cfg = Config.from_preset(preset)
    assert [cfg.lr_at(e) for e in range(1, 14)] == pytest.approx(code)
    cfg = Config.from_preset(preset, decay_start="text")
    assert [cfg.lr_at(e) for e in range(1, 14)] == pytest.approx(text)


@pytest.mark.parametrize("preset,decay,after,epochs", [("medium", 1.2, 6, 39), ("large", 1.15, 14, 55)])
def test_medium_and_large_schedules(preset, decay, after, epochs):
    cfg = Config.from_preset(preset)
    assert cfg.epochs == epochs
    lrs = [cfg.lr_at(e) for e in range(1, epochs + 1)]
    assert lrs[: after + 1] == [1.0] * (after + 1)  # the Lua code: max_epoch + 1 epochs at lr 1
    assert lrs[after + 1] == pytest.approx(1 / decay)
    assert lrs[-1] == pytest.approx(decay ** -(epochs - after - 1))
    text = Config.from_preset(preset, decay_start="text")
    assert text.lr_at(after) == 1.0 and text.lr_at(after + 1) == pytest.approx(1 / decay)


def test_presets_are_the_papers():
    assert {
        k: (v["num_layers"], v["hidden_size"], v["steps"], v["init_scale"], v["dropout"], v["clip"])
        for k, v in PRESETS.items()
    } == {
        "small": (2, 200, 20, 0.1, 0.0, 5.0),
        "medium": (2, 650, 35, 0.05, 0.5, 5.0),
        "large": (2, 1500, 35, 0.04, 0.65, 10.0),
    }
    assert all(Config.from_preset(k).batch_size == 20 and Config.from_preset(k).lr == 1.0 for k in PRESETS)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(dropout=1.0, scheme="zaremba"), "dropout must be a probability"),
        (dict(dropout=0.5), "scheme 'none' takes no dropout"),
        (dict(scheme="bogus"), "unknown scheme"),
        (dict(hidden_size=0), "hidden_size must be a positive integer"),
        (dict(steps=-3), "steps must be a positive integer"),
        (dict(lr=0.0), "lr must be positive"),
        (dict(lr=math.nan), "lr must be positive and finite"),
        (dict(clip=math.inf), "clip must be positive and finite"),
        (dict(init_scale=math.inf), "init_scale must be positive and finite"),
        (dict(lr_decay=0.5), "lr_decay is a divisor"),
        (dict(lr_decay=math.inf), "lr_decay is a divisor and must be a finite number"),
        (dict(seed=2**64), "seed must be an integer from 0"),
        (dict(seed=-1), "seed must be an integer from 0"),
        (dict(epochs=2.0), "epochs must be a positive integer"),
        (dict(hidden_size=100_000_000), "hidden_size=100000000 needs about"),
        (dict(num_layers=100_000_000), "num_layers=100000000 x hidden_size=200 needs about"),
        (dict(tie_weights="yes"), "tie_weights must be true or false"),
        (dict(decay_start="paper"), "unknown decay_start"),
        (dict(precision="fp8"), "unknown precision"),
        (dict(max_train_tokens=10), "too small"),
        (dict(hidden_sise=10), "unknown config field"),
    ],
)
def test_bad_config_raises_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Config.from_preset("small", **kwargs)


def test_unknown_preset():
    with pytest.raises(ValueError, match="unknown preset"):
        Config.from_preset("huge")


def test_a_config_is_plain_data():
    """``preset`` is a field (the name), ``from_preset`` builds one: the record is JSON, both ways."""
    config = Config.from_preset("medium", epochs=2)
    assert Config.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    assert json.loads(json.dumps(Config().to_dict()))["preset"] == "small"


def test_perplexity_is_exp_of_mean_nll_per_token(tiny_corpus):
    cfg = tiny_config()
    torch.manual_seed(0)
    model = build_model(cfg, len(tiny_corpus.vocab)).eval()
    ids = tiny_corpus.valid
    # By hand: one stream, the whole sequence in one window.
    with torch.no_grad():
        logits, _ = model(ids[:-1, None])
        nll = F.cross_entropy(logits.view(-1, logits.size(-1)), ids[1:], reduction="mean")
    assert evaluate(model, ids, batch_size=1, steps=7) == pytest.approx(math.exp(nll.item()), rel=1e-5)
    assert perplexity(10 * math.log(5), 10) == pytest.approx(5.0)


def test_one_sgd_step_uses_the_papers_loss_scale(tiny_corpus):
    # 6 rows of 4 streams: exactly one window of 5 steps, so the epoch is one SGD step.
    cfg = tiny_config(epochs=1, scheme="none", dropout=0.0, max_train_tokens=24, lr=0.7, clip=1e9)
    result = train(cfg, tiny_corpus, progress=False, test=False)
    torch.manual_seed(cfg.seed)
    model = build_model(cfg, len(tiny_corpus.vocab))
    x = tiny_corpus.train[:24].view(4, 6).t()
    logits, _ = model(x[:5])
    per_step = F.cross_entropy(logits.reshape(-1, logits.size(-1)), x[1:6].reshape(-1), reduction="none").view(5, 4)
    loss = per_step.mean(1).sum()  # batch mean, summed over the time steps
    loss.backward()
    for (name, p), q in zip(model.named_parameters(), result.model.parameters()):
        assert torch.allclose(p - 0.7 * p.grad, q, atol=1e-6), name
    assert result.log[0]["train_ppl"] == pytest.approx(math.exp(per_step.mean().item()), rel=1e-5)


def test_run_folder_log_checkpoint_and_provenance(tiny_corpus, tmp_path):
    events = []
    result = train(
        tiny_config(),
        tiny_corpus,
        tmp_path / "run",
        callbacks=[events.append],
        progress=False,
        log_every=10,
        command="pytest",
    )
    run = tmp_path / "run"
    log = [json.loads(l) for l in (run / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [1, 2, 3] and log == result.log
    assert {"train_ppl", "valid_ppl", "lr", "tokens_per_s", "epoch_s", "wall_s"} <= set(log[0])
    assert [r["lr"] for r in log] == [1.0, 1.0, 0.5]
    summary = json.loads((run / "summary.json").read_text())
    for key in ("command", "git_commit", "torch", "device", "wall_s", "test_ppl", "decay_start", "corpus_sizes"):
        assert key in summary
    assert summary["command"] == "pytest" and summary["decay_start"] == "code"
    # the machine: CPU model, threads, and the vector instructions torch dispatches to
    assert summary["device"].endswith(f"{torch.get_num_threads()} threads, {torch.backends.cpu.get_cpu_capability()}")
    assert summary["threads"] == torch.get_num_threads()  # also a field of its own, for code that compares runs
    assert json.loads((run / "config.json").read_text()) == tiny_config().to_dict()
    assert load_checkpoint(run / "checkpoint.pt")["epoch"] == 3
    kinds = [e["event"] for e in events]
    assert kinds.count("epoch") == 3 and kinds[-1] == "end" and "step" in kinds


def test_the_commit_is_read_once_on_first_use_never_at_import(tiny_corpus, monkeypatch):
    code = (
        "import subprocess\ndef no_git(*a, **k): raise AssertionError('a subprocess at import')\n"
        "subprocess.run = no_git\nimport rnnreg.__main__, rnnreg.train, rnnreg.runfolder\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    calls, real = [], subprocess.run
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a[0][:2]) or real(*a, **k))
    runfolder.git_commit.cache_clear()
    first = train(tiny_config(epochs=1), tiny_corpus, progress=False)
    second = train(tiny_config(epochs=1), tiny_corpus, progress=False)
    assert first.summary["git_commit"] == second.summary["git_commit"] == runfolder.git_commit()
    assert calls == [["git", "rev-parse"], ["git", "status"]]  # read once, for the whole process


def test_training_learns_the_tiny_grammar(tiny_corpus):
    # A larger init leaves the plateau at the unigram solution within the first epoch.
    result = train(tiny_config(epochs=2, init_scale=0.5, decay_after=5), tiny_corpus, progress=False)
    assert result.summary["valid_ppl"] < 0.3 * tiny_corpus.unigram_perplexity("valid")


def test_resume_equals_uninterrupted(tiny_corpus, tmp_path):
    full = train(tiny_config(), tiny_corpus, tmp_path / "full", progress=False)
    interrupted = tiny_config(epochs=3)
    # An interruption after epoch 1: run one epoch into the folder, then resume the full run there.
    with pytest.raises(KeyboardInterrupt):
        train(
            interrupted,
            tiny_corpus,
            tmp_path / "resumed",
            progress=False,
            callbacks=[lambda e: _interrupt_after_epoch(e, 1)],
        )
    assert load_checkpoint(tmp_path / "resumed" / "checkpoint.pt")["epoch"] == 1
    resumed = train(interrupted, tiny_corpus, tmp_path / "resumed", progress=False)
    strip = lambda log: [{k: v for k, v in r.items() if k in ("epoch", "lr", "train_ppl", "valid_ppl")} for r in log]
    assert strip(resumed.log) == strip(full.log)
    assert resumed.summary["test_ppl"] == full.summary["test_ppl"]
    lines = (tmp_path / "resumed" / "log.jsonl").read_text().splitlines()
    assert [json.loads(l)["epoch"] for l in lines] == [1, 2, 3]
    theirs = full.model.state_dict()
    assert all(torch.equal(v, theirs[k]) for k, v in resumed.model.state_dict().items())


def test_a_run_can_end_sooner_or_train_on(tiny_corpus, tmp_path):
    strip = lambda log: [{k: r[k] for k in ("epoch", "lr", "train_ppl", "valid_ppl")} for r in log]
    two = train(tiny_config(epochs=2), tiny_corpus, tmp_path / "two", progress=False)
    three = train(tiny_config(epochs=3), tiny_corpus, tmp_path / "three", progress=False)
    # Planned for 3 epochs, stopped after 2, ended there: the run a 2-epoch plan gives.
    with pytest.raises(KeyboardInterrupt):
        train(
            tiny_config(epochs=3),
            tiny_corpus,
            tmp_path / "run",
            progress=False,
            callbacks=[lambda e: _interrupt_after_epoch(e, 2)],
        )
    ended = train(tiny_config(epochs=2), tiny_corpus, tmp_path / "run", progress=False)
    assert strip(ended.log) == strip(two.log)
    assert ended.summary["test_ppl"] == two.summary["test_ppl"]
    # Trained on to 3: the epoch-2 summary moves aside, the log is the 3-epoch run's.
    on = train(tiny_config(epochs=3), tiny_corpus, tmp_path / "run", progress=False)
    assert strip(on.log) == strip(three.log) and on.summary["test_ppl"] == three.summary["test_ppl"]
    aside = json.loads((tmp_path / "run" / "summary-epoch2.json").read_text())
    assert aside["epochs"] == 2 and aside["test_ppl"] == two.summary["test_ppl"]
    # Ending before an epoch the checkpoint already holds would throw trained epochs away.
    with pytest.raises(CheckpointMismatchError, match="the checkpoint holds epoch 3, this run ends after 1"):
        train(tiny_config(epochs=1), tiny_corpus, tmp_path / "run", progress=False)


def _interrupt_after_epoch(event, epoch):
    if event["event"] == "epoch" and event["epoch"] == epoch:
        raise KeyboardInterrupt


def test_checkpoint_for_another_configuration_is_refused(tiny_corpus, tmp_path):
    train(tiny_config(epochs=1), tiny_corpus, tmp_path / "run", progress=False)
    with pytest.raises(CheckpointMismatchError, match="hidden_size: checkpoint has 12, this run has 13"):
        train(tiny_config(epochs=1, hidden_size=13), tiny_corpus, tmp_path / "run", progress=False)


def test_non_finite_loss_stops_with_clear_error_and_keeps_last_good_checkpoint(tiny_corpus, tmp_path, monkeypatch):
    original = train_mod.window_nll
    calls = {"n": 0}
    steps_per_epoch = 0

    def poisoned(model, x, y, state, device, precision):
        nll, state = original(model, x, y, state, device, precision)
        if model.training:
            calls["n"] += 1
            if calls["n"] > steps_per_epoch:  # from epoch 2 on
                nll = nll * float("nan")
        return nll, state

    from rnnreg.data import batchify, num_windows

    steps_per_epoch = num_windows(batchify(tiny_corpus.train, 4), 5)
    monkeypatch.setattr(train_mod, "window_nll", poisoned)
    with pytest.raises(NonFiniteLossError, match="loss became nan in epoch 2.*last good checkpoint"):
        train(tiny_config(), tiny_corpus, tmp_path / "run", progress=False, log_every=5)
    ckpt = load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert ckpt["epoch"] == 1
    assert all(torch.isfinite(v).all() for v in ckpt["model"].values())


@pytest.mark.slow
def test_quick_run_on_ptb_beats_the_unigram_model(ptb_corpus):
    # The README's quick run: the small preset, one epoch on the first 300k training tokens
    # (recorded in results/ptb/quick: valid 321 on the full split, against the unigram model's 685).
    corpus = ptb_corpus.head(train=300_000, valid=10_000, test=2_000)
    result = train(Config.from_preset("small", epochs=1, seed=1), corpus, progress=False, test=False)
    assert result.summary["valid_ppl"] < 0.6 * corpus.unigram_perplexity("valid")


def test_a_run_folder_in_use_by_another_process_is_refused(tiny_corpus, tmp_path):
    import multiprocessing as mp

    from rnnreg.runfolder import RunFolderBusyError

    run = tmp_path / "run"
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    held, done = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_run_dir, args=(run, held, done))
    holder.start()
    try:
        assert held.wait(timeout=60)
        with pytest.raises(RunFolderBusyError, match="another process"):
            train(tiny_config(epochs=1), tiny_corpus, run, progress=False)
        assert not (run / "log.jsonl").exists()  # nothing written over the other writer's files
    finally:
        done.set()
        holder.join(timeout=60)
    train(tiny_config(epochs=1), tiny_corpus, run, progress=False)  # its writer is done: the folder is free
    assert (run / "summary.json").exists() and not (run / ".lock").exists()


def _hold_run_dir(run, held, done):
    from rnnreg.runfolder import claim_run_dir, release_run_dir

    assert claim_run_dir(run) is True
    held.set()
    done.wait(timeout=60)
    release_run_dir(run)


@pytest.mark.slow
def test_compiled_window_loss_matches_eager(tiny_corpus):
    from rnnreg.train import WindowLoss

    config = Config.from_preset("small", hidden_size=8, steps=5, batch_size=4, scheme="zaremba", dropout=0.3)
    model = build_model(config, len(tiny_corpus.vocab)).eval()  # eval: no random masks, so paths compare
    x = torch.randint(0, len(tiny_corpus.vocab), (5, 4))
    y = torch.randint(0, len(tiny_corpus.vocab), (5, 4))
    device = torch.device("cpu")
    eager, _ = WindowLoss(model, device)(x, y, model.init_state(4))
    loss_fn = WindowLoss(model, device, compile=True)
    compiled, _ = loss_fn(x, y, model.init_state(4))
    assert loss_fn.compiled and torch.allclose(eager, compiled, rtol=1e-4)


def test_record_copies_a_run_without_its_checkpoint_and_says_how_far_it_is(tiny_corpus, tmp_path, capsys):
    from rnnreg.__main__ import main

    run, dest = tmp_path / "run", tmp_path / "results" / "medium"
    with pytest.raises(KeyboardInterrupt):
        train(
            tiny_config(),
            tiny_corpus,
            run,
            progress=False,
            command="pytest",
            callbacks=[lambda e: _interrupt_after_epoch(e, 2)],
        )
    assert main(["record", str(run), "--to", str(dest)]) == 0
    assert sorted(p.name for p in dest.iterdir()) == ["config.json", "log.jsonl", "progress.json"]
    assert [json.loads(l)["epoch"] for l in (dest / "log.jsonl").read_text().splitlines()] == [1, 2]
    progress = json.loads((dest / "progress.json").read_text())
    assert progress["epochs_done"] == 2 and progress["epochs_planned"] == 3 and progress["wall_s"] > 0
    # one provenance record: the process that wrote the checkpoint
    assert progress["command"] == "pytest" and progress["git_commit"] == runfolder.git_commit()
    assert progress["threads"] == torch.get_num_threads() and "torch" in progress and "device" in progress
    # A complete record is never overwritten by a run in progress.
    done = train(tiny_config(), tiny_corpus, run, progress=False)
    assert main(["record", str(run), "--to", str(dest)]) == 0
    assert sorted(p.name for p in dest.iterdir()) == ["config.json", "log.jsonl", "summary.json"]
    assert json.loads((dest / "summary.json").read_text())["test_ppl"] == done.summary["test_ppl"]
    # Chapter 03's measurements written beside a complete run travel with its record.
    (run / "mask_noise.json").write_text('{"fraction": [1.0]}')
    assert main(["record", str(run), "--to", str(dest)]) == 0
    assert json.loads((dest / "mask_noise.json").read_text()) == {"fraction": [1.0]}
    other = tmp_path / "other"
    with pytest.raises(KeyboardInterrupt):
        train(tiny_config(), tiny_corpus, other, progress=False, callbacks=[lambda e: _interrupt_after_epoch(e, 1)])
    capsys.readouterr()
    assert main(["record", str(other), "--to", str(dest)]) == 2
    assert str(dest / "summary.json") in capsys.readouterr().err
    # A folder where no epoch finished, or the run folder itself, is refused in one line.
    assert main(["record", str(tmp_path / "empty"), "--to", str(dest)]) == 2
    assert "neither summary.json nor checkpoint.pt" in capsys.readouterr().err
    assert main(["record", str(run), "--to", str(run)]) == 2
    assert "is the run folder itself" in capsys.readouterr().err


def _train_golden(out: Path) -> float:
    """The golden run (tests/data/golden_run.py) in a subprocess of its own, under the portable environment."""
    done = subprocess.run(
        [sys.executable, str(DATA / "golden_run.py"), str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, **PORTABLE},
        cwd=Path(__file__).parent.parent,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["test_ppl"]


def _numbers(log_text: str) -> list[dict]:
    """The log's numbers that training decides (not its timings)."""
    keys = ("epoch", "lr", "train_ppl", "valid_ppl")
    return [{k: r[k] for k in keys} for r in map(json.loads, log_text.splitlines())]


@pytest.mark.slow
def test_training_is_bit_identical_to_the_golden_run_and_resumes_its_checkpoint(tmp_path):
    """The code before issue #31's refactor wrote golden_log.jsonl and golden_epoch1.pt (its epoch-1
    checkpoint): this code's log equals it to the last digit, and resuming that checkpoint (beside a
    mid-epoch save of the old format, ignored now) gives the golden epochs 2.. exactly."""
    golden = _numbers((DATA / "golden_log.jsonl").read_text())
    golden_test = json.loads((DATA / "golden_test_ppl.json").read_text())["test_ppl"]
    assert _train_golden(tmp_path / "fresh") == golden_test
    assert _numbers((tmp_path / "fresh" / "log.jsonl").read_text()) == golden
    resumed = tmp_path / "resumed"
    resumed.mkdir()
    shutil.copyfile(DATA / "golden_epoch1.pt", resumed / "checkpoint.pt")
    (resumed / "checkpoint-mid-epoch.pt").write_bytes(b"an old mid-epoch save")
    assert _train_golden(resumed) == golden_test
    assert _numbers((resumed / "log.jsonl").read_text()) == golden  # epoch 1 from the checkpoint, 2.. trained
