"""docs/pytest-plugin.md shows the example the integration layer runs, character for character,
and documents every public member of the fixture's Deployment."""

from __future__ import annotations

import re
from pathlib import Path

from concert_platform.pytest_plugin import Deployment

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "pytest-plugin.md"
EXAMPLE = ROOT / "tests" / "integration" / "test_plugin_example.py"


def test_the_documented_example_is_the_file_the_integration_layer_runs() -> None:
    block = re.search(
        r"<!-- example:begin -->\n```python\n(.*?)```\n<!-- example:end -->", DOC.read_text(), re.S
    )
    assert block, "docs/pytest-plugin.md lost its example markers"
    assert block.group(1) == EXAMPLE.read_text()


def test_every_public_member_of_the_fixture_is_documented() -> None:
    documented = set(re.findall(r"^\| `(\w+)\(", DOC.read_text(), re.M))
    documented |= set(re.findall(r"^\| `(\w+)` \|", DOC.read_text(), re.M))  # attributes: `name` rows
    documented |= {"engine", "manifest", "environment", "report"}
    public = {name for name in vars(Deployment) if not name.startswith("_")} | {
        name for name in Deployment.__dataclass_fields__ if not name.startswith("_")
    }
    undocumented = public - documented - {"deploy_seconds", "teardown"}
    assert undocumented == set()
