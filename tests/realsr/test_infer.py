from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from realsr.image_io import ImageFileError, load_image, save_image
from realsr.infer import Upscaler, ensemble8, resize_to_outscale, upscale_image


class Nearest2x(nn.Module):
    def __init__(self, channels: int = 3) -> None:
        super().__init__()
        self.conv = nn.Conv2d(
            channels, channels, 1
        )  # identity weights: keeps a parameter for .to()
        with torch.no_grad():
            self.conv.weight.copy_(torch.eye(channels).view(channels, channels, 1, 1))
            self.conv.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(self.conv(x), scale_factor=2, mode="nearest")


def _planes(h: int, w: int, c: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((h, w, c), dtype=np.float32)


def test_upscale_planes_matches_the_model_with_and_without_tiles_and_pre_pad():
    planes = _planes(30, 22)
    expected = np.repeat(np.repeat(planes, 2, axis=0), 2, axis=1)
    for tile, pre_pad in ((0, 0), (8, 0), (8, 10), (0, 3)):
        out = Upscaler(
            Nearest2x(), 2, tile=tile, tile_overlap=4, tile_pad=2, pre_pad=pre_pad
        ).upscale_planes(planes)
        assert np.abs(out - expected).max() <= 1e-6, (tile, pre_pad)


def test_gray_stays_gray_and_rgb_through_a_gray_model():
    gray = _planes(12, 10, 1)
    out = Upscaler(Nearest2x(3), 2).upscale_planes(gray)
    assert out.shape == (24, 20, 1)
    assert np.abs(out[::2, ::2, 0] - gray[:, :, 0]).max() <= 1e-5
    rgb = _planes(12, 10, 3)
    out = Upscaler(Nearest2x(1), 2, in_channels=1).upscale_planes(rgb)
    assert out.shape == (24, 20, 3) and np.abs(out[::2, ::2] - rgb).max() <= 1e-6


def test_alpha_is_premultiplied_so_hidden_colour_does_not_bleed():
    color = np.zeros((16, 16, 3), np.float32)
    color[:, :8] = [1.0, 0.0, 0.0]  # visible red
    color[:, 8:] = [0.0, 1.0, 0.0]  # green, fully transparent
    alpha = np.zeros((16, 16), np.float32)
    alpha[:, :8] = 1.0

    class Blur2x(Nearest2x):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = super().forward(x)
            return F.avg_pool2d(F.pad(y, (1, 1, 1, 1), mode="replicate"), 3, stride=1)

    up_color, up_alpha = upscale_image(Upscaler(Blur2x(), 2), color, alpha, alpha_mode="model")
    visible = up_alpha > 0.01
    assert up_color[visible][:, 1].max() <= 1e-5  # no green where anything is visible
    assert up_color[visible][:, 0].min() >= 1 - 1e-5


def test_self_ensemble_is_invariant_for_equivariant_models():
    x = torch.rand(1, 3, 9, 7)
    model = Nearest2x()
    assert torch.allclose(ensemble8(model)(x), model(x), atol=1e-6)


def test_broken_half_precision_falls_back_to_fp32():
    class BrokenUnderAutocast(Nearest2x):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = super().forward(x)
            return y * float("nan") if torch.is_autocast_enabled("cpu") else y

    up = Upscaler(BrokenUnderAutocast(), 2, precision="bf16")
    with pytest.warns(RuntimeWarning, match="falling back to fp32"):
        out = up.upscale_planes(_planes(8, 8))
    assert np.isfinite(out).all() and up.precision == "fp32"


def test_bf16_output_is_close_to_fp32():
    planes = _planes(16, 16)
    a = Upscaler(Nearest2x(), 2).upscale_planes(planes)
    b = Upscaler(Nearest2x(), 2, precision="bf16").upscale_planes(planes)
    assert np.abs(a - b).max() < 1e-2


def test_outscale_resizes_with_lanczos():
    planes = _planes(10, 8)
    out = resize_to_outscale(planes, 4, 3.5)
    assert out.shape[:2] == (round(10 / 4 * 3.5), round(8 / 4 * 3.5))


def test_image_io_round_trips_depths_gray_alpha(tmp_path):
    rgb16 = (np.random.default_rng(1).random((6, 5, 3)) * 65535).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "a.png"), rgb16)
    img = load_image(tmp_path / "a.png")
    assert img.bit_depth == 16 and img.alpha is None and img.color.shape == (6, 5, 3)
    save_image(tmp_path / "b.png", img.color, bit_depth=16)
    assert np.array_equal(cv2.imread(str(tmp_path / "b.png"), cv2.IMREAD_UNCHANGED), rgb16)

    gray = (np.arange(30).reshape(5, 6) * 8).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "g.png"), gray)
    g = load_image(tmp_path / "g.png")
    assert g.color.shape == (5, 6, 1) and g.bit_depth == 8
    save_image(tmp_path / "g2.png", g.color)
    assert np.array_equal(cv2.imread(str(tmp_path / "g2.png"), cv2.IMREAD_UNCHANGED), gray)

    rgba = np.random.default_rng(2).integers(0, 256, (4, 4, 4), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "t.png"), rgba)
    t = load_image(tmp_path / "t.png")
    assert t.alpha is not None and np.allclose(t.alpha, rgba[:, :, 3] / 255)
    save_image(tmp_path / "t2.png", t.color, t.alpha)
    assert np.array_equal(cv2.imread(str(tmp_path / "t2.png"), cv2.IMREAD_UNCHANGED), rgba)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_matches_pil(tmp_path, orientation):
    from PIL import ImageOps

    array = np.random.default_rng(orientation).integers(0, 256, (6, 9, 3), dtype=np.uint8)
    path = tmp_path / "o.jpg"
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(array).save(path, exif=exif, quality=100)
    upright = np.asarray(ImageOps.exif_transpose(Image.open(path))).astype(np.float32) / 255
    ours = load_image(path).color
    assert ours.shape == upright.shape
    assert np.abs(ours - upright).max() <= 1 / 255 + 1e-6


