"""ONNX export of the super-resolution generators, verified with onnxruntime.

The graph is produced by PyTorch's TorchScript-based exporter (``torch.onnx.export(...,
dynamo=False)``), which exports every registered generator, including the pixel-unshuffle front
end of the x2 / x1 RRDBNet, with symbolic batch, height and width. The file carries the model's
``arch_name``, ``hparams``, ``scale``, ``size_multiple`` and ``input_upsampling`` as ONNX metadata
properties. Needs the ``onnx`` extra (``onnx``, ``onnxruntime``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

INPUT_NAME = "input"
OUTPUT_NAME = "output"


def _require(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(
            f"ONNX export needs {module!r}: pip install 'realsr[onnx]' (onnx, onnxruntime)"
        ) from None


def _model_info(model: nn.Module) -> dict[str, Any]:
    kind = getattr(model, "kind", "generator")
    if kind != "generator":
        name = getattr(model, "arch_name", type(model).__name__)
        raise ValueError(f"export_onnx: {name} is a {kind}, only generators are exported")
    return {
        "arch_name": str(getattr(model, "arch_name", type(model).__name__)),
        "hparams": dict(getattr(model, "hparams", {})),
        "scale": int(getattr(model, "scale", 1)),
        "output_scale": int(getattr(model, "output_scale", getattr(model, "scale", 1))),
        "in_channels": int(getattr(model, "in_channels", 3)),
        "size_multiple": int(getattr(model, "size_multiple", 1)),
        "input_upsampling": getattr(model, "input_upsampling", None),
    }


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    # The TorchScript exporter announces its own deprecation and tracing caveats on every call.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\.onnx.*")
        yield


def export_onnx(
    model: nn.Module,
    path: str | os.PathLike[str],
    *,
    opset: int = 17,
    dynamic: bool = True,
    fp16: bool = False,
    sample_size: tuple[int, int] | None = None,
    batch: int = 1,
) -> Path:
    """Export a generator to ONNX (TorchScript exporter), written atomically.

    The model is traced in eval mode on CPU with one zero-filled sample input; with ``dynamic``
    the input and output have symbolic ``batch``, ``height`` and ``width`` axes. The input keeps
    the model's constraints: height and width multiples of ``size_multiple`` (x2 RRDBNet: 2), and
    a bicubic pre-upsampled image for SRCNN / VDSR (``input_upsampling`` metadata).

    Args:
        model: A generator (`realsr.archs.SRArch` with ``kind == "generator"``, or any image to
            image module).
        path: The ``.onnx`` file to write.
        opset: ONNX opset version.
        dynamic: Symbolic batch/height/width (else fixed at the sample size).
        fp16: Export float16 weights and input/output (the model is converted to half).
        sample_size: ``(H, W)`` of the tracing input (default 32x32, rounded up to a multiple of
            ``size_multiple``); the size of a static export.
        batch: Batch size of the tracing input.

    Returns:
        The path written.

    Raises:
        ImportError: ``onnx`` is not installed.
        ValueError: The model is a discriminator.

    Example:
        >>> from realsr.archs import build_model
        >>> net = build_model("SRVGGNetCompact", {"num_feat": 4, "num_conv": 1})
        >>> import tempfile, pathlib
        >>> p = export_onnx(net, pathlib.Path(tempfile.mkdtemp()) / "m.onnx")  # doctest: +SKIP
    """
    onnx = _require("onnx")
    info = _model_info(model)
    m = info["size_multiple"]
    h, w = sample_size if sample_size is not None else (32, 32)
    h, w = -(-h // m) * m, -(-w // m) * m
    dtype = torch.float16 if fp16 else torch.float32
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Traced on a CPU copy so the caller's model keeps its device, dtype and mode.
    clone = _cpu_copy(model).to(dtype).eval()
    x = torch.zeros(batch, info["in_channels"], h, w, dtype=dtype)
    axes = {0: "batch", 2: "height", 3: "width"}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        with _quiet_exporter(), torch.no_grad():
            torch.onnx.export(
                clone,
                (x,),
                tmp,
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                opset_version=opset,
                dynamic_axes={INPUT_NAME: axes, OUTPUT_NAME: axes} if dynamic else None,
                do_constant_folding=True,
                dynamo=False,
            )
        proto = onnx.load(tmp)
        for key, value in info.items():
            entry = proto.metadata_props.add()
            entry.key = key
            entry.value = json.dumps(value)
        proto.producer_name = "realsr"
        onnx.checker.check_model(proto)
        onnx.save(proto, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _cpu_copy(model: nn.Module) -> nn.Module:
    import copy

    return copy.deepcopy(model).to("cpu")


def onnx_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The metadata properties written by `export_onnx` (JSON-decoded)."""
    onnx = _require("onnx")
    proto = onnx.load(str(path), load_external_data=False)
    out: dict[str, Any] = {}
    for entry in proto.metadata_props:
        try:
            out[entry.key] = json.loads(entry.value)
        except json.JSONDecodeError:
            out[entry.key] = entry.value
    return out


