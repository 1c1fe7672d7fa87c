"""What a Keras user would do instead of an LR finder, on the same problems: ``model.fit`` at
the optimizer's default LR, Schedule-Free AdamW at its defaults, and KerasTuner's random search
over a log-uniform LR (with the compute of sweep + race, and with 8 full trials).

Every peer builds a fresh Keras model with the seed's initial weights and trains it with
``model.fit`` on the Learner's own ``DataBundle`` pipelines, with the data-order counter reset:
the same batches in the same order as the Learner's runs. A fine-tuning problem follows Keras'
transfer-learning guide: the body frozen for one epoch at the LR, then everything at LR / 100
(the guide's 1e-5 for Adam's default 1e-3) for the remaining epochs.
"""

from __future__ import annotations

import math
import tempfile

import keras
import numpy as np

from .methods import Budget, Choice, register
from .problems import keras_opt

__all__ = ["keras_recipe", "schedule_free_average", "register_kerastuner_equal",
           "KT_EQUAL_BUDGET", "FINE_TUNE_LR_DIVISOR", "SF_BN_BATCHES"]

FINE_TUNE_LR_DIVISOR = 100.0
SF_BN_BATCHES = 50  # batches that re-estimate BatchNorm statistics at the averaged point
#: kerastuner-equal's search budget in full-fit units (sweep + race's, once the race exists).
KT_EQUAL_BUDGET = 1.0


def keras_recipe(setup, model: keras.Model, make_opt, lr: float | None, epochs: int,
                 callbacks: list | None = None) -> keras.callbacks.History:
    """``model.fit`` for ``epochs`` at a constant LR (``make_opt(lr)``; None: its default),
    or Keras' two-phase transfer recipe for a fine-tuning problem; returns the last History.
    The data-order counter is reset first, so the batches are the Learner's."""
    setup.reset_data_order()
    fit = {"validation_data": setup.data.valid, "verbose": 0, "shuffle": False}
    if not setup.problem.fine_tune:
        model.compile(make_opt(lr), setup.keras_loss(), metrics=setup.keras_metrics())
        return model.fit(setup.data.train, epochs=epochs, callbacks=callbacks, **fit)
    body = model.layers[0]
    body.trainable = False
    opt = make_opt(lr)
    model.compile(opt, setup.keras_loss(), metrics=setup.keras_metrics())
    model.fit(setup.data.train, epochs=1, **fit)
    body.trainable = True
    lr2 = float(keras.ops.convert_to_numpy(opt.learning_rate)) / FINE_TUNE_LR_DIVISOR
    model.compile(make_opt(lr2), setup.keras_loss(), metrics=setup.keras_metrics())
    return model.fit(setup.data.train, epochs=epochs - 1, callbacks=callbacks, **fit)


def _curve(history: keras.callbacks.History) -> list[dict]:
    h = history.history
    return [{k: float(v[i]) for k, v in h.items()} for i in range(len(next(iter(h.values()))))]


@register("keras-default", onecycle=True, stage=2)
def keras_default(learn, setup, budget: Budget) -> Choice:
    """``model.fit(epochs)`` at the optimizer's default LR, held constant (Keras' guides)."""
    model = setup.fresh_model()
    spec = setup.problem.opt
    history = keras_recipe(setup, model, lambda lr: keras_opt(spec, lr), None, budget.epochs)
    lr = float(keras.ops.convert_to_numpy(keras_opt(spec).learning_rate))
    return Choice(lr, cost=0.0, scores={"": setup.score(model)}, final_cost=1.0,
                  info={"curve": _curve(history)})


def schedule_free_average(opt, model: keras.Model) -> list[tuple]:
    """``x = (y - (1 - beta_1) z) / beta_1`` for every variable the optimizer trains: ``y``
    the model's weights, ``z`` the optimizer's ``momentum`` slot (Keras' ScheduleFreeAdamW
    keeps z there; read through its private index, checked by shape)."""
    b1 = float(opt.beta_1)
    pairs = []
    for v in model.trainable_variables:
        z = opt._momentums[opt._get_variable_index(v)]  # noqa: SLF001 (no public accessor)
        if tuple(z.shape) != tuple(v.shape):
            raise RuntimeError(f"ScheduleFreeAdamW slot for {v.path} has shape {z.shape}")
        y = np.asarray(v.numpy())
        pairs.append((v, (y - (1 - b1) * np.asarray(z.numpy())) / b1))
    return pairs


def _bn_refresh(setup, model: keras.Model) -> int:
    """Re-estimate BatchNorm statistics at the current weights (the Schedule-Free paper's
    recipe): forward passes in training mode over up to :data:`SF_BN_BATCHES` batches."""
    if not any(isinstance(layer, keras.layers.BatchNormalization)
               for layer in _all_layers(model)):
        return 0
    n = 0
    for x, _ in setup.data.train.take(SF_BN_BATCHES):
        model(x, training=True)
        n += 1
    return n


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)


