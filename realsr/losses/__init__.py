"""Training losses with BasicSR's contract: pixel, perceptual (VGG19) and adversarial."""

from realsr.losses.gan import GAN_TYPES, GANLoss
from realsr.losses.perceptual import REALESRGAN_LAYER_WEIGHTS, PerceptualLoss, gram_matrix
from realsr.losses.pixel import CharbonnierLoss, L1Loss, MSELoss, weight_reduce
from realsr.losses.vgg import VGG19_LAYER_NAMES, VGG19Features, vgg19_weights_file

__all__ = [
    "GAN_TYPES",
    "REALESRGAN_LAYER_WEIGHTS",
    "VGG19_LAYER_NAMES",
    "CharbonnierLoss",
    "GANLoss",
    "L1Loss",
    "MSELoss",
    "PerceptualLoss",
    "VGG19Features",
    "gram_matrix",
    "vgg19_weights_file",
    "weight_reduce",
]
