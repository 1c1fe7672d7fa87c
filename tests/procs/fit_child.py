"""A child process for the resume test.

    python fit_child.py MODE CKPT_DIR OUT.npz [MARKER | REFERENCE.npz]

MODE ``reference``: fit_one_cycle without checkpoints. ``resume``: with checkpoints in
CKPT_DIR (resuming if one is there). ``hang``: with checkpoints, and once step HANG_AT has run
and been saved, write MARKER and sleep until killed. ``resume+reference``: ``resume`` first
(the first fit of this fresh process), then ``reference`` into REFERENCE.npz in the same
process (one TensorFlow start instead of two). Writes the final weights and the recorder's
history to OUT.npz.
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from tflearner import SGD, Callback, DataBundle, Learner, set_seed  # noqa: E402

EPOCHS, EVERY, HANG_AT = 4, 3, 13  # 10 batches per epoch: hang in epoch 1, after batch 3


class Hang(Callback):
    order = 90  # after the checkpoint's save

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def after_batch(self, state):
        if state.step >= HANG_AT and state.chunk_end:
            with open(self.marker, "w") as f:
                f.write(str(state.step))
            while True:
                time.sleep(1)


def main(mode: str, ckpt: str, out: str, marker: str | None = None) -> int:
    set_seed(0)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 400)
    x = (rng.normal(size=(400, 8)) + y[:, None]).astype("float32")
    data = DataBundle.from_arrays(x, y, valid_pct=0.2, batch_size=32, seed=0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dropout(0.2),
                              keras.layers.Dense(3, activation="softmax")])
    learn = Learner(model, data, opt=SGD(momentum=0.9), quiet=True, steps_per_execution=2)
    kw = {} if mode == "reference" else {"checkpoint": ckpt, "checkpoint_every": EVERY}
    cbs = [Hang(marker)] if mode == "hang" else []
    learn.fit_one_cycle(EPOCHS, 0.1, callbacks=cbs, **kw)
    rec = learn.recorder
    np.savez(out, iters=np.array(rec.iters), losses=np.array(rec.losses),
             lrs=np.array(rec.lrs), epoch_ends=np.array(rec.epoch_ends),
             train_loss=np.array([r["train_loss"] for r in rec.values]),
             **{f"w{i}": v.numpy() for i, v in enumerate(learn.model.variables)})
    return 0


def run(mode: str, ckpt: str, out: str, extra: str | None = None) -> int:
    if mode == "resume+reference":
        main("resume", ckpt, out)
        return main("reference", ckpt, extra)
    return main(mode, ckpt, out, extra)


if __name__ == "__main__":
    sys.exit(run(*sys.argv[1:]))
