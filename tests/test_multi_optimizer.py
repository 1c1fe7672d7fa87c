"""A Keras MultiOptimizer: one layer group per optimizer it holds, trained as model.fit trains
with it; a number as the learning rate keeps the ratios of their learning rates."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import blobs, mlp

from tflearner import DataBundle, Learner
from tflearner.schedules import one_cycle


def _multi(adam_lr=1e-2, sgd_lr=0.1):
    return keras.optimizers.MultiOptimizer(keras.optimizers.OptimizerMap(
        keras.optimizers.Adam(adam_lr), {".*hidden.*": keras.optimizers.SGD(sgd_lr, momentum=0.9)}))


def _data(x, y):
    return DataBundle.from_datasets(tf.data.Dataset.from_tensor_slices((x, y)).batch(16))


def test_fit_is_model_fit_with_the_same_multi_optimizer():
    x, y = blobs(96)
    model = mlp(seed=0)
    start = model.get_weights()
    learn = Learner(model, _data(x, y), opt=_multi(), quiet=True)
    assert [len(g.variables) for g in learn.groups] == [2, 2]
    assert [type(o).__name__ for o in learn.opts] == ["SGD", "Adam"]
    assert learn.hypers.lrs == pytest.approx([0.1, 0.01]) and learn.lr_ratios == pytest.approx(
        (10.0, 1.0))
    learn.fit(2)
    twin = mlp(seed=0)
    twin.set_weights(start)
    twin.compile(optimizer=_multi(), loss="sparse_categorical_crossentropy")
    twin.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_a_number_keeps_the_multi_optimizers_ratios_a_slice_sets_each_group():
    x, y = blobs(96)
    learn = Learner(mlp(), _data(x, y), opt=_multi(), quiet=True)
    learn.fit_one_cycle(1, 0.05, moms=None)
    lrs = np.asarray(learn.recorder.group_lrs)
    want = one_cycle(6, 0.05)[0]  # the head's LRs, from the pure schedule
    np.testing.assert_allclose(lrs[:, 1], want, rtol=1e-6)
    np.testing.assert_allclose(lrs[:, 0], 10 * want, rtol=1e-5)
    learn.fit(1, lr=0.02)
    assert learn.hypers.lrs == pytest.approx([0.2, 0.02])
    learn.fit(1, lr=slice(1e-3, 1e-2))
    assert learn.hypers.lrs == pytest.approx([1e-3, 1e-2])
    learn.fit(1, lr=0.02)  # the MultiOptimizer's ratios, not the slice's
    assert learn.hypers.lrs == pytest.approx([0.2, 0.02])


def test_selector_function_groups_in_model_order_and_freezing_works():
    x, y = blobs(96)
    sgd, adam = keras.optimizers.SGD(0.1), keras.optimizers.Adam(1e-3)
    model = mlp()
    learn = Learner(model, _data(x, y), quiet=True, opt=keras.optimizers.MultiOptimizer(
        lambda v: adam if "out" in v.path else sgd))
    assert [o.learning_rate.numpy() for o in learn.opts] == pytest.approx([0.1, 1e-3])
    hidden = model.get_layer("hidden").kernel.numpy().copy()
    learn.freeze()
    learn.fit(1)
    np.testing.assert_array_equal(model.get_layer("hidden").kernel.numpy(), hidden)


@pytest.mark.parametrize("kwargs,words", [
    ({"splitter": lambda m: [m.layers]}, "pass either it or splitter="),
    ({"mixed_precision": "mixed_float16"}, "mixed_precision='mixed_float16' needs one loss scale"),
])
def test_refused_up_front_with_the_fix(kwargs, words):
    model = mlp()
    before = [v.numpy().copy() for v in model.variables]
    with pytest.raises(ValueError, match=words):
        Learner(model, _data(*blobs(32)), opt=_multi(), quiet=True, **kwargs)
    assert model.dtype_policy.name == "float32" or "mixed_precision" in kwargs
    assert all(np.array_equal(a, v.numpy()) for a, v in zip(before, model.variables,
                                                            strict=True))


def test_built_multi_optimizer_and_fixed_loss_scale_are_refused():
    model = mlp()
    used = _multi()
    used.build(model.trainable_variables)
    with pytest.raises(ValueError, match="already built"):
        Learner(mlp(), _data(*blobs(32)), opt=used, quiet=True)
    scaled = keras.optimizers.MultiOptimizer(
        keras.optimizers.OptimizerMap(keras.optimizers.Adam()), loss_scale_factor=128.0)
    with pytest.raises(ValueError, match=r"loss_scale_factor=128.0 .*mixed_float16"):
        Learner(mlp(), _data(*blobs(32)), opt=scaled, quiet=True)
