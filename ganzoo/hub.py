"""Model folders on disk and on the Hugging Face Hub (DESIGN.md §4, §5).

One model folder = one Hub repo::

    README.md            the card (huggingface_hub.ModelCard, YAML front matter + prose)
    config.json          {"ganzoo_version", "plugin", "plugin_version", "config": {...},
                          "components": {"G": {"file": "G.safetensors", "sha256": ..., "size": ...}, ...}}
    G.safetensors …      one file per component; header metadata repeats plugin + component name
    checkpoints/         training state (never pushed)

Rules kept here:

* only safetensors are read; ``config.json`` is data validated against the plugin's config dataclass; nothing
  from a folder or the Hub is executed;
* every file is checked against the sha256 and size that ``config.json`` lists (and, for registry models, that
  the card pins) before it is used — bundled, local and ``hf-hub:`` folders alike;
* loading is strict: missing, unexpected or mis-shaped keys are an error naming the component and keys;
* writes are atomic per file (temp file + ``os.replace``): an interrupted save leaves the old file intact;
* all Hub I/O goes through ``huggingface_hub`` (``hf_hub_download``, ``HfApi.create_commit``), at the pinned
  revision, with ``library_name="ganzoo"``; ``HF_HUB_OFFLINE`` is honoured, and a cached pinned revision
  makes no request at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.resources
import json
import logging
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from . import __version__
from .errors import (
    CardError,
    ConfigError,
    GanzooError,
    HubError,
    HubUnreachableError,
    IntegrityError,
    ModelFolderError,
    RepoNotFoundError,
    RevisionNotFoundError,
    UsageError,
    WeightsError,
    WeightsUnavailableError,
)

if TYPE_CHECKING:  # pragma: no cover
    from huggingface_hub import ModelCard

    from .model import GanModel
    from .registry import ModelEntry

__all__ = [
    "CONFIG_NAME",
    "CARD_NAME",
    "CHECKPOINTS_DIR",
    "sha256_file",
    "atomic_write",
    "canonical_safetensors",
    "save_model_folder",
    "read_config_json",
    "verify_folder",
    "load_model_folder",
    "load",
    "pull",
    "push_folder",
    "PushResult",
]

logger = logging.getLogger(__name__)

CONFIG_NAME = "config.json"
CARD_NAME = "README.md"
CHECKPOINTS_DIR = "checkpoints"
_FILE_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*\.safetensors$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")


# ---------------------------------------------------------------------------------------------------------
# files


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[Any]:
    """Open a temp file next to ``path``; on success fsync and ``os.replace`` it over ``path``.

    If anything fails (or the process dies) before the replace, ``path`` keeps its old content.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def canonical_safetensors(blob: bytes) -> bytes:
    """Rewrite a safetensors header with sorted keys, so equal weights and metadata give equal bytes.

    safetensors keeps ``__metadata__`` in a Rust HashMap whose order changes from run to run; without this a
    file's sha256 would differ for bit-identical weights. Tensor offsets are relative to the data buffer, so
    only the header changes.
    """
    import struct

    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    meta = header.pop("__metadata__", None)
    ordered = ({"__metadata__": dict(sorted(meta.items()))} if meta else {}) | header  # tensors: already in a fixed order
    text = json.dumps(ordered, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the header is padded to 8-byte alignment with spaces
    return struct.pack("<Q", len(text)) + text + blob[8 + n:]


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


# ---------------------------------------------------------------------------------------------------------
# save


def save_model_folder(
    model: "GanModel",
    directory: str | os.PathLike[str],
    *,
    components: Iterable[str] | None = None,
    card: "ModelCard | None" = None,
    extra_components: dict[str, Any] | None = None,
) -> Path:
    """Write ``model`` as a model folder (see the module docstring); returns the folder.

    ``extra_components`` adds networks saved beside the model's own, e.g. ``{"G_ema": ema_generator}``
    (an EMA copy of component ``G``: loading prefers it for sampling, ``load(..., ema=False)`` does not).

    The card is, in order of preference: ``card``; ``model.card``; the folder's existing README.md (its prose
    is kept); a new card from the template. Its ganzoo block is refreshed (sha256 per file, parameters).
    """
    from .cards import load_card, make_card, update_card
    from .config import to_dict

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    names = list(components) if components is not None else list(model.components)
    unknown = [c for c in names if c not in model.components]
    if unknown:
        raise UsageError(f"cannot save components {unknown}: the model has {list(model.components)}")
    plugin = model.plugin
    modules = {c: model.components[c] for c in names}
    for comp, module in (extra_components or {}).items():
        if not (comp.endswith("_ema") and comp[:-4] in plugin.components):
            raise UsageError(f"extra component {comp!r} must be '<component>_ema' for one of {list(plugin.components)}")
        modules[comp] = module
    # Stage every weight file under a temporary name first (fsynced), then rename them all and write config.json
    # last: a crash while serialising leaves the previous folder untouched, and the window in which the files
    # and config.json disagree shrinks to a few renames (a disagreement is refused on load, never used).
    from safetensors.torch import save

    entries: dict[str, dict[str, Any]] = {}
    staged: list[tuple[str, Path]] = []
    try:
        for comp, module in modules.items():
            fname = f"{comp}.safetensors"
            meta = {"format": "pt", "ganzoo_plugin": plugin.name, "ganzoo_component": comp, "ganzoo_version": __version__}
            data = canonical_safetensors(save(_state_dict_for_save(module), metadata=meta))
            fd, tmp = tempfile.mkstemp(prefix=f".{fname}.", suffix=".tmp", dir=directory)
            staged.append((fname, Path(tmp)))
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            entries[comp] = {"file": fname, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    except BaseException:
        for _, tmp in staged:
            tmp.unlink(missing_ok=True)
        raise
    for fname, tmp in staged:
        os.replace(tmp, directory / fname)

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


def _plugin_version(name: str) -> str | None:
    try:
        from .registry import get_record

        return get_record(name).version
    except GanzooError:
        return None


# ---------------------------------------------------------------------------------------------------------
# read and verify


def read_config_json(folder: Path, *, where: str | None = None) -> dict[str, Any]:
    """Read and structurally validate a folder's ``config.json`` (not yet the plugin config itself)."""
    where = where or str(folder)
    path = folder / CONFIG_NAME
    if not path.is_file():
        raise ModelFolderError(f"{where} is not a ganzoo model folder: it has no {CONFIG_NAME}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{where}/{CONFIG_NAME} is not valid JSON ({err}); re-save or re-download the model") from err
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
    comps = data["components"]
    if not isinstance(comps, dict) or not comps:
        raise ConfigError(f"{where}/{CONFIG_NAME}: 'components' must map component names to files")
    for comp, entry in comps.items():
        if not isinstance(entry, dict) or set(entry) != {"file", "sha256", "size"}:
            raise ConfigError(f"{where}/{CONFIG_NAME}: components.{comp} must have exactly file, sha256, size")
        # the file name comes from the Hub: allow a plain safetensors name only (no paths, no other formats)
        if not isinstance(entry["file"], str) or not _FILE_RE.match(entry["file"]):
            raise ConfigError(f"{where}/{CONFIG_NAME}: components.{comp}.file must be a plain *.safetensors name, "
                              f"got {entry['file']!r}")
        if not isinstance(entry["sha256"], str) or not _SHA256_RE.match(entry["sha256"]):
            raise ConfigError(f"{where}/{CONFIG_NAME}: components.{comp}.sha256 is not a sha256 hex digest")
        if not isinstance(entry["size"], int) or entry["size"] < 0:
            raise ConfigError(f"{where}/{CONFIG_NAME}: components.{comp}.size must be a byte count")
    return data


def _verify_file(path: Path, sha256: str, size: int, where: str) -> None:
    if not path.is_file():
        raise ModelFolderError(f"{where} is missing {path.name}: re-download or re-save the model")
    actual_size = path.stat().st_size
    if actual_size != size:
        raise IntegrityError(f"{where}/{path.name} has {actual_size} bytes but config.json says {size}: "
                             f"the file is truncated or replaced; refusing to load it")
    actual = sha256_file(path)
    if actual != sha256:
        raise IntegrityError(f"{where}/{path.name} sha256 {actual[:12]}… does not match config.json "
                             f"({sha256[:12]}…): the file is corrupt or replaced; refusing to load it")


def verify_folder(folder: str | os.PathLike[str], *, components: Iterable[str] | None = None,
                  where: str | None = None) -> dict[str, Any]:
    """Check every listed (or the given) component file against config.json; return the config.json dict."""
    folder = Path(folder)
    where = where or str(folder)
    data = read_config_json(folder, where=where)
    names = list(components) if components is not None else list(data["components"])
    for comp in names:
        entry = data["components"].get(comp)
        if entry is None:
            raise ModelFolderError(f"{where}: config.json lists no weights for component '{comp}' "
                                   f"(it has {', '.join(data['components'])})")
        _verify_file(folder / entry["file"], entry["sha256"], entry["size"], where)
    return data


def _load_component(module: Any, path: Path, comp: str, plugin: str, where: str) -> None:
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            meta = f.metadata() or {}
            state = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError, ValueError) as err:
        raise WeightsError(f"{where}/{path.name} is not a readable safetensors file ({err}); refusing to load it") from err
    if meta.get("ganzoo_component", comp) != comp or meta.get("ganzoo_plugin", plugin) != plugin:
        raise WeightsError(f"{where}/{path.name} holds {meta.get('ganzoo_plugin')}.{meta.get('ganzoo_component')}, "
                           f"not {plugin}.{comp}")
    _load_component_state(module, state, comp, plugin, where=f"{where}/{path.name}")


def _load_component_state(module: Any, state: dict[str, Any], comp: str, plugin: str, *, where: str) -> None:
    """Strictly load ``state`` into ``module``: missing/unexpected keys and shape mismatches are named."""
    expected = module.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing keys {_abbrev(missing)}")
        if unexpected:
            parts.append(f"unexpected keys {_abbrev(unexpected)}")
        raise WeightsError(f"{where} does not fit {plugin}.{comp}: {'; '.join(parts)} "
                           f"(was it saved with another config?)")
    wrong = [f"{k} {tuple(state[k].shape)} vs {tuple(v.shape)}" for k, v in expected.items()
             if tuple(state[k].shape) != tuple(v.shape)]
    if wrong:
        raise WeightsError(f"{where} does not fit {plugin}.{comp}: shape mismatch "
                           f"{_abbrev(wrong)} (file vs config; was it saved with another config?)")
    module.load_state_dict(state, strict=True)


def _abbrev(items: list[str], n: int = 4) -> str:
    return ", ".join(items[:n]) + (f" … (+{len(items) - n} more)" if len(items) > n else "")


def _load_plan(data: dict[str, Any], plugin: Any, components: Iterable[str] | str | None, *, ema: bool,
               where: str, options: dict[str, Any] | None = None) -> dict[str, str]:
    """Which file component goes into which network: ``{component: component whose file to read}``.

    ``None`` → the plugin's inference components the folder has; ``"all"`` → every network the folder has;
    with ``ema`` an inference component reads ``<name>_ema`` when the folder has it.
    """
    available = list(data["components"])
    allowed = set(plugin.components) | {f"{c}_ema" for c in plugin.components}
    unknown = [c for c in available if c not in allowed]
    if unknown:
        raise ConfigError(f"{where}/{CONFIG_NAME} lists components {unknown} that plugin '{plugin.name}' does not "
                          f"have ({', '.join(plugin.components)})")
    bases = [c for c in available if not c.endswith("_ema") or c[:-4] not in plugin.components]
    if components is None and options:
        # the plugin may need fewer networks for these sampling options (a CycleGAN direction: one generator)
        wanted = plugin.load_impl().inference_components(**options)
        # only when the folder has them: otherwise load as usual and let sample() explain what is missing
        if wanted and all(c in available or f"{c}_ema" in available for c in wanted):
            components = list(wanted)
    if components is None:
        names = [c for c in plugin.inference if c in available or f"{c}_ema" in available] or bases
    elif components == "all":
        names = list(dict.fromkeys(bases + [c[:-4] for c in available if c not in bases]))
    else:
        names = [components] if isinstance(components, str) else list(components)
        bad = [c for c in names if c not in plugin.components]
        if bad:
            raise UsageError(f"{plugin.name} has no component {bad}; it has {', '.join(plugin.components)}")
    plan = {}
    for comp in names:
        if ema and comp in plugin.inference and f"{comp}_ema" in available:
            plan[comp] = f"{comp}_ema"
        elif comp in available:
            plan[comp] = comp
        else:
            raise ModelFolderError(f"{where} has no weights for component '{comp}' (it has {', '.join(available)})")
    return plan


def load_model_folder(
    folder: str | os.PathLike[str],
    *,
    components: Iterable[str] | str | None = None,
    ema: bool = True,
    card: "ModelCard | None" = None,
    pins: dict[str, str] | None = None,
    where: str | None = None,
    options: dict[str, Any] | None = None,
) -> "GanModel":
    """Build the plugin's networks from ``config.json`` and load the verified weights; returns an eval-mode model.

    Args:
        folder: the model folder.
        components: which networks to load: ``None`` → the plugin's inference components, ``"all"`` → every
            network the folder has, or a list of names. Networks not loaded keep fresh weights.
        ema: load ``<name>_ema`` (the EMA of an inference network) in place of ``<name>`` when present.
        card: the card to attach (default: the folder's README.md, when it parses).
        pins: ``{file name: sha256}`` that must also match (a registry card's pins).
        where: how to name the folder in errors.
    """
    from .cards import load_card
    from .config import from_dict
    from .registry import get_plugin

    folder = Path(folder)
    where = where or str(folder)
    if not folder.exists():
        raise ModelFolderError(f"No such model folder: {where}")
    if not folder.is_dir():
        raise ModelFolderError(f"{where} is a file, not a model folder")
    data = read_config_json(folder, where=where)
    plugin = get_plugin(data["plugin"])
    plan = _load_plan(data, plugin, components, ema=ema, where=where, options=options)
    for fname, digest in (pins or {}).items():
        if fname == CONFIG_NAME:
            if sha256_file(folder / CONFIG_NAME) != digest:
                raise IntegrityError(f"{where}/{CONFIG_NAME} does not match the sha256 the model card pins")
            continue
        entry = next((e for e in data["components"].values() if e["file"] == fname), None)
        if entry is not None and entry["sha256"] != digest:
            raise IntegrityError(f"{where}/{CONFIG_NAME} lists {fname} with sha256 {entry['sha256'][:12]}… but the "
                                 f"model card pins {digest[:12]}…: refusing weights the card does not vouch for")
    verify_folder(folder, components=sorted(set(plan.values())), where=where)

    config_cls = plugin.load_config_class()
    config = from_dict(config_cls, data["config"], source=f"{where}/{CONFIG_NAME}")
    impl = plugin.load_impl()
    model = impl.build(config)
    for comp, file_comp in plan.items():
        _load_component(model.components[comp], folder / data["components"][file_comp]["file"], file_comp,
                        plugin.name, where)
    if card is None and (folder / CARD_NAME).is_file():
        try:
            card = load_card(folder / CARD_NAME)
        except CardError as err:
            logger.warning("%s (the weights are fine; the card is ignored)", err)
    model.card = card
    model.loaded_components = dict(plan)  # type: ignore[attr-defined]
    return model.eval()


# ---------------------------------------------------------------------------------------------------------
# the Hub


def _endpoint() -> str:
    from huggingface_hub import constants

    return os.environ.get("HF_ENDPOINT") or constants.ENDPOINT


def _cache_dir() -> str:
    from huggingface_hub import constants

    return str(constants.HF_HUB_CACHE)


def _api(token: str | bool | None = None) -> Any:
    from huggingface_hub import HfApi

    return HfApi(endpoint=_endpoint(), token=token, library_name="ganzoo", library_version=__version__)


@contextlib.contextmanager
def _hub_errors(repo_id: str, revision: str | None, *, action: str, cached_hint: bool = True) -> Iterator[None]:
    """Translate huggingface_hub / transport errors into one-line ganzoo errors."""
    from huggingface_hub import errors as hf

    rev = revision or "main"
    try:
        yield
    except hf.RepositoryNotFoundError as err:
        raise RepoNotFoundError(f"Hub repo '{repo_id}' was not found at {_endpoint()} (or it is private: "
                                f"set HF_TOKEN); check the name") from err
    except hf.RevisionNotFoundError as err:
        raise RevisionNotFoundError(f"Hub repo '{repo_id}' has no revision '{rev}'; use a branch, tag or commit "
                                    f"that exists (or drop @revision for main)") from err
    except hf.RemoteEntryNotFoundError as err:
        raise ModelFolderError(f"hf-hub:{repo_id}@{rev} is not a ganzoo model: {err.response.url.path.rsplit('/', 1)[-1] if getattr(err, 'response', None) is not None else 'a file'} "
                               f"is missing from the repo") from err
    except (hf.LocalEntryNotFoundError, hf.OfflineModeIsEnabled) as err:
        offline = _offline()
        why = "HF_HUB_OFFLINE is set" if offline else f"the Hub ({_endpoint()}) cannot be reached"
        if cached_hint:
            raise WeightsUnavailableError(
                f"Cannot {action}: {why} and {repo_id}@{rev} is not in the cache ({_cache_dir()}); connect to the "
                f"Hub, or run `ganzoo pull` where it is reachable and copy the cache") from err
        raise HubUnreachableError(f"Cannot {action}: {why}") from err
    except hf.HfHubHTTPError as err:
        status = err.response.status_code if getattr(err, "response", None) is not None else "?"
        raise HubError(f"Cannot {action}: the Hub answered HTTP {status} for {repo_id}@{rev}") from err
    except hf.HTTPError as err:  # transport errors (connection refused, DNS, timeouts)
        raise HubUnreachableError(f"Cannot {action}: the Hub ({_endpoint()}) cannot be reached "
                                  f"({type(err).__name__}); check the connection or HF_ENDPOINT") from err


def _offline() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def _download(repo_id: str, filename: str, revision: str, *, optional: bool = False) -> Path | None:
    from huggingface_hub import errors as hf
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(repo_id, filename, revision=revision, library_name="ganzoo",
                                    library_version=__version__, endpoint=_endpoint()))
    except hf.EntryNotFoundError:
        if optional:
            return None
        raise


