"""``ganzoo sample``: draw samples (grids, interpolations, class rows, rejection sampling) or run a model on
``--input`` files; the task decides what is written (PNG grid, translated images, WAV, GIF)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .main import CONTEXT_SETTINGS, ensure_parent

__all__ = ["sample"]


def _parse_condition(text: str | None) -> Any:
    if text is None:
        return None
    import torch

    try:
        values = [int(v) for v in text.replace(" ", "").split(",") if v != ""]
    except ValueError:
        raise click.BadParameter(f"expected class labels like '3' or '0,1,2', got {text!r}", param_hint="--condition")
    if not values:
        raise click.BadParameter("give at least one class label, e.g. '3' or '0,1,2'", param_hint="--condition")
    return torch.tensor(values, dtype=torch.long)


def _expand_condition(cond: Any, n: int) -> Any:
    if cond is not None and cond.numel() == 1:
        return cond.repeat(n)
    return cond


def _reads_inputs(task: Any) -> bool:
    """Whether the task's models run on ``--input`` files (the task implements :meth:`Task.sample_inputs`)."""
    from ..tasks import Task

    return type(task).sample_inputs is not Task.sample_inputs


def _input_tasks(task: Any) -> str:
    """The tasks whose models transform inputs of this task's modality, as `ganzoo list --task …` hints."""
    from ..plugin import TASKS

    names = [t.name for t in TASKS.values() if t.condition_required and t.modality == task.modality
             and _reads_inputs(t)]
    return ", ".join(f"`ganzoo list --task {n}`" for n in names) or "`ganzoo list`"


def _label_tasks() -> str:
    from ..plugin import TASKS

    names = [t.name for t in TASKS.values() if t.conditioning == "label"]
    return ", ".join(f"`ganzoo list --task {n}`" for n in names)


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("name")
@click.option("-n", "--num", "n", type=click.IntRange(min=1), default=64, show_default=True,
              help="number of samples (rows with --interpolate)")
@click.option("--seed", type=int, default=0, show_default=True, help="noise seed (same seed, same samples)")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=True, path_type=Path), default=None,
              show_default="samples.png, .wav or .gif by task",
              help="output file (grid .png/.jpg, .wav, .gif: the task decides) or folder (for --input folders); "
                   "missing parent folders are created")
@click.option("--input", "input_path", type=click.Path(path_type=Path),
              help="file or folder to run the model on (translators, enhancers, video predictors)")
@click.option("--play", metavar="ACTIONS", help="roll an action-conditioned video model (gamegan) out under "
              "ACTIONS, e.g. LLRRN (from --input's last frames, else a start state chosen by --seed)")
@click.option("--direction", type=click.Choice(["AtoB", "BtoA"]), help="translation direction (two-way models)")
@click.option("--domain", help="target domain of a multi-domain translator: a name, an index, or 'all' (a row each)")
@click.option("--condition", help="class labels: '3' (all n), '0,1,2,…' (one each), or 'all' (a row per class)")
@click.option("--interpolate", is_flag=True, help="rows of latent interpolations (slerp) instead of samples; with "
              "--input A.png --input-b B.png: the path between an A and a B image in a shared latent space (lerp)")
@click.option("--input-b", "input_b", type=click.Path(path_type=Path),
              help="domain B image for --interpolate --input A.png (shared-latent translators: unit, xgan)")
@click.option("--steps", type=click.IntRange(min=2), default=8, show_default=True, help="images per interpolation row")
@click.option("--lerp", is_flag=True, help="linear instead of spherical interpolation")
@click.option("--truncation", type=click.FloatRange(min=0, min_open=True), help="truncate the latent to |z| ≤ PSI")
@click.option("--drs", is_flag=True, help="discriminator rejection sampling (needs the model's discriminator)")
@click.option("--nrow", type=click.IntRange(min=1), show_default="≈ √n", help="images per grid row")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True,
              help="images per forward pass (lower it if memory runs out)")
@click.option("--max-side", type=click.IntRange(min=8), show_default="no downscaling",
              help="translators: downscale --input images whose longer side exceeds this many pixels (too large "
                   "inputs are tiled when the model allows it, else refused)")
