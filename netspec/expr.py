"""A small, safe arithmetic evaluator for spec parameters.

`out_channels: 2 * width` or `in_features: num_classes * 4` are evaluated here,
never by Python's eval: only numbers, quoted strings, names in scope, + - * / // % **,
unary minus, parentheses, the functions of `_FUNCTIONS`, comparisons, and/or/not and
`a if condition else b` are allowed, and powers and magnitudes are bounded so
`9 ** 9 ** 9` cannot hang the checker.
"""

from __future__ import annotations

import ast
import functools
import math
import operator
import warnings
from typing import Mapping

MAX_MAGNITUDE = 10**15
MAX_EXPONENT = 64
MAX_LENGTH = 256  # characters; Python's parser recurses on long chains like 1+1+...+1


class ExprError(ValueError):
    """An expression that cannot be evaluated; the message says why."""


class _Unresolved:
    def __repr__(self) -> str:
        return "<invalid value>"


UNRESOLVED = _Unresolved()  # a value (an expression, an ambiguous number) whose error is reported: checks skip it


_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Div: None,  # exact division stays an int, see _divide
    ast.Pow: None,  # bounded, see _power
}
_FUNCTIONS = {  # name -> (function, fewest arguments, most arguments)
    "min": (min, 2, None), "max": (max, 2, None), "abs": (abs, 1, 1),
    "round": (round, 1, 1), "ceil": (math.ceil, 1, 1), "floor": (math.floor, 1, 1), "int": (int, 1, 1),
}
_COMPARE = {
    ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.Eq: operator.eq, ast.NotEq: operator.ne,
}
ALLOWED = ("numbers, 'strings', parameters, + - * / // % **, min max abs round ceil floor int, "
           "comparisons, and/or/not and `a if condition else b`")


def names_in(text: str) -> set[str] | None:
    """The names an expression uses, or None when the text is not an expression.

    Text too long to parse safely counts as an expression, so `evaluate` refuses it.
    """
    if len(text) > MAX_LENGTH:
        return set()
    names = _names(text)
    return None if names is None else set(names)


@functools.lru_cache(maxsize=4096)
def _names(text: str) -> frozenset[str] | None:
    try:
        tree = _parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return frozenset(node.id for node in ast.walk(tree) if isinstance(node, ast.Name)) - set(_FUNCTIONS)


@functools.lru_cache(maxsize=4096)  # a spec's few distinct expressions, evaluated per layer, block use and sweep point
def _parse(text: str) -> ast.Expression:
    with warnings.catch_warnings():  # Python warns on text like '1and 2' before refusing it; we report it ourselves
        warnings.simplefilter("ignore", SyntaxWarning)
        return ast.parse(text.strip(), mode="eval")


def is_bare_name(text: str) -> bool:
    return text.strip().isidentifier()


def evaluate(text: str, scope: Mapping[str, int | float]) -> int | float:
    """Evaluate `text` with the given parameters; raise ExprError on anything unsafe."""
    if len(text) > MAX_LENGTH:
        raise ExprError(f"expected an expression of at most {MAX_LENGTH} characters; got {len(text)}")
    try:
        tree = _parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ExprError(f"'{text}' is not a valid expression") from exc
    return _eval(tree.body, scope, text)


