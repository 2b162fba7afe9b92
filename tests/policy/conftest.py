from __future__ import annotations

from pathlib import Path

import pytest

from concert_platform.policy.runner import PolicyReport, run_policy

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def clean_report() -> PolicyReport:
    """The full policy layer (cfn-lint, checkov, our checks) over our templates, run once."""
    return run_policy(ROOT / "templates")
