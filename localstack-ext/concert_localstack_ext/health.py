"""`/_concert/health`: what LocalStack with this extension can do, for the tool's LocalStack engine.

The tool reads this route (as it reads `engine serve`'s) to learn capabilities that plain community
LocalStack lacks; plain LocalStack answers 404 there, so nothing is claimed for it. Each
capability is declared only when the setting behind it is in force in this LocalStack:

- `has_warehouse`: the Redshift Data API is the extension's (SQL on DuckDB), which is the case
  whenever the extension is installed (community LocalStack has no redshift-data provider), unless
  `PROVIDER_OVERRIDE_REDSHIFT_DATA` picks another variant.
- `names_failed_functions`: an API's 5xx for a failed Lambda proxy integration carries the
  function's name and Lambda error (`apigateway_responses.py`), once that patch is in place.
- `alarm_evaluation`: `POST /_concert/alarms/evaluate` runs LocalStack's own alarm evaluation now
  (`alarms.py`).
- `lambda_executor`: the Lambda runtime executor LocalStack runs functions with (`concert`: the
  project's isolated worker, no Docker).
"""

from __future__ import annotations

import os
from typing import Any

from localstack.runtime import hooks

HEALTH_PATH = "/_concert/health"


def health_document() -> dict[str, Any]:
    capabilities: list[str] = []
    if os.environ.get("PROVIDER_OVERRIDE_REDSHIFT_DATA", "default") == "default":
        capabilities.append("has_warehouse")
    from localstack.services.apigateway.next_gen.execute_api.integrations import aws

    if getattr(aws.RestApiAwsProxyIntegration.invoke, "_concert", False):
        capabilities.append("names_failed_functions")
    from localstack import config

    executor = str(getattr(config, "LAMBDA_RUNTIME_EXECUTOR", "") or "docker")
    return {
        "engine": "localstack",
        "extension": "concert-localstack-ext",
        "capabilities": capabilities,
        "lambda_executor": executor,
        "alarm_evaluation": True,
    }


@hooks.on_infra_start()
def concert_health_route() -> None:
    from localstack.http import Response
    from localstack.services.edge import ROUTER

    def endpoint(request: Any, **_kwargs: Any) -> Response:
        del request
        return Response.for_json(health_document())

    ROUTER.add(HEALTH_PATH, endpoint=endpoint, methods=["GET"])
