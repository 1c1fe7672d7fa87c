"""The README's main job and the example run end to end on the shipped sample (offline)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(args, tmp_path):
    env = {**os.environ, "TFLEARNER_DATA": str(tmp_path / "nowhere"), "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)


def test_main_job_trains_on_the_sample_and_writes_outputs(tmp_path):
    res = _run(["-m", "tflearner", "--epochs", "2", "--out", "o"], tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "train_loss" in res.stdout and "valid_loss" in res.stdout
    assert "test: loss" in res.stdout and "(400 images)" in res.stdout
    assert "epoch" in res.stderr  # progress bars go to stderr
    assert "lr_find: SuggestedLRs(robust=" in res.stdout
    for name in ("lr_find.png", "loss.png", "sched.png", "lenet.npz"):
        assert (tmp_path / "o" / name).stat().st_size > 1000


def test_example_runs_on_the_sample(tmp_path):
    res = _run([str(ROOT / "examples" / "fit_lenet_cifar10.py"), "--sample", "--epochs", "1",
                "--lr", "0.05"], tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "test: {'loss':" in res.stdout
