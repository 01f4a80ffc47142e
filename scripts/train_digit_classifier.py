"""Train the digit classifier that ganzoo ships as the feature network for digit-model metrics.

    python scripts/fetch_digits.py --out data/digits
    python scripts/train_digit_classifier.py --data data/digits --seed 0

Trains `ganzoo.metrics.digit_classifier.DigitClassifier` on ``DATA/train/<class>/*.png`` with random
rotation, scale and shift, evaluates the final network on ``DATA/test`` (never used for any choice during
training) and on scikit-learn's digits (another dataset, as a robustness check), then writes the safetensors
file with metadata and prints its sha256, to be pasted into ``DIGIT_CLASSIFIER_SHA256``.
The run is deterministic for a given ``--seed`` on one machine and thread count (CPU).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import save

try:
    from ganzoo.hub import canonical_safetensors
    from ganzoo.metrics.digit_classifier import WEIGHTS_PATH, DigitClassifier
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from ganzoo.hub import canonical_safetensors
    from ganzoo.metrics.digit_classifier import WEIGHTS_PATH, DigitClassifier

logger = logging.getLogger("train_digit_classifier")

ARCH = "ganzoo-digit-cnn-v1"  # bump if DigitClassifier's layout changes


def load_class_folders(folder: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """Read ``folder/<class>/*.png`` (sorted) into ``[N, 1, H, W]`` floats in [0, 1] and int64 labels."""
    files = sorted(folder.glob("*/*.png"))
    if not files:
        raise FileNotFoundError(f"no PNGs under {folder}; run `python scripts/fetch_digits.py --out {folder.parent}`")
    images = np.stack([np.asarray(Image.open(f).convert("L")) for f in files])
    labels = np.array([int(f.parent.name) for f in files], dtype=np.int64)
    return torch.from_numpy(images).float().div_(255).unsqueeze(1), torch.from_numpy(labels)


def augment(
    x: torch.Tensor,
    gen: torch.Generator,
    *,
    degrees: float,
    scale: float,
    shift: float,
    stretch: float,
    stroke: float,
    blur: float,
) -> torch.Tensor:
    """Random geometry and stroke style of [0, 1] images (white on black).

    Geometry: rotation (±degrees), scale (1±scale), width/height ratio (up to 1+stretch either way) and shift
    (±shift px). Style: with probability ``stroke`` the strokes are thickened (3×3 dilation); then a Gaussian
    blur with sigma uniform in [0, blur]. Without the style
    part the network reads bold or blurry digits as "8" (22% on scikit-learn's digits, see weights/README.md).
    """
    n, _, h, w = x.shape
    u = torch.rand(n, 8, generator=gen)
    angle = (u[:, 0] * 2 - 1) * math.radians(degrees)
    size = 1.0 + (u[:, 1] * 2 - 1) * scale
    aspect = (1.0 + stretch) ** (u[:, 2] * 2 - 1)  # log-uniform width/height ratio
    sx, sy = 1.0 / (size * aspect.sqrt()), 1.0 / (size / aspect.sqrt())  # theta maps output to input coords
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack(
        [
            torch.stack([cos * sx, -sin * sx, (u[:, 3] * 2 - 1) * shift * 2 / w], 1),
            torch.stack([sin * sy, cos * sy, (u[:, 4] * 2 - 1) * shift * 2 / h], 1),
        ],
        1,
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)  # zeros = background

    thick = (u[:, 5] < stroke).view(n, 1, 1, 1)  # no thinning: a 3×3 erosion erases thin strokes entirely
    x = torch.where(thick, F.max_pool2d(x, 3, 1, 1), x)

    sigma = (u[:, 6] * blur).clamp_min(1e-3)  # per-image Gaussian, applied as a grouped convolution
    r = torch.arange(-3, 4, dtype=x.dtype)
    k1 = torch.exp(-(r.view(1, -1) ** 2) / (2 * sigma.view(-1, 1) ** 2))
    k1 = k1 / k1.sum(1, keepdim=True)
    kernel = k1.view(n, 1, 7, 1) * k1.view(n, 1, 1, 7)
    x = F.conv2d(x.view(1, n, h, w), kernel, padding=3, groups=n).view(n, 1, h, w)
    return x


@torch.no_grad()
def accuracy(net: DigitClassifier, x01: torch.Tensor, y: torch.Tensor, batch_size: int = 500) -> float:
    net.eval()
    correct = sum(
        (net(x01[i : i + batch_size] * 2 - 1).argmax(1) == y[i : i + batch_size]).sum().item()
        for i in range(0, len(y), batch_size)
    )
    return correct / len(y)


