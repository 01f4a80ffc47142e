#!/usr/bin/env bash
# Trains the two image-to-image demos (issue 4) with the commands their cards record, then copies the inference
# folders into cards/ and measures them; a demo that does not beat every trivial baseline gets no card
# (benchmarks/eval_i2i.py).
# Usage: scripts/train_i2i_demos.sh [pix2pix|cyclegan|cards …]
#   pix2pix   runs/pix2pix-openmoji-line2color  (OpenMoji line art → colour, 64 px)
#   cyclegan  runs/cyclegan-noto2twemoji         (Noto Color Emoji ↔ Twemoji, 64 px)
#   cards     cards/<id>/ from the run folders (no checkpoints/logs/samples) + `ganzoo eval --write-card`
# The pix2pix demo is not bundled: 30,000 steps at a constant learning rate (PSNR, L1 and KID beat the identity
# baseline; SSIM 0.892 does not beat identity's 0.910) — benchmarks/README.md has the numbers.
# One thread per run (the machine has 2 cores and other jobs); each run takes about 40 minutes here.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
export PATH="$PWD/.venv/bin:$PATH"
[[ -f data/openmoji-line2color/SOURCE.md && -f data/emoji-noto2twemoji/SOURCE.md ]] || python scripts/fetch_emoji.py
# 64-px versions of the papers' recipes: batch 1, Adam 2e-4/β1 0.5, linear decay over the second half (the plugins'
# train_defaults), the papers' losses; jitter 72 → random 64 crop (286/256 scaled); a 34×34 PatchGAN (n_layers_D=2:
# about half the image, as 70×70 is a quarter of 256²) and narrow generators so the folders stay small.
small=(--set image_size=64 --set load_size=72 --set n_layers_D=2 --set ndf=32 --set progress=false
       --set sample_every=5000 --set checkpoint_every=5000 --seed 0)
run() { local out=$1; shift; [[ -f $out/config.json ]] && { echo "$out exists, skipping"; return; }
        echo "== $out"; /usr/bin/time -f "$out wall %e s" ganzoo train "$@" --out "$out"; }
steps=("$@"); [[ ${#steps[@]} -gt 0 ]] || steps=(pix2pix cyclegan cards)
for s in "${steps[@]}"; do
  case $s in
    pix2pix) run runs/pix2pix-openmoji-line2color pix2pix --data data/openmoji-line2color --max-steps 30000 \
               "${small[@]}" --set num_downs=6 --set ngf=16 --set lr_schedule=constant ;;
    cyclegan) run runs/cyclegan-noto2twemoji cyclegan --data data/emoji-noto2twemoji --max-steps 11000 \
               "${small[@]}" --set n_blocks=6 --set ngf=16 --set domain_a=noto --set domain_b=twemoji ;;
    cards) python benchmarks/eval_i2i.py --make-cards ;;
    *) echo "unknown step $s" >&2; exit 2 ;;
  esac
done
