"""Video prediction: future frames from past frames. Clips are float (N, T, C, H, W) in [-1, 1].

``sample(condition=context)`` takes ``(N, context_frames, C, H, W)`` clips and returns the predicted future
``(N, T_future, C, H, W)``. Plugins that roll out autoregressively declare a ``horizon`` sampling option (how many
frames to predict); action-conditioned ones (game models) declare ``actions``. The task asks
``model.impl.sample_options()`` for them, never the plugin's name.

Outputs: an animated ``.gif`` or ``.mp4`` (clips side by side; comparisons as labelled ``input | predicted |
truth`` panels, one row per clip) or a ``.png`` grid with one row of frames per clip.
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from ..errors import UsageError
from . import Task
from .image import evenly_spaced_items

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["VideoPrediction", "write_video", "write_comparison", "PREVIEW_HORIZON"]

PREVIEW_HORIZON = 10  # frames the trainer's preview predicts when the plugin rolls out to any horizon
_FPS = 4  # playback rate of written GIF/MP4 (slow enough to follow each predicted frame)


def _frame_images(rows: Sequence["torch.Tensor"], labels: Sequence[str] = (), *, pad: int = 2) -> list[Any]:
    """One PIL image per time step: each row tensor (T, P, C, H, W) shows P panels of one clip side by side.

    ``labels`` (one per panel) are written in a strip above the first row with Pillow's built-in font.
    """
    import torch
    from PIL import Image, ImageDraw

    t_len, panels, c, h, w = rows[0].shape
    width = panels * (w + pad) + pad
    top = 12 if labels else 0
    height = top + len(rows) * (h + pad) + pad
    frames = []
    for t in range(t_len):
        canvas = torch.ones(3, height, width)
        for r, row in enumerate(rows):
            y = top + pad + r * (h + pad)
            for p in range(panels):
                x = pad + p * (w + pad)
                img = row[t, p].detach().float().cpu().clamp(-1, 1).add(1).div(2)
                canvas[:, y:y + h, x:x + w] = img.expand(3, h, w)
        arr = (canvas.permute(1, 2, 0).numpy() * 255).round().astype("uint8")
        img = Image.fromarray(arr, mode="RGB")
        if labels:
            draw = ImageDraw.Draw(img)
            for p, text in enumerate(labels):
                draw.text((pad + p * (w + pad) + 1, 0), text, fill=(0, 0, 0))
        frames.append(img.convert("L") if c == 1 and not labels else img)
    return frames


def _save_frames(frames: list[Any], path: Path, fps: int) -> Path:
    from ..hub import atomic_write

    suffix = path.suffix.lower()
    if suffix == ".gif":
        pal = [f.convert("P", palette=0) if f.mode == "RGB" else f for f in frames]
        with atomic_write(path) as f:
            pal[0].save(f, format="GIF", save_all=True, append_images=pal[1:], duration=int(1000 / fps), loop=0)
        return path
    if suffix == ".mp4":
        return _save_mp4(frames, path, fps)
    raise UsageError(f"cannot write a video as {path.name!r}: use .gif or .mp4")


def _save_mp4(frames: list[Any], path: Path, fps: int) -> Path:
    import os
    import tempfile

    import numpy as np

    try:
        import cv2
    except ImportError as err:
        raise UsageError("writing .mp4 needs OpenCV: pip install opencv-python-headless (or write a .gif)") from err
    w, h = frames[0].size
    w2, h2 = w + w % 2, h + h % 2  # codecs want even sides
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".mp4", dir=path.parent)
    os.close(fd)
    try:
        writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*"mp4v"), float(fps), (w2, h2))
        if not writer.isOpened():
            raise UsageError(f"OpenCV cannot write {path.name} (no MPEG-4 encoder); write a .gif instead")
        for f in frames:
            arr = np.full((h2, w2, 3), 255, dtype=np.uint8)
            arr[:h, :w] = np.asarray(f.convert("RGB"))[:, :, ::-1]
            writer.write(arr)
        writer.release()
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def write_video(clips: "torch.Tensor", path: str | Path, *, fps: int = _FPS) -> Path:
    """Write clips ``(N, T, C, H, W)`` (or one ``(T, C, H, W)``) in [-1, 1] side by side as a GIF or MP4, atomically.

    Args:
        clips (`torch.Tensor`): the clips.
        path (`str` or `Path`): ``.gif`` or ``.mp4``.
        fps (`int`, *optional*, defaults to 4): playback rate.

    Returns:
        `Path`: the file written.

    Raises:
        UsageError: another suffix, or ``.mp4`` without OpenCV.
    """
    v = clips if clips.ndim == 5 else clips[None]
    return _save_frames(_frame_images([v.transpose(0, 1)]), Path(path), fps)


def write_comparison(context: "torch.Tensor", predicted: "torch.Tensor | Mapping[str, torch.Tensor]",
                     truth: "torch.Tensor | None", path: str | Path, *, fps: int = _FPS) -> Path:
    """Write ``input | predicted | truth`` panels, one row per clip, as a GIF/MP4 or (``.png``) a frame grid.

    In the animation every panel first plays the context; then ``input`` holds its last frame (what copying the
    last frame would predict), each prediction panel plays its prediction and ``truth`` the real future (white
    frames where the data ends before the prediction). The PNG grid has one row of frames per panel per clip.

    Args:
        context (`torch.Tensor`): ``(N, Tc, C, H, W)``.
        predicted: ``(N, Tf, C, H, W)``, or ``{label: (N, Tf, C, H, W)}`` for several systems side by side
            (e.g. ``{"l2": …, "adv+gdl": …}``).
        truth (`torch.Tensor`, *optional*): ``(N, ≤Tf, C, H, W)``; None drops the truth panel.
        path (`str` or `Path`): ``.gif``, ``.mp4`` or ``.png``.

    Returns:
        `Path`: the file written.
    """
    import torch

    preds = dict(predicted) if isinstance(predicted, Mapping) else {"predicted": predicted}
    context = context.detach().cpu().float()
    horizon = max(p.shape[1] for p in preds.values())
    panels = [torch.cat([context, context[:, -1:].expand(-1, horizon, -1, -1, -1)], 1)]
    panels += [torch.cat([context, p.detach().cpu().float()], 1) for p in preds.values()]
    names = ["input", *preds]
    if truth is not None:
        truth = truth.detach().cpu().float()[:, :horizon]
        missing = horizon - truth.shape[1]
        if missing > 0:  # the data ends before the prediction does: white frames (no truth to show)
            truth = torch.cat([truth, torch.ones(truth.shape[0], missing, *truth.shape[2:])], 1)
        panels.append(torch.cat([context, truth], 1))
        names.append("truth")
    path = Path(path)
    if path.suffix.lower() == ".png":
        from ..data.images import save_image_grid

        grid = torch.stack(panels, 1)  # (N, P, T, C, H, W): one row of frames per panel
        return save_image_grid(grid.flatten(0, 2), path, nrow=grid.shape[2])
    rows = [torch.stack([p[i] for p in panels], 1) for i in range(context.shape[0])]  # (T, P, C, H, W) each
    return _save_frames(_frame_images(rows, names), path, fps)


class VideoPrediction(Task):
    """``sample(condition=context clips (N, context_frames, C, H, W))`` → predicted clips (N, T_future, C, H, W)."""

    name = "video-prediction"
    modality = "video"
    conditioning = "frames"
    condition_required = True
    description = "future frames from past frames (and game frames from actions)"
    config_base = "ganzoo.config:VideoConfig"
    layouts = ("clips under root/[train|test]/: folders of frames (<clip>/*.png, name order; action-conditioned "
               "models also read <clip>/act.log, one action index per line), video files (.avi/.mp4/.gif …) or .npy "
               "clip arrays uint8 (N, T, H, W[, C])")
    builtins = MappingProxyType({
        "moving-digits": "Moving-MNIST recipe: 2 OpenCV digits bouncing in a 64² frame, generated on the fly (needs "
                         "scripts/fetch_digits.py); test clips use held-out digits",
        "moving-digits-sklearn": "the same recipe on scikit-learn's digits (always available; tests, smoke runs)",
    })
    batch_keys = ("frames",)
    output_suffixes = (".gif", ".mp4", ".png")
    metrics = ("mse", "psnr", "ssim", "frame_sharpness", "sharp_diff", "kid")

    # -- data -----------------------------------------------------------------------------------------------

    def read(self, config: Any, root: Path, *, split: str, augment: bool) -> Any:
        from ..data.video import VideoClipDataset

        return VideoClipDataset(root, image_size=config.image_size, channels=config.channels,
                                length=config.context_frames + config.future_frames, split=split)

    def builtin(self, name: str, config: Any, *, split: str | None = None) -> Any:
        """``builtin:moving-digits`` (OpenCV digits) or ``builtin:moving-digits-sklearn``."""
        if name not in self.builtins:
            return super().builtin(name, config, split=split)  # the base class names the valid ones
        from ..data.video import moving_digits

        return moving_digits("opencv" if name == "moving-digits" else "sklearn", split=split,
                             image_size=config.image_size, channels=config.channels,
                             length=config.context_frames + config.future_frames)

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
            folder = root / "train" / f"clip{clip:03d}"
            for f in range(length + 1):
                save_png(np.roll(base, f, axis=1), folder / f"{f:04d}.png")
            (folder / "act.log").write_text("0\n" * length)  # action t leads from frame t to t + 1 (all: action 0)
        return root

    # -- sampling -------------------------------------------------------------------------------------------

    def conformance_inputs(self, config: Any, batch: Mapping[str, Any], n: int) -> tuple[int | None, Any, dict]:
        ctx = config.context_frames
        options = {"actions": batch["actions"][:n, ctx - 1:]} if "actions" in batch else {}
        return None, batch["frames"][:n, :ctx], options

    def check_output(self, out: "torch.Tensor", n: int) -> str | None:
        problem = super().check_output(out, n)
        if problem is None and out.shape[1] < 1:
            return "sample() returned clips with no frame"
        return problem

    def usage(self, name: str) -> tuple[str, str] | None:
        return (f"ganzoo sample {name} --input frames/ -o future.gif",
                "future = model.sample(condition=frames)  # (N, T, C, H, W)")

    def preview(self, model: Any, dataset: Any, stem: str | Path, *, n: int = 64, seed: int = 0) -> Path | None:
        """``input | predicted | truth`` for 4 clips spread over the dataset (longer rollouts when supported)."""
        batch = evenly_spaced_items(dataset, 4)
        ctx = model.config.context_frames
        clips = batch["frames"]
        options: dict[str, Any] = {}
        if "horizon" in model.impl.sample_options():
            options["horizon"] = PREVIEW_HORIZON
        if "actions" in model.impl.sample_options() and "actions" in batch:
            horizon = min(options.get("horizon", clips.shape[1] - ctx), batch["actions"].shape[1] - ctx + 1)
            options["horizon"] = horizon
            options["actions"] = batch["actions"][:, ctx - 1:ctx - 1 + horizon]
        out = model.sample(condition=clips[:, :ctx].to(model.device), seed=seed, **options).cpu()
        truth = clips[:, ctx:]
        return write_comparison(clips[:, :ctx], out, truth if truth.shape[1] else None, Path(stem).with_suffix(".gif"))

    def write(self, samples: "torch.Tensor", path: str | Path, config: Any, *, nrow: int | None = None) -> Path:
        """A GIF/MP4 of the clips side by side, or (``.png``) a grid with one row of frames per clip."""
        path = self.check_output_path(path)
        if path.suffix.lower() in (".gif", ".mp4"):
            return write_video(samples, path)
        from ..data.images import save_image_grid

        v = samples if samples.ndim == 5 else samples[None]
        return save_image_grid(v.flatten(0, 1), path, nrow=v.shape[1])

    def _context(self, model: Any, src: Path) -> "torch.Tensor":
        """The last ``context_frames`` frames of a clip (folder of frames or video file), at the model's size."""
        from ..data.video import clip_to_tensor, fit_frames, read_clip
        from ..errors import DataError

        cfg = model.config
        try:
            frames = read_clip(src, channels=cfg.channels)
        except DataError as err:
            raise UsageError(str(err)) from err
        ctx = cfg.context_frames
        if len(frames) < ctx:
            raise UsageError(f"{src} has {len(frames)} frames; {model.name or model.plugin.name} needs at least {ctx} "
                             f"(its context)")
        return clip_to_tensor(fit_frames(frames[-ctx:], cfg.image_size))[None]

    def sample_inputs(self, model: Any, src: Path, dst: Path, *, batch_size: int = 16, seed: int | None = 0,
                      **options: Any) -> Path:
        """Predict what follows a clip (a folder of frames or a video file; its last ``context_frames`` frames are
        the context) and write ``input | predicted`` to ``dst``. ``horizon=N`` predicts N frames when the plugin
        rolls out."""
        import torch

        self.check_output_path(dst)
        clip = self._context(model, Path(src)).to(model.device)
        out = model.sample(condition=clip, seed=seed, **options).cpu()
        if Path(dst).suffix.lower() == ".png":
            return self.write(torch.cat([clip.cpu(), out], dim=1), dst, model.config)
        return write_comparison(clip.cpu(), out, None, dst)

    def play(self, model: Any, actions: str | Sequence[Any], dst: str | Path, *, seed: int | None = 0,
             src: str | Path | None = None) -> Path:
        """``ganzoo sample NAME --play ACTIONS``: roll an action-conditioned model out under ``actions``.

        Args:
            model (`GanModel`): a model whose ``sample()`` declares an ``actions`` option (gamegan).
            actions (`str` or sequence): the action sequence, in the plugin's notation (gamegan: ``"LLRRN…"`` or
                ``"left,left,noop"`` or integers); its length is the horizon.
            dst (`str` or `Path`): ``.gif``, ``.mp4`` or ``.png``.
            seed (`int`, *optional*): which start state (the plugin's ``example_batch`` for this seed: for games,
                a state of its simulator) when ``src`` is not given.
            src (*optional*): a clip (folder of frames or video file) whose last frames are the start instead.

        Returns:
            `Path`: the file written (``input | predicted`` panels).

        Raises:
            UsageError: the model takes no actions, or an action is unknown or out of range (the plugin says which).
        """
        name = model.name or model.plugin.name
        if "actions" not in model.impl.sample_options():
            raise UsageError(f"{name} takes no actions: --play is for action-conditioned models (e.g. gamegan); use "
                             f"--input to predict from frames")
        dst = self.check_output_path(dst)
        ctx_n = model.config.context_frames
        if src is not None:
            context = self._context(model, Path(src))
        else:
            start = model.impl.example_batch(model, 1, seed=0 if seed is None else int(seed))
            context = start["frames"][:, :ctx_n]
        if isinstance(actions, str) and not actions.strip():
            raise UsageError("--play needs at least one action")
        out = model.sample(condition=context.to(model.device), seed=seed, actions=actions).cpu()
        return write_comparison(context, out, None, dst)

    def eval_plan(self) -> str | None:
        return "ganzoo.metrics.video_plan:VideoPlan"
