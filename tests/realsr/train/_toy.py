"""A tiny training setup for the trainer tests: images, options and a toy Task.

The toy task degrades HR crops on the device with the ``bicubic`` preset (per-sample keys, the
run's seed), trains a 4-channel SRVGGNetCompact with L1 and can be told to produce a NaN loss at
given iterations. ``python -m tests.realsr.train._toy OPTIONS.yml [--auto-resume] [--launcher pytorch]``
trains it in a subprocess (crash and DDP tests).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
import yaml
from torch import Tensor, nn

import degrade
from realsr.archs import build_model
from realsr.train.task import StepContext, Task

REPO_ROOT = Path(__file__).resolve().parents[3]


def make_images(folder: Path, count: int = 6, size: int = 24, seed: int = 0) -> Path:
    """Write ``count`` smooth random RGB PNGs of ``size`` x ``size`` into ``folder``."""
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(count):
        low = rng.integers(0, 256, size=(size // 4, size // 4, 3)).astype(np.uint8)
        image = cv2.resize(low, (size, size), interpolation=cv2.INTER_CUBIC)
        cv2.imwrite(str(folder / f"img{i:02d}.png"), image)
    return folder


def toy_mapping(root: Path, **changes: Any) -> dict[str, Any]:
    """Options (as YAML would give them) for a 4-iteration x2 run on images in ``root/hr``.

    ``changes`` are dotted keys with ``__`` for dots, e.g. ``train__total_iter=8``.
    """
    mapping: dict[str, Any] = {
        "name": "toy",
        "model_type": "SRModel",
        "scale": 2,
        "num_gpu": 0,
        "manual_seed": 7,
        "degradation": "bicubic",
        "datasets": {
            "train": {
                "name": "toy",
                "type": "RealESRGANDataset",
                "dataroot_gt": str(root / "hr"),
                "io_backend": {"type": "disk"},
                "gt_size": 16,
                "crop_pad_size": 16,
                "use_hflip": True,
                "use_rot": True,
                "batch_size_per_gpu": 2,
                "num_worker_per_gpu": 0,
            }
        },
        "network_g": {
            "type": "SRVGGNetCompact",
            "num_in_ch": 3,
            "num_out_ch": 3,
            "num_feat": 4,
            "num_conv": 1,
            "upscale": 2,
            "act_type": "prelu",
        },
        "path": {"experiments_root": str(root / "exp")},
        "train": {
            "ema_decay": 0.9,
            "optim_g": {"type": "Adam", "lr": 1e-2, "betas": [0.9, 0.99]},
            "scheduler": {"type": "MultiStepLR", "milestones": [3], "gamma": 0.5},
            "total_iter": 4,
            "pixel_opt": {"type": "L1Loss", "loss_weight": 1.0},
        },
        "logger": {"print_freq": 1, "save_checkpoint_freq": 2, "use_tb_logger": False},
    }
    for key, value in changes.items():
        *parents, last = key.split("__")
        node = mapping
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return mapping


def toy_options(root: Path, **changes: Any) -> Any:
    """:func:`toy_mapping` loaded with :func:`realsr.config.options_from_dict`."""
    from realsr.config import options_from_dict

    return options_from_dict(toy_mapping(root, **changes), source="toy")


def write_options(root: Path, filename: str = "toy.yml", **changes: Any) -> Path:
    """:func:`toy_mapping` as ``root/<filename>``."""
    path = root / filename
    path.write_text(yaml.safe_dump(toy_mapping(root, **changes)))
    return path


class ToyTask(Task):
    """SRVGGNetCompact + L1 on device-degraded HR crops.

    Args:
        options: Training options (network_g, degradation spec, scale).
        device: Training device.
        nan_at: Iterations whose loss is made NaN.
    """

    model_type = "SRModel"

    def __init__(self, options: Any, *, device: torch.device, nan_at: Iterable[int] = ()) -> None:
        super().__init__(options, device=device)
        self.net_g: nn.Module = build_model(options.network_g.type, dict(options.network_g.args))
        self.net_g.to(device)
        spec = options.degradation.spec if options.degradation.spec is not None else "bicubic"
        self.pipeline = degrade.load_pipeline(spec, scale=options.scale)
        self.nan_at = set(nan_at)
        self.seen: list[dict[str, Any]] = []

    def networks(self) -> dict[str, nn.Module]:
        return {"g": self.net_g}

    def set_networks(self, nets: Mapping[str, nn.Module]) -> None:
        self.net_g = nets["g"]

    def _pair(self, batch: dict[str, Any], seed: int) -> tuple[Tensor, Tensor]:
        gt = batch["gt"]
        if "lq" in batch:
            return batch["lq"], gt
        params = self.pipeline.sample(batch["key"], seed=seed, device=gt.device)
        return self.pipeline.apply(gt, params), gt

    def training_step(self, batch: dict[str, Any], ctx: StepContext) -> dict[str, Tensor]:
        self.seen.append(
            {
                "iteration": ctx.iteration,
                "keys": batch["key"].tolist(),
                "channels_last": batch["gt"].is_contiguous(memory_format=torch.channels_last),
            }
        )
        lq, gt = self._pair(batch, ctx.seed)
        with ctx.autocast():
            sr = self.net_g(lq)
        loss = F.l1_loss(sr.float(), gt)
        if ctx.iteration in self.nan_at:
            loss = loss * float("nan")
        ctx.optimize("g", loss)
        return {"l_pix": loss.detach()}

    @torch.no_grad()
    def validation_step(self, batch: dict[str, Any], generator: nn.Module) -> dict[str, Tensor]:
        lq, gt = self._pair(batch, self.options.manual_seed)
        sr = generator(lq).clamp(0, 1)
        h, w = min(sr.shape[-2], gt.shape[-2]), min(sr.shape[-1], gt.shape[-1])
        return {"sr": sr[..., :h, :w], "gt": gt[..., :h, :w]}


def run_trainer(options: Any, **kwargs: Any) -> Any:
    """Train ``options`` with :class:`ToyTask` (``nan_at`` goes to the task); returns the Trainer."""
    from realsr.train.trainer import Trainer

    nan_at = kwargs.pop("nan_at", set())
    trainer = Trainer(
        options,
        task_factory=lambda o, *, device: ToyTask(o, device=device, nan_at=nan_at),
        **kwargs,
    )
    trainer.run()
    return trainer


def state_of(net: nn.Module) -> dict[str, Tensor]:
    """A detached CPU copy of a module's state dict."""
    return {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}


