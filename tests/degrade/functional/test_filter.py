"""filter2d / filter2d_separable / reflect padding: harness, reference parity and edge cases."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from degrade.functional.filter import (
    filter2d,
    filter2d_separable,
    reflect_indices,
    reflect_pad2d,
)
from degrade.functional.kernels import bivariate_gaussian_kernel, delta_kernel
from tests._reference import import_reference
from tests.degrade.functional._harness import PROPERTY_CHECKS, OpSpec, make_input

F64 = torch.float64


def _random_kernels(b: int, g: torch.Generator, k: int) -> torch.Tensor:
    raw = torch.rand(b, k, k, generator=g) + 0.05
    return raw / raw.sum(dim=(1, 2), keepdim=True)


def _random_1d(b: int, g: torch.Generator, k: int) -> torch.Tensor:
    raw = torch.rand(b, k, generator=g) + 0.05
    return raw / raw.sum(dim=1, keepdim=True)


SPECS = [
    OpSpec(
        "filter2d_per_sample_7",
        filter2d,
        make_params=lambda b, g: {"kernels": _random_kernels(b, g, 7)},
        grad_params=("kernels",),
    ),
    # A 21 x 21 kernel on the 6 x 7 gradcheck input exercises the repeated reflection (the
    # kernel gradient is checked on the 7 x 7 spec: 882 kernel entries would make it slow).
    OpSpec(
        "filter2d_per_sample_21",
        filter2d,
        make_params=lambda b, g: {"kernels": _random_kernels(b, g, 21)},
    ),
    OpSpec(
        "filter2d_separable",
        filter2d_separable,
        make_params=lambda b, g: {
            "kernel_y": _random_1d(b, g, 9),
            "kernel_x": _random_1d(b, g, 15),
        },
        grad_params=("kernel_y", "kernel_x"),
    ),
]


@pytest.mark.parametrize("check", PROPERTY_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_properties(spec: OpSpec, check, device: torch.device) -> None:
    check(spec, device)


def test_shared_kernel_batched_equals_loop() -> None:
    # One (1, k, k) kernel for the whole batch: each sample equals its single call bitwise.
    g = torch.Generator().manual_seed(0)
    kernel = _random_kernels(1, g, 11)
    for dtype in (torch.float32, F64):
        x = make_input(5, 3, (19, 23), dtype, torch.device("cpu"))
        batched = filter2d(x, kernel)
        for i in range(5):
            assert torch.equal(batched[i : i + 1], filter2d(x[i : i + 1], kernel[0]))


# --------------------------------------------------------------------------- padding


@pytest.mark.parametrize("n", [2, 3, 5, 8])
def test_reflect_indices_equal_torch_reflect_where_defined(n: int) -> None:
    x = torch.arange(float(n)).view(1, 1, n)
    for before in range(n):
        for after in range(n):
            expected = F.pad(x, (before, after), mode="reflect")
            got = x.index_select(-1, reflect_indices(n, before, after))
            assert torch.equal(got, expected), (n, before, after)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7])
def test_large_pads_repeat_the_reflection(n: int) -> None:
    # Independent construction: reflect repeatedly with the largest pad torch allows, which
    # mirrors about the current edges; a side of length 1 replicates.
    x = torch.arange(float(n)).view(1, 1, n) * 10 + 1
    before, after = 3 * n + 2, 2 * n + 5
    ref = x
    todo_b, todo_a = before, after
    while todo_b or todo_a:
        if ref.shape[-1] == 1:
            ref = F.pad(ref, (todo_b, todo_a), mode="replicate")
            break
        step_b = min(todo_b, ref.shape[-1] - 1)
        step_a = min(todo_a, ref.shape[-1] - 1)
        ref = F.pad(ref, (step_b, step_a), mode="reflect")
        todo_b, todo_a = todo_b - step_b, todo_a - step_a
    got = x.index_select(-1, reflect_indices(n, before, after))
    assert torch.equal(got, ref)
    img = x.view(1, 1, 1, n).expand(1, 1, 2, n)
    padded = reflect_pad2d(img, (before, after, 0, 0))
    assert torch.equal(padded[0, 0, 0], ref[0, 0])


def test_reflect_pad2d_matches_torch_and_handles_tiny_images() -> None:
    x = make_input(2, 3, (6, 9), F64, torch.device("cpu"))
    for pad in [(1, 2, 3, 4), (8, 0, 5, 5), (0, 0, 0, 0)]:
        expected = F.pad(x, pad, mode="reflect")
        assert torch.equal(reflect_pad2d(x, pad), expected)
    tiny = torch.rand(1, 1, 2, 3, dtype=F64)
    out = reflect_pad2d(tiny, (10, 10, 10, 10))
    assert out.shape == (1, 1, 22, 23)
    # Every padded value is a copy of an input value, and the centre is the input.
    assert torch.equal(out[..., 10:12, 10:13], tiny)
    assert set(out.unique().tolist()) == set(tiny.unique().tolist())


def test_reflect_pad2d_gradient_counts_copies() -> None:
    x = torch.rand(1, 1, 3, 2, dtype=F64, requires_grad=True)
    reflect_pad2d(x, (4, 4, 4, 4)).sum().backward()
    assert x.grad is not None
    assert x.grad.sum().item() == (3 + 8) * (2 + 8)  # every padded pixel counted once


# ------------------------------------------------------------------------- filtering


@pytest.mark.reference
@pytest.mark.parametrize("k", [3, 7, 13, 21])
def test_filter2d_matches_basicsr(k: int) -> None:
    ref = import_reference("basicsr.utils.img_process_util")
    g = torch.Generator().manual_seed(k)
    x = make_input(4, 3, (32, 40), torch.float32, torch.device("cpu"))
    kernels = bivariate_gaussian_kernel(
        k, 0.3 + 3 * torch.rand(4, generator=g), 0.3 + 3 * torch.rand(4, generator=g), 0.4
    )
    torch.testing.assert_close(filter2d(x, kernels), ref.filter2D(x, kernels), rtol=0, atol=1e-6)
    shared = _random_kernels(1, g, k)
    torch.testing.assert_close(filter2d(x, shared), ref.filter2D(x, shared), rtol=0, atol=1e-6)
    # Signed kernels (sinc-like) too.
    signed = torch.randn(4, k, k, generator=g) / k
    torch.testing.assert_close(filter2d(x, signed), ref.filter2D(x, signed), rtol=0, atol=1e-6)


def test_filter2d_is_cross_correlation() -> None:
    x = make_input(2, 3, (9, 11), F64, torch.device("cpu"))
    kernel = torch.zeros(2, 3, 5, dtype=F64)
    kernel[0, 0, 0] = 1.0  # top-left tap: out[i, j] = x[i - 1, j - 2]
    kernel[1, 1, 4] = 1.0  # right tap:    out[i, j] = x[i, j + 2]
    out = filter2d(x, kernel)
    assert torch.equal(out[0, :, 1:, 2:], x[0, :, :-1, :-2])
    assert torch.equal(out[1, :, :, :-2], x[1, :, :, 2:])
    # The delta kernel is the identity, for any size.
    for k in (1, 5, 21):
        assert torch.equal(filter2d(x, delta_kernel(k, dtype=F64)), x)


def test_filter2d_equals_direct_sum_with_reflection() -> None:
    g = torch.Generator().manual_seed(2)
    x = torch.rand(2, 1, 5, 6, dtype=F64, generator=g)
    kernels = torch.randn(2, 9, 7, dtype=F64, generator=g)
    out = filter2d(x, kernels)

    def mirror(i: int, n: int) -> int:
        while i < 0 or i >= n:
            i = -i if i < 0 else 2 * (n - 1) - i
        return i

    expected = torch.zeros_like(x)
    for b in range(2):
        for i in range(5):
            for j in range(6):
                acc = 0.0
                for u in range(9):
                    for v in range(7):
                        acc += (
                            kernels[b, u, v].item()
                            * x[b, 0, mirror(i + u - 4, 5), mirror(j + v - 3, 6)].item()
                        )
                expected[b, 0, i, j] = acc
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize(("h", "w"), [(1, 1), (1, 5), (2, 3), (4, 4)])
def test_tiny_images_stay_sane(h: int, w: int) -> None:
    g = torch.Generator().manual_seed(h * 10 + w)
    kernels = _random_kernels(3, g, 21).double()
    kernels = kernels / kernels.sum(dim=(1, 2), keepdim=True)
    const = torch.full((3, 3, h, w), 0.37, dtype=F64)
    torch.testing.assert_close(filter2d(const, kernels), const, rtol=0, atol=1e-14)
    x = torch.rand(3, 3, h, w, dtype=F64, generator=g)
    out = filter2d(x, kernels)
    assert out.shape == x.shape
    # A normalised non-negative kernel averages: the output stays within the input's range.
    lo = x.amin(dim=(2, 3), keepdim=True)
    hi = x.amax(dim=(2, 3), keepdim=True)
    assert torch.all(out >= lo - 1e-12) and torch.all(out <= hi + 1e-12)
    if h == w == 1:
        torch.testing.assert_close(out, x, rtol=0, atol=1e-14)


@pytest.mark.parametrize(("h", "w"), [(3, 4), (19, 23)])
def test_separable_equals_outer_product(h: int, w: int) -> None:
    g = torch.Generator().manual_seed(4)
    x = torch.rand(3, 3, h, w, dtype=F64, generator=g)
    ky = torch.randn(3, 7, dtype=F64, generator=g)
    kx = torch.randn(1, 13, dtype=F64, generator=g)
    outer = ky[:, :, None] * kx[:, None, :]
    torch.testing.assert_close(
        filter2d_separable(x, ky, kx), filter2d(x, outer), rtol=0, atol=1e-12
    )
    torch.testing.assert_close(
        filter2d_separable(x, ky[0], kx[0]), filter2d(x, outer[0]), rtol=0, atol=1e-12
    )


def test_non_contiguous_input_and_kernel_dtype_cast() -> None:
    x = make_input(2, 3, (12, 10), F64, torch.device("cpu")).transpose(2, 3)
    kernels = _random_kernels(2, torch.Generator().manual_seed(0), 5)  # float32
    out = filter2d(x, kernels)
    assert out.dtype == F64
    torch.testing.assert_close(out, filter2d(x.contiguous(), kernels.double()), rtol=0, atol=0)


def test_subnormal_weights_count_as_zero() -> None:
    x = make_input(2, 3, (12, 10), torch.float32, torch.device("cpu"))
    kernels = _random_kernels(2, torch.Generator().manual_seed(1), 5)
    with_subnormal = kernels.clone()
    with_subnormal[:, 0, :] = 1e-40  # subnormal in float32
    zeroed = kernels.clone()
    zeroed[:, 0, :] = 0
    assert torch.equal(filter2d(x, with_subnormal), filter2d(x, zeroed))
    row = torch.tensor([1e-40, 0.5, 0.5 - 1e-40])
    assert torch.equal(
        filter2d_separable(x, row, row),
        filter2d_separable(x, row * (row > 1e-38), row * (row > 1e-38)),
    )


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda x: filter2d(x, torch.ones(2, 4, 4)), "odd"),
        (lambda x: filter2d(x, torch.ones(3, 5, 5)), "shape"),
        (lambda x: filter2d(x, torch.ones(2, 1, 5, 5)), "shape"),
        (lambda x: filter2d_separable(x, torch.ones(5), torch.ones(2, 4)), "odd"),
        (lambda x: filter2d(x[:, :2], torch.ones(5, 5)), "channels"),
    ],
)
def test_invalid_arguments(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call(torch.rand(2, 3, 8, 8))


def test_filter2d_ragged_equals_per_sample_filter2d():
    from degrade.functional.filter import _ragged_groups, filter2d_ragged
    from degrade.functional.kernels import bivariate_gaussian_kernel

    g = torch.Generator().manual_seed(5)
    sizes = [(1, 1), (3, 40), (9, 9), (37, 21), (64, 64), (66, 61), (120, 90), (5, 130), (64, 64)]
    samples = [torch.rand(1, 3, h, w, generator=g) for h, w in sizes]
    b = len(samples)
    kernels = bivariate_gaussian_kernel(
        torch.tensor([7, 21, 13, 21, 9, 21, 15, 11, 21]),
        torch.rand(b, generator=g) * 3 + 0.2,
        1.3,
        0.4,
        pad_to=21,
    )
    out = filter2d_ragged(samples, kernels)
    for i, (x, y) in enumerate(zip(samples, out, strict=True)):
        assert torch.equal(y, filter2d(x, kernels[i : i + 1])), sizes[i]
    groups = _ragged_groups(sizes, 3)
    assert sorted(i for group in groups for i in group) == list(range(b))
    assert filter2d_ragged([], kernels) == []
    with pytest.raises(ValueError, match="one image"):
        filter2d_ragged([torch.rand(2, 3, 8, 8)], kernels[:1])
