"""The user-facing verbs: ``load``, ``build``, ``train``, ``push_to_hub``, ``pull``.

Torch and huggingface_hub are imported inside the functions, so ``import ganzoo`` stays light.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from .errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from .hub import PushResult
    from .model import GanModel

__all__ = ["load", "build", "train", "push_to_hub", "pull"]


def load(name: str, *, components: Iterable[str] | str | None = None, ema: bool = True,
         device: Any = None, options: dict[str, Any] | None = None) -> "GanModel":
    """Load a pretrained model, ready to sample, in eval mode.

    Args:
        name (`str`): one of
            - ``"<plugin>-<tag>"`` (``"dcgan-digits"``) or ``"<plugin>"`` (its default tag): a model listed by
              ``ganzoo list``, bundled with a package or fetched from the Hub at the revision its card pins;
            - ``"hf-hub:<org>/<repo>[@<revision>]"``: any Hub repo holding a ganzoo model folder;
            - a local model folder (``"runs/my-dcgan"``, ``"./out"``).
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
        IntegrityError / WeightsError: a file does not match its pinned sha256, or does not fit the network.
        WeightsUnavailableError: the weights are neither cached nor reachable.

    Example:
        ```python
        >>> model = ganzoo.load("dcgan-digits")
        >>> model.sample(8, seed=0).shape
        torch.Size([8, 1, 32, 32])
        ```
    """
    from .hub import load as _load

    return _load(name, components=components, ema=ema, device=device, options=options)


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
    from .hub import push_folder

    if isinstance(model_or_folder, (str, os.PathLike)):
        return push_folder(Path(model_or_folder), repo_id, private=private, commit_message=commit_message,
                           token=token)
    with tempfile.TemporaryDirectory(prefix="ganzoo-push-") as tmp:
        model_or_folder.save_pretrained(tmp)
        return push_folder(Path(tmp), repo_id, private=private, commit_message=commit_message, token=token)


def pull(*names: str, components: Iterable[str] | str | None = None) -> list[Path]:
    """Prefetch models into the Hugging Face cache so they load offline later; returns their folders."""
    from .hub import pull as _pull

    if not names:
        raise UsageError("pull() needs at least one model name")
    return [_pull(n, components=components) for n in names]
