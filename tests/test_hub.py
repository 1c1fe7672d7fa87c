"""KerasHub tasks on a Learner: the default [backbone, head] split, freeze, lr_find frozen and
unfrozen restoring bitwise, fine_tune with discriminative LRs, LoRA training only its variables
and the head.

Every model is a tiny KerasHub backbone built from its config with random weights (no download):
a ResNet ``ImageClassifier``, a ViT ``ViTImageClassifier`` and a BERT ``BertTextClassifier``
whose preprocessor tokenizes string inputs from a ten-word vocabulary.

Without keras-hub installed (``pip install -e ".[hub]"``) the module is skipped, except in CI
(``$CI`` set, as ``.ci/run`` does), where a missing keras-hub is an error: CI installs it.
"""

from __future__ import annotations

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tflearner import FASTAI_ONE_CYCLE, DataBundle, Learner, one_cycle
from tflearner.optim.groups import default_splitter

if os.environ.get("CI"):
    import keras_hub
else:
    keras_hub = pytest.importorskip("keras_hub")

# A few batches of BatchNormalization on purpose: no short-fit hint.
pytestmark = pytest.mark.filterwarnings("ignore::tflearner.models.BatchNormMomentumWarning",
                                        "ignore:.*no suggestion:UserWarning")

WORDS = "the a movie film plot was is good great bad awful".split()
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]


def resnet_classifier(seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    backbone = keras_hub.models.ResNetBackbone(
        input_conv_filters=[64], input_conv_kernel_sizes=[3], stackwise_num_filters=[64],
        stackwise_num_blocks=[1], stackwise_num_strides=[1], block_type="basic_block",
        use_pre_activation=False, image_shape=(16, 16, 3))
    return keras_hub.models.ImageClassifier(backbone=backbone, num_classes=3, compile=False)


def vit_classifier(seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    backbone = keras_hub.models.ViTBackbone(image_shape=(16, 16, 3), patch_size=8, num_layers=1,
                                            num_heads=2, hidden_dim=16, mlp_dim=32)
    return keras_hub.models.ViTImageClassifier(backbone=backbone, num_classes=3, compile=False)


def bert_classifier(seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=VOCAB, lowercase=True)
    preprocessor = keras_hub.models.BertTextClassifierPreprocessor(tokenizer,
                                                                   sequence_length=8)
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=len(VOCAB), num_layers=1, num_heads=2, hidden_dim=16,
        intermediate_dim=32, max_sequence_length=8)
    return keras_hub.models.BertTextClassifier(backbone, num_classes=2,
                                               preprocessor=preprocessor, compile=False)


def image_data() -> DataBundle:
    rng = np.random.default_rng(0)
    x = rng.random((48, 16, 16, 3), dtype=np.float32)
    return DataBundle.from_arrays(x, rng.integers(0, 3, 48), batch_size=16, valid_pct=0.0,
                                  seed=0)


def raw_text(n: int = 48, batch_size: int = 16) -> tf.data.Dataset:
    """Batches of (sentence, label): label 1 when the sentence says good or great."""
    rng = np.random.default_rng(0)
    texts = np.array([" ".join(rng.choice(WORDS, 5)) for _ in range(n)])
    labels = np.array([int("good" in t or "great" in t) for t in texts])
    return tf.data.Dataset.from_tensor_slices((texts, labels)).batch(batch_size)


def text_data(task: keras.Model) -> DataBundle:
    """The strings through the task's own preprocessor (what its model.fit would do)."""
    return DataBundle.from_datasets(raw_text().map(task.preprocess_samples))


def build(kind: str) -> Learner:
    if kind == "text":
        task = bert_classifier()
        return Learner(task, text_data(task), opt="adam", quiet=True)
    task = resnet_classifier() if kind == "image" else vit_classifier()
    return Learner(task, image_data(), opt="adam", quiet=True)


def weights(variables) -> list:
    """The float variables: weights and statistics, not dropout's seed-generator states (which
    move in any training-mode call, frozen or not)."""
    return [v for v in variables if "seed_generator" not in v.path]


def values(variables) -> list[np.ndarray]:
    return [np.array(v.numpy()) for v in variables]


def state_copy(learn: Learner) -> list[np.ndarray]:
    return values([v for vs in learn.state_variables().values() for v in vs])


def head_layers(learn: Learner) -> list[str]:
    return [layer.name for layer in learn.groups[1].layers]


# ---- the default split ---------------------------------------------------------------------
@pytest.mark.parametrize("kind, head", [
    ("image", ["pooler", "output_dropout", "predictions"]),
    ("text", ["classifier_dropout", "logits"]),
])
def test_a_task_splits_into_its_backbone_and_its_head(kind, head):
    learn = build(kind)
    assert learn.groups[0].layers == (learn.model.backbone,)
    assert head_layers(learn) == head and len(learn.opts) == 2
    backbone_ids = {id(v) for v in learn.model.backbone.variables}
    assert {id(v) for v in learn.groups[0].variables} == backbone_ids


def test_layers_before_a_named_backbone_join_it_unless_they_train():
    keras.utils.set_random_seed(0)
    backbone = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8)], name="bb")
    inputs = keras.Input((4,))
    scaled = keras.layers.Rescaling(0.5, name="pre")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, name="head")(backbone(scaled)))
    model.backbone = backbone
    assert default_splitter(model) == [[model.get_layer("pre"), backbone],
                                       [model.get_layer("head")]]
    trained = keras.layers.Dense(4, name="pre")(inputs)  # weights before it: no backbone split
    model = keras.Model(inputs, keras.layers.Dense(2, name="head")(backbone(trained)))
    model.backbone = backbone
    assert len(default_splitter(model)) == 1


