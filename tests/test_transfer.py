"""Transfer learning on one Learner: layer groups, freeze / unfreeze, discriminative learning
rates (one optimizer per group), lr_find frozen and unfrozen, fine_tune, restore and resume."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
from conftest import StopAfter, blobs

from tflearner import FASTAI_ONE_CYCLE, SGD, DataBundle, Learner, one_cycle
from tflearner.optim.groups import check_groups
from tflearner.schedules import even_mults, group_lrs

# Their BatchNormalization models train for a few batches on purpose: no short-fit hint.
pytestmark = pytest.mark.filterwarnings("ignore::tflearner.models.BatchNormMomentumWarning")


def backbone_model(seed: int = 0, bn: bool = True) -> keras.Model:
    """A small 'pretrained' backbone (Dense + BatchNorm) as the first layer, then a head."""
    keras.utils.set_random_seed(seed)
    layers = [keras.Input((8,)), keras.layers.Dense(16, activation="relu", name="feat")]
    if bn:
        layers.append(keras.layers.BatchNormalization(name="bn"))
    backbone = keras.Sequential(layers, name="backbone")
    inputs = keras.Input((8,))
    x = backbone(inputs)
    x = keras.layers.Dense(16, activation="relu", name="neck")(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs, name="transfer")


def data(n: int = 256, batch_size: int = 32) -> DataBundle:
    x, y = blobs(n)
    return DataBundle.from_arrays(x, y, valid_pct=0.0, batch_size=batch_size, seed=0)


def weights(model, prefix: str) -> list[np.ndarray]:
    return [v.numpy().copy() for v in model.variables if v.path.startswith(prefix)]


def state_copy(learn: Learner) -> list[np.ndarray]:
    return [np.array(v.numpy()) for vs in learn.state_variables().values() for v in vs]


# ---- groups and LR spreads ------------------------------------------------------------------
def test_default_splitter_puts_a_backbone_model_in_its_own_group():
    learn = Learner(backbone_model(), data(), quiet=True)
    assert [g.name for g in learn.groups] == ["backbone", "neck..head"]
    assert [len(g.variables) for g in learn.groups] == [6, 4]
    assert "4 trainable" in repr(learn.groups[0]) and len(learn.opts) == 2
    assert learn.opts[-1] is learn.opt
    plain = Learner(keras.Sequential([keras.Input((8,)), keras.layers.Dense(3,
                    activation="softmax")]), data(), quiet=True)
    assert len(plain.groups) == 1 and len(plain.opts) == 1


def test_default_splitter_takes_preprocessing_layers_with_the_backbone():
    keras.utils.set_random_seed(0)
    backbone = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4)], name="bb")
    inputs = keras.Input((8,))
    x = backbone(keras.layers.Rescaling(2.0, name="pre")(inputs))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="head")(x))
    learn = Learner(model, data(), quiet=True)
    assert [g.name for g in learn.groups] == ["pre..bb", "head"]


def test_group_lrs_follow_fastai():
    np.testing.assert_allclose(group_lrs(slice(1e-5, 1e-3), 3), [1e-5, 1e-4, 1e-3])
    np.testing.assert_allclose(group_lrs(slice(1e-3), 3), [1e-4, 1e-4, 1e-3])
    np.testing.assert_allclose(group_lrs(0.1, 2), [0.1, 0.1])
    np.testing.assert_allclose(group_lrs([0.1, 0.2], 2), [0.1, 0.2])
    np.testing.assert_allclose(even_mults(1e-4, 1e-2, 3), [1e-4, 1e-3, 1e-2])
    np.testing.assert_allclose(group_lrs(slice(1e-3), 1), [1e-3])


@pytest.mark.parametrize("lr,n,exc,words", [
    (slice(1e-2, 1e-4), 2, ValueError, "lo <= hi"),
    (slice(0, 1e-3), 2, ValueError, "lr.start must be a finite number > 0, got 0"),
    (slice(-1e-3), 2, ValueError, "lr.stop must be a finite number > 0, got -0.001"),
    (slice(1e-4, 1e-3, 2), 2, ValueError, "has no step"),
    (slice(1e-4, 1e-3), 1, ValueError, "one layer group"),
    ([1e-3, 1e-2, 1e-1], 2, ValueError, "one learning rate per layer group (2)"),
])
def test_bad_lr_spreads(lr, n, exc, words):
    with pytest.raises(exc) as info:
        group_lrs(lr, n)
    assert words in str(info.value)


@pytest.mark.parametrize("splitter,exc,words", [
    (lambda m: [[m.layers[1]], [m.layers[1], m.layers[2], m.layers[3]]], ValueError,
     "in groups 0 and 1"),
    (lambda m: [[m.layers[1]], [m.layers[3]]], ValueError, "leaves 2 trainable variable"),
    (lambda m: [["backbone"], m.layers[2:]], TypeError, "must be a keras Layer or Variable"),
    (lambda m: [], ValueError, "a non-empty list of groups"),
    (lambda m: "backbone", TypeError, "a list of groups"),
])
def test_bad_splitters(splitter, exc, words):
    with pytest.raises(exc) as info:
        check_groups(backbone_model(), splitter)
    assert words in str(info.value)


def test_freeze_to_out_of_range_and_freeze_on_one_group():
    learn = Learner(backbone_model(), data(), quiet=True)
    with pytest.raises(ValueError, match="n must be an int >= -1 and <= 1, got 2"):
        learn.freeze_to(2)
    with pytest.raises(TypeError, match="n must be an int"):
        learn.freeze_to(1.0)
    one = Learner(backbone_model(), data(), quiet=True, splitter=lambda m: [m.layers[1:]])
    with pytest.raises(ValueError, match="freeze\\(\\) needs at least two layer groups"):
        one.freeze()
    with pytest.raises(ValueError, match="one layer group"):
        one.fit(1, lr=slice(1e-4, 1e-3))


def test_bfloat16_trains_with_several_groups():
    learn = Learner(backbone_model(), data(), opt="adam", quiet=True,
                    mixed_precision="mixed_bfloat16")
    learn.freeze()
    learn.fit_one_cycle(1, 1e-2)
    learn.unfreeze()
    learn.fit_one_cycle(1, slice(1e-4, 1e-2))
    assert learn.precision == "mixed_bfloat16" and all(np.isfinite(learn.recorder.losses))
    assert learn.recorder.group_lrs[0] == pytest.approx([1e-5, 1e-3], rel=1e-6)


def test_float16_with_several_groups_is_refused_and_defaults_to_one():
    with pytest.raises(ValueError, match="needs one loss scale.*2 layer groups"):
        Learner(backbone_model(), data(), quiet=True, mixed_precision="mixed_float16",
                splitter=lambda m: [m.layers[1:2], m.layers[2:]])
    learn = Learner(backbone_model(), data(), quiet=True, mixed_precision="mixed_float16")
    assert len(learn.groups) == 1 and type(learn.opt).__name__ == "LossScaleOptimizer"


# ---- the workflow on one Learner ------------------------------------------------------------
def test_freeze_fit_unfreeze_lr_find_fit_on_one_learner():
    """The Keras crash ('optimizer can only be called for the variables it was originally built
    with') does not happen: each group's optimizer is built for all its variables."""
    learn = Learner(backbone_model(bn=False), data(), opt="adam", quiet=True)
    learn.freeze()
    frozen_before = weights(learn.model, "backbone/feat")
    learn.fit_one_cycle(1, 1e-2)
    for a, b in zip(frozen_before, weights(learn.model, "backbone/feat"), strict=True):
        np.testing.assert_array_equal(a, b)  # the frozen dense layer did not move
    assert int(learn.opts[0].iterations.numpy()) == 0 and int(learn.opt.iterations) == 8
    learn.unfreeze()
    res = learn.lr_find(num_it=20)
    assert len(learn.recorder.lrs) == 20 and res is not None
    learn.fit_one_cycle(1, slice(1e-4, 1e-2))
    assert int(learn.opts[0].iterations.numpy()) == 8  # the backbone's optimizer ran now
    assert not any(np.array_equal(a, b) for a, b in zip(
        frozen_before, weights(learn.model, "backbone/feat"), strict=True))
    learn.freeze()
    learn.fit(1, lr=1e-3)  # and back again, any number of times
    assert int(learn.opts[0].iterations.numpy()) == 8


@pytest.mark.parametrize("train_bn", [True, False])
def test_train_bn_keeps_or_freezes_batchnorm_in_frozen_groups(train_bn):
    learn = Learner(backbone_model(), data(), quiet=True, train_bn=train_bn)
    learn.freeze()
    bn_before = weights(learn.model, "backbone/bn")
    learn.fit(1, lr=0.05)
    after = weights(learn.model, "backbone/bn")
    moved = [not np.array_equal(a, b) for a, b in zip(bn_before, after, strict=True)]
    # gamma, beta, moving mean, moving variance
    assert moved == [train_bn] * 4
    learn.unfreeze()
    assert all(v.trainable for v in learn.groups[0].variables if "moving" not in v.path)


def test_one_step_per_group_matches_the_hand_computed_update_sgd_momentum():
    """Each group's update is that of an SGD of its own at its LR (momentum and decoupled
    weight decay shared): w -= lr_g*wd*w; m = mom*m - lr_g*g; w += m."""
    d = data(n=32, batch_size=32)  # one batch: one step
    learn = Learner(backbone_model(bn=False), d, opt=SGD(momentum=0.9), quiet=True)
    lrs, wd = [1e-3, 1e-1], 0.01
    x, y = next(iter(d.train))
    for v in d.rng_state:
        v.assign(0)
    w0 = [v.numpy() for v in learn.model.trainable_variables]
    with_grads = _grads(learn, x, y)
    for v in d.rng_state:
        v.assign(0)
    learn.fit(1, lr=lrs, wd=wd)
    for i, v in enumerate(learn.model.trainable_variables):
        lr = lrs[0] if v.path.startswith("backbone") else lrs[1]
        w = w0[i] - lr * wd * w0[i]
        m = -lr * with_grads[i]
        np.testing.assert_allclose(v.numpy(), w + m, rtol=1e-5, atol=1e-7, err_msg=v.path)
    np.testing.assert_allclose(learn.recorder.group_lrs[0], lrs, rtol=1e-6)


def test_one_step_per_group_matches_the_hand_computed_update_adamw():
    """For AdamW scaling the gradient would not reproduce a smaller LR; each group's update is
    AdamW's own at its LR: w -= lr*wd*w; m, v moments; w -= lr*sqrt(1-b2)/(1-b1)*m/(sqrt(v)+eps)."""
    d = data(n=32, batch_size=32)
    opt = keras.optimizers.AdamW(weight_decay=0.05)
    learn = Learner(backbone_model(bn=False), d, opt=opt, quiet=True)
    lrs = [1e-4, 1e-2]
    x, y = next(iter(d.train))
    for v in d.rng_state:
        v.assign(0)
    w0 = [v.numpy() for v in learn.model.trainable_variables]
    g = _grads(learn, x, y)
    for v in d.rng_state:
        v.assign(0)
    learn.fit(1, lr=lrs)
    b1, b2, eps = 0.9, 0.999, 1e-7
    for i, v in enumerate(learn.model.trainable_variables):
        lr = lrs[0] if v.path.startswith("backbone") else lrs[1]
        w = w0[i] - lr * 0.05 * w0[i]
        m, s = (1 - b1) * g[i], (1 - b2) * g[i] ** 2
        w = w - lr * math.sqrt(1 - b2) / (1 - b1) * m / (np.sqrt(s) + eps)
        np.testing.assert_allclose(v.numpy(), w, rtol=2e-5, atol=1e-7, err_msg=v.path)


