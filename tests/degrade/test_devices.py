"""Command-line device names are checked before any work starts, with one-line errors."""

from __future__ import annotations

import argparse

import pytest
import torch

from degrade.cli import main as degrade_main
from degrade.devices import check_device, default_device, device_argument
from realsr.cli import main as realsr_main


def test_cpu_is_canonical_and_unknown_names_are_rejected() -> None:
    assert check_device("cpu") == "cpu"
    for bad in ("gpu", "cuda:x", ""):
        with pytest.raises(ValueError, match="unknown device"):
            check_device(bad)


def test_cuda_must_exist_and_its_index_must_be_in_range(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match=r"device 'cuda': no cuda device on this machine"):
        check_device("cuda")
    assert default_device() == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert check_device("cuda") == "cuda"
    assert check_device("cuda:1") == "cuda:1"
    with pytest.raises(ValueError, match=r"device 'cuda:2': this machine has 2 cuda device\(s\)"):
        check_device("cuda:2")
    assert default_device() == "cuda"


def test_argparse_type_turns_errors_into_usage_errors() -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="unknown device 'tpu0'"):
        device_argument("tpu0")


@pytest.mark.parametrize(
    ("main", "argv"),
    [
        (realsr_main, ["zssr", "-i", "in.png", "-o", "out.png"]),
        (realsr_main, ["infer", "-i", "in.png", "-o", "out", "-m", "net.pth"]),
        (realsr_main, ["evaluate", "-m", "bicubic", "-s", "2", "--data", "hr"]),
        (degrade_main, ["generate", "--input", "hr", "--output", "out"]),
    ],
)
def test_commands_reject_a_bad_device_in_one_line(
    main: object, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--device", "gpu"])  # type: ignore[operator]
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].endswith(
        "argument --device: unknown device 'gpu' (expected cpu, cuda, cuda:1, mps, ...)"
    )
