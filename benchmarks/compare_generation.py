"""GAN vs auto-encoder vs VAE vs cGAN vs StackGAN on the same digits, the same metrics, the same sample counts.

Regenerates the README's "Generation comparison" table:

    python benchmarks/compare_generation.py                       # every *-digits model ganzoo lists
    python benchmarks/compare_generation.py --model runs/dcgan-digits --model runs/cgan-digits
    python benchmarks/compare_generation.py --n 500 --seed 0 --out benchmarks/results
    python benchmarks/compare_generation.py --eval-seeds 3 --readme README.md  # mean ± std over sampling seeds 0, 1, 2
    python benchmarks/compare_generation.py --readme README.md     # and rewrite the README's table and grids
    python benchmarks/compare_generation.py --seed-runs runs        # + the spread over training seeds 1, 2 …

For each model: ``ganzoo.metrics.evaluate`` against the OpenCV digits test split (``data/digits``, written by
``scripts/fetch_digits.py``) with the shipped digit classifier as the feature network — KID and FID, improved
precision/recall, the "classifier IS" and class coverage; for class-conditional models also the classifier's
accuracy on samples drawn for each label; for auto-encoders / VAEs also the PSNR of test-set reconstructions.
Every model also gets ``sharpness`` (its samples' gradient energy per unit of contrast relative to the real test
digits: 1 = as sharp as real digits, below 1 blurrier; ``ganzoo.metrics.arithmetic.image_sharpness``) and the
verdict of an independent judge (``benchmarks/digit_judge.py``: a calibrated scikit-learn MLP that shares neither
architecture, training split nor seed with the shipped classifier): its mean confidence on the samples, and the
smallest share of the samples it gives one class. Every model gets the same number of samples and the same seed.
A "real (train split)" row scores N real training images the same way: the floor a perfect generator would reach
at this N (FID is biased upwards at small N, so compare FIDs only within this table).

``--eval-seeds K`` measures every row K times, with the seeds ``--seed`` … ``--seed + K − 1`` (each seed draws
other samples, other KID subsets and, for the real row, other IS splits), and shows each number as mean ± std
(n − 1) over them: the spread of the evaluation itself, which a difference between two rows must exceed.

``--seed-runs DIR`` adds a second table: for every unconditional and reconstruction model of the table, the run
folders ``DIR/<id>-seed<k>`` (trained by ``scripts/train_digit_models.sh`` with the bundled model's command and
``--seed k``) are measured by the same protocol, and each metric is reported as mean ± std over the bundled model
and those runs — the training-seed spread that a difference between two rows must exceed.

Writes ``<out>/generation.md`` (the tables + protocol) and ``<out>/generation.json`` (every number with its
full protocol) and prints the tables; ``--grids DIR`` also writes a 64-sample grid per model (seed 0) and one of
real test digits, which ``--readme`` shows under the table. Models that cannot be loaded (plugin missing, weights
not published yet) are listed as skipped with the reason.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))  # digit_judge, beside this script
import digit_judge  # noqa: E402

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
    ("sharpness", "sharpness (real = 1)", "{:.2f}"),
    ("judge", "judge conf. ↑", "{:.3f}"),
    ("judge_min", "judge min class", "{:.1%}"),
]
#: The spread table's columns (mean ± std over training seeds).
SEED_COLUMNS = [("kid", "KID ↓", "{:.3f}"), ("fid", "FID ↓", "{:.1f}"), ("sharpness", "sharpness (real = 1)", "{:.2f}"),
                ("judge", "judge conf. ↑", "{:.3f}"), ("judge_min", "judge min class", "{:.1%}")]


def _candidates(explicit: list[str]) -> list[str]:
    if explicit:
        return explicit
    import ganzoo

    listed = {e.id for e in ganzoo.list_models()}
    return [m for m in DIGIT_MODELS if m in listed]


def _metrics_for(model: Any) -> list[str]:
    """The table's columns the model's task measures (its task's metrics, in the table's order)."""
    return [m for m in ("kid", "fid", "pr", "is", "coverage", "accuracy", "psnr", "sharpness")
            if m in model.task.metrics]


def _row(label: str, task: str, values: dict[str, float] | list[dict[str, float]], seconds: float | None
         ) -> list[str]:
    """One table row; with the values of several evaluation seeds, each cell is their mean ± std."""
    per_seed = values if isinstance(values, list) else [values]
    cells = [label, task]
    for key, _, fmt in COLUMNS:
        vs = [v[key] for v in per_seed if v.get(key) is not None]
        if len(vs) < len(per_seed) or not vs:
            cells.append("—")
        elif key == "coverage":
            lo, hi = round(min(vs) * 10), round(max(vs) * 10)
            cells.append(f"{lo}/10" if lo == hi else f"{lo}–{hi}/10")
        else:
            cells.append(_mean_std(vs, fmt))
    cells.append(f"{seconds:.0f}" if seconds is not None else "—")
    return cells


def _markdown(rows: list[list[str]], header: list[str] | None = None) -> str:
    header = header or ["model", "task"] + [h for _, h, _ in COLUMNS] + ["eval s"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _mean_std(values: list[float], fmt: str) -> str:
    """``mean ± std`` (sample std, n − 1) of the values, each formatted with ``fmt``."""
    import statistics

    if len(values) == 1:
        return fmt.format(values[0])
    return f"{fmt.format(statistics.mean(values))} ± {fmt.format(statistics.stdev(values))}"


def _seed_runs(root: Path, name: str) -> list[tuple[int, Path]]:
    """The extra training-seed runs of ``name``: ``root/<name>-seed<k>`` folders holding a model, by seed."""
    found = []
    for folder in sorted(root.glob(f"{name}-seed*")):
        tail = folder.name[len(name) + len("-seed"):]
        if tail.isdigit() and (folder / "config.json").is_file():
            found.append((int(tail), folder))
    return sorted(found)


def _trained_seed(model: Any) -> int | None:
    """The training seed a model's card records (None when it records none)."""
    card = getattr(model, "card", None)
    block = getattr(getattr(card, "data", None), "ganzoo", None) or {}
    seed = (block.get("trained_with") or {}).get("seed")
    return int(seed) if seed is not None else None


