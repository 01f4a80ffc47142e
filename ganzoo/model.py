"""``GanModel`` (named components + config + card) and ``GanImpl`` (the base of plugin implementations).

The three layers (STYLE.md §8.3, habit 12):

1. networks — plain ``nn.Module`` s built by the plugin (``G``, ``D``, ``G_AB`` …);
2. the plugin objective — a :class:`GanImpl` subclass: ``build``, ``discriminator_loss`` /
   ``generator_loss`` (or ``train_step``) returning named loss tensors, and ``sample``;
3. the model-agnostic trainer (:mod:`ganzoo.train`), which owns devices, optimisers' steps, checkpoints.

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

__all__ = ["GanModel", "GanImpl", "make_generator"]


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
        impl: the plugin implementation (losses, sampling).
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
               **kwargs: Any) -> torch.Tensor:
        """Draw samples (or translate ``condition``), in the task's shape.

        Args:
            n (`int`, *optional*): number of samples; for translation tasks the batch of ``condition`` decides.
            condition (*optional*): class labels, an image batch, a domain … as the task requires.
            seed (`int`, *optional*): fixes the noise (drawn on the CPU, so the same on every device).
            **kwargs: plugin options (``direction="BtoA"``, ``truncation=0.7``, ``batch_size=64`` …).

        Returns:
            `torch.Tensor`: images float NCHW in [-1, 1]; audio (N, T); video (N, T, C, H, W).

        Raises:
            UsageError: ``n`` is not a positive integer.

        The model's mode is left as it is: loaded models are in eval mode; a freshly built one is in
        train mode until you call ``eval()``.
        """
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n <= 0):
            raise UsageError(f"n must be a positive integer, got {n!r}")
        return self.impl.sample(self, n, condition=condition, seed=seed, **kwargs)

    def save_pretrained(self, directory: str | Path, *, components: tuple[str, ...] | list[str] | None = None,
                        card: "ModelCard | None" = None) -> Path:
        """Write a model folder: README.md (card), config.json, one safetensors per component.

        Args:
            directory: the folder (created if missing; existing files are replaced atomically).
            components: which components to write (default: all).
            card: the card to write (default: this model's card, else a new one; an existing README's prose is
                kept and its ganzoo block updated).

        Returns:
            `Path`: the folder.
        """
        from .hub import save_model_folder

        return save_model_folder(self, directory, components=components, card=card)


class GanImpl:
    """Base class of plugin implementations, with sensible defaults for the optional hooks.

    Required:

    * ``build(config) -> GanModel`` — fresh networks (use :meth:`new_model`), no device logic;
    * ``sample(model, n=None, *, condition=None, seed=None, **kw) -> Tensor`` — task-shaped output;
    * either ``discriminator_loss(model, batch)`` + ``generator_loss(model, batch)`` (the seed's alternating
      algorithm, run by the core trainer: D step with G fixed, then G step with D fixed), or
      ``train_step(model, batch, step)`` (one objective for all optimisers: auto-encoders, VAEs).

    Loss methods return ``{name: scalar tensor}``; the objective is the sum of the entries that require grad,
    the rest (e.g. ``D(x)``) are logged only. Both halves of a step receive the same ``batch`` dict, so a plugin
    may cache generated images in it. Draw noise with :meth:`noise` / :meth:`randint` (no seed) so training is
    reproducible across process counts and resumes.

    Optional hooks (the core uses them when present):

    * ``configure_optimizers(model) -> {"G": opt, "D": opt}`` — default: Adam over inference / other components;
    * ``phase_order = ("D", "G")`` — CycleGAN updates G first: ``("G", "D")``;
    * ``train_defaults = {"batch_size": …, "lr_schedule": …}`` — trainer options a run starts from;
    * ``make_dataset(model, path, split=)`` — default: the task's standard format (:mod:`ganzoo.data`);
    * ``state_dict()`` / ``load_state_dict()`` — training state outside the networks (image pools), checkpointed;
    * ``convert(state_dict, *, source, **options) -> ganzoo.convert.Converted`` — original checkpoints;
    * ``latent(model, n, seed=)`` / ``generate(model, z, condition=)`` — latent access (interpolation);
    * ``discriminate(model, images, condition=) -> logits`` — for discriminator rejection sampling;
    * ``size_rule(model) -> ganzoo.translate.SizeRule`` (or ``size_multiple``, an int) — how translation fits
      images of any size to the network and back; ``input_channels(model, **options)`` — the input's channels;
    * ``inference_components(**sample_options)`` — the networks sampling with these options needs (a CycleGAN
      direction needs one generator), so ``load(name, options=…)`` fetches no more;
    * ``preview(model, dataset, stem, n=, seed=) -> Path`` — the trainer's preview, when the task default won't do;
    * ``example_batch(model, n, seed=)`` — a synthetic batch for :func:`ganzoo.testing.check_plugin`.
    """

    #: the spec this implementation serves; set by :meth:`Plugin.load_impl`
    plugin: Plugin | None = None

    def new_model(self, config: Any, components: Mapping[str, nn.Module]) -> GanModel:
        """Wrap freshly built networks as this plugin's :class:`GanModel` (what ``build`` returns)."""
        if self.plugin is None:
            raise RuntimeError(f"{type(self).__name__} was not created by Plugin.load_impl(); use ganzoo.build()")
        return GanModel(self.plugin, config, components, impl=self)

    # -- required ----------------------------------------------------------------------------------------

    def build(self, config: Any) -> GanModel:  # pragma: no cover - abstract
        """Networks with fresh weights for ``config`` (no device logic)."""
        raise NotImplementedError

    def sample(self, model: GanModel, n: int | None = None, *, condition: Any = None,
               seed: int | None = None, **kwargs: Any) -> torch.Tensor:  # pragma: no cover - abstract
        """Task-shaped samples (see :meth:`GanModel.sample`)."""
        raise NotImplementedError

    # -- optional hooks with defaults --------------------------------------------------------------------

    def configure_optimizers(self, model: GanModel) -> dict[str, torch.optim.Optimizer]:
        """One optimiser per phase: ``"G"`` over the inference components, ``"D"`` over the others.

        Reads ``lr``, ``lr_d`` (default: ``lr``), ``beta1``, ``beta2`` and ``weight_decay`` from the config when
        present (Adam 2e-4, β = (0.5, 0.999) otherwise: the DCGAN/pix2pix/CycleGAN defaults).
        """
        cfg = model.config
        lr = float(getattr(cfg, "lr", 2e-4))
        lr_d = getattr(cfg, "lr_d", None)
        betas = (float(getattr(cfg, "beta1", 0.5)), float(getattr(cfg, "beta2", 0.999)))
        wd = float(getattr(cfg, "weight_decay", 0.0))
        g_names = [c for c in model.plugin.inference if c in model.components]
        d_names = [c for c in model.components if c not in g_names]
        opts = {"G": torch.optim.Adam([p for c in g_names for p in model.components[c].parameters()],
                                      lr=lr, betas=betas, weight_decay=wd)}
        d_params = [p for c in d_names for p in model.components[c].parameters()]
        if d_params:
            opts["D"] = torch.optim.Adam(d_params, lr=float(lr_d if lr_d is not None else lr), betas=betas,
                                         weight_decay=wd)
        return opts

    def make_dataset(self, model: GanModel, path: str | Path, *, split: str = "train") -> Any:
        """The training dataset for ``path``; the default reads the task's standard format (DESIGN.md §7).

        Items are dicts of tensors (``{"image": …}``, ``{"image", "label"}``, ``{"A", "B"}`` …) sized by the
        config's ``image_size`` / ``channels`` when it has them.
        """
        from .data import dataset_for_task

        return dataset_for_task(model.plugin.task, model.config, path, split=split)

    def noise(self, n: int, shape: tuple[int, ...], *, seed: int | None = None,
              device: torch.device | str = "cpu") -> torch.Tensor:
        """Standard normal noise of shape ``(n, *shape)``.

        With a ``seed``: reproducible on every device. Without one, during training: the trainer's step noise
        (the same for a global batch whatever the number of processes, and after a resume); otherwise the
        global RNG.
        """
        from .train import rng

        return rng.draw(torch.randn, n, shape, torch.device(device), generator=make_generator(seed))

    def randint(self, high: int, n: int, *, seed: int | None = None, device: torch.device | str = "cpu") -> torch.Tensor:
        """``n`` integers in ``[0, high)`` (random labels for fakes), from the same sources as :meth:`noise`."""
        from .train import rng

        def fn(size: tuple[int, ...], **kw: Any) -> torch.Tensor:
            return torch.randint(0, high, size, **kw)

        return rng.draw(fn, n, (), torch.device(device), generator=make_generator(seed))

    def state_dict(self) -> dict[str, Any]:
        """Training state the plugin keeps outside the networks (image pools …), saved in checkpoints."""
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
