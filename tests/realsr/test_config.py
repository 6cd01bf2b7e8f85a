"""The strict options loader: official BasicSR / Real-ESRGAN files, typos, types, routing, overrides."""

from __future__ import annotations

import copy
import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from degrade.presets import build_pipeline, preset_spec
from degrade.presets.realesrgan_options import DATASET_KEYS, TOP_LEVEL_KEYS
from degrade.presets.realesrgan_options import spec_from_realesrgan_options as reference_spec
from realsr.config import (
    IGNORED_KEYS,
    MODEL_TYPES,
    ConfigError,
    DatasetOptions,
    DegradationOptions,
    DistOptions,
    LoggerOptions,
    MetricOptions,
    PathOptions,
    TrainOptions,
    TrainSection,
    ValOptions,
    WandbOptions,
    apply_overrides,
    load_options,
    options_from_dict,
    resolved_dict,
)
from tests._reference import REPO_ROOT, shared_dir

REALESRGAN_FILES = [
    "finetune_realesrgan_x4plus.yml",
    "train_realesrgan_x2plus.yml",
    "train_realesrgan_x4plus.yml",
    "train_realesrnet_x2plus.yml",
    "train_realesrnet_x4plus.yml",
]
BASICSR_FILES = [
    "train_EDSR_Mx4.yml",
    "train_ESRGAN_x4.yml",
    "train_MSRGAN_x4.yml",
    "train_MSRResNet_x4.yml",
    "train_RRDBNet_PSNR_x4.yml",
]
OFFICIAL = [f"realesrgan_options/{name}" for name in REALESRGAN_FILES] + [
    f"basicsr_options/{name}" for name in BASICSR_FILES
]


def official(relative: str) -> Path:
    return shared_dir() / "reference" / relative


def tiny_sr() -> dict[str, Any]:
    """A small paired SRModel recipe."""
    return {
        "name": "tiny_sr",
        "model_type": "SRModel",
        "scale": 2,
        "num_gpu": 0,
        "datasets": {
            "train": {
                "name": "pairs",
                "type": "PairedImageDataset",
                "dataroot_gt": "data/hr",
                "dataroot_lq": "data/lr",
                "gt_size": 32,
                "batch_size_per_gpu": 2,
            },
            "val": {
                "name": "val",
                "type": "PairedImageDataset",
                "dataroot_gt": "data/val_hr",
                "dataroot_lq": "data/val_lr",
            },
        },
        "network_g": {"type": "SRVGGNetCompact", "num_feat": 8, "num_conv": 2, "upscale": 2},
        "train": {
            "optim_g": {"type": "Adam", "lr": 2e-4, "betas": [0.9, 0.99]},
            "scheduler": {"type": "MultiStepLR", "milestones": [10], "gamma": 0.5},
            "total_iter": 20,
            "pixel_opt": {"type": "L1Loss", "loss_weight": 1.0, "reduction": "mean"},
        },
        "val": {"val_freq": 10, "metrics": {"psnr": {"type": "calculate_psnr", "crop_border": 2}}},
    }


def tiny_realesrgan() -> dict[str, Any]:
    """A small RealESRGANModel recipe with Real-ESRGAN's routed degradation keys."""
    raw: dict[str, Any] = {
        "name": "tiny_gan",
        "model_type": "RealESRGANModel",
        "scale": 4,
        "l1_gt_usm": True,
        "percep_gt_usm": True,
        "gan_gt_usm": False,
        "resize_prob": [0.2, 0.7, 0.1],
        "resize_range": [0.15, 1.5],
        "gaussian_noise_prob": 0.5,
        "noise_range": [1, 30],
        "poisson_scale_range": [0.05, 3],
        "gray_noise_prob": 0.4,
        "jpeg_range": [30, 95],
        "second_blur_prob": 0.8,
        "resize_prob2": [0.3, 0.4, 0.3],
        "resize_range2": [0.3, 1.2],
        "gaussian_noise_prob2": 0.5,
        "noise_range2": [1, 25],
        "poisson_scale_range2": [0.05, 2.5],
        "gray_noise_prob2": 0.4,
        "jpeg_range2": [30, 95],
        "gt_size": 32,
        "queue_size": 4,
        "datasets": {
            "train": {
                "name": "hr",
                "type": "RealESRGANDataset",
                "dataroot_gt": "data/hr",
                "blur_kernel_size": 21,
                "kernel_list": ["iso", "aniso"],
                "kernel_prob": [0.5, 0.5],
                "sinc_prob": 0.1,
                "blur_sigma": [0.2, 3],
                "betag_range": [0.5, 4],
                "betap_range": [1, 2],
                "blur_kernel_size2": 21,
                "kernel_list2": ["iso"],
                "kernel_prob2": [1.0],
                "sinc_prob2": 0.1,
                "blur_sigma2": [0.2, 1.5],
                "betag_range2": [0.5, 4],
                "betap_range2": [1, 2],
                "final_sinc_prob": 0.8,
                "crop_pad_size": 48,
                "batch_size_per_gpu": 2,
            }
        },
        "network_g": {"type": "RRDBNet", "num_feat": 8, "num_block": 1, "num_grow_ch": 4},
        "network_d": {"type": "UNetDiscriminatorSN", "num_feat": 8},
        "train": {
            "ema_decay": 0.999,
            "optim_g": {"type": "Adam", "lr": 1e-4},
            "optim_d": {"type": "Adam", "lr": 1e-4},
            "total_iter": 4,
            "pixel_opt": {"type": "L1Loss"},
            "perceptual_opt": {"type": "PerceptualLoss", "layer_weights": {"conv1_2": 1}},
            "gan_opt": {"type": "GANLoss", "gan_type": "vanilla", "loss_weight": 0.1},
        },
    }
    return raw