def _grads(learn, x, y):
    import tensorflow as tf
    with tf.GradientTape() as tape:
        loss = learn.loss_fn(y, learn.model(x, training=True))
    return [t.numpy() for t in tape.gradient(loss, learn.model.trainable_variables)]


def test_one_cycle_with_a_slice_keeps_the_ratios_every_batch():
    learn = Learner(backbone_model(), data(), opt="adam", quiet=True)
    learn.fit_one_cycle(2, slice(1e-4, 1e-2))
    g = np.array(learn.recorder.group_lrs)
    np.testing.assert_allclose(g[:, 1], learn.recorder.lrs)
    np.testing.assert_allclose(g[:, 0] / g[:, 1], 1e-2, rtol=1e-5)
    assert learn.recorder.lrs[0] == pytest.approx(1e-2 / 10, rel=1e-6)


def test_lr_find_frozen_and_unfrozen_restores_every_group_bitwise():
    learn = Learner(backbone_model(), data(), opt="adam", quiet=True)
    learn.fit_one_cycle(1, slice(1e-4, 1e-2))  # give every optimizer slots and a step count
    learn.freeze()
    before = state_copy(learn)
    learn.lr_find(num_it=20)
    assert all(np.array_equal(a, b) for a, b in zip(before, state_copy(learn), strict=True))
    assert learn.recorder.lr_find_info["lr_mults"] == pytest.approx([1e-2, 1.0])
    learn.unfreeze()
    learn.lr_find(num_it=20)
    assert all(np.array_equal(a, b) for a, b in zip(before, state_copy(learn), strict=True))
    g = np.array(learn.recorder.group_lrs)
    np.testing.assert_allclose(g[:, 0] / g[:, 1], 1e-2, rtol=1e-5)  # the sweep keeps ratios


