"""IAM resources as CloudFormation leaves them, which moto's CloudFormation does only in part.

moto creates an ``AWS::IAM::Role`` with its trust policy, inline ``Policies``, boundary and tags, but
ignores ``ManagedPolicyArns``; on an update it changes only the description, so a new trust policy,
inline policy, boundary or managed policy list never reaches the role. An ``AWS::IAM::ManagedPolicy``
attaches itself to its ``Roles``/``Groups``/``Users`` when created, and cannot be updated at all (moto
drops it from the stack). ``fix_role`` (a fix-up, after each create or update) and ``patches``
(moto's update of a managed policy) make both what CloudFormation makes. ``AWS::IAM::Policy`` needs
nothing: moto puts it into each of its ``Roles`` and takes it back on update.

AWS-managed policies (``arn:aws:iam::aws:policy/...``) exist in moto only if it loads its copy of all
1,582 of them into every IAM backend (``MOTO_IAM_LOAD_MANAGED_POLICIES=true``, about 0.1 s per backend
plus the memory); the fix-up loads only the ones a template names, from the same copy.
"""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, Any

from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.iam.models import AWSManagedPolicy, IAMBackend, ManagedPolicy, iam_backends

from localcloud.deploy.custom_resources import Clients
from localcloud.patches import Patch

if TYPE_CHECKING:  # fixups registers fix_role: a run-time import would be circular
    from localcloud.deploy.fixups import Resource

_AWS_POLICY_PREFIX = ":iam::aws:policy/"
# What the last deploy of a role applied, so that an update takes away what the template no longer says
# (CloudFormation diffs the old and new properties; the fix-up sees only the new ones).
_APPLIED = "_localcloud_template_applied"
_MAX_POLICY_VERSIONS = 5  # IAM's limit, which moto enforces too


def fix_role(client: Clients, resource: Resource) -> None:
    """Attach ``ManagedPolicyArns``; on an update also apply the trust policy, inline policies and boundary.

    The role gets CloudFormation's ``aws:cloudformation:stack-name`` and ``logical-id`` tags (moto tags
    only EC2 resources), by which the least-privilege report names it. Managed and inline policies that
    the previous deploy of this role applied and the template no longer names are detached or deleted;
    policies attached by other resources (``AWS::IAM::Policy``, ``AWS::IAM::ManagedPolicy``) are left
    alone.
    """
    iam, role, properties = client("iam"), resource.physical_id, resource.properties
    previous: dict[str, Any] = getattr(resource.model, _APPLIED, None) or {}
    managed = [str(arn) for arn in properties.get("ManagedPolicyArns") or []]
    inline = {p["PolicyName"]: p["PolicyDocument"] for p in properties.get("Policies") or []}
    boundary = properties.get("PermissionsBoundary")
    for arn in managed:
        if _AWS_POLICY_PREFIX in arn and resource.model is not None:
            load_aws_managed_policy(iam_backends[resource.model.account_id][resource.model.partition], arn)
        iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    for arn in set(previous.get("managed", ())) - set(managed):
        iam.detach_role_policy(RoleName=role, PolicyArn=arn)
    if previous:  # moto applied these on create; only an update leaves them stale
        iam.update_assume_role_policy(
            RoleName=role, PolicyDocument=_text(properties["AssumeRolePolicyDocument"])
        )
        for name, document in inline.items():
            iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=_text(document))
        if boundary:
            iam.put_role_permissions_boundary(RoleName=role, PermissionsBoundary=boundary)
        elif previous.get("boundary"):
            iam.delete_role_permissions_boundary(RoleName=role)
    for name in set(previous.get("inline", ())) - set(inline):
        iam.delete_role_policy(RoleName=role, PolicyName=name)
    stack_tags = {"stack-name": resource.stack_name, "logical-id": resource.logical_id}
    iam.tag_role(
        RoleName=role, Tags=[{"Key": f"aws:cloudformation:{k}", "Value": v} for k, v in stack_tags.items()]
    )
    if resource.model is not None:
        applied = {"managed": managed, "inline": sorted(inline), "boundary": boundary}
        setattr(resource.model, _APPLIED, applied)


def load_aws_managed_policy(backend: IAMBackend, arn: str) -> None:
    """Make the AWS-managed policy ``arn`` exist in ``backend`` (from moto's copy of AWS's policies).

    Raises
    ------
    KeyError
        If AWS has no managed policy of that name (as far as moto's copy knows): the template is wrong.
    """
    if arn in backend.managed_policies:
        return
    name = arn.rsplit("/", 1)[-1]
    data = _aws_managed_policies().get(name)
    if data is None:
        raise KeyError(
            f"{arn}: no AWS-managed policy of that name (moto's copy of AWS's managed policies lacks it); "
            "check the name in the template's ManagedPolicyArns"
        )
    policy = AWSManagedPolicy.from_data(name, backend.account_id, backend.region_name, data)
    backend.aws_managed_policies.append(policy)
    backend.managed_policies[policy.arn] = policy


@functools.cache
def _aws_managed_policies() -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(aws_managed_policies_data)
    return parsed


def patches() -> list[Patch]:
    """moto's missing update of an ``AWS::IAM::ManagedPolicy`` (a new default version, new attachments).

    A new ``ManagedPolicyName`` (a replacement in CloudFormation) is not handled: the policy keeps its name.
    """

    def update(
        cls: type[ManagedPolicy],
        /,
        original_resource: ManagedPolicy,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> ManagedPolicy:
        backend = iam_backends[account_id][original_resource.partition]
        update_managed_policy(backend, original_resource, cloudformation_json.get("Properties", {}))
        return original_resource

    return [Patch(ManagedPolicy, "update_from_cloudformation_json", classmethod(update))]


def update_managed_policy(backend: IAMBackend, policy: ManagedPolicy, properties: dict[str, Any]) -> None:
    """Give ``policy`` the template's document (as its default version) and exactly its attachments."""
    document = _text(properties.get("PolicyDocument"))
    versions = sorted(policy.versions, key=lambda v: v.create_date)
    if document != next(v.document for v in versions if v.is_default):
        stale = [v for v in versions if not v.is_default][: max(0, len(versions) - _MAX_POLICY_VERSIONS + 1)]
        for version in stale:
            backend.delete_policy_version(policy.arn, version.version_id)
        backend.create_policy_version(policy.arn, document, set_as_default=True)
    kinds = (
        ("Roles", backend.roles.values(), backend.attach_role_policy, backend.detach_role_policy),
        ("Users", backend.users.values(), backend.attach_user_policy, backend.detach_user_policy),
        ("Groups", backend.groups.values(), backend.attach_group_policy, backend.detach_group_policy),
    )
    for key, principals, attach, detach in kinds:
        wanted = set(properties.get(key) or [])
        attached = {p.name for p in principals if policy.arn in p.managed_policies}
        for name in wanted - attached:
            attach(policy.arn, name)
        for name in attached - wanted:
            detach(policy.arn, name)


def _text(document: Any) -> str:
    return document if isinstance(document, str) else json.dumps(document)
