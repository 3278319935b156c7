import json
import math

import pytest
import torch
import torch.nn.functional as F

from rnnreg import train as train_mod
from rnnreg.train import (
    PRESETS,
    CheckpointMismatchError,
    Config,
    NonFiniteLossError,
    RunFolderError,
    build_model,
    evaluate,
    load_checkpoint,
    mark_lost,
    perplexity,
    record_run,
    train,
)


def tiny_config(**kw):
    base = dict(hidden_size=12, steps=5, batch_size=4, epochs=3, scheme="everywhere", dropout=0.3, seed=3,
                decay_after=1, lr_decay=2.0)
    return Config.preset("small", **{**base, **kw})


@pytest.mark.parametrize("preset,code,text", [
    ("small", [1, 1, 1, 1, 1, 0.5, 0.25, 0.125, 0.0625, 1 / 32, 1 / 64, 1 / 128, 1 / 256],
              [1, 1, 1, 1, 0.5, 0.25, 0.125, 0.0625, 1 / 32, 1 / 64, 1 / 128, 1 / 256, 1 / 512]),
])
def test_small_lr_schedule_epoch_by_epoch(preset, code, text):
    cfg = Config.preset(preset)
    assert [cfg.lr_at(e) for e in range(1, 14)] == pytest.approx(code)
    cfg = Config.preset(preset, decay_start="text")
    assert [cfg.lr_at(e) for e in range(1, 14)] == pytest.approx(text)


@pytest.mark.parametrize("preset,decay,after,epochs", [("medium", 1.2, 6, 39), ("large", 1.15, 14, 55)])
def test_medium_and_large_schedules(preset, decay, after, epochs):
    cfg = Config.preset(preset)
    assert cfg.epochs == epochs
    lrs = [cfg.lr_at(e) for e in range(1, epochs + 1)]
    assert lrs[: after + 1] == [1.0] * (after + 1)  # the Lua code: max_epoch + 1 epochs at lr 1
    assert lrs[after + 1] == pytest.approx(1 / decay)
    assert lrs[-1] == pytest.approx(decay ** -(epochs - after - 1))
    text = Config.preset(preset, decay_start="text")
    assert text.lr_at(after) == 1.0 and text.lr_at(after + 1) == pytest.approx(1 / decay)


def test_presets_are_the_papers():
    assert {k: (v["num_layers"], v["hidden_size"], v["steps"], v["init_scale"], v["dropout"], v["clip"])
            for k, v in PRESETS.items()} == {
        "small": (2, 200, 20, 0.1, 0.0, 5.0), "medium": (2, 650, 35, 0.05, 0.5, 5.0),
        "large": (2, 1500, 35, 0.04, 0.65, 10.0)}
    assert all(Config.preset(k).batch_size == 20 and Config.preset(k).lr == 1.0 for k in PRESETS)


@pytest.mark.parametrize("kwargs,match", [
    (dict(dropout=1.0, scheme="zaremba"), "dropout must be a probability"),
    (dict(dropout=0.5), "scheme 'none' takes no dropout"),
    (dict(scheme="bogus"), "unknown scheme"),
    (dict(hidden_size=0), "hidden_size must be a positive integer"),
    (dict(steps=-3), "steps must be a positive integer"),
    (dict(lr=0.0), "lr must be positive"),
    (dict(lr_decay=0.5), "lr_decay is a divisor"),
    (dict(decay_start="paper"), "decay_start must be one of"),
    (dict(precision="fp8"), "precision must be one of"),
    (dict(max_train_tokens=10), "too small"),
    (dict(hidden_sise=10), "unknown config field"),
])
def test_bad_config_raises_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Config.preset("small", **kwargs)


def test_unknown_preset():
    with pytest.raises(ValueError, match="unknown preset"):
        Config.preset("huge")


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
    result = train(tiny_config(), tiny_corpus, tmp_path / "run", callbacks=[events.append], progress=False,
                   log_every=10, command="pytest")
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


