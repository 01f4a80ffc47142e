"""The resume capsule: everything needed to continue a run bit-for-bit, written atomically.

Layout (inside the run's model folder, never pushed)::

    checkpoints/
      step-00001000/
        G.safetensors, D.safetensors, G_ema.safetensors …   network weights (safetensors)
        state.pt      optimisers, schedulers, grad scaler, RNG states (python, numpy, torch, CUDA),
                      data position, plugin state, step, run options — tensors and plain data only,
                      read back with ``torch.load(weights_only=True)``
      latest          the name of the newest complete checkpoint

A checkpoint is built in a temporary folder and renamed into place, then ``latest`` is replaced atomically:
a crash mid-write leaves the previous checkpoint and pointer intact. Only the newest ``keep_last`` are kept.
"""

from __future__ import annotations

import os
import random
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import TrainingError
from ..hub import atomic_write

__all__ = ["save_checkpoint", "load_checkpoint", "latest_checkpoint", "list_checkpoints", "rng_state", "set_rng_state",
           "remove_stale"]

_NAME_RE = re.compile(r"^step-(\d{8,})$")


def rng_state() -> dict[str, Any]:
    """Every RNG state a run touches, as tensors and plain lists (loadable with ``weights_only=True``).

    CUDA: the state of this process's current device only (one device per process under DDP), so a capsule
    restores on a machine with another number of GPUs.
    """
    py = random.getstate()
    np_state = np.random.get_state()
    state: dict[str, Any] = {
        "python": [py[0], list(py[1]), py[2]],
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), int(np_state[2]), int(np_state[3]),
                  float(np_state[4])],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state(torch.cuda.current_device())
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    n = state["numpy"]
    np.random.set_state((n[0], n[1].numpy().astype(np.uint32), n[2], n[3], n[4]))
    torch.set_rng_state(state["torch"])
    cuda = state.get("cuda")
    if cuda is not None and torch.cuda.is_available():
        if isinstance(cuda, (list, tuple)):  # older capsules: every device's state
            cuda = cuda[torch.cuda.current_device()] if torch.cuda.current_device() < len(cuda) else None
        if cuda is not None:
            torch.cuda.set_rng_state(cuda, torch.cuda.current_device())


def list_checkpoints(folder: str | os.PathLike[str]) -> list[Path]:
    """Complete checkpoints in ``folder``, oldest first."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.is_dir() and _NAME_RE.match(p.name) and (p / "state.pt").is_file()]
    return sorted(found, key=lambda p: int(_NAME_RE.match(p.name).group(1)))  # type: ignore[union-attr]


def latest_checkpoint(folder: str | os.PathLike[str]) -> Path | None:
    """The checkpoint ``latest`` names (falling back to the newest complete one)."""
    folder = Path(folder)
    pointer = folder / "latest"
    if pointer.is_file():
        candidate = folder / pointer.read_text().strip()
        if (candidate / "state.pt").is_file():
            return candidate
    found = list_checkpoints(folder)
    return found[-1] if found else None


def remove_stale(folder: str | os.PathLike[str]) -> int:
    """Remove half-written checkpoint folders (``.tmp-*``, ``.old-*``) a crash left behind; returns how many."""
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    stale = [p for p in folder.iterdir() if p.is_dir() and p.name.startswith((".tmp-step-", ".old-step-"))]
    for p in stale:
        shutil.rmtree(p, ignore_errors=True)
    return len(stale)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_checkpoint(folder: str | os.PathLike[str], step: int, weights: dict[str, dict[str, torch.Tensor]],
                    state: dict[str, Any], *, keep_last: int = 3) -> Path:
    """Write one checkpoint atomically and prune old ones; returns its folder."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"step-{step:08d}"
    final = folder / name
    tmp = folder / f".tmp-{name}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        for comp, tensors in weights.items():
            target = tmp / f"{comp}.safetensors"
            save_file(_own_storage(tensors), str(target),
                      metadata={"format": "pt", "ganzoo_component": comp, "step": str(step)})
            _fsync(target)
        with open(tmp / "state.pt", "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        if final.exists():  # the same step again (e.g. a final save right after a periodic one)
            old = folder / f".old-{name}-{os.getpid()}"
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    with atomic_write(folder / "latest", "w") as f:
        f.write(name + "\n")
    others = [c for c in list_checkpoints(folder) if c != final]  # oldest first; never prune the one just written
    for old in others[:max(0, len(others) + 1 - keep_last)]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def _own_storage(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    # CPU, contiguous, and no two tensors sharing storage (safetensors refuses shared storage: tied weights)
    out: dict[str, torch.Tensor] = {}
    seen: set[int] = set()
    for k, v in tensors.items():
        t = v.detach().to("cpu").contiguous()
        ptr = t.untyped_storage().data_ptr() if t.numel() else -1
        if ptr != -1 and ptr in seen:
            t = t.clone()
        seen.add(ptr)
        out[k] = t
    return out


def load_checkpoint(path: str | os.PathLike[str]) -> tuple[dict[str, dict[str, torch.Tensor]], dict[str, Any]]:
    """Read a checkpoint: ``({component: state_dict}, state)``. Only safetensors and ``weights_only`` data."""
    from safetensors.torch import load_file

    path = Path(path)
    if not (path / "state.pt").is_file():
        raise TrainingError(f"{path} is not a complete checkpoint (no state.pt)")
    try:
        state = torch.load(path / "state.pt", map_location="cpu", weights_only=True)
    except Exception as err:
        raise TrainingError(f"cannot read {path / 'state.pt'} ({type(err).__name__}: {err}); use an older checkpoint") from err
    weights = {p.stem: load_file(str(p)) for p in sorted(path.glob("*.safetensors"))}
    return weights, state
