"""Image-quality metrics as the super-resolution literature computes them."""

from realsr.metrics.niqe import niqe
from realsr.metrics.psnr_ssim import modcrop, psnr, ssim

__all__ = ["modcrop", "niqe", "psnr", "ssim"]
