"""The model package's ``CustomerMetadataProperties``: every key the platform writes or reads, and values.

One module names them, so that the writers (registration, a decision, a deployment's outcome) and the
readers (:class:`domain.training.registration.ModelVersion`, the champion policy) cannot drift apart. The keys
are an interface: people search the registry by them in the console, and versions registered by an
earlier release keep them, so a key's text never changes.

AWS allows 50 entries per package, keys of 1-128 and values of 1-256 characters drawn from letters,
numbers, spaces and ``_.:/=+-@``: :func:`metadata_value` cuts free text down to that.
"""

from __future__ import annotations

import json
from typing import Any, Final

__all__ = [
    "APPROVAL_AT",
    "APPROVAL_BY",
    "DEPLOYED",
    "DEPLOYMENT_AT",
    "DEPLOYMENT_ENDPOINT",
    "DEPLOYMENT_EXECUTION",
    "DEPLOYMENT_REASON",
    "DEPLOYMENT_STATUS",
    "GATE_CHAMPION_COMPARED",
    "GATE_DECISION",
    "GATE_SUMMARY",
    "HYPERPARAMETER",
    "LATER_ENTRIES",
    "LINEAGE_CODE_VERSION",
    "LINEAGE_DATASET",
    "LINEAGE_DATASET_VERSION",
    "LINEAGE_EXECUTION_ARN",
    "LINEAGE_IMPORTED_BY",
    "LINEAGE_IMPORT_NAME",
    "LINEAGE_IMPORT_SHA256",
    "LINEAGE_MODULE",
    "LINEAGE_MODULE_SHA256",
    "LINEAGE_TRIGGER",
    "LINEAGE_TRIGGER_REASON",
    "LINEAGE_TRIGGER_REFERENCE",
    "MAX_ENTRIES",
    "MAX_KEY",
    "MAX_VALUE",
    "METRIC",
    "MODEL_FAMILY",
    "MODEL_HYPERPARAMETERS_OMITTED",
    "MODEL_PACKAGES",
    "MODEL_TASK",
    "REPLACED",
    "metadata_key",
    "metadata_value",
]

MAX_ENTRIES: Final = 50
MAX_KEY: Final = 128
MAX_VALUE: Final = 256
_ALLOWED_PUNCTUATION = frozenset(" _.:/=+-@")

# Lineage (design invariant 2): what the version was trained on, with which code, by which run and why.
LINEAGE_DATASET: Final = "lineage.dataset"
LINEAGE_DATASET_VERSION: Final = "lineage.dataset_version"
LINEAGE_CODE_VERSION: Final = "lineage.code_version"
LINEAGE_EXECUTION_ARN: Final = "lineage.execution_arn"
LINEAGE_TRIGGER: Final = "lineage.trigger"
LINEAGE_TRIGGER_REFERENCE: Final = "lineage.trigger_reference"
LINEAGE_TRIGGER_REASON: Final = "lineage.trigger_reason"
# A team's module: "<path as configured>:<builder>" and the SHA-256 of the module file as shipped.
LINEAGE_MODULE: Final = "lineage.module"
LINEAGE_MODULE_SHA256: Final = "lineage.module_sha256"
# A model trained elsewhere: its skops file's SHA-256, who imported it (the caller's ARN), its file name.
LINEAGE_IMPORT_SHA256: Final = "lineage.import_sha256"
LINEAGE_IMPORTED_BY: Final = "lineage.imported_by"
LINEAGE_IMPORT_NAME: Final = "lineage.import_name"

MODEL_FAMILY: Final = "model.family"
MODEL_TASK: Final = "model.task"
# What the model needs beyond the image: "lightgbm==4.7.0 narwhals==2.1.0" (sorted by name).
MODEL_PACKAGES: Final = "model.packages"
# How many hyperparameters have no hp.<name> entry, for want of room (a team's are free JSON, any number) or
# of AWS's characters in their name or value: all of them are in the version's evaluation.json.
MODEL_HYPERPARAMETERS_OMITTED: Final = "model.hyperparameters_omitted"

# Prefixes: one entry per hyperparameter used and per metric of the challenger on the test rows.
HYPERPARAMETER: Final = "hp."
METRIC: Final = "metric."

GATE_DECISION: Final = "gate.decision"
GATE_CHAMPION_COMPARED: Final = "gate.champion_compared"
GATE_SUMMARY: Final = "gate.summary"

# Who approved or rejected the version, and when (the reason is the package's ApprovalDescription).
APPROVAL_BY: Final = "approval.by"
APPROVAL_AT: Final = "approval.at"

# The version's last deployment: written when it ends, and on the version it replaced.
DEPLOYMENT_STATUS: Final = "deployment.status"
DEPLOYMENT_ENDPOINT: Final = "deployment.endpoint"
DEPLOYMENT_AT: Final = "deployment.at"
DEPLOYMENT_REASON: Final = "deployment.reason"
DEPLOYMENT_EXECUTION: Final = "deployment.execution"

# Entries written after registration (a decision, a deployment's outcome): registration leaves room for them.
LATER_ENTRIES: Final = (
    APPROVAL_BY, APPROVAL_AT,
    DEPLOYMENT_STATUS, DEPLOYMENT_ENDPOINT, DEPLOYMENT_AT, DEPLOYMENT_REASON, DEPLOYMENT_EXECUTION,
)  # fmt: skip

# Values of DEPLOYMENT_STATUS that are read back: a deployment's outcome ("deployed", "rolled_back",
# "failed", "superseded": domain.deployment.endpoint.Status), or "replaced" on the version a
# deployment replaced.
DEPLOYED: Final = "deployed"
REPLACED: Final = "replaced"


def metadata_key(name: str) -> str:
    """A key as AWS allows it: :func:`metadata_value`'s characters, at most 128 ('' when none is left)."""
    return metadata_value(name)[:MAX_KEY].rstrip()


def metadata_value(value: Any) -> str:
    """A value as AWS allows it in ``CustomerMetadataProperties`` ('' when nothing is left).

    Parameters
    ----------
    value : Any
        Strings keep letters, numbers, spaces and ``_.:/=+-@`` (anything else becomes a space); other
        values are written as JSON (``0.05``, ``true``, ``null``).

    Returns
    -------
    str
        At most 256 characters, runs of spaces collapsed; empty when nothing allowed was left.
    """
    text = (value if isinstance(value, str) else json.dumps(value)).replace("%", " percent")
    kept = "".join(c if c.isalnum() or c in _ALLOWED_PUNCTUATION else " " for c in text)
    return " ".join(kept.split())[:MAX_VALUE].rstrip()
