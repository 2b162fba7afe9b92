"""Kinesis Data Streams."""

from __future__ import annotations

from typing import Any

from concert_platform.verify._base import Field, Resource, Table, VerifyContext, register, same_id
from concert_platform.verify._lifecycle import (
    Namer,
    Probe,
    Remover,
    paginate,
)


def _stream(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    summary = dict(
        ctx.client("kinesis").describe_stream_summary(StreamName=r.physical_id)["StreamDescriptionSummary"]
    )
    if "EncryptionType" in summary:
        summary["StreamEncryption"] = {
            "EncryptionType": summary["EncryptionType"],
            "KeyId": summary.get("KeyId"),
        }
    return summary


def _encryption(declared: Any, observed: Any) -> list[str]:
    problems = (
        []
        if declared.get("EncryptionType") == observed.get("EncryptionType")
        else [
            f".EncryptionType: engine has {observed.get('EncryptionType')!r}, template sets {declared.get('EncryptionType')!r}"
        ]
    )
    if "KeyId" in declared:
        problems += [f".KeyId{p}" for p in same_id(declared["KeyId"], observed.get("KeyId"))]
    return problems


register(
    Table(
        "AWS::Kinesis::Stream",
        _stream,
        {
            "Name": Field("StreamName"),
            "ShardCount": Field("OpenShardCount"),
            "RetentionPeriodHours": Field("RetentionPeriodHours"),
            "StreamEncryption": Field("StreamEncryption", _encryption),
        },
        attributes={
            "Arn": lambda c, p: c.client("kinesis").describe_stream_summary(StreamName=p)[
                "StreamDescriptionSummary"
            ]["StreamARN"]
        },
    )
)


# ---- teardown: proving each resource gone, removing what a stack deletion left --------------


#: type -> how to ask its service whether the resource still exists
PROBES: dict[str, Probe] = {
    "AWS::Kinesis::Stream": lambda c, r: (
        c("kinesis").describe_stream_summary(StreamName=r.physical_id) and None
    ),
}

#: type -> how to delete one directly, for what a stack deletion left behind
REMOVERS: dict[str, Remover] = {
    "AWS::Kinesis::Stream": lambda c, r: c("kinesis").delete_stream(
        StreamName=r.physical_id, EnforceConsumerDeletion=True
    ),
}

#: what the name scan lists of this service: (kind, the names)
NAMES: tuple[tuple[str, Namer], ...] = (
    ("stream", lambda c: paginate(c("kinesis"), "list_streams", "StreamNames")),
)
