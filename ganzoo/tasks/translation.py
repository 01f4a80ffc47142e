"""Image-to-image tasks: paired (pix2pix), unpaired (CycleGAN, UNIT …) and multi-domain (StarGAN) translation."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Mapping

from ..errors import UsageError
from . import Task
from .image import evenly_spaced_items

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["PairedTranslation", "UnpairedTranslation", "MultiDomainTranslation"]


class _Translation(Task):
    modality = "image"
    conditioning = "image"
    condition_required = True
    config_base = "ganzoo.config:TranslationConfig"
    batch_keys = ("A", "B")
    output_suffixes = (".png", ".jpg", ".jpeg")

    def example_batch(self, config: Any, n: int, *, seed: int = 0) -> dict[str, "torch.Tensor"]:
        import torch

        from ..data.synthetic import tanh_noise

        g = torch.Generator().manual_seed(seed)
        s = config.image_size
        return {"A": tanh_noise(g, (n, config.input_channels, s, s)),
                "B": tanh_noise(g, (n, config.output_channels, s, s))}

    def conformance_inputs(self, config: Any, batch: Mapping[str, Any], n: int) -> tuple[int | None, Any, dict]:
        return None, batch["A"][:n], {}

    def usage(self, name: str) -> tuple[str, str] | None:
        return (f"ganzoo sample {name} --input photo.png -o out.png   # or a folder of images",
                "out = model.sample(condition=images)  # images: float NCHW in [-1, 1], any size")

    def preview(self, model: Any, dataset: Any, stem: str | Path, *, n: int = 64, seed: int = 0) -> Path | None:
        from ..data.images import save_image_grid
        from ..sampling import translation_grid

        batch = evenly_spaced_items(dataset, min(8, n))
        out = model.sample(condition=batch["A"].to(model.device), seed=seed)
        grid = translation_grid(batch["A"], out, batch.get("B"))
        return save_image_grid(grid, Path(stem).with_suffix(".png"), nrow=batch["A"].shape[0])

    def write(self, samples: "torch.Tensor", path: str | Path, config: Any, *, nrow: int | None = None) -> Path:
        from ..data.images import save_image_grid

        return save_image_grid(samples, self.check_output_path(path), nrow=nrow)

    def sample_inputs(self, model: Any, src: Path, dst: Path, *, batch_size: int = 16, seed: int | None = 0,
                      **options: Any) -> Path:
        from ..translate import translate_path

        return translate_path(model, src, dst, batch_size=batch_size, seed=seed, **options)


class PairedTranslation(_Translation):
    name = "paired-translation"
    description = "image-to-image translation learned from aligned pairs"
    config_base = "ganzoo.config:PairedTranslationConfig"
    layouts = ("aligned pairs: root/[train|test]/*.png, each image the input and the target side by side (A|B, "
               "pix2pix's layout)")
    builtins = MappingProxyType({"digit-edges": "scikit-learn digits: their edge maps (A) → the digits (B), aligned"})
    metrics = ("psnr", "ssim", "l1", "kid", "fid")

    def read(self, config: Any, root: Path, *, split: str, augment: bool) -> Any:
        from ..data.datasets import AlignedDataset

        return AlignedDataset(root, image_size=config.image_size, channels_in=config.input_channels,
                              channels_out=config.output_channels, direction=config.direction,
                              load_size=config.load_size, flip=config.flip, split=split, augment=augment)

    def write_dataset(self, root: str | Path, config: Any, *, n: int = 8, seed: int = 0) -> Path:
        import numpy as np

        from ..data.synthetic import blob_image, save_png

        rng, root = np.random.default_rng(seed), Path(root)
        c = max(config.input_channels, config.output_channels)
        for i in range(n):
            a, b = blob_image(rng, config.image_size, c), blob_image(rng, config.image_size, c)
            save_png(np.concatenate([a, b], axis=1), root / "train" / f"{i:04d}.png")
        return root

    def eval_plan(self) -> str | None:
        return "ganzoo.metrics.translation:PairedPlan"


class UnpairedTranslation(_Translation):
    name = "unpaired-translation"
    description = "image-to-image translation learned from unaligned sets"
    layouts = "unaligned sets: root/trainA/, root/trainB/ (and testA/, testB/ for evaluation; CycleGAN's layout)"
    builtins = MappingProxyType({"digit-bold": "scikit-learn digits (A) and the same digits in bold strokes (B), "
                                               "shuffled apart (the pairs are known for evaluation)"})
    metrics = ("psnr", "ssim", "l1", "kid", "fid")  # pixel metrics where the test pairs are known

    def read(self, config: Any, root: Path, *, split: str, augment: bool) -> Any:
        from ..data.datasets import UnalignedDataset

        return UnalignedDataset(root, image_size=config.image_size, channels_a=config.input_channels,
                                channels_b=config.output_channels, load_size=config.load_size, flip=config.flip,
                                split=split or "train", augment=augment)

    def write_dataset(self, root: str | Path, config: Any, *, n: int = 8, seed: int = 0) -> Path:
        import numpy as np

        from ..data.synthetic import blob_image, save_png

        rng, root = np.random.default_rng(seed), Path(root)
        for side, c in (("A", config.input_channels), ("B", config.output_channels)):
            for i in range(n):
                save_png(blob_image(rng, config.image_size, c), root / f"train{side}" / f"{i:04d}.png")
        return root

    def eval_plan(self) -> str | None:
        return "ganzoo.metrics.translation:UnpairedPlan"


class MultiDomainTranslation(Task):
    """One translator between N domains: ``sample(condition=images, domain=target)``.

    ``domain`` is a domain index, a name from the config's ``domain_names``, one per image, or ``"all"`` (a row per
    domain in the CLI). Training batches are ``{"image", "label"}``: an image and the index of its own domain.
    """

    name = "multi-domain-translation"
    modality = "image"
    conditioning = "image"
    condition_required = True
    description = "one translator between many domains"
    config_base = "ganzoo.config:DomainConfig"
    layouts = "one sub-folder of images per domain (root/<domain>/*.png; the sorted folder names are the domains)"
    builtins = MappingProxyType({"digit-styles": "scikit-learn digits in four stroke styles (plain, bold, thin, "
                                                 "inverted): the same digit in every domain"})
    batch_keys = ("image", "label")
    output_suffixes = (".png", ".jpg", ".jpeg")
    metrics = ("kid", "fid")

    def read(self, config: Any, root: Path, *, split: str, augment: bool) -> Any:
        from ..data.datasets import ImageFolderDataset
        from ..errors import DataError

        ds = ImageFolderDataset(root, image_size=config.image_size, channels=config.channels, labels=True,
                                split=split, augment=augment)
        if len(ds.classes) != config.num_domains:
            raise DataError(f"{ds.root} has {len(ds.classes)} domain folders ({', '.join(ds.classes[:5])}…) but the "
                            f"model has {config.num_domains} domains; set --set num_domains={len(ds.classes)}")
        return ds

    def example_batch(self, config: Any, n: int, *, seed: int = 0) -> dict[str, "torch.Tensor"]:
        import torch

        from ..data.synthetic import tanh_noise

        g = torch.Generator().manual_seed(seed)
        s = config.image_size
        return {"image": tanh_noise(g, (n, config.channels, s, s)),
                "label": torch.randint(0, config.num_domains, (n,), generator=g)}

    def write_dataset(self, root: str | Path, config: Any, *, n: int = 8, seed: int = 0) -> Path:
        import numpy as np

        from ..data.synthetic import blob_image, save_png

        rng, root, k = np.random.default_rng(seed), Path(root), config.num_domains
        for i in range(max(n, k)):
            save_png(blob_image(rng, config.image_size, config.channels), root / f"domain{i % k:02d}" / f"{i:04d}.png")
        return root

    def conformance_inputs(self, config: Any, batch: Mapping[str, Any], n: int) -> tuple[int | None, Any, dict]:
        target = (batch["label"][:n] + 1) % config.num_domains
        return None, batch["image"][:n], {"domain": target}

    def usage(self, name: str) -> tuple[str, str] | None:
        return (f"ganzoo sample {name} --input photo.png --domain all -o rows.png   # a column per domain",
                "out = model.sample(condition=images, domain=2)  # or a domain name, or one per image")

    def domain_rows(self, model: Any, images: "torch.Tensor", *, seed: int | None = 0) -> "torch.Tensor":
        """Rows of input | its translation into each domain, as one batch (save with ``nrow=num_domains + 1``)."""
        import torch

        k = model.config.num_domains
        rows = []
        for img in images:
            x = img[None].expand(k, *img.shape).to(model.device)
            out = model.sample(condition=x, domain=torch.arange(k), seed=seed).cpu()
            rows.append(torch.cat([img[None].cpu(), out]))
        return torch.cat(rows)

    def preview(self, model: Any, dataset: Any, stem: str | Path, *, n: int = 64, seed: int = 0) -> Path | None:
        from ..data.images import save_image_grid

        batch = evenly_spaced_items(dataset, min(4, n))
        grid = self.domain_rows(model, batch["image"], seed=seed)
        return save_image_grid(grid, Path(stem).with_suffix(".png"), nrow=model.config.num_domains + 1)

    def write(self, samples: "torch.Tensor", path: str | Path, config: Any, *, nrow: int | None = None) -> Path:
        from ..data.images import save_image_grid

        return save_image_grid(samples, self.check_output_path(path), nrow=nrow)

    def sample_inputs(self, model: Any, src: Path, dst: Path, *, batch_size: int = 16, seed: int | None = 0,
                      **options: Any) -> Path:
        from ..data.images import list_images, open_image, to_tensor
        from ..translate import translate_path

        domain = options.get("domain")
        if domain is None:
            raise UsageError(f"{model.name or model.plugin.name} translates into one of "
                             f"{model.config.num_domains} domains: give --domain NAME|INDEX or --domain all")
        if domain != "all":
            return translate_path(model, src, dst, batch_size=batch_size, seed=seed, **options)
        import torch

        files = [src] if src.is_file() else list_images(src)[0]
        if not files:
            raise UsageError(f"{src} holds no images")
        images = [to_tensor(open_image(f, model.config.channels)) for f in files]
        if len({tuple(im.shape) for im in images}) > 1:
            raise UsageError("--domain all writes one grid: give images of one size (or one image)")
        return self.write(self.domain_rows(model, torch.stack(images), seed=seed), dst, model.config,
                          nrow=model.config.num_domains + 1)
