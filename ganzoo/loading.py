"""Loading a model folder: one load plan per load, sizes checked before anything is allocated, strict weights.

:func:`plan_load` reads what ``config.json`` asks for and decides, once, what a load will do (it runs before any
weight file is downloaded): the plugin and its config, which network reads which file (EMA preferred for
sampling), and the tensor shapes the config implies, from a build on PyTorch's ``meta`` device, which allocates
nothing. An untrusted ``config.json`` (``ngf=200000``) is refused there when the networks it describes do not fit
the weight files it lists, and again against each safetensors header before real weights exist;
:func:`load_model_folder` then builds, loads strictly and returns an eval-mode model.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import CardError, ConfigError, IntegrityError, ModelFolderError, UsageError, WeightsError
from .files import read_safetensors_header, sha256_file
from .folder import CARD_NAME, CONFIG_NAME, component_paths, fingerprint, read_config_json

if TYPE_CHECKING:  # pragma: no cover
    from huggingface_hub import ModelCard

    from .model import GanModel
    from .plugin import Plugin

__all__ = ["LoadPlan", "plan_load", "load_model_folder", "MAX_CARD_BYTES"]

logger = logging.getLogger(__name__)

MAX_CARD_BYTES = 4 << 20  # cards are a few KiB of YAML and prose
# Networks a folder has no weights for get fresh weights; an untrusted config could make them enormous. They may be
# at most this many times the bytes of the folder's weight files, plus a fixed allowance (a D is rarely > 10x its G).
_FRESH_FACTOR, _FRESH_ALLOWANCE = 16, 64 << 20
# A weight file holds its tensors plus a header (names, shapes, offsets, metadata): this much header is plenty.
_HEADER_ALLOWANCE, _HEADER_PER_TENSOR = 64 << 10, 512


@dataclass
class LoadPlan:
    """What one load does, decided once from ``config.json`` (see :func:`plan_load`).

    Attributes:
        where (`str`): how the folder is named in errors.
        data (`dict`): the validated config.json.
        plugin (`Plugin`): the plugin spec named by config.json.
        config: the plugin's config dataclass, built from config.json.
        files (`dict[str, str]`): ``{network: component whose file it reads}``, e.g. ``{"G": "G_ema"}``.
        shapes (`dict`): ``{network: {tensor: shape}}`` the config implies (empty if the plugin cannot build on
            the meta device: the header checks are then skipped).
    """

    where: str
    data: dict[str, Any]
    plugin: "Plugin"
    config: Any
    files: dict[str, str]
    shapes: dict[str, dict[str, tuple[int, ...]]] = field(default_factory=dict)

    @property
    def file_components(self) -> list[str]:
        """The components whose files this load reads (what a download must fetch), sorted."""
        return sorted(set(self.files.values()))


def _abbrev(items: list[str], n: int = 4) -> str:
    return ", ".join(items[:n]) + (f" … (+{len(items) - n} more)" if len(items) > n else "")


def _which_files(data: dict[str, Any], plugin: Any, components: Iterable[str] | str | None, *, ema: bool,
                 where: str, options: dict[str, Any] | None) -> dict[str, str]:
    """``{network: component whose file to read}``.

    ``None`` → the plugin's inference components the folder has (or fewer, when the sampling ``options`` need
    fewer); ``"all"`` → every network the folder has; with ``ema`` an inference network reads ``<name>_ema``
    when the folder has it.
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


def _meta_shapes(plugin: Any, config: Any, where: str) -> dict[str, dict[str, tuple[int, ...]]]:
    """The state-dict shapes and byte sizes of every network, from a build that allocates nothing."""
    import torch

    try:
        with torch.random.fork_rng(devices=[]), torch.device("meta"):
            model = plugin.load_impl().build(config)
    except (ConfigError, UsageError):
        raise
    except Exception as err:  # a plugin whose build needs real tensors: the checks below are skipped
        logger.debug("%s: %s cannot build on the meta device (%s); size checks skipped", where, plugin.name, err)
        return {}
    return {c: {k: tuple(v.shape) for k, v in m.state_dict().items()} for c, m in model.components.items()}


def _nbytes(shapes: dict[str, tuple[int, ...]], itemsize: int = 4) -> int:
    total = 0
    for shape in shapes.values():
        n = 1
        for d in shape:
            n *= d
        total += n * itemsize
    return total


