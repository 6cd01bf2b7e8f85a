"""Constants of the baseline JPEG codec as libjpeg(-turbo) runs it.

Everything here is plain data or a small vectorised helper:

* the Annex K quantisation tables in natural order (row = vertical frequency, column =
  horizontal frequency) and libjpeg's quality scaling with ``force_baseline``;
* the reciprocal-multiplication constants libjpeg-turbo's encoder uses in place of a division
  by ``8 * qval``;
* the integer matrices of the islow forward / inverse DCT (the Loeffler-Ligtenberg-Moschytz
  flowgraph of ``jfdctint.c`` / ``jidctint.c`` with 13-bit fixed-point constants). Each 1-D pass
  of those routines is an integer linear form of its eight inputs followed by a rounding right
  shift, so a pass is ``descale(M @ v, shift)`` with the integer matrices below;
* the fixed-point colour-conversion constants of ``jccolor.c`` / ``jdcolor.c``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "CHROMA_TABLE",
    "FDCT_MATRIX",
    "FDCT_PASS1_SHIFT",
    "FDCT_PASS2_SHIFT",
    "IDCT_MATRIX",
    "IDCT_PASS1_SHIFT",
    "IDCT_PASS2_SHIFT",
    "LUMA_TABLE",
    "dct_matrix",
    "fix16",
    "quality_scale_factor",
    "quant_tables",
    "reciprocal_table",
]

# ITU-T T.81 Annex K.1 / K.2, natural (row-major) order: entry [v][u], v = vertical frequency.
LUMA_TABLE: tuple[tuple[int, ...], ...] = (
    (16, 11, 10, 16, 24, 40, 51, 61),
    (12, 12, 14, 19, 26, 58, 60, 55),
    (14, 13, 16, 24, 40, 57, 69, 56),
    (14, 17, 22, 29, 51, 87, 80, 62),
    (18, 22, 37, 56, 68, 109, 103, 77),
    (24, 35, 55, 64, 81, 104, 113, 92),
    (49, 64, 78, 87, 103, 121, 120, 101),
    (72, 92, 95, 98, 112, 100, 103, 99),
)
CHROMA_TABLE: tuple[tuple[int, ...], ...] = (
    (17, 18, 24, 47, 99, 99, 99, 99),
    (18, 21, 26, 66, 99, 99, 99, 99),
    (24, 26, 56, 99, 99, 99, 99, 99),
    (47, 66, 99, 99, 99, 99, 99, 99),
    (99, 99, 99, 99, 99, 99, 99, 99),
    (99, 99, 99, 99, 99, 99, 99, 99),
    (99, 99, 99, 99, 99, 99, 99, 99),
    (99, 99, 99, 99, 99, 99, 99, 99),
)


def fix16(value: float) -> int:
    """``FIX(value)`` of libjpeg's colour converters: ``value`` in 16-bit fixed point, rounded.

    Example:
        >>> fix16(0.299), fix16(1.402)
        (19595, 91881)
    """
    return int(value * 65536 + 0.5)


def quality_scale_factor(quality: Tensor) -> Tensor:
    """libjpeg's ``jpeg_quality_scaling``: integer quality 1..100 -> percentage scale factor.

    Args:
        quality: integer tensor of qualities already clamped to 1..100.

    Returns:
        Integer tensor of the same shape: ``5000 // q`` below 50, ``200 - 2 q`` from 50 on.

    Example:
        >>> quality_scale_factor(torch.tensor([1, 10, 50, 90, 100])).tolist()
        [5000, 500, 100, 20, 0]
    """
    return torch.where(
        quality < 50, torch.div(5000, quality, rounding_mode="floor"), 200 - 2 * quality
    )


def quant_tables(quality: Tensor) -> Tensor:
    """Per-sample baseline quantisation tables, as ``jpeg_set_quality(cinfo, q, TRUE)`` builds them.

    Args:
        quality: ``(B,)`` integer tensor of qualities in 1..100.

    Returns:
        ``(B, 2, 8, 8)`` int64 tensor: index 0 the luminance table, 1 the chrominance table, in
        natural order, each entry ``clamp((base * scale + 50) // 100, 1, 255)``.

    Example:
        >>> t = quant_tables(torch.tensor([50, 100]))
        >>> t[0, 0, 0, :4].tolist(), t[1].unique().tolist()
        ([16, 11, 10, 16], [1])

    Reference: ``jpeg_set_quality`` / ``jpeg_add_quant_table`` in libjpeg's jcparam.c.
    """
    base = torch.tensor((LUMA_TABLE, CHROMA_TABLE), dtype=torch.int64, device=quality.device)
    scale = quality_scale_factor(quality.to(torch.int64)).view(-1, 1, 1, 1)
    return torch.div(base * scale + 50, 100, rounding_mode="floor").clamp_(1, 255)


def _reciprocal(divisor: int) -> tuple[int, int, int]:
    # libjpeg-turbo replaces "(|t| + d/2) / d" by "((|t| + c) * f) >> r" with a 16-bit reciprocal
    # f of d; c carries the rounding term and absorbs the error of a rounded-down f.
    bits = divisor.bit_length() - 1
    shift = 16 + bits
    f, rem = divmod(1 << shift, divisor)
    c = divisor // 2
    if rem == 0:  # power of two: f would need 17 bits
        f >>= 1
        shift -= 1
    elif rem <= divisor // 2:
        c += 1
    else:
        f += 1
    return f, c, shift


def reciprocal_table() -> np.ndarray:
    """Quantiser constants for every table entry 0..255 (entry 0 unused).

    Returns:
        ``(256, 3)`` float64 array of ``(f, c, 2 ** -r)`` such that the encoder's quantised
        coefficient of a forward-DCT output ``t`` (scaled by 8) is
        ``sign(t) * floor((|t| + c) * f * 2 ** -r)`` for the divisor ``8 * qval``.

    Example:
        >>> f, c, s = reciprocal_table()[3]  # divisor 24
        >>> int(f), int(c), int(-np.log2(s))
        (43691, 12, 20)

    Reference: ``compute_reciprocal`` in libjpeg-turbo's jcdctmgr.c.
    """
    out = np.zeros((256, 3), dtype=np.float64)
    out[0] = (1.0, 0.0, 1.0)
    for q in range(1, 256):
        f, c, r = _reciprocal(8 * q)
        out[q] = (f, c, 2.0**-r)
    return out


# --- islow DCT flowgraphs as integer linear forms -------------------------------------------
# Constants of the 13-bit fixed-point LL&M DCT (FIX(x) = round(x * 2**13)).
_C = {
    "0_298631336": 2446,
    "0_390180644": 3196,
    "0_541196100": 4433,
    "0_765366865": 6270,
    "0_899976223": 7373,
    "1_175875602": 9633,
    "1_501321110": 12299,
    "1_847759065": 15137,
    "1_961570560": 16069,
    "2_053119869": 16819,
    "2_562915447": 20995,
    "3_072711026": 25172,
}
_CONST_BITS = 13


def _odd_part(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, ...]:
    # Shared odd-part rotation network of both islow transforms. Inputs are the four odd-part
    # terms (forward: differences x3-x4, x2-x5, x1-x6, x0-x7; inverse: coefficients 7, 5, 3, 1).
    z1, z2, z3, z4 = a + d, b + c, a + c, b + d
    z5 = (z3 + z4) * _C["1_175875602"]
    a = a * _C["0_298631336"]
    b = b * _C["2_053119869"]
    c = c * _C["3_072711026"]
    d = d * _C["1_501321110"]
    z1 = z1 * -_C["0_899976223"]
    z2 = z2 * -_C["2_562915447"]
    z3 = z3 * -_C["1_961570560"] + z5
    z4 = z4 * -_C["0_390180644"] + z5
    return a + z1 + z3, b + z2 + z4, c + z2 + z3, d + z1 + z4


def _fdct_forms() -> np.ndarray:
    x = list(np.eye(8, dtype=np.int64))
    s07, s16, s25, s34 = x[0] + x[7], x[1] + x[6], x[2] + x[5], x[3] + x[4]
    d07, d16, d25, d34 = x[0] - x[7], x[1] - x[6], x[2] - x[5], x[3] - x[4]
    e0, e3, e1, e2 = s07 + s34, s07 - s34, s16 + s25, s16 - s25
    out = [np.zeros(8, dtype=np.int64)] * 8
    # DC and 4 are exact sums in libjpeg; scaling them by 2**13 lets every output share one
    # rounding shift per pass (the added rounding bit then vanishes exactly).
    out[0] = (e0 + e1) << _CONST_BITS
    out[4] = (e0 - e1) << _CONST_BITS
    z1 = (e2 + e3) * _C["0_541196100"]
    out[2] = z1 + e3 * _C["0_765366865"]
    out[6] = z1 - e2 * _C["1_847759065"]
    out[7], out[5], out[3], out[1] = _odd_part(d34, d25, d16, d07)
    return np.stack(out)


def _idct_forms() -> np.ndarray:
    c = list(np.eye(8, dtype=np.int64))
    z1 = (c[2] + c[6]) * _C["0_541196100"]
    t2 = z1 - c[6] * _C["1_847759065"]
    t3 = z1 + c[2] * _C["0_765366865"]
    t0 = (c[0] + c[4]) << _CONST_BITS
    t1 = (c[0] - c[4]) << _CONST_BITS
    e10, e13, e11, e12 = t0 + t3, t0 - t3, t1 + t2, t1 - t2
    o0, o1, o2, o3 = _odd_part(c[7], c[5], c[3], c[1])
    rows = [e10 + o3, e11 + o2, e12 + o1, e13 + o0, e13 - o0, e12 - o1, e11 - o2, e10 - o3]
    return np.stack(rows)


#: ``(8, 8)`` integer matrix of one forward islow pass (output frequency x input sample).
FDCT_MATRIX: np.ndarray = _fdct_forms()
#: ``(8, 8)`` integer matrix of one inverse islow pass (output sample x input frequency).
IDCT_MATRIX: np.ndarray = _idct_forms()
FDCT_PASS1_SHIFT = 11  # CONST_BITS - PASS1_BITS
FDCT_PASS2_SHIFT = 15  # CONST_BITS + PASS1_BITS
IDCT_PASS1_SHIFT = 11  # CONST_BITS - PASS1_BITS
IDCT_PASS2_SHIFT = 18  # CONST_BITS + PASS1_BITS + 3


def dct_matrix() -> np.ndarray:
    """The orthonormal 8-point DCT-II matrix ``D[k, n]`` (float64); JPEG's 2-D DCT is ``D X D^T``.

    Example:
        >>> d = dct_matrix()
        >>> bool(np.allclose(d @ d.T, np.eye(8)))
        True
    """
    d = np.empty((8, 8), dtype=np.float64)
    for k in range(8):
        scale = math.sqrt(1 / 8) if k == 0 else math.sqrt(2 / 8)
        for n in range(8):
            d[k, n] = scale * math.cos((2 * n + 1) * k * math.pi / 16)
    return d
