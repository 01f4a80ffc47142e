"""framegan: the multi-scale generator and discriminator, the paper's losses and ablations, rollouts, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from ganzoo_framegan.model import D_TABLE, G_TABLE, OBJECTIVES, FrameGANConfig, gradient_difference_loss

import ganzoo
from ganzoo.errors import UsageError
from ganzoo.testing import check_plugin, raises_one_line

pytestmark = pytest.mark.usefixtures("one_thread")
TINY = dict(image_size=16, channels=1, context_frames=2, future_frames=1, g_width=0.03125, d_width=0.03125)


def test_conforms(tmp_path: Path) -> None:
    assert "round trip" in check_plugin("framegan", tmp_path=tmp_path).passed


def test_paper_architecture_at_full_width() -> None:
    model = ganzoo.build("framegan", image_size=32, channels=3)  # the paper's 32×32 RGB training patches
    for g, (maps, kernels) in zip(model.G.scales, G_TABLE):
        convs = [m for m in g.net if isinstance(m, torch.nn.Conv2d)]
        assert [c.out_channels for c in convs[:-1]] == list(maps) and [c.kernel_size[0] for c in convs] == list(kernels)
        assert all(c.padding[0] == c.kernel_size[0] // 2 for c in convs)  # 'same' convolutions
        assert convs[-1].out_channels == 3
    assert model.G.scales[0].net[0].in_channels == 4 * 3 and model.G.scales[1].net[0].in_channels == 5 * 3
    for d, (maps, kernels, fc) in zip(model.D.scales, D_TABLE):
        convs = [m for m in d.net if isinstance(m, torch.nn.Conv2d)]
        linears = [m for m in d.net if isinstance(m, torch.nn.Linear)]
        assert [c.out_channels for c in convs] == list(maps) and [c.kernel_size[0] for c in convs] == list(kernels)
        assert [lin.out_features for lin in linears] == [*fc, 1] and convs[0].in_channels == 5 * 3
    assert FrameGANConfig().objective == "adv_gdl"
    assert tuple(FrameGANConfig().loss) == (1, 1.0, 1.0, 0.05)


def test_each_scale_refines_the_upsampled_coarser_prediction() -> None:
    model = ganzoo.build("framegan", seed=0, **TINY).eval()
    ctx = torch.rand(2, 2, 1, 16, 16) * 2 - 1
    preds = model.G(ctx.flatten(1, 2))
    assert [p.shape[-1] for p in preds] == [2, 4, 8, 16]
    for output, squash in (("sum", lambda t: t), ("tanh", torch.tanh)):  # the paper's equation; the code's tanh
        model = ganzoo.build("framegan", seed=0, output=output, **TINY).eval()
        last = model.G.scales[2].net[-1]  # silence G'_3: its scale must be the upsampled coarser prediction
        torch.nn.init.zeros_(last.weight)
        torch.nn.init.zeros_(last.bias)
        preds = model.G(ctx.flatten(1, 2))
        up = torch.nn.functional.interpolate(preds[1], scale_factor=2, mode="nearest")
        assert torch.allclose(preds[2], squash(up))


def test_gradient_difference_loss() -> None:
    y = torch.rand(2, 1, 6, 6)
    assert gradient_difference_loss(y, y) == 0
    assert gradient_difference_loss(y + 0.3, y) < 1e-6  # gradients ignore a constant offset
    flat, edge = torch.zeros(1, 1, 2, 3), torch.tensor([[[[0.0, 1.0, 1.0], [0.0, 1.0, 1.0]]]])
    # x-gradients of the edge: |1|, |0| per row (mean over 4 entries: 0.5); y-gradients: all 0
    assert torch.isclose(gradient_difference_loss(flat, edge), torch.tensor(0.5))
    assert torch.isclose(gradient_difference_loss(flat, edge, alpha=2.0), torch.tensor(0.5))


def test_objectives_set_the_loss_terms_and_explicit_values_win() -> None:
    for name, weights in OBJECTIVES.items():
        assert tuple(FrameGANConfig(objective=name).loss) == weights
    assert FrameGANConfig(objective="l2", lambda_gdl=0.5).loss == (2, 1.0, 0.5, 0.0)
    # the preset applies however the config is reached: --set, build(**overrides), config.json
    assert ganzoo.build("framegan", objective="l2", **TINY).config.loss == (2, 1.0, 0.0, 0.0)
    model = ganzoo.build("framegan", seed=0, objective="l2", **TINY)
    batch = {"frames": torch.rand(2, 3, 1, 16, 16) * 2 - 1}
    assert set(model.impl.generator_loss(model, batch)) == {"g_l2", "mse"}
    model = ganzoo.build("framegan", seed=0, **TINY)
    assert set(model.impl.generator_loss(model, dict(batch))) == {"g_l1", "g_gdl", "g_adv", "mse"}
    with pytest.raises(ganzoo.errors.ConfigError, match="every loss weight is 0"):
        ganzoo.build("framegan", objective="l2", lambda_lp=0.0, **TINY)
    with pytest.raises(ganzoo.errors.ConfigError, match="multiple of 8"):
        ganzoo.build("framegan", image_size=20)


def test_without_the_adversarial_term_d_is_left_alone(tmp_path: Path) -> None:
    from ganzoo.data.video import MovingDigits

    model = ganzoo.build("framegan", seed=0, objective="gdl", **{**TINY, "image_size": 32})
    before = {k: v.clone() for k, v in model.D.state_dict().items()}
    g_before = model.G.scales[0].net[0].weight.clone()
    trained = ganzoo.train(model, "builtin:moving-digits-sklearn", out=tmp_path / "run", max_steps=2, batch_size=2,
                           progress=False, sample_every=0, checkpoint_every=0)
    assert all(torch.equal(before[k], v) for k, v in trained.D.state_dict().items())
    assert not torch.equal(g_before, trained.G.scales[0].net[0].weight)
    assert isinstance(trained.task.dataset(trained.config, "builtin:moving-digits-sklearn"), MovingDigits)


def test_crops_are_shared_by_both_halves_of_a_step() -> None:
    model = ganzoo.build("framegan", seed=0, **{**TINY, "image_size": 32, "crop_size": 16})
    batch = {"frames": torch.rand(2, 3, 1, 32, 32) * 2 - 1}
    model.impl.discriminator_loss(model, batch)
    crop = batch["_framegan"]
    assert crop.shape == (2, 3, 1, 16, 16)  # context 2 + future 1, cropped
    model.impl.generator_loss(model, batch)
    assert batch["_framegan"] is crop


def test_rollout_feeds_predictions_back_to_any_horizon() -> None:
    model = ganzoo.build("framegan", seed=0, **TINY).eval()
    ctx = torch.rand(3, 2, 1, 16, 16) * 2 - 1
    out = model.sample(condition=ctx, horizon=5)
    assert out.shape == (3, 5, 1, 16, 16) and out.abs().max() <= 1
    assert model.sample(condition=ctx).shape == (3, 1, 1, 16, 16)  # default: future_frames
    again = model.sample(condition=torch.cat([ctx[:, 1:], out[:, :1]], 1), horizon=1)
    assert torch.allclose(again[:, 0], out[:, 1], atol=1e-6)
    big = model.sample(condition=torch.rand(1, 2, 1, 32, 24) * 2 - 1, horizon=2)  # fully convolutional G
    assert big.shape == (1, 2, 1, 32, 24)


def test_bad_inputs_get_one_line_messages() -> None:
    model = ganzoo.build("framegan", seed=0, **TINY).eval()
    with pytest.raises(UsageError, match="needs 2 context frames, got 1 \\(the clip is shorter than the context\\)"):
        model.sample(condition=torch.zeros(1, 1, 1, 16, 16))
    with pytest.raises(UsageError, match="takes context clips \\(N, T, 1, H, W\\)"):
        model.sample(condition=torch.zeros(1, 2, 3, 16, 16))
    with pytest.raises(UsageError, match="frame sides divisible by 8, got 16×12"):
        model.sample(condition=torch.zeros(1, 2, 1, 16, 12))
    with pytest.raises(UsageError, match="horizon must be a positive integer"):
        model.sample(condition=torch.zeros(1, 2, 1, 16, 16), horizon=0)
    with pytest.raises(UsageError, match="needs an input"):
        model.sample(2)


def test_recursive_training_unrolls_on_predictions_and_init_from_fine_tunes(tmp_path: Path) -> None:
    model = ganzoo.build("framegan", seed=0, **{**TINY, "future_frames": 3})
    clip = torch.rand(2, 5, 1, 16, 16) * 2 - 1
    contexts, preds = model.impl._unroll(model, clip)
    assert len(preds) == 3 and torch.equal(contexts[1][:, 1:], preds[0][-1])  # step 2 sees step 1's prediction
    losses = model.impl.generator_loss(model, {"frames": clip})
    assert {"g_l1", "g_gdl", "g_adv", "mse", "mse_3"} <= set(losses)
    assert set(model.impl.discriminator_loss(model, {"frames": clip})) >= {"d_real", "d_fake"}
    with pytest.raises(UsageError, match="needs clips of 5 frames \\(context 2 \\+ future 3\\)"):
        model.impl.generator_loss(model, {"frames": clip[:, :4]})
    one = ganzoo.build("framegan", seed=1, **TINY).save_pretrained(tmp_path / "one")
    tuned = ganzoo.build("framegan", seed=0, **{**TINY, "future_frames": 3, "init_from": str(one)})
    tuned.impl.configure_optimizers(tuned)
    source = ganzoo.load(str(one), components="all")
    assert torch.equal(tuned.G.scales[0].net[0].weight, source.G.scales[0].net[0].weight)
    other = ganzoo.build("framegan", seed=0, **{**TINY, "g_width": 0.0625, "init_from": str(one)})
    raises_one_line(ganzoo.errors.ConfigError, other.impl.configure_optimizers, other,
                    match=r"init_from=.* was built with g_width=0.03125 \(here 0.0625\): use the same options")


def test_a_run_recorded_before_init_from_existed_resumes(tmp_path: Path) -> None:
    """Checkpoints written before the ``init_from`` field (an ``added_later`` field) resume: the field ran at its
    default. A real change of the model config is still refused."""
    out, small = tmp_path / "run", {**TINY, "image_size": 32}  # the digits sprites need 28 px
    opts = dict(out=out, batch_size=2, progress=False, sample_every=0, checkpoint_every=1)
    ganzoo.train(ganzoo.build("framegan", seed=0, **small), "builtin:moving-digits-sklearn", max_steps=1, **opts)
    (ckpt,) = (out / "checkpoints").glob("step-*")
    state = torch.load(ckpt / "state.pt", weights_only=True)
    del state["run"]["config"]["init_from"]  # as the run folders of the earlier framegan recorded it
    torch.save(state, ckpt / "state.pt")
    resumed = ganzoo.train(ganzoo.build("framegan", seed=0, **small), "builtin:moving-digits-sklearn", max_steps=2,
                           resume=True, **opts)
    assert resumed.config.init_from is None and (out / "checkpoints" / "step-00000002").is_dir()
    with pytest.raises(ganzoo.errors.TrainingError, match="differs from the run's in g_width"):
        ganzoo.train(ganzoo.build("framegan", seed=0, **{**small, "g_width": 0.0625}), "builtin:moving-digits-sklearn",
                     max_steps=3, resume=True, **opts)
