"""Previews: traced stages, their labels, contact sheets, ``degrade preview`` and the notebook."""

from __future__ import annotations

import glob
import importlib.util
import os
import re
import shlex
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from degrade.cli import build_parser, main
from degrade.functional.filter import filter2d
from degrade.functional.jpeg import jpeg
from degrade.functional.kernels import bivariate_gaussian_kernel
from degrade.functional.resize import resize
from degrade.functional.sharpen import usm_sharp
from degrade.io import read_image, to_uint8_array, write_image
from degrade.ops import RandomJPEG
from degrade.presets import available_presets, build_pipeline, load_pipeline
from degrade.preview import (
    KEY_STRIDE,
    Stage,
    contact_sheet,
    op_label,
    prepare_hr,
    preview_rows,
    preview_stages,
    show_stages,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def x4() -> Any:
    return load_pipeline("realesrgan_x4plus")


def _image(seed: int, h: int = 48, w: int = 48, c: int = 3) -> torch.Tensor:
    """A smooth random image with some texture, ``(1, c, h, w)`` in [0, 1]."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, c, max(h // 8, 1), max(w // 8, 1), generator=g)
    smooth = F.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)
    return (0.8 * smooth + 0.2 * torch.rand(1, c, h, w, generator=g)).clamp(0, 1)


def _at(record: dict[str, Any], path: str) -> Any:
    for part in path.split("/"):
        record = record[part]
    return record


# ----------------------------------------------------------------------------------------------- #
# Stages
# ----------------------------------------------------------------------------------------------- #


def test_stages_are_the_traced_outputs_in_order(x4: Any) -> None:
    hr = _image(0, 32, 32)
    keys = list(range(10))
    rows = preview_rows(x4, hr, keys, seed=3)
    orders = set()
    for key, stages in zip(keys, rows, strict=True):
        params = x4.sample(torch.tensor([key]), seed=3)
        trace: list[tuple[str, Any]] = []
        x4.apply(usm_sharp(hr), params, trace=trace)
        assert [s.name for s in stages] == ["hr", *(name for name, _ in trace)]
        for stage, (_, out) in zip(stages[1:], trace, strict=True):
            assert torch.equal(stage.image, out[0])
        # The final jpeg / [resize + sinc] pair runs in the order its record says.
        (record,) = x4.records(params)
        order = tuple(record["7:final"]["order"])
        orders.add(order)
        names = [s.name for s in stages]
        assert (names.index("jpeg2") < names.index("resize_back")) == (order == (1, 0))
        # Each stage carries its own record, found at its path.
        for stage in stages[1:]:
            assert stage.record == _at(record, stage.path)
            assert stage.path.split("/")[-1].split(":", 1)[1] == stage.name
    assert orders == {(0, 1), (1, 0)}


@pytest.mark.parametrize("preset", ["realesrgan_x4plus", "bicubic"])
def test_last_stage_is_the_pipeline_output(preset: str) -> None:
    pipe = load_pipeline(preset)
    hr = torch.cat([_image(s, 32, 32) for s in range(3)])
    keys = [4, 17, KEY_STRIDE + 2]
    given = usm_sharp(hr) if pipe.gt_usm else hr
    out = pipe(given, torch.tensor(keys), seed=5)  # one batch, per-sample draws
    for i, key in enumerate(keys):
        stages = preview_stages(preset, hr[i], seed=5, key=key)
        assert torch.equal(stages[-1].image, out[i])
        assert torch.equal(stages[0].image, given[i])
        assert ("USM" in stages[0].label) == pipe.gt_usm
        assert tuple(stages[-1].image.shape[-2:]) == (32 // pipe.scale, 32 // pipe.scale)


def test_stage_images_are_the_ops_outputs() -> None:
    spec = {
        "name": "fixed",
        "scale": 2,
        "ops": [
            {"type": "blur", "kernel_list": ["iso"], "kernel_prob": [1], "sigma": [1.5, 1.5],
             "kernel_sizes": [7]},
            {"type": "jpeg", "jpeg_range": [50, 50]},
            {"type": "resize_to", "modes": ["bilinear"]},
        ],
    }  # fmt: skip
    hr = _image(1, 32, 40)
    stages = preview_stages(build_pipeline(spec), hr, seed=0, key=9)
    assert [s.name for s in stages] == ["hr", "blur", "jpeg", "resize_to"]
    kernel = bivariate_gaussian_kernel(7, 1.5, 1.5, 0.0, pad_to=21)
    blurred = filter2d(hr, kernel)
    torch.testing.assert_close(stages[1].image, blurred[0], atol=1e-6, rtol=0)
    assert torch.equal(stages[2].image, jpeg(stages[1].image[None].clamp(0, 1), 50)[0])
    expected = resize(stages[2].image[None], size=(16, 20), mode="bilinear")
    torch.testing.assert_close(stages[3].image, expected[0], atol=1e-6, rtol=0)
    assert stages[1].label == "blur iso k7 s=1.5"
    assert stages[2].label == "jpeg q=50"
    assert stages[3].label == "resize_to bilinear -> 20x16"


def test_labels_show_the_drawn_values(x4: Any) -> None:
    hr = _image(2, 32, 32)
    families_seen = set()
    keys = list(range(12))
    for key, stages in zip(keys, preview_rows(x4, hr, keys, seed=11), strict=True):
        (record,) = x4.records(x4.sample(torch.tensor([key]), seed=11))
        for stage in stages[1:]:
            r = _at(record, stage.path)
            text = stage.label.split("\n")[-1]
            assert text.startswith(stage.name + " ")
            if stage.name.startswith("jpeg"):
                assert f"q={round(r['quality'])}" in text.split()
            elif stage.name.startswith("noise"):
                value = (
                    f"s={r['sigma']:.1f}"
                    if r["kind"] == "gaussian"
                    else f"x{r['poisson_scale']:.2f}"
                )
                assert value in text.split()
                assert ("gray" in text.split()) == r["gray"]
            elif stage.name in ("blur1", "blur2", "final_sinc"):
                families_seen.add(r["family"])
                if r["family"] == "none":
                    assert text.split()[1] == "none"
                    continue
                assert f"k{r['kernel_size']}" in text.split()
                if r["family"] == "sinc":
                    assert f"wc={r['cutoff']:.2f}" in text.split()
                else:
                    assert f"s={r['sigma_x']:.1f}" in text or f"s={r['sigma_x']:.1f}," in text
            elif stage.name in ("resize1", "resize2"):
                words = text.split()
                assert r["direction"] in words and r["mode"] in words
                if r["direction"] != "keep":
                    assert f"x{r['scale']:.2f}" in words
            if "->" in text:  # sizes reached are the stage's own
                h, w = stage.image.shape[-2:]
                assert text.endswith(f"-> {w}x{h}")
        # The random order of the final step is shown on the first op it runs.
        names = [s.name for s in stages]
        first = min(names.index("jpeg2"), names.index("resize_back"))
        order = (
            ["resize_sinc", "jpeg2"] if names.index("jpeg2") > first else ["jpeg2", "resize_sinc"]
        )
        assert stages[first].label.split("\n")[0] == "final: " + "->".join(order)
    assert {"sinc", "none"} <= families_seen and len(families_seen) >= 4


def test_jpeg_label_rounds_as_the_codec() -> None:
    op = RandomJPEG(name="j")
    x = _image(3, 16, 16)
    for quality, shown in ((56.5, 56), (57.5, 58), (56.49, 56), (30.0, 30)):
        assert op_label(op, {"applied": True, "quality": quality}) == f"j q={shown}"
        assert torch.equal(jpeg(x, quality), jpeg(x, shown))
    assert op_label(op, {"applied": False, "quality": 40.0}) == "j skipped"
    compat = RandomJPEG(name="j", compat="basicsr")
    assert op_label(compat, {"applied": True, "quality": 56.5}) == "j q=56.5"


def test_one_of_shows_the_chosen_branch() -> None:
    spec = {
        "scale": 2,
        "ops": [
            {"type": "one_of", "name": "pick", "ops": [
                {"type": "jpeg", "name": "ja", "jpeg_range": [40, 40]},
                {"type": "noise", "name": "nb", "noise_range": [5, 5], "gaussian_noise_prob": 1},
            ]},
            {"type": "resize_to"},
        ],
    }  # fmt: skip
    pipe = build_pipeline(spec)
    hr = _image(4, 16, 16)
    chosen = set()
    for key in range(10):
        stages = preview_stages(pipe, hr, key=key)
        (record,) = pipe.records(pipe.sample(torch.tensor([key]), seed=0))
        branch = ["ja", "nb"][record["0:pick"]["choice"]]
        chosen.add(branch)
        assert [s.name for s in stages] == ["hr", branch, "resize_to"]
        assert stages[1].label.split("\n")[0] == f"pick: {branch}"
        assert stages[1].path == f"0:pick/{record['0:pick']['choice']}:{branch}"
        assert torch.equal(stages[-1].image, pipe(hr, torch.tensor([key]))[0])
    assert chosen == {"ja", "nb"}


@pytest.mark.skipif("bsrgan" not in available_presets(), reason="no bsrgan preset")
def test_container_traced_steps_are_kept() -> None:
    pipe = load_pipeline("bsrgan")
    hr = _image(5, 32, 32)
    halved = 0
    for key in range(10):
        params = pipe.sample(torch.tensor([key]), seed=0)
        trace: list[tuple[str, Any]] = []
        out = pipe.apply(hr, params, trace=trace)
        stages = preview_stages(pipe, hr, key=key)
        assert [s.name for s in stages] == ["hr", *(name for name, _ in trace)]
        assert torch.equal(stages[-1].image, out[0])
        if "shuffle/halve" in [s.name for s in stages]:
            halved += 1
            halve = next(s for s in stages if s.name == "shuffle/halve")
            assert halve.label.endswith("-> 16x16")
    assert halved > 0


def test_prepare_hr_crops_and_modcrops() -> None:
    x = torch.rand(1, 1, 50, 71)
    y = prepare_hr(x, crop=None, scale=4)
    assert y.shape == (1, 3, 48, 68) and torch.equal(y[0, 1], x[0, 0, :48, :68])
    z = prepare_hr(torch.rand(3, 50, 71), crop=30, scale=4)
    assert z.shape == (1, 3, 28, 28)
    with pytest.raises(ValueError, match="smaller than the crop size 64"):
        prepare_hr(x, crop=64, scale=4)


# ----------------------------------------------------------------------------------------------- #
# Contact sheets
# ----------------------------------------------------------------------------------------------- #


def _expected_cell(image: torch.Tensor, h: int, w: int) -> np.ndarray:
    return to_uint8_array(F.interpolate(image[None].float(), size=(h, w), mode="nearest"))


def test_contact_sheet_geometry_and_cells() -> None:
    g = torch.Generator().manual_seed(0)
    hr = torch.rand(3, 20, 40, generator=g)
    lr = torch.rand(3, 5, 10, generator=g)
    red = torch.zeros(3, 5, 10)
    red[0] = 1
    rows = [
        [
            Stage("hr", hr, "HR"),
            Stage("a", lr, "a x0.25"),
            Stage("b", red, "b"),
            Stage("c", lr, "c"),
        ],
        [Stage("hr", hr, "HR"), Stage("a", red, "a"), Stage("b", lr, "b")],  # short row
        [Stage("hr", hr, "HR"), Stage("a", lr, "a"), Stage("b", lr, "b"), Stage("c", red, "c")],
    ]
    size, gap = 48, 3
    sheet = contact_sheet(rows, cell_size=size, gap=gap)
    assert sheet.dtype == np.uint8 and sheet.shape[2] == 3
    assert sheet.shape[1] == 4 * size + 3 * gap
    cell_h = round(size * 20 / 40)
    band, rest = divmod(sheet.shape[0] - 2 * gap - 3 * cell_h, 3)
    assert rest == 0 and band > 0
    for i, row in enumerate(rows):
        top = i * (band + cell_h + gap) + band
        for j, stage in enumerate(row):
            left = j * (size + gap)
            cell = sheet[top : top + cell_h, left : left + size]
            np.testing.assert_array_equal(cell, _expected_cell(stage.image, cell_h, size))
            assert (sheet[top - band : top, left : left + size] > 150).any()  # label text
    empty = sheet[band + cell_h + gap : 2 * (band + cell_h) + gap, 3 * (size + gap) :]
    assert (empty == empty[0, 0]).all()
    red_cell = sheet[band : band + cell_h, 2 * (size + gap) : 2 * (size + gap) + size]
    assert (red_cell == [255, 0, 0]).all()  # RGB order


def test_contact_sheet_default_cells_show_pixels_as_blocks() -> None:
    hr = torch.rand(3, 20, 40)
    lr = torch.rand(3, 5, 10)
    sheet = contact_sheet([[Stage("hr", hr, "HR"), Stage("lr", lr, "LR")]], gap=2)
    assert sheet.shape[1] == 2 * 40 + 2
    band = sheet.shape[0] - 20
    blocks = lr.repeat_interleave(4, dim=1).repeat_interleave(4, dim=2)
    np.testing.assert_array_equal(sheet[band:, 42:], to_uint8_array(blocks))
    np.testing.assert_array_equal(sheet[band:, :40], to_uint8_array(hr))
    np.testing.assert_array_equal(
        np.asarray(show_stages([Stage("hr", hr, "HR"), Stage("lr", lr, "LR")])),
        contact_sheet([[Stage("hr", hr, "HR"), Stage("lr", lr, "LR")]]),
    )


def test_contact_sheet_wraps_long_labels() -> None:
    hr = torch.rand(3, 16, 32)
    short = contact_sheet([[Stage("hr", hr, "HR")]], cell_size=64)
    long = contact_sheet(
        [[Stage("hr", hr, "a much longer label that cannot fit one line")]], cell_size=64
    )
    two = contact_sheet([[Stage("hr", hr, "first\nsecond")]], cell_size=64)
    assert long.shape[1] == short.shape[1] == 64
    assert long.shape[0] > two.shape[0] > short.shape[0]
    with pytest.raises(ValueError, match="at least one row"):
        contact_sheet([])


# ----------------------------------------------------------------------------------------------- #
# degrade preview
# ----------------------------------------------------------------------------------------------- #


def _read_rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def test_cli_writes_the_sheet_and_reports_bad_files(
    tmp_path: Path, x4: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    a, bad, b = tmp_path / "a.png", tmp_path / "bad.png", tmp_path / "b.png"
    write_image(a, _image(6, 36, 40))
    bad.write_bytes(b"not an image at all")
    write_image(b, _image(7, 30, 44, c=1))  # gray, modcropped to 28 x 44
    out = tmp_path / "sheets" / "sheet.png"
    argv = ["preview", str(a), str(bad), str(b), "--samples", "2", "--seed", "1"]
    assert main([*argv, "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.png" in err[0]
    sheet = _read_rgb(out)
    rows = preview_rows(x4, prepare_hr(read_image(a), scale=4), [0, 1], seed=1, title="a.png")
    rows += preview_rows(
        x4,
        prepare_hr(read_image(b), scale=4),
        [2 * KEY_STRIDE, 2 * KEY_STRIDE + 1],
        seed=1,
        title="b.png",
    )
    np.testing.assert_array_equal(sheet, contact_sheet(rows))
    columns = len(rows[0])
    assert sheet.shape[1] == columns * 44 + (columns - 1) * 4
    assert [p.name for p in out.parent.iterdir()] == ["sheet.png"]  # no temporary left


def test_cli_cell_size_and_crop(tmp_path: Path, x4: Any) -> None:
    a = tmp_path / "a.png"
    write_image(a, _image(8, 40, 40))
    out = tmp_path / "sheet.png"
    argv = ["preview", str(a), "--samples", "3", "--crop", "24", "--cell-size", "32"]
    assert main([*argv, "--preset", "realesrgan_x4plus", "--out", str(out), "--quiet"]) == 0
    sheet = _read_rgb(out)
    columns = len(preview_stages(x4, torch.rand(3, 24, 24)))
    assert sheet.shape[1] == columns * 32 + (columns - 1) * 4
    band, rest = divmod(sheet.shape[0] - 2 * 4 - 3 * 32, 3)
    assert rest == 0 and band > 0
    np.testing.assert_array_equal(
        sheet[band : band + 32, :32],
        _expected_cell(usm_sharp(read_image(a)[..., 8:32, 8:32])[0], 32, 32),
    )


def test_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG broken")
    out = tmp_path / "sheet.png"
    assert main(["preview", str(bad), "--out", str(out), "--quiet"]) == 1
    assert not out.exists()
    capsys.readouterr()
    assert main(["preview", str(bad), "--preset", "realesrgan_x4pls", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "realesrgan_x4pls" in err[0] and "realesrgan_x4plus" in err[0]
    assert main(["preview", str(bad), "--out", str(tmp_path / "sheet.txt")]) == 2
    assert main(["preview", str(bad), "--samples", "0", "--out", str(out)]) == 2


def test_demo_command_parses() -> None:
    script = (ROOT / "scripts" / "demo.sh").read_text().replace("\\\n", " ")
    line = next(ln for ln in script.splitlines() if "degrade preview" in ln)
    words = shlex.split(line.split("degrade ", 1)[1])
    expanded = [w for word in words for w in (sorted(glob.glob(str(ROOT / word))) or [word])]
    args = build_parser().parse_args(expanded)
    assert args.command == "preview" and args.preset == "realesrgan_x4plus"
    assert len(args.images) >= 1 and all(Path(p).is_file() for p in args.images)


# ----------------------------------------------------------------------------------------------- #
# Notebook
# ----------------------------------------------------------------------------------------------- #

_NOTEBOOK_MODULES = ("nbclient", "nbformat", "ipykernel", "ipywidgets")


@pytest.mark.slow
def test_notebook_executes() -> None:
    missing = [m for m in _NOTEBOOK_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        message = f"notebook packages missing: {', '.join(missing)} (install the notebook extra)"
        if os.environ.get("REALSR_REQUIRE_NOTEBOOK") == "1":
            pytest.fail(message)
        pytest.skip(message)
    import nbformat
    from nbclient import NotebookClient

    path = ROOT / "examples" / "preview_presets.ipynb"
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()  # raises on any cell error
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 3
    last = [c for c in nb.cells if c.cell_type == "code"][-1]
    assert any(
        "application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in last.outputs
    )
    assert re.search(r"spec [0-9a-f]{16}", str(nb.metadata.get("widgets", "")))