def test_unreadable_files_name_the_path(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"nope")
    with pytest.raises(ImageFileError, match="bad.png"):
        load_image(bad)
    with pytest.raises(ImageFileError, match="missing.png: no such file"):
        load_image(tmp_path / "missing.png")


def _cli(argv: list[str]) -> int:
    import argparse

    from realsr.infer import register

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["infer", *argv])
    return int(args.run(args))


def test_cli_upscales_a_folder_with_a_saved_checkpoint(tmp_path, capsys):
    from realsr import build_model, save_checkpoint

    torch.manual_seed(0)
    model = build_model(
        "RRDBNet",
        {
            "num_in_ch": 3,
            "num_out_ch": 3,
            "scale": 2,
            "num_feat": 8,
            "num_block": 1,
            "num_grow_ch": 4,
        },
    )
    ckpt = tmp_path / "net.pth"
    save_checkpoint(ckpt, model)
    src = tmp_path / "in"
    src.mkdir()
    cv2.imwrite(
        str(src / "a.png"), (np.random.default_rng(0).random((21, 17, 3)) * 255).astype(np.uint8)
    )
    cv2.imwrite(
        str(src / "g.png"), (np.random.default_rng(1).random((10, 12)) * 255).astype(np.uint8)
    )
    (src / "bad.png").write_bytes(b"broken")
    out = tmp_path / "out"
    status = _cli(
        [
            "-i",
            str(src),
            "-o",
            str(out),
            "-m",
            str(ckpt),
            "--tile",
            "8",
            "--tile-pad",
            "48",
            "--quiet",
            "-s",
            "3",
        ]
    )
    assert status == 1  # bad.png failed, the others were written
    assert "bad.png" in capsys.readouterr().err
    a = cv2.imread(str(out / "a_out.png"), cv2.IMREAD_UNCHANGED)
    g = cv2.imread(str(out / "g_out.png"), cv2.IMREAD_UNCHANGED)
    assert a.shape == (63, 51, 3) and g.shape == (30, 36)
    # With context covering the receptive field, the tiled CLI output equals the untiled model
    # on the same image (x2, then Lanczos to x3), up to 8-bit rounding.
    ref = Upscaler(model, 2, multiple=2, pre_pad=10).upscale_planes(load_image(src / "a.png").color)
    ref = resize_to_outscale(np.clip(ref, 0, 1), 2, 3)
    ref_u8 = cv2.cvtColor((np.clip(ref, 0, 1) * 255).round().astype(np.uint8), cv2.COLOR_RGB2BGR)
    assert np.abs(a.astype(int) - ref_u8.astype(int)).max() <= 1


