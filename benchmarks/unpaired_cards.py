"""The cards of the unsupervised-translation demos, written by ``python benchmarks/eval_unpaired.py --make-cards``.

Each card holds the facts below (data, licences, the departures from the paper), the training run's own record
(command, steps, wall time: the trainer's ``trained_with`` block), the benchmark's table beside the baselines, and
the model's numbers with their protocols as card metrics.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

_NOTO_TWEMOJI = {
    "license": "cc-by-4.0",
    "dataset_licence": "Twemoji graphics CC-BY-4.0; Noto Color Emoji images Apache-2.0, font OFL-1.1",
    "source": "Debian fonts-noto-color-emoji 2.042-0+deb12u1 (sha256 a5ab0f69c7938423862320d9aca5dd187b3fd879d6a9a57dd"
              "52e17c3fa8d2751) + npm emoji-datasource-twitter@16.0.0 (sha256 f64a530c63bca463bd8317fdc4615ce63a53a0c6"
              "5018e4ce2d848aaba7a28877), built by scripts/fetch_emoji.py",
    "licence_note": "The images are Twemoji (© Twitter, Inc. and other contributors, **CC-BY-4.0**: attribution "
                    "required) and Noto Color Emoji (© Google Inc.; images **Apache-2.0**, font **OFL-1.1**). The "
                    "weights are offered under **CC-BY-4.0** with attribution to both projects. The ganzoo code that "
                    "trained them is Apache-2.0.",
}

_FONTS = {
    "license": "gpl-3.0",
    "dataset_licence": "renderings of Debian font packages: DejaVu (Bitstream Vera licence), Liberation (GPL-2 "
                       "with font exception), GNU FreeFont (GPL-3+ with font exception), dkg handwriting (GPL-3+)",
    "source": "Debian bookworm fonts-dejavu-core 2.37-6, fonts-liberation 1:1.07.4-11, fonts-freefont-ttf "
              "20120503-10, fonts-dkg-handwriting 0.17-1 (sha256-pinned), built by scripts/fetch_fonts.py",
    "licence_note": "The training images are renderings of free fonts (see the dataset licence), among them the dkg "
                    "handwriting fonts (© Daniel Kahn Gillmor, GPL-3+). Because the model reproduces those fonts' "
                    "glyph shapes, the weights are offered under **GPL-3.0-or-later**. The ganzoo code that trained "
                    "them is Apache-2.0.",
}

#: per model: card facts (summary, domains, dataset, licences, departures from the paper, usage)
CARDS: dict[str, dict[str, Any]] = {
    "stargan-digits-fonts": {
        **_FONTS,
        "summary": "The ten digits in six fonts (sans, sans bold, serif, mono, handwriting, handwriting italic): one "
                   "StarGAN translating a digit from any font into any other (32 px, trained here without pairs)",
        "domains": {"names": ["sans", "sans-bold", "serif", "mono", "hand", "hand-italic"],
                    "about": "DejaVu Sans, DejaVu Sans Bold, Liberation Serif, FreeMono, dkg handwriting, dkg "
                             "handwriting bold italic; white on black"},
        "dataset": {"name": "Digits in six fonts, 32 px, 6 domains",
                    "size": "9,000 training images (each drawn in one font only: no pairs); 300 test digits, each in "
                            "all 6 fonts with the same geometry"},
        "data_cmd": "python scripts/fetch_fonts.py --only fonts",
        "departures": [
            "32×32 grey images (the paper: 128×128 RGB faces) and a narrow network — G: 16 filters in its first "
            "layer (paper 64), 6 residual blocks (6); D: 4 stride-2 layers (6) with 16 filters (64), so its PatchGAN "
            "output is 2×2 as the paper's is for 128² — to train on one CPU thread.",
            "8,000 iterations (the paper: 200,000 for CelebA), batch 16, n_critic 5, Adam 1e-4, β (0.5, 0.999); the "
            "learning rate is constant for the first half and decays linearly to 0 over the second (the paper's "
            "schedule, per step rather than per 1,000 iterations).",
            "Instance norm keeps no running statistics: the original allocates them but never uses them (its G is "
            "never put in eval mode).",
            "Single-label domains with a softmax classifier (the paper's RaFD setting); no mask vector (one data "
            "set); random horizontal flips are off (digits are not symmetric).",
        ],
        "usage": 'from ganzoo.data import open_image, to_tensor\n'
                 'x = to_tensor(open_image("digit.png", 1))[None]       # (1, 1, H, W) in [-1, 1], white on black\n'
                 'hand = model.sample(condition=x, domain="hand")      # or an index, or one per image',
        "cli": "ganzoo sample stargan-digits-fonts --input digit.png --domain all -o fonts.png   # a column per font",
        "tags": ["digits", "fonts", "multi-domain", "image-to-image"],
    },
    "stargan-emoji-skintone": {
        **_NOTO_TWEMOJI,
        "summary": "Emoji skin tones: one StarGAN translating between the six Unicode skin tones (32 px, trained "
                   "here without pairs)",
        "domains": {"names": ["default", "light", "medium-light", "medium", "medium-dark", "dark"],
                    "about": "the default yellow and the five Unicode skin-tone modifiers U+1F3FB…U+1F3FF"},
        "dataset": {"name": "Emoji skin tones (Noto Color Emoji 2.042 + Twemoji 16.0.0), 32 px, 6 domains",
                    "size": "526 training drawings (each emoji and style in one domain only: no pairs); 106 test "
                            "drawings (53 emoji × 2 styles) in all 6 domains"},
        "data_cmd": "python scripts/fetch_emoji.py --only skintone --size 32",
        "departures": [
            "32×32 images (the paper: 128×128) with a narrower, shallower network — G: 32 filters in its first "
            "layer (paper 64) and 4 residual blocks (6); D: 4 stride-2 layers (6) with 32 filters (64), so its "
            "PatchGAN output is 2×2 as the paper's is for 128² — to train on one CPU thread.",
            "2,500 iterations (the paper: 200,000 for CelebA), batch 16, n_critic 5; the learning rate is constant "
            "for the first half and decays linearly to 0 over the second (as the paper's schedule, per step).",
            "Instance norm keeps no running statistics: the original allocates them but never uses them (its G is "
            "never put in eval mode).",
            "Single-label domains with a softmax classifier (the paper's RaFD setting); no mask vector (one "
            "dataset).",
        ],
        "usage": 'from ganzoo.data import open_image, to_tensor\n'
                 'x = to_tensor(open_image("emoji.png", 3))[None]     # (1, 3, H, W) in [-1, 1]\n'
                 'dark = model.sample(condition=x, domain="dark")     # or an index, or one per image',
        "cli": "ganzoo sample stargan-emoji-skintone --input emoji.png --domain all -o tones.png   # a column per tone",
        "tags": ["emoji", "multi-domain", "image-to-image"],
    },
    "cyclegan-emoji-default2dark": {
        **_NOTO_TWEMOJI,
        "summary": "Emoji skin tone: default (yellow) ↔ dark, a 32-px CycleGAN trained here without pairs (replaces "
                   "the Noto ↔ Twemoji demo, which did not beat the identity baseline)",
        "domains": {"A": "emoji in the default yellow tone (Noto + Twemoji drawings, 32 px, on white)",
                    "B": "the dark skin tone (U+1F3FF)"},
        "dataset": {"name": "Emoji default ↔ dark skin tone (Noto Color Emoji 2.042 + Twemoji 16.0.0), 32 px",
                    "size": "257 + 269 training drawings (disjoint: no pairs); 106 test drawings in both tones"},
        "data_cmd": "python scripts/fetch_emoji.py --only default2dark --size 32",
        "departures": [
            "32×32 images (the paper: 256×256) and a small network: 6 residual blocks with 16 filters in the first "
            "layer (paper: 9 blocks at 256², 64 filters), PatchGAN D with 2 layers and 32 filters (3 and 64), to "
            "train on one CPU thread; otherwise the paper's recipe: LSGAN, λ_cycle 10, identity 0.5·λ, image pool "
            "50, Adam 2e-4, batch 1, lr constant for half the run then linearly to 0.",
        ],
        "usage": 'from ganzoo.data import open_image, to_tensor\n'
                 'x = to_tensor(open_image("emoji.png", 3))[None]     # (1, 3, H, W) in [-1, 1]\n'
                 'dark = model.sample(condition=x)                    # direction="BtoA": dark → default',
        "cli": "ganzoo sample cyclegan-emoji-default2dark --input emoji.png -o dark.png",
        "tags": ["emoji", "image-to-image"],
    },
    "dtn-print2hand": {
        **_FONTS,
        "summary": "Printed digits (18 typefaces, random colours) → handwritten digits (white on black), a Domain "
                   "Transfer Network trained here without pairs, in the spirit of the paper's SVHN → MNIST",
        "domains": {"source": "a digit in one of 18 printed typefaces, random colours, RGB 32×32 (SVHN-like)",
                    "target": "the digit in dkg handwriting bold, white on black, grey 32×32 (MNIST-like)"},
        "dataset": {"name": "Printed → handwritten digits, 32 px",
                    "size": "8,000 + 8,000 training images (independent draws: no pairs); 1,000 test pairs with the "
                            "same digit and geometry"},
        "data_cmd": "python scripts/fetch_fonts.py",
        "departures": [
            "The domains: printed digits rendered from 18 free typefaces on random colours stand for SVHN, and one "
            "handwriting font with random scale/shift/rotation for MNIST (neither data set can be had offline); "
            "the pair of each test image is known, so SSIM/L1 can be measured.",
            "f (the paper's digit f: 4 conv layers of 64, 128, 256, 128 filters with max pooling and ReLU) is the "
            "shipped `print-digits` encoder, trained as a classifier on the source domain's training images "
            "(99.7 % on held-out printed digits; `plugins/dtn/ganzoo_dtn/weights/README.md`, sha256 "
            "c0c8e7ce9d3b0c6bf86d2bd0f765b1c802ce859ee1ae3195a7635ee44df7c69a) — as the paper trains f on SVHN. "
            "Its fourth pooling is global (the paper's 128-d code).",
            "g and D are half the DCGAN width the paper refers to (g: 256, 128, 64 filters; D: 32, 64, 128), batch "
            "32, to train on one CPU thread; Adam 2e-4, β1 0.5, one D update per G update (the paper states "
            "neither optimiser nor schedule).",
        ],
        "usage": 'from ganzoo.data import open_image, to_tensor\n'
                 'x = to_tensor(open_image("printed_digit.png", 3))[None]   # (1, 3, H, W) in [-1, 1]\n'
                 'hand = model.sample(condition=x)                          # (1, 1, H, W): handwriting',
        "cli": "ganzoo sample dtn-print2hand --input printed_digit.png -o handwritten.png",
        "tags": ["digits", "fonts", "image-to-image"],
    },
}


def _notes(result: dict[str, Any], spec: dict[str, Any], lines: list[str], quality: str) -> str:
    data = ROOT / result["data"]
    facts = ""
    if (data / "SOURCE.md").is_file():
        text = (data / "SOURCE.md").read_text(encoding="utf-8")
        facts = text.split("## What is here", 1)[-1].strip() if "## What is here" in text else ""
    parts = []
    if "domain_classifier_test_accuracy" in result:
        parts.append(f"target-domain acc.: a small CNN trained on the real training images of the domains (seed 0; "
                     f"{result['domain_classifier_test_accuracy']:.3f} on the real test images)")
    if result["extractor"] == "digits":
        parts.append("label acc.: the shipped handwriting digit classifier (ganzoo.metrics.digit_classifier, sha256 "
                     "bb1c118a…) on the outputs against the inputs' digits")
    else:
        parts.append("content agreement: EfficientNet-Lite0's ImageNet top-1 class, input vs output (1 for identity "
                     "by construction)")
    label = "; ".join(parts)
    departures = "\n".join(f"- {d}" for d in spec["departures"])
    return (f"**Trained here, as a demo.** {quality}\n\n"
            f"Measured on the held-out test pairs by `python benchmarks/eval_unpaired.py` ({result['n_test']} test "
            f"images; SSIM/L1/PSNR on 8-bit outputs against the ground truth; KID against the real test images of "
            f"the target domain on `{result['extractor']}` features; label preservation: {label}). The baselines: "
            f"identity (the input as the output) and colour transfer (each channel matched to the target domain's "
            f"mean and standard deviation).\n\n" + "\n".join(lines) + "\n\n"
            f"**Departures from the paper.**\n\n{departures}\n\n"
            f"**Data.** Built offline by `{spec['data_cmd']}` (not included in this repository; the script pins "
            f"each package's sha256). {facts}\n\n**Licence.** {spec['licence_note']}\n\n"
            f"**Reproduce.** `{spec['data_cmd']}`, then the training command above (from the repository root, "
            f"`OMP_NUM_THREADS=1`; `scripts/train_unpaired_demos.sh` runs it), then `python "
            f"benchmarks/eval_unpaired.py --make-cards` to copy the folder here and measure it.")


def _report(result: dict[str, Any]) -> Any:
    """The model's numbers as a ganzoo EvalReport (each with its protocol) for the card's metrics."""
    from ganzoo import __version__
    from ganzoo.metrics import EvalReport, MetricResult

    base = {"extractor": result["extractor"], "extractor_sha256": result["extractor_sha256"],
            "resolution": 32, "reference": result["data"], "split": "test", "seed": 0,
            "quantize": "uint8 (as a saved PNG)", "ganzoo_version": __version__,
            "command": "python benchmarks/eval_unpaired.py", "n_test": result["n_test"]}
    tables = result["rows"] if isinstance(result["rows"], dict) else {"": result["rows"]}
    results = []
    for direction, rows in tables.items():
        model = next(r for r in rows if r["row"] == "model")
        suffix = "" if direction in ("", "AtoB") else f"_{direction}"
        for key in ("ssim", "l1", "psnr", "kid", "domain_accuracy", "label_accuracy", "content_agreement"):
            if model.get(key) is None:
                continue
            proto = dict(base, metric=key, direction=direction or None)
            if key in ("ssim", "l1", "psnr"):
                proto.update(extractor="none (pixel metric)", extractor_sha256=None,
                             pairing="each test input ↔ its ground truth in the target domain (same file name)")
            results.append(MetricResult(key + suffix, float(model[key]), None, {}, proto))
    plugin = result["id"].split("-", 1)[0]
    task = {"stargan": "multi-domain-translation"}.get(plugin, "unpaired-translation")
    return EvalReport(model=result["id"], plugin=plugin, task=task, results=results, protocol=base, timings={},
                      cache={})


def _baselines(result: dict[str, Any]) -> dict[str, Any]:
    """The benchmark's rows as card data: {direction or "all": {row: {metric: value}}} (rounded)."""
    tables = result["rows"] if isinstance(result["rows"], dict) else {"all": result["rows"]}
    keys = ("ssim", "l1", "psnr", "kid", "domain_accuracy", "label_accuracy", "content_agreement")
    return {d: {("model" if r["row"] == "model" else r["row"].split(" (")[0]): {
        k: round(float(r[k]), 6) for k in keys if r.get(k) is not None} for r in rows} for d, rows in tables.items()}


