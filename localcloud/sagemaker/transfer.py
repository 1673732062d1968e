"""Moving a training job's data: channels and code from the local S3 in, archives out.

Every object is read with ``GetObject`` and listed with ``ListObjectsV2`` on the client given, the job's
role's when IAM is enforced: a denial keeps S3's ``AccessDenied`` message (``download_file`` would
first send a ``HeadObject``, whose 403 has no message), and a denied channel fails the job with the
reason SageMaker gives, ``Data download failed:Unable to download object ...``.

SageMaker accepts S3 locations as ``s3://bucket/key`` or as HTTPS URLs, in path style
(``https://s3.<region>.amazonaws.com/bucket/key``, what CDK's ``S3Location.from_bucket`` renders) or
virtual-hosted style (``https://bucket.s3.<region>.amazonaws.com/key``); it reports its own locations
(``ModelArtifacts``) as ``s3://`` URIs.
"""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlparse

from botocore.exceptions import ClientError

# Where SageMaker puts a job's input channels in the container; the job folder stands for /opt/ml.
CONTAINER_ROOT = PurePosixPath("/opt/ml")
CONTAINER_CHANNELS = CONTAINER_ROOT / "input" / "data"


class JobSetupError(Exception):
    """The job cannot start: its inputs or code are missing or unusable (SageMaker's ``ClientError``)."""


def download_channels(channels: list[dict[str, Any]], data_dir: Path, s3: Any) -> dict[str, Path]:
    """Download every channel of ``InputDataConfig`` into ``<data_dir>/<channel>/``; return name -> folder.

    ``S3Prefix`` channels work as SageMaker's file mode does: an object named exactly by the URI lands
    under its base name, otherwise every object under the prefix lands at its path after the prefix.
    """
    folders: dict[str, Path] = {}
    for channel in channels:
        name = channel["ChannelName"]
        source = (channel.get("DataSource") or {}).get("S3DataSource")
        if source is None:
            raise JobSetupError(f"channel {name}: only S3 data sources run locally")
        if source.get("S3DataType", "S3Prefix") != "S3Prefix":
            raise JobSetupError(f"channel {name}: S3DataType {source['S3DataType']} does not run locally")
        folder = data_dir / name
        folder.mkdir(parents=True, exist_ok=True)
        if download_prefix(s3, source["S3Uri"], folder) == 0:
            raise JobSetupError(
                f'No S3 objects found under S3 URL "{source["S3Uri"]}" given in input data source. Please '
                "ensure that the bucket exists in the selected region, and that objects exist under that "
                "S3 prefix."
            )
        folders[name] = folder
    return folders


def download_prefix(s3: Any, uri: str, target: Path) -> int:
    """Download the object ``uri`` names, or every object under it; return how many were written.

    The prefix is listed (``s3:ListBucket``, as SageMaker lists a channel), never read as an object:
    a role that may read the objects under it need not be allowed to read a key named as the prefix.

    Raises
    ------
    JobSetupError
        If listing or reading is denied or fails, with SageMaker's ``Data download failed`` reason.
    """
    bucket, prefix = split_s3_uri(uri)
    try:
        keys = [
            item["Key"]
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for item in page.get("Contents", [])
        ]
    except ClientError as error:
        raise JobSetupError(_download_failed(f"Unable to list objects under {uri}", error)) from error
    if prefix and not prefix.endswith("/") and prefix in keys:
        keys = [prefix]  # the URI names one object: it alone lands, under its base name
    count = 0
    for key in keys:
        relative = key[len(prefix) :].lstrip("/") or Path(key).name
        if key.endswith("/"):
            continue  # "folder" placeholder objects
        destination = target / relative
        if target.resolve() not in destination.resolve().parents:
            raise JobSetupError(f"object {key} would land outside its channel folder")
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            fetch(s3, bucket, key, destination)
        except ClientError as error:
            message = f"Unable to download object s3://{bucket}/{key}"
            raise JobSetupError(_download_failed(message, error)) from error
        count += 1
    return count


def fetch(s3: Any, bucket: str, key: str, target: Path) -> None:
    """Write the object ``bucket``/``key`` to ``target`` (``GetObject``: a denial keeps its message)."""
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    with target.open("wb") as file:
        shutil.copyfileobj(body, file)


def _download_failed(what: str, error: ClientError) -> str:
    details = error.response.get("Error", {})
    return f"Data download failed:{what} ({details.get('Code')}: {details.get('Message')})"


