"""Arrays placed on a device once (``from_arrays(device=...)``): the compiled step gathers the
batches from tf.data's index batches. On the CPU, ``device="/CPU:0"`` runs that path: the same
batches in the same order, the same training, and lr_find restores the order."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from conftest import blobs, mlp

from tflearner import DataBundle, Learner


def _pair(**kw):
    x, y = blobs()
    w = np.linspace(0.5, 1.5, len(x)).astype("float32")
    host = DataBundle.from_arrays(x, y, batch_size=32, valid_pct=0.2, seed=0, **kw)
    placed = DataBundle.from_arrays(x, y, batch_size=32, valid_pct=0.2, seed=0,
                                    device="/CPU:0", **kw)
    return host, placed, w


@pytest.mark.parametrize("uint8", [False, True])
def test_placed_batches_equal_the_host_pipeline_epoch_after_epoch(uint8):
    x, y = blobs()
    if uint8:
        x = np.clip(x * 20 + 128, 0, 255).astype(np.uint8)  # scaled by 1/255 on both paths
    w = np.linspace(0.5, 1.5, len(x)).astype("float32")
    kw = dict(batch_size=32, valid_pct=0.2, seed=0, sample_weight=w)
    host = DataBundle.from_arrays(x, y, **kw)
    placed = DataBundle.from_arrays(x, y, device="/CPU:0", **kw)
    assert host.placed is None and placed.placed.device.endswith("CPU:0")
    for _ in range(3):  # three epochs: three shuffles, each the same on both
        a = list(host.train)
        b = [placed.placed.gather(i) for i in placed.placed.indices]
        assert len(a) == len(b) == host.n_train_batches
        for ea, eb in zip(a, b, strict=True):
            assert len(ea) == len(eb) == 3
            for ta, tb in zip(ea, eb, strict=True):
                assert ta.dtype == tb.dtype
                np.testing.assert_array_equal(ta.numpy(), tb.numpy())
    assert int(host.rng_state[0].numpy()) == int(placed.rng_state[0].numpy()) == 3


def test_auto_is_the_host_pipeline_on_a_cpu():
    if tf.config.list_logical_devices("GPU"):
        pytest.skip("a GPU is visible: 'auto' places the arrays there")
    x, y = blobs()
    data = DataBundle.from_arrays(x, y, seed=0)
    assert data.placed is None
    assert DataBundle.from_arrays(x, y, seed=0, device="host").placed is None


def _counting(placed):
    """Count the traces of the placed gather: proof the step gathers (the host path never
    calls it)."""
    calls = []
    gather = placed.placed.gather

    def counted(i):
        calls.append(1)
        return gather(i)

    placed.placed.gather = counted
    return calls


def test_fit_on_placed_arrays_trains_exactly_as_the_host_pipeline():
    host, placed, _ = _pair()
    calls = _counting(placed)
    a = Learner(mlp(), host, opt="adam", quiet=True)
    b = Learner(mlp(), placed, opt="adam", quiet=True)
    assert a.loop.placed is None and b.loop.placed is placed.placed
    a.fit_one_cycle(2, 0.01)
    b.fit_one_cycle(2, 0.01)
    for u, v in zip(a.model.variables, b.model.variables, strict=True):
        np.testing.assert_array_equal(u.numpy(), v.numpy())
    assert a.recorder.losses == b.recorder.losses
    assert b.loop.trace_counts["train"] == 1
    assert len(calls) == 1  # traced once into the step, which gathered every batch


@pytest.mark.filterwarnings("ignore:robust. no suggestion")
@pytest.mark.parametrize("where", ["host", "device"])
def test_lr_find_restores_the_order_of_placed_arrays(where):
    """A fit after lr_find sees the batches (and ends with the weights) of the fit alone."""
    runs = []
    for sweep in (False, True):
        _, placed, _ = _pair()
        calls = _counting(placed)
        learn = Learner(mlp(), placed, opt="adam", quiet=True)
        if sweep:
            learn.lr_find(num_it=20, stop_div=False, snapshot=where)  # 20 > 8: three epochs
            assert int(placed.rng_state[0].numpy()) == 0  # restored
        learn.fit(1, lr=0.01)
        assert calls  # the placed path ran
        runs.append((learn.recorder.losses, [v.numpy() for v in learn.model.variables]))
    assert runs[0][0] == runs[1][0]
    for u, v in zip(runs[0][1], runs[1][1], strict=True):
        np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("device,err,words", [
    ("/GPU:7", ValueError, "device must be 'auto', 'host' or a device name TensorFlow lists"),
    ("gpu please", ValueError, "got 'gpu please'; e.g. device='/GPU:0'"),
    (0, TypeError, "got 0 (int)"),
])
def test_bad_device_is_refused(device, err, words):
    x, y = blobs()
    with pytest.raises(err) as info:
        DataBundle.from_arrays(x, y, device=device)
    assert words in str(info.value)
