"""Shared property harness for every functional op.

Each op's test module describes how to call the op with an :class:`OpSpec` and runs every check
in :data:`PROPERTY_CHECKS` on it::

    SPECS = [OpSpec("filter2d", filter2d, make_params=lambda b, g: {"kernels": ...})]

    @pytest.mark.parametrize("check", PROPERTY_CHECKS, ids=lambda c: c.__name__)
    @pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
    def test_properties(spec, check, device):
        check(spec, device)

The checks (after torchvision transforms v2's kernel checks): the input is not mutated; dtype and
device are kept; the batched output equals the per-sample loop bitwise on CPU; an empty batch works;
float64 gradcheck for ops that are differentiable in the ordinary sense.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch
from torch import Tensor

ParamMaker = Callable[[int, torch.Generator], dict[str, Tensor]]


@dataclass(frozen=True)
class OpSpec:
    """How to call one op for the property checks.

    Attributes:
        name: test id.
        fn: the op, called as ``fn(x, **per_sample_params, **static)``.
        make_params: ``(batch, generator) -> {name: tensor with leading dim batch}``: per-sample
            parameters (drawn on CPU; the harness moves them to the device).
        static: keyword arguments shared by every sample (sizes, modes, flags).
        channels: channel counts to test.
        size: (H, W) of the test input.
        dtypes: dtypes the op must keep (``torch.uint8`` for 8-bit modes).
        differentiable: whether to run float64 gradcheck w.r.t. the input.
        grad_params: names of float per-sample parameters also checked by gradcheck.
        gradcheck_size: (H, W) for gradcheck (small: it costs one forward per input element).
        gradcheck_fn: a different callable for gradcheck (e.g. the float surrogate of a
            straight-through op); defaults to ``fn``.
        keeps_dtype: False for ops whose documented output dtype differs from the input's.
        batch: batch size for the batched-vs-loop check.
    """

    name: str
    fn: Callable[..., Tensor]
    make_params: ParamMaker = lambda b, g: {}
    static: Mapping[str, Any] = field(default_factory=dict)
    channels: tuple[int, ...] = (1, 3)
    size: tuple[int, int] = (19, 23)
    dtypes: tuple[torch.dtype, ...] = (torch.float32, torch.float64)
    differentiable: bool = True
    grad_params: tuple[str, ...] = ()
    gradcheck_size: tuple[int, int] = (6, 7)
    gradcheck_fn: Callable[..., Tensor] | None = None
    keeps_dtype: bool = True
    batch: int = 4

    def __repr__(self) -> str:  # short ids in pytest output
        return f"OpSpec({self.name})"


def make_input(
    batch: int,
    channels: int,
    size: tuple[int, int],
    dtype: torch.dtype,
    device: torch.device,
    seed: int = 0,
) -> Tensor:
    """A deterministic test image batch in [0, 1] (or 0..255 for uint8) with edges and texture."""
    g = torch.Generator().manual_seed(seed)
    h, w = size
    yy = torch.linspace(0, 1, h).view(1, 1, h, 1)
    xx = torch.linspace(0, 1, w).view(1, 1, 1, w)
    smooth = 0.5 + 0.4 * torch.sin(6.0 * xx + 4.0 * yy + torch.arange(channels).view(1, -1, 1, 1))
    edges = ((xx > 0.5) ^ (yy > 0.4)).float() * 0.3
    noise = torch.rand(batch, channels, h, w, generator=g) * 0.3
    x = (smooth * 0.6 + edges + noise).clamp(0, 1).expand(batch, channels, h, w).contiguous()
    if dtype == torch.uint8:
        return (x * 255).round().to(torch.uint8).to(device)
    return x.to(device=device, dtype=dtype)


def _params(spec: OpSpec, batch: int, device: torch.device, seed: int = 1) -> dict[str, Tensor]:
    g = torch.Generator().manual_seed(seed)
    params = spec.make_params(batch, g)
    return {k: v.to(device) for k, v in params.items()}


def _call(spec: OpSpec, x: Tensor, params: Mapping[str, Tensor]) -> Tensor:
    return spec.fn(x, **params, **spec.static)


def check_input_not_mutated(spec: OpSpec, device: torch.device) -> None:
    """The op never writes into its input or its parameter tensors."""
    for c in spec.channels:
        for dtype in spec.dtypes:
            x = make_input(spec.batch, c, spec.size, dtype, device)
            params = _params(spec, spec.batch, device)
            x_before = x.clone()
            params_before = {k: v.clone() for k, v in params.items()}
            _call(spec, x, params)
            assert torch.equal(x, x_before), f"{spec.name} mutated its input"
            for k, v in params.items():
                assert torch.equal(v, params_before[k]), f"{spec.name} mutated parameter {k}"


def check_dtype_and_device_kept(spec: OpSpec, device: torch.device) -> None:
    """Output dtype and device equal the input's (unless the spec documents otherwise)."""
    for c in spec.channels:
        for dtype in spec.dtypes:
            x = make_input(spec.batch, c, spec.size, dtype, device)
            y = _call(spec, x, _params(spec, spec.batch, device))
            assert y.device == x.device, f"{spec.name}: device {y.device} != {x.device}"
            if spec.keeps_dtype:
                assert y.dtype == x.dtype, f"{spec.name}: dtype {y.dtype} != {x.dtype}"
            assert y.shape[0] == x.shape[0] and y.shape[1] == c
            if y.is_floating_point():
                assert torch.isfinite(y).all(), f"{spec.name} produced non-finite values"