def _eval(node: ast.AST, scope: Mapping, text: str):
    if isinstance(node, ast.Constant) and type(node.value) in (int, float, bool, str):
        return _bounded(node.value) if type(node.value) in (int, float) else node.value
    if isinstance(node, ast.Name):
        if node.id not in scope:
            raise ExprError(f"unknown parameter '{node.id}' in '{text}'")
        return scope[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _operand(node.operand, scope, text)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return _binary(node, scope, text)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS \
            and not node.keywords:
        return _call(node, scope, text)
    if isinstance(node, ast.Compare):
        return _compare(node, scope, text)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not _condition(node.operand, scope, text)
    if isinstance(node, ast.BoolOp):  # short-circuits like Python: `b > 0 and a // b > 2` is safe
        stop = isinstance(node.op, ast.Or)
        return any(_condition(value, scope, text) == stop for value in node.values) == stop
    if isinstance(node, ast.IfExp):
        return _eval(node.body if _condition(node.test, scope, text) else node.orelse, scope, text)
    raise ExprError(f"'{text}' uses something other than {ALLOWED}")


def _binary(node: ast.BinOp, scope: Mapping, text: str):
    left, right = _operand(node.left, scope, text), _operand(node.right, scope, text)
    if isinstance(node.op, ast.Div):
        return _divide(left, right, text)
    if isinstance(node.op, ast.Pow):
        return _power(left, right, text)
    if isinstance(node.op, (ast.FloorDiv, ast.Mod)) and right == 0:
        raise ExprError(f"division by zero in '{text}'")
    return _bounded(_BINARY[type(node.op)](left, right))


def _call(node: ast.Call, scope: Mapping, text: str):
    function, fewest, most = _FUNCTIONS[node.func.id]
    if len(node.args) < fewest or (most is not None and len(node.args) > most):
        wanted = f"{fewest} or more" if most is None else str(fewest)
        raise ExprError(f"{node.func.id}() in '{text}': expected {wanted} argument(s); got {len(node.args)}")
    return _bounded(function(*(_operand(arg, scope, text) for arg in node.args)))


def _compare(node: ast.Compare, scope: Mapping, text: str) -> bool:
    """`a < b <= c` as Python chains it; == and != also compare strings (a block's `act == 'relu'`)."""
    left = _eval(node.left, scope, text)
    for op, right_node in zip(node.ops, node.comparators):
        right = _eval(right_node, scope, text)
        if type(op) not in _COMPARE:
            raise ExprError(f"'{text}' uses something other than {ALLOWED}")
        ordered = type(op) not in (ast.Eq, ast.NotEq)
        numbers = all(type(v) in (int, float) for v in (left, right))
        if not numbers and (ordered or not all(type(v) is str for v in (left, right))):
            raise ExprError(f"'{text}': expected two numbers{'' if ordered else ' or two strings'} to compare; "
                            f"got {left!r} and {right!r}")
        if not _COMPARE[type(op)](left, right):
            return False
        left = right
    return True


def _condition(node: ast.AST, scope: Mapping, text: str) -> bool:
    value = _eval(node, scope, text)
    if type(value) is not bool:
        raise ExprError(f"'{text}': expected a condition (a comparison, true or false); "
                        f"got {ast.unparse(node)} = {value!r}")
    return value


def _operand(node: ast.AST, scope: Mapping, text: str) -> int | float:
    """A value arithmetic works on: a parameter bound to a string (a block argument such as
    'same') may be used on its own, but not in arithmetic."""
    value = _eval(node, scope, text)
    if type(value) not in (int, float):
        raise ExprError(f"'{text}': expected numbers in arithmetic; got {ast.unparse(node)} = {value!r}")
    return value


def _divide(left, right, text):
    if right == 0:
        raise ExprError(f"division by zero in '{text}'")
    if isinstance(left, int) and isinstance(right, int) and left % right == 0:
        return left // right
    return _bounded(left / right)


def _power(base, exponent, text):
    if abs(exponent) > MAX_EXPONENT:
        raise ExprError(f"expected an exponent of at most {MAX_EXPONENT}; got {exponent} in '{text}'")
    try:
        return _bounded(base**exponent)
    except ZeroDivisionError:
        raise ExprError(f"division by zero in '{text}' (0 to a negative power)") from None
    except OverflowError:
        raise ExprError(f"expected a magnitude of at most {MAX_MAGNITUDE:.0e}; got {base!r} ** {exponent!r} "
                        f"in '{text}'") from None


def _bounded(value):
    if isinstance(value, complex):
        raise ExprError(f"expected a real number; got {value!r} (a negative number to a fractional power)")
    if abs(value) > MAX_MAGNITUDE:
        raise ExprError(f"expected a magnitude of at most {MAX_MAGNITUDE:.0e}; got {value!r}")
    return value
