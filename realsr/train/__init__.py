"""Training: a generic Trainer, small Tasks per model type, and the `realsr train` command.

``from realsr.train import Trainer, train`` loads the trainer lazily, so that importing the Task
contract (:mod:`realsr.train.task`) stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .task import GradientStep, PlainStepContext, StepContext, Task

if TYPE_CHECKING:
    from .trainer import Trainer, TrainingError, train

_LAZY = {"Trainer": "trainer", "TrainingError": "trainer", "train": "trainer"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "GradientStep",
    "PlainStepContext",
    "StepContext",
    "Task",
    "Trainer",
    "TrainingError",
    "train",
]
