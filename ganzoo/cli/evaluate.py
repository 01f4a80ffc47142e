"""``ganzoo eval``: measure a model against real data (FID, KID, IS-style, precision/recall, accuracy, PSNR/SSIM),
every number with its protocol, beside the task's trivial baselines. Registered lazily as ``eval``
(``LAZY_COMMANDS`` in ``ganzoo/cli/__init__.py``); this module imports neither torch nor ``ganzoo.metrics``
until the command runs."""

from __future__ import annotations

import json
from typing import Any

import click

__all__ = ["evaluate"]

_METRICS = "kid, fid, pr, is, coverage, accuracy, kid_per_class, psnr, ssim, l1"


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.4g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3e}"


def _table(report: Any) -> list[str]:
    """The model's results and, in further columns, each baseline's value of the same metric."""
    header = ["metric", "value", "± std"] + [b.name for b in report.baselines]
    rows = []
    for r in report.results:
        row = [r.name, _fmt(r.value), _fmt(r.std)]
        for b in report.baselines:
            twin = next((x for x in b.results if x.name == r.name), None)
            row.append(_fmt(twin.value) if twin is not None else "—")
        rows.append(row)
    widths = [max(len(x) for x in col) for col in zip(header, *rows)]
    return ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in [header, *rows]]


@click.command("eval")
@click.argument("name")
@click.option("--data", required=True, metavar="DIR|builtin:NAME",
              help="dataset folder in the task's layout (its <split>/ sub-folder when present), or a built-in set: "
                   "builtin:digits (image generation), builtin:digit-edges (paired translation), builtin:digit-bold "
                   "(unpaired translation)")
@click.option("--split", default="test", show_default=True,
              help="split of the reference and of the translated inputs (a folder's <split>/ sub-folder, CycleGAN's "
                   "<split>A/ and <split>B/, or a built-in set's train/test split)")
@click.option("--metrics", metavar="LIST", show_default="the task's, where they can be computed",
              help=f"comma-separated metric names: {_METRICS}")
@click.option("-n", "--num", "n", type=click.IntRange(min=1),
              show_default="the reference count, at most 10,000; every test input for translators",
              help="images to generate (or inputs to translate)")
@click.option("--n", "n_alias", type=click.IntRange(min=1), hidden=True)  # the old spelling of -n/--num
@click.option("--n-real", type=click.IntRange(min=1), show_default="all",
              help="use a fixed random subset of this many reference images")
@click.option("--extractor", show_default="digits for 1-channel models of ≤ 32 px, else inception when installed, "
                                         "else effnet",
              help="feature network: digits, inception or effnet")
@click.option("--seed", type=int, default=0, show_default=True, help="sampling seed (also KID subsets, IS splits)")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True,
              help="images per generation and feature-extraction batch")
@click.option("--kid-subset-size", type=click.IntRange(min=2), show_default="min(1000, both counts)",
              help="images per KID subset")
@click.option("--baselines/--no-baselines", default=True, show_default=True,
              help="also measure the task's trivial baselines by the same protocol (translation: identity and a "
                   "per-channel colour transfer)")
@click.option("--device", show_default="cuda when available", help="cpu, cuda, cuda:1 …")
@click.option("--no-cache", is_flag=True, help="recompute the real-data features (and do not store them)")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
@click.option("--write-card", is_flag=True, help="write the numbers and their protocols into the model folder's card")
def evaluate(name: str, data: str, split: str, metrics: str | None, n: int | None, n_alias: int | None,
             n_real: int | None, extractor: str | None, seed: int, batch_size: int, kid_subset_size: int | None,
             baselines: bool, device: str | None, no_cache: bool, as_json: bool, write_card: bool) -> None:
    """Evaluate NAME (a model id, hf-hub:org/repo, or a model folder) against the real data of --data.

    \b
    ganzoo eval dcgan-digits --data builtin:digits                KID/FID/PR/IS/coverage, digit features
    ganzoo eval dcgan-digits --data data/digits -n 500             the OpenCV digits (scripts/fetch_digits.py)
    ganzoo eval cgan-digits --data builtin:digits --metrics accuracy,kid
    ganzoo eval runs/x --data data/faces --extractor inception -n 5000
    ganzoo eval runs/pix2pix-edges --data builtin:digit-edges      PSNR/SSIM/L1/KID/FID beside the baselines
    ganzoo eval runs/cyclegan-bold --data builtin:digit-bold --json
    ganzoo eval runs/x --data data/digits --write-card             record the numbers in the card

    Translators are measured beside two trivial baselines by the same protocol: identity (output = input) and a
    per-channel colour transfer to the target domain's training statistics. Real-data features are cached
    ($GANZOO_CACHE/stats or ~/.cache/ganzoo/stats), so a second run only samples. FID is biased upwards below
    ~2,000 images per set: compare FIDs at equal N only, prefer KID for small sets.
    """
    from pathlib import Path

    from ..errors import UsageError
    from ..metrics import evaluate as run_eval
    from ..metrics import write_card_metrics

    if n is not None and n_alias is not None and n != n_alias:
        raise UsageError(f"-n {n} and --n {n_alias} disagree; give one")
    n = n if n is not None else n_alias
    folder: Path | None = None
    if write_card:
        from ..names import resolve

        res = resolve(name)
        if res.kind != "local":
            raise UsageError(f"--write-card writes into a local model folder; {name} is a {res.kind} model. Evaluate "
                             "a folder (e.g. one written by `ganzoo train --out DIR`), or drop --write-card")
        folder = res.path
    report = run_eval(name, data, split=split, metrics=metrics, n=n, extractor=extractor, seed=seed,
                      batch_size=batch_size, device=device, n_real=n_real, kid_subset_size=kid_subset_size,
                      use_cache=not no_cache, baselines=baselines)
    written = write_card_metrics(folder, report) if folder is not None else None
    if as_json:
        out: dict[str, Any] = report.to_dict()
        if written is not None:
            out["card"] = str(written)
        click.echo(json.dumps(out, indent=2))
        return
    p = report.protocol
    ref = f"{p['reference']}" + (f" split {p['split']}" if p.get("split") else " (all of it)")
    click.echo(f"{report.model} ({report.plugin}, {report.task}): {p['n_generated']} generated vs "
               f"{p['reference_count']} real from {ref}; extractor {p['extractor'] or '-'}, seed {p['seed']}")
    for line in _table(report):
        click.echo(line)
    for r in report.results:
        for key in ("per_label", "per_class"):
            if key in r.details:
                click.echo(f"{r.name} {key.replace('_', ' ')}: "
                           + ", ".join(f"{k}={_fmt(v)}" for k, v in r.details[key].items()))
    for b in report.baselines:
        fit = b.results[0].protocol.get("baseline_fit") if b.results else None
        click.echo(f"baseline {b.description}" + (f" ({fit})" if fit else ""))
    t = report.timings
    cache = "hit" if report.cache.get("hit") else ("stored" if report.cache.get("path") else "off")
    click.echo(f"time {t['total']:.1f} s (load {t['load']:.1f}, real features {t['real']:.1f} [cache {cache}], "
               f"sampling+features {t['generate']:.1f}, metrics {t['metrics']:.1f}, baselines {t['baselines']:.1f})")
    if p.get("command"):
        click.echo(f"reproduce: {p['command']}")
    if written is not None:
        click.echo(f"Wrote the metrics and their protocols into {written}")
