"""The embedded engine: moto's server in this process on a free loopback port, extended by moto_ext."""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import boto3
from botocore.config import Config

from concert_platform.engines.base import CallFault, Capabilities, DeployedCode, Engine, IamLedger
from concert_platform.errors import ConcertPlatformError, UsageError

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer

    from concert_platform.engines.moto_ext.access_control import Ledger

EMBEDDED_CAPABILITIES = Capabilities(
    runs_function_code=False,
    has_warehouse=True,
    evaluates_alarms=True,
    iam_ledger=True,
    names_failed_functions=True,
    ephemeral=True,
)
#: `concert-platform engine serve` seen from another process (reached as an external endpoint):
#: its functions run here, in the caller's local runtime; its clock and IAM ledger stay in the
#: serving process. Its warehouse is declared by its health document (DECLARABLE_CAPABILITIES).
SERVED_CAPABILITIES = Capabilities(runs_function_code=False, names_failed_functions=True)


# AWS's standard URLs whatever the user's configuration says (an AWS_ENDPOINT_URL, FIPS or
# dual-stack endpoints): moto's URL patterns know those, and nothing leaves the process
_AWS_URLS = Config(
    ignore_configured_endpoint_urls=True,  # type: ignore[call-arg]
    use_fips_endpoint=False,
    use_dualstack_endpoint=False,
)


#: the embedded engines of this process that are running (started, not yet stopped)
_RUNNING: weakref.WeakSet[Any] = weakref.WeakSet()


