"""Datasets in the formats users already have (DESIGN.md §7), built-in offline datasets, image I/O."""

from .datasets import (
    AlignedDataset,
    ArrayImageDataset,
    AudioPairDataset,
    FrameSequenceDataset,
    GanDataset,
    ImageFolderDataset,
    UnalignedDataset,
    dataset_for_task,
    read_wav,
)
from .images import IMAGE_EXTENSIONS, list_images, open_image, save_image, save_image_grid, tensor_to_pil, to_tensor

__all__ = [
    "AlignedDataset",
    "ArrayImageDataset",
    "AudioPairDataset",
    "FrameSequenceDataset",
    "GanDataset",
    "ImageFolderDataset",
    "UnalignedDataset",
    "dataset_for_task",
    "read_wav",
    "IMAGE_EXTENSIONS",
    "list_images",
    "open_image",
    "save_image",
    "save_image_grid",
    "tensor_to_pil",
    "to_tensor",
]
