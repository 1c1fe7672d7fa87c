"""tflearner.core.checks: one message format, TypeError for the wrong kind, ValueError for range.

Format: ``<name> must be <requirement>, got <value>[ (<type>)]; <fix>`` (``.`` instead of the
fix when there is none). Pure stdlib + numpy, so these run in milliseconds.
"""

from __future__ import annotations

import ast
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from tflearner.core import checks
from tflearner.core.checks import (
    cause_of,
    check_bool,
    check_choice,
    check_int,
    check_positive,
    check_real,
    check_type,
    fail,
)

NAN, INF = float("nan"), float("inf")


def message(call) -> tuple[type, str]:
    with pytest.raises((TypeError, ValueError)) as err:
        call()
    return err.type, str(err.value)


def test_module_imports_only_numpy_and_stdlib():
    tree = ast.parse(Path(checks.__file__).read_text())
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, node.module  # nothing from tflearner
            roots.add(node.module.split(".")[0])
    assert roots - {"numpy"} <= sys.stdlib_module_names, roots


# --------------------------------------------------------------------------------------------
# fail: the format itself
# --------------------------------------------------------------------------------------------

def test_fail_builds_the_message_and_returns_the_exception():
    err = fail("lr", "a finite number > 0", -1.0, "e.g. lr=1e-3.")
    assert type(err) is ValueError
    assert str(err) == "lr must be a finite number > 0, got -1.0; e.g. lr=1e-3."
    assert str(fail("x", "an int", 3)) == "x must be an int, got 3."
    err = fail("x", "an int", "3", "pass a number.", error=TypeError, with_type=True)
    assert type(err) is TypeError and str(err) == "x must be an int, got '3' (str); pass a number."


# --------------------------------------------------------------------------------------------
# check_int
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [0, 7, np.int64(7), np.uint8(7), np.int32(-2)])
def test_check_int_accepts_ints_and_numpy_ints_and_returns_plain_int(value):
    out = check_int("n", value)
    assert out == value and type(out) is int


@pytest.mark.parametrize("value, shown", [
    (True, "True (bool)"), (False, "False (bool)"), (np.bool_(True), "True_ (bool)"),
    (1.0, "1.0 (float)"), ("1", "'1' (str)"), (None, "None (NoneType)"),
    (np.float64(2.0), "(float64)"), (Fraction(1, 1), "(Fraction)"),
])
def test_check_int_refuses_other_kinds_with_type_error(value, shown):
    exc, msg = message(lambda: check_int("n", value, 1, fix="e.g. n=3."))
    assert exc is TypeError
    assert msg.startswith("n must be an int >= 1, got ") and shown in msg
    assert msg.endswith("; e.g. n=3.")


def test_check_int_bounds_are_closed():
    assert check_int("n", 1, 1, 3) == 1 and check_int("n", 3, 1, 3) == 3
    exc, msg = message(lambda: check_int("n", 0, 1, 3))
    assert exc is ValueError and msg == "n must be an int >= 1 and <= 3, got 0."
    exc, msg = message(lambda: check_int("n", 4, 1, 3, fix="pick 1, 2 or 3."))
    assert exc is ValueError and msg == "n must be an int >= 1 and <= 3, got 4; pick 1, 2 or 3."
    assert message(lambda: check_int("n", 9, maximum=3))[1] == "n must be an int <= 3, got 9."
    assert check_int("n", -10**30) == -10**30  # no bounds: any int


def test_check_int_allow_none():
    assert check_int("n", None, 1, allow_none=True) is None
    exc, msg = message(lambda: check_int("n", 0, 1, allow_none=True))
    assert exc is ValueError and msg == "n must be an int >= 1 or None, got 0."
    exc, msg = message(lambda: check_int("n", None, 1))
    assert exc is TypeError and "n must be an int >= 1, got None (NoneType)" in msg


# --------------------------------------------------------------------------------------------
# check_real / check_positive
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [0, 3, 2.5, np.float32(0.5), np.int64(4), Fraction(1, 4)])
def test_check_real_accepts_numbers_and_returns_plain_float(value):
    out = check_real("x", value)
    assert out == float(value) and type(out) is float


