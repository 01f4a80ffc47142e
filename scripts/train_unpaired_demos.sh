#!/usr/bin/env bash
# Trains the unsupervised-translation demo candidates (issue 12) with the commands their cards would record, then
# measures them beside the baselines and copies into cards/ only those that beat them. One thread per run.
# Status: none of these runs has beaten its baselines yet, so none is bundled; the measured numbers, and which runs
# were cut short, are in docs/unsupervised.md ("Demos: measured, not bundled").
# Usage: scripts/train_unpaired_demos.sh [stargan|dtn|cyclegan|cards …]   (default: all, in this order)
#   stargan   runs/stargan-digits-fonts          the digits in 6 fonts, 32 px (data: fetch_fonts.py --only fonts)
#   stargan-skintone  runs/stargan-emoji-skintone   6 skin tones, 32 px (data: fetch_emoji.py --only skintone)
#   dtn       runs/dtn-print2hand                printed → handwritten digits (data: fetch_fonts.py)
#   cyclegan  runs/cyclegan-emoji-default2dark   default ↔ dark tone, 32 px (data: fetch_emoji.py --only default2dark)
#   cards     python benchmarks/eval_unpaired.py --make-cards (refuses a model that does not beat the baselines)
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
export PATH="$PWD/.venv/bin:$PATH"
[[ -f data/emoji-skintone/SOURCE.md ]] || python scripts/fetch_emoji.py --only skintone --size 32
[[ -f data/emoji-default2dark/SOURCE.md ]] || python scripts/fetch_emoji.py --only default2dark --size 32
[[ -f data/digits-print2hand/SOURCE.md && -f data/digits-fonts/SOURCE.md ]] || python scripts/fetch_fonts.py
quiet=(--set progress=false --seed 0)
run() { local out=$1; shift; [[ -f $out/config.json ]] && { echo "$out exists, skipping"; return; }
        echo "== $out"; /usr/bin/time -f "$out wall %e s" ganzoo train "$@" --out "$out"; }
steps=("$@"); [[ ${#steps[@]} -gt 0 ]] || steps=(stargan dtn cyclegan cards)
for s in "${steps[@]}"; do
  case $s in
    # the paper's losses, n_critic 5, batch 16, Adam 1e-4 (the plugin's defaults); 32 px and a narrow G/D
    stargan) run runs/stargan-digits-fonts stargan --data data/digits-fonts --max-steps 8000 "${quiet[@]}" \
               --set image_size=32 --set channels=1 --set num_domains=6 \
               --set 'domain_names=[sans,sans-bold,serif,mono,hand,hand-italic]' \
               --set g_conv_dim=16 --set d_conv_dim=16 --set g_repeat_num=6 --set d_repeat_num=4 \
               --set sample_every=1000 --set checkpoint_every=1000 ;;
    stargan-skintone) run runs/stargan-emoji-skintone stargan --data data/emoji-skintone --max-steps 2500 \
               "${quiet[@]}" --set image_size=32 --set num_domains=6 \
               --set 'domain_names=[default,light,medium-light,medium,medium-dark,dark]' \
               --set g_conv_dim=32 --set d_conv_dim=32 --set g_repeat_num=4 --set d_repeat_num=4 \
               --set sample_every=250 --set checkpoint_every=500 ;;
    # the paper's digit networks and weights (α = β = 15, γ = 0) with the shipped print-digits encoder f
    dtn) run runs/dtn-print2hand dtn --data data/digits-print2hand --max-steps 1200 --batch-size 32 "${quiet[@]}" \
               --set g_dim=32 --set d_dim=32 --set sample_every=200 --set checkpoint_every=200 ;;
    # the paper's recipe (LSGAN, λ 10, identity 0.5, pool 50, batch 1, linear decay) at 32 px, small networks
    cyclegan) run runs/cyclegan-emoji-default2dark cyclegan --data data/emoji-default2dark --max-steps 16000 \
               "${quiet[@]}" --set image_size=32 --set load_size=36 --set n_layers_D=2 --set ndf=32 --set ngf=16 \
               --set n_blocks=6 --set domain_a=default --set domain_b=dark \
               --set sample_every=4000 --set checkpoint_every=4000 ;;
    cards) python benchmarks/eval_unpaired.py --make-cards ;;
    *) echo "unknown step $s" >&2; exit 2 ;;
  esac
done
