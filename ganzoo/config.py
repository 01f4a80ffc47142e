"""Typed configs: plugin config dataclasses <-> JSON, with strict validation and ``key=value`` overrides.

A plugin's config is a plain dataclass; a field may carry ``metadata={"help": "…"}`` for ``ganzoo info``.
Everything that reaches a config from outside (config.json, ``--set``, ``ganzoo.build(**overrides)``) goes
through :func:`from_dict` or :func:`override`, which name unknown keys (with the closest valid ones),
missing keys and wrong types in a one-line :class:`~ganzoo.errors.ConfigError`.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, Literal, Mapping, Union

from .errors import ConfigError, close_matches

__all__ = ["from_dict", "to_dict", "override", "describe", "parse_value", "FieldInfo", "ImageConfig",
           "ConditionalConfig", "TranslationConfig", "PairedTranslationConfig", "DomainConfig", "AudioConfig",
           "VideoConfig"]


def _hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls)
    except Exception:  # unresolvable forward refs: fall back to the raw annotations
        return {f.name: f.type for f in dataclasses.fields(cls)}


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return " | ".join(repr(a) for a in typing.get_args(tp))
    if origin in (Union, types.UnionType):
        return " | ".join(_type_name(a) for a in typing.get_args(tp))
    if origin is not None:
        args = ", ".join("..." if a is Ellipsis else _type_name(a) for a in typing.get_args(tp))
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    if tp is type(None):
        return "None"
    return getattr(tp, "__name__", str(tp))


def _coerce(tp: Any, value: Any, where: str) -> Any:
    """Check ``value`` against the annotation ``tp``; convert lists to tuples and ints to floats where declared."""
    if tp is Any:
        return value
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (Union, types.UnionType):
        errors = []
        for arg in args:
            try:
                return _coerce(arg, value, where)
            except ConfigError as err:
                errors.append(err)
        raise ConfigError(f"{where} must be {_type_name(tp)}, got {value!r}")
    if origin is Literal:
        if value in args:
            return value
        raise ConfigError(f"{where} must be one of {', '.join(repr(a) for a in args)}, got {value!r}")
    if tp is type(None):
        if value is None:
            return None
        raise ConfigError(f"{where} must be null, got {value!r}")
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where} must be a list ({_type_name(tp)}), got {value!r}")
        if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            if len(args) != len(value):
                raise ConfigError(f"{where} must have {len(args)} items ({_type_name(tp)}), got {value!r}")
            items = [_coerce(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, value))]
        else:
            item_tp = args[0] if args else Any
            items = [_coerce(item_tp, v, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where} must be a mapping, got {value!r}")
        return dict(value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where} must be true or false, got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{where} must be an integer, got {value!r}")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"{where} must be a number, got {value!r}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{where} must be a string, got {value!r}")
    if isinstance(tp, type):
        if isinstance(value, tp):
            return value
        raise ConfigError(f"{where} must be {_type_name(tp)}, got {value!r}")
    return value


def _unknown_keys_error(cls: type, unknown: list[str], source: str) -> ConfigError:
    valid = [f.name for f in dataclasses.fields(cls)]
    parts = []
    for key in unknown:
        near = close_matches(key, valid)
        parts.append(f"'{key}'" + (f" (did you mean {', '.join(near)}?)" if near else ""))
    return ConfigError(
        f"{source}: unknown field{'s' if len(unknown) > 1 else ''} {', '.join(parts)} for {cls.__name__}; "
        f"valid fields: {', '.join(valid)}"
    )


def from_dict(cls: type, data: Mapping[str, Any], *, source: str = "config", strict: bool = True) -> Any:
    """Build a config dataclass from a dict, validating every key and value.

    Args:
        cls: the plugin's config dataclass.
        data: keys and JSON values.
        source: what to name in errors (``"config.json"``, ``"--set"``).
        strict: also refuse missing keys (config.json must be complete); otherwise defaults fill them. Fields a
            plugin added after models were saved, marked ``metadata={"added_later": True}`` (their default must
            reproduce the earlier behaviour), take their default when missing even then, so older folders load.

    Raises:
        ConfigError: unknown keys (with the valid ones), missing keys, wrong types.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: the config must be a mapping, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = [k for k in data if k not in fields]
    if unknown:
        raise _unknown_keys_error(cls, unknown, source)
    if strict:
        missing = [k for k in fields if k not in data and not fields[k].metadata.get("added_later", False)]
        if missing:
            raise ConfigError(f"{source}: missing field{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                              f"for {cls.__name__}")
    hints = _hints(cls)
    values = {k: _coerce(hints.get(k, Any), v, f"{source}: {k}") for k, v in data.items()}
    try:
        return cls(**values)
    except (TypeError, ValueError) as err:  # a __post_init__ check in the plugin's dataclass
        raise ConfigError(f"{source}: {err}") from err


def to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a config dataclass (tuples become lists)."""
    def plain(v: Any) -> Any:
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {str(k): plain(x) for k, x in v.items()}
        return v

    return {f.name: plain(getattr(config, f.name)) for f in dataclasses.fields(config) if f.init}


def parse_value(text: str) -> Any:
    """Parse the value of a ``key=value`` override as a YAML scalar/flow value (``3``, ``2e-4``, ``[1, 2]``, ``true``)."""
    import yaml

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    # YAML 1.1 reads "2e-4" as a string; accept it as a number.
    if isinstance(value, str):
        try:
            return float(value) if any(c in value for c in ".eE") else int(value)
        except ValueError:
            return value
    return value


def override(config: Any, overrides: Mapping[str, Any], *, source: str = "overrides") -> Any:
    """Return a copy of ``config`` with ``overrides`` applied and validated (``None`` values are dropped).

    ``None`` is dropped because CLI options the user did not set must not override defaults (the timm habit).
    String values are parsed with :func:`parse_value` when the field is not a string.
    """
    cls = type(config)
    fields = {f.name for f in dataclasses.fields(cls) if f.init}
    overrides = {k: v for k, v in overrides.items() if v is not None}
    unknown = [k for k in overrides if k not in fields]
    if unknown:
        raise _unknown_keys_error(cls, unknown, source)
    hints = _hints(cls)
    data = to_dict(config)
    for key, value in overrides.items():
        if isinstance(value, str) and _type_name(hints.get(key)) != "str" and "str" not in _type_name(hints.get(key)):
            value = parse_value(value)
        data[key] = value
    return from_dict(cls, data, source=source, strict=True)


@dataclasses.dataclass(frozen=True)
class FieldInfo:
    name: str
    type: str
    default: Any
    help: str


def describe(cls: type) -> list[FieldInfo]:
    """Field names, types, defaults and help texts of a config dataclass (for ``ganzoo info``)."""
    hints = _hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            default = f.default_factory()  # type: ignore[misc]
        else:
            default = "(required)"
        out.append(FieldInfo(f.name, _type_name(hints.get(f.name, f.type)), default, f.metadata.get("help", "")))
    return out


# ---------------------------------------------------------------------------------------------------------
# typed bases: the config fields the core reads, one default each
#
# A task kind names the base its plugins' configs derive from (``ganzoo.tasks``); the core reads these fields
# and no others, so a plugin's config is free to add anything. A plugin that wants another default redeclares
# the field in its own dataclass (it keeps its place in the field order); range checks live in
# ``__post_init__``, which a plugin config that defines its own must call (``super().__post_init__()``).


def _positive(config: Any, *names: str) -> None:
    for name in names:
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


@dataclasses.dataclass
class ImageConfig:
    """Images the core can read, write and measure: ``image_size`` × ``image_size`` with ``channels`` channels."""

    image_size: int = dataclasses.field(default=64, metadata={"help": "image side in pixels"})
    channels: int = dataclasses.field(default=3, metadata={"help": "image channels (1 grey, 3 RGB)"})

    def __post_init__(self) -> None:
        _positive(self, "image_size", "channels")


@dataclasses.dataclass
class ConditionalConfig(ImageConfig):
    """Class-conditional image models: labels are integers in ``[0, num_classes)``."""

    num_classes: int = dataclasses.field(default=10, metadata={"help": "number of class labels"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.label_conditioned:
            _positive(self, "num_classes")

    @property
    def label_conditioned(self) -> bool:
        """True when the condition is a class label (a plugin conditioned on attribute vectors says False)."""
        return True


@dataclasses.dataclass
class TranslationConfig:
    """Image-to-image translators: ``input_channels`` in, ``output_channels`` out, trained on ``image_size`` crops
    of images first resized to ``load_size`` (None: straight to ``image_size``), flipped at random when ``flip``."""

    image_size: int = dataclasses.field(default=256, metadata={"help": "training crop side in pixels"})
    load_size: int | None = dataclasses.field(default=None, metadata={"help": "resize to this side before cropping"})
    flip: bool = dataclasses.field(default=True, metadata={"help": "random horizontal flips in training"})
    input_channels: int = dataclasses.field(default=3, metadata={"help": "channels of the input images"})
    output_channels: int = dataclasses.field(default=3, metadata={"help": "channels of the output images"})

    def __post_init__(self) -> None:
        _positive(self, "image_size", "input_channels", "output_channels")
        if self.load_size is not None and self.load_size < self.image_size:
            raise ValueError(f"load_size ({self.load_size}) must be ≥ image_size ({self.image_size})")


@dataclasses.dataclass
class PairedTranslationConfig(TranslationConfig):
    """Translators trained on aligned pairs: ``direction`` says which half of an A|B image is the input."""

    direction: Literal["AtoB", "BtoA"] = dataclasses.field(
        default="AtoB", metadata={"help": "AtoB: the left half of each pair image is the input"})


@dataclasses.dataclass
class DomainConfig(ImageConfig):
    """One translator between ``num_domains`` image domains (one folder per domain)."""

    num_domains: int = dataclasses.field(default=5, metadata={"help": "number of domains"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.num_domains < 2:
            raise ValueError(f"num_domains must be ≥ 2, got {self.num_domains}")


@dataclasses.dataclass
class AudioConfig:
    """Mono audio at ``sample_rate``; training windows of ``segment_length`` samples."""

    sample_rate: int = dataclasses.field(default=16000, metadata={"help": "sample rate in Hz"})
    segment_length: int = dataclasses.field(default=16384, metadata={"help": "training window in samples"})

    def __post_init__(self) -> None:
        _positive(self, "sample_rate", "segment_length")


@dataclasses.dataclass
class VideoConfig(ImageConfig):
    """Clips of ``image_size``² frames: ``context_frames`` in, ``future_frames`` predicted."""

    context_frames: int = dataclasses.field(default=4, metadata={"help": "frames the model sees"})
    future_frames: int = dataclasses.field(default=4, metadata={"help": "frames the model predicts"})

    def __post_init__(self) -> None:
        super().__post_init__()
        _positive(self, "context_frames", "future_frames")