@pytest.mark.parametrize("value, shown", [
    (True, "True (bool)"), (np.bool_(False), "False_ (bool)"), ("0.1", "'0.1' (str)"),
    (None, "None (NoneType)"), (1j, "1j (complex)"), ([0.1], "[0.1] (list)"),
])
def test_check_real_refuses_other_kinds_with_type_error(value, shown):
    exc, msg = message(lambda: check_real("x", value))
    assert exc is TypeError and msg.startswith("x must be a finite number, got ")
    assert shown in msg


@pytest.mark.parametrize("value, shown", [(NAN, "nan"), (INF, "inf"), (-INF, "-inf"),
                                          (np.float32("nan"), "nan")])
def test_check_real_refuses_nan_and_inf(value, shown):
    exc, msg = message(lambda: check_real("x", value, fix="pass a finite number."))
    assert exc is ValueError and "x must be a finite number, got " in msg and shown in msg
    assert msg.endswith("; pass a finite number.")


def test_check_real_infinities_when_allowed_but_never_nan():
    assert check_real("x", INF, finite=False) == INF
    exc, msg = message(lambda: check_real("x", NAN, finite=False))
    assert exc is ValueError and msg == "x must be a number, got nan."
    exc, msg = message(lambda: check_real("x", -INF, 0.0, finite=False))
    assert exc is ValueError and msg == "x must be a number >= 0, got -inf."


def test_check_real_bounds_closed_and_open():
    # closed: the bounds themselves are accepted
    assert check_real("x", 0.0, 0.0, 1.0) == 0.0 and check_real("x", 1.0, 0.0, 1.0) == 1.0
    assert message(lambda: check_real("x", -0.5, 0.0, 1.0)) == (
        ValueError, "x must be a finite number >= 0 and <= 1, got -0.5.")
    assert message(lambda: check_real("x", 1.5, 0.0, 1.0))[0] is ValueError
    # open: the bounds themselves are refused, values inside accepted
    kw = {"low_open": True, "high_open": True}
    assert check_real("x", 0.5, 0.0, 1.0, **kw) == 0.5
    assert message(lambda: check_real("x", 0.0, 0.0, 1.0, **kw)) == (
        ValueError, "x must be a finite number > 0 and < 1, got 0.0.")
    assert message(lambda: check_real("x", 1, 0.0, 1.0, **kw)) == (
        ValueError, "x must be a finite number > 0 and < 1, got 1.")
    # half-open, as for a momentum in [0, 1)
    assert check_real("m", 0.0, 0.0, 1.0, high_open=True) == 0.0
    assert message(lambda: check_real("m", 1.0, 0.0, 1.0, high_open=True))[1] == (
        "m must be a finite number >= 0 and < 1, got 1.0.")
    assert message(lambda: check_real("x", 5.0, high=2.0))[1] == (
        "x must be a finite number <= 2, got 5.0.")


def test_check_real_custom_requirement_and_allow_none():
    exc, msg = message(lambda: check_real("p", 2.0, 0.0, 1.0, low_open=True, high_open=True,
                                          requirement="a finite number in (0, 1)",
                                          fix="e.g. p=0.25."))
    assert (exc, msg) == (ValueError, "p must be a finite number in (0, 1), got 2.0; e.g. p=0.25.")
    assert check_real("b", None, 0.0, 1.0, allow_none=True) is None
    assert message(lambda: check_real("b", 2.0, 0.0, 1.0, allow_none=True))[1] == (
        "b must be a finite number >= 0 and <= 1 or None, got 2.0.")


def test_check_positive():
    assert check_positive("lr", 1e-300) == 1e-300 and check_positive("lr", np.float32(2)) == 2.0
    for bad in (0, 0.0, -1e-9):
        exc, msg = message(lambda bad=bad: check_positive("lr", bad, fix="e.g. lr=1e-3."))
        assert exc is ValueError
        assert msg == f"lr must be a finite number > 0, got {bad!r}; e.g. lr=1e-3."
    for bad in (NAN, INF):
        assert message(lambda bad=bad: check_positive("lr", bad))[0] is ValueError
    assert message(lambda: check_positive("lr", True))[0] is TypeError
    assert check_positive("lr", None, allow_none=True) is None


# --------------------------------------------------------------------------------------------
# check_bool, check_choice, check_type
# --------------------------------------------------------------------------------------------

