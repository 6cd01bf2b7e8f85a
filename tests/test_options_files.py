"""The training recipes in ``options/``: every file loads and builds (task, optimizers, learning
rates), the recipes carry the published values, and the official BasicSR / Real-ESRGAN options
files train two iterations on the CPU through the Trainer."""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml

from degrade.dataset_io import REALESRGAN_META
from realsr.archs import ARCHS, build_model
from realsr.checkpoint import load_model, save_checkpoint
from realsr.config import GAN_MODEL_TYPES, TrainOptions, TypedSection, load_options
from realsr.train.optim import LearningRates, build_optimizer
from realsr.train.tasks import TASKS
from tests._reference import REPO_ROOT, shared_dir
from tests.realsr.train._toy import make_images

CPU = torch.device("cpu")
OPTIONS_DIR = REPO_ROOT / "options"
RECIPES = sorted(OPTIONS_DIR.glob("*.yml"))

PUBLISHED: dict[str, str | None] = {
    "train_realesrnet_x4plus.yml": "realesrgan_options/train_realesrnet_x4plus.yml",
    "train_realesrgan_x4plus.yml": "realesrgan_options/train_realesrgan_x4plus.yml",
    "train_realesrnet_x2plus.yml": "realesrgan_options/train_realesrnet_x2plus.yml",
    "train_realesrgan_x2plus.yml": "realesrgan_options/train_realesrgan_x2plus.yml",
    "finetune_realesrgan_x4plus_pairdata.yml": "realesrgan_options/finetune_realesrgan_x4plus.yml",
    "train_EDSR_x4.yml": "basicsr_options/train_EDSR_Mx4.yml",
    "train_MSRResNet_x4.yml": "basicsr_options/train_MSRResNet_x4.yml",
    "train_SRGAN_x4.yml": "basicsr_options/train_MSRGAN_x4.yml",
    "train_RRDBNet_PSNR_x4.yml": "basicsr_options/train_RRDBNet_PSNR_x4.yml",
    "train_ESRGAN_x4.yml": "basicsr_options/train_ESRGAN_x4.yml",
    "train_realesr_general_x4v3.yml": None,
    "train_RDN_x4.yml": None,
    "train_SRCNN_x4.yml": None,
    "train_VDSR_x4.yml": None,
    "train_ESPCN_x4.yml": None,
}
"""Each recipe of the project and the published options file it follows (in the shared
reference folder), or None when none exists (values from a paper, or our choice)."""


def recipe(name: str) -> Path:
    return OPTIONS_DIR / name


def build_overrides(raw: dict[str, Any]) -> list[str]:
    """Overrides that let a recipe build without files from outside the repository: no pretrained
    weights, and a randomly initialised VGG19 for a perceptual loss (no weights file)."""
    overrides = ["path.pretrain_network_g=null", "path.pretrain_network_d=null"]
    if (raw.get("train") or {}).get("perceptual_opt") is not None:
        overrides.append("train.perceptual_opt.pretrained=false")
    return overrides


def build_task(options: TrainOptions) -> Any:
    return TASKS.get(options.model_type)(options, device=CPU)


def test_every_recipe_is_there() -> None:
    assert set(PUBLISHED) <= {path.name for path in RECIPES}


def test_readme_lists_every_recipe() -> None:
    table = (OPTIONS_DIR / "README.md").read_text()
    assert [p.name for p in RECIPES if f"| `{p.name}` |" not in table] == []


