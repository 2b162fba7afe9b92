"""How the smoke run reaches a deployed platform (`Platform`), and what one check reports.

Where the engine's Lambda runs no code (the embedded engine), API requests enter at the deployed
REST API stage (concert_platform.engines.api_stage: routes, API keys, validators and integrations read
back from the engine) and the functions run in their own isolated execution environments
(concert_platform.engines.local_lambda); elsewhere (LocalStack, AWS) through the deployed API
Gateway stage (with the deployed API key) and Lambda Invoke.
"""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from concert_platform.engines.api_stage import DeployedStage
from concert_platform.engines.base import Engine
from concert_platform.manifest import Manifest
from concert_platform.packaging import default_cache_dir
from concert_platform.target import Target


def runtime_for(engine: Engine, cache_dir: Path) -> Any:
    """The engine's local Lambda runtime (one per engine, closed with it)."""
    return engine.function_runtime(cache_dir)


@dataclass
class FlowResult:
    """One named verdict of a smoke flow (a flow returns one or several)."""

    name: str
    ok: bool
    detail: str
    #: not run on this engine (the detail says why): counted and reported as skipped, never as passed
    skipped: bool = False


#: the header in which LocalStack with this project's extension names a failed integration's
#: function and Lambda error (localstack-ext/concert_localstack_ext/apigateway_responses.py)
INTEGRATION_ERROR_HEADER = "x-concert-integration-error"


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: Any
    #: why the API answered 5xx, when the engine can tell (the function and its Lambda error)
    error: str | None = None


class Platform:
    """How the smoke run reaches the deployed functions on one engine."""

    def __init__(
        self, engine: Engine, manifest: Manifest, environment: str, cache_dir: Path | None = None
    ) -> None:
        self.engine = engine
        self.environment = environment
        #: the deployed platform's manifest (templates, api doc): the flows read this one, never the
        #: default project's, which differs from it under `e2e --base`, the plugin's project option
        #: and the integration layer's fault bed
        self.manifest = manifest
        #: (stack key, output key) of every deployed function, read from the templates' outputs
        self.function_outputs = manifest.function_outputs()
        #: the deployed environment: stack names from the manifest, outputs read once
        self.target = Target(engine, manifest, environment)
        self._operator = self.target.reader
        self._stack_names = list(self.target.stack_names().values())
        self._resources: list[tuple[str, str]] | None = None  # (type, physical id), listed once
        self.outputs = self.target.outputs()
        self.parameters = {
            spec.key: {
                p["ParameterKey"]: p.get("ParameterValue", "")
                for p in (self.target.describe(spec.key) or {}).get("Parameters", [])
            }
            for spec in manifest.stacks
        }
        self.local = not engine.runs_function_code
        # the engine's runtime, shared with the functions its own services invoke (closed with it)
        self.runtime = (
            runtime_for(engine, cache_dir or default_cache_dir(manifest.root)) if self.local else None
        )
        self._stage: DeployedStage | None = None
        self._api_key: str | None = None

    def function_names(self) -> list[str]:
        """The names of this environment's deployed functions (an output not deployed is left out)."""
        return deployed_functions(self.outputs, self.function_outputs)

    def out(self, stack: str, key: str) -> str:
        value = self.outputs.get(stack, {}).get(key)
        if not value:
            raise LookupError(f"the {stack} stack has no {key} output")
        return value

    def own(self, resource_type: str) -> set[str]:
        """The physical ids of this environment's resources of one type, read from its stacks:
        an engine shared by several environments answers a listing with all of theirs."""
        if self._resources is None:
            found: list[tuple[str, str]] = []
            for name in self._stack_names:
                with contextlib.suppress(ClientError):  # a stack not deployed holds nothing
                    found += self._operator.stack_resources(name)
            self._resources = found
        return {physical for kind, physical in self._resources if kind == resource_type}

    def close(self) -> None:
        """Nothing to release: the engine's Lambda runtime lives as long as the engine."""

    def __enter__(self) -> Platform:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ---- invoking functions --------------------------------------------------------------------
    def invoke(self, stack: str, function_output: str, event: dict[str, Any]) -> dict[str, Any]:
        name = self.out(stack, function_output)
        if self.runtime is not None:
            outcome = self.runtime.invoke(name, event)
            if not outcome.ok:
                raise RuntimeError(outcome.describe_error())
            result: dict[str, Any] = outcome.result if isinstance(outcome.result, dict) else {}
            return result
        response = self.engine.client("lambda").invoke(FunctionName=name, Payload=json.dumps(event).encode())
        payload = json.loads(response["Payload"].read() or b"{}")
        if response.get("FunctionError"):
            raise RuntimeError(f"{name} failed: {payload}")
        return payload if isinstance(payload, dict) else {"result": payload}

    # ---- calling the API -----------------------------------------------------------------------
    def stage(self) -> DeployedStage:
        """The deployed API stage served on the embedded engine."""
        if self._stage is None:
            runtime = self.runtime
            assert runtime is not None, "only an engine whose Lambda runs no code serves its API in-process"
            api_id, stage = self.out("compute", "ApiId"), self.out("compute", "ApiStageName")
            try:
                self._stage = DeployedStage(self.engine, api_id, stage, runtime.invoke, runtime.routes)
            except ClientError as exc:
                raise RuntimeError(
                    f"the deployed API {api_id} (stage {stage}) cannot be read: {exc}"
                ) from exc
        return self._stage

    def api_key(self) -> str:
        if self._api_key is None:
            key_id = self.out("compute", "ApiKeyId")
            self._api_key = self.engine.client("apigateway").get_api_key(apiKey=key_id, includeValue=True)[
                "value"
            ]
        return self._api_key

    def call_api(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: dict[str, str] | None = None,
        raw_body: str | None = None,
        with_key: bool = True,
    ) -> HttpResponse:
        payload = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
        headers = {"content-type": "application/json"}
        if with_key:
            headers["x-api-key"] = self.api_key()
        if self.local:
            response = self.stage().request(method, path, headers=headers, query=query, body=payload)
            return HttpResponse(
                response.status, response.headers, _json_or_text(response.body), response.error
            )
        return self._http(method, path, payload, query, headers)

    def _http(
        self, method: str, path: str, data: str | None, query: dict[str, str] | None, headers: dict[str, str]
    ) -> HttpResponse:
        api_id, stage = self.out("compute", "ApiId"), self.out("compute", "ApiStageName")
        base = self.engine.api_base_url(api_id, stage, self.out("compute", "ApiEndpointUrl"))
        url = base + path + ("?" + urllib.parse.urlencode(query) if query else "")
        request = urllib.request.Request(  # noqa: S310 - our own API endpoint, http(s) only
            url, data=data.encode() if data else None, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own API endpoint
                return HttpResponse(
                    response.status,
                    {k.lower(): v for k, v in response.headers.items()},
                    _json_or_text(response.read().decode()),
                )
        except urllib.error.HTTPError as error:
            headers = {k.lower(): v for k, v in error.headers.items()}
            return HttpResponse(
                error.code,
                headers,
                _json_or_text(error.read().decode()),
                # the failed function and its Lambda error, where the engine names them
                headers.get(INTEGRATION_ERROR_HEADER)
                if self.engine.capabilities.names_failed_functions
                else None,
            )


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def deployed_functions(
    outputs: dict[str, dict[str, str]], function_outputs: tuple[tuple[str, str], ...]
) -> list[str]:
    """The function names the stacks' outputs hold, in `function_outputs` order."""
    names = [outputs.get(stack, {}).get(output) for stack, output in function_outputs]
    return [name for name in names if name]
