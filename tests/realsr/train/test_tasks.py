"""Training tasks: one step of every task with tiny networks, the LR/HR pairs they train on, the
generator/discriminator schedule, the pair pool state, validation and configuration errors."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import Tensor, nn

from degrade import load_pipeline
from degrade.functional import usm_sharp
from realsr.config import ConfigError, TrainOptions, options_from_dict
from realsr.data.crop import paired_random_crop
from realsr.registry import RegistryError
from realsr.train.task import GradientStep, PlainStepContext
from realsr.train.tasks import (
    TASKS,
    ESRGANModel,
    RealESRGANModel,
    RealESRNetModel,
    SRGANModel,
    SRModel,
)

CPU = torch.device("cpu")
TINY_G = {"type": "RRDBNet", "num_feat": 8, "num_block": 1, "num_grow_ch": 4}
UNET_D = {"type": "UNetDiscriminatorSN", "num_feat": 8}
VGG_D = {"type": "VGGStyleDiscriminator", "num_feat": 4, "input_size": 128}
PERCEPTUAL = {"type": "PerceptualLoss", "layer_weights": {"conv1_1": 1.0}, "pretrained": False}
GAN = {"type": "GANLoss", "gan_type": "vanilla", "loss_weight": 0.1}


def raw_options(
    model_type: str = "SRModel",
    *,
    paired: bool = False,
    gt_size: int = 32,
    network_d: dict[str, Any] | None = None,
    perceptual: bool = True,
    **top: Any,
) -> dict[str, Any]:
    """A small options mapping: tiny RRDBNet x4, HR-only (or paired) training set, Adam."""
    dataset: dict[str, Any] = {
        "name": "train",
        "type": "PairedImageDataset" if paired else "RealESRGANDataset",
        "dataroot_gt": "unused/gt",
        "io_backend": {"type": "disk"},
        "gt_size": gt_size,
    }
    if paired:
        dataset["dataroot_lq"] = "unused/lq"
        if model_type.startswith("RealESR"):
            dataset["type"] = "RealESRGANPairedDataset"
    train: dict[str, Any] = {
        "optim_g": {"type": "Adam", "lr": 1e-3},
        "total_iter": 10,
        "pixel_opt": {"type": "L1Loss", "loss_weight": 1.0},
    }
    if perceptual:
        train["perceptual_opt"] = dict(PERCEPTUAL)
    raw: dict[str, Any] = {
        "name": "tasks",
        "model_type": model_type,
        "scale": 4,
        "num_gpu": 0,
        "manual_seed": 3,
        "datasets": {"train": dataset},
        "network_g": dict(TINY_G),
        "train": train,
    }
    if network_d is not None:
        raw["network_d"] = dict(network_d)
        train["optim_d"] = {"type": "Adam", "lr": 1e-3}
        train["gan_opt"] = dict(GAN)
    if model_type.startswith("RealESR") and not paired:
        raw["degradation"] = "realesrgan_x4plus"
    raw.update(top)
    return raw


def build(raw: dict[str, Any]) -> Any:
    options = options_from_dict(raw, source="test")
    return TASKS.get(options.model_type)(options, device=CPU)


class RecordingContext(PlainStepContext):
    """PlainStepContext that records its steps and whether D had gradients at G's step."""

    def __init__(self, task: Any, iteration: int = 1) -> None:
        nets = task.networks()
        super().__init__(
            {k: torch.optim.Adam(v.parameters(), lr=1e-3) for k, v in nets.items()},
            device=CPU,
            seed=5,
        )
        self.task = task
        self.iteration = iteration
        self.steps: list[str] = []
        self.d_grads_at_g_step: list[bool] = []

    @contextlib.contextmanager
    def optimizing(self, name: str) -> Iterator[GradientStep]:
        self.steps.append(name)
        with super().optimizing(name) as step:
            yield step
        if name == "g" and "d" in self.task.networks():
            d = self.task.networks()["d"]
            self.d_grads_at_g_step.append(any(p.grad is not None for p in d.parameters()))


def snapshot(net: nn.Module) -> dict[str, Tensor]:
    return {k: p.detach().clone() for k, p in net.named_parameters()}


def changed(net: nn.Module, before: dict[str, Tensor]) -> bool:
    return any(not torch.equal(p, before[k]) for k, p in net.named_parameters())


