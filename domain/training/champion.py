"""Which registered version is a dataset's champion: the one a new run's challenger is compared with.

The champion is the approved version in service on the dataset's endpoint: the newest approved version
whose last deployment succeeded. Before any deployment (or when none succeeded), it is the newest
approved version. A version approved after it whose deployment is still going, or was rolled back or
failed, is not the champion: the endpoint does not serve it.
"""

from __future__ import annotations

from collections.abc import Iterable

from domain.model_metadata import DEPLOYED
from domain.training.registration import ModelVersion

__all__ = ["APPROVED", "champion"]

APPROVED = "Approved"


def champion(newest_first: Iterable[ModelVersion]) -> ModelVersion | None:
    """The champion among a dataset's versions.

    Parameters
    ----------
    newest_first : iterable of ModelVersion
        The dataset's versions, newest first (as the registry lists them). Versions that are not
        approved are passed over. Read only as far as the champion: an adapter may describe each
        version as it is asked for it.

    Returns
    -------
    ModelVersion or None
        The newest approved version whose last deployment succeeded (``deployment.status`` is
        "deployed"); else the newest approved version; None when no version is approved.
    """
    newest_approved: ModelVersion | None = None
    for version in newest_first:
        if version.approval_status != APPROVED:
            continue
        if version.deployment_status == DEPLOYED:
            return version
        newest_approved = newest_approved or version
    return newest_approved