def test_string_batches_reach_the_task_only_through_its_preprocessor():
    task = bert_classifier()
    with pytest.raises(ValueError, match=r"preprocessor first: ds\.map\(model\.preprocess"):
        Learner(task, DataBundle.from_datasets(raw_text()), quiet=True)
    spec = text_data(task).train.element_spec[0]
    assert set(spec) == {"token_ids", "segment_ids", "padding_mask"}


# ---- freeze, lr_find, fine_tune ---------------------------------------------------------------
def restores(learn: Learner) -> bool:
    """Whether lr_find leaves every variable of the Learner bitwise as it found it."""
    before = state_copy(learn)
    learn.lr_find(num_it=6)
    return all(np.array_equal(a, b) for a, b in zip(before, state_copy(learn), strict=True))


@pytest.mark.parametrize("kind", ["image", "text"])
def test_freeze_trains_the_head_lr_find_restores_and_fine_tune_trains_both_at_a_slice(kind):
    learn = build(kind)
    backbone = values(weights(learn.model.backbone.variables))
    head = values(weights(learn.groups[1].variables))
    learn.freeze()
    learn.fit(1, 1e-2)
    # BatchNormalization freezes with its group (train_bn=False): moving statistics included
    for a, v in zip(backbone, weights(learn.model.backbone.variables), strict=True):
        np.testing.assert_array_equal(a, v.numpy(), err_msg=v.path)
    assert not any(np.array_equal(a, v.numpy())
                   for a, v in zip(head, weights(learn.groups[1].variables), strict=True))
    assert restores(learn)  # frozen: the head's optimizer has slots and a step count
    learn.unfreeze()
    assert restores(learn) and len(learn.recorder.lrs) == 6
    learn.fine_tune(1, base_lr=1e-2)
    g2 = np.array(learn.recorder.phases[1]["group_lrs"])
    np.testing.assert_allclose(g2[:, 1], one_cycle(3, 5e-3, **{**FASTAI_ONE_CYCLE,
                                                             "pct_start": 0.3, "div": 5.0})[0],
                               rtol=1e-6)
    np.testing.assert_allclose(g2[:, 0], g2[:, 1] / 100, rtol=1e-5)  # slice(lr / 100, lr)
    trained = [v for v in weights(learn.model.backbone.variables) if v.trainable]
    assert trained and all(not np.array_equal(a, v.numpy()) for a, v in zip(
        backbone, weights(learn.model.backbone.variables), strict=True) if v.trainable)


# ---- LoRA -------------------------------------------------------------------------------------
def lora_learner(kind: str) -> tuple[Learner, set[int]]:
    """A Learner over a task whose backbone has LoRA of rank 2, and the ids of the variables
    enable_lora left trainable (what the task's own model.fit would train)."""
    task = bert_classifier() if kind == "text" else vit_classifier()
    task.backbone.enable_lora(2)
    # B starts at zero and A's gradient is proportional to B: start B as after some training,
    # so that both factors move within a few batches
    rng = np.random.default_rng(0)
    for v in task.backbone.variables:
        if v.name == "lora_kernel_b":
            v.assign(rng.normal(0, 0.1, v.shape).astype("float32"))
    keras_trains = {id(v) for v in task.trainable_variables}
    data = text_data(task) if kind == "text" else image_data()
    return Learner(task, data, opt="adam", quiet=True), keras_trains


@pytest.mark.parametrize("kind", ["image", "text"])
def test_lora_trains_only_its_variables_and_the_head_and_lr_find_restores(kind):
    learn, keras_trains = lora_learner(kind)
    backbone = learn.model.backbone
    lora = [v for v in backbone.variables if v.name.startswith("lora_")]
    assert lora and {id(v) for v in learn.groups[0].variables} == (
        keras_trains - {id(v) for v in learn.groups[1].variables})
    before = {id(v): np.array(v.numpy()) for v in weights(learn.model.variables)}
    learn.fine_tune(1, base_lr=1e-2)  # freeze, fit, unfreeze, fit
    changed = {id(v) for v in weights(learn.model.variables)
               if not np.array_equal(before[id(v)], v.numpy())}
    assert changed <= keras_trains  # every weight LoRA froze is bitwise unchanged
    assert {id(v) for v in lora} <= changed  # both factors of every LoRA layer trained
    assert {id(v) for v in weights(learn.groups[1].variables)} <= changed  # and the head
    frozen = [v for v in weights(backbone.variables) if id(v) not in keras_trains]
    assert frozen and not any(v.trainable for v in frozen)  # unfreeze kept LoRA's freeze
    assert restores(learn)
