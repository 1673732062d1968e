"""Reading a synthesized cloud assembly (``cdk.out``): its stacks, their order, their assets.

Only what deploying needs is read: ``manifest.json`` artifacts of type ``aws:cloudformation:stack``
(with their templates and dependencies), ``cdk:asset-manifest`` (file assets and where they go) and
``cdk:cloud-assembly`` (the nested assembly of a ``cdk.Stage``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localcloud.errors import LocalCloudError

STACK = "aws:cloudformation:stack"
ASSET_MANIFEST = "cdk:asset-manifest"
NESTED_ASSEMBLY = "cdk:cloud-assembly"
_UNKNOWN = {"unknown-account", "unknown-region"}
_PLACEHOLDER = re.compile(r"\$\{AWS::(AccountId|Region|Partition)\}")


class AssemblyError(LocalCloudError):
    """The cloud assembly is missing, malformed, or asks for what the local cloud cannot do."""


@dataclass(frozen=True)
class FileAsset:
    """One file asset: a file or a folder (zipped) to upload to the assets bucket."""

    asset_hash: str
    source: Path
    packaging: str
    destinations: tuple[tuple[str, str], ...]  # (bucket name, object key), placeholders unresolved


@dataclass(frozen=True)
class StackArtifact:
    """One stack of the assembly."""

    artifact_id: str
    stack_name: str
    template_path: Path
    dependencies: tuple[str, ...]
    account: str | None
    region: str | None
    tags: dict[str, str] = field(default_factory=dict)
    termination_protection: bool = False
    bootstrap_parameters: tuple[str, ...] = ()
    assets: tuple[FileAsset, ...] = ()
    docker_images: tuple[str, ...] = ()

    def template(self) -> dict[str, Any]:
        """The stack's CloudFormation template."""
        data: dict[str, Any] = json.loads(self.template_path.read_text(encoding="utf-8"))
        return data


def substitute(text: str, *, account_id: str, region: str) -> str:
    """Resolve the ``${AWS::AccountId}``, ``${AWS::Region}`` and ``${AWS::Partition}`` placeholders."""
    values = {"AccountId": account_id, "Region": region, "Partition": "aws"}
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def read_stacks(cloud_assembly: Path) -> list[StackArtifact]:
    """Every stack of ``cloud_assembly`` (nested stages included), in an order that deploys.

    Raises
    ------
    AssemblyError
        If there is no ``manifest.json`` or the dependencies form a cycle.
    """
    stacks = _read(cloud_assembly.resolve())
    return _in_dependency_order(stacks)


def select(stacks: list[StackArtifact], names: list[str] | None) -> list[StackArtifact]:
    """The stacks named (by stack name or artifact id) and those they depend on, in order."""
    if not names:
        return stacks
    by_id = {s.artifact_id: s for s in stacks}
    wanted: set[str] = set()
    pending = [s.artifact_id for s in stacks if s.stack_name in names or s.artifact_id in names]
    unknown = set(names) - {s.stack_name for s in stacks} - set(by_id)
    if unknown:
        raise AssemblyError(f"no such stack in the cloud assembly: {', '.join(sorted(unknown))}")
    while pending:
        artifact_id = pending.pop()
        if artifact_id in wanted:
            continue
        wanted.add(artifact_id)
        pending.extend(d for d in by_id[artifact_id].dependencies if d in by_id)
    return [s for s in stacks if s.artifact_id in wanted]


def _read(directory: Path) -> list[StackArtifact]:
    manifest_path = directory / "manifest.json"
    if not manifest_path.is_file():
        raise AssemblyError(
            f"{directory} is not a cloud assembly (no manifest.json); run the CDK app's synth first"
        )
    artifacts: dict[str, dict[str, Any]] = json.loads(manifest_path.read_text(encoding="utf-8"))["artifacts"]
    stacks: list[StackArtifact] = []
    for artifact_id, artifact in artifacts.items():
        properties = artifact.get("properties", {})
        if artifact["type"] == NESTED_ASSEMBLY:
            stacks.extend(_read(directory / properties["directoryName"]))
        elif artifact["type"] == STACK:
            stacks.append(_stack(directory, artifact_id, artifact, artifacts))
    return stacks


def _stack(
    directory: Path, artifact_id: str, artifact: dict[str, Any], artifacts: dict[str, dict[str, Any]]
) -> StackArtifact:
    properties = artifact.get("properties", {})
    account, region = _environment(artifact.get("environment", ""))
    dependencies = tuple(artifact.get("dependencies", []))
    manifests = [
        directory / artifacts[d]["properties"]["file"]
        for d in dependencies
        if artifacts.get(d, {}).get("type") == ASSET_MANIFEST
    ]
    assets: list[FileAsset] = []
    images: list[str] = []
    for manifest in manifests:
        content = json.loads(manifest.read_text(encoding="utf-8"))
        assets.extend(_file_asset(directory, h, a) for h, a in content.get("files", {}).items())
        images.extend(content.get("dockerImages", {}))
    parameters = {
        properties.get("bootstrapStackVersionSsmParameter"),
        *(
            artifacts.get(d, {}).get("properties", {}).get("bootstrapStackVersionSsmParameter")
            for d in dependencies
        ),
    }
    return StackArtifact(
        artifact_id=artifact_id,
        stack_name=properties.get("stackName", artifact_id),
        template_path=directory / properties["templateFile"],
        dependencies=dependencies,
        account=account,
        region=region,
        tags=dict(properties.get("tags", {})),
        termination_protection=bool(properties.get("terminationProtection", False)),
        bootstrap_parameters=tuple(sorted(p for p in parameters if p)),
        assets=tuple(assets),
        docker_images=tuple(images),
    )


def _file_asset(directory: Path, asset_hash: str, asset: dict[str, Any]) -> FileAsset:
    source = asset["source"]
    if "path" not in source:
        raise AssemblyError(f"asset {asset_hash} is built by a command; the local cloud uploads files only")
    destinations = tuple((d["bucketName"], d["objectKey"]) for d in asset["destinations"].values())
    return FileAsset(
        asset_hash=asset_hash,
        source=directory / source["path"],
        packaging=source.get("packaging", "file"),
        destinations=destinations,
    )


def _environment(environment: str) -> tuple[str | None, str | None]:
    # "aws://123456789012/eu-west-1", or "aws://unknown-account/unknown-region" when agnostic.
    parts = environment.removeprefix("aws://").split("/")
    if len(parts) != 2:
        return None, None
    account, region = parts
    return (None if account in _UNKNOWN else account), (None if region in _UNKNOWN else region)


def _in_dependency_order(stacks: list[StackArtifact]) -> list[StackArtifact]:
    by_id = {s.artifact_id: s for s in stacks}
    ordered: list[StackArtifact] = []
    state: dict[str, str] = {}

    def visit(artifact_id: str) -> None:
        if state.get(artifact_id) == "done":
            return
        if state.get(artifact_id) == "visiting":
            raise AssemblyError(f"stack dependencies form a cycle through {artifact_id}")
        state[artifact_id] = "visiting"
        for dependency in by_id[artifact_id].dependencies:
            if dependency in by_id:
                visit(dependency)
        state[artifact_id] = "done"
        ordered.append(by_id[artifact_id])

    for stack in stacks:
        visit(stack.artifact_id)
    return ordered
