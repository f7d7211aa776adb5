"""Run unchanged MXNet code: register paramlab under the module name ``mxnet``.

Opt-in, because it changes what ``import mxnet`` means in this process::

    import paramlab.compat
    paramlab.compat.install()
    from mxnet import nd, autograd, gluon   # paramlab's modules

:func:`uninstall` removes the aliases again.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

__all__ = ["install", "uninstall", "installed"]

_ALIAS = "mxnet"
_added: list[str] = []


def _public_modules():
    import paramlab

    yield "paramlab", paramlab
    for info in pkgutil.walk_packages(paramlab.__path__, "paramlab."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts[1:]) or parts[1] in ("widgets", "cli"):
            continue
        try:
            yield info.name, importlib.import_module(info.name)
        except ImportError:  # an optional layer whose extra is not installed
            continue


def install() -> None:
    """Make ``import mxnet`` (and ``mxnet.gluon.nn`` etc.) load paramlab.

    Raises RuntimeError if a different ``mxnet`` module is already imported.
    """
    existing = sys.modules.get(_ALIAS)
    import paramlab

    if existing is not None and existing is not paramlab:
        raise RuntimeError(
            "compat.install: a real 'mxnet' module is already imported in this process; "
            "install paramlab's alias before anything imports mxnet"
        )
    for name, module in _public_modules():
        alias = _ALIAS + name[len("paramlab") :]
        if sys.modules.get(alias) is None:
            sys.modules[alias] = module
            _added.append(alias)


def uninstall() -> None:
    """Remove the aliases that :func:`install` added."""
    while _added:
        sys.modules.pop(_added.pop(), None)


def installed() -> bool:
    """Whether ``mxnet`` currently names paramlab."""
    import paramlab

    return sys.modules.get(_ALIAS) is paramlab
