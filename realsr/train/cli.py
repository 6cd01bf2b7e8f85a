"""``realsr train``: train from a BasicSR / Real-ESRGAN style options file.

Accepts BasicSR's ``train.py`` arguments (``-opt``, ``--auto_resume``, ``--force_yml``,
``--launcher``, ``--local_rank``, ``--debug``) plus ``--set a.b=value`` overrides. Problems with
the options or the files they name print one line and exit with status 2; a run stopped by the
non-finite-step guard exits with status 1.

Distributed: ``torchrun --nproc_per_node N -m realsr.cli train -opt FILE --launcher pytorch``.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

EXIT_CONFIG = 2
EXIT_FAILED = 1


def register(sub: Any) -> None:
    """Add ``realsr train`` to the command's subparsers."""
    p = sub.add_parser(
        "train",
        help="train a model from an options file (BasicSR / Real-ESRGAN YAML)",
        description="Train a model from an options file (BasicSR / Real-ESRGAN YAML schema).",
    )
    p.add_argument("-opt", "--opt", required=True, metavar="FILE.yml", help="options file")
    p.add_argument(
        "--set",
        dest="overrides",
        action="extend",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="override options, dotted keys (train.total_iter=10); values are YAML",
    )
    p.add_argument(
        "--force_yml",
        dest="overrides",
        action="extend",
        nargs="+",
        metavar="KEY:KEY=VALUE",
        help="BasicSR's override spelling (train:ema_decay=0.999)",
    )
    p.add_argument(
        "--auto-resume",
        "--auto_resume",
        dest="auto_resume",
        action="store_true",
        help="resume from the newest training state of the experiment, if any",
    )
    p.add_argument(
        "--launcher",
        choices=["none", "pytorch"],
        default="none",
        help="pytorch: distributed run under torchrun (RANK/WORLD_SIZE/LOCAL_RANK from the env)",
    )
    p.add_argument(
        "--local_rank",
        "--local-rank",
        dest="local_rank",
        type=int,
        default=None,
        help="set by torch.distributed.launch; LOCAL_RANK in the environment is preferred",
    )
    p.add_argument(
        "--debug",
        action="store_true",
        help="name debug_<name>, print every iteration, validate and save every 8, no TensorBoard",
    )
    p.set_defaults(run=run_train)


def debug_overrides(options: Any) -> list[str]:
    """BasicSR's ``--debug`` changes, as overrides of an already loaded options object."""
    overrides = [
        "logger.print_freq=1",
        "logger.save_checkpoint_freq=8",
        "logger.use_tb_logger=false",
    ]
    if not options.name.startswith("debug"):
        overrides.insert(0, f"name=debug_{options.name}")
    if options.val is not None:
        overrides.append("val.val_freq=8")
    return overrides


def run_train(args: argparse.Namespace) -> int:
    """Run ``realsr train`` from parsed arguments; returns the exit status."""
    from realsr.config import ConfigError, load_options
    from realsr.registry import RegistryError

    from .state import StateError
    from .trainer import Trainer, TrainingError

    if args.local_rank is not None and args.launcher == "pytorch":
        os.environ.setdefault("LOCAL_RANK", str(args.local_rank))
    try:
        options = load_options(args.opt, overrides=tuple(args.overrides))
        if args.debug:
            extra = debug_overrides(options)
            options = load_options(args.opt, overrides=(*args.overrides, *extra))
        trainer = Trainer(options, auto_resume=args.auto_resume, launcher=args.launcher)
    except (ConfigError, StateError, RegistryError, FileNotFoundError) as exc:
        message = " ".join(str(exc).split())
        print(f"realsr train: error: {message}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        trainer.run()
    except TrainingError as exc:
        print(f"realsr train: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return 0


__all__ = ["debug_overrides", "register", "run_train"]
