"""One optimisation step of the trainer: planned once, then run every step at the cost of a bare loop.

A step is the D update(s) then the G update (or the plugin's ``phase_order``), or one ``train_step`` update for
plugins with one objective. Each update is planned once (:func:`make_plans`): which trainable parameters to
freeze (the other networks'), which optimisers to step (bypassing accelerate's wrapper when it would only cost
time), and which DDP wrappers must not all-reduce. :func:`run_phase` runs one update over its micro-batches
(gradient accumulation) inside the step noise of ``(seed, step, phase)``; :func:`take_step` runs the phases,
the LR schedulers and the EMA, and returns the step's losses as one vector on the device (:func:`merge`), so
that the loop syncs with the host once per step.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator

import torch

from ..errors import TrainingError
from . import rng as train_rng

if TYPE_CHECKING:  # pragma: no cover
    from .trainer import Trainer

__all__ = ["Plan", "make_plans", "run_phase", "merge", "take_step"]


@dataclass
@dataclass
class Plan:
    """What one optimiser update touches, worked out once: the optimisers, the trainable parameters to freeze
    (the other networks'), and the DDP wrappers that must not all-reduce (frozen ones; every micro-batch but
    the last for the trained ones)."""

    optimizers: list[Any]
    steps: list[Callable[[], Any]]
    zero_grads: list[Callable[..., Any]]
    params: list[torch.nn.Parameter]
    freeze: list[torch.nn.Parameter]
    nosync_always: list[Any] = field(default_factory=list)
    nosync_until_last: list[Any] = field(default_factory=list)


def make_plans(t: "Trainer", optimizers: dict[str, torch.optim.Optimizer]) -> dict[str, Plan]:
    """The plan of each optimiser update (``"G"``, ``"D"`` … and ``"all"``), from the unwrapped optimisers."""
    owned = {k: {id(p) for g in o.param_groups for p in g["params"]} for k, o in optimizers.items()}
    owned["all"] = set().union(*owned.values()) if owned else set()
    plans = {}
    for key, ids in owned.items():
        opts = list(t.optimizers.values()) if key == "all" else [t.optimizers[key]]
        params = [p for m in t.raw.values() for p in m.parameters() if id(p) in ids]
        freeze = [p for m in t.raw.values() for p in m.parameters() if p.requires_grad and id(p) not in ids]
        # accelerate's optimiser wrapper is needed for the fp16 grad scaler (and XLA); otherwise its step()
        # costs more than Adam on a small network (it probes the file system for optional packages on every
        # call), so the wrapped optimiser is stepped directly
        direct = t.accelerator.scaler is None and t.accelerator.distributed_type.name != "XLA"
        steps = [o.optimizer.step if direct and hasattr(o, "optimizer") else o.step for o in opts]
        zero = [o.optimizer.zero_grad if direct and hasattr(o, "optimizer") else o.zero_grad for o in opts]
        plan = Plan(opts, steps, zero, params, freeze)
        for name, w in t.wrapped.items():
            if not hasattr(w, "no_sync"):
                continue
            trained = any(id(p) in ids for p in t.raw[name].parameters())
            (plan.nosync_until_last if trained else plan.nosync_always).append(w)
        plans[key] = plan
    return plans


def run_phase(t: "Trainer", key: str, fn: Callable[..., dict[str, torch.Tensor]], micro: list[dict[str, Any]],
              phase_id: str, parts: list[tuple[tuple[str, ...], list[torch.Tensor], float]],
              weight: float = 1.0) -> None:
    """One optimiser update: freeze what the optimiser does not own, accumulate over micro-batches, step.

    Appends ``(names, detached values, scale)`` to ``parts``; :func:`merge` turns a step's parts into one
    vector (the per-step bookkeeping is a few tensor ops in all, not a few per loss).
    """
    plan = t._plans[key]
    frozen = [p for p in plan.freeze if p.requires_grad]
    for p in frozen:
        p.requires_grad_(False)
    n = len(micro)
    names: tuple[str, ...] | None = None
    values: list[torch.Tensor] = []
    try:
        for zero_grad in plan.zero_grads:
            zero_grad(set_to_none=True)
        for k, mb in enumerate(micro):
            nosync = plan.nosync_always + (plan.nosync_until_last if k < n - 1 else [])
            with contextlib.ExitStack() if nosync else contextlib.nullcontext() as stack:
                for w in nosync:
                    stack.enter_context(w.no_sync())
                with t._autocast(), train_rng.step_noise(
                        t.opts.seed, t.step, phase_id, rank=t.rank, world=t.world, micro=k, accum=n):
                    losses = fn(t.model, mb) if key != "all" else fn(t.model, mb, t.step)
                objective = [v for v in losses.values() if isinstance(v, torch.Tensor) and v.requires_grad]
                if not objective:
                    raise TrainingError(f"{t.model.plugin.name}: no loss returned by {phase_id} requires grad "
                                        f"(got {list(losses)}); return the terms to minimise as attached tensors")
                total = objective[0]
                for v in objective[1:]:
                    total = total + v
                if total.dtype != torch.float32:
                    total = total.float()
                t._backward(total / n if n > 1 else total)
            here = tuple(losses)
            vals = [v.detach() if isinstance(v, torch.Tensor) else torch.tensor(float(v)) for v in losses.values()]
            if names is None:
                names, values = here, vals
            elif here == names:
                values = [a + b for a, b in zip(values, vals)]
            else:
                raise TrainingError(f"{t.model.plugin.name}: {phase_id} returned the losses {list(names)} for "
                                    f"one micro-batch and {list(here)} for another; return the same names")
        if t.opts.max_grad_norm is not None:
            params = [p for p in plan.params if p.grad is not None]
            t.accelerator.clip_grad_norm_(params, t.opts.max_grad_norm)
        for step in plan.steps:
            step()
    finally:
        for p in frozen:
            p.requires_grad_(True)
    assert names is not None
    parts.append((names, values, weight / n))  # logged: the mean over micro-batches and D updates


def merge(t: "Trainer", parts: list[tuple[tuple[str, ...], list[torch.Tensor], float]]
          ) -> tuple[tuple[str, ...], torch.Tensor]:
    """The step's losses as one vector by name (a name returned by several phases — each D update — is summed)."""
    key = tuple((names, scale) for names, _, scale in parts)
    plan = t._merge_plans.get(key)
    if plan is None:
        flat = [n for names, _ in key for n in names]
        scales = [scale for names, scale in key for _ in names]
        unique = tuple(dict.fromkeys(flat))
        dev = t.accelerator.device
        weights = None if all(x == 1.0 for x in scales) else torch.tensor(scales, device=dev)
        index = None if len(unique) == len(flat) else torch.tensor([unique.index(n) for n in flat], device=dev)
        plan = t._merge_plans[key] = (unique, weights, index)
    unique, weights, index = plan
    vec = torch.stack([v.float().reshape(()).to(t.accelerator.device) for _, vals, _ in parts for v in vals])
    if weights is not None:
        vec = vec * weights
    if index is not None:
        vec = torch.zeros(len(unique), device=vec.device, dtype=vec.dtype).index_add_(0, index, vec)
    return unique, vec


def take_step(t: "Trainer", batches: Iterator[dict[str, Any]]) -> tuple[tuple[str, ...], torch.Tensor]:
    """One training step: the phases on the next batches, the LR schedulers, the EMA; returns ``(names, losses)``."""
    opts = t.opts
    parts: list[tuple[tuple[str, ...], list[torch.Tensor], float]] = []
    groups = [[next(batches) for _ in range(opts.grad_accum)] for _ in range(t._groups_per_step)]
    if t._has_halves:
        for phase in t._order:
            if phase == "D":
                for i, micro in enumerate(groups):
                    run_phase(t, "D", t.impl.discriminator_loss, micro, f"D{i}", parts, weight=1.0 / len(groups))
            else:
                run_phase(t, "G", t.impl.generator_loss, groups[-1], "G", parts)
    else:
        run_phase(t, "all", t.impl.train_step, groups[0], "step", parts)
    for s in t.schedulers.values():
        s.step()
    if t.ema:
        for name, ema in t.ema.items():
            if t.step + 1 <= opts.ema_start:
                ema.module.load_state_dict(t.raw[name].state_dict())
            else:
                ema.update_parameters(t.raw[name])
    t.step += 1
    t._last = merge(t, parts)
    return t._last

