"""AWS's policy evaluation logic within one account: explicit deny, identity and resource policies."""

from __future__ import annotations

from typing import Any

from localcloud.iam import Policy, Request, ResourcePolicy, evaluate, parse_policy

ACCOUNT = "123456789012"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/Validation"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/Validation/fn"
BUCKET = "arn:aws:s3:::data"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k-1"


def policy(*statements: dict[str, Any], name: str = "identity") -> Policy:
    return parse_policy({"Version": "2012-10-17", "Statement": list(statements)}, name=name)


def allow(action: str | list[str], resource: str | list[str] = "*", **more: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **more}


def request(action: str, resource: str, principal: str = SESSION, **context: str) -> Request:
    return Request(principal, action, resource, {k.replace("__", ":"): v for k, v in context.items()})


def test_an_identity_allow_allows_and_names_its_statement() -> None:
    decision = evaluate(
        request("s3:GetObject", f"{BUCKET}/incoming/a.csv"),
        [policy(allow("s3:GetObject*", f"{BUCKET}/incoming/*", Sid="Read"))],
    )
    assert (decision.outcome, decision.policy_kind, decision.statement) == (
        "allowed",
        "identity-based",
        "Read",
    )
    assert decision.message == ""


def test_nothing_allowing_is_an_implicit_deny_worded_as_aws_words_it() -> None:
    decision = evaluate(
        request("s3:GetObject", f"{BUCKET}/models/m"), [policy(allow("s3:GetObject", f"{BUCKET}/incoming/*"))]
    )
    assert decision.outcome == "implicit_deny"
    assert decision.reason == "no identity-based policy allows"
    assert decision.message == (
        f"User: {SESSION} is not authorized to perform: s3:GetObject on resource: {BUCKET}/models/m"
        " because no identity-based policy allows the s3:GetObject action"
    )


def test_actions_match_whatever_their_case_and_resources_only_in_theirs() -> None:
    identity = [policy(allow("S3:getobject", f"{BUCKET}/Incoming/*"))]
    assert evaluate(request("s3:GetObject", f"{BUCKET}/Incoming/a"), identity).allowed
    assert not evaluate(request("s3:GetObject", f"{BUCKET}/incoming/a"), identity).allowed


def test_a_wildcard_ending_a_resource_segment_runs_past_its_colons() -> None:
    identity = [policy(allow("lambda:InvokeFunction", f"arn:aws:lambda:*:{ACCOUNT}:function:score*"))]
    alias = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:score:live"
    assert evaluate(request("lambda:InvokeFunction", alias), identity).allowed
    other = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:train:live"
    assert not evaluate(request("lambda:InvokeFunction", other), identity).allowed


def test_an_explicit_deny_wins_over_any_allow_and_names_its_statement() -> None:
    identity = [
        policy(allow("s3:*")),
        policy({"Sid": "NoDeletes", "Effect": "Deny", "Action": "s3:Delete*", "Resource": "*"}, name="guard"),
    ]
    decision = evaluate(request("s3:DeleteObject", f"{BUCKET}/a"), identity)
    assert (decision.outcome, decision.policy, decision.statement) == ("explicit_deny", "guard", "NoDeletes")
    assert decision.message.endswith(
        "on resource: arn:aws:s3:::data/a with an explicit deny in an identity-based policy"
    )


def test_not_action_with_allow_allows_everything_but_what_it_lists() -> None:
    identity = [policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})]
    assert evaluate(request("s3:PutObject", f"{BUCKET}/a"), identity).allowed
    assert not evaluate(request("iam:CreateRole", ROLE), identity).allowed


def test_deny_with_not_action_denies_everything_but_what_it_lists() -> None:
    identity = [
        policy(allow("*"), {"Effect": "Deny", "NotAction": ["s3:GetObject", "kms:Decrypt"], "Resource": "*"})
    ]
    assert evaluate(request("s3:GetObject", f"{BUCKET}/a"), identity).allowed
    assert evaluate(request("s3:PutObject", f"{BUCKET}/a"), identity).outcome == "explicit_deny"


