"""The Redshift Data API on a real SQL engine, replacing moto's canned `redshiftdata` backend.

Statements sent to a Redshift Serverless workgroup (or a moto Redshift cluster) are parsed with
sqlglot's Redshift dialect, translated to DuckDB and run on an in-memory DuckDB database, one per
workgroup and database name, which lives as long as the workgroup in the engine. Laid out like a
moto service package (models, responses, urls, plus `sql` for the dialect translation).
"""

from __future__ import annotations

import logging
import sys

from concert_platform.engines.moto_ext.redshift_data.models import redshiftdata_backends

__all__ = ["close_databases", "install", "redshiftdata_backends"]


def install() -> None:
    """Make moto's `redshift-data` service (mock_aws and server) resolve to this package."""
    # moto's get_backend("redshift-data") imports moto.redshiftdata and reads redshiftdata_backends;
    # its URL map comes from the backend class's module (models -> urls), which is ours.
    sys.modules["moto.redshiftdata"] = sys.modules[__name__]
    # sqlglot warns on every statement it parses as a generic command (VACUUM...): not our output.
    logging.getLogger("sqlglot").setLevel(logging.ERROR)


def close_databases() -> None:
    """Drop every database of every account and region (the engine is stopping)."""
    for account in redshiftdata_backends.values():
        for backend in account.values():
            backend.close()
