"""The region when none is given, for every entry point and engine (the package re-exports it)."""

from __future__ import annotations

import os

FALLBACK_REGION = "us-east-1"


def default_region() -> str:
    """The region when none is given: AWS_REGION, then AWS_DEFAULT_REGION (as the SDKs read them),
    then us-east-1."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or FALLBACK_REGION