def run_onnx(path: str | os.PathLike[str], x: Tensor) -> Tensor:
    """Run an exported model with onnxruntime (CPU) on a batch.

    Shape:
        - x: ``(B, C, H, W)`` (H, W multiples of the model's ``size_multiple``)
        - output: ``(B, C_out, H * s, W * s)``

    Returns:
        The output as a CPU tensor of the model's dtype.
    """
    ort = _require("onnxruntime")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    dtype = session.get_inputs()[0].type
    array = x.detach().cpu().numpy()
    array = array.astype("float16" if "float16" in dtype else "float32")
    (y,) = session.run([OUTPUT_NAME], {INPUT_NAME: array})
    return torch.from_numpy(y)


def verify_onnx(
    path: str | os.PathLike[str],
    model: nn.Module,
    sizes: Sequence[tuple[int, int]] = ((32, 32), (24, 40)),
    *,
    rtol: float = 1e-4,
    atol: float = 1e-4,
    seed: int = 0,
) -> float:
    """Compare onnxruntime with PyTorch on random inputs of several sizes.

    For each size the check is ``max|y_onnx - y_torch| <= atol + rtol * max|y_torch|`` (both in
    float32 on CPU; an fp16 file is run with a half input and compared with the float32 model).

    Args:
        path: The exported file.
        model: The PyTorch model it came from.
        sizes: Input ``(H, W)`` sizes (rounded up to multiples of the model's ``size_multiple``).
        rtol: Tolerance relative to the largest output magnitude.
        atol: Absolute tolerance.
        seed: Seed of the random inputs.

    Returns:
        The largest absolute difference seen.

    Raises:
        AssertionError: A size exceeds the tolerance (the message gives the size and the gap).
    """
    info = _model_info(model)
    m = info["size_multiple"]
    ref = _cpu_copy(model).float().eval()
    gen = torch.Generator().manual_seed(seed)
    worst = 0.0
    for h, w in sizes:
        h, w = -(-h // m) * m, -(-w // m) * m
        x = torch.rand(1, info["in_channels"], h, w, generator=gen)
        with torch.no_grad():
            expected = ref(x)
        got = run_onnx(path, x).float()
        if got.shape != expected.shape:
            raise AssertionError(
                f"{path}: ONNX output {tuple(got.shape)} != PyTorch {tuple(expected.shape)} "
                f"for input {h}x{w}"
            )
        diff = float((got - expected).abs().max())
        bound = atol + rtol * float(expected.abs().max())
        if not diff <= bound:
            raise AssertionError(
                f"{path}: ONNX differs from PyTorch by {diff:.3g} > {bound:.3g} at input {h}x{w}"
            )
        worst = max(worst, diff)
    return worst


def _run_cli(args: argparse.Namespace) -> int:
    from realsr.checkpoint import load_model

    try:
        model = load_model(args.model, hparams=None)
    except (OSError, ValueError) as exc:
        print(f"realsr export: {args.model}: {exc}", file=sys.stderr)
        return 2
    try:
        path = export_onnx(
            model, args.output, opset=args.opset, dynamic=not args.static, fp16=args.fp16
        )
    except (ImportError, ValueError) as exc:
        print(f"realsr export: {exc}", file=sys.stderr)
        return 2
    if args.no_verify:
        print(f"{args.model} -> {path}")
        return 0
    # fp16 arithmetic is checked against the float32 model with an fp16-sized tolerance.
    tol = 1e-2 if args.fp16 else 1e-4
    sizes = ((32, 32), (24, 40)) if not args.static else ((32, 32),)
    try:
        diff = verify_onnx(path, model, sizes, rtol=tol, atol=tol)
    except AssertionError as exc:
        print(f"realsr export: verification failed: {exc}", file=sys.stderr)
        return 1
    print(f"{args.model} -> {path} (onnxruntime vs PyTorch: max |diff| {diff:.2e})")
    return 0


def register(sub: Any) -> None:
    """Add ``realsr export`` to the command's subparsers."""
    p = sub.add_parser(
        "export",
        help="export a generator checkpoint to ONNX (dynamic height/width)",
        description=(
            "Export with torch.onnx's TorchScript exporter, then check onnxruntime against "
            "PyTorch on two input sizes."
        ),
    )
    p.add_argument("-m", "--model", type=Path, required=True, help="checkpoint (.pth/.safetensors)")
    p.add_argument("-o", "--output", type=Path, required=True, help="output .onnx file")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset (default: 17)")
    p.add_argument("--fp16", action="store_true", help="float16 weights and input/output")
    p.add_argument("--static", action="store_true", help="fixed 32x32 input (no dynamic axes)")
    p.add_argument("--no-verify", action="store_true", help="skip the onnxruntime check")
    p.set_defaults(run=_run_cli)


__all__ = ["export_onnx", "onnx_metadata", "register", "run_onnx", "verify_onnx"]
