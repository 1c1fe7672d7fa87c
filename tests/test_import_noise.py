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


# The modules tflearner imports only when they are first used: plotting (Recorder.plot*),
# suggesting (robust's Savitzky-Golay filter) and progress bars (ProgressCallback.before_fit).
LAZY = ("matplotlib", "scipy.signal", "tqdm")

_BLOCKED = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("matplotlib", "tqdm") or name.startswith("scipy.signal"):
            raise ImportError("blocked for the test: " + name)
sys.meta_path.insert(0, Block())
import tflearner
tflearner.Recorder(), tflearner.ProgressCallback(), tflearner.LRFinder
print(sorted(m for m in sys.modules if m.startswith(("matplotlib", "scipy.signal", "tqdm"))))
"""


def test_import_needs_no_plotting_suggesting_or_progress_module():
    # TensorFlow and Keras themselves cope without these (Keras' image-gallery helper tries
    # matplotlib.pyplot); tflearner must import, and build its callbacks, without them too.
    out, _ = _output(_BLOCKED)
    assert out.strip() == "[]"


def test_import_adds_no_plotting_suggesting_or_progress_module():
    # Keras 3 imports matplotlib.pyplot itself when matplotlib is installed, and TensorFlow
    # imports scipy: whatever they load is theirs; tflearner must not add any of LAZY.
    code = (
        "import sys\n"
        "def lazy(): return {m for m in sys.modules if m == 'scipy.signal' or "
        "m.split('.')[0] in ('matplotlib', 'tqdm')}\n"
        "import tensorflow, keras\n"
        "theirs = lazy()\n"
        "import tflearner\n"
        "print(sorted(lazy() - theirs), 'scipy.signal' in theirs, 'tqdm' in theirs)\n"
    )
    out, _ = _output(code)
    assert out.split() == ["[]", "False", "False"], out