START, END = "<!-- generation-table:start -->", "<!-- generation-table:end -->"


def _grid_markdown(grids: list[tuple[str, Path]], base: Path) -> str:
    """One table row of sample grids (paths relative to the README's folder), captioned by model."""
    import os

    head = "| " + " | ".join(label for label, _ in grids) + " |"
    rule = "|" + "|".join(":---:" for _ in grids) + "|"
    cells = "| " + " | ".join(f"![{label.strip('`')}]({Path(os.path.relpath(p, base)).as_posix()})"
                              for label, p in grids) + " |"
    return "\n".join(["Samples (64 per model, seed 0; `ganzoo sample <id> -n 64 --seed 0`) beside real test digits:",
                      "", head, rule, cells])


def _update_readme(readme: Path, text: str, grids: list[tuple[str, Path]] | None = None) -> None:
    """Replace what lies between the README's generation-table markers with the tables, their protocol and the
    sample grids."""
    body = readme.read_text(encoding="utf-8")
    if START not in body or END not in body:
        raise SystemExit(f"error: {readme} has no {START} … {END} markers: add them where the table goes")
    head, rest = body.split(START, 1)
    _, tail = rest.split(END, 1)
    table = text.split("\n", 2)[2].strip()  # drop the "# Generation comparison" title
    if grids:
        table += "\n\n" + _grid_markdown(grids, readme.parent)
    tmp = readme.with_suffix(readme.suffix + ".tmp")
    tmp.write_text(f"{head}{START}\n{table}\n{END}{tail}", encoding="utf-8")
    tmp.replace(readme)
    print(f"updated {readme}")


def _with_seed(args: argparse.Namespace, seed: int) -> argparse.Namespace:
    """The arguments with another evaluation seed."""
    return argparse.Namespace(**{**vars(args), "seed": seed})


def _eval_seeds(args: argparse.Namespace) -> list[int]:
    """The evaluation seeds: ``--seed`` … ``--seed + --eval-seeds − 1``."""
    return list(range(args.seed, args.seed + args.eval_seeds))