def main(argv: list[str] | None = None) -> int:
    """Train the toy task (or, with ``--registry``, the options' ``model_type``) from an options
    file, for subprocess tests.

    ``--dump DIR`` writes ``DIR/rank<r>.pt``: every network's weights before and after training
    (``{"initial": {name: state}, "final": ...}``), the logged history and, for the toy task, the
    degradation keys of every batch this rank trained on.
    """
    import os

    from realsr.config import load_options
    from realsr.train.distributed import unwrap
    from realsr.train.trainer import Trainer

    parser = argparse.ArgumentParser()
    parser.add_argument("opt")
    parser.add_argument("--auto-resume", action="store_true")
    parser.add_argument("--launcher", default="none")
    parser.add_argument("--dump", default=None)
    parser.add_argument("--registry", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    trainer = Trainer(
        load_options(args.opt),
        auto_resume=args.auto_resume,
        launcher=args.launcher,
        task_factory=None if args.registry else lambda o, *, device: ToyTask(o, device=device),
    )

    def weights() -> dict[str, dict[str, Tensor]]:
        return {name: state_of(unwrap(net)) for name, net in trainer.task.networks().items()}

    initial = weights()
    trainer.run()
    if args.dump:
        task = trainer.task
        keys = [s["keys"] for s in task.seen] if isinstance(task, ToyTask) else []
        rank = int(os.environ.get("RANK", 0))
        dump = {"initial": initial, "final": weights(), "keys": keys, "history": trainer.history}
        torch.save(dump, Path(args.dump) / f"rank{rank}.pt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
