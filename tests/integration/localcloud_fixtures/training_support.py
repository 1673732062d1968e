"""Helpers for the local cloud's training tests: the fixture's source archive, requests, artifacts.

Kept apart from ``training_app`` so that tests which need no CDK app do not import the CDK.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path
from typing import Any

TRAINING_CODE = Path(__file__).resolve().parent / "training_code"
TRAINING_LOG_GROUP = "/aws/sagemaker/TrainingJobs"
# Any image: locally the virtualenv stands in for it; on AWS this is the scikit-learn framework image.
TRAINING_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
SOURCE_KEY = "code/sourcedir.tar.gz"


def sourcedir_archive(folder: Path = TRAINING_CODE) -> bytes:
    """``folder``'s Python files as ``sourcedir.tar.gz``, files at the root (as the SageMaker SDK packs)."""
    buffer = io.BytesIO()
    # Fixed times (gzip header, tar entries): equal code, equal archive, equal CDK asset hash.
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as compressed,
        tarfile.open(fileobj=compressed, mode="w") as tar,
    ):
        for path in sorted(folder.glob("*.py")):
            info = tar.gettarinfo(str(path), arcname=path.name)
            info.mtime = 0
            with path.open("rb") as handle:
                tar.addfile(info, handle)
    return buffer.getvalue()


def training_job_request(
    name: str,
    *,
    bucket: str,
    hyperparameters: dict[str, str],
    max_runtime_seconds: int = 60,
    code_channel: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """A ``CreateTrainingJob`` request for the fixture script, reading ``s3://<bucket>/data/train``.

    The code is downloaded by the toolkit from ``s3://<bucket>/code/sourcedir.tar.gz``, or with
    ``code_channel`` delivered as the input channel ``code`` (what a network-isolated job needs).
    """
    channels = [_channel("train", f"s3://{bucket}/data/train")]
    submit_directory = f"s3://{bucket}/{SOURCE_KEY}"
    if code_channel:
        channels.append(_channel("code", submit_directory))
        submit_directory = f"/opt/ml/input/data/code/{SOURCE_KEY.rsplit('/', 1)[-1]}"
    return {
        "TrainingJobName": name,
        "HyperParameters": {
            "sagemaker_program": "train.py",
            "sagemaker_submit_directory": submit_directory,
            **hyperparameters,
        },
        "AlgorithmSpecification": {
            "TrainingImage": TRAINING_IMAGE,
            "TrainingInputMode": "File",
            "MetricDefinitions": [{"Name": "validation:accuracy", "Regex": r"validation:accuracy=([0-9.]+)"}],
        },
        "RoleArn": "arn:aws:iam::123456789012:role/training",
        "InputDataConfig": channels,
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/models/"},
        "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": max_runtime_seconds},
        **extra,
    }


def _channel(name: str, uri: str) -> dict[str, Any]:
    return {"ChannelName": name, "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri}}}


def read_archive(s3: Any, uri: str) -> dict[str, bytes]:
    """The files of the ``tar.gz`` at ``s3://bucket/key``, by name."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        return {
            member.name: extracted.read()
            for member in tar.getmembers()
            if member.isfile() and (extracted := tar.extractfile(member)) is not None
        }


def training_log_lines(logs: Any, job_name: str) -> list[str]:
    """Every line the job's streams hold in ``/aws/sagemaker/TrainingJobs``."""
    streams = logs.describe_log_streams(logGroupName=TRAINING_LOG_GROUP, logStreamNamePrefix=f"{job_name}/")
    lines: list[str] = []
    for stream in streams["logStreams"]:
        events = logs.get_log_events(logGroupName=TRAINING_LOG_GROUP, logStreamName=stream["logStreamName"])
        lines.extend(event["message"] for event in events["events"])
    return lines