def test_recipe_names_are_the_file_names() -> None:
    """A recipe's run goes to ``experiments/<file name without .yml>``: the folders are distinct
    and the next stage of a two-stage recipe can name the previous one's models."""
    names = {path.stem: yaml.safe_load(path.read_text())["name"] for path in RECIPES}
    assert names == {stem: stem for stem in names}


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.stem)
def test_recipe_loads_and_builds(path: Path) -> None:
    raw = yaml.safe_load(path.read_text())
    options = load_options(path, build_overrides(raw))
    task = build_task(options)
    nets = task.networks()
    gan = options.model_type in GAN_MODEL_TYPES
    assert set(nets) == ({"g", "d"} if gan else {"g"})
    assert (options.network_d is not None) == gan

    optimizers = {
        name: build_optimizer(getattr(options.train, f"optim_{name}"), net.parameters())
        for name, net in nets.items()
    }
    lrs = LearningRates(optimizers, options.train.scheduler, warmup_iter=options.train.warmup_iter)
    configured = {n: float(getattr(options.train, f"optim_{n}").args["lr"]) for n in nets}
    if options.train.warmup_iter <= 1:
        assert lrs.current() == pytest.approx(configured)
    for it in range(1, 3):
        lrs.step(it)
    assert all(0 < lr <= configured[n] for n, lr in lrs.current().items())

    # The generator super-resolves an LR image by `scale` (pre-upsampling nets included).
    lq = torch.rand(1, 3, 8, 8)
    net_g = nets["g"].eval()
    sr = task.validation_step({"lq": lq, "lq_path": ["x.png"]}, net_g)["sr"]
    assert sr.shape == (1, 3, 8 * options.scale, 8 * options.scale)

    # PSNR / SSIM skip `scale` border pixels, as the SR literature does.
    for metric in options.val.metrics.values() if options.val else []:
        if metric.type.removeprefix("calculate_") in ("psnr", "ssim"):
            assert metric.crop_border == options.scale
    if path.name in PUBLISHED:  # pretrained weights are local files, never downloaded
        for key in ("pretrain_network_g", "pretrain_network_d"):
            value = (raw.get("path") or {}).get(key)
            assert value is None or value.startswith("experiments/pretrained_models/"), key


# ------------------------------------------------------------------------------------------------
# The recipes carry the published values


def arguments(section: TypedSection | None) -> tuple[str, dict[str, Any]] | None:
    """``(type, args)`` with an architecture's defaults filled in and tuples as lists."""
    if section is None:
        return None
    args = dict(section.args)
    if section.where.startswith("network_"):
        params = inspect.signature(ARCHS.get(section.type).__init__).parameters.values()
        defaults = {p.name: p.default for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}
        args = {**defaults, **args}
    return section.type, json.loads(json.dumps(args, default=list))


def degradation_of(options: TrainOptions) -> dict[str, Any]:
    """``options.degradation`` as a dict, without the spec's description (it quotes the name)."""
    degradation = dataclasses.asdict(options.degradation)
    if degradation["spec"] is not None:
        degradation["spec"].pop("description", None)
    return degradation


def recipe_values(options: TrainOptions, *, data: bool = True) -> dict[str, Any]:
    """What a recipe trains and how: everything but names, paths, validation and logging."""
    train = options.train
    values: dict[str, Any] = {
        "model_type": options.model_type,
        "scale": options.scale,
        "manual_seed": options.manual_seed,
        "network_g": arguments(options.network_g),
        "network_d": arguments(options.network_d),
        "pretrained": [
            (options.path.pretrain_network_g is not None, options.path.param_key_g),
            options.path.strict_load_g,
            (options.path.pretrain_network_d is not None, options.path.param_key_d),
            options.path.strict_load_d,
        ],
    }
    for field in dataclasses.fields(train):
        value = getattr(train, field.name)
        values[f"train.{field.name}"] = (
            arguments(value) if isinstance(value, TypedSection) or value is None else value
        )
    if data:
        ds = options.datasets["train"]
        values["degradation"] = degradation_of(options)
        for key in ("type", "gt_size", "use_hflip", "use_rot", "use_shuffle", "batch_size_per_gpu"):
            values[f"datasets.train.{key}"] = getattr(ds, key)
        values["datasets.train.num_worker_per_gpu"] = ds.num_worker_per_gpu
        values["datasets.train.dataset_enlarge_ratio"] = ds.dataset_enlarge_ratio
        values["datasets.train.crop_pad_size"] = ds.crop_pad_size
    return values


