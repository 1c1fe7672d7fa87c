"""The seeded train/valid split every DataBundle constructor uses (arrays, folders, CSV files)."""

from __future__ import annotations

import numpy as np

from ..core.checks import check_real

__all__ = ["split_indices"]


def split_indices(n: int, valid_pct: float, seed: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random split of ``range(n)`` into sorted ``(train_idx, valid_idx)``.

    ``n_valid = round(n * valid_pct)``; the split depends only on ``(n, valid_pct, seed)``.
    """
    valid_pct = check_real("valid_pct", valid_pct, 0.0, 1.0, high_open=True,
                           requirement="a finite number in [0, 1)",
                           fix="the fraction held out for validation, e.g. 0.1 (0: none).")
    n_valid = int(round(n * valid_pct))
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[n_valid:]), np.sort(perm[:n_valid])
