"""CycleGAN — Zhu, Park, Isola & Efros, "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial
Networks", ICCV 2017 (arXiv 1703.10593), as in the authors' PyTorch code (junyanz/pytorch-CycleGAN-and-pix2pix,
BSD-2-Clause; facts in ``notes/reference-cyclegan-pix2pix.md``, implemented here from those facts and the paper).

Component names → paper names → the original code's names:

=========  ==================================  ===================  ==========================================
ganzoo     paper                               original code        role
=========  ==================================  ===================  ==========================================
``G_AB``   G : X → Y                           ``netG_A``           translates domain A into domain B
``G_BA``   F : Y → X                           ``netG_B``           translates domain B into domain A
``D_A``    D_X (judges X)                      ``netD_B`` (!)       real A images vs G_BA's outputs
``D_B``    D_Y (judges Y)                      ``netD_A`` (!)       real B images vs G_AB's outputs
=========  ==================================  ===================  ==========================================

ganzoo names each discriminator after the domain it judges (like the paper); the original names it after the
generator it opposes, so **ganzoo's ``D_A`` is the original's ``netD_B``** and vice versa. Published files are
single generators: ``latest_net_G.pth`` of the test model (and ``latest_net_G_A.pth``) map to ``G_AB``,
``latest_net_G_B.pth`` to ``G_BA`` (``--direction`` overrides).

Networks: ResNet generators (:class:`ganzoo.nn.ResnetGenerator`: 9 residual blocks for 256², 6 for 128²;
reflection padding; instance norm without affine parameters or running statistics; no dropout) and 70×70
PatchGAN discriminators (:class:`ganzoo.nn.NLayerDiscriminator`, instance norm).

Objective (eq. 3 + §7.1): least-squares GAN losses (``gan_mode="lsgan"``) for both mappings, cycle consistency
λ_A·‖F(G(a)) − a‖₁ + λ_B·‖G(F(b)) − b‖₁ with λ_A = λ_B = 10, and the identity loss
λ_identity·(λ_B·‖G(b) − b‖₁ + λ_A·‖F(a) − a‖₁) with λ_identity = 0.5 (so 5·L1). Each discriminator sees real
images and generated ones drawn from a history of 50 (:class:`ganzoo.nn.ImagePool`), and its loss is halved.
Update order, as the original: G_AB and G_BA first (one Adam over both, discriminators frozen), then D_A and D_B
(one Adam over both) on the pooled images the G step generated — ``phase_order = ("G", "D")``. Adam 2e-4,
β = (0.5, 0.999); batch 1; weights ~ N(0, 0.02); 286² → random 256² crop + flip; 100 epochs constant + 100 linear
decay.

Test time: instance norm has no statistics and there is no dropout, so train and eval mode agree; ``sample``
translates either way (``direction="AtoB"`` / ``"BtoA"``) with the generator that exists in the loaded model.
"""

from __future__ import annotations

import logging
import zipfile
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F

from ganzoo.convert import (
    Converted,
    apply_aliases,
    describe_keys,
    describe_non_generator,
    original_name,
    read_original_checkpoint,
    tag_from_name,
)
from ganzoo.errors import ConfigError, UsageError, WeightsError
from ganzoo.config import TranslationConfig
from ganzoo.impl import GanImpl
from ganzoo.model import GanModel
from ganzoo.nn import (
    ImagePool,
    NLayerDiscriminator,
    ResnetGenerator,
    check_layout,
    clean_norm_state,
    gan_loss,
    infer_resnet_config,
    infer_unet_config,
    init_weights,
    patchgan_min_side,
)
from ganzoo.translate import SizeRule, check_image_batch, fit, run_translator, unfit

from .published import card_content, published_by_name

__all__ = ["CycleGANConfig", "CycleGAN", "build_generator", "build_discriminator"]

logger = logging.getLogger(__name__)

_GEN = {"AtoB": "G_AB", "BtoA": "G_BA"}


