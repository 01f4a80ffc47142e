"""Training noise that does not depend on the number of processes or on when a run was resumed.

While the trainer runs a phase, :func:`draw` serves plugins' noise (``GanImpl.noise`` with no seed): the
noise of a whole *global* batch is drawn from a generator seeded by ``(seed, step, phase, call)`` and each
process takes its rows ``rank::world`` — exactly the rows of the data that ``DistributedSampler`` gives it.
So 1 process with batch 8 and 2 processes with batch 4 see the same noise for the same images, and a run
resumed at step k draws what an uninterrupted run draws at step k.
"""

from __future__ import annotations

import hashlib
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator

import torch

__all__ = ["StepNoise", "active", "step_noise", "draw"]

_local = threading.local()


@dataclass
class StepNoise:
    seed: int
    step: int
    phase: str
    rank: int = 0
    world: int = 1
    calls: int = field(default=0)

    def generator(self) -> torch.Generator:
        digest = hashlib.sha256(f"{self.seed}:{self.step}:{self.phase}:{self.calls}".encode()).digest()
        self.calls += 1
        g = torch.Generator(device="cpu")
        g.manual_seed(int.from_bytes(digest[:8], "little") & ((1 << 63) - 1))
        return g

    def draw(self, fn: Callable[..., torch.Tensor], n: int, shape: tuple[int, ...], device: torch.device,
             **kwargs) -> torch.Tensor:
        g = self.generator()
        full = fn((n * self.world, *shape), generator=g, **kwargs)
        return full[self.rank::self.world].to(device)


def active() -> StepNoise | None:
    """The noise source of the phase the trainer is running, or None outside training."""
    return getattr(_local, "current", None)


@contextmanager
def step_noise(seed: int, step: int, phase: str, *, rank: int = 0, world: int = 1) -> Iterator[StepNoise]:
    prev = active()
    _local.current = StepNoise(seed, step, phase, rank, world)
    try:
        yield _local.current
    finally:
        _local.current = prev


def draw(fn: Callable[..., torch.Tensor], n: int, shape: tuple[int, ...], device: torch.device, *,
         generator: torch.Generator | None = None, **kwargs) -> torch.Tensor:
    """``fn((n, *shape))`` (``torch.randn``, ``torch.rand``, ``torch.randint`` with ``low``/``high``) from, in order:
    an explicit generator; the trainer's step noise; the global RNG."""
    if generator is not None:
        return fn((n, *shape), generator=generator, **kwargs).to(device)
    current = active()
    if current is not None:
        return current.draw(fn, n, shape, device, **kwargs)
    return fn((n, *shape), **kwargs).to(device) if device is not None else fn((n, *shape), **kwargs)
