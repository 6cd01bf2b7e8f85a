"""Training-step benchmark: RealESRGAN x4plus iterations per second, ours against Real-ESRGAN's.

Usage::

    .venv/bin/python benchmarks/bench_train.py            # batch 4, 400 -> 256 crops, 5 rounds
    .venv/bin/python benchmarks/bench_train.py --quick    # batch 2, 128 -> 128 crops, 3 rounds
    python -m benchmarks.bench_train --batch 2 --size 256 --gt-size 256 --rounds 3

One training iteration of Real-ESRGAN's ``train_realesrgan_x4plus.yml`` (RRDBNet, 23 blocks, x4;
UNetDiscriminatorSN; L1 + VGG19 perceptual + vanilla GAN losses; EMA of the generator with decay
0.999; Adam for both networks) on a batch of HR images of side ``--size`` (what the dataset
delivers; ``crop_pad_size`` 400 in the official setting) that is degraded online by the
second-order pipeline into LR images and cropped to ``--gt-size`` GT / ``gt-size / 4`` LR pairs.
Both sides run in the same process, on the CPU, with the same thread count, the same options file
(only paths, batch and sizes changed) and the same HR batches, interleaved round by round:

- **ours**: the ``RealESRGANModel`` Task of :mod:`realsr.train.tasks`, built from
  ``realsr.config.options_from_dict`` applied to the official file, its ``training_step`` driven
  by :class:`realsr.train.task.PlainStepContext` (Adam with the file's ``optim_g`` / ``optim_d``
  arguments) plus an EMA update of ``net_g`` with ``train.ema_decay`` (the Trainer's job; done
  here so that both sides do the same work). Batches are ``{"gt": (B, 3, S, S), "key": (B,)}``
  as our dataset returns them; the degradation parameters are functions of ``(seed, key)``.
- **reference**: ``realesrgan.models.realesrgan_model.RealESRGANModel`` (realesrgan 0.3.0 on
  basicsr 1.4.2), ``feed_data`` + ``optimize_parameters``, with the batch as its data loader
  delivers it: ``gt`` plus the ``kernel1`` / ``kernel2`` / ``sinc_kernel`` that
  ``RealESRGANDataset`` draws per sample in its workers (drawn before the timed call, by
  :class:`benchmarks.reference_realesrgan.ReferenceRealESRGAN`, and reported separately as
  "loader kernels"). Python's ``random``, NumPy and torch are seeded with the round's seed before
  every call.

Workarounds on the reference side, all in this script, all undone afterwards
(:func:`reference_patches`):

- ``.cuda()``: ``RealESRGANModel.__init__`` moves its ``DiffJPEG`` and ``USMSharp`` with
  ``nn.Module.cuda()`` and its training-pair pool allocates with ``Tensor.cuda()``; while the
  model is built and run, both methods return the object unchanged (the options say
  ``num_gpu: 0``, so basicsr's ``BaseModel`` itself picks the CPU).
- the training-pair pool (``queue_size`` 180) is switched off on both sides: ours runs it only
  with the project option ``use_pair_pool: true``, and the reference's ``_dequeue_and_enqueue``
  is replaced by a no-op. In a run of a few iterations the pool would only be filling anyway.
- ``filter2D``: ``DiffJPEG`` returns channels-last strides, which make basicsr's ``filter2D``
  fail on current torch for batches above 1; ``feed_data`` sees a ``filter2D`` that makes its
  inputs contiguous first (same values; see ``benchmarks/reference_realesrgan.py``).
- VGG19: neither side downloads weights. One random-init VGG19 ``features`` stack (torchvision's
  layout, ``torch.manual_seed(--seed)``) is saved as ``<tmp>/hub/checkpoints/vgg19-dcbb9e9d.pth``
  and ``torch.hub.set_dir(<tmp>/hub)`` points our ``PerceptualLoss`` at it; basicsr's
  ``VGGFeatureExtractor`` gets a stand-in for its ``torchvision.models.vgg`` module whose
  ``vgg19(pretrained=...)`` returns torchvision's own VGG19 ``features`` (``make_layers`` of
  configuration "E", in-place ReLUs as in torchvision) loaded from the same file, and its
  ``VGG_PRETRAIN_PATH`` names a file that does not exist. Same architecture, same weights.

Both generators and discriminators start from the same random weights (ours, copied into the
reference networks, whose state-dict names are the same).

Timing: ``--warmup`` untimed iterations per side, then ``--rounds`` rounds; in each round every
measurement is exactly one call timed with ``time.perf_counter`` (a step takes seconds and changes
the networks, so ``torch.utils.benchmark``'s repeated calls per measurement do not fit; the thread
count is set with ``torch.set_num_threads``), sides interleaved and the order alternating between
rounds. Per round we also time the
degradation alone on the same batch: ours = parameter sampling + USM of the GT + the pipeline +
the paired crop (what ``training_step`` does before the networks run); reference = ``feed_data``.
We report medians, min/max and IQR over rounds, iterations/s, the ratio reference / ours of the
median step times and the share of the step spent in degradation. The process CPU time of every
call (``time.process_time``) is recorded next to the wall-clock time: on a machine shared with
other work the wall-clock times stretch with the contention, the CPU times much less (read them
with ``--threads 1``). Results go to ``benchmarks/results/train_step.json`` (``--output`` changes
the file stem) and the summary ends with the Markdown table of ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import functools
import os
import sys
import tempfile
import time
import types
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import torch
import yaml
from torch import Tensor, nn

from benchmarks._common import REPO_ROOT, install_reference_shim, summarize, write_results
from benchmarks.reference_realesrgan import seed_everything

OPTIONS_FILE = (
    REPO_ROOT.parent / "shared" / "reference" / "realesrgan_options" / "train_realesrgan_x4plus.yml"
)
VGG19_FILENAME = "vgg19-dcbb9e9d.pth"
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry")


# --------------------------------------------------------------------------------------------- #
# Shared inputs
# --------------------------------------------------------------------------------------------- #
def official_options(path: Path = OPTIONS_FILE) -> dict[str, Any]:
    """Real-ESRGAN's ``train_realesrgan_x4plus.yml`` as a mapping (``yaml.safe_load``)."""
    if not path.is_file():
        raise FileNotFoundError(f"options file not found: {path}")
    loaded = yaml.safe_load(path.read_text())
    if not isinstance(loaded, dict):
        raise ValueError(f"{path}: not a mapping")
    return loaded


