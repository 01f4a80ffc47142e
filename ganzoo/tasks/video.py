"""Video prediction: future frames from past frames. Clips are float (N, T, C, H, W) in [-1, 1]."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Mapping

from ..errors import UsageError
from . import Task
from .image import evenly_spaced_items

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["VideoPrediction"]


class VideoPrediction(Task):
    """``sample(condition=context clips (N, context_frames, C, H, W))`` → predicted clips (N, T_future, C, H, W)."""

    name = "video-prediction"
    modality = "video"
    conditioning = "frames"
    condition_required = True
    description = "future frames from past frames"
    config_base = "ganzoo.config:VideoConfig"
    layouts = "clips as folders of frames: root/[train|test]/<clip>/*.png (frames in name order)"
    builtins = MappingProxyType({"moving-digits": "scikit-learn digits bouncing in a frame (Moving-MNIST recipe, "
                                                  "one digit per clip)"})
    batch_keys = ("frames",)
    output_suffixes = (".gif", ".png")
    metrics = ("psnr", "ssim", "mse")

    def read(self, config: Any, root: Path, *, split: str, augment: bool) -> Any:
        from ..data.datasets import FrameSequenceDataset

        return FrameSequenceDataset(root, image_size=config.image_size, channels=config.channels,
                                    length=config.context_frames + config.future_frames, split=split)

    def example_batch(self, config: Any, n: int, *, seed: int = 0) -> dict[str, "torch.Tensor"]:
        import torch

        from ..data.synthetic import tanh_noise

        g = torch.Generator().manual_seed(seed)
        length = config.context_frames + config.future_frames
        s = config.image_size
        return {"frames": tanh_noise(g, (n, length, config.channels, s, s))}

    def write_dataset(self, root: str | Path, config: Any, *, n: int = 8, seed: int = 0) -> Path:
        import numpy as np

        from ..data.synthetic import blob_image, save_png

        rng, root = np.random.default_rng(seed), Path(root)
        length = config.context_frames + config.future_frames
        for clip in range(max(1, n // 2)):
            base = blob_image(rng, config.image_size, config.channels)
            for f in range(length + 1):
                save_png(np.roll(base, f, axis=1), root / "train" / f"clip{clip:03d}" / f"{f:04d}.png")
        return root

    def conformance_inputs(self, config: Any, batch: Mapping[str, Any], n: int) -> tuple[int | None, Any, dict]:
        return None, batch["frames"][:n, :config.context_frames], {}

    def usage(self, name: str) -> tuple[str, str] | None:
        return (f"ganzoo sample {name} --input frames/ -o future.gif",
                "future = model.sample(condition=frames)  # (N, T, C, H, W)")

    def preview(self, model: Any, dataset: Any, stem: str | Path, *, n: int = 64, seed: int = 0) -> Path | None:
        import torch

        batch = evenly_spaced_items(dataset, 4)
        ctx = model.config.context_frames
        out = model.sample(condition=batch["frames"][:, :ctx].to(model.device), seed=seed)
        return self.write(torch.cat([batch["frames"][:, :ctx], out.cpu()], dim=1), Path(stem).with_suffix(".gif"),
                          model.config)

    def write(self, samples: "torch.Tensor", path: str | Path, config: Any, *, nrow: int | None = None) -> Path:
        """A GIF of the clips side by side, or (``.png``) a grid with one row of frames per clip."""
        path = self.check_output_path(path)
        if path.suffix.lower() == ".gif":
            from ..sampling import write_gif

            return write_gif(samples, path)
        from ..data.images import save_image_grid

        v = samples if samples.ndim == 5 else samples[None]
        return save_image_grid(v.flatten(0, 1), path, nrow=v.shape[1])

    def sample_inputs(self, model: Any, src: Path, dst: Path, *, batch_size: int = 16, seed: int | None = 0,
                      **options: Any) -> Path:
        """Predict from a folder of frames (the last ``context_frames`` of it) and write context + prediction."""
        import torch

        from ..data.images import list_images, open_image, to_tensor

        if not src.is_dir():
            raise UsageError(f"{src}: give a folder of frames (its last {model.config.context_frames} frames, in "
                             f"name order, are the context)")
        files = list_images(src, recursive=False)[0]
        ctx = model.config.context_frames
        if len(files) < ctx:
            raise UsageError(f"{src} has {len(files)} frames; {model.name or model.plugin.name} needs at least {ctx}")
        frames = [to_tensor(open_image(f, model.config.channels)) for f in files[-ctx:]]
        if len({tuple(f.shape) for f in frames}) > 1:
            raise UsageError(f"{src}: the frames have different sizes; give frames of one size")
        clip = torch.stack(frames)[None].to(model.device)
        out = model.sample(condition=clip, seed=seed, **options).cpu()
        return self.write(torch.cat([clip.cpu(), out], dim=1), dst, model.config)
