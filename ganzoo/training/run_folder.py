"""The run folder (``--out``): claimed for one run at a time, and refreshed as a model folder at each checkpoint.

* **Claiming.** ``--out`` is checked (a new run must not overwrite one; ``--resume`` needs a checkpoint),
  created with its parents (as ``mkdir -p`` would), then locked: an OS-level lock (``flock``) on
  ``.ganzoo-train.lock`` inside it, held by the main process for the whole run and released on exit — also by
  the OS when the process dies, so a crash never leaves a folder locked. A second run into the same folder
  stops at once with who holds it. Under torchrun only the main process locks: one lock per process group.
* **The model folder.** Every checkpoint re-renders the weights, ``config.json`` and the card. The card's
  ``trained_with`` records the run so that a reader can repeat it: the command as typed, or — for runs started
  from Python, or resumed with other options — the equivalent ``ganzoo train`` command with every config
  field and trainer option that differs from the defaults.
* **Licences.** The card's ``license`` is the licence of the *weights*, which follow the training data:
  ``--set weights_license=…``, else ``--set dataset_license=…``, else what an earlier card said, else the
  built-in dataset's own licence, else ``unknown`` with a note saying how to set it. The plugin's code licence
  is never used for the weights.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import shlex
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ..config import to_dict
from ..errors import TrainingError, UsageError
from ..folder import CARD_NAME, CHECKPOINTS_DIR, CONFIG_NAME
from .checkpoint import latest_checkpoint, os_error_reason

if TYPE_CHECKING:  # pragma: no cover
    from .trainer import Trainer

__all__ = ["RunLock", "check_out", "make_folder", "remove_created", "tag_from_folder", "hub_license",
           "reproduce_command", "card_block", "refresh_model_folder", "LOCK_NAME"]

logger = logging.getLogger(__name__)

LOCK_NAME = ".ganzoo-train.lock"


# -- claiming the folder ----------------------------------------------------------------------------------------


def check_out(out: Path, resume: bool) -> None:
    """Refuse an ``--out`` that cannot take this run (changes nothing).

    Raises:
        UsageError: ``out`` holds a run or model (without ``resume``), has nothing to resume, or is a file.
        TrainingError: its ``latest`` pointer escapes ``checkpoints/``.
    """
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; give a folder")
    ckpt = latest_checkpoint(out / CHECKPOINTS_DIR)
    if resume:
        if ckpt is None:
            raise UsageError(f"--resume: {out} has no checkpoint to resume from "
                             f"(drop --resume to start a new run there)")
        return
    if ckpt is not None or (out / CONFIG_NAME).exists():
        raise UsageError(f"{out} already holds a run or model: pass --resume to continue it, or choose "
                         f"another --out (nothing was changed)")


def make_folder(out: Path) -> list[Path]:
    """Create ``out`` and its missing parents; returns the folders created, outermost first.

    Raises:
        UsageError: a folder cannot be created (read-only, permission, a file in the way).
    """
    created: list[Path] = []
    p = out
    while not p.exists() and p != p.parent:
        created.append(p)
        p = p.parent
    created.reverse()
    for folder in created:
        try:
            folder.mkdir(exist_ok=True)
        except OSError as err:
            remove_created(created)
            reason, fix = os_error_reason(err)
            raise UsageError(f"cannot create --out {out}: {reason} at {folder}; {fix} or choose another --out") from err
    if not os.access(out, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write to --out {out}: permission denied; make the folder writable or choose "
                         f"another --out")
    return created


def remove_created(created: list[Path]) -> None:
    """Remove the folders :func:`make_folder` created, innermost first, where they are still empty."""
    for folder in reversed(created):
        try:
            folder.rmdir()
        except OSError:
            break


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            os.lseek(fd, 1 << 20, os.SEEK_SET)  # a byte past the holder's note, so it stays readable
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:  # BlockingIOError (EWOULDBLOCK) or EACCES: someone holds it
        return False


class RunLock:
    """An exclusive lock on a run folder for the life of one run (one process or one torchrun group).

    The lock is ``flock`` on ``<folder>/.ganzoo-train.lock`` (a byte-range lock on Windows): the OS drops it when
    the holder exits or dies. The file says who holds it (process id, host, start time, command), for the
    message a second run gets; it is removed on release.

    Args:
        folder: the run folder (it must exist).

    Example:
        >>> with RunLock(folder):  # doctest: +SKIP
        ...     train_into(folder)
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self._fd: int | None = None

    def acquire(self, *, command: str | None = None) -> "RunLock":
        """Take the lock or fail at once.

        Raises:
            UsageError: another process holds it ("… is being trained by process PID since …"), or the lock
                file cannot be created (read-only folder).
        """
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as err:
                reason, fix = os_error_reason(err)
                raise UsageError(f"cannot lock --out {self.folder} for training: {reason}; {fix} or choose another "
                                 f"--out") from err
            if not _try_lock(fd):
                holder = self._holder(fd)
                os.close(fd)
                raise UsageError(f"{self.folder} is being trained by {holder}; wait for that run to finish or "
                                 f"choose another --out (nothing was changed)")
            try:  # the file may have been removed by a run that released it just now: lock the one there now
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        note = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                "command": command}
        try:
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, (json.dumps(note) + "\n").encode())
        except OSError:
            pass  # the lock holds without its note
        self._fd = fd
        return self

    def _holder(self, fd: int) -> str:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            note = json.loads(os.read(fd, 4096).decode() or "{}")
        except (OSError, ValueError):
            note = {}
        if not isinstance(note, dict) or "pid" not in note:
            return "another process"
        where = "" if note.get("host") in (None, socket.gethostname()) else f" on {note['host']}"
        return f"process {note['pid']}{where} since {note.get('since', '?')}"

    def release(self) -> None:
        """Drop the lock (and its file). Safe to call twice."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            self.path.unlink()  # while still holding it: the next run locks a fresh file
        except OSError:
            pass
        os.close(fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


# -- what the card records --------------------------------------------------------------------------------------


def tag_from_folder(out: Path, plugin: str) -> str:
    """The card tag a run folder implies: its name without the ``<plugin>-`` prefix, made a valid tag."""
    name = out.resolve().name.lower()
    if name.startswith(plugin + "-"):
        name = name[len(plugin) + 1:]
    name = re.sub(r"[^a-z0-9_.\-]+", "-", name).strip("-.") or "custom"
    return name if re.match(r"^[a-z0-9]", name) else f"run-{name}"


#: Licence ids the Hub accepts in a card's ``license:`` (lower case); other SPDX expressions become ``other``.
HUB_LICENSES = frozenset("""
apache-2.0 mit openrail openrail++ bigscience-openrail-m creativeml-openrail-m bigscience-bloom-rail-1.0
bigcode-openrail-m afl-3.0 artistic-2.0 bsl-1.0 bsd bsd-2-clause bsd-3-clause bsd-3-clause-clear c-uda cc cc0-1.0
cc-by-2.0 cc-by-2.5 cc-by-3.0 cc-by-4.0 cc-by-sa-3.0 cc-by-sa-4.0 cc-by-nc-2.0 cc-by-nc-3.0 cc-by-nc-4.0
cc-by-nd-4.0 cc-by-nc-nd-3.0 cc-by-nc-nd-4.0 cc-by-nc-sa-2.0 cc-by-nc-sa-3.0 cc-by-nc-sa-4.0 cdla-sharing-1.0
cdla-permissive-1.0 cdla-permissive-2.0 wtfpl ecl-2.0 epl-1.0 epl-2.0 etalab-2.0 eupl-1.1 eupl-1.2 agpl-3.0 gfdl
gpl gpl-2.0 gpl-3.0 lgpl lgpl-2.1 lgpl-3.0 isc lppl-1.3c ms-pl apple-ascl mpl-2.0 odc-by odbl openmdw-1.0
osl-3.0 postgresql ofl-1.1 ncsa unlicense zlib pddl lgpl-lr deepfloyd-if-license llama2 llama3 gemma unknown other
""".split())


def hub_license(spdx: str | None) -> str | None:
    """The Hub's ``license:`` value for an SPDX id or expression (``Apache-2.0`` → ``apache-2.0``; an
    expression such as ``Apache-2.0 AND BSD-3-Clause`` → ``other``, the full text going in ``weights_license``)."""
    if not spdx:
        return None
    low = spdx.strip().lower()
    return low if low in HUB_LICENSES else "other"


def _licences(t: "Trainer", old: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(weights licence, dataset licence, note): see the module docstring for the order."""
    info = getattr(t.dataset, "card_info", None) or {}
    data = t.opts.dataset_license or old.get("dataset_license") or info.get("license")
    if t.opts.weights_license:
        return t.opts.weights_license, data, None
    if t.opts.dataset_license:
        return t.opts.dataset_license, data, None
    if old.get("weights_license"):
        return old["weights_license"], data, None
    if data:
        return data, data, None
    note = ("The weights' licence is unknown: trained weights follow the licence of their training data, and this "
            "run did not state it. Train with `--set dataset_license=<SPDX id>` (or `--set weights_license=…`), or "
            "set `license:` above once you know it.")
    return None, None, note


