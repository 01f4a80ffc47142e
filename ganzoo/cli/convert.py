"""``ganzoo convert``: the original authors' checkpoints → ganzoo model folders."""

from __future__ import annotations

from pathlib import Path

import click

from .main import CONTEXT_SETTINGS, ensure_parent

__all__ = ["convert"]


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("plugin")
@click.argument("original", type=click.Path(path_type=Path))
@click.argument("out_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option("--tag", show_default="from the checkpoint's name", help="the model's tag in its card")
@click.option("--direction", type=click.Choice(["AtoB", "BtoA"]), help="translation direction, for translation plugins")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="other converter options (repeatable)")
def convert(plugin: str, original: Path, out_dir: Path, tag: str | None, direction: str | None,
            sets: tuple[str, ...]) -> None:
    """Convert an original checkpoint (ORIGINAL, a .pth) into a ganzoo model folder OUT_DIR.

    The file is read with torch.load(weights_only=True): tensors only, nothing executed. The folder gets a card
    recording the source file's sha256; load it with ganzoo.load(OUT_DIR), publish it with ganzoo push. Missing
    parent folders of OUT_DIR are created.

    \b
    Examples:
      ganzoo convert cyclegan horse2zebra.pth out/cyclegan-horse2zebra
      ganzoo convert pix2pix facades_label2photo.pth out/p2p-facades --direction BtoA
      ganzoo convert cyclegan horse2zebra.pth out/h2z --set reverse=zebra2horse.pth   both directions in one folder
    """
    from ..convert import convert_checkpoint
    from ..errors import UsageError
    from .training import parse_sets

    options = parse_sets(sets)
    if direction is not None:
        options["direction"] = direction
    if not original.is_file():
        raise UsageError(f"No such checkpoint: {original}")
    folder = convert_checkpoint(plugin, original, ensure_parent(out_dir, option="OUT_DIR"), tag=tag, **options)
    click.echo(f"Wrote {folder} (ganzoo sample {folder} … ; ganzoo push {folder} ORG/REPO --pin-card cards/<id>)")
