"""Speech-enhancement metrics (ganzoo.metrics.audio): known values on constructed signals, the Wiener baseline,
DNSMOS through the speechmos wheel's ONNX models, and evaluate_speech on a small folder with the toy model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import ganzoo
from ganzoo.data.audio import write_audio
from ganzoo.errors import DataError, UsageError
from ganzoo.metrics import audio as M

SR = 16000


def _speechlike(seconds: float, seed: int = 0) -> np.ndarray:
    """Harmonic bursts with pauses: voiced 'syllables' at 120-220 Hz with 10 harmonics, 150 ms gaps."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    x = np.zeros_like(t)
    start = 0.1
    while start < seconds - 0.3:
        dur = rng.uniform(0.15, 0.35)
        f0 = rng.uniform(120, 220)
        m = (t >= start) & (t < start + dur)
        env = np.sin(np.pi * (t[m] - start) / dur)
        x[m] = env * sum(np.sin(2 * np.pi * k * f0 * t[m]) / k for k in range(1, 11))
        start += dur + 0.15
    return (0.3 * x / np.abs(x).max()).astype(np.float32)


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return _speechlike(3.0)


def test_si_sdr_matches_its_definition(speech: np.ndarray) -> None:
    rng = np.random.default_rng(1)
    assert M.si_sdr(speech, 0.5 * speech) > 100  # scale-invariant: a scaled copy is perfect
    noise = rng.standard_normal(len(speech)).astype(np.float32)
    noise *= np.linalg.norm(speech) / np.linalg.norm(noise) / 10 ** (10 / 20)  # 10 dB SNR
    assert M.si_sdr(speech, speech + noise) == pytest.approx(10.0, abs=0.2)


def test_segmental_snr_is_clipped_per_frame(speech: np.ndarray) -> None:
    tone = np.sin(np.arange(SR) * 0.1).astype(np.float32)
    assert M.segmental_snr(tone, tone) == pytest.approx(35.0)  # every frame at the 35 dB ceiling
    assert M.segmental_snr(tone, 0.9 * tone) == pytest.approx(20.0, abs=0.01)  # error = 0.1 × signal
    assert M.segmental_snr(tone, -tone) == pytest.approx(-6.02, abs=0.01)  # error = 2 × signal
    assert M.segmental_snr(tone, 0 * tone + 100) == -10.0  # floored
    # silent frames (the pauses) count at the floor, as in Hu & Loizou's definition
    assert -10 < M.segmental_snr(speech, speech) < 35


def test_pesq_and_stoi_rank_noise_levels(speech: np.ndarray) -> None:
    rng = np.random.default_rng(2)
    noise = 0.05 * rng.standard_normal(len(speech)).astype(np.float32)
    assert M.pesq_wb(speech, speech) > 4.4 and M.stoi(speech, speech) > 0.99
    assert M.pesq_wb(speech, speech + noise) < M.pesq_wb(speech, speech + 0.2 * noise) < 4.4
    assert M.stoi(speech, speech + noise) < M.stoi(speech, speech + 0.2 * noise)
    assert np.isnan(M.pesq_wb(np.zeros(SR), np.zeros(SR)))  # PESQ finds no utterance in silence
    with pytest.raises(UsageError, match="runs at 16000 Hz"):
        M.pesq_wb(speech, speech, sr=8000)


def test_wiener_filter_removes_stationary_noise(speech: np.ndarray) -> None:
    noise = 0.03 * np.random.default_rng(3).standard_normal(len(speech)).astype(np.float32)
    noisy = speech + noise
    out = M.wiener_filter(noisy)
    assert out.shape == noisy.shape and out.dtype == np.float32
    assert M.segmental_snr(speech, out) > M.segmental_snr(speech, noisy) + 3
    assert M.si_sdr(speech, out) > M.si_sdr(speech, noisy)


def test_mel_filter_bank_is_slaney() -> None:
    fb = M._mel_filters()
    assert fb.shape == (120, 161) and (fb >= 0).all()
    # Slaney normalisation: each triangle has area ~ 1 in Hz units (peak 2/bandwidth × bandwidth/2)
    df = SR / 321
    assert np.allclose(fb.sum(axis=1)[100:] * df, 1.0, atol=0.05)  # low filters are narrower than a bin
    feats = M._p808_features(np.random.default_rng(0).standard_normal(SR).astype(np.float32) * 0.1)
    assert feats.shape == (100, 120)  # centred frames every 10 ms
    assert feats.max() == pytest.approx(1.0) and feats.min() >= -1.0


