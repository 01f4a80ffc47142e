"""Tests for the offline digit datasets (ganzoo.data.digits) and the shipped digit classifier."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganzoo.data import digits as gd

torch = pytest.importorskip("torch")
dc = pytest.importorskip("ganzoo.metrics.digit_classifier")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sk_digits() -> tuple[np.ndarray, np.ndarray]:
    pytest.importorskip("sklearn")
    return gd.load_sklearn_digits()


@pytest.fixture(scope="module")
def classifier() -> dc.DigitClassifier:
    return dc.load_digit_classifier()


def _to_unit(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).float().div(255).unsqueeze(1)


# --- datasets -----------------------------------------------------------------------------------------------


def test_sklearn_digits_layout(sk_digits: tuple[np.ndarray, np.ndarray]) -> None:
    """1797 uint8 28x28 images, digit inside the central 20x20 box, labels 0..9 with ~180 each."""
    images, labels = sk_digits
    assert images.shape == (1797, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (1797,) and labels.dtype == np.int64
    assert images[:, :4].max() == 0 and images[:, -4:].max() == 0
    assert images[:, :, :4].max() == 0 and images[:, :, -4:].max() == 0
    assert images.max() == 255
    counts = np.bincount(labels, minlength=10)
    assert counts.min() >= 170 and counts.sum() == 1797


def test_opencv_digits_grid_and_hash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A synthetic 2000x1000 sheet: cells come out in row-major order, padded, with 500 labels per class."""
    grid = np.zeros((1000, 2000), dtype=np.uint8)
    for row in range(50):
        for col in range(100):
            grid[row * 20 : (row + 1) * 20, col * 20 : (col + 1) * 20] = (row * 100 + col) % 251
    path = tmp_path / "digits.png"
    Image.fromarray(grid).save(path)
    with pytest.raises(ValueError, match="digits.png has sha256"):
        gd.load_opencv_digits(path)
    monkeypatch.setattr(gd, "DIGITS_PNG_SHA256", hashlib.sha256(path.read_bytes()).hexdigest())
    images, labels = gd.load_opencv_digits(path)
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    np.testing.assert_array_equal(labels, np.repeat(np.arange(10), 500))
    for index in (0, 1, 99, 100, 4999):
        assert (images[index, 4:24, 4:24] == index % 251).all()
    assert images[:, :4].max() == 0 and images[:, :, 24:].max() == 0
    with pytest.raises(FileNotFoundError):
        gd.load_opencv_digits(tmp_path / "missing.png")


def test_opencv_digits_real_file() -> None:
    """The real sheet, where scripts/fetch_digits.py has been run in this checkout."""
    path = REPO / "data" / "digits" / "digits.png"
    if not path.is_file():
        pytest.skip("run scripts/fetch_digits.py --out data/digits first")
    images, labels = gd.load_opencv_digits(path)
    assert images.shape == (5000, 28, 28) and np.bincount(labels).tolist() == [500] * 10


def test_split_is_deterministic_and_stratified(sk_digits: tuple[np.ndarray, np.ndarray]) -> None:
    images, labels = sk_digits
    (xtr, ytr), (xte, yte) = gd.split_digits(images, labels, test_per_class=20, seed=3)
    (xtr2, _), (xte2, yte2) = gd.split_digits(images, labels, test_per_class=20, seed=3)
    np.testing.assert_array_equal(xte, xte2)
    np.testing.assert_array_equal(xtr, xtr2)
    np.testing.assert_array_equal(yte, yte2)
    assert np.bincount(yte).tolist() == [20] * 10
    assert len(ytr) + len(yte) == len(labels)
    np.testing.assert_array_equal(np.bincount(ytr) + np.bincount(yte), np.bincount(labels))
    # Positions: disjoint, together all, and a different seed picks a different test set.
    (ptr, _), (pte, _) = gd.split_digits(np.arange(len(labels)), labels, test_per_class=20, seed=3)
    assert not set(ptr) & set(pte) and len(set(ptr) | set(pte)) == len(labels)
    (_, _), (pte4, _) = gd.split_digits(np.arange(len(labels)), labels, test_per_class=20, seed=4)
    assert set(pte4) != set(pte)
    with pytest.raises(ValueError, match="fewer than test_per_class"):
        gd.split_digits(images, labels, test_per_class=1000, seed=0)


def test_write_class_folders_round_trip(tmp_path: Path, sk_digits: tuple[np.ndarray, np.ndarray]) -> None:
    images, labels = sk_digits[0][:30], sk_digits[1][:30]
    assert gd.write_class_folders(images, labels, tmp_path / "out") == 30
    files = sorted((tmp_path / "out").rglob("*"))
    pngs = [f for f in files if f.is_file()]
    assert len(pngs) == 30 and not [f for f in pngs if f.name.startswith(".tmp")]
    for index in (0, 7, 29):
        path = tmp_path / "out" / str(labels[index]) / f"{index:05d}.png"
        with Image.open(path) as im:
            assert im.mode == "L"
            np.testing.assert_array_equal(np.asarray(im), images[index])
    gd.write_class_folders(images[:2], labels[:2], tmp_path / "idx", indices=np.array([100, 200]))
    assert (tmp_path / "idx" / str(labels[1]) / "00200.png").is_file()


