"""CloudTrail trails (and whether they are logging)."""

from __future__ import annotations

from typing import Any

from concert_platform.verify._base import Field, Resource, Table, VerifyContext, first, register, same_id
from concert_platform.verify._lifecycle import (
    Namer,
    Probe,
    Remover,
)


def _trail(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    cloudtrail = ctx.client("cloudtrail")
    trails = cloudtrail.describe_trails(trailNameList=[r.physical_id])["trailList"]
    # moto answers every trail whatever trailNameList says: pick ours by name or ARN
    trail = dict(
        first(trails, lambda t: r.physical_id in (t.get("Name"), t.get("TrailARN")), f"trail {r.physical_id}")
    )
    trail["IsLogging"] = cloudtrail.get_trail_status(Name=r.physical_id).get("IsLogging")
    return trail


register(
    Table(
        "AWS::CloudTrail::Trail",
        _trail,
        {
            "TrailName": Field("Name"),
            "S3BucketName": Field("S3BucketName"),
            "S3KeyPrefix": Field("S3KeyPrefix"),
            "IsLogging": Field("IsLogging"),
            "IsMultiRegionTrail": Field("IsMultiRegionTrail"),
            "IncludeGlobalServiceEvents": Field("IncludeGlobalServiceEvents"),
            "EnableLogFileValidation": Field("LogFileValidationEnabled"),
            "KMSKeyId": Field("KmsKeyId", same_id),
            "CloudWatchLogsLogGroupArn": Field("CloudWatchLogsLogGroupArn"),
            "CloudWatchLogsRoleArn": Field("CloudWatchLogsRoleArn"),
        },
    )
)


# ---- teardown: proving each resource gone, removing what a stack deletion left --------------


#: type -> how to ask its service whether the resource still exists
PROBES: dict[str, Probe] = {
    "AWS::CloudTrail::Trail": lambda c, r: c("cloudtrail").get_trail(Name=r.physical_id) and None,
}

#: type -> how to delete one directly, for what a stack deletion left behind
REMOVERS: dict[str, Remover] = {
    "AWS::CloudTrail::Trail": lambda c, r: c("cloudtrail").delete_trail(Name=r.physical_id),
}

#: what the name scan lists of this service: (kind, the names)
NAMES: tuple[tuple[str, Namer], ...] = (
    ("trail", lambda c: (t["Name"] for t in c("cloudtrail").list_trails().get("Trails", []))),
)