@dataclass
class CycleGANConfig(TranslationConfig):
    """CycleGAN hyper-parameters; the defaults are the paper's / the original code's (256² RGB, horse2zebra)."""

    # data (read by ganzoo.data.dataset_for_task for unaligned trainA/ trainB/)
    image_size: int = field(default=256, metadata={"help": "training crop side (a multiple of 4; ≥ 24 for the 3-layer PatchGAN); the resize target of size_policy=resize"})
    load_size: int | None = field(default=286, metadata={"help": "training images are resized to this before the random crop (None: no jitter)"})
    flip: bool = field(default=True, metadata={"help": "random horizontal flip while training"})
    input_channels: int = field(default=3, metadata={"help": "channels of domain A images"})
    output_channels: int = field(default=3, metadata={"help": "channels of domain B images"})
    domain_a: str = field(default="A", metadata={"help": "a name for domain A (cards and messages)"})
    domain_b: str = field(default="B", metadata={"help": "a name for domain B (cards and messages)"})
    # generators (resnet_9blocks for 256², resnet_6blocks for 128²)
    ngf: int = field(default=64, metadata={"help": "G width: filters of its first layer"})
    n_blocks: int = field(default=9, metadata={"help": "residual blocks: 9 (256² training) or 6 (128²)"})
    norm: Literal["instance", "batch", "none"] = field(default="instance", metadata={"help": "norm layers of G and D"})
    use_dropout: bool = field(default=False, metadata={"help": "dropout 0.5 in the residual blocks (off in CycleGAN)"})
    padding_type: Literal["reflect", "replicate", "zero"] = field(default="reflect", metadata={"added_later": True, "help": "padding of the residual blocks' convolutions (the original's --padding_type; reflect in CycleGAN)"})
    norm_affine: bool = field(default=False, metadata={"added_later": True, "help": "instance norm with learnt scale and shift (the original's has none; some checkpoints do)"})
    conv_bias: bool | None = field(default=None, metadata={"added_later": True, "help": "a bias on the convolutions before norm layers (null: the original's rule, only under instance norm)"})
    # discriminators
    ndf: int = field(default=64, metadata={"help": "D width: filters of its first layer"})
    n_layers_D: int = field(default=3, metadata={"help": "PatchGAN depth: 3 → 70×70 patches"})
    # objective
    gan_mode: Literal["lsgan", "vanilla"] = field(default="lsgan", metadata={"help": "adversarial loss: lsgan (paper) or vanilla"})
    lambda_A: float = field(default=10.0, metadata={"help": "cycle weight for A → B → A"})
    lambda_B: float = field(default=10.0, metadata={"help": "cycle weight for B → A → B"})
    lambda_identity: float = field(default=0.5, metadata={"help": "identity loss weight, relative to lambda_A/lambda_B (0: off)"})
    pool_size: int = field(default=50, metadata={"help": "generated images kept for the discriminators (0: none)"})
    # optimisation (Adam 2e-4, beta1 0.5; init N(0, 0.02))
    lr: float = field(default=2e-4, metadata={"help": "Adam learning rate for the generators and the discriminators"})
    beta1: float = field(default=0.5, metadata={"help": "Adam beta1"})
    beta2: float = field(default=0.999, metadata={"help": "Adam beta2"})
    init_gain: float = field(default=0.02, metadata={"help": "std of the N(0, σ) weight init"})
    # test time
    inference_mode: Literal["eval", "paper"] = field(default="eval", metadata={"help": "eval: running statistics, no dropout; paper: train-mode norm + dropout as the original test.py (identical for instance norm without dropout)"})
    size_policy: Literal["pad", "resize"] = field(default="pad", metadata={"help": "any-size inputs: reflection-pad to multiples of 4 and crop (native resolution), or resize to image_size² and back (the original test.py)"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.image_size < 8 or self.image_size % 4:
            raise ValueError(f"image_size must be a multiple of 4 and ≥ 8, got {self.image_size}")
        if self.load_size is not None and self.load_size < self.image_size:
            raise ValueError(f"load_size ({self.load_size}) must be ≥ image_size ({self.image_size}) or null")
        for key in ("input_channels", "output_channels"):
            if getattr(self, key) not in (1, 3):
                raise ValueError(f"{key} must be 1 or 3, got {getattr(self, key)}")
        for key in ("ngf", "ndf", "n_layers_D"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be ≥ 1, got {getattr(self, key)}")
        if self.image_size < patchgan_min_side(self.n_layers_D):
            raise ValueError(f"image_size {self.image_size} is too small for a {self.n_layers_D}-layer PatchGAN: "
                             f"its last normalised map needs 2×2 px (image_size ≥ {patchgan_min_side(self.n_layers_D)}; "
                             f"or lower n_layers_D)")
        if self.n_blocks < 0 or self.pool_size < 0:
            raise ValueError("n_blocks and pool_size must be ≥ 0")
        if self.lambda_identity > 0 and self.input_channels != self.output_channels:
            raise ValueError("the identity loss needs input_channels == output_channels (as in the original); "
                             "set lambda_identity=0")


def build_generator(cfg: CycleGANConfig, direction: str = "AtoB") -> ResnetGenerator:
    """The ResNet generator of ``direction`` (``"AtoB"``: G_AB, ``"BtoA"``: G_BA), fresh and not initialised."""
    c_in, c_out = (cfg.input_channels, cfg.output_channels) if direction == "AtoB" else (cfg.output_channels, cfg.input_channels)
    return ResnetGenerator(c_in, c_out, cfg.ngf, cfg.n_blocks, cfg.norm, cfg.use_dropout, padding_type=cfg.padding_type,
                           norm_affine=cfg.norm_affine, conv_bias=cfg.conv_bias)


def build_discriminator(cfg: CycleGANConfig, domain: str = "A") -> NLayerDiscriminator:
    """The PatchGAN judging ``domain``'s images (``"A"``: D_A, ``"B"``: D_B)."""
    channels = cfg.input_channels if domain == "A" else cfg.output_channels
    return NLayerDiscriminator(channels, cfg.ndf, cfg.n_layers_D, cfg.norm, norm_affine=cfg.norm_affine)


class CycleGAN(GanImpl):
    """build / losses / sample / convert for CycleGAN (components ``G_AB``, ``G_BA``, ``D_A``, ``D_B``)."""

    #: the original updates the generators first, then the discriminators on the images that G step produced
    phase_order = ("G", "D")
    #: The paper's schedule: batch 1; lr constant for the first half, then linear decay to 0 (100 + 100 epochs).
    #: The trainer counts steps, the original epochs: with ``--epochs 200`` the decay starts after 100 epochs'
    #: worth of steps (``decay_start: 0.5`` is a fraction of the run) and decreases every step rather than once per
    #: epoch — the same ramp without the staircase. (horse2zebra: 1,334 steps per epoch, 266,800 in all.)
    train_defaults: dict[str, Any] = {"batch_size": 1, "lr_schedule": "linear_decay", "decay_start": 0.5}

    def __init__(self) -> None:
        self.pools: dict[str, ImagePool] = {}

    def build(self, config: CycleGANConfig) -> GanModel:
        nets = {"G_AB": build_generator(config, "AtoB"), "G_BA": build_generator(config, "BtoA"),
                "D_A": build_discriminator(config, "A"), "D_B": build_discriminator(config, "B")}
        for net in nets.values():
            init_weights(net, "normal", config.init_gain)
        # pool_A holds generated A images (G_BA's outputs) for D_A; pool_B generated B images for D_B
        self.pools = {"A": ImagePool(config.pool_size), "B": ImagePool(config.pool_size)}
        return self.new_model(config, nets)

    # -- training state outside the networks ---------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The two image pools (stored images + their generators' states)."""
        return {f"pool_{k}": p.state_dict() for k, p in self.pools.items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for k, pool in self.pools.items():
            if f"pool_{k}" in state:
                pool.load_state_dict(state[f"pool_{k}"])

    # -- training -------------------------------------------------------------------------------------------

    def generator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        """G step (D_A, D_B frozen): fool both discriminators, cycle consistency both ways, identity."""
        cfg = model.config
        a, b = batch["A"], batch["B"]
        fake_b = model.G_AB(a)
        rec_a = model.G_BA(fake_b)
        fake_a = model.G_BA(b)
        rec_b = model.G_AB(fake_a)
        losses = {
            "g_ab_gan": gan_loss(model.D_B(fake_b), True, cfg.gan_mode, for_discriminator=False),
            "g_ba_gan": gan_loss(model.D_A(fake_a), True, cfg.gan_mode, for_discriminator=False),
            "cycle_a": cfg.lambda_A * F.l1_loss(rec_a, a),
            "cycle_b": cfg.lambda_B * F.l1_loss(rec_b, b),
        }
        if cfg.lambda_identity > 0:
            # G_AB should leave B images alone and G_BA A images (weights as the original: λ_B·λ_id and λ_A·λ_id)
            losses["idt_b"] = cfg.lambda_B * cfg.lambda_identity * F.l1_loss(model.G_AB(b), b)
            losses["idt_a"] = cfg.lambda_A * cfg.lambda_identity * F.l1_loss(model.G_BA(a), a)
        # the D step that follows uses these (the original's single forward pass per iteration)
        batch["_fake_A"], batch["_fake_B"] = fake_a.detach(), fake_b.detach()
        return losses

    def discriminator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        """D step (generators frozen): real → 1, pooled generated → 0, each discriminator's loss halved."""
        cfg = model.config
        a, b = batch["A"], batch["B"]
        fake_a, fake_b = batch.pop("_fake_A", None), batch.pop("_fake_B", None)
        if fake_a is None or fake_b is None:  # called without a G step before it (d_steps > 1, conformance checks)
            with torch.no_grad():
                fake_a, fake_b = model.G_BA(b), model.G_AB(a)
        if not self.pools:
            self.pools = {"A": ImagePool(cfg.pool_size), "B": ImagePool(cfg.pool_size)}
        fake_a, fake_b = self.pools["A"].query(fake_a), self.pools["B"].query(fake_b)
        mode = cfg.gan_mode
        return {
            "d_a_real": 0.5 * gan_loss(model.D_A(a), True, mode),
            "d_a_fake": 0.5 * gan_loss(model.D_A(fake_a), False, mode),
            "d_b_real": 0.5 * gan_loss(model.D_B(b), True, mode),
            "d_b_fake": 0.5 * gan_loss(model.D_B(fake_b), False, mode),
        }

    # -- sampling ---------------------------------------------------------------------------------------------

    def size_rule(self, model: GanModel) -> SizeRule:
        """Pad to multiples of 4 (≥ 8) and crop back (default), or resize to ``image_size``² and back."""
        return self.size_rule_for(model.config)

    def size_rule_for(self, cfg: CycleGANConfig) -> SizeRule:
        """The size rule of a config (see :meth:`size_rule`)."""
        if cfg.size_policy == "resize":
            return SizeRule("resize", ResnetGenerator.stride, size=cfg.image_size)
        return SizeRule("pad", ResnetGenerator.stride, min_side=ResnetGenerator.min_side)

    def _direction(self, model: GanModel, direction: str | None) -> str:
        if direction is None:
            loaded = getattr(model, "loaded_components", None)
            return "BtoA" if loaded is not None and "G_AB" not in loaded and "G_BA" in loaded else "AtoB"
        if direction not in _GEN:
            raise UsageError(f"direction must be 'AtoB' or 'BtoA', got {direction!r}")
        return direction

    def inference_components(self, *, direction: str | None = None, **kwargs: Any) -> tuple[str, ...] | None:
        """What ``load(name, options={"direction": …})`` needs: only that direction's generator."""
        if direction is None:
            return None
        if direction not in _GEN:
            raise UsageError(f"direction must be 'AtoB' or 'BtoA', got {direction!r}")
        return (_GEN[direction],)

    def input_channels(self, model: GanModel, *, direction: str | None = None, **kwargs: Any) -> int:
        cfg = model.config
        return cfg.input_channels if self._direction(model, direction) == "AtoB" else cfg.output_channels

    def _check_loaded(self, model: GanModel, direction: str) -> str:
        gname = _GEN[direction]
        loaded = getattr(model, "loaded_components", None)
        if loaded is None or gname in loaded:
            return gname
        cfg = model.config
        src, dst = (cfg.domain_a, cfg.domain_b) if direction == "AtoB" else (cfg.domain_b, cfg.domain_a)
        have = ", ".join(f"{g} ({cfg.domain_a if g == 'G_AB' else cfg.domain_b} → "
                         f"{cfg.domain_b if g == 'G_AB' else cfg.domain_a})" for g in loaded if g in _GEN.values())
        block = dict(getattr(getattr(model.card, "data", None), "ganzoo", None) or {}) if model.card else {}
        reverse = block.get("reverse_model")
        hint = (f"the authors published {src} → {dst} as a separate model: ganzoo.load('{reverse}')" if reverse
                else f"load it with ganzoo.load(..., components=['{gname}']) if the folder has it")
        raise UsageError(f"{model.name or 'this cyclegan model'} has no {src} → {dst} generator ({gname}, "
                         f"direction={direction!r}); it holds {have or 'no generator'}: {hint}")

    def sample(self, model: GanModel, n: int | None = None, *, condition: Any = None, seed: int | None = None,
               direction: str | None = None, mode: str | None = None, batch_size: int = 16) -> torch.Tensor:
        """Translate ``condition`` (N, C, H, W) in [-1, 1], any size, with G_AB (``"AtoB"``) or G_BA (``"BtoA"``).

        Args:
            n: must equal N when given.
            condition: images of the source domain.
            seed: fixes dropout in ``"paper"`` mode (CycleGAN has none by default).
            direction: ``"AtoB"`` / ``"BtoA"``; default: AtoB, or BtoA when only G_BA is loaded.
            mode: ``"eval"`` / ``"paper"``; default ``config.inference_mode``.
            batch_size: images per forward pass.

        Raises:
            UsageError: no or malformed ``condition``; the direction's generator is not in the loaded model.
            DataError: an image side under 4 px (pad policy).
        """
        cfg = model.config
        name = model.name or "cyclegan"
        direction = self._direction(model, direction)
        gname = self._check_loaded(model, direction)
        channels = cfg.input_channels if direction == "AtoB" else cfg.output_channels
        if condition is None:
            raise UsageError(f"{name} translates images: pass condition=<images (N, {channels}, H, W) in [-1, 1]> "
                             f"(CLI: --input FILE|DIR)")
        x = check_image_batch(condition, channels, name=name)
        if n is not None and n != x.shape[0]:
            raise UsageError(f"n={n} but condition holds {x.shape[0]} images; drop n for translation")
        rule = self.size_rule(model)
        xf, size = fit(x.to(model.device), rule, name=name)
        y = run_translator(model.components[gname], xf, mode=mode or cfg.inference_mode, seed=seed,
                           batch_size=batch_size)
        return unfit(y, rule, size)

    # -- converting the original checkpoints --------------------------------------------------------------------

    def convert(self, state_dict: dict[str, torch.Tensor], *, source: str, direction: str | None = None,
                reverse: str | None = None, **options: Any) -> Converted:
        """Convert an original CycleGAN generator (``<name>.pth``, ``latest_net_G[_A|_B].pth``).

        The generator goes to ``G_AB`` (``direction="AtoB"``; the default, except for ``*_net_G_B.pth``) or
        ``G_BA``. ``reverse=PATH`` (``--set reverse=…``) adds the other direction's generator from a second file
        (e.g. ``latest_net_G_B.pth`` of the same run), so one folder translates both ways. The ResNet's blocks,
        width, channels, norm and dropout are read from the keys and shapes; InstanceNorm running statistics
        (the published 2018 files carry 69 of them) are dropped. ``options`` may set other config fields
        (``domain_a``, ``domain_b``, ``size_policy``, ``image_size`` …).

        Raises:
            WeightsError: not a ResNet generator (a pix2pix U-Net, a discriminator, another network), or keys that
                do not fit the layout, or a ``reverse`` file of another architecture.
            UsageError: an unknown option.
        """
        where = Path(source).name
        state_dict, aliased = apply_aliases(state_dict, KEY_ALIASES)
        res = infer_resnet_config(state_dict)
        if res is None:
            raise WeightsError(f"{where} is not a CycleGAN ResNet generator: {_what_is(state_dict)}")
        orig_name = original_name(source)
        published = published_by_name(orig_name)
        valid = {f.name for f in fields(CycleGANConfig)}
        unknown = sorted(k for k in options if k not in valid)
        if unknown:
            raise UsageError(f"unknown converter option(s) {', '.join(unknown)}; cyclegan accepts --direction, "
                             f"--set reverse=PATH and --set for {', '.join(sorted(valid))}")
        if direction is None:
            direction = "BtoA" if Path(source).stem.endswith("_G_B") else "AtoB"
        if direction not in _GEN:
            raise UsageError(f"direction must be AtoB or BtoA, got {direction!r}")
        c_a, c_b = (res["input_nc"], res["output_nc"]) if direction == "AtoB" else (res["output_nc"], res["input_nc"])
        detected = {"input_channels": c_a, "output_channels": c_b, "ngf": res["ngf"], "n_blocks": res["n_blocks"],
                    "norm": res["norm"], "use_dropout": res["use_dropout"], "padding_type": res["padding_type"],
                    "norm_affine": res["norm_affine"], "conv_bias": res["conv_bias"]}
        overridden = {k: options[k] for k in detected if k in options and options[k] != detected[k]}
        base: dict[str, Any] = {"image_size": 256 if int(options.get("n_blocks", res["n_blocks"])) >= 9 else 128}
        base["load_size"] = base["image_size"] + base["image_size"] * 30 // 256
        if published is not None:
            base.update(domain_a=published.domain_a, domain_b=published.domain_b)
        if c_a != c_b:
            base["lambda_identity"] = 0.0  # the identity loss needs equal channels (as in the original)
        try:
            cfg = CycleGANConfig(**{**base, **detected, **options})
        except (TypeError, ValueError) as err:
            raise ConfigError(f"{where}: {err}") from err
        gname = _GEN[direction]
        fitted, dropped = self._fit_generator(state_dict, cfg, direction, where, res, overridden)
        weights = {gname: fitted}
        provenance: dict[str, Any] = {
            "original_name": orig_name, "layout": _resnet_words(res), "component": gname, "tensors": len(state_dict),
            "serialization": "zip (PyTorch ≥ 1.6)" if zipfile.is_zipfile(source) else "legacy (pre-1.6 pickle)",
            "dropped_instance_norm_stats": len(dropped),
        }
        if aliased:
            provenance["aliases"] = aliased
        if overridden:
            provenance["overrides"] = {k: f"{v} (read from the file: {detected[k]})" for k, v in overridden.items()}
        if reverse:
            other = "BtoA" if direction == "AtoB" else "AtoB"
            rstate = apply_aliases(read_original_checkpoint(reverse), KEY_ALIASES)[0]
            rres = infer_resnet_config(rstate)
            if rres is None:
                raise WeightsError(f"{Path(reverse).name} (reverse) is not a CycleGAN ResNet generator: {_what_is(rstate)}")
            weights[_GEN[other]] = self._fit_generator(rstate, cfg, other, Path(reverse).name, rres, overridden)[0]
            from ganzoo.hub import sha256_file

            provenance["reverse"] = {"file": Path(reverse).name, "sha256": sha256_file(reverse),
                                     "component": _GEN[other], "tensors": len(rstate)}
        if published is not None:
            content = card_content(published)
            block = {k: v for k, v in content["block"].items() if k != "parameters"}  # the core counts them
            provenance.update({k: v for k, v in content["converted_from"].items() if k != "expected"})
            notes = content["notes"]
            if (cfg.inference_mode, cfg.size_policy) != ("eval", "pad"):
                rule = self.size_rule_for(cfg)
                block["inference_mode"] = cfg.inference_mode
                block["input"] = {**rule.to_dict(), "channels": cfg.input_channels, "rule": rule.describe()}
                notes += (f"\n**This folder was converted with `inference_mode: {cfg.inference_mode}` and "
                          f"`size_policy: {cfg.size_policy}`**, which override the defaults described above.\n")
            if direction != "AtoB" or reverse:
                block["direction"] = direction
                block["components_published"] = sorted(weights)
                notes += (f"\n**Converted as {', '.join(sorted(weights))}** (`--direction {direction}`"
                          f"{', --set reverse=…' if reverse else ''}), not the published single `G_AB`.\n")
        else:
            rule = self.size_rule_for(cfg)
            block = {"direction": direction, "domains": {"A": cfg.domain_a, "B": cfg.domain_b},
                     "components_published": sorted(weights), "inference_mode": cfg.inference_mode,
                     "input": rule.to_dict()}
            notes = (f"Converted from an original CycleGAN checkpoint ({_resnet_words(res)}) into "
                     f"{', '.join(sorted(weights))}. Input sizes: {rule.describe()}. Test-time mode: "
                     f"`{cfg.inference_mode}`.")
        tag = published.name if published is not None else tag_from_name(orig_name)
        return Converted(config=cfg, weights=weights, tag=tag, provenance=provenance, card=block, notes=notes)

    def _fit_generator(self, state: dict[str, torch.Tensor], cfg: CycleGANConfig, direction: str, where: str,
                       res: dict[str, Any], overridden: dict[str, Any] | None = None
                       ) -> tuple[dict[str, torch.Tensor], list[str]]:
        with torch.device("meta"):
            g = build_generator(cfg, direction)
        cleaned, dropped = clean_norm_state(state, g)
        problem = check_layout(cleaned, g)
        if problem:
            hint = (f" (--set {', '.join(f'{k}={v}' for k, v in overridden.items())} overrode what the file says)"
                    if overridden else "")
            raise WeightsError(f"{where} looks like a ResNet generator ({_resnet_words(res)}) but does not fit "
                               f"{_GEN[direction]} of this model ({_resnet_words_cfg(cfg, direction)}){hint}: {problem}")
        return cleaned, dropped


# -- helpers for the converter ------------------------------------------------------------------------------


#: Other code bases' names for the same layers (whole key segments; the original never uses them), renamed before
#: the layout is read; ``--rename OLD=NEW`` adds more.
KEY_ALIASES: dict[str, str] = {"main": "model", "net": "model", "layers": "model", "block": "conv_block",
                               "res_block": "conv_block", "resblock": "conv_block", "residual": "conv_block"}


def _resnet_words(res: dict[str, Any]) -> str:
    drop = ", dropout" if res["use_dropout"] else ""
    affine = " (affine)" if res.get("norm_affine") else ""
    pad = f", {res['padding_type']} padding" if res.get("padding_type", "reflect") != "reflect" else ""
    bias = {True: ", conv biases", False: ", no conv biases"}.get(res.get("conv_bias"), "")  # type: ignore[arg-type]
    return (f"resnet_{res['n_blocks']}blocks, ngf={res['ngf']}, {res['norm']} norm{affine}{drop}{pad}{bias}, "
            f"{res['input_nc']}→{res['output_nc']} channels")


def _resnet_words_cfg(cfg: CycleGANConfig, direction: str) -> str:
    c_in, c_out = (cfg.input_channels, cfg.output_channels) if direction == "AtoB" else (cfg.output_channels, cfg.input_channels)
    return _resnet_words({"n_blocks": cfg.n_blocks, "ngf": cfg.ngf, "norm": cfg.norm, "use_dropout": cfg.use_dropout,
                          "input_nc": c_in, "output_nc": c_out, "padding_type": cfg.padding_type,
                          "norm_affine": cfg.norm_affine, "conv_bias": cfg.conv_bias})


def _what_is(state: dict[str, torch.Tensor]) -> str:
    unet = infer_unet_config(state)
    if unet is not None:
        size = {8: "unet_256", 7: "unet_128"}.get(unet["num_downs"], f"{unet['num_downs']}-level U-Net")
        return (f"it is a U-Net generator ({size}, {unet['norm']} norm) — the pix2pix architecture. Convert it with "
                f"`ganzoo convert pix2pix …` (sat2map, map2sat and facades_label2photo are published both as pix2pix "
                f"and as CycleGAN models under the same names)")
    return (describe_non_generator(state, generator_files="a generator file (latest_net_G.pth, latest_net_G_A.pth "
                                                          "or latest_net_G_B.pth)")
            or f"{describe_keys(state)} match no ResNet generator layout (expected model.1.weight [ngf, C, 7, 7], "
               f"model.10.conv_block.1.weight …)")
