#!/usr/bin/env bash
# Trains the bundled <plugin>-digits models of the generation family on the OpenCV digits, with the exact commands
# their cards record.
#
#   scripts/train_digit_models.sh [--seeds "0 1 2"] [gan|dcgan|autoencoder|vae|cgan|stackgan …]
#
# Seed 0 (the bundled models' seed) writes runs/<id>; any other seed k writes runs/<id>-seed<k> with the same
# command and --seed k: `python benchmarks/compare_generation.py --seed-runs runs` reports the spread over them.
# An existing run folder is left alone. One thread per run: on a shared 2-core machine, 2-thread torch next to
# another job is many times slower.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
GANZOO=${GANZOO:-.venv/bin/ganzoo}
seeds=(0)
if [[ ${1:-} == --seeds ]]; then read -r -a seeds <<< "${2:?--seeds needs a list, e.g. \"0 1 2\"}"; shift 2; fi
[[ -d data/digits/train ]] || .venv/bin/python scripts/fetch_digits.py --out data/digits
# run ID SEED PLUGIN ARGS…: `ganzoo train PLUGIN --out runs/ID[-seedK] ARGS… --seed SEED`, timed
run() { local name=$1 seed=$2 plugin=$3; shift 3
        local out=runs/$name; [[ $seed == 0 ]] || out=runs/$name-seed$seed
        [[ -f $out/config.json ]] && { echo "$out exists, skipping"; return; }
        echo "== $out"
        /usr/bin/time -f "$out wall %e s" "$GANZOO" train "$plugin" --out "$out" "$@" --seed "$seed"; }
common=(--data data/digits --batch-size 100 --set progress=false)
models=("$@"); [[ ${#models[@]} -gt 0 ]] || models=(autoencoder vae gan dcgan stackgan cgan)
for s in "${seeds[@]}"; do
  for m in "${models[@]}"; do
    case $m in
      autoencoder) run autoencoder-digits "$s" autoencoder --max-steps 5000 "${common[@]}" ;;
      vae) run vae-digits "$s" vae --max-steps 5000 "${common[@]}" --set activation=relu --set optimizer=adam \
             --set lr=0.001 ;;
      # the paper's MLP GAN and SGD recipe, G narrowed to 512 units and D to 128 maxout units; + an EMA of G
      gan) run gan-digits "$s" gan --max-steps 10000 "${common[@]}" --set g_hidden=512 --set d_units=128 \
             --set ema_decay=0.999 --set sample_every=0 --set checkpoint_every=0 ;;
      # the paper's DCGAN (Adam 2e-4, beta1 0.5, batch 128) at 32x32, width 48; no stabiliser
      dcgan) run dcgan-digits "$s" dcgan --max-steps 1500 --data data/digits --batch-size 128 --set image_size=32 \
               --set channels=1 --set ngf=48 --set ndf=48 --set sample_every=500 --set progress=false ;;
      cgan) run cgan-digits "$s" cgan --max-steps 20000 "${common[@]}" --set latent=normal --set g_dropout=0 \
              --set g_y_hidden=500 --set g_hidden=600 ;;
      stackgan)
        st=(--data data/digits --batch-size 64 --set progress=false --set image_size=32 --set channels=1
            --set ngf=64 --set ndf=64 --set ngf2=32 --set ndf2=32 --set res_blocks=2)
        [[ $s == 0 ]] || { echo "stackgan: seed $s skipped (stage 2 reads runs/stackgan-digits-stage1)"; continue; }
        run stackgan-digits-stage1 0 stackgan --max-steps 5000 "${st[@]}"
        run stackgan-digits 0 stackgan --max-steps 5000 "${st[@]}" --set stage=2 \
            --set stage1_from=runs/stackgan-digits-stage1 ;;
      *) echo "unknown model $m" >&2; exit 2 ;;
    esac
  done
done
