"""What a Learner is built from and how its verbs train, one concept per module.

* :mod:`~tflearner.training.losses`: the loss given by name or as a function, as a Keras ``Loss``;
* :mod:`~tflearner.training.setup`: probe, loss, labels, metrics, class weights ->
  :class:`~tflearner.training.setup.TrainingSetup`;
* :mod:`~tflearner.training.optimizers`: the strategy, one optimizer per layer group and their
  hyper-parameters -> :class:`~tflearner.training.optimizers.GroupOptimizers`;
* :mod:`~tflearner.training.fitting`: the one path from a fit verb into the loop;
* :mod:`~tflearner.training.policies`: ``fit_one_cycle`` / ``fit_flat_cos`` / ``fit_sgdr`` through
  the one schedule builder (:func:`tflearner.schedules.fit_plan`);
* :mod:`~tflearner.training.transfer`: ``fine_tune``.

Each takes what it needs (parts, or a handle protocol the Learner satisfies); none imports the
Learner.
"""

__all__: list[str] = []
