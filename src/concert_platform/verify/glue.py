"""Glue Data Catalog."""

from __future__ import annotations

from typing import Any

from concert_platform.verify._base import Field, Resource, Table, VerifyContext, register


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
