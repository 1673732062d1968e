"""The gate: absolute thresholds and challenger versus champion on paired confidence intervals."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from domain.training.config import GateConfig
from domain.training.gate import decide

Interval = tuple[float | None, float | None, float | None]


def evaluation(
    metrics: Mapping[str, Interval],
    *,
    task: str = "classification",
    champion: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An evaluation.json with the given (value, ci_low, ci_high) per metric."""
    return {
        "task": task,
        "confidence": 0.95,
        "metrics": {m: {"value": v, "ci_low": lo, "ci_high": hi} for m, (v, lo, hi) in metrics.items()},
        "champion": champion,
    }


def scored(metric: str, champion_value: float, difference: Interval) -> dict[str, Any]:
    """A champion record: its value, and the paired (difference, ci_low, ci_high) of challenger - champion."""
    value, low, high = difference
    return {
        "status": "scored",
        "metrics": {metric: {"value": champion_value, "ci_low": None, "ci_high": None}},
        "comparison": {metric: {"difference": value, "ci_low": low, "ci_high": high}},
    }


def gate(**data: Any) -> GateConfig:
    return GateConfig.model_validate(data)


def test_without_a_champion_the_thresholds_alone_decide() -> None:
    decision = decide(evaluation({"roc_auc": (0.8, 0.77, 0.83)}), gate(thresholds={"roc_auc": {"min": 0.7}}))

    assert decision.approved
    assert not decision.champion_compared
    assert decision.reasons == [
        "roc_auc is 0.8 (95% CI 0.77 to 0.83); that is at least the minimum 0.7.",
        "No champion is in service: the thresholds alone decide.",
    ]
    check = decision.checks[0]
    assert (check.kind, check.bound, check.limit, check.ci_low, check.ci_high) == (
        "threshold",
        "min",
        0.7,
        0.77,
        0.83,
    )


def test_a_metric_below_its_minimum_rejects() -> None:
    decision = decide(evaluation({"roc_auc": (0.65, 0.6, 0.7)}), gate(thresholds={"roc_auc": {"min": 0.7}}))

    assert not decision.approved
    assert decision.reasons[0] == "roc_auc is 0.65 (95% CI 0.6 to 0.7); that is below the minimum 0.7."


def test_a_lower_is_better_metric_above_its_maximum_rejects() -> None:
    metrics = {"log_loss": (0.72, 0.7, 0.75), "roc_auc": (0.8, 0.78, 0.82)}

    decision = decide(
        evaluation(metrics), gate(thresholds={"log_loss": {"max": 0.6}, "roc_auc": {"min": 0.7}})
    )

    assert not decision.approved
    assert decision.reasons[0] == "log_loss is 0.72 (95% CI 0.7 to 0.75); that is above the maximum 0.6."
    assert [c.passed for c in decision.checks] == [False, True]


@pytest.mark.parametrize(("judged_on", "approved"), [("estimate", True), ("ci", False)])
def test_thresholds_can_be_judged_on_the_pessimistic_end_of_the_interval(
    judged_on: str, approved: bool
) -> None:
    config = gate(thresholds={"roc_auc": {"min": 0.7}, "rmse": {"max": 5}}, thresholds_on=judged_on)
    metrics = {"roc_auc": (0.72, 0.69, 0.75), "rmse": (4.0, 3.5, 4.5)}

    decision = decide(evaluation(metrics), config)

    assert decision.approved is approved
    if not approved:
        assert "the lower end of its 95% CI (0.69) is below the minimum 0.7" in decision.reasons[0]


@pytest.mark.parametrize("metrics", [{}, {"roc_auc": (None, None, None)}])
def test_a_missing_or_undefined_metric_fails_its_threshold(metrics: dict[str, Interval]) -> None:
    decision = decide(evaluation(metrics), gate(thresholds={"roc_auc": {"min": 0.7}}))

    assert not decision.approved
    assert decision.reasons[0] == "roc_auc: its value is not available, so its minimum 0.7 cannot be checked."


NOT_WORSE = {"champion": {"mode": "not_worse", "margin": 0.01, "metric": "roc_auc"}}


@pytest.mark.parametrize(
    ("difference", "approved"),
    [
        ((-0.04, -0.06, -0.02), False),  # worse beyond doubt, by more than the margin
        ((-0.02, -0.05, 0.005), True),  # perhaps worse, perhaps not: the benefit of the doubt
        ((-0.03, -0.05, -0.01), True),  # the favourable end is exactly -margin: not beyond it
        ((0.02, 0.01, 0.03), True),  # better
        ((-0.02, None, None), False),  # no interval: the point difference decides
        ((-0.005, None, None), True),
    ],
)
def test_not_worse_rejects_only_a_challenger_worse_beyond_the_margin_and_the_interval(
    difference: Interval, approved: bool
) -> None:
    value = 0.8 + (difference[0] or 0)
    data = evaluation(
        {"roc_auc": (value, value - 0.02, value + 0.02)}, champion=scored("roc_auc", 0.8, difference)
    )

    decision = decide(data, gate(**NOT_WORSE))

    assert decision.approved is approved
    assert decision.champion_compared
    check = decision.checks[-1]
    assert (check.kind, check.champion_value, check.difference) == ("champion", 0.8, difference[0])
    assert (check.difference_ci_low, check.difference_ci_high) == difference[1:]


