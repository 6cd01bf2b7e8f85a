"""Parity of the GAN tasks with the reference models on CPU.

For the same weights and the same ``(lq, gt, gt_usm)`` batch, iterations 1 (discriminator only,
``net_d_init_iters: 1``) and 2 (generator then discriminator) of our ESRGANModel and
RealESRGANModel log the same losses and leave the same weights as basicsr's ``ESRGANModel`` and
realesrgan's ``RealESRGANModel.optimize_parameters``.

How the references run here: ``num_gpu: 0`` (their device is the CPU), ``nn.Module.cuda`` is
patched to a no-op while RealESRGANModel is constructed (it moves its JPEG and USM helpers with
``.cuda()``), and no VGG19 is downloaded: the reference options have no ``perceptual_opt``, and
after construction the reference's ``cri_perceptual`` is set to our task's PerceptualLoss (random
VGG19 weights, ``pretrained: false``), so both sides use the same perceptual module and the test
checks which target each loss receives. (Our PerceptualLoss itself is compared with BasicSR's in
tests/realsr/losses.)

Both discriminators are compared on their whole state dicts: ESRGAN's VGG-style one with its
batch-norm running statistics, RealESRGAN's U-Net with its spectral-norm vectors (both change with
every forward pass in training mode, so this checks the same passes in the same order).
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn

from degrade.functional import usm_sharp
from realsr.config import options_from_dict
from realsr.train.task import PlainStepContext
from realsr.train.tasks import ESRGANModel, RealESRGANModel, TrainingPair
from tests._reference import import_reference

pytestmark = pytest.mark.reference

G_ARGS = {"num_in_ch": 3, "num_out_ch": 3, "num_feat": 8, "num_block": 1, "num_grow_ch": 4}
ADAM = {"type": "Adam", "lr": 1e-3, "weight_decay": 0, "betas": [0.9, 0.99]}
PERCEPTUAL = {
    "type": "PerceptualLoss",
    "layer_weights": {"conv1_1": 1.0},  # the first VGG layer only: cheap at 128 x 128
    "vgg_type": "vgg19",
    "use_input_norm": True,
    "perceptual_weight": 1.0,
    "style_weight": 0.5,
    "range_norm": False,
    "criterion": "l1",
}


def _train_section(*, gan_weight: float) -> dict[str, Any]:
    return {
        "ema_decay": 0,
        "optim_g": dict(ADAM),
        "optim_d": dict(ADAM),
        "scheduler": {"type": "MultiStepLR", "milestones": [100], "gamma": 0.5},
        "total_iter": 10,
        "pixel_opt": {"type": "L1Loss", "loss_weight": 1.0, "reduction": "mean"},
        "gan_opt": {
            "type": "GANLoss",
            "gan_type": "vanilla",
            "real_label_val": 1.0,
            "fake_label_val": 0.0,
            "loss_weight": gan_weight,
        },
        "net_d_iters": 1,
        "net_d_init_iters": 1,
    }


def _ours(model_type: str, network_d: dict[str, Any], gan_weight: float) -> dict[str, Any]:
    train = _train_section(gan_weight=gan_weight)
    train["perceptual_opt"] = {**PERCEPTUAL, "pretrained": False}
    raw: dict[str, Any] = {
        "name": "parity",
        "model_type": model_type,
        "scale": 4,
        "num_gpu": 0,
        "manual_seed": 0,
        "datasets": {
            "train": {
                "name": "pairs",
                "type": "PairedImageDataset",
                "dataroot_gt": "unused/gt",
                "dataroot_lq": "unused/lq",
                "io_backend": {"type": "disk"},
                "gt_size": 128,
            }
        },
        "network_g": {"type": "RRDBNet", **G_ARGS},
        "network_d": network_d,
        "train": train,
    }
    if model_type == "RealESRGANModel":
        raw["datasets"]["train"]["type"] = "RealESRGANPairedDataset"
        raw.update(
            high_order_degradation=False, l1_gt_usm=True, percep_gt_usm=False, gan_gt_usm=True
        )
    return raw


def _reference_opt(network_d: dict[str, Any], gan_weight: float) -> dict[str, Any]:
    return {
        "num_gpu": 0,
        "is_train": True,
        "dist": False,
        "rank": 0,
        "world_size": 1,
        "scale": 4,
        "network_g": {"type": "RRDBNet", **G_ARGS},
        "network_d": dict(network_d),
        "path": {"pretrain_network_g": None, "pretrain_network_d": None},
        "train": _train_section(gan_weight=gan_weight),
        # RealESRGANModel's own keys (ignored by ESRGANModel).
        "l1_gt_usm": True,
        "percep_gt_usm": False,
        "gan_gt_usm": True,
        "queue_size": 4,
        "high_order_degradation": False,
    }


def _run_both(
    ours: ESRGANModel | RealESRGANModel, ref: Any, pair: TrainingPair
) -> list[tuple[dict[str, torch.Tensor], dict[str, float]]]:
    ref.net_g.load_state_dict(ours.net_g.state_dict())
    ref.net_d.load_state_dict(ours.net_d.state_dict())
    ref.cri_perceptual = ours.cri_perceptual
    ref.lq, ref.gt = pair.lq.clone(), pair.gt.clone()
    if pair.gt_usm is not None:
        ref.gt_usm = pair.gt_usm.clone()
    optimizers = {
        "g": torch.optim.Adam(ours.net_g.parameters(), lr=1e-3, weight_decay=0, betas=(0.9, 0.99)),
        "d": torch.optim.Adam(ours.net_d.parameters(), lr=1e-3, weight_decay=0, betas=(0.9, 0.99)),
    }
    ctx = PlainStepContext(optimizers, device=torch.device("cpu"))
    logs = []
    for iteration in (1, 2):
        ctx.iteration = iteration
        mine = ours.optimize(pair, ctx)
        ref.optimize_parameters(iteration)
        logs.append((mine, dict(ref.log_dict)))
    return logs


def _assert_same_logs(logs: list[tuple[dict[str, torch.Tensor], dict[str, float]]]) -> None:
    first, second = logs
    assert set(first[0]) == {"l_d_real", "l_d_fake", "out_d_real", "out_d_fake"}
    assert {"l_g_pix", "l_g_percep", "l_g_style", "l_g_gan"} <= set(second[0])
    for mine, ref in logs:
        assert set(mine) == set(ref)
        for key, value in ref.items():
            assert float(mine[key]) == pytest.approx(value, rel=1e-5, abs=1e-6), key


def _assert_same_tensors(ours: dict[str, torch.Tensor], ref: dict[str, torch.Tensor]) -> None:
    assert set(ours) == set(ref)
    for key, value in ref.items():
        torch.testing.assert_close(ours[key], value, rtol=1e-5, atol=1e-5, msg=key)


def _changed(net: nn.Module, before: dict[str, torch.Tensor]) -> bool:
    return any(not torch.equal(p, before[k]) for k, p in net.named_parameters())


def test_esrgan_model_matches_basicsr() -> None:
    esrgan = import_reference("basicsr.models.esrgan_model")
    network_d = {"type": "VGGStyleDiscriminator", "num_in_ch": 3, "num_feat": 4}
    torch.manual_seed(0)
    ours = ESRGANModel(
        options_from_dict(_ours("ESRGANModel", network_d, 5e-3), source="parity"),
        device=torch.device("cpu"),
    )
    ref = esrgan.ESRGANModel(_reference_opt(network_d, 5e-3))
    g = torch.Generator().manual_seed(1)
    pair = TrainingPair(
        torch.rand(2, 3, 32, 32, generator=g), torch.rand(2, 3, 128, 128, generator=g)
    )
    before = {k: p.detach().clone() for k, p in ours.net_g.named_parameters()}
    _assert_same_logs(_run_both(ours, ref, pair))
    assert _changed(ours.net_g, before)
    _assert_same_tensors(ours.net_g.state_dict(), ref.net_g.state_dict())
    _assert_same_tensors(ours.net_d.state_dict(), ref.net_d.state_dict())


def test_realesrgan_model_matches_realesrgan(monkeypatch: pytest.MonkeyPatch) -> None:
    realesrgan = import_reference("realesrgan.models.realesrgan_model")
    network_d = {
        "type": "UNetDiscriminatorSN",
        "num_in_ch": 3,
        "num_feat": 8,
        "skip_connection": True,
    }
    torch.manual_seed(0)
    ours = RealESRGANModel(
        options_from_dict(_ours("RealESRGANModel", network_d, 0.1), source="parity"),
        device=torch.device("cpu"),
    )
    with monkeypatch.context() as patch:
        patch.setattr(nn.Module, "cuda", lambda self, device=None: self)
        ref = realesrgan.RealESRGANModel(_reference_opt(network_d, 0.1))
    g = torch.Generator().manual_seed(2)
    gt = torch.rand(2, 3, 64, 64, generator=g)
    pair = TrainingPair(torch.rand(2, 3, 16, 16, generator=g), gt, usm_sharp(gt))
    before = {k: p.detach().clone() for k, p in ours.net_g.named_parameters()}
    _assert_same_logs(_run_both(ours, ref, pair))
    assert _changed(ours.net_g, before)
    _assert_same_tensors(ours.net_g.state_dict(), ref.net_g.state_dict())
    _assert_same_tensors(ours.net_d.state_dict(), ref.net_d.state_dict())