def _value(v: Any) -> str:
    """A value as ``--set`` reads it back (YAML scalars and flow collections)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        from ..config import parse_value

        return v if parse_value(v) == v else json.dumps(v)
    return json.dumps(v)


def reproduce_command(t: "Trainer") -> str:
    """The ``ganzoo train`` command that repeats this run (under torchrun when it has several processes).

    Config fields are given when they differ from the config's defaults, trainer options when they differ from
    what ``ganzoo train`` would use for the plugin without them (its ``train_defaults`` over the option defaults).
    """
    from .options import TRAINER_KEYS, TrainerOptions

    spec = t.model.plugin
    opts = t.opts.to_dict()
    base = TrainerOptions.from_dict(dict(t.impl.train_defaults)).to_dict()
    args = [spec.name, "--data", t.data, "--out", str(t.out)]
    if opts["max_steps"] is not None:
        args += ["--max-steps", str(opts["max_steps"])]
    elif opts["epochs"] is not None:
        args += ["--epochs", _value(opts["epochs"])]
    args += ["--batch-size", str(opts["batch_size"]), "--seed", str(opts["seed"])]
    if opts["mixed_precision"] != base["mixed_precision"]:
        args += ["--mixed-precision", opts["mixed_precision"]]
    if opts["compile"]:
        args += ["--compile"]
    flagged = {"max_steps", "epochs", "batch_size", "seed", "mixed_precision", "compile", "progress"}
    config = to_dict(t.model.config)
    try:
        defaults = to_dict(type(t.model.config)())
    except (TypeError, ValueError):  # a config without defaults for every field: give them all
        defaults = {}
    fields = {f.name for f in dataclasses.fields(t.model.config) if f.init}
    for key in sorted(fields):
        if key not in defaults or defaults[key] != config[key]:
            name = f"model.{key}" if key in TRAINER_KEYS else key
            args += ["--set", f"{name}={_value(config[key])}"]
    for key, value in opts.items():
        if key not in flagged and value != base.get(key):
            name = f"trainer.{key}" if key in fields else key
            args += ["--set", f"{name}={_value(value)}"]
    if t.world > 1:
        local = int(os.environ.get("LOCAL_WORLD_SIZE", t.world) or t.world)
        return (f"torchrun --nnodes {max(1, t.world // max(1, local))} --nproc-per-node {local} -m ganzoo.cli train "
                + shlex.join(args))
    return "ganzoo train " + shlex.join(args)


def card_block(t: "Trainer") -> dict[str, Any]:
    """The card's ``trained_with`` record: command, data, steps, batch, hardware, wall time …"""
    from .. import __version__
    from .devices import hardware

    opts = t.opts
    elapsed = t.wall_time + (time.perf_counter() - t._t0)
    trained = {
        "command": t.command or reproduce_command(t),
        "data": t.data,
        "split": "train",
        "dataset_items": len(t.dataset),
        "steps": t.step,
        "max_steps": t.max_steps,
        "epochs": round(t.step * t._groups_per_step / max(1, t.groups_per_epoch), 3),
        "global_batch_size": opts.batch_size * t.world * opts.grad_accum,
        "batch_size_per_process": opts.batch_size,
        "processes": t.world,
        "grad_accum": opts.grad_accum,
        "d_steps": opts.d_steps,
        "mixed_precision": t.precision,
        "lr_schedule": opts.lr_schedule,
        "ema_decay": opts.ema_decay,
        "seed": opts.seed,
        "hardware": hardware(t.accelerator),
        "wall_time_s": round(elapsed, 1),
        "ganzoo_version": __version__,
        "torch_version": torch.__version__,
    }
    if t.started_from:
        trained["started_from"] = t.started_from
    return {"trained_with": trained}