def sklearn_digits() -> tuple[torch.Tensor, torch.Tensor]:
    from ganzoo.data.digits import load_sklearn_digits

    images, labels = load_sklearn_digits()
    return torch.from_numpy(images).float().div_(255).unsqueeze(1), torch.from_numpy(labels)


def train(args: argparse.Namespace) -> dict[str, str]:
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    gen = torch.Generator().manual_seed(args.seed)

    x_train, y_train = load_class_folders(args.data / "train")
    x_test, y_test = load_class_folders(args.data / "test")
    logger.info("train %s, test %s", tuple(x_train.shape), tuple(x_test.shape))

    net = DigitClassifier()
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    steps_per_epoch = math.ceil(len(y_train) / args.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.epochs * steps_per_epoch)

    start = time.perf_counter()
    for epoch in range(args.epochs):
        net.train()
        order = torch.randperm(len(y_train), generator=gen)
        total = 0.0
        for i in range(0, len(order), args.batch_size):
            idx = order[i : i + args.batch_size]
            x = augment(
                x_train[idx],
                gen,
                degrees=args.degrees,
                scale=args.scale,
                shift=args.shift,
                stretch=args.stretch,
                stroke=args.stroke,
                blur=args.blur,
            )
            x = x * 2 - 1
            loss = F.cross_entropy(net(x), y_train[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        logger.info("epoch %2d  loss %.4f  %.1fs", epoch + 1, total / len(y_train), time.perf_counter() - start)
    train_time = time.perf_counter() - start

    test_acc = accuracy(net, x_test, y_test)
    x_sk, y_sk = sklearn_digits()
    sk_acc = accuracy(net, x_sk, y_sk)
    logger.info(
        "test accuracy %.4f (%d images); sklearn digits accuracy %.4f (%d images); training %.1fs",
        test_acc,
        len(y_test),
        sk_acc,
        len(y_sk),
        train_time,
    )

    args.out.parent.mkdir(parents=True, exist_ok=True)
    # No timings or paths in the metadata: the file (and its sha256) is then reproducible from the command.
    metadata = {
        "arch": ARCH,
        "dataset": "OpenCV digits.png (Debian opencv-doc 4.6.0+dfsg-12), 28x28 MNIST layout",
        "split": (
            f"train {len(y_train)} / test {len(y_test)}: "
            "split_digits(test_per_class=50, seed=0) (scripts/fetch_digits.py)"
        ),
        "test_accuracy": f"{test_acc:.4f}",
        "sklearn_digits_accuracy": f"{sk_acc:.4f}",
        "seed": str(args.seed),
        "hyperparameters": json.dumps(
            {
                k: getattr(args, k)
                for k in (
                    "epochs",
                    "batch_size",
                    "lr",
                    "weight_decay",
                    "degrees",
                    "scale",
                    "shift",
                    "stretch",
                    "stroke",
                    "blur",
                )
            },
            sort_keys=True,
        ),
        "input": "N x 1 x 32 x 32 float in [-1, 1], white digit on black (other sizes are resized inside)",
        "command": (
            f"python scripts/train_digit_classifier.py --seed {args.seed} --epochs {args.epochs} "
            f"--batch-size {args.batch_size} --lr {args.lr} --weight-decay {args.weight_decay} "
            f"--degrees {args.degrees} --scale {args.scale} --shift {args.shift} --stretch {args.stretch} "
            f"--stroke {args.stroke} --blur {args.blur}"
        ),
        "torch": torch.__version__.split("+")[0],
    }
    state = {k: v.detach().contiguous() for k, v in net.state_dict().items()}
    blob = canonical_safetensors(save(state, metadata=metadata))
    tmp = args.out.with_name(args.out.name + ".tmp")
    tmp.write_bytes(blob)
    os.chmod(tmp, 0o644)
    os.replace(tmp, args.out)
    sha = hashlib.sha256(blob).hexdigest()
    logger.info("wrote %s (%d bytes)", args.out, args.out.stat().st_size)
    print(f'DIGIT_CLASSIFIER_SHA256 = "{sha}"')
    return metadata


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("data/digits"), help="output of fetch_digits.py")
    parser.add_argument("--out", type=Path, default=WEIGHTS_PATH, help="safetensors file to write")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--degrees", type=float, default=12.0, help="max rotation")
    parser.add_argument("--scale", type=float, default=0.12, help="max relative scale change")
    parser.add_argument("--shift", type=float, default=3.0, help="max shift in pixels (of 28)")
    parser.add_argument("--stretch", type=float, default=0.3, help="max width/height ratio change (1+stretch)")
    parser.add_argument("--stroke", type=float, default=0.4, help="probability of thicker strokes")
    parser.add_argument("--blur", type=float, default=1.2, help="max Gaussian blur sigma in pixels")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    train(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