def hr_batch(size: int = 64, batch: int = 2, seed: int = 0) -> dict[str, Any]:
    g = torch.Generator().manual_seed(seed)
    return {
        "gt": torch.rand(batch, 3, size, size, generator=g),
        "key": torch.arange(batch, dtype=torch.int64) + 10 * seed,
        "gt_path": [f"img{i}.png" for i in range(batch)],
    }


def paired_batch(size: int = 128, batch: int = 2) -> dict[str, Any]:
    g = torch.Generator().manual_seed(1)
    return {
        "gt": torch.rand(batch, 3, size, size, generator=g),
        "lq": torch.rand(batch, 3, size // 4, size // 4, generator=g),
        "key": torch.arange(batch, dtype=torch.int64),
    }


# --------------------------------------------------------------------------------------------


def test_registry_names_follow_model_type() -> None:
    assert TASKS.names() == [
        "ESRGANModel",
        "RealESRGANModel",
        "RealESRNetModel",
        "SRGANModel",
        "SRModel",
    ]
    for name in TASKS:
        assert TASKS.get(name).model_type == name
    with pytest.raises(RegistryError, match="did you mean 'SRGANModel'"):
        TASKS.get("SRGANModle")


CASES = [
    ("SRModel", {}, hr_batch, {"l_pix", "l_percep"}),
    ("RealESRNetModel", {}, hr_batch, {"l_pix", "l_percep"}),
    (
        "RealESRGANModel",
        {"network_d": UNET_D},
        hr_batch,
        {"l_g_pix", "l_g_percep", "l_g_gan", "l_d_real", "l_d_fake", "out_d_real", "out_d_fake"},
    ),
    (
        "SRGANModel",
        {"network_d": VGG_D, "paired": True, "gt_size": 128},
        paired_batch,
        {"l_g_pix", "l_g_percep", "l_g_gan", "l_d_real", "l_d_fake", "out_d_real", "out_d_fake"},
    ),
    (
        "ESRGANModel",
        {"network_d": VGG_D, "paired": True, "gt_size": 128},
        paired_batch,
        {"l_g_pix", "l_g_percep", "l_g_gan", "l_d_real", "l_d_fake", "out_d_real", "out_d_fake"},
    ),
]


@pytest.mark.parametrize(
    ("model_type", "extra", "make_batch", "log_keys"), CASES, ids=[c[0] for c in CASES]
)
def test_training_step_updates_every_network(
    model_type: str, extra: dict[str, Any], make_batch: Any, log_keys: set[str]
) -> None:
    torch.manual_seed(0)
    task = build(raw_options(model_type, **extra))
    assert type(task).model_type == model_type
    nets = task.networks()
    assert set(nets) == ({"g", "d"} if "network_d" in extra else {"g"})
    before = {name: snapshot(net) for name, net in nets.items()}
    ctx = RecordingContext(task)
    logs = task.training_step(make_batch(), ctx)
    assert set(logs) == log_keys
    for key, value in logs.items():
        assert value.ndim == 0 and not value.requires_grad and bool(torch.isfinite(value)), key
    assert ctx.steps == (["g", "d"] if "d" in nets else ["g"])
    for name, net in nets.items():
        assert changed(net, before[name]), name
        assert all(p.requires_grad for p in net.parameters()), name
    # D was frozen during the generator step: no gradient reached its parameters.
    assert ctx.d_grads_at_g_step in ([], [False])


def test_sr_model_degrades_hr_batches_with_bicubic_then_crops_aligned_patches() -> None:
    task = build(raw_options("SRModel", gt_size=32))
    batch = hr_batch(64)
    pair = task.make_pair(batch, RecordingContext(task))
    assert pair.lq.shape == (2, 3, 8, 8) and pair.gt.shape == (2, 3, 32, 32)
    pipe = load_pipeline("bicubic", scale=4)
    full_lq = pipe.apply(batch["gt"], pipe.sample(batch["key"], seed=5))
    gt, lq = paired_random_crop(batch["gt"], full_lq, 32, 4, batch["key"], 5)
    torch.testing.assert_close(pair.gt, gt, rtol=0, atol=0)
    torch.testing.assert_close(pair.lq, lq, rtol=0, atol=0)
    # The crops are the same window of the HR image and of its LR.
    for i in range(2):
        hits = [
            (y, x)
            for y in range(0, 33, 4)
            for x in range(0, 33, 4)
            if torch.equal(batch["gt"][i, :, y : y + 32, x : x + 32], pair.gt[i])
        ]
        assert len(hits) == 1
        y, x = hits[0]
        assert torch.equal(full_lq[i, :, y // 4 : y // 4 + 8, x // 4 : x // 4 + 8], pair.lq[i])


def test_hr_sizes_that_are_not_multiples_of_the_scale_are_modcropped() -> None:
    raw = raw_options("SRModel", scale=3, gt_size=24, perceptual=False)
    raw["network_g"] = {"type": "SRVGGNetCompact", "num_feat": 8, "num_conv": 2, "upscale": 3}
    task = build(raw)
    ctx = RecordingContext(task)
    pair = task.make_pair(hr_batch(50), ctx)
    assert pair.gt.shape == (2, 3, 24, 24) and pair.lq.shape == (2, 3, 8, 8)
    before = snapshot(task.net_g)
    assert bool(torch.isfinite(task.optimize(pair, ctx)["l_pix"])) and changed(task.net_g, before)


def test_sr_model_uses_paired_lq_as_given() -> None:
    task = build(raw_options("SRModel", paired=True, gt_size=128, perceptual=False))
    batch = paired_batch()
    pair = task.make_pair(batch, RecordingContext(task))
    assert pair.lq is batch["lq"] and pair.gt is batch["gt"]


def test_realesrgan_lr_is_made_from_usm_of_gt() -> None:
    task = build(raw_options("RealESRGANModel", network_d=UNET_D, gt_size=64))
    batch = hr_batch(64)
    pair = task.make_pair(batch, RecordingContext(task))
    pipe = load_pipeline("realesrgan_x4plus", scale=4)
    params = pipe.sample(batch["key"], seed=5)
    expected = pipe.apply(usm_sharp(batch["gt"]), params)
    torch.testing.assert_close(pair.lq, expected, rtol=0, atol=0)
    assert not torch.equal(pair.lq, pipe.apply(batch["gt"], params))
    torch.testing.assert_close(pair.gt, batch["gt"], rtol=0, atol=0)
    assert pair.gt_usm is not None
    torch.testing.assert_close(pair.gt_usm, usm_sharp(batch["gt"]), rtol=0, atol=0)
    # Loss targets follow l1_gt_usm / percep_gt_usm / gan_gt_usm (defaults: usm, usm, plain).
    pix, percep, gan = task.loss_targets(pair)
    assert pix is pair.gt_usm and percep is pair.gt_usm and gan is pair.gt
    flipped = build(
        raw_options(
            "RealESRGANModel",
            network_d=UNET_D,
            l1_gt_usm=False,
            percep_gt_usm=False,
            gan_gt_usm=True,
        )
    )
    pix, percep, gan = flipped.loss_targets(pair)
    assert pix is pair.gt and percep is pair.gt and gan is pair.gt_usm


@pytest.mark.parametrize("gt_usm", [True, False])
def test_realesrnet_gt_usm_sharpens_source_and_target(gt_usm: bool) -> None:
    task = build(raw_options("RealESRNetModel", gt_size=64, perceptual=False, gt_usm=gt_usm))
    batch = hr_batch(64)
    pair = task.make_pair(batch, RecordingContext(task))
    hr = usm_sharp(batch["gt"]) if gt_usm else batch["gt"]
    pipe = load_pipeline("realesrgan_x4plus", scale=4)
    torch.testing.assert_close(pair.gt, hr, rtol=0, atol=0)
    expected = pipe.apply(hr, pipe.sample(batch["key"], seed=5))
    torch.testing.assert_close(pair.lq, expected, rtol=0, atol=0)


def test_pairs_depend_on_keys_not_on_batch_composition() -> None:
    task = build(raw_options("RealESRNetModel", gt_size=32, perceptual=False))
    batch = hr_batch(64)
    ctx = RecordingContext(task)
    both = task.make_pair(batch, ctx)
    second = task.make_pair({"gt": batch["gt"][1:], "key": batch["key"][1:]}, ctx)
    torch.testing.assert_close(both.lq[1:], second.lq, rtol=0, atol=0)
    torch.testing.assert_close(both.gt[1:], second.gt, rtol=0, atol=0)


def test_high_order_degradation_false_takes_lq_from_the_batch() -> None:
    task = build(
        raw_options(
            "RealESRGANModel",
            network_d=UNET_D,
            paired=True,
            gt_size=64,
            high_order_degradation=False,
        )
    )
    batch = paired_batch(64)
    pair = task.make_pair(batch, RecordingContext(task))
    assert pair.lq is batch["lq"]
    assert pair.gt_usm is not None
    torch.testing.assert_close(pair.gt_usm, usm_sharp(batch["gt"]), rtol=0, atol=0)
    with pytest.raises(ValueError, match="no 'lq'.*high_order_degradation"):
        task.make_pair(hr_batch(64), RecordingContext(task))


def test_generator_steps_follow_net_d_iters() -> None:
    # Iteration 1: skipped (both rules), 2: net_d_init_iters, 3: net_d_iters, 4: stepped.
    g_iterations = {4}
    raw = raw_options("SRGANModel", network_d=UNET_D, paired=True, gt_size=32, perceptual=False)
    raw["train"].update(net_d_iters=2, net_d_init_iters=2)
    task = build(raw)
    batch = paired_batch(32)
    for iteration in range(1, 5):
        before_g, before_d = snapshot(task.net_g), snapshot(task.net_d)
        ctx = RecordingContext(task, iteration)
        logs = task.training_step(batch, ctx)
        stepped = iteration in g_iterations
        assert ctx.steps == (["g", "d"] if stepped else ["d"]), iteration
        assert changed(task.net_g, before_g) == stepped, iteration
        assert changed(task.net_d, before_d), iteration
        assert ("l_g_gan" in logs) == stepped and "l_d_real" in logs


def test_pair_pool_exchanges_pairs_and_resumes_exactly() -> None:
    raw = raw_options(
        "RealESRNetModel", gt_size=32, perceptual=False, use_pair_pool=True, queue_size=4
    )
    task, twin = build(raw), build(raw)
    plain = build(raw_options("RealESRNetModel", gt_size=32, perceptual=False))
    assert plain.state_dict() == {}
    ctx = RecordingContext(task)
    batches = [hr_batch(64, seed=s) for s in range(4)]
    direct = [plain.make_pair(b, ctx) for b in batches]  # the pairs without a pool
    # While the pool fills (4 pairs, batches of 2) batches pass through unchanged.
    for b, d in zip(batches[:2], direct[:2], strict=True):
        pair = task.make_pair(b, ctx)
        assert torch.equal(pair.lq, d.lq) and torch.equal(pair.gt, d.gt)
    state = copy.deepcopy(task.state_dict())
    assert set(state) == {"pair_pool"}
    out = [task.make_pair(b, ctx) for b in batches[2:]]
    # Once full, every batch is exchanged for earlier pairs (kept together as pairs).
    for n, pair in enumerate(out):
        earlier = [(d.lq[i], d.gt[i]) for d in direct[: 2 + n] for i in range(2)]
        for lq, gt in zip(pair.lq, pair.gt, strict=True):
            assert sum(torch.equal(gt, g) and torch.equal(lq, q) for q, g in earlier) == 1
    twin.load_state_dict(state)
    replay = [twin.make_pair(b, ctx) for b in batches[2:]]
    for a, b in zip(out, replay, strict=True):
        assert torch.equal(a.lq, b.lq) and torch.equal(a.gt, b.gt)
    with pytest.raises(ValueError, match="unknown task state"):
        twin.load_state_dict({"other": 1})
    with pytest.raises(ValueError, match="use_pair_pool"):
        plain.load_state_dict(state)


def test_validation_paired_and_hr_only() -> None:
    task = build(raw_options("SRModel", perceptual=False))
    net = task.net_g.eval()
    paired = {"lq": torch.rand(1, 3, 7, 9), "gt": torch.rand(1, 3, 30, 37)}
    out = task.validation_step(paired, net)
    assert out["sr"].shape == (1, 3, 28, 36) and out["gt"].shape == (1, 3, 28, 36)
    torch.testing.assert_close(out["gt"], paired["gt"][..., :28, :36])
    assert float(out["sr"].min()) >= 0 and float(out["sr"].max()) <= 1
    # HR-only: modcropped GT, bicubic LR at the run's seed; the same at every validation.
    hr_image = torch.rand(1, 3, 30, 37)
    hr: dict[str, Any] = {"gt": hr_image, "gt_path": ["a.png"]}
    first, again = task.validation_step(hr, net), task.validation_step(hr, net)
    assert first["gt"].shape == (1, 3, 28, 36) == first["sr"].shape
    torch.testing.assert_close(first["sr"], again["sr"], rtol=0, atol=0)
    pipe = load_pipeline("bicubic", scale=4)  # deterministic: any key gives the same LR
    gt = hr_image[..., :28, :36]
    lq = pipe.apply(gt, pipe.sample(torch.tensor([0]), seed=3))
    with torch.no_grad():
        torch.testing.assert_close(first["sr"], net(lq).clamp(0, 1), rtol=1e-6, atol=1e-6)
    assert set(task.validation_step({"lq": paired["lq"]}, net)) == {"sr"}


def test_validation_pads_inputs_for_pixel_unshuffle_generators() -> None:
    raw = raw_options("SRModel", perceptual=False, scale=2)
    raw["network_g"]["scale"] = 2
    task = build(raw)
    out = task.validation_step(
        {"lq": torch.rand(1, 3, 7, 9), "gt": torch.rand(1, 3, 14, 18)}, task.net_g
    )
    assert out["sr"].shape == (1, 3, 14, 18) == out["gt"].shape


def test_pre_upsampling_generators_get_bicubic_input() -> None:
    raw = raw_options("SRModel", paired=True, gt_size=32, perceptual=False)
    raw["network_g"] = {"type": "SRCNN", "num_feat": 4, "num_feat2": 4, "scale": 4}
    task = build(raw)
    batch = {"lq": torch.rand(2, 3, 8, 8), "gt": torch.rand(2, 3, 32, 32)}
    before = snapshot(task.net_g)
    logs = task.training_step(batch, RecordingContext(task))
    assert bool(torch.isfinite(logs["l_pix"])) and changed(task.net_g, before)
    assert task.validation_step(batch, task.net_g)["sr"].shape == (2, 3, 32, 32)


def test_missing_vgg_weights_name_the_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    raw = raw_options("SRModel")
    del raw["train"]["perceptual_opt"]["pretrained"]
    with pytest.raises(FileNotFoundError, match=r"train\.perceptual_opt: VGG19 weights not found"):
        build(raw)


def test_configuration_errors_name_the_key() -> None:
    raw = raw_options("SRModel", perceptual=False)
    del raw["train"]["pixel_opt"]
    with pytest.raises(ConfigError, match="train.pixel_opt.*perceptual_opt"):
        build(raw)
    options = options_from_dict(raw_options("SRGANModel", network_d=UNET_D), source="test")
    with pytest.raises(ConfigError, match="network_d: required by SRGANModel"):
        SRGANModel(_replace(options, network_d=None), device=CPU)
    train = _replace(options.train, gan_opt=None)
    with pytest.raises(ConfigError, match="train.gan_opt: required by SRGANModel"):
        SRGANModel(_replace(options, train=train), device=CPU)


def _replace(obj: Any, **changes: Any) -> Any:
    import dataclasses

    return dataclasses.replace(obj, **changes)


def test_task_classes_are_exported() -> None:
    assert issubclass(RealESRNetModel, SRModel) and issubclass(ESRGANModel, SRGANModel)
    assert issubclass(RealESRGANModel, SRGANModel)
    assert isinstance(options_from_dict(raw_options(), source="t"), TrainOptions)


class _BFloat16Context(RecordingContext):
    def autocast(self) -> Any:
        return torch.autocast("cpu", dtype=torch.bfloat16)


def test_gan_step_under_bfloat16_autocast_logs_float32() -> None:
    task = build(raw_options("SRGANModel", network_d=UNET_D, paired=True, gt_size=32))
    before_g, before_d = snapshot(task.net_g), snapshot(task.net_d)
    logs = task.training_step(paired_batch(32), _BFloat16Context(task))
    assert {"l_g_pix", "l_g_percep", "l_g_gan", "l_d_real"} <= set(logs)
    for key, value in logs.items():
        assert value.dtype == torch.float32 and bool(torch.isfinite(value)), key
    assert changed(task.net_g, before_g) and changed(task.net_d, before_d)


def test_build_helpers_name_the_section() -> None:
    from realsr.config import TypedSection
    from realsr.train.tasks.build import build_loss, build_network

    with pytest.raises(ConfigError, match=r"train\.pixel_opt\.type: unknown loss 'L3Loss'"):
        build_loss(TypedSection(type="L3Loss", where="train.pixel_opt"), device=CPU)
    with pytest.raises(ConfigError, match=r"train\.pixel_opt \(L1Loss\): .*reduction"):
        build_loss(
            TypedSection(type="L1Loss", args={"reduction": "max"}, where="train.pixel_opt"),
            device=CPU,
        )
    with pytest.raises(ConfigError, match=r"network_g\.type: unknown architecture 'RRDBNett'"):
        build_network(TypedSection(type="RRDBNett", where="network_g"), device=CPU)
    with pytest.raises(ConfigError, match=r"network_g: .*num_blocks"):
        build_network(
            TypedSection(type="RRDBNet", args={"num_blocks": 1}, where="network_g"), device=CPU
        )
