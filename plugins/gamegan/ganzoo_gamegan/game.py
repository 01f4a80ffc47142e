"""Paddle and ball: a small deterministic game that logs frames and actions (numpy only, no torch).

The player moves a paddle along the bottom of a square screen (actions ``noop``, ``left``, ``right``); a ball
flies in straight lines, bounces off the left, right and top walls and off the paddle, whose hit point sets the
ball's new horizontal speed (as in Breakout). A missed ball re-enters from the top at a position and velocity
that depend only on the step count, so an episode is a pure function of its start state and its actions.

Geometry at 64×64 (other sizes scale it): a 12×3 paddle on rows 58–60 moving 4 px per step, a 4×4 ball moving
2–3 px vertically and up to 3 px horizontally per step. The paddle is drawn at full intensity, the ball at 2/3,
on black.

Also here: the behaviour policy that generates training data (sticky random actions mixed with noisy ball
tracking, so the paddle both wanders and hits the ball), episodes in the layout of Oh et al.'s released data
(``<episode>/<frame:05d>.png`` + ``act.log``, one action index per line), and ``python -m ganzoo_gamegan.game
write OUT --episodes N`` to log them.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["ACTIONS", "GameState", "PaddleBall", "behaviour_actions", "episode", "write_episodes", "read_act_log"]

#: Action names, by index.
ACTIONS = ("noop", "left", "right")
PADDLE_LEVEL, BALL_LEVEL = 255, 170  # drawing intensities (uint8)


@dataclass(frozen=True)
class GameState:
    """Everything that decides the future: paddle column, ball corner and velocity (pixels), step count."""

    paddle_x: int
    ball_y: int
    ball_x: int
    vel_y: int
    vel_x: int
    t: int = 0


class PaddleBall:
    """The game at ``size``×``size`` pixels.

    Example:
        >>> game = PaddleBall(64)
        >>> s = game.reset(seed=0)
        >>> frames = [game.render(s)]
        >>> for a in [1, 1, 2]:
        ...     s = game.step(s, a)
        ...     frames.append(game.render(s))
        >>> frames[-1].shape
        (64, 64)
    """

    num_actions = len(ACTIONS)

    def __init__(self, size: int = 64) -> None:
        if size < 16:
            raise ValueError(f"the game needs a screen of at least 16 px, got {size}")
        u = size / 64
        self.size = size
        self.ball = max(1, round(4 * u))
        self.paddle_w = max(3, round(12 * u))
        self.paddle_h = max(1, round(3 * u))
        self.paddle_y = size - self.paddle_h - max(1, round(3 * u))
        self.paddle_speed = max(1, round(4 * u))
        self.speeds_y = tuple(sorted({max(1, round(2 * u)), max(1, round(3 * u))}))
        self.max_vx = max(1, round(3 * u))

    # -- dynamics -------------------------------------------------------------------------------------------

    def reset(self, seed: int) -> GameState:
        """A start state drawn from ``seed`` (ball in the upper half, moving down)."""
        rng = np.random.default_rng([7, int(seed)])
        room = self.size - self.ball
        vx = int(rng.integers(-self.max_vx, self.max_vx + 1))
        return GameState(paddle_x=int(rng.integers(0, self.size - self.paddle_w + 1)),
                         ball_y=int(rng.integers(0, self.paddle_y // 2)), ball_x=int(rng.integers(0, room + 1)),
                         vel_y=int(rng.choice(self.speeds_y)), vel_x=vx or 1)

    def step(self, s: GameState, action: int) -> GameState:
        """The state after ``action`` (0 noop, 1 left, 2 right)."""
        if not 0 <= int(action) < self.num_actions:
            raise ValueError(f"action {action} is out of range 0..{self.num_actions - 1} ({', '.join(ACTIONS)})")
        px = s.paddle_x + (0, -self.paddle_speed, self.paddle_speed)[int(action)]
        px = min(max(px, 0), self.size - self.paddle_w)
        y, x, vy, vx = s.ball_y + s.vel_y, s.ball_x + s.vel_x, s.vel_y, s.vel_x
        room = self.size - self.ball
        if x < 0:
            x, vx = -x, -vx
        elif x > room:
            x, vx = 2 * room - x, -vx
        if y < 0:
            y, vy = -y, -vy
        bottom = self.paddle_y - self.ball  # the ball rests on the paddle at this row
        if vy > 0 and s.ball_y <= bottom < y and px - self.ball < x < px + self.paddle_w:
            # hit: reflect off the paddle's top; the hit point (−1 left end … +1 right end) sets the new vx
            y, vy = 2 * bottom - y, -vy
            offset = (x + self.ball / 2 - (px + self.paddle_w / 2)) / (self.paddle_w / 2)
            vx = int(np.clip(round(offset * self.max_vx), -self.max_vx, self.max_vx)) or (1 if vx >= 0 else -1)
        elif y > self.size:
            # missed: re-enter from the top, where and how depends only on the step count
            t = s.t + 1
            y, x = 0, (t * 17) % (room + 1)
            vy = self.speeds_y[t % len(self.speeds_y)]
            vx = (-2, -1, 1, 2)[t % 4] * max(1, self.max_vx // 3)
        return GameState(paddle_x=px, ball_y=y, ball_x=x, vel_y=vy, vel_x=vx, t=s.t + 1)

    # -- observation ----------------------------------------------------------------------------------------

    def render(self, s: GameState) -> np.ndarray:
        """The screen as uint8 ``(size, size)``: paddle at 255, ball at 170, background 0."""
        img = np.zeros((self.size, self.size), dtype=np.uint8)
        img[self.paddle_y:self.paddle_y + self.paddle_h, s.paddle_x:s.paddle_x + self.paddle_w] = PADDLE_LEVEL
        y0, x0 = max(s.ball_y, 0), max(s.ball_x, 0)
        y1, x1 = min(s.ball_y + self.ball, self.size), min(s.ball_x + self.ball, self.size)
        if y1 > y0 and x1 > x0:
            img[y0:y1, x0:x1] = BALL_LEVEL
        return img

    def positions(self, s: GameState) -> np.ndarray:
        """Object centres ``[[paddle_y, paddle_x], [ball_y, ball_x]]`` in pixels (ball NaN while off screen)."""
        paddle = (self.paddle_y + (self.paddle_h - 1) / 2, s.paddle_x + (self.paddle_w - 1) / 2)
        visible = 0 <= s.ball_y <= self.size - self.ball
        ball = (s.ball_y + (self.ball - 1) / 2, s.ball_x + (self.ball - 1) / 2) if visible else (np.nan, np.nan)
        return np.array([paddle, ball], dtype=np.float64)


def behaviour_actions(game: PaddleBall, state: GameState, rng: np.random.Generator, length: int,
                      track: float) -> tuple[list[int], list[GameState]]:
    """``length`` actions of the data-collection policy from ``state``, and the states they lead through.

    Each step follows the ball (paddle centre towards the ball centre) with probability ``track``, otherwise
    repeats the previous action with probability 0.7 or draws a uniform one (sticky random actions).
    """
    actions, states, prev = [], [state], 0
    for _ in range(length):
        s = states[-1]
        if rng.random() < track:
            diff = (s.ball_x + game.ball / 2) - (s.paddle_x + game.paddle_w / 2)
            a = 0 if abs(diff) < game.paddle_speed / 2 else (2 if diff > 0 else 1)
        elif rng.random() < 0.7:
            a = prev
        else:
            a = int(rng.integers(0, game.num_actions))
        actions.append(a)
        states.append(game.step(s, a))
        prev = a
    return actions, states


def episode(game: PaddleBall, seed: int, length: int, *, warmup: int = 16,
            actions: list[int] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One episode: ``length`` frames, the ``length − 1`` actions between them, and the object positions.

    The start is :meth:`PaddleBall.reset` for ``seed`` followed by ``warmup`` behaviour steps (so starts vary);
    then the behaviour policy (or the given ``actions``) plays.

    Returns:
        ``(frames uint8 (length, S, S), actions int64 (length − 1,), positions float64 (length, 2, 2))``.
    """
    rng = np.random.default_rng([11, int(seed)])
    track = float(rng.choice([0.0, 0.5, 0.9]))
    _, warm = behaviour_actions(game, game.reset(seed), rng, warmup, track)
    start = warm[-1]
    if actions is None:
        actions, states = behaviour_actions(game, start, rng, length - 1, track)
    else:
        states = [start]
        for a in actions[:length - 1]:
            states.append(game.step(states[-1], int(a)))
    frames = np.stack([game.render(s) for s in states])
    return frames, np.asarray(actions[:length - 1], dtype=np.int64), np.stack([game.positions(s) for s in states])


