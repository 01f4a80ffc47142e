"""DCGAN through the shared trainer: exact resume of a network with batch norm and convolutions, its config
checks at the CLI, and the GPU throughput benchmark at toy sizes (DCGAN and CycleGAN)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from trainer_toys import plain_of, stop_at, tensors_of, train

import ganzoo
from ganzoo.cli import cli
from ganzoo.training.checkpoint import latest_checkpoint, list_checkpoints, load_checkpoint

pytestmark = pytest.mark.usefixtures("one_thread")

ROOT = Path(__file__).resolve().parents[3]
TINY = {"image_size": 16, "channels": 1, "nz": 8, "ngf": 8, "ndf": 8}


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
    rows = (tmp_path / "resumed" / "logs" / "metrics.jsonl").read_text().splitlines()
    steps = [json.loads(line)["step"] for line in rows]
    assert steps == [1, 2, 3, 4, 5, 6]


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


def test_gpu_throughput_benchmark_runs_on_cpu(tmp_path: Path) -> None:
    """benchmarks/gpu_throughput.py (the GPU check, prepared for a lent device) runs end to end at toy sizes."""
    from ganzoo import registry

    if "cyclegan" not in {r.name for r in registry.list_plugins()}:
        pytest.skip("the benchmark also trains CycleGAN, which is not installed")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_throughput.py"),
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
    bad = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_throughput.py"),
                          "--variants", "fp8"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "unknown variant(s) fp8" in bad.stderr
