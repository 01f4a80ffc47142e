"""``ganzoo diagnose``: does a two-way translator hide its source in the intermediate image? (Chu et al. 2017)

Registered lazily as ``diagnose`` (``LAZY_COMMANDS`` in ``ganzoo/cli/__init__.py``); the measurement itself is
:func:`ganzoo.diagnose.diagnose`.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

import click

__all__ = ["diagnose"]


def _read_images(paths: list[Path], channels: int, size: tuple[int, int] | None) -> Any:
    import torch

    from ..data.images import open_image, to_tensor
    from ..errors import DataError

    out = []
    for p in paths:
        img = to_tensor(open_image(p, channels))
        if size is not None and tuple(img.shape[-2:]) != size:
            raise DataError(f"{p.name} is {img.shape[-1]}×{img.shape[-2]} px but the first image is "
                            f"{size[1]}×{size[0]}: give images of one size")
        size = tuple(img.shape[-2:])
        out.append(img)
    return torch.stack(out)


@click.command("diagnose")
@click.argument("name")
@click.option("--input", "input_path", required=True, type=click.Path(path_type=Path),
              help="source-domain image file or folder (images of one size)")
@click.option("-o", "--output", "output", required=True, type=click.Path(path_type=Path),
              help="a folder (gets diagnosis.png and diagnosis.json) or a .png path (the JSON goes beside it)")
@click.option("--reference", type=click.Path(path_type=Path),
              help="folder of the inputs' true target-domain images, by file name (the non-hiding reference)")
@click.option("--direction", type=click.Choice(["AtoB", "BtoA"]), help="first leg of an AtoB/BtoA model [AtoB]")
@click.option("--domain", help="multi-domain models: the domain to go through (name or index)")
@click.option("--source-domain", help="multi-domain models: the inputs' own domain (name or index)")
@click.option("--limit", type=click.IntRange(min=1), help="use the first N images (in name order)")
@click.option("--rows", type=click.IntRange(min=1), default=8, show_default=True, help="images shown in the panel")
@click.option("--amplify", type=click.FloatRange(min=1), default=10.0, show_default=True,
              help="gain of the difference images")
@click.option("--seed", type=int, default=0, show_default=True, help="seed of the noise perturbations")
@click.option("--device", default=None, help="cpu, cuda, cuda:1 … (default: cuda when available)")
def diagnose(name: str, input_path: Path, output: Path, reference: Path | None, direction: str | None,
             domain: str | None, source_domain: str | None, limit: int | None, rows: int, amplify: float, seed: int,
             device: str | None) -> None:
    """Measure whether NAME's round trip depends on information hidden in the intermediate image.

    \b
    ganzoo diagnose runs/cyclegan-emoji-default2dark --input data/emoji-default2dark/testA \\
        --reference data/emoji-default2dark/testB -o diag/
    ganzoo diagnose runs/stargan-digits-fonts --input digits/ --source-domain sans --domain hand -o d.png

    It translates each input x to y = G(x) and back, unperturbed and after invisible perturbations of y (noise
    of 1–4 grey levels, JPEG, a slight blur), and compares the round trip's error with a non-hiding model's
    (F of the true target images given by --reference; else the round trip after noise). Writes a PNG panel
    (input, y, y's amplified high-frequency residue, the round trips, their amplified difference) and a JSON
    report. Two-way translators only (CycleGAN-style, or multi-domain models).
    """
    import torch

    import ganzoo

    from ..data.images import list_images
    from ..diagnose import diagnose as run_diagnosis
    from ..diagnose import round_trip, write_panel, write_report
    from ..errors import DataError, UsageError

    if output.suffix.lower() == ".png":
        panel_path, report_path = output, output.with_suffix(".json")
        parent = output.parent if str(output.parent) else Path(".")
        if not parent.is_dir():
            raise UsageError(f"cannot write {output}: the folder {parent} does not exist (create it first)")
    elif output.suffix:
        raise UsageError(f"-o {output}: give a folder or a .png path (the JSON report goes beside it)")
    else:
        panel_path, report_path = output / "diagnosis.png", output / "diagnosis.json"
    if not input_path.exists():
        raise UsageError(f"No such input: {input_path}")
    files = [input_path] if input_path.is_file() else list_images(input_path)[0]
    if not files:
        raise DataError(f"{input_path} holds no images")
    files = sorted(files)[:limit] if limit else sorted(files)
    dev = device or ("cuda" if torch.cuda.is_available() else "cpu")
    model = ganzoo.load(name, device=dev)
    trip = round_trip(model, direction=direction, domain=domain, source_domain=source_domain)
    x = _read_images(files, trip.source_channels, None)
    ref = None
    if reference is not None:
        missing = [f.name for f in files if not (reference / f.name).is_file()]
        if not reference.is_dir() or missing:
            raise UsageError(f"--reference {reference} must hold an image named like each input; missing: "
                             f"{', '.join(missing[:5]) or 'the folder'}")
        y_channels = int(trip.forward(x[:1]).shape[1])
        ref = _read_images([reference / f.name for f in files], y_channels, tuple(x.shape[-2:]))
    diag = run_diagnosis(model, x, reference=ref, direction=direction, domain=domain, source_domain=source_domain,
                         amplify=amplify, seed=seed)
    if output.suffix.lower() != ".png":
        output.mkdir(parents=True, exist_ok=True)
    write_panel(diag, panel_path, rows=rows)
    command = "ganzoo " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["diagnose"] else None
    write_report(diag, report_path, inputs=str(input_path), reference=str(reference) if reference else None,
                 command=command)
    click.echo(f"{diag.model}: {diag.round_trip}, {diag.n_images} image(s)")
    header = ("perturbation", "intermediate PSNR", "L1", "PSNR", "× clean L1", "gain")
    widths = (16, 18, 8, 7, 11, 6)
    click.echo("  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip())
    for r in diag.rows:
        cells = (r["perturbation"], "-" if r["intermediate_psnr_db"] is None else f"{r['intermediate_psnr_db']:.1f} dB",
                 f"{r['l1']:.4f}", f"{r['psnr_db']:.2f}", f"{r['l1_ratio']:.2f}",
                 "-" if r["gain"] is None else f"{r['gain']:.2f}")
        click.echo("  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip())
    ref_row = diag.reference or {}
    click.echo(f"non-hiding reference ({ref_row.get('kind')}): L1 {ref_row.get('l1', float('nan')):.4f}, "
               f"PSNR {ref_row.get('psnr_db', float('nan')):.2f}")
    click.echo(diag.verdict)
    click.echo(f"Wrote {panel_path} and {report_path}")