def bench_options(
    base: dict[str, Any], *, batch: int, size: int, gt_size: int, seed: int
) -> dict[str, Any]:
    """The official options without pretrained weights, with the benchmark's batch and sizes.

    Args:
        base: the official options mapping (not modified).
        batch: ``batch_size_per_gpu``.
        size: the side of the HR images the dataset delivers (``crop_pad_size``).
        gt_size: the side of the GT crops after degradation (top-level and dataset ``gt_size``).
        seed: ``manual_seed``.

    Returns:
        A new mapping in Real-ESRGAN's schema.
    """
    opt = copy.deepcopy(base)
    opt["manual_seed"] = seed
    opt["gt_size"] = gt_size
    train = opt["datasets"]["train"]  # its data paths are kept: no dataset is built
    train.update(
        gt_size=gt_size, crop_pad_size=size, batch_size_per_gpu=batch, num_worker_per_gpu=0
    )
    opt["path"] = {
        **opt.get("path", {}),
        "pretrain_network_g": None,
        "pretrain_network_d": None,
        "resume_state": None,
    }
    opt["logger"] = {**opt.get("logger", {}), "use_tb_logger": False, "wandb": None}
    return opt


def hr_batches(count: int, batch: int, size: int, seed: int) -> list[Tensor]:
    """``count`` batches of HR crops ``(B, 3, size, size)`` float32 in [0, 1].

    Crops of scikit-image's colour photographs at positions drawn from ``seed`` (photos smaller
    than ``size`` are reflect-padded first, as ``RealESRGANDataset`` pads to ``crop_pad_size``).
    """
    from skimage import data

    photos = [np.ascontiguousarray(getattr(data, name)()) for name in PHOTOS]
    rng = np.random.default_rng(seed)
    out = []
    for b in range(count):
        crops = []
        for i in range(batch):
            img = photos[(b * batch + i) % len(photos)]
            ph, pw = max(0, size - img.shape[0]), max(0, size - img.shape[1])
            if ph or pw:
                img = np.pad(img, ((0, ph), (0, pw), (0, 0)), mode="reflect")
            top = int(rng.integers(0, img.shape[0] - size + 1))
            left = int(rng.integers(0, img.shape[1] - size + 1))
            crops.append(torch.from_numpy(img[top : top + size, left : left + size].copy()))
        out.append(torch.stack(crops).permute(0, 3, 1, 2).contiguous().float() / 255.0)
    return out


