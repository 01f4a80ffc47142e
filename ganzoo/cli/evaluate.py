"""``ganzoo eval``: measure a model against real data (FID, KID, IS-style, precision/recall, accuracy, PSNR/SSIM),
every number with its protocol. Registered lazily as ``eval`` (``LAZY_COMMANDS`` in ``ganzoo/cli/__init__.py``)."""

from __future__ import annotations

import json
from typing import Any

import click

__all__ = ["evaluate"]


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.4g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3e}"


@click.command("eval")
@click.argument("name")
@click.option("--data", required=True, help="dataset folder in the task's format (a <split>/ sub-folder is used when "
                                            "present), or builtin:digits")
@click.option("--split", default="test", show_default=True, help="the reference split folder")
@click.option("--metrics", help="comma-separated: kid,fid,pr,is,coverage,accuracy,kid_per_class,psnr,ssim,l1 "
                                "[per task]")
@click.option("-n", "--n", "n", type=click.IntRange(min=1), help="images to generate [the reference count, ≤ 10,000]")
@click.option("--n-real", type=click.IntRange(min=1), help="use a fixed random subset of the reference images")
@click.option("--extractor", help="feature network: digits, inception, effnet [digits for 1-channel ≤ 32 px models, "
                                  "else inception when installed, else effnet]")
@click.option("--seed", type=int, default=0, show_default=True, help="sampling seed (also KID subsets, IS splits)")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--kid-subset-size", type=click.IntRange(min=2), help="KID subset size [min(1000, counts)]")
@click.option("--device", help="cpu, cuda, cuda:1 … [cuda when available]")
@click.option("--no-cache", is_flag=True, help="recompute the real-data features (and do not store them)")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
@click.option("--write-card", is_flag=True, help="write the numbers and their protocols into the model folder's card")
def evaluate(name: str, data: str, split: str, metrics: str | None, n: int | None, n_real: int | None,
             extractor: str | None, seed: int, batch_size: int, kid_subset_size: int | None, device: str | None,
             no_cache: bool, as_json: bool, write_card: bool) -> None:
    """Evaluate NAME (a model id, hf-hub:org/repo, or a model folder) against the real images of --data.

    \b
    ganzoo eval runs/dcgan-digits --data data/digits                 KID/FID/PR/IS/coverage, digit features
    ganzoo eval runs/x --data data/faces --extractor inception --n 5000
    ganzoo eval runs/cgan --data data/digits --metrics accuracy,kid
    ganzoo eval runs/x --data data/digits --write-card               record the numbers in the card

    Real-data features are cached ($GANZOO_CACHE/stats or ~/.cache/ganzoo/stats), so a second run only samples.
    FID is biased upwards below ~2,000 images per set: compare FIDs at equal N only, prefer KID for small sets.
    """
    from pathlib import Path

    from ..errors import UsageError
    from ..metrics.evaluate import evaluate as run_eval
    from ..metrics.evaluate import write_card_metrics

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
                      use_cache=not no_cache)
    written = write_card_metrics(folder, report) if folder is not None else None
    if as_json:
        out: dict[str, Any] = report.to_dict()
        if written is not None:
            out["card"] = str(written)
        click.echo(json.dumps(out, indent=2))
        return
    p = report.protocol
    ref = f"{p['reference']}" + (f" split {p['split']}" if p.get("split") else "")
    click.echo(f"{report.model} ({report.plugin}, {report.task}): {p['n_generated']} generated vs "
               f"{p['reference_count']} real from {ref}; extractor {p['extractor'] or '-'}, seed {p['seed']}")
    rows = [[r.name, _fmt(r.value), _fmt(r.std)] for r in report.results]
    widths = [max(len(x) for x in col) for col in zip(["metric", "value", "± std"], *rows)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(["metric", "value", "± std"], widths)).rstrip())
    for row in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    for r in report.results:
        for key in ("per_label", "per_class"):
            if key in r.details:
                click.echo(f"{r.name} {key.replace('_', ' ')}: "
                           + ", ".join(f"{k}={_fmt(v)}" for k, v in r.details[key].items()))
    t = report.timings
    cache = "hit" if report.cache.get("hit") else ("stored" if report.cache.get("path") else "off")
    click.echo(f"time {t['total']:.1f} s (load {t['load']:.1f}, real features {t['real']:.1f} [cache {cache}], "
               f"sampling+features {t['generate']:.1f}, metrics {t['metrics']:.1f})")
    if p.get("command"):
        click.echo(f"reproduce: {p['command']}")
    if written is not None:
        click.echo(f"Wrote the metrics and their protocols into {written}")
