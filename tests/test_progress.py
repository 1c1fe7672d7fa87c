"""Progress: bars built at fit time with live smoothed loss, one table row per epoch, quiet."""

from __future__ import annotations

import pytest
import tqdm.auto
from conftest import mlp

import tflearner.learner
from tflearner import Learner, ProgressCallback
from tflearner.callbacks.progress import SweepProgress, default_bar, format_time


class FakeBar:
    instances: list = []
    lines: list = []

    def __init__(self, total=None, desc="", **kw):
        self.total, self.desc, self.n, self.postfix, self.closed = total, desc, 0, {}, False
        FakeBar.instances.append(self)

    def update(self, n=1):
        self.n += n

    def set_postfix(self, refresh=True, **kw):
        self.postfix = kw

    def close(self):
        self.closed = True

    @classmethod
    def write(cls, line):
        cls.lines.append(line)


@pytest.fixture(autouse=True)
def _reset_fake():
    FakeBar.instances, FakeBar.lines = [], []


def test_bars_and_table(blob_data):
    learn = Learner(mlp(), blob_data, quiet=True)
    cb = ProgressCallback(bar=FakeBar)
    assert FakeBar.instances == []  # nothing built in __init__
    learn.fit(2, callbacks=[cb])
    epoch_bar, b0, b1 = FakeBar.instances
    assert epoch_bar.total == 2 and epoch_bar.n == 2 and epoch_bar.closed
    assert (b0.total, b0.n, b0.desc) == (8, 8, "epoch 0") and b1.closed
    assert b1.postfix["loss"] == f"{learn.recorder.smooth_losses[-1]:.4f}"
    header, row0, row1 = FakeBar.lines
    assert header.split() == ["epoch", "train_loss", "valid_loss", "accuracy", "time"]
    cells = row1.split()
    assert cells[0] == "1"
    assert float(cells[2]) == pytest.approx(learn.recorder.values[1]["valid_loss"], abs=1e-6)
    assert cells[-1].count(":") == 1


def test_default_bar_is_tqdm_auto_resolved_when_the_fit_starts(blob_data, capsys):
    assert default_bar() is tqdm.auto.tqdm
    cb = ProgressCallback()
    assert cb.bar_cls is None and cb.write is None  # nothing resolved in __init__
    Learner(mlp(), blob_data, quiet=True).fit(1, callbacks=[cb])
    assert cb.bar_cls is tqdm.auto.tqdm and cb.write == tqdm.auto.tqdm.write
    out, err = capsys.readouterr()
    assert "train_loss" in out and "epoch 0:" in err
    sweep = SweepProgress(total=3)
    sweep.before_fit(None)
    assert isinstance(sweep.bar, tqdm.auto.tqdm) and sweep.bar.total == 3
    sweep.after_fit(None)


def test_default_progress_and_quiet_disables_it(blob_data, monkeypatch, capsys):
    made = []
    monkeypatch.setattr(tflearner.learner, "ProgressCallback",
                        lambda: made.append(1) or ProgressCallback(bar=FakeBar))
    learn = Learner(mlp(), blob_data)
    learn.fit(1)
    assert made == [1] and len(FakeBar.lines) == 2
    learn.fit(1, quiet=True)
    assert made == [1]
    Learner(mlp(), blob_data, quiet=True).fit(1)
    assert made == [1]


def test_real_tqdm_writes_bars_to_stderr_and_rows_to_stdout(blob_data, capsys):
    Learner(mlp(), blob_data).fit(1)
    out, err = capsys.readouterr()
    assert "train_loss" in out and "valid_loss" in out
    assert "epoch:" in err and "epoch 0:" in err  # the epoch bar and the batch bar


@pytest.mark.parametrize("seconds,text", [(0, "00:00"), (59.6, "01:00"), (125, "02:05"),
                                          (3725, "1:02:05")])
def test_format_time(seconds, text):
    assert format_time(seconds) == text
