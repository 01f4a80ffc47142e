"""The plugin contract: a declarative :class:`Plugin` spec and the task kinds.

A plugin is a distribution that declares an entry point in the group ``ganzoo.plugins``::

    [project.entry-points."ganzoo.plugins"]
    cyclegan = "ganzoo_cyclegan:plugin"

pointing at a :class:`Plugin` object in a module that imports no torch, so that ``ganzoo list`` stays
instant. The heavy code (networks, losses, sampling) is named by dotted path (``"module:attr"``) and only
imported on first use. The spec is validated when it is created, so a broken plugin is reported at
discovery, not on first use.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from .errors import PluginLoadError, PluginValidationError
from .tasks import TASKS, Task

__all__ = ["Plugin", "Task", "TASKS", "PLUGIN_NAME_RE", "TAG_RE", "import_object"]  # Task, TASKS: from .tasks

#: Plugin ids: lower-case, no hyphen and no dot, so ``<plugin>-<tag>`` splits unambiguously at the first hyphen.
PLUGIN_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
#: Tags of pretrained models (the part after the first hyphen).
TAG_RE = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")
_DOTTED_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
_COMPONENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def import_object(path: str, *, plugin: str = "?") -> Any:
    """Import ``"package.module:attr.sub"`` and return the object.

    Raises:
        PluginLoadError: the module or attribute cannot be imported.
    """
    module_name, _, attr = path.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as err:  # any failure inside a plugin's module is the plugin's failure
        raise PluginLoadError(plugin, f"importing {module_name} raised {type(err).__name__}: {err}") from err
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as err:
            raise PluginLoadError(plugin, f"{module_name} has no attribute {attr!r}") from err
    return obj


@dataclass(frozen=True)
class Plugin:
    """The declarative description of one GAN variant.

    Args:
        name (`str`): plugin id, ``[a-z][a-z0-9_]*`` (no hyphen, no dot).
        task (`str`): one of :data:`ganzoo.tasks.TASKS`; decides the data layout, what ``sample(condition=…)``
            takes, the writers and the default metrics, and the typed config base the config must derive from.
        summary (`str`): one line for ``ganzoo list``.
        paper (`str`): URL of the paper the implementation follows.
        config (`str`): ``"module:Class"`` of the config dataclass (architecture + loss hyper-parameters), derived
            from the task's base in :mod:`ganzoo.config` (``ImageConfig``, ``TranslationConfig`` …).
        impl (`str`): ``"module:Class"`` of the implementation, a :class:`ganzoo.GanImpl` subclass (build, losses,
            sample and optional hooks, checked by :func:`ganzoo.impl.validate_impl`).
        components (`tuple[str, ...]`): names of the networks, one safetensors file each (``("G", "D")``).
        inference (`tuple[str, ...]`, *optional*): the components ``load()`` fetches; default: the first one.
        default_tag (`str`, *optional*): the tag ``load("<plugin>")`` means.
        tiny_config (`dict`, *optional*): config overrides for a tiny model, used by tests and ``check_plugin``.
        cards (`str`, *optional*): ``"package:folder"`` holding cards the plugin ships (one folder per model id).
        description (`str`, *optional*): a paragraph for ``ganzoo info``.
        license (`str`, *optional*): licence of the code (SPDX id).

    Raises:
        PluginValidationError: a field breaks the contract (the message names the field).

    Example:
        ```python
        plugin = Plugin(name="dcgan", task="unconditional", summary="Deep convolutional GAN",
                        paper="https://arxiv.org/abs/1511.06434",
                        config="ganzoo_dcgan.model:DCGANConfig", impl="ganzoo_dcgan.model:DCGAN",
                        components=("G", "D"), inference=("G",), default_tag="digits",
                        tiny_config={"ngf": 8, "ndf": 8, "image_size": 16})
        ```
    """

    name: str
    task: str
    summary: str
    paper: str
    config: str
    impl: str
    components: tuple[str, ...]
    inference: tuple[str, ...] = ()
    default_tag: str | None = None
    tiny_config: Mapping[str, Any] = field(default_factory=dict)
    cards: str | None = None
    description: str = ""
    license: str | None = None

    def __post_init__(self) -> None:
        # Normalise sequences given as lists so the spec stays hashable and immutable.
        object.__setattr__(self, "components", tuple(self.components))
        object.__setattr__(self, "inference", tuple(self.inference) or tuple(self.components[:1]))
        object.__setattr__(self, "tiny_config", MappingProxyType(dict(self.tiny_config)))
        self.validate()

    def validate(self) -> None:
        """Check every field against the contract; raise :class:`PluginValidationError` naming the field."""
        name = self.name if isinstance(self.name, str) else repr(self.name)

        def fail(msg: str) -> None:
            raise PluginValidationError(name, msg)

        if not isinstance(self.name, str) or not PLUGIN_NAME_RE.match(self.name):
            fail("name must match [a-z][a-z0-9_]* (no hyphen, no dot)")
        if self.task not in TASKS:
            fail(f"task {self.task!r} is not one of {', '.join(TASKS)}")
        for key in ("summary", "paper"):
            if not isinstance(getattr(self, key), str) or not getattr(self, key).strip():
                fail(f"{key} must be a non-empty string")
        for key in ("config", "impl"):
            value = getattr(self, key)
            if not isinstance(value, str) or not _DOTTED_RE.match(value):
                fail(f"{key} must be a dotted path 'package.module:Attribute', got {value!r}")
        if self.cards is not None and (not isinstance(self.cards, str) or not _DOTTED_RE.match(self.cards)):
            fail(f"cards must be 'package:folder', got {self.cards!r}")
        if not self.components:
            fail("components must name at least one network")
        for comp in self.components:
            if not isinstance(comp, str) or not _COMPONENT_RE.match(comp):
                fail(f"component name {comp!r} must be an identifier")
        if len(set(self.components)) != len(self.components):
            fail("components has duplicates")
        extra = [c for c in self.inference if c not in self.components]
        if extra:
            fail(f"inference names {extra} that are not in components {list(self.components)}")
        if self.default_tag is not None and (not isinstance(self.default_tag, str) or not TAG_RE.match(self.default_tag)):
            fail(f"default_tag {self.default_tag!r} must match {TAG_RE.pattern}")
        if not all(isinstance(k, str) for k in self.tiny_config):
            fail("tiny_config keys must be strings")

    # -- lazy access to the heavy parts ------------------------------------------------------------------

    @property
    def modality(self) -> str:
        """``"image"``, ``"audio"`` or ``"video"``: the form of this plugin's samples."""
        return TASKS[self.task].modality

    def load_config_class(self) -> type:
        """Import and return the config dataclass (imports the plugin's model module, i.e. torch).

        Raises:
            PluginLoadError: the module cannot be imported.
            PluginValidationError: it is not a dataclass, or does not derive from the task's config base.
        """
        import dataclasses

        cls = import_object(self.config, plugin=self.name)
        if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
            raise PluginValidationError(self.name, f"config {self.config} is not a dataclass")
        TASKS[self.task].check_config_class(self.name, cls)
        return cls

    def load_impl(self) -> Any:
        """Import the implementation, validate it against the contract and return an instance of it.

        The instance gets this spec as ``impl.plugin`` (see :meth:`ganzoo.GanImpl.new_model`).

        Raises:
            PluginLoadError: the module cannot be imported.
            PluginValidationError: the class breaks the contract (:func:`ganzoo.impl.validate_impl`).
        """
        from .impl import validate_impl

        obj = import_object(self.impl, plugin=self.name)
        cls = obj if isinstance(obj, type) else type(obj)
        validate_impl(self.name, cls)
        instance = obj() if isinstance(obj, type) else obj
        # the implementation learns which spec it serves (one implementation may back several plugins)
        instance.plugin = self
        return instance
