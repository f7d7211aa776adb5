"""Shared plumbing for workload bodies.

A *body* is one implementation of one benchmark case (for example the NumPy
floor of ``W4``).  Every body module keeps a :class:`Registry` that maps case
ids to setup functions.  A setup function receives the module-specific
environment (``mx``, ``xp`` or a torch environment) and the size parameters,
allocates everything the case needs, and returns a :class:`Prepared` whose
``run`` callable is the part that gets timed.

This module depends on the standard library only, so it can be imported by
every interpreter the harness drives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Prepared:
    """A case that has been set up and is ready to be timed.

    Parameters
    ----------
    run : callable
        Zero-argument callable performing exactly the timed work, including
        any synchronisation needed for the work to be complete on return.
    close : callable, optional
        Zero-argument callable releasing resources (temporary files, views).
    """

    def __init__(self, run: Callable[[], Any], close: Callable[[], Any] | None = None):
        self.run = run
        self._close = close

    def close(self) -> None:
        """Release the resources held by the case (idempotent)."""
        if self._close is not None:
            closer, self._close = self._close, None
            closer()


SetupFn = Callable[[Any, dict], Prepared]


class Registry:
    """Map of case id to setup function for one body module.

    Examples
    --------
    >>> reg = Registry("demo")
    >>> @reg.case("W0")
    ... def w0_setup(env, p):
    ...     return Prepared(lambda: None)
    >>> reg.ids()
    ['W0']
    """

    def __init__(self, name: str):
        self.name = name
        self._setups: dict[str, SetupFn] = {}

    def case(self, *case_ids: str) -> Callable[[SetupFn], SetupFn]:
        """Return a decorator registering a setup function under ``case_ids``."""

        def decorate(fn: SetupFn) -> SetupFn:
            for case_id in case_ids:
                if case_id in self._setups:
                    raise ValueError(f"{self.name}: case {case_id!r} registered twice")
                self._setups[case_id] = fn
            return fn

        return decorate

    def ids(self) -> list[str]:
        """Return the registered case ids in registration order."""
        return list(self._setups)

    def has(self, case_id: str) -> bool:
        """Return whether ``case_id`` has a body in this registry."""
        return case_id in self._setups

    def setup(self, case_id: str, env: Any, params: dict) -> Prepared:
        """Set up ``case_id`` with ``env`` and size ``params``.

        Raises
        ------
        KeyError
            If the registry has no body for ``case_id``.
        """
        try:
            fn = self._setups[case_id]
        except KeyError:
            raise KeyError(f"{self.name} has no body for case {case_id!r}") from None
        return fn(env, dict(params, case=case_id))
