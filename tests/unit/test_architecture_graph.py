"""The Mermaid graph in docs/architecture.md is the one the templates produce."""

from __future__ import annotations

import re
from pathlib import Path

from concert_platform.graph import dependency_edges, exports_of, imports_of, render_mermaid
from concert_platform.manifest import load_manifest

ROOT = Path(__file__).resolve().parents[2]


def test_architecture_doc_graph_is_current() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    match = re.search(r"<!-- graph:start -->\n```mermaid\n(.*?)```\n<!-- graph:end -->", text, re.DOTALL)
    assert match, "docs/architecture.md lost its graph markers"
    assert match.group(1) == render_mermaid(load_manifest()), (
        "stale graph: run `concert-platform graph` and paste it into docs/architecture.md"
    )


def test_graph_reads_exports_and_imports() -> None:
    template = {
        "Resources": {
            "Q": {
                "Type": "AWS::SQS::Queue",
                "Properties": {"Name": {"Fn::ImportValue": {"Fn::Sub": "${NetworkStackName}-VpcId"}}},
            }
        },
        "Outputs": {
            "QueueUrl": {"Value": {"Ref": "Q"}, "Export": {"Name": {"Fn::Sub": "${AWS::StackName}-QueueUrl"}}}
        },
    }
    assert exports_of(template) == ["QueueUrl"]
    assert imports_of(template) == [("NetworkStackName", "VpcId")]


def test_every_later_stack_depends_on_an_earlier_one() -> None:
    manifest = load_manifest()
    edges = dependency_edges(manifest)
    targets = {target for _, target in edges}
    assert targets == set(manifest.keys[1:])
    assert ("storage", "compute") in edges and "PlatformKeyArn" in edges[("storage", "compute")]
