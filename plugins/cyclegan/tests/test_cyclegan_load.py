"""Loading a two-way CycleGAN from the Hub for one direction fetches one generator (the core's load plan asks the
plugin's inference_components hook before any weight file is downloaded)."""

from __future__ import annotations

from pathlib import Path

import pytest

import ganzoo
from ganzoo.errors import UsageError
from ganzoo.publish import push_folder
from ganzoo.testing import tiny_model


def test_direction_fetches_only_that_generator(hub, hf_cache, tmp_path: Path) -> None:
    folder = tiny_model("cyclegan").save_pretrained(tmp_path / "cg")
    repo = "ganzoo-tests/cyclegan-direction"
    push_folder(folder, repo)
    hub.clear_requests()
    loaded = ganzoo.load(f"hf-hub:{repo}", options={"direction": "BtoA"})
    assert set(loaded.loaded_components) == {"G_BA"}
    fetched = [r.path.rsplit("/", 1)[-1] for r in hub.requests if "/resolve/" in r.path]
    assert "G_BA.safetensors" in fetched and "G_AB.safetensors" not in fetched
    with pytest.raises(UsageError):
        ganzoo.load(str(folder), options={"direction": "sideways"})