def test_provenance_names_the_commit_the_process_imported(tiny_corpus, monkeypatch):
    import rnnreg.runfolder as runfolder
    import rnnreg.train as train_module

    monkeypatch.setattr(runfolder, "_COMMIT_AT_IMPORT", "0123abc")  # the tree moved on since import
    result = train(tiny_config(epochs=1), tiny_corpus, progress=False)
    assert result.summary["git_commit"] == "0123abc"
    assert train_module.git_commit(at_import=False) != "0123abc"


def test_training_learns_the_tiny_grammar(tiny_corpus):
    # A larger init leaves the plateau at the unigram solution within the first epoch.
    result = train(tiny_config(epochs=2, init_scale=0.5, decay_after=5), tiny_corpus, progress=False)
    assert result.summary["valid_ppl"] < 0.3 * tiny_corpus.unigram_perplexity("valid")


def test_resume_equals_uninterrupted(tiny_corpus, tmp_path):
    full = train(tiny_config(), tiny_corpus, tmp_path / "full", progress=False)
    interrupted = tiny_config(epochs=3)
    # An interruption after epoch 1: run one epoch into the folder, then resume the full run there.
    with pytest.raises(KeyboardInterrupt):
        train(interrupted, tiny_corpus, tmp_path / "resumed", progress=False,
              callbacks=[lambda e: _interrupt_after_epoch(e, 1)])
    assert load_checkpoint(tmp_path / "resumed" / "checkpoint.pt")["epoch"] == 1
    resumed = train(interrupted, tiny_corpus, tmp_path / "resumed", progress=False)
    strip = lambda log: [{k: v for k, v in r.items() if k in ("epoch", "lr", "train_ppl", "valid_ppl")} for r in log]
    assert strip(resumed.log) == strip(full.log)
    assert resumed.summary["test_ppl"] == full.summary["test_ppl"]
    lines = (tmp_path / "resumed" / "log.jsonl").read_text().splitlines()
    assert [json.loads(l)["epoch"] for l in lines] == [1, 2, 3]
    # Each process that trained says which epochs, on which code and machine.
    first, second = resumed.summary["sessions"]
    assert first["epochs"] == [1, 1] and second["epochs"] == [2, 3]
    for session in (first, second):
        assert session["git_commit"] == resumed.summary["git_commit"]
        assert session["device"] == resumed.summary["device"] and session["started"] <= resumed.summary["finished"]
    assert [s["epochs"] for s in full.summary["sessions"]] == [[1, 3]]


class _MachineGone(Exception):
    """A machine that goes away mid-epoch: no Ctrl-C handling runs, the process just ends."""


@pytest.mark.parametrize("epoch", [1, 2])
def test_a_run_killed_mid_epoch_resumes_from_its_mid_epoch_save_bit_for_bit(tiny_corpus, tmp_path, epoch):
    full = train(tiny_config(), tiny_corpus, tmp_path / "full", progress=False, log_every=2, save_every_s=0.0)
    assert not (tmp_path / "full" / train_mod.MID_EPOCH).exists()  # deleted at each epoch's end
    run = tmp_path / "run"

    def machine_gone(e):
        if e["event"] == "step" and (e["epoch"], e["step"]) == (epoch, 4):
            raise _MachineGone

    with pytest.raises(_MachineGone):
        train(tiny_config(), tiny_corpus, run, progress=False, log_every=2, save_every_s=0.0, callbacks=[machine_gone])
    mid = load_checkpoint(run / train_mod.MID_EPOCH)
    assert (mid["epoch"], mid["mid_epoch"]["step"]) == (epoch - 1, 4)
    assert (run / "checkpoint.pt").exists() == (epoch > 1)  # checkpoint.pt only ever holds whole epochs
    resumed = train(tiny_config(), tiny_corpus, run, progress=False, log_every=2)
    strip = lambda log: [{k: r[k] for k in ("epoch", "lr", "train_ppl", "valid_ppl")} for r in log]
    assert strip(resumed.log) == strip(full.log) and resumed.summary["test_ppl"] == full.summary["test_ppl"]
    theirs = full.model.state_dict()
    assert all(torch.equal(v, theirs[k]) for k, v in resumed.model.state_dict().items())
    assert not (run / train_mod.MID_EPOCH).exists()
    sessions = resumed.summary["sessions"]
    assert [s["epochs"] for s in sessions] == ([[1, 1], [2, 3]] if epoch == 2 else [[1, 3]])
    began = sessions[-1]["began_mid_epoch"]
    assert began["at_step"] == 5 and began["earlier_steps_by"]["git_commit"] == resumed.summary["git_commit"]


