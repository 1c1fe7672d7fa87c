"""Your own images, the whole project in one Learner: an image folder in, ``lr_find`` and
``fit_one_cycle``, what the model gets wrong, TTA, then export and predict from the files.

    python examples/own_images.py --folder path/to/photos --out runs/photos

``--folder`` is an ImageNet-style tree (``photos/<class>/*.jpg``, or ``train/`` and ``valid/``
sub-trees). Without it, the example writes one from the CIFAR-10 sample that ships inside
tflearner (10 classes, PNG and JPEG files) into the output folder, so it runs offline. The model
is LeNet-5 at 32 x 32; the plots in ``docs/images.md`` come from this script.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import keras
import numpy as np
from _common import described

from tflearner import (
    CIFAR10_CLASSES,
    ClassificationInterpretation,
    DataBundle,
    Learner,
    LeNet,
    aug_transforms,
    load_cifar10,
    load_learner,
)
from tflearner.data.folder import write_image_folder


def write_sample_tree(root: Path, limit: int | None = None) -> Path:
    """``root/train/<class>/`` and ``root/valid/<class>/`` from the shipped CIFAR sample: its
    training images and its test images (the first ``limit`` of each), alternately PNG and
    JPEG."""
    (x, y), (xt, yt) = load_cifar10(sample=True)
    write_image_folder(root / "train", x[:limit], y[:limit], CIFAR10_CLASSES)
    write_image_folder(root / "valid", xt[:limit], yt[:limit], CIFAR10_CLASSES)
    return root


def main(argv: list[str] | None = None) -> float:
    p = described(__doc__)
    p.add_argument("--folder", default=None,
                   help="image folder; without it, a tree written from the CIFAR sample")
    p.add_argument("--epochs", type=int, default=12, help="training epochs")
    p.add_argument("--batch-size", type=int, default=64, help="images per batch")
    p.add_argument("--seed", type=int, default=0, help="weights, split and data order")
    p.add_argument("--out", default=None,
                   help="folder for the plots and the export; without it, a temporary folder")
    p.add_argument("--num-it", type=int, default=100, help="lr_find iterations")
    p.add_argument("--limit", type=int, default=None,
                   help="images per split of the sample tree; without it, all")
    args = p.parse_args(argv)
    out = Path(args.out or tempfile.mkdtemp(prefix="tflearner-own-images-"))
    out.mkdir(parents=True, exist_ok=True)
    folder = Path(args.folder) if args.folder else write_sample_tree(out / "images", args.limit)

    keras.utils.set_random_seed(args.seed)
    data = DataBundle.from_folder(folder, img_size=32, batch_size=args.batch_size,
                                  seed=args.seed, augment=aug_transforms())
    print(data, data.classes)
    data.show_batch(9)[0, 0].figure.savefig(out / "show_batch.png", dpi=90)

    learn = Learner(LeNet(num_classes=len(data.classes)), data, opt="adam", quiet=True)
    found = learn.lr_find(num_it=args.num_it)
    print(f"lr_find: {found}")
    learn.fit_one_cycle(args.epochs, found.robust or 3e-3)
    print(learn.validate())

    interp = ClassificationInterpretation.from_learner(learn)
    print("most confused:", interp.most_confused(min_val=3)[:5])
    interp.plot_confusion_matrix().figure.savefig(out / "confusion_matrix.png", dpi=90)
    interp.plot_top_losses(9)[0, 0].figure.savefig(out / "top_losses.png", dpi=90)
    learn.show_results(9)[0, 0].figure.savefig(out / "show_results.png", dpi=90)

    probs, targets = learn.get_preds()
    acc = float(np.mean(probs.argmax(1) == targets))
    tta_probs, _ = learn.tta()
    tta_acc = float(np.mean(tta_probs.argmax(1) == targets))
    print(f"validation accuracy {acc:.2%}, with TTA (n=4, beta=0.25) {tta_acc:.2%}")

    export = learn.export(out / "export")
    inf = load_learner(export)
    files = data.meta["files"]["valid"][:3]
    for f in files:
        label, index, p_ = inf.predict(f)
        assert learn.predict(f)[1] == index
        print(f"{f}: {label} ({p_[index]:.2f})")
    return acc


if __name__ == "__main__":
    main()