class EmbeddedEngine(Engine):
    name = "embedded"
    unverifiable_types: ClassVar[dict[str, str]] = {}
    capabilities = EMBEDDED_CAPABILITIES

    def __init__(self, region: str) -> None:
        super().__init__(region, endpoint_url=None)
        self._server: ThreadedMotoServer | None = None
        self._ledger: Ledger | None = None
        #: the decisions on the engine canaries' own sessions, apart from the functions' ledger
        from concert_platform.engines.moto_ext.access_control import Ledger as CanaryLedger

        self.canary_ledger = CanaryLedger()

    def client_as(self, service: str, credentials: Any) -> Any:
        """In process, as this process's own clients: the same handlers and authorisation."""
        if self._server is None:
            return super().client_as(service, credentials)
        from concert_platform.engines.base import _CLIENT_CONFIG

        with self._client_lock:
            client = self.session.client(
                service,  # type: ignore[call-overload]
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
                config=_CLIENT_CONFIG.merge(_AWS_URLS),
            )
        client.meta.events.register("before-send", _dispatch_in_process)
        return client

    def act_as(self, access_key_id: str, label: str, role_arn: str, session_arn: str) -> None:
        from concert_platform.engines.moto_ext.access_control import Session, enforce_session

        enforce_session(access_key_id, Session(label, role_arn, session_arn, self.canary_ledger))

    def evaluate_alarms_now(self, alarm: str | None = None) -> bool:
        from concert_platform.engines.moto_ext.cloudwatch import evaluate_alarms

        evaluate_alarms()
        return True

    def fail_calls(
        self, function: str, action: str, error: str, resource: str = "", times: int | None = 1
    ) -> CallFault:
        from concert_platform.engines.moto_ext import faults

        return faults.arm(faults.CallFault(function, action, error, resource, times))

    def clear_call_fault(self, fault: CallFault) -> None:
        from concert_platform.engines.moto_ext import faults

        if isinstance(fault, faults.CallFault):
            faults.disarm(fault)

    def sns_deliveries(self) -> list[dict[str, Any]]:
        from concert_platform.engines.moto_ext.sns import DELIVERIES

        return list(DELIVERIES)

    def breaks_guarantee(self, guarantee: str) -> bool:
        from concert_platform.engines.moto_ext import faults

        return faults.active(guarantee)

    def _make_session(self) -> boto3.session.Session:
        return boto3.session.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - emulator credentials
            region_name=self.region,
        )

    def _new_client(self, service: str) -> Any:
        """This process's own clients hand their requests straight to moto's request handlers
        (moto's botocore stubber, the path of `mock_aws`): the same backends, handlers and
        authorisation as the served endpoint, without the loopback HTTP round trip per call.
        The functions' worker processes, which sign as their roles, still call the endpoint."""
        if self._server is None:  # not started here: only the endpoint reaches the backends
            return super()._new_client(service)
        from concert_platform.engines.base import _CLIENT_CONFIG

        client = self.session.client(
            service,  # type: ignore[call-overload]
            config=_CLIENT_CONFIG.merge(_AWS_URLS),
        )
        client.meta.events.register("before-send", _dispatch_in_process)
        return client

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        import concert_platform.engines.moto_ext as moto_ext
        from concert_platform.engines.moto_ext import access_control, lambda_runtime

        moto_ext.register()
        # requests signed with a function's assumed-role keys are authorised as IAM would
        access_control.install()
        # a filter pattern another engine could not evaluate is not this engine's finding
        from concert_platform.engines.moto_ext.logs import FILTER_ERRORS

        FILTER_ERRORS.clear()
        # moto logs every skipped or emulated detail at INFO/WARNING; keep the tool's output readable
        logging.getLogger("moto").setLevel(logging.ERROR)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        self._server = server
        self.endpoint_url = f"http://{host}:{port}"
        _RUNNING.add(self)
        lambda_runtime.bind(self)  # functions the engine's services invoke run against it

    def version(self) -> str | None:
        from moto import __version__ as moto_version

        return f"moto {moto_version} (embedded)"

    def settle(self) -> bool:
        from concert_platform.engines.moto_ext.logs import settle_deliveries

        return settle_deliveries()

    def begin_run(self) -> None:
        """A new run's records on what is deployed (the integration layer's fault bed, which applies
        planted faults as updates of one deployment): every function's execution environment is
        stopped, so the next invocation is a cold start of the deployed configuration, as after a
        deploy; the runtime's records (cold starts, init failures, role gaps), the functions' role
        sessions, the IAM ledger and the filter-evaluation errors start empty. The resources and
        their data stay as they are."""
        from concert_platform.engines.function_roles import forget_runs
        from concert_platform.engines.local_lambda import close_runtime
        from concert_platform.engines.moto_ext.logs import FILTER_ERRORS, settle_deliveries

        if not settle_deliveries(timeout=30.0):
            raise RuntimeError("a log subscription delivery was still running 30 s after the last run")
        close_runtime(self)
        forget_runs(self)
        self._ledger = None
        FILTER_ERRORS.clear()

    def stop(self) -> None:
        from concert_platform.engines.moto_ext import lambda_runtime
        from concert_platform.engines.moto_ext.logs import settle_deliveries

        settle_deliveries(timeout=30.0)  # a delivery still running finds its runtime gone otherwise
        lambda_runtime.unbind(self)
        super().stop()  # closes the local Lambda runtime
        if self._server is not None:
            self._server.stop()
            self._server = None
            _RUNNING.discard(self)
            from concert_platform.engines.moto_ext.redshift_data import close_databases

            # the warehouse's databases live as long as the engines of this process: moto's
            # backends are the process's, so another embedded engine still running (the pytest
            # plugin's session engine beside a test's own) keeps them; a deleted workgroup's
            # database goes when the next one is opened (redshift_data `_forget_deleted_owners`)
            if not _RUNNING:
                close_databases()

    # ---- what the harness asks beyond AWS's APIs ------------------------------------------------
    def deployed_code(self) -> DeployedCode:
        from concert_platform.engines.moto_ext import awslambda

        return awslambda  # the engine's Lambda backend is in this process

    def record_invocation(
        self, function: str, log_lines: list[str], duration_ms: float, error: str | None
    ) -> None:
        from concert_platform.engines.moto_ext.lambda_telemetry import record_invocation

        record_invocation(self, function, log_lines, duration_ms, error)

    def _moto_function(self, name_or_arn: str) -> Any | None:
        """moto's model of an unqualified function of this engine's account, by name or ARN; None
        for anything else (a qualified name or ARN, another account, a function moto does not
        know), which then goes through the API and gets its answer and errors."""
        from moto.awslambda.models import lambda_backends
        from moto.core import DEFAULT_ACCOUNT_ID

        parts = name_or_arn.split(":")
        if not (len(parts) == 1 or (len(parts) == 7 and parts[4] == DEFAULT_ACCOUNT_ID)):
            return None
        try:
            return lambda_backends[DEFAULT_ACCOUNT_ID][self.region].get_function(name_or_arn)
        except Exception:  # moto's own not-found: the API says it properly
            return None

    def function_configuration(self, name_or_arn: str) -> dict[str, Any]:
        """Read from moto's Lambda model, as its GetFunctionConfiguration answers it, without the
        request's serialising and parsing: the Lambda runtime asks twice per API request, and
        through the client that was about a tenth of the engine's time in the smoke run's busiest
        flows (py-spy, GIL held, 2026-12-04)."""
        import copy

        function = self._moto_function(name_or_arn)
        if function is None:
            return super().function_configuration(name_or_arn)
        return _as_answered(copy.deepcopy(function.get_configuration()))

    def function_policy(self, name_or_arn: str) -> dict[str, Any] | None:
        """Read from moto's Lambda model (as `function_configuration`): the API stage asks on every
        request. Moto's document, copied."""
        import copy

        function = self._moto_function(name_or_arn)
        if function is None:
            return super().function_policy(name_or_arn)
        if not function.policy.statements:
            return None  # GetPolicy's ResourceNotFoundException
        return copy.deepcopy(dict(function.policy.get_policy()["Policy"]))

    def lambda_role_gaps(self, config: dict[str, Any], log_stream: str) -> list[Any]:
        from concert_platform.engines.moto_ext.lambda_role import role_gaps

        return list(role_gaps(str(config["FunctionArn"]).split(":")[4], self.region, config, log_stream))

    def run_function_for_service(self, function: str, event: dict[str, Any], source: str) -> dict[str, Any]:
        from moto.core import DEFAULT_ACCOUNT_ID

        from concert_platform.engines.moto_ext.lambda_runtime import run_function

        return run_function(function, event, DEFAULT_ACCOUNT_ID, self.region, source=source)

    def advance_clock(self, seconds: float) -> None:
        from concert_platform.engines.moto_ext.clock import CLOCK

        CLOCK.advance(seconds)

    def evaluate_alarms(self) -> None:
        from concert_platform.engines.moto_ext.cloudwatch import evaluate_alarms

        evaluate_alarms()

    def unevaluated_filters(self) -> list[dict[str, Any]]:
        from concert_platform.engines.moto_ext.logs import FILTER_ERRORS

        return list(FILTER_ERRORS)

    def authorise_role_session(
        self, access_key_id: str, function: str, role_arn: str, assumed_role_arn: str
    ) -> None:
        from concert_platform.engines.moto_ext.access_control import Session, enforce_session

        enforce_session(access_key_id, Session(function, role_arn, assumed_role_arn, self._iam_ledger()))

    def _iam_ledger(self) -> Ledger:
        if self._ledger is None:
            from concert_platform.engines.moto_ext.access_control import Ledger

            self._ledger = Ledger()
        return self._ledger

    def iam_ledger(self) -> IamLedger:
        return self._iam_ledger()

    def unused_grants(self, role_arn: str, used_actions: set[str]) -> list[str]:
        from concert_platform.engines.moto_ext.access_control import action_matches, identity_policies_of

        account, partition = role_arn.split(":")[4], role_arn.split(":")[1]
        granted: list[str] = []
        for document in identity_policies_of(role_arn.rsplit("/", 1)[-1], account, partition):
            statements = document.get("Statement", [])
            for statement in statements if isinstance(statements, list) else [statements]:
                if statement.get("Effect") != "Allow" or "Action" not in statement:
                    continue
                value = statement["Action"]
                granted += value if isinstance(value, list) else [value]
        return [
            pattern
            for pattern in sorted(set(granted), key=str.lower)
            if not any(action_matches(pattern, action) for action in used_actions)
        ]