def test_ctrl_c_names_the_mid_epoch_save_and_a_stale_one_is_not_resumed(tiny_corpus, tmp_path):
    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt, match=r"holds epoch 1, .*checkpoint-mid-epoch.pt holds epoch 2 up to "
                                                r"step 4\. Run the same command again to resume from step 5"):
        train(tiny_config(), tiny_corpus, run, progress=False, log_every=2, save_every_s=0.0,
              callbacks=[lambda e: _interrupt_after_step(e, 2, 4)])
    # A mid-epoch save older than the epoch checkpoint (the process stopped between the two) is removed.
    mid = load_checkpoint(run / train_mod.MID_EPOCH)
    mid["epoch"] = 0
    torch.save(mid, run / train_mod.MID_EPOCH)
    resumed = train(tiny_config(), tiny_corpus, run, progress=False)
    assert "began_mid_epoch" not in resumed.summary["sessions"][-1] and not (run / train_mod.MID_EPOCH).exists()
    full = train(tiny_config(), tiny_corpus, tmp_path / "full", progress=False)
    assert resumed.summary["test_ppl"] == full.summary["test_ppl"]


def test_a_checkpoint_without_session_records_says_so(tiny_corpus, tmp_path):
    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train(tiny_config(), tiny_corpus, run, progress=False, callbacks=[lambda e: _interrupt_after_epoch(e, 2)])
    ckpt = load_checkpoint(run / "checkpoint.pt")
    assert [s["epochs"] for s in ckpt["sessions"]] == [[1, 2]]
    del ckpt["sessions"]  # as an older rnnreg wrote it
    torch.save(ckpt, run / "checkpoint.pt")
    resumed = train(tiny_config(), tiny_corpus, run, progress=False)
    older, this = resumed.summary["sessions"]
    assert older == {"epochs": [1, 2], "provenance": train_mod.UNRECORDED_SESSIONS}
    assert this["epochs"] == [3, 3] and "device" in this


def test_a_run_can_end_sooner_or_train_on_and_records_its_plans(tiny_corpus, tmp_path, capsys):
    strip = lambda log: [{k: r[k] for k in ("epoch", "lr", "train_ppl", "valid_ppl")} for r in log]
    two = train(tiny_config(epochs=2), tiny_corpus, tmp_path / "two", progress=False)
    three = train(tiny_config(epochs=3), tiny_corpus, tmp_path / "three", progress=False)
    # Planned for 3 epochs, stopped after 2, ended there: the run a 2-epoch plan gives.
    with pytest.raises(KeyboardInterrupt):
        train(tiny_config(epochs=3), tiny_corpus, tmp_path / "run", progress=False,
              callbacks=[lambda e: _interrupt_after_epoch(e, 2)])
    ended = train(tiny_config(epochs=2), tiny_corpus, tmp_path / "run", progress=False)
    assert "planned for 3 epochs; this run ends after 2" in capsys.readouterr().err
    assert strip(ended.log) == strip(two.log)
    assert ended.summary["test_ppl"] == two.summary["test_ppl"]
    assert ended.summary["epochs_planned"] == [3, 2] and "epochs_planned" not in two.summary
    assert load_checkpoint(tmp_path / "run" / "checkpoint.pt")["epochs_planned"] == [3, 2]
    # Trained on to 3: the epoch-2 summary moves aside, the log is the 3-epoch run's.
    on = train(tiny_config(epochs=3), tiny_corpus, tmp_path / "run", progress=False)
    assert strip(on.log) == strip(three.log) and on.summary["test_ppl"] == three.summary["test_ppl"]
    assert on.summary["epochs_planned"] == [3, 2, 3]
    aside = json.loads((tmp_path / "run" / "summary-epoch2.json").read_text())
    assert aside["epochs"] == 2 and aside["test_ppl"] == two.summary["test_ppl"]
    # Ending before an epoch the checkpoint already holds would throw trained epochs away.
    with pytest.raises(CheckpointMismatchError, match="the checkpoint holds epoch 3, this run ends after 1"):
        train(tiny_config(epochs=1), tiny_corpus, tmp_path / "run", progress=False)


