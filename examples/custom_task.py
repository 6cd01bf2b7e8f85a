"""Train with a task of your own: Real-ESRNet's data, degradation and L1 loss, plus a loss on the
Fourier amplitudes of the output.

The options file stays a standard one (its ``model_type`` decides which options apply and what the
task is based on); the Trainer builds your task through ``task_factory``, and everything generic
(data loading, EMA, checkpoints, resume, validation, logging, DDP, mixed precision) stays the
Trainer's. Run from the repository root::

    python examples/custom_task.py options/demo_x4_cpu.yml train.total_iter=50

The new term is logged as ``l_fft`` beside ``l_pix`` (console, ``metrics.jsonl``, TensorBoard).
See docs/training.md, "A task of your own".
"""

from __future__ import annotations

import argparse
from typing import ClassVar

import torch
from torch import Tensor

from realsr.config import load_options
from realsr.train import Trainer
from realsr.train.tasks import RealESRNetModel


class FourierLossESRNet(RealESRNetModel):
    """RealESRNetModel plus ``fft_weight * L1(|FFT(output)|, |FFT(gt)|)``, logged as ``l_fft``.

    ``generator_losses`` returns the generator's terms by log name; the task's step backwards
    their sum, so a new term only needs a new entry.
    """

    fft_weight: ClassVar[float] = 0.05

    def generator_losses(
        self, output: Tensor, pix_gt: Tensor, percep_gt: Tensor
    ) -> dict[str, Tensor]:
        losses = super().generator_losses(output, pix_gt, percep_gt)
        amplitude_out = torch.fft.rfft2(output.float(), norm="ortho").abs()
        amplitude_gt = torch.fft.rfft2(pix_gt.float(), norm="ortho").abs()
        losses["l_fft"] = self.fft_weight * (amplitude_out - amplitude_gt).abs().mean()
        return losses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("options", metavar="FILE.yml", help="options file")
    parser.add_argument(
        "overrides", nargs="*", metavar="KEY=VALUE", help="as `realsr train --set KEY=VALUE`"
    )
    args = parser.parse_args(argv)
    options = load_options(args.options, overrides=args.overrides)
    if options.model_type != FourierLossESRNet.model_type:
        parser.error(f"{args.options}: model_type must be {FourierLossESRNet.model_type}")
    Trainer(options, task_factory=FourierLossESRNet).run()
    return 0


if __name__ == "__main__":  # required: data-loader workers are spawned processes
    raise SystemExit(main())
