"""The LR battery: does a way of choosing the learning rate hold on problems it was not tuned on?

For every problem and seed (0, 1, 2), every run starts from the seed's initial weights and data
order. The battery trains the user's final fit (``fit_one_cycle(epochs, lr)``; ``fine_tune``
for a transfer problem) at every LR of a half-decade grid spanning both cliffs (the **oracle**
is the grid's best; the spread over seeds at the best LR is the **noise floor**), then asks
every registered **method** for its LR and trains the final fit there, or, for a ``model.fit``
peer, takes the score of the model it trained. Scores are on a **test** split that no method
sees (methods may use the validation split). Regret = best grid score - score, in points.
Compute is counted in full-fit units. See ``methods.py`` to plug in a method, ``report.py``
for the definitions, ``oracle_rerun.py`` for the noise-aware ceiling (the grid's best LR
trained again, and the fresh regret it defines), ``docs/lr_finder.md`` ("The battery") for the
results.

    python -m benchmarks.lr_battery --cifar PATH/cifar-10-python.tar.gz \\
        --cache benchmarks/results/lr_battery-cache.json --json RESULTS.json --plot PNG

The split (fixed before any result existed; never change it, add problems instead). Constants
of a rule are chosen on the **tuning** set only; the targets are on the **held-out** set.

| tuning (15) | held-out (16) |
|---|---|
| digits-mlp-sgd (old) | digits-mlp-sgdmom (old) |
| digits-mlp-adam-b128-30ep (old) | digits-cnn-adamw (old) |
| wine-mlp-sgdmom (old) | cancer-mlp-adamw (old) |
| diabetes-mlp-adam-regression (old) | cifar3k-bncnn-sgdmom (old) |
| cifar3k-lenet-sgdmom (old) | cifar-finetune-adam (old) |
| cifar3k-resnet-adamw (old) | friedman-mlp-adagrad-regression (Adagrad, regression) |
| digits-finetune-sgdmom (small transfer) | digitrows-conv1d-sgdmom (1-D conv) |
| motif-conv1d-adam (1-D conv) | cancer-embed-adamax (embeddings, Adamax) |
| tabsynth-embed-adamax (embeddings, Adamax) | digits-cnn-muon (Muon) |
| digits-mlp-muon (Muon) | cifar3k-lenet-adam-ls (label smoothing) |
| digits-cnn-sgdmom-ls (label smoothing) | motif-conv1d-sgdmom-b512 (batch 512) |
| digits-mlp-adam-b512 (batch 512) | cifar10-lenet-sgd (LeNet-5 + SGD, full CIFAR-10) |
| digits-cnn-sgd (plain SGD conv net) | demo@onednn1-t2, demo@onednn0-t2 (the demo, |
| cancer-mlp-adagrad (Adagrad) | demo@onednn1-t1, demo@onednn0-t1  numerics variants) |
| cancer-mlp-lion (Lion, sign-based) | |

Problems marked (old) are the combinations of ``benchmarks/suggest_battery.py`` (now scored on
a test split); the demo's variants set ``TF_ENABLE_ONEDNN_OPTS`` and ``TF_NUM_INTRAOP_THREADS``
in a child process before TensorFlow is imported.
"""

__all__: list[str] = []
