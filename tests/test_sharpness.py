"""The ``sharpness`` metric: its arithmetic (blur lowers it, noise raises it, contrast does not move it), its place
in the registry and the image plans (opt-in), and `ganzoo eval --metrics sharpness` end to end on a toy model."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner

import ganzoo
from ganzoo.cli import cli
from ganzoo.errors import DataError
from ganzoo.metrics import METRICS, evaluate, metric_names_for
from ganzoo.metrics.arithmetic import SHARPNESS_DEFINITION, image_sharpness, sharpness_ratio


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """scikit-learn digits as class folders: train/ 100 and test/ 80 images."""
    from ganzoo.data.digits import load_sklearn_digits, write_class_folders

    images, labels = load_sklearn_digits()
    root = tmp_path_factory.mktemp("digits")
    write_class_folders(images[:100], labels[:100], root / "train")
    write_class_folders(images[100:180], labels[100:180], root / "test", indices=np.arange(100, 180))
    return root


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))


def _strokes(n: int = 16, size: int = 32, seed: int = 0) -> torch.Tensor:
    """Random thick bright lines on black: digit-like test images in [-1, 1]."""
    g = torch.Generator().manual_seed(seed)
    x = -torch.ones(n, 1, size, size)
    for i in range(n):
        r, c = torch.randint(4, size - 12, (2,), generator=g).tolist()
        x[i, 0, r:r + 8, c:c + 3] = 1
        x[i, 0, r + 6:r + 9, c:c + 8] = 1
    return x


def test_image_sharpness_orders_blur_and_noise_and_ignores_contrast():
    x = _strokes()
    sharp = image_sharpness(x)
    blurred = image_sharpness(F.avg_pool2d(x, 3, 1, 1, count_include_pad=False))
    noisy = image_sharpness(x + 0.3 * torch.randn(x.shape, generator=torch.Generator().manual_seed(1)))
    assert sharp.shape == (16,) and sharp.dtype == torch.float64
    assert bool((blurred < sharp).all()) and bool((noisy > sharp).all())
    torch.testing.assert_close(image_sharpness(0.4 * x + 0.1), sharp)  # brightness and contrast do not matter
    # the definition, by hand, on one image: forward differences over the contrast
    one = x[0, 0].double()
    energy = (one[1:] - one[:-1]).pow(2).sum() + (one[:, 1:] - one[:, :-1]).pow(2).sum()
    assert float(sharp[0]) == pytest.approx(float(energy / (one - one.mean()).pow(2).sum()))
    assert image_sharpness(torch.zeros(2, 1, 8, 8)).tolist() == [0.0, 0.0]  # flat images: 0, no NaN


def test_sharpness_ratio():
    ref = image_sharpness(_strokes(seed=0))
    value, std, details = sharpness_ratio(ref, ref)
    assert value == pytest.approx(1.0) and std is None
    assert details["generated_count"] == details["reference_count"] == 16
    blur = image_sharpness(F.avg_pool2d(_strokes(seed=0), 3, 1, 1, count_include_pad=False))
    assert sharpness_ratio(blur, ref)[0] < 0.8
    with pytest.raises(DataError, match="all flat"):
        sharpness_ratio(ref, torch.zeros(3, dtype=torch.float64))
    with pytest.raises(DataError, match="at least one"):
        sharpness_ratio(ref[:0], ref)


def test_sharpness_is_registered_and_opt_in():
    info = METRICS["sharpness"]
    assert info.uses == "pixels" and not info.needs_extractor and "sharpness_definition" in info.protocol_keys
    assert set(info.tasks) == {"unconditional", "class-conditional", "reconstruction"}
    model = ganzoo.build("toygan", image_size=16, channels=1, seed=0).eval()
    assert "sharpness" not in metric_names_for(model, "digits")  # reads the reference pixels: only when asked


def test_evaluate_sharpness_against_the_reference(digits):
    """A toy GAN's samples against the real digits: the ratio of the two means, with the definition recorded; the
    reference itself scores 1."""
    model = ganzoo.build("toygan", image_size=16, channels=1, seed=0).eval()
    report = evaluate(model, str(digits), split="test", metrics="kid,sharpness", n=40, name="toygan", seed=0)
    result = report["sharpness"]
    assert result.protocol["sharpness_definition"] == SHARPNESS_DEFINITION
    assert result.details["reference_count"] == 80 and result.details["generated_count"] == 40
    assert result.value == pytest.approx(result.details["generated_mean"] / result.details["reference_mean"],
                                         rel=1e-4)
    # no extractor is loaded for sharpness alone; n_real subsets the reference the same way as the features
    alone = evaluate(model, str(digits), split="test", metrics="sharpness", n=40, n_real=50, name="toygan")
    assert alone["sharpness"].details["reference_count"] == 50 and alone["sharpness"].protocol["extractor"] is None


def test_eval_cli_sharpness(digits, tmp_path):
    folder = ganzoo.build("toygan", image_size=16, channels=1, seed=0).eval().save_pretrained(tmp_path / "toy")
    res = CliRunner().invoke(cli, ["eval", str(folder), "--data", str(digits), "--metrics", "sharpness", "-n", "20"])
    assert res.exit_code == 0, res.output
    assert "sharpness" in res.output and "--metrics sharpness" in res.output
