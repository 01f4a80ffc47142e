"""Fetch the offline handwritten-digit dataset and write it as class folders.

    python scripts/fetch_digits.py --out data/digits                     # OpenCV digits (default)
    python scripts/fetch_digits.py --out data/digits-sk --source sklearn  # scikit-learn 8x8 digits

``opencv`` downloads Debian's ``opencv-doc`` package with ``apt-get download`` (no install, no dependencies),
extracts only ``examples/data/digits.png`` from it, checks its sha256, and writes

    OUT/train/<class>/<index:05d>.png   4500 images, 450 per class
    OUT/test/<class>/<index:05d>.png     500 images,  50 per class
    OUT/digits.png                      the source sheet, for loaders that want the array directly
    OUT/SOURCE.md                       provenance; written last, so its presence marks a complete run

``sklearn`` writes the same layout from ``sklearn.datasets.load_digits()`` (1797 images; 30 per class to test).
A complete OUT is left alone, so the script is safe to re-run. ``data/`` is git-ignored: never commit it.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

try:
    from ganzoo.data import digits as gd
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from ganzoo.data import digits as gd

logger = logging.getLogger("fetch_digits")

DEB_PACKAGE = "opencv-doc"
DEB_MEMBER = "./usr/share/doc/opencv-doc/examples/data/digits.png"
SEED = 0  # split seed; changing it changes the test set and every number measured on it
TEST_PER_CLASS = {"opencv": 50, "sklearn": 30}
EXPECTED = {"opencv": (4500, 500), "sklearn": (1497, 300)}  # (train, test) file counts of a complete run


def _count_pngs(folder: Path) -> int:
    return sum(1 for _ in folder.glob("*/*.png")) if folder.is_dir() else 0


def _is_complete(out: Path, source: str) -> bool:
    n_train, n_test = EXPECTED[source]
    return (
        (out / "SOURCE.md").is_file() and _count_pngs(out / "train") == n_train and _count_pngs(out / "test") == n_test
    )


def _run(cmd: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    logger.info("$ %s", " ".join(cmd))
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)


def _download_deb(workdir: Path) -> Path:
    """``apt-get download opencv-doc`` into ``workdir``; runs ``apt-get update`` once if the lists lack it."""
    result = _run(["apt-get", "download", DEB_PACKAGE], cwd=workdir)
    if result.returncode != 0:
        logger.warning("apt-get download failed (%s); running apt-get update and retrying", result.stderr.strip())
        update = _run(["apt-get", "update"])
        if update.returncode != 0:
            raise RuntimeError(f"apt-get update failed:\n{update.stderr}")
        result = _run(["apt-get", "download", DEB_PACKAGE], cwd=workdir)
        if result.returncode != 0:
            raise RuntimeError(
                f"apt-get download {DEB_PACKAGE} failed:\n{result.stderr}\n"
                "Download the .deb elsewhere and pass it with --deb PATH."
            )
    debs = sorted(workdir.glob(f"{DEB_PACKAGE}_*.deb"))
    if len(debs) != 1:
        raise RuntimeError(f"expected one {DEB_PACKAGE}_*.deb in {workdir}, found {[d.name for d in debs]}")
    return debs[0]


def _deb_version(deb: Path) -> str:
    result = _run(["dpkg-deb", "--field", str(deb), "Version"])
    if result.returncode != 0:
        raise RuntimeError(f"dpkg-deb could not read {deb}:\n{result.stderr}")
    return result.stdout.strip()


def _extract_digits_png(deb: Path, workdir: Path) -> Path:
    """``dpkg-deb --fsys-tarfile DEB | tar -x -C WORKDIR ./usr/.../digits.png``: one file, nothing installed."""
    logger.info("$ dpkg-deb --fsys-tarfile %s | tar -x -C %s %s", deb, workdir, DEB_MEMBER)
    with subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE) as dpkg:
        tar = subprocess.run(
            ["tar", "-x", "-C", str(workdir), DEB_MEMBER], stdin=dpkg.stdout, capture_output=True, text=True
        )
    if dpkg.wait() != 0 or tar.returncode != 0:
        raise RuntimeError(f"could not extract {DEB_MEMBER} from {deb}:\n{tar.stderr}")
    return workdir / DEB_MEMBER


def _source_md(source: str, *, version: str | None, sha256: str | None, n_train: int, n_test: int) -> str:
    if source == "opencv":
        origin = (
            f"- Source: `digits.png` from the Debian package `{DEB_PACKAGE}` version `{version}` "
            f"(`{DEB_MEMBER.lstrip('./')}`), fetched with `apt-get download {DEB_PACKAGE}` and extracted with "
            f"`dpkg-deb --fsys-tarfile <deb> | tar -x {DEB_MEMBER}`.\n"
            f"- sha256 of digits.png: `{sha256}` (checked against `ganzoo.data.digits.DIGITS_PNG_SHA256`).\n"
            "- Licence: OpenCV samples data; the package's `usr/share/doc/opencv-doc/copyright` covers it under "
            "`Files: *`, `License: Apache-2.0 AND BSD-3-Clause` (upstream relicensed to Apache-2.0; much of the "
            "tree remains BSD-3-Clause). Upstream does not document where the handwriting comes from.\n"
            "- Content: 5000 handwritten digits, 20x20 cells on a 50x100 grid, 500 per class in class order.\n"
        )
    else:
        import sklearn

        origin = (
            f"- Source: `sklearn.datasets.load_digits()` from scikit-learn {sklearn.__version__} "
            "(UCI optdigits; BSD-3-Clause). 1797 images of 8x8, values 0..16.\n"
            "- Preprocessing: scaled to 0..255 and resized to 20x20 with Pillow bilinear.\n"
        )
    return (
        f"# Digits dataset ({source})\n\n"
        "Written by `scripts/fetch_digits.py`; do not commit (`data/` is git-ignored).\n\n"
        f"{origin}"
        "- Layout: MNIST-style 28x28 grayscale PNG, white digit on black, each 20x20 digit centred (4 px margin).\n"
        f"- Split: stratified, `ganzoo.data.digits.split_digits(images, labels, "
        f"test_per_class={TEST_PER_CLASS[source]}, seed={SEED})`: for each class in order, a "
        f"`numpy.random.default_rng({SEED})` permutation picks the test items.\n"
        f"- Files: `train/<class>/<index:05d>.png` ({n_train}), `test/<class>/<index:05d>.png` ({n_test}); "
        "`<index>` is the position in the source (for opencv: row-major cell index in digits.png).\n"
    )


def fetch(out: Path, source: str, deb: Path | None = None) -> None:
    """Write the dataset under ``out``, unless a complete copy is already there."""
    if _is_complete(out, source):
        logger.info("%s is already complete (SOURCE.md and %d/%d PNGs); nothing to do", out, *EXPECTED[source])
        return
    version = sha256 = None
    with tempfile.TemporaryDirectory(prefix="fetch-digits-") as tmp:
        workdir = Path(tmp)
        if source == "opencv":
            deb = deb if deb is not None else _download_deb(workdir)
            version = _deb_version(deb)
            png = _extract_digits_png(deb, workdir)
            images, labels = gd.load_opencv_digits(png)  # raises ValueError on a sha256 mismatch
            sha256 = gd.DIGITS_PNG_SHA256
            out.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(png, out / "digits.png")
        else:
            images, labels = gd.load_sklearn_digits()
    # Split positions rather than images, so each file can be named by its position in the source sheet.
    positions = np.arange(len(labels))
    (itr, ytr), (ite, yte) = gd.split_digits(positions, labels, test_per_class=TEST_PER_CLASS[source], seed=SEED)
    for split in ("train", "test"):  # a previous run was interrupted: start clean so no stray files remain
        shutil.rmtree(out / split, ignore_errors=True)
    (out / "SOURCE.md").unlink(missing_ok=True)
    n_train = gd.write_class_folders(images[itr], ytr, out / "train", indices=itr)
    n_test = gd.write_class_folders(images[ite], yte, out / "test", indices=ite)
    (out / "SOURCE.md").write_text(_source_md(source, version=version, sha256=sha256, n_train=n_train, n_test=n_test))
    logger.info("wrote %d train and %d test images to %s", n_train, n_test, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("data/digits"), help="output folder (default: data/digits)")
    parser.add_argument("--source", choices=("opencv", "sklearn"), default="opencv", help="dataset (default: opencv)")
    parser.add_argument("--deb", type=Path, default=None, help="use this opencv-doc .deb instead of apt-get download")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        fetch(args.out, args.source, args.deb)
    except (RuntimeError, ValueError, FileNotFoundError) as exc:
        logger.error("error: %s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
