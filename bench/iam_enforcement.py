"""IAM enforcement benchmark: what deciding every request costs where users wait.

Run with ``.venv/bin/python bench/iam_enforcement.py`` (``make bench``). The same workload runs against
in-process local clouds, one after the other (moto's state is per process), some with ``enforce_iam=True``,
some with ``enforce_iam=False``. Each deploys one small template (a bucket, a table, a topic and a role
that trusts Lambda, with a policy scoped to them, as the platform's roles are), and a role session
(``Sessions.assume``, what a function gets) makes the calls: 150 S3 puts and 150 gets of 1 KB objects,
and 100 DynamoDB and SNS calls (puts, gets and updates of items, publishes). Each cloud runs the workload
once to warm up (clients, connections, the policy cache), then three times timed, and its fastest round
counts (the machine's other load only ever adds time); ``--pairs`` pairs of clouds run, enforcing first
and not first in turn, and the median of each kind counts. Writes
``bench/results/iam_enforcement.json`` with ``enforced_s``, ``unenforced_s`` (median seconds of one
round), ``overhead_ratio`` (enforced over unenforced), ``calls`` (per round) and
``per_call_overhead_ms``. No state machine runs: its calls are the same requests, made as its role.
Compare ratios, not seconds: the absolute times depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results"
ACCOUNT = "123456789012"
BUCKET, TABLE, TOPIC = "bench-iam-data", "bench-iam-table", "bench-iam-topic"
ROLE = "bench-iam"
S3_CALLS, OTHER_CALLS = 300, 100
REPEATS = 3


def template() -> dict[str, Any]:
    """The resources the workload touches and the role that may touch only them."""
    allow = [
        ("s3:GetObject", f"arn:aws:s3:::{BUCKET}/work/*"),
        ("s3:PutObject", f"arn:aws:s3:::{BUCKET}/work/*"),
        ("dynamodb:PutItem", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{TABLE}"),
        ("dynamodb:GetItem", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{TABLE}"),
        ("dynamodb:UpdateItem", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{TABLE}"),
        ("sns:Publish", f"arn:aws:sns:us-east-1:{ACCOUNT}:{TOPIC}"),
    ]
    trust = {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    return {
        "Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": BUCKET}},
            "Table": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "TableName": TABLE,
                    "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                },
            },
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": TOPIC}},
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": ROLE,
                    "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [trust]},
                    "Policies": [
                        {
                            "PolicyName": "work",
                            "PolicyDocument": {
                                "Version": "2012-10-17",
                                "Statement": [
                                    {"Effect": "Allow", "Action": a, "Resource": r} for a, r in allow
                                ],
                            },
                        }
                    ],
                },
            },
        }
    }


def assembly(directory: Path) -> Path:
    """A cloud assembly of ``template()`` (no CDK app: the benchmark measures requests, not synth)."""
    (directory / "bench.template.json").write_text(json.dumps(template()))
    artifact = {"type": "aws:cloudformation:stack", "properties": {"templateFile": "bench.template.json"}}
    (directory / "manifest.json").write_text(json.dumps({"artifacts": {"bench-iam": artifact}}))
    return directory


def workload(client: Callable[[str], Any]) -> Callable[[], int]:
    """One round of calls as the role session; returns how many calls it made."""
    s3, dynamodb, sns = (client(s) for s in ("s3", "dynamodb", "sns"))
    topic = f"arn:aws:sns:us-east-1:{ACCOUNT}:{TOPIC}"
    body = b"x" * 1024

    def run() -> int:
        for i in range(S3_CALLS // 2):
            s3.put_object(Bucket=BUCKET, Key=f"work/{i}", Body=body)
            s3.get_object(Bucket=BUCKET, Key=f"work/{i}")["Body"].read()
        for i in range(OTHER_CALLS // 4):
            dynamodb.put_item(TableName=TABLE, Item={"id": {"S": str(i)}})
            dynamodb.get_item(TableName=TABLE, Key={"id": {"S": str(i)}})
            dynamodb.update_item(
                TableName=TABLE,
                Key={"id": {"S": str(i)}},
                UpdateExpression="SET n = :n",
                ExpressionAttributeValues={":n": {"N": "1"}},
            )
            sns.publish(TopicArn=topic, Message="m")
        return S3_CALLS + OTHER_CALLS

    return run


def measure(enforce: bool, work_dir: Path) -> tuple[float, int]:
    """Seconds of the fastest of ``REPEATS`` rounds (after one to warm up) against a new local cloud that does
    or does not enforce (the fastest: the machine's other load only ever adds time)."""
    import boto3

    from localcloud import LocalCloud

    work_dir.mkdir(parents=True)
    with LocalCloud(enforce_iam=enforce, work_dir=work_dir / "cloud") as cloud:
        cloud.deploy(assembly(work_dir))
        session = cloud.iam.sessions.assume(
            f"arn:aws:iam::{ACCOUNT}:role/{ROLE}", service="lambda.amazonaws.com", session_name="bench"
        )
        credentials = session.environment()
        boto = boto3.session.Session(
            aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=credentials["AWS_SESSION_TOKEN"],
            region_name=cloud.region,
        )
        run = workload(lambda service: boto.client(service, endpoint_url=cloud.endpoint_url))
        run()  # warm-up
        timed = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            calls = run()
            timed.append(time.perf_counter() - started)
        if enforce and not cloud.iam.enforcer.usage().roles:
            raise SystemExit("the enforced local cloud recorded no request: enforcement did not run")
    return min(timed), calls


def main() -> None:
    """Run the benchmark and write its results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS / "iam_enforcement.json")
    args = parser.parse_args()
    times: dict[bool, list[float]] = {True: [], False: []}
    calls = 0
    with tempfile.TemporaryDirectory(prefix="bench-iam-") as work:
        # Pairs of clouds, in alternating order: a change of the machine's load hits both alike.
        for pair in range(args.pairs):
            for enforce in (True, False) if pair % 2 == 0 else (False, True):
                seconds, calls = measure(enforce, Path(work) / f"{pair}-{enforce}")
                times[enforce].append(seconds)
    enforced, unenforced = times[True], times[False]
    enforced_s, unenforced_s = statistics.median(enforced), statistics.median(unenforced)
    result = {
        "enforced_s": round(enforced_s, 4),
        "unenforced_s": round(unenforced_s, 4),
        "overhead_ratio": round(enforced_s / unenforced_s, 3),
        "calls": calls,
        "per_call_overhead_ms": round((enforced_s - unenforced_s) / calls * 1000, 3),
        "pairs": args.pairs,
        "per_cloud_s": {
            "enforced": [round(t, 4) for t in enforced],
            "unenforced": [round(t, 4) for t in unenforced],
        },
        "method": __doc__,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(
        f"{calls} calls as a role session: {result['enforced_s']} s enforced, "
        f"{result['unenforced_s']} s not; "
        f"x{result['overhead_ratio']}, {result['per_call_overhead_ms']} ms per call\nwrote {args.out}"
    )


if __name__ == "__main__":
    main()
