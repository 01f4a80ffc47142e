"""The trainer's and the samplers' fast paths compute what the plain paths compute (on the toy plugins).

* The trainer restricts each update's backward pass to the parameters it trains (``backward(inputs=…)``)
  instead of switching the other networks' ``requires_grad`` off and on: a run gives the same weights, bit for
  bit, as a run that freezes (the path kept for accelerate's own backward: fp16 scaling, DeepSpeed, XLA).
* Translation samplers run without recording an autograd graph, and give the same images.

The plugins' own fast paths (CycleGAN's batched generator passes, pix2pix's single generator pass per step) are
tested against the original implementation's iteration in ``plugins/cyclegan`` and ``plugins/pix2pix``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import ganzoo
from ganzoo.testing import write_dataset
from ganzoo.training import Trainer, TrainerOptions

pytestmark = pytest.mark.usefixtures("one_thread")

QUIET = dict(progress=False, sample_every=0, checkpoint_every=0, log_every=1)


def _train(plugin: str, task: str, tmp_path: Path, *, freeze: bool, steps: int = 4) -> dict[str, torch.Tensor]:
    model = ganzoo.build(plugin, seed=0)
    data = write_dataset(task, tmp_path / "data", model.config, n=8)
    trainer = Trainer(model, data, tmp_path / ("freeze" if freeze else "fast"), TrainerOptions(
        max_steps=steps, batch_size=4, **QUIET))
    if freeze:  # any backward other than Tensor.backward itself takes the freeze path (as accelerate's does)
        setup = trainer._setup

        def setup_with_plain_backward() -> None:
            setup()
            trainer._backward = lambda loss: loss.backward()

        trainer._setup = setup_with_plain_backward  # type: ignore[method-assign]
    trained = trainer.fit()
    return {f"{c}.{k}": v.detach().clone() for c, m in trained.components.items() for k, v in m.state_dict().items()}


@pytest.mark.parametrize("plugin,task", [("toygan", "unconditional"), ("toypair", "paired-translation")])
def test_restricted_backward_trains_exactly_like_freezing(plugin: str, task: str, tmp_path: Path) -> None:
    fast = _train(plugin, task, tmp_path, freeze=False)
    frozen = _train(plugin, task, tmp_path, freeze=True)
    assert fast.keys() == frozen.keys()
    initial = ganzoo.build(plugin, seed=0)
    moved = [k for k, v in fast.items() if v.is_floating_point()
             and not torch.equal(v, initial.components[k.split(".")[0]].state_dict()[k.split(".", 1)[1]])]
    assert moved, "training changed no weight: the comparison would be vacuous"
    for k in fast:
        assert torch.equal(fast[k], frozen[k]), f"{k}: max |diff| {(fast[k] - frozen[k]).abs().max():.3g}"


def test_restricted_backward_leaves_the_other_networks_gradients_alone(tmp_path: Path) -> None:
    """After a step, D's gradients are those of the D update only (the G update computes none for D)."""
    model = ganzoo.build("toygan", seed=0)
    data = write_dataset("unconditional", tmp_path / "data", model.config, n=8)
    seen: dict[str, bool] = {}

    def after_step(t: Trainer) -> None:
        for name, opt in t.optimizers.items():
            seen[name] = all(p.requires_grad for g in opt.param_groups for p in g["params"])

    Trainer(model, data, tmp_path / "run", TrainerOptions(max_steps=2, batch_size=4, **QUIET),
            callbacks={"on_step_end": [after_step]}).fit()
    assert seen == {"G": True, "D": True}  # nothing was frozen (and nothing left frozen)


def test_translation_sampling_records_no_graph() -> None:
    from ganzoo.translate import run_translator

    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.InstanceNorm2d(4), torch.nn.Tanh())
    x = torch.rand(2, 3, 8, 8)
    y = run_translator(net, x)
    assert not y.requires_grad and y.grad_fn is None
    with torch.no_grad():
        expected = net.eval()(x)
    assert torch.equal(y, expected)
