"""The shared pix2pix/CycleGAN blocks: architecture facts of the original code (notes/reference-cyclegan-pix2pix.md
§1-2), key layout, architecture inference from keys, norm handling, the image pool, and the size rules."""

from __future__ import annotations

import io

import pytest
import torch
from torch import nn

from ganzoo.errors import DataError
from ganzoo.nn import (
    ImagePool,
    NLayerDiscriminator,
    PixelDiscriminator,
    ResnetGenerator,
    UnetGenerator,
    check_layout,
    clean_norm_state,
    conv_bias,
    frozen_norm_stats,
    infer_patchgan_config,
    infer_resnet_config,
    infer_unet_config,
    norm_layer,
    patchgan_receptive_field,
)
from ganzoo.translate import SizeRule, fit, unfit


pytestmark = pytest.mark.usefixtures("one_thread")


def _params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


# -- architecture facts (notes §1) ------------------------------------------------------------------------


def test_parameter_counts_match_the_original() -> None:
    with torch.device("meta"):  # shapes only: no memory, no init time
        resnet9, resnet6 = ResnetGenerator(n_blocks=9), ResnetGenerator(n_blocks=6)
        unet256, unet128 = UnetGenerator(num_downs=8), UnetGenerator(num_downs=7)
        d_cyclegan = NLayerDiscriminator(3, norm="instance")
        d_pix2pix = NLayerDiscriminator(6, norm="batch")
    assert _params(resnet9) == 11_378_179  # notes: 11.378 M
    assert _params(resnet6) == 7_837_699
    assert _params(unet256) == 54_413_955  # notes: 54.414 M
    assert _params(unet128) == 41_828_995
    assert _params(d_cyclegan) == 2_764_737  # notes: 2.765 M
    assert _params(d_pix2pix) == 2_768_705  # notes: 2.769 M
    assert round(_params(resnet9) / 1e6, 3) == 11.378 and round(_params(unet256) / 1e6, 3) == 54.414
    assert round(_params(d_cyclegan) / 1e6, 3) == 2.765 and round(_params(d_pix2pix) / 1e6, 3) == 2.769