def install_code(program: str, source: str, code_dir: Path, s3: Any) -> None:
    """Extract the ``sourcedir.tar.gz`` at ``source`` into ``code_dir``.

    ``source`` is an S3 location (the training toolkit downloads it), ``file://``, or a path in the
    container under ``/opt/ml/input/data/<channel>/`` (an input channel delivered it: an archive, or a
    folder copied as it is), read in the job folder that stands for ``/opt/ml``.

    Raises
    ------
    JobSetupError
        If the archive cannot be read, or ``program`` is not in it.
    """
    archive = code_dir.parent / "sourcedir.tar.gz"
    if source.startswith("file://"):
        shutil.copyfile(urlparse(source).path, archive)
    elif source.startswith("/"):
        archive = in_job_folder(source, code_dir.parent)
        if archive.is_dir():
            shutil.copytree(archive, code_dir, dirs_exist_ok=True)
            _check_program(program, source, code_dir)
            return
    else:
        bucket, key = split_s3_uri(source)
        fetch(s3, bucket, key, archive)
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(code_dir, filter="data")
    except (tarfile.TarError, OSError) as error:
        raise JobSetupError(f"{source} is not a readable tar archive: {error}") from error
    _check_program(program, source, code_dir)


def in_job_folder(path: str, job_root: Path) -> Path:
    """The job folder's copy of ``path``, a file or folder an input channel put in the container.

    Raises
    ------
    JobSetupError
        If ``path`` is not under ``/opt/ml/input/data/<channel>/`` or no channel delivered it.
    """
    container_path = PurePosixPath(path)
    if not container_path.is_relative_to(CONTAINER_CHANNELS) or ".." in container_path.parts:
        raise JobSetupError(
            f"{path} is not in an input channel: a path in the container must be under "
            f"{CONTAINER_CHANNELS}/<channel>/, where SageMaker puts the channels' data"
        )
    local = job_root.joinpath(*container_path.relative_to(CONTAINER_ROOT).parts)
    if not local.exists():
        channel = container_path.relative_to(CONTAINER_CHANNELS).parts[0]
        raise JobSetupError(
            f"{path} does not exist in the container: no input channel {channel!r} delivered it (a channel's "
            "S3Prefix naming one object puts it in the channel's folder under the object's base name)"
        )
    return local


def _check_program(program: str, source: str, code_dir: Path) -> None:
    if not (code_dir / program).is_file():
        raise JobSetupError(f"{program} is not in {source}")


def is_s3_location(uri: str) -> bool:
    """Whether ``uri`` names an S3 object in a form SageMaker accepts (what a container would download)."""
    try:
        split_s3_uri(uri)
    except JobSetupError:
        return False
    return True


def archive_directory(directory: Path, target: Path) -> Path:
    """``directory``'s content as a ``tar.gz`` at ``target`` (files at the archive's root, as SageMaker)."""
    with tarfile.open(target, "w:gz") as tar:
        for path in sorted(directory.rglob("*")):
            tar.add(path, arcname=path.relative_to(directory).as_posix(), recursive=False)
    return target


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``(bucket, key)`` of an S3 location in any form SageMaker accepts."""
    parsed = urlparse(uri)
    if parsed.scheme == "s3" and parsed.netloc:
        return parsed.netloc, parsed.path.lstrip("/")
    host = parsed.hostname or ""
    if parsed.scheme == "https" and host.startswith(("s3.", "s3-")):
        bucket, _, key = parsed.path.lstrip("/").partition("/")
        if bucket:
            return bucket, key
    if parsed.scheme == "https" and (".s3." in host or ".s3-" in host):
        return host.split(".s3", 1)[0], parsed.path.lstrip("/")
    raise JobSetupError(f"not an S3 location: {uri!r}")


def artifact_uri(output_path: str, job_name: str, file_name: str) -> str:
    """``<S3OutputPath>/<job>/output/<file_name>``, as an ``s3://`` URI (SageMaker reports it so)."""
    return f"{canonical_s3_uri(output_path).rstrip('/')}/{job_name}/output/{file_name}"


def canonical_s3_uri(uri: str) -> str:
    """``uri`` as ``s3://bucket/key`` (SageMaker reports its locations so); unchanged if not S3."""
    try:
        bucket, key = split_s3_uri(uri)
    except JobSetupError:
        return uri
    return f"s3://{bucket}/{key}"
