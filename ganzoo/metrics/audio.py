"""Speech-enhancement metrics, each with its protocol, and the classical baseline they are shown beside.

    >>> from ganzoo.metrics.audio import evaluate_speech
    >>> report = evaluate_speech("segan-speech", "data/speech", split="test")
    >>> print(report.table())          # noisy input | Wiener filter | the model, per metric

=========  =====================================================================  ================================
metric     definition                                                             implementation
=========  =====================================================================  ================================
pesq       PESQ wide-band (ITU-T P.862.2), MOS-LQO 1.04–4.64, at 16 kHz           ``pesq`` 0.0.4 (the ITU C code)
stoi       short-time objective intelligibility (Taal et al. 2011), 0–1           ``pystoi`` 0.4.1 (resamples to 10 kHz)
si_sdr     scale-invariant SDR in dB (Le Roux et al. 2019), zero-mean signals    numpy, here
segsnr     segmental SNR in dB: 30 ms Hann frames every 7.5 ms, each clipped to    numpy, here (Hu & Loizou's
           [-10, 35] dB, averaged (the SSNR of SEGAN's table)                     ``comp_snr``)
dnsmos     DNSMOS P.835 OVRL (and SIG, BAK, P.808 in ``details``), 1–5, no        the ONNX models of the
           reference needed; 9.01 s windows every 1 s (short clips are repeated)  ``speechmos`` 0.0.1.1 wheel on
                                                                                  onnxruntime
=========  =====================================================================  ================================

Every metric compares a system's output with the clean reference of the same utterance at 16 kHz (files at other
rates are resampled with soxr first), per file, then averages over files. The systems: ``noisy`` (the input
itself: the trivial baseline), ``wiener`` (:func:`wiener_filter`, the classical baseline of SEGAN's table) and
the model. This module is self-contained: it needs ``pip install 'ganzoo[audio]'`` and nothing else from
:mod:`ganzoo.metrics`.
"""

from __future__ import annotations

import importlib.metadata
import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import DataError, UsageError
from .plans import Baseline, EvalPlan

__all__ = ["SPEECH_METRICS", "pesq_wb", "stoi", "si_sdr", "segmental_snr", "dnsmos", "wiener_filter",
           "evaluate_speech", "SpeechEvalReport", "SpeechEvalPlan", "metric_protocol"]

logger = logging.getLogger(__name__)

SR = 16000
#: metric name -> (one-line definition, higher is better)
SPEECH_METRICS: dict[str, tuple[str, bool]] = {
    "pesq": ("PESQ wide-band (ITU-T P.862.2) MOS-LQO against the clean reference, 16 kHz", True),
    "stoi": ("STOI (Taal et al. 2011) against the clean reference", True),
    "si_sdr": ("scale-invariant signal-to-distortion ratio in dB (Le Roux et al. 2019)", True),
    "segsnr": ("segmental SNR in dB: 30 ms frames, 75 % overlap, each clipped to [-10, 35] dB", True),
    "dnsmos": ("DNSMOS P.835 overall quality (OVRL), non-intrusive, 1-5", True),
}
_PACKAGES = {"pesq": "pesq", "stoi": "pystoi", "dnsmos": "speechmos"}


def _need(module: str, metric: str) -> Any:
    try:
        return __import__(module)
    except ImportError:
        raise UsageError(f"the {metric} metric needs the '{module}' package: pip install 'ganzoo[audio]'") from None


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def metric_protocol(name: str) -> dict[str, Any]:
    """How ``name`` is computed (package and version, rate, what is compared) — what a card records."""
    proto: dict[str, Any] = {"definition": SPEECH_METRICS[name][0], "sample_rate": SR,
                             "compared": "each output against its clean reference, per file, mean over files"}
    if name in _PACKAGES:
        proto["package"] = f"{_PACKAGES[name]}=={_version(_PACKAGES[name])}"
    if name == "dnsmos":
        proto["compared"] = "each output alone (non-intrusive), per file, mean over files"
        proto["models"] = "speechmos wheel: dnsmos_models/sig_bak_ovr.onnx + model_v8.onnx (P.808), onnxruntime " \
                          f"{_version('onnxruntime')}"
    if name in ("si_sdr", "segsnr"):
        proto["package"] = "ganzoo (numpy)"
    return proto