def check_batched_equals_loop(spec: OpSpec, device: torch.device) -> None:
    """Each sample of a batched call equals the op applied to that sample alone (bitwise on CPU)."""
    for c in spec.channels:
        for dtype in spec.dtypes:
            x = make_input(spec.batch, c, spec.size, dtype, device, seed=3)
            params = _params(spec, spec.batch, device)
            batched = _call(spec, x, params)
            for i in range(spec.batch):
                single = _call(spec, x[i : i + 1], {k: v[i : i + 1] for k, v in params.items()})
                if device.type == "cpu":
                    assert torch.equal(batched[i : i + 1], single), (
                        f"{spec.name}: sample {i} differs between batched and single calls "
                        f"(C={c}, {dtype}); max diff "
                        f"{(batched[i : i + 1].double() - single.double()).abs().max().item()}"
                    )
                else:
                    torch.testing.assert_close(batched[i : i + 1], single)


def check_empty_batch(spec: OpSpec, device: torch.device) -> None:
    """A batch of zero samples returns a tensor with zero samples and the right channel count."""
    for c in spec.channels:
        dtype = spec.dtypes[0]
        x = make_input(1, c, spec.size, dtype, device)[:0]
        params = _params(spec, 0, device)
        y = _call(spec, x, params)
        assert y.shape[0] == 0 and y.shape[1] == c, (
            f"{spec.name}: empty batch gave {tuple(y.shape)}"
        )
        assert y.dtype == x.dtype or not spec.keeps_dtype


def check_gradcheck(spec: OpSpec, device: torch.device) -> None:
    """float64 gradcheck w.r.t. the input (and ``grad_params``) for differentiable ops."""
    if not spec.differentiable:
        pytest.skip(f"{spec.name} is not differentiable in the ordinary sense")
    fn = spec.gradcheck_fn or spec.fn
    c = spec.channels[-1]
    x = make_input(2, c, spec.gradcheck_size, torch.float64, device).requires_grad_(True)
    params = _params(spec, 2, device)
    grad_names = [k for k in spec.grad_params if k in params]
    grad_inputs = [params[k].double().requires_grad_(True) for k in grad_names]
    fixed = {k: v for k, v in params.items() if k not in grad_names}

    def wrapped(x_: Tensor, *gp: Tensor) -> Tensor:
        return fn(x_, **fixed, **dict(zip(grad_names, gp, strict=True)), **spec.static)

    assert torch.autograd.gradcheck(wrapped, (x, *grad_inputs), eps=1e-6, atol=1e-5, rtol=1e-4)


PROPERTY_CHECKS: list[Callable[[OpSpec, torch.device], None]] = [
    check_input_not_mutated,
    check_dtype_and_device_kept,
    check_batched_equals_loop,
    check_empty_batch,
    check_gradcheck,
]
