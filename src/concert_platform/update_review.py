"""The update review of `e2e --base REF`: what the update did per stack, what it puts at risk, and
whether the data written before it is still there afterwards. Markdown (a pull-request comment)
and SARIF (code scanning).

Blocking findings fail the run unless `update-acknowledgements.yaml` (committed in the project
root) names the logical id with a reason: a stateful resource replaced, removed or re-keyed, or
an existing role granted more. Data lost across the update (items, objects, warehouse rows
counted before and after) and an update CloudFormation refused fail the run, acknowledged or not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

from concert_platform.errors import UsageError
from concert_platform.outcome import describe_exception

ACKNOWLEDGEMENTS_FILE = "update-acknowledgements.yaml"

#: resources whose replacement or removal loses what they hold
STATEFUL_TYPES = {
    "AWS::DynamoDB::Table": "table",
    "AWS::S3::Bucket": "bucket",
    "AWS::Kinesis::Stream": "stream",
    "AWS::KMS::Key": "KMS key",
    "AWS::Logs::LogGroup": "log group",
    "AWS::RedshiftServerless::Namespace": "warehouse namespace",
    "AWS::RedshiftServerless::Workgroup": "warehouse workgroup",
    "AWS::SecretsManager::Secret": "secret",
}
#: properties naming the key a stateful resource's data is encrypted under
ENCRYPTION_PROPERTIES = {"SSESpecification", "StreamEncryption", "BucketEncryption", "KmsKeyId", "KmsKeyArn"}


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    text: str
    acknowledgeable: bool = True


RULES = {
    rule.name: rule
    for rule in (
        Rule(
            "UPD001",
            "stateful-replacement",
            "A stateful resource is replaced: a new, empty one takes its place",
        ),
        Rule("UPD002", "stateful-removal", "A stateful resource is removed with what it holds"),
        Rule("UPD003", "stateful-rekey", "A stateful resource's encryption key changes"),
        Rule("UPD004", "iam-widened", "An existing role is granted more actions or resources"),
        Rule(
            "UPD005", "data-loss", "Data written before the update is missing after it", acknowledgeable=False
        ),
        Rule(
            "UPD006",
            "update-refused",
            "CloudFormation refused the update and rolled it back",
            acknowledgeable=False,
        ),
    )
}


# ---- acknowledgements ------------------------------------------------------------------------
def load_acknowledgements(root: Path) -> dict[str, dict[str, str]]:
    """`logical_id` (or `stack/logical_id`) -> {reason, stack}; UsageError for a malformed file."""
    path = root / ACKNOWLEDGEMENTS_FILE
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise UsageError(f"{ACKNOWLEDGEMENTS_FILE}: not YAML: {' '.join(str(exc).split())}") from None
    entries = data.get("acknowledgements") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise UsageError(f"{ACKNOWLEDGEMENTS_FILE}: expected `acknowledgements:` with a list of entries")
    found: dict[str, dict[str, str]] = {}
    for number, entry in enumerate(entries, 1):
        if (
            not isinstance(entry, dict)
            or not entry.get("logical_id")
            or not str(entry.get("reason", "")).strip()
        ):
            raise UsageError(
                f"{ACKNOWLEDGEMENTS_FILE}: entry {number} needs `logical_id` and a non-empty `reason`"
            )
        stack = str(entry.get("stack", "") or "")
        key = f"{stack}/{entry['logical_id']}" if stack else str(entry["logical_id"])
        found[key] = {"reason": " ".join(str(entry["reason"]).split()), "stack": stack}
    return found


def _acknowledged(acks: Mapping[str, dict[str, str]], stack: str, logical_id: str) -> str | None:
    entry = acks.get(f"{stack}/{logical_id}") or acks.get(logical_id)
    return entry["reason"] if entry else None


# ---- what the platform holds, before and after ---------------------------------------------
def snapshot(engine: Any, manifest: Any, environment: str) -> dict[str, Any]:
    """Resources, data counts and role grants of the deployed environment."""
    from concert_platform.deploy import StackOperator

    operator = StackOperator(engine, manifest, environment)
    resources: dict[str, dict[str, dict[str, str]]] = {}
    for spec in manifest.stacks:
        name = operator.stack_name(spec.key)
        if operator.describe(name) is None:
            continue
        rows = {}
        for page in operator.cfn.get_paginator("list_stack_resources").paginate(StackName=name):
            for row in page["StackResourceSummaries"]:
                rows[row["LogicalResourceId"]] = {
                    "type": row["ResourceType"],
                    "physical_id": row.get("PhysicalResourceId", ""),
                }
        resources[spec.key] = rows
    return {
        "resources": resources,
        "data": _count_data(engine, resources, operator.all_outputs()),
        "iam": _role_grants(engine, resources),
    }


def _count_data(
    engine: Any,
    resources: Mapping[str, Mapping[str, Mapping[str, str]]],
    outputs: Mapping[str, Mapping[str, str]],
) -> dict[str, dict[str, Any]]:
    counts: dict[str, dict[str, Any]] = {}
    for stack, rows in resources.items():
        for logical_id, row in rows.items():
            kind = {"AWS::DynamoDB::Table": "items", "AWS::S3::Bucket": "objects"}.get(row["type"])
            if kind:
                counts[f"{stack}/{logical_id}"] = _count(engine, kind, row["physical_id"])
    flat = {k: v for values in outputs.values() for k, v in values.items()}
    target = [
        flat.get(k) for k in ("RedshiftWorkgroupName", "RedshiftDatabaseName", "RedshiftAdminSecretArn")
    ]
    if engine.capabilities.has_warehouse and all(target):
        from concert_platform.sample_data import count_warehouse_rows

        try:
            warehouse = count_warehouse_rows(engine.client("redshift-data"), *target)  # type: ignore[arg-type]
        except Exception as exc:  # the warehouse itself may be what the update broke
            counts["warehouse"] = {"kind": "rows", "count": None, "error": _one_line(exc)}
        else:
            for table, count in warehouse.items():
                counts[f"warehouse/{table}"] = {"kind": "rows", "count": count}
    return counts


def _count(engine: Any, kind: str, physical_id: str) -> dict[str, Any]:
    try:
        if kind == "items":
            total = 0
            for page in (
                engine.client("dynamodb")
                .get_paginator("scan")
                .paginate(TableName=physical_id, Select="COUNT")
            ):
                total += page["Count"]
        else:
            total = 0
            for page in engine.client("s3").get_paginator("list_objects_v2").paginate(Bucket=physical_id):
                total += page.get("KeyCount", 0)
    except Exception as exc:
        return {"kind": kind, "count": None, "physical_id": physical_id, "error": _one_line(exc)}
    return {"kind": kind, "count": total, "physical_id": physical_id}


def _one_line(exc: BaseException) -> str:
    return describe_exception(exc)


def _role_grants(engine: Any, resources: Mapping[str, Mapping[str, Mapping[str, str]]]) -> dict[str, Any]:
    iam = engine.client("iam")
    grants: dict[str, Any] = {}
    for stack, rows in resources.items():
        for logical_id, row in rows.items():
            if row["type"] != "AWS::IAM::Role":
                continue
            role = row["physical_id"]
            pairs: set[str] = set()
            try:
                for policy in iam.list_role_policies(RoleName=role)["PolicyNames"]:
                    document = iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
                    pairs |= _allowed(document)
                for attached in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
                    pairs.add(f"{attached['PolicyArn']}\tattached")
            except Exception as exc:
                grants[f"{stack}/{logical_id}"] = {"role": role, "grants": [], "error": _one_line(exc)}
                continue
            grants[f"{stack}/{logical_id}"] = {"role": role, "grants": sorted(pairs)}
    return grants


def _allowed(document: Any) -> set[str]:
    if isinstance(document, str):
        document = json.loads(unquote(document))
    statements = document.get("Statement", [])
    pairs = set()
    for statement in statements if isinstance(statements, list) else [statements]:
        if statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action", [])
        targets = statement.get("Resource", ["*"])
        for action in [actions] if isinstance(actions, str) else actions:
            for target in [targets] if isinstance(targets, str) else targets:
                pairs.add(f"{action}\t{target}")
    return pairs


# ---- the review ------------------------------------------------------------------------------
def build_review(
    change_sets: Mapping[str, Mapping[str, Any]],
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    acknowledgements: Mapping[str, dict[str, str]],
    manifest: Any,
    base_root: Path,
    refusals: list[str],
    base: str,
) -> dict[str, Any]:
    findings: list[dict[str, Any]] = []
    stacks = []

    def finding(rule: str, stack: str, logical_id: str, resource_type: str, message: str) -> None:
        reason = _acknowledged(acknowledgements, stack, logical_id) if RULES[rule].acknowledgeable else None
        findings.append(
            {
                "rule": rule,
                "id": RULES[rule].id,
                "stack": stack,
                "logical_id": logical_id,
                "type": resource_type,
                "message": message,
                "acknowledged": reason,
                "template": f"templates/{manifest.stack(stack).template}" if stack in manifest.keys else "",
            }
        )

    for spec in manifest.stacks:
        changes = [c["ResourceChange"] for c in change_sets.get(spec.key, {}).get("Changes", [])]
        row: dict[str, Any] = {"key": spec.key, "added": [], "modified": [], "replaced": [], "removed": []}
        for change in changes:
            logical_id, resource_type = change["LogicalResourceId"], change["ResourceType"]
            properties = [d["Target"]["Name"] for d in change.get("Details", []) if d.get("Target")]
            entry = {"logical_id": logical_id, "type": resource_type, "properties": properties}
            kind = STATEFUL_TYPES.get(resource_type)
            if change["Action"] == "Add":
                row["added"].append(entry)
            elif change["Action"] == "Remove":
                row["removed"].append(entry)
                if kind:
                    finding(
                        "stateful-removal",
                        spec.key,
                        logical_id,
                        resource_type,
                        f"{logical_id} ({kind}) is removed, and with it what it holds",
                    )
            elif change.get("Replacement") in ("True", "Conditional"):
                entry["replacement"] = change["Replacement"]
                row["replaced"].append(entry)
                if kind:
                    why = ", ".join(
                        d["Target"]["Name"]
                        for d in change.get("Details", [])
                        if d.get("Target", {}).get("RequiresRecreation") in ("Always", "Conditionally")
                    )
                    certainty = "is replaced" if change["Replacement"] == "True" else "may be replaced"
                    finding(
                        "stateful-replacement",
                        spec.key,
                        logical_id,
                        resource_type,
                        f"{logical_id} ({kind}) {certainty} (changed: {why}): the new one starts empty",
                    )
            else:
                entry["code"] = _code_note(
                    manifest, spec.key, logical_id, resource_type, properties, base_root
                )
                row["modified"].append(entry)
                rekeyed = sorted(ENCRYPTION_PROPERTIES.intersection(properties))
                if kind and rekeyed:
                    finding(
                        "stateful-rekey",
                        spec.key,
                        logical_id,
                        resource_type,
                        f"{logical_id} ({kind}) changes its encryption key ({', '.join(rekeyed)}): what it "
                        "already holds stays under the old key",
                    )
        stacks.append(row)

    data = []
    for key, was in before.get("data", {}).items():
        now = after.get("data", {}).get(key, {"count": None, "error": "gone after the update"})
        lost = was.get("count") is not None and (now.get("count") is None or now["count"] < was["count"])
        data.append(
            {
                "key": key,
                "kind": was["kind"],
                "before": was.get("count"),
                "after": now.get("count"),
                "lost": lost,
                "detail": now.get("error", ""),
            }
        )
        if lost:
            stack, _, logical_id = key.partition("/")
            finding(
                "data-loss",
                stack if stack in manifest.keys else "storage",
                logical_id or key,
                "",
                f"{key}: {was['count']} {was['kind']} before the update, "
                f"{now.get('count') if now.get('count') is not None else 'none countable'} after"
                + (f" ({now['error']})" if now.get("error") else ""),
            )

    iam = []
    for key, role in sorted(after.get("iam", {}).items()):
        old = before.get("iam", {}).get(key)
        new_pairs = set(role.get("grants", []))
        old_pairs = set(old.get("grants", [])) if old else set()
        added, removed = new_pairs - old_pairs, old_pairs - new_pairs
        if not added and not removed:
            continue
        stack, _, logical_id = key.partition("/")
        item = {
            "stack": stack,
            "logical_id": logical_id,
            "role": role["role"],
            "new_role": old is None,
            "actions_added": sorted(
                {p.split("\t")[0] for p in added} - {p.split("\t")[0] for p in old_pairs}
            ),
            "actions_removed": sorted(
                {p.split("\t")[0] for p in removed} - {p.split("\t")[0] for p in new_pairs}
            ),
            "resources_added": sorted(
                {p.split("\t")[1] for p in added} - {p.split("\t")[1] for p in old_pairs}
            ),
            "resources_removed": sorted(
                {p.split("\t")[1] for p in removed} - {p.split("\t")[1] for p in new_pairs}
            ),
            "grants_added": sorted(p.replace("\t", " on ") for p in added),
            "grants_removed": sorted(p.replace("\t", " on ") for p in removed),
        }
        iam.append(item)
        if added and old is not None:
            finding(
                "iam-widened",
                stack,
                logical_id,
                "AWS::IAM::Role",
                f"{logical_id} ({role['role']}) is granted {', '.join(item['grants_added'])}",
            )
    for old_key in sorted(set(before.get("iam", {})) - set(after.get("iam", {}))):
        stack, _, logical_id = old_key.partition("/")
        iam.append(
            {
                "stack": stack,
                "logical_id": logical_id,
                "role": before["iam"][old_key]["role"],
                "removed_role": True,
                "actions_added": [],
                "actions_removed": [],
                "resources_added": [],
                "resources_removed": [],
                "grants_added": [],
                "grants_removed": before["iam"][old_key]["grants"],
            }
        )

    for refusal in refusals:
        stack, logical_id = _refused_where(refusal, manifest)
        finding("update-refused", stack, logical_id, "", refusal)

    used = {f"{f['stack']}/{f['logical_id']}" for f in findings if f["acknowledged"]} | {
        f["logical_id"] for f in findings if f["acknowledged"]
    }
    blocking = [f for f in findings if not f["acknowledged"]]
    return {
        "base": base,
        "stacks": stacks,
        "findings": findings,
        "blocking": len(blocking),
        "acknowledged": len(findings) - len(blocking),
        "unused_acknowledgements": sorted(k for k in acknowledgements if k not in used),
        "data": data,
        "iam": iam,
    }


def _code_note(
    manifest: Any, stack: str, logical_id: str, resource_type: str, properties: list[str], base_root: Path
) -> str:
    """For a function whose only change is its code package: did its own handler module change?
    (All functions share one package, so every function gets the new package.)"""
    if resource_type != "AWS::Lambda::Function" or properties != ["Code"]:
        return ""
    handler = (
        manifest.load_template(stack)["Resources"].get(logical_id, {}).get("Properties", {}).get("Handler")
    )
    if not isinstance(handler, str):
        return ""
    module = f"handlers/{handler.rsplit('.', 1)[0].replace('.', '/')}.py"
    head, base = manifest.root / module, base_root / module
    same = head.is_file() and base.is_file() and head.read_bytes() == base.read_bytes()
    return f"package only: its handler {module} is unchanged" if same else f"its handler {module} changed"


def _refused_where(refusal: str, manifest: Any) -> tuple[str, str]:
    """(stack key, logical id) named by a failed update's one-line reason."""
    stack = next((key for key in manifest.keys if f"-{key}-" in refusal), "")
    found = re.search(r"\): (\w+) \(AWS::", refusal) or re.search(r": (\w+) \(AWS::", refusal)
    export = re.search(r"Export (\S+) cannot", refusal)
    return stack, (found.group(1) if found else export.group(1) if export else "")


