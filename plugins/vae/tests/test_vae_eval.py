"""``ganzoo eval`` on the vae plugin: the sample metrics and the reconstruction metrics of the test images."""

from __future__ import annotations

import numpy as np
import pytest

from ganzoo.metrics import evaluate
from ganzoo.testing import tiny_model


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    from ganzoo.data.digits import load_sklearn_digits, write_class_folders

    images, labels = load_sklearn_digits()
    root = tmp_path_factory.mktemp("digits")
    write_class_folders(images[300:500], labels[300:500], root / "test", indices=np.arange(300, 500))
    return root


def test_vae_reconstruction_metrics(digits, tmp_path, monkeypatch):
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))
    model = tiny_model("vae", image_size=16, channels=1, nz=3, hidden=16).eval()
    report = evaluate(model, digits, n=60, name="vae-test")
    names = [r.name for r in report.results]
    assert {"kid", "fid", "psnr", "ssim", "l1"} <= set(names)
    assert report["psnr"].protocol["pairs"] == 200
    assert report["psnr"].protocol["reconstructed"].startswith("impl.reconstruct")
