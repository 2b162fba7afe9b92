"""Lambda: physical ids for Permission and LayerVersion (moto reports none, so nothing could
verify them), permissions that carry a statement id and are removed with their stack, and the
checks Lambda's CreateFunction makes that moto skips:

- the code object must exist in S3 (moto's S3 lookup answers None for a missing key, so the
  function was created with an empty package);
- what Lambda itself does with the execution role and refuses at deploy: ENI management for a
  VPC function, the send to the dead-letter target (CreateFunction, UpdateFunctionConfiguration),
  the event source reads (CreateEventSourceMapping); see moto_ext.lambda_role.

Both fail CREATE with Lambda's own message, and the stack rolls back (stack_lifecycle).

Invoke (moto would run the function in Docker, absent here: "error running docker") runs the
deployed function in the engine's local Lambda runtime, as its execution role, and answers as
Lambda does: the payload, `FunctionError: Unhandled` with Lambda's error document when the
handler raised or timed out, the last 4 KB of the log (START/END/REPORT included) as
`LogResult` when `LogType=Tail`; `Event` runs it in the background (202), `DryRun` runs nothing
(204).
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from typing import Any

from moto.awslambda import models as lambda_models
from moto.awslambda.exceptions import InvalidParameterValueException, LambdaClientError

import concert_platform.engines.moto_ext.lambda_role as lambda_role


def _missing_code_object(account_id: str, region_name: str, code: dict[str, Any]) -> str | None:
    """Lambda's GetObject failure message when the package's bucket or key does not exist."""
    from moto.s3.exceptions import MissingBucket
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    if "S3Bucket" not in code or "S3Key" not in code:
        return None
    backend = s3_backends[account_id][get_partition(region_name)]
    try:
        key = backend.get_object(code["S3Bucket"], code["S3Key"], version_id=code.get("S3ObjectVersion"))
    except MissingBucket:
        return (
            "Error occurred while GetObject. S3 Error Code: NoSuchBucket. "
            "S3 Error Message: The specified bucket does not exist"
        )
    if key is None:
        return (
            "Error occurred while GetObject. S3 Error Code: NoSuchKey. "
            "S3 Error Message: The specified key does not exist."
        )
    return None


def deployed_package(account_id: str, region_name: str, function_name: str) -> bytes:
    """The code package Lambda holds for the function (its copy, taken at create or update)."""
    function = lambda_models.lambda_backends[account_id][region_name].get_function(function_name)
    return bytes(function.code_bytes)


def deployed_layer(account_id: str, region_name: str, layer_version_arn: str) -> bytes:
    layer = lambda_models.lambda_backends[account_id][region_name].layers_versions_by_arn(layer_version_arn)
    if layer is None:
        raise LookupError(f"layer version {layer_version_arn} does not exist")
    return bytes(layer.code_bytes)


#: how much of the log Lambda returns in LogResult
LOG_RESULT_BYTES = 4096


def log_result(invocation: Any, memory_size: int, max_memory_mb: int) -> str:
    """Lambda's `LogResult`: the invocation's log between START and REPORT, its last 4 KB, base64."""
    request = invocation.request_id
    duration = invocation.seconds * 1000
    lines = [
        f"START RequestId: {request} Version: $LATEST",
        *([invocation.logs] if invocation.logs else []),
        f"END RequestId: {request}",
        f"REPORT RequestId: {request}\tDuration: {duration:.2f} ms\tBilled Duration: {max(1, round(duration))} ms"
        f"\tMemory Size: {memory_size} MB\tMax Memory Used: {max_memory_mb} MB",
    ]
    text = ("\n".join(lines) + "\n").encode()
    return base64.b64encode(text[-LOG_RESULT_BYTES:]).decode()


def error_document(invocation: Any) -> dict[str, Any]:
    """The payload Lambda answers for a function error (with `FunctionError: Unhandled`)."""
    return {
        "errorMessage": invocation.error_message,
        "errorType": invocation.error_type,
        "requestId": invocation.request_id,
        "stackTrace": list(invocation.stack_trace),
    }


class InvalidRequestContent(LambdaClientError):
    """Lambda's answer (400) to a payload that is not JSON."""

    def __init__(self, message: str) -> None:
        super().__init__("InvalidRequestContentException", message)