def test_save_load_round_trip_covers_every_group(tmp_path):
    learn = Learner(backbone_model(), data(), opt="adam", quiet=True)
    learn.fit_one_cycle(1, slice(1e-4, 1e-2))
    learn.save(tmp_path / "s")
    saved = state_copy(learn)
    other = Learner(backbone_model(seed=5), data(), opt="adam", quiet=True)
    other.load(tmp_path / "s")
    assert all(np.array_equal(a, b) for a, b in zip(saved, state_copy(other), strict=True))


@pytest.fixture(scope="module")
def fine_tuned():
    """``fine_tune(2, base_lr=1e-2)`` (one frozen epoch by default) on a fresh Learner, with
    what it returned; run once for the module: the tests below only read it."""
    learn = Learner(backbone_model(), data(), opt="adam", quiet=True)
    return learn, learn.fine_tune(2, base_lr=1e-2)


def test_fine_tune_runs_fastais_recipe_on_one_learner(fine_tuned):
    learn, (frozen, unfrozen) = fine_tuned
    assert frozen.epochs == 1 and unfrozen.epochs == 2
    p1, p2 = learn.recorder.phases
    g1, g2 = np.array(p1["group_lrs"]), np.array(p2["group_lrs"])
    # phase 1: slice(base_lr): the head at base_lr, the rest at base_lr / 10; pct_start 0.99
    np.testing.assert_allclose(g1[:, 1], one_cycle(8, 1e-2, **{**FASTAI_ONE_CYCLE,
                                                             "pct_start": 0.99})[0], rtol=1e-6)
    np.testing.assert_allclose(g1[:, 0], g1[:, 1] / 10, rtol=1e-5)
    # phase 2: base_lr / 2 = 5e-3 for the head, / lr_mult for the backbone, pct 0.3, div 5
    np.testing.assert_allclose(g2[:, 1], one_cycle(16, 5e-3, **{**FASTAI_ONE_CYCLE,
                                                              "pct_start": 0.3, "div": 5.0})[0],
                               rtol=1e-6)
    np.testing.assert_allclose(g2[:, 0], g2[:, 1] / 100, rtol=1e-5)
    assert all(v.trainable for g in learn.groups for v in g.variables if "moving" not in v.path)
    assert learn.recorder.lrs == p2["lrs"]


