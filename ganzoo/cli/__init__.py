"""The ``ganzoo`` command line: a thin click shell over the library.

Torch is imported inside the commands that need it, so ``ganzoo list`` and ``ganzoo --help`` stay instant.
Known errors print one line (``Error: …``) and exit with status 1; ``GANZOO_DEBUG=1`` shows the traceback.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import sys
from pathlib import Path
from typing import Any

import click

from .. import __version__
from ..errors import GanzooError
from ..plugin import TASKS

__all__ = ["cli", "main"]

_DEBUG_HINT = "set GANZOO_DEBUG=1 for the full traceback"


def _debug() -> bool:
    return os.environ.get("GANZOO_DEBUG", "") not in ("", "0", "false", "False")


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        return msg if record.levelno < logging.WARNING else f"{record.levelname.capitalize()}: {msg}"


def _setup_logging() -> None:
    """ganzoo's own log records go to stderr, one line each (warnings prefixed); other libraries stay quiet."""
    log = logging.getLogger("ganzoo")
    if not any(getattr(h, "_ganzoo", False) for h in log.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(_Formatter())
        handler._ganzoo = True  # type: ignore[attr-defined]
        log.addHandler(handler)
        log.setLevel(logging.DEBUG if _debug() else logging.INFO)
        log.propagate = False


#: Commands that live in their own modules, imported on first use (click's LazyGroup recipe).
LAZY_COMMANDS = {
    "convert": "ganzoo.cli.convert:convert",
    "eval": "ganzoo.cli.evaluate:evaluate",
    "export": "ganzoo.cli.export:export",
}


class GanzooGroup(click.Group):
    """A click group that turns ganzoo's errors into one-line messages and loads some commands lazily."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        import importlib.util

        lazy = [n for n, t in LAZY_COMMANDS.items() if importlib.util.find_spec(t.split(":")[0]) is not None]
        return sorted(set(super().list_commands(ctx)) | set(lazy))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in LAZY_COMMANDS and name not in self.commands:
            import importlib

            module, _, attr = LAZY_COMMANDS[name].partition(":")
            try:
                cmd = getattr(importlib.import_module(module), attr)
            except ModuleNotFoundError:
                return None
            if not isinstance(cmd, click.Command):
                raise ValueError(f"{LAZY_COMMANDS[name]} is not a click command")
            self.add_command(cmd, name)
        return super().get_command(ctx, name)

    def main(self, *args: Any, **kwargs: Any) -> Any:  # noqa: D401
        _setup_logging()
        try:
            return super().main(*args, standalone_mode=False, **kwargs)
        except click.exceptions.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(130)
        except click.ClickException as err:
            err.show()
            sys.exit(err.exit_code)
        except click.exceptions.Exit as err:
            sys.exit(err.exit_code)
        except GanzooError as err:
            if _debug():
                raise
            click.echo(f"Error: {err}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            if _debug():
                raise
            click.echo("Interrupted.", err=True)
            sys.exit(130)
        except Exception as err:  # an unexpected failure: still one line, with the way to see more
            if _debug():
                raise
            click.echo(f"Error: unexpected {type(err).__name__}: {err} ({_DEBUG_HINT}; please report it)", err=True)
            sys.exit(1)


@click.group(cls=GanzooGroup, context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "GANZOO",
                                                "max_content_width": 110})
@click.version_option(__version__, prog_name="ganzoo")
def cli() -> None:
    """ganzoo — a GAN model zoo: plugins with one interface (build, train, sample), model cards, and
    safetensors weights on the Hugging Face Hub.

    \b
    Quick start:
      ganzoo list                                   what is installed (offline, instant)
      ganzoo sample dcgan-digits -n 64 -o grid.png  sample the bundled digit model
      ganzoo train dcgan --data DIR --out runs/x --max-steps 2000
      ganzoo push runs/x my-org/my-dcgan            publish a model folder
    """


def _human(n: int | None) -> str:
    if n is None:
        return "-"
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= div:
            return f"{n / div:.1f}{unit}"
    return str(n)


def _short(text: str, width: int = 64) -> str:
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"


def _model_status(entry: Any) -> str:
    from ..registry import list_plugins

    if entry.plugin not in {r.name for r in list_plugins()}:
        return "plugin missing"
    if entry.bundled:
        return "bundled"
    info = entry.card
    from ..sources import cached_folder, source_of

    src = source_of(entry)
    if src is not None and cached_folder(src) is not None:
        return "cached"
    if info.repo_id and info.revision:
        from ..hub import cached_snapshot

        return "cached" if cached_snapshot(info.repo_id, info.revision) else "hub"
    return "on first use" if src is not None else "unpublished"


def _source_url(entry: Any) -> str | None:
    from ..errors import CardError
    from ..sources import source_of

    try:
        src = source_of(entry)
    except CardError:
        return None
    return src.url if src is not None else None


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(header, widths)).rstrip()]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------
# list / info / doctor


@cli.command("list")
@click.argument("pattern", required=False)
@click.option("--task", type=click.Choice(sorted(TASKS)),
              help="only this task")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def list_cmd(pattern: str | None, task: str | None, as_json: bool) -> None:
    """List installed plugins and pretrained models (offline; no torch import).

    PATTERN filters names (a substring, or a glob such as 'cyclegan-*'). The weights column says where each
    model's weights come from: bundled (in the package), hub (a pinned Hub revision), source (the original
    authors' file, converted on first use and cached), or not published; status says whether they are cached.
    """
    from .. import registry
    from ..sources import weights_origin

    plugins = registry.list_plugins(pattern, task=task)
    models = registry.list_models(pattern, task=task)
    conflicts = registry.conflicts()
    problems = registry.problems()
    if as_json:
        out = {
            "plugins": [{"name": r.name, "task": r.plugin.task, "summary": r.plugin.summary,
                         "paper": r.plugin.paper, "distribution": r.distribution, "version": r.version}
                        for r in plugins if r.plugin is not None],
            "conflicts": [{"name": n, "distributions": [p.distribution for p in ps]} for n, ps in conflicts.items()],
            "models": [{"id": e.id, "plugin": e.plugin, "tag": e.tag, "dataset": e.card.dataset,
                        "parameters": e.card.parameters, "license": e.card.license, "repo_id": e.card.repo_id,
                        "revision": e.card.revision, "status": _model_status(e), "provider": e.provider,
                        "weights": weights_origin(e), "source": _source_url(e)}
                       for e in models],
            "problems": [{"kind": p.kind, "name": p.name, "message": p.message} for p in problems],
        }
        click.echo(json.dumps(out, indent=2))
        return
    rows = [[r.name, r.plugin.task, _short(r.plugin.summary), f"{r.distribution} {r.version}"] for r in plugins if r.plugin]
    rows += [[n, "CONFLICT", "provided by " + " and ".join(p.distribution or "?" for p in ps), "-"]
             for n, ps in conflicts.items() if not pattern or pattern in n]
    click.echo(f"Plugins ({len(rows)})")
    filtered = " match" + (f" {pattern!r}" if pattern else "") + (f" (task {task})" if task else "")
    click.echo(_table(rows, ["name", "task", "summary", "provided by"]) if rows
               else "  none" + (filtered if pattern or task else " installed"))
    mrows = [[e.id, e.plugin, e.card.dataset or "-", _human(e.card.parameters), e.card.license or "-",
              weights_origin(e), _model_status(e)] for e in models]
    click.echo(f"\nPretrained models ({len(mrows)})")
    click.echo(_table(mrows, ["id", "plugin", "dataset", "params", "licence", "weights", "status"]) if mrows
               else "  none" + (filtered if pattern or task else ""))
    if problems:
        click.echo(f"\n{len(problems)} problem(s) skipped: run `ganzoo doctor` for details", err=True)


def _render_card(text: str, *, where: str, status: str | None = None) -> str:
    """A card for the terminal: its key facts (from the front matter), then its prose; raw text if it has none."""
    from ..cards import read_card_info, split_front_matter
    from ..errors import GanzooError

    meta, body = split_front_matter(text)
    if meta is None:
        return text
    try:
        info = read_card_info(text, path=where)
    except GanzooError:
        return text
    lines = [f"{info.id}" + (f" — {info.summary}" if info.summary else "")]
    facts = [("plugin", info.plugin), ("status", status),
             ("hub", f"{info.repo_id} @ {info.revision}" if info.repo_id and info.revision
              else (f"{info.repo_id} (revision not pinned)" if info.repo_id else None)),
             ("dataset", info.dataset),
             ("licence", (info.license or "?") + (f" (weights: {info.weights_license})" if info.weights_license
                                                  and info.weights_license != info.license else "")),
             ("parameters", f"{info.parameters:,}" if info.parameters else None),
             ("files", ", ".join(f"{f} (sha256 {h[:12]}…)" for f, h in info.sha256.items()) or None)]
    lines += [f"  {k + ':':<12} {v}" for k, v in facts if v]
    lines.append(f"  {'metadata:':<12} the card's front matter: ganzoo info {where} --raw")
    return "\n".join(lines) + "\n\n" + body.strip() + "\n"


@cli.command()
@click.argument("name")
@click.option("--raw", is_flag=True, help="print a model's README.md as it is, metadata (front matter) included")
def info(name: str, raw: bool) -> None:
    """Show a model's card, or a plugin's description and config fields with defaults.

    For a model: its key facts (plugin, status, Hub repo and pinned revision, data, licence, parameters, files
    and their sha256), then the card's text (training command, data, metrics with their protocol).
    """
    from .. import names, registry
    from ..config import describe
    from ..errors import UnknownNameError

    def show(text: str, status: str | None = None) -> None:
        click.echo(text if raw else _render_card(text, where=name, status=status))

    try:
        res = names.resolve(name)
    except UnknownNameError:
        res = None
    plugin_name, tag = names.split_name(name)
    if res is not None and res.kind == "registry" and (tag is not None or name not in {r.name for r in registry.list_plugins()}):
        entry = res.entry
        assert entry is not None
        show((entry.folder / "README.md").read_text(encoding="utf-8"), _model_status(entry))
        return
    if res is not None and res.kind == "local":
        assert res.path is not None
        readme = res.path / "README.md"
        if readme.is_file():
            show(readme.read_text(encoding="utf-8"), "local folder")
            return
    if res is not None and res.kind == "hub":
        from ..hub import download_model

        snapshot = download_model(res.repo_id, res.revision, components=[], with_card=True)  # type: ignore[arg-type]
        if (snapshot / "README.md").is_file():
            show((snapshot / "README.md").read_text(encoding="utf-8"), f"on the Hub: {res.repo_id} @ {snapshot.name}")
        else:
            click.echo((snapshot / "config.json").read_text())
        return
    spec = registry.get_plugin(plugin_name)
    record = registry.get_record(plugin_name)
    click.echo(f"{spec.name} — {spec.summary}")
    click.echo(f"  task:          {spec.task}")
    click.echo(f"  paper:         {spec.paper}")
    click.echo(f"  provided by:   {record.distribution} {record.version}")
    click.echo(f"  components:    {', '.join(spec.components)} (inference: {', '.join(spec.inference)})")
    tags = [e.id for e in registry.list_models() if e.plugin == spec.name]
    click.echo(f"  pretrained:    {', '.join(tags) or 'none'}" + (f" (default: {spec.name}-{spec.default_tag})"
                                                                    if spec.default_tag else ""))
    if spec.description:
        click.echo("\n" + spec.description)
    fields = describe(spec.load_config_class())
    click.echo(f"\nConfig ({spec.config}); set with `ganzoo train {spec.name} --set key=value`:")
    click.echo(_table([[f.name, f.type, repr(f.default), f.help] for f in fields], ["field", "type", "default", "help"]))


@cli.command()
def doctor() -> None:
    """Check the installation: plugins that fail to import or validate, name conflicts, malformed cards.

    Exits with status 1 when it finds a problem (so CI can use it).
    """
    from ..doctor import run_checks

    ok = run_checks(click.echo)
    if not ok:
        sys.exit(1)


# ---------------------------------------------------------------------------------------------------------
# sample


def _parse_condition(text: str | None) -> Any:
    if text is None:
        return None
    import torch

    try:
        values = [int(v) for v in text.replace(" ", "").split(",") if v != ""]
    except ValueError:
        raise click.BadParameter(f"expected class labels like '3' or '0,1,2', got {text!r}", param_hint="--condition")
    return torch.tensor(values, dtype=torch.long)


@cli.command()
@click.argument("name")
@click.option("-n", "--num", "n", type=click.IntRange(min=1), default=64, show_default=True, help="number of samples")
@click.option("--seed", type=int, default=0, show_default=True, help="noise seed (same seed, same samples)")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=True, path_type=Path), default=None,
              help="output file (grid .png, .wav, .gif: the task decides) or folder (for --input folders) "
                   "[samples.png, samples.wav or samples.gif]")
@click.option("--input", "input_path", type=click.Path(path_type=Path), help="image file or folder to translate")
@click.option("--play", metavar="ACTIONS", help="roll an action-conditioned video model (gamegan) out under "
              "ACTIONS, e.g. LLRRN (from --input's last frames, else a start state chosen by --seed)")
@click.option("--direction", type=click.Choice(["AtoB", "BtoA"]), help="translation direction (two-way models)")
@click.option("--domain", help="target domain of a multi-domain translator: a name, an index, or 'all' (a row each)")
@click.option("--condition", help="class labels: '3' (all n), '0,1,2,…' (one each), or 'all' (a row per class)")
@click.option("--interpolate", is_flag=True, help="rows of latent interpolations (slerp) instead of samples")
@click.option("--steps", type=click.IntRange(min=2), default=8, show_default=True, help="images per interpolation row")
@click.option("--lerp", is_flag=True, help="linear instead of spherical interpolation")
@click.option("--truncation", type=click.FloatRange(min=0, min_open=True), help="truncate the latent to |z| ≤ PSI")
@click.option("--drs", is_flag=True, help="discriminator rejection sampling (needs the model's discriminator)")
@click.option("--nrow", type=click.IntRange(min=1), help="images per grid row")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--device", default=None, help="cpu, cuda, cuda:1 … (default: cuda when available)")
def sample(name: str, n: int, seed: int, output: Path | None, input_path: Path | None, play: str | None,
           direction: str | None,
           domain: str | None, condition: str | None, interpolate: bool, steps: int, lerp: bool, truncation: float | None, drs: bool,
           nrow: int | None, batch_size: int, device: str | None) -> None:
    """Sample a model into a grid (or translate --input) and write the result.

    NAME is a pretrained model id (dcgan-digits), hf-hub:org/repo[@rev], or a model folder.

    \b
    ganzoo sample dcgan-digits -n 64 -o grid.png          a fixed-seed grid
    ganzoo sample dcgan-digits --interpolate -n 4 -o i.png 4 rows of slerp interpolations
    ganzoo sample cgan-digits --condition all -o c.png    a row per class
    ganzoo sample dcgan-digits --drs -n 64 -o drs.png     discriminator rejection sampling
    ganzoo sample cgan-digits --drs --condition 7 -o 7.png  … judged by D(x | 7)
    ganzoo sample cyclegan-horse2zebra --input photo.jpg -o zebra.png
    ganzoo sample runs/gamegan-paddle --play LLLLRRRR -o play.gif   a game played by the model
    """
    from ..errors import UsageError

    out_parent = output.parent if output is not None and str(output.parent) else Path(".")
    if not out_parent.is_dir():
        raise UsageError(f"Cannot write {output}: the folder {out_parent} does not exist (create it first)")
    if drs:
        clash = [flag for flag, on in (("--input", input_path is not None), ("--interpolate", interpolate),
                                       ("--truncation", truncation is not None), ("--condition all", condition == "all"))
                 if on]
        if clash:
            raise UsageError(f"--drs draws its own samples and cannot be combined with {', '.join(clash)}: drop one")
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
        if not hasattr(task, "play"):
            raise UsageError(f"{name} is {task.name}: --play rolls out action-conditioned video models (gamegan)")
        click.echo(f"Wrote {task.play(model, play, output, seed=seed, src=input_path)}")
        return
    if input_path is not None:
        written = task.sample_inputs(model, input_path, output, batch_size=batch_size, seed=seed, **options)
        click.echo(f"Wrote {written}")
        return
    if task.condition_required:
        raise UsageError(f"{name} is {task.name}: it transforms inputs; give --input PATH ({task.conditioning})")
    task.check_output_path(output)
    if condition is not None and task.conditioning != "label":
        raise UsageError(f"{name} is {task.name}: --condition takes class labels of a class-conditional model "
                         f"(see `ganzoo list --task class-conditional`)")
    if options:
        raise UsageError(f"{', '.join('--' + k for k in options)} applies to translators; {name} is {task.name}")
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
        images = explore.sample_truncated(model, n if cond is None else len(cond), truncation, seed=seed, condition=cond)
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


def _expand_condition(cond: Any, n: int) -> Any:
    if cond is not None and cond.numel() == 1:
        return cond.repeat(n)
    return cond


# ---------------------------------------------------------------------------------------------------------
# train


def _parse_sets(values: tuple[str, ...]) -> dict[str, Any]:
    from ..config import parse_value

    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected key=value, got {item!r}", param_hint="--set")
        out[key.strip()] = parse_value(value.strip())
    return out


def _read_config_file(path: Path) -> dict[str, Any]:
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
        raise ConfigError(f"--config {path} is not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {err}") from err
    if not isinstance(data, dict):
        raise ConfigError(f"--config {path} must hold a mapping of options")
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if key in ("model", "trainer") and isinstance(value, dict):
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    return flat


@cli.command()
@click.argument("plugin")
@click.option("--data", required=True, help="dataset folder in the task's format, or builtin:digits")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="run folder = the resulting model folder")
@click.option("--max-steps", type=click.IntRange(min=1), help="training steps")
@click.option("--epochs", type=click.FloatRange(min=0, min_open=True), help="passes over the data (instead of --max-steps)")
@click.option("--batch-size", type=click.IntRange(min=1), help="per process [plugin default, else 64]")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), help="learning rate (the config's lr)")
@click.option("--seed", type=int, help="seed for weights, data order, augmentation, noise [0]")
@click.option("--mixed-precision", type=click.Choice(["no", "fp16", "bf16"]), help="autocast precision [no]")
@click.option("--compile", "compile_", is_flag=True, default=None, help="torch.compile the networks")
@click.option("--resume", is_flag=True, help="continue the run in --out from its latest checkpoint")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="a model config field or trainer option (repeatable; model.KEY / trainer.KEY to disambiguate)")
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
              help="YAML/JSON file of options (flat, or {model: …, trainer: …}); --set wins over it")
@click.option("--tag", help="the model's tag in its card [from the --out folder name]")
def train(plugin: str, data: str, out: Path, max_steps: int | None, epochs: float | None, batch_size: int | None,
          lr: float | None, seed: int | None, mixed_precision: str | None, compile_: bool | None, resume: bool,
          sets: tuple[str, ...], config_file: Path | None, tag: str | None) -> None:
    """Train PLUGIN on your data; --out becomes a model folder (load, sample, push it directly).

    \b
    Multi-GPU / multi-node: the same command under a launcher, e.g.
      torchrun --nproc-per-node 4 -m ganzoo.cli train dcgan --data DIR --out runs/x --max-steps 10000
      accelerate launch -m ganzoo.cli train …
    --batch-size is per process; the card records the global batch.
    """
    from ..training.cli_support import run_training

    overrides = _read_config_file(config_file) if config_file else {}
    overrides.update(_parse_sets(sets))
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


# ---------------------------------------------------------------------------------------------------------
# hub


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.argument("repo_id")
@click.option("--private", is_flag=True, help="create the repo as private")
@click.option("-m", "--message", help="commit message")
@click.option("--pin-card", type=click.Path(path_type=Path, file_okay=False),
              help="also write a registry card folder (e.g. cards/<plugin>-<tag>) pinning this commit and the hashes")
def push(folder: Path, repo_id: str, private: bool, message: str | None, pin_card: Path | None) -> None:
    """Upload a model folder (README.md, config.json, one safetensors per component) to the Hub.

    Creates ORG/REPO if needed; prints the commit sha. checkpoints/ never leaves the machine.
    """
    from ..hub import push_folder, write_pinned_card

    result = push_folder(folder, repo_id, private=private, commit_message=message)
    click.echo(f"Pushed {len(result.files)} files to {repo_id}: commit {result.commit}")
    click.echo(result.url)
    if pin_card is not None:
        path = write_pinned_card(folder, pin_card, repo_id=repo_id, revision=result.commit)
        click.echo(f"Wrote the pinned card {path}")
    click.echo(result.commit)


@cli.command()
@click.argument("names", nargs=-1, required=True)
@click.option("--all-components", is_flag=True, help="also fetch training-only networks (discriminators)")
def pull(names: tuple[str, ...], all_components: bool) -> None:
    """Prefetch models into the Hugging Face cache so they load offline (HF_HUB_OFFLINE=1) later."""
    import ganzoo

    for name in names:
        path = ganzoo.pull(name, components="all" if all_components else None)[0]
        click.echo(f"{name}: {path}")


# ---------------------------------------------------------------------------------------------------------
# new-plugin


@cli.command("new-plugin")
@click.argument("name")
@click.option("--dir", "directory", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="where to create the package [./ganzoo-NAME]")
@click.option("--task", type=click.Choice(["unconditional", "class-conditional", "paired-translation"]),
              default="unconditional", show_default=True, help="the template to start from")
def new_plugin(name: str, directory: Path | None, task: str) -> None:
    """Scaffold a third-party plugin package that installs and passes ganzoo.testing.check_plugin."""
    from ..scaffold import scaffold_plugin

    path = scaffold_plugin(name, directory or Path(f"ganzoo-{name.replace('_', '-')}"), task=task)
    click.echo(f"Created {path}\n  pip install -e {path}\n  python -m pytest {path}/tests")


def main() -> None:
    """Console-script entry point."""
    cli.main(prog_name="ganzoo")


if __name__ == "__main__":  # python -m ganzoo.cli (torchrun/accelerate launch)
    main()
