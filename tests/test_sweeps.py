"""The sweeps (rnnreg.sweeps): which runs the grid and the zoo train, the ``train`` command of each,
and their launch through submitit, here (local executor) and to SLURM (a fake ``sbatch``).

The budget's tests read the recorded runs' own config.json and summary.json; the launches train
tiny runs on the tiny corpus.
"""

import json
import os
import pickle
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rnnreg import sweeps
from rnnreg.__main__ import main
from rnnreg.analysis import equivalence
from rnnreg.analysis.schemes import SCHEME_SITES
from rnnreg.config import Config
from rnnreg.runfolder import load_run_model
from rnnreg.train import evaluate

RESULTS = Path(__file__).resolve().parent.parent / "results"
PROGRESS = ("epoch", "lr", "train_ppl", "valid_ppl")  # a log record without its timings


def log_records(folder) -> list[dict]:
    lines = (Path(folder) / "log.jsonl").read_text().splitlines()
    return [{k: json.loads(line)[k] for k in PROGRESS} for line in lines]


# ---------------------------------------------------------------------------------------------
# The zoo's budget, named once: every recorded zoo run is what `python -m rnnreg zoo` trains
# ---------------------------------------------------------------------------------------------
def recorded_runs():
    out = []
    for sub, pattern in (
        ("zoo", r"(?P<scheme>.+)-seed(?P<seed>\d+)"),
        ("zoo-tuned", r"(?P<scheme>.+)-r(?P<pct>\d+)-seed(?P<seed>\d+)"),
    ):
        for cfg in sorted((RESULTS / "ptb" / sub).glob("*/config.json")):
            m = re.fullmatch(pattern, cfg.parent.name)
            rate = int(m["pct"]) / 100 if m and m.groupdict().get("pct") else None
            out.append(pytest.param(cfg.parent, m["scheme"], int(m["seed"]), rate, id=f"{sub}/{cfg.parent.name}"))
    return out


@pytest.mark.parametrize("folder,scheme,seed,rate", recorded_runs())
def test_the_zoo_command_reproduces_every_recorded_run(folder, scheme, seed, rate):
    recorded = Config.from_dict(json.loads((folder / "config.json").read_text()))
    assert sweeps.run_config(scheme, seed, rate) == recorded
    assert sweeps.run_folder(scheme, seed, rate) == f"results/{folder.relative_to(RESULTS).as_posix()}"
    summary = folder / "summary.json"
    if summary.exists():  # complete: the command it records is the zoo's train command, word for word
        assert json.loads(summary.read_text())["command"] == sweeps.run_command(scheme, seed, rate)


def test_the_untuned_zoo_is_recorded_for_every_scheme_and_seed():
    for scheme in sweeps.SCHEMES:
        for seed in sweeps.SEEDS:
            assert (RESULTS / sweeps.run_folder(scheme, seed).removeprefix("results/") / "config.json").exists()


@pytest.mark.parametrize("scheme", ["everywhere", "memory", "variational", "weight_drop", "zoneout"])
@pytest.mark.parametrize("rate", [0.1, 0.25])
def test_tuned_runs_are_the_commands_the_tuning_uses(scheme, rate):
    option = "--zoneout-c" if scheme == "zoneout" else "--recurrent-dropout"
    nn = f"{round(rate * 100):02d}"
    want = (
        f"python -m rnnreg train --preset small --scheme {scheme} --dropout 0.5 {option} {rate:g} "
        f"--max-train-tokens 300000 --epochs 6 --decay-after 2 --seed 1 --quiet "
        f"--out results/ptb/zoo-tuned/{scheme}-r{nn}-seed1"
    )
    assert sweeps.run_command(scheme, 1, rate) == want
    config = sweeps.run_config(scheme, 1, rate)
    assert config.dropout == 0.5 and config.epochs == 6 and config.max_train_tokens == 300_000
    if scheme == "zoneout":
        assert (config.zoneout_c, config.zoneout_h, config.recurrent_dropout) == (rate, 0.05, None)
    else:
        assert config.recurrent_dropout == rate


