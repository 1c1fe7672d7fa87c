"""Importing and using tflearner adds no output and no plotting, suggesting or progress module
of its own to what TensorFlow and Keras themselves print and load. One fresh process: it
imports TensorFlow and Keras, marks stderr, then loads every public name of tflearner (so every
module behind them) and builds its callbacks; what it prints and loads after the mark is
tflearner's."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

# The modules tflearner imports only when they are first used: plotting (Recorder.plot*),
# suggesting (robust's Savitzky-Golay filter) and progress bars (ProgressCallback.before_fit).
# tests/test_lazy.py checks that tflearner imports and builds its callbacks with them blocked.
LAZY = ("matplotlib", "scipy.signal", "tqdm")
MARK = "----- tflearner from here -----"

_CODE = f"""
import sys
from pathlib import Path
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


_FIT_CODE = """
import sys, tempfile
from pathlib import Path
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras, numpy as np
sys.path.insert(0, {tests!r})
from _images import write_tree
import tflearner as tl

def model(shape):
    return keras.Sequential([keras.Input(shape), keras.layers.Flatten(),
                             keras.layers.Dense(3, activation="softmax")])

tl.set_seed(0)  # op determinism on, as the docs ask: before the data and the model
rng = np.random.default_rng(0)
arrays = tl.DataBundle.from_arrays(rng.integers(0, 256, (64, 8, 8, 3), dtype=np.uint8),
                                   rng.integers(0, 3, 64), batch_size=16)
root = Path(tempfile.mkdtemp())
write_tree(root, per_class=8)
folder = tl.DataBundle.from_folder(root, img_size=8, batch_size=8,
                                   augment=tl.aug_transforms())
sys.stderr.flush()
sys.stderr.write("----- fits from here -----\\n"); sys.stderr.flush()
tl.Learner(model((8, 8, 3)), arrays, quiet=True).fit(1)  # with validation, as below
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
with strategy.scope():
    m = model((8, 8, 3))
tl.Learner(m, folder, quiet=True).fit(1)
sys.stderr.flush()
print("DONE", flush=True)
"""


def test_fits_under_set_seed_and_a_mirrored_strategy_log_nothing_of_ours():
    # Causes we own: the training pipeline's epoch counter (a stateful op) made tf.data rewrite
    # its parallel maps under op determinism, logging "E0000 ... use_unbounded_threadpool";
    # AutoShardPolicy.AUTO logged "W0000 ... auto-shard" per dataset and epoch.
    tests = str(Path(__file__).parent)
    proc = subprocess.run([sys.executable, "-c", _FIT_CODE.format(tests=tests)],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0",
                               "CUDA_VISIBLE_DEVICES": ""})
    assert proc.returncode == 0 and "DONE" in proc.stdout, proc.stderr[-3000:]
    fits = proc.stderr.partition("----- fits from here -----\n")[2]
    noisy = [ln for ln in fits.splitlines()
             if "use_unbounded_threadpool" in ln or "auto_shard" in ln or "auto-shard" in ln
             or "AutoShard" in ln]
    assert noisy == [], "\n".join(noisy[:5])
