"""The ``ganzoo`` click group: one-line errors, logging, and commands loaded on first use.

Every command lives in its own module (``LAZY_COMMANDS``) and is imported only when it runs or when the group's
help lists it, so ``ganzoo list`` imports neither torch nor the code of the other commands.
Known errors print one line (``Error: …``) and exit with status 1; ``GANZOO_DEBUG=1`` shows the traceback.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from .. import __version__
from ..errors import GanzooError

__all__ = ["cli", "main", "LAZY_COMMANDS", "GanzooGroup", "table", "ensure_parent"]

_DEBUG_HINT = "set GANZOO_DEBUG=1 for the full traceback"

#: Every command, by name: "module:attribute" of its click command (click's LazyGroup recipe).
LAZY_COMMANDS = {
    "list": "ganzoo.cli.listing:list_cmd",
    "info": "ganzoo.cli.listing:info",
    "doctor": "ganzoo.cli.listing:doctor",
    "new-plugin": "ganzoo.cli.listing:new_plugin",
    "sample": "ganzoo.cli.sampling:sample",
    "train": "ganzoo.cli.training:train",
    "eval": "ganzoo.cli.evaluate:evaluate",
    "convert": "ganzoo.cli.convert:convert",
    "diagnose": "ganzoo.cli.diagnose:diagnose",
    "export": "ganzoo.cli.export:export",
    "push": "ganzoo.cli.hubcmds:push",
    "pull": "ganzoo.cli.hubcmds:pull",
}

#: Context settings shared by the group and every command.
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "GANZOO", "max_content_width": 110}


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


class GanzooGroup(click.Group):
    """A click group that turns ganzoo's errors into one-line messages and imports each command on first use."""

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
            except ModuleNotFoundError as err:
                if err.name != module:  # the command's module exists but something it imports is missing
                    raise
                return None
            if not isinstance(cmd, click.Command):
                raise ValueError(f"{LAZY_COMMANDS[name]} is not a click command")
            self.add_command(cmd, name)
        return super().get_command(ctx, name)

    def main(self, *args: Any, **kwargs: Any) -> Any:  # noqa: D401
        _setup_logging()
        kwargs.pop("standalone_mode", None)
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


@click.group(cls=GanzooGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="ganzoo")
def cli() -> None:
    """ganzoo — a GAN model zoo: plugins with one interface (build, train, sample), model cards, and
    safetensors weights on the Hugging Face Hub.

    \b
    Quick start (the bundled models run offline, no download):
      ganzoo list                                         what is installed; where each model's weights come from
      ganzoo sample dcgan-digits -n 64 -o grid.png        sample the bundled digit model
      ganzoo sample cgan-digits --condition all -o c.png  a row per digit class
      ganzoo sample cyclegan-horse2zebra --input horse.jpg -o zebra.png
      ganzoo train --help                                 training examples, from a one-minute smoke run up
      ganzoo push runs/smoke my-org/my-dcgan              publish a model folder (a trained run folder)

    `ganzoo COMMAND --help` shows each command's options and examples.
    """


def main() -> None:
    """Console-script entry point."""
    cli.main(prog_name="ganzoo")


# ---------------------------------------------------------------------------------------------------------
# helpers shared by the commands


def table(rows: list[list[str]], header: list[str]) -> str:
    """Left-aligned columns separated by two spaces, header first; trailing spaces stripped."""
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(header, widths)).rstrip()]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)


def ensure_parent(path: Path, *, option: str = "-o") -> Path:
    """Create the folder an output file goes into (as ``mkdir -p`` would); one-line error when it cannot.

    Raises:
        UsageError: a path component is a file, or the folder cannot be created (permissions).
    """
    from ..errors import UsageError

    parent = path.parent
    if str(parent) in ("", "."):
        return path
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError as err:
        raise UsageError(f"Cannot write {path} ({option}): {err.filename or parent} exists and is not a "
                         "folder") from err
    except OSError as err:
        raise UsageError(f"Cannot write {path} ({option}): cannot create the folder {parent}: "
                         f"{err.strerror or err}") from err
    return path