def _as_answered(config: dict[str, Any]) -> dict[str, Any]:
    """moto's configuration as GetFunctionConfiguration answers it: a null member is left out, and
    the integers a template gave through a String parameter ("30") are integers again."""
    answered = {key: value for key, value in config.items() if value is not None}
    for key in ("Timeout", "MemorySize"):
        value = answered.get(key)
        if isinstance(value, str) and value.strip().isdigit():
            answered[key] = int(value)
    return answered


def _dispatch_in_process(request: Any, **_kwargs: Any) -> Any:
    """botocore's before-send hook: moto answers the request; a request moto does not serve is
    an error here, never sent on (the client's URL is AWS's)."""
    from moto.core.botocore_stubber import BotocoreStubber

    global _STUBBER
    if _STUBBER is None:
        _STUBBER = BotocoreStubber()
        _STUBBER.enabled = True
    from concert_platform.interrupt import deferred

    try:
        with deferred():  # a Ctrl-C waits until moto has answered: its state is never half-changed
            response = _STUBBER("before-send", request)
    except ConcertPlatformError:
        raise
    except Exception as exc:
        # A handler that fails unexpectedly answers 500 as the served endpoint does (its web
        # framework turns the exception into one): botocore retries it and then raises the
        # ClientError every caller handles, instead of a bare Python exception
        from botocore.awsrequest import AWSResponse
        from moto.core.botocore_stubber import MockRawResponse

        text = (
            f"Internal Server Error: the embedded engine failed on this request ({type(exc).__name__}: {exc})"
        )
        return AWSResponse(request.url, 500, {"Content-Type": "text/plain"}, MockRawResponse(text))  # type: ignore[arg-type]
    if response is None:
        raise UsageError(f"the embedded engine serves no {request.method} {request.url.split('?')[0]}")
    return response


