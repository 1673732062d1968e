"""Every builder in domain/names.py gives the name it gave before the names moved there.

A changed name is a new resource: a new endpoint beside the old one, a run started twice, a model card
that no longer finds its version. These values were produced by the builders where they lived before
(domain/deployment/endpoint.py, domain/training/runs.py, domain/training/registration.py).
"""

from __future__ import annotations

import pytest

from domain import names
from domain.training.runs import RunRequest, Trigger

SHA = "0123456789abcdef" * 4
APPROVED_AT = "2026-01-01T00:00:00+00:00"
LONG_PROJECT, LONG_DATASET = "p" * 21, "d" * 70
LONG_ENDPOINT = "ppppppppppppppppppppp-dddddddddddddddddddddddddddddddd-5014ee22"


@pytest.mark.parametrize(
    ("project", "dataset", "endpoint"),
    [
        ("mlops", "churn", "mlops-churn"),
        ("mlops", "a_b.c", "mlops-a-b-c"),
        (LONG_PROJECT, LONG_DATASET, LONG_ENDPOINT),
    ],
)
def test_endpoint_name_is_todays(project: str, dataset: str, endpoint: str) -> None:
    assert names.endpoint_name(project, dataset) == endpoint


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ("mlops-churn", ("mlops-churn-v3-1f923039", "mlops-churn-v3-43727572", "mlops-churn-v3-2db0bb0b",
                         "mlops-churn-v999999999-2db0bb0b6065")),
        (LONG_ENDPOINT, ("ppppppppppppppppppppp-dddddddddddddddddddd-86ec071e-v3-1f923039",
                         "ppppppppppppppppppppp-dddddddddddddddddddd-86ec071e-v3-43727572",
                         "ppppppppppppppppppppp-dddddddddddddddddddd-86ec071e-v3-2db0bb0b",
                         "ppppppppppppppppppppp-ddddddddddddddddddddddddd-86ec071e-v999999999-2db0bb0b6065")),
    ],
)  # fmt: skip
def test_versioned_names_are_todays(endpoint: str, expected: tuple[str, str, str, str]) -> None:
    built = (
        names.model_name(endpoint, 3, {"A": "1", "B": "2"}, isolated=True),
        names.model_name(endpoint, 3, {"A": "1"}, isolated=False),
        names.endpoint_config_name(endpoint, 3, APPROVED_AT),
        names.deployment_name(endpoint, 999_999_999, APPROVED_AT),
    )

    assert built == expected
    assert names.version_of(built[2], endpoint) == 3
    assert names.version_of(built[2], "mlops-other") is None


def test_alarm_names_capture_prefix_group_and_model_card_are_todays() -> None:
    group = names.model_package_group(names.group_prefix("mlops"), "churn")

    assert names.alarm_names("mlops-churn") == [
        "mlops-churn-invocation-5xx-errors",
        "mlops-churn-model-latency",
    ]
    assert names.capture_prefix("churn") == "capture/churn/"
    assert group == "mlops-churn"
    assert names.dataset_of_group("mlops-", group) == "churn"
    assert names.model_card_name(group, 12) == "mlops-churn-v12"
    long_group = names.model_package_group(names.group_prefix(LONG_PROJECT), LONG_DATASET)
    assert (
        names.model_card_name(long_group, 12)
        == "ppppppppppppppppppppp-dddddddddddddddddddddddddddd-5014ee22-v12"
    )


@pytest.mark.parametrize(
    ("dataset", "trigger", "execution", "job"),
    [
        ("churn", Trigger("accepted"), "churn-0123456789ab-accepted", "churn-01234567-8d02101c"),
        ("churn", Trigger("manual", reference="rerun-2"), "churn-0123456789ab-manual-rerun-2",
         "churn-01234567-f815d69b"),
        ("x" * 60, Trigger("retrain", reference="alarm: drift/churn (2026-11-03 12:00)" * 3),
         "x" * 60 + "-0123456789-92bbcecd", "x" * 45 + "-01234567-52b1179b"),
    ],
)  # fmt: skip
def test_run_names_are_todays(dataset: str, trigger: Trigger, execution: str, job: str) -> None:
    run = RunRequest(dataset, SHA, trigger)

    assert names.execution_name(dataset, SHA, trigger) == execution == run.name
    assert names.training_job_name(run) == job
