"""LeNet is the seed's LeNet-5: layers, names, parameter count, real output shapes."""

from __future__ import annotations

import io
from contextlib import redirect_stdout

import keras
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
