"""``mlops models import``'s adapter in a local cloud that enforces IAM, acting as an importer's role session.

A person without the grants an import needs gets what is missing in our words (not boto3's sentence
around S3's refusal), nothing is written, and STS names an assumed role's session as the importer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.aws import forget_clients
from adapters.model_imports import ImportUploadError, S3ModelImports, caller_arn
from localcloud import LocalCloud
from tests.iam_roles import create_role

pytestmark = pytest.mark.slow

BUCKET, LAMBDA = "data", "lambda.amazonaws.com"
KEY = f"imports/churn/{'5a' * 32}.skops"
READ_IMPORTS = [
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/imports/*"},
    {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{BUCKET}"},
]
ActAs = Callable[[str, list[dict[str, Any]]], None]


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(enforce_iam=True) as running:
        running.client("s3").create_bucket(Bucket=BUCKET)
        yield running


@pytest.fixture
def act_as(cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> Iterator[ActAs]:
    """Point the adapters' clients at the local cloud, signed as a session of a role with ``statements``."""

    def act(name: str, statements: list[dict[str, Any]]) -> None:
        arn = create_role(cloud.client("iam"), name, trusts=LAMBDA, statements=statements)
        session = cloud.iam.sessions.assume(arn, service=LAMBDA, session_name="alice")
        for variable, value in {
            "AWS_ENDPOINT_URL": cloud.endpoint_url,
            "AWS_DEFAULT_REGION": cloud.region,
            "AWS_ACCESS_KEY_ID": session.access_key_id,
            "AWS_SECRET_ACCESS_KEY": session.secret_access_key,
            "AWS_SESSION_TOKEN": session.session_token,
        }.items():
            monkeypatch.setenv(variable, value)
        forget_clients()

    yield act
    forget_clients()


def test_an_importer_who_may_not_write_imports_is_told_what_is_missing_and_nothing_is_written(
    cloud: LocalCloud, act_as: ActAs, tmp_path: Path
) -> None:
    # Given a person who may read imports/ but not write it
    act_as("reader-of-imports", READ_IMPORTS)
    store = S3ModelImports(BUCKET)
    model = tmp_path / "churn.skops"
    model.write_bytes(b"PK model")

    # When the file is looked for, then uploaded
    assert store.exists(KEY) is False
    with pytest.raises(ImportUploadError) as raised:
        store.upload(model, KEY, {"original-name": "churn.skops"})

    # Then the refusal names the object, S3's code and the grants an import needs, in our words
    message = str(raised.value)
    assert message.startswith(f"you may not upload churn.skops to s3://{BUCKET}/{KEY} (AccessDenied): ")
    assert "s3:PutObject on imports/*" in message and "kms:GenerateDataKey" in message
    assert "Failed to upload" not in message and "An error occurred" not in message
    # And nothing was written
    assert cloud.client("s3").list_objects_v2(Bucket=BUCKET, Prefix="imports/").get("KeyCount") == 0


def test_an_importer_who_may_not_read_imports_is_told_so_before_any_upload(act_as: ActAs) -> None:
    # Given a person with no grant on the data bucket
    act_as("stranger", [])

    # When the imported file is looked for, then the refusal says which grants an import needs
    with pytest.raises(ImportUploadError, match=r"^you may not read s3://data/imports/churn/.* \(403\)"):
        S3ModelImports(BUCKET).exists(KEY)


def test_an_assumed_role_s_session_is_named_as_the_importer(act_as: ActAs) -> None:
    # Given a person acting through a role (as SSO users do)
    act_as("data-scientist", [])

    # When the importer is asked of STS, then it is the role's session, as the lineage will keep it
    assert caller_arn() == "arn:aws:sts::123456789012:assumed-role/data-scientist/alice"