def test_dnsmos_scores_clean_above_noisy(speech: np.ndarray) -> None:
    noise = 0.1 * np.random.default_rng(4).standard_normal(len(speech)).astype(np.float32)
    clean, noisy = M.dnsmos(speech), M.dnsmos(np.clip(speech + noise, -1, 1))
    assert set(clean) == {"sig", "bak", "ovrl", "p808"}
    assert all(1.0 <= v <= 5.0 for v in clean.values())
    assert clean["bak"] > noisy["bak"] + 0.5
    with pytest.raises(UsageError, match="runs at 16000 Hz"):
        M.dnsmos(speech, sr=8000)


def test_dnsmos_matches_the_speechmos_reference(speech: np.ndarray) -> None:
    """Golden values from speechmos 0.0.1.1's own ``dnsmos.run`` (with librosa 0.11.0 computing the P.808 mel
    features) on this exact clip; ganzoo computes the features itself, so it must agree to float precision."""
    noisy = np.clip(speech + 0.05 * np.random.default_rng(7).standard_normal(len(speech)).astype(np.float32), -1, 1)
    got = M.dnsmos(noisy)
    expect = {"ovrl": 1.5380066542210935, "sig": 2.902706759975279, "bak": 1.4573847176896442, "p808": 2.3215356}
    for key, value in expect.items():
        assert got[key] == pytest.approx(value, abs=1e-4), key


def _folder(root: Path, n: int = 3) -> Path:
    rng = np.random.default_rng(5)
    for i in range(n):
        clean = _speechlike(2.0, seed=i)
        noisy = clean + 0.03 * rng.standard_normal(len(clean)).astype(np.float32)
        write_audio(root / "test" / "clean" / f"u{i}.wav", clean, SR)
        write_audio(root / "test" / "noisy" / f"u{i}.wav", noisy, SR)
    return root


def test_evaluate_speech_compares_baselines_and_a_model(tmp_path: Path) -> None:
    root = _folder(tmp_path / "data")
    model = ganzoo.build("toyspeech", seed=0).eval()  # 8 kHz: resampled through 16 kHz and back
    report = M.evaluate_speech(model, root, metrics="pesq,stoi,si_sdr,segsnr", limit=2)
    assert report.systems == ["noisy", "wiener", "toyspeech"] and report.files == ["u0.wav", "u1.wav"]
    assert all(len(report.scores[s]["pesq"]) == 2 for s in report.systems)
    assert report.mean("wiener", "segsnr") > report.mean("noisy", "segsnr")
    table = report.table()
    assert table.splitlines()[0] == "| system | PESQ ↑ | STOI ↑ | SI-SDR ↑ | SEGSNR ↑ |" and "| wiener |" in table
    proto = report.protocol
    assert proto["pesq"]["package"].startswith("pesq==") and proto["stoi"]["package"].startswith("pystoi==")
    assert proto["data"]["files"] == 2 and report.summary()["noisy"]["stoi"]["n"] == 2


def test_evaluate_speech_refuses_bad_requests(tmp_path: Path) -> None:
    root = _folder(tmp_path / "data", n=1)
    with pytest.raises(UsageError, match="unknown speech metric"):
        M.evaluate_speech(None, root, metrics="pesq,fid")
    with pytest.raises(UsageError, match="unknown baseline"):
        M.evaluate_speech(None, root, systems=("noisy", "oracle"))
    with pytest.raises(DataError, match="needs clean/ and noisy/"):
        M.evaluate_speech(None, tmp_path / "nowhere")
    with pytest.raises(UsageError, match="is a unconditional model, not speech enhancement"):
        M.evaluate_speech(ganzoo.build("toygan"), root)
    report = M.evaluate_speech(None, root, metrics=["dnsmos"], systems=("noisy",))
    assert set(report.scores["noisy"]) == {"dnsmos", "dnsmos_sig", "dnsmos_bak", "dnsmos_p808"}
    # ganzoo eval runs the same scoring through the task's plan, the two baselines beside the model
    from ganzoo.metrics import evaluate

    rep = evaluate(ganzoo.build("toyspeech", seed=0), str(root), metrics="si_sdr,segsnr", device="cpu")
    assert [r.name for r in rep.results] == ["si_sdr", "segsnr"] and rep.results[0].protocol["reference_count"] >= 1
    assert [b.name for b in rep.baselines] == ["noisy", "wiener"]
    direct = M.evaluate_speech(None, root, metrics=["si_sdr"], systems=("noisy",))
    assert rep.baseline("noisy")["si_sdr"].value == pytest.approx(direct.mean("noisy", "si_sdr"))
