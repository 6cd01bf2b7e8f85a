"""The example scripts in examples/ run as their docstrings say (briefly)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]


def _load(name: str) -> ModuleType:
    path = REPO_ROOT / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"examples_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_fourier_loss_term_is_zero_for_a_perfect_output_and_has_gradients() -> None:
    example = _load("custom_task")
    gt = torch.rand(2, 3, 16, 16)
    task = example.FourierLossESRNet.__new__(example.FourierLossESRNet)
    task.cri_pix = None
    task.cri_perceptual = None
    assert task.generator_losses(gt.clone(), gt, gt)["l_fft"] == 0
    output = (gt * 0.5).requires_grad_(True)  # every amplitude halves
    loss = task.generator_losses(output, gt, gt)["l_fft"]
    assert loss > 0
    loss.backward()
    assert output.grad is not None and output.grad.abs().sum() > 0


def test_custom_task_trains_with_the_demo_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO_ROOT)  # the demo's data paths are relative to the repository root
    example = _load("custom_task")
    root = tmp_path / "run"
    overrides = [
        f"path.experiments_root={root}",
        "train.total_iter=2",
        "datasets.val=null",
        "val=null",
        "logger.print_freq=1",
        "logger.save_checkpoint_freq=2",
    ]
    assert example.main(["options/demo_x4_cpu.yml", *overrides]) == 0
    assert (root / "models" / "net_g_latest.pth").is_file()
    logged = [json.loads(line) for line in (root / "metrics.jsonl").read_text().splitlines()]
    losses = [entry["losses"] for entry in logged]
    assert len(losses) == 2 and all(loss["l_fft"] > 0 and "l_pix" in loss for loss in losses)
    with pytest.raises(SystemExit):
        example.main(["options/train_MSRResNet_x4.yml"])  # another model_type
