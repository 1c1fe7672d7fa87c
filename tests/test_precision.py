"""Mixed precision on CPU: bfloat16 trains and keeps the schedules on the optimizer; float16
gets Keras' LossScaleOptimizer, whose loss-scale state lr_find restores."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from conftest import blobs, mlp

from tflearner import SGD, Callback, DataBundle, Learner
from tflearner.schedules import one_cycle


def data() -> DataBundle:
    x, y = blobs(256)
    return DataBundle.from_arrays(x, y, valid_pct=0.0, batch_size=32, seed=0)


def test_bfloat16_trains_and_schedules_reach_the_optimizer():
    keras.utils.set_random_seed(0)
    learn = Learner(mlp(), data(), opt=SGD(momentum=0.9), quiet=True,
                    mixed_precision="mixed_bfloat16")
    layers = learn.model.layers
    assert [layer.compute_dtype for layer in layers] == ["bfloat16"] * (len(layers) - 1) + [
        "float32"]
    assert all(v.dtype == "float32" for v in learn.model.variables)  # variables stay float32
    assert learn.precision == "mixed_bfloat16"
    learn.fit_one_cycle(4, 0.1)
    lrs, moms = one_cycle(32, 0.1, 0.45, 10.0, 1e4, (0.95, 0.85, 0.95), "linear", True)
    np.testing.assert_allclose(learn.recorder.lrs, lrs, rtol=1e-6)
    np.testing.assert_allclose(learn.recorder.moms, moms, rtol=1e-6)
    assert float(learn.opt.momentum.numpy()) == pytest.approx(moms[-1])
    losses = [row["train_loss"] for row in learn.recorder.values]
    assert losses[-1] < 0.7 * losses[0]
    assert learn.get_preds(blobs(8)[0])[0].dtype == np.float32


def test_float16_uses_loss_scaling_and_lr_find_restores_its_state():
    keras.utils.set_random_seed(0)
    learn = Learner(mlp(), data(), opt="adam", quiet=True, mixed_precision="mixed_float16")
    opt = learn.opt
    assert isinstance(opt, keras.optimizers.LossScaleOptimizer)
    assert learn.hypers.optimizer is opt.inner_optimizer  # LR and beta_1 on the inner one
    scale_vars = [v for v in learn.state_variables()["opt"]
                  if v.path.endswith(("dynamic_scale", "step_counter"))]
    assert len(scale_vars) == 2
    learn.fit(1, lr=1e-3)
    before = [np.array(v.numpy()) for group in learn.state_variables().values() for v in group]
    seen = {}

    class ReadScale(Callback):
        def after_fit(self, state):  # inside lr_find, before the restore
            seen.update({v.path: np.array(v.numpy()) for v in scale_vars})

    learn.callbacks.append(ReadScale())
    learn.lr_find(end_lr=1e4, num_it=40)
    learn.callbacks.pop()
    assert any(not np.array_equal(seen[v.path], b) for v, b in zip(
        scale_vars, [before_of(learn, v, before) for v in scale_vars], strict=True))
    after = [np.array(v.numpy()) for group in learn.state_variables().values() for v in group]
    assert all(a.tobytes() == b.tobytes() for a, b in zip(before, after, strict=True))
    learn.fit_one_cycle(3, 3e-3)
    assert learn.recorder.moms[0] == pytest.approx(0.95)  # beta_1 cycles on the inner Adam
    losses = [row["train_loss"] for row in learn.recorder.values]
    assert losses[-1] < losses[0]


def before_of(learn, var, before):
    flat = [v for group in learn.state_variables().values() for v in group]
    return before[[id(v) for v in flat].index(id(var))]


def test_model_built_under_a_global_policy_is_detected():
    try:
        keras.mixed_precision.set_global_policy("mixed_float16")
        model = mlp()
    finally:
        keras.mixed_precision.set_global_policy("float32")
    learn = Learner(model, data(), quiet=True)
    assert learn.precision == "mixed_float16"
    assert isinstance(learn.opt, keras.optimizers.LossScaleOptimizer)


@pytest.mark.parametrize("bad,exc,words", [
    ("float16", ValueError, "mixed_precision must be one of 'float32', 'mixed_float16', "
     "'mixed_bfloat16' or None, got 'float16'; None keeps the model's own"),
    ("fp16", ValueError, "'mixed_float16'"),
    (16, TypeError, r"mixed_precision must be one of .* or None, got 16 \(int\)"),
])
def test_unknown_policy(bad, exc, words):
    with pytest.raises(exc, match=words):
        Learner(mlp(), data(), mixed_precision=bad)


def test_jit_compile_trains_like_the_default():
    """XLA compiles the forward/backward math; the loop around it (iterator, while loop,
    cross-replica update) stays a plain tf.function, so results match and nothing retraces."""
    results = []
    for jit in (False, True):
        keras.utils.set_random_seed(0)
        learn = Learner(mlp(), DataBundle.from_arrays(*blobs(128), valid_pct=0.25,
                                                      batch_size=32, seed=0),
                        opt=SGD(momentum=0.9), quiet=True, jit_compile=jit)
        learn.fit_one_cycle(2, 0.1)
        learn.lr_find(num_it=20)
        results.append((learn.recorder.losses, learn.validate()["loss"],
                        learn.get_preds(blobs(8)[0])[0], dict(learn.loop.trace_counts)))
    (plain, plain_valid, plain_pred, _), (jit, jit_valid, jit_pred, traces) = results
    np.testing.assert_allclose(jit, plain, rtol=1e-5, atol=1e-6)
    assert jit_valid == pytest.approx(plain_valid, rel=1e-5)
    np.testing.assert_allclose(jit_pred, plain_pred, rtol=1e-5, atol=1e-6)
    assert traces == {"train": 1, "eval": 1, "predict": 1}
