"""The shared trainer's loop: exact resume, multi-process equivalence, signals, NaN, schedules, EMA, precision.

On the trainer tests' own plugins (tests/trainer_toys.py: an MLP GAN with optional batch norm, an MLP
auto-encoder), so the core suite needs no built-in plugin. Where exact equalities across batch splits are
checked, batch norm would make them false by design (per-process batch statistics), so those runs leave it off.
Everything runs on the CPU in seconds. Options, the run folder and its faults: tests/test_train_run.py.
"""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file
from trainer_toys import QUIET, TOY, env_with, install_toys, max_rel_diff, plain_of, stop_at, tensors_of, train, weights

import ganzoo
from ganzoo.cli import cli
from ganzoo.training.checkpoint import latest_checkpoint, list_checkpoints, load_checkpoint

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def toy(fake_site) -> Path:
    return install_toys(fake_site)


# -- exact resume --------------------------------------------------------------------------------------------


def test_resume_is_bit_identical_to_an_uninterrupted_run(toy: Path, tmp_path: Path) -> None:
    """6 steps straight == 3 steps, stop, resume to 6: every weight, EMA, optimiser and scheduler tensor equal.

    The run exercises everything the capsule carries: batch-norm buffers, two D updates per step, a decaying
    LR schedule, an EMA, data-loader workers, dropout drawing from the global RNG, and previews between steps.
    """
    opts = dict(TOY, batchnorm=True, dropout=0.2, max_steps=6, batch_size=4, d_steps=2, lr_schedule="linear_decay",
                ema_decay=0.8, num_workers=2, sample_every=2, sample_n=4, checkpoint_every=100, progress=False,
                log_every=1)
    straight = train("trgan", tmp_path / "straight", **opts)
    assert straight.step == 6 and straight.stopped_by is None

    first = train("trgan", tmp_path / "resumed", callbacks=stop_at(3), **opts)
    assert first.stopped_by == "request" and first.step == 3
    assert [p.name for p in list_checkpoints(tmp_path / "resumed" / "checkpoints")] == ["step-00000003"]
    second = train("trgan", tmp_path / "resumed", resume=True)  # options come from the run itself
    assert second.step == 6

    a_dir = latest_checkpoint(tmp_path / "straight" / "checkpoints")
    b_dir = latest_checkpoint(tmp_path / "resumed" / "checkpoints")
    assert a_dir.name == b_dir.name == "step-00000006"
    wa, sa = load_checkpoint(a_dir)
    wb, sb = load_checkpoint(b_dir)
    assert set(wa) == set(wb) == {"G", "D", "G_ema"}
    assert {"bn.running_mean", "bn.num_batches_tracked"} <= set(wa["D"])
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
    rows = (tmp_path / "resumed" / "logs" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in rows] == [1, 2, 3, 4, 5, 6]


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
    env = env_with(toy)
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
    env = env_with(toy, FAKE_TOY_SLEEP="0.05")
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
    at3 = lr_lambda("linear_decay", 10, decay_start=3)
    assert at3(2) == 1.0 and at3(3) < 1
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


def test_bf16_mixed_precision_runs_on_cpu(toy: Path, tmp_path: Path, caplog) -> None:
    t = train("trgan", tmp_path / "bf16", **TOY, max_steps=2, batch_size=4, mixed_precision="bf16", **QUIET)
    assert t.precision == "bf16" and all(v == v for v in t.last_losses.values())
    model = ganzoo.load(str(tmp_path / "bf16"))
    assert model.card.data.ganzoo["trained_with"]["mixed_precision"] == "bf16"
    assert all(p.dtype == torch.float32 for p in model.G.parameters())
    # the networks the trainer hands back are plain again (accelerate's autocast forward removed)
    assert "_original_forward" not in t.model.G.__dict__ and "forward" not in t.model.G.__dict__
    assert t.model.sample(2, seed=0).dtype == torch.float32
    # fp16 has no CPU autocast: a warning, float32 training, and the card says so
    with caplog.at_level("WARNING", logger="ganzoo"):
        t16 = train("trgan", tmp_path / "fp16", **TOY, max_steps=1, batch_size=4, mixed_precision="fp16", **QUIET)
    assert t16.precision == "no" and "not available on cpu" in caplog.text
