"""Foreign pix2pix (U-Net) checkpoints and the published models served from their source.

The foreign U-Net is written here as its own ``nn.Module`` (the nested skip-block layout, with the variants real
checkpoints have: affine instance norm, biased convolutions before batch norm, another name for the nested
``Sequential``), saved as a training checkpoint, converted, and compared with its own forward pass at several sizes
through ``model.sample(condition=…)``: max |diff| ≤ 1e-5.
"""

from __future__ import annotations

import io
import json

import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from PIL import Image
from torch import nn

import ganzoo
from ganzoo.cli import cli
from ganzoo.convert import convert_checkpoint

pytestmark = pytest.mark.usefixtures("one_thread")


class ForeignSkip(nn.Module):
    def __init__(self, outer: int, inner: int, input_nc: int | None, sub: nn.Module | None, *, outermost: bool,
                 innermost: bool, nl, bias: bool, dropout: bool, attr: str) -> None:
        super().__init__()
        down = nn.Conv2d(input_nc or outer, inner, 4, 2, 1, bias=bias)
        if outermost:
            layers = [down, sub, nn.ReLU(True), nn.ConvTranspose2d(inner * 2, outer, 4, 2, 1), nn.Tanh()]
        elif innermost:
            layers = [nn.LeakyReLU(0.2, True), down, nn.ReLU(True),
                      nn.ConvTranspose2d(inner, outer, 4, 2, 1, bias=bias), nl(outer)]
        else:
            layers = [nn.LeakyReLU(0.2, True), down, nl(inner), sub, nn.ReLU(True),
                      nn.ConvTranspose2d(inner * 2, outer, 4, 2, 1, bias=bias), nl(outer)]
            layers += [nn.Dropout(0.5)] if dropout else []
        self.outermost, self.attr = outermost, attr
        setattr(self, attr, nn.Sequential(*layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = getattr(self, self.attr)(x)
        return y if self.outermost else torch.cat([x, y], 1)


class ForeignUnet(nn.Module):
    def __init__(self, *, ngf: int = 4, num_downs: int = 5, norm: str = "batch", affine: bool = False,
                 bias: bool | None = None, dropout: bool = False, attr: str = "model") -> None:
        super().__init__()

        def nl(c: int) -> nn.Module:
            return nn.BatchNorm2d(c) if norm == "batch" else nn.InstanceNorm2d(c, affine=affine)

        use_bias = (norm == "instance") if bias is None else bias
        kw = dict(nl=nl, bias=use_bias, attr=attr)
        block = ForeignSkip(ngf * 8, ngf * 8, None, None, outermost=False, innermost=True, dropout=False, **kw)
        for _ in range(num_downs - 5):
            block = ForeignSkip(ngf * 8, ngf * 8, None, block, outermost=False, innermost=False, dropout=dropout, **kw)
        for mult in (4, 2, 1):
            block = ForeignSkip(ngf * mult, ngf * mult * 2, None, block, outermost=False, innermost=False,
                                dropout=False, **kw)
        setattr(self, attr, ForeignSkip(3, ngf, 3, block, outermost=True, innermost=False, dropout=False, **kw))
        self.attr = attr
        with torch.no_grad():
            g = torch.Generator().manual_seed(5)
            for m in self.modules():
                if isinstance(m, (nn.BatchNorm2d, nn.InstanceNorm2d)) and m.affine:
                    m.weight.copy_(1 + 0.3 * torch.randn(m.weight.shape, generator=g))
                    m.bias.copy_(0.2 * torch.randn(m.bias.shape, generator=g))
                if isinstance(m, nn.BatchNorm2d):
                    m.running_mean.copy_(0.1 * torch.randn(m.running_mean.shape, generator=g))
                    m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=g))
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return getattr(self, self.attr)(x)


