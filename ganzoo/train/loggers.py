"""Where metrics go: JSONL and CSV always, TensorBoard when it is installed (main process only)."""

from __future__ import annotations

import csv
import json
import logging
import math
from pathlib import Path

__all__ = ["MetricLogger"]

logger = logging.getLogger(__name__)


class MetricLogger:
    """Append metrics rows to ``logs/metrics.jsonl`` and ``logs/metrics.csv`` (+ TensorBoard in ``logs/tb``)."""

    def __init__(self, folder: str | Path, *, tensorboard: bool = True, resume: bool = False) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.jsonl_path = self.folder / "metrics.jsonl"
        self.csv_path = self.folder / "metrics.csv"
        self._columns: list[str] | None = None
        if resume and self.csv_path.is_file():
            with open(self.csv_path, newline="") as f:
                header = next(csv.reader(f), None)
            self._columns = header
        elif not resume:
            for p in (self.jsonl_path, self.csv_path):
                p.unlink(missing_ok=True)
        self.tb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.tb = SummaryWriter(str(self.folder / "tb"))
            except Exception:  # tensorboard not installed (an optional extra)
                self.tb = None

    def log(self, step: int, values: dict[str, float]) -> None:
        row = {"step": step, **{k: (float(v) if isinstance(v, (int, float)) else v) for k, v in values.items()}}
        with open(self.jsonl_path, "a") as f:
            f.write(json.dumps(row, allow_nan=True) + "\n")
        if self._columns is None:
            self._columns = list(row)
            with open(self.csv_path, "w", newline="") as f:
                csv.writer(f).writerow(self._columns)
        with open(self.csv_path, "a", newline="") as f:
            csv.writer(f).writerow([row.get(c, "") for c in self._columns])
        if self.tb is not None:
            for k, v in values.items():
                if isinstance(v, (int, float)) and math.isfinite(v):
                    self.tb.add_scalar(k, v, step)

    def log_image(self, tag: str, path: Path, step: int) -> None:
        if self.tb is None:
            return
        try:
            import numpy as np
            from PIL import Image

            arr = np.asarray(Image.open(path).convert("RGB"))
            self.tb.add_image(tag, arr, step, dataformats="HWC")
        except Exception as err:  # never let a logging back-end stop training
            logger.debug("tensorboard image failed: %s", err)

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()