def invoke_locally(
    engine: Any, function: Any, body: Any, request_headers: Any, response_headers: dict[str, str]
) -> bytes:
    """Lambda's Invoke of `function` (moto's model) in `engine`'s local runtime (module docstring)."""
    headers = {str(k).lower(): str(v) for k, v in dict(request_headers or {}).items()}
    try:
        event = json.loads(body) if body else {}
    except ValueError:
        raise InvalidRequestContent("Could not parse request body into json") from None
    invocation_type = headers.get("x-amz-invocation-type", "RequestResponse")
    if invocation_type == "DryRun":
        return b""
    runtime = engine.function_runtime()
    if invocation_type == "Event":  # queued: Lambda answers 202 at once and runs it later
        threading.Thread(target=runtime.invoke, args=(function.function_name, event), daemon=True).start()
        return b""
    invocation = runtime.invoke(function.function_name, event)
    stats = runtime.stats.get(invocation.function)
    response_headers["x-amz-executed-version"] = "$LATEST"
    response_headers["x-amz-log-result"] = log_result(
        invocation, int(function.memory_size or 128), stats.max_memory_used_mb if stats else 0
    )
    if not invocation.ok:
        response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps(error_document(invocation)).encode()
    return json.dumps(invocation.result, default=str).encode()


def patch_invoke() -> None:
    """Invoke runs the function in the bound engine's local runtime (module docstring); without
    a bound engine (moto used on its own) moto's own behaviour stays."""
    from concert_platform.engines.moto_ext.lambda_runtime import bound_engine

    function_cls = lambda_models.LambdaFunction
    original = function_cls.invoke

    def invoke(self: Any, body: Any, request_headers: Any, response_headers: Any) -> Any:
        engine = bound_engine()
        if engine is None:
            return original(self, body, request_headers, response_headers)
        return invoke_locally(engine, self, body, request_headers, response_headers)

    function_cls.invoke = invoke


