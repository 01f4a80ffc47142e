"""The resume capsule on disk: written atomically, read back defensively.

Layout (inside the run's model folder, never pushed)::

    checkpoints/
      step-00001000/
        G.safetensors, D.safetensors, G_ema.safetensors …   network weights (safetensors)
        state.pt      optimisers, schedulers, grad scaler, RNG states (python, numpy, torch, CUDA),
                      data position, plugin state, step, run options — tensors and plain data only,
                      read back with ``torch.load(weights_only=True)``
      latest          the name of the newest complete checkpoint (a bare ``step-NNNNNNNN``)

Writing: a checkpoint is built in a temporary folder and renamed into place, then ``latest`` is replaced
atomically, so a crash, a full disk or a folder turned read-only mid-write leaves the previous checkpoint and
pointer intact (and the failure is one :class:`~ganzoo.errors.TrainingError` line that says so). Only the
newest ``keep_last`` are kept.

Reading: ``latest`` must name a checkpoint folder inside ``checkpoints/`` (no paths, no symlinks: a pointer
that escapes the run folder is refused); a checkpoint whose ``state.pt`` cannot be read or lacks keys, or
whose weight file is truncated, raises :class:`CheckpointDamaged`, naming the file, so that resuming can fall
back to the previous one (:func:`resume_candidates` gives the order).
"""

from __future__ import annotations

import errno
import os
import random
import re
import shutil
from pathlib import Path
from typing import Any, BinaryIO, Callable

import numpy as np
import torch

from ..errors import TrainingError
from ..files import atomic_write

__all__ = ["save_checkpoint", "load_checkpoint", "latest_checkpoint", "list_checkpoints", "resume_candidates",
           "rng_state", "set_rng_state", "remove_stale", "CheckpointDamaged", "REQUIRED_STATE", "os_error_reason"]

_NAME_RE = re.compile(r"^step-(\d{8,})$")
POINTER = "latest"
#: The keys every ``state.pt`` holds (a capsule without one of them cannot be resumed exactly).
REQUIRED_STATE = ("step", "epoch", "batch_in_epoch", "optimizers", "schedulers", "rng", "run")


class CheckpointDamaged(TrainingError):
    """A checkpoint that cannot be resumed from: ``file`` (in checkpoint folder ``path``) is unreadable or incomplete.

    Attributes:
        path: the checkpoint folder.
        file: the file at fault.
        reason: what is wrong with it (a phrase).
    """

    def __init__(self, path: Path, file: Path, reason: str) -> None:
        self.path, self.file, self.reason = Path(path), Path(file), reason
        super().__init__(f"{file} {reason}: resume from an older checkpoint (delete {path}) or start a new run "
                         f"with another --out")


# -- RNG states -------------------------------------------------------------------------------------------------


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
    """Restore what :func:`rng_state` returned."""
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


# -- finding checkpoints ----------------------------------------------------------------------------------------


def _step_of(path: Path) -> int:
    return int(_NAME_RE.match(path.name).group(1))  # type: ignore[union-attr]


