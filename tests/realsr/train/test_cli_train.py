"""``realsr train``: a 2-iteration CPU run that resumes to 4, overrides, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from realsr.cli import main

from ._toy import make_images, write_options


@pytest.fixture
def options_file(tmp_path: Path) -> Path:
    make_images(tmp_path / "hr")
    return write_options(tmp_path, train__total_iter=2)


def test_train_two_iterations_then_auto_resume_to_four(
    options_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exp = options_file.parent / "exp"
    assert main(["train", "-opt", str(options_file)]) == 0
    assert sorted(p.name for p in (exp / "training_states").iterdir()) == ["2.state"]
    assert (exp / "models" / "net_g_2.pth").is_file()
    code = main(
        ["train", "-opt", str(options_file), "--auto-resume", "--set", "train.total_iter=4"]
    )
    assert code == 0
    assert sorted(p.name for p in (exp / "training_states").iterdir()) == ["2.state", "4.state"]
    log = (exp / "train.log").read_text()
    assert "resuming from" in log and "2.state" in log
    assert "[iter 4/4]" in capsys.readouterr().out
    assert not list(options_file.parent.glob("exp_archived_*"))
    saved = yaml.safe_load((exp / "options.yml").read_text())
    assert saved["train"]["total_iter"] == 4


def test_force_yml_and_basicsr_spelling_of_auto_resume(options_file: Path) -> None:
    exp = options_file.parent / "exp"
    assert main(["train", "-opt", str(options_file), "--force_yml", "train:total_iter=1"]) == 0
    assert sorted(p.name for p in (exp / "training_states").iterdir()) == ["1.state"]
    assert main(["train", "-opt", str(options_file), "--auto_resume"]) == 0
    assert sorted(p.name for p in (exp / "training_states").iterdir()) == ["1.state", "2.state"]


def test_config_error_prints_one_line_and_exits_2(
    options_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["train", "-opt", str(options_file), "--set", "train.total_iterr=3"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("realsr train: error: ")
    assert "train.total_iterr" in err and "total_iter" in err
    assert not (options_file.parent / "exp").exists()


def test_missing_pretrained_file_names_the_file_and_the_key(
    options_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = options_file.parent / "nope" / "net_g.pth"
    code = main(["train", "-opt", str(options_file), "--set", f"path.pretrain_network_g={missing}"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert "path.pretrain_network_g" in err and str(missing) in err
    assert not (options_file.parent / "exp").exists()  # a failed start leaves no folder behind


def test_debug_renames_the_run_and_logs_every_iteration(
    options_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(options_file.parent)
    args = ["train", "-opt", str(options_file), "--debug", "--set", "path.experiments_root=null"]
    assert main(args) == 0
    exp = options_file.parent / "experiments" / "debug_toy"
    saved = yaml.safe_load((exp / "options.yml").read_text())
    assert saved["name"] == "debug_toy"
    assert saved["logger"]["print_freq"] == 1 and saved["logger"]["save_checkpoint_freq"] == 8
    assert (exp / "models" / "net_g_2.pth").is_file()  # the final iteration is always saved
