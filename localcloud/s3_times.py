"""S3 times its objects by the local cloud's clock, which the Lambda handlers comparing with them read.

moto stamps an object's ``LastModified`` (a delete marker's too) with the machine's time
(``moto.core.utils.utcnow``, imported into ``moto.s3.models``). Lambda handlers run at the local cloud's
clock (``localcloud.awslambda.bootstrap``), and on AWS S3 and a function share one time: a handler that
compares an object's ``LastModified`` with a time it stamped itself (the retraining policy lists the label
files newer than the newest label a dataset version holds, ``adapters.training_data``) would otherwise
see them apart by the clock's offset, and once the clock is ahead take new label files for old ones. The
module's other reads of that function follow (object lock's retention, a restore's expiry, the storage
metrics' day), also on the clock. Not moved: a bucket's ``CreationDate`` (moto reads ``datetime.now``
there), and S3's events (``localcloud.events.s3_events``), which carry the machine's time as before.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import moto.s3.models

from localcloud.patches import Patch


def patches(now: Callable[[], datetime]) -> list[Patch]:
    """moto's S3 models reading ``now`` (naive UTC, as moto keeps times: ``Clock.moto_now``)."""
    return [Patch(moto.s3.models, "utcnow", now)]