def test_patchgan_output_map_and_receptive_field() -> None:
    with torch.device("meta"):
        d = NLayerDiscriminator(6, norm="batch")
        out = d(torch.empty(1, 6, 256, 256))
    assert tuple(out.shape) == (1, 1, 30, 30)
    assert patchgan_receptive_field(3) == 70 and patchgan_receptive_field(1) == 16
    # measured: one logit's gradient reaches exactly a 70×70 input patch
    torch.manual_seed(0)
    small = NLayerDiscriminator(1, ndf=2, n_layers=3, norm="none")
    x = torch.randn(1, 1, 128, 128, requires_grad=True)
    y = small(x)
    y[0, 0, y.shape[2] // 2, y.shape[3] // 2].backward()
    rows = (x.grad[0, 0].abs().sum(1) > 0).nonzero().flatten()
    cols = (x.grad[0, 0].abs().sum(0) > 0).nonzero().flatten()
    assert int(rows[-1] - rows[0] + 1) == 70 and int(cols[-1] - cols[0] + 1) == 70


def test_resnet_key_layout_is_the_originals() -> None:
    with torch.device("meta"):
        sd = ResnetGenerator(n_blocks=9).state_dict()
    assert len(sd) == 48  # notes §2: 48 tensors, all conv weights and biases
    shapes = {k: tuple(v.shape) for k, v in sd.items()}
    assert shapes["model.1.weight"] == (64, 3, 7, 7) and shapes["model.4.weight"] == (128, 64, 3, 3)
    assert shapes["model.7.weight"] == (256, 128, 3, 3)
    for i in range(10, 19):
        assert shapes[f"model.{i}.conv_block.1.weight"] == (256, 256, 3, 3)
        assert shapes[f"model.{i}.conv_block.5.weight"] == (256, 256, 3, 3)
    assert shapes["model.19.weight"] == (256, 128, 3, 3) and shapes["model.22.weight"] == (128, 64, 3, 3)
    assert shapes["model.26.weight"] == (3, 64, 7, 7) and shapes["model.26.bias"] == (3,)
    with torch.device("meta"):
        dropout = ResnetGenerator(n_blocks=2, use_dropout=True).state_dict()
    assert "model.10.conv_block.6.weight" in dropout and "model.10.conv_block.5.weight" not in dropout


def test_unet_key_layout_is_the_originals() -> None:
    with torch.device("meta"):
        sd = UnetGenerator(num_downs=8).state_dict()
    assert len(sd) == 82  # notes §2
    shapes = {k: tuple(v.shape) for k, v in sd.items()}
    assert shapes["model.model.0.weight"] == (64, 3, 4, 4) and "model.model.0.bias" not in shapes
    assert shapes["model.model.1.model.1.weight"] == (128, 64, 4, 4)
    assert shapes["model.model.1.model.2.running_mean"] == (128,)
    assert shapes["model.model.3.weight"] == (128, 3, 4, 4) and shapes["model.model.3.bias"] == (3,)
    inner = "model.model.1" + ".model.3" * 6  # the 8th level
    assert shapes[f"{inner}.model.1.weight"] == (512, 512, 4, 4) and shapes[f"{inner}.model.3.weight"] == (512, 512, 4, 4)
    assert shapes[f"{inner}.model.4.weight"] == (512,) and f"{inner}.model.2.weight" not in shapes  # no BN on the bottleneck
    ups = sorted({v for k, v in shapes.items() if k.endswith("model.5.weight")})
    assert ups == sorted({(1024, 512, 4, 4), (1024, 256, 4, 4), (512, 128, 4, 4), (256, 64, 4, 4)})
    # dropout is appended last: the keys do not change
    with torch.device("meta"):
        assert set(UnetGenerator(num_downs=8, use_dropout=False).state_dict()) == set(sd)


def test_unet_needs_multiples_of_its_stride() -> None:
    g = UnetGenerator(3, 3, num_downs=5, ngf=2)
    assert g.stride == 32
    assert g(torch.randn(1, 3, 32, 64)).shape == (1, 3, 32, 64)
    with pytest.raises(RuntimeError):
        g(torch.randn(1, 3, 48, 48))


# -- norm factory and bias rule ----------------------------------------------------------------------------


def test_norm_factory_and_bias_rule() -> None:
    assert isinstance(norm_layer("batch", 4), nn.BatchNorm2d) and norm_layer("batch", 4).affine
    inorm = norm_layer("instance", 4)
    assert isinstance(inorm, nn.InstanceNorm2d) and not inorm.affine and inorm.running_mean is None
    assert list(inorm.parameters()) == [] and list(inorm.buffers()) == []
    assert isinstance(norm_layer("none", 4), nn.Identity)
    assert (conv_bias("instance"), conv_bias("batch"), conv_bias("none")) == (True, False, False)
    with pytest.raises(ValueError, match="norm must be one of"):
        norm_layer("group", 4)
    # BN: no bias before a norm, but D's first and last convs keep theirs
    keys = set(NLayerDiscriminator(6, ndf=4, norm="batch").state_dict())
    assert {"model.0.bias", "model.11.bias"} <= keys and "model.2.bias" not in keys
    assert "model.2.bias" in NLayerDiscriminator(3, ndf=4, norm="instance").state_dict()
    assert "model.1.bias" not in ResnetGenerator(ngf=4, n_blocks=1, norm="batch").state_dict()
    assert "model.17.bias" in ResnetGenerator(ngf=4, n_blocks=0, norm="batch").state_dict()  # the last conv always
    pixel = PixelDiscriminator(3, 4, "batch").state_dict()
    assert "net.0.bias" in pixel and "net.2.bias" not in pixel and "net.5.bias" not in pixel and "net.3.weight" in pixel


def test_clean_norm_state_drops_instance_stats_and_fills_counters() -> None:
    g = ResnetGenerator(ngf=4, n_blocks=1)
    state = dict(g.state_dict())
    state["model.2.running_mean"] = torch.zeros(4)
    state["model.2.running_var"] = torch.ones(4)
    state["model.2.num_batches_tracked"] = torch.tensor(3)
    cleaned, dropped = clean_norm_state(state, g)
    assert sorted(dropped) == ["model.2.num_batches_tracked", "model.2.running_mean", "model.2.running_var"]
    assert check_layout(cleaned, g) is None
    u = UnetGenerator(3, 3, num_downs=5, ngf=2)
    old = {k: v for k, v in u.state_dict().items() if not k.endswith("num_batches_tracked")}  # a pre-0.4 file
    assert "missing" in check_layout(old, u)
    filled, dropped = clean_norm_state(old, u)
    assert dropped == [] and check_layout(filled, u) is None
    assert int(filled["model.model.1.model.2.num_batches_tracked"]) == 0


def test_check_layout_names_what_differs() -> None:
    g = ResnetGenerator(ngf=4, n_blocks=2)
    state = dict(g.state_dict())
    state.pop("model.11.conv_block.5.bias")
    assert "missing model.11.conv_block.5.bias" in check_layout(state, g)
    state = dict(g.state_dict())
    state["model.1.weight"] = torch.zeros(4, 3, 5, 5)
    assert "shape mismatch model.1.weight (4, 3, 5, 5)" in check_layout(state, g)


def test_frozen_norm_stats_keeps_buffers() -> None:
    u = UnetGenerator(3, 3, num_downs=5, ngf=2).train()
    before = {k: v.clone() for k, v in u.state_dict().items()}
    with frozen_norm_stats(u):
        u(torch.randn(1, 3, 32, 32))
    assert all(torch.equal(before[k], v) for k, v in u.state_dict().items())
    assert all(m.track_running_stats for m in u.modules() if isinstance(m, nn.BatchNorm2d))
    u(torch.randn(1, 3, 32, 32))
    assert not torch.equal(before["model.model.1.model.2.running_mean"], u.state_dict()["model.model.1.model.2.running_mean"])


# -- architecture inference from keys ----------------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [
    dict(input_nc=3, output_nc=3, ngf=8, n_blocks=9, norm="instance", use_dropout=False),
    dict(input_nc=1, output_nc=3, ngf=4, n_blocks=6, norm="batch", use_dropout=True),
    dict(input_nc=3, output_nc=1, ngf=4, n_blocks=2, norm="none", use_dropout=False),
    # layouts of other code bases: zero padding (no pad layers), affine instance norm, biased convs before BN
    dict(input_nc=3, output_nc=3, ngf=4, n_blocks=3, norm="instance", use_dropout=True, padding_type="zero",
         norm_affine=True),
    dict(input_nc=3, output_nc=3, ngf=4, n_blocks=2, norm="batch", use_dropout=False, padding_type="zero",
         conv_bias=True),
    dict(input_nc=3, output_nc=3, ngf=4, n_blocks=2, norm="instance", use_dropout=True, conv_bias=False),
])
def test_infer_resnet_config(kwargs) -> None:
    with torch.device("meta"):
        sd = ResnetGenerator(**kwargs).state_dict()
    expected = {"padding_type": "reflect", "norm_affine": False, "conv_bias": None, **kwargs}
    if kwargs.get("conv_bias") is False:  # instance norm without conv biases reads as "none" (the bias rule)
        expected.update(norm="none", conv_bias=None)
    assert infer_resnet_config(sd) == expected
    assert infer_unet_config(sd) is None and infer_patchgan_config(sd) is None


