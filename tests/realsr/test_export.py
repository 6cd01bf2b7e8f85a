"""Tests of ONNX export (`realsr.export`): every registered generator, verified by onnxruntime."""

from __future__ import annotations

import argparse
import importlib.util
import os
from typing import Any

import pytest
import torch

from realsr.archs import ARCHS, build_model
from realsr.checkpoint import save_checkpoint
from realsr.export import export_onnx, onnx_metadata, register, run_onnx, verify_onnx

_MISSING = [m for m in ("onnx", "onnxruntime") if importlib.util.find_spec(m) is None]
if _MISSING:
    if os.environ.get("REALSR_REQUIRE_ONNX") == "1":
        raise ImportError(f"REALSR_REQUIRE_ONNX=1 but {', '.join(_MISSING)} is not installed")
    pytest.skip(
        f"needs the onnx extra ({', '.join(_MISSING)} missing; pip install 'realsr[onnx]')",
        allow_module_level=True,
    )

# Small hyperparameters of every registered generator (a new generator must be added here).
SMALL: dict[str, list[dict[str, Any]]] = {
    "RRDBNet": [
        {"scale": 4, "num_feat": 8, "num_block": 1, "num_grow_ch": 4},
        {"scale": 2, "num_feat": 8, "num_block": 1, "num_grow_ch": 4},  # pixel-unshuffle x2
        {"scale": 1, "num_feat": 8, "num_block": 1, "num_grow_ch": 4},  # pixel-unshuffle x4
    ],
    "SRVGGNetCompact": [
        {"num_feat": 8, "num_conv": 2, "upscale": 4},
        {"num_feat": 8, "num_conv": 1, "upscale": 2, "act_type": "leakyrelu"},
    ],
    "SRCNN": [{"num_feat": 8, "num_feat2": 4, "scale": 2}],
    "VDSR": [{"num_feat": 8, "num_layers": 3, "scale": 2}],
    "ESPCN": [{"num_feat": 8, "num_feat2": 4, "scale": 3}],
    "SRResNet": [{"num_feat": 8, "num_block": 1, "upscale": 4}],
    "MSRResNet": [{"num_feat": 8, "num_block": 1, "upscale": 3}],
    "EDSR": [{"num_feat": 8, "num_block": 1, "upscale": 2}],
    "RDN": [{"num_feat": 8, "num_block": 1, "num_layer": 2, "growth_rate": 4, "upscale": 2}],
}
CASES = [
    pytest.param(arch, hp, id=f"{arch}-{i}")
    for arch, hps in SMALL.items()
    for i, hp in enumerate(hps)
]
# Two sizes, neither square nor the 32x32 tracing size; odd for the models that allow it.
SIZES = ((20, 28), (13, 9))


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_every_generator_has_a_case():
    generators = {n for n in ARCHS.names() if ARCHS.get(n).kind == "generator"}
    assert generators == set(SMALL)


@pytest.mark.parametrize(("arch", "hparams"), CASES)
def test_export_matches_pytorch_at_two_sizes(tmp_path, arch, hparams):
    torch.manual_seed(0)
    model = build_model(arch, hparams).eval()  # SRResNet has batch norm
    path = export_onnx(model, tmp_path / "m.onnx")
    # Explicit check of the tolerance on the two sizes (verify_onnx rounds sizes up to the
    # model's multiple; the dynamic graph must follow both).
    diff = verify_onnx(path, model, SIZES, rtol=1e-4, atol=1e-4)
    assert diff <= 1e-4
    m = model.size_multiple
    for h, w in SIZES:
        h, w = -(-h // m) * m, -(-w // m) * m
        x = torch.rand(2, model.in_channels, h, w)  # a batch of two through the symbolic batch axis
        with torch.no_grad():
            expected = model(x)
        got = run_onnx(path, x)
        assert got.shape == expected.shape
        assert (got - expected).abs().max() <= 1e-4 + 1e-4 * expected.abs().max()
    meta = onnx_metadata(path)
    assert meta["arch_name"] == arch and meta["hparams"] == model.hparams
    assert meta["scale"] == model.scale and meta["size_multiple"] == m
    assert build_model(meta["arch_name"], meta["hparams"]).hparams == model.hparams


def test_model_left_untouched(tmp_path):
    model = build_model("SRVGGNetCompact", SMALL["SRVGGNetCompact"][0]).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    export_onnx(model, tmp_path / "m.onnx", fp16=True)
    assert model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(v.dtype == torch.float32 for v in model.state_dict().values())


def test_fp16_export(tmp_path):
    import onnx

    model = build_model("RRDBNet", SMALL["RRDBNet"][1])
    path = export_onnx(model, tmp_path / "h.onnx", fp16=True)
    elem = onnx.load(str(path)).graph.input[0].type.tensor_type.elem_type
    assert elem == onnx.TensorProto.FLOAT16
    verify_onnx(path, model, SIZES, rtol=1e-2, atol=1e-2)
    with pytest.raises(AssertionError, match="differs from PyTorch"):
        verify_onnx(path, model, SIZES, rtol=0.0, atol=1e-9)


def test_static_export_and_opset(tmp_path):
    import onnx

    model = build_model("ESPCN", SMALL["ESPCN"][0])
    path = export_onnx(model, tmp_path / "s.onnx", dynamic=False, sample_size=(12, 16), opset=18)
    proto = onnx.load(str(path))
    dims = [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims == [1, 3, 12, 16]
    assert {o.domain: o.version for o in proto.opset_import}[""] == 18
    verify_onnx(path, model, [(12, 16)])


def test_discriminator_rejected(tmp_path):
    disc = build_model("UNetDiscriminatorSN", {"num_feat": 4})
    with pytest.raises(ValueError, match="UNetDiscriminatorSN is a discriminator"):
        export_onnx(disc, tmp_path / "d.onnx")
    assert not list(tmp_path.iterdir())  # nothing left behind


def test_cli(tmp_path, capsys):
    model = build_model("RRDBNet", SMALL["RRDBNet"][1])
    ckpt = save_checkpoint(tmp_path / "net.pth", model)
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    out = tmp_path / "net.onnx"
    args = parser.parse_args(["export", "-m", str(ckpt), "-o", str(out), "--opset", "17"])
    assert args.run(args) == 0
    assert "max |diff|" in capsys.readouterr().out
    assert onnx_metadata(out)["hparams"] == model.hparams
    missing = parser.parse_args(["export", "-m", str(tmp_path / "nope.pth"), "-o", str(out)])
    assert missing.run(missing) == 2
    assert "nope.pth" in capsys.readouterr().err