def download_model(repo_id: str, revision: str | None = None, *, components: Iterable[str] | str | None = None,
                   ema: bool = True, with_card: bool = True, options: dict[str, Any] | None = None) -> Path:
    """Fetch ``config.json`` (+ README.md) and the wanted component files into the HF cache; return the snapshot folder.

    Every file is fetched at one commit: the one ``config.json`` resolved to, so a push between two downloads
    cannot mix revisions. Nothing is fetched twice: a cached pinned commit makes no request.
    """
    from .registry import get_plugin

    rev = revision or "main"
    with _hub_errors(repo_id, revision, action=f"download hf-hub:{repo_id}@{rev}"):
        config_path = _download(repo_id, CONFIG_NAME, rev)
        assert config_path is not None
        snapshot = config_path.parent
        commit = snapshot.name if _COMMIT_RE.match(snapshot.name) else rev
        where = f"hf-hub:{repo_id}@{commit[:12]}"
        data = read_config_json(snapshot, where=where)
        if components == "all":
            files = set(data["components"])
        else:
            files = set(_load_plan(data, get_plugin(data["plugin"]), components, ema=ema, where=where,
                                   options=options).values())
        for comp in sorted(files):
            _download(repo_id, data["components"][comp]["file"], commit)
        if with_card:
            _download(repo_id, CARD_NAME, commit, optional=True)
    return snapshot


