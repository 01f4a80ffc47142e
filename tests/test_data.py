"""Dataset formats, robust image reading, skipped files (at the scan and at load time), determinism and the
resumable sampler."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from ganzoo.config import (
    AudioConfig,
    ConditionalConfig,
    DomainConfig,
    ImageConfig,
    PairedTranslationConfig,
    TranslationConfig,
    VideoConfig,
)
from ganzoo.data import (
    AlignedDataset,
    ImageFolderDataset,
    UnalignedDataset,
    dataset_for_task,
    open_image,
    to_tensor,
)
from ganzoo.errors import DataError
from ganzoo.testing import write_dataset
from ganzoo.training.sampler import ResumableDistributedSampler

FORMATS = {
    "unconditional": (ImageConfig(image_size=16, channels=3), {"image": (3, 16, 16)}),
    "reconstruction": (ImageConfig(image_size=8, channels=1), {"image": (1, 8, 8)}),
    "class-conditional": (ConditionalConfig(image_size=16, channels=1, num_classes=3),
                          {"image": (1, 16, 16), "label": ()}),
    "multi-domain-translation": (DomainConfig(image_size=16, channels=3, num_domains=2),
                                 {"image": (3, 16, 16), "label": ()}),
    "paired-translation": (PairedTranslationConfig(image_size=16, input_channels=1, output_channels=3),
                           {"A": (1, 16, 16), "B": (3, 16, 16)}),
    "unpaired-translation": (TranslationConfig(image_size=16), {"A": (3, 16, 16), "B": (3, 16, 16)}),
    "speech-enhancement": (AudioConfig(sample_rate=8000, segment_length=256), {"clean": (256,), "noisy": (256,)}),
    "video-prediction": (VideoConfig(image_size=8, channels=1, context_frames=2, future_frames=3),
                         {"frames": (5, 1, 8, 8)}),
}


@pytest.mark.parametrize("task", sorted(FORMATS))
def test_every_format_reads_its_layout(tmp_path: Path, task: str) -> None:
    cfg, shapes = FORMATS[task]
    root = write_dataset(task, tmp_path / "data", cfg, n=6)
    ds = dataset_for_task(task, cfg, root)
    assert len(ds) >= 3
    item = ds[0]
    assert {k: tuple(v.shape) for k, v in item.items()} == shapes
    for k, v in item.items():
        if v.dtype.is_floating_point:
            assert v.dtype == torch.float32 and v.min() >= -1 and v.max() <= 1, k
            assert v.std() > 0, f"{k} is constant"
        else:
            assert v.dtype == torch.long
    batch = next(iter(DataLoader(ds, batch_size=2)))
    assert {k: tuple(v.shape) for k, v in batch.items()} == {k: (2, *s) for k, s in shapes.items()}
    if "label" in shapes:
        k = getattr(cfg, "num_classes", getattr(cfg, "num_domains", None))
        assert len(ds.classes) == k and sorted({int(ds[i]["label"]) for i in range(len(ds))}) == list(range(k))


def test_aligned_pairs_split_left_right_and_follow_the_direction(tmp_path: Path) -> None:
    cfg = PairedTranslationConfig(image_size=16)
    root = write_dataset("paired-translation", tmp_path / "p", cfg, n=3)
    files = sorted((root / "train").glob("*.png"))
    whole = np.asarray(Image.open(files[1]).convert("RGB"))
    left, right = to_tensor(Image.fromarray(whole[:, :16])), to_tensor(Image.fromarray(whole[:, 16:]))
    a2b = AlignedDataset(root, image_size=16)[1]
    assert torch.equal(a2b["A"], left) and torch.equal(a2b["B"], right)
    b2a = AlignedDataset(root, image_size=16, direction="BtoA")[1]
    assert torch.equal(b2a["A"], right) and torch.equal(b2a["B"], left)
    # jitter: both halves get the same crop and flip
    jit = AlignedDataset(root, image_size=12, load_size=16, flip=True)
    for i in range(3):
        item = jit[i]
        assert item["A"].shape == item["B"].shape == (3, 12, 12)


def test_corrupt_and_non_image_files_are_skipped_and_counted(tmp_path: Path, caplog) -> None:
    root = write_dataset("unconditional", tmp_path / "imgs", ImageConfig(image_size=8, channels=3), n=5)
    good = (root / "0000.png").read_bytes()
    (root / "garbage.png").write_bytes(b"this is not a png at all")
    (root / "truncated.png").write_bytes(good[: len(good) // 2])
    (root / "notes.txt").write_text("hello")
    (root / "sub").mkdir()
    (root / "sub" / "labels.csv").write_text("a,b\n")
    (root / ".DS_Store").write_bytes(b"\0\0")  # hidden files are not data at all
    with caplog.at_level(logging.WARNING, logger="ganzoo"):
        ds = ImageFolderDataset(root, image_size=8)
    assert len(ds) == 5
    assert ds.skipped == {"non-image files": 2, "unreadable images": 2}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "2 non-image files" in warnings[0] and "2 unreadable images" in warnings[0]
    assert all(ds[i]["image"].shape == (3, 8, 8) for i in range(len(ds)))


def test_an_image_that_fails_to_decode_is_skipped_deterministically(tmp_path: Path, caplog) -> None:
    """A truncated JPEG passes the header check; when its item is loaded the next readable file serves it,
    the file is counted and named once, and the substitution is the same every time (so resume stays exact)."""
    root = tmp_path / "imgs"
    root.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(root / f"{i}.jpg", quality=90)
    blob = (root / "1.jpg").read_bytes()
    (root / "1.jpg").write_bytes(blob[: len(blob) - 60])  # the headers stay whole, the scan data end early
    with caplog.at_level(logging.WARNING, logger="ganzoo"):
        ds = ImageFolderDataset(root, image_size=16)
    assert len(ds) == 3 and not caplog.records  # the header check does not see it
    with caplog.at_level(logging.WARNING, logger="ganzoo"):
        served = [ds[1]["image"] for _ in range(3)]
    assert all(torch.equal(x, ds[2]["image"]) for x in served)  # the next readable file, every time
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "1.jpg is not a readable image" in warnings[0], warnings
    assert ds.skipped["unreadable images"] == 1
    fresh = ImageFolderDataset(root, image_size=16)  # another process (a loader worker) substitutes alike
    assert torch.equal(fresh[1]["image"], served[0])
    # the last file wraps around to the first; a folder with nothing readable left is an error that says so
    (root / "2.jpg").write_bytes(b"not a jpeg any more")
    assert torch.equal(fresh[2]["image"], fresh[0]["image"])
    (root / "0.jpg").write_bytes(b"nor this")
    with pytest.raises(DataError, match=r"no file can be read any more .*check the data"):
        fresh[0]


@pytest.mark.parametrize("task", ["class-conditional", "paired-translation", "unpaired-translation",
                                  "speech-enhancement", "video-prediction"])
def test_every_format_skips_a_file_that_breaks_after_the_scan(tmp_path: Path, task: str) -> None:
    cfg, shapes = FORMATS[task]
    root = write_dataset(task, tmp_path / "data", cfg, n=6)
    if task == "speech-enhancement":
        # the speech windows are read into memory when the dataset is built: a broken pair is skipped then
        (root / "train" / "clean" / "0001.wav").write_bytes(b"broken")
        ds = dataset_for_task(task, cfg, root)
        assert ds.skipped["unreadable audio files"] == 1 and "0001.wav" not in ds.names
        assert {k: tuple(v.shape) for k, v in ds[1].items()} == shapes
        return
    if task == "video-prediction":
        # clips are decoded into memory when the dataset is built: a clip folder with a broken frame is skipped
        # then, and a file damaged afterwards changes nothing
        (root / "train" / "clip001" / "0002.png").write_bytes(b"broken")
        ds = dataset_for_task(task, cfg, root)
        assert ds.skipped["unreadable clip folders"] == 1 and "clip001" not in ds.names
        before = ds[1]["frames"].clone()
        (root / "train" / "clip000" / "0001.png").write_bytes(b"broken")
        assert torch.equal(ds[1]["frames"], before) and {k: tuple(v.shape) for k, v in ds[1].items()} == shapes
        return
    ds = dataset_for_task(task, cfg, root)
    broken = {"class-conditional": lambda: ds.files[1], "paired-translation": lambda: ds.files[1],
              "unpaired-translation": lambda: ds.files_a[1]}[task]()
    broken.write_bytes(b"broken")
    item = ds[1]
    assert {k: tuple(v.shape) for k, v in item.items()} == shapes
    assert sum(ds.skipped.values()) >= 1 and any(k.startswith("unreadable") and n == 1 for k, n in ds.skipped.items())
    if task == "class-conditional":  # the label is the serving file's own
        assert int(item["label"]) == ds.targets[2]


def test_training_goes_on_past_a_truncated_jpeg_and_resumes_exactly(tmp_path: Path) -> None:
    import ganzoo
    from ganzoo.training.checkpoint import latest_checkpoint, load_checkpoint

    root = tmp_path / "imgs"
    root.mkdir()
    rng = np.random.default_rng(1)
    for i in range(24):
        Image.fromarray(rng.integers(0, 255, (8, 8), dtype=np.uint8)).save(root / f"{i:02d}.jpg", quality=95)
    blob = (root / "05.jpg").read_bytes()
    (root / "05.jpg").write_bytes(blob[: len(blob) - 60])
    opts = {"max_steps": 8, "batch_size": 4, "progress": False, "sample_every": 0, "log_every": 1}

    def stop_at_3(trainer) -> None:
        if trainer.step == 3:
            trainer.request_stop()

    ganzoo.train("toygan", root, out=tmp_path / "straight", **opts)
    ganzoo.train("toygan", root, out=tmp_path / "resumed", callbacks={"on_step_end": [stop_at_3]}, **opts)
    ganzoo.train("toygan", root, out=tmp_path / "resumed", resume=True)
    a, _ = load_checkpoint(latest_checkpoint(tmp_path / "straight" / "checkpoints"))
    b, state = load_checkpoint(latest_checkpoint(tmp_path / "resumed" / "checkpoints"))
    assert state["run"]["dataset_len"] == 24  # the broken file passed the scan: it breaks while training
    assert state["step"] == 8 and state["epoch"] >= 1  # an epoch went by, the broken file's item included
    assert all(torch.equal(a[c][k], b[c][k]) for c in a for k in a[c])


def test_modes_are_read_as_they_look(tmp_path: Path) -> None:
    # grey 8-bit
    grey = np.array([[0, 255], [128, 64]], dtype=np.uint8)
    Image.fromarray(grey).save(tmp_path / "grey.png")
    t = to_tensor(open_image(tmp_path / "grey.png", 1))
    assert torch.allclose(t[0], torch.tensor(grey, dtype=torch.float32) / 127.5 - 1)
    rgb = to_tensor(open_image(tmp_path / "grey.png", 3))
    assert rgb.shape == (3, 2, 2) and torch.equal(rgb[0], rgb[1]) and torch.equal(rgb[0], t[0])
    # 16-bit grey: scaled by the 16-bit range (not stretched per image)
    g16 = np.array([[0, 65535], [128 * 257, 1000]], dtype=np.uint16)
    Image.fromarray(g16).save(tmp_path / "g16.png")
    with Image.open(tmp_path / "g16.png") as im:
        assert im.mode.startswith("I")
    t16 = to_tensor(open_image(tmp_path / "g16.png", 1))[0]
    expected = torch.tensor(np.round(g16 / 257.0), dtype=torch.float32) / 127.5 - 1
    assert torch.allclose(t16, expected)
    dim = np.full((2, 2), 1000, dtype=np.uint16)  # a dark 16-bit image stays dark
    Image.fromarray(dim).save(tmp_path / "dim.png")
    assert to_tensor(open_image(tmp_path / "dim.png", 1)).max() < -0.9
    # RGBA: transparent pixels composite on white, opaque ones keep their colour
    rgba = np.zeros((1, 2, 4), dtype=np.uint8)
    rgba[0, 0] = (255, 0, 0, 255)
    rgba[0, 1] = (0, 0, 0, 0)
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "rgba.png")
    t = to_tensor(open_image(tmp_path / "rgba.png", 3))
    assert t[:, 0, 0].tolist() == [1.0, -1.0, -1.0] and t[:, 0, 1].tolist() == [1.0, 1.0, 1.0]
    # palette, with a transparent index
    pal = Image.new("P", (2, 1))
    pal.putpalette([10, 20, 30, 200, 100, 50] + [0] * 762)
    pal.putpixel((0, 0), 0)
    pal.putpixel((1, 0), 1)
    pal.save(tmp_path / "pal.png")
    t = ((to_tensor(open_image(tmp_path / "pal.png", 3)) + 1) * 127.5).round()
    assert t[:, 0, 0].tolist() == [10, 20, 30] and t[:, 0, 1].tolist() == [200, 100, 50]
    pal.save(tmp_path / "pal_t.png", transparency=1)
    t = ((to_tensor(open_image(tmp_path / "pal_t.png", 3)) + 1) * 127.5).round()
    assert t[:, 0, 0].tolist() == [10, 20, 30] and t[:, 0, 1].tolist() == [255, 255, 255]
    # bilevel
    Image.fromarray(np.array([[0, 255]], dtype=np.uint8)).convert("1").save(tmp_path / "bw.png")
    assert to_tensor(open_image(tmp_path / "bw.png", 1))[0].tolist() == [[-1.0, 1.0]]
    # EXIF orientation 6 (stored sideways): read upright
    wide = Image.fromarray(np.zeros((10, 20, 3), dtype=np.uint8))
    exif = Image.Exif()
    exif[0x0112] = 6
    wide.save(tmp_path / "rotated.jpg", exif=exif)
    assert open_image(tmp_path / "rotated.jpg", 3).size == (10, 20)


def test_missing_empty_and_mismatched_data_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="No such data folder"):
        ImageFolderDataset(tmp_path / "nope", image_size=8)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("x")
    with pytest.raises(DataError, match="holds no readable images"):
        ImageFolderDataset(tmp_path / "empty", image_size=8)
    root = write_dataset("class-conditional", tmp_path / "cls", ConditionalConfig(image_size=8, channels=1,
                                                                                   num_classes=3), n=6)
    with pytest.raises(DataError, match="3 class folders .* but the model has 5 classes; set --set num_classes=3"):
        dataset_for_task("class-conditional", ConditionalConfig(image_size=8, channels=1, num_classes=5), root)
    with pytest.raises(DataError, match="needs trainA/ and trainB/"):
        UnalignedDataset(root, image_size=8)
    # an image beside the class folders belongs to no class: skipped and counted
    (root / "stray.png").write_bytes((root / "class00" / "0000.png").read_bytes())
    ds = dataset_for_task("class-conditional", ConditionalConfig(image_size=8, channels=1, num_classes=3), root)
    assert len(ds) == 6 and ds.skipped["images outside the class folders"] == 1


def test_too_few_items_for_one_step_is_refused_by_the_trainer(tmp_path: Path) -> None:
    from ganzoo.training.cli_support import run_training

    data = write_dataset("unconditional", tmp_path / "data", ImageConfig(image_size=16, channels=1), n=6)
    with pytest.raises(DataError, match=r"6 items: too few for one step's batch of 4 per process × 2 accumulated"):
        run_training("toygan", str(data), tmp_path / "run", overrides={"image_size": 16, "channels": 1,
                                                                        "grad_accum": 2, "progress": False},
                     flags={"max_steps": 1, "batch_size": 4})
    assert not (tmp_path / "run").exists()  # a run that cannot start leaves no folder


def test_augmentation_is_a_function_of_seed_epoch_and_index(tmp_path: Path) -> None:
    root = write_dataset("unconditional", tmp_path / "imgs", ImageConfig(image_size=16, channels=3), n=8)

    def make(seed: int, epoch: int) -> ImageFolderDataset:
        ds = ImageFolderDataset(root, image_size=10, load_size=16, flip=True)
        ds.set_seed(seed)
        ds.set_epoch(epoch)
        return ds

    a, again = make(0, 0), make(0, 0)
    for i in range(8):
        assert torch.equal(a[i]["image"], a[i]["image"]) and torch.equal(a[i]["image"], again[i]["image"])
    assert any(not torch.equal(a[i]["image"], make(0, 1)[i]["image"]) for i in range(8))
    assert any(not torch.equal(a[i]["image"], make(1, 0)[i]["image"]) for i in range(8))
    # the same items whatever the number of loader workers (per-item randomness, no worker state)
    order = list(range(8))[::-1]
    plain = torch.cat([b["image"] for b in DataLoader(a, batch_size=4, sampler=order)])
    workers = torch.cat([b["image"] for b in DataLoader(a, batch_size=4, sampler=order, num_workers=2)])
    assert torch.equal(plain, workers)
    # unaligned: the random B partner is reproducible too
    un = write_dataset("unpaired-translation", tmp_path / "un", TranslationConfig(image_size=8), n=6)
    u1, u2 = UnalignedDataset(un, image_size=8), UnalignedDataset(un, image_size=8)
    assert all(torch.equal(u1[i]["B"], u2[i]["B"]) for i in range(6))


def test_the_sampler_resumes_mid_epoch_and_splits_like_one_process(tmp_path: Path) -> None:
    data = list(range(21))
    one = ResumableDistributedSampler(data, num_replicas=1, rank=0, shuffle=True, seed=5, drop_last=True)
    one.set_epoch(3)
    full = list(one)
    assert sorted(full) == data and full != data
    ranks = []
    for r in range(2):
        s = ResumableDistributedSampler(data, num_replicas=2, rank=r, shuffle=True, seed=5, drop_last=True)
        s.set_epoch(3)
        ranks.append(list(s))
        s.set_start(4)
        assert list(s) == ranks[-1][4:] and len(s) == s.num_samples - 4
        s.set_epoch(4)  # a new epoch starts from its beginning
        assert s.start == 0 and len(list(s)) == s.num_samples
    # rank r holds the items r::2 of the same permutation (what the step noise rows assume)
    assert ranks[0] == full[:20][0::2] and ranks[1] == full[:20][1::2]
    other = ResumableDistributedSampler(data, num_replicas=1, rank=0, shuffle=True, seed=5, drop_last=True)
    other.set_epoch(4)
    assert list(other) != full  # each epoch is reshuffled
