"""Converting DCGAN generators in the PyTorch DCGAN tutorial's layout — the most copied DCGAN — into ganzoo.

The tutorial's ``Generator`` is one ``nn.Sequential`` named ``main``: ``ConvTranspose2d(nz, ngf·2^(n-2), 4, 1, 0)``,
``BatchNorm2d``, ``ReLU``, then per doubling ``ConvTranspose2d(4, 2, 1)`` + BN + ReLU, and a last
``ConvTranspose2d(ngf, C, 4, 2, 1)`` + ``Tanh``; no biases. ganzoo's :class:`~ganzoo_dcgan.model.Generator` keeps
that layout, so the keys map one to one (``main.0.weight``, ``main.1.{weight,bias,running_mean,running_var,
num_batches_tracked}``, ``main.3.weight`` …). What the shapes say:

* ``main.0.weight`` [in, ngf·2^(n-2), 4, 4]: the input width ``in`` (= nz, or nz + num_classes for a conditional
  DCGAN whose one-hot label is concatenated to the noise);
* the transposed convolutions at ``main.0, 3, 6 …``: their number n gives the image side 4·2^(n-1) (64 for n = 5);
* the last one [ngf, C, 4, 4]: the width ngf and the image channels C.

The tutorial's discriminator (convolutions at ``main.0, 2, 5 …``, the last with one output) is recognised and
refused with a message: only the generator is needed to sample. Other code bases' names for the same Sequential
(``model``, ``net``, ``layers``, ``gen``, ``generator``) are renamed to ``main`` (:data:`KEY_ALIASES`);
``ganzoo convert --rename OLD=NEW`` covers the rest.
"""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import torch

from ganzoo.convert import Converted, apply_aliases, describe_keys, tag_from_name
from ganzoo.errors import ConfigError, UsageError, WeightsError
from ganzoo.nn import check_layout, clean_norm_state

__all__ = ["KEY_ALIASES", "infer_tutorial_generator", "convert_tutorial_generator"]

#: Other code bases' names for the tutorial's ``main`` Sequential (whole key segments), renamed before the layout
#: is read.
KEY_ALIASES: dict[str, str] = {"model": "main", "net": "main", "layers": "main", "gen": "main", "generator": "main"}

_WEIGHT_RE = re.compile(r"^main\.(\d+)\.weight$")


def _conv_positions(state: dict[str, torch.Tensor]) -> list[int]:
    return sorted(int(m[1]) for k, v in state.items() if (m := _WEIGHT_RE.match(k)) and v.dim() == 4)


def infer_tutorial_generator(state: dict[str, torch.Tensor]) -> dict[str, Any] | None:
    """Read a tutorial-layout generator's sizes: ``in_dim``, ``ngf``, ``channels``, ``image_size`` (None: not one)."""
    first = state.get("main.0.weight")
    if first is None or first.dim() != 4 or tuple(first.shape[2:]) != (4, 4):
        return None
    convs = _conv_positions(state)
    n = len(convs)
    if n < 2 or convs != [3 * i for i in range(n)]:
        return None
    last = state[f"main.{convs[-1]}.weight"]
    ngf, channels = int(last.shape[0]), int(last.shape[1])
    if int(first.shape[1]) != ngf * 2 ** (n - 2):
        return None
    return {"in_dim": int(first.shape[0]), "ngf": ngf, "channels": channels, "image_size": 4 * 2 ** (n - 1)}


def _is_tutorial_discriminator(state: dict[str, torch.Tensor]) -> bool:
    convs = _conv_positions(state)
    return len(convs) >= 3 and convs[:2] == [0, 2] and int(state[f"main.{convs[-1]}.weight"].shape[0]) == 1


