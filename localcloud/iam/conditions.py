"""The ``Condition`` element of an IAM policy statement, decided against a request's context keys.

Rules from AWS's "IAM JSON policy elements: Condition operators" page
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html)
and "Conditions with multiple context keys or values"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html):
operators and keys are ANDed, the values of one key are ORed (NORed for a negated operator); a key
absent from the request makes a condition false, a negated one (``StringNotEquals``, ``ArnNotLike``...)
true, except ``...IfExists`` (true when absent) and ``Null`` (tests absence itself); ``ForAllValues``
holds for an absent or empty key, ``ForAnyValue`` does not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from localcloud.iam.errors import PolicyError

Context = Mapping[str, tuple[str, ...]]
"""A request's context keys, lower-cased, each with its values (a single-valued key has one)."""

_VARIABLE = re.compile(r"\$\{([^}]+)\}")
# Policy variables that stand for a character AWS would otherwise read as special.
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


def glob_regex(pattern: str) -> str:
    """The regular expression of a policy pattern: ``*`` any run of characters, ``?`` one."""
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)


@lru_cache(maxsize=4096)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(glob_regex(pattern), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def wildcard_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """True if ``value`` matches ``pattern``, where ``*`` is any run of characters and ``?`` one.

    Parameters
    ----------
    pattern : str
        A policy's value: an action, a resource ARN, a condition's value.
    value : str
        The request's value.
    ignore_case : bool
        True for actions, which AWS matches case-insensitively; resources and values are case-sensitive.
    """
    if "*" not in pattern and "?" not in pattern:
        return pattern.lower() == value.lower() if ignore_case else pattern == value
    return _glob(pattern, ignore_case).fullmatch(value) is not None


def substitute(pattern: str, context: Context) -> str | None:
    """``pattern`` with its policy variables (``${aws:username}``) replaced from ``context``.

    None when a variable has no single value: AWS then treats the statement as not matching
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html).
    A ``${key, 'default'}`` default is used when the key is absent.
    """
    if "${" not in pattern:
        return pattern
    missing = False

    def replace(match: re.Match[str]) -> str:
        nonlocal missing
        name, _, default = match.group(1).partition(",")
        name = name.strip()
        if name in _ESCAPES:
            return _ESCAPES[name]
        values = context.get(name.lower(), ())
        if len(values) == 1:
            return values[0]
        if default.strip():
            return default.strip().strip("'")
        missing = True
        return ""

    result = _VARIABLE.sub(replace, pattern)
    return None if missing else result


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _date(text: str) -> float | None:
    number = _number(text)
    if number is not None:
        return number  # epoch seconds, which AWS accepts as well as ISO 8601
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _compare(parse: Callable[[str], float | None], test: Callable[[float, float], bool]) -> Match:
    def match(policy: str, actual: str, _: Context) -> bool:
        left, right = parse(actual), parse(policy)
        return left is not None and right is not None and test(left, right)

    return match


def _arn_like(policy: str, actual: str, context: Context) -> bool:
    # Each of the six colon-separated parts is matched on its own: a wildcard never spans a colon
    # of the first five, while the last part (a resource that may contain colons) is one part.
    pattern = substitute(policy, context)
    if pattern is None:
        return False
    wanted, got = pattern.split(":", 5), actual.split(":", 5)
    return len(wanted) == len(got) == 6 and all(
        wildcard_match(w, g) for w, g in zip(wanted, got, strict=True)
    )


def _string_like(policy: str, actual: str, context: Context) -> bool:
    pattern = substitute(policy, context)
    return pattern is not None and wildcard_match(pattern, actual)


Match = Callable[[str, str, Context], bool]
"""Whether one context value matches one policy value."""

# The positive operators; each ``...Not...`` one is its negation (see _OPERATORS).
_POSITIVE: dict[str, Match] = {
    "StringEquals": lambda p, a, c: substitute(p, c) == a,
    "StringEqualsIgnoreCase": lambda p, a, c: (substitute(p, c) or "").lower() == a.lower(),
    "StringLike": _string_like,
    "ArnEquals": _arn_like,
    "ArnLike": _arn_like,
    "Bool": lambda p, a, _: p.lower() == a.lower(),
    "NumericEquals": _compare(_number, lambda a, p: a == p),
    "NumericLessThan": _compare(_number, lambda a, p: a < p),
    "NumericLessThanEquals": _compare(_number, lambda a, p: a <= p),
    "NumericGreaterThan": _compare(_number, lambda a, p: a > p),
    "NumericGreaterThanEquals": _compare(_number, lambda a, p: a >= p),
    "DateEquals": _compare(_date, lambda a, p: a == p),
    "DateLessThan": _compare(_date, lambda a, p: a < p),
    "DateLessThanEquals": _compare(_date, lambda a, p: a <= p),
    "DateGreaterThan": _compare(_date, lambda a, p: a > p),
    "DateGreaterThanEquals": _compare(_date, lambda a, p: a >= p),
}
_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
}
OPERATORS = frozenset([*_POSITIVE, *_NEGATED, "Null"])
"""Every operator understood, without its ``IfExists`` suffix or set qualifier."""