def _measure(model: Any, name: str, args: argparse.Namespace, judge: Any
             ) -> tuple[Any, dict[str, float], dict[str, Any] | None]:
    """The comparison's numbers for one model and ``args.seed``: ``ganzoo.metrics.evaluate`` plus the judge's
    verdict."""
    from ganzoo.metrics import evaluate

    report = evaluate(model, args.data, split=args.split, metrics=_metrics_for(model), n=args.n, extractor="digits",
                      seed=args.seed, batch_size=args.batch_size, device=args.device, name=name)
    values = {r.name: r.value for r in report.results}
    verdict = None
    if judge is not None:
        verdict = judge.judge(digit_judge.samples(model, args.n, args.seed))
        values.update(judge=verdict["confidence"], judge_min=verdict["min_class_share"])
    return report, values, verdict


def _real_row(args: argparse.Namespace, judge: Any) -> tuple[dict[str, float], list[Any]]:
    """N real training images scored as if they were samples (features, classifier, sharpness, judge)."""
    import torch

    from ganzoo.data.datasets import ImageFolderDataset
    from ganzoo.metrics import compare_real, coverage_from_logits, is_from_logits, real_features
    from ganzoo.metrics.arithmetic import image_sharpness, sharpness_ratio
    from ganzoo.metrics.cache import subset_indices

    real = compare_real(args.data, split_a="train", split_b=args.split, n=args.n, metrics=("kid", "fid", "pr"),
                        seed=args.seed, batch_size=args.batch_size, device=args.device)
    values = {r.name: r.value for r in real}
    # the classifier's view of the same real images: what IS and coverage real digits get
    train = real_features(args.data, extractor="digits", image_size=32, channels=1, split="train", n_real=args.n,
                          batch_size=args.batch_size, device=args.device)
    values["is"] = is_from_logits(train.logits, seed=args.seed)[0]
    values["coverage"] = coverage_from_logits(train.logits)[0]
    sets = {}
    for split, n in (("train", args.n), (args.split, None)):  # the same subset compare_real scores
        ds = ImageFolderDataset(args.data, image_size=32, channels=1, split=split, augment=False)
        sets[split] = torch.stack([ds[i]["image"] for i in subset_indices(len(ds), n)])
    values["sharpness"] = sharpness_ratio(image_sharpness(sets["train"]), image_sharpness(sets[args.split]))[0]
    if judge is not None:  # on the reference digits: the judge was fitted on most of the train split
        verdict = judge.judge(sets[args.split])
        values.update(judge=verdict["confidence"], judge_min=verdict["min_class_share"])
    return values, real


