"""The evaluation plan of multi-domain translators (StarGAN …), and their trivial baselines.

:class:`MultiDomainPlan` translates every test image of every domain into every other domain — the K(K − 1)
ordered pairs of domains, each image once per target — and scores the outputs:

* **kid** and **fid** per target domain: the outputs translated into domain *d* (from every other domain)
  against the real test images of *d*, then the mean over the K domains (the per-domain values are in the
  result's details). Pooling the domains would hide the translation: the inputs themselves are real images of
  the pooled set, so identity would score as well as a perfect translator;
* **psnr**, **ssim**, **l1** against the same content in the target domain, where the pairs are known: by default
  for built-in data (``builtin:digit-styles``: every digit in every style, in the same order), on request
  (``--metrics``) for a folder whose ``<split>/<domain>/<name>`` files are the same item in every domain (a
  folder's names are trusted only when asked, as for unpaired translation).

Data: ``root/<split>/<domain>/*.png`` (``--split``, default ``test``; a folder without split sub-folders is read
whole), the domains in the config's ``domain_names`` order (else the sorted folder names), or
``builtin:digit-styles``. ``-n`` takes a fixed subset of each domain's images.

Beside the model, two baselines by the same protocol: **identity** (the input as the output, whatever the target
domain) and **colour transfer** (each input's per-channel mean and standard deviation mapped to the target
domain's, Reinhard et al. 2001 in RGB, from every pixel of that domain's training images — ``train/<domain>/`` or
the built-in set's train split — or of its reference images when the data has no training split).

Example:
    ```python
    >>> from ganzoo.metrics import evaluate
    >>> report = evaluate("runs/stargan-fonts", "data/digits-fonts", metrics="psnr,ssim,l1,kid")
    >>> report["kid"].details["per_domain"], report.baseline("identity")["kid"].value
    ```
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import torch

from ..errors import DataError
from .arithmetic import KID_MAX_SUBSET, KID_SUBSETS, check_counts, fid_from_features, kid_from_features
from .cache import Reference, batches, reference_features, subset_indices
from .images import ImageMeasurement, ImagePlan, derived_seed
from .plans import Baseline, builtin_name
from .report import MetricResult

__all__ = ["MultiDomainPlan", "DomainIdentityBaseline", "DomainColourTransferBaseline"]

_PIXELS = ("psnr", "ssim", "l1")
_PER_DOMAIN = ("kid", "fid")


@dataclass
class DomainData:
    """The test images of a multi-domain evaluation, grouped by domain.

    Attributes:
        dataset (`Dataset`): items ``{"image", "label"}`` (label: the domain index).
        members (`list[list[int]]`): per domain, its dataset indices, in content order (``members[d][j]`` and
            ``members[e][j]`` are the same item when the pairs are known).
        paired (`bool`): every domain holds the same items in the same order (pixel metrics possible).
        declared (`bool`): the data is known to be made of such pairs (pixel metrics by default).
        no_pairs (`str`): why pixel metrics are impossible (empty when ``paired``).
        reference (`Reference`): the real images (all domains, labelled), for kid/fid.
        train (`Callable[[], tuple[Dataset, str]] | None`): the training images (labelled) and where they are,
            for the colour-transfer statistics.
    """

    dataset: Any
    members: list[list[int]]
    paired: bool
    declared: bool
    no_pairs: str
    reference: Reference
    train: Callable[[], tuple[Any, str]] | None


def _by_domain(labels: list[int], k: int) -> list[list[int]]:
    groups: list[list[int]] = [[] for _ in range(k)]
    for i, d in enumerate(labels):
        groups[d].append(i)
    return groups


def _domain_labels(ds: Any) -> list[int]:
    """Every item's domain index, without decoding the images when the dataset keeps them apart."""
    if getattr(ds, "targets", None):
        return [int(t) for t in ds.targets]
    if getattr(ds, "labels", None) is not None:
        return [int(t) for t in ds.labels.tolist()]
    return [int(ds[i]["label"]) for i in range(len(ds))]  # pragma: no cover - both readers keep labels apart


class DomainIdentityBaseline(Baseline):
    """The input as the translation into any domain: what doing nothing scores."""

    name = "identity"
    description = "identity: output = input, whatever the target domain"

    def __call__(self, inputs: torch.Tensor, domain: int = 0) -> torch.Tensor:  # type: ignore[override]
        return inputs