def error_of(raw: dict[str, Any], overrides: list[str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        options_from_dict(apply_overrides(raw, overrides or []))
    message = str(info.value)
    assert "\n" not in message
    return message


# ------------------------------------------------------------------------------------------------
# The official files


@pytest.mark.parametrize("relative", OFFICIAL)
def test_official_files_load_and_round_trip(relative: str) -> None:
    path = official(relative)
    raw = yaml.safe_load(path.read_text())
    options = load_options(path)
    assert options.name == raw["name"] and options.model_type == raw["model_type"]
    assert options.scale == raw["scale"]
    assert options.train.total_iter == int(raw["train"]["total_iter"])
    assert options.logger.save_checkpoint_freq == 5000  # written `!!float 5e3`
    assert isinstance(options.logger.save_checkpoint_freq, int)
    assert options.datasets["train"].phase == "train"
    assert options.datasets["train"].scale == raw["scale"]
    assert options.experiment_dir == Path("experiments") / raw["name"]
    # resolved_dict is plain YAML and reads back equal
    text = yaml.safe_dump(resolved_dict(options))
    assert options_from_dict(yaml.safe_load(text)) == options


@pytest.mark.parametrize("name", REALESRGAN_FILES)
def test_realesrgan_degradation_keys_are_routed(name: str) -> None:
    raw = yaml.safe_load(official(f"realesrgan_options/{name}").read_text())
    options = options_from_dict(raw)
    degradation = options.degradation
    assert degradation.spec == reference_spec(raw)
    assert degradation.spec is not None and degradation.spec["scale"] == raw["scale"]
    assert degradation.gt_usm is True  # gt_usm: True (RealESRNet) / always (RealESRGAN)
    assert degradation.gt_size == 256 and degradation.queue_size == 180
    assert degradation.use_pair_pool is False and degradation.high_order_degradation is True
    train = options.datasets["train"]
    assert train.crop_pad_size == 400 and train.type == "RealESRGANDataset"
    assert not any(hasattr(train, key) for key in DATASET_KEYS)
    if raw["model_type"] == "RealESRGANModel":
        assert (degradation.l1_gt_usm, degradation.percep_gt_usm, degradation.gan_gt_usm) == (
            True,
            True,
            False,
        )
        assert options.network_d is not None and options.network_d.type == "UNetDiscriminatorSN"
        assert options.path.param_key_g == "params_ema"


def test_official_x2plus_values() -> None:
    options = load_options(official("realesrgan_options/train_realesrgan_x2plus.yml"))
    assert options.scale == 2 and options.num_gpu == "auto"
    assert options.network_g.args["scale"] == 2
    assert options.datasets["train"].scale == 2
    assert options.degradation.spec is not None and options.degradation.spec["scale"] == 2
    assert options.train.optim_g.args == {"lr": 1e-4, "weight_decay": 0.0, "betas": [0.9, 0.99]}
    assert options.train.perceptual_opt is not None
    assert options.train.perceptual_opt.args["layer_weights"]["conv5_4"] == 1.0
    assert options.train.gan_opt is not None and options.train.gan_opt.where == "train.gan_opt"


def test_official_basicsr_values() -> None:
    options = load_options(official("basicsr_options/train_MSRResNet_x4.yml"))
    assert options.val is not None and options.val.val_freq == 5000
    assert set(options.datasets) == {"train", "val", "val_2"}
    assert options.datasets["val_2"].phase == "val" and options.datasets["val_2"].name == "Set14"
    psnr, niqe = options.val.metrics["psnr"], options.val.metrics["niqe"]
    assert psnr == MetricOptions(type="calculate_psnr", crop_border=4, better="higher")
    assert niqe.type == "calculate_niqe" and niqe.better == "lower"
    assert options.train.scheduler is not None
    assert options.train.scheduler.args["eta_min"] == pytest.approx(1e-7)
    assert options.degradation.spec is None  # paired data: the LR images come from the dataset
    edsr = load_options(official("basicsr_options/train_EDSR_Mx4.yml"))
    assert edsr.path.strict_load_g is False and edsr.train.ema_decay == 0.999
    assert edsr.network_g.args["img_range"] == 255.0 and edsr.network_g.args["res_scale"] == 1.0


# ------------------------------------------------------------------------------------------------
# Strictness


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("trian.total_iter=3", "trian: unknown key (did you mean 'train'?)"),
        ("train.optim_g.lrr=1e-4", "train.optim_g.lrr: unknown key for Adam (did you mean 'lr'?)"),
        (
            "datasets.train.gt_szie=64",
            "datasets.train.gt_szie: unknown key (did you mean 'gt_size'?)",
        ),
        (
            "datasets.val.io_backend.typ=disk",
            "datasets.val.io_backend.typ: unknown key (did you mean 'type'?)",
        ),
        (
            "network_g.num_feet=8",
            "network_g.num_feet: unknown key for SRVGGNetCompact (did you mean 'num_feat'?)",
        ),
        (
            "train.scheduler.gama=0.1",
            "train.scheduler.gama: unknown key for MultiStepLR (did you mean 'gamma'?)",
        ),
        (
            "train.pixel_opt.los_weight=1",
            "train.pixel_opt.los_weight: unknown key for L1Loss (did you mean 'loss_weight'?)",
        ),
        (
            "val.metrics.psnr.crop_bordr=2",
            "val.metrics.psnr.crop_bordr: unknown key (did you mean 'crop_border'?)",
        ),
        ("logger.wandb.projct=x", "logger.wandb.projct: unknown key (did you mean 'project'?)"),
        (
            "path.pretrain_network=x",
            "path.pretrain_network: unknown key (did you mean 'pretrain_network_g'?)",
        ),
        ("dist_params.prot=1", "dist_params.prot: unknown key (did you mean 'port'?)"),
    ],
)
def test_typos_name_the_dotted_key_and_the_nearest_one(override: str, expected: str) -> None:
    assert error_of(tiny_sr(), [override]) == expected


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (
            "network_g.type=SRVGGNetCompakt",
            "network_g.type: unknown architecture 'SRVGGNetCompakt' (did you mean 'SRVGGNetCompact'?)",
        ),
        (
            "train.optim_g.type=Adamw",
            "train.optim_g.type: unknown optimizer 'Adamw' (did you mean 'Adam",
        ),
        (
            "train.scheduler.type=CosineAnnealingLR",
            "train.scheduler.type: unknown scheduler 'CosineAnnealingLR' (did you mean 'CosineAnnealingRestartLR'?)",
        ),
        (
            "train.pixel_opt.type=L1loss",
            "train.pixel_opt.type: unknown loss 'L1loss' (did you mean 'L1Loss'?)",
        ),
        (
            "model_type=SRModle",
            "model_type: unknown model type 'SRModle' (did you mean 'SRModel'?)",
        ),
        (
            "datasets.train.type=PairedImageDatset",
            "datasets.train.type: unknown dataset type 'PairedImageDatset' (did you mean 'PairedImageDataset'?)",
        ),
        (
            "val.metrics.psnr.type=calculate_psrn",
            "val.metrics.psnr.type: unknown metric 'calculate_psrn' (did you mean 'calculate_psnr'?)",
        ),
        (
            "datasets.train.io_backend.type=lmbd",
            "datasets.train.io_backend.type: expected one of 'disk', 'lmdb', got 'lmbd' (did you mean 'lmdb'?)",
        ),
        (
            "train.mixed_precision=fp61",
            "train.mixed_precision: expected one of 'no', 'fp16', 'bf16', got 'fp61' (did you mean 'fp16'?)",
        ),
        (
            "train.pixel_opt.reduction=meen",
            "train.pixel_opt.reduction: expected one of 'none', 'mean', 'sum', got 'meen' (did you mean 'mean'?)",
        ),
    ],
)
def test_unknown_type_values_name_the_nearest_registered_one(override: str, expected: str) -> None:
    assert error_of(tiny_sr(), [override]).startswith(expected)


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (
            "datasets.train.gt_size=abc",
            "datasets.train.gt_size: expected an integer or null, got 'abc'",
        ),
        ("train.total_iter=5000.5", "train.total_iter: expected an integer, got 5000.5"),
        ("train.total_iter=0", "train.total_iter: must be >= 1, got 0"),
        ("train.total_iter=true", "train.total_iter: expected an integer, got True"),
        ("datasets.train.use_hflip=1", "datasets.train.use_hflip: expected a boolean, got 1"),
        ("name=[a]", "name: expected a string, got ['a']"),
        ("num_gpu=many", "num_gpu: expected an integer or 'auto', got 'many'"),
        ("train.optim_g.lr=fast", "train.optim_g.lr: expected a number, got 'fast'"),
        ("train.optim_g.betas=[0.9]", "train.optim_g.betas: expected a list of 2 items, got [0.9]"),
        (
            "train.scheduler.milestones=[1, x]",
            "train.scheduler.milestones[1]: expected an integer, got 'x'",
        ),
        ("network_g.num_feat=8.5", "network_g.num_feat: expected an integer, got 8.5"),
        ("train=3", "train: expected a mapping, got 3"),
        ("val.metrics.psnr=null", "val.metrics.psnr: expected a mapping, got null"),
    ],
)
def test_wrong_types_are_errors(override: str, expected: str) -> None:
    assert error_of(tiny_sr(), [override]) == expected