def test_the_reason_of_a_rejection_gives_both_values_and_the_interval() -> None:
    data = evaluation({"roc_auc": (0.51, 0.48, 0.54)}, champion=scored("roc_auc", 0.8, (-0.29, -0.33, -0.25)))

    decision = decide(data, gate(**NOT_WORSE))

    assert decision.reasons == [
        "Worse than the champion on roc_auc by more than the margin 0.01: 0.51 against 0.8 on the same "
        "test rows (difference -0.29, 95% CI -0.33 to -0.25; higher is better)."
    ]


@pytest.mark.parametrize(
    ("difference", "approved"),
    [
        ((0.6, 0.3, 0.9), False),  # RMSE up by 0.3 to 0.9: worse beyond the margin 0.2
        ((0.3, 0.1, 0.5), True),  # RMSE up by 0.1 to 0.5: the interval reaches within the margin
        ((-0.4, -0.6, -0.2), True),  # RMSE down: better
    ],
)
def test_for_a_lower_is_better_metric_a_positive_difference_is_a_loss(
    difference: Interval, approved: bool
) -> None:
    data = evaluation({"rmse": (3.0, 2.8, 3.2)}, task="regression", champion=scored("rmse", 3.0, difference))

    decision = decide(data, gate(champion={"mode": "not_worse", "margin": 0.2, "metric": "rmse"}))

    assert decision.approved is approved
    assert "lower is better" in decision.reasons[0]


@pytest.mark.parametrize(
    ("metric", "difference", "margin", "approved"),
    [
        ("roc_auc", (0.02, 0.005, 0.035), 0.0, True),
        ("roc_auc", (0.02, 0.005, 0.035), 0.01, False),  # could be better by less than the margin
        ("roc_auc", (0.02, 0.01, 0.03), 0.01, False),  # exactly the margin is not more than it
        ("roc_auc", (0.01, -0.01, 0.03), 0.0, False),  # not shown better at all
        ("log_loss", (-0.05, -0.08, -0.02), 0.01, True),  # log loss down by 0.02 to 0.08
        ("log_loss", (-0.05, -0.08, 0.01), 0.0, False),
    ],
)
def test_better_approves_only_a_challenger_better_beyond_the_margin_and_the_interval(
    metric: str, difference: Interval, margin: float, approved: bool
) -> None:
    data = evaluation({metric: (0.5, 0.4, 0.6)}, champion=scored(metric, 0.5, difference))

    decision = decide(data, gate(champion={"mode": "better", "margin": margin, "metric": metric}))

    assert decision.approved is approved


def test_the_champion_metric_defaults_to_the_task_s() -> None:
    data = evaluation(
        {"rmse": (3.0, 2.8, 3.2)}, task="regression", champion=scored("rmse", 2.0, (1.0, 0.8, 1.2))
    )

    decision = decide(data, GateConfig())

    assert not decision.approved
    assert decision.checks[0].metric == "rmse"


def test_a_champion_without_the_compared_metric_cannot_be_passed() -> None:
    data = evaluation({"roc_auc": (0.8, 0.78, 0.82)}, champion=scored("f1", 0.5, (0.0, -0.1, 0.1)))

    decision = decide(data, gate(**NOT_WORSE))

    assert not decision.approved
    assert decision.reasons[0].startswith("roc_auc could not be compared with the champion's")


@pytest.mark.parametrize(("on_unscorable", "approved"), [("skip", True), ("reject", False)])
def test_an_unscorable_champion_is_skipped_or_rejects_as_configured(
    on_unscorable: str, approved: bool
) -> None:
    champion = {"status": "unscorable", "reason": "the test rows lack the column 'plan'"}
    data = evaluation({"roc_auc": (0.8, 0.78, 0.82)}, champion=champion)
    config = gate(thresholds={"roc_auc": {"min": 0.7}}, champion={"on_unscorable": on_unscorable})

    decision = decide(data, config)

    assert decision.approved is approved
    assert not decision.champion_compared
    assert any("the test rows lack the column 'plan'" in reason for reason in decision.reasons)


def test_failures_come_first_and_the_record_is_json() -> None:
    data = evaluation(
        {"roc_auc": (0.8, 0.78, 0.82), "f1": (0.3, 0.25, 0.35)},
        champion=scored("roc_auc", 0.79, (0.01, -0.01, 0.03)),
    )
    config = gate(thresholds={"roc_auc": {"min": 0.7}, "f1": {"min": 0.5}}, **NOT_WORSE)

    decision = decide(data, config)

    assert not decision.approved
    assert decision.reasons[0].startswith("f1 is 0.3")
    record = json.loads(json.dumps(decision.to_dict()))
    assert record["approved"] is False
    assert [c["kind"] for c in record["checks"]] == ["threshold", "threshold", "champion"]


def test_no_thresholds_and_no_champion_approves_and_says_so() -> None:
    decision = decide(evaluation({"roc_auc": (0.5, 0.45, 0.55)}), GateConfig())

    assert decision.approved
    assert decision.reasons[-1] == "No thresholds are configured."
