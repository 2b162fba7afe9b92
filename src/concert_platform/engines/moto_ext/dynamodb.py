"""DynamoDB: tables created by CloudFormation get their SSE, TTL and point-in-time recovery.

moto passes the CloudFormation SSESpecification (`SSEEnabled`) where its model reads the API's
(`Enabled`), and ignores TimeToLiveSpecification and PointInTimeRecoverySpecification."""

from __future__ import annotations

from typing import Any

from moto.dynamodb import models as ddb_models
from moto.dynamodb.models.table import Table

from concert_platform.engines.moto_ext._base import after_cloudformation_create, as_bool


def _apply(table: Any, properties: dict[str, Any], account_id: str, region_name: str) -> None:
    backend = ddb_models.dynamodb_backends[account_id][region_name]
    sse = properties.get("SSESpecification")
    if sse and as_bool(sse.get("SSEEnabled")):
        table.sse_specification = {
            "Enabled": True,
            "SSEType": sse.get("SSEType", "KMS"),
            "KMSMasterKeyId": sse.get("KMSMasterKeyId"),
        }
    ttl = properties.get("TimeToLiveSpecification")
    if ttl:
        backend.update_time_to_live(
            table.name, {"Enabled": as_bool(ttl.get("Enabled")), "AttributeName": ttl["AttributeName"]}
        )
    pitr = properties.get("PointInTimeRecoverySpecification")
    if pitr:
        backend.update_continuous_backups(
            table.name, {"PointInTimeRecoveryEnabled": as_bool(pitr.get("PointInTimeRecoveryEnabled"))}
        )


def patch_table_model() -> None:
    after_cloudformation_create(Table, _apply)
