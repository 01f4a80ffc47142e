"""The trainer under faults: each ends in one line (no traceback, no "unexpected … please report it"), with
nothing damaged or lost.

* two runs into one ``--out``: the second is refused while the first holds the folder's lock; the lock goes
  with its process, also when that process is killed;
* ``--resume`` refuses a ``latest`` pointer that leaves ``checkpoints/``; a damaged newest checkpoint (truncated
  weights, missing tensors or keys, a truncated state) falls back to the previous one, saying so, and the run
  still ends bit-identical to an uninterrupted one; with nothing to fall back to, the error names the file;
* a full disk or a read-only folder while checkpointing leaves the previous checkpoint intact and the run
  resumable; a read-only ``--out`` is refused before anything starts.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file, save_file
from trainer_toys import QUIET, TOY, env_with, install_toys, train, weights

import ganzoo
from ganzoo.cli import cli
from ganzoo.errors import UsageError
from ganzoo.training import checkpoint as checkpoint_mod
from ganzoo.training.checkpoint import CheckpointDamaged, latest_checkpoint, list_checkpoints, load_checkpoint
from ganzoo.training.run_folder import LOCK_NAME, RunLock

pytestmark = pytest.mark.usefixtures("one_thread")

RUN = dict(TOY, max_steps=6, batch_size=8, checkpoint_every=3, keep_last=3, **QUIET)


@pytest.fixture
def toy(fake_site) -> Path:
    return install_toys(fake_site)


def cli_args(out: Path, *extra: str) -> list[str]:
    return ["train", "trgan", "--data", "builtin:digits", "--out", str(out), "--batch-size", "8", "--set",
            "image_size=8", "--set", "channels=1", "--set", "progress=false", "--set", "sample_every=0", *extra]


def one_line(result) -> str:
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert "unexpected" not in lines[0] and "Traceback" not in result.output
    return lines[0]


def files_of(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def same_weights(a: Path, b: Path) -> bool:
    wa, wb = weights(latest_checkpoint(a / "checkpoints")), weights(latest_checkpoint(b / "checkpoints"))
    return wa.keys() == wb.keys() and all(torch.equal(wa[c][k], wb[c][k]) for c in wa for k in wa[c])


# -- one run per folder ---------------------------------------------------------------------------------------


def test_a_second_run_into_the_same_out_is_refused_while_the_first_trains(toy: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = cli_args(out, "--max-steps", "2000", "--set", "log_every=1", "--set", "checkpoint_every=100000")
    first = subprocess.Popen([sys.executable, "-m", "ganzoo.cli", *args], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env_with(toy, FAKE_TOY_SLEEP="0.05"))
    metrics = out / "logs" / "metrics.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and first.poll() is None:
        if metrics.is_file() and len(metrics.read_text().splitlines()) >= 2:
            break
        time.sleep(0.05)
    assert first.poll() is None, "the first run ended early: " + "".join(first.communicate())
    try:
        line = one_line(CliRunner().invoke(cli, args))
        assert f"{out} is being trained by process {first.pid} since " in line, line
        assert "wait for that run to finish or choose another --out" in line
        with pytest.raises(UsageError, match=f"being trained by process {first.pid}"):  # the Python API alike
            ganzoo.train("trgan", "builtin:digits", out=out, max_steps=1, **TOY, **QUIET)
    finally:
        first.send_signal(signal.SIGTERM)
        stdout, stderr = first.communicate(timeout=120)
    assert first.returncode == 0, stdout + stderr
    # the first run went on undisturbed: one row per step, a loadable folder, and the lock gone with it
    steps = [json.loads(row)["step"] for row in metrics.read_text().splitlines()]
    assert steps == list(range(1, len(steps) + 1))
    assert ganzoo.load(str(out)).card.data.ganzoo["trained_with"]["steps"] == steps[-1]
    assert not (out / LOCK_NAME).exists()


def test_the_run_lock_goes_with_its_process_even_when_it_is_killed(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    code = ("import sys, time\nfrom ganzoo.training.run_folder import RunLock\n"
            "RunLock(sys.argv[1]).acquire(command='ganzoo train x')\nprint('locked', flush=True)\ntime.sleep(300)\n")
    holder = subprocess.Popen([sys.executable, "-c", code, str(folder)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(UsageError, match=f"is being trained by process {holder.pid} since "):
            RunLock(folder).acquire()
    finally:
        holder.kill()  # no clean-up code runs: the OS drops the lock
        holder.wait()
    assert (folder / LOCK_NAME).exists()  # the file stays; the lock does not
    lock = RunLock(folder).acquire()
    assert json.loads((folder / LOCK_NAME).read_text())["pid"] == os.getpid()
    with pytest.raises(UsageError, match=f"being trained by process {os.getpid()}"):  # also within one process
        RunLock(folder).acquire()
    lock.release()
    assert not (folder / LOCK_NAME).exists()
    RunLock(folder).acquire().release()


# -- resume: pointers and damaged checkpoints -------------------------------------------------------------------


def test_resume_refuses_a_latest_pointer_outside_the_run_folder(toy: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert CliRunner().invoke(cli, cli_args(out, "--max-steps", "2")).exit_code == 0
    ckpts = out / "checkpoints"
    outside = tmp_path / "elsewhere" / "step-00000009"
    shutil.copytree(ckpts / "step-00000002", outside)
    before = files_of(out)
    for pointer in ("../../elsewhere/step-00000009", str(outside), "step-00000002/../../../elsewhere/step-00000009"):
        (ckpts / "latest").write_text(pointer + "\n")
        line = one_line(CliRunner().invoke(cli, cli_args(out, "--resume")))
        assert "which is not a checkpoint inside" in line and f"delete {ckpts / 'latest'}" in line, line
    (ckpts / "step-00000009").symlink_to(outside, target_is_directory=True)  # a checkpoint that is a link out
    (ckpts / "latest").write_text("step-00000009\n")
    line = one_line(CliRunner().invoke(cli, cli_args(out, "--resume")))
    assert "which is not a checkpoint inside" in line
    assert [p.name for p in list_checkpoints(ckpts)] == ["step-00000002"]  # links are never checkpoints
    (ckpts / "step-00000009").unlink()
    (ckpts / "latest").write_text("step-00000002\n")
    assert files_of(out) == before  # every refusal left the run as it was


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _drop_tensor(path: Path) -> None:
    tensors = load_file(str(path))
    tensors.pop(sorted(tensors)[0])
    save_file(tensors, str(path))


def _drop_state_key(path: Path) -> None:
    state = torch.load(path, weights_only=True)
    del state["optimizers"]
    torch.save(state, path)


DAMAGE = {
    "truncated weights": ("G.safetensors", _truncate, "is truncated or not a safetensors file"),
    "a missing tensor": ("D.safetensors", _drop_tensor, "lacks "),
    "a state without optimisers": ("state.pt", _drop_state_key, "lacks optimizers"),
    "a truncated state": ("state.pt", _truncate, "cannot be read"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_newest_checkpoint_falls_back_to_the_previous_one(toy: Path, tmp_path: Path, caplog,
                                                                    damage: str) -> None:
    name, spoil, reason = DAMAGE[damage]
    train("trgan", tmp_path / "straight", **RUN)
    train("trgan", tmp_path / "run", **RUN)
    spoil(tmp_path / "run" / "checkpoints" / "step-00000006" / name)
    with caplog.at_level(logging.WARNING, logger="ganzoo"):
        ganzoo.train("trgan", "builtin:digits", out=tmp_path / "run", resume=True)
    said = [r.getMessage() for r in caplog.records if "is damaged" in r.getMessage()]
    assert len(said) == 1 and "step-00000006 is damaged" in said[0] and f"{name} {reason}" in said[0], said
    assert "resuming from the previous checkpoint, step-00000003" in said[0]
    # steps 4–6 were trained again from step 3: the run ends exactly where an uninterrupted one does
    assert same_weights(tmp_path / "straight", tmp_path / "run")
    assert load_checkpoint(latest_checkpoint(tmp_path / "run" / "checkpoints"))[1]["step"] == 6


@pytest.mark.parametrize("damage", ["truncated weights", "a state without optimisers"])
def test_a_damaged_only_checkpoint_is_one_line_naming_the_file(toy: Path, tmp_path: Path, damage: str) -> None:
    name, spoil, reason = DAMAGE[damage]
    out = tmp_path / "run"
    assert CliRunner().invoke(cli, cli_args(out, "--max-steps", "2")).exit_code == 0
    path = out / "checkpoints" / "step-00000002"
    spoil(path / name)
    before = files_of(out)
    line = one_line(CliRunner().invoke(cli, cli_args(out, "--resume")))
    assert f"cannot resume {out}: {path / name} {reason}" in line, line
    assert "no older checkpoint to fall back to" in line and "start a new run with another --out" in line
    assert files_of(out) == before
    with pytest.raises(CheckpointDamaged, match=reason) as info:  # the reader names the file too
        if name == "state.pt":
            checkpoint_mod.read_state(path)
        else:
            load_checkpoint(path)
    assert info.value.file == path / name


# -- a full disk, a read-only folder ------------------------------------------------------------------------------


@pytest.mark.parametrize("code, said, fix", [
    (errno.ENOSPC, "the disk is full", "Free some space"),
    (errno.EROFS, "the file system is read-only", "Make it writable"),
    (errno.EACCES, "permission denied", "Make the folder writable"),
])
def test_a_failed_checkpoint_write_keeps_the_previous_checkpoint(toy: Path, tmp_path: Path, monkeypatch,
                                                                 code: int, said: str, fix: str) -> None:
    real = checkpoint_mod._write_file

    def writer(path: Path, write) -> None:
        if path.name == "state.pt" and path.parent.name.startswith(".tmp-step-00000004"):  # after G and D
            raise OSError(code, os.strerror(code), str(path))
        real(path, write)

    monkeypatch.setattr(checkpoint_mod, "_write_file", writer)
    out = tmp_path / "run"
    args = cli_args(out, "--max-steps", "6", "--set", "checkpoint_every=2")
    line = one_line(CliRunner().invoke(cli, args))
    assert f"cannot write checkpoint {out / 'checkpoints' / 'step-00000004'}: {said}" in line, line
    assert "the previous checkpoint step-00000002 is intact" in line and f"{fix}, then continue with --resume" in line
    ckpts = out / "checkpoints"
    assert sorted(p.name for p in ckpts.iterdir()) == ["latest", "step-00000002"]  # no half-written debris
    assert ganzoo.load(str(out)).card.data.ganzoo["trained_with"]["steps"] == 2
    if code != errno.ENOSPC:
        return
    monkeypatch.undo()  # space freed: the run continues and ends as an uninterrupted one
    assert CliRunner().invoke(cli, cli_args(out, "--resume")).exit_code == 0
    train("trgan", tmp_path / "straight", **dict(RUN, checkpoint_every=2))
    assert same_weights(tmp_path / "straight", out)


def test_a_model_folder_that_cannot_be_refreshed_is_one_line(toy: Path, tmp_path: Path, monkeypatch) -> None:
    import ganzoo.folder

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(ganzoo.folder, "save_model_folder", full)
    out = tmp_path / "run"
    line = one_line(CliRunner().invoke(cli, cli_args(out, "--max-steps", "2")))
    assert f"cannot refresh the model folder {out}: the disk is full" in line
    assert latest_checkpoint(out / "checkpoints").name == "step-00000002"  # the capsule was written first


def test_a_read_only_out_is_refused_before_anything_starts(toy: Path, tmp_path: Path, monkeypatch) -> None:
    real = Path.mkdir
    locked = tmp_path / "ro"

    def mkdir(self: Path, *args, **kwargs) -> None:
        if self == locked or locked in self.parents:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))
        real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    line = one_line(CliRunner().invoke(cli, cli_args(locked / "runs" / "x", "--max-steps", "1")))
    assert f"cannot create --out {locked / 'runs' / 'x'}: the file system is read-only at {locked}; make it " \
           f"writable or choose another --out" in line, line
    assert not locked.exists()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs POSIX permissions that apply (not root)")
def test_a_folder_without_write_permission_is_refused(toy: Path, tmp_path: Path) -> None:
    parent = tmp_path / "ro"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        line = one_line(CliRunner().invoke(cli, cli_args(parent / "x", "--max-steps", "1")))
        assert f"cannot create --out {parent / 'x'}: permission denied" in line, line
    finally:
        parent.chmod(0o755)