# ---------------------------------------------------------------------------------------------------------
# the metrics (1-D float arrays at 16 kHz)


def _pair(ref: np.ndarray, deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ref, deg = np.asarray(ref, dtype=np.float64).ravel(), np.asarray(deg, dtype=np.float64).ravel()
    n = min(len(ref), len(deg))
    return ref[:n], deg[:n]


def pesq_wb(ref: np.ndarray, deg: np.ndarray, sr: int = SR) -> float:
    """Wide-band PESQ (P.862.2) of ``deg`` against ``ref`` at 16 kHz; NaN when PESQ finds no speech (silence).

    Example:
        >>> pesq_wb(clean, enhanced)   # 1.04 (bad) … 4.64 (transparent)
    """
    if sr != SR:
        raise UsageError(f"wide-band PESQ runs at {SR} Hz, got {sr} Hz; resample first")
    mod = _need("pesq", "pesq")
    ref, deg = _pair(ref, deg)
    if not np.abs(ref).max(initial=0.0) or not np.abs(deg).max(initial=0.0):
        return float("nan")  # PESQ normalises by the peak: a silent signal has no level to align
    try:
        return float(mod.pesq(SR, ref, deg, "wb"))
    except Exception as err:  # pesq.NoUtterancesError, BufferTooShortError …
        logger.debug("PESQ failed: %s", err)
        return float("nan")


def stoi(ref: np.ndarray, deg: np.ndarray, sr: int = SR) -> float:
    """STOI (Taal et al. 2011) of ``deg`` against ``ref``; pystoi resamples to 10 kHz internally."""
    mod = _need("pystoi", "stoi")
    ref, deg = _pair(ref, deg)
    return float(mod.stoi(ref, deg, sr, extended=False))


def si_sdr(ref: np.ndarray, est: np.ndarray, eps: float = 1e-10) -> float:
    """Scale-invariant SDR in dB: ``10·log10(|αs|² / |αs − ŝ|²)`` with zero-mean signals, ``α = <ŝ, s>/|s|²``."""
    ref, est = _pair(ref, est)
    ref, est = ref - ref.mean(), est - est.mean()
    alpha = np.dot(est, ref) / (np.dot(ref, ref) + eps)
    target = alpha * ref
    return float(10 * np.log10((np.dot(target, target) + eps) / (np.dot(est - target, est - target) + eps)))


def segmental_snr(ref: np.ndarray, est: np.ndarray, sr: int = SR) -> float:
    """Segmental SNR in dB as Hu & Loizou's ``comp_snr`` (SEGAN's "SSNR"): 30 ms Hann frames every quarter
    frame, ``10·log10(Σs² / Σ(s − ŝ)²)`` per frame, clipped to [-10, 35] dB, averaged over frames."""
    ref, est = _pair(ref, est)
    win = int(round(0.030 * sr))
    hop = win // 4
    n = 1 + max(0, (len(ref) - win) // hop)
    if len(ref) < win:
        ref, est = np.pad(ref, (0, win - len(ref))), np.pad(est, (0, win - len(est)))
    w = np.hanning(win)
    idx = np.arange(win)[None, :] + hop * np.arange(n)[:, None]
    s, e = ref[idx] * w, (ref - est)[idx] * w
    seg = 10 * np.log10(np.sum(s * s, axis=1) / (np.sum(e * e, axis=1) + np.finfo(float).eps) + np.finfo(float).eps)
    return float(np.mean(np.clip(seg, -10.0, 35.0)))


# DNSMOS (Reddy et al. 2022): the P.835 model takes the raw 9.01 s waveform; the P.808 model a log-mel spectrogram
# (120 Slaney mels of a 321-point STFT, hop 160, power in dB relative to the maximum, floored 80 dB below it,
# then (dB + 40) / 40) of the same window less its last 10 ms. The polynomial maps are DNSMOS's own. The scores
# agree with speechmos' own run() (librosa 0.11 computing the mels) to 1e-6; tests/test_speech_metrics.py pins them.
_DNSMOS_LEN = 9.01
_P835_POLY = {"sig": (-0.08397278, 1.22083953, 0.0052439), "bak": (-0.13166888, 1.60915514, -0.39604546),
              "ovrl": (-0.06766283, 1.11546468, 0.04602535)}
_dnsmos_sessions: tuple[Any, Any] | None = None


def _mel_filters(sr: int = SR, n_fft: int = 321, n_mels: int = 120) -> np.ndarray:
    """Slaney-style mel filter bank with Slaney area normalisation (librosa's default ``filters.mel``)."""
    f_sp, min_log_hz, min_log_mel, logstep = 200.0 / 3, 1000.0, 15.0, math.log(6.4) / 27.0

    def hz_to_mel(f: np.ndarray) -> np.ndarray:
        f = np.asarray(f, dtype=np.float64)
        return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-10) / min_log_hz) / logstep, f / f_sp)

    def mel_to_hz(m: np.ndarray) -> np.ndarray:
        return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)

    fft_freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(sr / 2.0), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2:] - mel_f[:-2]))[:, None]
    return weights.astype(np.float32)