_VGG19_CONFIG: tuple[int | str, ...] = (
    64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
    512, 512, 512, 512, "M", 512, 512, 512, 512, "M",
)  # fmt: skip


def _vgg19_features() -> nn.Sequential:
    """VGG19's ``features`` stack exactly as torchvision's ``vgg19().features`` lays it out.

    Configuration "E": 3x3 convolutions (padding 1) each followed by an in-place ReLU, 2x2
    max-pools; no classifier. Parameter names ``<index>.weight`` / ``<index>.bias``.
    """
    layers: list[nn.Module] = []
    in_ch = 3
    for item in _VGG19_CONFIG:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(in_ch, int(item), kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            in_ch = int(item)
    return nn.Sequential(*layers)


def write_random_vgg19(hub_dir: Path, seed: int) -> Path:
    """Save a random-init VGG19 ``features`` state dict where torch hub keeps VGG19's weights.

    Args:
        hub_dir: the folder given to ``torch.hub.set_dir``.
        seed: the ``torch.manual_seed`` of the initialisation.

    Returns:
        ``hub_dir / "checkpoints" / "vgg19-dcbb9e9d.pth"`` (keys ``features.<i>.weight|bias``).
    """
    torch.manual_seed(seed)
    features = _vgg19_features()
    path = hub_dir / "checkpoints" / VGG19_FILENAME
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {f"features.{k}": v for k, v in features.state_dict().items()}
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)
    return path


def _timeit(fn: Callable[[], Any]) -> tuple[float, float]:
    """Wall-clock seconds of exactly one call and the process CPU seconds it used.

    Not ``torch.utils.benchmark.Timer``: its ``timeit`` / ``blocked_autorange`` run extra warm-up
    calls for every measurement, which would advance a (stateful, seconds-long) training step
    several iterations per timed one. Warm-up is done once, explicitly, by :func:`run`.
    """
    cpu = time.process_time()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start, time.process_time() - cpu


# --------------------------------------------------------------------------------------------- #
# Reference: realesrgan's RealESRGANModel on the CPU
# --------------------------------------------------------------------------------------------- #
_ABSENT = object()


def _return_self(obj: Any, *args: Any, **kwargs: Any) -> Any:
    return obj