@pytest.mark.shared
@pytest.mark.parametrize("name", [n for n, p in PUBLISHED.items() if p], ids=lambda n: n[:-4])
def test_recipe_follows_the_published_file(name: str) -> None:
    """Everything that decides the training (networks, losses, optimizers, schedule, data,
    degradation) equals the published file's; paths, names, validation and logging may differ."""
    published = PUBLISHED[name]
    assert published is not None
    theirs = load_options(shared_dir() / "reference" / published)
    ours = load_options(recipe(name))
    # The paired fine-tuning recipe takes its LR images from a dataset and starts from the final
    # Real-ESRGAN model: its data, degradation and starting files cannot match the published
    # on-the-fly fine-tuning recipe; everything else does.
    data = not name.startswith("finetune_")
    assert recipe_values(ours, data=data) == recipe_values(theirs, data=data)
    if data and published.startswith("realesrgan_options/"):  # the same pretrained files
        for key in ("pretrain_network_g", "pretrain_network_d"):
            mine, published_path = getattr(ours.path, key), getattr(theirs.path, key)
            assert (mine and Path(mine).name) == (published_path and Path(published_path).name)


def test_paired_finetuning_recipe() -> None:
    options = load_options(recipe("finetune_realesrgan_x4plus_pairdata.yml"))
    train_set = options.datasets["train"]
    assert options.degradation.high_order_degradation is False
    assert options.degradation.spec is None  # the LR images come from the dataset
    assert train_set.type == "RealESRGANPairedDataset" and train_set.dataroot_lq is not None
    assert train_set.meta_info is not None and Path(train_set.meta_info).name == REALESRGAN_META
    assert options.path.pretrain_network_g is not None and options.path.pretrain_network_d
    assert Path(options.path.pretrain_network_d).name == "RealESRGAN_x4plus_netD.pth"


def warmup_overrides(path: Path) -> list[str]:
    """The ``--set`` overrides of the ``realsr train`` command quoted in a file's header."""
    header = "\n".join(
        line[1:] for line in path.read_text().splitlines() if line.startswith("#")
    ).replace("\\\n", " ")
    command = next(line for line in header.splitlines() if "--set" in line)
    words = shlex.split(command)
    return words[words.index("--set") + 1 :]


def test_general_x4v3_recipe_and_its_l1_warmup() -> None:
    options = load_options(
        recipe("train_realesr_general_x4v3.yml"), ["path.pretrain_network_g=null"]
    )
    assert options.model_type == "RealESRGANModel"
    assert arguments(options.network_g) == (
        "SRVGGNetCompact",
        {
            "num_in_ch": 3,
            "num_out_ch": 3,
            "num_feat": 64,
            "num_conv": 32,
            "upscale": 4,
            "act_type": "prelu",
        },
    )
    x4plus = load_options(recipe("train_realesrgan_x4plus.yml"))
    assert degradation_of(options) == degradation_of(x4plus)  # Real-ESRGAN's, unchanged
    assert options.train.gan_opt == x4plus.train.gan_opt
    assert options.network_d == x4plus.network_d

    # The L1 warm-up command given in the file's header builds a generator-only RealESRNet run.
    overrides = warmup_overrides(recipe("train_realesr_general_x4v3.yml"))
    assert any(o.startswith("model_type=") for o in overrides)
    warmup = load_options(recipe("train_realesr_general_x4v3.yml"), overrides)
    assert warmup.model_type == "RealESRNetModel" and warmup.network_d is None
    assert warmup.degradation.gt_usm is True
    assert degradation_of(warmup)["spec"] == degradation_of(options)["spec"]
    assert set(build_task(warmup).networks()) == {"g"}


def test_classic_recipes() -> None:
    """Classic networks learn bicubic x4: from DIV2K pairs, or HR crops downscaled on the fly."""
    for name in ("train_SRCNN_x4.yml", "train_VDSR_x4.yml", "train_ESPCN_x4.yml"):
        options = load_options(recipe(name))
        assert options.degradation.spec is not None
        assert (
            options.degradation.spec["name"] == "bicubic" and options.degradation.spec["scale"] == 4
        )
        assert options.datasets["train"].dataroot_lq is None
        assert options.datasets["train"].crop_pad_size == options.degradation.gt_size
    for name in PUBLISHED:
        options = load_options(recipe(name))
        if options.model_type in ("SRModel", "SRGANModel", "ESRGANModel"):
            assert options.val is not None, name
            for metric in options.val.metrics.values():
                if metric.type.removeprefix("calculate_") == "psnr":
                    assert metric.test_y_channel, name
            if options.degradation.spec is None:
                assert options.datasets["train"].dataroot_lq is not None, name
    rdn = load_options(recipe("train_RDN_x4.yml")).network_g.args  # the paper's D, C, G, G0
    assert [rdn[k] for k in ("num_block", "num_layer", "growth_rate", "num_feat")] == [
        16,
        8,
        64,
        64,
    ]


