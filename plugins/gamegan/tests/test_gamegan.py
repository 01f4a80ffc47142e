"""gamegan: the paddle-and-ball simulator, the action-conditional network, k-step training, playing actions,
position evaluation, and one-line errors for bad actions and data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from ganzoo_gamegan.data import EpisodeFolderDataset, PaddleBallDataset, dataset_for
from ganzoo_gamegan.evaluate import evaluate_game, object_positions
from ganzoo_gamegan.game import GameState, PaddleBall, episode, read_act_log, write_episodes
from ganzoo_gamegan.model import GameGANConfig, parse_actions
from PIL import Image

import ganzoo
from ganzoo.errors import DataError, UsageError
from ganzoo.testing import check_plugin, raises_one_line, tiny_model

pytestmark = pytest.mark.usefixtures("one_thread")


def test_conforms(tmp_path: Path) -> None:
    assert "trainer" in check_plugin("gamegan", tmp_path=tmp_path).passed


# -- the game ----------------------------------------------------------------------------------------------


def test_the_game_is_deterministic_and_bounces() -> None:
    game = PaddleBall(64)
    a = episode(game, 5, 30)
    b = episode(game, 5, 30)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    frames, actions, positions = a
    assert frames.shape == (30, 64, 64) and actions.shape == (29,) and positions.shape == (30, 2, 2)
    assert set(np.unique(frames)) <= {0, 170, 255}
    s = GameState(paddle_x=0, ball_y=20, ball_x=1, vel_y=-2, vel_x=-3)
    s = game.step(s, 1)
    assert (s.ball_x, s.vel_x, s.paddle_x) == (2, 3, 0)  # off the left wall; the paddle stops at the edge
    s = game.step(GameState(paddle_x=10, ball_y=1, ball_x=30, vel_y=-3, vel_x=1), 2)
    assert (s.ball_y, s.vel_y, s.paddle_x) == (2, 3, 14)  # off the top
    # onto the paddle: reflected up, and the right end of the paddle sends the ball right
    s = game.step(GameState(paddle_x=20, ball_y=game.paddle_y - game.ball - 1, ball_x=29, vel_y=2, vel_x=0), 0)
    assert s.vel_y < 0 and s.vel_x > 0 and s.ball_y <= game.paddle_y - game.ball
    # missed: it comes back from the top, the same way for the same step count
    gone = GameState(paddle_x=0, ball_y=63, ball_x=50, vel_y=3, vel_x=1, t=7)
    assert game.step(gone, 0) == game.step(gone, 0) and game.step(gone, 0).ball_y == 0
    with pytest.raises(ValueError, match="action 3 is out of range 0..2"):
        game.step(s, 3)


def test_episodes_are_logged_in_the_original_layout(tmp_path: Path) -> None:
    write_episodes(tmp_path / "train", episodes=2, length=8, size=32)
    assert sorted(p.name for p in (tmp_path / "train" / "0001").iterdir())[:2] == ["00000.png", "00001.png"]
    assert len(read_act_log(tmp_path / "train" / "0000" / "act.log", 3)) == 7
    cfg = GameGANConfig(image_size=32, context_frames=2, rollout_steps=2)
    ds = dataset_for(cfg, tmp_path, split="train", length=4)
    assert isinstance(ds, EpisodeFolderDataset) and len(ds) == 2 * 5
    item = ds[0]
    assert item["frames"].shape == (4, 1, 32, 32) and item["actions"].shape == (3,)
    (tmp_path / "train" / "0001" / "act.log").write_text("0\n1\n7\n")
    raises_one_line(DataError, dataset_for, cfg, tmp_path, split="train", length=4,
                    match=r"act.log:3: action 7 is out of range 0..2")
    (tmp_path / "train" / "0001" / "act.log").write_text("0\n")
    raises_one_line(DataError, dataset_for, cfg, tmp_path, split="train", length=4,
                    match=r"has 1 actions for 8 frames; it needs 7")
    (tmp_path / "train" / "0001" / "act.log").unlink()
    raises_one_line(DataError, dataset_for, cfg, tmp_path, split="train", length=4, match="has no act.log")
    raises_one_line(DataError, dataset_for, cfg, "builtin:pong", split="train", length=4,
                    match="builtin:paddle-ball")


def test_locator_finds_the_objects_where_the_simulator_put_them() -> None:
    ds = PaddleBallDataset(image_size=64, channels=1, length=24, num_episodes=20, seed=1_000_000)
    for i in range(20):
        item = ds[i]
        found = object_positions(item["frames"][None], ds.game)[0]
        truth = item["positions"].numpy()
        visible = ~np.isnan(truth[:, 1, 0])
        assert np.abs(found[:, 0] - truth[:, 0]).max() < 1.0
        assert np.abs(found[visible, 1] - truth[visible, 1]).max() < 1.0
    blank = -torch.ones(1, 2, 1, 64, 64)
    assert np.isnan(object_positions(blank, ds.game)).all()


# -- the network ---------------------------------------------------------------------------------------------


def test_action_conditional_transformation_at_full_size() -> None:
    model = ganzoo.build("gamegan")
    g = model.G
    convs = [m for m in g.encoder if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 128, 128, 128] and convs[0].in_channels == 4
    assert (g.enc_fc.out_features, g.enc_factor.out_features, g.act_embed.in_features) == (2048, 2048, 3)
    assert g.act_embed.weight.abs().max() <= 0.1 and g.enc_factor.weight.abs().max() <= 1.0
    # the action acts multiplicatively: with W_a = 0 every action decodes the same (bias-only) factor
    model = tiny_model("gamegan").eval()
    ctx = torch.rand(1, 2 * 1, 16, 16) * 2 - 1
    left, right = torch.tensor([[0.0, 1.0, 0.0]]), torch.tensor([[0.0, 0.0, 1.0]])
    assert not torch.allclose(model.G(ctx, left), model.G(ctx, right))
    torch.nn.init.zeros_(model.G.act_embed.weight)
    assert torch.allclose(model.G(ctx, left), model.G(ctx, right))


def test_k_step_training_feeds_predictions_back() -> None:
    model = tiny_model("gamegan", rollout_steps=3)
    batch = model.impl.example_batch(model, 2)
    assert batch["frames"].shape == (2, 5, 1, 16, 16) and batch["actions"].shape == (2, 4)
    _, contexts, preds, targets = model.impl._unroll(model, batch)
    assert len(preds) == 3 and torch.equal(targets[0], batch["frames"][:, 2])
    assert torch.equal(contexts[1][:, 1:], preds[0])  # the second step sees the first prediction
    losses = model.impl.generator_loss(model, batch)
    assert set(losses) == {"g_rec", "g_adv"}
    regression = tiny_model("gamegan", lambda_adv=0.0)
    assert set(regression.impl.generator_loss(regression, batch)) == {"g_rec"}
    assert set(regression.impl.discriminator_loss(regression, batch)) == {"d_off"}


# -- playing ----------------------------------------------------------------------------------------------


def test_actions_are_parsed_or_refused_in_one_line() -> None:
    names = ("noop", "left", "right")
    assert parse_actions("LLRN", names, 2).tolist() == [[1, 1, 2, 0]] * 2
    assert parse_actions("left, right,noop", names, 1).tolist() == [[1, 2, 0]]
    assert parse_actions([2, 0], names, 1).tolist() == [[2, 0]]
    assert parse_actions(torch.tensor([[1], [2]]), names, 2).tolist() == [[1], [2]]
    raises_one_line(UsageError, parse_actions, "LLX", names, 1, match=r"unknown action 'X' at position 3; the actions "
                    r"are 0 noop \(N\), 1 left \(L\), 2 right \(R\)")
    raises_one_line(UsageError, parse_actions, [0, 5], names, 1, match=r"action 5 is out of range: the model has 3")
    raises_one_line(UsageError, parse_actions, [-1], names, 1, match="action -1 is out of range")
    raises_one_line(UsageError, parse_actions, "", names, 1, match="at least one action")
    raises_one_line(UsageError, parse_actions, [0.5], names, 1, match="must be integers")


def test_play_rolls_out_one_frame_per_action(tmp_path: Path) -> None:
    model = tiny_model("gamegan").eval()
    start = model.impl.example_batch(model, 2, seed=3)
    ctx = start["frames"][:, :2]
    out = model.sample(condition=ctx, actions="LRRN")
    assert out.shape == (2, 4, 1, 16, 16)
    assert torch.allclose(model.sample(condition=ctx, actions="LRRN", horizon=2), out[:, :2])
    raises_one_line(UsageError, model.sample, condition=ctx, match="gamegan plays actions")
    raises_one_line(UsageError, model.sample, condition=ctx[:, :1], actions="L",
                    match=r"needs 2 context frames, got 1 \(the clip is shorter than the context\)")
    raises_one_line(UsageError, model.sample, condition=ctx, actions="L", horizon=3, match="horizon must be")
    raises_one_line(UsageError, model.sample, condition=ctx, actions=[9], match="out of range")
    path = model.task.play(model, "LLRRN", tmp_path / "play.gif", seed=1)
    with Image.open(path) as im:
        assert im.n_frames >= 2 and im.size[0] == 2 * 18 + 2  # input | predicted panels of 16 px
    assert model.task.play(model, "LR", tmp_path / "play.png", seed=1).is_file()
    raises_one_line(UsageError, model.task.play, model, "LQ", tmp_path / "bad.gif", match="unknown action 'Q'")


def test_sample_play_on_the_command_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from ganzoo.cli import cli

    folder = tiny_model("gamegan").save_pretrained(tmp_path / "gg")
    res = CliRunner().invoke(cli, ["sample", str(folder), "--play", "LLRRN", "-o", str(tmp_path / "p.gif"),
                                   "--seed", "2"])
    assert res.exit_code == 0, res.output
    with Image.open(tmp_path / "p.gif") as im:
        assert im.n_frames >= 2 and im.size[0] == 2 * 18 + 2  # input | predicted
    res = CliRunner().invoke(cli, ["sample", str(folder), "--play", "L5", "-o", str(tmp_path / "q.gif")])
    assert res.exit_code != 0 and "Traceback" not in res.output
    assert "action 5 is out of range: the model has 3 actions" in res.output
    toy = ganzoo.build("toygan").save_pretrained(tmp_path / "toy")
    res = CliRunner().invoke(cli, ["sample", str(toy), "--play", "LR", "-o", str(tmp_path / "t.gif")])
    assert res.exit_code != 0 and "--play rolls out action-conditioned video models" in res.output


def test_position_evaluation_beside_copy_last_frame() -> None:
    model = tiny_model("gamegan", image_size=32).eval()
    video, positions = evaluate_game(model, n=4, horizon=3, batch_size=2, extractor=None,
                                     baselines={"same": model})
    assert positions.systems == ["model", "copy_last_frame", "same"]
    assert len(positions.curves["model"]["paddle_err"]) == 3
    assert positions.curves["model"] == positions.curves["same"]
    assert video.systems == ["model", "copy_last_frame", "same"] and video.protocol["horizon"] == 3
    # copying the last frame keeps the objects where they were: the ball is off by its motion, the paddle by the
    # player's moves
    assert 0 < positions.mean("ball_err", "copy_last_frame") < 12
    assert "| copy_last_frame |" in positions.table(horizons=(1, 3))
