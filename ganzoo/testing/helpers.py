"""Small helpers for plugin tests (the built-in plugins' tests use them; third parties may too)."""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["tiny_model", "raises_one_line"]


def tiny_model(name: str, *, seed: int = 0, **overrides: Any) -> Any:
    """A freshly built model of plugin ``name`` from its spec's ``tiny_config`` plus ``overrides`` (seeded)."""
    import ganzoo
    from ganzoo import registry

    spec = registry.get_plugin(name)
    return ganzoo.build(name, seed=seed, **{**dict(spec.tiny_config), **overrides})


def raises_one_line(error: type[BaseException], fn: Callable[..., Any], *args: Any, match: str, **kwargs: Any) -> str:
    """Assert that ``fn(*args, **kwargs)`` raises ``error`` with a one-line message matching ``match``; return it."""
    import re

    try:
        fn(*args, **kwargs)
    except error as err:
        msg = str(err)
        assert re.search(match, msg), f"{msg!r} does not match {match!r}"
        assert "\n" not in msg and len(msg) < 300, f"not a one-line message: {msg!r}"
        return msg
    raise AssertionError(f"{getattr(fn, '__name__', fn)} did not raise {error.__name__}")
