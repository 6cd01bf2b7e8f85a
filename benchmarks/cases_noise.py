"""Noise ops against basicsr's batched torch versions, on the same tensors.

basicsr draws from torch's global generator (a single gray field shared by the batch); ours draw
per sample from per-sample seeds (``rng="torch"``: one generator per sample; ``rng="hash"``: a
counter-based hash). Half of the samples use gray noise, as with Real-ESRGAN's gray_noise_prob.
"""

from __future__ import annotations

import importlib

import torch

from benchmarks._common import Case
from degrade.functional.noise import add_gaussian_noise, add_poisson_noise

GROUP = "noise"
SHAPES = [(12, 3, 64, 64), (12, 3, 256, 256)]


def cases() -> list[Case]:
    deg = importlib.import_module("basicsr.data.degradations")
    out: list[Case] = []
    for shape in SHAPES:
        g = torch.Generator().manual_seed(0)
        b = shape[0]
        x = torch.rand(shape, generator=g)
        sigma = torch.rand(b, generator=g) * 29 + 1
        scale = torch.rand(b, generator=g) * 2.95 + 0.05
        gray = (torch.arange(b) % 2).float()
        gray_b = gray.bool()
        seeds = torch.randint(-(2**62), 2**62, (b,), generator=g)
        label = "x".join(map(str, shape))

        def gauss_ref(x=x, sigma=sigma, gray=gray):
            return deg.add_gaussian_noise_pt(x, sigma, gray, True, False)

        for rng in ("torch", "hash"):
            out.append(
                Case(
                    GROUP,
                    f"add_gaussian_noise[rng={rng}]",
                    label,
                    ours=lambda x=x, sigma=sigma, gray=gray_b, seeds=seeds, rng=rng: (
                        add_gaussian_noise(x, sigma, gray=gray, seeds=seeds, rng=rng)
                    ),
                    reference=gauss_ref,
                    reference_name="basicsr add_gaussian_noise_pt",
                )
            )
        out.append(
            Case(
                GROUP,
                "add_gaussian_noise[compat=basicsr]",
                label,
                ours=lambda x=x, sigma=sigma, gray=gray_b, seeds=seeds: add_gaussian_noise(
                    x, sigma, gray=gray, seeds=seeds, compat="basicsr"
                ),
                reference=gauss_ref,
                reference_name="basicsr add_gaussian_noise_pt",
            )
        )
        out.append(
            Case(
                GROUP,
                "add_poisson_noise",
                label,
                ours=lambda x=x, scale=scale, gray=gray_b, seeds=seeds: add_poisson_noise(
                    x, scale, gray=gray, seeds=seeds
                ),
                reference=lambda x=x, scale=scale, gray=gray: deg.add_poisson_noise_pt(
                    x, scale, True, False, gray
                ),
                reference_name="basicsr add_poisson_noise_pt",
            )
        )
    return out