_STUBBER: Any = None

HEALTH_PATHS = ("/_concert/health", "/_localstack/health")
SERVED_SERVICES = (
    "apigateway", "application-autoscaling", "cloudformation", "cloudtrail", "cloudwatch", "dynamodb",
    "ec2", "events", "glue", "iam", "kinesis", "kms", "lambda", "logs", "redshift-data",
    "redshift-serverless", "s3", "secretsmanager", "sns", "sqs", "sts", "xray",
)  # fmt: skip


def health_document() -> dict[str, object]:
    """What the health routes answer (LocalStack's shape, so its tools' readiness checks work),
    with the capabilities a caller in another process can rely on (DECLARABLE_CAPABILITIES)."""
    from moto import __version__ as moto_version

    return {
        "status": "running",
        "engine": "embedded",
        "edition": "concert-platform embedded (moto " + moto_version + ")",
        "version": f"moto {moto_version} (concert-platform engine serve)",
        "services": dict.fromkeys(SERVED_SERVICES, "running"),
        "capabilities": ["has_warehouse"],  # its Redshift Data API runs SQL (moto_ext.redshift_data)
    }


class _WithHealthRoute:
    """WSGI middleware: answers the health routes, hands everything else to moto."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO")
        if path in HEALTH_PATHS and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            import json

            return _answer(
                start_response, "200 OK", "application/json", json.dumps(health_document()).encode()
            )
        if path in PACKAGE_PATHS and environ.get("REQUEST_METHOD") == "GET":
            return _package(environ, start_response)
        return self.app(environ, start_response)


#: the bytes Lambda holds for a function's code package or a layer version, for a local Lambda
#: runtime in another process (the tool's smoke run against `engine serve`): moto's GetFunction
#: answers a location nothing can download from
PACKAGE_PATHS = ("/_concert/lambda/package", "/_concert/lambda/layer")


class ServedCode:
    """The deployed bytes from `concert-platform engine serve` in another process (its package
    routes), where moto's GetFunction answers a location nothing can download from."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint.rstrip("/")

    def _get(self, route: str, **query: str) -> bytes:
        import urllib.error
        import urllib.parse
        import urllib.request

        url = f"{self.endpoint}/_concert/lambda/{route}?{urllib.parse.urlencode(query)}"
        try:
            with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - the engine's own endpoint
                return bytes(response.read())
        except urllib.error.HTTPError as exc:
            raise LookupError(
                f"the engine at {self.endpoint} has no {route}: {exc.read().decode()[:300]}"
            ) from exc
        except urllib.error.URLError as exc:
            raise OSError(f"the engine at {self.endpoint} cannot serve deployed code: {exc.reason}") from exc

    def deployed_package(self, account_id: str, region_name: str, function_name: str) -> bytes:
        return self._get("package", account=account_id, region=region_name, function=function_name)

    def deployed_layer(self, account_id: str, region_name: str, layer_version_arn: str) -> bytes:
        return self._get("layer", account=account_id, region=region_name, arn=layer_version_arn)


