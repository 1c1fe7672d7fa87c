"""Shared fixtures: small synthetic data and models, so the suite runs in minutes on 2 cores."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

from tflearner import Callback, DataBundle  # noqa: E402


def blobs(n: int = 300, d: int = 8, c: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Linearly separable-ish Gaussian blobs: float32 (n, d), int labels (n,)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 3, (c, d))
    y = rng.integers(0, c, n)
    x = (centers[y] + rng.normal(0, 1, (n, d))).astype("float32")
    return x, y


def mlp(d: int = 8, c: int = 3, softmax: bool = True, seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input((d,)),
        keras.layers.Dense(16, activation="relu", name="hidden"),
        keras.layers.Dense(c, activation="softmax" if softmax else None, name="out"),
    ])


class StopAfter(Callback):
    """Stops the fit after the batch with global step ``step``, at that very batch."""

    sync_every_batch = True

    def __init__(self, step):
        self.step = step

    def after_batch(self, state):
        if state.step == self.step:
            state.stop_training = True


@pytest.fixture
def blob_data() -> DataBundle:
    x, y = blobs()
    return DataBundle.from_arrays(x, y, batch_size=32, valid_pct=0.2, seed=0)


@pytest.fixture
def cifar_like() -> DataBundle:
    """200 random CIFAR-shaped uint8 images (so LeNet runs), batch 64 (partial last batch)."""
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (200, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, 200)
    return DataBundle.from_arrays(x, y, batch_size=64, valid_pct=0.1, seed=0)


# CI runs property tests with a fixed seed (a red build then always reproduces); local runs
# explore new examples each time.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")
