"""The static alarm contract over the real templates, and each way to break it planted in a copy."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from concert_platform.alarm_contract import handler_metrics, unemitted_alarm_metrics, watched_custom_metrics
from concert_platform.manifest import _load, load_manifest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str, str, str], None]]:
    shutil.copy(ROOT / "stacks.yaml", tmp_path / "stacks.yaml")
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    shutil.copytree(ROOT / "handlers", tmp_path / "handlers", ignore=shutil.ignore_patterns("__pycache__"))

    def edit(relative: str, old: str, new: str) -> None:
        path = tmp_path / relative
        text = path.read_text()
        assert old in text, f"{relative} no longer contains {old!r}; update this test"
        path.write_text(text.replace(old, new))

    monkeypatch.setenv("CONCERT_PLATFORM_HOME", str(tmp_path))
    _load.cache_clear()
    yield edit
    _load.cache_clear()


def test_every_custom_metric_alarm_of_the_platform_watches_an_emitted_metric() -> None:
    manifest = load_manifest()
    watched = watched_custom_metrics(manifest, "e2e")
    assert [(w.alarm, w.namespace, w.metric) for w in watched] == [
        ("concert-data-quality-issues-e2e", "ConcertPlatform/e2e", "DataQualityIssues")
    ]
    assert unemitted_alarm_metrics(manifest, "e2e") == []


def test_handler_metrics_are_read_from_the_powertools_calls() -> None:
    names, namespaces = handler_metrics(ROOT / "handlers")
    assert {"ApiLatency", "ApiRequests", "ApiServerErrors", "Sessions", "Turns"} <= names
    assert namespaces == {"ConcertPlatform"}


def test_an_alarm_on_a_metric_nothing_emits_is_named(project_copy: Callable[[str, str, str], None]) -> None:
    project_copy(
        "templates/06-tracing-logging.yaml",
        "      Namespace: !Sub 'ConcertPlatform/${Environment}'\n      MetricName: DataQualityIssues\n",
        "      Namespace: !Sub 'ConcertPlatform/${Environment}'\n      MetricName: DataQualityIssue\n",
    )
    [problem] = unemitted_alarm_metrics(load_manifest(), "e2e")
    assert problem == (
        "alarm concert-data-quality-issues-e2e (DataQualityAlarm in 06-tracing-logging.yaml) watches "
        "ConcertPlatform/e2e DataQualityIssue, which no metric filter or handler emits"
    )


def test_removing_the_only_emitters_breaks_the_contract(
    project_copy: Callable[[str, str, str], None],
) -> None:
    project_copy(
        "templates/06-tracing-logging.yaml",
        "          MetricName: DataQualityIssues\n          MetricValue: '1'",
        "          MetricName: DataQualityRows\n          MetricValue: '1'",
    )
    assert [p.split(" (")[0] for p in unemitted_alarm_metrics(load_manifest(), "e2e")] == [
        "alarm concert-data-quality-issues-e2e"
    ]


def test_a_handler_metric_satisfies_an_alarm(project_copy: Callable[[str, str, str], None]) -> None:
    project_copy(
        "templates/06-tracing-logging.yaml",
        "      Namespace: !Sub 'ConcertPlatform/${Environment}'\n      MetricName: DataQualityIssues",
        "      Namespace: ConcertPlatform\n      MetricName: ApiServerErrors",
    )
    assert unemitted_alarm_metrics(load_manifest(), "e2e") == []
    project_copy("handlers/shared/concert_shared/api.py", '"ApiServerErrors"', '"ApiFaults"')
    assert len(unemitted_alarm_metrics(load_manifest(), "e2e")) == 1
