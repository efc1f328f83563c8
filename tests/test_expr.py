"""The arithmetic evaluator: what it computes, and that nothing else gets through."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netspec.expr import ALLOWED, MAX_LENGTH, ExprError, evaluate, is_bare_name, names_in

SCOPE = {"width": 16, "num_classes": 10, "ratio": 1.5, "padding": "same"}


@pytest.mark.parametrize("text, value", [
    ("2 * width", 32),
    ("width // 3", 5),
    ("width % 3", 1),
    ("width / 4", 4),  # exact division stays an int
    ("width / 5", 3.2),
    ("-width + 1", -15),
    ("+width", 16),
    ("(width + 2) * 2", 36),
    ("2 ** 10", 1024),
    ("2 ** -1", 0.5),
    ("min(width, 8, 12)", 8),
    ("max(num_classes, width)", 16),
    ("ratio * 4", 6.0),
    ("1e-4", 0.0001),
    ("padding", "same"),  # a bare name substitutes its value, whatever it is
    ("round(ratio * 3)", 4), ("round(2.5)", 2),  # Python's rounding: half to even
    ("ceil(width / 5)", 4), ("floor(ratio)", 1), ("int(-ratio)", -1), ("abs(1 - width)", 15),
    ("width > 8", True), ("1 < width <= 16", True), ("1 < width < 16", False), ("width != 16", False),
    ("padding == 'same'", True), ("padding != 'valid'", True),
    ("width > 8 and num_classes > 10", False), ("width > 8 or num_classes > 10", True),
    ("not width > 8", False),
    ("width // 0 > 1 if width < 0 else 7", 7),  # only the branch taken is evaluated, as in Python
    ("width < 0 and width // 0 > 1", False),
    ("'relu' if width > 8 else 'hardswish'", "relu"),
])
def test_evaluates(text, value):
    result = evaluate(text, SCOPE)
    assert result == value and type(result) is type(value)


@pytest.mark.parametrize("text, message", [
    ("__import__('os').system('echo hi')",
     "'__import__('os').system('echo hi')' uses something other than " + ALLOWED),
    ("open('/etc/passwd')",
     "'open('/etc/passwd')' uses something other than " + ALLOWED),
    ("width.__class__", "'width.__class__' uses something other than " + ALLOWED),
    ("[1, 2]", "'[1, 2]' uses something other than " + ALLOWED),
    ("'a' * 3", "''a' * 3': expected numbers in arithmetic; got 'a' = 'a'"),
    ("lambda: 1", "'lambda: 1' uses something other than " + ALLOWED),
    ("min(width, key=abs)",
     "'min(width, key=abs)' uses something other than " + ALLOWED),
    ("True + 1", "'True + 1': expected numbers in arithmetic; got True = True"),
    ("width if width else 1",
     "'width if width else 1': expected a condition (a comparison, true or false); got width = 16"),
    ("padding < 3", "'padding < 3': expected two numbers to compare; got 'same' and 3"),
    ("padding == 3", "'padding == 3': expected two numbers or two strings to compare; got 'same' and 3"),
    ("not width", "'not width': expected a condition (a comparison, true or false); got width = 16"),
    ("width is 3", "'width is 3' uses something other than " + ALLOWED),
    ("min(width)", "min() in 'min(width)': expected 2 or more argument(s); got 1"),
    ("ceil(1, 2)", "ceil() in 'ceil(1, 2)': expected 1 argument(s); got 2"),
    ("round(1e300)", "expected a magnitude of at most 1e+15; got 1e+300"),
    ("x = 1", "'x = 1' is not a valid expression"),
    ("depth * 2", "unknown parameter 'depth' in 'depth * 2'"),
    ("2 * padding", "'2 * padding': expected numbers in arithmetic; got padding = 'same'"),
    ("width / 0", "division by zero in 'width / 0'"),
    ("width // 0", "division by zero in 'width // 0'"),
    ("width % 0.0", "division by zero in 'width % 0.0'"),
    ("0 ** -1", "division by zero in '0 ** -1' (0 to a negative power)"),
    ("9 ** 9 ** 9", "expected an exponent of at most 64; got 387420489 in '9 ** 9 ** 9'"),
    ("10 ** 16", "expected a magnitude of at most 1e+15; got 10000000000000000"),
    ("1e300 * 2", "expected a magnitude of at most 1e+15; got 1e+300"),
    ("1e15 ** 64", "expected a magnitude of at most 1e+15; got 1000000000000000.0 ** 64 in '1e15 ** 64'"),
    ("1e15 * 1e15", "expected a magnitude of at most 1e+15; got 1e+30"),
    ("(-8) ** 0.5", "expected a real number; got (1.7319121124709868e-16+2.8284271247461903j) "
                    "(a negative number to a fractional power)"),
])
def test_refuses_with_a_reason(text, message):
    with pytest.raises(ExprError) as caught:
        evaluate(text, SCOPE)
    assert str(caught.value) == message


@pytest.mark.parametrize("text", [
    "1+" * 100_000 + "1",  # Python's parser recurses on this
    "-" * 100_000 + "1",
    "(" * 300 + "1" + ")" * 300,
    "9" * 5000,
])
def test_over_long_expressions_are_refused_before_parsing(text):
    with pytest.raises(ExprError) as caught:
        evaluate(text, SCOPE)
    assert str(caught.value) == f"expected an expression of at most {MAX_LENGTH} characters; got {len(text)}"
    assert names_in(text) == set()  # counts as an expression, so the caller reports the length


@pytest.mark.parametrize("text, names", [
    ("2 * width", {"width"}),
    ("min(a, b) + c", {"a", "b", "c"}),
    ("same", {"same"}),
    ("3", set()),
    ("not an expression!", None),
    ("3x3", None),
])
def test_names_in(text, names):
    assert names_in(text) == names


def test_is_bare_name():
    assert is_bare_name("width") and is_bare_name(" same ")
    assert not is_bare_name("2 * width") and not is_bare_name("3")


def test_python_syntax_warnings_never_reach_the_user(recwarn):
    assert names_in("1if 2") is None
    with pytest.raises(ExprError):
        evaluate("1and 2", {})
    assert [w for w in recwarn if issubclass(w.category, SyntaxWarning)] == []


def _make_divisible(v, divisor, min_value=None):
    """torchvision.models._utils._make_divisible, verbatim."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


MAKE_DIVISIBLE = ("max(8, int(v + 4) // 8 * 8) + (8 if max(8, int(v + 4) // 8 * 8) < 0.9 * v else 0)")


@given(st.one_of(st.integers(1, 4096), st.floats(0.5, 4096.0, allow_nan=False)))
@settings(max_examples=200, deadline=None)
def test_torchvisions_make_divisible_is_an_expression(v):
    assert evaluate(MAKE_DIVISIBLE, {"v": v}) == _make_divisible(v, 8)
