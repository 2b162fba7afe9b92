"""Mutations of our own templates, each breaking one practice the way a pull request would.

Each entry: template file, resource (or "Parameters"/"Outputs"), an edit, and the check id that
must kill it. Adding a mutation is adding one line."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

DELETE = object()


@dataclass(frozen=True)
class Mutation:
    name: str
    template: str
    path: tuple[str, ...]  # from the template root
    value: Any  # DELETE removes the key; a callable edits the current value
    kills: str


def R(*path: str) -> tuple[str, ...]:
    return ("Resources", *path)


def _append(statement: dict[str, Any]) -> Any:
    return lambda current: [*current, statement]


def _to_cidr(rule: dict[str, Any]) -> dict[str, Any]:
    return {**{k: v for k, v in rule.items() if k != "SourceSecurityGroupId"}, "CidrIp": "10.0.0.0/8"}


NET, STORE, COMPUTE, CHAT, MON, LOG = (
    "01-networking.yaml", "02-storage-processing.yaml", "03-compute-application.yaml",
    "04-chatbot-infrastructure.yaml", "05-monitoring-observability.yaml", "06-tracing-logging.yaml",
)  # fmt: skip
OPEN_5439 = {
    "IpProtocol": "tcp",
    "FromPort": 5439,
    "ToPort": 5439,
    "CidrIp": "0.0.0.0/0",
    "Description": "debug",
}
STAR_ACTION = {"Effect": "Allow", "Action": "*", "Resource": "*"}
SERVICE_STAR = {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::*"}
STAR_RESOURCE = {"Effect": "Allow", "Action": ["dynamodb:PutItem"], "Resource": "*"}

CATALOGUE: list[Mutation] = [
    Mutation(
        "raw bucket loses encryption",
        STORE,
        R("RawDataBucket", "Properties", "BucketEncryption"),
        DELETE,
        "CP007",
    ),
    Mutation(
        "audit bucket loses encryption",
        LOG,
        R("AuditLogsBucket", "Properties", "BucketEncryption"),
        DELETE,
        "CP007",
    ),
    Mutation(
        "access logs bucket allows public policies",
        STORE,
        R("AccessLogsBucket", "Properties", "PublicAccessBlockConfiguration", "BlockPublicPolicy"),
        False,
        "CP008",
    ),
    Mutation(
        "model bucket loses its public access block",
        STORE,
        R("ModelArtifactsBucket", "Properties", "PublicAccessBlockConfiguration"),
        DELETE,
        "CP008",
    ),
    Mutation("raw bucket policy removed", STORE, R("RawDataBucketPolicy"), DELETE, "CP009"),
    Mutation(
        "TLS-only statement dropped",
        STORE,
        R("ProcessedDataBucketPolicy", "Properties", "PolicyDocument", "Statement"),
        [],
        "CP009",
    ),
    Mutation(
        "5439 opened to the internet",
        NET,
        R("RedshiftSecurityGroup", "Properties", "SecurityGroupIngress"),
        [OPEN_5439],
        "CP001",
    ),
    Mutation(
        "5439 opened to a CIDR instead of the Lambda SG",
        NET,
        R("RedshiftFromLambdaIngress", "Properties"),
        _to_cidr,
        "CP001",
    ),
    Mutation(
        "SSH opened to the internet on the API security group",
        NET,
        R("ApiGatewaySecurityGroup", "Properties", "SecurityGroupIngress"),
        _append({"IpProtocol": "tcp", "FromPort": "22", "ToPort": "22", "CidrIp": "0.0.0.0/0"}),
        "CP021",
    ),
    Mutation(
        "SSH opened to the internet outside production, inside an Fn::If list item",
        NET,
        R("ApiGatewaySecurityGroup", "Properties", "SecurityGroupIngress"),
        _append(
            {
                "Fn::If": [
                    "IsProduction",
                    {"Ref": "AWS::NoValue"},
                    {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"},
                ]
            }
        ),
        "CP021",
    ),
    Mutation(
        "Redshift made public",
        STORE,
        R("RedshiftWorkgroup", "Properties", "PubliclyAccessible"),
        True,
        "CP002",
    ),
    Mutation(
        "Redshift password as a literal",
        STORE,
        R("RedshiftNamespace", "Properties", "AdminUserPassword"),
        "Passw0rdLiteral",
        "CP003",
    ),
    Mutation(
        "password parameter loses NoEcho",
        STORE,
        ("Parameters", "RedshiftMasterPassword", "NoEcho"),
        DELETE,
        "CP004",
    ),
    Mutation(
        "password parameter gets a default",
        STORE,
        ("Parameters", "RedshiftMasterPassword", "Default"),
        "YourPassword123",
        "CP004",
    ),
    Mutation(
        "password exposed as an output",
        STORE,
        ("Outputs", "DebugPassword"),
        {"Value": {"Ref": "RedshiftMasterPassword"}},
        "CP004",
    ),
    Mutation(
        "Lambda role gets Action *",
        COMPUTE,
        R("LambdaExecutionRole", "Properties", "Policies", "0", "PolicyDocument", "Statement"),
        _append(STAR_ACTION),
        "CP005",
    ),
    Mutation(
        "Lambda role gets s3:*",
        COMPUTE,
        R("LambdaExecutionRole", "Properties", "Policies", "0", "PolicyDocument", "Statement"),
        _append(SERVICE_STAR),
        "CP005",
    ),
    Mutation(
        "chatbot jobs role writes any table",
        CHAT,
        R("ChatbotJobsRole", "Properties", "Policies", "0", "PolicyDocument", "Statement"),
        _append(STAR_RESOURCE),
        "CP006",
    ),
    Mutation(
        "error processor publishes to any topic",
        LOG,
        R("ErrorProcessorRole", "Properties", "Policies", "0", "PolicyDocument", "Statement"),
        _append({"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"}),
        "CP006",
    ),
    Mutation(
        "chatbot log group loses retention",
        COMPUTE,
        R("ChatbotLogGroup", "Properties", "RetentionInDays"),
        DELETE,
        "CP010",
    ),
    Mutation(
        "Glue log group loses retention",
        LOG,
        R("GlueJobLogGroup", "Properties", "RetentionInDays"),
        DELETE,
        "CP010",
    ),
    Mutation(
        "production retention cut to 30 days",
        COMPUTE,
        R("ChatbotLogGroup", "Properties", "RetentionInDays"),
        {"Fn::If": ["IsProduction", 30, {"Ref": "LogRetentionDays"}]},
        "CP011",
    ),
    Mutation(
        "production flow-log retention cut to 14 days",
        NET,
        R("FlowLogGroup", "Properties", "RetentionInDays"),
        {"Fn::If": ["IsProduction", 14, 7]},
        "CP011",
    ),
    Mutation(
        "conversation history loses PITR",
        COMPUTE,
        R(
            "ConversationHistoryTable",
            "Properties",
            "PointInTimeRecoverySpecification",
            "PointInTimeRecoveryEnabled",
        ),
        False,
        "CP012",
    ),
    Mutation(
        "session state loses PITR",
        CHAT,
        R("SessionStateTable", "Properties", "PointInTimeRecoverySpecification"),
        DELETE,
        "CP012",
    ),
    Mutation(
        "chatbot tracing passes through",
        COMPUTE,
        R("ChatbotFunction", "Properties", "TracingConfig", "Mode"),
        "PassThrough",
        "CP013",
    ),
    Mutation(
        "error processor loses tracing",
        LOG,
        R("ErrorProcessorFunction", "Properties", "TracingConfig"),
        DELETE,
        "CP013",
    ),
    Mutation(
        "events stream unencrypted",
        STORE,
        R("ConcertEventsStream", "Properties", "StreamEncryption"),
        DELETE,
        "CP014",
    ),
    Mutation(
        "chatbot alerts topic unencrypted",
        CHAT,
        R("ChatbotAlertsTopic", "Properties", "KmsMasterKeyId"),
        DELETE,
        "CP015",
    ),
    Mutation(
        "critical alerts topic unencrypted",
        MON,
        R("CriticalAlertsTopic", "Properties", "KmsMasterKeyId"),
        DELETE,
        "CP015",
    ),
    Mutation(
        "user preferences without KMS",
        CHAT,
        R("UserPreferencesTable", "Properties", "SSESpecification"),
        DELETE,
        "CP016",
    ),
    Mutation("CloudTrail removed", LOG, R("AuditTrail"), DELETE, "CP017"),
    Mutation(
        "trail without log-file validation",
        LOG,
        R("AuditTrail", "Properties", "EnableLogFileValidation"),
        False,
        "CP017",
    ),
    Mutation(
        "trail in one region only", LOG, R("AuditTrail", "Properties", "IsMultiRegionTrail"), False, "CP017"
    ),
    Mutation("S3 VPC endpoint removed", NET, R("S3VpcEndpoint"), DELETE, "CP018"),
    Mutation(
        "API stage without tracing", COMPUTE, R("ApiStage", "Properties", "TracingEnabled"), False, "CP019"
    ),
    Mutation(
        "API stage without access logs",
        COMPUTE,
        R("ApiStage", "Properties", "AccessLogSetting"),
        DELETE,
        "CP019",
    ),
    Mutation(
        "deployment bucket versioning suspended",
        STORE,
        R("LambdaDeploymentBucket", "Properties", "VersioningConfiguration", "Status"),
        "Suspended",
        "CP020",
    ),
]


def apply(template: dict[str, Any], mutation: Mutation) -> dict[str, Any]:
    """A mutated deep copy of `template`."""
    data = copy.deepcopy(template)
    node: Any = data
    for key in mutation.path[:-1]:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    last = mutation.path[-1]
    if mutation.value is DELETE:
        if last not in node:
            raise KeyError(
                f"{mutation.name}: {'/'.join(mutation.path)} does not exist; the catalogue is stale"
            )
        del node[last]
    elif callable(mutation.value):
        node[last] = mutation.value(node[last])
    else:
        node[last] = copy.deepcopy(mutation.value)
    return data
