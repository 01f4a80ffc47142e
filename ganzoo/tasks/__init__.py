"""Task kinds: one object per kind, and everything the core does differently per kind lives on it.

A plugin declares one task (``Plugin(task="unpaired-translation")``). The task says what the plugin's config
must derive from (the typed bases of :mod:`ganzoo.config`), how its training data is laid out and read, what a
synthetic batch looks like (for the conformance kit), what ``sample(condition=…)`` takes and returns, how a
preview and the CLI's output are written (PNG grid, translated images, WAV, GIF), and which metrics
``ganzoo eval`` computes by default. The CLI, the trainer, evaluation, the conformance kit and the synthetic data
ask the task instead of switching on task names, so a new kind is one class here and one line in :data:`TASKS`.

This module and the task classes import no torch at module level (``ganzoo list --task`` reads :data:`TASKS`);
their methods import what they need.
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Mapping

from ..errors import DataError, PluginValidationError, UnknownNameError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["Task", "TASKS", "get_task"]


class Task:
    """What a task kind means for data, conditions, outputs and metrics (subclass per kind).

    Class attributes:
        name: the task id plugins declare (``"paired-translation"``).
        modality: ``"image"``, ``"audio"`` or ``"video"``: the form of ``sample()``'s output.
        conditioning: what ``sample(condition=…)`` takes: ``"none"``, ``"label"``, ``"image"``, ``"audio"``,
            ``"frames"``.
        condition_required: ``sample()`` needs a condition (translators) rather than drawing from noise.
        description: one line for ``ganzoo list`` and errors.
        config_base: ``"module:Class"`` of the typed config base a plugin's config must derive from.
        layouts: the data layouts the task reads, for ``--data`` errors and help.
        builtins: ``{name: one-line description}`` of the ``builtin:<name>`` datasets the task can train on.
        batch_keys: the keys of a training batch (``("A", "B")``).
        output_suffixes: what :meth:`write` can write.
        metrics: the metric names ``ganzoo eval`` computes by default (see :mod:`ganzoo.metrics`).
    """

    name: ClassVar[str]
    modality: ClassVar[str]
    conditioning: ClassVar[str]
    condition_required: ClassVar[bool] = False
    description: ClassVar[str]
    config_base: ClassVar[str]
    layouts: ClassVar[str]
    builtins: ClassVar[Mapping[str, str]] = MappingProxyType({})
    batch_keys: ClassVar[tuple[str, ...]]
    output_suffixes: ClassVar[tuple[str, ...]] = (".png",)
    metrics: ClassVar[tuple[str, ...]] = ()

    def __repr__(self) -> str:
        return f"<task {self.name}>"

    # -- config ---------------------------------------------------------------------------------------------

    def config_class(self) -> type:
        """The typed base every config of this task derives from."""
        from ..plugin import import_object

        return import_object(self.config_base, plugin=f"task {self.name}")

    def check_config_class(self, plugin: str, cls: type) -> None:
        """Raise :class:`PluginValidationError` unless ``cls`` derives from :attr:`config_base`."""
        base = self.config_class()
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise PluginValidationError(
                plugin, f"its config {getattr(cls, '__qualname__', cls)} must derive from ganzoo.config."
                        f"{base.__name__} (task {self.name}: the core reads {', '.join(_fields(base))} from it)")

    # -- data -----------------------------------------------------------------------------------------------

    def dataset(self, config: Any, path: str | Path, *, split: str = "train", augment: bool = True) -> Any:
        """The dataset at ``path`` (the task's layout) or ``builtin:<name>``; items are dicts of :attr:`batch_keys`."""
        text = str(path)
        if text.startswith("builtin:"):
            return self.builtin(text.split(":", 1)[1], config, split=split)
        return self.read(config, Path(path), split=split, augment=augment)

    def read(self, config: Any, root: Path, *, split: str, augment: bool) -> Any:  # pragma: no cover - abstract
        """Read a dataset folder in the task's layout."""
        raise NotImplementedError

    def builtin(self, name: str, config: Any, *, split: str | None = None) -> Any:
        """A built-in dataset by name (offline, generated from installed packages)."""
        if name not in self.builtins:
            if not self.builtins:
                raise DataError(f"there is no built-in dataset for {self.name} models; give a folder in its layout: "
                                f"{self.layouts}")
            raise UnknownNameError(name, list(self.builtins), kind=f"built-in dataset for {self.name}")
        from ..data.builtin import load_builtin

        return load_builtin(name, self.name, config, split=split)

    def example_batch(self, config: Any, n: int, *, seed: int = 0) -> dict[str, "torch.Tensor"]:
        """A synthetic batch of ``n`` items shaped like the task's training data."""
        raise NotImplementedError  # pragma: no cover - every task defines it

    def write_dataset(self, root: str | Path, config: Any, *, n: int = 8, seed: int = 0) -> Path:
        """Write a small synthetic dataset in the task's layout under ``root``; returns ``root``."""
        raise NotImplementedError  # pragma: no cover - every task defines it

    # -- sampling -------------------------------------------------------------------------------------------

    def check_condition(self, model: Any, condition: Any) -> None:
        """Refuse a condition the task cannot take (or a missing one it needs), in one line."""
        name = model.name or model.plugin.name
        if condition is None and self.condition_required:
            raise UsageError(f"{name} ({self.name}) needs an input: sample(condition=<{self.conditioning}>)")
        if condition is not None and self.conditioning == "none":
            raise UsageError(f"{name} is {self.name}: it takes no condition (class labels need a class-conditional "
                             f"model; see `ganzoo list --task class-conditional`)")

    def conformance_inputs(self, config: Any, batch: Mapping[str, Any], n: int) -> tuple[int | None, Any, dict]:
        """``(n, condition, options)`` for the conformance kit's ``sample`` calls, from a synthetic batch."""
        return n, None, {}

    def check_output(self, out: "torch.Tensor", n: int) -> str | None:
        """What is wrong with ``sample()``'s output for ``n`` items (None when it has the task's shape)."""
        dims = {"image": 4, "audio": 2, "video": 5}[self.modality]
        if out.dim() != dims:
            return f"sample() returned shape {tuple(out.shape)}; a {self.name} model returns {dims}-D tensors"
        if out.shape[0] != n:
            return f"sample() returned {out.shape[0]} items for {n} inputs"
        return None

    def preview(self, model: Any, dataset: Any, stem: str | Path, *, n: int = 64, seed: int = 0) -> Path | None:
        """Write the trainer's preview next to ``stem`` (suffix chosen here) and return its path."""
        raise NotImplementedError  # pragma: no cover - every task defines it

    def check_output_path(self, path: str | Path) -> Path:
        """Refuse an output name the task cannot write (``-o x.xyz``)."""
        path = Path(path)
        if path.suffix.lower() not in self.output_suffixes:
            raise UsageError(f"cannot write {self.name} output as {path.name!r}: use "
                             f"{' or '.join(self.output_suffixes)}")
        return path

    def write(self, samples: "torch.Tensor", path: str | Path, config: Any, *, nrow: int | None = None) -> Path:
        """Write ``sample()``'s output to ``path`` (a grid, a WAV, a GIF …)."""
        raise NotImplementedError  # pragma: no cover - every task defines it

    def play(self, model: Any, actions: Any, dst: str | Path, *, seed: int | None = 0,
             src: str | Path | None = None) -> Path:
        """``ganzoo sample NAME --play ACTIONS``: roll a model out under a sequence of actions.

        Only action-conditioned video models can (:class:`~ganzoo.tasks.video.VideoPrediction` overrides this).

        Raises:
            [`UsageError`]: always, here: the task has no actions.
        """
        raise UsageError(f"{model.name or model.plugin.name} is {self.name}: --play rolls out "
                         "action-conditioned video models (gamegan)")

    def sample_inputs(self, model: Any, src: Path, dst: Path, *, batch_size: int = 16, seed: int | None = 0,
                      **options: Any) -> Path:
        """``ganzoo sample NAME --input SRC -o DST``: run the model on a file or a folder of inputs."""
        raise UsageError(f"{model.name or model.plugin.name} is {self.name}: it draws samples from noise and reads "
                         f"no --input")

    def usage(self, name: str) -> tuple[str, str] | None:
        """``(CLI line, Python line)`` for a model card's usage section (None: the template's generic one)."""
        return None

    def eval_plan(self) -> str | None:
        """``"module:Class"`` of the evaluation plan ``ganzoo eval`` runs for this task (None: not covered)."""
        return None


def _fields(cls: type) -> list[str]:
    import dataclasses

    return [f.name for f in dataclasses.fields(cls)] if dataclasses.is_dataclass(cls) else []


def _all_tasks() -> dict[str, Task]:
    from .audio import SpeechEnhancement
    from .image import ClassConditional, Reconstruction, Unconditional
    from .translation import MultiDomainTranslation, PairedTranslation, UnpairedTranslation
    from .video import VideoPrediction

    kinds = (Unconditional(), ClassConditional(), PairedTranslation(), UnpairedTranslation(),
             MultiDomainTranslation(), SpeechEnhancement(), VideoPrediction(), Reconstruction())
    return {t.name: t for t in kinds}


#: Every task kind a plugin may declare, by name (adding a kind: a Task subclass and one entry here).
TASKS: Mapping[str, Task] = MappingProxyType(_all_tasks())


def get_task(name: str) -> Task:
    """The task object for ``name``; unknown names get the closest ones."""
    try:
        return TASKS[name]
    except KeyError:
        raise UnknownNameError(name, list(TASKS), kind="task") from None
