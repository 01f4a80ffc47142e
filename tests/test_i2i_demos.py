"""The two image-to-image demos trained here and bundled in cards/ (issue 4): they load offline from the package,
translate any image size, and their cards carry the measured metrics with protocols, the training command and
the data's licence. No data is downloaded: the inputs are synthetic."""

from __future__ import annotations

import pytest
import torch

import ganzoo
from ganzoo.registry import list_models

DEMOS = {
    # id: (the metrics the card must hold, the dataset licence it must name, the weights licence)
    "pix2pix-openmoji-line2color": ({"psnr", "ssim", "l1", "kid"}, "CC-BY-SA-4.0", "cc-by-sa-4.0"),
    "cyclegan-noto2twemoji": ({"kid", "psnr", "ssim", "l1", "psnr_BtoA", "ssim_BtoA", "l1_BtoA", "kid_BtoA"},
                              "CC-BY-4.0", "cc-by-4.0"),
}


def _entry(model_id: str):
    from conftest import builtin_plugin

    builtin_plugin(model_id.split("-", 1)[0])
    entries = {e.id: e for e in list_models()}
    assert model_id in entries, f"{model_id} is not listed: is cards/{model_id}/ installed (pip install -e .)?"
    return entries[model_id]


def _synthetic(h: int, w: int) -> torch.Tensor:
    """A white canvas with a black ring and a filled disc: emoji-like line art at an odd size, in [-1, 1]."""
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
    r = (xx ** 2 + yy ** 2).sqrt()
    img = torch.ones(3, h, w)
    img[:, (r > 0.7) & (r < 0.8)] = -1.0
    img[0, r < 0.3] = 0.8
    img[1:, r < 0.3] = -0.6
    return img[None]


@pytest.mark.parametrize("model_id", sorted(DEMOS))
def test_demo_is_bundled_and_translates_any_size(model_id, offline):
    entry = _entry(model_id)
    assert entry.bundled, f"{model_id} should ship its weights"
    model = ganzoo.load(model_id)
    x = _synthetic(37, 53)
    directions = ("AtoB", "BtoA") if model.plugin.name == "cyclegan" else (None,)
    for direction in directions:
        kwargs = {"direction": direction} if direction else {}
        y = model.sample(condition=x, seed=0, **kwargs)
        assert y.shape == x.shape, (direction, y.shape)
        assert torch.isfinite(y).all() and y.min() >= -1 and y.max() <= 1
        assert (y - x).abs().mean() > 0.01, "a trained translator changes its input"
    kw = {"direction": "AtoB"} if directions[0] else {}
    assert torch.equal(model.sample(condition=x, seed=0, **kw), model.sample(condition=x, seed=0, **kw)), \
        "a fixed seed gives the same output"


@pytest.mark.parametrize("model_id", sorted(DEMOS))
def test_demo_card_records_training_data_licence_and_metrics(model_id):
    wanted, data_licence, weights_licence = DEMOS[model_id]
    card = _entry(model_id).card
    block = card.metadata["ganzoo"]
    assert card.license == weights_licence and card.weights_license == weights_licence
    assert data_licence in block["dataset"]["license"] and "scripts/fetch_emoji.py" in block["dataset"]["source"]
    trained = block["trained_with"]
    assert trained["command"].startswith(f"ganzoo train {card.plugin} --data data/")
    assert trained["steps"] == trained["max_steps"] > 1000 and trained["wall_time_s"] > 0
    by_name = {m["name"]: m for m in card.metrics}
    assert wanted <= set(by_name), sorted(by_name)
    for name in wanted:
        m = by_name[name]
        proto = m["protocol"]
        data = "openmoji-line2color" if card.plugin == "pix2pix" else "emoji-noto2twemoji"
        assert proto["reference"] == f"data/{data}"
        assert proto["split"] == "test" and proto["n_generated"] > 100 and proto["seed"] == 0
        assert proto["command"] and proto["weights_sha256"]
        if name.startswith("kid"):
            assert proto["extractor"] == "effnet" and proto["extractor_sha256"]
        else:
            assert 0 <= m["value"] < 100 and proto["pairs"] == proto["n_generated"]
