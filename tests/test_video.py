"""Video data and the video-prediction task, on the toy video plugin (no built-in plugin needed).

* clips are read from frame folders, video files (AVI through OpenCV, GIF through Pillow) and .npy clip arrays;
  frames of mixed sizes, unreadable video files and clips shorter than the window give one-line messages;
* moving digits follow the Moving-MNIST recipe, deterministic per (split, index), test digits held out;
* the task writes GIF, MP4 and PNG grids, ``input | predicted | truth`` comparisons, reads ``--input`` folders and
  video files, and refuses ``--play`` for models without actions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import ganzoo
from ganzoo.cli import cli
from ganzoo.data.video import (
    VideoClipDataset,
    fit_frames,
    moving_digits,
    opencv_digits_path,
    read_clip,
    read_frame_folder,
    read_video,
)
from ganzoo.errors import DataError, UsageError
from ganzoo.tasks import TASKS
from ganzoo.tasks.video import write_comparison, write_video

pytestmark = pytest.mark.usefixtures("one_thread")
cv2 = pytest.importorskip("cv2")


def _frames(folder: Path, n: int, size: int = 16, *, start: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        img = np.zeros((size, size), np.uint8)
        img[4:8, (start + i) % size:(start + i) % size + 3] = 255
        Image.fromarray(img).save(folder / f"{i:04d}.png")
    return folder


def _avi(path: Path, n: int, size: tuple[int, int] = (24, 16)) -> Path:
    w, h = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (w, h))
    for i in range(n):
        frame = np.zeros((h, w, 3), np.uint8)
        frame[:, 4 * i % w:4 * i % w + 4] = (0, 0, 255)  # a red band (BGR), 4 px further each frame
        writer.write(frame)
    writer.release()
    return path


# -- readers ---------------------------------------------------------------------------------------------


def test_frame_folder_reads_in_name_order_and_refuses_mixed_sizes(tmp_path: Path) -> None:
    folder = _frames(tmp_path / "clip", 5)
    frames = read_frame_folder(folder, channels=1)
    assert frames.shape == (5, 16, 16, 1) and frames.dtype == np.uint8
    assert [int(np.argmax(f[5, :, 0])) for f in frames] == [0, 1, 2, 3, 4]
    assert read_frame_folder(folder, channels=3).shape == (5, 16, 16, 3)
    Image.fromarray(np.zeros((8, 12), np.uint8)).save(folder / "0005.png")
    with pytest.raises(DataError, match=r"mixed sizes \(0000.png is 16×16, 0005.png is 12×8\); give frames of one"):
        read_frame_folder(folder, channels=1)
    with pytest.raises(DataError, match="holds no frame images"):
        read_frame_folder((tmp_path / "empty").mkdir() or tmp_path / "empty", channels=1)


def test_video_files_are_decoded_or_refused_in_one_line(tmp_path: Path) -> None:
    frames = read_video(_avi(tmp_path / "a.avi", 6), channels=3)
    assert frames.shape == (6, 16, 24, 3)
    red = frames[2, :, 9].astype(int)  # frame 2's band covers x = 8 … 11
    assert red[:, 0].mean() > 180 and red[:, 2].mean() < 80  # RGB order
    assert read_video(tmp_path / "a.avi", channels=1, max_frames=3).shape == (3, 16, 24, 1)
    (tmp_path / "broken.avi").write_bytes(b"RIFF0000AVI not really a video")
    with pytest.raises(DataError, match=r"cannot read video .*broken.avi: OpenCV decoded no frame .* re-encode it"):
        read_video(tmp_path / "broken.avi")
    with pytest.raises(DataError, match="No such video file"):
        read_video(tmp_path / "missing.mp4")
    gif = tmp_path / "g.gif"
    imgs = [Image.fromarray(np.full((8, 8), 40 * i, np.uint8)) for i in range(4)]
    imgs[0].save(gif, save_all=True, append_images=imgs[1:])
    assert read_clip(gif, channels=1).shape == (4, 8, 8, 1)
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(DataError, match="is not a clip: give a folder of frames or a video file"):
        read_clip(tmp_path / "x.txt")


def test_fit_frames_resizes_the_shorter_side_and_centre_crops() -> None:
    frames = np.zeros((2, 20, 40, 1), np.uint8)
    frames[:, :, 18:22] = 255  # a bar in the middle
    out = fit_frames(frames, 10)
    assert out.shape == (2, 10, 10, 1)
    assert out[0, 5, 4:6, 0].min() > 100 and out[0, 5, 0, 0] == 0
    assert fit_frames(out, 10) is out  # already the size: untouched


def test_clip_dataset_mixes_sources_and_reports_short_and_broken_clips(tmp_path: Path, caplog) -> None:
    root = tmp_path / "data" / "train"
    _frames(root / "clip_a", 6)
    _frames(root / "clip_short", 2)
    _avi(root / "b.avi", 5)
    (root / "broken.mp4").write_bytes(b"\x00" * 64)
    np.save(root / "arr.npy", np.zeros((2, 4, 16, 16), np.uint8))
    ds = VideoClipDataset(tmp_path / "data", image_size=8, channels=1, length=4, split="train")
    assert ds.names == ["arr.npy[0]", "arr.npy[1]", "b.avi", "clip_a"]
    assert len(ds) == 1 + 1 + 2 + 3  # windows of 4 frames
    item = ds[0]["frames"]
    assert item.shape == (4, 1, 8, 8) and item.min() >= -1 and item.max() <= 1
    assert ds.skipped["clips shorter than the window"] == 1 and ds.skipped["unreadable video files"] == 1
    assert "clip_short (2)" in caplog.text and "broken.mp4" in caplog.text
    with pytest.raises(DataError, match=r"no clip of at least 9 frames .* every clip is shorter than 9 frames"):
        VideoClipDataset(tmp_path / "data", image_size=8, channels=1, length=9)
    np.save(root / "bad.npy", np.zeros((4, 16, 16), np.float32))
    with pytest.raises(DataError, match=r"a clip array is uint8 \(N, T, H, W\)"):
        VideoClipDataset(tmp_path / "data", image_size=8, channels=1, length=4)


def test_moving_digits_follow_the_recipe() -> None:
    ds = moving_digits("sklearn", split="train", image_size=64, channels=1, length=12)
    test = moving_digits("sklearn", split="test", image_size=64, channels=1, length=12)
    assert (len(ds), len(test)) == (10_000, 1_000)
    a, b = ds[3]["frames"], ds[3]["frames"]
    assert torch.equal(a, b) and a.shape == (12, 1, 64, 64)
    assert not torch.equal(ds[3]["frames"], test[3]["frames"])
    pos, which = ds.trajectories(3)
    assert pos.shape == (2, 12, 2) and pos.min() >= 0 and pos.max() <= 64 - 28
    step = np.abs(np.diff(pos, axis=1)).max()
    assert 0 < step <= 4  # 0.1 of the free range (36 px) per frame, rounded
    assert (a > -1).float().mean() > 0.02  # two digits are drawn
    # the test split draws its digits from the held-out ones
    assert not any(np.array_equal(t, s) for t in test.sprites[:20] for s in ds.sprites)


def test_opencv_moving_digits_say_how_to_fetch_them(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("GANZOO_DATA", str(tmp_path))
    assert opencv_digits_path() == tmp_path / "digits" / "digits.png"
    model = ganzoo.build("toyvideo")
    with pytest.raises(DataError, match=r"scripts/fetch_digits.py --out data/digits.*builtin:moving-digits-sklearn"):
        model.task.dataset(model.config, "builtin:moving-digits", split="train")


# -- the task: writers, --input, --play ----------------------------------------------------------------


def test_writers_gif_mp4_png_and_comparisons(tmp_path: Path) -> None:
    clips = torch.rand(2, 5, 1, 8, 8) * 2 - 1
    with Image.open(write_video(clips, tmp_path / "v.gif")) as im:
        assert im.n_frames == 5 and im.size == (2 * 10 + 2, 10 + 2)  # clips side by side, 2-px borders
    cap = cv2.VideoCapture(str(write_video(clips, tmp_path / "v.mp4")))
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == 5
    task = TASKS["video-prediction"]
    grid = task.write(clips, tmp_path / "g.png", None)
    with Image.open(grid) as im:
        assert im.size == (5 * 10 + 2, 2 * 10 + 2)
    with pytest.raises(UsageError, match="use .gif or .mp4 or .png"):
        task.write(clips, tmp_path / "v.avi", None)
    ctx, pred, truth = clips[:, :3], clips[:, 3:], clips[:, 3:4]
    with Image.open(write_comparison(ctx, pred, truth, tmp_path / "c.gif")) as im:
        assert im.n_frames == 5 and im.size == (3 * 10 + 2, 12 + 2 * 10 + 2)  # 3 panels, a label strip, 2 rows
    with Image.open(write_comparison(ctx, pred, truth, tmp_path / "c.png")) as im:
        assert im.size == (5 * 10 + 2, 6 * 10 + 2)  # a row of frames per panel per clip
    with Image.open(write_comparison(ctx, {"l2": pred, "adv": -pred}, truth, tmp_path / "m.gif")) as im:
        assert im.size[0] == 4 * 10 + 2  # input | l2 | adv | truth


def test_sample_input_reads_folders_and_videos_and_refuses_short_clips(tmp_path: Path) -> None:
    folder = ganzoo.build("toyvideo", seed=0).save_pretrained(tmp_path / "toy")
    run = CliRunner().invoke
    _frames(tmp_path / "clip", 3, size=8)
    res = run(cli, ["sample", str(folder), "--input", str(tmp_path / "clip"), "-o", str(tmp_path / "o.gif")])
    assert res.exit_code == 0, res.output
    with Image.open(tmp_path / "o.gif") as im:
        assert im.n_frames == 4  # 2 context + 2 predicted
    _avi(tmp_path / "c.avi", 4, size=(12, 8))
    res = run(cli, ["sample", str(folder), "--input", str(tmp_path / "c.avi"), "-o", str(tmp_path / "o.png")])
    assert res.exit_code == 0, res.output
    (tmp_path / "bad.avi").write_bytes(b"junk")
    res = run(cli, ["sample", str(folder), "--input", str(tmp_path / "bad.avi"), "-o", str(tmp_path / "b.gif")])
    assert res.exit_code == 1 and "cannot read video" in res.output and "Traceback" not in res.output
    _frames(tmp_path / "one", 1, size=8)
    res = run(cli, ["sample", str(folder), "--input", str(tmp_path / "one"), "-o", str(tmp_path / "s.gif")])
    assert res.exit_code == 1 and "has 1 frames; " in res.output and "needs at least 2 (its context)" in res.output
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "clip" / "0009.png")
    res = run(cli, ["sample", str(folder), "--input", str(tmp_path / "clip"), "-o", str(tmp_path / "m.gif")])
    assert res.exit_code == 1 and "mixed sizes" in res.output
    model = ganzoo.load(str(folder))
    with pytest.raises(UsageError, match="takes no actions: --play is for action-conditioned models"):
        model.task.play(model, "LLR", tmp_path / "p.gif")


def test_preview_shows_input_predicted_truth(tmp_path: Path) -> None:
    model = ganzoo.build("toyvideo", seed=0).eval()
    clips = [{"frames": torch.rand(4, 1, 8, 8) * 2 - 1} for _ in range(6)]
    path = model.task.preview(model, clips, tmp_path / "step")
    with Image.open(path) as im:
        assert path.suffix == ".gif" and im.size[0] == 3 * 10 + 2  # input | predicted | truth


def test_fetch_video_cuts_clips_and_holds_out_the_last_ones(tmp_path: Path) -> None:
    import importlib.util

    script = Path(__file__).parents[1] / "scripts" / "fetch_video.py"
    spec = importlib.util.spec_from_file_location("fetch_video", script)
    fetch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fetch)
    assert fetch.split_clips(795, 20, 0.2) == (list(range(0, 620, 20)), list(range(620, 780, 20)))
    assert fetch.split_clips(68, 20, 0.2) == ([0, 20], [40])
    with pytest.raises(RuntimeError, match="fewer than 2 clips"):
        fetch.split_clips(30, 20, 0.2)
    counts = fetch.cut(_avi(tmp_path / "v.avi", 12, size=(48, 32)), tmp_path / "out", clip_length=4, side=16,
                       test_fraction=0.3)
    assert counts == {"frames": 12, "train": 2, "test": 1}
    assert sorted(p.name for p in (tmp_path / "out" / "train").iterdir()) == ["v_000", "v_001"]
    frames = read_frame_folder(tmp_path / "out" / "test" / "v_002", channels=3)
    assert frames.shape == (4, 16, 24, 3)  # shorter side 16, aspect kept
    ds = VideoClipDataset(tmp_path / "out", image_size=16, channels=1, length=4, split="test")
    assert len(ds) == 1
