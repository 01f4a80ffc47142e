"""CoGAN: conformance, tied layers, joint samples, its two data layouts and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import ganzoo
from ganzoo.errors import ConfigError, DataError, UsageError
from ganzoo.testing import check_plugin

TINY = {"image_size": 16, "ngf": 4, "ndf": 4, "latent_dim": 8}


def _model(**overrides: object) -> ganzoo.GanModel:
    torch.manual_seed(0)
    return ganzoo.build("cogan", **{**TINY, **overrides})


def test_cogan_conforms(tmp_path: Path) -> None:
    check_plugin("cogan", tmp_path=tmp_path)


def test_cogan_with_more_private_layers_and_a_grey_domain_conforms(tmp_path: Path) -> None:
    check_plugin("cogan", tmp_path=tmp_path, train=False,
                 overrides={"image_size": 16, "g_private_layers": 2, "d_private_layers": 2, "channels_b": 1})


def test_generators_tie_their_first_layers_and_discriminators_their_last() -> None:
    m = _model()
    g, d = m.G, m.D
    assert list(g.shared.nets) == ["shared"] and list(d.shared.nets) == ["shared"]
    # the authors' digit networks: one private layer at each end (G's output layer, D's input layer)
    assert len(g.back["A"]) == 1 and len(d.front["A"]) == 1
    assert g.back["A"][0][0].weight.data_ptr() != g.back["B"][0][0].weight.data_ptr()
    z = m.impl.latent(m, 3, seed=0)
    g.zero_grad()
    g(z, "A").sum().backward()
    assert all(p.grad is not None for p in g.shared.parameters())
    assert all(p.grad is None for p in g.back["B"].parameters())


def test_a_sample_is_a_pair_from_one_code() -> None:
    m = _model(domain_a="digit", domain_b="edges").eval()
    pairs = m.sample(4, seed=1)
    assert pairs.shape == (4, 3, 16, 32)
    a, b = m.sample(4, seed=1, domain="A"), m.sample(4, seed=1, domain="edges")
    assert torch.equal(pairs, torch.cat([a, b], dim=-1))
    assert not torch.equal(pairs, m.sample(4, seed=2))
    z = m.impl.latent(m, 500, seed=0)
    assert z.min() >= -1 and z.max() <= 1 and z.std() > 0.5  # U[-1, 1]: std 0.577
    grey = _model(channels_b=1).eval()
    assert grey.sample(2, seed=0, domain="B").shape == (2, 1, 16, 16)
    assert grey.sample(2, seed=0).shape == (2, 3, 16, 32)  # the grey half repeated to RGB


def test_bad_input_gets_one_line_messages() -> None:
    m = _model().eval()
    with pytest.raises(UsageError, match="domain must be 'A', 'B' or 'pair', got 'C'"):
        m.sample(2, domain="C")
    with pytest.raises(UsageError, match=r"codes must have shape \(n, 8\), got \(2, 5\)"):
        m.impl.generate(m, torch.zeros(2, 5))
    with pytest.raises(UsageError, match="takes no condition"):
        m.sample(2, condition=torch.tensor([1, 2]))
    with pytest.raises(ConfigError, match="power of two"):
        ganzoo.build("cogan", **{**TINY, "image_size": 24})
    with pytest.raises(ConfigError, match="g_private_layers"):
        ganzoo.build("cogan", **{**TINY, "g_private_layers": 9})


def _folder(root: Path, n: int, value: float) -> None:
    from ganzoo.data.images import save_image

    root.mkdir(parents=True)
    for i in range(n):
        save_image(torch.full((3, 16, 16), value), root / f"{i:02d}.png")


def test_data_two_folders_or_one_folder_and_a_transform(tmp_path: Path) -> None:
    from ganzoo.data.images import save_image

    m = _model()
    _folder(tmp_path / "two" / "trainA", 3, -0.5)
    _folder(tmp_path / "two" / "trainB", 4, 0.5)
    ds = m.impl.make_dataset(m, tmp_path / "two")
    item = ds[0]
    assert item["A"].mean().item() == pytest.approx(-0.5, abs=0.01) and item["B"].mean().item() == pytest.approx(
        0.5, abs=0.01)

    one = tmp_path / "one"
    one.mkdir()
    for i in range(6):
        img = torch.full((3, 16, 16), -1.0)
        img[:, 4:12, 4:12] = 1.0
        save_image(img, one / f"{i:02d}.png")
    with pytest.raises(DataError, match="domain_b_transform=negative|edges"):
        m.impl.make_dataset(m, one)
    neg = _model(domain_b_transform="negative")
    ds = neg.impl.make_dataset(neg, one)
    assert len(ds) == 3  # the even half is domain A, the odd half feeds domain B
    assert torch.allclose(ds[0]["B"], -ds[0]["A"], atol=0.02)
    edges = _model(domain_b_transform="edges")
    b = edges.impl.make_dataset(edges, one)[0]["B"]
    assert b[:, 8, 8].max() == -1 and b[:, 4, 8].min() == 1  # inside the square: no edge; its border: edge