def test_check_bool():
    assert check_bool("flag", True) is True and check_bool("flag", np.bool_(False)) is False
    for bad, shown in ((1, "1 (int)"), (0, "0 (int)"), ("True", "'True' (str)"),
                       (None, "None (NoneType)")):
        exc, msg = message(lambda bad=bad: check_bool("flag", bad, fix="pass flag=True."))
        assert (exc, msg) == (TypeError, f"flag must be True or False, got {shown}; "
                                         "pass flag=True.")
    assert message(lambda: check_bool("flag", "yes")) == (
        TypeError, "flag must be True or False, got 'yes' (str); pass flag=True or flag=False.")


def test_check_choice():
    choices = ("cos", "linear")
    assert check_choice("anneal", "cos", choices) == "cos"
    exc, msg = message(lambda: check_choice("anneal", "Cos", choices, fix="names are lower case."))
    assert (exc, msg) == (ValueError, "anneal must be one of 'cos', 'linear', got 'Cos'; "
                                      "names are lower case.")
    exc, msg = message(lambda: check_choice("anneal", 3, choices))
    assert (exc, msg) == (TypeError, "anneal must be one of 'cos', 'linear', got 3 (int); "
                                     "pass one of them, e.g. anneal='cos'.")
    assert message(lambda: check_choice("anneal", None, choices))[0] is TypeError
    # non-string choices: compared with ==, a string is the wrong kind
    assert check_choice("k", 2, (1, 2, 3)) == 2
    assert message(lambda: check_choice("k", 4, (1, 2, 3))) == (
        ValueError, "k must be one of 1, 2, 3, got 4; pass one of them, e.g. k=1.")
    assert message(lambda: check_choice("k", "2", (1, 2, 3)))[0] is TypeError
    # any iterable of choices (a dict: its keys)
    assert check_choice("k", "a", {"a": 1, "b": 2}) == "a"


def test_check_choice_allow_none():
    assert check_choice("policy", None, ("float32",), allow_none=True) is None
    exc, msg = message(lambda: check_choice("policy", "fp16", ("float32",), allow_none=True))
    assert (exc, msg) == (ValueError, "policy must be one of 'float32' or None, got 'fp16'; "
                                      "pass one of them, e.g. policy='float32'.")
    assert message(lambda: check_choice("policy", None, ("float32",)))[0] is TypeError


def test_check_type():
    assert check_type("x", [1], (list, tuple), "a list or tuple") == [1]
    exc, msg = message(lambda: check_type("x", 3, (list, tuple), "a list or tuple", "wrap it."))
    assert (exc, msg) == (TypeError, "x must be a list or tuple, got 3 (int); wrap it.")


@pytest.mark.parametrize("call", [
    lambda: check_int("name_here", "v"), lambda: check_int("name_here", -1, 0),
    lambda: check_real("name_here", NAN), lambda: check_real("name_here", "v"),
    lambda: check_positive("name_here", 0), lambda: check_bool("name_here", 2),
    lambda: check_choice("name_here", "v", ("a",)), lambda: check_type("name_here", 1, str, "s"),
])
def test_every_check_names_the_argument_first_and_shows_the_value(call):
    _, msg = message(call)
    assert msg.startswith("name_here must be ") and ", got " in msg and msg.endswith(".")


def test_cause_of_keeps_what_keras_says_is_wrong():
    keras_style = ValueError(
        "Exception encountered when calling Sequential.call().\n\n\x1b[1mInput 0 of layer "
        "'dense' is incompatible with the layer: expected axis -1 of input shape to have value 5, "
        "but received input with\n shape (2, 8)\x1b[0m\n\nArguments received by "
        "Sequential.call():\n  \u2022 inputs=tf.Tensor(shape=(2, 8), dtype=float32)")
    assert cause_of(keras_style) == (
        "Input 0 of layer 'dense' is incompatible with the layer: expected axis -1 of input "
        "shape to have value 5, but received input with shape (2, 8)")
    assert cause_of(ValueError("plain  message.\n\t [[{{node x}}]]")) == "plain message"
    assert cause_of(KeyError()) == "KeyError"
    long = cause_of(ValueError("a" * 300 + " expected shape (None, 5), got (2, 8)"), limit=100)
    assert len(long) == 105 and long.startswith("a" * 50 + " ... ")
    assert long.endswith("expected shape (None, 5), got (2, 8)")
