"""The CLI answers a missing cloud with one clear line, never a traceback (no network needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cli.main import app


@pytest.fixture
def nowhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("MLOPS_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    for name in ("AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    from adapters.aws import client, resource

    client.cache_clear()
    resource.cache_clear()
    return CliRunner()


@pytest.mark.parametrize(
    "command", [["data", "versions", "churn"], ["data", "show", "churn", "latest"]], ids=["versions", "show"]
)
def test_no_local_cloud_and_no_aws_configuration_is_one_clear_error(
    nowhere: CliRunner, command: list[str]
) -> None:
    result = nowhere.invoke(app, command)

    assert result.exit_code == 2
    assert "cannot reach AWS: You must specify a region" in result.output
    assert "Traceback" not in result.output


def test_asking_for_the_local_cloud_when_none_runs_says_how_to_start_one(nowhere: CliRunner) -> None:
    result = nowhere.invoke(app, ["data", "versions", "churn", "--cloud", "local"])

    assert result.exit_code == 2
    assert "no local cloud is running: start one with `mlops local up`" in result.output


def test_local_env_without_a_local_cloud_exits_1(nowhere: CliRunner) -> None:
    result = nowhere.invoke(app, ["local", "env"])

    assert result.exit_code == 1
    assert "no local cloud is running" in result.output


def test_an_upload_s3_refuses_is_one_line_with_s3_s_reason_not_boto3_s(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a command whose upload S3 refuses, as boto3's upload_file reports it (its own exception,
    # S3's ClientError the one it was raised from)
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import ClientError

    from cli.common import clear_errors

    denied = "User: arn:aws:sts::123456789012:assumed-role/r/alice is not authorized to perform: s3:PutObject"

    @clear_errors
    def push() -> None:
        try:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": denied}}, "PutObject")
        except ClientError as error:
            raise S3UploadFailedError(f"Failed to upload a.csv to data/incoming/a.csv: {error}") from None

    # When it runs
    with pytest.raises(typer.Exit) as exited:
        push()

    # Then it ends with S3's reason on one line and exit 2, not a traceback of boto3's exception
    assert exited.value.exit_code == 2
    assert capsys.readouterr().err.strip() == f"error: AWS refused the upload: {denied}"