def patch_models() -> None:
    permission_cls = lambda_models.Permission

    def create_from_cloudformation_json(
        cls: Any,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        properties = dict(cloudformation_json["Properties"])
        statement_id = (
            properties.get("StatementId")
            or f"{kwargs.get('LogicalId', 'permission')}-{uuid.uuid4().hex[:12]}"
        )
        properties["StatementId"] = statement_id
        backend = lambda_models.lambda_backends[account_id][region_name]
        backend.get_function(properties["FunctionName"]).policy.add_statement(raw=json.dumps(properties))
        permission = cls(region=region_name)
        permission.statement_id = statement_id
        permission.function_name = properties["FunctionName"]
        permission.account_id = account_id
        return permission

    def delete(self: Any, account_id: str, region_name: str) -> None:
        backend = lambda_models.lambda_backends[account_id][region_name]
        try:
            backend.remove_permission(self.function_name, self.statement_id)
        except Exception:
            return

    permission_cls.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[assignment]
    permission_cls.physical_resource_id = property(lambda self: getattr(self, "statement_id", ""))  # type: ignore[attr-defined]
    permission_cls.delete = delete  # type: ignore[attr-defined]
    lambda_models.LayerVersion.physical_resource_id = property(lambda self: self.arn)  # type: ignore[attr-defined]

    def delete_layer_version(self: Any, account_id: str, region_name: str) -> None:
        # moto's model has no delete: the version outlived its stack
        backend = lambda_models.lambda_backends[account_id][region_name]
        try:
            backend.get_layer_version(self.name, str(self.version))
        except Exception:
            return  # already gone
        backend.delete_layer_version(self.name, str(self.version))

    lambda_models.LayerVersion.delete = delete_layer_version  # type: ignore[attr-defined]

    function_cls = lambda_models.LambdaFunction
    original_function = function_cls.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_function(
        cls: Any,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        properties = cloudformation_json.get("Properties", {})
        missing = _missing_code_object(account_id, region_name, properties.get("Code", {}))
        if missing:
            raise InvalidParameterValueException(missing)
        lambda_role.refuse_at_deploy(account_id, region_name, _api_config(resource_name, properties))
        # moto's model drops TracingConfig, Layers, KmsKeyArn, DeadLetterConfig and Architectures.
        function = original_function(
            cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
        if properties.get("TracingConfig"):
            function.tracing_config = dict(properties["TracingConfig"])
        if properties.get("Layers"):
            function.layers = function._get_layers_data(list(properties["Layers"]))
        if properties.get("KmsKeyArn"):
            function.kms_key_arn = properties["KmsKeyArn"]
        if properties.get("DeadLetterConfig"):
            function.dead_letter_config = dict(properties["DeadLetterConfig"])
        if properties.get("Architectures"):
            function.architectures = list(properties["Architectures"])
        return function

    function_cls.create_from_cloudformation_json = classmethod(create_function)  # type: ignore[assignment]
    original_configuration = function_cls.get_configuration

    def get_configuration(self: Any, on_create: bool = False) -> dict[str, Any]:
        # moto stores the dead-letter target but GetFunctionConfiguration never returned it.
        config = original_configuration(self, on_create)
        if getattr(self, "kms_key_arn", None):
            config["KMSKeyArn"] = self.kms_key_arn
        target = (getattr(self, "dead_letter_config", None) or {}).get("TargetArn")
        if target:
            config["DeadLetterConfig"] = {"TargetArn": target}
        return config

    function_cls.get_configuration = get_configuration
    patch_role_checks()
    patch_layer_model()
    patch_invoke()


def _api_config(function_name: str, properties: dict[str, Any]) -> dict[str, Any]:
    """A function's properties (CloudFormation's or the API's names) as GetFunctionConfiguration names them."""
    config = {key: properties[key] for key in _CONFIG_KEYS if key in properties}
    if "KmsKeyArn" in properties:
        config["KMSKeyArn"] = properties["KmsKeyArn"]
    return {**config, "FunctionName": function_name}


_CONFIG_KEYS = ("Role", "VpcConfig", "TracingConfig", "KMSKeyArn", "Environment", "DeadLetterConfig")


def patch_role_checks() -> None:
    """CreateFunction, UpdateFunctionConfiguration (API and CloudFormation) and
    CreateEventSourceMapping refuse what Lambda refuses about the execution role."""
    backend_cls = lambda_models.LambdaBackend
    original_create = backend_cls.create_function

    def create_function(self: Any, spec: dict[str, Any]) -> Any:
        lambda_role.refuse_at_deploy(
            self.account_id, self.region_name, _api_config(str(spec.get("FunctionName", "")), spec)
        )
        function = original_create(self, spec)
        for key, attribute in (("KMSKeyArn", "kms_key_arn"), ("DeadLetterConfig", "dead_letter_config")):
            if spec.get(key) and not getattr(function, attribute, None):
                setattr(function, attribute, spec[key])
        return function

    backend_cls.create_function = create_function
    original_mapping = backend_cls.create_event_source_mapping

    def create_event_source_mapping(self: Any, spec: dict[str, Any]) -> Any:
        if spec.get("FunctionName") and spec.get("EventSourceArn"):
            function = self._lambdas.get_function_by_name_or_arn_with_qualifier(spec["FunctionName"])
            lambda_role.refuse_mapping(
                self.account_id,
                self.region_name,
                function.function_name,
                function.role,
                str(spec["EventSourceArn"]),
            )
        return original_mapping(self, spec)

    backend_cls.create_event_source_mapping = create_event_source_mapping
    function_cls = lambda_models.LambdaFunction
    original_update = function_cls.update_configuration

    def update_configuration(self: Any, config_updates: dict[str, Any]) -> Any:
        changes = _api_config(self.function_name, config_updates)
        lambda_role.refuse_at_deploy(self.account_id, self.region, {**self.get_configuration(), **changes})
        # moto's update drops these, as its create did
        if "TracingConfig" in changes:
            self.tracing_config = dict(changes["TracingConfig"] or {"Mode": "PassThrough"})
        if "KMSKeyArn" in changes:
            self.kms_key_arn = changes["KMSKeyArn"] or None
        if "DeadLetterConfig" in changes:
            self.dead_letter_config = dict(changes["DeadLetterConfig"] or {})
        return original_update(self, config_updates)

    function_cls.update_configuration = update_configuration


def patch_layer_model() -> None:
    """moto names a layer after its logical id and drops CompatibleArchitectures; CloudFormation
    publishes it under the declared LayerName."""
    layer_cls = lambda_models.LayerVersion

    def create_layer(
        cls: Any,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        properties = cloudformation_json["Properties"]
        # PublishLayerVersion reads the content from S3 as CreateFunction does.
        missing = _missing_code_object(account_id, region_name, properties.get("Content", {}))
        if missing:
            raise InvalidParameterValueException(missing)
        spec = {"Content": properties["Content"], "LayerName": properties.get("LayerName") or resource_name}
        for prop in ("Description", "CompatibleRuntimes", "CompatibleArchitectures", "LicenseInfo"):
            if prop in properties:
                spec[prop] = properties[prop]
        return lambda_models.lambda_backends[account_id][region_name].publish_layer_version(spec)

    layer_cls.create_from_cloudformation_json = classmethod(create_layer)  # type: ignore[assignment]

    def delete_layer(self: Any, account_id: str, region_name: str) -> None:
        # Named as declared, the layers are now visible to the leftover scan: delete them with the stack.
        try:
            lambda_models.lambda_backends[account_id][region_name].delete_layer_version(
                self.name, str(self.version)
            )
        except Exception:
            return

    layer_cls.delete = delete_layer  # type: ignore[attr-defined]