def test_budget_rates_and_names():
    b = sweeps.BUDGET
    assert (b["dropout"], b["recurrent_rate"], b["zoneout_h"]) == (0.5, 0.5, 0.05)
    assert [sweeps.rate_option(s) for s in sweeps.SCHEMES] == [
        None,
        None,
        "recurrent_dropout",
        "recurrent_dropout",
        "recurrent_dropout",
        "recurrent_dropout",
        "zoneout_c",
    ]
    for scheme, sites in SCHEME_SITES.items():  # the sites the book draws hold the rate the zoo tunes
        recurrent = [s.rate for s in sites if s.recurrent and s.rate != "zoneout_h"]
        assert recurrent == ([sweeps.rate_option(scheme)] if sweeps.rate_option(scheme) else [])
    assert sweeps.run_config("none", 1).dropout == 0.0
    assert sweeps.run_config("zaremba", 3).lr_at(3) == 1.0 and sweeps.run_config("zaremba").lr_at(4) == 0.5
    # the untuned rate is the budget's: no -r folder, no extra option
    assert sweeps.run_name("variational", 2, 0.5) == "variational-seed2"
    assert sweeps.run_name("variational", 2, 0.25) == "variational-r25-seed2"
    assert sweeps.run_name("zaremba", 1, 0.25) == "zaremba-seed1"  # no recurrent site: nothing to tune
    assert sweeps.run_folder("memory", 1, 0.1, root="x/") == "x/memory-r10-seed1"
    runs = sweeps.plan(["zaremba", "memory"], [1], [0.1, 0.5])
    assert runs == [("zaremba", 1, None), ("memory", 1, 0.1), ("memory", 1, None)]
    assert (
        sweeps.zoo_command(["memory"], (2,), (0.1,))
        == "python -m rnnreg zoo --schemes memory --recurrent-dropout 0.1 --seeds 2"
    )
    with pytest.raises(ValueError, match="dropconnect"):
        sweeps.run_config("dropconnect")


