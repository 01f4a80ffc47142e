"""Speech enhancement: noisy speech in, clean speech out (SEGAN). Audio is mono float (N, T) in [-1, 1]."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from ..errors import UsageError
from . import Task
from .image import evenly_spaced_items

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["SpeechEnhancement", "AUDIO_EXTENSIONS"]

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg")


class SpeechEnhancement(Task):
    """``sample(condition=waveforms (N, T) at config.sample_rate)`` → enhanced waveforms (N, T)."""

    name = "speech-enhancement"
    modality = "audio"
    conditioning = "audio"
    condition_required = True
    description = "noisy speech in, clean speech out"
    config_base = "ganzoo.config:AudioConfig"
    layouts = "clean/noisy pairs: root/[train|test]/clean/*.wav and root/[train|test]/noisy/*.wav with matching names"
    batch_keys = ("noisy", "clean")
    output_suffixes = (".wav",)
    metrics = ("pesq", "stoi", "si_sdr", "segsnr")

    def read(self, config: Any, root: Path, *, split: str, augment: bool) -> Any:
        from ..data.datasets import AudioPairDataset

        return AudioPairDataset(root, sample_rate=config.sample_rate, segment=config.segment_length, split=split,
                                augment=augment)

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
        """Enhance a WAV file (→ ``dst`` file) or a folder of them (→ folder ``dst``, same relative names)."""
        import numpy as np

        from ..data.datasets import read_wav

        def one(path: Path, out: Path) -> None:
            import torch

            audio, sr = read_wav(path)
            if sr != model.config.sample_rate:
                raise UsageError(f"{path} is at {sr} Hz; {model.name or model.plugin.name} works at "
                                 f"{model.config.sample_rate} Hz: resample it first")
            x = torch.from_numpy(np.ascontiguousarray(audio))[None].to(model.device)
            self.write(model.sample(condition=x, seed=seed, **options)[0].cpu(), out, model.config)

        if src.is_file():
            one(src, self.check_output_path(dst))
            return dst
        if not src.is_dir():
            raise UsageError(f"No such input: {src}")
        files = sorted(p for p in src.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS)
        if not files:
            raise UsageError(f"{src} holds no audio files ({', '.join(AUDIO_EXTENSIONS)})")
        if dst.suffix:
            raise UsageError(f"{dst} looks like a file; give an output folder for an input folder")
        for f in files:
            out = (dst / f.relative_to(src)).with_suffix(".wav")
            out.parent.mkdir(parents=True, exist_ok=True)
            one(f, out)
        return dst

    def usage(self, name: str) -> tuple[str, str] | None:
        return (f"ganzoo sample {name} --input noisy.wav -o clean.wav   # or a folder of WAVs",
                "clean = model.sample(condition=noisy)  # (N, T) in [-1, 1]")
