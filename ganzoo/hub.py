"""Model folders on disk and on the Hub: one import for the public names of the modules that implement them.

Kept so that ``from ganzoo.hub import save_model_folder`` (plugins, scripts) goes on working. Each name lives in
the module with its one reason to change:

=========================  ===================================================================================
:mod:`ganzoo.files`        ``sha256_file``, ``atomic_write``, ``canonical_safetensors``, output folders
:mod:`ganzoo.folder`       the model-folder format: ``save_model_folder``, ``read_config_json``, ``verify_folder``
:mod:`ganzoo.loading`      the load plan and ``load_model_folder``
:mod:`ganzoo.hubio`        downloads: ``download_model``, ``cached_snapshot`` (bounded waits, checked headers)
:mod:`ganzoo.publish`      ``push_folder``, ``PushResult``, ``write_pinned_card``
:mod:`ganzoo.api`          ``load`` / ``pull``: what a name refers to, then one of the above
=========================  ===================================================================================

New code should import from those modules; nothing here is defined anew.
"""

from __future__ import annotations

from .api import load
from .api import pull_one as pull
from .files import atomic_write, canonical_safetensors, make_output_dir, sha256_file
from .folder import CARD_NAME, CHECKPOINTS_DIR, CONFIG_NAME, read_config_json, save_model_folder, verify_folder
from .hubio import cached_snapshot, download_model
from .loading import load_model_folder
from .publish import PushResult, push_folder, write_pinned_card

__all__ = [
    "CONFIG_NAME",
    "CARD_NAME",
    "CHECKPOINTS_DIR",
    "sha256_file",
    "atomic_write",
    "canonical_safetensors",
    "make_output_dir",
    "save_model_folder",
    "read_config_json",
    "verify_folder",
    "load_model_folder",
    "download_model",
    "cached_snapshot",
    "load",
    "pull",
    "push_folder",
    "PushResult",
    "write_pinned_card",
]
