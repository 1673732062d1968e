"""A CloudFormation custom resource provider written in Python: it greets, and says so in SSM.

It answers CloudFormation on the ResponseURL as every custom resource provider must; the local cloud
runs it for real, so a stack that uses it completes only if the answer arrives.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import boto3


def handler(event: dict[str, Any], context: Any) -> None:
    """Put the greeting parameter on Create/Update, delete it on Delete, then answer CloudFormation."""
    properties = event["ResourceProperties"]
    name = properties["ParameterName"]
    ssm = boto3.client("ssm")
    if event["RequestType"] == "Delete":
        ssm.delete_parameter(Name=name)
    else:
        ssm.put_parameter(Name=name, Value=properties["Greeting"], Type="String", Overwrite=True)
    body = json.dumps(
        {
            "Status": "SUCCESS",
            "Reason": f"See {context.log_stream_name}",
            "PhysicalResourceId": name,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": {"Greeting": properties["Greeting"]},
        }
    ).encode()
    request = urllib.request.Request(
        event["ResponseURL"], data=body, method="PUT", headers={"content-type": ""}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        print(f"CloudFormation answered {response.status}")
