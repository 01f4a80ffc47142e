"""DCGAN's optional stabilisers: DiffAugment (what each transformation does, gradients, step-noise draws, exact
resume), one-sided label smoothing, D's own learning rate (TTUR), their config checks, and folders saved before
the fields existed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from ganzoo_dcgan.augment import FILL, diff_augment, parse_policy
from trainer_toys import stop_at, train

import ganzoo
from ganzoo.cli import cli
from ganzoo.training import rng
from ganzoo.training.checkpoint import latest_checkpoint, load_checkpoint

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = {"image_size": 16, "channels": 1, "nz": 8, "ngf": 8, "ndf": 8}


def _dot(n: int = 64, size: int = 32) -> torch.Tensor:
    """Black images with one white pixel at the centre."""
    x = torch.full((n, 1, size, size), FILL)
    x[:, :, size // 2, size // 2] = 1.0
    return x


def test_translation_shifts_by_at_most_an_eighth_with_background_fill() -> None:
    torch.manual_seed(0)
    out = diff_augment(_dot(), "translation")
    assert out.shape == (64, 1, 32, 32)
    # each image is the same dot, moved by an integer offset within ±4 px (1/8 of 32), the rest background
    assert torch.equal((out == 1.0).sum((1, 2, 3)), torch.ones(64, dtype=torch.long))
    assert torch.equal((out == FILL).sum((1, 2, 3)), torch.full((64,), 32 * 32 - 1))
    pos = (out[:, 0] == 1.0).flatten(1).float().argmax(1)
    dy, dx = pos // 32 - 16, pos % 32 - 16
    assert int(dy.abs().max()) == 4 and int(dx.abs().max()) == 4  # the whole range is drawn …
    assert len(set(zip(dy.tolist(), dx.tolist()))) > 20  # … independently per image and axis
    # content shifted out of the frame is replaced by the background
    edge = torch.ones(64, 1, 32, 32)
    assert bool((diff_augment(edge, "translation") == FILL).any())


def test_cutout_blanks_one_half_side_square() -> None:
    torch.manual_seed(0)
    out = diff_augment(torch.ones(64, 1, 32, 32), "cutout")
    blank = (out == FILL).sum((1, 2, 3))
    assert int(blank.max()) == 16 * 16 and int(blank.min()) > 0  # a 16×16 square, clipped at the borders
    assert torch.equal((out == FILL) | (out == 1.0), torch.ones_like(out, dtype=torch.bool))
    rows = (out[:, 0] == FILL).any(2).sum(1)
    assert int(rows.max()) == 16


def test_color_changes_brightness_and_contrast_and_every_op_passes_gradients() -> None:
    torch.manual_seed(0)
    x = torch.rand(8, 3, 16, 16) * 2 - 1
    out = diff_augment(x, "color")
    assert not torch.allclose(out.mean((1, 2, 3)), x.mean((1, 2, 3)))
    for policy in ("color", "translation", "cutout", "color,translation,cutout"):
        xg = x.clone().requires_grad_(True)
        diff_augment(xg, policy).square().sum().backward()
        assert xg.grad is not None and float(xg.grad.abs().sum()) > 0, policy
    assert diff_augment(x, "") is x
    assert parse_policy(" cutout , translation") == ("translation", "cutout")  # applied in the paper's order
    with pytest.raises(ValueError, match="unknown DiffAugment transformation.*flip.*color, translation, cutout"):
        parse_policy("translation,flip")


def test_draws_come_from_the_step_noise() -> None:
    """In training the augmentation is the step's: the same (seed, step, phase) draws the same, another step not."""
    x = _dot(16)
    with rng.step_noise(3, 7, "D"):
        a = diff_augment(x, "translation,cutout")
    torch.manual_seed(123)  # the global RNG plays no part
    with rng.step_noise(3, 7, "D"):
        b = diff_augment(x, "translation,cutout")
    with rng.step_noise(3, 8, "D"):
        c = diff_augment(x, "translation,cutout")
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_losses_with_stabilisers() -> None:
    model = ganzoo.build("dcgan", **TINY, label_smoothing=0.1, lr_d=8e-4, diffaugment="translation", seed=0)
    cfg = model.config
    logits = torch.tensor([-2.0, 0.0, 3.0])
    torch.testing.assert_close(model.impl.real_loss(cfg, logits),
                               F.binary_cross_entropy_with_logits(logits, torch.full((3,), 0.9)))
    plain = ganzoo.build("dcgan", **TINY, seed=0).config
    torch.testing.assert_close(model.impl.real_loss(plain, logits), F.binary_cross_entropy_with_logits(
        logits, torch.ones(3)))
    opts = model.impl.configure_optimizers(model)
    assert opts["D"].param_groups[0]["lr"] == 8e-4 and opts["G"].param_groups[0]["lr"] == 2e-4
    # D sees augmented images in both losses; discriminate() (rejection sampling) sees them as they are
    seen = []
    model.D.register_forward_pre_hook(lambda mod, args: seen.append(args[0].detach().clone()))
    real = _dot(4, 16)
    model.impl.discriminator_loss(model, {"image": real})
    assert not torch.equal(seen[0], real)  # 1-in-9 chance per image of no shift: 4 images all unshifted ≈ 1e-4
    seen.clear()
    model.eval()
    model.impl.discriminate(model, real)
    assert torch.equal(seen[0], real)


