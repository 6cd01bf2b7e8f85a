"""Training tasks by ``model_type``: SR, SRGAN, ESRGAN, Real-ESRNet and Real-ESRGAN.

Each task builds its networks (``options.network_g`` / ``network_d``, pretrained weights from
``options.path``), its losses (``options.train.*_opt``) and its degradation pipeline
(``options.degradation``), and implements the :class:`~realsr.train.task.Task` contract.

Example:
    >>> TASKS.names()
    ['ESRGANModel', 'RealESRGANModel', 'RealESRNetModel', 'SRGANModel', 'SRModel']
"""

from __future__ import annotations

from realsr.registry import Registry
from realsr.train.task import Task
from realsr.train.tasks.degradation import PairMaker, TrainingPair
from realsr.train.tasks.gan import ESRGANModel, SRGANModel
from realsr.train.tasks.pretrained import LoadReport, load_pretrained
from realsr.train.tasks.realesrgan import RealESRGANModel, RealESRNetModel
from realsr.train.tasks.sr import SRModel

TASKS: Registry[type[Task]] = Registry("model_type")
for _cls in (SRModel, SRGANModel, ESRGANModel, RealESRNetModel, RealESRGANModel):
    TASKS.register(_cls, name=_cls.model_type)
del _cls

__all__ = [
    "TASKS",
    "ESRGANModel",
    "LoadReport",
    "PairMaker",
    "RealESRGANModel",
    "RealESRNetModel",
    "SRGANModel",
    "SRModel",
    "TrainingPair",
    "load_pretrained",
]
