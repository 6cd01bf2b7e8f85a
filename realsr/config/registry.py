"""What the options may name: model, dataset, optimizer, scheduler, loss and metric types, and
the keys accepted without effect."""

from __future__ import annotations

import inspect
from typing import Any

import torch

from realsr.losses import CharbonnierLoss, GANLoss, L1Loss, MSELoss, PerceptualLoss

MODEL_TYPES: tuple[str, ...] = (
    "SRModel",
    "RealESRNetModel",
    "RealESRGANModel",
    "ESRGANModel",
    "SRGANModel",
)
"""The ``model_type`` values (the training tasks registry holds the same names)."""
GAN_MODEL_TYPES: tuple[str, ...] = ("RealESRGANModel", "ESRGANModel", "SRGANModel")
"""Model types with a discriminator (``network_d``, ``train.optim_d``, ``train.gan_opt``)."""
REALESRGAN_MODEL_TYPES: tuple[str, ...] = ("RealESRNetModel", "RealESRGANModel")
"""Model types that read Real-ESRGAN's degradation keys."""
DATASET_TYPES: tuple[str, ...] = (
    "RealESRGANDataset",
    "PairedImageDataset",
    "RealESRGANPairedDataset",
    "SingleImageDataset",
)
OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "Adam": torch.optim.Adam,
    "AdamW": torch.optim.AdamW,
    "SGD": torch.optim.SGD,
}
"""``train.optim_<name>.type`` -> optimizer class; the other keys are its keyword arguments."""
_REQUIRED = inspect.Parameter.empty
_MULTISTEP: dict[str, tuple[Any, Any]] = {
    "milestones": (list[int], _REQUIRED),
    "gamma": (float, 0.1),
    "restarts": (list[int], [0]),
    "restart_weights": (list[float], [1.0]),
}
SCHEDULERS: dict[str, dict[str, tuple[Any, Any]]] = {
    "MultiStepLR": _MULTISTEP,
    "MultiStepRestartLR": _MULTISTEP,
    "CosineAnnealingRestartLR": {
        "periods": (list[int], _REQUIRED),
        "restart_weights": (list[float], [1.0]),
        "eta_min": (float, 0.0),
    },
}
"""``train.scheduler.type`` -> ``{argument: (type, default)}`` (BasicSR's schedulers; like BasicSR,
``MultiStepLR`` is the same schedule as ``MultiStepRestartLR``)."""
LOSSES: dict[str, dict[str, type[torch.nn.Module]]] = {
    "pixel_opt": {"L1Loss": L1Loss, "MSELoss": MSELoss, "CharbonnierLoss": CharbonnierLoss},
    "perceptual_opt": {"PerceptualLoss": PerceptualLoss},
    "gan_opt": {"GANLoss": GANLoss},
}
"""The loss classes each ``train.<x>_opt`` section may name."""
METRIC_TYPES: tuple[str, ...] = ("calculate_psnr", "calculate_ssim", "calculate_niqe")
_METRIC_ALIASES = {name.removeprefix("calculate_"): name for name in METRIC_TYPES}
DEGRADATION_KEYS: tuple[str, ...] = (
    "degradation",
    "gt_usm",
    "l1_gt_usm",
    "percep_gt_usm",
    "gan_gt_usm",
    "gt_size",
    "queue_size",
    "use_pair_pool",
    "high_order_degradation",
)
"""Top-level keys read into :class:`DegradationOptions` (besides Real-ESRGAN's routed keys)."""

IGNORED_KEYS: dict[str, str] = {
    "is_train": "set by BasicSR's launcher at run time, not an option",
    "dist": "set by BasicSR's launcher at run time (`realsr train --launcher pytorch`)",
    "rank": "set by BasicSR's launcher at run time",
    "world_size": "set by BasicSR's launcher at run time",
    "auto_resume": "a command-line flag in BasicSR, not an option",
    "root_path": "set by BasicSR's launcher; relative paths are relative to the working directory",
    "find_unused_parameters": "DDP wrapping is decided by the trainer",
    "path.models": "derived: <experiment_dir>/models",
    "path.training_states": "derived: <experiment_dir>/training_states",
    "path.log": "derived: <experiment_dir>",
    "path.visualization": "derived: <experiment_dir>/visualization",
    "path.results_root": "used by BasicSR's test script only",
    "datasets.*.blur_kernel_size": "Real-ESRGAN ignores it too: kernel sizes are drawn from 7..21",
    "datasets.*.blur_kernel_size2": "Real-ESRGAN ignores it too: kernel sizes are drawn from 7..21",
    "datasets.*.num_prefetch_queue": "BasicSR's CPU prefetcher; loading always uses DataLoader workers",
    "datasets.*.persistent_workers": "the data loader keeps its workers alive whenever it has any",
    "val.metrics.*.input_order": "metrics always receive (B, C, H, W) tensors",
}
"""Keys that are accepted but have no effect, with the reason (``*`` matches one key)."""
