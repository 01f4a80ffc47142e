"""Scoring two-way translators on the Noto ↔ Twemoji emoji data with held-out ground truth (the shared-latent
ablation and the unit/xgan cards use it; ``python benchmarks/shared_latent_ablation.py`` runs it).

For each direction (Noto → Twemoji = AtoB, Twemoji → Noto = BtoA), every test image of the source style is
translated and compared with the same emoji drawn in the target style:

* **SSIM, L1, PSNR** against the ground truth (8-bit outputs as a PNG holds them, [0, 1] pixels, SSIM Gaussian
  window 11, σ 1.5) and **KID** of the outputs against the real test images of the target style on
  EfficientNet-Lite0 features — exactly the arithmetic of ``benchmarks/eval_i2i.py`` (its ``Scorer``), which
  scores the bundled CycleGAN;
* **label preservation**: the emoji's Unicode category (8 classes from emoji-datasource's ``emoji.json``: Smileys &
  Emotion, People & Body, Animals & Nature, Food & Drink, Travel & Places, Activities, Objects, Symbols) predicted
  from the translation by a classifier, compared with the source's true category. The classifier is a
  multinomial logistic regression (scikit-learn, C = 1) on EfficientNet-Lite0's 1,280-d ImageNet features,
  trained on the training images of *both* styles (1,200 emoji, disjoint from the test ones); it reads either
  style (its accuracy on the real test images of each style is reported beside it).

At a ``size`` below the data's 64 px, the test images, the ground truth and every output are resized to ``size``
(bilinear, antialiased) before scoring, so all rows of one table are measured at one resolution.
"""

from __future__ import annotations

import json
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from eval_i2i import Scorer  # noqa: E402  (the CycleGAN card's arithmetic, on purpose)

DATA = "data/emoji-noto2twemoji"
TWEMOJI_TGZ = "data/downloads/emoji-datasource-twitter-16.0.0.tgz"
CATEGORIES = ("Smileys & Emotion", "People & Body", "Animals & Nature", "Food & Drink", "Travel & Places",
              "Activities", "Objects", "Symbols")
SEED = 0

__all__ = ["EmojiTestSet", "LabelClassifier", "score_translator", "identity_rows", "category_map", "resize"]


def category_map(root: Path = ROOT) -> dict[str, str]:
    """Code point (file stem, lower case) → Unicode category, from emoji-datasource-twitter's ``emoji.json``."""
    path = root / TWEMOJI_TGZ
    if not path.is_file():
        raise SystemExit(f"{path} is missing: python scripts/fetch_emoji.py --only noto2twemoji")
    with tarfile.open(path) as tar:
        entries = json.load(tar.extractfile("package/emoji.json"))  # type: ignore[arg-type]
    out: dict[str, str] = {}
    for e in entries:
        for key in (e["image"][:-4], e["unified"], e.get("non_qualified") or ""):
            if key:
                out.setdefault(key.lower(), e["category"])
    return out


def resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """Images to ``size``² (bilinear, antialiased when shrinking), clamped to [-1, 1]."""
    if x.shape[-1] == size and x.shape[-2] == size:
        return x
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False,
                         antialias=x.shape[-1] > size).clamp(-1, 1)


def _stack(paths: list[Path]) -> torch.Tensor:
    from ganzoo.data import open_image, to_tensor

    return torch.stack([to_tensor(open_image(p, 3)) for p in paths])


@dataclass
class EmojiTestSet:
    """The paired test images (``a`` Noto, ``b`` Twemoji, the same emoji row by row), their categories, and the
    training images with categories (for the classifier), at ``size`` px."""

    a: torch.Tensor
    b: torch.Tensor
    labels: torch.Tensor  # category index per test emoji; -1 outside the 8 categories
    train_x: torch.Tensor
    train_labels: torch.Tensor
    names: list[str]
    size: int

    @classmethod
    def load(cls, size: int = 64, data: str = DATA) -> "EmojiTestSet":
        root = ROOT / data
        if not (root / "SOURCE.md").is_file():
            raise SystemExit(f"{root} is missing: python scripts/fetch_emoji.py --only noto2twemoji")
        cats = category_map()
        index = {c: i for i, c in enumerate(CATEGORIES)}

        def label(p: Path) -> int:
            return index.get(cats.get(p.stem.lower(), ""), -1)

        names = sorted(p.name for p in (root / "testA").glob("*.png"))
        a = _stack([root / "testA" / n for n in names])
        b = _stack([root / "testB" / n for n in names])
        train = sorted((root / "trainA").glob("*.png")) + sorted((root / "trainB").glob("*.png"))
        return cls(a=resize(a, size), b=resize(b, size),
                   labels=torch.tensor([label(root / "testA" / n) for n in names]),
                   train_x=_stack(train), train_labels=torch.tensor([label(p) for p in train]), names=names,
                   size=size)


