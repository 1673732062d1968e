"""IAM policy evaluation: whether a principal's policies and a resource's policy allow a request.

``parse_policy`` reads a document once; ``evaluate`` decides a ``Request`` as AWS would within one
account. ``local_iam.LocalIam`` bundles what a local cloud uses: the policy store, the role sessions
services act with, and the enforcer that decides each call (``front`` at the server, the services'
own checks elsewhere).
"""

from localcloud.iam.errors import PolicyError
from localcloud.iam.evaluate import Decision, Request, ResourcePolicy, evaluate
from localcloud.iam.policy import Policy, Statement, parse_policy

__all__ = [
    "Decision",
    "Policy",
    "PolicyError",
    "Request",
    "ResourcePolicy",
    "Statement",
    "evaluate",
    "parse_policy",
]
