"""SageMaker acting as a job's or a model's role, and its check of that role when the job or model is created.

SageMaker assumes ``RoleArn`` (a training job) or ``ExecutionRoleArn`` (a model) as
``sagemaker.amazonaws.com``, with the session name ``SageMaker`` (a call it makes shows up as
``arn:aws:sts::<account>:assumed-role/<role>/SageMaker``). ``CreateTrainingJob`` and ``CreateModel``
refuse a role it cannot assume with a ``ValidationException``. Both apply only while IAM is enforced
(``localcloud.role_credentials.assume``).
"""

from __future__ import annotations

from moto.sagemaker.exceptions import ValidationError

from localcloud.iam.errors import AccessDeniedError
from localcloud.iam.local_iam import LocalIam
from localcloud.iam.sessions import Session
from localcloud.role_credentials import assume

SAGEMAKER_PRINCIPAL = "sagemaker.amazonaws.com"
SESSION_NAME = "SageMaker"


def session(iam: LocalIam | None, role_arn: str, *, source_arn: str | None = None) -> Session | None:
    """The session SageMaker acts with as ``role_arn`` (None: the administrator, without enforcement).

    Raises
    ------
    AccessDeniedError
        If the role does not exist or does not trust SageMaker.
    """
    return assume(
        iam, role_arn, service=SAGEMAKER_PRINCIPAL, session_name=SESSION_NAME, source_arn=source_arn
    )


def check_role(iam: LocalIam | None, role_arn: object, *, source_arn: str | None = None) -> None:
    """Refuse a role SageMaker cannot assume, as ``CreateTrainingJob`` and ``CreateModel`` do.

    Raises
    ------
    ValidationError
        ``Could not assume role <arn>. Please ensure that the role exists and allows principal
        'sagemaker.amazonaws.com' to assume the role.``
    """
    if not isinstance(role_arn, str) or not role_arn:
        return  # a missing role is refused by the request's own validation
    try:
        session(iam, role_arn, source_arn=source_arn)
    except AccessDeniedError:
        raise ValidationError(
            message=f"Could not assume role {role_arn}. Please ensure that the role exists and allows "
            f"principal '{SAGEMAKER_PRINCIPAL}' to assume the role."
        ) from None


def unable_to_assume(role_arn: str) -> str:
    """The ``FailureReason`` of a job whose role SageMaker could no longer assume when it started."""
    return f"ClientError: SageMaker was unable to assume the role '{role_arn}'"
