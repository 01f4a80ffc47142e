"""Measure the two image-to-image demos trained here on their held-out test splits, against simple baselines.

    python benchmarks/eval_i2i.py                  # the bundled models (ganzoo list), results/i2i.{md,json}
    python benchmarks/eval_i2i.py --make-cards     # first copy runs/<id>/ into cards/<id>/ and write their cards
    python benchmarks/eval_i2i.py --folder pix2pix-openmoji-line2color=runs/pix2pix-openmoji-line2color

The models (``scripts/train_i2i_demos.sh`` trains them; ``scripts/fetch_emoji.py`` builds the data):

* ``pix2pix-openmoji-line2color`` — OpenMoji line art → colour (``data/openmoji-line2color``, test: 238 pairs);
* ``cyclegan-noto2twemoji`` — Noto Color Emoji ↔ Twemoji (``data/emoji-noto2twemoji``, test: 157 emoji drawn
  in both styles, matched by code point; trained without pairs).

Metrics, on 8-bit outputs as a saved PNG would hold them: PSNR, SSIM (Gaussian 11, σ 1.5) and L1 on [0, 1]
pixels against the ground-truth target of each test input; KID (polynomial kernel, 100 subsets) of the outputs
against the real test targets on EfficientNet-Lite0 features (``effnet``; the standard Inception is also
installed here, but at 64 px both are far from their training resolution — KID ranks, it is not comparable to
published numbers). The model rows come from :func:`ganzoo.metrics.evaluate` — the numbers ``ganzoo eval``
prints and writes into the cards, each with its protocol; CycleGAN's paired pixel metrics and its reverse
direction (``ganzoo eval`` measures an unpaired folder by KID of the AtoB outputs unless pixel metrics are asked
for) are computed here with the same arithmetic and written into its card with a protocol naming this script.

Reference rows:

* **identity** — the input itself as the "translation": what doing nothing scores (the script checks it against
  the identity baseline ``ganzoo eval`` reports beside the model, and stops if the two disagree);
* **real (train targets)** — N real training targets scored as if they were outputs: the KID a perfect
  translator would get at this N (its pixel metrics are undefined: there is no pairing);
* for pix2pix also the model in ``eval`` mode (running batch-norm statistics, no dropout) beside the default
  ``paper`` mode (per-image statistics and live dropout, as the original test.py).

``--make-cards`` copies each run folder without ``checkpoints/``, ``logs/`` and ``samples/`` (the discriminators
are kept: both are under 1.5 MB), renders its card with the data, licence and provenance facts in
:data:`MODELS`, and writes the measured metrics into it (``write_card_metrics``, as ``ganzoo eval --write-card``).
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import shutil
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SEED = 0
EXTRACTOR = "effnet"
SCRIPT = "python benchmarks/eval_i2i.py"

#: What the cards say about each demo (facts from scripts/fetch_emoji.py's SOURCE.md files and the runs).
MODELS: dict[str, dict[str, Any]] = {
    "pix2pix-openmoji-line2color": {
        "run": "runs/pix2pix-openmoji-line2color",
        "data": "data/openmoji-line2color",
        "license": "cc-by-sa-4.0",
        "summary": "OpenMoji black line art → the coloured OpenMoji drawing (64 px pix2pix U-Net, trained here)",
        "domains": {"input": "OpenMoji line art (black strokes on white, 64 px)",
                    "output": "the same emoji coloured in OpenMoji's style"},
        "dataset": {
            "name": "OpenMoji 17.0.0 line art → colour, 64 px",
            "size": "1,956 train / 238 test pairs (no flags-group emoji, no skin-tone variants)",
            "license": "CC-BY-SA-4.0",
            "source": "npm openmoji@17.0.0 (openmoji-17.0.0.tgz, sha256 55ee7d13485dec86e9f38c1f3a645a13382d33ff97c0"
                      "cd845ee824b0aef45e68), black/svg → color/svg, built by scripts/fetch_emoji.py",
        },
        "weights_license": "cc-by-sa-4.0",
        "licence_note": (
            "The training images are OpenMoji graphics (© the OpenMoji contributors, https://openmoji.org), "
            "licensed **CC-BY-SA-4.0**. Whether trained weights are an adaptation of their training images is "
            "unsettled; because the licence is share-alike, these weights are offered under **CC-BY-SA-4.0** too, "
            "with attribution to OpenMoji — and so are images they produce that reproduce OpenMoji designs. The "
            "ganzoo code that trained them is Apache-2.0."),
    },
    "cyclegan-noto2twemoji": {
        "run": "runs/cyclegan-noto2twemoji",
        "data": "data/emoji-noto2twemoji",
        "license": "cc-by-4.0",
        "summary": "Noto Color Emoji style ↔ Twemoji style (64 px CycleGAN, trained here without pairs)",
        "domains": {"A": "Noto Color Emoji 2.042 glyphs (64 px, on white)",
                    "B": "Twemoji (emoji-datasource-twitter 16.0.0) 64-px images, on white"},
        "dataset": {
            "name": "Noto Color Emoji 2.042 ↔ Twemoji 16.0.0, 64 px",
            "size": "613 Noto + 612 Twemoji training emoji (disjoint code points, no pairs); 157 test emoji in both "
                    "styles",
            "license": "Twemoji graphics CC-BY-4.0; Noto Color Emoji images Apache-2.0, font OFL-1.1",
            "source": "Debian fonts-noto-color-emoji 2.042-0+deb12u1 (sha256 a5ab0f69c7938423862320d9aca5dd187b3fd879d6"
                      "a9a57dd52e17c3fa8d2751) + npm emoji-datasource-twitter@16.0.0 (sha256 f64a530c63bca463bd8317fd"
                      "c4615ce63a53a0c65018e4ce2d848aaba7a28877), built by scripts/fetch_emoji.py",
        },
        "weights_license": "cc-by-4.0",
        "licence_note": (
            "Domain B is Twemoji (© Twitter, Inc. and other contributors, **CC-BY-4.0**: attribution required); "
            "domain A is Noto Color Emoji (© Google Inc.; images **Apache-2.0**, font **OFL-1.1**). The weights "
            "are offered under **CC-BY-4.0** with attribution to both projects (Apache-2.0 and OFL material may be "
            "redistributed under it with their notices). The ganzoo code that trained them is Apache-2.0."),
    },
}


# -- measurements -----------------------------------------------------------------------------------------------


class Scorer:
    """Pixel metrics and KID with the arithmetic ``ganzoo eval`` uses (its private helpers, on purpose: the
    reference rows must be measured exactly like the model rows)."""

    def __init__(self, image_size: int) -> None:
        from ganzoo.metrics import load_extractor

        self.ext = load_extractor(EXTRACTOR, "cpu")
        self.image_size = image_size

    def features(self, x: Any) -> Any:
        import torch

        out = []
        for i in range(0, x.shape[0], 64):
            f, _ = self.ext.features_and_logits(x[i:i + 64])
            out.append(f.float())
        return torch.cat(out)

    def score(self, outputs: Any, targets: Any | None, reference: Any, changed: Any | None = None) -> dict[str, Any]:
        """``outputs`` vs ``targets`` (pixels; None: unpaired) and vs ``reference`` features (KID).

        ``changed`` (bool per pair): the pairs whose target differs from its input; ``psnr_changed`` is the mean
        per-image PSNR over them (finite for the identity baseline too).
        """
        import torch

        from ganzoo.metrics.arithmetic import KID_SUBSETS, PixelMetrics, kid_from_features, quantize

        outputs = quantize(outputs)
        res: dict[str, Any] = {}
        if targets is not None:
            acc = PixelMetrics(self.image_size)
            acc.update(outputs, targets)
            res.update({k: v for k, (v, _) in acc.compute().items()})
            # per-image PSNR is infinite for a pixel-identical pair (some OpenMoji symbols are black in both
            # drawings), which makes the mean infinite: also report how many and the mean over the others
            mse = (((outputs.float() + 1) / 2 - (targets.float().clamp(-1, 1) + 1) / 2) ** 2).mean(dim=(1, 2, 3))
            same = int((mse == 0).sum())
            if same:
                res["psnr_identical"] = same
            if changed is not None:
                res["psnr_changed"] = float((10 * torch.log10(1 / mse[changed].clamp_min(1e-10))).mean())
        m = min(1000, outputs.shape[0], reference.shape[0])
        mean, std = kid_from_features(reference, self.features(outputs), subset_size=m, seed=SEED)
        res.update({"kid": mean, "kid_std": std, "kid_subset_size": m, "kid_subsets": KID_SUBSETS})
        return res


def _stack(paths: list[Path], channels: int) -> Any:
    import torch

    from ganzoo.data import open_image, to_tensor

    return torch.stack([to_tensor(open_image(p, channels)) for p in paths])


def _real_subset(x: Any, n: int) -> Any:
    import torch

    g = torch.Generator().manual_seed(SEED)
    return x[torch.randperm(x.shape[0], generator=g)[:n]]


def eval_pix2pix(model_id: str, folder: str, data: str, scorer_cache: dict[int, Scorer]) -> dict[str, Any]:
    import torch

    import ganzoo
    from ganzoo.data import dataset_for_task
    from ganzoo.metrics import evaluate
    from ganzoo.metrics.images import derived_seed

    t0 = time.perf_counter()
    report = evaluate(folder, data, split="test", metrics="psnr,ssim,l1,kid", extractor=EXTRACTOR, seed=SEED,
                      device="cpu", name=model_id)
    model = ganzoo.load(folder, device="cpu")
    cfg = model.config
    scorer = scorer_cache.setdefault(cfg.image_size, Scorer(cfg.image_size))
    # the test pairs exactly as `ganzoo eval` reads them (dataset_for_task, no augmentation)
    test = dataset_for_task("paired-translation", cfg, data, split="test", augment=False)
    pairs = [test[i] for i in range(len(test))]
    x = torch.stack([p["A"] for p in pairs])
    y = torch.stack([p["B"] for p in pairs])
    train = dataset_for_task("paired-translation", cfg, data, split="train", augment=False)
    g = torch.Generator().manual_seed(SEED)
    idx = torch.randperm(len(train), generator=g)[: len(test)].tolist()
    real_train = torch.stack([train[i]["B"] for i in idx])
    ref = scorer.features(y)
    changed = (x != y).flatten(1).any(1)
    with torch.no_grad():
        eval_mode = model.sample(condition=x, mode="eval")
        # paper mode with the seeds `ganzoo eval` uses (batches of 64): the same images it scored
        paper = torch.cat([model.sample(condition=x[i:i + 64], seed=derived_seed(SEED, i // 64))
                           for i in range(0, x.shape[0], 64)])
    mine = scorer.score(paper, y, ref, changed)
    card = {r.name: r.value for r in report.results}
    for k in ("psnr", "ssim", "l1", "kid"):
        if abs(mine[k] - card[k]) > 1e-4 * max(1.0, abs(card[k])):
            raise SystemExit(f"{model_id}: {k} here {mine[k]} differs from ganzoo eval's {card[k]}: the benchmark "
                             "no longer measures what ganzoo eval does")
    rows = [
        {"row": "identity (input as output)", **scorer.score(x, y, ref, changed)},
        {"row": "real (train targets)", **scorer.score(real_train, None, ref)},
        {"row": f"`{model_id}` (paper mode, default)", **mine, **card, "kid_std": report["kid"].std, "card": True},
        {"row": f"`{model_id}` (eval mode)", **scorer.score(eval_mode, y, ref, changed)},
    ]
    _check_identity(model_id, report, rows[0], ("psnr", "ssim", "l1", "kid"))
    n_changed = int(changed.sum())
    return {"id": model_id, "folder": folder, "data": data, "direction": "line art → colour", "n_test": len(test),
            "n_changed": n_changed, "rows": rows, "report": report, "seconds": time.perf_counter() - t0}


def eval_cyclegan(model_id: str, folder: str, data: str, scorer_cache: dict[int, Scorer]) -> dict[str, Any]:
    import torch

    import ganzoo
    from ganzoo.metrics import EvalReport, MetricResult, evaluate

    t0 = time.perf_counter()
    report = evaluate(folder, data, split="test", metrics="kid", extractor=EXTRACTOR, seed=SEED, device="cpu",
                      name=model_id)
    model = ganzoo.load(folder, device="cpu")
    cfg = model.config
    scorer = scorer_cache.setdefault(cfg.image_size, Scorer(cfg.image_size))
    root = Path(data)
    names = sorted(p.name for p in (root / "testA").glob("*.png"))
    missing = [n for n in names if not (root / "testB" / n).is_file()]
    if missing:
        raise SystemExit(f"{root}/testB lacks the pairs of {missing[:5]}: rebuild with scripts/fetch_emoji.py")
    a = _stack([root / "testA" / n for n in names], cfg.input_channels)
    b = _stack([root / "testB" / n for n in names], cfg.output_channels)
    train_a = _real_subset(_stack(sorted((root / "trainA").glob("*.png")), cfg.input_channels), len(names))
    train_b = _real_subset(_stack(sorted((root / "trainB").glob("*.png")), cfg.output_channels), len(names))
    ref_a, ref_b = scorer.features(a), scorer.features(b)
    with torch.no_grad():
        fake_b = model.sample(condition=a, direction="AtoB")
        fake_a = model.sample(condition=b, direction="BtoA")
    ab = scorer.score(fake_b, b, ref_b)
    ba = scorer.score(fake_a, a, ref_a)
    rows = [
        {"row": "identity (input as output)", "AtoB": scorer.score(a, b, ref_b), "BtoA": scorer.score(b, a, ref_a)},
        {"row": "real (train images of the target style)", "AtoB": scorer.score(train_b, None, ref_b),
         "BtoA": scorer.score(train_a, None, ref_a)},
        {"row": f"`{model_id}`", "AtoB": {**ab, "kid_card": report["kid"].value, "kid_card_std": report["kid"].std},
         "BtoA": ba, "card": True},
    ]
    _check_identity(model_id, report, rows[0]["AtoB"], ("kid",))
    # the paired numbers, with a protocol, for the card (`ganzoo eval` measures this folder's AtoB KID by default)
    base = dict(report.protocol)
    common = {**base, "extractor": "none (pixel metric)", "extractor_sha256": None, "resizer": None,
              "data_range": "[0, 1]", "pairs": len(names), "command": f"{SCRIPT} --seed {SEED}",
              "pairing": "testA/<codepoint>.png ↔ testB/<codepoint>.png (the same emoji in both styles)"}
    results = []
    for direction, res, ref_name in (("AtoB", ab, "testB"), ("BtoA", ba, "testA")):
        suffix = "" if direction == "AtoB" else "_BtoA"
        proto = {**common, "direction": direction, "target": ref_name,
                 "sampling": f"translate every test{'A' if direction == 'AtoB' else 'B'} image ({direction})"}
        for metric in ("psnr", "ssim", "l1"):
            results.append(MetricResult(metric + suffix, res[metric], None, {}, dict(proto)))
        if direction == "BtoA":
            kid_proto = {**base, "command": f"{SCRIPT} --seed {SEED}", "direction": "BtoA", "target": "testA",
                         "sampling": "translate every testB image (BtoA)", "kid_subset_size": res["kid_subset_size"],
                         "kid_subsets": res["kid_subsets"], "kid_kernel": "polynomial (x·y/d + 1)^3",
                         "reference_fingerprint": None}
            results.append(MetricResult("kid_BtoA", res["kid"], res["kid_std"], {}, kid_proto))
    paired = EvalReport(model=model_id, plugin=report.plugin, task=report.task, results=results,
                        protocol=common, timings={}, cache={})
    return {"id": model_id, "folder": folder, "data": data,
            "direction": "Noto → Twemoji (AtoB), Twemoji → Noto (BtoA)", "n_test": len(names), "rows": rows,
            "report": report, "paired_report": paired, "seconds": time.perf_counter() - t0}


def _check_identity(model_id: str, report: Any, row: dict[str, Any], names: tuple[str, ...]) -> None:
    """The identity row here must be the identity baseline ``ganzoo eval`` reports beside the model."""
    ident = report.baseline("identity")
    for k in names:
        if abs(row[k] - ident[k].value) > 1e-4 * max(1.0, abs(row[k])):
            raise SystemExit(f"{model_id}: identity {k} here {row[k]} differs from ganzoo eval's identity baseline "
                             f"{ident[k].value}: the benchmark no longer measures what ganzoo eval does")


# -- cards ------------------------------------------------------------------------------------------------------


def make_card_folder(model_id: str, spec: dict[str, Any], dest: Path, notes: str) -> Path:
    """Copy the run folder's model files into ``dest`` and render its card with the demo's facts."""
    from ganzoo.cards import load_card, make_card
    from ganzoo.registry import get_plugin

    run = ROOT / spec["run"]
    if not (run / "config.json").is_file():
        raise SystemExit(f"{run} is not a trained model folder: run scripts/train_i2i_demos.sh first")
    dest.mkdir(parents=True, exist_ok=True)
    config = json.loads((run / "config.json").read_text())
    keep = ["config.json"] + [c["file"] for c in config["components"].values()]
    for old in dest.iterdir():
        if old.is_file() and old.name not in keep + ["README.md"]:
            old.unlink()
    for name in keep:
        shutil.copyfile(run / name, dest / name)
    old = load_card(run / "README.md")
    block = dict(old.data.ganzoo)
    plugin, tag = block.pop("plugin"), block.pop("tag")
    block.pop("metrics", None)  # measured again below, on the bundled bytes
    block.update({"summary": spec["summary"], "domains": spec["domains"], "dataset": spec["dataset"],
                  "weights_license": spec["weights_license"], "dataset_license": spec["dataset"]["license"]})
    if plugin == "pix2pix":
        block.update({"direction": config["config"]["direction"], "inference_mode": config["config"]["inference_mode"]})
        usage = ("from ganzoo.data import open_image, to_tensor\n"
                 "x = to_tensor(open_image(\"line_art.png\", 3))[None]   # (1, 3, H, W) in [-1, 1], any size\n"
                 "y = model.sample(condition=x, seed=0)                 # mode=\"eval\" for the deterministic variant")
        cli = f"ganzoo sample {model_id} --input line_art.png -o colour.png   # or a folder of images"
    else:
        usage = ("from ganzoo.data import open_image, to_tensor\n"
                 "x = to_tensor(open_image(\"noto.png\", 3))[None]        # (1, 3, H, W) in [-1, 1], any size\n"
                 "twemoji = model.sample(condition=x)                   # direction=\"BtoA\": Twemoji → Noto")
        cli = f"ganzoo sample {model_id} --input noto.png -o twemoji.png   # or a folder of images"
    card = make_card(plugin=get_plugin(plugin), tag=tag, ganzoo=block, license=spec["license"],
                     tags=["image-to-image", "emoji"], description=spec["summary"] + ".", usage=usage, cli_usage=cli,
                     notes=notes, load_name=model_id)
    (dest / "README.md").write_text(str(card), encoding="utf-8")
    load_card(dest / "README.md")
    return dest


def _rows_table(result: dict[str, Any], changed_header: str) -> list[str]:
    """A result's rows as markdown: one per row for paired models, one per row and direction for two-way ones."""
    if "paired_report" not in result:
        lines = [f"| | PSNR ↑ | {changed_header} ↑ | SSIM ↑ | L1 ↓ | KID ↓ |", "|---|---|---|---|---|---|"]
        for row in result["rows"]:
            lines.append(f"| {row['row']} | {_psnr(row)} | {_f(row.get('psnr_changed'), '{:.2f}')} | "
                         f"{_f(row.get('ssim'), '{:.3f}')} | {_f(row.get('l1'), '{:.4f}')} | {_kid(row)} |")
        return lines
    lines = ["| | direction | PSNR ↑ | SSIM ↑ | L1 ↓ | KID ↓ |", "|---|---|---|---|---|---|"]
    for row in result["rows"]:
        for d, label in (("AtoB", "Noto → Twemoji"), ("BtoA", "Twemoji → Noto")):
            res = row[d]
            lines.append(f"| {row['row']} | {label} | {_psnr(res)} | {_f(res.get('ssim'), '{:.3f}')} | "
                         f"{_f(res.get('l1'), '{:.4f}')} | {_kid(res)} |")
    return lines


