"""Importing tflearner adds no output of its own to what TensorFlow itself prints."""

from __future__ import annotations

import re
import subprocess
import sys


def _output(code: str) -> tuple[str, set[str]]:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = {re.sub(r"[\d.:]+", "#", line).strip() for line in proc.stderr.splitlines()}
    return proc.stdout, lines - {""}


def test_import_prints_nothing_beyond_tensorflow():
    out, ours = _output("import tflearner")
    _, theirs = _output("import tensorflow, keras, matplotlib, scipy.signal, tqdm.auto")
    assert out == ""
    assert ours <= theirs, ours - theirs
