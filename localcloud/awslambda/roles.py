"""Lambda's check of a function's execution role, at ``CreateFunction`` and ``UpdateFunctionConfiguration``.

Lambda assumes the role before it accepts the function: a role that does not exist (moto checks that
much) or whose trust policy does not let ``lambda.amazonaws.com`` assume it is refused with
``InvalidParameterValueException``, "The role defined for the function cannot be assumed by Lambda."
The check runs only while IAM is enforced (see ``localcloud.role_credentials.assume``), and for
CloudFormation's functions too (moto's stacks create them through the same backend method).
"""

from __future__ import annotations

from typing import Any

from moto.awslambda.exceptions import InvalidParameterValueException
from moto.awslambda.models import LambdaBackend
from moto.awslambda.utils import make_function_arn

from localcloud.iam.errors import AccessDeniedError
from localcloud.iam.local_iam import LocalIam
from localcloud.patches import Patch
from localcloud.role_credentials import assume

LAMBDA_PRINCIPAL = "lambda.amazonaws.com"
ROLE_CANNOT_BE_ASSUMED = "The role defined for the function cannot be assumed by Lambda."


def check_role(iam: LocalIam | None, role: Any, *, function_name: str, function_arn: str) -> None:
    """Refuse ``role`` for the function as Lambda does when it cannot assume it.

    Raises
    ------
    InvalidParameterValueException
        If IAM is enforced and ``lambda.amazonaws.com`` may not assume ``role``.
    """
    if not isinstance(role, str) or not role:
        return  # moto refuses a missing or malformed role itself
    try:
        assume(iam, role, service=LAMBDA_PRINCIPAL, session_name=function_name, source_arn=function_arn)
    except AccessDeniedError:
        raise InvalidParameterValueException(ROLE_CANNOT_BE_ASSUMED) from None


def patches(iam: LocalIam | None) -> list[Patch]:
    """The role check before moto's ``create_function`` and ``update_function_configuration``."""
    create = LambdaBackend.create_function
    update = LambdaBackend.update_function_configuration

    def create_function(backend: LambdaBackend, spec: dict[str, Any]) -> Any:
        name = spec.get("FunctionName")
        if isinstance(name, str):
            arn = make_function_arn(backend.region_name, backend.account_id, name)
            check_role(iam, spec.get("Role"), function_name=name, function_arn=arn)
        return create(backend, spec)

    def update_function_configuration(
        backend: LambdaBackend, function_name: str, qualifier: str, body: dict[str, Any]
    ) -> Any:
        if "Role" in body:
            function = backend.get_function(function_name, qualifier)  # ResourceNotFound when missing
            check_role(
                iam,
                body["Role"],
                function_name=function.function_name,
                function_arn=function.function_arn,
            )
        return update(backend, function_name, qualifier, body)

    return [
        Patch(LambdaBackend, "create_function", create_function),
        Patch(LambdaBackend, "update_function_configuration", update_function_configuration),
    ]
