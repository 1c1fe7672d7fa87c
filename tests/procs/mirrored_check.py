"""Run in a fresh process (logical devices must be set before TensorFlow starts): compares
tflearner under MirroredStrategy over 2 logical CPUs with a single-device run. Prints JSON."""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow as tf  # noqa: E402

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
import numpy as np  # noqa: E402
from _shared import blobs, initial_weights, model, model_under  # noqa: E402

from tflearner import SGD, DataBundle, Learner  # noqa: E402


def data() -> DataBundle:
    return DataBundle.from_arrays(*blobs(256), valid_pct=0.25, batch_size=32, seed=0)


def learner(strategy, init, opt):
    return Learner(model_under(strategy, init), data(), opt=opt, quiet=True)


def main() -> None:
    init = initial_weights()
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    out = {"replicas": strategy.num_replicas_in_sync}

    single = learner(None, init, SGD(momentum=0.9))
    single.fit_one_cycle(2, 0.1)
    dist = learner(strategy, init, SGD(momentum=0.9))
    out["detected"] = dist.strategy is strategy
    dist.fit_one_cycle(2, 0.1)
    out["traces"] = dict(dist.loop.trace_counts)
    out["loss_diff"] = float(np.max(np.abs(np.subtract(single.recorder.losses,
                                                       dist.recorder.losses))))
    out["n_batches"] = len(dist.recorder.losses)
    out["moms_equal"] = bool(np.allclose(single.recorder.moms, dist.recorder.moms))
    out["weight_diff"] = max(float(np.max(np.abs(a - b))) for a, b in zip(
        single.model.get_weights(), dist.model.get_weights(), strict=True))
    out["valid_diff"] = abs(single.validate()["loss"] - dist.validate()["loss"])
    out["acc_equal"] = single.validate()["accuracy"] == dist.validate()["accuracy"]
    out["predict_diff"] = float(np.max(np.abs(single.get_preds(data().valid)[0]
                                              - dist.get_preds(data().valid)[0])))

    # Each replica's copy of every state variable, before and after lr_find: bitwise equal.
    def replica_values(learn):
        vals = []
        for group in learn.state_variables().values():
            for v in group:
                raw = v.value if isinstance(v, keras.Variable) else v
                parts = getattr(raw, "values", None) or (raw,)
                vals += [np.array(p.numpy()) for p in parts]
        return vals

    def lr_find_restores_bitwise(learn) -> tuple[bool, int]:
        before = replica_values(learn)
        learn.lr_find(num_it=30)
        after = replica_values(learn)
        same = len(before) == len(after) and all(
            a.dtype == b.dtype and a.tobytes() == b.tobytes()
            for a, b in zip(before, after, strict=True))
        return same, len(before)

    out["restored_bitwise"], out["mirrored_copies"] = lr_find_restores_bitwise(dist)
    out["lr_find_points"] = len(dist.recorder.lrs)

    # mixed_float16 (LossScaleOptimizer around Adam) under the same strategy.
    def fp16(strategy):
        return Learner(model_under(strategy, init), data(), opt="adam", quiet=True,
                       mixed_precision="mixed_float16")

    single16, dist16 = fp16(None), fp16(strategy)
    single16.fit_one_cycle(2, 1e-2)
    dist16.fit_one_cycle(2, 1e-2)
    out["fp16_loss_diff"] = float(np.max(np.abs(np.subtract(single16.recorder.losses,
                                                            dist16.recorder.losses))))
    out["fp16_finite"] = bool(np.all(np.isfinite(dist16.recorder.losses)))
    out["fp16_opt"] = type(dist16.opt).__name__
    out["fp16_scale"] = [float(single16.opt.dynamic_scale.numpy()),
                         float(dist16.opt.dynamic_scale.numpy())]
    out["fp16_weight_diff"] = max(float(np.max(np.abs(a - b))) for a, b in zip(
        single16.model.get_weights(), dist16.model.get_weights(), strict=True))
    out["fp16_restored_bitwise"], _ = lr_find_restores_bitwise(dist16)

    # Two layer groups (one Adam each) with discriminative LRs, frozen then unfrozen.
    def grouped(strategy):
        return Learner(model_under(strategy, init), data(), opt="adam", quiet=True,
                       splitter=lambda m: [m.layers[:1], m.layers[1:]])

    single_g, dist_g = grouped(None), grouped(strategy)
    for learn in (single_g, dist_g):
        learn.freeze()
        learn.fit_one_cycle(1, 1e-2)
        learn.unfreeze()
        learn.fit_one_cycle(1, slice(1e-4, 1e-2))
    out["groups_loss_diff"] = float(np.max(np.abs(np.subtract(single_g.recorder.losses,
                                                              dist_g.recorder.losses))))
    out["groups_weight_diff"] = max(float(np.max(np.abs(a - b))) for a, b in zip(
        single_g.model.get_weights(), dist_g.model.get_weights(), strict=True))
    out["groups_lrs"] = dist_g.recorder.group_lrs[0]
    dist_g.freeze()
    out["groups_restored_bitwise"], _ = lr_find_restores_bitwise(dist_g)

    # Training metrics: each replica updates them with its share of the batch; the result
    # (aggregated over replicas) equals one device's, and the train step still traces once.
    def with_train_metrics(strategy):
        learn = Learner(model_under(strategy, init), data(), opt=SGD(momentum=0.9), quiet=True,
                        train_metrics=True)
        learn.fit(2, 0.05)
        return learn

    single_t, dist_t = with_train_metrics(None), with_train_metrics(strategy)
    out["train_acc"] = [[row["train_accuracy"] for row in learn.recorder.values]
                        for learn in (single_t, dist_t)]
    out["train_metric_traces"] = dict(dist_t.loop.trace_counts)

    x, y = np.zeros((66, 8), "float32"), np.zeros(66, "int64")
    try:
        with strategy.scope():
            m = model()
        Learner(m, DataBundle.from_arrays(x, y, valid_pct=0.0, batch_size=33))
        out["odd_batch_error"] = ""
    except ValueError as exc:
        out["odd_batch_error"] = str(exc)
    print("RESULT " + json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
