"""``ganzoo convert``: the original authors' checkpoints → ganzoo model folders."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("plugin")
@click.argument("original", type=click.Path(path_type=Path))
@click.argument("out_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option("--tag", help="the model's tag in its card (default: from the checkpoint's name)")
@click.option("--direction", type=click.Choice(["AtoB", "BtoA"]), help="translation direction, for translation plugins")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="other converter options (repeatable)")
def convert(plugin: str, original: Path, out_dir: Path, tag: str | None, direction: str | None,
            sets: tuple[str, ...]) -> None:
    """Convert an original checkpoint (ORIGINAL, a .pth) into a ganzoo model folder OUT_DIR.

    The file is read with torch.load(weights_only=True): tensors only, nothing executed. The folder gets a card
    recording the source file's sha256; load it with ganzoo.load(OUT_DIR), publish it with ganzoo push.
    """
    from ..convert import convert_checkpoint
    from . import _parse_sets

    options = _parse_sets(sets)
    if direction is not None:
        options["direction"] = direction
    folder = convert_checkpoint(plugin, original, out_dir, tag=tag, **options)
    click.echo(f"Wrote {folder} (ganzoo sample {folder} … ; ganzoo push {folder} ORG/REPO --pin-card cards/<id>)")
