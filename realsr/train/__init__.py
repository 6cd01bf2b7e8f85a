"""Training: a generic Trainer, small Tasks per model type, and the `realsr train` command."""
