#!/usr/bin/env python3
"""The deployment guide's schema step, as a thin wrapper over the tool.

    python infrastructure/initialize_redshift_schema.py --environment development --region us-east-1

Runs src/concert_platform/sql/schema.sql (idempotent) through the Redshift Data API against the
workgroup, database and admin secret the storage stack exports. `concert-platform deploy` runs
the same step itself; this script is for re-running it alone.
"""

from __future__ import annotations

import argparse
import sys

from concert_platform.deploy import StackOperator
from concert_platform.engines import ENGINE_NAMES, create_engine
from concert_platform.errors import ConcertPlatformError, DeployError
from concert_platform.manifest import load_manifest
from concert_platform.naming import validate_environment, validate_region
from concert_platform.postdeploy import initialize_redshift_schema


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--environment", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--engine", choices=ENGINE_NAMES, default="aws")
    parser.add_argument("--endpoint-url")
    args = parser.parse_args(argv)
    try:
        validate_environment(args.environment)
        validate_region(args.region)
        manifest = load_manifest()
        with create_engine(args.engine, args.region, args.endpoint_url) as engine:
            outputs = StackOperator(engine, manifest, args.environment).outputs("storage")
            if not outputs:
                raise DeployError(
                    f"stack {manifest.stack_name('storage', args.environment)} is not deployed; deploy it first"
                )
            result = initialize_redshift_schema(engine, outputs)
    except ConcertPlatformError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(result.detail)
    return 0


if __name__ == "__main__":
    sys.exit(main())
