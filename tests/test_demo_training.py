"""The training demo (``options/demo_x4_cpu.yml`` + ``scripts/evaluate_demo.py``).

The slow test is the demo's success measure: trained as the recipe says, on the CPU, the model
beats MATLAB bicubic upscaling of the same LR by at least 0.3 dB of PSNR (Y, ``scale`` border
cropped) on the held-out images of ``examples/heldout`` degraded with the training pipeline and a
fixed seed. The fast tests run the same commands for two iterations.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
import torch

from realsr.checkpoint import load_model
from realsr.cli import main as realsr_main
from realsr.config import load_options

REPO_ROOT = Path(__file__).resolve().parents[1]
RECIPE = REPO_ROOT / "options" / "demo_x4_cpu.yml"
HELDOUT = REPO_ROOT / "examples" / "heldout"
TRAINING = REPO_ROOT / "examples" / "images"
MARGIN_DB = 0.3


def _evaluate_demo() -> ModuleType:
    path = REPO_ROOT / "scripts" / "evaluate_demo.py"
    spec = importlib.util.spec_from_file_location("evaluate_demo", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


def _train(root: Path, *overrides: str) -> Path:
    """Run ``realsr train -opt options/demo_x4_cpu.yml`` into ``root``; returns the model."""
    code = realsr_main(
        [
            "train",
            "-opt",
            str(RECIPE),
            "--set",
            f"path.experiments_root={root}",
            *overrides,
        ]
    )
    assert code == 0
    model = root / "models" / "net_g_latest.pth"
    assert model.is_file()
    return model


@pytest.fixture(autouse=True)
def _repository_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)  # the recipe's data paths are relative to the repository root


def test_heldout_images_are_not_training_images() -> None:
    from degrade.io import list_images, read_image

    held = [read_image(p) for p in list_images(HELDOUT)]
    train = [read_image(p) for p in list_images(TRAINING)]
    assert len(held) >= 4
    for h in held:
        assert all(h.shape != t.shape or not torch.equal(h, t) for t in train)
    options = load_options(RECIPE)
    assert Path(options.datasets["train"].dataroot_gt or "").resolve() == TRAINING
    assert Path(options.datasets["val"].dataroot_gt or "").resolve() == HELDOUT


def test_two_iterations_then_the_score_script(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = _train(
        tmp_path / "run",
        "train.total_iter=2",
        "val.val_freq=2",
        "logger.save_checkpoint_freq=2",
    )
    net = load_model(model)
    assert type(net).__name__ == "SRVGGNetCompact" and net.hparams["num_feat"] == 32
    evaluate_demo = _evaluate_demo()
    out = tmp_path / "scores.json"
    args = ["--model", str(model), "--variants", "1", "--json", str(out)]
    assert evaluate_demo.main(args) == 0
    printed = capsys.readouterr().out
    scores = json.loads(out.read_text())
    assert len(scores["scores"]) == 4  # four held-out images, one variant each
    assert f"{scores['margin']:+.3f}" in printed.splitlines()[-1]
    assert scores["margin"] == pytest.approx(scores["psnr_model"] - scores["psnr_bicubic"])
    # The bicubic numbers depend only on the images, the pipeline and the seed.
    again = evaluate_demo.evaluate_heldout(model, RECIPE, HELDOUT, variants=1, seed=0)
    assert [s.bicubic for s in again.scores] == [s["bicubic"] for s in scores["scores"]]
    other = evaluate_demo.evaluate_heldout(model, RECIPE, HELDOUT, variants=1, seed=1)
    assert [s.bicubic for s in other.scores] != [s.bicubic for s in again.scores]
    # --min-margin turns a too small gain into exit status 1; a missing model is status 2.
    assert evaluate_demo.main([*args[:4], "--min-margin", "100"]) == 1
    assert evaluate_demo.main(["--model", str(tmp_path / "nope.pth")]) == 2
    assert "nope.pth" in capsys.readouterr().err


@pytest.mark.slow
def test_demo_beats_bicubic_on_heldout_images(tmp_path: Path) -> None:
    """The full recipe (1000 iterations; a few minutes on 2 CPU cores) and the held-out score."""
    model = _train(tmp_path / "run")
    result = _evaluate_demo().evaluate_heldout(model, RECIPE, HELDOUT, variants=4, seed=0)
    assert len(result.scores) == 16
    assert result.margin >= MARGIN_DB, (
        f"model {result.model:.3f} dB vs bicubic {result.bicubic:.3f} dB: "
        f"gain {result.margin:+.3f} dB < {MARGIN_DB} dB"
    )