@pytest.mark.parametrize("kwargs", [
    dict(input_nc=3, output_nc=3, ngf=64, num_downs=8, norm="batch"),
    dict(input_nc=1, output_nc=3, ngf=4, num_downs=7, norm="instance"),
    dict(input_nc=3, output_nc=3, ngf=4, num_downs=5, norm="none"),
    dict(input_nc=3, output_nc=3, ngf=4, num_downs=6, norm="instance", norm_affine=True),
    dict(input_nc=3, output_nc=3, ngf=4, num_downs=6, norm="batch", conv_bias=True),
])
def test_infer_unet_config(kwargs) -> None:
    with torch.device("meta"):
        sd = UnetGenerator(**kwargs).state_dict()
    assert infer_unet_config(sd) == {"norm_affine": False, "conv_bias": None, **kwargs}
    assert infer_resnet_config(sd) is None and infer_patchgan_config(sd) is None


@pytest.mark.parametrize("n_layers", [1, 2, 3, 4])
def test_infer_patchgan_config(n_layers) -> None:
    sd = NLayerDiscriminator(6, ndf=4, n_layers=n_layers, norm="batch").state_dict()
    assert infer_patchgan_config(sd) == {"kind": "nlayer", "input_nc": 6, "ndf": 4, "n_layers": n_layers, "norm": "batch"}
    sd = NLayerDiscriminator(3, ndf=4, n_layers=n_layers, norm="instance").state_dict()
    assert infer_patchgan_config(sd)["norm"] == "instance"
    assert infer_patchgan_config(PixelDiscriminator(3, 4, "instance").state_dict()) == {
        "kind": "pixel", "input_nc": 3, "ndf": 4, "norm": "instance"}
    assert infer_resnet_config(sd) is None and infer_unet_config(sd) is None


# -- the image pool -------------------------------------------------------------------------------------


def test_image_pool_fills_then_swaps_and_resumes_identically() -> None:
    pool = ImagePool(4, seed=0)
    batches = [torch.full((2, 1, 2, 2), float(i)) for i in range(12)]
    out = [pool.query(b) for b in batches[:2]]
    assert all(torch.equal(o, b) for o, b in zip(out, batches[:2]))  # filling: the input comes back
    assert len(pool) == 4
    for b in batches[2:6]:
        pool.query(b)
    # state → bytes → weights_only load → a second pool draws what the first draws
    buf = io.BytesIO()
    torch.save(pool.state_dict(), buf)
    buf.seek(0)
    twin = ImagePool(4)
    twin.load_state_dict(torch.load(buf, weights_only=True))
    rest_a = [pool.query(b) for b in batches[6:]]
    rest_b = [twin.query(b) for b in batches[6:]]
    assert all(torch.equal(a, b) for a, b in zip(rest_a, rest_b))
    values = torch.cat(rest_a).flatten().unique()
    assert len(values) > 1 and any(v < 6 for v in values.tolist())  # old images came back out
    assert not any(t.requires_grad for t in rest_a)