@pytest.mark.parametrize(
    ("name", "source", "shrink", "skipped"),
    [
        (
            "train_realesrnet_x2plus.yml",
            ("RRDBNet", {"num_feat": 8, "num_block": 1, "num_grow_ch": 4, "scale": 4}),
            ["network_g.num_feat=8", "network_g.num_block=1", "network_g.num_grow_ch=4"],
            r"conv_first\.weight",  # 12 input channels (pixel-unshuffled) at x2, 3 at x4
        ),
        (
            "train_EDSR_x4.yml",
            ("EDSR", {"num_feat": 8, "num_block": 1, "upscale": 2}),
            ["network_g.num_feat=8", "network_g.num_block=1"],
            r"upsample\..*",  # one pixel-shuffle stage at x2, two at x4
        ),
    ],
    ids=["realesrnet_x2plus_from_x4", "edsr_x4_from_x2"],
)
def test_recipes_starting_from_another_scale(
    tmp_path: Path, name: str, source: tuple[str, dict[str, Any]], shrink: list[str], skipped: str
) -> None:
    """``strict_load_g: false`` loads every tensor of the other scale's model that fits; only the
    scale-specific layers keep their initialisation. Strict loading would refuse the file."""
    other = build_model(*source)
    file = save_checkpoint(tmp_path / "other_scale.pth", other, ema_model=other)
    options = load_options(recipe(name), [*shrink, f"path.pretrain_network_g={file}"])
    assert options.path.strict_load_g is False
    mine = build_task(options).networks()["g"].state_dict()
    theirs = other.state_dict()
    not_loaded = {k for k in mine if k not in theirs or mine[k].shape != theirs[k].shape}
    assert not_loaded and all(re.fullmatch(skipped, k) for k in not_loaded)
    assert all(torch.equal(mine[k], theirs[k]) for k in mine if k not in not_loaded)
    strict = load_options(
        recipe(name), [*shrink, f"path.pretrain_network_g={file}", "path.strict_load_g=true"]
    )
    with pytest.raises(ValueError, match="strict_load_g"):
        build_task(strict)


# ------------------------------------------------------------------------------------------------
# The official files train on the CPU

OFFICIAL = sorted(
    {p for p in PUBLISHED.values() if p} | {"realesrgan_options/finetune_realesrgan_x4plus.yml"}
)
OFFICIAL_GAN = {
    "realesrgan_options/finetune_realesrgan_x4plus.yml",
    "realesrgan_options/train_realesrgan_x2plus.yml",
    "realesrgan_options/train_realesrgan_x4plus.yml",
    "basicsr_options/train_ESRGAN_x4.yml",
    "basicsr_options/train_MSRGAN_x4.yml",
}
"""The official GAN files: a VGG19 and a discriminator make each run take 5-15 s (slow tier)."""


