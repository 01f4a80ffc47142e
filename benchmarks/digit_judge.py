"""An independent judge of digit samples: would a classifier that is *not* the project's call them digits?

The comparison's KID/FID, classifier IS and coverage all read the shipped digit CNN (``ganzoo.metrics``), so a
generator could in principle please that one network. This judge shares neither its architecture nor its
training split nor its seed:

* architecture: scikit-learn's ``MLPClassifier`` (one hidden layer of 256 ReLU units, L2 1e-3, Adam) on 16×16
  pixels (the 32×32 image 2×2-average-pooled) — no convolutions;
* data: the OpenCV digits' train split (``data/digits/train``), less a held-out 500 (50 per class — a fifth of
  the smallest class for smaller sets — chosen with ``--judge-seed``) on which a temperature is fitted so that
  its confidence is calibrated on real digits (the temperature that minimises the held-out negative
  log-likelihood);
* reported on real data: accuracy and mean confidence on the test split, the reference a generator is held to.

For generated images it reports the mean confidence (mean over samples of the largest class probability) and the
share of samples given to each class (a collapsed or unbalanced generator shows as a small ``min class share``).
Images are read and resized exactly like the metrics' (``ImageFolderDataset`` at 32×32, bilinear; samples at
another size are resized bilinearly with antialiasing), quantised to 8 bits first.

    python benchmarks/digit_judge.py                         # the judge on real test digits and the bundled models
    python benchmarks/digit_judge.py --model runs/dcgan-digits -n 1000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

JUDGE_SEED = 1  # the project's digit classifier was trained with seed 0
HOLDOUT_PER_CLASS = 50
SIZE = 32  # images are read / resized to this side, then pooled to 16×16 for the MLP
DESCRIPTION = ("scikit-learn MLPClassifier (256 ReLU units, L2 1e-3) on 16×16 pixels, trained on the OpenCV "
               "digits train split less 500 held-out images (temperature-calibrated on those), seed {seed}")


def _pixels(images: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) images in [-1, 1] → the MLP's inputs: 8-bit quantised, grey, 32×32, 2×2-pooled, flattened."""
    from ganzoo.metrics import quantize

    x = (quantize(images.detach().cpu()) + 1) / 2
    if x.shape[1] == 3:
        x = x.mean(1, keepdim=True)
    if x.shape[-1] != SIZE or x.shape[-2] != SIZE:
        x = F.interpolate(x, size=(SIZE, SIZE), mode="bilinear", antialias=True, align_corners=False)
    return F.avg_pool2d(x, 2).flatten(1).double().numpy()


def read_split(data: str | Path, split: str) -> tuple[torch.Tensor, np.ndarray]:
    """The labelled images of ``data/<split>`` as (N, 1, 32, 32) in [-1, 1] and their digit labels."""
    from ganzoo.data.datasets import ImageFolderDataset

    ds = ImageFolderDataset(data, image_size=SIZE, channels=1, labels=True, split=split, augment=False)
    images = torch.stack([ds[i]["image"] for i in range(len(ds))])
    labels = np.array([int(ds.classes[t]) for t in ds.targets])
    return images, labels


def _softmax(logp: np.ndarray, temperature: float) -> np.ndarray:
    z = logp / temperature
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


@dataclass
class DigitJudge:
    """A trained, calibrated judge (make one with :meth:`train`)."""

    mlp: Any
    temperature: float
    seed: int
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def train(cls, data: str | Path = "data/digits", *, seed: int = JUDGE_SEED) -> "DigitJudge":
        """Fit the MLP on the train split less a stratified held-out set, then the temperature on that set."""
        from sklearn.neural_network import MLPClassifier

        t0 = time.perf_counter()
        x, y = read_split(data, "train")
        rng = np.random.default_rng(seed)
        per_class = min(HOLDOUT_PER_CLASS, int(np.bincount(y, minlength=10).min()) // 5)  # small sets: a fifth
        if per_class < 1:
            raise SystemExit(f"error: {data}/train needs at least 5 images of every digit for the judge")
        held = np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in range(10)])
        fit = np.setdiff1d(np.arange(len(y)), held)
        px = _pixels(x)
        mlp = MLPClassifier((256,), alpha=1e-3, max_iter=300, random_state=seed).fit(px[fit], y[fit])
        logp = np.log(np.clip(mlp.predict_proba(px[held]), 1e-12, None))
        grid = np.exp(np.linspace(np.log(0.25), np.log(8.0), 121))
        nll = [-np.log(_softmax(logp, t)[np.arange(len(held)), y[held]] + 1e-12).mean() for t in grid]
        temperature = float(grid[int(np.argmin(nll))])
        judge = cls(mlp, temperature, seed)
        xt, yt = read_split(data, "test")
        p = judge.proba(xt)
        judge.info = {"description": DESCRIPTION.format(seed=seed), "train_images": int(len(fit)),
                      "calibration_images": int(len(held)), "temperature": round(temperature, 3),
                      "test_images": int(len(yt)), "test_accuracy": round(float((p.argmax(1) == yt).mean()), 4),
                      "test_confidence": round(float(p.max(1).mean()), 4), "fit_s": round(time.perf_counter() - t0, 1)}
        return judge

    def proba(self, images: torch.Tensor) -> np.ndarray:
        """Calibrated class probabilities (N, 10) for (N, C, H, W) images in [-1, 1]."""
        logp = np.log(np.clip(self.mlp.predict_proba(_pixels(images)), 1e-12, None))
        return _softmax(logp, self.temperature)

    def judge(self, images: torch.Tensor) -> dict[str, Any]:
        """Mean confidence, the share of confident samples (≥ 0.9), and each class's share of the samples."""
        p = self.proba(images)
        share = np.bincount(p.argmax(1), minlength=10) / len(p)
        conf = p.max(1)
        return {"n": int(len(p)), "confidence": round(float(conf.mean()), 4),
                "confident_share": round(float((conf >= 0.9).mean()), 4),
                "min_class_share": round(float(share.min()), 4),
                "class_share": {str(c): round(float(s), 4) for c, s in enumerate(share)}}


def samples(model: Any, n: int, seed: int) -> torch.Tensor:
    """``n`` samples as the comparison draws them (class-conditional models: balanced labels i mod K)."""
    with torch.no_grad():
        if model.task.name == "class-conditional":
            return model.sample(n, condition=torch.arange(n) % model.config.num_classes, seed=seed)
        return model.sample(n, seed=seed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", default=[], help="model id or folder (repeatable)")
    parser.add_argument("--data", default="data/digits")
    parser.add_argument("-n", type=int, default=1000, help="samples per model")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed")
    parser.add_argument("--judge-seed", type=int, default=JUDGE_SEED)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    if not (Path(args.data) / "train").is_dir():
        print(f"error: {args.data} is missing: run `python scripts/fetch_digits.py --out {args.data}`", file=sys.stderr)
        return 1
    torch.set_num_threads(1)
    import ganzoo

    judge = DigitJudge.train(args.data, seed=args.judge_seed)
    print(json.dumps(judge.info))
    names = args.model or ["gan-digits", "dcgan-digits", "autoencoder-digits", "vae-digits", "cgan-digits",
                           "stackgan-digits"]
    out = {"judge": judge.info, "n": args.n, "seed": args.seed, "models": {}}
    for name in names:
        verdict = judge.judge(samples(ganzoo.load(name), args.n, args.seed))
        out["models"][name] = verdict
        print(f"{name:24s} confidence {verdict['confidence']:.3f}  ≥0.9: {verdict['confident_share']:.3f}  "
              f"min class share {verdict['min_class_share']:.3f}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
