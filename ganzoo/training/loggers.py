"""Where metrics go: JSONL and CSV always, TensorBoard when it is installed (main process only)."""

from __future__ import annotations

import csv
import json
import logging
import math
from pathlib import Path
from typing import Any

__all__ = ["MetricLogger", "LossAverager"]

logger = logging.getLogger(__name__)


class MetricLogger:
    """Append metrics rows to ``logs/metrics.jsonl`` and ``logs/metrics.csv`` (+ TensorBoard in ``logs/tb``).

    Args:
        folder: the ``logs/`` folder (created).
        tensorboard: also write TensorBoard events when ``tensorboard`` is installed.
        resume_step: continue a run resumed at this step: rows logged after it (by the interrupted run, past
            its last checkpoint) are dropped from the files and purged from TensorBoard, so every step appears
            once. ``None``: a new run (existing files are replaced).

    The JSONL file is the record; the CSV is rewritten with a wider header when a new column appears.
    """

    def __init__(self, folder: str | Path, *, tensorboard: bool = True, resume_step: int | None = None) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.jsonl_path = self.folder / "metrics.jsonl"
        self.csv_path = self.folder / "metrics.csv"
        self._columns: list[str] = []
        rows: list[dict[str, Any]] = []
        if resume_step is not None and self.jsonl_path.is_file():
            for line in self.jsonl_path.read_text().splitlines():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:  # a line cut short by the crash that ended the previous run
                    continue
                if isinstance(row, dict) and int(row.get("step", 0)) <= resume_step:
                    rows.append(row)
        with open(self.jsonl_path, "w") as f:
            for row in rows:
                f.write(json.dumps(row, allow_nan=True) + "\n")
        for row in rows:
            self._columns += [k for k in row if k not in self._columns]
        self._rewrite_csv(rows)
        # kept open (a row is a few writes, not a few opens), flushed after each row
        self._jsonl = open(self.jsonl_path, "a")
        self._csv = open(self.csv_path, "a", newline="")
        self.tb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                # purge_step drops events at or after it: what the interrupted run logged past its checkpoint
                purge = resume_step + 1 if resume_step is not None else None
                self.tb = SummaryWriter(str(self.folder / "tb"), purge_step=purge)
            except Exception:  # tensorboard not installed (an optional extra)
                self.tb = None

    def _rewrite_csv(self, rows: list[dict[str, Any]]) -> None:
        with open(self.csv_path, "w", newline="") as f:
            writer = csv.writer(f)
            if self._columns:
                writer.writerow(self._columns)
                for row in rows:
                    writer.writerow([row.get(c, "") for c in self._columns])

    def log(self, step: int, values: dict[str, Any]) -> None:
        """Append one row (``step`` plus ``values``) to every back-end."""
        row = {"step": step, **{k: (float(v) if isinstance(v, (int, float)) else v) for k, v in values.items()}}
        self._jsonl.write(json.dumps(row, allow_nan=True) + "\n")
        self._jsonl.flush()
        new = [k for k in row if k not in self._columns]
        if new:  # a column appears: rewrite the CSV from the JSONL record with the wider header
            self._columns += new
            self._csv.close()
            rows = [json.loads(line) for line in self.jsonl_path.read_text().splitlines() if line.strip()]
            self._rewrite_csv(rows)
            self._csv = open(self.csv_path, "a", newline="")
        else:
            csv.writer(self._csv).writerow([row.get(c, "") for c in self._columns])
            self._csv.flush()
        if self.tb is not None:
            for k, v in values.items():
                if isinstance(v, (int, float)) and math.isfinite(v):
                    self.tb.add_scalar(k, v, step)

    def log_image(self, tag: str, path: Path, step: int) -> None:
        """Add a PNG (a preview grid) to TensorBoard."""
        if self.tb is None:
            return
        try:
            import numpy as np
            from PIL import Image

            with Image.open(path) as im:
                arr = np.asarray(im.convert("RGB"))
            self.tb.add_image(tag, arr, step, dataformats="HWC")
        except Exception as err:  # never let a logging back-end stop training
            logger.debug("tensorboard image failed: %s", err)

    def close(self) -> None:
        self._jsonl.close()
        self._csv.close()
        if self.tb is not None:
            self.tb.close()


class LossAverager:
    """The mean of each loss over the steps since the last log row, summed on the device and read back to the
    host once per row (not once per step): the trainer adds each step's loss vector, :meth:`pop` averages."""

    def __init__(self) -> None:
        self._sums: dict[tuple[str, ...], tuple[Any, int]] = {}
        self.count = 0

    def add(self, names: tuple[str, ...], values: Any) -> None:
        """Add one step's losses (``values[i]`` is loss ``names[i]``; a device tensor)."""
        prev = self._sums.get(names)
        self._sums[names] = (values, 1) if prev is None else (prev[0] + values, prev[1] + 1)
        self.count += 1

    def clear(self) -> None:
        self._sums, self.count = {}, 0

    def pop(self) -> dict[str, float]:
        """The mean of each loss since the last call (empty when no step was added), then start afresh."""
        sums: dict[str, float] = {}
        counts: dict[str, int] = {}
        for names, (vec, count) in self._sums.items():  # one entry unless the loss names changed
            for n, v in zip(names, vec.tolist()):
                sums[n] = sums.get(n, 0.0) + v
                counts[n] = counts.get(n, 0) + count
        self.clear()
        return {n: sums[n] / counts[n] for n in sums}