def _fingerprint(data: str = DATA) -> str:
    text = (ROOT / data / "SOURCE.md").read_text(encoding="utf-8")
    return text.split("Fingerprint", 1)[-1].split("`")[1][:16]


def _cached_features(scorer: Scorer, images: torch.Tensor, key: str) -> np.ndarray:
    """EfficientNet features of fixed images, cached under runs/shared_latent/ (keyed by the data's fingerprint)."""
    path = ROOT / "runs" / "shared_latent" / f"features-{key}-{_fingerprint()}-{images.shape[0]}.npz"
    if path.is_file():
        return np.load(path)["features"]
    feats = scorer.features(images).numpy()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, features=feats)
    tmp.replace(path)
    return feats


class _MemoScorer(Scorer):
    """A :class:`Scorer` that remembers the features of the last batch it embedded: KID and the label classifier
    read the same (8-bit) outputs, so EfficientNet runs once per batch."""

    def __init__(self, image_size: int) -> None:
        super().__init__(image_size)
        self._last: tuple[torch.Tensor, torch.Tensor] | None = None

    def features(self, x: Any) -> Any:
        if self._last is not None and self._last[0].shape == x.shape and torch.equal(self._last[0], x):
            return self._last[1]
        feats = super().features(x)
        self._last = (x.clone(), feats)
        return feats


class LabelClassifier:
    """Emoji category from EfficientNet-Lite0 features (logistic regression trained on both styles' train images).

    The features of an image are computed at 224 px by the ``effnet`` extractor (the metrics' resizer), from the
    image at the table's resolution.
    """

    def __init__(self, test: EmojiTestSet, scorer: Scorer) -> None:
        from sklearn.linear_model import LogisticRegression

        self.scorer = scorer
        keep = test.train_labels >= 0
        feats = _cached_features(scorer, resize(test.train_x[keep], test.size), f"train-{test.size}px")
        self.clf = LogisticRegression(C=1.0, max_iter=2000).fit(feats, test.train_labels[keep].numpy())
        self.train_count = int(keep.sum())

    def predict(self, images: torch.Tensor) -> np.ndarray:
        return self.clf.predict(self.scorer.features(images).numpy())

    def accuracy(self, images: torch.Tensor, labels: torch.Tensor) -> float:
        keep = (labels >= 0).numpy()
        return float((self.predict(images)[keep] == labels.numpy()[keep]).mean())


class Bench:
    """The test set, the scorer, the classifier and the reference features of one resolution (built once)."""

    def __init__(self, size: int = 64) -> None:
        self.test = EmojiTestSet.load(size)
        self.scorer = _MemoScorer(size)
        self.classifier = LabelClassifier(self.test, self.scorer)
        self.ref = {"AtoB": self.scorer.features(self.test.b), "BtoA": self.scorer.features(self.test.a)}

    def score(self, outputs: torch.Tensor, direction: str) -> dict[str, Any]:
        """Scores of ``outputs`` (one per test image, in order) as translations in ``direction``."""
        from ganzoo.metrics.arithmetic import quantize

        t = self.test
        target = t.b if direction == "AtoB" else t.a
        out = quantize(resize(outputs.float().cpu(), t.size))  # what Scorer.score embeds: its features are reused
        res = self.scorer.score(out, target, self.ref[direction])
        res["labels"] = self.classifier.accuracy(out, t.labels)
        return res


def identity_rows(bench: Bench) -> dict[str, dict[str, Any]]:
    """The identity baseline (the input as its own translation), both directions."""
    return {"AtoB": bench.score(bench.test.a, "AtoB"), "BtoA": bench.score(bench.test.b, "BtoA")}


@torch.no_grad()
def score_translator(bench: Bench, model: Any) -> dict[str, dict[str, Any]]:
    """Translate the 64-px test images both ways with ``model`` (``sample(condition=, direction=)``), score at the
    bench's resolution: the model sees its own training resolution (the test images resized to its
    ``image_size`` first)."""
    from ganzoo.data import open_image, to_tensor

    root = ROOT / DATA
    size = int(model.config.image_size)
    out = {}
    for direction, folder in (("AtoB", "testA"), ("BtoA", "testB")):
        x = torch.stack([to_tensor(open_image(root / folder / n, 3)) for n in bench.test.names])
        y = model.sample(condition=resize(x, size).to(model.device), direction=direction).cpu()
        out[direction] = bench.score(y, direction)
    return out
