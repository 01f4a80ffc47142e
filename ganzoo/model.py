"""``GanModel``: the named networks of one model, with its config, plugin spec, task and card.

The three layers:

1. networks — plain ``nn.Module`` s built by the plugin (``G``, ``D``, ``G_AB`` …);
2. the plugin objective — a :class:`ganzoo.impl.GanImpl` subclass: ``build``, ``discriminator_loss`` /
   ``generator_loss`` (or ``train_step``) returning named loss tensors, and ``sample``;
3. the model-agnostic trainer (:mod:`ganzoo.training`), which owns devices, optimisers' steps, checkpoints.

A :class:`GanModel` is what users hold: ``model.sample(...)``, ``model.card``, ``model.config``,
``model.save_pretrained(dir)``; ``model.G`` reaches a component.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import torch
from torch import nn

from .errors import UsageError
from .plugin import Plugin

if TYPE_CHECKING:  # pragma: no cover
    from huggingface_hub import ModelCard

    from .tasks import Task

__all__ = ["GanModel", "make_generator"]


def make_generator(seed: int | None, device: torch.device | str = "cpu") -> torch.Generator | None:
    """A CPU ``torch.Generator`` seeded with ``seed`` (None → None: use the global RNG).

    Noise is drawn on the CPU and then moved, so a seed gives the same samples on every device.
    """
    if seed is None:
        return None
    g = torch.Generator(device="cpu")
    g.manual_seed(int(seed))
    return g


class GanModel(nn.Module):
    """The networks of one GAN variant, with their config, plugin spec and (when loaded) card.

    Attributes:
        plugin (`Plugin`): the spec of the plugin that built it.
        config: the plugin's config dataclass instance.
        components (`nn.ModuleDict`): the networks by name; also reachable as attributes (``model.G``).
        impl (`GanImpl`): the plugin implementation (losses, sampling).
        task (`Task`): the plugin's task kind (data layout, condition, writers).
        card (`ModelCard | None`): the model card when loaded from a folder, the Hub or the registry.
        name (`str | None`): the name it was loaded by.
    """

    def __init__(
        self,
        plugin: Plugin,
        config: Any,
        components: Mapping[str, nn.Module],
        *,
        impl: Any | None = None,
        card: "ModelCard | None" = None,
    ) -> None:
        super().__init__()
        unknown = [c for c in components if c not in plugin.components]
        if unknown:
            raise ValueError(f"{plugin.name}: components {unknown} are not declared in the plugin spec "
                             f"{list(plugin.components)}")
        self.plugin = plugin
        self.config = config
        self.components = nn.ModuleDict(dict(components))
        self.impl = impl if impl is not None else plugin.load_impl()
        self.card = card
        self.name: str | None = None

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            components = self._modules.get("components")
            if components is not None and name in components._modules:
                return components._modules[name]
            raise

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={self.num_parameters([k]):,}" for k in self.components)
        return f"GanModel(plugin={self.plugin.name!r}, name={self.name!r}, params: {parts})"

    # -- properties -------------------------------------------------------------------------------------

    @property
    def task(self) -> "Task":
        """The task object of the plugin's task kind (:mod:`ganzoo.tasks`)."""
        from .tasks import TASKS

        return TASKS[self.plugin.task]

    @property
    def device(self) -> torch.device:
        """The device of the first parameter or buffer (CPU when there are none)."""
        for t in self.parameters():
            return t.device
        for t in self.buffers():
            return t.device
        return torch.device("cpu")

    def num_parameters(self, components: list[str] | tuple[str, ...] | None = None) -> int:
        """Number of parameters of the given components (all when None)."""
        names = list(components) if components is not None else list(self.components)
        return sum(p.numel() for n in names if n in self.components for p in self.components[n].parameters())

    # -- the user-facing verbs --------------------------------------------------------------------------

    @torch.no_grad()
    def sample(self, n: int | None = None, *, condition: Any = None, seed: int | None = None,
               **options: Any) -> torch.Tensor:
        """Draw samples (or translate ``condition``), in the task's shape.

        Args:
            n (`int`, *optional*): number of samples; for translation tasks the batch of ``condition`` decides.
            condition (*optional*): class labels, an image batch, a waveform batch, context frames … as the task
                requires (``model.task.conditioning``); refused for unconditional models.
            seed (`int`, *optional*): fixes the noise (drawn on the CPU, so the same on every device).
            **options: the plugin's declared sampling options (``direction="BtoA"``, ``batch_size=64`` …; see
                ``model.impl.sample_options()``); unknown names are refused.

        Returns:
            `torch.Tensor`: images float NCHW in [-1, 1]; audio (N, T); video (N, T, C, H, W).

        Raises:
            UsageError: ``n`` is not a positive integer, an unknown option, or a condition the task cannot take.

        The model's mode is left as it is: loaded models are in eval mode; a freshly built one is in
        train mode until you call ``eval()``.
        """
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n <= 0):
            raise UsageError(f"n must be a positive integer, got {n!r}")
        self.impl.check_sample_options(options)
        self.task.check_condition(self, condition)
        return self.impl.sample(self, n, condition=condition, seed=seed, **options)

    def save_pretrained(self, directory: str | Path, *, components: tuple[str, ...] | list[str] | None = None,
                        card: "ModelCard | None" = None) -> Path:
        """Write a model folder: README.md (card), config.json, one safetensors per component.

        Args:
            directory: the folder (created if missing; existing files are replaced atomically).
            components: which components to write (default: all, except those an inference-only
                ``ganzoo.load`` left with fresh weights: a warning names them).
            card: the card to write (default: this model's card, else a new one; an existing README's prose is
                kept and its ganzoo block updated).

        Returns:
            `Path`: the folder.
        """
        from .folder import save_model_folder

        return save_model_folder(self, directory, components=components, card=card)


def __getattr__(name: str) -> Any:
    # ganzoo.model.GanImpl: the contract lives in ganzoo.impl (which imports this module); kept reachable here
    if name == "GanImpl":
        from .impl import GanImpl

        return GanImpl
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
