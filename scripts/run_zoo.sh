#!/usr/bin/env bash
# The scheme zoo: one model per dropout scheme at one common CPU budget, recorded under results/.
# Chapters 03 and 05 read these runs. Resumable: run it again and each run continues from its
# checkpoint (finished runs are skipped).
#
# Budget (the same for every scheme): the paper's small shape (2 x 200, 20 steps, init 0.1, clip 5)
# with dropout 0.5 on the non-recurrent connections (and 0.5 on the recurrent site where the scheme
# has one; zoneout keeps h/c with 0.05/0.5), trained on the first 300,000 PTB training tokens for 6
# epochs, lr 1 for epochs 1-3 then halved each epoch; valid and test on the full splits.
#
# usage: scripts/run_zoo.sh [seed ...]     (default seed 1)
#        SCHEMES="none zaremba" scripts/run_zoo.sh 1     (a subset, e.g. to run two lists side by side)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
seeds=("${@:-1}")
for seed in "${seeds[@]}"; do
  for scheme in ${SCHEMES:-none zaremba everywhere memory variational weight_drop zoneout}; do
    dropout=0.5; [ "$scheme" = none ] && dropout=0
    $PY -m rnnreg train --preset small --scheme "$scheme" --dropout "$dropout" \
        --max-train-tokens 300000 --epochs 6 --decay-after 2 --seed "$seed" --quiet \
        --out "results/ptb/zoo/$scheme-seed$seed"
  done
done
