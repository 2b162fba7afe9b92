"""moto's HTTP server, made to find a request's backend once per host, and two more lookups moto
repeats on every request, made once.

moto's `DomainDispatcherApplication.get_backend_for_host` lists moto's package directory (an
`os.listdir` and an `isdir` per service, about 150) and then tries every service's URL pattern,
on every request, under the dispatcher's one lock. Every AWS call a function's worker process
makes goes through it: measured with py-spy over the hostile and failure flows, about a seventh of
the engine process's samples were that lookup. Its answer for a host cannot change while the
process runs (the directory and the patterns are fixed once `register()` has added Redshift
Serverless's), so each instance remembers it per host. A host no backend serves is not
remembered: moto looks again (and prints its hint) as before.

The same py-spy measure (holding the GIL, 2026-12-04) found two more, each a few percent:
`BackendDict.__getitem__` takes moto's global backend lock and scans its list of every backend
dict on each access, even for an account it already holds (`patch_backend_dict_access`); and
`BaseResponse.call_action` lists the response class's methods with `inspect.getmembers` on each
request (`patch_method_names`).

And one that is paid once per service rather than per request, but in seconds: moto loads each
service's botocore model (to serialise a response, and an error) through a new botocore `Loader`
every time, and every new loader lists botocore's whole data directory again (about 1,000
`listdir` and 5,000 `stat` calls, 0.1-0.5 s under load). One deploy and one pass of the smoke
run's self-check flows made 18 loaders and 30 such listings, 3.7 s of the engine's time, the
first failure flow paying for the errors of S3, DynamoDB and Kinesis. `patch_model_loading`
gives moto one loader for the process (botocore's loader caches its listings per instance).
"""

from __future__ import annotations

import threading
from typing import Any

_PATCHED = "_concert_backend_per_host"


def patch_backend_lookup() -> None:
    """Idempotent: wrap moto's lookup with a per-instance memo."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = DomainDispatcherApplication.get_backend_for_host
    if getattr(original, _PATCHED, False):
        return

    def get_backend_for_host(self: Any, host: str | None) -> Any:
        if host is None:
            return None
        known: dict[str, Any] = self.__dict__.setdefault(_PATCHED, {})
        backend = known.get(host)
        if backend is None:
            backend = original(self, host)
            if backend is not None:
                known[host] = backend
        return backend

    setattr(get_backend_for_host, _PATCHED, True)
    get_backend_for_host.__wrapped__ = original  # type: ignore[attr-defined]
    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host


def patch_backend_dict_access() -> None:
    """Idempotent: an account a BackendDict already holds is answered without moto's global lock.

    moto creates an account's backends on first access and registers the dict for reset; reset
    clears the dicts and that registry together, under the lock, so an account still present is
    registered. Only a first access (or one after a reset) takes moto's path. What is given up: a
    request in flight while a reset runs no longer waits for it (the engine resets nothing while
    it serves; moto's own tests reset between tests, not during requests)."""
    from moto.core.base_backend import BackendDict

    original = BackendDict.__getitem__
    if getattr(original, _PATCHED, False):
        return

    def getitem(self: Any, account_id: str) -> Any:
        if dict.__contains__(self, account_id):
            return dict.__getitem__(self, account_id)
        return original(self, account_id)

    setattr(getitem, _PATCHED, True)
    getitem.__wrapped__ = original  # type: ignore[attr-defined]
    BackendDict.__getitem__ = getitem


def patch_method_names() -> None:
    """Idempotent: a response class's method names listed once per shape of the class (a method
    added later, as the engine's patches add some, lists them again)."""
    import moto.core.responses as responses

    original = responses.method_names_from_class
    if getattr(original, _PATCHED, False):
        return
    known: dict[tuple[Any, ...], list[str]] = {}

    def method_names_from_class(clazz: Any) -> list[str]:
        shape = (clazz, *(len(vars(c)) for c in clazz.__mro__))
        names = known.get(shape)
        if names is None:
            names = known[shape] = original(clazz)
        return names

    setattr(method_names_from_class, _PATCHED, True)
    method_names_from_class.__wrapped__ = original  # type: ignore[attr-defined]
    responses.method_names_from_class = method_names_from_class


_LOADER_LOCK = threading.Lock()


def patch_model_loading() -> None:
    """Idempotent: moto's service models come from one botocore Loader per process (moto's own
    `create_loader`, made once), and the service names for its error models from that loader too
    instead of a new botocore Session."""
    import moto.core.utils as utils

    original = utils.create_loader
    if getattr(original, _PATCHED, False):
        return
    shared: list[Any] = []

    def create_loader() -> Any:
        if not shared:
            with _LOADER_LOCK:
                if not shared:
                    shared.append(original())
        return shared[0]

    known: dict[str, str] = {}

    def service_name_from_moto_package_name(moto_package_name: str) -> str:
        # moto drops the hyphens of service names for its package names: the same lookup table
        # as moto's, from the shared loader's listing
        if not known:
            names = create_loader().list_available_services("service-2")
            known.update({name.replace("-", ""): name for name in names})
        return known.get(moto_package_name, moto_package_name)

    setattr(create_loader, _PATCHED, True)
    create_loader.__wrapped__ = original  # type: ignore[attr-defined]
    utils.create_loader = create_loader
    utils.service_name_from_moto_package_name = service_name_from_moto_package_name  # type: ignore[assignment]
