"""What ``cdk bootstrap`` creates and what ``cdk deploy`` uploads before it deploys a stack.

The bootstrap stack's resources that a synthesized template depends on are the version parameter in
SSM (``/cdk-bootstrap/<qualifier>/version``, checked by the template's ``CheckBootstrapVersion`` rule)
and the assets bucket (``cdk-<qualifier>-assets-<account>-<region>``, where Lambda code is read from).
Both are created here from the names the assembly itself uses, so a custom qualifier works too.

Folders are zipped as the CDK CLI zips them: every file, dotfiles included, in sorted order, with
fixed timestamps, so that equal folders give equal archives. One exception: a Lambda *layer* asset is
uploaded as an empty archive. The dependency layer holds wheels for the Lambda platform (pyarrow makes
it hundreds of MB); the local cloud never unpacks it, because workers import those packages from the
local virtualenv, which installs the same pinned requirements.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import Any

from localcloud.deploy.assembly import StackArtifact, substitute

# Newer than any version a template requires (they check >= 6, lookups >= 8).
BOOTSTRAP_VERSION = "30"
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def bootstrap(stack: StackArtifact, *, ssm: Any, s3: Any, account_id: str, region: str) -> None:
    """Create the bootstrap resources that ``stack`` refers to, if they do not exist yet."""
    for name in stack.bootstrap_parameters:
        parameter = substitute(name, account_id=account_id, region=region)
        ssm.put_parameter(Name=parameter, Value=BOOTSTRAP_VERSION, Type="String", Overwrite=True)
    buckets = {
        substitute(bucket, account_id=account_id, region=region)
        for a in stack.assets
        for bucket, _ in a.destinations
    }
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for bucket in sorted(buckets - existing):
        if region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})


def publish(stack: StackArtifact, *, s3: Any, account_id: str, region: str) -> int:
    """Upload the file assets of ``stack`` that are not in their bucket yet; return how many were uploaded."""
    layer_hashes = layer_asset_hashes(stack.template())
    uploaded = 0
    for asset in stack.assets:
        body: bytes | None = None
        for bucket_template, key_template in asset.destinations:
            bucket = substitute(bucket_template, account_id=account_id, region=region)
            key = substitute(key_template, account_id=account_id, region=region)
            # Asset keys are content hashes: an object already there is this very asset (as the CLI assumes).
            if _exists(s3, bucket, key):
                continue
            if body is None:
                body = (
                    _empty_zip()
                    if asset.asset_hash in layer_hashes
                    else _package(asset.source, asset.packaging)
                )
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            uploaded += 1
    return uploaded


def layer_asset_hashes(template: dict[str, Any]) -> set[str]:
    """The hashes of the assets that ``AWS::Lambda::LayerVersion`` resources of ``template`` use."""
    hashes = set()
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") != "AWS::Lambda::LayerVersion":
            continue
        key = resource.get("Properties", {}).get("Content", {}).get("S3Key")
        if isinstance(key, str):
            hashes.add(key.rsplit("/", 1)[-1].split(".", 1)[0])
        path = resource.get("Metadata", {}).get("aws:asset:path", "")
        if path.startswith("asset."):
            hashes.add(path.removeprefix("asset."))
    return hashes


def zip_directory(directory: Path) -> bytes:
    """``directory`` as the CDK CLI zips it: all files, sorted, fixed timestamps, modes kept."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(directory).as_posix(), date_time=_ZIP_EPOCH)
            info.external_attr = (os.stat(path).st_mode & 0o777) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def _package(source: Path, packaging: str) -> bytes:
    if packaging == "zip" and source.is_dir():
        return zip_directory(source)
    return source.read_bytes()


def _empty_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w"):
        pass
    return buffer.getvalue()


def _exists(s3: Any, bucket: str, key: str) -> bool:
    response = s3.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)
    return any(item["Key"] == key for item in response.get("Contents", []))
