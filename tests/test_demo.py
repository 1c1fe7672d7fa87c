"""The README's main job and the ``tflearner`` command, offline on the shipped sample."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import matplotlib.image as mpimg
import pytest

from tflearner.cli import main

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}


def test_demo_runs_offline_and_writes_its_outputs(tmp_path, capsys):
    assert main(["demo", "--epochs", "1", "--out", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "lr_find: SuggestedLRs(robust=" in out
    assert "one-cycle: 1 epochs, max_lr" in out and "test: loss" in out
    for name in ("lr_find.png", "loss.png", "sched.png"):
        image = mpimg.imread(tmp_path / name)
        assert image.shape[0] > 200 and image.shape[1] > 300  # a real figure, not an empty file
    assert (tmp_path / "weights.npz").stat().st_size > 62006 * 4
    history = json.loads((tmp_path / "history.json").read_text())
    assert len(history["fit"]["losses"]) == len(history["fit"]["lrs"]) > 0
    assert history["lr_find"]["suggestions"]["robust"]["lr"] > 0
    assert 0 <= history["test"]["accuracy"] <= 1


def _cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tflearner.cli", *args], capture_output=True,
                          text=True, timeout=timeout, env=ENV)


def test_cli_lr_find_and_fit_through_a_subprocess(tmp_path):
    res = _cli("lr-find", "--data", "cifar10-sample", "--out", str(tmp_path / "a"), "--quiet",
               "--num-it", "40")
    assert res.returncode == 0, res.stderr[-2000:]
    assert (tmp_path / "a" / "lr_find.png").exists()
    assert "robust" in json.loads((tmp_path / "a" / "history.json").read_text())["lr_find"][
        "suggestions"]
    res = _cli("fit", "--data", "cifar10-sample", "--epochs", "1", "--max-lr", "0.05",
               "--opt", "adam", "--batch-size", "64", "--out", str(tmp_path / "b"), "--quiet")
    assert res.returncode == 0, res.stderr[-2000:]
    assert "one-cycle: 1 epochs, max_lr 0.05" in res.stdout
    assert not (tmp_path / "b" / "lr_find.png").exists()  # a given max_lr needs no sweep
    assert (tmp_path / "b" / "weights.npz").exists()


@pytest.mark.parametrize("args,code,words", [
    (["fit", "--max-lr", "fast"], 2, "--max-lr must be a positive number or 'suggest'"),
    (["fit", "--max-lr", "-1"], 2, "--max-lr must be a positive number"),
    (["fit", "--epochs", "0"], 2, "expected a positive integer"),
    (["teach"], 2, "invalid choice"),
    (["lr-find", "--data", "/no/such/cifar"], 3, "does not exist"),
    (["fit", "--data", "cifar10-sample", "--opt", "sgdd", "--max-lr", "0.1"], 2,
     "is not a Keras optimizer name"),
])
def test_cli_bad_arguments_exit_nonzero_with_a_message(tmp_path, args, code, words):
    res = _cli(*args, "--out", str(tmp_path)) if args != ["teach"] else _cli(*args)
    assert res.returncode == code
    assert words in res.stderr


def test_console_script_is_registered():
    from importlib.metadata import entry_points
    scripts = {ep.name: ep.value for ep in entry_points(group="console_scripts")}
    assert scripts.get("tflearner") == "tflearner.cli:main"
