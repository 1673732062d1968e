"""The alarm the local cloud's alarm tests put: a function's errors, over one minute."""

from __future__ import annotations

from typing import Any


def put_errors_alarm(cloudwatch: Any, name: str, *, threshold: float = 1, **actions: list[str]) -> None:
    """Put (create or update) an alarm on the errors of the function ``validate``.

    Parameters
    ----------
    cloudwatch
        A CloudWatch client of the local cloud.
    name
        The alarm's name.
    threshold
        Errors in a minute that make ALARM.
    **actions
        ``AlarmActions``, ``OKActions``, ``InsufficientDataActions``: the ARNs each state notifies.
    """
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Dimensions=[{"Name": "FunctionName", "Value": "validate"}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=threshold,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        **actions,
    )
