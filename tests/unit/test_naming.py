"""Environment slugs, regions, and every generated name within AWS limits."""

from __future__ import annotations

import pytest

from concert_platform.errors import UsageError
from concert_platform.manifest import load_manifest
from concert_platform.naming import (
    MAX_ENVIRONMENT_LENGTH,
    check_generated_names,
    generated_names,
    validate_environment,
    validate_region,
)

LONGEST = "p" + "r" * (MAX_ENVIRONMENT_LENGTH - 2) + "1"


@pytest.mark.parametrize("slug", ["development", "staging", "production", "pr-1234", "ab", LONGEST])
def test_valid_slugs(slug: str) -> None:
    assert validate_environment(slug) == slug


@pytest.mark.parametrize(
    "slug", ["", "a", "PR-1", "pr_1", "pr--1", "-pr", "pr-", "1pr", LONGEST + "x", "pr.1"]
)
def test_invalid_slugs_say_what_is_allowed(slug: str) -> None:
    with pytest.raises(UsageError, match="lowercase letters"):
        validate_environment(slug)


def test_unknown_region_is_rejected_with_suggestions() -> None:
    assert validate_region("eu-west-1") == "eu-west-1"
    with pytest.raises(UsageError, match=r"unknown region 'eu-west-9'.*eu-west-1"):
        validate_region("eu-west-9")


def test_every_generated_name_fits_for_the_longest_slug() -> None:
    manifest = load_manifest()
    names = list(generated_names(manifest, LONGEST))
    if not names:
        pytest.fail("no generated names found: are the templates present?")
    assert check_generated_names(manifest, LONGEST) == []
    kinds = {n.resource_type for n in names}
    assert "AWS::S3::Bucket" in kinds and "AWS::Lambda::Function" in kinds
