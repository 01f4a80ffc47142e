"""A small digit CNN, shipped with the package, as the feature network for digit-model metrics.

MNIST-FID practice: Inception features say little about 28×28 handwriting, and no Inception weights can be
downloaded offline, so FID/KID/IS for digit models use a classifier trained on real digits instead
(``notes/data.md`` §3c). Numbers computed with it are comparable only with numbers computed with the same
weights (``DIGIT_CLASSIFIER_SHA256``), never with published MNIST or Inception FIDs.

The weights were trained by ``scripts/train_digit_classifier.py`` on the OpenCV digits train split written by
``scripts/fetch_digits.py``; ``ganzoo/metrics/weights/README.md`` records the command, data and accuracy.

Example (``real`` and ``fake``: N×1×H×W tensors in [-1, 1], the generator convention)::

    from torchmetrics.image.kid import KernelInceptionDistance

    kid = KernelInceptionDistance(feature=DigitFeatures(), normalize=True, subset_size=100)
    kid.update((real + 1) / 2, real=True)
    kid.update((fake + 1) / 2, real=False)
    kid_mean, kid_std = kid.compute()
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn

from ..hub import sha256_file

__all__ = [
    "DIGIT_CLASSIFIER_SHA256",
    "WEIGHTS_PATH",
    "DigitClassifier",
    "DigitFeatures",
    "load_digit_classifier",
]

DIGIT_CLASSIFIER_SHA256 = (
    "bb1c118aa906d38d607cc616732a1dccdf07044a29679ab9b54974f34cc12f35"  # sha256 of weights/digit-classifier.safetensors
)
WEIGHTS_PATH = Path(__file__).resolve().parent / "weights" / "digit-classifier.safetensors"  # read at load time


def _conv_bn_relu(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class DigitClassifier(nn.Module):
    """Conv-BN-ReLU digit classifier: 32×32 grey in [-1, 1] → 10 logits, with 128-d penultimate features.

    Layout: ``[conv 32, pool] → [conv 64, conv 64, pool] → [conv 128, pool] → global average pool →
    fc 128 + BN + ReLU (the features) → dropout → fc 10``; 3×3 convolutions, 148 k parameters (598 kB of float32).

    Inputs of any size are resized to 32×32 (bilinear, antialiased when shrinking) and 3-channel inputs are
    turned grey by their channel mean, so 28×28 MNIST-layout digits (the training data) and 32×32 or RGB
    generator outputs can be fed directly. White digit on black background, as in MNIST.
    """

    input_size = 32  # side of the square the convolutions see
    num_features = 128  # width of `features` (torchmetrics reads this attribute)
    num_classes = 10

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _conv_bn_relu(1, 32),
            nn.MaxPool2d(2),  # 16×16
            _conv_bn_relu(32, 64),
            _conv_bn_relu(64, 64),
            nn.MaxPool2d(2),  # 8×8
            _conv_bn_relu(64, 128),
            nn.MaxPool2d(2),  # 4×4
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.embed = nn.Sequential(
            nn.Linear(128, self.num_features, bias=False), nn.BatchNorm1d(self.num_features), nn.ReLU(inplace=True)
        )
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(self.num_features, self.num_classes))

    def _prepare(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] not in (1, 3):
            raise ValueError(f"expected images of shape [N, 1 or 3, H, W], got {tuple(x.shape)}")
        if not x.is_floating_point():
            raise TypeError(f"expected a float tensor in [-1, 1], got {x.dtype}; use DigitFeatures for uint8 input")
        if x.shape[1] == 3:
            x = x.mean(dim=1, keepdim=True)
        if x.shape[-2:] != (self.input_size, self.input_size):
            shrink = x.shape[-2] > self.input_size or x.shape[-1] > self.input_size
            x = F.interpolate(
                x, size=(self.input_size, self.input_size), mode="bilinear", align_corners=False, antialias=shrink
            )
        return x

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Return the ``[N, 128]`` penultimate activations (after ReLU) for ``[N, C, H, W]`` images in [-1, 1]."""
        return self.embed(self.body(self._prepare(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``[N, 10]`` logits for ``[N, C, H, W]`` images in [-1, 1]."""
        return self.head(self.features(x))


def load_digit_classifier(device: str | torch.device = "cpu") -> DigitClassifier:
    """Load the shipped digit classifier, frozen and in eval mode.

    The file's sha256 is checked against `DIGIT_CLASSIFIER_SHA256` before anything is read, and the state
    dict is loaded strictly, so metrics are always computed with exactly the published network.

    Args:
        device (`str` or `torch.device`, *optional*, defaults to ``"cpu"``): where to put the network.

    Returns:
        `DigitClassifier`: in eval mode, every parameter with ``requires_grad=False``.

    Raises:
        FileNotFoundError: if the weights file is missing from the installation.
        ValueError: if the file's sha256 differs from `DIGIT_CLASSIFIER_SHA256`.

    Example:
        >>> net = load_digit_classifier()
        >>> net(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 10])
    """
    path = Path(WEIGHTS_PATH)
    if not path.is_file():
        raise FileNotFoundError(f"digit classifier weights not found at {path}; reinstall ganzoo")
    actual = sha256_file(path)
    if actual != DIGIT_CLASSIFIER_SHA256:
        raise ValueError(
            f"{path} has sha256 {actual}, expected {DIGIT_CLASSIFIER_SHA256}; the file is corrupt or was "
            "replaced. Reinstall ganzoo, or retrain with scripts/train_digit_classifier.py and update "
            "DIGIT_CLASSIFIER_SHA256 (scores then stop being comparable with earlier ones)"
        )
    net = DigitClassifier()
    net.load_state_dict(load_file(path), strict=True)
    net.requires_grad_(False)
    return net.eval().to(device)


class DigitFeatures(nn.Module):
    """Feature extractor for torchmetrics FID / KID / IS, backed by the shipped `DigitClassifier`.

    Inputs are ``[N, 1 or 3, H, W]`` tensors, as torchmetrics passes them through unchanged:

    * ``uint8`` in [0, 255]: the ``normalize=False`` convention (and what `InceptionScore` sends even with
      ``normalize=True``, since it converts to bytes itself);
    * floating point in [0, 1]: the ``normalize=True`` convention for FID / KID.

    ganzoo generators output [-1, 1]: pass ``(x + 1) / 2`` with ``normalize=True``, or
    ``((x + 1) * 127.5).round().to(torch.uint8)`` with ``normalize=False`` (which also quantises like a saved PNG).

    The module always stays in eval mode (``train()`` is a no-op), so the metric's own ``train()`` calls never
    switch BatchNorm to batch statistics. ``num_features`` is set, so `FrechetInceptionDistance` needs no dry run.

    Args:
        classifier (`DigitClassifier`, *optional*): defaults to `load_digit_classifier()`.
        logits (`bool`, *optional*, defaults to `False`):
            return the 10 class logits instead of the 128-d features (for `InceptionScore`, the
            "classifier IS" of digit models).

    Example:
        >>> from torchmetrics.image.fid import FrechetInceptionDistance
        >>> fid = FrechetInceptionDistance(feature=DigitFeatures(), normalize=True)
    """

    def __init__(self, classifier: DigitClassifier | None = None, *, logits: bool = False) -> None:
        super().__init__()
        self.classifier = classifier if classifier is not None else load_digit_classifier()
        self.logits = logits
        self.num_features = DigitClassifier.num_classes if logits else DigitClassifier.num_features
        self.train(False)

    def train(self, mode: bool = True) -> DigitFeatures:
        """Keep eval mode whatever ``mode`` says (BatchNorm must use its running statistics)."""
        return super().train(False)

    def forward(self, imgs: torch.Tensor) -> torch.Tensor:
        """Return ``[N, 128]`` features (or ``[N, 10]`` logits) for uint8 [0, 255] or float [0, 1] images."""
        dtype = next(self.classifier.parameters()).dtype  # follows metric.double() / .half()
        if imgs.dtype == torch.uint8:
            x = imgs.to(dtype) / 127.5 - 1.0
        elif imgs.is_floating_point():
            x = imgs.to(dtype) * 2.0 - 1.0
        else:
            raise TypeError(f"expected uint8 in [0, 255] or float in [0, 1], got {imgs.dtype}")
        return self.classifier(x) if self.logits else self.classifier.features(x)