def make_card_folder(result: dict[str, Any], lines: list[str], quality: str | None = None) -> Path:
    """Copy ``runs/<id>/``'s model files into ``cards/<id>/`` and write its card (with the table and metrics)."""
    from ganzoo.cards import load_card, make_card
    from ganzoo.metrics import write_card_metrics
    from ganzoo.registry import get_plugin

    mid = result["id"]
    spec = CARDS[mid]
    run, dest = ROOT / "runs" / mid, ROOT / "cards" / mid
    config = json.loads((run / "config.json").read_text())
    keep = ["config.json"] + [c["file"] for c in config["components"].values()]
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.iterdir():
        if old.is_file() and old.name not in keep + ["README.md"]:
            old.unlink()
    for name in keep:
        shutil.copyfile(run / name, dest / name)
    block = dict(load_card(run / "README.md").data.ganzoo)
    plugin, tag = block.pop("plugin"), block.pop("tag")
    block.pop("metrics", None)
    block.update({"summary": spec["summary"], "domains": spec["domains"],
                  "dataset": {**spec["dataset"], "license": spec["dataset_licence"], "source": spec["source"]},
                  "weights_license": spec["license"], "dataset_license": spec["dataset_licence"],
                  "departures": spec["departures"], "baselines": _baselines(result)})
    quality = quality or QUALITY.get(mid, "")
    card = make_card(plugin=get_plugin(plugin), tag=tag, ganzoo=block, license=spec["license"], tags=spec["tags"],
                     description=spec["summary"] + ".", usage=spec["usage"], cli_usage=spec["cli"],
                     notes=_notes(result, spec, lines, quality), load_name=mid)
    (dest / "README.md").write_text(str(card), encoding="utf-8")
    write_card_metrics(dest, _report(result))
    load_card(dest / "README.md")
    return dest


#: what the outputs look like, judged by viewing held-out outputs beside their inputs and ground truth
QUALITY: dict[str, str] = {}
