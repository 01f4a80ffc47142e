"""The user-facing verbs: ``load``, ``build``, ``train``, ``push_to_hub``, ``pull``.

``load`` and ``pull`` dispatch on what a name refers to (:func:`ganzoo.names.resolve`): a bundled registry model
loads from the installed package, a published one from the Hub at the revision its card pins — or, when the card
pins none or the Hub does not have it, from the source its card names (the original authors' file, converted on
first use and cached: :mod:`ganzoo.sources`) — an ``hf-hub:`` name from its repo, a local folder from disk. Each
load plans once (:func:`ganzoo.loading.plan_load`): a Hub load plans after fetching ``config.json`` and before
fetching any weights, and the same plan builds the model.

Torch and huggingface_hub are imported inside the functions, so ``import ganzoo`` stays light.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import logging
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from .errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from .model import GanModel
    from .publish import PushResult
    from .registry import ModelEntry

__all__ = ["load", "build", "train", "push_to_hub", "pull", "pull_one"]

logger = logging.getLogger(__name__)


def load(name: str, *, components: Iterable[str] | str | None = None, ema: bool = True,
         device: Any = None, options: dict[str, Any] | None = None) -> "GanModel":
    """Load a pretrained model, ready to sample, in eval mode.

    Args:
        name (`str`): one of
            - ``"<plugin>-<tag>"`` (``"dcgan-digits"``) or ``"<plugin>"`` (its default tag): a model listed by
              ``ganzoo list``, bundled with a package or fetched from the Hub at the revision its card pins;
            - ``"hf-hub:<org>/<repo>[@<revision>]"``: any Hub repo holding a ganzoo model folder;
            - a local model folder, written as a path (``"runs/my-dcgan"``, ``"./out"``, ``"~/m"``) or as
              ``"local-dir:<path>"``. A registry id wins over a folder of the same name in the working
              directory (a warning says so, and that ``"./<name>"`` loads the folder).
        components (*optional*): which networks to load: default the plugin's inference components
            (e.g. only the generator), ``"all"`` for every component in the folder, or a list of names.
        ema (`bool`, *optional*, defaults to `True`): use the EMA weights of a generator (``G_ema``) when the
            folder has them.
        device (*optional*): move the model there (``"cuda"``).
        options (`dict`, *optional*): the sampling options you will use (``{"direction": "BtoA"}``): a plugin may
            then fetch fewer networks (a two-way CycleGAN: only the generator of that direction).

    Returns:
        `GanModel`: with ``.sample()``, ``.card``, ``.config``, ``.save_pretrained()``.

    Raises:
        UnknownNameError: the name matches nothing (the closest names are suggested).
        UnknownTagError: the plugin exists but has no model with that tag (its tags are listed).
        HubNameError: a bare ``org/repo`` (use ``hf-hub:org/repo``).
        UsageError: a revision that is not a branch, tag or commit name.
        ConfigError: a config.json that does not fit the plugin, or networks its weight files cannot hold.
        IntegrityError / WeightsError: a file does not match its pinned sha256, or does not fit the network.
        WeightsUnavailableError: the weights are neither cached nor reachable.
        HubUnreachableError / HubError: the Hub stopped answering (``GANZOO_HUB_TIMEOUT``) or misbehaved.

    Example:
        ```python
        >>> model = ganzoo.load("dcgan-digits")
        >>> model.sample(8, seed=0).shape
        torch.Size([8, 1, 32, 32])
        ```
    """
    from .cards import load_card
    from .hubio import fetch_model
    from .loading import load_model_folder
    from .names import resolve
    from .registry import get_plugin

    res = resolve(name)
    if res.kind == "local":
        assert res.path is not None
        model = load_model_folder(res.path, components=components, ema=ema, options=options, where=str(res.path))
    elif res.kind == "hub":
        assert res.repo_id is not None
        snapshot, plan = fetch_model(res.repo_id, res.revision, components=components, ema=ema, options=options)
        model = load_model_folder(snapshot, plan=plan)
    else:
        entry = res.entry
        assert entry is not None
        with _registry_folder(entry) as folder:
            card = load_card(folder / "README.md", path=f"{entry.id} card")
            get_plugin(entry.plugin)  # a clear error if the plugin is missing, before any download
            if entry.bundled:
                model = load_model_folder(folder, components=components, ema=ema, card=card, options=options,
                                          pins=dict(entry.card.sha256), where=f"{entry.id} (bundled)")
            else:
                src, use_hub = _weights_route(entry)
                model = None
                if use_hub:
                    repo_id, revision = _published(entry)
                    try:
                        snapshot, plan = fetch_model(repo_id, revision, components=components, ema=ema,
                                                     with_card=False, options=options)
                        assert plan is not None
                        plan.where = f"{entry.id} (hf-hub:{repo_id}@{revision[:12]})"
                        model = load_model_folder(snapshot, card=card, pins=dict(entry.card.sha256), plan=plan)
                    except _hub_misses() as err:
                        if src is None:
                            raise
                        _fall_back(entry, src, err)
                if model is None:
                    assert src is not None
                    from .sources import fetch_converted

                    model = load_model_folder(fetch_converted(src), components=components, ema=ema, card=card,
                                              options=options, where=f"{entry.id} (converted from {src.url})")
    model.name = name
    if device is not None:
        model.to(device)
    return model


def _registry_folder(entry: "ModelEntry") -> contextlib.AbstractContextManager[Path]:
    return importlib.resources.as_file(entry.folder)


def _hub_misses() -> tuple[type[Exception], ...]:
    """Hub failures after which a card's source is used instead: no repo, no revision, offline, unreachable."""
    from .errors import HubUnreachableError, RepoNotFoundError, RevisionNotFoundError, WeightsUnavailableError

    return (RepoNotFoundError, RevisionNotFoundError, HubUnreachableError, WeightsUnavailableError)


