"""Audio files in and out: robust reading (any WAV bit depth, FLAC, OGG), resampling, atomic writing, and the
windowed clean/noisy pair dataset speech-enhancement models train on.

    >>> from ganzoo.data.audio import read_audio, resample, write_audio
    >>> audio = read_audio("noisy.wav")            # AudioFile: float32 (T, C) in [-1, 1], its rate and format
    >>> x16 = resample(audio.data[:, 0], audio.sample_rate, 16000)
    >>> write_audio("out.wav", x16, 16000)

Reading uses ``soundfile`` (libsndfile: 8/16/24/32-bit PCM, float WAV, FLAC, OGG) when it is installed
(``pip install ganzoo[audio]``); without it, WAV files are read with the standard library (8/16/24/32-bit PCM).
Resampling uses ``soxr`` (the SoX resampler, "HQ" quality). Every failure is a one-line
:class:`~ganzoo.errors.DataError` that names the file and what to do; writes are atomic (an interrupted write
leaves the old file intact).
"""

from __future__ import annotations

import logging
import os
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError
from .datasets import GanDataset, _use_split

__all__ = ["AUDIO_EXTENSIONS", "AudioFile", "read_audio", "write_audio", "resample", "clipped_fraction",
           "pre_emphasis", "de_emphasis", "SpeechPairWindows"]

logger = logging.getLogger(__name__)

#: File suffixes read as audio (what ``--input DIR`` and the pair dataset pick up).
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg")

_SUBTYPES_KEPT = ("PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE")  # written back as they came; others → PCM_16


@dataclass
class AudioFile:
    """A decoded audio file.

    Attributes:
        data (`np.ndarray`): float32 samples, shape (T, C), nominally in [-1, 1] (float files may exceed it).
        sample_rate (`int`): samples per second.
        subtype (`str`): the sample format as libsndfile names it (``PCM_16``, ``PCM_24``, ``PCM_U8``, ``FLOAT`` …).
        path (`Path | None`): where it was read from.
    """

    data: np.ndarray
    sample_rate: int
    subtype: str = "PCM_16"
    path: Path | None = None

    @property
    def channels(self) -> int:
        return int(self.data.shape[1])

    @property
    def frames(self) -> int:
        return int(self.data.shape[0])

    @property
    def duration(self) -> float:
        return self.frames / float(self.sample_rate)

    def mono(self) -> np.ndarray:
        """The channels averaged: float32 (T,)."""
        return self.data.mean(axis=1, dtype=np.float32) if self.channels > 1 else self.data[:, 0]


def _read_soundfile(path: Path) -> AudioFile:
    import soundfile as sf

    try:
        info = sf.info(str(path))
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as err:  # libsndfile's errors are RuntimeError/LibsndfileError with a useful text
        detail = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise DataError(f"{path} is not a readable audio file ({detail}); give a WAV, FLAC or OGG file") from None
    return AudioFile(data, int(sr), str(info.subtype), path)


def _read_wave(path: Path) -> AudioFile:
    try:
        with wave.open(str(path), "rb") as w:
            sr, width, nch, n = w.getframerate(), w.getsampwidth(), w.getnchannels(), w.getnframes()
            raw = w.readframes(n)
    except (wave.Error, EOFError, OSError) as err:
        raise DataError(f"{path} is not a readable WAV file ({err}); for float WAV, FLAC or OGG install soundfile "
                        f"(pip install 'ganzoo[audio]')") from None
    if nch < 1 or width not in (1, 2, 3, 4):
        raise DataError(f"{path}: unsupported WAV layout ({nch} channels, {8 * width}-bit)")
    buf = np.frombuffer(raw[: len(raw) - len(raw) % (width * nch)], dtype=np.uint8)
    if width == 1:  # 8-bit WAV is unsigned
        data, subtype = (buf.astype(np.float32) - 128.0) / 128.0, "PCM_U8"
    elif width == 3:  # little-endian 24-bit: widen to int32 with the sign in the top byte
        b = buf.reshape(-1, 3).astype(np.int32)
        ints = (b[:, 0] << 8) | (b[:, 1] << 16) | (b[:, 2] << 24)
        data, subtype = (ints >> 8).astype(np.float32) / 8388608.0, "PCM_24"
    else:
        dtype = "<i2" if width == 2 else "<i4"
        data = np.frombuffer(buf.tobytes(), dtype=dtype).astype(np.float32) / float(2 ** (8 * width - 1))
        subtype = "PCM_16" if width == 2 else "PCM_32"
    return AudioFile(data.reshape(-1, nch), int(sr), subtype, path)