# --- classifier ---------------------------------------------------------------------------------------------


def test_classifier_is_frozen_and_verified(classifier: dc.DigitClassifier) -> None:
    assert not classifier.training
    assert not any(p.requires_grad for p in classifier.parameters())
    digest = hashlib.sha256(Path(dc.WEIGHTS_PATH).read_bytes()).hexdigest()
    assert digest == dc.DIGIT_CLASSIFIER_SHA256
    assert Path(dc.WEIGHTS_PATH).stat().st_size < 1_000_000


def test_corrupted_weights_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "digit-classifier.safetensors"
    shutil.copyfile(dc.WEIGHTS_PATH, bad)
    blob = bytearray(bad.read_bytes())
    blob[-1] ^= 0xFF  # flip one weight byte; the header still parses
    bad.write_bytes(bytes(blob))
    monkeypatch.setattr(dc, "WEIGHTS_PATH", bad)
    with pytest.raises(ValueError, match="sha256"):
        dc.load_digit_classifier()
    monkeypatch.setattr(dc, "WEIGHTS_PATH", tmp_path / "missing.safetensors")
    with pytest.raises(FileNotFoundError):
        dc.load_digit_classifier()


def test_accuracy_on_sklearn_digits(classifier: dc.DigitClassifier, sk_digits: tuple[np.ndarray, np.ndarray]) -> None:
    """Trained on OpenCV digits only; scikit-learn's digits are another dataset. Measured: 0.9126."""
    images, labels = sk_digits
    with torch.no_grad():
        pred = classifier(_to_unit(images) * 2 - 1).argmax(1)
    accuracy = (pred == torch.from_numpy(labels)).float().mean().item()
    assert accuracy >= 0.85, accuracy


def test_input_shapes_and_features(classifier: dc.DigitClassifier, sk_digits: tuple[np.ndarray, np.ndarray]) -> None:
    x = _to_unit(sk_digits[0][:8]) * 2 - 1
    with torch.no_grad():
        feats = classifier.features(x)
        assert feats.shape == (8, 128) and (feats >= 0).all()
        assert classifier(x).shape == (8, 10)
        assert classifier(x.repeat(1, 3, 1, 1)).shape == (8, 10)  # RGB: grey by channel mean
        assert classifier(torch.nn.functional.interpolate(x, size=64)).shape == (8, 10)
        torch.testing.assert_close(classifier.features(x.repeat(1, 3, 1, 1)), feats)
    with pytest.raises(ValueError, match="shape"):
        classifier(torch.zeros(2, 2, 28, 28))


def test_digit_features_input_conventions(
    classifier: dc.DigitClassifier, sk_digits: tuple[np.ndarray, np.ndarray]
) -> None:
    """uint8 [0, 255] and float [0, 1] give the same features; train() keeps eval mode."""
    extractor = dc.DigitFeatures(classifier)
    extractor.train()
    assert not extractor.classifier.training and extractor.num_features == 128
    u8 = torch.from_numpy(sk_digits[0][:8]).unsqueeze(1)
    with torch.no_grad():
        torch.testing.assert_close(extractor(u8), extractor(u8.float() / 255), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(extractor(u8.float() / 255), classifier.features(u8.float() / 127.5 - 1))
        assert dc.DigitFeatures(classifier, logits=True)(u8).shape == (8, 10)


@pytest.mark.filterwarnings("ignore:Metric `Kernel Inception Distance` will save all extracted features")
def test_kid_and_fid_with_digit_features(
    classifier: dc.DigitClassifier, sk_digits: tuple[np.ndarray, np.ndarray]
) -> None:
    """Real vs real is near zero; real vs noise is far larger. Inputs: generator-style [-1, 1] -> (x + 1) / 2."""
    kid_mod = pytest.importorskip("torchmetrics.image.kid")
    fid_mod = pytest.importorskip("torchmetrics.image.fid")
    images = _to_unit(sk_digits[0]) * 2 - 1  # as a generator would output
    real_a, real_b = images[0:400:2], images[1:400:2]
    noise = torch.rand(200, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1

    def kid(fake: torch.Tensor) -> float:
        torch.manual_seed(0)
        metric = kid_mod.KernelInceptionDistance(
            feature=dc.DigitFeatures(classifier), normalize=True, subsets=20, subset_size=100
        )
        metric.update((real_a + 1) / 2, real=True)
        metric.update((fake + 1) / 2, real=False)
        return metric.compute()[0].item()

    # Measured: 0.36 (std 0.10 over subsets) vs 732. With 128-d features the kernel's 1/d is 16x Inception's,
    # so these KIDs are on another scale than Inception KIDs; compare them only with each other.
    same, different = kid(real_b), kid(noise)
    assert same < 2.0 and different > 200.0 and different > 100 * abs(same), (same, different)

    fid = fid_mod.FrechetInceptionDistance(feature=dc.DigitFeatures(classifier), normalize=True)
    fid.update((real_a + 1) / 2, real=True)
    fid.update((real_b + 1) / 2, real=False)
    fid_same = fid.compute().item()
    fid.reset()
    fid.update((real_a + 1) / 2, real=True)
    fid.update((noise + 1) / 2, real=False)
    assert fid.compute().item() > 10 * fid_same  # measured: 16.2 vs 821