def _baseline_table(result: dict[str, Any] | None) -> str:
    """The benchmark's rows (identity baseline, real floor, the model) as a small markdown table for the card."""
    if result is None:
        return ""
    lines = ["", "", f"Measured on the {result['n_test']} held-out test images by `{SCRIPT}` (the model rows are the "
             "numbers in *Evaluation* below; KID on effnet features against the real test targets):", ""]
    lines += _rows_table(result, f"PSNR, {result.get('n_changed')} changed pairs")
    return "\n".join(lines)


def card_notes(model_id: str, spec: dict[str, Any], quality: str, result: dict[str, Any] | None = None) -> str:
    source = (ROOT / spec["data"] / "SOURCE.md")
    facts = ""
    if source.is_file():
        text = source.read_text(encoding="utf-8")
        facts = text.split("## What is here", 1)[-1].strip() if "## What is here" in text else ""
    return (f"**Trained here, as a demo.** {quality}{_baseline_table(result)}\n\n"
            f"**Data.** Built offline from registry packages by `python scripts/fetch_emoji.py` (not included in "
            f"this repository; the script pins each package's sha256). {facts}\n\n"
            f"**Licence.** {spec['licence_note']}\n\n"
            f"**Reproduce.** `python scripts/fetch_emoji.py`, then the training command above (from the repository "
            f"root, `OMP_NUM_THREADS=1`; `scripts/train_i2i_demos.sh` runs it), then "
            f"`{SCRIPT} --make-cards` to copy the folder here and measure it.")


