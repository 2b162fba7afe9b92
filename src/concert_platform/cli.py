"""The `concert-platform` console script: policy, deploy, destroy, status, outputs, e2e, graph."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.table import Table
from rich.text import Text

from concert_platform.console import output_console
from concert_platform.errors import ConcertPlatformError, UsageError
from concert_platform.interrupt import Interrupted

#: the engine every command (deploy, destroy, status, outputs) asks when --engine is not given
DEFAULT_ENGINE = "embedded"


def _add_project_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--project",
        type=Path,
        metavar="DIR",
        help="the platform to use: a directory holding stacks.yaml, templates/ and handlers/ "
        "(default: $CONCERT_PLATFORM_HOME, else the checkout containing the current directory, "
        "else the copy installed with the tool)",
    )


def _add_target_arguments(parser: argparse.ArgumentParser) -> None:
    _add_project_argument(parser)
    parser.add_argument(
        "--environment", "-e", default="development", help="environment slug (default: development)"
    )
    from concert_platform.engines import ENGINE_NAMES, default_region

    parser.add_argument("--region", "-r", default=default_region())
    parser.add_argument(
        "--engine", choices=ENGINE_NAMES, default=DEFAULT_ENGINE, help=f"default: {DEFAULT_ENGINE}"
    )
    parser.add_argument("--endpoint-url", help="override the engine's endpoint (e.g. http://localhost:4566)")


def _add_deploy_arguments(parser: argparse.ArgumentParser) -> None:
    _add_target_arguments(parser)
    parser.add_argument("--parameters-file", type=Path, help="JSON/YAML of input or ParameterKey values")
    parser.add_argument(
        "--only", nargs="+", metavar="STACK", help="deploy only these stacks (keys from stacks.yaml)"
    )
    parser.add_argument(
        "--yes", "-y", action="store_true", help="answer yes to confirmations (replace failed stacks)"
    )
    parser.add_argument("--alert-email", help="e-mail subscribed to the alert topics (or ALERT_EMAIL)")
    parser.add_argument("--bedrock-agent-id", help="Bedrock agent id (or BEDROCK_AGENT_ID)")
    parser.add_argument("--bedrock-agent-alias-id", help="Bedrock agent alias id (or BEDROCK_AGENT_ALIAS_ID)")
    parser.add_argument("--log-retention-days", help="log retention outside production (default 7)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON on stdout")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="concert-platform",
        description="Deploy, verify and police the Concert Data Platform's six CloudFormation stacks.",
    )
    from concert_platform.e2e import tool_version

    parser.add_argument("--version", action="version", version=f"concert-platform {tool_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    from concert_platform.policy import command as policy_command

    policy = commands.add_parser("policy", help="run cfn-lint, checkov and our checks over templates")
    policy_command.add_arguments(policy)
    _add_project_argument(policy)
    policy.set_defaults(handler=policy_command.run)

    deploy = commands.add_parser(
        "deploy",
        help="create or update the stacks in order through change sets",
        description="The Redshift master password comes from REDSHIFT_MASTER_PASSWORD, --parameters-file or a "
        "prompt (never a flag: flags show up in process lists and shell history).",
    )
    _add_deploy_arguments(deploy)
    deploy.add_argument(
        "--load-sample-data", action="store_true", help="load the deterministic sample data set"
    )
    deploy.set_defaults(handler=_run_deploy)

    destroy = commands.add_parser("destroy", help="empty the buckets and delete the stacks in reverse order")
    _add_target_arguments(destroy)
    destroy.add_argument("--only", nargs="+", metavar="STACK")
    destroy.add_argument(
        "--yes", "-y", action="store_true", help="do not ask (required for production without a terminal)"
    )
    destroy.add_argument("--json", action="store_true")
    destroy.set_defaults(handler=_run_destroy)

    status = commands.add_parser("status", help="show each stack's status")
    _add_target_arguments(status)
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=_run_status)

    outputs = commands.add_parser("outputs", help="show each stack's outputs")
    _add_target_arguments(outputs)
    outputs.add_argument("--json", action="store_true")
    outputs.set_defaults(handler=_run_outputs)

    from concert_platform import e2e

    e2e_parser = commands.add_parser("e2e", help="deploy, verify every resource, smoke-test, destroy")
    e2e.add_arguments(e2e_parser)
    _add_project_argument(e2e_parser)
    e2e_parser.set_defaults(handler=e2e.run)

    engine_parser = commands.add_parser("engine", help="run the embedded engine for other tools")
    engine_commands = engine_parser.add_subparsers(dest="engine_command", required=True, metavar="ACTION")
    serve = engine_commands.add_parser(
        "serve",
        help="serve the embedded engine on a port until interrupted",
        description="The embedded engine (moto with this project's extensions) as a standalone endpoint "
        "for awslocal, localstack-client, `--engine localstack --endpoint-url`, or a second terminal. "
        "Health: GET /_concert/health (also /_localstack/health). Stops cleanly on Ctrl-C or SIGTERM.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument(
        "--port", type=int, default=4566, help="port to listen on (default: 4566; 0 picks one)"
    )
    _add_project_argument(serve)
    serve.set_defaults(handler=_run_engine_serve)

    from concert_platform import localstack_runtime

    localstack_parser = commands.add_parser(
        "localstack", help="start, stop or check LocalStack on this machine (no Docker)"
    )
    localstack_runtime.add_arguments(localstack_parser)

    from concert_platform import graph

    graph_parser = commands.add_parser("graph", help="write the stack dependency graph as Mermaid")
    graph.add_arguments(graph_parser)
    _add_project_argument(graph_parser)
    graph_parser.set_defaults(handler=graph.run)
    return parser


def stderr_console() -> Console:
    from concert_platform.console import output_console

    return output_console(stderr=True)


def confirm_on_terminal(yes: bool) -> Callable[[str], bool]:
    def confirm(question: str) -> bool:
        if yes:
            return True
        if not sys.stdin.isatty():
            return False
        answer = input(f"{question} [y/N] ").strip().lower()
        return answer in ("y", "yes")

    return confirm


def _prepare(args: argparse.Namespace) -> tuple[Any, Any]:
    """Validate the target before touching anything (target.prepare_target, as e2e and the pytest
    plugin do); returns (manifest, engine)."""
    target = _target(args)
    return target.manifest, target.engine


def _target(args: argparse.Namespace) -> Any:
    from concert_platform.target import prepare_target

    return prepare_target(
        args.engine, args.environment, args.region, args.endpoint_url, only=getattr(args, "only", None)
    )


def inputs_before_engine(manifest: Any, engine: Any, args: argparse.Namespace, flags: Any) -> dict[str, str]:
    """Check the deploy inputs before the engine starts (an engine takes seconds to start).

    On an ephemeral engine nothing exists yet, so every input of the selected stacks is needed
    now: a missing one is asked for (on a terminal) or refused here, and the answers are handed
    to the deploy as environment values so nothing is asked twice. Elsewhere which inputs are
    needed depends on the stacks that exist; the values given are still checked now."""
    from concert_platform.inputs import read_parameters_file, resolve_inputs

    stacks = manifest.select(args.only)
    ephemeral = engine.capabilities.ephemeral
    required = set().union(*(s.input_names() for s in stacks))
    values = resolve_inputs(
        manifest.inputs_for(stacks),
        flags=flags,
        file_values=read_parameters_file(args.parameters_file, manifest) if args.parameters_file else {},
        skip_required=set() if ephemeral else required,
        environ=os.environ,
        interactive=None if ephemeral else False,
    )
    if not ephemeral:
        return dict(os.environ)
    return {**os.environ, **{manifest.inputs[name].env: value for name, value in values.items()}}


def ephemeral_note(engine: Any, what: str) -> str | None:
    """What an operator should know about an engine that ends with the command, or None."""
    if not engine.capabilities.ephemeral:
        return None
    return (
        f"note: the {engine.name} engine lives only as long as this command: {what}; for stacks "
        "that stay, run `concert-platform engine serve` and use --engine localstack "
        "--endpoint-url http://127.0.0.1:4566"
    )


def _run_deploy(args: argparse.Namespace) -> int:
    from concert_platform.workflow import deploy_environment

    manifest, engine = _prepare(args)
    flags = {
        "alert_email": args.alert_email,
        "bedrock_agent_id": args.bedrock_agent_id,
        "bedrock_agent_alias_id": args.bedrock_agent_alias_id,
        "log_retention_days": args.log_retention_days,
    }
    environ = inputs_before_engine(manifest, engine, args, flags)
    console = stderr_console()
    with engine:
        report = deploy_environment(
            engine,
            manifest,
            args.environment,
            only=args.only,
            flags=flags,
            parameters_file=args.parameters_file,
            confirm=confirm_on_terminal(args.yes),
            console=console,
            load_sample=args.load_sample_data,
            environ=environ,
        )
    note = ephemeral_note(engine, "the stacks it deployed are gone when it exits")
    if note:
        console.print(note, soft_wrap=True)
    if args.json:
        print(json.dumps(report, indent=2))
    return 0 if report["ok"] else 1


def _run_destroy(args: argparse.Namespace) -> int:
    from concert_platform.workflow import destroy_environment

    manifest, engine = _prepare(args)
    if args.environment in manifest.protected_environments and not args.yes:
        if not sys.stdin.isatty():
            raise UsageError(
                f"refusing to destroy {args.environment} (a protected environment) without a terminal "
                "to confirm: pass --yes if you mean it"
            )
        typed = input(
            f"This deletes every {args.environment} stack and empties its buckets. "
            f"Type '{args.environment}' to go on: "
        )
        if typed.strip() != args.environment:
            raise UsageError(f"{args.environment} destroy cancelled")
    from concert_platform.leftovers import load_recorded, merge, save_recorded, still_there
    from concert_platform.teardown import (
        RETAINED_BY_DESIGN,
        confirm_gone,
        describe_remaining,
        find_leftovers,
        record_inventory,
        remove_and_confirm,
    )

    console = stderr_console()
    with engine:
        selected = {spec.key for spec in manifest.select(args.only)}
        inventory = [i for i in record_inventory(engine, manifest, args.environment) if i.stack in selected]
        # what an earlier teardown of this environment could not remove (its stacks may be gone)
        earlier = [i for i in load_recorded(engine, args.environment) if i.stack in selected]
        inventory = merge(inventory, earlier)
        report = destroy_environment(engine, manifest, args.environment, only=args.only, console=console)
        # a failed stack deletion, or leftovers of an earlier one: removed through each service
        remaining, confirmed, removed_directly, not_removed = remove_and_confirm(
            engine, inventory, *confirm_gone(engine, inventory)
        )
        report["failures"] += [f"not removable: {line}" for line in not_removed]
        # records of stacks outside --only stay recorded for a later destroy
        others = [i for i in load_recorded(engine, args.environment) if i.stack not in selected]
        kept = save_recorded(engine, args.environment, [*still_there(inventory, remaining), *others])
        unrecorded: list[str] = []
        if not args.only:  # the whole environment: anything still named for it is a leftover
            recorded_ids = {item.physical_id for item in inventory}
            unrecorded = [
                item
                for item in find_leftovers(engine, args.environment)
                if ": could not list (" not in item and item.split(": ", 1)[-1] not in recorded_ids
            ]
    report["remaining"] = remaining
    report["unrecorded_leftovers"] = unrecorded
    report["ok"] = report["ok"] and not unrecorded
    for item in unrecorded:
        console.print(
            f"[red]still there[/red] {item} (named for {args.environment}, recorded by no teardown: "
            "remove it through its service)",
            soft_wrap=True,
        )
    report["removed_directly"] = removed_directly
    report["ok"] = report["ok"] and not remaining
    for row in remaining:
        console.print(f"[red]still there[/red] {describe_remaining(row)}", soft_wrap=True)
    if kept is not None:
        console.print(
            f"recorded in {kept}: run destroy again to remove what is left once the cause is fixed",
            soft_wrap=True,
        )
    retained = sum(1 for i in inventory if i.type in RETAINED_BY_DESIGN)
    if report["ok"]:
        console.print(
            f"destroyed: {confirmed} of {len(inventory)} recorded resources confirmed gone"
            + (f" ({retained} retained by design)" if retained else "")
            + (f", {len(earlier)} of them left by an earlier teardown" if earlier else "")
            + (f", {removed_directly} removed directly" if removed_directly else ""),
            soft_wrap=True,
        )
    if args.json:
        print(json.dumps(report, indent=2))
    return 0 if report["ok"] else 1


def _run_engine_serve(args: argparse.Namespace) -> int:
    from concert_platform.engines.embedded import HEALTH_PATHS, serve

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is not a port number (0-65535)")

    def announce(endpoint: str) -> None:
        print(f"embedded engine serving on {endpoint}", flush=True)
        stderr_console().print(
            f"health: {endpoint}{HEALTH_PATHS[0]}; use it with --engine localstack --endpoint-url {endpoint} "
            f"or AWS_ENDPOINT_URL={endpoint}; Ctrl-C stops it",
            soft_wrap=True,
        )

    serve(args.host, args.port, announce)
    stderr_console().print("embedded engine stopped")
    return 0


def _engine_label(engine: Any) -> str:
    return f"{engine.name} ({engine.endpoint_url})" if engine.endpoint_url else engine.name


def _say_engine_asked(engine: Any, args: argparse.Namespace) -> None:
    """status and outputs name the engine they ask (stderr, so --json stays one document); on an
    engine that starts empty they say so."""
    console = stderr_console()
    console.print(f"asking the {_engine_label(engine)} engine in {engine.region}", soft_wrap=True)
    note = ephemeral_note(engine, "it starts empty, so it shows no stack another command deployed")
    if note:
        console.print(note, soft_wrap=True)


def _run_status(args: argparse.Namespace) -> int:
    target = _target(args)
    engine = target.engine
    _say_engine_asked(engine, args)
    with engine:
        rows = []
        for key, name in target.stack_names().items():
            stack = target.describe(key)
            rows.append(
                {
                    "key": key,
                    "name": name,
                    "status": stack["StackStatus"] if stack else "NOT_DEPLOYED",
                    "updated": str(stack.get("LastUpdatedTime") or stack.get("CreationTime"))
                    if stack
                    else "",
                    "reason": (stack or {}).get("StackStatusReason", ""),
                }
            )
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        table = Table(
            "stack",
            "name",
            "status",
            "updated",
            "reason",
            title=f"{args.environment} on {_engine_label(engine)}",
        )
        for row in rows:
            table.add_row(*(Text(str(row[k])) for k in ("key", "name", "status", "updated", "reason")))
        output_console().print(table)
    return 0


def _run_outputs(args: argparse.Namespace) -> int:
    target = _target(args)
    engine = target.engine
    _say_engine_asked(engine, args)
    with engine:
        outputs = target.outputs()
    if args.json:
        print(json.dumps(outputs, indent=2))
    else:
        table = Table(
            "stack", "output", "value", title=f"{args.environment} outputs on {_engine_label(engine)}"
        )
        for key, values in outputs.items():
            for name, value in sorted(values.items()):
                table.add_row(Text(key), Text(name), Text(value))
            if not values:
                table.add_row(key, "-", "not deployed")
        output_console().print(table)
    return 0


def check_file_arguments(args: argparse.Namespace) -> None:
    """Every file argument is checked before anything runs: a parameters file exists, is a
    readable text file and parses; a reports directory can be written."""
    from concert_platform.inputs import check_output_directory, read_parameters_file

    if getattr(args, "parameters_file", None) is not None:
        from concert_platform.manifest import load_manifest

        read_parameters_file(args.parameters_file, load_manifest())
    if getattr(args, "reports_dir", None) is not None:
        check_output_directory(args.reports_dir, "reports directory")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        from concert_platform.manifest import use_project

        use_project(getattr(args, "project", None))
        check_file_arguments(args)
        return int(args.handler(args))
    except ConcertPlatformError as exc:
        stderr_console().print(f"[red]error:[/red] {exc}", soft_wrap=True)
        return exc.exit_code
    except (BotoCoreError, ClientError) as exc:  # an engine or AWS refusing: one line, never a traceback
        from concert_platform.workflow import describe_aws_error

        stderr_console().print(f"[red]error:[/red] {describe_aws_error(exc)}", soft_wrap=True)
        return 1
    except (KeyboardInterrupt, Interrupted) as exc:
        # e2e handles its own signals (teardown, reports); elsewhere say what a stop can leave
        code = exc.exit_code if isinstance(exc, Interrupted) else 130
        where = (
            "the embedded engine's stacks ended with this process"
            if getattr(args, "engine", None) == "embedded"
            else f"a stack operation already sent to the {getattr(args, 'engine', 'engine')} engine "
            "goes on there: check with concert-platform status, remove with concert-platform destroy"
        )
        stderr_console().print(f"[red]interrupted[/red]: {where}", soft_wrap=True)
        return code


def console_main() -> None:
    """The `concert-platform` command: main(), then an exit without the interpreter's teardown.

    After an embedded-engine run the interpreter spends about 1.5 s at exit freeing moto's state
    object by object (measured with strace: nothing but munmap between the last atexit handler and
    exit_group), work nobody waits for. Everything an orderly exit does before that still happens
    here: the atexit handlers run and both streams are flushed; a flush that fails for any reason
    but a departed reader makes the exit code 120, as Python's own exit does. Where another thread
    is still alive, the ordinary exit is taken instead (it waits for non-daemon threads)."""
    import atexit
    import threading

    code = main()
    if threading.active_count() > 1:
        sys.exit(code)
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    if run_exit_handlers is None:  # not CPython
        sys.exit(code)
    run_exit_handlers()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # the reader left, or the stream is closed: nothing to deliver
            pass
        except OSError:  # a full disk, an I/O error: what was written is incomplete (Python exits 120)
            code = code or 120
    os._exit(code)


if __name__ == "__main__":
    console_main()
