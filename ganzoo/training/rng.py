"""Training noise that does not depend on the number of processes, on accumulation, or on resuming.

While the trainer runs a phase, :func:`draw` serves plugins' noise (``GanImpl.noise`` with no seed): the
noise of a whole *global* batch is drawn from a generator seeded by ``(seed, step, phase, call)`` and each
process takes its rows — exactly the rows of the data it holds:

* ``DistributedSampler`` gives rank ``r`` of ``W`` the items ``r::W`` of the epoch's permutation, so a
  process takes the noise rows ``r::W``;
* with gradient accumulation over ``A`` micro-batches, micro-batch ``k`` holds the ``k``-th consecutive
  block of ``B·W`` items of the global batch, so it takes the ``k``-th block of the noise.

So 1 process with batch 8, 2 processes with batch 4 and 1 process with 2 micro-batches of 4 see the same
noise for the same images, and a run resumed at step k draws what an uninterrupted run draws at step k.
"""

from __future__ import annotations

import threading
import zlib
from dataclasses import dataclass, field
from typing import Callable

import torch

__all__ = ["StepNoise", "active", "step_noise", "draw"]

_local = threading.local()
_MASK = (1 << 64) - 1


def _mix(x: int) -> int:
    # splitmix64's finaliser: a cheap, well-mixed 64-bit hash of an integer
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


@dataclass
class StepNoise:
    """The noise source of one micro-batch of one phase of one step (see the module docstring)."""

    seed: int
    step: int
    phase: str
    rank: int = 0
    world: int = 1
    micro: int = 0
    accum: int = 1
    calls: int = field(default=0)

    def generator(self) -> torch.Generator:
        """The generator of the next draw: the k-th draw of every micro-batch and process shares it.

        Its seed hashes ``(seed, step, phase, k)`` (splitmix64 over the integers, crc32 of the phase name):
        independent streams for every draw, computed in about a microsecond.
        """
        h = _mix(self.seed & _MASK)
        h = _mix(h ^ (self.step & _MASK))
        h = _mix(h ^ zlib.crc32(self.phase.encode()))
        h = _mix(h ^ self.calls)
        self.calls += 1
        g = torch.Generator(device="cpu")
        g.manual_seed(h & ((1 << 63) - 1))
        return g

    def draw(self, fn: Callable[..., torch.Tensor], n: int, shape: tuple[int, ...], device: torch.device | None,
             **kwargs) -> torch.Tensor:
        g = self.generator()
        if self.world == 1 and self.accum == 1:
            rows = fn((n, *shape), generator=g, **kwargs)
        else:
            block = n * self.world
            full = fn((block * self.accum, *shape), generator=g, **kwargs)
            rows = full[self.micro * block:(self.micro + 1) * block][self.rank::self.world]
        return rows.to(device) if device is not None else rows


def active() -> StepNoise | None:
    """The noise source of the phase the trainer is running, or None outside training."""
    return getattr(_local, "current", None)


class step_noise:  # noqa: N801 - used like a function: ``with step_noise(...)``
    """Serve :func:`draw` from the step noise of ``(seed, step, phase)`` inside the block.

    A class rather than ``@contextmanager``: the trainer enters one for every micro-batch of every phase.
    """

    __slots__ = ("noise", "prev")

    def __init__(self, seed: int, step: int, phase: str, *, rank: int = 0, world: int = 1, micro: int = 0,
                 accum: int = 1) -> None:
        self.noise = StepNoise(seed, step, phase, rank, world, micro, accum)
        self.prev: StepNoise | None = None

    def __enter__(self) -> StepNoise:
        self.prev = getattr(_local, "current", None)
        _local.current = self.noise
        return self.noise

    def __exit__(self, *exc: object) -> None:
        _local.current = self.prev


def draw(fn: Callable[..., torch.Tensor], n: int, shape: tuple[int, ...], device: torch.device | None, *,
         generator: torch.Generator | None = None, **kwargs) -> torch.Tensor:
    """``fn((n, *shape))`` (``torch.randn``, ``torch.rand``, ``torch.randint`` with ``low``/``high``) from, in order:
    an explicit generator; the trainer's step noise; the global RNG."""
    if generator is not None:
        out = fn((n, *shape), generator=generator, **kwargs)
        return out.to(device) if device is not None else out
    current = active()
    if current is not None:
        return current.draw(fn, n, shape, device, **kwargs)
    return fn((n, *shape), **kwargs).to(device) if device is not None else fn((n, *shape), **kwargs)