def test_fine_tune_checks_the_second_phase_before_the_first_trains():
    learn = Learner(backbone_model(), data(), opt="adam", quiet=True)
    with pytest.raises(ValueError, match="pct_start"):
        learn.fine_tune(1, pct_start=1.5)
    assert learn.recorder.lrs == [] and int(learn.opt.iterations.numpy()) == 0


def test_fine_tune_resumes_in_the_right_phase_at_the_right_batch(tmp_path, fine_tuned):
    ref = fine_tuned[0]  # the uninterrupted fine_tune(2, base_lr=1e-2)
    first = Learner(backbone_model(), data(), opt="adam", quiet=True)
    first.fine_tune(2, base_lr=1e-2, checkpoint=tmp_path, callbacks=[StopAfter(11)])
    # StopAfter(11) cannot fire in the frozen phase (8 steps): it stops phase 2 after step 11
    again = Learner(backbone_model(), data(), opt="adam", quiet=True)
    with pytest.warns(UserWarning, match="frozen.*already finished"):
        again.fine_tune(2, base_lr=1e-2, checkpoint=tmp_path)
    for a, b in zip(ref.model.variables, again.model.variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
    assert again.recorder.iters == list(range(16))
    np.testing.assert_array_equal(again.recorder.losses, ref.recorder.losses)


def test_default_splitter_finds_the_backbone_behind_augmentation_layers():
    keras.utils.set_random_seed(0)
    backbone = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3),
                                 keras.layers.GlobalAveragePooling2D()], name="bb")
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.RandomFlip(name="flip"),
                              keras.layers.RandomRotation(0.1, name="rot"), backbone,
                              keras.layers.Dense(3, activation="softmax", name="head")])
    rng = np.random.default_rng(0)
    images = DataBundle.from_arrays(rng.integers(0, 256, (32, 8, 8, 3), dtype=np.uint8),
                                    rng.integers(0, 3, 32), valid_pct=0, batch_size=16)
    learn = Learner(model, images, quiet=True)
    assert [g.name for g in learn.groups] == ["flip..bb", "head"]
    learn.freeze()  # refused with one group
    assert not backbone.trainable_weights and model.layers[-1].trainable_weights