def _p808_features(audio: np.ndarray, n_fft: int = 321, hop: int = 160) -> np.ndarray:
    pad = n_fft // 2
    y = np.pad(audio.astype(np.float32), (pad, pad))
    frames = 1 + (len(y) - n_fft) // hop
    idx = np.arange(n_fft)[None, :] + hop * np.arange(frames)[:, None]
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)).astype(np.float32)  # periodic Hann
    power = np.abs(np.fft.rfft(y[idx] * window, axis=1)) ** 2  # (frames, 161)
    mel = power @ _mel_filters(n_fft=n_fft).T  # (frames, 120)
    db = 10 * np.log10(np.maximum(mel, 1e-10)) - 10 * np.log10(max(float(mel.max()), 1e-10))
    db = np.maximum(db, db.max() - 80.0)
    return ((db + 40.0) / 40.0).astype(np.float32)


def _dnsmos_models() -> tuple[Any, Any]:
    global _dnsmos_sessions
    if _dnsmos_sessions is None:
        import importlib.resources

        ort = _need("onnxruntime", "dnsmos")
        _need("speechmos", "dnsmos")
        root = importlib.resources.files("speechmos")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        providers = ["CPUExecutionProvider"]
        _dnsmos_sessions = (
            ort.InferenceSession(str(root / "dnsmos_models" / "sig_bak_ovr.onnx"), opts, providers=providers),
            ort.InferenceSession(str(root / "dnsmos_models" / "model_v8.onnx"), opts, providers=providers))
    return _dnsmos_sessions


