"""Policy documents: parsed once, malformed ones refused with the element at fault."""

from __future__ import annotations

import json

import pytest

from localcloud.iam import PolicyError, parse_policy


def test_a_single_statement_reads_as_a_list_of_one() -> None:
    policy = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
        },
        name="p",
    )
    (statement,) = policy.statements
    assert (statement.sid, statement.label, statement.actions, statement.resources) == (
        "Read",
        "Read",
        ("s3:GetObject",),
        ("*",),
    )


def test_json_text_is_parsed_and_an_unnamed_statement_is_named_by_its_position() -> None:
    document = {"Statement": [{"Effect": "Deny", "NotAction": ["iam:*"], "NotResource": "arn:aws:s3:::b/*"}]}
    (statement,) = parse_policy(json.dumps(document), name="p").statements
    assert statement.label == "statement 0"
    assert statement.negated_actions and statement.negated_resources


def test_principals_are_read_with_a_bare_account_as_its_root() -> None:
    document = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": ["123456789012"], "Service": "lambda.amazonaws.com"},
                "Action": "*",
            },
            {"Effect": "Allow", "Principal": "*", "Action": "*"},
        ]
    }
    first, second = parse_policy(document, name="trust", resource_required=False).statements
    assert first.principals == {"arn:aws:iam::123456789012:root", "lambda.amazonaws.com"}
    assert second.principals == {"*"}


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ("{not json", "p: not JSON"),
        ({"Version": "2012-10-17"}, "p: a policy must be an object with a Statement"),
        ({"Version": "2020-01-01", "Statement": []}, "unknown Version '2020-01-01'"),
        (
            {"Statement": [{"Effect": "Permit", "Action": "*", "Resource": "*"}]},
            'Effect must be "Allow" or "Deny"',
        ),
        ({"Statement": [{"Effect": "Allow", "Resource": "*"}]}, "neither Action nor NotAction"),
        ({"Statement": [{"Effect": "Allow", "Action": "*"}]}, "neither Resource nor NotResource"),
        (
            {"Statement": [{"Effect": "Allow", "Action": "*", "NotAction": "s3:*", "Resource": "*"}]},
            "both Action and",
        ),
        (
            {"Statement": [{"Effect": "Allow", "Action": [], "Resource": "*"}]},
            "Action must be a non-empty string",
        ),
        (
            {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Actions": "*"}]},
            "unknown elements",
        ),
        (
            {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Principal": "me"}]},
            "Principal must be",
        ),
        (
            {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Principal": {"Group": "g"}}]},
            "unknown principal type",
        ),
        ({"Statement": ["Allow"]}, "statement 0 must be an object"),
    ],
)
def test_a_malformed_document_is_refused_naming_the_policy_and_the_fault(
    document: object, words: str
) -> None:
    with pytest.raises(PolicyError, match=words) as raised:
        parse_policy(document, name="p")  # type: ignore[arg-type]
    assert str(raised.value).startswith("p: ")


def test_a_trust_policy_needs_no_resource() -> None:
    document = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "x"}, "Action": "sts:AssumeRole"}]}
    (statement,) = parse_policy(document, name="trust", resource_required=False).statements
    assert statement.resources is None
