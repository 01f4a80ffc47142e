"""The plugin contract: :class:`GanImpl`, every hook a plugin may implement, declared once, and its validation.

A plugin's implementation (``Plugin(impl="pkg.model:MyGan")``) is a subclass of :class:`GanImpl`. It must
implement ``build``; ``sample`` (or ``latent`` + ``generate``, from which the base derives ``sample``); and
training as ``discriminator_loss`` + ``generator_loss`` (the seed's alternating algorithm, run by the core
trainer: D step with G fixed, then G step with D fixed) or ``train_step`` (one objective over every optimiser:
auto-encoders, VAEs). Every other hook below is optional and has a documented default.

The core calls hooks only through this class: it asks :meth:`GanImpl.supports` whether an optional capability is
there (never ``getattr`` on a name it hopes exists), and :func:`validate_impl` checks a plugin when it is first
loaded and in ``ganzoo doctor``: an overridden hook with an incompatible signature, a misspelt hook
(``discriminator_los``), an overridden helper (``noise``) or a malformed class attribute is a
:class:`~ganzoo.errors.PluginValidationError` naming the plugin, the hook and the fix.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import torch
from torch import nn

from .errors import PluginValidationError, UsageError
from .model import GanModel, make_generator
from .plugin import Plugin

if TYPE_CHECKING:  # pragma: no cover
    from .convert import Converted
    from .translate import SizeRule

__all__ = ["GanImpl", "HOOKS", "HELPERS", "CAPABILITIES", "validate_impl"]


class GanImpl:
    """Base class of plugin implementations: the declared hooks, with their defaults.

    Loss methods return ``{name: scalar tensor}``; the objective is the sum of the entries that require grad, the
    rest (e.g. ``D(x)``) are logged only. Both halves of a step receive the same ``batch`` dict, so a plugin may
    cache generated images in it. Training batches hold float tensors in [-1, 1] (images NCHW, audio (N, T),
    video (N, T, C, H, W)) under the task's keys (:attr:`ganzoo.tasks.Task.batch_keys`). Draw training noise with
    :meth:`noise` / :meth:`randint` without a seed, so a run is reproducible across process counts and resumes.
    """

    # -- class attributes a plugin may set ----------------------------------------------------------------

    #: Update order of one training step: ``("D", "G")`` (default) or ``("G", "D")`` (CycleGAN).
    phase_order: ClassVar[tuple[str, ...]] = ("D", "G")
    #: Trainer options a run starts from (``{"batch_size": 1, "lr_schedule": "linear_decay"}``); flags win.
    train_defaults: ClassVar[Mapping[str, Any]] = {}
    #: The prior of :meth:`latent`: ``"normal"`` (truncation applies), ``"uniform"`` or ``"fitted_gaussian"``.
    latent_distribution: ClassVar[str] = "normal"
    #: For translators without :meth:`size_rule`: sides are padded to a multiple of this.
    size_multiple: ClassVar[int] = 1

    #: The spec this implementation serves; set by :meth:`ganzoo.Plugin.load_impl`.
    plugin: Plugin | None = None

    # -- required -----------------------------------------------------------------------------------------

    def build(self, config: Any) -> GanModel:
        """Networks with fresh weights for ``config``, wrapped with :meth:`new_model`; no device logic."""
        raise NotImplementedError(f"{type(self).__name__} must implement build(config)")

    def sample(self, model: GanModel, n: int | None = None, *, condition: Any = None,
               seed: int | None = None, **options: Any) -> torch.Tensor:
        """Task-shaped samples (see :meth:`ganzoo.GanModel.sample`).

        An override declares each extra option as a keyword-only parameter (``direction: str | None = None``;
        no ``**kwargs``): the core refuses options a plugin does not declare. The default, for plugins with
        :meth:`latent` and :meth:`generate`, draws ``n`` codes (64 when ``n`` is None) with ``seed`` and generates
        from them; its options are ``generate``'s keyword options (``batch_size`` …).
        """
        if not self.supports("latent"):
            raise NotImplementedError(f"{type(self).__name__} must implement sample(), or latent() + generate()")
        z = self.latent(model, 64 if n is None else n, seed=seed)
        return self.generate(model, z, condition=condition, **options)

    # -- training: the two halves, or one step ----------------------------------------------------------

    def discriminator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        """D's losses on a batch, G fixed (the trainer freezes G and steps the ``"D"`` optimiser)."""
        raise NotImplementedError(f"{type(self).__name__} has no discriminator_loss()")

    def generator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        """G's losses on the same batch, D fixed (the trainer steps the ``"G"`` optimiser)."""
        raise NotImplementedError(f"{type(self).__name__} has no generator_loss()")

    def train_step(self, model: GanModel, batch: dict[str, Any], step: int) -> dict[str, torch.Tensor]:
        """One objective for every optimiser (plugins without an adversarial game: auto-encoders, VAEs)."""
        raise NotImplementedError(f"{type(self).__name__} has no train_step()")

    def configure_optimizers(self, model: GanModel) -> dict[str, torch.optim.Optimizer]:
        """One optimiser per phase: ``"G"`` over the inference components, ``"D"`` over the others.

        Reads ``lr``, ``lr_d`` (default: ``lr``), ``beta1``, ``beta2`` and ``weight_decay`` from the config when it
        has them (Adam 2e-4, β = (0.5, 0.999) otherwise: the DCGAN/pix2pix/CycleGAN defaults).
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
        """The training dataset at ``path`` (or ``builtin:<name>``); default: the task's layout."""
        return model.task.dataset(model.config, path, split=split)

    def example_batch(self, model: GanModel, n: int, *, seed: int = 0) -> dict[str, torch.Tensor]:
        """A synthetic batch like the training data (the conformance kit trains on it); default: the task's."""
        return model.task.example_batch(model.config, n, seed=seed)

    def preview(self, model: GanModel, dataset: Any, stem: Path, *, n: int = 64, seed: int = 0) -> Path | None:
        """The trainer's preview written next to ``stem`` (suffix chosen by the writer); default: the task's."""
        return model.task.preview(model, dataset, stem, n=n, seed=seed)

    def state_dict(self) -> dict[str, Any]:
        """Training state the plugin keeps outside the networks (image pools …), saved in checkpoints."""
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""

    # -- optional capabilities (ask supports(name)) ------------------------------------------------------

    def latent(self, model: GanModel, n: int, *, seed: int | None = None) -> torch.Tensor:
        """``n`` codes from the generator's prior (interpolation, truncation, evaluation); with ``generate``."""
        raise UsageError(f"{model.plugin.name} does not expose a latent space")

    def generate(self, model: GanModel, z: torch.Tensor, *, condition: Any = None) -> torch.Tensor:
        """Images for codes ``z`` (and conditions); with ``latent``."""
        raise UsageError(f"{model.plugin.name} does not expose a latent space")

    def encode_latent(self, model: GanModel, images: torch.Tensor, **options: Any) -> torch.Tensor:
        """Codes of ``images`` in the latent space :meth:`generate` decodes (shared-latent translators: the space
        both domains share; ``options`` name the images' domain, ``domain="A"``). With ``latent`` + ``generate``,
        it lets the core interpolate between real images, across domains (:mod:`ganzoo.explore_shared`)."""
        raise UsageError(f"{model.plugin.name} does not encode images into its latent space")

    def discriminate(self, model: GanModel, images: torch.Tensor, *, condition: Any = None) -> torch.Tensor:
        """The discriminator's logits for ``images`` (discriminator rejection sampling)."""
        raise UsageError(f"{model.plugin.name} exposes no discriminator scores (discriminate)")

    def reconstruct(self, model: GanModel, images: torch.Tensor) -> torch.Tensor:
        """Encode and decode ``images`` (reconstruction metrics); default for the reconstruction task:
        ``model.sample(condition=images)``."""
        if model.plugin.task == "reconstruction":
            return model.sample(condition=images)
        raise UsageError(f"{model.plugin.name} does not reconstruct images")

    def convert(self, state_dict: dict[str, torch.Tensor], *, source: str, **options: Any) -> "Converted":
        """Map an original checkpoint's tensors onto this plugin's components (``ganzoo convert``)."""
        raise UsageError(f"plugin '{self.plugin.name if self.plugin else '?'}' has no converter for original "
                         f"checkpoints")

    def size_rule(self, model: GanModel) -> "SizeRule":
        """How a translator fits images of any size (:class:`ganzoo.translate.SizeRule`). Override it when
        ``sample`` itself fits any size; the default pads to :attr:`size_multiple` around ``sample``."""
        from .translate import SizeRule

        return SizeRule("pad", int(self.size_multiple))

    def input_channels(self, model: GanModel, **options: Any) -> int:
        """Channels of the images ``sample(condition=…)`` takes (with these sampling options)."""
        cfg = model.config
        return int(cfg.input_channels if hasattr(cfg, "input_channels") else cfg.channels)

    def translate(self, model: GanModel, image: torch.Tensor, **options: Any) -> torch.Tensor:
        """Translate one image (C, H, W) in [-1, 1] of any size to an image of the same size.

        Default: ``sample`` on the image itself when the plugin overrides :meth:`size_rule` (it fits sizes
        inside ``sample``), else pad/resize by :meth:`size_rule` around ``sample`` and undo it.
        """
        from .translate import fit, unfit

        if self.supports("size_rule"):
            return model.sample(condition=image[None].to(model.device), **options)[0].cpu()
        rule = self.size_rule(model)
        x, hw = fit(image[None].to(model.device), rule, name=str(model.name or model.plugin.name))
        return unfit(model.sample(condition=x, **options), rule, hw)[0].cpu()

    def inference_components(self, **options: Any) -> tuple[str, ...] | None:
        """The components sampling with these options needs (a CycleGAN direction: one generator); None: the
        plugin's ``inference`` components."""
        return None

    # -- helpers for plugins (not hooks: do not override) ------------------------------------------------

    def new_model(self, config: Any, components: Mapping[str, nn.Module]) -> GanModel:
        """Wrap freshly built networks as this plugin's :class:`GanModel` (what ``build`` returns)."""
        if self.plugin is None:
            raise RuntimeError(f"{type(self).__name__} was not created by Plugin.load_impl(); use ganzoo.build()")
        return GanModel(self.plugin, config, components, impl=self)

    def noise(self, n: int, shape: tuple[int, ...], *, seed: int | None = None,
              device: torch.device | str = "cpu") -> torch.Tensor:
        """Standard normal noise of shape ``(n, *shape)``.

        With a ``seed``: reproducible on every device. Without one, during training: the trainer's step noise
        (the same for a global batch whatever the number of processes, and after a resume); otherwise the
        global RNG.
        """
        from .training import rng

        return rng.draw(torch.randn, n, shape, torch.device(device), generator=make_generator(seed))

    def randint(self, high: int, n: int, *, seed: int | None = None,
                device: torch.device | str = "cpu") -> torch.Tensor:
        """``n`` integers in ``[0, high)`` (random labels for fakes), from the same sources as :meth:`noise`."""
        from .training import rng

        def fn(size: tuple[int, ...], **kw: Any) -> torch.Tensor:
            return torch.randint(0, high, size, **kw)

        return rng.draw(fn, n, (), torch.device(device), generator=make_generator(seed))

    def supports(self, capability: str) -> bool:
        """Whether this implementation provides an optional capability (see :data:`CAPABILITIES`).

        ``"latent"`` means ``latent`` and ``generate``; ``"adversarial"`` the two loss halves; the other names
        are single hooks. Unknown names are a programming error (KeyError), never a silent False.
        """
        return _supports(type(self), capability)

    def sample_options(self) -> frozenset[str]:
        """The keyword options ``sample()`` accepts besides ``condition`` and ``seed``."""
        return _sample_options(type(self))

    def check_sample_options(self, options: Mapping[str, Any]) -> None:
        """Refuse options ``sample()`` does not declare, naming the close ones and the valid ones."""
        allowed = self.sample_options()
        unknown = [k for k in options if k not in allowed]
        if unknown:
            from .errors import close_matches

            name = self.plugin.name if self.plugin else type(self).__name__
            parts = []
            for k in unknown:
                near = close_matches(k, allowed)
                parts.append(f"'{k}'" + (f" (did you mean {', '.join(near)}?)" if near else ""))
            valid = ", ".join(sorted(allowed)) or "none"
            raise UsageError(f"{name}.sample() has no option {', '.join(parts)}; its options: {valid}")