def test_cli_refuses_to_overwrite_inputs(tmp_path):
    from realsr import build_model, save_checkpoint

    save_checkpoint(
        tmp_path / "net.pth",
        build_model("SRVGGNetCompact", {"num_feat": 4, "num_conv": 1, "upscale": 2}),
    )
    cv2.imwrite(str(tmp_path / "x.png"), np.zeros((8, 8, 3), np.uint8))
    status = _cli(
        [
            "-i",
            str(tmp_path / "x.png"),
            "-o",
            str(tmp_path),
            "-m",
            str(tmp_path / "net.pth"),
            "--suffix",
            "",
            "--quiet",
        ]
    )
    assert status == 1
    assert cv2.imread(str(tmp_path / "x.png")).shape == (8, 8, 3)


@pytest.mark.reference
def test_matches_realesrganer_with_pre_pad(tmp_path):
    """Same weights, same pre_pad: our output equals Real-ESRGAN's RealESRGANer (8-bit) output."""
    from tests._reference import import_reference

    realesrgan = import_reference("realesrgan")
    from realsr import build_model

    torch.manual_seed(0)
    hparams = {"num_feat": 8, "num_block": 1, "num_grow_ch": 4, "scale": 4}
    ours = build_model("RRDBNet", hparams)
    path = tmp_path / "w.pth"
    torch.save({"params_ema": ours.state_dict()}, path)
    ref_net = import_reference("basicsr.archs.rrdbnet_arch").RRDBNet(
        num_in_ch=3, num_out_ch=3, **hparams
    )
    upsampler = realesrgan.RealESRGANer(
        scale=4,
        model_path=str(path),
        model=ref_net,
        tile=0,
        pre_pad=10,
        half=False,
        device=torch.device("cpu"),
    )
    image = (np.random.default_rng(3).random((23, 31, 3)) * 255).astype(
        np.uint8
    )  # BGR for RealESRGANer
    theirs = upsampler.enhance(image, outscale=4)[0][:, :, ::-1].astype(int)
    planes = image[:, :, ::-1].astype(np.float32) / 255
    mine = Upscaler(ours, 4, pre_pad=10).upscale_planes(planes)
    mine_u8 = (np.clip(mine, 0, 1) * 255).round().astype(int)
    assert mine_u8.shape == theirs.shape
    assert np.abs(mine_u8 - theirs).max() <= 1


def test_quantised_output_equals_rounded_float_output():
    planes = _planes(20, 14)
    up = Upscaler(Nearest2x(), 2, tile=8, tile_overlap=4, tile_pad=2)
    as_float = up.upscale_planes(planes)
    for dtype, peak in ((np.uint8, 255), (np.uint16, 65535)):
        quantised = up.upscale_planes(planes, out_dtype=dtype)
        assert quantised.dtype == dtype
        assert (
            np.abs(quantised.astype(np.float64) - np.clip(as_float, 0, 1) * peak).max()
            <= 0.5 + 1e-3
        )