def _answer(start_response: Any, status: str, content_type: str, body: bytes) -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def _package(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    from urllib.parse import parse_qs

    from concert_platform.engines.moto_ext import awslambda

    query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    try:
        if environ["PATH_INFO"].endswith("/package"):
            body = awslambda.deployed_package(query["account"], query["region"], query["function"])
        else:
            body = awslambda.deployed_layer(query["account"], query["region"], query["arn"])
    except Exception as exc:  # a missing function or layer, a bad query: the caller reports it
        return _answer(start_response, "404 Not Found", "text/plain", f"{type(exc).__name__}: {exc}".encode())
    return _answer(start_response, "200 OK", "application/zip", body)


def serve(host: str, port: int, announce: Callable[[str], None]) -> None:
    """Run the embedded engine (moto plus this project's extensions) in the foreground until
    SIGINT or SIGTERM; `announce` gets the endpoint once it accepts connections."""
    import signal
    import threading

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    import concert_platform.engines.moto_ext as moto_ext
    from concert_platform.engines.local_lambda import close_runtime
    from concert_platform.engines.moto_ext import access_control, lambda_runtime

    moto_ext.register()
    access_control.install()
    logging.getLogger("moto").setLevel(logging.ERROR)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    import contextlib
    import io

    said = io.StringIO()
    try:
        # werkzeug prints its own lines and exits 1 when it cannot bind: one line of ours instead
        with contextlib.redirect_stderr(said):
            server = make_server(
                host,
                port,
                _WithHealthRoute(DomainDispatcherApplication(create_backend_app)),
                threaded=True,
                request_handler=MotoRequestHandler,
            )
    except (OSError, SystemExit) as exc:
        why = (said.getvalue().strip().splitlines() or [getattr(exc, "strerror", None) or str(exc)])[0]
        raise UsageError(
            f"cannot listen on {host}:{port} ({why}): stop what listens there, or pick another "
            "port with --port (0 picks a free one)"
        ) from None
    bound_host, bound_port = server.server_address[:2]

    def stop(_signum: int, _frame: Any) -> None:
        # shutdown() waits for serve_forever() to return: it must run on another thread
        threading.Thread(target=server.shutdown, daemon=True).start()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    # functions the served engine's own services invoke (subscription filters, SNS) run here
    from concert_platform.engines.region import default_region

    served = EmbeddedEngine(default_region())
    reachable = "127.0.0.1" if str(bound_host) in ("0.0.0.0", "::") else str(bound_host)  # noqa: S104
    served.endpoint_url = f"http://{reachable}:{bound_port}"
    lambda_runtime.bind(served)
    try:
        announce(f"http://{bound_host!s}:{bound_port}")
        server.serve_forever()
    finally:
        from concert_platform.engines.moto_ext.logs import settle_deliveries

        settle_deliveries(timeout=30.0)  # a delivery still running finds its runtime gone otherwise
        lambda_runtime.unbind(served)
        close_runtime(served)
        server.server_close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
