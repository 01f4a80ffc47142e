"""The data feed: which items each process trains on, from where a resumed run left off.

:class:`ResumableDistributedSampler` shuffles by ``seed + epoch`` and gives each rank its share, starting
part-way into the epoch on resume; :func:`batches` turns the trainer's data position (``epoch``,
``batch_in_epoch``) into an endless stream of device batches, one ``DataLoader`` per epoch, so that the
position saved in a checkpoint is exactly where the next batch comes from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

import torch
from torch.utils.data import DataLoader, DistributedSampler

from ..errors import GanzooError

if TYPE_CHECKING:  # pragma: no cover
    from .trainer import Trainer

__all__ = ["ResumableDistributedSampler", "batches", "to_device"]


class ResumableDistributedSampler(DistributedSampler):
    """``DistributedSampler`` (shuffled by ``seed + epoch``, each rank its share) that skips the first
    ``start`` indices of this rank's share — the items a resumed run already trained on this epoch."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.start = 0

    def set_start(self, start: int) -> None:
        self.start = int(start)

    def set_epoch(self, epoch: int) -> None:
        super().set_epoch(epoch)
        self.start = 0

    def __iter__(self) -> Iterator[int]:
        indices = list(super().__iter__())
        return iter(indices[self.start:])

    def __len__(self) -> int:
        return max(0, self.num_samples - self.start)


def _collate(items: list[dict[str, Any]]) -> dict[str, Any]:
    from torch.utils.data import default_collate

    return default_collate(items)


def _loader(t: "Trainer") -> DataLoader:
    t.sampler.set_epoch(t.epoch)
    t.sampler.set_start(t.batch_in_epoch * t.opts.batch_size)
    if hasattr(t.dataset, "set_epoch"):
        t.dataset.set_epoch(t.epoch)
    g = torch.Generator()  # workers' base seed comes from here, not from the global RNG
    g.manual_seed(t.opts.seed + t.epoch)
    return DataLoader(t.dataset, batch_size=t.opts.batch_size, sampler=t.sampler, drop_last=True,
                      num_workers=t.opts.num_workers, collate_fn=_collate, generator=g,
                      pin_memory=t.accelerator.device.type == "cuda", persistent_workers=False)


def batches(t: "Trainer") -> Iterator[dict[str, Any]]:
    """The trainer's micro-batches on its device, from ``(t.epoch, t.batch_in_epoch)`` on, advancing both."""
    while True:
        if t.batch_in_epoch < t.batches_per_epoch:
            it = iter(_loader(t))
            try:
                while t.batch_in_epoch < t.batches_per_epoch:
                    try:
                        batch = next(it)
                    except GanzooError as err:
                        raise _from_worker(err) from None
                    t.batch_in_epoch += 1
                    yield to_device(batch, t.accelerator.device, t.opts.channels_last)
            finally:
                del it  # shuts the epoch's workers down
        t.epoch += 1
        t.batch_in_epoch = 0


def _from_worker(err: Exception) -> Exception:
    """A ganzoo error re-raised from a loader worker carries the worker's traceback: keep its one-line message."""
    text = str(err)
    if "Original Traceback" not in text:
        return err
    last = [line for line in text.strip().splitlines() if line.strip()][-1]
    name = type(err).__name__
    message = last.split(f"{name}: ", 1)[1] if f"{name}: " in last else last
    try:
        return type(err)(message)
    except TypeError:  # an error class with another signature: keep it whole
        return err


def to_device(batch: Any, dev: torch.device, channels_last: bool = False) -> Any:
    """``batch`` (nested dicts, lists, tensors) on ``dev``; 4-D tensors channels-last when asked."""
    if isinstance(batch, dict):
        return {k: to_device(v, dev, channels_last) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(v, dev, channels_last) for v in batch)
    if isinstance(batch, torch.Tensor):
        t = batch.to(dev, non_blocking=True)
        if channels_last and t.dim() == 4:
            t = t.contiguous(memory_format=torch.channels_last)
        return t
    return batch
