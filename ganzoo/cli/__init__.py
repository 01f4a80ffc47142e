"""The ``ganzoo`` command line: a thin click shell over the library.

The group and its error handling live in :mod:`ganzoo.cli.main`; each command in its own module, imported on
first use (``list``/``info``/``doctor``/``new-plugin``: :mod:`~ganzoo.cli.listing`, ``sample``:
:mod:`~ganzoo.cli.sampling`, ``train``: :mod:`~ganzoo.cli.training`, ``eval``: :mod:`~ganzoo.cli.evaluate`,
``convert``: :mod:`~ganzoo.cli.convert`, ``export``: :mod:`~ganzoo.cli.export`, ``push``/``pull``:
:mod:`~ganzoo.cli.hubcmds`). Torch is imported inside the commands that need it, so ``ganzoo list`` and
``ganzoo --help`` stay instant.
"""

from __future__ import annotations

from .main import cli, main

__all__ = ["cli", "main"]

if __name__ == "__main__":  # pragma: no cover - `python -m ganzoo.cli` runs __main__.py
    main()