# ---- layers frozen the Keras way (layer.trainable), against model.fit ------------------------
def _guide_model(seed: int = 0) -> tuple[keras.Model, keras.Model]:
    """The Keras transfer-learning guide's shape: a backbone model as the first layer, a head."""
    keras.utils.set_random_seed(seed)
    backbone = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu",
                                                                       name="feat")],
                                name="backbone")
    inputs = keras.Input((8,))
    outputs = keras.layers.Dense(3, activation="softmax", name="head")(backbone(inputs))
    return keras.Model(inputs, outputs), backbone


def _guide_keras_fit(opt_factory, shared: bool) -> list[np.ndarray]:
    """model.fit, the guide's way: frozen backbone, fit, unfreeze, compile again, fit.
    ``shared``: one optimizer built for every variable up front and compiled both times (the
    Learner's one-group case), else a fresh optimizer per compile (the guide's)."""
    import tensorflow as tf
    x, y = blobs(64)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    model, backbone = _guide_model()
    opt = opt_factory()
    if shared:
        opt.build(model.trainable_variables)  # before the freeze: every variable
    loss = keras.losses.SparseCategoricalCrossentropy()
    backbone.trainable = False
    model.compile(optimizer=opt, loss=loss)
    model.fit(ds, epochs=1, verbose=0, shuffle=False)
    backbone.trainable = True
    model.compile(optimizer=opt if shared else opt_factory(), loss=loss)
    model.fit(ds, epochs=1, verbose=0, shuffle=False)
    return [v.numpy() for v in model.trainable_variables]


