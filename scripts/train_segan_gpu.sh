#!/usr/bin/env bash
# SEGAN with the paper's full settings on one GPU, then the held-out evaluation and — only if the model beats both
# the noisy input and the Wiener filter on PESQ-WB and STOI — the bundled card cards/segan-speech.
#
#   scripts/train_segan_gpu.sh [train|eval|all]          (default: all)
#
# The paper's settings are the plugin's defaults (nothing narrowed): G 11 + 11 layers at 16 … 1024 channels with
# z 8×1024, kernel 31, stride 2, PReLU, skips; D with virtual batch norm and LeakyReLU 0.3; least squares + 100·L1;
# RMSprop 2e-4; truncated N(0, 0.02) initialisation; pre-emphasis 0.95; 16,384-sample windows every 8,192; 86 epochs.
# Batch 100 as in the authors' train_segan.sh (the paper's 400 was the total over 4 GPUs; BATCH=400 fits one 80 GB
# card). 86 epochs of data/speech (6,353 windows) at batch 100 are ~5,460 steps.
#
# Environment: DATA (data/speech), OUT (runs/segan-speech-full), BATCH (100), EPOCHS (86), CARD (cards/segan-speech),
# EXTRA (more `ganzoo train` options, e.g. "--mixed-precision bf16"; the paper trained in fp32).
# `ganzoo train` uses the GPU when torch sees one; the run resumes from its latest checkpoint when OUT exists.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
DATA=${DATA:-data/speech}
OUT=${OUT:-runs/segan-speech-full}
BATCH=${BATCH:-100}
EPOCHS=${EPOCHS:-86}
CARD=${CARD:-cards/segan-speech}
EXTRA=${EXTRA:-}

python -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA device: this script is for a GPU')"
[[ -f $DATA/manifest.json ]] || python scripts/fetch_speech.py --out "$DATA"

train() {
  local resume=()
  [[ -f $OUT/checkpoints/latest ]] && resume=(--resume)
  # shellcheck disable=SC2086
  ganzoo train segan --data "$DATA" --out "$OUT" --tag speech --epochs "$EPOCHS" --batch-size "$BATCH" --seed 0 \
    --set checkpoint_every=500 --set sample_every=2000 --set progress=false "${resume[@]}" $EXTRA
}

evaluate() {
  # exits 1 and leaves $CARD untouched unless the model beats both baselines on PESQ and STOI
  python benchmarks/eval_speech.py "$OUT" --data "$DATA" --out benchmarks/results/speech --examples 2 \
    --metrics pesq,stoi,si_sdr,segsnr --must-beat pesq,stoi --bundle-into "$CARD" \
    --train-command "DATA=$DATA BATCH=$BATCH EPOCHS=$EPOCHS scripts/train_segan_gpu.sh"
}

case ${1:-all} in
  train) train ;;
  eval) evaluate ;;
  all) train; evaluate ;;
  *) echo "usage: $0 [train|eval|all]" >&2; exit 2 ;;
esac
