#!/usr/bin/env bash
# Trains the bundled video models (framegan-digits, gamegan-paddle) and the ablations their cards compare against,
# with the exact commands the cards record. Usage: scripts/train_video_models.sh [framegan|framegan-l2|framegan-rec|
# gamegan|gamegan-l2 …] (default: all but framegan-rec, in that order). One thread per run (a shared 2-core machine).
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
GANZOO=${GANZOO:-.venv/bin/ganzoo}
[[ -f data/digits/digits.png ]] || .venv/bin/python scripts/fetch_digits.py --out data/digits
run() { local name=$1; shift; [[ -f runs/$name/config.json ]] && { echo "runs/$name exists, skipping"; return; }
        echo "== $name"; /usr/bin/time -f "$name wall %e s" "$GANZOO" train "$@"; }
# framegan on Moving-MNIST-style digits, 64×64 grey, 4 frames → 1; the paper's tables at 1/8 (G) and 1/16 (D) width
fg=(framegan --data builtin:moving-digits --batch-size 8 --seed 0 --set progress=false
    --set g_width=0.125 --set d_width=0.0625 --set optimizer=adam --set lr=0.0005 --set lr_d=0.0002
    --set beta1=0.5 --set sample_every=250 --set checkpoint_every=250)
# gamegan on the paddle-and-ball simulator, 64×64 grey, 4 frames + action → next frame, 3-step rollouts
gg=(gamegan --data builtin:paddle-ball --max-steps 1000 --batch-size 16 --seed 0 --set progress=false
    --set width=0.25 --set hidden=512 --set factors=512 --set ndf=16 --set lr=0.0005 --set lr_d=0.0002
    --set sample_every=250 --set checkpoint_every=250)
# optional second phase (not run for the bundled model): unrolled on its own predictions for 3 frames (the official
# code's recursive training), fine-tuning the one-step run
rec=(--max-steps 400 --set future_frames=3)
models=("$@"); [[ ${#models[@]} -gt 0 ]] || models=(framegan framegan-l2 gamegan gamegan-l2)
for m in "${models[@]}"; do
  case $m in
    framegan) run framegan-digits "${fg[@]}" --out runs/framegan-digits --max-steps 2000 ;;
    framegan-l2) run framegan-digits-l2 "${fg[@]}" --out runs/framegan-digits-l2 --max-steps 2000 --set objective=l2 ;;
    framegan-rec) run framegan-digits-rec "${fg[@]}" --out runs/framegan-digits-rec "${rec[@]}" \
                      --set init_from=runs/framegan-digits ;;
    gamegan) run gamegan-paddle "${gg[@]}" --out runs/gamegan-paddle ;;
    gamegan-l2) run gamegan-paddle-l2 "${gg[@]}" --out runs/gamegan-paddle-l2 --set lambda_adv=0 ;;
    *) echo "unknown model $m" >&2; exit 2 ;;
  esac
done
