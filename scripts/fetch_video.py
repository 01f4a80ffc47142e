"""Fetch OpenCV's sample videos and cut them into clips for video prediction (train clips, held-out test clips).

    python scripts/fetch_video.py --out data/video                 # apt-get download opencv-doc, extract, cut
    python scripts/fetch_video.py --out data/video --deb PATH.deb  # use a .deb you already have

``opencv-doc`` (Debian, the OpenCV 4.6 samples) ships two real videos used here: ``vtest.avi`` (795 frames,
768×576, 10 fps: pedestrians seen by a static camera) and ``tree.avi`` (68 frames, 320×240, 15 fps). The script
extracts only those two files, checks their sha256, and writes

    OUT/raw/vtest.avi, OUT/raw/tree.avi       the sources, as extracted
    OUT/train/<video>_<clip:03d>/<frame:05d>.png   clips of --clip-length frames, frames resized so that the
    OUT/test/<video>_<clip:03d>/<frame:05d>.png    shorter side is --side pixels (RGB PNG)
    OUT/SOURCE.md                             provenance, split and sizes; written last (marks a complete run)

Each video is cut into consecutive, non-overlapping clips; the **last** ``--test-fraction`` of every video's clips
(at least one) is held out as the test split, so test frames come from a later time than any training frame.
A complete OUT is left alone, so the script is safe to re-run. ``data/`` is git-ignored: never commit it.
Train with ``ganzoo train framegan --data data/video`` (clips are centre-cropped to the model's square frames).
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

try:
    from ganzoo.data.video import read_video
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from ganzoo.data.video import read_video

logger = logging.getLogger("fetch_video")

DEB_PACKAGE = "opencv-doc"
DATA_DIR = "./usr/share/doc/opencv-doc/examples/data"
#: sha256 of the videos in Debian opencv-doc 4.6.0+dfsg-12
VIDEOS = {
    "vtest.avi": "45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf",
    "tree.avi": "4666099d0f704e310047b2f0a5ec9f936cb76a7271de9a2e70a0c57f82ac82dc",
}


def _run(cmd: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    logger.info("$ %s", " ".join(cmd))
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)


def _download_deb(workdir: Path) -> Path:
    result = _run(["apt-get", "download", DEB_PACKAGE], cwd=workdir)
    if result.returncode != 0:
        logger.warning("apt-get download failed (%s); running apt-get update and retrying", result.stderr.strip())
        if _run(["apt-get", "update"]).returncode != 0 or _run(["apt-get", "download", DEB_PACKAGE],
                                                                cwd=workdir).returncode != 0:
            raise RuntimeError(f"apt-get download {DEB_PACKAGE} failed; download the .deb elsewhere, pass --deb PATH")
    debs = sorted(workdir.glob(f"{DEB_PACKAGE}_*.deb"))
    if len(debs) != 1:
        raise RuntimeError(f"expected one {DEB_PACKAGE}_*.deb in {workdir}, found {[d.name for d in debs]}")
    return debs[0]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _extract(deb: Path, workdir: Path) -> dict[str, Path]:
    members = [f"{DATA_DIR}/{name}" for name in VIDEOS]
    with subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE) as dpkg:
        tar = subprocess.run(["tar", "-x", "-C", str(workdir), *members], stdin=dpkg.stdout, capture_output=True,
                             text=True)
    if dpkg.wait() != 0 or tar.returncode != 0:
        raise RuntimeError(f"could not extract the videos from {deb}:\n{tar.stderr}")
    out = {}
    for name, want in VIDEOS.items():
        path = workdir / DATA_DIR / name
        got = _sha256(path)
        if got != want:
            raise RuntimeError(f"{name} has sha256 {got}, expected {want} (opencv-doc 4.6.0+dfsg-12); another version")
        out[name] = path
    return out


def split_clips(n_frames: int, clip_length: int, test_fraction: float) -> tuple[list[int], list[int]]:
    """Start frames of the train and test clips: consecutive, non-overlapping; the last ones are the test clips."""
    starts = list(range(0, n_frames - clip_length + 1, clip_length))
    if len(starts) < 2:
        raise RuntimeError(f"a video of {n_frames} frames gives fewer than 2 clips of {clip_length} frames")
    n_test = max(1, round(len(starts) * test_fraction))
    return starts[:-n_test], starts[-n_test:]


def _resize(frames: np.ndarray, side: int) -> list[np.ndarray]:
    from PIL import Image

    t, h, w, _ = frames.shape
    scale = side / min(h, w)
    size = (max(side, round(w * scale)), max(side, round(h * scale)))
    return [np.asarray(Image.fromarray(f).resize(size, Image.BICUBIC, reducing_gap=3.0)) for f in frames]


def cut(video: Path, out: Path, *, clip_length: int, side: int, test_fraction: float) -> dict[str, int]:
    """Cut one video into clip folders under ``out/train`` and ``out/test``; return the clip counts."""
    from PIL import Image

    frames = _resize(read_video(video, channels=3), side)
    train, test = split_clips(len(frames), clip_length, test_fraction)
    for split, starts in (("train", train), ("test", test)):
        for start in starts:
            folder = out / split / f"{video.stem}_{start // clip_length:03d}"
            folder.mkdir(parents=True, exist_ok=True)
            for t in range(clip_length):
                Image.fromarray(frames[start + t]).save(folder / f"{t:05d}.png")
    return {"frames": len(frames), "train": len(train), "test": len(test)}


def fetch(out: Path, *, deb: Path | None, clip_length: int, side: int, test_fraction: float) -> None:
    if (out / "SOURCE.md").is_file():
        logger.info("%s is complete (SOURCE.md); nothing to do", out)
        return
    for split in ("train", "test", "raw"):
        shutil.rmtree(out / split, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="fetch-video-") as tmp:
        workdir = Path(tmp)
        deb = deb if deb is not None else _download_deb(workdir)
        version = _run(["dpkg-deb", "--field", str(deb), "Version"]).stdout.strip()
        videos = _extract(deb, workdir)
        (out / "raw").mkdir(parents=True, exist_ok=True)
        counts = {}
        for name, path in videos.items():
            shutil.copyfile(path, out / "raw" / name)
            counts[name] = cut(out / "raw" / name, out, clip_length=clip_length, side=side,
                               test_fraction=test_fraction)
    lines = [f"- `{name}` (sha256 `{VIDEOS[name][:16]}…`): {c['frames']} frames → {c['train']} train and {c['test']} "
             f"test clips" for name, c in counts.items()]
    (out / "SOURCE.md").write_text(
        "# Real video clips (OpenCV samples)\n\n"
        "Written by `scripts/fetch_video.py`; do not commit (`data/` is git-ignored).\n\n"
        f"- Source: `{DATA_DIR.lstrip('./')}/{{vtest,tree}}.avi` from the Debian package `{DEB_PACKAGE}` version "
        f"`{version}` (`apt-get download {DEB_PACKAGE}`; extracted with `dpkg-deb --fsys-tarfile | tar -x`).\n"
        "- Licence: OpenCV samples data; the package's copyright file covers it under `Files: *`, "
        "`Apache-2.0 AND BSD-3-Clause`.\n"
        f"- Clips: consecutive, non-overlapping, {clip_length} frames; frames resized (bicubic) so the shorter side "
        f"is {side} px, RGB PNG. The last {test_fraction:.0%} of each video's clips (at least one) are the test "
        "split.\n" + "\n".join(lines) + "\n")
    logger.info("wrote %s", ", ".join(f"{k}: {v}" for k, v in counts.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("data/video"), help="output folder (default: data/video)")
    parser.add_argument("--deb", type=Path, default=None, help="use this opencv-doc .deb instead of apt-get download")
    parser.add_argument("--clip-length", type=int, default=20, help="frames per clip (default: 20)")
    parser.add_argument("--side", type=int, default=128, help="shorter side of the written frames (default: 128)")
    parser.add_argument("--test-fraction", type=float, default=0.2, help="held-out share of each video's clips")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        fetch(args.out, deb=args.deb, clip_length=args.clip_length, side=args.side, test_fraction=args.test_fraction)
    except (RuntimeError, ValueError, FileNotFoundError) as exc:
        logger.error("error: %s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
