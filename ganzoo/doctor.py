"""``ganzoo doctor``: what is installed, and everything discovery had to skip or the plugin contract refuses, with
the reason and where to fix it."""

from __future__ import annotations

import importlib.metadata
from typing import Any, Callable

from . import __version__, registry
from .errors import ConfigError, GanzooError, PluginLoadError, PluginValidationError

__all__ = ["run_checks", "contract_problems"]

_INDENT = " " * 7


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _detail(err: BaseException) -> str:
    """The reason without the "Plugin 'x' is invalid:" / "failed to load:" frame (doctor names the plugin)."""
    if isinstance(err, PluginLoadError):
        return err.detail
    text = str(err)
    if isinstance(err, PluginValidationError):
        prefix = f"Plugin '{err.plugin}' is invalid: "
        return text[len(prefix):] if text.startswith(prefix) else text
    return text


def _strip_frame(message: str, name: str) -> str:
    """A discovery error as recorded by the registry, without the frame and the advice to run doctor."""
    for prefix in (f"Plugin '{name}' failed to load: ", f"Plugin '{name}' is invalid: "):
        if message.startswith(prefix):
            message = message[len(prefix):]
    suffix = ". Run `ganzoo doctor` for details."
    return message[:-len(suffix)] if message.endswith(suffix) else message


def contract_problems(spec: Any) -> list[str]:
    """Every way a loadable plugin breaks the contract, one line each, checked independently (imports torch).

    The config class (importable, a dataclass derived from its task's typed base, every field with a default),
    the spec's ``tiny_config`` (known fields, valid values), and the implementation (importable, a
    :class:`ganzoo.GanImpl` whose hooks have the core's signatures, no misspelt hook-like names, no overridden
    helpers: :func:`ganzoo.impl.validate_impl`).

    Args:
        spec (`Plugin`): the plugin's validated spec.

    Returns:
        `list[str]`: the problems, each prefixed with the part it concerns (``config …``, ``impl …``); empty when
        the plugin keeps the contract.

    Example:
        ```python
        from ganzoo import registry
        from ganzoo.doctor import contract_problems

        assert contract_problems(registry.get_plugin("dcgan")) == []
        ```
    """
    from .config import override

    problems: list[str] = []
    try:
        cls = spec.load_config_class()
    except GanzooError as err:
        problems.append(f"config {spec.config}: {_detail(err)}")
    else:
        try:
            config = cls()
        except TypeError as err:
            problems.append(f"config {spec.config}: the dataclass needs a default for every field ({err})")
        else:
            try:
                override(config, dict(spec.tiny_config), source=f"{spec.name} tiny_config")
            except (ConfigError, GanzooError) as err:
                problems.append(f"tiny_config: {_detail(err)}")
    try:
        spec.load_impl()
    except GanzooError as err:
        problems.append(f"impl {spec.impl}: {_detail(err)}")
    return problems


def run_checks(echo: Callable[[str], None] = print, *, deep: bool = True) -> bool:
    """Print a report; return True when nothing is wrong.

    Discovery problems (plugins that fail to import or validate, names provided twice, malformed cards) come
    from the registry; with ``deep`` each usable plugin's config class and implementation are imported and checked
    against the contract too (:func:`contract_problems`; this imports torch).

    Args:
        echo: where each line goes (``print``, ``click.echo``).
        deep (`bool`, *optional*): also import and check each plugin's config and implementation.

    Returns:
        `bool`: True when no FAIL or CONFLICT was found (warnings do not count).
    """
    ok = True
    echo(f"ganzoo {__version__}")
    for dist in ("torch", "huggingface_hub", "safetensors", "accelerate", "torchmetrics", "timm"):
        echo(f"  {dist:<16} {_version(dist)}")
    try:
        from huggingface_hub import constants

        offline = " (offline: HF_HUB_OFFLINE)" if constants.HF_HUB_OFFLINE else ""
        echo(f"  hub endpoint     {constants.ENDPOINT}{offline}")
        echo(f"  hub cache        {constants.HF_HUB_CACHE}")
    except ImportError:
        echo("  huggingface_hub is missing: pip install huggingface-hub")
        ok = False
    echo(f"  card cache       {registry.card_cache_dir()}")

    echo("\nPlugins")
    broken_contract = 0
    conflicts = registry.conflicts()
    for name, record in sorted(_all_records().items()):
        if name in conflicts:
            continue
        where = f"{name} ({record.distribution} {record.version})"
        if record.error:
            ok = False
            echo(f"  FAIL {where}: does not load")
            echo(f"{_INDENT}{_strip_frame(record.error, name)}")
            continue
        assert record.plugin is not None
        problems = contract_problems(record.plugin) if deep else []
        if not problems:
            echo(f"  ok   {where}")
            continue
        ok = False
        broken_contract += 1
        echo(f"  FAIL {where}: breaks the plugin contract ({len(problems)} problem{'s' if len(problems) > 1 else ''})")
        for problem in problems:
            echo(f"{_INDENT}{problem}")
    for name, providers in conflicts.items():
        ok = False
        dists = " and ".join(f"{p.distribution} {p.version}" for p in providers)
        echo(f"  CONFLICT {name}: provided by {dists}; uninstall one, or set GANZOO_DISABLE_PLUGINS=<distribution>")
    if broken_contract:
        echo(f"{_INDENT}(the contract: every hook is declared once on ganzoo.GanImpl, with its signature; a config "
             f"derives from its task's base in ganzoo.config; see the plugin author guide)")
    if not deep:
        echo("  (shallow: configs and implementations were not imported; run `ganzoo doctor` for the full check)")

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
