"""Degradation previews: every stage of a pipeline for one HR image, contact sheets, ``degrade preview``.

:func:`preview_stages` runs a pipeline (a preset name, a YAML path, a spec or a built
:class:`~degrade.presets.Pipeline`) on one HR image with one key and returns the HR image
(USM-sharpened when the recipe asks for it) followed by the output of every op in execution order,
taken from the pipeline's own trace (:meth:`Pipeline.apply` with ``trace=``), each labelled with
what that sample drew for that op (from :meth:`Pipeline.records`). :func:`contact_sheet` lays rows
of stages out as one image, each stage scaled to its row's HR size (nearest neighbour) and
labelled above; :func:`show_stages` returns that sheet as a PIL image for notebooks.

``degrade preview`` writes such a sheet for a few images: per image, ``--samples`` rows with keys
``image_index * KEY_STRIDE + sample``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from tqdm import tqdm

from degrade.functional.sharpen import usm_sharp
from degrade.io import (
    IMAGE_SUFFIXES,
    ImageReadError,
    read_image,
    to_uint8_array,
    write_bytes_atomic,
)
from degrade.ops import (
    Clamp,
    Quantize,
    RandomBlur,
    RandomJPEG,
    RandomNoise,
    RandomOp,
    RandomResize,
    ResizeTo,
)
from degrade.presets import Pipeline, SpecError, load_pipeline

if TYPE_CHECKING:
    from PIL import Image

#: Keys of ``degrade preview``: ``image_index * KEY_STRIDE + sample`` (so ``--samples`` <= this).
KEY_STRIDE = 1000

PipelineLike = Pipeline | str | os.PathLike[str] | Mapping[str, Any]


@dataclass(frozen=True)
class Stage:
    """One step of a previewed degradation.

    Attributes:
        name: the op's name (``"hr"`` for the input), as in the pipeline's trace.
        image: the step's output, ``(C, h, w)`` float in [0, 1], at the size the op produced.
        label: a short description of what this sample drew for the op; lines separated by
            ``"\\n"`` (a container's choice, such as a random order, is a line of its own).
        path: the op's place in the pipeline's records, e.g. ``"7:final/1:jpeg2"``.
        record: the op's record for this sample (``{}`` for the input).
    """

    name: str
    image: Tensor
    label: str
    path: str = ""
    record: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Step:
    op: RandomOp[Any]
    record: Mapping[str, Any]
    path: str
    notes: tuple[str, ...]


def _as_pipeline(pipeline: PipelineLike) -> Pipeline:
    return pipeline if isinstance(pipeline, Pipeline) else load_pipeline(pipeline)


_Child = tuple[RandomOp[Any], Mapping[str, Any], str]


def _children(op: RandomOp[Any], record: Mapping[str, Any], path: str) -> list[_Child]:
    ops = getattr(op, "ops", None)
    if not isinstance(ops, list):
        raise TypeError(f"preview: container {op.name} ({type(op).__name__}) has no list of ops")
    out: list[_Child] = []
    for j, child in enumerate(ops):
        key = f"{j}:{child.name}"
        if key not in record:
            raise ValueError(f"{op.name}: record has no entry {key!r}")
        out.append((child, record[key], f"{path}/{key}" if path else key))
    return out


def _own_fields(op: RandomOp[Any], record: Mapping[str, Any]) -> dict[str, Any]:
    """A container record's own fields (its choices), without its children's entries."""
    children = {f"{j}:{c.name}" for j, c in enumerate(getattr(op, "ops", []))}
    return {k: v for k, v in record.items() if k not in children}


def _run_order(own: Mapping[str, Any], n: int) -> list[int] | None:
    """The children a container runs, in order, from its record: ``choice`` (one branch),
    ``order`` (a permutation), or ``None`` (all, in order)."""
    if isinstance(own.get("choice"), int):
        return [own["choice"]]
    order = own.get("order")
    if isinstance(order, list) and sorted(order) == list(range(n)):
        return [int(j) for j in order]
    return None


def _execution_order(
    op: RandomOp[Any],
    record: Mapping[str, Any],
    path: str,
    notes: list[str],
    owners: dict[str, tuple[str, dict[str, Any]]],
) -> Iterator[_Step]:
    """The leaf ops one sample runs through, in order, with their records.

    Containers are walked through their records: a ``choice`` picks one child, an ``order``
    permutes them, otherwise every child runs in turn. ``notes`` collects the container choices
    not yet attached to a leaf; ``owners`` maps container names to their path and own fields.
    """
    if not op.is_container:
        yield _Step(op, record, path, tuple(notes))
        notes.clear()
        return
    children = _children(op, record, path)
    own = _own_fields(op, record)
    owners[op.name] = (path, own)
    order = _run_order(own, len(children))
    if order is not None:
        names = "->".join(children[j][0].name for j in order)
        notes.append(f"{op.name}: {names}")
    for j in order if order is not None else range(len(children)):
        child, child_record, child_path = children[j]
        yield from _execution_order(child, child_record, child_path, notes, owners)


def _size(image: Tensor) -> str:
    return f"{image.shape[-1]}x{image.shape[-2]}"


def _blur_label(r: Mapping[str, Any]) -> str:
    family = str(r["family"])
    if family == "none":
        return "none"
    k = f"k{r['kernel_size']}"
    if family == "sinc":
        return f"sinc {k} wc={r['cutoff']:.2f}"
    kind, _, shape = family.rpartition("_")
    short = {"generalized": "gen-", "plateau": "plat-", "": ""}.get(kind, kind + "-")
    if shape == "iso":
        text = f"{short}iso {k} s={r['sigma_x']:.1f}"
    else:
        text = f"{short}aniso {k} s={r['sigma_x']:.1f},{r['sigma_y']:.1f} rot={r['theta']:.2f}"
    return text + (f" b={r['beta']:.2f}" if kind else "")


def _format_fields(fields: Mapping[str, Any]) -> str:
    """Record fields as short text: names bare, numbers with 3 significant digits, no seeds."""
    parts = []
    for key, value in fields.items():
        if key == "seed" or isinstance(value, list | dict):
            continue
        if key == "kernel_size":
            parts.append(f"k{value}")
        elif isinstance(value, str):
            parts.append(value)
        elif isinstance(value, float):
            parts.append(f"{key}={value:.3g}")
        else:
            parts.append(f"{key}={value}")
    return " ".join(parts)


def _jpeg_quality(op: RandomJPEG, quality: float) -> str:
    if op.compat is not None:  # continuous quality
        return f"{quality:.1f}"
    return str(min(max(round(quality), 1), 100))  # as the exact codec rounds it (half to even)


def op_label(op: RandomOp[Any], record: Mapping[str, Any], output: Tensor | None = None) -> str:
    """A short description of what one sample drew for one leaf op.

    Args:
        op: the leaf op.
        record: the op's record for the sample (an entry of :meth:`Pipeline.records`).
        output: the op's output for the sample; size-changing ops then show the size reached.

    Returns:
        e.g. ``"blur1 aniso k13 s=1.2,2.3 rot=0.52"``, ``"resize1 down x0.42 area -> 107x107"``,
        ``"noise1 gauss s=12.3 gray"``, ``"jpeg1 q=57"``.

    Example:
        >>> op_label(RandomJPEG(name="jpeg1"), {"applied": True, "quality": 56.6})
        'jpeg1 q=57'
    """
    r = record
    size = f" -> {_size(output)}" if output is not None else ""
    if isinstance(op, RandomBlur):
        text = _blur_label(r)
    elif isinstance(op, RandomResize):
        of_lr = " of LR" if op.relative_to == "hr" else ""
        if r["direction"] == "keep" and not of_lr:
            text = f"keep {r['mode']}"
        else:
            text = f"{r['direction']} x{r['scale']:.2f}{of_lr} {r['mode']}{size}"
    elif isinstance(op, ResizeTo):
        text = f"{r['mode']}{size}"
    elif isinstance(op, RandomNoise):
        gray = " gray" if r["gray"] else ""
        if r["kind"] == "gaussian":
            text = f"gauss s={r['sigma']:.1f}{gray}"
        elif r["kind"] == "poisson":
            text = f"poisson x{r['poisson_scale']:.2f}{gray}"
        else:
            text = "none"
    elif isinstance(op, RandomJPEG):
        text = f"q={_jpeg_quality(op, float(r['quality']))}" if r["applied"] else "skipped"
    elif isinstance(op, Quantize):
        text = "8-bit"
    elif isinstance(op, Clamp):
        text = "[0,1]"
    else:
        text = _format_fields(r)
    return f"{op.name} {text}".rstrip()


def _single(images: Any) -> Tensor:
    if isinstance(images, Tensor):
        return images[0]
    (only,) = images
    return only[0]


def _stages(pipeline: Pipeline, hr: Tensor, *, seed: int, key: int, hr_label: str) -> list[Stage]:
    """Stages of one sample; ``hr`` is the pipeline's input (already sharpened if it should be)."""
    keys = torch.tensor([key], dtype=torch.int64)
    params = pipeline.sample(keys, seed=seed, device=hr.device)
    trace: list[tuple[str, Any]] = []
    pipeline.apply(hr, params, trace=trace)
    (record,) = pipeline.records(params)
    owners: dict[str, tuple[str, dict[str, Any]]] = {}
    steps = list(_execution_order(pipeline, record, "", [], owners))
    stages = [Stage("hr", hr[0], hr_label)]
    done = 0
    for name, images in trace:
        image = _single(images)
        if done < len(steps) and name == steps[done].op.name:
            step = steps[done]
            done += 1
            label = op_label(step.op, step.record, image)
            if image.shape[-2:] != stages[-1].image.shape[-2:] and " -> " not in label:
                label += f" -> {_size(image)}"
            stages.append(
                Stage(name, image, "\n".join([*step.notes, label]), step.path, step.record)
            )
            continue
        # A step a container traced itself (e.g. "<container>/halve"): label it from the
        # container's own record fields.
        owner = name.split("/")[0]
        if owner not in owners:
            raise RuntimeError(
                f"preview: {pipeline.name} traced {name!r}, which is neither the next op of its "
                f"records ({[s.op.name for s in steps[done:]][:3]}) nor a container's step"
            )
        path, own = owners[owner]
        extra = {k: v for k, v in own.items() if k not in ("order", "choice")}
        label = f"{name} {_format_fields(extra)} -> {_size(image)}".replace("  ", " ")
        stages.append(Stage(name, image, label, path, extra))
    if done != len(steps):
        raise RuntimeError(
            f"preview: {pipeline.name} did not trace {[s.op.name for s in steps[done:]]}, "
            "which its records say it ran"
        )
    return stages


def _hr_batch(hr: Tensor) -> Tensor:
    if hr.ndim == 3:
        hr = hr.unsqueeze(0)
    if hr.ndim != 4 or hr.shape[0] != 1:
        raise ValueError(f"hr must have shape (C, H, W) or (1, C, H, W), got {tuple(hr.shape)}")
    return hr


def _hr_label(hr: Tensor, sharpened: bool) -> str:
    return f"HR {_size(hr)}" + (" USM" if sharpened else "")


def preview_stages(
    pipeline: PipelineLike, hr: Tensor, *, seed: int = 0, key: int = 0
) -> list[Stage]:
    """Run a pipeline on one HR image and return every stage, in execution order.

    The first stage is the pipeline's input: ``hr``, USM-sharpened (and labelled ``USM``) when
    the pipeline's ``gt_usm`` is set, as Real-ESRGAN degrades its sharpened ground truth. Then
    one stage per op the sample ran through (a :class:`~degrade.pipeline.OneOf` contributes its
    chosen branch, a :class:`~degrade.pipeline.RandomOrder` its ops in the drawn order), holding
    the op's actual output and a label of the sample's parameters for it.

    Args:
        pipeline: a :class:`~degrade.presets.Pipeline`, a preset name, a YAML path or a spec.
        hr: one image, float in [0, 1].
        seed: the base seed.
        key: the sample's key; the stages are those of ``pipeline(hr, torch.tensor([key]),
            seed=seed)`` (of any batch containing this key).

    Shape:
        hr: ``(C, H, W)`` or ``(1, C, H, W)``; stage images ``(C, h, w)``.

    Returns:
        ``[input, op 1, op 2, ...]``; the last image is the LR output.

    Example:
        >>> stages = preview_stages("bicubic", torch.rand(3, 32, 32), seed=0, key=3)
        >>> [s.name for s in stages][0], tuple(stages[-1].image.shape)
        ('hr', (3, 8, 8))
    """
    pipe = _as_pipeline(pipeline)
    hr = _hr_batch(hr)
    if pipe.gt_usm:
        hr = usm_sharp(hr)
    return _stages(pipe, hr, seed=seed, key=key, hr_label=_hr_label(hr, pipe.gt_usm))


def preview_rows(
    pipeline: PipelineLike, hr: Tensor, keys: Sequence[int], *, seed: int = 0, title: str = ""
) -> list[list[Stage]]:
    """:func:`preview_stages` for several keys of one image (sharpened once); one row per key.

    Args:
        pipeline: as for :func:`preview_stages`.
        hr: one image, ``(C, H, W)`` or ``(1, C, H, W)``.
        keys: the samples' keys.
        seed: the base seed.
        title: a first line for each row's HR label (e.g. the file name); the key follows it.

    Returns:
        One list of stages per key.
    """
    pipe = _as_pipeline(pipeline)
    hr = _hr_batch(hr)
    if pipe.gt_usm:
        hr = usm_sharp(hr)
    rows = []
    for key in keys:
        head = f"{title} key={key}".strip()
        label = f"{head}\n{_hr_label(hr, pipe.gt_usm)}"
        rows.append(_stages(pipe, hr, seed=seed, key=int(key), hr_label=label))
    return rows


def prepare_hr(image: Tensor, *, crop: int | None = None, scale: float = 1) -> Tensor:
    """Centre-crop (optionally) and modcrop one image so its sides are multiples of ``scale``.

    Gray images become three-channel.

    Args:
        image: ``(1, C, H, W)`` or ``(C, H, W)`` float image.
        crop: side of the centre square to keep (``None``: the whole image).
        scale: the pipeline's scale (non-integer scales are not modcropped).

    Returns:
        ``(1, 3, h, w)``.

    Example:
        >>> prepare_hr(torch.rand(1, 1, 50, 70), crop=None, scale=4).shape
        torch.Size([1, 3, 48, 68])
    """
    x = _hr_batch(image)
    if x.shape[1] == 1:
        x = x.expand(1, 3, *x.shape[-2:])
    h, w = x.shape[-2:]
    if crop is not None:
        if h < crop or w < crop:
            raise ValueError(f"image of {w}x{h} is smaller than the crop size {crop}")
        top, left = (h - crop) // 2, (w - crop) // 2
        x = x[..., top : top + crop, left : left + crop]
    if float(scale).is_integer() and scale > 1:
        s = int(scale)
        h, w = x.shape[-2:]
        if h < s or w < s:
            raise ValueError(f"image of {w}x{h} is smaller than the scale {s}")
        x = x[..., : h - h % s, : w - w % s]
    return x.contiguous()


# ----------------------------------------------------------------------------------------------- #
# Contact sheets
# ----------------------------------------------------------------------------------------------- #

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_BAND = 24  # label bands and empty cells
_GAP = 160  # lines between cells and rows
_TEXT = (235, 235, 235)


def _wrap(label: str, width: int, font_scale: float) -> list[str]:
    """Split ``label`` into lines that fit ``width`` pixels (at word boundaries when possible)."""

    def fits(text: str) -> bool:
        return cv2.getTextSize(text, _FONT, font_scale, 1)[0][0] <= width

    lines: list[str] = []
    for paragraph in label.split("\n"):
        current = ""
        for word in paragraph.split(" "):
            candidate = f"{current} {word}" if current else word
            if fits(candidate):
                current = candidate
                continue
            if current:
                lines.append(current)
            while len(word) > 1 and not fits(word):  # wider than the cell: split the word
                cut = len(word) - 1
                while cut > 1 and not fits(word[:cut]):
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            current = word
        lines.append(current)
    return lines


def _line_height(font_scale: float) -> int:
    (_, h), baseline = cv2.getTextSize("Mg", _FONT, font_scale, 1)
    return h + baseline + 3


def _cell_image(image: Tensor, height: int, width: int) -> np.ndarray:
    x = image.detach().float().cpu().unsqueeze(0)
    if x.shape[1] == 1:
        x = x.expand(1, 3, *x.shape[-2:])
    elif x.shape[1] != 3:
        raise ValueError(f"stage images need 1 or 3 channels, got {x.shape[1]}")
    x = F.interpolate(x, size=(height, width), mode="nearest")
    return to_uint8_array(x)


def contact_sheet(
    rows: Sequence[Sequence[Stage]],
    *,
    cell_size: int | None = None,
    gap: int = 4,
    font_scale: float = 0.4,
) -> np.ndarray:
    """Lay out rows of stages as one RGB image, each stage labelled above its cell.

    Every stage of a row is scaled with nearest-neighbour interpolation to the size of the row's
    first stage (the HR image), so LR pixels show as blocks; then to ``cell_size`` pixels wide
    when given (the height follows the HR aspect ratio). Labels wrap onto as many lines as the
    longest needs; short rows are padded with empty cells.

    Args:
        rows: lists of stages (e.g. from :func:`preview_stages`), first the HR stage.
        cell_size: width of every cell in pixels; ``None``: each row's HR width.
        gap: pixels between cells and between rows.
        font_scale: OpenCV Hershey font scale of the labels.

    Shape:
        Returns ``(H, W, 3)`` uint8, RGB; with ``cell_size=S``, ``n`` rows of HR height ``h`` and
        width ``w`` and ``m`` columns: ``W = m * S + (m - 1) * gap`` and
        ``H = n * (band + round(S * h / w)) + (n - 1) * gap``.

    Example:
        >>> stage = Stage("hr", torch.rand(3, 8, 16), "HR")
        >>> contact_sheet([[stage, stage]] * 3, cell_size=32, gap=2).shape[1]
        66
    """
    if not rows or not all(rows):
        raise ValueError("contact_sheet needs at least one row, and no empty row")
    if cell_size is not None and cell_size < 1:
        raise ValueError(f"cell_size must be positive, got {cell_size}")
    columns = max(len(r) for r in rows)
    geometry = []
    for row in rows:
        ref_h, ref_w = row[0].image.shape[-2:]
        width = cell_size if cell_size is not None else int(ref_w)
        height = int(ref_h) if cell_size is None else max(1, round(cell_size * ref_h / ref_w))
        geometry.append((height, width))
    wrapped = [
        [_wrap(s.label, width - 4, font_scale) for s in row]
        for row, (_, width) in zip(rows, geometry, strict=True)
    ]
    line_h = _line_height(font_scale)
    n_lines = max(len(lines) for row in wrapped for lines in row)
    band = n_lines * line_h + 3
    sheet_w = max(columns * w + (columns - 1) * gap for _, w in geometry)
    sheet_h = sum(band + h for h, _ in geometry) + (len(rows) - 1) * gap
    sheet = np.full((sheet_h, sheet_w, 3), _GAP, np.uint8)
    top = 0
    for row, labels, (height, width) in zip(rows, wrapped, geometry, strict=True):
        for j in range(columns):  # label bands, and the empty cells of short rows
            left = j * (width + gap)
            sheet[top : top + band + height, left : left + width] = _BAND
        for j, (stage, lines) in enumerate(zip(row, labels, strict=True)):
            left = j * (width + gap)
            cell = _cell_image(stage.image, height, width)
            sheet[top + band : top + band + height, left : left + width] = cell
            for k, line in enumerate(lines):
                baseline = top + (k + 1) * line_h - 2
                cv2.putText(
                    sheet, line, (left + 2, baseline), _FONT, font_scale, _TEXT, 1, cv2.LINE_AA
                )
        top += band + height + gap
    return sheet


def show_stages(
    stages: Sequence[Stage] | Sequence[Sequence[Stage]], *, cell_size: int | None = None
) -> Image.Image:
    """A contact sheet of one row of stages (or of several rows) as a PIL image.

    A notebook displays the returned image when it is a cell's last expression.

    Args:
        stages: one row (from :func:`preview_stages`) or a list of rows.
        cell_size: width of each cell in pixels (``None``: the HR width).

    Returns:
        An RGB ``PIL.Image.Image``.

    Example:
        >>> show_stages(preview_stages("bicubic", torch.rand(3, 16, 16)), cell_size=40).size[0]
        128
    """
    from PIL import Image

    if stages and isinstance(stages[0], Stage):
        rows: list[Sequence[Stage]] = [stages]  # type: ignore[list-item]
    else:
        rows = list(stages)  # type: ignore[arg-type]
    return Image.fromarray(contact_sheet(rows, cell_size=cell_size))


# ----------------------------------------------------------------------------------------------- #
# degrade preview
# ----------------------------------------------------------------------------------------------- #


def _fail(message: str) -> None:
    print(f"degrade preview: {message}", file=sys.stderr)


def _preview(args: argparse.Namespace) -> int:
    if not 1 <= args.samples <= KEY_STRIDE:
        _fail(f"--samples must be in 1..{KEY_STRIDE}, got {args.samples}")
        return 2
    if args.crop is not None and args.crop < 1:
        _fail(f"--crop must be positive, got {args.crop}")
        return 2
    if args.cell_size is not None and args.cell_size < 1:
        _fail(f"--cell-size must be positive, got {args.cell_size}")
        return 2
    if args.out.suffix.lower() not in IMAGE_SUFFIXES:
        _fail(f"{args.out}: unsupported sheet format (use {', '.join(IMAGE_SUFFIXES)})")
        return 2
    try:
        pipeline = load_pipeline(args.preset, scale=args.scale)
    except (SpecError, OSError) as exc:
        _fail(f"--preset {args.preset}: {exc}")
        return 2

    rows: list[list[Stage]] = []
    failures = 0
    paths = [Path(p) for p in args.images]
    with tqdm(
        total=len(paths) * args.samples, desc="preview", unit="sample", disable=args.quiet
    ) as bar:
        for index, path in enumerate(paths):
            try:
                hr = prepare_hr(read_image(path), crop=args.crop, scale=pipeline.scale)
                keys = [index * KEY_STRIDE + s for s in range(args.samples)]
                rows += preview_rows(pipeline, hr, keys, seed=args.seed, title=path.name)
            except ImageReadError as exc:
                _fail(f"skipped {exc}")
                failures += 1
            except (ValueError, RuntimeError) as exc:
                _fail(f"skipped {path}: {exc}")
                failures += 1
            bar.update(args.samples)
    if not rows:
        _fail("no image could be previewed")
        return 1
    sheet = cv2.cvtColor(contact_sheet(rows, cell_size=args.cell_size), cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(args.out.suffix.lower(), sheet)
    if not ok:
        _fail(f"{args.out}: could not encode the sheet")
        return 1
    write_bytes_atomic(args.out, encoded.tobytes())
    if not args.quiet:
        print(f"wrote {args.out} ({len(rows)} rows, {sheet.shape[1]}x{sheet.shape[0]})")
    return 1 if failures else 0


def register(sub: Any) -> None:
    """Add ``degrade preview`` to the command's subparsers."""
    preview = sub.add_parser(
        "preview",
        help="write a contact sheet of every stage of a degradation pipeline",
        description=(
            "For each image (centre crop or whole image, modcropped to the pipeline's scale), "
            "write --samples rows: the HR input and every op's output at HR size (nearest "
            "scaling), labelled with the parameters the sample drew. Sample s of image i has the "
            f"key i * {KEY_STRIDE} + s."
        ),
    )
    preview.add_argument("images", nargs="+", help="input image files")
    preview.add_argument("--out", type=Path, required=True, help="output sheet (PNG/JPEG/WebP)")
    preview.add_argument(
        "--preset",
        default="realesrgan_x4plus",
        help="preset name or pipeline YAML file (default: realesrgan_x4plus)",
    )
    preview.add_argument("--samples", type=int, default=4, help="degraded samples per image")
    preview.add_argument("--seed", type=int, default=0, help="base seed")
    preview.add_argument("--scale", type=float, default=None, help="override the pipeline's scale")
    preview.add_argument("--crop", type=int, default=None, help="centre crop size (default: whole)")
    preview.add_argument(
        "--cell-size",
        type=int,
        default=None,
        help="width of one cell in pixels (default: HR width)",
    )
    preview.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    preview.set_defaults(run=_preview)


__all__ = [
    "KEY_STRIDE",
    "Stage",
    "contact_sheet",
    "op_label",
    "prepare_hr",
    "preview_rows",
    "preview_stages",
    "register",
    "show_stages",
]
