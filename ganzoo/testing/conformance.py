"""The plugin conformance kit: what every plugin must pass, public so third parties run it in their CI.

    from ganzoo.testing import check_plugin

    def test_my_plugin_conforms(tmp_path):
        check_plugin("mygan", tmp_path=tmp_path)

The checks (DESIGN.md §10), each on the plugin's ``tiny_config``, on CPU:

1. the plugin is reached through its entry point and its spec validates;
2. its config class derives from the task's typed base and its implementation keeps the contract
   (:func:`ganzoo.impl.validate_impl`: hook signatures, no misspelt hooks); the config has a default for every
   field and accepts ``tiny_config``;
3. ``build`` gives a :class:`ganzoo.GanModel` with exactly the declared components, on the CPU;
4. one D step and one G step (or one ``train_step``) give finite losses, and every parameter of the networks
   each phase trains receives a finite gradient;
5. two steps of the real trainer run on a synthetic dataset in the task's format and leave a loadable folder;
6. ``sample`` has the task's shape, values in [-1, 1], is reproducible for a seed and varies across seeds (when
   it draws from noise); bad ``n`` and unknown options are refused; with latent access, ``sample`` is
   ``generate(latent())`` and interpolation works;
7. ``save_pretrained`` → load round-trips to identical samples for a fixed seed;
8. the card it writes renders and parses.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["check_plugin", "PluginCheckError", "CheckReport"]


class PluginCheckError(AssertionError):
    """A conformance check failed; the message names the plugin and the check."""


@dataclass
class CheckReport:
    plugin: str
    passed: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.plugin}: {len(self.passed)} checks passed ({', '.join(self.passed)})"


def _fail(plugin: str, check: str, msg: str) -> None:
    raise PluginCheckError(f"[{plugin}] {check}: {msg}")


def check_plugin(name: str, *, tmp_path: str | Path | None = None, train: bool = True,
                 overrides: dict[str, Any] | None = None) -> CheckReport:
    """Run every conformance check on plugin ``name``; raise :class:`PluginCheckError` on the first failure.

    Args:
        name: the plugin id (as registered through its entry point).
        tmp_path: a scratch folder (default: a temporary one).
        train: also run two steps of the real trainer on a synthetic dataset (check 5).
        overrides: config overrides on top of the plugin's ``tiny_config``.

    Returns:
        `CheckReport`: the names of the checks that passed.
    """
    import torch

    from .. import registry
    from ..config import override
    from ..errors import GanzooError, UsageError
    from ..hub import load_model_folder
    from ..model import GanModel
    from .synthetic import example_batch, write_dataset

    report = CheckReport(name)
    registry.refresh()
    try:
        spec = registry.get_plugin(name)
    except GanzooError as err:
        _fail(name, "discovery", str(err))
    report.passed.append("discovery")

    try:
        cls = spec.load_config_class()
        impl = spec.load_impl()
    except GanzooError as err:
        _fail(name, "contract", str(err))
    report.passed.append("contract")
    try:
        default = cls()
    except TypeError as err:
        _fail(name, "config", f"{cls.__name__} needs a default for every field ({err})")
    cfg = override(default, {**dict(spec.tiny_config), **(overrides or {})}, source=f"{name} tiny_config")
    report.passed.append("config")

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = impl.build(cfg)
    if not isinstance(model, GanModel):
        _fail(name, "build", f"build() returned {type(model).__name__}, not ganzoo.GanModel")
    if set(model.components) != set(spec.components):
        _fail(name, "build", f"components {sorted(model.components)} differ from the spec's {sorted(spec.components)}")
    devices = {p.device.type for p in model.parameters()}
    if devices - {"cpu"}:
        _fail(name, "build", f"build() must not place networks on a device (found {devices})")
    report.passed.append("build")

    # -- one step of each phase: finite losses, gradients everywhere they should be ---------------------
    model.train()
    batch = example_batch(model, 4)
    optimizers = impl.configure_optimizers(model)
    owned = {k: [p for g in o.param_groups for p in g["params"]] for k, o in optimizers.items()}
    named = {id(p): f"{c}.{n}" for c, m in model.components.items() for n, p in m.named_parameters()}
    halves = {"D": impl.discriminator_loss, "G": impl.generator_loss}
    # the phases in the plugin's order, sharing one batch dict as the trainer does (a half may cache in it)
    phases = [(k, halves[k]) for k in impl.phase_order] if impl.supports("adversarial") else [("all", None)]
    step_batch = dict(batch)
    for key, fn in phases:
        model.zero_grad(set_to_none=True)
        losses = fn(model, step_batch) if fn is not None else impl.train_step(model, step_batch, 0)
        if not isinstance(losses, dict) or not losses:
            _fail(name, "losses", f"the {key} phase must return a dict of named tensors, got {type(losses).__name__}")
        for k, v in losses.items():
            if not isinstance(v, torch.Tensor) or v.numel() != 1:
                _fail(name, "losses", f"{key} loss '{k}' must be a scalar tensor")
            if not torch.isfinite(v.detach()).all():
                _fail(name, "losses", f"{key} loss '{k}' is not finite ({float(v)})")
        terms = [v for v in losses.values() if v.requires_grad]
        if not terms:
            _fail(name, "losses", f"no {key} loss requires grad")
        torch.stack([t.float() for t in terms]).sum().backward()
        params = [p for ps in owned.values() for p in ps] if key == "all" else owned.get(key, [])
        if not params:
            _fail(name, "gradients", f"configure_optimizers() has no '{key}' optimiser")
        missing = [named.get(id(p), "?") for p in params if p.requires_grad and p.grad is None]
        if missing:
            _fail(name, "gradients", f"the {key} step leaves no gradient in {missing[:5]}")
        bad = [named.get(id(p), "?") for p in params if p.grad is not None and not torch.isfinite(p.grad).all()]
        if bad:
            _fail(name, "gradients", f"non-finite gradients in {bad[:5]}")
    model.zero_grad(set_to_none=True)
    report.passed += ["losses", "gradients"]

    with tempfile.TemporaryDirectory(prefix=f"ganzoo-check-{name}-") as scratch:
        root = Path(tmp_path) if tmp_path is not None else Path(scratch)
        root.mkdir(parents=True, exist_ok=True)

        # -- the real trainer, two steps, on a synthetic dataset in the task's format --------------------
        if train:
            from ..training.options import TrainerOptions
            from ..training.trainer import Trainer

            data = write_dataset(spec.task, root / "data", cfg, n=8)
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(0)
                fresh = impl.build(cfg)
            opts = TrainerOptions(max_steps=2, batch_size=2, sample_every=0, checkpoint_every=0, sample_n=4,
                                  progress=False, log_every=1)
            try:
                Trainer(fresh, data, root / "run", opts, tag="check").fit()
            except GanzooError as err:
                _fail(name, "trainer", f"two steps of the trainer failed: {err}")
            loaded = load_model_folder(root / "run")
            if set(loaded.loaded_components) != set(c for c in spec.inference):  # type: ignore[attr-defined]
                _fail(name, "trainer", f"the run folder should load the inference components {spec.inference}")
            report.passed.append("trainer")

        # -- sampling -------------------------------------------------------------------------------------
        model.eval()
        task = model.task
        n = 3
        n_arg, cond, options = task.conformance_inputs(cfg, batch, n)

        def draw(seed: int, m: Any = model) -> Any:
            return m.sample(n_arg, condition=cond, seed=seed, **options)

        out = draw(1)
        problem = task.check_output(out, n)
        if problem:
            _fail(name, "sample", problem)
        if not torch.isfinite(out).all() or out.min() < -1 - 1e-5 or out.max() > 1 + 1e-5:
            _fail(name, "sample", f"values must be finite and in [-1, 1], got [{float(out.min()):.3f}, "
                                  f"{float(out.max()):.3f}]")
        if not torch.equal(out, draw(1)):
            _fail(name, "sample", "the same seed must give the same samples")
        if not task.condition_required and torch.equal(out, draw(2)):
            _fail(name, "sample", "different seeds gave identical samples: is the seed ignored?")
        for bad_n in (0, -1):
            try:
                model.sample(bad_n)
            except UsageError:
                pass
            else:
                _fail(name, "sample", f"sample({bad_n}) must raise ganzoo.UsageError")
        try:
            model.sample(n_arg, condition=cond, seed=1, not_an_option=1, **options)
        except UsageError:
            pass
        else:
            _fail(name, "sample", "an unknown sample() option must raise ganzoo.UsageError")
        report.passed.append("sample")

        # -- latent access: sample() is generate(latent()) and interpolation works ------------------------
        if impl.supports("latent") and not task.condition_required:
            from ..explore import interpolate

            z = impl.latent(model, n, seed=4)
            kwargs = {} if cond is None else {"condition": cond}
            if not torch.equal(impl.generate(model, z, **kwargs), model.sample(n_arg or n, seed=4, **kwargs)):
                _fail(name, "latent", "sample(n, seed=s) must equal generate(latent(n, seed=s)) (the same codes)")
            rows = interpolate(model, rows=2, steps=3, seed=0, condition=None if cond is None else cond[:2])
            if rows.shape[0] != 6 or not torch.isfinite(rows).all():
                _fail(name, "latent", f"interpolation gave {tuple(rows.shape)} (expected 6 images)")
            report.passed.append("latent")

        # -- save / load round trip, card --------------------------------------------------------------
        folder = model.save_pretrained(root / "saved")
        reloaded = load_model_folder(folder, components="all")
        again = draw(1, reloaded)
        if not torch.equal(out, again):
            diff = float((out - again).abs().max())
            _fail(name, "round trip", f"save_pretrained → load changed the samples (max |diff| {diff:.3g})")
        report.passed.append("round trip")
        from ..cards import load_card, read_card_info

        text = (folder / "README.md").read_text(encoding="utf-8")
        info = read_card_info(text, path=str(folder / "README.md"))
        if info.plugin != name:
            _fail(name, "card", f"the card names plugin {info.plugin!r}")
        load_card(folder / "README.md")
        if info.parameters is None or not math.isfinite(info.parameters):
            _fail(name, "card", "the card must record the parameter count")
        report.passed.append("card")
    return report