@contextlib.contextmanager
def reference_patches(vgg_file: Path) -> Iterator[None]:
    """The reference-side workarounds listed in the module docstring, undone on exit."""
    install_reference_shim()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from basicsr.archs import vgg_arch
        from basicsr.utils import img_process_util
        from realesrgan.models import realesrgan_model

    filter2d = img_process_util.filter2D

    def contiguous_filter2d(img: Tensor, kernel: Tensor) -> Tensor:
        return filter2d(img.contiguous(), kernel.contiguous())

    def vgg19(pretrained: bool = False, **kwargs: Any) -> types.SimpleNamespace:
        features = _vgg19_features()
        state = torch.load(vgg_file, map_location="cpu", weights_only=True)
        features.load_state_dict({k.removeprefix("features."): v for k, v in state.items()})
        return types.SimpleNamespace(features=features)

    def dequeue_and_enqueue(self: Any) -> None:
        """The training-pair pool, off (as ours runs without ``use_pair_pool``)."""

    replacements: list[tuple[Any, str, Any]] = [
        (nn.Module, "cuda", _return_self),
        (torch.Tensor, "cuda", _return_self),
        (realesrgan_model, "filter2D", contiguous_filter2d),
        (vgg_arch, "vgg", types.SimpleNamespace(vgg19=vgg19)),
        (vgg_arch, "VGG_PRETRAIN_PATH", str(vgg_file.parent / "absent" / VGG19_FILENAME)),
        (realesrgan_model.RealESRGANModel, "_dequeue_and_enqueue", dequeue_and_enqueue),
    ]
    # what each owner itself held (torch.Tensor inherits ``cuda``: restored by deleting ours)
    saved = [(owner, name, vars(owner).get(name, _ABSENT)) for owner, name, _ in replacements]
    for owner, name, value in replacements:
        setattr(owner, name, value)
    try:
        yield
    finally:
        for owner, name, value in reversed(saved):
            if value is _ABSENT:
                delattr(owner, name)
            else:
                setattr(owner, name, value)