def _interrupt_after_epoch(event, epoch):
    if event["event"] == "epoch" and event["epoch"] == epoch:
        raise KeyboardInterrupt


def _interrupt_after_step(event, epoch, step):
    if event["event"] == "step" and (event["epoch"], event["step"]) == (epoch, step):
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
    result = train(Config.preset("small", epochs=1, seed=1), corpus, progress=False, test=False)
    assert result.summary["valid_ppl"] < 0.6 * corpus.unigram_perplexity("valid")


def test_a_run_folder_in_use_by_another_process_is_refused(tiny_corpus, tmp_path):
    import multiprocessing as mp

    from rnnreg.train import RunFolderBusyError

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
def test_compiled_window_loss_matches_eager_and_falls_back_when_compile_fails(tiny_corpus, monkeypatch, capsys):
    from rnnreg.train import WindowLoss, build_model

    config = Config.preset("small", hidden_size=8, steps=5, batch_size=4, scheme="zaremba", dropout=0.3)
    model = build_model(config, len(tiny_corpus.vocab)).eval()  # eval: no random masks, so paths compare
    x = torch.randint(0, len(tiny_corpus.vocab), (5, 4))
    y = torch.randint(0, len(tiny_corpus.vocab), (5, 4))
    device = torch.device("cpu")
    eager, _ = WindowLoss(model, device)(x, y, model.init_state(4))
    compiled, _ = WindowLoss(model, device, compile=True)(x, y, model.init_state(4))
    assert torch.allclose(eager, compiled, rtol=1e-4)

    def broken_compile(fn, **kw):
        def fail(*a, **k):
            raise RuntimeError("no C++ compiler")
        return fail

    monkeypatch.setattr(torch, "compile", broken_compile)
    loss_fn = WindowLoss(model, device, compile=True)  # the toolchain check passed before: fails at the call
    fallback, _ = loss_fn(x, y, model.init_state(4))
    assert torch.equal(fallback, eager) and loss_fn.compiled is False
    assert "training eagerly" in capsys.readouterr().err
    monkeypatch.setattr(train_mod, "_COMPILE_WORKS", {})  # a machine where compiling fails from the start
    loss_fn = WindowLoss(model, device, compile=True)
    assert loss_fn.compiled is False and "training eagerly" in capsys.readouterr().err
    assert torch.equal(loss_fn(x, y, model.init_state(4))[0], eager)


def test_record_copies_a_run_without_its_checkpoint_and_says_how_far_it_is(tiny_corpus, tmp_path, capsys):
    from rnnreg.__main__ import main
    from rnnreg.analysis.runs import load_run

    run, dest = tmp_path / "run", tmp_path / "results" / "medium"
    with pytest.raises(KeyboardInterrupt):
        train(tiny_config(), tiny_corpus, run, progress=False, command="pytest",
              callbacks=[lambda e: _interrupt_after_epoch(e, 2)])
    assert main(["record", str(run), "--to", str(dest)]) == 0
    assert sorted(p.name for p in dest.iterdir()) == ["config.json", "log.jsonl", "progress.json"]
    assert [json.loads(l)["epoch"] for l in (dest / "log.jsonl").read_text().splitlines()] == [1, 2]
    progress = json.loads((dest / "progress.json").read_text())
    assert progress["epochs_done"] == 2 and progress["epochs_planned"] == 3
    (session,) = progress["sessions"]
    assert session["epochs"] == [1, 2] and session["command"] == "pytest" and "threads" in session["device"]
    assert load_run(dest).command == "pytest"  # the book reads the command of a run in progress from its sessions
    # Finished: the summary replaces the progress note.
    done = train(tiny_config(), tiny_corpus, run, progress=False)
    assert main(["record", str(run), "--to", str(dest)]) == 0
    assert sorted(p.name for p in dest.iterdir()) == ["config.json", "log.jsonl", "summary.json"]
    assert json.loads((dest / "summary.json").read_text())["test_ppl"] == done.summary["test_ppl"]
    assert load_run(dest).progress is None and load_run(dest).command == done.summary["command"]
    # A folder where no epoch finished, or the run folder itself, is refused in one line.
    capsys.readouterr()
    assert main(["record", str(tmp_path / "empty"), "--to", str(dest)]) == 2
    assert "neither summary.json nor checkpoint.pt" in capsys.readouterr().err
    assert main(["record", str(run), "--to", str(run)]) == 2
    assert "is the run folder itself" in capsys.readouterr().err


