"""realsr: blind super-resolution models, losses, metrics, training and inference."""

from .archs import ARCHS, VARIANTS, SRArch, build_model
from .checkpoint import load_checkpoint, load_model, save_checkpoint
from .zoo import ZOO, load_zoo_model, resolve_model_name

__version__ = "0.1.0.dev0"

__all__ = [
    "ARCHS",
    "VARIANTS",
    "ZOO",
    "SRArch",
    "__version__",
    "build_model",
    "load_checkpoint",
    "load_model",
    "load_zoo_model",
    "resolve_model_name",
    "save_checkpoint",
]
