"""moto in the test's own process (no server, no network); Lambda handlers loaded as their assets are."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import boto3
import pytest
from moto import mock_aws

from adapters.aws import client, resource

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def mocked_aws(monkeypatch: pytest.MonkeyPatch, *, state_dir: Path | None = None) -> Iterator[None]:
    """moto with Step Functions executing state machines, and the project's cached clients made anew.

    ``state_dir`` is the CLI's state folder (``MLOPS_STATE_DIR``), so that no local cloud is found.
    """
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    if state_dir is not None:
        monkeypatch.setenv("MLOPS_STATE_DIR", str(state_dir))
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    client.cache_clear()
    resource.cache_clear()
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield
    client.cache_clear()
    resource.cache_clear()


def asset_handler(name: str, folder: Path, generated: Mapping[str, str]) -> ModuleType:
    """``lambdas/<name>/handler.py`` imported from a copy in ``folder`` beside its generated files.

    As in the function's asset: the handler reads ``contracts.json`` (and the like) next to itself, and
    is imported under a name of its own, so the handlers carry no test-only branch.
    """
    shutil.copy(PROJECT_ROOT / "lambdas" / name / "handler.py", folder / "handler.py")
    for file, text in generated.items():
        (folder / file).write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"asset_{name}.handler", folder / "handler.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def forget_cached_adapters(modules: Iterable[ModuleType]) -> None:
    """Make the handlers create their settings and clients again (for the next test's environment)."""
    for module in modules:
        module.function.forget()  # each handler's adapters.lambda_function.LambdaFunction


class FakeLambdaContext:
    """What Powertools and the handlers read from a Lambda context; ``remaining_ms`` of time left."""

    memory_limit_in_mb = 1024
    aws_request_id = "request-1"

    def __init__(self, function_name: str = "test", remaining_ms: int = 900_000) -> None:
        self.function_name = function_name
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def create_table(name: str, partition: str, sort: str) -> None:
    """An on-demand table keyed by two strings in moto, as the foundation's tables are."""
    boto3.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": partition, "KeyType": "HASH"},
            {"AttributeName": sort, "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": partition, "AttributeType": "S"},
            {"AttributeName": sort, "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def create_data_plane(bucket: str, catalog: str) -> None:
    """The versioned data bucket and the dataset catalog (dataset, version) in moto, as the stack has them."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    create_table(catalog, "dataset", "version")
