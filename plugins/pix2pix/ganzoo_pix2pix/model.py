"""pix2pix — Isola, Zhu, Zhou & Efros, "Image-to-Image Translation with Conditional Adversarial Networks",
CVPR 2017 (arXiv 1611.07004), as in the authors' PyTorch code (junyanz/pytorch-CycleGAN-and-pix2pix, BSD-2-Clause;
facts in ``notes/reference-cyclegan-pix2pix.md``, implemented here from those facts and the paper).

Code names → paper names:

* ``G`` — the generator G: a U-Net (:class:`ganzoo.nn.UnetGenerator`, ``num_downs=8`` = the paper's 256² U-Net,
  ``unet_256``; 7 = ``unet_128``), batch norm, dropout 0.5 in the innermost decoder layers — the paper's only noise
  source ("we provide noise only in the form of dropout").
* ``D`` — the conditional discriminator D(x, y): a 70×70 PatchGAN (:class:`ganzoo.nn.NLayerDiscriminator`,
  ``n_layers_D=3``) on ``cat(x, y)`` — input and output stacked on the channel axis — with batch norm.
  ``netD="pixel"`` is the 1×1 PixelGAN of §4.4.
* ``A`` / ``B`` — the dataset's two halves; ``direction`` says which is the input x (``AtoB``: A; ``BtoA``: B).
  Batches reaching the losses are always ``{"A": input x, "B": target y}`` (the aligned dataset swaps halves).

Objective (eq. 4): G* = arg min_G max_D L_cGAN(G, D) + λ L_L1(G), λ = ``lambda_L1`` = 100; L_cGAN is the
vanilla GAN loss (binary cross-entropy on logits, ``gan_mode="vanilla"``), G uses the non-saturating form.
As in the original code, D's objective is **halved** ("we divide the objective by 2 while optimizing D, which
slows down the rate at which D learns relative to G"). Update order per iteration: D step, then G step, both on
the same generated image (see :meth:`Pix2Pix.discriminator_loss`). Adam, lr 2e-4, β = (0.5, 0.999); batch 1;
weights ~ N(0, 0.02); images resized to 286² (``load_size``), randomly cropped to 256² (``image_size``) and
flipped; 200 epochs, the last 100 with linear decay to 0 (``train_defaults``; see its comment for steps vs
epochs).

Test time: the original ``test.py`` runs G in train mode unless ``--eval`` is given (batch-norm statistics of the
test image, dropout on). ``inference_mode="paper"`` (the default) reproduces that per image, leaving the model's
running statistics untouched; ``"eval"`` is the deterministic ``--eval`` variant. ``sample(mode=…)`` overrides it.
"""

from __future__ import annotations

import contextlib
import logging
import zipfile
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Iterator, Literal

import torch
import torch.nn.functional as F

from ganzoo.convert import Converted, apply_aliases, describe_keys, describe_non_generator, original_name, tag_from_name
from ganzoo.errors import ConfigError, UsageError, WeightsError
from ganzoo.config import PairedTranslationConfig
from ganzoo.impl import GanImpl
from ganzoo.model import GanModel
from ganzoo.nn import (
    NLayerDiscriminator,
    PixelDiscriminator,
    UnetGenerator,
    check_layout,
    clean_norm_state,
    frozen_norm_stats,
    gan_loss,
    infer_resnet_config,
    infer_unet_config,
    init_weights,
    patchgan_min_side,
)
from ganzoo.translate import SizeRule, check_image_batch, fit, run_translator, unfit

from .published import card_content, published_by_name

__all__ = ["Pix2PixConfig", "Pix2Pix", "build_generator", "build_discriminator"]

logger = logging.getLogger(__name__)


