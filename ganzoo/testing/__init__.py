"""Testing tools for ganzoo and for third-party plugins.

* :func:`check_plugin` — the conformance kit every plugin passes (``ganzoo.testing.check_plugin("mygan")``);
* :class:`LocalHub` — a Hub-compatible server on 127.0.0.1 to test push/pull with the real ``huggingface_hub``
  client, with :func:`configure_client` / :func:`reserve_port` to point the client at it;
* :func:`example_batch`, :func:`write_dataset` — synthetic task-shaped batches and on-disk datasets;
* :func:`tiny_model`, :func:`raises_one_line` — small helpers for plugin tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .conformance import CheckReport, PluginCheckError, check_plugin
    from .helpers import raises_one_line, tiny_model
    from .hub_server import LocalHub, configure_client, reserve_port
    from .synthetic import example_batch, write_dataset

__all__ = ["check_plugin", "CheckReport", "PluginCheckError", "LocalHub", "configure_client", "reserve_port",
           "example_batch", "write_dataset", "tiny_model", "raises_one_line"]

_LAZY = {
    "check_plugin": ".conformance", "CheckReport": ".conformance", "PluginCheckError": ".conformance",
    "LocalHub": ".hub_server", "configure_client": ".hub_server", "reserve_port": ".hub_server",
    "example_batch": ".synthetic", "write_dataset": ".synthetic",
    "tiny_model": ".helpers", "raises_one_line": ".helpers",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'ganzoo.testing' has no attribute {name!r}")
