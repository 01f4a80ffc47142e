"""Converting the original authors' checkpoints into ganzoo model folders (``ganzoo convert``).

The core reads the file safely and writes the folder; the plugin maps the keys. A plugin supports conversion
by implementing::

    def convert(self, state_dict: dict[str, Tensor], *, source: str, **options) -> Converted

where ``state_dict`` comes from :func:`read_original_checkpoint` (``torch.load(weights_only=True)``: tensors
and plain containers only, nothing executed; ``module.`` prefixes of DataParallel removed; a nested
``{"state_dict": …}`` unwrapped) and :class:`Converted` says which config and which components the weights
fill, plus provenance for the card. The core then builds the networks, loads the weights strictly (key and
shape errors name the component) and saves a model folder with a card whose ``converted_from`` block records
the source file's name and sha256.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import UsageError, WeightsError

__all__ = ["Converted", "read_original_checkpoint", "convert_checkpoint", "strip_prefix", "original_name",
           "tag_from_name", "describe_non_generator"]


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


def read_original_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a ``.pth``/``.pt`` checkpoint as a flat ``{key: tensor}`` state dict, safely.

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
    for key in ("state_dict", "model", "netG", "generator"):
        if isinstance(obj, dict) and key in obj and isinstance(obj[key], dict):
            obj = obj[key]
            break
    if not isinstance(obj, dict) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        kind = type(obj).__name__ if not isinstance(obj, dict) else "a dict of non-tensors"
        raise WeightsError(f"{path} holds {kind}, not a state dict of tensors")
    return strip_prefix(dict(obj))


def convert_checkpoint(plugin_name: str, original: str | os.PathLike[str], out_dir: str | os.PathLike[str], *,
                       tag: str | None = None, **options: Any) -> Path:
    """Convert ``original`` with the plugin's ``convert`` hook and write a model folder to ``out_dir``.

    Returns:
        `Path`: the model folder (load it with ``ganzoo.load(out_dir)``; push it with ``ganzoo push``).
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
    state = read_original_checkpoint(original)
    result: Converted = impl.convert(state, source=str(original), **options)
    model = impl.build(result.config)
    for comp, weights in result.weights.items():
        if comp not in model.components:
            raise WeightsError(f"the converter produced weights for '{comp}', which {plugin_name} does not have")
        _load_component_state(model.components[comp], {k: v for k, v in weights.items()}, comp, plugin_name,
                              where=str(original))
    model.eval()
    tag = tag or result.tag or "converted"
    provenance = {"file": original.name, "sha256": sha256_file(original), **result.provenance}
    if options:
        provenance["options"] = {k: v for k, v in options.items() if v is not None}
    card = make_card(plugin=spec, tag=tag, ganzoo={"converted_from": provenance, **result.card},
                     license=(result.card.get("weights_license") or (spec.license or "").lower() or None),
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