@register("schedule-free", stage=2)
def schedule_free(learn, setup, budget: Budget) -> Choice:
    """``keras.optimizers.ScheduleFreeAdamW()`` at its defaults with ``model.fit``; scored at
    the averaged point x (the paper's evaluation: the primary score) and at the trained
    weights y (the ``@y`` row)."""
    model = setup.fresh_model()
    opts = []

    def make(lr):
        opts.append(keras.optimizers.ScheduleFreeAdamW() if lr is None
                    else keras.optimizers.ScheduleFreeAdamW(learning_rate=lr))
        return opts[-1]

    history = keras_recipe(setup, model, make, None, budget.epochs)
    at_y = setup.score(model)
    for v, x in schedule_free_average(opts[-1], model):
        v.assign(x)
    refreshed = _bn_refresh(setup, model)
    return Choice(None, cost=0.0, scores={"": setup.score(model), "y": at_y}, final_cost=1.0,
                  info={"curve": _curve(history), "bn_refresh_batches": refreshed})


class _LRHyperModel:
    """KerasTuner hypermodel: one log-uniform LR over the problem's grid range; each trial
    starts from the seed's initial weights and data order and runs :func:`keras_recipe`."""

    def __new__(cls, setup):
        import keras_tuner as kt

        lo, hi = (10 ** e for e in setup.problem.grid)
        spec = setup.problem.opt

        class HyperModel(kt.HyperModel):
            def build(self, hp):
                hp.Float("lr", lo, hi, sampling="log")
                return setup.fresh_model()

            def fit(self, hp, model, *args, epochs=1, callbacks=None, **kwargs):
                return keras_recipe(setup, model, lambda lr: keras_opt(spec, lr), hp.get("lr"),
                                    epochs, callbacks)

        return HyperModel()


def _search(setup, trials: int, epochs: int, directory: str):
    import keras_tuner as kt

    objective = (kt.Objective("val_loss", "min") if setup.problem.regression
                 else kt.Objective("val_accuracy", "max"))
    tuner = kt.RandomSearch(_LRHyperModel(setup), objective=objective, max_trials=trials,
                            seed=setup.seed, directory=directory, project_name="lr",
                            overwrite=True)
    tuner.search(epochs=epochs, verbose=0)
    done = [{"lr": t.hyperparameters.get("lr"), "score": t.score}
            for t in tuner.oracle.trials.values()]
    return tuner, done


def kt_trials(budget: Budget, search_budget: float) -> tuple[int, int]:
    """(trials, epochs per trial) for a search of ``search_budget`` full fits: trials of about
    a fifth of the budget (at least 1 epoch, 2 when fine-tuning), as many as fit."""
    low = 2 if budget.fine_tune else 1
    epochs = max(low, round(budget.epochs / 5))
    return max(1, math.floor(search_budget * budget.epochs / epochs + 1e-9)), epochs


def register_kerastuner_equal(search_budget: float = KT_EQUAL_BUDGET) -> None:
    """(Re-)register ``kerastuner-equal`` with a search of ``search_budget`` full fits (the
    budget is part of its cache key), then a full ``model.fit`` at the best LR (KerasTuner's
    advice: retrain with the best hyper-parameters)."""

    @register("kerastuner-equal", version=f"1-b{search_budget:g}", onecycle=True, stage=2)
    def kerastuner_equal(learn, setup, budget: Budget) -> Choice:
        trials, epochs = kt_trials(budget, search_budget)
        with tempfile.TemporaryDirectory() as tmp:
            tuner, done = _search(setup, trials, epochs, tmp)
            lr = float(tuner.get_best_hyperparameters(1)[0].get("lr"))
        model = setup.fresh_model()
        history = keras_recipe(setup, model, lambda x: keras_opt(setup.problem.opt, x), lr,
                               budget.epochs)
        return Choice(lr, cost=trials * epochs / budget.epochs,
                      scores={"": setup.score(model)}, final_cost=1.0,
                      info={"trials": done, "trial_epochs": epochs,
                            "curve": _curve(history)})


register_kerastuner_equal()


@register("kerastuner-8", onecycle=True, stage=3)
def kerastuner_8(learn, setup, budget: Budget) -> Choice:
    """8 full trials; the user keeps the best trial's model (KerasTuner's
    ``get_best_models``: the weights of its best epoch)."""
    with tempfile.TemporaryDirectory() as tmp:
        tuner, done = _search(setup, 8, budget.epochs, tmp)
        lr = float(tuner.get_best_hyperparameters(1)[0].get("lr"))
        score = setup.score(tuner.get_best_models(1)[0])
    return Choice(lr, cost=8.0, scores={"": score}, final_cost=0.0, info={"trials": done})
