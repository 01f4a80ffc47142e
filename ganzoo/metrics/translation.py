"""The plans of the image-to-image tasks, and their trivial baselines.

=====================  ===================================================================================
plan                   what is measured
=====================  ===================================================================================
:class:`PairedPlan`    every test pair's input is translated (direction AtoB of the config); psnr, ssim, l1 of
                       the outputs against the pairs' targets, kid and fid of the outputs against those targets
:class:`UnpairedPlan`  every ``<split>A`` image is translated (AtoB); kid and fid against the real ``<split>B``
                       images; psnr, ssim, l1 where the pairs are known: by default for built-in data whose split
                       holds exact pairs (``builtin:digit-bold``, split ``test``), on request (``--metrics``) for a
                       folder whose ``<split>A/<name>`` and ``<split>B/<name>`` are the same item in both styles
=====================  ===================================================================================

Beside the model, both plans measure two baselines by the same protocol (same inputs, same reference, same
extractor and seed): **identity** (the output is the input) and **colour transfer** (each input's per-channel
mean and standard deviation mapped to the target domain's, Reinhard et al. 2001 in RGB: the target statistics
are those of every pixel of the training targets — ``train/`` pairs, ``trainB/``, or the built-in set's train
split — or, when the data has no training split, of the reference images, which the protocol then says).
Inputs with another channel count than the outputs are converted first (grey repeated to RGB, RGB to grey by
ITU-R 601 luma, as PIL converts).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import torch

from ..errors import DataError
from .arithmetic import check_counts
from .cache import Reference, batches, reference_features, subset_indices
from .extractors import ExtractorUnavailableError
from .images import ImageMeasurement, ImagePlan, derived_seed
from .plans import Baseline, builtin_name

__all__ = ["PairedPlan", "UnpairedPlan", "IdentityBaseline", "ColourTransferBaseline", "to_channels"]

_PIXELS = ("psnr", "ssim", "l1")
_LUMA = (0.299, 0.587, 0.114)  # ITU-R 601, PIL's RGB → L


def to_channels(x: torch.Tensor, channels: int) -> torch.Tensor:
    """``[N, C, H, W]`` images with ``channels`` channels: grey repeated to RGB, RGB to grey by ITU-R 601 luma."""
    c = x.shape[1]
    if c == channels:
        return x
    if c == 1:
        return x.expand(-1, channels, -1, -1).contiguous()
    if channels == 1 and c == 3:
        w = torch.tensor(_LUMA, dtype=x.dtype, device=x.device)[None, :, None, None]
        return (x * w).sum(dim=1, keepdim=True)
    raise DataError(f"cannot convert {c}-channel inputs to {channels} channels for a baseline")


@dataclass
class PairData:
    """The data of a translation evaluation.

    Attributes:
        inputs (`Dataset`), input_key (`str`): what is translated.
        targets (`Dataset | None`), target_key (`str`): the ground truth of each input (index-aligned), when known.
        reference (`Reference`): the real target-domain images KID/FID compare with.
        reference_follows_n (`bool`): the reference is the targets of the evaluated inputs (paired data).
        declared_pairs (`bool`): the data is made of known pairs (pixel metrics by default).
        no_pairs (`str`): why pixel metrics are impossible (empty when pairs can be formed).
        train_targets (`Callable[[], tuple[Dataset, str, str]] | None`): the target domain's training images
            (dataset, key, description), for the colour-transfer statistics.
    """

    inputs: Any
    input_key: str
    targets: Any
    target_key: str
    reference: Reference
    reference_follows_n: bool
    declared_pairs: bool
    no_pairs: str
    train_targets: Callable[[], tuple[Any, str, str]] | None


class IdentityBaseline(Baseline):
    """The input as the translation: what doing nothing scores."""

    name = "identity"
    description = "identity: output = input (channels converted when the domains differ)"

    def fit(self, plan: "_TranslationPlan") -> dict[str, Any]:
        self.channels = plan.channels
        return {}

    def __call__(self, inputs: torch.Tensor) -> torch.Tensor:
        return to_channels(inputs, self.channels)


class ColourTransferBaseline(Baseline):
    """Each input's per-channel mean/std mapped to the target domain's training statistics."""

    name = "colour-transfer"
    description = ("colour transfer: each input's per-channel mean and std mapped to the target domain's "
                   "per-channel mean and std")

    def fit(self, plan: "_TranslationPlan") -> dict[str, Any]:
        """Per-channel mean/std of every pixel of ``plan.target_statistics_source()`` (a translation plan's)."""
        self.channels = plan.channels
        ds, key, where = plan.target_statistics_source()
        total = torch.zeros(self.channels, dtype=torch.float64)
        squares = torch.zeros(self.channels, dtype=torch.float64)
        pixels = 0
        for batch in batches(ds, list(range(len(ds))), plan.request.batch_size):
            x = batch[key].double()
            total += x.sum(dim=(0, 2, 3))
            squares += x.pow(2).sum(dim=(0, 2, 3))
            pixels += x.shape[0] * x.shape[2] * x.shape[3]
        self.mean = total / pixels
        self.std = (squares / pixels - self.mean.pow(2)).clamp_min(0).sqrt()
        stats = ", ".join(f"{m:.4f}/{s:.4f}" for m, s in zip(self.mean.tolist(), self.std.tolist()))
        return {"baseline_fit": f"target mean/std per channel on [-1, 1] pixels {stats}, from {len(ds)} {where}"}

    def __call__(self, inputs: torch.Tensor) -> torch.Tensor:
        x = to_channels(inputs, self.channels).double()
        mu = x.mean(dim=(2, 3), keepdim=True)
        sd = x.std(dim=(2, 3), unbiased=False, keepdim=True)
        mean, std = self.mean.to(x.device)[None, :, None, None], self.std.to(x.device)[None, :, None, None]
        flat = sd < 1e-6  # a flat channel carries no contrast to rescale: it becomes the target mean
        out = torch.where(flat, mean.expand_as(x), (x - mu) / sd.clamp_min(1e-6) * std + mean)
        return out.clamp(-1, 1).to(inputs.dtype)


class _TranslationPlan(ImagePlan):
    """Shared by the translation plans: translate inputs, compare with targets and with the target domain."""

    baselines = (IdentityBaseline, ColourTransferBaseline)
    #: the task's data is always made of pairs (decides the defaults when no data is given)
    always_paired = False

    def __init__(self, model: Any, request: Any) -> None:
        super().__init__(model, request)
        cfg = self.config
        self.image_size, self.channels, self.input_channels = cfg.image_size, cfg.output_channels, cfg.input_channels
        self._data: PairData | None = None
        self.idx: list[int] = []
        self.sampling = ""

    def resolve(self) -> PairData:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def data(self) -> PairData:
        if self._data is None:
            self._data = self.resolve()
        return self._data

    def _folder(self) -> Path:
        root = Path(self.request.data)
        if not root.exists():
            raise DataError(f"No such data folder: {self.request.data}")
        if not root.is_dir():
            raise DataError(f"{self.request.data} is a file; give the dataset folder in the {self.task.name} layout "
                            f"({self.task.layouts}) or {', '.join('builtin:' + b for b in self.task.builtins)}")
        return root

    def _identity(self, role: str) -> dict[str, Any]:
        return {"task_format": self.task.name, "role": role, "resolution": self.image_size,
                "channels": self.channels if role == "B" else self.input_channels, "load_size": None}

    # -- metrics --------------------------------------------------------------------------------------------

    def unavailable(self, metric: str, extractor: str | None) -> str | None:
        if metric in _PIXELS and self.request.data and self.data.no_pairs:
            return self.data.no_pairs
        return super().unavailable(metric, extractor)

    def default_metrics(self, extractor: str | None) -> list[str]:
        names = super().default_metrics(extractor)
        declared = self.data.declared_pairs if self.request.data else self.always_paired
        return names if declared else [m for m in names if m not in _PIXELS]

    def extractor_hint(self, err: ExtractorUnavailableError) -> ExtractorUnavailableError:
        if self.data.no_pairs:
            return err
        return ExtractorUnavailableError(f"{err} (or evaluate pixel metrics only: --metrics psnr,ssim,l1)")

    def target_statistics_source(self) -> tuple[Any, str, str]:
        """``(dataset, key, description)`` of the target domain's training images (else the reference's)."""
        if self.data.train_targets is not None:
            return self.data.train_targets()
        ref = self.data.reference
        return ref.dataset(), ref.key, f"reference images ({ref.where()}: the data has no training split)"

    # -- measuring ------------------------------------------------------------------------------------------

    def prepare(self, names: list[str], extractor: Any) -> None:
        req, data = self.request, self.data
        self.load_networks(names, extractor)
        self.idx = subset_indices(len(data.inputs), req.n)
        self.n_generated = len(self.idx)
        if extractor is not None:
            n_real = req.n if data.reference_follows_n else req.n_real
            self.real = reference_features(data.reference, extractor, n_real=n_real, batch_size=req.batch_size,
                                           use_cache=req.use_cache, cache_dir=req.cache_dir)
            self.cache = {"hit": self.real.cache_hit,
                          "path": str(self.real.cache_path) if self.real.cache_path else None}
            self.kid_subset = check_counts(names, self.real.count, self.n_generated, data.reference.where(),
                                           req.kid_subset_size)

    def _pairs(self) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
        """``(inputs, targets or None)`` batches over the evaluated indices."""
        data, bs = self.data, self.request.batch_size
        want = data.targets is not None and any(m in _PIXELS for m in self.names)
        if not want:
            for batch in batches(data.inputs, self.idx, bs):
                yield batch[data.input_key], None
        elif data.targets is data.inputs:
            for batch in batches(data.inputs, self.idx, bs):
                yield batch[data.input_key], batch[data.target_key]
        else:
            for a, b in zip(batches(data.inputs, self.idx, bs), batches(data.targets, self.idx, bs)):
                yield a[data.input_key], b[data.target_key]

    @torch.no_grad()
    def measure(self, baseline: Baseline | None = None) -> ImageMeasurement:
        model, seed = self.model, self.request.seed
        acc = ImageMeasurement(sampling=self.sampling if baseline is None else baseline.description)
        for b, (a, target) in enumerate(self._pairs()):
            if baseline is None:
                out = model.sample(condition=a.to(model.device), seed=derived_seed(seed, b))
            else:
                out = baseline(a)
            self.take(acc, out, target=target)
        return acc

    def protocol(self) -> dict[str, Any]:
        real = self.real
        return self.image_protocol(self.request.data, self.data.reference.split,
                                   real.count if real is not None else self.n_generated,
                                   real.fingerprint if real is not None else None, self.sampling)


class PairedPlan(_TranslationPlan):
    """Aligned pairs (pix2pix's layout, or ``builtin:digit-edges``): outputs against targets and the target domain."""

    always_paired = True

    def resolve(self) -> PairData:
        req, cfg, task = self.request, self.config, self.task
        self.sampling = "translate every test pair's input, seed sha256('ganzoo-eval:<seed>:<batch>')"
        identity = {**self._identity("B"), "load_size": cfg.load_size, "direction": cfg.direction}
        if builtin_name(task, req.data) is not None:
            used, files = req.split or None, None
            train_split = "train" if used != "train" else None
        else:
            root = self._folder()
            used = req.split if req.split and (root / req.split).is_dir() else None
            files = root / used if used else root
            train_split = "train" if used != "train" and (root / "train").is_dir() else None
        ds = task.dataset(cfg, req.data, split=used or "", augment=False)
        train = None
        if train_split is not None:
            def train() -> tuple[Any, str, str]:
                return task.dataset(cfg, req.data, split="train", augment=False), "B", "training targets (train split)"
        ref = Reference(req.data, used, files, lambda: ds, "B", identity)
        return PairData(ds, "A", ds, "B", ref, True, True, "", train)


class UnpairedPlan(_TranslationPlan):
    """Unaligned sets (CycleGAN's layout, or ``builtin:digit-bold``): outputs against the target domain, and
    against ground truth where the pairs are known."""

    def resolve(self) -> PairData:
        req, cfg, task = self.request, self.config, self.task
        if builtin_name(task, req.data) is not None:
            from ..data.builtin import ArrayPairDataset

            used = req.split or None
            ds = task.dataset(cfg, req.data, split=used or "", augment=False)
            aligned = isinstance(ds, ArrayPairDataset) and ds.aligned
            self.sampling = (f"translate every A image of {req.data}" + (f" (split {used})" if used else "")
                             + " (AtoB), seed sha256('ganzoo-eval:<seed>:<batch>')")
            train = None
            if used != "train":
                def train() -> tuple[Any, str, str]:
                    return (task.dataset(cfg, req.data, split="train", augment=False), "B",
                            "target-domain training images (train split)")
            no_pairs = "" if aligned else (f"psnr, ssim and l1 need known pairs; {req.data} holds them in its test "
                                           "split only (--split test)")
            ref = Reference(req.data, used, None, lambda: ds, "B", self._identity("B"))
            return PairData(ds, "A", ds if aligned else None, "B", ref, False, aligned, no_pairs, train)
        from ..data import ImageFolderDataset

        root, split = self._folder(), req.split or "test"
        dirs = {side: root / f"{split}{side}" for side in "BA"}
        for side, d in dirs.items():
            if not d.is_dir():
                raise DataError(f"{req.data} needs {split}A/ and {split}B/ folders (CycleGAN layout: "
                                f"{task.layouts}) to evaluate an unpaired translator; {d.name}/ is missing")
        self.sampling = f"translate every {split}A image (AtoB), seed sha256('ganzoo-eval:<seed>:<batch>')"
        size = self.image_size
        a = ImageFolderDataset(dirs["A"], image_size=size, channels=self.input_channels, augment=False)
        b = ImageFolderDataset(dirs["B"], image_size=size, channels=self.channels, augment=False)
        names_a = [f.relative_to(dirs["A"]).as_posix() for f in a.files]
        names_b = [f.relative_to(dirs["B"]).as_posix() for f in b.files]
        no_pairs = "" if names_a == names_b else (
            f"psnr, ssim and l1 need known pairs: {split}A/<name> and {split}B/<name> the same item in both styles; "
            f"in {req.data} {len(set(names_a) - set(names_b))} of the {len(names_a)} {split}A/ names have no "
            f"{split}B/ twin")
        train = None
        if split != "train" and (root / "trainB").is_dir():
            def train() -> tuple[Any, str, str]:
                ds = ImageFolderDataset(root / "trainB", image_size=size, channels=self.channels, augment=False)
                return ds, "image", "target-domain training images (trainB/)"
        ref = Reference(req.data, split, dirs["B"], lambda: b, "image", self._identity("B"))
        return PairData(a, "image", b if not no_pairs else None, "image", ref, False, False, no_pairs, train)
