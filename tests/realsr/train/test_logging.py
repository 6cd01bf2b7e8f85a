"""Training logs: the console line, train.log, metrics.jsonl, TensorBoard, wandb, ranks."""

from __future__ import annotations

import json
import re
import sys
import types
from pathlib import Path
from typing import Any

import pytest
import torch

from realsr.config import TrainOptions, options_from_dict
from realsr.train.logging import ETA_WINDOW, TrainLogger, format_duration


def make_options(tmp_path: Path, **logger: Any) -> TrainOptions:
    return options_from_dict(
        {
            "name": "train_x4",
            "model_type": "SRModel",
            "scale": 4,
            "datasets": {
                "train": {
                    "name": "t",
                    "type": "PairedImageDataset",
                    "dataroot_gt": "gt",
                    "dataroot_lq": "lq",
                    "gt_size": 16,
                }
            },
            "network_g": {"type": "SRCNN"},
            "train": {
                "optim_g": {"type": "Adam", "lr": 1e-4},
                "total_iter": 400_000,
                "pixel_opt": {"type": "L1Loss"},
            },
            "logger": logger,
            "path": {"experiments_root": str(tmp_path / "exp")},
        }
    )


def test_format_duration() -> None:
    assert format_duration(0) == "00:00:00"
    assert format_duration(3599.99) == "00:59:59"
    assert format_duration(86400 * 2 + 3661) == "2d 01:01:01"
    assert format_duration(-5) == "00:00:00"


def test_iteration_line_file_and_jsonl(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    options = make_options(tmp_path)
    exp = options.experiment_dir
    with TrainLogger(options, experiment_dir=exp, rank=0) as logger:
        logger.log_iteration(
            1200, {"l_g_pix": 0.012345, "l_g_gan": float("nan")}, {"g": 1e-4}, 0.01, 0.31
        )
    line = capsys.readouterr().out.strip()
    # 0.32 s per iteration for the 398,800 iterations left: 127,616 s
    assert line == (
        "[train_x4][iter   1,200/400,000] lr_g 1.00e-04 l_g_pix 1.2345e-02 l_g_gan nan "
        "data 0.010s step 0.310s eta 1d 11:26:56"
    )
    log = (exp / "train.log").read_text().splitlines()
    assert len(log) == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO: " + re.escape(line), log[0])
    (record,) = [json.loads(x) for x in (exp / "metrics.jsonl").read_text().splitlines()]
    assert record["iteration"] == 1200
    assert record["losses"] == {"l_g_pix": 0.012345, "l_g_gan": None}  # non-finite -> null
    assert record["lrs"] == {"g": 1e-4}
    assert record["data_time"] == 0.01 and record["step_time"] == 0.31
    assert record["eta_s"] == pytest.approx(0.32 * 398_800)


def test_eta_is_a_moving_average(tmp_path: Path) -> None:
    options = make_options(tmp_path)
    with TrainLogger(options, experiment_dir=options.experiment_dir) as logger:
        for i in range(ETA_WINDOW):
            logger.log_iteration(100 * (i + 1), {}, {}, 0.0, 10.0)  # slow start ...
        for i in range(ETA_WINDOW):
            logger.log_iteration(100 * (ETA_WINDOW + i + 1), {}, {}, 0.5, 0.5)  # ... then 1 s/it
        assert logger.eta_seconds(10_000) == pytest.approx(390_000.0)
        assert "eta 4d 12:20:00" in logger.format_iteration(10_000, {}, {}, 0.5, 0.5, 390_000.0)


def test_appends_across_runs_and_flushes(tmp_path: Path) -> None:
    options = make_options(tmp_path)
    exp = options.experiment_dir
    first = TrainLogger(options, experiment_dir=exp)
    first.info("first run")
    first.warning("careful")
    # flushed per line: readable before close
    assert (exp / "train.log").read_text().count("\n") == 2
    first.close()
    with TrainLogger(options, experiment_dir=exp) as second:
        second.info("resumed")
        second.log_iteration(1, {"l_g_pix": 1.0}, {"g": 1e-4}, 0.0, 0.0)
        second.log_validation(1, {"Set5": {"psnr": 30.0}})
    text = (exp / "train.log").read_text()
    assert [m.split(": ", 1)[0].split()[-1] for m in text.splitlines()[:3]] == [
        "INFO",
        "WARNING",
        "INFO",
    ]
    assert "first run" in text and "careful" in text and "resumed" in text
    assert len((exp / "metrics.jsonl").read_text().splitlines()) == 2


def test_validation_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    options = make_options(tmp_path)
    with TrainLogger(options, experiment_dir=options.experiment_dir) as logger:
        logger.log_validation(
            5000,
            {"Set5": {"psnr": 28.123456, "niqe": 5.5}, "Set14": {"psnr": 25.0}},
            best={"Set5": {"psnr": (28.5, 4000)}},
        )
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "[train_x4][iter 5,000] validation Set5: psnr 28.1235 (best 28.5000 @ iter 4,000), niqe 5.5000",
        "[train_x4][iter 5,000] validation Set14: psnr 25.0000",
    ]
    record = json.loads((options.experiment_dir / "metrics.jsonl").read_text())
    assert record == {
        "iteration": 5000,
        "time": record["time"],
        "validation": {"Set5": {"psnr": 28.123456, "niqe": 5.5}, "Set14": {"psnr": 25.0}},
    }


