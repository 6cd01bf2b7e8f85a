"""Strict training options: BasicSR / Real-ESRGAN YAML files as frozen, typed dataclasses.

The attribute names are exactly the YAML keys of BasicSR's options files, so a published file loads
unchanged. Unlike BasicSR, every key is checked when the file is read: an unknown or misspelt key,
a value of the wrong type or an unknown ``type:`` is a :class:`ConfigError` naming the dotted key
(and the nearest valid one), long before a training run would have tripped over it.

``type:`` sections (``network_g``, ``train.optim_g``, ``train.pixel_opt``, ...) are checked against
the signature of what they build: the architecture class from :data:`realsr.archs.ARCHS`, the torch
optimizer, the scheduler, the loss class from :mod:`realsr.losses`.

Real-ESRGAN files keep their degradation keys at the top level (``resize_prob``, ``noise_range2``,
...) and in ``datasets.train`` (``kernel_list``, ``blur_sigma``, ...): those are routed to one
degrade pipeline spec (:attr:`DegradationOptions.spec`). A project key ``degradation:`` (a preset
name, a YAML file or a spec mapping) selects a pipeline instead. See ``docs/training_options.md``.

Example:
    >>> options = options_from_dict(
    ...     {
    ...         "name": "demo",
    ...         "model_type": "SRModel",
    ...         "scale": 2,
    ...         "datasets": {
    ...             "train": {"name": "hr", "type": "PairedImageDataset", "gt_size": 32,
    ...                       "dataroot_gt": "data/hr", "dataroot_lq": "data/lr"},
    ...         },
    ...         "network_g": {"type": "SRVGGNetCompact", "num_feat": 8, "upscale": 2},
    ...         "train": {"optim_g": {"type": "Adam", "lr": "2e-4"}, "total_iter": "1e3",
    ...                   "pixel_opt": {"type": "L1Loss"}},
    ...     }
    ... )
    >>> options.train.total_iter, options.train.optim_g.args["lr"], str(options.experiment_dir)
    (1000, 0.0002, 'experiments/demo')
    >>> options_from_dict({**resolved_dict(options), "scale": "two"})
    Traceback (most recent call last):
    ...
    realsr.config.ConfigError: scale: expected an integer, got 'two'
"""

from realsr.config.loader import apply_overrides, load_options, options_from_dict, resolved_dict
from realsr.config.registry import (
    DATASET_TYPES,
    DEGRADATION_KEYS,
    GAN_MODEL_TYPES,
    IGNORED_KEYS,
    LOSSES,
    METRIC_TYPES,
    MODEL_TYPES,
    OPTIMIZERS,
    REALESRGAN_MODEL_TYPES,
    SCHEDULERS,
)
from realsr.config.schema import (
    DatasetOptions,
    DegradationOptions,
    DistOptions,
    IOBackendOptions,
    LoggerOptions,
    MetricOptions,
    PathOptions,
    TrainOptions,
    TrainSection,
    TypedSection,
    ValOptions,
    WandbOptions,
)
from realsr.config.values import ConfigError

__all__ = [
    "DATASET_TYPES",
    "DEGRADATION_KEYS",
    "GAN_MODEL_TYPES",
    "IGNORED_KEYS",
    "LOSSES",
    "METRIC_TYPES",
    "MODEL_TYPES",
    "OPTIMIZERS",
    "REALESRGAN_MODEL_TYPES",
    "SCHEDULERS",
    "ConfigError",
    "DatasetOptions",
    "DegradationOptions",
    "DistOptions",
    "IOBackendOptions",
    "LoggerOptions",
    "MetricOptions",
    "PathOptions",
    "TrainOptions",
    "TrainSection",
    "TypedSection",
    "ValOptions",
    "WandbOptions",
    "apply_overrides",
    "load_options",
    "options_from_dict",
    "resolved_dict",
]
