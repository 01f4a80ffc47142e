"""Test wiring for the core's tests (tests/) and every plugin's own tests (plugins/<name>/tests/).

* Every Hub call goes to the project's own Hub-compatible server on 127.0.0.1. huggingface_hub freezes its
  endpoint at import, so the environment is set here, before anything imports it: a reserved local port, a
  throw-away HF_HOME, a dummy token, no telemetry, no progress bars. A stray request to the real Hub would hang
  ~23 s here; with HF_ENDPOINT on 127.0.0.1 it cannot happen.
* The toy plugins of ``tests/toyzoo`` (one per task kind) are installed for the session as the distribution
  ``toyzoo``, so the core's tests need no built-in plugin: ``GANZOO_DISABLE_PLUGINS='ganzoo-*' pytest tests``
  runs the core suite with every built-in plugin blocked (tests that exercise one skip themselves).
* Everything the session writes outside ``tmp_path`` lives under one temporary folder, removed at the end.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

from ganzoo.testing.hub_server import reserve_port  # standard library only: huggingface_hub is not imported yet

_PORT = reserve_port()
_SESSION_DIR = tempfile.mkdtemp(prefix="ganzoo-test-")
atexit.register(shutil.rmtree, _SESSION_DIR, ignore_errors=True)
_HF_HOME = os.path.join(_SESSION_DIR, "hf")
os.environ.update({
    "HF_ENDPOINT": f"http://127.0.0.1:{_PORT}",
    "HF_HOME": _HF_HOME,
    "HF_HUB_CACHE": os.path.join(_HF_HOME, "hub"),
    "HF_TOKEN": "hf_test_token_not_used",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "HF_HUB_DISABLE_XET": "1",
    "HF_HUB_ETAG_TIMEOUT": "3",
    "HF_HUB_DOWNLOAD_TIMEOUT": "5",
    "TQDM_DISABLE": "1",
    # tiny test networks: one thread is faster than two contending ones (also in the subprocesses tests start)
    "OMP_NUM_THREADS": "1",
    # weights sources (ganzoo.sources): every authors' URL is rewritten to a closed local port, so a test that
    # forgets its local server fails at once instead of reaching the internet (tests set their own mirrors)
    "GANZOO_SOURCE_MIRRORS": "http://=http://127.0.0.1:9/http/;https://=http://127.0.0.1:9/https/",
})
os.environ.pop("HF_HUB_OFFLINE", None)
os.environ.pop("GANZOO_DEBUG", None)


def _install_toyzoo() -> str:
    """A site folder holding the ``toyzoo`` dist-info (its package is tests/toyzoo), first on sys.path and
    PYTHONPATH (for the CLI subprocesses tests start)."""
    tests = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tests")
    sys.path.insert(0, tests)
    from toyzoo import ENTRY_POINTS

    site = os.path.join(_SESSION_DIR, "site")
    info = os.path.join(site, "toyzoo-0.1.0.dist-info")
    os.makedirs(info)
    with open(os.path.join(info, "METADATA"), "w") as f:
        f.write("Metadata-Version: 2.1\nName: toyzoo\nVersion: 0.1.0\n")
    with open(os.path.join(info, "entry_points.txt"), "w") as f:
        f.write("[ganzoo.plugins]\n" + "".join(f"{k} = {v}\n" for k, v in ENTRY_POINTS.items()))
    sys.path.insert(0, site)
    os.environ["PYTHONPATH"] = os.pathsep.join([site, tests] + ([os.environ["PYTHONPATH"]]
                                                                 if os.environ.get("PYTHONPATH") else []))
    return site


_TOY_SITE = _install_toyzoo()

import pytest  # noqa: E402
import torch  # noqa: E402

from ganzoo import registry  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def one_thread():
    """One intra-op thread for a module (``pytestmark = pytest.mark.usefixtures("one_thread")``): tiny
    convolutions are far slower with several threads on a shared CPU."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="session")
def hub():
    """The local Hub server, for the whole session, on the port HF_ENDPOINT names."""
    from ganzoo.testing.hub_server import LocalHub

    root = tempfile.mkdtemp(prefix="hub-", dir=_SESSION_DIR)
    server = LocalHub(root, port=_PORT).start()
    yield server
    server.stop()


@pytest.fixture
def hf_cache(tmp_path, monkeypatch):
    """A fresh, empty Hugging Face cache for one test."""
    from huggingface_hub import constants

    cache = tmp_path / "hf-cache"
    cache.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    return cache


@pytest.fixture
def offline(monkeypatch):
    """HF_HUB_OFFLINE for one test (huggingface_hub reads the constant at call time)."""
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)


@pytest.fixture(autouse=True)
def _fresh_registry():
    """Each test sees the installed plugins as they are now (tests may add fake distributions to sys.path)."""
    registry.refresh()
    yield
    registry.refresh()


@pytest.fixture
def fake_site(tmp_path, monkeypatch):
    """A folder on sys.path where tests create real (tiny) distributions with ganzoo.plugins entry points."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    before = set(sys.modules)
    yield FakeSite(site)
    for name in set(sys.modules) - before:
        if name.startswith("fake_"):
            sys.modules.pop(name, None)


class FakeSite:
    """Writes installed-distribution metadata + modules, exactly what pip leaves in site-packages."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def add(self, dist: str, version: str = "0.1.0", *, entry_points: dict[str, str],
            modules: dict[str, str] | None = None, files: dict[str, str] | None = None) -> None:
        info = self.root / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        eps = "[ganzoo.plugins]\n" + "".join(f"{k} = {v}\n" for k, v in entry_points.items())
        (info / "entry_points.txt").write_text(eps)
        for rel, text in {**(modules or {}), **(files or {})}.items():
            path = self.root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        registry.refresh()


#: A minimal, valid plugin spec module that reuses the toy GAN implementation (torch-free at import).
SPEC_TEMPLATE = '''
from ganzoo import Plugin
plugin = Plugin(name={name!r}, task="unconditional", summary="fake plugin for tests",
                paper="https://arxiv.org/abs/1406.2661", config="toyzoo.model:ToyGanConfig",
                impl="toyzoo.model:ToyGan", components=("G", "D"), inference=("G",)
                {extra})
'''


def builtin_plugin(name: str) -> None:
    """Skip the calling test when built-in plugin ``name`` is not installed or is blocked."""
    if name not in {r.name for r in registry.list_plugins()}:
        pytest.skip(f"the built-in plugin {name!r} is not installed (or GANZOO_DISABLE_PLUGINS blocks it)")


def spec_module(name: str, extra: str = "") -> str:
    return SPEC_TEMPLATE.format(name=name, extra=(", " + extra) if extra else "")
