"""DynamoDB tables: keys, billing, throughput, TTL, point-in-time recovery, encryption."""

from __future__ import annotations

from typing import Any

from concert_platform.verify._base import (
    Field,
    Resource,
    Table,
    VerifyContext,
    as_set,
    exact,
    register,
    same_id,
)
from concert_platform.verify._lifecycle import (
    Namer,
    Probe,
    Remover,
    paginate,
)


def _table(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    dynamodb = ctx.client("dynamodb")
    table = dict(dynamodb.describe_table(TableName=r.physical_id)["Table"])
    ttl = dynamodb.describe_time_to_live(TableName=r.physical_id)["TimeToLiveDescription"]
    table["TimeToLive"] = ttl
    backups = dynamodb.describe_continuous_backups(TableName=r.physical_id)["ContinuousBackupsDescription"]
    table["PointInTimeRecovery"] = backups.get("PointInTimeRecoveryDescription")
    return table


def _ttl(description: dict[str, Any]) -> dict[str, Any]:
    return {
        "AttributeName": description.get("AttributeName"),
        "Enabled": description["TimeToLiveStatus"] in ("ENABLED", "ENABLING"),
    }


def _sse(description: dict[str, Any]) -> dict[str, Any]:
    return {
        "SSEEnabled": description["Status"] in ("ENABLED", "ENABLING"),
        "SSEType": description.get("SSEType"),
        "KMSMasterKeyId": description.get("KMSMasterKeyArn"),
    }


def _sse_compare(declared: Any, observed: Any) -> list[str]:
    problems = exact({k: v for k, v in declared.items() if k != "KMSMasterKeyId"}, observed)
    if "KMSMasterKeyId" in declared:
        problems += [
            f".KMSMasterKeyId{p}" for p in same_id(declared["KMSMasterKeyId"], observed.get("KMSMasterKeyId"))
        ]
    return problems


register(
    Table(
        "AWS::DynamoDB::Table",
        _table,
        {
            "TableName": Field("TableName"),
            "AttributeDefinitions": Field("AttributeDefinitions", as_set),
            "KeySchema": Field("KeySchema", exact),  # HASH then RANGE
            # A table created on demand has no BillingModeSummary only when it was never set.
            "BillingMode": Field("BillingModeSummary.BillingMode"),
            "ProvisionedThroughput": Field("ProvisionedThroughput"),
            "TimeToLiveSpecification": Field("TimeToLive", view=_ttl),
            "PointInTimeRecoverySpecification": Field(
                "PointInTimeRecovery",
                view=lambda p: {"PointInTimeRecoveryEnabled": p["PointInTimeRecoveryStatus"] == "ENABLED"},
            ),
            "SSESpecification": Field("SSEDescription", _sse_compare, view=_sse),
        },
        attributes={
            "Arn": lambda c, p: c.client("dynamodb").describe_table(TableName=p)["Table"]["TableArn"]
        },
    )
)


# ---- teardown: proving each resource gone, removing what a stack deletion left --------------


#: type -> how to ask its service whether the resource still exists
PROBES: dict[str, Probe] = {
    "AWS::DynamoDB::Table": lambda c, r: c("dynamodb").describe_table(TableName=r.physical_id) and None,
}

#: type -> how to delete one directly, for what a stack deletion left behind
REMOVERS: dict[str, Remover] = {
    "AWS::DynamoDB::Table": lambda c, r: c("dynamodb").delete_table(TableName=r.physical_id),
}

#: what the name scan lists of this service: (kind, the names)
NAMES: tuple[tuple[str, Namer], ...] = (
    ("table", lambda c: paginate(c("dynamodb"), "list_tables", "TableNames")),
)
