"""Small image-folder trees on disk, written from the shipped CIFAR sample (PNG and JPEG)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from tflearner import load_cifar10

CLASSES = ("airplane", "automobile", "bird")  # CIFAR labels 0, 1, 2: sorted already


def cifar_images(per_class: int = 30) -> dict[str, np.ndarray]:
    """``{class name: (per_class, 32, 32, 3) uint8}`` from the CIFAR sample."""
    (x, y), _ = load_cifar10(sample=True)
    y = y.ravel()
    return {name: x[y == c][:per_class] for c, name in enumerate(CLASSES)}


def write_image(path: Path, img: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    enc = tf.io.encode_png if path.suffix == ".png" else tf.io.encode_jpeg
    tf.io.write_file(str(path), enc(img))


def write_tree(root: Path, per_class: int = 30, classes: tuple[str, ...] = CLASSES
               ) -> dict[str, np.ndarray]:
    """``root/<class>/<i>.png`` (odd i) and ``.jpg`` (even i); returns the pixels written."""
    images = cifar_images(per_class)
    for name in classes:
        for i, img in enumerate(images[name]):
            write_image(root / name / f"{i:03d}.{'png' if i % 2 else 'jpg'}", img)
    return images
