"""Adam (or AdamW with weight decay) with one-cycle LR and beta_1 cycling on LeNet-5.

    python examples/adam_one_cycle.py --data-dir ~/data/cifar-10-python.tar.gz
    python examples/adam_one_cycle.py --adamw --max-lr 7e-3 --wd 0.1   # the results' row (g)

beta_1 goes 0.95 → 0.85 → 0.95 against the LR, per batch; recorder.plot_sched() shows both.
On the full data, AdamW 7e-3 / wd 0.1 for 10 epochs gives ~64 % (docs/results.md).
"""

from __future__ import annotations

from pathlib import Path

import keras
import matplotlib

matplotlib.use("Agg")
from _common import data, parser  # noqa: E402

from tflearner import Learner, LeNet  # noqa: E402


def main(argv: list[str] | None = None) -> float:
    p = parser(__doc__, epochs=10)
    p.add_argument("--adamw", action="store_true", help="AdamW instead of Adam")
    p.add_argument("--max-lr", type=float, default=None,
                   help="one-cycle's peak LR; without it, lr_find's suggestion")
    p.add_argument("--wd", type=float, default=None,
                   help="weight decay; without it, the optimizer's own")
    args = p.parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    d = data(args)
    learn = Learner(LeNet(), d, opt="adamw" if args.adamw else "adam", wd=args.wd)
    max_lr = args.max_lr
    if max_lr is None:
        max_lr = learn.lr_find().robust or 3e-3
    learn.fit_one_cycle(args.epochs, max_lr)
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        learn.recorder.plot_sched()[0].figure.savefig(Path(args.out) / "sched.png", dpi=110)
    acc = learn.validate(d.test)["accuracy"]
    print(f"max_lr {max_lr:.3g}: test accuracy {acc:.2%}")
    return acc


if __name__ == "__main__":
    main()
