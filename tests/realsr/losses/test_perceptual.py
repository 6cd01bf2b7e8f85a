"""Perceptual loss and VGG19 stack: torchvision layout, weight lookup, parity with BasicSR."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest
import torch

from realsr.losses import (
    REALESRGAN_LAYER_WEIGHTS,
    VGG19_LAYER_NAMES,
    PerceptualLoss,
    VGG19Features,
    gram_matrix,
    vgg19_weights_file,
)
from realsr.losses.vgg import VGG19_FILENAME
from tests._reference import import_reference

SMALL = {"conv1_2": 0.1, "conv2_2": 1.0}


def _random_vgg19_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """A torchvision-format vgg19 state dict with random features (classifier kept tiny on disk)."""
    torch.manual_seed(seed)
    net = VGG19Features()
    for m in net.features:
        if isinstance(m, torch.nn.Conv2d):
            torch.nn.init.normal_(m.weight, std=(2.0 / (9 * m.in_channels)) ** 0.5)
            torch.nn.init.uniform_(m.bias, -0.1, 0.1)
    state = {f"features.{k}": v.clone() for k, v in net.features.state_dict().items()}
    # Stride-0 expanded zeros are stored as one element but load into the full-size layers.
    for i, (n_in, n_out) in zip(
        (0, 3, 6), ((25088, 4096), (4096, 4096), (4096, 1000)), strict=True
    ):
        state[f"classifier.{i}.weight"] = torch.zeros(1).expand(n_out, n_in)
        state[f"classifier.{i}.bias"] = torch.zeros(1).expand(n_out)
    return state


@pytest.fixture(scope="module")
def vgg_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("vgg") / VGG19_FILENAME
    torch.save(_random_vgg19_state(), path)
    return path


def _images(seed: int, size: int = 24, batch: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    shape = (batch, 3, size, size)
    return torch.rand(shape, generator=g), torch.rand(shape, generator=g)


def test_layer_names_and_state_dict_follow_torchvision() -> None:
    assert len(VGG19_LAYER_NAMES) == 37
    assert VGG19_LAYER_NAMES[34] == "conv5_4" and VGG19_LAYER_NAMES[36] == "pool5"
    convs = [i for i, n in enumerate(VGG19_LAYER_NAMES) if n.startswith("conv")]
    assert convs == [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34]
    keys = list(VGG19Features().features.state_dict())
    assert keys == [f"{i}.{p}" for i in convs for p in ("weight", "bias")]
    assert len(list(VGG19Features(last_layer="conv2_2").features)) == 8


@pytest.mark.reference
def test_state_dict_matches_torchvision_vgg19() -> None:
    tv = import_reference("torchvision.models")
    ref = tv.vgg.make_layers(tv.vgg.cfgs["E"]).state_dict()  # vgg19().features
    ours = VGG19Features().features.state_dict()
    assert {k: tuple(v.shape) for k, v in ours.items()} == {
        k: tuple(v.shape) for k, v in ref.items()
    }


def test_missing_weights_name_the_expected_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    expected = tmp_path / "torch_home" / "hub" / "checkpoints" / VGG19_FILENAME
    with pytest.raises(FileNotFoundError, match=f"VGG19 weights not found: {expected}"):
        PerceptualLoss(layer_weights=SMALL)
    missing = tmp_path / "elsewhere.pth"
    with pytest.raises(FileNotFoundError, match=str(missing)):
        PerceptualLoss(layer_weights=SMALL, weights_path=missing)


def test_weights_load_from_torch_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, vgg_file: Path
) -> None:
    checkpoints = tmp_path / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    os.symlink(vgg_file, checkpoints / VGG19_FILENAME)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert vgg19_weights_file() == checkpoints / VGG19_FILENAME
    loss = PerceptualLoss(layer_weights=SMALL)
    state = torch.load(vgg_file, weights_only=True)
    torch.testing.assert_close(loss.vgg.features[7].weight, state["features.7.weight"])
    assert not any(p.requires_grad for p in loss.parameters())


def test_bad_checkpoint_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pth"
    torch.save({"features.0.weight": torch.zeros(64, 3, 3, 3)}, bad)
    with pytest.raises(ValueError, match=r"bad.pth: missing 'features.0.bias'"):
        PerceptualLoss(layer_weights=SMALL, weights_path=bad)


def test_options_are_validated() -> None:
    with pytest.raises(ValueError, match="unknown VGG19 layers"):
        PerceptualLoss(layer_weights={"conv6_1": 1.0}, pretrained=False)
    with pytest.raises(ValueError, match="criterion 'l3'"):
        PerceptualLoss(criterion="l3", pretrained=False)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="only 'vgg19'"):
        PerceptualLoss(vgg_type="vgg16", pretrained=False)


def test_default_layers_are_realesrgan_and_gradients_reach_pred_only() -> None:
    loss = PerceptualLoss(pretrained=False, style_weight=0.5)
    assert loss.layer_weights == REALESRGAN_LAYER_WEIGHTS
    assert loss.vgg.last_layer == "conv5_4"
    pred, gt = _images(0)
    pred.requires_grad_(True)
    percep, style = loss(pred, gt)
    assert percep is not None and style is not None
    (percep + style).backward()
    assert pred.grad is not None and pred.grad.abs().sum() > 0
    assert all(p.grad is None for p in loss.parameters())
    same, _ = loss(gt, gt)
    assert same is not None and same.item() == 0.0
    loss.train()
    assert not loss.vgg.training


def test_zero_weights_disable_terms() -> None:
    loss = PerceptualLoss(layer_weights=SMALL, perceptual_weight=0.0, pretrained=False)
    assert loss(*_images(1, 16)) == (None, None)


def test_gram_matrix_is_normalised_inner_products() -> None:
    x = torch.randn(2, 4, 3, 5, generator=torch.Generator().manual_seed(0))
    g = gram_matrix(x)
    assert g.shape == (2, 4, 4)
    torch.testing.assert_close(g[1, 2, 3], (x[1, 2] * x[1, 3]).sum() / 60)
    torch.testing.assert_close(g, g.transpose(1, 2))


def test_l2_criterion_is_feature_mse(vgg_file: Path) -> None:
    loss = PerceptualLoss(layer_weights=SMALL, criterion="l2", weights_path=vgg_file)
    pred, gt = _images(2, 16)
    fp, fg = loss.vgg(pred, SMALL), loss.vgg(gt, SMALL)
    expected = sum(w * (fp[k] - fg[k]).square().mean() for k, w in SMALL.items())
    percep, _ = loss(pred, gt)
    assert percep is not None
    torch.testing.assert_close(percep, expected)


@pytest.mark.reference
@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"style_weight": 0.7, "perceptual_weight": 0.5}, id="realesrgan-style"),
        pytest.param(
            {"criterion": "fro", "style_weight": 1.0, "range_norm": True},
            id="fro-rangenorm",
            marks=pytest.mark.slow,
        ),
        pytest.param(
            {"use_input_norm": False, "layer_weights": {"relu3_1": 1.0, "pool2": 0.5}},
            id="no-input-norm",
            marks=pytest.mark.slow,
        ),
    ],
)
def test_parity_with_basicsr(
    options: dict, vgg_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    basic_loss = import_reference("basicsr.losses.basic_loss")
    # BasicSR's VGGFeatureExtractor loads this cwd-relative file if present (else it downloads).
    target = tmp_path / "experiments" / "pretrained_models" / VGG19_FILENAME
    target.parent.mkdir(parents=True)
    os.symlink(vgg_file, target)
    monkeypatch.chdir(tmp_path)
    layer_weights = options.get("layer_weights", REALESRGAN_LAYER_WEIGHTS)
    kwargs = {k: v for k, v in options.items() if k != "layer_weights"}
    # torchvision's classifier init (100M normal draws) is overwritten by the checkpoint anyway.
    monkeypatch.setattr(torch.nn.init, "normal_", lambda tensor, *args, **kwargs: tensor)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torchvision's `pretrained=` deprecation
        ref = basic_loss.PerceptualLoss(layer_weights=dict(layer_weights), **kwargs)
    ours = PerceptualLoss(layer_weights=layer_weights, weights_path=vgg_file, **kwargs)
    pred, gt = _images(3, batch=2)
    if options.get("range_norm"):
        pred, gt = pred * 2 - 1, gt * 2 - 1
    pred_ref = pred.clone().requires_grad_(True)
    pred_ours = pred.clone().requires_grad_(True)
    expected = ref(pred_ref, gt)
    got = ours(pred_ours, gt)
    total_ref, total_ours = 0.0, 0.0
    for e, o in zip(expected, got, strict=True):
        assert (e is None) == (o is None)
        if e is not None and o is not None:
            torch.testing.assert_close(o, e, rtol=1e-5, atol=0)
            total_ref, total_ours = total_ref + e, total_ours + o
    total_ref.backward()  # type: ignore[union-attr]
    total_ours.backward()  # type: ignore[union-attr]
    torch.testing.assert_close(pred_ours.grad, pred_ref.grad, rtol=1e-4, atol=1e-9)


def test_in_place_relus_leave_returned_conv_features_and_gradients_intact(vgg_file: Path) -> None:
    vgg = VGG19Features(last_layer="conv2_2")
    vgg.load_torchvision_weights(vgg_file)
    x = torch.rand(2, 3, 12, 12, requires_grad=True)
    x_before = x.detach().clone()
    names = ["conv1_1", "relu1_1", "conv1_2", "conv2_2"]
    feats = vgg(x, names)
    assert torch.equal(x.detach(), x_before)  # the input is never modified
    # Reference: every layer out of place.
    expected, h = {}, (x - vgg.mean) / vgg.std
    for name, layer in zip(vgg.layer_names, vgg.features, strict=True):
        h = torch.relu(h) if isinstance(layer, torch.nn.ReLU) else layer(h)
        if name in names:
            expected[name] = h
    assert (feats["conv1_1"] < 0).any()  # pre-activation features keep their negatives
    for name in names:
        torch.testing.assert_close(feats[name], expected[name], rtol=0, atol=0)
    weights = torch.rand(len(names))
    (grad,) = torch.autograd.grad(
        sum(w * feats[n].sum() for w, n in zip(weights, names, strict=True)), x
    )
    (want,) = torch.autograd.grad(
        sum(w * expected[n].sum() for w, n in zip(weights, names, strict=True)), x
    )
    torch.testing.assert_close(grad, want)