class DomainColourTransferBaseline(Baseline):
    """Each input's per-channel mean/std mapped to the target domain's training statistics."""

    name = "colour-transfer"
    description = ("colour transfer: each input's per-channel mean and std mapped to the target domain's per-channel "
                   "mean and std")

    def fit(self, plan: "MultiDomainPlan") -> dict[str, Any]:  # type: ignore[override]
        """Per domain and channel, the mean/std of every pixel of ``plan.statistics_source()``."""
        ds, where = plan.statistics_source()
        k, c = plan.config.num_domains, plan.channels
        total = torch.zeros(k, c, dtype=torch.float64)
        squares = torch.zeros(k, c, dtype=torch.float64)
        pixels = torch.zeros(k, dtype=torch.float64)
        for batch in batches(ds, list(range(len(ds))), plan.request.batch_size):
            x, d = batch["image"].double(), batch["label"].long()
            total.index_add_(0, d, x.sum(dim=(2, 3)))
            squares.index_add_(0, d, x.pow(2).sum(dim=(2, 3)))
            pixels.index_add_(0, d, torch.full((x.shape[0],), float(x.shape[2] * x.shape[3]), dtype=torch.float64))
        empty = [plan.domain_names[i] for i in range(k) if pixels[i] == 0]
        if empty:
            raise DataError(f"the colour-transfer baseline needs images of every domain; {where} has none of "
                            f"{', '.join(empty)}")
        self.mean = total / pixels[:, None]
        self.std = (squares / pixels[:, None] - self.mean.pow(2)).clamp_min(0).sqrt()
        return {"baseline_fit": f"per-domain, per-channel mean/std of the [-1, 1] pixels of {len(ds)} {where}"}

    def __call__(self, inputs: torch.Tensor, domain: int = 0) -> torch.Tensor:  # type: ignore[override]
        x = inputs.double()
        mu = x.mean(dim=(2, 3), keepdim=True)
        sd = x.std(dim=(2, 3), unbiased=False, keepdim=True)
        mean = self.mean[domain].to(x.device)[None, :, None, None]
        std = self.std[domain].to(x.device)[None, :, None, None]
        flat = sd < 1e-6  # a flat channel carries no contrast to rescale: it becomes the target mean
        out = torch.where(flat, mean.expand_as(x), (x - mu) / sd.clamp_min(1e-6) * std + mean)
        return out.clamp(-1, 1).to(inputs.dtype)


