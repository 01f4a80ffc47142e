"""Image generation tasks: unconditional, class-conditional, and reconstruction (auto-encoders, VAEs)."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Mapping

from . import Task

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["Unconditional", "ClassConditional", "Reconstruction", "evenly_spaced_items"]

_DIGITS = MappingProxyType({"digits": "scikit-learn's 1,797 handwritten digits (UCI optdigits, 8×8 upscaled), with "
                                      "labels; split 'train' (4 in every 5) or 'test' (every fifth)"})


def evenly_spaced_items(dataset: Any, k: int) -> dict[str, "torch.Tensor"]:
    """``k`` evenly spaced items of ``dataset``, collated: a preview that covers the data, the same at every step."""
    import numpy as np
    from torch.utils.data import default_collate

    k = min(k, len(dataset))
    idx = np.linspace(0, len(dataset) - 1, k).round().astype(int).tolist()
    return default_collate([dataset[i] for i in idx])


class _ImageTask(Task):
    modality = "image"
    config_base = "ganzoo.config:ImageConfig"
    builtins: Mapping[str, str] = _DIGITS
    batch_keys = ("image",)
    output_suffixes = (".png", ".jpg", ".jpeg")
    layouts = "a folder of images (searched recursively; any of png/jpg/bmp/gif/tif/webp)"

    def read(self, config: Any, root: Path, *, split: str, augment: bool) -> Any:
        from ..data.datasets import ImageFolderDataset

        return ImageFolderDataset(root, image_size=config.image_size, channels=config.channels, split=split,
                                  augment=augment)

    def _image_shape(self, config: Any) -> tuple[int, int, int]:
        return config.channels, config.image_size, config.image_size

    def example_batch(self, config: Any, n: int, *, seed: int = 0) -> dict[str, "torch.Tensor"]:
        import torch

        from ..data.synthetic import tanh_noise

        g = torch.Generator().manual_seed(seed)
        return {"image": tanh_noise(g, (n, *self._image_shape(config)))}

    def write_dataset(self, root: str | Path, config: Any, *, n: int = 8, seed: int = 0) -> Path:
        import numpy as np

        from ..data.synthetic import blob_image, save_png

        rng, root = np.random.default_rng(seed), Path(root)
        for i in range(n):
            save_png(blob_image(rng, config.image_size, config.channels), root / f"{i:04d}.png")
        return root

    def preview(self, model: Any, dataset: Any, stem: str | Path, *, n: int = 64, seed: int = 0) -> Path | None:
        from ..data.images import save_image_grid

        return save_image_grid(model.sample(n, seed=seed), Path(stem).with_suffix(".png"))

    def write(self, samples: "torch.Tensor", path: str | Path, config: Any, *, nrow: int | None = None) -> Path:
        from ..data.images import save_image_grid

        return save_image_grid(samples, self.check_output_path(path), nrow=nrow)

    def eval_plan(self) -> str | None:
        return "ganzoo.metrics.generation:GenerationPlan"


class Unconditional(_ImageTask):
    name = "unconditional"
    conditioning = "none"
    description = "images from noise (GAN, DCGAN)"
    metrics = ("kid", "fid", "pr", "is", "coverage")


class ClassConditional(_ImageTask):
    name = "class-conditional"
    conditioning = "label"
    description = "images from noise and a class label or attribute vector"
    config_base = "ganzoo.config:ConditionalConfig"
    batch_keys = ("image", "label")
    layouts = "one sub-folder of images per class (root/<class>/*.png; the sorted folder names are the labels)"
    metrics = ("kid", "fid", "pr", "is", "coverage", "accuracy", "kid_per_class")

    def read(self, config: Any, root: Path, *, split: str, augment: bool) -> Any:
        from ..data.datasets import ImageFolderDataset
        from ..errors import DataError

        ds = ImageFolderDataset(root, image_size=config.image_size, channels=config.channels, labels=True,
                                split=split, augment=augment)
        if config.label_conditioned and len(ds.classes) != config.num_classes:
            raise DataError(f"{ds.root} has {len(ds.classes)} class folders ({', '.join(ds.classes[:5])}…) but the "
                            f"model has {config.num_classes} classes; set --set num_classes={len(ds.classes)}")
        return ds

    def example_batch(self, config: Any, n: int, *, seed: int = 0) -> dict[str, "torch.Tensor"]:
        import torch

        from ..data.synthetic import tanh_noise

        g = torch.Generator().manual_seed(seed)
        image = tanh_noise(g, (n, *self._image_shape(config)))
        return {"image": image, "label": torch.randint(0, config.num_classes, (n,), generator=g)}

    def write_dataset(self, root: str | Path, config: Any, *, n: int = 8, seed: int = 0) -> Path:
        import numpy as np

        from ..data.synthetic import blob_image, save_png

        rng, root, k = np.random.default_rng(seed), Path(root), config.num_classes
        for i in range(max(n, k)):
            save_png(blob_image(rng, config.image_size, config.channels), root / f"class{i % k:02d}" / f"{i:04d}.png")
        return root

    def check_condition(self, model: Any, condition: Any) -> None:
        return  # optional: labels (or attribute vectors); the plugin checks their range

    def conformance_inputs(self, config: Any, batch: Mapping[str, Any], n: int) -> tuple[int | None, Any, dict]:
        return None, batch["label"][:n], {}

    def usage(self, name: str) -> tuple[str, str] | None:
        return (f"ganzoo sample {name} --condition all -o grid.png   # a row per class",
                "images = model.sample(condition=[0, 1, 2], seed=0)  # one image per label")

    def preview(self, model: Any, dataset: Any, stem: str | Path, *, n: int = 64, seed: int = 0) -> Path | None:
        import torch

        from ..data.images import save_image_grid

        k = model.config.num_classes
        per = max(1, n // k)
        labels = torch.arange(k).repeat_interleave(per)
        return save_image_grid(model.sample(len(labels), condition=labels, seed=seed), Path(stem).with_suffix(".png"),
                               nrow=per)


class Reconstruction(_ImageTask):
    name = "reconstruction"
    conditioning = "image"
    description = "auto-encoders and VAEs: encode, decode, sample codes"
    metrics = ("kid", "fid", "pr", "is", "coverage", "psnr", "ssim", "l1")

    def check_condition(self, model: Any, condition: Any) -> None:
        return  # optional: images to reconstruct; without one, samples are drawn from the code prior

    def conformance_inputs(self, config: Any, batch: Mapping[str, Any], n: int) -> tuple[int | None, Any, dict]:
        return n, None, {}

    def sample_inputs(self, model: Any, src: Path, dst: Path, *, batch_size: int = 16, seed: int | None = 0,
                      **options: Any) -> Path:
        from ..translate import translate_path

        return translate_path(model, src, dst, batch_size=batch_size, seed=seed, **options)
