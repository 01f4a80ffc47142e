"""Turn a training run folder into a bundled registry entry: ``cards/<plugin>-<tag>/`` with the card, config.json and
the weights (no checkpoints, logs or previews), the training data's provenance in the card, then the measured
metrics (with their protocol) from ``ganzoo eval --write-card``.

    python scripts/bundle_model.py runs/dcgan-digits --dataset digits --eval "--data data/digits --split test --n 2000"

The weights are copied byte for byte (their sha256 stay the ones the run's config.json lists and the card pins).
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Provenance of the datasets bundled models are trained on (the card's ganzoo.dataset block).
DATASETS = {
    "digits": {
        "name": "OpenCV handwritten digits (digits.png, Debian opencv-doc 4.6.0+dfsg-12), train split",
        "source": "python scripts/fetch_digits.py --out data/digits (apt-get download opencv-doc; 5,000 digits, "
                  "20x20 in a 28x28 MNIST layout; split_digits(test_per_class=50, seed=0): 4,500 train, 500 test)",
        "license": "Apache-2.0 AND BSD-3-Clause",
        "id": "opencv-digits",
        "train_count": 4500,
    },
    "moving-digits": {
        "name": "Moving digits (the Moving-MNIST recipe on the OpenCV digits: 2 digits, 64x64, 20-frame clips "
                "generated on the fly), train split",
        "source": "builtin:moving-digits after python scripts/fetch_digits.py --out data/digits (clips from the 4,500 "
                  "training digits, seeds (0, i); the test clips use the 500 held-out digits and seeds (1, i))",
        "license": "Apache-2.0 AND BSD-3-Clause",
        "id": "moving-digits",
        "train_count": 10000,
    },
    "paddle-ball": {
        "name": "Paddle-and-ball game episodes (ganzoo_gamegan.game, 64x64 grey, actions noop/left/right), train seeds",
        "source": "builtin:paddle-ball (the deterministic simulator shipped with gamegan, behaviour-policy episodes "
                  "from seeds 0..; the test episodes use seeds from 1,000,000)",
        "license": "Apache-2.0",
        "id": "paddle-ball",
        "train_count": 10000,
    },
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="the run folder (--out of ganzoo train)")
    parser.add_argument("--dataset", choices=sorted(DATASETS), required=True)
    parser.add_argument("--components", help="comma-separated components to ship (default: all config.json lists)")
    parser.add_argument("--eval", default="", help="arguments for `ganzoo eval` (empty: no metrics)")
    parser.add_argument("--notes", default="", help="a paragraph for the card")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from ganzoo.cards import load_card, make_card
    from ganzoo.hub import verify_folder
    from ganzoo.registry import get_plugin

    data = verify_folder(args.run)
    card = load_card(args.run / "README.md")
    block = dict(card.data.ganzoo)
    model_id = f"{block['plugin']}-{block['tag']}"
    wanted = args.components.split(",") if args.components else list(data["components"])
    missing = [c for c in wanted if c not in data["components"]]
    if missing:
        raise SystemExit(f"{args.run} has no {missing}")
    dest = ROOT / "cards" / model_id
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    config = dict(data, components={c: data["components"][c] for c in wanted})
    for c in wanted:
        shutil.copy2(args.run / data["components"][c]["file"], dest / data["components"][c]["file"])
    (dest / "config.json").write_text(json.dumps(config, indent=2) + "\n")

    ds = DATASETS[args.dataset]
    block["dataset"] = {k: ds[k] for k in ("name", "source", "license")}
    block["dataset_license"] = ds["license"]
    block["weights_license"] = "apache-2.0"
    block["sha256"] = {e["file"]: e["sha256"] for e in config["components"].values()}
    for key in ("plugin", "tag"):
        block.pop(key)
    spec = get_plugin(config["plugin"])
    new = make_card(plugin=spec, tag=card.data.ganzoo["tag"], ganzoo=block, license="apache-2.0",
                    datasets=[ds["id"]], notes=args.notes or None)
    new.save(dest / "README.md")
    verify_folder(dest)
    print(f"wrote {dest}")
    if args.eval:
        rel = dest.relative_to(ROOT).as_posix()
        cmd = [sys.executable, "-m", "ganzoo.cli", "eval", rel, *shlex.split(args.eval), "--write-card"]
        print("$", " ".join(cmd))
        subprocess.run(cmd, check=True, cwd=ROOT)
        # the folder and the registry id load the same verified bytes: record the command users will type
        readme = dest / "README.md"
        readme.write_text(readme.read_text().replace(f"ganzoo eval {rel} ", f"ganzoo eval {model_id} "))


if __name__ == "__main__":
    main()
