"""The built-in DCGAN as users meet it by name: discovered like any third-party plugin, and its pretrained id
`dcgan-digits` never silently replaced by a run folder of the same name."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from conftest import builtin_plugin

import ganzoo
from ganzoo import registry
from ganzoo.cli import cli

TINY = ["--set", "image_size=16", "--set", "channels=1", "--set", "nz=8", "--set", "ngf=8", "--set", "ndf=8"]


@pytest.fixture(autouse=True)
def _dcgan() -> None:
    builtin_plugin("dcgan")


def test_dcgan_is_discovered_through_its_entry_point() -> None:
    """The built-in plugin is found like any third-party one, with its distribution and version."""
    record = registry.get_record("dcgan")
    assert record.distribution == "ganzoo-dcgan"
    assert record.version
    assert record.plugin is not None and record.plugin.task == "unconditional"


def test_a_run_folder_named_dcgan_digits_does_not_shadow_the_pretrained_model(tmp_path: Path, monkeypatch,
                                                                               caplog) -> None:
    """`ganzoo train dcgan --out dcgan-digits` then `ganzoo.load("dcgan-digits")`: the pretrained model, with a
    warning that says how to load the run folder (`./dcgan-digits`)."""
    pretrained = ganzoo.load("dcgan-digits").sample(4, seed=0)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["train", "dcgan", "--data", "builtin:digits", "--out", "dcgan-digits",
                                      "--max-steps", "1", "--batch-size", "8", *TINY, "--set", "progress=false"])
    assert result.exit_code == 0, result.output
    monkeypatch.setattr(logging.getLogger("ganzoo"), "propagate", True)  # the CLI, run in-process, stops it
    with caplog.at_level(logging.WARNING, logger="ganzoo.names"):
        again = ganzoo.load("dcgan-digits")
    assert torch.equal(again.sample(4, seed=0), pretrained)
    assert any("'./dcgan-digits'" in r.getMessage() for r in caplog.records if r.name == "ganzoo.names")
    run = ganzoo.load("./dcgan-digits")
    assert run.config.image_size == 16 and run.sample(4, seed=0).shape == (4, 1, 16, 16)
