"""``ganzoo doctor``: what is installed, and everything discovery had to skip, with the reason."""

from __future__ import annotations

import importlib.metadata
from typing import Callable

from . import __version__, registry
from .errors import GanzooError

__all__ = ["run_checks"]


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def run_checks(echo: Callable[[str], None] = print, *, deep: bool = True) -> bool:
    """Print a report; return True when nothing is wrong.

    Discovery problems (plugins that fail to import or validate, names provided twice, malformed cards) come
    from the registry; with ``deep`` each usable plugin's config dataclass and implementation are imported too
    (this imports torch) and its ``tiny_config`` is applied.
    """
    ok = True
    echo(f"ganzoo {__version__}")
    for dist in ("torch", "huggingface_hub", "safetensors", "accelerate", "torchmetrics", "timm"):
        echo(f"  {dist:<16} {_version(dist)}")
    try:
        from huggingface_hub import constants

        echo(f"  hub endpoint     {constants.ENDPOINT}{' (offline: HF_HUB_OFFLINE)' if constants.HF_HUB_OFFLINE else ''}")
        echo(f"  hub cache        {constants.HF_HUB_CACHE}")
    except ImportError:
        echo("  huggingface_hub is missing: pip install huggingface-hub")
        ok = False

    echo("\nPlugins")
    for name, record in sorted((n, r) for n, r in _all_records().items()):
        if name in registry.conflicts():
            continue
        if record.error:
            ok = False
            echo(f"  FAIL {name} ({record.distribution} {record.version}): {record.error}")
            continue
        assert record.plugin is not None
        detail = ""
        if deep:
            try:
                from .config import override

                cls = record.plugin.load_config_class()
                override(cls(), dict(record.plugin.tiny_config), source=f"{name} tiny_config")
                record.plugin.load_impl()
            except TypeError as err:
                ok = False
                detail = f": config dataclass needs defaults for every field ({err})"
            except GanzooError as err:
                ok = False
                detail = f": {err}"
        echo(f"  {'FAIL' if detail else 'ok  '} {name} ({record.distribution} {record.version}){detail}")
    for name, providers in registry.conflicts().items():
        ok = False
        dists = " and ".join(f"{p.distribution} {p.version}" for p in providers)
        echo(f"  CONFLICT {name}: provided by {dists}; uninstall one, or set GANZOO_DISABLE_PLUGINS=<distribution>")

    from .sources import source_of, weights_origin

    echo("\nPretrained models")
    plugins = {r.name for r in registry.list_plugins()}
    for entry in registry.list_models():
        origin = weights_origin(entry)
        where = {"bundled": "bundled", "hub": f"hf-hub:{entry.card.repo_id}@{(entry.card.revision or '')[:12]}",
                 "source": f"converted on first use from {getattr(source_of(entry), 'url', '?')}"}.get(
                     origin, "not published yet")
        missing = "" if entry.plugin in plugins else f" — plugin '{entry.plugin}' is not installed"
        echo(f"  {'ok  ' if not missing else 'WARN'} {entry.id} ({where}){missing}")
    card_problems = [p for p in registry.problems() if p.kind == "card"]
    for p in card_problems:
        ok = False
        echo(f"  FAIL {p.message}")
    echo("\n" + ("No problems found." if ok else "Problems found (see FAIL/CONFLICT above)."))
    return ok


def _all_records() -> dict[str, registry.PluginRecord]:
    out = {}
    for p in registry.problems():
        if p.kind == "plugin":
            out[p.name] = registry.providers(p.name)[0]
    for r in registry.list_plugins():
        out[r.name] = r
    return out