def test_image_pool_size_zero_and_errors() -> None:
    x = torch.randn(3, 3, 4, 4, requires_grad=True)
    out = ImagePool(0).query(x)
    assert torch.equal(out, x) and not out.requires_grad
    with pytest.raises(ValueError):
        ImagePool(-1)
    with pytest.raises(ValueError, match="size 4"):
        ImagePool(2).load_state_dict(ImagePool(4).state_dict())


def test_image_pool_swap_rate_is_about_half() -> None:
    pool = ImagePool(10, seed=1)
    pool.query(torch.zeros(10, 1, 1, 1))
    out = pool.query(torch.ones(1000, 1, 1, 1))
    swapped = float((out == 0).float().mean())
    assert 0.0 < swapped < 0.5  # swaps at p = ½, but soon it mostly returns images stored from this batch


# -- size rules --------------------------------------------------------------------------------------------


def test_pad_rule_pads_symmetrically_and_crops_back() -> None:
    rule = SizeRule("pad", 4, min_side=8)
    x = torch.randn(2, 3, 37, 53)
    xf, size = fit(x, rule)
    assert tuple(xf.shape[-2:]) == (40, 56) and size == (37, 53)
    assert torch.equal(unfit(xf, rule, size), x)
    tiny, size = fit(torch.randn(1, 3, 5, 4), rule)  # too small to reflect: replicate, at least min_side
    assert tuple(tiny.shape[-2:]) == (8, 8)
    with pytest.raises(DataError, match="smaller than the 4-px stride"):
        fit(torch.randn(1, 3, 3, 40), rule)


def test_resize_rule_round_trip() -> None:
    rule = SizeRule("resize", 32, size=64)
    x = torch.rand(1, 3, 50, 90) * 2 - 1
    xf, size = fit(x, rule)
    assert tuple(xf.shape[-2:]) == (64, 64) and xf.abs().max() <= 1
    assert tuple(unfit(xf, rule, size).shape[-2:]) == (50, 90)
    same, _ = fit(torch.zeros(1, 3, 64, 64), rule)
    assert tuple(same.shape[-2:]) == (64, 64)
    tiny, _ = fit(torch.zeros(1, 3, 2, 2), rule)  # resize accepts any size
    assert tuple(tiny.shape[-2:]) == (64, 64)
    with pytest.raises(ValueError):
        SizeRule("resize", 32, size=48)


# -- the fully connected GANs' pieces (ganzoo.nn.mlp) ---------------------------------------------------------


def test_maxout_takes_the_max_of_its_pieces() -> None:
    from ganzoo.nn import Maxout

    layer = Maxout(4, units=3, pieces=2)
    x = torch.randn(5, 4)
    pieces = layer.linear(x).view(5, 3, 2)
    assert torch.equal(layer(x), pieces.amax(dim=2))
    sn = Maxout(4, units=3, pieces=2, sn=True)
    assert "linear.parametrizations.weight.original" in sn.state_dict() and sn(x).shape == (5, 3)


def test_uniform_init_and_pixel_marginal_logits() -> None:
    from ganzoo.nn import Maxout, pixel_marginal_logits, uniform_init

    net = uniform_init(torch.nn.Sequential(torch.nn.Linear(6, 8), Maxout(8, 2, 3, sn=True)), 0.05)
    assert net[0].weight.abs().max() <= 0.05 and not net[0].bias.any()
    assert net[1].linear.parametrizations.weight.original.abs().max() <= 0.05 and not net[1].linear.bias.any()
    real = torch.tensor([[[[1.0, -1.0]]], [[[1.0, 0.0]]]])  # pixel means in [0, 1]: 1.0 and 0.25
    logits = pixel_marginal_logits(real)
    assert logits.shape == (2,)
    assert torch.allclose(torch.sigmoid(logits), torch.tensor([1 - 1e-3, 0.25]), atol=1e-6)


def test_unwrap_reaches_the_plain_module() -> None:
    from ganzoo.nn import unwrap

    plain = torch.nn.Linear(2, 2)
    assert unwrap(plain) is plain and unwrap(torch.compile(plain)) is plain