def _registry_folder(entry: "ModelEntry") -> contextlib.AbstractContextManager[Path]:
    return importlib.resources.as_file(entry.folder)


def load(name: str, *, components: Iterable[str] | str | None = None, ema: bool = True,
         device: Any = None, options: dict[str, Any] | None = None) -> "GanModel":
    """Resolve ``name`` and return the model in eval mode (see :func:`ganzoo.load`)."""
    from .cards import load_card
    from .names import resolve
    from .registry import get_plugin

    res = resolve(name)
    if res.kind == "local":
        assert res.path is not None
        model = load_model_folder(res.path, components=components, ema=ema, options=options, where=str(res.path))
    elif res.kind == "hub":
        assert res.repo_id is not None
        snapshot = download_model(res.repo_id, res.revision, components=components, ema=ema, options=options)
        where = f"hf-hub:{res.repo_id}@{snapshot.name[:12]}"
        model = load_model_folder(snapshot, components=components, ema=ema, options=options, where=where)
    else:
        entry = res.entry
        assert entry is not None
        with _registry_folder(entry) as folder:
            card = load_card(folder / CARD_NAME, path=f"{entry.id} card")
            get_plugin(entry.plugin)  # a clear error if the plugin is missing, before any download
            if entry.bundled:
                model = load_model_folder(folder, components=components, ema=ema, card=card, options=options,
                                          pins=dict(entry.card.sha256), where=f"{entry.id} (bundled)")
            else:
                info = entry.card
                if info.repo_id is None or info.revision is None:
                    raise WeightsUnavailableError(
                        f"The weights of {entry.id} are not published yet (its card pins no Hub repo/revision); "
                        f"see `ganzoo info {entry.id}` for how to convert the original checkpoint")
                snapshot = download_model(info.repo_id, info.revision, components=components, ema=ema,
                                          with_card=False, options=options)
                model = load_model_folder(snapshot, components=components, ema=ema, card=card, pins=dict(info.sha256),
                                          options=options,
                                          where=f"{entry.id} (hf-hub:{info.repo_id}@{info.revision[:12]})")
    model.name = name
    if device is not None:
        model.to(device)
    return model