QUALITY = {
    # what the outputs look like (judged by viewing test outputs beside their inputs and targets), then the numbers
    "pix2pix-openmoji-line2color": (
        "A small (1.8 M-parameter, 64 px) model trained for 32 minutes on one CPU thread: it shows the pipeline "
        "working end to end, not a useful colourist. Looking at held-out outputs: the line work is kept exactly, "
        "faces come out yellow as OpenMoji draws them, and dark fills (arrows, black symbols) come out dark; most "
        "other objects get grey or faint, blotchy colour instead of their own (grapes grey rather than purple, a "
        "vase off-white rather than orange), with speckle in flat areas. By L1, PSNR and KID it beats the "
        "identity baseline (returning the line art unchanged); by SSIM it is below it, because the speckle costs "
        "more structure than the colour fills gain. The default `paper` test mode (per-image batch-norm "
        "statistics, live dropout) scores better than `eval` mode on KID, PSNR and L1."),
    "cyclegan-noto2twemoji": (
        "A small (2 × 0.5 M-parameter generators, 64 px) model trained for 35 minutes on one CPU thread, from "
        "unpaired images: it shows the pipeline working end to end, not a usable style converter. Looking at "
        "held-out outputs: both generators keep their input's drawing almost unchanged — CycleGAN changes "
        "texture and colour, not geometry, and Noto and Twemoji draw most emoji with different shapes — and add "
        "blur and high-frequency speckle; Noto → Twemoji flattens some shading and pales some colours, Twemoji → "
        "Noto adds noisy texture rather than Noto's gradients. Against the ground truth (the same emoji in the "
        "target style), Noto → Twemoji is marginally better than the identity baseline (returning the input "
        "unchanged) on PSNR, SSIM and L1 and much worse on KID — its speckle moves it away from real Twemoji in "
        "feature space, while the two real styles are close there (identity KID 0.012) — and Twemoji → Noto is "
        "worse than identity on every metric. Read the numbers as a reference for better-trained models, "
        "measured with the same protocol."),
}


