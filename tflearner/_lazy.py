"""Lazy package attributes (PEP 562): a package's public names imported on first access.

``import tflearner`` (and ``import tflearner.data``, ``tflearner.inference``) costs almost
nothing: the submodule that provides a name, and TensorFlow with it, is imported the first time
the name is read (``tflearner.Learner``, ``from tflearner import Learner``). That lets the
``tflearner`` command answer ``--help`` and argument errors without importing TensorFlow. Each
package also imports its names under ``typing.TYPE_CHECKING``, for type checkers and the API
docs (griffe reads imports statically); ``tests/test_lazy.py`` checks that the two agree.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable
from typing import Any


def attach(package: str, exports: dict[str, str], submodules: Iterable[str] = ()
           ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``.

    ``exports`` maps each public name to the submodule that defines it, relative to the package
    (``{"Learner": ".learner"}``); a value read once is stored on the package, so later reads
    are plain attribute look-ups. Other names that are submodules of the package
    (``tflearner.schedules``) are imported on access too, as an eager ``__init__`` would have
    made them attributes. ``submodules``: the names ``dir()`` lists besides the module's own
    attributes and ``exports`` (the package's submodules).
    """
    extra = frozenset(exports) | frozenset(submodules)

    def __getattr__(name: str) -> Any:
        module = sys.modules[package]
        source = exports.get(name)
        if source is not None:
            value = getattr(importlib.import_module(source, package), name)
            setattr(module, name, value)
            return value
        if not name.startswith("__"):
            try:
                return importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{package}.{name}":
                    raise
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | extra)

    return __getattr__, __dir__
