"""degrade: real-world image degradations as batched tensor ops with per-sample parameters.

- :mod:`degrade.functional`: pure ops on ``(B, C, H, W)`` tensors with per-sample parameters;
- :mod:`degrade.ops` and :mod:`degrade.pipeline`: random ops and containers with a
  ``sample(keys, *, seed) -> params`` / ``apply(x, params)`` pair;
- :func:`load_pipeline`: presets shipped with the package, YAML files or spec mappings;
- :mod:`degrade.records`: per-image parameter records that replay exactly.
"""

__version__ = "0.1.0.dev0"

from degrade.presets import Pipeline, load_pipeline

__all__ = ["Pipeline", "__version__", "load_pipeline"]
