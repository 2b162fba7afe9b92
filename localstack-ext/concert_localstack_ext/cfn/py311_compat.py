"""LocalStack 4.13.1 under Python 3.11: the two places it breaks, and bounded fixes.

LocalStack 4.13.1 declares ``Requires-Python >=3.10`` but uses two newer behaviours. Both were
measured on this project's LocalStack environment (Python 3.11.7):

1. **KMS** (needs 3.12): ``KmsKey.generate_key_material_id`` calls
   ``uuid.uuid5(internal_key_id, key_material)`` with ``bytes``; Python accepts a bytes name only
   from 3.12. On 3.11 every ``kms.CreateKey`` fails with ``TypeError: encoding without a string
   argument`` -- with or without a key policy, so the shipped AWS::KMS::Key provider is not at
   fault (replacing it would not help; see docs/localstack.md for how LocalStack picks among
   duplicate provider plugins). Fix: LocalStack's KMS models module gets a ``uuid`` whose
   ``uuid5`` also takes bytes, computed exactly as 3.12 does.
2. **Packages** (needs 3.13): ``localstack/packages/api.py`` evaluates ``threading.Lock | None``
   in a signature; ``Lock`` is a function before 3.13, so importing ``localstack.packages``
   raises ``TypeError: unsupported operand type(s) for |``. Everything that installs a helper
   (Lambda's Docker executor, Kinesis, DynamoDB, ...) fails with that message. Fix: that one
   module is compiled with postponed evaluation of annotations (PEP 563), which is what its
   annotations need; its code is unchanged.

Both run from an ``on_infra_start`` hook (entry point in pyproject.toml), only on interpreters
that need them; on 3.13 the hook does nothing. Running LocalStack on Python 3.13 makes both
unnecessary.
"""

from __future__ import annotations
import __future__

import hashlib
import importlib.util
import logging
import sys
import types
import uuid
from pathlib import Path

from localstack.runtime import hooks

LOG = logging.getLogger(__name__)

PACKAGES_API = "localstack.packages.api"


def uuid5(namespace: uuid.UUID, name: str | bytes) -> uuid.UUID:
    """``uuid.uuid5`` as Python 3.12 defines it (a bytes name is used as is)."""
    data = name.encode("utf-8") if isinstance(name, str) else bytes(name)
    digest = hashlib.sha1(namespace.bytes + data, usedforsecurity=False).digest()
    return uuid.UUID(bytes=digest[:16], version=5)


def patch_kms_uuid5(version: tuple[int, int] = sys.version_info[:2]) -> bool:
    """Give LocalStack's KMS models a bytes-accepting uuid5; answers whether it is in place."""
    if version >= (3, 12):
        return False
    from localstack.services.kms import models

    if getattr(models.uuid, "uuid5", None) is uuid5:
        return True
    shim = types.ModuleType("uuid", "uuid with Python 3.12's uuid5 (bytes names)")
    shim.__dict__.update({k: v for k, v in vars(uuid).items() if not k.startswith("__")})
    shim.uuid5 = uuid5  # type: ignore[attr-defined]
    models.uuid = shim  # type: ignore[assignment]
    LOG.info("concert-localstack-ext: KMS key material ids use Python 3.12's uuid5")
    return True


def load_packages_api_with_postponed_annotations(
    version: tuple[int, int] = sys.version_info[:2],
) -> bool:
    """Import ``localstack.packages.api`` with PEP 563 annotations; answers whether it did."""
    if version >= (3, 13) or PACKAGES_API in sys.modules:
        return False
    root = importlib.util.find_spec("localstack")
    if root is None or not root.submodule_search_locations:
        return False
    path = Path(next(iter(root.submodule_search_locations))) / "packages" / "api.py"
    source = path.read_text(encoding="utf-8")
    code = compile(source, str(path), "exec", flags=__future__.annotations.compiler_flag, dont_inherit=True)
    spec = importlib.util.spec_from_file_location(PACKAGES_API, path)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGES_API] = module
    try:
        exec(code, module.__dict__)  # noqa: S102 - LocalStack's own module, compiled from its file
    except BaseException:
        del sys.modules[PACKAGES_API]
        raise
    import localstack.packages as packages  # its __init__ now finds .api in sys.modules

    packages.api = module  # type: ignore[attr-defined]
    LOG.info("concert-localstack-ext: localstack.packages.api loaded with postponed annotations")
    return True


@hooks.on_infra_start(priority=100)
def concert_py311_compat() -> None:
    patch_kms_uuid5()
    load_packages_api_with_postponed_annotations()
