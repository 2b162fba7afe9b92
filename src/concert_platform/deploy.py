"""Deploy and destroy the platform's stacks in manifest order, through change sets.

Every stack operation ends in one of: created, updated, no changes, deleted, absent, or a
DeployError naming the stack, the failing resources and CloudFormation's reasons.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from botocore.exceptions import ClientError

from concert_platform.engines.base import Engine
from concert_platform.errors import DeployError, UsageError
from concert_platform.manifest import Manifest, StackSpec
from concert_platform.packaging import Artifact

TEMPLATE_BODY_LIMIT = 51_200  # CloudFormation's limit for TemplateBody; larger goes through S3
_NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
_STABLE_OK = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE"}


class Progress(Protocol):
    def stack_started(self, key: str, name: str, action: str) -> None: ...
    def resource_event(self, name: str, event: Mapping[str, Any]) -> None: ...
    def stack_finished(self, result: StackResult) -> None: ...
    def note(self, message: str) -> None: ...


class SilentProgress:
    def stack_started(self, key: str, name: str, action: str) -> None:
        pass

    def resource_event(self, name: str, event: Mapping[str, Any]) -> None:
        pass

    def stack_finished(self, result: StackResult) -> None:
        pass

    def note(self, message: str) -> None:
        pass


@dataclass
class StackResult:
    key: str
    name: str
    status: str  # created | updated | no changes | replaced | deleted | absent | failed
    seconds: float = 0.0
    outputs: dict[str, str] = field(default_factory=dict)
    stack_status: str = ""


def is_missing_stack_error(exc: ClientError) -> bool:
    message = exc.response.get("Error", {}).get("Message", "")
    return "does not exist" in message


class StackOperator:
    """CloudFormation operations for one environment on one engine."""

    def __init__(
        self,
        engine: Engine,
        manifest: Manifest,
        environment: str,
        progress: Progress | None = None,
        confirm: Callable[[str], bool] | None = None,
        poll_seconds: float | None = None,
        timeout_seconds: float = 3600,
        tags: Mapping[str, str] | None = None,
        ownership: Any = None,
    ) -> None:
        self.engine = engine
        #: a test run's concert_platform.ownership.Ownership: then a stack that exists is updated
        #: or deleted only when this run created or adopted it (checked on each stack, just before)
        self.ownership = ownership
        #: stack tags beyond the project's own (the run tag of concert_platform.ownership)
        self.tags = dict(tags or {})
        self.manifest = manifest
        self.environment = environment
        self.progress = progress or SilentProgress()
        self.confirm = confirm or (lambda _question: False)
        self.poll_seconds = poll_seconds if poll_seconds is not None else engine.capabilities.poll_seconds
        self.timeout_seconds = timeout_seconds
        self.cfn = engine.client("cloudformation")
        #: stack key -> its change set as DescribeChangeSet answered, when the caller keeps them
        self.change_sets: dict[str, dict[str, Any]] | None = None

    # ---- reading state -------------------------------------------------------------------
    def stack_name(self, key: str) -> str:
        return self.manifest.stack_name(key, self.environment)

    def describe(self, name: str) -> dict[str, Any] | None:
        try:
            stacks = self.cfn.describe_stacks(StackName=name)["Stacks"]
        except ClientError as exc:
            if is_missing_stack_error(exc):
                return None
            raise
        return stacks[0] if stacks else None

    def outputs(self, key: str) -> dict[str, str]:
        stack = self.describe(self.stack_name(key))
        if stack is None:
            return {}
        return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}

    def all_outputs(self) -> dict[str, dict[str, str]]:
        return {spec.key: self.outputs(spec.key) for spec in self.manifest.stacks}

    def existing(self) -> dict[str, str]:
        """Stack key -> status for the stacks of this environment that exist."""
        found = {}
        for spec in self.manifest.stacks:
            stack = self.describe(self.stack_name(spec.key))
            if stack is not None:
                found[spec.key] = stack["StackStatus"]
        return found

    # ---- deploy --------------------------------------------------------------------------
    def deploy(
        self,
        stacks: tuple[StackSpec, ...],
        inputs: Mapping[str, str],
        artifacts: Callable[[], Mapping[str, Artifact]] | None = None,
    ) -> list[StackResult]:
        """Create or update `stacks` in order; stop at the first failure (DeployError)."""
        results: list[StackResult] = []
        artifact_keys: dict[str, str] = {}
        for spec in stacks:
            started = time.monotonic()
            try:
                if spec.needs_artifacts and not artifact_keys:
                    artifact_keys = self.upload_artifacts(artifacts() if artifacts else {})
                results.append(self.deploy_stack(spec, inputs, artifact_keys))
            except DeployError as exc:  # the report says which stack stopped the deploy
                exc.stack_key = spec.key
                exc.stack_seconds = round(time.monotonic() - started, 3)
                exc.completed = tuple(
                    {"key": r.key, "name": r.name, "status": r.status, "seconds": round(r.seconds, 3)}
                    for r in results
                )
                raise
        return results

    def upload_artifacts(self, built: Mapping[str, Artifact]) -> dict[str, str]:
        bucket_stack, bucket_output = self.manifest.artifact_bucket
        bucket = self.outputs(bucket_stack).get(bucket_output)
        if not bucket:
            raise DeployError(
                f"the {bucket_stack} stack ({self.stack_name(bucket_stack)}) has no {bucket_output} output: "
                "deploy it first (remove --only or add it)"
            )
        s3 = self.engine.client("s3")
        keys = {}
        for name, artifact in built.items():
            if not self._object_exists(s3, bucket, artifact.key):
                s3.put_object(Bucket=bucket, Key=artifact.key, Body=artifact.body)
                self.progress.note(
                    f"uploaded s3://{bucket}/{artifact.key} ({len(artifact.body) // 1024} KiB)"
                )
            keys[name] = artifact.key
        return keys

    @staticmethod
    def _object_exists(s3: Any, bucket: str, key: str) -> bool:
        try:
            s3.head_object(Bucket=bucket, Key=key)
        except ClientError:
            return False
        return True

    def _parameters(
        self, spec: StackSpec, inputs: Mapping[str, str], artifact_keys: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        resolved: list[dict[str, Any]] = []
        for item in self.manifest.resolve_parameters(
            spec.key, self.environment, inputs, artifact_keys, outputs=self.outputs
        ):
            source = spec.parameters[item["ParameterKey"]]
            if source.kind == "input" and source.name not in inputs:
                # a secret not supplied for an existing stack: keep what CloudFormation has
                resolved.append({"ParameterKey": item["ParameterKey"], "UsePreviousValue": True})
            else:
                resolved.append(item)
        return resolved

    def _template_argument(self, spec: StackSpec) -> dict[str, str]:
        body = self.manifest.template_path(spec.key).read_text()
        if len(body.encode()) <= TEMPLATE_BODY_LIMIT:
            return {"TemplateBody": body}
        bucket_stack, bucket_output = self.manifest.artifact_bucket
        bucket = self.outputs(bucket_stack).get(bucket_output)
        if not bucket:
            raise DeployError(
                f"{spec.template} is over {TEMPLATE_BODY_LIMIT} bytes and no deployment bucket exists yet"
            )
        key = f"templates/{self.environment}/{spec.template}"
        self.engine.client("s3").put_object(Bucket=bucket, Key=key, Body=body.encode())
        url = f"https://{bucket}.s3.{self.engine.region}.amazonaws.com/{key}"
        return {"TemplateURL": url}

    def deploy_stack(
        self, spec: StackSpec, inputs: Mapping[str, str], artifact_keys: Mapping[str, str]
    ) -> StackResult:
        name = self.stack_name(spec.key)
        started = time.monotonic()
        current = self.describe(name)
        self._require_owned(spec.key, name, current, "update")
        status = current["StackStatus"] if current else None
        replaced = False
        if status == "ROLLBACK_COMPLETE":
            question = (
                f"Stack {name} is in ROLLBACK_COMPLETE: its first creation failed and it holds no resources. "
                "CloudFormation cannot update it; delete it and create it again?"
            )
            if not self.confirm(question):
                raise DeployError(
                    f"stack {name} is in ROLLBACK_COMPLETE (a failed first creation) and was not replaced: "
                    "rerun with --yes to delete and recreate it, or delete it yourself"
                )
            self.progress.note(f"deleting {name} (ROLLBACK_COMPLETE) before creating it again")
            self._delete_and_wait(spec.key, name)
            current, status, replaced = None, None, True
        if status == "REVIEW_IN_PROGRESS":
            current, status = None, None  # an interrupted CREATE change set: create again
        if status and status.endswith("_IN_PROGRESS"):
            raise DeployError(f"stack {name} is busy ({status}); wait for it to finish, then deploy again")
        if status and status not in _STABLE_OK:
            raise DeployError(
                f"stack {name} is in {status} and cannot be updated; inspect its events "
                f"(concert-platform status) and fix or delete it"
            )
        change_type = "UPDATE" if current else "CREATE"
        self.progress.stack_started(spec.key, name, "update" if current else "create")
        change_set_name = f"concert-platform-{datetime.now(UTC):%Y%m%d%H%M%S%f}"
        parameters = (
            self._parameters(spec, inputs, artifact_keys)
            if current
            else [p for p in self._parameters(spec, inputs, artifact_keys) if "UsePreviousValue" not in p]
        )
        if not current:
            missing = [p for p in spec.parameters if p not in {x["ParameterKey"] for x in parameters}]
            if missing:
                raise UsageError(f"stack {name} does not exist yet and needs {', '.join(missing)}")
        try:
            created = self.cfn.create_change_set(
                StackName=name,
                ChangeSetName=change_set_name,
                ChangeSetType=change_type,
                Parameters=parameters,
                Capabilities=list(spec.capabilities),
                Tags=[
                    {"Key": "Project", "Value": "concert-platform"},
                    {"Key": "Environment", "Value": self.environment},
                    {"Key": "ManagedBy", "Value": "concert-platform"},
                    *({"Key": key, "Value": value} for key, value in self.tags.items()),
                ],
                **self._template_argument(spec),
            )
        except ClientError as exc:
            message = exc.response["Error"]["Message"]
            if any(marker in message for marker in _NO_CHANGES):  # some emulators refuse instead of failing
                return self._unchanged(spec.key, name, status, started)
            raise DeployError(f"stack {name}: change set rejected: {message}") from None
        change_set = self._wait_change_set(created["Id"])
        if self.change_sets is not None:
            self.change_sets[spec.key] = self._all_changes(created["Id"], change_set)
        if change_set["Status"] == "FAILED":
            reason = change_set.get("StatusReason", "")
            self._discard_change_set(created["Id"], name, change_type)
            if any(marker in reason for marker in _NO_CHANGES):
                return self._unchanged(spec.key, name, status, started)
            raise DeployError(f"stack {name}: change set failed: {reason}")
        since = datetime.now(UTC)
        seen: set[str] = set()
        try:
            self.cfn.execute_change_set(ChangeSetName=created["Id"], StackName=name)
        except ClientError as exc:
            # Engines that run the change set synchronously report failures here.
            final = self._wait_stable(name, since, seen)
            raise self._failure(
                name, final or "EXECUTE_FAILED", since, exc.response["Error"]["Message"]
            ) from None
        final = self._wait_stable(name, since, seen)
        if final not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
            raise self._failure(name, final, since)
        from concert_platform.declared import require_declared

        lie = require_declared(self.engine, self.manifest, spec.key, name, final)
        if lie:
            raise DeployError(lie)
        outcome = "replaced" if replaced else ("updated" if current else "created")
        result = StackResult(
            spec.key, name, outcome, time.monotonic() - started, self.outputs(spec.key), final
        )
        self.progress.stack_finished(result)
        return result

    def _unchanged(self, key: str, name: str, status: str | None, started: float) -> StackResult:
        result = StackResult(
            key, name, "no changes", time.monotonic() - started, self.outputs(key), status or ""
        )
        self.progress.stack_finished(result)
        return result

    def _all_changes(self, change_set_id: str, described: dict[str, Any]) -> dict[str, Any]:
        """The change set with every page of its Changes (AWS pages them)."""
        full = {**described, "Changes": list(described.get("Changes", []))}
        token = described.get("NextToken")
        while token:
            page = self.cfn.describe_change_set(ChangeSetName=change_set_id, NextToken=token)
            full["Changes"] += page.get("Changes", [])
            token = page.get("NextToken")
        return full

    def _wait_change_set(self, change_set_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout_seconds
        while True:
            described: dict[str, Any] = self.cfn.describe_change_set(ChangeSetName=change_set_id)
            if described["Status"] in ("CREATE_COMPLETE", "FAILED"):
                return described
            if time.monotonic() > deadline:
                raise DeployError(
                    f"change set {change_set_id} did not finish within {self.timeout_seconds:.0f}s"
                )
            time.sleep(self.poll_seconds)

    def _discard_change_set(self, change_set_id: str, name: str, change_type: str) -> None:
        with contextlib.suppress(ClientError):
            self.cfn.delete_change_set(ChangeSetName=change_set_id)
        if change_type == "CREATE":
            # a failed CREATE change set leaves an empty REVIEW_IN_PROGRESS stack behind
            stack = self.describe(name)
            if stack and stack["StackStatus"] == "REVIEW_IN_PROGRESS":
                self.cfn.delete_stack(StackName=name)

    def _new_events(self, name: str, since: datetime, seen: set[str]) -> list[dict[str, Any]]:
        try:
            events = self.cfn.describe_stack_events(StackName=name)["StackEvents"]
        except ClientError:
            return []
        fresh = [e for e in events if e["EventId"] not in seen and e["Timestamp"] >= since]
        for event in reversed(fresh):
            seen.add(event["EventId"])
            self.progress.resource_event(name, event)
        return fresh

    def _wait_stable(self, name: str, since: datetime, seen: set[str]) -> str:
        deadline = time.monotonic() + self.timeout_seconds
        while True:
            self._new_events(name, since, seen)
            stack = self.describe(name)
            status = stack["StackStatus"] if stack else "DELETE_COMPLETE"
            if not status.endswith("_IN_PROGRESS"):
                self._new_events(name, since, seen)
                return status
            if time.monotonic() > deadline:
                raise DeployError(f"stack {name} still {status} after {self.timeout_seconds:.0f}s")
            time.sleep(self.poll_seconds)

    def failed_events(self, name: str, since: datetime) -> list[dict[str, Any]]:
        try:
            events = self.cfn.describe_stack_events(StackName=name)["StackEvents"]
        except ClientError:
            return []
        return [
            e
            for e in reversed(events)
            if e["Timestamp"] >= since
            and e.get("ResourceStatus", "").endswith("_FAILED")
            and e.get("LogicalResourceId") != name
            and "cancelled" not in (e.get("ResourceStatusReason") or "")
        ]

    def _failure(self, name: str, status: str, since: datetime, extra: str = "") -> DeployError:
        reasons = [
            f"{e.get('LogicalResourceId')} ({e.get('ResourceType')}): {e.get('ResourceStatusReason') or 'no reason given'}"
            for e in self.failed_events(name, since)
        ]
        if not reasons:
            # a refusal of the stack as a whole (an export in use) is the stack's own rollback reason
            reasons = [extra] if extra else self._stack_refusals(name, since)
        detail = "; ".join(reasons) if reasons else "no failed resource events were recorded"
        return DeployError(f"stack {name} failed ({status}): {detail}")

    def _stack_refusals(self, name: str, since: datetime) -> list[str]:
        try:
            events = self.cfn.describe_stack_events(StackName=name)["StackEvents"]
        except ClientError:
            return []
        return [
            e["ResourceStatusReason"]
            for e in reversed(events)
            if e["Timestamp"] >= since
            and e.get("ResourceStatus") == "UPDATE_ROLLBACK_IN_PROGRESS"
            and e.get("ResourceStatusReason")
            and not e["ResourceStatusReason"].startswith("The following resource(s) failed")
        ]

    # ---- destroy -------------------------------------------------------------------------
    def destroy(self, stacks: tuple[StackSpec, ...]) -> list[StackResult]:
        """Delete `stacks` in reverse order, emptying their buckets of every version first."""
        results = []
        for spec in reversed(stacks):
            name = self.stack_name(spec.key)
            started = time.monotonic()
            current = self.describe(name)
            if current is None:
                result = StackResult(spec.key, name, "absent")
            else:
                self._require_owned(spec.key, name, current, "delete")
                self.progress.stack_started(spec.key, name, "delete")
                self._delete_and_wait(spec.key, name)
                result = StackResult(spec.key, name, "deleted", time.monotonic() - started)
            self.progress.stack_finished(result)
            results.append(result)
        return results

    def _require_owned(self, key: str, name: str, stack: dict[str, Any] | None, action: str) -> None:
        if self.ownership is not None and not self.ownership.owns(key, stack):
            from concert_platform.ownership import RUN_TAG, stack_tags

            carried = stack_tags(stack or {}).get(RUN_TAG) or "(none)"
            raise DeployError(
                f"stack {name} appeared during this run and carries run id {carried}, not this run's "
                f"{self.ownership.run_id}: refusing to {action} it (left in place)"
            )

    def stack_resources(self, name: str) -> list[tuple[str, str]]:
        """(type, physical id) of each of the stack's resources that has a physical id."""
        paginator = self.cfn.get_paginator("list_stack_resources")
        return [
            (resource["ResourceType"], resource["PhysicalResourceId"])
            for page in paginator.paginate(StackName=name)
            for resource in page["StackResourceSummaries"]
            if resource.get("ResourceType") and resource.get("PhysicalResourceId")
        ]

    def stack_resources_of(self, name: str, resource_type: str) -> list[str]:
        return [physical for kind, physical in self.stack_resources(name) if kind == resource_type]

    def stack_buckets(self, name: str) -> list[str]:
        return self.stack_resources_of(name, "AWS::S3::Bucket")

    def _stop_writers(self, name: str, buckets: list[str]) -> None:
        """Stop what keeps writing into the stack's buckets (trails, access logging), so a
        bucket emptied now is still empty when CloudFormation deletes it."""
        for trail in self.stack_resources_of(name, "AWS::CloudTrail::Trail"):
            with contextlib.suppress(ClientError):
                self.engine.client("cloudtrail").stop_logging(Name=trail)
        s3 = self.engine.client("s3")
        for bucket in buckets:
            with contextlib.suppress(ClientError):
                s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={})

    def _delete_and_wait(self, key: str, name: str) -> None:
        s3 = self.engine.client("s3")
        buckets = self.stack_buckets(name)
        self._stop_writers(name, buckets)
        for bucket in buckets:
            removed = empty_bucket_versions(s3, bucket)
            if removed:
                self.progress.note(f"emptied s3://{bucket} ({removed} object versions and delete markers)")
        stack_id = self.describe(name)["StackId"]  # type: ignore[index]
        since = datetime.now(UTC)
        seen: set[str] = set()
        self.cfn.delete_stack(StackName=name)
        deadline = time.monotonic() + self.timeout_seconds
        while True:
            self._new_events(stack_id, since, seen)
            try:
                stack = self.cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
            except ClientError as exc:
                if is_missing_stack_error(exc):
                    return
                raise
            status = stack["StackStatus"]
            if status == "DELETE_COMPLETE":
                return
            if status == "DELETE_FAILED":
                raise self._failure(stack_id, status, since)
            if time.monotonic() > deadline:
                raise DeployError(f"stack {name} still {status} after {self.timeout_seconds:.0f}s")
            time.sleep(self.poll_seconds)


def empty_bucket_versions(s3: Any, bucket: str) -> int:
    """Delete every object version and delete marker in `bucket`; returns how many went."""
    removed = 0
    try:
        paginator = s3.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=bucket):
            doomed = [
                {"Key": item["Key"], "VersionId": item["VersionId"]}
                for item in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            for start in range(0, len(doomed), 1000):
                batch = doomed[start : start + 1000]
                response = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
                errors = response.get("Errors", [])
                if errors:
                    first = errors[0]
                    raise DeployError(
                        f"could not empty s3://{bucket}: {first.get('Key')}: {first.get('Message')} "
                        f"({len(errors)} objects left)"
                    )
                removed += len(batch)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("NoSuchBucket", "404"):
            return removed
        raise
    return removed
