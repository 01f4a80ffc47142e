"""The pix2pix plugin: converter parity with the original implementation (eval mode and the original test.py's
train-mode batch norm), the published files' quirks, bad input, test-time modes, any-size translation, the CLI end
to end, training faithfulness, the 5 cards, conformance.

The "original" is built in the test from notes/reference-cyclegan-pix2pix.md §1-2: a U-Net state dict with the
original nested key layout and a reference forward pass written with plain torch functions over those tensors —
independent of ganzoo.nn.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from PIL import Image

import ganzoo
from ganzoo.cli import cli
from ganzoo.convert import convert_checkpoint
from ganzoo.errors import DataError, UsageError, WeightsError, WeightsUnavailableError
from ganzoo.testing import check_plugin

pytestmark = pytest.mark.usefixtures("one_thread")


# -- the original, from the notes ---------------------------------------------------------------------------


def _levels(ngf: int, num_downs: int, c_out: int) -> list[tuple[int, int]]:
    """(outer, inner) channels per level from the outermost in (notes §1: built from the innermost outwards)."""
    return [(c_out, ngf), (ngf, 2 * ngf), (2 * ngf, 4 * ngf), (4 * ngf, 8 * ngf)] + [(8 * ngf, 8 * ngf)] * (num_downs - 4)


def original_unet_state(ngf: int = 4, num_downs: int = 8, c_in: int = 3, c_out: int = 3, *, legacy_bn: bool = False,
                        seed: int = 0) -> dict[str, torch.Tensor]:
    """A unet_<2^n> G with batch norm in the original nested key layout (notes §2)."""
    g = torch.Generator().manual_seed(seed)

    def t(*shape: int, scale: float = 0.1) -> torch.Tensor:
        return torch.randn(*shape, generator=g) * scale

    sd: dict[str, torch.Tensor] = {}

    def bn(key: str, c: int) -> None:
        sd[f"{key}.weight"] = 1 + t(c)
        sd[f"{key}.bias"] = t(c)
        sd[f"{key}.running_mean"] = t(c, scale=0.5)
        sd[f"{key}.running_var"] = t(c, scale=0.5).abs() + 0.5
        if not legacy_bn:
            sd[f"{key}.num_batches_tracked"] = torch.tensor(12345)

    levels = _levels(ngf, num_downs, c_out)
    prefix = "model."
    for depth, (outer, inner) in enumerate(levels, start=1):
        p = prefix + "model."
        if depth == 1:
            sd[p + "0.weight"] = t(inner, c_in, 4, 4)  # no bias under batch norm
            sd[p + "3.weight"] = t(2 * inner, outer, 4, 4)  # ConvTranspose [in, out, k, k]
            sd[p + "3.bias"] = t(outer)
            prefix = p + "1."
        elif depth == num_downs:
            sd[p + "1.weight"] = t(inner, outer, 4, 4)
            sd[p + "3.weight"] = t(inner, outer, 4, 4)
            bn(p + "4", outer)
        else:
            sd[p + "1.weight"] = t(inner, outer, 4, 4)
            bn(p + "2", inner)
            sd[p + "5.weight"] = t(2 * inner, outer, 4, 4)
            bn(p + "6", outer)
            prefix = p + "3."
    return sd


def reference_forward(sd: dict[str, torch.Tensor], x: torch.Tensor, num_downs: int, *,
                      batch_stats: bool) -> torch.Tensor:
    """The original UnetGenerator's forward (notes §1) without dropout: ``batch_stats`` False = eval mode (running
    statistics), True = the original test.py's train-mode batch norm (use it one image at a time)."""

    def bn(h: torch.Tensor, key: str) -> torch.Tensor:
        if batch_stats:
            return F.batch_norm(h, None, None, sd[f"{key}.weight"], sd[f"{key}.bias"], training=True, eps=1e-5)
        return F.batch_norm(h, sd[f"{key}.running_mean"], sd[f"{key}.running_var"], sd[f"{key}.weight"],
                            sd[f"{key}.bias"], training=False, eps=1e-5)

    def down(h: torch.Tensor, key: str) -> torch.Tensor:
        return F.conv2d(h, sd[f"{key}.weight"], sd.get(f"{key}.bias"), stride=2, padding=1)

    def up(h: torch.Tensor, key: str) -> torch.Tensor:
        return F.conv_transpose2d(h, sd[f"{key}.weight"], sd.get(f"{key}.bias"), stride=2, padding=1)

    def block(h: torch.Tensor, p: str, depth: int) -> torch.Tensor:
        q = p + "model."
        if depth == num_downs:  # innermost: LReLU, down, ReLU, up, BN
            y = bn(up(F.relu(down(F.leaky_relu(h, 0.2), q + "1")), q + "3"), q + "4")
        else:  # LReLU, down, BN, sub, ReLU, up, BN (dropout: none here)
            y = bn(down(F.leaky_relu(h, 0.2), q + "1"), q + "2")
            y = bn(up(F.relu(block(y, q + "3.", depth + 1)), q + "5"), q + "6")
        return torch.cat([h, y], 1)  # the skip path first

    h = F.conv2d(x, sd["model.model.0.weight"], None, stride=2, padding=1)
    h = block(h, "model.model.1.", 2)
    return torch.tanh(F.conv_transpose2d(F.relu(h), sd["model.model.3.weight"], sd["model.model.3.bias"], stride=2,
                                         padding=1))


