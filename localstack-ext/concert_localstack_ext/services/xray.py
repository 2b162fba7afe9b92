"""X-Ray updates on the wire: UpdateGroup and UpdateSamplingRule.

The project's moto extension (concert_platform.engines.moto_ext.xray) adds groups and sampling
rules to moto's X-Ray backend with create, get, list and delete; CloudFormation also updates
both in place (the filter expression or insights of a group, any field of a rule but its name).
These two operations change the same records, so the embedded engine's reads see them."""

from __future__ import annotations

import json
import time
from typing import Any

#: the SamplingRule fields UpdateSamplingRule may change (RuleName and Version cannot change)
RULE_FIELDS = (
    "ResourceARN", "Priority", "FixedRate", "ReservoirSize", "Host", "ServiceName",
    "ServiceType", "HTTPMethod", "URLPath", "Attributes",
)  # fmt: skip


def _update_group(self: Any) -> Any:
    from concert_platform.engines.moto_ext.xray import _find_group

    group = _find_group(self)
    if group is None:
        return self._error("InvalidRequestException", "Group not found")
    params = self.request_params
    if "FilterExpression" in params:
        group["FilterExpression"] = params["FilterExpression"]
    if "InsightsConfiguration" in params:
        group["InsightsConfiguration"] = {
            **group.get("InsightsConfiguration", {}),
            **params["InsightsConfiguration"],
        }
    return json.dumps({"Group": group})


def _update_sampling_rule(self: Any) -> Any:
    from concert_platform.engines.moto_ext.xray import _store

    change = self.request_params.get("SamplingRuleUpdate") or {}
    rules = _store(self.xray_backend, "sampling_rules")
    name = change.get("RuleName") or str(change.get("RuleARN", "")).rsplit("/", 1)[-1]
    record = rules.get(name)
    if record is None:
        return self._error("InvalidRequestException", "Sampling rule does not exist")
    record["SamplingRule"].update({key: change[key] for key in RULE_FIELDS if key in change})
    record["ModifiedAt"] = time.time()
    return json.dumps({"SamplingRuleRecord": record})


HANDLERS = {"UpdateGroup": _update_group, "UpdateSamplingRule": _update_sampling_rule}


def patch_wire() -> None:
    """Answer the project's X-Ray operations and the two updates (before the first X-Ray request:
    LocalStack caches moto's URL map per service)."""
    from moto.core.utils import camelcase_to_underscores
    from moto.xray import urls as xray_urls
    from moto.xray.responses import XRayResponse

    from concert_platform.engines.moto_ext import xray as xray_ext

    xray_ext.patch_wire()
    for action, handler in HANDLERS.items():
        setattr(XRayResponse, camelcase_to_underscores(action), handler)
        xray_urls.url_paths[f"{{0}}/{action}$"] = XRayResponse.dispatch
