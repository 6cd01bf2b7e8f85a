"""The property harness must fail on ops that break each property (it cannot pass on anything)."""

from __future__ import annotations

import pytest
import torch

from tests.degrade.functional._harness import (
    OpSpec,
    check_batched_equals_loop,
    check_dtype_and_device_kept,
    check_empty_batch,
    check_gradcheck,
    check_input_not_mutated,
)


def _gain(b, g):
    return {"gain": torch.rand(b, generator=g) + 0.5}


def good(x, gain):
    return x * gain.view(-1, 1, 1, 1)


def mutating(x, gain):
    return x.mul_(gain.view(-1, 1, 1, 1))


def casting(x, gain):
    return (x * gain.view(-1, 1, 1, 1)).float()


def batch_mixing(x, gain):
    return x * gain.view(-1, 1, 1, 1) + x.mean(0, keepdim=True) * 0.01


def empty_failing(x, gain):
    return x * gain.view(-1, 1, 1, 1) / x.amax()


def wrong_backward(x, gain):
    class Op(torch.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 3

    return Op.apply(x) * gain.view(-1, 1, 1, 1)


def test_harness_accepts_a_correct_op():
    spec = OpSpec("good", good, make_params=_gain)
    device = torch.device("cpu")
    for check in (
        check_input_not_mutated,
        check_dtype_and_device_kept,
        check_batched_equals_loop,
        check_empty_batch,
        check_gradcheck,
    ):
        check(spec, device)


@pytest.mark.parametrize(
    ("fn", "check"),
    [
        (mutating, check_input_not_mutated),
        (casting, check_dtype_and_device_kept),
        (batch_mixing, check_batched_equals_loop),
        (empty_failing, check_empty_batch),
        (wrong_backward, check_gradcheck),
    ],
    ids=["mutation", "dtype", "batch-mixing", "empty-batch", "gradient"],
)
def test_harness_rejects_a_broken_op(fn, check):
    spec = OpSpec(fn.__name__, fn, make_params=_gain)
    with pytest.raises((AssertionError, RuntimeError)):  # GradcheckError is a RuntimeError
        check(spec, torch.device("cpu"))
