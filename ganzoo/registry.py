"""Discovery of plugins (entry points) and pretrained models (cards).

Everything here is torch-free: it reads entry-point metadata, imports the light plugin spec modules and
parses card front matter, so ``ganzoo list`` runs in a fraction of a second with no network.

Rules:

* a plugin is reached only through the entry-point group ``ganzoo.plugins``;
* a plugin that fails to import or validate is recorded with its error and skipped (``ganzoo doctor``
  shows it); it never breaks listing;
* a name provided by two distributions is a conflict: listed once with both providers, refused by
  ``load``/``build``; ``GANZOO_DISABLE_PLUGINS=dist-or-plugin,…`` blocks providers (globs too: ``ganzoo-*``);
* name resolution (``<plugin>-<tag>``, ``hf-hub:``, local folders) lives in :mod:`ganzoo.names`;
* pretrained models come from card folders: the core's own ``ganzoo.model_cards`` and the ``cards`` folder a plugin
  names; a malformed card is reported with its file and field, and skipped.

The card cache: parsing YAML front matter is most of the cost of listing (a zoo has thousands of cards), so the
listing fields of every valid card are kept in one JSON file per folder of cards (a package's ``cards/``) under
:func:`card_cache_dir`, keyed by each README.md's modification time (ns), size and inode, and by the validator's
version. A card whose key changed is parsed again; a card modified in the last two seconds is not cached (a
same-size edit within the file system's timestamp granularity could otherwise go unseen); malformed cards are never
cached, so they are reported on every scan. A cache file that is unreadable, corrupt or of another version is
ignored and rewritten; a cache folder that cannot be written just means no cache. Card folders that are not plain
directories (a zipped package) are always parsed.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import logging
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cards import CardInfo, read_card_info
from .errors import CardError, PluginConflictError, PluginLoadError, PluginValidationError, UnknownNameError
from .plugin import PLUGIN_NAME_RE, Plugin, import_object

__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginRecord",
    "ModelEntry",
    "Problem",
    "list_plugins",
    "list_models",
    "get_plugin",
    "problems",
    "refresh",
    "card_cache_dir",
]

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "ganzoo.plugins"


@dataclass(frozen=True)
class PluginRecord:
    """One installed provider of a plugin name, loaded or not."""

    name: str  # entry-point name (= plugin id)
    distribution: str | None  # the distribution that declares the entry point
    version: str | None  # that distribution's version
    target: str  # the entry point's value, "module:attr"
    plugin: Plugin | None = None  # the validated spec, None if it failed
    error: str | None = None  # why it failed to load or validate


@dataclass(frozen=True)
class ModelEntry:
    """A pretrained model known from a card folder."""

    id: str  # "<plugin>-<tag>"
    card: CardInfo  # parsed front matter
    folder: Any  # a Traversable (importlib.resources) or Path holding README.md (+ config.json, weights)
    provider: str  # "ganzoo" or the plugin distribution that ships the card
    has_weights: bool | None = field(default=None, repr=False, compare=False)  # seen at discovery (None: ask)

    @property
    def plugin(self) -> str:
        return self.card.plugin

    @property
    def tag(self) -> str:
        return self.card.tag

    @property
    def bundled(self) -> bool:
        """True when the card folder holds the weights (config.json), so loading needs no network."""
        if self.has_weights is not None:
            return self.has_weights
        return _is_file(self.folder / "config.json")


@dataclass(frozen=True)
class Problem:
    """Something discovery skipped: a plugin that failed, a conflict, a malformed card."""

    kind: str  # "plugin", "conflict" or "card"
    name: str  # plugin name, or card path
    message: str


# ---------------------------------------------------------------------------------------------------------
# discovery state: plain dicts, filled once, lazily


@dataclass
class _State:
    providers: dict[str, list[PluginRecord]] = field(default_factory=dict)  # plugin name -> every provider
    plugins: dict[str, PluginRecord] = field(default_factory=dict)  # plugin name -> the one usable provider
    conflicts: dict[str, list[PluginRecord]] = field(default_factory=dict)  # plugin name -> its 2+ providers
    models: dict[str, ModelEntry] = field(default_factory=dict)  # model id -> entry
    problems: list[Problem] = field(default_factory=list)  # what was skipped, for `ganzoo doctor`


_state: _State | None = None
_lock = threading.Lock()


def refresh() -> None:
    """Forget what was discovered; the next call rescans entry points and cards (after a pip install)."""
    global _state
    with _lock:
        _state = None


def _get_state() -> _State:
    global _state
    with _lock:
        if _state is None:
            _state = _discover()
        return _state


def _disabled() -> set[str]:
    raw = os.environ.get("GANZOO_DISABLE_PLUGINS", "")
    return {x.strip() for x in raw.replace(";", ",").split(",") if x.strip()}


def _blocked(plugin: str, dist: str | None, patterns: set[str]) -> bool:
    """Whether ``GANZOO_DISABLE_PLUGINS`` (names or globs: ``ganzoo-*``, ``*``) blocks a plugin or its distribution."""
    import fnmatch

    if any(fnmatch.fnmatchcase(plugin, p) for p in patterns):
        return True
    return dist is not None and any(fnmatch.fnmatchcase(_normalise_dist(dist), _normalise_dist(p)) for p in patterns)


def _normalise_dist(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def _discover() -> _State:
    state = _State()
    disabled = _disabled()
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        dist_name = dist.metadata["Name"] if dist is not None else None
        version = dist.version if dist is not None else None
        if _blocked(ep.name, dist_name, disabled):
            continue
        providers = state.providers.setdefault(ep.name, [])
        if any(p.distribution == dist_name for p in providers):
            continue  # the same distribution seen twice on sys.path: importlib.metadata keeps the first
        providers.append(PluginRecord(ep.name, dist_name, version, ep.value))

    for name, providers in sorted(state.providers.items()):
        if len(providers) > 1:
            state.conflicts[name] = providers
            dists = [p.distribution or "?" for p in providers]
            state.problems.append(Problem("conflict", name, str(PluginConflictError(name, dists))))
            continue
        record = _load_record(providers[0])
        providers[0] = record
        if record.error:
            state.problems.append(Problem("plugin", name, record.error))
        else:
            state.plugins[name] = record

    _discover_cards(state)
    return state


def _load_record(record: PluginRecord) -> PluginRecord:
    """Import the spec module of one entry point and validate what it names."""
    name = record.name
    try:
        if not PLUGIN_NAME_RE.match(name):
            raise PluginValidationError(name, "entry-point name must match [a-z][a-z0-9_]*")
        obj = import_object(record.target, plugin=name)
        if not isinstance(obj, Plugin):
            raise PluginValidationError(name, f"{record.target} is a {type(obj).__name__}, not a ganzoo.Plugin")
        if obj.name != name:
            raise PluginValidationError(name, f"entry point is named '{name}' but the spec says name='{obj.name}'")
    except (PluginLoadError, PluginValidationError) as err:
        return PluginRecord(name, record.distribution, record.version, record.target, None, str(err))
    except Exception as err:  # a plugin must never break discovery
        msg = f"Plugin '{name}' failed to load: {type(err).__name__}: {err}"
        return PluginRecord(name, record.distribution, record.version, record.target, None, msg)
    return PluginRecord(name, record.distribution, record.version, record.target, obj, None)


def _card_roots(state: _State) -> list[tuple[str, Any]]:
    roots: list[tuple[str, Any]] = []
    try:
        roots.append(("ganzoo", importlib.resources.files("ganzoo.model_cards")))
    except (ModuleNotFoundError, TypeError):  # pragma: no cover - a broken install without cards
        logger.warning("ganzoo.model_cards is missing from this installation; no bundled cards are listed")
    for name, record in sorted(state.plugins.items()):
        spec = record.plugin
        if spec is None or spec.cards is None:
            continue
        package, _, folder = spec.cards.partition(":")
        try:
            root = importlib.resources.files(package)
            for part in folder.split("."):
                root = root / part
        except Exception as err:
            state.problems.append(Problem("card", name, f"Plugin '{name}' names cards={spec.cards!r}: {err}"))
            continue
        roots.append((record.distribution or name, root))
    return roots


def _read_card(folder: Any, readme: Any) -> CardInfo:
    """Parse and check one card (the folder must be named after the model id)."""
    path = _display_path(readme)
    info = read_card_info(readme.read_text(encoding="utf-8"), path=path)
    if f"{info.plugin}-{info.tag}" != folder.name:
        raise CardError(path, "ganzoo.tag", f"folder is '{folder.name}' but the card says "
                        f"'{info.plugin}-{info.tag}'; they must agree")
    return info


def _add_entry(state: _State, entry: ModelEntry, path: str) -> None:
    if entry.id in state.models:
        other = state.models[entry.id]
        state.problems.append(Problem("card", path, f"Model '{entry.id}' is also provided by "
                                      f"{other.provider}; keeping the first"))
        return
    state.models[entry.id] = entry


def _discover_cards(state: _State) -> None:
    for provider, root in _card_roots(state):
        if isinstance(root, Path):
            _scan_card_folder(state, provider, root)
            continue
        try:  # a Traversable that is not a plain folder (a zipped package): parse every card
            folders = sorted((f for f in root.iterdir() if f.is_dir()), key=lambda f: f.name)
        except (FileNotFoundError, NotADirectoryError):
            continue
        for folder in folders:
            readme = folder / "README.md"
            if not _is_file(readme):
                continue
            try:
                info = _read_card(folder, readme)
            except CardError as err:
                state.problems.append(Problem("card", _display_path(readme), str(err)))
                continue
            except (OSError, UnicodeDecodeError) as err:
                path = _display_path(readme)
                state.problems.append(Problem("card", path, f"Cannot read model card {path}: {err}"))
                continue
            _add_entry(state, ModelEntry(folder.name, info, folder, provider), _display_path(readme))


# ---------------------------------------------------------------------------------------------------------
# the card cache

_CACHE_FORMAT = 1
_RACY_NS = 2_000_000_000  # cards modified this recently are parsed again next time (timestamp granularity)


def card_cache_dir() -> Path:
    """Where parsed cards are cached: ``$GANZOO_CACHE/cards``, else ``$XDG_CACHE_HOME/ganzoo/cards``, else
    ``~/.cache/ganzoo/cards``. Safe to delete at any time."""
    root = os.environ.get("GANZOO_CACHE")
    if root:
        return Path(root).expanduser() / "cards"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "ganzoo" / "cards"


def _validator_key() -> list[Any]:
    """What invalidates every cached card: the cache format, ganzoo's version and the validator's source file."""
    from . import __version__, cards

    try:
        stamp = os.stat(cards.__file__).st_mtime_ns
    except (OSError, TypeError):
        stamp = 0
    return [_CACHE_FORMAT, __version__, stamp]


def _cache_file(root: Path) -> Path:
    import hashlib

    return card_cache_dir() / f"{hashlib.sha256(str(root).encode()).hexdigest()[:24]}.json"


def _load_cache(file: Path, root: Path, validator: list[Any]) -> dict[str, Any]:
    """The cached cards of one folder, ``{}`` when missing, unreadable, corrupt or stale as a whole."""
    import json

    try:
        with open(file, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as err:
        logger.debug("ignoring the card cache %s: %s", file, err)
        return {}
    if not (isinstance(data, dict) and data.get("root") == str(root) and data.get("validator") == validator
            and isinstance(data.get("cards"), dict)):
        return {}
    return data["cards"]


def _save_cache(file: Path, root: Path, validator: list[Any], cards: dict[str, Any]) -> None:
    """Write the cache atomically; a cache folder that cannot be written is not an error."""
    import json
    import secrets

    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_name(f".{file.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            with open(tmp, "x", encoding="utf-8") as f:  # mode from the umask, like any file the user writes
                json.dump({"root": str(root), "validator": validator, "cards": cards}, f, separators=(",", ":"))
            os.replace(tmp, file)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    except OSError as err:
        logger.debug("cannot write the card cache %s: %s", file, err)


def _card_reader(readme: Path, path: str) -> Any:
    """A function that reads a card's whole front matter (a cached info's ``metadata``, on first access)."""
    def read() -> dict[str, Any]:
        return dict(read_card_info(readme.read_text(encoding="utf-8"), path=path).metadata)

    return read


def _scan_card_folder(state: _State, provider: str, root: Path) -> None:
    """Discover the cards of one plain folder, through the card cache."""
    import time

    try:
        with os.scandir(root) as it:
            folders = sorted(e.name for e in it if e.is_dir())
    except (FileNotFoundError, NotADirectoryError):
        return
    validator = _validator_key()
    file = _cache_file(root)
    cached = _load_cache(file, root, validator)
    fresh: dict[str, Any] = {}
    racy_after = time.time_ns() - _RACY_NS
    for name in folders:
        folder = root / name
        readme = folder / "README.md"
        try:
            st = os.stat(readme)
        except OSError:
            continue
        key = [st.st_mtime_ns, st.st_size, st.st_ino]
        path = str(readme)
        has_weights = os.path.isfile(folder / "config.json")
        hit = cached.get(name)
        info = None
        if isinstance(hit, dict) and hit.get("key") == key:
            try:
                info = CardInfo.from_index(hit["info"], _card_reader(readme, path))
            except (KeyError, TypeError):
                hit = None
        else:
            hit = None
        if info is None:
            try:
                info = _read_card(folder, readme)
            except CardError as err:
                state.problems.append(Problem("card", path, str(err)))
                continue
            except (OSError, UnicodeDecodeError) as err:
                state.problems.append(Problem("card", path, f"Cannot read model card {path}: {err}"))
                continue
        if st.st_mtime_ns < racy_after:
            fresh[name] = hit if hit is not None else {"key": key, "info": info.to_index()}
        _add_entry(state, ModelEntry(name, info, folder, provider, has_weights), path)
    if fresh != cached:
        _save_cache(file, root, validator, fresh)


def _is_file(p: Any) -> bool:
    try:
        return bool(p.is_file())
    except OSError:
        return False


def _display_path(p: Any) -> str:
    return str(p)


# ---------------------------------------------------------------------------------------------------------
# public queries


def list_plugins(pattern: str | None = None, *, task: str | None = None) -> list[PluginRecord]:
    """Installed, usable plugins (sorted by name), optionally filtered by a glob ``pattern`` and a ``task``."""
    import fnmatch

    state = _get_state()
    out = []
    for name, record in sorted(state.plugins.items()):
        assert record.plugin is not None
        if pattern and not fnmatch.fnmatch(name, pattern if any(c in pattern for c in "*?[") else f"*{pattern}*"):
            continue
        if task and record.plugin.task != task:
            continue
        out.append(record)
    return out


def list_models(pattern: str | None = None, *, task: str | None = None) -> list[ModelEntry]:
    """Pretrained models from cards (sorted by id), optionally filtered by a glob ``pattern`` and a ``task``.

    A model whose plugin is not installed is still listed (its card is there); ``load`` then says to install it.
    """
    import fnmatch

    state = _get_state()
    out = []
    for mid, entry in sorted(state.models.items()):
        if pattern and not fnmatch.fnmatch(mid, pattern if any(c in pattern for c in "*?[") else f"*{pattern}*"):
            continue
        if task:
            record = state.plugins.get(entry.plugin)
            if record is None or record.plugin is None or record.plugin.task != task:
                continue
        out.append(entry)
    return out


def conflicts() -> dict[str, list[PluginRecord]]:
    """Plugin names provided by more than one distribution."""
    return dict(_get_state().conflicts)


def problems() -> list[Problem]:
    """Everything discovery skipped, with the reason (what ``ganzoo doctor`` prints)."""
    return list(_get_state().problems)


def providers(name: str) -> list[PluginRecord]:
    """Every provider of a plugin name, loaded or failed (for ``doctor`` and messages)."""
    return list(_get_state().providers.get(name, []))


def get_plugin(name: str) -> Plugin:
    """The validated :class:`Plugin` spec for ``name``.

    Raises:
        PluginConflictError: two distributions provide it.
        PluginLoadError / PluginValidationError: it failed to import or validate.
        UnknownNameError: nothing provides it (closest names suggested).
    """
    state = _get_state()
    if name in state.conflicts:
        raise PluginConflictError(name, [p.distribution or "?" for p in state.conflicts[name]])
    record = state.plugins.get(name)
    if record is None:
        failed = state.providers.get(name)
        if failed and failed[0].error:
            raise PluginLoadError(name, failed[0].error.split(": ", 1)[-1])
        raise UnknownNameError(name, list(state.providers), kind="plugin")
    assert record.plugin is not None
    return record.plugin


def get_record(name: str) -> PluginRecord:
    """The :class:`PluginRecord` of a usable plugin (see :func:`get_plugin` for the errors)."""
    get_plugin(name)
    return _get_state().plugins[name]