@pytest.mark.parametrize("sets, expected", [
    (["diffaugment=translation,flip"], "unknown DiffAugment transformation(s) flip"),
    (["label_smoothing=0.6"], "label_smoothing must be in [0, 0.5)"),
    (["label_smoothing=0.1", "gan_mode=hinge"], "label_smoothing applies to the vanilla loss"),
    (["lr_d=0"], "lr_d must be > 0"),
])
def test_bad_stabiliser_settings_are_one_line_errors(tmp_path: Path, sets: list[str], expected: str) -> None:
    args = ["train", "dcgan", "--data", "builtin:digits", "--out", str(tmp_path / "run"), "--max-steps", "1"]
    result = CliRunner().invoke(cli, args + [x for s in sets for x in ("--set", s)])
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code != 0 and len(lines) == 1 and lines[0].startswith("Error: ") and expected in lines[0]


def test_resume_with_diffaugment_is_bit_identical(tmp_path: Path) -> None:
    """DiffAugment draws from the step noise, so 4 steps straight == 2 steps, stop, resume to 4 (cdcgan too)."""
    for plugin in ("dcgan", "cdcgan"):
        opts = dict(TINY, max_steps=4, batch_size=4, diffaugment="color,translation,cutout", label_smoothing=0.1,
                    lr_d=4e-4, ema_decay=0.5, sample_every=0, checkpoint_every=100, progress=False)
        if plugin == "cdcgan":
            opts["num_classes"] = 10
        train(plugin, tmp_path / plugin / "straight", **opts)
        train(plugin, tmp_path / plugin / "resumed", callbacks=stop_at(2), **opts)
        train(plugin, tmp_path / plugin / "resumed", resume=True)
        wa, _ = load_checkpoint(latest_checkpoint(tmp_path / plugin / "straight" / "checkpoints"))
        wb, _ = load_checkpoint(latest_checkpoint(tmp_path / plugin / "resumed" / "checkpoints"))
        for comp in wa:
            for k in wa[comp]:
                assert torch.equal(wa[comp][k], wb[comp][k]), f"{plugin}: {comp}.{k} differs after resume"
        config = json.loads((tmp_path / plugin / "straight" / "config.json").read_text())["config"]
        assert config["diffaugment"] == "color,translation,cutout" and config["lr_d"] == 4e-4


def test_folders_saved_before_the_stabilisers_load_with_the_paper_recipe(tmp_path: Path) -> None:
    folder = ganzoo.build("dcgan", **TINY, seed=0).eval().save_pretrained(tmp_path / "old")
    data = json.loads((folder / "config.json").read_text())
    for key in ("lr_d", "diffaugment", "label_smoothing"):
        del data["config"][key]
    (folder / "config.json").write_text(json.dumps(data))
    cfg = ganzoo.load(str(folder)).config
    assert (cfg.lr_d, cfg.diffaugment, cfg.label_smoothing) == (None, "", 0.0)
