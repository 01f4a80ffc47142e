"""Trainer options: one dataclass, validated like plugin configs, resolvable from ``--set`` / ``--config``."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping

from ..config import from_dict, override, to_dict
from ..errors import ConfigError, close_matches

__all__ = ["TrainerOptions", "split_overrides", "SCHEDULES"]

SCHEDULES = ("constant", "linear_decay", "cosine")
_LICENSE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+\-]*( (AND|OR|WITH) [A-Za-z0-9][A-Za-z0-9.+\-]*)*$")


@dataclass
class TrainerOptions:
    """How to train (the plugin config says what to train). ``--set key=value`` reaches every field."""

    # length
    max_steps: int | None = field(default=None, metadata={
        "help": "optimisation steps (one step = d_steps D updates + one G update)"})
    epochs: float | None = field(default=None, metadata={"help": "passes over the data, instead of max_steps"})
    # batches
    batch_size: int = field(default=64, metadata={
        "help": "per process (torchrun/accelerate convention); global = batch_size × processes × grad_accum"})
    grad_accum: int = field(default=1, metadata={"help": "micro-batches per optimiser step"})
    d_steps: int = field(default=1, metadata={"help": "discriminator updates per generator update"})
    num_workers: int = field(default=0, metadata={"help": "data-loader worker processes"})
    # numerics
    seed: int = field(default=0, metadata={"help": "seeds weights, data order, augmentation and noise"})
    mixed_precision: Literal["no", "fp16", "bf16"] = field(default="no", metadata={"help": "autocast precision"})
    compile: bool = field(default=False, metadata={"help": "torch.compile every component"})
    channels_last: bool = field(default=False, metadata={"help": "channels-last memory format for 4-D networks"})
    max_grad_norm: float | None = field(default=None, metadata={"help": "clip gradients to this norm (None: off)"})
    # schedule
    lr_schedule: Literal["constant", "linear_decay", "cosine"] = field(default="constant", metadata={
        "help": "constant; linear_decay (keep lr until decay_start, then linearly to 0: pix2pix/CycleGAN); cosine"})
    decay_start: float | None = field(default=None, metadata={
        "help": "step (≥1) or fraction (<1) of the run where linear decay starts; default 0.5"})
    warmup_steps: int = field(default=0, metadata={"help": "linear warm-up steps"})
    # EMA of the generator(s)
    ema_decay: float | None = field(default=None, metadata={
        "help": "EMA decay of the inference components (e.g. 0.999); saved as <name>_ema"})
    ema_start: int = field(default=0, metadata={"help": "step from which EMA averages (copies weights before)"})
    # what people watch
    log_every: int = field(default=10, metadata={"help": "steps between metric log lines (CSV/JSONL/TensorBoard)"})
    sample_every: int = field(default=500, metadata={"help": "steps between preview grids (0: only at the end)"})
    sample_n: int = field(default=64, metadata={"help": "samples per preview grid"})
    checkpoint_every: int = field(default=1000, metadata={"help": "steps between checkpoints (0: only at the end)"})
    keep_last: int = field(default=3, metadata={"help": "checkpoints kept"})
    progress: bool = field(default=True, metadata={"help": "show a progress bar"})
    # what the card says about the data and the weights (trained weights follow their data's licence)
    dataset_license: str | None = field(default=None, metadata={
        "help": "licence of the training data (SPDX id), recorded in the card; the weights' licence follows it"})
    weights_license: str | None = field(default=None, metadata={
        "help": "licence of the trained weights (SPDX id) when it is not the data's"})

    def __post_init__(self) -> None:
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError(f"max_steps must be ≥ 1, got {self.max_steps}")
        if self.epochs is not None and self.epochs <= 0:
            raise ValueError(f"epochs must be > 0, got {self.epochs}")
        if self.max_steps is not None and self.epochs is not None:
            raise ValueError("give max_steps or epochs, not both")
        for key in ("batch_size", "grad_accum", "d_steps", "keep_last"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be ≥ 1, got {getattr(self, key)}")
        for key in ("num_workers", "log_every", "sample_every", "checkpoint_every", "warmup_steps", "ema_start"):
            if getattr(self, key) < 0:
                raise ValueError(f"{key} must be ≥ 0, got {getattr(self, key)}")
        if self.ema_decay is not None and not 0.0 < self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in (0, 1), got {self.ema_decay}")
        if self.decay_start is not None and self.decay_start <= 0:
            raise ValueError(f"decay_start must be > 0, got {self.decay_start}")
        for key in ("dataset_license", "weights_license"):
            value = getattr(self, key)
            if value is not None and not _LICENSE_RE.match(value):
                raise ValueError(f"{key} must be an SPDX licence id or expression (e.g. CC-BY-4.0, "
                                 f"'Apache-2.0 AND BSD-3-Clause'), got {value!r}")

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "trainer options") -> "TrainerOptions":
        return from_dict(cls, data, source=source, strict=False)

    def replace(self, **changes: Any) -> "TrainerOptions":
        return override(self, changes, source="trainer options")


TRAINER_KEYS = tuple(f.name for f in dataclasses.fields(TrainerOptions))


def split_overrides(pairs: Mapping[str, Any], config_cls: type, *, source: str = "--set"
                    ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Route ``key=value`` overrides to the plugin config or the trainer options.

    ``model.KEY`` and ``trainer.KEY`` force one side; a bare key goes where it exists (a key in both is
    refused as ambiguous). Unknown keys are named with the closest valid ones.
    """
    model_keys = {f.name for f in dataclasses.fields(config_cls) if f.init}
    model_over: dict[str, Any] = {}
    trainer_over: dict[str, Any] = {}
    for key, value in pairs.items():
        if key.startswith("model."):
            side, bare = "model", key[6:]
        elif key.startswith("trainer."):
            side, bare = "trainer", key[8:]
        else:
            bare = key
            in_model, in_trainer = bare in model_keys, bare in TRAINER_KEYS
            if in_model and in_trainer:
                raise ConfigError(f"{source}: '{bare}' is both a model and a trainer option; write model.{bare} or "
                                  f"trainer.{bare}")
            side = "model" if in_model else "trainer" if in_trainer else ""
        if side == "model" and bare in model_keys:
            model_over[bare] = value
        elif side == "trainer" and bare in TRAINER_KEYS:
            trainer_over[bare] = value
        else:
            valid = sorted(model_keys) + list(TRAINER_KEYS)
            near = close_matches(bare, valid)
            hint = f" Did you mean {', '.join(near)}?" if near else ""
            raise ConfigError(f"{source}: unknown option '{key}'.{hint} Model options ({config_cls.__name__}): "
                              f"{', '.join(sorted(model_keys))}; trainer options: {', '.join(TRAINER_KEYS)}")
    return model_over, trainer_over
