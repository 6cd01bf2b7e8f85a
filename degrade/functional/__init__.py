"""Pure degradation ops on ``(B, C, H, W)`` tensors with per-sample parameter tensors."""
