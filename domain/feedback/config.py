"""How a dataset's labels are joined: the ``feedback`` key of a dataset in ``cdk.json``.

Example
-------
.. code-block:: json

    "feedback": {"lookback_days": 30}

``lookback_days``: a label is joined with a request captured at most this many days before the label file
arrived (1 to 366; default 30). Older requests are not read: their labels are counted as unknown IDs.
Pure pydantic; synth validates it (``stacks/config.py``) and ships it to the feedback function as
``feedback.json``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DEFAULT_LOOKBACK_DAYS", "FeedbackConfig"]

DEFAULT_LOOKBACK_DAYS = 30


class FeedbackConfig(BaseModel):
    """The ``feedback`` key of a dataset.

    Attributes
    ----------
    lookback_days : int
        How far back the captures are read for a label file's requests.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    lookback_days: int = Field(DEFAULT_LOOKBACK_DAYS, ge=1, le=366)
