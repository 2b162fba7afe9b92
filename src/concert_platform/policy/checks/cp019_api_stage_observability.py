"""CP019: API stages have X-Ray tracing and access logging"""

from __future__ import annotations

from collections.abc import Iterator

from concert_platform.policy.cfn import is_true
from concert_platform.policy.model import Check, Template


class ApiStageObservability(Check):
    id = "CP019"
    practice = "API stages have X-Ray tracing and access logging"
    source = "Post-Deployment Steps 3 and 5"

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        for template in templates:
            for lid, stage in template.resources("AWS::ApiGateway::Stage"):
                properties = stage.get("Properties", {})
                if not is_true(properties.get("TracingEnabled")):
                    yield template, lid, "TracingEnabled is not true"
                if not properties.get("AccessLogSetting", {}).get("DestinationArn"):
                    yield template, lid, "no AccessLogSetting destination"