# ---------------------------------------------------------------------------------------------------------
# the declared hooks, and validation


#: Methods a plugin may override (``build`` and ``sample`` among them).
HOOKS: frozenset[str] = frozenset({
    "build", "sample", "discriminator_loss", "generator_loss", "train_step", "configure_optimizers", "make_dataset",
    "example_batch", "preview", "state_dict", "load_state_dict", "latent", "generate", "encode_latent", "discriminate",
    "reconstruct", "convert", "size_rule", "input_channels", "translate", "inference_components",
})
#: Class attributes a plugin may set.
ATTRIBUTES: frozenset[str] = frozenset({"phase_order", "train_defaults", "latent_distribution", "size_multiple"})
#: Helpers plugins call but must not override.
HELPERS: frozenset[str] = frozenset({"new_model", "noise", "randint", "supports", "sample_options",
                                     "check_sample_options"})
#: Capabilities :meth:`GanImpl.supports` answers, and the hooks each needs.
CAPABILITIES: Mapping[str, tuple[str, ...]] = {
    "latent": ("latent", "generate"),
    "encode_latent": ("encode_latent",),
    "adversarial": ("discriminator_loss", "generator_loss"),
    "train_step": ("train_step",),
    "discriminate": ("discriminate",),
    "reconstruct": ("reconstruct",),
    "convert": ("convert",),
    "size_rule": ("size_rule",),
    "translate": ("translate",),
    "example_batch": ("example_batch",),
    "make_dataset": ("make_dataset",),
    "preview": ("preview",),
}
_LATENT_DISTRIBUTIONS = ("normal", "uniform", "fitted_gaussian")


