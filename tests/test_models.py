"""LeNet is the seed's LeNet-5: layers, names, parameter count, real output shapes."""

from __future__ import annotations

import io
import warnings
from contextlib import redirect_stdout

import keras
import numpy as np
import pytest

from tflearner import LeNet


def test_lenet_matches_the_seed():
    model = LeNet()
    assert model.count_params() == 62_006
    names = [layer.name for layer in model.layers[1:]]
    assert names == ["conv1", "pool1", "conv2", "pool2", "flatten", "dense1", "dense2", "dense3"]
    shapes = {layer.name: tuple(layer.output.shape) for layer in model.layers[1:]}
    assert shapes["conv1"] == (None, 28, 28, 6)
    assert shapes["pool1"] == (None, 14, 14, 6)
    assert shapes["conv2"] == (None, 10, 10, 16)
    assert shapes["pool2"] == (None, 5, 5, 16)
    assert shapes["flatten"] == (None, 400)
    assert [shapes[n] for n in ("dense1", "dense2", "dense3")] == [(None, 120), (None, 84),
                                                                   (None, 10)]
    conv1 = model.get_layer("conv1")
    assert conv1.kernel_size == (5, 5) and conv1.padding == "valid"
    assert conv1.activation.__name__ == "relu"
    assert isinstance(conv1.kernel_initializer, keras.initializers.HeNormal)
    assert isinstance(model.get_layer("pool1"), keras.layers.MaxPooling2D)
    assert model.get_layer("dense3").activation.__name__ == "softmax"


def test_summary_shows_real_output_shapes():
    buf = io.StringIO()
    with redirect_stdout(buf):
        LeNet().summary(line_length=100)
    text = buf.getvalue()
    assert "(None, 28, 28, 6)" in text and "(None, 5, 5, 16)" in text
    assert "62,006" in text
    assert "multiple" not in text  # what the seed's subclassed model showed


def test_num_classes_and_input_shape_arguments():
    model = LeNet(num_classes=100, input_shape=(28, 28, 1))
    assert tuple(model.output.shape) == (None, 100)
    assert tuple(model.input.shape) == (None, 28, 28, 1)
    assert tuple(model.get_layer("flatten").output.shape) == (None, 16 * 4 * 4)


@pytest.mark.parametrize("kwargs,exc,words", [
    ({"num_classes": 1}, ValueError, "num_classes must be an int >= 2, got 1; e.g."),
    ({"num_classes": 10.0}, TypeError, "num_classes must be an int >= 2, got 10.0 (float)"),
    ({"num_classes": True}, TypeError, "num_classes must be an int >= 2, got True (bool)"),
    ({"input_shape": (32, 32)}, ValueError,
     "input_shape must be (height, width, channels) of positive ints, got (32, 32)"),
    ({"input_shape": (32, True, 3)}, ValueError, "input_shape must be (height, width, channels)"),
    ({"input_shape": (8, 8, 3)}, ValueError,
     "input_shape must be at least 16×16 for LeNet (two 5×5 valid convolutions"),
])
def test_bad_arguments(kwargs, exc, words):
    with pytest.raises(exc) as info:
        LeNet(**kwargs)
    assert words in str(info.value)


# ---- the short-fit BatchNormalization hint ---------------------------------------------------
def _bn_model(momentum: float = 0.99, nested: bool = False) -> keras.Model:
    keras.utils.set_random_seed(0)
    body = [keras.layers.Dense(16, activation="relu"),
            keras.layers.BatchNormalization(momentum=momentum, name="bn")]
    if nested:
        body = [keras.Sequential([keras.Input((8,)), *body], name="backbone")]
    return keras.Sequential([keras.Input((8,)), *body,
                             keras.layers.Dense(3, activation="softmax")])


def test_unconverged_batchnorm_rule():
    from tflearner.models import BN_HINT_STEPS, unconverged_batchnorm

    message = unconverged_batchnorm(_bn_model(), 120)
    assert message is not None
    assert "this fit trains 120 batches" in message and "('bn')" in message
    assert "momentum 0.99" in message and "BatchNormalization(momentum=0.9)" in message
    assert f"fit for {BN_HINT_STEPS} batches or more" in message
    assert unconverged_batchnorm(_bn_model(nested=True), 120) is not None  # found inside
    assert unconverged_batchnorm(_bn_model(), BN_HINT_STEPS) is None  # long enough
    assert unconverged_batchnorm(_bn_model(momentum=0.9), 120) is None  # converges fast
    trained = _bn_model()
    trained.get_layer("bn").moving_mean.assign(np.full(16, 0.5, "float32"))
    assert unconverged_batchnorm(trained, 120) is None  # statistics already trained
    frozen = _bn_model()
    frozen.get_layer("bn").trainable = False
    assert unconverged_batchnorm(frozen, 120) is None  # inference mode: never updated
    assert unconverged_batchnorm(LeNet(), 10) is None  # no BatchNormalization


@pytest.mark.filterwarnings("ignore:lr_find. the loss was still falling:UserWarning")
def test_the_hint_is_given_once_per_learner_by_fits_not_by_lr_find():
    from conftest import blobs

    from tflearner import DataBundle, Learner
    from tflearner.models import BatchNormMomentumWarning

    x, y = blobs()
    learn = Learner(_bn_model(), DataBundle.from_arrays(x, y, batch_size=32, seed=0), quiet=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", BatchNormMomentumWarning)
        learn.lr_find(num_it=20, suggest_funcs="valley")  # restores the statistics; no hint
    with pytest.warns(BatchNormMomentumWarning, match="this fit trains 9 batches") as record:
        learn.fit_one_cycle(1, 1e-2)
    [hint] = [w for w in record if issubclass(w.category, BatchNormMomentumWarning)]
    assert hint.filename == __file__  # the user's line
    bn = learn.model.get_layer("bn")
    bn.moving_mean.assign(np.zeros(16, "float32"))
    bn.moving_variance.assign(np.ones(16, "float32"))  # fresh again, but the hint was given
    with warnings.catch_warnings():
        warnings.simplefilter("error", BatchNormMomentumWarning)
        learn.fit(1, lr=1e-2)
