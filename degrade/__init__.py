"""degrade: real-world image degradations as batched tensor ops with per-sample parameters.

The functional core lives in :mod:`degrade.functional`.
"""

__version__ = "0.1.0.dev0"