def read_audio(path: str | os.PathLike[str]) -> AudioFile:
    """Read an audio file as float32 (T, C) samples with its sample rate and sample format.

    Args:
        path (`str` or `os.PathLike`): a WAV (8/16/24/32-bit PCM or 32/64-bit float), FLAC or OGG file.

    Returns:
        `AudioFile`: the samples (every channel kept), the sample rate, the sample format.

    Raises:
        DataError: the file is missing, is not audio or is corrupt, holds no samples, or holds NaN/inf.

    Example:
        >>> audio = read_audio("speech.wav")
        >>> audio.sample_rate, audio.channels, audio.mono().shape
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"No such audio file: {path}")
    try:
        import soundfile  # noqa: F401
    except ImportError:
        audio = _read_wave(path)
    else:
        audio = _read_soundfile(path)
    if audio.frames == 0:
        raise DataError(f"{path} holds no audio samples")
    if audio.sample_rate < 1:
        raise DataError(f"{path} has an invalid sample rate ({audio.sample_rate} Hz)")
    if not np.isfinite(audio.data).all():
        raise DataError(f"{path} holds NaN or infinite samples; it cannot be processed")
    return audio


def write_audio(path: str | os.PathLike[str], data: np.ndarray, sample_rate: int, *, subtype: str = "PCM_16") -> Path:
    """Write samples in [-1, 1] to a WAV file atomically (the old file survives an interrupted write).

    Args:
        path (`str` or `os.PathLike`): the ``.wav`` file to write; parent folders are created.
        data (`np.ndarray`): (T,) mono or (T, C) samples; values outside [-1, 1] are clipped for PCM formats.
        sample_rate (`int`): samples per second.
        subtype (`str`, *optional*, defaults to ``"PCM_16"``): ``PCM_16``, ``PCM_24``, ``PCM_32``, ``FLOAT`` or
            ``DOUBLE``; any other (``PCM_U8``, ``VORBIS`` …) is written as ``PCM_16``. Without soundfile
            installed only ``PCM_16`` is written.

    Returns:
        `Path`: ``path``.

    Example:
        >>> write_audio("out.wav", np.zeros(16000, np.float32), 16000)
    """
    from ..hub import atomic_write

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    x = np.asarray(data, dtype=np.float32)
    x = x[:, None] if x.ndim == 1 else x
    subtype = subtype if subtype in _SUBTYPES_KEPT else "PCM_16"
    if not subtype.startswith(("FLOAT", "DOUBLE")):
        x = np.clip(x, -1.0, 1.0)
    try:
        import soundfile as sf
    except ImportError:
        sf = None
    with atomic_write(path) as f:
        if sf is not None:
            sf.write(f, x, int(sample_rate), subtype=subtype, format="WAV")
        else:
            with wave.open(f, "wb") as w:
                w.setnchannels(x.shape[1])
                w.setsampwidth(2)
                w.setframerate(int(sample_rate))
                w.writeframes((np.clip(x, -1, 1) * 32767.0).round().astype("<i2").tobytes())
    return path


def resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Resample along the first axis with soxr (the SoX resampler, ``HQ`` quality); a no-op for equal rates.

    Args:
        x (`np.ndarray`): (T,) or (T, C) float samples.
        rate_in (`int`), rate_out (`int`): sample rates in Hz.

    Returns:
        `np.ndarray`: float32 samples at ``rate_out``, ``round(T * rate_out / rate_in)`` frames.

    Raises:
        DataError: soxr is not installed.
    """
    x = np.asarray(x, dtype=np.float32)
    if int(rate_in) == int(rate_out):
        return x
    try:
        import soxr
    except ImportError:
        raise DataError(f"audio at {rate_in} Hz must be resampled to {rate_out} Hz, which needs soxr: "
                        f"pip install 'ganzoo[audio]'") from None
    return np.ascontiguousarray(soxr.resample(x, int(rate_in), int(rate_out), quality="HQ"), dtype=np.float32)


def clipped_fraction(x: np.ndarray, *, level: float = 0.999) -> float:
    """The fraction of samples at or beyond ``level`` of full scale (a clipped recording has runs of them)."""
    x = np.asarray(x)
    return float(np.mean(np.abs(x) >= level)) if x.size else 0.0


def pre_emphasis(x: Any, coeff: float) -> Any:
    """``y[n] = x[n] - coeff·x[n-1]`` along the last axis (``y[0] = x[0]``); numpy arrays or torch tensors."""
    if coeff <= 0:
        return x
    y = x.clone() if hasattr(x, "clone") else np.array(x, copy=True)
    y[..., 1:] = x[..., 1:] - coeff * x[..., :-1]
    return y


def de_emphasis(y: Any, coeff: float) -> Any:
    """The inverse of :func:`pre_emphasis`: ``x[n] = y[n] + coeff·x[n-1]`` (an IIR filter, run by scipy when
    installed); numpy arrays or torch tensors."""
    if coeff <= 0:
        return y
    is_torch = hasattr(y, "detach")
    arr = y.detach().cpu().double().numpy() if is_torch else np.asarray(y, dtype=np.float64)
    try:
        from scipy.signal import lfilter

        out = lfilter([1.0], [1.0, -coeff], arr, axis=-1)
    except ImportError:  # pragma: no cover - scipy ships with scikit-learn, a test dependency
        out = np.empty_like(arr)
        acc = np.zeros(arr.shape[:-1])
        for n in range(arr.shape[-1]):
            acc = arr[..., n] + coeff * acc
            out[..., n] = acc
    if is_torch:
        import torch

        return torch.from_numpy(out).to(dtype=y.dtype, device=y.device)
    return out.astype(np.asarray(y).dtype if np.asarray(y).dtype.kind == "f" else np.float32)