# -- report -----------------------------------------------------------------------------------------------------


def _f(v: Any, fmt: str) -> str:
    return "—" if v is None else fmt.format(v)


def _kid(res: dict[str, Any]) -> str:
    if res.get("kid") is None:
        return "—"
    # with one subset of all images (the sets are smaller than 1,000) the spread is 0 up to rounding
    return f"{res['kid']:.4f}" + (f" ± {res['kid_std']:.4f}" if (res.get("kid_std") or 0) >= 5e-5 else "")


def _psnr(res: dict[str, Any]) -> str:
    if res.get("psnr_identical") and res.get("psnr") == float("inf"):
        return f"∞ ({res['psnr_identical']} identical pairs)"
    return _f(res.get("psnr"), "{:.2f}")


def markdown(results: list[dict[str, Any]], machine: str) -> str:
    lines = ["# Image-to-image demos: held-out test scores", "",
             f"Generated by `{SCRIPT}` on {machine}. PSNR/SSIM/L1 against each input's ground truth (8-bit outputs, "
             "[0, 1] pixels, SSIM Gaussian 11/σ 1.5); KID (polynomial kernel; 100 subsets, each of all the test "
             f"images, so no spread) of the outputs against the real test targets on `{EXTRACTOR}` features; "
             f"seed {SEED}.", ""]
    for r in results:
        lines += [f"## {r['id']} — {r['direction']}", "",
                  f"Test split of `{r['data']}`: {r['n_test']} images. Model folder: `{r['folder']}`.", ""]
        lines += _rows_table(r, f"PSNR of the {r.get('n_changed')} changed pairs")
        lines += ["", f"Evaluated in {r['seconds']:.0f} s.", ""]
    return "\n".join(lines)


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    import math

    return {k: (float(v) if isinstance(v, float) and math.isfinite(v) else str(v) if isinstance(v, float) else v)
            for k, v in row.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--make-cards", action="store_true",
                        help="copy runs/<id>/ into cards/<id>/, render the cards, then measure and write the metrics")
    parser.add_argument("--folder", action="append", default=[], metavar="ID=PATH",
                        help="evaluate this folder for the model id (default: cards/<id>)")
    parser.add_argument("--only", choices=sorted(MODELS), action="append", help="only this model (repeatable)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--seed", type=int, default=SEED, help=f"only {SEED} is supported (the cards' protocol)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    if args.seed != SEED:
        parser.error(f"--seed must be {SEED} (what the cards record)")
    import torch

    torch.manual_seed(SEED)
    folders = {mid: str(ROOT / "cards" / mid) for mid in MODELS}
    for item in args.folder:
        mid, _, path = item.partition("=")
        if mid not in MODELS or not path:
            parser.error(f"--folder wants ID=PATH with ID one of {', '.join(MODELS)}")
        folders[mid] = path
    models = {mid: spec for mid, spec in MODELS.items() if not args.only or mid in args.only}
    if args.make_cards:
        for mid, spec in models.items():
            make_card_folder(mid, spec, ROOT / "cards" / mid, card_notes(mid, spec, QUALITY[mid]))
            print(f"wrote cards/{mid}/ from {spec['run']}")
    import os

    os.chdir(ROOT)  # the protocols record data paths relative to the repository root
    cache: dict[int, Scorer] = {}
    results = []
    for mid, spec in models.items():
        folder = os.path.relpath(folders[mid], ROOT) if Path(folders[mid]).is_absolute() else folders[mid]
        if not (Path(folder) / "config.json").is_file():
            print(f"skipping {mid}: {folder} has no model (train it: scripts/train_i2i_demos.sh)")
            continue
        if not (Path(spec["data"]) / "SOURCE.md").is_file():
            raise SystemExit(f"{spec['data']} is missing: python scripts/fetch_emoji.py")
        fn = eval_pix2pix if mid.startswith("pix2pix") else eval_cyclegan
        results.append(fn(mid, folder, spec["data"], cache))
    if args.make_cards:
        from ganzoo.metrics import write_card_metrics

        for r in results:
            dest = ROOT / "cards" / r["id"]
            # re-render with the measured baselines in the notes (the same bytes: only README.md changes)
            make_card_folder(r["id"], MODELS[r["id"]], dest, card_notes(r["id"], MODELS[r["id"]], QUALITY[r["id"]], r))
            write_card_metrics(dest, r["report"])
            if "paired_report" in r:
                write_card_metrics(dest, r["paired_report"])
            print(f"wrote the metrics into cards/{r['id']}/README.md")
    machine = f"{platform.machine()} CPU, torch {torch.__version__}, {torch.get_num_threads()} thread(s)"
    text = markdown(results, machine)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "i2i.md").write_text(text, encoding="utf-8")
    payload = {"machine": machine, "seed": SEED, "extractor": EXTRACTOR, "models": [
        {"id": r["id"], "folder": r["folder"], "data": r["data"], "n_test": r["n_test"],
         "seconds": round(r["seconds"], 1),
         "rows": [{k: (_json_row(v) if isinstance(v, dict) else v) for k, v in _json_row(row).items()}
                  for row in r["rows"]],
         "card_metrics": r["report"].card_metrics()
         + (r["paired_report"].card_metrics() if "paired_report" in r else [])}
        for r in results]}
    (args.out / "i2i.json").write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
