"""docs/policy.md's table of our checks is held to the checks' own metadata (as cfn-lint's
generated rules table): a check added, removed or reworded without the doc turns this red."""

from __future__ import annotations

import re
from pathlib import Path

from concert_platform.policy.checks import all_checks
from concert_platform.policy.model import PropertyCheck

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r'^\| <a id="(cp\d+)"></a>(CP\d+) \| (.+?) \| (.+?) \|$')


def documented_rows() -> dict[str, tuple[str, str]]:
    text = (ROOT / "docs" / "policy.md").read_text()
    section = text.split("## Our checks", 1)[1]
    rows = {}
    for line in section.splitlines():
        match = ROW.match(line)
        if match:
            anchor, check_id, practice, source = match.groups()
            assert anchor == check_id.lower(), f"anchor {anchor} for {check_id}"
            rows[check_id] = (practice, source)
    return rows


def test_the_docs_table_lists_every_check_as_its_metadata_says() -> None:
    code = {check.id: (check.practice, check.source) for check in all_checks()}
    assert documented_rows() == code


def test_the_single_property_checks_share_the_property_base() -> None:
    by_id = {check.id: check for check in all_checks()}
    for check_id in ("CP010", "CP013", "CP014", "CP015", "CP020"):
        check = by_id[check_id]
        assert isinstance(check, PropertyCheck), check_id
        assert check.resource_type and check.path and "{where}" in check.message