def _overrides(cls: type, name: str) -> bool:
    return getattr(cls, name) is not getattr(GanImpl, name)


@functools.lru_cache(maxsize=None)
def _supports(cls: type, capability: str) -> bool:
    hooks = CAPABILITIES[capability]
    return all(_overrides(cls, h) for h in hooks)


@functools.lru_cache(maxsize=None)
def _sample_options(cls: type) -> frozenset[str]:
    fn = cls.sample if _overrides(cls, "sample") else cls.generate
    params = inspect.signature(fn).parameters.values()
    return frozenset(p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY
                     and p.name not in ("condition", "seed"))


def _edit_distance(a: str, b: str) -> int:
    """Damerau–Levenshtein distance (adjacent transpositions count 1)."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def _near_miss(name: str) -> str | None:
    """The declared name ``name`` looks like a misspelling of, if any."""
    limit = 1 if len(name) <= 6 else 2
    best = min(HOOKS | ATTRIBUTES | HELPERS, key=lambda h: _edit_distance(name, h))
    dist = _edit_distance(name, best)
    return best if 0 < dist <= limit else None


def _signature_problem(hook: str, base: Any, impl: Any) -> str | None:
    """Why ``impl`` cannot be called the way the core calls ``base`` (None when it can)."""
    try:
        b_sig, i_sig = inspect.signature(base), inspect.signature(impl)
    except (TypeError, ValueError):  # pragma: no cover - builtins
        return None
    P = inspect.Parameter
    b_pos = [p for p in b_sig.parameters.values() if p.kind in (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD)]
    i_pos = [p for p in i_sig.parameters.values() if p.kind in (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD)]
    i_kw = {p.name: p for p in i_sig.parameters.values() if p.kind in (P.KEYWORD_ONLY, P.POSITIONAL_OR_KEYWORD)}
    var_pos = any(p.kind is P.VAR_POSITIONAL for p in i_sig.parameters.values())
    var_kw = any(p.kind is P.VAR_KEYWORD for p in i_sig.parameters.values())
    want = f"{hook}{b_sig}".replace("'", "")
    if len(i_pos) < len(b_pos) and not var_pos:
        return f"takes {len(i_pos) - 1} positional argument(s); the core calls {want}"
    extra = [p.name for p in i_pos[len(b_pos):] if p.default is P.empty]
    if extra:
        return f"requires argument(s) {extra} the core never passes; the core calls {want}"
    for p in b_sig.parameters.values():
        if p.kind is P.KEYWORD_ONLY and p.name not in i_kw and not var_kw:
            return f"does not accept the keyword '{p.name}'; the core calls {want}"
    required_kw = [p.name for p in i_sig.parameters.values() if p.kind is P.KEYWORD_ONLY and p.default is P.empty
                   and p.name not in b_sig.parameters]
    if required_kw:
        return f"requires keyword(s) {required_kw} the core never passes; give them defaults"
    if hook == "sample" and var_kw:
        return ("takes **kwargs; declare each sampling option as a keyword-only parameter so that unknown options "
                "are refused, not dropped")
    return None


def validate_impl(plugin: str, cls: type) -> None:
    """Check an implementation class against the contract; raise :class:`PluginValidationError` on the first
    problem (the message names the plugin, the hook and the fix)."""
    def fail(msg: str) -> None:
        raise PluginValidationError(plugin, msg)

    if not (isinstance(cls, type) and issubclass(cls, GanImpl)):
        fail(f"impl {getattr(cls, '__qualname__', cls)!r} must be a subclass of ganzoo.GanImpl")
    if not _overrides(cls, "build"):
        fail(f"{cls.__name__} must implement build(config)")
    if not _overrides(cls, "sample") and not _supports(cls, "latent"):
        fail(f"{cls.__name__} must implement sample(), or latent() and generate() (the core then derives sample)")
    halves = [h for h in ("discriminator_loss", "generator_loss") if _overrides(cls, h)]
    if len(halves) == 1:
        other = ({"discriminator_loss", "generator_loss"} - set(halves)).pop()
        fail(f"{cls.__name__} implements {halves[0]}() but not {other}(): the trainer alternates both halves")
    if not halves and not _overrides(cls, "train_step"):
        fail(f"{cls.__name__} needs discriminator_loss() + generator_loss(), or train_step()")
    if _overrides(cls, "latent") != _overrides(cls, "generate"):
        fail(f"{cls.__name__} must implement latent() and generate() together (one without the other is unusable)")
    own = {name: value for klass in reversed(cls.__mro__) if klass not in (GanImpl, object)
           for name, value in vars(klass).items()}
    for name in sorted(own):
        if name.startswith("_") or name == "plugin":
            continue
        if name in HELPERS:
            fail(f"{cls.__name__} overrides the helper {name}(), which plugins call but must not replace")
        if name in HOOKS:
            problem = _signature_problem(name, getattr(GanImpl, name), getattr(cls, name))
            if problem:
                fail(f"{cls.__name__}.{name}() {problem}")
            continue
        if name in ATTRIBUTES:
            continue
        near = _near_miss(name)
        if near is not None:
            fail(f"{cls.__name__}.{name} is not a ganzoo hook; did you mean {near}? (rename it, or make it private "
                 f"with a leading underscore)")
    order = tuple(cls.phase_order)
    if sorted(order) != ["D", "G"]:
        fail(f"phase_order must be ('D', 'G') or ('G', 'D'), got {order!r}")
    if not isinstance(cls.train_defaults, Mapping):
        fail("train_defaults must be a mapping of trainer options")
    import dataclasses

    from .training.options import TrainerOptions

    known = {f.name for f in dataclasses.fields(TrainerOptions)}
    unknown = sorted(set(cls.train_defaults) - known)
    if unknown:
        fail(f"train_defaults names unknown trainer options {unknown}; see `ganzoo train --help`")
    if cls.latent_distribution not in _LATENT_DISTRIBUTIONS:
        fail(f"latent_distribution must be one of {', '.join(_LATENT_DISTRIBUTIONS)}, got {cls.latent_distribution!r}")
    if isinstance(cls.size_multiple, bool) or not isinstance(cls.size_multiple, int) or cls.size_multiple < 1:
        fail(f"size_multiple must be a positive integer, got {cls.size_multiple!r}")
