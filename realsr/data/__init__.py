"""Training data: image sets, the batch sampler, loaders, on-device paired crops, LMDB.

Workers only read, crop, flip and rotate, as pure functions of ``(seed, epoch, index)``; the
degradation runs later, batched, on the training device (``batch["key"]`` seeds it), and
:func:`paired_random_crop` cuts the final training crops there.

::

    dataset = build_dataset(options.datasets["train"], seed=options.manual_seed)
    sampler = TrainBatchSampler(len(dataset), opt.batch_size_per_gpu, seed=seed,
                                shuffle=opt.use_shuffle, enlarge_ratio=opt.dataset_enlarge_ratio,
                                num_replicas=world, rank=rank, start_iter=resumed_iter)
    loader = build_dataloader(dataset, opt, sampler=sampler, seed=seed)
"""

from realsr.data.crop import pair_crop_seeds, paired_random_crop
from realsr.data.datasets import (
    DATASETS,
    HRImageDataset,
    ImageSet,
    PairedImageDataset,
    RealESRGANPairedDataset,
    SingleImageDataset,
    build_dataset,
    degradation_key,
)
from realsr.data.loader import build_dataloader, collate
from realsr.data.readers import ImageDataError, decode_image, list_image_files
from realsr.data.sampler import TrainBatchSampler

__all__ = [
    "DATASETS",
    "HRImageDataset",
    "ImageDataError",
    "ImageSet",
    "PairedImageDataset",
    "RealESRGANPairedDataset",
    "SingleImageDataset",
    "TrainBatchSampler",
    "build_dataloader",
    "build_dataset",
    "collate",
    "decode_image",
    "degradation_key",
    "list_image_files",
    "pair_crop_seeds",
    "paired_random_crop",
]
