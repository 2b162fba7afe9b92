"""CP004: Password and secret parameters are NoEcho, have no default, and no output exposes them"""

from __future__ import annotations

from collections.abc import Iterator

from concert_platform.policy.cfn import text
from concert_platform.policy.model import Check, Template


class SecretParametersNoEcho(Check):
    id = "CP004"
    practice = "Password and secret parameters are NoEcho, have no default, and no output exposes them"
    source = "Security Best Practices 3 (Use Secrets Manager)"

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        import re

        for template in templates:
            for name, parameter in template.data.get("Parameters", {}).items():
                if not re.search(r"password|secret|token", name, re.IGNORECASE):
                    continue
                if parameter.get("NoEcho") not in (True, "true"):
                    yield template, name, f"parameter {name} is not NoEcho"
                if "Default" in parameter:
                    yield template, name, f"parameter {name} has a default value"
                for output_name, output in template.data.get("Outputs", {}).items():
                    if f'"{name}"' in text(output.get("Value")) or "${" + name + "}" in text(
                        output.get("Value")
                    ):
                        yield template, output_name, f"output {output_name} exposes parameter {name}"