def convert_tutorial_generator(state_dict: dict[str, torch.Tensor], *, source: str, config_class: type,
                               options: dict[str, Any], conditional: bool = False) -> Converted:
    """Map a tutorial-layout generator onto component ``G`` of ``config_class`` (DCGAN or cDCGAN).

    For a conditional generator the input width is nz + num_classes: give one of them with ``--set`` (nz defaults
    to 100, the tutorial's). ``options`` win over what the shapes say; a layout that then does not fit is named.

    Raises:
        WeightsError: not a tutorial-layout generator, or keys that do not fit the config.
        UsageError: an unknown option, or a conditional input width that cannot be split.
        ConfigError: an impossible config.
    """
    from .model import Generator

    where = Path(source).name
    state, aliased = apply_aliases(state_dict, KEY_ALIASES)
    info = infer_tutorial_generator(state)
    kind = "conditional DCGAN" if conditional else "DCGAN"
    if info is None:
        if _is_tutorial_discriminator(state):
            raise WeightsError(f"{where} is a DCGAN discriminator (the tutorial's netD: convolutions at main.0, main.2 "
                               f"…), not a generator; convert the generator's file (netG)")
        raise WeightsError(f"{where} is not a {kind} generator in the PyTorch tutorial's layout: "
                           f"{describe_keys(state)} "
                           f"(expected main.0.weight [nz, C, 4, 4], main.1 batch norm, main.3.weight …; "
                           f"--rename OLD=main maps another name)")
    valid = {f.name for f in fields(config_class)}
    unknown = sorted(k for k in options if k not in valid)
    if unknown:
        raise UsageError(f"unknown converter option(s) {', '.join(unknown)}; the {kind} converter accepts --set for "
                         f"{', '.join(sorted(valid))}")
    detected: dict[str, Any] = {"ngf": info["ngf"], "channels": info["channels"], "image_size": info["image_size"]}
    in_dim = info["in_dim"]
    if conditional:
        if "num_classes" in options and "nz" not in options:
            detected["num_classes"], detected["nz"] = int(options["num_classes"]), in_dim - int(options["num_classes"])
        else:
            nz = int(options.get("nz", 100))
            detected["nz"], detected["num_classes"] = nz, in_dim - nz
        if detected["nz"] < 1 or detected["num_classes"] < 2:
            raise UsageError(f"{where}: its generator takes {in_dim} inputs (noise + one-hot label); say how they "
                             f"split with --set num_classes=K (or --set nz=N)")
    else:
        detected["nz"] = in_dim
    overridden = {k: options[k] for k in detected if k in options and options[k] != detected[k]}
    try:
        cfg = config_class(**{**detected, **options})
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{where}: {err}") from err
    with torch.device("meta"):
        g = Generator(cfg, in_dim=cfg.nz + (cfg.num_classes if conditional else 0))
    cleaned, dropped = clean_norm_state(state, g)
    problem = check_layout(cleaned, g)
    if problem:
        hint = (f" (--set {', '.join(f'{k}={v}' for k, v in overridden.items())} overrode what the file says)"
                if overridden else "")
        raise WeightsError(f"{where} looks like a {kind} generator ({_words(detected)}) but does not fit{hint}: "
                           f"{problem}")
    provenance: dict[str, Any] = {"layout": f"PyTorch DCGAN tutorial generator ({_words(detected)})",
                                  "tensors": len(state_dict)}
    if aliased:
        provenance["aliases"] = aliased
    if overridden:
        provenance["overrides"] = {k: f"{v} (read from the file: {detected[k]})" for k, v in overridden.items()}
    stem = Path(source).stem
    generic = ("weights", "checkpoint", "model", "netg", "generator", "latest")
    tag = None if stem.lower() in generic else tag_from_name(stem)
    notes = (f"Converted from a {kind} generator in the PyTorch DCGAN tutorial's layout ({_words(detected)}). "
             f"Sampling: z ~ N(0, I) of {cfg.nz} dimensions"
             + (f", concatenated with the one-hot label of {cfg.num_classes} classes" if conditional else "")
             + "; batch norm in eval mode (running statistics).")
    block = {"summary": f"{kind} {cfg.image_size}×{cfg.image_size}, converted ({_words(detected)})"}
    return Converted(config=cfg, weights={"G": cleaned}, tag=tag, provenance=provenance, card=block, notes=notes)


def _words(d: dict[str, Any]) -> str:
    extra = f", {d['num_classes']} classes" if "num_classes" in d else ""
    return f"{d['image_size']}×{d['image_size']}×{d['channels']}, nz={d['nz']}{extra}, ngf={d['ngf']}"
