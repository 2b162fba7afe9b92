"""CP013: Every Lambda function has X-Ray active tracing"""

from __future__ import annotations

from collections.abc import Iterator

from concert_platform.policy.cfn import UNKNOWN
from concert_platform.policy.model import Check, Template


class LambdaActiveTracing(Check):
    id = "CP013"
    practice = "Every Lambda function has X-Ray active tracing"
    source = "Post-Deployment Steps 5 (Enable X-Ray Tracing)"

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        for template in templates:
            values = template.values
            for lid, function in template.resources("AWS::Lambda::Function"):
                for branch in values.get(template.properties(function), "TracingConfig", "Mode"):
                    mode = values.resolve(branch.value)
                    if mode is not UNKNOWN and mode != "Active":
                        yield template, lid, f"TracingConfig Mode is not Active{branch.where()}"