def _check_sizes(plan: LoadPlan) -> None:
    """Refuse a config whose networks do not fit the weight files config.json lists (no file is read)."""
    if not plan.shapes:
        return
    entries = plan.data["components"]
    listed = sum(e["size"] for e in entries.values())
    for comp, shapes in plan.shapes.items():
        need = _nbytes(shapes, 1)  # at least one byte per element in any dtype
        files = [f for f in (comp, f"{comp}_ema") if f in entries]
        for f in files:
            size = entries[f]["size"]
            if need > size:
                raise WeightsError(f"{plan.where}/{CONFIG_NAME}: its config makes {plan.plugin.name}.{comp} at least "
                                  f"{need:,} bytes of tensors, which {entries[f]['file']} ({size:,} bytes) cannot "
                                  f"hold: config and weights disagree; refusing to build it")
            most = _nbytes(shapes, 8) + _HEADER_ALLOWANCE + _HEADER_PER_TENSOR * len(shapes)
            if f in plan.files.values() and size > most:
                raise WeightsError(f"{plan.where}/{CONFIG_NAME} lists {entries[f]['file']} with {size:,} bytes, far "
                                  f"more than the {plan.plugin.name}.{comp} its config describes can fill "
                                  f"({most:,}): config and weights disagree; refusing to fetch or read it")
        if not files and _nbytes(shapes) > _FRESH_FACTOR * listed + _FRESH_ALLOWANCE:
            raise ConfigError(f"{plan.where}/{CONFIG_NAME}: its config makes {plan.plugin.name}.{comp} "
                              f"{_nbytes(shapes):,} bytes, out of all proportion to the folder's "
                              f"{listed:,} bytes of weights; refusing to build it")


def plan_load(data: dict[str, Any], *, components: Iterable[str] | str | None = None, ema: bool = True,
              options: dict[str, Any] | None = None, where: str) -> LoadPlan:
    """Decide what loading a folder with this ``config.json`` does (before any weight file is read or fetched).

    Args:
        data: the folder's config.json, as :func:`~ganzoo.folder.read_config_json` returns it.
        components: ``None`` (the inference networks), ``"all"``, or a list of names.
        ema: read ``<name>_ema`` for inference networks when the folder has it.
        options: the sampling options the caller will use (a plugin may then need fewer networks).
        where: how to name the folder in errors.

    Returns:
        `LoadPlan`

    Raises:
        UnknownNameError / PluginLoadError: the plugin is not installed or does not import.
        ConfigError: the config does not fit the plugin's dataclass, or makes a network the folder has no
            weights for out of all proportion to those it has.
        WeightsError: the config describes networks the listed weight files cannot hold (or far smaller ones).
        UsageError / ModelFolderError: unknown components, or components the folder has no weights for.
    """
    from .config import from_dict
    from .registry import get_plugin

    plugin = get_plugin(data["plugin"])
    files = _which_files(data, plugin, components, ema=ema, where=where, options=options)
    config = from_dict(plugin.load_config_class(), data["config"], source=f"{where}/{CONFIG_NAME}")
    plan = LoadPlan(where, data, plugin, config, files, _meta_shapes(plugin, config, where))
    _check_sizes(plan)
    return plan


def _check_header(path: Path, comp: str, file_comp: str, plan: LoadPlan) -> None:
    """Compare a weight file's header (names, shapes, metadata) with the network, before loading a tensor."""
    where = f"{plan.where}/{plan.data['components'][file_comp]['file']}"
    tensors, meta = read_safetensors_header(path, where=where)
    plugin = plan.plugin.name
    if meta.get("ganzoo_component", file_comp) != file_comp or meta.get("ganzoo_plugin", plugin) != plugin:
        raise WeightsError(f"{where} holds {meta.get('ganzoo_plugin')}.{meta.get('ganzoo_component')}, "
                           f"not {plugin}.{file_comp}")
    expected = plan.shapes.get(comp)
    if not expected:
        return
    _check_keys(expected, {k: shape for k, (_, shape) in tensors.items()}, file_comp, plugin, where)


