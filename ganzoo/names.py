"""Model names: what a name given to ``load`` / ``sample`` / ``pull`` / ``info`` refers to.

In this order, so that the filesystem never silently changes what a name means:

1. ``hf-hub:<org>/<repo>[@<revision>]`` → a Hub repository (the revision: a branch, tag or commit name);
2. ``local-dir:<path>`` → a local model folder, explicitly;
3. a path (``./x``, ``../x``, ``/abs``, ``~/x``, anything with a path separator) → a local model folder;
   a bare ``org/repo`` that is no existing folder is refused: add ``hf-hub:`` (or ``./`` for a folder);
4. ``<plugin>-<tag>`` or ``<plugin>`` (its default tag) → a pretrained model from the registry's cards. A folder
   of the same name in the working directory does not change that: it is reported in a one-line warning that says
   how to load it instead (``./<name>`` or ``local-dir:<name>``);
5. any other name that is an existing folder → that local model folder.

Torch-free, like the registry it reads.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import HubNameError, PluginConflictError, UnknownNameError, UnknownTagError, UsageError
from .registry import ModelEntry, _get_state

__all__ = ["HUB_PREFIX", "LOCAL_PREFIX", "Resolved", "resolve", "split_name", "get_model", "check_revision"]

logger = logging.getLogger(__name__)

HUB_PREFIX = "hf-hub:"
LOCAL_PREFIX = "local-dir:"
_REPO_ID_RE = re.compile(r"^[A-Za-z0-9][\w.\-]*/[A-Za-z0-9][\w.\-]*$")
_COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")
# one component of a branch or tag name (git check-ref-format, minus what no Hub ref uses)
_REF_PART_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


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
    res = resolve(model_id, warn=False)
    if res.kind != "registry" or res.entry is None:
        raise UnknownNameError(model_id, list(_get_state().models), kind="model")
    return res.entry


def split_name(name: str) -> tuple[str, str | None]:
    """Split ``"<plugin>-<tag>"`` at the first hyphen: ``("cyclegan", "horse2zebra")``; no hyphen → ``(name, None)``."""
    plugin, sep, tag = name.partition("-")
    return plugin, (tag if sep else None)


def check_revision(revision: str | None) -> str | None:
    """Return ``revision`` if it is shaped like a commit, branch or tag name; ``None`` stays ``None``.

    Accepted: a 40-hex commit sha, or ``/``-separated parts of letters, digits, ``_ . -`` that start with a letter,
    digit or ``_`` and do not end in ``.lock`` or ``.`` (``main``, ``v1.0``, ``refs/pr/1``). Everything else — ``..``,
    empty parts, spaces, backslashes, control characters — is refused: the client builds cache paths from it.

    Raises:
        UsageError: the revision is not a branch, tag or commit name.

    Example:
        ```python
        >>> check_revision("v1.0")
        'v1.0'
        ```
    """
    if revision is None or _COMMIT_RE.fullmatch(revision):
        return revision
    parts = revision.split("/") if isinstance(revision, str) else [""]
    if (not 0 < len(revision) <= 200 or revision.endswith(".lock")
            or not all(_REF_PART_RE.fullmatch(p) and not p.endswith(".") and ".." not in p for p in parts)):
        raise UsageError(f"{revision!r} is not a branch, tag or commit name; write hf-hub:<org>/<repo>@<revision> "
                         f"with a revision such as main, v1.0 or a 40-hex commit sha")
    return revision


def _is_path_syntax(name: str) -> bool:
    """Written as a path: ``./x``, ``../x``, ``/x``, ``~/x``, ``~``, ``.``, or with a path separator."""
    return (name in (".", "..", "~") or name.startswith(("./", "../", "/", "~/", "~" + os.sep, "." + os.sep))
            or os.sep in name or (os.altsep is not None and os.altsep in name))


def _local(name: str, path: str) -> Resolved:
    return Resolved("local", name, path=Path(os.path.expanduser(path)))


def resolve(name: str, *, warn: bool = True) -> Resolved:
    """Decide what a model name refers to (the order is in the module docstring).

    Args:
        name (`str`): the name as the user wrote it.
        warn (`bool`, *optional*, defaults to `True`): log a warning when a folder shadows a registry id.

    Returns:
        `Resolved`: ``kind`` is ``"registry"``, ``"hub"`` or ``"local"``.

    Raises:
        UnknownNameError / UnknownTagError / HubNameError / PluginConflictError / UsageError: as the name warrants.

    Example:
        ```python
        >>> resolve("hf-hub:my-org/my-dcgan@v1.0").revision
        'v1.0'
        >>> resolve("./dcgan-digits").kind
        'local'
        ```
    """
    if not isinstance(name, str) or not name.strip():
        raise UnknownNameError(str(name), [], kind="model")
    name = name.strip()
    if name.startswith(HUB_PREFIX):
        ref = name[len(HUB_PREFIX):]
        repo_id, _, revision = ref.partition("@")
        if not _REPO_ID_RE.fullmatch(repo_id):
            raise UsageError(f"'{name}' is not a valid Hub name: write hf-hub:<org>/<repo>[@<revision>].")
        return Resolved("hub", name, repo_id=repo_id, revision=check_revision(revision) if revision else None)
    if name.startswith(LOCAL_PREFIX):
        path = name[len(LOCAL_PREFIX):]
        if not path:
            raise UsageError(f"'{name}' names no folder: write local-dir:<path>")
        return _local(name, path)
    if _is_path_syntax(name):
        if _REPO_ID_RE.fullmatch(name) and name.count("/") == 1 and not os.path.exists(name):
            raise HubNameError(name)
        return _local(name, name)
    state = _get_state()
    entry = state.models.get(name)
    plugin, tag = split_name(name)
    if entry is None and plugin in state.conflicts:
        if os.path.isdir(name):
            return _local(name, name)
        raise PluginConflictError(plugin, [p.distribution or "?" for p in state.conflicts[plugin]])
    tags = sorted(e.tag for e in state.models.values() if e.plugin == plugin)
    if entry is None and tag is None:
        record = state.plugins.get(plugin)
        default = record.plugin.default_tag if record and record.plugin else None
        if default and f"{plugin}-{default}" in state.models:
            entry = state.models[f"{plugin}-{default}"]
        elif len(tags) == 1:
            entry = state.models[f"{plugin}-{tags[0]}"]
    if entry is not None:
        if warn and os.path.isdir(name):
            logger.warning("'%s' is the registry model %s; the folder ./%s is not used: load it with './%s' or "
                           "'local-dir:%s'", name, entry.id, name, name, name)
        return Resolved("registry", name, entry=entry)
    if os.path.isdir(name):
        return _local(name, name)
    if plugin in state.plugins or tags:
        raise UnknownTagError(plugin, tag if tag is not None else "(none given)", tags)
    raise UnknownNameError(name, list(state.models) + list(state.plugins))