def test_not_resource_matches_every_resource_but_those_listed() -> None:
    identity = [policy({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": f"{BUCKET}/incoming/*"})]
    assert evaluate(request("s3:GetObject", f"{BUCKET}/datasets/a"), identity).allowed
    assert not evaluate(request("s3:GetObject", f"{BUCKET}/incoming/a"), identity).allowed


def test_a_statement_applies_only_when_its_conditions_hold() -> None:
    identity = [
        policy(
            allow("cloudwatch:PutMetricData", Condition={"StringEquals": {"cloudwatch:namespace": "MLOps"}})
        )
    ]
    assert evaluate(request("cloudwatch:PutMetricData", "*", cloudwatch__namespace="MLOps"), identity).allowed
    assert not evaluate(
        request("cloudwatch:PutMetricData", "*", cloudwatch__namespace="Other"), identity
    ).allowed
    assert not evaluate(request("cloudwatch:PutMetricData", "*"), identity).allowed


TLS_ONLY = {
    "Effect": "Deny",
    "Principal": {"AWS": "*"},
    "Action": "s3:*",
    "Resource": [BUCKET, f"{BUCKET}/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def test_a_bucket_policy_deny_wins_and_is_named_as_a_resource_based_policy() -> None:
    bucket = ResourcePolicy(policy(TLS_ONLY, name="bucket policy of data"), kind="bucket policy")
    identity = [policy(allow("s3:GetObject"))]
    plain = evaluate(request("s3:GetObject", f"{BUCKET}/a", aws__SecureTransport="false"), identity, bucket)
    assert (plain.outcome, plain.policy_kind, plain.policy) == (
        "explicit_deny",
        "resource-based",
        "bucket policy of data",
    )
    assert plain.message.endswith("with an explicit deny in a resource-based policy")
    assert evaluate(
        request("s3:GetObject", f"{BUCKET}/a", aws__SecureTransport="true"), identity, bucket
    ).allowed


def test_a_bucket_policy_naming_the_role_allows_without_an_identity_policy() -> None:
    bucket = ResourcePolicy(policy(allow("s3:GetObject", f"{BUCKET}/*", Principal={"AWS": ROLE}), name="b"))
    decision = evaluate(request("s3:GetObject", f"{BUCKET}/a"), [], bucket)
    assert (decision.outcome, decision.policy_kind, decision.statement) == (
        "allowed",
        "resource-based",
        "statement 0",
    )
    other = f"arn:aws:sts::{ACCOUNT}:assumed-role/Other/fn"
    assert not evaluate(request("s3:GetObject", f"{BUCKET}/a", principal=other), [], bucket).allowed


def test_a_bucket_policy_naming_the_account_only_delegates_to_identity_policies() -> None:
    bucket = ResourcePolicy(policy(allow("s3:*", f"{BUCKET}/*", Principal={"AWS": ACCOUNT}), name="b"))
    assert not evaluate(request("s3:GetObject", f"{BUCKET}/a"), [], bucket).allowed
    assert evaluate(request("s3:GetObject", f"{BUCKET}/a"), [policy(allow("s3:GetObject"))], bucket).allowed


def test_not_principal_in_a_deny_spares_only_those_listed() -> None:
    bucket = ResourcePolicy(
        policy({"Effect": "Deny", "NotPrincipal": {"AWS": ROLE}, "Action": "s3:*", "Resource": "*"}, name="b")
    )
    identity = [policy(allow("s3:*"))]
    assert evaluate(request("s3:GetObject", f"{BUCKET}/a"), identity, bucket).allowed
    other = f"arn:aws:iam::{ACCOUNT}:role/Other"
    assert (
        evaluate(request("s3:GetObject", f"{BUCKET}/a", principal=other), identity, bucket).outcome
        == "explicit_deny"
    )


def key_policy(*statements: dict[str, Any]) -> ResourcePolicy:
    return ResourcePolicy(policy(*statements, name="key policy of k-1"), required=True, kind="key policy")


def test_a_kms_key_without_the_root_delegation_ignores_identity_policies() -> None:
    logs_only = key_policy(allow("kms:*", Principal={"Service": "logs.amazonaws.com"}))
    decision = evaluate(request("kms:Decrypt", KEY), [policy(allow("kms:Decrypt", KEY))], logs_only)
    assert (decision.outcome, decision.policy_kind, decision.reason) == (
        "implicit_deny",
        "resource-based",
        "the key policy does not allow",
    )
    assert decision.message.endswith("because no resource-based policy allows the kms:Decrypt action")


def test_a_kms_key_delegating_to_the_account_needs_the_identity_policy_too() -> None:
    delegating = key_policy(allow("kms:*", Principal={"AWS": ROOT}))
    assert evaluate(request("kms:Decrypt", KEY), [policy(allow("kms:Decrypt", KEY))], delegating).allowed
    decision = evaluate(request("kms:Decrypt", KEY), [policy(allow("s3:*"))], delegating)
    assert (decision.outcome, decision.reason) == ("implicit_deny", "no identity-based policy allows")


def test_a_kms_key_policy_naming_the_role_allows_it_directly() -> None:
    direct = key_policy(allow("kms:Decrypt", Principal={"AWS": ROLE}))
    assert evaluate(request("kms:Decrypt", KEY), [], direct).allowed
    assert not evaluate(request("kms:Encrypt", KEY), [], direct).allowed


def test_a_role_trust_policy_must_allow_assume_role() -> None:
    trust = ResourcePolicy(
        parse_policy(
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "states.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ]
            },
            name="trust policy of Machine",
            resource_required=False,
        ),
        required=True,
        kind="trust policy",
    )
    machine = f"arn:aws:iam::{ACCOUNT}:role/Machine"
    assert evaluate(Request("states.amazonaws.com", "sts:AssumeRole", machine), [], trust).allowed
    refused = evaluate(Request("events.amazonaws.com", "sts:AssumeRole", machine), [], trust)
    assert (refused.outcome, refused.reason) == ("implicit_deny", "the trust policy does not allow")
    caller = evaluate(request("sts:AssumeRole", machine), [policy(allow("sts:AssumeRole"))], trust)
    assert not caller.allowed


def test_the_one_statement_that_allows_is_found_among_many_that_do_not() -> None:
    statements = [allow(f"s3:Get{i}*", f"{BUCKET}/prefix-{i}/*") for i in range(40)]
    statements.append(
        allow("s3:GetObject", f"{BUCKET}/incoming/*", Condition={"Bool": {"aws:SecureTransport": "true"}})
    )
    identity = [policy(*statements)]
    call = request("s3:GetObject", f"{BUCKET}/incoming/a.csv", aws__SecureTransport="true")
    assert evaluate(call, identity).allowed
    plain = request("s3:GetObject", f"{BUCKET}/incoming/a.csv", aws__SecureTransport="false")
    assert not evaluate(plain, identity).allowed
