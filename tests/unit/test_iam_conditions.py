"""The condition operators of IAM policies, as AWS's condition operator reference defines them."""

from __future__ import annotations

import pytest

from localcloud.iam.conditions import Condition, parse_conditions, substitute, wildcard_match
from localcloud.iam.errors import PolicyError


def holds(block: dict[str, object], **context: str | list[str]) -> bool:
    keys = {
        k.replace("__", ":").lower(): (v,) if isinstance(v, str) else tuple(v) for k, v in context.items()
    }
    return all(condition.holds(keys) for condition in parse_conditions(block))


def test_wildcards_match_any_run_and_one_character_case_sensitively() -> None:
    assert wildcard_match("incoming/*.csv", "incoming/a/b.csv")
    assert wildcard_match("file-?.csv", "file-1.csv")
    assert not wildcard_match("file-?.csv", "file-12.csv")
    assert not wildcard_match("Incoming/*", "incoming/x")
    assert wildcard_match("S3:GetObject*", "s3:getobjectversion", ignore_case=True)


def test_string_operators_or_their_values_and_and_their_keys() -> None:
    block = {"StringEquals": {"aws:SourceAccount": ["111", "222"], "aws:PrincipalTag/team": "ml"}}
    assert holds(block, aws__SourceAccount="222", **{"aws__PrincipalTag/team": "ml"})
    assert not holds(block, aws__SourceAccount="333", **{"aws__PrincipalTag/team": "ml"})
    assert not holds(block, aws__SourceAccount="111")  # the second key is missing


def test_string_equals_is_case_sensitive_unless_told_otherwise() -> None:
    assert not holds({"StringEquals": {"k": "Ab"}}, k="ab")
    assert holds({"StringEqualsIgnoreCase": {"k": "Ab"}}, k="ab")
    assert not holds({"StringNotEqualsIgnoreCase": {"k": "Ab"}}, k="ab")


def test_context_keys_are_case_insensitive() -> None:
    assert holds({"StringEquals": {"AWS:SourceAccount": "1"}}, aws__sourceaccount="1")


def test_a_negated_operator_is_a_nor_of_its_values() -> None:
    block = {"StringNotLike": {"s3:prefix": ["incoming/*", "tmp/*"]}}
    assert holds(block, s3__prefix="datasets/x")
    assert not holds(block, s3__prefix="tmp/x")


def test_a_missing_key_fails_a_positive_operator_and_passes_a_negated_one() -> None:
    assert not holds({"StringLike": {"s3:prefix": "*"}})
    assert holds({"StringNotEquals": {"s3:prefix": "x"}})
    assert not holds({"ArnLike": {"aws:SourceArn": "*"}})


def test_if_exists_passes_on_a_missing_key_and_checks_a_present_one() -> None:
    block = {"StringEqualsIfExists": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}
    assert holds(block)
    assert holds(block, kms__ViaService="s3.us-east-1.amazonaws.com")
    assert not holds(block, kms__ViaService="sqs.us-east-1.amazonaws.com")


def test_null_tests_whether_the_key_is_absent() -> None:
    assert holds({"Null": {"s3:x-amz-server-side-encryption": "true"}})
    assert not holds(
        {"Null": {"s3:x-amz-server-side-encryption": "true"}},
        **{"s3__x-amz-server-side-encryption": "aws:kms"},
    )
    assert holds(
        {"Null": {"s3:x-amz-server-side-encryption": "false"}},
        **{"s3__x-amz-server-side-encryption": "aws:kms"},
    )
    assert not holds({"Null": {"s3:x-amz-server-side-encryption": False}})


def test_bool_compares_true_and_false_whatever_their_case_or_type() -> None:
    assert holds({"Bool": {"aws:SecureTransport": "false"}}, aws__SecureTransport="False")
    assert holds({"Bool": {"aws:SecureTransport": True}}, aws__SecureTransport="true")
    assert not holds({"Bool": {"aws:SecureTransport": "false"}}, aws__SecureTransport="true")


@pytest.mark.parametrize(
    ("operator", "policy", "actual", "expected"),
    [
        ("NumericEquals", "10", "10.0", True),
        ("NumericNotEquals", "10", "10", False),
        ("NumericLessThan", "10", "9", True),
        ("NumericLessThan", "10", "10", False),
        ("NumericLessThanEquals", "10", "10", True),
        ("NumericGreaterThan", "10", "11", True),
        ("NumericGreaterThanEquals", "10", "9", False),
        ("NumericEquals", "10", "ten", False),
        ("DateLessThan", "2026-12-31T00:00:00Z", "2026-06-01T00:00:00Z", True),
        ("DateGreaterThan", "2026-12-31T00:00:00Z", "2026-06-01T00:00:00Z", False),
        ("DateEquals", "2026-01-01T00:00:00Z", "1767225600", True),
    ],
)
def test_numeric_and_date_operators_compare_values(
    operator: str, policy: str, actual: str, expected: bool
) -> None:
    assert holds({operator: {"k": policy}}, k=actual) is expected


