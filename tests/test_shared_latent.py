"""The shared-latent core (ganzoo.nn.shared_latent, ganzoo.nn.latent_losses) and the encode_latent hook."""

from __future__ import annotations

import textwrap

import pytest
import torch
from torch import nn

from ganzoo.errors import PluginValidationError, UsageError
from ganzoo.impl import CAPABILITIES, HOOKS, GanImpl, validate_impl
from ganzoo.nn import (
    CodeDiscriminator,
    Coupled,
    CoupledDecoder,
    CoupledEncoder,
    ResBlock,
    check_codes,
    conv_block,
    domain_adversarial_loss,
    grad_reverse,
    kl_unit_variance,
    latent_cycle_loss,
    semantic_consistency_loss,
)


def _count(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def test_coupled_ties_one_copy_or_keeps_one_per_domain() -> None:
    tied = Coupled(lambda: nn.Linear(4, 3), tied=True)
    untied = Coupled(lambda: nn.Linear(4, 3), tied=False)
    assert list(tied.nets) == ["shared"] and list(untied.nets) == ["A", "B"]
    assert _count(untied) == 2 * _count(tied) == 30
    assert tied.net("A") is tied.net("B")
    assert untied.net("A") is not untied.net("B")
    x = torch.randn(2, 4)
    assert torch.equal(tied(x, "A"), tied(x, "B"))
    assert not torch.equal(untied(x, "A"), untied(x, "B"))
    with pytest.raises(KeyError, match="unknown domain 'C'"):
        tied(x, "C")


def test_coupled_encoder_and_decoder_route_each_domain_through_its_own_layers() -> None:
    torch.manual_seed(0)
    enc = CoupledEncoder(lambda: nn.Conv2d(3, 4, 3, 2, 1), Coupled(lambda: ResBlock(4), tied=True))
    dec = CoupledDecoder(Coupled(lambda: ResBlock(4), tied=True), lambda: conv_block(4, 3, 4, 2, 1, act="tanh",
                                                                                      transpose=True))
    x = torch.randn(2, 3, 8, 8)
    za, zb = enc(x, "A"), enc(x, "B")
    assert za.shape == (2, 4, 4, 4) and not torch.equal(za, zb)  # different fronts
    assert dec(za, "A").shape == (2, 3, 8, 8) and not torch.equal(dec(za, "A"), dec(za, "B"))
    # the shared layers receive gradients from both domains, each front only from its own
    enc.zero_grad()
    enc(x, "A").sum().backward()
    assert enc.front["B"].weight.grad is None and enc.front["A"].weight.grad is not None
    assert all(p.grad is not None for p in enc.shared.parameters())
    with pytest.raises(KeyError, match="unknown domain"):
        dec(za, "C")


def test_conv_block_keeps_its_indices_whatever_the_norm() -> None:
    for norm in ("none", "instance", "batch"):
        block = conv_block(3, 5, 3, 1, 1, norm=norm, act="prelu")
        assert len(block) == 3 and isinstance(block[0], nn.Conv2d)
    assert conv_block(3, 5, 4, 2, 1, transpose=True)(torch.zeros(1, 3, 4, 4)).shape == (1, 5, 8, 8)
    with pytest.raises(ValueError, match="unknown activation"):
        conv_block(3, 5, 3, act="swish")


def test_code_discriminator_flattens_any_code() -> None:
    d = CodeDiscriminator(2 * 3 * 3, (8,))
    assert d(torch.randn(5, 2, 3, 3)).shape == (5,)


def test_kl_of_unit_variance_gaussian_is_the_mean_square() -> None:
    mu = torch.tensor([[1.0, -2.0], [0.0, 3.0]])
    assert kl_unit_variance(mu).item() == pytest.approx((1 + 4 + 0 + 9) / 4)


def test_latent_cycle_treats_the_source_code_as_a_fixed_target() -> None:
    code = torch.randn(3, 5, requires_grad=True)
    back = torch.randn(3, 5, requires_grad=True)
    latent_cycle_loss(back, code).backward()
    assert code.grad is None and back.grad is not None


@pytest.mark.parametrize("distance", ["l1", "l2", "cosine"])
def test_semantic_consistency_trains_both_codes(distance: str) -> None:
    code = torch.randn(3, 5, requires_grad=True)
    back = torch.randn(3, 5, requires_grad=True)
    loss = semantic_consistency_loss(back, code, distance)
    loss.backward()
    assert loss.item() > 0 and code.grad is not None and back.grad is not None
    assert semantic_consistency_loss(code, code, distance).item() == pytest.approx(0, abs=1e-6)
    with pytest.raises(ValueError, match="distance"):
        semantic_consistency_loss(back, code, "l3")  # type: ignore[arg-type]


def test_gradient_reversal_negates_and_scales() -> None:
    x = torch.ones(3, requires_grad=True)
    y = grad_reverse(x, 0.5)
    assert torch.equal(y, x)
    (2 * y).sum().backward()
    assert torch.equal(x.grad, torch.full((3,), -1.0))


def test_domain_adversarial_modes() -> None:
    la, lb = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    clf = domain_adversarial_loss(la, lb, for_classifier=True)
    assert domain_adversarial_loss(la, lb, for_classifier=False, mode="reverse").item() == pytest.approx(-clf.item())
    flipped = domain_adversarial_loss(lb, la, for_classifier=True)  # swapping the domains = flipping the labels
    assert domain_adversarial_loss(la, lb, for_classifier=False, mode="flip").item() == pytest.approx(flipped.item())
    with pytest.raises(ValueError, match="mode"):
        domain_adversarial_loss(la, lb, for_classifier=False, mode="other")  # type: ignore[arg-type]


def test_check_codes_names_both_shapes() -> None:
    assert check_codes(torch.zeros(4, 8), (8,)).shape == (4, 8)
    assert check_codes(torch.zeros(8, 2, 2), (8, 2, 2)).shape == (1, 8, 2, 2)  # one code, unbatched
    with pytest.raises(UsageError, match=r"dimensions \(6,\) but its shared latent space has \(8,\)"):
        check_codes(torch.zeros(4, 6), (8,), name="m")
    with pytest.raises(UsageError, match="must be a tensor"):
        check_codes([1, 2], (8,))


# -- the encode_latent hook -------------------------------------------------------------------------------------


def _impl(body: str) -> type:
    ns: dict = {"GanImpl": GanImpl, "torch": torch}
    exec(textwrap.dedent('''
        class Impl(GanImpl):
            def build(self, config):
                return None
            def sample(self, model, n=None, *, condition=None, seed=None):
                return None
            def train_step(self, model, batch, step):
                return {}
    ''') + textwrap.indent(textwrap.dedent(body), "    "), ns)
    return ns["Impl"]


def test_encode_latent_is_a_declared_hook_with_a_capability() -> None:
    assert "encode_latent" in HOOKS and CAPABILITIES["encode_latent"] == ("encode_latent",)
    good = _impl("def encode_latent(self, model, images, *, domain='A'):\n    return images")
    validate_impl("good", good)
    assert good().supports("encode_latent") and not _impl("")().supports("encode_latent")


@pytest.mark.parametrize("body,message", [
    ("def encode_latent(self, model):\n    return None", "takes 1 positional argument"),
    ("def encode_latent(self, model, images, *, domain):\n    return images", "give them defaults"),
    ("def encode_latnt(self, model, images):\n    return images", "did you mean encode_latent?"),
])
def test_a_wrong_encode_latent_is_reported(body: str, message: str) -> None:
    with pytest.raises(PluginValidationError, match=message.replace("?", r"\?")):
        validate_impl("bad", _impl(body))


def test_the_default_encode_latent_refuses() -> None:
    class Model:
        class plugin:  # noqa: N801 - a stand-in for the spec
            name = "plain"

    with pytest.raises(UsageError, match="plain does not encode images"):
        GanImpl().encode_latent(Model(), torch.zeros(1, 3, 4, 4))  # type: ignore[arg-type]
