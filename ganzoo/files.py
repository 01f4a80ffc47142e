"""File utilities every writer and reader in ganzoo shares: hashing, atomic writes, output folders, bounded reads.

* :func:`atomic_write` — temp file + fsync + ``os.replace``: an interrupted write leaves the old file intact; the
  new file gets the permissions the user's umask asks for (``0o666 & ~umask``, like ``open()``), not the ``0600``
  that ``mkstemp`` gives.
* :func:`make_output_dir` — creates an output folder and its parents (as ``mkdir -p``), with a one-line error.
* :func:`canonical_safetensors` / :func:`read_safetensors_header` — byte-stable safetensors headers, and reading a
  header (names, shapes, dtypes, metadata) without loading any tensor.
* :func:`read_json_file` — JSON from an untrusted file, with a size cap and no ``RecursionError``.

Standard library only: the data, metrics and training code import this module without the Hub transport.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import struct
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import ConfigError, UsageError, WeightsError

__all__ = [
    "sha256_file",
    "current_umask",
    "atomic_write",
    "fsync_dir",
    "make_output_dir",
    "canonical_safetensors",
    "read_safetensors_header",
    "read_json_file",
    "SAFETENSORS_ITEMSIZE",
]

#: bytes per element of each safetensors dtype
SAFETENSORS_ITEMSIZE = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2,
                        "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8}
_MAX_HEADER = 16 << 20  # a safetensors header (tensor names, shapes, metadata) far beyond any real model's
_umask_lock = threading.Lock()


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks.

    Example:
        ```python
        >>> sha256_file("model/G.safetensors")
        '3f2a…'
        ```
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def current_umask() -> int:
    """The process umask, read without changing it where the OS allows (``/proc``), else set-and-restore."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _umask_lock:  # os.umask has no read-only form: set and restore at once
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """fsync a folder so the renames inside it survive a power loss (no-op where folders cannot be opened)."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[Any]:
    """Open a temp file next to ``path``; on success fsync it and ``os.replace`` it over ``path``.

    If anything fails (or the process dies) before the replace, ``path`` keeps its old content; the temp file
    (``.<name>.<random>.tmp``) is removed on failure and left behind only by a crash. The file gets mode
    ``0o666 & ~umask``, as a plain ``open(path, "w")`` would.

    Args:
        path: the file to write.
        mode (`str`, *optional*, defaults to ``"wb"``): ``"wb"`` or ``"w"`` (UTF-8 text).

    Example:
        ```python
        >>> with atomic_write("out/config.json", "w") as f:
        ...     f.write("{}")
        ```
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with contextlib.suppress(OSError, AttributeError):  # mkstemp creates 0600: give the umask's mode
            os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, mode, **({"encoding": "utf-8"} if "b" not in mode else {})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def make_output_dir(path: str | os.PathLike[str], *, what: str = "output folder") -> Path:
    """Create ``path`` and its missing parents (as ``mkdir -p``; modes follow the umask); return it.

    Raises:
        UsageError: a part of the path is a file, or the folder cannot be created (permissions, read-only disk).
    """
    path = Path(path).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError as err:
        raise UsageError(f"Cannot create the {what} {path}: {err.filename or path} is a file") from err
    except NotADirectoryError as err:
        raise UsageError(f"Cannot create the {what} {path}: a part of that path is a file") from err
    except OSError as err:
        raise UsageError(f"Cannot create the {what} {path}: {err.strerror or err}") from err
    return path


def canonical_safetensors(blob: bytes) -> bytes:
    """Rewrite a safetensors header with sorted metadata keys, so equal weights and metadata give equal bytes.

    safetensors keeps ``__metadata__`` in a Rust HashMap whose order changes from run to run; without this a
    file's sha256 would differ for bit-identical weights. Tensor offsets are relative to the data buffer, so
    only the header changes.
    """
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    meta = header.pop("__metadata__", None)
    # tensors are already in a fixed order; only the metadata needs sorting
    ordered = ({"__metadata__": dict(sorted(meta.items()))} if meta else {}) | header
    text = json.dumps(ordered, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the header is padded to 8-byte alignment with spaces
    return struct.pack("<Q", len(text)) + text + blob[8 + n:]


def read_safetensors_header(path: str | os.PathLike[str], *, where: str | None = None
                            ) -> tuple[dict[str, tuple[str, tuple[int, ...]]], dict[str, str]]:
    """Read a safetensors file's header only: ``({tensor: (dtype, shape)}, metadata)``; no tensor is loaded.

    The header must describe a well-formed file: known dtypes, non-negative shapes whose byte counts match the
    data offsets, and offsets inside the file.

    Raises:
        WeightsError: the file is not a readable safetensors file (truncated, malformed, oversized header).
    """
    where = where or str(path)

    def bad(why: str) -> WeightsError:
        return WeightsError(f"{where} is not a readable safetensors file ({why}); refusing to load it")

    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise bad("shorter than its 8-byte header length")
            (n,) = struct.unpack("<Q", head)
            if n > min(_MAX_HEADER, size - 8):
                raise bad(f"a header of {n} bytes in a file of {size}")
            raw = f.read(n)
    except OSError as err:
        raise bad(err.strerror or str(err)) from err
    try:
        header = json.loads(raw)
    except (ValueError, RecursionError) as err:
        raise bad("its header is not valid JSON") from err
    if not isinstance(header, dict):
        raise bad("its header is not a JSON object")
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise bad("its __metadata__ is not a string map")
    data_size = size - 8 - n
    tensors: dict[str, tuple[str, tuple[int, ...]]] = {}
    for name, info in header.items():
        try:
            dtype, shape, (start, end) = info["dtype"], info["shape"], info["data_offsets"]
            ok = (dtype in SAFETENSORS_ITEMSIZE and isinstance(shape, list)
                  and all(isinstance(d, int) and d >= 0 for d in shape)
                  and isinstance(start, int) and isinstance(end, int) and 0 <= start <= end <= data_size)
        except (KeyError, TypeError, ValueError):
            ok = False
        if not ok:
            raise bad(f"tensor {name!r} has a malformed entry")
        numel = 1
        for d in shape:
            numel *= d
        if numel * SAFETENSORS_ITEMSIZE[dtype] != end - start:
            raise bad(f"tensor {name!r} declares {shape} {dtype} but spans {end - start} bytes")
        tensors[name] = (dtype, tuple(shape))
    return tensors, dict(meta)


def read_json_file(path: str | os.PathLike[str], *, max_bytes: int, where: str | None = None) -> Any:
    """Parse a JSON file that may come from anyone: at most ``max_bytes``, any nesting depth refused cleanly.

    Raises:
        ConfigError: the file is too large, not UTF-8 JSON, or nested too deeply to parse.
    """
    where = where or str(path)
    size = os.path.getsize(path)
    if size > max_bytes:
        raise ConfigError(f"{where} is {size:,} bytes, more than the {max_bytes:,} a ganzoo file may have; "
                          f"refusing to read it")
    try:
        with open(path, "rb") as f:
            return json.loads(f.read().decode("utf-8"))
    except RecursionError as err:
        raise ConfigError(f"{where} is nested too deeply to be a ganzoo file; refusing to read it") from err
    except (ValueError, UnicodeDecodeError) as err:  # json.JSONDecodeError is a ValueError
        raise ConfigError(f"{where} is not valid JSON ({err}); re-save or re-download the model") from err