def test_a_lost_run_keeps_its_record_and_its_restart_is_recorded_from_epoch_1(tiny_corpus, tmp_path, capsys):
    """The medium run's checkpoint lives outside git; when that machine is gone the run restarts.
    The record never splices two runs: the lost one moves into lost-attempt-1, the restart is
    recorded in the folder from its own epoch 1 and names the attempt before it."""
    from rnnreg.__main__ import main
    from rnnreg.analysis.runs import load_run

    first, dest = tmp_path / "first", tmp_path / "results" / "medium"
    with pytest.raises(KeyboardInterrupt):
        train(tiny_config(), tiny_corpus, first, progress=False, command="pytest",
              callbacks=[lambda e: _interrupt_after_epoch(e, 2)])
    assert main(["record", str(first), "--to", str(dest)]) == 0
    # The first attempt's checkpoint is gone; a restart in a new folder has one epoch so far.
    second = tmp_path / "second"
    with pytest.raises(KeyboardInterrupt):
        train(tiny_config(), tiny_corpus, second, progress=False, command="pytest",
              callbacks=[lambda e: _interrupt_after_epoch(e, 1)])
    capsys.readouterr()
    assert main(["record", str(second), "--to", str(dest)]) == 2  # would overwrite 2 epochs of another run
    err = capsys.readouterr().err
    assert "records another run" in err and "mark-lost" in err
    assert load_run(dest).epochs_done == 2  # nothing was overwritten
    # Even at the same epoch count, a session that did not train the checkpoint is another run's.
    progress = json.loads((dest / "progress.json").read_text())
    progress["sessions"][0]["started"] = "2001-01-01T00:00:00Z"
    (dest / "progress.json").write_text(json.dumps(progress))
    with pytest.raises(RunFolderError, match="session of 2001-01-01T00:00:00Z did not train"):
        record_run(first, dest)

    assert main(["mark-lost", str(dest), "--reason", "the machine went away"]) == 0
    lost = load_run(dest / "lost-attempt-1")
    assert lost.state == "lost" and lost.epochs_done == 2 and lost.lost["reason"] == "the machine went away"
    assert lost.status == "lost after epoch 2 of 3: its checkpoint is gone"
    assert sorted(p.name for p in dest.iterdir()) == ["lost-attempt-1"]

    assert main(["record", str(second), "--to", str(dest)]) == 0
    restart = load_run(dest)
    assert restart.state == "in progress" and restart.epochs_done == 1  # its own log, not the lost one's
    assert restart.status == "in progress: epoch 1 of 3, attempt 2"
    assert [r.name for r in restart.earlier_attempts] == [lost.name]
    assert json.loads((dest / "progress.json").read_text())["earlier_attempts"] == [
        {"record": "lost-attempt-1", "epochs_recorded": 2, "lost": "the machine went away"}]
    # Complete: the summary says so too.
    done = train(tiny_config(), tiny_corpus, second, progress=False)
    assert main(["record", str(second), "--to", str(dest)]) == 0
    summary = json.loads((dest / "summary.json").read_text())
    assert summary["test_ppl"] == done.summary["test_ppl"] and summary["earlier_attempts"][0]["epochs_recorded"] == 2
    assert load_run(dest).status == "complete, 3 epochs, attempt 2"
    # A complete record, or a folder with no run in progress, is not lost; a reason is required.
    for folder, reason, said in [(dest, "x", "records a complete run"), (tmp_path / "none", "x", "nothing to lose"),
                                 (dest / "lost-attempt-1", " ", "say why")]:
        with pytest.raises(RunFolderError, match=said):
            mark_lost(folder, reason)
