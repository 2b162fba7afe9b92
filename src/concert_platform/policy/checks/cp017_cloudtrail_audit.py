"""CP017: A multi-region CloudTrail with log-file validation records the platform's API calls"""

from __future__ import annotations

from collections.abc import Iterator

from concert_platform.policy.cfn import UNKNOWN, as_bool
from concert_platform.policy.model import Check, Template


class CloudTrailAudit(Check):
    id = "CP017"
    practice = "A multi-region CloudTrail with log-file validation records the platform's API calls"
    source = "Security Best Practices 6 (Enable CloudTrail)"
    scope = "set"

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        trails = [(t, lid, r) for t in templates for lid, r in t.resources("AWS::CloudTrail::Trail")]
        if not trails and templates:
            yield templates[0], "(template set)", "no AWS::CloudTrail::Trail in any template"
        for template, lid, trail in trails:
            values = template.values
            for key in ("EnableLogFileValidation", "IsMultiRegionTrail", "IsLogging"):
                for branch in values.get(template.properties(trail), key):
                    value = values.resolve(branch.value)
                    if value is not UNKNOWN and as_bool(value) is not True:
                        yield template, lid, f"{key} is not true{branch.where()}"
