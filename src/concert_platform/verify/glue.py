"""Glue Data Catalog."""

from __future__ import annotations

from typing import Any

from concert_platform.verify._base import Field, Resource, Table, VerifyContext, register
from concert_platform.verify._lifecycle import (
    Namer,
    Probe,
    Remover,
    paginate,
)


def _database(ctx: VerifyContext, r: Resource) -> dict[str, Any]:
    database = ctx.client("glue").get_database(Name=r.physical_id)["Database"]
    return {"Database": database, "CatalogId": database.get("CatalogId")}


register(
    Table(
        "AWS::Glue::Database",
        _database,
        # DatabaseInput's keys (Name, Description, LocationUri...) are the Database's own.
        {"CatalogId": Field("CatalogId"), "DatabaseInput": Field("Database")},
    )
)


# ---- teardown: proving each resource gone, removing what a stack deletion left --------------


#: type -> how to ask its service whether the resource still exists
PROBES: dict[str, Probe] = {
    "AWS::Glue::Database": lambda c, r: c("glue").get_database(Name=r.physical_id) and None,
}

#: type -> how to delete one directly, for what a stack deletion left behind
REMOVERS: dict[str, Remover] = {
    "AWS::Glue::Database": lambda c, r: c("glue").delete_database(Name=r.physical_id),
}

#: what the name scan lists of this service: (kind, the names)
NAMES: tuple[tuple[str, Namer], ...] = (
    ("glue database", lambda c: (d["Name"] for d in paginate(c("glue"), "get_databases", "DatabaseList"))),
)
