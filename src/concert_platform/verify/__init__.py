"""Resource verification, and each resource type's whole life: every resource the six templates
declare, asked back from its service.

A stack that reaches CREATE_COMPLETE on an emulator may have created nothing. For each declared
resource (whose Condition holds) the resource's own service API is asked for it, and every
declared property is compared by content through its type's table (one module per service,
like the engine's extensions in `concert_platform.engines.moto_ext`). A resource is verified
only when every declared property was compared and matched, or is not comparable for a stated
reason; a type with no table, or that the engine cannot show, is reported with the reason.

Each service module also holds what teardown needs of its types, side by side with their tables:
`PROBES` (does this resource still exist?), `REMOVERS` (delete it directly), `NAMES` (what the
leftover scan lists), `NO_REMOVER` (a type removed with its parent, and why) and
`RETAINED_BY_DESIGN` (a type a stack deletion leaves on AWS too). The modules are discovered, as
`policy/checks` discovers its checks: adding a service is adding a file.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from concert_platform.verify._base import TABLES, Field, Outcome, Resource, Table, VerifyContext, check
from concert_platform.verify._lifecycle import Namer, Probe, Remover


def service_modules() -> list[ModuleType]:
    """Every service module of this package (importing one registers its tables)."""
    return [
        importlib.import_module(f"{__name__}.{module.name}")
        for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name)
        if not module.name.startswith("_")
    ]


def merged(attribute: str, modules: list[ModuleType] | None = None) -> dict[str, object]:
    """One dict of what every service module holds under `attribute`; a type in two is an error."""
    found: dict[str, object] = {}
    for module in service_modules() if modules is None else modules:
        for key, value in getattr(module, attribute, {}).items():
            if key in found:
                raise RuntimeError(f"{key} has {attribute} in two service modules ({module.__name__})")
            found[key] = value
    return found


PROBES: dict[str, Probe] = merged("PROBES")  # type: ignore[assignment]
REMOVERS: dict[str, Remover] = merged("REMOVERS")  # type: ignore[assignment]
NO_REMOVER: dict[str, str] = merged("NO_REMOVER")  # type: ignore[assignment]
RETAINED_BY_DESIGN: dict[str, str] = merged("RETAINED_BY_DESIGN")  # type: ignore[assignment]
NAMES: tuple[tuple[str, Namer], ...] = tuple(
    entry for module in service_modules() for entry in getattr(module, "NAMES", ())
)

from concert_platform.verify._run import (  # noqa: E402 - after the service modules registered their tables
    StackState,
    check_cross_stack,
    describe_resource,
    output_problem,
    verify_environment,
    verify_resource,
)

__all__ = [
    "NAMES",
    "NO_REMOVER",
    "PROBES",
    "REMOVERS",
    "RETAINED_BY_DESIGN",
    "TABLES",
    "Field",
    "Outcome",
    "Resource",
    "StackState",
    "Table",
    "VerifyContext",
    "check",
    "check_cross_stack",
    "describe_resource",
    "output_problem",
    "verify_environment",
    "verify_resource",
]
