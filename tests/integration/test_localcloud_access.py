"""``mlops local access`` against a running local cloud that enforces IAM: what each role used and did not."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from typer.testing import CliRunner

from cli.main import app
from localcloud import LocalCloud
from localcloud.daemon import register_control
from tests.iam_roles import create_role, session_client
from tests.integration.localcloud_fixtures.support import one_stack_assembly

STACK, BUCKET = "access-fixture", "access-fixture-data"
TRUST = {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
GRANTS = [
    {"Sid": "ReadWriteWork", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
     "Resource": f"arn:aws:s3:::{BUCKET}/work/*"},
    {"Sid": "NeverUsed", "Effect": "Allow", "Action": "s3:DeleteObject",
     "Resource": f"arn:aws:s3:::{BUCKET}/*"},
]  # fmt: skip
TEMPLATE = {
    "Resources": {
        "Data": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": BUCKET}},
        "Worker": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [TRUST]},
                "Policies": [
                    {"PolicyName": "work", "PolicyDocument": {"Version": "2012-10-17", "Statement": GRANTS}}
                ],
            },
        },
        "Idle": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [TRUST]},
                "Policies": [
                    {
                        "PolicyName": "idle",
                        "PolicyDocument": {"Version": "2012-10-17", "Statement": GRANTS[:1]},
                    }
                ],
            },
        },
    },
    "Outputs": {"WorkerArn": {"Value": {"Fn::GetAtt": ["Worker", "Arn"]}}},
}


@pytest.fixture
def running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalCloud]:
    """A local cloud enforcing IAM with the fixture deployed, answering the daemon's control API, and
    recorded in a state dir as the running daemon (this process)."""
    assembly = one_stack_assembly(tmp_path / "assembly", STACK, TEMPLATE)
    with LocalCloud(work_dir=tmp_path / "work", enforce_iam=True) as cloud:
        register_control(cloud, threading.Event())
        cloud.deploy(assembly)
        state_dir = tmp_path / "state"
        state_dir.mkdir()
        state = {"pid": os.getpid(), "endpoint_url": cloud.endpoint_url, "region": cloud.region}
        (state_dir / "state.json").write_text(json.dumps(state))
        monkeypatch.setenv("MLOPS_STATE_DIR", str(state_dir))
        monkeypatch.setenv("MLOPS_ACCESS_REPORT", str(tmp_path / "tests-report.json"))
        yield cloud


def _access(*arguments: str) -> Any:
    result = CliRunner().invoke(app, ["local", "access", *arguments], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    return result.output


def test_the_report_lists_what_each_role_used_and_the_statements_it_never_used(running: LocalCloud) -> None:
    # Given the deployed role's session reads and writes under work/ and is refused elsewhere
    worker = running.outputs()["WorkerArn"]
    s3 = session_client(running, worker, "lambda.amazonaws.com", "s3")
    s3.put_object(Bucket=BUCKET, Key="work/a.csv", Body=b"1")
    s3.get_object(Bucket=BUCKET, Key="work/a.csv")
    with pytest.raises(ClientError, match="AccessDenied"):
        s3.put_object(Bucket=BUCKET, Key="elsewhere/b.csv", Body=b"1")
    # and a role made outside CloudFormation is used too
    other = create_role(
        running.client("iam"), "hand-made", trusts="lambda.amazonaws.com",
        statements=[{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{BUCKET}"}],
    )  # fmt: skip
    session_client(running, other, "lambda.amazonaws.com", "s3").list_objects_v2(Bucket=BUCKET)

    # When the report is asked for as JSON
    report = json.loads(_access("--json"))

    # Then it is the running cloud's, enforced, with the template's role under its stack and logical id
    assert report["source"] == "running" and report["enforced"] is True
    roles = {(r["stack"], r["logical_id"]) if r["stack"] else r["name"]: r for r in report["roles"]}
    assert set(roles) == {(STACK, "Worker"), (STACK, "Idle"), "hand-made"}
    assert roles[(STACK, "Worker")]["used"] == [
        {"action": "s3:GetObject", "resource": f"arn:aws:s3:::{BUCKET}/work/a.csv"},
        {"action": "s3:PutObject", "resource": f"arn:aws:s3:::{BUCKET}/work/a.csv"},
    ]
    (unused,) = roles[(STACK, "Worker")]["unused"]
    assert (unused["statement"], unused["actions"]) == ("NeverUsed", ["s3:DeleteObject"])
    assert roles["hand-made"]["unused"] == []
    # and a role nothing acted as is there with every grant unused
    assert roles[(STACK, "Idle")]["used"] == []
    assert [u["statement"] for u in roles[(STACK, "Idle")]["unused"]] == ["ReadWriteWork"]

    # And the table says the same
    table = _access()
    assert f"IAM use in the local cloud at {running.endpoint_url}" in table
    assert f"{STACK}/Worker (role " in table and "role hand-made" in table
    assert "NeverUsed" in table and "s3:DeleteObject" in table
    assert "never used: nothing acted as this role" in table
    assert "2 of 3 role(s) used; 2 statement(s) granted and never used" in table