def test_missing_required_keys() -> None:
    raw = tiny_sr()
    del raw["train"]["total_iter"]
    assert error_of(raw) == "train.total_iter: missing (required)"
    raw = tiny_sr()
    del raw["datasets"]["train"]
    assert error_of(raw) == "datasets.train: missing (required)"
    assert error_of(tiny_sr(), ["train.scheduler={type: MultiStepLR}"]) == (
        "train.scheduler.milestones: missing (required by MultiStepLR)"
    )
    assert error_of(tiny_sr(), ["datasets.train.dataroot_lq=null"]) == (
        "datasets.train.dataroot_lq: missing (required by PairedImageDataset)"
    )
    assert error_of(tiny_sr(), ["datasets.train.gt_size=null"]) == (
        "datasets.train.gt_size: missing (required for paired training crops)"
    )


def test_cross_section_checks() -> None:
    assert error_of(tiny_sr(), ["network_g.upscale=4"]) == (
        "network_g.upscale: 4 does not match the top-level scale 2"
    )
    raw = tiny_sr()
    del raw["network_g"]["upscale"]
    assert (
        error_of(raw) == "network_g.upscale: 4 (the default) does not match the top-level scale 2"
    )
    assert error_of(tiny_sr(), ["datasets.train.gt_size=33"]) == (
        "datasets.train.gt_size: 33 is not a multiple of scale 2"
    )
    assert error_of(tiny_sr(), ["train.optim_d={type: Adam}"]).startswith(
        "train.optim_d: only used by GAN model types"
    )
    assert error_of(tiny_realesrgan(), ["network_d=null"]) == (
        "network_d: missing (required by RealESRGANModel)"
    )
    assert error_of(tiny_realesrgan(), ["network_d.type=RRDBNet"]) == (
        "network_d.type: RRDBNet is not a discriminator"
    )
    assert error_of(tiny_sr(), ["train.pixel_opt=null"]).startswith("train.pixel_opt: missing")
    assert error_of(tiny_sr(), ["datasets.val.phase=train"]) == (
        "datasets.val.phase: is set by the loader to 'val', got 'train'"
    )
    assert error_of(tiny_sr(), ["datasets.train_2={name: x}"]).startswith(
        "datasets.train_2: only one"
    )
    assert error_of(tiny_sr(), ["train.scheduler.restart_weights=[1, 1]"]) == (
        "train.scheduler.restart_weights: 2 values for 1 restarts (one per restart)"
    )
    assert error_of(tiny_realesrgan(), ["use_pair_pool=true", "queue_size=3"]) == (
        "queue_size: 3 is not a multiple of datasets.train.batch_size_per_gpu 2"
    )
    assert error_of(tiny_realesrgan(), ["gt_size=64"]) == (
        "gt_size: 64 exceeds datasets.train.crop_pad_size 48"
    )
    assert error_of(tiny_realesrgan(), ["train.perceptual_opt.layer_weights={conv5_5: 1}"]) == (
        "train.perceptual_opt.layer_weights.conv5_5: unknown VGG19 layer (did you mean 'conv5_4'?)"
    )