def test_zoo_dry_run_prints_the_train_command_of_each_run(tmp_path, capsys):
    root = str(tmp_path / "zoo")
    assert (
        main(
            [
                "zoo",
                "--dry-run",
                "--schemes",
                "none",
                "zoneout",
                "--seeds",
                "1",
                "--recurrent-dropout",
                "0.1",
                "--out",
                root,
            ]
        )
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines == [sweeps.run_command("none", 1, None, root), sweeps.run_command("zoneout", 1, 0.1, root)]
    assert "--zoneout-c 0.1" in lines[1] and lines[1].endswith("zoneout-r10-seed1")
    assert not (tmp_path / "zoo").exists()  # a dry run writes nothing


def test_the_medium_budget_is_one_command_for_the_2x650_runs(capsys):
    assert main(["zoo", "--budget", "medium", "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    schemes = ("variational", "everywhere", "weight_drop", "memory")
    assert [line.rsplit(" ", 1)[1] for line in lines] == [f"results/ptb/zoo-medium/{s}-r10-seed1" for s in schemes]
    for scheme, line in zip(schemes, lines):
        assert line == sweeps.run_command(scheme, 1, 0.1, budget="medium")
        config = sweeps.run_config(scheme, 1, 0.1, budget="medium")
        assert config == Config.from_preset("medium", scheme=scheme, recurrent_dropout=0.1)
        assert (config.hidden_size, config.dropout, config.epochs, config.max_train_tokens) == (650, 0.5, 39, None)


@pytest.mark.parametrize(
    "args,option",
    [
        (["zoo", "--recurrent-dropout", "-0.1"], "--recurrent-dropout"),
        (["zoo", "--recurrent-dropout", "1"], "--recurrent-dropout"),
        (["zoo", "--recurrent-dropout", "nan"], "--recurrent-dropout"),
        (["zoo", "--seeds", "-1"], "seed"),
        (["zoo", "--cpus", "0"], "--cpus"),
        (["zoo", "--launcher", "slurm", "--time", "0"], "--time"),
        (["grid", "--rates", "0.5", "1.5"], "--rates"),
    ],
)
def test_wrong_sweep_options_are_one_line(args, option, capsys, tmp_path):
    try:
        code = main([*args, "--dry-run", "--out", str(tmp_path / "runs")])
    except SystemExit as exc:  # refused by argparse as the command line is read (after its usage line)
        code = exc.code
    out, err = capsys.readouterr()
    errors = [line for line in err.splitlines() if "error" in line]
    assert code == 2 and out == "" and len(errors) == 1 and option in errors[0] and "Traceback" not in err
    assert not (tmp_path / "runs").exists()


def test_without_submitit_a_launch_says_how_to_get_it(monkeypatch, tmp_path, tiny_dir, capsys):
    monkeypatch.setitem(sys.modules, "submitit", None)  # what `import submitit` meets where it is missing
    runs = sweeps.zoo_runs(["none"], [1], root=str(tmp_path))
    assert sweeps.launch(runs, dry_run=True, log=lambda line: None) == (runs, [])  # a dry run needs no submitit
    with pytest.raises(ImportError, match="pip install submitit"):
        sweeps.launch(runs, logs=tmp_path / "logs", log=lambda line: None)
    capsys.readouterr()
    assert main(["zoo", "--schemes", "none", "--out", str(tmp_path), "--data", str(tiny_dir)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "pip install submitit" in err


# ---------------------------------------------------------------------------------------------
# The grid
# ---------------------------------------------------------------------------------------------
def test_grid_cells_and_config():
    cells = sweeps.grid_cells()
    assert (
        len(cells)
        == len(set(cells))
        == len(sweeps.GRID["sizes"]) * len(sweeps.GRID["rates"]) + len(sweeps.ENSEMBLE["seeds"]) - 1
    )
    assert cells[0][0] == min(sweeps.GRID["sizes"]) and cells[-1][0] == max(sweeps.GRID["sizes"])
    c = sweeps.grid_config(400, 0.5)
    assert (c.scheme, c.dropout, c.hidden_size, c.max_train_tokens) == ("zaremba", 0.5, 400, 100_000)
    assert sweeps.grid_config(50, 0.0).scheme == "none"
    assert sweeps.cell_name(50, 0.35, 2) == "h0050-p35-seed2"
    run = sweeps.grid_runs("results/ptb/grid", [(50, 0.35, 2)], ["--data", "ptb"])[0]
    assert run.command == (
        "python -m rnnreg train --preset small --scheme zaremba --dropout 0.35 --hidden-size 50 "
        "--seed 2 --max-train-tokens 100000 --epochs 6 --decay-after 2 --quiet "
        "--out results/ptb/grid/h0050-p35-seed2 --data ptb"
    )
    assert equivalence.GRID is sweeps.GRID and equivalence.cell_name is sweeps.cell_name  # chapter 04 reads them


def test_a_grid_dry_run_prints_each_cells_train_command(tmp_path, capsys):
    root = str(tmp_path / "grid")
    assert main(["grid", "--dry-run", "--sizes", "8", "--rates", "0", "0.5", "--no-ensemble", "--out", root]) == 0
    runs = sweeps.grid_runs(root, [(8, 0.0, 1), (8, 0.5, 1)])
    assert capsys.readouterr().out.splitlines() == [run.command for run in runs]
    assert not (tmp_path / "grid").exists()  # a dry run writes nothing


@pytest.fixture
def tiny_grid(monkeypatch):
    monkeypatch.setattr(sweeps, "GRID", {**sweeps.GRID, "budget": dict(max_train_tokens=1000, epochs=1)})


def test_a_grid_job_records_eval_mode_train_perplexity_once(tmp_path, tiny_dir, tiny_corpus, tiny_grid):
    run, other = sweeps.grid_runs(str(tmp_path), [(16, 0.5, 1), (16, 0.0, 1)], ["--data", str(tiny_dir)])
    assert sweeps.Job(run)() == run.folder and run.finished()
    summary = json.loads((Path(run.folder) / "summary.json").read_text())
    assert summary["command"] == run.command
    model, config, _ = load_run_model(run.folder, corpus=tiny_corpus)
    assert config == sweeps.grid_config(16, 0.5, 1)
    assert summary["train_eval_ppl"] == evaluate(model, tiny_corpus.train[:1000], 20, 20)
    before = (Path(run.folder) / "summary.json").stat().st_mtime_ns
    sweeps.Job(run)()  # finished: nothing retrained, nothing rewritten
    assert (Path(run.folder) / "summary.json").stat().st_mtime_ns == before
    sweeps.Job(other)()
    (tmp_path / "h0032-p00-seed1").mkdir()  # an unfinished cell is left out
    grid = equivalence.load_grid(tmp_path)
    assert sorted(grid.dropout) == [0.0, 0.5] and (grid.gap > 0).all()


# ---------------------------------------------------------------------------------------------
# Launches: here through submitit's local executor, to SLURM through a fake sbatch
# ---------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_local_sweep_killed_midway_and_launched_again_ends_as_an_uninterrupted_one(tmp_path, capsys, monkeypatch):
    from corpora import write_tiny_corpus

    data = write_tiny_corpus(tmp_path / "tiny", lines=(300, 120, 120))  # valid: 20 streams of 21 tokens
    monkeypatch.setitem(sweeps.BUDGET, "epochs", 3)
    monkeypatch.setitem(sweeps.BUDGET, "max_train_tokens", 1000)
    root, logs = tmp_path / "zoo", tmp_path / "logs"
    args = [
        "zoo",
        "--schemes",
        "none",
        "variational",
        "--recurrent-dropout",
        "0.25",
        "--data",
        str(data),
        "--out",
        str(root),
        "--logs",
        str(logs),
    ]
    runs = sweeps.zoo_runs(["none", "variational"], [1], [0.25], str(root), data=["--data", str(data)])
    # The sweep, its jobs and their training, killed at once (a machine gone) as soon as an epoch is saved.
    code = (
        "import json, sys; from rnnreg import sweeps; "
        "sweeps.launch([sweeps.Run(f, tuple(a)) for f, a in json.loads(sys.argv[1])], logs=sys.argv[2])"
    )
    sweep = subprocess.Popen(
        [sys.executable, "-c", code, json.dumps([(r.folder, r.argv) for r in runs]), str(logs)],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not list(root.glob("*/checkpoint.pt")) and time.monotonic() < deadline and sweep.poll() is None:
            time.sleep(0.02)
    finally:
        os.killpg(sweep.pid, signal.SIGKILL)
        sweep.wait()
    assert list(root.glob("*/checkpoint.pt")) and not all(run.finished() for run in runs)  # cut off mid-sweep

    assert main(args) == 0  # launched again: through `train` to the end, one job per run folder
    submitted = sorted(logs.iterdir())
    for run, (scheme, rate) in zip(runs, (("none", None), ("variational", 0.25))):
        summary = json.loads((Path(run.folder) / "summary.json").read_text())
        assert summary["command"] == sweeps.run_command(scheme, 1, rate, str(root)) + f" --data {data}"
        assert summary["threads"] == 1  # --cpus 1
        assert Config.from_dict(json.loads((Path(run.folder) / "config.json").read_text())) == sweeps.run_config(
            scheme, 1, rate
        )
        reference = sweeps.Run(
            str(tmp_path / "reference" / Path(run.folder).name),
            tuple(str(tmp_path / "reference" / Path(run.folder).name) if a == run.folder else a for a in run.argv),
        )
        sweeps.Job(reference)()  # the same command, uninterrupted, here
        assert log_records(run.folder) == log_records(reference.folder)
        assert summary["test_ppl"] == json.loads((Path(reference.folder) / "summary.json").read_text())["test_ppl"]

    capsys.readouterr()
    assert main(args) == 0  # finished: a third launch submits nothing
    assert capsys.readouterr().out.splitlines() == [f"{run.folder}: complete, skipped" for run in runs]
    assert sorted(logs.iterdir()) == submitted


def test_a_slurm_sweep_submits_one_job_array_with_the_options_asked_for(tmp_path, tiny_dir, capsys, monkeypatch):
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    (bin_ / "srun").write_text("#!/bin/sh\nexit 1\n")  # submitit looks for srun to know it is on a cluster
    (bin_ / "sbatch").write_text(f'#!/bin/sh\ncp "$1" {tmp_path}/sbatch.sh\necho "Submitted batch job 4242"\n')
    for tool in bin_.iterdir():
        tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_}{os.pathsep}{os.environ['PATH']}")
    root, logs = str(tmp_path / "zoo"), tmp_path / "logs"
    args = [
        "zoo",
        "--schemes",
        "none",
        "zaremba",
        "--launcher",
        "slurm",
        "--partition",
        "gpu-small",
        "--time",
        "90",
        "--cpus",
        "4",
        "--data",
        str(tiny_dir),
        "--out",
        root,
        "--logs",
        str(logs),
    ]
    commands = [sweeps.run_command(s, 1, None, root, ["--data", str(tiny_dir)]) for s in ("none", "zaremba")]

    assert main([*args, "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert json.loads(lines[0].removeprefix("slurm: ")) == dict(
        name="rnnreg-zoo-small", timeout_min=90, cpus_per_task=4, slurm_partition="gpu-small"
    )
    assert lines[1:] == commands and not logs.exists()

    assert main(args) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{sweeps.run_folder(s, 1, None, root)}: submitted, job 4242_{k}" for k, s in enumerate(("none", "zaremba"))
    ]
    sbatch = (tmp_path / "sbatch.sh").read_text().splitlines()
    for flag in ("partition=gpu-small", "time=90", "cpus-per-task=4", "array=0-1%2", "job-name=rnnreg-zoo-small"):
        assert f"#SBATCH --{flag}" in sbatch
    for k, command in enumerate(commands):  # what each array task will run
        with open(logs / f"4242_{k}" / f"4242_{k}_submitted.pkl", "rb") as f:
            job = pickle.load(f).function
        assert (job.run.command, job.threads) == (command, 4)
    assert not Path(root).exists()  # nothing ran here
