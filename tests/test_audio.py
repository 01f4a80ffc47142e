"""Audio files in and out (ganzoo.data.audio) and the speech-enhancement task's --input handling, on the toy
speech plugin (8 kHz, no built-in plugin needed): every bad input is handled or refused in one line."""

from __future__ import annotations

import builtins
import logging
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

import ganzoo
from ganzoo.cli import cli
from ganzoo.data import audio as A
from ganzoo.errors import DataError, UsageError
from ganzoo.tasks import audio as T


def _tone(n: int, sr: int, f: float = 440.0, amp: float = 0.5) -> np.ndarray:
    return (amp * np.sin(2 * np.pi * f * np.arange(n) / sr)).astype(np.float32)


# -- reading --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("subtype,tol", [("PCM_U8", 1 / 128), ("PCM_16", 1 / 32768), ("PCM_24", 1e-6),
                                         ("PCM_32", 1e-6), ("FLOAT", 0), ("DOUBLE", 0)])
def test_reads_every_wav_bit_depth(tmp_path: Path, subtype: str, tol: float) -> None:
    x = _tone(1000, 16000)
    sf.write(tmp_path / "x.wav", x, 16000, subtype=subtype)
    audio = A.read_audio(tmp_path / "x.wav")
    assert (audio.sample_rate, audio.channels, audio.frames, audio.subtype) == (16000, 1, 1000, subtype)
    assert np.abs(audio.mono() - x).max() <= tol + 1e-7


@pytest.mark.parametrize("width", [1, 2, 3, 4])
def test_standard_library_reader_matches_soundfile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   width: int) -> None:
    """Without soundfile, WAVs of 8/16/24/32-bit PCM still read (stereo kept), with the same values."""
    x = np.stack([_tone(500, 8000), -_tone(500, 8000, 300)], axis=1)
    subtype = {1: "PCM_U8", 2: "PCM_16", 3: "PCM_24", 4: "PCM_32"}[width]
    sf.write(tmp_path / "x.wav", x, 8000, subtype=subtype)
    ref = A.read_audio(tmp_path / "x.wav")
    real_import = builtins.__import__

    def no_soundfile(name: str, *args, **kwargs):
        if name == "soundfile":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_soundfile)
    got = A.read_audio(tmp_path / "x.wav")
    assert (got.sample_rate, got.channels, got.subtype) == (8000, 2, subtype)
    np.testing.assert_allclose(got.data, ref.data, atol=1e-6)


def test_flac_ogg_and_stereo(tmp_path: Path) -> None:
    x = np.stack([_tone(4410, 44100), _tone(4410, 44100, 660)], axis=1)
    for name in ("x.flac", "x.ogg"):
        sf.write(tmp_path / name, x, 44100)
        audio = A.read_audio(tmp_path / name)
        assert (audio.sample_rate, audio.channels) == (44100, 2)
        assert audio.mono().shape == (audio.frames,)


@pytest.mark.parametrize("content,match", [
    (b"this is not audio at all", "is not a readable audio file"),
    (b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00", "is not a readable audio file"),  # truncated
])
def test_corrupt_and_non_audio_files_are_one_line_errors(tmp_path: Path, content: bytes, match: str) -> None:
    (tmp_path / "bad.wav").write_bytes(content)
    with pytest.raises(DataError, match=match) as err:
        A.read_audio(tmp_path / "bad.wav")
    assert "\n" not in str(err.value) and "bad.wav" in str(err.value)


def test_missing_empty_and_nan_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="No such audio file"):
        A.read_audio(tmp_path / "nope.wav")
    sf.write(tmp_path / "empty.wav", np.zeros(0, np.float32), 16000)
    with pytest.raises(DataError, match="holds no audio samples"):
        A.read_audio(tmp_path / "empty.wav")
    sf.write(tmp_path / "nan.wav", np.array([0.1, np.nan, 0.2], np.float32), 16000, subtype="FLOAT")
    with pytest.raises(DataError, match="NaN or infinite"):
        A.read_audio(tmp_path / "nan.wav")


# -- writing, resampling, emphasis ----------------------------------------------------------------------------


def test_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = A.write_audio(tmp_path / "out.wav", _tone(800, 8000), 8000)
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(sf, "write", broken)
    with pytest.raises(OSError, match="disk full"):
        A.write_audio(path, np.zeros(10), 8000)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["out.wav"]


