"""Model names: what a name given to ``load`` / ``sample`` / ``pull`` / ``info`` refers to.

* ``hf-hub:<org>/<repo>[@<revision>]`` → a Hub repository;
* ``<plugin>-<tag>`` or ``<plugin>`` (its default tag) → a pretrained model from the registry's cards;
* a local model folder, given as a path (``./x``, ``/abs``, ``~/x``, anything with a path separator) or with the
  explicit ``local-dir:`` prefix;
* a bare ``org/repo`` → refused: add ``hf-hub:``.

Torch-free, like the registry it reads.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import HubNameError, PluginConflictError, UnknownNameError, UnknownTagError, UsageError
from .registry import ModelEntry, _get_state

__all__ = ["HUB_PREFIX", "LOCAL_PREFIX", "Resolved", "resolve", "split_name", "get_model"]

HUB_PREFIX = "hf-hub:"
LOCAL_PREFIX = "local-dir:"
_REPO_ID_RE = re.compile(r"^[A-Za-z0-9][\w.\-]*/[A-Za-z0-9][\w.\-]*$")


@dataclass(frozen=True)
class Resolved:
    """What a name given to ``load``/``sample``/``pull`` refers to."""

    kind: str  # "registry", "hub" or "local"
    name: str  # the name as given
    entry: ModelEntry | None = None  # kind == "registry"
    repo_id: str | None = None  # kind == "hub"
    revision: str | None = None  # kind == "hub" (None = main)
    path: Path | None = None  # kind == "local"


def get_model(model_id: str) -> ModelEntry:
    """The :class:`ModelEntry` of a pretrained model id (``<plugin>-<tag>`` or a bare plugin with a default tag)."""
    res = resolve(model_id)
    if res.kind != "registry" or res.entry is None:
        raise UnknownNameError(model_id, list(_get_state().models), kind="model")
    return res.entry


def split_name(name: str) -> tuple[str, str | None]:
    """Split ``"<plugin>-<tag>"`` at the first hyphen: ``("cyclegan", "horse2zebra")``; no hyphen → ``(name, None)``."""
    plugin, sep, tag = name.partition("-")
    return plugin, (tag if sep else None)


def _looks_like_path(name: str) -> bool:
    return (
        name.startswith((".", "/", "~"))
        or os.sep in name and os.path.exists(os.path.expanduser(name))
        or (os.altsep is not None and os.altsep in name)
        or os.path.isdir(name)
    )


def resolve(name: str) -> Resolved:
    """Decide what a model name refers to (DESIGN.md §2, §5).

    * ``hf-hub:<org>/<repo>[@<revision>]`` → a Hub repository;
    * an existing folder or a path (``./x``, ``/x``, ``~/x``) → a local model folder;
    * ``<plugin>-<tag>`` or ``<plugin>`` (its default tag) → a pretrained model from the cards;
    * a bare ``org/repo`` → refused: add ``hf-hub:``.

    Raises:
        UnknownNameError / UnknownTagError / HubNameError / PluginConflictError: as the name warrants.
    """
    if not isinstance(name, str) or not name.strip():
        raise UnknownNameError(str(name), [], kind="model")
    name = name.strip()
    if name.startswith(HUB_PREFIX):
        ref = name[len(HUB_PREFIX):]
        repo_id, _, revision = ref.partition("@")
        if not _REPO_ID_RE.match(repo_id):
            raise UsageError(f"'{name}' is not a valid Hub name: write hf-hub:<org>/<repo>[@<revision>].")
        return Resolved("hub", name, repo_id=repo_id, revision=revision or None)
    if _looks_like_path(name):
        return Resolved("local", name, path=Path(os.path.expanduser(name)))
    state = _get_state()
    if name in state.models:
        return Resolved("registry", name, entry=state.models[name])
    if _REPO_ID_RE.match(name) and "/" in name:
        raise HubNameError(name)
    plugin, tag = split_name(name)
    if plugin in state.conflicts:
        raise PluginConflictError(plugin, [p.distribution or "?" for p in state.conflicts[plugin]])
    known_plugin = plugin in state.plugins or any(e.plugin == plugin for e in state.models.values())
    if known_plugin:
        tags = sorted(e.tag for e in state.models.values() if e.plugin == plugin)
        if tag is None:
            record = state.plugins.get(plugin)
            default = record.plugin.default_tag if record and record.plugin else None
            if default and f"{plugin}-{default}" in state.models:
                return Resolved("registry", name, entry=state.models[f"{plugin}-{default}"])
            if len(tags) == 1:
                return Resolved("registry", name, entry=state.models[f"{plugin}-{tags[0]}"])
            raise UnknownTagError(plugin, "(none given)", tags)
        raise UnknownTagError(plugin, tag, tags)
    candidates = list(state.models) + list(state.plugins)
    raise UnknownNameError(name, candidates)
