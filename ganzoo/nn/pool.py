"""The image history buffer of CycleGAN (Zhu et al. 2017, §4; after Shrivastava et al. 2017).

Discriminators are updated with a mix of the latest generated images and up to ``size`` earlier ones, which
damps oscillation. The rule, per image of a batch: while the pool is not full, store it and return it; once full,
with probability ½ return a random stored image and put the new one in its place, otherwise return the new
image. ``size = 0`` turns the pool off.

Its randomness comes from its own CPU ``torch.Generator``, seeded explicitly or, lazily, from the global RNG at
the first query (which the trainer seeds); the generator state and the stored images are in
:meth:`ImagePool.state_dict`, so a resumed run draws exactly what an uninterrupted one draws. The state holds only
tensors and plain values, so it loads with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

from typing import Any, Mapping

import torch

__all__ = ["ImagePool"]


class ImagePool:
    """A buffer of previously generated images (see the module docstring).

    Args:
        size: how many images to keep (50 in CycleGAN; 0: no pool, :meth:`query` returns its input).
        seed: seed of the pool's generator; ``None``: drawn from the global torch RNG at the first query.

    Example:
        ```python
        pool = ImagePool(50)
        fake_for_d = pool.query(fake.detach())
        ```
    """

    def __init__(self, size: int = 50, *, seed: int | None = None) -> None:
        if size < 0:
            raise ValueError(f"pool size must be ≥ 0, got {size}")
        self.size = int(size)
        self.images: list[torch.Tensor] = []
        self._gen: torch.Generator | None = None
        if seed is not None:
            self._gen = torch.Generator(device="cpu")
            self._gen.manual_seed(int(seed))

    def __len__(self) -> int:
        return len(self.images)

    def _generator(self) -> torch.Generator:
        if self._gen is None:
            self._gen = torch.Generator(device="cpu")
            self._gen.manual_seed(int(torch.randint(0, 2 ** 62, (1,)).item()))
        return self._gen

    @torch.no_grad()
    def query(self, images: torch.Tensor) -> torch.Tensor:
        """Return a batch of the same shape: each image is either the new one or a stored one it replaces.

        The result is detached (it only feeds the discriminator's update).
        """
        images = images.detach()
        if self.size == 0:
            return images
        g = self._generator()
        out = []
        for image in images:
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
                continue
            # one uniform draw decides, a second one picks the slot (drawn only when needed, like the original)
            if float(torch.rand((), generator=g)) > 0.5:
                slot = int(torch.randint(0, self.size, (), generator=g))
                stored = self.images[slot].to(image.device)
                self.images[slot] = image.clone()
                out.append(stored)
            else:
                out.append(image)
        return torch.stack(out)

    def state_dict(self) -> dict[str, Any]:
        """The stored images (on the CPU) and the generator state: tensors and plain values only."""
        return {
            "size": self.size,
            "images": [t.detach().cpu() for t in self.images],
            "generator": self._gen.get_state() if self._gen is not None else None,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output (images stay on the CPU until queried on a device)."""
        if int(state["size"]) != self.size:
            raise ValueError(f"the saved image pool has size {state['size']}, this one {self.size}")
        self.images = [t.clone() for t in state["images"]]
        if state.get("generator") is not None:
            self._gen = torch.Generator(device="cpu")
            self._gen.set_state(state["generator"])
        else:
            self._gen = None
