"""Our templates pass the whole policy layer; every skip is written down with its reason."""

from __future__ import annotations

import re
from pathlib import Path

from concert_platform.policy.runner import PolicyReport

ROOT = Path(__file__).resolve().parents[2]


def test_templates_pass_cfn_lint_checkov_and_our_checks(clean_report: PolicyReport) -> None:
    assert len(clean_report.templates) == 6
    assert clean_report.checks_run > 60
    assert clean_report.failed == 0, "\n".join(
        f"{f.tool} {f.check_id} {f.template}/{f.resource}: {f.message}" for f in clean_report.findings
    )


def test_every_skip_has_a_reason_and_is_listed_in_docs(clean_report: PolicyReport) -> None:
    documented = set(
        re.findall(
            r"^\| (\S+\.yaml) \| (\w+) \| (\S+) \| (\S+) \| (.+) \|$",
            (ROOT / "docs" / "policy.md").read_text(),
            re.MULTILINE,
        )
    )
    actual = {(s.template, s.resource, s.tool, s.check_id, s.reason) for s in clean_report.skipped}
    assert all(len(s.reason) > 20 for s in clean_report.skipped), "every skip needs a real reason"
    assert actual == documented, (
        f"docs/policy.md skip list is stale: missing {actual - documented}, extra {documented - actual}"
    )