def _weights_route(entry: "ModelEntry") -> tuple[Any, bool]:
    """``(source or None, try the Hub first)`` for a published registry model.

    The Hub is the primary place when the card pins a revision; a cached conversion of the card's source is used
    instead only when the Hub's files are not cached (so a model fetched from its source once loads with no
    request, even for a card that pins a Hub revision the Hub did not have).
    """
    from .hubio import cached_snapshot
    from .sources import cached_folder, source_of

    src = source_of(entry)
    info = entry.card
    if not (info.repo_id and info.revision):
        return src, src is None  # no source either: the Hub path says "not published yet"
    if src is not None and cached_snapshot(info.repo_id, info.revision) is None and cached_folder(src) is not None:
        return src, False
    return src, True


def _fall_back(entry: "ModelEntry", src: Any, err: Exception) -> None:
    logger.warning("%s: the Hub has no usable %s@%s (%s); using the source its card names (%s)", entry.id,
                   entry.card.repo_id, (entry.card.revision or "")[:12], err, src.url)


def _published(entry: "ModelEntry") -> tuple[str, str]:
    from .errors import WeightsUnavailableError

    info = entry.card
    if info.repo_id is None or info.revision is None:
        raise WeightsUnavailableError(
            f"The weights of {entry.id} are not published yet (its card pins no Hub repo/revision and names no "
            f"source); see `ganzoo info {entry.id}` for how to convert the original checkpoint")
    return info.repo_id, info.revision


