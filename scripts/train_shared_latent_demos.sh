#!/usr/bin/env bash
# Trains the shared-latent demos on Noto ↔ Twemoji (32 px), with the exact commands their cards record, then
# measures them and bundles those that beat the identity baseline:
#   scripts/train_shared_latent_demos.sh [unit|xgan|cards …]
#   unit   runs/unit-noto2twemoji   (UNIT, 19,000 steps, batch 1)
#   xgan   runs/xgan-noto2twemoji   (XGAN, 6,000 steps, batch 8)
#   cards  python scripts/make_shared_latent_cards.py (cards/<id>/ + the interpolation grids under docs/images/)
# One thread per run (the machine has 2 cores and other jobs). The data: python scripts/fetch_emoji.py --only noto2twemoji
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
export PATH="$PWD/.venv/bin:$PATH"
[[ -f data/emoji-noto2twemoji/SOURCE.md ]] || python scripts/fetch_emoji.py --only noto2twemoji
common=(--data data/emoji-noto2twemoji --set image_size=32 --set load_size=36 --set progress=false --seed 0)
run() { local out=$1; shift; [[ -f $out/config.json ]] && { echo "$out exists, skipping"; return; }
        echo "== $out"; /usr/bin/time -f "$out wall %e s" ganzoo train "$@" --out "$out"; }
steps=("$@"); [[ ${#steps[@]} -gt 0 ]] || steps=(unit xgan cards)
for s in "${steps[@]}"; do
  case $s in
    unit) run runs/unit-noto2twemoji unit "${common[@]}" --max-steps 19000 --set ch=16 --set n_downsample=1 \
            --set n_enc_res=0 --set n_enc_shared=2 --set n_gen_shared=2 --set n_gen_res=0 --set ndf=32 \
            --set n_layers_D=4 --set sample_every=2500 --set checkpoint_every=2500 ;;
    xgan) run runs/xgan-noto2twemoji xgan "${common[@]}" --max-steps 6000 --batch-size 8 --set ch=16 \
            --set code_dim=256 --set ndf=16 --set sample_every=2500 --set checkpoint_every=2500 ;;
    cards) python scripts/make_shared_latent_cards.py ;;
    *) echo "unknown step $s" >&2; exit 2 ;;
  esac
done
