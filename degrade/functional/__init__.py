"""Pure degradation ops on ``(B, C, H, W)`` tensors with per-sample parameter tensors.

Every op keeps the input's device and dtype, never modifies its input, and gives each sample the
same result whatever batch it is in (bitwise on CPU). Per-pixel randomness comes only from
per-sample seeds.
"""

from degrade.functional.color import (
    rgb_to_gray,
    rgb_to_y_bt601,
    rgb_to_ycbcr_bt601,
    rgb_to_ycbcr_jfif,
    ycbcr_bt601_to_rgb,
    ycbcr_jfif_to_rgb,
)
from degrade.functional.filter import filter2d, filter2d_separable, reflect_indices, reflect_pad2d
from degrade.functional.imresize import imresize, imresize_geometry, imresize_weights
from degrade.functional.jpeg import jpeg, jpeg_quant_tables, jpeg_surrogate
from degrade.functional.kernels import (
    bivariate_gaussian_kernel,
    delta_kernel,
    gaussian_kernel1d,
    generalized_gaussian_kernel,
    plateau_kernel,
    sinc_kernel,
)
from degrade.functional.noise import add_gaussian_noise, add_poisson_noise, poisson_levels
from degrade.functional.resize import RESIZE_MODES, resize, resize_output_size
from degrade.functional.sharpen import usm_blur, usm_sharp

__all__ = [
    "RESIZE_MODES",
    "add_gaussian_noise",
    "add_poisson_noise",
    "bivariate_gaussian_kernel",
    "delta_kernel",
    "filter2d",
    "filter2d_separable",
    "gaussian_kernel1d",
    "generalized_gaussian_kernel",
    "imresize",
    "imresize_geometry",
    "imresize_weights",
    "jpeg",
    "jpeg_quant_tables",
    "jpeg_surrogate",
    "plateau_kernel",
    "poisson_levels",
    "reflect_indices",
    "reflect_pad2d",
    "resize",
    "resize_output_size",
    "rgb_to_gray",
    "rgb_to_y_bt601",
    "rgb_to_ycbcr_bt601",
    "rgb_to_ycbcr_jfif",
    "sinc_kernel",
    "usm_blur",
    "usm_sharp",
    "ycbcr_bt601_to_rgb",
    "ycbcr_jfif_to_rgb",
]
