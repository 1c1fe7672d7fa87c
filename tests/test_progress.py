"""Progress: bars built at fit time with live smoothed loss, one table row per epoch, quiet;
plain lines where the stream is not a terminal; the mode override (argument, environment)."""

from __future__ import annotations

import io
import re
import sys
import warnings

import pytest
import tqdm.auto
from conftest import mlp

import tflearner.learner
from tflearner import Learner, ProgressCallback
from tflearner.callbacks import progress
from tflearner.callbacks.progress import SweepProgress, default_bar, format_time, progress_mode


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


class FakeTTY(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self):
        return True


@pytest.fixture(autouse=True)
def _reset_fake(monkeypatch):
    FakeBar.instances, FakeBar.lines = [], []
    monkeypatch.delenv("TFLEARNER_PROGRESS", raising=False)  # the caller's setting, if any


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


def test_default_bar_is_tqdm_auto_resolved_when_the_fit_starts(blob_data, capsys, monkeypatch):
    monkeypatch.setenv("TFLEARNER_PROGRESS", "bar")  # capsys' stderr is no terminal
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
    monkeypatch.setattr(tflearner.training.fitting, "ProgressCallback",
                        lambda: made.append(1) or ProgressCallback(bar=FakeBar))
    learn = Learner(mlp(), blob_data)
    learn.fit(1)
    assert made == [1] and len(FakeBar.lines) == 2
    learn.fit(1, quiet=True)
    assert made == [1]
    Learner(mlp(), blob_data, quiet=True).fit(1)
    assert made == [1]


def test_real_tqdm_writes_bars_to_stderr_and_rows_to_stdout(blob_data, capsys, monkeypatch):
    monkeypatch.setenv("TFLEARNER_PROGRESS", "bar")
    Learner(mlp(), blob_data).fit(1)
    out, err = capsys.readouterr()
    assert "train_loss" in out and "valid_loss" in out
    assert "epoch:" in err and "epoch 0:" in err  # the epoch bar and the batch bar


@pytest.mark.parametrize("seconds,text", [(0, "00:00"), (59.6, "01:00"), (125, "02:05"),
                                          (3725, "1:02:05")])
def test_format_time(seconds, text):
    assert format_time(seconds) == text


PLAIN_LINE = re.compile(r"epoch (\d+)/3  train_loss \d\.\d{4}  valid_loss (\d\.\d{4})  "
                        r"accuracy \d\.\d{4}  time \d+\.\ds")


def test_plain_mode_on_a_stream_that_is_no_terminal(blob_data, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # plain mode never needs tqdm
    stream = io.StringIO()
    learn = Learner(mlp(), blob_data, quiet=True)
    cb = ProgressCallback(stream=stream)
    learn.fit(3, callbacks=[cb])
    text = stream.getvalue()
    assert "\r" not in text and "\x1b" not in text
    lines = text.splitlines()
    assert len(lines) == 3 and cb.mode == "plain" and cb.bar_cls is None
    for i, (line, values) in enumerate(zip(lines, learn.recorder.values, strict=True)):
        m = PLAIN_LINE.fullmatch(line)
        assert m, line
        assert int(m[1]) == i + 1  # counted from 1, out of the fit's epochs
        assert float(m[2]) == pytest.approx(values["valid_loss"], abs=5e-5)
    assert capsys.readouterr() == ("", "")  # nothing beside the stream


def test_a_terminal_stream_gets_the_bars(blob_data):
    stream = FakeTTY()
    cb = ProgressCallback(stream=stream, write=FakeBar.write)
    Learner(mlp(), blob_data, quiet=True).fit(2, callbacks=[cb])
    assert cb.mode == "bar" and cb.bar_cls is tqdm.auto.tqdm
    assert "\r" in stream.getvalue() and "epoch 1:" in stream.getvalue()  # tqdm's bars
    assert len(FakeBar.lines) == 3  # header + 2 table rows, as before


def test_the_learners_default_progress_follows_stderr(blob_data, capsys, monkeypatch):
    Learner(mlp(), blob_data).fit(2)  # capsys' stderr is no terminal: plain
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 2 and err.startswith("epoch 1/2  train_loss")
    monkeypatch.setattr(sys, "stderr", FakeTTY())
    assert progress_mode() == "bar"
    monkeypatch.setattr(progress, "_in_notebook", lambda: True)
    assert progress_mode(stream=io.StringIO()) == "bar"  # a notebook: tqdm's widget


def test_the_mode_argument_and_the_environment(monkeypatch):
    tty, log = FakeTTY(), io.StringIO()
    assert progress_mode("plain", tty) == "plain" and progress_mode("bar", log) == "bar"
    assert progress_mode(stream=log, bar=FakeBar) == "bar"  # an injected bar class
    monkeypatch.setenv("TFLEARNER_PROGRESS", "plain")
    assert progress_mode(stream=tty) == "plain"
    assert progress_mode("bar", tty) == "bar"  # the argument wins
    monkeypatch.setenv("TFLEARNER_PROGRESS", " Bar ")
    assert progress_mode(stream=log) == "bar"
    for value in ("", "auto"):
        monkeypatch.setenv("TFLEARNER_PROGRESS", value)
        assert progress_mode(stream=log) == "plain"
    monkeypatch.setenv("TFLEARNER_PROGRESS", "fancy")
    with pytest.raises(ValueError, match="TFLEARNER_PROGRESS must be one of 'auto', 'bar', "
                                         "'plain' .*got 'fancy'; e.g. export"):
        progress_mode()
    with pytest.raises(ValueError, match="mode must be one of 'auto', 'bar', 'plain', got 'tty'"):
        ProgressCallback(mode="tty")
    with pytest.raises(ValueError, match="mode must be one of"):
        SweepProgress(3, mode="bars")


@pytest.mark.filterwarnings("ignore:.*no suggestion:UserWarning")  # 20 steps: a short curve
def test_lr_find_in_plain_mode_prints_one_line_at_the_end(blob_data, capsys):
    learn = Learner(mlp(), blob_data)
    with warnings.catch_warnings():  # a suggester's warning is not progress output
        warnings.simplefilter("ignore")
        learn.lr_find(num_it=20, show_plot=False, extend=False)  # one sweep, one line
    out, err = capsys.readouterr()
    assert "\r" not in err and "\x1b" not in err
    [line] = err.splitlines()
    assert re.fullmatch(r"lr_find: (\d+)/20 iterations, stopped: (end of the sweep|diverged|"
                        r"non-finite) \(lr \S+, smooth loss \S+\)", line), line
    assert int(line.split()[1].split("/")[0]) == len(learn.recorder.lrs)


def test_sweep_progress_bar_mode_on_a_terminal():
    stream = FakeTTY()
    sweep = SweepProgress(total=3, stream=stream)
    sweep.before_fit(None)
    assert sweep.mode == "bar" and isinstance(sweep.bar, tqdm.auto.tqdm)
    sweep.after_fit(None)
    assert "lr_find" in stream.getvalue()
