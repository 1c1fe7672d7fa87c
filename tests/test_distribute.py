"""tf.distribute through the one loop. Each check runs in fresh processes: logical devices and
TF_CONFIG must be set before TensorFlow starts. Bounded by timeouts; processes always reaped."""

from __future__ import annotations

import importlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import mlp

from tflearner import DataBundle, Learner

HERE = Path(__file__).parent / "procs"
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}


def _run(args: list[str], timeout: float) -> str:
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          timeout=timeout, env=ENV, cwd=HERE)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_mirrored_strategy_on_two_logical_cpus_matches_one_device():
    out = _run([str(HERE / "mirrored_check.py")], timeout=300)
    res = json.loads(out.split("RESULT ", 1)[1])
    assert res["replicas"] == 2 and res["detected"]  # found from the model's variables
    assert res["traces"] == {"train": 1, "eval": 1}
    assert res["n_batches"] == 12 and res["moms_equal"]
    assert res["loss_diff"] <= 1e-5  # fit_one_cycle, per batch, LR and momentum per batch
    assert res["weight_diff"] <= 1e-5
    assert res["valid_diff"] <= 1e-5 and res["acc_equal"]  # metrics aggregated over replicas
    assert res["predict_diff"] <= 1e-5  # outputs gathered in order
    assert res["lr_find_points"] == 30
    assert res["restored_bitwise"] and res["mirrored_copies"] > 20  # every replica's copy
    assert "batch_size=33, which 2 replicas cannot share evenly" in res["odd_batch_error"]
    # mixed_float16 under the strategy: LossScaleOptimizer's own cond inside apply works in
    # the replica update, replicas agree with one device to float16 precision, the loss scale
    # evolves the same, and lr_find restores every replica's copy (scale included) bitwise.
    assert res["fp16_opt"] == "LossScaleOptimizer" and res["fp16_finite"]
    assert res["fp16_loss_diff"] <= 1e-3 and res["fp16_weight_diff"] <= 1e-3
    assert res["fp16_scale"][0] == res["fp16_scale"][1]
    assert res["fp16_restored_bitwise"]
    # two layer groups, one optimizer each, with discriminative LRs
    assert res["groups_loss_diff"] <= 1e-5 and res["groups_weight_diff"] <= 1e-5
    assert res["groups_lrs"] == pytest.approx([1e-5, 1e-3], rel=1e-5)  # slice, first batch
    assert res["groups_restored_bitwise"]
    # train_metrics=True: per-replica updates, aggregated, equal one device's; one trace
    assert res["train_acc"][1] == pytest.approx(res["train_acc"][0], abs=1e-6)
    assert res["train_metric_traces"] == {"train": 1, "eval": 1}


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def test_multi_worker_mirrored_strategy_two_local_workers(tmp_path, monkeypatch):
    ports = [str(p) for p in _free_ports(2)]
    outs = [tmp_path / f"w{i}.npz" for i in range(2)]
    script = str(HERE / "multiworker_check.py")
    procs = [subprocess.Popen([sys.executable, script, "worker", str(i), *ports, str(outs[i])],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=ENV, cwd=HERE) for i in range(2)]
    try:
        # The single-device reference needs no fresh process (no strategy, no TF_CONFIG): it
        # runs here while the workers start, sparing a third TensorFlow start.
        monkeypatch.syspath_prepend(str(HERE))
        try:
            assert importlib.import_module("multiworker_check").main(
                ["single", str(tmp_path / "single.npz")]) == 0
        finally:
            sys.modules.pop("multiworker_check", None)
            sys.modules.pop("_shared", None)
        logs = [p.communicate(timeout=180) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for p, (_, err) in zip(procs, logs, strict=True):
        assert p.returncode == 0, err[-3000:]
    w0, w1, ref = (np.load(f) for f in (*outs, tmp_path / "single.npz"))
    assert all(np.array_equal(w0[k], w1[k]) for k in w0.files)  # both workers agree exactly
    np.testing.assert_allclose(w0["losses"], ref["losses"], rtol=0, atol=1e-5)
    for k in w0.files:
        np.testing.assert_allclose(w0[k], ref[k], rtol=0, atol=1e-5)


# ---- bad input (in this process: the default strategy and one CPU device) --------------------

def _data(batch_size=32):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 96)
    x = (rng.normal(size=(96, 8)) + y[:, None]).astype("float32")
    return DataBundle.from_arrays(x, y, valid_pct=0.0, batch_size=batch_size, seed=0)


def test_strategy_must_be_a_strategy():
    with pytest.raises(TypeError, match="strategy must be a tf.distribute.Strategy, got str"):
        Learner(mlp(), _data(), strategy="mirrored")


def test_strategy_the_model_was_not_built_under_is_refused():
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    with pytest.raises(ValueError, match="were not created under it.*strategy.scope"):
        Learner(mlp(), _data(), strategy=strategy)


def test_strategy_different_from_the_models_is_refused():
    built, other = (tf.distribute.OneDeviceStrategy("/cpu:0") for _ in range(2))
    with built.scope():
        model = mlp()
    with pytest.raises(ValueError, match="does not match the strategy the model"):
        Learner(model, _data(), strategy=other)


def test_one_device_strategy_trains_like_no_strategy():
    keras.utils.set_random_seed(0)
    init = mlp().get_weights()
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    with strategy.scope():
        model = mlp()
    model.set_weights(init)
    dist = Learner(model, _data(), quiet=True)
    assert dist.strategy is strategy
    plain_model = mlp()
    plain_model.set_weights(init)
    plain = Learner(plain_model, _data(), quiet=True)
    dist.fit_one_cycle(2, 0.1)
    plain.fit_one_cycle(2, 0.1)
    np.testing.assert_allclose(dist.recorder.losses, plain.recorder.losses, atol=1e-6)
