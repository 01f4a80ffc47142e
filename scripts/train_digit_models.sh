#!/usr/bin/env bash
# Trains the bundled <plugin>-digits models of the generation family (issue 5) on the OpenCV digits, with the exact
# commands their cards record. Usage: scripts/train_digit_models.sh [gan|autoencoder|vae|cgan|stackgan …]
# One thread per run: on a shared 2-core machine, 2-thread torch next to another job is many times slower.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
GANZOO=${GANZOO:-.venv/bin/ganzoo}
[[ -d data/digits/train ]] || .venv/bin/python scripts/fetch_digits.py --out data/digits
common=(--data data/digits --batch-size 100 --seed 0 --set progress=false)
run() { local name=$1; shift; [[ -f runs/$name/config.json ]] && { echo "runs/$name exists, skipping"; return; }
        echo "== $name"; /usr/bin/time -f "$name wall %e s" "$GANZOO" train "$@"; }
models=("$@"); [[ ${#models[@]} -gt 0 ]] || models=(autoencoder vae gan stackgan cgan)
for m in "${models[@]}"; do
  case $m in
    autoencoder) run autoencoder-digits autoencoder --out runs/autoencoder-digits --max-steps 5000 "${common[@]}" ;;
    vae) run vae-digits vae --out runs/vae-digits --max-steps 5000 "${common[@]}" \
           --set activation=relu --set optimizer=adam --set lr=0.001 ;;
    gan) run gan-digits gan --out runs/gan-digits --max-steps 10000 "${common[@]}" --set g_hidden=512 --set d_units=128 ;;
    cgan) run cgan-digits cgan --out runs/cgan-digits --max-steps 20000 "${common[@]}" --set latent=normal --set g_dropout=0 \
           --set g_y_hidden=500 --set g_hidden=600 ;;
    stackgan)
      st=(--data data/digits --batch-size 64 --seed 0 --set progress=false --set image_size=32 --set channels=1
          --set ngf=64 --set ndf=64 --set ngf2=32 --set ndf2=32 --set res_blocks=2)
      run stackgan-digits-stage1 stackgan --out runs/stackgan-digits-stage1 --max-steps 5000 "${st[@]}"
      run stackgan-digits stackgan --out runs/stackgan-digits --max-steps 5000 "${st[@]}" --set stage=2 \
          --set stage1_from=runs/stackgan-digits-stage1 ;;
    *) echo "unknown model $m" >&2; exit 2 ;;
  esac
done