def refresh_model_folder(t: "Trainer") -> Path:
    """Rewrite the run's model folder: weights, config.json and a card re-rendered with the progress so far.

    The trainer owns the card of its run folder: its ganzoo block keeps keys others added (metrics from
    ``ganzoo eval``, a dataset block), the prose is regenerated.

    Raises:
        TrainingError: the folder cannot be written (full disk, read-only); the previous files stay whole.
    """
    from ..cards import load_card, make_card
    from ..folder import save_model_folder

    block: dict[str, Any] = {}
    eval_results = None
    card_path = t.out / CARD_NAME
    if card_path.is_file():
        try:
            old = load_card(card_path)
            block = dict(getattr(old.data, "ganzoo", {}) or {})
            eval_results = getattr(old.data, "eval_results", None)
        except Exception:  # a broken card is replaced, never a reason to lose a checkpoint
            block = {}
    weights_license, dataset_license, note = _licences(t, block)
    block.update(card_block(t))
    info = dict(getattr(t.dataset, "card_info", None) or {})
    if t.opts.dataset_license:
        info = {"name": info.get("name", t.data), **info, "license": t.opts.dataset_license}
    if info:
        block["dataset"] = info
    for key, value in (("weights_license", weights_license), ("dataset_license", dataset_license)):
        if value:
            block[key] = value
        else:
            block.pop(key, None)
    block.pop("plugin", None)
    block.pop("tag", None)
    card = make_card(plugin=t.model.plugin, tag=t.tag, ganzoo=block,
                     license=hub_license(weights_license) or "unknown", eval_results=eval_results,
                     load_name=str(t.out), notes=note)
    try:
        with t.raw_components() as model:
            extra = {f"{n}_ema": e.module for n, e in t.ema.items()}
            return save_model_folder(model, t.out, card=card, extra_components=extra)
    except OSError as err:
        reason, fix = os_error_reason(err)
        raise TrainingError(f"cannot refresh the model folder {t.out}: {reason}; its previous weights stay whole "
                            f"and the checkpoint was written. {fix.capitalize()}, then continue with --resume") from err
