"""realsr: blind super-resolution models, losses, metrics, training and inference."""

__version__ = "0.1.0.dev0"
