"""Foreign CycleGAN checkpoints (``ganzoo convert cyclegan``) and the published models served from their source.

"Foreign" means code that is not the authors' and differs from it in the ways real checkpoints do: instance norm
with affine parameters, batch norm with biased convolutions, zero or replicate padding in the residual blocks,
dropout, other attribute names, a state dict wrapped in a training checkpoint, tensors saved on a GPU. The foreign
generator is written here as its own ``nn.Module`` (from the ResNet layout, not from ganzoo.nn), saved, converted,
and its own forward pass is the reference: max |diff| ≤ 1e-5 through ``model.sample(condition=…)`` at several
sizes, odd ones included.

On a 427×640 image the foreign network itself returns 428×640 (its stride-2 layers round 427 up), so no
translator that keeps the input's size can equal it; what the original pipeline does is resize first. Under
``size_policy="pad"`` ganzoo equals the foreign network on the image reflection-padded to 428×640 and cropped back;
under ``size_policy="resize"`` it equals the original ``test.py`` preprocessing (resize to the training side,
translate, resize back), checked here against PIL's bicubic resampling.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from PIL import Image
from torch import nn

import ganzoo
from ganzoo.convert import convert_checkpoint
from ganzoo.errors import WeightsError

pytestmark = pytest.mark.usefixtures("one_thread")

SIZES = [(64, 64), (36, 52), (427, 640)]


class ForeignBlock(nn.Module):
    def __init__(self, dim: int, norm, padding: str, dropout: bool, bias: bool, attr: str) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(2):
            if padding == "zero":
                layers.append(nn.Conv2d(dim, dim, 3, padding=1, bias=bias))
            else:
                layers += [nn.ReflectionPad2d(1) if padding == "reflect" else nn.ReplicationPad2d(1),
                           nn.Conv2d(dim, dim, 3, bias=bias)]
            layers.append(norm(dim))
            if i == 0:
                layers.append(nn.ReLU(True))
                if dropout:
                    layers.append(nn.Dropout(0.5))
        self.attr = attr
        setattr(self, attr, nn.Sequential(*layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + getattr(self, self.attr)(x)


class ForeignResnet(nn.Module):
    """A ResNet generator as other code bases write it (options: see the module docstring)."""

    def __init__(self, *, ngf: int = 4, n_blocks: int = 2, norm: str = "instance", affine: bool = False,
                 padding: str = "reflect", dropout: bool = False, bias: bool | None = None,
                 block_attr: str = "conv_block", top: str = "model") -> None:
        super().__init__()

        def nl(c: int) -> nn.Module:
            return nn.BatchNorm2d(c) if norm == "batch" else nn.InstanceNorm2d(c, affine=affine)

        use_bias = (norm == "instance") if bias is None else bias
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(3, ngf, 7, bias=use_bias), nl(ngf), nn.ReLU(True)]
        for mult in (1, 2):
            layers += [nn.Conv2d(ngf * mult, ngf * mult * 2, 3, 2, 1, bias=use_bias), nl(ngf * mult * 2), nn.ReLU(True)]
        layers += [ForeignBlock(ngf * 4, nl, padding, dropout, use_bias, block_attr) for _ in range(n_blocks)]
        for mult in (4, 2):
            layers += [nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, 3, 2, 1, output_padding=1, bias=use_bias),
                       nl(ngf * mult // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7), nn.Tanh()]
        self.top = top
        setattr(self, top, nn.Sequential(*layers))
        with torch.no_grad():  # trained-looking norm parameters and statistics, so they matter
            g = torch.Generator().manual_seed(1)
            for m in self.modules():
                if isinstance(m, (nn.BatchNorm2d, nn.InstanceNorm2d)) and m.affine:
                    m.weight.copy_(1 + 0.3 * torch.randn(m.weight.shape, generator=g))
                    m.bias.copy_(0.2 * torch.randn(m.bias.shape, generator=g))
                if isinstance(m, nn.BatchNorm2d):
                    m.running_mean.copy_(0.1 * torch.randn(m.running_mean.shape, generator=g))
                    m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=g))
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return getattr(self, self.top)(x)


def _padded_reference(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The foreign network on the image reflection-padded to multiples of 4 (at least 8), cropped back."""
    h, w = x.shape[-2:]
    th, tw = max(8, -(-h // 4) * 4), max(8, -(-w // 4) * 4)
    top, left = (th - h) // 2, (tw - w) // 2
    y = net(F.pad(x, (left, tw - w - left, top, th - h - top), mode="reflect"))
    return y[..., top:top + h, left:left + w]


def _cuda_located(data: bytes) -> bytes:
    """Rewrite a zip checkpoint so its tensors say they were saved on cuda:0 (as a GPU run's file does)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            blob = src.read(info.filename)
            if info.filename.endswith("data.pkl"):
                assert b"X\x03\x00\x00\x00cpu" in blob
                blob = blob.replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0")
            dst.writestr(info.filename, blob)
    return out.getvalue()


def _save(obj, path: Path, *, cuda: bool = False) -> Path:
    buf = io.BytesIO()
    torch.save(obj, buf)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_cuda_located(buf.getvalue()) if cuda else buf.getvalue())
    return path


VARIANTS = {
    # affine instance norm, `block` for `conv_block`, wrapped as a training checkpoint, DataParallel prefix
    "affine-in": (dict(affine=True, block_attr="block"), "netG_state_dict", "module.", {}, {}),
    # batch norm with biased convolutions, zero padding, dropout; {"state_dict": …}; saved on a GPU
    "bn-bias-zero-dropout": (dict(norm="batch", bias=True, padding="zero", dropout=True), "state_dict", "", {}, {}),
    # replicate padding cannot be seen in the keys: --set says so; `main` for `model`
    "replicate": (dict(padding="replicate", top="main"), "model", "", {"padding_type": "replicate"}, {}),
    # names no alias knows: --rename
    "renamed": (dict(top="gen", block_attr="res"), None, "", {}, {"gen": "model", "res": "conv_block"}),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_foreign_generators_convert_exactly(variant, tmp_path) -> None:
    kwargs, wrapper, prefix, sets, renames = VARIANTS[variant]
    torch.manual_seed(0)
    net = ForeignResnet(**kwargs)
    state = {prefix + k: v for k, v in net.state_dict().items()}
    obj = {wrapper: state, "epoch": 12, "optimizer_G": {"lr": 2e-4}} if wrapper else state
    path = _save(obj, tmp_path / "ckpt.pth", cuda=variant == "bn-bias-zero-dropout")
    folder = convert_checkpoint("cyclegan", path, tmp_path / "out", renames=renames or None, license="mit",
                                source="https://example.org/ckpt.pth", **sets)
    model = ganzoo.load(str(folder))
    block = model.card.data.ganzoo
    assert model.card.data.license == "mit" and block["weights_license"] == "mit"
    assert block["converted_from"]["source"] == "https://example.org/ckpt.pth"
    assert len(block["converted_from"]["sha256"]) == 64
    g = torch.Generator().manual_seed(2)
    for h, w in SIZES:
        x = torch.rand(1, 3, h, w, generator=g) * 2 - 1
        with torch.no_grad():
            expected = _padded_reference(net, x)
        got = model.sample(condition=x)
        assert got.shape == x.shape
        assert float((got - expected).abs().max()) <= 1e-5, (variant, h, w)
    if variant == "replicate":  # the override mattered: the guess (reflect) gives another output
        other = ganzoo.load(str(convert_checkpoint("cyclegan", path, tmp_path / "guess")))
        x = torch.rand(1, 3, 32, 32, generator=g) * 2 - 1
        with torch.no_grad():
            assert float((other.sample(condition=x) - net(x)).abs().max()) > 1e-3
        assert "read from the file: reflect" in block["converted_from"]["overrides"]["padding_type"]


def test_what_reproduces_the_original_on_a_427x640_image(tmp_path) -> None:
    """Run directly, the network returns 428×640; the original test.py resizes to its training side first, and
    size_policy=resize reproduces that pipeline (PIL bicubic here, torch's antialiased bicubic in ganzoo)."""
    torch.manual_seed(0)
    net = ForeignResnet(affine=True)
    path = _save(net.state_dict(), tmp_path / "g.pth")
    x = torch.rand(1, 3, 427, 640, generator=torch.Generator().manual_seed(3)) * 2 - 1
    with torch.no_grad():
        assert net(x).shape[-2:] == (428, 640)
    model = ganzoo.load(str(convert_checkpoint("cyclegan", path, tmp_path / "r", size_policy="resize",
                                               image_size=64)))
    assert model.card.data.ganzoo["input"]["policy"] == "resize"

    def pil_resize(t: torch.Tensor, h: int, w: int) -> torch.Tensor:
        chans = [np.asarray(Image.fromarray(c.numpy(), mode="F").resize((w, h), Image.BICUBIC)) for c in t[0]]
        return torch.from_numpy(np.stack(chans))[None].clamp(-1, 1)

    with torch.no_grad():
        expected = pil_resize(net(pil_resize(x, 64, 64)), 427, 640)
    got = model.sample(condition=x)
    assert got.shape == x.shape and float((got - expected).abs().max()) <= 1e-4


def test_wrapped_checkpoints_need_a_key_when_ambiguous(tmp_path) -> None:
    net = ForeignResnet()
    path = _save({"G_A": net.state_dict(), "G_B": net.state_dict()}, tmp_path / "both.pth")
    with pytest.raises(WeightsError, match="several state dicts .*--key"):
        convert_checkpoint("cyclegan", path, tmp_path / "o")
    folder = convert_checkpoint("cyclegan", path, tmp_path / "o2", key="G_B")
    assert ganzoo.load(str(folder)).card.data.ganzoo["converted_from"]["unwrapped"] == "G_B"
    with pytest.raises(WeightsError, match="has no entry 'netG'"):
        convert_checkpoint("cyclegan", path, tmp_path / "o3", key="netG")


def test_cli_convert_with_key_rename_set_license_source(tmp_path) -> None:
    from ganzoo.cli import cli

    net = ForeignResnet(padding="replicate", top="gen", block_attr="res")
    path = _save({"weights_G": net.state_dict(), "weights_D": {}}, tmp_path / "c.pth")
    out = tmp_path / "conv"
    result = CliRunner().invoke(cli, ["convert", "cyclegan", str(path), str(out), "--key", "weights_G",
                                      "--rename", "gen=model", "--rename", "res=conv_block",
                                      "--set", "padding_type=replicate", "--license", "cc-by-4.0",
                                      "--source", "pypi:some-pkg==1.0:some_pkg/c.pth"])
    assert result.exit_code == 0, result.output
    model = ganzoo.load(str(out))
    x = torch.rand(1, 3, 40, 24) * 2 - 1
    assert float((model.sample(condition=x) - net(x)).abs().max()) <= 1e-5
    record = model.card.data.ganzoo["converted_from"]
    assert record["renames"] == {"gen": "model", "res": "conv_block"} and record["source"].startswith("pypi:")
    assert model.card.data.license == "cc-by-4.0"
    bad = CliRunner().invoke(cli, ["convert", "cyclegan", str(path), str(tmp_path / "x"), "--rename", "=model"])
    assert bad.exit_code != 0 and "OLD=NEW" in bad.output


# -- the published models, served from the authors' URL (a local server plays it) ------------------------------


def test_load_cyclegan_horse2zebra_with_no_maintainer_action(tmp_path, hf_cache, monkeypatch, caplog) -> None:
    """The mission's example: the card pins no Hub revision, so ganzoo fetches the authors' file (here from a local
    server standing in for efrosgans.eecs.berkeley.edu), records its sha256, converts, caches; then offline."""
    import logging

    from test_cyclegan import original_resnet_state, reference_forward

    from ganzoo.cli import cli
    from ganzoo.testing.file_server import FileServer

    state = original_resnet_state()  # the published file's 117 tensors (InstanceNorm stray statistics included)
    buf = io.BytesIO()
    torch.save(state, buf, _use_new_zipfile_serialization=False)  # legacy serialisation, as the 2018 files
    with FileServer() as server:
        server.add("/cyclegan/pretrained_models/horse2zebra.pth", buf.getvalue())
        monkeypatch.setenv("GANZOO_SOURCE_MIRRORS", f"http://efrosgans.eecs.berkeley.edu/={server.url()}")
        with caplog.at_level(logging.WARNING, logger="ganzoo.sources"):
            model = ganzoo.load("cyclegan-horse2zebra")
        assert server.requests == ["/cyclegan/pretrained_models/horse2zebra.pth"]
        assert any("trust on first use" in r.getMessage() for r in caplog.records)
        x = torch.rand(2, 3, 48, 36) * 2 - 1
        assert float((model.sample(condition=x) - reference_forward(state, x, 9)).abs().max()) <= 1e-5
        assert model.card.data.ganzoo["tag"] == "horse2zebra" and set(model.loaded_components) == {"G_AB"}
        out = json.loads(CliRunner().invoke(cli, ["list", "cyclegan-horse2zebra", "--json"]).output)
        assert out["models"][0]["weights"] == "source" and out["models"][0]["status"] == "cached"
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # the server is gone and the machine offline
    again = ganzoo.load("cyclegan-horse2zebra")
    assert torch.equal(again.sample(condition=x), model.sample(condition=x))


def test_onnx_export_of_a_converted_generator_and_its_example(tmp_path) -> None:
    """A foreign generator → ganzoo → ONNX: onnxruntime reproduces the foreign code at any batch and size, and the
    example script (onnxruntime + numpy + Pillow) translates an image as `ganzoo sample` does."""
    import subprocess
    import sys

    onnxruntime = pytest.importorskip("onnxruntime")
    from ganzoo.export import export_model

    torch.manual_seed(0)
    net = ForeignResnet(affine=True)
    folder = convert_checkpoint("cyclegan", _save(net.state_dict(), tmp_path / "g.pth"), tmp_path / "m")
    result = export_model(str(folder), tmp_path / "onnx")
    assert set(result.files) == {"G_AB"} and result.max_abs_diff["G_AB"] <= 1e-4
    session = onnxruntime.InferenceSession(str(result.files["G_AB"]), providers=["CPUExecutionProvider"])
    for shape in [(1, 3, 64, 48), (2, 3, 36, 52)]:
        x = torch.rand(*shape) * 2 - 1
        with torch.no_grad():
            assert np.abs(session.run(None, {"input": x.numpy()})[0] - net(x).numpy()).max() <= 1e-4
    src = tmp_path / "in.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (45, 67, 3), dtype=np.uint8)).save(src)
    proc = subprocess.run([sys.executable, str(tmp_path / "onnx" / "example.py"), str(src), "-o",
                           str(tmp_path / "onnx.png")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert CliRunner().invoke(_cli(), ["sample", str(folder), "--input", str(src), "-o",
                                       str(tmp_path / "torch.png")]).exit_code == 0
    a = np.asarray(Image.open(tmp_path / "onnx.png"), dtype=int)
    b = np.asarray(Image.open(tmp_path / "torch.png"), dtype=int)
    assert a.shape == b.shape == (45, 67, 3) and np.abs(a - b).max() <= 1


def _cli():
    from ganzoo.cli import cli

    return cli