class MultiDomainPlan(ImagePlan):
    """Every test image into every other domain; per-domain kid/fid, pixel metrics where the pairs are known."""

    baselines = (DomainIdentityBaseline, DomainColourTransferBaseline)

    def __init__(self, model: Any, request: Any) -> None:
        super().__init__(model, request)
        cfg = self.config
        self.image_size, self.channels = cfg.image_size, cfg.channels
        self.domain_names = self.task.domain_names(cfg)
        self._data: DomainData | None = None
        self.chosen: list[list[int]] = []
        self.sampling = ""

    @property
    def data(self) -> DomainData:
        if self._data is None:
            self._data = self.resolve()
        return self._data

    def _identity(self) -> dict[str, Any]:
        return {"task_format": self.task.name, "role": "domains", "resolution": self.image_size,
                "channels": self.channels, "domains": list(self.domain_names), "load_size": None}

    def resolve(self) -> DomainData:
        """Read the test images of every domain and find out whether they are pairs."""
        req, cfg, task, k = self.request, self.config, self.task, self.config.num_domains
        if builtin_name(task, req.data) is not None:
            used = req.split or None
            ds = task.dataset(cfg, req.data, split=used or "", augment=False)
            # built-in multi-domain data draws every item in every domain, domain after domain, in one order
            members = _by_domain(_domain_labels(ds), k)
            paired = len({len(m) for m in members}) == 1
            train = None
            if used != "train":
                def train() -> tuple[Any, str]:
                    return task.dataset(cfg, req.data, split="train", augment=False), "training images (train split)"
            ref = Reference(req.data, used, None, lambda: ds, "image", self._identity())
            where = f"{req.data}" + (f" (split {used})" if used else "")
            self.sampling = (f"translate every image of {where} into each of the other {k - 1} domains, seed "
                             f"sha256('ganzoo-eval:<seed>:<batch>')")
            return DomainData(ds, members, paired, paired, "" if paired else f"{req.data} holds no pairs", ref, train)
        root = Path(req.data)
        if not root.exists():
            raise DataError(f"No such data folder: {req.data}")
        if not root.is_dir():
            raise DataError(f"{req.data} is a file; give the dataset folder in the {task.name} layout "
                            f"({task.layouts}) or {', '.join('builtin:' + b for b in task.builtins)}")
        split = req.split if req.split and (root / req.split).is_dir() else None
        ds = task.folder_dataset(cfg, root, split=split or "", augment=False)
        members = _by_domain(ds.targets, k)
        names = [[ds.files[i].relative_to(ds.root / self.domain_names[d]).as_posix() for i in m]
                 for d, m in enumerate(members)]
        missing = [self.domain_names[d] for d, m in enumerate(members) if not m]
        if missing:
            raise DataError(f"{ds.root} holds no images of the domain(s) {', '.join(missing)}")
        common = set(names[0]).intersection(*names[1:])
        paired = all(len(n) == len(common) for n in names)
        no_pairs = ""
        if paired:  # align every domain on the first one's order (files are sorted, so they already are)
            order = {n: j for j, n in enumerate(names[0])}
            members = [[m[j] for j in sorted(range(len(m)), key=lambda j: order[ns[j]])]
                       for m, ns in zip(members, names)]
        else:
            worst = max(range(k), key=lambda d: len(names[d]) - len(common))
            no_pairs = (f"psnr, ssim and l1 need known pairs: {split or '.'}/<domain>/<name> the same item in every "
                        f"domain; in {req.data} {len(names[worst]) - len(common)} of the {len(names[worst])} "
                        f"{self.domain_names[worst]}/ names are missing from another domain")
        train = None
        if split != "train" and (root / "train").is_dir():
            def train() -> tuple[Any, str]:
                return task.folder_dataset(cfg, root, split="train", augment=False), "training images (train/)"
        ref = Reference(req.data, split, ds.root, lambda: ds, "image", self._identity())
        self.sampling = (f"translate every {split + '/' if split else ''}<domain>/ image into each of the other "
                         f"{k - 1} domains, seed sha256('ganzoo-eval:<seed>:<batch>')")
        return DomainData(ds, members, paired, False, no_pairs, ref, train)

    # -- metrics --------------------------------------------------------------------------------------------

    def unavailable(self, metric: str, extractor: str | None) -> str | None:
        if metric in _PIXELS and self.request.data and self.data.no_pairs:
            return self.data.no_pairs
        return super().unavailable(metric, extractor)

    def default_metrics(self, extractor: str | None) -> list[str]:
        names = super().default_metrics(extractor)
        return names if self.request.data and self.data.declared else [m for m in names if m not in _PIXELS]

    def statistics_source(self) -> tuple[Any, str]:
        """``(dataset, description)`` of the training images of every domain (else the reference's)."""
        if self.data.train is not None:
            return self.data.train()
        return self.data.dataset, f"reference images ({self.data.reference.where()}: the data has no training split)"

    # -- measuring ------------------------------------------------------------------------------------------

    def prepare(self, names: list[str], extractor: Any) -> None:
        req, data = self.request, self.data
        self.load_networks(names, extractor)
        k = self.config.num_domains
        if data.paired:  # the same items in every domain, so the same subset of them
            keep = subset_indices(len(data.members[0]), req.n)
            self.chosen = [[m[j] for j in keep] for m in data.members]
        else:
            self.chosen = [[m[j] for j in subset_indices(len(m), req.n)] for m in data.members]
        sizes = [len(c) for c in self.chosen]
        self.n_generated = sum(sizes) * (k - 1)
        if extractor is not None:
            self.real = reference_features(data.reference, extractor, n_real=req.n_real, batch_size=req.batch_size,
                                           use_cache=req.use_cache, cache_dir=req.cache_dir)
            self.cache = {"hit": self.real.cache_hit,
                          "path": str(self.real.cache_path) if self.real.cache_path else None}
            labels = self.real.labels if self.real.labels is not None else torch.zeros(0, dtype=torch.long)
            real_counts = [int((labels == d).sum()) for d in range(k)]
            fake_counts = [sum(sizes) - sizes[d] for d in range(k)]
            d_min = min(range(k), key=lambda d: real_counts[d])
            self.kid_subset = check_counts(names, real_counts[d_min], min(fake_counts),
                                           f"{data.reference.where()}, domain {self.domain_names[d_min]}",
                                           req.kid_subset_size)
            self.per_domain = (real_counts, fake_counts)

    def command_n(self) -> int:
        """``-n`` counts the images taken from each domain (the largest domain's count when none was asked)."""
        return max(len(c) for c in self.chosen)

    def _jobs(self) -> Iterator[tuple[int, int, list[int]]]:
        """``(target, source, dataset indices)`` for every ordered pair of domains, targets in index order."""
        k = self.config.num_domains
        for t in range(k):
            for s in range(k):
                if s != t:
                    yield t, s, self.chosen[s]

    @torch.no_grad()
    def measure(self, baseline: Baseline | None = None) -> ImageMeasurement:
        model, seed, bs, ds = self.model, self.request.seed, self.request.batch_size, self.data.dataset
        want_pixels = self.data.paired and any(m in _PIXELS for m in self.names)
        acc = ImageMeasurement(sampling=self.sampling if baseline is None else baseline.description)
        if want_pixels:
            acc.pixel_protocol = {"pairing": "each input ↔ the same item in the target domain"}
        b = 0
        for t, s, idx in self._jobs():
            twins = self.chosen[t] if want_pixels else None  # paired: chosen[s][j] and chosen[t][j] are one item
            for start in range(0, len(idx), bs):
                x = torch.stack([ds[i]["image"] for i in idx[start:start + bs]])
                if baseline is None:
                    target = torch.full((x.shape[0],), t, dtype=torch.long)
                    out = model.sample(condition=x.to(model.device), domain=target, seed=derived_seed(seed, b))
                else:
                    out = baseline(x, t)  # type: ignore[call-arg]
                y = torch.stack([ds[i]["image"] for i in twins[start:start + bs]]) if twins is not None else None
                self.take(acc, out, labels=torch.full((x.shape[0],), t, dtype=torch.long), target=y)
                b += 1
        return acc

    def score(self, measured: ImageMeasurement, protocol: dict[str, Any]) -> list[MetricResult]:
        names = self.names
        self.names = [m for m in names if m not in _PER_DOMAIN]
        try:
            pooled = {r.name: r for r in super().score(measured, protocol)}
        finally:
            self.names = names
        ff, fy = measured.cat(measured.features), measured.cat(measured.labels)
        results: list[MetricResult] = []
        for metric in names:
            if metric not in _PER_DOMAIN:
                results.append(pooled[metric])
                continue
            assert self.real is not None and ff is not None and fy is not None and self.real.labels is not None
            values: dict[str, float] = {}
            for d, name in enumerate(self.domain_names):
                real, fake = self.real.features[self.real.labels == d], ff[fy == d]
                if metric == "kid":
                    size = self.kid_subset or min(KID_MAX_SUBSET, real.shape[0], fake.shape[0])
                    values[name] = kid_from_features(real, fake, subset_size=min(size, real.shape[0], fake.shape[0]),
                                                     seed=self.request.seed)[0]
                else:
                    values[name] = fid_from_features(real, fake)
            vals = torch.tensor(list(values.values()), dtype=torch.float64)
            extra: dict[str, Any] = {"reduction": "mean over the target domains of the metric between the outputs "
                                                  "translated into a domain and its real images"}
            if metric == "kid":
                extra.update(kid_subset_size=self.kid_subset, kid_subsets=KID_SUBSETS,
                             kid_kernel="polynomial (x·y/d + 1)^3")
            results.append(MetricResult(metric, float(vals.mean()), float(vals.std(unbiased=False)),
                                        {"per_domain": {n: round(v, 6) for n, v in values.items()},
                                         "std": "across domains"}, {**protocol, **extra}))
        return results

    def protocol(self) -> dict[str, Any]:
        real, ref = self.real, self.data.reference
        count = real.count if real is not None else sum(len(c) for c in self.chosen)
        return self.image_protocol(self.request.data, ref.split, count, real.fingerprint if real else None,
                                   self.sampling)
