"""Argument checks for the public boundary, with one message format.

Every check raises before any expensive work starts, with a message that names the argument, the
value received and the fix::

    <name> must be <requirement>, got <value>[ (<type>)]; <fix>

``TypeError`` for the wrong kind of value (a string where a number belongs, a bool where an int
belongs), ``ValueError`` for the right kind out of range. Each check returns the value converted
to its plain Python type. This module imports only the standard library and numpy, so the pure
modules (schedules, suggestions) use it too.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["fail", "check_int", "check_real", "check_positive", "check_bool", "check_choice",
           "check_type", "cause_of"]


def _got(value: Any, with_type: bool) -> str:
    return f"{value!r} ({type(value).__name__})" if with_type else repr(value)


def fail(name: str, requirement: str, value: Any, fix: str = "", *,
         error: type[Exception] = ValueError, with_type: bool = False) -> Exception:
    """The exception for ``name``: ``"<name> must be <requirement>, got <value>; <fix>"``.

    Returned, not raised, so callers write ``raise fail(...)`` and tracebacks point at them.
    """
    msg = f"{name} must be {requirement}, got {_got(value, with_type)}"
    return error(f"{msg}; {fix}" if fix else f"{msg}.")


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def check_int(name: str, value: Any, minimum: int | None = None, maximum: int | None = None,
              fix: str = "", allow_none: bool = False) -> int | None:
    """``value`` as an int in ``[minimum, maximum]`` (bounds optional; bools are refused)."""
    if value is None and allow_none:
        return None
    bounds = [f">= {minimum}" if minimum is not None else "",
              f"<= {maximum}" if maximum is not None else ""]
    requirement = " and ".join(b for b in bounds if b)
    requirement = f"an int {requirement}".rstrip() + (" or None" if allow_none else "")
    if not _is_int(value):
        raise fail(name, requirement, value, fix, error=TypeError, with_type=True)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise fail(name, requirement, value, fix)
    return int(value)


def check_real(name: str, value: Any, low: float | None = None, high: float | None = None, *,
               low_open: bool = False, high_open: bool = False, finite: bool = True,
               fix: str = "", allow_none: bool = False, requirement: str | None = None
               ) -> float | None:
    """``value`` as a float within the given bounds (``low_open``: ``> low`` instead of ``>=``).

    NaN is always refused; infinities unless ``finite=False``. ``requirement`` replaces the
    generated description (e.g. ``"a finite number > start_lr=1e-07"``).
    """
    if value is None and allow_none:
        return None
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {low:g}")
    if high is not None:
        parts.append(f"{'<' if high_open else '<='} {high:g}")
    if requirement is None:
        requirement = ("a finite number" if finite else "a number") + (
            " " + " and ".join(parts) if parts else "") + (" or None" if allow_none else "")
    if not _is_real(value):
        raise fail(name, requirement, value, fix, error=TypeError, with_type=True)
    out = float(value)
    if math.isnan(out) or (finite and math.isinf(out)):
        raise fail(name, requirement, value, fix)
    if low is not None and (out <= low if low_open else out < low):
        raise fail(name, requirement, value, fix)
    if high is not None and (out >= high if high_open else out > high):
        raise fail(name, requirement, value, fix)
    return out


def check_positive(name: str, value: Any, fix: str = "", allow_none: bool = False) -> float | None:
    """``value`` as a finite float > 0."""
    return check_real(name, value, 0.0, low_open=True, fix=fix, allow_none=allow_none)


def check_bool(name: str, value: Any, fix: str = "") -> bool:
    """``value`` if it is True or False (numpy bools included); ints and strings are refused."""
    if not isinstance(value, (bool, np.bool_)):
        raise fail(name, "True or False", value, fix or f"pass {name}=True or {name}=False.",
                   error=TypeError, with_type=True)
    return bool(value)


def check_choice(name: str, value: Any, choices: Iterable[Any], fix: str = "",
                 allow_none: bool = False) -> Any:
    """``value`` if it is one of ``choices`` (compared with ``==``; strings only match strings).

    ``allow_none``: None is accepted too (and named in the message).
    """
    choices = tuple(choices)
    requirement = "one of " + ", ".join(repr(c) for c in choices) + (
        " or None" if allow_none else "")
    if value is None and allow_none:
        return None
    fix = fix or f"pass one of them, e.g. {name}={choices[0]!r}."
    if isinstance(value, str) != all(isinstance(c, str) for c in choices) and not any(
            value is c for c in choices):
        raise fail(name, requirement, value, fix, error=TypeError, with_type=True)
    if value not in choices:
        raise fail(name, requirement, value, fix)
    return value


def check_type(name: str, value: Any, types: type | tuple[type, ...], what: str,
               fix: str = "") -> Any:
    """``value`` if it is an instance of ``types`` (described to the user as ``what``)."""
    if not isinstance(value, types):
        raise fail(name, what, value, fix, error=TypeError, with_type=True)
    return value


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_KERAS_WRAPPERS = ("Exception encountered when calling", "Arguments received by")


def cause_of(exc: BaseException, limit: int = 400) -> str:
    """What ``exc`` says is wrong, on one line, to quote in another message: its first line, or
    inside Keras' layer-call wrapper ("Exception encountered when calling X.call()." ...
    "Arguments received by ...") the paragraph it wraps; ANSI codes dropped, whitespace
    collapsed, the middle of a text over ``limit`` characters elided (shapes come last in
    Keras' messages), no trailing period; the exception's type name when it says nothing."""
    text = _ANSI.sub("", str(exc)).strip()
    if text.startswith(_KERAS_WRAPPERS[0]):
        parts = [p for p in re.split(r"\n\s*\n", text)
                 if p.strip() and not p.strip().startswith(_KERAS_WRAPPERS)]
    else:
        parts = text.splitlines()
    line = " ".join(parts[0].split()).rstrip(" .") if parts else ""
    if not line:
        return type(exc).__name__
    if len(line) > limit:
        line = f"{line[:limit // 2]} ... {line[-(limit // 2):]}"
    return line
