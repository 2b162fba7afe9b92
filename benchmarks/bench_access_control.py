"""What IAM enforcement costs per call on the embedded engine.

    python benchmarks/bench_access_control.py [--calls N]

Runs the same DynamoDB PutItem against an SSE-KMS table (one identity-policy evaluation plus one
KMS key-policy evaluation) N times with the tool's own test keys (not enforced) and N times with a
function role's assumed-role keys (enforced), and prints the median and p90 latency of each and
the difference. A measurement, not a test.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import boto3

from concert_platform.engines.embedded import EmbeddedEngine
from concert_platform.execution_roles import function_credentials

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def timed(client: Any, calls: int) -> list[float]:
    seconds = []
    for index in range(calls):
        started = time.perf_counter()
        client.put_item(TableName="bench", Item={"pk": {"S": str(index)}})
        seconds.append(time.perf_counter() - started)
    return seconds


def describe(label: str, seconds: list[float]) -> float:
    median = statistics.median(seconds) * 1000
    p90 = statistics.quantiles(seconds, n=10)[-1] * 1000
    print(f"{label:<28} median {median:6.2f} ms   p90 {p90:6.2f} ms")
    return median


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    calls = parser.parse_args().calls
    with EmbeddedEngine("us-east-1") as engine:
        key = engine.client("kms").create_key()["KeyMetadata"]["Arn"]
        table = engine.client("dynamodb").create_table(
            TableName="bench",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key},
        )["TableDescription"]["TableArn"]
        role = engine.client("iam").create_role(RoleName="bench", AssumeRolePolicyDocument=json.dumps(TRUST))
        engine.client("iam").put_role_policy(
            RoleName="bench",
            PolicyName="bench",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": table},
                        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key},
                    ],
                }
            ),
        )
        env = function_credentials(engine, {"FunctionName": "bench", "Role": role["Role"]["Arn"]})
        enforced = boto3.client(
            "dynamodb",
            endpoint_url=engine.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=env["AWS_SESSION_TOKEN"],
        )
        open_client = engine.client("dynamodb")
        timed(open_client, 20)  # warm both paths
        timed(enforced, 20)
        plain = describe("test keys (not enforced)", timed(open_client, calls))
        checked = describe("function role (enforced)", timed(enforced, calls))
        print(f"enforcement adds {checked - plain:+.2f} ms per call (median, {calls} calls each)")


if __name__ == "__main__":
    main()