@dataclass
class Pix2PixConfig(PairedTranslationConfig):
    """pix2pix hyper-parameters; the defaults are the paper's / the original code's (256² RGB, facades-style)."""

    # data (read by ganzoo.data.dataset_for_task for aligned A|B images)
    image_size: int = field(default=256, metadata={"help": "training crop side and test-time resize target; a multiple of 2**num_downs"})
    load_size: int | None = field(default=286, metadata={"help": "training images are resized to this before the random crop (None: no jitter)"})
    flip: bool = field(default=True, metadata={"help": "random horizontal flip while training (both halves alike)"})
    direction: Literal["AtoB", "BtoA"] = field(default="AtoB", metadata={"help": "which half of the A|B images is the input"})
    input_channels: int = field(default=3, metadata={"help": "channels of G's input (x)"})
    output_channels: int = field(default=3, metadata={"help": "channels of G's output (y)"})
    # generator (unet_256: num_downs=8; unet_128: 7)
    ngf: int = field(default=64, metadata={"help": "G width: filters of its first layer"})
    num_downs: int = field(default=8, metadata={"help": "U-Net halvings: 8 = unet_256, 7 = unet_128 (≥ 5)"})
    norm: Literal["batch", "instance", "none"] = field(default="batch", metadata={"help": "norm layers of G and D"})
    use_dropout: bool = field(default=True, metadata={"help": "dropout 0.5 in the innermost decoder layers (the paper's noise)"})
    norm_affine: bool = field(default=False, metadata={"added_later": True, "help": "instance norm with learnt scale and shift (some checkpoints have it)"})
    conv_bias: bool | None = field(default=None, metadata={"added_later": True, "help": "a bias on the convolutions (null: the original's rule, only under instance norm)"})
    # discriminator
    netD: Literal["patch", "pixel"] = field(default="patch", metadata={"help": "patch: N-layer PatchGAN; pixel: 1×1 PixelGAN"})
    ndf: int = field(default=64, metadata={"help": "D width: filters of its first layer"})
    n_layers_D: int = field(default=3, metadata={"help": "PatchGAN depth: 3 → 70×70 patches (1 → 16×16, 4 → 142×142)"})
    # objective
    gan_mode: Literal["vanilla", "lsgan"] = field(default="vanilla", metadata={"help": "adversarial loss: vanilla (paper) or lsgan"})
    lambda_L1: float = field(default=100.0, metadata={"help": "weight λ of the L1 term (the paper's 100)"})
    # optimisation (the paper's: Adam 2e-4, beta1 0.5; init N(0, 0.02))
    lr: float = field(default=2e-4, metadata={"help": "Adam learning rate for G and D"})
    beta1: float = field(default=0.5, metadata={"help": "Adam beta1"})
    beta2: float = field(default=0.999, metadata={"help": "Adam beta2"})
    init_gain: float = field(default=0.02, metadata={"help": "std of the N(0, σ) weight init"})
    # test time
    inference_mode: Literal["paper", "eval"] = field(default="paper", metadata={"help": "paper: per-image batch-norm statistics + live dropout, as the original test.py; eval: running statistics, no dropout"})
    size_policy: Literal["resize", "pad"] = field(default="resize", metadata={"help": "any-size inputs: resize to image_size² and back (original test.py), or reflection-pad to multiples of 2**num_downs and crop"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.num_downs < 5:
            raise ValueError(f"num_downs must be ≥ 5, got {self.num_downs}")
        stride = 2 ** self.num_downs
        if self.image_size < stride or self.image_size % stride:
            raise ValueError(f"image_size must be a multiple of 2**num_downs = {stride}, got {self.image_size}")
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
        if self.lambda_L1 < 0:
            raise ValueError(f"lambda_L1 must be ≥ 0, got {self.lambda_L1}")


def build_generator(cfg: Pix2PixConfig) -> UnetGenerator:
    """The U-Net G for ``cfg`` (fresh, not initialised)."""
    return UnetGenerator(cfg.input_channels, cfg.output_channels, cfg.num_downs, cfg.ngf, cfg.norm, cfg.use_dropout,
                         norm_affine=cfg.norm_affine, conv_bias=cfg.conv_bias)


def build_discriminator(cfg: Pix2PixConfig) -> torch.nn.Module:
    """The conditional D for ``cfg``: it sees ``cat(x, y)`` (input + output channels)."""
    channels = cfg.input_channels + cfg.output_channels
    if cfg.netD == "pixel":
        return PixelDiscriminator(channels, cfg.ndf, cfg.norm)
    return NLayerDiscriminator(channels, cfg.ndf, cfg.n_layers_D, cfg.norm, norm_affine=cfg.norm_affine)


# -- the dropout mask of the D step, replayed in the G step -------------------------------------------------


def _rng_snapshot(device: torch.device) -> dict[str, Any]:
    state: dict[str, Any] = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


@contextlib.contextmanager
def _replayed_rng(state: dict[str, Any] | None, device: torch.device) -> Iterator[None]:
    """Run the block with the RNG state of the D step's generator pass (the global state is restored after)."""
    if state is None:
        yield
        return
    devices = [device] if device.type == "cuda" and "cuda" in state else []
    with torch.random.fork_rng(devices=devices):
        torch.set_rng_state(state["cpu"])
        if devices:
            torch.cuda.set_rng_state(state["cuda"], device)
        yield


class Pix2Pix(GanImpl):
    """build / losses / sample / convert for pix2pix (components ``G`` and ``D``)."""

    #: The paper's schedule: batch 1; lr constant for the first half, then linear decay to 0 (100 + 100 epochs).
    #: The trainer counts optimisation steps, the original counts epochs: with ``--epochs 200`` the decay starts
    #: after 100 epochs' worth of steps (``decay_start: 0.5`` is a fraction of the run) and decreases every step
    #: instead of once per epoch — the same ramp without the 100-step staircase (the mean lr over the decay phase
    #: differs by under 1%).
    train_defaults: dict[str, Any] = {"batch_size": 1, "lr_schedule": "linear_decay", "decay_start": 0.5}

    def build(self, config: Pix2PixConfig) -> GanModel:
        g, d = build_generator(config), build_discriminator(config)
        init_weights(g, "normal", config.init_gain)
        init_weights(d, "normal", config.init_gain)
        return self.new_model(config, {"G": g, "D": d})

    # -- training -------------------------------------------------------------------------------------------

    def _log_d(self, logits: torch.Tensor, mode: str) -> torch.Tensor:
        x = logits.detach().float()
        return torch.sigmoid(x).mean() if mode == "vanilla" else x.mean()

    def discriminator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        """D step with G fixed: (x, y) → real, (x, G(x)) → fake, each term halved (the original's ½ on D).

        The generator pass runs without touching batch-norm running statistics and records the RNG state that
        drew its dropout mask; the G step replays it, so both updates see the same G(x) — the single forward
        pass of the original iteration — and the running statistics advance once per step.
        """
        x, y = batch["A"], batch["B"]
        mode = model.config.gan_mode
        with torch.no_grad(), frozen_norm_stats(model.G):
            batch["_g_rng"] = _rng_snapshot(x.device)
            fake = model.G(x)
        pred_fake = model.D(torch.cat([x, fake], 1))
        pred_real = model.D(torch.cat([x, y], 1))
        return {
            "d_fake": 0.5 * gan_loss(pred_fake, False, mode),
            "d_real": 0.5 * gan_loss(pred_real, True, mode),
            "D(x,y)": self._log_d(pred_real, mode),
            "D(x,G(x))": self._log_d(pred_fake, mode),
        }

    def generator_loss(self, model: GanModel, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        """G step with D fixed: fool D on (x, G(x)) + λ·L1(G(x), y)."""
        x, y = batch["A"], batch["B"]
        with _replayed_rng(batch.pop("_g_rng", None), x.device):
            fake = model.G(x)
        pred_fake = model.D(torch.cat([x, fake], 1))
        return {
            "g_gan": gan_loss(pred_fake, True, model.config.gan_mode, for_discriminator=False),
            "g_l1": model.config.lambda_L1 * F.l1_loss(fake, y),
        }

    # -- sampling ---------------------------------------------------------------------------------------------

    def size_rule(self, model: GanModel) -> SizeRule:
        """Resize to ``image_size``² (default, the original's test preprocessing) or pad to ``2**num_downs``."""
        return self.size_rule_for(model.config)

    def input_channels(self, model: GanModel, **kwargs: Any) -> int:
        return int(model.config.input_channels)

    def sample(self, model: GanModel, n: int | None = None, *, condition: Any = None, seed: int | None = None,
               direction: str | None = None, mode: str | None = None, batch_size: int = 16) -> torch.Tensor:
        """Translate ``condition`` (N, C_in, H, W) in [-1, 1], any size → (N, C_out, H, W) in [-1, 1].

        Args:
            n: must equal N when given.
            condition: the input images x.
            seed: fixes the dropout of ``"paper"`` mode.
            direction: only checked: a pix2pix model translates the one way it was trained (``config.direction``).
            mode: ``"paper"`` / ``"eval"``; default ``config.inference_mode``.
            batch_size: images per forward pass (``"paper"`` mode with batch norm goes one image at a time).

        Raises:
            UsageError: no or malformed ``condition``, a ``direction`` other than the model's.
            DataError: an image too small for the ``"pad"`` policy.
        """
        cfg = model.config
        name = model.name or "pix2pix"
        if condition is None:
            raise UsageError(f"{name} translates images: pass condition=<images (N, {cfg.input_channels}, H, W) in "
                             f"[-1, 1]> (CLI: --input FILE|DIR)")
        if direction is not None and direction != cfg.direction:
            raise UsageError(f"{name} translates one way only: it was trained {cfg.direction} (the A|B images' "
                             f"{'A' if cfg.direction == 'AtoB' else 'B'} half is its input); drop direction={direction!r}")
        x = check_image_batch(condition, cfg.input_channels, name=name)
        if n is not None and n != x.shape[0]:
            raise UsageError(f"n={n} but condition holds {x.shape[0]} images; drop n for translation")
        rule = self.size_rule(model)
        xf, size = fit(x.to(model.device), rule, name=name)
        y = run_translator(model.G, xf, mode=mode or cfg.inference_mode, seed=seed, batch_size=batch_size)
        return unfit(y, rule, size)

    # -- converting the original checkpoints --------------------------------------------------------------------

    def convert(self, state_dict: dict[str, torch.Tensor], *, source: str, direction: str | None = None,
                **options: Any) -> Converted:
        """Convert an original pix2pix generator (``latest_net_G.pth`` / ``<name>.pth``) into component ``G``.

        The U-Net's depth, width, channels and norm are read from the keys and shapes (dropout is not visible in
        the keys; pix2pix trains with it, ``--set use_dropout=false`` says otherwise). ``options`` may set other
        config fields (``inference_mode``, ``size_policy``, ``image_size``, ``load_size``).

        Raises:
            WeightsError: the file is not a U-Net generator (a CycleGAN ResNet, a discriminator, another network),
                or does not fit the layout its keys suggest.
            UsageError: an unknown option.
        """
        where = Path(source).name
        state_dict, aliased = apply_aliases(state_dict, KEY_ALIASES)
        unet = infer_unet_config(state_dict)
        if unet is None:
            raise WeightsError(f"{where} is not a pix2pix U-Net generator: {_what_is(state_dict)}")
        published = published_by_name(original_name(source))
        valid = {f.name for f in fields(Pix2PixConfig)}
        unknown = sorted(k for k in options if k not in valid)
        if unknown:
            raise UsageError(f"unknown converter option(s) {', '.join(unknown)}; pix2pix accepts --direction and "
                             f"--set for {', '.join(sorted(valid))}")
        detected = {"input_channels": unet["input_nc"], "output_channels": unet["output_nc"], "ngf": unet["ngf"],
                    "num_downs": unet["num_downs"], "norm": unet["norm"], "norm_affine": unet["norm_affine"],
                    "conv_bias": unet["conv_bias"]}
        overridden = {k: options[k] for k in detected if k in options and options[k] != detected[k]}
        size = 2 ** int(options.get("num_downs", unet["num_downs"]))
        base = {"image_size": size, "load_size": size + size * 30 // 256,
                "direction": direction or (published.direction if published else "AtoB")}
        try:
            cfg = Pix2PixConfig(**{**base, **detected, **options})
        except (TypeError, ValueError) as err:
            raise ConfigError(f"{where}: {err}") from err
        with torch.device("meta"):
            g = build_generator(cfg)
        state, dropped = clean_norm_state(state_dict, g)
        problem = check_layout(state, g)
        if problem:
            hint = (f" (--set {', '.join(f'{k}={v}' for k, v in overridden.items())} overrode what the file says)"
                    if overridden else "")
            raise WeightsError(f"{where} looks like a U-Net generator ({_unet_words(unet)}) but does not fit that "
                               f"layout{hint}: {problem}")
        serial = "zip (PyTorch ≥ 1.6)" if zipfile.is_zipfile(source) else "legacy (pre-1.6 pickle)"
        provenance = {"original_name": published.name if published else original_name(source),
                      "layout": _unet_words(unet), "tensors": len(state_dict), "serialization": serial,
                      "dropped_keys": len(dropped)}
        if aliased:
            provenance["aliases"] = aliased
        if overridden:
            provenance["overrides"] = {k: f"{v} (read from the file: {detected[k]})" for k, v in overridden.items()}
        if published is not None:
            content = card_content(published, image_size=cfg.image_size)
            provenance.update({k: v for k, v in content["converted_from"].items() if k != "expected"})
            block = {k: v for k, v in content["block"].items() if k != "parameters"}  # the core counts them
            notes = content["notes"]
            tag = published.tag
            if direction is not None and direction != published.direction:
                logger.warning("%s was published as %s; converting with direction %s as asked", published.name,
                               published.direction, direction)
        else:
            block = {"direction": cfg.direction, "inference_mode": cfg.inference_mode,
                     "input": self.size_rule_for(cfg).to_dict()}
            notes = (f"Converted from an original pix2pix checkpoint ({_unet_words(unet)}). Test-time mode: "
                     f"`{cfg.inference_mode}` (paper = the original test.py without --eval: per-image batch-norm "
                     f"statistics and live dropout; eval = running statistics, no dropout). Input sizes: "
                     f"{self.size_rule_for(cfg).describe()}.")
            tag = tag_from_name(original_name(source))
        if published is not None and (cfg.inference_mode, cfg.size_policy) != ("paper", "resize"):
            rule = self.size_rule_for(cfg)
            block["inference_mode"] = cfg.inference_mode
            block["input"] = {**rule.to_dict(), "channels": cfg.input_channels, "rule": rule.describe()}
            notes += (f"\n**This folder was converted with `inference_mode: {cfg.inference_mode}` and "
                      f"`size_policy: {cfg.size_policy}`**, which override the defaults described above.\n")
        return Converted(config=cfg, weights={"G": state}, tag=tag, provenance=provenance, card=block, notes=notes)

    def size_rule_for(self, cfg: Pix2PixConfig) -> SizeRule:
        """The size rule of a config (see :meth:`size_rule`)."""
        stride = 2 ** cfg.num_downs
        return SizeRule("resize", stride, size=cfg.image_size) if cfg.size_policy == "resize" else SizeRule("pad", stride)


# -- helpers for the converter ------------------------------------------------------------------------------


#: Other code bases' names for the same layers (whole key segments; the original never uses them), renamed before
#: the layout is read; ``--rename OLD=NEW`` adds more.
KEY_ALIASES: dict[str, str] = {"main": "model", "net": "model", "layers": "model", "block": "model",
                               "submodule": "model"}


def _unet_words(unet: dict[str, Any]) -> str:
    name = {8: "unet_256", 7: "unet_128"}.get(unet["num_downs"], f"U-Net with {unet['num_downs']} halvings")
    affine = " (affine)" if unet.get("norm_affine") else ""
    bias = {True: ", conv biases", False: ", no conv biases"}.get(unet.get("conv_bias"), "")  # type: ignore[arg-type]
    return (f"{name}, ngf={unet['ngf']}, {unet['norm']} norm{affine}{bias}, "
            f"{unet['input_nc']}→{unet['output_nc']} channels")


def _what_is(state: dict[str, torch.Tensor]) -> str:
    res = infer_resnet_config(state)
    if res is not None:
        return (f"it is a ResNet generator with {res['n_blocks']} residual blocks ({res['norm']} norm) — the CycleGAN "
                f"architecture. Convert it with `ganzoo convert cyclegan …` (sat2map, map2sat and facades_label2photo "
                f"are published both as CycleGAN and as pix2pix models under the same names)")
    return (describe_non_generator(state, generator_files="the generator file (latest_net_G.pth)")
            or f"{describe_keys(state)} match no U-Net layout (expected model.model.0.weight [ngf, C, 4, 4] … "
               f"model.model.3.bias)")

