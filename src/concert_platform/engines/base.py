"""What every engine offers: boto3 clients for one region and endpoint, its capabilities, and the
few things the harness asks of an engine beyond AWS's own APIs (each "not supported" by default).

The harness decides by `engine.capabilities`, never by `engine.name`: a new engine (or LocalStack
with this project's extension) declares what it can do and every flow follows.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Protocol
from urllib.parse import urlparse

import boto3
from botocore.config import Config

from concert_platform.errors import ConcertPlatformError, UsageError

if TYPE_CHECKING:
    from concert_platform.engines.local_lambda import LocalLambdaRuntime

_CLIENT_CONFIG = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=60)


@dataclass(frozen=True)
class Capabilities:
    """What differs between engines, as the harness asks it (defaults: real AWS's answers where
    they are about AWS, "no" where they are about an emulator's extras)."""

    #: Lambda runs the functions' code; False (moto without Docker): the engine's local Lambda
    #: runtime runs them (`function_runtime`) and the API stage is served in this process
    runs_function_code: bool = True
    #: the Redshift Data API runs SQL, so the warehouse and the data routes' warehouse source are
    #: asserted (LocalStack's free tier has no Redshift Data API)
    has_warehouse: bool = False
    #: the engine's clock can be advanced and its CloudWatch evaluates alarms on demand
    #: (`advance_clock`, `evaluate_alarms`): the smoke run's alarm flows
    evaluates_alarms: bool = False
    #: calls signed with a function's role keys are authorised against the role and every
    #: decision recorded (`authorise_role_session`, `iam_ledger`, `unused_grants`)
    iam_ledger: bool = False
    #: IAM is evaluated where AWS evaluates it: a deploy whose function role lacks a permission
    #: Lambda needs (CreateNetworkInterface for a VPC function) fails, and an API method a
    #: function's resource policy does not allow answers 500 (community LocalStack: no)
    enforces_iam: bool = True
    #: an API's 5xx for a failed Lambda proxy integration says which function failed and its Lambda
    #: error (AWS keeps that in API Gateway's execution log, not in the answer): the embedded
    #: engine's in-process stage; LocalStack with this project's extension (a response header)
    names_failed_functions: bool = False
    #: lives only as long as this process: nothing deployed on it outlives the run (`--keep` is refused)
    ephemeral: bool = False
    #: seconds between CloudFormation status polls
    poll_seconds: float = 0.05
    #: services this engine may not offer (an edition or region without them): a leftover kind of
    #: theirs that cannot be listed is left to verification, not reported as unlistable
    optional_services: frozenset[str] = field(default_factory=frozenset)


#: what an engine that reports nothing more about itself can do (real AWS, in short)
DEFAULT_CAPABILITIES = Capabilities()
#: capability names an external endpoint may declare in its health document's "capabilities" list
#: (the served embedded engine does; LocalStack with this project's extension can)
DECLARABLE_CAPABILITIES = ("has_warehouse", "names_failed_functions")


class EngineLacksCapability(ConcertPlatformError):
    """The harness asked an engine for something its capabilities say it cannot do."""


class IamLedger(Protocol):
    """An engine's record of the calls made with functions' role keys (`Capabilities.iam_ledger`)."""

    def denied(self) -> list[Any]: ...

    def used(self, role_arn: str) -> set[tuple[str, str]]: ...

    def used_by(self, function: str) -> set[tuple[str, str]]: ...


#: the `error` of `Engine.fail_calls` that makes a Redshift Data API statement end FAILED
STATEMENT_FAILED = "statement FAILED"


class CallFault(Protocol):
    """A fault armed by `Engine.fail_calls`: `hits` lists the (action, resource) of each call it failed."""

    @property
    def hits(self) -> list[tuple[str, str]]: ...


class DeployedCode(Protocol):
    """The bytes the engine's Lambda holds for a function's code package and a layer version."""

    def deployed_package(self, account_id: str, region_name: str, function_name: str) -> bytes: ...

    def deployed_layer(self, account_id: str, region_name: str, layer_version_arn: str) -> bytes: ...


class Engine:
    name = "engine"
    #: resource type -> why this engine cannot show such a resource back (verification exemptions)
    unverifiable_types: ClassVar[Mapping[str, str]] = {}
    capabilities: Capabilities = DEFAULT_CAPABILITIES
    #: engine guarantee (concert_platform.canaries.GUARANTEES) -> why this engine cannot be held to
    #: it; its canaries then report skip with that reason. Empty: held to every guarantee, as AWS.
    canary_exemptions: ClassVar[Mapping[str, str]] = {}
    #: resource type -> declared property -> why this engine accepts it and does not apply it (a
    #: committed, documented list of known engine gaps). A resource whose every mismatch is listed
    #: here is reported as a 'known engine gap': not verified, not a failure; the run then says it
    #: is not a full verification. Empty: every mismatch fails the run.
    known_gaps: ClassVar[Mapping[str, Mapping[str, str]]] = {}

    def __init__(self, region: str, endpoint_url: str | None = None) -> None:
        self.region = region
        self.endpoint_url = endpoint_url
        self._session: boto3.session.Session | None = None
        self._clients: dict[str, Any] = {}
        # boto3 sessions are not thread-safe; clients are. Several threads ask for clients at once
        # (the Lambda runtime's cold starts run beside verification), so creation is serialised.
        self._client_lock = threading.RLock()

    # Engines that need credentials of their own (emulators) override this.
    def _make_session(self) -> boto3.session.Session:
        return boto3.session.Session(region_name=self.region)

    @property
    def session(self) -> boto3.session.Session:
        if self._session is None:
            self._session = self._make_session()
        return self._session

    def client(self, service: str) -> Any:
        client = self._clients.get(service)
        if client is None:
            with self._client_lock:
                client = self._clients.get(service)
                if client is None:
                    client = self._clients[service] = self._new_client(service)
        return client

    def function_configuration(self, name_or_arn: str) -> dict[str, Any]:
        """Lambda's GetFunctionConfiguration for one function (unqualified: $LATEST). Engines
        that hold the functions in-process read it directly (the embedded engine's Lambda
        runtime asks for it on every invocation); a missing function raises the API's ClientError."""
        return dict(self.client("lambda").get_function_configuration(FunctionName=name_or_arn))

    def function_policy(self, name_or_arn: str) -> dict[str, Any] | None:
        """The function's resource-based policy as a document (Lambda's GetPolicy), or None when
        it has none (or cannot be read). The API stage asks on every request it invokes."""
        from botocore.exceptions import ClientError

        try:
            policy = self.client("lambda").get_policy(FunctionName=name_or_arn)["Policy"]
        except ClientError:
            return None
        document: dict[str, Any] = json.loads(policy)
        return document

    def _new_client(self, service: str) -> Any:
        return self.session.client(
            service,
            endpoint_url=self.endpoint_url,
            config=_CLIENT_CONFIG,  # type: ignore[call-overload]
        )

    def start(self) -> None:
        """Make the engine reachable; raise UsageError (exit 2) when it is not."""
        if self.endpoint_url:
            require_reachable(self.endpoint_url)

    def settle(self) -> bool:
        """Wait until what the engine runs on its own after a call has run (the embedded engine's
        asynchronous log subscription deliveries); False when it was still running after a minute.
        Nothing to wait for by default (a remote engine's asynchronous work is polled for by
        whoever reads its effects, as on AWS)."""
        return True

    def stop(self) -> None:
        from concert_platform.engines.local_lambda import close_runtime

        close_runtime(self)  # a local Lambda runtime lives as long as its engine
        self._clients.clear()

    @property
    def runs_function_code(self) -> bool:
        return self.capabilities.runs_function_code

    def function_path(self) -> str:
        """Which path runs the functions' code in the smoke run, for its report."""
        if self.capabilities.runs_function_code:
            return f"the {self.name} engine's Lambda"
        return "in process: the tool's isolated worker runs the code the engine's Lambda holds"

    def known_gap(self, resource_type: str, mismatches: list[str]) -> str | None:
        """Why every mismatch of a resource is a known gap of this engine, or None when any is not."""
        listed = self.known_gaps.get(resource_type, {})
        reasons: dict[str, str] = {}
        for mismatch in mismatches:
            prop = mismatch.split(":", 1)[0].split(".", 1)[0].strip()
            if prop not in listed:
                return None
            reasons[prop] = listed[prop]
        return "; ".join(f"{prop}: {why}" for prop, why in reasons.items()) if reasons else None

    # ---- what the harness asks beyond AWS's APIs (not supported unless a capability says so) ----
    def _lacks(self, what: str) -> EngineLacksCapability:
        return EngineLacksCapability(f"the {self.name} engine cannot {what}")

    def api_base_url(self, api_id: str, stage: str, deployed_url: str) -> str:
        """Where the deployed REST API stage answers (default: the stack's own invoke URL)."""
        del api_id, stage
        return deployed_url

    def function_runtime(self, cache_dir: Path | None = None) -> LocalLambdaRuntime:
        """The engine's one local Lambda runtime (where `runs_function_code` is False), shared by
        the smoke run and the functions the engine's own services invoke; closed with the engine.
        `cache_dir` holds the layers' distributions built for this interpreter."""
        if self.capabilities.runs_function_code:
            raise self._lacks("run functions locally: its Lambda runs their code")
        from concert_platform.engines.local_lambda import runtime_for

        return runtime_for(self, cache_dir)

    def deployed_code(self) -> DeployedCode:
        """The function packages and layers the engine's Lambda holds, for the local runtime."""
        raise self._lacks("hand out its functions' deployed code")

    def record_invocation(
        self, function: str, log_lines: list[str], duration_ms: float, error: str | None
    ) -> None:
        """Lambda's logs and metrics of a local invocation (an engine whose Lambda runs code records its own)."""
        del function, log_lines, duration_ms, error

    def lambda_role_gaps(self, config: dict[str, Any], log_stream: str) -> list[Any]:
        """What Lambda itself does as a function's execution role (writes its logs, manages a VPC
        function's ENIs, sends traces, decrypts its environment, sends to its dead-letter target,
        polls its event sources) that the role does not allow now, for the local runtime's cold
        start; each has `describe()`, `action`, `resource`, `error_type` and `message`. An engine
        whose IAM this tool cannot read reports none (where Lambda runs the code, it checks itself)."""
        del config, log_stream
        return []

    def run_function_for_service(self, function: str, event: dict[str, Any], source: str) -> dict[str, Any]:
        """Invoke a function as one of the engine's services would; returns Lambda's payload or
        `{"errorType", "errorMessage"}`."""
        raise self._lacks(f"invoke {function} for {source}")

    def advance_clock(self, seconds: float) -> None:
        raise self._lacks("advance its clock")

    def evaluate_alarms(self) -> None:
        raise self._lacks("evaluate its alarms on demand")

    def unevaluated_filters(self) -> list[dict[str, Any]]:
        """Metric and subscription filters whose pattern the engine could not evaluate
        (`{"filterName", "logGroup", "error"}`); an engine that reports none has none to report."""
        return []

    def authorise_role_session(
        self, access_key_id: str, function: str, role_arn: str, assumed_role_arn: str
    ) -> None:
        """Authorise every call signed with these assumed-role keys against the role, recorded in
        the ledger (`Capabilities.iam_ledger`); elsewhere the engine's own IAM decides, unrecorded."""
        del access_key_id, function, role_arn, assumed_role_arn

    def iam_ledger(self) -> IamLedger:
        raise self._lacks("record IAM decisions")

    def unused_grants(self, role_arn: str, used_actions: set[str]) -> list[str]:
        """The Action patterns of the role's Allow statements that none of `used_actions` matches."""
        raise self._lacks("read IAM grants")

    # ---- what the engine canaries (concert_platform.canaries) ask of an engine ------------------
    def canary_exemption(self, guarantee: str) -> str | None:
        """Why this engine cannot be held to `guarantee` (the canary reports skip), or None."""
        return self.canary_exemptions.get(guarantee)

    def client_as(self, service: str, credentials: Mapping[str, str]) -> Any:
        """A client of this engine signed with other credentials (STS AssumeRole's keys)."""
        with self._client_lock:  # the session is shared and not thread-safe
            return self.session.client(
                service,  # type: ignore[call-overload]
                endpoint_url=self.endpoint_url,
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
                config=_CLIENT_CONFIG,
            )

    def act_as(self, access_key_id: str, label: str, role_arn: str, session_arn: str) -> None:
        """Calls signed with these assumed-role keys are authorised as IAM would. Engines that
        enforce IAM themselves (AWS) need nothing; an emulator that enforces it per session does."""

    def evaluate_alarms_now(self, alarm: str | None = None) -> bool:
        """Evaluate every metric alarm now where the engine can be asked to, True when `alarm`
        (if named) was among them; False where alarms are evaluated on the engine's own schedule
        (AWS: each period), so a caller waits."""
        return False

    # ---- what the smoke run's failure flows (concert_platform.smoke.failures) ask of an engine ---
    def fail_calls(
        self, function: str, action: str, error: str, resource: str = "", times: int | None = 1
    ) -> CallFault:
        """Make the next `times` calls of IAM `action` (e.g. `dynamodb:GetItem`) that `function`
        makes, on a resource ARN containing `resource`, fail with the AWS error code `error` (every
        such call until `clear_call_fault` when `times` is None). `STATEMENT_FAILED` makes a Data API
        statement end FAILED. Not supported by default: the failure flows then report skip."""
        del function, action, error, resource, times
        raise self._lacks("fail a chosen call of one function (dependency failure flows)")

    def clear_call_fault(self, fault: CallFault) -> None:
        """Disarm a fault from `fail_calls` (whether or not it was hit)."""
        del fault

    def sns_deliveries(self) -> list[dict[str, Any]]:
        """Every SNS delivery the engine made, in order, to any subscriber (e-mail included):
        `{"topic", "protocol", "endpoint", "message", "ok", "error"}` (the alert routing flow)."""
        raise self._lacks("show what SNS delivered to each subscriber")

    def breaks_guarantee(self, guarantee: str) -> bool:
        """TEST-ONLY: whether a test switched one of the engine's guarantees off (only the embedded
        engine has such a switch; see engines/moto_ext/faults.py)."""
        return False

    def version(self) -> str | None:
        """What the engine says it is, for the reports; None where it reports no version."""
        return None

    def describe(self) -> dict[str, Any]:
        return {"engine": self.name, "region": self.region, "endpoint_url": self.endpoint_url}

    def __enter__(self) -> Engine:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def require_reachable(endpoint_url: str, timeout: float = 3.0) -> None:
    parsed = urlparse(endpoint_url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise UsageError(f"invalid endpoint URL {endpoint_url!r}: use http(s)://host:port")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname, port), timeout=timeout):
            pass
    except OSError as exc:
        raise UsageError(
            f"endpoint {endpoint_url} is unreachable ({exc.strerror or exc}); start the engine "
            "(for LocalStack: docker compose -f docker-compose.localstack.yml up -d) or fix --endpoint-url"
        ) from None
