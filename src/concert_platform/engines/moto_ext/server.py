"""moto's HTTP server, made to find a request's backend once per host.

moto's `DomainDispatcherApplication.get_backend_for_host` lists moto's package directory (an
`os.listdir` and an `isdir` per service, about 150) and then tries every service's URL pattern,
on every request, under the dispatcher's one lock. Every AWS call a function's worker process
makes goes through it: measured with py-spy over the hostile and failure flows, about a seventh of
the engine process's samples were that lookup. Its answer for a host cannot change while the
process runs (the directory and the patterns are fixed once `register()` has added Redshift
Serverless's), so each instance remembers it per host. A host no backend serves is not
remembered: moto looks again (and prints its hint) as before.
"""

from __future__ import annotations

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
