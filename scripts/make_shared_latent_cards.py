"""Bundle the unit and xgan emoji demos: copy each run's inference components into ``cards/<id>/``, render its card
(data, licence, departures from the paper, the comparison with identity and the CycleGAN), write the measured
metrics with their protocol, and draw the cross-domain interpolation grid.

    python scripts/make_shared_latent_cards.py                 # both demos, from runs/<id>/
    python scripts/make_shared_latent_cards.py --only unit-noto2twemoji --check   # measure, write nothing

A demo is bundled only if it beats the identity baseline (the input returned unchanged) on SSIM and L1 to the
ground truth in both directions; otherwise the script stops and says which numbers fail. The training commands
are in ``scripts/train_shared_latent_demos.sh``; the facts each card states are in :data:`DEMOS`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

SCRIPT = "python scripts/make_shared_latent_cards.py"
#: the demos' training resolution; every row of a card's table (identity and the 64-px CycleGAN included) is scored
#: at it (benchmarks/shared_latent_eval.py resizes the test images and the outputs)
SIZE = 32
DATA = "data/emoji-noto2twemoji"
DATASET = {
    "name": "Noto Color Emoji 2.042 ↔ Twemoji 16.0.0, 64 px",
    "size": "613 Noto + 612 Twemoji training emoji (disjoint code points, no pairs); 157 test emoji in both styles",
    "license": "Twemoji graphics CC-BY-4.0; Noto Color Emoji images Apache-2.0, font OFL-1.1",
    "source": "Debian fonts-noto-color-emoji 2.042-0+deb12u1 (sha256 a5ab0f69c7938423862320d9aca5dd187b3fd879d6a9a57"
              "dd52e17c3fa8d2751) + npm emoji-datasource-twitter@16.0.0 (sha256 f64a530c63bca463bd8317fdc4615ce63a53a0"
              "c65018e4ce2d848aaba7a28877), built by scripts/fetch_emoji.py",
}
LICENCE = ("Domain B is Twemoji (© Twitter, Inc. and other contributors, **CC-BY-4.0**: attribution required); "
           "domain A is Noto Color Emoji (© Google Inc.; images **Apache-2.0**, font **OFL-1.1**). The weights are "
           "offered under **CC-BY-4.0** with attribution to both projects. The ganzoo code that trained them is "
           "Apache-2.0.")
SUBSTITUTE = ("**Data: a substitute for faces ↔ cartoons.** XGAN's and UNIT's face ↔ cartoon/emoji tasks need face "
              "photographs, which no offline source offers in number (scikit-image's `lfw_subset` has 100 faces of "
              "25×25 px). The substitute is two emoji styles with known correspondences: Noto Color Emoji and "
              "Twemoji draw the same code points with different shapes, palettes and shading — a semantic style "
              "transfer like faces → cartoons, but with a ground truth for every test image (the same emoji in the "
              "other style), so translations are measured rather than only looked at.")

#: per demo: the run folder, the components shipped, the card's summary, quality paragraph and departures
DEMOS: dict[str, dict[str, Any]] = {
    "unit-noto2twemoji": {
        "run": "runs/unit-noto2twemoji",
        "components": ["E", "G"],
        "summary": "Noto Color Emoji style ↔ Twemoji style through one shared latent space (32 px UNIT, trained "
                   "here without pairs)",
        "departures": [
            "Size: 32 px images, `ch=16` (the paper: 64), one stride-2 layer per encoder (the paper: 2), no "
            "domain-specific residual blocks (the paper: 3 per encoder and decoder) but 2 + 2 shared ones (the "
            "paper: 1 + 1), discriminators of 4 stride-2 layers with `ndf=32` (the paper: 6 layers, 64) — small "
            "enough to train on one CPU thread; the λs, the optimiser and batch 1 are the paper's.",
            "Steps: far fewer than the paper's hundreds of thousands (see *Training*); lr constant at 1e-4 as the "
            "authors' code.",
            "The KL term is computed on the encoder's mean μ (`mean(μ²)`); the authors' code squares the noisy "
            "code μ + η, which has the same gradient in expectation.",
            "Biases start at 0 (the authors' code leaves PyTorch's default init for biases).",
            "Inputs are jittered (resized to 36, random 32 crop, flips).",
        ],
    },
    "xgan-noto2twemoji": {
        "run": "runs/xgan-noto2twemoji",
        "components": ["E", "G"],
        "summary": "Noto Color Emoji style ↔ Twemoji style through a shared embedding (32 px XGAN, trained here "
                   "without pairs)",
        "departures": [
            "No official code exists; the paper's text could not be read offline here, so the layer list, the "
            "loss distances (squared error for reconstruction, L1 for semantic consistency) and the ω weights "
            "(all 1) follow the paper's description as we know it and are not checked against it.",
            "Size: `ch=16` and a 256-d embedding (the paper: 1024-d), `ndf=16`, batch 8 — one CPU thread.",
            "Discriminators on both domains (the paper's face → cartoon task judges cartoons only).",
            "No teacher loss (optional in the paper, whose teacher is FaceNet; ganzoo's `lambda_teach` uses "
            "EfficientNet-Lite0's ImageNet features instead).",
            "`latent()` draws from a diagonal Gaussian fitted to the training embeddings (XGAN has no prior): "
            "it exists for interpolation and sampling utilities.",
        ],
    },
}


def _rows_table(rows: list[tuple[str, dict[str, Any]]]) -> list[str]:
    lines = ["| | direction | SSIM ↑ | L1 ↓ | PSNR ↑ | KID ↓ | labels ↑ |", "|---|---|---|---|---|---|---|"]
    for label, res in rows:
        for d, name in (("AtoB", "Noto → Twemoji"), ("BtoA", "Twemoji → Noto")):
            r = res[d]
            lines.append(f"| {label} | {name} | {r['ssim']:.3f} | {r['l1']:.4f} | {r['psnr']:.2f} | {r['kid']:.4f} | "
                         f"{r['labels']:.3f} |")
    return lines


def beats_identity(model: dict[str, Any], identity: dict[str, Any]) -> list[str]:
    """What fails the bar (empty: the model beats identity on SSIM and L1 both ways)."""
    fails = []
    for d in ("AtoB", "BtoA"):
        if model[d]["ssim"] <= identity[d]["ssim"]:
            fails.append(f"{d} SSIM {model[d]['ssim']:.3f} ≤ identity {identity[d]['ssim']:.3f}")
        if model[d]["l1"] >= identity[d]["l1"]:
            fails.append(f"{d} L1 {model[d]['l1']:.4f} ≥ identity {identity[d]['l1']:.4f}")
    return fails


def bundle(model_id: str, spec: dict[str, Any], scores: dict[str, Any], quality: str) -> Path:
    """Copy the run's shipped components into cards/<id>/ and render the card."""
    from ganzoo.cards import load_card, make_card
    from ganzoo.hub import verify_folder
    from ganzoo.registry import get_plugin

    run = ROOT / spec["run"]
    data = verify_folder(run)
    dest = ROOT / "cards" / model_id
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    config = dict(data, components={c: data["components"][c] for c in spec["components"]})
    for c in spec["components"]:
        shutil.copy2(run / config["components"][c]["file"], dest / config["components"][c]["file"])
    (dest / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    old = load_card(run / "README.md")
    block = dict(old.data.ganzoo)
    plugin, tag = block.pop("plugin"), block.pop("tag")
    block.pop("metrics", None)
    block["sha256"] = {e["file"]: e["sha256"] for e in config["components"].values()}
    block.update({"summary": spec["summary"], "dataset": DATASET, "dataset_license": DATASET["license"],
                  "weights_license": "cc-by-4.0", "components_published": spec["components"],
                  "domains": {"A": "Noto Color Emoji 2.042 glyphs (64 px, on white)",
                              "B": "Twemoji (emoji-datasource-twitter 16.0.0) 64-px images, on white"}})
    usage = ("from ganzoo.data import open_image, to_tensor\n"
             "x = to_tensor(open_image(\"noto.png\", 3))[None]        # (1, 3, H, W) in [-1, 1]\n"
             "twemoji = model.sample(condition=x)                   # direction=\"BtoA\": Twemoji → Noto\n"
             "from ganzoo.explore_shared import write_interpolation  # Noto image → Twemoji image, decoded both ways\n"
             "write_interpolation(model, \"noto.png\", \"twemoji.png\", \"path.png\", steps=8)")
    cli = f"ganzoo sample {model_id} --input noto.png -o twemoji.png   # or a folder of images"
    notes = "\n\n".join([
        f"**Trained here, as a demo.** {quality}",
        "Measured on the 157 held-out test emoji by `" + SCRIPT + "` (arithmetic of `benchmarks/eval_i2i.py`: "
        "8-bit outputs, SSIM/L1/PSNR against the same emoji in the target style, KID on EfficientNet-Lite0 features "
        "against the real test images of the target style; *labels* = label preservation, the share of "
        "translations whose emoji category (8 Unicode categories) a classifier still recognises — logistic "
        "regression on EfficientNet-Lite0 features, trained on the training emoji of both styles; its accuracy on "
        "the real images is the identity row):",
        "\n".join(_rows_table([("identity (the input as output)", scores["identity"]),
                               ("`cyclegan-noto2twemoji` (same data)", scores["cyclegan"]),
                               (f"`{model_id}`", scores["model"])])),
        SUBSTITUTE,
        "**Departures from the paper.**\n\n" + "\n".join(f"- {d}" for d in spec["departures"]),
        f"**Licence.** {LICENCE}",
        "**Reproduce.** `python scripts/fetch_emoji.py --only noto2twemoji`, then the training command above "
        "(`scripts/train_shared_latent_demos.sh`), then `" + SCRIPT + "`.",
    ])
    card = make_card(plugin=get_plugin(plugin), tag=tag, ganzoo=block, license="cc-by-4.0",
                     tags=["image-to-image", "emoji", "shared-latent"], description=spec["summary"] + ".",
                     usage=usage, cli_usage=cli, notes=notes, load_name=model_id)
    (dest / "README.md").write_text(str(card), encoding="utf-8")
    verify_folder(dest)
    return dest


def write_metrics(dest: Path, model_id: str, plugin: str, scores: dict[str, Any]) -> None:
    """The model's numbers into the card's metadata, each with its protocol."""
    from ganzoo.metrics import EvalReport, MetricResult, write_card_metrics

    common = {"extractor": "none (pixel metric)", "resolution": SIZE, "reference": DATA, "split": "test",
              "pairs": 157, "pairing": "testA/<codepoint>.png ↔ testB/<codepoint>.png (the same emoji in both styles)",
              "quantize": "uint8 (as a saved PNG)", "data_range": "[0, 1]", "seed": 0, "command": SCRIPT}
    results = []
    for d in ("AtoB", "BtoA"):
        res, suffix = scores["model"][d], "" if d == "AtoB" else "_BtoA"
        proto = {**common, "direction": d, "target": "testB" if d == "AtoB" else "testA"}
        for metric in ("ssim", "l1", "psnr"):
            results.append(MetricResult(metric + suffix, float(res[metric]), None, {}, dict(proto)))
        results.append(MetricResult("kid" + suffix, float(res["kid"]), float(res["kid_std"]), {},
                                    {**proto, "extractor": "effnet", "kid_subset_size": res["kid_subset_size"],
                                     "kid_subsets": res["kid_subsets"], "kid_kernel": "polynomial (x·y/d + 1)^3"}))
        results.append(MetricResult("label_preservation" + suffix, float(res["labels"]), None, {},
                                    {**proto, "extractor": "effnet + logistic regression (8 emoji categories, "
                                                           "trained on both styles' training emoji)"}))
    write_card_metrics(dest, EvalReport(model=model_id, plugin=plugin, task="unpaired-translation",
                                        results=results, protocol=common, timings={}, cache={}))


def interpolation_grid(model: Any, out: Path) -> Path:
    """Four test emoji of each style, interpolated across domains (a Noto emoji → a different Twemoji one)."""
    import torch

    from ganzoo.data import open_image, save_image_grid, to_tensor
    from ganzoo.explore_shared import interpolate_domains

    root = ROOT / DATA
    names = sorted(p.name for p in (root / "testA").glob("*.png"))
    picks = [names[i] for i in (10, 40, 70, 100)]
    partners = [names[i] for i in (130, 20, 145, 55)]
    a = torch.stack([to_tensor(open_image(root / "testA" / n, 3)) for n in picks])
    b = torch.stack([to_tensor(open_image(root / "testB" / n, 3)) for n in partners])
    grid = interpolate_domains(model, a, b, steps=8)
    return save_image_grid(grid, out, nrow=10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(DEMOS), action="append")
    parser.add_argument("--check", action="store_true", help="measure and print; write nothing")
    args = parser.parse_args(argv)
    import torch
    from shared_latent_eval import Bench, identity_rows, score_translator

    import ganzoo

    torch.set_num_threads(1)
    bench = Bench(SIZE)
    identity = identity_rows(bench)
    cyclegan = score_translator(bench, ganzoo.load("cyclegan-noto2twemoji", device="cpu"))
    failed = []
    for model_id, spec in DEMOS.items():
        if args.only and model_id not in args.only:
            continue
        model = ganzoo.load(str(ROOT / spec["run"]), device="cpu")
        scores = {"identity": identity, "cyclegan": cyclegan, "model": score_translator(bench, model)}
        print("\n".join(_rows_table([("identity", identity), ("cyclegan", cyclegan), (model_id, scores["model"])])))
        fails = beats_identity(scores["model"], identity)
        if fails:
            failed.append(model_id)
            print(f"NOT bundling {model_id}: it does not beat identity ({'; '.join(fails)})")
            continue
        if args.check:
            continue
        quality = (ROOT / spec["run"] / "QUALITY.md").read_text(encoding="utf-8").strip()
        dest = bundle(model_id, spec, scores, quality)
        write_metrics(dest, model_id, model.plugin.name, scores)
        grid = interpolation_grid(ganzoo.load(str(dest), device="cpu"),
                                  ROOT / "docs" / "images" / f"{model_id}-interpolation.png")
        print(f"wrote {dest.relative_to(ROOT)}/ and {grid.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
