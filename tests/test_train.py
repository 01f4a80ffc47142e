"""The shared trainer: exact resume, multi-process equivalence, signals, NaN, options, schedules, EMA, outputs.

DCGAN (tiny: 16×16 grey, width 8) stands for a real plugin. Where exact equalities across batch splits are
checked, batch norm would make them false by design (per-process batch statistics), so a BN-free MLP GAN —
installed as a real distribution on a temporary sys.path, visible to subprocesses through PYTHONPATH — is
used instead. Everything runs on the CPU in seconds.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file

import ganzoo
from ganzoo.cli import cli
from ganzoo.errors import ConfigError, TrainingError, UsageError
from ganzoo.training.checkpoint import latest_checkpoint, list_checkpoints, load_checkpoint, save_checkpoint
from ganzoo.training.cli_support import run_training

TINY = {"image_size": 16, "channels": 1, "nz": 8, "ngf": 8, "ndf": 8}
TINY_SETS = [x for k, v in TINY.items() for x in ("--set", f"{k}={v}")]
QUIET = {"progress": False, "sample_every": 0, "log_every": 1}

TOY_SPEC = '''
from ganzoo import Plugin

trgan = Plugin(name="trgan", task="unconditional", summary="BN-free MLP GAN for trainer tests",
                paper="https://arxiv.org/abs/1406.2661", config="fake_toygan.model:ToyConfig",
                impl="fake_toygan.model:ToyGAN", components=("G", "D"), inference=("G",))
trae = Plugin(name="trae", task="reconstruction", summary="MLP auto-encoder for trainer tests (no discriminator)",
               paper="https://arxiv.org/abs/1312.6114", config="fake_toygan.model:ToyConfig",
               impl="fake_toygan.model:ToyAE", components=("G", "E"), inference=("G",))
'''

TOY_MODEL = '''
"""A BN-free MLP GAN and auto-encoder: per-example losses averaged over the batch, noise from self.noise."""
import os
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.config import ImageConfig
from ganzoo.impl import GanImpl
from ganzoo.training import rng


@dataclass
class ToyConfig(ImageConfig):
    image_size: int = 8
    channels: int = 1
    nz: int = 4
    hidden: int = 32
    lr: float = 1e-3
    beta1: float = 0.5
    beta2: float = 0.999
    nan_at: int = 0  # g_adv becomes NaN at this step (1-based); 0: never
    dropout: float = 0.0  # in D: training then draws from the global RNG


def _mlp(i, h, o):
    return nn.Sequential(nn.Linear(i, h), nn.LeakyReLU(0.2), nn.Linear(h, h), nn.LeakyReLU(0.2), nn.Linear(h, o))


class Gen(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.shape = (cfg.channels, cfg.image_size, cfg.image_size)
        self.net = _mlp(cfg.nz, cfg.hidden, cfg.channels * cfg.image_size ** 2)

    def forward(self, z):
        return torch.tanh(self.net(z)).reshape(z.shape[0], *self.shape)


class Disc(nn.Module):
    def __init__(self, cfg, out=1):
        super().__init__()
        self.drop = nn.Dropout(cfg.dropout)
        self.net = _mlp(cfg.channels * cfg.image_size ** 2, cfg.hidden, out)

    def forward(self, x):
        h = self.net(self.drop(x.flatten(1)))
        return h.squeeze(1) if h.shape[1] == 1 else h


def _bce(logits, real):
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, 1.0 if real else 0.0))


class ToyGAN(GanImpl):
    def build(self, config):
        return self.new_model(config, {"G": Gen(config), "D": Disc(config)})

    def _fake(self, model, n, device):
        return model.G(self.noise(n, (model.config.nz,), device=device))

    def discriminator_loss(self, model, batch):
        delay = float(os.environ.get("FAKE_TOY_SLEEP", "0") or 0)
        if delay:
            time.sleep(delay)
        real = batch["image"]
        with torch.no_grad():
            fake = self._fake(model, real.shape[0], real.device)
        r, f = model.D(real), model.D(fake)
        return {"d_real": _bce(r, True), "d_fake": _bce(f, False), "D(x)": torch.sigmoid(r.detach()).mean()}

    def generator_loss(self, model, batch):
        real = batch["image"]
        loss = _bce(model.D(self._fake(model, real.shape[0], real.device)), True)
        now = rng.active()
        if model.config.nan_at and now is not None and now.step + 1 == model.config.nan_at:
            loss = loss * float("nan")
        return {"g_adv": loss}

    def sample(self, model, n=None, *, condition=None, seed=None):
        n = 64 if n is None else n
        return model.G(self.noise(n, (model.config.nz,), seed=seed, device=model.device))

    def preview(self, model, dataset, stem, *, n=64, seed=0):
        from ganzoo.data import save_image_grid

        torch.randn(3)  # a preview that draws from the global RNG must not change training
        return save_image_grid(self.sample(model, n, seed=seed), stem.with_suffix(".png"))


class ToyAE(GanImpl):
    def build(self, config):
        return self.new_model(config, {"G": Gen(config), "E": Disc(config, out=config.nz)})

    def configure_optimizers(self, model):
        params = list(model.E.parameters()) + list(model.G.parameters())
        return {"G": torch.optim.Adam(params, lr=model.config.lr)}

    def train_step(self, model, batch, step):
        x = batch["image"]
        z = model.E(x) + 0.1 * self.noise(x.shape[0], (model.config.nz,), device=x.device)
        return {"recon": F.mse_loss(model.G(z), x)}

    def sample(self, model, n=None, *, condition=None, seed=None):
        n = 64 if n is None else n
        return model.G(self.noise(n, (model.config.nz,), seed=seed, device=model.device))
'''

TOY = {"image_size": 8, "channels": 1}  # builtin:digits are 8×8 grey: no resizing


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny networks run fastest on one thread, and a shared CI machine punishes thread contention."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def toy(fake_site) -> Path:
    """Install the toy plugins (trgan, trae) as a distribution; returns the site folder (for PYTHONPATH)."""
    fake_site.add("fake-toygan", entry_points={"trgan": "fake_toygan:trgan", "trae": "fake_toygan:trae"},
                  modules={"fake_toygan/__init__.py": TOY_SPEC, "fake_toygan/model.py": TOY_MODEL})
    return fake_site.root


def train(plugin: str, out: Path, *, resume: bool = False, callbacks=None, data: str = "builtin:digits",
          **overrides):
    """In-process `ganzoo train` (the CLI's own code path after flag parsing)."""
    flags = {k: overrides.pop(k) for k in ("max_steps", "epochs", "batch_size", "seed", "mixed_precision")
             if k in overrides}
    return run_training(plugin, data, out, overrides=overrides, flags=flags, resume=resume, callbacks=callbacks)


def weights(folder: Path) -> dict[str, dict[str, torch.Tensor]]:
    return {p.stem: load_file(str(p)) for p in sorted(folder.glob("*.safetensors"))}


def tensors_of(obj, prefix=""):
    """Every tensor in a nested structure, by path."""
    if isinstance(obj, torch.Tensor):
        return {prefix: obj}
    if isinstance(obj, dict):
        return {k: v for key, val in obj.items() for k, v in tensors_of(val, f"{prefix}/{key}").items()}
    if isinstance(obj, (list, tuple)):
        return {k: v for i, val in enumerate(obj) for k, v in tensors_of(val, f"{prefix}/{i}").items()}
    return {}


def plain_of(obj):
    """The non-tensor leaves of a nested structure."""
    if isinstance(obj, torch.Tensor):
        return "<tensor>"
    if isinstance(obj, dict):
        return {k: plain_of(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain_of(v) for v in obj]
    return obj


def max_rel_diff(a: dict, b: dict) -> float:
    out = 0.0
    for comp in a:
        for k in a[comp]:
            x, y = a[comp][k].double(), b[comp][k].double()
            out = max(out, float((x - y).abs().max() / y.abs().max().clamp_min(1e-12)))
    return out


def stop_at(step: int):
    """A callback that stops the run after ``step`` as SIGTERM does (checkpoint, then return)."""
    def fn(trainer) -> None:
        if trainer.step == step:
            trainer.request_stop()
    return {"on_step_end": [fn]}


# -- exact resume --------------------------------------------------------------------------------------------


def test_resume_is_bit_identical_to_an_uninterrupted_run(tmp_path: Path) -> None:
    """6 steps straight == 3 steps, stop, resume to 6: every weight, EMA, optimiser and scheduler tensor equal.

    The run exercises everything the capsule carries: BN buffers (DCGAN), two D updates per step, a decaying
    LR schedule, an EMA, data-loader workers with augmentation-free data, and previews between steps.
    """
    opts = dict(TINY, max_steps=6, batch_size=4, d_steps=2, lr_schedule="linear_decay", ema_decay=0.8,
                num_workers=2, sample_every=2, sample_n=4, checkpoint_every=100, progress=False, log_every=1)
    straight = train("dcgan", tmp_path / "straight", **opts)
    assert straight.step == 6 and straight.stopped_by is None

    first = train("dcgan", tmp_path / "resumed", callbacks=stop_at(3), **opts)
    assert first.stopped_by == "request" and first.step == 3
    assert [p.name for p in list_checkpoints(tmp_path / "resumed" / "checkpoints")] == ["step-00000003"]
    second = train("dcgan", tmp_path / "resumed", resume=True)  # options come from the run itself
    assert second.step == 6

    a_dir = latest_checkpoint(tmp_path / "straight" / "checkpoints")
    b_dir = latest_checkpoint(tmp_path / "resumed" / "checkpoints")
    assert a_dir.name == b_dir.name == "step-00000006"
    wa, sa = load_checkpoint(a_dir)
    wb, sb = load_checkpoint(b_dir)
    assert set(wa) == set(wb) == {"G", "D", "G_ema"}
    for comp in wa:
        assert wa[comp].keys() == wb[comp].keys()
        for k in wa[comp]:
            assert torch.equal(wa[comp][k], wb[comp][k]), f"{comp}.{k} differs after resume"
    ta, tb = tensors_of({k: sa[k] for k in ("optimizers", "schedulers", "rng")}), \
        tensors_of({k: sb[k] for k in ("optimizers", "schedulers", "rng")})
    assert ta.keys() == tb.keys() and len(ta) > 20
    for k in ta:
        assert torch.equal(ta[k], tb[k]), f"{k} differs after resume"
    assert plain_of(sa["optimizers"]) == plain_of(sb["optimizers"])
    assert plain_of(sa["schedulers"]) == plain_of(sb["schedulers"])
    assert (sa["step"], sa["epoch"], sa["batch_in_epoch"]) == (sb["step"], sb["epoch"], sb["batch_in_epoch"])
    # the model folders agree byte for byte on the weights, and the card counts all six steps
    for name in ("G.safetensors", "D.safetensors", "G_ema.safetensors"):
        assert (tmp_path / "straight" / name).read_bytes() == (tmp_path / "resumed" / name).read_bytes()
    card = ganzoo.load(str(tmp_path / "resumed")).card
    assert card.data.ganzoo["trained_with"]["steps"] == 6
    # the metrics hold each step once, also across the resume
    steps = [json.loads(line)["step"] for line in (tmp_path / "resumed" / "logs" / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4, 5, 6]


def test_resume_crosses_epochs_identically_with_accumulation(toy: Path, tmp_path: Path) -> None:
    """Resuming mid-epoch and across an epoch boundary, with accumulation, is exact too."""
    # 1797 digits, global step batch 16 × 4 = 64 → 28 steps per epoch: 30 steps cross into epoch 1; dropout in D
    # draws from the global RNG, which the capsule restores
    opts = dict(TOY, max_steps=30, batch_size=16, grad_accum=4, checkpoint_every=100, dropout=0.3, **QUIET)
    train("trgan", tmp_path / "a", **opts)
    train("trgan", tmp_path / "b", callbacks=stop_at(27), **opts)
    t = train("trgan", tmp_path / "b", resume=True)
    assert t.epoch == 1
    wa = weights(latest_checkpoint(tmp_path / "a" / "checkpoints"))
    wb = weights(latest_checkpoint(tmp_path / "b" / "checkpoints"))
    assert all(torch.equal(wa[c][k], wb[c][k]) for c in wa for k in wa[c])


def test_previews_and_checkpoints_do_not_change_training(toy: Path, tmp_path: Path) -> None:
    """Previews (even one that draws from the global RNG) and checkpoints leave the training RNG as it was."""
    base = dict(TOY, max_steps=6, batch_size=8, dropout=0.3, progress=False, sample_n=4)
    train("trgan", tmp_path / "plain", sample_every=0, checkpoint_every=0, **base)
    train("trgan", tmp_path / "busy", sample_every=1, checkpoint_every=1, **base)
    assert len(list((tmp_path / "busy" / "samples").glob("step-*.png"))) == 5
    plain, busy = weights(tmp_path / "plain"), weights(tmp_path / "busy")
    assert all(torch.equal(plain[c][k], busy[c][k]) for c in plain for k in plain[c])


# -- process counts, accumulation ----------------------------------------------------------------------------


def test_two_processes_under_torchrun_match_one_process(toy: Path, tmp_path: Path) -> None:
    """torchrun --nproc-per-node 2 (gloo) with batch 4 == 1 process with batch 8, up to summation order; the
    two ranks hold identical parameters (their digests are recorded in the checkpoint and compared)."""
    sets = ["--set", "image_size=8", "--set", "channels=1", "--set", "progress=false", "--set", "sample_every=0",
            "--set", "sample_n=4", "--set", "log_every=1"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(toy), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1"}
    out2 = tmp_path / "two"
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--standalone",
                           "-m", "ganzoo.cli", "train", "trgan", "--data", "builtin:digits", "--out", str(out2),
                           "--max-steps", "8", "--batch-size", "4", *sets],
                          capture_output=True, text=True, env=env, timeout=240)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "parameters identical on all 2 processes" in proc.stderr
    assert proc.stdout.count("Trained trgan for 8 steps") == 1  # rank 0 speaks, once

    _, state = load_checkpoint(latest_checkpoint(out2 / "checkpoints"))
    digests = state["replicas"]
    assert len(digests) == 2 and set(digests[0]) == {"G", "D"} and digests[0] == digests[1]
    assert state["run"]["world_size"] == 2 and state["run"]["global_batch_size"] == 8
    trained = ganzoo.load(str(out2)).card.data.ganzoo["trained_with"]
    assert trained["processes"] == 2 and trained["global_batch_size"] == 8 and trained["batch_size_per_process"] == 4
    assert trained["command"].startswith("torchrun --nnodes 1 --nproc-per-node 2 -m ganzoo.cli train trgan")

    train("trgan", tmp_path / "one", **TOY, max_steps=8, batch_size=8, **QUIET)
    train("trgan", tmp_path / "seed1", **TOY, max_steps=8, batch_size=8, seed=1, **QUIET)
    two, one, other = weights(out2), weights(tmp_path / "one"), weights(tmp_path / "seed1")
    close = max_rel_diff(two, one)
    far = max_rel_diff(other, one)
    print(f"max relative difference: 2 processes vs 1 = {close:.2e}; another seed = {far:.2e}")
    assert close < 5e-6, close
    assert far > 1e-2, far  # so "close" means something


def test_gradient_accumulation_equals_the_larger_batch(toy: Path, tmp_path: Path) -> None:
    """2 micro-batches of 4 == one batch of 8 (same items, same noise rows), up to summation order."""
    base = dict(TOY, max_steps=6, **QUIET)
    train("trgan", tmp_path / "big", batch_size=8, **base)
    train("trgan", tmp_path / "acc", batch_size=4, grad_accum=2, **base)
    train("trgan", tmp_path / "seed", batch_size=8, seed=3, **base)
    big, acc, seed = weights(tmp_path / "big"), weights(tmp_path / "acc"), weights(tmp_path / "seed")
    print(f"max relative difference: accumulation vs batch 8 = {max_rel_diff(acc, big):.2e}; "
          f"another seed = {max_rel_diff(seed, big):.2e}")
    assert max_rel_diff(acc, big) < 5e-6
    assert max_rel_diff(seed, big) > 1e-2
    assert ganzoo.load(str(tmp_path / "acc")).card.data.ganzoo["trained_with"]["global_batch_size"] == 8


def test_a_plugin_without_discriminator_uses_the_same_trainer(toy: Path, tmp_path: Path) -> None:
    t = train("trae", tmp_path / "ae", **TOY, max_steps=40, batch_size=32, **QUIET)
    rows = [json.loads(line) for line in (tmp_path / "ae" / "logs" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(1, 41)) and "lr_G" in rows[0]
    assert rows[-1]["recon"] < rows[0]["recon"]  # it learns
    assert t.step == 40 and set(ganzoo.load(str(tmp_path / "ae"), components="all").components) == {"G", "E"}


# -- signals and non-finite losses ---------------------------------------------------------------------------


def test_sigterm_mid_run_checkpoints_exits_cleanly_and_resumes(toy: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(toy), os.environ.get("PYTHONPATH", "")]),
           "FAKE_TOY_SLEEP": "0.05", "OMP_NUM_THREADS": "1"}
    args = ["train", "trgan", "--data", "builtin:digits", "--out", str(out), "--max-steps", "60", "--batch-size", "8",
            "--set", "image_size=8", "--set", "channels=1", "--set", "progress=false", "--set", "sample_every=0",
            "--set", "log_every=1", "--set", "checkpoint_every=1000"]
    proc = subprocess.Popen([sys.executable, "-m", "ganzoo.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    metrics = out / "logs" / "metrics.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if metrics.is_file() and len(metrics.read_text().splitlines()) >= 3:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before the signal: " + "".join(proc.communicate())
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stdout + stderr
    lines = [line for line in stdout.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Stopped by SIGTERM at step "), stdout
    assert "Traceback" not in stderr
    step = int(lines[0].split("at step ")[1].split(":")[0])
    assert 3 <= step < 60
    assert latest_checkpoint(out / "checkpoints").name == f"step-{step:08d}"
    model = ganzoo.load(str(out))  # the model folder is loadable and at the same step
    assert model.card.data.ganzoo["trained_with"]["steps"] == step
    assert model.sample(2, seed=0).shape == (2, 1, 8, 8)

    result = CliRunner().invoke(cli, ["train", "trgan", "--data", "builtin:digits", "--out", str(out), "--resume"])
    assert result.exit_code == 0, result.output
    assert "Trained trgan for 60 steps" in result.output
    assert latest_checkpoint(out / "checkpoints").name == "step-00000060"


def test_a_non_finite_loss_stops_with_its_name_and_step_keeping_the_last_checkpoint(toy: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["train", "trgan", "--data", "builtin:digits", "--out", str(out),
                                      "--max-steps", "20", "--batch-size", "8", "--set", "image_size=8", "--set",
                                      "channels=1", "--set", "nan_at=5", "--set", "checkpoint_every=2", "--set",
                                      "progress=false", "--set", "sample_every=0", "--set", "log_every=1"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "loss 'g_adv' is nan at step 5" in lines[0] and "step-00000004" in lines[0], lines[0]
    assert "Traceback" not in result.output
    assert [p.name for p in list_checkpoints(out / "checkpoints")] == ["step-00000002", "step-00000004"]
    assert latest_checkpoint(out / "checkpoints").name == "step-00000004"
    card = ganzoo.load(str(out)).card
    assert card.data.ganzoo["trained_with"]["steps"] == 4  # the model folder holds the last good weights
    ckpt_g = load_file(str(out / "checkpoints" / "step-00000004" / "G.safetensors"))
    assert all(torch.equal(ckpt_g[k], v) for k, v in load_file(str(out / "G.safetensors")).items())
    rows = [json.loads(line) for line in (out / "logs" / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["step"] == 5 and math.isnan(rows[-1]["g_adv"])  # the metrics show the step that failed


# -- options -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sets, expected", [
    (["nzz=8"], ["unknown option 'nzz'", "Did you mean nz", "ngf", "max_grad_norm"]),
    (["trainer.nz=8"], ["unknown option 'trainer.nz'", "trainer options"]),
    (["nz=eight"], ["nz must be an integer, got 'eight'"]),
    (["batch_sizee=3"], ["unknown option 'batch_sizee'", "batch_size"]),
    (["grad_accum=two"], ["grad_accum must be an integer, got 'two'"]),
    (["lr_schedule=step"], ["lr_schedule must be one of 'constant', 'linear_decay', 'cosine'"]),
    (["ema_decay=2"], ["ema_decay must be in (0, 1)"]),
    (["image_size=12"], ["image_size must be a power of two"]),
])
def test_bad_set_keys_and_types_name_the_valid_ones(tmp_path: Path, sets: list[str], expected: list[str]) -> None:
    args = ["train", "dcgan", "--data", "builtin:digits", "--out", str(tmp_path / "run"), "--max-steps", "1"]
    result = CliRunner().invoke(cli, args + [x for s in sets for x in ("--set", s)])
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for text in expected:
        assert text in lines[0], lines[0]
    assert not (tmp_path / "run").exists()


def test_set_needs_key_equals_value(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["train", "dcgan", "--data", "builtin:digits", "--out", str(tmp_path / "r"),
                                      "--max-steps", "1", "--set", "nz"])
    assert result.exit_code == 2 and "expected key=value" in result.output


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_config_file_sets_model_and_trainer_options_and_set_wins(tmp_path: Path, fmt: str) -> None:
    data = {"model": {**TINY, "nz": 4}, "trainer": {"max_steps": 2, "batch_size": 4, "log_every": 1,
                                                      "sample_every": 0, "progress": False, "keep_last": 1}}
    path = tmp_path / f"opts.{fmt}"
    if fmt == "json":
        path.write_text(json.dumps(data))
    else:
        import yaml

        path.write_text(yaml.safe_dump(data))
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["train", "dcgan", "--data", "builtin:digits", "--out", str(out), "--config",
                                      str(path), "--set", "nz=6"])
    assert result.exit_code == 0, result.output
    config = json.loads((out / "config.json").read_text())["config"]
    assert config["nz"] == 6 and config["ngf"] == 8 and config["image_size"] == 16
    _, state = load_checkpoint(latest_checkpoint(out / "checkpoints"))
    assert state["run"]["options"]["batch_size"] == 4 and state["run"]["max_steps"] == 2
    bad = tmp_path / f"bad.{fmt}"
    bad.write_text('{"trainer": {"max_stepz": 2}}' if fmt == "json" else "trainer:\n  max_stepz: 2\n")
    result = CliRunner().invoke(cli, ["train", "dcgan", "--data", "builtin:digits", "--out", str(tmp_path / "r2"),
                                      "--config", str(bad)])
    assert result.exit_code == 1 and "unknown option 'trainer.max_stepz'" in result.output and "max_steps" in result.output


def test_resume_refusals(tmp_path: Path) -> None:
    out = tmp_path / "run"
    base = ["train", "dcgan", "--data", "builtin:digits", "--out", str(out), "--batch-size", "4", *TINY_SETS,
            "--set", "progress=false", "--set", "sample_every=0"]

    nothing = CliRunner().invoke(cli, base + ["--resume"])  # nothing to resume
    assert nothing.exit_code == 1 and "has no checkpoint to resume from" in nothing.output
    assert not out.exists()
    no_length = CliRunner().invoke(cli, base)
    assert no_length.exit_code == 1 and "--max-steps" in no_length.output

    first = CliRunner().invoke(cli, base + ["--max-steps", "4", "--set", "lr_schedule=linear_decay"])
    assert first.exit_code == 0, first.output
    before = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}

    again = CliRunner().invoke(cli, base + ["--max-steps", "4"])  # an existing run without --resume
    assert again.exit_code == 1 and "pass --resume" in again.output and "nothing was changed" in again.output
    horizon = CliRunner().invoke(cli, base + ["--resume", "--max-steps", "8"])
    assert horizon.exit_code == 1 and "horizon" in horizon.output and "--max-steps 4" in horizon.output
    changed = CliRunner().invoke(cli, base + ["--resume", "--set", "ngf=16"])
    assert changed.exit_code == 1 and "model config differs" in changed.output and "ngf" in changed.output
    after = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    assert after == before  # every refusal left the folder untouched

    other = CliRunner().invoke(cli, ["train", "gan", "--data", "builtin:digits", "--out", str(out), "--resume"])
    assert other.exit_code == 1 and "is a dcgan run, not gan" in other.output


# -- schedules, EMA, precision --------------------------------------------------------------------------------


def test_linear_decay_is_the_cyclegan_rule_in_steps() -> None:
    from ganzoo.training.trainer import lr_lambda

    n_epochs, n_epochs_decay, epoch_count = 100, 100, 1
    fn = lr_lambda("linear_decay", n_epochs + n_epochs_decay)  # decay_start: half the run
    for e in range(n_epochs + n_epochs_decay):
        rule = 1.0 - max(0, e + epoch_count - n_epochs) / float(n_epochs_decay + 1)
        assert fn(e) == pytest.approx(rule, abs=1e-12), e
    assert fn(99) == 1.0 and fn(100) == pytest.approx(100 / 101) and fn(199) == pytest.approx(1 / 101)
    custom = lr_lambda("linear_decay", 10, decay_start=0.8)
    assert [round(custom(i), 6) for i in range(10)] == [1.0] * 8 + [round(1 - 1 / 3, 6), round(1 - 2 / 3, 6)]
    assert lr_lambda("linear_decay", 10, decay_start=3)(2) == 1.0 and lr_lambda("linear_decay", 10, decay_start=3)(3) < 1
    warm = lr_lambda("constant", 10, warmup_steps=4)
    assert [warm(i) for i in range(5)] == [0.25, 0.5, 0.75, 1.0, 1.0]
    cos = lr_lambda("cosine", 10)
    assert cos(0) == 1.0 and cos(5) == pytest.approx(0.5) and 0 < cos(9) < 0.03


def test_the_trainer_applies_the_schedule_step_by_step(toy: Path, tmp_path: Path) -> None:
    from ganzoo.training.trainer import lr_lambda

    train("trgan", tmp_path / "run", **TOY, max_steps=8, batch_size=8, lr_schedule="linear_decay", decay_start=4,
          **QUIET)
    rows = [json.loads(line) for line in (tmp_path / "run" / "logs" / "metrics.jsonl").read_text().splitlines()]
    fn = lr_lambda("linear_decay", 8, decay_start=4)
    assert [r["lr_G"] for r in rows] == pytest.approx([1e-3 * fn(i) for i in range(8)])
    assert [r["lr_D"] for r in rows] == [r["lr_G"] for r in rows]
    assert rows[3]["lr_G"] == pytest.approx(1e-3) and rows[-1]["lr_G"] == pytest.approx(1e-3 / 5)


def test_ema_is_saved_as_its_own_component_and_loaded_by_default(toy: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    decay = 0.6
    train("trgan", out, **TOY, max_steps=3, batch_size=8, ema_decay=decay, checkpoint_every=1, keep_last=5, **QUIET)
    assert (out / "G_ema.safetensors").is_file()
    ckpts = [weights(p) for p in list_checkpoints(out / "checkpoints")]
    assert len(ckpts) == 3
    expected = {k: v.clone() for k, v in ckpts[0]["G"].items()}  # the first update copies
    for c in ckpts[1:]:
        expected = {k: decay * expected[k] + (1 - decay) * c["G"][k] for k in expected}
    for k, v in ckpts[-1]["G_ema"].items():
        torch.testing.assert_close(v, expected[k], rtol=1e-5, atol=1e-6)
    assert not torch.equal(ckpts[-1]["G_ema"]["net.0.weight"], ckpts[-1]["G"]["net.0.weight"])
    default = ganzoo.load(str(out))
    raw = ganzoo.load(str(out), ema=False)
    assert torch.equal(default.G.state_dict()["net.0.weight"], ckpts[-1]["G_ema"]["net.0.weight"])
    assert torch.equal(raw.G.state_dict()["net.0.weight"], ckpts[-1]["G"]["net.0.weight"])


def test_bf16_mixed_precision_runs_on_cpu(tmp_path: Path, caplog) -> None:
    t = train("dcgan", tmp_path / "bf16", **TINY, max_steps=2, batch_size=4, mixed_precision="bf16", **QUIET)
    assert t.precision == "bf16" and all(v == v for v in t.last_losses.values())
    model = ganzoo.load(str(tmp_path / "bf16"))
    assert model.card.data.ganzoo["trained_with"]["mixed_precision"] == "bf16"
    assert all(p.dtype == torch.float32 for p in model.G.parameters())
    # the networks the trainer hands back are plain again (accelerate's autocast forward removed)
    assert "_original_forward" not in t.model.G.__dict__ and "forward" not in t.model.G.__dict__
    assert t.model.sample(2, seed=0).dtype == torch.float32
    # fp16 has no CPU autocast: a warning, float32 training, and the card says so
    with caplog.at_level("WARNING", logger="ganzoo"):
        t16 = train("dcgan", tmp_path / "fp16", **TINY, max_steps=1, batch_size=4, mixed_precision="fp16", **QUIET)
    assert t16.precision == "no" and "not available on cpu" in caplog.text


# -- what people watch ---------------------------------------------------------------------------------------


def test_run_folder_has_metrics_previews_and_a_card_that_records_the_run(tmp_path: Path) -> None:
    out = tmp_path / "dcgan-digits-test"
    command = "ganzoo train dcgan --data builtin:digits --out x --max-steps 4"
    trainer = run_training("dcgan", "builtin:digits", out, overrides={**TINY, "progress": False, "sample_every": 2,
                                                                       "sample_n": 9, "log_every": 2},
                           flags={"max_steps": 4, "batch_size": 4}, command=command)
    assert trainer.step == 4
    csv_lines = (out / "logs" / "metrics.csv").read_text().splitlines()
    assert csv_lines[0].split(",")[:4] == ["step", "d_real", "d_fake", "D(x)"] and len(csv_lines) == 3
    rows = [json.loads(line) for line in (out / "logs" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [2, 4] and {"g_adv", "lr_G", "lr_D", "epoch"} <= set(rows[0])
    from PIL import Image

    for name in ("step-00000002.png", "final.png"):
        with Image.open(out / "samples" / name) as im:
            assert im.size == (3 * 16 + 4 * 2, 3 * 16 + 4 * 2)  # a 3×3 grid of 16×16 samples, 2 px padding
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        pass
    else:
        assert list((out / "logs" / "tb").glob("events.out.tfevents.*"))
    model = ganzoo.load(str(out))
    trained = model.card.data.ganzoo["trained_with"]
    assert trained["command"] == command and trained["data"] == "builtin:digits" and trained["steps"] == 4
    assert trained["global_batch_size"] == 4 and trained["processes"] == 1 and trained["mixed_precision"] == "no"
    assert "cpu" in trained["hardware"] and trained["wall_time_s"] >= 0
    # builtin:digits trains on its train split: 4 of every 5 of the 1,797 digits
    assert trained["dataset_items"] == 1438 and trained["epochs"] == pytest.approx(4 * 4 / 1438, abs=1e-3)
    assert model.card.data.ganzoo["tag"] == "digits-test"


def test_api_train_routes_model_and_trainer_options(tmp_path: Path) -> None:
    model = ganzoo.train("dcgan", "builtin:digits", out=tmp_path / "run", max_steps=2, batch_size=4, seed=3,
                         lr=1e-3, **TINY, **QUIET)
    assert model.config.lr == 1e-3 and model.config.nz == 8 and not model.training
    with pytest.raises(ConfigError, match="unknown option 'max_step'"):
        ganzoo.train("dcgan", "builtin:digits", out=tmp_path / "r2", max_step=2)
    built = ganzoo.build("dcgan", seed=0, **TINY)
    with pytest.raises(ConfigError, match="ganzoo.build"):
        ganzoo.train(built, "builtin:digits", out=tmp_path / "r3", max_steps=1, nz=4)
    with pytest.raises(UsageError, match="already holds a run"):
        ganzoo.train(built, "builtin:digits", out=tmp_path / "run", max_steps=1)


def test_epochs_set_the_length_and_the_api_resumes_a_run(toy: Path, tmp_path: Path) -> None:
    # 1797 digits in whole batches of 64: 28 steps per epoch, so 0.1 epoch = ceil(2.8) = 3 steps
    t = train("trgan", tmp_path / "run", **TOY, epochs=0.1, batch_size=64, **QUIET)
    assert (t.max_steps, t.step) == (3, 3)
    # the API resumes with the run's own config (8×8 grey here) and options; a new length is allowed
    model = ganzoo.train("trgan", "builtin:digits", out=tmp_path / "run", resume=True, max_steps=5)
    assert model.config.image_size == 8 and not model.training
    assert load_checkpoint(latest_checkpoint(tmp_path / "run" / "checkpoints"))[1]["step"] == 5


# -- the capsule on disk --------------------------------------------------------------------------------------


def test_checkpoints_are_atomic_and_pruned(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "checkpoints"
    w = {"G": {"w": torch.ones(2)}}
    for step in (1, 2, 3, 4):
        save_checkpoint(folder, step, w, {"step": step}, keep_last=2)
    assert [p.name for p in list_checkpoints(folder)] == ["step-00000003", "step-00000004"]
    assert (folder / "latest").read_text().strip() == "step-00000004"

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(folder, 5, w, {"step": 5}, keep_last=2)
    monkeypatch.undo()
    assert latest_checkpoint(folder).name == "step-00000004"  # the previous checkpoint survives
    assert sorted(p.name for p in folder.iterdir()) == ["latest", "step-00000003", "step-00000004"]  # no debris
    weights_, state = load_checkpoint(latest_checkpoint(folder))
    assert state["step"] == 4 and torch.equal(weights_["G"]["w"], torch.ones(2))
    # a pointer to a missing folder (a crash between rename and pointer) falls back to the newest complete one
    (folder / "latest").write_text("step-00000009\n")
    assert latest_checkpoint(folder).name == "step-00000004"
    with pytest.raises(TrainingError, match="not a complete checkpoint"):
        load_checkpoint(folder / "nope")


def test_metric_logger_drops_rows_past_the_resumed_checkpoint(tmp_path: Path) -> None:
    from ganzoo.training.loggers import MetricLogger

    log = MetricLogger(tmp_path, tensorboard=False)
    for step in range(1, 11):
        log.log(step, {"loss": float(step)})
    log.close()
    log = MetricLogger(tmp_path, tensorboard=False, resume_step=6)
    log.log(7, {"loss": 70.0, "new": 1.0})  # a new column widens the CSV
    log.close()
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4, 5, 6, 7] and rows[-1]["loss"] == 70.0
    csv_lines = (tmp_path / "metrics.csv").read_text().splitlines()
    assert csv_lines[0] == "step,loss,new" and csv_lines[-1] == "7,70.0,1.0" and len(csv_lines) == 8


def test_gpu_throughput_benchmark_runs_on_cpu(tmp_path: Path) -> None:
    """benchmarks/gpu_throughput.py (the GPU check, prepared for a lent device) runs end to end at toy sizes."""
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, str(Path(__file__).parents[1] / "benchmarks" / "gpu_throughput.py"),
                           "--quick", "--device", "cpu", "--steps", "3", "--warmup", "1", "--workers", "0",
                           "--variants", "fp32,bf16+cl", "--out", str(out)],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads((out / "gpu_throughput_quick.json").read_text())
    recs = result["records"]
    assert [(r["case"].split()[0], r["variant"]) for r in recs] == [
        ("dcgan-16", "fp32"), ("dcgan-16", "bf16+cl"), ("cyclegan-32", "fp32"), ("cyclegan-32", "bf16+cl")]
    assert all(r["it_per_s"] > 0 and r["steps_timed"] == 3 and r["gflop_per_step"] > 0 for r in recs)
    # CycleGAN's step (four networks, six generator passes) costs far more than the tiny DCGAN's
    assert recs[2]["gflop_per_step"] > 10 * recs[0]["gflop_per_step"]
    bad = subprocess.run([sys.executable, str(Path(__file__).parents[1] / "benchmarks" / "gpu_throughput.py"),
                          "--variants", "fp8"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "unknown variant(s) fp8" in bad.stderr