def test_write_keeps_high_resolution_formats(tmp_path: Path) -> None:
    x = np.stack([_tone(100, 8000), _tone(100, 8000)], axis=1)
    for subtype, expect in (("PCM_24", "PCM_24"), ("FLOAT", "FLOAT"), ("PCM_U8", "PCM_16"), ("VORBIS", "PCM_16")):
        A.write_audio(tmp_path / "o.wav", x, 8000, subtype=subtype)
        info = sf.info(tmp_path / "o.wav")
        assert (info.subtype, info.channels, info.frames) == (expect, 2, 100)


def test_resample_preserves_a_tone() -> None:
    x = _tone(44100, 44100, 1000.0)
    y = A.resample(x, 44100, 16000)
    assert len(y) == 16000 and y.dtype == np.float32
    ref = _tone(16000, 16000, 1000.0)
    assert np.abs(y[200:-200] - ref[200:-200]).max() < 1e-3
    assert A.resample(x, 16000, 16000) is not None and np.array_equal(A.resample(x, 16000, 16000), x)


def test_emphasis_round_trip_numpy_and_torch() -> None:
    import torch

    x = np.random.default_rng(0).uniform(-1, 1, (2, 5000)).astype(np.float32)
    y = A.pre_emphasis(x, 0.95)
    np.testing.assert_allclose(y[:, 1:], x[:, 1:] - 0.95 * x[:, :-1], rtol=1e-6)
    np.testing.assert_allclose(A.de_emphasis(y, 0.95), x, atol=1e-5)
    t = torch.from_numpy(x)
    back = A.de_emphasis(A.pre_emphasis(t, 0.95), 0.95)
    assert isinstance(back, torch.Tensor) and torch.allclose(back, t, atol=1e-5)
    assert A.pre_emphasis(x, 0.0) is x


# -- the windowed pair dataset ----------------------------------------------------------------------------------


def _pairs(root: Path, lengths: dict[str, int], sr: int = 8000) -> Path:
    for name, n in lengths.items():
        A.write_audio(root / "train" / "clean" / name, _tone(n, sr), sr)
        A.write_audio(root / "train" / "noisy" / name, _tone(n, sr) + 0.01, sr)
    return root


def test_pair_windows_overlap_by_half_and_pad_the_tail(tmp_path: Path) -> None:
    root = _pairs(tmp_path, {"a.wav": 1000, "b.wav": 100, "c.wav": 256})
    ds = A.SpeechPairWindows(root, sample_rate=8000, segment=256)
    # a: starts 0,128,…,768 (768+256 ≥ 1000) → 7 windows; b: one padded window; c: exactly one
    assert [s for i, s in ds.windows if i == 0] == [0, 128, 256, 384, 512, 640, 768]
    assert len(ds) == 9
    item = ds[7]  # b.wav: 100 samples then zeros
    assert item["clean"].shape == (256,) and item["noisy"].shape == (256,)
    assert float(item["clean"][100:].abs().max()) == 0.0 and float(item["clean"][:100].abs().max()) > 0.1
    np.testing.assert_allclose(ds[1]["clean"].numpy(), _tone(1000, 8000)[128:384], atol=1e-4)


def test_pair_windows_refuse_bad_layouts(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="needs clean/ and noisy/"):
        A.SpeechPairWindows(tmp_path, sample_rate=8000, segment=256)
    root = _pairs(tmp_path, {"a.wav": 500})
    (root / "train" / "noisy" / "a.wav").unlink()
    with pytest.raises(DataError, match="lacks the noisy versions"):
        A.SpeechPairWindows(root, sample_rate=8000, segment=256)
    root = _pairs(tmp_path / "r", {"a.wav": 500}, sr=16000)
    with pytest.raises(DataError, match="at 16000 Hz but the model trains at 8000 Hz"):
        A.SpeechPairWindows(root, sample_rate=8000, segment=256)


# -- the task's --input handling (toy speech model at 8 kHz) -------------------------------------------------


@pytest.fixture
def toy(tmp_path: Path):
    return ganzoo.load(str(ganzoo.build("toyspeech", seed=0).save_pretrained(tmp_path / "toyspeech")))


def test_any_rate_depth_and_channels_come_back_as_they_came(toy, tmp_path: Path) -> None:
    x = np.stack([_tone(44100, 44100), _tone(44100, 44100, 220)], axis=1) * 0.5
    sf.write(tmp_path / "in.wav", x, 44100, subtype="PCM_24")
    T.enhance_file(toy, tmp_path / "in.wav", tmp_path / "out.wav")
    info = sf.info(tmp_path / "out.wav")
    assert (info.samplerate, info.channels, info.frames, info.subtype) == (44100, 2, 44100, "PCM_24")
    # each channel is enhanced on its own: the outputs differ as the inputs do
    y, _ = sf.read(tmp_path / "out.wav")
    assert np.abs(y[:, 0] - y[:, 1]).max() > 1e-3
    sf.write(tmp_path / "u8.wav", x[:, 0], 44100, subtype="PCM_U8")
    T.enhance_file(toy, tmp_path / "u8.wav", tmp_path / "u8_out.wav")
    assert sf.info(tmp_path / "u8_out.wav").subtype == "PCM_16"