@dataclass(frozen=True)
class Condition:
    """One key of one operator: ``{"ForAnyValue:StringLikeIfExists": {"key": [values]}}``."""

    operator: str  # without qualifier or suffix: "StringLike"
    key: str  # lower-cased, as context keys are case-insensitive
    values: tuple[str, ...]
    qualifier: str | None = None  # "ForAnyValue", "ForAllValues" or None
    if_exists: bool = False

    def holds(self, context: Context) -> bool:
        """Whether this condition is met by ``context`` (keys lower-cased)."""
        actual = context.get(self.key)
        if self.operator == "Null":
            # "true" asks that the key be absent, "false" that it be present.
            return any((v.lower() == "true") == (not actual) for v in self.values)
        negated = self.operator in _NEGATED
        if not actual:
            if self.qualifier == "ForAllValues" or self.if_exists:
                return True
            return negated and self.qualifier is None
        match = _POSITIVE[_NEGATED.get(self.operator, self.operator)]

        def one(value: str) -> bool:
            found = any(match(p, value, context) for p in self.values)
            return not found if negated else found

        if self.qualifier == "ForAllValues":
            return all(one(v) for v in actual)
        if self.qualifier == "ForAnyValue" or not negated:
            return any(one(v) for v in actual)
        return all(one(v) for v in actual)  # a negated operator: no value may match


def parse_conditions(block: object) -> tuple[Condition, ...]:
    """A statement's ``Condition`` element as conditions to AND; PolicyError if it is malformed."""
    if block is None:
        return ()
    if not isinstance(block, Mapping):
        raise PolicyError(f"Condition must be an object, not {block!r}")
    conditions = []
    for full_name, keys in block.items():
        qualifier, _, name = str(full_name).rpartition(":")
        if qualifier not in ("", "ForAnyValue", "ForAllValues"):
            raise PolicyError(f"unknown set operator {qualifier!r} in condition {full_name!r}")
        if_exists = name.endswith("IfExists") and name != "Null"
        operator = name.removesuffix("IfExists") if if_exists else name
        if operator not in OPERATORS:
            raise PolicyError(f"unknown condition operator {full_name!r}")
        if not isinstance(keys, Mapping) or not keys:
            raise PolicyError(f"condition {full_name!r} must map keys to values, not {keys!r}")
        for key, values in keys.items():
            listed = values if isinstance(values, list) else [values]
            if not listed or not all(isinstance(v, str | bool | int | float) for v in listed):
                raise PolicyError(f"condition {full_name!r} on {key!r} has values that are not scalars")
            text = tuple(str(v).lower() if isinstance(v, bool) else str(v) for v in listed)
            conditions.append(Condition(operator, str(key).lower(), text, qualifier or None, if_exists))
    return tuple(conditions)
