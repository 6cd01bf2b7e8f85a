"""extract-subimages: BasicSR's window positions, names, bit-exact crops, no overwriting."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from realsr.data.subimages import extract_subimages
from tests.realsr.data._helpers import run_data_command


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    arrays: dict[str, np.ndarray] = {
        "img.png": rng.integers(0, 256, (40, 43, 3), dtype=np.uint8),  # H 40, W 43
        "LR/0001x4.png": rng.integers(0, 65536, (16, 24), dtype=np.uint16),
        "tiny.png": rng.integers(0, 256, (10, 30, 3), dtype=np.uint8),
    }
    for name, array in arrays.items():
        (tmp_path / "in" / name).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(tmp_path / "in" / name), array)
    return arrays


def test_windows_names_and_pixels(tmp_path: Path, inputs: dict[str, np.ndarray]) -> None:
    lines: list[str] = []
    summary = extract_subimages(
        tmp_path / "in", tmp_path / "out", crop=16, step=8, progress=False, report=lines.append
    )
    # Worked by hand from the rule: along 40 px, 0, 8, 16, 24 end exactly at the border; along
    # 43 px the 3 px left after 24 + 16 add a window at 43 - 16 = 27. Numbered row by row.
    rows, cols = [0, 8, 16, 24], [0, 8, 16, 24, 27]
    image = inputs["img.png"]
    for n, (top, left) in enumerate([(r, c) for r in rows for c in cols], start=1):
        out = cv2.imread(str(tmp_path / "out" / f"img_s{n:03d}.png"), cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(out, image[top : top + 16, left : left + 16])
    assert not (tmp_path / "out" / f"img_s{len(rows) * len(cols) + 1:03d}.png").exists()
    # 16 x 24 gray 16-bit: rows [0], cols [0, 8]; the DIV2K scale suffix is dropped
    lr = sorted(p.name for p in (tmp_path / "out" / "LR").iterdir())
    assert lr == ["0001_s001.png", "0001_s002.png"]
    second = cv2.imread(str(tmp_path / "out" / "LR" / "0001_s002.png"), cv2.IMREAD_UNCHANGED)
    assert second is not None and second.dtype == np.uint16
    np.testing.assert_array_equal(second, inputs["LR/0001x4.png"][:, 8:24])
    assert summary.images == 3 and summary.written == 22 and summary.skipped == 0
    assert summary.too_small == (
        f"{tmp_path / 'in' / 'tiny.png'}: 30x10 is smaller than the 16 crop",
    )
    assert lines == list(summary.too_small)


def test_thresh_drops_small_leftovers(tmp_path: Path, inputs: dict[str, np.ndarray]) -> None:
    extract_subimages(tmp_path / "in", tmp_path / "out", crop=16, step=8, thresh=3, progress=False)
    names = [p.name for p in (tmp_path / "out").glob("img_s*.png")]
    assert len(names) == 16  # the 3 px leftover along the width is not above thresh 3


def test_no_overwrite_unless_skipping(tmp_path: Path, inputs: dict[str, np.ndarray]) -> None:
    args = [str(tmp_path / "in"), str(tmp_path / "out"), "--crop", "16", "--step", "8", "-q"]
    assert run_data_command("extract-subimages", *args) == 0
    first = tmp_path / "out" / "img_s001.png"
    marker = b"kept"
    first.write_bytes(marker)
    (tmp_path / "out" / "img_s002.png").unlink()
    assert run_data_command("extract-subimages", *args) == 2  # not empty: refuses, touches nothing
    assert first.read_bytes() == marker
    summary = extract_subimages(
        tmp_path / "in", tmp_path / "out", crop=16, step=8, skip_existing=True, progress=False
    )
    assert summary.written == 1 and summary.skipped == 21
    assert first.read_bytes() == marker and (tmp_path / "out" / "img_s002.png").is_file()


def test_unreadable_input_is_reported_and_others_go_on(tmp_path: Path, inputs: dict) -> None:
    (tmp_path / "in" / "bad.png").write_bytes(b"nope")
    assert (
        run_data_command(
            "extract-subimages", str(tmp_path / "in"), str(tmp_path / "out"), "--crop", "16", "-q"
        )
        == 1
    )
    assert (tmp_path / "out" / "img_s001.png").is_file()


@pytest.mark.slow  # two spawned worker processes import torch
def test_workers_give_the_same_files(tmp_path: Path, inputs: dict[str, np.ndarray]) -> None:
    extract_subimages(tmp_path / "in", tmp_path / "a", crop=16, step=8, progress=False)
    extract_subimages(tmp_path / "in", tmp_path / "b", crop=16, step=8, workers=2, progress=False)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.png"))
    assert files == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*.png"))
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()


def test_realsr_command_runs_it(
    tmp_path: Path, inputs: dict[str, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    from realsr import cli

    if "data.commands" not in cli.COMMANDS:
        monkeypatch.setattr(cli, "COMMANDS", (*cli.COMMANDS, "data.commands"))
    out = tmp_path / "out"
    assert (
        cli.main(["extract-subimages", str(tmp_path / "in"), str(out), "--crop", "32", "-q"]) == 0
    )
    # 40 x 43 with the default step 200: one window at 0 and one at the far border on each axis
    assert sorted(p.name for p in out.glob("*.png")) == [f"img_s00{i}.png" for i in range(1, 5)]
