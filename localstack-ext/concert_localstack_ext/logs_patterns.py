"""Log filter patterns evaluated: community LocalStack matches every event with every pattern.

LocalStack 4.13.1's `localstack.services.logs.provider.get_pattern_matcher` answers
`lambda _pattern, _event: True` ("Can be patched by plugins to return a more sophisticated pattern
matcher"): subscription filters deliver every line, metric filters count every line, and
FilterLogEvents returns everything, whatever the pattern. So on plain LocalStack the smoke run's
error pipeline could not catch a subscription filter whose pattern matches no error line.

This `on_infra_start` hook puts the project's own filter-pattern evaluator
(`concert_platform.filter_pattern`, the one the embedded engine uses) in its place. A pattern it
cannot parse keeps LocalStack's behaviour (every event matches) and is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from localstack.runtime import hooks

LOG = logging.getLogger(__name__)


def _message(event: Any) -> str:
    if isinstance(event, dict):
        return str(event.get("message", ""))
    return str(getattr(event, "message", ""))


def pattern_matcher(pattern: str) -> Callable[[str, Any], bool]:
    from concert_platform.filter_pattern import compile_pattern

    try:
        predicate = compile_pattern(pattern or "")
    except Exception:
        LOG.warning("concert: cannot evaluate the log filter pattern %r; every event matches", pattern)
        return lambda _pattern, _event: True
    return lambda _pattern, event: bool(predicate(_message(event)))


def patch_pattern_matcher() -> None:
    from localstack.services.logs import provider

    provider.get_pattern_matcher = pattern_matcher


@hooks.on_infra_start()
def concert_log_filter_patterns() -> None:
    patch_pattern_matcher()