def test_arn_like_matches_each_of_the_six_parts_on_its_own() -> None:
    block = {"ArnLike": {"aws:SourceArn": "arn:aws:lambda:*:123456789012:function:*"}}
    assert holds(block, aws__SourceArn="arn:aws:lambda:us-east-1:123456789012:function:f:live")
    assert not holds(block, aws__SourceArn="arn:aws:lambda:us-east-1:999999999999:function:f")
    # A wildcard in one part does not swallow the colons of the others.
    assert not holds({"ArnLike": {"k": "arn:aws:*:1:function:f"}}, k="arn:aws:lambda:us-east-1:1:function:f")
    assert holds({"ArnEquals": {"k": "arn:aws:sns:us-east-1:1:t"}}, k="arn:aws:sns:us-east-1:1:t")
    assert holds({"ArnNotLike": {"k": "arn:aws:sns:*:*:other"}}, k="arn:aws:sns:us-east-1:1:t")
    assert not holds({"ArnNotEquals": {"k": "arn:aws:sns:us-east-1:1:t"}}, k="arn:aws:sns:us-east-1:1:t")


def test_for_any_value_needs_one_match_and_fails_on_a_missing_key() -> None:
    block = {"ForAnyValue:StringEquals": {"aws:TagKeys": ["project", "owner"]}}
    assert holds(block, aws__TagKeys=["cost", "owner"])
    assert not holds(block, aws__TagKeys=["cost"])
    assert not holds(block)


def test_for_all_values_needs_every_value_to_match_and_holds_on_an_empty_set() -> None:
    block = {"ForAllValues:StringLike": {"aws:TagKeys": ["project", "team-*"]}}
    assert holds(block, aws__TagKeys=["project", "team-ml"])
    assert not holds(block, aws__TagKeys=["project", "cost"])
    assert holds(block, aws__TagKeys=[])
    assert holds(block)


def test_for_all_values_with_a_negated_operator_refuses_any_listed_value() -> None:
    block = {"ForAllValues:StringNotEquals": {"aws:TagKeys": ["secret"]}}
    assert holds(block, aws__TagKeys=["project", "team"])
    assert not holds(block, aws__TagKeys=["project", "secret"])


def test_policy_variables_are_replaced_from_the_context() -> None:
    keys = {"aws:username": ("ana",)}
    assert substitute("home/${aws:username}/*", keys) == "home/ana/*"
    assert substitute("home/${aws:userid}/*", keys) is None
    assert substitute("a${*}b${?}", keys) == "a*b?"
    assert substitute("home/${aws:userid, 'nobody'}", keys) == "home/nobody"
    assert holds(
        {"StringLike": {"s3:prefix": "home/${aws:username}/*"}}, aws__username="ana", s3__prefix="home/ana/x"
    )
    assert not holds(
        {"StringLike": {"s3:prefix": "home/${aws:username}/*"}}, aws__username="bo", s3__prefix="home/ana/x"
    )


@pytest.mark.parametrize(
    ("block", "words"),
    [
        ({"StringEqualz": {"k": "v"}}, "unknown condition operator 'StringEqualz'"),
        ({"ForSomeValues:StringEquals": {"k": "v"}}, "unknown set operator 'ForSomeValues'"),
        ({"StringEquals": "v"}, "must map keys to values"),
        ({"StringEquals": {"k": [{"nested": 1}]}}, "values that are not scalars"),
        (["StringEquals"], "Condition must be an object"),
    ],
)
def test_a_malformed_condition_is_refused_with_its_reason(block: object, words: str) -> None:
    with pytest.raises(PolicyError, match=words.replace("(", r"\(")):
        parse_conditions(block)


def test_an_operator_is_read_with_its_qualifier_and_suffix() -> None:
    (condition,) = parse_conditions({"ForAnyValue:ArnLikeIfExists": {"AWS:SourceArn": "arn:*"}})
    assert condition == Condition("ArnLike", "aws:sourcearn", ("arn:*",), "ForAnyValue", True)
