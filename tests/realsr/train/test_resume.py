"""Resume: state files, auto-resume, exactness of a resumed run, and a crash mid-write."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from realsr.train import state as st

from ._toy import REPO_ROOT, make_images, run_trainer, toy_options, write_options


@pytest.fixture
def root(tmp_path: Path) -> Path:
    make_images(tmp_path / "hr")
    return tmp_path


# --------------------------------------------------------------------------------------------
# State files


def test_rng_state_round_trips_through_a_weights_only_file(tmp_path: Path) -> None:
    st.seed_everything(3)
    saved = st.rng_state()
    path = st.save_state(tmp_path, 1, {"rng": [saved]})
    expected = (torch.rand(4), np.random.rand(3), random.random(), np.random.randn())  # noqa: NPY002
    st.seed_everything(99)
    st.set_rng_state(st.load_state(path)["rng"][0])
    again = (torch.rand(4), np.random.rand(3), random.random(), np.random.randn())  # noqa: NPY002
    for a, b in zip(expected, again, strict=True):
        assert np.array_equal(np.asarray(a), np.asarray(b))


def test_find_resume_state_skips_temporaries_and_falls_back_from_a_corrupt_file(
    tmp_path: Path,
) -> None:
    for it in (2, 4):
        st.save_state(tmp_path, it, {"iter": it})
    (tmp_path / ".6.state.abc.tmp").write_bytes(b"half a state")
    (tmp_path / "8.state.partial").write_bytes(b"not a state name")
    found = st.find_resume_state(tmp_path, warn=pytest.fail)
    assert found is not None and found[0].name == "4.state" and found[1]["iter"] == 4
    (tmp_path / "4.state").write_bytes(b"\x80garbage")
    warnings: list[str] = []
    found = st.find_resume_state(tmp_path, warn=warnings.append)
    assert found is not None and found[0].name == "2.state"
    assert len(warnings) == 1 and "4.state" in warnings[0] and "previous" in warnings[0]
    st.remove_temporaries(tmp_path)
    assert not (tmp_path / ".6.state.abc.tmp").exists()


def test_load_state_refuses_foreign_files(tmp_path: Path) -> None:
    torch.save({"iter": 3}, tmp_path / "3.state")
    with pytest.raises(st.StateError, match=r"3\.state: not a realsr training state"):
        st.load_state(tmp_path / "3.state")
    with pytest.raises(FileNotFoundError, match="nowhere.state"):
        st.load_state(tmp_path / "nowhere.state")


def test_prune_keeps_the_newest(tmp_path: Path) -> None:
    for it in (5, 10, 15, 20):
        (tmp_path / f"net_g_{it}.pth").write_bytes(b"")
    (tmp_path / "net_g_latest.pth").write_bytes(b"")
    (tmp_path / "net_g_best_psnr.pth").write_bytes(b"")
    st.prune(tmp_path, r"net_g_(\d+)\.pth", 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "net_g_15.pth",
        "net_g_20.pth",
        "net_g_best_psnr.pth",
        "net_g_latest.pth",
    ]


# --------------------------------------------------------------------------------------------
# Resuming a run


def _weights(path: Path) -> dict[str, Any]:
    return torch.load(path, weights_only=True, map_location="cpu")


def _assert_same_weights(a: Path, b: Path) -> None:
    wa, wb = _weights(a), _weights(b)
    for key in ("params", "params_ema"):
        assert wa[key].keys() == wb[key].keys()
        for name in wa[key]:
            assert torch.equal(wa[key][name], wb[key][name]), (key, name)


def _realesrnet(root: Path, exp: str, **changes: Any) -> Any:
    """RealESRNetModel with Real-ESRGAN's second-order degradation on 64 px crops, a tiny
    RRDBNet, EMA, a MultiStepLR schedule and the training-pair pool (its state is resumed)."""
    return toy_options(
        root,
        model_type="RealESRNetModel",
        scale=4,
        degradation="realesrgan_x4plus",
        gt_size=32,
        use_pair_pool=True,
        queue_size=4,
        datasets__train__crop_pad_size=64,
        datasets__train__gt_size=32,
        network_g={
            "type": "RRDBNet",
            "num_in_ch": 3,
            "num_out_ch": 3,
            "scale": 4,
            "num_feat": 8,
            "num_block": 1,
            "num_grow_ch": 4,
        },
        path__experiments_root=str(root / exp),
        **changes,
    )


def test_resumed_run_logs_exactly_the_losses_of_an_uninterrupted_run(tmp_path: Path) -> None:
    """RealESRNetModel: 2 iterations, stop, resume to 4 (2 iterations per epoch, so the resumed
    part starts a new epoch). The uninterrupted run loads data in the main process, the
    interrupted one with 2 workers: neither the interruption nor the worker count may change a
    single logged value."""
    from realsr.train.trainer import Trainer

    make_images(tmp_path / "hr", count=4, size=64)
    straight = Trainer(_realesrnet(tmp_path, "a", train__total_iter=4))
    straight.run()
    changes = {"datasets__train__num_worker_per_gpu": 2}
    first = Trainer(_realesrnet(tmp_path, "b", train__total_iter=2, **changes))
    first.run()
    resumed = Trainer(_realesrnet(tmp_path, "b", train__total_iter=4, **changes), auto_resume=True)
    resumed.run()
    assert first.iteration == 2 and resumed.start_iter == 2
    assert [h["iter"] for h in resumed.history] == [3, 4]
    assert first.history == straight.history[:2]
    assert resumed.history == straight.history[2:]  # exact equality of every logged value
    assert len({h["l_pix"] for h in straight.history}) == 4  # the losses do vary
    _assert_same_weights(
        tmp_path / "a" / "models" / "net_g_latest.pth",
        tmp_path / "b" / "models" / "net_g_latest.pth",
    )


def test_resumed_toy_run_sees_the_same_batches(tmp_path: Path) -> None:
    make_images(tmp_path / "hr")
    straight = run_trainer(
        toy_options(tmp_path, train__total_iter=6, path__experiments_root=str(tmp_path / "a"))
    )
    b = {"path__experiments_root": str(tmp_path / "b"), "logger__save_checkpoint_freq": 3}
    first = run_trainer(toy_options(tmp_path, train__total_iter=3, **b))
    resumed = run_trainer(toy_options(tmp_path, train__total_iter=6, **b), auto_resume=True)
    assert first.history + resumed.history == straight.history
    # Every sample's degradation key, iteration by iteration.
    assert [s["keys"] for s in first.task.seen + resumed.task.seen] == [
        s["keys"] for s in straight.task.seen
    ]


def test_explicit_resume_state_skips_pretrained_weights_and_keeps_the_folder(root: Path) -> None:
    run_trainer(toy_options(root, train__total_iter=2))
    state_file = root / "exp" / "training_states" / "2.state"
    seen: list[Any] = []

    from realsr.train.trainer import Trainer

    from ._toy import ToyTask

    def factory(options: Any, *, device: torch.device) -> ToyTask:
        seen.append(options.path.pretrain_network_g)
        return ToyTask(options, device=device)

    options = toy_options(
        root,
        train__total_iter=4,
        path__resume_state=str(state_file),
        path__pretrain_network_g=str(root / "missing.pth"),
    )
    trainer = Trainer(options, task_factory=factory)
    trainer.run()
    assert seen == [None]
    assert trainer.start_iter == 2 and trainer.iteration == 4
    assert not list(root.glob("exp_archived_*"))
    assert "resuming from" in (root / "exp" / "train.log").read_text()


def test_fresh_run_archives_an_existing_experiment_folder(root: Path) -> None:
    run_trainer(toy_options(root, train__total_iter=2))
    run_trainer(toy_options(root, train__total_iter=2))
    archived = list(root.glob("exp_archived_*"))
    assert len(archived) == 1
    assert (archived[0] / "training_states" / "2.state").is_file()
    assert "archived" in (root / "exp" / "train.log").read_text()


def test_auto_resume_falls_back_from_a_corrupt_newest_state_with_a_warning(root: Path) -> None:
    run_trainer(toy_options(root, train__total_iter=4))
    (root / "exp" / "training_states" / "4.state").write_bytes(b"\x80corrupt")
    trainer = run_trainer(toy_options(root, train__total_iter=4), auto_resume=True)
    assert trainer.start_iter == 2
    log = (root / "exp" / "train.log").read_text()
    assert "4.state: not a readable training state" in log
    # The rewritten 4.state is complete again.
    assert st.load_state(root / "exp" / "training_states" / "4.state")["iter"] == 4


def test_resuming_a_finished_run_does_nothing(root: Path) -> None:
    run_trainer(toy_options(root, train__total_iter=2))
    trainer = run_trainer(toy_options(root, train__total_iter=2), auto_resume=True)
    assert trainer.start_iter == trainer.iteration == 2 and trainer.history == []
    assert "nothing to do" in (root / "exp" / "train.log").read_text()


def test_missing_resume_state_file_is_a_clear_error(root: Path) -> None:
    options = toy_options(root, path__resume_state=str(root / "nope" / "8.state"))
    with pytest.raises(FileNotFoundError, match=r"path\.resume_state: .*nope/8\.state"):
        run_trainer(options)


def _train_subprocess(options_file: Path, *args: str, kill_at: int | None = None) -> int:
    env = {k: v for k, v in os.environ.items() if k != st.KILL_HOOK_ENV}
    if kill_at is not None:
        env[st.KILL_HOOK_ENV] = str(kill_at)
    env["PYTHONPATH"] = str(REPO_ROOT)
    proc = subprocess.run(
        [sys.executable, "-m", "tests.realsr.train._toy", str(options_file), *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(proc.stdout + proc.stderr)
    return proc.returncode


@pytest.mark.slow
def test_sigkill_while_writing_a_state_then_auto_resume_ends_like_an_uninterrupted_run(
    tmp_path: Path,
) -> None:
    make_images(tmp_path / "hr")
    crash = write_options(
        tmp_path, "crash.yml", train__total_iter=6, path__experiments_root=str(tmp_path / "b")
    )
    assert _train_subprocess(crash, kill_at=4) == -signal.SIGKILL
    states = tmp_path / "b" / "training_states"
    names = sorted(p.name for p in states.iterdir())
    assert len(names) == 2 and names[1] == "2.state" and names[0].startswith(".4.state.")
    assert (states / names[0]).stat().st_size > 0  # the half-written temporary file
    assert _train_subprocess(crash, "--auto-resume") == 0
    assert sorted(p.name for p in states.iterdir()) == ["2.state", "4.state", "6.state"]
    assert "resuming from" in (tmp_path / "b" / "train.log").read_text()

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in the subprocess
    try:
        run_trainer(
            toy_options(tmp_path, train__total_iter=6, path__experiments_root=str(tmp_path / "a"))
        )
    finally:
        torch.set_num_threads(threads)
    _assert_same_weights(
        tmp_path / "a" / "models" / "net_g_latest.pth",
        tmp_path / "b" / "models" / "net_g_latest.pth",
    )