def build(name: str, *, seed: int | None = None, **overrides: Any) -> "GanModel":
    """Build a plugin's networks with fresh weights.

    Args:
        name (`str`): the plugin id (``"dcgan"``).
        seed (`int`, *optional*): makes the initial weights reproducible (the global RNG is left untouched).
        **overrides: config fields (``image_size=64``); ``None`` values are ignored, so unset CLI options
            never override defaults.

    Raises:
        UnknownNameError / PluginConflictError / PluginLoadError: the plugin cannot be used.
        ConfigError: an override names an unknown field or has the wrong type.

    Example:
        ```python
        >>> model = ganzoo.build("dcgan", image_size=64, seed=0)
        ```
    """
    import torch

    from .config import override
    from .names import split_name
    from .registry import get_plugin

    plugin_name, tag = split_name(name)
    if tag is not None:
        raise UsageError(f"build() takes a plugin id, not a model id: use ganzoo.build('{plugin_name}') for fresh "
                         f"weights, or ganzoo.load('{name}') for the pretrained model")
    plugin = get_plugin(plugin_name)
    config = override(plugin.load_config_class()(), overrides, source=f"{plugin.name} config")
    impl = plugin.load_impl()
    if seed is None:
        return impl.build(config)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return impl.build(config)


def train(model: "GanModel | str", data: str | os.PathLike[str], *, out: str | os.PathLike[str],
          **options: Any) -> "GanModel":
    """Train a model with the shared adversarial trainer (see :mod:`ganzoo.training`).

    Args:
        model: a :class:`GanModel` (e.g. from :func:`build` or :func:`load`) or a plugin id.
        data: the dataset folder, in the plugin's task format (DESIGN.md §7), or ``builtin:<name>``.
        out: the run folder; it becomes a model folder (loadable, sampleable, pushable) with ``checkpoints/``.
        **options: trainer options (``max_steps``, ``batch_size``, ``lr``, ``seed``, ``mixed_precision`` …).

    Returns:
        `GanModel`: the trained model (also saved in ``out``).
    """
    from .training import train as _train

    return _train(model, data, out=out, **options)


def push_to_hub(model_or_folder: "GanModel | str | os.PathLike[str]", repo_id: str, *, private: bool = False,
                commit_message: str | None = None, token: str | None = None) -> "PushResult":
    """Publish a model folder (or an in-memory model) to a Hub repo, creating it if needed.

    Uploads README.md, config.json and one safetensors per component (never checkpoints).

    Returns:
        `PushResult`: ``repo_id``, ``commit`` (the sha to pin in a card), ``url``, ``files``.
    """
    from .publish import push_folder

    if isinstance(model_or_folder, (str, os.PathLike)):
        return push_folder(Path(model_or_folder), repo_id, private=private, commit_message=commit_message,
                           token=token)
    with tempfile.TemporaryDirectory(prefix="ganzoo-push-") as tmp:
        model_or_folder.save_pretrained(tmp)
        return push_folder(Path(tmp), repo_id, private=private, commit_message=commit_message, token=token)


def pull(*names: str, components: Iterable[str] | str | None = None) -> list[Path]:
    """Prefetch models into the Hugging Face cache so they load offline later; returns their folders.

    Args:
        *names: model names, as for :func:`load`.
        components (*optional*): which component files to fetch (default: every file the folder lists).

    Returns:
        `list[Path]`: for each name its folder: the cached snapshot, the bundled folder, or the local folder.

    Raises:
        as :func:`load`, and UsageError when no name is given.

    Example:
        ```python
        >>> ganzoo.pull("dcgan-digits", "hf-hub:my-org/my-dcgan")
        ```
    """
    if not names:
        raise UsageError("pull() needs at least one model name")
    return [pull_one(n, components=components) for n in names]


def pull_one(name: str, *, components: Iterable[str] | str | None = None) -> Path:
    """Prefetch one model's files (see :func:`pull`); bundled and local models need nothing and return their folder
    (a local folder is verified)."""
    from .folder import verify_folder
    from .hubio import download_model
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
    src, use_hub = _weights_route(entry)
    if use_hub or src is None:
        repo_id, revision = _published(entry)
        try:
            return download_model(repo_id, revision, components=components or "all", with_card=False)
        except _hub_misses() as err:
            if src is None:
                raise
            _fall_back(entry, src, err)
    from .sources import fetch_converted

    folder = fetch_converted(src)
    verify_folder(folder, where=f"{entry.id} (converted from {src.url})")
    return folder
