"""Importing and using tflearner adds no output and no plotting, suggesting or progress module
of its own to what TensorFlow and Keras themselves print and load. One fresh process: it
imports TensorFlow and Keras, marks stderr, then loads every public name of tflearner (so every
module behind them) and builds its callbacks; what it prints and loads after the mark is
tflearner's."""

from __future__ import annotations

import re
import subprocess
import sys

# The modules tflearner imports only when they are first used: plotting (Recorder.plot*),
# suggesting (robust's Savitzky-Golay filter) and progress bars (ProgressCallback.before_fit).
# tests/test_lazy.py checks that tflearner imports and builds its callbacks with them blocked.
LAZY = ("matplotlib", "scipy.signal", "tqdm")
MARK = "----- tflearner from here -----"

_CODE = f"""
import sys
def lazy(): return {{m for m in sys.modules if m == 'scipy.signal' or
                    m.split('.')[0] in ('matplotlib', 'tqdm')}}
import tensorflow, keras
theirs = lazy()
sys.stdout.flush(); sys.stderr.flush()
sys.stderr.write({MARK!r} + "\\n"); sys.stderr.flush()
print("STDOUT-MARK", flush=True)
import tflearner
for name in tflearner.__all__:
    getattr(tflearner, name)
tflearner.Recorder(), tflearner.ProgressCallback()
print(sorted(lazy() - theirs), 'scipy.signal' in theirs, 'tqdm' in theirs)
"""


def test_import_and_names_print_and_load_nothing_beyond_tensorflow():
    proc = subprocess.run([sys.executable, "-c", _CODE], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    before, sep, after = proc.stderr.partition(MARK + "\n")
    assert sep, proc.stderr[-2000:]

    def lines(text: str) -> set[str]:
        return {re.sub(r"[\d.:]+", "#", line).strip() for line in text.splitlines()} - {""}

    ours, theirs = lines(after), lines(before)
    assert ours <= theirs, ours - theirs  # nothing printed that TensorFlow did not print too
    head, _, out = proc.stdout.partition("STDOUT-MARK\n")
    assert head == ""
    # Keras 3 imports matplotlib.pyplot itself when matplotlib is installed, and TensorFlow
    # imports scipy: whatever they load is theirs; tflearner must add none of LAZY.
    assert out.split() == ["[]", "False", "False"], out
