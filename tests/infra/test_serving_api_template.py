"""The serverless mode's invocation API: IAM-authenticated, throttled per dataset, logged, capturing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from tests.conftest import CloudAssembly
from tests.infra.template_support import SERVING, actions, function_statements

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def template(serverless_assembly: CloudAssembly) -> dict[str, Any]:
    return serverless_assembly.template(SERVING)


def test_the_default_real_time_deployment_has_no_serving_api(app_template: dict[str, Any]) -> None:
    resources = app_template["Resources"].values()

    assert not [r for r in resources if r["Type"] == "AWS::ApiGateway::RestApi"]


def test_invocations_need_a_sigv4_signature(template: dict[str, Any]) -> None:
    methods = [
        r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::ApiGateway::Method"
    ]

    assert methods
    assert {(m["HttpMethod"], m["AuthorizationType"]) for m in methods} == {("POST", "AWS_IAM")}


def test_each_dataset_is_throttled_as_configured_and_requests_are_logged(template: dict[str, Any]) -> None:
    Template.from_json(template).has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "StageName": "v1",
            "TracingEnabled": True,
            "AccessLogSetting": Match.object_like({"DestinationArn": Match.any_value()}),
            "MethodSettings": Match.array_with(
                [
                    Match.object_like(
                        {
                            "ResourcePath": "/~1churn~1invocations",
                            "HttpMethod": "POST",
                            "ThrottlingRateLimit": 20,
                            "ThrottlingBurstLimit": 40,
                        }
                    )
                ]
            ),
        },
    )


def test_the_function_invokes_only_the_dataset_s_endpoint_and_writes_only_its_captures(
    template: dict[str, Any],
) -> None:
    statements = function_statements(template, "serving_api")

    (invoke,) = [s for s in statements if "sagemaker:InvokeEndpoint" in actions(s)]
    assert json.dumps(invoke["Resource"]).endswith('endpoint/mlops-churn"]]}')
    # and describes that endpoint alone, to learn the version its captures belong to
    (describe,) = [s for s in statements if "sagemaker:DescribeEndpoint" in actions(s)]
    assert describe["Resource"] == invoke["Resource"]
    writes = [s for s in statements if "s3:PutObject" in actions(s)]
    assert writes and all("/capture/churn/*" in json.dumps(s["Resource"]) for s in writes)


def test_apps_get_a_managed_policy_to_invoke_and_the_url(template: dict[str, Any]) -> None:
    assert {"ServingApiUrl", "ServingApiInvokePolicyArn"} <= set(template["Outputs"])
    Template.from_json(template).has_resource_properties(
        "AWS::IAM::ManagedPolicy",
        {
            "PolicyDocument": Match.object_like(
                {"Statement": [Match.object_like({"Action": "execute-api:Invoke"})]}
            )
        },
    )
