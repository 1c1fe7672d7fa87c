"""Labels a Keras user hands over: float class ids, out-of-range ids, in any dataset."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from conftest import blobs, mlp

from tflearner import DataBundle, Learner


def test_float_class_ids_with_a_classifier_head_are_refused_with_the_cast():
    x, y = blobs(60)
    data = DataBundle.from_arrays(x, y.astype("float32"), batch_size=16)
    assert data.task == "regression"  # float targets, one per example
    with pytest.raises(ValueError, match=r"model outputs 3 values.*y.astype\('int64'\)"):
        Learner(mlp(), data, quiet=True)


def test_float_class_ids_with_task_sparse_categorical_become_int64():
    x, y = blobs(60)
    data = DataBundle.from_arrays(x, y.astype("float32")[:, None], batch_size=16,
                                  task="sparse_categorical", test=(x[:8], y[:8] * 1.0))
    assert data.train.element_spec[1].dtype == tf.int64 and data.c == 3
    assert data.test.element_spec[1].dtype == tf.int64
    learn = Learner(mlp(), data, quiet=True)
    learn.fit(1)
    with pytest.raises(ValueError, match="whole numbers"):
        DataBundle.from_arrays(x, y + 0.5, task="sparse_categorical")


@pytest.mark.parametrize("bad", [3, -1, 7])
def test_out_of_range_labels_in_a_dataset_name_the_value_and_the_class_count(bad):
    x, y = blobs(64)
    y = y.copy()
    y[37] = bad
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    learn = Learner(mlp(), DataBundle.from_datasets(ds, c=3), quiet=True)
    msg = rf"the data has the label {bad}, but the model has 3 classes.*\[0, 3\)"
    with pytest.raises(ValueError, match=msg) as info:
        learn.fit(1)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    with pytest.raises(ValueError, match=msg):
        learn.validate(ds)
    # a clean dataset still trains on the same Learner afterwards
    clean = tf.data.Dataset.from_tensor_slices((x, np.clip(y, 0, 2))).batch(16)
    learn.data = DataBundle.from_datasets(clean, c=3)
    learn.fit(1)