def write_pairs(root: Path, size: int, scale: int, count: int = 3) -> tuple[Path, Path]:
    """``count`` HR images of ``size`` px in ``root/hr`` and their x``scale`` LR in ``root/lr``."""
    import cv2

    hr = make_images(root / "hr", count=count, size=size)
    lr = root / "lr"
    lr.mkdir()
    for file in sorted(hr.iterdir()):
        image = cv2.imread(str(file))
        assert image is not None, file
        small = cv2.resize(image, (size // scale, size // scale), interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(lr / file.name), small)
    return hr, lr


def tiny_run_overrides(raw: dict[str, Any], root: Path) -> list[str]:
    """The overrides that let an official options file train two iterations on the CPU.

    Paths (the file's folders and pretrained models do not exist here):

    - ``path.experiments_root``: a temporary folder;
    - ``path.pretrain_network_g`` / ``path.pretrain_network_d``: null;
    - ``datasets.<set>.dataroot_gt`` / ``dataroot_lq``: three 128 px HR images and their LR
      versions at 1/``scale`` (a Real-ESRGAN training set reads the HR only);
    - ``datasets.train.meta_info`` / ``meta_info_file`` (when the file has one): null, so the
      folder is listed.

    Sizes (so that an iteration takes a fraction of a second on a CPU):

    - ``num_gpu``: 0 (the CPU);
    - ``train.total_iter``: 2;
    - ``datasets.train.batch_size_per_gpu``: 1 and ``datasets.train.num_worker_per_gpu``: 0;
    - ``network_g.num_block``: 1 (23 RRDB blocks, or 16 residual blocks, in the files);
    - Real-ESRGAN files: ``gt_size`` and ``datasets.train.gt_size`` 32 (256 in the files) and
      ``datasets.train.crop_pad_size`` 64 (the project's name for Real-ESRGAN's fixed 400 px
      patch);
    - BasicSR's SRModel files: ``datasets.train.gt_size`` 32 (128 or 192 in the files); the GAN
      files keep 128, the input size of their VGG-style discriminator.

    Weights: ``train.perceptual_opt.pretrained``: false (a randomly initialised VGG19 instead of
    the VGG19 weights file).

    Everything else (networks' widths, losses, optimizers, schedules, degradation, EMA, logging,
    validation at the last iteration) is the file's own.
    """
    model_type = raw["model_type"]
    sizes: list[str] = [
        "num_gpu=0",
        "train.total_iter=2",
        "datasets.train.batch_size_per_gpu=1",
        "datasets.train.num_worker_per_gpu=0",
        "network_g.num_block=1",
    ]
    if model_type.startswith("RealESR"):
        sizes += ["gt_size=32", "datasets.train.gt_size=32", "datasets.train.crop_pad_size=64"]
    elif model_type == "SRModel":
        sizes.append("datasets.train.gt_size=32")
    paths = [
        f"path.experiments_root={root / 'experiment'}",
        "path.pretrain_network_g=null",
        "path.pretrain_network_d=null",
    ]
    for key, section in raw["datasets"].items():
        paths.append(f"datasets.{key}.dataroot_gt={root / 'hr'}")
        if "dataroot_lq" in section:
            paths.append(f"datasets.{key}.dataroot_lq={root / 'lr'}")
        for meta in ("meta_info", "meta_info_file"):
            if meta in section:
                paths.append(f"datasets.{key}.{meta}=null")
    weights = build_overrides(raw)[2:]
    return [*paths, *sizes, *weights]


def weights_of(net: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


@pytest.mark.shared
@pytest.mark.parametrize(
    "relative",
    [
        pytest.param(r, marks=[pytest.mark.slow] if r in OFFICIAL_GAN else [], id=Path(r).stem)
        for r in OFFICIAL
    ],
)
def test_official_file_trains_two_iterations(relative: str, tmp_path: Path) -> None:
    from realsr.train.trainer import Trainer

    path = shared_dir() / "reference" / relative
    raw = yaml.safe_load(path.read_text())
    write_pairs(tmp_path, size=128, scale=raw["scale"])
    options = load_options(path, tiny_run_overrides(raw, tmp_path))
    assert options.train.total_iter == 2

    trainer = Trainer(options)
    nets = trainer.task.networks()
    before = {name: weights_of(net) for name, net in nets.items()}
    trainer.run()

    assert trainer.iteration == 2
    for name, net in trainer.task.networks().items():
        after = net.state_dict()
        assert any(not torch.equal(after[k], v) for k, v in before[name].items()), name
    models = options.experiment_dir / "models"
    generator = load_model(models / "net_g_latest.pth")
    assert type(generator).__name__ == options.network_g.type
    assert generator.scale == options.scale
    assert (options.experiment_dir / "training_states" / "2.state").is_file()
    if options.network_d is not None:
        assert (models / "net_d_2.pth").is_file()
    if options.val is not None:
        assert trainer.validator.best  # validated at the last iteration
