"""Game data for gamegan: simulator windows on the fly, or logged episodes (frames + ``act.log``) from a folder.

Items are ``{"frames": (L, C, S, S) in [-1, 1], "actions": (L − 1,) int64, ...}``: action ``t`` leads from frame
``t`` to frame ``t + 1``. Simulator items also carry ``"positions"`` ``(L, 2, 2)``: the paddle's and the ball's
centres (row, col) in pixels, NaN for a ball off screen, for the position metrics.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganzoo.data.datasets import GanDataset
from ganzoo.data.video import clip_to_tensor, fit_frames, read_frame_folder
from ganzoo.errors import DataError

from .game import PaddleBall, episode, read_act_log

__all__ = ["PaddleBallDataset", "EpisodeFolderDataset", "dataset_for", "BUILTIN"]

logger = logging.getLogger(__name__)

BUILTIN = "paddle-ball"  # ``--data builtin:paddle-ball``
TEST_SEED = 1_000_000  # test episodes use seeds from here: disjoint from the training ones


def _frames_tensor(frames: np.ndarray, channels: int) -> torch.Tensor:
    x = clip_to_tensor(frames[..., None])
    return x.expand(-1, channels, -1, -1).contiguous() if channels != 1 else x


class PaddleBallDataset(GanDataset):
    """Windows of ``length`` frames from behaviour-policy episodes of the paddle-and-ball game.

    Episode ``i`` is a pure function of ``seed + i`` (see :func:`ganzoo_gamegan.game.episode`); ``train`` uses
    seeds from 0 (10,000 per epoch), ``test`` from 1,000,000 (1,000 episodes).
    """

    def __init__(self, *, image_size: int, channels: int, length: int, num_episodes: int, seed: int) -> None:
        self.game = PaddleBall(image_size)
        self.channels, self.length, self.num_episodes, self.base_seed = channels, length, num_episodes, seed
        self.skipped = {}

    def __len__(self) -> int:
        return self.num_episodes

    def episode(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(frames uint8 (L, S, S), actions (L − 1,), positions (L, 2, 2)) of item ``index``."""
        return episode(self.game, self.base_seed + int(index), self.length)

    def __getitem__(self, index: int) -> dict[str, Any]:
        frames, actions, positions = self.episode(index)
        return {"frames": _frames_tensor(frames, self.channels), "actions": torch.from_numpy(actions),
                "positions": torch.from_numpy(positions).float()}


class EpisodeFolderDataset(GanDataset):
    """Episodes in the layout of Oh et al.'s released data: ``root/<episode>/<frame>.png`` + ``act.log``.

    Windows of ``length`` frames start at every frame. An episode whose ``act.log`` has fewer than frames − 1
    entries, or holds an action outside ``0..num_actions − 1``, is a :class:`DataError` naming the file and line.
    """

    def __init__(self, root: str | Path, *, image_size: int, channels: int, length: int, num_actions: int,
                 split: str | None = "train") -> None:
        root = Path(root)
        self.root = root / split if split and (root / split).is_dir() else root
        if not self.root.is_dir():
            raise DataError(f"No such data folder: {self.root}")
        self.episodes: list[tuple[np.ndarray, np.ndarray]] = []
        self.skipped = {"episodes shorter than the window": 0}
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            log = folder / "act.log"
            if not log.is_file():
                raise DataError(f"{folder} has no act.log (one action index per line, action t leads from frame t to "
                                f"t+1)")
            try:
                actions = read_act_log(log, num_actions)
            except ValueError as err:
                raise DataError(str(err)) from err
            frames = fit_frames(read_frame_folder(folder, channels=channels), image_size)
            if len(actions) < len(frames) - 1:
                raise DataError(f"{log} has {len(actions)} actions for {len(frames)} frames; it needs "
                                f"{len(frames) - 1} (one per transition)")
            if len(frames) < length:
                self.skipped["episodes shorter than the window"] += 1
                continue
            self.episodes.append((frames, actions))
        self.windows = [(e, s) for e, (f, _) in enumerate(self.episodes) for s in range(len(f) - length + 1)]
        if not self.windows:
            raise DataError(f"{self.root} has no episode of at least {length} frames (context + rollout); expected "
                            f"<episode>/<frame>.png + act.log")
        self.length = length

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: int) -> dict[str, Any]:
        e, s = self.windows[index]
        frames, actions = self.episodes[e]
        return {"frames": clip_to_tensor(frames[s:s + self.length]),
                "actions": torch.from_numpy(actions[s:s + self.length - 1].copy())}


def dataset_for(config: Any, path: str | Path, *, split: str | None, length: int) -> GanDataset:
    """The dataset ``gamegan`` trains and evaluates on: ``builtin:paddle-ball`` or an episode folder."""
    text = str(path)
    if text.startswith("builtin:"):
        name = text.split(":", 1)[1]
        if name != BUILTIN:
            raise DataError(f"gamegan's built-in dataset is builtin:{BUILTIN} (the paddle-and-ball simulator), not "
                            f"builtin:{name}")
        if config.num_actions != PaddleBall.num_actions:
            raise DataError(f"builtin:{BUILTIN} has {PaddleBall.num_actions} actions; the model has "
                            f"{config.num_actions}")
        test = split in ("test", "val")
        return PaddleBallDataset(image_size=config.image_size, channels=config.channels, length=length,
                                 num_episodes=1_000 if test else 10_000, seed=TEST_SEED if test else 0)
    return EpisodeFolderDataset(path, image_size=config.image_size, channels=config.channels, length=length,
                                num_actions=config.num_actions, split=split)
