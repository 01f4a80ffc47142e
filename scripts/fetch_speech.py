"""Build an offline noisy-speech data set in SEGAN's recipe from Debian packages: real speech mixed with real noise.

    python scripts/fetch_speech.py --out data/speech            # ~1 h of training speech, 96 test utterances

Writes ``OUT/train/{clean,noisy}/*.wav`` and ``OUT/test/{clean,noisy}/*.wav`` (16 kHz, 16-bit mono, matching
names) and ``OUT/manifest.json`` (every utterance's speech clips, noise file, offset, SNR). Nothing here is
committed: the packages are downloaded with ``apt-get download`` at pinned versions, checked against pinned
sha256 digests, and unpacked with ``dpkg-deb -x`` into ``--cache`` (no root needed, nothing installed).

Recipe (after Valentini et al. 2016, the VoiceBank-DEMAND set SEGAN trained on):

* Speech. Train: the Asterisk prompts of Allison (US English and Mexican Spanish), the Tux Paint spoken stamp
  descriptions (human recordings, 12 languages) and KLettres letters/syllables (native speakers, ~20 languages).
  Test, held-out speakers: the Asterisk prompts of June (Canadian French, female) and Carlo (Italian, male).
  Short clips of one source are joined with 0.15–0.35 s pauses into 2.5–5 s utterances.
* Noise. Train: Tux Paint sound effects (animals, household, hobbies), white and pink noise. Test, held-out
  noises: the other Tux Paint effects (seasonal, town, vehicles, military, space, nature, food), ALSA's
  ``Noise.wav`` and brown noise. Coloured noise is drawn with numpy from the seed (the spectra sox's ``synth``
  makes), so the set is bit-for-bit reproducible.
* Mixing. SNR {0, 5, 10, 15} dB for training and {2.5, 7.5, 12.5, 17.5} dB for testing, the speech level measured
  on its active 20 ms frames (within 40 dB of the loudest: a simplification of ITU-T P.56); the noise is
  looped from a random offset; clean and noisy are scaled together when the mix would clip.

Requires ``apt-get`` and ``dpkg-deb`` (Debian 12), ``pip install 'ganzoo[audio]'`` (soundfile, soxr) and the
``imageio-ffmpeg`` wheel (its ffmpeg decodes the G.722 prompts).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np

SR = 16000
#: package -> (version, sha256 of the .deb): the exact bytes the data set is built from (Debian 12 "bookworm").
PACKAGES = {
    "asterisk-core-sounds-en-g722": ("1.6.1-1", "38c5261820b406dcb0ecb37675720da2b0864850690690352ca52707eb623806"),
    "asterisk-core-sounds-es-g722": ("1.6.1-1", "e4e3b4281057d3b81b779298fd6be705f57411513955c518eed1bcaabbd615b8"),
    "asterisk-core-sounds-fr-g722": ("1.6.1-1", "7add61d5e42279ecff1bbdf842a5a946ac3644fac9a0fe44384731aa7270c8e0"),
    "asterisk-core-sounds-it-g722": ("1.6.1-1", "46b4cf7afc508a5fcfc051b7ea233251c0d195dd4ef83cc4b7facb4c6429b016"),
    "tuxpaint-stamps-default": ("2022.06.04-1", "6db6c1bfc870a47f1499d6203b083522eacb57c5f9c87d468f2e92eb6d9d5f34"),
    "klettres-data": ("4:22.12.3-1", "1186d257a19e84230856baea0b0b1ded8be9195080fcdb2588970b5cd937f5a8"),
    "alsa-utils": ("1.2.8-1", "fb24eb1a318228b974efbef726190dd90c6106a208814a3ee8f5d69b91ee0ba4"),
}
LICENSES = {
    "asterisk-core-sounds": "CC-BY-SA-3.0 (Allison Smith, June Wallack, Carlo Flamini / Digium)",
    "tuxpaint-stamps-default": "GPL-2.0",
    "klettres-data": "GPL-2.0-or-later",
    "alsa-utils": "GPL-2.0",
}
TRAIN_SNRS, TEST_SNRS = (0.0, 5.0, 10.0, 15.0), (2.5, 7.5, 12.5, 17.5)
TEST_SPEAKERS = ("fr_CA_f_June", "it_IT_m_Carlo")
TRAIN_SPEAKERS = ("en_US_f_Allison", "es_MX_f_Allison")
TRAIN_EFFECTS = ("animals", "household", "hobbies")
TEST_EFFECTS = ("seasonal", "town", "vehicles", "military", "space", "naturalforces", "food")


def fail(msg: str) -> None:
    print(f"fetch_speech: {msg}", file=sys.stderr)
    raise SystemExit(1)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch_packages(cache: Path) -> Path:
    """Download (once) the pinned .debs into ``cache``, check their digests, unpack them; returns the root."""
    cache.mkdir(parents=True, exist_ok=True)
    root = cache / "root"
    for pkg, (version, digest) in PACKAGES.items():
        debs = sorted(cache.glob(f"{pkg}_*.deb"))
        if not debs:
            print(f"downloading {pkg}={version}", flush=True)
            try:
                subprocess.run(["apt-get", "download", f"{pkg}={version}"], cwd=cache, check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            except FileNotFoundError:
                fail("apt-get not found: this script needs Debian's apt (Debian 12 'bookworm' package versions)")
            except subprocess.CalledProcessError as err:
                fail(f"apt-get download {pkg}={version} failed ({err.stderr.decode().strip().splitlines()[-1:]}); "
                     f"run `apt-get update` first")
            debs = sorted(cache.glob(f"{pkg}_*.deb"))
        got = sha256(debs[0])
        if got != digest:
            fail(f"{debs[0].name} has sha256 {got}, expected {digest}; delete it and run again")
        marker = root / f".{pkg}.unpacked"
        if not marker.exists():
            root.mkdir(exist_ok=True)
            subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(root)], check=True)
            marker.write_text(digest)
    return root / "usr" / "share"


# ---------------------------------------------------------------------------------------------------------
# decoding


def _ffmpeg() -> str:
    try:
        import imageio_ffmpeg
    except ImportError:
        fail("decoding the G.722 prompts needs the imageio-ffmpeg wheel: pip install imageio-ffmpeg")
    return imageio_ffmpeg.get_ffmpeg_exe()


def decode_g722(path: Path) -> np.ndarray:
    out = subprocess.run([_ffmpeg(), "-v", "error", "-f", "g722", "-i", str(path), "-f", "s16le", "-ac", "1",
                          "-ar", str(SR), "-"], check=True, capture_output=True).stdout
    return np.frombuffer(out, dtype="<i2").astype(np.float32) / 32768.0


def decode(path: Path) -> np.ndarray:
    """Any clip as float32 mono at 16 kHz."""
    if path.suffix == ".g722":
        return decode_g722(path)
    from ganzoo.data.audio import read_audio, resample

    audio = read_audio(path)
    return resample(audio.mono(), audio.sample_rate, SR)


# ---------------------------------------------------------------------------------------------------------
# sources


def speech_sources(share: Path) -> dict[str, dict[str, list[Path]]]:
    """``{"train"|"test": {source name: sorted clip paths}}``."""
    ast = share / "asterisk" / "sounds"
    train: dict[str, list[Path]] = {}
    test: dict[str, list[Path]] = {}
    for spk in TRAIN_SPEAKERS + TEST_SPEAKERS:
        clips = sorted(p for p in (ast / spk).rglob("*.g722") if "silence" not in p.parts)
        (test if spk in TEST_SPEAKERS else train)[f"asterisk-{spk}"] = clips
    desc: dict[str, list[Path]] = {}
    for p in sorted((share / "tuxpaint" / "stamps").rglob("*_desc*.ogg")):
        lang = p.stem.split("_desc", 1)[1].lstrip("_") or "en"
        desc.setdefault(lang, []).append(p)
    for lang, clips in desc.items():
        if len(clips) >= 50:
            train[f"tuxpaint-{lang}"] = clips
    klettres = sorted((share / "klettres").rglob("*.ogg"))
    train["klettres"] = klettres
    return {"train": train, "test": test}


def noise_sources(share: Path) -> dict[str, list[Path]]:
    stamps = share / "tuxpaint" / "stamps"
    by_cat: dict[str, list[Path]] = {}
    for p in sorted(stamps.rglob("*.ogg")):
        if "_desc" in p.stem or not any(p.with_suffix(s).exists() for s in (".png", ".svg")):
            continue  # spoken descriptions, and spoken letters/digits without a stamp of their own
        by_cat.setdefault(p.relative_to(stamps).parts[0], []).append(p)
    train = [p for c in TRAIN_EFFECTS for p in by_cat.get(c, [])]
    test = [p for c in TEST_EFFECTS for p in by_cat.get(c, [])] + [share / "sounds" / "alsa" / "Noise.wav"]
    return {"train": train, "test": test}


def coloured_noise(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """White, pink (1/f power) or brown (1/f²) noise, unit RMS."""
    white = rng.standard_normal(n)
    if kind == "white":
        x = white
    else:
        spec = np.fft.rfft(white)
        f = np.fft.rfftfreq(n, 1.0 / SR)
        f[0] = f[1]
        spec /= np.sqrt(f) if kind == "pink" else f
        x = np.fft.irfft(spec, n)
    return (x / (np.sqrt(np.mean(x ** 2)) + 1e-12)).astype(np.float32)


# ---------------------------------------------------------------------------------------------------------
# utterances and mixing


def active_power(x: np.ndarray, frame: int = 320) -> float:
    """Mean power of the 20 ms frames within 40 dB of the loudest one."""
    n = len(x) // frame
    if n == 0:
        return float(np.mean(x ** 2)) + 1e-12
    p = np.mean(x[: n * frame].reshape(n, frame) ** 2, axis=1)
    return float(np.mean(p[p >= p.max() * 1e-4])) + 1e-12


def compose(clips: list[np.ndarray], rng: np.random.Generator, lo: float = 2.5, hi: float = 5.0
            ) -> list[tuple[np.ndarray, list[int]]]:
    """Join consecutive clips of one source, with short pauses, into utterances of ``lo``–``hi`` seconds."""
    out, cur, ids, target = [], [], [], rng.uniform(lo, hi) * SR
    for i, c in enumerate(clips):
        cur.append(c / (np.abs(c).max() + 1e-9) * 0.5)  # each clip peaks at -6 dBFS before the level draw
        ids.append(i)
        if sum(len(x) for x in cur) >= target:
            pieces = []
            for x in cur:
                pieces += [x, np.zeros(int(rng.uniform(0.15, 0.35) * SR), np.float32)]
            out.append((np.concatenate(pieces[:-1]), ids))
            cur, ids, target = [], [], rng.uniform(lo, hi) * SR
    return out


def mix(clean: np.ndarray, noise: np.ndarray, snr_db: float, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    reps = int(np.ceil((len(clean) + len(noise)) / len(noise)))
    offset = int(rng.integers(0, len(noise)))
    n = np.tile(noise, reps)[offset:offset + len(clean)]
    n = n * np.sqrt(active_power(clean) / (np.mean(n ** 2) + 1e-12) / 10 ** (snr_db / 10))
    level = 10 ** (rng.uniform(-30, -18) / 20) / np.sqrt(active_power(clean))  # speech at -30…-18 dBFS
    clean, noisy = clean * level, (clean + n) * level
    peak = max(np.abs(noisy).max(), np.abs(clean).max())
    if peak > 0.99:
        clean, noisy = clean * 0.99 / peak, noisy * 0.99 / peak
    return clean.astype(np.float32), noisy.astype(np.float32), offset


def build_split(split: str, sources: dict[str, list[Path]], noises: list[tuple[str, np.ndarray]], out: Path,
                budget_s: float | None, count: int | None, seed: int, share: Path) -> list[dict]:
    from ganzoo.data.audio import write_audio

    snrs = TRAIN_SNRS if split == "train" else TEST_SNRS
    rng = np.random.default_rng([seed, zlib.crc32(split.encode())])
    per_source_s = budget_s / len(sources) if budget_s else None
    per_source_n = -(-count // len(sources)) if count else None
    rows = []
    for name, paths in sources.items():
        order = rng.permutation(len(paths))
        clips, dur, picked = [], 0.0, []
        # decode just enough clips: the budget plus headroom for the pauses the utterances add
        for j in order:
            x = decode(paths[j])
            if len(x) < SR // 10 or np.abs(x).max() < 1e-3:
                continue
            clips.append(x)
            picked.append(paths[j])
            dur += len(x) / SR
            if (per_source_s and dur >= per_source_s) or (per_source_n and dur >= per_source_n * 7.0):
                break
        utts = compose(clips, rng)
        if per_source_n:
            utts = utts[:per_source_n]
        for k, (speech, ids) in enumerate(utts):
            snr = float(snrs[int(rng.integers(len(snrs)))])
            nname, noise = noises[int(rng.integers(len(noises)))]
            clean, noisy, offset = mix(speech, noise, snr, rng)
            fname = f"{name}_{k:04d}.wav"
            write_audio(out / split / "clean" / fname, clean, SR)
            write_audio(out / split / "noisy" / fname, noisy, SR)
            rows.append({"file": f"{split}/{fname}", "source": name, "snr_db": snr, "noise": nname,
                         "noise_offset": offset, "seconds": round(len(clean) / SR, 3),
                         "clips": [str(picked[i].relative_to(share)) for i in ids]})
        print(f"{split}: {name}: {len(utts)} utterances", flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("data/speech"), help="output folder (default data/speech)")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "ganzoo" / "speech-debs",
                    help="where the .debs are downloaded and unpacked")
    ap.add_argument("--train-minutes", type=float, default=60.0, help="training speech, before the pauses")
    ap.add_argument("--test-utterances", type=int, default=96)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if (args.out / "manifest.json").exists():
        fail(f"{args.out} already holds a data set (manifest.json); remove it or give another --out")

    share = fetch_packages(args.cache)
    speech = speech_sources(share)
    effects = noise_sources(share)
    rows = []
    for split in ("train", "test"):
        rng = np.random.default_rng([args.seed, 7, zlib.crc32(split.encode())])
        noises = [(str(p.relative_to(share)), decode(p)) for p in effects[split]]
        noises = [(n, x) for n, x in noises if np.abs(x).max() > 1e-3]
        for kind in (("white", "pink") if split == "train" else ("brown",)):
            noises.append((f"{kind} noise", coloured_noise(kind, 30 * SR, rng)))
        rows += build_split(split, speech[split], noises, args.out,
                            args.train_minutes * 60 if split == "train" else None,
                            args.test_utterances if split == "test" else None, args.seed, share)
    manifest = {"sample_rate": SR, "seed": args.seed, "train_snrs_db": TRAIN_SNRS, "test_snrs_db": TEST_SNRS,
                "packages": {k: {"version": v, "sha256": d} for k, (v, d) in PACKAGES.items()},
                "licenses": LICENSES, "utterances": rows}
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    for split in ("train", "test"):
        sel = [r for r in rows if r["file"].startswith(split)]
        print(f"{split}: {len(sel)} utterances, {sum(r['seconds'] for r in sel) / 60:.1f} min")


if __name__ == "__main__":
    main()