def pull(name: str, *, components: Iterable[str] | str | None = None) -> Path:
    """Prefetch a model's files into the HF cache (for offline use); returns the cached snapshot folder.

    Bundled and local models need nothing and return their folder.
    """
    from .names import resolve

    res = resolve(name)
    if res.kind == "local":
        assert res.path is not None
        verify_folder(res.path)
        return res.path
    if res.kind == "hub":
        assert res.repo_id is not None
        snapshot = download_model(res.repo_id, res.revision, components=components or "all")
        verify_folder(snapshot, components=None if components in (None, "all") else components,
                      where=f"hf-hub:{res.repo_id}@{snapshot.name[:12]}")
        return snapshot
    entry = res.entry
    assert entry is not None
    if entry.bundled:
        with _registry_folder(entry) as folder:
            return Path(folder)
    info = entry.card
    if info.repo_id is None or info.revision is None:
        raise WeightsUnavailableError(f"The weights of {entry.id} are not published yet (its card pins no Hub "
                                      f"repo/revision)")
    snapshot = download_model(info.repo_id, info.revision, components=components or "all", with_card=False)
    return snapshot


@dataclass(frozen=True)
class PushResult:
    """What :func:`push_folder` did."""

    repo_id: str
    commit: str  # the commit sha holding the upload (pin it in a card)
    url: str  # the commit's URL
    files: tuple[str, ...]