def _mono_at(audio: Any, path: Path, sample_rate: int) -> np.ndarray:
    if audio.sample_rate != sample_rate:
        raise DataError(f"{path} is at {audio.sample_rate} Hz but the model trains at {sample_rate} Hz; resample "
                        f"the data set first (scripts/fetch_speech.py writes {sample_rate} Hz)")
    return audio.mono()



class SpeechPairWindows(GanDataset):
    """Clean/noisy WAV pairs with matching names, cut into windows of ``segment`` samples every ``hop`` samples.

    This is SEGAN's training layout (the authors slice every utterance into 16,384-sample windows with 50 %
    overlap). Unlike their slicer, which drops the tail of each file and files shorter than a window, the last
    window of a file is zero-padded, so short utterances train too. Items are a pure function of the index (no
    randomness), so resumed training sees the same stream. Samples are held in memory as int16.

    Args:
        root: the data folder (``root/[split/]clean/*.wav`` and ``root/[split/]noisy/*.wav``).
        sample_rate: the rate every file must have.
        segment: window length in samples.
        hop: window step (default ``segment // 2``: 50 % overlap).
        split: ``"train"``/``"test"`` sub-folder when present.

    Items: ``{"clean": (segment,), "noisy": (segment,)}`` float32 tensors in [-1, 1].

    Raises:
        DataError: missing folders, unmatched names, no audio files, a wrong sample rate, unreadable files.
    """

    def __init__(self, root: str | os.PathLike[str], *, sample_rate: int, segment: int, hop: int | None = None,
                 split: str | None = "train") -> None:
        self.root = _use_split(Path(root), split)
        clean, noisy = self.root / "clean", self.root / "noisy"
        if not clean.is_dir() or not noisy.is_dir():
            raise DataError(f"{self.root} needs clean/ and noisy/ folders of WAV files with matching names "
                            f"(scripts/fetch_speech.py builds one)")
        names = sorted(p.name for p in clean.iterdir() if p.suffix.lower() in AUDIO_EXTENSIONS)
        if not names:
            raise DataError(f"{clean} holds no audio files ({', '.join(AUDIO_EXTENSIONS)})")
        missing = [n for n in names if not (noisy / n).is_file()]
        if missing:
            raise DataError(f"{noisy} lacks the noisy versions of {missing[:3]}{' …' if len(missing) > 3 else ''}")
        self.segment, self.hop = int(segment), int(hop or segment // 2)
        self.sample_rate = int(sample_rate)
        self.skipped: dict[str, int] = {}
        self._clean: list[np.ndarray] = []
        self._noisy: list[np.ndarray] = []
        self.windows: list[tuple[int, int]] = []  # (file index, start sample)
        unreadable: list[str] = []
        for name in names:
            try:  # an unreadable pair is skipped and counted, as every dataset format does; a wrong rate is an error
                pair = (read_audio(clean / name), read_audio(noisy / name))
            except DataError:
                unreadable.append(name)
                continue
            i = len(self._clean)
            c, n = (_mono_at(a, p, self.sample_rate) for a, p in zip(pair, (clean / name, noisy / name)))
            length = min(len(c), len(n))
            if abs(len(c) - len(n)) > self.hop:
                raise DataError(f"{clean / name} and {noisy / name} differ in length by {abs(len(c) - len(n))} "
                                f"samples; they must be the same utterance")
            self._clean.append(_to_int16(c[:length]))
            self._noisy.append(_to_int16(n[:length]))
            start = 0
            while True:
                self.windows.append((i, start))
                if start + self.segment >= length:
                    break
                start += self.hop
        self.names = [n for n in names if n not in set(unreadable)]
        self.skipped["unreadable audio files"] = len(unreadable)
        if unreadable:
            logger.warning("%s: skipped %d unreadable pair(s): %s", self.root, len(unreadable),
                           ", ".join(unreadable[:5]) + (" …" if len(unreadable) > 5 else ""))
        if not self.windows:
            raise DataError(f"{self.root} holds no readable clean/noisy pairs")

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: int) -> dict[str, Any]:
        import torch

        i, start = self.windows[index]
        out = {}
        for key, store in (("clean", self._clean), ("noisy", self._noisy)):
            w = store[i][start:start + self.segment].astype(np.float32) / 32768.0
            if len(w) < self.segment:
                w = np.pad(w, (0, self.segment - len(w)))
            out[key] = torch.from_numpy(w)
        return out


def _to_int16(x: np.ndarray) -> np.ndarray:
    return (np.clip(x, -1.0, 32767.0 / 32768.0) * 32768.0).round().astype(np.int16)
