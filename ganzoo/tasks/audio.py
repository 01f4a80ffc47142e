"""Speech enhancement: noisy speech in, clean speech out (SEGAN). Audio is mono float (N, T) in [-1, 1]."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from ..errors import DataError, UsageError
from . import Task
from .image import evenly_spaced_items

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import torch

__all__ = ["SpeechEnhancement", "AUDIO_EXTENSIONS", "enhance_file"]

logger = logging.getLogger(__name__)

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg")
_CLIPPED = 1e-3  # a recording with more than 0.1 % of its samples at full scale is called clipped


class SpeechEnhancement(Task):
    """``sample(condition=waveforms (N, T) at config.sample_rate)`` → enhanced waveforms (N, T).

    Training data: ``root/[train|test]/{clean,noisy}/*.wav`` with matching names, cut into windows of
    ``segment_length`` samples with 50 % overlap (SEGAN's recipe). ``ganzoo sample NAME --input`` reads WAV, FLAC or
    OGG files of any sample rate, bit depth and channel count and writes WAVs at the input's rate and channels.
    """

    name = "speech-enhancement"
    modality = "audio"
    conditioning = "audio"
    condition_required = True
    description = "noisy speech in, clean speech out"
    config_base = "ganzoo.config:AudioConfig"
    layouts = "clean/noisy pairs: root/[train|test]/clean/*.wav and root/[train|test]/noisy/*.wav with matching names"
    batch_keys = ("noisy", "clean")
    output_suffixes = (".wav",)
    metrics = ("pesq", "stoi", "si_sdr", "segsnr", "dnsmos")

    def read(self, config: Any, root: Path, *, split: str, augment: bool) -> Any:
        from ..data.audio import SpeechPairWindows

        return SpeechPairWindows(root, sample_rate=config.sample_rate, segment=config.segment_length, split=split)

    def example_batch(self, config: Any, n: int, *, seed: int = 0) -> dict[str, "torch.Tensor"]:
        import torch

        g = torch.Generator().manual_seed(seed)
        t = config.segment_length
        clean = 0.5 * torch.tanh(torch.randn((n, t), generator=g))
        return {"clean": clean, "noisy": (clean + 0.1 * torch.randn((n, t), generator=g)).clamp(-1, 1)}

    def write_dataset(self, root: str | Path, config: Any, *, n: int = 8, seed: int = 0) -> Path:
        import numpy as np

        from ..data.synthetic import save_wav, sine_in_noise

        rng, root = np.random.default_rng(seed), Path(root)
        for i in range(n):
            clean, noisy = sine_in_noise(rng, config.segment_length + 100)
            save_wav(clean, root / "train" / "clean" / f"{i:04d}.wav", config.sample_rate)
            save_wav(noisy, root / "train" / "noisy" / f"{i:04d}.wav", config.sample_rate)
        return root

    def conformance_inputs(self, config: Any, batch: Mapping[str, Any], n: int) -> tuple[int | None, Any, dict]:
        return None, batch["noisy"][:n], {}

    def preview(self, model: Any, dataset: Any, stem: str | Path, *, n: int = 64, seed: int = 0) -> Path | None:
        import torch

        batch = evenly_spaced_items(dataset, 2)
        out = model.sample(condition=batch["noisy"].to(model.device), seed=seed)
        return self.write(torch.cat([batch["noisy"], out.cpu(), batch["clean"]]), Path(stem).with_suffix(".wav"),
                          model.config)

    def write(self, samples: "torch.Tensor", path: str | Path, config: Any, *, nrow: int | None = None) -> Path:
        from ..sampling import write_wav

        return write_wav(samples, self.check_output_path(path), config.sample_rate)

    def sample_inputs(self, model: Any, src: Path, dst: Path, *, batch_size: int = 16, seed: int | None = 0,
                      **options: Any) -> Path:
        """Enhance an audio file (→ the ``.wav`` file ``dst``) or a folder of them (→ folder ``dst``, same relative
        names with ``.wav``). A file that cannot be read stops a single-file run; in a folder it is reported and
        skipped, and the run ends with an error naming how many failed (the others are written)."""
        src, dst = Path(src), Path(dst)
        if src.is_file():
            out = self.check_output_path(dst)
            enhance_file(model, src, out, seed=seed, batch_size=batch_size, **options)
            return out
        if not src.is_dir():
            raise UsageError(f"No such input: {src}")
        files = sorted(p for p in src.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)
        if not files:
            raise UsageError(f"{src} holds no audio files ({', '.join(AUDIO_EXTENSIONS)})")
        if dst.suffix:
            raise UsageError(f"{dst} looks like a file; give an output folder for an input folder")
        if dst.resolve() == src.resolve():
            raise UsageError(f"the output folder {dst} is the input folder; give another one (inputs are kept)")
        failed: list[str] = []
        for f in files:
            out = (dst / f.relative_to(src)).with_suffix(".wav")
            try:
                enhance_file(model, f, out, seed=seed, batch_size=batch_size, **options)
            except DataError as err:
                logger.warning("skipped %s", err)
                failed.append(f.name)
        if failed:
            raise DataError(f"{len(failed)} of {len(files)} files could not be enhanced ({', '.join(failed[:3])}"
                            f"{' …' if len(failed) > 3 else ''}); the other {len(files) - len(failed)} are in {dst}")
        return dst

    def usage(self, name: str) -> tuple[str, str] | None:
        return (f"ganzoo sample {name} --input noisy.wav -o clean.wav   # or a folder of WAVs",
                "clean = model.sample(condition=noisy)  # (N, T) in [-1, 1]")

    def eval_plan(self) -> str | None:
        return "ganzoo.metrics.audio:SpeechEvalPlan"


def enhance_file(model: Any, src: str | Path, dst: str | Path, *, seed: int | None = 0, batch_size: int = 16,
                 **options: Any) -> Path:
    """Enhance one audio file with a speech-enhancement ``model`` and write a WAV at the input's sample rate.

    Every channel is enhanced on its own (resampled through the model's rate with soxr when the rates differ)
    and written back with the input's channel count and bit depth (16/24/32-bit PCM or float; 8-bit and
    compressed inputs are written as 16-bit PCM). A float input that exceeds full scale is scaled into [-1, 1]
    for the model and back afterwards; a clipped recording is enhanced with a warning (clipping cannot be undone);
    a silent file is written back silent.

    Args:
        model (`GanModel`): a speech-enhancement model.
        src (`str` or `Path`): a WAV, FLAC or OGG file.
        dst (`str` or `Path`): the WAV to write (atomically; never the input itself).
        seed (`int`, *optional*): the model's noise seed.
        batch_size (`int`, *optional*): windows per forward pass.

    Returns:
        `Path`: ``dst``.

    Raises:
        DataError: ``src`` is missing, not audio, corrupt, empty, or holds NaN/inf.
        UsageError: ``dst`` is ``src``.
    """
    import numpy as np
    import torch

    from ..data.audio import clipped_fraction, read_audio, resample, write_audio

    src, dst = Path(src), Path(dst)
    if dst.exists() and dst.resolve() == src.resolve():
        raise UsageError(f"{dst} is the input file; write the enhanced audio elsewhere (inputs are kept)")
    audio = read_audio(src)
    data = audio.data
    peak = float(np.abs(data).max())
    rate = int(model.config.sample_rate)
    if peak == 0.0:
        logger.info("%s is silent: wrote silence", src)
        return write_audio(dst, np.zeros_like(data), audio.sample_rate, subtype=audio.subtype)
    scale = 1.0
    if peak > 1.0:
        scale = peak
        logger.warning("%s exceeds full scale (peak %.3g): scaled into [-1, 1] for the model and back", src, peak)
    elif clipped_fraction(data) > _CLIPPED:
        logger.warning("%s is clipped (%.1f %% of samples at full scale): enhancement cannot restore clipped peaks",
                       src, 100 * clipped_fraction(data))
    x = resample(data / scale, audio.sample_rate, rate)  # (T', C)
    x = _fit_range(x)
    if "batch_size" in model.impl.sample_options():
        options = {"batch_size": batch_size, **options}
    with torch.no_grad():
        cond = torch.from_numpy(np.ascontiguousarray(x.T)).to(model.device)
        y = model.sample(condition=cond, seed=seed, **options).cpu().numpy().T
    y = resample(y, rate, audio.sample_rate)
    y = _fit_length(y, audio.frames) * scale
    return write_audio(dst, y, audio.sample_rate, subtype=audio.subtype)


def _fit_range(x: "np.ndarray") -> "np.ndarray":
    import numpy as np

    # resampling a full-scale signal can overshoot ±1 by a hair (Gibbs); the model takes [-1, 1]
    return np.clip(x, -1.0, 1.0)


def _fit_length(y: "np.ndarray", frames: int) -> "np.ndarray":
    import numpy as np

    if len(y) >= frames:
        return y[:frames]
    return np.pad(y, ((0, frames - len(y)), (0, 0)))