def _padded(net: nn.Module, x: torch.Tensor, stride: int) -> torch.Tensor:
    h, w = x.shape[-2:]
    th, tw = -(-h // stride) * stride, -(-w // stride) * stride
    top, left = (th - h) // 2, (tw - w) // 2
    return net(F.pad(x, (left, tw - w - left, top, th - h - top), mode="reflect"))[..., top:top + h, left:left + w]


def _save(obj, path) -> object:
    torch.save(obj, path)
    return path


VARIANTS = {
    "affine-in": (dict(norm="instance", affine=True), "netG_state_dict", {}),
    "bn-with-bias": (dict(norm="batch", bias=True, dropout=True, num_downs=6), "state_dict", {}),
    "block-named": (dict(norm="batch", attr="block"), "model", {}),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_foreign_unets_convert_exactly(variant, tmp_path) -> None:
    kwargs, wrapper, sets = VARIANTS[variant]
    torch.manual_seed(0)
    net = ForeignUnet(**kwargs)
    path = _save({wrapper: net.state_dict(), "epoch": 3}, tmp_path / "u.pth")
    folder = convert_checkpoint("pix2pix", path, tmp_path / "out", size_policy="pad", inference_mode="eval",
                                license="bsd-3-clause", **sets)
    model = ganzoo.load(str(folder))
    stride = 2 ** model.config.num_downs
    assert model.config.norm == kwargs.get("norm", "batch")
    g = torch.Generator().manual_seed(2)
    for h, w in [(stride * 2, stride * 2), (stride, 3 * stride), (427, 640)]:
        x = torch.rand(1, 3, h, w, generator=g) * 2 - 1
        with torch.no_grad():
            expected = _padded(net, x, stride)
        got = model.sample(condition=x)
        assert got.shape == x.shape and float((got - expected).abs().max()) <= 1e-5, (variant, h, w)


def test_sample_pix2pix_facades_label2photo_with_no_maintainer_action(tmp_path, hf_cache, monkeypatch) -> None:
    """`ganzoo sample pix2pix-facades-label2photo --input x.png`: the card pins no Hub revision, so the authors'
    file (a local server stands in for efrosgans.eecs.berkeley.edu; a small unet_256 in the published layout,
    legacy serialisation) is fetched, converted, cached, and the image translated as the original test.py does."""
    from ganzoo.testing.file_server import FileServer

    torch.manual_seed(0)
    net = ForeignUnet(ngf=2, num_downs=8, dropout=True)
    buf = io.BytesIO()
    torch.save(net.state_dict(), buf, _use_new_zipfile_serialization=False)
    src = tmp_path / "labels.png"
    Image.new("RGB", (300, 200), (40, 90, 200)).save(src)
    with FileServer() as server:
        server.add("/pix2pix/models-pytorch/facades_label2photo.pth", buf.getvalue())
        monkeypatch.setenv("GANZOO_SOURCE_MIRRORS", f"http://efrosgans.eecs.berkeley.edu/={server.url()}")
        result = CliRunner().invoke(cli, ["sample", "pix2pix-facades-label2photo", "--input", str(src), "-o",
                                          str(tmp_path / "photo.png")])
        assert result.exit_code == 0, result.output
        assert server.requests == ["/pix2pix/models-pytorch/facades_label2photo.pth"]
    assert Image.open(tmp_path / "photo.png").size == (300, 200)
    model = ganzoo.load("pix2pix-facades-label2photo")  # cached now: the server is gone
    assert model.config.direction == "BtoA" and model.config.inference_mode == "paper"
    x = torch.rand(1, 3, 256, 256, generator=torch.Generator().manual_seed(1)) * 2 - 1
    with torch.no_grad():  # the original test.py: train-mode batch norm on the image, dropout live, seeded
        net.train()
        torch.manual_seed(7)
        expected = net(x)
    assert float((model.sample(condition=x, seed=7) - expected).abs().max()) <= 1e-5
    out = json.loads(CliRunner().invoke(cli, ["list", "pix2pix-facades*", "--json"]).output)
    assert (out["models"][0]["weights"], out["models"][0]["status"]) == ("source", "cached")
