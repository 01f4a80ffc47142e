"""The shared-latent ablation: each device that makes two domains' codes agree, on and off, on the same data with
the same metrics, in one table.

    python benchmarks/shared_latent_ablation.py                 # train the missing runs, then score every row
    python benchmarks/shared_latent_ablation.py --xgan-steps 100 --only xgan-paper   # a quick look at one row
    python benchmarks/shared_latent_ablation.py --score-only    # score the runs that exist

The four devices of "projection to a common space" (docs/shared-latent.md):

* **shared layers** — the encoders' last and the decoders' first layers tied between the domains
  (``share_layers``; UNIT, XGAN, and CoGAN in its generative form);
* **code discriminator** — a classifier on the code plays against the encoders so that codes do not tell their
  domain (XGAN's domain-adversarial ``L_dann``, ``lambda_dann``);
* **latent cycle** — the translation, re-encoded, must give back the source's code, a fixed target (ComboGAN's
  latent cycle, ``lambda_latent_cycle``; an option of both plugins);
* **semantic consistency** — the same distance with both codes trained (XGAN's ``L_sem``, ``lambda_sem``).

Rows: XGAN as the paper has it, then with one device removed (or the latent cycle added), and with none of them
(``--only xgan-none``: not in the default set); UNIT as the paper has it, without shared layers, and with the
latent cycle. Every run: the same data (``data/emoji-noto2twemoji`` at 32 px: ``scripts/fetch_emoji.py``), the
same number of steps within a plugin (``--xgan-steps``, ``--unit-steps``), seed 0, one CPU thread. Beside
them: the identity baseline and the bundled CycleGAN (64 px, its outputs resized to 32 px).
Metrics (``benchmarks/shared_latent_eval.py``): SSIM and L1 against the held-out ground truth, KID against the
real test images of the target style, and label preservation (the emoji category kept, by a classifier), each way.

Results go to ``benchmarks/results/shared_latent.{md,json}``; runs to ``runs/ablation/<row>/`` (a run folder with
a ``config.json`` is not trained again).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

SIZE = 32
#: training steps per row (XGAN at batch 8, UNIT at batch 1 as the UNIT authors train)
STEPS = {"xgan": 400, "unit": 600}
SCRIPT = "python benchmarks/shared_latent_ablation.py"

#: the recipes at 32 px (narrow networks: each run is a few CPU-minutes of compute)
BASE: dict[str, list[str]] = {
    "xgan": ["--batch-size", "8", "--set", "image_size=32", "--set", "ch=16", "--set", "code_dim=256",
             "--set", "ndf=16"],
    "unit": ["--batch-size", "1", "--set", "image_size=32", "--set", "load_size=36", "--set", "ch=16",
             "--set", "n_enc_res=1", "--set", "n_gen_res=1", "--set", "ndf=16", "--set", "n_layers_D=3"],
}

#: (row id, plugin, label, {config overrides}); the devices each row has are read back from its config
ROWS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("xgan-paper", "xgan", "XGAN as in the paper", {}),
    ("xgan-no-shared", "xgan", "XGAN − shared layers", {"share_layers": False}),
    ("xgan-no-dann", "xgan", "XGAN − code discriminator", {"lambda_dann": 0.0}),
    ("xgan-no-sem", "xgan", "XGAN − semantic consistency", {"lambda_sem": 0.0}),
    ("xgan-latent-cycle", "xgan", "XGAN + latent cycle", {"lambda_latent_cycle": 1.0}),
    ("xgan-none", "xgan", "XGAN − all three (two auto-encoders + GAN)",
     {"share_layers": False, "lambda_dann": 0.0, "lambda_sem": 0.0}),
    ("unit-paper", "unit", "UNIT as in the paper", {}),
    ("unit-no-shared", "unit", "UNIT − shared layers", {"share_layers": False}),
    ("unit-latent-cycle", "unit", "UNIT + latent cycle", {"lambda_latent_cycle": 10.0}),
]


def devices(plugin: str, cfg: dict[str, Any]) -> dict[str, bool]:
    """Which of the four devices a run's config has on."""
    return {"shared layers": bool(cfg["share_layers"]),
            "code discriminator": plugin == "xgan" and cfg["lambda_dann"] > 0,
            "latent cycle": cfg["lambda_latent_cycle"] > 0,
            "semantic consistency": plugin == "xgan" and cfg["lambda_sem"] > 0}


def command(row: str, plugin: str, overrides: dict[str, Any], steps: int) -> list[str]:
    sets = [a for k, v in overrides.items() for a in ("--set", f"{k}={str(v).lower() if isinstance(v, bool) else v}")]
    return ["ganzoo", "train", plugin, "--data", "data/emoji-noto2twemoji", "--out", f"runs/ablation/{row}",
            "--max-steps", str(steps), "--seed", "0", *BASE[plugin], *sets, "--set", "progress=false",
            "--set", f"sample_every={steps}", "--set", f"checkpoint_every={steps}"]


