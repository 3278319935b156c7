import json
import signal
import subprocess
import sys
import time

import pytest
import torch

from rnnreg.__main__ import main


def test_help_lists_the_commands():
    out = subprocess.run([sys.executable, "-m", "rnnreg", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for command in ("train", "evaluate", "bench"):
        assert command in out.stdout
    out = subprocess.run([sys.executable, "-m", "rnnreg", "train", "--help"], capture_output=True, text=True)
    assert "--scheme" in out.stdout and "--decay-start" in out.stdout and "--max-train-tokens" in out.stdout


def test_train_then_evaluate_a_run_folder(tiny_dir, tmp_path, capsys):
    run = tmp_path / "run"
    args = [
        "train",
        "--data",
        str(tiny_dir),
        "--out",
        str(run),
        "--quiet",
        "--hidden-size",
        "10",
        "--steps",
        "5",
        "--batch-size",
        "4",
        "--epochs",
        "2",
        "--scheme",
        "variational",
        "--dropout",
        "0.2",
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "epoch   2" in printed and "test_ppl" in printed
    summary = json.loads((run / "summary.json").read_text())
    assert summary["command"].startswith("python -m rnnreg") and summary["epochs"] == 2
    assert main(["evaluate", str(run), "--data", str(tiny_dir)]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["epoch"] == 2
    assert evaluated["test_ppl"] == pytest.approx(summary["test_ppl"], abs=1e-3)


@pytest.mark.parametrize(
    "args,message",
    [
        (["--dropout", "1.2", "--scheme", "zaremba"], "dropout must be a probability"),
        (["--hidden-size", "0"], "hidden_size must be a positive integer"),
        (["--dropout", "0.5"], "scheme 'none' takes no dropout"),
        (["--lr-decay", "inf"], "lr_decay is a divisor and must be a finite number"),
    ],
)
def test_bad_options_exit_2_with_a_clear_message(tiny_dir, tmp_path, capsys, args, message):
    assert main(["train", "--data", str(tiny_dir), "--out", str(tmp_path / "r"), "--quiet", *args]) == 2
    assert message in capsys.readouterr().err


def test_a_numeric_option_has_one_rule_wherever_it_is_given(tmp_path, capsys):
    """Train's --seed is checked by Config, the other commands' as the command line is read: one rule, one sentence."""
    said = []
    for argv in (["measure", "run", "--seed", "-1"], ["live", "--out", "x", "--seeds", "-1"], ["zoo", "--seeds", "-1"]):
        with pytest.raises(SystemExit):
            main(argv)
        said.append(capsys.readouterr().err.strip().rsplit(": ", 1)[-1])
    assert main(["train", "--seed", "-1", "--data", str(tmp_path), "--out", str(tmp_path / "run")]) == 2
    said.append(capsys.readouterr().err.strip().rsplit(": ", 1)[-1])
    assert said == ["seed must be an integer from 0 to 2**64 - 1, got -1"] * 4
    assert not (tmp_path / "run").exists()


def test_missing_data_exits_2_naming_the_folder(tmp_path, capsys):
    assert main(["train", "--data", str(tmp_path / "none"), "--out", str(tmp_path / "r"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "none") in err and "ptb.train.txt" in err


def test_resuming_with_other_options_is_refused(tiny_dir, tmp_path, capsys):
    base = [
        "train",
        "--data",
        str(tiny_dir),
        "--out",
        str(tmp_path / "r"),
        "--quiet",
        "--hidden-size",
        "8",
        "--steps",
        "5",
        "--batch-size",
        "4",
        "--epochs",
        "1",
    ]
    assert main(base) == 0
    assert main(base[:-1] + ["2", "--seed", "9"]) == 2
    assert "seed: checkpoint has 1, this run has 9" in capsys.readouterr().err


@pytest.mark.slow
def test_bench_runs_and_reports_ratios(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert (
        main(
            [
                "bench",
                "--shapes",
                "small",
                "--schemes",
                "zaremba",
                "--precisions",
                "fp32",
                "--seconds",
                "0.05",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    result = json.loads(out.read_text())
    rows = {(r["scheme"], r["precision"]): r for r in result["rows"]}
    assert set(rows) == {("reference", "fp32"), ("zaremba", "fp32")}
    assert rows[("reference", "fp32")]["ratio_to_reference"] == 1.0
    assert rows[("zaremba", "fp32")]["fraction_of_fp32_bound"] > 0
    lo, hi = rows[("zaremba", "fp32")]["ratio_spread"]
    assert lo <= rows[("zaremba", "fp32")]["ratio_to_reference"] <= hi
    assert "x ref" in capsys.readouterr().out


def test_interleaved_rates_reports_medians_and_ratios_per_round():
    from rnnreg.bench import interleaved_rates

    calls = []
    fast = lambda: calls.append("fast")
    slow = lambda: (calls.append("slow"), time.sleep(0.004))
    rates = interleaved_rates({"slow": slow, "fast": fast}, tokens_per_step=10, seconds=0.1, rounds=4)
    assert rates["slow"]["ratio_to_reference"] == 1.0
    assert rates["fast"]["ratio_to_reference"] > 2  # a no-op step beats a 4 ms one by far
    # after 3 warm-up calls each, the rounds alternate: slow, fast, slow, fast, ... (7 switches)
    timed = calls[6:]
    switches = sum(a != b for a, b in zip(timed, timed[1:]))
    assert timed[0] == "slow" and switches == 7


def test_measure_writes_signal_json_beside_the_run(tiny_dir, tmp_path, capsys):
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "--data",
                str(tiny_dir),
                "--out",
                str(run),
                "--quiet",
                "--hidden-size",
                "8",
                "--steps",
                "5",
                "--batch-size",
                "4",
                "--epochs",
                "1",
                "--scheme",
                "everywhere",
                "--dropout",
                "0.3",
            ]
        )
        == 0
    )
    assert (
        main(["measure", str(run), "--data", str(tiny_dir), "--max-lag", "4", "--samples", "10", "--positions", "20"])
        == 0
    )
    result = json.loads((run / "signal.json").read_text())
    assert result["scheme"] == "everywhere" and len(result["swap_eval"]["kl"]) == 5
    assert result["context_ablation"]["context"] == [1, 2, 3, 5, 10, 20, 50]
    assert result["provenance"]["command"].startswith("python -m rnnreg measure")
    assert not (run / "mask_noise.json").exists()  # the default measures what it always did
    (run / "signal.json").unlink()
    assert (
        main(
            [
                "measure",
                str(run),
                "--data",
                str(tiny_dir),
                "--what",
                "mask-noise",
                "--max-lag",
                "4",
                "--windows",
                "6",
                "--draws",
                "3",
                "--warmup",
                "2",
            ]
        )
        == 0
    )
    noise = json.loads((run / "mask_noise.json").read_text())
    assert not (run / "signal.json").exists()
    assert noise["scheme"] == "everywhere" and noise["recurrent_rate"] == 0.3 and noise["draws"] == 3
    assert noise["lag"] == [0, 1, 2, 3, 4] and len(noise["fraction"]) == 5 and len(noise["stderr"]) == 5
    assert noise["provenance"]["command"].endswith("--warmup 2") and noise["provenance"]["wall_s"] > 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_background_run_stops_on_kill_like_ctrl_c(tiny_dir, tmp_path, sig):
    """`nohup python -m rnnreg train ... &` ignores SIGINT; `kill` must still stop it with its message."""
    run = tmp_path / "run"
    args = [
        sys.executable,
        "-m",
        "rnnreg",
        "train",
        "--data",
        str(tiny_dir),
        "--out",
        str(run),
        "--quiet",
        "--hidden-size",
        "8",
        "--steps",
        "5",
        "--batch-size",
        "4",
        "--epochs",
        "100000",
    ]
    ignore_sigint = lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)  # as bash does for `cmd &`
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=ignore_sigint)
    log = run / "log.jsonl"
    while not (log.exists() and log.read_text().count("\n") >= 1):
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "training interrupted in epoch" in err and "Run the same command again" in err
    held = torch.load(run / "checkpoint.pt", weights_only=True)["epoch"]
    assert held >= 1 and f"holds epoch {held}" in err
