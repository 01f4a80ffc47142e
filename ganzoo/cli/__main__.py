"""``python -m ganzoo.cli …`` — what ``torchrun`` and ``accelerate launch`` run."""

from . import main

main()
