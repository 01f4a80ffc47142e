"""The model-folder format: writing a folder, reading and verifying its ``config.json`` and weight files.

One model folder = one Hub repo::

    README.md            the card (huggingface_hub.ModelCard, YAML front matter + prose)
    config.json          {"ganzoo_version", "plugin", "plugin_version", "config": {...},
                          "components": {"G": {"file": "G.safetensors", "sha256": ..., "size": ...}, ...}}
    G.safetensors …      one file per component; header metadata repeats plugin + component name
    checkpoints/         training state (never pushed)

Rules kept here:

* ``config.json`` is data (plain ``*.safetensors`` file names, hashes, sizes; a size cap; no code); every file is
  checked against the sha256 and size it lists before it is used;
* a save switches from the old weights to the new ones at one atomic step, the replace of ``config.json``: the new
  weight files are first written beside the old ones as ``.<file>.<sha256>.pending`` (complete and fsynced), then
  ``config.json`` is replaced, then the pending files are renamed over the old ones. A crash before the switch
  leaves the old model; a crash after it leaves the new one, whose not-yet-renamed files are read from their
  pending names (:func:`component_paths`). The next save finishes the renames and removes temp-file litter.

Loading (plans, size checks, strict state loading) lives in :mod:`ganzoo.loading`; the Hub in :mod:`ganzoo.hubio`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .errors import CardError, ConfigError, GanzooError, IntegrityError, ModelFolderError, UsageError
from .files import atomic_write, fsync_dir, make_output_dir, read_json_file, sha256_file

if TYPE_CHECKING:  # pragma: no cover
    from huggingface_hub import ModelCard

    from .model import GanModel

__all__ = [
    "CONFIG_NAME",
    "CARD_NAME",
    "CHECKPOINTS_DIR",
    "MAX_CONFIG_BYTES",
    "save_model_folder",
    "read_config_json",
    "verify_folder",
    "component_paths",
    "pending_name",
    "tidy_folder",
    "fingerprint",
    "untouched_fresh_components",
]

logger = logging.getLogger(__name__)

CONFIG_NAME = "config.json"
CARD_NAME = "README.md"
CHECKPOINTS_DIR = "checkpoints"
MAX_CONFIG_BYTES = 1 << 20  # a config.json is a few KiB; anything near this is not one
FILE_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*\.safetensors$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_PENDING_RE = re.compile(r"^\.([A-Za-z0-9_][A-Za-z0-9_.\-]*\.safetensors)\.([0-9a-f]{64})\.pending$")
# temp files of atomic_write for the files a save writes: .<name>.<random>.tmp
_LITTER_RE = re.compile(r"^\.(config\.json|README\.md|[A-Za-z0-9_][A-Za-z0-9_.\-]*\.safetensors"
                        r"|\.[A-Za-z0-9_][A-Za-z0-9_.\-]*\.safetensors\.[0-9a-f]{64}\.pending)\.[A-Za-z0-9_]+\.tmp$")


def pending_name(file: str, sha256: str) -> str:
    """Where a save stages the new content of ``file`` until ``config.json`` switches to it."""
    return f".{file}.{sha256}.pending"


# ---------------------------------------------------------------------------------------------------------
# save


def _state_dict_for_save(module: Any) -> dict[str, Any]:
    # detach, move to CPU, make contiguous; clone storage-sharing tensors (safetensors refuses shared storage)
    out: dict[str, Any] = {}
    seen: set[int] = set()
    for k, v in module.state_dict().items():
        t = v.detach().to("cpu").contiguous()
        ptr = t.untyped_storage().data_ptr() if t.numel() else -1
        if ptr in seen and ptr != -1:
            t = t.clone()
        seen.add(ptr)
        out[k] = t
    return out


def _serialize(module: Any, plugin: str, comp: str) -> bytes:
    from safetensors.torch import save

    from .files import canonical_safetensors

    meta = {"format": "pt", "ganzoo_plugin": plugin, "ganzoo_component": comp, "ganzoo_version": __version__}
    return canonical_safetensors(save(_state_dict_for_save(module), metadata=meta))


def fingerprint(module: Any) -> tuple[Any, ...]:
    """Cheap, exact-enough identity of a network's values (fresh weights vs anything trained or loaded)."""
    import torch

    with torch.no_grad():
        return tuple((k, tuple(v.shape), float(v.double().sum()) if v.numel() else 0.0,
                      float(v.flatten()[0]) if v.numel() else 0.0)
                     for k, v in module.state_dict().items())