def list_checkpoints(folder: str | os.PathLike[str]) -> list[Path]:
    """Complete checkpoints in ``folder`` (real folders named ``step-NNNNNNNN`` holding ``state.pt``), oldest first.

    Symbolic links are not checkpoints: everything a run resumes from lives inside its own ``checkpoints/``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir()
             if _NAME_RE.match(p.name) and not p.is_symlink() and p.is_dir() and (p / "state.pt").is_file()]
    return sorted(found, key=_step_of)


def _pointer_target(folder: Path) -> Path | None:
    """The checkpoint ``latest`` names; None when there is no pointer or it names no complete checkpoint.

    Raises:
        TrainingError: the pointer names something outside ``folder`` (a path, ``..``, a symlink).
    """
    pointer = folder / POINTER
    if not (pointer.is_file() or pointer.is_symlink()):
        return None
    try:
        text = pointer.read_text(encoding="utf-8", errors="replace").strip() if not pointer.is_symlink() else None
    except OSError:
        text = None
    candidate = folder / text if text and _NAME_RE.match(text) else None
    if candidate is None or candidate.is_symlink():
        shown = "a symbolic link" if text is None else repr(text[:80])
        raise TrainingError(f"{pointer} holds {shown}, which is not a checkpoint inside {folder} (a pointer names a "
                            f"step-NNNNNNNN folder there); delete {pointer} to resume from the newest checkpoint "
                            f"in {folder}")
    return candidate if (candidate / "state.pt").is_file() else None


def latest_checkpoint(folder: str | os.PathLike[str]) -> Path | None:
    """The checkpoint ``latest`` names (falling back to the newest complete one when it names none).

    Raises:
        TrainingError: ``latest`` points outside ``folder``.
    """
    folder = Path(folder)
    target = _pointer_target(folder)
    if target is not None:
        return target
    found = list_checkpoints(folder)
    return found[-1] if found else None


def resume_candidates(folder: str | os.PathLike[str]) -> list[Path]:
    """The checkpoints to try when resuming, best first: the one ``latest`` names, then the others, newest first.

    Raises:
        TrainingError: ``latest`` points outside ``folder``.
    """
    folder = Path(folder)
    first = latest_checkpoint(folder)
    others = [p for p in reversed(list_checkpoints(folder)) if p != first]
    return ([first] if first is not None else []) + others


def remove_stale(folder: str | os.PathLike[str]) -> int:
    """Remove half-written checkpoint folders (``.tmp-*``, ``.old-*``) a crash left behind; returns how many."""
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    stale = [p for p in folder.iterdir() if p.is_dir() and p.name.startswith((".tmp-step-", ".old-step-"))]
    for p in stale:
        shutil.rmtree(p, ignore_errors=True)
    return len(stale)


# -- writing ----------------------------------------------------------------------------------------------------


def os_error_reason(err: OSError) -> tuple[str, str]:
    """(what went wrong, what to do) for an ``OSError`` while writing a run folder, as two phrases.

    Example:
        >>> os_error_reason(OSError(errno.ENOSPC, "No space left on device"))
        ('the disk is full', 'free some space')
    """
    code = getattr(err, "errno", None)
    if code in (errno.ENOSPC, errno.EDQUOT):
        return ("the disk is full" if code == errno.ENOSPC else "the disk quota is exceeded"), "free some space"
    if code == errno.EROFS:
        return "the file system is read-only", "make it writable"
    if code in (errno.EACCES, errno.EPERM):
        return "permission denied", "make the folder writable"
    return (err.strerror or str(err) or type(err).__name__), "fix the cause"


def _write_file(path: Path, write: Callable[[BinaryIO], Any]) -> None:
    """Create ``path``, let ``write`` fill it, fsync it: every byte of a checkpoint goes through here."""
    with open(path, "wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())


def save_checkpoint(folder: str | os.PathLike[str], step: int, weights: dict[str, dict[str, torch.Tensor]],
                    state: dict[str, Any], *, keep_last: int = 3) -> Path:
    """Write one checkpoint atomically and prune old ones; returns its folder.

    Args:
        folder: the run's ``checkpoints/`` folder (created).
        step: the step the checkpoint holds (its name is ``step-NNNNNNNN``).
        weights: ``{component: state_dict}``, each written as ``<component>.safetensors``.
        state: everything else (``state.pt``; tensors and plain data only).
        keep_last: how many checkpoints to keep (the one just written is never pruned).

    Returns:
        `Path`: the checkpoint folder.

    Raises:
        TrainingError: the write failed (a full disk, a read-only folder …); the previous checkpoint and the
            ``latest`` pointer are left as they were, and the message says so.
    """
    from safetensors.torch import save

    folder = Path(folder)
    name = f"step-{step:08d}"
    final = folder / name
    tmp = folder / f".tmp-{name}-{os.getpid()}"
    try:
        previous = latest_checkpoint(folder)
    except TrainingError:
        previous = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        try:
            for comp, tensors in weights.items():
                blob = save(_own_storage(tensors), metadata={"format": "pt", "ganzoo_component": comp,
                                                             "step": str(step)})
                _write_file(tmp / f"{comp}.safetensors", lambda f, b=blob: f.write(b))
            _write_file(tmp / "state.pt", lambda f: torch.save(state, f))
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
        with atomic_write(folder / POINTER, "w") as f:
            f.write(name + "\n")
    except OSError as err:
        reason, fix = os_error_reason(err)
        kept = (f"the previous checkpoint {previous.name} is intact" if previous is not None
                else "no earlier checkpoint was written")
        raise TrainingError(f"cannot write checkpoint {final}: {reason}; {kept}. {fix.capitalize()}, then continue "
                            f"with --resume") from err
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


# -- reading ----------------------------------------------------------------------------------------------------


def read_state(path: str | os.PathLike[str]) -> dict[str, Any]:
    """``state.pt`` of checkpoint ``path`` (``weights_only``), checked for :data:`REQUIRED_STATE`.

    Raises:
        CheckpointDamaged: it is missing, unreadable (truncated …) or lacks required keys.
    """
    path = Path(path)
    file = path / "state.pt"
    if not file.is_file():
        raise CheckpointDamaged(path, file, "is missing (an incomplete checkpoint)")
    try:
        state = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated zip, bit rot, not a torch file: torch raises many types
        raise CheckpointDamaged(path, file, f"cannot be read ({type(err).__name__}: {str(err)[:120]})") from err
    if not isinstance(state, dict):
        raise CheckpointDamaged(path, file, f"holds a {type(state).__name__}, not a training state")
    missing = [k for k in REQUIRED_STATE if k not in state]
    if missing:
        raise CheckpointDamaged(path, file, f"lacks {', '.join(missing)}")
    return state


def load_checkpoint(path: str | os.PathLike[str]) -> tuple[dict[str, dict[str, torch.Tensor]], dict[str, Any]]:
    """Read a checkpoint: ``({component: state_dict}, state)``. Only safetensors and ``weights_only`` data.

    Raises:
        TrainingError: ``path`` is not a checkpoint folder.
        CheckpointDamaged: a file of it is truncated, unreadable or incomplete (the file is named).
    """
    from safetensors.torch import load_file

    path = Path(path)
    if not (path / "state.pt").is_file():
        raise TrainingError(f"{path} is not a complete checkpoint (no state.pt)")
    state = read_state(path)
    weights: dict[str, dict[str, torch.Tensor]] = {}
    for file in sorted(path.glob("*.safetensors")):
        try:
            weights[file.stem] = load_file(str(file))
        except Exception as err:  # SafetensorError (truncated, bad header), OSError
            raise CheckpointDamaged(path, file, f"is truncated or not a safetensors file ({str(err)[:120]})") from err
    return weights, state
