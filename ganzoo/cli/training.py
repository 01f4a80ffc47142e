"""``ganzoo train``: train a plugin on your data; the run folder becomes a model folder."""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path
from typing import Any

import click

from ..errors import GanzooError
from .main import CONTEXT_SETTINGS

__all__ = ["train", "parse_sets", "read_config_file"]


def parse_sets(values: tuple[str, ...]) -> dict[str, Any]:
    """``("key=value", …)`` from repeated ``--set`` options → ``{key: parsed value}`` (numbers, bools, null, lists).

    Raises:
        click.BadParameter: an item has no ``=`` or an empty key.
    """
    from ..config import parse_value

    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected key=value, got {item!r}", param_hint="--set")
        out[key.strip()] = parse_value(value.strip())
    return out


def read_config_file(path: Path) -> dict[str, Any]:
    """Read a ``--config`` YAML/JSON file of options, flat or ``{model: …, trainer: …}``, into flat ``--set`` keys.

    Raises:
        ConfigError: the file cannot be read, is not valid YAML/JSON, or is not a mapping.
    """
    from ..errors import ConfigError

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"cannot read --config {path}: {err.strerror}") from err
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as err:
        kind = "JSON" if path.suffix.lower() == ".json" else "YAML"
        raise ConfigError(f"--config {path} is not valid {kind}: {err}") from err
    if not isinstance(data, dict):
        raise ConfigError(f"--config {path} must hold a mapping of options")
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if key in ("model", "trainer") and isinstance(value, dict):
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    return flat


class _TrainCommand(click.Command):
    """``train --help`` ends with every trainer option ``--set`` reaches (read from TrainerOptions, no torch)."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from ..config import describe
        from ..training.options import TrainerOptions

        rows = [(f"{f.name}={f.default!r}" if f.default is not None else f"{f.name}=None", f.help)
                for f in describe(TrainerOptions)]
        with formatter.section("Trainer options (--set KEY=VALUE or --set trainer.KEY=VALUE; shown with defaults)"):
            formatter.write_dl(rows)
        formatter.write_paragraph()
        formatter.write_text("Model options: the plugin's config fields, with types, defaults and help, are listed by "
                             "`ganzoo info PLUGIN` (set them with --set KEY=VALUE or --set model.KEY=VALUE).")
        super().format_epilog(ctx, formatter)


@click.command(cls=_TrainCommand, context_settings=CONTEXT_SETTINGS)
@click.argument("plugin")
@click.option("--data", required=True,
              help="dataset folder in the task's layout, or builtin:NAME (`ganzoo info PLUGIN` shows both)")
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help="run folder = the resulting model folder (created with its parents)")
@click.option("--max-steps", type=click.IntRange(min=1), show_default="plugin default",
              help="training steps (one step = d_steps D updates + one G update)")
@click.option("--epochs", type=click.FloatRange(min=0, min_open=True),
              help="passes over the data (instead of --max-steps)")
@click.option("--batch-size", type=click.IntRange(min=1), show_default="plugin default, else 64",
              help="images per step per process")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), show_default="the config's lr",
              help="learning rate of every optimiser")
@click.option("--seed", type=int, show_default="0", help="seed for weights, data order, augmentation and noise")
@click.option("--mixed-precision", type=click.Choice(["no", "fp16", "bf16"]), show_default="no",
              help="autocast precision")
@click.option("--compile", "compile_", is_flag=True, default=None, help="torch.compile the networks")
@click.option("--resume", is_flag=True, help="continue the run in --out from its latest checkpoint")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="a model config field or trainer option (repeatable; model.KEY / trainer.KEY to disambiguate; "
                   "the keys are listed below)")
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
              help="YAML/JSON file of options (flat, or {model: …, trainer: …}); --set wins over it")
@click.option("--tag", show_default="the --out folder's name", help="the model's tag in its card")
def train(plugin: str, data: str, out: Path, max_steps: int | None, epochs: float | None, batch_size: int | None,
          lr: float | None, seed: int | None, mixed_precision: str | None, compile_: bool | None, resume: bool,
          sets: tuple[str, ...], config_file: Path | None, tag: str | None) -> None:
    """Train PLUGIN on your data; --out becomes a model folder (load, sample, push it directly).

    \b
    Examples:
      ganzoo train dcgan --data builtin:digits --out runs/smoke --max-steps 100 --batch-size 32 \\
          --set image_size=32 --set channels=1 --set ngf=16 --set ndf=16
          a smoke run: about a minute on a 2-core CPU (the full recipes below take 20 min to hours there)
      ganzoo train dcgan --data data/digits --out runs/dcgan-digits --max-steps 1500 --batch-size 128
          the recipe of the bundled dcgan-digits (see its card: ganzoo info dcgan-digits)
      ganzoo train pix2pix --data data/facades --out runs/facades --config facades.yaml --set lr=1e-4
      ganzoo train dcgan --data data/digits --out runs/dcgan-digits --max-steps 3000 --resume
          continue a run (stopped by Ctrl-C, or to train longer)

    \b
    Multi-GPU / multi-node: the same command under a launcher, e.g.
      torchrun --nproc-per-node 4 -m ganzoo.cli train dcgan --data DIR --out runs/x --max-steps 10000
      accelerate launch -m ganzoo.cli train …
    --batch-size is per process; the card records the global batch.
    """
    from ..training.cli_support import run_training

    overrides = read_config_file(config_file) if config_file else {}
    overrides.update(parse_sets(sets))
    # --out and its missing parents are created by the trainer's run folder (removed again if the run cannot start)
    command = "ganzoo " + shlex.join(sys.argv[1:]) if sys.argv[1:2] == ["train"] else None
    world, local = int(os.environ.get("WORLD_SIZE", "1") or 1), int(os.environ.get("LOCAL_WORLD_SIZE", "1") or 1)
    if command and world > 1:  # the card records the launcher too
        command = (f"torchrun --nnodes {max(1, world // max(1, local))} --nproc-per-node {local} -m ganzoo.cli "
                   + command[len("ganzoo "):])
    try:
        trainer = run_training(
            plugin, data, out, overrides=overrides,
            flags={"max_steps": max_steps, "epochs": epochs, "batch_size": batch_size, "seed": seed,
                   "mixed_precision": mixed_precision, "compile": compile_},
            lr=lr, resume=resume, tag=tag, command=command,
        )
    except GanzooError:
        if int(os.environ.get("RANK", "0") or 0) != 0:  # under torchrun every rank fails alike: rank 0 says it once
            sys.exit(1)
        raise
    if trainer.is_main:
        if trainer.stopped_by:
            click.echo(f"Stopped by {trainer.stopped_by} at step {trainer.step}: checkpoint written to "
                       f"{out}/checkpoints; continue with the same command plus --resume")
            sys.exit(130 if trainer.stopped_by == "SIGINT" else 0)
        click.echo(f"Trained {plugin} for {trainer.step} steps: model folder {out} "
                   f"(ganzoo sample {out} -o grid.png; ganzoo push {out} ORG/REPO)")
