"""What a finished training script reports: its metrics, read from its logs, and why it failed."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Any

from moto.core import utils as moto_utils  # its utcnow is the clock (moto_times)

_FAILURE_REASON_CHARS = 1024  # SageMaker reports the first 1,024 characters of the failure file
_STDERR_TAIL_LINES = 10


class MetricTracker:
    """``FinalMetricDataList``: the last value each ``MetricDefinitions`` regex captured in the logs."""

    def __init__(self, definitions: list[dict[str, str]]) -> None:
        self._patterns = [(d["Name"], re.compile(d["Regex"])) for d in definitions]
        self._last: dict[str, float] = {}

    def observe(self, lines: list[str]) -> None:
        """Read a batch of log lines."""
        for line in lines:
            for name, pattern in self._patterns:
                match = pattern.search(line)
                if match and match.groups():
                    with contextlib.suppress(ValueError):
                        self._last[name] = float(match.group(1))

    def final(self) -> list[dict[str, Any]]:
        """The metrics seen, as ``DescribeTrainingJob`` lists them."""
        now = moto_utils.utcnow()
        return [{"MetricName": name, "Value": value, "Timestamp": now} for name, value in self._last.items()]


def failure_reason(failure_file: Path, stderr_tail: list[str], returncode: int | None) -> str:
    """``FailureReason``: the failure file's content, else the end of stderr, as an ``AlgorithmError``.

    SageMaker reports the first 1,024 characters of ``/opt/ml/output/failure``; without one, the
    training toolkit of the framework images writes the end of stderr there itself.
    """
    if failure_file.is_file():
        text = failure_file.read_text(encoding="utf-8", errors="replace").strip()
        if text:
            return f"AlgorithmError: {text[:_FAILURE_REASON_CHARS]}"
    tail = "\n".join(stderr_tail[-_STDERR_TAIL_LINES:]).strip()
    message = f'ExecuteUserScriptError:\nExitCode {returncode}\nErrorMessage "{tail}"'
    return f"AlgorithmError: {message[-_FAILURE_REASON_CHARS:]}"