def dnsmos(audio: np.ndarray, sr: int = SR) -> dict[str, float]:
    """DNSMOS P.835 (``sig``, ``bak``, ``ovrl``) and P.808 (``p808``) scores of one 16 kHz clip, 1–5.

    Clips shorter than 9.01 s are repeated to that length, as DNSMOS does; longer ones are scored on 9.01 s
    windows every second and averaged.
    """
    if sr != SR:
        raise UsageError(f"DNSMOS runs at {SR} Hz, got {sr} Hz; resample first")
    p835, p808 = _dnsmos_models()
    x = np.clip(np.asarray(audio, dtype=np.float32).ravel(), -1.0, 1.0)
    need = int(_DNSMOS_LEN * SR)
    if not len(x):
        raise DataError("DNSMOS needs a non-empty clip")
    while len(x) < need:
        x = np.concatenate([x, x])
    hops = int(np.floor(len(x) / SR) - _DNSMOS_LEN) + 1
    scores: dict[str, list[float]] = {"sig": [], "bak": [], "ovrl": [], "p808": []}
    for k in range(max(1, hops)):
        seg = x[k * SR:k * SR + need]
        if len(seg) < need:
            continue
        raw = p835.run(None, {"input_1": seg[None, :]})[0][0]
        for key, value in zip(("sig", "bak", "ovrl"), raw):
            scores[key].append(float(np.polyval(_P835_POLY[key], value)))
        scores["p808"].append(float(p808.run(None, {"input_1": _p808_features(seg[:-160])[None]})[0][0][0]))
    return {k: float(np.mean(v)) for k, v in scores.items()}


# ---------------------------------------------------------------------------------------------------------
# the classical baseline


