"""CP019: API stages have X-Ray tracing and access logging"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from concert_platform.policy.cfn import MISSING, UNKNOWN, as_bool
from concert_platform.policy.model import Check, Template


class ApiStageObservability(Check):
    id = "CP019"
    practice = "API stages have X-Ray tracing and access logging"
    source = "Post-Deployment Steps 3 and 5"

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        for template in templates:
            for lid, stage in template.resources("AWS::ApiGateway::Stage"):
                yield from self._settings(template, lid, template.properties(stage), "")
            for lid, deployment in template.resources("AWS::ApiGateway::Deployment"):
                properties = template.properties(deployment)
                if properties.get("StageName", MISSING) is MISSING:
                    continue  # an AWS::ApiGateway::Stage resource declares the stage
                description = properties.get("StageDescription", MISSING)
                for branch in template.values.branches(description):
                    yield from self._settings(
                        template,
                        lid,
                        branch.value if isinstance(branch.value, dict) else {},
                        f" for the stage this Deployment creates (StageDescription){branch.where()}",
                    )

    def _settings(
        self, template: Template, lid: str, settings: dict[str, Any], what: str
    ) -> Iterator[tuple[Template, str, str]]:
        values = template.values
        for branch in values.get(settings, "TracingEnabled"):
            value = values.resolve(branch.value)
            if value is not UNKNOWN and as_bool(value) is not True:
                yield template, lid, f"TracingEnabled is not true{what}{branch.where()}"
        for branch in values.get(settings, "AccessLogSetting", "DestinationArn"):
            if branch.value is MISSING or branch.value == "":
                yield template, lid, f"no AccessLogSetting destination{what}{branch.where()}"