@click.option("--device", default=None, show_default="cuda when available, else cpu", help="cpu, cuda, cuda:1 …")
def sample(name: str, n: int, seed: int, output: Path | None, input_path: Path | None, input_b: Path | None,
           play: str | None, direction: str | None,
           domain: str | None, condition: str | None, interpolate: bool, steps: int, lerp: bool,
           truncation: float | None, drs: bool, nrow: int | None, batch_size: int, max_side: int | None,
           device: str | None) -> None:
    """Sample a model into a grid (or run it on --input) and write the result.

    NAME is a pretrained model id (dcgan-digits), hf-hub:org/repo[@rev], or a model folder (runs/x, ./x).

    \b
    Examples (bundled models: no download):
      ganzoo sample dcgan-digits -n 64 -o grid.png              a fixed-seed grid
      ganzoo sample dcgan-digits --interpolate -n 4 -o i.png    4 rows of slerp interpolations
      ganzoo sample cgan-digits --condition all -o c.png        a row per class
      ganzoo sample cgan-digits --condition 7 -n 16 -o 7.png    sixteen 7s
      ganzoo sample dcgan-digits --drs -n 64 -o drs.png         discriminator rejection sampling
      ganzoo sample vae-digits -n 64 -o vae.png                 decode codes drawn from the prior
      ganzoo sample cyclegan-horse2zebra --input photos/ -o out/    a folder → a folder (weights fetched once)
      ganzoo sample runs/my-cyclegan --direction BtoA --input e.png -o out/a.png
      ganzoo sample runs/unit --interpolate --input a.png --input-b b.png -o path.png
                             a unit/xgan model: an A image → a B image through the shared latent
      ganzoo sample runs/gamegan-paddle --play LLLLRRRR -o play.gif   a game played by the model
    """
    from ..errors import UsageError

    if drs:
        clash = [flag for flag, on in (("--input", input_path is not None), ("--interpolate", interpolate),
                                       ("--truncation", truncation is not None),
                                       ("--condition all", condition == "all")) if on]
        if clash:
            raise UsageError(f"--drs draws its own samples and cannot be combined with {', '.join(clash)}: drop one")
    if input_path is not None and not input_path.exists():
        raise UsageError(f"No such input: {input_path}")
    shared_path = interpolate and input_path is not None
    if input_b is not None and not shared_path:
        raise UsageError("--input-b is the B image of a cross-domain interpolation: use it with --interpolate "
                         "--input A_IMAGE")
    if shared_path and direction:
        raise UsageError("--interpolate --input decodes the path into both domains (or --domain A|B): drop --direction")
    import torch

    import ganzoo

    from .. import explore

    dev = device or ("cuda" if torch.cuda.is_available() else "cpu")
    options: dict[str, Any] = {}
    if direction:
        options["direction"] = direction
    if domain is not None:
        options["domain"] = int(domain) if domain.lstrip("-").isdigit() else domain
    model = ganzoo.load(name, device=dev, components="all" if drs else None,
                        options={k: v for k, v in options.items() if k == "direction"} or None)
    task = model.task
    if output is None:
        output = Path("samples" + task.output_suffixes[0])
    if play is not None:
        click.echo(f"Wrote {task.play(model, play, output, seed=seed, src=input_path)}")
        return
    if shared_path:
        from ..explore_shared import write_interpolation

        into = ("A", "B") if domain is None else (domain,)
        written = write_interpolation(model, input_path, input_b, output, steps=steps, into=into)
        click.echo(f"Wrote {written} (the path from {input_path.name} to {input_b.name} in {name}'s shared latent "
                   f"space, {steps} steps, decoded into {' and '.join(into)})")
        return
    if input_path is not None:
        if not _reads_inputs(task):
            raise UsageError(f"{name} is {task.name}: it draws samples from noise and reads no --input. To run a "
                             f"model on your {task.modality}s, use one that transforms inputs: {_input_tasks(task)}")
        if condition is not None or interpolate or truncation is not None:
            used = [f for f, on in (("--condition", condition is not None), ("--interpolate", interpolate),
                                    ("--truncation", truncation is not None)) if on]
            raise UsageError(f"{', '.join(used)} draws from noise and cannot be combined with --input: drop one")
        if output.suffix:  # a file: the task must be able to write it
            task.check_output_path(output)
            ensure_parent(output)
        if max_side is not None:
            if task.modality != "image" or options.get("domain") == "all":
                raise UsageError(f"--max-side downscales input images for translation; it does not apply to "
                                 f"{'--domain all grids' if task.modality == 'image' else task.name + ' inputs'}")
            options["max_side"] = max_side
        written = task.sample_inputs(model, input_path, output, batch_size=batch_size, seed=seed, **options)
        click.echo(f"Wrote {written}")
        return
    if task.condition_required:
        raise UsageError(f"{name} is {task.name}: it transforms inputs; give --input PATH ({task.conditioning})")
    task.check_output_path(output)
    if condition is not None and task.conditioning != "label":
        raise UsageError(f"{name} is {task.name}: it takes no --condition (--condition takes class labels of a "
                         f"class-conditional model: {_label_tasks()})")
    if max_side is not None:
        raise UsageError(f"--max-side applies to --input images; {name} is sampled from noise here")
    if options:
        raise UsageError(f"{', '.join('--' + k for k in options)} applies to translators; {name} is {task.name}")
    ensure_parent(output)
    what = f"{n} sample{'s' if n != 1 else ''}"
    if interpolate:
        cond = _parse_condition(condition) if condition not in (None, "all") else None
        images = explore.interpolate(model, rows=n, steps=steps, seed=seed, method="lerp" if lerp else "slerp",
                                     condition=cond)
        nrow, what = steps, f"{n} interpolation rows × {steps}"
    elif condition == "all":
        images = explore.condition_sweep(model, per_class=min(n, 16) if n != 64 else 8, seed=seed)
        nrow = nrow or (min(n, 16) if n != 64 else 8)
        what = "a row per class"
    elif truncation is not None:
        cond = _expand_condition(_parse_condition(condition), n)
        images = explore.sample_truncated(model, n if cond is None else len(cond), truncation, seed=seed,
                                          condition=cond)
        what += f" truncated at {truncation}"
    elif drs:
        from ..drs import rejection_sample

        cond = _expand_condition(_parse_condition(condition), n)
        result = rejection_sample(model, n if cond is None else len(cond), condition=cond, seed=seed,
                                  batch_size=batch_size)
        images = result.samples
        what = f"{images.shape[0]} sample{'s' if images.shape[0] != 1 else ''}"
        what += (f" by discriminator rejection sampling (acceptance {result.acceptance_rate:.1%}: "
                 f"{result.accepted} of {result.drawn} proposals)")
    else:
        cond = _expand_condition(_parse_condition(condition), n)
        n = n if cond is None else len(cond)
        extra = {"batch_size": batch_size} if "batch_size" in model.impl.sample_options() else {}
        images = model.sample(n, condition=cond, seed=seed, **extra)
    path = task.write(images, output, model.config, nrow=nrow)
    click.echo(f"Wrote {path} ({what} from {name}, seed {seed})")
