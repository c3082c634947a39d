#!/usr/bin/env bash
# Reproduce the shipped default model: fetch the corpus, train configs/default.yaml on the CPU
# (stage 1, 80 minutes), fine-tune it with configs/default_stage2.yaml (stage 2, 35 minutes), train
# its causal drafter with configs/drafter.yaml (stage 3, 17 minutes, the reviser kept), render the
# training solo instruments and fine-tune the reviser on the Janssen-refined hint with
# configs/reviser_janssen.yaml (stage 4, 43 minutes, the drafter kept; each stage resumes if
# interrupted), export it into the package and benchmark it on the validation split.
# Usage: bash scripts/train_default.sh   (about 3 hours on 2 CPU cores; see MODEL_CARD.md)
# Needs FluidSynth and the TimGM6mb SoundFont: apt-get install fluidsynth timgm6mb-soundfont
set -euo pipefail
cd "$(dirname "$0")/.."
REVISE=${REVISE:-revise}

bash scripts/fetch_corpus.sh
# Each stage stops at its train.max_minutes (stage 1: 3361 steps in 80 minutes on the machine that
# trained the shipped model; stages 2 to 4: their planned 1400, 1500 and 750 steps) and keeps a
# checkpoint every 100 to 200 steps; the shipped model is stage 4's last checkpoint. CHECKPOINT
# picks another. (Stages 1 and 2 ran at commit 758eb2b, with the drafter the causal one replaced;
# MODEL_CARD.md says what differed.)
CHECKPOINT=${CHECKPOINT:-runs/reviser_janssen/checkpoints/last.ckpt}

"$REVISE" train --config configs/default.yaml
"$REVISE" train --config configs/default_stage2.yaml --init runs/default/model
"$REVISE" train --config configs/drafter.yaml --init runs/default_stage2/model
"${PYTHON:-python}" scripts/render_solo_set.py data/corpus/solo-timgm6mb --training --seconds 60 --takes 8 --rate 22050
"$REVISE" train --config configs/reviser_janssen.yaml --init runs/drafter/model
# one pass: 1 to 8 measure alike in gap SNR and one is the lowest in LSD (MODEL_CARD.md)
"$REVISE" export "$CHECKPOINT" revise/assets/default --passes 1 --schedule shrink --force

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
