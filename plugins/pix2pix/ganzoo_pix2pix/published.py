"""The five pix2pix models the original authors published for PyTorch, and what ganzoo's cards say about them.

Torch-free: the converter and ``scripts/make_i2i_cards.py`` read the same table, so a converted model's card
and the registry card agree. Facts from ``notes/reference-cyclegan-pix2pix.md`` (§7: URLs and history) and the
pix2pix paper (Isola et al. 2017, arXiv 1611.07004).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["PublishedModel", "PUBLISHED", "URL", "OLD_URL", "published_by_name", "card_content", "ORIGINAL_REPO",
           "ORIGINAL_LICENSE"]

URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/models-pytorch/{name}.pth"
OLD_URL = "https://people.eecs.berkeley.edu/~taesung_park/pytorch-CycleGAN-and-pix2pix/pix2pix_models/{name}.pth"
DATASET_URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/{name}.tar.gz"
ORIGINAL_REPO = "https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix"
ORIGINAL_LICENSE = "bsd-2-clause"
PAPER = "https://arxiv.org/abs/1611.07004"


@dataclass(frozen=True)
class PublishedModel:
    name: str  # the original's name (download script argument, file stem)
    tag: str  # ganzoo tag: pix2pix-<tag>
    direction: str  # which half of the dataset's A|B images is the input
    source: str  # what the input is
    target: str  # what the output is
    dataset: str  # the original dataset it was trained on (download_pix2pix_dataset.sh name)
    dataset_desc: str
    dataset_license: str
    published: str  # when and where it appeared
    old_url: bool = False  # also at the 2017 URL


PUBLISHED: dict[str, PublishedModel] = {  # original name -> model
    m.name: m
    for m in (
        PublishedModel(
            "edges2shoes", "edges2shoes", "AtoB", "edge map of a shoe (black lines on white)", "shoe photo",
            "edges2shoes", "50k shoe photos from UT Zappos50K (Yu & Grauman 2014) with HED edge maps (Xie & Tu 2015)",
            "UT Zappos50K: for academic, non-commercial use (per its authors); see source",
            "2017-10-10 (5e0f7d6) at the 2017 URL; efrosgans URL since 2018-09-08 (9fc9eef)", True),
        PublishedModel(
            "sat2map", "sat2map", "AtoB", "aerial photo", "map tile", "maps",
            "1,096 training pairs of aerial photos and map tiles scraped from Google Maps around New York City",
            "not stated by the dataset; Google Maps terms apply to the imagery: see source",
            "2017-10-10 (5e0f7d6) at the 2017 URL; efrosgans URL since 2018-09-08 (9fc9eef)", True),
        PublishedModel(
            "map2sat", "map2sat", "BtoA", "map tile", "aerial photo", "maps",
            "1,096 training pairs of aerial photos and map tiles scraped from Google Maps around New York City",
            "not stated by the dataset; Google Maps terms apply to the imagery: see source",
            "2019-01-31 (28dc61b) at the efrosgans URL"),
        PublishedModel(
            "facades_label2photo", "facades-label2photo", "BtoA", "facade label map (colour-coded architectural parts)",
            "facade photo", "facades",
            "400 training images of the CMP Facade Database (Tyleček & Šára 2013)",
            "not stated in the pix2pix release: see the CMP Facade Database's terms",
            "2017-10-10 (5e0f7d6) at the 2017 URL; efrosgans URL since 2018-09-08 (9fc9eef)", True),
        PublishedModel(
            "day2night", "day2night", "BtoA", "daytime outdoor scene", "the same scene at night", "night2day",
            "about 20k outdoor webcam images from the Transient Attributes dataset (Laffont et al. 2014); the "
            "dataset's A half is night, so day→night trains with --direction BtoA",
            "not stated in the pix2pix release: see the Transient Attributes dataset's terms",
            "2018-09-08 (9fc9eef) at the efrosgans URL"),
    )
}


def published_by_name(name: str | None) -> PublishedModel | None:
    """The published model with this original name (``facades_label2photo``) or ganzoo tag (``facades-label2photo``)."""
    if not name:
        return None
    key = name.lower()
    if key in PUBLISHED:
        return PUBLISHED[key]
    return next((m for m in PUBLISHED.values() if m.tag == key), None)


def card_content(m: PublishedModel, *, image_size: int = 256) -> dict[str, Any]:
    """The ganzoo block entries, licence and prose for model ``m`` (shared by the converter and the card script).

    Returns a dict with ``block`` (ganzoo-block entries), ``converted_from`` (where the original file comes from
    and what it should hold; the converter adds the file's sha256), ``license``, ``notes`` (markdown),
    ``description`` and ``usage`` (the template's Python line).
    """
    url = URL.format(name=m.name)
    input_rule = {
        "policy": "resize", "size": image_size, "multiple": image_size, "channels": 3,
        "rule": (f"any size: resized (bicubic) to {image_size}×{image_size}, translated, resized back to the input's "
                 f"size — the original test.py's preprocessing (load_size = crop_size = {image_size}); RGB input; "
                 f"grey, RGBA (on white) and 16-bit images are converted"),
    }
    block = {
        "summary": f"{m.source} → {m.target} (pix2pix U-Net, trained on {m.dataset})",
        "direction": m.direction,
        "domains": {"input": m.source, "output": m.target},
        "inference_mode": "paper",
        "input": input_rule,
        "weights_license": ORIGINAL_LICENSE,
        "dataset": {"name": m.dataset, "license": m.dataset_license, "source": DATASET_URL.format(name=m.dataset)},
        "parameters": {"total": 54413955, "inference": 54413955},
        # the authors' file, converted on first use while no Hub revision is pinned (ganzoo.sources); they
        # publish no checksum, so its sha256 is recorded on the first download and a different file is refused
        "source": {"url": url, "sha256": None, "converter": "pix2pix"},
    }
    converted_from = {
        "original_name": m.name, "url": url, "repo": ORIGINAL_REPO, "published": m.published,
        **({"old_url": OLD_URL.format(name=m.name)} if m.old_url else {}),
        "download": f"scripts/download_pix2pix_model.sh {m.name} → checkpoints/{m.name}_pretrained/latest_net_G.pth",
        "expected": "82 tensors (69 in files saved before PyTorch 0.4, which lack num_batches_tracked), fp32, about "
                    "218 MB: a unet_256 G with batch norm; the authors publish no checksum",
    }
    notes = f"""\
**What it does.** Translates a {m.source} into a {m.target}. Trained by the pix2pix authors on the `{m.dataset}`
dataset ({m.dataset_desc}) with `--direction {m.direction}`; ganzoo holds the generator only (`G`, a `unet_256`:
8 halvings, batch norm, dropout 0.5 in the three innermost decoder layers, 54,413,955 parameters).

**Test-time mode (default: `paper`).** The original `test.py` runs the generator *without* `--eval`: batch norm
uses the statistics of each test image and dropout stays active — the paper's own test-time procedure (§3.3: the
generator runs as in training, with dropout and the test batch's statistics). ganzoo's default
`inference_mode: paper` does exactly that, one image at a time, without touching the stored running statistics;
outputs vary with the seed (`seed=` fixes them; the CLI uses `--seed`, default 0).
`model.sample(condition=x, mode="eval")` is the deterministic alternative (the original's `--eval`: running
statistics, no dropout); it can look noticeably different, because the running statistics were never used when
the authors judged these models.

**Input sizes.** {input_rule['rule'][0].upper() + input_rule['rule'][1:]}. The U-Net halves its input 8 times (a
256² image reaches a 1×1 bottleneck), so its receptive field spans the whole training crop: resizing keeps the
scale the model was trained at. `size_policy="pad"` (reflection-pad to multiples of 256 and crop) is available
for large images of the training scale, e.g. map tiles.

**Provenance.** `{url}` (plain http, no published checksum; {m.published}). Converted with
`ganzoo convert pix2pix {m.name}.pth OUT_DIR` — the file is read with `torch.load(weights_only=True)` (legacy
and zip serialisations), the architecture is read from its keys and shapes, `num_batches_tracked` counters missing
from pre-0.4 files are filled with 0. Loaded in eval mode, the converted generator reproduces the original
implementation's outputs to 1e-5 (fp32, CPU; checked on synthetic weights in `tests/test_pix2pix.py`).

**Licences.** Code of the original: BSD-2-Clause ({ORIGINAL_REPO}); the weights were published with it and
carry no separate licence. Dataset: {m.dataset_license}.

**Where the weights come from.** Until this card pins a Hub revision, `ganzoo.load("pix2pix-{m.tag}")` (and
`ganzoo pull`) downloads the authors' file from `{url}` (about 218 MB, with a progress bar), converts it
(`torch.load(weights_only=True)`, the architecture read from its keys) and caches the model folder beside the
Hugging Face cache; later loads make no request. The authors publish no checksum: the file's sha256 is recorded on
the first download (**trust on first use**, said once) and a later different file is refused.
`GANZOO_SOURCE_MIRRORS` points the download at a mirror.

**Publishing (maintainers).** To make the Hub the primary source: download `{url}`, then
`ganzoo convert pix2pix {m.name}.pth out/pix2pix-{m.tag}` →
`ganzoo push out/pix2pix-{m.tag} ganzoo/pix2pix-{m.tag} --pin-card cards/pix2pix-{m.tag}` →
`python scripts/make_i2i_cards.py` → commit the card (docs/i2i.md).

**Published metrics.** The pix2pix paper evaluates its Torch models (FCN-scores on Cityscapes, AMT studies on
maps↔aerial and colourisation); it reports no number for these PyTorch re-trainings, so this card lists none.
Measure with `ganzoo eval` on the dataset's `val`/`test` split once the weights are published.
"""
    return {
        "block": block,
        "converted_from": converted_from,
        "license": ORIGINAL_LICENSE,
        "notes": notes,
        "description": f"pix2pix {m.source} → {m.target}, converted from the original authors' PyTorch release.",
        "usage": ('from ganzoo.data import open_image, to_tensor\n'
                  'x = to_tensor(open_image("input.png", 3))[None]       # (1, 3, H, W) in [-1, 1], any size\n'
                  'y = model.sample(condition=x, seed=0)                  # mode="eval" for the deterministic variant\n'
                  '# CLI: ganzoo sample pix2pix-' + m.tag + ' --input input.png -o output.png'),
    }
