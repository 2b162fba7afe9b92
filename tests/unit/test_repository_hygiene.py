"""Workflows pinned, images tagged, the compose file valid, and CI running what tox runs."""

from __future__ import annotations

import configparser
import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def test_every_action_is_pinned_to_a_commit() -> None:
    uses = [
        line.split("uses:", 1)[1].strip()
        for path in WORKFLOWS
        for line in path.read_text().splitlines()
        if "uses:" in line
    ]
    assert uses, "no actions found"
    for reference in uses:
        assert re.match(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}\s+#\s*v\d", reference), (
            f"not pinned to a SHA with its version: {reference}"
        )


def test_no_image_is_latest_or_untagged() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.localstack.yml").read_text())
    for name, service in compose["services"].items():
        image = re.sub(r"\$\{\w+:-([^}]+)\}", r"\1", service["image"])
        assert ":" in image and not image.endswith(":latest"), f"{name}: {service['image']}"
    for path in WORKFLOWS:
        assert ":latest" not in path.read_text()


def test_compose_file_follows_the_compose_specification() -> None:
    from check_jsonschema.cli.main_command import main as check_jsonschema

    result = check_jsonschema(
        ["--builtin-schema", "vendor.compose-spec", str(ROOT / "docker-compose.localstack.yml")],
        standalone_mode=False,
    )
    assert result in (0, None), "docker-compose.localstack.yml does not follow the Compose specification"


def test_pull_request_workflow_runs_every_gating_tox_environment() -> None:
    tox = configparser.ConfigParser()
    tox.read(ROOT / "tox.ini")
    gated = {env.strip() for env in tox["tox"]["env_list"].split(",")}
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "pull-request.yml").read_text())
    layers = set(workflow["jobs"]["gate"]["strategy"]["matrix"]["layer"])
    assert layers == gated
    # real LocalStack (no Docker, no token): started, the integration layer and the e2e run, stopped
    steps = str(workflow["jobs"]["localstack"]["steps"])
    assert "tools/localstack-run" in steps and "--e2e-only" not in steps
    ci = (ROOT / ".ci" / "run").read_text()
    assert "tools/localstack-run --port" in ci and "--e2e-only" not in ci
    # ... and the LocalStack extension's own tests, live against that LocalStack
    run = (ROOT / "tools" / "localstack-run").read_text()
    assert 'CONCERT_LOCALSTACK_URL="$endpoint" tools/localstack-ext-tests' in run
    assert "localstack/test-requirements.txt" in (ROOT / "tools" / "localstack-ext-tests").read_text()
    # the external-endpoint path runs on every pull request, without Docker
    assert "tools/localstack-serve" in str(workflow["jobs"]["engine-serve"]["steps"])


# What a laptop or a corporate CI runner needs inside every tox env: the certificate authorities
# it trusts (without them npm answers SELF_SIGNED_CERT_IN_CHAIN and pip, botocore and requests fail
# the same way), its proxies, and the package clients' own settings.
REQUIRED_PASS_ENV = {
    "HOME", "TERM",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NODE_EXTRA_CA_CERTS",
    "AWS_CA_BUNDLE", "PIP_*", "npm_config_*", "UV_*",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
}  # fmt: skip


def _tox_config() -> configparser.ConfigParser:
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    return tox


def _names(value: str) -> set[str]:
    return {line.strip() for line in value.splitlines() if line.strip()}


def test_every_tox_env_passes_through_trust_proxy_and_package_client_settings() -> None:
    tox = _tox_config()
    base = _names(tox["testenv"]["pass_env"])
    missing = REQUIRED_PASS_ENV - base
    assert not missing, f"tox.ini [testenv] pass_env drops {sorted(missing)}"
    for section in tox.sections():
        if section.startswith("testenv:") and "pass_env" in tox[section]:
            names = _names(tox[section]["pass_env"])
            assert "{[testenv]pass_env}" in names or names >= REQUIRED_PASS_ENV, (
                f"tox.ini [{section}] replaces pass_env without {{[testenv]pass_env}}: it would drop "
                "the CA bundles and proxies"
            )


def test_no_tox_command_downloads_at_test_time() -> None:
    """Every tool a test env runs is installed with the env (pip), not fetched while it runs."""
    tox = _tox_config()
    for section in tox.sections():
        commands = tox[section].get("commands", "")
        for word in ("npm ", "npx ", "curl ", "wget ", "pip install", "uv pip"):
            assert word not in commands, f"tox.ini [{section}] downloads at test time: {word.strip()}"


def test_the_only_test_time_download_of_data_is_pinned_and_hash_checked() -> None:
    """Besides the layer builds' pinned pip installs, the policy corpus downloads one sdist at test
    time (from Python, not from tox): an exact version, its sha256 committed, pip told to check it."""
    source = json.loads((ROOT / "tests" / "policy" / "corpus" / "expected.json").read_text())["source"]
    assert re.fullmatch(r"\d+(\.\d+)+", source["version"]), source["version"]
    assert re.fullmatch(r"[0-9a-f]{64}", source["sha256"]), "the corpus sdist has no sha256"
    populate = (ROOT / "tests" / "policy" / "corpus_templates.py").read_text()
    for flag in ('"--require-hashes"', '"--no-deps"', '"--no-binary", ":all:"'):
        assert flag in populate, f"the corpus download lost {flag}"


#: the integration layer's fixtures that hand out the session's engine (the one CONCERT_ENGINE names)
SESSION_ENGINE_FIXTURES = {
    "engine",
    "deployment",
    "manifest",
    "concert_engine",
    "concert_deployment",
    "concert_target",
}


#: collects the integration layer in a child pytest and prints, per test, its own_engine mark and
#: the fixtures it needs with everything they need in turn (pytest's fixture closure)
_COLLECT = """
import sys, pytest
class Report:
    def pytest_collection_modifyitems(self, items):
        for item in items:
            own = item.get_closest_marker("own_engine") is not None
            print("ITEM", item.nodeid, int(own), ",".join(sorted(item.fixturenames)))
sys.exit(pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "tests/integration"],
                     plugins=[Report()]))
"""


def test_a_test_marked_own_engine_never_asks_for_the_sessions_engine() -> None:
    """`own_engine` tests are deselected where the session's engine is an external endpoint
    (tests/integration/conftest.py): a test so marked that used the session's engine, directly or
    through a fixture that does, would silently lose its run on LocalStack. Each must run an engine
    of its own; each that uses the session's engine must not carry the mark."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "CONCERT_ENGINE"}  # collect all of them
    found = subprocess.run(
        [sys.executable, "-c", _COLLECT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert found.returncode == 0, found.stdout[-2000:] + found.stderr[-2000:]
    marked, unmarked, items = [], [], 0
    for line in found.stdout.splitlines():
        if not line.startswith("ITEM "):
            continue
        _, nodeid, own, fixtures = line.split(" ", 3)
        items += 1
        asked = set(fixtures.split(",")) & SESSION_ENGINE_FIXTURES
        if asked:
            (marked if own == "1" else unmarked).append(f"{nodeid} needs {sorted(asked)}")
    assert items, "no integration test was collected"
    assert not marked, "marked own_engine but uses the session's engine: " + "; ".join(marked)
    assert unmarked, "no integration test uses the session's engine: the fixture names above are stale"