def _save(state: object, path: Path, *, legacy: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path, _use_new_zipfile_serialization=not legacy)
    return path


def _x(n: int, size: int = 256, seed: int = 1, c: int = 3) -> torch.Tensor:
    return torch.rand(n, c, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


@pytest.fixture(scope="module")
def facades(tmp_path_factory) -> tuple[Path, dict[str, torch.Tensor]]:
    """A file shaped like the published facades_label2photo.pth (unet_256, batch norm, 82 tensors)."""
    state = original_unet_state()
    assert len(state) == 82
    return _save(state, tmp_path_factory.mktemp("orig") / "facades_label2photo.pth"), state


@pytest.fixture(scope="module")
def converted(facades, tmp_path_factory) -> Path:
    return convert_checkpoint("pix2pix", facades[0], tmp_path_factory.mktemp("conv") / "facades")


# -- converter parity -------------------------------------------------------------------------------------


def test_eval_mode_reproduces_the_original(facades, converted) -> None:
    _, state = facades
    model = ganzoo.load(str(converted))
    x = _x(2)
    expected = reference_forward(state, x, 8, batch_stats=False)
    got = model.sample(condition=x, mode="eval")
    assert got.shape == (2, 3, 256, 256)
    assert float((got - expected).abs().max()) < 1e-5
    assert not model.training


def test_paper_mode_is_the_original_test_py(facades, tmp_path) -> None:
    """Without dropout the original test.py is deterministic: train-mode BN on each image alone."""
    _, state = facades
    folder = convert_checkpoint("pix2pix", facades[0], tmp_path / "nodrop", use_dropout=False)
    model = ganzoo.load(str(folder))
    buffers = {k: v.clone() for k, v in model.G.state_dict().items()}
    x = _x(2, seed=2)
    expected = torch.cat([reference_forward(state, x[i:i + 1], 8, batch_stats=True) for i in range(2)])
    got = model.sample(condition=x, mode="paper", batch_size=2)  # batched call, still per-image statistics
    assert float((got - expected).abs().max()) < 1e-5
    assert float((got - reference_forward(state, x, 8, batch_stats=False)).abs().max()) > 1e-3  # modes differ
    assert all(torch.equal(buffers[k], v) for k, v in model.G.state_dict().items())  # running stats untouched
    assert not model.training and not model.G.training


def test_paper_mode_dropout_is_live_and_seeded(converted) -> None:
    model = ganzoo.load(str(converted))
    assert model.config.inference_mode == "paper" and model.config.use_dropout
    x = _x(1, seed=3)
    a, b, c = (model.sample(condition=x, seed=s) for s in (0, 0, 1))
    assert torch.equal(a, b) and not torch.equal(a, c)
    torch.manual_seed(0)
    before = torch.rand(1)
    torch.manual_seed(0)
    model.sample(condition=x, seed=5)
    assert torch.equal(torch.rand(1), before)  # a seeded call leaves the global RNG alone
    e1, e2 = model.sample(condition=x, mode="eval"), model.sample(condition=x, mode="eval", seed=9)
    assert torch.equal(e1, e2)
    with pytest.raises(UsageError, match="mode must be"):
        model.sample(condition=x, mode="train")


def test_converted_config_card_and_direction(converted) -> None:
    data = json.loads((converted / "config.json").read_text())
    assert list(data["components"]) == ["G"]
    cfg = data["config"]
    assert (cfg["num_downs"], cfg["ngf"], cfg["norm"], cfg["direction"], cfg["image_size"]) == (8, 4, "batch", "BtoA", 256)
    model = ganzoo.load(str(converted))
    block = model.card.data.ganzoo
    assert model.card.data.ganzoo["tag"] == "facades-label2photo"
    assert block["inference_mode"] == "paper" and block["input"]["policy"] == "resize"
    assert block["converted_from"]["tensors"] == 82 and block["converted_from"]["serialization"].startswith("zip")
    assert block["converted_from"]["url"].endswith("/pix2pix/models-pytorch/facades_label2photo.pth")
    x = torch.zeros(1, 3, 64, 64)
    assert model.sample(condition=x, direction="BtoA", mode="eval").shape == x.shape
    with pytest.raises(UsageError, match="translates one way only: it was trained BtoA"):
        model.sample(condition=x, direction="AtoB")


def test_legacy_file_without_counters_module_prefix_and_128(tmp_path) -> None:
    state = original_unet_state(ngf=2, num_downs=7, legacy_bn=True, seed=4)  # torch ≤ 0.3: no num_batches_tracked
    wrapped = {f"module.{k}": v for k, v in state.items()}
    path = _save(wrapped, tmp_path / "edges2shoes_pretrained" / "latest_net_G.pth", legacy=True)
    model = ganzoo.load(str(convert_checkpoint("pix2pix", path, tmp_path / "o")))
    assert (model.config.num_downs, model.config.image_size, model.config.direction) == (7, 128, "AtoB")
    assert model.card.data.ganzoo["tag"] == "edges2shoes"
    assert model.card.data.ganzoo["converted_from"]["serialization"].startswith("legacy")
    x = _x(1, size=128, seed=5)
    assert float((model.sample(condition=x, mode="eval") - reference_forward(state, x, 7, batch_stats=False)).abs().max()) < 1e-5


def test_published_unet_256_file_has_69_tensors_when_legacy() -> None:
    assert len(original_unet_state(legacy_bn=True)) == 69  # notes §2: pre-0.4 pix2pix files


# -- bad checkpoints ----------------------------------------------------------------------------------------


def test_cyclegan_file_is_refused_with_the_right_converter(tmp_path) -> None:
    from ganzoo.nn import ResnetGenerator

    path = _save(dict(ResnetGenerator(ngf=4, n_blocks=9).state_dict()), tmp_path / "sat2map.pth")
    with pytest.raises(WeightsError, match=r"ResNet generator with 9 residual blocks.*ganzoo convert cyclegan"):
        convert_checkpoint("pix2pix", path, tmp_path / "o")
    result = CliRunner().invoke(cli, ["convert", "pix2pix", str(path), str(tmp_path / "o")])
    assert result.exit_code == 1 and result.output.startswith("Error:") and result.output.count("\n") == 1


def test_wrong_architectures_and_pickles(tmp_path) -> None:
    from ganzoo.nn import NLayerDiscriminator

    d = _save(dict(NLayerDiscriminator(6, 4, 3, "batch").state_dict()), tmp_path / "latest_net_D.pth")
    with pytest.raises(WeightsError, match="PatchGAN \\(n_layers=3\\) discriminator on 6 channels"):
        convert_checkpoint("pix2pix", d, tmp_path / "o1")
    broken = original_unet_state(num_downs=6)
    broken["model.model.1.model.2.weight"] = torch.zeros(7)
    with pytest.raises(WeightsError, match="does not fit that layout: shape mismatch model.model.1.model.2.weight"):
        convert_checkpoint("pix2pix", _save(broken, tmp_path / "broken.pth"), tmp_path / "o2")
    with pytest.raises(WeightsError, match="match no U-Net layout"):
        convert_checkpoint("pix2pix", _save({"w": torch.zeros(1)}, tmp_path / "w.pth"), tmp_path / "o3")
    with pytest.raises(WeightsError, match="holds dict|holds list|not a state dict"):
        convert_checkpoint("pix2pix", _save({"a": [1, 2]}, tmp_path / "d.pth"), tmp_path / "o4")
    # an explicit --set wins over what the file says; when the weights then do not fit, the message says so
    with pytest.raises(WeightsError, match=r"--set num_downs=8 overrode what the file says\): missing"):
        convert_checkpoint("pix2pix", _save(original_unet_state(num_downs=6), tmp_path / "ok.pth"), tmp_path / "o5",
                           num_downs=8)


# -- any size, files, folders, CLI ------------------------------------------------------------------------


def test_any_size_and_mode_images(converted, tmp_path) -> None:
    from ganzoo.translate import translate_path

    model = ganzoo.load(str(converted))
    assert model.sample(condition=torch.zeros(2, 3, 37, 91)).shape == (2, 3, 37, 91)  # resized to 256² and back
    src = tmp_path / "in"
    src.mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (300, 200, 3), dtype=np.uint8)).save(src / "tall.jpg")
    Image.fromarray(rng.integers(0, 255, (33, 17), dtype=np.uint8), mode="L").save(src / "grey.png")
    Image.fromarray(rng.integers(0, 255, (40, 40, 4), dtype=np.uint8), mode="RGBA").save(src / "rgba.png")
    Image.fromarray(rng.integers(0, 65535, (64, 50), dtype=np.uint16)).save(src / "deep.png")
    (src / "notes.md").write_text("# not an image")
    out = translate_path(model, src, tmp_path / "out", batch_size=3)
    sizes = {p.stem: Image.open(p).size for p in out.iterdir()}
    assert sizes == {"tall": (200, 300), "grey": (17, 33), "rgba": (40, 40), "deep": (50, 64)}


