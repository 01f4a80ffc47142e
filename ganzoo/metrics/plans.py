"""Evaluation plans: how ``ganzoo eval`` measures one task kind.

``ganzoo eval`` never switches on task names. It asks the model's task for its plan
(:meth:`ganzoo.tasks.Task.eval_plan` returns ``"module:Class"``) and runs the same steps for every plan:

1. **choose** the metrics (:meth:`EvalPlan.choose`): the ``--metrics`` asked, or the task's ``metrics`` tuple
   filtered by what the plan can compute for this model and extractor (:meth:`EvalPlan.unavailable`);
2. **prepare** the reference (:meth:`EvalPlan.prepare`): read the real data (features cached on disk by
   :mod:`ganzoo.metrics.cache`), settle the counts, refuse counts too small for a metric;
3. **measure** the model (:meth:`EvalPlan.measure`): generate or translate, and accumulate what the metrics need;
4. **score** (:meth:`EvalPlan.score`): turn the accumulated measurement into results
   (:class:`~ganzoo.metrics.report.MetricResult`), each with its protocol;
5. then for each of the plan's **baselines** (:meth:`EvalPlan.make_baselines`): fit it, measure it and score it
   by the same protocol, and report it beside the model.

The plans of the image tasks: :class:`ganzoo.metrics.generation.GenerationPlan` (unconditional,
class-conditional, reconstruction), :class:`ganzoo.metrics.translation.PairedPlan` and
:class:`ganzoo.metrics.translation.UnpairedPlan`.

Writing a plan for a new task kind (speech enhancement, video prediction …)
------------------------------------------------------------------------------

Subclass :class:`EvalPlan` in a module of ``ganzoo.metrics`` (``audio.py``, ``video.py``), register the metrics it
brings with :func:`ganzoo.metrics.registry.register_metric` at import, and return ``"ganzoo.metrics.audio:MyPlan"``
from the task's ``eval_plan()``; list the metric names in the task's ``metrics`` tuple. Implement
:meth:`~EvalPlan.prepare`, :meth:`~EvalPlan.measure`, :meth:`~EvalPlan.score` and :meth:`~EvalPlan.protocol`
(and :meth:`~EvalPlan.unavailable` when some metrics need something the model or data may lack). Read config
fields through the task's typed base (``model.config.sample_rate``), ask capabilities with
``model.impl.supports(...)``. The report, the CLI table, ``--json`` and the card's evaluation section are generic.

Baselines
---------

Every bundled demo must beat its task's trivial baseline, so a plan measures the baselines itself, by its own
protocol: the same inputs, the same reference, the same extractor, the same seed, the same metric arithmetic —
only the outputs differ. A plan declares them in :attr:`EvalPlan.baselines` as :class:`Baseline` subclasses:

* :meth:`Baseline.fit` sees the plan (its data and config) before anything is measured, may compute what it needs
  (a colour transfer reads the target domain's training statistics) and returns protocol keys saying what it
  used (``{"baseline_fit": "per-channel mean/std of 1,437 train B images"}``);
* :meth:`Baseline.__call__` maps one batch of the plan's inputs to outputs, in place of the model.

The plan's :meth:`~EvalPlan.measure` takes the baseline (None: the model) and runs it over exactly the inputs it
runs the model on. Today: identity (output = input) and a per-channel mean/std colour transfer for the
translation plans; a speech-enhancement plan declares the noisy input (identity) and a classical enhancer
(spectral subtraction or a Wiener filter), a video plan copy-last-frame. Each baseline's results carry
``baseline`` (its name) and a ``sampling`` describing it in their protocol; the report keeps them apart from the
model's (:attr:`~ganzoo.metrics.report.EvalReport.baselines`), ``--write-card`` writes them beside.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import torch

from ..errors import DataError, UsageError
from .registry import METRICS

if TYPE_CHECKING:  # pragma: no cover
    from .extractors import FeatureExtractor
    from .report import MetricResult

__all__ = ["EvalRequest", "Baseline", "EvalPlan", "plan_for", "planned_tasks", "builtin_name", "import_plans"]


@dataclass
class EvalRequest:
    """What the caller asked for, as a plan reads it.

    Attributes:
        name (`str`): how the model is named (protocol command, messages).
        data (`str`): ``--data``: a folder in the task's layout, or ``builtin:<name>``.
        split (`str | None`): ``--split``.
        n (`int | None`): ``-n``: items to generate / translate (None: the plan's default).
        n_real (`int | None`): a fixed random subset of the reference.
        seed (`int`), batch_size (`int`), device (`str`).
        kid_subset_size (`int | None`), use_cache (`bool`), cache_dir (`Path | None`).
    """

    name: str
    data: str
    split: str | None
    n: int | None
    n_real: int | None
    seed: int
    batch_size: int
    device: str
    kid_subset_size: int | None = None
    use_cache: bool = True
    cache_dir: Path | None = None


class Baseline:
    """A trivial system a plan measures beside the model by the same protocol (see the module docstring).

    Class attributes:
        name: short id (``"identity"``), the key in reports and cards.
        description: how its outputs are made, for the protocol's ``sampling`` (``"output = input"``).
    """

    name: ClassVar[str]
    description: ClassVar[str]

    def fit(self, plan: "EvalPlan") -> dict[str, Any]:
        """Prepare from the plan's data before measuring; return protocol keys saying what was used."""
        return {}

    def __call__(self, inputs: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        """Outputs for one batch of the plan's inputs."""
        raise NotImplementedError


class EvalPlan:
    """How ``ganzoo eval`` measures a task kind (subclass per kind; see the module docstring).

    Args:
        model (`GanModel`): the model, in eval mode on ``request.device``.
        request (`EvalRequest`): what was asked.

    Class attributes:
        baselines: the :class:`Baseline` classes measured beside the model.
    """

    baselines: ClassVar[tuple[type[Baseline], ...]] = ()

    def __init__(self, model: Any, request: EvalRequest) -> None:
        self.model, self.request = model, request
        self.task, self.config = model.task, model.config
        self.cache: dict[str, Any] = {"hit": False, "path": None}

    # -- which metrics ------------------------------------------------------------------------------------

    def unavailable(self, metric: str, extractor: str | None) -> str | None:
        """Why ``metric`` cannot be computed for this model with ``extractor`` (None: it can)."""
        return None

    def default_metrics(self, extractor: str | None) -> list[str]:
        """The metrics computed when ``--metrics`` is not given: the task's, less the unavailable ones."""
        return [m for m in self.task.metrics if self.unavailable(m, extractor) is None]

    def default_extractor(self) -> str | None:
        """The feature network used when ``--extractor`` is not given (None: the plan needs none)."""
        return None

    def choose(self, asked: list[str] | None, extractor: str | None) -> tuple[list[str], str | None]:
        """The metrics to compute and the extractor to load (None: no feature network is needed).

        Raises:
            UsageError: an asked metric does not apply to the task, or cannot be computed for this model.
        """
        if asked is not None:
            bad = [m for m in asked if m not in self.task.metrics]
            if bad:
                raise UsageError(f"{', '.join(bad)} {'does' if len(bad) == 1 else 'do'} not apply to "
                                 f"{self.request.name} ({self.task.name}); its metrics: {', '.join(self.task.metrics)}")
        needs = asked is None or any(METRICS[m].needs_extractor for m in asked)
        if needs and extractor is None:
            extractor = self.default_extractor()
        names = asked if asked is not None else self.default_metrics(extractor)
        for m in names:
            reason = self.unavailable(m, extractor)
            if reason:
                raise UsageError(reason)
        return names, extractor if needs else None

    def make_baselines(self) -> list[Baseline]:
        """Fresh instances of :attr:`baselines`."""
        return [cls() for cls in self.baselines]

    # -- measuring ----------------------------------------------------------------------------------------

    def prepare(self, names: list[str], extractor: "FeatureExtractor | None") -> None:  # pragma: no cover
        """Read the reference, settle the counts and refuse counts too small for ``names`` (sets :attr:`cache`)."""
        raise NotImplementedError

    def measure(self, baseline: Baseline | None = None) -> Any:  # pragma: no cover - abstract
        """Run the model (or ``baseline``) over the plan's inputs; return what :meth:`score` needs."""
        raise NotImplementedError

    def score(self, measured: Any, protocol: dict[str, Any]) -> list["MetricResult"]:  # pragma: no cover
        """The results of a measurement, each with ``protocol`` plus its metric's own keys."""
        raise NotImplementedError

    def protocol(self) -> dict[str, Any]:  # pragma: no cover - abstract
        """The protocol keys the plan knows (extractor, reference, counts, sampling …), in
        :data:`~ganzoo.metrics.registry.SHARED_PROTOCOL_KEYS` order."""
        raise NotImplementedError

    def command_n(self) -> int:
        """The ``-n`` of the reproduce command: the items generated (:attr:`n_generated`, set by :meth:`prepare`);
        a plan whose ``-n`` counts something else (inputs per domain) returns that."""
        return self.n_generated

    def command_args(self) -> list[str]:
        """Extra ``ganzoo eval`` arguments the reproduce command needs (the plan's own options)."""
        return []


def planned_tasks() -> list[str]:
    """The task kinds ``ganzoo eval`` has a plan for."""
    from ..tasks import TASKS

    return [t.name for t in TASKS.values() if t.eval_plan() is not None]


def import_plans() -> None:
    """Import every task's plan module, so the metrics they register at import (speech, video) are known before a
    model is loaded (``--metrics`` validation). A plan that cannot be imported is skipped here; using it says why."""
    from ..plugin import import_object
    from ..tasks import TASKS

    for task in TASKS.values():
        spec = task.eval_plan()
        if spec is not None:
            try:
                import_object(spec, plugin=f"task {task.name}")
            except Exception:  # noqa: BLE001 - reported when that task's model is evaluated
                continue


def plan_for(model: Any, request: EvalRequest) -> EvalPlan:
    """The evaluation plan of ``model``'s task, for ``request``.

    Raises:
        UsageError: the task has no plan (one line naming the tasks that have one).
    """
    from ..plugin import import_object

    spec = model.task.eval_plan()
    if spec is None:
        raise UsageError(f"ganzoo eval has no evaluation plan for {model.task.name} models ({request.name}) yet; "
                         f"it evaluates {', '.join(planned_tasks())} models")
    cls = import_object(spec, plugin=f"task {model.task.name}")
    return cls(model, request)


def builtin_name(task: Any, data: str) -> str | None:
    """The name of a ``builtin:<name>`` data argument (None for a folder), refused in one line when the task has no
    such built-in dataset (naming the ones it has and the folder layout it reads).

    Raises:
        DataError: an unknown or foreign built-in dataset.
    """
    if not str(data).startswith("builtin:"):
        return None
    name = str(data).split(":", 1)[1]
    if name in task.builtins:
        return name
    have = ", ".join(f"builtin:{b}" for b in task.builtins)
    raise DataError(f"{data} is not a dataset for {task.name} models; "
                    + (f"they read {have}, or " if have else "there is no built-in one: give ")
                    + f"a folder in their layout: {task.layouts}")
