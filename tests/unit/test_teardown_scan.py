"""After destroy, an independent scan finds nothing the deploy created.

The scan lists every service the six templates use directly through boto3 (not through the
project's leftover finder or its teardown inventory) before the deploy, after it and after the
destroy. The deploy is the `production` environment with an alert e-mail, so that the
conditional types (auto scaling, the e-mail subscription) exist too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from concert_platform.engines.embedded import EmbeddedEngine
from concert_platform.manifest import load_manifest
from concert_platform.workflow import deploy_environment, destroy_environment

ENVIRONMENT = "production"


def _listers(c: Callable[[str], Any]) -> dict[str, Callable[[], list[str]]]:
    ec2 = c("ec2")
    logs = c("logs")

    def log_groups() -> list[str]:
        return [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]]

    def layer_versions() -> list[str]:
        lam = c("lambda")
        return [
            v["LayerVersionArn"]
            for layer in lam.list_layers()["Layers"]
            for v in lam.list_layer_versions(LayerName=layer["LayerName"])["LayerVersions"]
        ]

    def permissions() -> list[str]:
        lam = c("lambda")
        found = []
        for function in lam.list_functions()["Functions"]:
            try:
                policy = json.loads(lam.get_policy(FunctionName=function["FunctionName"])["Policy"])
            except lam.exceptions.ResourceNotFoundException:
                continue
            found += [f"{function['FunctionName']}:{s['Sid']}" for s in policy["Statement"]]
        return found

    def api_children(kind: str) -> list[str]:
        api = c("apigateway")
        found = []
        for rest_api in api.get_rest_apis()["items"]:
            rid = rest_api["id"]
            if kind == "resources":
                found += [f"{rid}/{r['id']}" for r in api.get_resources(restApiId=rid)["items"]]
            elif kind == "stages":
                found += [f"{rid}/{s['stageName']}" for s in api.get_stages(restApiId=rid)["item"]]
            else:
                found += [f"{rid}/{d['id']}" for d in api.get_deployments(restApiId=rid)["items"]]
        return found

    def usage_plan_keys() -> list[str]:
        api = c("apigateway")
        return [
            f"{plan['id']}/{key['id']}"
            for plan in api.get_usage_plans()["items"]
            for key in api.get_usage_plan_keys(usagePlanId=plan["id"])["items"]
        ]

    def filters(kind: str) -> list[str]:
        found = []
        for group in log_groups():
            if kind == "metric":
                found += [
                    f["filterName"] for f in logs.describe_metric_filters(logGroupName=group)["metricFilters"]
                ]
            else:
                found += [
                    f["filterName"]
                    for f in logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"]
                ]
        return found

    def rules() -> list[str]:
        found = []
        for group in ec2.describe_security_groups()["SecurityGroups"]:
            for direction, permissions in (
                ("in", group["IpPermissions"]),
                ("out", group["IpPermissionsEgress"]),
            ):
                found += [
                    f"{group['GroupId']}/{direction}/{json.dumps(p, sort_keys=True)}" for p in permissions
                ]
        return found

    scaling = c("application-autoscaling")
    return {
        "vpc": lambda: [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]],
        "subnet": lambda: [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]],
        "internet gateway": lambda: [
            g["InternetGatewayId"] for g in ec2.describe_internet_gateways()["InternetGateways"]
        ],
        "gateway attachment": lambda: [
            f"{g['InternetGatewayId']}/{a['VpcId']}"
            for g in ec2.describe_internet_gateways()["InternetGateways"]
            for a in g.get("Attachments", [])
        ],
        "elastic ip": lambda: [a["PublicIp"] for a in ec2.describe_addresses()["Addresses"]],
        "nat gateway": lambda: [
            n["NatGatewayId"] for n in ec2.describe_nat_gateways()["NatGateways"] if n["State"] != "deleted"
        ],
        "network interface": lambda: [
            n["NetworkInterfaceId"] for n in ec2.describe_network_interfaces()["NetworkInterfaces"]
        ],
        "route table": lambda: [t["RouteTableId"] for t in ec2.describe_route_tables()["RouteTables"]],
        "route": lambda: [
            f"{t['RouteTableId']}/{r.get('DestinationCidrBlock') or r.get('DestinationPrefixListId')}"
            for t in ec2.describe_route_tables()["RouteTables"]
            for r in t["Routes"]
        ],
        "route association": lambda: [
            a["RouteTableAssociationId"]
            for t in ec2.describe_route_tables()["RouteTables"]
            for a in t["Associations"]
        ],
        "security group": lambda: [g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]],
        "security group rule": rules,
        "vpc endpoint": lambda: [
            e["VpcEndpointId"]
            for e in ec2.describe_vpc_endpoints()["VpcEndpoints"]
            if e["State"].lower() not in ("deleted", "deleting")
        ],
        "flow log": lambda: [f["FlowLogId"] for f in ec2.describe_flow_logs()["FlowLogs"]],
        "kms key": lambda: [
            k["KeyId"]
            for k in c("kms").list_keys()["Keys"]
            if c("kms").describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"] != "PendingDeletion"
        ],
        "kms alias": lambda: [a["AliasName"] for a in c("kms").list_aliases()["Aliases"]],
        "bucket": lambda: [b["Name"] for b in c("s3").list_buckets()["Buckets"]],
        "bucket policy": lambda: [
            b["Name"] for b in c("s3").list_buckets()["Buckets"] if _has_bucket_policy(c("s3"), b["Name"])
        ],
        "stream": lambda: c("kinesis").list_streams()["StreamNames"],
        "glue database": lambda: [d["Name"] for d in c("glue").get_databases()["DatabaseList"]],
        "role": lambda: [r["RoleName"] for r in c("iam").list_roles()["Roles"]],
        "secret": lambda: [s["Name"] for s in c("secretsmanager").list_secrets()["SecretList"]],
        "redshift namespace": lambda: [
            n["namespaceName"] for n in c("redshift-serverless").list_namespaces()["namespaces"]
        ],
        "redshift workgroup": lambda: [
            w["workgroupName"] for w in c("redshift-serverless").list_workgroups()["workgroups"]
        ],
        "function": lambda: [f["FunctionName"] for f in c("lambda").list_functions()["Functions"]],
        "layer version": layer_versions,
        "lambda permission": permissions,
        "table": lambda: c("dynamodb").list_tables()["TableNames"],
        "scalable target": lambda: [
            f"{t['ResourceId']}/{t['ScalableDimension']}"
            for t in scaling.describe_scalable_targets(ServiceNamespace="dynamodb")["ScalableTargets"]
        ],
        "scaling policy": lambda: [
            p["PolicyARN"]
            for p in scaling.describe_scaling_policies(ServiceNamespace="dynamodb")["ScalingPolicies"]
        ],
        "rest api": lambda: [a["id"] for a in c("apigateway").get_rest_apis()["items"]],
        "api resource": lambda: api_children("resources"),
        "api deployment": lambda: api_children("deployments"),
        "api stage": lambda: api_children("stages"),
        "api key": lambda: [k["id"] for k in c("apigateway").get_api_keys()["items"]],
        "usage plan": lambda: [p["id"] for p in c("apigateway").get_usage_plans()["items"]],
        "usage plan key": usage_plan_keys,
        "event rule": lambda: [r["Name"] for r in c("events").list_rules()["Rules"]],
        "topic": lambda: [t["TopicArn"] for t in c("sns").list_topics()["Topics"]],
        "subscription": lambda: [
            s["SubscriptionArn"] for s in c("sns").list_subscriptions()["Subscriptions"]
        ],
        "queue": lambda: c("sqs").list_queues().get("QueueUrls", []),
        "alarm": lambda: [a["AlarmName"] for a in c("cloudwatch").describe_alarms()["MetricAlarms"]],
        "dashboard": lambda: [
            d["DashboardName"] for d in c("cloudwatch").list_dashboards()["DashboardEntries"]
        ],
        "log group": log_groups,
        "metric filter": lambda: filters("metric"),
        "subscription filter": lambda: filters("subscription"),
        "query definition": lambda: [
            q["queryDefinitionId"] for q in logs.describe_query_definitions()["queryDefinitions"]
        ],
        "x-ray group": lambda: [g["GroupARN"] for g in c("xray").get_groups()["Groups"]],
        "sampling rule": lambda: [
            r["SamplingRule"]["RuleName"] for r in c("xray").get_sampling_rules()["SamplingRuleRecords"]
        ],
        "trail": lambda: [t["Name"] for t in c("cloudtrail").list_trails()["Trails"]],
    }


def _has_bucket_policy(s3: Any, bucket: str) -> bool:
    try:
        s3.get_bucket_policy(Bucket=bucket)
    except s3.exceptions.ClientError:
        return False
    return True


def scan(endpoint_url: str) -> dict[str, set[str]]:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    clients: dict[str, Any] = {}

    def c(service: str) -> Any:
        if service not in clients:
            clients[service] = session.client(service, endpoint_url=endpoint_url)
        return clients[service]

    return {kind: set(lister()) for kind, lister in _listers(c).items()}


@pytest.fixture(scope="module")
def engine() -> Iterator[EmbeddedEngine]:
    with EmbeddedEngine("us-east-1") as running:
        yield running


def test_an_independent_scan_after_destroy_finds_nothing_the_deploy_created(engine: EmbeddedEngine) -> None:
    from test_embedded_lifecycle import small_artifacts

    assert engine.endpoint_url
    manifest = load_manifest()
    before = scan(engine.endpoint_url)
    deploy_environment(
        engine,
        manifest,
        ENVIRONMENT,
        flags={"alert_email": "ops@example.com"},
        environ={"REDSHIFT_MASTER_PASSWORD": "Sup3rSecretPw"},
        interactive=False,
        artifacts=small_artifacts(),
    )
    deployed = scan(engine.endpoint_url)
    created = {kind: deployed[kind] - before[kind] for kind in deployed}
    # the scan can see every kind: each one gained something from the deploy
    assert not [kind for kind, items in created.items() if not items], created
    destroyed = destroy_environment(engine, manifest, ENVIRONMENT)
    assert destroyed["ok"], destroyed["failures"]
    after = scan(engine.endpoint_url)
    left = {kind: sorted(after[kind] & created[kind]) for kind in after if after[kind] & created[kind]}
    assert left == {}
    # and nothing new appeared that the deploy did not create either
    assert {kind: sorted(after[kind] - before[kind]) for kind in after if after[kind] - before[kind]} == {}
