"""Devices and process groups for the trainer: the accelerate set-up, and what DDP replicas compare.

Kept apart from the loop: nothing here runs per step.
"""

from __future__ import annotations

import hashlib
import os
import platform
from typing import Any

import torch
from torch import nn

from ..errors import TrainingError

__all__ = ["make_accelerator", "restore_forward", "param_digest", "hardware", "gather", "on_main_then_all"]


def make_accelerator(mixed_precision: str) -> Any:
    """An ``accelerate.Accelerator`` for this process: the GPU when there is one, else the CPU (gloo under DDP).

    Args:
        mixed_precision: ``"no"``, ``"fp16"`` or ``"bf16"``.

    Returns:
        the accelerator (its state is started afresh, so one process can run several trainings in a row).

    Raises:
        TrainingError: the launcher asked for more processes (``WORLD_SIZE``) than accelerate formed a group of.
    """
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState
    from accelerate.utils import DistributedDataParallelKwargs

    # accelerate keeps one process-wide state and refuses a second Accelerator with another precision;
    # a new run (in a notebook, a test session) may ask for one: start its state afresh (the process group,
    # kept in PartialState, stays)
    if getattr(AcceleratorState, "_shared_state", None):
        AcceleratorState._reset_state()
    # without a GPU, accelerate starts torchrun's processes as one gloo group only when told cpu=True
    # (otherwise each process silently trains alone); with one, cpu=False picks it
    has_accelerator = (torch.accelerator.is_available() if hasattr(torch, "accelerator")
                       else torch.cuda.is_available())
    acc = Accelerator(mixed_precision=mixed_precision, cpu=not has_accelerator,
                      kwargs_handlers=[DistributedDataParallelKwargs(broadcast_buffers=True)])
    launched = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if launched > 1 and acc.num_processes != launched:
        raise TrainingError(f"launched as {launched} processes (WORLD_SIZE) but accelerate formed a group of "
                            f"{acc.num_processes}; check the launcher's environment (MASTER_ADDR, RANK …)")
    return acc


def restore_forward(module: nn.Module) -> None:
    """Undo accelerate's mixed-precision patch of ``module.forward`` (hand the network back as it came)."""
    # accelerate's prepare_model wraps forward in autocast under mixed precision (keeping the old one in
    # _original_forward)
    d = module.__dict__
    if "_original_forward" not in d:
        return
    original = d.pop("_original_forward")
    if getattr(original, "__self__", None) is module and getattr(original, "__func__", None) is type(module).forward:
        d.pop("forward", None)
    else:
        module.forward = original


def param_digest(module: nn.Module) -> str:
    """sha256 of a module's parameters (names, dtypes, bytes): equal on every DDP replica, or something is wrong."""
    h = hashlib.sha256()
    for name, p in module.named_parameters():
        t = p.detach().to("cpu").contiguous().reshape(-1)
        h.update(f"{name}:{t.dtype}:{tuple(p.shape)};".encode())
        h.update(t.view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def hardware(accelerator: Any) -> str:
    """What the run trains on, for its card: ``"2 × cuda (NVIDIA H100 …)"`` or ``"1 × cpu (<model>, N threads …)"``."""
    dev = accelerator.device
    if dev.type == "cuda":
        name = torch.cuda.get_device_name(dev)
    else:
        name = platform.processor() or platform.machine()
        try:
            with open("/proc/cpuinfo") as f:
                for line in f:
                    if line.startswith("model name"):
                        name = line.split(":", 1)[1].strip()
                        break
        except OSError:
            pass
        name = f"{name}, {torch.get_num_threads()} threads per process"
    return f"{accelerator.num_processes} × {dev.type} ({name})"


def gather(world: int, obj: Any) -> list[Any]:
    """Every process's ``obj``, by rank (collective under DDP; ``[obj]`` alone)."""
    if world == 1:
        return [obj]
    import torch.distributed as dist

    out: list[Any] = [None] * world
    dist.all_gather_object(out, obj)
    return out


def on_main_then_all(is_main: bool, world: int, fn: Any) -> None:
    """Run ``fn()`` on the main process; if it raises a GanzooError, raise it on every process (no rank is left
    waiting at a barrier for one that failed; the others raise a :class:`~ganzoo.errors.UsageError` with the
    same message)."""
    from ..errors import GanzooError, UsageError

    message: str | None = None
    error: GanzooError | None = None
    if is_main:
        try:
            fn()
        except GanzooError as err:
            error, message = err, str(err)
    if world > 1:
        import torch.distributed as dist

        box = [message]
        dist.broadcast_object_list(box, src=0)
        message = box[0]
    if error is not None:
        raise error
    if message is not None:
        raise UsageError(message)
