"""GAN vs auto-encoder vs VAE vs cGAN vs StackGAN on the same digits, the same metrics, the same sample counts.

Regenerates the README's "Generation comparison" table:

    python benchmarks/compare_generation.py                       # every *-digits model ganzoo lists
    python benchmarks/compare_generation.py --model runs/dcgan-digits --model runs/cgan-digits
    python benchmarks/compare_generation.py --n 500 --seed 0 --out benchmarks/results
    python benchmarks/compare_generation.py --readme README.md     # and rewrite the README's table

For each model: ``ganzoo.metrics.evaluate`` against the OpenCV digits test split (``data/digits``, written by
``scripts/fetch_digits.py``) with the shipped digit classifier as the feature network — KID and FID, improved
precision/recall, the "classifier IS" and class coverage; for class-conditional models also the classifier's
accuracy on samples drawn for each label; for auto-encoders / VAEs also the PSNR of test-set reconstructions.
Every model gets the same number of samples and the same seed. A "real (train split)" row scores N real
training images the same way: the floor a perfect generator would reach at this N (FID is biased upwards at
small N, so compare FIDs only within this table).

Writes ``<out>/generation.md`` (the table + protocol) and ``<out>/generation.json`` (every number with its
full protocol) and prints the table. Models that cannot be loaded (plugin missing, weights not published yet)
are listed as skipped with the reason.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import time
from pathlib import Path
from typing import Any

#: The digit models the README compares, in table order (whichever are installed / listed are used).
DIGIT_MODELS = ("gan-digits", "dcgan-digits", "autoencoder-digits", "vae-digits", "cgan-digits", "stackgan-digits")

COLUMNS = [  # (result name, header, format)
    ("kid", "KID ↓", "{:.3f}"),
    ("fid", "FID ↓", "{:.1f}"),
    ("precision", "precision ↑", "{:.3f}"),
    ("recall", "recall ↑", "{:.3f}"),
    ("is", "classifier IS ↑", "{:.2f}"),
    ("coverage", "coverage ↑", "{:.1f}"),
    ("accuracy", "label accuracy ↑", "{:.3f}"),
    ("psnr", "recon PSNR ↑", "{:.1f}"),
]


def _candidates(explicit: list[str]) -> list[str]:
    if explicit:
        return explicit
    import ganzoo

    listed = {e.id for e in ganzoo.list_models()}
    return [m for m in DIGIT_MODELS if m in listed]


def _metrics_for(model: Any) -> list[str]:
    """The table's columns the model's task measures (its task's metrics, in the table's order)."""
    return [m for m in ("kid", "fid", "pr", "is", "coverage", "accuracy", "psnr") if m in model.task.metrics]


def _row(label: str, task: str, values: dict[str, float], seconds: float | None) -> list[str]:
    cells = [label, task]
    for key, _, fmt in COLUMNS:
        v = values.get(key)
        if v is None:
            cells.append("—")
        elif key == "coverage":
            cells.append(f"{round(v * 10)}/10")
        else:
            cells.append(fmt.format(v))
    cells.append(f"{seconds:.0f}" if seconds is not None else "—")
    return cells


def _markdown(rows: list[list[str]]) -> str:
    header = ["model", "task"] + [h for _, h, _ in COLUMNS] + ["eval s"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


START, END = "<!-- generation-table:start -->", "<!-- generation-table:end -->"


def _update_readme(readme: Path, text: str) -> None:
    """Replace what lies between the README's generation-table markers with the table and its protocol."""
    body = readme.read_text(encoding="utf-8")
    if START not in body or END not in body:
        raise SystemExit(f"error: {readme} has no {START} … {END} markers: add them where the table goes")
    head, rest = body.split(START, 1)
    _, tail = rest.split(END, 1)
    table = text.split("\n", 2)[2].strip()  # drop the "# Generation comparison" title
    tmp = readme.with_suffix(readme.suffix + ".tmp")
    tmp.write_text(f"{head}{START}\n{table}\n{END}{tail}", encoding="utf-8")
    tmp.replace(readme)
    print(f"updated {readme}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", default=[],
                        help="a model id or folder (repeatable); default: every listed model of "
                        + ", ".join(DIGIT_MODELS))
    parser.add_argument("--data", default="data/digits", help="the digits folder (train/ and test/ class folders)")
    parser.add_argument("--split", default="test")
    parser.add_argument("--n", type=int, default=500, help="samples per model (and real images in the baseline row)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--device", default=None)
    parser.add_argument("--no-baseline", action="store_true", help="skip the real-vs-real row")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--readme", type=Path, default=None,
                        help="also write the table into this README between the generation-table markers")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")

    import torch

    import ganzoo
    from ganzoo.errors import GanzooError
    from ganzoo.metrics import compare_real, coverage_from_logits, evaluate, is_from_logits, real_features
    from ganzoo.metrics.extractors import EXTRACTORS

    if not Path(args.data).is_dir():
        print(f"error: {args.data} is missing: run `python scripts/fetch_digits.py --out {args.data}`", file=sys.stderr)
        return 1
    rows: list[list[str]] = []
    records: list[dict[str, Any]] = []
    skipped: list[str] = []
    protocol: dict[str, Any] = {}
    if not args.no_baseline:
        t0 = time.perf_counter()
        real = compare_real(args.data, split_a="train", split_b=args.split, n=args.n, metrics=("kid", "fid", "pr"),
                            seed=args.seed, batch_size=args.batch_size, device=args.device)
        values = {r.name: r.value for r in real}
        # the classifier's view of the same real images: what IS and coverage real digits get
        train = real_features(args.data, extractor="digits", image_size=32, channels=1, split="train", n_real=args.n,
                              batch_size=args.batch_size, device=args.device)
        values["is"] = is_from_logits(train.logits, seed=args.seed)[0]
        values["coverage"] = coverage_from_logits(train.logits)[0]
        rows.append(_row("real (train split)", "—", values, time.perf_counter() - t0))
        records.append({"model": "real (train split)", "metrics": [r.card_entry() for r in real]})
    for name in _candidates(args.model):
        t0 = time.perf_counter()
        try:
            model = ganzoo.load(name, device=args.device)
            report = evaluate(model, args.data, split=args.split, metrics=_metrics_for(model), n=args.n,
                              extractor="digits", seed=args.seed, batch_size=args.batch_size, device=args.device,
                              name=name)
        except GanzooError as err:
            skipped.append(f"{name}: {err}")
            print(f"skipped {name}: {err}", file=sys.stderr)
            continue
        values = {r.name: r.value for r in report.results}
        rows.append(_row(f"`{name}`", report.task, values, time.perf_counter() - t0))
        records.append({"model": name, "plugin": report.plugin, "task": report.task,
                        "metrics": report.card_metrics(), "timings": report.timings})
        protocol = report.protocol
    if len(rows) == (0 if args.no_baseline else 1):
        print("no digit model could be evaluated" + ("; " + "; ".join(skipped) if skipped else
              f" (none of {', '.join(DIGIT_MODELS)} is listed: pass --model PATH)"), file=sys.stderr)
        return 1

    digits = EXTRACTORS["digits"]
    env = (f"ganzoo {ganzoo.__version__}, torch {torch.__version__}, {platform.machine()} "
           f"{'cuda' if torch.cuda.is_available() and args.device != 'cpu' else 'cpu'}")
    lines = [
        "# Generation comparison (digits)",
        "",
        _markdown(rows),
        "",
        f"- Reference: `{args.data}` split `{args.split}` ({protocol.get('reference_count', '?')} real images, "
        f"fingerprint `{protocol.get('reference_fingerprint', '?')}`), read at each model's resolution.",
        f"- Samples: {args.n} per model, seed {args.seed}; class-conditional models get balanced labels "
        "(i mod 10); generated images are quantised to 8 bits like the real ones.",
        f"- Features: the shipped digit classifier (`digits`, sha256 `{digits.weights_sha256[:16]}…`, 128-d "
        "penultimate layer; its 10 logits give the classifier IS, coverage and label accuracy). These numbers are "
        "comparable with each other only — not with published MNIST or Inception scores.",
        "- KID: subsets of min(1000, N) × 100; precision/recall: k = 3; coverage: classes given ≥ 5 % of the "
        "samples; recon PSNR: auto-encoder/VAE reconstructions of the reference images.",
        "- The first row scores N real training images as if they were samples: what a perfect generator gets "
        "at this N (FID's small-sample bias included).",
        f"- Regenerate: `python benchmarks/compare_generation.py --n {args.n} --seed {args.seed}"
        + "".join(f" --model {m}" for m in args.model) + "`",
        f"- Environment: {env}.",
    ]
    if skipped:
        lines += ["", "Skipped:", *[f"- {s}" for s in skipped]]
    text = "\n".join(lines) + "\n"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "generation.md").write_text(text, encoding="utf-8")
    (args.out / "generation.json").write_text(json.dumps({"data": args.data, "split": args.split, "n": args.n,
                                                          "seed": args.seed, "environment": env, "models": records,
                                                          "skipped": skipped}, indent=2) + "\n", encoding="utf-8")
    if args.readme is not None:
        _update_readme(args.readme, text)
    print(text)
    print(f"wrote {args.out / 'generation.md'} and {args.out / 'generation.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