def _check_keys(expected: dict[str, tuple[int, ...]], found: dict[str, tuple[int, ...]], comp: str, plugin: str,
                where: str) -> None:
    missing = [k for k in expected if k not in found]
    unexpected = [k for k in found if k not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing keys {_abbrev(missing)}")
        if unexpected:
            parts.append(f"unexpected keys {_abbrev(unexpected)}")
        raise WeightsError(f"{where} does not fit {plugin}.{comp}: {'; '.join(parts)} "
                           f"(was it saved with another config?)")
    wrong = [f"{k} {found[k]} vs {v}" for k, v in expected.items() if found[k] != v]
    if wrong:
        raise WeightsError(f"{where} does not fit {plugin}.{comp}: shape mismatch "
                           f"{_abbrev(wrong)} (file vs config; was it saved with another config?)")


def _load_component_state(module: Any, state: dict[str, Any], comp: str, plugin: str, *, where: str) -> None:
    """Strictly load ``state`` into ``module``: missing/unexpected keys and shape mismatches are named."""
    _check_keys({k: tuple(v.shape) for k, v in module.state_dict().items()},
                {k: tuple(v.shape) for k, v in state.items()}, comp, plugin, where)
    module.load_state_dict(state, strict=True)


def _read_state(path: Path, where: str) -> dict[str, Any]:
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            return {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError, ValueError) as err:
        raise WeightsError(f"{where} is not a readable safetensors file ({err}); refusing to load it") from err


def load_model_folder(
    folder: str | os.PathLike[str],
    *,
    components: Iterable[str] | str | None = None,
    ema: bool = True,
    card: "ModelCard | None" = None,
    pins: dict[str, str] | None = None,
    where: str | None = None,
    options: dict[str, Any] | None = None,
    plan: LoadPlan | None = None,
) -> "GanModel":
    """Build the plugin's networks from ``config.json`` and load the verified weights; returns an eval-mode model.

    Args:
        folder: the model folder.
        components: which networks to load: ``None`` → the plugin's inference components, ``"all"`` → every
            network the folder has, or a list of names. Networks not loaded keep fresh weights (and are left out
            when the model is saved again, unless named).
        ema: load ``<name>_ema`` (the EMA of an inference network) in place of ``<name>`` when present.
        card: the card to attach (default: the folder's README.md, when it parses).
        pins: ``{file name: sha256}`` that must also match (a registry card's pins).
        where: how to name the folder in errors.
        options: the sampling options the caller will use (see :func:`plan_load`).
        plan: the plan already made for this folder (a Hub load plans before downloading); ``components``,
            ``ema`` and ``options`` are then ignored.

    Returns:
        `GanModel`: in eval mode, with ``.card`` and ``.loaded_components`` (``{network: file component}``).

    Raises:
        ModelFolderError / ConfigError: not a model folder, or a config.json that does not fit the plugin.
        IntegrityError: a file differs from the size and sha256 config.json (or ``pins``) lists.
        WeightsError: a weight file is unreadable or does not fit its network (keys, shapes, component).

    Example:
        ```python
        >>> model = load_model_folder("runs/mine", components="all")
        ```
    """
    from .cards import load_card

    folder = Path(folder)
    where = where or (plan.where if plan is not None else str(folder))
    if not folder.exists():
        raise ModelFolderError(f"No such model folder: {where}")
    if not folder.is_dir():
        raise ModelFolderError(f"{where} is a file, not a model folder")
    if plan is None:
        plan = plan_load(read_config_json(folder, where=where), components=components, ema=ema, options=options,
                         where=where)
    data = plan.data
    for fname, digest in (pins or {}).items():
        if fname == CONFIG_NAME:
            if sha256_file(folder / CONFIG_NAME) != digest:
                raise IntegrityError(f"{where}/{CONFIG_NAME} does not match the sha256 the model card pins")
            continue
        entry = next((e for e in data["components"].values() if e["file"] == fname), None)
        if entry is not None and entry["sha256"] != digest:
            raise IntegrityError(f"{where}/{CONFIG_NAME} lists {fname} with sha256 {entry['sha256'][:12]}… but the "
                                 f"model card pins {digest[:12]}…: refusing weights the card does not vouch for")
    paths = component_paths(folder, data, plan.file_components, where=where)
    for comp, file_comp in plan.files.items():
        _check_header(paths[file_comp], comp, file_comp, plan)

    model = plan.plugin.load_impl().build(plan.config)
    for comp, file_comp in plan.files.items():
        fwhere = f"{where}/{data['components'][file_comp]['file']}"
        _load_component_state(model.components[comp], _read_state(paths[file_comp], fwhere), file_comp,
                              plan.plugin.name, where=fwhere)
    if card is None and (folder / CARD_NAME).is_file():
        try:
            if (folder / CARD_NAME).stat().st_size > MAX_CARD_BYTES:
                raise CardError(f"{where}/{CARD_NAME}", None, f"larger than {MAX_CARD_BYTES:,} bytes")
            card = load_card(folder / CARD_NAME)
        except CardError as err:
            logger.warning("%s (the weights are fine; the card is ignored)", err)
    model.card = card
    model.loaded_components = dict(plan.files)  # type: ignore[attr-defined]
    model._ganzoo_fresh = {c: fingerprint(m) for c, m in model.components.items()  # type: ignore[attr-defined]
                           if c not in plan.files}
    return model.eval()
