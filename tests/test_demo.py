"""The README's main job (python -m tflearner) runs offline on the shipped sample."""

from __future__ import annotations

import matplotlib.image as mpimg

from tflearner.demo import main


def test_main_job_runs_offline_and_writes_its_outputs(tmp_path, capsys):
    assert main(["--epochs", "1", "--out", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "lr_find: SuggestedLRs(robust=" in out
    assert "fit_one_cycle(1, max_lr=" in out and "test: loss" in out
    for name in ("lr_find.png", "loss.png", "sched.png"):
        image = mpimg.imread(tmp_path / name)
        assert image.shape[0] > 200 and image.shape[1] > 300  # a real figure, not an empty file
    assert (tmp_path / "lenet.npz").stat().st_size > 62006 * 4


def test_main_job_with_a_fixed_lr(tmp_path, capsys):
    assert main(["--epochs", "1", "--lr", "0.1", "--out", str(tmp_path), "--quiet"]) == 0
    assert "fit_one_cycle(1, max_lr=0.1)" in capsys.readouterr().out
