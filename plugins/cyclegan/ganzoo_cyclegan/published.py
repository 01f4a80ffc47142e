"""The 18 CycleGAN models the original authors published for PyTorch, and what ganzoo's cards say about them.

Torch-free: the converter and ``scripts/make_i2i_cards.py`` read the same table, so a converted model's card and
the registry card agree. Facts from ``notes/reference-cyclegan-pix2pix.md`` (§7: URLs and history; §3: the stray
InstanceNorm statistics) and the CycleGAN paper (Zhu et al. 2017, arXiv 1703.10593).

Every published file is **one generator**. ganzoo stores it as ``G_AB`` of a model whose domain A is the file
name's source (``zebra2horse``: A = zebra, B = horse), so ``sample()`` translates it by default; the reverse
generator, where the authors published it, is a separate model (``reverse``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["PublishedModel", "PUBLISHED", "URL", "OLD_URL", "published_by_name", "card_content", "ORIGINAL_REPO",
           "ORIGINAL_LICENSE", "FCN_SCORES"]

URL = "http://efrosgans.eecs.berkeley.edu/cyclegan/pretrained_models/{name}.pth"
OLD_URL = "https://people.eecs.berkeley.edu/~taesung_park/pytorch-CycleGAN-and-pix2pix/models/{name}.pth"
DATASET_URL = "http://efrosgans.eecs.berkeley.edu/cyclegan/datasets/{name}.zip"
ORIGINAL_REPO = "https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix"
ORIGINAL_LICENSE = "bsd-2-clause"
PAPER = "https://arxiv.org/abs/1703.10593"

_IMAGENET = "ImageNet terms of access (non-commercial research and education); not stated by the CycleGAN release: see source"
_FLICKR = "Flickr photos under their uploaders' licences; not stated by the CycleGAN release: see source"
_WIKIART = "paintings from WikiArt (the artworks are public domain; the collection states no licence) + Flickr photos: see source"


@dataclass(frozen=True)
class PublishedModel:
    name: str  # the original's name = ganzoo tag (cyclegan-<name>)
    domain_a: str  # the input domain (ganzoo's A)
    domain_b: str  # the output domain (ganzoo's B)
    dataset: str  # download_cyclegan_dataset.sh name
    dataset_desc: str
    dataset_license: str
    test_split: str  # where the dataset's test inputs of this direction are
    reverse: str | None = None  # the published model for the other direction
    old_url: bool = False  # also at the December 2017 URL


PUBLISHED: dict[str, PublishedModel] = {  # original name -> model
    m.name: m
    for m in (
        PublishedModel("apple2orange", "apple", "orange", "apple2orange",
                       "ImageNet photos of apples and navel oranges", _IMAGENET,
                       "testA", "orange2apple"),
        PublishedModel("orange2apple", "orange", "apple", "apple2orange",
                       "ImageNet photos of apples and navel oranges", _IMAGENET,
                       "testB", "apple2orange"),
        PublishedModel("summer2winter_yosemite", "Yosemite in summer", "Yosemite in winter", "summer2winter_yosemite",
                       "Flickr photos of Yosemite tagged summer / winter", _FLICKR,
                       "testA", "winter2summer_yosemite"),
        PublishedModel("winter2summer_yosemite", "Yosemite in winter", "Yosemite in summer", "summer2winter_yosemite",
                       "Flickr photos of Yosemite tagged summer / winter", _FLICKR,
                       "testB", "summer2winter_yosemite"),
        PublishedModel("horse2zebra", "horse", "zebra", "horse2zebra",
                       "ImageNet photos for the keywords wild horse and zebra (1,067 / 1,334 training images)",
                       _IMAGENET, "testA", "zebra2horse", True),
        PublishedModel("zebra2horse", "zebra", "horse", "horse2zebra",
                       "ImageNet photos for the keywords wild horse and zebra (1,067 / 1,334 training images)",
                       _IMAGENET, "testB", "horse2zebra", True),
        PublishedModel("monet2photo", "Monet painting", "landscape photo", "monet2photo",
                       "Monet paintings from WikiArt and landscape photos from Flickr", _WIKIART,
                       "testA", "style_monet"),
        PublishedModel("style_monet", "landscape photo", "Monet-style painting", "monet2photo",
                       "Monet paintings from WikiArt and landscape photos from Flickr", _WIKIART,
                       "testB", "monet2photo"),
        PublishedModel("style_cezanne", "landscape photo", "Cézanne-style painting", "cezanne2photo",
                       "Cézanne paintings from WikiArt and landscape photos from Flickr", _WIKIART, "testB"),
        PublishedModel("style_ukiyoe", "landscape photo", "Ukiyo-e-style print", "ukiyoe2photo",
                       "Ukiyo-e prints from WikiArt and landscape photos from Flickr", _WIKIART, "testB"),
        PublishedModel("style_vangogh", "landscape photo", "Van Gogh-style painting", "vangogh2photo",
                       "Van Gogh paintings from WikiArt and landscape photos from Flickr", _WIKIART, "testB"),
        PublishedModel("sat2map", "aerial photo", "map tile", "maps",
                       "aerial photos and Google Maps tiles of New York City, used unpaired (1,096 training images)",
                       "not stated by the dataset; Google Maps terms apply to the imagery: see source", "testA",
                       "map2sat"),
        PublishedModel("map2sat", "map tile", "aerial photo", "maps",
                       "aerial photos and Google Maps tiles of New York City, used unpaired (1,096 training images)",
                       "not stated by the dataset; Google Maps terms apply to the imagery: see source", "testB",
                       "sat2map"),
        PublishedModel("cityscapes_photo2label", "street photo", "colour-coded semantic label map", "cityscapes",
                       "Cityscapes street scenes and their semantic labels (2,975 training images), used unpaired",
                       "Cityscapes licence: non-commercial research only, registration required (cityscapes-dataset.com)",
                       "testA", "cityscapes_label2photo"),
        PublishedModel("cityscapes_label2photo", "colour-coded semantic label map", "street photo", "cityscapes",
                       "Cityscapes street scenes and their semantic labels (2,975 training images), used unpaired",
                       "Cityscapes licence: non-commercial research only, registration required (cityscapes-dataset.com)",
                       "testB", "cityscapes_photo2label"),
        PublishedModel("facades_photo2label", "facade photo", "facade label map", "facades",
                       "the CMP Facade Database (Tyleček & Šára 2013), 400 training images, used unpaired",
                       "not stated in the CycleGAN release: see the CMP Facade Database's terms", "testA",
                       "facades_label2photo"),
        PublishedModel("facades_label2photo", "facade label map", "facade photo", "facades",
                       "the CMP Facade Database (Tyleček & Šára 2013), 400 training images, used unpaired",
                       "not stated in the CycleGAN release: see the CMP Facade Database's terms", "testB",
                       "facades_photo2label"),
        PublishedModel("iphone2dslr_flower", "iPhone flower photo", "DSLR-style flower photo (shallow depth of field)",
                       "iphone2dslr_flower", "Flickr flower photos taken with iPhones and with DSLRs", _FLICKR,
                       "testA"),
    )
}

#: FCN-scores the CycleGAN paper reports for its Cityscapes models (Tables 2 and 3 of arXiv 1703.10593;
#: corroborated by the paper's Papers-with-Code results). They were measured on the paper's Torch models at
#: 256×256 and are not a measurement of these PyTorch weights.
FCN_SCORES: dict[str, dict[str, Any]] = {
    "cityscapes_label2photo": {
        "table": "Table 2 (labels→photo; FCN-8s trained on Cityscapes segments the generated photos)",
        "values": {"per-pixel accuracy": 0.52, "per-class accuracy": 0.17, "class IoU": 0.11},
        "pix2pix (paired upper bound, same table)": {"per-pixel accuracy": 0.71, "per-class accuracy": 0.25,
                                                     "class IoU": 0.18},
    },
    "cityscapes_photo2label": {
        "table": "Table 3 (photo→labels; generated label maps scored against the ground truth)",
        "values": {"per-pixel accuracy": 0.58, "per-class accuracy": 0.22, "class IoU": 0.16},
    },
}


def published_by_name(name: str | None) -> PublishedModel | None:
    """The published model with this original name (= ganzoo tag), case-insensitive."""
    return PUBLISHED.get(name.lower()) if name else None


def card_content(m: PublishedModel) -> dict[str, Any]:
    """The ganzoo block entries, licence and prose for model ``m`` (shared by the converter and the card script).

    Returns a dict with ``block`` (ganzoo-block entries), ``converted_from`` (where the original file comes from
    and what it should hold; the converter adds the file's sha256), ``license``, ``notes`` (markdown),
    ``description`` and ``usage`` (the template's Python line).
    """
    url = URL.format(name=m.name)
    history = ("2017-12-10 (3d2c534) at the 2017 URL, the efrosgans URL since 2018-07-09 (2dca893)" if m.old_url
               else "2018-07-09 (2dca893) at the efrosgans URL")
    input_rule = {
        "policy": "pad", "multiple": 4, "min_side": 8, "channels": 3,
        "rule": ("any size of at least 4 px per side: reflection-padded to multiples of 4 (at least 8), translated at "
                 "its native resolution, cropped back to the input's size; RGB input; grey, RGBA (on white) and 16-bit "
                 "images are converted"),
    }
    block: dict[str, Any] = {
        "summary": f"{m.domain_a} → {m.domain_b} (CycleGAN ResNet-9 generator, trained on {m.dataset})",
        "direction": "AtoB",
        "domains": {"A": m.domain_a, "B": m.domain_b},
        "components_published": ["G_AB"],
        "inference_mode": "eval",
        "input": input_rule,
        "weights_license": ORIGINAL_LICENSE,
        "dataset": {"name": m.dataset, "license": m.dataset_license, "source": DATASET_URL.format(name=m.dataset)},
        "parameters": {"total": 11378179, "inference": 11378179},
        # the authors' file, converted on first use while no Hub revision is pinned (ganzoo.sources); they
        # publish no checksum, so its sha256 is recorded on the first download and a different file is refused
        "source": {"url": url, "sha256": None, "converter": "cyclegan"},
    }
    converted_from = {
        "original_name": m.name, "url": url, "repo": ORIGINAL_REPO, "published": history,
        **({"old_url": OLD_URL.format(name=m.name)} if m.old_url else {}),
        "download": f"scripts/download_cyclegan_model.sh {m.name} → checkpoints/{m.name}_pretrained/latest_net_G.pth",
        "expected": "117 tensors (48 weights of a resnet_9blocks G + 69 stray InstanceNorm statistics), legacy "
                    "(pre-1.6) serialisation, about 45.5 MB; the authors publish no checksum",
    }
    if m.reverse:
        block["reverse_model"] = f"cyclegan-{m.reverse}"
    fcn = FCN_SCORES.get(m.name)
    metrics_text = ("The CycleGAN paper reports no number for this model; measure it with `ganzoo eval` once the "
                    "weights are published.")
    if fcn is not None:
        block["published_metrics"] = [
            {"name": f"FCN-score {k}", "value": v, "source": f"{PAPER}, {fcn['table']}",
             "protocol": "the paper's Torch CycleGAN at 256×256 on the Cityscapes val set; not measured on these "
                         "PyTorch weights"}
            for k, v in fcn["values"].items()
        ]
        rows = "\n".join(f"| {k} | {v} |" for k, v in fcn["values"].items())
        metrics_text = (f"From the CycleGAN paper, {fcn['table']} — measured on the paper's Torch model at 256×256 "
                        f"on Cityscapes val, not on these PyTorch weights (the ganzoo block's `published_metrics` "
                        f"repeats them; ganzoo's `metrics` are reserved for numbers `ganzoo eval` reproduces):\n\n"
                        f"| FCN-score | CycleGAN |\n|---|---|\n{rows}\n")
    reverse = (f" The reverse direction ({m.domain_b} → {m.domain_a}) was published separately: `cyclegan-{m.reverse}`."
               if m.reverse else "")
    notes = f"""\
**What it does.** Translates images: {m.domain_a} → {m.domain_b}. Trained by the CycleGAN authors on the
`{m.dataset}` dataset ({m.dataset_desc}); try it on the dataset's `{m.test_split}/` images. The original authors
published one generator per direction; ganzoo stores this one as `G_AB` (domain A = {m.domain_a}, B = {m.domain_b}),
so `model.sample(condition=x)` uses it, and `direction="BtoA"` says clearly that this model has no `G_BA`.{reverse}
Architecture: `resnet_9blocks` (reflection padding, instance norm without affine parameters, no dropout),
11,378,179 parameters.

**Input sizes.** {input_rule['rule'][0].upper() + input_rule['rule'][1:]}. The ResNet generator is fully
convolutional, so ganzoo keeps each image's resolution and aspect ratio. The original `test.py` instead resized
every image to 256×256 (`load_size = crop_size = 256`), distorting non-square images; to reproduce its outputs
exactly, resize to 256×256 first, or use `size_policy="resize"`. Very large images look different from the
256² training crops (the generator sees a smaller part of the scene per receptive field).

**Test-time mode.** Instance norm without running statistics and no dropout: train and eval mode give identical
outputs, batch-independent and deterministic (`inference_mode: eval`).

**Provenance.** `{url}` (plain http, no published checksum; {history}). The file holds 69 InstanceNorm
`running_mean`/`running_var`/`num_batches_tracked` entries from the June–October 2018 code, in which instance norm
tracked statistics; the original never used them at test time, and `ganzoo convert` drops them. Converted with
`ganzoo convert cyclegan {m.name}.pth OUT_DIR` — read with `torch.load(weights_only=True)` (legacy serialisation),
architecture read from the keys and shapes. Loaded in eval mode, the converted generator reproduces the original
implementation's outputs to 1e-5 (fp32, CPU; checked on synthetic weights in `tests/test_cyclegan.py`).

**Licences.** Code of the original: BSD-2-Clause ({ORIGINAL_REPO}); the weights were published with it and carry no
separate licence. Dataset: {m.dataset_license}.

**Where the weights come from.** Until this card pins a Hub revision, `ganzoo.load("cyclegan-{m.name}")` (and
`ganzoo pull`) downloads the authors' file from `{url}` (about 45.5 MB, with a progress bar), converts it
(`torch.load(weights_only=True)`, the architecture read from its keys) and caches the model folder beside the
Hugging Face cache; later loads make no request. The authors publish no checksum: the file's sha256 is recorded on
the first download (**trust on first use**, said once) and a later different file is refused.
`GANZOO_SOURCE_MIRRORS` points the download at a mirror.

**Publishing (maintainers).** To make the Hub the primary source: download `{url}`, then
`ganzoo convert cyclegan {m.name}.pth out/cyclegan-{m.name}` →
`ganzoo push out/cyclegan-{m.name} ganzoo/cyclegan-{m.name} --pin-card cards/cyclegan-{m.name}` →
`python scripts/make_i2i_cards.py` → commit the card (docs/i2i.md).

**Published metrics.** {metrics_text}
"""
    return {
        "block": block,
        "converted_from": converted_from,
        "license": ORIGINAL_LICENSE,
        "notes": notes,
        "description": f"CycleGAN {m.domain_a} → {m.domain_b}, converted from the original authors' PyTorch release.",
        "usage": ('from ganzoo.data import open_image, to_tensor\n'
                  'x = to_tensor(open_image("input.jpg", 3))[None]       # (1, 3, H, W) in [-1, 1], any size\n'
                  'y = model.sample(condition=x)                          # same size as x, in [-1, 1]\n'
                  f'# CLI: ganzoo sample cyclegan-{m.name} --input photos/ -o out/'),
    }
