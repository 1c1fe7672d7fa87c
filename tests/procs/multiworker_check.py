"""One process of the MultiWorkerMirroredStrategy check (or the single-process reference).

    python multiworker_check.py worker INDEX PORT0 PORT1 OUT.npz
    python multiworker_check.py single OUT.npz

Each worker builds its strategy from TF_CONFIG (two workers on 127.0.0.1), trains
``fit_one_cycle(2, 0.1)`` on the same data and initial weights, and saves its final weights
and per-batch losses; the reference does the same without a strategy.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv: list[str]) -> int:
    role = argv[0]
    if role == "worker":
        index, p0, p1, out = int(argv[1]), argv[2], argv[3], argv[4]
        os.environ["TF_CONFIG"] = json.dumps({
            "cluster": {"worker": [f"127.0.0.1:{p0}", f"127.0.0.1:{p1}"]},
            "task": {"type": "worker", "index": index}})
    else:
        out = argv[1]
    import tensorflow as tf

    strategy = tf.distribute.MultiWorkerMirroredStrategy() if role == "worker" else None
    import numpy as np
    from _shared import blobs, initial_weights, model_under

    from tflearner import SGD, DataBundle, Learner

    x, y = blobs(192)
    train = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
    m = model_under(strategy, initial_weights())
    learn = Learner(m, DataBundle.from_datasets(train), opt=SGD(momentum=0.9), quiet=True)
    learn.fit_one_cycle(2, 0.1)
    np.savez(out, losses=np.array(learn.recorder.losses),
             **{f"w{i}": w for i, w in enumerate(learn.model.get_weights())})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
