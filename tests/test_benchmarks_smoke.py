"""Smoke test of benchmarks/resnet9_cifar10.py on the shipped sample: a tiny ResNet-9, one epoch.

The full recipe needs the CIFAR-10 archive and hours of CPU; this checks that the script runs end
to end offline, that its two sides (``Learner.fit_one_cycle`` and ``model.fit``) train alike
from the same weights on the same augmented batches, and that the precision flag reaches the
models.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "resnet9_cifar10.py"
TINY = ["--sample", "--subset", "256", "--test-subset", "64", "--epochs", "1",
        "--batch-size", "64", "--width-mult", "0.0625", "--seed", "3"]
ONE_BATCH = [TINY[0], "--subset", "64", *TINY[3:]]  # the dtype paths, not speed


@pytest.fixture(scope="module")
def resnet9():
    spec = importlib.util.spec_from_file_location("resnet9_cifar10", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def test_both_sides_train_alike_and_the_table_is_printed(resnet9, tmp_path, capsys):
    out = tmp_path / "r9.json"
    res = resnet9.main([*TINY, "--json", str(out)])
    text = capsys.readouterr().out
    assert set(res["sides"]) == {"tflearner", "keras"}
    assert res["steps_per_epoch"] == 4 and res["images_per_epoch"] == 256
    for side in res["sides"].values():
        (acc,) = side["test_accuracy"]
        assert 0.0 <= acc <= 1.0 and math.isfinite(side["images_per_s"])
        assert side["images_per_s"] > 0
        assert side["compute"] == "float32" and side["loss_scaling"] is False
        assert side["time_to_epoch"] == 1 and side["reached_target"] is False
        assert side["optimizer_updates"] == 4 and side["skipped_updates"] == 0  # float32
    # one schedule (the Learner's 4e-7 ends on both sides), the same batches, the same update:
    # in float32 on the CPU the weights agree to rounding after the epoch
    assert res["lr_rows_exact"] and res["max_lr_difference"] < 1e-6
    assert res["max_weight_difference"] < 1e-5
    assert res["max_accuracy_difference"] == 0.0
    assert res["ratio"] > 0 and out.stat().st_size > 0
    for row in ("epoch | tflearner acc | tflearner train s | keras acc | keras train s",
                "img/s (all epochs): tflearner ", "tflearner / keras speed: ",
                "time to best "):
        assert row in text


def test_bfloat16_reaches_the_learner_without_loss_scaling(resnet9, capsys):
    res = resnet9.main([*ONE_BATCH, "--precision", "mixed_bfloat16", "--sides", "tflearner"])
    side = res["sides"]["tflearner"]
    assert side["compute"] == "bfloat16" and side["loss_scaling"] is False
    assert 0.0 <= side["test_accuracy"][0] <= 1.0
    assert "tflearner / keras speed" not in capsys.readouterr().out  # one side: no ratio


def test_float16_scales_the_loss_on_both_sides_and_counts_skipped_updates(resnet9, capsys):
    # mixed_float16 on the CPU, one batch: both sides wrap the optimizer in Keras'
    # LossScaleOptimizer, and each side reports the updates it applied and skipped (Keras'
    # schedule follows optimizer.iterations, which a skipped update does not advance).
    res = resnet9.main([*ONE_BATCH, "--precision", "mixed_float16"])
    for side in res["sides"].values():
        assert side["compute"] == "float16" and side["loss_scaling"] is True
        assert side["optimizer_updates"] + side["skipped_updates"] == 1
    assert res["lr_rows_exact"] == (res["sides"]["keras"]["skipped_updates"] == 0)
    assert "updates skipped for non-finite gradients" in capsys.readouterr().out


def test_piecewise_linear_schedule_hits_its_knots(resnet9):
    sched = resnet9.PiecewiseLinear([0, 10, 48], [0.0, 0.4, 0.0])
    values = sched([0, 5, 10, 29, 48, 60]).numpy().tolist()
    assert values == pytest.approx([0.0, 0.2, 0.4, 0.2, 0.0, 0.0], abs=1e-7)
    with pytest.raises(ValueError, match="steps must increase"):
        resnet9.PiecewiseLinear([0, 10, 10], [0.0, 0.4, 0.0])


def test_the_network_is_pages_resnet9(resnet9):
    model = resnet9.resnet9(width_mult=1.0)
    convs = 3 * 64 + 64 * 128 + 2 * 128 * 128 + 128 * 256 + 256 * 512 + 2 * 512 * 512
    bn = 2 * (64 + 3 * 128 + 256 + 3 * 512)  # scale and offset
    trainable = sum(int(v.numpy().size) for v in model.trainable_weights)
    assert trainable == 9 * convs + 512 * 10 + bn == 6_573_120
    assert model.output_shape == (None, 10)
    assert model.get_layer("linear").use_bias is False
    assert model.get_layer("classifier").scale == 0.125