# ---- Markdown and SARIF ----------------------------------------------------------------------
def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(review: Mapping[str, Any], environment: str) -> str:
    blocking, acknowledged = review["blocking"], review["acknowledged"]
    lost = [d for d in review["data"] if d["lost"]]
    verdict = "BLOCKED" if blocking else "passes"
    lines = [
        f"## Update review: `{review['base']}` → working tree ({environment})",
        "",
        f"**{verdict}**: {blocking} blocking finding{'s' if blocking != 1 else ''}, {acknowledged} acknowledged; "
        f"data counted before and after: {len(review['data']) - len(lost)} kept, {len(lost)} lost.",
        "",
    ]
    if review["findings"]:
        lines += [
            "### Findings",
            "",
            "| | rule | stack | resource | what | acknowledged |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for f in review["findings"]:
            mark = "acknowledged" if f["acknowledged"] else "**blocking**"
            lines.append(
                f"| {mark} | {f['id']} {f['rule']} | {f['stack']} | `{f['logical_id']}` | {_cell(f['message'])} "
                f"| {_cell(f['acknowledged'] or '')} |"
            )
        lines.append("")
    lines += [
        "### Stacks",
        "",
        "| stack | added | modified | replaced | removed |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in review["stacks"]:
        lines.append(
            f"| {row['key']} | {len(row['added'])} | {len(row['modified'])} | {len(row['replaced'])} | {len(row['removed'])} |"
        )
    lines.append("")
    for row in review["stacks"]:
        items = [("added", e) for e in row["added"]] + [("modified", e) for e in row["modified"]]
        items += [("replaced", e) for e in row["replaced"]] + [("removed", e) for e in row["removed"]]
        if not items:
            continue
        lines.append(f"**{row['key']}**")
        lines.append("")
        for what, e in items:
            props = f" ({', '.join(e['properties'])})" if e.get("properties") else ""
            extra = f" — Replacement: {e['replacement']}" if e.get("replacement") else ""
            note = f" — {e['code']}" if e.get("code") else ""
            lines.append(f"- {what}: `{e['logical_id']}` {e['type']}{props}{extra}{note}")
        lines.append("")
    lines += [
        "### Data written before the update, counted after it",
        "",
        "| data | kind | before | after | |",
        "| --- | --- | --- | --- | --- |",
    ]
    for d in review["data"]:
        lines.append(
            f"| {d['key']} | {d['kind']} | {d['before'] if d['before'] is not None else '-'} "
            f"| {d['after'] if d['after'] is not None else '-'} | {'**lost**' if d['lost'] else 'kept'} |"
        )
    lines.append("")
    lines += ["### IAM difference per role", ""]
    if not review["iam"]:
        lines += ["No role's permissions changed.", ""]
    else:
        lines += [
            "| role | actions added | actions removed | resources added | resources removed |",
            "| --- | --- | --- | --- | --- |",
        ]
        for r in review["iam"]:
            label = f"{r['stack']}/`{r['logical_id']}`" + (
                " (new)" if r.get("new_role") else " (removed)" if r.get("removed_role") else ""
            )
            lines.append(
                f"| {label} | {_cell(', '.join(r['actions_added']) or '-')} | {_cell(', '.join(r['actions_removed']) or '-')} "
                f"| {_cell(', '.join(r['resources_added']) or '-')} | {_cell(', '.join(r['resources_removed']) or '-')} |"
            )
        lines.append("")
    if review["unused_acknowledgements"]:
        lines += [f"Acknowledged but not changed: {', '.join(review['unused_acknowledgements'])}.", ""]
    lines.append(
        f"Acknowledge an intended replacement or removal in `{ACKNOWLEDGEMENTS_FILE}` (logical id and reason)."
    )
    return "\n".join(lines) + "\n"


def _line_of(root: Path, template: str, logical_id: str) -> int:
    try:
        for number, line in enumerate((root / template).read_text().splitlines(), 1):
            if line.startswith(f"  {logical_id}:"):
                return number
    except OSError:
        return 1
    return 1


def sarif(review: Mapping[str, Any], root: Path) -> dict[str, Any]:
    results = []
    for f in review["findings"]:
        location: dict[str, Any] = {
            "logicalLocations": [{"name": f["logical_id"] or f["stack"], "kind": "resource"}]
        }
        if f["template"]:
            location["physicalLocation"] = {
                "artifactLocation": {"uri": f["template"]},
                "region": {"startLine": _line_of(root, f["template"], f["logical_id"])},
            }
        result: dict[str, Any] = {
            "ruleId": f["id"],
            "level": "error",
            "message": {"text": f["message"]},
            "locations": [location],
        }
        if f["acknowledged"]:
            result["suppressions"] = [{"kind": "external", "justification": f["acknowledged"]}]
        results.append(result)
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "concert-platform update review",
                        "rules": [
                            {
                                "id": r.id,
                                "name": r.name,
                                "shortDescription": {"text": r.text},
                                "help": {
                                    "text": f"docs/update-gate.md: {r.name}; acknowledge in {ACKNOWLEDGEMENTS_FILE}"
                                    if r.acknowledgeable
                                    else "docs/update-gate.md: " + r.name
                                },
                                "defaultConfiguration": {"level": "error"},
                                # every finding blocks: the level the policy layer's errors carry
                                "properties": {"tags": ["update", r.name], "security-severity": "7.5"},
                            }
                            for r in RULES.values()
                        ],
                    }
                },
                "results": results,
            }
        ],
    }


def write_review(review: Mapping[str, Any], directory: Path, environment: str, root: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    md = directory / f"update-review-{environment}.md"
    md.write_text(markdown(review, environment))
    sarif_path = directory / f"update-review-{environment}.sarif"
    sarif_path.write_text(json.dumps(sarif(review, root), indent=2))
    return [md, sarif_path]
