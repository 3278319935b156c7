#!/usr/bin/env bash
# Table 1's regularized rows on a lent GPU (the `device` tool), in one call of at most 10 minutes.
#
#   here, first:   bash scripts/gpu_table1.sh --stage        # PTB (checksummed) into .carry/ptb, ignored by git
#   the call:      run(command="bash scripts/gpu_table1.sh medium", carry=[".carry"], timeout_s=600)
#   back here:     copy <files_at>/medium into results/ptb/medium (config, log, summary or progress; no checkpoint)
#
# Each preset trains with the project's CLI on CUDA (fp32, the paper's recipe) until it finishes or
# the deadline (DEADLINE_S, default 540 s from the start) stops it; the run folder's record comes
# back either way: a stopped run's log and progress.json say how far it got, machine.txt what it ran on.
# SMOKE=1 runs the same path on this machine's CPU with a toy budget (a check of the script).
set -uo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == "--stage" ]]; then
  src=${RNNREG_DATA:-../shared/data/ptb}
  mkdir -p .carry/ptb && cp "$src"/ptb.*.txt "$src"/SHA256SUMS* .carry/ptb/ 2>/dev/null
  (cd .carry/ptb && sha256sum -c --quiet SHA256SUMS* ) && echo "staged: .carry/ptb" && exit 0
  echo "gpu_table1: could not stage PTB from $src (set RNNREG_DATA)" >&2; exit 2
fi
OUT=${OUT:?gpu_table1: OUT is unset (the device tool sets it; for a local check: OUT=/tmp/out)}
PY=${PYTHON:-python3}
export RNNREG_DATA=${RNNREG_DATA:-$PWD/.carry/ptb} RNNREG_OFFLINE=1 PYTHONUNBUFFERED=1
start=$(date +%s); deadline=${DEADLINE_S:-540}
device=cuda; extra=()
if [[ "${SMOKE:-0}" == 1 ]]; then device=cpu; extra=(--hidden-size 16 --max-train-tokens 3000 --epochs 2); fi
{ date -u +%FT%TZ; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null
  $PY -c "import torch, platform; print('torch', torch.__version__, 'python', platform.python_version())"; } > "$OUT/machine.txt"
for preset in "${@:-medium}"; do
  left=$(( deadline - ($(date +%s) - start) ))
  (( left > 30 )) || { echo "gpu_table1: no time left for $preset" | tee -a "$OUT/machine.txt"; break; }
  run=/tmp/rnnreg-runs/$preset; mkdir -p "$OUT/$preset"
  timeout --signal=INT "$left" $PY -m rnnreg train --preset "$preset" --device "$device" "${extra[@]}" \
    --out "$run" --quiet 2>&1 | tee "$OUT/$preset/train.out"
  $PY -m rnnreg record "$run" --to "$OUT/$preset"  # config, log, summary or progress.json; no checkpoint
done
ls -l "$OUT"/*
