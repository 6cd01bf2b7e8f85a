"""The options dataclasses: attribute names are BasicSR's YAML keys, metadata holds the checks."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from realsr.config.registry import DATASET_TYPES, METRIC_TYPES, MODEL_TYPES


def _min(minimum: int | float, default: Any = dataclasses.MISSING) -> Any:
    """A dataclass field whose value must be ``>= minimum``."""
    return field(default=default, metadata={"min": minimum})


def _one_of(choices: Sequence[str], kind: str) -> Any:
    """A required string field whose value must be one of ``choices``."""
    return field(metadata={"choices": choices, "kind": kind})


@dataclass(frozen=True, kw_only=True)
class TypedSection:
    """A ``type:`` section: ``type`` names what to build, ``args`` are its keyword arguments.

    ``where`` is the section's dotted path (``"network_g"``, ``"train.optim_g"``) for messages.
    """

    type: str
    args: dict[str, Any] = field(default_factory=dict)
    where: str = ""


@dataclass(frozen=True, kw_only=True)
class IOBackendOptions:
    """``datasets.<set>.io_backend``: images from files (``disk``) or a BasicSR LMDB."""

    type: Literal["disk", "lmdb"] = "disk"


@dataclass(frozen=True, kw_only=True)
class DatasetOptions:
    """One entry of ``datasets``: ``train`` is the training set, any other key a validation set."""

    name: str
    type: str = _one_of(DATASET_TYPES, "dataset type")
    phase: Literal["train", "val"]
    scale: int
    dataroot_gt: str | None = None
    dataroot_lq: str | None = None
    meta_info: str | None = None
    meta_info_file: str | None = None
    io_backend: IOBackendOptions = field(default_factory=IOBackendOptions)
    filename_tmpl: str = "{}"
    gt_size: int | None = _min(1, None)
    use_hflip: bool = True
    use_rot: bool = False
    use_shuffle: bool = True
    num_worker_per_gpu: int = _min(0, 0)
    batch_size_per_gpu: int = _min(1, 1)
    dataset_enlarge_ratio: int = _min(1, 1)
    prefetch_mode: Literal["cpu", "cuda"] | None = None
    pin_memory: bool = False
    crop_pad_size: int | None = _min(1, None)


@dataclass(frozen=True, kw_only=True)
class PathOptions:
    """``path``: pretrained weights, resume state and the experiment folder."""

    pretrain_network_g: str | None = None
    param_key_g: str | None = "params"
    strict_load_g: bool = True
    pretrain_network_d: str | None = None
    param_key_d: str | None = "params"
    strict_load_d: bool = True
    resume_state: str | None = None
    experiments_root: str | None = None


@dataclass(frozen=True, kw_only=True)
class TrainSection:
    """``train``: optimizers, schedule, losses and the project's training extensions."""

    optim_g: TypedSection
    total_iter: int = _min(1)
    ema_decay: float = 0.0
    optim_d: TypedSection | None = None
    scheduler: TypedSection | None = None
    warmup_iter: int = -1
    pixel_opt: TypedSection | None = None
    perceptual_opt: TypedSection | None = None
    gan_opt: TypedSection | None = None
    net_d_iters: int = _min(1, 1)
    net_d_init_iters: int = _min(0, 0)
    grad_clip: float | None = None
    mixed_precision: Literal["no", "fp16", "bf16"] = "no"
    channels_last: bool = False
    compile: bool = False
    max_bad_steps: int = _min(1, 10)


@dataclass(frozen=True, kw_only=True)
class MetricOptions:
    """One entry of ``val.metrics`` (the key is the metric's display name)."""

    type: str = _one_of(METRIC_TYPES, "metric")
    crop_border: int = _min(0, 0)
    test_y_channel: bool = False
    better: Literal["higher", "lower"] = "higher"


@dataclass(frozen=True, kw_only=True)
class ValOptions:
    """``val``: how often and how to validate on the ``datasets`` validation sets."""

    val_freq: int = _min(1)
    save_img: bool = False
    suffix: str | None = None
    pbar: bool = False
    metrics: dict[str, MetricOptions] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class WandbOptions:
    """``logger.wandb`` (the trainer skips it with a notice when wandb is not installed)."""

    project: str | None = None
    resume_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class LoggerOptions:
    """``logger``: console/TensorBoard logging and checkpoint frequency."""

    print_freq: int = _min(1, 100)
    save_checkpoint_freq: int = _min(1, 5000)
    use_tb_logger: bool = False
    wandb: WandbOptions | None = None
    keep_checkpoints: int = _min(0, 3)


@dataclass(frozen=True, kw_only=True)
class DistOptions:
    """``dist_params``: the process-group backend and the rendezvous port."""

    backend: str = "nccl"
    port: int = _min(1, 29500)


@dataclass(frozen=True, kw_only=True)
class DegradationOptions:
    """How training LR images are made (the top-level degradation keys, see the module docs).

    ``spec`` is the degrade pipeline spec (:func:`degrade.presets.build_pipeline`), or ``None``
    when the LR images come from the dataset. ``gt_usm``: the pipeline's input is the
    USM-sharpened GT. ``gt_size``: the GT crop of a training pair taken after degradation.
    """

    spec: dict[str, Any] | None = None
    gt_usm: bool = False
    l1_gt_usm: bool = True
    percep_gt_usm: bool = True
    gan_gt_usm: bool = False
    gt_size: int | None = _min(1, None)
    queue_size: int | None = _min(1, None)
    use_pair_pool: bool = False
    high_order_degradation: bool = True


@dataclass(frozen=True, kw_only=True)
class TrainOptions:
    """A whole training options file."""

    name: str
    model_type: str = _one_of(MODEL_TYPES, "model type")
    scale: int = _min(1)
    num_gpu: int | Literal["auto"] = "auto"
    manual_seed: int = 0
    datasets: dict[str, DatasetOptions]
    network_g: TypedSection
    network_d: TypedSection | None = None
    path: PathOptions = field(default_factory=PathOptions)
    train: TrainSection
    val: ValOptions | None = None
    logger: LoggerOptions = field(default_factory=LoggerOptions)
    dist_params: DistOptions = field(default_factory=DistOptions)
    degradation: DegradationOptions = field(default_factory=DegradationOptions)

    @property
    def experiment_dir(self) -> Path:
        """``path.experiments_root`` if given, else ``experiments/<name>`` (relative to the cwd)."""
        if self.path.experiments_root is not None:
            return Path(self.path.experiments_root)
        return Path("experiments") / self.name
