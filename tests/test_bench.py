"""rnnreg.bench: it probes only the precisions it measures, and bad timing options fail in one line."""

import pytest
import torch

from rnnreg import bench
from rnnreg.__main__ import main


@pytest.fixture
def probes(monkeypatch):
    """The dtypes of the matmul probes bench runs, recorded instead of timed."""
    calls = []
    monkeypatch.setattr(bench, "matmul_gflops", lambda dtype=torch.float32, **kw: calls.append(dtype) or 1.0)
    return calls


def test_fp32_only_runs_no_bf16_probe(probes):
    result = bench.run_bench(shapes=(), precisions=("fp32",))
    assert probes == [torch.float32]
    assert result["matmul_gflops_bf16"] is None


def test_bf16_is_probed_where_it_is_measured(probes, monkeypatch):
    monkeypatch.setattr(bench, "bf16_supported", lambda device: True)
    result = bench.run_bench(shapes=(), precisions=("fp32", "bf16"))
    assert probes == [torch.float32, torch.bfloat16]
    assert result["matmul_gflops_bf16"] == 1.0


@pytest.mark.parametrize("option,value", [("--rounds", "0"), ("--rounds", "-2"), ("--seconds", "0")])
def test_bad_timing_options_fail_in_one_line_before_any_timing(option, value, probes, capsys):
    try:
        code = main(["bench", "--shapes", "small", "--schemes", "none", option, value])
    except SystemExit as exc:  # refused by argparse, as the command line is read
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    errors = [line for line in err.splitlines() if "error" in line]
    assert len(errors) == 1 and option in errors[0]
    assert probes == []


@pytest.mark.parametrize("option,kwargs", [("--rounds", dict(rounds=0)), ("--seconds", dict(seconds=0.0))])
def test_run_bench_refuses_bad_timing_before_any_timing(option, kwargs, probes):
    with pytest.raises(ValueError, match=option):
        bench.run_bench(shapes=(), precisions=("fp32",), **kwargs)
    assert probes == []


def test_a_tiny_bench_measures_every_contender(probes, monkeypatch, tmp_path):
    monkeypatch.setattr(bench, "VOCAB", 50)
    monkeypatch.setitem(bench.SHAPES, "small", (8, 3, 0.5))
    result = bench.run_bench(
        shapes=("small",),
        schemes=("zaremba", "memory"),
        seconds=0.01,
        rounds=1,
        precisions=("fp32",),
        out=tmp_path / "bench.json",
    )
    assert [r["scheme"] for r in result["rows"]] == ["reference", "zaremba", "memory"]
    assert all(r["tokens_per_s"] > 0 and r["ratio_spread"][0] <= r["ratio_to_reference"] for r in result["rows"])
    assert (tmp_path / "bench.json").exists()