@pytest.mark.parametrize("kind", ["sgd_two_groups", "adam_one_group"])
def test_a_backbone_frozen_the_keras_way_trains_as_model_fit_once_unfrozen(kind):
    """backbone.trainable = False before the Learner, fit, backbone.trainable = True, fit: the
    weights are model.fit's (the guide's recompile with SGD; with Adam in one group, Keras'
    one optimizer built for every variable, so the backbone's slots start at the unfreeze)."""
    import tensorflow as tf
    shared = kind == "adam_one_group"
    factory = ((lambda: keras.optimizers.Adam(1e-2)) if shared
               else (lambda: keras.optimizers.SGD(0.1)))
    expected = _guide_keras_fit(factory, shared)
    x, y = blobs(64)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    model, backbone = _guide_model()
    backbone.trainable = False
    learn = Learner(model, DataBundle.from_datasets(ds), opt=factory(), quiet=True,
                    loss_fn=keras.losses.SparseCategoricalCrossentropy(),
                    splitter=(lambda m: [m.layers[1:]]) if shared else None)
    assert len(learn.groups) == (1 if shared else 2)
    frozen = weights(model, "backbone/feat")
    learn.fit(1)
    for a, b in zip(frozen, weights(model, "backbone/feat"), strict=True):
        np.testing.assert_array_equal(a, b)
    backbone.trainable = True
    learn.fit(1)
    got = [v.numpy() for v in model.trainable_variables]
    assert len(got) == len(expected) == 4
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_learner_freezing_after_a_keras_way_freeze_keeps_the_backbone_flag_in_step():
    """learn.unfreeze() after a Keras-way freeze sets backbone.trainable too, so setting it
    False again freezes (Keras skips assigning the value an attribute already holds)."""
    model, backbone = _guide_model()
    backbone.trainable = False
    learn = Learner(model, data(64, 16), quiet=True)
    learn.unfreeze()
    assert backbone.trainable
    backbone.trainable = False
    before = weights(model, "backbone/feat")
    learn.fit(1, lr=0.1)
    for a, b in zip(before, weights(model, "backbone/feat"), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_variable_no_optimizer_was_built_for_is_refused_by_name():
    model, backbone = _guide_model()
    kernel = backbone.layers[0].kernel
    kernel.trainable = False  # by itself, as LoRA freezes kernels: not built for
    learn = Learner(model, data(64, 16), quiet=True)
    kernel.trainable = True
    lrs = learn.hypers.lrs
    with pytest.raises(ValueError, match=r"no layer group's optimizer was built.*feat/kernel"):
        learn.fit(1, lr=0.5)
    assert learn.hypers.lrs == lrs  # refused before the fit set its LR


def _bits(values) -> list[bytes]:
    return [np.asarray(v).tobytes() for v in values]


@pytest.mark.parametrize("kind", ["sgd_two_groups", "adam_one_group"])
def test_lr_find_and_fit_one_cycle_after_a_keras_way_unfreeze(kind):
    """backbone.trainable = False before the Learner, fit, backbone.trainable = True: lr_find
    then leaves every variable bit for bit (weights, each group's slots and counters, the
    trainable flags, the hyper-parameters) and fit_one_cycle trains the unfrozen backbone."""
    one_group = kind == "adam_one_group"
    model, backbone = _guide_model()
    backbone.trainable = False
    learn = Learner(model, data(64, 16), opt="adam" if one_group else SGD(0.1, momentum=0.9),
                    quiet=True, splitter=(lambda m: [m.layers[1:]]) if one_group else None)
    assert len(learn.groups) == (1 if one_group else 2)
    learn.fit(1, lr=0.05)
    backbone.trainable = True
    state, variables = state_copy(learn), [v.numpy() for v in model.variables]
    flags, hypers = [v.trainable for v in model.variables], learn.hypers.as_dict()
    learn.lr_find(num_it=20, end_lr=1.0, quiet=True)
    losses = learn.recorder.losses  # the sweep ran, training as it went
    assert len(losses) >= 10 and np.isfinite(losses[:10]).all() and len(set(losses)) > 1
    assert _bits(state_copy(learn)) == _bits(state)
    assert _bits(v.numpy() for v in model.variables) == _bits(variables)
    assert [v.trainable for v in model.variables] == flags == [True] * 4
    assert learn.hypers.as_dict() == hypers
    before = {name: weights(model, name) for name in ("backbone/feat", "head")}
    learn.fit_one_cycle(1, 0.05)
    for name, values in before.items():
        after = weights(model, name)
        assert len(after) == len(values) == 2
        for a, b in zip(values, after, strict=True):
            assert np.isfinite(b).all() and not np.array_equal(a, b), name