def untouched_fresh_components(model: "GanModel") -> list[str]:
    """Components an inference-only load left with fresh weights and nothing changed since (not trained,
    not loaded by hand): what saving by default leaves out."""
    fresh = getattr(model, "_ganzoo_fresh", None) or {}
    return [c for c, fp in fresh.items() if c in model.components and fingerprint(model.components[c]) == fp]


def _default_components(model: "GanModel") -> list[str]:
    """All components, less those an inference-only load left with fresh weights (saving them would publish
    random networks as if trained); said in a warning."""
    skipped = untouched_fresh_components(model)
    names = [c for c in model.components if c not in skipped]
    if skipped:
        logger.warning("Saving %s only: %s %s not loaded (ganzoo.load(..., components=\"all\") loads every network) "
                       "and still hold%s fresh weights; pass components=[...] to save them anyway",
                       ", ".join(names), ", ".join(skipped), "was" if len(skipped) == 1 else "were",
                       "s" if len(skipped) == 1 else "")
    return names


def save_model_folder(
    model: "GanModel",
    directory: str | os.PathLike[str],
    *,
    components: Iterable[str] | None = None,
    card: "ModelCard | None" = None,
    extra_components: dict[str, Any] | None = None,
) -> Path:
    """Write ``model`` as a model folder (see the module docstring); returns the folder.

    Args:
        model: the model to write.
        directory: the folder; it and its missing parents are created (as ``mkdir -p``).
        components: which components to write. Default: every component, except those a
            ``ganzoo.load(...)`` for inference did not load (they hold fresh, untrained weights; a warning
            says which, and ``components=[...]`` writes them anyway).
        card: the card. Default, in order: ``model.card``; the folder's README.md (its prose is kept); a new
            card from the template. Its ganzoo block is refreshed (sha256 per file, parameters).
        extra_components: networks saved beside the model's own, e.g. ``{"G_ema": ema_generator}`` (an EMA
            copy of component ``G``: loading prefers it for sampling, ``load(..., ema=False)`` does not).

    Returns:
        `Path`: the folder.

    Raises:
        UsageError: an unknown component, or a folder that cannot be created.

    Example:
        ```python
        >>> save_model_folder(ganzoo.build("dcgan"), "runs/fresh")
        PosixPath('runs/fresh')
        ```
    """
    from .cards import load_card, make_card, update_card
    from .config import to_dict

    directory = make_output_dir(directory, what="model folder")
    names = list(components) if components is not None else _default_components(model)
    unknown = [c for c in names if c not in model.components]
    if unknown:
        raise UsageError(f"cannot save components {unknown}: the model has {list(model.components)}")
    plugin = model.plugin
    modules = {c: model.components[c] for c in names}
    for comp, module in (extra_components or {}).items():
        if not (comp.endswith("_ema") and comp[:-4] in plugin.components):
            raise UsageError(f"extra component {comp!r} must be '<component>_ema' for one of {list(plugin.components)}")
        modules[comp] = module
    tidy_folder(directory)

    # 1. stage: every new weight file complete and fsynced under its pending name (the old model still loads)
    entries: dict[str, dict[str, Any]] = {}
    try:
        for comp, module in modules.items():
            data = _serialize(module, plugin.name, comp)
            entry = {"file": f"{comp}.safetensors", "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            entries[comp] = entry
            with atomic_write(directory / pending_name(entry["file"], entry["sha256"])) as f:
                f.write(data)
    except BaseException:  # nothing switched yet: the folder keeps the old model; drop what was staged
        for entry in entries.values():
            (directory / pending_name(entry["file"], entry["sha256"])).unlink(missing_ok=True)
        raise
    # 2. switch: config.json names the new weights (those not yet renamed are read from their pending names)
    config_json = {
        "ganzoo_version": __version__,
        "plugin": plugin.name,
        "plugin_version": _plugin_version(plugin.name),
        "config": to_dict(model.config),
        "components": entries,
    }
    with atomic_write(directory / CONFIG_NAME, "w") as f:
        json.dump(config_json, f, indent=2, sort_keys=False)
        f.write("\n")
    fsync_dir(directory)
    # 3. settle: pending files take their final names
    _settle(directory, entries)

    if card is None:
        card = model.card
    if card is None and (directory / CARD_NAME).is_file():
        try:
            card = load_card(directory / CARD_NAME)
        except CardError as err:
            logger.warning("%s; writing a new card", err)
    if card is None:
        tag = (model.name or "custom").split("-", 1)[-1] if model.name and "-" in (model.name or "") else "custom"
        card = make_card(plugin=plugin, tag=tag, ganzoo={}, license=plugin.license.lower() if plugin.license else None)
    sha = {e["file"]: e["sha256"] for e in entries.values()}
    params = {"total": model.num_parameters(names),
              "inference": model.num_parameters([c for c in plugin.inference if c in names])}
    update_card(card, sha256=sha, parameters=params)
    with atomic_write(directory / CARD_NAME, "w") as f:
        f.write(str(card))
    model.card = card
    return directory


def _settle(folder: Path, entries: dict[str, dict[str, Any]]) -> None:
    """Rename each pending file over its final name (config.json already names its bytes)."""
    for entry in entries.values():
        pending = folder / pending_name(entry["file"], entry["sha256"])
        if pending.is_file():
            os.replace(pending, folder / entry["file"])
    fsync_dir(folder)


def tidy_folder(folder: str | os.PathLike[str]) -> None:
    """Finish a save a crash interrupted and remove what it left: renames still pending for the current
    ``config.json`` are done; pending files it does not name and ``atomic_write`` temp files are deleted.

    Only files named the way a save names them are touched; a folder without a valid ``config.json`` only loses
    temp files.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return
    entries: dict[str, dict[str, Any]] = {}
    try:
        entries = read_config_json(folder)["components"]
    except GanzooError:
        pass
    if entries:
        _settle(folder, entries)
    wanted = {pending_name(e["file"], e["sha256"]) for e in entries.values()}
    for p in folder.iterdir():
        if (_LITTER_RE.fullmatch(p.name) or (_PENDING_RE.fullmatch(p.name) and p.name not in wanted)) and p.is_file():
            p.unlink(missing_ok=True)


def _plugin_version(name: str) -> str | None:
    try:
        from .registry import get_record

        return get_record(name).version
    except GanzooError:
        return None


# ---------------------------------------------------------------------------------------------------------
# read and verify


def read_config_json(folder: str | os.PathLike[str], *, where: str | None = None) -> dict[str, Any]:
    """Read and structurally validate a folder's ``config.json`` (not yet the plugin config itself).

    Raises:
        ModelFolderError: the folder has no config.json.
        ConfigError: it is too large, not JSON, nested too deeply, or not in the format above.
    """
    folder = Path(folder)
    where = where or str(folder)
    path = folder / CONFIG_NAME
    if not path.is_file():
        raise ModelFolderError(f"{where} is not a ganzoo model folder: it has no {CONFIG_NAME}")
    data = read_json_file(path, max_bytes=MAX_CONFIG_BYTES, where=f"{where}/{CONFIG_NAME}")
    if not isinstance(data, dict):
        raise ConfigError(f"{where}/{CONFIG_NAME} must be a JSON object")
    allowed = {"ganzoo_version", "plugin", "plugin_version", "config", "components", "training"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ConfigError(f"{where}/{CONFIG_NAME}: unknown top-level keys {unknown}; expected {sorted(allowed)}")
    for key in ("plugin", "config", "components"):
        if key not in data:
            raise ConfigError(f"{where}/{CONFIG_NAME}: missing '{key}'")
    if not isinstance(data["plugin"], str):
        raise ConfigError(f"{where}/{CONFIG_NAME}: 'plugin' must be a string")
    if not isinstance(data["config"], dict):
        raise ConfigError(f"{where}/{CONFIG_NAME}: 'config' must be a JSON object")
    comps = data["components"]
    if not isinstance(comps, dict) or not comps:
        raise ConfigError(f"{where}/{CONFIG_NAME}: 'components' must map component names to files")
    for comp, entry in comps.items():
        if not isinstance(entry, dict) or set(entry) != {"file", "sha256", "size"}:
            raise ConfigError(f"{where}/{CONFIG_NAME}: components.{comp} must have exactly file, sha256, size")
        # the file name comes from the Hub: allow a plain safetensors name only (no paths, no other formats)
        if not isinstance(entry["file"], str) or not FILE_RE.fullmatch(entry["file"]):
            raise ConfigError(f"{where}/{CONFIG_NAME}: components.{comp}.file must be a plain *.safetensors name, "
                              f"got {entry['file']!r}")
        if not isinstance(entry["sha256"], str) or not _SHA256_RE.fullmatch(entry["sha256"]):
            raise ConfigError(f"{where}/{CONFIG_NAME}: components.{comp}.sha256 is not a sha256 hex digest")
        if not isinstance(entry["size"], int) or isinstance(entry["size"], bool) or entry["size"] < 0:
            raise ConfigError(f"{where}/{CONFIG_NAME}: components.{comp}.size must be a byte count")
    return data


def _matches(path: Path, entry: dict[str, Any]) -> bool:
    return path.is_file() and path.stat().st_size == entry["size"] and sha256_file(path) == entry["sha256"]


def _verified_path(folder: Path, entry: dict[str, Any], where: str) -> Path:
    path = folder / entry["file"]
    if _matches(path, entry):
        return path
    # a save interrupted after its switch-over: the new bytes still wait under their pending name
    pending = folder / pending_name(entry["file"], entry["sha256"])
    if _matches(pending, entry):
        return pending
    if not path.is_file():
        raise ModelFolderError(f"{where} is missing {entry['file']}: re-download or re-save the model")
    actual_size = path.stat().st_size
    if actual_size != entry["size"]:
        raise IntegrityError(f"{where}/{entry['file']} has {actual_size} bytes but config.json says {entry['size']}: "
                             f"the file is truncated or replaced; refusing to load it")
    actual = sha256_file(path)
    raise IntegrityError(f"{where}/{entry['file']} sha256 {actual[:12]}… does not match config.json "
                         f"({entry['sha256'][:12]}…): the file is corrupt or replaced; refusing to load it")


def component_paths(folder: str | os.PathLike[str], data: dict[str, Any], components: Iterable[str] | None = None,
                    *, where: str | None = None) -> dict[str, Path]:
    """The verified file of each listed (or each given) component: ``{component: path}``.

    Every file is checked against the size and sha256 that ``config.json`` (``data``) lists; the path is the
    file's own, or its pending name after an interrupted save (see the module docstring).

    Raises:
        ModelFolderError: a component is not listed, or its file is missing.
        IntegrityError: a file's size or sha256 differs from config.json.
    """
    folder = Path(folder)
    where = where or str(folder)
    names = list(components) if components is not None else list(data["components"])
    out = {}
    for comp in names:
        entry = data["components"].get(comp)
        if entry is None:
            raise ModelFolderError(f"{where}: config.json lists no weights for component '{comp}' "
                                   f"(it has {', '.join(data['components'])})")
        out[comp] = _verified_path(folder, entry, where)
    return out


def verify_folder(folder: str | os.PathLike[str], *, components: Iterable[str] | None = None,
                  where: str | None = None) -> dict[str, Any]:
    """Check every listed (or the given) component file against config.json; return the config.json dict.

    Raises:
        ModelFolderError / ConfigError / IntegrityError: as :func:`read_config_json` and :func:`component_paths`.

    Example:
        ```python
        >>> verify_folder("runs/mine")["plugin"]
        'dcgan'
        ```
    """
    folder = Path(folder)
    where = where or str(folder)
    data = read_config_json(folder, where=where)
    component_paths(folder, data, components, where=where)
    return data