def test_silence_clipping_loud_float_and_short_files(toy, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="ganzoo")
    sf.write(tmp_path / "silent.wav", np.zeros(3000, np.float32), 8000)
    T.enhance_file(toy, tmp_path / "silent.wav", tmp_path / "s.wav")
    assert np.abs(sf.read(tmp_path / "s.wav")[0]).max() == 0 and "is silent: wrote silence" in caplog.text

    clipped = np.clip(_tone(3000, 8000, amp=3.0), -1, 1)
    sf.write(tmp_path / "clipped.wav", clipped, 8000)
    T.enhance_file(toy, tmp_path / "clipped.wav", tmp_path / "c.wav")
    assert "is clipped" in caplog.text and sf.info(tmp_path / "c.wav").frames == 3000

    loud = _tone(3000, 8000, amp=4.0)
    sf.write(tmp_path / "loud.wav", loud, 8000, subtype="FLOAT")
    T.enhance_file(toy, tmp_path / "loud.wav", tmp_path / "l.wav")
    assert "exceeds full scale (peak 4)" in caplog.text
    y = sf.read(tmp_path / "l.wav")[0]
    assert sf.info(tmp_path / "l.wav").subtype == "FLOAT" and np.abs(y).max() > 1.0  # scaled back

    sf.write(tmp_path / "short.wav", _tone(3, 8000), 8000)  # shorter than any window
    T.enhance_file(toy, tmp_path / "short.wav", tmp_path / "sh.wav")
    assert sf.info(tmp_path / "sh.wav").frames == 3


def test_folder_with_a_corrupt_file_writes_the_rest_and_fails_in_one_line(toy, tmp_path: Path) -> None:
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    sf.write(src / "a.wav", _tone(1000, 8000), 8000)
    sf.write(src / "sub" / "b.flac", _tone(1000, 16000), 16000)
    (src / "broken.wav").write_bytes(b"RIFF....WAVE")
    (src / "notes.txt").write_text("not audio, not picked up")
    with pytest.raises(DataError, match=r"1 of 3 files could not be enhanced \(broken.wav\); the other 2 are in"):
        toy.task.sample_inputs(toy, src, tmp_path / "out")
    assert sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*.wav")) == \
        ["a.wav", "sub/b.wav"]
    assert sf.info(tmp_path / "out" / "sub" / "b.wav").samplerate == 16000


def test_cli_refuses_overwriting_the_input_and_non_wav_outputs(toy, tmp_path: Path) -> None:
    sf.write(tmp_path / "a.wav", _tone(1000, 8000), 8000)
    before = (tmp_path / "a.wav").read_bytes()
    folder = str(tmp_path / "toyspeech")
    run = CliRunner().invoke
    res = run(cli, ["sample", folder, "--input", str(tmp_path / "a.wav"), "-o", str(tmp_path / "a.wav")])
    assert res.exit_code == 1 and "is the input file" in res.output
    assert (tmp_path / "a.wav").read_bytes() == before
    res = run(cli, ["sample", folder, "--input", str(tmp_path / "a.wav"), "-o", str(tmp_path / "a.mp3")])
    assert res.exit_code == 1 and "use .wav" in res.output
    res = run(cli, ["sample", folder, "--input", str(tmp_path), "-o", str(tmp_path)])
    assert res.exit_code == 1 and "is the input folder" in res.output
    (tmp_path / "x.txt").write_text("hello")
    res = run(cli, ["sample", folder, "--input", str(tmp_path / "x.txt"), "-o", str(tmp_path / "x.wav")])
    assert res.exit_code == 1 and "is not a readable audio file" in res.output
    assert len(res.output.strip().splitlines()) == 1


def test_the_task_names_its_metrics_and_eval_plan() -> None:
    from ganzoo.metrics.audio import SPEECH_METRICS, SpeechEvalPlan
    from ganzoo.plugin import import_object
    from ganzoo.tasks import get_task

    task = get_task("speech-enhancement")
    assert set(task.metrics) == set(SPEECH_METRICS)
    assert import_object(task.eval_plan(), plugin="test") is SpeechEvalPlan
    assert T.AUDIO_EXTENSIONS == A.AUDIO_EXTENSIONS


def test_sample_refuses_bad_conditions(toy) -> None:
    with pytest.raises(UsageError, match="needs an input"):
        toy.sample()
