#!/usr/bin/env bash
# Copy what a run folder holds that belongs in git (config.json, log.jsonl, summary.json and any
# signal.json; never the checkpoint) from where it trains to results/, e.g. for a run that spans
# sessions and trains outside the work tree:
#
#   scripts/snapshot_run.sh /work/runs/ptb/medium results/ptb/medium
#
# The log is copied as it stands, one line per finished epoch: chapters read an in-progress run
# as such (no summary.json yet). Never splice logs of two different runs into one folder.
set -euo pipefail
src=${1:?usage: snapshot_run.sh SRC_RUN_FOLDER DST_RUN_FOLDER}
dst=${2:?usage: snapshot_run.sh SRC_RUN_FOLDER DST_RUN_FOLDER}
[[ -f "$src/config.json" ]] || { echo "snapshot_run: $src has no config.json (not a run folder)" >&2; exit 2; }
mkdir -p "$dst"
for f in config.json log.jsonl summary.json signal.json; do
  if [[ -f "$src/$f" ]]; then cp "$src/$f" "$dst/$f.tmp" && mv "$dst/$f.tmp" "$dst/$f"; fi
done
echo "snapshot_run: $dst <- $src ($(wc -l <"$dst/log.jsonl" 2>/dev/null || echo 0) epochs logged)"
