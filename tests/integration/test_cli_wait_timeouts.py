"""Every ``mlops`` command that waits, past its ``--timeout``: the document as it stands, and exit 1.

With ``--json`` a script reads stdout: a wait that runs out prints what is known so far (the upload, the
run still running, the deployment still going) rather than nothing, with a line on stderr, and exits 1 as
for an outcome that is not the one asked for. Against moto, where nothing answers the uploads and no
deployment ends; the stack's outputs are faked as in ``test_cli_pipeline_models``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import boto3

from tests.integration.test_cli_pipeline_models import BUCKET, Deploy, aws, deploy, mlops, register

__all__ = ["aws", "deploy"]  # the fixtures this module uses, imported with their helpers


def test_data_push_past_its_timeout_prints_the_upload_and_exits_1(deploy: Deploy, tmp_path: Path) -> None:
    # Given a platform whose validation never answers
    deploy()
    upload = tmp_path / "churn.csv"
    upload.write_text("customer_id,churned\n1,0\n", encoding="utf-8")
    digest = hashlib.sha256(upload.read_bytes()).hexdigest()

    # When a file is pushed with --json and a short --timeout
    pushed = mlops("data", "push", str(upload), "--dataset", "churn", "--json", "--timeout", "0.3")

    # Then the document is the upload's (as --no-wait gives it), stderr says where the result will be, exit 1
    assert pushed.exit_code == 1, pushed.output
    assert json.loads(pushed.stdout) == {
        "dataset": "churn", "key": "incoming/churn/churn.csv", "sha256": digest, "status": "uploaded"
    }  # fmt: skip
    assert (
        f"no validation result yet for incoming/churn/churn.csv after 0.3 s: `mlops data show churn {digest}`"
        in (pushed.stderr)
    )
    assert boto3.client("s3").head_object(Bucket=BUCKET, Key="incoming/churn/churn.csv")["ContentLength"] > 0


def test_feedback_push_past_its_timeout_prints_the_upload_and_exits_1(deploy: Deploy, tmp_path: Path) -> None:
    # Given a platform whose feedback function never answers
    deploy()["FeedbackDatasets"] = "churn"
    labels = tmp_path / "labels.csv"
    labels.write_text("inference_id,churned\nabc,1\n", encoding="utf-8")

    # When labels are pushed with --json and a short --timeout
    pushed = mlops("feedback", "push", str(labels), "--dataset", "churn", "--json", "--timeout", "0.3")

    # Then the document names the upload, without a report, and the command exits 1
    assert pushed.exit_code == 1, pushed.output
    document = json.loads(pushed.stdout)
    assert document["status"] == "uploaded" and document["dataset"] == "churn"
    assert document["sha256"] == hashlib.sha256(labels.read_bytes()).hexdigest()
    assert document["key"].endswith("/labels.csv")
    assert "no report yet for " in pushed.stderr and "after 0.3 s" in pushed.stderr


def test_rollback_with_wait_past_its_timeout_prints_the_deployment_running_and_exits_1(
    deploy: Deploy,
) -> None:
    # Given a version waiting for approval, whose deployment never ends here
    deploy()
    register()

    # When it is rolled back to with --wait, --json and a short --timeout
    rolled = mlops(
        "models", "rollback", "churn/1", "--reason", "v2 drifts", "--wait", "--timeout", "0.3", "--json"
    )

    # Then the document says the deployment is still running, and the command exits 1
    assert rolled.exit_code == 1, rolled.output
    document = json.loads(rolled.stdout)
    assert document["version"]["approval_status"] == "Approved"
    assert document["outcome"]["status"] == "running"
    assert "had not ended after 0.3 s" in document["outcome"]["reason"]
    assert "still deploying" in rolled.stderr
