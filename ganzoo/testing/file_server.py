"""A local HTTP file server and package index for tests of weight sources (:mod:`ganzoo.sources`).

:class:`FileServer` serves bytes at paths on 127.0.0.1 (an authors' download server, a mirror) and, under
``/simple/``, a PEP 503 package index of the wheels it holds, so ``pip download`` runs against it exactly as
against PyPI (``PIP_INDEX_URL``). It can misbehave on purpose: cut a file short after announcing its full
``Content-Length``, or answer an error status. Every request is counted, so a test can assert that a cached model
makes none. :func:`make_wheel` builds a minimal valid wheel holding given files.

Standard library only.
"""

from __future__ import annotations

import hashlib
import io
import threading
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

__all__ = ["FileServer", "make_wheel", "pip_env"]


@dataclass
class _Entry:
    data: bytes
    cut: int | None = None  # send only this many bytes after announcing all of them
    status: int = 200


@dataclass
class FileServer:
    """Serve files over HTTP on 127.0.0.1 (see the module docstring). Use as a context manager or start/stop."""

    files: dict[str, _Entry] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    def add(self, path: str, data: bytes, *, cut: int | None = None, status: int = 200) -> str:
        """Serve ``data`` at ``path`` (``/a/b.pth``); ``cut``: stop after that many bytes; returns its URL."""
        self.files["/" + path.lstrip("/")] = _Entry(data, cut, status)
        return self.url(path)

    def add_wheel(self, wheel: Path | bytes, filename: str | None = None) -> str:
        """Put a wheel in the package index (``/simple/<project>/``); returns its URL."""
        data = wheel if isinstance(wheel, bytes) else Path(wheel).read_bytes()
        name = filename or Path(wheel).name  # type: ignore[arg-type]
        return self.add(f"/packages/{name}", data)

    def url(self, path: str = "") -> str:
        assert self._server is not None, "start() the server first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/{path.lstrip('/')}"

    @property
    def index_url(self) -> str:
        return self.url("simple/")

    def _index(self, project: str | None) -> bytes | None:
        wheels = {p.rsplit("/", 1)[1]: e for p, e in self.files.items() if p.startswith("/packages/")}
        norm = {n.split("-")[0].lower().replace("_", "-"): n for n in wheels}
        if project is None:
            links = "".join(f'<a href="/simple/{p}/">{p}</a>\n' for p in sorted(norm))
        else:
            want = project.lower().replace("_", "-")
            names = [n for n in wheels if n.split("-")[0].lower().replace("_", "-") == want]
            if not names:
                return None
            links = "".join(f'<a href="/packages/{n}#sha256={hashlib.sha256(wheels[n].data).hexdigest()}">{n}</a>\n'
                            for n in names)
        return f"<!DOCTYPE html><html><body>\n{links}</body></html>\n".encode()

    def start(self) -> "FileServer":
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _send(self, status: int, body: bytes, *, length: int | None = None,
                      ctype: str = "application/octet-stream", head: bool = False) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body) if length is None else length))
                if length is not None:
                    self.send_header("Connection", "close")
                self.end_headers()
                if not head:
                    self.wfile.write(body)
                    self.wfile.flush()
                if length is not None:
                    self.close_connection = True

            def do_GET(self, head: bool = False) -> None:  # noqa: N802 - http.server's naming
                path = self.path.split("?")[0].split("#")[0]
                owner.requests.append(path)
                if path.startswith("/simple"):
                    parts = [p for p in path.split("/") if p]
                    body = owner._index(parts[1] if len(parts) > 1 else None)
                    if body is None:
                        self._send(404, b"not found", ctype="text/plain", head=head)
                    else:
                        self._send(200, body, ctype="text/html", head=head)
                    return
                entry = owner.files.get(path)
                if entry is None:
                    self._send(404, b"not found", ctype="text/plain", head=head)
                elif entry.status != 200:
                    self._send(entry.status, b"error", ctype="text/plain", head=head)
                elif entry.cut is not None:
                    self._send(200, entry.data[:entry.cut], length=len(entry.data), head=head)
                else:
                    self._send(200, entry.data, head=head)

            def do_HEAD(self) -> None:  # noqa: N802
                self.do_GET(head=True)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FileServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def make_wheel(folder: str | Path, name: str, version: str, files: dict[str, bytes]) -> Path:
    """Write a minimal valid wheel ``<name>-<version>-py3-none-any.whl`` holding ``files`` (paths in the wheel)."""
    import base64

    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    members = dict(files)
    members[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    members[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: ganzoo-tests\nRoot-Is-Purelib: true\n"
                                b"Tag: py3-none-any\n")
    record = io.StringIO()
    for path, data in members.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.write(f"{path},sha256={digest},{len(data)}\n")
    record.write(f"{info}/RECORD,,\n")
    members[f"{info}/RECORD"] = record.getvalue().encode()
    out = Path(folder) / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in members.items():
            z.writestr(path, data)
    return out


def pip_env(monkeypatch: Any, index_url: str, cache_dir: str | Path) -> None:
    """Point the ``pip`` that :mod:`ganzoo.sources` runs at ``index_url`` only: no config files, no other index,
    no find-links, a private cache."""
    import os

    for key in list(os.environ):
        if key.startswith("PIP_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", index_url)
    monkeypatch.setenv("PIP_CACHE_DIR", str(cache_dir))
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    monkeypatch.setenv("PIP_DEFAULT_TIMEOUT", "10")
    monkeypatch.setenv("PIP_RETRIES", "0")