def build_reference(options: dict[str, Any]) -> Any:
    """realesrgan's ``RealESRGANModel`` for ``options`` on the CPU (inside :func:`reference_patches`)."""
    from realesrgan.models.realesrgan_model import RealESRGANModel

    opt = copy.deepcopy(options)
    opt.update(num_gpu=0, is_train=True, dist=False, rank=0, world_size=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return RealESRGANModel(opt)


class ReferenceSide:
    """Real-ESRGAN's training iteration: ``feed_data`` + ``optimize_parameters``.

    Args:
        options: the benchmark options (Real-ESRGAN's schema).
        vgg_file: the random-init VGG19 checkpoint (:func:`write_random_vgg19`).
    """

    def __init__(self, options: dict[str, Any], vgg_file: Path) -> None:
        from benchmarks.reference_realesrgan import ReferenceRealESRGAN

        self.vgg_file = vgg_file
        with reference_patches(vgg_file):
            self.model = build_reference(options)
            self.kernels = ReferenceRealESRGAN((options, options["datasets"]["train"]))
        self.iteration = 0

    def batch(self, gt: Tensor, seed: int) -> dict[str, Tensor]:
        """What the reference's data loader delivers: GT and each sample's three kernels."""
        seed_everything(seed)
        return {"gt": gt, **self.kernels.batch_kernels(gt.shape[0])}

    def degrade(self, data: dict[str, Tensor], seed: int) -> None:
        """``feed_data`` alone (USM, second-order degradation, paired crop)."""
        seed_everything(seed)
        with reference_patches(self.vgg_file):
            self.model.feed_data(data)

    def step(self, data: dict[str, Tensor], seed: int) -> dict[str, float]:
        """One iteration (``feed_data`` + ``optimize_parameters``); returns the logged losses."""
        self.iteration += 1
        self.degrade(data, seed)
        self.model.optimize_parameters(self.iteration)
        return {k: float(v) for k, v in self.model.log_dict.items()}


# --------------------------------------------------------------------------------------------- #
# Ours: the RealESRGANModel Task
# --------------------------------------------------------------------------------------------- #
_KEY_MASK = (1 << 63) - 1


class OursSide:
    """Our training iteration, as the Trainer runs it on one process.

    The Task's ``training_step`` under the Trainer's own step context
    (:class:`realsr.train.context.TrainStepContext`, ``mixed_precision: "no"``), with optimizers
    from :func:`realsr.train.optim.build_optimizer` and the EMA of ``net_g``
    (:class:`realsr.train.ema.EMA`, ``train.ema_decay``) updated after the step.

    Args:
        options: the benchmark options (Real-ESRGAN's schema), read by ``options_from_dict``.
        seed: the degradation seed (``manual_seed``).
    """

    def __init__(self, options: dict[str, Any], seed: int) -> None:
        from realsr.config import options_from_dict
        from realsr.train.context import TrainStepContext
        from realsr.train.ema import EMA
        from realsr.train.optim import build_optimizer
        from realsr.train.tasks import TASKS
        from realsr.train.tasks.sr import SRModel

        self.options = options_from_dict(options, source="train_realesrgan_x4plus.yml (benchmark)")
        self.device = torch.device("cpu")
        self.seed = seed
        torch.manual_seed(seed)
        task = TASKS.get(self.options.model_type)(self.options, device=self.device)
        if not isinstance(task, SRModel):  # make_pair (the degradation alone) is SRModel's
            raise TypeError(f"{self.options.model_type}: expected an SRModel task")
        self.task = task
        nets = self.task.networks()
        train = self.options.train
        sections = {"g": train.optim_g, "d": train.optim_d}
        optimizers = {}
        for name, net in nets.items():
            section = sections[name]
            if section is None:
                raise ValueError(f"train.optim_{name}: missing")
            optimizers[name] = build_optimizer(section, net.parameters())
        self.ctx = TrainStepContext(
            optimizers,
            device=self.device,
            seed=seed,
            mixed_precision=train.mixed_precision,
            grad_clip=train.grad_clip,
        )
        self.net_g = nets["g"]
        self.ema = EMA(self.net_g, float(train.ema_decay)) if train.ema_decay > 0 else None

    def batch(self, gt: Tensor, index: int) -> dict[str, Any]:
        """What our dataset delivers: GT and each sample's degradation key (epoch 0)."""
        from degrade.seeding import derive_seed

        b = gt.shape[0]
        keys = [derive_seed(self.seed, "degrade", 0, index * b + i) & _KEY_MASK for i in range(b)]
        return {"gt": gt, "key": torch.tensor(keys, dtype=torch.int64)}

    def step(self, batch: dict[str, Any], iteration: int) -> dict[str, float]:
        """One iteration (degradation, G and D steps, EMA); returns the logged losses."""
        self.ctx.iteration = iteration
        logs = self.task.training_step(batch, self.ctx)
        self.ctx.end_iteration()
        if self.ema is not None:
            self.ema.update(self.net_g)
        return {k: float(v) for k, v in logs.items()}

    def degrade(self, batch: dict[str, Any], iteration: int) -> Any:
        """The degradation alone: ``task.make_pair`` (USM, pipeline, crop, USM of the crop)."""
        self.ctx.iteration = iteration
        return self.task.make_pair(batch, self.ctx)


def copy_weights(ours: OursSide, ref: ReferenceSide) -> dict[str, str]:
    """Load our initial ``net_g`` / ``net_d`` weights into the reference networks.

    Returns:
        ``{"g": "copied" | reason, "d": ...}``.
    """
    status = {}
    targets = {
        "g": [ref.model.net_g, getattr(ref.model, "net_g_ema", None)],
        "d": [ref.model.net_d],
    }
    for name, net in ours.task.networks().items():
        state = net.state_dict()
        try:
            for target in targets[name]:
                if target is not None:
                    target.load_state_dict(state, strict=True)
            status[name] = "copied"
        except RuntimeError as exc:
            status[name] = f"not copied (state dicts differ: {str(exc).splitlines()[0]})"
    return status


def _record(
    into: dict[str, dict[str, float]],
    name: str,
    step: Callable[[dict[str, Any], int], dict[str, float]],
    batch: dict[str, Any],
    iteration: int,
) -> None:
    into[name] = step(batch, iteration)


def _per_s(summary: dict[str, float]) -> dict[str, float]:
    return {
        "median": 1.0 / summary["median_s"],
        "slowest_round": 1.0 / summary["max_s"],
        "fastest_round": 1.0 / summary["min_s"],
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Build both sides, warm up, time ``args.rounds`` interleaved rounds; return the record."""
    torch.set_num_threads(args.threads)
    options = bench_options(
        official_options(Path(args.options)),
        batch=args.batch,
        size=args.size,
        gt_size=args.gt_size,
        seed=args.seed,
    )
    hub_before = torch.hub.get_dir()
    times: dict[str, list[float]] = {
        "ours_step": [],
        "ours_degradation": [],
        "reference_step": [],
        "reference_feed_data": [],
        "reference_loader_kernels": [],
    }
    cpu_times: dict[str, list[float]] = {k: [] for k in times}
    losses: dict[str, dict[str, float]] = {}

    def measure(name: str, fn: Callable[[], Any]) -> None:
        wall, cpu = _timeit(fn)
        times[name].append(wall)
        cpu_times[name].append(cpu)

    with tempfile.TemporaryDirectory() as tmp:
        hub = Path(tmp) / "hub"
        vgg_file = write_random_vgg19(hub, args.seed)
        torch.hub.set_dir(str(hub))
        try:
            ours = OursSide(options, args.seed)
            ref = ReferenceSide(options, vgg_file)
        finally:
            torch.hub.set_dir(hub_before)
        weights = copy_weights(ours, ref)
        batches = hr_batches(args.warmup + args.rounds, args.batch, args.size, args.seed)
        for i in range(args.warmup):
            ours.step(ours.batch(batches[i], i), i + 1)
            ref.step(ref.batch(batches[i], i), i)
            print(f"warm-up {i + 1}/{args.warmup} done", flush=True)
        for r in range(args.rounds):
            i = args.warmup + r
            gt = batches[i]
            ours_batch = ours.batch(gt, i)
            kernels: dict[str, Tensor] = {}

            def draw_kernels(gt: Tensor = gt, i: int = i, out: dict[str, Tensor] = kernels) -> None:
                out.update(ref.batch(gt, i))

            measure("reference_loader_kernels", draw_kernels)
            ref_batch = dict(kernels)
            jobs: list[tuple[str, Callable[[], Any]]] = [
                (
                    "ours_step",
                    functools.partial(_record, losses, "ours", ours.step, ours_batch, i + 1),
                ),
                (
                    "reference_step",
                    functools.partial(_record, losses, "reference", ref.step, ref_batch, i),
                ),
            ]
            if r % 2:
                jobs.reverse()
            jobs += [
                ("ours_degradation", functools.partial(ours.degrade, ours_batch, i + 1)),
                ("reference_feed_data", functools.partial(ref.degrade, ref_batch, i)),
            ]
            for name, fn in jobs:
                measure(name, fn)
            print(
                f"round {r + 1}/{args.rounds}: "
                + ", ".join(f"{k} {_fmt(v[-1])}" for k, v in times.items()),
                flush=True,
            )
    summaries = {k: summarize(v) for k, v in times.items()}
    cpu = {k: summarize(v) for k, v in cpu_times.items()}
    ours_step, ref_step = summaries["ours_step"], summaries["reference_step"]
    return {
        "name": "realesrgan_x4plus training step",
        "batch": args.batch,
        "hr_size": args.size,
        "gt_size": args.gt_size,
        "lq_size": args.gt_size // int(options["scale"]),
        "timings": summaries,
        "samples_s": times,
        "cpu_timings": cpu,
        "cpu_samples_s": cpu_times,
        "ours_iters_per_s": _per_s(ours_step),
        "reference_iters_per_s": _per_s(ref_step),
        "speedup": ref_step["median_s"] / ours_step["median_s"],
        "cpu_speedup": cpu["reference_step"]["median_s"] / cpu["ours_step"]["median_s"],
        "ours_degradation_share": (
            summaries["ours_degradation"]["median_s"] / ours_step["median_s"]
        ),
        "reference_feed_data_share": (
            summaries["reference_feed_data"]["median_s"] / ref_step["median_s"]
        ),
        "reference_loader_kernels_vs_step": (
            summaries["reference_loader_kernels"]["median_s"] / ref_step["median_s"]
        ),
        "initial_weights": weights,
        "last_losses": losses,
    }


def _fmt(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _spread(summary: dict[str, float]) -> str:
    return f"{_fmt(summary['median_s'])} [{_fmt(summary['min_s'])} - {_fmt(summary['max_s'])}]"


def summary_lines(record: dict[str, Any]) -> list[str]:
    """The printed summary of a :func:`run` record, ending with the README's Markdown table."""
    t, c = record["timings"], record["cpu_timings"]
    o, r = record["ours_iters_per_s"], record["reference_iters_per_s"]

    def rate(x: dict[str, float]) -> str:
        return f"{x['median']:.3f} [{x['slowest_round']:.3f}-{x['fastest_round']:.3f}]"

    return [
        f"RealESRGAN x4plus training step, batch {record['batch']}, HR {record['hr_size']}px -> "
        f"GT {record['gt_size']}px / LR {record['lq_size']}px, {t['ours_step']['rounds']} rounds:",
        f"  ours      {o['median']:.3f} it/s, step {_spread(t['ours_step'])}, "
        f"degradation {_spread(t['ours_degradation'])} "
        f"= {record['ours_degradation_share']:.1%} of the step",
        f"  reference {r['median']:.3f} it/s, step {_spread(t['reference_step'])}, "
        f"feed_data {_spread(t['reference_feed_data'])} "
        f"= {record['reference_feed_data_share']:.1%} of the step; "
        f"loader kernels {_spread(t['reference_loader_kernels'])}",
        f"  ratio (reference / ours step time): {record['speedup']:.2f}x; of the process CPU "
        f"time per step ({_fmt(c['reference_step']['median_s'])} / "
        f"{_fmt(c['ours_step']['median_s'])}): {record['cpu_speedup']:.2f}x",
        "",
        "| side | iterations/s, median [slowest-fastest round] | step, median [min - max] "
        "| degradation alone, median [min - max] | degradation share |",
        "|---|---|---|---|---|",
        f"| ours | {rate(o)} | {_spread(t['ours_step'])} | {_spread(t['ours_degradation'])} "
        f"| {record['ours_degradation_share']:.1%} |",
        f"| Real-ESRGAN | {rate(r)} | {_spread(t['reference_step'])} "
        f"| {_spread(t['reference_feed_data'])} | {record['reference_feed_data_share']:.1%} |",
        f"| ratio | {record['speedup']:.2f}x | | "
        f"{t['reference_feed_data']['median_s'] / t['ours_degradation']['median_s']:.2f}x | |",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--batch", type=int, default=None, help="batch size (default 4; quick 2)")
    parser.add_argument("--size", type=int, default=None, help="HR side (default 400; quick 128)")
    parser.add_argument(
        "--gt-size", type=int, default=None, help="GT crop (default 256; quick 128)"
    )
    parser.add_argument(
        "--rounds", type=int, default=None, help="timed rounds (default 5; quick 3)"
    )
    parser.add_argument("--warmup", type=int, default=1, help="untimed iterations per side")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="small settings for a smoke run")
    parser.add_argument("--options", default=str(OPTIONS_FILE), help="Real-ESRGAN options file")
    parser.add_argument("--output", default="train_step", help="result file stem")
    args = parser.parse_args(argv)
    defaults = (2, 128, 128, 3) if args.quick else (4, 400, 256, 5)
    for name, value in zip(("batch", "size", "gt_size", "rounds"), defaults, strict=True):
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.gt_size > args.size or args.gt_size % 4:
        parser.error("--gt-size must be a multiple of 4 and at most --size")
    load_before = os.getloadavg()
    record = run(args)
    for line in summary_lines(record):
        print(line)
    extra = {
        "settings": {
            "options": Path(args.options).name,
            "batch": args.batch,
            "hr_size": args.size,
            "gt_size": args.gt_size,
            "rounds": args.rounds,
            "warmup": args.warmup,
            "threads": args.threads,
            "seed": args.seed,
            "quick": args.quick,
            "pair_pool": False,
            "device": "cpu",
        },
        "loadavg_1_5_15_min": {"before": list(load_before), "after": list(os.getloadavg())},
    }
    path = write_results(args.output, [record], extra)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
