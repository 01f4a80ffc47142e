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


def test_convert_into_a_folder_whose_parents_are_missing(tmp_path: Path) -> None:
    """`ganzoo convert cyclegan x.pth out/h2z` with no out/: created like `mkdir -p`, then a loadable folder."""
    import torch
    from click.testing import CliRunner
    from test_cyclegan import original_resnet_state

    from ganzoo.cli import cli

    ckpt = tmp_path / "latest_net_G.pth"
    torch.save(original_resnet_state(), ckpt)
    out = tmp_path / "out" / "nested" / "h2z"
    result = CliRunner().invoke(cli, ["convert", "cyclegan", str(ckpt), str(out)])
    assert result.exit_code == 0, result.output
    assert ganzoo.load(str(out)).loaded_components