def test_other_ranks_write_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    options = make_options(tmp_path, use_tb_logger=True)
    with TrainLogger(options, experiment_dir=options.experiment_dir, rank=1) as logger:
        logger.info("hello")
        logger.log_iteration(1, {"l_g_pix": 1.0}, {"g": 1e-4}, 0.0, 0.0)
        logger.log_validation(1, {"Set5": {"psnr": 30.0}})
        logger.add_images("sr", torch.zeros(1, 3, 4, 4), 1)
        logger.warning("rank trouble")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == "[rank 1] WARNING: rank trouble"
    assert not options.experiment_dir.exists()


def test_tensorboard_scalars_and_images(tmp_path: Path) -> None:
    event_accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator"
    )
    options = make_options(tmp_path, use_tb_logger=True)
    with TrainLogger(options, experiment_dir=options.experiment_dir) as logger:
        logger.log_iteration(100, {"l_g_pix": 0.5, "out_d_real": 2.0}, {"g": 1e-4}, 0.1, 0.2)
        logger.log_iteration(200, {"l_g_pix": 0.25, "out_d_real": 1.0}, {"g": 5e-5}, 0.1, 0.2)
        logger.log_validation(200, {"Set5": {"psnr": 30.0}})
        logger.add_images("val/sr", torch.rand(2, 3, 8, 8), 200)
    acc = event_accumulator.EventAccumulator(
        str(options.experiment_dir / "tb"), size_guidance={"images": 0}
    )
    acc.Reload()
    tags = acc.Tags()
    assert {"losses/l_g_pix", "out_d_real", "lr/g", "time/data", "time/step"} <= set(
        tags["scalars"]
    )
    assert [(e.step, e.value) for e in acc.Scalars("losses/l_g_pix")] == [(100, 0.5), (200, 0.25)]
    assert [e.value for e in acc.Scalars("lr/g")] == pytest.approx([1e-4, 5e-5])
    assert [(e.step, e.value) for e in acc.Scalars("metrics/Set5/psnr")] == [(200, 30.0)]
    (image,) = acc.Images("val/sr")  # the batch as one grid image
    assert image.step == 200 and image.width > image.height >= 8


def test_missing_tensorboard_is_a_notice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import raises
    options = make_options(tmp_path, use_tb_logger=True)
    with TrainLogger(options, experiment_dir=options.experiment_dir) as logger:
        logger.log_iteration(1, {"l_g_pix": 1.0}, {"g": 1e-4}, 0.0, 0.0)
        logger.add_images("sr", torch.zeros(1, 3, 4, 4), 1)
    out = capsys.readouterr().out
    assert out.count("tensorboard not installed; logger.use_tb_logger ignored") == 1
    assert not (options.experiment_dir / "tb").exists()


def test_missing_wandb_is_a_notice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "wandb", None)
    options = make_options(tmp_path, wandb={"project": "sr"})
    with TrainLogger(options, experiment_dir=options.experiment_dir):
        pass
    assert "wandb not installed; logger.wandb ignored" in capsys.readouterr().out


def test_wandb_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, Any, Any]] = []

    class Run:
        id = "abc123"

        def log(self, data: dict[str, float], step: int) -> None:
            calls.append(("log", data, step))

        def finish(self) -> None:
            calls.append(("finish", None, None))

    def init(**kwargs: Any) -> Run:
        calls.append(("init", kwargs, None))
        return Run()

    monkeypatch.setitem(sys.modules, "wandb", types.SimpleNamespace(init=init))
    options = make_options(tmp_path, wandb={"project": "sr", "resume_id": "abc123"})
    with TrainLogger(options, experiment_dir=options.experiment_dir) as logger:
        logger.log_iteration(10, {"l_g_pix": 0.5}, {"g": 1e-4}, 0.1, 0.2)
        logger.log_validation(10, {"Set5": {"psnr": 30.0}})
    init_kwargs = calls[0][1]
    assert calls[0][0] == "init"
    assert init_kwargs["project"] == "sr" and init_kwargs["name"] == "train_x4"
    assert init_kwargs["id"] == "abc123" and init_kwargs["resume"] == "allow"
    assert init_kwargs["config"]["train"]["total_iter"] == 400_000
    assert calls[1] == (
        "log",
        {"losses/l_g_pix": 0.5, "lr/g": 1e-4, "time/data": 0.1, "time/step": 0.2},
        10,
    )
    assert calls[2] == ("log", {"metrics/Set5/psnr": 30.0}, 10)
    assert calls[3][0] == "finish" and len(calls) == 4