def test_error_messages_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "opt.yml"
    path.write_text(yaml.safe_dump(tiny_sr()))
    with pytest.raises(ConfigError, match=re.escape(f"{path}: train.optim_g.lrr: unknown key")):
        load_options(path, ["train.optim_g.lrr=1"])
    with pytest.raises(
        ConfigError, match=re.escape(f"{tmp_path / 'nope.yml'}: no such options file")
    ):
        load_options(tmp_path / "nope.yml")
    path.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match=re.escape(f"{path}: invalid YAML")):
        load_options(path)
    path.write_text("- a list\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_options(path)


@pytest.mark.parametrize("pattern", sorted(IGNORED_KEYS))
def test_ignored_keys_are_accepted_and_dropped(pattern: str) -> None:
    raw = tiny_sr()
    parts = pattern.replace("*", "train" if pattern.startswith("datasets") else "psnr").split(".")
    node = raw
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = "anything"
    options = options_from_dict(raw)
    assert options == options_from_dict(tiny_sr())
    assert "anything" not in yaml.safe_dump(resolved_dict(options))


# ------------------------------------------------------------------------------------------------
# BasicSR semantics


def test_float_spellings_of_integers_and_numbers() -> None:
    text = (
        yaml.safe_dump(tiny_sr()) + "logger: {print_freq: !!float 1e2, save_checkpoint_freq: 5e3}\n"
    )
    raw = yaml.safe_load(text)
    assert raw["logger"]["save_checkpoint_freq"] == "5e3"  # YAML 1.1 reads a string here
    raw["train"]["optim_g"]["lr"] = "2e-4"
    options = options_from_dict(raw)
    assert options.logger.print_freq == 100 and type(options.logger.print_freq) is int
    assert options.logger.save_checkpoint_freq == 5000
    assert options.train.optim_g.args["lr"] == 2e-4
    assert options.train.scheduler is not None
    assert options.train.scheduler.args["gamma"] == 0.5
    assert (
        options_from_dict(apply_overrides(raw, ["logger.print_freq=1.5e2"])).logger.print_freq
        == 150
    )
    assert (
        error_of(raw, ["logger.print_freq=1.5"])
        == "logger.print_freq: expected an integer, got 1.5"
    )


def test_defaults_and_nulls() -> None:
    options = options_from_dict(tiny_sr())
    assert options.manual_seed == 0 and options.num_gpu == 0
    assert options.path == PathOptions()
    assert options.logger == LoggerOptions() and options.logger.keep_checkpoints == 3
    assert options.dist_params == DistOptions(backend="nccl", port=29500)
    train = options.train
    assert (train.ema_decay, train.warmup_iter, train.net_d_iters, train.net_d_init_iters) == (
        0.0,
        -1,
        1,
        0,
    )
    assert train.grad_clip is None and train.mixed_precision == "no" and train.max_bad_steps == 10
    assert not train.channels_last and not train.compile
    val_set = options.datasets["val"]
    assert val_set.phase == "val" and val_set.scale == 2 and val_set.crop_pad_size is None
    assert val_set.filename_tmpl == "{}" and val_set.io_backend.type == "disk"
    assert options.val == ValOptions(
        val_freq=10, metrics={"psnr": MetricOptions(type="calculate_psnr", crop_border=2)}
    )
    nulls = ["path.resume_state=~", "logger.wandb=null", "network_d=null", "val.metrics=~"]
    options = options_from_dict(apply_overrides(tiny_sr(), nulls))
    assert options.path.resume_state is None and options.logger.wandb is None
    assert options.val is not None and options.val.metrics == {}
    with_wandb = options_from_dict(apply_overrides(tiny_sr(), ["logger.wandb={project: p}"]))
    assert with_wandb.logger.wandb == WandbOptions(project="p")
    auto = options_from_dict(apply_overrides(tiny_sr(), ["num_gpu=auto", "manual_seed=7"]))
    assert auto.num_gpu == "auto" and auto.manual_seed == 7


def test_metric_aliases_and_better() -> None:
    raw = tiny_sr()
    raw["val"]["metrics"] = {
        "p": {"type": "psnr", "test_y_channel": True},
        "s": {"type": "ssim"},
        "n": {"type": "niqe", "crop_border": 4},
        "n2": {"type": "calculate_niqe", "better": "higher"},
    }
    metrics = options_from_dict(raw).val.metrics  # type: ignore[union-attr]
    assert [m.type for m in metrics.values()] == [
        "calculate_psnr",
        "calculate_ssim",
        "calculate_niqe",
        "calculate_niqe",
    ]
    assert [m.better for m in metrics.values()] == ["higher", "higher", "lower", "higher"]
    assert metrics["p"].test_y_channel is True


def test_experiment_dir_and_expanded_paths() -> None:
    options = options_from_dict(apply_overrides(tiny_sr(), ["path.experiments_root=runs/x"]))
    assert options.experiment_dir == Path("runs/x")
    options = options_from_dict(apply_overrides(tiny_sr(), ["datasets.train.dataroot_gt=~/hr"]))
    assert options.datasets["train"].dataroot_gt == str(Path("~/hr").expanduser())


def test_every_model_type_loads() -> None:
    for model_type in MODEL_TYPES:
        raw = tiny_realesrgan() if model_type.startswith("Real") else tiny_sr()
        raw["model_type"] = model_type
        gan = model_type in ("RealESRGANModel", "ESRGANModel", "SRGANModel")
        if gan and "network_d" not in raw:
            raw["network_d"] = {"type": "VGGStyleDiscriminator", "num_feat": 8, "input_size": 32}
            raw["train"]["optim_d"] = {"type": "AdamW", "lr": 1e-4}
            raw["train"]["gan_opt"] = {"type": "GANLoss", "gan_type": "lsgan"}
        if not gan:
            for key in ("network_d",):
                raw.pop(key, None)
            for key in ("optim_d", "gan_opt"):
                raw["train"].pop(key, None)
        assert options_from_dict(raw).model_type == model_type


def test_optimizers_and_schedulers() -> None:
    sgd = options_from_dict(
        apply_overrides(
            tiny_sr(), ["train.optim_g={type: SGD, lr: 0.1, momentum: 0.9, nesterov: true}"]
        )
    )
    assert sgd.train.optim_g.args == {"lr": 0.1, "momentum": 0.9, "nesterov": True}
    assert error_of(tiny_sr(), ["train.optim_g={type: SGD, betas: [0.9, 0.9]}"]).startswith(
        "train.optim_g.betas: unknown key for SGD"
    )
    cosine = "train.scheduler={type: CosineAnnealingRestartLR, periods: [5, 5], restart_weights: [1, 0.5], eta_min: 1e-7}"
    options = options_from_dict(apply_overrides(tiny_sr(), [cosine]))
    assert options.train.scheduler is not None
    assert options.train.scheduler.args == {
        "periods": [5, 5],
        "restart_weights": [1.0, 0.5],
        "eta_min": 1e-7,
    }
    restart = "train.scheduler={type: MultiStepRestartLR, milestones: [4], restarts: [0, 10], restart_weights: [1, 0.5]}"
    assert options_from_dict(apply_overrides(tiny_sr(), [restart])).train.scheduler is not None


# ------------------------------------------------------------------------------------------------
# Degradation routing


def test_tiny_realesrgan_routes_and_builds() -> None:
    raw = tiny_realesrgan()
    options = options_from_dict(raw)
    spec = options.degradation.spec
    assert spec == reference_spec(raw)
    assert spec is not None and spec["gt_usm"] is True and spec["scale"] == 4
    assert options.degradation.gt_size == 32 and options.degradation.queue_size == 4
    assert options.datasets["train"].crop_pad_size == 48
    build_pipeline(spec)


def test_routed_key_errors_name_the_option_key() -> None:
    raw = tiny_realesrgan()
    assert error_of(raw, ["noise_range2=[5, 1]"]).startswith("noise_range2: ")
    assert error_of(raw, ["datasets.train.blur_sigma2=[3, 1]"]).startswith(
        "datasets.train.blur_sigma2: "
    )
    assert error_of(raw, ["datasets.train.final_sinc_prob=3"]).startswith(
        "datasets.train.final_sinc_prob: "
    )
    assert error_of(raw, ["resize_prob=[0.5, 0.5]"]).startswith("resize_prob: ")
    assert error_of(raw, ["second_blur_prob=2"]).startswith("second_blur_prob: ")
    assert error_of(raw, ["datasets.train.kernel_list=[iso, foo]"]).startswith(
        "datasets.train.kernel_list: "
    )
    assert error_of(raw, ["jpeg_range=x"]) == "jpeg_range: expected a list, got 'x'"
    del raw["jpeg_range2"]
    assert error_of(raw).startswith("jpeg_range2: missing")


def test_degradation_key_conflicts_with_routed_keys() -> None:
    message = error_of(tiny_realesrgan(), ["degradation=bicubic"])
    assert message.startswith("degradation: cannot be combined with Real-ESRGAN's degradation keys")
    only_dataset_keys = tiny_realesrgan()
    for key in TOP_LEVEL_KEYS:
        del only_dataset_keys[key]
    assert error_of(only_dataset_keys, ["degradation=bicubic"]).startswith(
        "degradation: cannot be combined"
    )
    assert error_of(tiny_sr(), ["resize_prob=[0.2, 0.7, 0.1]"]).startswith(
        "resize_prob: a Real-ESRGAN degradation key, read only with model_type"
    )
    assert error_of(tiny_sr(), ["datasets.train.kernel_list=[iso]"]).startswith(
        "datasets.train.kernel_list: a Real-ESRGAN degradation key"
    )


def _without_routed_keys(raw: dict[str, Any]) -> dict[str, Any]:
    raw = copy.deepcopy(raw)
    for key in TOP_LEVEL_KEYS:
        raw.pop(key, None)
    for key in DATASET_KEYS:
        raw["datasets"]["train"].pop(key, None)
    return raw


def test_degradation_key_selects_a_pipeline(tmp_path: Path) -> None:
    raw = _without_routed_keys(tiny_realesrgan())
    preset = options_from_dict({**raw, "degradation": "realesrgan_x2plus"})
    expected = preset_spec("realesrgan_x2plus")
    assert preset.degradation.spec == {**expected, "scale": 4}
    assert preset.degradation.gt_usm is expected["gt_usm"]
    pipeline_file = tmp_path / "pipe.yaml"
    pipeline_file.write_text(yaml.safe_dump({**preset_spec("bicubic"), "scale": 4}))
    from_file = options_from_dict({**raw, "degradation": str(pipeline_file)})
    assert from_file.degradation.spec == {**preset_spec("bicubic"), "scale": 4}
    assert from_file.degradation.gt_usm is False
    mapping = {"name": "m", "scale": 4, "ops": [{"type": "resize_to"}]}
    assert options_from_dict({**raw, "degradation": mapping, "gt_usm": True}).degradation.spec == {
        **mapping,
        "gt_usm": True,
    }
    assert error_of({**raw, "degradation": {**mapping, "scale": 2}}) == (
        "degradation.scale: 2 does not match the top-level scale 4"
    )
    assert error_of({**raw, "degradation": "bicubik"}).startswith(
        "degradation: unknown preset 'bicubik' (did you mean 'bicubic'?)"
    )
    assert error_of({**raw, "degradation": str(tmp_path / "missing.yaml")}).startswith(
        "degradation: no such pipeline file"
    )
    bad = {"ops": [{"type": "blur", "sigmaa": [1, 2]}]}
    assert error_of({**raw, "degradation": bad}).startswith("degradation: ops[0].sigmaa: unknown")
    assert error_of({**raw, "degradation": "bicubic", "high_order_degradation": False}).startswith(
        "degradation: cannot be combined with high_order_degradation: false"
    )


def test_missing_routed_keys_without_degradation_key_is_an_error() -> None:
    assert error_of(_without_routed_keys(tiny_realesrgan())).endswith(
        "missing (needed to build the degradation pipeline)"
    )


def test_high_order_false_takes_lr_from_the_dataset() -> None:
    raw = _without_routed_keys(tiny_realesrgan())
    raw["high_order_degradation"] = False
    raw["datasets"]["train"] = {
        "name": "pairs",
        "type": "RealESRGANPairedDataset",
        "dataroot_gt": "data/hr",
        "dataroot_lq": "data/lr",
        "gt_size": 32,
    }
    options = options_from_dict(raw)
    assert options.degradation.spec is None
    assert options.degradation.high_order_degradation is False


def test_sr_models_on_hr_only_data_default_to_bicubic() -> None:
    raw = tiny_sr()
    raw["datasets"]["train"] = {
        "name": "hr",
        "type": "RealESRGANDataset",
        "dataroot_gt": "data/hr",
        "gt_size": 32,
    }
    options = options_from_dict(raw)
    assert options.degradation.spec == {**preset_spec("bicubic"), "scale": 2}
    assert options.degradation.gt_size == 32 and options.degradation.gt_usm is False
    assert options_from_dict(yaml.safe_load(yaml.safe_dump(resolved_dict(options)))) == options
    chosen = options_from_dict({**raw, "degradation": "realesrgan_x4plus"})
    assert chosen.degradation.spec is not None
    assert chosen.degradation.spec["name"] == "realesrgan_x4plus"
    assert chosen.degradation.spec["scale"] == 2
    assert error_of(tiny_sr(), ["degradation=bicubic"]).startswith(
        "degradation: datasets.train has dataroot_lq"
    )


# ------------------------------------------------------------------------------------------------
# Overrides


def test_overrides_both_spellings_and_yaml_values() -> None:
    raw = tiny_sr()
    out = apply_overrides(
        raw,
        [
            "train.total_iter=10",
            "datasets:train:gt_size=64",
            "train.optim_g.lr=1e-4",
            "train.optim_g.betas=[0.5, 0.9]",
            "path.resume_state=null",
            "path:pretrain_network_g=None",
            "logger.use_tb_logger=true",
            "name = spaced ",
            "val.val_freq=5e3",
        ],
    )
    assert raw == tiny_sr()  # the input is not modified
    assert out["train"]["total_iter"] == 10 and out["datasets"]["train"]["gt_size"] == 64
    assert out["train"]["optim_g"]["lr"] == 1e-4 and isinstance(
        out["train"]["optim_g"]["lr"], float
    )
    assert out["train"]["optim_g"]["betas"] == [0.5, 0.9]
    assert out["path"] == {"resume_state": None, "pretrain_network_g": None}
    assert out["logger"]["use_tb_logger"] is True and out["name"] == "spaced"
    options = options_from_dict(out)
    assert options.val is not None and options.val.val_freq == 5000
    assert options.train.optim_g.args["lr"] == 1e-4 and options.datasets["train"].gt_size == 64


def test_override_errors() -> None:
    with pytest.raises(ConfigError, match="expected key.path=value"):
        apply_overrides(tiny_sr(), ["train.total_iter"])
    with pytest.raises(ConfigError, match="expected key.path=value"):
        apply_overrides(tiny_sr(), ["train..total_iter=3"])
    with pytest.raises(ConfigError, match="train.total_iter is 20, not a section"):
        apply_overrides(tiny_sr(), ["train.total_iter.x=3"])
    with pytest.raises(ConfigError, match="invalid YAML value"):
        apply_overrides(tiny_sr(), ["name=[unclosed"])
    # an unknown path fails at validation with the nearest key; new keys only where allowed
    assert error_of(tiny_sr(), ["train.totl_iter=3"]) == (
        "train.totl_iter: unknown key (did you mean 'total_iter'?)"
    )
    assert error_of(tiny_sr(), ["train.optim_g.foo=1"]).startswith("train.optim_g.foo: unknown key")
    allowed = options_from_dict(apply_overrides(tiny_sr(), ["train.grad_clip=0.5"]))
    assert allowed.train.grad_clip == 0.5
    never_evaluated = options_from_dict(apply_overrides(tiny_sr(), ["name=__import__('os')"]))
    assert never_evaluated.name == "__import__('os')"


def test_a_null_override_drops_a_validation_set_but_not_the_training_set() -> None:
    raw = tiny_sr()
    assert "val" in raw["datasets"]
    dropped = options_from_dict(apply_overrides(raw, ["datasets.val=null"]))
    assert set(dropped.datasets) == {"train"}
    kept = options_from_dict(raw)
    assert set(kept.datasets) == {"train", "val"}
    assert "datasets.train" in error_of(raw, ["datasets.train=null"])


def test_load_options_applies_overrides(tmp_path: Path) -> None:
    path = tmp_path / "opt.yml"
    path.write_text(yaml.safe_dump(tiny_sr()))
    options = load_options(path, ["train:total_iter=3", "train.ema_decay=0.5"])
    assert options.train.total_iter == 3 and options.train.ema_decay == 0.5


# ------------------------------------------------------------------------------------------------
# resolved_dict


def test_resolved_dict_is_plain_yaml_and_round_trips() -> None:
    for raw in (tiny_sr(), tiny_realesrgan()):
        options = options_from_dict(raw)
        resolved = resolved_dict(options)
        text = yaml.safe_dump(resolved)  # safe_dump refuses Paths, tuples and dataclasses
        again = options_from_dict(yaml.safe_load(text))
        assert again == options
        assert resolved_dict(again) == resolved
        assert "phase" not in resolved["datasets"]["train"]
    resolved = resolved_dict(options_from_dict(tiny_realesrgan()))
    assert not set(TOP_LEVEL_KEYS) & set(resolved)
    assert not set(DATASET_KEYS) & set(resolved["datasets"]["train"])
    assert resolved["degradation"] == reference_spec(tiny_realesrgan())


def test_options_are_frozen() -> None:
    options = options_from_dict(tiny_sr())
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.scale = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.train.total_iter = 3  # type: ignore[misc]


# ------------------------------------------------------------------------------------------------
# The reference doc lists every key


def test_docs_list_every_option_and_ignored_key() -> None:
    text = (REPO_ROOT / "docs" / "training_options.md").read_text()
    classes = (
        TrainOptions,
        DatasetOptions,
        PathOptions,
        TrainSection,
        ValOptions,
        MetricOptions,
        LoggerOptions,
        WandbOptions,
        DistOptions,
        DegradationOptions,
    )
    missing = [
        f"{cls.__name__}.{f.name}"
        for cls in classes
        for f in dataclasses.fields(cls)
        if f"`{f.name}`" not in text and f.name != "spec"
    ]
    missing += [key for key in IGNORED_KEYS if f"`{key}`" not in text]
    assert not missing, f"docs/training_options.md does not mention {missing}"
