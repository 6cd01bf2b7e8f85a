"""make-lmdb: BasicSR's layout, bit-exact round trip, readable by BasicSR; LMDB datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import torch

from realsr.data import build_dataset, lmdb_writer
from realsr.data.lmdb_writer import lmdb_key, make_lmdb
from realsr.data.readers import LmdbReader, decode_image, lmdb_keys, read_lines
from tests._reference import import_reference
from tests.realsr.data._helpers import dataset_options, random_rgb, run_data_command, write_rgb

pytest.importorskip("lmdb")


@pytest.fixture
def images(tmp_path: Path) -> dict[str, np.ndarray]:
    """Stored arrays (BGR / gray, as cv2 reads them unchanged) by relative path."""
    rng = np.random.default_rng(0)
    arrays = {
        "0001.png": random_rgb(rng, 12, 10),
        "0002.png": random_rgb(rng, 9, 13, np.uint16),
        "sub/0003.png": rng.integers(0, 256, (8, 8), dtype=np.uint8),
    }
    for name, array in arrays.items():
        (tmp_path / "in" / name).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(tmp_path / "in" / name), array)
    (tmp_path / "in" / "notes.txt").write_text("not an image")
    return arrays


def test_layout_and_bit_exact_round_trip(tmp_path: Path, images: dict[str, np.ndarray]) -> None:
    out = tmp_path / "set.lmdb"
    assert (
        run_data_command("make-lmdb", str(tmp_path / "in"), str(out), "--compress-level", "3", "-q")
        == 0
    )
    assert sorted(p.name for p in out.iterdir()) == ["data.mdb", "lock.mdb", "meta_info.txt"]
    assert not (tmp_path / "set.lmdb.tmp").exists()
    assert read_lines(out / "meta_info.txt") == [
        "0001.png (12,10,3) 3",
        "0002.png (9,13,3) 3",
        "sub/0003.png (8,8,1) 3",
    ]
    assert lmdb_keys(out) == ["0001", "0002", "sub/0003"]
    reader = LmdbReader(out)
    for name, stored in images.items():
        value = reader.get(name.removesuffix(".png"))
        assert value is not None and value[:8] == b"\x89PNG\r\n\x1a\n"
        raw = cv2.imdecode(np.frombuffer(value, np.uint8), cv2.IMREAD_UNCHANGED)
        assert raw is not None and raw.dtype == stored.dtype
        np.testing.assert_array_equal(raw, stored)
        rgb = decode_image(value, name)
        expected = np.repeat(stored[:, :, None], 3, 2) if stored.ndim == 2 else stored[:, :, ::-1]
        np.testing.assert_array_equal(rgb, expected)
    assert reader.get("nope") is None


def test_basicsr_reads_our_database(tmp_path: Path, images: dict[str, np.ndarray]) -> None:
    utils = import_reference("basicsr.utils")
    data_util = import_reference("basicsr.data.data_util")
    out = tmp_path / "hr.lmdb"
    make_lmdb(tmp_path / "in", out, progress=False)
    assert data_util.paths_from_lmdb(str(out)) == ["0001", "0002", "sub/0003"]
    client = utils.FileClient("lmdb", db_paths=[str(out)], client_keys=["gt"])
    value = client.get("0001", "gt")
    np.testing.assert_array_equal(utils.imfrombytes(value, flag="unchanged"), images["0001.png"])
    np.testing.assert_array_equal(
        utils.imfrombytes(client.get("sub/0003", "gt"), flag="unchanged"), images["sub/0003.png"]
    )


def test_existing_output_bad_names_and_unreadable_input(tmp_path: Path, images: dict) -> None:
    out = tmp_path / "a.lmdb"
    make_lmdb(tmp_path / "in", out, progress=False)
    assert run_data_command("make-lmdb", str(tmp_path / "in"), str(out), "-q") == 2  # exists
    with pytest.raises(ValueError, match="must end in '.lmdb'"):
        make_lmdb(tmp_path / "in", tmp_path / "b", progress=False)
    with pytest.raises(ValueError, match="must be ASCII without '.'"):
        lmdb_key("v1.2/img.png")
    (tmp_path / "in" / "0001.jpg").write_bytes(
        cv2.imencode(".jpg", images["0001.png"])[1].tobytes()
    )
    with pytest.raises(ValueError, match="share the key '0001'"):
        make_lmdb(tmp_path / "in", tmp_path / "c.lmdb", progress=False)
    (tmp_path / "in" / "0001.jpg").write_bytes(b"garbage")
    (tmp_path / "in" / "0001.png").unlink()
    with pytest.raises(OSError, match=r"0001\.jpg: not a readable image"):
        make_lmdb(tmp_path / "in", tmp_path / "d.lmdb", progress=False)
    assert not (tmp_path / "d.lmdb").exists() and not (tmp_path / "d.lmdb.tmp").exists()


def test_map_grows_past_its_initial_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lmdb_writer, "_INITIAL_MAP", 256 << 10)
    rng = np.random.default_rng(1)
    arrays = [random_rgb(rng, 300, 300) for _ in range(5)]  # 270 kB each, incompressible
    for i, rgb in enumerate(arrays):
        write_rgb(tmp_path / "big" / f"{i}.png", rgb)
    make_lmdb(tmp_path / "big", tmp_path / "big.lmdb", compress_level=0, batch=2, progress=False)
    reader = LmdbReader(tmp_path / "big.lmdb")
    for i, rgb in enumerate(arrays):
        np.testing.assert_array_equal(decode_image(reader.get(str(i)), str(i)), rgb)


def test_lmdb_datasets_match_the_folders(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    for stem in ("x1", "x2"):
        lq = random_rgb(rng, 6, 7)
        write_rgb(tmp_path / "lq" / f"{stem}.png", lq)
        write_rgb(tmp_path / "gt" / f"{stem}.png", np.repeat(np.repeat(lq, 4, 0), 4, 1))
    make_lmdb(tmp_path / "gt", tmp_path / "gt.lmdb", progress=False)
    make_lmdb(tmp_path / "lq", tmp_path / "lq.lmdb", progress=False)
    for kind in ("PairedImageDataset", "RealESRGANPairedDataset"):
        common: dict[str, Any] = {"type": kind, "gt_size": 16, "use_rot": True}
        disk = build_dataset(
            dataset_options(**common, dataroot_gt=tmp_path / "gt", dataroot_lq=tmp_path / "lq"),
            seed=4,
        )
        db = build_dataset(
            dataset_options(
                **common,
                backend="lmdb",
                dataroot_gt=tmp_path / "gt.lmdb",
                dataroot_lq=tmp_path / "lq.lmdb",
            ),
            seed=4,
        )
        assert len(db) == 2
        for item in [(0, 0), (3, 1), (5, 0)]:
            a, b = disk[item], db[item]
            assert torch.equal(a["gt"], b["gt"]) and torch.equal(a["lq"], b["lq"])
            assert b["gt_path"].endswith("gt.lmdb/" + Path(a["gt_path"]).stem)
    hr = build_dataset(
        dataset_options(
            "RealESRGANDataset",
            backend="lmdb",
            dataroot_gt=tmp_path / "gt.lmdb",
            gt_size=16,
            crop_pad_size=20,
        ),
        seed=0,
    )
    assert hr[(2, 1)]["gt"].shape == (3, 20, 20)
    make_lmdb(tmp_path / "gt", tmp_path / "other.lmdb", progress=False)
    (tmp_path / "other.lmdb" / "meta_info.txt").write_text("x1.png (24,28,3) 1\n")
    with pytest.raises(OSError, match="hold different keys"):
        build_dataset(
            dataset_options(
                "PairedImageDataset",
                phase="val",
                backend="lmdb",
                dataroot_gt=tmp_path / "other.lmdb",
                dataroot_lq=tmp_path / "lq.lmdb",
            ),
            seed=0,
        )