def _write_grid(model: Any, label: str, folder: Path, seed: int) -> Path:
    from ganzoo.data.images import save_image_grid

    return save_image_grid(digit_judge.samples(model, 64, seed), folder / f"{label}.png", nrow=8)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", default=[],
                        help="a model id or folder (repeatable); default: every listed model of "
                        + ", ".join(DIGIT_MODELS))
    parser.add_argument("--data", default="data/digits", help="the digits folder (train/ and test/ class folders)")
    parser.add_argument("--split", default="test")
    parser.add_argument("--n", type=int, default=500, help="samples per model (and real images in the baseline row)")
    parser.add_argument("--seed", type=int, default=0, help="evaluation seed (the first one with --eval-seeds)")
    parser.add_argument("--eval-seeds", type=int, default=1,
                        help="measure every row with this many seeds (--seed, --seed + 1, …): mean ± std")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--device", default=None)
    parser.add_argument("--no-baseline", action="store_true", help="skip the real-vs-real row")
    parser.add_argument("--no-judge", action="store_true", help="skip the independent judge's columns")
    parser.add_argument("--seed-runs", type=Path, default=None,
                        help="folder of extra training-seed runs <id>-seed<k>: adds the spread-over-seeds table")
    parser.add_argument("--grids", type=Path, default=None, help="write a 64-sample grid per model into this folder")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--readme", type=Path, default=None,
                        help="also write the tables (and the grids of --grids) into this README between the "
                             "generation-table markers")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")

    import torch

    import ganzoo
    from ganzoo.data.images import save_image_grid
    from ganzoo.errors import GanzooError
    from ganzoo.metrics.extractors import EXTRACTORS

    if not Path(args.data).is_dir():
        print(f"error: {args.data} is missing: run `python scripts/fetch_digits.py --out {args.data}`", file=sys.stderr)
        return 1
    if args.eval_seeds < 1:
        print(f"error: --eval-seeds must be at least 1, got {args.eval_seeds}", file=sys.stderr)
        return 1
    if args.seed_runs is not None and not args.seed_runs.is_dir():
        print(f"error: --seed-runs {args.seed_runs} is not a folder (scripts/train_digit_models.sh writes "
              "runs/<id>-seed<k>)", file=sys.stderr)
        return 1
    judge = None if args.no_judge else digit_judge.DigitJudge.train(args.data)
    rows: list[list[str]] = []
    records: list[dict[str, Any]] = []
    skipped: list[str] = []
    protocol: dict[str, Any] = {}
    grids: list[tuple[str, Path]] = []
    spread: list[list[str]] = []
    if args.grids is not None:
        from ganzoo.data.datasets import ImageFolderDataset

        ds = ImageFolderDataset(args.data, image_size=32, channels=1, split=args.split, augment=False)
        g = torch.Generator().manual_seed(args.seed)
        real_grid = torch.stack([ds[int(i)]["image"] for i in torch.randperm(len(ds), generator=g)[:64]])
        grids.append(("real (test split)", save_image_grid(real_grid, args.grids / "real.png", nrow=8)))
    if not args.no_baseline:
        t0 = time.perf_counter()
        measured = [(s, *_real_row(_with_seed(args, s), judge)) for s in _eval_seeds(args)]
        rows.append(_row("real (train split)", "—", [v for _, v, _ in measured], time.perf_counter() - t0))
        records.append({"model": "real (train split)", "per_seed": [
            {"seed": s, "metrics": [r.card_entry() for r in real], "sharpness": v["sharpness"],
             "judge": {k: v[k] for k in ("judge", "judge_min") if k in v}} for s, v, real in measured]})
    for name in _candidates(args.model):
        t0 = time.perf_counter()
        try:
            model = ganzoo.load(name, device=args.device)
            measured = [(s, *_measure(model, name, _with_seed(args, s), judge)) for s in _eval_seeds(args)]
        except GanzooError as err:
            skipped.append(f"{name}: {err}")
            print(f"skipped {name}: {err}", file=sys.stderr)
            continue
        _, report, values, _ = measured[0]  # the first seed's: the seed-runs table and the grids use it
        rows.append(_row(f"`{name}`", report.task, [v for _, _, v, _ in measured], time.perf_counter() - t0))
        record = {"model": name, "plugin": report.plugin, "task": report.task, "per_seed": [
            {"seed": s, "metrics": rep.card_metrics(), "timings": rep.timings, "judge": verdict}
            for s, rep, _, verdict in measured]}
        protocol = report.protocol
        if args.grids is not None:
            grids.append((f"`{name}`", _write_grid(model, Path(name).name, args.grids, args.seed)))
        if args.seed_runs is not None and report.task in ("unconditional", "reconstruction"):
            per_seed = [(_trained_seed(model), values)]
            record["seed_runs"] = []
            runs = _seed_runs(args.seed_runs, Path(name).name)
            for seed, folder in runs:
                rep, vals, verd = _measure(ganzoo.load(str(folder), device=args.device), f"./{folder}", args, judge)
                per_seed.append((seed, vals))
                record["seed_runs"].append({"seed": seed, "folder": str(folder), "metrics": rep.card_metrics(),
                                            "judge": verd})
            seeds = ", ".join("?" if s is None else str(s) for s, _ in per_seed)
            if runs:  # a model without extra seed runs has no spread to show
                spread.append([f"`{name}`", seeds] + [_mean_std([v[key] for _, v in per_seed], fmt)
                                                      if all(key in v for _, v in per_seed) else "—"
                                                      for key, _, fmt in SEED_COLUMNS])
        records.append(record)
    if len(rows) == (0 if args.no_baseline else 1):
        print("no digit model could be evaluated" + ("; " + "; ".join(skipped) if skipped else
              f" (none of {', '.join(DIGIT_MODELS)} is listed: pass --model PATH)"), file=sys.stderr)
        return 1

    digits = EXTRACTORS["digits"]
    env = (f"ganzoo {ganzoo.__version__}, torch {torch.__version__}, {platform.machine()} "
           f"{'cuda' if torch.cuda.is_available() and args.device != 'cpu' else 'cpu'}")
    command = (f"python benchmarks/compare_generation.py --n {args.n} --seed {args.seed}"
               + (f" --eval-seeds {args.eval_seeds}" if args.eval_seeds > 1 else "")
               + "".join(f" --model {m}" for m in args.model)
               + (f" --seed-runs {args.seed_runs.as_posix()}" if args.seed_runs is not None else ""))
    lines = [
        "# Generation comparison (digits)",
        "",
        _markdown(rows),
        "",
    ]
    if spread:
        lines += [f"Over training seeds (mean ± std; the bundled model and the runs `{args.seed_runs.as_posix()}/"
                  "<id>-seed<k>` trained by `scripts/train_digit_models.sh` with the same command and `--seed k`), "
                  "same protocol:", "",
                  _markdown(spread, ["model", "training seeds"] + [h for _, h, _ in SEED_COLUMNS]), ""]
    lines += [
        f"- Reference: `{args.data}` split `{args.split}` ({protocol.get('reference_count', '?')} real images, "
        f"fingerprint `{protocol.get('reference_fingerprint', '?')}`), read at each model's resolution.",
        (f"- Samples: {args.n} per model, seed {args.seed}; " if args.eval_seeds == 1 else
         f"- Samples: {args.n} per model and evaluation seed; every number is the mean ± std (n − 1) over the "
         f"evaluation seeds {', '.join(map(str, _eval_seeds(args)))} (other samples, KID subsets and IS splits "
         "each; the grids and the training-seed table use the first); ")
        + "class-conditional models get balanced labels (i mod 10); generated images are quantised to 8 bits like "
        "the real ones.",
        f"- Features: the shipped digit classifier (`digits`, sha256 `{digits.weights_sha256[:16]}…`, 128-d "
        "penultimate layer; its 10 logits give the classifier IS, coverage and label accuracy). These numbers are "
        "comparable with each other only — not with published MNIST or Inception scores.",
        "- KID: subsets of min(1000, N) × 100; precision/recall: k = 3; coverage: classes given ≥ 5 % of the "
        "samples; recon PSNR: auto-encoder/VAE reconstructions of the reference images.",
        "- Sharpness: each image's gradient energy per unit of contrast, Σ|∇x|² / Σ(x − x̄)² (`ganzoo eval "
        "--metrics sharpness`), mean over the samples ÷ mean over the reference: 1 = as sharp as real digits, "
        "< 1 blurrier, > 1 noisier or more speckled.",
    ]
    if judge is not None:
        info = judge.info
        lines.append(
            f"- Judge (`benchmarks/digit_judge.py`): {info['description']}; on the {info['test_images']} real test "
            f"digits it is {info['test_accuracy']:.1%} accurate and {info['test_confidence']:.3f} confident. "
            "`judge conf.`: its mean confidence (largest class probability) on the samples; `judge min class`: the "
            "smallest share of the samples it assigns to one digit (10 % when balanced); in the real row, the judge "
            "on the reference digits, which it never saw.")
    lines += [
        "- The first row scores N real training images as if they were samples: what a perfect generator gets "
        "at this N (FID's small-sample bias included).",
        f"- Regenerate: `{command}`",
        f"- Environment: {env}.",
    ]
    if skipped:
        lines += ["", "Skipped:", *[f"- {s}" for s in skipped]]
    text = "\n".join(lines) + "\n"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "generation.md").write_text(text, encoding="utf-8")
    (args.out / "generation.json").write_text(json.dumps({"data": args.data, "split": args.split, "n": args.n,
                                                          "seed": args.seed, "environment": env,
                                                          "judge": judge.info if judge is not None else None,
                                                          "models": records, "skipped": skipped}, indent=2) + "\n",
                                              encoding="utf-8")
    if args.readme is not None:
        _update_readme(args.readme, text, grids)
    print(text)
    print(f"wrote {args.out / 'generation.md'} and {args.out / 'generation.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
