"""Build a pipeline spec from a Real-ESRGAN training options file.

Real-ESRGAN's option files keep the degradation keys in two places: the top level (``resize_prob``,
``noise_range2``, ``jpeg_range``, ``second_blur_prob``, ...) and ``datasets.train`` (``kernel_list``,
``blur_sigma``, ``sinc_prob``, ``final_sinc_prob``, ...). The rest of the recipe lives in its code
(kernel sizes 7..21, the sinc cutoff rule, the final order); :func:`spec_from_realesrgan_options`
supplies it, so the published files give exactly the ``realesrgan_x4plus`` / ``x2plus`` presets.
``blur_kernel_size`` is read and ignored (Real-ESRGAN ignores it too).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from degrade.presets import SpecError

TOP_LEVEL_KEYS: tuple[str, ...] = (
    "resize_prob",
    "resize_range",
    "gaussian_noise_prob",
    "noise_range",
    "poisson_scale_range",
    "gray_noise_prob",
    "jpeg_range",
    "second_blur_prob",
    "resize_prob2",
    "resize_range2",
    "gaussian_noise_prob2",
    "noise_range2",
    "poisson_scale_range2",
    "gray_noise_prob2",
    "jpeg_range2",
)
DATASET_KEYS: tuple[str, ...] = (
    "kernel_list",
    "kernel_prob",
    "sinc_prob",
    "blur_sigma",
    "betag_range",
    "betap_range",
    "kernel_list2",
    "kernel_prob2",
    "sinc_prob2",
    "blur_sigma2",
    "betag_range2",
    "betap_range2",
    "final_sinc_prob",
)
IGNORED_DATASET_KEYS: tuple[str, ...] = ("blur_kernel_size", "blur_kernel_size2")


def _get(section: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in section:
        raise SpecError(f"{where}{key}: missing (needed to build the degradation pipeline)")
    return section[key]


def _floats(value: Any) -> list[float]:
    return [float(v) for v in value]


def gt_usm_of(options: Mapping[str, Any]) -> bool:
    """Whether the LR is made from USM(GT): always for RealESRGANModel, else the ``gt_usm`` key."""
    if options.get("model_type") == "RealESRGANModel":
        return True
    return bool(options.get("gt_usm", False))


def spec_from_realesrgan_options(
    options: Mapping[str, Any], *, name: str | None = None
) -> dict[str, Any]:
    """The pipeline spec equivalent to a Real-ESRGAN options mapping.

    Args:
        options: the whole options file (top level, with ``datasets.train`` inside).
        name: the pipeline name (default ``realesrgan_x<scale>plus``).

    Returns:
        A spec mapping for :func:`degrade.presets.build_pipeline`.
    """
    train = options.get("datasets", {}).get("train")
    if not isinstance(train, Mapping):
        raise SpecError("datasets.train: missing (Real-ESRGAN keeps the kernel options there)")
    top = options
    scale = _get(top, "scale", "")

    def blur(suffix: str, p: float) -> dict[str, Any]:
        where = "datasets.train."
        spec: dict[str, Any] = {
            "type": "blur",
            "name": f"blur{suffix or '1'}",
            "kernel_list": [str(k) for k in _get(train, f"kernel_list{suffix}", where)],
            "kernel_prob": _floats(_get(train, f"kernel_prob{suffix}", where)),
            "sigma": _floats(_get(train, f"blur_sigma{suffix}", where)),
            "betag_range": _floats(_get(train, f"betag_range{suffix}", where)),
            "betap_range": _floats(_get(train, f"betap_range{suffix}", where)),
            "sinc_prob": float(_get(train, f"sinc_prob{suffix}", where)),
        }
        if p != 1.0:
            spec["p"] = p
        return spec

    def noise(suffix: str) -> dict[str, Any]:
        return {
            "type": "noise",
            "name": f"noise{suffix or '1'}",
            "gaussian_noise_prob": float(_get(top, f"gaussian_noise_prob{suffix}", "")),
            "noise_range": _floats(_get(top, f"noise_range{suffix}", "")),
            "poisson_scale_range": _floats(_get(top, f"poisson_scale_range{suffix}", "")),
            "gray_noise_prob": float(_get(top, f"gray_noise_prob{suffix}", "")),
        }

    ops: list[dict[str, Any]] = [
        blur("", 1.0),
        {
            "type": "resize",
            "name": "resize1",
            "resize_prob": _floats(_get(top, "resize_prob", "")),
            "resize_range": _floats(_get(top, "resize_range", "")),
        },
        noise(""),
        {"type": "jpeg", "name": "jpeg1", "jpeg_range": _floats(_get(top, "jpeg_range", ""))},
        blur("2", float(_get(top, "second_blur_prob", ""))),
        {
            "type": "resize",
            "name": "resize2",
            "resize_prob": _floats(_get(top, "resize_prob2", "")),
            "resize_range": _floats(_get(top, "resize_range2", "")),
            "relative_to": "hr",
        },
        noise("2"),
        {
            "type": "random_order",
            "name": "final",
            "ops": [
                {
                    "type": "sequential",
                    "name": "resize_sinc",
                    "ops": [
                        {"type": "resize_to", "name": "resize_back"},
                        {
                            "type": "blur",
                            "name": "final_sinc",
                            "kernel_list": [],
                            "kernel_prob": [],
                            "sinc_prob": float(_get(train, "final_sinc_prob", "datasets.train.")),
                            "sinc_cutoff": [math.pi / 3, math.pi],
                        },
                    ],
                },
                {
                    "type": "jpeg",
                    "name": "jpeg2",
                    "jpeg_range": _floats(_get(top, "jpeg_range2", "")),
                },
            ],
        },
        {"type": "quantize"},
    ]
    return {
        "name": name or f"realesrgan_x{scale}plus",
        "description": f"from Real-ESRGAN options {options.get('name', '')}".strip(),
        "scale": scale,
        "gt_usm": gt_usm_of(options),
        "ops": ops,
    }
