"""CP004: Password and secret parameters are NoEcho, have no default, and no output exposes them"""

from __future__ import annotations

import re
from collections.abc import Iterator

from concert_platform.policy.cfn import as_bool, text
from concert_platform.policy.model import Check, Template

SECRET_WORDS = re.compile(r"password|passwd|passphrase|secret|token|apikey|api_key|credential", re.IGNORECASE)
# Parameters that name, locate or configure a secret rather than hold one: SecretName,
# DbSecretArn, SecretsKMSKey, TokenTTL, PasswordLength...
NOT_A_SECRET = re.compile(
    r"(name|names|arn|arns|id|ids|kmskey|kmskeyid|kmskeyarn|keyid|keyarn|key_id|path|prefix|suffix|"
    r"length|type|policy|rotation|rotationdays|days|ttl|expiry|expiration|header|parameter|param|"
    r"enabled|version|uri|url|location|bucket|field)$",
    re.IGNORECASE,
)


def holds_secret(name: str, parameter: dict[str, object]) -> bool:
    if not SECRET_WORDS.search(name) or NOT_A_SECRET.search(name):
        return False
    kind = str(parameter.get("Type", "String"))
    return not kind.startswith("AWS::SSM::Parameter::")  # the value is fetched, not passed


class SecretParametersNoEcho(Check):
    id = "CP004"
    practice = "Password and secret parameters are NoEcho, have no default, and no output exposes them"
    source = "Security Best Practices 3 (Use Secrets Manager)"

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        for template in templates:
            outputs = template.data.get("Outputs")
            outputs = outputs if isinstance(outputs, dict) else {}
            for name, parameter in template.values.parameters.items():
                if not isinstance(parameter, dict) or not holds_secret(str(name), parameter):
                    continue
                if as_bool(parameter.get("NoEcho")) is not True:
                    yield template, name, f"parameter {name} is not NoEcho"
                if "Default" in parameter:
                    yield template, name, f"parameter {name} has a default value"
                for output_name, output in outputs.items():
                    value = text(output.get("Value")) if isinstance(output, dict) else ""
                    if f'{{"Ref": "{name}"}}' in value or "${" + str(name) + "}" in value:
                        yield template, output_name, f"output {output_name} exposes parameter {name}"