def push_folder(folder: str | os.PathLike[str], repo_id: str, *, private: bool = False,
                commit_message: str | None = None, token: str | None = None) -> PushResult:
    """Upload a model folder to a Hub repo (created if needed) and return the commit.

    Uploads README.md (with ``ganzoo.repo_id`` set), config.json and the component files config.json lists,
    after verifying every hash. ``checkpoints/`` and any other file stay local.

    Raises:
        ModelFolderError / IntegrityError: the folder is not a valid model folder (nothing is uploaded).
        HubUnreachableError / HubError: the Hub refused or could not be reached.
    """
    from huggingface_hub import CommitOperationAdd

    from .cards import load_card, update_card

    folder = Path(folder)
    if not re.match(r"^[A-Za-z0-9][\w.\-]*/[A-Za-z0-9][\w.\-]*$", repo_id):
        raise UsageError(f"'{repo_id}' is not a Hub repo id: write <org>/<name>")
    if not folder.is_dir():
        raise ModelFolderError(f"No such model folder: {folder}")
    data = verify_folder(folder)
    ops = [CommitOperationAdd(CONFIG_NAME, str(folder / CONFIG_NAME))]
    ops += [CommitOperationAdd(e["file"], str(folder / e["file"])) for e in data["components"].values()]
    if (folder / CARD_NAME).is_file():
        card = load_card(folder / CARD_NAME)
        # The commit that will hold this card cannot be known before it is made, so the pushed card names the
        # repo but pins no revision; the pin lives in the registry card (see `ganzoo push --pin-card`).
        update_card(card, repo_id=repo_id, revision=None)
        ops.append(CommitOperationAdd(CARD_NAME, str(card).encode("utf-8")))
    else:
        raise ModelFolderError(f"{folder} has no {CARD_NAME}: save the model with save_pretrained() to write its card")
    api = _api(token)
    with _hub_errors(repo_id, None, action=f"push to {repo_id}", cached_hint=False):
        api.create_repo(repo_id, private=private, exist_ok=True)
        info = api.create_commit(repo_id, operations=ops,
                                 commit_message=commit_message or f"Upload {data['plugin']} model with ganzoo {__version__}")
    return PushResult(repo_id, info.oid, info.commit_url, tuple(op.path_in_repo for op in ops))