def test_pad_policy_and_too_small_images(facades, tmp_path) -> None:
    _, state = facades
    folder = convert_checkpoint("pix2pix", facades[0], tmp_path / "pad", size_policy="pad", inference_mode="eval")
    model = ganzoo.load(str(folder))
    assert model.config.size_policy == "pad" and model.card.data.ganzoo["input"]["policy"] == "pad"
    assert model.card.data.ganzoo["inference_mode"] == "eval"
    x = _x(1, size=256, seed=6)
    wide = torch.cat([x, x.flip(-1)], -1)[..., :400]  # 256 × 400 → padded to 256 × 512
    assert model.sample(condition=wide).shape == (1, 3, 256, 400)
    assert float((model.sample(condition=x) - reference_forward(state, x, 8, batch_stats=False)).abs().max()) < 1e-5
    with pytest.raises(DataError, match="200×100 px: smaller than the 256-px stride"):
        model.sample(condition=torch.zeros(1, 3, 100, 200))


def test_cli_convert_then_sample_a_folder(tmp_path) -> None:
    state = original_unet_state(ngf=2, num_downs=6, seed=8)
    src = _save(state, tmp_path / "day2night.pth", legacy=True)
    runner = CliRunner()
    result = runner.invoke(cli, ["convert", "pix2pix", str(src), str(tmp_path / "m"), "--set", "image_size=64",
                                 "--set", "load_size=72"])
    assert result.exit_code == 0, result.output
    photos = tmp_path / "photos"
    photos.mkdir()
    for i, size in enumerate([(64, 64), (64, 64), (30, 45)]):
        Image.fromarray(np.full((*size, 3), 40 * i, dtype=np.uint8)).save(photos / f"{i}.png")
    result = runner.invoke(cli, ["sample", str(tmp_path / "m"), "--input", str(photos), "-o", str(tmp_path / "night"),
                                 "--device", "cpu", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert sorted(Image.open(p).size for p in (tmp_path / "night").iterdir()) == [(45, 30), (64, 64), (64, 64)]
    model = ganzoo.load(str(tmp_path / "m"))
    assert model.config.direction == "BtoA" and model.card.data.ganzoo["tag"] == "day2night"
    result = runner.invoke(cli, ["sample", str(tmp_path / "m"), "--input", str(photos / "0.png"), "-o",
                                 str(tmp_path / "x.png"), "--direction", "AtoB"])
    assert result.exit_code == 1 and "one way only" in result.output


# -- training: the original's objective ----------------------------------------------------------------


def test_training_objective_is_the_originals() -> None:
    model = ganzoo.build("pix2pix", seed=0, image_size=64, load_size=72, num_downs=6, ngf=4, ndf=4).train()
    impl, cfg = model.impl, model.config
    assert impl.train_defaults == {"batch_size": 1, "lr_schedule": "linear_decay", "decay_start": 0.5}
    assert getattr(impl, "phase_order", ("D", "G")) == ("D", "G")
    assert (cfg.gan_mode, cfg.lambda_L1, cfg.norm, cfg.use_dropout, cfg.load_size, cfg.flip) == (
        "vanilla", 100.0, "batch", True, 72, True)
    assert model.D.model[0].in_channels == 6  # D sees cat(x, y)
    x, y = _x(1, 64, seed=10), _x(1, 64, seed=11)
    batch = {"A": x, "B": y}
    fakes: list[torch.Tensor] = []
    hook = model.G.register_forward_hook(lambda m, i, o: fakes.append(o.detach().clone()))
    bn = model.G.model.model[1].model[2]
    stats0 = bn.running_mean.clone()
    d = impl.discriminator_loss(model, batch)
    assert torch.equal(bn.running_mean, stats0)  # the D step's G pass leaves the running statistics alone
    g = impl.generator_loss(model, batch)
    hook.remove()
    assert torch.equal(fakes[0], fakes[1])  # both updates see the same G(x): the dropout mask is replayed
    assert not torch.equal(bn.running_mean, stats0)  # … and the statistics advance once, in the G step
    with torch.no_grad():
        pred_fake = model.D(torch.cat([x, fakes[0]], 1))
        assert torch.allclose(d["d_fake"], 0.5 * F.binary_cross_entropy_with_logits(pred_fake, torch.zeros_like(pred_fake)))
        assert torch.allclose(g["g_l1"], 100 * F.l1_loss(fakes[1], y))
        assert torch.allclose(g["g_gan"], F.binary_cross_entropy_with_logits(pred_fake, torch.ones_like(pred_fake)),
                              atol=1e-6)
    # a later step draws a new mask
    impl.discriminator_loss(model, batch)
    again = model.G(x).detach()
    assert not torch.equal(again, fakes[0])


def test_conformance() -> None:
    report = check_plugin("pix2pix")
    assert "round trip" in report.passed and "trainer" in report.passed


@pytest.mark.parametrize("overrides", [{"netD": "pixel"}, {"norm": "instance", "n_layers_D": 2, "gan_mode": "lsgan"},
                                       {"norm": "none", "use_dropout": False, "inference_mode": "eval"}])
def test_variants_conform(overrides) -> None:
    check_plugin("pix2pix", train=False, overrides=overrides)


# -- the 5 published models ---------------------------------------------------------------------------------


def test_all_5_cards_are_listed_with_the_authors_file_as_source() -> None:
    from ganzoo.cards import load_card
    from ganzoo.sources import weights_origin

    listed = {m.id: m for m in ganzoo.list_models() if m.plugin == "pix2pix" and not m.bundled}
    assert sorted(listed) == ["pix2pix-day2night", "pix2pix-edges2shoes", "pix2pix-facades-label2photo",
                              "pix2pix-map2sat", "pix2pix-sat2map"]
    directions = {}
    for model_id, entry in listed.items():
        block = entry.card.metadata["ganzoo"]
        assert entry.card.repo_id == f"ganzoo/{model_id}" and entry.card.revision is None
        assert block["inference_mode"] == "paper" and block["input"]["policy"] == "resize"
        assert entry.card.parameters == 54_413_955
        directions[entry.tag] = block["direction"]
        load_card(entry.folder / "README.md")
        # no Hub revision yet: the card names the authors' file as its source, fetched on first use (the test
        # session's GANZOO_SOURCE_MIRRORS sends it to a closed local port: one line, nothing cached)
        assert block["source"] == {"url": block["converted_from"]["url"], "sha256": None, "converter": entry.plugin}
        assert weights_origin(entry) == "source"
        with pytest.raises(WeightsUnavailableError, match="Cannot fetch the weights of") as err:
            ganzoo.load(model_id)
        assert "\n" not in str(err.value) and block["converted_from"]["url"].split("/", 3)[3] in str(err.value)
    assert directions == {"day2night": "BtoA", "edges2shoes": "AtoB", "facades-label2photo": "BtoA",
                          "map2sat": "BtoA", "sat2map": "AtoB"}
    from ganzoo.registry import get_plugin

    assert get_plugin("pix2pix").default_tag == "facades-label2photo"
