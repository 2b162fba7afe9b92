"""Each false positive and miss found on templates nobody here wrote, as a fixture pair under
fixtures/cases/: the non-compliant form gets exactly the named finding, the compliant form none
of the case's checks. Our checks only (cfn-lint and checkov are not what these cases test)."""

from __future__ import annotations

from pathlib import Path

import pytest

from concert_platform.policy.runner import PolicyReport, run_policy

CASES = Path(__file__).parent / "fixtures" / "cases"

# case -> {(check, resource, a word the message must contain)} expected on the non-compliant form
EXPECTED: dict[str, set[tuple[str, str, str]]] = {
    "cp007-sse-ref": {("CP007", "Logs", "Encrypted is false")},  # the NoValue branch names the condition
    "cp009-yaml-boolean": {("CP009", "Data", "SecureTransport")},
    "cp009-bucket-by-name": {
        ("CP009", "Store", "SecureTransport"),
        ("CP009", "Named", "SecureTransport"),
        ("CP009", "Subbed", "SecureTransport"),
    },
    "cp011-production-condition": {
        ("CP011", "AppLogs", "30 days (when IsProd is true)"),
        ("CP012", "Sessions", "IsProd is true"),
    },
    "cp011-not-dev-condition": {("CP011", "AppLogs", "3 days (when IsDev is false)")},
    "cp004-secret-names": {("CP004", "ApiToken", "NoEcho"), ("CP004", "ApiToken", "default")},
    "cp001-all-ports": {("CP001", "ClusterAccess", "every port")},
    "cp001-string-ports": {("CP001", "RedshiftIngress", "0.0.0.0/0")},
    "cp021-ssh-in-if": {("CP021", "Bastion", "IsProduction is false")},
    "sam-iam": {
        ("CP005", "AdminFunction", "AdministratorAccess"),
        ("CP005", "StarFunction", "'*'"),
        ("CP006", "StarFunction", "Resource '*'"),
    },
    "foreach": {
        ("CP007", "Fn::ForEach::Buckets", "RawBucket"),
        ("CP007", "Fn::ForEach::Buckets", "CuratedBucket"),
    },
    "cp006-no-resource-actions": {("CP006", "AuditRole", "kms:GetKeyRotationStatus, s3:GetBucket*;")},
    "cp000-sam-deploy-time-values": {("CP000", "(template)", "AutoPublishAlias")},
    "cp019-sam-implicit-api": {  # on the function whose Api event creates it, not SAM's generated name
        ("CP019", "Function", "in ServerlessRestApiProdStage, generated from Function"),
        ("CP019", "Function", "AccessLogSetting"),
    },
    "cp019-deployment-stage": {
        ("CP019", "Deployment", "TracingEnabled"),
        ("CP019", "Deployment", "AccessLogSetting"),
    },
}


def own(path: Path) -> PolicyReport:
    report = run_policy(path, tools=("concert-platform",))
    assert report.errors == [], report.errors
    return report


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_noncompliant_form_gets_the_finding(case: str) -> None:
    report = own(CASES / f"{case}.noncompliant.yaml")
    checks = {check for check, _, _ in EXPECTED[case]}
    found = [f for f in report.findings if f.check_id in checks]
    for check, resource, word in EXPECTED[case]:
        assert any(f.check_id == check and f.resource == resource and word in f.message for f in found), (
            f"{case}: no {check} on {resource} mentioning {word!r}; got "
            + "; ".join(f"{f.check_id} {f.resource}: {f.message}" for f in found)
        )


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_compliant_form_gets_none(case: str) -> None:
    report = own(CASES / f"{case}.compliant.yaml")
    checks = {check for check, _, _ in EXPECTED[case]}
    wrong = [f"{f.check_id} {f.resource}: {f.message}" for f in report.findings if f.check_id in checks]
    assert wrong == []


def test_sam_findings_point_at_the_source_resource_and_line() -> None:
    report = own(CASES / "sam-iam.noncompliant.yaml")
    admin = next(f for f in report.findings if f.check_id == "CP005" and f.resource == "AdminFunction")
    assert admin.line == 4 and "AdminFunctionRole" in admin.message