def train(row: str, plugin: str, overrides: dict[str, Any], steps: int) -> float | None:
    """Train one row (unless its folder exists); returns the wall time in seconds, None when it was there."""
    out = ROOT / "runs" / "ablation" / row
    if (out / "config.json").is_file():
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = command(row, plugin, overrides, steps)
    cmd[0] = str(Path(sys.executable).with_name("ganzoo"))
    print("$", " ".join(command(row, plugin, overrides, steps)), flush=True)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"})
    return time.perf_counter() - t0


def _fmt(res: dict[str, Any]) -> str:
    return f"{res['ssim']:.3f} | {res['l1']:.4f} | {res['kid']:.4f} | {res['labels']:.3f}"


def markdown(rows: list[dict[str, Any]], machine: str, steps: dict[str, int]) -> str:
    mark = {True: "✓", False: "–", None: ""}
    head = ("| row | shared layers | code D | latent cycle | sem. consistency | N→T SSIM ↑ | N→T L1 ↓ | N→T KID ↓ | "
            "N→T labels ↑ | T→N SSIM ↑ | T→N L1 ↓ | T→N KID ↓ | T→N labels ↑ |")
    lines = [
        "# Shared-latent ablation: Noto ↔ Twemoji emoji at 32 px", "",
        f"Generated by `{SCRIPT}` on {machine}: XGAN rows {steps['xgan']} steps at batch 8, UNIT rows "
        f"{steps['unit']} steps at batch 1, seed 0, one CPU thread; scores on the 157 "
        "held-out emoji drawn in both styles (N→T: Noto → Twemoji, T→N: Twemoji → Noto). SSIM/L1 against the "
        "ground truth, KID (EfficientNet-Lite0 features, all 157 test images of the target style) and label "
        "preservation (accuracy of the emoji category predicted from the output; the classifier reads real test "
        "emoji with the accuracy of the identity row). One seed per row: differences of a few SSIM points are "
        "within run-to-run noise.", "", head, "|" + "---|" * 13]
    for r in rows:
        d = r.get("devices") or {}
        flags = " | ".join(mark[d.get(k)] if d else "" for k in ("shared layers", "code discriminator",
                                                                    "latent cycle", "semantic consistency"))
        lines.append(f"| {r['label']} | {flags} | {_fmt(r['AtoB'])} | {_fmt(r['BtoA'])} |")
    lines += ["", "Commands (from the repository root):", "", "```bash"]
    lines += [" ".join(r["command"]) for r in rows if r.get("command")]
    lines += ["```", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--xgan-steps", type=int, default=STEPS["xgan"], help=f"steps per XGAN row [{STEPS['xgan']}]")
    parser.add_argument("--unit-steps", type=int, default=STEPS["unit"], help=f"steps per UNIT row [{STEPS['unit']}]")
    parser.add_argument("--only", action="append", choices=[r[0] for r in ROWS],
                        help="only this row (repeatable; default: every row but xgan-none)")
    parser.add_argument("--score-only", action="store_true", help="score the existing runs, train nothing")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    steps = {"xgan": args.xgan_steps, "unit": args.unit_steps}
    rows = [r for r in ROWS if (r[0] in args.only if args.only else r[0] != "xgan-none")]
    times: dict[str, float | None] = {}
    if not args.score_only:
        for row, plugin, _, overrides in rows:
            times[row] = train(row, plugin, overrides, steps[plugin])
    import torch
    from shared_latent_eval import Bench, identity_rows, score_translator

    import ganzoo

    torch.set_num_threads(1)
    bench = Bench(SIZE)
    results: list[dict[str, Any]] = [{"label": "identity (the input as output)", **identity_rows(bench)}]
    try:
        cyclegan = ganzoo.load("cyclegan-noto2twemoji", device="cpu")
        results.append({"label": "CycleGAN (`cyclegan-noto2twemoji`, 64 px, outputs resized)",
                        **score_translator(bench, cyclegan)})
    except ganzoo.GanzooError as err:  # pragma: no cover - the card ships with the repository
        print(f"skipping the CycleGAN row: {err}")
    for row, plugin, label, overrides in rows:
        folder = ROOT / "runs" / "ablation" / row
        if not (folder / "config.json").is_file():
            print(f"skipping {row}: {folder} is not trained")
            continue
        model = ganzoo.load(str(folder), device="cpu")
        cfg = json.loads((folder / "config.json").read_text())["config"]
        results.append({"row": row, "label": label, "devices": devices(plugin, cfg),
                        "command": command(row, plugin, overrides, steps[plugin]), "train_seconds": times.get(row),
                        **score_translator(bench, model)})
        print(f"scored {row}", flush=True)
    machine = f"{platform.machine()} CPU, torch {torch.__version__}"
    text = markdown(results, machine, steps)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "shared_latent.md").write_text(text, encoding="utf-8")
    (args.out / "shared_latent.json").write_text(json.dumps(
        {"machine": machine, "size": SIZE, "steps": steps, "classifier_train_images": bench.classifier.train_count,
         "rows": results}, indent=2, default=float), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