def read_act_log(path: str | Path, num_actions: int) -> np.ndarray:
    """Read an ``act.log`` (one action index per line); raise ValueError naming the line of a bad entry."""
    out = []
    for i, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            a = int(line.strip())
        except ValueError:
            raise ValueError(f"{path}:{i}: {line.strip()!r} is not an action index") from None
        if not 0 <= a < num_actions:
            raise ValueError(f"{path}:{i}: action {a} is out of range 0..{num_actions - 1}")
        out.append(a)
    return np.asarray(out, dtype=np.int64)


def write_episodes(root: str | Path, *, episodes: int, length: int, size: int = 64, seed: int = 0) -> Path:
    """Log ``episodes`` behaviour episodes of ``length`` frames under ``root`` in Oh et al.'s layout.

    ``root/<episode:04d>/<frame:05d>.png`` and ``root/<episode:04d>/act.log`` (action ``t`` leads from frame ``t``
    to frame ``t+1``); episode ``i`` uses seed ``seed·10⁶ + i``.
    """
    from PIL import Image

    root, game = Path(root), PaddleBall(size)
    for i in range(episodes):
        frames, actions, _ = episode(game, seed * 1_000_000 + i, length)
        folder = root / f"{i:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        for t, f in enumerate(frames):
            Image.fromarray(f, mode="L").save(folder / f"{t:05d}.png")
        (folder / "act.log").write_text("".join(f"{a}\n" for a in actions))
    return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Log paddle-and-ball episodes (frames + act.log)")
    sub = parser.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write", help="write episodes in Oh et al.'s layout")
    w.add_argument("out", type=Path)
    w.add_argument("--episodes", type=int, default=100)
    w.add_argument("--length", type=int, default=64)
    w.add_argument("--size", type=int, default=64)
    w.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    write_episodes(args.out, episodes=args.episodes, length=args.length, size=args.size, seed=args.seed)
    print(f"wrote {args.episodes} episodes of {args.length} frames to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
