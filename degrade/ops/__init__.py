"""Random degradation ops: ``sample(keys, *, seed) -> Params`` and ``apply(x, params)``."""

from degrade.ops.base import Context, ElementwiseOp, Images, Params, RandomOp
from degrade.ops.blur import KERNEL_FAMILIES, BlurParams, RandomBlur
from degrade.ops.bsrgan import (
    BSRGANBlur,
    BSRGANDownsample,
    BSRGANNoise,
    BSRGANPoisson,
    BSRGANShuffle,
    CV2ResizeTo,
)
from degrade.ops.jpeg import JPEGParams, RandomJPEG
from degrade.ops.misc import Clamp, NoParams, Quantize
from degrade.ops.noise import NOISE_KINDS, NoiseParams, RandomNoise
from degrade.ops.resize import MODES, RandomResize, ResizeParams, ResizeTo, ResizeToParams

__all__ = [
    "KERNEL_FAMILIES",
    "MODES",
    "NOISE_KINDS",
    "BSRGANBlur",
    "BSRGANDownsample",
    "BSRGANNoise",
    "BSRGANPoisson",
    "BSRGANShuffle",
    "BlurParams",
    "CV2ResizeTo",
    "Clamp",
    "Context",
    "ElementwiseOp",
    "Images",
    "JPEGParams",
    "NoParams",
    "NoiseParams",
    "Params",
    "Quantize",
    "RandomBlur",
    "RandomJPEG",
    "RandomNoise",
    "RandomOp",
    "RandomResize",
    "ResizeParams",
    "ResizeTo",
    "ResizeToParams",
]