def cached_snapshot(repo_id: str, revision: str) -> Path | None:
    """The cached snapshot folder of ``repo_id`` at a commit sha if its config.json is cached (no network)."""
    from huggingface_hub import constants

    p = Path(constants.HF_HUB_CACHE) / f"models--{repo_id.replace('/', '--')}" / "snapshots" / revision
    return p if (p / CONFIG_NAME).exists() else None


def write_pinned_card(folder: str | os.PathLike[str], card_dir: str | os.PathLike[str], *, repo_id: str,
                      revision: str) -> Path:
    """Write a registry card (``cards/<plugin>-<tag>/README.md``) that pins a pushed model folder.

    The card gets ``ganzoo.repo_id``, ``ganzoo.revision`` (the commit) and the sha256 of config.json and of
    every component file, so ``ganzoo.load("<plugin>-<tag>")`` fetches exactly those bytes and refuses others.
    This is the last step of the maintainer procedure: convert or train → push → pin.
    """
    from .cards import load_card, update_card

    folder, card_dir = Path(folder), Path(card_dir)
    if not _COMMIT_RE.match(revision):
        raise UsageError(f"revision must be a 40-hex commit sha, got {revision!r}")
    data = verify_folder(folder)
    card = load_card(folder / CARD_NAME)
    block = dict(getattr(card.data, "ganzoo", {}) or {})
    expected = f"{block.get('plugin')}-{block.get('tag')}"
    if card_dir.name != expected:
        raise UsageError(f"the card folder must be named after the model id: {card_dir.parent / expected} "
                         f"(not {card_dir.name})")
    sha = {CONFIG_NAME: sha256_file(folder / CONFIG_NAME)}
    sha.update({e["file"]: e["sha256"] for e in data["components"].values()})
    update_card(card, repo_id=repo_id, revision=revision, sha256=sha)
    card_dir.mkdir(parents=True, exist_ok=True)
    with atomic_write(card_dir / CARD_NAME, "w") as f:
        f.write(str(card))
    return card_dir / CARD_NAME
