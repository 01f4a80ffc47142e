"""``ganzoo export``: every inference network as ONNX (checked with onnxruntime), TorchScript or torch.export, on
the toy plugins (a generator, a conditional generator, translators, an auto-encoder); the exported programs run at
other batch sizes (and, for translators, other sizes) and match PyTorch; ``example.py`` runs with onnxruntime, numpy
and Pillow only and reproduces ``ganzoo sample``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import ganzoo
from ganzoo.errors import UsageError, WeightsError
from ganzoo.export import TOLERANCE, export_model

onnxruntime = pytest.importorskip("onnxruntime", reason="ONNX export needs the 'export' extra")


@pytest.fixture
def folder(tmp_path):
    def make(name: str) -> str:
        return str(ganzoo.build(name, seed=0).save_pretrained(tmp_path / f"{name}-model"))
    return make


@pytest.mark.parametrize("fmt", ["onnx", "torchscript", "torch.export"])
@pytest.mark.parametrize("name, networks", [("toygan", {"G"}), ("toycond", {"G"}), ("toyunpair", {"G_AB", "G_BA"}),
                                            ("toyae", {"E", "G"})])
def test_every_inference_network_exports_and_matches_pytorch(name, networks, fmt, folder, tmp_path) -> None:
    result = export_model(folder(name), tmp_path / "out", format=fmt)
    assert set(result.files) == networks
    manifest = json.loads((tmp_path / "out" / "export.json").read_text())
    for comp, path in result.files.items():
        assert path.is_file() and path.suffix == {"onnx": ".onnx", "torchscript": ".pt", "torch.export": ".pt2"}[fmt]
        net = manifest["networks"][comp]
        assert 0 <= result.max_abs_diff[comp] <= TOLERANCE and net["max_abs_diff"] == result.max_abs_diff[comp]
        assert net["inputs"][0]["shape"][0] == "batch" and len(net["checked_inputs"]) == 3
        batch_sizes = {shapes[0][0] for shapes in net["checked_inputs"]}
        assert len(batch_sizes) == 3  # the recorded batch and two others
        if name == "toyunpair":
            assert net["inputs"][0]["shape"][2:] == ["height", "width"]
            assert len({tuple(s[0][2:]) for s in net["checked_inputs"]}) == 2  # another height and width too
    readme = (tmp_path / "out" / "README.md").read_text()
    assert "## Export" in readme and f"--format {fmt}" in readme
    assert (tmp_path / "out" / "example.py").is_file() == (fmt == "onnx")


def test_onnx_runs_at_any_batch_and_size_in_onnxruntime(folder, tmp_path) -> None:
    model_dir = folder("toyunpair")
    export_model(model_dir, tmp_path / "out")
    session = onnxruntime.InferenceSession(str(tmp_path / "out" / "G_AB.onnx"), providers=["CPUExecutionProvider"])
    model = ganzoo.load(model_dir)
    for shape in [(1, 1, 8, 8), (5, 1, 24, 36), (2, 1, 13, 7)]:
        x = torch.rand(*shape) * 2 - 1
        y = session.run(None, {"input": x.numpy()})[0]
        with torch.no_grad():
            assert np.abs(y - model.G_AB(x).numpy()).max() <= TOLERANCE


def _run_example(folder: Path, *args: str) -> None:
    proc = subprocess.run([sys.executable, str(folder / "example.py"), *args], capture_output=True, text=True,
                          timeout=120, cwd=folder)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_example_translates_like_ganzoo_sample(folder, tmp_path) -> None:
    from ganzoo.cli import cli

    model_dir = folder("toypair")
    export_model(model_dir, tmp_path / "out")
    src = tmp_path / "in.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (21, 30), dtype=np.uint8), mode="L").save(src)
    _run_example(tmp_path / "out", str(src), "-o", str(tmp_path / "onnx.png"))
    result = CliRunner().invoke(cli, ["sample", model_dir, "--input", str(src), "-o", str(tmp_path / "torch.png")])
    assert result.exit_code == 0, result.output
    a = np.asarray(Image.open(tmp_path / "onnx.png"), dtype=int)
    b = np.asarray(Image.open(tmp_path / "torch.png"), dtype=int)
    assert a.shape == b.shape == (21, 30) and np.abs(a - b).max() <= 1  # uint8 rounding only


def test_example_samples_conditional_generators(folder, tmp_path) -> None:
    model_dir = folder("toycond")
    export_model(model_dir, tmp_path / "out")
    recipe = json.loads((tmp_path / "out" / "export.json").read_text())["networks"]["G"]["recipe"]
    assert recipe["kind"] == "latent" and recipe["labels"] == {"num_classes": 3, "one_hot": "after"}
    _run_example(tmp_path / "out", "-n", "6", "--label", "2", "-o", str(tmp_path / "grid.png"))
    grid = Image.open(tmp_path / "grid.png")
    assert grid.size == (3 * 10 + 2, 2 * 10 + 2)  # 6 images of 8 px in a 3×2 grid with 2-px gaps


def test_refusals(folder, tmp_path, monkeypatch) -> None:
    model_dir = folder("toygan")
    with pytest.raises(UsageError, match="unknown export format"):
        export_model(model_dir, tmp_path / "a", format="tflite")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("keep me")
    with pytest.raises(UsageError, match="not empty"):
        export_model(model_dir, tmp_path / "full")
    assert (tmp_path / "full" / "x").read_text() == "keep me"
    monkeypatch.setattr("ganzoo.export.TOLERANCE", -1.0)
    with pytest.raises(WeightsError, match="differs from PyTorch by .* not written"):
        export_model(model_dir, tmp_path / "strict")
    assert not (tmp_path / "strict" / "G.onnx").exists()


def test_missing_onnx_says_how_to_install(folder, tmp_path, monkeypatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_onnx(name, *args, **kwargs):
        if name == "onnx":
            raise ImportError("no onnx", name="onnx")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnx)
    with pytest.raises(UsageError, match=r"pip install 'ganzoo\[export\]'"):
        export_model(folder("toygan"), tmp_path / "o")


def test_cli_export(folder, tmp_path) -> None:
    from ganzoo.cli import cli

    result = CliRunner().invoke(cli, ["export", folder("toyunpair"), "--format", "torchscript", "-o",
                                      str(tmp_path / "ts")])
    assert result.exit_code == 0, result.output
    assert "G_AB:" in result.output and "max |diff| vs PyTorch" in result.output
    loaded = torch.jit.load(str(tmp_path / "ts" / "G_AB.pt"))
    assert loaded(torch.rand(2, 1, 12, 16) * 2 - 1).shape == (2, 1, 12, 16)
    bad = CliRunner().invoke(cli, ["export", folder("toygan"), "--format", "tflite", "-o", str(tmp_path / "x")])
    assert bad.exit_code != 0 and "tflite" in bad.output
