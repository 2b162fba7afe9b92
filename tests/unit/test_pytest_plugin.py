"""The `pytest11` plugin: a platform team's own tests ask for a deployed platform by fixture."""

from __future__ import annotations

import pytest

# Each run in a child process: an embedded engine started inside this process would share its moto
# backends with whatever ran before it here (seen: "AccountSpecificBackend has no attribute urls").
pytest_plugins = ["pytester"]


def test_the_plugin_is_registered_with_its_options(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["*--concert-engine*", "*--concert-environment*", "*--concert-keep*"])


def test_keep_is_refused_for_the_embedded_engine_in_one_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_uses_the_platform(concert_deployment):\n    pass\n")
    result = pytester.runpytest_subprocess(
        "--concert-engine", "embedded", "--concert-keep", "-p", "no:cacheprovider"
    )
    result.stdout.fnmatch_lines(["*--concert-keep: the embedded engine ends with the test session*"])
    assert result.ret != 0


def test_a_bad_environment_slug_is_refused_before_anything_is_deployed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_uses_the_platform(concert_deployment):\n    pass\n")
    result = pytester.runpytest_subprocess("--concert-environment", "Not_A_Slug", "-p", "no:cacheprovider")
    assert result.ret != 0
    assert "Not_A_Slug" in result.stdout.str()


def test_a_base_git_does_not_know_is_refused_before_anything_is_deployed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_uses_the_platform(concert_deployment):\n    pass\n")
    result = pytester.runpytest_subprocess("--concert-base", "no-such-branch-xyz", "-p", "no:cacheprovider")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*--base no-such-branch-xyz: no such commit*"])