def wiener_filter(noisy: np.ndarray, sr: int = SR, *, frame_ms: float = 32.0, alpha: float = 0.98,
                  noise_quantile: float = 0.1, xi_min_db: float = -25.0) -> np.ndarray:
    """A Wiener filter with decision-directed a priori SNR (Ephraim & Malah 1984; Scalart & Filho 1996).

    The noise power spectrum is the mean of the STFT frames (Hann, ``frame_ms``, 75 % overlap) whose energy lies
    in the lowest ``noise_quantile`` of the utterance (the pauses). Per frame and bin: a posteriori SNR
    ``γ = |Y|²/N``, a priori ``ξ = α·|Ŝ_prev|²/N + (1−α)·max(γ−1, 0)`` floored at ``xi_min_db``, gain
    ``ξ/(1+ξ)``; the noisy phase is kept. Returns an array as long as ``noisy``.
    """
    from scipy.signal import istft, stft

    x = np.asarray(noisy, dtype=np.float64).ravel()
    nper = int(round(frame_ms * sr / 1000.0))
    nper += nper % 2
    _, _, spec = stft(x, fs=sr, window="hann", nperseg=nper, noverlap=3 * nper // 4, boundary="zeros", padded=True)
    power = np.abs(spec) ** 2  # (bins, frames)
    energy = power.sum(axis=0)
    quiet = energy <= np.quantile(energy, noise_quantile)
    noise = power[:, quiet].mean(axis=1) + 1e-12
    gain = np.empty_like(power)
    prev = np.zeros(power.shape[0])
    xi_min = 10 ** (xi_min_db / 10)
    for t in range(power.shape[1]):
        gamma = power[:, t] / noise
        xi = np.maximum(alpha * prev / noise + (1 - alpha) * np.maximum(gamma - 1.0, 0.0), xi_min)
        g = xi / (1.0 + xi)
        gain[:, t] = g
        prev = (g ** 2) * power[:, t]
    _, y = istft(spec * gain, fs=sr, window="hann", nperseg=nper, noverlap=3 * nper // 4, boundary=True)
    y = y[:len(x)]
    if len(y) < len(x):
        y = np.pad(y, (0, len(x) - len(y)))
    return np.clip(y, -1.0, 1.0).astype(np.float32)


# ---------------------------------------------------------------------------------------------------------
# evaluation over a clean/noisy folder


@dataclass
class SpeechEvalReport:
    """Per-file scores of every system, with each metric's protocol.

    Attributes:
        systems (`list[str]`): ``noisy``, ``wiener`` and the model's name, in table order.
        metrics (`list[str]`): the metric names computed.
        scores (`dict`): ``scores[system][key]`` = per-file values; keys are the metric names plus
            ``dnsmos_sig``, ``dnsmos_bak`` and ``dnsmos_p808`` when DNSMOS runs.
        files (`list[str]`): the utterances, in order.
        protocol (`dict`): ``protocol[metric]`` (:func:`metric_protocol`) and the data/seed used.
    """

    systems: list[str]
    metrics: list[str]
    scores: dict[str, dict[str, list[float]]]
    files: list[str]
    protocol: dict[str, Any] = field(default_factory=dict)

    def mean(self, system: str, key: str) -> float:
        """The mean of ``key`` for ``system`` over the files where it is defined (PESQ is undefined on silence)."""
        values = np.asarray(self.scores[system][key], dtype=np.float64)
        return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")

    def summary(self) -> dict[str, dict[str, dict[str, float]]]:
        """``{system: {key: {"mean", "std", "n"}}}``."""
        out: dict[str, dict[str, dict[str, float]]] = {}
        for system, keys in self.scores.items():
            out[system] = {}
            for key, values in keys.items():
                v = np.asarray(values, dtype=np.float64)
                v = v[np.isfinite(v)]
                out[system][key] = {"mean": float(v.mean()) if len(v) else float("nan"),
                                    "std": float(v.std()) if len(v) else float("nan"), "n": int(len(v))}
        return out

    def table(self, *, digits: int = 3) -> str:
        """A markdown table: one row per system, one column per metric (mean over files)."""
        head = "| system | " + " | ".join(f"{m.upper().replace('_', '-')} ↑" for m in self.metrics) + " |"
        rows = [head, "|" + "---|" * (len(self.metrics) + 1)]
        for system in self.systems:
            cells = [f"{self.mean(system, m):.{digits if m in ('pesq', 'stoi', 'dnsmos') else 2}f}"
                     for m in self.metrics]
            rows.append(f"| {system} | " + " | ".join(cells) + " |")
        return "\n".join(rows)

    def to_dict(self) -> dict[str, Any]:
        return {"systems": self.systems, "metrics": self.metrics, "files": self.files, "summary": self.summary(),
                "protocol": self.protocol}


def _pairs(root: Path, split: str | None) -> list[tuple[Path, Path]]:
    from ..data.audio import AUDIO_EXTENSIONS

    base = root / split if split and (root / split).is_dir() else root
    clean, noisy = base / "clean", base / "noisy"
    if not clean.is_dir() or not noisy.is_dir():
        raise DataError(f"{base} needs clean/ and noisy/ folders with matching file names "
                        f"(scripts/fetch_speech.py builds one)")
    names = sorted(p.name for p in clean.iterdir() if p.suffix.lower() in AUDIO_EXTENSIONS)
    pairs = [(clean / n, noisy / n) for n in names if (noisy / n).is_file()]
    if not pairs:
        raise DataError(f"{clean} and {noisy} share no audio file names")
    return pairs


def _read16k(path: Path) -> np.ndarray:
    from ..data.audio import read_audio, resample

    audio = read_audio(path)
    return resample(audio.mono(), audio.sample_rate, SR)


def _model_enhancer(model: Any, seed: int, batch_size: int) -> Callable[[np.ndarray], np.ndarray]:
    import torch

    from ..data.audio import resample

    rate = int(model.config.sample_rate)
    model.eval()
    options = {"batch_size": batch_size} if "batch_size" in model.impl.sample_options() else {}

    def run(x16: np.ndarray) -> np.ndarray:
        x = resample(x16, SR, rate)
        peak = float(np.abs(x).max()) if len(x) else 0.0
        scale = 1.0 / peak if peak > 1.0 else 1.0  # the resampler may overshoot a full-scale input slightly
        with torch.no_grad():
            y = model.sample(condition=torch.from_numpy(x * scale)[None], seed=seed, **options)
        y = resample(y[0].cpu().numpy() / scale, rate, SR)
        return np.pad(y, (0, max(0, len(x16) - len(y))))[:len(x16)]

    return run


def evaluate_speech(model: Any = None, data: str | os.PathLike[str] = "data/speech", *, split: str | None = "test",
                    metrics: Sequence[str] | str | None = None, systems: Sequence[str] = ("noisy", "wiener"),
                    limit: int | None = None, seed: int = 0, batch_size: int = 16,
                    progress: Callable[[int, int], None] | None = None) -> SpeechEvalReport:
    """Score the noisy input, the Wiener-filter baseline and (optionally) a model on a clean/noisy folder.

    Args:
        model (`GanModel` or `str`, *optional*): a speech-enhancement model or a name for :func:`ganzoo.load`;
            None scores the baselines only.
        data (`str` or `os.PathLike`): a folder ``root/[split/]{clean,noisy}/*.wav`` with matching names.
        split (`str`, *optional*, defaults to ``"test"``): the sub-folder, when present.
        metrics (`list[str]` or `str`, *optional*): a subset of :data:`SPEECH_METRICS` (comma-separated works);
            default all.
        systems (`list[str]`, *optional*): the baselines to include: ``noisy``, ``wiener``.
        limit (`int`, *optional*): score only the first ``limit`` utterances (sorted by name).
        seed (`int`, *optional*, defaults to 0): the model's noise seed.
        batch_size (`int`, *optional*, defaults to 16): windows per forward pass of the model.
        progress (*optional*): called as ``progress(done, total)`` after each utterance.

    Returns:
        `SpeechEvalReport`: per-file scores; ``report.table()`` is the comparison table.

    Raises:
        DataError: the folder is not in the layout, or a file cannot be read.
        UsageError: an unknown metric or system, a model of another task, a metric package missing.

    Example:
        >>> r = evaluate_speech("segan-speech", "data/speech", metrics="pesq,stoi")
        >>> r.mean("segan-speech", "pesq") > r.mean("wiener", "pesq")
    """
    names = [m.strip().lower() for m in (metrics.split(",") if isinstance(metrics, str) else metrics or SPEECH_METRICS)
             if m and m.strip()]
    unknown = [m for m in names if m not in SPEECH_METRICS]
    if unknown:
        raise UsageError(f"unknown speech metric(s) {unknown}; choose from {', '.join(SPEECH_METRICS)}")
    bad = [s for s in systems if s not in ("noisy", "wiener")]
    if bad:
        raise UsageError(f"unknown baseline(s) {bad}; choose from noisy, wiener")
    enhancers: dict[str, Callable[[np.ndarray], np.ndarray]] = {}
    if "noisy" in systems:
        enhancers["noisy"] = lambda x: x
    if "wiener" in systems:
        enhancers["wiener"] = wiener_filter
    if model is not None:
        if isinstance(model, (str, os.PathLike)):
            from .. import load

            model = load(str(model))
        if model.plugin.task != "speech-enhancement":
            raise UsageError(f"{model.name or model.plugin.name} is a {model.plugin.task} model, not speech "
                             f"enhancement")
        label = str(model.name or model.plugin.name)
        if "/" in label or os.sep in label:  # a model loaded from a folder: name it by the folder
            label = Path(label).name
        enhancers[label] = _model_enhancer(model, seed, batch_size)
    if not enhancers:
        raise UsageError("nothing to evaluate: give a model or at least one baseline")
    pairs = _pairs(Path(data), split)[: limit or None]
    scores: dict[str, dict[str, list[float]]] = {s: {} for s in enhancers}
    for i, (c_path, n_path) in enumerate(pairs):
        clean, noisy = _read16k(c_path), _read16k(n_path)
        n = min(len(clean), len(noisy))
        clean, noisy = clean[:n], noisy[:n]
        for system, fn in enhancers.items():
            out = np.asarray(fn(noisy), dtype=np.float32)[:n]
            row = scores[system]
            for m in names:
                if m == "dnsmos":
                    d = dnsmos(out)
                    row.setdefault("dnsmos", []).append(d["ovrl"])
                    for k in ("sig", "bak", "p808"):
                        row.setdefault(f"dnsmos_{k}", []).append(d[k])
                else:
                    fn_m = {"pesq": pesq_wb, "stoi": stoi, "si_sdr": si_sdr, "segsnr": segmental_snr}[m]
                    row.setdefault(m, []).append(fn_m(clean, out))
        if progress is not None:
            progress(i + 1, len(pairs))
    protocol: dict[str, Any] = {m: metric_protocol(m) for m in names}
    protocol["data"] = {"root": Path(data).name, "split": split, "files": len(pairs), "seed": seed,
                        "wiener": "decision-directed Wiener filter, 32 ms Hann frames, 75 % overlap, noise from the "
                                  "quietest 10 % of frames, α 0.98, ξ floor -25 dB"}
    return SpeechEvalReport(list(enhancers), names, scores, [p[0].name for p in pairs], protocol)


def _register_metrics() -> None:
    from .registry import MetricInfo, register_metric

    for name, (desc, higher) in SPEECH_METRICS.items():
        register_metric(MetricInfo(name, desc, "waveforms", higher, protocol_keys=("definition", "package")))


_register_metrics()


class _NamedBaseline(Baseline):
    """A speech baseline :func:`evaluate_speech` knows by name (it runs it on the same files as the model)."""

    def __call__(self, inputs: Any) -> Any:  # pragma: no cover - measured by name in SpeechEvalPlan.measure
        raise NotImplementedError


class NoisyInput(_NamedBaseline):
    name = "noisy"
    description = "the noisy input itself (output = input)"


class WienerBaseline(_NamedBaseline):
    name = "wiener"
    description = ("decision-directed Wiener filter: 32 ms Hann frames, 75 % overlap, noise PSD from the quietest "
                   "10 % of frames, α 0.98, ξ floor -25 dB")


class SpeechEvalPlan(EvalPlan):
    """``ganzoo eval`` for speech-enhancement models: PESQ-WB, STOI, SI-SDR, segmental SNR, DNSMOS over the
    clean/noisy pairs of ``--data`` (``-n`` limits the utterances), beside the noisy input and a Wiener filter,
    each scored by :func:`evaluate_speech` on exactly the same files."""

    baselines = (NoisyInput, WienerBaseline)

    def unavailable(self, metric: str, extractor: str | None) -> str | None:
        package = _PACKAGES.get(metric)
        if package is not None and _version(package) == "not installed":
            return f"{metric} needs the {package} package: pip install 'ganzoo[audio]'"
        return None

    def prepare(self, names: list[str], extractor: Any) -> None:
        self.names = names
        if str(self.request.data).startswith("builtin:"):
            raise DataError(f"there is no built-in speech dataset; give a folder in the layout: {self.task.layouts}")
        self.files = _pairs(Path(self.request.data), self.request.split)[: self.request.n or None]
        self.n_generated = len(self.files)

    def _run(self, baseline: Baseline | None) -> SpeechEvalReport:
        return evaluate_speech(None if baseline is not None else self.model, self.request.data,
                               split=self.request.split, metrics=self.names,
                               systems=(baseline.name,) if baseline is not None else (), limit=self.request.n,
                               seed=self.request.seed, batch_size=self.request.batch_size)

    def measure(self, baseline: Baseline | None = None) -> Any:
        report = self._run(baseline)
        return report, report.systems[0]

    def score(self, measured: Any, protocol: dict[str, Any]) -> list[Any]:
        from .report import MetricResult

        report, system = measured
        summary = report.summary()[system]
        out = []
        for m in self.names:
            details = {k: v["mean"] for k, v in summary.items() if k.startswith(f"{m}_")}
            out.append(MetricResult(m, summary[m]["mean"], summary[m]["std"], details,
                                    {**protocol, **report.protocol[m]}))
        return out

    def protocol(self) -> dict[str, Any]:
        return {"reference": str(self.request.data), "split": self.request.split,
                "reference_count": len(self.files), "n_generated": self.n_generated, "seed": self.request.seed,
                "sampling": "each noisy file enhanced whole (windows + overlap-add), at 16 kHz"}
