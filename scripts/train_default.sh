#!/usr/bin/env bash
# Reproduce the shipped default model: fetch the corpus, train configs/default.yaml on the
# CPU (resuming if interrupted), benchmark it on the validation split, and export it into the
# package. Usage: bash scripts/train_default.sh   (about 1.5 hours on 2 CPU cores; see MODEL_CARD.md)
set -euo pipefail
cd "$(dirname "$0")/.."
REVISE=${REVISE:-revise}

bash scripts/fetch_corpus.sh
# The shipped model is this run's last checkpoint: the run stops at train.max_minutes (80; 3361
# steps on the machine that trained it) and keeps one every 100 steps. CHECKPOINT picks another.
CHECKPOINT=${CHECKPOINT:-runs/default/checkpoints/last.ckpt}

"$REVISE" train --config configs/default.yaml
"$REVISE" export "$CHECKPOINT" revise/assets/default --passes 2 --schedule shrink --force

# the validation tracks, for the benchmark (symlinks: no audio is copied)
mkdir -p data/validation
python3 - <<'PY'
import json, os
split = json.load(open("configs/corpus_split.json"))
for relative in split["val"]:
    link = os.path.join("data/validation", relative.replace("/", "__"))
    if not os.path.lexists(link):
        os.symlink(os.path.abspath(os.path.join("data/corpus", relative)), link)
PY
"$REVISE" evaluate --benchmark data/validation --gap-ms 20,50,100,200 --passes 0,1,2,4,8 --gaps-per-clip 12 \
    --out reports/default --force
