"""Tests of ``degrade generate``: pairing, meta files, replay, invariance, shards, resume, errors."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from degrade.cli import main as cli_main
from degrade.dataset_io import BASICSR_META, REALESRGAN_META
from degrade.functional.sharpen import usm_sharp
from degrade.generate import GenerateError, generate_dataset
from degrade.io import read_image
from degrade.presets import load_pipeline
from degrade.records import params_from_records, read_jsonl
from degrade.seeding import derive_seed
from tests._reference import REPO_ROOT, import_reference

PRESET = "realesrgan_x4plus"
GOOD = ["a.png", "c16.png", "small.png", "sub/b gray.png"]
BAD = ["bad.png", "notes.txt"]


def _make_inputs(folder: Path) -> Path:
    """Small HR images: colour 48x40, 16-bit colour, one smaller than the crop, one gray; plus a
    corrupt PNG and a text file."""
    rng = np.random.default_rng(1)
    (folder / "sub").mkdir(parents=True)
    smooth = cv2.resize(rng.integers(0, 256, (10, 12, 3), dtype=np.uint8), (48, 40))
    cv2.imwrite(str(folder / "a.png"), smooth)
    c16 = cv2.resize(rng.integers(0, 65536, (9, 9, 3)).astype(np.uint16), (36, 44))
    cv2.imwrite(str(folder / "c16.png"), c16)
    cv2.imwrite(str(folder / "small.png"), rng.integers(0, 256, (20, 26, 3), dtype=np.uint8))
    gray = cv2.resize(rng.integers(0, 256, (8, 8), dtype=np.uint8), (64, 64))
    cv2.imwrite(str(folder / "sub" / "b gray.png"), gray)
    (folder / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (folder / "notes.txt").write_text("not an image\n")
    return folder


def _files(out: Path) -> dict[str, bytes]:
    """Every output image and result file (journals and lock excluded) with its bytes."""
    names = [p for p in out.rglob("*") if p.is_file() and "parts" not in p.parts]
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in names if p.name != ".merge.lock"}


def _temp_files(out: Path) -> list[Path]:
    return [p for p in out.rglob("*.tmp")]


def _journaled(journal: Path) -> list[dict]:
    """Records of finished pairs in a journal (failure lines left out)."""
    return [r for r in read_jsonl(journal) if not r.get("failed")]


def _run(inputs: Path, out: Path, **kwargs) -> object:
    options = {"crop": 32, "variants": 2, "seed": 3, "progress": False, "report": lambda _: None}
    options.update(kwargs)
    return generate_dataset(inputs, out, preset=PRESET, **options)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _make_inputs(tmp_path_factory.mktemp("hr") / "hr")


@pytest.fixture(scope="module")
def baseline(inputs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("baseline") / "out"
    _run(inputs, out, workers=0, batch_size=8)
    return out


def _cli(inputs: Path, out: Path, *extra: str) -> list[str]:
    return [
        "generate",
        "--input",
        str(inputs),
        "--output",
        str(out),
        "--preset",
        PRESET,
        "--seed",
        "3",
        "--crop",
        "32",
        "--variants",
        "2",
        "--quiet",
        *extra,
    ]


# --------------------------------------------------------------------------------------------- #


def test_outputs_pair_and_records_describe_them(inputs, tmp_path, capsys):
    out = tmp_path / "out"
    status = cli_main(_cli(inputs, out))
    err = capsys.readouterr().err
    assert status == 1  # two bad inputs
    for bad in BAD:
        lines = [line for line in err.splitlines() if bad in line]
        assert len(lines) == 1, err  # one line per bad input, not per variant
    assert "not a readable image" in err and "unsupported file type '.txt'" in err
    assert "2 inputs failed" in err

    stems = ["a", "c16", "small", "sub_b_gray"]  # plan order: sorted relative paths
    names = [f"{stem}_v{v}.png" for stem in stems for v in range(2)]
    assert sorted(p.name for p in (out / "gt").iterdir()) == sorted(names)
    assert sorted(p.name for p in (out / "lq").iterdir()) == sorted(names)
    records = read_jsonl(out / "params.jsonl")
    assert [Path(r["gt"]).name for r in records] == names
    assert [Path(r["lq"]).name for r in records] == names
    for r in records:
        gt, lq = read_image(out / r["gt"]), read_image(out / r["lq"])
        assert gt.shape == (1, 3, 32, 32) and lq.shape == (1, 3, 8, 8)
        assert r["key"] == derive_seed(0, r["source"], r["variant"])
        assert r["preset"] == PRESET and r["seed"] == 3 and r["gt_usm"] and r["lq_from_usm"]
        top, left = r["crop"]
        h, w = r["source_size"]
        ph, pw = r["pad"]
        assert (ph, pw) == (max(0, 32 - h), max(0, 32 - w))
        assert 0 <= top <= h + ph - 32 and 0 <= left <= w + pw - 32
    # The two variants of an image get different crops or degradations.
    by_source: dict[str, list[dict]] = {}
    for r in records:
        by_source.setdefault(r["source"], []).append(r)
    for pair in by_source.values():
        assert pair[0]["key"] != pair[1]["key"] and pair[0]["params"] != pair[1]["params"]

    # Meta files list the pairs in the same order as params.jsonl.
    basicsr = (out / BASICSR_META).read_text().splitlines()
    assert [line.split(" ")[0] for line in basicsr] == [Path(r["gt"]).name for r in records]
    assert all(line.endswith(" (32,32,3)") for line in basicsr)
    realesrgan = (out / REALESRGAN_META).read_text().splitlines()
    assert realesrgan == [f"{r['gt']}, {r['lq']}" for r in records]
    # The stored spec rebuilds the same recipe; settings are stored.
    assert load_pipeline(out / "pipeline.yaml").spec_hash == load_pipeline(PRESET).spec_hash
    assert json.loads((out / "settings.json").read_text())["crop"] == 32
    assert not _temp_files(out)


def test_replay_and_crops_match_the_source_files(inputs, baseline):
    pipe = load_pipeline(PRESET)
    records = read_jsonl(baseline / "params.jsonl")
    keys, params = params_from_records(pipe, records)
    for i, r in enumerate(records):
        gt = read_image(baseline / r["gt"])
        # The LQ is made from USM(GT) rounded to 8 bits; here the stored GT is that image.
        lq = pipe.apply(gt, params.take([i]))
        assert torch.equal(lq, read_image(baseline / r["lq"])), r["gt"]

    # Without --gt-usm the stored GT is the plain crop of the source; the LQ files are unchanged.
    plain = baseline.parent / "plain"
    _run(inputs, plain, gt_usm=False)
    for i, r in enumerate(read_jsonl(plain / "params.jsonl")):
        assert (plain / r["lq"]).read_bytes() == (baseline / r["lq"]).read_bytes()
        gt = read_image(plain / r["gt"])
        source = cv2.imread(str(inputs / r["source"]), cv2.IMREAD_UNCHANGED)
        if source.dtype == np.uint16:
            source = np.round(source / 257.0).astype(np.uint8)
        if source.ndim == 2:
            source = cv2.cvtColor(source, cv2.COLOR_GRAY2BGR)
        ph, pw = r["pad"]
        source = cv2.copyMakeBorder(source, 0, ph, 0, pw, cv2.BORDER_REFLECT_101)
        top, left = r["crop"]
        expected = cv2.cvtColor(source[top : top + 32, left : left + 32], cv2.COLOR_BGR2RGB)
        got = (gt[0].permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()
        assert np.array_equal(got, expected), r["gt"]
        sharpened = torch.round(usm_sharp(gt) * 255) / 255
        lq = pipe.apply(sharpened, params.take([i]))
        assert torch.equal(lq, read_image(plain / r["lq"]))
        assert torch.equal(sharpened, read_image(baseline / r["gt"]))
    assert keys.tolist() == [r["key"] for r in records]


def test_whole_images_are_modcropped(inputs, tmp_path):
    out = tmp_path / "whole"
    summary = _run(inputs, out, crop=0, variants=1, batch_size=4)
    assert summary.failed == 2
    pipe = load_pipeline(PRESET)
    for r in read_jsonl(out / "params.jsonl"):
        h, w = r["source_size"]
        assert r["gt_size"] == [h - h % 4, w - w % 4] and r["crop"] is None
        gt, lq = read_image(out / r["gt"]), read_image(out / r["lq"])
        assert gt.shape[-2:] == (h - h % 4, w - w % 4)
        assert lq.shape[-2:] == ((h - h % 4) // 4, (w - w % 4) // 4)
        _, params = params_from_records(pipe, [r])
        assert torch.equal(pipe.apply(gt, params), lq)
    # 26x20 -> 24x20: the bottom/right remainder is dropped.
    small = next(r for r in read_jsonl(out / "params.jsonl") if r["source"] == "small.png")
    assert small["gt_size"] == [20, 24]


@pytest.mark.slow
def test_outputs_do_not_depend_on_workers_or_batch_size(inputs, baseline, tmp_path):
    expected = _files(baseline)
    for workers, batch in [(1, 1), (2, 3)]:
        out = tmp_path / f"w{workers}b{batch}"
        summary = _run(inputs, out, workers=workers, batch_size=batch)
        assert summary.generated == 8 and summary.failed == 2
        got = _files(out)
        assert got.keys() == expected.keys()
        for name, data in expected.items():
            if name != "settings.json":  # holds the absolute input path only
                assert got[name] == data, (workers, batch, name)


def test_shards_union_equals_the_unsharded_run(inputs, baseline, tmp_path):
    out = tmp_path / "sharded"
    first = _run(inputs, out, shard=(0, 2))
    after_first = _files(out)
    second = _run(inputs, out, shard=(1, 2))
    assert not first.complete and second.complete
    assert first.generated + second.generated == 8
    assert 0 < first.generated < 8
    # Each bad input is reported by exactly one shard.
    assert first.failed + second.failed == 2
    gt_first = {n for n in after_first if n.startswith("gt/")}
    assert len(gt_first) == first.generated
    assert _files(out) == _files(baseline)


def test_adding_an_image_keeps_every_other_output(inputs, baseline, tmp_path):
    partial = tmp_path / "partial_inputs"
    shutil.copytree(inputs, partial)
    (partial / "a.png").unlink()
    out = tmp_path / "out"
    _run(partial, out)
    before = _files(out)
    shutil.copy(inputs / "a.png", partial / "a.png")
    summary = _run(partial, out)
    assert summary.generated == 2 and summary.skipped == 6  # only a.png's two variants
    after = _files(out)
    assert all(after[n] == d for n, d in before.items() if n.startswith(("gt/", "lq/")))
    reference = _files(baseline)
    assert {n: d for n, d in after.items() if n != "settings.json"} == {
        n: d for n, d in reference.items() if n != "settings.json"
    }


def test_meta_file_input_with_root(inputs, baseline, tmp_path):
    meta = tmp_path / "meta" / "list.txt"
    meta.parent.mkdir()
    meta.write_text("# HR list\nsub/b gray.png (64,64,1)\n\nmissing.png (1,1,3)\na.png\na.png\n")
    # Paths with spaces cannot be written in a whitespace-split meta file: b is read as "sub/b".
    out = tmp_path / "out"
    summary = _run(meta, out, input_root=inputs)
    reasons = "\n".join(summary.failures)
    assert "missing.png: no such file" in reasons and "a.png: listed twice" in reasons
    assert "sub/b: unsupported file type" in reasons
    got, reference = _files(out), _files(baseline)
    for name in ("gt/a_v0.png", "lq/a_v0.png", "gt/a_v1.png", "lq/a_v1.png"):
        assert got[name] == reference[name]
    assert [r["source"] for r in read_jsonl(out / "params.jsonl")] == ["a.png", "a.png"]
    with pytest.raises(GenerateError, match="input-root"):
        _run(inputs, tmp_path / "x", input_root=inputs)


def test_option_errors(inputs, tmp_path, capsys):
    with pytest.raises(GenerateError, match="scale 2 does not match the scale 4"):
        _run(inputs, tmp_path / "o1", scale=2)
    with pytest.raises(GenerateError, match="not a multiple of the scale 4"):
        _run(inputs, tmp_path / "o2", crop=30)
    with pytest.raises(GenerateError, match="no such folder or meta file"):
        _run(tmp_path / "nowhere", tmp_path / "o3")
    with pytest.raises(GenerateError, match="--preset"):
        generate_dataset(inputs, tmp_path / "o4", preset="realesrgan_x5")
    assert cli_main([*_cli(inputs, tmp_path / "o5"), "--scale", "2"]) == 2
    assert cli_main([*_cli(inputs, tmp_path / "o6"), "--shard", "2/2"]) == 2
    err = capsys.readouterr().err
    assert "--scale 2 does not match" in err and "--shard 2/2" in err


def test_rerun_with_other_settings_is_an_error(inputs, tmp_path):
    out = tmp_path / "out"
    _run(inputs, out, variants=1)
    before = _files(out)
    with pytest.raises(GenerateError, match=r"different settings \(crop: 32 -> 16"):
        _run(inputs, out, variants=1, crop=16)
    with pytest.raises(GenerateError, match="seed: 3 -> 4"):
        _run(inputs, out, variants=1, seed=4)
    assert _files(out) == before
    # The same settings resume (nothing to do); workers and batch size are not settings.
    summary = _run(inputs, out, variants=1, batch_size=2)
    assert summary.generated == 0 and summary.skipped == 4 and summary.failed == 2


def _subprocess_cli(
    inputs: Path, out: Path, env: dict[str, str], *extra: str
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "degrade.cli", *_cli(inputs, out, "--batch-size", "2", *extra)],
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
def test_resume_after_sigkill_hook_and_torn_writes(inputs, baseline, tmp_path):
    out = tmp_path / "out"
    proc = _subprocess_cli(inputs, out, {"DEGRADE_GENERATE_KILL_AFTER": "3"})
    proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGKILL
    journal = out / "parts" / "shard-0-of-1.jsonl"
    done = _journaled(journal)
    assert 3 <= len(done) < 8
    assert not (out / "params.jsonl").exists()
    # Simulate a kill in the middle of the next writes: a torn temp file of an unfinished pair
    # and a half-written journal line.
    assert "gt/sub_b_gray_v1.png" not in {r["gt"] for r in done}
    torn = out / "gt" / ".sub_b_gray_v1.png.tmp"
    torn.write_bytes(b"\x89PNG partial")
    with journal.open("a") as handle:
        handle.write('{"key": 12, "seed": 3, "par')
    rerun = _subprocess_cli(inputs, out, {})
    _, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 1, err.decode()
    assert not _temp_files(out)
    got, expected = _files(out), _files(baseline)
    assert got.keys() == expected.keys()
    for name in expected:
        if name != "settings.json":
            assert got[name] == expected[name], name
    assert len(_journaled(journal)) == 8


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.slow
def test_resume_after_external_kill(inputs, baseline, tmp_path):
    """kill -9 of the main process with two workers: the workers end, the rerun completes."""
    out = tmp_path / "out"
    proc = _subprocess_cli(inputs, out, {}, "--workers", "2")
    journal = out / "parts" / "shard-0-of-1.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if (out / "lq").is_dir() and any((out / "lq").iterdir()):
            break
        time.sleep(0.005)
    workers = _children(proc.pid)
    if proc.poll() is None:
        assert len(workers) >= 2  # the two workers (and the resource tracker)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    deadline = time.monotonic() + 20
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers), "worker processes outlived the killed run"
    killed_early = not (out / "params.jsonl").exists()
    rerun = _subprocess_cli(inputs, out, {})
    rerun.communicate(timeout=300)
    assert rerun.returncode == 1
    assert not _temp_files(out)
    got, expected = _files(out), _files(baseline)
    assert {n: d for n, d in got.items() if n != "settings.json"} == {
        n: d for n, d in expected.items() if n != "settings.json"
    }
    assert len(_journaled(journal)) == 8
    if not killed_early:
        pytest.skip("the first run finished before it could be killed")


@pytest.mark.reference
def test_meta_files_load_with_basicsr_and_realesrgan(baseline):
    data_util = import_reference("basicsr.data.data_util")
    paths = data_util.paired_paths_from_meta_info_file(
        [str(baseline / "lq"), str(baseline / "gt")],
        ["lq", "gt"],
        str(baseline / BASICSR_META),
        "{}",
    )
    records = read_jsonl(baseline / "params.jsonl")
    assert [Path(p["gt_path"]) for p in paths] == [baseline / r["gt"] for r in records]
    assert [Path(p["lq_path"]) for p in paths] == [baseline / r["lq"] for r in records]

    paired = import_reference("realesrgan.data.realesrgan_paired_dataset")
    opt = {
        "dataroot_gt": str(baseline),
        "dataroot_lq": str(baseline),
        "meta_info": str(baseline / REALESRGAN_META),
        "io_backend": {"type": "disk"},
        "gt_size": 32,
        "use_hflip": False,
        "use_rot": False,
        "scale": 4,
        "phase": "train",
    }
    dataset = paired.RealESRGANPairedDataset(opt)
    assert len(dataset) == len(records)
    for i, r in enumerate(records):
        item = dataset[i]
        assert Path(item["gt_path"]) == baseline / r["gt"]
        # Its reader (cv2, BGR -> RGB) gives back our files.
        assert torch.equal(item["lq"], read_image(baseline / r["lq"])[0])
        assert torch.equal(item["gt"], read_image(baseline / r["gt"])[0])


@pytest.mark.parametrize("image_format", ["jpg", "webp"])
def test_lossy_formats(inputs, tmp_path, image_format):
    out = tmp_path / "out"
    _run(inputs, out, variants=1, image_format=image_format, quality=80)
    records = read_jsonl(out / "params.jsonl")
    assert len(records) == 4
    for r in records:
        assert r["gt"].endswith(f".{image_format}") and r["lq"].endswith(f".{image_format}")
        assert read_image(out / r["lq"]).shape == (1, 3, 8, 8)
    assert (out / REALESRGAN_META).read_text().splitlines()[0].endswith(f".{image_format}")
    with pytest.raises(GenerateError, match="quality: 80 -> 90"):
        _run(inputs, out, variants=1, image_format=image_format, quality=90)
